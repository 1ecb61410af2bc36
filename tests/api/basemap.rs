//! The self-hosted basemap: an archive written by `ancrage basemap-sample` from the test store,
//! served with its style; tiles in the Protomaps schema, compressed as stored, cacheable.

use crate::helpers::{Backend, get, send, spawn_app, spawn_app_with};
use actix_web::test;
use geozero::mvt::{Message, Tile};
use std::io::Read;

/// A test app serving a sample archive written from the store's own territories.
async fn app_with_basemap() -> (crate::helpers::TestApp, tempfile::TempDir) {
    let plain = spawn_app(Backend::Sqlite).await;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let archive = dir.path().join("sample.pmtiles");
    let snap = plain.state.snapshot.load();
    let written =
        ancrage::basemap::sample::write(&snap.territories, &archive).expect("the archive");
    assert!(written.tiles > 100, "{written:?}");
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.basemap_pmtiles = Some(archive.clone())
    })
    .await;
    (app, dir)
}

/// Nantes at zoom 14, a tile of the sample's streets.
const NANTES_14: &str = "/basemap/tiles/14/8121/5748.mvt";

fn decode(bytes: &[u8], gzip: bool) -> Tile {
    let mut plain = Vec::new();
    if gzip {
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut plain)
            .expect("gzip");
    } else {
        plain.extend_from_slice(bytes);
    }
    Tile::decode(&plain[..]).expect("a vector tile")
}

/// The string values of `key` in a layer of a tile.
fn values(tile: &Tile, layer: &str, key: &str) -> Vec<String> {
    let Some(layer) = tile.layers.iter().find(|l| l.name == layer) else {
        return Vec::new();
    };
    let Some(k) = layer.keys.iter().position(|k| k == key) else {
        return Vec::new();
    };
    layer
        .features
        .iter()
        .filter_map(|f| {
            let v = f.tags.chunks(2).find(|p| p[0] as usize == k)?[1] as usize;
            layer.values.get(v)?.string_value.clone()
        })
        .collect()
}

#[actix_web::test]
async fn the_basemap_style_names_the_servers_tiles_and_credits_openstreetmap() {
    let (app, _dir) = app_with_basemap().await;
    let svc = app.service().await;
    let config = get(&svc, "/api/v1/map/config").await;
    assert_eq!(config.json()["basemap_style"], "/basemap/style.json");
    let style = get(&svc, "/basemap/style.json").await;
    assert_eq!(style.status, 200);
    let style = style.json();
    assert_eq!(style["version"], 8);
    let source = &style["sources"]["protomaps"];
    assert_eq!(source["tiles"][0], "/basemap/tiles/{z}/{x}/{y}.mvt");
    assert_eq!(source["maxzoom"], 15);
    assert!(
        source["attribution"]
            .as_str()
            .unwrap_or("")
            .contains("OpenStreetMap")
    );
    assert!(
        style.get("glyphs").is_none(),
        "labels in the browser's fonts"
    );
    assert!(style.get("sprite").is_none());
    let layers = style["layers"].as_array().expect("layers");
    assert!(layers.len() > 50, "{}", layers.len());
    assert!(
        layers
            .iter()
            .all(|l| l["type"] == "background" || l["source"] == "protomaps")
    );
}

#[actix_web::test]
async fn tiles_are_served_as_stored_with_validators_and_decompressed_for_clients_without_gzip() {
    let (app, _dir) = app_with_basemap().await;
    let svc = app.service().await;
    let gz = send(
        &svc,
        test::TestRequest::get()
            .uri(NANTES_14)
            .insert_header(("Accept-Encoding", "gzip, br")),
    )
    .await;
    assert_eq!(gz.status, 200);
    assert_eq!(
        gz.header("content-type").as_deref(),
        Some("application/vnd.mapbox-vector-tile")
    );
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(
        gz.header("cache-control").as_deref(),
        Some("public, max-age=86400")
    );
    let tile = decode(&gz.bytes, true);
    let streets = values(&tile, "roads", "name");
    assert!(
        streets.iter().any(|n| n.starts_with("Rue d’essai")),
        "{streets:?}"
    );
    assert_eq!(values(&tile, "earth", "kind"), ["earth"]);
    // The same tile for a client without gzip, decompressed.
    let plain = get(&svc, NANTES_14).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(decode(&plain.bytes, false), tile);
    assert_ne!(
        plain.header("etag"),
        gz.header("etag"),
        "one tag per representation"
    );
    let etag = gz.header("etag").expect("an ETag");
    let again = send(
        &svc,
        test::TestRequest::get()
            .uri(NANTES_14)
            .insert_header(("Accept-Encoding", "gzip"))
            .insert_header(("If-None-Match", etag.as_str())),
    )
    .await;
    assert_eq!(again.status, 304);
    // Zoomed out, the communes are named and the départements outlined.
    let z8 = get(&svc, "/basemap/tiles/8/126/89.mvt").await;
    let z8 = decode(&z8.bytes, false);
    assert!(values(&z8, "places", "name").iter().any(|n| n == "Nantes"));
    assert!(!values(&z8, "boundaries", "kind").is_empty());
    // Outside the archive's cover: no content, cacheable.
    let alps = get(&svc, "/basemap/tiles/14/8487/5861.mvt").await;
    assert_eq!(alps.status, 204);
}

#[actix_web::test]
async fn bad_tile_addresses_and_a_missing_basemap_get_problems() {
    let (app, _dir) = app_with_basemap().await;
    let svc = app.service().await;
    let x = get(&svc, "/basemap/tiles/2/4/0.mvt").await;
    assert_eq!(x.status, 400);
    assert_eq!(x.json()["field"], "x");
    let ext = get(&svc, "/basemap/tiles/2/0/0.png").await;
    assert_eq!(ext.status, 400);
    assert_eq!(ext.json()["field"], "y");
    let deep = get(&svc, "/basemap/tiles/16/0/0.mvt").await;
    assert_eq!(deep.status, 404);
    assert!(
        deep.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("0 to 15")
    );
    let none = spawn_app(Backend::Sqlite).await;
    let svc = none.service().await;
    let missing = get(&svc, "/basemap/style.json").await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.json()["detail"]
            .as_str()
            .unwrap_or("")
            .contains("basemap_pmtiles")
    );
    assert_eq!(
        get(&svc, "/api/v1/map/config").await.json()["basemap_style"],
        serde_json::Value::Null
    );
}

#[actix_web::test]
async fn a_file_that_is_not_a_vector_archive_stops_the_start_saying_why() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let missing = dir.path().join("france.pmtiles");
    let e = ancrage::basemap::Basemap::open(&missing)
        .await
        .expect_err("no file");
    assert!(
        e.to_string().contains("basemap_pmtiles") && e.to_string().contains("france.pmtiles"),
        "{e}"
    );
    let junk = dir.path().join("junk.pmtiles");
    std::fs::write(&junk, b"not an archive at all").expect("writing");
    let e = ancrage::basemap::Basemap::open(&junk)
        .await
        .expect_err("not an archive");
    assert!(
        e.to_string()
            .contains("cannot be read as a PMTiles archive"),
        "{e}"
    );
}
