//! The OpenAPI document and a human-readable page rendering it (works offline).

use super::respond::{self, Cache};
use actix_web::{HttpRequest, HttpResponse};

/// The OpenAPI 3.1 description of the API, kept in step with the routes by the API tests.
pub const OPENAPI: &str = include_str!("openapi.json");

/// `GET /api/v1/openapi.json`.
pub async fn openapi(req: HttpRequest) -> HttpResponse {
    respond::ok(
        &req,
        "application/json",
        OPENAPI.as_bytes().to_vec(),
        Cache::Long,
        None,
    )
}
