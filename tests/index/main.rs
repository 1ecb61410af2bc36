//! Property tests: every index query equals a brute-force scan over the same data, on seeded
//! random actors in metropolitan France, Corsica, overseas (Réunion, Guyane, Mayotte,
//! Saint-Pierre-et-Miquelon, Antilles), around the Greenwich meridian and across the
//! antimeridian.

use ancrage::domain::category::builtin_catalog;
use ancrage::domain::geodesy::great_circle_m;
use ancrage::domain::territory::TerritoryRecord;
use ancrage::domain::{
    ActorId, Bbox, Catalog, CategorySet, Family, FamilySet, GeocodePrecision, KindSet, LonLat,
    Radius, TerritoryKind, haversine_m,
};
use ancrage::index::actors::{ActorFilter, ActorIndex, ActorRow, CommuneCode, Hit};
use ancrage::index::pip::PolygonIndex;
use ancrage::index::territories::Territories;
use ancrage::seed::demo::Rng;
use geo::{Coord, Intersects, LineString, MultiPolygon, Polygon};

/// Regions where test actors and queries are drawn: (west, south, east, north).
const ZONES: [[f64; 4]; 11] = [
    [-4.8, 42.5, 8.2, 51.0],        // metropole
    [-0.6, 43.5, 0.6, 50.5],        // around the Greenwich meridian
    [8.5, 41.35, 9.6, 43.0],        // Corsica
    [55.2, -21.4, 55.85, -20.85],   // La Réunion
    [-54.6, 2.1, -51.6, 5.8],       // Guyane
    [45.0, -13.0, 45.3, -12.6],     // Mayotte
    [-56.45, 46.75, -56.1, 47.15],  // Saint-Pierre-et-Miquelon
    [-61.85, 15.85, -61.0, 16.5],   // Guadeloupe
    [-61.25, 14.38, -60.8, 14.9],   // Martinique
    [179.6, -14.5, 180.0, -13.0],   // west of the antimeridian
    [-180.0, -14.5, -179.6, -13.0], // east of it (Wallis-et-Futuna lies near)
];

struct World {
    catalog: Catalog,
    territories: Territories,
    rows: Vec<ActorRow>,
    index: ActorIndex,
}

fn point_in(zone: [f64; 4], rng: &mut Rng) -> LonLat {
    let [w, s, e, n] = zone;
    LonLat::new(w + rng.unit() * (e - w), s + rng.unit() * (n - s)).expect("zones are in range")
}

/// Three square communes side by side in one EPCI/département/région, plus a fourth in
/// another département, to test membership.
fn territories() -> Territories {
    let square = |w: f64, s: f64| {
        MultiPolygon(vec![Polygon::new(
            LineString(vec![
                Coord { x: w, y: s },
                Coord { x: w + 1.0, y: s },
                Coord {
                    x: w + 1.0,
                    y: s + 1.0,
                },
                Coord { x: w, y: s + 1.0 },
                Coord { x: w, y: s },
            ]),
            vec![],
        )])
    };
    let rec =
        |kind, code: &str, epci: Option<&str>, dep: Option<&str>, reg: Option<&str>, geometry| {
            TerritoryRecord {
                kind,
                code: code.into(),
                name: format!("T{code}"),
                population: 1000,
                population_published: None,
                postcodes: vec![],
                commune_count: 1,
                epci: epci.map(Into::into),
                departement: dep.map(Into::into),
                departements: vec![],
                region: reg.map(Into::into),
                area_m2: Some(1.0),
                point: Some([0.5, 45.5]),
                point_origin: Some("test".into()),
                geometry_origin: None,
                geometry,
            }
        };
    use TerritoryKind::*;
    Territories::new(vec![
        rec(Region, "11", None, None, Some("11"), None),
        rec(Region, "52", None, None, Some("52"), None),
        rec(Departement, "44", None, Some("44"), Some("52"), None),
        rec(Departement, "49", None, Some("49"), Some("52"), None),
        rec(Departement, "75", None, Some("75"), Some("11"), None),
        rec(Epci, "244400404", None, Some("44"), Some("52"), None),
        rec(
            Commune,
            "44001",
            Some("244400404"),
            Some("44"),
            Some("52"),
            Some(square(0.0, 45.0)),
        ),
        rec(
            Commune,
            "44002",
            Some("244400404"),
            Some("44"),
            Some("52"),
            Some(square(1.0, 45.0)),
        ),
        rec(
            Commune,
            "49001",
            None,
            Some("49"),
            Some("52"),
            Some(square(2.0, 45.0)),
        ),
        rec(
            Commune,
            "75056",
            None,
            Some("75"),
            Some("11"),
            Some(square(3.0, 45.0)),
        ),
    ])
    .expect("consistent fixture")
}

const COMMUNES: [&str; 5] = ["44001", "44002", "49001", "75056", "99999"];

fn world(n: usize, seed: u64) -> World {
    let catalog = builtin_catalog().expect("taxonomy");
    let territories = territories();
    let mut rng = Rng::new(seed);
    let mut rows: Vec<ActorRow> = Vec::with_capacity(n);
    for i in 0..n {
        // One in ten actors shares the location of an earlier one: distance ties must break by id.
        let location = if i > 0 && rng.unit() < 0.1 {
            rows[rng.below(i)].location
        } else {
            point_in(ZONES[rng.below(ZONES.len())], &mut rng)
        };
        let mut categories = CategorySet(1 << rng.below(catalog.defs().len()));
        if rng.unit() < 0.3 {
            categories.0 |= 1 << rng.below(catalog.defs().len());
        }
        rows.push(ActorRow {
            // Ids not in insertion order, to check that results are ordered by id.
            id: ActorId(((i as i64) * 7919) % 1_000_003 + 1),
            name: format!(
                "Acteur {i} {}",
                ["Épicerie", "Ressourcerie", "Café"][rng.below(3)]
            ),
            categories,
            family: Family::ALL[rng.below(Family::ALL.len())],
            kinds: KindSet(rng.below(8) as u8),
            commune: CommuneCode::new(COMMUNES[rng.below(COMMUNES.len())])
                .expect("five characters"),
            location,
            precision: GeocodePrecision::Address,
            demo: rng.unit() < 0.5,
        });
    }
    let index = ActorIndex::build(rows.clone().into(), &territories, &catalog);
    World {
        catalog,
        territories,
        rows,
        index,
    }
}

fn random_filter(w: &World, rng: &mut Rng) -> ActorFilter {
    let mut f = ActorFilter::default();
    if rng.unit() < 0.5 {
        let slug = &w.catalog.defs()[rng.below(w.catalog.defs().len())].slug;
        f.categories = Some(
            w.catalog
                .parse_filter("category", slug)
                .expect("known slug"),
        );
    }
    if rng.unit() < 0.3 {
        f.families = Some(FamilySet::of(Family::ALL[rng.below(Family::ALL.len())]));
    }
    if rng.unit() < 0.2 {
        f.kinds = KindSet(1 << rng.below(3));
    }
    if rng.unit() < 0.2 {
        f.text = Some(["epicerie", "cafe", "1"][rng.below(3)].into());
    }
    if rng.unit() < 0.2 {
        let code = ["44001", "244400404", "52", "75"][rng.below(4)];
        let kind = match code.len() {
            9 => TerritoryKind::Epci,
            5 => TerritoryKind::Commune,
            _ if code == "52" => TerritoryKind::Region,
            _ => TerritoryKind::Departement,
        };
        f.territories
            .push(w.territories.find(kind, code).expect("fixture territory"));
    }
    f.exclude_demo = rng.unit() < 0.3;
    f
}

/// The oracle: a scan over every actor with the same filter and the same distance function.
fn brute_radius(w: &World, c: LonLat, r: f64, f: &ActorFilter) -> Vec<(ActorId, f64)> {
    let mut v: Vec<(ActorId, f64)> = (0..w.index.len() as u32)
        .filter(|&i| w.index.matches(i, f, &w.territories))
        .map(|i| {
            (
                w.index.entry(i).id,
                great_circle_m(c, w.index.entry(i).location),
            )
        })
        .filter(|(_, d)| *d <= r)
        .collect();
    v.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    v
}

fn ids(w: &World, hits: &[Hit]) -> Vec<(ActorId, f64)> {
    hits.iter()
        .map(|h| (w.index.entry(h.idx).id, h.distance_m.expect("distance")))
        .collect()
}

#[test]
fn radius_queries_equal_a_brute_force_great_circle_scan_everywhere() {
    let w = world(20_000, 1);
    let mut rng = Rng::new(2);
    let mut nonempty = 0;
    for round in 0..400 {
        let zone = ZONES[round % ZONES.len()];
        // Half the centres sit exactly on an actor, so that zero distances and ties occur.
        let c = if rng.unit() < 0.5 {
            w.rows[rng.below(w.rows.len())].location
        } else {
            point_in(zone, &mut rng)
        };
        let r = [1.0, 50.0, 1_000.0, 5_000.0, 20_000.0, 50_000.0, 100_000.0][rng.below(7)];
        let f = random_filter(&w, &mut rng);
        let got = ids(
            &w,
            &w.index
                .within_radius(c, Radius::parse("r", r).expect("valid"), &f, &w.territories),
        );
        let want = brute_radius(&w, c, r, &f);
        assert_eq!(
            got, want,
            "round {round}: centre {c:?}, radius {r}, filter {f:?}"
        );
        nonempty += usize::from(!want.is_empty());
    }
    assert!(
        nonempty > 150,
        "the test must exercise non-empty answers ({nonempty})"
    );
}

#[test]
fn a_radius_straddling_the_greenwich_meridian_finds_actors_on_both_sides() {
    let w = world(20_000, 3);
    let c = LonLat::new(0.0, 47.0).expect("valid");
    let hits = w.index.within_radius(
        c,
        Radius::parse("r", 50_000.0).expect("valid"),
        &ActorFilter::default(),
        &w.territories,
    );
    let west = hits
        .iter()
        .filter(|h| w.index.entry(h.idx).location.lon() < 0.0)
        .count();
    let east = hits
        .iter()
        .filter(|h| w.index.entry(h.idx).location.lon() > 0.0)
        .count();
    assert!(west > 0 && east > 0, "west {west}, east {east}");
    assert_eq!(
        ids(&w, &hits),
        brute_radius(&w, c, 50_000.0, &ActorFilter::default())
    );
}

#[test]
fn nearest_queries_equal_the_first_k_of_a_brute_force_scan() {
    let w = world(20_000, 4);
    let mut rng = Rng::new(5);
    for round in 0..400 {
        let zone = ZONES[round % ZONES.len()];
        let c = if rng.unit() < 0.5 {
            w.rows[rng.below(w.rows.len())].location
        } else {
            point_in(zone, &mut rng)
        };
        let k = 1 + rng.below(60);
        let max = (rng.unit() < 0.4).then(|| [500.0, 5_000.0, 30_000.0][rng.below(3)]);
        let f = random_filter(&w, &mut rng);
        let got = ids(
            &w,
            &w.index.nearest(
                c,
                k,
                max.map(|m| Radius::parse("r", m).expect("valid")),
                &f,
                &w.territories,
            ),
        );
        let mut want = brute_radius(&w, c, max.unwrap_or(f64::INFINITY), &f);
        want.truncate(k);
        assert_eq!(
            got, want,
            "round {round}: centre {c:?}, k {k}, max {max:?}, filter {f:?}"
        );
    }
}

#[test]
fn bbox_queries_equal_a_brute_force_scan_and_are_in_id_order() {
    let w = world(20_000, 6);
    let mut rng = Rng::new(7);
    for round in 0..300 {
        let zone = ZONES[round % ZONES.len()];
        let a = point_in(zone, &mut rng);
        let b = point_in(zone, &mut rng);
        let bbox = Bbox::new(
            "bbox",
            a.lon().min(b.lon()),
            a.lat().min(b.lat()),
            a.lon().max(b.lon()),
            a.lat().max(b.lat()),
        )
        .expect("ordered");
        let f = random_filter(&w, &mut rng);
        let got: Vec<ActorId> = w
            .index
            .in_bbox(&bbox, &f, &w.territories)
            .iter()
            .map(|&i| w.index.entry(i).id)
            .collect();
        let mut want: Vec<ActorId> = (0..w.index.len() as u32)
            .filter(|&i| {
                bbox.contains(w.index.entry(i).location) && w.index.matches(i, &f, &w.territories)
            })
            .map(|i| w.index.entry(i).id)
            .collect();
        want.sort();
        assert_eq!(got, want, "round {round}: {bbox:?}");
        assert!(got.windows(2).all(|p| p[0] < p[1]), "id order");
    }
}

/// A random star-shaped polygon with a hole, whose vertices are snapped to a grid on which some
/// actors also lie, so that boundary cases occur.
fn random_polygon(zone: [f64; 4], rng: &mut Rng, vertices: usize) -> MultiPolygon<f64> {
    let c = point_in(zone, rng);
    let size = (zone[2] - zone[0]).min(zone[3] - zone[1]) * (0.1 + 0.4 * rng.unit());
    let ring = |scale: f64, rng: &mut Rng| {
        let mut pts: Vec<Coord<f64>> = (0..vertices)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / vertices as f64;
                let r = scale * size * (0.5 + 0.5 * rng.unit());
                Coord {
                    x: c.lon() + r * a.cos(),
                    y: c.lat() + r * a.sin(),
                }
            })
            .collect();
        pts.push(pts[0]);
        LineString(pts)
    };
    let shell = ring(1.0, rng);
    let hole = ring(0.2, rng);
    MultiPolygon(vec![Polygon::new(shell, vec![hole])])
}

#[test]
fn polygon_queries_equal_geo_intersects_including_boundary_points() {
    let mut w = world(20_000, 8);
    let mut rng = Rng::new(9);
    for round in 0..60 {
        // Polygons are drawn away from the antimeridian (GeoJSON polygons do not cross it).
        let zone = ZONES[round % 9];
        let shape = random_polygon(zone, &mut rng, [8, 50, 2_000][round % 3]);
        // Put a few actors exactly on vertices of the polygon (boundary points).
        let extra: Vec<ActorRow> = shape.0[0]
            .exterior()
            .0
            .iter()
            .step_by(3)
            .take(20)
            .enumerate()
            .map(|(i, c)| ActorRow {
                id: ActorId(2_000_000 + i as i64),
                location: LonLat::new(c.x, c.y).expect("in range"),
                ..w.rows[0].clone()
            })
            .collect();
        let mut rows = w.rows.clone();
        rows.extend(extra);
        w.index = ActorIndex::build(rows.into(), &w.territories, &w.catalog);
        let f = random_filter(&w, &mut rng);
        let prepared = PolygonIndex::new(&shape);
        let got: Vec<ActorId> = w
            .index
            .in_polygon(&prepared, &f, &w.territories)
            .iter()
            .map(|&i| w.index.entry(i).id)
            .collect();
        let mut want: Vec<ActorId> = (0..w.index.len() as u32)
            .filter(|&i| {
                let p = w.index.entry(i).location;
                shape.intersects(&Coord {
                    x: p.lon(),
                    y: p.lat(),
                }) && w.index.matches(i, &f, &w.territories)
            })
            .map(|i| w.index.entry(i).id)
            .collect();
        want.sort();
        assert_eq!(got, want, "round {round}");
    }
}

#[test]
fn territory_queries_use_membership_and_equal_a_scan_of_commune_chains() {
    let w = world(5_000, 10);
    let mut rng = Rng::new(11);
    for t in 0..w.territories.len() as u32 {
        for _ in 0..5 {
            let f = random_filter(&w, &mut rng);
            let got = w.index.in_territory(t, &f, &w.territories);
            let mut want: Vec<u32> = (0..w.index.len() as u32)
                .filter(|&i| {
                    let c = w.index.entry(i).commune;
                    w.territories.get(c).is_some()
                        && w.territories.commune_in(c, t)
                        && w.index.matches(i, &f, &w.territories)
                })
                .collect();
            want.sort_by_key(|&i| w.index.entry(i).id);
            assert_eq!(got, want, "territory {t}");
        }
    }
    // Actors of the département 44 are those of its two communes.
    let dep = w
        .territories
        .find(TerritoryKind::Departement, "44")
        .expect("44");
    let in_dep = w
        .index
        .in_territory(dep, &ActorFilter::default(), &w.territories)
        .len();
    let by_commune: usize = ["44001", "44002"]
        .iter()
        .map(|c| {
            w.index.territory_size(
                w.territories
                    .find(TerritoryKind::Commune, c)
                    .expect("commune"),
            )
        })
        .sum();
    assert_eq!(in_dep, by_commune);
    assert!(in_dep > 0);
}

#[test]
fn category_counts_count_each_actor_once_per_category_subtree() {
    let w = world(5_000, 12);
    for (pos, def) in w.catalog.defs().iter().enumerate() {
        let set = w.catalog.parse_filter("c", &def.slug).expect("known");
        let want = w
            .rows
            .iter()
            .filter(|r| r.categories.intersects(set))
            .count();
        assert_eq!(w.index.category_counts()[pos], want, "{}", def.slug);
    }
}

#[test]
fn radius_answers_equal_a_literal_haversine_scan_away_from_the_boundary() {
    // The index ranks with the chord formula; a haversine scan gives the same sets and
    // distances except for points within a micrometre of the radius, which the test skips.
    let w = world(20_000, 13);
    let mut rng = Rng::new(14);
    for round in 0..200 {
        let c = point_in(ZONES[round % ZONES.len()], &mut rng);
        let r = [500.0, 5_000.0, 50_000.0][rng.below(3)];
        let got = w.index.within_radius(
            c,
            Radius::parse("r", r).expect("valid"),
            &ActorFilter::default(),
            &w.territories,
        );
        let mut got_ids: Vec<ActorId> = got
            .iter()
            .filter(|h| (h.distance_m.expect("d") - r).abs() > 1e-6)
            .map(|h| w.index.entry(h.idx).id)
            .collect();
        for h in &got {
            let hv = haversine_m(c, w.index.entry(h.idx).location);
            assert!(
                (hv - h.distance_m.expect("d")).abs() < 1e-6,
                "distance differs from haversine"
            );
        }
        let mut want: Vec<ActorId> = w
            .rows
            .iter()
            .filter(|a| {
                let d = haversine_m(c, a.location);
                d <= r && (d - r).abs() > 1e-6
            })
            .map(|a| a.id)
            .collect();
        got_ids.sort();
        want.sort();
        want.dedup();
        assert_eq!(got_ids, want, "round {round}");
    }
}

#[test]
fn a_radius_across_the_antimeridian_finds_actors_on_both_sides() {
    let w = world(20_000, 15);
    let c = LonLat::new(179.95, -13.7).expect("valid");
    let hits = w.index.within_radius(
        c,
        Radius::parse("r", 60_000.0).expect("valid"),
        &ActorFilter::default(),
        &w.territories,
    );
    let west = hits
        .iter()
        .filter(|h| w.index.entry(h.idx).location.lon() > 0.0)
        .count();
    let east = hits
        .iter()
        .filter(|h| w.index.entry(h.idx).location.lon() < 0.0)
        .count();
    assert!(west > 0 && east > 0, "west {west}, east {east}");
    assert_eq!(
        ids(&w, &hits),
        brute_radius(&w, c, 60_000.0, &ActorFilter::default())
    );
}

#[test]
fn names_and_facts_follow_their_actor_whatever_the_input_order() {
    let mut w = world(3_000, 11);
    for r in &w.rows {
        let idx = w.index.find(r.id).expect("every id is indexed");
        assert_eq!(w.index.name(idx), r.name);
        assert_eq!(w.index.entry(idx).location, r.location);
        assert_eq!(w.index.entry(idx).categories, r.categories);
    }
    // A duplicated id keeps its first row, wherever the copy comes.
    let mut rows = w.rows.clone();
    let mut first = rows[20].clone();
    first.id = rows[10].id;
    first.name = "Première occurrence".into();
    let mut late = rows[10].clone();
    late.name = "Copie tardive".into();
    rows.insert(0, first);
    rows.push(late);
    w.index = ActorIndex::build(rows.into(), &w.territories, &w.catalog);
    let idx = w.index.find(w.rows[10].id).expect("indexed");
    assert_eq!(w.index.name(idx), "Première occurrence");
    assert_eq!(w.index.len(), w.rows.len());
}

#[test]
fn open_now_follows_opening_hours_in_each_place_s_time_zone() {
    use ancrage::index::actors::{ActorRows, OpenAt};
    let w = world(10, 3);
    let mut rows = ActorRows::default();
    // (id, commune, hours): Paris-time places and one in La Réunion (UTC+4).
    let places = [
        (1, "44001", Some("Mo-Fr 09:00-18:00")),
        (2, "44002", Some("Mo-Fr 14:00-18:00; PH off")),
        (3, "44001", Some("sunrise-sunset")),
        (4, "44002", None),
        (5, "97411", Some("Mo-Fr 13:00-15:00")),
        (6, "49001", Some("24/7")),
    ];
    for (id, commune, hours) in places {
        let mut r = w.rows[0].clone();
        r.id = ActorId(id);
        r.commune = CommuneCode::new(commune).expect("code");
        rows.push_with_hours(r.facts(), &r.name, hours);
    }
    let index = ActorIndex::build(rows, &w.territories, &w.catalog);
    // Monday 2026-01-19 10:30 UTC: 11:30 in Paris, 14:30 in La Réunion.
    let at = OpenAt::at(1_768_818_600);
    let f = ActorFilter {
        open_at: Some(at),
        ..ActorFilter::default()
    };
    let mut open: Vec<i64> = index
        .filtered(&f, &w.territories)
        .into_iter()
        .map(|i| index.entry(i).id.0)
        .collect();
    open.sort_unstable();
    assert_eq!(open, [1, 5, 6]);
    // Saturday 2026-01-24 10:30 UTC: only the 24/7 place.
    let f = ActorFilter {
        open_at: Some(OpenAt::at(1_768_818_600 + 5 * 86_400)),
        ..ActorFilter::default()
    };
    let open: Vec<i64> = index
        .filtered(&f, &w.territories)
        .into_iter()
        .map(|i| index.entry(i).id.0)
        .collect();
    assert_eq!(open, [6]);
}

#[test]
fn key_histograms_of_a_box_give_the_counts_of_a_brute_force_scan_for_every_filter() {
    let w = world(20_000, 16);
    let mut rng = Rng::new(17);
    for round in 0..300 {
        let zone = ZONES[round % ZONES.len()];
        // Corners on actors half the time, so that actors lie on the edges.
        let (a, b) = if round % 2 == 0 {
            (
                w.rows[rng.below(w.rows.len())].location,
                w.rows[rng.below(w.rows.len())].location,
            )
        } else {
            (point_in(zone, &mut rng), point_in(zone, &mut rng))
        };
        let bbox = Bbox::new(
            "bbox",
            a.lon().min(b.lon()),
            a.lat().min(b.lat()),
            a.lon().max(b.lon()),
            a.lat().max(b.lat()),
        )
        .expect("ordered");
        let f = random_filter(&w, &mut rng);
        let boxed = (round % 5 != 0).then_some(&bbox);
        let histogram = w.index.key_histogram(boxed, &f, &w.territories);
        let keys = ActorIndex::key_filter(&f);
        let got: u64 = histogram
            .iter()
            .filter(|(k, _)| keys.admits(*k))
            .map(|(_, n)| u64::from(*n))
            .sum();
        let want = (0..w.index.len() as u32)
            .filter(|&i| {
                boxed.is_none_or(|b| b.contains(w.index.entry(i).location))
                    && w.index.matches(i, &f, &w.territories)
            })
            .count() as u64;
        assert_eq!(got, want, "round {round}: {bbox:?} {f:?}");
        // Without the key part, the histogram counts every actor passing the rest.
        let total: u64 = histogram.iter().map(|(_, n)| u64::from(*n)).sum();
        let rest = ActorFilter {
            territories: f.territories.clone(),
            text: f.text.clone(),
            ..ActorFilter::default()
        };
        let want_total = (0..w.index.len() as u32)
            .filter(|&i| {
                boxed.is_none_or(|b| b.contains(w.index.entry(i).location))
                    && w.index.matches(i, &rest, &w.territories)
            })
            .count() as u64;
        assert_eq!(total, want_total, "round {round}");
    }
}
