//! Commune outline tiles for the offline map: outlines clipped to the tile and its buffer,
//! each name in exactly one tile of a zoom, zooms 8 to 14, validators and compression.

use crate::helpers::{Backend, Reply, get, send, spawn_app};
use actix_web::test;
use ancrage::domain::TerritoryKind;
use ancrage::tiles::mvt::{BUFFER, EXTENT, Frame};
use ancrage::tiles::{from_tile, tiles_over};
use geozero::mvt::{Message, Tile, tile};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

/// The z12 tile of Nantes' town hall (-1.5538, 47.2186).
const NANTES_12: &str = "/tiles/communes/12/2030/1437.mvt";
/// The z10 tile around Nantes.
const NANTES_10: &str = "/tiles/communes/10/507/359.mvt";
/// Open sea west of the Vendée coast (-5.5, 46.0), far from any island.
const SEA_10: &str = "/tiles/communes/10/496/364.mvt";

fn decode(reply: &Reply) -> Tile {
    assert_eq!(reply.status.as_u16(), 200, "{:?}", reply.headers);
    assert_eq!(
        reply.header("content-type").as_deref(),
        Some("application/vnd.mapbox-vector-tile")
    );
    let mut plain = Vec::new();
    if reply.header("content-encoding").as_deref() == Some("gzip") {
        flate2::read::GzDecoder::new(&reply.bytes[..])
            .read_to_end(&mut plain)
            .expect("gzip");
    } else {
        plain.extend_from_slice(&reply.bytes);
    }
    Tile::decode(&plain[..]).expect("a vector tile")
}

fn gzip_get(uri: &str) -> test::TestRequest {
    test::TestRequest::get()
        .uri(uri)
        .insert_header(("Accept-Encoding", "gzip"))
}

/// A feature of a tile, its properties read back and its geometry decoded to tile units.
#[derive(Debug)]
struct Decoded {
    geom_type: i32,
    props: BTreeMap<String, String>,
    /// The parts (lines, or the point) of the geometry, in tile units.
    parts: Vec<Vec<[i64; 2]>>,
}

/// The features of `layer`, decoded by hand from the MVT 2.1 command encoding.
fn features(tile: &Tile, layer: &str) -> Vec<Decoded> {
    let Some(layer) = tile.layers.iter().find(|l| l.name == layer) else {
        return Vec::new();
    };
    assert_eq!(layer.extent, Some(EXTENT));
    layer
        .features
        .iter()
        .map(|f: &tile::Feature| {
            let props = f
                .tags
                .chunks(2)
                .map(|kv| {
                    let key = layer.keys[kv[0] as usize].clone();
                    let value = layer.values[kv[1] as usize]
                        .string_value
                        .clone()
                        .expect("a string value");
                    (key, value)
                })
                .collect();
            Decoded {
                geom_type: f.r#type.unwrap_or(0),
                props,
                parts: geometry(&f.geometry),
            }
        })
        .collect()
}

fn geometry(commands: &[u32]) -> Vec<Vec<[i64; 2]>> {
    let zigzag = |v: u32| i64::from(v >> 1) ^ -i64::from(v & 1);
    let mut parts: Vec<Vec<[i64; 2]>> = Vec::new();
    let mut cursor = [0_i64, 0];
    let mut i = 0;
    while i < commands.len() {
        let (id, count) = (commands[i] & 7, commands[i] >> 3);
        i += 1;
        match id {
            1 | 2 => {
                for _ in 0..count {
                    cursor[0] += zigzag(commands[i]);
                    cursor[1] += zigzag(commands[i + 1]);
                    i += 2;
                    if id == 1 {
                        parts.push(Vec::new());
                    }
                    parts.last_mut().expect("a MoveTo first").push(cursor);
                }
            }
            7 => {}
            other => panic!("unknown command {other}"),
        }
    }
    parts
}

/// Longitude and latitude of a position in tile units of tile `z/x/y`.
fn degrees(z: u8, x: u32, y: u32, at: [i64; 2]) -> (f64, f64) {
    let e = f64::from(EXTENT);
    from_tile(
        f64::from(x) + at[0] as f64 / e,
        f64::from(y) + at[1] as f64 / e,
        z,
    )
}

async fn a_nantes_tile_holds_its_outline_and_its_name(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let tile = decode(&send(&svc, gzip_get(NANTES_12)).await);

    let outlines = features(&tile, "communes");
    let nantes: Vec<&Decoded> = outlines
        .iter()
        .filter(|f| f.props.get("code").map(String::as_str) == Some("44109"))
        .collect();
    assert_eq!(nantes.len(), 1, "one outline feature for Nantes");
    let nantes = nantes[0];
    assert_eq!(nantes.props["name"], "Nantes");
    assert_eq!(nantes.geom_type, tile::GeomType::Linestring as i32);
    let vertices: Vec<[i64; 2]> = nantes.parts.iter().flatten().copied().collect();
    assert!(vertices.len() > 10, "{} vertices", vertices.len());
    // Nantes reaches beyond the tile's west and north edges, so its line is cut at the buffer
    // there; its southern edge (47.18063°, from the seed) lies inside the tile.
    let min = |axis: usize| vertices.iter().map(|v| v[axis]).min();
    assert_eq!(min(0), Some(-(BUFFER as i64)));
    assert_eq!(min(1), Some(-(BUFFER as i64)));
    let south = vertices
        .iter()
        .map(|v| degrees(12, 2030, 1437, *v).1)
        .fold(f64::MAX, f64::min);
    assert!((south - 47.180_63).abs() < 1e-4, "southern edge at {south}");
    // Rezé, across the Loire, is drawn too; every commune drawn is one the JSON endpoint
    // finds in the tile's box with its buffer.
    let drawn: BTreeSet<&str> = outlines.iter().map(|f| f.props["code"].as_str()).collect();
    assert!(drawn.contains("44143"), "{drawn:?}");
    let [w, s, e, n] = Frame::new(12, 2030, 1437).bbox;
    let json = get(
        &svc,
        &format!("/api/v1/map/outlines/communes?bbox={w},{s},{e},{n}"),
    )
    .await
    .json();
    let listed: BTreeSet<&str> = json["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["code"].as_str())
        .collect();
    assert!(drawn.is_subset(&listed), "{drawn:?} not in {listed:?}");

    let labels = features(&tile, "commune_labels");
    let named: Vec<&Decoded> = labels
        .iter()
        .filter(|f| f.props["name"] == "Nantes")
        .collect();
    assert_eq!(named.len(), 1, "{labels:?}");
    assert_eq!(named[0].props["code"], "44109");
    assert_eq!(named[0].geom_type, tile::GeomType::Point as i32);
    let (lon, lat) = degrees(12, 2030, 1437, named[0].parts[0][0]);
    assert!(
        (lon + 1.553_765).abs() < 1e-4 && (lat - 47.218_632).abs() < 1e-4,
        "the town hall, not {lon}, {lat}"
    );
}

async fn each_commune_of_loire_atlantique_is_named_in_exactly_one_z10_tile(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let snap = app.state.snapshot.load();
    let t = &snap.territories;
    let dep = t
        .find(TerritoryKind::Departement, "44")
        .expect("Loire-Atlantique");
    let expected: BTreeSet<String> = t
        .all()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.kind == TerritoryKind::Commune && c.point().is_some())
        .filter(|(i, _)| t.get(*i as u32).and_then(|c| c.departement) == Some(dep))
        .map(|(_, c)| c.record.code.clone())
        .collect();
    assert_eq!(expected.len(), 207, "the communes of the 2026 seed");
    let b = t.bbox(dep).expect("a box");
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut tiles = 0;
    for (x, y) in tiles_over([b.west, b.south, b.east, b.north], 10) {
        let reply = send(&svc, gzip_get(&format!("/tiles/communes/10/{x}/{y}.mvt"))).await;
        if reply.status.as_u16() == 204 {
            continue;
        }
        tiles += 1;
        for label in features(&decode(&reply), "commune_labels") {
            let [px, py] = label.parts[0][0];
            let e = i64::from(EXTENT);
            assert!((0..=e).contains(&px) && (0..=e).contains(&py), "{label:?}");
            if label.props["code"].starts_with("44") {
                *seen.entry(label.props["code"].clone()).or_default() += 1;
            }
        }
    }
    assert!(tiles >= 20, "{tiles} tiles with communes");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "named more than once: {twice:?}");
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), expected);
}

async fn outline_lines_are_clipped_to_the_tile_and_its_buffer(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let (lo, hi) = (-(BUFFER as i64), i64::from(EXTENT) + BUFFER as i64);
    for (z, x, y) in [(8, 126, 89), (10, 507, 359), (14, 8121, 5749)] {
        let uri = format!("/tiles/communes/{z}/{x}/{y}.mvt");
        let outlines = features(&decode(&send(&svc, gzip_get(&uri)).await), "communes");
        assert!(!outlines.is_empty(), "{uri}");
        let vertices: Vec<[i64; 2]> = outlines
            .iter()
            .flat_map(|f| f.parts.iter().flatten().copied())
            .collect();
        let outside: Vec<_> = vertices
            .iter()
            .filter(|v| !(lo..=hi).contains(&v[0]) || !(lo..=hi).contains(&v[1]))
            .collect();
        assert!(outside.is_empty(), "{uri}: {outside:?}");
        // Lines go on into the buffer, so they join across tile edges.
        assert!(
            vertices
                .iter()
                .any(|v| v[0] < 0 || v[1] < 0 || v[0] > hi - BUFFER as i64),
            "{uri}"
        );
    }
}

async fn zooms_outside_8_to_14_and_bad_addresses_get_problems(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let shallow = get(&svc, "/tiles/communes/7/63/44.mvt")
        .await
        .problem(404, None);
    assert!(
        shallow["detail"]
            .as_str()
            .is_some_and(|d| d.contains("from zoom 8")),
        "{shallow}"
    );
    let deep = get(&svc, "/tiles/communes/15/16243/11497.mvt")
        .await
        .problem(404, None);
    assert!(
        deep["detail"]
            .as_str()
            .is_some_and(|d| d.contains("zoom 14")),
        "{deep}"
    );
    for (uri, field) in [
        ("/tiles/communes/12/4096/1437.mvt", "x"),
        ("/tiles/communes/12/2030/4096.mvt", "y"),
        ("/tiles/communes/12/2030/1437.png", "y"),
        ("/tiles/communes/douze/2030/1437.mvt", "z"),
        ("/tiles/communes/31/0/0.mvt", "z"),
    ] {
        get(&svc, uri).await.problem(400, Some(field));
    }
}

async fn tiles_carry_strong_validators_and_decode_alike_with_or_without_gzip(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let gz = send(&svc, gzip_get(NANTES_10)).await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(
        gz.header("cache-control").as_deref(),
        Some("public, max-age=86400")
    );
    assert_eq!(gz.header("vary").as_deref(), Some("Accept-Encoding"));
    let etag = gz.header("etag").expect("an ETag");
    assert!(
        etag.starts_with("\"communes-") && etag.ends_with("-10-507-359-gz\""),
        "a strong tag naming the tile: {etag}"
    );
    let plain = get(&svc, NANTES_10).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert!(plain.bytes.len() > gz.bytes.len());
    assert_eq!(decode(&plain), decode(&gz));
    let plain_tag = plain.header("etag").expect("an ETag");
    assert_ne!(plain_tag, etag, "one tag per representation");
    // The second answer comes from the cache, the same bytes.
    assert_eq!(send(&svc, gzip_get(NANTES_10)).await.bytes, gz.bytes);

    let held = send(
        &svc,
        gzip_get(NANTES_10).insert_header(("If-None-Match", etag.as_str())),
    )
    .await;
    assert_eq!(held.status.as_u16(), 304);
    assert_eq!(held.header("etag"), Some(etag.clone()));
    assert!(held.bytes.is_empty());
    // The plain representation's tag does not validate the gzip one.
    let other = send(
        &svc,
        gzip_get(NANTES_10).insert_header(("If-None-Match", plain_tag.as_str())),
    )
    .await;
    assert_eq!(other.status.as_u16(), 200);
}

async fn a_tile_of_open_sea_has_no_content(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let sea = send(&svc, gzip_get(SEA_10)).await;
    assert_eq!(sea.status.as_u16(), 204);
    assert!(sea.bytes.is_empty());
    assert_eq!(sea.header("content-encoding"), None);
    assert_eq!(
        sea.header("cache-control").as_deref(),
        Some("public, max-age=86400")
    );
    // Asked again, the cached emptiness answers the same.
    assert_eq!(get(&svc, SEA_10).await.status.as_u16(), 204);
}

on_both_stores!(
    a_nantes_tile_holds_its_outline_and_its_name,
    each_commune_of_loire_atlantique_is_named_in_exactly_one_z10_tile,
    outline_lines_are_clipped_to_the_tile_and_its_buffer,
    zooms_outside_8_to_14_and_bad_addresses_get_problems,
    tiles_carry_strong_validators_and_decode_alike_with_or_without_gzip,
    a_tile_of_open_sea_has_no_content,
);
