//! GeoJSON (RFC 7946) output written straight into a byte buffer: no intermediate trees, so a
//! page of 100 actors costs a few microseconds.

use crate::domain::territory::write_area_geometry;
use crate::index::Snapshot;
use crate::index::actors::{ActorIdx, Hit, NO_COMMUNE};
use crate::index::territories::{Territory, TerritoryIdx};
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

/// Writes one actor as a Feature with its list properties.
pub fn actor_feature(out: &mut Vec<u8>, snap: &Snapshot, idx: ActorIdx, distance_m: Option<f64>) {
    let e = snap.actors.entry(idx);
    let _ = write!(
        out,
        r#"{{"type":"Feature","id":{},"geometry":{{"type":"Point","coordinates":[{},{}]}},"properties":{{"name":"#,
        e.id.0,
        e.location.lon(),
        e.location.lat()
    );
    string(out, snap.actors.name(idx));
    out.extend_from_slice(br#","categories":["#);
    for (i, slug) in snap.catalog.slugs(e.categories).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, slug);
    }
    let _ = write!(out, r#"],"family":"{}","kinds":["#, e.family.as_str());
    for (i, k) in e.kinds.slugs().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let _ = write!(out, r#""{k}""#);
    }
    out.extend_from_slice(br#"],"commune":"#);
    match snap
        .territories
        .get(e.commune)
        .filter(|_| e.commune != NO_COMMUNE)
    {
        Some(t) => {
            out.extend_from_slice(br#"{"code":"#);
            string(out, &t.record.code);
            out.extend_from_slice(br#","name":"#);
            string(out, &t.record.name);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
    let _ = write!(
        out,
        r#","precision":"{}","demo":{}"#,
        e.precision.as_str(),
        e.demo
    );
    if let Some(d) = distance_m {
        let _ = write!(out, r#","distance_m":{:.1}"#, d);
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
    match idx.and_then(|i| snap.territories.get(i)) {
        Some(Territory { record, .. }) => {
            out.extend_from_slice(br#"{"code":"#);
            string(out, &record.code);
            out.extend_from_slice(br#","name":"#);
            string(out, &record.name);
            out.push(b'}');
        }
        None => out.extend_from_slice(b"null"),
    }
}
