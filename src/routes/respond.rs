//! Building cacheable, compressed responses.
//!
//! Compression happens here, at a fast level and only when the client accepts gzip and the
//! body is worth it, rather than in actix's `Compress` middleware (which was measured much
//! slower for dynamic bodies on this workload).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::hash::{Hash, Hasher};
use std::io::Write;

/// Bodies smaller than this are sent uncompressed: gzip would not pay for itself.
const MIN_COMPRESS: usize = 1024;

/// How long clients and shared caches may keep a response.
#[derive(Debug, Clone, Copy)]
pub enum Cache {
    /// Data that changes when actors change: one minute.
    Short,
    /// Reference data (territories, categories): one day.
    Long,
}

impl Cache {
    fn header(self) -> &'static str {
        match self {
            Self::Short => "public, max-age=60",
            Self::Long => "public, max-age=86400",
        }
    }
}

/// A weak `ETag` from the snapshot version and the request's path and query, so a conditional
/// request is answered before any work.
#[must_use]
pub fn etag_for(req: &HttpRequest, version: u64, body_hash: Option<u64>) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    req.path().hash(&mut h);
    req.query_string().hash(&mut h);
    body_hash.hash(&mut h);
    // "Open now" answers change with the clock: a new tag every minute.
    if req.query_string().contains("open=now") {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() / 60)
            .hash(&mut h);
    }
    format!("W/\"{version:x}-{:x}\"", h.finish())
}

/// `304 Not Modified` when the client already holds this `ETag`.
#[must_use]
pub fn not_modified(req: &HttpRequest, etag: &str, cache: Cache) -> Option<HttpResponse> {
    let held = req.headers().get(header::IF_NONE_MATCH)?.to_str().ok()?;
    let matches = held
        .split(',')
        .map(str::trim)
        .any(|t| t == etag || t == "*");
    matches.then(|| {
        HttpResponse::NotModified()
            .insert_header((header::ETAG, etag.to_owned()))
            .insert_header((header::CACHE_CONTROL, cache.header()))
            .insert_header((header::VARY, "Accept-Encoding"))
            .finish()
    })
}

/// Whether the client accepts gzip (`Accept-Encoding`, `*` included, not refused by `q=0`).
#[must_use]
pub fn accepts_gzip(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|enc| {
            let mut parts = enc.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| p.trim().replace(' ', "") == "q=0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// A `200` with the body, its type, caching headers, and gzip when accepted.
#[must_use]
pub fn ok(
    req: &HttpRequest,
    content_type: &'static str,
    body: Vec<u8>,
    cache: Cache,
    etag: Option<&str>,
) -> HttpResponse {
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, cache.header()))
        .insert_header((header::VARY, "Accept-Encoding"));
    if let Some(tag) = etag {
        res.insert_header((header::ETAG, tag.to_owned()));
    }
    if body.len() >= MIN_COMPRESS && accepts_gzip(req) {
        let mut enc = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
        if enc.write_all(&body).is_ok()
            && let Ok(gz) = enc.finish()
        {
            res.insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
            return res.body(gz);
        }
    }
    res.body(body)
}

/// A `200` with `body` as JSON (see [`ok`]); a value that cannot be serialised is an internal
/// error naming `what`.
///
/// # Errors
/// When `body` cannot be serialised.
pub fn json<T: serde::Serialize>(
    req: &HttpRequest,
    what: &str,
    body: &T,
    cache: Cache,
    etag: Option<&str>,
) -> Result<HttpResponse, super::problem::ApiError> {
    let bytes = serde_json::to_vec(body).map_err(|e| {
        super::problem::ApiError::Internal(anyhow::anyhow!("{what} serialisation: {e}"))
    })?;
    Ok(ok(req, "application/json", bytes, cache, etag))
}
