//! Web Mercator tiles: addresses, the projection into a tile, Mapbox Vector Tile layers, and a
//! bounded cache of encoded tiles. Shared by the actor tiles, the commune outline tiles, the
//! sample basemap and the PMTiles export.

pub mod actors;
pub mod cache;
pub mod export;
pub mod mvt;

use crate::domain::error::InputError;
use std::f64::consts::PI;

/// Deepest zoom any tile address may name.
pub const MAX_ADDRESS_ZOOM: u8 = 30;

/// Latitude limit of Web Mercator, degrees.
pub const MAX_MERCATOR_LAT: f64 = 85.051_128_779_806_6;

/// A tile address: zoom, column (west to east) and row (north to south).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Zoom, 0 to [`MAX_ADDRESS_ZOOM`].
    pub z: u8,
    /// Column, below `2^z`.
    pub x: u32,
    /// Row, below `2^z`.
    pub y: u32,
}

impl TileId {
    /// Parses `z`, `x` and `y.mvt` of a tile address (the path segments of `/{z}/{x}/{y}.mvt`).
    ///
    /// # Errors
    /// When a part is not a whole number, the zoom is above [`MAX_ADDRESS_ZOOM`], a column or
    /// row is outside its zoom, or the last part does not end in `.mvt`; the error names the
    /// part.
    pub fn parse(z: &str, x: &str, y: &str) -> Result<Self, InputError> {
        let z: u8 = z
            .parse()
            .ok()
            .filter(|z| *z <= MAX_ADDRESS_ZOOM)
            .ok_or_else(|| {
                InputError::new("z", format!("must be a zoom from 0 to {MAX_ADDRESS_ZOOM}"))
            })?;
        let size = 1u64 << z;
        let within = |name: &'static str, v: &str| {
            v.parse::<u64>()
                .ok()
                .filter(|v| *v < size)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| {
                    InputError::new(
                        name,
                        format!("must be a whole number below {size} at zoom {z}"),
                    )
                })
        };
        let y = y
            .strip_suffix(".mvt")
            .ok_or_else(|| InputError::new("y", "tiles are named {y}.mvt"))?;
        Ok(Self {
            z,
            x: within("x", x)?,
            y: within("y", y)?,
        })
    }

    /// The tile's box in degrees, `[west, south, east, north]`.
    #[must_use]
    pub fn bbox(&self) -> [f64; 4] {
        let (w, n) = from_tile(f64::from(self.x), f64::from(self.y), self.z);
        let (e, s) = from_tile(f64::from(self.x) + 1.0, f64::from(self.y) + 1.0, self.z);
        [w, s, e, n]
    }
}

impl std::fmt::Display for TileId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Web Mercator tile coordinates (fractional) of a point at zoom `z`; latitudes are clamped to
/// the projection's limit.
#[must_use]
pub fn to_tile(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let lat = lat.clamp(-MAX_MERCATOR_LAT, MAX_MERCATOR_LAT).to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * n;
    (x, y)
}

/// Longitude and latitude of a tile corner (fractional tile coordinates at zoom `z`).
#[must_use]
pub fn from_tile(x: f64, y: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let lon = x / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    (lon, lat)
}

/// The tiles of zoom `z` that meet a box `[west, south, east, north]` (degrees).
pub fn tiles_over(bbox: [f64; 4], z: u8) -> impl Iterator<Item = (u32, u32)> {
    let last = (1u32 << z) - 1;
    let (x0, y0) = to_tile(bbox[0], bbox[3], z);
    let (x1, y1) = to_tile(bbox[2], bbox[1], z);
    let clamp = |v: f64| (v.floor().max(0.0) as u32).min(last);
    let (x0, x1, y0, y1) = (clamp(x0), clamp(x1), clamp(y0), clamp(y1));
    (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| (x, y)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The field a bad address names.
    fn field(z: &str, x: &str, y: &str) -> Option<String> {
        TileId::parse(z, x, y).err().map(|e| e.field)
    }

    #[test]
    fn tile_addresses_are_parsed_and_bounded_by_their_zoom() {
        let c = TileId::parse("12", "2030", "1434.mvt").expect("a tile");
        assert_eq!((c.z, c.x, c.y), (12, 2030, 1434));
        assert_eq!(field("0", "1", "0.mvt").as_deref(), Some("x"));
        assert_eq!(field("2", "0", "4.mvt").as_deref(), Some("y"));
        assert_eq!(field("31", "0", "0.mvt").as_deref(), Some("z"));
        assert_eq!(field("a", "0", "0.mvt").as_deref(), Some("z"));
        assert_eq!(field("1", "0", "0.png").as_deref(), Some("y"));
    }

    #[test]
    fn a_tile_box_and_the_projection_agree() {
        let t = TileId {
            z: 10,
            x: 507,
            y: 362,
        };
        let [w, s, e, n] = t.bbox();
        let (x0, y0) = to_tile(w, n, 10);
        let (x1, y1) = to_tile(e, s, 10);
        assert!((x0 - 507.0).abs() < 1e-9 && (y0 - 362.0).abs() < 1e-9);
        assert!((x1 - 508.0).abs() < 1e-9 && (y1 - 363.0).abs() < 1e-9);
        assert_eq!(
            tiles_over([w + 1e-6, s + 1e-6, e - 1e-6, n - 1e-6], 10).count(),
            1
        );
        assert_eq!(TileId { z: 0, x: 0, y: 0 }.bbox()[0], -180.0);
    }

    #[test]
    fn tile_coordinates_round_trip_and_cover_their_box() {
        let (x, y) = to_tile(-1.5536, 47.2173, 12);
        assert_eq!((x.floor(), y.floor()), (2030.0, 1437.0));
        let (lon, lat) = from_tile(x, y, 12);
        assert!((lon + 1.5536).abs() < 1e-9 && (lat - 47.2173).abs() < 1e-9);
        assert_eq!(tiles_over([-180.0, -85.0, 180.0, 85.0], 0).count(), 1);
        let nantes: Vec<_> = tiles_over([-1.56, 47.21, -1.55, 47.22], 12).collect();
        assert!(nantes.contains(&(2030, 1437)), "{nantes:?}");
    }
}
