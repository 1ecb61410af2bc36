//! The OpenAPI document matches what the server does.

use crate::helpers::{Backend, get, post_json, spawn_app};
use serde_json::{Value, json};

/// Every route the server registers (`routes::configure`), as `METHOD path-template`.
const ROUTES: [&str; 41] = [
    "get /health",
    "get /oembed",
    "get /api/v1/openapi.json",
    "get /api/v1/docs",
    "get /api/v1/actors",
    "get /api/v1/actors.csv",
    "get /api/v1/actors.geojson",
    "get /api/v1/actors/nearby",
    "post /api/v1/actors/within",
    "get /api/v1/actors/{id}",
    "get /api/v1/categories",
    "get /api/v1/territories/search",
    "get /api/v1/territories/{kind}/{code}",
    "get /api/v1/territories/{kind}/{code}/actors",
    "get /api/v1/territories/{kind}/{code}/coverage",
    "get /api/v1/territories/{kind}/{code}/coverage/structures",
    "get /api/v1/territories/{kind}/{code}/coverage/{file}",
    "get /api/v1/locate",
    "get /api/v1/map/config",
    "get /api/v1/map/points",
    "get /api/v1/map/clusters",
    "get /api/v1/map/facets",
    "get /api/v1/map/hours",
    "get /api/v1/map/outlines/departements",
    "get /api/v1/map/outlines/communes",
    "get /api/v1/map/outlines/{kind}/{code}",
    "get /tiles/communes/{z}/{x}/{y}.mvt",
    "get /tiles/actors/{z}/{x}/{y}.mvt",
    "post /api/v1/contributions",
    "get /api/v1/admin/session",
    "get /api/v1/admin/actors",
    "post /api/v1/admin/actors",
    "get /api/v1/admin/actors/{id}",
    "patch /api/v1/admin/actors/{id}",
    "put /api/v1/admin/actors/{id}",
    "post /api/v1/admin/actors/{id}/archive",
    "get /api/v1/admin/actors/{id}/history",
    "get /api/v1/admin/contributions",
    "get /api/v1/admin/contributions/{id}",
    "post /api/v1/admin/contributions/{id}/approve",
    "post /api/v1/admin/contributions/{id}/reject",
];

fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("ops") {
            out.push((method.clone(), path.clone(), op.clone()));
        }
    }
    out
}

async fn the_document_lists_exactly_the_routes_of_the_server(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let doc = get(&svc, "/api/v1/openapi.json").await.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented: Vec<String> = operations(&doc)
        .iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    documented.sort();
    let mut routes: Vec<String> = ROUTES.iter().map(|s| (*s).to_owned()).collect();
    routes.sort();
    assert_eq!(documented, routes);
}

async fn every_documented_operation_answers_its_examples_with_a_documented_status_and_type(
    store: Backend,
) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let doc = get(&svc, "/api/v1/openapi.json").await.json();
    for (method, path, op) in operations(&doc) {
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let mut uri = path.clone();
        let mut query = Vec::new();
        for p in &params {
            let name = p["name"].as_str().expect("name");
            let example = match &p["example"] {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            if p["in"] == "path" {
                uri = uri.replace(&format!("{{{name}}}"), &example);
            } else if p["required"] == true {
                query.push(format!("{name}={example}"));
            }
        }
        if path == "/api/v1/actors/{id}" {
            let first = get(&svc, "/api/v1/actors?limit=1").await.json();
            uri = format!("/api/v1/actors/{}", first["features"][0]["id"]);
        }
        if !query.is_empty() {
            uri = format!("{uri}?{}", query.join("&"));
        }
        let reply = if method == "post" {
            let example = op["requestBody"]["content"]["application/json"]["example"].clone();
            post_json(&svc, &uri, &example).await
        } else {
            get(&svc, &uri).await
        };
        let status = reply.status.as_u16().to_string();
        let documented = &op["responses"][&status];
        assert!(
            documented.is_object(),
            "{method} {uri} answered {status}, not documented"
        );
        if let Some(content) = documented["content"].as_object() {
            let ct = reply.header("content-type").unwrap_or_default();
            assert!(
                content.keys().any(|k| ct.starts_with(k.as_str())),
                "{method} {uri}: {ct} not in {content:?}"
            );
        }
        // Required properties of the documented schema are present (one level deep).
        if let Some(schema_ref) = documented["content"]
            .as_object()
            .and_then(|c| c.values().next())
            .and_then(|m| m["schema"]["$ref"].as_str())
        {
            let name = schema_ref.rsplit('/').next().expect("ref name");
            let schema = &doc["components"]["schemas"][name];
            let body = reply.json();
            for key in schema["required"].as_array().into_iter().flatten() {
                let key = key.as_str().expect("key");
                assert!(
                    body.get(key).is_some(),
                    "{method} {uri}: response lacks required '{key}'"
                );
            }
        }
    }
}

async fn documented_error_statuses_are_the_ones_the_server_uses(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let doc = get(&svc, "/api/v1/openapi.json").await.json();
    let cases: [(&str, &str, u16); 9] = [
        (
            "/api/v1/territories/{kind}/{code}/coverage",
            "/api/v1/territories/departement/44/coverage?distance=1",
            400,
        ),
        (
            "/api/v1/territories/{kind}/{code}/coverage/{file}",
            "/api/v1/territories/departement/44/coverage/nothing.csv",
            404,
        ),
        (
            "/api/v1/actors/nearby",
            "/api/v1/actors/nearby?lon=1&lat=99",
            400,
        ),
        (
            "/api/v1/territories/{kind}/{code}",
            "/api/v1/territories/commune/44999",
            404,
        ),
        ("/api/v1/actors", "/api/v1/actors?limit=100000", 400),
        ("/api/v1/locate", "/api/v1/locate?lon=-30&lat=45", 404),
        ("/api/v1/actors/{id}", "/api/v1/actors/0", 404),
        (
            "/tiles/communes/{z}/{x}/{y}.mvt",
            "/tiles/communes/7/63/44.mvt",
            404,
        ),
        (
            "/tiles/communes/{z}/{x}/{y}.mvt",
            "/tiles/communes/12/4096/0.mvt",
            400,
        ),
    ];
    for (path, uri, status) in cases {
        let r = get(&svc, uri).await;
        assert_eq!(r.status.as_u16(), status, "{uri}");
        assert!(
            doc["paths"][path]["get"]["responses"][status.to_string()].is_object(),
            "{path} does not document {status}"
        );
    }
    let r = post_json(
        &svc,
        "/api/v1/actors/within",
        &json!({"type": "Point", "coordinates": [0, 0]}),
    )
    .await;
    assert_eq!(r.status.as_u16(), 422);
    assert!(doc["paths"]["/api/v1/actors/within"]["post"]["responses"]["422"].is_object());
}

on_both_stores!(
    the_document_lists_exactly_the_routes_of_the_server,
    every_documented_operation_answers_its_examples_with_a_documented_status_and_type,
    documented_error_statuses_are_the_ones_the_server_uses,
);
