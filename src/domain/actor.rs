//! Actors of the social and solidarity economy and their enumerated attributes.

use super::{InputError, InseeCode, LonLat, Siret};
use serde::Serialize;
use std::fmt;

/// Public identifier of an actor (stable across restarts; the store's primary key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ActorId(pub i64);

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! slug_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $slug:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order (the order of bit positions where relevant).
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The value's slug as used in the API and the store.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $slug),+ }
            }

            /// Parses a slug.
            ///
            /// # Errors
            /// Lists the accepted slugs.
            pub fn parse(field: &str, text: &str) -> Result<Self, InputError> {
                match text.trim() {
                    $($slug => Ok(Self::$variant),)+
                    other => Err(InputError::new(field, format!(
                        "unknown value '{other}' (expected one of: {})",
                        [$($slug),+].join(", ")
                    ))),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

slug_enum!(
    /// Legal family of an ESS actor.
    Family {
        /// Association loi 1901 (or local law in Alsace-Moselle).
        Association => "association",
        /// Coopérative (SCOP, SCIC, coopérative d'usagers…).
        Cooperative => "cooperative",
        /// Mutuelle.
        Mutuelle => "mutuelle",
        /// Fondation or fonds de dotation.
        Fondation => "fondation",
        /// Commercial company of the ESS (ESUS approval or ESS status).
        EntrepriseEss => "entreprise-ess",
        /// Local authority or other.
        Autre => "autre",
    }
);

slug_enum!(
    /// How precisely an actor's location is known.
    GeocodePrecision {
        /// The building at the address.
        Address => "address",
        /// The street, position along it approximate.
        Street => "street",
        /// Only the commune: the point is the commune's representative point or a point in it.
        Commune => "commune",
        /// Placed by hand on a map.
        Manual => "manual",
    }
);

slug_enum!(
    /// Publication status of an actor.
    Status {
        /// Visible to everyone.
        Published => "published",
        /// Awaiting moderation; not visible.
        Pending => "pending",
        /// Closed or withdrawn; not visible.
        Archived => "archived",
    }
);

slug_enum!(
    /// Kinds an actor may additionally be, independent of its categories.
    Kind {
        /// A tiers-lieu (third place).
        TiersLieu => "tiers-lieu",
        /// A pôle territorial de coopération économique.
        Ptce => "ptce",
        /// A network or support structure.
        Reseau => "reseau",
    }
);

/// A set of [`Family`] values as a bitmask of their positions in [`Family::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FamilySet(pub u8);

impl FamilySet {
    /// The set holding one family.
    #[must_use]
    pub fn of(f: Family) -> Self {
        Self(1 << Family::ALL.iter().position(|x| *x == f).unwrap_or(0))
    }

    /// Parses a comma-separated list of family slugs.
    ///
    /// # Errors
    /// Names the first unknown slug.
    pub fn parse(field: &str, text: &str) -> Result<Self, InputError> {
        let mut set = Self(0);
        for part in text.split(',').filter(|s| !s.trim().is_empty()) {
            set.0 |= Self::of(Family::parse(field, part)?).0;
        }
        Ok(set)
    }

    /// Whether the family is in the set.
    #[must_use]
    pub fn contains(self, f: Family) -> bool {
        self.0 & Self::of(f).0 != 0
    }
}

/// A set of [`Kind`] flags as a bitmask of their positions in [`Kind::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct KindSet(pub u8);

impl KindSet {
    /// The set holding one kind.
    #[must_use]
    pub fn of(k: Kind) -> Self {
        Self(1 << Kind::ALL.iter().position(|x| *x == k).unwrap_or(0))
    }

    /// Parses a comma-separated list of kind slugs.
    ///
    /// # Errors
    /// Names the first unknown slug.
    pub fn parse(field: &str, text: &str) -> Result<Self, InputError> {
        let mut set = Self(0);
        for part in text.split(',').filter(|s| !s.trim().is_empty()) {
            set.0 |= Self::of(Kind::parse(field, part)?).0;
        }
        Ok(set)
    }

    /// Whether every kind of `other` is in this set.
    #[must_use]
    pub fn contains_all(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether the kind is in the set.
    #[must_use]
    pub fn has(self, k: Kind) -> bool {
        self.contains_all(Self::of(k))
    }

    /// Slugs of the kinds in the set.
    pub fn slugs(self) -> impl Iterator<Item = &'static str> {
        Kind::ALL
            .iter()
            .copied()
            .filter(move |k| self.has(*k))
            .map(Kind::as_str)
    }
}

pub use self::Kind as ActorKind;

/// An actor as stored: every field of the schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActorRecord {
    /// Identifier.
    pub id: ActorId,
    /// Validated content.
    #[serde(flatten)]
    pub fields: ActorFields,
    /// Publication status.
    pub status: Status,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Last update time, RFC 3339 UTC.
    pub updated_at: String,
}

/// The content of an actor, validated: what a creation or an import provides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActorFields {
    /// Public name.
    pub name: String,
    /// Short description, plain text.
    pub description: Option<String>,
    /// Category slugs (at least one), as assigned.
    pub categories: Vec<String>,
    /// Legal family.
    pub family: Family,
    /// Additional kinds.
    #[serde(serialize_with = "serialize_kinds")]
    pub kinds: KindSet,
    /// SIRET of the establishment, when known.
    #[serde(serialize_with = "serialize_display_opt")]
    pub siret: Option<Siret>,
    /// Street address (number and street).
    pub street: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// Commune (INSEE code).
    #[serde(serialize_with = "serialize_display")]
    pub commune: InseeCode,
    /// Location, WGS84.
    pub location: LonLat,
    /// How precise `location` is.
    pub precision: GeocodePrecision,
    /// Website URL.
    pub website: Option<String>,
    /// Organisation's public e-mail.
    pub email: Option<String>,
    /// Organisation's public phone number.
    pub phone: Option<String>,
    /// Opening hours, OpenStreetMap `opening_hours` syntax.
    pub opening_hours: Option<String>,
    /// Accessibility notes.
    pub accessibility: Option<String>,
    /// Data source name.
    pub source: String,
    /// Identifier or URL of the record in its source.
    pub source_ref: Option<String>,
    /// Demonstration data, not a real structure.
    pub demo: bool,
}

fn serialize_kinds<S: serde::Serializer>(k: &KindSet, s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(k.slugs())
}

fn serialize_display<T: fmt::Display, S: serde::Serializer>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn serialize_display_opt<T: fmt::Display, S: serde::Serializer>(
    v: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_slugs_round_trip_and_unknown_ones_list_the_choices() {
        for f in Family::ALL {
            assert_eq!(Family::parse("family", f.as_str()), Ok(*f));
        }
        let e = Family::parse("family", "sarl").expect_err("unknown");
        assert!(
            e.rule.contains("association") && e.rule.contains("'sarl'"),
            "{}",
            e.rule
        );
    }

    #[test]
    fn sets_hold_what_was_parsed() {
        let f = FamilySet::parse("family", "association,mutuelle").expect("known");
        assert!(f.contains(Family::Association) && f.contains(Family::Mutuelle));
        assert!(!f.contains(Family::Fondation));
        let k = KindSet::parse("kind", "tiers-lieu").expect("known");
        assert!(k.has(Kind::TiersLieu) && !k.has(Kind::Ptce));
        assert_eq!(k.slugs().collect::<Vec<_>>(), vec!["tiers-lieu"]);
    }
}
