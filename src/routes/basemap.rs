//! The self-hosted basemap's style and tiles (see [`crate::basemap`]), when `basemap_pmtiles`
//! is set: `GET /basemap/style.json` and `GET /basemap/tiles/{z}/{x}/{y}.mvt`.
//!
//! Tiles keep the compression they are stored with (gzip) for clients that accept it and are
//! decompressed for the others; each carries a strong `ETag` (the archive's version and the
//! tile) and may be kept a day by any cache, so a CDN or a reverse proxy serves them as static
//! files.

use super::problem::ApiError;
use crate::basemap::Basemap;
use crate::domain::error::InputError;
use crate::startup::AppState;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use std::io::Read;
use std::sync::Arc;

/// How long any cache may keep the style and the tiles.
const CACHE: &str = "public, max-age=86400";

/// Registers the basemap routes (outside `/api/v1`: they are files, not the API).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(crate::basemap::STYLE_PATH, web::get().to(style))
        .route("/basemap/tiles/{z}/{x}/{y}", web::get().to(tile));
}

fn basemap(state: &AppState) -> Result<&Arc<Basemap>, ApiError> {
    state.map.basemap.as_ref().ok_or_else(|| {
        ApiError::NotFound(
            "no self-hosted basemap: the operator has not set basemap_pmtiles".into(),
        )
    })
}

fn held(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// `GET /basemap/style.json`: the MapLibre style of the archive.
pub async fn style(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let map = basemap(&state)?;
    let etag = format!("\"{}-style\"", map.version());
    if held(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .finish());
    }
    Ok(super::respond::ok(
        &req,
        "application/json",
        map.style().to_vec(),
        super::respond::Cache::Long,
        Some(&etag),
    ))
}

/// Parses `z`, `x` and `y.mvt` of a tile address.
fn coordinates(z: &str, x: &str, y: &str) -> Result<pmtiles::TileCoord, InputError> {
    let t = crate::tiles::TileId::parse(z, x, y)?;
    pmtiles::TileCoord::new(t.z, t.x, t.y).map_err(|e| InputError::new("z", e.to_string()))
}

/// `GET /basemap/tiles/{z}/{x}/{y}.mvt`: one vector tile; `204` where the archive has none.
pub async fn tile(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let map = basemap(&state)?;
    let (z, x, y) = path.into_inner();
    let coord = coordinates(&z, &x, &y).map_err(ApiError::InvalidParameter)?;
    if !map.zooms().contains(&coord.z()) {
        return Err(ApiError::NotFound(format!(
            "the basemap holds zooms {} to {}, not {}",
            map.zooms().start(),
            map.zooms().end(),
            coord.z()
        )));
    }
    let gzip = super::respond::accepts_gzip(&req);
    let etag = format!(
        "\"{}-{}-{}-{}{}\"",
        map.version(),
        coord.z(),
        coord.x(),
        coord.y(),
        if gzip { "-gz" } else { "" }
    );
    if held(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, CACHE))
            .insert_header((header::VARY, "Accept-Encoding"))
            .finish());
    }
    let stored = map
        .tile(coord)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading the basemap archive: {e}")))?;
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CACHE_CONTROL, CACHE))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::ETAG, etag));
    let Some(stored) = stored else {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::CACHE_CONTROL, CACHE))
            .finish());
    };
    res.insert_header((header::CONTENT_TYPE, "application/vnd.mapbox-vector-tile"));
    if !stored.gzip {
        return Ok(res.body(stored.bytes));
    }
    if gzip {
        res.insert_header((header::CONTENT_ENCODING, "gzip"));
        return Ok(res.body(stored.bytes));
    }
    let mut plain = Vec::with_capacity(stored.bytes.len() * 3);
    flate2::read::GzDecoder::new(&stored.bytes[..])
        .read_to_end(&mut plain)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a basemap tile is not gzip: {e}")))?;
    Ok(res.body(plain))
}
