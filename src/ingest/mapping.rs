//! Mapping files (TOML): which column or property holds which value, constants, and tables
//! that turn the source's own categories and families into ours.
//!
//! ```toml
//! [fields]                 # our field = the source's column (CSV) or property (GeoJSON, JSON)
//! name = "Nom de la structure"
//! categories = "Type"
//! commune = "Code INSEE"
//! lat = "Latitude"
//! lon = "Longitude"
//! source_ref = "Identifiant"
//!
//! [defaults]               # used when the column is missing or the cell empty
//! family = "association"
//! categories = ["tiers-lieux"]
//!
//! [categories]             # source value = our category slug(s); case and accents ignored
//! "Épicerie solidaire" = "epicerie-solidaire"
//! "Recyclerie" = ["ressourcerie", "reemploi"]
//!
//! [families]
//! "Asso" = "association"
//! ```
//!
//! Without a mapping file, columns are expected under our own field names (the ones
//! `ancrage export --format csv` writes), so an export imports back as it is.

use super::ActorDraft;
use super::textio::parse_decimal;
use crate::index::text::fold;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Fields a mapping may name, in export order.
pub const FIELDS: &[&str] = &[
    "source_ref",
    "name",
    "description",
    "categories",
    "family",
    "kinds",
    "siret",
    "street",
    "postcode",
    "commune",
    "city",
    "lon",
    "lat",
    "precision",
    "website",
    "email",
    "phone",
    "opening_hours",
    "accessibility",
    "status",
];

/// One slug or several.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Several.
    Many(Vec<String>),
}

impl OneOrMany {
    fn slugs(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

/// Constants used when the source has no value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Family slug.
    pub family: Option<String>,
    /// Category slugs.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Kind slugs, added to every record.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Precision of the source's coordinates.
    pub precision: Option<String>,
    /// Status.
    pub status: Option<String>,
}

/// A mapping file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Our field → the source's column or property (dotted path in JSON: `address.postalCode`).
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Constants.
    #[serde(default)]
    pub defaults: Defaults,
    /// Source category → our slugs.
    #[serde(default)]
    pub categories: BTreeMap<String, OneOrMany>,
    /// Source family → our slug.
    #[serde(default)]
    pub families: BTreeMap<String, String>,
    /// SIRENE: NAF code (`88.91A`) or prefix (`88.91`, `88`) → our slugs; replaces the built-in
    /// table when given.
    #[serde(default)]
    pub naf: BTreeMap<String, OneOrMany>,
    /// Characters separating several values in one cell (default `|;,`).
    pub list_separators: Option<String>,
}

/// Folded lookup tables built from a [`Mapping`].
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    /// The mapping itself.
    pub mapping: Mapping,
    categories: BTreeMap<String, Vec<String>>,
    families: BTreeMap<String, String>,
    separators: Vec<char>,
}

impl Mapping {
    /// Reads and checks a mapping file.
    ///
    /// # Errors
    /// When the file cannot be read, is not TOML of this shape, or names an unknown field.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("mapping file {}: {e}", path.display()))?;
        let m: Self =
            toml::from_str(&text).map_err(|e| format!("mapping file {}: {e}", path.display()))?;
        for key in m.fields.keys() {
            if !FIELDS.contains(&key.as_str()) {
                return Err(format!(
                    "mapping file {}: unknown field '{key}' in [fields] (known: {})",
                    path.display(),
                    FIELDS.join(", ")
                ));
            }
        }
        Ok(m)
    }

    /// Builds the lookup tables.
    #[must_use]
    pub fn prepare(self) -> Prepared {
        let categories = self
            .categories
            .iter()
            .map(|(k, v)| (fold(k).trim().to_owned(), v.slugs()))
            .collect();
        let families = self
            .families
            .iter()
            .map(|(k, v)| (fold(k).trim().to_owned(), v.clone()))
            .collect();
        let separators = self
            .list_separators
            .as_deref()
            .unwrap_or("|;,")
            .chars()
            .collect();
        Prepared {
            mapping: self,
            categories,
            families,
            separators,
        }
    }
}

impl Prepared {
    /// The source column or property holding `field` (by default, the field's own name).
    #[must_use]
    pub fn column<'a>(&'a self, field: &'a str) -> &'a str {
        self.mapping.fields.get(field).map_or(field, String::as_str)
    }

    /// Splits a multi-valued cell.
    #[must_use]
    pub fn split<'a>(&self, cell: &'a str) -> Vec<&'a str> {
        cell.split(self.separators.as_slice())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Our category slugs for source values; unmapped values that are not slugs themselves are
    /// reported in `notes` and dropped.
    #[must_use]
    pub fn categories(&self, values: &[&str], notes: &mut Vec<String>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let key = fold(v);
            let key = key.trim();
            match self.categories.get(key) {
                Some(slugs) => out.extend(slugs.iter().cloned()),
                None if is_slug(v) => out.push((*v).to_owned()),
                None => notes.push(format!(
                    "categories: '{v}' is not in the mapping's [categories] table (ignored)"
                )),
            }
        }
        if out.is_empty() {
            out.clone_from(&self.mapping.defaults.categories);
        }
        out
    }

    /// Our family slug for a source value.
    #[must_use]
    pub fn family(&self, value: Option<&str>) -> Option<String> {
        match value.map(str::trim).filter(|s| !s.is_empty()) {
            Some(v) => Some(
                self.families
                    .get(fold(v).trim())
                    .cloned()
                    .unwrap_or_else(|| v.to_owned()),
            ),
            None => self.mapping.defaults.family.clone(),
        }
    }

    /// Builds a draft from a lookup of source values by column or property name.
    pub fn draft(&self, get: &dyn Fn(&str) -> Option<String>) -> (ActorDraft, Vec<String>) {
        let mut notes = Vec::new();
        let value = |field: &str| {
            get(self.column(field))
                .map(|s| unguard(s.trim()).to_owned())
                .filter(|s| !s.is_empty())
        };
        let categories_cell = value("categories").unwrap_or_default();
        let categories = self.categories(&self.split(&categories_cell), &mut notes);
        let mut kinds: Vec<String> = value("kinds")
            .map(|k| self.split(&k).into_iter().map(str::to_owned).collect())
            .unwrap_or_default();
        for k in &self.mapping.defaults.kinds {
            if !kinds.contains(k) {
                kinds.push(k.clone());
            }
        }
        let mut coordinate =
            |field: &str| match parse_decimal(field, &value(field).unwrap_or_default()) {
                Ok(v) => v,
                Err(e) => {
                    notes.push(format!("{e} (coordinates ignored)"));
                    None
                }
            };
        let (lon, lat) = (coordinate("lon"), coordinate("lat"));
        let draft = ActorDraft {
            name: value("name"),
            description: value("description"),
            categories,
            family: self.family(value("family").as_deref()),
            kinds,
            siret: value("siret"),
            street: value("street"),
            postcode: value("postcode"),
            commune: value("commune"),
            city: value("city"),
            lon,
            lat,
            precision: value("precision").or_else(|| self.mapping.defaults.precision.clone()),
            website: value("website"),
            email: value("email"),
            phone: value("phone"),
            opening_hours: value("opening_hours"),
            accessibility: value("accessibility"),
            source_ref: value("source_ref"),
            status: value("status").or_else(|| self.mapping.defaults.status.clone()),
        };
        (draft, notes)
    }
}

/// Removes the `'` that exports put before a cell a spreadsheet would take for a formula.
pub fn unguard(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => s,
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_values_map_to_our_slugs_ignoring_case_and_accents() {
        let m: Mapping = toml::from_str(
            "[fields]\nname = \"Nom\"\n[defaults]\nfamily = \"association\"\ncategories = [\"tiers-lieux\"]\n\
             [categories]\n\"Épicerie solidaire\" = \"epicerie-solidaire\"\n\"Recyclerie\" = [\"ressourcerie\", \"reemploi\"]\n",
        )
        .expect("valid mapping");
        let p = m.prepare();
        let mut notes = Vec::new();
        assert_eq!(
            p.categories(
                &["EPICERIE SOLIDAIRE", "recyclerie", "fablab", "Bar"],
                &mut notes
            ),
            vec!["epicerie-solidaire", "ressourcerie", "reemploi", "fablab"]
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert_eq!(p.categories(&[], &mut notes), vec!["tiers-lieux"]);
        assert_eq!(p.family(None).as_deref(), Some("association"));
        assert_eq!(p.column("name"), "Nom");
        assert_eq!(p.column("street"), "street");
        let cells = |k: &str| match k {
            "Nom" => Some("  Le Solilab ".to_owned()),
            "lat" => Some("47,2009".to_owned()),
            "lon" => Some("-1,5663".to_owned()),
            _ => None,
        };
        let (d, _) = p.draft(&cells);
        assert_eq!(d.name.as_deref(), Some("Le Solilab"));
        assert_eq!((d.lon, d.lat), (Some(-1.5663), Some(47.2009)));
    }

    #[test]
    fn unknown_fields_are_refused_with_the_list() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.toml");
        std::fs::write(&path, "[fields]\nnom = \"Nom\"\n").expect("write");
        let e = Mapping::load(&path).expect_err("unknown field");
        assert!(e.contains("'nom'") && e.contains("source_ref"), "{e}");
    }
}
