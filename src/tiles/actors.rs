//! The actor tiles: one `actors` layer per tile, read from the snapshot's quadtree
//! ([`crate::index::pyramid`]).
//!
//! Up to zoom [`MAX_CLUSTER_ZOOM`] each 64-pixel cell of a 512-pixel tile holding several
//! matching actors is one cluster:
//! - `cluster` (true), `point_count`, the count;
//! - `category`, the top-level category most of them are shown in (see below), and one
//!   `n_<slug>` count per top-level category present, for a legend or a chart;
//! - `west`, `south`, `east`, `north`, the box of its actors (degrees), to zoom to;
//! - its position is the mean of its actors' positions.
//!
//! A cell holding one matching actor, and every actor of a deeper tile, is the actor itself:
//! feature id and `id` its identifier, `name`, `category`, `demo` and `tiers` (a tiers-lieu).
//! Actors sharing one position stay a cluster whose box is that point at every zoom.
//!
//! An actor is shown in the top-level category of its first category (in the taxonomy's order)
//! among those the category filter asks for, or of its first category without one: the
//! colour of its marker follows the filter that shows it.

use super::TileId;
use super::mvt::{self, EXTENT, LayerBuilder};
use crate::domain::actor::Kind;
use crate::domain::{Catalog, CategorySet};
use crate::index::Snapshot;
use crate::index::actors::{ActorFilter, ActorIdx, ActorIndex};
use crate::index::pyramid::{self, MAX_CLUSTER_ZOOM, Summary};
use geozero::mvt::TileValue;

/// Name of the layer.
pub const LAYER: &str = "actors";

/// Deepest zoom served (a map may also scale the tiles of [`MAX_EXPORT_ZOOM`], which hold
/// every actor already).
pub const MAX_ZOOM: u8 = 22;

/// Deepest zoom of the static export and of the map's tile source: the first zoom whose tiles
/// hold every actor.
pub const MAX_EXPORT_ZOOM: u8 = MAX_CLUSTER_ZOOM + 1;

/// Clusters closer than this, in pixels of a 512-pixel tile, are drawn as one.
pub const MERGE_PX: f64 = 40.0;

/// Merges the clusters of a tile whose centres are closer than [`MERGE_PX`], the biggest
/// absorbing its smaller neighbours (as measured from their cells' own centres), so that two
/// cells sharing a town do not draw two overlapping circles; every actor stays counted once.
fn merge_close(mut cells: Vec<Summary>, t: TileId) -> Vec<Summary> {
    let n = f64::from(1u32 << t.z.min(31));
    let radius = MERGE_PX / 512.0 / n;
    let centres: Vec<[f64; 2]> = cells.iter().map(Summary::mean).collect();
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(cells[i].count));
    let mut taken = vec![false; cells.len()];
    let mut out = Vec::with_capacity(cells.len());
    for (k, &i) in order.iter().enumerate() {
        if taken[i] {
            continue;
        }
        taken[i] = true;
        let mut merged = std::mem::replace(&mut cells[i], Summary::empty());
        for &j in &order[k + 1..] {
            let (a, b) = (centres[i], centres[j]);
            if !taken[j] && (a[0] - b[0]).hypot(a[1] - b[1]) < radius {
                taken[j] = true;
                merged.absorb(&cells[j]);
            }
        }
        out.push(merged);
    }
    out
}

/// How an actor tile is drawn for one filter: the class (colour) of every key.
#[derive(Debug)]
pub struct Painter<'a> {
    snap: &'a Snapshot,
    filter: &'a ActorFilter,
    classes: Vec<u8>,
    slugs: Vec<String>,
}

impl<'a> Painter<'a> {
    /// The painter of `filter` over the snapshot.
    #[must_use]
    pub fn new(snap: &'a Snapshot, filter: &'a ActorFilter) -> Self {
        let defs = snap.catalog.defs();
        let roots = snap.catalog.root_positions();
        let classes = snap.actors.classes(filter, |k| {
            Catalog::shown_root(&roots, CategorySet(k.categories), filter.categories) as u8
        });
        Self {
            snap,
            filter,
            classes,
            slugs: defs.iter().map(|d| d.slug.clone()).collect(),
        }
    }

    fn slug(&self, class: u8) -> &str {
        self.slugs
            .get(usize::from(class))
            .map_or("", String::as_str)
    }

    /// The encoded tile (uncompressed), `None` when no matching actor is in it.
    #[must_use]
    pub fn tile(&self, t: TileId) -> Option<Vec<u8>> {
        if t.z > MAX_ZOOM {
            return None;
        }
        let actors = &self.snap.actors;
        let territories = &self.snap.territories;
        let check = actors.rest_check(self.filter, territories);
        let passes = |i: ActorIdx| check.passes(i);
        let rest = pyramid::Check {
            passes: &passes,
            within: check.within(),
        };
        let extra = ActorIndex::has_rest(self.filter).then_some(&rest);
        let p = actors.pyramid();
        let mut layer = LayerBuilder::new(LAYER);
        if t.z <= MAX_CLUSTER_ZOOM {
            for s in merge_close(p.tile_clusters(t.z, t.x, t.y, &self.classes, extra), t) {
                match s.first {
                    Some(only) if s.count == 1 => {
                        self.actor(&mut layer, t, only);
                    }
                    _ => self.cluster(&mut layer, t, &s),
                }
            }
        } else {
            for (at, group) in p.tile_points(t.z, t.x, t.y, &self.classes, extra) {
                match group.as_slice() {
                    [(only, _)] => self.actor(&mut layer, t, *only),
                    _ => {
                        let mut split = [0_u32; pyramid::CLASSES];
                        for (_, class) in &group {
                            split[usize::from(*class) % pyramid::CLASSES] += 1;
                        }
                        self.cluster_at(
                            &mut layer,
                            t,
                            at,
                            [at[0], at[1], at[0], at[1]],
                            group.len() as u32,
                            &split,
                        );
                    }
                }
            }
        }
        mvt::encode([layer])
    }

    /// Tile units of a point in world units.
    fn units(t: TileId, at: [f64; 2]) -> [i64; 2] {
        let n = f64::from(1u32 << t.z.min(31));
        let e = f64::from(EXTENT);
        [
            ((at[0] * n - f64::from(t.x)) * e).round() as i64,
            ((at[1] * n - f64::from(t.y)) * e).round() as i64,
        ]
    }

    fn actor(&self, layer: &mut LayerBuilder, t: TileId, idx: ActorIdx) {
        let actors = &self.snap.actors;
        let e = actors.entry(idx);
        let [x, y] = pyramid::world_xy(e.location.lon(), e.location.lat());
        let at = [
            f64::from(x) / 4_294_967_296.0,
            f64::from(y) / 4_294_967_296.0,
        ];
        let class = actors
            .pyramid()
            .key_id(actors.key(idx))
            .and_then(|k| self.classes.get(k as usize).copied())
            .unwrap_or(0);
        let id = u64::try_from(e.id.0).ok();
        layer.point(
            Self::units(t, at),
            id,
            &[
                ("id", TileValue::Sint(e.id.0)),
                ("name", TileValue::Str(actors.name(idx))),
                ("category", TileValue::Str(self.slug(class).to_owned())),
                ("demo", TileValue::Bool(e.demo)),
                ("tiers", TileValue::Bool(e.kinds.has(Kind::TiersLieu))),
            ],
        );
    }

    fn cluster(&self, layer: &mut LayerBuilder, t: TileId, s: &Summary) {
        let [x0, y0, x1, y1] = s.extent();
        self.cluster_at(layer, t, s.mean(), [x0, y0, x1, y1], s.count, &s.split);
    }

    fn cluster_at(
        &self,
        layer: &mut LayerBuilder,
        t: TileId,
        at: [f64; 2],
        extent: [f64; 4],
        count: u32,
        split: &[u32; pyramid::CLASSES],
    ) {
        let [west, north] = pyramid::world_to_lonlat([extent[0], extent[1]]);
        let [east, south] = pyramid::world_to_lonlat([extent[2], extent[3]]);
        let round = |v: f64| (v * 1e6).round() / 1e6;
        let mut dominant = 0;
        for (c, &n) in split.iter().enumerate() {
            if n > split[dominant] {
                dominant = c;
            }
        }
        let mut props: Vec<(String, TileValue)> = vec![
            ("cluster".into(), TileValue::Bool(true)),
            ("point_count".into(), TileValue::Uint(u64::from(count))),
            (
                "category".into(),
                TileValue::Str(self.slug(dominant as u8).to_owned()),
            ),
            ("west".into(), TileValue::Double(round(west))),
            ("south".into(), TileValue::Double(round(south))),
            ("east".into(), TileValue::Double(round(east))),
            ("north".into(), TileValue::Double(round(north))),
        ];
        for (c, &n) in split.iter().enumerate() {
            if n > 0 {
                props.push((
                    format!("n_{}", self.slug(c as u8)),
                    TileValue::Uint(u64::from(n)),
                ));
            }
        }
        let props: Vec<(&str, TileValue)> =
            props.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        layer.point(Self::units(t, at), None, &props);
    }
}
