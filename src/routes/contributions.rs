//! `POST /api/v1/contributions`: the public proposes a new place, a correction or a closure.
//! Nothing public changes until a moderator approves it (see [`super::admin`]).
//!
//! Abuse resistance: a small body limit, a rate limit per client address, a honeypot field
//! (filled in, the contribution is acknowledged but dropped), and the import's strict
//! validation, which refuses markup in every text.

use super::problem::{self, ApiError};
use crate::admin::actions::{self, AdminError, ContributionBody};
use crate::startup::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

/// Largest accepted contribution body, in bytes.
pub const MAX_CONTRIBUTION_BYTES: usize = 16 * 1024;

/// Registers the route with its own body limit.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/contributions")
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_CONTRIBUTION_BYTES)
                    .content_type(|mime| mime.essence_str() == "application/json")
                    .error_handler(problem::json_error),
            )
            .route(web::post().to(submit)),
    );
}

/// The address the rate limit is keyed on: the peer of the connection.
fn client(req: &HttpRequest) -> IpAddr {
    req.peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip())
}

fn accepted() -> HttpResponse {
    HttpResponse::Accepted()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(
            json!({
                "status": "pending",
                "detail": "Thank you: the moderators will review this proposal before anything changes on the map."
            })
            .to_string(),
        )
}

/// `POST /api/v1/contributions`: 202 once stored for moderation.
async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ContributionBody>,
) -> Result<HttpResponse, ApiError> {
    if let Err(wait) = state.contribution_limit.check(client(&req), Instant::now()) {
        return Err(ApiError::TooManyRequests(wait.as_secs() + 1));
    }
    if body.is_bait_taken() {
        tracing::info!("a contribution with the honeypot filled in was dropped");
        return Ok(accepted());
    }
    match actions::submit(&state, &body).await {
        Ok(id) => {
            tracing::info!(contribution = id, kind = %body.kind, "contribution received");
            Ok(accepted())
        }
        Err(AdminError::Invalid(errors)) => Err(ApiError::InvalidFields(errors)),
        Err(AdminError::NotFound(m)) => Err(ApiError::NotFound(m)),
        Err(AdminError::Conflict(m)) => Err(ApiError::Conflict(m)),
        Err(AdminError::Internal(e)) => Err(ApiError::Internal(e)),
    }
}
