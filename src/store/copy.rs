//! Moving a whole store to another backend (`ancrage store copy`): every table, ids kept, in
//! one transaction on the target, then the counts checked.
//!
//! Rows travel as JSON objects keyed by column name (both schemas use the same names): the
//! source writes them with its JSON functions, the target reads them back with its own, so no
//! row type is needed per table. Rate-limit buckets are not copied: they refill within the hour.

use super::{RestoreSession, Result, Store, StoreError};
use std::time::{Duration, Instant};

/// Rows handed from the source to the target at a time.
pub const COPY_BATCH: usize = 2_000;

/// A table a store copy carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyTable {
    /// Seeding steps done.
    SeedRuns,
    /// The category taxonomy.
    Categories,
    /// Reference territories.
    Territories,
    /// Actors, with their ids.
    Actors,
    /// Which source records describe which actor.
    ActorSources,
    /// Committed imports.
    ImportRuns,
    /// Administrator tokens (hashes).
    AdminTokens,
    /// Public contributions.
    Contributions,
    /// The audit history of actors.
    ActorHistory,
}

impl CopyTable {
    /// Every table, parents before the tables that refer to them.
    pub const ALL: [Self; 9] = [
        Self::SeedRuns,
        Self::Categories,
        Self::Territories,
        Self::Actors,
        Self::ActorSources,
        Self::ImportRuns,
        Self::AdminTokens,
        Self::Contributions,
        Self::ActorHistory,
    ];

    /// The table's name in both schemas.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::SeedRuns => "seed_runs",
            Self::Categories => "categories",
            Self::Territories => "territories",
            Self::Actors => "actors",
            Self::ActorSources => "actor_sources",
            Self::ImportRuns => "import_runs",
            Self::AdminTokens => "admin_tokens",
            Self::Contributions => "contributions",
            Self::ActorHistory => "actor_history",
        }
    }

    /// Its columns, the same in both schemas.
    #[must_use]
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Self::SeedRuns => &["name", "detail", "applied_at"],
            Self::Categories => &[
                "position", "slug", "parent", "label_fr", "label_en", "colour", "icon",
            ],
            Self::Territories => &[
                "kind",
                "code",
                "name",
                "population",
                "population_published",
                "commune_count",
                "postcodes",
                "epci",
                "departement",
                "departements",
                "region",
                "area_m2",
                "point_lon",
                "point_lat",
                "point_origin",
                "geometry_origin",
                "geometry",
            ],
            Self::Actors => &[
                "id",
                "name",
                "description",
                "categories",
                "family",
                "is_tiers_lieu",
                "is_ptce",
                "is_reseau",
                "siret",
                "street",
                "postcode",
                "commune_code",
                "lon",
                "lat",
                "lon_e7",
                "lat_e7",
                "precision",
                "website",
                "email",
                "phone",
                "opening_hours",
                "accessibility",
                "source",
                "source_ref",
                "demo",
                "status",
                "created_at",
                "updated_at",
                "location_flag",
            ],
            Self::ActorSources => &[
                "source",
                "source_ref",
                "actor_id",
                "fields_hash",
                "first_seen",
                "last_seen",
            ],
            Self::ImportRuns => &[
                "id",
                "source",
                "format",
                "input",
                "started_at",
                "finished_at",
                "read",
                "created",
                "updated",
                "unchanged",
                "rejected",
            ],
            Self::AdminTokens => &[
                "id",
                "name",
                "token_hash",
                "created_at",
                "last_used_at",
                "revoked_at",
            ],
            Self::Contributions => &[
                "id",
                "kind",
                "actor_id",
                "proposed",
                "message",
                "contributor_email",
                "status",
                "created_at",
                "decided_at",
                "decided_by",
                "reason",
                "applied",
                "result_actor_id",
            ],
            Self::ActorHistory => &[
                "id",
                "actor_id",
                "at",
                "author",
                "action",
                "contribution_id",
                "changes",
            ],
        }
    }

    /// The columns that order a dump (its primary key), so that a copy is reproducible.
    #[must_use]
    pub fn order(self) -> &'static str {
        match self {
            Self::SeedRuns => "name",
            Self::Categories => "position",
            Self::Territories => "kind, code",
            Self::ActorSources => "source, source_ref",
            Self::Actors
            | Self::ImportRuns
            | Self::AdminTokens
            | Self::Contributions
            | Self::ActorHistory => "id",
        }
    }
}

/// What a copy moved, table by table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    /// `(table, rows)`, in copy order.
    pub tables: Vec<(&'static str, u64)>,
    /// Wall time.
    pub elapsed: Duration,
}

/// Progress of a copy: called with the table, rows copied so far and rows in all.
pub type Progress<'a> = &'a mut (dyn FnMut(CopyTable, u64, u64) + Send);

/// Copies every table of `from` into the empty store `to`, in one transaction on `to`, then
/// checks that every table holds as many rows on both sides.
///
/// # Errors
/// [`StoreError::Conflict`] when `to` is not empty; any store error of either side (nothing
/// is written to `to` then); [`StoreError::Corrupt`] when the counts differ after the copy.
pub async fn copy_store<F: Store, T: Store>(
    from: &F,
    to: &T,
    progress: Progress<'_>,
) -> Result<CopyReport> {
    let started = Instant::now();
    for table in CopyTable::ALL {
        if to.count_rows(table).await? > 0 {
            return Err(StoreError::Conflict(format!(
                "the target store is not empty (table {} has rows): copy into a new database",
                table.name()
            )));
        }
    }
    let mut expected = Vec::new();
    for table in CopyTable::ALL {
        expected.push((table, from.count_rows(table).await?));
    }
    let mut restore = to.begin_restore().await?;
    for &(table, total) in &expected {
        let (send, mut receive) = tokio::sync::mpsc::channel::<Vec<String>>(4);
        let dump = from.dump(table, send);
        let load = async {
            let mut done = 0u64;
            progress(table, done, total);
            while let Some(rows) = receive.recv().await {
                done += rows.len() as u64;
                restore.put(table, &rows).await?;
                progress(table, done, total);
            }
            Ok::<u64, StoreError>(done)
        };
        let (dumped, loaded) = tokio::join!(dump, load);
        dumped?;
        let loaded = loaded?;
        if loaded != total {
            return Err(StoreError::Corrupt(format!(
                "{}: {loaded} rows read, {total} counted (was the source written during the copy?)",
                table.name()
            )));
        }
    }
    restore.commit().await?;
    let mut report = CopyReport::default();
    for (table, total) in expected {
        let copied = to.count_rows(table).await?;
        if copied != total {
            return Err(StoreError::Corrupt(format!(
                "{}: {total} rows in the source, {copied} in the copy",
                table.name()
            )));
        }
        report.tables.push((table.name(), copied));
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Sends the rows of `rows` to `out` in batches of [`COPY_BATCH`]; stops early, without an
/// error, when the receiver is gone (the target reports its own error).
pub(super) async fn send_in_batches<E>(
    mut rows: impl futures_util::Stream<Item = std::result::Result<String, E>> + Unpin,
    out: &tokio::sync::mpsc::Sender<Vec<String>>,
) -> Result<()>
where
    StoreError: From<E>,
{
    use futures_util::TryStreamExt;
    let mut batch = Vec::with_capacity(COPY_BATCH);
    while let Some(row) = rows.try_next().await? {
        batch.push(row);
        if batch.len() == COPY_BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(COPY_BATCH));
            if out.send(full).await.is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = out.send(batch).await;
    }
    Ok(())
}
