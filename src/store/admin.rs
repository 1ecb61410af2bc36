//! Administration data: administrator tokens (hashes only), the audit history of actors and
//! the public contributions waiting for moderation.
//!
//! Every write to an actor made here records its history entry in the same transaction, and
//! approving a contribution marks it decided in that transaction too: either all of it is
//! stored or none.

use super::sqlite::{RECORD_COLUMNS, SqliteStore, insert_actor, record_from_row, update_actor};
use super::{Result, Store, StoreError, UpsertRecord};
use crate::domain::actor::{ActorFields, ActorRecord};
use crate::domain::{ActorId, Status};
use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

/// An administrator token as listed: never the token, nor its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Who holds it.
    pub name: String,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// Last authenticated request, RFC 3339 UTC.
    pub last_used_at: Option<String>,
    /// Revocation time, RFC 3339 UTC; a revoked token is refused.
    pub revoked_at: Option<String>,
}

/// What a contribution proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContributionKind {
    /// A new actor.
    New,
    /// New values for some fields of a published actor.
    Correction,
    /// A published actor has closed.
    Closure,
}

impl ContributionKind {
    /// The slug used in the API and the store.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Correction => "correction",
            Self::Closure => "closure",
        }
    }

    /// Parses a slug.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "new" => Some(Self::New),
            "correction" => Some(Self::Correction),
            "closure" => Some(Self::Closure),
            _ => None,
        }
    }
}

/// A contribution to store.
#[derive(Debug, Clone, Copy)]
pub struct NewContribution<'a> {
    /// What it proposes.
    pub kind: ContributionKind,
    /// The actor concerned (corrections and closures).
    pub actor_id: Option<ActorId>,
    /// Proposed values (a JSON object in the shape of an actor draft).
    pub proposed: &'a Value,
    /// The contributor's note, plain text.
    pub message: Option<&'a str>,
    /// The contributor's address, for the moderators' follow-up only.
    pub contributor_email: Option<&'a str>,
}

/// A stored contribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contribution {
    /// Identifier.
    pub id: i64,
    /// What it proposes.
    pub kind: ContributionKind,
    /// The actor concerned (corrections and closures).
    pub actor_id: Option<ActorId>,
    /// Proposed values.
    pub proposed: Value,
    /// The contributor's note.
    pub message: Option<String>,
    /// The contributor's address (administrators only).
    pub contributor_email: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// Submission time, RFC 3339 UTC.
    pub created_at: String,
    /// Decision time, RFC 3339 UTC.
    pub decided_at: Option<String>,
    /// Name of the token that decided.
    pub decided_by: Option<String>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// Values approved (after the moderator's edits).
    pub applied: Option<Value>,
    /// The actor created or changed by the approval.
    pub result_actor_id: Option<ActorId>,
}

/// What an audited change did to an actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HistoryAction {
    /// The actor was created.
    Create,
    /// Some of its values changed.
    Update,
    /// It was archived (closed or withdrawn).
    Archive,
}

impl HistoryAction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Archive => "archive",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "create" => Ok(Self::Create),
            "update" => Ok(Self::Update),
            "archive" => Ok(Self::Archive),
            other => Err(StoreError::Corrupt(format!("history action '{other}'"))),
        }
    }
}

/// One entry of an actor's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryEntry {
    /// Identifier (increasing with time).
    pub id: i64,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// Name of the administrator token that made the change.
    pub author: String,
    /// What was done.
    pub action: HistoryAction,
    /// The contribution approved by this change, if any.
    pub contribution_id: Option<i64>,
    /// `{"field": {"before": …, "after": …}}` for every field that changed.
    pub changes: Value,
}

/// A write to an actor.
#[derive(Debug, Clone, Copy)]
pub enum ActorWrite<'a> {
    /// A new actor.
    Create {
        /// Its content.
        fields: &'a ActorFields,
        /// Its status.
        status: Status,
        /// `outside-commune`, `outside-france` or none.
        location_flag: Option<&'static str>,
    },
    /// New content for an existing actor (its source, source reference and demo flag stay).
    Replace {
        /// Which.
        id: ActorId,
        /// Its content.
        fields: &'a ActorFields,
        /// Its status.
        status: Status,
        /// `outside-commune`, `outside-france` or none.
        location_flag: Option<&'static str>,
    },
    /// A new status only.
    SetStatus {
        /// Which.
        id: ActorId,
        /// The status.
        status: Status,
    },
}

/// Who makes a write and what it changes, recorded in the history.
#[derive(Debug, Clone, Copy)]
pub struct Audit<'a> {
    /// Name of the administrator token.
    pub author: &'a str,
    /// What is done.
    pub action: HistoryAction,
    /// `{"field": {"before": …, "after": …}}`.
    pub changes: &'a Value,
    /// A pending contribution this write approves, with the values approved.
    pub approves: Option<(i64, &'a Value)>,
}

/// What an audited write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written, with the actor's id.
    Done(ActorId),
    /// No actor has that id: nothing written.
    NoActor,
    /// The contribution was no longer pending: nothing written.
    AlreadyDecided,
}

/// A page of actors for the administration, any status.
#[derive(Debug, Clone)]
pub struct ActorPage {
    /// Actors matching, in the page.
    pub records: Vec<ActorRecord>,
    /// All actors matching.
    pub total: i64,
}

impl Store {
    /// Records a new token hash under `name`; `false` when an active token already has it.
    ///
    /// # Errors
    /// On a database error.
    pub async fn create_token(&self, name: &str, token_hash: &str) -> Result<bool> {
        match self {
            Self::Sqlite(s) => s.create_token(name, token_hash).await,
        }
    }

    /// Every token, oldest first.
    ///
    /// # Errors
    /// On a database error.
    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        match self {
            Self::Sqlite(s) => s.tokens().await,
        }
    }

    /// Revokes the active token of `name`; `false` when there is none.
    ///
    /// # Errors
    /// On a database error.
    pub async fn revoke_token(&self, name: &str) -> Result<bool> {
        match self {
            Self::Sqlite(s) => s.revoke_token(name).await,
        }
    }

    /// The name of the active token with this hash (and records its use), if any.
    ///
    /// # Errors
    /// On a database error.
    pub async fn token_owner(&self, token_hash: &str) -> Result<Option<String>> {
        match self {
            Self::Sqlite(s) => s.token_owner(token_hash).await,
        }
    }

    /// Writes an actor and its history entry (and marks the approved contribution) in one
    /// transaction.
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    pub async fn write_actor(
        &self,
        write: ActorWrite<'_>,
        audit: Audit<'_>,
    ) -> Result<WriteOutcome> {
        match self {
            Self::Sqlite(s) => s.write_actor(write, audit).await,
        }
    }

    /// The history of an actor, oldest first.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn history(&self, id: ActorId) -> Result<Vec<HistoryEntry>> {
        match self {
            Self::Sqlite(s) => s.history(id).await,
        }
    }

    /// Actors of any status for the administration, newest changes first, optionally of one
    /// status and with a name containing `q` (case-insensitive for ASCII letters).
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn admin_actors(
        &self,
        status: Option<Status>,
        q: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<ActorPage> {
        match self {
            Self::Sqlite(s) => s.admin_actors(status, q, limit, offset).await,
        }
    }

    /// Stores a contribution (pending); returns its id.
    ///
    /// # Errors
    /// On a database error.
    pub async fn add_contribution(&self, c: NewContribution<'_>) -> Result<i64> {
        match self {
            Self::Sqlite(s) => s.add_contribution(c).await,
        }
    }

    /// Contributions, oldest first, optionally of one status.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn contributions(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Contribution>> {
        match self {
            Self::Sqlite(s) => s.contributions(status, limit, offset).await,
        }
    }

    /// One contribution.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn contribution(&self, id: i64) -> Result<Option<Contribution>> {
        match self {
            Self::Sqlite(s) => s.contribution(id).await,
        }
    }

    /// Rejects a pending contribution; `false` when it is not pending (or does not exist).
    ///
    /// # Errors
    /// On a database error.
    pub async fn reject_contribution(&self, id: i64, by: &str, reason: &str) -> Result<bool> {
        match self {
            Self::Sqlite(s) => s.reject_contribution(id, by, reason).await,
        }
    }
}

const CONTRIBUTION_COLUMNS: &str = "id, kind, actor_id, proposed, message, contributor_email, status, created_at, \
     decided_at, decided_by, reason, applied, result_actor_id";

fn json_column(r: &SqliteRow, name: &str) -> Result<Option<Value>> {
    r.try_get::<Option<String>, _>(name)?
        .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{name}: {e}"))))
        .transpose()
}

fn contribution_from_row(r: &SqliteRow) -> Result<Contribution> {
    let kind: String = r.try_get("kind")?;
    Ok(Contribution {
        id: r.try_get("id")?,
        kind: ContributionKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("contribution kind '{kind}'")))?,
        actor_id: r.try_get::<Option<i64>, _>("actor_id")?.map(ActorId),
        proposed: json_column(r, "proposed")?.unwrap_or(Value::Null),
        message: r.try_get("message")?,
        contributor_email: r.try_get("contributor_email")?,
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        decided_at: r.try_get("decided_at")?,
        decided_by: r.try_get("decided_by")?,
        reason: r.try_get("reason")?,
        applied: json_column(r, "applied")?,
        result_actor_id: r.try_get::<Option<i64>, _>("result_actor_id")?.map(ActorId),
    })
}

impl SqliteStore {
    async fn create_token(&self, name: &str, token_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO admin_tokens (name, token_hash) SELECT ?, ? \
             WHERE NOT EXISTS (SELECT 1 FROM admin_tokens WHERE name = ? AND revoked_at IS NULL)",
        )
        .bind(name)
        .bind(token_hash)
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT name, created_at, last_used_at, revoked_at FROM admin_tokens ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    name: r.try_get("name")?,
                    created_at: r.try_get("created_at")?,
                    last_used_at: r.try_get("last_used_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    async fn revoke_token(&self, name: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE admin_tokens SET revoked_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') \
             WHERE name = ? AND revoked_at IS NULL",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn token_owner(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "UPDATE admin_tokens SET last_used_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') \
             WHERE token_hash = ? AND revoked_at IS NULL RETURNING name",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn write_actor(&self, write: ActorWrite<'_>, audit: Audit<'_>) -> Result<WriteOutcome> {
        // The write lock from the start: of two moderators approving the same contribution,
        // the second waits for the first, then finds it decided.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
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
                let record = UpsertRecord {
                    fields,
                    status,
                    location_flag,
                    hash: "",
                };
                update_actor(&mut tx, id.0, record).await?;
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

    async fn history(&self, id: ActorId) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, author, action, contribution_id, changes FROM actor_history \
             WHERE actor_id = ? ORDER BY id",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    id: r.try_get("id")?,
                    at: r.try_get("at")?,
                    author: r.try_get("author")?,
                    action: HistoryAction::parse(r.try_get("action")?)?,
                    contribution_id: r.try_get("contribution_id")?,
                    changes: json_column(r, "changes")?.unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    async fn admin_actors(
        &self,
        status: Option<Status>,
        q: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<ActorPage> {
        let status = status.map(Status::as_str);
        // `instr(lower(…))`: no LIKE wildcards to escape in what the administrator types.
        let q = q.map(str::to_lowercase);
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM actors WHERE (?1 IS NULL OR status = ?1) \
             AND (?2 IS NULL OR instr(lower(name), ?2) > 0)",
        )
        .bind(status)
        .bind(&q)
        .fetch_one(&self.pool)
        .await?;
        // A constant column list: no input in this text.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RECORD_COLUMNS} FROM actors WHERE (?1 IS NULL OR status = ?1) \
             AND (?2 IS NULL OR instr(lower(name), ?2) > 0) \
             ORDER BY updated_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        )))
        .bind(status)
        .bind(&q)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        Ok(ActorPage {
            records: rows.iter().map(record_from_row).collect::<Result<_>>()?,
            total,
        })
    }

    async fn add_contribution(&self, c: NewContribution<'_>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO contributions (kind, actor_id, proposed, message, contributor_email) \
             VALUES (?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(c.kind.as_str())
        .bind(c.actor_id.map(|a| a.0))
        .bind(c.proposed.to_string())
        .bind(c.message)
        .bind(c.contributor_email)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn contributions(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Contribution>> {
        // A constant column list: no input in this text.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTRIBUTION_COLUMNS} FROM contributions WHERE (?1 IS NULL OR status = ?1) \
             ORDER BY id LIMIT ?2 OFFSET ?3"
        )))
        .bind(status)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(contribution_from_row).collect()
    }

    async fn contribution(&self, id: i64) -> Result<Option<Contribution>> {
        // A constant column list: no input in this text.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {CONTRIBUTION_COLUMNS} FROM contributions WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(contribution_from_row).transpose()
    }

    async fn reject_contribution(&self, id: i64, by: &str, reason: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE contributions SET status = 'rejected', decided_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), \
             decided_by = ?, reason = ? WHERE id = ? AND status = 'pending'",
        )
        .bind(by)
        .bind(reason)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
