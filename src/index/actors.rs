//! The actor index: exact great-circle radius and nearest-neighbour queries, bounding-box,
//! polygon and territory queries, all combined with filters inside the index query.
//!
//! # How exactness is obtained
//! Actors are stored in a packed R-tree of `f32` longitude/latitude ([`super::packed`]). A radius query visits the
//! bounding box of the spherical cap (its exact longitude half-width is
//! `asin(sin δ / cos φ)`, split at the antimeridian, widened past the poles), padded to cover
//! `f32` rounding; every candidate is then checked and ranked with the exact great-circle
//! distance ([`great_circle_m`], from `f64` unit vectors kept per actor). The k nearest are
//! found by radius queries of growing radius: once k actors lie within r, no actor farther
//! than r can be among them. Both answers equal a brute-force scan with that distance, ties
//! broken by id. Bounding-box and polygon queries work in lon/lat directly.
//!
//! # Filters
//! Every tree node carries the union of its actors' categories, families, kinds and
//! demonstration flags, so a filtered query skips the subtrees where nothing can match; the
//! text and territory filters are checked on the candidates during the same traversal.
//!
//! # Memory layout
//! Actors are stored in Hilbert-curve order of their position, so the actors one query touches
//! sit together in memory; answers that must be in id order are sorted by id at the end.

use super::packed::{self, Envelope, ItemKey, KeyFilter, PackedTree, attr};
use super::territories::{Territories, TerritoryIdx};
#[cfg(doc)]
use crate::domain::geodesy::great_circle_m;
use crate::domain::geodesy::{EARTH_RADIUS_M, unit_distance_m, unit_vector};
use crate::domain::hours::{Schedule, Zone};
use crate::domain::{
    ActorId, Bbox, Catalog, CategorySet, Family, FamilySet, GeocodePrecision, KindSet, LonLat,
    Radius,
};

/// Position of an actor in the index (Hilbert order, not id order).
pub type ActorIdx = u32;

/// No commune: the actor's INSEE code is not in the reference data.
pub const NO_COMMUNE: TerritoryIdx = TerritoryIdx::MAX;

/// Padding, in degrees, of every candidate box: covers the `f32` rounding of stored and query
/// coordinates (under 1e-5° at 180°); the exact re-check removes the extra candidates.
const PAD_DEG: f64 = 1e-4;

/// Bits above which an actor's `hours` entry holds its time zone.
const HOURS_ZONE_SHIFT: u32 = 29;

/// Half the Earth's circumference, metres: a radius this large covers everything.
const HALF_TURN_M: f64 = std::f64::consts::PI * EARTH_RADIUS_M;

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
    /// Commune, INSEE code, inline (a million small strings fragment the heap at start-up).
    pub commune: CommuneCode,
    /// Location.
    pub location: LonLat,
    /// Location precision.
    pub precision: GeocodePrecision,
    /// Demonstration data.
    pub demo: bool,
}

impl ActorRow {
    /// Everything but the name.
    #[must_use]
    pub fn facts(&self) -> ActorFacts {
        ActorFacts {
            id: self.id,
            categories: self.categories,
            family: self.family,
            kinds: self.kinds,
            commune: self.commune,
            location: self.location,
            precision: self.precision,
            demo: self.demo,
        }
    }
}

/// The fixed-size part of an [`ActorRow`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ActorFacts {
    /// Identifier.
    pub id: ActorId,
    /// Assigned categories.
    pub categories: CategorySet,
    /// Legal family.
    pub family: Family,
    /// Additional kinds.
    pub kinds: KindSet,
    /// Commune, INSEE code.
    pub commune: CommuneCode,
    /// Location.
    pub location: LonLat,
    /// Location precision.
    pub precision: GeocodePrecision,
    /// Demonstration data.
    pub demo: bool,
}

/// Actors on their way from the store to the index: fixed-size facts, and every name in two
/// arenas, escaped for JSON and folded for matching, both prepared while reading (a million
/// separate name strings cost time and fragment the heap).
#[derive(Debug, Default)]
pub struct ActorRows {
    facts: Vec<ActorFacts>,
    names: Names,
    folded: Names,
    /// Per actor, its opening hours in `schedules` (0: none or unparseable).
    hours: Vec<u32>,
    /// Distinct parsed opening hours; entry 0 is unused.
    schedules: Vec<Option<Schedule>>,
    interned: std::collections::HashMap<String, u32>,
    /// The most recent `updated_at` of the actors read (ISO 8601, UTC), if the store said.
    changed_at: Option<String>,
}

impl ActorRows {
    /// Room for `n` actors.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self {
            facts: Vec::with_capacity(n),
            names: Names::with_capacity(n, 28),
            folded: Names::with_capacity(n, 24),
            hours: Vec::with_capacity(n),
            ..Self::default()
        }
    }

    /// Adds an actor.
    pub fn push(&mut self, facts: ActorFacts, name: &str) {
        self.push_with_hours(facts, name, None);
    }

    /// Adds an actor with its OpenStreetMap `opening_hours` (distinct values are parsed once).
    pub fn push_with_hours(&mut self, facts: ActorFacts, name: &str, hours: Option<&str>) {
        self.facts.push(facts);
        self.names.push_json(name);
        self.folded.push_folded(name);
        let id = match hours.map(str::trim).filter(|h| !h.is_empty()) {
            None => 0,
            Some(text) => match self.interned.get(text) {
                Some(&id) => id,
                None => {
                    if self.schedules.is_empty() {
                        self.schedules.push(None);
                    }
                    let id = self.schedules.len() as u32;
                    self.schedules.push(Schedule::parse(text));
                    self.interned.insert(text.to_owned(), id);
                    id
                }
            },
        };
        self.hours.push(id);
    }

    /// Notes the time (ISO 8601 UTC, `YYYY-MM-DDTHH:MM:SSZ`) at which a read actor last
    /// changed; the index keeps the most recent.
    pub fn note_change(&mut self, updated_at: &str) {
        if self.changed_at.as_deref().is_none_or(|c| c < updated_at) {
            self.changed_at = Some(updated_at.to_owned());
        }
    }

    /// Number of actors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    /// Whether there is no actor.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }
}

impl FromIterator<ActorRow> for ActorRows {
    fn from_iter<I: IntoIterator<Item = ActorRow>>(iter: I) -> Self {
        let mut rows = Self::default();
        for r in iter {
            rows.push(r.facts(), &r.name);
        }
        rows
    }
}

impl From<Vec<ActorRow>> for ActorRows {
    fn from(rows: Vec<ActorRow>) -> Self {
        rows.into_iter().collect()
    }
}

/// A five-character commune code stored inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommuneCode([u8; 5]);

impl CommuneCode {
    /// The code, or `None` when it is not five ASCII characters.
    #[must_use]
    pub fn new(code: &str) -> Option<Self> {
        let bytes: [u8; 5] = code.as_bytes().try_into().ok()?;
        bytes.is_ascii().then_some(Self(bytes))
    }

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }
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
    /// Unit vector of `location`, the input of exact distances.
    unit: [f64; 3],
}

/// An `f32` box containing the `f64` box `[w, e] x [s, n]` after padding.
fn padded(w: f64, s: f64, e: f64, n: f64) -> Envelope {
    [
        (w - PAD_DEG) as f32,
        (s - PAD_DEG) as f32,
        (e + PAD_DEG) as f32,
        (n + PAD_DEG) as f32,
    ]
}

/// Boxes (one, or two across the antimeridian) containing every point within `metres` of
/// `centre` on the sphere.
fn cap_boxes(centre: LonLat, metres: f64) -> CapBoxes {
    let delta = metres / EARTH_RADIUS_M;
    let (lon, lat) = (centre.lon(), centre.lat());
    let dlat = delta.to_degrees();
    let (south, north) = (lat - dlat, lat + dlat);
    let cos_lat = lat.to_radians().cos();
    if north >= 90.0
        || south <= -90.0
        || delta.sin() >= cos_lat
        || delta >= std::f64::consts::FRAC_PI_2
    {
        return CapBoxes::one(padded(-180.0, south.max(-90.0), 180.0, north.min(90.0)));
    }
    let dlon = (delta.sin() / cos_lat).asin().to_degrees();
    let (west, east) = (lon - dlon, lon + dlon);
    if west < -180.0 {
        CapBoxes::two(
            padded(-180.0, south, east, north),
            padded(west + 360.0, south, 180.0, north),
        )
    } else if east > 180.0 {
        CapBoxes::two(
            padded(west, south, 180.0, north),
            padded(-180.0, south, east - 360.0, north),
        )
    } else {
        CapBoxes::one(padded(west, south, east, north))
    }
}

/// One or two boxes, without allocating.
struct CapBoxes {
    boxes: [Envelope; 2],
    len: usize,
}

impl CapBoxes {
    fn one(a: Envelope) -> Self {
        Self {
            boxes: [a, a],
            len: 1,
        }
    }
    fn two(a: Envelope, b: Envelope) -> Self {
        Self {
            boxes: [a, b],
            len: 2,
        }
    }
    fn iter(&self) -> impl Iterator<Item = &Envelope> {
        self.boxes[..self.len].iter()
    }
}

/// Position on a Hilbert curve of order 24 over lon/lat (cells of about 2 m), to store nearby
/// actors together.
fn hilbert_key(p: LonLat) -> u64 {
    const N: u64 = 1 << 24;
    let mut x = (((p.lon() + 180.0) / 360.0 * N as f64) as u64).min(N - 1);
    let mut y = (((p.lat() + 90.0) / 180.0 * N as f64) as u64).min(N - 1);
    let mut d = 0_u64;
    let mut s = N / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        if ry == 0 {
            if rx == 1 {
                x = N - 1 - x;
                y = N - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
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
    /// Only actors open at this moment (their opening hours, in their own time zone).
    pub open_at: Option<OpenAt>,
}

/// A moment, as the wall clock (weekday, Monday 0, and minute of the day) of every French time
/// zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenAt {
    clocks: [(usize, u16); 6],
}

impl OpenAt {
    /// The moment `unix_s` seconds after 1970-01-01 UTC.
    #[must_use]
    pub fn at(unix_s: i64) -> Self {
        Self {
            clocks: Zone::ALL.map(|z| z.wall_clock(unix_s)),
        }
    }

    /// Now.
    #[must_use]
    pub fn now() -> Self {
        let s = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        Self::at(s)
    }
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
    fn with_capacity(count: usize, mean_len: usize) -> Self {
        Self {
            text: String::with_capacity(count * mean_len),
            ends: Vec::with_capacity(count),
        }
    }

    fn heap_bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * size_of::<u32>()
    }

    /// Appends the folded form of `s` (see [`super::text::fold_into`]).
    fn push_folded(&mut self, s: &str) {
        super::text::fold_into(s, &mut self.text);
        self.ends.push(self.text.len() as u32);
    }

    /// Appends `s` as a JSON string literal, escaped in place (no temporary allocation).
    fn push_json(&mut self, s: &str) {
        use std::fmt::Write;
        self.text.push('"');
        if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            self.text.push_str(s);
            self.text.push('"');
            self.ends.push(self.text.len() as u32);
            return;
        }
        for c in s.chars() {
            match c {
                '"' => self.text.push_str("\\\""),
                '\\' => self.text.push_str("\\\\"),
                '\n' => self.text.push_str("\\n"),
                '\r' => self.text.push_str("\\r"),
                '\t' => self.text.push_str("\\t"),
                c if u32::from(c) < 0x20 => {
                    let _ = write!(self.text, "\\u{:04x}", u32::from(c));
                }
                c => self.text.push(c),
            }
        }
        self.text.push('"');
        self.ends.push(self.text.len() as u32);
    }

    /// The names `order[0]`, `order[1]`… in that order.
    fn permuted(&self, order: &[u32]) -> Self {
        let mut out = Self::with_capacity(0, 0);
        out.text.reserve_exact(self.text.len());
        out.ends.reserve_exact(order.len());
        for &i in order {
            out.text.push_str(self.get(i as usize));
            out.ends.push(out.text.len() as u32);
        }
        out
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
    /// Names as JSON string literals (quoted and escaped): responses copy them as they are.
    names: Names,
    folded: Names,
    /// Per position: schedule in `schedules` (low bits, 0 for none) and time zone (top bits).
    hours: Vec<u32>,
    schedules: Vec<Option<Schedule>>,
    /// Positions in id order (for lookups by id and id-ordered scans).
    by_id: Vec<ActorIdx>,
    tree: PackedTree,
    /// Web Mercator quadtree with per-cell aggregates, for tiles and view counts.
    pyramid: super::pyramid::Pyramid,
    member_start: Vec<u32>,
    members: Vec<ActorIdx>,
    category_counts: Vec<usize>,
    /// Number of actors flagged as demonstration data.
    demo_count: usize,
    /// When the most recently changed published actor changed (ISO 8601 UTC).
    changed_at: Option<String>,
}

impl ActorIndex {
    /// Builds the index. Rows need not be sorted; communes are resolved in `territories`; a
    /// duplicated id keeps its first row.
    #[must_use]
    pub fn build(rows: ActorRows, territories: &Territories, catalog: &Catalog) -> Self {
        let category_count = catalog.defs().len();
        let ActorRows {
            facts,
            names,
            folded,
            hours,
            schedules,
            interned: _,
            changed_at,
        } = rows;
        // Input positions in id order, the first of duplicated ids kept. The store gives
        // rows in id order already.
        let mut input_by_id: Vec<u32> = (0..facts.len() as u32).collect();
        if !facts.is_sorted_by_key(|r| r.id) {
            input_by_id.sort_by_key(|&i| facts[i as usize].id);
        }
        input_by_id.dedup_by_key(|i| facts[*i as usize].id);
        // Storage order: along the Hilbert curve, ties in id order.
        let mut keyed: Vec<(u64, u32)> = input_by_id
            .iter()
            .enumerate()
            .map(|(rank, &i)| (hilbert_key(facts[i as usize].location), rank as u32))
            .collect();
        keyed.sort_unstable();
        // by_id[rank] = position of the actor with the rank-th smallest id; slot[position] =
        // its input position (where its name is).
        let mut by_id: Vec<ActorIdx> = vec![0; keyed.len()];
        let mut slot: Vec<u32> = Vec::with_capacity(keyed.len());
        for (pos, &(_, rank)) in keyed.iter().enumerate() {
            by_id[rank as usize] = pos as ActorIdx;
            slot.push(input_by_id[rank as usize]);
        }
        drop((keyed, input_by_id));
        // Opening hours by position, with the time zone of the commune in the top bits.
        let hours: Vec<u32> = slot
            .iter()
            .map(|&i| {
                let zone = Zone::of_commune(facts[i as usize].commune.as_str());
                let zone = Zone::ALL.iter().position(|z| *z == zone).unwrap_or(0) as u32;
                (zone << HOURS_ZONE_SHIFT) | hours.get(i as usize).copied().unwrap_or(0)
            })
            .collect();
        // Names follow the storage order too, so the names of one answer sit together: on the
        // other core, while this one builds the entries.
        let ((names, folded), entries) = std::thread::scope(|scope| {
            let reorder = scope.spawn(|| (names.permuted(&slot), folded.permuted(&slot)));
            let entries = Self::entries(&facts, &slot, territories);
            (reorder.join().unwrap_or_default(), entries)
        });
        drop((facts, slot));

        // lineage[p]: category p and its ancestors, to count actors per subtree in one pass.
        let lineage: Vec<u64> = (0..category_count)
            .map(|p| {
                (0..category_count)
                    .filter(|&q| catalog.subtree(q).0 & (1 << p) != 0)
                    .fold(0, |m, q| m | (1 << q))
            })
            .collect();
        let mut category_counts = vec![0_usize; category_count];
        for e in &entries {
            let lineage_mask = e
                .categories
                .positions()
                .fold(0, |m, c| m | lineage.get(c).copied().unwrap_or(0));
            for c in CategorySet(lineage_mask).positions() {
                category_counts[c] += 1;
            }
        }
        // The quadtree on the other core, while this one builds the tree and the memberships.
        let (pyramid, (tree, member_start, members)) = std::thread::scope(|scope| {
            let pyramid = scope.spawn(|| {
                super::pyramid::Pyramid::build(entries.iter().enumerate().map(|(i, e)| {
                    (
                        i as ActorIdx,
                        [e.location.lon(), e.location.lat()],
                        item_key(e),
                    )
                }))
            });
            let rest = Self::tree_and_members(&entries, &by_id, territories);
            (pyramid.join().unwrap_or_default(), rest)
        });
        let demo_count = entries.iter().filter(|e| e.demo).count();

        Self {
            entries,
            names,
            folded,
            hours,
            schedules,
            by_id,
            tree,
            pyramid,
            member_start,
            members,
            category_counts,
            demo_count,
            changed_at,
        }
    }

    /// The packed tree, and for each territory its actors in id order (CSR layout).
    fn tree_and_members(
        entries: &[ActorEntry],
        by_id: &[ActorIdx],
        territories: &Territories,
    ) -> (PackedTree, Vec<u32>, Vec<ActorIdx>) {
        let tree = PackedTree::build(entries.iter().map(|e| (e_xy(e), item_key(e))));
        let mut counts = vec![0_u32; territories.len() + 1];
        for e in entries {
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
        for &i in by_id {
            let e = &entries[i as usize];
            if e.commune != NO_COMMUNE {
                for t in territories.chain(e.commune) {
                    members[fill[t as usize] as usize] = i;
                    fill[t as usize] += 1;
                }
            }
        }
        (tree, member_start, members)
    }

    /// The entries of the actors at `slot` positions of `facts`, communes resolved.
    fn entries(facts: &[ActorFacts], slot: &[u32], territories: &Territories) -> Vec<ActorEntry> {
        let mut last_commune: Option<(CommuneCode, TerritoryIdx)> = None;
        slot.iter()
            .map(|&i| {
                let r = &facts[i as usize];
                // Neighbours on the curve mostly share their commune: look it up once.
                let commune = match last_commune {
                    Some((code, idx)) if code == r.commune => idx,
                    _ => {
                        let idx = territories
                            .find(crate::domain::TerritoryKind::Commune, r.commune.as_str())
                            .unwrap_or(NO_COMMUNE);
                        last_commune = Some((r.commune, idx));
                        idx
                    }
                };
                ActorEntry {
                    id: r.id,
                    location: r.location,
                    categories: r.categories,
                    family: r.family,
                    kinds: r.kinds,
                    precision: r.precision,
                    demo: r.demo,
                    commune,
                    unit: unit_vector(r.location),
                }
            })
            .collect()
    }

    /// Number of actors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Number of actors flagged as demonstration data.
    #[must_use]
    pub fn demo_count(&self) -> usize {
        self.demo_count
    }

    /// When the most recently changed published actor last changed (ISO 8601 UTC,
    /// `YYYY-MM-DDTHH:MM:SSZ`); `None` for an empty index or rows that did not say.
    #[must_use]
    pub fn changed_at(&self) -> Option<&str> {
        self.changed_at.as_deref()
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

    /// The name of an actor.
    #[must_use]
    pub fn name(&self, idx: ActorIdx) -> String {
        serde_json::from_str(self.name_json(idx)).unwrap_or_default()
    }

    /// The name of an actor as a JSON string literal, ready to be copied into a response.
    #[must_use]
    pub fn name_json(&self, idx: ActorIdx) -> &str {
        self.names.get(idx as usize)
    }

    fn folded_name(&self, idx: ActorIdx) -> &str {
        self.folded.get(idx as usize)
    }

    /// Positions of all actors in id order.
    #[must_use]
    pub fn in_id_order(&self) -> &[ActorIdx] {
        &self.by_id
    }

    /// Finds an actor by id.
    #[must_use]
    pub fn find(&self, id: ActorId) -> Option<ActorIdx> {
        self.by_id
            .binary_search_by_key(&id, |&i| self.entries[i as usize].id)
            .ok()
            .map(|k| self.by_id[k])
    }

    /// Actors per category position, each counted once in a category and its ancestors.
    #[must_use]
    pub fn category_counts(&self) -> &[usize] {
        &self.category_counts
    }

    /// Exact great-circle distance in metres from a unit vector to an actor.
    #[must_use]
    pub fn distance_m(&self, from: &[f64; 3], idx: ActorIdx) -> f64 {
        unit_distance_m(from, &self.entries[idx as usize].unit)
    }

    /// Whether an actor passes a filter.
    #[must_use]
    pub fn matches(&self, idx: ActorIdx, f: &ActorFilter, territories: &Territories) -> bool {
        let e = &self.entries[idx as usize];
        if (f.exclude_demo && e.demo)
            || f.categories.is_some_and(|c| !c.intersects(e.categories))
            || f.families.is_some_and(|fam| !fam.contains(e.family))
            || !e.kinds.contains_all(f.kinds)
        {
            return false;
        }
        if !f
            .territories
            .iter()
            .all(|&t| e.commune != NO_COMMUNE && territories.commune_in(e.commune, t))
        {
            return false;
        }
        f.text
            .as_ref()
            .is_none_or(|t| self.folded_name(idx).contains(t.as_str()))
            && f.open_at.is_none_or(|at| self.is_open(idx, &at))
    }

    /// The part of a filter the tree prunes with: exact on an actor's own [`ItemKey`].
    #[must_use]
    pub fn key_filter(f: &ActorFilter) -> KeyFilter {
        KeyFilter {
            any_category: f.categories.map(|c| c.0),
            any_family: f.families.map(|s| u16::from(s.0)),
            all_attrs: if f.exclude_demo { attr::NOT_DEMO } else { 0 }
                | (u16::from(f.kinds.0) << attr::KIND_SHIFT),
        }
    }

    /// The part of `f` its keys do not decide (territories, text, opening hours), prepared
    /// for checking many actors: opening hours are evaluated once per distinct schedule and
    /// time zone, not once per actor.
    #[must_use]
    pub fn rest_check<'a>(
        &'a self,
        f: &'a ActorFilter,
        territories: &'a Territories,
    ) -> RestCheck<'a> {
        let open = f.open_at.map(|at| {
            let per_zone = self.schedules.len().max(1);
            let mut table = vec![false; per_zone * Zone::ALL.len()];
            for (zone, clock) in at.clocks.iter().enumerate() {
                for (i, s) in self.schedules.iter().enumerate() {
                    table[zone * per_zone + i] =
                        s.as_ref().is_some_and(|s| s.is_open(clock.0, clock.1));
                }
            }
            (table, per_zone)
        });
        RestCheck {
            index: self,
            filter: f,
            territories,
            open,
        }
    }

    /// Whether the actor's opening hours say it is open at `at`, in its time zone (unknown
    /// or unparseable hours: not open).
    #[must_use]
    pub fn is_open(&self, idx: ActorIdx, at: &OpenAt) -> bool {
        let h = self.hours.get(idx as usize).copied().unwrap_or(0);
        let schedule = (h & ((1 << HOURS_ZONE_SHIFT) - 1)) as usize;
        let zone = (h >> HOURS_ZONE_SHIFT) as usize;
        let (day, minute) = at.clocks.get(zone).copied().unwrap_or(at.clocks[0]);
        self.schedules
            .get(schedule)
            .and_then(Option::as_ref)
            .is_some_and(|s| s.is_open(day, minute))
    }

    /// Heap bytes held by the index (entries, names, tree, lookup tables).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * size_of::<ActorEntry>()
            + self.names.heap_bytes()
            + self.folded.heap_bytes()
            + (self.by_id.capacity() + self.hours.capacity()) * size_of::<u32>()
            + self.tree.heap_bytes()
            + self.pyramid.heap_bytes()
            + (self.member_start.capacity() + self.members.capacity()) * size_of::<u32>()
            + self.category_counts.capacity() * size_of::<usize>()
    }

    /// Orders positions by id.
    fn sort_by_id(&self, idxs: &mut [ActorIdx]) {
        idxs.sort_unstable_by_key(|&i| self.entries[i as usize].id);
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
        self.within_metres(centre, radius.metres(), f, t)
    }

    fn within_metres(
        &self,
        centre: LonLat,
        metres: f64,
        f: &ActorFilter,
        t: &Territories,
    ) -> Vec<Hit> {
        let mut found = self.collect_within(centre, metres, f, t);
        found.sort_unstable_by(by_distance_then_id);
        Self::hits(found)
    }

    /// Actors within `metres` of `centre`, unordered, each once, as (distance, id, position).
    fn collect_within(
        &self,
        centre: LonLat,
        metres: f64,
        f: &ActorFilter,
        t: &Territories,
    ) -> Vec<(f64, ActorId, ActorIdx)> {
        let u = unit_vector(centre);
        let keys = Self::key_filter(f);
        let rest = Self::has_rest(f).then(|| self.rest_check(f, t));
        let mut found: Vec<(f64, ActorId, ActorIdx)> = Vec::with_capacity(128);
        let boxes = cap_boxes(centre, metres);
        for (b, env) in boxes.iter().enumerate() {
            self.tree.visit(env, &keys, &mut |idx| {
                let e = &self.entries[idx as usize];
                // Across the antimeridian, an actor inside the first box is not taken again
                // from the second.
                if b == 1 && packed::contains(&boxes.boxes[0], e_xy(e)) {
                    return;
                }
                let d = unit_distance_m(&u, &e.unit);
                if d <= metres && rest.as_ref().is_none_or(|r| r.passes(idx)) {
                    found.push((d, e.id, idx));
                }
            });
        }
        found
    }

    fn hits(found: Vec<(f64, ActorId, ActorIdx)>) -> Vec<Hit> {
        found
            .into_iter()
            .map(|(d, _, idx)| Hit {
                idx,
                distance_m: Some(d),
            })
            .collect()
    }

    /// The `k` nearest actors to `centre`, nearest first, ties by id, at most `max_distance` away.
    ///
    /// Radius queries of growing radius, the growth guided by the density seen so far: exact,
    /// because once `k` actors lie within `r`, any actor beyond `r` is farther than all of them.
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
        let cap = max_distance.map_or(HALF_TURN_M, |m| m.metres().min(HALF_TURN_M));
        // Start small: in a dense city 100 m already holds dozens of actors, and each round
        // grows the radius from the density it saw.
        let mut r = 100.0_f64.min(cap);
        loop {
            let mut found = self.collect_within(centre, r, f, t);
            if found.len() >= k || r >= cap {
                // Only the k nearest need sorting.
                if found.len() > k {
                    found.select_nth_unstable_by(k - 1, by_distance_then_id);
                    found.truncate(k);
                }
                found.sort_unstable_by(by_distance_then_id);
                return Self::hits(found);
            }
            // Area grows with r²: aim for about twice the needed count.
            let factor = (2.0 * k as f64 / found.len().max(1) as f64)
                .sqrt()
                .clamp(1.5, 10.0);
            r = (r * factor).min(cap);
        }
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
        let env = padded(bbox.west, bbox.south, bbox.east, bbox.north);
        let keys = Self::key_filter(f);
        let rest = Self::has_rest(f).then(|| self.rest_check(f, t));
        let mut out = Vec::new();
        self.tree.visit(&env, &keys, &mut |idx| {
            if keep(self.entries[idx as usize].location)
                && rest.as_ref().is_none_or(|r| r.passes(idx))
            {
                out.push(idx);
            }
        });
        self.sort_by_id(&mut out);
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
        self.members_of(territory)
            .iter()
            .copied()
            .filter(|&a| self.matches(a, f, t))
            .collect()
    }

    fn members_of(&self, territory: TerritoryIdx) -> &[ActorIdx] {
        let i = territory as usize;
        match (self.member_start.get(i), self.member_start.get(i + 1)) {
            (Some(&from), Some(&to)) => &self.members[from as usize..to as usize],
            _ => &[],
        }
    }

    /// Number of actors of a territory, without filters.
    #[must_use]
    pub fn territory_size(&self, territory: TerritoryIdx) -> usize {
        self.members_of(territory).len()
    }

    /// The Web Mercator quadtree of the actors (tiles, view counts).
    #[must_use]
    pub fn pyramid(&self) -> &super::pyramid::Pyramid {
        &self.pyramid
    }

    /// The filter keys of an actor.
    #[must_use]
    pub fn key(&self, idx: ActorIdx) -> ItemKey {
        item_key(&self.entries[idx as usize])
    }

    /// Whether a filter has a part its keys do not decide (territories, text, opening hours),
    /// which must be checked actor by actor.
    #[must_use]
    pub fn has_rest(f: &ActorFilter) -> bool {
        !f.territories.is_empty() || f.text.is_some() || f.open_at.is_some()
    }

    /// For each key of the [`pyramid`](Self::pyramid), its class under `f`:
    /// [`super::pyramid::OUT`] when the key part of `f` leaves it out, `class_of(key)` otherwise.
    #[must_use]
    pub fn classes(&self, f: &ActorFilter, class_of: impl Fn(ItemKey) -> u8) -> Vec<u8> {
        let keys = Self::key_filter(f);
        self.pyramid
            .keys()
            .iter()
            .map(|&k| {
                if keys.admits(k) {
                    class_of(k)
                } else {
                    super::pyramid::OUT
                }
            })
            .collect()
    }

    /// How many actors of each filter key lie in a box (every actor without one) and pass
    /// the part of `f` keys do not decide; the key part of `f` is not applied, so that counts
    /// under any change of category, family, kind or demonstration filter follow from one
    /// answer. Without such a part, read from the quadtree's aggregates at the cost of the
    /// cells the box touches; otherwise by the actors passing it.
    #[must_use]
    pub fn key_histogram(
        &self,
        bbox: Option<&Bbox>,
        f: &ActorFilter,
        t: &Territories,
    ) -> Vec<(ItemKey, u32)> {
        let inside =
            |i: ActorIdx| bbox.is_none_or(|b| b.contains(self.entries[i as usize].location));
        let bounds = bbox.map(|b| [b.west, b.south, b.east, b.north]);
        let counts = if Self::has_rest(f) {
            let check = self.rest_check(f, t);
            let passes = |i: ActorIdx| check.passes(i);
            let rest = super::pyramid::Check {
                passes: &passes,
                within: check.within(),
            };
            self.pyramid.key_counts(bounds, &inside, Some(&rest))
        } else {
            self.pyramid.key_counts(bounds, &inside, None)
        };
        counts
            .into_iter()
            .zip(self.pyramid.keys())
            .filter(|(n, _)| *n > 0)
            .map(|(n, k)| (*k, n))
            .collect()
    }

    /// Every actor passing the filter, in id order (no spatial constraint).
    #[must_use]
    pub fn filtered(&self, f: &ActorFilter, t: &Territories) -> Vec<ActorIdx> {
        if let Some(&first) = f.territories.first() {
            return self.in_territory(first, f, t);
        }
        self.by_id
            .iter()
            .copied()
            .filter(|&i| self.matches(i, f, t))
            .collect()
    }
}

/// The part of a filter its keys do not decide, ready to check actors (see
/// [`ActorIndex::rest_check`]).
#[derive(Debug)]
pub struct RestCheck<'a> {
    index: &'a ActorIndex,
    filter: &'a ActorFilter,
    territories: &'a Territories,
    /// Whether each schedule is open, per time zone, and the number of schedules.
    open: Option<(Vec<bool>, usize)>,
}

impl RestCheck<'_> {
    /// A box outside which no actor passes, when the filter asks for territories: the box of
    /// the actors they hold (membership is by commune, so it is read from the actors, not from
    /// the outlines), `[west, south, east, north]` in degrees.
    #[must_use]
    pub fn within(&self) -> Option<[f64; 4]> {
        let mut out: Option<[f64; 4]> = None;
        for &t in &self.filter.territories {
            let mut b = [
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ];
            for &i in self.index.members_of(t) {
                let p = self.index.entries[i as usize].location;
                b = [
                    b[0].min(p.lon()),
                    b[1].min(p.lat()),
                    b[2].max(p.lon()),
                    b[3].max(p.lat()),
                ];
            }
            if b[0] > b[2] {
                // No actor: any point will do, as none passes.
                b = [0.0, 0.0, 0.0, 0.0];
            }
            out = Some(match out {
                None => b,
                Some(o) => [
                    o[0].max(b[0]),
                    o[1].max(b[1]),
                    o[2].min(b[2]),
                    o[3].min(b[3]),
                ],
            });
        }
        // Territories with no actor in common: any point will do.
        out.map(|o| {
            if o[0] > o[2] || o[1] > o[3] {
                [0.0; 4]
            } else {
                o
            }
        })
    }

    /// Whether the actor passes.
    #[must_use]
    pub fn passes(&self, idx: ActorIdx) -> bool {
        let ix = self.index;
        let e = &ix.entries[idx as usize];
        let f = self.filter;
        if !f
            .territories
            .iter()
            .all(|&t| e.commune != NO_COMMUNE && self.territories.commune_in(e.commune, t))
        {
            return false;
        }
        if let Some((table, per_zone)) = &self.open {
            let h = ix.hours.get(idx as usize).copied().unwrap_or(0);
            let schedule = (h & ((1 << HOURS_ZONE_SHIFT) - 1)) as usize;
            let zone = (h >> HOURS_ZONE_SHIFT) as usize;
            if !table
                .get(zone * per_zone + schedule)
                .copied()
                .unwrap_or(false)
            {
                return false;
            }
        }
        f.text
            .as_ref()
            .is_none_or(|t| ix.folded_name(idx).contains(t.as_str()))
    }
}

/// Orders found actors by distance, then id.
fn by_distance_then_id(
    a: &(f64, ActorId, ActorIdx),
    b: &(f64, ActorId, ActorIdx),
) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// The position of an actor as stored in the tree.
fn e_xy(e: &ActorEntry) -> [f32; 2] {
    [e.location.lon() as f32, e.location.lat() as f32]
}

/// The filter keys of an actor.
fn item_key(e: &ActorEntry) -> ItemKey {
    ItemKey {
        categories: e.categories.0,
        attrs: u16::from(FamilySet::of(e.family).0)
            | if e.demo { 0 } else { attr::NOT_DEMO }
            | (u16::from(e.kinds.0) << attr::KIND_SHIFT),
    }
}

#[cfg(test)]
mod tests {
    use super::Names;

    #[test]
    fn names_are_stored_as_json_literals_that_parse_back() {
        let mut names = Names::default();
        for s in [
            "La Ruche – Épicerie (démo)",
            "Le \"Quai\" \\ 2",
            "tab\there\u{1}",
        ] {
            names.push_json(s);
        }
        for (i, s) in [
            "La Ruche – Épicerie (démo)",
            "Le \"Quai\" \\ 2",
            "tab\there\u{1}",
        ]
        .iter()
        .enumerate()
        {
            let back: String = serde_json::from_str(names.get(i)).expect("valid JSON");
            assert_eq!(&back, s);
        }
    }
}
