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

    /// `[lon, lat]` rounded to seven decimals (about 1 cm), as every response serves them.
    #[must_use]
    pub fn rounded(self) -> [f64; 2] {
        [round7(self.lon), round7(self.lat)]
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

    /// The position in units of [`LonLat::E7`] (1e-7 degree, about 1 cm), rounded half away
    /// from zero: how actor positions are kept in the store.
    #[must_use]
    pub fn to_e7(self) -> [i64; 2] {
        [
            (self.lon * Self::E7).round() as i64,
            (self.lat * Self::E7).round() as i64,
        ]
    }

    /// The position `[lon, lat]` given in 1e-7 degree, as the nearest `f64` degrees: a
    /// decimal string with seven decimals parses to the same values.
    ///
    /// # Errors
    /// Names the coordinate out of range.
    pub fn from_e7(lon_e7: i64, lat_e7: i64) -> Result<Self, InputError> {
        Self::new(lon_e7 as f64 / Self::E7, lat_e7 as f64 / Self::E7)
    }

    /// The same position rounded to 1e-7 degree (see [`LonLat::to_e7`]).
    #[must_use]
    pub fn quantized(self) -> Self {
        let [lon, lat] = self.to_e7();
        Self::from_e7(lon, lat).unwrap_or(self)
    }

    /// Units of the fixed-point form per degree.
    pub const E7: f64 = 10_000_000.0;
}

/// Degrees rounded to seven decimals (about 1 cm), the precision of every coordinate served.
#[must_use]
pub fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
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

    #[test]
    fn the_fixed_point_form_round_trips_and_matches_seven_decimal_text() {
        let p = LonLat::new(-1.553_621_94, 47.218_371_55).expect("in range");
        assert_eq!(p.to_e7(), [-15_536_219, 472_183_716]);
        let q = p.quantized();
        assert_eq!(q.lon(), "-1.5536219".parse::<f64>().expect("number"));
        assert_eq!(q.lat(), "47.2183716".parse::<f64>().expect("number"));
        assert_eq!(q.quantized(), q);
        assert_eq!(
            LonLat::from_e7(1_800_000_000, -900_000_000)
                .expect("corner")
                .lon(),
            180.0
        );
        assert_eq!(
            LonLat::from_e7(1_800_000_001, 0)
                .expect_err("east of 180")
                .field,
            "lon"
        );
    }
}
