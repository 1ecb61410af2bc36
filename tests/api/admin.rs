//! The administration API: tokens, authentication, audited create/update/archive.

use crate::helpers::{Backend, Reply, admin_token, get, send, spawn_app, with_token};
use actix_web::test::TestRequest;
use ancrage::admin::token;
use ancrage::ingest::{ActorDraft, DraftError, Strictness, Validator};
use ancrage::store::Store;
use serde_json::{Value, json};

fn nantes_place(name: &str) -> Value {
    json!({
        "name": name,
        "description": "Épicerie associative du quartier",
        "categories": ["epicerie-solidaire"],
        "family": "association",
        "street": "2 rue de la Paix",
        "postcode": "44000",
        "commune": "44109",
        "lon": -1.5536,
        "lat": 47.2184,
        "phone": "02 40 00 00 00",
    })
}

async fn tokens_are_stored_as_hashes_listed_and_revoked(store: Backend) {
    let app = spawn_app(store).await;
    let store = &app.state.store;
    let secret = token::create(store, "camille").await.expect("created");
    assert!(
        secret.len() >= token::PREFIX.len() + 32,
        "at least 128 bits"
    );
    assert!(
        store
            .token_hash_known(&token::hash(&secret))
            .await
            .expect("hash"),
        "the hash of the token is stored"
    );
    assert!(
        !store.token_hash_known(&secret).await.expect("secret"),
        "the token itself is not"
    );
    let listed = store.tokens().await.expect("list");
    let whole_row = format!("{listed:?}");
    assert!(!whole_row.contains(&secret[token::PREFIX.len()..]));

    assert!(matches!(
        token::create(store, "camille").await,
        Err(token::TokenError::Taken(_))
    ));
    let listed = store.tokens().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "camille");
    assert_eq!(listed[0].last_used_at, None);

    let svc = app.service().await;
    let r = send(
        &svc,
        with_token(TestRequest::get().uri("/api/v1/admin/session"), &secret),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["name"], "camille");
    assert!(
        store.tokens().await.expect("list")[0]
            .last_used_at
            .is_some()
    );

    token::revoke(store, "camille").await.expect("revoked");
    let r = send(
        &svc,
        with_token(TestRequest::get().uri("/api/v1/admin/session"), &secret),
    )
    .await;
    r.problem(401, None);
    assert!(store.tokens().await.expect("list")[0].revoked_at.is_some());
    assert!(matches!(
        token::revoke(store, "camille").await,
        Err(token::TokenError::Unknown(_))
    ));
    // The name is free again once revoked.
    let again = token::create(store, "camille").await.expect("new token");
    assert_ne!(again, secret);
}

#[test]
fn the_command_line_prints_a_token_once_lists_and_revokes_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("ancrage.db").display());
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ancrage"))
            .args(["--database-url", &url, "admin"])
            .args(args)
            .env("RUST_LOG", "error")
            .output()
            .expect("running ancrage");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, printed, _) = run(&["create-token", "dominique"]);
    assert!(ok);
    let secret = printed.trim();
    assert!(secret.starts_with(token::PREFIX) && secret.len() == token::PREFIX.len() + 64);
    let (ok, listed, _) = run(&["list-tokens"]);
    assert!(ok);
    assert!(
        listed.lines().any(|l| l.starts_with("dominique\t")),
        "{listed}"
    );
    assert!(!listed.contains(secret), "the list never shows a token");
    let (ok, _, err) = run(&["create-token", "dominique"]);
    assert!(!ok && err.contains("already named"), "{err}");
    let (ok, _, _) = run(&["revoke-token", "dominique"]);
    assert!(ok);
    let (_, listed, _) = run(&["list-tokens"]);
    let row: Vec<&str> = listed
        .lines()
        .find(|l| l.starts_with("dominique\t"))
        .expect("row")
        .split('\t')
        .collect();
    assert_ne!(row[3], "-", "revocation time shown: {listed}");
    let (ok, _, err) = run(&["revoke-token", "nobody"]);
    assert!(!ok && err.contains("no active token"), "{err}");
}

async fn admin_requests_without_a_valid_token_get_a_401_problem(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let good = admin_token(&app, "alex").await;
    let forged = format!("{}{}", token::PREFIX, "0".repeat(64));
    let requests = || {
        [
            TestRequest::get().uri("/api/v1/admin/actors"),
            TestRequest::post()
                .uri("/api/v1/admin/actors")
                .set_json(nantes_place("Sans jeton")),
            TestRequest::patch()
                .uri("/api/v1/admin/actors/1")
                .set_json(json!({"name": "x"})),
            TestRequest::post().uri("/api/v1/admin/actors/1/archive"),
            TestRequest::get().uri("/api/v1/admin/actors/1/history"),
            TestRequest::get().uri("/api/v1/admin/contributions?status=pending"),
            TestRequest::post().uri("/api/v1/admin/contributions/1/approve"),
        ]
    };
    for header in [
        None,
        Some("Bearer".to_owned()),
        Some(format!("Bearer {forged}")),
        Some(format!("Basic {good}")),
    ] {
        for req in requests() {
            let req = match &header {
                Some(h) => req.insert_header(("Authorization", h.as_str())),
                None => req,
            };
            let r = send(&svc, req).await;
            let body = r.problem(401, None);
            assert_eq!(body["type"], "/api/v1/docs#problem-unauthorized");
            assert!(
                r.header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer"))
            );
        }
    }
    // Nothing was written by the refused requests.
    assert!(
        app.state
            .store
            .history(ancrage::domain::ActorId(1))
            .await
            .expect("history")
            .is_empty()
    );
    let r = send(
        &svc,
        with_token(
            TestRequest::get().uri("/api/v1/admin/actors?limit=1"),
            &good,
        ),
    )
    .await;
    assert_eq!(r.status, 200);
}

/// What the import's validation (strict) says of a draft.
fn import_errors(app: &crate::helpers::TestApp, body: &Value) -> Vec<(String, String)> {
    let draft: ActorDraft = serde_json::from_value(body.clone()).expect("a draft");
    let snap = app.state.snapshot.load();
    let v = Validator {
        catalog: &snap.catalog,
        territories: &snap.territories,
        geocoder: None,
        source: "admin",
        strictness: Strictness::Strict,
    };
    match v.validate(&draft) {
        Err(DraftError::Invalid(errors)) => errors.into_iter().map(|e| (e.field, e.rule)).collect(),
        other => panic!("expected errors, got {other:?}"),
    }
}

fn errors_of(r: &Reply) -> Vec<(String, String)> {
    let body = r.problem(422, None);
    body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().expect("field").to_owned(),
                e["rule"].as_str().expect("rule").to_owned(),
            )
        })
        .collect()
}

async fn creation_is_validated_like_an_import_and_lists_every_broken_rule(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "alex").await;
    let bad = json!({
        "description": "<script>alert(1)</script>",
        "categories": ["pas-une-categorie"],
        "family": "sarl",
        "website": "pas un site",
        "phone": "appelez-nous",
        "commune": "44109",
    });
    let r = send(
        &svc,
        with_token(
            TestRequest::post()
                .uri("/api/v1/admin/actors")
                .set_json(&bad),
            &secret,
        ),
    )
    .await;
    let got = errors_of(&r);
    assert_eq!(
        got,
        import_errors(&app, &bad),
        "the same rules as the import's"
    );
    let fields: Vec<&str> = got.iter().map(|(f, _)| f.as_str()).collect();
    for f in [
        "name",
        "description",
        "categories",
        "family",
        "website",
        "phone",
    ] {
        assert!(fields.contains(&f), "{f} missing from {fields:?}");
    }
    // Unknown fields are refused by name, as in the import's drafts.
    let r = send(
        &svc,
        with_token(
            TestRequest::post()
                .uri("/api/v1/admin/actors")
                .set_json(json!({"nom": "X"})),
            &secret,
        ),
    )
    .await;
    assert_eq!(r.problem(422, Some("nom"))["errors"][0]["field"], "nom");
    assert_eq!(
        app.state
            .store
            .admin_actors(None, Some("Épicerie du Test"), 10, 0)
            .await
            .expect("list")
            .total,
        0
    );

    let r = send(
        &svc,
        with_token(
            TestRequest::post()
                .uri("/api/v1/admin/actors")
                .set_json(nantes_place("Épicerie du Test")),
            &secret,
        ),
    )
    .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let created = r.json();
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["source"], "admin");
    assert_eq!(created["status"], "published");
    assert_eq!(created["values"]["phone"], "02 40 00 00 00");
    // Public at once, without waiting for the store watcher.
    let public = get(&svc, &format!("/api/v1/actors/{id}")).await;
    assert_eq!(public.status, 200);
    assert_eq!(public.json()["properties"]["name"], "Épicerie du Test");
    let h = send(
        &svc,
        with_token(
            TestRequest::get().uri(&format!("/api/v1/admin/actors/{id}/history")),
            &secret,
        ),
    )
    .await
    .json();
    let entries = h["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["author"], "alex");
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(
        entries[0]["changes"]["name"],
        json!({"before": null, "after": "Épicerie du Test"})
    );
    assert!(entries[0]["at"].as_str().is_some_and(|t| t.ends_with('Z')));
}

async fn updates_record_who_changed_which_field_from_what_to_what(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let alex = admin_token(&app, "alex").await;
    let sam = admin_token(&app, "sam").await;
    let r = send(
        &svc,
        with_token(
            TestRequest::post()
                .uri("/api/v1/admin/actors")
                .set_json(nantes_place("La Cagette")),
            &alex,
        ),
    )
    .await;
    let id = r.json()["id"].as_i64().expect("id");
    let uri = format!("/api/v1/admin/actors/{id}");

    let r = send(
        &svc,
        with_token(TestRequest::patch().uri(&uri).set_json(json!({"name": "La Cagette nantaise", "phone": "0240123456", "website": "www.cagette.example.org"})), &sam),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(
        r.json()["values"]["website"],
        "https://www.cagette.example.org"
    );
    // The same values again change nothing and record nothing.
    let r = send(
        &svc,
        with_token(
            TestRequest::patch()
                .uri(&uri)
                .set_json(json!({"name": "La Cagette nantaise"})),
            &sam,
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    // Invalid values: 422, nothing written.
    let r = send(
        &svc,
        with_token(
            TestRequest::patch()
                .uri(&uri)
                .set_json(json!({"name": "<b>x</b>", "email": "nope"})),
            &sam,
        ),
    )
    .await;
    let errs = errors_of(&r);
    assert_eq!(
        errs.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>(),
        vec!["name", "email"]
    );
    assert!(errs[0].1.contains("HTML"), "{errs:?}");

    let h = send(
        &svc,
        with_token(TestRequest::get().uri(&format!("{uri}/history")), &alex),
    )
    .await
    .json();
    let entries = h["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 2, "{h}");
    let update = &entries[1];
    assert_eq!(update["author"], "sam");
    assert_eq!(update["action"], "update");
    assert_eq!(
        update["changes"],
        json!({
            "name": {"before": "La Cagette", "after": "La Cagette nantaise"},
            "phone": {"before": "02 40 00 00 00", "after": "02 40 12 34 56"},
            "website": {"before": null, "after": "https://www.cagette.example.org"},
        })
    );
    let public = get(&svc, &format!("/api/v1/actors/{id}")).await.json();
    assert_eq!(public["properties"]["name"], "La Cagette nantaise");
    assert_eq!(public["properties"]["phone"], "02 40 12 34 56");

    // PUT replaces every value: those left out are emptied.
    let mut all = nantes_place("La Cagette nantaise");
    all["phone"] = Value::Null;
    all["description"] = Value::Null;
    let r = send(
        &svc,
        with_token(TestRequest::put().uri(&uri).set_json(&all), &alex),
    )
    .await;
    assert_eq!(r.status, 200);
    let values = &r.json()["values"];
    assert_eq!(
        (values["phone"].clone(), values["website"].clone()),
        (Value::Null, Value::Null)
    );
    let h = send(
        &svc,
        with_token(TestRequest::get().uri(&format!("{uri}/history")), &alex),
    )
    .await
    .json();
    let last = &h["entries"][2]["changes"];
    assert_eq!(last["phone"]["after"], Value::Null);
    assert_eq!(
        last["description"]["before"],
        "Épicerie associative du quartier"
    );
}

async fn archived_and_pending_actors_are_hidden_publicly_but_read_by_administrators(
    store: Backend,
) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "alex").await;
    let mut pending = nantes_place("Tiers-lieu en attente");
    pending["status"] = json!("pending");
    let r = send(
        &svc,
        with_token(
            TestRequest::post()
                .uri("/api/v1/admin/actors")
                .set_json(&pending),
            &secret,
        ),
    )
    .await;
    let pending_id = r.json()["id"].as_i64().expect("id");
    get(&svc, &format!("/api/v1/actors/{pending_id}"))
        .await
        .problem(404, None);

    let r = send(
        &svc,
        with_token(
            TestRequest::post()
                .uri("/api/v1/admin/actors")
                .set_json(nantes_place("Ressourcerie fermée")),
            &secret,
        ),
    )
    .await;
    let id = r.json()["id"].as_i64().expect("id");
    assert_eq!(get(&svc, &format!("/api/v1/actors/{id}")).await.status, 200);
    let r = send(
        &svc,
        with_token(
            TestRequest::post().uri(&format!("/api/v1/admin/actors/{id}/archive")),
            &secret,
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "archived");
    get(&svc, &format!("/api/v1/actors/{id}"))
        .await
        .problem(404, None);
    let found = get(&svc, "/api/v1/actors?q=ressourcerie%20fermee")
        .await
        .json();
    assert_eq!(found["features"].as_array().map(Vec::len), Some(0));

    let one = send(
        &svc,
        with_token(
            TestRequest::get().uri(&format!("/api/v1/admin/actors/{id}")),
            &secret,
        ),
    )
    .await;
    assert_eq!(one.json()["status"], "archived");
    let list = send(
        &svc,
        with_token(
            TestRequest::get().uri("/api/v1/admin/actors?status=archived"),
            &secret,
        ),
    )
    .await
    .json();
    // Newest changes first: the one just archived leads, every one listed is archived.
    assert_eq!(list["actors"][0]["id"], id);
    let statuses = list["actors"]
        .as_array()
        .expect("actors")
        .iter()
        .map(|a| a["status"].clone());
    assert!(statuses.into_iter().all(|s| s == "archived"));
    let list = send(
        &svc,
        with_token(
            TestRequest::get().uri("/api/v1/admin/actors?status=pending&q=ATTENTE"),
            &secret,
        ),
    )
    .await
    .json();
    assert_eq!(list["actors"][0]["id"], pending_id);
    let h = send(
        &svc,
        with_token(
            TestRequest::get().uri(&format!("/api/v1/admin/actors/{id}/history")),
            &secret,
        ),
    )
    .await
    .json();
    assert_eq!(h["entries"][1]["action"], "archive");
    assert_eq!(
        h["entries"][1]["changes"]["status"],
        json!({"before": "published", "after": "archived"})
    );
    // Archiving twice records nothing more; unknown actors are 404.
    send(
        &svc,
        with_token(
            TestRequest::post().uri(&format!("/api/v1/admin/actors/{id}/archive")),
            &secret,
        ),
    )
    .await;
    let h = send(
        &svc,
        with_token(
            TestRequest::get().uri(&format!("/api/v1/admin/actors/{id}/history")),
            &secret,
        ),
    )
    .await
    .json();
    assert_eq!(h["entries"].as_array().map(Vec::len), Some(2));
    send(
        &svc,
        with_token(
            TestRequest::post().uri("/api/v1/admin/actors/999999999/archive"),
            &secret,
        ),
    )
    .await
    .problem(404, None);
    send(
        &svc,
        with_token(
            TestRequest::get().uri("/api/v1/admin/actors?status=gone"),
            &secret,
        ),
    )
    .await
    .problem(400, Some("status"));
}

async fn the_administration_api_sends_no_cors_headers(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "alex").await;
    let r = send(
        &svc,
        with_token(
            TestRequest::get().uri("/api/v1/admin/actors?limit=1"),
            &secret,
        )
        .insert_header(("Origin", "https://elsewhere.example")),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let r = send(
        &svc,
        with_token(
            TestRequest::post()
                .uri("/api/v1/admin/actors")
                .set_json(nantes_place("Cors")),
            &secret,
        )
        .insert_header(("Origin", "https://elsewhere.example")),
    )
    .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
    let preflight = send(
        &svc,
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/admin/actors")
            .insert_header(("Origin", "https://elsewhere.example"))
            .insert_header(("Access-Control-Request-Method", "POST"))
            .insert_header(("Access-Control-Request-Headers", "authorization")),
    )
    .await;
    assert_eq!(preflight.header("access-control-allow-origin"), None);
    assert_eq!(preflight.header("access-control-allow-methods"), None);
}

/// Administration writes sent at the same time each publish before they answer, and none
/// hides another: once every one has answered, the snapshot holds them all (reloads publish
/// in the order they read the store, so a slow one cannot bring back an older state).
async fn simultaneous_writes_are_all_in_the_snapshot_once_answered(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "sacha").await;
    let before = app.state.snapshot.load().actors.len();
    let writes = 12;
    let replies = futures_util::future::join_all((0..writes).map(|i| {
        send(
            &svc,
            with_token(
                TestRequest::post()
                    .uri("/api/v1/admin/actors")
                    .set_json(nantes_place(&format!("Épicerie simultanée {i}"))),
                &secret,
            ),
        )
    }))
    .await;
    for r in &replies {
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.bytes));
    }
    let snap = app.state.snapshot.load();
    assert_eq!(snap.actors.len(), before + writes);
    for r in &replies {
        let id = r.json()["id"].as_i64().expect("id");
        assert!(
            snap.actors.find(ancrage::domain::ActorId(id)).is_some(),
            "actor {id} is missing from the snapshot"
        );
    }
    // The revision shown is the store's: the watcher has nothing left to catch up.
    assert_eq!(
        app.state
            .revision
            .load(std::sync::atomic::Ordering::Acquire),
        app.state.store.revision().await.expect("revision")
    );
}

/// Writers on several threads, each publishing its change as the administration does, with
/// a watcher reloading beside them: once every writer has published, the snapshot holds
/// every change, round after round. (Reloads that overlap publish in the order they read
/// the store: a slow reload that read it before a write never hides that write.)
fn reloads_on_several_threads_never_hide_a_published_change(store: Backend) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let app = spawn_app(store).await;
        let state = app.state.clone();
        let snap = state.snapshot.load();
        // Enough actors that reloads take a while and overlap.
        let mut drafts =
            ancrage::seed::demo::generate(&snap.catalog, &snap.territories, 20_064, 11).into_iter();
        let bulk: Vec<_> = drafts
            .by_ref()
            .take(20_000)
            .map(|f| (f, ancrage::domain::Status::Published))
            .collect();
        state
            .store
            .insert_actors(&bulk, None)
            .await
            .expect("insert");
        state.refresh_actors().await.expect("refresh");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = {
            let (state, stop) = (state.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    state.refresh_actors().await.expect("watcher reload");
                }
            })
        };
        for round in 0..8 {
            let writers: Vec<_> = drafts
                .by_ref()
                .take(8)
                .map(|f| {
                    let state = state.clone();
                    tokio::spawn(async move {
                        let id = state
                            .store
                            .insert_actors(&[(f, ancrage::domain::Status::Published)], None)
                            .await
                            .expect("write")[0];
                        state.refresh_actors().await.expect("publish");
                        id
                    })
                })
                .collect();
            let mut ids = Vec::new();
            for w in writers {
                ids.push(w.await.expect("writer"));
            }
            let snap = state.snapshot.load();
            for id in ids {
                assert!(
                    snap.actors.find(id).is_some(),
                    "round {round}: actor {id} was published, then hidden by an older reload"
                );
            }
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        watcher.await.expect("watcher");
    });
}

mod reloads_on_several_threads_never_hide_a_published_change {
    #[test]
    fn sqlite() {
        super::reloads_on_several_threads_never_hide_a_published_change(
            crate::helpers::Backend::Sqlite,
        );
    }

    #[test]
    fn postgres() {
        if crate::postgres::cluster().is_some() {
            super::reloads_on_several_threads_never_hide_a_published_change(
                crate::helpers::Backend::Postgres,
            );
        }
    }
}

on_both_stores!(
    simultaneous_writes_are_all_in_the_snapshot_once_answered,
    tokens_are_stored_as_hashes_listed_and_revoked,
    admin_requests_without_a_valid_token_get_a_401_problem,
    creation_is_validated_like_an_import_and_lists_every_broken_rule,
    updates_record_who_changed_which_field_from_what_to_what,
    archived_and_pending_actors_are_hidden_publicly_but_read_by_administrators,
    the_administration_api_sends_no_cors_headers,
);

/// A database that goes away while the service runs: public reads keep being answered from
/// the snapshot, writes answer 503 with `Retry-After` (never a 500 with a driver message),
/// and everything works again once the database is back.
#[actix_web::test]
async fn a_lost_database_keeps_reads_working_and_answers_writes_with_503() {
    let Some(cluster) = crate::postgres::cluster() else {
        return;
    };
    let app = crate::helpers::spawn_app_with(Backend::Postgres, |s| {
        s.store.connect_timeout = std::time::Duration::from_secs(1);
    })
    .await;
    let token = admin_token(&app, "camille").await;
    let svc = app.service().await;
    let database = app
        .settings
        .database_url
        .rsplit('/')
        .next()
        .expect("database name")
        .to_owned();
    let away = format!("{database}_away");
    cluster
        .psql(
            "postgres",
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'; \
                 ALTER DATABASE \"{database}\" RENAME TO \"{away}\";"
            ),
        )
        .expect("take the database away");

    let read = get(
        &svc,
        "/api/v1/actors/nearby?lon=-1.5536&lat=47.2184&limit=3",
    )
    .await;
    assert_eq!(read.status, 200, "reads come from the snapshot");
    let write = send(
        &svc,
        with_token(TestRequest::post().uri("/api/v1/admin/actors"), &token)
            .set_json(nantes_place("Pendant la panne")),
    )
    .await;
    let body = write.problem(503, None);
    assert!(
        write
            .header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok()),
        "Retry-After in seconds"
    );
    let detail = body["detail"].as_str().expect("detail");
    assert!(
        !detail.contains("database") && !detail.contains(&database),
        "no driver message: {detail}"
    );
    let contribution = crate::helpers::post_json(
        &svc,
        "/api/v1/contributions",
        &json!({"kind": "new", "actor": nantes_place("Proposé pendant la panne")}),
    )
    .await;
    contribution.problem(503, None);

    cluster
        .psql(
            "postgres",
            &format!("ALTER DATABASE \"{away}\" RENAME TO \"{database}\";"),
        )
        .expect("bring the database back");
    let again = send(
        &svc,
        with_token(TestRequest::post().uri("/api/v1/admin/actors"), &token)
            .set_json(nantes_place("Après la panne")),
    )
    .await;
    assert_eq!(
        again.status,
        201,
        "{}",
        String::from_utf8_lossy(&again.bytes)
    );
}
