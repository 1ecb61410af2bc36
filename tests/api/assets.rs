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

/// The body of a reply, decoded from the encoding it names.
fn decoded(reply: &crate::helpers::Reply) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    match reply.header("content-encoding").as_deref() {
        Some("br") => {
            brotli::Decompressor::new(&reply.bytes[..], 4096)
                .read_to_end(&mut out)
                .expect("valid brotli");
        }
        Some("gzip") => {
            flate2::read::GzDecoder::new(&reply.bytes[..])
                .read_to_end(&mut out)
                .expect("valid gzip");
        }
        None => out.extend_from_slice(&reply.bytes),
        Some(other) => panic!("unexpected encoding {other}"),
    }
    out
}

async fn files_are_sent_precompressed_in_the_encoding_the_client_prefers(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let path = "/vendor/maplibre-gl/maplibre-gl.mjs";
    let plain = get(&svc, path).await;
    assert_eq!(plain.header("content-encoding"), None, "no Accept-Encoding");
    assert!(plain.bytes.len() > 1_000_000);
    let with = |accept: &'static str| {
        test::TestRequest::get()
            .uri(path)
            .insert_header(("Accept-Encoding", accept))
    };
    let br = crate::helpers::send(&svc, with("gzip, deflate, br")).await;
    assert_eq!(br.header("content-encoding").as_deref(), Some("br"));
    assert_eq!(br.header("vary").as_deref(), Some("Accept-Encoding"));
    assert!(
        br.bytes.len() * 4 < plain.bytes.len(),
        "{} bytes",
        br.bytes.len()
    );
    assert_eq!(decoded(&br), plain.bytes);
    let gz = crate::helpers::send(&svc, with("gzip;q=1.0, br;q=0")).await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert!(
        gz.bytes.len() * 3 < plain.bytes.len(),
        "{} bytes",
        gz.bytes.len()
    );
    assert_eq!(decoded(&gz), plain.bytes);
    let star = crate::helpers::send(&svc, with("*")).await;
    assert_eq!(star.header("content-encoding").as_deref(), Some("br"));
    let none = crate::helpers::send(&svc, with("identity")).await;
    assert_eq!(none.header("content-encoding"), None);
    assert_eq!(none.bytes, plain.bytes);
    // Each encoding is its own representation, with its own tag.
    let tags = [&plain, &br, &gz].map(|r| r.header("etag").expect("an ETag"));
    assert_ne!(tags[0], tags[1]);
    assert_ne!(tags[1], tags[2]);
    let again = crate::helpers::send(
        &svc,
        with("br").insert_header(("If-None-Match", tags[1].as_str())),
    )
    .await;
    assert_eq!(again.status, 304);
    // The identity tag does not validate the brotli representation.
    let other = crate::helpers::send(
        &svc,
        with("br").insert_header(("If-None-Match", tags[0].as_str())),
    )
    .await;
    assert_eq!(other.status, 200);
    // A small file is not worth compressing.
    let small = crate::helpers::send(
        &svc,
        test::TestRequest::get()
            .uri("/vendor/maplibre-gl/VERSION")
            .insert_header(("Accept-Encoding", "br, gzip")),
    )
    .await;
    assert_eq!(small.header("content-encoding"), None);
}

/// The `?v=` versions a page gives its files, in its attributes and its import map.
fn versions_in(page: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for piece in page.split('"').chain(page.split("\":\"")) {
        if let Some((path, v)) = piece.split_once("?v=")
            && path.starts_with('/')
            && !found.iter().any(|(p, _): &(String, String)| p == path)
        {
            found.push((path.to_owned(), v.trim_end_matches('"').to_owned()));
        }
    }
    found
}

async fn pages_version_their_files_so_they_are_cached_for_a_year(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    for page in ["/", "/embed", "/territoire/departement/44", "/admin"] {
        let reply = get(&svc, page).await;
        assert_eq!(reply.status, 200, "{page}");
        assert_eq!(reply.header("cache-control").as_deref(), Some("no-cache"));
        let html = String::from_utf8_lossy(&reply.bytes).into_owned();
        let head = html.find("<head>").expect("a head");
        let map = html
            .find("<script type=\"importmap\">")
            .expect("an import map");
        let first_module = html.find("type=\"module\"").expect("a module");
        assert!(
            head < map && map < first_module,
            "{page}: the import map comes first"
        );
        let versions = versions_in(&html);
        assert!(
            versions.iter().any(|(p, _)| p == "/css/app.css"),
            "{page}: {versions:?}"
        );
        assert!(
            versions.iter().any(|(p, _)| p == "/js/state.mjs"),
            "{page}: modules imported by modules are versioned too"
        );
        for (path, v) in &versions {
            assert_eq!(v.len(), 12, "{path}?v={v}");
            let file = get(&svc, &format!("{path}?v={v}")).await;
            assert_eq!(file.status, 200, "{path}");
            assert_eq!(
                file.header("cache-control").as_deref(),
                Some("public, max-age=31536000, immutable"),
                "{path}"
            );
        }
    }
    // An old version is not cached for a year: it gets today's file, revalidated.
    let stale = get(&svc, "/css/app.css?v=000000000000").await;
    assert_eq!(stale.status, 200);
    assert_eq!(stale.header("cache-control").as_deref(), Some("no-cache"));
}

on_both_stores!(
    files_are_sent_precompressed_in_the_encoding_the_client_prefers,
    pages_version_their_files_so_they_are_cached_for_a_year,
);
