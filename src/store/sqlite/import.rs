//! SQLite imports that never hold the write lock while they read: records are staged in a
//! database file of their own beside the store (no lock on the store at all), then merged in
//! one short transaction of set-based statements.
//!
//! SQLite has one writer at a time, so the lock is held for the merge's writes alone: the
//! records are classified against the store before, in a read transaction, and checked at
//! once under the lock (classified again only if the store changed meanwhile). Other writers
//! wait meanwhile (up to the statement timeout) instead of failing. Killed before or during the merge, the store is untouched: the merge is one
//! transaction and the staging file is only ever read by it.

use super::StoreError;
use crate::store::rows::{ContentValues, merged_categories};
use crate::store::{ImportRun, ImportSession, MergeCounts, Result, UpsertRecord};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use std::path::{Path, PathBuf};

/// Records written to the staging file per statement (31 values each, under SQLite's limit of
/// 32 766 bound values).
const STAGE_BATCH: usize = 500;

/// Columns of a staged record after `seq`, in binding order.
const STAGED_COLUMNS: &str = "source, source_ref, hash, status, location_flag, name, description, categories, family, \
     is_tiers_lieu, is_ptce, is_reseau, siret, street, postcode, commune_code, lon, lat, lon_e7, lat_e7, precision, \
     website, email, phone, opening_hours, accessibility, demo";

/// The columns of `actors` filled from a staged record, in the order of [`STAGED_ACTOR_SOURCE`].
const ACTOR_INSERT_COLUMNS: &str = "id, name, description, categories, family, is_tiers_lieu, is_ptce, is_reseau, siret, \
     street, postcode, commune_code, lon, lat, lon_e7, lat_e7, precision, website, email, phone, opening_hours, \
     accessibility, source, source_ref, demo, status, location_flag, created_at, updated_at";

/// The values of [`ACTOR_INSERT_COLUMNS`] taken from a created record `st` (`?1`: the store's
/// largest id before the merge; `st.target`: the record's rank among the new actors; `?2`: the
/// merge's time, read once rather than by a column default on every row).
const STAGED_ACTOR_SOURCE: &str = "?1 + st.target, st.name, st.description, st.categories, st.family, st.is_tiers_lieu, \
     st.is_ptce, st.is_reseau, st.siret, st.street, st.postcode, st.commune_code, st.lon, st.lat, st.lon_e7, st.lat_e7, \
     st.precision, st.website, st.email, st.phone, st.opening_hours, st.accessibility, st.source, st.source_ref, \
     st.demo, st.status, st.location_flag, ?2, ?2";

/// One staged record in memory, waiting for its batch.
struct Pending {
    source: String,
    source_ref: String,
    hash: String,
    status: &'static str,
    location_flag: Option<&'static str>,
    name: String,
    description: Option<String>,
    categories: String,
    family: &'static str,
    kinds: [bool; 3],
    siret: Option<String>,
    street: Option<String>,
    postcode: Option<String>,
    commune: String,
    position: (f64, f64, i64, i64),
    precision: &'static str,
    website: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    opening_hours: Option<String>,
    accessibility: Option<String>,
    demo: bool,
}

/// An import in progress on SQLite: a staging file and the store's pool for the merge.
pub struct SqliteImport {
    pool: SqlitePool,
    staging: Option<SqliteConnection>,
    path: PathBuf,
    pending: Vec<Pending>,
    started_at: String,
}

impl Drop for SqliteImport {
    fn drop(&mut self) {
        // The staging connection closes with the value; the file is never part of the store.
        self.staging.take();
        remove_staging(&self.path);
    }
}

fn remove_staging(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

impl SqliteImport {
    /// Creates the staging file `path` (removed again when the import ends, however it ends).
    pub(super) async fn begin(pool: SqlitePool, path: PathBuf, started_at: String) -> Result<Self> {
        remove_staging(&path);
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Off)
            .synchronous(SqliteSynchronous::Off);
        let mut staging = SqliteConnection::connect_with(&options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("staging file {}: {e}", path.display()))
            })?;
        sqlx::query(
            "CREATE TABLE staged (seq INTEGER PRIMARY KEY, source TEXT NOT NULL, source_ref TEXT NOT NULL, \
             hash TEXT NOT NULL, status TEXT NOT NULL, location_flag TEXT, name TEXT NOT NULL, description TEXT, \
             categories TEXT NOT NULL, family TEXT NOT NULL, is_tiers_lieu INTEGER NOT NULL, is_ptce INTEGER NOT NULL, \
             is_reseau INTEGER NOT NULL, siret TEXT, street TEXT, postcode TEXT, commune_code TEXT NOT NULL, \
             lon REAL NOT NULL, lat REAL NOT NULL, lon_e7 INTEGER NOT NULL, lat_e7 INTEGER NOT NULL, \
             precision TEXT NOT NULL, website TEXT, email TEXT, phone TEXT, opening_hours TEXT, accessibility TEXT, \
             demo INTEGER NOT NULL, action TEXT, target INTEGER, known_hash TEXT, owns INTEGER)",
        )
        .execute(&mut staging)
        .await?;
        Ok(Self {
            pool,
            staging: Some(staging),
            path,
            pending: Vec::with_capacity(STAGE_BATCH),
            started_at,
        })
    }

    fn staging(&mut self) -> Result<&mut SqliteConnection> {
        self.staging
            .as_mut()
            .ok_or_else(|| StoreError::Corrupt("the staging file is closed".into()))
    }

    async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.pending, Vec::with_capacity(STAGE_BATCH));
        let mut q: QueryBuilder<Sqlite> =
            QueryBuilder::new(format!("INSERT INTO staged ({STAGED_COLUMNS}) "));
        q.push_values(batch.iter(), |mut b, p| {
            b.push_bind(p.source.as_str())
                .push_bind(p.source_ref.as_str())
                .push_bind(p.hash.as_str())
                .push_bind(p.status)
                .push_bind(p.location_flag)
                .push_bind(p.name.as_str())
                .push_bind(p.description.as_deref())
                .push_bind(p.categories.as_str())
                .push_bind(p.family)
                .push_bind(p.kinds[0])
                .push_bind(p.kinds[1])
                .push_bind(p.kinds[2])
                .push_bind(p.siret.as_deref())
                .push_bind(p.street.as_deref())
                .push_bind(p.postcode.as_deref())
                .push_bind(p.commune.as_str())
                .push_bind(p.position.0)
                .push_bind(p.position.1)
                .push_bind(p.position.2)
                .push_bind(p.position.3)
                .push_bind(p.precision)
                .push_bind(p.website.as_deref())
                .push_bind(p.email.as_deref())
                .push_bind(p.phone.as_deref())
                .push_bind(p.opening_hours.as_deref())
                .push_bind(p.accessibility.as_deref())
                .push_bind(p.demo);
        });
        q.build().execute(self.staging()?).await?;
        Ok(())
    }
}

impl ImportSession for SqliteImport {
    async fn stage(&mut self, r: UpsertRecord<'_>) -> Result<()> {
        let a = r.fields;
        let source_ref = a.source_ref.clone().ok_or_else(|| {
            StoreError::Corrupt("an imported record needs a source reference".into())
        })?;
        let v = ContentValues::of(a);
        self.pending.push(Pending {
            source: a.source.clone(),
            source_ref,
            hash: r.hash.to_owned(),
            status: r.status.as_str(),
            location_flag: r.location_flag,
            name: a.name.clone(),
            description: a.description.clone(),
            categories: v.categories,
            family: a.family.as_str(),
            kinds: [v.tiers_lieu, v.ptce, v.reseau],
            siret: v.siret.map(str::to_owned),
            street: a.street.clone(),
            postcode: a.postcode.clone(),
            commune: v.commune.to_owned(),
            position: (v.lon, v.lat, v.lon_e7, v.lat_e7),
            precision: a.precision.as_str(),
            website: a.website.clone(),
            email: a.email.clone(),
            phone: a.phone.clone(),
            opening_hours: a.opening_hours.clone(),
            accessibility: a.accessibility.clone(),
            demo: a.demo,
        });
        if self.pending.len() >= STAGE_BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    async fn commit(mut self, run: ImportRun<'_>, dry_run: bool) -> Result<MergeCounts> {
        self.flush().await?;
        // Prepared outside the lock: the indexes of the merge's look-ups, and the records
        // superseded by a later one with the same reference (the last one wins).
        let staging = self.staging()?;
        for statement in [
            "CREATE INDEX staged_ref ON staged (source_ref, seq)",
            "CREATE INDEX staged_siret ON staged (siret) WHERE siret IS NOT NULL",
            "UPDATE staged SET action = 'superseded' WHERE seq < \
             (SELECT max(l.seq) FROM staged l WHERE l.source_ref = staged.source_ref)",
        ] {
            sqlx::query(statement).execute(&mut *staging).await?;
        }
        if let Some(staging) = self.staging.take() {
            staging.close().await?;
        }
        let mut conn = self.pool.acquire().await?;
        let merged = merge(&mut conn, &self.path, run, &self.started_at, dry_run).await;
        if merged.is_err() {
            // Whatever state the connection is in (a transaction, an attached file), it is
            // closed rather than returned to the pool; closing rolls back.
            drop(conn.detach());
        }
        merged
    }
}

/// How each staged record meets the store, read from main (actors, their sources) and
/// written to the staging file only: run in a read transaction it takes no write lock, and
/// gives what one revision of the store says. The `target` of a record that makes a new actor
/// (`create`) or joins one (`merge-new`) is a rank, made an id under the lock by [`NEW_ID`].
const CLASSIFY: [&str; 9] = [
    // This source's own earlier record of the same reference.
    "UPDATE staging.staged AS st SET target = s.actor_id, known_hash = s.fields_hash, \
     owns = (a.source = st.source AND a.source_ref IS st.source_ref) \
     FROM main.actor_sources AS s JOIN main.actors AS a ON a.id = s.actor_id \
     WHERE st.action IS NULL AND s.source = st.source AND s.source_ref = st.source_ref",
    "UPDATE staging.staged SET action = CASE WHEN known_hash = hash THEN 'unchanged' \
     WHEN owns THEN 'update' ELSE 'fill' END WHERE action IS NULL AND target IS NOT NULL",
    // A new reference whose SIRET another actor already has: one actor, two sources.
    "UPDATE staging.staged AS st SET action = 'merge', target = (SELECT min(a.id) FROM main.actors AS a \
     WHERE a.siret = st.siret AND a.status <> 'archived') \
     WHERE st.action IS NULL AND st.siret IS NOT NULL AND EXISTS \
     (SELECT 1 FROM main.actors AS a WHERE a.siret = st.siret AND a.status <> 'archived')",
    "UPDATE staging.staged SET action = 'create' WHERE action IS NULL",
    // Two new references with one SIRET: the first creates the actor, the others merge in.
    "CREATE TEMP TABLE first_new (siret TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
    "INSERT INTO first_new SELECT siret, min(seq) FROM staging.staged \
     WHERE action = 'create' AND siret IS NOT NULL GROUP BY siret",
    "UPDATE staging.staged AS st SET action = 'merge-new' WHERE st.action = 'create' \
     AND st.siret IS NOT NULL AND st.seq > (SELECT f.seq FROM first_new AS f WHERE f.siret = st.siret)",
    // New actors are numbered in record order: their rank here, their id (the store's
    // largest id plus the rank) under the lock. Records that merge into a new actor take its
    // rank.
    "UPDATE staging.staged AS st SET target = r.n FROM (SELECT seq, row_number() OVER (ORDER BY seq) AS n \
     FROM staging.staged WHERE action = 'create') AS r WHERE st.seq = r.seq",
    "UPDATE staging.staged AS st SET target = (SELECT c.target FROM first_new AS f \
     JOIN staging.staged AS c ON c.seq = f.seq WHERE f.siret = st.siret) WHERE st.action = 'merge-new'",
];

/// Forgets a classification that no longer holds (the store changed since).
const UNCLASSIFY: [&str; 2] = [
    "UPDATE staging.staged SET action = NULL, target = NULL, known_hash = NULL, owns = NULL \
     WHERE action IS NOT 'superseded'",
    "DROP TABLE temp.first_new",
];

/// The actor a staged record `st` goes to, with `?1` bound to the store's largest id.
const NEW_ID: &str =
    "CASE WHEN st.action IN ('create', 'merge-new') THEN ?1 + st.target ELSE st.target END";

/// The per-row revision triggers a merge sets aside (see [`merge`]).
const ROW_TRIGGERS: &str = "SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' \
     AND tbl_name = 'actors' AND name IN ('actors_revision_insert', 'actors_revision_update') ORDER BY name";

async fn run_all(conn: &mut SqliteConnection, statements: &[&'static str]) -> Result<()> {
    for statement in statements {
        sqlx::query(*statement).execute(&mut *conn).await?;
    }
    Ok(())
}

/// What the classified records will do.
async fn merge_counts(conn: &mut SqliteConnection) -> Result<MergeCounts> {
    let by_action: Vec<(String, i64)> =
        sqlx::query_as("SELECT action, count(*) FROM staging.staged GROUP BY action")
            .fetch_all(&mut *conn)
            .await?;
    let mut counts = MergeCounts::default();
    for (action, n) in by_action {
        let n = u64::try_from(n).unwrap_or(0);
        match action.as_str() {
            "create" => counts.created += n,
            "unchanged" => counts.unchanged += n,
            _ => counts.updated += n,
        }
    }
    Ok(counts)
}

async fn store_revision(conn: &mut SqliteConnection) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT value FROM main.store_revision WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Runs the merge on `conn`: attach; classify the records in a read transaction (no lock
/// held: other writers go on); then lock, check that the store has not changed since (the
/// revision moves with every change to actors; if it moved, classify again, under the lock),
/// number the new actors, write, record, commit (or roll back for a dry run); detach.
///
/// Under the lock the per-row revision triggers are set aside (dropped, then created again
/// from their own text, inside the transaction: no other connection ever sees them missing,
/// and a rollback restores them) and the revision moves once: a million rows each bumping
/// the counter would hold the lock seconds longer.
async fn merge(
    conn: &mut SqliteConnection,
    path: &Path,
    run: ImportRun<'_>,
    started_at: &str,
    dry_run: bool,
) -> Result<MergeCounts> {
    sqlx::query("ATTACH DATABASE ? AS staging")
        .bind(path.to_string_lossy().as_ref())
        .execute(&mut *conn)
        .await?;
    sqlx::query("PRAGMA staging.journal_mode = OFF")
        .execute(&mut *conn)
        .await?;
    // Statement journals in memory rather than in temporary files; a bigger page cache (up
    // to 1 GiB, taken only as pages are touched, given back after the merge) keeps the pages
    // the merge writes from spilling to the log before the commit: at a million records,
    // inserting their sources took three times as long with 128 MiB.
    for pragma in ["PRAGMA temp_store = MEMORY", "PRAGMA cache_size = -1048576"] {
        sqlx::query(pragma).execute(&mut *conn).await?;
    }
    sqlx::query("BEGIN DEFERRED").execute(&mut *conn).await?;
    let classified_at = store_revision(conn).await?;
    run_all(conn, &CLASSIFY).await?;
    sqlx::query("COMMIT").execute(&mut *conn).await?;
    let mut counts = merge_counts(conn).await?;
    sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
    if store_revision(conn).await? != classified_at {
        run_all(conn, &UNCLASSIFY).await?;
        run_all(conn, &CLASSIFY).await?;
        counts = merge_counts(conn).await?;
    }
    let largest: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM main.actors")
        .fetch_one(&mut *conn)
        .await?;
    let now: String = sqlx::query_scalar("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')")
        .fetch_one(&mut *conn)
        .await?;
    let triggers: Vec<(String, String)> =
        sqlx::query_as(ROW_TRIGGERS).fetch_all(&mut *conn).await?;
    for (name, _) in &triggers {
        // A name read from the schema itself, quoted.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP TRIGGER main.\"{}\"",
            name.replace('"', "\"\"")
        )))
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query(sqlx::AssertSqlSafe(format!(
        // Constant column lists: no input in this text.
        "INSERT INTO main.actors ({ACTOR_INSERT_COLUMNS}) SELECT {STAGED_ACTOR_SOURCE} \
         FROM staging.staged AS st WHERE st.action = 'create' ORDER BY st.seq"
    )))
    .bind(largest)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    if counts.updated > 0 {
        // Records that change existing actors (none in a first import: both scans skipped).
        apply_changes(conn, largest, &now).await?;
    }
    for (_, sql) in &triggers {
        // The schema's own text of the trigger, as it was before the merge.
        sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&mut *conn)
            .await?;
    }
    // Once for the whole merge, if it changed any actor (what the triggers would have done
    // row by row).
    sqlx::query(
        "UPDATE main.store_revision SET value = value + 1 WHERE id = 1 AND EXISTS \
         (SELECT 1 FROM staging.staged WHERE action NOT IN ('unchanged', 'superseded'))",
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        // A constant expression: no input in this text.
        "INSERT INTO main.actor_sources (source, source_ref, actor_id, fields_hash, first_seen, last_seen) \
         SELECT source, source_ref, {NEW_ID}, hash, ?2, ?2 FROM staging.staged AS st \
         WHERE action IN ('create', 'update', 'fill', 'merge', 'merge-new') ORDER BY seq \
         ON CONFLICT (source, source_ref) DO UPDATE SET actor_id = excluded.actor_id, \
         fields_hash = excluded.fields_hash, last_seen = excluded.last_seen"
    )))
    .bind(largest)
    .bind(&now)
    .execute(&mut *conn)
    .await?;
    let total = counts.of_run(run);
    sqlx::query(
        "INSERT INTO main.import_runs (source, format, input, started_at, read, created, updated, unchanged, rejected) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(run.source)
    .bind(run.format)
    .bind(run.input)
    .bind(started_at)
    .bind(i64::try_from(total.read).unwrap_or(i64::MAX))
    .bind(i64::try_from(total.created).unwrap_or(i64::MAX))
    .bind(i64::try_from(total.updated).unwrap_or(i64::MAX))
    .bind(i64::try_from(total.unchanged).unwrap_or(i64::MAX))
    .bind(i64::try_from(total.rejected).unwrap_or(i64::MAX))
    .execute(&mut *conn)
    .await?;
    let end = if dry_run { "ROLLBACK" } else { "COMMIT" };
    sqlx::query(end).execute(&mut *conn).await?;
    for statement in [
        "DROP TABLE IF EXISTS temp.first_new",
        "DETACH DATABASE staging",
        // SQLite's default: the pages cached for the merge are freed.
        "PRAGMA cache_size = -2000",
    ] {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(counts)
}

/// Writes the records that change existing actors: updates by their own source, then gaps
/// filled from other sources (category lists merged: few records, one by one, in record
/// order).
async fn apply_changes(conn: &mut SqliteConnection, largest: i64, now: &str) -> Result<()> {
    sqlx::query(
        "UPDATE main.actors AS a SET name = st.name, description = st.description, categories = st.categories, \
         family = st.family, is_tiers_lieu = st.is_tiers_lieu, is_ptce = st.is_ptce, is_reseau = st.is_reseau, \
         siret = st.siret, street = st.street, postcode = st.postcode, commune_code = st.commune_code, lon = st.lon, \
         lat = st.lat, lon_e7 = st.lon_e7, lat_e7 = st.lat_e7, precision = st.precision, website = st.website, \
         email = st.email, phone = st.phone, opening_hours = st.opening_hours, accessibility = st.accessibility, \
         status = st.status, location_flag = st.location_flag, updated_at = ?1 \
         FROM staging.staged AS st WHERE st.action = 'update' AND a.id = st.target",
    )
    .bind(now)
    .execute(&mut *conn)
    .await?;
    let gaps: Vec<GapRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        // A constant expression: no input in this text.
        "SELECT {NEW_ID} AS target, categories, description, siret, street, postcode, website, email, phone, \
         opening_hours, accessibility, lon, lat, lon_e7, lat_e7, precision FROM staging.staged AS st \
         WHERE action IN ('fill', 'merge', 'merge-new') ORDER BY seq"
    )))
    .bind(largest)
    .fetch_all(&mut *conn)
    .await?;
    for g in &gaps {
        fill_gaps(&mut *conn, g).await?;
    }
    Ok(())
}

/// What filling gaps needs of a staged record.
#[derive(sqlx::FromRow)]
struct GapRow {
    target: i64,
    categories: String,
    description: Option<String>,
    siret: Option<String>,
    street: Option<String>,
    postcode: Option<String>,
    website: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    opening_hours: Option<String>,
    accessibility: Option<String>,
    lon: f64,
    lat: f64,
    lon_e7: i64,
    lat_e7: i64,
    precision: String,
}

/// Completes an actor with what another source knows: missing values, extra categories, and
/// a better location when the actor's is only its commune's.
async fn fill_gaps(conn: &mut SqliteConnection, g: &GapRow) -> Result<()> {
    let current: Option<String> =
        sqlx::query_scalar("SELECT categories FROM main.actors WHERE id = ?")
            .bind(g.target)
            .fetch_optional(&mut *conn)
            .await?;
    let more: Vec<String> = g.categories.split_whitespace().map(str::to_owned).collect();
    let better = g.precision != "commune";
    sqlx::query(
        "UPDATE main.actors SET categories = ?1, description = coalesce(description, ?2), siret = coalesce(siret, ?3), \
         street = coalesce(street, ?4), postcode = coalesce(postcode, ?5), website = coalesce(website, ?6), \
         email = coalesce(email, ?7), phone = coalesce(phone, ?8), opening_hours = coalesce(opening_hours, ?9), \
         accessibility = coalesce(accessibility, ?10), \
         lon = CASE WHEN precision = 'commune' AND ?11 THEN ?12 ELSE lon END, \
         lat = CASE WHEN precision = 'commune' AND ?11 THEN ?13 ELSE lat END, \
         lon_e7 = CASE WHEN precision = 'commune' AND ?11 THEN ?14 ELSE lon_e7 END, \
         lat_e7 = CASE WHEN precision = 'commune' AND ?11 THEN ?15 ELSE lat_e7 END, \
         precision = CASE WHEN precision = 'commune' AND ?11 THEN ?16 ELSE precision END, \
         updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?17",
    )
    .bind(merged_categories(current.as_deref().unwrap_or(""), &more))
    .bind(&g.description)
    .bind(&g.siret)
    .bind(&g.street)
    .bind(&g.postcode)
    .bind(&g.website)
    .bind(&g.email)
    .bind(&g.phone)
    .bind(&g.opening_hours)
    .bind(&g.accessibility)
    .bind(better)
    .bind(g.lon)
    .bind(g.lat)
    .bind(g.lon_e7)
    .bind(g.lat_e7)
    .bind(&g.precision)
    .bind(g.target)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
