//! A CSV file read as a table of named columns, whatever its encoding and separator.

use crate::ingest::InputFailure;
use crate::ingest::progress::Counters;
use crate::ingest::textio::{Counting, Encoding, decode, head, sniff_encoding, sniff_separator};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An open CSV file with its header.
pub struct Table {
    path: PathBuf,
    reader: csv::Reader<Counting<std::io::BufReader<std::fs::File>>>,
    columns: HashMap<String, usize>,
    header: Vec<String>,
    encoding: Encoding,
}

/// One row: its line and cells.
pub struct Row<'a> {
    /// Line in the file (the header is line 1).
    pub line: u64,
    record: &'a csv::ByteRecord,
    table: &'a Table,
}

impl Row<'_> {
    /// The cell of a column, decoded; `None` when the column does not exist.
    #[must_use]
    pub fn get(&self, column: &str) -> Option<String> {
        let i = *self.table.columns.get(column)?;
        self.record.get(i).map(|b| decode(b, self.table.encoding))
    }

    /// The raw bytes of a cell (fast path for ASCII columns of big files).
    #[must_use]
    pub fn bytes(&self, column: usize) -> &[u8] {
        self.record.get(column).unwrap_or_default()
    }
}

impl Table {
    /// Opens a CSV file; `separator` `None` sniffs it from the header. Bytes read are added
    /// to `counters.bytes` when given.
    ///
    /// # Errors
    /// When the file cannot be read or has no header.
    pub fn open(
        path: &Path,
        separator: Option<u8>,
        counters: Option<&Arc<Counters>>,
    ) -> Result<Self, InputFailure> {
        let sample = head(path, 64 * 1024).map_err(|e| InputFailure::file(path, e))?;
        let encoding = sniff_encoding(&sample);
        let separator = separator.unwrap_or_else(|| {
            sniff_separator(sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&sample))
        });
        let file = std::fs::File::open(path).map_err(|e| InputFailure::file(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(separator)
            .flexible(true)
            // Rows end at `\n`; a `\r` before it is trimmed with the cell. (With CRLF as the
            // terminator, the reader reports each row one line too early.)
            .terminator(csv::Terminator::Any(b'\n'))
            .has_headers(true)
            .from_reader(Counting::new(
                std::io::BufReader::with_capacity(1 << 20, file),
                counters.cloned(),
            ));
        let header: Vec<String> = reader
            .byte_headers()
            .map_err(|e| InputFailure::file(path, format!("cannot read the header: {e}")))?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(h)
                } else {
                    h
                };
                decode(h, encoding).trim().trim_matches('"').to_owned()
            })
            .collect();
        if header.iter().all(String::is_empty) {
            return Err(InputFailure::file(
                path,
                "the file is empty or has no header",
            ));
        }
        let columns = header
            .iter()
            .enumerate()
            .map(|(i, h)| (h.clone(), i))
            .collect();
        Ok(Self {
            path: path.to_owned(),
            reader,
            columns,
            header,
            encoding,
        })
    }

    /// Index of a column.
    #[must_use]
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.get(name).copied()
    }

    /// Fails unless every named column exists, listing those that do.
    ///
    /// # Errors
    /// Names the missing columns.
    pub fn require(&self, names: &[&str]) -> Result<(), InputFailure> {
        let missing: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| !self.columns.contains_key(*n))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(InputFailure::file(
                &self.path,
                format!(
                    "missing column(s) {}; the header has: {}",
                    missing.join(", "),
                    self.header.join(", ")
                ),
            ))
        }
    }

    /// Calls `f` on every row, or on the line and reason of a row the CSV reader cannot split.
    ///
    /// # Errors
    /// When reading fails (I/O) or the callback says to stop.
    pub fn for_each(
        &mut self,
        mut f: impl FnMut(Result<Row<'_>, (u64, String)>) -> Result<(), InputFailure>,
    ) -> Result<(), InputFailure> {
        let mut record = csv::ByteRecord::new();
        loop {
            match self.reader.read_byte_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let line = record.position().map_or(0, csv::Position::line);
                    let taken = std::mem::take(&mut record);
                    let row = Row {
                        line,
                        record: &taken,
                        table: self,
                    };
                    f(Ok(row))?;
                    record = taken;
                }
                Err(e) => {
                    if e.is_io_error() {
                        return Err(InputFailure::file(&self.path, e));
                    }
                    let line = e.position().map_or(0, csv::Position::line);
                    f(Err((line, format!("malformed CSV row: {e}"))))?;
                }
            }
        }
    }
}
