//! Reference territories in memory: lookup by code, parent chains, reverse geocoding and
//! name/postcode search.

use super::pip::PolygonIndex;
use super::text::{fold, fold_query};
use crate::domain::territory::TerritoryRecord;
use crate::domain::{Bbox, LonLat, TerritoryKind};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};
use std::collections::HashMap;

/// Index of a territory in [`Territories`].
pub type TerritoryIdx = u32;

/// A territory with its parents resolved to indices.
#[derive(Debug)]
pub struct Territory {
    /// The reference record (geometry included).
    pub record: TerritoryRecord,
    /// Kind, duplicated from the record for convenience.
    pub kind: TerritoryKind,
    /// EPCI of a commune.
    pub epci: Option<TerritoryIdx>,
    /// Département of a commune or EPCI, itself for a département.
    pub departement: Option<TerritoryIdx>,
    /// Région of a commune, EPCI or département, itself for a région.
    pub region: Option<TerritoryIdx>,
    /// Folded name for search.
    folded: String,
}

impl Territory {
    /// The representative point, when known.
    #[must_use]
    pub fn point(&self) -> Option<LonLat> {
        self.record
            .point
            .and_then(|[lon, lat]| LonLat::new(lon, lat).ok())
    }
}

/// A search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TerritoryMatch {
    /// Which territory.
    pub idx: TerritoryIdx,
    /// Relevance, higher is better.
    pub score: u32,
    /// What the query matched, so that a suggestion can say why it is there.
    pub matched: MatchedOn,
}

/// The part of a territory a search query matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedOn {
    /// Its name: whole, as a prefix, a word prefix or a substring.
    Name,
    /// One of its postcodes (a five-digit query; communes only).
    Postcode,
    /// Its official code: INSEE code of a commune, département or région, SIREN of an EPCI.
    Code,
}

impl MatchedOn {
    /// The API spelling: `name`, `postcode` or `code`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::Postcode => "postcode",
            Self::Code => "code",
        }
    }
}

/// Why reference territories could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum TerritoryError {
    /// A parent code names no known territory.
    #[error("{kind} {code} names {parent_kind} '{parent}', which is not in the reference data")]
    UnknownParent {
        /// Child kind.
        kind: TerritoryKind,
        /// Child code.
        code: String,
        /// Parent kind.
        parent_kind: TerritoryKind,
        /// Parent code.
        parent: String,
    },
    /// A code appears twice.
    #[error("{0} {1} appears twice in the reference data")]
    Duplicate(TerritoryKind, String),
}

/// All reference territories.
pub struct Territories {
    items: Vec<Territory>,
    by_code: [HashMap<String, TerritoryIdx>; 4],
    by_postcode: HashMap<String, Vec<TerritoryIdx>>,
    commune_tree: RTree<GeomWithData<Rectangle<[f64; 2]>, TerritoryIdx>>,
    commune_shapes: HashMap<TerritoryIdx, PolygonIndex>,
    /// `{"code":…,"name":…}` of every territory, written once and copied into responses.
    json_refs: Vec<Box<str>>,
}

impl std::fmt::Debug for Territories {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Territories")
            .field("count", &self.items.len())
            .finish_non_exhaustive()
    }
}

impl Territories {
    /// Assembles territories, resolving parent codes.
    ///
    /// # Errors
    /// On duplicate codes or parents that do not exist.
    pub fn new(mut records: Vec<TerritoryRecord>) -> Result<Self, TerritoryError> {
        records.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));
        let mut by_code: [HashMap<String, TerritoryIdx>; 4] = Default::default();
        for (i, r) in records.iter().enumerate() {
            if by_code[r.kind as usize]
                .insert(r.code.clone(), i as TerritoryIdx)
                .is_some()
            {
                return Err(TerritoryError::Duplicate(r.kind, r.code.clone()));
            }
        }
        let resolve = |r: &TerritoryRecord,
                       kind: TerritoryKind,
                       code: &Option<String>|
         -> Result<Option<TerritoryIdx>, TerritoryError> {
            match code {
                None => Ok(None),
                Some(c) => by_code[kind as usize]
                    .get(c.as_str())
                    .copied()
                    .map(Some)
                    .ok_or_else(|| TerritoryError::UnknownParent {
                        kind: r.kind,
                        code: r.code.clone(),
                        parent_kind: kind,
                        parent: c.clone(),
                    }),
            }
        };
        let mut items = Vec::with_capacity(records.len());
        let mut by_postcode: HashMap<String, Vec<TerritoryIdx>> = HashMap::new();
        let mut rects = Vec::new();
        let mut commune_shapes = HashMap::new();
        for (i, r) in records.into_iter().enumerate() {
            let i = i as TerritoryIdx;
            let epci = if r.kind == TerritoryKind::Commune {
                resolve(&r, TerritoryKind::Epci, &r.epci)?
            } else {
                None
            };
            let departement = resolve(&r, TerritoryKind::Departement, &r.departement)?;
            let region = resolve(&r, TerritoryKind::Region, &r.region)?;
            if r.kind == TerritoryKind::Commune {
                for pc in &r.postcodes {
                    by_postcode.entry(pc.clone()).or_default().push(i);
                }
                if let Some(shape) = &r.geometry {
                    let pip = PolygonIndex::new(shape);
                    let b = pip.bbox();
                    rects.push(GeomWithData::new(
                        Rectangle::from_corners([b.west, b.south], [b.east, b.north]),
                        i,
                    ));
                    commune_shapes.insert(i, pip);
                }
            }
            items.push(Territory {
                kind: r.kind,
                folded: fold(&r.name),
                record: r,
                epci,
                departement,
                region,
            });
        }
        let json_refs = items
            .iter()
            .map(|t| {
                serde_json::json!({"code": t.record.code, "name": t.record.name})
                    .to_string()
                    .into_boxed_str()
            })
            .collect();
        Ok(Self {
            items,
            by_code,
            by_postcode,
            commune_tree: RTree::bulk_load(rects),
            commune_shapes,
            json_refs,
        })
    }

    /// Number of territories of all kinds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of territories of one kind.
    #[must_use]
    pub fn count(&self, kind: TerritoryKind) -> usize {
        self.items.iter().filter(|t| t.kind == kind).count()
    }

    /// The territory at an index.
    #[must_use]
    pub fn get(&self, idx: TerritoryIdx) -> Option<&Territory> {
        self.items.get(idx as usize)
    }

    /// All territories, sorted by kind then code.
    #[must_use]
    pub fn all(&self) -> &[Territory] {
        &self.items
    }

    /// The JSON object `{"code":…,"name":…}` naming a territory (`null` when unknown).
    #[must_use]
    pub fn json_ref(&self, idx: TerritoryIdx) -> &str {
        self.json_refs.get(idx as usize).map_or("null", |s| s)
    }

    /// Looks a territory up by kind and official code.
    #[must_use]
    pub fn find(&self, kind: TerritoryKind, code: &str) -> Option<TerritoryIdx> {
        self.by_code[kind as usize].get(code).copied()
    }

    /// Whether commune `commune` lies in territory `t` (itself or one of its parents).
    #[must_use]
    pub fn commune_in(&self, commune: TerritoryIdx, t: TerritoryIdx) -> bool {
        if commune == t {
            return true;
        }
        self.get(commune)
            .is_some_and(|c| c.epci == Some(t) || c.departement == Some(t) || c.region == Some(t))
    }

    /// The parent chain of a commune: itself, EPCI, département, région (those that exist).
    pub fn chain(&self, commune: TerritoryIdx) -> impl Iterator<Item = TerritoryIdx> + '_ {
        let c = self.get(commune);
        std::iter::once(c.map(|_| commune))
            .chain([
                c.and_then(|c| c.epci),
                c.and_then(|c| c.departement),
                c.and_then(|c| c.region),
            ])
            .flatten()
    }

    /// Communes (and other territories) that use a postcode, in reference order.
    #[must_use]
    pub fn with_postcode(&self, postcode: &str) -> &[TerritoryIdx] {
        self.by_postcode.get(postcode).map_or(&[], Vec::as_slice)
    }

    /// The accent- and case-folded name of a territory (empty for an unknown index).
    #[must_use]
    pub fn folded_name(&self, idx: TerritoryIdx) -> &str {
        self.items
            .get(idx as usize)
            .map_or("", |t| t.folded.as_str())
    }

    /// The commune whose polygon covers the point (boundary included; the lowest code wins on a
    /// shared border).
    #[must_use]
    pub fn commune_at(&self, p: LonLat) -> Option<TerritoryIdx> {
        let env = AABB::from_point([p.lon(), p.lat()]);
        self.commune_tree
            .locate_in_envelope_intersecting(&env)
            .map(|g| g.data)
            .filter(|i| self.commune_shapes.get(i).is_some_and(|s| s.covers(p)))
            .min()
    }

    /// Whether a commune's polygon covers the point (`None` when the commune has no polygon).
    #[must_use]
    pub fn commune_covers(&self, commune: TerritoryIdx, p: LonLat) -> Option<bool> {
        self.commune_shapes.get(&commune).map(|s| s.covers(p))
    }

    /// The prepared polygon of a commune.
    #[must_use]
    pub fn commune_shape(&self, commune: TerritoryIdx) -> Option<&PolygonIndex> {
        self.commune_shapes.get(&commune)
    }

    /// Searches names (accent- and case-insensitive), postcodes and codes; best first.
    ///
    /// Ranking: exact name, then (for five digits) the communes using that postcode before the
    /// territory whose code it is (« 44150 » is Ancenis-Saint-Géréon's postcode before
    /// Saint-Aignan-Grandlieu's INSEE code), then exact code, name prefix, a word of the name
    /// starting with the query, a substring; ties go to the larger population, then the larger
    /// level. A territory matched several ways appears once, with its best reason.
    #[must_use]
    pub fn search(
        &self,
        query: &str,
        kinds: &[TerritoryKind],
        limit: usize,
    ) -> Vec<TerritoryMatch> {
        let q = fold_query(query);
        if q.is_empty() {
            return Vec::new();
        }
        let allowed = |t: &Territory| kinds.is_empty() || kinds.contains(&t.kind);
        let mut out: Vec<TerritoryMatch> = Vec::new();
        let compact = q.replace(' ', "");
        if compact.len() == 5 && compact.bytes().all(|b| b.is_ascii_digit()) {
            for &i in self.by_postcode.get(&compact).into_iter().flatten() {
                out.push(TerritoryMatch {
                    idx: i,
                    score: 97,
                    matched: MatchedOn::Postcode,
                });
            }
        }
        let upper = compact.to_ascii_uppercase();
        for (i, t) in self.items.iter().enumerate() {
            if !allowed(t) {
                continue;
            }
            let (score, matched) = if t.folded == q {
                (100, MatchedOn::Name)
            } else if t.record.code == upper {
                (95, MatchedOn::Code)
            } else if t.folded.starts_with(&q) {
                (80, MatchedOn::Name)
            } else if t.folded.split(' ').any(|w| w.starts_with(&q))
                || t.folded.contains(&format!(" {q}"))
            {
                (60, MatchedOn::Name)
            } else if q.len() >= 3 && t.folded.contains(&q) {
                (40, MatchedOn::Name)
            } else {
                continue;
            };
            out.push(TerritoryMatch {
                idx: i as TerritoryIdx,
                score,
                matched,
            });
        }
        out.retain(|m| self.get(m.idx).is_some_and(allowed));
        // Best reason of each territory first, so that the dedup keeps it.
        out.sort_by(|a, b| a.idx.cmp(&b.idx).then(b.score.cmp(&a.score)));
        out.dedup_by_key(|m| m.idx);
        out.sort_by(|a, b| {
            let (ta, tb) = (&self.items[a.idx as usize], &self.items[b.idx as usize]);
            b.score
                .cmp(&a.score)
                .then(tb.record.population.cmp(&ta.record.population))
                .then(tb.kind.cmp(&ta.kind))
                .then(a.idx.cmp(&b.idx))
        });
        out.truncate(limit);
        out
    }

    /// Bounding box of a territory's polygon and point, `None` when neither is known.
    #[must_use]
    pub fn bbox(&self, idx: TerritoryIdx) -> Option<Bbox> {
        let t = self.get(idx)?;
        let mut b = t.point().map(|p| Bbox {
            west: p.lon(),
            south: p.lat(),
            east: p.lon(),
            north: p.lat(),
        });
        for c in t
            .record
            .geometry
            .iter()
            .flat_map(|g| g.0.iter())
            .flat_map(|p| p.exterior().0.iter())
        {
            let v = Bbox {
                west: c.x,
                south: c.y,
                east: c.x,
                north: c.y,
            };
            b = Some(b.map_or(v, |b| b.union(&v)));
        }
        b
    }
}
