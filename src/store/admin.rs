//! Administration data types: administrator tokens (hashes only), the audit history of actors and
//! the public contributions waiting for moderation.
//!
//! Every write to an actor made here records its history entry in the same transaction, and
//! approving a contribution marks it decided in that transaction too: either all of it is
//! stored or none.

use super::{Result, StoreError};
use crate::domain::actor::{ActorFields, ActorRecord};
use crate::domain::{ActorId, Status};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// How precisely a token's last use is recorded: an authenticated request writes it only
/// when the recorded one is older than this, so that reads stay reads.
pub const TOKEN_USE_RESOLUTION: Duration = Duration::from_secs(60);

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
    /// The slug used in the store.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Archive => "archive",
        }
    }

    /// Parses a stored slug.
    ///
    /// # Errors
    /// On an unknown slug.
    pub fn parse(s: &str) -> Result<Self> {
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
