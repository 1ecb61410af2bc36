//! The map page's files: JavaScript modules served as JavaScript, vendored files cached, the
//! page's own files revalidated, and every module the page imports present.

use crate::helpers::{Backend, get, spawn_app};
use actix_web::test;

async fn modules_are_javascript_vendored_files_are_cached_and_the_page_revalidates(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let maplibre = get(&svc, "/vendor/maplibre-gl/maplibre-gl.mjs").await;
    assert_eq!(maplibre.status, 200);
    assert_eq!(
        maplibre.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        maplibre.header("cache-control").as_deref(),
        Some("public, max-age=86400")
    );
    assert_eq!(
        maplibre.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    for path in [
        "/vendor/maplibre-gl/maplibre-gl-worker.mjs",
        "/vendor/maplibre-gl/maplibre-gl.css",
        "/vendor/maplibre-gl/LICENSE.txt",
    ] {
        assert_eq!(get(&svc, path).await.status, 200, "{path}");
    }
    let app_js = get(&svc, "/js/app.mjs").await;
    assert_eq!(
        app_js.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(app_js.header("cache-control").as_deref(), Some("no-cache"));
    let etag = app_js.header("etag").expect("an ETag");
    let again = crate::helpers::send(
        &svc,
        test::TestRequest::get()
            .uri("/js/app.mjs")
            .insert_header(("If-None-Match", etag.as_str())),
    )
    .await;
    assert_eq!(again.status, 304);
    let css = get(&svc, "/css/app.css").await;
    assert_eq!(
        css.header("content-type").as_deref(),
        Some("text/css; charset=utf-8")
    );
}

async fn every_module_the_page_imports_is_served(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let mut pending = vec!["/js/app.mjs".to_owned()];
    let mut seen = Vec::new();
    while let Some(path) = pending.pop() {
        if seen.contains(&path) {
            continue;
        }
        let reply = get(&svc, &path).await;
        assert_eq!(reply.status, 200, "{path}");
        let text = String::from_utf8_lossy(&reply.bytes).into_owned();
        if !path.starts_with("/vendor/") {
            for line in text.lines().filter(|l| l.contains(" from '")) {
                let Some(target) = line
                    .split(" from '")
                    .nth(1)
                    .and_then(|r| r.split('\'').next())
                else {
                    continue;
                };
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                let resolved = if target.starts_with('/') {
                    target.to_owned()
                } else {
                    let mut parts: Vec<&str> = dir.split('/').collect();
                    for seg in target.split('/') {
                        match seg {
                            "." => {}
                            ".." => {
                                parts.pop();
                            }
                            s => parts.push(s),
                        }
                    }
                    parts.join("/")
                };
                pending.push(resolved);
            }
        }
        seen.push(path);
    }
    assert!(seen.len() >= 7, "{seen:?}");
    assert!(seen.iter().any(|p| p == "/js/i18n/en.mjs"), "{seen:?}");
}

on_both_stores!(
    modules_are_javascript_vendored_files_are_cached_and_the_page_revalidates,
    every_module_the_page_imports_is_served,
);
