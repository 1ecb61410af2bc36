//! Data out: actors as CSV, GeoJSON or the "lieux de médiation numérique" schema. The CSV and
//! GeoJSON use the import's own field names, so an export imports back unchanged
//! (`ancrage import --format csv|geojson` without a mapping file).

use crate::domain::actor::ActorRecord;
use crate::domain::lonlat::round7;
use crate::ingest::formats::mediation;
use crate::ingest::mapping::FIELDS;
use serde_json::{Value, json};
use std::io::{self, Write};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// GeoJSON FeatureCollection.
    Geojson,
    /// CSV, `;`-separated, UTF-8 with BOM.
    Csv,
    /// CSV of the "lieux de médiation numérique" schema.
    MediationNumerique,
    /// The actor tiles of every zoom as one PMTiles archive (needs `--output`).
    Pmtiles,
}

/// The value of one export field of a record.
fn field(r: &ActorRecord, name: &str) -> String {
    let f = &r.fields;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match name {
        "source_ref" => f
            .source_ref
            .clone()
            .unwrap_or_else(|| format!("{}:{}", f.source, r.id)),
        "name" => f.name.clone(),
        "description" => opt(&f.description),
        "categories" => f.categories.join("|"),
        "family" => f.family.as_str().to_owned(),
        "kinds" => f.kinds.slugs().collect::<Vec<_>>().join("|"),
        "siret" => f
            .siret
            .as_ref()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        "street" => opt(&f.street),
        "postcode" => opt(&f.postcode),
        "commune" => f.commune.as_str().to_owned(),
        "city" => String::new(),
        "lon" => round7(f.location.lon()).to_string(),
        "lat" => round7(f.location.lat()).to_string(),
        "precision" => f.precision.as_str().to_owned(),
        "website" => opt(&f.website),
        "email" => opt(&f.email),
        "phone" => opt(&f.phone),
        "opening_hours" => opt(&f.opening_hours),
        "accessibility" => opt(&f.accessibility),
        "status" => r.status.as_str().to_owned(),
        _ => String::new(),
    }
}

/// Writes one CSV cell: quoted when it holds the separator, a quote or a line break, and
/// prefixed with `'` when a spreadsheet would read it as a formula.
fn cell(out: &mut impl Write, v: &str, sep: u8) -> io::Result<()> {
    let formula =
        v.starts_with(['=', '+', '@']) || (v.starts_with('-') && v.parse::<f64>().is_err());
    let v = if formula {
        format!("'{v}")
    } else {
        v.to_owned()
    };
    if v.bytes()
        .any(|b| b == sep || b == b'"' || b == b'\n' || b == b'\r')
    {
        write!(out, "\"{}\"", v.replace('"', "\"\""))
    } else {
        out.write_all(v.as_bytes())
    }
}

/// Writes the CSV header (with BOM).
///
/// # Errors
/// On an I/O error.
pub fn csv_header(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"\xEF\xBB\xBF")?;
    out.write_all(FIELDS.join(";").as_bytes())?;
    out.write_all(b"\r\n")
}

/// Writes records as CSV rows.
///
/// # Errors
/// On an I/O error.
pub fn csv_rows(out: &mut impl Write, records: &[ActorRecord]) -> io::Result<()> {
    for r in records {
        for (i, name) in FIELDS.iter().enumerate() {
            if i > 0 {
                out.write_all(b";")?;
            }
            cell(out, &field(r, name), b';')?;
        }
        out.write_all(b"\r\n")?;
    }
    Ok(())
}

/// One GeoJSON Feature.
#[must_use]
pub fn feature(r: &ActorRecord) -> Value {
    let f = &r.fields;
    let mut props = serde_json::Map::new();
    for name in FIELDS {
        let v = match *name {
            "categories" => json!(f.categories),
            "kinds" => json!(f.kinds.slugs().collect::<Vec<_>>()),
            "lon" | "lat" | "city" => continue,
            other => {
                let s = field(r, other);
                if s.is_empty() {
                    Value::Null
                } else {
                    Value::String(s)
                }
            }
        };
        props.insert((*name).to_owned(), v);
    }
    props.insert("updated_at".into(), json!(r.updated_at));
    json!({
        "type": "Feature",
        "id": r.id.0,
        "geometry": {"type": "Point", "coordinates": [round7(f.location.lon()), round7(f.location.lat())]},
        "properties": props,
    })
}

/// Writes the opening of a FeatureCollection.
///
/// # Errors
/// On an I/O error.
pub fn geojson_start(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
}

/// Writes features; `first` says whether none was written before.
///
/// # Errors
/// On an I/O error.
pub fn geojson_features(
    out: &mut impl Write,
    records: &[ActorRecord],
    first: &mut bool,
) -> io::Result<()> {
    for r in records {
        if !*first {
            out.write_all(b",\n")?;
        }
        *first = false;
        serde_json::to_writer(&mut *out, &feature(r))?;
    }
    Ok(())
}

/// Writes the end of a FeatureCollection.
///
/// # Errors
/// On an I/O error.
pub fn geojson_end(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"\n]}\n")
}

/// Typologie codes of the médiation numérique schema for a record.
fn typologie(r: &ActorRecord) -> String {
    use crate::domain::Family;
    let f = &r.fields;
    let mut codes = Vec::new();
    match f.family {
        Family::Association => codes.push("ASSO"),
        Family::Cooperative => codes.push("SCIC"),
        _ => {}
    }
    if f.categories.iter().any(|c| c == "fablab") {
        codes.push("FABLAB");
    }
    if f.kinds.has(crate::domain::actor::Kind::TiersLieu) {
        codes.push("TIERS_LIEUX");
    }
    codes.join(";")
}

fn coordinate(r: &ActorRecord, v: f64) -> String {
    if r.fields.precision == crate::domain::GeocodePrecision::Commune {
        String::new()
    } else {
        round7(v).to_string()
    }
}

/// Writes the médiation numérique header (with BOM).
///
/// # Errors
/// On an I/O error.
pub fn mediation_header(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"\xEF\xBB\xBF")?;
    out.write_all(mediation::COLUMNS.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

/// Writes records in the médiation numérique schema (`,`-separated).
///
/// # Errors
/// On an I/O error.
pub fn mediation_rows(out: &mut impl Write, records: &[ActorRecord]) -> io::Result<()> {
    for r in records {
        let f = &r.fields;
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let values = [
            field(r, "source_ref"),
            f.siret
                .as_ref()
                .map_or_else(|| "0".repeat(14), |s| s.as_str().to_owned()),
            f.name.clone(),
            String::new(),
            opt(&f.postcode),
            f.commune.as_str().to_owned(),
            opt(&f.street),
            String::new(),
            // The schema has no precision: a point that is only the commune's is left out
            // rather than passed off as the place's.
            coordinate(r, f.location.lat()),
            coordinate(r, f.location.lon()),
            typologie(r),
            opt(&f.phone),
            opt(&f.email),
            opt(&f.website),
            opt(&f.opening_hours),
            opt(&f.description),
            String::new(),
            f.source.clone(),
            r.updated_at.get(..10).unwrap_or_default().to_owned(),
        ];
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            cell(out, v, b',')?;
        }
        out.write_all(b"\r\n")?;
    }
    Ok(())
}
