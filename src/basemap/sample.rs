//! A small basemap archive written from the project's own data: land, the outlines of the
//! départements (every zoom) and communes (from zoom 10) as boundaries, the communes' names as
//! places, and a few synthetic streets around one centre (Nantes when the store has it). Same
//! schema as a Protomaps build, so the vendored style draws it; made for tests and to try the
//! `basemap_pmtiles` setting without downloading anything. It is not a map of real streets.

use crate::domain::territory::TerritoryKind;
use crate::index::territories::Territories;
use geo::{BooleanOps, Coord, LineString, MultiLineString, Rect, Simplify};
use geozero::ToMvt;
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue, tile};
use pmtiles::{PmTilesWriter, TileCoord, TileType};
use std::f64::consts::PI;
use std::path::Path;

/// Tile extent in tile units (the MVT default).
const EXTENT: u32 = 4096;
/// Margin drawn around each tile, in tile units, so lines join across tile edges.
const BUFFER: f64 = 64.0;
/// The deepest zoom written.
pub const MAX_ZOOM: u8 = 15;
/// Metropolitan France, `[west, south, east, north]` in degrees: zooms 0 to 6 cover it.
const FRANCE: [f64; 4] = [-5.3, 41.3, 9.7, 51.2];
/// Zooms 7 to 11 cover this margin around the centre, in degrees.
const AREA_MARGIN: [f64; 2] = [0.6, 0.4];
/// Zooms 12 to 15 cover this margin around the centre, in degrees.
const STREETS_MARGIN: [f64; 2] = [0.03, 0.02];
/// Nantes, the centre when the store has no such commune.
const DEFAULT_CENTRE: [f64; 2] = [-1.5536, 47.2173];

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Tiles in the archive.
    pub tiles: usize,
    /// Size of the archive, bytes.
    pub bytes: u64,
}

/// Web Mercator tile coordinates (fractional) of a point at zoom `z`.
fn to_tile(lon: f64, lat: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let lat = lat.clamp(-85.051_128, 85.051_128).to_radians();
    let x = (lon + 180.0) / 360.0 * n;
    let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * n;
    (x, y)
}

/// Longitude and latitude of a tile corner (fractional tile coordinates at zoom `z`).
fn from_tile(x: f64, y: f64, z: u8) -> (f64, f64) {
    let n = f64::from(1u32 << z);
    let lon = x / n * 360.0 - 180.0;
    let lat = (PI * (1.0 - 2.0 * y / n)).sinh().atan().to_degrees();
    (lon, lat)
}

/// The tiles of zoom `z` that meet a box.
fn tiles_over(bbox: [f64; 4], z: u8) -> impl Iterator<Item = (u32, u32)> {
    let last = (1u32 << z) - 1;
    let (x0, y0) = to_tile(bbox[0], bbox[3], z);
    let (x1, y1) = to_tile(bbox[2], bbox[1], z);
    let clamp = |v: f64| (v.floor().max(0.0) as u32).min(last);
    let (x0, x1, y0, y1) = (clamp(x0), clamp(x1), clamp(y0), clamp(y1));
    (x0..=x1).flat_map(move |x| (y0..=y1).map(move |y| (x, y)))
}

/// A line of the sample with its properties.
struct Line {
    lines: MultiLineString<f64>,
    bbox: [f64; 4],
    props: Vec<(&'static str, TileValue)>,
}

fn bbox_of(lines: &MultiLineString<f64>) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for c in lines.iter().flat_map(|l| l.coords()) {
        b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
    }
    b
}

fn meets(a: [f64; 4], b: [f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

/// A layer being filled.
struct LayerBuilder {
    name: &'static str,
    features: Vec<tile::Feature>,
    tags: TagsBuilder,
}

impl LayerBuilder {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            features: Vec::new(),
            tags: TagsBuilder::new(),
        }
    }

    fn push(&mut self, mut feature: tile::Feature, props: &[(&'static str, TileValue)]) {
        for (key, value) in props {
            let (k, v) = self.tags.insert_ref(key, value.clone());
            feature.tags.extend([k, v]);
        }
        self.features.push(feature);
    }

    fn finish(self) -> Option<tile::Layer> {
        if self.features.is_empty() {
            return None;
        }
        let (keys, values) = self.tags.into_tags();
        Some(tile::Layer {
            version: 2,
            name: self.name.to_owned(),
            features: self.features,
            keys,
            values: values.into_iter().map(Into::into).collect(),
            extent: Some(EXTENT),
        })
    }
}

/// One tile's frame: its box in degrees (buffer included) and the projection into it.
struct Frame {
    z: u8,
    x: u32,
    y: u32,
    bbox: [f64; 4],
}

impl Frame {
    fn new(z: u8, x: u32, y: u32) -> Self {
        let margin = BUFFER / f64::from(EXTENT);
        let (w, n) = from_tile(f64::from(x) - margin, f64::from(y) - margin, z);
        let (e, s) = from_tile(f64::from(x) + 1.0 + margin, f64::from(y) + 1.0 + margin, z);
        Self {
            z,
            x,
            y,
            bbox: [w, s, e, n],
        }
    }

    /// A point in tile units.
    fn project(&self, c: Coord<f64>) -> Coord<f64> {
        let (tx, ty) = to_tile(c.x, c.y, self.z);
        Coord {
            x: ((tx - f64::from(self.x)) * f64::from(EXTENT)).round(),
            y: ((ty - f64::from(self.y)) * f64::from(EXTENT)).round(),
        }
    }

    /// Lines clipped to the frame, in tile units.
    fn lines(&self, lines: &MultiLineString<f64>) -> Option<tile::Feature> {
        let [w, s, e, n] = self.bbox;
        let frame = Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n }).to_polygon();
        let clipped = frame.clip(lines, false);
        let projected: MultiLineString<f64> = clipped
            .iter()
            .map(|l| LineString::from_iter(l.coords().map(|c| self.project(*c))))
            .filter(|l| l.0.len() >= 2)
            .collect();
        if projected.0.is_empty() {
            return None;
        }
        geo::Geometry::MultiLineString(projected)
            .to_mvt_unscaled()
            .ok()
    }
}

/// Writes the sample archive to `out`.
///
/// # Errors
/// When the file cannot be written.
pub fn write(territories: &Territories, out: &Path) -> anyhow::Result<Written> {
    let centre = territories
        .find(TerritoryKind::Commune, "44109")
        .and_then(|i| territories.get(i))
        .and_then(|t| t.point())
        .map_or(DEFAULT_CENTRE, |p| [p.lon(), p.lat()]);
    let area = [
        centre[0] - AREA_MARGIN[0],
        centre[1] - AREA_MARGIN[1],
        centre[0] + AREA_MARGIN[0],
        centre[1] + AREA_MARGIN[1],
    ];
    let streets_box = [
        centre[0] - STREETS_MARGIN[0],
        centre[1] - STREETS_MARGIN[1],
        centre[0] + STREETS_MARGIN[0],
        centre[1] + STREETS_MARGIN[1],
    ];
    let streets = synthetic_streets(centre);
    let places: Vec<_> = territories
        .all()
        .iter()
        .filter(|t| t.kind == TerritoryKind::Commune)
        .filter_map(|t| {
            let p = t.point()?;
            let pop = t.record.population;
            let min_zoom: u8 = match pop {
                200_000.. => 4,
                50_000.. => 6,
                10_000.. => 8,
                2_000.. => 10,
                _ => 11,
            };
            let rank = (pop.max(1) as f64).log10().round() as u64;
            Some((p, t.record.name.clone(), min_zoom, rank))
        })
        .collect();

    let layers: Vec<serde_json::Value> = ["earth", "boundaries", "places", "roads"]
        .iter()
        .map(|id| serde_json::json!({ "id": id, "fields": {} }))
        .collect();
    let file = std::fs::File::create(out)?;
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .min_zoom(0)
        .max_zoom(MAX_ZOOM)
        .bounds(FRANCE[0], FRANCE[1], FRANCE[2], FRANCE[3])
        .center(centre[0], centre[1])
        .center_zoom(12)
        .metadata(
            serde_json::json!({
                "name": "Ancrage sample basemap",
                "description": "Outlines of the territories, names of the communes and synthetic streets (not real streets), in the Protomaps basemap schema.",
                "attribution": "IGN ADMIN EXPRESS, INSEE (territories); synthetic streets",
                "vector_layers": layers,
            })
            .to_string(),
        )
        .create(file)?;
    let mut written = 0;
    for z in 0..=MAX_ZOOM {
        let cover = match z {
            0..=6 => FRANCE,
            7..=11 => area,
            _ => streets_box,
        };
        let tolerance = 360.0 / f64::from(1u32 << z) / f64::from(EXTENT);
        // Outlines simplified to a tile unit at this zoom, once for every tile of the zoom.
        let outlines: Vec<Line> = territories
            .all()
            .iter()
            .filter(|t| {
                t.kind == TerritoryKind::Departement
                    || (t.kind == TerritoryKind::Commune && z >= 10)
            })
            .filter_map(|t| {
                let shape = t.record.geometry.as_ref()?;
                let rings: MultiLineString<f64> = shape
                    .iter()
                    .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                    .map(|r| r.simplify(tolerance))
                    .collect();
                let bbox = bbox_of(&rings);
                meets(bbox, cover).then(|| Line {
                    lines: rings,
                    bbox,
                    props: vec![
                        ("kind", TileValue::Str("region".into())),
                        (
                            "kind_detail",
                            TileValue::Uint(if t.kind == TerritoryKind::Commune {
                                8
                            } else {
                                6
                            }),
                        ),
                    ],
                })
            })
            .collect();
        for (x, y) in tiles_over(cover, z) {
            let frame = Frame::new(z, x, y);
            let mut tile = Tile::default();
            let mut earth = LayerBuilder::new("earth");
            let b = BUFFER;
            let e = f64::from(EXTENT) + BUFFER;
            let land = geo::Polygon::new(
                LineString::from(vec![(-b, -b), (-b, e), (e, e), (e, -b), (-b, -b)]),
                vec![],
            );
            if let Ok(f) = geo::Geometry::Polygon(land).to_mvt_unscaled() {
                earth.push(f, &[("kind", TileValue::Str("earth".into()))]);
            }
            let mut boundaries = LayerBuilder::new("boundaries");
            for line in outlines.iter().filter(|l| meets(l.bbox, frame.bbox)) {
                if let Some(f) = frame.lines(&line.lines) {
                    boundaries.push(f, &line.props);
                }
            }
            let mut roads = LayerBuilder::new("roads");
            for street in streets.iter().filter(|s| {
                meets(s.bbox, frame.bbox)
                    && (z >= 12 || s.props[0].1 == TileValue::Str("major_road".into()))
            }) {
                if z >= 9
                    && let Some(f) = frame.lines(&street.lines)
                {
                    roads.push(f, &street.props);
                }
            }
            let mut labels = LayerBuilder::new("places");
            for (p, name, min_zoom, rank) in &places {
                let c = Coord {
                    x: p.lon(),
                    y: p.lat(),
                };
                let inside = c.x >= frame.bbox[0]
                    && c.x <= frame.bbox[2]
                    && c.y >= frame.bbox[1]
                    && c.y <= frame.bbox[3];
                if z < *min_zoom || !inside {
                    continue;
                }
                let at = frame.project(c);
                if let Ok(f) = geo::Geometry::Point(geo::Point(at)).to_mvt_unscaled() {
                    labels.push(
                        f,
                        &[
                            ("kind", TileValue::Str("locality".into())),
                            ("name", TileValue::Str(name.clone())),
                            ("min_zoom", TileValue::Uint(u64::from(*min_zoom))),
                            ("population_rank", TileValue::Uint(*rank)),
                        ],
                    );
                }
            }
            tile.layers.extend(
                [earth, boundaries, roads, labels]
                    .into_iter()
                    .filter_map(LayerBuilder::finish),
            );
            let coord = TileCoord::new(z, x, y)?;
            writer.add_tile(coord, &tile.encode_to_vec())?;
            written += 1;
        }
    }
    writer.finalize()?;
    Ok(Written {
        tiles: written,
        bytes: std::fs::metadata(out)?.len(),
    })
}

/// A grid of named streets around `centre` and two boulevards across it.
fn synthetic_streets(centre: [f64; 2]) -> Vec<Line> {
    let [cx, cy] = centre;
    let mut out = Vec::new();
    let line =
        |a: (f64, f64), b: (f64, f64)| MultiLineString::new(vec![LineString::from(vec![a, b])]);
    for (name, a, b) in [
        (
            "Boulevard d’essai nord-sud",
            (cx, cy - 0.02),
            (cx, cy + 0.02),
        ),
        (
            "Boulevard d’essai est-ouest",
            (cx - 0.03, cy),
            (cx + 0.03, cy),
        ),
    ] {
        let lines = line(a, b);
        out.push(Line {
            bbox: bbox_of(&lines),
            lines,
            props: vec![
                ("kind", TileValue::Str("major_road".into())),
                ("kind_detail", TileValue::Str("primary".into())),
                ("name", TileValue::Str(name.into())),
            ],
        });
    }
    for i in 1..=5 {
        let d = f64::from(i) * 0.0035;
        for (name, a, b) in [
            (
                format!("Rue d’essai {i} nord"),
                (cx - 0.03, cy + d),
                (cx + 0.03, cy + d),
            ),
            (
                format!("Rue d’essai {i} sud"),
                (cx - 0.03, cy - d),
                (cx + 0.03, cy - d),
            ),
            (
                format!("Rue d’essai {i} est"),
                (cx + d, cy - 0.02),
                (cx + d, cy + 0.02),
            ),
            (
                format!("Rue d’essai {i} ouest"),
                (cx - d, cy - 0.02),
                (cx - d, cy + 0.02),
            ),
        ] {
            let lines = line(a, b);
            out.push(Line {
                bbox: bbox_of(&lines),
                lines,
                props: vec![
                    ("kind", TileValue::Str("minor_road".into())),
                    ("kind_detail", TileValue::Str("residential".into())),
                    ("name", TileValue::Str(name)),
                ],
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{from_tile, tiles_over, to_tile};

    #[test]
    fn tile_coordinates_round_trip_and_cover_their_box() {
        let (x, y) = to_tile(-1.5536, 47.2173, 12);
        assert_eq!((x.floor(), y.floor()), (2030.0, 1437.0));
        let (lon, lat) = from_tile(x, y, 12);
        assert!((lon + 1.5536).abs() < 1e-9 && (lat - 47.2173).abs() < 1e-9);
        assert_eq!(tiles_over([-180.0, -85.0, 180.0, 85.0], 0).count(), 1);
        let nantes: Vec<_> = tiles_over([-1.56, 47.21, -1.55, 47.22], 12).collect();
        assert!(nantes.contains(&(2030, 1437)), "{nantes:?}");
    }
}
