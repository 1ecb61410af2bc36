//! `/health`: liveness, what the current snapshot holds, and how current it is: the store
//! backend, the revision the snapshot reflects and whether change notifications arrive, so
//! that a load balancer or an operator can tell a lagging instance.

use crate::startup::AppState;
use crate::store::Store;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// `GET /health`: `200` with counts when the service answers queries.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let snap = state.snapshot.load();
    let feed = &state.feed;
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "snapshot": snap.version,
            "actors": snap.actors.len(),
            "territories": snap.territories.len(),
            "categories": snap.catalog.defs().len(),
            "store": {
                "backend": state.store.backend().as_str(),
                "revision": state.revision.load(std::sync::atomic::Ordering::Relaxed),
                "changeFeed": if !feed.supported() {
                    "polling"
                } else if feed.connected() {
                    "connected"
                } else {
                    "disconnected"
                },
                "pollSeconds": crate::startup::STORE_POLL.as_secs(),
            },
        }))
}
