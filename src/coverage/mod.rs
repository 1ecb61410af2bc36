//! Coverage of a territory by the actors: counts, density per inhabitant, communes and
//! population covered, access distances, zones blanches, and the same by child territory.
//!
//! Every figure is computed over communes: a territory's population and area are the sums of
//! its communes' (so the figures of child territories always add up to their parent's), an
//! actor counts where its commune is, and access is measured from each commune's
//! representative point to the nearest actor, wherever that actor is (outside the territory
//! too), with the exact great-circle distance of the index.
//!
//! Results are memoised in the snapshot they were computed from ([`Memo`]): a new snapshot
//! (actors changed) starts with an empty memo, so nothing stale is ever served.

mod memo;

pub use memo::Memo;

use crate::domain::{CategorySet, Family, TerritoryKind};
use crate::index::Snapshot;
use crate::index::actors::{ActorFilter, NO_COMMUNE};
use crate::index::territories::TerritoryIdx;
use serde::Serialize;
use std::sync::Arc;

/// Distances at which access is reported, metres.
pub const ACCESS_STEPS_M: [f64; 4] = [1_000.0, 5_000.0, 10_000.0, 20_000.0];

/// What a coverage report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// All communes.
    France,
    /// One territory.
    Territory(TerritoryIdx),
}

/// The actor filter of a coverage report: categories, families, kinds, demonstration data
/// (text and territory filters make no sense here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CoverageFilter {
    /// Category bitmask (subcategories included), `None` for every category.
    pub categories: Option<u64>,
    /// Family bitmask, `None` for every family.
    pub families: Option<u8>,
    /// Kinds all required.
    pub kinds: u8,
    /// Leave demonstration data out.
    pub exclude_demo: bool,
}

impl CoverageFilter {
    /// From an actor filter (its text and territory parts are ignored).
    #[must_use]
    pub fn from_actor_filter(f: &ActorFilter) -> Self {
        Self {
            categories: f.categories.map(|c| c.0),
            families: f.families.map(|s| s.0),
            kinds: f.kinds.0,
            exclude_demo: f.exclude_demo,
        }
    }

    /// The equivalent actor filter.
    #[must_use]
    pub fn actor_filter(&self) -> ActorFilter {
        ActorFilter {
            categories: self.categories.map(CategorySet),
            families: self.families.map(crate::domain::FamilySet),
            kinds: crate::domain::KindSet(self.kinds),
            text: None,
            territories: Vec::new(),
            exclude_demo: self.exclude_demo,
            open_at: None,
        }
    }

    /// The same filter restricted to a category set.
    #[must_use]
    pub fn with_categories(&self, categories: Option<u64>) -> Self {
        Self {
            categories,
            ..*self
        }
    }
}

/// Figures of an area (a territory, a parent, or a child territory).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Figures {
    /// Sum of the communes' populations (populations légales): the population every figure
    /// per inhabitant uses.
    pub population: u64,
    /// The population published for the territory itself, where one exists (an EPCI's, in
    /// DGCL's list of EPCI à fiscalité propre: another vintage, shown beside the sum, used
    /// for nothing else); `null` elsewhere and for part of an EPCI.
    pub population_published: Option<u64>,
    /// Sum of the communes' areas, square metres.
    pub area_m2: f64,
    /// Number of communes.
    pub communes: u32,
    /// Matching actors.
    pub actors: u64,
    /// Actors per 10 000 inhabitants (`null` without inhabitants).
    pub actors_per_10000: Option<f64>,
    /// Communes with at least one matching actor.
    pub communes_covered: u32,
    /// Share of the communes with at least one matching actor, 0 to 1.
    pub communes_covered_share: Option<f64>,
    /// Population of those communes.
    pub population_covered: u64,
    /// Share of the population living in those communes, 0 to 1.
    pub population_covered_share: Option<f64>,
    /// Access at the report's distance (children only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessFigure>,
}

/// Access at one distance: who lives within it of the nearest matching actor.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct AccessFigure {
    /// The distance, metres.
    pub distance_m: f64,
    /// Population whose commune point is within it of a matching actor.
    pub population_within: u64,
    /// Share of the population, 0 to 1.
    pub share: Option<f64>,
    /// Population-weighted median distance to the nearest matching actor, metres.
    pub median_nearest_m: Option<f64>,
}

/// A territory named in a report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Named {
    /// `commune`, `epci`, `departement`, `region` or `france`.
    pub kind: &'static str,
    /// Official code (`FR` for France); `null` for the communes outside any EPCI.
    pub code: Option<String>,
    /// Name; `null` for the communes outside any EPCI.
    pub name: Option<String>,
}

/// Actors of one category or family.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CategoryLine {
    /// Slug.
    pub slug: String,
    /// Parent slug (categories), `null` at the top.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Matching actors of it.
    pub actors: u64,
    /// Per 10 000 inhabitants.
    pub actors_per_10000: Option<f64>,
    /// Communes with at least one of them.
    pub communes_covered: u32,
    /// Share of the communes.
    pub communes_covered_share: Option<f64>,
    /// Population of those communes.
    pub population_covered: u64,
    /// Share of the population.
    pub population_covered_share: Option<f64>,
}

/// Access to one category (or to any matching actor).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AccessLine {
    /// Category slug, `null` for any matching actor.
    pub category: Option<String>,
    /// Population within each of [`ACCESS_STEPS_M`].
    pub within: Vec<AccessStep>,
    /// Population-weighted median distance to the nearest such actor, metres.
    pub median_nearest_m: Option<f64>,
}

/// Population within one distance.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct AccessStep {
    /// Distance, metres.
    pub distance_m: f64,
    /// Population within it.
    pub population: u64,
    /// Share of the population.
    pub share: Option<f64>,
}

/// A commune far from every matching actor.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WhiteZone {
    /// INSEE code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Population.
    pub population: u64,
    /// Distance from its representative point to the nearest matching actor, metres
    /// (`null` when there is no matching actor at all).
    pub nearest_m: Option<f64>,
    /// Its position in the territory table, for GeoJSON output.
    #[serde(skip)]
    pub idx: TerritoryIdx,
}

/// One child territory.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChildLine {
    /// Which child.
    #[serde(flatten)]
    pub territory: Named,
    /// Whether the whole child lies in the territory (an EPCI may straddle départements:
    /// only its communes inside are counted).
    pub whole: bool,
    /// Its figures, access included.
    #[serde(flatten)]
    pub figures: Figures,
    /// Its territory index (none for the communes outside any EPCI).
    #[serde(skip)]
    pub idx: Option<TerritoryIdx>,
    /// Its communes inside the territory.
    #[serde(skip)]
    pub communes: Vec<TerritoryIdx>,
}

/// A parent territory and its figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParentLine {
    /// Which parent.
    #[serde(flatten)]
    pub territory: Named,
    /// Its figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// How a compared territory relates to the report's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Same kind, same parent (the other communes of the EPCI, the other EPCI of the
    /// département, the other départements of the région, the other régions).
    Sibling,
    /// Same kind, elsewhere, with the closest populations.
    SimilarPopulation,
}

/// A territory of the same kind, compared with the report's.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ComparedLine {
    /// Which territory.
    #[serde(flatten)]
    pub territory: Named,
    /// Why it is compared.
    pub relation: Relation,
    /// Its figures (no access).
    #[serde(flatten)]
    pub figures: Figures,
}

/// Most siblings compared (the closest populations first when there are more).
pub const MAX_SIBLINGS: usize = 12;
/// Territories of similar population compared, outside the parent.
pub const SIMILAR_POPULATION: usize = 5;

/// A coverage report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The territory.
    pub territory: Named,
    /// Its figures.
    pub figures: Figures,
    /// Actors by category (each counted in its categories and their parents).
    pub by_category: Vec<CategoryLine>,
    /// Actors by family.
    pub by_family: Vec<CategoryLine>,
    /// Access to any matching actor, then to each category (the filter's categories when
    /// given, else every top-level category).
    pub access: Vec<AccessLine>,
    /// The distance of the zones blanches and of the children's access figure, metres.
    pub distance_m: f64,
    /// Communes farther than `distance_m` from every matching actor, most populated first.
    pub zones_blanches: Vec<WhiteZone>,
    /// Parent territories up to France, with their figures.
    pub parents: Vec<ParentLine>,
    /// Territories of the same kind to compare with: siblings in the parent, then those of
    /// the closest populations elsewhere (empty for France).
    pub similar: Vec<ComparedLine>,
    /// Kind of the children (`null` for a commune).
    pub children_kind: Option<&'static str>,
    /// Child territories with their figures (in no particular order: the routes sort them).
    #[serde(skip)]
    pub children: Vec<ChildLine>,
}

/// Per-commune tallies of the matching actors of one scope.
struct Tally {
    /// Matching actors per commune (indexed by territory index).
    count: Vec<u32>,
    /// Union of the category lineages of a commune's matching actors.
    categories: Vec<u64>,
    /// Actors per category position, each counted in its categories and their ancestors.
    by_category: Vec<u64>,
    /// Actors per family position.
    by_family: Vec<u64>,
    /// Per commune, the families of its matching actors (bit = position in `Family::ALL`).
    families: Vec<u8>,
}

/// The communes of a scope.
#[must_use]
pub fn communes_of(snap: &Snapshot, scope: Scope) -> Vec<TerritoryIdx> {
    let t = &snap.territories;
    (0..t.len() as TerritoryIdx)
        .filter(|&i| {
            t.get(i).is_some_and(|c| c.kind == TerritoryKind::Commune)
                && match scope {
                    Scope::France => true,
                    Scope::Territory(s) => t.commune_in(i, s),
                }
        })
        .collect()
}

/// `ancestors[p]`: category `p` and its ancestors.
fn lineages(snap: &Snapshot) -> Vec<u64> {
    let n = snap.catalog.defs().len();
    (0..n)
        .map(|p| {
            (0..n)
                .filter(|&q| snap.catalog.subtree(q).0 & (1 << p) != 0)
                .fold(0, |m, q| m | (1 << q))
        })
        .collect()
}

fn tally(snap: &Snapshot, scope: Scope, filter: &CoverageFilter) -> Tally {
    let t = &snap.territories;
    let ix = &snap.actors;
    let lineage = lineages(snap);
    let mut out = Tally {
        count: vec![0; t.len()],
        categories: vec![0; t.len()],
        by_category: vec![0; lineage.len()],
        by_family: vec![0; Family::ALL.len()],
        families: vec![0; t.len()],
    };
    let f = filter.actor_filter();
    let actors = match scope {
        Scope::France => ix.filtered(&f, t),
        Scope::Territory(s) => ix.in_territory(s, &f, t),
    };
    for a in actors {
        let e = ix.entry(a);
        if e.commune == NO_COMMUNE {
            continue;
        }
        let mask = e
            .categories
            .positions()
            .fold(0, |m, c| m | lineage.get(c).copied().unwrap_or(0));
        out.count[e.commune as usize] += 1;
        out.categories[e.commune as usize] |= mask;
        for c in CategorySet(mask).positions() {
            out.by_category[c] += 1;
        }
        if let Some(p) = Family::ALL.iter().position(|x| *x == e.family) {
            out.by_family[p] += 1;
            out.families[e.commune as usize] |= 1 << p;
        }
    }
    out
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn per_10000(actors: u64, population: u64) -> Option<f64> {
    (population > 0).then(|| actors as f64 * 10_000.0 / population as f64)
}

/// The population published for a territory itself (see [`Figures::population_published`]).
fn published_population(snap: &Snapshot, scope: Scope) -> Option<u64> {
    match scope {
        Scope::France => None,
        Scope::Territory(i) => snap.territories.get(i)?.record.population_published,
    }
}

fn population(snap: &Snapshot, c: TerritoryIdx) -> u64 {
    snap.territories.get(c).map_or(0, |t| t.record.population)
}

/// Figures of a set of communes from a tally (and access at `distance_m` when `nearest` is
/// given: distances per territory index).
fn figures(
    snap: &Snapshot,
    communes: &[TerritoryIdx],
    tally: &Tally,
    nearest: Option<(&[f64], f64)>,
) -> Figures {
    let mut f = Figures {
        population: 0,
        population_published: None,
        area_m2: 0.0,
        communes: communes.len() as u32,
        actors: 0,
        actors_per_10000: None,
        communes_covered: 0,
        communes_covered_share: None,
        population_covered: 0,
        population_covered_share: None,
        access: None,
    };
    for &c in communes {
        let pop = population(snap, c);
        f.population += pop;
        f.area_m2 += snap
            .territories
            .get(c)
            .and_then(|t| t.record.area_m2)
            .unwrap_or(0.0);
        let n = u64::from(tally.count[c as usize]);
        f.actors += n;
        if n > 0 {
            f.communes_covered += 1;
            f.population_covered += pop;
        }
    }
    f.actors_per_10000 = per_10000(f.actors, f.population);
    f.communes_covered_share = share(u64::from(f.communes_covered), u64::from(f.communes));
    f.population_covered_share = share(f.population_covered, f.population);
    if let Some((dist, d)) = nearest {
        let within = communes
            .iter()
            .filter(|&&c| dist[c as usize] <= d)
            .map(|&c| population(snap, c))
            .sum();
        f.access = Some(AccessFigure {
            distance_m: d,
            population_within: within,
            share: share(within, f.population),
            median_nearest_m: weighted_median(snap, communes, dist),
        });
    }
    f
}

/// Population-weighted median of the nearest distances (communes without inhabitants or
/// without a matching actor anywhere are left out).
fn weighted_median(snap: &Snapshot, communes: &[TerritoryIdx], dist: &[f64]) -> Option<f64> {
    let mut v: Vec<(f64, u64)> = communes
        .iter()
        .map(|&c| (dist[c as usize], population(snap, c)))
        .filter(|(d, p)| d.is_finite() && *p > 0)
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: u64 = v.iter().map(|x| x.1).sum();
    let mut acc = 0;
    for (d, p) in v {
        acc += p;
        if acc * 2 >= total {
            return Some(d);
        }
    }
    None
}

fn access_line(
    snap: &Snapshot,
    communes: &[TerritoryIdx],
    dist: &[f64],
    category: Option<String>,
) -> AccessLine {
    let total: u64 = communes.iter().map(|&c| population(snap, c)).sum();
    let within = ACCESS_STEPS_M
        .iter()
        .map(|&d| {
            let population = communes
                .iter()
                .filter(|&&c| dist[c as usize] <= d)
                .map(|&c| population(snap, c))
                .sum();
            AccessStep {
                distance_m: d,
                population,
                share: share(population, total),
            }
        })
        .collect();
    AccessLine {
        category,
        within,
        median_nearest_m: weighted_median(snap, communes, dist),
    }
}

fn named(snap: &Snapshot, idx: TerritoryIdx) -> Named {
    snap.territories.get(idx).map_or(
        Named {
            kind: "commune",
            code: None,
            name: None,
        },
        |t| Named {
            kind: t.kind.as_str(),
            code: Some(t.record.code.clone()),
            name: Some(t.record.name.clone()),
        },
    )
}

fn france() -> Named {
    Named {
        kind: "france",
        code: Some("FR".into()),
        name: Some("France".into()),
    }
}

/// The parents of a territory, nearest first, ending with France.
fn parents_of(snap: &Snapshot, scope: Scope) -> Vec<Scope> {
    let Scope::Territory(idx) = scope else {
        return Vec::new();
    };
    let Some(t) = snap.territories.get(idx) else {
        return vec![Scope::France];
    };
    let mut out = Vec::new();
    let candidates = match t.kind {
        TerritoryKind::Commune => vec![t.epci, t.departement, t.region],
        TerritoryKind::Epci => vec![t.departement, t.region],
        TerritoryKind::Departement => vec![t.region],
        TerritoryKind::Region => vec![],
    };
    for p in candidates.into_iter().flatten() {
        if p != idx {
            out.push(Scope::Territory(p));
        }
    }
    out.push(Scope::France);
    out
}

/// Communes grouped by child territory (`None`: the communes outside any EPCI).
type Groups = Vec<(Option<TerritoryIdx>, Vec<TerritoryIdx>)>;

/// Groups the communes of a scope by child territory.
fn children_of(
    snap: &Snapshot,
    scope: Scope,
    communes: &[TerritoryIdx],
) -> (Option<&'static str>, Groups) {
    let t = &snap.territories;
    let kind = match scope {
        Scope::France => Some(TerritoryKind::Region),
        Scope::Territory(s) => match t.get(s).map(|x| x.kind) {
            Some(TerritoryKind::Region) => Some(TerritoryKind::Departement),
            Some(TerritoryKind::Departement) => Some(TerritoryKind::Epci),
            Some(TerritoryKind::Epci) => Some(TerritoryKind::Commune),
            _ => None,
        },
    };
    let Some(kind) = kind else {
        return (None, Vec::new());
    };
    let mut groups: Groups = Vec::new();
    let mut by_key: std::collections::HashMap<Option<TerritoryIdx>, usize> =
        std::collections::HashMap::new();
    for &c in communes {
        let Some(ct) = t.get(c) else { continue };
        let key = match kind {
            TerritoryKind::Commune => Some(c),
            TerritoryKind::Epci => ct.epci,
            TerritoryKind::Departement => ct.departement,
            TerritoryKind::Region => ct.region,
        };
        let slot = *by_key.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[slot].1.push(c);
    }
    (Some(kind.as_str()), groups)
}

/// Computes (or takes from the snapshot's memo) the coverage report of a scope.
#[must_use]
pub fn report(
    snap: &Snapshot,
    scope: Scope,
    filter: &CoverageFilter,
    distance_m: f64,
) -> Arc<Report> {
    let key = memo::ReportKey {
        scope,
        filter: *filter,
        distance_mm: (distance_m * 1000.0).round() as u64,
    };
    if let Some(r) = snap.coverage.report(&key) {
        return r;
    }
    let r = Arc::new(compute(snap, scope, filter, distance_m));
    snap.coverage.keep_report(key, Arc::clone(&r));
    r
}

fn compute(snap: &Snapshot, scope: Scope, filter: &CoverageFilter, distance_m: f64) -> Report {
    let communes = communes_of(snap, scope);
    let tally = tally(snap, scope, filter);
    let nearest = snap.coverage.nearest(snap, filter, &communes);
    let nearest = nearest.as_slice();
    let mut fig = figures(snap, &communes, &tally, None);
    fig.population_published = published_population(snap, scope);
    let defs = snap.catalog.defs();
    // One line of the by-category or by-family table: `has(c)` says whether commune `c` holds
    // one of its actors.
    let line = |slug: String, parent: Option<String>, actors: u64, has: &dyn Fn(usize) -> bool| {
        let (mut covered, mut population_covered) = (0u32, 0u64);
        for &c in &communes {
            if has(c as usize) {
                covered += 1;
                population_covered += population(snap, c);
            }
        }
        CategoryLine {
            slug,
            parent,
            actors,
            actors_per_10000: per_10000(actors, fig.population),
            communes_covered: covered,
            communes_covered_share: share(u64::from(covered), u64::from(fig.communes)),
            population_covered,
            population_covered_share: share(population_covered, fig.population),
        }
    };
    let by_category = defs
        .iter()
        .enumerate()
        .map(|(p, d)| {
            line(
                d.slug.clone(),
                d.parent.clone(),
                tally.by_category[p],
                &|c| tally.categories[c] & (1 << p) != 0,
            )
        })
        .collect();
    let by_family = Family::ALL
        .iter()
        .enumerate()
        .map(|(p, fam)| {
            line(fam.as_str().to_owned(), None, tally.by_family[p], &|c| {
                tally.families[c] & (1 << p) != 0
            })
        })
        .collect();

    // Access: to any matching actor, then per category.
    let mut access = vec![access_line(snap, &communes, nearest, None)];
    let sets: Vec<(String, u64)> = match filter.categories {
        Some(set) => defs
            .iter()
            .enumerate()
            .filter(|(p, d)| {
                set & (1 << p) != 0
                    && d.parent
                        .as_ref()
                        .and_then(|parent| snap.catalog.position(parent))
                        .is_none_or(|pp| set & (1 << pp) == 0)
            })
            .map(|(p, d)| (d.slug.clone(), snap.catalog.subtree(p).0))
            .collect(),
        None => defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.parent.is_none())
            .map(|(p, d)| (d.slug.clone(), snap.catalog.subtree(p).0))
            .collect(),
    };
    if !(filter.categories.is_some() && sets.len() == 1) {
        for (slug, set) in sets {
            let dist = snap
                .coverage
                .nearest(snap, &filter.with_categories(Some(set)), &communes);
            access.push(access_line(snap, &communes, dist.as_slice(), Some(slug)));
        }
    }

    let mut zones_blanches: Vec<WhiteZone> = communes
        .iter()
        .filter(|&&c| nearest[c as usize] > distance_m)
        .filter_map(|&c| {
            let t = snap.territories.get(c)?;
            let d = nearest[c as usize];
            Some(WhiteZone {
                code: t.record.code.clone(),
                name: t.record.name.clone(),
                population: t.record.population,
                nearest_m: d.is_finite().then_some(d),
                idx: c,
            })
        })
        .collect();
    zones_blanches.sort_by(|a, b| b.population.cmp(&a.population).then(a.code.cmp(&b.code)));

    let parents = parents_of(snap, scope)
        .into_iter()
        .map(|p| {
            let figures = snap.coverage.figures(snap, p, filter);
            let name = match p {
                Scope::France => france(),
                Scope::Territory(i) => named(snap, i),
            };
            ParentLine {
                territory: name,
                figures: (*figures).clone(),
            }
        })
        .collect();
    let similar = similar_to(snap, scope)
        .into_iter()
        .map(|(i, relation)| ComparedLine {
            territory: named(snap, i),
            relation,
            figures: (*snap.coverage.figures(snap, Scope::Territory(i), filter)).clone(),
        })
        .collect();

    let (children_kind, groups) = children_of(snap, scope, &communes);
    // Only EPCI can straddle their parent (a département): count their communes everywhere.
    let mut epci_size: std::collections::HashMap<TerritoryIdx, usize> =
        std::collections::HashMap::new();
    if children_kind == Some("epci") {
        for c in snap.territories.all() {
            if let (TerritoryKind::Commune, Some(e)) = (c.kind, c.epci) {
                *epci_size.entry(e).or_default() += 1;
            }
        }
    }
    let children = groups
        .into_iter()
        .map(|(idx, members)| {
            let whole = idx.is_some_and(|i| {
                epci_size
                    .get(&i)
                    .is_none_or(|&total| total == members.len())
            });
            ChildLine {
                territory: match idx {
                    Some(i) => named(snap, i),
                    None => Named {
                        kind: "epci",
                        code: None,
                        name: None,
                    },
                },
                whole,
                figures: Figures {
                    population_published: idx
                        .filter(|_| whole)
                        .and_then(|i| published_population(snap, Scope::Territory(i))),
                    ..figures(snap, &members, &tally, Some((nearest, distance_m)))
                },
                idx,
                communes: members,
            }
        })
        .collect();

    Report {
        territory: match scope {
            Scope::France => france(),
            Scope::Territory(i) => named(snap, i),
        },
        figures: fig,
        by_category,
        by_family,
        access,
        distance_m,
        zones_blanches,
        parents,
        similar,
        children_kind,
        children,
    }
}

/// The territories a report compares its own with: of the same kind, its siblings in the
/// parent (the other communes of its EPCI, or of its département outside any EPCI; the other
/// EPCI of its département; the other départements of its région; the other régions), at
/// most [`MAX_SIBLINGS`] of the closest populations, then the [`SIMILAR_POPULATION`]
/// territories of the closest populations outside the parent. Each group is ordered by
/// population, largest first. Closeness is the ratio of the populations légales.
#[must_use]
pub fn similar_to(snap: &Snapshot, scope: Scope) -> Vec<(TerritoryIdx, Relation)> {
    let Scope::Territory(me) = scope else {
        return Vec::new();
    };
    let t = &snap.territories;
    let Some(own) = t.get(me) else {
        return Vec::new();
    };
    let parent_of = |x: &crate::index::territories::Territory| match x.kind {
        TerritoryKind::Commune => x.epci.or(x.departement),
        TerritoryKind::Epci => x.departement,
        TerritoryKind::Departement => x.region,
        TerritoryKind::Region => None,
    };
    let parent = parent_of(own);
    let p0 = own.record.population.max(1) as f64;
    let closeness = |i: TerritoryIdx| {
        let p = t.get(i).map_or(0, |x| x.record.population).max(1) as f64;
        (p / p0).ln().abs()
    };
    let (mut siblings, mut others): (Vec<TerritoryIdx>, Vec<TerritoryIdx>) = (0..t.len()
        as TerritoryIdx)
        .filter(|&i| i != me && t.get(i).is_some_and(|x| x.kind == own.kind))
        .partition(|&i| t.get(i).is_some_and(|x| parent_of(x) == parent));
    let closest = |v: &mut Vec<TerritoryIdx>, n: usize| {
        v.sort_by(|&a, &b| closeness(a).total_cmp(&closeness(b)).then(a.cmp(&b)));
        v.truncate(n);
        v.sort_by_key(|&i| {
            (
                std::cmp::Reverse(t.get(i).map_or(0, |x| x.record.population)),
                i,
            )
        });
    };
    closest(&mut siblings, MAX_SIBLINGS);
    closest(&mut others, SIMILAR_POPULATION);
    siblings
        .into_iter()
        .map(|i| (i, Relation::Sibling))
        .chain(others.into_iter().map(|i| (i, Relation::SimilarPopulation)))
        .collect()
}

/// The actors a report counts (those of the scope's communes that match the filter), ordered
/// by commune name then actor name, as a reader looks them up.
#[must_use]
pub fn structures(
    snap: &Snapshot,
    scope: Scope,
    filter: &CoverageFilter,
) -> Vec<crate::index::actors::ActorIdx> {
    let t = &snap.territories;
    let ix = &snap.actors;
    let f = filter.actor_filter();
    let mut v: Vec<_> = match scope {
        Scope::France => ix.filtered(&f, t),
        Scope::Territory(s) => ix.in_territory(s, &f, t),
    }
    .into_iter()
    .filter(|&a| ix.entry(a).commune != NO_COMMUNE)
    .collect();
    v.sort_by(|&a, &b| {
        let (ea, eb) = (ix.entry(a), ix.entry(b));
        t.folded_name(ea.commune)
            .cmp(t.folded_name(eb.commune))
            .then(ea.commune.cmp(&eb.commune))
            .then_with(|| ix.name_json(a).cmp(ix.name_json(b)))
            .then(ea.id.cmp(&eb.id))
    });
    v
}

/// Figures of a scope without access (the parents' comparison figures).
#[must_use]
pub fn scope_figures(snap: &Snapshot, scope: Scope, filter: &CoverageFilter) -> Figures {
    let communes = communes_of(snap, scope);
    let tally = tally(snap, scope, filter);
    Figures {
        population_published: published_population(snap, scope),
        ..figures(snap, &communes, &tally, None)
    }
}
