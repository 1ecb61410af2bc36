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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
