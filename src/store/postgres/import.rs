//! The import transaction, and the actor writes it shares with the administration.
//!
//! An import is one transaction on one connection. In PostgreSQL an error aborts the whole
//! transaction, so every record that writes runs under the savepoint `r`: a record refused by
//! a constraint is rolled back to it alone ([`StoreError::Conflict`]) and the import goes on.
//! Round trips per record: one lookup (a read, outside any savepoint: an unchanged record
//! costs only that), then, for a record that writes, the savepoint (`RELEASE SAVEPOINT r;
//! SAVEPOINT r`, one simple query that also releases the previous record's) and one statement
//! that writes the actor and its `actor_sources` row together (a data-modifying `WITH`).
//! Round trips dominate the cost (about 0.1 ms each on a local server): a batch upsert in the
//! contract would let lookups and writes go by the thousand.
//!
//! Each record that writes takes a subtransaction id. PostgreSQL keeps a million of them in one
//! transaction without trouble (each is released before the next), but while the import runs,
//! other sessions that meet its uncommitted rows resolve those ids through `pg_subtrans`, which
//! makes their reads of those rows somewhat slower.

use super::super::rows::{ContentValues, bind_content, merged_categories, now_utc};
use super::super::{
    ImportRun, ImportSession, MergeCounts, Result, StoreError, UpsertRecord, Upserted,
};
use crate::domain::actor::ActorFields;
use crate::domain::{ActorId, GeocodePrecision, Status};
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Postgres};

/// A new actor: the content columns, then source, reference, demo, status and location flag.
pub(super) const INSERT_ACTOR: &str = "INSERT INTO actors (name, description, categories, family, is_tiers_lieu, is_ptce, \
     is_reseau, siret, street, postcode, commune_code, lon, lat, lon_e7, lat_e7, precision, website, email, phone, \
     opening_hours, accessibility, source, source_ref, demo, status, location_flag) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
     $24, $25, $26) RETURNING id";

/// Every content column of an actor, then status, location flag, and the id.
pub(super) const UPDATE_ACTOR: &str = "UPDATE actors SET name = $1, description = $2, categories = $3, family = $4, \
     is_tiers_lieu = $5, is_ptce = $6, is_reseau = $7, siret = $8, street = $9, postcode = $10, commune_code = $11, \
     lon = $12, lat = $13, lon_e7 = $14, lat_e7 = $15, precision = $16, website = $17, email = $18, phone = $19, \
     opening_hours = $20, accessibility = $21, status = $22, location_flag = $23, updated_at = ancrage_now() \
     WHERE id = $24";

/// [`INSERT_ACTOR`], then its `actor_sources` row (source $22, reference $23, hash $27);
/// returns the new id.
const INSERT_IMPORTED: &str = "WITH w AS (INSERT INTO actors (name, description, categories, family, is_tiers_lieu, \
     is_ptce, is_reseau, siret, street, postcode, commune_code, lon, lat, lon_e7, lat_e7, precision, website, email, \
     phone, opening_hours, accessibility, source, source_ref, demo, status, location_flag) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
     $24, $25, $26) RETURNING id) \
     INSERT INTO actor_sources (source, source_ref, actor_id, fields_hash) SELECT $22, $23, w.id, $27 FROM w \
     ON CONFLICT (source, source_ref) DO UPDATE SET actor_id = excluded.actor_id, \
     fields_hash = excluded.fields_hash, last_seen = ancrage_now() RETURNING actor_id";

/// [`UPDATE_ACTOR`], then the `actor_sources` row of source $25, reference $26, hash $27.
const UPDATE_IMPORTED: &str = "WITH w AS (UPDATE actors SET name = $1, description = $2, categories = $3, family = $4, \
     is_tiers_lieu = $5, is_ptce = $6, is_reseau = $7, siret = $8, street = $9, postcode = $10, commune_code = $11, \
     lon = $12, lat = $13, lon_e7 = $14, lat_e7 = $15, precision = $16, website = $17, email = $18, phone = $19, \
     opening_hours = $20, accessibility = $21, status = $22, location_flag = $23, updated_at = ancrage_now() \
     WHERE id = $24 RETURNING id) \
     INSERT INTO actor_sources (source, source_ref, actor_id, fields_hash) SELECT $25, $26, w.id, $27 FROM w \
     ON CONFLICT (source, source_ref) DO UPDATE SET actor_id = excluded.actor_id, \
     fields_hash = excluded.fields_hash, last_seen = ancrage_now()";

/// What another source knows completes an actor (missing values, extra categories, a better
/// location when the actor's is only its commune's), then the `actor_sources` row of source
/// $18, reference $19, hash $20.
const FILL_GAPS: &str = "WITH w AS (UPDATE actors SET categories = $1, description = coalesce(description, $2), \
     siret = coalesce(siret, $3), street = coalesce(street, $4), postcode = coalesce(postcode, $5), \
     website = coalesce(website, $6), email = coalesce(email, $7), phone = coalesce(phone, $8), \
     opening_hours = coalesce(opening_hours, $9), accessibility = coalesce(accessibility, $10), \
     lon = CASE WHEN precision = 'commune' AND $11 THEN $12 ELSE lon END, \
     lat = CASE WHEN precision = 'commune' AND $11 THEN $13 ELSE lat END, \
     lon_e7 = CASE WHEN precision = 'commune' AND $11 THEN $14 ELSE lon_e7 END, \
     lat_e7 = CASE WHEN precision = 'commune' AND $11 THEN $15 ELSE lat_e7 END, \
     precision = CASE WHEN precision = 'commune' AND $11 THEN $16 ELSE precision END, \
     updated_at = ancrage_now() WHERE id = $17 RETURNING id) \
     INSERT INTO actor_sources (source, source_ref, actor_id, fields_hash) SELECT $18, $19, w.id, $20 FROM w \
     ON CONFLICT (source, source_ref) DO UPDATE SET actor_id = excluded.actor_id, \
     fields_hash = excluded.fields_hash, last_seen = ancrage_now()";

/// One round trip for the lookups: this source's record (its actor, hash, whether the actor is
/// this source's own, and its categories), and the first non-archived actor with the SIRET
/// (and its categories).
const LOOKUP: &str = "SELECT s.actor_id, s.fields_hash, a.source = $2 AND a.source_ref = $3, a.categories, \
     m.id, m.categories \
     FROM (SELECT 1) one \
     LEFT JOIN actor_sources s ON s.source = $2 AND s.source_ref = $3 \
     LEFT JOIN actors a ON a.id = s.actor_id \
     LEFT JOIN LATERAL (SELECT id, categories FROM actors \
         WHERE $1::text IS NOT NULL AND siret = $1 AND status <> 'archived' ORDER BY id LIMIT 1) m ON TRUE";

/// What [`LOOKUP`] returns.
type Lookup = (
    Option<i64>,
    Option<String>,
    Option<bool>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

/// Inserts an actor (no `actor_sources` row: a creation by the administration).
pub(super) async fn insert_actor(
    conn: &mut PgConnection,
    a: &ActorFields,
    status: Status,
    location_flag: Option<&str>,
) -> Result<ActorId> {
    let v = ContentValues::of(a);
    let id: i64 = bind_content!(sqlx::query_scalar(INSERT_ACTOR), &v)
        .bind(&a.source)
        .bind(&a.source_ref)
        .bind(a.demo)
        .bind(status.as_str())
        .bind(location_flag)
        .fetch_one(&mut *conn)
        .await?;
    Ok(ActorId(id))
}

/// Replaces every content value of an actor; returns whether it exists.
pub(super) async fn update_actor(
    conn: &mut PgConnection,
    id: i64,
    fields: &ActorFields,
    status: Status,
    location_flag: Option<&str>,
) -> Result<bool> {
    let v = ContentValues::of(fields);
    let done = bind_content!(sqlx::query(UPDATE_ACTOR), &v)
        .bind(status.as_str())
        .bind(location_flag)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// An import transaction on one connection (`BEGIN` … `COMMIT`). Dropped without
/// [`ImportSession::commit`] (an error, Ctrl-C, a crash), it is rolled back: the connection is
/// closed rather than returned to the pool (it may be in the middle of a statement), and the
/// server discards the transaction when the session ends.
pub struct PgImport {
    conn: Option<PoolConnection<Postgres>>,
    started_at: String,
    /// Whether the savepoint `r` exists (set by the first record that wrote).
    savepoint: bool,
    /// What the records merged so far did.
    counts: MergeCounts,
}

impl Drop for PgImport {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            conn.close_on_drop();
        }
    }
}

impl PgImport {
    pub(super) async fn begin(pool: &PgPool) -> Result<Self> {
        let mut conn = pool.acquire().await?;
        sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
        Ok(Self {
            conn: Some(conn),
            started_at: now_utc(),
            savepoint: false,
            counts: MergeCounts::default(),
        })
    }

    fn conn(&mut self) -> Result<&mut PgConnection> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| StoreError::Corrupt("the import transaction is closed".into()))
    }

    /// Runs the write of one record under the savepoint: on an error, the record's changes
    /// (and only them) are undone and the transaction stays usable.
    async fn guarded(&mut self, write: Write<'_>) -> Result<i64> {
        let statement = if self.savepoint {
            "RELEASE SAVEPOINT r; SAVEPOINT r"
        } else {
            "SAVEPOINT r"
        };
        let conn = self.conn()?;
        sqlx::raw_sql(statement).execute(&mut *conn).await?;
        self.savepoint = true;
        let conn = self.conn()?;
        match write.run(conn).await {
            Ok(id) => Ok(id),
            Err(e) => {
                if let Err(undo) = sqlx::raw_sql("ROLLBACK TO SAVEPOINT r")
                    .execute(&mut *conn)
                    .await
                {
                    // The transaction cannot go on: report that rather than the record.
                    tracing::debug!("import record failed: {e}");
                    return Err(undo.into());
                }
                Err(e)
            }
        }
    }
}

/// The write one record needs.
enum Write<'a> {
    Insert {
        r: UpsertRecord<'a>,
        source_ref: &'a str,
    },
    Update {
        id: i64,
        r: UpsertRecord<'a>,
        source_ref: &'a str,
    },
    FillGaps {
        id: i64,
        current: &'a str,
        r: UpsertRecord<'a>,
        source_ref: &'a str,
    },
}

impl Write<'_> {
    /// Runs the statement; returns the actor's id.
    async fn run(self, conn: &mut PgConnection) -> Result<i64> {
        match self {
            Self::Insert { r, source_ref } => {
                let a = r.fields;
                let v = ContentValues::of(a);
                let id: Option<i64> = bind_content!(sqlx::query_scalar(INSERT_IMPORTED), &v)
                    .bind(&a.source)
                    .bind(source_ref)
                    .bind(a.demo)
                    .bind(r.status.as_str())
                    .bind(r.location_flag)
                    .bind(r.hash)
                    .fetch_optional(&mut *conn)
                    .await?;
                id.ok_or_else(|| StoreError::Corrupt("an inserted actor has no id".into()))
            }
            Self::Update { id, r, source_ref } => {
                let a = r.fields;
                let v = ContentValues::of(a);
                bind_content!(sqlx::query(UPDATE_IMPORTED), &v)
                    .bind(r.status.as_str())
                    .bind(r.location_flag)
                    .bind(id)
                    .bind(&a.source)
                    .bind(source_ref)
                    .bind(r.hash)
                    .execute(&mut *conn)
                    .await?;
                Ok(id)
            }
            Self::FillGaps {
                id,
                current,
                r,
                source_ref,
            } => {
                let a = r.fields;
                let v = ContentValues::of(a);
                sqlx::query(FILL_GAPS)
                    .bind(merged_categories(current, &a.categories))
                    .bind(v.description)
                    .bind(v.siret)
                    .bind(v.street)
                    .bind(v.postcode)
                    .bind(v.website)
                    .bind(v.email)
                    .bind(v.phone)
                    .bind(v.opening_hours)
                    .bind(v.accessibility)
                    .bind(a.precision != GeocodePrecision::Commune)
                    .bind(v.lon)
                    .bind(v.lat)
                    .bind(v.lon_e7)
                    .bind(v.lat_e7)
                    .bind(v.precision)
                    .bind(id)
                    .bind(&a.source)
                    .bind(source_ref)
                    .bind(r.hash)
                    .execute(&mut *conn)
                    .await?;
                Ok(id)
            }
        }
    }
}

impl ImportSession for PgImport {
    /// Merges the record at once, inside the import's transaction: under MVCC, other writers
    /// do not wait for it (the store revision is bumped at commit time only).
    async fn stage(&mut self, r: UpsertRecord<'_>) -> Result<()> {
        let done = self.upsert(r).await?;
        self.counts.add(done);
        Ok(())
    }

    async fn commit(mut self, run: ImportRun<'_>, dry_run: bool) -> Result<MergeCounts> {
        let merged = self.counts;
        let counts = merged.of_run(run);
        let started_at = self.started_at.clone();
        let conn = self.conn()?;
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO import_runs (source, format, input, started_at, read, created, updated, unchanged, rejected) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(run.source)
        .bind(run.format)
        .bind(run.input)
        .bind(started_at)
        .bind(count(counts.read))
        .bind(count(counts.created))
        .bind(count(counts.updated))
        .bind(count(counts.unchanged))
        .bind(count(counts.rejected))
        .execute(&mut *conn)
        .await?;
        // COMMIT (or ROLLBACK) also releases the savepoint.
        let end = if dry_run { "ROLLBACK" } else { "COMMIT" };
        sqlx::raw_sql(end).execute(&mut *conn).await?;
        // Ended: the connection can go back to the pool.
        self.conn.take();
        Ok(merged)
    }
}

impl PgImport {
    /// Creates or updates the actor of a record.
    async fn upsert(&mut self, r: UpsertRecord<'_>) -> Result<Upserted> {
        let a = r.fields;
        let source_ref = a.source_ref.as_deref().ok_or_else(|| {
            StoreError::Corrupt("an imported record needs a source reference".into())
        })?;
        let siret = a.siret.as_ref().map(crate::domain::Siret::as_str);
        let conn = self.conn()?;
        let (known_id, known_hash, owns, known_categories, same_siret, siret_categories): Lookup =
            sqlx::query_as(LOOKUP)
                .bind(siret)
                .bind(&a.source)
                .bind(source_ref)
                .fetch_one(&mut *conn)
                .await?;
        if let Some(id) = known_id {
            if known_hash.as_deref() == Some(r.hash) {
                return Ok(Upserted::Unchanged(ActorId(id)));
            }
            let write = if owns == Some(true) {
                Write::Update { id, r, source_ref }
            } else {
                Write::FillGaps {
                    id,
                    current: known_categories.as_deref().unwrap_or(""),
                    r,
                    source_ref,
                }
            };
            self.guarded(write).await?;
            return Ok(Upserted::Updated(ActorId(id)));
        }
        if let Some(id) = same_siret {
            self.guarded(Write::FillGaps {
                id,
                current: siret_categories.as_deref().unwrap_or(""),
                r,
                source_ref,
            })
            .await?;
            return Ok(Upserted::Merged(ActorId(id)));
        }
        let id = self.guarded(Write::Insert { r, source_ref }).await?;
        Ok(Upserted::Created(ActorId(id)))
    }
}
