use crate::helpers::{Backend, feature_ids, get, post_json, spawn_app};
use ancrage::domain::{LonLat, haversine_m};
use ancrage::store::Store;
use serde_json::json;

fn distances(body: &serde_json::Value) -> Vec<f64> {
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["properties"]["distance_m"].as_f64().expect("distance_m"))
        .collect()
}

async fn nearby_with_a_radius_returns_every_actor_within_it_nearest_first(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let centre = LonLat::new(-1.5536, 47.2184).expect("Nantes");
    let body = get(
        &svc,
        "/api/v1/actors/nearby?lon=-1.5536&lat=47.2184&radius=3000&limit=1000",
    )
    .await
    .json();
    assert_eq!(body["type"], "FeatureCollection");
    let d = distances(&body);
    assert!(!d.is_empty());
    assert_eq!(body["numberMatched"].as_u64(), Some(d.len() as u64));
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "sorted by distance");
    assert!(d.iter().all(|&x| x <= 3000.0));
    // The reported distance is the great-circle distance to the feature's own coordinates.
    for f in body["features"].as_array().expect("features") {
        let c = &f["geometry"]["coordinates"];
        let p =
            LonLat::new(c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat")).expect("point");
        let reported = f["properties"]["distance_m"].as_f64().expect("distance");
        assert!(
            (haversine_m(centre, p) - reported).abs() <= 0.05 + 1e-9,
            "{reported}"
        );
    }
    // Compared with the index itself (exactness is proven against brute force in tests/index).
    let snap = app.state.snapshot.load();
    let want = snap.actors.within_radius(
        centre,
        ancrage::domain::Radius::parse("r", 3000.0).expect("r"),
        &Default::default(),
        &snap.territories,
    );
    let want_ids: Vec<i64> = want.iter().map(|h| snap.actors.entry(h.idx).id.0).collect();
    assert_eq!(feature_ids(&body), want_ids);
}

async fn nearby_pages_through_the_same_ordering(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let all = get(
        &svc,
        "/api/v1/actors/nearby?lon=2.3522&lat=48.8566&radius=2000&limit=40",
    )
    .await
    .json();
    let p1 = get(
        &svc,
        "/api/v1/actors/nearby?lon=2.3522&lat=48.8566&radius=2000&limit=20",
    )
    .await
    .json();
    let p2 = get(
        &svc,
        "/api/v1/actors/nearby?lon=2.3522&lat=48.8566&radius=2000&limit=20&offset=20",
    )
    .await
    .json();
    let mut joined = feature_ids(&p1);
    joined.extend(feature_ids(&p2));
    assert_eq!(joined, feature_ids(&all));
    assert_eq!(p1["numberMatched"], all["numberMatched"]);
}

async fn nearby_without_a_radius_returns_the_k_nearest(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let body = get(&svc, "/api/v1/actors/nearby?lon=55.45&lat=-20.88&limit=7")
        .await
        .json();
    assert_eq!(body["numberReturned"], 7);
    assert!(body.get("numberMatched").is_none());
    let d = distances(&body);
    assert!(d.windows(2).all(|w| w[0] <= w[1]));
    // The 7 nearest are the first 7 of a wide radius search.
    let wide = get(
        &svc,
        "/api/v1/actors/nearby?lon=55.45&lat=-20.88&radius=100000&limit=7",
    )
    .await
    .json();
    assert_eq!(feature_ids(&body), feature_ids(&wide));
}

async fn filters_combine_with_spatial_queries(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let base = "/api/v1/actors?bbox=-5,41,10,52&limit=1000";
    let all = get(&svc, base).await.json();
    let alim = get(&svc, &format!("{base}&category=alimentation"))
        .await
        .json();
    let n_all = all["numberMatched"].as_u64().expect("n");
    let n_alim = alim["numberMatched"].as_u64().expect("n");
    assert!(n_alim > 0 && n_alim < n_all);
    let alim_slugs = [
        "alimentation",
        "epicerie-solidaire",
        "amap-circuits-courts",
        "restauration-solidaire",
        "jardin-partage",
    ];
    for f in alim["features"].as_array().expect("features") {
        let cats = f["properties"]["categories"]
            .as_array()
            .expect("categories");
        assert!(
            cats.iter()
                .any(|c| alim_slugs.contains(&c.as_str().expect("slug"))),
            "{f}"
        );
    }
    let no_demo = get(&svc, &format!("{base}&demo=exclude")).await.json();
    assert!(
        no_demo["features"]
            .as_array()
            .expect("f")
            .iter()
            .all(|f| f["properties"]["demo"] == false)
    );
    assert!(no_demo["numberMatched"].as_u64().expect("n") < n_all);
    let tl = get(&svc, &format!("{base}&kind=tiers-lieu&family=association"))
        .await
        .json();
    for f in tl["features"].as_array().expect("features") {
        assert!(
            f["properties"]["kinds"]
                .as_array()
                .expect("kinds")
                .contains(&json!("tiers-lieu"))
        );
        assert_eq!(f["properties"]["family"], "association");
    }
    let dep = get(&svc, &format!("{base}&departement=44")).await.json();
    let dep_terr = get(&svc, "/api/v1/territories/departement/44/actors?limit=1000")
        .await
        .json();
    assert_eq!(dep["numberMatched"], dep_terr["numberMatched"]);
}

async fn a_viewport_query_has_a_total_and_respects_the_page_size(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let body = get(&svc, "/api/v1/actors?bbox=2.2,48.8,2.45,48.92&limit=5")
        .await
        .json();
    assert_eq!(body["numberReturned"], 5);
    assert!(body["numberMatched"].as_u64().expect("n") > 5);
    let ids = feature_ids(&body);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "id order");
    for f in body["features"].as_array().expect("features") {
        let c = &f["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
        assert!((2.2..=2.45).contains(&lon) && (48.8..=48.92).contains(&lat));
    }
}

async fn within_returns_the_actors_inside_a_polygon(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let square = json!({"type": "Polygon", "coordinates": [[[2.2, 48.8], [2.45, 48.8], [2.45, 48.92], [2.2, 48.92], [2.2, 48.8]]]});
    let inside = post_json(&svc, "/api/v1/actors/within?limit=1000", &square)
        .await
        .json();
    let bbox = get(&svc, "/api/v1/actors?bbox=2.2,48.8,2.45,48.92&limit=1000")
        .await
        .json();
    assert_eq!(feature_ids(&inside), feature_ids(&bbox));
    // A hole removes what it covers; a Feature wrapper and filters are accepted.
    let holed = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
        [[2.2, 48.8], [2.45, 48.8], [2.45, 48.92], [2.2, 48.92], [2.2, 48.8]],
        [[2.3, 48.85], [2.3, 48.88], [2.4, 48.88], [2.4, 48.85], [2.3, 48.85]]]}});
    let with_hole = post_json(
        &svc,
        "/api/v1/actors/within?limit=1000&demo=exclude",
        &holed,
    )
    .await
    .json();
    for f in with_hole["features"].as_array().expect("features") {
        let c = &f["geometry"]["coordinates"];
        let (lon, lat) = (c[0].as_f64().expect("lon"), c[1].as_f64().expect("lat"));
        assert!(
            !((2.3..2.4).contains(&lon) && (48.85..48.88).contains(&lat)),
            "{f}"
        );
        assert_eq!(f["properties"]["demo"], false);
    }
}

async fn coordinates_round_trip_exactly_between_the_store_and_the_index(store: Backend) {
    let app = spawn_app(store).await;
    let snap = app.state.snapshot.load();
    for i in (0..snap.actors.len() as u32).step_by(97) {
        let e = snap.actors.entry(i);
        let stored = app
            .state
            .store
            .actor(e.id)
            .await
            .expect("store")
            .expect("actor");
        assert_eq!(stored.fields.location, e.location, "actor {}", e.id);
    }
}

async fn an_actor_detail_has_every_public_field(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let list = get(&svc, "/api/v1/actors?q=solilab").await.json();
    let id = list["features"][0]["id"].as_i64().expect("id");
    let r = get(&svc, &format!("/api/v1/actors/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("application/geo+json")
    );
    let f = r.json();
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["id"], id);
    // The index (loaded in batches) and the store agree on the coordinates to the last bit.
    assert_eq!(f["geometry"], list["features"][0]["geometry"]);
    let p = &f["properties"];
    for key in [
        "name",
        "description",
        "categories",
        "family",
        "kinds",
        "siret",
        "street",
        "postcode",
        "commune",
        "epci",
        "departement",
        "region",
        "precision",
        "website",
        "email",
        "phone",
        "opening_hours",
        "accessibility",
        "source",
        "source_ref",
        "demo",
        "created_at",
        "updated_at",
    ] {
        assert!(p.get(key).is_some(), "missing {key}: {p}");
    }
    assert_eq!(p["commune"]["name"], "Nantes");
    assert_eq!(p["departement"]["code"], "44");
    assert_eq!(p["region"]["code"], "52");
    assert!(p.get("status").is_none(), "status is internal");
}

async fn open_now_keeps_only_places_whose_hours_say_open(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let all = get(&svc, "/api/v1/actors?departement=44&limit=1000")
        .await
        .json();
    let open = get(&svc, "/api/v1/actors?departement=44&open=now&limit=1000").await;
    assert_eq!(open.status, 200);
    let open = open.json();
    let (n_all, n_open) = (
        all["numberMatched"].as_u64().expect("count"),
        open["numberMatched"].as_u64().expect("count"),
    );
    assert!(n_open < n_all, "{n_open} of {n_all}");
    // Every place said open has opening hours that parse and say open now (Paris time).
    let snap = app.state.snapshot.load();
    let at = ancrage::index::actors::OpenAt::now();
    for f in open["features"].as_array().expect("features") {
        let idx = snap
            .actors
            .find(ancrage::domain::ActorId(f["id"].as_i64().expect("id")))
            .expect("indexed");
        assert!(snap.actors.is_open(idx, &at), "{f}");
    }
    get(&svc, "/api/v1/actors?open=tomorrow")
        .await
        .problem(400, Some("open"));
}

on_both_stores!(
    nearby_with_a_radius_returns_every_actor_within_it_nearest_first,
    nearby_pages_through_the_same_ordering,
    nearby_without_a_radius_returns_the_k_nearest,
    filters_combine_with_spatial_queries,
    a_viewport_query_has_a_total_and_respects_the_page_size,
    within_returns_the_actors_inside_a_polygon,
    coordinates_round_trip_exactly_between_the_store_and_the_index,
    an_actor_detail_has_every_public_field,
    open_now_keeps_only_places_whose_hours_say_open,
);
