//! Index benchmarks on 1 000 000 actors generated like the demonstration set (communes drawn in
//! proportion to population), query centres drawn in proportion to population too.
//!
//! Run with `cargo bench --bench index` (add `-- --actors 200000` for a quicker run). Prints,
//! per query type, the median, p99 and mean latency of single-threaded in-process queries and
//! the mean number of results, plus index build time and memory.
#![allow(clippy::print_stdout)] // A report bench prints its table.

use ancrage::domain::category::builtin_catalog;
use ancrage::domain::{Bbox, LonLat, Radius, TerritoryKind};
use ancrage::index::actors::{ActorFilter, ActorIndex, ActorRow};
use ancrage::index::pip::PolygonIndex;
use ancrage::index::territories::Territories;
use ancrage::seed::demo::{self, PopulationSampler, Rng};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

struct Stats {
    name: String,
    samples: Vec<Duration>,
    results: usize,
}

impl Stats {
    fn print(mut self) {
        self.samples.sort();
        let n = self.samples.len();
        let pct = |p: f64| self.samples[((n as f64 * p) as usize).min(n - 1)];
        let mean = self.samples.iter().sum::<Duration>() / n as u32;
        println!(
            "| {:<46} | {:>10.1?} | {:>10.1?} | {:>10.1?} | {:>9.0} |",
            self.name,
            pct(0.5),
            pct(0.99),
            mean,
            self.results as f64 / n as f64
        );
    }
}

fn measure(name: &str, n: usize, mut f: impl FnMut(usize) -> usize) -> Stats {
    for i in 0..n.min(200) {
        black_box(f(i));
    }
    let mut samples = Vec::with_capacity(n);
    let mut results = 0;
    for i in 0..n {
        let t = Instant::now();
        let r = black_box(f(i));
        samples.push(t.elapsed());
        results += r;
    }
    Stats {
        name: name.into(),
        samples,
        results,
    }
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

fn main() {
    let actors: usize = std::env::args()
        .skip_while(|a| a != "--actors")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let catalog = builtin_catalog().expect("taxonomy");
    let territories = Territories::new(ancrage::seed::territories::embedded().expect("seed"))
        .expect("territories");
    let t = Instant::now();
    let rows: Vec<ActorRow> = demo::generate(&catalog, &territories, actors, 1)
        .into_iter()
        .enumerate()
        .map(|(i, a)| ActorRow {
            id: ancrage::domain::ActorId(i as i64 + 1),
            categories: catalog.parse_assigned("c", &a.categories).expect("known"),
            name: a.name,
            family: a.family,
            kinds: a.kinds,
            commune: a.commune.to_string(),
            location: a.location,
            precision: a.precision,
            demo: a.demo,
        })
        .collect();
    eprintln!("generated {} actors in {:.1?}", rows.len(), t.elapsed());
    let before = rss_mib();
    let t = Instant::now();
    let index = ActorIndex::build(rows, &territories, &catalog);
    let build = t.elapsed();
    let after = rss_mib();
    println!("\n## Index on {} actors\n", index.len());
    println!("- build (sort, R-trees, per-category trees, membership): {build:.2?}");
    println!(
        "- resident memory of the index: {:.0} MiB (process {after:.0} MiB)\n",
        after - before
    );

    let sampler = PopulationSampler::new(&territories);
    let mut rng = Rng::new(42);
    let n = 20_000;
    let centres: Vec<LonLat> = (0..n)
        .map(|_| {
            let c = sampler.draw(&mut rng).expect("commune");
            sampler.point_in(&territories, c, &mut rng).expect("point")
        })
        .collect();
    let rural: Vec<LonLat> = {
        let small: Vec<_> = territories
            .all()
            .iter()
            .filter(|t| {
                t.kind == TerritoryKind::Commune
                    && t.record.population < 1_000
                    && t.record.geometry.is_some()
            })
            .filter_map(ancrage::index::territories::Territory::point)
            .collect();
        (0..n).map(|_| small[rng.below(small.len())]).collect()
    };
    let none = ActorFilter::default();
    let food = ActorFilter {
        categories: Some(catalog.parse_filter("c", "alimentation").expect("known")),
        ..ActorFilter::default()
    };
    let t = &territories;
    println!("| query | median | p99 | mean | results |");
    println!("|---|---:|---:|---:|---:|");
    for (label, r) in [
        ("radius 1 km (population-weighted centres)", 1_000.0),
        ("radius 5 km", 5_000.0),
    ] {
        let radius = Radius::parse("r", r).expect("r");
        measure(label, n, |i| {
            index.within_radius(centres[i], radius, &none, t).len()
        })
        .print();
        measure(&format!("{label} + category alimentation"), n, |i| {
            index.within_radius(centres[i], radius, &food, t).len()
        })
        .print();
    }
    let r50 = Radius::parse("r", 50_000.0).expect("r");
    measure("radius 50 km, rural centres", n / 10, |i| {
        index.within_radius(rural[i], r50, &none, t).len()
    })
    .print();
    measure("radius 50 km, rural + category alimentation", n / 10, |i| {
        index.within_radius(rural[i], r50, &food, t).len()
    })
    .print();
    // The radius that returns about 100 actors at each centre (the issue's reference query).
    let radius100: Vec<Radius> = centres
        .iter()
        .map(|&c| {
            let h = index.nearest(c, 100, None, &none, t);
            Radius::parse(
                "r",
                h.last().and_then(|h| h.distance_m).unwrap_or(1.0).max(1.0),
            )
            .expect("r")
        })
        .collect();
    measure("radius returning ~100 actors", n, |i| {
        index
            .within_radius(centres[i], radius100[i], &none, t)
            .len()
    })
    .print();
    measure("k = 20 nearest", n, |i| {
        index.nearest(centres[i], 20, None, &none, t).len()
    })
    .print();
    measure("k = 20 nearest + category alimentation", n, |i| {
        index.nearest(centres[i], 20, None, &food, t).len()
    })
    .print();
    // MapLibre zoom 13 on a 1280 x 800 viewport: 512-px tiles, 78 271.5 m/px at zoom 0 on the equator.
    let viewports: Vec<Bbox> = centres
        .iter()
        .map(|c| {
            let m_per_px = 78_271.517 * c.lat().to_radians().cos() / 8192.0;
            let half_w = 640.0 * m_per_px / (111_320.0 * c.lat().to_radians().cos());
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
    measure("viewport zoom 13 (count + first 500 by id)", n, |i| {
        let all = index.in_bbox(&viewports[i], &none, t);
        black_box(&all[..all.len().min(500)]);
        all.len()
    })
    .print();
    let polygons: Vec<(PolygonIndex, MultiPolygon<f64>)> = centres
        .iter()
        .take(200)
        .map(|&c| {
            let mp = star_polygon(c, 0.05, 2_000, &mut rng);
            (PolygonIndex::new(&mp), mp)
        })
        .collect();
    measure(
        "polygon of 2 000 vertices (~5 km radius), prepared",
        polygons.len(),
        |i| index.in_polygon(&polygons[i].0, &none, t).len(),
    )
    .print();
    measure(
        "polygon of 2 000 vertices, preparation included",
        polygons.len(),
        |i| {
            let p = PolygonIndex::new(&polygons[i].1);
            index.in_polygon(&p, &none, t).len()
        },
    )
    .print();
    for kind in [
        TerritoryKind::Commune,
        TerritoryKind::Epci,
        TerritoryKind::Departement,
        TerritoryKind::Region,
    ] {
        let ids: Vec<u32> = (0..t.len() as u32)
            .filter(|&i| t.get(i).is_some_and(|x| x.kind == kind))
            .collect();
        let m = 2_000.min(ids.len() * 20);
        measure(
            &format!("actors of a {kind} + category alimentation"),
            m,
            |i| index.in_territory(ids[i % ids.len()], &food, t).len(),
        )
        .print();
    }
}
