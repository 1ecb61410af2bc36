//! A quadtree of Web Mercator cells over the actors, built once per snapshot, from which map
//! tiles (clusters at low zoom, points at high zoom) and the counts of a view are read at the
//! cost of the cells they touch, not of the actors they hold.
//!
//! # Layout
//! Every actor gets integer Web Mercator coordinates (`2^32` units across the world, about
//! 1 cm) and the actors are sorted by the Morton (Z-order) code of those coordinates. The
//! actors of any quadtree cell, at any level, are then one contiguous run of that order, found
//! by two binary searches; a tile is such a cell, and so is each cluster cell inside it.
//!
//! # Aggregates
//! Cells holding more than [`SCAN_MAX`] actors, at levels up to [`MAX_LEVEL`], carry one
//! aggregate per distinct filter key ([`ItemKey`]: categories, family, kinds, demonstration
//! flag) of their actors: the count, the sums of the coordinates and the box. A category,
//! family, kind or demonstration filter is a predicate on keys, so a filtered cell is summed
//! from the aggregates whose key passes, without touching its actors, and one structure serves
//! every filter combination. Parents are built from their children's aggregates, bottom-up,
//! in one pass per level. Smaller cells are read from their actors directly (at most
//! [`SCAN_MAX`] each); so is everything under a filter on something keys do not hold (text,
//! territory, opening hours), checked actor by actor.
//!
//! # Exactness
//! Counts are exact: a cell is counted from its aggregates only when all of it lies strictly
//! inside the asked box in integer coordinates, which (the projection being monotonic) puts
//! every actor in it strictly inside the box in degrees; cells on the edge are split down to
//! actors, which are checked in degrees like every other query.

use super::actors::ActorIdx;
use super::packed::ItemKey;
use std::collections::HashMap;
use std::ops::Range;

/// Cells holding at most this many actors carry no aggregate: their actors are read instead.
pub const SCAN_MAX: usize = 48;

/// Deepest level with aggregates. Cluster cells of tile zoom `z` are at level `z + 3` (8 x 8
/// cells a tile: 64 pixels of a 512-pixel tile), and tiles carry clusters up to zoom 15.
pub const MAX_LEVEL: u8 = 18;

/// Levels between a tile and its cluster cells.
pub const CELL_SHIFT: u8 = 3;

/// Deepest tile zoom carrying clusters; deeper tiles carry every actor, those at one position
/// grouped.
pub const MAX_CLUSTER_ZOOM: u8 = MAX_LEVEL - CELL_SHIFT;

/// The class of a key that a filter leaves out (see [`Pyramid::keys`]).
pub const OUT: u8 = u8::MAX;

/// Number of classes a filter may sort keys into (colours: top-level categories).
pub const CLASSES: usize = 64;

/// An actor in Morton order.
#[derive(Debug, Clone, Copy)]
struct Pt {
    x: u32,
    y: u32,
    key: u32,
    idx: ActorIdx,
}

/// Sums over the actors of one key in one cell.
#[derive(Debug, Clone, Copy)]
struct Agg {
    key: u32,
    count: u32,
    sx: u64,
    sy: u64,
    min: [u32; 2],
    max: [u32; 2],
}

impl Agg {
    const EMPTY: Self = Self {
        key: 0,
        count: 0,
        sx: 0,
        sy: 0,
        min: [u32::MAX, u32::MAX],
        max: [0, 0],
    };

    fn add_point(&mut self, p: &Pt) {
        self.count += 1;
        self.sx += u64::from(p.x);
        self.sy += u64::from(p.y);
        self.min = [self.min[0].min(p.x), self.min[1].min(p.y)];
        self.max = [self.max[0].max(p.x), self.max[1].max(p.y)];
    }

    fn add(&mut self, o: &Self) {
        self.count += o.count;
        self.sx += o.sx;
        self.sy += o.sy;
        self.min = [self.min[0].min(o.min[0]), self.min[1].min(o.min[1])];
        self.max = [self.max[0].max(o.max[0]), self.max[1].max(o.max[1])];
    }
}

/// A cell with aggregates.
#[derive(Debug, Clone, Copy)]
struct Cell {
    /// Morton code of the cell at its level.
    prefix: u64,
    /// Its aggregates in `Pyramid::aggs`.
    aggs: (u32, u32),
}

/// What a filter finds in one cell.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Matching actors.
    pub count: u32,
    /// Sum of their integer coordinates, for the mean.
    sum: [u64; 2],
    /// Box of their integer coordinates.
    min: [u32; 2],
    max: [u32; 2],
    /// Matching actors per class.
    pub split: [u32; CLASSES],
    /// The matching actor when `count` is 1; for more, the smallest index when the cell was
    /// read actor by actor, `None` when it was read from its aggregates.
    pub first: Option<ActorIdx>,
}

impl Summary {
    /// A summary of no actor.
    #[must_use]
    pub fn empty() -> Self {
        Self::new()
    }

    fn new() -> Self {
        Self {
            count: 0,
            sum: [0, 0],
            min: [u32::MAX, u32::MAX],
            max: [0, 0],
            split: [0; CLASSES],
            first: None,
        }
    }

    fn add_point(&mut self, p: &Pt, class: u8) {
        self.count += 1;
        self.sum[0] += u64::from(p.x);
        self.sum[1] += u64::from(p.y);
        self.min = [self.min[0].min(p.x), self.min[1].min(p.y)];
        self.max = [self.max[0].max(p.x), self.max[1].max(p.y)];
        self.split[usize::from(class) % CLASSES] += 1;
        self.first = Some(self.first.map_or(p.idx, |f| f.min(p.idx)));
    }

    fn add_agg(&mut self, a: &Agg, class: u8) {
        self.count += a.count;
        self.sum[0] += a.sx;
        self.sum[1] += a.sy;
        self.min = [self.min[0].min(a.min[0]), self.min[1].min(a.min[1])];
        self.max = [self.max[0].max(a.max[0]), self.max[1].max(a.max[1])];
        self.split[usize::from(class) % CLASSES] += a.count;
    }

    /// Adds the actors of another summary (of another cell) to this one.
    pub fn absorb(&mut self, o: &Self) {
        self.count += o.count;
        self.sum = [self.sum[0] + o.sum[0], self.sum[1] + o.sum[1]];
        self.min = [self.min[0].min(o.min[0]), self.min[1].min(o.min[1])];
        self.max = [self.max[0].max(o.max[0]), self.max[1].max(o.max[1])];
        for (a, b) in self.split.iter_mut().zip(o.split) {
            *a += b;
        }
        self.first = match (self.first, o.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }

    /// Mean position of the matching actors, in world units (`[0, 1)` across the world,
    /// x to the east, y to the south).
    #[must_use]
    pub fn mean(&self) -> [f64; 2] {
        let n = f64::from(self.count.max(1));
        [
            self.sum[0] as f64 / n / WORLD,
            self.sum[1] as f64 / n / WORLD,
        ]
    }

    /// Box of the matching actors in world units, `[min x, min y, max x, max y]`.
    #[must_use]
    pub fn extent(&self) -> [f64; 4] {
        [
            f64::from(self.min[0]) / WORLD,
            f64::from(self.min[1]) / WORLD,
            f64::from(self.max[0]) / WORLD,
            f64::from(self.max[1]) / WORLD,
        ]
    }

    /// Whether all the matching actors share one position.
    #[must_use]
    pub fn one_position(&self) -> bool {
        self.min == self.max
    }

    /// The class holding most actors (the lowest on ties).
    #[must_use]
    pub fn dominant(&self) -> u8 {
        let mut best = 0;
        for (c, &n) in self.split.iter().enumerate() {
            if n > self.split[best] {
                best = c;
            }
        }
        best as u8
    }
}

/// A check of actors that keys do not decide (territories, text, opening hours), with the
/// box, when known, outside which no actor passes (a territory's), so that cells outside are
/// skipped without reading their actors.
#[derive(Clone, Copy)]
pub struct Check<'a> {
    /// Whether an actor passes.
    pub passes: &'a dyn Fn(ActorIdx) -> bool,
    /// `[west, south, east, north]`, degrees: no actor outside passes.
    pub within: Option<[f64; 4]>,
}

impl std::fmt::Debug for Check<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check")
            .field("within", &self.within)
            .finish()
    }
}

impl<'a> Check<'a> {
    /// A check of every actor, anywhere.
    #[must_use]
    pub fn new(passes: &'a dyn Fn(ActorIdx) -> bool) -> Self {
        Self {
            passes,
            within: None,
        }
    }

    /// The `within` box in integer units, inclusive: `[x0, y0, x1, y1]`.
    fn world_box(&self) -> Option<[u64; 4]> {
        self.within.map(|[w, s, e, n]| {
            let [x0, y0] = world_xy(w, n);
            let [x1, y1] = world_xy(e, s);
            [x0, y0, x1, y1].map(u64::from)
        })
    }
}

/// The box of cell `(cx, cy)` at `level` in integer units, inclusive.
fn cell_box(level: u8, cx: u32, cy: u32) -> [u64; 4] {
    let size = 32 - u32::from(level);
    let lo = |v: u32| u64::from(v) << size;
    let hi = |v: u32| ((u64::from(v) + 1) << size) - 1;
    [lo(cx), lo(cy), hi(cx), hi(cy)]
}

fn disjoint(a: [u64; 4], b: [u64; 4]) -> bool {
    a[2] < b[0] || a[0] > b[2] || a[3] < b[1] || a[1] > b[3]
}

/// Actors at one position: the position in world units (see [`Summary::mean`]) and each
/// actor with its class.
pub type Group = ([f64; 2], Vec<(ActorIdx, u8)>);

/// Integer units across the world.
const WORLD: f64 = 4_294_967_296.0;

/// Integer Web Mercator coordinates of a point (degrees), `2^32` units across the world; the
/// mapping is monotonic in each axis (latitudes clamped to the projection's limit).
#[must_use]
pub fn world_xy(lon: f64, lat: f64) -> [u32; 2] {
    let (x, y) = crate::tiles::to_tile(lon, lat, 0);
    let unit = |v: f64| (v * WORLD).floor().clamp(0.0, WORLD - 1.0) as u32;
    [unit(x), unit(y)]
}

/// Spreads the bits of `v` to the even bits of the result.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// Column and row of a Morton code (the inverse of [`morton`] for codes below `2^32`).
fn unmorton(code: u64) -> (u32, u32) {
    let squash = |mut v: u64| {
        v &= 0x5555_5555_5555_5555;
        v = (v | (v >> 1)) & 0x3333_3333_3333_3333;
        v = (v | (v >> 2)) & 0x0f0f_0f0f_0f0f_0f0f;
        v = (v | (v >> 4)) & 0x00ff_00ff_00ff_00ff;
        v = (v | (v >> 8)) & 0x0000_ffff_0000_ffff;
        v = (v | (v >> 16)) & 0x0000_0000_ffff_ffff;
        v as u32
    };
    (squash(code), squash(code >> 1))
}

/// Morton code of a cell column and row (x on the even bits).
fn morton(x: u32, y: u32) -> u64 {
    spread(x) | (spread(y) << 1)
}

/// Bits of a full code below the prefix of a level.
fn shift(level: u8) -> u32 {
    2 * (32 - u32::from(level))
}

/// Full codes `[lo, hi]` of the actors of cell `prefix` at `level`.
fn code_span(level: u8, prefix: u64) -> (u64, u64) {
    let s = shift(level);
    if s >= 64 {
        return (0, u64::MAX);
    }
    let lo = prefix << s;
    (lo, lo | ((1u64 << s) - 1))
}

/// Adds actors to the per-key accumulators, noting the keys first touched.
fn add_points(points: &[Pt], acc: &mut [Agg], touched: &mut Vec<u32>) {
    for p in points {
        let a = &mut acc[p.key as usize];
        if a.count == 0 {
            touched.push(p.key);
        }
        a.add_point(p);
    }
}

/// The quadtree of one snapshot.
#[derive(Debug, Default)]
pub struct Pyramid {
    codes: Vec<u64>,
    points: Vec<Pt>,
    keys: Vec<ItemKey>,
    key_ids: HashMap<ItemKey, u32>,
    /// Per level `0..=MAX_LEVEL`, its cells with aggregates, in Morton order.
    levels: Vec<Vec<Cell>>,
    aggs: Vec<Agg>,
}

impl Pyramid {
    /// Builds the quadtree over actors given as `(index, lon, lat, key)`.
    #[must_use]
    pub fn build(actors: impl Iterator<Item = (ActorIdx, [f64; 2], ItemKey)>) -> Self {
        let mut key_ids: HashMap<ItemKey, u32> = HashMap::new();
        let mut keys = Vec::new();
        let mut pts: Vec<(u64, Pt)> = actors
            .map(|(idx, [lon, lat], key)| {
                let [x, y] = world_xy(lon, lat);
                let id = *key_ids.entry(key).or_insert_with(|| {
                    keys.push(key);
                    (keys.len() - 1) as u32
                });
                (morton(x, y), Pt { x, y, key: id, idx })
            })
            .collect();
        pts.sort_unstable_by_key(|(code, p)| (*code, p.idx));
        let (codes, points): (Vec<u64>, Vec<Pt>) = pts.into_iter().unzip();
        let mut me = Self {
            codes,
            points,
            keys,
            key_ids,
            levels: vec![Vec::new(); usize::from(MAX_LEVEL) + 1],
            aggs: Vec::new(),
        };
        me.aggregate();
        me
    }

    /// Builds the aggregates, deepest level first, each parent from its children.
    fn aggregate(&mut self) {
        let mut acc = vec![Agg::EMPTY; self.keys.len()];
        let mut touched: Vec<u32> = Vec::new();
        for level in (0..=MAX_LEVEL).rev() {
            let s = shift(level);
            let mut cells = Vec::new();
            let mut child = 0; // cursor in the cells of the level below
            let mut i = 0;
            while i < self.codes.len() {
                let prefix = self.codes[i].checked_shr(s).unwrap_or(0);
                let (_, hi) = code_span(level, prefix);
                let end = i + self.codes[i..].partition_point(|&c| c <= hi);
                if end - i > SCAN_MAX {
                    if level == MAX_LEVEL {
                        add_points(&self.points[i..end], &mut acc, &mut touched);
                    } else {
                        let below = &self.levels[usize::from(level) + 1];
                        let mut pos = i;
                        while let Some(c) = below.get(child) {
                            let (lo, chi) = code_span(level + 1, c.prefix);
                            if lo > hi {
                                break;
                            }
                            let start = pos + self.codes[pos..end].partition_point(|&x| x < lo);
                            add_points(&self.points[pos..start], &mut acc, &mut touched);
                            for a in &self.aggs[c.aggs.0 as usize..c.aggs.1 as usize] {
                                let t = &mut acc[a.key as usize];
                                if t.count == 0 {
                                    touched.push(a.key);
                                }
                                t.add(a);
                            }
                            pos = start + self.codes[start..end].partition_point(|&x| x <= chi);
                            child += 1;
                        }
                        add_points(&self.points[pos..end], &mut acc, &mut touched);
                    }
                    let from = self.aggs.len() as u32;
                    touched.sort_unstable();
                    for &k in &touched {
                        let mut a = acc[k as usize];
                        a.key = k;
                        self.aggs.push(a);
                        acc[k as usize] = Agg::EMPTY;
                    }
                    touched.clear();
                    cells.push(Cell {
                        prefix,
                        aggs: (from, self.aggs.len() as u32),
                    });
                } else if level < MAX_LEVEL {
                    // Skip the children of a small cell: they are small too.
                    let below = &self.levels[usize::from(level) + 1];
                    while below
                        .get(child)
                        .is_some_and(|c| code_span(level + 1, c.prefix).0 <= hi)
                    {
                        child += 1;
                    }
                }
                i = end;
            }
            self.levels[usize::from(level)] = cells;
        }
    }

    /// Number of actors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether there is no actor.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The distinct filter keys; a filter is applied by giving each a class ([`OUT`] to leave
    /// its actors out).
    #[must_use]
    pub fn keys(&self) -> &[ItemKey] {
        &self.keys
    }

    /// The index in [`keys`](Self::keys) of a key.
    #[must_use]
    pub fn key_id(&self, key: ItemKey) -> Option<u32> {
        self.key_ids.get(&key).copied()
    }

    /// Heap bytes held.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.codes.capacity() * size_of::<u64>()
            + self.points.capacity() * size_of::<Pt>()
            + self.keys.capacity() * size_of::<ItemKey>()
            + self.key_ids.capacity() * (size_of::<ItemKey>() + size_of::<u32>() + 8)
            + self.levels.iter().map(Vec::capacity).sum::<usize>() * size_of::<Cell>()
            + self.aggs.capacity() * size_of::<Agg>()
    }

    /// Number of aggregates held (for reports).
    #[must_use]
    pub fn aggregate_count(&self) -> usize {
        self.aggs.len()
    }

    /// Positions in `points` of the actors of cell `prefix` at `level`, searched in `within`.
    fn run(&self, level: u8, prefix: u64, within: Range<usize>) -> Range<usize> {
        let (lo, hi) = code_span(level, prefix);
        let codes = &self.codes[within.clone()];
        let a = codes.partition_point(|&c| c < lo);
        let b = a + codes[a..].partition_point(|&c| c <= hi);
        within.start + a..within.start + b
    }

    fn cell(&self, level: u8, prefix: u64) -> Option<&[Agg]> {
        let cells = self.levels.get(usize::from(level))?;
        let i = cells.binary_search_by_key(&prefix, |c| c.prefix).ok()?;
        let (a, b) = cells[i].aggs;
        Some(&self.aggs[a as usize..b as usize])
    }

    /// Summary of the actors of `run` (cell `prefix` at `level`) that pass: their key's class
    /// is not [`OUT`] and `extra`, when given, accepts them.
    fn summarise(
        &self,
        level: u8,
        prefix: u64,
        run: Range<usize>,
        classes: &[u8],
        extra: Option<&Check<'_>>,
    ) -> Summary {
        let mut s = Summary::new();
        let aggs = if extra.is_none() && run.len() > SCAN_MAX {
            self.cell(level, prefix)
        } else {
            None
        };
        debug_assert!(
            extra.is_some() || run.len() <= SCAN_MAX || level > MAX_LEVEL || aggs.is_some(),
            "a big cell has aggregates"
        );
        match aggs {
            Some(aggs) => {
                for a in aggs {
                    let class = classes.get(a.key as usize).copied().unwrap_or(OUT);
                    if class != OUT {
                        s.add_agg(a, class);
                    }
                }
                // The actor itself when it is the only one (found among the cell's actors);
                // none is named for a group.
                if s.count == 1 {
                    s.first = self.points[run]
                        .iter()
                        .filter(|p| classes.get(p.key as usize).is_some_and(|&c| c != OUT))
                        .map(|p| p.idx)
                        .min();
                }
            }
            None => {
                for p in &self.points[run] {
                    let class = classes.get(p.key as usize).copied().unwrap_or(OUT);
                    if class != OUT && extra.is_none_or(|f| (f.passes)(p.idx)) {
                        s.add_point(p, class);
                    }
                }
            }
        }
        s
    }

    /// The clusters of tile `z/x/y` (`z` at most [`MAX_CLUSTER_ZOOM`]): for each of its
    /// 8 x 8 cells holding a matching actor, in Morton order, the summary of those actors.
    #[must_use]
    pub fn tile_clusters(
        &self,
        z: u8,
        x: u32,
        y: u32,
        classes: &[u8],
        extra: Option<&Check<'_>>,
    ) -> Vec<Summary> {
        let z = z.min(MAX_CLUSTER_ZOOM);
        let clip = extra.and_then(Check::world_box);
        let mut out = Vec::new();
        if clip.is_some_and(|c| disjoint(c, cell_box(z, x, y))) {
            return out;
        }
        let tile = self.run(z, morton(x, y), 0..self.points.len());
        if tile.is_empty() {
            return out;
        }
        let level = z + CELL_SHIFT;
        let first = morton(x, y) << (2 * u32::from(CELL_SHIFT));
        let mut pos = tile.start;
        for sub in 0..(1u64 << (2 * CELL_SHIFT)) {
            if pos >= tile.end {
                break;
            }
            let prefix = first + sub;
            let run = self.run(level, prefix, pos..tile.end);
            if run.is_empty() {
                continue;
            }
            pos = run.end;
            if let Some(c) = clip {
                let (cx, cy) = (x << CELL_SHIFT, y << CELL_SHIFT);
                let (dx, dy) = unmorton(sub);
                if disjoint(c, cell_box(level, cx + dx, cy + dy)) {
                    continue;
                }
            }
            let s = self.summarise(level, prefix, run, classes, extra);
            if s.count > 0 {
                out.push(s);
            }
        }
        out
    }

    /// The matching actors of tile `z/x/y`, in Morton order, those at one position together:
    /// each group as its actors and their class, with the position in world units.
    #[must_use]
    pub fn tile_points(
        &self,
        z: u8,
        x: u32,
        y: u32,
        classes: &[u8],
        extra: Option<&Check<'_>>,
    ) -> Vec<Group> {
        let run = if z <= 32 {
            self.run(z, morton(x, y), 0..self.points.len())
        } else {
            0..0
        };
        let mut out: Vec<Group> = Vec::new();
        let mut last: Option<(u32, u32)> = None;
        for p in &self.points[run] {
            let class = classes.get(p.key as usize).copied().unwrap_or(OUT);
            if class == OUT || !extra.is_none_or(|f| (f.passes)(p.idx)) {
                continue;
            }
            match out.last_mut() {
                Some((_, group)) if last == Some((p.x, p.y)) => group.push((p.idx, class)),
                _ => out.push((
                    [f64::from(p.x) / WORLD, f64::from(p.y) / WORLD],
                    vec![(p.idx, class)],
                )),
            }
            last = Some((p.x, p.y));
        }
        out
    }

    /// The tiles of zoom `z` holding at least one actor (any filter), in Morton order.
    #[must_use]
    pub fn occupied_tiles(&self, z: u8) -> Vec<(u32, u32)> {
        let bits = 32 - u32::from(z.min(32));
        let mut out: Vec<(u32, u32)> = Vec::new();
        for p in &self.points {
            let t = (
                p.x.checked_shr(bits).unwrap_or(0),
                p.y.checked_shr(bits).unwrap_or(0),
            );
            // The actors of a tile are one run of the Morton order.
            if out.last() != Some(&t) {
                out.push(t);
            }
        }
        out
    }

    /// Counts of actors per key (indices into [`keys`](Self::keys)) inside a box, no key
    /// filter: `bbox` is `[west, south, east, north]` in degrees and `inside` checks one actor
    /// exactly (edges included), for the cells on the box's edge; `None` counts every actor.
    /// With `rest`, only the actors it passes are counted (read one by one, inside its
    /// `within` box).
    #[must_use]
    pub fn key_counts(
        &self,
        bbox: Option<[f64; 4]>,
        inside: &dyn Fn(ActorIdx) -> bool,
        rest: Option<&Check<'_>>,
    ) -> Vec<u32> {
        let mut counts = vec![0_u32; self.keys.len()];
        if bbox.is_none() && rest.is_none() {
            self.count_all(0, 0, 0..self.points.len(), &mut counts);
            return counts;
        }
        // Strictly inside in integer units means inside in degrees (see the module notes).
        let mut q = match bbox {
            Some([w, s, e, n]) => {
                let [x0, y0] = world_xy(w, n);
                let [x1, y1] = world_xy(e, s);
                [x0, y0, x1, y1].map(u64::from)
            }
            None => [0, 0, u64::from(u32::MAX), u64::from(u32::MAX)],
        };
        if let Some(c) = rest.and_then(Check::world_box) {
            if disjoint(q, c) {
                return counts;
            }
            q = [
                q[0].max(c[0]),
                q[1].max(c[1]),
                q[2].min(c[2]),
                q[3].min(c[3]),
            ];
        }
        let within_box = |i: ActorIdx| bbox.is_none() || inside(i);
        let q = Query {
            bounds: q,
            edge: &within_box,
            rest: rest.map(|r| r.passes),
        };
        self.count_box(0, 0, 0, 0..self.points.len(), &q, &mut counts);
        counts
    }

    fn count_all(&self, level: u8, prefix: u64, run: Range<usize>, counts: &mut [u32]) {
        debug_assert!(
            run.len() <= SCAN_MAX || level > MAX_LEVEL || self.cell(level, prefix).is_some(),
            "a big cell has aggregates"
        );
        match (run.len() > SCAN_MAX)
            .then(|| self.cell(level, prefix))
            .flatten()
        {
            Some(aggs) => {
                for a in aggs {
                    counts[a.key as usize] += a.count;
                }
            }
            None => {
                for p in &self.points[run] {
                    counts[p.key as usize] += 1;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn count_box(
        &self,
        level: u8,
        cx: u32,
        cy: u32,
        run: Range<usize>,
        q: &Query<'_>,
        counts: &mut [u32],
    ) {
        if run.is_empty() {
            return;
        }
        let [ax0, ay0, ax1, ay1] = cell_box(level, cx, cy);
        let [qx0, qy0, qx1, qy1] = q.bounds;
        if disjoint([ax0, ay0, ax1, ay1], q.bounds) {
            return;
        }
        let prefix = morton(cx, cy);
        if ax0 > qx0 && ax1 < qx1 && ay0 > qy0 && ay1 < qy1 {
            match q.rest {
                None => self.count_all(level, prefix, run, counts),
                Some(rest) => {
                    for p in &self.points[run] {
                        if rest(p.idx) {
                            counts[p.key as usize] += 1;
                        }
                    }
                }
            }
            return;
        }
        if run.len() <= SCAN_MAX || level >= MAX_LEVEL {
            for p in &self.points[run] {
                if (q.edge)(p.idx) && q.rest.is_none_or(|r| r(p.idx)) {
                    counts[p.key as usize] += 1;
                }
            }
            return;
        }
        let mut pos = run.start;
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let (x, y) = (cx * 2 + dx, cy * 2 + dy);
            let sub = self.run(level + 1, morton(x, y), pos..run.end);
            pos = sub.end.max(pos);
            self.count_box(level + 1, x, y, sub, q, counts);
        }
    }
}

/// A box in integer units (inclusive) with the exact check of its edge, and the check of
/// what keys do not decide.
struct Query<'a> {
    bounds: [u64; 4],
    edge: &'a dyn Fn(ActorIdx) -> bool,
    rest: Option<&'a dyn Fn(ActorIdx) -> bool>,
}

/// Degrees of a point in world units (see [`Summary::mean`]).
#[must_use]
pub fn world_to_lonlat(p: [f64; 2]) -> [f64; 2] {
    let (lon, lat) = crate::tiles::from_tile(p[0], p[1], 0);
    [lon, lat]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic scatter: dense clumps (cities) and a sparse spread, with keys cycling
    /// through categories, families and flags.
    fn scatter(n: usize) -> Vec<([f64; 2], ItemKey)> {
        let mut s = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        (0..n)
            .map(|i| {
                let (lon, lat) = match i % 4 {
                    0 => (-1.55 + next() * 0.02, 47.21 + next() * 0.02),
                    1 => (2.33 + next() * 0.1, 48.85 + next() * 0.06),
                    2 => (-5.0 + next() * 14.0, 42.0 + next() * 9.0),
                    _ => (4.8 + (i % 7) as f64 * 1e-4, 45.76),
                };
                let key = ItemKey {
                    categories: 1 << (i % 6) | (1 << ((i / 6) % 9)),
                    attrs: (1 << (i % 3)) | if i % 5 == 0 { 0 } else { 1 << 8 },
                };
                ([lon, lat], key)
            })
            .collect()
    }

    fn pyramid(pts: &[([f64; 2], ItemKey)]) -> Pyramid {
        Pyramid::build(
            pts.iter()
                .enumerate()
                .map(|(i, (p, k))| (i as ActorIdx, *p, *k)),
        )
    }

    /// Classes of a category filter: the class is the lowest category bit of the key that the
    /// filter asks for.
    fn classes(p: &Pyramid, wanted: u64) -> Vec<u8> {
        p.keys()
            .iter()
            .map(|k| {
                let m = k.categories & wanted;
                if m == 0 {
                    OUT
                } else {
                    m.trailing_zeros() as u8
                }
            })
            .collect()
    }

    fn tile_of(lon: f64, lat: f64, z: u8) -> (u32, u32) {
        let (x, y) = crate::tiles::to_tile(lon, lat, z);
        (x as u32, y as u32)
    }

    #[test]
    fn tile_clusters_count_exactly_the_matching_actors_of_their_cells() {
        let pts = scatter(20_000);
        let p = pyramid(&pts);
        assert!(p.aggregate_count() > 0, "big cells carry aggregates");
        for wanted in [u64::MAX, 0b10, 0b1_0000_0001] {
            let cls = classes(&p, wanted);
            for z in [0_u8, 3, 6, 9, 12, 15] {
                for (lon, lat) in [(-1.55, 47.22), (2.35, 48.86), (4.8, 45.76), (0.5, 44.0)] {
                    let (x, y) = tile_of(lon, lat, z);
                    let clusters = p.tile_clusters(z, x, y, &cls, None);
                    // Brute force: bin every matching actor of the tile into its cell.
                    let mut want: HashMap<(u32, u32), (u32, [u32; CLASSES])> = HashMap::new();
                    for (q, k) in &pts {
                        let [wx, wy] = world_xy(q[0], q[1]);
                        let bits = 32 - u32::from(z + CELL_SHIFT);
                        let cell = (wx >> bits, wy >> bits);
                        if cell.0 >> CELL_SHIFT != x || cell.1 >> CELL_SHIFT != y {
                            continue;
                        }
                        let m = k.categories & wanted;
                        if m == 0 {
                            continue;
                        }
                        let e = want.entry(cell).or_insert((0, [0; CLASSES]));
                        e.0 += 1;
                        e.1[m.trailing_zeros() as usize] += 1;
                    }
                    assert_eq!(clusters.len(), want.len(), "z{z} {lon},{lat} {wanted:b}");
                    let total: u32 = clusters.iter().map(|c| c.count).sum();
                    assert_eq!(total, want.values().map(|v| v.0).sum::<u32>());
                    let mut got: Vec<(u32, Vec<u32>)> = clusters
                        .iter()
                        .map(|c| (c.count, c.split.to_vec()))
                        .collect();
                    let mut exp: Vec<(u32, Vec<u32>)> =
                        want.values().map(|(n, s)| (*n, s.to_vec())).collect();
                    got.sort();
                    exp.sort();
                    assert_eq!(got, exp);
                    for c in &clusters {
                        let [mx, my] = c.mean();
                        let [x0, y0, x1, y1] = c.extent();
                        assert!(x0 <= mx && mx <= x1 && y0 <= my && my <= y1);
                        if c.count == 1 {
                            let only = c.first.expect("the matching actor");
                            assert!(pts[only as usize].1.categories & wanted != 0);
                            let [x, y] = world_xy(pts[only as usize].0[0], pts[only as usize].0[1]);
                            assert_eq!(c.extent(), [x, y, x, y].map(|v| f64::from(v) / WORLD));
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn an_extra_check_filters_actor_by_actor_with_the_same_answer_as_keys() {
        let pts = scatter(6_000);
        let p = pyramid(&pts);
        let all = classes(&p, u64::MAX);
        let wanted = 0b100;
        let by_key = classes(&p, wanted);
        let check = |i: ActorIdx| pts[i as usize].1.categories & wanted != 0;
        for z in [2_u8, 7, 11] {
            let (x, y) = tile_of(2.35, 48.86, z);
            let a: Vec<u32> = p
                .tile_clusters(z, x, y, &by_key, None)
                .iter()
                .map(|c| c.count)
                .collect();
            let b: Vec<u32> = p
                .tile_clusters(z, x, y, &all, Some(&Check::new(&check)))
                .iter()
                .map(|c| c.count)
                .collect();
            assert_eq!(a, b, "z{z}");
        }
    }

    #[test]
    fn a_check_s_box_only_skips_cells_where_nothing_passes() {
        let pts = scatter(12_000);
        let p = pyramid(&pts);
        let all = classes(&p, u64::MAX);
        // Actors of a box around Paris (as a territory lock would be).
        let b = [2.30, 48.84, 2.40, 48.89];
        let inside = |i: ActorIdx| {
            let q = pts[i as usize].0;
            b[0] <= q[0] && q[0] <= b[2] && b[1] <= q[1] && q[1] <= b[3]
        };
        let plain = Check::new(&inside);
        let boxed = Check {
            passes: &inside,
            within: Some(b),
        };
        let want = pts
            .iter()
            .enumerate()
            .filter(|(i, _)| inside(*i as ActorIdx))
            .count();
        assert!(want > 100);
        for z in [0_u8, 4, 9, 12, 14] {
            for (x, y) in crate::tiles::tiles_over([2.0, 48.5, 2.7, 49.2], z) {
                let count = |c: &Check<'_>| -> Vec<u32> {
                    p.tile_clusters(z, x, y, &all, Some(c))
                        .iter()
                        .map(|s| s.count)
                        .collect()
                };
                assert_eq!(count(&plain), count(&boxed), "z{z} {x}/{y}");
            }
        }
        // Counts of a view with the check: each box, and none.
        for view in [
            None,
            Some([2.2, 48.7, 2.35, 48.9]),
            Some([-5.0, 42.0, 9.0, 51.0]),
        ] {
            let inside_view = |i: ActorIdx| {
                let q = pts[i as usize].0;
                view.is_none_or(|v: [f64; 4]| {
                    v[0] <= q[0] && q[0] <= v[2] && v[1] <= q[1] && q[1] <= v[3]
                })
            };
            let want = (0..pts.len() as ActorIdx)
                .filter(|&i| inside_view(i) && inside(i))
                .count();
            for c in [&plain, &boxed] {
                let got: u32 = p.key_counts(view, &inside_view, Some(c)).iter().sum();
                assert_eq!(got as usize, want, "{view:?} {c:?}");
            }
        }
    }

    #[test]
    fn point_tiles_hold_every_matching_actor_once_grouped_by_position() {
        let pts = scatter(8_000);
        let p = pyramid(&pts);
        let cls = classes(&p, u64::MAX);
        let (x, y) = tile_of(4.8, 45.76, 16);
        let groups = p.tile_points(16, x, y, &cls, None);
        let n: usize = groups.iter().map(|(_, g)| g.len()).sum();
        let want = pts
            .iter()
            .filter(|(q, _)| tile_of(q[0], q[1], 16) == (x, y))
            .count();
        assert_eq!(n, want);
        // Lyon's actors sit at seven positions.
        assert_eq!(groups.len(), 7);
        for (at, g) in &groups {
            let [lon, lat] = world_to_lonlat(*at);
            for (i, _) in g {
                let q = pts[*i as usize].0;
                assert!((q[0] - lon).abs() < 1e-6 && (q[1] - lat).abs() < 1e-6);
            }
        }
    }

    #[test]
    fn key_counts_of_a_box_equal_a_scan() {
        let pts = scatter(30_000);
        let p = pyramid(&pts);
        for b in [
            [-2.0, 46.0, 3.0, 49.0],
            [-1.551, 47.212, -1.54, 47.225],
            [-180.0, -85.0, 180.0, 85.0],
            [4.8, 45.76, 4.8003, 45.76],
            [10.0, 10.0, 11.0, 11.0],
        ] {
            let inside = |i: ActorIdx| {
                let q = pts[i as usize].0;
                b[0] <= q[0] && q[0] <= b[2] && b[1] <= q[1] && q[1] <= b[3]
            };
            let got = p.key_counts(Some(b), &inside, None);
            let mut want = vec![0_u32; p.keys().len()];
            let ids: HashMap<ItemKey, usize> =
                p.keys().iter().enumerate().map(|(i, k)| (*k, i)).collect();
            for (i, (_, k)) in pts.iter().enumerate() {
                if inside(i as ActorIdx) {
                    want[ids[k]] += 1;
                }
            }
            assert_eq!(got, want, "{b:?}");
        }
        let all = p.key_counts(None, &|_| true, None);
        assert_eq!(all.iter().sum::<u32>() as usize, pts.len());
    }

    #[test]
    fn empty_and_tiny_pyramids_answer() {
        let p = pyramid(&[]);
        assert!(p.tile_clusters(0, 0, 0, &[], None).is_empty());
        assert!(p.key_counts(None, &|_| true, None).is_empty());
        let one = pyramid(&[(
            [2.0, 48.0],
            ItemKey {
                categories: 1,
                attrs: 0,
            },
        )]);
        let cls = classes(&one, u64::MAX);
        let c = one.tile_clusters(0, 0, 0, &cls, None);
        assert_eq!((c.len(), c[0].count, c[0].first), (1, 1, Some(0)));
        assert!(c[0].one_position());
    }
}
