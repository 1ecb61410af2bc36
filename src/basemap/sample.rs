//! A small basemap archive written from the project's own data: land, the outlines of the
//! départements (every zoom) and communes (from zoom 10) as boundaries, the communes' names as
//! places, and a few synthetic streets around one centre (Nantes when the store has it). Same
//! schema as a Protomaps build, so the vendored style draws it; made for tests and to try the
//! `basemap_pmtiles` setting without downloading anything. It is not a map of real streets.

use crate::domain::territory::TerritoryKind;
use crate::index::territories::Territories;
use crate::tiles::mvt::{BUFFER, EXTENT, Frame, LayerBuilder};
use crate::tiles::tiles_over;
use geo::{Coord, LineString, MultiLineString, Simplify};
use geozero::ToMvt;
use geozero::mvt::{Message, Tile, TileValue};
use pmtiles::{PmTilesWriter, TileCoord, TileType};
use std::path::Path;

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
