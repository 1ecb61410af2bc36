//! SQLite: administrator tokens, audited writes and history, contributions, rate limits.
//!
//! Every write to an actor made here records its history entry in the same transaction, and
//! approving a contribution marks it decided in that transaction too: either all of it is
//! stored or none.

use super::{insert_actor, update_actor};
use crate::domain::ActorId;
use crate::domain::Status;
use crate::store::admin::{
    ActorPage, ActorWrite, Audit, Contribution, HistoryEntry, NewContribution,
    TOKEN_USE_RESOLUTION, TokenInfo, WriteOutcome,
};
use crate::store::rows::{
    ACTOR_COLUMNS, ActorRow, CONTRIBUTION_COLUMNS, ContributionRow, HistoryRow, TokenRow, records,
    wait_for_token,
};
use crate::store::{RateDecision, Result};
use sqlx::SqlitePool;
use std::time::Duration;

pub(super) async fn create_token(pool: &SqlitePool, name: &str, token_hash: &str) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO admin_tokens (name, token_hash) SELECT ?1, ?2 \
         WHERE NOT EXISTS (SELECT 1 FROM admin_tokens WHERE name = ?1 AND revoked_at IS NULL)",
    )
    .bind(name)
    .bind(token_hash)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn tokens(pool: &SqlitePool) -> Result<Vec<TokenInfo>> {
    let rows: Vec<TokenRow> = sqlx::query_as(
        "SELECT name, created_at, last_used_at, revoked_at FROM admin_tokens ORDER BY id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(TokenInfo::from).collect())
}

pub(super) async fn token_hash_known(pool: &SqlitePool, token_hash: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_tokens WHERE token_hash = ?")
        .bind(token_hash)
        .fetch_one(pool)
        .await?;
    Ok(n > 0)
}

pub(super) async fn revoke_token(pool: &SqlitePool, name: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE admin_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') \
         WHERE name = ? AND revoked_at IS NULL",
    )
    .bind(name)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A read; the last use is written only when the recorded one is older than
/// [`TOKEN_USE_RESOLUTION`], on a connection that does not wait for the write lock (an
/// import may hold it): a busy store skips the record rather than delay the request.
pub(super) async fn token_owner(
    pool: &SqlitePool,
    token_hash: &str,
    busy_timeout: Duration,
) -> Result<Option<String>> {
    let stale = format!("-{} seconds", TOKEN_USE_RESOLUTION.as_secs());
    let found: Option<(String, bool)> = sqlx::query_as(
        "SELECT name, last_used_at IS NULL OR last_used_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?) \
         FROM admin_tokens WHERE token_hash = ? AND revoked_at IS NULL",
    )
    .bind(&stale)
    .bind(token_hash)
    .fetch_optional(pool)
    .await?;
    let Some((name, record_use)) = found else {
        return Ok(None);
    };
    if record_use {
        let mut conn = pool.acquire().await?;
        sqlx::query("PRAGMA busy_timeout = 0")
            .execute(&mut *conn)
            .await?;
        let recorded = sqlx::query(
            "UPDATE admin_tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') \
             WHERE token_hash = ? AND revoked_at IS NULL",
        )
        .bind(token_hash)
        .execute(&mut *conn)
        .await;
        let restore = format!("PRAGMA busy_timeout = {}", busy_timeout.as_millis());
        sqlx::query(sqlx::AssertSqlSafe(restore)) // Our own integer: no input in this text.
            .execute(&mut *conn)
            .await?;
        if let Err(e) = recorded {
            tracing::debug!("last use of token '{name}' not recorded: {e}");
        }
    }
    Ok(Some(name))
}

pub(super) async fn write_actor(
    pool: &SqlitePool,
    write: ActorWrite<'_>,
    audit: Audit<'_>,
) -> Result<WriteOutcome> {
    // The write lock from the start: of two moderators approving the same contribution, the
    // second waits for the first, then finds it decided.
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    if let Some((contribution, applied)) = audit.approves {
        let decided = sqlx::query(
            "UPDATE contributions SET status = 'approved', decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), \
             decided_by = ?, applied = ? WHERE id = ? AND status = 'pending'",
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
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM actors WHERE id = ?")
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_none() {
                return Ok(WriteOutcome::NoActor);
            }
            update_actor(&mut tx, id.0, fields, status, location_flag).await?;
            id
        }
        ActorWrite::SetStatus { id, status } => {
            let done = sqlx::query(
                "UPDATE actors SET status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
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
        "INSERT INTO actor_history (actor_id, author, action, contribution_id, changes) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(id.0)
    .bind(audit.author)
    .bind(audit.action.as_str())
    .bind(audit.approves.map(|(c, _)| c))
    .bind(audit.changes.to_string())
    .execute(&mut *tx)
    .await?;
    if let Some((contribution, _)) = audit.approves {
        sqlx::query("UPDATE contributions SET result_actor_id = ? WHERE id = ?")
            .bind(id.0)
            .bind(contribution)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(WriteOutcome::Done(id))
}

pub(super) async fn history(pool: &SqlitePool, id: ActorId) -> Result<Vec<HistoryEntry>> {
    let rows: Vec<HistoryRow> = sqlx::query_as(
        "SELECT id, at, author, action, contribution_id, changes FROM actor_history \
         WHERE actor_id = ? ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(HistoryEntry::try_from).collect()
}

pub(super) async fn admin_actors(
    pool: &SqlitePool,
    status: Option<Status>,
    q: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<ActorPage> {
    let status = status.map(Status::as_str);
    // `instr(lower(…))`: no LIKE wildcards to escape in what the administrator types.
    let q = q.map(str::to_ascii_lowercase);
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM actors WHERE (?1 IS NULL OR status = ?1) \
         AND (?2 IS NULL OR instr(lower(name), ?2) > 0)",
    )
    .bind(status)
    .bind(&q)
    .fetch_one(pool)
    .await?;
    // A constant column list: no input in this text.
    let rows: Vec<ActorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ACTOR_COLUMNS} FROM actors WHERE (?1 IS NULL OR status = ?1) \
         AND (?2 IS NULL OR instr(lower(name), ?2) > 0) \
         ORDER BY updated_at DESC, id DESC LIMIT ?3 OFFSET ?4"
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

pub(super) async fn add_contribution(pool: &SqlitePool, c: NewContribution<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO contributions (kind, actor_id, proposed, message, contributor_email) \
         VALUES (?, ?, ?, ?, ?) RETURNING id",
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
    pool: &SqlitePool,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Contribution>> {
    // A constant column list: no input in this text.
    let rows: Vec<ContributionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTRIBUTION_COLUMNS} FROM contributions WHERE (?1 IS NULL OR status = ?1) \
         ORDER BY id LIMIT ?2 OFFSET ?3"
    )))
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Contribution::try_from).collect()
}

pub(super) async fn contribution(pool: &SqlitePool, id: i64) -> Result<Option<Contribution>> {
    // A constant column list: no input in this text.
    let row: Option<ContributionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTRIBUTION_COLUMNS} FROM contributions WHERE id = ?"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(Contribution::try_from).transpose()
}

pub(super) async fn reject_contribution(
    pool: &SqlitePool,
    id: i64,
    by: &str,
    reason: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE contributions SET status = 'rejected', decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), \
         decided_by = ?, reason = ? WHERE id = ? AND status = 'pending'",
    )
    .bind(by)
    .bind(reason)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// One statement takes a token from the bucket when it holds one (refilled first); when it
/// returns nothing, the bucket is read to tell how long to wait. Buckets full again (an hour
/// idle) are forgotten.
pub(super) async fn take_rate(
    pool: &SqlitePool,
    key: &str,
    per_hour: u32,
    now_ms: i64,
) -> Result<RateDecision> {
    let capacity = f64::from(per_hour.max(1));
    let per_ms = capacity / 3_600_000.0;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    sqlx::query("DELETE FROM rate_buckets WHERE at_ms < ?")
        .bind(now_ms - 3_600_000)
        .execute(&mut *tx)
        .await?;
    let taken: Option<f64> = sqlx::query_scalar(
        "INSERT INTO rate_buckets (key, tokens, at_ms) VALUES (?1, ?2 - 1, ?3) \
         ON CONFLICT (key) DO UPDATE SET \
           tokens = min(?2, tokens + max(0, excluded.at_ms - at_ms) * ?4) - 1, \
           at_ms = max(at_ms, excluded.at_ms) \
         WHERE min(?2, tokens + max(0, excluded.at_ms - at_ms) * ?4) >= 1 \
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
            sqlx::query_as("SELECT tokens, at_ms FROM rate_buckets WHERE key = ?")
                .bind(key)
                .fetch_one(&mut *tx)
                .await?;
        let now_tokens = tokens + ((now_ms - at_ms).max(0) as f64) * per_ms;
        RateDecision::Limited(wait_for_token(now_tokens, per_ms))
    };
    tx.commit().await?;
    Ok(decision)
}
