//! The reference territories shipped in `seed/data/` (built by `seed/build/build.sh`).

use crate::domain::TerritoryKind;
use crate::domain::territory::TerritoryRecord;
use anyhow::Context;
use flate2::read::GzDecoder;
use std::io::{BufRead, BufReader};

const FILES: [(TerritoryKind, &str, &[u8]); 4] = [
    (
        TerritoryKind::Region,
        "regions",
        include_bytes!("../../seed/data/regions.ndjson.gz"),
    ),
    (
        TerritoryKind::Departement,
        "departements",
        include_bytes!("../../seed/data/departements.ndjson.gz"),
    ),
    (
        TerritoryKind::Epci,
        "epci",
        include_bytes!("../../seed/data/epci.ndjson.gz"),
    ),
    (
        TerritoryKind::Commune,
        "communes",
        include_bytes!("../../seed/data/communes.ndjson.gz"),
    ),
];

/// Reads the embedded territories of every level.
///
/// # Errors
/// Names the file and line of a malformed record.
pub fn embedded() -> anyhow::Result<Vec<TerritoryRecord>> {
    let mut out = Vec::new();
    for (kind, name, bytes) in FILES {
        out.extend(
            read_ndjson_gz(kind, bytes).with_context(|| format!("seed/data/{name}.ndjson.gz"))?,
        );
    }
    Ok(out)
}

/// Reads one gzip-compressed NDJSON file of territories of one kind.
///
/// # Errors
/// Names the line of the first malformed record.
pub fn read_ndjson_gz(kind: TerritoryKind, bytes: &[u8]) -> anyhow::Result<Vec<TerritoryRecord>> {
    let reader = BufReader::new(GzDecoder::new(bytes));
    let mut out = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let mut rec: TerritoryRecord =
            serde_json::from_str(&line).with_context(|| format!("line {}", n + 1))?;
        rec.kind = kind;
        out.push(rec);
    }
    Ok(out)
}
