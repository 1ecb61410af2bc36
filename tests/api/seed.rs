use crate::helpers::{Backend, DEMO_ACTORS, empty_store, get, spawn_app};
use ancrage::domain::TerritoryKind;
use ancrage::domain::category::builtin_catalog;
use ancrage::index::actors::NO_COMMUNE;
use ancrage::seed::demo;
use ancrage::startup::AppState;
use ancrage::store::{AnyStore, Store, StoreOptions};

async fn first_start_loads_every_commune_epci_departement_and_region(store: Backend) {
    let app = spawn_app(store).await;
    let snap = app.state.snapshot.load();
    let t = &snap.territories;
    assert_eq!(t.count(TerritoryKind::Commune), 34_875);
    assert_eq!(t.count(TerritoryKind::Epci), 1_255);
    assert_eq!(t.count(TerritoryKind::Departement), 101);
    assert_eq!(t.count(TerritoryKind::Region), 18);
    for code in [
        "44109", "59350", "97411", "97302", "97611", "2A004", "2B033",
    ] {
        let idx = t
            .find(TerritoryKind::Commune, code)
            .unwrap_or_else(|| panic!("{code} missing"));
        let c = t.get(idx).expect("commune");
        assert_eq!(
            t.commune_covers(idx, c.point().expect("point")),
            Some(true),
            "{code}: representative point outside its polygon"
        );
        assert!(
            c.departement.is_some() && c.region.is_some(),
            "{code} lacks parents"
        );
    }
    let nantes = t
        .get(t.find(TerritoryKind::Commune, "44109").expect("Nantes"))
        .expect("Nantes");
    assert_eq!(nantes.record.name, "Nantes");
    assert!(nantes.record.population > 300_000);
    assert!(nantes.record.postcodes.contains(&"44000".to_owned()));
}

async fn real_structures_are_seeded_with_honest_precision_and_not_flagged_demo(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let body = get(&svc, "/api/v1/actors?q=solilab&commune=44109")
        .await
        .json();
    assert_eq!(body["numberMatched"], 1, "{body}");
    let f = &body["features"][0];
    assert_eq!(f["properties"]["demo"], false);
    assert_eq!(f["properties"]["commune"]["code"], "44109");
    let real = get(&svc, "/api/v1/actors?demo=exclude&limit=1000")
        .await
        .json();
    let n = real["numberMatched"].as_u64().expect("count");
    assert!(n >= 10, "at least the ten named structures: {n}");
    for name in [
        "Solilab",
        "Euskal Moneta",
        "Créacoop",
        "COORACE",
        "Coup de Pousse",
        "Toutenvélo",
        "6-10",
        "Ancenis",
    ] {
        let found = real["features"]
            .as_array()
            .expect("features")
            .iter()
            .any(|f| {
                f["properties"]["name"]
                    .as_str()
                    .is_some_and(|s| s.contains(name))
            });
        assert!(found, "{name} is not among the real structures");
    }
    // A closed place and an unverified entry are stored but not published.
    for hidden in ["bottines", "122"] {
        let r = get(&svc, &format!("/api/v1/actors?q={hidden}&demo=exclude"))
            .await
            .json();
        assert_eq!(r["numberMatched"], 0, "{hidden} must not be published");
    }
}

async fn demo_actors_are_flagged_and_labelled_as_demonstration_data(store: Backend) {
    let app = spawn_app(store).await;
    let snap = app.state.snapshot.load();
    let demo: Vec<u32> = (0..snap.actors.len() as u32)
        .filter(|&i| snap.actors.entry(i).demo)
        .collect();
    assert_eq!(demo.len(), DEMO_ACTORS);
    assert!(demo.iter().all(|&i| snap.actors.name(i).contains("(démo)")));
    // Spread over every category family and far beyond one region.
    let counts = snap.actors.category_counts();
    for (pos, def) in snap.catalog.defs().iter().enumerate() {
        assert!(counts[pos] > 0, "no actor in {}", def.slug);
    }
    let regions: std::collections::HashSet<_> = demo
        .iter()
        .filter_map(|&i| {
            snap.territories
                .get(snap.actors.entry(i).commune)
                .and_then(|c| c.region)
        })
        .collect();
    assert!(regions.len() >= 15, "{} régions", regions.len());
}

async fn demo_generation_is_deterministic_and_follows_population(store: Backend) {
    let app = spawn_app(store).await;
    let snap = app.state.snapshot.load();
    let catalog = builtin_catalog().expect("taxonomy");
    let a = demo::generate(&catalog, &snap.territories, 2_000, 7);
    let b = demo::generate(&catalog, &snap.territories, 2_000, 7);
    let c = demo::generate(&catalog, &snap.territories, 2_000, 8);
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Île-de-France (région 11, ~18 % of the population) gets far more than Corse (94, ~0.5 %).
    let share = |region: &str| {
        a.iter()
            .filter(|x| {
                let idx = snap
                    .territories
                    .find(TerritoryKind::Commune, x.commune.as_str())
                    .expect("commune");
                snap.territories
                    .get(idx)
                    .and_then(|t| t.region)
                    .and_then(|r| snap.territories.get(r))
                    .is_some_and(|r| r.record.code == region)
            })
            .count() as f64
            / a.len() as f64
    };
    let (idf, corse) = (share("11"), share("94"));
    assert!((0.13..0.24).contains(&idf), "Île-de-France share {idf}");
    assert!(corse < 0.02, "Corse share {corse}");
}

async fn every_actor_is_attached_to_its_commune(store: Backend) {
    let app = spawn_app(store).await;
    let snap = app.state.snapshot.load();
    for i in 0..snap.actors.len() as u32 {
        let e = snap.actors.entry(i);
        assert_ne!(e.commune, NO_COMMUNE, "actor {} has no commune", e.id);
        if e.demo {
            assert_eq!(
                snap.territories.commune_covers(e.commune, e.location),
                Some(true),
                "demo actor {} outside its commune",
                e.id
            );
        }
    }
}

async fn a_second_start_reuses_the_store_without_seeding_again(store: Backend) {
    let app = spawn_app(store).await;
    let first = app.state.snapshot.load().actors.len();
    let again = AppState::load(&app.settings).await.expect("second start");
    assert_eq!(again.snapshot.load().actors.len(), first);
}

/// A store seeded by an earlier release (other outlines and areas, no published EPCI
/// populations) gets the shipped territories whole at the next start; its actors stay.
async fn a_store_seeded_with_another_edition_of_the_territories_gets_the_shipped_one(
    store: Backend,
) {
    let (url, _guard) = empty_store(store);
    let shipped = ancrage::seed::territories::embedded().expect("embedded territories");
    let mut earlier = shipped.clone();
    for t in &mut earlier {
        t.population_published = None;
        if t.code == "62447" {
            // Hesdin-la-Forêt drawn with one former commune's land, as before.
            t.area_m2 = Some(860_000.0);
        }
    }
    let old = AnyStore::open(&url, StoreOptions::default())
        .await
        .expect("open");
    let catalog = builtin_catalog().expect("catalog");
    old.seed_reference(&earlier, catalog.defs(), "territories 0000000000000000")
        .await
        .expect("earlier edition");
    old.close().await;

    let mut settings = crate::helpers::settings_for(&url);
    settings.demo_actors = 0;
    let state = AppState::load(&settings).await.expect("start");
    let edition = ancrage::seed::territories::edition();
    assert!(
        state.store.seeded(&edition).await.expect("step"),
        "{edition}"
    );
    let mut back = state.store.territories().await.expect("territories");
    let key = |t: &ancrage::domain::territory::TerritoryRecord| (t.kind, t.code.clone());
    back.sort_by_key(key);
    let mut want = shipped;
    want.sort_by_key(key);
    assert!(back == want, "the store holds the shipped territories");
    let snap = state.snapshot.load();
    let t = &snap.territories;
    let hesdin = t
        .get(t.find(TerritoryKind::Commune, "62447").expect("62447"))
        .expect("Hesdin-la-Forêt");
    assert!(
        hesdin.record.area_m2.expect("area") > 20e6,
        "{:?}",
        hesdin.record.area_m2
    );
    let nm = t
        .get(t.find(TerritoryKind::Epci, "244400404").expect("EPCI"))
        .expect("Nantes Métropole");
    assert_eq!(nm.record.population_published, Some(683_981));
    // The real structures were seeded on that start too, and a further start changes nothing.
    let actors = snap.actors.len();
    assert!(actors >= 10, "{actors}");
    state.store.close().await;
    let again = AppState::load(&settings).await.expect("second start");
    assert_eq!(again.snapshot.load().actors.len(), actors);
}

async fn a_published_actor_becomes_visible_and_an_archived_one_disappears_without_restart(
    store: Backend,
) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let before = get(&svc, "/api/v1/actors?commune=44109&q=nouvelle")
        .await
        .json();
    assert_eq!(before["numberMatched"], 0);
    let snap = app.state.snapshot.load();
    let mut fields = demo::generate(&snap.catalog, &snap.territories, 1, 99).remove(0);
    fields.name = "Nouvelle épicerie".into();
    fields.commune = ancrage::domain::InseeCode::parse("c", "44109").expect("code");
    fields.location = ancrage::domain::LonLat::new(-1.5536, 47.2184).expect("point");
    fields.source_ref = Some("test-new".into());
    let ids = app
        .state
        .store
        .insert_actors(&[(fields, ancrage::domain::Status::Published)], None)
        .await
        .expect("insert");
    let old_version = snap.version;
    let new_version = app.state.refresh_actors().await.expect("refresh");
    assert!(new_version > old_version);
    // A reader holding the old snapshot still sees the old data.
    assert!(snap.actors.find(ids[0]).is_none());
    let after = get(&svc, "/api/v1/actors?commune=44109&q=nouvelle")
        .await
        .json();
    assert_eq!(after["numberMatched"], 1);
    let near = get(
        &svc,
        "/api/v1/actors/nearby?lon=-1.5536&lat=47.2184&limit=1",
    )
    .await
    .json();
    assert_eq!(near["features"][0]["id"], ids[0].0);
    app.state
        .store
        .set_status(ids[0], ancrage::domain::Status::Archived)
        .await
        .expect("archive");
    app.state.refresh_actors().await.expect("refresh");
    assert_eq!(
        get(&svc, "/api/v1/actors?commune=44109&q=nouvelle")
            .await
            .json()["numberMatched"],
        0
    );
    assert_eq!(
        get(&svc, &format!("/api/v1/actors/{}", ids[0].0))
            .await
            .status,
        404
    );
}

on_both_stores!(
    first_start_loads_every_commune_epci_departement_and_region,
    real_structures_are_seeded_with_honest_precision_and_not_flagged_demo,
    demo_actors_are_flagged_and_labelled_as_demonstration_data,
    demo_generation_is_deterministic_and_follows_population,
    every_actor_is_attached_to_its_commune,
    a_second_start_reuses_the_store_without_seeding_again,
    a_store_seeded_with_another_edition_of_the_territories_gets_the_shipped_one,
    a_published_actor_becomes_visible_and_an_archived_one_disappears_without_restart,
);
