//! The actor index: exact great-circle radius and nearest-neighbour queries, bounding-box,
//! polygon and territory queries, all combined with filters inside the index query.
//!
//! # How exactness is obtained
//! Actors are stored in R-trees as unit vectors of the sphere (`f32`). The straight-line
//! (chord) distance between unit vectors grows monotonically with the great-circle distance,
//! so a radius search is a 3D ball search and nearest neighbours by chord are nearest
//! neighbours by great-circle distance. Candidates are gathered with a small safety margin
//! that covers `f32` rounding, and every answer is re-checked and ranked with
//! [`haversine_m`] on the `f64` coordinates: the result equals a brute-force haversine scan.
//!
//! # Filters
//! Besides the tree of all actors there is one tree per category holding the actors assigned to
//! it, so a category filter only visits matching actors; the other filters (family, kind,
//! text, territory, demonstration data) are checked during the same traversal.

use super::territories::{Territories, TerritoryIdx};
use crate::domain::geodesy::{chord_for_distance, distance_for_chord, unit_vector};
use crate::domain::{
    ActorId, Bbox, Catalog, CategorySet, Family, FamilySet, GeocodePrecision, KindSet, LonLat,
    Radius, haversine_m,
};
use rstar::{AABB, PointDistance, RTree, RTreeObject};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

/// Position of an actor in the index (actors are sorted by id, so index order is id order).
pub type ActorIdx = u32;

/// No commune: the actor's INSEE code is not in the reference data.
pub const NO_COMMUNE: TerritoryIdx = TerritoryIdx::MAX;

/// Margin, in metres, added to candidate searches to cover `f32` rounding of unit vectors
/// (about 1 m at worst); the exact re-check removes the extra candidates.
const MARGIN_M: f64 = 10.0;

/// What the index needs to know of an actor.
#[derive(Debug, Clone, PartialEq)]
pub struct ActorRow {
    /// Identifier.
    pub id: ActorId,
    /// Name.
    pub name: String,
    /// Assigned categories.
    pub categories: CategorySet,
    /// Legal family.
    pub family: Family,
    /// Additional kinds.
    pub kinds: KindSet,
    /// Commune, INSEE code.
    pub commune: String,
    /// Location.
    pub location: LonLat,
    /// Location precision.
    pub precision: GeocodePrecision,
    /// Demonstration data.
    pub demo: bool,
}

/// Compact per-actor data kept in the index.
#[derive(Debug, Clone, Copy)]
pub struct ActorEntry {
    /// Identifier.
    pub id: ActorId,
    /// Location.
    pub location: LonLat,
    /// Assigned categories.
    pub categories: CategorySet,
    /// Legal family.
    pub family: Family,
    /// Additional kinds.
    pub kinds: KindSet,
    /// Location precision.
    pub precision: GeocodePrecision,
    /// Demonstration data.
    pub demo: bool,
    /// Commune, or [`NO_COMMUNE`].
    pub commune: TerritoryIdx,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct TreePoint {
    xyz: [f32; 3],
    idx: ActorIdx,
}

impl RTreeObject for TreePoint {
    type Envelope = AABB<[f32; 3]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.xyz)
    }
}

impl PointDistance for TreePoint {
    fn distance_2(&self, p: &[f32; 3]) -> f32 {
        let d = [self.xyz[0] - p[0], self.xyz[1] - p[1], self.xyz[2] - p[2]];
        d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
    }
}

fn to_f32(v: [f64; 3]) -> [f32; 3] {
    [v[0] as f32, v[1] as f32, v[2] as f32]
}

/// Filters combined with every query. The default matches every actor.
#[derive(Debug, Clone, Default)]
pub struct ActorFilter {
    /// Actors with at least one of these categories (already expanded to descendants).
    pub categories: Option<CategorySet>,
    /// Actors of one of these families.
    pub families: Option<FamilySet>,
    /// Actors having all these kinds.
    pub kinds: KindSet,
    /// Folded text every actor name must contain (see [`super::text::fold`]).
    pub text: Option<String>,
    /// Territories the actor's commune must lie in (all of them).
    pub territories: Vec<TerritoryIdx>,
    /// Leave demonstration data out.
    pub exclude_demo: bool,
}

/// An actor found by a query, with its distance when the query had a centre.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit {
    /// Which actor.
    pub idx: ActorIdx,
    /// Great-circle distance from the query centre, metres.
    pub distance_m: Option<f64>,
}

/// A string arena: all names in one allocation.
#[derive(Debug, Default)]
struct Names {
    text: String,
    ends: Vec<u32>,
}

impl Names {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
    }
    fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..self.ends[i] as usize).unwrap_or("")
    }
}

/// The immutable actor index of one snapshot.
#[derive(Debug)]
pub struct ActorIndex {
    entries: Vec<ActorEntry>,
    names: Names,
    folded: Names,
    by_id: HashMap<ActorId, ActorIdx>,
    all: RTree<TreePoint>,
    by_category: Vec<RTree<TreePoint>>,
    member_start: Vec<u32>,
    members: Vec<ActorIdx>,
    category_counts: Vec<usize>,
}

impl ActorIndex {
    /// Builds the index. Rows need not be sorted; communes are resolved in `territories`.
    #[must_use]
    pub fn build(mut rows: Vec<ActorRow>, territories: &Territories, catalog: &Catalog) -> Self {
        let category_count = catalog.defs().len();
        // lineage[p]: category p and its ancestors, to count actors per subtree in one pass.
        let lineage: Vec<u64> = (0..category_count)
            .map(|p| {
                (0..category_count)
                    .filter(|&q| catalog.subtree(q).0 & (1 << p) != 0)
                    .fold(0, |m, q| m | (1 << q))
            })
            .collect();
        let mut category_counts = vec![0_usize; category_count];
        rows.sort_unstable_by_key(|r| r.id);
        rows.dedup_by_key(|r| r.id);
        let mut entries = Vec::with_capacity(rows.len());
        let mut names = Names::default();
        let mut folded = Names::default();
        let mut by_id = HashMap::with_capacity(rows.len());
        let mut points = Vec::with_capacity(rows.len());
        let mut per_category: Vec<Vec<TreePoint>> = vec![Vec::new(); category_count];
        for (i, r) in rows.iter().enumerate() {
            let idx = i as ActorIdx;
            let commune = territories
                .find(crate::domain::TerritoryKind::Commune, &r.commune)
                .unwrap_or(NO_COMMUNE);
            entries.push(ActorEntry {
                id: r.id,
                location: r.location,
                categories: r.categories,
                family: r.family,
                kinds: r.kinds,
                precision: r.precision,
                demo: r.demo,
                commune,
            });
            names.push(&r.name);
            folded.push(&super::text::fold(&r.name));
            by_id.insert(r.id, idx);
            let tp = TreePoint {
                xyz: to_f32(unit_vector(r.location)),
                idx,
            };
            points.push(tp);
            let mut lineage_mask = 0_u64;
            for c in r.categories.positions() {
                if let Some(v) = per_category.get_mut(c) {
                    v.push(tp);
                }
                lineage_mask |= lineage.get(c).copied().unwrap_or(0);
            }
            for c in CategorySet(lineage_mask).positions() {
                category_counts[c] += 1;
            }
        }
        // Territory membership: for each territory, its actors in id order (CSR layout).
        let mut counts = vec![0_u32; territories.len() + 1];
        for e in &entries {
            if e.commune != NO_COMMUNE {
                for t in territories.chain(e.commune) {
                    counts[t as usize] += 1;
                }
            }
        }
        let mut member_start = Vec::with_capacity(counts.len());
        let mut acc = 0;
        for c in &counts {
            member_start.push(acc);
            acc += c;
        }
        let mut fill = member_start.clone();
        let mut members = vec![0; acc as usize];
        for (i, e) in entries.iter().enumerate() {
            if e.commune != NO_COMMUNE {
                for t in territories.chain(e.commune) {
                    members[fill[t as usize] as usize] = i as ActorIdx;
                    fill[t as usize] += 1;
                }
            }
        }
        Self {
            entries,
            names,
            folded,
            by_id,
            all: RTree::bulk_load(points),
            by_category: per_category.into_iter().map(RTree::bulk_load).collect(),
            member_start,
            members,
            category_counts,
        }
    }

    /// Actors per category position, each counted once in a category and its ancestors.
    #[must_use]
    pub fn category_counts(&self) -> &[usize] {
        &self.category_counts
    }

    /// Number of actors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of an actor.
    #[must_use]
    pub fn entry(&self, idx: ActorIdx) -> &ActorEntry {
        &self.entries[idx as usize]
    }

    /// All entries, in id order.
    #[must_use]
    pub fn entries(&self) -> &[ActorEntry] {
        &self.entries
    }

    /// The name of an actor.
    #[must_use]
    pub fn name(&self, idx: ActorIdx) -> &str {
        self.names.get(idx as usize)
    }

    /// Finds an actor by id.
    #[must_use]
    pub fn find(&self, id: ActorId) -> Option<ActorIdx> {
        self.by_id.get(&id).copied()
    }

    /// Whether an actor passes a filter.
    #[must_use]
    pub fn matches(&self, idx: ActorIdx, f: &ActorFilter, territories: &Territories) -> bool {
        let e = &self.entries[idx as usize];
        if f.exclude_demo && e.demo {
            return false;
        }
        if let Some(c) = f.categories
            && !c.intersects(e.categories)
        {
            return false;
        }
        if let Some(fam) = f.families
            && !fam.contains(e.family)
        {
            return false;
        }
        if !e.kinds.contains_all(f.kinds) {
            return false;
        }
        if !f
            .territories
            .iter()
            .all(|&t| e.commune != NO_COMMUNE && territories.commune_in(e.commune, t))
        {
            return false;
        }
        if let Some(t) = &f.text
            && !self.folded.get(idx as usize).contains(t.as_str())
        {
            return false;
        }
        true
    }

    /// The trees to visit for a filter: the category trees, or the tree of all actors.
    fn trees(&self, f: &ActorFilter) -> Vec<&RTree<TreePoint>> {
        match f.categories {
            Some(set) => set
                .positions()
                .filter_map(|c| self.by_category.get(c))
                .filter(|t| t.size() > 0)
                .collect(),
            None => vec![&self.all],
        }
    }

    /// Actors within `radius` of `centre` (distance `<=` radius), nearest first, ties by id.
    #[must_use]
    pub fn within_radius(
        &self,
        centre: LonLat,
        radius: Radius,
        f: &ActorFilter,
        t: &Territories,
    ) -> Vec<Hit> {
        let q = to_f32(unit_vector(centre));
        let chord = chord_for_distance(radius.metres() + MARGIN_M) as f32;
        let mut hits = Vec::new();
        let trees = self.trees(f);
        for tree in &trees {
            for p in tree.locate_within_distance(q, chord * chord) {
                let d = haversine_m(centre, self.entries[p.idx as usize].location);
                if d <= radius.metres() && self.matches(p.idx, f, t) {
                    hits.push(Hit {
                        idx: p.idx,
                        distance_m: Some(d),
                    });
                }
            }
        }
        sort_by_distance(&mut hits);
        if trees.len() > 1 {
            hits.dedup_by_key(|h| h.idx);
        }
        hits
    }

    /// The `k` nearest actors to `centre`, nearest first, ties by id, at most `max_distance` away.
    #[must_use]
    pub fn nearest(
        &self,
        centre: LonLat,
        k: usize,
        max_distance: Option<Radius>,
        f: &ActorFilter,
        t: &Territories,
    ) -> Vec<Hit> {
        if k == 0 {
            return Vec::new();
        }
        let q = to_f32(unit_vector(centre));
        let trees = self.trees(f);
        let mut all = Vec::new();
        for tree in &trees {
            let mut best: BinaryHeap<Ranked> = BinaryHeap::with_capacity(k + 1);
            for (p, d2) in tree.nearest_neighbor_iter_with_distance_2(&q) {
                let lower_bound = distance_for_chord(f64::from(d2).sqrt()) - MARGIN_M;
                if max_distance.is_some_and(|m| lower_bound > m.metres()) {
                    break;
                }
                if best.len() == k && best.peek().is_some_and(|w| lower_bound > w.distance) {
                    break;
                }
                let d = haversine_m(centre, self.entries[p.idx as usize].location);
                if max_distance.is_some_and(|m| d > m.metres()) || !self.matches(p.idx, f, t) {
                    continue;
                }
                best.push(Ranked {
                    distance: d,
                    idx: p.idx,
                });
                if best.len() > k {
                    best.pop();
                }
            }
            all.extend(best.into_iter().map(|r| Hit {
                idx: r.idx,
                distance_m: Some(r.distance),
            }));
        }
        sort_by_distance(&mut all);
        all.dedup_by_key(|h| h.idx);
        all.truncate(k);
        all
    }

    /// Actors inside a lon/lat box (edges included), in id order.
    #[must_use]
    pub fn in_bbox(&self, bbox: &Bbox, f: &ActorFilter, t: &Territories) -> Vec<ActorIdx> {
        self.in_envelope(bbox, f, t, |p| bbox.contains(p))
    }

    /// Actors covered by a prepared polygon (boundary included), in id order.
    #[must_use]
    pub fn in_polygon(
        &self,
        shape: &super::pip::PolygonIndex,
        f: &ActorFilter,
        t: &Territories,
    ) -> Vec<ActorIdx> {
        let bbox = shape.bbox();
        self.in_envelope(&bbox, f, t, |p| bbox.contains(p) && shape.covers(p))
    }

    fn in_envelope(
        &self,
        bbox: &Bbox,
        f: &ActorFilter,
        t: &Territories,
        keep: impl Fn(LonLat) -> bool,
    ) -> Vec<ActorIdx> {
        let (lo, hi) = bbox.unit_sphere_envelope();
        let env = AABB::from_corners(to_f32(lo), to_f32(hi));
        let trees = self.trees(f);
        let mut out = Vec::new();
        for tree in &trees {
            for p in tree.locate_in_envelope(&env) {
                if keep(self.entries[p.idx as usize].location) && self.matches(p.idx, f, t) {
                    out.push(p.idx);
                }
            }
        }
        out.sort_unstable();
        if trees.len() > 1 {
            out.dedup();
        }
        out
    }

    /// Actors of a territory (precomputed membership, no geometry), in id order.
    #[must_use]
    pub fn in_territory(
        &self,
        territory: TerritoryIdx,
        f: &ActorFilter,
        t: &Territories,
    ) -> Vec<ActorIdx> {
        let i = territory as usize;
        let (Some(&from), Some(&to)) = (self.member_start.get(i), self.member_start.get(i + 1))
        else {
            return Vec::new();
        };
        self.members[from as usize..to as usize]
            .iter()
            .copied()
            .filter(|&a| self.matches(a, f, t))
            .collect()
    }

    /// Number of actors of a territory, without filters.
    #[must_use]
    pub fn territory_size(&self, territory: TerritoryIdx) -> usize {
        let i = territory as usize;
        match (self.member_start.get(i), self.member_start.get(i + 1)) {
            (Some(&a), Some(&b)) => (b - a) as usize,
            _ => 0,
        }
    }

    /// Every actor passing the filter, in id order (no spatial constraint).
    #[must_use]
    pub fn filtered(&self, f: &ActorFilter, t: &Territories) -> Vec<ActorIdx> {
        if let Some(&first) = f.territories.first() {
            return self.in_territory(first, f, t);
        }
        (0..self.entries.len() as ActorIdx)
            .filter(|&i| self.matches(i, f, t))
            .collect()
    }
}

/// Sorts hits by distance, then by id (index order).
fn sort_by_distance(hits: &mut [Hit]) {
    hits.sort_unstable_by(|a, b| {
        a.distance_m
            .unwrap_or(0.0)
            .total_cmp(&b.distance_m.unwrap_or(0.0))
            .then(a.idx.cmp(&b.idx))
    });
}

/// Max-heap key: the worst of the current best k is on top.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    distance: f64,
    idx: ActorIdx,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.distance
            .total_cmp(&other.distance)
            .then(self.idx.cmp(&other.idx))
    }
}
