//! PostgreSQL backend: several instances on one database, with the semantics of
//! [`super::sqlite::SqliteStore`] (the conformance suite runs the same assertions on both).
//!
//! - The schema (`migrations/postgres`) has the tables and columns of the SQLite one, as plain
//!   columns; sqlx's migrator takes an advisory lock (`pg_advisory_lock` keyed by the database
//!   name, in `sqlx-postgres`'s `Migrate::lock`), so instances starting together migrate once.
//! - The revision moves at commit time only (a deferred trigger), so that a long import never
//!   holds a lock that other writers wait for; it is also sent by `NOTIFY` on the channel
//!   [`CHANNEL`], which the listener (`listen.rs`) turns into [`ChangeFeed`] signals.
//! - Bulk loads use `COPY … FROM STDIN` (`copy.rs`); an import stages its records by `COPY`
//!   into a temporary table of its own session, holding no lock, then merges them with
//!   set-based statements in one short transaction, by SQLite's rules (`import.rs`).
//!
//! Every value is bound; the only SQL built with `format!` joins constant column lists.

mod admin;
mod copy;
mod import;
mod listen;
mod restore;

pub use restore::PgRestore;
#[cfg(test)]
mod tests;

pub use import::PgImport;

use super::rows::{
    ACTOR_COLUMNS, ActorRow, CategoryRow, ContentValues, TERRITORY_COLUMNS, TerritoryRow, corrupt,
    kinds_from, now_ms, records,
};
use super::{
    Backend, ChangeFeed, RateDecision, Result, SeedLock, Store, StoreError, StoreOptions,
    redact_url,
};
use crate::domain::actor::{ActorFields, ActorRecord};
use crate::domain::territory::{TerritoryRecord, write_area_geometry};
use crate::domain::{
    ActorId, Catalog, CategoryDef, CategorySet, Family, GeocodePrecision, LonLat, Status,
};
use crate::index::actors::{ActorFacts, ActorRows, CommuneCode};
use copy::{CopyBuffer, CopyWriter};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, Row};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The `NOTIFY` channel on which every committed change to actors is announced (payload: the
/// new revision).
pub const CHANNEL: &str = "ancrage_store";

/// Key of the session-level advisory lock that serialises first-start seeding ("ancrage" in
/// ASCII, then 1). Advisory locks are per database: instances on other databases of the same
/// server do not share it.
const SEED_LOCK_KEY: i64 = 0x616e_6372_6167_6501;

/// Longest wait between two connection attempts at start-up.
const CONNECT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// A PostgreSQL store (connection pool).
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// How to open more connections (the listener's); holds the password.
    connect: Arc<PgConnectOptions>,
    /// The URL without its password, for messages.
    shown_url: Arc<str>,
    options: StoreOptions,
}

impl std::fmt::Debug for PgStore {
    // Not derived: the connection options hold the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.shown_url)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects to `postgres://…` and applies the migrations.
    ///
    /// The pool holds up to `options.pool_size` connections and waits up to
    /// `options.connect_timeout` for one; every session runs with `statement_timeout` set to
    /// `options.statement_timeout` (a longer statement is cancelled and fails with
    /// [`StoreError::Busy`]) and `application_name` `ancrage` unless the URL names one. A
    /// server that refuses connections is retried until `options.connect_timeout` (it may be
    /// starting); several instances may start at once (the migrator takes an advisory lock).
    ///
    /// # Errors
    /// [`StoreError::UnsupportedUrl`] on a malformed URL; [`StoreError::Unavailable`] when the
    /// server cannot be reached or refuses the credentials or database (the message names the
    /// URL without its password); [`StoreError::Migration`] when the schema cannot be brought
    /// up to date.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self> {
        let shown_url = redact_url(url);
        let mut connect = PgConnectOptions::from_str(url)
            .map_err(|_| StoreError::UnsupportedUrl(shown_url.clone()))?
            .options([(
                "statement_timeout",
                options.statement_timeout.as_millis().to_string(),
            )]);
        if connect.get_application_name().is_none() {
            connect = connect.application_name("ancrage");
        }
        probe(&connect, options.connect_timeout, &shown_url).await?;
        let pool = PgPoolOptions::new()
            .max_connections(options.pool_size.max(1))
            .acquire_timeout(options.connect_timeout)
            .connect_lazy_with(connect.clone());
        if let Err(e) = sqlx::migrate!("./migrations/postgres").run(&pool).await {
            // A failed migration leaves its connection holding the migrator's advisory lock
            // (sqlx unlocks only on success): close every connection so that the server
            // releases it and another instance can try.
            pool.close().await;
            return Err(e.into());
        }
        Ok(Self {
            pool,
            connect: Arc::new(connect),
            shown_url: shown_url.into(),
            options,
        })
    }
}

/// One connection, opened and closed, so that an unreachable server is reported with its
/// reason (the pool would only say that it timed out). A refused connection, or a server still
/// starting, is retried until `timeout`.
async fn probe(connect: &PgConnectOptions, timeout: Duration, shown_url: &str) -> Result<()> {
    let deadline = Instant::now() + timeout;
    let mut backoff = Duration::from_millis(50);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let failure = match tokio::time::timeout(left, PgConnection::connect_with(connect)).await {
            Ok(Ok(conn)) => {
                // Only a probe: whether it closes gracefully does not matter.
                let _ = conn.close().await;
                return Ok(());
            }
            Ok(Err(e)) => e,
            Err(_) => {
                return Err(StoreError::Unavailable(format!(
                    "cannot connect to {shown_url}: no answer within {} ms",
                    timeout.as_millis()
                )));
            }
        };
        let retry = match &failure {
            sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
            // cannot_connect_now: the server is starting up or shutting down.
            sqlx::Error::Database(db) => db.code().as_deref() == Some("57P03"),
            _ => false,
        };
        if !retry || Instant::now() + backoff >= deadline {
            return Err(StoreError::Unavailable(format!(
                "cannot connect to {shown_url}: {}",
                connect_failure(&failure)
            )));
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(CONNECT_BACKOFF_MAX);
    }
}

/// Why a connection failed, in a few words (never the URL: sqlx's messages do not name it, and
/// the caller adds the redacted one).
fn connect_failure(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
            _ => io.to_string(),
        },
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Tls(t) => format!("TLS: {t}"),
        other => other.to_string(),
    }
}

/// The seeding lock: a dedicated connection holding the session-level advisory lock
/// [`SEED_LOCK_KEY`].
///
/// The connection is detached from the pool: a pooled connection would go back to the pool
/// when dropped, still holding the lock (a session-level lock outlives transactions), and the
/// lock would never be released (advisory locks are also re-entrant per session, so a later
/// `seed_lock` on that connection would not even wait). Closing the connection ends the
/// session, and the server releases the lock, also when this process crashes. Detached, it
/// does not count in the pool either, so seeding keeps every pooled connection for its work.
struct SeedSession(Option<PgConnection>);

impl Drop for SeedSession {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            close_in_background(conn);
        }
    }
}

/// Ends a session without waiting: a graceful close (a `Terminate` message) when a runtime is
/// there to run it; otherwise dropping the socket ends the session just as surely.
fn close_in_background(conn: PgConnection) {
    if let Ok(rt) = tokio::runtime::Handle::try_current() {
        rt.spawn(async move {
            if let Err(e) = conn.close().await {
                tracing::debug!("connection not closed cleanly: {e}");
            }
        });
    }
}

/// Columns of `COPY territories`, in the order [`seed_reference`](Store::seed_reference)
/// writes them.
const COPY_TERRITORIES: &str = "COPY territories (kind, code, name, population, population_published, commune_count, postcodes, epci, departement, \
     departements, region, area_m2, point_lon, point_lat, point_origin, geometry_origin, geometry) FROM STDIN";

/// Columns of the `COPY` of seeded actors' own source records.
const COPY_OWN_SOURCES: &str = "COPY actor_sources (source, source_ref, actor_id) FROM STDIN";

/// Columns of `COPY actors`: the id, the content columns in [`ContentValues`] order, then
/// source, reference, demo, status and location flag.
const COPY_ACTORS: &str = "COPY actors (id, name, description, categories, family, is_tiers_lieu, is_ptce, is_reseau, \
     siret, street, postcode, commune_code, lon, lat, lon_e7, lat_e7, precision, website, email, phone, opening_hours, \
     accessibility, source, source_ref, demo, status, location_flag) FROM STDIN";

/// The columns [`Store::actor_rows`] reads, by position in [`push_actor_row`].
const ACTOR_ROWS_QUERY: &str = "SELECT id, name, categories, family, is_tiers_lieu, is_ptce, is_reseau, commune_code, \
     lon_e7, lat_e7, precision, demo, opening_hours, updated_at FROM actors WHERE status = 'published' ORDER BY id";

/// Rows handed to the parsing thread at once by [`Store::actor_rows`].
const ACTOR_BATCH: usize = 2048;

/// Writes territories by one `COPY` in the caller's transaction.
async fn copy_territories(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    territories: &[TerritoryRecord],
) -> Result<()> {
    if !territories.is_empty() {
        let mut copy = CopyWriter::begin(tx, COPY_TERRITORIES).await?;
        let mut geometry = Vec::new();
        for t in territories {
            copy.text(Some(t.kind.as_str()));
            copy.text(Some(&t.code));
            copy.text(Some(&t.name));
            copy.int(i64::try_from(t.population).unwrap_or(i64::MAX));
            match t.population_published {
                Some(p) => copy.int(i64::try_from(p).unwrap_or(i64::MAX)),
                None => copy.null(),
            }
            copy.int(i64::from(t.commune_count));
            copy.text(Some(&t.postcodes.join(" ")));
            copy.text(t.epci.as_deref());
            copy.text(t.departement.as_deref());
            copy.text(Some(&t.departements.join(" ")));
            copy.text(t.region.as_deref());
            copy.float(t.area_m2);
            copy.float(t.point.map(|p| p[0]));
            copy.float(t.point.map(|p| p[1]));
            copy.text(t.point_origin.as_deref());
            copy.text(t.geometry_origin.as_deref());
            match &t.geometry {
                Some(g) => {
                    geometry.clear();
                    write_area_geometry(&mut geometry, g);
                    copy.bytes(&geometry);
                }
                None => copy.null(),
            }
            copy.end_row().await?;
        }
        copy.finish().await?;
    }
    Ok(())
}

impl Store for PgStore {
    type Restore = PgRestore;
    type Import = PgImport;

    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn seed_lock(&self) -> Result<SeedLock> {
        let mut conn = self.pool.acquire().await?.detach();
        // Another instance may seed for longer than a statement may last.
        sqlx::query("SET statement_timeout = 0")
            .execute(&mut conn)
            .await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(SEED_LOCK_KEY)
            .execute(&mut conn)
            .await?;
        Ok(SeedLock(Box::new(SeedSession(Some(conn)))))
    }

    async fn seeded(&self, step: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM seed_runs WHERE name = $1")
            .bind(step)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// Territories go in by one `COPY` (the embedded 36 000, 40 MB of GeoJSON, in well under
    /// a second on a local server), categories row by row (a few dozen), all in one
    /// transaction.
    async fn seed_reference(
        &self,
        territories: &[TerritoryRecord],
        categories: &[CategoryDef],
        edition: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        copy_territories(&mut tx, territories).await?;
        for (position, c) in categories.iter().enumerate() {
            sqlx::query(
                "INSERT INTO categories (position, slug, parent, label_fr, label_en, colour, icon) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(&c.slug)
            .bind(&c.parent)
            .bind(&c.label_fr)
            .bind(&c.label_en)
            .bind(&c.colour)
            .bind(&c.icon)
            .execute(&mut *tx)
            .await?;
        }
        let detail = format!(
            "{} territories, {} categories",
            territories.len(),
            categories.len()
        );
        sqlx::query("INSERT INTO seed_runs (name, detail) VALUES ('reference', $1), ($2, $3)")
            .bind(&detail)
            .bind(edition)
            .bind(format!("{} territories", territories.len()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn replace_territories(
        &self,
        territories: &[TerritoryRecord],
        edition: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM territories")
            .execute(&mut *tx)
            .await?;
        copy_territories(&mut tx, territories).await?;
        sqlx::query("INSERT INTO seed_runs (name, detail) VALUES ($1, $2)")
            .bind(edition)
            .bind(format!(
                "{} territories, replacing the previous edition",
                territories.len()
            ))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn territories(&self) -> Result<Vec<TerritoryRecord>> {
        let mut rows = sqlx::query_as::<_, TerritoryRow>(sqlx::AssertSqlSafe(format!(
            // A constant column list: no input in this text.
            "SELECT {TERRITORY_COLUMNS} FROM territories"
        )))
        .fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await? {
            out.push(TerritoryRecord::try_from(row)?);
        }
        Ok(out)
    }

    async fn categories(&self) -> Result<Vec<CategoryDef>> {
        let rows: Vec<CategoryRow> = sqlx::query_as(
            "SELECT slug, parent, label_fr, label_en, colour, icon FROM categories ORDER BY position",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(CategoryDef::from).collect())
    }

    /// Ids are taken from the identity's sequence first, in one statement, then every actor
    /// goes in by one `COPY` with its id: the ids are known in input order without a round
    /// trip per actor (`INSERT … RETURNING` of many rows does not promise their order), and
    /// the sequence stays ahead of every id, so that later inserts do not collide.
    async fn insert_actors(
        &self,
        actors: &[(ActorFields, Status)],
        seed_step: Option<(&str, &str)>,
    ) -> Result<Vec<ActorId>> {
        // Reserved in a transaction of their own (it holds the sequence for milliseconds);
        // increasing, as one after another would be.
        let n = i64::try_from(actors.len()).unwrap_or(i64::MAX);
        let first: i64 = if n > 0 {
            sqlx::query_scalar("SELECT ancrage_reserve_actor_ids($1)")
                .bind(n)
                .fetch_one(&self.pool)
                .await?
        } else {
            0
        };
        let ids: Vec<i64> = (first..first + n).collect();
        let mut tx = self.pool.begin().await?;
        if n > 0 {
            let mut copy = CopyWriter::begin(&mut tx, COPY_ACTORS).await?;
            for (&id, (a, status)) in ids.iter().zip(actors) {
                copy.int(id);
                copy_content(&mut copy, &ContentValues::of(a));
                copy.text(Some(&a.source));
                copy.text(a.source_ref.as_deref());
                copy.bool(a.demo);
                copy.text(Some(status.as_str()));
                copy.null(); // location_flag
                copy.end_row().await?;
            }
            copy.finish().await?;
            // Their own sources' records (see `admin::own_source_record`).
            if actors.iter().any(|(a, _)| a.source_ref.is_some()) {
                let mut copy = CopyWriter::begin(&mut tx, COPY_OWN_SOURCES).await?;
                for (&id, (a, _)) in ids.iter().zip(actors) {
                    if let Some(source_ref) = &a.source_ref {
                        copy.text(Some(&a.source));
                        copy.text(Some(source_ref));
                        copy.int(id);
                        copy.end_row().await?;
                    }
                }
                copy.finish().await?;
            }
        }
        if let Some((name, detail)) = seed_step {
            sqlx::query("INSERT INTO seed_runs (name, detail) VALUES ($1, $2)")
                .bind(name)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids.into_iter().map(ActorId).collect())
    }

    async fn set_status(&self, id: ActorId, status: Status) -> Result<bool> {
        let done =
            sqlx::query("UPDATE actors SET status = $1, updated_at = ancrage_now() WHERE id = $2")
                .bind(status.as_str())
                .bind(id.0)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Loads published actors. The driver's work (reading the socket, splitting rows) and the
    /// index's (decoding, escaping and folding names into its arenas) each take a large share
    /// of the time at a million actors, so they run side by side: the rows are streamed in batches
    /// of [`ACTOR_BATCH`] to one blocking thread, which decodes each row's texts where the
    /// driver received them (no string per field) while the next batch arrives.
    ///
    /// One connection: reading the two halves of the id range on two (as SQLite does) was no
    /// faster here (1 000 000 actors, server on the same two cores), and a pool of one or two
    /// connections would make the second reader wait for the first.
    async fn actor_rows(&self, catalog: &Catalog) -> Result<ActorRows> {
        // With the planner's estimate of the number of rows (-1 before the first ANALYZE),
        // to size the arenas once.
        let (first, last, estimate): (Option<i64>, Option<i64>, i64) = sqlx::query_as(
            "SELECT min(id), max(id), \
             (SELECT reltuples FROM pg_class WHERE oid = 'actors'::regclass)::bigint FROM actors",
        )
        .fetch_one(&self.pool)
        .await?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(ActorRows::default());
        };
        let span = last.saturating_sub(first).saturating_add(1);
        let capacity = usize::try_from(estimate.clamp(0, span)).unwrap_or(0);
        // One parsing thread, as on SQLite (every thread that allocates keeps its own malloc
        // arena). Unbounded: it keeps up with the reader, so few batches wait.
        let (send, receive) = std::sync::mpsc::channel::<Vec<PgRow>>();
        let parser_catalog = catalog.clone();
        let parser = tokio::task::spawn_blocking(move || -> Result<ActorRows> {
            let mut out = ActorRows::with_capacity(capacity);
            for batch in receive {
                for row in &batch {
                    push_actor_row(row, &parser_catalog, &mut out)?;
                }
            }
            Ok(out)
        });
        let read = read_actor_rows(&self.pool, send).await;
        let out = parser
            .await
            .map_err(|e| StoreError::Corrupt(format!("actor parser: {e}")))??;
        read?;
        Ok(out)
    }

    async fn actor(&self, id: ActorId) -> Result<Option<ActorRecord>> {
        let row: Option<ActorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            // A constant column list: no input in this text.
            "SELECT {ACTOR_COLUMNS} FROM actors WHERE id = $1"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ActorRecord::try_from).transpose()
    }

    async fn actor_records(&self, ids: &[ActorId]) -> Result<Vec<ActorRecord>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        // One array parameter, whatever the number of ids.
        let rows: Vec<ActorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            // A constant column list: no input in this text.
            "SELECT {ACTOR_COLUMNS} FROM actors WHERE id = ANY($1) ORDER BY id"
        )))
        .bind(ids)
        .fetch_all(&self.pool)
        .await?;
        records(rows)
    }

    async fn published_ids(&self, include_demo: bool) -> Result<Vec<ActorId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM actors WHERE status = 'published' AND ($1 OR NOT demo) ORDER BY id",
        )
        .bind(include_demo)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(ActorId).collect())
    }

    async fn actor_sources(&self, id: ActorId) -> Result<Vec<(String, String)>> {
        // Byte order, as SQLite's BINARY collation sorts, whatever the database's locale.
        Ok(sqlx::query_as(
            "SELECT source, source_ref FROM actor_sources WHERE actor_id = $1 \
             ORDER BY source COLLATE \"C\", source_ref COLLATE \"C\"",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn actor_by_source(&self, source: &str, source_ref: &str) -> Result<Option<ActorId>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT actor_id FROM actor_sources WHERE source = $1 AND source_ref = $2",
        )
        .bind(source)
        .bind(source_ref)
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(ActorId))
    }

    async fn revision(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM store_revision WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn begin_import(&self) -> Result<PgImport> {
        PgImport::begin(
            &self.connect,
            self.pool.clone(),
            self.options.connect_timeout,
        )
        .await
    }

    async fn import_count(&self) -> Result<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM import_runs")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn create_token(&self, name: &str, token_hash: &str) -> Result<bool> {
        admin::create_token(&self.pool, name, token_hash).await
    }

    async fn tokens(&self) -> Result<Vec<super::admin::TokenInfo>> {
        admin::tokens(&self.pool).await
    }

    async fn token_hash_known(&self, token_hash: &str) -> Result<bool> {
        admin::token_hash_known(&self.pool, token_hash).await
    }

    async fn revoke_token(&self, name: &str) -> Result<bool> {
        admin::revoke_token(&self.pool, name).await
    }

    async fn token_owner(&self, token_hash: &str) -> Result<Option<String>> {
        admin::token_owner(&self.pool, token_hash).await
    }

    async fn write_actor(
        &self,
        write: super::admin::ActorWrite<'_>,
        audit: super::admin::Audit<'_>,
    ) -> Result<super::admin::WriteOutcome> {
        admin::write_actor(&self.pool, write, audit).await
    }

    async fn history(&self, id: ActorId) -> Result<Vec<super::admin::HistoryEntry>> {
        admin::history(&self.pool, id).await
    }

    async fn admin_actors(
        &self,
        status: Option<Status>,
        q: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<super::admin::ActorPage> {
        admin::admin_actors(&self.pool, status, q, limit, offset).await
    }

    async fn add_contribution(&self, c: super::admin::NewContribution<'_>) -> Result<i64> {
        admin::add_contribution(&self.pool, c).await
    }

    async fn contributions(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<super::admin::Contribution>> {
        admin::contributions(&self.pool, status, limit, offset).await
    }

    async fn contribution(&self, id: i64) -> Result<Option<super::admin::Contribution>> {
        admin::contribution(&self.pool, id).await
    }

    async fn reject_contribution(&self, id: i64, by: &str, reason: &str) -> Result<bool> {
        admin::reject_contribution(&self.pool, id, by, reason).await
    }

    async fn take_rate(&self, key: &str, per_hour: u32) -> Result<RateDecision> {
        admin::take_rate(&self.pool, key, per_hour, now_ms()).await
    }

    async fn count_rows(&self, table: crate::store::copy::CopyTable) -> Result<u64> {
        restore::count_rows(&self.pool, table).await
    }

    async fn dump(
        &self,
        table: crate::store::copy::CopyTable,
        out: tokio::sync::mpsc::Sender<Vec<String>>,
    ) -> Result<()> {
        restore::dump(&self.pool, table, out).await
    }

    async fn begin_restore(&self) -> Result<PgRestore> {
        PgRestore::begin(&self.pool).await
    }

    fn listen(&self, feed: Arc<ChangeFeed>) {
        listen::spawn(
            self.pool.clone(),
            (*self.connect).clone(),
            self.options.connect_timeout,
            feed,
        );
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// Streams the published actors to the parser, in batches (and closes the channel).
async fn read_actor_rows(pool: &PgPool, send: std::sync::mpsc::Sender<Vec<PgRow>>) -> Result<()> {
    let mut rows = sqlx::query(ACTOR_ROWS_QUERY).fetch(pool);
    let mut batch = Vec::with_capacity(ACTOR_BATCH);
    while let Some(row) = rows.try_next().await? {
        batch.push(row);
        if batch.len() == ACTOR_BATCH
            && send
                .send(std::mem::replace(
                    &mut batch,
                    Vec::with_capacity(ACTOR_BATCH),
                ))
                .is_err()
        {
            return Ok(()); // The parser stopped on an error, reported by the caller.
        }
    }
    if !batch.is_empty() {
        // An error here means the parser stopped: the caller reports why.
        let _ = send.send(batch);
    }
    Ok(())
}

/// Decodes one row of [`ACTOR_ROWS_QUERY`] (texts borrowed from the row) into `out`.
fn push_actor_row(row: &PgRow, catalog: &Catalog, out: &mut ActorRows) -> Result<()> {
    let id: i64 = row.try_get(0)?;
    let name: &str = row.try_get(1)?;
    let slugs: &str = row.try_get(2)?;
    let family: &str = row.try_get(3)?;
    let commune: &str = row.try_get(7)?;
    let precision: &str = row.try_get(10)?;
    let hours: Option<&str> = row.try_get(12)?;
    let mut categories = CategorySet::EMPTY;
    for slug in slugs.split_whitespace() {
        let pos = catalog
            .position(slug)
            .ok_or_else(|| StoreError::Corrupt(format!("actor {id}: unknown category '{slug}'")))?;
        categories.0 |= 1 << pos;
    }
    let facts = ActorFacts {
        id: ActorId(id),
        categories,
        family: corrupt(Family::parse("family", family))?,
        kinds: kinds_from(row.try_get(4)?, row.try_get(5)?, row.try_get(6)?),
        commune: CommuneCode::new(commune).ok_or_else(|| {
            StoreError::Corrupt(format!("actor {id}: bad commune code '{commune}'"))
        })?,
        location: corrupt(LonLat::from_e7(row.try_get(8)?, row.try_get(9)?))?,
        precision: corrupt(GeocodePrecision::parse("precision", precision))?,
        demo: row.try_get(11)?,
    };
    out.push_with_hours(facts, name, hours);
    out.note_change(row.try_get(13)?);
    Ok(())
}

/// Writes the content columns of an actor, in [`ContentValues`] order.
fn copy_content(copy: &mut CopyBuffer, v: &ContentValues<'_>) {
    copy.text(Some(v.name));
    copy.text(v.description);
    copy.text(Some(&v.categories));
    copy.text(Some(v.family));
    copy.bool(v.tiers_lieu);
    copy.bool(v.ptce);
    copy.bool(v.reseau);
    copy.text(v.siret);
    copy.text(v.street);
    copy.text(v.postcode);
    copy.text(Some(v.commune));
    copy.float(Some(v.lon));
    copy.float(Some(v.lat));
    copy.int(v.lon_e7);
    copy.int(v.lat_e7);
    copy.text(Some(v.precision));
    copy.text(v.website);
    copy.text(v.email);
    copy.text(v.phone);
    copy.text(v.opening_hours);
    copy.text(v.accessibility);
}
