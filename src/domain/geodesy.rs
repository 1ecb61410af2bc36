//! Great-circle geometry on a sphere of the mean Earth radius.
//!
//! Every distance in the service, in the index and in the tests' brute-force oracle, comes from
//! [`haversine_m`], so that "exact" means bit-for-bit the same answer.

use super::{InputError, LonLat};

/// Mean Earth radius (IUGG), in metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// Great-circle distance between two points, in metres (haversine formula on
/// [`EARTH_RADIUS_M`]).
///
/// ```
/// use ancrage::domain::{LonLat, haversine_m};
/// let paris = LonLat::new(2.3522, 48.8566).unwrap();
/// let lille = LonLat::new(3.0573, 50.6292).unwrap();
/// let d = haversine_m(paris, lille);
/// assert!((d - 204_000.0).abs() < 1_000.0);
/// ```
#[must_use]
pub fn haversine_m(a: LonLat, b: LonLat) -> f64 {
    let (lat1, lat2) = (a.lat().to_radians(), b.lat().to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon() - a.lon()).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().min(1.0).asin()
}

/// Unit vector of a point on the sphere (x towards lon 0 lat 0, z towards the north pole).
#[must_use]
pub fn unit_vector(p: LonLat) -> [f64; 3] {
    let (lon, lat) = (p.lon().to_radians(), p.lat().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Chord length on the unit sphere that subtends a great-circle distance of `metres`.
#[must_use]
pub fn chord_for_distance(metres: f64) -> f64 {
    let angle = (metres / EARTH_RADIUS_M).min(std::f64::consts::PI);
    2.0 * (angle / 2.0).sin()
}

/// Great-circle distance in metres subtended by a chord of the unit sphere.
#[must_use]
pub fn distance_for_chord(chord: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord / 2.0).clamp(0.0, 1.0).asin()
}

/// A search radius in metres, between 1 m and [`Radius::MAX_M`].
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Radius(f64);

impl Radius {
    /// Largest radius accepted by the API, in metres (100 km: a rural search of 50 km with margin;
    /// wider questions are territory questions).
    pub const MAX_M: f64 = 100_000.0;

    /// Parses a radius in metres.
    ///
    /// # Errors
    /// When the value is not finite, below 1 m or above [`Radius::MAX_M`].
    pub fn parse(field: &str, metres: f64) -> Result<Self, InputError> {
        if !metres.is_finite() || metres < 1.0 {
            return Err(InputError::new(
                field,
                "must be a number of metres of at least 1",
            ));
        }
        if metres > Self::MAX_M {
            return Err(InputError::new(
                field,
                format!("must be at most {} metres", Self::MAX_M),
            ));
        }
        Ok(Self(metres))
    }

    /// The radius in metres.
    #[must_use]
    pub fn metres(self) -> f64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ll(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).expect("valid test point")
    }

    #[test]
    fn a_degree_of_latitude_is_about_111_km() {
        let d = haversine_m(ll(2.0, 45.0), ll(2.0, 46.0));
        assert!((d - 111_195.0).abs() < 1.0, "{d}");
    }

    #[test]
    fn a_degree_of_longitude_at_lille_is_shorter_than_a_degree_of_latitude() {
        let lon_deg = haversine_m(ll(3.0, 50.63), ll(4.0, 50.63));
        let lat_deg = haversine_m(ll(3.0, 50.63), ll(3.0, 51.63));
        let ratio = lon_deg / lat_deg;
        assert!((ratio - 0.634).abs() < 0.01, "{ratio}");
    }

    #[test]
    fn chord_and_distance_are_inverse() {
        for m in [1.0, 100.0, 5_000.0, 100_000.0, 10_000_000.0] {
            let back = distance_for_chord(chord_for_distance(m));
            assert!((back - m).abs() < 1e-6 * m.max(1.0), "{m} -> {back}");
        }
    }

    #[test]
    fn radius_rejects_zero_negative_nan_and_too_large() {
        for bad in [0.0, -5.0, f64::NAN, f64::INFINITY, 100_001.0] {
            assert!(Radius::parse("radius", bad).is_err(), "{bad}");
        }
        let err = Radius::parse("radius", 200_000.0).expect_err("too large");
        assert_eq!(err.field, "radius");
        assert!(err.rule.contains("100000"), "{}", err.rule);
        assert_eq!(
            Radius::parse("radius", 1500.0).map(Radius::metres),
            Ok(1500.0)
        );
    }
}
