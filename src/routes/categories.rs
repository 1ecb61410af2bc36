//! `/api/v1/categories`: the taxonomy with the number of published actors in each.

use super::problem::ApiError;
use super::respond::{self, Cache};
use crate::startup::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// `GET /api/v1/categories`: every category (slug, parent, French and English labels, colour,
/// icon) with `count`, the published actors in it or its subcategories.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let counts = snap.actors.category_counts();
    let categories: Vec<_> = snap
        .catalog
        .defs()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({
                "slug": c.slug, "parent": c.parent, "label_fr": c.label_fr, "label_en": c.label_en,
                "colour": c.colour, "icon": c.icon, "count": counts.get(i).copied().unwrap_or(0),
            })
        })
        .collect();
    let body = json!({ "categories": categories, "total_actors": snap.actors.len() });
    Ok(respond::ok(
        &req,
        "application/json",
        body.to_string().into_bytes(),
        Cache::Short,
        Some(&etag),
    ))
}
