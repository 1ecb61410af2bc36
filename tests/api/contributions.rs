//! Public contributions: stored for moderation, never public before approval, and resistant
//! to abuse (body limit, rate limit, honeypot, markup refused, e-mail kept private).

use crate::helpers::{
    Backend, Reply, admin_token, get, post_json, send, spawn_app, spawn_app_with, with_token,
};
use actix_web::test::TestRequest;
use ancrage::store::Store;
use serde_json::{Value, json};
use std::net::SocketAddr;

fn new_place(name: &str) -> Value {
    json!({
        "kind": "new",
        "actor": {
            "name": name,
            "categories": ["epicerie-solidaire"],
            "family": "association",
            "street": "5 place du Commerce",
            "postcode": "44000",
            "commune": "44109",
            "lon": -1.5602,
            "lat": 47.2130,
        },
        "message": "Ouverte depuis septembre.",
        "contributor_email": "camille.contributrice@example.org",
    })
}

fn from(addr: &str, body: &Value) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/contributions")
        .peer_addr(addr.parse::<SocketAddr>().expect("address"))
        .set_json(body)
}

async fn pending(
    svc: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    token: &str,
) -> Vec<Value> {
    let r = send(
        svc,
        with_token(
            TestRequest::get().uri("/api/v1/admin/contributions?status=pending"),
            token,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
    r.json()["contributions"]
        .as_array()
        .expect("contributions")
        .clone()
}

fn diff_row<'a>(c: &'a Value, field: &str) -> &'a Value {
    c["diff"]
        .as_array()
        .expect("diff")
        .iter()
        .find(|r| r["field"] == field)
        .unwrap_or_else(|| panic!("no {field} in {c}"))
}

fn names_found(r: &Reply) -> usize {
    r.json()["features"].as_array().map_or(0, Vec::len)
}

async fn a_proposed_place_is_public_only_once_a_moderator_approves_it(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "moderatrice").await;
    let r = post_json(
        &svc,
        "/api/v1/contributions",
        &new_place("Épicerie Solidaire du Commerce"),
    )
    .await;
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(r.json()["status"], "pending");
    assert_eq!(
        names_found(&get(&svc, "/api/v1/actors?q=solidaire%20du%20commerce").await),
        0
    );

    let queue = pending(&svc, &secret).await;
    assert_eq!(queue.len(), 1);
    let c = &queue[0];
    assert_eq!(c["kind"], "new");
    assert_eq!(c["actor"], Value::Null);
    assert_eq!(c["contributor_email"], "camille.contributrice@example.org");
    let name = diff_row(c, "name");
    assert_eq!(
        (name["current"].clone(), name["proposed"].clone()),
        (Value::Null, json!("Épicerie Solidaire du Commerce"))
    );
    let id = c["id"].as_i64().expect("id");

    let r = send(
        &svc,
        with_token(
            TestRequest::post().uri(&format!("/api/v1/admin/contributions/{id}/approve")),
            &secret,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
    let body = r.json();
    assert_eq!(body["contribution"]["status"], "approved");
    assert_eq!(body["contribution"]["decided_by"], "moderatrice");
    assert_eq!(body["actor"]["source"], "contribution");
    let actor = body["actor"]["id"].as_i64().expect("actor id");
    assert_eq!(body["contribution"]["result_actor_id"], actor);
    let found = get(&svc, "/api/v1/actors?q=solidaire%20du%20commerce").await;
    assert_eq!(names_found(&found), 1);
    let h = send(
        &svc,
        with_token(
            TestRequest::get().uri(&format!("/api/v1/admin/actors/{actor}/history")),
            &secret,
        ),
    )
    .await
    .json();
    assert_eq!(h["entries"][0]["action"], "create");
    assert_eq!(h["entries"][0]["author"], "moderatrice");
    assert_eq!(h["entries"][0]["contribution_id"], id);
    // Decided once only.
    send(
        &svc,
        with_token(
            TestRequest::post().uri(&format!("/api/v1/admin/contributions/{id}/approve")),
            &secret,
        ),
    )
    .await
    .problem(409, None);
    assert!(pending(&svc, &secret).await.is_empty());
}

async fn first_published(
    svc: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
) -> (i64, Value) {
    let list = get(svc, "/api/v1/actors?limit=1").await.json();
    let id = list["features"][0]["id"].as_i64().expect("id");
    (id, get(svc, &format!("/api/v1/actors/{id}")).await.json())
}

async fn a_correction_shows_proposed_against_current_values_and_can_be_edited_before_approval(
    store: Backend,
) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "moderatrice").await;
    let (id, before) = first_published(&svc).await;
    let old_name = before["properties"]["name"].clone();
    let proposal = json!({
        "kind": "correction",
        "actor_id": id,
        "actor": {"name": "Nom corrigé", "phone": "0240123456"},
    });
    let r = post_json(&svc, "/api/v1/contributions", &proposal).await;
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(
        get(&svc, &format!("/api/v1/actors/{id}")).await.json()["properties"]["name"],
        old_name
    );

    let queue = pending(&svc, &secret).await;
    let c = &queue[0];
    assert_eq!(c["kind"], "correction");
    assert_eq!(c["actor"]["id"], id);
    let name = diff_row(c, "name");
    assert_eq!(name["current"], old_name);
    assert_eq!(name["proposed"], "Nom corrigé");
    assert_eq!(name["changed"], true);
    // Stored normalised, as the import would store it.
    assert_eq!(diff_row(c, "phone")["proposed"], "02 40 12 34 56");
    assert!(
        c["diff"]
            .as_array()
            .expect("diff")
            .iter()
            .all(|r| r["field"] != "categories"),
        "only changed fields are proposed"
    );

    // The moderator keeps the name change but fixes it, and drops the phone.
    let cid = c["id"].as_i64().expect("id");
    let r = send(
        &svc,
        with_token(
            TestRequest::post()
                .uri(&format!("/api/v1/admin/contributions/{cid}/approve"))
                .set_json(json!({"values": {"name": "Nom corrigé par la modération"}})),
            &secret,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
    let after = get(&svc, &format!("/api/v1/actors/{id}")).await.json();
    assert_eq!(after["properties"]["name"], "Nom corrigé par la modération");
    assert_eq!(after["properties"]["phone"], before["properties"]["phone"]);
    assert_eq!(
        after["properties"]["source"],
        before["properties"]["source"]
    );
    let h = send(
        &svc,
        with_token(
            TestRequest::get().uri(&format!("/api/v1/admin/actors/{id}/history")),
            &secret,
        ),
    )
    .await
    .json();
    let entry = &h["entries"][0];
    assert_eq!(entry["action"], "update");
    assert_eq!(entry["contribution_id"], cid);
    assert_eq!(
        entry["changes"],
        json!({"name": {"before": old_name, "after": "Nom corrigé par la modération"}})
    );
    let c = send(
        &svc,
        with_token(
            TestRequest::get().uri(&format!("/api/v1/admin/contributions/{cid}")),
            &secret,
        ),
    )
    .await
    .json();
    assert_eq!(
        c["applied"],
        json!({"name": "Nom corrigé par la modération"})
    );

    // A correction that changes nothing, or of an unknown actor, is refused.
    let same = json!({"kind": "correction", "actor_id": id, "actor": {"name": "Nom corrigé par la modération"}});
    post_json(&svc, "/api/v1/contributions", &same)
        .await
        .problem(422, Some("actor"));
    let unknown = json!({"kind": "correction", "actor_id": 999_999_999, "actor": {"name": "X"}});
    post_json(&svc, "/api/v1/contributions", &unknown)
        .await
        .problem(422, Some("actor_id"));
}

async fn a_closure_report_archives_the_place_only_when_approved_and_rejections_keep_their_reason(
    store: Backend,
) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "moderatrice").await;
    let (id, _) = first_published(&svc).await;
    let closure = json!({"kind": "closure", "actor_id": id});
    post_json(&svc, "/api/v1/contributions", &closure)
        .await
        .problem(422, Some("message"));
    let closure =
        json!({"kind": "closure", "actor_id": id, "message": "Le local est vide depuis mars."});
    assert_eq!(
        post_json(&svc, "/api/v1/contributions", &closure)
            .await
            .status,
        202
    );
    assert_eq!(
        post_json(&svc, "/api/v1/contributions", &closure)
            .await
            .status,
        202
    );
    assert_eq!(get(&svc, &format!("/api/v1/actors/{id}")).await.status, 200);

    let queue = pending(&svc, &secret).await;
    assert_eq!(queue.len(), 2);
    let status = diff_row(&queue[0], "status");
    assert_eq!(
        (status["current"].clone(), status["proposed"].clone()),
        (json!("published"), json!("archived"))
    );
    let (first, second) = (
        queue[0]["id"].as_i64().expect("id"),
        queue[1]["id"].as_i64().expect("id"),
    );

    // Rejecting needs a reason, in plain text.
    let reject = |cid: i64, body: Value| {
        with_token(
            TestRequest::post()
                .uri(&format!("/api/v1/admin/contributions/{cid}/reject"))
                .set_json(body),
            &secret,
        )
    };
    send(&svc, reject(second, json!({})))
        .await
        .problem(422, Some("reason"));
    send(&svc, reject(second, json!({"reason": "<i>doublon</i>"})))
        .await
        .problem(422, Some("reason"));
    let r = send(
        &svc,
        reject(
            second,
            json!({"reason": "Doublon du signalement précédent"}),
        ),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "rejected");
    assert_eq!(r.json()["reason"], "Doublon du signalement précédent");
    assert_eq!(
        get(&svc, &format!("/api/v1/actors/{id}")).await.status,
        200,
        "a rejection changes nothing"
    );
    send(
        &svc,
        with_token(
            TestRequest::post().uri(&format!("/api/v1/admin/contributions/{second}/approve")),
            &secret,
        ),
    )
    .await
    .problem(409, None);

    let r = send(
        &svc,
        with_token(
            TestRequest::post().uri(&format!("/api/v1/admin/contributions/{first}/approve")),
            &secret,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.bytes));
    assert_eq!(r.json()["actor"]["status"], "archived");
    get(&svc, &format!("/api/v1/actors/{id}"))
        .await
        .problem(404, None);
    let h = send(
        &svc,
        with_token(
            TestRequest::get().uri(&format!("/api/v1/admin/actors/{id}/history")),
            &secret,
        ),
    )
    .await
    .json();
    assert_eq!(h["entries"][0]["action"], "archive");
    assert_eq!(h["entries"][0]["contribution_id"], first);
    let rejected = send(
        &svc,
        with_token(
            TestRequest::get().uri("/api/v1/admin/contributions?status=rejected"),
            &secret,
        ),
    )
    .await
    .json();
    assert_eq!(rejected["contributions"][0]["id"], second);
}

async fn invalid_contributions_list_every_broken_rule_and_markup_is_refused(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "moderatrice").await;
    let mut body = new_place("<a href=\"https://spam.example\">promo</a>");
    body["actor"]["status"] = json!("published");
    body["actor"]["website"] = json!("javascript:alert(1)");
    body["contributor_email"] = json!("pas-une-adresse");
    body["message"] = json!("<img src=x onerror=alert(1)>");
    let r = post_json(&svc, "/api/v1/contributions", &body).await;
    let problem = r.problem(422, None);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().expect("field"))
        .collect();
    for f in [
        "message",
        "contributor_email",
        "actor.status",
        "name",
        "website",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    let r = post_json(
        &svc,
        "/api/v1/contributions",
        &json!({"kind": "avis", "actor": {}}),
    )
    .await;
    r.problem(422, Some("kind"));
    let r = post_json(
        &svc,
        "/api/v1/contributions",
        &json!({"kind": "new", "actor": {"nom": "X"}}),
    )
    .await;
    r.problem(422, Some("nom"));
    let r = post_json(
        &svc,
        "/api/v1/contributions",
        &json!({"kind": "new", "extra": 1}),
    )
    .await;
    r.problem(400, None);
    assert!(pending(&svc, &secret).await.is_empty());
}

async fn a_filled_honeypot_is_acknowledged_like_any_contribution_but_dropped(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "moderatrice").await;
    let mut body = new_place("Robot");
    body["homepage"] = json!("https://spam.example");
    let bait = post_json(&svc, "/api/v1/contributions", &body).await;
    let real = post_json(&svc, "/api/v1/contributions", &new_place("Humain")).await;
    assert_eq!(bait.status, 202);
    assert_eq!(bait.bytes, real.bytes, "a robot cannot tell");
    let queue = pending(&svc, &secret).await;
    assert_eq!(queue.len(), 1);
    assert_eq!(diff_row(&queue[0], "name")["proposed"], "Humain");
}

async fn bodies_over_16_kib_are_refused_with_a_413_problem(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let mut body = new_place("Gros");
    body["message"] = json!("x".repeat(17 * 1024));
    post_json(&svc, "/api/v1/contributions", &body)
        .await
        .problem(413, None);
    // Just under the limit, the message rule (2 000 characters) applies instead.
    body["message"] = json!("x".repeat(15 * 1024));
    post_json(&svc, "/api/v1/contributions", &body)
        .await
        .problem(422, Some("message"));
}

async fn too_many_contributions_from_one_address_get_a_429_with_retry_after(store: Backend) {
    let app = spawn_app_with(store, |s| s.contributions_per_hour = 2).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "moderatrice").await;
    for i in 0..2 {
        let r = send(
            &svc,
            from("198.51.100.7:4000", &new_place(&format!("Lieu {i}"))),
        )
        .await;
        assert_eq!(r.status, 202);
    }
    let r = send(&svc, from("198.51.100.7:4001", &new_place("Lieu 3"))).await;
    r.problem(429, None);
    let wait: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=1801).contains(&wait), "{wait}");
    // Invalid ones count too, and other clients are not affected.
    send(
        &svc,
        from("198.51.100.7:4002", &json!({"kind": "new", "actor": {}})),
    )
    .await
    .problem(429, None);
    assert_eq!(
        send(&svc, from("203.0.113.9:5000", &new_place("Ailleurs")))
            .await
            .status,
        202
    );
    assert_eq!(pending(&svc, &secret).await.len(), 3);
}

async fn contributor_addresses_never_reach_public_responses(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let secret = admin_token(&app, "moderatrice").await;
    let address = "camille.contributrice@example.org";
    assert_eq!(
        post_json(&svc, "/api/v1/contributions", &new_place("Lieu Discret"))
            .await
            .status,
        202
    );
    let cid = pending(&svc, &secret).await[0]["id"].as_i64().expect("id");
    let r = send(
        &svc,
        with_token(
            TestRequest::post().uri(&format!("/api/v1/admin/contributions/{cid}/approve")),
            &secret,
        ),
    )
    .await;
    let id = r.json()["actor"]["id"].as_i64().expect("actor");
    let lon_lat = "lon=-1.5602&lat=47.2130";
    for uri in [
        format!("/api/v1/actors/{id}"),
        "/api/v1/actors?q=lieu%20discret".to_owned(),
        format!("/api/v1/actors/nearby?{lon_lat}&limit=5"),
        "/api/v1/map/points".to_owned(),
        "/api/v1/territories/commune/44109/actors?limit=1000".to_owned(),
    ] {
        let r = get(&svc, &uri).await;
        assert_eq!(r.status, 200, "{uri}");
        assert!(
            !String::from_utf8_lossy(&r.bytes).contains(address),
            "{uri} shows the address"
        );
    }
    let record = app
        .state
        .store
        .actor(ancrage::domain::ActorId(id))
        .await
        .expect("store")
        .expect("actor");
    assert_eq!(
        record.fields.email, None,
        "the contributor's address is not the place's"
    );
    let mut csv = Vec::new();
    ancrage::export::csv_rows(&mut csv, &[record]).expect("csv");
    assert!(!String::from_utf8_lossy(&csv).contains(address));
}

async fn contributions_are_same_origin_writes_without_cors_headers(store: Backend) {
    let app = spawn_app(store).await;
    let svc = app.service().await;
    let r = send(
        &svc,
        from("192.0.2.1:1", &new_place("Cors"))
            .insert_header(("Origin", "https://elsewhere.example")),
    )
    .await;
    assert_eq!(r.status, 202);
    assert_eq!(r.header("access-control-allow-origin"), None);
    let preflight = send(
        &svc,
        TestRequest::default()
            .method(actix_web::http::Method::OPTIONS)
            .uri("/api/v1/contributions")
            .insert_header(("Origin", "https://elsewhere.example"))
            .insert_header(("Access-Control-Request-Method", "POST")),
    )
    .await;
    assert_eq!(preflight.header("access-control-allow-origin"), None);
}

async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(store: Backend) {
    let app = spawn_app_with(store, |s| {
        s.contributions_per_hour = 1;
        s.trusted_proxies = vec!["10.0.0.2".parse().expect("ip")];
    })
    .await;
    let svc = app.service().await;
    let via_proxy = |client: &str, name: &str| {
        from("10.0.0.2:443", &new_place(name)).insert_header(("x-forwarded-for", client.to_owned()))
    };
    assert_eq!(
        send(&svc, via_proxy("198.51.100.1", "Un")).await.status,
        202
    );
    assert_eq!(
        send(&svc, via_proxy("198.51.100.2", "Deux")).await.status,
        202
    );
    send(&svc, via_proxy("198.51.100.1", "Trois"))
        .await
        .problem(429, None);
    // A forged address further left does not buy a new allowance.
    send(&svc, via_proxy("203.0.113.50, 198.51.100.2", "Quatre"))
        .await
        .problem(429, None);
    // A client that is not the proxy cannot claim another address.
    assert_eq!(
        send(
            &svc,
            from("192.0.2.5:1234", &new_place("Cinq"))
                .insert_header(("x-forwarded-for", "198.51.100.9"))
        )
        .await
        .status,
        202
    );
    send(
        &svc,
        from("192.0.2.5:1235", &new_place("Six"))
            .insert_header(("x-forwarded-for", "198.51.100.10")),
    )
    .await
    .problem(429, None);
}

on_both_stores!(
    a_proposed_place_is_public_only_once_a_moderator_approves_it,
    a_correction_shows_proposed_against_current_values_and_can_be_edited_before_approval,
    a_closure_report_archives_the_place_only_when_approved_and_rejections_keep_their_reason,
    invalid_contributions_list_every_broken_rule_and_markup_is_refused,
    a_filled_honeypot_is_acknowledged_like_any_contribution_but_dropped,
    bodies_over_16_kib_are_refused_with_a_413_problem,
    too_many_contributions_from_one_address_get_a_429_with_retry_after,
    contributor_addresses_never_reach_public_responses,
    contributions_are_same_origin_writes_without_cors_headers,
    behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit,
);
