//! GeoJSON (RFC 7946) output written straight into a byte buffer: no intermediate trees, so a
//! page of 100 actors costs a few microseconds.

use crate::domain::territory::write_area_geometry;
use crate::index::Snapshot;
use crate::index::actors::{ActorIdx, Hit, NO_COMMUNE};
use crate::index::territories::TerritoryIdx;
use std::io::Write;

/// Appends a JSON string literal.
pub fn string(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes `{"type":"FeatureCollection","numberMatched":…,"numberReturned":…,"features":[…]}`
/// for a page of actors.
pub fn actor_collection(out: &mut Vec<u8>, snap: &Snapshot, hits: &[Hit], matched: Option<usize>) {
    out.extend_from_slice(br#"{"type":"FeatureCollection","#);
    if let Some(m) = matched {
        let _ = write!(out, r#""numberMatched":{m},"#);
    }
    let _ = write!(out, r#""numberReturned":{},"features":["#, hits.len());
    for (i, h) in hits.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        actor_feature(out, snap, h.idx, h.distance_m);
    }
    out.extend_from_slice(b"]}");
}

/// Appends `v` with exactly `decimals` decimals (at most 9), through integer formatting:
/// several times faster than float printing, and enough for coordinates (7 decimals, about
/// 1 cm, as RFC 7946 §11.2 advises limiting precision) and distances (1 decimal).
fn fixed(out: &mut Vec<u8>, v: f64, decimals: u32) {
    let scale = 10_i64.pow(decimals);
    let scaled = (v * scale as f64).round();
    if !scaled.is_finite() || scaled.abs() >= 9e15 {
        out.extend_from_slice(b"null");
        return;
    }
    let scaled = scaled as i64;
    if scaled < 0 {
        out.push(b'-');
    }
    let magnitude = scaled.unsigned_abs();
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(digits.format(magnitude / scale as u64).as_bytes());
    if decimals > 0 {
        out.push(b'.');
        let frac = digits.format(magnitude % scale as u64);
        for _ in frac.len()..decimals as usize {
            out.push(b'0');
        }
        out.extend_from_slice(frac.as_bytes());
    }
}

/// Writes one actor as a Feature with its list properties. Numbers go through integer
/// formatting and names are pre-serialised: this runs for every feature of every page.
pub fn actor_feature(out: &mut Vec<u8>, snap: &Snapshot, idx: ActorIdx, distance_m: Option<f64>) {
    let e = snap.actors.entry(idx);
    out.extend_from_slice(br#"{"type":"Feature","id":"#);
    out.extend_from_slice(itoa::Buffer::new().format(e.id.0).as_bytes());
    out.extend_from_slice(br#","geometry":{"type":"Point","coordinates":["#);
    fixed(out, e.location.lon(), 7);
    out.push(b',');
    fixed(out, e.location.lat(), 7);
    out.extend_from_slice(br#"]},"properties":{"name":"#);
    out.extend_from_slice(snap.actors.name_json(idx).as_bytes());
    out.extend_from_slice(br#","categories":["#);
    for (i, slug) in snap.catalog.slugs(e.categories).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Slugs are checked plain ASCII (`Catalog::new`): no escaping needed.
        out.push(b'"');
        out.extend_from_slice(slug.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(br#"],"family":""#);
    out.extend_from_slice(e.family.as_str().as_bytes());
    out.extend_from_slice(br#"","kinds":["#);
    for (i, k) in e.kinds.slugs().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(k.as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(br#"],"commune":"#);
    let commune = if e.commune == NO_COMMUNE {
        "null"
    } else {
        snap.territories.json_ref(e.commune)
    };
    out.extend_from_slice(commune.as_bytes());
    out.extend_from_slice(br#","precision":""#);
    out.extend_from_slice(e.precision.as_str().as_bytes());
    out.extend_from_slice(if e.demo {
        br#"","demo":true"#
    } else {
        br#"","demo":false"#
    });
    if let Some(d) = distance_m {
        out.extend_from_slice(br#","distance_m":"#);
        // Decimetres are plenty for a distance shown to people.
        fixed(out, d, 1);
    }
    out.extend_from_slice(b"}}");
}

/// Writes a territory as a Feature; with `outline` the geometry is its polygon, otherwise its
/// representative point.
pub fn territory_feature(
    out: &mut Vec<u8>,
    snap: &Snapshot,
    idx: TerritoryIdx,
    outline: bool,
    actor_count: Option<usize>,
) {
    let Some(t) = snap.territories.get(idx) else {
        out.extend_from_slice(b"null");
        return;
    };
    let r = &t.record;
    out.extend_from_slice(br#"{"type":"Feature","id":"#);
    string(out, &format!("{}:{}", t.kind.as_str(), r.code));
    if let Some(b) = snap.territories.bbox(idx) {
        let _ = write!(
            out,
            r#","bbox":[{},{},{},{}]"#,
            b.west, b.south, b.east, b.north
        );
    }
    out.extend_from_slice(br#","geometry":"#);
    match (&r.geometry, outline, r.point) {
        (Some(g), true, _) => write_area_geometry(out, g),
        (_, _, Some([lon, lat])) => {
            let _ = write!(out, r#"{{"type":"Point","coordinates":[{lon},{lat}]}}"#);
        }
        _ => out.extend_from_slice(b"null"),
    }
    let _ = write!(
        out,
        r#","properties":{{"kind":"{}","code":"#,
        t.kind.as_str()
    );
    string(out, &r.code);
    out.extend_from_slice(br#","name":"#);
    string(out, &r.name);
    let _ = write!(
        out,
        r#","population":{},"population_published":{},"area_m2":{},"commune_count":{},"postcodes":"#,
        r.population,
        r.population_published
            .map_or_else(|| "null".to_owned(), |p| p.to_string()),
        r.area_m2
            .map_or_else(|| "null".to_owned(), |a| a.round().to_string()),
        r.commune_count
    );
    let _ = serde_json::to_writer(&mut *out, &r.postcodes);
    for (label, parent) in [
        ("epci", t.epci),
        ("departement", t.departement),
        ("region", t.region),
    ] {
        let _ = write!(out, r#","{label}":"#);
        parent_ref(out, snap, parent.filter(|&p| p != idx));
    }
    out.extend_from_slice(br#","point":"#);
    let _ = serde_json::to_writer(&mut *out, &r.point);
    out.extend_from_slice(br#","point_origin":"#);
    let _ = serde_json::to_writer(&mut *out, &r.point_origin);
    out.extend_from_slice(br#","geometry_origin":"#);
    let _ = serde_json::to_writer(&mut *out, &r.geometry_origin);
    if let Some(n) = actor_count {
        let _ = write!(out, r#","actor_count":{n}"#);
    }
    out.extend_from_slice(b"}}");
}

fn parent_ref(out: &mut Vec<u8>, snap: &Snapshot, idx: Option<TerritoryIdx>) {
    out.extend_from_slice(
        idx.map_or("null", |i| snap.territories.json_ref(i))
            .as_bytes(),
    );
}

#[cfg(test)]
mod tests {
    use super::fixed;

    fn show(v: f64, decimals: u32) -> String {
        let mut out = Vec::new();
        fixed(&mut out, v, decimals);
        String::from_utf8(out).expect("ascii")
    }

    #[test]
    fn fixed_decimals_round_and_keep_signs_and_leading_zeros() {
        assert_eq!(show(-1.553_765_4, 7), "-1.5537654");
        assert_eq!(show(47.000_000_04, 7), "47.0000000");
        assert_eq!(show(-0.000_000_04, 7), "0.0000000");
        assert_eq!(show(0.050_000_1, 7), "0.0500001");
        assert_eq!(show(1234.56, 1), "1234.6");
        assert_eq!(show(0.04, 1), "0.0");
        assert_eq!(show(f64::NAN, 1), "null");
        // The text parses back to the value rounded to the decimals.
        let v: f64 = show(55.450_123_456, 7).parse().expect("number");
        assert!((v - 55.450_123_5).abs() < 1e-12);
    }
}
