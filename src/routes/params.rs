//! Query-string parameters shared by the actor routes, parsed into domain types.

use crate::domain::{FamilySet, InputError, KindSet, LonLat, Radius, TerritoryCode, TerritoryKind};
use crate::index::Snapshot;
use crate::index::actors::ActorFilter;
use crate::index::text::fold;
use serde::Deserialize;

/// Default page size.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page size.
pub const MAX_LIMIT: usize = 1_000;
/// Largest offset (deeper pages are an export, not a page).
pub const MAX_OFFSET: usize = 100_000;
/// Longest text filter, in characters.
pub const MAX_TEXT: usize = 100;

/// Filter parameters, as sent.
#[derive(Debug, Default, Deserialize)]
pub struct FilterParams {
    /// Comma-separated category slugs (each includes its subcategories).
    pub category: Option<String>,
    /// Comma-separated families.
    pub family: Option<String>,
    /// Comma-separated kinds, all required.
    pub kind: Option<String>,
    /// Text the name must contain.
    pub q: Option<String>,
    /// Commune code.
    pub commune: Option<String>,
    /// EPCI SIREN.
    pub epci: Option<String>,
    /// Département code.
    pub departement: Option<String>,
    /// Région code.
    pub region: Option<String>,
    /// `include` or `exclude` demonstration data (the default depends on the endpoint: included
    /// on the map and lists, excluded from figures).
    pub demo: Option<String>,
    /// `now`: only actors open now according to their opening hours.
    pub open: Option<String>,
    /// Page size.
    pub limit: Option<String>,
    /// Items to skip.
    pub offset: Option<String>,
}

/// Whether demonstration data is counted when a request does not say.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Demo {
    Included,
    Excluded,
}

/// Page window.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    /// Page size.
    pub limit: usize,
    /// Items skipped.
    pub offset: usize,
}

impl FilterParams {
    /// The filter these parameters describe.
    ///
    /// # Errors
    /// On an unknown category, family or kind, a malformed or unknown territory code, or a
    /// text that is too long.
    pub fn filter(&self, snap: &Snapshot) -> Result<ActorFilter, InputError> {
        self.filter_with(snap, Demo::Included)
    }

    /// As [`filter`](Self::filter), for figures: demonstration data is left out unless
    /// `demo=include` asks for it, so that no count includes fictitious places silently.
    ///
    /// # Errors
    /// As [`filter`](Self::filter).
    pub fn figures_filter(&self, snap: &Snapshot) -> Result<ActorFilter, InputError> {
        self.filter_with(snap, Demo::Excluded)
    }

    fn filter_with(&self, snap: &Snapshot, by_default: Demo) -> Result<ActorFilter, InputError> {
        let mut f = ActorFilter::default();
        if let Some(c) = nonempty(&self.category) {
            f.categories = Some(snap.catalog.parse_filter("category", c)?);
        }
        if let Some(s) = nonempty(&self.family) {
            f.families = Some(FamilySet::parse("family", s)?);
        }
        if let Some(s) = nonempty(&self.kind) {
            f.kinds = KindSet::parse("kind", s)?;
        }
        if let Some(q) = nonempty(&self.q) {
            if q.chars().count() > MAX_TEXT {
                return Err(InputError::new(
                    "q",
                    format!("must be at most {MAX_TEXT} characters"),
                ));
            }
            let folded = fold(q);
            if !folded.is_empty() {
                f.text = Some(folded);
            }
        }
        for (kind, value) in [
            (TerritoryKind::Commune, &self.commune),
            (TerritoryKind::Epci, &self.epci),
            (TerritoryKind::Departement, &self.departement),
            (TerritoryKind::Region, &self.region),
        ] {
            if let Some(v) = nonempty(value) {
                f.territories.push(territory(snap, kind, kind.as_str(), v)?);
            }
        }
        f.exclude_demo = match nonempty(&self.demo) {
            None => by_default == Demo::Excluded,
            Some("include" | "true") => false,
            Some("exclude" | "false") => true,
            Some(other) => {
                return Err(InputError::new(
                    "demo",
                    format!("'{other}' is not 'include' or 'exclude'"),
                ));
            }
        };
        f.open_at = match nonempty(&self.open) {
            None => None,
            Some("now") => Some(crate::index::actors::OpenAt::now()),
            Some(other) => {
                return Err(InputError::new(
                    "open",
                    format!("'{other}' is not 'now' (the only moment offered)"),
                ));
            }
        };
        Ok(f)
    }

    /// The page window.
    ///
    /// # Errors
    /// When `limit` or `offset` is not a whole number or too large.
    pub fn page(&self) -> Result<Page, InputError> {
        let limit = match nonempty(&self.limit) {
            None => DEFAULT_LIMIT,
            Some(s) => whole("limit", s, 1, MAX_LIMIT)?,
        };
        let offset = match nonempty(&self.offset) {
            None => 0,
            Some(s) => whole("offset", s, 0, MAX_OFFSET)?,
        };
        Ok(Page { limit, offset })
    }
}

/// Resolves a territory code of a kind to its index, checking shape then existence.
///
/// # Errors
/// On a malformed code or one that names no territory.
pub fn territory(
    snap: &Snapshot,
    kind: TerritoryKind,
    field: &str,
    code: &str,
) -> Result<u32, InputError> {
    let code = TerritoryCode::parse(kind, field, code)?;
    snap.territories
        .find(kind, code.code())
        .ok_or_else(|| InputError::new(field, format!("no {kind} has the code '{}'", code.code())))
}

/// Parses a whole number in `[min, max]`.
///
/// # Errors
/// Says which bounds apply.
pub fn whole(field: &str, text: &str, min: usize, max: usize) -> Result<usize, InputError> {
    let n: usize = text.trim().parse().map_err(|_| {
        InputError::new(
            field,
            format!("must be a whole number between {min} and {max}"),
        )
    })?;
    if n < min || n > max {
        return Err(InputError::new(
            field,
            format!("must be between {min} and {max}"),
        ));
    }
    Ok(n)
}

/// Parses a decimal number.
///
/// # Errors
/// When it is not a number.
pub fn number(field: &str, text: Option<&str>) -> Result<f64, InputError> {
    let t = text
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| InputError::new(field, "is required"))?;
    t.parse::<f64>().map_err(|_| {
        InputError::new(
            field,
            format!("'{t}' is not a number (use a dot for decimals)"),
        )
    })
}

/// Parses `lon` and `lat`.
///
/// # Errors
/// When either is missing, not a number or out of range.
pub fn lonlat(lon: Option<&str>, lat: Option<&str>) -> Result<LonLat, InputError> {
    LonLat::new(number("lon", lon)?, number("lat", lat)?)
}

/// Parses an optional radius in metres.
///
/// # Errors
/// When it is not a number or out of bounds.
pub fn radius(field: &str, text: Option<&str>) -> Result<Option<Radius>, InputError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Radius::parse(field, number(field, Some(t))?).map(Some),
    }
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
