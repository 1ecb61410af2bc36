//! The source of truth: actors, categories, territories, imports, administration data.
//!
//! [`Store`] is the contract every backend fulfils: [`sqlite::SqliteStore`] (one file, the
//! zero-setup default) and [`postgres::PgStore`] (several instances on one database). The rest
//! of the crate sees only this contract, [`AnyStore`] (the backend chosen by the database URL)
//! and domain types; no driver type leaves this module. `tests/store` runs one conformance
//! suite against both backends.

pub mod admin;
pub mod copy;
mod error;
mod feed;
#[cfg(test)]
mod fixtures;
pub mod postgres;
mod rows;
pub mod sqlite;

pub use error::StoreError;
pub use feed::ChangeFeed;

use crate::domain::actor::{ActorFields, ActorRecord};
use crate::domain::territory::TerritoryRecord;
use crate::domain::{ActorId, Catalog, CategoryDef, Status};
use crate::index::actors::ActorRows;
use admin::{
    ActorPage, ActorWrite, Audit, Contribution, HistoryEntry, NewContribution, TokenInfo,
    WriteOutcome,
};
use std::future::Future;
use std::time::Duration;

/// Result alias for store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend's name, as `/health` reports it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Connection settings that apply to a server backend (PostgreSQL); SQLite takes the
/// timeouts only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Largest number of connections in the pool.
    pub pool_size: u32,
    /// How long to wait for a connection (to the server, or from a busy pool).
    pub connect_timeout: Duration,
    /// Longest a single statement may run before the server cancels it; also how long a
    /// SQLite writer waits for the write lock.
    pub statement_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// What merging one record did, for backends that merge each record as it is staged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    /// A new actor.
    Created(ActorId),
    /// This source's record changed and the actor was updated.
    Updated(ActorId),
    /// A known SIRET from another source: this source was recorded on that actor and filled
    /// its missing values.
    Merged(ActorId),
    /// Same as last time.
    Unchanged(ActorId),
}

/// What the merge of an import did to the actors.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeCounts {
    /// Actors created.
    pub created: u64,
    /// Records that changed an actor: their source's own (updated), another source's
    /// (missing values filled), a known SIRET (merged), or superseded by a later record with
    /// the same reference in the same import.
    pub updated: u64,
    /// Records identical to what their source gave last time.
    pub unchanged: u64,
}

impl MergeCounts {
    /// Tallies one record merged.
    pub fn add(&mut self, u: Upserted) {
        match u {
            Upserted::Created(_) => self.created += 1,
            Upserted::Updated(_) | Upserted::Merged(_) => self.updated += 1,
            Upserted::Unchanged(_) => self.unchanged += 1,
        }
    }

    /// The counts of the whole run: these, with what the run read and rejected.
    #[must_use]
    pub fn of_run(self, run: ImportRun<'_>) -> ImportCounts {
        ImportCounts {
            read: run.read,
            created: self.created,
            updated: self.updated,
            unchanged: self.unchanged,
            rejected: run.rejected,
        }
    }
}

/// Counts of a finished import, recorded with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportCounts {
    /// Records read.
    pub read: u64,
    /// Actors created.
    pub created: u64,
    /// Actors updated (their own source changed, or another source filled gaps).
    pub updated: u64,
    /// Records identical to the last import.
    pub unchanged: u64,
    /// Records refused (see the rejects file).
    pub rejected: u64,
}

/// What an import was, recorded with its counts when it commits.
#[derive(Debug, Clone, Copy)]
pub struct ImportRun<'a> {
    /// Source name given to the actors.
    pub source: &'a str,
    /// Input format.
    pub format: &'a str,
    /// Input file, as given.
    pub input: &'a str,
    /// Records read from the input.
    pub read: u64,
    /// Records refused (by validation, or by the store while staging).
    pub rejected: u64,
}

/// A record to upsert: validated content, status, location flag and the hash of it all.
#[derive(Debug, Clone, Copy)]
pub struct UpsertRecord<'a> {
    /// Content; `source_ref` must be set.
    pub fields: &'a ActorFields,
    /// Status.
    pub status: Status,
    /// `outside-commune`, `outside-france` or none.
    pub location_flag: Option<&'static str>,
    /// Hash of the record as this source gave it.
    pub hash: &'a str,
}

/// What a rate-limited client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    /// One request taken from the client's allowance.
    Allowed,
    /// The allowance is spent: the next request is possible after this long.
    Limited(Duration),
}

/// Held while first-start seeding runs, so that instances starting together seed once;
/// released when dropped.
pub struct SeedLock(#[allow(dead_code)] Box<dyn Send + Sync>);

impl std::fmt::Debug for SeedLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeedLock")
    }
}

/// An import in progress: validated records are staged, then merged into the store by
/// [`ImportSession::commit`] in one transaction. Staging takes no lock that other writers wait
/// for. Dropped without a commit (an error, Ctrl-C, a crash), nothing of it is stored.
///
/// Merge rules, the same on every backend: a record is keyed by its source and source
/// reference; the same reference twice in one import, the last record wins; a record
/// identical to what its source gave last time (same hash) is unchanged; a changed record of
/// the actor's own source replaces its values; a record of another source, or a new reference
/// whose SIRET a non-archived actor has, fills that actor's missing values (and adds its
/// categories, and its location when the actor's is only its commune's); anything else is a
/// new actor (new references sharing a SIRET make one actor).
pub trait ImportSession: Send {
    /// Adds a validated record to the import.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the store refuses this record (the import may go on);
    /// any other error abandons the whole import.
    fn stage(&mut self, r: UpsertRecord<'_>) -> impl Future<Output = Result<()>> + Send;

    /// Merges every staged record in one transaction, records the run with its counts, and
    /// commits; with `dry_run`, rolls back instead, after counting exactly.
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    fn commit(
        self,
        run: ImportRun<'_>,
        dry_run: bool,
    ) -> impl Future<Output = Result<MergeCounts>> + Send;
}

/// A whole store being written by a copy: one transaction, committed whole or not at all.
pub trait RestoreSession: Send {
    /// Inserts rows of `table`, each a JSON object keyed by column name, as
    /// [`copy::CopyTable::columns`] lists them.
    ///
    /// # Errors
    /// On a database error or a row that breaks the schema.
    fn put(
        &mut self,
        table: copy::CopyTable,
        rows: &[String],
    ) -> impl Future<Output = Result<()>> + Send;

    /// Commits the copy (and moves id sequences past the copied ids).
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    fn commit(self) -> impl Future<Output = Result<()>> + Send;
}

/// Every operation the service needs from its source of truth. Implementations keep
/// semantics identical (the conformance suite in `tests/store` checks it): times are RFC 3339
/// UTC strings, positions are kept to 1e-7 degree, every change to actors moves the
/// [`Store::revision`].
pub trait Store: Clone + Send + Sync + 'static {
    /// The import transaction of this backend.
    type Import: ImportSession;
    /// The copy transaction of this backend.
    type Restore: RestoreSession;

    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Takes the seeding lock (waits for another instance that holds it).
    ///
    /// # Errors
    /// When the store is unreachable.
    fn seed_lock(&self) -> impl Future<Output = Result<SeedLock>> + Send;

    /// Whether a named seeding step has been applied.
    ///
    /// # Errors
    /// On a database error.
    fn seeded(&self, step: &str) -> impl Future<Output = Result<bool>> + Send;

    /// Stores territories and categories and marks the `reference` step and the step named
    /// `edition` (the edition of the territories), in one transaction.
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    fn seed_reference(
        &self,
        territories: &[TerritoryRecord],
        categories: &[CategoryDef],
        edition: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Replaces every territory by those of another edition of the reference data and marks
    /// the step named `edition`, in one transaction (readers see the old set or the new one).
    /// Actors keep their commune codes; categories are left alone.
    ///
    /// # Errors
    /// On a database error (nothing is changed then).
    fn replace_territories(
        &self,
        territories: &[TerritoryRecord],
        edition: &str,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Every territory.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn territories(&self) -> impl Future<Output = Result<Vec<TerritoryRecord>>> + Send;

    /// The category taxonomy, in order.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn categories(&self) -> impl Future<Output = Result<Vec<CategoryDef>>> + Send;

    /// Inserts actors with their status and records the seeding step `seed_step` (name,
    /// detail) when given, all in one transaction.
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    fn insert_actors(
        &self,
        actors: &[(ActorFields, Status)],
        seed_step: Option<(&str, &str)>,
    ) -> impl Future<Output = Result<Vec<ActorId>>> + Send;

    /// Changes the status of an actor; returns whether it existed.
    ///
    /// # Errors
    /// On a database error.
    fn set_status(&self, id: ActorId, status: Status) -> impl Future<Output = Result<bool>> + Send;

    /// The published actors, as the index needs them, in id order.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn actor_rows(&self, catalog: &Catalog) -> impl Future<Output = Result<ActorRows>> + Send;

    /// One actor, whatever its status.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn actor(&self, id: ActorId) -> impl Future<Output = Result<Option<ActorRecord>>> + Send;

    /// The actors of the given ids (whatever their status), in id order.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn actor_records(
        &self,
        ids: &[ActorId],
    ) -> impl Future<Output = Result<Vec<ActorRecord>>> + Send;

    /// Ids of the published actors, in id order (demonstration actors only when asked).
    ///
    /// # Errors
    /// On a database error.
    fn published_ids(
        &self,
        include_demo: bool,
    ) -> impl Future<Output = Result<Vec<ActorId>>> + Send;

    /// The sources that describe an actor: `(source, source_ref)`, in that order.
    ///
    /// # Errors
    /// On a database error.
    fn actor_sources(
        &self,
        id: ActorId,
    ) -> impl Future<Output = Result<Vec<(String, String)>>> + Send;

    /// The actor that a source's record `source_ref` describes, if any.
    ///
    /// # Errors
    /// On a database error.
    fn actor_by_source(
        &self,
        source: &str,
        source_ref: &str,
    ) -> impl Future<Output = Result<Option<ActorId>>> + Send;

    /// The change counter of actors: it moves on every committed insert, update or delete.
    ///
    /// # Errors
    /// On a database error.
    fn revision(&self) -> impl Future<Output = Result<i64>> + Send;

    /// Starts an import transaction.
    ///
    /// # Errors
    /// On a database error.
    fn begin_import(&self) -> impl Future<Output = Result<Self::Import>> + Send;

    /// Number of committed imports.
    ///
    /// # Errors
    /// On a database error.
    fn import_count(&self) -> impl Future<Output = Result<u64>> + Send;

    /// Records a new token hash under `name`; `false` when an active token already has it.
    ///
    /// # Errors
    /// On a database error.
    fn create_token(
        &self,
        name: &str,
        token_hash: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Every token, oldest first.
    ///
    /// # Errors
    /// On a database error.
    fn tokens(&self) -> impl Future<Output = Result<Vec<TokenInfo>>> + Send;

    /// Whether a token with this hash is stored (active or not).
    ///
    /// # Errors
    /// On a database error.
    fn token_hash_known(&self, token_hash: &str) -> impl Future<Output = Result<bool>> + Send;

    /// Revokes the active token of `name`; `false` when there is none.
    ///
    /// # Errors
    /// On a database error.
    fn revoke_token(&self, name: &str) -> impl Future<Output = Result<bool>> + Send;

    /// The name of the active token with this hash, if any. Records its use at most once per
    /// [`admin::TOKEN_USE_RESOLUTION`], and never fails because of that record: an
    /// authenticated read does not wait for a busy writer.
    ///
    /// # Errors
    /// On a database error.
    fn token_owner(&self, token_hash: &str) -> impl Future<Output = Result<Option<String>>> + Send;

    /// Writes an actor and its history entry (and marks the approved contribution) in one
    /// transaction.
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    fn write_actor(
        &self,
        write: ActorWrite<'_>,
        audit: Audit<'_>,
    ) -> impl Future<Output = Result<WriteOutcome>> + Send;

    /// The history of an actor, oldest first.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn history(&self, id: ActorId) -> impl Future<Output = Result<Vec<HistoryEntry>>> + Send;

    /// Actors of any status for the administration, newest changes first, optionally of one
    /// status and with a name containing `q` (case-insensitive for ASCII letters).
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn admin_actors(
        &self,
        status: Option<Status>,
        q: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = Result<ActorPage>> + Send;

    /// Stores a contribution (pending); returns its id.
    ///
    /// # Errors
    /// On a database error.
    fn add_contribution(&self, c: NewContribution<'_>) -> impl Future<Output = Result<i64>> + Send;

    /// Contributions, oldest first, optionally of one status.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn contributions(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> impl Future<Output = Result<Vec<Contribution>>> + Send;

    /// One contribution.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    fn contribution(&self, id: i64) -> impl Future<Output = Result<Option<Contribution>>> + Send;

    /// Rejects a pending contribution; `false` when it is not pending (or does not exist).
    ///
    /// # Errors
    /// On a database error.
    fn reject_contribution(
        &self,
        id: i64,
        by: &str,
        reason: &str,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Takes one request from the allowance of `key` (a client), shared by every instance on
    /// this store: at most `per_hour` requests an hour, all of them at once at most (a token
    /// bucket refilled continuously).
    ///
    /// # Errors
    /// On a database error.
    fn take_rate(
        &self,
        key: &str,
        per_hour: u32,
    ) -> impl Future<Output = Result<RateDecision>> + Send;

    /// Number of rows in `table`.
    ///
    /// # Errors
    /// On a database error.
    fn count_rows(&self, table: copy::CopyTable) -> impl Future<Output = Result<u64>> + Send;

    /// Sends every row of `table`, as JSON objects keyed by column name, in batches of at most
    /// [`copy::COPY_BATCH`], in primary-key order; stops when the receiver is gone.
    ///
    /// # Errors
    /// On a database error.
    fn dump(
        &self,
        table: copy::CopyTable,
        out: tokio::sync::mpsc::Sender<Vec<String>>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Starts writing a copy of another store into this one.
    ///
    /// # Errors
    /// On a database error.
    fn begin_restore(&self) -> impl Future<Output = Result<Self::Restore>> + Send;

    /// Starts listening for changes committed by other processes, when the backend can tell
    /// (PostgreSQL `LISTEN/NOTIFY`); on SQLite the feed stays unsupported and the revision
    /// poll alone applies.
    fn listen(&self, feed: std::sync::Arc<ChangeFeed>);

    /// Flushes and closes every connection.
    fn close(&self) -> impl Future<Output = ()> + Send;
}

/// The store chosen by the database URL.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// Embedded SQLite file.
    Sqlite(sqlite::SqliteStore),
    /// PostgreSQL server.
    Postgres(postgres::PgStore),
}

/// Whether a URL names a PostgreSQL database.
#[must_use]
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// `url` with any password replaced by `***`, for messages and logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl AnyStore {
    /// Opens (creating it if needed) and migrates the store named by a database URL:
    /// `sqlite://PATH` or `postgres://…` (also `postgresql://…`).
    ///
    /// # Errors
    /// On an unsupported URL, an unusable data directory, an unreachable server or a failed
    /// migration.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(sqlite::SqliteStore::open(url, options).await?))
        } else if is_postgres_url(url) {
            Ok(Self::Postgres(postgres::PgStore::open(url, options).await?))
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }
}

/// The import transaction of [`AnyStore`].
pub enum AnyImport {
    /// On SQLite.
    Sqlite(<sqlite::SqliteStore as Store>::Import),
    /// On PostgreSQL.
    Postgres(<postgres::PgStore as Store>::Import),
}

impl ImportSession for AnyImport {
    async fn stage(&mut self, r: UpsertRecord<'_>) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.stage(r).await,
            Self::Postgres(s) => s.stage(r).await,
        }
    }

    async fn commit(self, run: ImportRun<'_>, dry_run: bool) -> Result<MergeCounts> {
        match self {
            Self::Sqlite(s) => s.commit(run, dry_run).await,
            Self::Postgres(s) => s.commit(run, dry_run).await,
        }
    }
}

/// Forwards a contract method to the backend of an [`AnyStore`].
macro_rules! forward {
    ($self:ident.$method:ident($($arg:expr),*)) => {
        match $self {
            Self::Sqlite(s) => s.$method($($arg),*).await,
            Self::Postgres(s) => s.$method($($arg),*).await,
        }
    };
}

/// The copy transaction of [`AnyStore`].
pub enum AnyRestore {
    /// On SQLite.
    Sqlite(<sqlite::SqliteStore as Store>::Restore),
    /// On PostgreSQL.
    Postgres(<postgres::PgStore as Store>::Restore),
}

impl RestoreSession for AnyRestore {
    async fn put(&mut self, table: copy::CopyTable, rows: &[String]) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.put(table, rows).await,
            Self::Postgres(s) => s.put(table, rows).await,
        }
    }

    async fn commit(self) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.commit().await,
            Self::Postgres(s) => s.commit().await,
        }
    }
}

impl Store for AnyStore {
    type Import = AnyImport;
    type Restore = AnyRestore;

    fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(s) => s.backend(),
            Self::Postgres(s) => s.backend(),
        }
    }
    async fn seed_lock(&self) -> Result<SeedLock> {
        forward!(self.seed_lock())
    }
    async fn seeded(&self, step: &str) -> Result<bool> {
        forward!(self.seeded(step))
    }
    async fn seed_reference(
        &self,
        territories: &[TerritoryRecord],
        categories: &[CategoryDef],
        edition: &str,
    ) -> Result<()> {
        forward!(self.seed_reference(territories, categories, edition))
    }
    async fn replace_territories(
        &self,
        territories: &[TerritoryRecord],
        edition: &str,
    ) -> Result<()> {
        forward!(self.replace_territories(territories, edition))
    }
    async fn territories(&self) -> Result<Vec<TerritoryRecord>> {
        forward!(self.territories())
    }
    async fn categories(&self) -> Result<Vec<CategoryDef>> {
        forward!(self.categories())
    }
    async fn insert_actors(
        &self,
        actors: &[(ActorFields, Status)],
        seed_step: Option<(&str, &str)>,
    ) -> Result<Vec<ActorId>> {
        forward!(self.insert_actors(actors, seed_step))
    }
    async fn set_status(&self, id: ActorId, status: Status) -> Result<bool> {
        forward!(self.set_status(id, status))
    }
    async fn actor_rows(&self, catalog: &Catalog) -> Result<ActorRows> {
        forward!(self.actor_rows(catalog))
    }
    async fn actor(&self, id: ActorId) -> Result<Option<ActorRecord>> {
        forward!(self.actor(id))
    }
    async fn actor_records(&self, ids: &[ActorId]) -> Result<Vec<ActorRecord>> {
        forward!(self.actor_records(ids))
    }
    async fn published_ids(&self, include_demo: bool) -> Result<Vec<ActorId>> {
        forward!(self.published_ids(include_demo))
    }
    async fn actor_sources(&self, id: ActorId) -> Result<Vec<(String, String)>> {
        forward!(self.actor_sources(id))
    }
    async fn actor_by_source(&self, source: &str, source_ref: &str) -> Result<Option<ActorId>> {
        forward!(self.actor_by_source(source, source_ref))
    }
    async fn revision(&self) -> Result<i64> {
        forward!(self.revision())
    }
    async fn begin_import(&self) -> Result<AnyImport> {
        match self {
            Self::Sqlite(s) => Ok(AnyImport::Sqlite(s.begin_import().await?)),
            Self::Postgres(s) => Ok(AnyImport::Postgres(s.begin_import().await?)),
        }
    }
    async fn import_count(&self) -> Result<u64> {
        forward!(self.import_count())
    }
    async fn create_token(&self, name: &str, token_hash: &str) -> Result<bool> {
        forward!(self.create_token(name, token_hash))
    }
    async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        forward!(self.tokens())
    }
    async fn token_hash_known(&self, token_hash: &str) -> Result<bool> {
        forward!(self.token_hash_known(token_hash))
    }
    async fn revoke_token(&self, name: &str) -> Result<bool> {
        forward!(self.revoke_token(name))
    }
    async fn token_owner(&self, token_hash: &str) -> Result<Option<String>> {
        forward!(self.token_owner(token_hash))
    }
    async fn write_actor(&self, write: ActorWrite<'_>, audit: Audit<'_>) -> Result<WriteOutcome> {
        forward!(self.write_actor(write, audit))
    }
    async fn history(&self, id: ActorId) -> Result<Vec<HistoryEntry>> {
        forward!(self.history(id))
    }
    async fn admin_actors(
        &self,
        status: Option<Status>,
        q: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<ActorPage> {
        forward!(self.admin_actors(status, q, limit, offset))
    }
    async fn add_contribution(&self, c: NewContribution<'_>) -> Result<i64> {
        forward!(self.add_contribution(c))
    }
    async fn contributions(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Contribution>> {
        forward!(self.contributions(status, limit, offset))
    }
    async fn contribution(&self, id: i64) -> Result<Option<Contribution>> {
        forward!(self.contribution(id))
    }
    async fn reject_contribution(&self, id: i64, by: &str, reason: &str) -> Result<bool> {
        forward!(self.reject_contribution(id, by, reason))
    }
    async fn take_rate(&self, key: &str, per_hour: u32) -> Result<RateDecision> {
        forward!(self.take_rate(key, per_hour))
    }
    async fn count_rows(&self, table: copy::CopyTable) -> Result<u64> {
        forward!(self.count_rows(table))
    }
    async fn dump(
        &self,
        table: copy::CopyTable,
        out: tokio::sync::mpsc::Sender<Vec<String>>,
    ) -> Result<()> {
        forward!(self.dump(table, out))
    }
    async fn begin_restore(&self) -> Result<AnyRestore> {
        match self {
            Self::Sqlite(s) => Ok(AnyRestore::Sqlite(s.begin_restore().await?)),
            Self::Postgres(s) => Ok(AnyRestore::Postgres(s.begin_restore().await?)),
        }
    }
    fn listen(&self, feed: std::sync::Arc<ChangeFeed>) {
        match self {
            Self::Sqlite(s) => s.listen(feed),
            Self::Postgres(s) => s.listen(feed),
        }
    }
    async fn close(&self) {
        forward!(self.close());
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_appear_in_a_redacted_url() {
        assert_eq!(
            redact_url("postgres://ancrage:s3cr@t@db.example:5432/ess?sslmode=require"),
            "postgres://ancrage:***@db.example:5432/ess?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://ancrage@db/ess"),
            "postgresql://ancrage@db/ess"
        );
        assert_eq!(
            redact_url("sqlite://data/ancrage.db"),
            "sqlite://data/ancrage.db"
        );
    }
}
