//! SIRENE stocks (INSEE, data.gouv.fr): the establishments stock `StockEtablissement` joined
//! on SIREN to the legal units stock `StockUniteLegale` and on SIRET to
//! `GeolocalisationEtablissement`.
//!
//! Kept: active establishments (`etatAdministratifEtablissement = A`) of legal units of the
//! ESS (`economieSocialeSolidaireUniteLegale = O`) whose activity (`activitePrincipaleEtablissement`,
//! NAF rév. 2) maps to a category. Never published: natural persons
//! (`categorieJuridiqueUniteLegale = 1000`) and records that are not fully diffusible
//! (`statutDiffusion… ≠ O`). Headers are matched by name, in any order; extra columns are
//! ignored; the stocks are `,`-separated and the geolocation file `;`-separated.
//!
//! Memory stays bounded by the ESS part of the register, not by the files: the legal units of
//! the ESS are kept (a few bytes each), then the positions of their establishments, then the
//! establishments stock is streamed row by row.

use super::table::Table;
use crate::ingest::mapping::{OneOrMany, Prepared};
use crate::ingest::progress::Counters;
use crate::ingest::{ActorDraft, InputFailure, Item, Sink};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// NAF rév. 2 codes or prefixes → categories, most specific first when looked up.
pub const NAF_CATEGORIES: &[(&str, &str)] = &[
    ("01", "amap-circuits-courts"),
    ("10", "alimentation"),
    ("35.11", "energie-citoyenne"),
    ("35.14", "energie-citoyenne"),
    ("38.1", "reemploi"),
    ("38.3", "ressourcerie"),
    ("41", "habitat"),
    ("43", "habitat"),
    ("45.20", "garage-solidaire"),
    ("47.1", "epicerie-solidaire"),
    ("47.2", "alimentation"),
    ("47.79", "ressourcerie"),
    ("47.71", "friperie-solidaire"),
    ("49.3", "mobilite"),
    ("55.20", "tourisme-social"),
    ("55.30", "tourisme-social"),
    ("56.10", "restauration-solidaire"),
    ("56.29", "restauration-solidaire"),
    ("58", "culture-loisirs"),
    ("59", "culture-loisirs"),
    ("62", "numerique"),
    ("63", "numerique"),
    ("64.19", "banque-cooperative"),
    ("64.92", "microcredit"),
    ("65.12", "mutuelle-sante"),
    ("65.11", "finance-solidaire"),
    ("68.20", "logement-insertion"),
    ("68.3", "habitat"),
    ("70.22", "accompagnement-reseaux"),
    ("72", "education-formation"),
    ("74.90", "accompagnement-reseaux"),
    ("77.11", "autopartage"),
    ("77.21", "atelier-velo"),
    ("78", "emploi-insertion"),
    ("79", "tourisme-social"),
    ("81.30", "protection-nature"),
    ("82.11", "coworking"),
    ("85.5", "formation"),
    ("85.51", "sport"),
    ("85.52", "culture-loisirs"),
    ("85", "education-formation"),
    ("86", "sante-social"),
    ("87", "sante-social"),
    ("88.10", "aide-domicile"),
    ("88.91", "creche"),
    ("88.99", "centre-social"),
    ("88", "sante-social"),
    ("90", "lieu-culturel"),
    ("91", "lieu-culturel"),
    ("93.1", "sport"),
    ("93.2", "culture-loisirs"),
    ("94.11", "reseau-federation"),
    ("94.12", "reseau-federation"),
    ("95", "repair-cafe"),
];

/// Family of a legal form (`categorieJuridiqueUniteLegale`, INSEE's "catégories juridiques",
/// level III). `None` for natural persons (never published).
#[must_use]
pub fn family(code: &str) -> Option<&'static str> {
    let n: u16 = code.trim().parse().unwrap_or(0);
    Some(match n {
        1000 => return None,
        // Coopératives: SARL, SA and SAS cooperatives, SCOP, SCIC, agricultural cooperatives
        // and CUMA, cooperative banks.
        5432 | 5443 | 5451..=5460 | 5551..=5560 | 5651..=5660 | 5385 | 6316..=6318 | 6411 => {
            "cooperative"
        }
        // Mutuelles and mutual insurers.
        8210 | 8250 | 8290 | 6511 | 6512 => "mutuelle",
        // Associations (déclarées, d'insertion, intermédiaires, de droit local…).
        9210..=9260 => "association",
        // Fondations and fonds de dotation.
        9300 | 9970 => "fondation",
        // Public bodies and authorities.
        4000..=4999 | 7000..=7999 => "autre",
        // Other companies of the ESS (commercial companies with ESS status, ESUS).
        _ => "entreprise-ess",
    })
}

/// Street types of the register, in words.
fn street_type(code: &str) -> &str {
    match code {
        "ALL" => "Allée",
        "AV" => "Avenue",
        "BD" => "Boulevard",
        "CAR" => "Carrefour",
        "CHE" | "CHEM" => "Chemin",
        "CHS" => "Chaussée",
        "CITE" => "Cité",
        "COR" => "Corniche",
        "CRS" => "Cours",
        "DOM" => "Domaine",
        "DSC" => "Descente",
        "ECA" => "Écart",
        "ESP" => "Esplanade",
        "FG" => "Faubourg",
        "GR" => "Grande Rue",
        "HAM" => "Hameau",
        "HLE" => "Halle",
        "IMP" => "Impasse",
        "LD" => "Lieu-dit",
        "LOT" => "Lotissement",
        "MAR" => "Marché",
        "MTE" => "Montée",
        "PAS" => "Passage",
        "PL" => "Place",
        "PLN" => "Plaine",
        "PLT" => "Plateau",
        "PRO" => "Promenade",
        "PRV" => "Parvis",
        "QUA" => "Quartier",
        "QUAI" => "Quai",
        "RES" => "Résidence",
        "RLE" => "Ruelle",
        "ROC" => "Rocade",
        "RPT" => "Rond-point",
        "RTE" => "Route",
        "RUE" => "Rue",
        "SEN" => "Sente",
        "SQ" => "Square",
        "TPL" => "Terre-plein",
        "TRA" => "Traverse",
        "VLA" => "Villa",
        "VLGE" => "Village",
        other => other,
    }
}

/// Projections of the geolocation file's `epsg` column (metropolitan France and overseas).
fn proj_string(epsg: &str) -> Option<&'static str> {
    Some(match epsg.trim() {
        "2154" => {
            "+proj=lcc +lat_0=46.5 +lon_0=3 +lat_1=49 +lat_2=44 +x_0=700000 +y_0=6600000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
        }
        "2975" => "+proj=utm +zone=40 +south +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
        "2972" => "+proj=utm +zone=22 +ellps=GRS80 +towgs84=2,2,-2,0,0,0,0 +units=m +no_defs",
        "5490" | "4559" => {
            "+proj=utm +zone=20 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs"
        }
        "4471" => "+proj=utm +zone=38 +south +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
        "4467" => "+proj=utm +zone=21 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs",
        "32620" => "+proj=utm +zone=20 +datum=WGS84 +units=m +no_defs",
        "32621" => "+proj=utm +zone=21 +datum=WGS84 +units=m +no_defs",
        "32622" => "+proj=utm +zone=22 +datum=WGS84 +units=m +no_defs",
        "32738" => "+proj=utm +zone=38 +south +datum=WGS84 +units=m +no_defs",
        "32740" => "+proj=utm +zone=40 +south +datum=WGS84 +units=m +no_defs",
        _ => return None,
    })
}

/// Projects `x`/`y` of an EPSG code to WGS84 `[lon, lat]` in degrees.
pub struct Reprojector {
    wgs84: proj4rs::Proj,
    cache: HashMap<String, Option<proj4rs::Proj>>,
}

impl Reprojector {
    /// A reprojector with no projection prepared yet.
    ///
    /// # Errors
    /// Never in practice (the WGS84 definition is constant).
    pub fn new() -> Result<Self, String> {
        Ok(Self {
            wgs84: proj4rs::Proj::from_proj_string("+proj=longlat +datum=WGS84 +no_defs")
                .map_err(|e| format!("WGS84: {e:?}"))?,
            cache: HashMap::new(),
        })
    }

    /// `[lon, lat]` in degrees, `None` for an unknown EPSG code or a failed projection.
    pub fn to_wgs84(&mut self, epsg: &str, x: f64, y: f64) -> Option<[f64; 2]> {
        let proj = self
            .cache
            .entry(epsg.to_owned())
            .or_insert_with(|| {
                proj_string(epsg).and_then(|s| proj4rs::Proj::from_proj_string(s).ok())
            })
            .as_ref()?;
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(proj, &self.wgs84, &mut p).ok()?;
        let (lon, lat) = (p.0.to_degrees(), p.1.to_degrees());
        (lon.is_finite() && lat.is_finite()).then_some([lon, lat])
    }
}

/// What is kept of a legal unit of the ESS.
struct Unit {
    legal_form: u16,
    diffusible: bool,
    name: Box<str>,
}

/// Position of an establishment, in 1e-7 degree (about 1 cm; 12 bytes rather than 16).
struct Position {
    lon_e7: i32,
    lat_e7: i32,
    precision: &'static str,
}

/// The three files.
pub struct Files<'a> {
    /// `StockEtablissement` (the main input).
    pub establishments: &'a Path,
    /// `StockUniteLegale`.
    pub units: &'a Path,
    /// `GeolocalisationEtablissement`, optional.
    pub geo: Option<&'a Path>,
}

fn naf_table(mapping: &Prepared) -> Vec<(String, Vec<String>)> {
    let mut table: Vec<(String, Vec<String>)> = if mapping.mapping.naf.is_empty() {
        NAF_CATEGORIES
            .iter()
            .map(|(k, v)| ((*k).to_owned(), vec![(*v).to_owned()]))
            .collect()
    } else {
        mapping
            .mapping
            .naf
            .iter()
            .map(|(k, v)| {
                let slugs = match v {
                    OneOrMany::One(s) => vec![s.clone()],
                    OneOrMany::Many(m) => m.clone(),
                };
                (k.clone(), slugs)
            })
            .collect()
    };
    // Longest prefix first.
    table.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    table
}

fn col(table: &Table, name: &str) -> Result<usize, InputFailure> {
    table.require(&[name])?;
    table
        .column(name)
        .ok_or_else(|| InputFailure(format!("missing column {name}")))
}

fn text(bytes: &[u8]) -> &str {
    std::str::from_utf8(bytes).unwrap_or("").trim()
}

fn siren_of(bytes: &[u8]) -> Option<u32> {
    let t = text(bytes);
    (t.len() >= 9).then(|| t[..9].parse().ok()).flatten()
}

fn read_units(path: &Path) -> Result<HashMap<u32, Unit>, InputFailure> {
    let mut t = Table::open(path, Some(b','), None)?;
    let (siren, ess, form) = (
        col(&t, "siren")?,
        col(&t, "economieSocialeSolidaireUniteLegale")?,
        col(&t, "categorieJuridiqueUniteLegale")?,
    );
    t.require(&["denominationUniteLegale"])?;
    let sigle = t.column("sigleUniteLegale");
    let diffusion = t.column("statutDiffusionUniteLegale");
    let mut units = HashMap::new();
    t.for_each(|row| {
        let Ok(row) = row else { return Ok(()) };
        if text(row.bytes(ess)) != "O" {
            return Ok(());
        }
        let Some(s) = siren_of(row.bytes(siren)) else {
            return Ok(());
        };
        let denomination = row.get("denominationUniteLegale").unwrap_or_default();
        let denomination = if denomination.trim().is_empty() {
            sigle
                .and_then(|_| row.get("sigleUniteLegale"))
                .unwrap_or_default()
        } else {
            denomination
        };
        units.insert(
            s,
            Unit {
                legal_form: text(row.bytes(form)).parse().unwrap_or(0),
                diffusible: diffusion.is_none_or(|d| text(row.bytes(d)) == "O"),
                name: denomination.trim().into(),
            },
        );
        Ok(())
    })?;
    Ok(units)
}

fn read_geo(
    path: &Path,
    units: &HashMap<u32, Unit>,
) -> Result<HashMap<u64, Position>, InputFailure> {
    let mut t = Table::open(path, Some(b';'), None)?;
    let siret = col(&t, "siret")?;
    let (lon_c, lat_c) = (t.column("x_longitude"), t.column("y_latitude"));
    let (x_c, y_c, epsg_c) = (t.column("x"), t.column("y"), t.column("epsg"));
    let quality = t.column("qualite_xy");
    if lon_c.is_none() && (x_c.is_none() || y_c.is_none() || epsg_c.is_none()) {
        t.require(&["x_longitude", "y_latitude"])?;
    }
    let mut reproject = Reprojector::new().map_err(InputFailure)?;
    let mut out = HashMap::new();
    let number = |b: &[u8]| text(b).replace(',', ".").parse::<f64>().ok();
    t.for_each(|row| {
        let Ok(row) = row else { return Ok(()) };
        let raw = row.bytes(siret);
        let Some(s) = siren_of(raw) else {
            return Ok(());
        };
        if !units.contains_key(&s) {
            return Ok(());
        }
        let Ok(key) = text(raw).parse::<u64>() else {
            return Ok(());
        };
        let direct = match (lon_c, lat_c) {
            (Some(a), Some(b)) => number(row.bytes(a))
                .zip(number(row.bytes(b)))
                .map(|(a, b)| [a, b]),
            _ => None,
        };
        let point = direct.or_else(|| match (x_c, y_c, epsg_c) {
            (Some(x), Some(y), Some(e)) => {
                let (x, y) = (number(row.bytes(x))?, number(row.bytes(y))?);
                reproject.to_wgs84(text(row.bytes(e)), x, y)
            }
            _ => None,
        });
        if let Some([lon, lat]) = point {
            // qualite_xy: first digit the street (1 sure, 2 probable, 3 unknown), second the
            // number (1 found, 2 placed at random along the street, 3 at random in the commune).
            let q = quality.map_or("", |q| text(row.bytes(q)));
            let precision = match q.as_bytes().get(1) {
                Some(b'1') => "address",
                Some(b'2') => "street",
                _ if q.is_empty() => "address",
                _ => "commune",
            };
            out.insert(
                key,
                Position {
                    lon_e7: (lon * 1e7).round() as i32,
                    lat_e7: (lat * 1e7).round() as i32,
                    precision,
                },
            );
        }
        Ok(())
    })?;
    Ok(out)
}

/// Reads the three files.
///
/// # Errors
/// When a file cannot be read or lacks a column the join needs.
pub fn read(
    files: &Files<'_>,
    mapping: &Prepared,
    counters: Option<&Arc<Counters>>,
    sink: Sink<'_>,
) -> Result<(), InputFailure> {
    let units = read_units(files.units)?;
    tracing::info!(
        "{} legal units of the ESS in {}",
        units.len(),
        files.units.display()
    );
    let positions = match files.geo {
        Some(p) => read_geo(p, &units)?,
        None => HashMap::new(),
    };
    if files.geo.is_some() {
        tracing::info!("{} positions of their establishments", positions.len());
    }
    let naf = naf_table(mapping);
    let mut t = Table::open(files.establishments, Some(b','), counters)?;
    let c_siret = col(&t, "siret")?;
    let c_state = col(&t, "etatAdministratifEtablissement")?;
    let c_diffusion = t.column("statutDiffusionEtablissement");
    let c_naf = col(&t, "activitePrincipaleEtablissement")?;
    t.require(&["codeCommuneEtablissement"])?;
    t.for_each(|row| {
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
        let raw_siret = row.bytes(c_siret);
        let Some(unit) = siren_of(raw_siret).and_then(|s| units.get(&s)) else {
            return sink(Item::Skip("not a legal unit of the ESS"));
        };
        if text(row.bytes(c_state)) != "A" {
            return sink(Item::Skip("closed establishment"));
        }
        let Some(family) = family(&unit.legal_form.to_string()) else {
            return sink(Item::Skip("natural person (never published)"));
        };
        let diffusible = c_diffusion.is_none_or(|d| text(row.bytes(d)) == "O");
        if !diffusible || !unit.diffusible {
            return sink(Item::Skip("not diffusible (never published)"));
        }
        let code = text(row.bytes(c_naf));
        let Some((_, categories)) = naf
            .iter()
            .find(|(prefix, _)| code.starts_with(prefix.as_str()))
        else {
            return sink(Item::Skip("activity (NAF) not mapped to a category"));
        };
        let get = |c: &str| {
            row.get(c)
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let name = get("enseigne1Etablissement")
            .or_else(|| get("denominationUsuelleEtablissement"))
            .or_else(|| (!unit.name.is_empty()).then(|| unit.name.to_string()));
        let street: Vec<String> = [
            get("numeroVoieEtablissement"),
            get("indiceRepetitionEtablissement"),
            get("typeVoieEtablissement").map(|t| street_type(&t).to_owned()),
            get("libelleVoieEtablissement"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let siret = text(raw_siret).to_owned();
        let position = siret.parse::<u64>().ok().and_then(|k| positions.get(&k));
        let draft = ActorDraft {
            name,
            categories: categories.clone(),
            family: Some(family.to_owned()),
            siret: Some(siret.clone()),
            street: (!street.is_empty()).then(|| street.join(" ")),
            postcode: get("codePostalEtablissement"),
            commune: get("codeCommuneEtablissement"),
            city: get("libelleCommuneEtablissement"),
            lon: position.map(|p| f64::from(p.lon_e7) / 1e7),
            lat: position.map(|p| f64::from(p.lat_e7) / 1e7),
            precision: position.map(|p| p.precision.to_owned()),
            source_ref: Some(siret),
            ..ActorDraft::default()
        };
        sink(Item::Record {
            line: row.line,
            draft: Box::new(draft),
            notes: Vec::new(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambert_93_and_utm_project_to_the_right_places() {
        let mut r = Reprojector::new().expect("wgs84");
        // Lambert-93 of the Panthéon, Paris (IGN): about 2.3464 E, 48.8462 N.
        let [lon, lat] = r
            .to_wgs84("2154", 652_300.0, 6_860_900.0)
            .expect("projected");
        assert!(
            (lon - 2.346).abs() < 0.01 && (lat - 48.846).abs() < 0.01,
            "{lon} {lat}"
        );
        // UTM 40S (La Réunion): Saint-Denis about 55.45 E, 20.88 S.
        let [lon, lat] = r
            .to_wgs84("2975", 338_000.0, 7_690_000.0)
            .expect("projected");
        assert!(
            (lon - 55.45).abs() < 0.05 && (lat + 20.88).abs() < 0.05,
            "{lon} {lat}"
        );
        assert!(r.to_wgs84("9999", 1.0, 1.0).is_none());
    }

    #[test]
    fn legal_forms_give_families_and_natural_persons_none() {
        assert_eq!(family("9220"), Some("association"));
        assert_eq!(family("5458"), Some("cooperative"));
        assert_eq!(family("8210"), Some("mutuelle"));
        assert_eq!(family("9300"), Some("fondation"));
        assert_eq!(family("5710"), Some("entreprise-ess"));
        assert_eq!(family("1000"), None);
    }
}
