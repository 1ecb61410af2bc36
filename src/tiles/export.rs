//! `ancrage export --format pmtiles`: every actor tile (zooms 0 to
//! [`MAX_EXPORT_ZOOM`](super::actors::MAX_EXPORT_ZOOM), no filter, demonstration data left
//! out) in one PMTiles archive, for a site to host on any static server or CDN and read with
//! MapLibre and the `pmtiles` protocol.

use super::TileId;
use super::actors::{LAYER, MAX_EXPORT_ZOOM, Painter};
use crate::index::Snapshot;
use crate::index::actors::ActorFilter;
use pmtiles::{PmTilesWriter, TileCoord, TileType};
use std::path::Path;

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Tiles in the archive.
    pub tiles: usize,
    /// Actors in it (each once per zoom).
    pub actors: usize,
    /// Size of the archive, bytes.
    pub bytes: u64,
}

/// Writes the archive to `out` (demonstration data only when `demo`), calling
/// `progress(done, total)` as tiles are written.
///
/// # Errors
/// When the file cannot be written.
pub fn write(
    snap: &Snapshot,
    out: &Path,
    demo: bool,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<Written> {
    let filter = ActorFilter {
        exclude_demo: !demo,
        ..ActorFilter::default()
    };
    let painter = Painter::new(snap, &filter);
    let pyramid = snap.actors.pyramid();
    // In the archive's order (its tile ids along a Hilbert curve per zoom), so that readers
    // find neighbouring tiles together.
    let mut coords: Vec<(u64, TileId)> = Vec::new();
    for z in 0..=MAX_EXPORT_ZOOM {
        for (x, y) in pyramid.occupied_tiles(z) {
            let c = TileCoord::new(z, x, y)?;
            coords.push((pmtiles::TileId::from(c).value(), TileId { z, x, y }));
        }
    }
    coords.sort_unstable_by_key(|(id, _)| *id);
    let actors = if demo {
        snap.actors.len()
    } else {
        snap.actors.len() - snap.actors.demo_count()
    };
    let (mut bounds, mut any) = ([180.0_f64, 85.0_f64, -180.0_f64, -85.0_f64], false);
    for i in 0..snap.actors.len() as u32 {
        let e = snap.actors.entry(i);
        if demo || !e.demo {
            let (lon, lat) = (e.location.lon(), e.location.lat());
            bounds = [
                bounds[0].min(lon),
                bounds[1].min(lat),
                bounds[2].max(lon),
                bounds[3].max(lat),
            ];
            any = true;
        }
    }
    if !any {
        bounds = [-5.2, 41.3, 9.6, 51.1];
    }
    let fields = serde_json::json!({
        "id": "Number", "name": "String", "category": "String", "demo": "Boolean",
        "tiers": "Boolean", "cluster": "Boolean", "point_count": "Number",
        "west": "Number", "south": "Number", "east": "Number", "north": "Number",
    });
    let file = std::fs::File::create(out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .min_zoom(0)
        .max_zoom(MAX_EXPORT_ZOOM)
        .bounds(bounds[0], bounds[1], bounds[2], bounds[3])
        .center((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0)
        .center_zoom(5)
        .metadata(
            serde_json::json!({
                "name": "Ancrage — acteurs de l’ESS",
                "description": "Published actors of the social and solidarity economy (demonstration data left out): clusters to zoom 15, every actor at 16.",
                "attribution": "Ancrage; territoires IGN ADMIN EXPRESS, INSEE",
                "vector_layers": [{ "id": LAYER, "fields": fields, "minzoom": 0, "maxzoom": MAX_EXPORT_ZOOM }],
            })
            .to_string(),
        )
        .create(file)?;
    let total = coords.len();
    let mut tiles = 0;
    for (done, (_, t)) in coords.into_iter().enumerate() {
        if let Some(bytes) = painter.tile(t) {
            writer.add_tile(TileCoord::new(t.z, t.x, t.y)?, &bytes)?;
            tiles += 1;
        }
        if done % 1024 == 0 {
            progress(done, total);
        }
    }
    writer.finalize()?;
    progress(total, total);
    Ok(Written {
        tiles,
        actors,
        bytes: std::fs::metadata(out)?.len(),
    })
}
