//! `/health`: liveness and what the current snapshot holds.

use crate::startup::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// `GET /health`: `200` with counts when the service answers queries.
pub async fn health(state: web::Data<AppState>) -> HttpResponse {
    let snap = state.snapshot.load();
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({
            "status": "ok",
            "version": env!("CARGO_PKG_VERSION"),
            "snapshot": snap.version,
            "actors": snap.actors.len(),
            "territories": snap.territories.len(),
            "categories": snap.catalog.defs().len(),
        }))
}
