//! Per-snapshot memo of coverage computations: reports, figures, and the distance from every
//! commune to the nearest matching actor. It lives in the snapshot, so a snapshot with other
//! actors starts empty: invalidation is the snapshot swap itself.

use super::{CoverageFilter, Figures, Report, Scope};
use crate::index::Snapshot;
use crate::index::territories::TerritoryIdx;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// Most entries kept per table; past it the table is emptied (results are cheap to redo and
/// the memo must not grow without bound).
const MAX_ENTRIES: usize = 128;

/// Key of a memoised report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReportKey {
    /// Territory.
    pub scope: Scope,
    /// Actor filter.
    pub filter: CoverageFilter,
    /// Zones blanches distance, millimetres.
    pub distance_mm: u64,
}

/// The memo. Locks are held only to read or store results, never while computing.
#[derive(Debug, Default)]
pub struct Memo {
    reports: Mutex<HashMap<ReportKey, Arc<Report>>>,
    figures: Mutex<HashMap<(Scope, CoverageFilter), Arc<Figures>>>,
    /// Per filter, the nearest distance from each commune (by territory index; NaN when not
    /// computed yet or when the commune has no representative point; infinity when no actor
    /// matches).
    nearest: Mutex<HashMap<CoverageFilter, Arc<Vec<f64>>>>,
}

fn keep<K: std::hash::Hash + Eq, V>(map: &Mutex<HashMap<K, V>>, key: K, value: V) {
    let mut m = map.lock().unwrap_or_else(PoisonError::into_inner);
    if m.len() >= MAX_ENTRIES {
        m.clear();
    }
    m.insert(key, value);
}

impl Memo {
    /// A memoised report.
    pub fn report(&self, key: &ReportKey) -> Option<Arc<Report>> {
        self.reports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Memoises a report.
    pub fn keep_report(&self, key: ReportKey, report: Arc<Report>) {
        keep(&self.reports, key, report);
    }

    /// Figures of a scope (memoised).
    pub fn figures(&self, snap: &Snapshot, scope: Scope, filter: &CoverageFilter) -> Arc<Figures> {
        let key = (scope, *filter);
        if let Some(f) = self
            .figures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Arc::clone(f);
        }
        let f = Arc::new(super::scope_figures(snap, scope, filter));
        keep(&self.figures, key, Arc::clone(&f));
        f
    }

    /// Distances from the given communes' representative points to the nearest actor
    /// matching `filter`, metres, indexed by territory index (other entries may be NaN).
    /// Missing distances are computed on both cores and memoised.
    pub fn nearest(
        &self,
        snap: &Snapshot,
        filter: &CoverageFilter,
        communes: &[TerritoryIdx],
    ) -> Arc<Vec<f64>> {
        let known = self
            .nearest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(filter)
            .cloned();
        let mut dist: Vec<f64> = match &known {
            Some(d) => d.as_ref().clone(),
            None => vec![f64::NAN; snap.territories.len()],
        };
        let missing: Vec<TerritoryIdx> = communes
            .iter()
            .copied()
            .filter(|&c| dist[c as usize].is_nan())
            .filter(|&c| snap.territories.get(c).and_then(|t| t.point()).is_some())
            .collect();
        if missing.is_empty() {
            if let Some(d) = known {
                return d;
            }
            return Arc::new(dist);
        }
        let f = filter.actor_filter();
        let work = |part: &[TerritoryIdx]| -> Vec<(TerritoryIdx, f64)> {
            part.iter()
                .filter_map(|&c| {
                    let p = snap.territories.get(c)?.point()?;
                    let d = snap
                        .actors
                        .nearest(p, 1, None, &f, &snap.territories)
                        .first()
                        .and_then(|h| h.distance_m)
                        .unwrap_or(f64::INFINITY);
                    Some((c, d))
                })
                .collect()
        };
        let found: Vec<(TerritoryIdx, f64)> = std::thread::scope(|s| {
            let (a, b) = missing.split_at(missing.len() / 2);
            let other = s.spawn(|| work(a));
            let mut mine = work(b);
            mine.extend(other.join().unwrap_or_default());
            mine
        });
        for (c, d) in found {
            dist[c as usize] = d;
        }
        let dist = Arc::new(dist);
        keep(&self.nearest, *filter, Arc::clone(&dist));
        dist
    }
}
