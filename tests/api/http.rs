//! HTTP behaviour: compression negotiation, validators, caching, the real binary.

use crate::helpers::{Backend, get, insert_published, send, spawn_app};
use actix_web::test::TestRequest;
use ancrage::store::Store;
use std::io::{Read, Write};

async fn large_responses_are_gzipped_only_when_the_client_accepts_it(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let uri = "/api/v1/actors/nearby?lon=2.35&lat=48.85&limit=100";
    let plain = get(&svc, uri).await;
    assert_eq!(plain.header("content-encoding"), None);
    let gz = send(
        &svc,
        TestRequest::get()
            .uri(uri)
            .insert_header(("accept-encoding", "br, gzip;q=0.8")),
    )
    .await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gz.header("vary").as_deref(), Some("Accept-Encoding"));
    assert!(
        gz.bytes.len() * 3 < plain.bytes.len(),
        "{} vs {}",
        gz.bytes.len(),
        plain.bytes.len()
    );
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(&gz.bytes[..])
        .read_to_end(&mut decoded)
        .expect("valid gzip");
    assert_eq!(decoded, plain.bytes);
    let refused = send(
        &svc,
        TestRequest::get()
            .uri(uri)
            .insert_header(("accept-encoding", "gzip;q=0")),
    )
    .await;
    assert_eq!(refused.header("content-encoding"), None);
    let small = send(
        &svc,
        TestRequest::get()
            .uri("/api/v1/actors/nearby?lon=2.35&lat=48.85&limit=1")
            .insert_header(("accept-encoding", "gzip")),
    )
    .await;
    assert_eq!(
        small.header("content-encoding"),
        None,
        "tiny bodies are not worth compressing"
    );
}

async fn cacheable_reads_carry_an_etag_and_answer_304_to_if_none_match(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let uri = "/api/v1/actors?bbox=-1.6,47.18,-1.5,47.25";
    let first = get(&svc, uri).await;
    let etag = first.header("etag").expect("etag");
    assert!(etag.starts_with("W/\""));
    assert_eq!(
        first.header("cache-control").as_deref(),
        Some("public, max-age=60")
    );
    let again = send(
        &svc,
        TestRequest::get()
            .uri(uri)
            .insert_header(("if-none-match", etag.as_str())),
    )
    .await;
    assert_eq!(again.status, 304);
    assert!(again.bytes.is_empty());
    let other = get(&svc, "/api/v1/actors?bbox=-1.6,47.18,-1.5,47.26").await;
    assert_ne!(
        other.header("etag"),
        Some(etag.clone()),
        "different queries, different validators"
    );
    // A reload with nothing changed in the store keeps the snapshot, so the validator holds.
    app.state.refresh_actors().await.expect("refresh");
    let unchanged = send(
        &svc,
        TestRequest::get()
            .uri(uri)
            .insert_header(("if-none-match", etag.as_str())),
    )
    .await;
    assert_eq!(unchanged.status, 304);
    // A new snapshot (the store changed) invalidates it.
    let snap = app.state.snapshot.load();
    insert_published(&app, |f| f.source_ref = Some("etag-test".into())).await;
    app.state.refresh_actors().await.expect("refresh");
    assert!(app.state.snapshot.load().version > snap.version);
    let after = send(
        &svc,
        TestRequest::get()
            .uri(uri)
            .insert_header(("if-none-match", etag.as_str())),
    )
    .await;
    assert_eq!(after.status, 200);
    let terr = get(&svc, "/api/v1/territories/search?q=lille").await;
    assert_eq!(
        terr.header("cache-control").as_deref(),
        Some("public, max-age=86400")
    );
}

async fn the_real_server_binds_a_free_port_and_answers_over_tcp(store: Backend) {
    let app = spawn_app(store).await;
    let settings = app.settings.clone();
    let server = ancrage::startup::Application::build(settings)
        .await
        .expect("build");
    let port = server.port();
    assert_ne!(port, 0);
    actix_web::rt::spawn(server.run_until_stopped());
    let reply = actix_web::rt::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    })
    .await
    .expect("client");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"status\":\"ok\""), "{reply}");
}

async fn the_front_end_and_the_docs_page_are_served_with_their_media_types(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let index = get(&svc, "/").await;
    assert_eq!(index.status, 200);
    assert!(
        index
            .header("content-type")
            .expect("type")
            .starts_with("text/html")
    );
    assert!(String::from_utf8_lossy(&index.bytes).contains("lang=\"fr\""));
    let docs = get(&svc, "/api/v1/docs").await;
    assert_eq!(docs.status, 200);
    assert!(String::from_utf8_lossy(&docs.bytes).contains("openapi.json"));
    assert_eq!(get(&svc, "/no-such-page").await.status, 404);
}

fn ancrage() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_ancrage"))
}

#[test]
fn help_explains_each_command_and_setting() {
    let out = ancrage().arg("--help").output().expect("run --help");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "serve",
        "seed",
        "--bind",
        "--database-url",
        "ANCRAGE_BIND",
        "ANCRAGE_DATABASE_URL",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}:\n{text}");
    }
}

#[test]
fn an_unusable_data_directory_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").expect("write");
    let out = ancrage()
        .args([
            "seed",
            "--database-url",
            &format!("sqlite://{}/ancrage.db", file.display()),
        ])
        .env("ANCRAGE_DEMO_ACTORS", "0")
        .output()
        .expect("run seed");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("data directory") && !err.contains("panicked"),
        "{err}"
    );
    let out = ancrage()
        .args(["--bind", "nonsense"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("host:port"));
}

async fn health_names_the_backend_and_the_revision_of_the_snapshot(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let before = get(&svc, "/health").await;
    assert_eq!(before.status, 200);
    assert_eq!(before.header("cache-control").as_deref(), Some("no-store"));
    let body = before.json();
    let name = match store {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(body["store"]["backend"], name, "{body}");
    // No watcher runs in process: nobody listens, the state polls (the instances test sees
    // PostgreSQL's feed connected in a real server).
    assert_eq!(body["store"]["changeFeed"], "polling", "{body}");
    let revision = body["store"]["revision"].as_i64().expect("revision");
    assert_eq!(
        revision,
        app.state.store.revision().await.expect("revision"),
        "the snapshot reflects the store"
    );
    insert_published(&app, |f| f.source_ref = Some("health-test".into())).await;
    app.state.refresh_actors().await.expect("refresh");
    let after = get(&svc, "/health").await.json();
    assert!(
        after["store"]["revision"].as_i64().expect("revision") > revision,
        "{after}"
    );
}

on_both_stores!(
    health_names_the_backend_and_the_revision_of_the_snapshot,
    large_responses_are_gzipped_only_when_the_client_accepts_it,
    cacheable_reads_carry_an_etag_and_answer_304_to_if_none_match,
    the_real_server_binds_a_free_port_and_answers_over_tcp,
    the_front_end_and_the_docs_page_are_served_with_their_media_types,
);
