//! The category taxonomy and category sets as bitmasks.

use super::InputError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One category of the taxonomy, as stored and served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryDef {
    /// Stable identifier used in URLs and filters, e.g. `epicerie-solidaire`.
    pub slug: String,
    /// Slug of the parent category, `None` for a top-level category.
    pub parent: Option<String>,
    /// French label (the interface's default language).
    pub label_fr: String,
    /// English label.
    pub label_en: String,
    /// Map colour, `#rrggbb`.
    pub colour: String,
    /// Icon name used by the front end.
    pub icon: String,
}

/// A set of categories of one [`Catalog`], as a bitmask of their positions (at most 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CategorySet(pub u64);

impl CategorySet {
    /// The empty set.
    pub const EMPTY: Self = Self(0);

    /// Whether the two sets share a category.
    #[must_use]
    pub fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Positions of the categories in the set, in catalog order.
    pub fn positions(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            if bits == 0 {
                None
            } else {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(i)
            }
        })
    }
}

/// Why a taxonomy could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// More categories than a [`CategorySet`] holds.
    #[error("the taxonomy has {0} categories; at most 64 are supported")]
    TooMany(usize),
    /// Two categories share a slug.
    #[error("category slug '{0}' appears twice")]
    Duplicate(String),
    /// A slug with characters other than `a`–`z`, `0`–`9` and `-`.
    #[error("category slug '{0}' may only hold lower-case letters a-z, digits and '-'")]
    BadSlug(String),
    /// A parent is named that does not come before its child.
    #[error("category '{child}' names parent '{parent}', which is not defined before it")]
    UnknownParent {
        /// The child's slug.
        child: String,
        /// The missing parent's slug.
        parent: String,
    },
}

/// The category taxonomy, with each category's position in [`CategorySet`] bitmasks.
#[derive(Debug, Clone)]
pub struct Catalog {
    defs: Vec<CategoryDef>,
    by_slug: HashMap<String, usize>,
    subtree: Vec<CategorySet>,
}

impl Catalog {
    /// Builds the catalog; parents must come before their children.
    ///
    /// # Errors
    /// On duplicate slugs, unknown parents or more than 64 categories.
    pub fn new(defs: Vec<CategoryDef>) -> Result<Self, CatalogError> {
        if defs.len() > 64 {
            return Err(CatalogError::TooMany(defs.len()));
        }
        let mut by_slug = HashMap::new();
        let mut subtree = vec![CategorySet::EMPTY; defs.len()];
        for (i, d) in defs.iter().enumerate() {
            // Slugs are written into JSON and space-separated columns as they are.
            if d.slug.is_empty()
                || !d
                    .slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(CatalogError::BadSlug(d.slug.clone()));
            }
            if by_slug.insert(d.slug.clone(), i).is_some() {
                return Err(CatalogError::Duplicate(d.slug.clone()));
            }
            subtree[i].0 |= 1 << i;
            let mut parent = d.parent.clone();
            while let Some(p) = parent {
                let Some(&pi) = by_slug.get(&p) else {
                    return Err(CatalogError::UnknownParent {
                        child: d.slug.clone(),
                        parent: p,
                    });
                };
                subtree[pi].0 |= 1 << i;
                parent = defs[pi].parent.clone();
            }
        }
        Ok(Self {
            defs,
            by_slug,
            subtree,
        })
    }

    /// All categories in catalog order.
    #[must_use]
    pub fn defs(&self) -> &[CategoryDef] {
        &self.defs
    }

    /// Position of a slug.
    #[must_use]
    pub fn position(&self, slug: &str) -> Option<usize> {
        self.by_slug.get(slug).copied()
    }

    /// Parses a filter such as `alimentation,repair-cafe`: each slug stands for itself and all its
    /// descendants.
    ///
    /// # Errors
    /// Names the first unknown slug.
    pub fn parse_filter(&self, field: &str, text: &str) -> Result<CategorySet, InputError> {
        let mut set = CategorySet::EMPTY;
        for slug in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let i = self
                .position(slug)
                .ok_or_else(|| self.unknown(field, slug))?;
            set.0 |= self.subtree[i].0;
        }
        if set.is_empty() {
            return Err(InputError::new(
                field,
                "must name at least one category slug",
            ));
        }
        Ok(set)
    }

    /// Parses the categories assigned to an actor (no expansion to descendants).
    ///
    /// # Errors
    /// Names the first unknown slug, or complains when the list is empty.
    pub fn parse_assigned<S: AsRef<str>>(
        &self,
        field: &str,
        slugs: &[S],
    ) -> Result<CategorySet, InputError> {
        let mut set = CategorySet::EMPTY;
        for slug in slugs {
            let slug = slug.as_ref().trim();
            let i = self
                .position(slug)
                .ok_or_else(|| self.unknown(field, slug))?;
            set.0 |= 1 << i;
        }
        if set.is_empty() {
            return Err(InputError::new(
                field,
                "an actor needs at least one category",
            ));
        }
        Ok(set)
    }

    /// Slugs of the categories of a set, in catalog order.
    pub fn slugs(&self, set: CategorySet) -> impl Iterator<Item = &str> {
        set.positions()
            .filter_map(|i| self.defs.get(i).map(|d| d.slug.as_str()))
    }

    /// The set made of a category and all its descendants.
    #[must_use]
    pub fn subtree(&self, position: usize) -> CategorySet {
        self.subtree.get(position).copied().unwrap_or_default()
    }

    /// For each category position, the position of its top-level ancestor.
    #[must_use]
    pub fn root_positions(&self) -> Vec<usize> {
        (0..self.defs.len())
            .map(|i| {
                self.roots(CategorySet(1 << i))
                    .positions()
                    .next()
                    .unwrap_or(i)
            })
            .collect()
    }

    /// The top-level category (position) an actor of categories `own` is shown in: that of its
    /// first category (in catalog order) among those the category filter `wanted` asks for, so a
    /// marker takes the colour of the filter that shows it; without one, that of its first
    /// category. `roots` is [`root_positions`](Self::root_positions).
    #[must_use]
    pub fn shown_root(roots: &[usize], own: CategorySet, wanted: Option<CategorySet>) -> usize {
        let matching = wanted
            .map(|w| CategorySet(own.0 & w.0))
            .filter(|s| !s.is_empty())
            .unwrap_or(own);
        let first = matching.positions().next().unwrap_or(0);
        roots.get(first).copied().unwrap_or(first)
    }

    /// The top-level ancestor's position of each category of a set (for colours and counts).
    #[must_use]
    pub fn roots(&self, set: CategorySet) -> CategorySet {
        let mut out = CategorySet::EMPTY;
        for (i, tree) in self.subtree.iter().enumerate() {
            if self.defs[i].parent.is_none() && tree.intersects(set) {
                out.0 |= 1 << i;
            }
        }
        out
    }

    fn unknown(&self, field: &str, slug: &str) -> InputError {
        InputError::new(
            field,
            format!("unknown category '{slug}' (see GET /api/v1/categories for the list)"),
        )
    }
}

/// The taxonomy shipped in `seed/categories.json`.
///
/// # Errors
/// When the embedded file is malformed (a build defect, caught by the tests).
pub fn builtin_catalog() -> anyhow::Result<Catalog> {
    let defs: Vec<CategoryDef> = serde_json::from_str(include_str!("../../seed/categories.json"))?;
    Ok(Catalog::new(defs)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        builtin_catalog().expect("builtin taxonomy loads")
    }

    #[test]
    fn builtin_taxonomy_covers_the_required_families_of_services() {
        let c = catalog();
        for slug in [
            "alimentation",
            "epicerie-solidaire",
            "amap-circuits-courts",
            "reemploi",
            "ressourcerie",
            "repair-cafe",
            "mobilite",
            "habitat",
            "emploi-insertion",
            "siae",
            "entreprise-adaptee",
            "cae",
            "finance-solidaire",
            "banque-cooperative",
            "monnaie-locale",
            "sante-social",
            "creche",
            "mutuelle-sante",
            "culture-loisirs",
            "education-formation",
            "environnement-energie",
            "energie-citoyenne",
            "numerique",
            "fablab",
            "mediation-numerique",
            "tiers-lieux",
            "coworking",
            "friche",
            "cafe-associatif",
            "accompagnement-reseaux",
            "cress",
            "dla",
            "ptce",
            "incubateur",
        ] {
            assert!(c.position(slug).is_some(), "{slug} missing");
        }
    }

    #[test]
    fn a_parent_filter_includes_its_children() {
        let c = catalog();
        let f = c.parse_filter("category", "alimentation").expect("known");
        let epicerie = c
            .parse_assigned("categories", &["epicerie-solidaire"])
            .expect("known");
        let fablab = c.parse_assigned("categories", &["fablab"]).expect("known");
        assert!(f.intersects(epicerie));
        assert!(!f.intersects(fablab));
    }

    #[test]
    fn unknown_slugs_are_named_in_the_error() {
        let e = catalog()
            .parse_filter("category", "alimentation, boulangerie")
            .expect_err("unknown");
        assert_eq!(e.field, "category");
        assert!(e.rule.contains("'boulangerie'"), "{}", e.rule);
    }

    #[test]
    fn rejects_children_before_parents() {
        let def = |slug: &str, parent: Option<&str>| CategoryDef {
            slug: slug.into(),
            parent: parent.map(Into::into),
            label_fr: slug.into(),
            label_en: slug.into(),
            colour: "#000000".into(),
            icon: "x".into(),
        };
        assert!(Catalog::new(vec![def("b", Some("a")), def("a", None)]).is_err());
        assert!(Catalog::new(vec![def("a", None), def("a", None)]).is_err());
        for bad in ["", "Épicerie", "a b", "quote\"", "UPPER"] {
            assert!(
                matches!(
                    Catalog::new(vec![def(bad, None)]),
                    Err(CatalogError::BadSlug(_))
                ),
                "{bad}"
            );
        }
        assert!(Catalog::new(vec![def("repair-cafe-2", None)]).is_ok());
    }
}
