//! PostgreSQL: administrator tokens, audited writes and history, contributions, rate limits.
//!
//! Every write to an actor made here records its history entry in the same transaction, and
//! approving a contribution marks it decided in that transaction too: either all of it is
//! stored or none. Where SQLite takes its single write lock up front (`BEGIN IMMEDIATE`),
//! PostgreSQL relies on row locks: the first statement of a write decides, and a concurrent
//! writer of the same row waits for it, then sees its result.

use crate::domain::actor::ActorFields;
use crate::domain::{ActorId, Status};
use crate::store::admin::{
    ActorPage, ActorWrite, Audit, Contribution, HistoryEntry, NewContribution,
    TOKEN_USE_RESOLUTION, TokenInfo, WriteOutcome,
};
use crate::store::rows::{
    ACTOR_COLUMNS, ActorRow, CONTRIBUTION_COLUMNS, ContentValues, ContributionRow, HistoryRow,
    TokenRow, bind_content, records, wait_for_token,
};
use crate::store::{RateDecision, Result};
use sqlx::{PgConnection, PgPool};

/// A new actor: the content columns, then source, reference, demo, status and location flag.
const INSERT_ACTOR: &str = "INSERT INTO actors (name, description, categories, family, is_tiers_lieu, is_ptce, \
     is_reseau, siret, street, postcode, commune_code, lon, lat, lon_e7, lat_e7, precision, website, email, phone, \
     opening_hours, accessibility, source, source_ref, demo, status, location_flag) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, \
     $24, $25, $26) RETURNING id";

/// Every content column of an actor, then status, location flag, and the id.
const UPDATE_ACTOR: &str = "UPDATE actors SET name = $1, description = $2, categories = $3, family = $4, \
     is_tiers_lieu = $5, is_ptce = $6, is_reseau = $7, siret = $8, street = $9, postcode = $10, commune_code = $11, \
     lon = $12, lat = $13, lon_e7 = $14, lat_e7 = $15, precision = $16, website = $17, email = $18, phone = $19, \
     opening_hours = $20, accessibility = $21, status = $22, location_flag = $23, updated_at = ancrage_now() \
     WHERE id = $24";

/// Inserts an actor, with the record of its own source when it has a reference.
async fn insert_actor(
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
    own_source_record(conn, a, id).await?;
    Ok(ActorId(id))
}

/// The record of an actor's own source, when it has a reference: what makes the actor known
/// by it (to imports and `actor_by_source`) and, by its primary key, its reference unique.
async fn own_source_record(conn: &mut PgConnection, a: &ActorFields, id: i64) -> Result<()> {
    if let Some(source_ref) = &a.source_ref {
        sqlx::query("INSERT INTO actor_sources (source, source_ref, actor_id) VALUES ($1, $2, $3)")
            .bind(&a.source)
            .bind(source_ref)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Replaces every content value of an actor; returns whether it exists.
async fn update_actor(
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

/// A `LIMIT` and an `OFFSET` as SQLite reads them: a negative limit means none, a negative
/// offset means zero (PostgreSQL refuses both; `LIMIT NULL` is no limit).
fn page(limit: i64, offset: i64) -> (Option<i64>, i64) {
    ((limit >= 0).then_some(limit), offset.max(0))
}

pub(super) async fn create_token(pool: &PgPool, name: &str, token_hash: &str) -> Result<bool> {
    // The partial unique index `admin_tokens_active_name` decides, also between two
    // creations of one name at the same time (SQLite's single writer cannot race).
    let done = sqlx::query(
        "INSERT INTO admin_tokens (name, token_hash) VALUES ($1, $2) \
         ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING",
    )
    .bind(name)
    .bind(token_hash)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn tokens(pool: &PgPool) -> Result<Vec<TokenInfo>> {
    let rows: Vec<TokenRow> = sqlx::query_as(
        "SELECT name, created_at, last_used_at, revoked_at FROM admin_tokens ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(TokenInfo::from).collect())
}

pub(super) async fn token_hash_known(pool: &PgPool, token_hash: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

pub(super) async fn revoke_token(pool: &PgPool, name: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE admin_tokens SET revoked_at = ancrage_now() WHERE name = $1 AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A read (which never waits for writers in PostgreSQL); the last use is written only when the
/// recorded one is older than [`TOKEN_USE_RESOLUTION`], and skipped when another transaction
/// holds the token's row (`FOR UPDATE SKIP LOCKED`: no wait), or when it fails: that record
/// never delays nor fails the request.
pub(super) async fn token_owner(pool: &PgPool, token_hash: &str) -> Result<Option<String>> {
    // Times are fixed-width RFC 3339 text: byte order ("C") is time order.
    let found: Option<(String, bool)> = sqlx::query_as(
        "SELECT name, last_used_at IS NULL OR last_used_at COLLATE \"C\" < \
         to_char((statement_timestamp() - make_interval(secs => $2)) AT TIME ZONE 'UTC', \
         'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
         FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash)
    .bind(TOKEN_USE_RESOLUTION.as_secs_f64())
    .fetch_optional(pool)
    .await?;
    let Some((name, record_use)) = found else {
        return Ok(None);
    };
    if record_use {
        let recorded = sqlx::query(
            "UPDATE admin_tokens SET last_used_at = ancrage_now() WHERE id = \
             (SELECT id FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
              FOR UPDATE SKIP LOCKED)",
        )
        .bind(token_hash)
        .execute(pool)
        .await;
        if let Err(e) = recorded {
            tracing::debug!("last use of token '{name}' not recorded: {e}");
        }
    }
    Ok(Some(name))
}

pub(super) async fn write_actor(
    pool: &PgPool,
    write: ActorWrite<'_>,
    audit: Audit<'_>,
) -> Result<WriteOutcome> {
    let mut tx = pool.begin().await?;
    if let Some((contribution, applied)) = audit.approves {
        // First, so that it decides: of two moderators approving the same contribution, the
        // second waits on the row lock of the first, then finds it no longer pending.
        let decided = sqlx::query(
            "UPDATE contributions SET status = 'approved', decided_at = ancrage_now(), \
             decided_by = $1, applied = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(audit.author)
        .bind(applied.to_string())
        .bind(contribution)
        .execute(&mut *tx)
        .await?;
        if decided.rows_affected() == 0 {
            return Ok(WriteOutcome::AlreadyDecided);
        }
    }
    let id = match write {
        ActorWrite::Create {
            fields,
            status,
            location_flag,
        } => insert_actor(&mut tx, fields, status, location_flag).await?,
        ActorWrite::Replace {
            id,
            fields,
            status,
            location_flag,
        } => {
            if !update_actor(&mut tx, id.0, fields, status, location_flag).await? {
                return Ok(WriteOutcome::NoActor);
            }
            id
        }
        ActorWrite::SetStatus { id, status } => {
            let done = sqlx::query(
                "UPDATE actors SET status = $1, updated_at = ancrage_now() WHERE id = $2",
            )
            .bind(status.as_str())
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Ok(WriteOutcome::NoActor);
            }
            id
        }
    };
    sqlx::query(
        "INSERT INTO actor_history (actor_id, author, action, contribution_id, changes) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id.0)
    .bind(audit.author)
    .bind(audit.action.as_str())
    .bind(audit.approves.map(|(c, _)| c))
    .bind(audit.changes.to_string())
    .execute(&mut *tx)
    .await?;
    if let Some((contribution, _)) = audit.approves {
        sqlx::query("UPDATE contributions SET result_actor_id = $1 WHERE id = $2")
            .bind(id.0)
            .bind(contribution)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(WriteOutcome::Done(id))
}

pub(super) async fn history(pool: &PgPool, id: ActorId) -> Result<Vec<HistoryEntry>> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT id, at, author, action, contribution_id, changes FROM actor_history \
         WHERE actor_id = $1 ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(HistoryEntry::try_from).collect()
}

/// The name filter is SQLite's `instr(lower(name), lower(q))` exactly: `strpos` (no LIKE
/// wildcards to escape in what the administrator types), and `lower` under the "C" collation,
/// which folds ASCII letters only, as SQLite's `lower` does, whatever the database's locale.
pub(super) async fn admin_actors(
    pool: &PgPool,
    status: Option<Status>,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<ActorPage> {
    let status = status.map(Status::as_str);
    let q = q.map(str::to_ascii_lowercase);
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM actors WHERE ($1::text IS NULL OR status = $1) \
         AND ($2::text IS NULL OR strpos(lower(name COLLATE \"C\"), $2) > 0)",
    )
    .bind(status)
    .bind(&q)
    .fetch_one(pool)
    .await?;
    let (limit, offset) = page(limit, offset);
    // A constant column list: no input in this text.
    let rows: Vec<ActorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACTOR_COLUMNS} FROM actors WHERE ($1::text IS NULL OR status = $1) \
         AND ($2::text IS NULL OR strpos(lower(name COLLATE \"C\"), $2) > 0) \
         ORDER BY updated_at COLLATE \"C\" DESC, id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(status)
    .bind(&q)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    Ok(ActorPage {
        records: records(rows)?,
        total,
    })
}

pub(super) async fn add_contribution(pool: &PgPool, c: NewContribution<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO contributions (kind, actor_id, proposed, message, contributor_email) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(c.kind.as_str())
    .bind(c.actor_id.map(|a| a.0))
    .bind(c.proposed.to_string())
    .bind(c.message)
    .bind(c.contributor_email)
    .fetch_one(pool)
    .await?)
}

pub(super) async fn contributions(
    pool: &PgPool,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Contribution>> {
    let (limit, offset) = page(limit, offset);
    // A constant column list: no input in this text.
    let rows: Vec<ContributionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTRIBUTION_COLUMNS} FROM contributions WHERE ($1::text IS NULL OR status = $1) \
         ORDER BY id LIMIT $2 OFFSET $3"
    )))
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Contribution::try_from).collect()
}

pub(super) async fn contribution(pool: &PgPool, id: i64) -> Result<Option<Contribution>> {
    // A constant column list: no input in this text.
    let row: Option<ContributionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTRIBUTION_COLUMNS} FROM contributions WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(Contribution::try_from).transpose()
}

pub(super) async fn reject_contribution(
    pool: &PgPool,
    id: i64,
    by: &str,
    reason: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE contributions SET status = 'rejected', decided_at = ancrage_now(), \
         decided_by = $1, reason = $2 WHERE id = $3 AND status = 'pending'",
    )
    .bind(by)
    .bind(reason)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// SQLite's token bucket: one statement takes a token from the bucket when it holds one
/// (refilled first); when it returns nothing, the bucket (locked by that statement all the
/// same) is read to tell how long to wait, in the same transaction.
///
/// Buckets full again (an hour idle) are forgotten first, by a statement of its own that skips
/// the buckets other requests hold: in the bucket's transaction, two requests could each
/// delete the other's stale bucket and then wait for each other (a deadlock). Forgetting a
/// full bucket changes nothing: it would be refilled to capacity anyway.
pub(super) async fn take_rate(
    pool: &PgPool,
    key: &str,
    per_hour: u32,
    now_ms: i64,
) -> Result<RateDecision> {
    let capacity = f64::from(per_hour.max(1));
    let per_ms = capacity / 3_600_000.0;
    sqlx::query(
        "DELETE FROM rate_buckets WHERE key IN \
         (SELECT key FROM rate_buckets WHERE at_ms < $1 FOR UPDATE SKIP LOCKED)",
    )
    .bind(now_ms - 3_600_000)
    .execute(pool)
    .await?;
    let mut tx = pool.begin().await?;
    let taken: Option<f64> = sqlx::query_scalar(
        "INSERT INTO rate_buckets (key, tokens, at_ms) VALUES ($1, $2 - 1, $3) \
         ON CONFLICT (key) DO UPDATE SET \
           tokens = LEAST($2, rate_buckets.tokens + GREATEST(0, excluded.at_ms - rate_buckets.at_ms) * $4) - 1, \
           at_ms = GREATEST(rate_buckets.at_ms, excluded.at_ms) \
         WHERE LEAST($2, rate_buckets.tokens + GREATEST(0, excluded.at_ms - rate_buckets.at_ms) * $4) >= 1 \
         RETURNING tokens",
    )
    .bind(key)
    .bind(capacity)
    .bind(now_ms)
    .bind(per_ms)
    .fetch_optional(&mut *tx)
    .await?;
    let decision = if taken.is_some() {
        RateDecision::Allowed
    } else {
        let (tokens, at_ms): (f64, i64) =
            sqlx::query_as("SELECT tokens, at_ms FROM rate_buckets WHERE key = $1")
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
        let now_tokens = tokens + ((now_ms - at_ms).max(0) as f64) * per_ms;
        RateDecision::Limited(wait_for_token(now_tokens, per_ms))
    };
    tx.commit().await?;
    Ok(decision)
}
