//! Criterion benchmarks of the main index queries on 1 000 000 actors (`ANCRAGE_BENCH_ACTORS`
//! to change): `cargo bench --bench queries`.

mod common;

use ancrage::index::actors::ActorFilter;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn queries(c: &mut Criterion) {
    let d = common::dataset(common::actor_count(), 10_000);
    let (ix, t) = (&d.index, &d.territories);
    let none = ActorFilter::default();
    let n = d.centres.len();
    let mut g = c.benchmark_group("index");
    let mut i = 0;
    g.bench_function("radius_100_actors", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(
                ix.within_radius(d.centres[i], d.radius100[i], &none, t)
                    .len(),
            )
        });
    });
    g.bench_function("radius_100_actors_category", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(
                ix.within_radius(d.centres[i], d.radius100[i], &d.food, t)
                    .len(),
            )
        });
    });
    g.bench_function("nearest_20", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(ix.nearest(d.centres[i], 20, None, &none, t).len())
        });
    });
    g.bench_function("viewport_zoom_13", |b| {
        b.iter(|| {
            i = (i + 1) % n;
            black_box(ix.in_bbox(&d.viewports[i], &none, t).len())
        });
    });
    g.sample_size(20);
    g.bench_function("polygon_2000_vertices", |b| {
        b.iter(|| {
            i = (i + 1) % d.polygons.len();
            black_box(ix.in_polygon(&d.polygons[i].0, &none, t).len())
        });
    });
    g.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
