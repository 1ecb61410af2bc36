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

/// Great-circle distance between two points, in metres, computed from their unit vectors
/// (chord formula): the same spherical distance as [`haversine_m`] to within a few
/// nanometres, and the one the index and its oracle use, because with unit vectors stored per
/// actor it costs one square root and one arcsine.
///
/// ```
/// use ancrage::domain::{LonLat, haversine_m};
/// use ancrage::domain::geodesy::great_circle_m;
/// let a = LonLat::new(-1.5536, 47.2184).unwrap();
/// let b = LonLat::new(-1.5, 47.25).unwrap();
/// assert!((great_circle_m(a, b) - haversine_m(a, b)).abs() < 1e-6);
/// ```
#[must_use]
pub fn great_circle_m(a: LonLat, b: LonLat) -> f64 {
    unit_distance_m(&unit_vector(a), &unit_vector(b))
}

/// Great-circle distance in metres between two unit vectors (see [`great_circle_m`]).
#[must_use]
#[inline]
pub fn unit_distance_m(u: &[f64; 3], v: &[f64; 3]) -> f64 {
    let d = [u[0] - v[0], u[1] - v[1], u[2] - v[2]];
    distance_for_chord((d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt())
}

/// Unit vector of a point on the sphere (x towards lon 0 lat 0, z towards the north pole).
#[must_use]
pub fn unit_vector(p: LonLat) -> [f64; 3] {
    let (lon, lat) = (p.lon().to_radians(), p.lat().to_radians());
    [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
}

/// Great-circle distance in metres subtended by a chord of the unit sphere.
///
/// For chords under 0.02 (about 127 km) the arcsine is its Taylor series to the 9th power,
/// exact to the last bit there and several times faster than `asin`.
#[must_use]
#[inline]
pub fn distance_for_chord(chord: f64) -> f64 {
    let x = (chord / 2.0).clamp(0.0, 1.0);
    let angle = if x < 0.01 {
        let x2 = x * x;
        x * (1.0 + x2 * (1.0 / 6.0 + x2 * (3.0 / 40.0 + x2 * (5.0 / 112.0 + x2 * (35.0 / 1152.0)))))
    } else {
        x.asin()
    };
    2.0 * EARTH_RADIUS_M * angle
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
    fn the_chord_formula_agrees_with_haversine_to_the_micrometre() {
        let mut worst: f64 = 0.0;
        for i in 0..2_000 {
            let t = f64::from(i);
            let a = ll(-5.0 + (t * 0.37) % 14.0, 41.0 + (t * 0.11) % 10.0);
            for metres in [0.5, 30.0, 1_000.0, 100_000.0] {
                let b = ll(
                    a.lon() + metres / 80_000.0 * (t * 0.7).cos(),
                    a.lat() + metres / 111_000.0 * (t * 0.7).sin(),
                );
                worst = worst.max((great_circle_m(a, b) - haversine_m(a, b)).abs());
            }
        }
        assert!(worst < 1e-6, "{worst}");
    }

    #[test]
    fn the_arcsine_series_matches_the_library_arcsine() {
        for i in 0..10_000 {
            let x = 0.01 * f64::from(i) / 10_000.0;
            let series = distance_for_chord(2.0 * x);
            let exact = 2.0 * EARTH_RADIUS_M * x.asin();
            assert!(
                (series - exact).abs() <= 1e-9 * exact.max(1.0),
                "{x}: {series} vs {exact}"
            );
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
