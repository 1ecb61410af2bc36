//! Commune outlines and names as Mapbox Vector Tiles for the offline map:
//! `GET /tiles/communes/{z}/{x}/{y}.mvt`, zooms [`MIN_ZOOM`] to [`MAX_ZOOM`] (the map overzooms
//! the last one).
//!
//! A tile has two layers, both with the properties `code` and `name`: [`OUTLINES_LAYER`], the
//! rings of every commune meeting the tile or its buffer as lines simplified to one tile unit,
//! and [`LABELS_LAYER`], one point per commune whose representative point lies in the tile
//! itself (buffer excluded), so that each name is in exactly one tile of a zoom.
//!
//! Territories do not change while the process runs: a tile is encoded once, off the async
//! threads, and kept gzip-compressed in a bounded cache; clients without gzip get it
//! decompressed. Each tile carries a strong `ETag` (the process's start and the tile) and may
//! be kept a day by any cache.

use super::map::MapState;
use super::problem::ApiError;
use super::respond::{self, Cache};
use crate::domain::LonLat;
use crate::index::territories::{Territories, TerritoryIdx};
use crate::startup::AppState;
use crate::tiles::cache::TileCache;
use crate::tiles::mvt::{self, EXTENT, Frame, LayerBuilder};
use crate::tiles::{TileId, to_tile};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use flate2::Compression;
use flate2::write::GzEncoder;
use geo::{MultiLineString, Simplify};
use geozero::mvt::TileValue;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use std::io::{Read, Write};
use std::sync::Arc;

/// Shallowest zoom served: France's communes are too many to draw below it.
pub const MIN_ZOOM: u8 = 8;
/// Deepest zoom served; outlines at one tile unit of it stay sharp when the map overzooms.
pub const MAX_ZOOM: u8 = 14;
/// Name of the layer of commune outlines (lines).
pub const OUTLINES_LAYER: &str = "communes";
/// Name of the layer of commune names (points).
pub const LABELS_LAYER: &str = "commune_labels";
/// Bytes of gzip-compressed tiles kept in memory: a tile of Nantes takes about 36 KB at zoom
/// 8, 5 KB at zoom 10 and 0.6 KB at zoom 12, so this holds thousands of tiles.
pub const CACHE_BUDGET: usize = 32 * 1024 * 1024;

/// How long any cache may keep a tile.
const CACHE: &str = "public, max-age=86400";

/// Index of the boxes of the communes that have a polygon, in degrees.
pub type CommuneBoxes = RTree<GeomWithData<Rectangle<[f64; 2]>, TerritoryIdx>>;

/// The encoded commune tiles of this process and the stamp of their `ETag`s.
#[derive(Debug)]
pub struct CommuneTiles {
    /// Gzip-compressed tiles; an empty body stands for a tile without commune.
    cache: TileCache<TileId>,
    /// When the process started (hex seconds since the Unix epoch): tiles can change with the
    /// code and the territories, both of which only change across a restart.
    stamp: String,
}

impl CommuneTiles {
    /// An empty cache of [`CACHE_BUDGET`] bytes, stamped with the current time.
    #[must_use]
    pub fn new() -> Self {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            cache: TileCache::new(CACHE_BUDGET),
            stamp: format!("{started:x}"),
        }
    }

    /// The strong `ETag` of a tile in one representation (gzip or plain).
    fn etag(&self, id: TileId, gzip: bool) -> String {
        format!(
            "\"communes-{}-{}-{}-{}{}\"",
            self.stamp,
            id.z,
            id.x,
            id.y,
            if gzip { "-gz" } else { "" }
        )
    }
}

impl Default for CommuneTiles {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers the commune tile route (outside `/api/v1`: tiles are files, not the API).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/tiles/communes/{z}/{x}/{y}", web::get().to(tile));
}

/// Refuses a zoom outside [`MIN_ZOOM`]..=[`MAX_ZOOM`].
fn served(z: u8) -> Result<(), ApiError> {
    if z < MIN_ZOOM {
        return Err(ApiError::NotFound(format!(
            "communes are drawn from zoom {MIN_ZOOM}: zoom {z} has no commune tile"
        )));
    }
    if z > MAX_ZOOM {
        return Err(ApiError::NotFound(format!(
            "commune tiles stop at zoom {MAX_ZOOM} (maps overzoom it): zoom {z} has none"
        )));
    }
    Ok(())
}

/// `GET /tiles/communes/{z}/{x}/{y}.mvt`: the commune outlines and names of one tile; `204`
/// where no commune is.
pub async fn tile(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (z, x, y) = path.into_inner();
    let id = TileId::parse(&z, &x, &y).map_err(ApiError::InvalidParameter)?;
    served(id.z)?;
    let gzip = respond::accepts_gzip(&req);
    let etag = state.map.commune_tiles.etag(id, gzip);
    if let Some(r) = respond::not_modified(&req, &etag, Cache::Long) {
        return Ok(r);
    }
    let body = match state.map.commune_tiles.cache.get(&id) {
        Some(body) => body,
        None => {
            let outlines = MapState::outlines(&state).await?;
            let territories = Arc::clone(&state.snapshot.load().territories);
            let map = Arc::clone(&state.map);
            web::block(move || {
                let body: Arc<[u8]> = match encode(&territories, &outlines.communes, id) {
                    Some(tile) => compress(&tile)?.into(),
                    None => Arc::new([]),
                };
                map.commune_tiles.cache.insert(id, Arc::clone(&body));
                Ok::<_, std::io::Error>(body)
            })
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("commune tile {id}: {e}")))?
            .map_err(|e| {
                ApiError::Internal(anyhow::anyhow!("compressing commune tile {id}: {e}"))
            })?
        }
    };
    if body.is_empty() {
        return Ok(HttpResponse::NoContent()
            .insert_header((header::CACHE_CONTROL, CACHE))
            .insert_header((header::VARY, "Accept-Encoding"))
            .insert_header((header::ETAG, etag))
            .finish());
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, mvt::CONTENT_TYPE))
        .insert_header((header::CACHE_CONTROL, CACHE))
        .insert_header((header::VARY, "Accept-Encoding"))
        .insert_header((header::ETAG, etag));
    if gzip {
        res.insert_header((header::CONTENT_ENCODING, "gzip"));
        return Ok(res.body(body.to_vec()));
    }
    let mut plain = Vec::with_capacity(body.len() * 3);
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut plain)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a cached commune tile: {e}")))?;
    Ok(res.body(plain))
}

/// A tile, gzip-compressed once to be served many times.
fn compress(tile: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::with_capacity(tile.len() / 2), Compression::default());
    enc.write_all(tile)?;
    enc.finish()
}

/// Whether `p` lies in the tile itself (buffer excluded). Tiles meet on their edges: a point
/// there belongs to the tile east or south of it, so that it is in exactly one tile.
fn anchors(id: TileId, p: LonLat) -> bool {
    let (x, y) = to_tile(p.lon(), p.lat(), id.z);
    x.floor() == f64::from(id.x) && y.floor() == f64::from(id.y)
}

/// The encoded tile `id` of the communes whose box is in `boxes`, `None` when none meets it.
///
/// Outlines are simplified to one tile unit (`360 / 2^z / EXTENT` degrees) before being clipped
/// to the tile and its buffer, so neighbouring tiles draw the same lines.
#[must_use]
pub fn encode(territories: &Territories, boxes: &CommuneBoxes, id: TileId) -> Option<Vec<u8>> {
    let frame = Frame::new(id.z, id.x, id.y);
    let [w, s, e, n] = frame.bbox;
    let tolerance = 360.0 / f64::from(1u32 << id.z) / f64::from(EXTENT);
    let mut found: Vec<TerritoryIdx> = boxes
        .locate_in_envelope_intersecting(&AABB::from_corners([w, s], [e, n]))
        .map(|g| g.data)
        .collect();
    // The tree's order depends on how it was built: sorted, a tile's bytes do not.
    found.sort_unstable();
    let mut outlines = LayerBuilder::new(OUTLINES_LAYER);
    let mut labels = LayerBuilder::new(LABELS_LAYER);
    for i in found {
        let Some(t) = territories.get(i) else {
            continue;
        };
        let props = [
            ("code", TileValue::Str(t.record.code.clone())),
            ("name", TileValue::Str(t.record.name.clone())),
        ];
        if let Some(shape) = &t.record.geometry {
            let rings: MultiLineString<f64> = shape
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .map(|r| r.simplify(tolerance))
                .collect();
            if let Some(f) = frame.lines(&rings) {
                outlines.push(f, &props);
            }
        }
        if let Some(p) = t.point().filter(|p| anchors(id, *p)) {
            let at = frame.project(geo::Coord {
                x: p.lon(),
                y: p.lat(),
            });
            labels.point([at.x as i64, at.y as i64], None, &props);
        }
    }
    mvt::encode([outlines, labels])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).expect("a point")
    }

    #[test]
    fn a_point_is_anchored_in_exactly_one_tile_even_on_a_corner() {
        // The north-west corner of tile 10/507/359, shared by four tiles.
        let [w, _, _, n] = TileId {
            z: 10,
            x: 507,
            y: 359,
        }
        .bbox();
        let holders = |p: LonLat| -> Vec<(u32, u32)> {
            (505..=509)
                .flat_map(|x| (357..=361).map(move |y| (x, y)))
                .filter(|&(x, y)| anchors(TileId { z: 10, x, y }, p))
                .collect()
        };
        assert_eq!(holders(at(w, n)).len(), 1);
        // Nantes' town hall.
        assert_eq!(holders(at(-1.553_765, 47.218_632)), [(507, 359)]);
    }

    #[test]
    fn only_zooms_8_to_14_are_served_and_the_refusal_says_from_where() {
        assert!((MIN_ZOOM..=MAX_ZOOM).all(|z| served(z).is_ok()));
        let shallow = served(7).expect_err("zoom 7");
        assert!(shallow.to_string().contains("from zoom 8"), "{shallow}");
        let deep = served(15).expect_err("zoom 15");
        assert!(deep.to_string().contains("stop at zoom 14"), "{deep}");
    }

    #[test]
    fn the_etag_names_the_tile_and_its_representation() {
        let tiles = CommuneTiles::new();
        let id = TileId {
            z: 12,
            x: 2030,
            y: 1437,
        };
        let plain = tiles.etag(id, false);
        let gz = tiles.etag(id, true);
        assert!(plain.starts_with("\"communes-") && plain.ends_with("-12-2030-1437\""));
        assert_eq!(gz, format!("{}-gz\"", plain.trim_end_matches('"')));
    }
}
