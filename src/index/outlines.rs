//! Simplified territory outlines for drawing a basemap: fewer vertices and fewer decimals than
//! the reference polygons, which are kept exact for point-in-polygon tests.

use geo::{MultiPolygon, Polygon, Simplify};
use std::io::Write;

/// Simplifies a multipolygon with Douglas–Peucker at `tolerance` degrees, dropping rings that
/// collapse below a triangle and polygons whose outer ring does.
///
/// The result is for display only: simplification may make rings touch.
#[must_use]
pub fn simplify(shape: &MultiPolygon<f64>, tolerance: f64) -> MultiPolygon<f64> {
    let polygons = shape
        .0
        .iter()
        .filter_map(|p| {
            let exterior = p.exterior().simplify(tolerance);
            if exterior.0.len() < 4 {
                return None;
            }
            let holes = p
                .interiors()
                .iter()
                .map(|r| r.simplify(tolerance))
                .filter(|r| r.0.len() >= 4)
                .collect();
            Some(Polygon::new(exterior, holes))
        })
        .collect();
    MultiPolygon(polygons)
}

/// Number of vertices of a multipolygon, closing vertices included.
#[must_use]
pub fn vertex_count(shape: &MultiPolygon<f64>) -> usize {
    shape
        .0
        .iter()
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum()
}

/// Writes a GeoJSON `MultiPolygon` geometry with coordinates rounded to `decimals` decimals
/// (4 decimals is about 10 m, plenty for an outline drawn at a commune's scale).
pub fn write_geometry(out: &mut Vec<u8>, shape: &MultiPolygon<f64>, decimals: usize) {
    out.extend_from_slice(br#"{"type":"MultiPolygon","coordinates":["#);
    for (i, p) in shape.0.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'[');
        for (j, ring) in std::iter::once(p.exterior())
            .chain(p.interiors())
            .enumerate()
        {
            if j > 0 {
                out.push(b',');
            }
            out.push(b'[');
            for (k, c) in ring.0.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                let _ = write!(out, "[{:.*},{:.*}]", decimals, c.x, decimals, c.y);
            }
            out.push(b']');
        }
        out.push(b']');
    }
    out.extend_from_slice(b"]}");
}

/// A tolerance in degrees for drawing a shape whose box spans `span` degrees: about 1/2000 of
/// it, so an outline that fills the screen keeps sub-pixel detail.
#[must_use]
pub fn tolerance_for_span(span: f64) -> f64 {
    (span / 2000.0).clamp(0.000_05, 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, polygon};

    #[test]
    fn simplification_drops_collinear_vertices_and_keeps_corners() {
        let square = polygon![
            (x: 0.0, y: 0.0), (x: 0.5, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0),
            (x: 0.0, y: 1.0), (x: 0.0, y: 0.0),
        ];
        let s = simplify(&MultiPolygon(vec![square]), 0.01);
        assert_eq!(vertex_count(&s), 5);
        assert!(s.0[0].exterior().0.iter().all(|c| c.x != 0.5));
    }

    #[test]
    fn slivers_smaller_than_the_tolerance_disappear() {
        let big = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 0.0)];
        let tiny = Polygon::new(
            LineString::from(vec![(5.0, 5.0), (5.0001, 5.0), (5.0, 5.0001), (5.0, 5.0)]),
            vec![],
        );
        let s = simplify(&MultiPolygon(vec![big, tiny]), 0.01);
        assert_eq!(s.0.len(), 1);
    }

    #[test]
    fn geometry_is_written_as_geojson_with_fixed_decimals() {
        let tri = polygon![(x: 0.123_456, y: 1.0), (x: 1.0, y: 0.0), (x: 0.0, y: 0.0), (x: 0.123_456, y: 1.0)];
        let mut out = Vec::new();
        write_geometry(&mut out, &MultiPolygon(vec![tri]), 3);
        let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
        assert_eq!(v["type"], "MultiPolygon");
        assert_eq!(v["coordinates"][0][0][0][0].as_f64(), Some(0.123));
        assert_eq!(v["coordinates"][0][0].as_array().map(Vec::len), Some(4));
    }

    #[test]
    fn tolerance_grows_with_the_span_within_bounds() {
        assert!(tolerance_for_span(1.0) > tolerance_for_span(0.1));
        assert_eq!(tolerance_for_span(0.0), 0.000_05);
        assert_eq!(tolerance_for_span(1000.0), 0.05);
    }
}
