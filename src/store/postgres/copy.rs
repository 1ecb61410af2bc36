//! Rows for `COPY … FROM STDIN` in PostgreSQL's text format: the fastest way to load many rows
//! (36 000 territories of GeoJSON, thousands of demonstration actors, an import's records) in
//! one statement, with no parameter limit and no per-row round trip.
//!
//! The text format separates columns with a tab and rows with a newline, writes `NULL` as
//! `\N`, and needs a backslash before a backslash, a tab, a newline or a carriage return inside
//! a value (<https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2>); escaping
//! every backslash also keeps a value from ever reading as the end-of-data marker `\.`.

use crate::store::Result;
use sqlx::PgConnection;
use sqlx::postgres::PgCopyIn;
use std::io::Write as _;

/// Bytes buffered before [`CopyWriter`] sends them to the server.
const FLUSH_AT: usize = 1 << 20;

/// Rows in the text format, accumulated in memory.
#[derive(Default)]
pub(super) struct CopyBuffer {
    buf: Vec<u8>,
    /// A value was written in the current row (a tab goes before the next one).
    in_row: bool,
}

impl CopyBuffer {
    /// An empty buffer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
            in_row: false,
        }
    }

    fn separate(&mut self) {
        if self.in_row {
            self.buf.push(b'\t');
        }
        self.in_row = true;
    }

    /// A text value (`None`: NULL).
    pub fn text(&mut self, value: Option<&str>) {
        match value {
            Some(s) => self.bytes(s.as_bytes()),
            None => self.null(),
        }
    }

    /// A text value given as UTF-8 bytes (GeoJSON written into a buffer).
    pub fn bytes(&mut self, value: &[u8]) {
        self.separate();
        escape_into(&mut self.buf, value);
    }

    /// NULL.
    pub fn null(&mut self) {
        self.separate();
        self.buf.extend_from_slice(b"\\N");
    }

    /// An integer.
    pub fn int(&mut self, value: i64) {
        self.separate();
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    /// A float (`None`: NULL). Rust prints the shortest text that reads back as the same
    /// `f64`, and PostgreSQL reads it back exactly.
    pub fn float(&mut self, value: Option<f64>) {
        let Some(v) = value else {
            self.null();
            return;
        };
        self.separate();
        // Writing to a Vec cannot fail.
        let _ = write!(self.buf, "{v}");
    }

    /// A boolean.
    pub fn bool(&mut self, value: bool) {
        self.separate();
        self.buf.push(if value { b't' } else { b'f' });
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.in_row = false;
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether no row is held.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The rows held, leaving an empty buffer of `capacity` bytes in their place.
    pub fn take(&mut self, capacity: usize) -> Vec<u8> {
        std::mem::replace(&mut self.buf, Vec::with_capacity(capacity))
    }
}

/// A `COPY … FROM STDIN` in progress: rows are written to a [`CopyBuffer`] (through
/// `Deref`), sent in chunks of about a mebibyte by [`CopyWriter::end_row`].
pub(super) struct CopyWriter<'c> {
    copy: PgCopyIn<&'c mut PgConnection>,
    rows: CopyBuffer,
}

impl<'c> CopyWriter<'c> {
    /// Starts `statement` (a constant `COPY table (columns) FROM STDIN`) on `conn`.
    pub async fn begin(conn: &'c mut PgConnection, statement: &'static str) -> Result<Self> {
        Ok(Self {
            copy: conn.copy_in_raw(statement).await?,
            rows: CopyBuffer::with_capacity(FLUSH_AT + (FLUSH_AT >> 2)),
        })
    }

    /// Ends the current row, and sends the buffer when it is full.
    pub async fn end_row(&mut self) -> Result<()> {
        self.rows.end_row();
        if self.rows.len() >= FLUSH_AT {
            self.copy.send(self.rows.buf.as_slice()).await?;
            self.rows.buf.clear();
        }
        Ok(())
    }

    /// Sends what is left and ends the copy; returns the number of rows stored. Dropped
    /// without this (an error), the copy is cancelled and the statement fails.
    pub async fn finish(mut self) -> Result<u64> {
        if !self.rows.is_empty() {
            self.copy.send(self.rows.buf.as_slice()).await?;
        }
        Ok(self.copy.finish().await?)
    }
}

impl std::ops::Deref for CopyWriter<'_> {
    type Target = CopyBuffer;

    fn deref(&self) -> &CopyBuffer {
        &self.rows
    }
}

impl std::ops::DerefMut for CopyWriter<'_> {
    fn deref_mut(&mut self) -> &mut CopyBuffer {
        &mut self.rows
    }
}

/// Appends `value` to `out`, escaped for the text format.
fn escape_into(out: &mut Vec<u8>, value: &[u8]) {
    let mut rest = value;
    while let Some(at) = rest
        .iter()
        .position(|b| matches!(b, b'\\' | b'\t' | b'\n' | b'\r'))
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(match rest[at] {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            _ => b"\\r",
        });
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    #[test]
    fn special_characters_are_escaped() {
        let mut out = Vec::new();
        escape_into(&mut out, "a\tb\nc\rd\\e\\.f – é".as_bytes());
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "a\\tb\\nc\\rd\\\\e\\\\.f – é"
        );
        let mut plain = Vec::new();
        escape_into(&mut plain, br#"{"type":"Polygon"}"#);
        assert_eq!(plain, br#"{"type":"Polygon"}"#);
    }
}
