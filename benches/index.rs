//! Index report on 1 000 000 actors generated like the demonstration set: per query type, the
//! median, p99 and mean latency of single-threaded in-process queries and the mean number of
//! results, plus index build time and memory.
//!
//! `cargo bench --bench index` (or `-- --actors 200000` for a quicker run). Statistical
//! comparisons of the main queries are in `cargo bench --bench queries` (criterion).
#![allow(clippy::print_stdout)] // A report bench prints its table.

mod common;

use ancrage::domain::{Radius, TerritoryKind};
use ancrage::index::actors::ActorFilter;
use ancrage::index::pip::PolygonIndex;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn measure(name: &str, n: usize, mut f: impl FnMut(usize) -> usize) {
    for i in 0..n.min(200) {
        black_box(f(i));
    }
    let mut samples = Vec::with_capacity(n);
    let mut results = 0;
    for i in 0..n {
        let t = Instant::now();
        results += black_box(f(i));
        samples.push(t.elapsed());
    }
    samples.sort();
    let pct = |p: f64| samples[((n as f64 * p) as usize).min(n - 1)];
    let mean = samples.iter().sum::<Duration>() / n as u32;
    println!(
        "| {name:<52} | {:>9.1?} | {:>9.1?} | {:>9.1?} | {:>8.0} |",
        pct(0.5),
        pct(0.99),
        mean,
        results as f64 / n as f64
    );
}

fn main() {
    let n = 20_000;
    let d = common::dataset(common::actor_count(), n);
    let (ix, t) = (&d.index, &d.territories);
    println!("\n## Index on {} actors\n", ix.len());
    println!(
        "- build (Hilbert order, names, packed R-tree, territory membership): {:.2?}",
        d.build_time
    );
    println!(
        "- name arenas (escaped and folded while the store is read): {:.2?}",
        d.rows_time
    );
    println!(
        "- heap held by the index: {:.0} MiB (whole bench process {:.0} MiB)\n",
        d.index_mib,
        common::rss_mib()
    );
    println!("| query | median | p99 | mean | results |");
    println!("|---|---:|---:|---:|---:|");
    let none = ActorFilter::default();
    measure("radius holding ~100 actors", n, |i| {
        ix.within_radius(d.centres[i], d.radius100[i], &none, t)
            .len()
    });
    for (label, r) in [
        ("radius 1 km, city centres", 1_000.0),
        ("radius 5 km, city centres", 5_000.0),
    ] {
        let radius = Radius::parse("r", r).expect("r");
        measure(label, n, |i| {
            ix.within_radius(d.centres[i], radius, &none, t).len()
        });
        measure(&format!("{label}, category alimentation"), n, |i| {
            ix.within_radius(d.centres[i], radius, &d.food, t).len()
        });
    }
    let r50 = Radius::parse("r", 50_000.0).expect("r");
    measure("radius 50 km, rural centres", n / 10, |i| {
        ix.within_radius(d.rural[i], r50, &none, t).len()
    });
    measure("radius 50 km, rural, category alimentation", n / 10, |i| {
        ix.within_radius(d.rural[i], r50, &d.food, t).len()
    });
    measure("k = 20 nearest", n, |i| {
        ix.nearest(d.centres[i], 20, None, &none, t).len()
    });
    measure("k = 20 nearest, category alimentation", n, |i| {
        ix.nearest(d.centres[i], 20, None, &d.food, t).len()
    });
    measure("viewport zoom 13 (count + first 500 by id)", n, |i| {
        let all = ix.in_bbox(&d.viewports[i], &none, t);
        black_box(&all[..all.len().min(500)]);
        all.len()
    });
    measure(
        "polygon, 2 000 vertices, ~5 km, prepared",
        d.polygons.len(),
        |i| ix.in_polygon(&d.polygons[i].0, &none, t).len(),
    );
    measure(
        "polygon, 2 000 vertices, preparation included",
        d.polygons.len(),
        |i| {
            ix.in_polygon(&PolygonIndex::new(&d.polygons[i].1), &none, t)
                .len()
        },
    );
    for kind in [
        TerritoryKind::Commune,
        TerritoryKind::Epci,
        TerritoryKind::Departement,
        TerritoryKind::Region,
    ] {
        let ids: Vec<u32> = (0..t.len() as u32)
            .filter(|&i| t.get(i).is_some_and(|x| x.kind == kind))
            .collect();
        measure(
            &format!("actors of a {kind}, category alimentation"),
            2_000,
            |i| {
                ix.in_territory(ids[(i * 7919) % ids.len()], &d.food, t)
                    .len()
            },
        );
    }
}
