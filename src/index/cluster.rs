//! Grid clustering of points for a map view (server-side clusters for large data sets).
//!
//! Points are binned in square cells of a fixed size in Web Mercator pixels at the requested
//! zoom. The grid is anchored at the projection's origin, not at the viewport, so panning never
//! changes which points share a cluster: clusters stay put as the map moves.

use crate::domain::{Bbox, LonLat};
use std::collections::HashMap;

/// Size of a cluster cell, in pixels of a 256-pixel-tile Web Mercator world at the zoom.
pub const CELL_PX: f64 = 60.0;

/// Latitude limit of Web Mercator, degrees.
const MAX_MERCATOR_LAT: f64 = 85.051_128_78;

/// One cell of the grid holding at least one point.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster<T> {
    /// Number of points in the cell.
    pub count: usize,
    /// Mean position of the points (degrees; a point of the cell's convex hull).
    pub centre: LonLat,
    /// Box of the points of the cell (zooming to it separates them).
    pub bbox: Bbox,
    /// The smallest item of the cell (by `Ord`): the point itself when `count` is 1.
    pub first: T,
}

/// Web Mercator pixel coordinates of a point at a zoom (256-pixel tiles), x to the east and
/// y to the south.
#[must_use]
pub fn mercator_px(p: LonLat, zoom: f64) -> (f64, f64) {
    let world = 256.0 * 2_f64.powf(zoom);
    let lat = p
        .lat()
        .clamp(-MAX_MERCATOR_LAT, MAX_MERCATOR_LAT)
        .to_radians();
    let x = (p.lon() + 180.0) / 360.0 * world;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * world;
    (x, y)
}

/// Groups points into grid cells of [`CELL_PX`] pixels at `zoom`; clusters come out in a
/// stable order (by cell, west to east then north to south).
pub fn grid<T: Ord + Copy>(
    points: impl IntoIterator<Item = (LonLat, T)>,
    zoom: f64,
) -> Vec<Cluster<T>> {
    struct Acc<T> {
        count: usize,
        lon: f64,
        lat: f64,
        bbox: [f64; 4],
        first: T,
    }
    let mut cells: HashMap<(i64, i64), Acc<T>> = HashMap::new();
    for (p, item) in points {
        let (x, y) = mercator_px(p, zoom);
        let key = ((x / CELL_PX).floor() as i64, (y / CELL_PX).floor() as i64);
        let acc = cells.entry(key).or_insert(Acc {
            count: 0,
            lon: 0.0,
            lat: 0.0,
            bbox: [p.lon(), p.lat(), p.lon(), p.lat()],
            first: item,
        });
        acc.count += 1;
        acc.lon += p.lon();
        acc.lat += p.lat();
        acc.bbox = [
            acc.bbox[0].min(p.lon()),
            acc.bbox[1].min(p.lat()),
            acc.bbox[2].max(p.lon()),
            acc.bbox[3].max(p.lat()),
        ];
        acc.first = acc.first.min(item);
    }
    let mut out: Vec<((i64, i64), Cluster<T>)> = cells
        .into_iter()
        .filter_map(|(key, a)| {
            let n = a.count as f64;
            // Means of valid coordinates and corners of valid points are valid: these cannot fail.
            let centre = LonLat::new(a.lon / n, a.lat / n).ok()?;
            let bbox = Bbox::new("bbox", a.bbox[0], a.bbox[1], a.bbox[2], a.bbox[3]).ok()?;
            Some((
                key,
                Cluster {
                    count: a.count,
                    centre,
                    bbox,
                    first: a.first,
                },
            ))
        })
        .collect();
    out.sort_unstable_by_key(|(key, _)| *key);
    out.into_iter().map(|(_, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(lon: f64, lat: f64) -> LonLat {
        LonLat::new(lon, lat).expect("valid")
    }

    #[test]
    fn mercator_pixels_match_hand_computed_values() {
        // Zoom 0: the world is 256 px wide; (0, 0) is its centre.
        let (x, y) = mercator_px(p(0.0, 0.0), 0.0);
        assert!((x - 128.0).abs() < 1e-9 && (y - 128.0).abs() < 1e-9);
        // The antimeridian is the left edge; the Mercator limit is the top edge.
        let (x, y) = mercator_px(p(-180.0, 85.051_128_78), 1.0);
        assert!(x.abs() < 1e-9 && y.abs() < 1e-3, "{x} {y}");
        // Each zoom level doubles the pixel coordinates.
        let (x1, y1) = mercator_px(p(-1.5536, 47.2184), 10.0);
        let (x2, y2) = mercator_px(p(-1.5536, 47.2184), 11.0);
        assert!((x2 - 2.0 * x1).abs() < 1e-6 && (y2 - 2.0 * y1).abs() < 1e-6);
    }

    #[test]
    fn every_point_lands_in_exactly_one_cluster_and_counts_add_up() {
        let pts: Vec<(LonLat, u32)> = (0..500)
            .map(|i| {
                let f = f64::from(i);
                (p(-5.0 + (f * 0.137) % 13.0, 42.0 + (f * 0.071) % 9.0), i)
            })
            .collect();
        for zoom in [0.0, 4.0, 8.0, 14.0] {
            let clusters = grid(pts.iter().copied(), zoom);
            assert_eq!(clusters.iter().map(|c| c.count).sum::<usize>(), pts.len());
            for c in &clusters {
                assert!(c.bbox.contains(c.centre), "centre inside its points' box");
            }
        }
        // Zoomed far in, no two of these points share a cell.
        assert_eq!(grid(pts.iter().copied(), 18.0).len(), pts.len());
        // Zoomed far out, all of them do.
        assert_eq!(grid(pts.iter().copied(), 0.0).len(), 1);
    }

    #[test]
    fn a_cluster_reports_its_mean_box_and_smallest_item() {
        let clusters = grid([(p(2.0, 48.0), 7_u32), (p(2.001, 48.001), 3)], 5.0);
        assert_eq!(clusters.len(), 1);
        let c = &clusters[0];
        assert_eq!((c.count, c.first), (2, 3));
        assert!(
            (c.centre.lon() - 2.0005).abs() < 1e-12 && (c.centre.lat() - 48.0005).abs() < 1e-12
        );
        assert_eq!(c.bbox.to_array(), [2.0, 48.0, 2.001, 48.001]);
    }

    #[test]
    fn the_grid_does_not_depend_on_the_order_of_points() {
        let a = [(p(2.0, 48.0), 1_u32), (p(2.3, 48.8), 2), (p(-1.5, 47.2), 3)];
        let mut b = a;
        b.reverse();
        assert_eq!(grid(a, 6.0), grid(b, 6.0));
    }
}
