//! The editable values of an actor as one JSON object with the keys of an [`ActorDraft`]:
//! what the administration API returns and accepts, what a contribution proposes, and what
//! the history compares field by field.

use crate::domain::actor::ActorFields;
use crate::domain::lonlat::round7;
use crate::domain::{InputError, Siret, Status};
use crate::ingest::ActorDraft;
use serde_json::{Map, Value, json};

/// The editable values, in the order forms show them.
pub const FIELDS: [&str; 18] = [
    "name",
    "description",
    "categories",
    "family",
    "kinds",
    "siret",
    "street",
    "postcode",
    "commune",
    "lon",
    "lat",
    "precision",
    "website",
    "email",
    "phone",
    "opening_hours",
    "accessibility",
    "status",
];

/// Values that place an actor: changing one without new coordinates moves it to its commune.
const PLACE: [&str; 3] = ["postcode", "commune", "city"];

/// JSON object of values, keyed by field name.
pub type Values = Map<String, Value>;

/// The editable values of validated content.
#[must_use]
pub fn values_of(f: &ActorFields, status: Status) -> Values {
    let v = json!({
        "name": f.name,
        "description": f.description,
        "categories": f.categories,
        "family": f.family.as_str(),
        "kinds": f.kinds.slugs().collect::<Vec<_>>(),
        "siret": f.siret.as_ref().map(Siret::as_str),
        "street": f.street,
        "postcode": f.postcode,
        "commune": f.commune.as_str(),
        "lon": round7(f.location.lon()),
        "lat": round7(f.location.lat()),
        "precision": f.precision.as_str(),
        "website": f.website,
        "email": f.email,
        "phone": f.phone,
        "opening_hours": f.opening_hours,
        "accessibility": f.accessibility,
        "status": status.as_str(),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Reads values as a draft. Nulls mean "no value"; unknown keys and values of the wrong JSON
/// type are refused, as the import's drafts are.
///
/// # Errors
/// Names the first unknown key or mistyped value.
pub fn draft_from(values: &Values) -> Result<ActorDraft, InputError> {
    let present: Values = values
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    serde_json::from_value(Value::Object(present)).map_err(|e| {
        let field = e
            .to_string()
            .split('`')
            .nth(1)
            .filter(|_| e.to_string().starts_with("unknown field"))
            .unwrap_or("values")
            .to_owned();
        InputError::new(field, e.to_string())
    })
}

/// `current` with the values of `patch` put over it. A patch that moves the actor (postcode,
/// commune or city) without giving coordinates drops the current ones, so that the validation
/// places it again; one that gives a postcode or a city without a commune lets the validation
/// find the commune from them.
#[must_use]
pub fn merge(current: &Values, patch: &Values) -> Values {
    let mut out = current.clone();
    for (k, v) in patch {
        out.insert(k.clone(), v.clone());
    }
    let moved = PLACE
        .iter()
        .any(|k| patch.get(*k).is_some_and(|v| current.get(*k) != Some(v)));
    if moved && !patch.contains_key("lon") && !patch.contains_key("lat") {
        out.remove("lon");
        out.remove("lat");
        if !patch.contains_key("precision") {
            out.remove("precision");
        }
    }
    if moved && !patch.contains_key("commune") {
        out.remove("commune");
    }
    out
}

/// The fields whose value differs, as `{"field": {"before": …, "after": …}}`; a missing key
/// counts as null. Without `before` (a creation), every non-null value of `after`.
#[must_use]
pub fn diff(before: Option<&Values>, after: &Values) -> Value {
    let empty = Values::new();
    let before = before.unwrap_or(&empty);
    let mut out = Map::new();
    let keys = FIELDS
        .iter()
        .map(|k| (*k).to_owned())
        .chain(before.keys().cloned())
        .chain(after.keys().cloned());
    for k in keys {
        if out.contains_key(&k) {
            continue;
        }
        let b = before.get(&k).unwrap_or(&Value::Null);
        let a = after.get(&k).unwrap_or(&Value::Null);
        if !same(a, b) {
            out.insert(k, json!({"before": b, "after": a}));
        }
    }
    Value::Object(out)
}

/// Equal values; an empty list equals null (an actor without kinds has none to remove).
fn same(a: &Value, b: &Value) -> bool {
    let empty = |v: &Value| v.is_null() || v.as_array().is_some_and(Vec::is_empty);
    a == b || (empty(a) && empty(b))
}

/// The values of `after` that differ from `before`, as an object of those values only.
#[must_use]
pub fn changed(before: &Values, after: &Values) -> Values {
    match diff(Some(before), after) {
        Value::Object(m) => m
            .into_iter()
            .map(|(k, v)| (k, v["after"].clone()))
            .collect(),
        _ => Values::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Values {
        match v {
            Value::Object(m) => m,
            _ => Values::new(),
        }
    }

    #[test]
    fn the_diff_names_each_changed_field_with_both_values() {
        let before = obj(json!({"name": "A", "phone": null, "kinds": [], "lon": 1.5}));
        let after = obj(json!({"name": "B", "phone": "01 02 03 04 05", "lon": 1.5}));
        assert_eq!(
            diff(Some(&before), &after),
            json!({
                "name": {"before": "A", "after": "B"},
                "phone": {"before": null, "after": "01 02 03 04 05"},
            })
        );
        assert_eq!(
            diff(None, &obj(json!({"name": "A", "street": null}))),
            json!({"name": {"before": null, "after": "A"}})
        );
        assert_eq!(
            changed(&before, &after),
            obj(json!({"name": "B", "phone": "01 02 03 04 05"}))
        );
    }

    #[test]
    fn moving_an_actor_without_coordinates_lets_validation_place_it_again() {
        let current = obj(json!({
            "name": "A", "postcode": "44000", "commune": "44109",
            "lon": -1.55, "lat": 47.2, "precision": "address",
        }));
        let m = merge(&current, &obj(json!({"name": "B"})));
        assert_eq!(m["lon"], json!(-1.55));
        assert_eq!(m["name"], json!("B"));
        let m = merge(
            &current,
            &obj(json!({"postcode": "35000", "city": "Rennes"})),
        );
        assert!(
            !m.contains_key("lon") && !m.contains_key("commune") && !m.contains_key("precision")
        );
        let m = merge(
            &current,
            &obj(json!({"commune": "35238", "lon": -1.68, "lat": 48.11})),
        );
        assert_eq!(m["commune"], json!("35238"));
        assert_eq!(m["lon"], json!(-1.68));
        // The same postcode again is no move.
        let m = merge(&current, &obj(json!({"postcode": "44000"})));
        assert_eq!(m["commune"], json!("44109"));
    }

    #[test]
    fn drafts_refuse_unknown_keys_and_wrong_types_by_name() {
        let e = draft_from(&obj(json!({"name": "A", "nom": "B"}))).expect_err("unknown");
        assert_eq!(e.field, "nom");
        let e = draft_from(&obj(json!({"name": 5}))).expect_err("type");
        assert_eq!(e.field, "values");
        let d = draft_from(&obj(json!({"name": "A", "categories": null}))).expect("nulls");
        assert_eq!(d.name.as_deref(), Some("A"));
        assert!(d.categories.is_empty());
    }
}
