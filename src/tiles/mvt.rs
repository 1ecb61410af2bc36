//! Building Mapbox Vector Tiles with `geozero`'s MVT types: layers with shared key and value
//! tables, and the frame that projects degrees into a tile's units.

use super::{from_tile, to_tile};
use geo::{BooleanOps, Coord, LineString, MultiLineString, Rect};
use geozero::ToMvt;
use geozero::mvt::{Message, TagsBuilder, Tile, TileValue, tile};

/// Tile extent in tile units (the MVT default).
pub const EXTENT: u32 = 4096;
/// Margin drawn around each tile, in tile units, so lines join across tile edges.
pub const BUFFER: f64 = 64.0;

/// Media type of a Mapbox Vector Tile.
pub const CONTENT_TYPE: &str = "application/vnd.mapbox-vector-tile";

/// A layer being filled.
#[derive(Debug)]
pub struct LayerBuilder {
    name: &'static str,
    features: Vec<tile::Feature>,
    tags: TagsBuilder,
}

impl LayerBuilder {
    /// An empty layer named `name`.
    #[must_use]
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            features: Vec::new(),
            tags: TagsBuilder::new(),
        }
    }

    /// Adds a feature with its properties.
    pub fn push(&mut self, mut feature: tile::Feature, props: &[(&str, TileValue)]) {
        for (key, value) in props {
            let (k, v) = self.tags.insert_ref(key, value.clone());
            feature.tags.extend([k, v]);
        }
        self.features.push(feature);
    }

    /// Adds a point, given in tile units, with an optional feature id and its properties.
    pub fn point(&mut self, at: [i64; 2], id: Option<u64>, props: &[(&str, TileValue)]) {
        let p = geo::Point::new(at[0] as f64, at[1] as f64);
        if let Ok(mut f) = geo::Geometry::Point(p).to_mvt_unscaled() {
            f.id = id;
            self.push(f, props);
        }
    }

    /// Number of features so far.
    #[must_use]
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether the layer has no feature yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }

    /// The finished layer, `None` when it has no feature.
    #[must_use]
    pub fn finish(self) -> Option<tile::Layer> {
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

/// The encoded tile of these layers (empty layers left out), `None` when all are empty.
#[must_use]
pub fn encode(layers: impl IntoIterator<Item = LayerBuilder>) -> Option<Vec<u8>> {
    let tile = Tile {
        layers: layers
            .into_iter()
            .filter_map(LayerBuilder::finish)
            .collect(),
    };
    (!tile.layers.is_empty()).then(|| tile.encode_to_vec())
}

/// One tile's frame: its box in degrees (buffer included) and the projection into it.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// Zoom.
    pub z: u8,
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
    /// `[west, south, east, north]` of the tile and its buffer, degrees.
    pub bbox: [f64; 4],
}

impl Frame {
    /// The frame of tile `z/x/y`.
    #[must_use]
    pub fn new(z: u8, x: u32, y: u32) -> Self {
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

    /// A point (degrees) in tile units.
    #[must_use]
    pub fn project(&self, c: Coord<f64>) -> Coord<f64> {
        let (tx, ty) = to_tile(c.x, c.y, self.z);
        Coord {
            x: ((tx - f64::from(self.x)) * f64::from(EXTENT)).round(),
            y: ((ty - f64::from(self.y)) * f64::from(EXTENT)).round(),
        }
    }

    /// Lines (degrees) clipped to the frame, in tile units; `None` when nothing is left.
    #[must_use]
    pub fn lines(&self, lines: &MultiLineString<f64>) -> Option<tile::Feature> {
        let [w, s, e, n] = self.bbox;
        let frame = Rect::new(Coord { x: w, y: s }, Coord { x: e, y: n }).to_polygon();
        let clipped = frame.clip(lines, false);
        let projected: MultiLineString<f64> = clipped
            .iter()
            .map(|l| {
                let mut line = LineString::from_iter(l.coords().map(|c| self.project(*c)));
                line.0.dedup();
                line
            })
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
