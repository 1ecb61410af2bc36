//! Why actors live in a packed R-tree and not in `rstar`: the same million points (the
//! demonstration set, in the index's Hilbert order), bulk-loaded into `rstar::RTree` and into
//! [`PackedTree`], then queried with the boxes of the "radius holding ~100 actors" benchmark,
//! without and with a category filter (`rstar` filters each candidate; the packed tree also
//! prunes subtrees with its per-node category unions). `cargo bench --bench trees`.

mod common;

use ancrage::domain::geodesy::EARTH_RADIUS_M;
use ancrage::index::packed::{ItemKey, KeyFilter, PackedTree};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};
use std::hint::black_box;

type Point = GeomWithData<[f32; 2], u64>;

/// `rstar` with nodes as wide as the packed tree's (its default holds at most 6 children).
struct Wide;

impl rstar::RTreeParams for Wide {
    const MIN_SIZE: usize = 8;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 4;
    type DefaultInsertionStrategy = rstar::RStarInsertionStrategy;
}

fn trees(c: &mut Criterion) {
    let d = common::dataset(common::actor_count(), 10_000);
    let ix = &d.index;
    let items: Vec<([f32; 2], ItemKey)> = (0..ix.len() as u32)
        .map(|i| {
            let e = ix.entry(i);
            (
                [e.location.lon() as f32, e.location.lat() as f32],
                ItemKey {
                    categories: e.categories.0,
                    attrs: 0,
                },
            )
        })
        .collect();
    let points: Vec<Point> = items
        .iter()
        .map(|(xy, k)| GeomWithData::new(*xy, k.categories))
        .collect();
    let boxes: Vec<[f32; 4]> = d
        .centres
        .iter()
        .zip(&d.radius100)
        .map(|(c, r)| {
            let dlat = (r.metres() / EARTH_RADIUS_M).to_degrees();
            let dlon = dlat / c.lat().to_radians().cos();
            [
                (c.lon() - dlon) as f32,
                (c.lat() - dlat) as f32,
                (c.lon() + dlon) as f32,
                (c.lat() + dlat) as f32,
            ]
        })
        .collect();
    let food = d.food.categories.map_or(0, |s| s.0);

    let mut g = c.benchmark_group("actor_tree");
    g.sample_size(10);
    g.bench_function("build_rstar_bulk_load", |b| {
        b.iter_batched(
            || points.clone(),
            |p| black_box(RTree::bulk_load(p).size()),
            BatchSize::LargeInput,
        );
    });
    g.bench_function("build_rstar_wide_bulk_load", |b| {
        b.iter_batched(
            || points.clone(),
            |p| black_box(RTree::<Point, Wide>::bulk_load_with_params(p).size()),
            BatchSize::LargeInput,
        );
    });
    g.bench_function("build_packed", |b| {
        b.iter(|| black_box(PackedTree::build(items.iter().copied()).len()));
    });
    g.sample_size(100);
    let rtree = RTree::bulk_load(points.clone());
    let wide = RTree::<Point, Wide>::bulk_load_with_params(points.clone());
    let packed = PackedTree::build(items.iter().copied());
    let mut i = 0;
    g.bench_function("box_query_rstar_wide", |b| {
        b.iter(|| {
            i = (i + 1) % boxes.len();
            let q = boxes[i];
            let env = AABB::from_corners([q[0], q[1]], [q[2], q[3]]);
            black_box(wide.locate_in_envelope(&env).count())
        });
    });
    g.bench_function("box_query_rstar", |b| {
        b.iter(|| {
            i = (i + 1) % boxes.len();
            let q = boxes[i];
            let env = AABB::from_corners([q[0], q[1]], [q[2], q[3]]);
            black_box(rtree.locate_in_envelope(&env).count())
        });
    });
    g.bench_function("box_query_packed", |b| {
        b.iter(|| {
            i = (i + 1) % boxes.len();
            let mut n = 0;
            packed.visit(&boxes[i], &KeyFilter::ANY, &mut |_| n += 1);
            black_box(n)
        });
    });
    g.bench_function("box_query_category_rstar", |b| {
        b.iter(|| {
            i = (i + 1) % boxes.len();
            let q = boxes[i];
            let env = AABB::from_corners([q[0], q[1]], [q[2], q[3]]);
            black_box(
                rtree
                    .locate_in_envelope(&env)
                    .filter(|p| p.data & food != 0)
                    .count(),
            )
        });
    });
    let only_food = KeyFilter {
        any_category: Some(food),
        any_family: None,
        all_attrs: 0,
    };
    g.bench_function("box_query_category_packed", |b| {
        b.iter(|| {
            i = (i + 1) % boxes.len();
            let mut n = 0;
            packed.visit(&boxes[i], &only_food, &mut |_| n += 1);
            black_box(n)
        });
    });
    g.finish();
}

criterion_group!(benches, trees);
criterion_main!(benches);
