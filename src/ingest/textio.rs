//! Reading real-world text files: UTF-8 with or without BOM or Windows-1252, `;` or `,`
//! separated, French decimal commas, byte counting for progress.

use super::progress::Counters;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// Character encoding of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a BOM, when present, is skipped).
    Utf8,
    /// Windows-1252, what French spreadsheet software writes as "CSV".
    Windows1252,
}

/// Guesses the encoding from the first bytes: a UTF-8 BOM or valid UTF-8 means UTF-8,
/// anything else Windows-1252. A sample cut in the middle of a character is still UTF-8.
#[must_use]
pub fn sniff_encoding(sample: &[u8]) -> Encoding {
    if sample.starts_with(b"\xEF\xBB\xBF") {
        return Encoding::Utf8;
    }
    match std::str::from_utf8(sample) {
        Ok(_) => Encoding::Utf8,
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    }
}

/// Characters 0x80–0x9F of Windows-1252 (the rest is Latin-1); `\u{FFFD}` for the five holes.
const CP1252_HIGH: [char; 32] = [
    '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
    '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{FFFD}',
    'ž', 'Ÿ',
];

/// Decodes one field.
#[must_use]
pub fn decode(bytes: &[u8], encoding: Encoding) -> String {
    match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
        Encoding::Windows1252 => bytes
            .iter()
            .map(|&b| match b {
                0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
                _ => char::from(b),
            })
            .collect(),
    }
}

/// Picks the separator of a CSV header line: the most frequent of `;`, `,` and tab outside
/// quotes (ties go to `;`, the French default).
#[must_use]
pub fn sniff_separator(sample: &[u8]) -> u8 {
    let line_end = sample
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(sample.len());
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in &sample[..line_end] {
        match b {
            b'"' => quoted = !quoted,
            b';' if !quoted => counts[0] += 1,
            b',' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    [b';', b',', b'\t'][best]
}

/// Parses a coordinate written with a decimal point or a French decimal comma.
///
/// # Errors
/// When it is not a number.
pub fn parse_decimal(field: &str, text: &str) -> Result<Option<f64>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let normalised = t.replace(',', ".").replace([' ', '\u{a0}'], "");
    normalised
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(Some)
        .ok_or_else(|| format!("{field}: '{t}' is not a number"))
}

/// A reader that counts the bytes read through it (for progress).
pub struct Counting<R> {
    inner: R,
    counters: Option<Arc<Counters>>,
}

impl<R> Counting<R> {
    /// Wraps a reader, adding to `counters.bytes` when given.
    pub fn new(inner: R, counters: Option<Arc<Counters>>) -> Self {
        Self { inner, counters }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(c) = &self.counters {
            c.bytes.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// Reads up to `n` bytes from the start of a file.
///
/// # Errors
/// When the file cannot be read.
pub fn head(path: &std::path::Path, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    std::fs::File::open(path)?
        .take(n as u64)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_separators_and_decimal_commas() {
        assert_eq!(sniff_encoding(b"\xEF\xBB\xBFnom;ville"), Encoding::Utf8);
        assert_eq!(sniff_encoding("Épicerie".as_bytes()), Encoding::Utf8);
        assert_eq!(sniff_encoding(b"\xC9picerie"), Encoding::Windows1252);
        // A sample ending inside a two-byte character is still UTF-8.
        assert_eq!(sniff_encoding(&"é".as_bytes()[..1]), Encoding::Utf8);
        assert_eq!(
            decode(b"\xC9picerie \x80 \x9C", Encoding::Windows1252),
            "Épicerie € œ"
        );
        assert_eq!(sniff_separator(b"nom;\"a,b\";lat\n1,2"), b';');
        assert_eq!(sniff_separator(b"nom,ville,lat\n"), b',');
        assert_eq!(sniff_separator(b"nom\tville\n"), b'\t');
        assert_eq!(parse_decimal("lat", "47,2184"), Ok(Some(47.2184)));
        assert_eq!(parse_decimal("lat", " -1.55 "), Ok(Some(-1.55)));
        assert_eq!(parse_decimal("lat", ""), Ok(None));
        assert!(parse_decimal("lat", "47°12'").is_err());
    }
}
