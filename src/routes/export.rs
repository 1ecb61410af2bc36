//! `GET /api/v1/actors.geojson` and `/api/v1/actors.csv`: every actor matching the list
//! API's filters (`bbox` and the shared filters), streamed in id order, in the formats
//! `ancrage import` reads back.

use super::params::FilterParams;
use super::problem::ApiError;
use crate::domain::{ActorId, Bbox};
use crate::export;
use crate::startup::AppState;
use crate::store::Store;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use futures_util::stream;
use serde::Deserialize;

/// Actors loaded from the store per streamed chunk.
const CHUNK: usize = 1000;

/// Parameters of the export routes: those of `GET /api/v1/actors` without paging.
#[derive(Debug, Deserialize)]
pub struct ExportParams {
    /// `west,south,east,north`; without it, the whole of France.
    bbox: Option<String>,
    #[serde(flatten)]
    filter: FilterParams,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Csv,
    Geojson,
}

async fn matching_ids(state: &AppState, q: &ExportParams) -> Result<Vec<ActorId>, ApiError> {
    let snap = state.snapshot.load();
    let filter = q.filter.filter(&snap)?;
    let idxs = match q.bbox.as_deref().map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => snap
            .actors
            .in_bbox(&Bbox::parse("bbox", b)?, &filter, &snap.territories),
        None => snap.actors.filtered(&filter, &snap.territories),
    };
    let mut ids: Vec<ActorId> = idxs.iter().map(|&i| snap.actors.entry(i).id).collect();
    ids.sort_unstable();
    Ok(ids)
}

fn respond(state: &AppState, ids: Vec<ActorId>, kind: Kind) -> HttpResponse {
    let store = state.store.clone();
    let chunks: Vec<Vec<ActorId>> = ids.chunks(CHUNK).map(<[ActorId]>::to_vec).collect();
    let head = {
        let mut h = Vec::new();
        let _ = match kind {
            Kind::Csv => export::csv_header(&mut h),
            Kind::Geojson => export::geojson_start(&mut h),
        };
        web::Bytes::from(h)
    };
    // State: remaining chunks, whether a feature was written, whether the end was sent.
    let body = stream::unfold(
        (chunks.into_iter(), true, false),
        move |(mut rest, mut first, ended)| {
            let store = store.clone();
            async move {
                if ended {
                    return None;
                }
                let Some(chunk) = rest.next() else {
                    let tail = if kind == Kind::Geojson {
                        let mut t = Vec::new();
                        let _ = export::geojson_end(&mut t);
                        t
                    } else {
                        Vec::new()
                    };
                    return Some((Ok(web::Bytes::from(tail)), (rest, first, true)));
                };
                let records = match store.actor_records(&chunk).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!("export: {e}");
                        return Some((
                            Err(actix_web::error::ErrorInternalServerError("export failed")),
                            (rest, first, true),
                        ));
                    }
                };
                let mut out = Vec::with_capacity(400 * records.len());
                let written = match kind {
                    Kind::Csv => export::csv_rows(&mut out, &records),
                    Kind::Geojson => export::geojson_features(&mut out, &records, &mut first),
                };
                if written.is_err() {
                    return Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        (rest, first, true),
                    ));
                }
                Some((Ok(web::Bytes::from(out)), (rest, first, false)))
            }
        },
    );
    let body = futures_util::StreamExt::chain(
        stream::once(async move { Ok::<_, actix_web::Error>(head) }),
        body,
    );
    let (mime, file) = match kind {
        Kind::Csv => ("text/csv; charset=utf-8", "ancrage-acteurs.csv"),
        Kind::Geojson => ("application/geo+json", "ancrage-acteurs.geojson"),
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .streaming(body)
}

/// `GET /api/v1/actors.csv`.
pub async fn csv(
    state: web::Data<AppState>,
    q: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let ids = matching_ids(&state, &q).await?;
    Ok(respond(&state, ids, Kind::Csv))
}

/// `GET /api/v1/actors.geojson`.
pub async fn geojson(
    state: web::Data<AppState>,
    q: web::Query<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    let ids = matching_ids(&state, &q).await?;
    Ok(respond(&state, ids, Kind::Geojson))
}
