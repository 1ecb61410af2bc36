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

/// Appends a finite number in its shortest exact form (`null` if not finite).
fn number(out: &mut Vec<u8>, buf: &mut ryu::Buffer, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(buf.format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Writes one actor as a Feature with its list properties. Numbers go through `itoa`/`ryu`
/// and commune names are pre-serialised: this runs for every feature of every page.
pub fn actor_feature(out: &mut Vec<u8>, snap: &Snapshot, idx: ActorIdx, distance_m: Option<f64>) {
    let e = snap.actors.entry(idx);
    let mut floats = ryu::Buffer::new();
    out.extend_from_slice(br#"{"type":"Feature","id":"#);
    out.extend_from_slice(itoa::Buffer::new().format(e.id.0).as_bytes());
    out.extend_from_slice(br#","geometry":{"type":"Point","coordinates":["#);
    number(out, &mut floats, e.location.lon());
    out.push(b',');
    number(out, &mut floats, e.location.lat());
    out.extend_from_slice(br#"]},"properties":{"name":"#);
    string(out, snap.actors.name(idx));
    out.extend_from_slice(br#","categories":["#);
    for (i, slug) in snap.catalog.slugs(e.categories).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, slug);
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
        number(out, &mut floats, (d * 10.0).round() / 10.0);
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
        r#","population":{},"area_m2":{},"commune_count":{},"postcodes":"#,
        r.population,
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
