//! Every invalid input gets a 4xx problem+json that names the field and the rule.

use crate::helpers::{Backend, get, post_json, send, spawn_app};
use actix_web::test::TestRequest;
use serde_json::json;

async fn coordinates_out_of_range_or_missing_are_rejected_by_name(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/api/v1/actors/nearby?lon=2&lat=95")
        .await
        .problem(400, Some("lat"));
    get(&svc, "/api/v1/actors/nearby?lon=-200&lat=45")
        .await
        .problem(400, Some("lon"));
    get(&svc, "/api/v1/actors/nearby?lat=45")
        .await
        .problem(400, Some("lon"));
    let p = get(&svc, "/api/v1/actors/nearby?lon=2,5&lat=45")
        .await
        .problem(400, Some("lon"));
    assert!(
        p["rule"].as_str().expect("rule").contains("not a number"),
        "{p}"
    );
    get(&svc, "/api/v1/locate?lon=2&lat=-91")
        .await
        .problem(400, Some("lat"));
}

async fn a_radius_above_the_cap_or_not_positive_is_rejected(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let p = get(&svc, "/api/v1/actors/nearby?lon=2&lat=45&radius=150000")
        .await
        .problem(400, Some("radius"));
    assert!(p["rule"].as_str().expect("rule").contains("100000"), "{p}");
    get(&svc, "/api/v1/actors/nearby?lon=2&lat=45&radius=0")
        .await
        .problem(400, Some("radius"));
    get(&svc, "/api/v1/actors/nearby?lon=2&lat=45&radius=-5")
        .await
        .problem(400, Some("radius"));
}

async fn unknown_categories_families_and_kinds_are_named(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let p = get(&svc, "/api/v1/actors?category=boulangerie")
        .await
        .problem(400, Some("category"));
    assert!(p["rule"].as_str().expect("rule").contains("boulangerie"));
    get(&svc, "/api/v1/actors?family=sarl")
        .await
        .problem(400, Some("family"));
    get(&svc, "/api/v1/actors?kind=castle")
        .await
        .problem(400, Some("kind"));
    get(&svc, "/api/v1/actors?demo=maybe")
        .await
        .problem(400, Some("demo"));
}

async fn page_sizes_and_offsets_out_of_bounds_are_rejected(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let p = get(&svc, "/api/v1/actors?limit=5000")
        .await
        .problem(400, Some("limit"));
    assert!(p["rule"].as_str().expect("rule").contains("1000"));
    get(&svc, "/api/v1/actors?limit=0")
        .await
        .problem(400, Some("limit"));
    get(&svc, "/api/v1/actors?limit=ten")
        .await
        .problem(400, Some("limit"));
    get(&svc, "/api/v1/actors?offset=-1")
        .await
        .problem(400, Some("offset"));
    get(&svc, "/api/v1/territories/search?q=nantes&limit=500")
        .await
        .problem(400, Some("limit"));
}

async fn malformed_bounding_boxes_are_rejected(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/api/v1/actors?bbox=1,2,3")
        .await
        .problem(400, Some("bbox"));
    get(&svc, "/api/v1/actors?bbox=3,45,1,46")
        .await
        .problem(400, Some("bbox"));
    get(&svc, "/api/v1/actors?bbox=1,45,2,95")
        .await
        .problem(400, Some("bbox"));
}

async fn territory_codes_are_checked_for_shape_then_existence(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/api/v1/territories/canton/44")
        .await
        .problem(400, Some("kind"));
    get(&svc, "/api/v1/territories/commune/4410")
        .await
        .problem(400, Some("code"));
    let p = get(&svc, "/api/v1/territories/commune/44999")
        .await
        .problem(404, None);
    assert!(p["detail"].as_str().expect("detail").contains("44999"));
    get(&svc, "/api/v1/territories/epci/123456789/actors")
        .await
        .problem(404, None);
    get(&svc, "/api/v1/actors?commune=99999")
        .await
        .problem(400, Some("commune"));
    get(&svc, "/api/v1/actors?departement=20")
        .await
        .problem(400, Some("departement"));
    get(&svc, "/api/v1/territories/search")
        .await
        .problem(400, Some("q"));
    get(&svc, "/api/v1/territories/search?q=nantes&kind=canton")
        .await
        .problem(400, Some("kind"));
}

async fn malformed_self_intersecting_and_oversized_polygons_are_rejected(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let url = "/api/v1/actors/within";
    let open = json!({"type": "Polygon", "coordinates": [[[0, 45], [1, 45], [1, 46], [0, 46]]]});
    let p = post_json(&svc, url, &open)
        .await
        .problem(422, Some("/coordinates/0"));
    assert!(p["rule"].as_str().expect("rule").contains("closed"));
    let bow =
        json!({"type": "Polygon", "coordinates": [[[0, 45], [1, 46], [1, 45], [0, 46], [0, 45]]]});
    let p = post_json(&svc, url, &bow)
        .await
        .problem(422, Some("/coordinates/0"));
    assert!(
        p["rule"]
            .as_str()
            .expect("rule")
            .contains("self-intersects")
    );
    let point = json!({"type": "Point", "coordinates": [0, 45]});
    post_json(&svc, url, &point)
        .await
        .problem(422, Some("/type"));
    let n = 10_050;
    let mut ring: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i) / f64::from(n);
            json!([2.0 + a.cos(), 46.0 + a.sin()])
        })
        .collect();
    ring.push(ring[0].clone());
    let big = json!({"type": "Polygon", "coordinates": [ring]});
    let p = post_json(&svc, url, &big)
        .await
        .problem(422, Some("/coordinates"));
    assert!(p["rule"].as_str().expect("rule").contains("10000"));
}

async fn bodies_that_are_too_large_or_not_json_are_rejected(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let huge = format!(
        "{{\"type\":\"Polygon\",\"coordinates\":[],\"pad\":\"{}\"}}",
        "x".repeat(1_100_000)
    );
    let r = send(
        &svc,
        TestRequest::post()
            .uri("/api/v1/actors/within")
            .insert_header(("content-type", "application/json"))
            .set_payload(huge),
    )
    .await;
    r.problem(413, None);
    let r = send(
        &svc,
        TestRequest::post()
            .uri("/api/v1/actors/within")
            .insert_header(("content-type", "application/json"))
            .set_payload("{not json"),
    )
    .await;
    r.problem(400, None);
}

async fn unknown_api_paths_and_ids_are_404_problems(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/api/v1/nothing-here").await.problem(404, None);
    get(&svc, "/api/v1/actors/99999999")
        .await
        .problem(404, None);
    get(&svc, "/api/v1/actors/abc")
        .await
        .problem(400, Some("id"));
    get(&svc, "/api/v1/locate?lon=-30&lat=45")
        .await
        .problem(404, None);
}

on_both_stores!(
    coordinates_out_of_range_or_missing_are_rejected_by_name,
    a_radius_above_the_cap_or_not_positive_is_rejected,
    unknown_categories_families_and_kinds_are_named,
    page_sizes_and_offsets_out_of_bounds_are_rejected,
    malformed_bounding_boxes_are_rejected,
    territory_codes_are_checked_for_shape_then_existence,
    malformed_self_intersecting_and_oversized_polygons_are_rejected,
    bodies_that_are_too_large_or_not_json_are_rejected,
    unknown_api_paths_and_ids_are_404_problems,
);
