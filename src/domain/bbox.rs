//! Longitude/latitude bounding boxes (map viewports).

use super::{InputError, LonLat};

/// A bounding box `west,south,east,north` in decimal degrees, with `west <= east` and
/// `south <= north` (boxes across the antimeridian are not supported: no French territory in
/// the reference data crosses it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bbox {
    /// Western longitude, degrees.
    pub west: f64,
    /// Southern latitude, degrees.
    pub south: f64,
    /// Eastern longitude, degrees.
    pub east: f64,
    /// Northern latitude, degrees.
    pub north: f64,
}

impl Bbox {
    /// Parses `"west,south,east,north"` as sent in a `bbox` query parameter.
    ///
    /// # Errors
    /// When there are not four numbers, a value is out of range, or the corners are swapped.
    pub fn parse(field: &str, text: &str) -> Result<Self, InputError> {
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        if parts.len() != 4 {
            return Err(InputError::new(
                field,
                "must be four comma-separated numbers: west,south,east,north",
            ));
        }
        let mut v = [0.0_f64; 4];
        for (slot, part) in v.iter_mut().zip(&parts) {
            *slot = part.parse::<f64>().map_err(|_| {
                InputError::new(
                    field,
                    format!("'{part}' is not a number (west,south,east,north)"),
                )
            })?;
        }
        Self::new(field, v[0], v[1], v[2], v[3])
    }

    /// Builds a box from its four sides.
    ///
    /// # Errors
    /// When a side is out of range or `west > east` or `south > north`.
    pub fn new(
        field: &str,
        west: f64,
        south: f64,
        east: f64,
        north: f64,
    ) -> Result<Self, InputError> {
        let sw = LonLat::parse_named(field, field, west, south)?;
        let ne = LonLat::parse_named(field, field, east, north)?;
        if sw.lon() > ne.lon() {
            return Err(InputError::new(field, "west must not be greater than east"));
        }
        if sw.lat() > ne.lat() {
            return Err(InputError::new(
                field,
                "south must not be greater than north",
            ));
        }
        Ok(Self {
            west,
            south,
            east,
            north,
        })
    }

    /// Whether the box contains the point (edges included).
    #[must_use]
    pub fn contains(&self, p: LonLat) -> bool {
        p.lon() >= self.west
            && p.lon() <= self.east
            && p.lat() >= self.south
            && p.lat() <= self.north
    }

    /// Smallest box containing both boxes.
    #[must_use]
    pub fn union(&self, other: &Self) -> Self {
        Self {
            west: self.west.min(other.west),
            south: self.south.min(other.south),
            east: self.east.max(other.east),
            north: self.north.max(other.north),
        }
    }

    /// The four numbers in GeoJSON `bbox` order.
    #[must_use]
    pub fn to_array(&self) -> [f64; 4] {
        [self.west, self.south, self.east, self.north]
    }

    /// Axis-aligned box, on the unit sphere, that contains every point of this lon/lat box.
    ///
    /// Conservative: it may be larger than needed, never smaller, so an index query with it
    /// followed by [`Bbox::contains`] is exact.
    #[must_use]
    pub fn unit_sphere_envelope(&self) -> ([f64; 3], [f64; 3]) {
        let (w, e) = (self.west.to_radians(), self.east.to_radians());
        let (s, n) = (self.south.to_radians(), self.north.to_radians());
        // cos(lat) over [s, n]: largest at the latitude closest to the equator.
        let cos_lat_max = if s <= 0.0 && n >= 0.0 {
            1.0
        } else {
            s.cos().max(n.cos())
        };
        let cos_lat_min = s.cos().min(n.cos());
        let (cos_lon_min, cos_lon_max) = range_over(
            w,
            e,
            f64::cos,
            &[0.0],
            &[-std::f64::consts::PI, std::f64::consts::PI],
        );
        let half_pi = std::f64::consts::FRAC_PI_2;
        let (sin_lon_min, sin_lon_max) = range_over(w, e, f64::sin, &[half_pi], &[-half_pi]);
        let prod = |a: f64, b: f64, lo: f64, hi: f64| {
            let c = [a * lo, a * hi, b * lo, b * hi];
            (
                c.iter().copied().fold(f64::INFINITY, f64::min),
                c.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        };
        let (x0, x1) = prod(cos_lat_min, cos_lat_max, cos_lon_min, cos_lon_max);
        let (y0, y1) = prod(cos_lat_min, cos_lat_max, sin_lon_min, sin_lon_max);
        let (z0, z1) = (s.sin(), n.sin());
        const PAD: f64 = 1e-6;
        (
            [x0 - PAD, y0 - PAD, z0 - PAD],
            [x1 + PAD, y1 + PAD, z1 + PAD],
        )
    }
}

/// Range of a smooth function over `[a, b]`, given where it peaks and where it bottoms out.
fn range_over(a: f64, b: f64, f: fn(f64) -> f64, maxima: &[f64], minima: &[f64]) -> (f64, f64) {
    let mut lo = f(a).min(f(b));
    let mut hi = f(a).max(f(b));
    for &m in maxima {
        if (a..=b).contains(&m) {
            hi = hi.max(f(m));
        }
    }
    for &m in minima {
        if (a..=b).contains(&m) {
            lo = lo.min(f(m));
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::geodesy::unit_vector;

    #[test]
    fn parses_four_numbers() {
        let b = Bbox::parse("bbox", "-1.6, 47.1,-1.4,47.3").expect("valid");
        assert_eq!(b.to_array(), [-1.6, 47.1, -1.4, 47.3]);
    }

    #[test]
    fn rejects_swapped_corners_and_garbage() {
        assert!(Bbox::parse("bbox", "1,2,3").is_err());
        assert!(
            Bbox::parse("bbox", "a,2,3,4")
                .expect_err("nan")
                .rule
                .contains("'a'")
        );
        assert!(
            Bbox::parse("bbox", "3,2,1,4")
                .expect_err("swap")
                .rule
                .contains("west")
        );
        assert!(
            Bbox::parse("bbox", "1,5,3,4")
                .expect_err("swap")
                .rule
                .contains("south")
        );
        assert!(Bbox::parse("bbox", "1,2,3,100").is_err());
    }

    #[test]
    fn unit_sphere_envelope_contains_every_point_of_the_box() {
        let boxes = [
            [-1.6, 47.1, -1.4, 47.3],
            [-5.0, -10.0, 5.0, 10.0],
            [55.2, -21.4, 55.9, -20.8],
            [-180.0, -90.0, 180.0, 90.0],
            [170.0, 80.0, 180.0, 90.0],
        ];
        for [w, s, e, n] in boxes {
            let b = Bbox::new("bbox", w, s, e, n).expect("valid");
            let (lo, hi) = b.unit_sphere_envelope();
            for i in 0..=20 {
                for j in 0..=20 {
                    let lon = w + (e - w) * f64::from(i) / 20.0;
                    let lat = s + (n - s) * f64::from(j) / 20.0;
                    let v = unit_vector(LonLat::new(lon, lat).expect("in range"));
                    for k in 0..3 {
                        assert!(v[k] >= lo[k] && v[k] <= hi[k], "{lon},{lat} axis {k}");
                    }
                }
            }
        }
    }
}
