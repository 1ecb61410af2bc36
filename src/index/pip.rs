//! Fast point-in-polygon for large polygons: edges bucketed into horizontal bands.
//!
//! A test looks only at the edges of the point's band (a few for typical shapes) instead of
//! every edge, and uses robust orientation predicates, so a point on an edge or a vertex is
//! always classified the same way: **on the boundary counts as inside** (closed polygon,
//! like `geo::Intersects`).

use crate::domain::{Bbox, LonLat};
use geo::{Coord, Kernel, MultiPolygon, Orientation};

type Robust = <f64 as geo::GeoNum>::Ker;

/// A multipolygon prepared for repeated containment tests. `Send + Sync`.
#[derive(Debug, Clone)]
pub struct PolygonIndex {
    bbox: Bbox,
    y0: f64,
    inv_band_height: f64,
    band_start: Vec<u32>,
    band_edges: Vec<u32>,
    edges: Vec<(Coord<f64>, Coord<f64>)>,
}

impl PolygonIndex {
    /// Prepares a multipolygon (rings may have any winding: the test is even-odd).
    #[must_use]
    pub fn new(shape: &MultiPolygon<f64>) -> Self {
        let edges: Vec<(Coord<f64>, Coord<f64>)> = shape
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|ring| ring.lines().map(|l| (l.start, l.end)))
            .filter(|(a, b)| a != b)
            .collect();
        let mut bbox = Bbox {
            west: f64::INFINITY,
            south: f64::INFINITY,
            east: f64::NEG_INFINITY,
            north: f64::NEG_INFINITY,
        };
        for (a, _) in &edges {
            bbox.west = bbox.west.min(a.x);
            bbox.east = bbox.east.max(a.x);
            bbox.south = bbox.south.min(a.y);
            bbox.north = bbox.north.max(a.y);
        }
        let bands = edges.len().max(1);
        let height = (bbox.north - bbox.south).max(f64::MIN_POSITIVE);
        let inv_band_height = bands as f64 / height;
        let y0 = bbox.south;
        let band_of = |y: f64| -> usize { (((y - y0) * inv_band_height) as usize).min(bands - 1) };
        let mut counts = vec![0_u32; bands + 1];
        for (a, b) in &edges {
            let (lo, hi) = (band_of(a.y.min(b.y)), band_of(a.y.max(b.y)));
            for c in &mut counts[lo..=hi] {
                *c += 1;
            }
        }
        let mut band_start = Vec::with_capacity(bands + 1);
        let mut acc = 0_u32;
        for c in &counts[..bands] {
            band_start.push(acc);
            acc += c;
        }
        band_start.push(acc);
        let mut fill = band_start.clone();
        let mut band_edges = vec![0_u32; acc as usize];
        for (i, (a, b)) in edges.iter().enumerate() {
            let (lo, hi) = (band_of(a.y.min(b.y)), band_of(a.y.max(b.y)));
            for band in lo..=hi {
                band_edges[fill[band] as usize] = i as u32;
                fill[band] += 1;
            }
        }
        Self {
            bbox,
            y0,
            inv_band_height,
            band_start,
            band_edges,
            edges,
        }
    }

    /// Bounding box of the polygon.
    #[must_use]
    pub fn bbox(&self) -> Bbox {
        self.bbox
    }

    /// Whether the point is inside the polygon or on its boundary.
    #[must_use]
    pub fn covers(&self, p: LonLat) -> bool {
        if !self.bbox.contains(p) || self.edges.is_empty() {
            return false;
        }
        let c = Coord {
            x: p.lon(),
            y: p.lat(),
        };
        let bands = self.band_start.len() - 1;
        let band = (((c.y - self.y0) * self.inv_band_height) as usize).min(bands - 1);
        let (from, to) = (
            self.band_start[band] as usize,
            self.band_start[band + 1] as usize,
        );
        let mut inside = false;
        for &e in &self.band_edges[from..to] {
            let (a, b) = self.edges[e as usize];
            let up = a.y <= c.y && b.y > c.y;
            let down = b.y <= c.y && a.y > c.y;
            let in_span = c.y >= a.y.min(b.y)
                && c.y <= a.y.max(b.y)
                && c.x >= a.x.min(b.x)
                && c.x <= a.x.max(b.x);
            if !(up || down || in_span) {
                continue;
            }
            let o = Robust::orient2d(a, b, c);
            if o == Orientation::Collinear && in_span {
                return true;
            }
            if (up && o == Orientation::CounterClockwise) || (down && o == Orientation::Clockwise) {
                inside = !inside;
            }
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, LineString, Polygon};

    /// Deterministic pseudo-random numbers (SplitMix64), so failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) >> 11) as f64 / (1_u64 << 53) as f64
        }
    }

    fn star(cx: f64, cy: f64, n: usize, rng: &mut Rng) -> LineString<f64> {
        let mut pts: Vec<Coord<f64>> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                let r = 0.5 + rng.next();
                // Snap to a 1/64 grid so that edge midpoints are exactly representable.
                let snap = |v: f64| (v * 64.0).round() / 64.0;
                Coord {
                    x: snap(cx + r * a.cos()),
                    y: snap(cy + r * a.sin()),
                }
            })
            .collect();
        pts.dedup();
        pts.push(pts[0]);
        LineString(pts)
    }

    #[test]
    fn agrees_with_geo_intersects_inside_outside_and_on_the_boundary() {
        let mut rng = Rng(42);
        for round in 0..20 {
            let shell = star(0.0, 0.0, 40 + round * 10, &mut rng);
            let hole = star(0.0, 0.0, 12, &mut Rng(round as u64))
                .0
                .iter()
                .map(|c| Coord {
                    x: c.x * 0.3,
                    y: c.y * 0.3,
                })
                .collect();
            let other = star(5.0, 5.0, 30, &mut rng);
            let mp = MultiPolygon(vec![
                Polygon::new(shell.clone(), vec![LineString(hole)]),
                Polygon::new(other, vec![]),
            ]);
            let idx = PolygonIndex::new(&mp);
            let mut probes: Vec<Coord<f64>> = (0..2_000)
                .map(|_| Coord {
                    x: rng.next() * 8.0 - 2.0,
                    y: rng.next() * 8.0 - 2.0,
                })
                .collect();
            // Vertices and edge midpoints lie exactly on the boundary.
            for l in shell.lines() {
                probes.push(l.start);
                probes.push(Coord {
                    x: (l.start.x + l.end.x) / 2.0,
                    y: (l.start.y + l.end.y) / 2.0,
                });
            }
            for c in probes {
                let p = LonLat::new(c.x, c.y).expect("in range");
                assert_eq!(idx.covers(p), mp.intersects(&c), "round {round} at {c:?}");
            }
        }
    }
}
