//! An actor as it arrives from outside (an import row, an administrator's form, a public
//! contribution) and the one validation that turns it into [`ActorFields`].
//!
//! Every entry point shares this code, so an import, the administration API and a moderated
//! contribution accept and refuse exactly the same values.

use super::geocode::{GeocodeError, GeocodeHit, GeocodeQuery, Geocoder};
use crate::domain::actor::{ActorFields, KindSet};
use crate::domain::{
    Catalog, Family, GeocodePrecision, InputError, InseeCode, LonLat, Siret, Status, TerritoryKind,
};
use crate::index::territories::{Territories, TerritoryIdx};
use crate::index::text::fold;
use crate::seed::{COMMUNE_TOLERANCE_M, distance_to_commune};
use serde::Deserialize;

/// Longest accepted name, in characters (the store enforces it too).
pub const NAME_MAX: usize = 200;
/// Longest accepted description, in characters.
pub const DESCRIPTION_MAX: usize = 4000;
/// Longest accepted short text (street, accessibility notes, opening hours…), in characters.
pub const SHORT_MAX: usize = 500;

/// Raw values of an actor, every one optional and unchecked.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ActorDraft {
    /// Public name.
    pub name: Option<String>,
    /// Description, plain text.
    pub description: Option<String>,
    /// Category slugs.
    pub categories: Vec<String>,
    /// Family slug.
    pub family: Option<String>,
    /// Kind slugs (`tiers-lieu`, `ptce`, `reseau`).
    pub kinds: Vec<String>,
    /// SIRET.
    pub siret: Option<String>,
    /// Number and street.
    pub street: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// INSEE code of the commune.
    pub commune: Option<String>,
    /// Name of the commune (used with the postcode when the INSEE code is missing).
    pub city: Option<String>,
    /// Longitude, WGS84 decimal degrees.
    pub lon: Option<f64>,
    /// Latitude, WGS84 decimal degrees.
    pub lat: Option<f64>,
    /// Precision slug of the given coordinates (default `address`).
    pub precision: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// Public e-mail of the organisation.
    pub email: Option<String>,
    /// Public phone of the organisation.
    pub phone: Option<String>,
    /// OpenStreetMap `opening_hours`.
    pub opening_hours: Option<String>,
    /// Accessibility notes.
    pub accessibility: Option<String>,
    /// Identifier of the record in its source.
    pub source_ref: Option<String>,
    /// Status slug (default `published`).
    pub status: Option<String>,
}

/// How strictly optional values are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Every broken rule is an error (forms and the administration API: the person can fix it).
    Strict,
    /// A broken optional value (website, phone, SIRET…) is dropped with a warning; only the
    /// values an actor cannot do without are errors (imports: one odd cell must not lose a row).
    Lenient,
}

/// A validated actor with what validation noticed.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    /// The content to store.
    pub fields: ActorFields,
    /// Its status.
    pub status: Status,
    /// Values dropped or corrected, in plain words.
    pub warnings: Vec<String>,
    /// Set when the given coordinates were not in the given commune (`outside-commune`) or not in
    /// France (`outside-france`) and another location was used.
    pub location_flag: Option<&'static str>,
}

/// Why a draft was refused.
#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    /// Values break rules.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<InputError>),
    /// The geocoder could not be reached or answered nonsense: not the row's fault.
    #[error(transparent)]
    Geocoder(#[from] GeocodeError),
}

/// What validation needs: the taxonomy, the territories and, optionally, a geocoder.
pub struct Validator<'a> {
    /// Category taxonomy.
    pub catalog: &'a Catalog,
    /// Reference territories.
    pub territories: &'a Territories,
    /// BAN-compatible geocoder for rows without coordinates.
    pub geocoder: Option<&'a dyn Geocoder>,
    /// Source name recorded on every actor.
    pub source: &'a str,
    /// Strictness of optional values.
    pub strictness: Strictness,
}

/// Collects errors and warnings while a draft is checked.
struct Checks {
    strictness: Strictness,
    errors: Vec<InputError>,
    warnings: Vec<String>,
}

impl Checks {
    /// An optional value broke a rule: an error when strict, a warning when lenient.
    fn optional(&mut self, e: InputError) {
        match self.strictness {
            Strictness::Strict => self.errors.push(e),
            Strictness::Lenient => self.warnings.push(format!("{e} (value dropped)")),
        }
    }

    fn keep<T>(&mut self, r: Result<Option<T>, InputError>) -> Option<T> {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.optional(e);
                None
            }
        }
    }

    fn require<T>(&mut self, r: Result<T, InputError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }
}

impl Validator<'_> {
    /// Checks a draft and resolves its location.
    ///
    /// # Errors
    /// [`DraftError::Invalid`] lists every broken rule; [`DraftError::Geocoder`] when the
    /// configured geocoder fails (the caller should stop rather than degrade every row).
    pub fn validate(&self, d: &ActorDraft) -> Result<Validated, DraftError> {
        let mut c = Checks {
            strictness: self.strictness,
            errors: Vec::new(),
            warnings: Vec::new(),
        };
        let name = c.require(
            text("name", d.name.as_deref(), NAME_MAX)
                .and_then(|n| n.ok_or_else(|| InputError::new("name", "a name is required"))),
        );
        let description = c.keep(text(
            "description",
            d.description.as_deref(),
            DESCRIPTION_MAX,
        ));
        let categories: Vec<String> = dedup(d.categories.iter().map(|s| s.trim().to_owned()));
        c.require(self.catalog.parse_assigned("categories", &categories));
        let family = match d.family.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(f) => c.require(Family::parse("family", f)),
            None => match self.strictness {
                Strictness::Strict => c.require(Err(InputError::new(
                    "family",
                    "a family is required (association, cooperative, mutuelle, fondation, entreprise-ess or autre)",
                ))),
                Strictness::Lenient => {
                    c.warnings
                        .push("family: not given, recorded as 'autre'".to_owned());
                    Some(Family::Autre)
                }
            },
        };
        let mut kinds = KindSet::default();
        for k in &d.kinds {
            if let Some(set) = c.require(KindSet::parse("kinds", k)) {
                kinds.0 |= set.0;
            }
        }
        let siret = c.keep(
            opt(d.siret.as_deref())
                .map(|s| Siret::parse("siret", s))
                .transpose(),
        );
        let street = c.keep(text("street", d.street.as_deref(), SHORT_MAX));
        let postcode = c.keep(postcode(d.postcode.as_deref()));
        let website = c.keep(website(d.website.as_deref()));
        let email = c.keep(email(d.email.as_deref()));
        let phone = c.keep(phone(d.phone.as_deref()));
        let opening_hours = c.keep(text("opening_hours", d.opening_hours.as_deref(), SHORT_MAX));
        let accessibility = c.keep(text("accessibility", d.accessibility.as_deref(), SHORT_MAX));
        let source_ref = c.keep(text("source_ref", d.source_ref.as_deref(), SHORT_MAX));
        let status = c.require(Status::parse(
            "status",
            d.status
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or("published"),
        ));
        let precision = c.require(GeocodePrecision::parse(
            "precision",
            d.precision
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or("address"),
        ));

        if !c.errors.is_empty() {
            return Err(DraftError::Invalid(c.errors));
        }
        let (Some(name), Some(family), Some(status), Some(precision)) =
            (name, family, status, precision)
        else {
            return Err(DraftError::Invalid(c.errors));
        };
        let located = self.locate(d, street.as_deref(), postcode.as_deref(), precision, &mut c)?;
        let Some((commune, location, precision, flag)) = located else {
            return Err(DraftError::Invalid(c.errors));
        };
        Ok(Validated {
            fields: ActorFields {
                name,
                description,
                categories,
                family,
                kinds,
                siret,
                street,
                postcode,
                commune,
                location,
                precision,
                website,
                email,
                phone,
                opening_hours,
                accessibility,
                source: self.source.to_owned(),
                source_ref,
                demo: false,
            },
            status,
            warnings: c.warnings,
            location_flag: flag,
        })
    }

    /// Finds the commune and the point: given coordinates checked against the commune, else the
    /// geocoder, else the commune's representative point.
    #[allow(clippy::type_complexity)]
    fn locate(
        &self,
        d: &ActorDraft,
        street: Option<&str>,
        postcode: Option<&str>,
        precision: GeocodePrecision,
        c: &mut Checks,
    ) -> Result<Option<(InseeCode, LonLat, GeocodePrecision, Option<&'static str>)>, DraftError>
    {
        let t = self.territories;
        let mut flag = None;
        let commune = match opt(d.commune.as_deref()) {
            Some(code) => match InseeCode::parse("commune", code) {
                Ok(code) => match t.find(TerritoryKind::Commune, code.as_str()) {
                    Some(idx) => Some(idx),
                    None => {
                        c.warnings.push(format!(
                            "commune: {code} is not a current commune of the reference data"
                        ));
                        None
                    }
                },
                Err(e) => {
                    c.warnings.push(e.to_string());
                    None
                }
            },
            None => None,
        };
        let commune = commune.or_else(|| self.commune_by_postcode(postcode, d.city.as_deref()));
        let point = match (d.lon, d.lat) {
            (Some(lon), Some(lat)) => match LonLat::new(lon, lat) {
                Ok(p) => Some(p),
                Err(e) => {
                    c.warnings.push(format!("{e} (coordinates ignored)"));
                    None
                }
            },
            (None, None) => None,
            _ => {
                c.warnings
                    .push("lon/lat: only one of the two is given (coordinates ignored)".into());
                None
            }
        };
        if let Some(p) = point {
            match commune {
                Some(idx) => {
                    let inside = t.commune_covers(idx, p).unwrap_or(false)
                        || distance_to_commune(t, idx, p) <= COMMUNE_TOLERANCE_M;
                    if inside {
                        return Ok(Some((self.code(idx)?, p, precision, None)));
                    }
                    c.warnings.push(format!(
                        "location: [{}, {}] is not in commune {} ({}); another location is used",
                        p.lon(),
                        p.lat(),
                        self.code(idx)?,
                        t.get(idx).map_or("", |x| x.record.name.as_str())
                    ));
                    flag = Some("outside-commune");
                }
                None => match t.commune_at(p) {
                    Some(idx) => return Ok(Some((self.code(idx)?, p, precision, None))),
                    None => {
                        c.warnings.push(format!(
                            "location: [{}, {}] is in no French commune (latitude and longitude swapped?)",
                            p.lon(),
                            p.lat()
                        ));
                        flag = Some("outside-france");
                    }
                },
            }
        }
        // No usable coordinates: geocode the address, then fall back on the commune.
        if let (Some(geocoder), Some(street)) = (self.geocoder, street) {
            let query = GeocodeQuery {
                street: street.to_owned(),
                postcode: postcode.map(str::to_owned),
                city: d.city.clone(),
                citycode: commune
                    .and_then(|i| t.get(i))
                    .map(|x| x.record.code.clone()),
            };
            if let Some(hit) = geocoder.geocode(&query)? {
                if let Some(found) = self.accept_hit(&hit, commune, c)? {
                    return Ok(Some((found.0, found.1, found.2, flag)));
                }
            } else {
                c.warnings
                    .push(format!("geocoder: no match for '{}'", query.text()));
            }
        }
        let Some(idx) = commune else {
            c.errors.push(InputError::new(
                "commune",
                "the commune is unknown: give an INSEE code, a postcode and commune name, or coordinates in France",
            ));
            return Ok(None);
        };
        let Some(p) = t.get(idx).and_then(|x| x.point()) else {
            c.errors.push(InputError::new(
                "location",
                format!(
                    "commune {} has no known location: give the actor's coordinates",
                    self.code(idx)?
                ),
            ));
            return Ok(None);
        };
        Ok(Some((self.code(idx)?, p, GeocodePrecision::Commune, flag)))
    }

    #[allow(clippy::type_complexity)]
    fn accept_hit(
        &self,
        hit: &GeocodeHit,
        commune: Option<TerritoryIdx>,
        c: &mut Checks,
    ) -> Result<Option<(InseeCode, LonLat, GeocodePrecision)>, DraftError> {
        let t = self.territories;
        let found = t.commune_at(hit.location).or_else(|| {
            hit.citycode
                .as_deref()
                .and_then(|code| t.find(TerritoryKind::Commune, code))
        });
        let Some(found) = found else {
            c.warnings
                .push("geocoder: the result is in no known commune (ignored)".into());
            return Ok(None);
        };
        if let Some(expected) = commune
            && expected != found
            && distance_to_commune(t, expected, hit.location) > COMMUNE_TOLERANCE_M
        {
            c.warnings.push(format!(
                "geocoder: the result is in commune {}, not {} (ignored)",
                self.code(found)?,
                self.code(expected)?
            ));
            return Ok(None);
        }
        let idx = commune.unwrap_or(found);
        Ok(Some((self.code(idx)?, hit.location, hit.precision)))
    }

    fn code(&self, idx: TerritoryIdx) -> Result<InseeCode, DraftError> {
        let code = self
            .territories
            .get(idx)
            .map_or("", |x| x.record.code.as_str());
        InseeCode::parse("commune", code).map_err(|e| DraftError::Invalid(vec![e]))
    }

    /// The commune using `postcode`, picked by name when several do.
    fn commune_by_postcode(
        &self,
        postcode: Option<&str>,
        city: Option<&str>,
    ) -> Option<TerritoryIdx> {
        let t = self.territories;
        let communes: Vec<TerritoryIdx> = t
            .with_postcode(postcode?)
            .iter()
            .copied()
            .filter(|&i| t.get(i).is_some_and(|x| x.kind == TerritoryKind::Commune))
            .collect();
        if let [only] = communes.as_slice() {
            return Some(*only);
        }
        let wanted = fold(city?.trim());
        let wanted = wanted.trim();
        communes
            .iter()
            .copied()
            .find(|&i| t.folded_name(i) == wanted)
            .or_else(|| {
                // "Paris 11e Arrondissement", "Lyon": accept a name that starts the other.
                communes.iter().copied().find(|&i| {
                    let n = t.folded_name(i);
                    !wanted.is_empty() && (n.starts_with(wanted) || wanted.starts_with(n))
                })
            })
    }
}

fn opt(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

fn dedup(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in values.filter(|v| !v.is_empty()) {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Whether a text holds markup: `<` followed by a letter, `/`, `!` or `?`.
#[must_use]
pub fn has_markup(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0] == b'<' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'/' | b'!' | b'?')))
}

/// Plain text: trimmed, control characters other than line breaks and tabs refused, markup
/// refused, at most `max` characters; empty becomes `None`.
///
/// # Errors
/// Names the field and the rule.
pub fn text(field: &str, v: Option<&str>, max: usize) -> Result<Option<String>, InputError> {
    let Some(v) = opt(v) else { return Ok(None) };
    if has_markup(v) {
        return Err(InputError::new(
            field,
            "HTML is not accepted: plain text only",
        ));
    }
    if v.chars()
        .any(|ch| ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
    {
        return Err(InputError::new(
            field,
            "control characters are not accepted",
        ));
    }
    let n = v.chars().count();
    if n > max {
        return Err(InputError::new(
            field,
            format!("at most {max} characters (got {n})"),
        ));
    }
    Ok(Some(v.replace("\r\n", "\n")))
}

/// A French postcode: five digits.
///
/// # Errors
/// When it is not five digits.
pub fn postcode(v: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(v) = opt(v) else { return Ok(None) };
    let compact: String = v.chars().filter(|c| !c.is_whitespace()).collect();
    // Spreadsheets drop the leading zero of 01000–09999.
    let compact = if compact.len() == 4 && compact.bytes().all(|b| b.is_ascii_digit()) {
        format!("0{compact}")
    } else {
        compact
    };
    if compact.len() == 5 && compact.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(compact))
    } else {
        Err(InputError::new(
            "postcode",
            format!("'{v}' is not a postcode (five digits)"),
        ))
    }
}

/// A website: `http(s)://host…`; a bare `www.example.fr` gets `https://`.
///
/// # Errors
/// When it is not a web address.
pub fn website(v: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(v) = opt(v) else { return Ok(None) };
    let url = if v.starts_with("http://") || v.starts_with("https://") {
        v.to_owned()
    } else {
        format!("https://{v}")
    };
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let ok = url.len() <= SHORT_MAX
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '<' || c == '>')
        && host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.');
    if ok {
        Ok(Some(url))
    } else {
        Err(InputError::new(
            "website",
            format!("'{v}' is not a web address (https://example.org)"),
        ))
    }
}

/// An e-mail address (`local@domain.tld`); of a list separated by `|`, `;` or `,`, the first.
///
/// # Errors
/// When it is not an address.
pub fn email(v: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(v) = opt(v) else { return Ok(None) };
    let first = v
        .split(['|', ';', ','])
        .map(str::trim)
        .find(|s| !s.is_empty());
    let Some(first) = first else { return Ok(None) };
    let first = first.strip_prefix("mailto:").unwrap_or(first);
    let ok = first.len() <= 254
        && first.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        })
        && !first
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '"'));
    if ok {
        Ok(Some(first.to_owned()))
    } else {
        Err(InputError::new(
            "email",
            format!("'{v}' is not an e-mail address"),
        ))
    }
}

/// A phone number: French numbers written `01 23 45 67 89` or `+33 1 23 45 67 89`, other
/// international numbers kept with their `+`.
///
/// # Errors
/// When it is not a phone number.
pub fn phone(v: Option<&str>) -> Result<Option<String>, InputError> {
    let Some(v) = opt(v) else { return Ok(None) };
    let first = v
        .split(['|', ';', ',', '/'])
        .map(str::trim)
        .find(|s| !s.is_empty());
    let Some(first) = first else { return Ok(None) };
    let plus = first.starts_with('+') || first.starts_with("00");
    let digits: String = first.chars().filter(char::is_ascii_digit).collect();
    let junk = first
        .chars()
        .any(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '.' | '-' | '+' | '(' | ')')));
    let bad = || InputError::new("phone", format!("'{v}' is not a phone number"));
    if junk {
        return Err(bad());
    }
    let pairs = |s: &str| {
        s.as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !plus && digits.len() == 10 && digits.starts_with('0') && &digits[1..2] != "0" {
        return Ok(Some(pairs(&digits)));
    }
    let intl = digits.strip_prefix("00").unwrap_or(&digits);
    // "+33 (0)2 40…": the bracketed trunk prefix is written by habit, not dialled.
    let intl = match intl.strip_prefix("330") {
        Some(rest) if intl.len() == 12 => format!("33{rest}"),
        _ => intl.to_owned(),
    };
    if plus && intl.starts_with("33") {
        if intl.len() != 11 {
            return Err(bad());
        }
        return Ok(Some(format!("+33 {} {}", &intl[2..3], pairs(&intl[3..]))));
    }
    if plus && (6..=15).contains(&intl.len()) {
        return Ok(Some(format!("+{intl}")));
    }
    Err(bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_values_are_normalised_or_refused() {
        assert_eq!(
            phone(Some("02.40.12.34.56")),
            Ok(Some("02 40 12 34 56".into()))
        );
        assert_eq!(
            phone(Some("+33 (0)2 40 12 34 56")),
            Ok(Some("+33 2 40 12 34 56".into()))
        );
        assert!(
            phone(Some("+33 2 40 12 34")).is_err(),
            "a French number too short"
        );
        assert_eq!(
            phone(Some("+33240123456")),
            Ok(Some("+33 2 40 12 34 56".into()))
        );
        assert_eq!(
            phone(Some("0033 2 40 12 34 56")),
            Ok(Some("+33 2 40 12 34 56".into()))
        );
        assert!(phone(Some("appelez-nous")).is_err());
        assert!(phone(Some("12")).is_err());
        assert_eq!(
            website(Some("www.solilab.org")),
            Ok(Some("https://www.solilab.org".into()))
        );
        assert!(website(Some("pas un site")).is_err());
        assert!(website(Some("https://localhost")).is_err());
        assert_eq!(
            email(Some("contact@exemple.fr|autre@exemple.fr")),
            Ok(Some("contact@exemple.fr".into()))
        );
        assert!(email(Some("contact@exemple")).is_err());
        assert_eq!(postcode(Some("1000")), Ok(Some("01000".into())));
        assert!(postcode(Some("4400A")).is_err());
        assert_eq!(postcode(Some("  ")), Ok(None));
    }

    #[test]
    fn markup_and_control_characters_are_refused() {
        assert!(has_markup("<b>gras</b>"));
        assert!(has_markup("x</script>"));
        assert!(!has_markup("a < b et 3<4"));
        assert!(text("name", Some("<img src=x onerror=alert(1)>"), 200).is_err());
        assert!(text("name", Some("a\u{7}b"), 200).is_err());
        assert_eq!(
            text("name", Some("  Le 6-10 "), 200),
            Ok(Some("Le 6-10".into()))
        );
        assert!(text("name", Some(&"x".repeat(201)), 200).is_err());
    }
}
