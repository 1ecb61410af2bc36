//! `/api/v1/map/…`: what the map page needs beyond the actor API: its settings, a lean form
//! of every matching point, server-side clusters for large data, counts for a view, opening
//! hours of a page of actors, and simplified territory outlines for the offline basemap.

use super::params::{self, FilterParams};
use super::problem::ApiError;
use super::respond::{self, Cache};
use super::{GEOJSON, geojson};
use crate::config::Settings;
use crate::domain::actor::Kind;
use crate::domain::{
    ActorId, Bbox, Catalog, CategorySet, Family, InputError, Status, TerritoryKind,
};
use crate::index::Snapshot;
use crate::index::actors::{ActorFilter, ActorIdx, ActorIndex};
use crate::index::cluster;
use crate::index::outlines;
use crate::index::packed::{ItemKey, KeyFilter};
use crate::index::territories::TerritoryIdx;
use crate::startup::AppState;
use crate::store::Store;
use actix_web::{HttpRequest, HttpResponse, web};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use serde::Deserialize;
use std::io::Write;
use std::sync::{Arc, OnceLock};

/// Above this many matching actors, `/map/points` sends none and the map reads the actor
/// tiles (`/tiles/actors/…`) instead.
pub const POINTS_LIMIT: usize = 8_000;
/// Most actors whose opening hours one request may ask for.
pub const HOURS_LIMIT: usize = 200;
/// Most commune outlines in one answer.
pub const COMMUNES_LIMIT: usize = 4_000;
/// Highest zoom accepted by the cluster endpoint.
pub const MAX_ZOOM: f64 = 24.0;

/// Display tolerance of département outlines, degrees (about 500 m).
const DEPARTEMENT_TOLERANCE: f64 = 0.005;
/// Display tolerance of commune outlines, degrees (about 30 m).
const COMMUNE_TOLERANCE: f64 = 0.0003;

/// Map settings and outlines computed once per process (territories do not change while it
/// runs).
#[derive(Debug, Default)]
pub struct MapState {
    /// URL of a remote basemap style, `None` for the offline style.
    pub basemap_style: Option<String>,
    /// Base URL of the BAN-compatible geocoder the page's search calls, `None` for none.
    pub geocoder_url: Option<String>,
    /// Address of the "Signaler une erreur" link, `None` to hide it.
    pub report_email: Option<String>,
    /// The self-hosted basemap (`basemap_pmtiles`), whose style `basemap_style` then names.
    pub basemap: Option<Arc<crate::basemap::Basemap>>,
    outlines: OnceLock<Arc<Outlines>>,
    /// Encoded commune outline tiles (see [`super::outline_tiles`]).
    pub(crate) commune_tiles: super::outline_tiles::CommuneTiles,
    /// Encoded actor tiles (see [`super::tiles`]).
    pub actor_tiles: super::tiles::ActorTiles,
}

/// Département outlines and an index of commune boxes, built once per process.
pub(crate) struct Outlines {
    /// Simplified département outlines as a GeoJSON FeatureCollection.
    departements: Vec<u8>,
    /// Boxes of the communes that have a polygon.
    pub(crate) communes: RTree<GeomWithData<Rectangle<[f64; 2]>, TerritoryIdx>>,
}

impl std::fmt::Debug for Outlines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outlines")
            .field("departements_bytes", &self.departements.len())
            .field("communes", &self.communes.size())
            .finish()
    }
}

impl MapState {
    /// The map part of the settings, with the basemap archive when one is set.
    #[must_use]
    pub fn new(settings: &Settings, basemap: Option<Arc<crate::basemap::Basemap>>) -> Self {
        Self {
            basemap_style: if basemap.is_some() {
                Some(crate::basemap::STYLE_PATH.to_owned())
            } else {
                settings.basemap_style.clone()
            },
            basemap,
            geocoder_url: settings.geocoder_url.clone(),
            report_email: settings.report_email.clone(),
            outlines: OnceLock::new(),
            commune_tiles: super::outline_tiles::CommuneTiles::new(),
            actor_tiles: super::tiles::ActorTiles::default(),
        }
    }

    /// Outlines, computed on first use off the async threads.
    pub(crate) async fn outlines(state: &web::Data<AppState>) -> Result<Arc<Outlines>, ApiError> {
        if let Some(o) = state.map.outlines.get() {
            return Ok(Arc::clone(o));
        }
        let state = state.clone();
        web::block(move || {
            let snap = state.snapshot.load();
            Arc::clone(
                state
                    .map
                    .outlines
                    .get_or_init(|| Arc::new(build_outlines(&snap))),
            )
        })
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("building outlines: {e}")))
    }
}

fn build_outlines(snap: &Snapshot) -> Outlines {
    let t = &snap.territories;
    let mut departements = Vec::new();
    let mut rects = Vec::new();
    let mut n = 0;
    departements.extend_from_slice(br#"{"type":"FeatureCollection","features":["#);
    for (i, terr) in t.all().iter().enumerate() {
        let i = i as TerritoryIdx;
        let Some(shape) = &terr.record.geometry else {
            continue;
        };
        match terr.kind {
            TerritoryKind::Departement => {
                if n > 0 {
                    departements.push(b',');
                }
                n += 1;
                outline_feature(
                    &mut departements,
                    snap,
                    i,
                    &outlines::simplify(shape, DEPARTEMENT_TOLERANCE),
                    3,
                );
            }
            TerritoryKind::Commune => {
                if let Some(b) = t.bbox(i) {
                    rects.push(GeomWithData::new(
                        Rectangle::from_corners([b.west, b.south], [b.east, b.north]),
                        i,
                    ));
                }
            }
            _ => {}
        }
    }
    departements.extend_from_slice(b"]}");
    Outlines {
        departements,
        communes: RTree::bulk_load(rects),
    }
}

/// Writes `{"type":"Feature","id":…,"bbox":…,"geometry":…,"properties":{kind, code, name, point}}`,
/// `point` being the representative point where a label goes.
fn outline_feature(
    out: &mut Vec<u8>,
    snap: &Snapshot,
    idx: TerritoryIdx,
    shape: &geo::MultiPolygon<f64>,
    decimals: usize,
) {
    let Some(t) = snap.territories.get(idx) else {
        return;
    };
    out.extend_from_slice(br#"{"type":"Feature","id":"#);
    geojson::string(out, &format!("{}:{}", t.kind.as_str(), t.record.code));
    if let Some(b) = snap.territories.bbox(idx) {
        let _ = write!(
            out,
            r#","bbox":[{:.5},{:.5},{:.5},{:.5}]"#,
            b.west, b.south, b.east, b.north
        );
    }
    out.extend_from_slice(br#","geometry":"#);
    outlines::write_geometry(out, shape, decimals);
    let _ = write!(
        out,
        r#","properties":{{"kind":"{}","code":"#,
        t.kind.as_str()
    );
    geojson::string(out, &t.record.code);
    out.extend_from_slice(br#","name":"#);
    geojson::string(out, &t.record.name);
    if let Some(p) = t.point() {
        let _ = write!(out, r#","point":[{:.5},{:.5}]"#, p.lon(), p.lat());
    }
    out.extend_from_slice(b"}}");
}

/// A JSON value as a cacheable response.
fn json(
    req: &HttpRequest,
    body: &serde_json::Value,
    cache: Cache,
    etag: Option<&str>,
) -> HttpResponse {
    respond::ok(
        req,
        "application/json",
        body.to_string().into_bytes(),
        cache,
        etag,
    )
}

/// Registers the map routes (inside `/api/v1`).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/map/config", web::get().to(config))
        .route("/map/points", web::get().to(points))
        .route("/map/clusters", web::get().to(clusters))
        .route("/map/facets", web::get().to(facets))
        .route("/map/hours", web::get().to(hours))
        .route("/map/outlines/departements", web::get().to(departements))
        .route("/map/outlines/communes", web::get().to(communes))
        .route("/map/outlines/{kind}/{code}", web::get().to(outline));
}

/// `GET /api/v1/map/config`: what the page needs to start.
pub async fn config(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let snap = state.snapshot.load();
    let body = serde_json::json!({
        "basemap_style": state.map.basemap_style,
        "geocoder_url": state.map.geocoder_url,
        "report_email": state.map.report_email,
        "points_limit": POINTS_LIMIT,
        "total_actors": snap.actors.len(),
        "demo_actors": snap.actors.demo_count(),
    });
    json(&req, &body, Cache::Short, None)
}

/// The top-level category that colours an actor's marker: that of its first category (in
/// catalog order) among those the category filter asks for, so a marker takes the colour of the
/// filter that shows it; without a category filter, that of its first category.
fn colour_root(
    snap: &Snapshot,
    roots: &[usize],
    idx: ActorIdx,
    wanted: Option<CategorySet>,
) -> usize {
    Catalog::shown_root(roots, snap.actors.entry(idx).categories, wanted)
}

/// Marker flags: bit 0 demonstration data, bit 1 tiers-lieu.
fn flags(snap: &Snapshot, idx: ActorIdx) -> u8 {
    let e = snap.actors.entry(idx);
    u8::from(e.demo) | (u8::from(e.kinds.has(Kind::TiersLieu)) << 1)
}

/// `GET /api/v1/map/points`: every actor matching the filters as
/// `[id, lon, lat, category position, flags]` (5 decimals, about 1 m), or none when more than
/// [`POINTS_LIMIT`] match.
pub async fn points(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<FilterParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let filter = q.filter(&snap)?;
    // Too many to send: counted from the quadtree's aggregates, without listing them.
    if !ActorIndex::has_rest(&filter) {
        let keys = ActorIndex::key_filter(&filter);
        let matched: u64 = snap
            .actors
            .key_histogram(None, &filter, &snap.territories)
            .iter()
            .filter(|(k, _)| keys.admits(*k))
            .map(|(_, n)| u64::from(*n))
            .sum();
        if matched > POINTS_LIMIT as u64 {
            let body = format!(
                r#"{{"numberMatched":{matched},"limit":{POINTS_LIMIT},"truncated":true,"fields":["id","lon","lat","category","flags"],"points":[]}}"#
            );
            return Ok(respond::ok(
                &req,
                "application/json",
                body.into_bytes(),
                Cache::Short,
                Some(&etag),
            ));
        }
    }
    let idxs = snap.actors.filtered(&filter, &snap.territories);
    let roots = snap.catalog.root_positions();
    let truncated = idxs.len() > POINTS_LIMIT;
    let mut body = Vec::with_capacity(if truncated {
        128
    } else {
        40 * idxs.len() + 128
    });
    let _ = write!(
        body,
        r#"{{"numberMatched":{},"limit":{POINTS_LIMIT},"truncated":{truncated},"fields":["id","lon","lat","category","flags"],"points":["#,
        idxs.len()
    );
    if !truncated {
        for (n, &i) in idxs.iter().enumerate() {
            if n > 0 {
                body.push(b',');
            }
            let e = snap.actors.entry(i);
            let _ = write!(
                body,
                "[{},{:.5},{:.5},{},{}]",
                e.id.0,
                e.location.lon(),
                e.location.lat(),
                colour_root(&snap, &roots, i, filter.categories),
                flags(&snap, i)
            );
        }
    }
    body.extend_from_slice(b"]}");
    Ok(respond::ok(
        &req,
        "application/json",
        body,
        Cache::Short,
        Some(&etag),
    ))
}

/// Parameters of the view endpoints.
#[derive(Debug, Deserialize)]
pub struct ViewParams {
    bbox: Option<String>,
    zoom: Option<String>,
    #[serde(flatten)]
    filter: FilterParams,
}

fn required_bbox(text: Option<&str>) -> Result<Bbox, InputError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Bbox::parse("bbox", t),
        None => Err(InputError::new(
            "bbox",
            "is required: west,south,east,north of the view",
        )),
    }
}

/// `GET /api/v1/map/clusters?bbox=&zoom=`: the matching actors of a view grouped in grid
/// cells of about 60 pixels: a cluster per cell holding several, the actor itself otherwise.
/// A cluster gives its raw `point_count`: the page writes it in its own language.
pub async fn clusters(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ViewParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let bbox = required_bbox(q.bbox.as_deref())?;
    let zoom = params::number("zoom", q.zoom.as_deref())?;
    if !(0.0..=MAX_ZOOM).contains(&zoom) {
        return Err(InputError::new("zoom", format!("must be between 0 and {MAX_ZOOM}")).into());
    }
    let filter = q.filter.filter(&snap)?;
    let idxs = snap.actors.in_bbox(&bbox, &filter, &snap.territories);
    let cells = cluster::grid(
        idxs.iter().map(|&i| {
            let e = snap.actors.entry(i);
            (e.location, (e.id.0, i))
        }),
        zoom.floor(),
    );
    let roots = snap.catalog.root_positions();
    let mut body = Vec::with_capacity(160 * cells.len() + 96);
    let _ = write!(
        body,
        r#"{{"type":"FeatureCollection","numberMatched":{},"features":["#,
        idxs.len()
    );
    for (n, c) in cells.iter().enumerate() {
        if n > 0 {
            body.push(b',');
        }
        if c.count == 1 {
            let (id, i) = c.first;
            let f = flags(&snap, i);
            let _ = write!(
                body,
                r#"{{"type":"Feature","id":{id},"geometry":{{"type":"Point","coordinates":[{:.5},{:.5}]}},"properties":{{"id":{id},"category":"#,
                c.centre.lon(),
                c.centre.lat()
            );
            let slug = snap
                .catalog
                .defs()
                .get(colour_root(&snap, &roots, i, filter.categories))
                .map_or("", |d| d.slug.as_str());
            geojson::string(&mut body, slug);
            let _ = write!(body, r#","demo":{},"tiers":{}}}}}"#, f & 1 == 1, f & 2 == 2);
        } else {
            let b = c.bbox;
            let _ = write!(
                body,
                r#"{{"type":"Feature","geometry":{{"type":"Point","coordinates":[{:.5},{:.5}]}},"properties":{{"cluster":true,"point_count":{},"bbox":[{:.5},{:.5},{:.5},{:.5}]}}}}"#,
                c.centre.lon(),
                c.centre.lat(),
                c.count,
                b.west,
                b.south,
                b.east,
                b.north
            );
        }
    }
    body.extend_from_slice(b"]}");
    Ok(respond::ok(&req, GEOJSON, body, Cache::Short, Some(&etag)))
}

/// `GET /api/v1/map/facets?bbox=`: counts of the matching actors of a view per category
/// (each actor once in a category and its ancestors), family and kind. Each facet ignores its
/// own filter, so the counts say what choosing another value would show.
pub async fn facets(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<ViewParams>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let etag = respond::etag_for(&req, snap.version, None);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Short) {
        return Ok(r);
    }
    let bbox = match q.bbox.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(Bbox::parse("bbox", t)?),
        None => None,
    };
    let filter = q.filter.filter(&snap)?;
    let histogram = snap
        .actors
        .key_histogram(bbox.as_ref(), &filter, &snap.territories);
    let body = facet_counts(&snap, &filter, &histogram);
    Ok(json(&req, &body, Cache::Short, Some(&etag)))
}

/// The facets of a view from how many of its actors have each filter key (see
/// [`crate::index::actors::ActorIndex::key_histogram`]): the key part of the filter is applied
/// here, each facet without its own part.
pub fn facet_counts(
    snap: &Snapshot,
    filter: &ActorFilter,
    histogram: &[(ItemKey, u32)],
) -> serde_json::Value {
    use crate::index::packed::attr;
    let keys = ActorIndex::key_filter(filter);
    let sum = |keep: &dyn Fn(&ItemKey) -> bool| -> u64 {
        histogram
            .iter()
            .filter(|(k, _)| keep(k))
            .map(|(_, n)| u64::from(*n))
            .sum()
    };
    let matched = sum(&|k| keys.admits(*k));
    let demo = sum(&|k| keys.admits(*k) && k.attrs & attr::NOT_DEMO == 0);

    let no_category = KeyFilter {
        any_category: None,
        ..keys
    };
    // An actor counts once in each of its categories and their ancestors: the categories
    // whose subtree holds `c` are `lineage[c]`.
    let defs = snap.catalog.defs();
    let lineage: Vec<u64> = (0..defs.len())
        .map(|c| {
            (0..defs.len())
                .filter(|&q| snap.catalog.subtree(q).0 & (1 << c) != 0)
                .fold(0, |m, q| m | (1 << q))
        })
        .collect();
    let mut per_category = vec![0_u64; defs.len()];
    for (k, n) in histogram.iter().filter(|(k, _)| no_category.admits(*k)) {
        let mask = CategorySet(k.categories)
            .positions()
            .fold(0, |m, c| m | lineage.get(c).copied().unwrap_or(0));
        for c in CategorySet(mask).positions() {
            if let Some(slot) = per_category.get_mut(c) {
                *slot += u64::from(*n);
            }
        }
    }
    let mut categories = serde_json::Map::new();
    for (def, n) in defs.iter().zip(per_category) {
        categories.insert(def.slug.clone(), n.into());
    }

    let no_family = KeyFilter {
        any_family: None,
        ..keys
    };
    let mut families = serde_json::Map::new();
    for f in Family::ALL {
        let bit = u16::from(crate::domain::FamilySet::of(*f).0);
        let n = sum(&|k| no_family.admits(*k) && k.attrs & bit != 0);
        families.insert(f.as_str().to_owned(), n.into());
    }

    let kind_bits = |set: crate::domain::KindSet| u16::from(set.0) << attr::KIND_SHIFT;
    let no_kind = KeyFilter {
        all_attrs: keys.all_attrs & !kind_bits(crate::domain::KindSet(u8::MAX)),
        ..keys
    };
    let wanted_kinds = kind_bits(filter.kinds);
    let mut kinds = serde_json::Map::new();
    for k in Kind::ALL {
        let bit = kind_bits(crate::domain::KindSet::of(*k));
        let n = sum(&|key| {
            no_kind.admits(*key) && key.attrs & bit != 0 && key.attrs & wanted_kinds == wanted_kinds
        });
        kinds.insert(k.as_str().to_owned(), n.into());
    }

    serde_json::json!({
        "numberMatched": matched,
        "demo": demo,
        "categories": categories,
        "families": families,
        "kinds": kinds,
    })
}

/// Parameters of `hours`.
#[derive(Debug, Deserialize)]
pub struct HoursParams {
    ids: Option<String>,
}

/// `GET /api/v1/map/hours?ids=1,2,3`: the OpenStreetMap `opening_hours` of published actors
/// (`null` when unknown); ids that name no published actor are left out.
pub async fn hours(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<HoursParams>,
) -> Result<HttpResponse, ApiError> {
    let text = q.ids.as_deref().map(str::trim).unwrap_or("");
    if text.is_empty() {
        return Err(InputError::new("ids", "is required: comma-separated actor ids").into());
    }
    let mut ids = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let id: i64 = part.parse().map_err(|_| {
            InputError::new(
                "ids",
                format!("'{part}' is not an actor id (a whole number)"),
            )
        })?;
        ids.push(ActorId(id));
    }
    if ids.len() > HOURS_LIMIT {
        return Err(InputError::new("ids", format!("must list at most {HOURS_LIMIT} ids")).into());
    }
    ids.sort_unstable();
    ids.dedup();
    let mut hours = serde_json::Map::new();
    for id in ids {
        let record = state.store.actor(id).await?;
        if let Some(r) = record.filter(|r| r.status == Status::Published) {
            hours.insert(id.0.to_string(), r.fields.opening_hours.into());
        }
    }
    let body = serde_json::json!({ "hours": hours });
    Ok(json(&req, &body, Cache::Short, None))
}

/// `GET /api/v1/map/outlines/departements`: every département outline, simplified for display.
pub async fn departements(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let outlines = MapState::outlines(&state).await?;
    Ok(respond::ok(
        &req,
        GEOJSON,
        outlines.departements.clone(),
        Cache::Long,
        None,
    ))
}

/// Parameters of `communes`.
#[derive(Debug, Deserialize)]
pub struct CommunesParams {
    bbox: Option<String>,
}

/// `GET /api/v1/map/outlines/communes?bbox=`: outlines of the communes meeting a box,
/// simplified for display, at most [`COMMUNES_LIMIT`] (none and `truncated` beyond).
pub async fn communes(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<CommunesParams>,
) -> Result<HttpResponse, ApiError> {
    let bbox = required_bbox(q.bbox.as_deref())?;
    let outlines = MapState::outlines(&state).await?;
    let snap = state.snapshot.load();
    let body = web::block(move || {
        let env = AABB::from_corners([bbox.west, bbox.south], [bbox.east, bbox.north]);
        let mut found: Vec<TerritoryIdx> = outlines
            .communes
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .collect();
        found.sort_unstable();
        let truncated = found.len() > COMMUNES_LIMIT;
        let mut body = Vec::new();
        let _ = write!(
            body,
            r#"{{"type":"FeatureCollection","numberMatched":{},"truncated":{truncated},"features":["#,
            found.len()
        );
        if !truncated {
            let mut n = 0;
            for i in found {
                let Some(shape) = snap.territories.get(i).and_then(|t| t.record.geometry.as_ref())
                else {
                    continue;
                };
                if n > 0 {
                    body.push(b',');
                }
                n += 1;
                outline_feature(
                    &mut body,
                    &snap,
                    i,
                    &outlines::simplify(shape, COMMUNE_TOLERANCE),
                    4,
                );
            }
        }
        body.extend_from_slice(b"]}");
        body
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("commune outlines: {e}")))?;
    Ok(respond::ok(&req, GEOJSON, body, Cache::Long, None))
}

/// `GET /api/v1/map/outlines/{kind}/{code}`: one territory's outline, simplified to its size
/// (for highlighting a search result).
pub async fn outline(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let snap = state.snapshot.load();
    let kind = TerritoryKind::parse("kind", &path.0)?;
    let code = crate::domain::TerritoryCode::parse(kind, "code", &path.1)?;
    let idx = snap
        .territories
        .find(kind, code.code())
        .ok_or_else(|| ApiError::NotFound(format!("no {kind} has the code '{}'", code.code())))?;
    let body = web::block(move || {
        let mut body = Vec::new();
        if let Some(t) = snap.territories.get(idx) {
            let span = snap
                .territories
                .bbox(idx)
                .map_or(1.0, |b| (b.east - b.west).max(b.north - b.south));
            let shape = t
                .record
                .geometry
                .as_ref()
                .map(|g| outlines::simplify(g, outlines::tolerance_for_span(span)))
                .unwrap_or_else(|| geo::MultiPolygon(Vec::new()));
            outline_feature(&mut body, &snap, idx, &shape, 5);
        }
        body
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("outline: {e}")))?;
    Ok(respond::ok(&req, GEOJSON, body, Cache::Long, None))
}
