//! The audited operations on actors and the moderation of contributions. Each validates with
//! the import's validator (strict), writes through the store with its history entry, and
//! publishes a new snapshot so that the change is visible at once.

use super::values::{self, Values, changed, diff, draft_from, merge, values_of};
use crate::domain::actor::ActorRecord;
use crate::domain::{ActorId, InputError, Status};
use crate::index::Snapshot;
use crate::ingest::draft::{self, DraftError, Strictness, Validated, Validator};
use crate::startup::AppState;
use crate::store::Store;
use crate::store::StoreError;
use crate::store::admin::{
    ActorWrite, Audit, Contribution, ContributionKind, HistoryAction, NewContribution, WriteOutcome,
};
use serde::Deserialize;
use serde_json::{Value, json};

/// Source recorded on actors created by an administrator.
pub const ADMIN_SOURCE: &str = "admin";
/// Source recorded on actors created from a contribution.
pub const CONTRIBUTION_SOURCE: &str = "contribution";
/// Longest contributor's note, in characters.
pub const MESSAGE_MAX: usize = 2000;
/// Longest rejection reason, in characters.
pub const REASON_MAX: usize = 1000;
/// Draft keys a contributor may not set: moderators decide the status, sources their references.
const NOT_FROM_PUBLIC: [&str; 2] = ["status", "source_ref"];

/// Why an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No such actor or contribution.
    #[error("{0}")]
    NotFound(String),
    /// Values break rules: every broken rule is listed.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<InputError>),
    /// The contribution was already decided.
    #[error("{0}")]
    Conflict(String),
    /// The store is busy or unreachable: the same request can succeed shortly.
    #[error(transparent)]
    Unavailable(StoreError),
    /// The store or the validation failed unexpectedly.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        if e.is_transient() {
            Self::Unavailable(e)
        } else {
            Self::Internal(e.into())
        }
    }
}

impl From<InputError> for AdminError {
    fn from(e: InputError) -> Self {
        Self::Invalid(vec![e])
    }
}

/// Validates a draft exactly as an import would, but strictly.
fn validate(
    snap: &Snapshot,
    source: &str,
    d: &crate::ingest::ActorDraft,
) -> Result<Validated, AdminError> {
    let validator = Validator {
        catalog: &snap.catalog,
        territories: &snap.territories,
        geocoder: None,
        source,
        strictness: Strictness::Strict,
    };
    validator.validate(d).map_err(|e| match e {
        DraftError::Invalid(errors) => AdminError::Invalid(errors),
        DraftError::Geocoder(g) => AdminError::Internal(g.into()),
    })
}

/// Publishes the change; a failure is logged, and the store watcher retries at its next poll.
async fn publish(state: &AppState) {
    if let Err(e) = state.refresh_actors().await {
        tracing::warn!("publishing the actors after a change failed: {e:#}");
    }
}

async fn record(state: &AppState, id: ActorId) -> Result<ActorRecord, AdminError> {
    state
        .store
        .actor(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no actor has the id {id}")))
}

/// The editable values of a stored actor.
#[must_use]
pub fn current_values(r: &ActorRecord) -> Values {
    values_of(&r.fields, r.status)
}

fn written(outcome: WriteOutcome, id: Option<ActorId>) -> Result<ActorId, AdminError> {
    match outcome {
        WriteOutcome::Done(id) => Ok(id),
        WriteOutcome::NoActor => Err(AdminError::NotFound(format!(
            "no actor has the id {}",
            id.map_or_else(String::new, |i| i.to_string())
        ))),
        WriteOutcome::AlreadyDecided => Err(AdminError::Conflict(
            "this contribution has already been decided".into(),
        )),
    }
}

/// Creates an actor from values (source `admin`).
///
/// # Errors
/// [`AdminError::Invalid`] with every broken rule; an internal error on a store failure.
pub async fn create(
    state: &AppState,
    author: &str,
    body: &Values,
) -> Result<ActorRecord, AdminError> {
    let snap = state.snapshot.load();
    let v = validate(&snap, ADMIN_SOURCE, &draft_from(body)?)?;
    let after = values_of(&v.fields, v.status);
    let changes = diff(None, &after);
    let write = ActorWrite::Create {
        fields: &v.fields,
        status: v.status,
        location_flag: v.location_flag,
    };
    let audit = Audit {
        author,
        action: HistoryAction::Create,
        changes: &changes,
        approves: None,
    };
    let id = written(state.store.write_actor(write, audit).await?, None)?;
    publish(state).await;
    record(state, id).await
}

/// New values for an actor: the whole set (`replace`) or some fields put over the current
/// ones. Nothing is written (nor recorded) when nothing changes.
///
/// # Errors
/// [`AdminError::NotFound`], [`AdminError::Invalid`] with every broken rule, or internal.
pub async fn update(
    state: &AppState,
    author: &str,
    id: ActorId,
    body: &Values,
    replace: bool,
) -> Result<ActorRecord, AdminError> {
    let current = record(state, id).await?;
    let before = current_values(&current);
    let proposed = if replace {
        body.clone()
    } else {
        merge(&before, body)
    };
    let Some(v) = revalidate(state, &current, &proposed)? else {
        return Ok(current);
    };
    let after = values_of(&v.fields, v.status);
    let changes = diff(Some(&before), &after);
    let action = if v.status == Status::Archived && current.status != Status::Archived {
        HistoryAction::Archive
    } else {
        HistoryAction::Update
    };
    let write = ActorWrite::Replace {
        id,
        fields: &v.fields,
        status: v.status,
        location_flag: v.location_flag,
    };
    let audit = Audit {
        author,
        action,
        changes: &changes,
        approves: None,
    };
    written(state.store.write_actor(write, audit).await?, Some(id))?;
    publish(state).await;
    record(state, id).await
}

/// Validates new values of an existing actor, keeping its source, source reference and demo
/// flag; `None` when they are its current values.
fn revalidate(
    state: &AppState,
    current: &ActorRecord,
    proposed: &Values,
) -> Result<Option<Validated>, AdminError> {
    let mut d = draft_from(proposed)?;
    if d.source_ref.is_none() {
        d.source_ref.clone_from(&current.fields.source_ref);
    }
    let snap = state.snapshot.load();
    let mut v = validate(&snap, &current.fields.source, &d)?;
    v.fields.demo = current.fields.demo;
    if v.fields == current.fields && v.status == current.status {
        return Ok(None);
    }
    Ok(Some(v))
}

/// Archives an actor (closed or withdrawn); archiving an archived actor changes nothing.
///
/// # Errors
/// [`AdminError::NotFound`] or internal.
pub async fn archive(
    state: &AppState,
    author: &str,
    id: ActorId,
) -> Result<ActorRecord, AdminError> {
    let current = record(state, id).await?;
    if current.status == Status::Archived {
        return Ok(current);
    }
    archive_with(state, author, &current, None).await?;
    publish(state).await;
    record(state, id).await
}

async fn archive_with(
    state: &AppState,
    author: &str,
    current: &ActorRecord,
    approves: Option<(i64, &Value)>,
) -> Result<ActorId, AdminError> {
    let changes = json!({"status": {"before": current.status.as_str(), "after": "archived"}});
    let write = ActorWrite::SetStatus {
        id: current.id,
        status: Status::Archived,
    };
    let audit = Audit {
        author,
        action: HistoryAction::Archive,
        changes: &changes,
        approves,
    };
    written(
        state.store.write_actor(write, audit).await?,
        Some(current.id),
    )
}

/// A contribution as sent by the public.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContributionBody {
    /// `new`, `correction` or `closure`.
    pub kind: String,
    /// The actor concerned (corrections and closures).
    pub actor_id: Option<i64>,
    /// Proposed values: all of them for a new actor, the changed ones for a correction.
    #[serde(default)]
    pub actor: Values,
    /// A note to the moderators, plain text.
    pub message: Option<String>,
    /// The contributor's address, for follow-up; never published.
    pub contributor_email: Option<String>,
    /// Honeypot: a field people never see. Filled in, the contribution is dropped silently.
    pub homepage: Option<String>,
}

impl ContributionBody {
    /// Whether the honeypot was filled in (by a robot).
    #[must_use]
    pub fn is_bait_taken(&self) -> bool {
        self.homepage
            .as_deref()
            .is_some_and(|h| !h.trim().is_empty())
    }
}

/// Checks a contribution and stores it pending: public data does not change.
///
/// # Errors
/// [`AdminError::Invalid`] listing every broken rule (values are validated as an import's,
/// strictly), [`AdminError::NotFound`] for a correction or closure of an unknown actor.
pub async fn submit(state: &AppState, body: &ContributionBody) -> Result<i64, AdminError> {
    let mut errors = Vec::new();
    let message = draft::text("message", body.message.as_deref(), MESSAGE_MAX)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let email = draft::email(body.contributor_email.as_deref())
        .map_err(|e| errors.push(InputError::new("contributor_email", e.rule)))
        .ok()
        .flatten();
    for key in NOT_FROM_PUBLIC {
        if body.actor.contains_key(key) {
            errors.push(InputError::new(
                format!("actor.{key}"),
                "not accepted in a contribution",
            ));
        }
    }
    let Some(kind) = ContributionKind::parse(body.kind.trim()) else {
        errors.push(InputError::new(
            "kind",
            format!(
                "unknown value '{}' (expected one of: new, correction, closure)",
                body.kind
            ),
        ));
        return Err(AdminError::Invalid(errors));
    };
    let proposal = match proposal(state, kind, body.actor_id, &body.actor).await {
        Ok(p) => Some(p),
        Err(AdminError::Invalid(mut more)) => {
            errors.append(&mut more);
            None
        }
        Err(other) => return Err(other),
    };
    if kind == ContributionKind::Closure && message.is_none() {
        errors.push(InputError::new(
            "message",
            "say how you know the place has closed",
        ));
    }
    let Some((actor_id, proposed)) = proposal.filter(|_| errors.is_empty()) else {
        return Err(AdminError::Invalid(errors));
    };
    let proposed = Value::Object(proposed);
    Ok(state
        .store
        .add_contribution(NewContribution {
            kind,
            actor_id,
            proposed: &proposed,
            message: message.as_deref(),
            contributor_email: email.as_deref(),
        })
        .await?)
}

/// The values a contribution proposes, validated: all of a new actor's, the changed ones of a
/// correction, the archived status of a closure.
async fn proposal(
    state: &AppState,
    kind: ContributionKind,
    actor_id: Option<i64>,
    values: &Values,
) -> Result<(Option<ActorId>, Values), AdminError> {
    let public = |values: &Values| -> Values {
        values
            .iter()
            .filter(|(k, _)| !NOT_FROM_PUBLIC.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    if kind == ContributionKind::New {
        let snap = state.snapshot.load();
        let v = validate(&snap, CONTRIBUTION_SOURCE, &draft_from(&public(values))?)?;
        let mut out = values_of(&v.fields, v.status);
        out.remove("status");
        out.retain(|_, v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()));
        return Ok((None, out));
    }
    let id = actor_id.ok_or_else(|| {
        InputError::new(
            "actor_id",
            "the actor concerned is required for a correction or a closure",
        )
    })?;
    let current = state
        .store
        .actor(ActorId(id))
        .await?
        .filter(|r| r.status == Status::Published)
        .ok_or_else(|| {
            InputError::new("actor_id", format!("no published actor has the id {id}"))
        })?;
    if kind == ContributionKind::Closure {
        return Ok((
            Some(current.id),
            values::Values::from_iter([("status".to_owned(), json!("archived"))]),
        ));
    }
    let before = current_values(&current);
    let v = revalidate(state, &current, &merge(&before, &public(values)))?;
    let proposed = v
        .map(|v| changed(&before, &values_of(&v.fields, v.status)))
        .unwrap_or_default();
    if proposed.is_empty() {
        return Err(InputError::new("actor", "nothing differs from the current values").into());
    }
    Ok((Some(current.id), proposed))
}

/// A contribution for moderators: what it proposes next to the current values, field by field.
///
/// # Errors
/// Internal, on a store failure.
pub async fn review(state: &AppState, c: &Contribution) -> Result<Value, AdminError> {
    let current = match c.actor_id {
        Some(id) => state.store.actor(id).await?,
        None => None,
    };
    let before = current.as_ref().map(current_values);
    let proposed = c.applied.as_ref().unwrap_or(&c.proposed);
    let rows: Vec<Value> = match proposed {
        Value::Object(p) => values::FIELDS
            .iter()
            .map(|k| (*k).to_owned())
            .chain(
                p.keys()
                    .filter(|k| !values::FIELDS.contains(&k.as_str()))
                    .cloned(),
            )
            .filter(|k| p.contains_key(k))
            .map(|k| {
                let now = before
                    .as_ref()
                    .and_then(|b| b.get(&k))
                    .cloned()
                    .unwrap_or(Value::Null);
                json!({"field": k, "current": now, "proposed": p[&k], "changed": p[&k] != now})
            })
            .collect(),
        _ => Vec::new(),
    };
    let mut out = serde_json::to_value(c).map_err(anyhow::Error::from)?;
    out["diff"] = Value::Array(rows);
    out["actor"] = match &current {
        Some(r) => json!({"id": r.id.0, "name": r.fields.name, "status": r.status.as_str()}),
        None => Value::Null,
    };
    Ok(out)
}

async fn pending(state: &AppState, id: i64) -> Result<Contribution, AdminError> {
    let c = state
        .store
        .contribution(id)
        .await?
        .ok_or_else(|| AdminError::NotFound(format!("no contribution has the id {id}")))?;
    if c.status != "pending" {
        return Err(AdminError::Conflict(format!(
            "this contribution has already been {}",
            c.status
        )));
    }
    Ok(c)
}

/// Approves a contribution, with the moderator's edits of its values when given: a new actor
/// is created (source `contribution`), a correction applied, a closure archives the actor;
/// the history records it.
///
/// # Errors
/// [`AdminError::NotFound`], [`AdminError::Conflict`] when already decided,
/// [`AdminError::Invalid`] when the (edited) values break rules, or internal.
pub async fn approve(
    state: &AppState,
    author: &str,
    id: i64,
    edited: Option<&Values>,
) -> Result<ActorRecord, AdminError> {
    let c = pending(state, id).await?;
    let proposed = match (edited, &c.proposed) {
        (Some(e), _) => e.clone(),
        (None, Value::Object(p)) => p.clone(),
        (None, _) => Values::new(),
    };
    let applied = Value::Object(proposed.clone());
    let actor = match c.kind {
        ContributionKind::New => {
            let snap = state.snapshot.load();
            let v = validate(&snap, CONTRIBUTION_SOURCE, &draft_from(&proposed)?)?;
            let after = values_of(&v.fields, v.status);
            let changes = diff(None, &after);
            let write = ActorWrite::Create {
                fields: &v.fields,
                status: v.status,
                location_flag: v.location_flag,
            };
            let audit = Audit {
                author,
                action: HistoryAction::Create,
                changes: &changes,
                approves: Some((c.id, &applied)),
            };
            written(state.store.write_actor(write, audit).await?, None)?
        }
        ContributionKind::Correction | ContributionKind::Closure => {
            let target = c.actor_id.ok_or_else(|| {
                AdminError::NotFound("the actor of this contribution no longer exists".into())
            })?;
            let current = record(state, target).await?;
            if c.kind == ContributionKind::Closure {
                archive_with(state, author, &current, Some((c.id, &applied))).await?
            } else {
                let before = current_values(&current);
                let v = revalidate(state, &current, &merge(&before, &proposed))?;
                let (fields, status, flag) = match &v {
                    Some(v) => (&v.fields, v.status, v.location_flag),
                    None => (&current.fields, current.status, None),
                };
                let changes = diff(Some(&before), &values_of(fields, status));
                let write = ActorWrite::Replace {
                    id: target,
                    fields,
                    status,
                    location_flag: flag,
                };
                let audit = Audit {
                    author,
                    action: HistoryAction::Update,
                    changes: &changes,
                    approves: Some((c.id, &applied)),
                };
                written(state.store.write_actor(write, audit).await?, Some(target))?
            }
        }
    };
    publish(state).await;
    record(state, actor).await
}

/// Rejects a contribution with a reason (plain text, required).
///
/// # Errors
/// [`AdminError::Invalid`] without a reason, [`AdminError::NotFound`], [`AdminError::Conflict`].
pub async fn reject(
    state: &AppState,
    author: &str,
    id: i64,
    reason: Option<&str>,
) -> Result<(), AdminError> {
    let reason = draft::text("reason", reason, REASON_MAX)?
        .ok_or_else(|| InputError::new("reason", "a reason is required"))?;
    pending(state, id).await?;
    if state.store.reject_contribution(id, author, &reason).await? {
        Ok(())
    } else {
        Err(AdminError::Conflict(
            "this contribution has already been decided".into(),
        ))
    }
}
