//! The benchmark data set: actors generated like the demonstration set (communes drawn in
//! proportion to population) over the real reference territories, and query inputs drawn
//! the same way.

#![allow(dead_code)] // Each bench uses part of the data set.

use ancrage::domain::category::builtin_catalog;
use ancrage::domain::{ActorId, Bbox, Catalog, LonLat, Radius, TerritoryKind};
use ancrage::index::actors::{ActorFilter, ActorIndex, ActorRow, ActorRows, CommuneCode};
use ancrage::index::pip::PolygonIndex;
use ancrage::index::territories::{Territories, Territory};
use ancrage::seed::demo::{self, PopulationSampler, Rng};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use std::time::{Duration, Instant};

/// Everything a benchmark needs.
pub struct Dataset {
    pub catalog: Catalog,
    pub territories: Territories,
    pub index: ActorIndex,
    pub build_time: Duration,
    /// Time to escape and fold the names (done while reading the store).
    pub rows_time: Duration,
    pub index_mib: f64,
    /// Centres drawn in proportion to population.
    pub centres: Vec<LonLat>,
    /// Centres of communes of fewer than 1 000 inhabitants.
    pub rural: Vec<LonLat>,
    /// For each centre, the radius that holds its 100 nearest actors.
    pub radius100: Vec<Radius>,
    /// MapLibre zoom-13 viewports (1280 x 800 px) around the centres.
    pub viewports: Vec<Bbox>,
    /// 2 000-vertex star polygons of about 5 km radius around the first centres.
    pub polygons: Vec<(PolygonIndex, MultiPolygon<f64>)>,
    pub food: ActorFilter,
}

/// `actors` demonstration actors, generated like the demo set, as index rows.
pub fn demo_rows(catalog: &Catalog, territories: &Territories, actors: usize) -> Vec<ActorRow> {
    demo::generate(catalog, territories, actors, 1)
        .into_iter()
        .enumerate()
        .map(|(i, a)| ActorRow {
            id: ActorId(i as i64 + 1),
            categories: catalog.parse_assigned("c", &a.categories).expect("known"),
            name: a.name,
            family: a.family,
            kinds: a.kinds,
            commune: CommuneCode::new(a.commune.as_str()).expect("five characters"),
            location: a.location,
            precision: a.precision,
            demo: a.demo,
        })
        .collect()
}

/// Resident memory of the process, MiB.
pub fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Number of actors: `--actors N` on the command line or `ANCRAGE_BENCH_ACTORS`, else 1 000 000.
pub fn actor_count() -> usize {
    std::env::args()
        .skip_while(|a| a != "--actors")
        .nth(1)
        .or_else(|| std::env::var("ANCRAGE_BENCH_ACTORS").ok())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000)
}

fn star_polygon(c: LonLat, radius_deg: f64, vertices: usize, rng: &mut Rng) -> MultiPolygon<f64> {
    let mut ring: Vec<Coord<f64>> = (0..vertices)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / vertices as f64;
            let r = radius_deg * (0.6 + 0.4 * rng.unit());
            Coord {
                x: c.lon() + r * a.cos() / c.lat().to_radians().cos(),
                y: c.lat() + r * a.sin(),
            }
        })
        .collect();
    ring.push(ring[0]);
    MultiPolygon(vec![Polygon::new(LineString(ring), vec![])])
}

/// Builds the data set with `actors` actors and `queries` query inputs of each kind.
pub fn dataset(actors: usize, queries: usize) -> Dataset {
    let catalog = builtin_catalog().expect("taxonomy");
    let territories = Territories::new(ancrage::seed::territories::embedded().expect("seed"))
        .expect("territories");
    let rows = demo_rows(&catalog, &territories, actors);

    // The store prepares these arenas while it reads, in parallel with SQLite.
    let t = Instant::now();
    let rows = ActorRows::from(rows);
    let rows_time = t.elapsed();
    let t = Instant::now();
    let index = ActorIndex::build(rows, &territories, &catalog);
    let build_time = t.elapsed();
    let index_mib = index.heap_bytes() as f64 / (1024.0 * 1024.0);

    let sampler = PopulationSampler::new(&territories);
    let mut rng = Rng::new(42);
    let centres: Vec<LonLat> = (0..queries)
        .map(|_| {
            let c = sampler.draw(&mut rng).expect("commune");
            sampler.point_in(&territories, c, &mut rng).expect("point")
        })
        .collect();
    let small: Vec<LonLat> = territories
        .all()
        .iter()
        .filter(|t| {
            t.kind == TerritoryKind::Commune
                && t.record.population < 1_000
                && t.record.geometry.is_some()
        })
        .filter_map(Territory::point)
        .collect();
    let rural = (0..queries)
        .map(|_| small[rng.below(small.len())])
        .collect();
    let none = ActorFilter::default();
    let radius100 = centres
        .iter()
        .map(|&c| {
            let h = index.nearest(c, 100, None, &none, &territories);
            Radius::parse(
                "r",
                h.last().and_then(|h| h.distance_m).unwrap_or(1.0).max(1.0),
            )
            .expect("r")
        })
        .collect();
    // MapLibre zoom 13: 512-px tiles, 78 271.5 m per pixel at zoom 0 on the equator.
    let viewports = centres
        .iter()
        .map(|c| {
            let cos = c.lat().to_radians().cos();
            let m_per_px = 78_271.517 * cos / 8192.0;
            let half_w = 640.0 * m_per_px / (111_320.0 * cos);
            let half_h = 400.0 * m_per_px / 110_574.0;
            Bbox::new(
                "b",
                c.lon() - half_w,
                c.lat() - half_h,
                c.lon() + half_w,
                c.lat() + half_h,
            )
            .expect("bbox")
        })
        .collect();
    let polygons = centres
        .iter()
        .take(200)
        .map(|&c| {
            let mp = star_polygon(c, 0.05, 2_000, &mut rng);
            (PolygonIndex::new(&mp), mp)
        })
        .collect();
    let food = ActorFilter {
        categories: Some(catalog.parse_filter("c", "alimentation").expect("known")),
        ..ActorFilter::default()
    };
    Dataset {
        catalog,
        territories,
        index,
        build_time,
        rows_time,
        index_mib,
        centres,
        rural,
        radius100,
        viewports,
        polygons,
        food,
    }
}
