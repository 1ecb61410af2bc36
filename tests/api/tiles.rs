//! Actor tiles: every matching actor counted once at every zoom, clusters that say what they
//! hold, points that name their actor, the map's filters, and HTTP caching.

use crate::helpers::{Backend, get, send, spawn_app};
use actix_web::test;
use geozero::mvt::{Message, Tile, tile};
use serde_json::Value;
use std::collections::HashMap;
use std::io::Read;

/// A decoded feature of the `actors` layer: its id, position in tile units and properties.
#[derive(Debug, Clone)]
struct Feature {
    id: Option<u64>,
    at: (i64, i64),
    props: HashMap<String, Value>,
}

impl Feature {
    fn cluster(&self) -> bool {
        self.props.get("cluster") == Some(&Value::Bool(true))
    }
    fn count(&self) -> u64 {
        if self.cluster() {
            self.props["point_count"].as_u64().expect("a count")
        } else {
            1
        }
    }
    fn str(&self, key: &str) -> &str {
        self.props.get(key).and_then(Value::as_str).unwrap_or("")
    }
    fn num(&self, key: &str) -> f64 {
        self.props
            .get(key)
            .and_then(Value::as_f64)
            .unwrap_or(f64::NAN)
    }
}

fn value(v: &tile::Value) -> Value {
    if let Some(s) = &v.string_value {
        return Value::from(s.clone());
    }
    if let Some(b) = v.bool_value {
        return Value::from(b);
    }
    if let Some(n) = v.uint_value {
        return Value::from(n);
    }
    if let Some(n) = v.sint_value {
        return Value::from(n);
    }
    if let Some(n) = v.int_value {
        return Value::from(n);
    }
    if let Some(n) = v.double_value {
        return Value::from(n);
    }
    v.float_value
        .map_or(Value::Null, |f| Value::from(f64::from(f)))
}

/// Decodes a point geometry: one MoveTo of one point.
fn point(geometry: &[u32]) -> (i64, i64) {
    assert_eq!(geometry.len(), 3, "one point: {geometry:?}");
    assert_eq!(geometry[0], 9, "MoveTo, count 1");
    let unzig = |v: u32| i64::from((v >> 1) as i32 ^ -((v & 1) as i32));
    (unzig(geometry[1]), unzig(geometry[2]))
}

fn features(bytes: &[u8]) -> Vec<Feature> {
    let tile = Tile::decode(bytes).expect("a vector tile");
    assert_eq!(tile.layers.len(), 1);
    let layer = &tile.layers[0];
    assert_eq!(layer.name, "actors");
    assert_eq!(layer.extent, Some(4096));
    layer
        .features
        .iter()
        .map(|f| Feature {
            id: f.id,
            at: point(&f.geometry),
            props: f
                .tags
                .chunks(2)
                .map(|p| {
                    (
                        layer.keys[p[0] as usize].clone(),
                        value(&layer.values[p[1] as usize]),
                    )
                })
                .collect(),
        })
        .collect()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut plain)
        .expect("gzip");
    plain
}

/// The tiles of zoom `z` over a box, as in the library.
fn tiles_over(bbox: [f64; 4], z: u8) -> Vec<(u32, u32)> {
    ancrage::tiles::tiles_over(bbox, z).collect()
}

/// The features of every tile of zoom `z` over `bbox` with the query `q` (plain bodies).
async fn layer<S, B>(svc: &S, z: u8, bbox: [f64; 4], q: &str) -> Vec<((u32, u32), Feature)>
where
    S: actix_web::dev::Service<
            actix_http::Request,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
    B: actix_web::body::MessageBody,
{
    let mut out = Vec::new();
    for (x, y) in tiles_over(bbox, z) {
        let r = get(svc, &format!("/tiles/actors/{z}/{x}/{y}.mvt?{q}")).await;
        match r.status.as_u16() {
            204 => assert!(r.bytes.is_empty()),
            200 => {
                assert_eq!(
                    r.header("content-type").as_deref(),
                    Some("application/vnd.mapbox-vector-tile")
                );
                out.extend(features(&r.bytes).into_iter().map(|f| ((x, y), f)));
            }
            s => panic!("tile {z}/{x}/{y}?{q}: {s}"),
        }
    }
    out
}

async fn tiles_count_every_matching_actor_once_at_every_zoom(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    for q in [
        "",
        "category=alimentation",
        "demo=exclude",
        "family=association&kind=tiers-lieu",
        "category=reemploi,culture-loisirs&demo=exclude",
        "departement=44",
        "q=epicerie",
    ] {
        let want = get(&svc, &format!("/api/v1/map/facets?{q}")).await.json()["numberMatched"]
            .as_u64()
            .expect("a count");
        assert!(want > 0, "{q}");
        for z in [0_u8, 2, 4] {
            let found = layer(&svc, z, [-180.0, -85.0, 180.0, 85.0], q).await;
            let got: u64 = found.iter().map(|(_, f)| f.count()).sum();
            assert_eq!(got, want, "z{z} ?{q}");
        }
    }
    // Deeper zooms over Loire-Atlantique, locked to it so every actor counted lies under.
    let dep44 = [-2.56, 46.86, -0.92, 47.84];
    let want = get(&svc, "/api/v1/map/facets?departement=44").await.json()["numberMatched"]
        .as_u64()
        .expect("a count");
    for z in [8_u8, 11] {
        let found = layer(&svc, z, dep44, "departement=44").await;
        assert_eq!(
            found.iter().map(|(_, f)| f.count()).sum::<u64>(),
            want,
            "z{z}"
        );
    }
}

async fn clusters_say_what_they_hold_and_points_name_their_actor(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let found = layer(&svc, 6, [-5.5, 41.0, 10.0, 51.5], "").await;
    let clusters: Vec<&Feature> = found
        .iter()
        .map(|(_, f)| f)
        .filter(|f| f.cluster())
        .collect();
    assert!(clusters.len() > 10, "France at zoom 6 is clustered");
    for c in &clusters {
        let split: Vec<(&str, u64)> = c
            .props
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("n_")?, v.as_u64()?)))
            .collect();
        assert_eq!(
            split.iter().map(|(_, n)| n).sum::<u64>(),
            c.count(),
            "{c:?}"
        );
        let top = split.iter().map(|(_, n)| *n).max().expect("a split");
        let dominant = split
            .iter()
            .find(|(slug, _)| *slug == c.str("category"))
            .expect("the dominant category is in the split");
        assert_eq!(dominant.1, top, "{c:?}");
        assert!(
            c.num("west") <= c.num("east") && c.num("south") <= c.num("north"),
            "{c:?}"
        );
        assert!(c.id.is_none());
    }
    // Zoom 16 over the centre of Nantes: every actor there is itself, with its name.
    let centre = [-1.5700, 47.2050, -1.5350, 47.2250];
    let points = layer(&svc, 16, centre, "").await;
    let singles: Vec<&Feature> = points
        .iter()
        .map(|(_, f)| f)
        .filter(|f| !f.cluster())
        .collect();
    assert!(!singles.is_empty());
    for p in singles.iter().take(20) {
        let id = p.id.expect("a feature id");
        assert_eq!(p.props["id"].as_i64(), Some(id as i64));
        let actor = get(&svc, &format!("/api/v1/actors/{id}")).await.json();
        assert_eq!(p.str("name"), actor["properties"]["name"], "{p:?}");
        assert_eq!(
            p.props["demo"].as_bool(),
            actor["properties"]["demo"].as_bool()
        );
        // Within a tile (and its buffer).
        assert!(
            (-64..=4160).contains(&p.at.0) && (-64..=4160).contains(&p.at.1),
            "{p:?}"
        );
    }
    // The points of the view equal the actors the API finds in it.
    let (x0, y0) = ancrage::tiles::to_tile(centre[0], centre[3], 16);
    let (x1, y1) = ancrage::tiles::to_tile(centre[2], centre[1], 16);
    let (w, n) = ancrage::tiles::from_tile(x0.floor(), y0.floor(), 16);
    let (e, s) = ancrage::tiles::from_tile(x1.floor() + 1.0, y1.floor() + 1.0, 16);
    let facets = get(&svc, &format!("/api/v1/map/facets?bbox={w},{s},{e},{n}"))
        .await
        .json();
    let got: u64 = points.iter().map(|(_, f)| f.count()).sum();
    assert_eq!(Some(got), facets["numberMatched"].as_u64());
}

async fn a_category_filter_colours_and_counts_by_that_category(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let found = layer(
        &svc,
        4,
        [-5.5, 41.0, 10.0, 51.5],
        "category=epicerie-solidaire",
    )
    .await;
    assert!(!found.is_empty());
    for (_, f) in &found {
        assert_eq!(f.str("category"), "alimentation", "{f:?}");
        if f.cluster() {
            let keys: Vec<&String> = f.props.keys().filter(|k| k.starts_with("n_")).collect();
            assert_eq!(keys, vec!["n_alimentation"], "{f:?}");
        }
    }
}

async fn tiles_are_cached_compressed_and_answer_bad_addresses_with_problems(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    // Zoom 5 over western France.
    let uri = "/tiles/actors/5/15/11.mvt?category=alimentation";
    let gz = send(
        &svc,
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("Accept-Encoding", "gzip")),
    )
    .await;
    assert_eq!(gz.status, 200);
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(
        gz.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    assert_eq!(gz.header("vary").as_deref(), Some("Accept-Encoding"));
    let plain = get(&svc, uri).await;
    assert_eq!(plain.status, 200);
    assert!(plain.header("content-encoding").is_none());
    assert_eq!(gunzip(&gz.bytes), plain.bytes);
    let stats = app.state.map.actor_tiles.stats();
    assert_eq!((stats.entries, stats.hits), (1, 1), "{stats:?}");
    let etag = plain.header("etag").expect("an ETag");
    let again = send(
        &svc,
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("If-None-Match", etag.as_str())),
    )
    .await;
    assert_eq!(again.status, 304);
    // Another filter is another tag.
    let other = get(&svc, "/tiles/actors/5/15/11.mvt?category=culture-loisirs").await;
    assert_ne!(other.header("etag"), Some(etag));
    // The middle of the Atlantic holds no actor.
    let sea = get(&svc, "/tiles/actors/8/100/90.mvt").await;
    assert_eq!(sea.status, 204);
    get(&svc, "/tiles/actors/5/32/0.mvt")
        .await
        .problem(400, Some("x"));
    get(&svc, "/tiles/actors/5/0/0.png")
        .await
        .problem(400, Some("y"));
    get(&svc, "/tiles/actors/23/0/0.mvt")
        .await
        .problem(404, None);
    get(&svc, "/tiles/actors/5/15/11.mvt?category=nope")
        .await
        .problem(400, Some("category"));
}

async fn the_static_export_holds_the_tiles_the_server_sends_without_demo_data(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let snap = app.state.snapshot.load();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("acteurs.pmtiles");
    let mut calls = 0;
    let w = ancrage::tiles::export::write(&snap, &path, false, |done, total| {
        calls += 1;
        assert!(done <= total);
    })
    .expect("the archive");
    let real = (snap.actors.len() - snap.actors.demo_count()) as u64;
    assert_eq!(w.actors as u64, real);
    assert!(w.tiles > 17, "{w:?}");
    assert!(calls >= 1);
    let reader = pmtiles::AsyncPmTilesReader::new_with_path(&path)
        .await
        .expect("a PMTiles archive");
    let header = reader.get_header();
    assert_eq!((header.min_zoom, header.max_zoom), (0, 16));
    assert_eq!(header.tile_type, pmtiles::TileType::Mvt);
    let tile = |z: u8, x: u32, y: u32| {
        let reader = &reader;
        async move {
            let coord = pmtiles::TileCoord::new(z, x, y).expect("a tile");
            reader
                .get_tile_decompressed(coord)
                .await
                .expect("readable")
                .map(|b| b.to_vec())
        }
    };
    // Every real actor once at zoom 4, and none of the fictitious ones.
    let mut counted = 0;
    for (x, y) in tiles_over([-180.0, -85.0, 180.0, 85.0], 4) {
        if let Some(bytes) = tile(4, x, y).await {
            for f in features(&bytes) {
                counted += f.count();
                assert_ne!(f.props.get("demo"), Some(&Value::Bool(true)));
            }
        }
    }
    assert_eq!(counted, real);
    // The same bytes as the server's tiles with demo=exclude, at a low and a deep zoom.
    for (z, lon, lat) in [(5_u8, -1.55, 47.21), (16, -1.5536, 47.2184), (0, 0.0, 0.0)] {
        let (x, y) = ancrage::tiles::to_tile(lon, lat, z);
        let (x, y) = (x as u32, y as u32);
        let served = get(&svc, &format!("/tiles/actors/{z}/{x}/{y}.mvt?demo=exclude")).await;
        let stored = tile(z, x, y).await;
        match served.status.as_u16() {
            200 => assert_eq!(stored.as_deref(), Some(&served.bytes[..]), "{z}/{x}/{y}"),
            204 => assert!(stored.is_none(), "{z}/{x}/{y}"),
            s => panic!("{s}"),
        }
    }
}

on_both_stores!(
    tiles_count_every_matching_actor_once_at_every_zoom,
    clusters_say_what_they_hold_and_points_name_their_actor,
    a_category_filter_colours_and_counts_by_that_category,
    tiles_are_cached_compressed_and_answer_bad_addresses_with_problems,
    the_static_export_holds_the_tiles_the_server_sends_without_demo_data,
);
