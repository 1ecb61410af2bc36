//! WGS84 positions in GeoJSON order.

use super::InputError;
use serde::Serialize;

/// A WGS84 position: longitude then latitude, in decimal degrees, both finite and in range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(into = "[f64; 2]")]
pub struct LonLat {
    lon: f64,
    lat: f64,
}

impl From<LonLat> for [f64; 2] {
    fn from(p: LonLat) -> Self {
        [p.lon, p.lat]
    }
}

impl LonLat {
    /// Builds a position, checking `-180 <= lon <= 180` and `-90 <= lat <= 90`.
    ///
    /// # Errors
    /// Names the field (`lon` or `lat`) that is out of range or not a number.
    pub fn new(lon: f64, lat: f64) -> Result<Self, InputError> {
        Self::parse_named("lon", "lat", lon, lat)
    }

    /// Like [`LonLat::new`] with the caller's field names in the error.
    ///
    /// # Errors
    /// Names `lon_field` or `lat_field` when out of range or not finite.
    pub fn parse_named(
        lon_field: &str,
        lat_field: &str,
        lon: f64,
        lat: f64,
    ) -> Result<Self, InputError> {
        if !lon.is_finite() || !(-180.0..=180.0).contains(&lon) {
            return Err(InputError::new(
                lon_field,
                "longitude must be a number between -180 and 180 (GeoJSON order is [lon, lat])",
            ));
        }
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(InputError::new(
                lat_field,
                "latitude must be a number between -90 and 90 (GeoJSON order is [lon, lat])",
            ));
        }
        Ok(Self { lon, lat })
    }

    /// Longitude in decimal degrees.
    #[must_use]
    pub fn lon(self) -> f64 {
        self.lon
    }

    /// Latitude in decimal degrees.
    #[must_use]
    pub fn lat(self) -> f64 {
        self.lat
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_corners_of_the_range() {
        assert!(LonLat::new(-180.0, -90.0).is_ok());
        assert!(LonLat::new(180.0, 90.0).is_ok());
    }

    #[test]
    fn names_the_faulty_coordinate() {
        assert_eq!(LonLat::new(2.0, 95.0).expect_err("lat").field, "lat");
        assert_eq!(LonLat::new(200.0, 45.0).expect_err("lon").field, "lon");
        assert_eq!(LonLat::new(f64::NAN, 45.0).expect_err("nan").field, "lon");
    }
}
