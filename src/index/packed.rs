//! A static packed R-tree over points, with filter summaries in every node.
//!
//! Points are given in their storage order (the actor index sorts them along a Hilbert curve
//! first, so consecutive points are close); leaves are runs of [`NODE`] consecutive points and
//! every level above groups [`NODE`] consecutive nodes, so the tree is a few flat arrays built in
//! one linear pass, without pointers. Each node also holds the union of its points' category
//! bitmasks and attribute bits, so a query filtered by category, family, kind or demonstration
//! flag skips whole subtrees where nothing can match: one tree serves every filter.
//!
//! Compared with `rstar`'s bulk-loaded tree of the same points (kept for territory polygons,
//! which need its general envelopes), this tree builds in a linear pass instead of recursive
//! partitioning, needs no per-category copies for filtered queries, and queries walk contiguous
//! memory. Measured on a million actors by `cargo bench --bench index` (README).

/// Children per node.
pub const NODE: usize = 16;

/// Attribute bits of an item (see [`ItemKey`]).
pub mod attr {
    /// Bits 0–7: the family, as one bit of `FamilySet`.
    pub const FAMILY: u16 = 0x00ff;
    /// Bit 8: the item is not demonstration data.
    pub const NOT_DEMO: u16 = 1 << 8;
    /// Bits 9–15: the kinds, `KindSet` shifted left by this amount.
    pub const KIND_SHIFT: u16 = 9;
}

/// What the tree knows of an item besides its position: filter keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ItemKey {
    /// Category bitmask (`CategorySet`).
    pub categories: u64,
    /// Attribute bits ([`attr`]).
    pub attrs: u16,
}

/// A filter on [`ItemKey`]s; applied to node unions it is a necessary condition, so pruning with
/// it never loses a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFilter {
    /// Some category bit must be set, when given.
    pub any_category: Option<u64>,
    /// Some of these family bits must be set, when given.
    pub any_family: Option<u16>,
    /// All these attribute bits must be set.
    pub all_attrs: u16,
}

impl KeyFilter {
    /// The filter every key passes.
    pub const ANY: Self = Self {
        any_category: None,
        any_family: None,
        all_attrs: 0,
    };

    /// Whether a key (or the union of a node's keys) can match.
    #[inline]
    #[must_use]
    pub fn admits(&self, k: ItemKey) -> bool {
        self.any_category.is_none_or(|c| c & k.categories != 0)
            && self.any_family.is_none_or(|f| f & k.attrs != 0)
            && k.attrs & self.all_attrs == self.all_attrs
    }
}

/// An axis-aligned box in `f32` lon/lat: `[west, south, east, north]`, edges included.
pub type Envelope = [f32; 4];

#[derive(Debug, Clone, Copy)]
struct Item {
    xy: [f32; 2],
    key: ItemKey,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    env: Envelope,
    key: ItemKey,
}

/// The tree. Item `i` is the `i`-th point given to [`PackedTree::build`].
#[derive(Debug, Default)]
pub struct PackedTree {
    items: Vec<Item>,
    nodes: Vec<Node>,
    /// `(start, count)` in `nodes` of each level, leaves (level 1) first; the last has one node.
    levels: Vec<(usize, usize)>,
}

/// Whether `p` lies in `e`, edges included.
#[inline]
#[must_use]
pub fn contains(e: &Envelope, p: [f32; 2]) -> bool {
    e[0] <= p[0] && p[0] <= e[2] && e[1] <= p[1] && p[1] <= e[3]
}

#[inline]
fn intersects(a: &Envelope, b: &Envelope) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

fn union(parts: impl Iterator<Item = (Envelope, ItemKey)>) -> Node {
    let mut env = [
        f32::INFINITY,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NEG_INFINITY,
    ];
    let mut key = ItemKey::default();
    for (e, k) in parts {
        env = [
            env[0].min(e[0]),
            env[1].min(e[1]),
            env[2].max(e[2]),
            env[3].max(e[3]),
        ];
        key.categories |= k.categories;
        key.attrs |= k.attrs;
    }
    Node { env, key }
}

impl PackedTree {
    /// Builds the tree over points `[lon, lat]` with their keys, in one linear pass.
    #[must_use]
    pub fn build(points: impl ExactSizeIterator<Item = ([f32; 2], ItemKey)>) -> Self {
        let items: Vec<Item> = points.map(|(xy, key)| Item { xy, key }).collect();
        let mut nodes: Vec<Node> = Vec::with_capacity(items.len() / (NODE - 1) + 2);
        let mut levels = Vec::new();
        if !items.is_empty() {
            for chunk in items.chunks(NODE) {
                nodes.push(union(
                    chunk
                        .iter()
                        .map(|it| ([it.xy[0], it.xy[1], it.xy[0], it.xy[1]], it.key)),
                ));
            }
            levels.push((0, nodes.len()));
            while let Some(&(start, count)) = levels.last() {
                if count <= 1 {
                    break;
                }
                let next_start = nodes.len();
                for c in (start..start + count).step_by(NODE) {
                    let end = (c + NODE).min(start + count);
                    let parent = union(nodes[c..end].iter().map(|n| (n.env, n.key)));
                    nodes.push(parent);
                }
                levels.push((next_start, nodes.len() - next_start));
            }
        }
        Self {
            items,
            nodes,
            levels,
        }
    }

    /// Number of items.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the tree holds no item.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Heap bytes held by the tree.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.items.capacity() * size_of::<Item>()
            + self.nodes.capacity() * size_of::<Node>()
            + self.levels.capacity() * size_of::<(usize, usize)>()
    }

    /// Calls `found` with every item inside `env` (edges included) whose key passes `filter`,
    /// in storage order.
    pub fn visit(&self, env: &Envelope, filter: &KeyFilter, found: &mut impl FnMut(u32)) {
        let Some(&(root, _)) = self.levels.last() else {
            return;
        };
        let node = &self.nodes[root];
        if intersects(&node.env, env) && filter.admits(node.key) {
            self.visit_children(self.levels.len() - 1, 0, env, filter, found);
        }
    }

    /// Visits the children of node `j` of level `level` (0 = leaves).
    fn visit_children(
        &self,
        level: usize,
        j: usize,
        env: &Envelope,
        filter: &KeyFilter,
        found: &mut impl FnMut(u32),
    ) {
        let lo = j * NODE;
        if level == 0 {
            let hi = (lo + NODE).min(self.items.len());
            for (i, it) in self.items[lo..hi].iter().enumerate() {
                if contains(env, it.xy) && filter.admits(it.key) {
                    found((lo + i) as u32);
                }
            }
            return;
        }
        let (start, count) = self.levels[level - 1];
        let hi = (lo + NODE).min(count);
        for c in lo..hi {
            let node = &self.nodes[start + c];
            if intersects(&node.env, env) && filter.admits(node.key) {
                self.visit_children(level - 1, c, env, filter, found);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(categories: u64, attrs: u16) -> ItemKey {
        ItemKey { categories, attrs }
    }

    #[test]
    fn visits_exactly_the_points_inside_that_pass_the_filter() {
        // A 40 x 40 grid, keys varying with the position.
        let pts: Vec<([f32; 2], ItemKey)> = (0..1600)
            .map(|i| {
                let (x, y) = ((i % 40) as f32, (i / 40) as f32);
                ([x, y], key(1 << (i % 5), 1 << (i % 3)))
            })
            .collect();
        let tree = PackedTree::build(pts.iter().copied());
        assert_eq!(tree.len(), 1600);
        let env = [3.0, 4.5, 17.0, 30.0];
        let filters = [
            KeyFilter::ANY,
            KeyFilter {
                any_category: Some(0b10010),
                any_family: None,
                all_attrs: 0,
            },
            KeyFilter {
                any_category: None,
                any_family: Some(0b100),
                all_attrs: 0,
            },
            KeyFilter {
                any_category: Some(1),
                any_family: None,
                all_attrs: 0b10,
            },
            KeyFilter {
                any_category: Some(0),
                any_family: None,
                all_attrs: 0,
            },
        ];
        for f in filters {
            let mut got = Vec::new();
            tree.visit(&env, &f, &mut |i| got.push(i));
            let want: Vec<u32> = (0..pts.len() as u32)
                .filter(|&i| {
                    let (p, k) = pts[i as usize];
                    contains(&env, p) && f.admits(k)
                })
                .collect();
            assert_eq!(got, want, "filter {f:?}");
        }
        // The unfiltered answer is the whole sub-grid: 15 columns x 26 rows, edges included.
        let mut n = 0;
        tree.visit(&env, &KeyFilter::ANY, &mut |_| n += 1);
        assert_eq!(n, 15 * 26);
    }

    #[test]
    fn empty_and_tiny_trees_answer() {
        let empty = PackedTree::build(std::iter::empty());
        let mut n = 0;
        empty.visit(&[-180.0, -90.0, 180.0, 90.0], &KeyFilter::ANY, &mut |_| {
            n += 1
        });
        assert_eq!(n, 0);
        for size in [1_usize, 2, 15, 16, 17, 255, 256, 257, 4097] {
            let tree = PackedTree::build((0..size).map(|i| ([i as f32, 0.0], key(1, 0))));
            let mut got = Vec::new();
            tree.visit(&[-1.0, -1.0, 1e6, 1.0], &KeyFilter::ANY, &mut |i| {
                got.push(i)
            });
            assert_eq!(got, (0..size as u32).collect::<Vec<_>>(), "size {size}");
        }
    }
}
