//! `GET /api/v1/actors.csv` and `.geojson`: the list API's filters, every match, streamed.

use crate::helpers::{Backend, get, spawn_app};

async fn exports_follow_the_list_filters_and_hold_every_match(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let filter = "departement=44&category=alimentation";
    let list = get(&svc, &format!("/api/v1/actors?{filter}&limit=1")).await;
    let matched = list.json()["numberMatched"]
        .as_u64()
        .expect("matched count");
    assert!(
        matched > 1,
        "the fixture needs several matches, got {matched}"
    );

    let geo = get(&svc, &format!("/api/v1/actors.geojson?{filter}")).await;
    assert_eq!(geo.status, 200);
    assert_eq!(
        geo.header("content-type").as_deref(),
        Some("application/geo+json")
    );
    assert!(
        geo.header("content-disposition")
            .is_some_and(|d| d.contains("attachment") && d.contains(".geojson"))
    );
    let body = geo.json();
    let features = body["features"].as_array().expect("features");
    assert_eq!(
        features.len() as u64,
        matched,
        "the export is not paginated"
    );
    for f in features {
        let cats = f["properties"]["categories"]
            .as_array()
            .expect("categories");
        assert!(!cats.is_empty());
        assert!(
            f["properties"]["commune"]
                .as_str()
                .is_some_and(|c| c.starts_with("44"))
        );
    }

    let csv = get(&svc, &format!("/api/v1/actors.csv?{filter}")).await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.bytes.starts_with(b"\xEF\xBB\xBFsource_ref;name;"),
        "BOM and header"
    );
    let text = String::from_utf8(csv.bytes.clone()).expect("UTF-8");
    assert_eq!(
        text.lines().count() as u64,
        matched + 1,
        "header plus one line per actor"
    );

    let bad = get(&svc, "/api/v1/actors.csv?category=nope").await;
    bad.problem(400, Some("category"));
}

on_both_stores!(exports_follow_the_list_filters_and_hold_every_match,);
