//! GeoJSON FeatureCollection of Points; properties named by the mapping file (dotted paths
//! reach nested objects). The geometry gives the coordinates.

use crate::ingest::mapping::Prepared;
use crate::ingest::progress::Counters;
use crate::ingest::{InputFailure, Item, Sink};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// A JSON value as cell text: strings as they are, numbers and booleans printed, arrays
/// joined with `|`, objects and null as nothing.
#[must_use]
pub fn cell(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .filter_map(|i| match i {
                    Value::Object(o) => o.get("name").and_then(cell),
                    other => cell(other),
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("|"))
        }
        Value::Object(_) | Value::Null => None,
    }
}

/// The value at a dotted path (`address.postalCode`).
#[must_use]
pub fn at<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, key| v.get(key))
}

/// Reads the whole file as JSON (imports of this kind are thousands of records, not millions).
///
/// # Errors
/// When the file cannot be read or is not JSON.
pub fn load(path: &Path, counters: Option<&Arc<Counters>>) -> Result<Value, InputFailure> {
    let bytes = std::fs::read(path).map_err(|e| InputFailure::file(path, e))?;
    if let Some(c) = counters {
        c.bytes.store(bytes.len() as u64, Ordering::Relaxed);
    }
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    serde_json::from_slice(text)
        .map_err(|e| InputFailure::file(path, format!("not valid JSON: {e}")))
}

/// Reads a FeatureCollection.
///
/// # Errors
/// When the file is not a GeoJSON FeatureCollection.
pub fn read(
    path: &Path,
    mapping: &Prepared,
    counters: Option<&Arc<Counters>>,
    sink: Sink<'_>,
) -> Result<(), InputFailure> {
    let doc = load(path, counters)?;
    let features = match (doc.get("type").and_then(Value::as_str), doc.get("features")) {
        (Some("FeatureCollection"), Some(Value::Array(f))) => f,
        _ => {
            return Err(InputFailure::file(
                path,
                "not a GeoJSON FeatureCollection (expected {\"type\": \"FeatureCollection\", \"features\": [...]})",
            ));
        }
    };
    for (i, feature) in features.iter().enumerate() {
        let line = i as u64 + 1;
        let props = feature.get("properties").cloned().unwrap_or(Value::Null);
        let get = |key: &str| at(&props, key).and_then(cell);
        let (mut draft, notes) = mapping.draft(&get);
        match feature.get("geometry") {
            Some(Value::Null) | None => {}
            Some(g) => match (g.get("type").and_then(Value::as_str), g.get("coordinates")) {
                (Some("Point"), Some(Value::Array(c))) if c.len() >= 2 => {
                    draft.lon = c[0].as_f64();
                    draft.lat = c[1].as_f64();
                }
                (kind, _) => {
                    sink(Item::Reject {
                        line,
                        source_ref: draft.source_ref.clone(),
                        reason: format!(
                            "geometry: a {} is not a place; only Points are imported",
                            kind.unwrap_or("malformed geometry")
                        ),
                    })?;
                    continue;
                }
            },
        }
        sink(Item::Record {
            line,
            draft: Box::new(draft),
            notes,
        })?;
    }
    Ok(())
}
