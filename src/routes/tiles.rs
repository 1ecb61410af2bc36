//! `GET /tiles/actors/{z}/{x}/{y}.mvt`: Mapbox Vector Tiles of the actors matching the map's
//! filters (see [`crate::tiles::actors`] for what a tile holds).
//!
//! Every tile carries a weak `ETag` of the snapshot and the whole address (filters included),
//! may be kept a minute by any cache, and is sent gzip-compressed to clients that accept it.
//! Encoded tiles are kept in a bounded in-memory cache, so the tiles every visitor of the
//! France view asks for are encoded once per snapshot.

use super::params::FilterParams;
use super::problem::ApiError;
use super::respond::{self, Cache};
use crate::startup::AppState;
use crate::tiles::TileId;
use crate::tiles::actors::{MAX_ZOOM, Painter};
use crate::tiles::cache::{CacheStats, TileCache};
use crate::tiles::mvt::CONTENT_TYPE;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::{Read, Write};
use std::sync::Arc;

/// Bytes of encoded tiles kept in memory.
pub const CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The cache of encoded actor tiles, keyed by `ETag` (snapshot, address and filters).
#[derive(Debug)]
pub struct ActorTiles {
    cache: TileCache<String>,
}

impl Default for ActorTiles {
    fn default() -> Self {
        Self {
            cache: TileCache::new(CACHE_BYTES),
        }
    }
}

impl ActorTiles {
    /// What the cache holds and how it did.
    #[must_use]
    pub fn stats(&self) -> CacheStats {
        self.cache.stats()
    }
}

/// Registers the tile routes (outside `/api/v1`, like files).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tiles/actors/{z}/{x}/{y}", web::get().to(actors));
}

/// Gzip of a tile (level 6: tiles are cached, so the smaller the better).
fn gzip(body: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 2 + 64), Compression::new(6));
    enc.write_all(body)?;
    enc.finish()
}

/// `GET /tiles/actors/{z}/{x}/{y}.mvt?category=&family=&kind=&demo=&commune=…&open=&q=`:
/// one tile of the matching actors; `204` when none is in it.
pub async fn actors(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
    q: web::Query<FilterParams>,
) -> Result<HttpResponse, ApiError> {
    let (z, x, y) = path.into_inner();
    let t = TileId::parse(&z, &x, &y)?;
    if t.z > MAX_ZOOM {
        return Err(ApiError::NotFound(format!(
            "actor tiles go to zoom {MAX_ZOOM}: a map scales those beyond"
        )));
    }
    let snap = state.snapshot.load();
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let filter = q.filter(&snap)?;
    let body = match state.map.actor_tiles.cache.get(&etag) {
        Some(b) => b,
        None => {
            let encoded = web::block(move || -> std::io::Result<Arc<[u8]>> {
                let painter = Painter::new(&snap, &filter);
                Ok(match painter.tile(t) {
                    Some(plain) => gzip(&plain)?.into(),
                    None => Arc::from(Vec::new()),
                })
            })
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("actor tile {t}: {e}")))?
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("actor tile {t}: {e}")))?;
            state
                .map
                .actor_tiles
                .cache
                .insert(etag.clone(), Arc::clone(&encoded));
            encoded
        }
    };
    let cache = "public, max-age=60";
    if body.is_empty() {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::ETAG, etag))
            .insert_header((header::VARY, "Accept-Encoding"))
            .finish());
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .insert_header((header::VARY, "Accept-Encoding"));
    if respond::accepts_gzip(&req) {
        res.insert_header((header::CONTENT_ENCODING, "gzip"));
        return Ok(res.body(body.to_vec()));
    }
    let mut plain = Vec::with_capacity(body.len() * 3);
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut plain)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a cached tile is not gzip: {e}")))?;
    Ok(res.body(plain))
}
