//! `/api/v1/actors…`: list by bounding box, nearby, within a polygon, one actor.

use super::params::{self, FilterParams, Page};
use super::problem::ApiError;
use super::respond::{self, Cache};
use super::{GEOJSON, geojson};
use crate::domain::lonlat::round7;
use crate::domain::{ActorId, Bbox, InputError, QueryPolygon, Status};
use crate::index::actors::{ActorIdx, Hit};
use crate::index::pip::PolygonIndex;
use crate::startup::AppState;
use crate::store::Store;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

/// Parameters of `GET /api/v1/actors`.
#[derive(Debug, Deserialize)]
pub struct ListParams {
    /// `west,south,east,north`; without it, the whole of France.
    bbox: Option<String>,
    #[serde(flatten)]
    filter: FilterParams,
}

/// Parameters of `GET /api/v1/actors/nearby`.
#[derive(Debug, Deserialize)]
pub struct NearbyParams {
    lon: Option<String>,
    lat: Option<String>,
    /// Metres: every actor within it (sorted), else the `limit` nearest.
    radius: Option<String>,
    #[serde(flatten)]
    filter: FilterParams,
}

/// A page of ids as hits without distance.
pub fn page_of(idxs: &[ActorIdx], page: Page) -> Vec<Hit> {
    idxs.iter()
        .skip(page.offset)
        .take(page.limit)
        .map(|&idx| Hit {
            idx,
            distance_m: None,
        })
        .collect()
}

/// Answers a page of actors as a FeatureCollection.
pub fn collection(
    req: &HttpRequest,
    snap: &crate::index::Snapshot,
    hits: &[Hit],
    matched: Option<usize>,
    etag: Option<&str>,
) -> HttpResponse {
    let mut body = Vec::with_capacity(400 * hits.len() + 96);
    geojson::actor_collection(&mut body, snap, hits, matched);
    respond::ok(req, GEOJSON, body, Cache::Short, etag)
}

/// `GET /api/v1/actors`: actors in a bounding box (the map viewport) matching the filters,
/// in id order, with the total count.
pub async fn list(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ListParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let filter = q.filter.filter(&snap)?;
    let page = q.filter.page()?;
    let idxs = match q.bbox.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => snap
            .actors
            .in_bbox(&Bbox::parse("bbox", b)?, &filter, &snap.territories),
        None => snap.actors.filtered(&filter, &snap.territories),
    };
    Ok(collection(
        &req,
        &snap,
        &page_of(&idxs, page),
        Some(idxs.len()),
        Some(&etag),
    ))
}

/// `GET /api/v1/actors/nearby`: with `radius`, every matching actor within it, nearest first
/// (paginated, with the total); without, the `limit` nearest.
pub async fn nearby(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<NearbyParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let centre = params::lonlat(q.lon.as_deref(), q.lat.as_deref())?;
    let radius = params::radius("radius", q.radius.as_deref())?;
    let filter = q.filter.filter(&snap)?;
    let page = q.filter.page()?;
    let (hits, matched) = match radius {
        Some(r) => {
            let all = snap
                .actors
                .within_radius(centre, r, &filter, &snap.territories);
            let n = all.len();
            (
                all.into_iter()
                    .skip(page.offset)
                    .take(page.limit)
                    .collect::<Vec<_>>(),
                Some(n),
            )
        }
        None => {
            let mut all = snap.actors.nearest(
                centre,
                page.offset + page.limit,
                None,
                &filter,
                &snap.territories,
            );
            (all.split_off(page.offset.min(all.len())), None)
        }
    };
    Ok(collection(&req, &snap, &hits, matched, Some(&etag)))
}

/// `POST /api/v1/actors/within`: actors inside a GeoJSON Polygon or MultiPolygon (boundary
/// included), in id order, with the total.
pub async fn within(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<FilterParams>,
    body: web::Json<serde_json::Value>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let polygon = QueryPolygon::from_geojson(&body).map_err(ApiError::InvalidBody)?;
    let filter = q.filter(&snap)?;
    let page = q.page()?;
    let shape = PolygonIndex::new(polygon.shape());
    let idxs = snap.actors.in_polygon(&shape, &filter, &snap.territories);
    Ok(collection(
        &req,
        &snap,
        &page_of(&idxs, page),
        Some(idxs.len()),
        None,
    ))
}

/// `GET /api/v1/actors/{id}`: every public field of one published actor.
pub async fn one(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: i64 = path.trim().parse().map_err(|_| {
        InputError::new(
            "id",
            format!("'{path}' is not an actor id (a whole number)"),
        )
    })?;
    let snap = state.snapshot.load();
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let not_found = || ApiError::NotFound(format!("no published actor has the id {id}"));
    let record = state
        .store
        .actor(ActorId(id))
        .await?
        .ok_or_else(not_found)?;
    if record.status != Status::Published {
        return Err(not_found());
    }
    let chain = snap
        .territories
        .find(
            crate::domain::TerritoryKind::Commune,
            record.fields.commune.as_str(),
        )
        .and_then(|c| snap.territories.get(c).map(|t| (c, t)));
    let name_of = |idx: Option<u32>| {
        idx.and_then(|i| snap.territories.get(i))
            .map(|t| json!({"code": t.record.code, "name": t.record.name}))
    };
    let mut properties = serde_json::to_value(&record.fields).map_err(anyhow::Error::from)?;
    if let Some(obj) = properties.as_object_mut() {
        obj.remove("location");
        obj.insert(
            "commune".into(),
            name_of(chain.map(|(c, _)| c))
                .unwrap_or(json!({"code": record.fields.commune.as_str(), "name": null})),
        );
        obj.insert(
            "epci".into(),
            name_of(chain.and_then(|(_, t)| t.epci)).into(),
        );
        obj.insert(
            "departement".into(),
            name_of(chain.and_then(|(_, t)| t.departement)).into(),
        );
        obj.insert(
            "region".into(),
            name_of(chain.and_then(|(_, t)| t.region)).into(),
        );
        obj.insert("created_at".into(), json!(record.created_at));
        obj.insert("updated_at".into(), json!(record.updated_at));
    }
    let feature = json!({
        "type": "Feature",
        "id": record.id.0,
        // Seven decimals (about 1 cm), as in every other response.
        "geometry": {"type": "Point", "coordinates": [round7(record.fields.location.lon()), round7(record.fields.location.lat())]},
        "properties": properties,
    });
    Ok(respond::ok(
        &req,
        GEOJSON,
        feature.to_string().into_bytes(),
        Cache::Short,
        Some(&etag),
    ))
}
