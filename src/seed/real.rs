//! Real ESS structures entered by hand (`seed/actors/real.json`), with their public address
//! and an honest location precision.

use super::attach_commune;
use crate::domain::actor::{ActorFields, KindSet};
use crate::domain::{
    Catalog, Family, GeocodePrecision, InputError, InseeCode, LonLat, Siret, Status,
};
use crate::index::territories::Territories;
use crate::index::text::fold;
use anyhow::Context;
use serde::Deserialize;

/// One entry of the file.
#[derive(Debug, Deserialize)]
struct Entry {
    name: String,
    description: Option<String>,
    categories: Vec<String>,
    family: String,
    #[serde(default)]
    kinds: Vec<String>,
    siret: Option<String>,
    street: Option<String>,
    postcode: Option<String>,
    insee: String,
    lon: Option<f64>,
    lat: Option<f64>,
    precision: String,
    website: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    opening_hours: Option<String>,
    accessibility: Option<String>,
    source: String,
    /// URL where the address was checked: provenance kept in the file, not an identifier.
    #[serde(rename = "source_ref")]
    _checked_at: Option<String>,
    /// `published` (default), `pending` (awaiting verification) or `archived` (closed).
    status: Option<String>,
}

/// Parses and validates the embedded file; every entry must pass or the whole seed fails.
///
/// # Errors
/// Names the entry and the rule it broke.
pub fn embedded(
    catalog: &Catalog,
    territories: &Territories,
) -> anyhow::Result<Vec<(ActorFields, Status)>> {
    let entries: Vec<Entry> = serde_json::from_str(include_str!("../../seed/actors/real.json"))?;
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let name = e.name.clone();
            validate(e, catalog, territories).with_context(|| format!("entry {} ({name})", i + 1))
        })
        .collect()
}

fn validate(
    e: Entry,
    catalog: &Catalog,
    territories: &Territories,
) -> Result<(ActorFields, Status), InputError> {
    catalog.parse_assigned("categories", &e.categories)?;
    let insee = InseeCode::parse("insee", &e.insee)?;
    let location = match (e.lon, e.lat) {
        (Some(lon), Some(lat)) => Some(LonLat::new(lon, lat)?),
        (None, None) => None,
        _ => return Err(InputError::new("lon/lat", "give both or neither")),
    };
    let name = e.name.clone();
    let status = Status::parse("status", e.status.as_deref().unwrap_or("published"))?;
    let precision = GeocodePrecision::parse("precision", &e.precision)?;
    let (commune, location, precision) =
        attach_commune(territories, Some(&insee), location, precision)?;
    let mut kinds = KindSet::default();
    for k in &e.kinds {
        kinds.0 |= KindSet::parse("kinds", k)?.0;
    }
    let fields = ActorFields {
        name: e.name,
        description: e.description,
        categories: e.categories,
        family: Family::parse("family", &e.family)?,
        kinds,
        siret: e
            .siret
            .as_deref()
            .map(|s| Siret::parse("siret", s))
            .transpose()?,
        street: e.street,
        postcode: e.postcode,
        commune,
        location,
        precision,
        website: e.website,
        email: e.email,
        phone: e.phone,
        opening_hours: e.opening_hours,
        accessibility: e.accessibility,
        source: e.source,
        // The URL where the address was checked stays in the seed file: it documents provenance
        // but is no identifier (two entries may cite one page). Upserts key on this slug.
        source_ref: Some(format!("real:{}", fold(&name).replace(' ', "-"))),
        demo: false,
    };
    Ok((fields, status))
}
