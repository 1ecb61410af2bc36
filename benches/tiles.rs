//! Actor tiles and view counts on 1 000 000 actors generated like the demonstration set
//! (`cargo bench --bench tiles`, or `-- --actors 200000`): the quadtree's build time and
//! memory; one tile's time (encoded and gzip-compressed, no cache) at zooms 5, 8, 11, 14 and 16,
//! p50, p99 and bytes, under several filters; the tiles of a France view against those of a
//! city view; the counts of the same views; and the former way (JSON grid clusters and counts
//! computed from the actors of the view) for the ratio.
//!
//! With `--points FILE` it also writes the actors' positions (`f64` longitude, latitude pairs,
//! little-endian) and the sampled tiles (`FILE.tiles.json`), which
//! `node benches/supercluster.mjs FILE` indexes with `supercluster` for the side-by-side.
#![allow(clippy::print_stdout)] // A report bench prints its table.

mod common;

use ancrage::domain::TerritoryKind;
use ancrage::domain::{Bbox, CategorySet, FamilySet, KindSet, LonLat};
use ancrage::index::SnapshotHandle;
use ancrage::index::actors::{ActorFilter, ActorRows, CommuneCode, OpenAt};
use ancrage::index::cluster;
use ancrage::index::pyramid::Pyramid;
use ancrage::seed::demo::Rng;
use ancrage::tiles::TileId;
use ancrage::tiles::actors::Painter;
use flate2::Compression;
use flate2::write::GzEncoder;
use std::hint::black_box;
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The France view of the map page on a 1280 x 800 screen: zoom 5.3.
const FRANCE: [f64; 4] = [-5.2, 41.3, 9.6, 51.1];

fn pct(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)]
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::new(6));
    let _ = enc.write_all(bytes);
    enc.finish().unwrap_or_default()
}

/// The tiles of zoom `z` a 1280 x 800 view centred on `c` shows (512-pixel tiles).
fn view_tiles(c: LonLat, z: u8) -> Vec<TileId> {
    let (x, y) = ancrage::tiles::to_tile(c.lon(), c.lat(), z);
    let (hw, hh) = (1280.0 / 512.0 / 2.0, 800.0 / 512.0 / 2.0);
    let last = f64::from((1u32 << z) - 1);
    let mut out = Vec::new();
    for tx in ((x - hw).floor().max(0.0) as u32)..=((x + hw).floor().min(last) as u32) {
        for ty in ((y - hh).floor().max(0.0) as u32)..=((y + hh).floor().min(last) as u32) {
            out.push(TileId { z, x: tx, y: ty });
        }
    }
    out
}

/// The box of a view's tiles, degrees.
fn view_box(tiles: &[TileId]) -> Bbox {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for t in tiles {
        let [w, s, e, n] = t.bbox();
        b = [b[0].min(w), b[1].min(s), b[2].max(e), b[3].max(n)];
    }
    Bbox::new("bbox", b[0], b[1].max(-85.0), b[2], b[3].min(85.0)).expect("a box")
}

fn main() {
    let catalog = Arc::new(ancrage::domain::category::builtin_catalog().expect("taxonomy"));
    let territories = Arc::new(
        ancrage::index::territories::Territories::new(
            ancrage::seed::territories::embedded().expect("seed"),
        )
        .expect("territories"),
    );
    let rows = rows_with_hours(&catalog, &territories, common::actor_count());
    let t = Instant::now();
    let handle = SnapshotHandle::new(Arc::clone(&catalog), Arc::clone(&territories), rows);
    let index_time = t.elapsed();
    let snap = handle.load();
    let ix = &snap.actors;
    let n = ix.len();

    // The quadtree alone, as the index builds it (on its own core).
    let t = Instant::now();
    let pyramid = Pyramid::build((0..n as u32).map(|i| {
        let e = ix.entry(i);
        (i, [e.location.lon(), e.location.lat()], ix.key(i))
    }));
    let pyramid_time = t.elapsed();
    println!("\n## Actor tiles on {n} actors\n");
    println!(
        "- whole index build (tree, quadtree on the other core, memberships): {index_time:.2?}"
    );
    println!(
        "- quadtree build alone: {pyramid_time:.2?}; heap {:.0} MiB ({} distinct filter keys, {} aggregates); whole index {:.0} MiB",
        pyramid.heap_bytes() as f64 / 1048576.0,
        pyramid.keys().len(),
        pyramid.aggregate_count(),
        ix.heap_bytes() as f64 / 1048576.0
    );
    drop(pyramid);

    let food = catalog
        .parse_filter("category", "alimentation")
        .expect("slug");
    let filters: Vec<(&str, ActorFilter)> = vec![
        ("no filter", ActorFilter::default()),
        (
            "category=alimentation",
            ActorFilter {
                categories: Some(food),
                ..ActorFilter::default()
            },
        ),
        (
            "family=association&kind=tiers-lieu",
            ActorFilter {
                families: Some(FamilySet::parse("f", "association").expect("family")),
                kinds: KindSet::parse("k", "tiers-lieu").expect("kind"),
                ..ActorFilter::default()
            },
        ),
        (
            "category=reemploi,culture-loisirs",
            ActorFilter {
                categories: Some(
                    catalog
                        .parse_filter("category", "reemploi,culture-loisirs")
                        .expect("slugs"),
                ),
                ..ActorFilter::default()
            },
        ),
        (
            "open=now (Tuesday 10:30, checked actor by actor)",
            ActorFilter {
                // 2026-12-01 09:30 UTC: a Tuesday morning in metropolitan France.
                open_at: Some(OpenAt::at(1_796_117_400)),
                ..ActorFilter::default()
            },
        ),
        (
            "region=52 (an embed's lock, checked actor by actor)",
            ActorFilter {
                territories: vec![
                    territories
                        .find(TerritoryKind::Region, "52")
                        .expect("Pays de la Loire"),
                ],
                ..ActorFilter::default()
            },
        ),
        (
            "q=epicerie (checked actor by actor)",
            ActorFilter {
                text: Some("epicerie".into()),
                ..ActorFilter::default()
            },
        ),
    ];

    // Tiles holding actors, drawn in proportion to actors (a random actor's tile).
    let mut rng = Rng::new(7);
    let picks: Vec<u32> = (0..400).map(|_| rng.below(n) as u32).collect();
    println!("\n### One tile (encoded + gzip, no cache), single thread\n");
    println!("| zoom | filter | p50 | p99 | mean bytes (gzip) | features |");
    println!("|---:|---|---:|---:|---:|---:|");
    let mut sampled: Vec<TileId> = Vec::new();
    for z in [5_u8, 8, 11, 14, 16] {
        let tiles: Vec<TileId> = picks
            .iter()
            .map(|&i| {
                let p = ix.entry(i).location;
                let (x, y) = ancrage::tiles::to_tile(p.lon(), p.lat(), z);
                TileId {
                    z,
                    x: x as u32,
                    y: y as u32,
                }
            })
            .collect();
        sampled.extend(tiles.iter().take(100));
        for (name, f) in &filters {
            let mut times = Vec::with_capacity(tiles.len());
            let (mut bytes, mut features) = (0usize, 0usize);
            for t in &tiles {
                let start = Instant::now();
                let painter = Painter::new(&snap, f);
                let tile = painter.tile(*t).unwrap_or_default();
                let gz = gzip(&tile);
                times.push(start.elapsed());
                bytes += gz.len();
                features += count_features(black_box(&tile));
            }
            println!(
                "| {z} | {name} | {:.2?} | {:.2?} | {} | {} |",
                pct(&mut times, 0.5),
                pct(&mut times, 0.99),
                bytes / tiles.len(),
                features / tiles.len()
            );
        }
    }

    // Whole views: the tiles of the France view against those of city views, and their counts.
    let none = ActorFilter::default();
    let france_tiles = view_tiles(
        LonLat::new((FRANCE[0] + FRANCE[2]) / 2.0, (FRANCE[1] + FRANCE[3]) / 2.0).expect("centre"),
        5,
    );
    let france_box = Bbox::new("bbox", FRANCE[0], FRANCE[1], FRANCE[2], FRANCE[3]).expect("box");
    let cities: Vec<LonLat> = picks
        .iter()
        .take(200)
        .map(|&i| ix.entry(i).location)
        .collect();
    let run_view = |tiles: &[TileId], f: &ActorFilter| {
        let painter = Painter::new(&snap, f);
        tiles
            .iter()
            .map(|t| gzip(&painter.tile(*t).unwrap_or_default()).len())
            .sum::<usize>()
    };
    let facets = |b: &Bbox, f: &ActorFilter| {
        let h = ix.key_histogram(Some(b), f, &snap.territories);
        ancrage::routes::map::facet_counts(&snap, f, &h)
    };
    println!("\n### Views (1280 x 800), all tiles of the view in sequence, and its counts\n");
    println!("| view | filter | tiles p50 | tiles p99 | facets p50 | facets p99 |");
    println!("|---|---|---:|---:|---:|---:|");
    let mut ratio = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    for (name, f) in &filters {
        let (mut tiles_t, mut facets_t) = (Vec::new(), Vec::new());
        for _ in 0..50 {
            let s = Instant::now();
            black_box(run_view(&france_tiles, f));
            tiles_t.push(s.elapsed());
            let s = Instant::now();
            black_box(facets(&france_box, f));
            facets_t.push(s.elapsed());
        }
        let (ft99, ff99) = (pct(&mut tiles_t, 0.99), pct(&mut facets_t, 0.99));
        println!(
            "| France, zoom 5 ({} tiles) | {name} | {:.2?} | {ft99:.2?} | {:.2?} | {ff99:.2?} |",
            france_tiles.len(),
            pct(&mut tiles_t, 0.5),
            pct(&mut facets_t, 0.5),
        );
        let (mut tiles_c, mut facets_c) = (Vec::new(), Vec::new());
        for c in &cities {
            let tiles = view_tiles(*c, 13);
            let b = view_box(&tiles);
            let s = Instant::now();
            black_box(run_view(&tiles, f));
            tiles_c.push(s.elapsed());
            let s = Instant::now();
            black_box(facets(&b, f));
            facets_c.push(s.elapsed());
        }
        let (ct99, cf99) = (pct(&mut tiles_c, 0.99), pct(&mut facets_c, 0.99));
        println!(
            "| a city, zoom 13 | {name} | {:.2?} | {ct99:.2?} | {:.2?} | {cf99:.2?} |",
            pct(&mut tiles_c, 0.5),
            pct(&mut facets_c, 0.5),
        );
        if name == &"no filter" {
            ratio = (ft99, ct99, ff99, cf99);
        }
    }
    println!(
        "\nFrance / city at p99, no filter: tiles {:.2}, facets {:.2}",
        ratio.0.as_secs_f64() / ratio.1.as_secs_f64(),
        ratio.2.as_secs_f64() / ratio.3.as_secs_f64()
    );

    // The former way: grid clusters and counts from the actors of the view.
    println!("\n### The former way (JSON clusters and counts computed from the view's actors)\n");
    println!("| view | clusters p50 | facets p50 |");
    println!("|---|---:|---:|");
    for (name, b, zoom) in [
        ("France, zoom 5", france_box, 5.0),
        (
            "a city, zoom 13",
            view_box(&view_tiles(cities[0], 13)),
            13.0,
        ),
    ] {
        let (mut c, mut f) = (Vec::new(), Vec::new());
        for _ in 0..10 {
            let s = Instant::now();
            let idxs = ix.in_bbox(&b, &none, &snap.territories);
            let cells = cluster::grid(
                idxs.iter()
                    .map(|&i| (ix.entry(i).location, (ix.entry(i).id.0, i))),
                zoom,
            );
            black_box(cells.len());
            c.push(s.elapsed());
            let s = Instant::now();
            black_box(former_facets(&snap, &b, &none));
            f.push(s.elapsed());
        }
        println!(
            "| {name} | {:.2?} | {:.2?} |",
            pct(&mut c, 0.5),
            pct(&mut f, 0.5)
        );
    }

    if let Some(path) = std::env::args().skip_while(|a| a != "--points").nth(1) {
        let mut bytes = Vec::with_capacity(n * 16);
        for i in 0..n as u32 {
            let p = ix.entry(i).location;
            bytes.extend_from_slice(&p.lon().to_le_bytes());
            bytes.extend_from_slice(&p.lat().to_le_bytes());
        }
        std::fs::write(&path, bytes).expect("points file");
        let tiles: Vec<[u32; 3]> = sampled.iter().map(|t| [u32::from(t.z), t.x, t.y]).collect();
        std::fs::write(
            format!("{path}.tiles.json"),
            serde_json::to_string(&tiles).expect("json"),
        )
        .expect("tiles file");
        println!(
            "\nwrote {n} points to {path} and {} tiles to {path}.tiles.json",
            tiles.len()
        );
    }
}

/// Actors generated like the demonstration set, opening hours included.
fn rows_with_hours(
    catalog: &ancrage::domain::Catalog,
    territories: &ancrage::index::territories::Territories,
    n: usize,
) -> ActorRows {
    let mut rows = ActorRows::with_capacity(n);
    for (i, a) in ancrage::seed::demo::generate(catalog, territories, n, 1)
        .into_iter()
        .enumerate()
    {
        let facts = ancrage::index::actors::ActorFacts {
            id: ancrage::domain::ActorId(i as i64 + 1),
            categories: catalog.parse_assigned("c", &a.categories).expect("known"),
            family: a.family,
            kinds: a.kinds,
            commune: CommuneCode::new(a.commune.as_str()).expect("five characters"),
            location: a.location,
            precision: a.precision,
            demo: a.demo,
        };
        rows.push_with_hours(facts, &a.name, a.opening_hours.as_deref());
    }
    rows
}

/// Number of features of an encoded tile.
fn count_features(tile: &[u8]) -> usize {
    use geozero::mvt::{Message, Tile};
    Tile::decode(tile).map_or(0, |t| t.layers.iter().map(|l| l.features.len()).sum())
}

/// Counts of a view as the facets endpoint computed them before the quadtree: every actor of
/// the view visited once per facet.
fn former_facets(snap: &ancrage::index::Snapshot, b: &Bbox, f: &ActorFilter) -> usize {
    let ix = &snap.actors;
    let all = ix.in_bbox(b, f, &snap.territories);
    let mut by_set: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let no_category = ActorFilter {
        categories: None,
        ..f.clone()
    };
    for i in ix.in_bbox(b, &no_category, &snap.territories) {
        *by_set.entry(ix.entry(i).categories.0).or_default() += 1;
    }
    let mut total = 0;
    for pos in 0..snap.catalog.defs().len() {
        let tree = snap.catalog.subtree(pos);
        total += by_set
            .iter()
            .filter(|(set, _)| tree.intersects(CategorySet(**set)))
            .map(|(_, n)| n)
            .sum::<usize>();
    }
    let no_family = ActorFilter {
        families: None,
        ..f.clone()
    };
    total += ix.in_bbox(b, &no_family, &snap.territories).len();
    let no_kind = ActorFilter {
        kinds: KindSet::default(),
        ..f.clone()
    };
    total += ix.in_bbox(b, &no_kind, &snap.territories).len();
    all.len() + total
}
