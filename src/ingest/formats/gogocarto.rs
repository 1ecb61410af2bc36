//! GoGoCarto exports (`https://<map>/api/elements.json`, "gogofull" ontology): `{"data":
//! [element…]}` or a bare array, each element with `id`, `name`, `geo.latitude`,
//! `geo.longitude`, `address.streetAddress`, `address.postalCode`, `address.addressLocality`,
//! `categories` (names), `description`, `email`, `telephone`, `website`, `openHours`
//! (`{"Mo": "09:00-12:00,14:00-18:00"}`) and `status` (1 and more: validated, 0 or less: pending
//! or deleted). The mapping file's `[categories]` table turns GoGoCarto category names into
//! ours; its `[fields]` may point elsewhere for custom fields.

use super::geojson::{at, cell, load};
use crate::ingest::mapping::{Mapping, Prepared};
use crate::ingest::progress::Counters;
use crate::ingest::{InputFailure, Item, Sink};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

/// Where GoGoCarto puts each of our fields.
const PATHS: &[(&str, &str)] = &[
    ("source_ref", "id"),
    ("name", "name"),
    ("description", "description"),
    ("categories", "categories"),
    ("street", "address.streetAddress"),
    ("postcode", "address.postalCode"),
    ("city", "address.addressLocality"),
    ("lat", "geo.latitude"),
    ("lon", "geo.longitude"),
    ("email", "email"),
    ("phone", "telephone"),
    ("website", "website"),
];

/// The mapping with GoGoCarto's paths for every field the file does not set.
#[must_use]
pub fn with_defaults(mut m: Mapping) -> Mapping {
    for (field, path) in PATHS {
        m.fields
            .entry((*field).to_owned())
            .or_insert_with(|| (*path).to_owned());
    }
    m
}

/// GoGoCarto's opening hours (`{"Mo": "09:00-12:00,14:00-18:00", …}`) in OpenStreetMap syntax.
#[must_use]
pub fn opening_hours(v: &Value) -> Option<String> {
    let days = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
    let obj = v.as_object()?;
    let parts: Vec<String> = days
        .iter()
        .filter_map(|d| {
            let spans = obj.get(*d).and_then(cell)?;
            let spans = spans.replace(' ', "");
            (!spans.is_empty()).then(|| format!("{d} {spans}"))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Reads an export; `mapping` must come from [`with_defaults`].
///
/// # Errors
/// When the file is not a GoGoCarto export.
pub fn read(
    path: &Path,
    mapping: &Prepared,
    counters: Option<&Arc<Counters>>,
    sink: Sink<'_>,
) -> Result<(), InputFailure> {
    let doc = load(path, counters)?;
    let elements = match &doc {
        Value::Array(a) => a,
        Value::Object(o) => match o.get("data") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(InputFailure::file(
                    path,
                    "not a GoGoCarto export: expected {\"data\": [...]} or an array of elements",
                ));
            }
        },
        _ => return Err(InputFailure::file(path, "not a GoGoCarto export")),
    };
    for (i, element) in elements.iter().enumerate() {
        let line = i as u64 + 1;
        if !element.is_object() {
            sink(Item::Reject {
                line,
                source_ref: None,
                reason: "an element is not a JSON object (the compact ontology is not supported: export with ontology=gogofull)".into(),
            })?;
            continue;
        }
        let get = |key: &str| at(element, key).and_then(cell);
        let (mut draft, notes) = mapping.draft(&get);
        if draft.opening_hours.is_none() {
            draft.opening_hours = element.get("openHours").and_then(opening_hours);
        }
        if !mapping.mapping.fields.contains_key("status") {
            draft.status = element.get("status").and_then(Value::as_i64).map(|s| {
                if s >= 1 {
                    "published"
                } else if s == 0 {
                    "pending"
                } else {
                    "archived"
                }
                .to_owned()
            });
        }
        sink(Item::Record {
            line,
            draft: Box::new(draft),
            notes,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn opening_hours_become_openstreetmap_syntax() {
        let v = serde_json::json!({"Mo": "09:00-12:00,14:00-18:00", "We": "", "Sa": "10:00-12:00"});
        assert_eq!(
            super::opening_hours(&v).as_deref(),
            Some("Mo 09:00-12:00,14:00-18:00; Sa 10:00-12:00")
        );
        assert_eq!(super::opening_hours(&serde_json::json!({})), None);
    }
}
