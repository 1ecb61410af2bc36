//! Coverage report timings on 1 000 000 actors generated like the demonstration set
//! (`cargo bench --bench coverage`, or `-- --actors 200000`): each line is one territory and
//! one category filter computed cold (first time on this snapshot: nothing memoised for that
//! filter) and then again from the memo, serialisation to JSON included.
#![allow(clippy::print_stdout)] // A report bench prints its table.

mod common;

use ancrage::coverage::{self, CoverageFilter, Scope};
use ancrage::domain::TerritoryKind;
use ancrage::index::SnapshotHandle;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let catalog = Arc::new(ancrage::domain::category::builtin_catalog().expect("taxonomy"));
    let territories = Arc::new(
        ancrage::index::territories::Territories::new(
            ancrage::seed::territories::embedded().expect("seed"),
        )
        .expect("territories"),
    );
    let rows = common::demo_rows(&catalog, &territories, common::actor_count());
    let handle = SnapshotHandle::new(Arc::clone(&catalog), Arc::clone(&territories), rows.into());
    let snap = handle.load();
    println!("\n## Coverage on {} actors\n", snap.actors.len());
    println!("| territory | filter | cold | cached (median of 20) | communes | zones blanches |");
    println!("|---|---|---:|---:|---:|---:|");
    let place = |kind, code| Scope::Territory(territories.find(kind, code).expect("territory"));
    let cases = [
        (
            "département 44",
            place(TerritoryKind::Departement, "44"),
            Some("alimentation"),
        ),
        (
            "département 23",
            place(TerritoryKind::Departement, "23"),
            Some("reemploi"),
        ),
        (
            "EPCI Nantes Métropole",
            place(TerritoryKind::Epci, "244400404"),
            Some("mobilite"),
        ),
        (
            "région 52",
            place(TerritoryKind::Region, "52"),
            Some("numerique"),
        ),
        ("France", Scope::France, Some("tiers-lieux")),
        ("France", Scope::France, Some("finance-solidaire")),
        (
            "département 69",
            place(TerritoryKind::Departement, "69"),
            None,
        ),
        ("France", Scope::France, None),
    ];
    for (label, scope, category) in cases {
        let filter = CoverageFilter {
            categories: category.map(|c| catalog.parse_filter("category", c).expect("known").0),
            ..CoverageFilter::default()
        };
        let t = Instant::now();
        let r = coverage::report(&snap, scope, &filter, 10_000.0);
        black_box(serde_json::to_vec(&*r).expect("json").len());
        let cold = t.elapsed();
        let mut cached: Vec<Duration> = (0..20)
            .map(|_| {
                let t = Instant::now();
                let r = coverage::report(&snap, scope, &filter, 10_000.0);
                black_box(serde_json::to_vec(&*r).expect("json").len());
                t.elapsed()
            })
            .collect();
        cached.sort();
        println!(
            "| {label} | {} | {:.1?} | {:.2?} | {} | {} |",
            category.unwrap_or("all (13 top-level categories)"),
            cold,
            cached[10],
            r.figures.communes,
            r.zones_blanches.len()
        );
    }
}
