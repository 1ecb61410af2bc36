//! Framing and cross-origin headers, and oEmbed.

use crate::helpers::{Backend, get, send, spawn_app, spawn_app_with};
use actix_web::test::TestRequest;

async fn only_the_embed_page_may_be_framed_by_other_sites(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    for page in ["/", "/api/v1/docs", "/api/v1/categories"] {
        let r = get(&svc, page).await;
        assert_eq!(
            r.header("content-security-policy").as_deref(),
            Some("frame-ancestors 'self'"),
            "{page}"
        );
        assert_eq!(
            r.header("x-frame-options").as_deref(),
            Some("SAMEORIGIN"),
            "{page}"
        );
        assert_eq!(
            r.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{page}"
        );
    }
    let r = get(&svc, "/embed").await;
    assert_eq!(
        r.header("content-security-policy").as_deref(),
        Some("frame-ancestors *")
    );
    assert_eq!(r.header("x-frame-options"), None);
}

async fn the_read_api_is_open_to_other_origins_and_writes_are_not(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let r = send(
        &svc,
        TestRequest::get()
            .uri("/api/v1/actors?limit=1")
            .insert_header(("origin", "https://journal.example")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(r.header("access-control-allow-credentials"), None);
    // The polygon query is a read sent by POST: its preflight is answered.
    let pre = send(
        &svc,
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/actors/within")
            .insert_header(("origin", "https://journal.example"))
            .insert_header(("access-control-request-method", "POST"))
            .insert_header(("access-control-request-headers", "content-type")),
    )
    .await;
    assert_eq!(pre.status, 204);
    assert_eq!(
        pre.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert!(
        pre.header("access-control-allow-headers")
            .is_some_and(|h| h.contains("Content-Type"))
    );
    // A write (any other method) gets no CORS header, so browsers refuse it cross-origin.
    for (method, uri) in [
        ("DELETE", "/api/v1/actors/1"),
        ("PUT", "/api/v1/actors/1"),
        ("POST", "/api/v1/actors"),
    ] {
        let pre = send(
            &svc,
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri(uri)
                .insert_header(("origin", "https://journal.example"))
                .insert_header(("access-control-request-method", method)),
        )
        .await;
        assert_eq!(
            pre.header("access-control-allow-origin"),
            None,
            "{method} {uri}"
        );
        let direct = send(
            &svc,
            TestRequest::default()
                .method(actix_web::http::Method::from_bytes(method.as_bytes()).expect("method"))
                .uri(uri)
                .insert_header(("origin", "https://journal.example")),
        )
        .await;
        assert_eq!(
            direct.header("access-control-allow-origin"),
            None,
            "{method} {uri}"
        );
    }
}

async fn oembed_turns_a_map_address_into_an_iframe(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let url = "http%3A%2F%2Flocalhost%3A8080%2F%3Fcat%3Dalimentation%26z%3D9%26lon%3D-1.55%26lat%3D47.2%26junk%3D1";
    let r = get(&svc, &format!("/oembed?url={url}&maxwidth=500")).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    let b = r.json();
    assert_eq!(b["version"], "1.0");
    assert_eq!(b["type"], "rich");
    assert_eq!(b["provider_name"], "Ancrage");
    assert_eq!(b["width"], 500);
    assert_eq!(b["height"], 480);
    let html = b["html"].as_str().expect("html");
    assert!(html.starts_with("<iframe src=\"http://localhost:8080/embed?cat=alimentation&amp;z=9&amp;lon=-1.55&amp;lat=47.2\""), "{html}");
    assert!(
        !html.contains("junk"),
        "unknown parameters are dropped: {html}"
    );
    for attr in [
        "title=\"Carte de l'économie sociale et solidaire\"",
        "loading=\"lazy\"",
        "allow=\"geolocation; fullscreen\"",
        "width=\"500\"",
    ] {
        assert!(html.contains(attr), "{attr} in {html}");
    }
    // A territory page embeds the map locked to it, named in the title.
    let t = get(
        &svc,
        "/oembed?url=http://localhost:8080/territoire/epci/244400404",
    )
    .await
    .json();
    let html = t["html"].as_str().expect("html");
    assert!(html.contains("/embed?territory=epci:244400404"), "{html}");
    assert!(
        t["title"]
            .as_str()
            .is_some_and(|s| s.ends_with("Nantes Métropole")),
        "{t}"
    );
}

async fn oembed_refuses_what_it_cannot_embed(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    get(&svc, "/oembed").await.problem(400, Some("url"));
    get(&svc, "/oembed?url=https://elsewhere.example/")
        .await
        .problem(404, None);
    get(&svc, "/oembed?url=http://localhost:8080/api/v1/actors")
        .await
        .problem(404, None);
    get(
        &svc,
        "/oembed?url=http://localhost:8080/territoire/epci/999999999",
    )
    .await
    .problem(404, None);
    get(&svc, "/oembed?url=http://localhost:8080/&maxwidth=wide")
        .await
        .problem(400, Some("maxwidth"));
    get(&svc, "/oembed?url=http://localhost:8080/&maxheight=20")
        .await
        .problem(400, Some("maxheight"));
    let r = get(&svc, "/oembed?url=http://localhost:8080/&format=xml").await;
    assert_eq!(r.status, 501);
}

async fn the_allow_list_limits_who_may_frame_the_embed_page(store: Backend) {
    let app = spawn_app_with(store, |s| {
        s.embed_origins = vec![
            "https://mairie.example".into(),
            "http://localhost:3000".into(),
        ];
    })
    .await;
    let svc = app.service().await;
    let r = get(&svc, "/embed?territory=epci:244400404").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-security-policy").as_deref(),
        Some("frame-ancestors 'self' https://mairie.example http://localhost:3000")
    );
    assert_eq!(r.header("x-frame-options"), None);
    // Other pages stay framed by the site only.
    assert_eq!(
        get(&svc, "/")
            .await
            .header("content-security-policy")
            .as_deref(),
        Some("frame-ancestors 'self'")
    );
}

async fn the_embed_page_is_served_as_html_that_runs_the_map_in_embed_mode(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let r = get(&svc, "/embed?cat=alimentation").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let html = String::from_utf8_lossy(&r.bytes);
    assert!(html.contains(r#"data-page="embed""#), "{html}");
    // The module is versioned by its content, like every file the page names.
    assert!(
        html.contains(r#"<script type="module" src="/js/app.mjs?v="#),
        "{html}"
    );
    // Nothing is loaded from elsewhere: every absolute address is the site's own.
    for (at, _) in html.match_indices("http") {
        assert!(
            html[at..].starts_with("http://localhost:8080/")
                || html[at..].starts_with("http:%2F%2Flocalhost:8080%2F"),
            "third-party address in the embed page: {}",
            &html[at..(at + 40).min(html.len())]
        );
    }
}

async fn widget_js_is_a_cacheable_module_other_sites_may_load(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let r = send(
        &svc,
        TestRequest::get()
            .uri("/widget.js")
            .insert_header(("origin", "https://journal.example")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        r.header("access-control-allow-origin").as_deref(),
        Some("*")
    );
    assert_eq!(
        r.header("cache-control").as_deref(),
        Some("public, max-age=3600")
    );
    let etag = r.header("etag").expect("etag");
    let body = String::from_utf8_lossy(&r.bytes);
    assert!(
        body.contains("customElements.define('ancrage-map'"),
        "{body}"
    );
    assert!(body.contains("import.meta.url"));
    let again = send(
        &svc,
        TestRequest::get()
            .uri("/widget.js")
            .insert_header(("if-none-match", etag.as_str())),
    )
    .await;
    assert_eq!(again.status, 304);
}

async fn shared_pages_name_their_oembed_address_in_their_html(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    for (page, encoded) in [
        ("/", "http:%2F%2Flocalhost:8080%2F"),
        (
            "/?cat=alimentation&z=9",
            "http:%2F%2Flocalhost:8080%2F%3Fcat%3Dalimentation%26z%3D9",
        ),
        (
            "/embed?territory=epci:244400404",
            "http:%2F%2Flocalhost:8080%2Fembed%3Fterritory%3Depci:244400404",
        ),
    ] {
        let r = get(&svc, page).await;
        assert_eq!(r.status, 200, "{page}");
        let html = String::from_utf8_lossy(&r.bytes);
        let link = format!(
            r#"<link rel="alternate" type="application/json+oembed" href="http://localhost:8080/oembed?format=json&amp;url={encoded}" title="Ancrage (oEmbed)">"#
        );
        let at = html
            .find(&link)
            .unwrap_or_else(|| panic!("{link} in {page}:\n{html}"));
        assert!(at < html.find("</head>").expect("head"), "{page}");
    }
    // The link leads to a working oEmbed answer.
    let r = get(
        &svc,
        "/oembed?format=json&url=http:%2F%2Flocalhost:8080%2F%3Fcat%3Dalimentation%26z%3D9",
    )
    .await;
    assert_eq!(r.status, 200);
    // Pages that are not maps get none.
    for page in ["/api/v1/docs", "/js/app.mjs"] {
        let html = String::from_utf8_lossy(&get(&svc, page).await.bytes).into_owned();
        assert!(!html.contains("json+oembed"), "{page}");
    }
}

async fn oembed_reads_the_territory_of_kind_and_code_or_of_the_map_selection(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    for url in [
        "http://localhost:8080/embed?kind=epci%26code=244400404%26controls=list",
        "http://localhost:8080/?terr=epci:244400404%26controls=list",
    ] {
        let b = get(&svc, &format!("/oembed?url={url}")).await.json();
        let html = b["html"].as_str().expect("html");
        assert!(
            html.contains("/embed?controls=list&amp;territory=epci:244400404\""),
            "{url}: {html}"
        );
        assert!(
            b["title"]
                .as_str()
                .is_some_and(|t| t.ends_with("Nantes Métropole")),
            "{b}"
        );
    }
}

on_both_stores!(
    only_the_embed_page_may_be_framed_by_other_sites,
    the_read_api_is_open_to_other_origins_and_writes_are_not,
    oembed_turns_a_map_address_into_an_iframe,
    oembed_refuses_what_it_cannot_embed,
    the_allow_list_limits_who_may_frame_the_embed_page,
    the_embed_page_is_served_as_html_that_runs_the_map_in_embed_mode,
    widget_js_is_a_cacheable_module_other_sites_may_load,
    shared_pages_name_their_oembed_address_in_their_html,
    oembed_reads_the_territory_of_kind_and_code_or_of_the_map_selection,
);
