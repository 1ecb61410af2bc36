//! The self-hosted street basemap: a PMTiles archive of OpenStreetMap vector tiles in the
//! Protomaps basemap schema, read with the `pmtiles` crate and served by this process under its
//! own origin, with a style made from `@protomaps/basemaps` (vendored in
//! `frontend/vendor/protomaps-basemaps/`).
//!
//! [`sample`] writes a small archive of the same schema from the project's own territory
//! outlines and a few synthetic streets, for tests and for trying the setting without
//! downloading anything.

pub mod sample;

use pmtiles::{AsyncPmTilesReader, Compression, MmapBackend, TileCoord, TileType};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The layers of the style, adapted from `@protomaps/basemaps` (see
/// `scripts/vendor-basemap-style`).
const LAYERS: &str = include_str!("../../frontend/vendor/protomaps-basemaps/layers-light-fr.json");

/// Where the tiles are served; the style names this template.
pub const TILES_PATH: &str = "/basemap/tiles/{z}/{x}/{y}.mvt";

/// Where the style is served; the map's configuration points at it.
pub const STYLE_PATH: &str = "/basemap/style.json";

/// Credits of OpenStreetMap data (ODbL), shown by the map with the tiles.
pub const ATTRIBUTION: &str = "<a href=\"https://www.openstreetmap.org/copyright\" target=\"_blank\" rel=\"noopener\">© les contributeurs d’OpenStreetMap</a> (ODbL) · <a href=\"https://protomaps.com\" target=\"_blank\" rel=\"noopener\">Protomaps</a>";

/// Why an archive cannot serve as the basemap.
#[derive(Debug, thiserror::Error)]
pub enum BasemapError {
    /// The file cannot be opened or is not a PMTiles archive.
    #[error("basemap_pmtiles: {path} cannot be read as a PMTiles archive: {reason}")]
    Unreadable {
        /// The configured path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The archive holds something other than gzip-compressed or plain vector tiles.
    #[error(
        "basemap_pmtiles: {path} holds {what}; the basemap needs Mapbox Vector Tiles, plain or gzip-compressed (for example an extract made with `pmtiles extract` from a Protomaps build)"
    )]
    Unsupported {
        /// The configured path.
        path: PathBuf,
        /// What it holds.
        what: String,
    },
}

/// A tile as it is stored.
#[derive(Debug)]
pub struct StoredTile {
    /// The tile's bytes, compressed as [`StoredTile::gzip`] says.
    pub bytes: actix_web::web::Bytes,
    /// Whether the bytes are gzip-compressed.
    pub gzip: bool,
}

/// An opened archive and the style that draws it.
pub struct Basemap {
    reader: AsyncPmTilesReader<MmapBackend>,
    gzip: bool,
    /// Identifies the archive's version (path, size, modification time): the core of every
    /// tile's `ETag`.
    version: String,
    min_zoom: u8,
    max_zoom: u8,
    style: Vec<u8>,
}

impl std::fmt::Debug for Basemap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basemap")
            .field("version", &self.version)
            .field("zooms", &(self.min_zoom..=self.max_zoom))
            .finish_non_exhaustive()
    }
}

impl Basemap {
    /// Opens an archive and checks it holds vector tiles.
    ///
    /// # Errors
    /// When the file cannot be read as a PMTiles archive of plain or gzip-compressed vector
    /// tiles.
    pub async fn open(path: &Path) -> Result<Self, BasemapError> {
        let unreadable = |reason: String| BasemapError::Unreadable {
            path: path.to_owned(),
            reason,
        };
        let meta = tokio::fs::metadata(path)
            .await
            .map_err(|e| unreadable(e.to_string()))?;
        let reader = AsyncPmTilesReader::new_with_path(path)
            .await
            .map_err(|e| unreadable(e.to_string()))?;
        let header = reader.get_header();
        if header.tile_type != TileType::Mvt {
            return Err(BasemapError::Unsupported {
                path: path.to_owned(),
                what: format!("{:?} tiles", header.tile_type),
            });
        }
        let gzip = match header.tile_compression {
            Compression::None => false,
            Compression::Gzip => true,
            other => {
                return Err(BasemapError::Unsupported {
                    path: path.to_owned(),
                    what: format!("tiles compressed with {other:?}"),
                });
            }
        };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        path.hash(&mut h);
        meta.len().hash(&mut h);
        meta.modified().ok().hash(&mut h);
        let (min_zoom, max_zoom) = (header.min_zoom, header.max_zoom);
        let bounds = [
            header.min_longitude,
            header.min_latitude,
            header.max_longitude,
            header.max_latitude,
        ];
        let style = style(min_zoom, max_zoom, bounds)
            .map_err(|e| unreadable(format!("the vendored style: {e}")))?;
        Ok(Self {
            reader,
            gzip,
            version: format!("{:016x}", h.finish()),
            min_zoom,
            max_zoom,
            style,
        })
    }

    /// The style (MapLibre style specification 8) as JSON bytes.
    #[must_use]
    pub fn style(&self) -> &[u8] {
        &self.style
    }

    /// The archive's version, for `ETag`s.
    #[must_use]
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The zooms the archive holds.
    #[must_use]
    pub fn zooms(&self) -> std::ops::RangeInclusive<u8> {
        self.min_zoom..=self.max_zoom
    }

    /// The tile at `z/x/y` as stored, `None` where the archive has none.
    ///
    /// # Errors
    /// When the archive cannot be read.
    pub async fn tile(&self, coord: TileCoord) -> Result<Option<StoredTile>, String> {
        let bytes = self
            .reader
            .get_tile(coord)
            .await
            .map_err(|e| e.to_string())?;
        Ok(bytes.map(|bytes| StoredTile {
            bytes,
            gzip: self.gzip,
        }))
    }
}

/// The style: the vendored layers over the archive's tiles, without glyph server (labels in
/// the browser's fonts) nor sprite.
fn style(min_zoom: u8, max_zoom: u8, bounds: [f64; 4]) -> Result<Vec<u8>, serde_json::Error> {
    let layers: serde_json::Value = serde_json::from_str(LAYERS)?;
    let finite = bounds.iter().all(|b| b.is_finite()) && bounds[0] < bounds[2];
    let mut source = serde_json::json!({
        "type": "vector",
        "tiles": [TILES_PATH],
        "minzoom": min_zoom,
        "maxzoom": max_zoom,
        "attribution": ATTRIBUTION,
    });
    if finite {
        source["bounds"] = serde_json::json!(bounds);
    }
    serde_json::to_vec(&serde_json::json!({
        "version": 8,
        "name": "OpenStreetMap (Protomaps, light, fr)",
        "sources": { "protomaps": source },
        "layers": layers,
    }))
}
