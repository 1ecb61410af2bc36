//! Coverage figures on a hand-made territory fixture, checked against values worked out by
//! hand below, and a property test that child figures add up to their parent's.

use ancrage::coverage::{self, CoverageFilter, Report, Scope};
use ancrage::domain::category::builtin_catalog;
use ancrage::domain::territory::TerritoryRecord;
use ancrage::domain::{
    ActorId, Catalog, Family, FamilySet, GeocodePrecision, KindSet, LonLat, TerritoryKind,
};
use ancrage::index::SnapshotHandle;
use ancrage::index::actors::{ActorRow, CommuneCode};
use ancrage::index::territories::Territories;
use ancrage::seed::demo::Rng;
use geo::{Coord, LineString, MultiPolygon, Polygon};
use std::sync::Arc;

/// Four communes of 0.1° squares in two départements of one région:
///
/// | commune | EPCI      | population | representative point |
/// |---------|-----------|-----------:|----------------------|
/// | 44001   | 244400404 | 10 000     | (-1.55, 47.25)       |
/// | 44002   | 244400404 | 2 000      | (-1.45, 47.25)       |
/// | 49001   | 244900015 | 5 000      | (-0.55, 47.45)       |
/// | 49002   | none      | 500        | (-0.45, 47.45)       |
/// Code, EPCI, département, population, west and south edges of the square.
type CommuneFixture = (
    &'static str,
    Option<&'static str>,
    &'static str,
    u64,
    f64,
    f64,
);

const COMMUNES: [CommuneFixture; 4] = [
    ("44001", Some("244400404"), "44", 10_000, -1.6, 47.2),
    ("44002", Some("244400404"), "44", 2_000, -1.5, 47.2),
    ("49001", Some("244900015"), "49", 5_000, -0.6, 47.4),
    ("49002", None, "49", 500, -0.5, 47.4),
];

fn territories() -> Territories {
    let rec = |kind,
               code: &str,
               epci: Option<&str>,
               dep: Option<&str>,
               population,
               sw: Option<(f64, f64)>| {
        TerritoryRecord {
            kind,
            code: code.into(),
            name: format!("T{code}"),
            population,
            population_published: None,
            postcodes: vec![],
            commune_count: 0,
            epci: epci.map(Into::into),
            departement: dep.map(Into::into),
            departements: vec![],
            region: Some("52".into()),
            area_m2: sw.map(|_| 1e8),
            point: sw.map(|(w, s)| [w + 0.05, s + 0.05]),
            point_origin: sw.map(|_| "test".into()),
            geometry_origin: None,
            geometry: sw.map(|(w, s)| {
                MultiPolygon(vec![Polygon::new(
                    LineString(vec![
                        Coord { x: w, y: s },
                        Coord { x: w + 0.1, y: s },
                        Coord {
                            x: w + 0.1,
                            y: s + 0.1,
                        },
                        Coord { x: w, y: s + 0.1 },
                        Coord { x: w, y: s },
                    ]),
                    vec![],
                )])
            }),
        }
    };
    use TerritoryKind::*;
    let mut records = vec![
        rec(Region, "52", None, None, 0, None),
        rec(Departement, "44", None, Some("44"), 0, None),
        rec(Departement, "49", None, Some("49"), 0, None),
        rec(Epci, "244400404", None, Some("44"), 0, None),
        rec(Epci, "244900015", None, Some("49"), 0, None),
    ];
    for (code, epci, dep, pop, w, s) in COMMUNES {
        records.push(rec(Commune, code, epci, Some(dep), pop, Some((w, s))));
    }
    Territories::new(records).expect("consistent fixture")
}

fn actor(
    id: i64,
    category: &str,
    family: Family,
    commune: &str,
    (lon, lat): (f64, f64),
    demo: bool,
    catalog: &Catalog,
) -> ActorRow {
    ActorRow {
        id: ActorId(id),
        name: format!("Acteur {id}"),
        categories: catalog.parse_assigned("c", &[category]).expect("known"),
        family,
        kinds: KindSet::default(),
        commune: CommuneCode::new(commune).expect("code"),
        location: LonLat::new(lon, lat).expect("in range"),
        precision: GeocodePrecision::Address,
        demo,
    }
}

/// A1 and A2 in 44001, A3 (demonstration data) in 49001.
fn base_rows(catalog: &Catalog) -> Vec<ActorRow> {
    vec![
        actor(
            1,
            "epicerie-solidaire",
            Family::Association,
            "44001",
            (-1.55, 47.25),
            false,
            catalog,
        ),
        actor(
            2,
            "ressourcerie",
            Family::Cooperative,
            "44001",
            (-1.56, 47.26),
            false,
            catalog,
        ),
        actor(
            3,
            "epicerie-solidaire",
            Family::Association,
            "49001",
            (-0.55, 47.45),
            true,
            catalog,
        ),
    ]
}

/// The fixture territories with [`base_rows`].
fn fixture() -> (Arc<Catalog>, SnapshotHandle) {
    let catalog = Arc::new(builtin_catalog().expect("taxonomy"));
    let rows = base_rows(&catalog);
    let handle = SnapshotHandle::new(Arc::clone(&catalog), Arc::new(territories()), rows.into());
    (catalog, handle)
}

/// Great-circle distance worked out independently of the index (haversine, mean radius).
fn by_hand_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (l1, p1, l2, p2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((p2 - p1) / 2.0).sin().powi(2) + p1.cos() * p2.cos() * ((l2 - l1) / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

fn scope(h: &SnapshotHandle, kind: TerritoryKind, code: &str) -> Scope {
    Scope::Territory(
        h.load()
            .territories
            .find(kind, code)
            .expect("fixture territory"),
    )
}

fn close(a: Option<f64>, b: f64) {
    let a = a.expect("a value");
    assert!((a - b).abs() < 1e-6 * b.abs().max(1.0), "{a} != {b}");
}

#[test]
fn departement_figures_match_the_hand_computed_ones() {
    let (_, h) = fixture();
    let snap = h.load();
    let r = coverage::report(
        &snap,
        scope(&h, TerritoryKind::Departement, "44"),
        &CoverageFilter::default(),
        5_000.0,
    );
    let f = &r.figures;
    assert_eq!((f.population, f.communes, f.actors), (12_000, 2, 2));
    close(f.actors_per_10000, 2.0 * 10_000.0 / 12_000.0);
    assert_eq!((f.communes_covered, f.population_covered), (1, 10_000));
    close(f.communes_covered_share, 0.5);
    close(f.population_covered_share, 10_000.0 / 12_000.0);
    close(Some(f.area_m2), 2e8);

    // Access: 44001's point is A1 itself (0 m); 44002's nearest is A1, 0.1° of longitude west.
    let d44002 = by_hand_m((-1.45, 47.25), (-1.55, 47.25));
    assert!((7_000.0..8_000.0).contains(&d44002));
    let any = &r.access[0];
    assert_eq!(any.category, None);
    let shares: Vec<f64> = any.within.iter().map(|w| w.share.expect("share")).collect();
    let p = 10_000.0 / 12_000.0;
    for (got, want) in shares.iter().zip([p, p, 1.0, 1.0]) {
        assert!((got - want).abs() < 1e-12, "{shares:?}");
    }
    close(any.median_nearest_m.or(Some(0.0)), 0.0);
    // Per top-level category: food (A1 and A3) and re-use (A2, 44001 only).
    let food = r
        .access
        .iter()
        .find(|a| a.category.as_deref() == Some("alimentation"))
        .expect("food");
    close(food.within[2].share, 1.0);
    let reuse = r
        .access
        .iter()
        .find(|a| a.category.as_deref() == Some("reemploi"))
        .expect("reuse");
    let d_reuse = by_hand_m((-1.45, 47.25), (-1.56, 47.26));
    assert!(d_reuse > d44002);
    close(reuse.within[2].share, 1.0);
    close(reuse.within[1].share, p);
    let mobility = r
        .access
        .iter()
        .find(|a| a.category.as_deref() == Some("mobilite"))
        .expect("mobility");
    assert_eq!(
        mobility.within[3].population, 0,
        "no mobility actor anywhere"
    );
    assert_eq!(mobility.median_nearest_m, None);

    // Zones blanches at 5 km: 44002 only, with its distance.
    assert_eq!(r.zones_blanches.len(), 1);
    assert_eq!(r.zones_blanches[0].code, "44002");
    close(r.zones_blanches[0].nearest_m, d44002);

    // By category and family.
    let count = |slug: &str| {
        r.by_category
            .iter()
            .find(|c| c.slug == slug)
            .map(|c| c.actors)
    };
    assert_eq!(count("alimentation"), Some(1));
    assert_eq!(count("epicerie-solidaire"), Some(1));
    assert_eq!(count("reemploi"), Some(1));
    assert_eq!(count("mobilite"), Some(0));
    let fam = |slug: &str| {
        r.by_family
            .iter()
            .find(|c| c.slug == slug)
            .map(|c| c.actors)
    };
    assert_eq!(
        (fam("association"), fam("cooperative"), fam("mutuelle")),
        (Some(1), Some(1), Some(0))
    );

    // Parents: the région (4 communes, 17 500 inhabitants, 3 actors in 2 communes), France.
    let kinds: Vec<&str> = r.parents.iter().map(|p| p.territory.kind).collect();
    assert_eq!(kinds, ["region", "france"]);
    let reg = &r.parents[0].figures;
    assert_eq!(
        (
            reg.population,
            reg.communes,
            reg.actors,
            reg.communes_covered,
            reg.population_covered
        ),
        (17_500, 4, 3, 2, 15_000)
    );
    assert_eq!(r.parents[1].figures, *reg, "France is this région here");

    // Children: the one EPCI, whole.
    assert_eq!(r.children_kind, Some("epci"));
    assert_eq!(r.children.len(), 1);
    assert!(r.children[0].whole);
    assert_eq!(r.children[0].figures.population, 12_000);
    let access = r.children[0].figures.access.expect("access");
    assert_eq!(access.population_within, 10_000);
}

#[test]
fn filters_change_every_figure_consistently() {
    let (catalog, h) = fixture();
    let snap = h.load();
    let region = scope(&h, TerritoryKind::Region, "52");
    let food = CoverageFilter {
        categories: Some(
            catalog
                .parse_filter("category", "alimentation")
                .expect("known")
                .0,
        ),
        ..CoverageFilter::default()
    };
    let r = coverage::report(&snap, region, &food, 10_000.0);
    assert_eq!(r.figures.actors, 2);
    assert_eq!(
        (r.figures.communes_covered, r.figures.population_covered),
        (2, 15_000)
    );
    // One category asked: access has the "any matching actor" line only.
    assert_eq!(r.access.len(), 1);

    let no_demo = CoverageFilter {
        exclude_demo: true,
        ..food
    };
    let r = coverage::report(&snap, region, &no_demo, 10_000.0);
    assert_eq!(r.figures.actors, 1);
    // 49001 and 49002 are now far from any food actor (A1 is about 75 km away); 44002 is
    // 7.5 km from A1, within the 10 km.
    let far = by_hand_m((-0.55, 47.45), (-1.55, 47.25));
    let codes: Vec<&str> = r.zones_blanches.iter().map(|z| z.code.as_str()).collect();
    assert_eq!(codes, ["49001", "49002"], "most populated first");
    close(r.zones_blanches[0].nearest_m, far);

    let coops = CoverageFilter {
        families: Some(FamilySet::of(Family::Cooperative).0),
        ..CoverageFilter::default()
    };
    assert_eq!(
        coverage::report(&snap, region, &coops, 10_000.0)
            .figures
            .actors,
        1
    );

    // Département 49: its EPCI, and its commune outside any EPCI as a group without code.
    let r = coverage::report(
        &snap,
        scope(&h, TerritoryKind::Departement, "49"),
        &CoverageFilter::default(),
        10_000.0,
    );
    let mut groups: Vec<(Option<&str>, u64)> = r
        .children
        .iter()
        .map(|c| (c.territory.code.as_deref(), c.figures.population))
        .collect();
    groups.sort();
    assert_eq!(groups, [(None, 500), (Some("244900015"), 5_000)]);
}

#[test]
fn a_new_snapshot_recomputes_and_the_old_one_keeps_its_figures() {
    let (catalog, h) = fixture();
    let before = h.load();
    let dep = scope(&h, TerritoryKind::Departement, "44");
    let first = coverage::report(&before, dep, &CoverageFilter::default(), 5_000.0);
    // Memoised: the same report again.
    assert!(Arc::ptr_eq(
        &first,
        &coverage::report(&before, dep, &CoverageFilter::default(), 5_000.0)
    ));
    // An actor opens in 44002: the next snapshot sees it, the old one is unchanged.
    let mut rows = base_rows(&catalog);
    rows.push(actor(
        4,
        "ressourcerie",
        Family::Association,
        "44002",
        (-1.45, 47.25),
        false,
        &catalog,
    ));
    let after = h.publish_actors(rows.into());
    let second = coverage::report(&after, dep, &CoverageFilter::default(), 5_000.0);
    assert_eq!(second.figures.actors, 3);
    assert!(second.zones_blanches.is_empty());
    assert_eq!(
        coverage::report(&before, dep, &CoverageFilter::default(), 5_000.0)
            .figures
            .actors,
        2
    );
}

fn check_children_add_up(r: &Report) {
    if r.children.is_empty() {
        return;
    }
    let sum = |f: &dyn Fn(&ancrage::coverage::Figures) -> u64| -> u64 {
        r.children.iter().map(|c| f(&c.figures)).sum()
    };
    let p = &r.figures;
    assert_eq!(sum(&|f| f.population), p.population);
    assert_eq!(sum(&|f| u64::from(f.communes)), u64::from(p.communes));
    assert_eq!(sum(&|f| f.actors), p.actors);
    assert_eq!(
        sum(&|f| u64::from(f.communes_covered)),
        u64::from(p.communes_covered)
    );
    assert_eq!(sum(&|f| f.population_covered), p.population_covered);
    let within: u64 = sum(&|f| f.access.map_or(0, |a| a.population_within));
    let parent_within: u64 = r.access[0]
        .within
        .iter()
        .find(|w| w.distance_m == r.distance_m)
        .map_or(within, |w| w.population);
    assert_eq!(within, parent_within);
    let zones: u64 = r.zones_blanches.iter().map(|z| z.population).sum();
    assert!(zones <= p.population - parent_within.min(p.population));
}

#[test]
fn children_figures_add_up_to_the_parent_for_random_actors_and_filters() {
    let catalog = Arc::new(builtin_catalog().expect("taxonomy"));
    let slugs = [
        "epicerie-solidaire",
        "ressourcerie",
        "fablab",
        "coworking",
        "creche",
    ];
    for seed in 0..40 {
        let mut rng = Rng::new(seed);
        let n = rng.below(30);
        let rows: Vec<ActorRow> = (0..n)
            .map(|i| {
                let (code, _, _, _, w, s) = COMMUNES[rng.below(COMMUNES.len())];
                actor(
                    i as i64 + 1,
                    slugs[rng.below(slugs.len())],
                    Family::ALL[rng.below(Family::ALL.len())],
                    code,
                    (w + rng.unit() * 0.1, s + rng.unit() * 0.1),
                    rng.unit() < 0.3,
                    &catalog,
                )
            })
            .collect();
        let h = SnapshotHandle::new(Arc::clone(&catalog), Arc::new(territories()), rows.into());
        let snap = h.load();
        let filter = CoverageFilter {
            categories: (rng.unit() < 0.5).then(|| {
                catalog
                    .parse_filter("category", slugs[rng.below(slugs.len())])
                    .expect("known")
                    .0
            }),
            exclude_demo: rng.unit() < 0.5,
            ..CoverageFilter::default()
        };
        for distance in [1_000.0, 10_000.0] {
            for s in [
                Scope::France,
                scope(&h, TerritoryKind::Region, "52"),
                scope(&h, TerritoryKind::Departement, "44"),
                scope(&h, TerritoryKind::Departement, "49"),
                scope(&h, TerritoryKind::Epci, "244400404"),
            ] {
                check_children_add_up(&coverage::report(&snap, s, &filter, distance));
            }
        }
    }
}
