//! `/api/v1/territories…` and `/api/v1/locate`: reference territories.

use super::actors::{collection, page_of};
use super::params::{self, FilterParams};
use super::problem::ApiError;
use super::respond::{self, Cache};
use super::{GEOJSON, geojson};
use crate::domain::{InputError, TerritoryCode, TerritoryKind};
use crate::index::Snapshot;
use crate::startup::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use std::io::Write;

/// Default and largest number of search results.
const SEARCH_LIMIT: (usize, usize) = (10, 50);

/// Parameters of the search.
#[derive(Debug, Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    /// Comma-separated kinds to search (default: all).
    kind: Option<String>,
    limit: Option<String>,
}

/// `GET /api/v1/territories/search?q=`: communes, EPCI, départements and régions by name,
/// postcode or code, accent- and case-insensitive, best first, each saying in `matched`
/// whether its name, one of its postcodes or its code matched.
pub async fn search(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<SearchParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let text = q.q.as_deref().map(str::trim).unwrap_or("");
    if text.is_empty() {
        return Err(InputError::new("q", "is required: a name, a postcode or a code").into());
    }
    if text.chars().count() > params::MAX_TEXT {
        return Err(InputError::new(
            "q",
            format!("must be at most {} characters", params::MAX_TEXT),
        )
        .into());
    }
    let kinds = match q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => Vec::new(),
        Some(list) => list
            .split(',')
            .map(|k| TerritoryKind::parse("kind", k.trim()))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let limit = match q.limit.as_deref() {
        None => SEARCH_LIMIT.0,
        Some(l) => params::whole("limit", l, 1, SEARCH_LIMIT.1)?,
    };
    let matches = snap.territories.search(text, &kinds, limit);
    let mut body = Vec::with_capacity(512 * matches.len() + 64);
    let _ = write!(
        body,
        r#"{{"type":"FeatureCollection","numberReturned":{},"features":["#,
        matches.len()
    );
    for (i, m) in matches.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        geojson::territory_feature(&mut body, &snap, m.idx, false, None);
        // The feature ends with the closing braces of its properties and of itself: why it
        // matched goes last among its properties.
        if body.ends_with(b"}}") {
            body.truncate(body.len() - 2);
            let _ = write!(body, r#","matched":"{}"}}}}"#, m.matched.as_str());
        }
    }
    body.extend_from_slice(b"]}");
    Ok(respond::ok(&req, GEOJSON, body, Cache::Long, None))
}

fn resolve(snap: &Snapshot, kind: &str, code: &str) -> Result<u32, ApiError> {
    let kind = TerritoryKind::parse("kind", kind)?;
    let code = TerritoryCode::parse(kind, "code", code)?;
    snap.territories
        .find(kind, code.code())
        .ok_or_else(|| ApiError::NotFound(format!("no {kind} has the code '{}'", code.code())))
}

/// `GET /api/v1/territories/{kind}/{code}`: the territory as a Feature with its polygon.
pub async fn one(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let idx = resolve(&snap, &path.0, &path.1)?;
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let mut body = Vec::new();
    geojson::territory_feature(
        &mut body,
        &snap,
        idx,
        true,
        Some(snap.actors.territory_size(idx)),
    );
    Ok(respond::ok(&req, GEOJSON, body, Cache::Short, Some(&etag)))
}

/// `GET /api/v1/territories/{kind}/{code}/actors`: the actors of a territory (precomputed
/// membership), filtered, in id order.
pub async fn actors(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    q: web::Query<FilterParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let idx = resolve(&snap, &path.0, &path.1)?;
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let filter = q.filter(&snap)?;
    let page = q.page()?;
    let idxs = snap.actors.in_territory(idx, &filter, &snap.territories);
    Ok(collection(
        &req,
        &snap,
        &page_of(&idxs, page),
        Some(idxs.len()),
        Some(&etag),
    ))
}

/// Parameters of `locate`.
#[derive(Debug, Deserialize)]
pub struct LocateParams {
    lon: Option<String>,
    lat: Option<String>,
}

/// `GET /api/v1/locate?lon=&lat=`: the commune containing the point and its EPCI,
/// département and région, smallest first.
pub async fn locate(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<LocateParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let p = params::lonlat(q.lon.as_deref(), q.lat.as_deref())?;
    let commune = snap.territories.commune_at(p).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no French commune contains the point [{}, {}]",
            p.lon(),
            p.lat()
        ))
    })?;
    let chain: Vec<u32> = snap.territories.chain(commune).collect();
    let mut body = Vec::new();
    let _ = write!(
        body,
        r#"{{"type":"FeatureCollection","numberReturned":{},"features":["#,
        chain.len()
    );
    for (i, t) in chain.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        geojson::territory_feature(&mut body, &snap, *t, false, None);
    }
    body.extend_from_slice(b"]}");
    Ok(respond::ok(&req, GEOJSON, body, Cache::Long, None))
}
