//! Client-supplied query polygons (GeoJSON Polygon or MultiPolygon), parsed and checked.

use super::{Bbox, InputError};
use geo::{Coord, Intersects, Kernel, Line, LineString, MultiPolygon, Orientation, Polygon};
use serde_json::Value;

/// A valid polygon or multipolygon in lon/lat degrees, with its bounding box.
///
/// Edges are straight lines in lon/lat (RFC 7946 §3.1.1). Rings are closed and simple, holes lie
/// inside their shell, parts do not overlap, and the vertex count is at most
/// [`QueryPolygon::MAX_VERTICES`].
#[derive(Debug, Clone)]
pub struct QueryPolygon {
    shape: MultiPolygon<f64>,
    bbox: Bbox,
}

impl QueryPolygon {
    /// Most vertices accepted in one query polygon.
    pub const MAX_VERTICES: usize = 10_000;

    /// Parses a GeoJSON `Polygon`, `MultiPolygon`, or a `Feature` holding one.
    ///
    /// # Errors
    /// Names the JSON path of the first problem: wrong type, a ring that is not closed or has
    /// fewer than four positions, a coordinate out of range, too many vertices, a
    /// self-intersection, a hole outside its shell, or overlapping parts.
    pub fn from_geojson(value: &Value) -> Result<Self, InputError> {
        let (geometry, path) = match value.get("type").and_then(Value::as_str) {
            Some("Feature") => (value.get("geometry").unwrap_or(&Value::Null), "/geometry"),
            _ => (value, ""),
        };
        let kind = geometry
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                InputError::new(
                    format!("{path}/type"),
                    "expected a GeoJSON Polygon, MultiPolygon or a Feature holding one",
                )
            })?;
        let coords = geometry
            .get("coordinates")
            .ok_or_else(|| InputError::new(format!("{path}/coordinates"), "is missing"))?;
        let path = format!("{path}/coordinates");
        let polygons = match kind {
            "Polygon" => vec![parse_polygon(coords, &path)?],
            "MultiPolygon" => {
                let parts = coords
                    .as_array()
                    .ok_or_else(|| InputError::new(&path, "must be an array of polygons"))?;
                if parts.is_empty() {
                    return Err(InputError::new(
                        &path,
                        "a MultiPolygon needs at least one polygon",
                    ));
                }
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| parse_polygon(p, &format!("{path}/{i}")))
                    .collect::<Result<Vec<_>, _>>()?
            }
            other => {
                return Err(InputError::new(
                    format!("{}/type", path.trim_end_matches("/coordinates")),
                    format!(
                        "geometry type '{other}' is not accepted: send a Polygon or MultiPolygon"
                    ),
                ));
            }
        };
        let vertices: usize = polygons
            .iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
        if vertices > Self::MAX_VERTICES {
            return Err(InputError::new(
                path,
                format!(
                    "has {vertices} vertices; at most {} are accepted",
                    Self::MAX_VERTICES
                ),
            ));
        }
        for (i, p) in polygons.iter().enumerate() {
            check_polygon(p).map_err(|rule| InputError::new(format!("{path}/{i}"), rule))?;
        }
        check_parts_disjoint(&polygons).map_err(|rule| InputError::new(&path, rule))?;
        let shape = MultiPolygon(polygons);
        let bbox = bounding_box(&shape);
        Ok(Self { shape, bbox })
    }

    /// Wraps an already valid shape (reference territory polygons).
    #[must_use]
    pub fn trusted(shape: MultiPolygon<f64>) -> Self {
        let bbox = bounding_box(&shape);
        Self { shape, bbox }
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &MultiPolygon<f64> {
        &self.shape
    }

    /// Its bounding box.
    #[must_use]
    pub fn bbox(&self) -> Bbox {
        self.bbox
    }
}

fn bounding_box(shape: &MultiPolygon<f64>) -> Bbox {
    let mut b = Bbox {
        west: f64::INFINITY,
        south: f64::INFINITY,
        east: f64::NEG_INFINITY,
        north: f64::NEG_INFINITY,
    };
    for c in shape.0.iter().flat_map(|p| p.exterior().0.iter()) {
        b.west = b.west.min(c.x);
        b.east = b.east.max(c.x);
        b.south = b.south.min(c.y);
        b.north = b.north.max(c.y);
    }
    b
}

fn parse_polygon(value: &Value, path: &str) -> Result<Polygon<f64>, InputError> {
    let rings = value
        .as_array()
        .ok_or_else(|| InputError::new(path, "a polygon must be an array of linear rings"))?;
    if rings.is_empty() {
        return Err(InputError::new(path, "a polygon needs an exterior ring"));
    }
    let mut parsed = rings
        .iter()
        .enumerate()
        .map(|(i, r)| parse_ring(r, &format!("{path}/{i}")))
        .collect::<Result<Vec<_>, _>>()?;
    let exterior = parsed.remove(0);
    Ok(Polygon::new(exterior, parsed))
}

fn parse_ring(value: &Value, path: &str) -> Result<LineString<f64>, InputError> {
    let positions = value
        .as_array()
        .ok_or_else(|| InputError::new(path, "a linear ring must be an array of positions"))?;
    let mut coords: Vec<Coord<f64>> = Vec::with_capacity(positions.len());
    for (i, pos) in positions.iter().enumerate() {
        let p = pos.as_array().filter(|a| a.len() >= 2).ok_or_else(|| {
            InputError::new(format!("{path}/{i}"), "a position is an array [lon, lat]")
        })?;
        let (Some(lon), Some(lat)) = (p[0].as_f64(), p[1].as_f64()) else {
            return Err(InputError::new(
                format!("{path}/{i}"),
                "a position holds two numbers [lon, lat]",
            ));
        };
        let at = format!("{path}/{i}");
        super::LonLat::parse_named(&at, &at, lon, lat)?;
        let c = Coord { x: lon, y: lat };
        if coords.last() != Some(&c) {
            coords.push(c);
        }
    }
    if positions.len() < 4 || coords.len() < 4 {
        return Err(InputError::new(
            path,
            "a linear ring needs at least four positions (three distinct corners and the closing one)",
        ));
    }
    let first = positions.first().and_then(Value::as_array);
    let last = positions.last().and_then(Value::as_array);
    let same = |a: Option<&Vec<Value>>, b: Option<&Vec<Value>>| matches!((a, b), (Some(a), Some(b)) if a[0].as_f64() == b[0].as_f64() && a[1].as_f64() == b[1].as_f64());
    if !same(first, last) {
        return Err(InputError::new(
            path,
            "a linear ring must be closed: its last position must equal its first",
        ));
    }
    Ok(LineString(coords))
}

/// An edge of a ring, tagged with its ring and position for adjacency tests.
struct Edge {
    ring: usize,
    index: usize,
    ring_len: usize,
    line: Line<f64>,
}

impl Edge {
    fn adjacent(&self, other: &Self) -> bool {
        self.ring == other.ring
            && (self.index.abs_diff(other.index) == 1
                || (self.index == 0 && other.index + 1 == other.ring_len)
                || (other.index == 0 && self.index + 1 == self.ring_len))
    }
}

fn edges(polygon: &Polygon<f64>) -> Vec<Edge> {
    std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .enumerate()
        .flat_map(|(ring, ls)| {
            let ring_len = ls.0.len() - 1;
            ls.lines().enumerate().map(move |(index, line)| Edge {
                ring,
                index,
                ring_len,
                line,
            })
        })
        .collect()
}

/// Rings simple and not touching one another, holes inside the shell.
fn check_polygon(polygon: &Polygon<f64>) -> Result<(), String> {
    let mut es = edges(polygon);
    es.sort_by(|a, b| min_x(&a.line).total_cmp(&min_x(&b.line)));
    for (i, a) in es.iter().enumerate() {
        let a_max = max_x(&a.line);
        for b in &es[i + 1..] {
            if min_x(&b.line) > a_max {
                break;
            }
            if a.adjacent(b) {
                if is_spike(&a.line, &b.line) {
                    return Err(ring_name(a.ring, "turns back on itself (a spike)"));
                }
                continue;
            }
            if a.line.intersects(&b.line) {
                return Err(if a.ring == b.ring {
                    ring_name(a.ring, "self-intersects")
                } else {
                    "two rings of the polygon cross or touch".into()
                });
            }
        }
    }
    for (i, hole) in polygon.interiors().iter().enumerate() {
        let probe = hole.0[0];
        if !Polygon::new(polygon.exterior().clone(), vec![]).intersects(&probe) {
            return Err(format!("hole {} lies outside the exterior ring", i + 1));
        }
    }
    Ok(())
}

fn check_parts_disjoint(parts: &[Polygon<f64>]) -> Result<(), String> {
    if parts.len() < 2 {
        return Ok(());
    }
    for (i, a) in parts.iter().enumerate() {
        for b in &parts[i + 1..] {
            let probe = |p: &Polygon<f64>, q: &Polygon<f64>| p.intersects(&q.exterior().0[0]);
            let crossing = a
                .exterior()
                .lines()
                .any(|la| b.exterior().lines().any(|lb| la.intersects(&lb)));
            if crossing || probe(a, b) || probe(b, a) {
                return Err("the polygons of a MultiPolygon must not overlap or touch".into());
            }
        }
    }
    Ok(())
}

fn is_spike(a: &Line<f64>, b: &Line<f64>) -> bool {
    // `a` and `b` share an endpoint; a spike is when the second goes back along the first.
    let (p, shared, q) = if a.end == b.start {
        (a.start, a.end, b.end)
    } else if b.end == a.start {
        (b.start, b.end, a.end)
    } else {
        return false;
    };
    <f64 as geo::GeoNum>::Ker::orient2d(p, shared, q) == Orientation::Collinear
        && (p.x - shared.x) * (q.x - shared.x) + (p.y - shared.y) * (q.y - shared.y) > 0.0
}

fn ring_name(ring: usize, what: &str) -> String {
    if ring == 0 {
        format!("the exterior ring {what}")
    } else {
        format!("hole {ring} {what}")
    }
}

fn min_x(l: &Line<f64>) -> f64 {
    l.start.x.min(l.end.x)
}

fn max_x(l: &Line<f64>) -> f64 {
    l.start.x.max(l.end.x)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square(x: f64, y: f64, s: f64) -> Value {
        json!([[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]])
    }

    #[test]
    fn accepts_polygons_with_holes_multipolygons_and_features() {
        let p = json!({"type": "Polygon", "coordinates": [square(0.0, 0.0, 10.0), square(2.0, 2.0, 2.0)]});
        assert!(QueryPolygon::from_geojson(&p).is_ok());
        let m = json!({"type": "MultiPolygon", "coordinates": [[square(0.0, 0.0, 1.0)], [square(5.0, 5.0, 1.0)]]});
        let q = QueryPolygon::from_geojson(&m).expect("valid multipolygon");
        assert_eq!(q.bbox().to_array(), [0.0, 0.0, 6.0, 6.0]);
        let f = json!({"type": "Feature", "properties": {}, "geometry": p});
        assert!(QueryPolygon::from_geojson(&f).is_ok());
    }

    #[test]
    fn rejects_a_bow_tie() {
        let p =
            json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]});
        let e = QueryPolygon::from_geojson(&p).expect_err("bow tie");
        assert!(e.rule.contains("self-intersects"), "{}", e.rule);
        assert_eq!(e.field, "/coordinates/0");
    }

    #[test]
    fn rejects_unclosed_short_and_out_of_range_rings() {
        let open = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]});
        assert!(
            QueryPolygon::from_geojson(&open)
                .expect_err("open")
                .rule
                .contains("closed")
        );
        let short = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]});
        assert!(
            QueryPolygon::from_geojson(&short)
                .expect_err("short")
                .rule
                .contains("four")
        );
        let far = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 91], [0, 0]]]});
        let e = QueryPolygon::from_geojson(&far).expect_err("lat");
        assert_eq!(e.field, "/coordinates/0/2");
    }

    #[test]
    fn rejects_holes_outside_overlapping_parts_and_other_types() {
        let hole_out = json!({"type": "Polygon", "coordinates": [square(0.0, 0.0, 1.0), square(5.0, 5.0, 1.0)]});
        assert!(
            QueryPolygon::from_geojson(&hole_out)
                .expect_err("hole")
                .rule
                .contains("outside")
        );
        let overlap = json!({"type": "MultiPolygon", "coordinates": [[square(0.0, 0.0, 2.0)], [square(1.0, 1.0, 2.0)]]});
        assert!(
            QueryPolygon::from_geojson(&overlap)
                .expect_err("overlap")
                .rule
                .contains("overlap")
        );
        let line = json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]});
        assert!(
            QueryPolygon::from_geojson(&line)
                .expect_err("type")
                .rule
                .contains("LineString")
        );
    }

    #[test]
    fn rejects_too_many_vertices() {
        let n = QueryPolygon::MAX_VERTICES + 10;
        let mut ring: Vec<Value> = (0..n)
            .map(|i| {
                let a = std::f64::consts::TAU * i as f64 / n as f64;
                json!([a.cos(), a.sin()])
            })
            .collect();
        ring.push(ring[0].clone());
        let p = json!({"type": "Polygon", "coordinates": [ring]});
        assert!(
            QueryPolygon::from_geojson(&p)
                .expect_err("too big")
                .rule
                .contains("at most")
        );
    }
}
