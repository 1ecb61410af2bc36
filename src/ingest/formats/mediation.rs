//! The "lieux de médiation numérique" data schema (CSV published on data.gouv.fr by the
//! national digital inclusion programme): `id`, `pivot` (SIRET, or fourteen zeros), `nom`,
//! `commune`, `code_postal`, `code_insee`, `adresse`, `complement_adresse`, `latitude`,
//! `longitude`, `typologie` (`;`-separated codes such as `ASSO`, `TIERS_LIEUX`, `FABLAB`),
//! `telephone`, `courriels` and `site_web` (`|`-separated), `horaires` (OpenStreetMap
//! syntax), `presentation_resume`, `presentation_detail`, and more that are not imported.

use super::table::Table;
use crate::ingest::progress::Counters;
use crate::ingest::{ActorDraft, InputFailure, Item, Sink};
use std::path::Path;
use std::sync::Arc;

/// The columns an export of ours writes, in the schema's order.
pub const COLUMNS: &[&str] = &[
    "id",
    "pivot",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "typologie",
    "telephone",
    "courriels",
    "site_web",
    "horaires",
    "presentation_resume",
    "presentation_detail",
    "source",
    "date_maj",
];

/// Family for a typologie code.
fn family(code: &str) -> Option<&'static str> {
    Some(match code {
        "ASSO" | "CS" | "MJC" | "PIMMS" | "UDAF" | "CIDFF" | "EPN" => "association",
        "ESS" | "SCOP" | "SCIC" => "cooperative",
        "TIERS_LIEUX" | "FABLAB" => return None,
        _ => "autre",
    })
}

/// Reads a schema CSV.
///
/// # Errors
/// When the file cannot be read or lacks the schema's identifying columns.
pub fn read(
    path: &Path,
    counters: Option<&Arc<Counters>>,
    sink: Sink<'_>,
) -> Result<(), InputFailure> {
    let mut table = Table::open(path, None, counters)?;
    table.require(&["id", "nom"])?;
    table.for_each(|row| {
        let row = match row {
            Ok(r) => r,
            Err((line, reason)) => {
                return sink(Item::Reject {
                    line,
                    source_ref: None,
                    reason,
                });
            }
        };
        let get = |c: &str| {
            row.get(c)
                .map(|s| crate::ingest::mapping::unguard(s.trim()).to_owned())
                .filter(|s| !s.is_empty())
        };
        let mut notes = Vec::new();
        let typologie: Vec<String> = get("typologie")
            .unwrap_or_default()
            .split([';', '|', ','])
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty())
            .collect();
        let mut categories = vec!["mediation-numerique".to_owned()];
        let mut kinds = Vec::new();
        if typologie.iter().any(|t| t == "FABLAB") {
            categories.push("fablab".into());
        }
        if typologie.iter().any(|t| t == "TIERS_LIEUX") {
            categories.push("tiers-lieux".into());
            kinds.push("tiers-lieu".into());
        }
        let family = typologie
            .iter()
            .find_map(|t| family(t))
            .unwrap_or("autre")
            .to_owned();
        let coordinate =
            |c: &str, notes: &mut Vec<String>| match crate::ingest::textio::parse_decimal(
                c,
                &get(c).unwrap_or_default(),
            ) {
                Ok(v) => v,
                Err(e) => {
                    notes.push(format!("{e} (coordinates ignored)"));
                    None
                }
            };
        let lat = coordinate("latitude", &mut notes);
        let lon = coordinate("longitude", &mut notes);
        let street = match (get("adresse"), get("complement_adresse")) {
            (Some(a), Some(c)) => Some(format!("{a}, {c}")),
            (a, _) => a,
        };
        let description = get("presentation_resume").or_else(|| get("presentation_detail"));
        let draft = ActorDraft {
            name: get("nom"),
            description,
            categories,
            family: Some(family),
            kinds,
            siret: get("pivot").filter(|p| !p.trim_matches('0').is_empty()),
            street,
            postcode: get("code_postal"),
            commune: get("code_insee"),
            city: get("commune"),
            lon,
            lat,
            precision: None,
            website: get("site_web"),
            email: get("courriels"),
            phone: get("telephone"),
            opening_hours: get("horaires"),
            accessibility: None,
            source_ref: get("id"),
            status: None,
        };
        sink(Item::Record {
            line: row.line,
            draft: Box::new(draft),
            notes,
        })
    })
}
