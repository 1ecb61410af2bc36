//! CSV with a column-mapping file: `;` or `,` (sniffed), UTF-8 with or without BOM or
//! Windows-1252, French decimal commas in coordinates.

use super::table::Table;
use crate::ingest::mapping::Prepared;
use crate::ingest::progress::Counters;
use crate::ingest::{InputFailure, Item, Sink};
use std::path::Path;
use std::sync::Arc;

/// Reads a CSV file through a mapping.
///
/// # Errors
/// When the file cannot be read or lacks a mapped column.
pub fn read(
    path: &Path,
    mapping: &Prepared,
    counters: Option<&Arc<Counters>>,
    sink: Sink<'_>,
) -> Result<(), InputFailure> {
    let mut table = Table::open(path, None, counters)?;
    // The name column is needed by every record; mapped columns must exist (a typo in the
    // mapping file would otherwise silently empty a field).
    let mut required = vec![mapping.column("name")];
    required.extend(mapping.mapping.fields.values().map(String::as_str));
    table.require(&required)?;
    table.for_each(|row| match row {
        Ok(row) => {
            let get = |column: &str| row.get(column);
            let (draft, notes) = mapping.draft(&get);
            sink(Item::Record {
                line: row.line,
                draft: Box::new(draft),
                notes,
            })
        }
        Err((line, reason)) => sink(Item::Reject {
            line,
            source_ref: None,
            reason,
        }),
    })
}
