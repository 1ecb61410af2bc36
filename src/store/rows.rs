//! Rows as both backends return them (`sqlx::FromRow`, generic over the driver), and their
//! conversion into domain values. Both schemas use the same column names and kinds of values.

use super::StoreError;
use super::admin::{Contribution, ContributionKind, HistoryAction, HistoryEntry, TokenInfo};
use crate::domain::actor::{ActorFields, ActorRecord, Kind};
use crate::domain::territory::{TerritoryKind, TerritoryRecord, parse_area_geometry};
use crate::domain::{
    ActorId, CategoryDef, Family, GeocodePrecision, InseeCode, KindSet, LonLat, Siret, Status,
};
use serde_json::Value;
use std::time::Duration;

/// Columns read into an [`ActorRow`].
pub(super) const ACTOR_COLUMNS: &str = "id, name, description, categories, family, is_tiers_lieu, is_ptce, is_reseau, siret, street, \
     postcode, commune_code, lon_e7, lat_e7, precision, website, email, phone, opening_hours, accessibility, source, \
     source_ref, demo, status, created_at, updated_at";

/// Columns read into a [`ContributionRow`].
pub(super) const CONTRIBUTION_COLUMNS: &str = "id, kind, actor_id, proposed, message, contributor_email, status, created_at, \
     decided_at, decided_by, reason, applied, result_actor_id";

/// Columns read into a [`TerritoryRow`].
pub(super) const TERRITORY_COLUMNS: &str = "kind, code, name, population, population_published, commune_count, postcodes, epci, departement, departements, region, \
     area_m2, point_lon, point_lat, point_origin, geometry_origin, geometry";

pub(super) fn corrupt<T>(r: std::result::Result<T, crate::domain::InputError>) -> super::Result<T> {
    r.map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// One actor, as stored.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ActorRow {
    id: i64,
    name: String,
    description: Option<String>,
    categories: String,
    family: String,
    is_tiers_lieu: bool,
    is_ptce: bool,
    is_reseau: bool,
    siret: Option<String>,
    street: Option<String>,
    postcode: Option<String>,
    commune_code: String,
    lon_e7: i64,
    lat_e7: i64,
    precision: String,
    website: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    opening_hours: Option<String>,
    accessibility: Option<String>,
    source: String,
    source_ref: Option<String>,
    demo: bool,
    status: String,
    created_at: String,
    updated_at: String,
}

/// The kinds of an actor from its three flags.
pub(super) fn kinds_from(tiers_lieu: bool, ptce: bool, reseau: bool) -> KindSet {
    let mut k = KindSet::default();
    for (on, kind) in [
        (tiers_lieu, Kind::TiersLieu),
        (ptce, Kind::Ptce),
        (reseau, Kind::Reseau),
    ] {
        if on {
            k.0 |= KindSet::of(kind).0;
        }
    }
    k
}

impl TryFrom<ActorRow> for ActorRecord {
    type Error = StoreError;

    fn try_from(r: ActorRow) -> super::Result<Self> {
        Ok(Self {
            id: ActorId(r.id),
            fields: ActorFields {
                name: r.name,
                description: r.description,
                categories: r.categories.split_whitespace().map(str::to_owned).collect(),
                family: corrupt(Family::parse("family", &r.family))?,
                kinds: kinds_from(r.is_tiers_lieu, r.is_ptce, r.is_reseau),
                siret: r
                    .siret
                    .map(|s| corrupt(Siret::parse("siret", &s)))
                    .transpose()?,
                street: r.street,
                postcode: r.postcode,
                commune: corrupt(InseeCode::parse("commune_code", &r.commune_code))?,
                location: corrupt(LonLat::from_e7(r.lon_e7, r.lat_e7))?,
                precision: corrupt(GeocodePrecision::parse("precision", &r.precision))?,
                website: r.website,
                email: r.email,
                phone: r.phone,
                opening_hours: r.opening_hours,
                accessibility: r.accessibility,
                source: r.source,
                source_ref: r.source_ref,
                demo: r.demo,
            },
            status: corrupt(Status::parse("status", &r.status))?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Converts rows, stopping at the first corrupt one.
pub(super) fn records(rows: Vec<ActorRow>) -> super::Result<Vec<ActorRecord>> {
    rows.into_iter().map(ActorRecord::try_from).collect()
}

/// One territory, as stored (geometry as GeoJSON text).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TerritoryRow {
    kind: String,
    code: String,
    name: String,
    population: i64,
    population_published: Option<i64>,
    commune_count: i64,
    postcodes: String,
    epci: Option<String>,
    departement: Option<String>,
    departements: String,
    region: Option<String>,
    area_m2: Option<f64>,
    point_lon: Option<f64>,
    point_lat: Option<f64>,
    point_origin: Option<String>,
    geometry_origin: Option<String>,
    geometry: Option<String>,
}

impl TryFrom<TerritoryRow> for TerritoryRecord {
    type Error = StoreError;

    fn try_from(r: TerritoryRow) -> super::Result<Self> {
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        Ok(Self {
            kind: corrupt(TerritoryKind::parse("kind", &r.kind))?,
            code: r.code,
            name: r.name,
            population: u64::try_from(r.population)
                .map_err(|_| StoreError::Corrupt(format!("population {}", r.population)))?,
            population_published: r
                .population_published
                .map(|p| {
                    u64::try_from(p)
                        .map_err(|_| StoreError::Corrupt(format!("published population {p}")))
                })
                .transpose()?,
            postcodes: words(&r.postcodes),
            commune_count: u32::try_from(r.commune_count)
                .map_err(|_| StoreError::Corrupt(format!("commune count {}", r.commune_count)))?,
            epci: r.epci,
            departement: r.departement,
            departements: words(&r.departements),
            region: r.region,
            area_m2: r.area_m2,
            point: match (r.point_lon, r.point_lat) {
                (Some(lon), Some(lat)) => Some([lon, lat]),
                _ => None,
            },
            point_origin: r.point_origin,
            geometry_origin: r.geometry_origin,
            geometry: r
                .geometry
                .map(|g| {
                    parse_area_geometry(&g)
                        .map_err(|e| StoreError::Corrupt(format!("territory geometry: {e}")))
                })
                .transpose()?,
        })
    }
}

/// A category of the taxonomy.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct CategoryRow {
    slug: String,
    parent: Option<String>,
    label_fr: String,
    label_en: String,
    colour: String,
    icon: String,
}

impl From<CategoryRow> for CategoryDef {
    fn from(r: CategoryRow) -> Self {
        Self {
            slug: r.slug,
            parent: r.parent,
            label_fr: r.label_fr,
            label_en: r.label_en,
            colour: r.colour,
            icon: r.icon,
        }
    }
}

/// An administrator token as listed.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct TokenRow {
    name: String,
    created_at: String,
    last_used_at: Option<String>,
    revoked_at: Option<String>,
}

impl From<TokenRow> for TokenInfo {
    fn from(r: TokenRow) -> Self {
        Self {
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

fn json(name: &str, text: Option<String>) -> super::Result<Option<Value>> {
    text.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name}: {e}"))))
        .transpose()
}

/// A contribution, as stored (JSON values as text).
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ContributionRow {
    id: i64,
    kind: String,
    actor_id: Option<i64>,
    proposed: String,
    message: Option<String>,
    contributor_email: Option<String>,
    status: String,
    created_at: String,
    decided_at: Option<String>,
    decided_by: Option<String>,
    reason: Option<String>,
    applied: Option<String>,
    result_actor_id: Option<i64>,
}

impl TryFrom<ContributionRow> for Contribution {
    type Error = StoreError;

    fn try_from(r: ContributionRow) -> super::Result<Self> {
        Ok(Self {
            id: r.id,
            kind: ContributionKind::parse(&r.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("contribution kind '{}'", r.kind)))?,
            actor_id: r.actor_id.map(ActorId),
            proposed: json("proposed", Some(r.proposed))?.unwrap_or(Value::Null),
            message: r.message,
            contributor_email: r.contributor_email,
            status: r.status,
            created_at: r.created_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by,
            reason: r.reason,
            applied: json("applied", r.applied)?,
            result_actor_id: r.result_actor_id.map(ActorId),
        })
    }
}

/// One entry of an actor's history.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct HistoryRow {
    id: i64,
    at: String,
    author: String,
    action: String,
    contribution_id: Option<i64>,
    changes: String,
}

impl TryFrom<HistoryRow> for HistoryEntry {
    type Error = StoreError;

    fn try_from(r: HistoryRow) -> super::Result<Self> {
        Ok(Self {
            id: r.id,
            at: r.at,
            author: r.author,
            action: HistoryAction::parse(&r.action)?,
            contribution_id: r.contribution_id,
            changes: json("changes", Some(r.changes))?.unwrap_or(Value::Null),
        })
    }
}

/// The content columns of an actor in the order of the `INSERT` and `UPDATE` statements of
/// both backends, ready to bind.
pub(super) struct ContentValues<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub categories: String,
    pub family: &'static str,
    pub tiers_lieu: bool,
    pub ptce: bool,
    pub reseau: bool,
    pub siret: Option<&'a str>,
    pub street: Option<&'a str>,
    pub postcode: Option<&'a str>,
    pub commune: &'a str,
    pub lon: f64,
    pub lat: f64,
    pub lon_e7: i64,
    pub lat_e7: i64,
    pub precision: &'static str,
    pub website: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub opening_hours: Option<&'a str>,
    pub accessibility: Option<&'a str>,
}

impl<'a> ContentValues<'a> {
    /// The values of `a`; positions are written in fixed point and as the `REAL` they stand
    /// for.
    pub fn of(a: &'a ActorFields) -> Self {
        let [lon_e7, lat_e7] = a.location.to_e7();
        let q = a.location.quantized();
        Self {
            name: &a.name,
            description: a.description.as_deref(),
            categories: a.categories.join(" "),
            family: a.family.as_str(),
            tiers_lieu: a.kinds.has(Kind::TiersLieu),
            ptce: a.kinds.has(Kind::Ptce),
            reseau: a.kinds.has(Kind::Reseau),
            siret: a.siret.as_ref().map(Siret::as_str),
            street: a.street.as_deref(),
            postcode: a.postcode.as_deref(),
            commune: a.commune.as_str(),
            lon: q.lon(),
            lat: q.lat(),
            lon_e7,
            lat_e7,
            precision: a.precision.as_str(),
            website: a.website.as_deref(),
            email: a.email.as_deref(),
            phone: a.phone.as_deref(),
            opening_hours: a.opening_hours.as_deref(),
            accessibility: a.accessibility.as_deref(),
        }
    }
}

/// Binds [`ContentValues`] in order on any sqlx query.
macro_rules! bind_content {
    ($query:expr, $v:expr) => {{
        let v: &$crate::store::rows::ContentValues<'_> = $v;
        $query
            .bind(v.name)
            .bind(v.description)
            .bind(v.categories.as_str())
            .bind(v.family)
            .bind(v.tiers_lieu)
            .bind(v.ptce)
            .bind(v.reseau)
            .bind(v.siret)
            .bind(v.street)
            .bind(v.postcode)
            .bind(v.commune)
            .bind(v.lon)
            .bind(v.lat)
            .bind(v.lon_e7)
            .bind(v.lat_e7)
            .bind(v.precision)
            .bind(v.website)
            .bind(v.email)
            .bind(v.phone)
            .bind(v.opening_hours)
            .bind(v.accessibility)
    }};
}
pub(super) use bind_content;

/// Categories of `current` (space-separated) followed by those of `more` it lacks.
pub(super) fn merged_categories(current: &str, more: &[String]) -> String {
    let mut categories: Vec<&str> = current.split_whitespace().collect();
    for c in more {
        if !categories.contains(&c.as_str()) {
            categories.push(c);
        }
    }
    categories.join(" ")
}

/// Now, RFC 3339 UTC to the second.
pub(super) fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::domain::hours::rfc3339_utc(secs)
}

/// Now, milliseconds since the Unix epoch (rate-limit buckets).
pub(super) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// How long until a bucket holding `tokens` reaches one, refilled at `per_ms` a millisecond.
pub(super) fn wait_for_token(tokens: f64, per_ms: f64) -> Duration {
    let ms = ((1.0 - tokens).max(0.0) / per_ms).ceil();
    Duration::from_millis(if ms.is_finite() { ms as u64 } else { 3_600_000 })
}
