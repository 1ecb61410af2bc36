//! Imports that hold no lock while records arrive: they are staged by `COPY` into a temporary
//! table of the import's own session (private, not written to the WAL, gone with the
//! session), then merged into the store by one transaction of set-based statements, the same
//! rules as SQLite's merge (`sqlite/import.rs`) in the same order. (One difference: a record
//! supersedes an earlier one of the same source and reference, where SQLite compares the
//! reference alone; an import has one source, so both agree.)
//!
//! Staging is one `COPY` for the whole import, fed by a task of its own that holds the
//! connection: the records parsed are sent by the few thousand while the next ones are parsed,
//! so the server's work overlaps the parsing (a `COPY` per batch, waited for, cost about 3 s
//! more at a million records). It takes no lock on the store: no other writer ever waits for
//! a running import. The merge holds the row locks of the actors it
//! writes from its first statement to its commit (seconds for a million records), and moves the
//! revision once, at commit. Dropped before its commit (an error, Ctrl-C, a crash), an import
//! closes its connection: the server drops the staging table and rolls back whatever was
//! under way.
//!
//! An import has a connection of its own, outside the pool, with room to keep a million staged
//! records in memory. The temporary tables are planned from statistics taken once they are
//! filled (`ANALYZE`; autovacuum never looks at temporary tables), and the merge runs without
//! statement timeout (a large import is a deliberate, long statement), and without JIT
//! compilation (it cost about a second per statement at a million records and saved nothing).
//! The new actors' ids are reserved in one step before they are written
//! (`ancrage_reserve_actor_ids`, in a transaction of its own: one `nextval` per actor cost
//! seconds). Figures: `scripts/store-bench.sh` (the README's table).

use super::close_in_background;
use super::copy::CopyBuffer;
use crate::store::rows::{ContentValues, now_utc};
use crate::store::{ImportRun, ImportSession, MergeCounts, Result, StoreError, UpsertRecord};
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};
use std::time::Duration;

/// Bytes of staged rows sent to the server at once (some 10 000 records).
const STAGE_FLUSH: usize = 4 << 20;

/// Batches of staged rows waiting for the staging task: parsing stays at most this far ahead
/// of the server.
const STAGE_QUEUE: usize = 2;

/// Settings of an import's session: room to keep the staging table in memory (it can only be
/// set before the session's first temporary table, hence a connection of its own), and to
/// sort and hash a million records without spilling to disk.
/// No JIT compilation: the merge's statements are large but simple, and compiling them cost more
/// (about a second each at a million records) than it saved.
const IMPORT_SESSION: [(&str, &str); 3] = [
    ("temp_buffers", "256MB"),
    ("work_mem", "128MB"),
    ("jit", "off"),
];

/// The staging table, gone with the import's session.
const CREATE_STAGED: &str = "CREATE TEMPORARY TABLE staged (seq BIGINT PRIMARY KEY, source TEXT NOT NULL, source_ref TEXT NOT NULL, \
     hash TEXT NOT NULL, status TEXT NOT NULL, location_flag TEXT, name TEXT NOT NULL, description TEXT, \
     categories TEXT NOT NULL, family TEXT NOT NULL, is_tiers_lieu BOOLEAN NOT NULL, is_ptce BOOLEAN NOT NULL, \
     is_reseau BOOLEAN NOT NULL, siret TEXT, street TEXT, postcode TEXT, commune_code TEXT NOT NULL, \
     lon DOUBLE PRECISION NOT NULL, lat DOUBLE PRECISION NOT NULL, lon_e7 BIGINT NOT NULL, lat_e7 BIGINT NOT NULL, \
     precision TEXT NOT NULL, website TEXT, email TEXT, phone TEXT, opening_hours TEXT, accessibility TEXT, \
     demo BOOLEAN NOT NULL); \
     CREATE TEMPORARY TABLE ref_candidates (source_ref TEXT NOT NULL); \
     CREATE TEMPORARY TABLE siret_candidates (siret TEXT NOT NULL)";

/// The staged columns, in the order [`PgImport::stage`] writes them.
const COPY_STAGED: &str = "COPY pg_temp.staged (seq, source, source_ref, hash, status, location_flag, name, \
     description, categories, family, is_tiers_lieu, is_ptce, is_reseau, siret, street, postcode, commune_code, lon, \
     lat, lon_e7, lat_e7, precision, website, email, phone, opening_hours, accessibility, demo) FROM STDIN";

/// The plan of the merge, `merge_plan`, made in one pass over the staged records (one simple
/// query of constant text): per record, what it does (`action`) to which actor (`target`).
/// SQLite's classification, step by step, as successive `WITH` queries. Two cases that are
/// rare in practice are completed afterwards, and only when they occur: the target of a
/// record that merges into an actor created by the same import ([`TARGET_MERGED_NEW`]), and
/// the turn of records that fill gaps ([`NUMBER_FILL_ROUNDS`]).
///
/// Made to cost few passes over a million records: the groups (references given twice, SIRETs
/// shared by records) are looked for only among the candidates the client noted while staging
/// (`ref_candidates`, `siret_candidates`: values it saw twice, by hash, so a superset; usually
/// none), which spared two hash aggregates of every record (about a second at a million), and
/// the new actors are numbered in the one sort, by record order, that the plan is written in
/// (sorting by reference and by SIRET instead, for window functions, cost about two seconds
/// more at a million records).
const PLAN: &str = "SET LOCAL statement_timeout = 0; \
     ANALYZE pg_temp.staged; ANALYZE pg_temp.ref_candidates; ANALYZE pg_temp.siret_candidates; \
     CREATE TEMPORARY TABLE merge_plan AS \
     WITH repeated AS MATERIALIZED ( \
         -- The same reference twice: the last record wins, the others are superseded. \n\
         SELECT source, source_ref, max(seq) AS last FROM pg_temp.staged \
         WHERE source_ref IN (SELECT source_ref FROM pg_temp.ref_candidates) \
         GROUP BY source, source_ref HAVING count(*) > 1), \
     known AS MATERIALIZED ( \
         -- This source's own earlier record of the reference, if any, and its actor. \n\
         SELECT st.seq, st.siret, st.hash, coalesce(st.seq < r.last, false) AS superseded, \
             s.actor_id, s.fields_hash, \
             (a.source = st.source AND a.source_ref IS NOT DISTINCT FROM st.source_ref) AS owns \
         FROM pg_temp.staged st \
         LEFT JOIN repeated r ON r.source = st.source AND r.source_ref = st.source_ref \
         LEFT JOIN actor_sources s ON s.source = st.source AND s.source_ref = st.source_ref \
         LEFT JOIN actors a ON a.id = s.actor_id), \
     classified AS MATERIALIZED ( \
         -- A new reference whose SIRET a non-archived actor has: one actor, two sources. \n\
         SELECT k.seq, k.siret, k.actor_id, m.id AS siret_actor, \
             CASE WHEN k.superseded THEN 'superseded' \
                 WHEN k.actor_id IS NOT NULL THEN CASE WHEN k.fields_hash = k.hash THEN 'unchanged' \
                     WHEN k.owns THEN 'update' ELSE 'fill' END \
                 WHEN m.id IS NOT NULL THEN 'merge' \
                 ELSE 'create' END AS action \
         FROM known k \
         LEFT JOIN (SELECT a.siret, min(a.id) AS id FROM actors a \
             WHERE a.status <> 'archived' AND a.siret IN \
                 (SELECT siret FROM known WHERE NOT superseded AND actor_id IS NULL) \
             GROUP BY a.siret) m \
             ON NOT k.superseded AND k.actor_id IS NULL AND m.siret = k.siret), \
     firsts AS MATERIALIZED ( \
         -- Two new references with one SIRET: the first creates the actor, the others merge in. \n\
         SELECT siret, min(seq) AS first FROM classified \
         WHERE action = 'create' AND siret IN (SELECT siret FROM pg_temp.siret_candidates) \
         GROUP BY siret HAVING count(*) > 1), \
     decided AS ( \
         SELECT c.seq, c.actor_id, c.siret_actor, f.first AS first_create, \
             CASE WHEN c.action = 'create' AND c.seq > f.first THEN 'merge-new' ELSE c.action END AS action \
         FROM classified c LEFT JOIN firsts f ON c.action = 'create' AND f.siret = c.siret) \
     -- The new actors, numbered -1, -2, … in record order: their ids are reserved once the \n\
     -- plan is made, the -k-th new actor takes the k-th (see `new_target!`). A record that \n\
     -- merges into a new actor gets that actor's number next (`TARGET_MERGED_NEW`). \n\
     SELECT d.seq, d.action, CASE d.action \
             WHEN 'create' THEN -count(*) FILTER (WHERE d.action = 'create') \
                 OVER (ORDER BY d.seq ROWS UNBOUNDED PRECEDING) \
             WHEN 'merge' THEN d.siret_actor WHEN 'merge-new' THEN NULL ELSE d.actor_id END AS target, \
         d.first_create, NULL::BIGINT AS fill_round \
     FROM decided d; \
     ANALYZE pg_temp.merge_plan";

/// Records that merge into an actor the import creates write to that actor: the one the
/// first record of their SIRET creates.
const TARGET_MERGED_NEW: &str = "UPDATE pg_temp.merge_plan p SET target = f.target \
     FROM pg_temp.merge_plan f WHERE p.action = 'merge-new' AND f.seq = p.first_create";

/// Records that fill the same actor apply one after another, in record order: their turn.
const NUMBER_FILL_ROUNDS: &str = "UPDATE pg_temp.merge_plan p SET fill_round = r.round \
     FROM (SELECT seq, row_number() OVER (PARTITION BY target ORDER BY seq) AS round \
         FROM pg_temp.merge_plan WHERE action IN ('fill', 'merge', 'merge-new')) r \
     WHERE r.seq = p.seq";

/// The actor a plan's row writes to, `p.target` resolved: a new actor's number -k (see
/// `PLAN`) becomes its reserved id, `$1 - k` ($1: the first reserved id less one).
macro_rules! new_target {
    () => {
        "CASE WHEN p.target < 0 THEN $1 - p.target ELSE p.target END"
    };
}

/// New actors, with their reserved ids, in record order ($1: the first reserved id less one).
const INSERT_NEW: &str = concat!(
    "INSERT INTO actors (id, name, description, categories, family, is_tiers_lieu, is_ptce, \
         is_reseau, siret, street, postcode, commune_code, lon, lat, lon_e7, lat_e7, precision, website, email, phone, \
         opening_hours, accessibility, source, source_ref, demo, status, location_flag) \
     SELECT ",
    new_target!(),
    ", st.name, st.description, st.categories, st.family, st.is_tiers_lieu, st.is_ptce, \
         st.is_reseau, st.siret, st.street, st.postcode, st.commune_code, st.lon, st.lat, st.lon_e7, st.lat_e7, \
         st.precision, st.website, st.email, st.phone, st.opening_hours, st.accessibility, st.source, st.source_ref, \
         st.demo, st.status, st.location_flag \
     FROM pg_temp.merge_plan p JOIN pg_temp.staged st ON st.seq = p.seq WHERE p.action = 'create' ORDER BY p.seq"
);

/// The changed records of their own source replace every value of their actors.
const UPDATE_OWN: &str = "UPDATE actors a SET name = st.name, description = st.description, categories = st.categories, \
         family = st.family, is_tiers_lieu = st.is_tiers_lieu, is_ptce = st.is_ptce, is_reseau = st.is_reseau, \
         siret = st.siret, street = st.street, postcode = st.postcode, commune_code = st.commune_code, \
         lon = st.lon, lat = st.lat, lon_e7 = st.lon_e7, lat_e7 = st.lat_e7, precision = st.precision, \
         website = st.website, email = st.email, phone = st.phone, opening_hours = st.opening_hours, \
         accessibility = st.accessibility, status = st.status, location_flag = st.location_flag, \
         updated_at = ancrage_now() \
     FROM pg_temp.merge_plan p JOIN pg_temp.staged st ON st.seq = p.seq \
     WHERE p.action = 'update' AND a.id = p.target";

/// One round of filling gaps ($2: the round; $1 as in [`INSERT_NEW`]): missing values, extra categories, and a better
/// location when the actor's is only its commune's.
const FILL_ROUND: &str = concat!(
    "UPDATE actors a SET categories = ancrage_merge_categories(a.categories, st.categories), \
     description = coalesce(a.description, st.description), siret = coalesce(a.siret, st.siret), \
     street = coalesce(a.street, st.street), postcode = coalesce(a.postcode, st.postcode), \
     website = coalesce(a.website, st.website), email = coalesce(a.email, st.email), \
     phone = coalesce(a.phone, st.phone), opening_hours = coalesce(a.opening_hours, st.opening_hours), \
     accessibility = coalesce(a.accessibility, st.accessibility), \
     lon = CASE WHEN a.precision = 'commune' AND st.precision <> 'commune' THEN st.lon ELSE a.lon END, \
     lat = CASE WHEN a.precision = 'commune' AND st.precision <> 'commune' THEN st.lat ELSE a.lat END, \
     lon_e7 = CASE WHEN a.precision = 'commune' AND st.precision <> 'commune' THEN st.lon_e7 ELSE a.lon_e7 END, \
     lat_e7 = CASE WHEN a.precision = 'commune' AND st.precision <> 'commune' THEN st.lat_e7 ELSE a.lat_e7 END, \
     precision = CASE WHEN a.precision = 'commune' AND st.precision <> 'commune' THEN st.precision \
         ELSE a.precision END, \
     updated_at = ancrage_now() \
     FROM pg_temp.merge_plan p JOIN pg_temp.staged st ON st.seq = p.seq \
     WHERE p.fill_round = $2 AND a.id = ",
    new_target!()
);

/// The known records that wrote stay their source's records of their actors (their targets
/// are existing actors).
const UPDATE_SOURCES: &str = "UPDATE actor_sources s SET actor_id = p.target, fields_hash = st.hash, \
         last_seen = ancrage_now() \
     FROM pg_temp.merge_plan p JOIN pg_temp.staged st ON st.seq = p.seq \
     WHERE p.action IN ('update', 'fill') AND s.source = st.source AND s.source_ref = st.source_ref";

/// The new records become their source's records of their actors ($1 as in [`INSERT_NEW`]).
/// None of them has a row yet (that is what makes them new), so a plain insert. Unsorted: the
/// order only places rows, and the join already yields the plan's order, which sorting again
/// cost a third of a second per 450 000 records.
const INSERT_SOURCES: &str = concat!(
    "INSERT INTO actor_sources (source, source_ref, actor_id, fields_hash) \
     SELECT st.source, st.source_ref, ",
    new_target!(),
    ", st.hash \
     FROM pg_temp.merge_plan p JOIN pg_temp.staged st ON st.seq = p.seq \
     WHERE p.action IN ('create', 'merge', 'merge-new')"
);

/// An import in progress on PostgreSQL: a connection of its own, outside the pool (it holds
/// the staging table, and session settings that pooled connections must not keep), the store's
/// pool (to reserve ids outside the merge's transaction), and the rows not sent yet.
pub struct PgImport {
    /// The session's connection, while no staging `COPY` holds it.
    conn: Option<PgConnection>,
    /// The staging `COPY` under way, which holds the connection.
    stager: Option<Stager>,
    pool: PgPool,
    rows: CopyBuffer,
    /// Records staged so far (the next one's position).
    seq: i64,
    started_at: String,
    /// Values that may occur twice among the records (see [`PLAN`]).
    candidates: Candidates,
}

/// The references and SIRETs seen twice while staging, by a 64-bit hash of each: every value
/// given twice is among them (and, rarely, one whose hash another value shares).
#[derive(Default)]
struct Candidates {
    hasher: std::hash::RandomState,
    refs_seen: std::collections::HashSet<u64>,
    sirets_seen: std::collections::HashSet<u64>,
    refs: std::collections::BTreeSet<String>,
    sirets: std::collections::BTreeSet<String>,
}

impl Candidates {
    fn note(&mut self, source_ref: &str, siret: Option<&str>) {
        use std::hash::BuildHasher;
        if !self.refs_seen.insert(self.hasher.hash_one(source_ref)) {
            self.refs.insert(source_ref.to_owned());
        }
        if let Some(siret) = siret
            && !self.sirets_seen.insert(self.hasher.hash_one(siret))
        {
            self.sirets.insert(siret.to_owned());
        }
    }

    /// Writes them to their tables on the import's session.
    async fn store(&self, conn: &mut PgConnection) -> Result<()> {
        for (table, values) in [
            (
                "INSERT INTO pg_temp.ref_candidates SELECT unnest($1::text[])",
                &self.refs,
            ),
            (
                "INSERT INTO pg_temp.siret_candidates SELECT unnest($1::text[])",
                &self.sirets,
            ),
        ] {
            if !values.is_empty() {
                let values: Vec<&str> = values.iter().map(String::as_str).collect();
                sqlx::query(table).bind(values).execute(&mut *conn).await?;
            }
        }
        Ok(())
    }
}

/// The staging `COPY` of an import, on a task that holds the session's connection and sends
/// it the batches it receives; it gives the connection back when the batches end.
struct Stager {
    batches: tokio::sync::mpsc::Sender<Vec<u8>>,
    task: tokio::task::JoinHandle<(PgConnection, Result<u64>)>,
}

impl Stager {
    fn start(mut conn: PgConnection) -> Self {
        let (batches, mut receive) = tokio::sync::mpsc::channel::<Vec<u8>>(STAGE_QUEUE);
        let task = tokio::spawn(async move {
            let sent = copy_batches(&mut conn, &mut receive).await;
            (conn, sent)
        });
        Self { batches, task }
    }

    /// Ends the `COPY` once every batch is sent: the connection, and the rows staged.
    async fn finish(self) -> Result<(PgConnection, u64)> {
        drop(self.batches);
        let (conn, sent) = self
            .task
            .await
            .map_err(|e| StoreError::Unavailable(format!("the staging task ended: {e}")))?;
        Ok((conn, sent?))
    }
}

/// Sends every batch received to one `COPY` into the staging table.
async fn copy_batches(
    conn: &mut PgConnection,
    receive: &mut tokio::sync::mpsc::Receiver<Vec<u8>>,
) -> Result<u64> {
    // The `COPY` lasts as long as the records take to arrive (minutes for a large file read
    // slowly): longer than the store lets a statement run. Its session is the import's own.
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await?;
    let mut copy = conn.copy_in_raw(COPY_STAGED).await?;
    while let Some(batch) = receive.recv().await {
        // On an error the connection is broken: the import fails, and its session ends.
        copy.send(batch.as_slice()).await?;
    }
    Ok(copy.finish().await?)
}

impl Drop for PgImport {
    fn drop(&mut self) {
        if let Some(stager) = self.stager.take() {
            // Ends the session: the server drops the staging table.
            stager.task.abort();
        }
        if let Some(conn) = self.conn.take() {
            // The session ends: the server drops the staging table and rolls back a merge
            // under way.
            close_in_background(conn);
        }
    }
}

impl PgImport {
    /// Opens the import's connection and creates the staging table on it.
    pub(super) async fn begin(
        connect: &PgConnectOptions,
        pool: PgPool,
        timeout: Duration,
    ) -> Result<Self> {
        let options = connect.clone().options(IMPORT_SESSION);
        let mut conn = tokio::time::timeout(timeout, PgConnection::connect_with(&options))
            .await
            .map_err(|_| StoreError::Busy("no connection for the import in time".into()))??;
        sqlx::raw_sql(CREATE_STAGED).execute(&mut conn).await?;
        Ok(Self {
            conn: Some(conn),
            stager: None,
            pool,
            rows: CopyBuffer::with_capacity(STAGE_FLUSH + (STAGE_FLUSH >> 3)),
            seq: 0,
            started_at: now_utc(),
            candidates: Candidates::default(),
        })
    }

    fn conn(&mut self) -> Result<&mut PgConnection> {
        self.conn
            .as_mut()
            .ok_or_else(|| StoreError::Corrupt("the import's connection is closed".into()))
    }

    /// Hands the rows held to the staging `COPY` (started on the first batch).
    async fn flush(&mut self) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        if self.stager.is_none() {
            let conn = self
                .conn
                .take()
                .ok_or_else(|| StoreError::Corrupt("the import's connection is closed".into()))?;
            self.stager = Some(Stager::start(conn));
        }
        let batch = self.rows.take(STAGE_FLUSH + (STAGE_FLUSH >> 3));
        let refused = match &self.stager {
            Some(stager) => stager.batches.send(batch).await.is_err(),
            None => true,
        };
        if refused {
            // The task stopped on an error: it says which.
            self.end_staging().await?;
            return Err(StoreError::Unavailable(
                "the staging of the import stopped".into(),
            ));
        }
        Ok(())
    }

    /// Sends what is left and ends the staging `COPY`: the connection is the import's again.
    async fn end_staging(&mut self) -> Result<()> {
        if let Some(stager) = self.stager.take() {
            let (conn, _) = stager.finish().await?;
            self.conn = Some(conn);
        }
        Ok(())
    }

    /// Classifies the staged records and writes them, in the transaction open on `conn`;
    /// the ids of new actors are reserved on `pool`, in a transaction of their own. Returns
    /// the counts by action.
    async fn merge(conn: &mut PgConnection, pool: &PgPool) -> Result<MergeCounts> {
        sqlx::raw_sql(PLAN).execute(&mut *conn).await?;
        let by_action: Vec<(Option<String>, i64)> =
            sqlx::query_as("SELECT action, count(*) FROM pg_temp.merge_plan GROUP BY action")
                .fetch_all(&mut *conn)
                .await?;
        let count = |wanted: &[&str]| -> i64 {
            by_action
                .iter()
                .filter(|(a, _)| a.as_deref().is_some_and(|a| wanted.contains(&a)))
                .map(|(_, n)| *n)
                .sum()
        };
        if count(&["merge-new"]) > 0 {
            sqlx::raw_sql(TARGET_MERGED_NEW).execute(&mut *conn).await?;
        }
        if count(&["fill", "merge", "merge-new"]) > 0 {
            sqlx::raw_sql(NUMBER_FILL_ROUNDS)
                .execute(&mut *conn)
                .await?;
        }
        let created = count(&["create"]);
        // The first reserved id less one: the new actor numbered -k in the plan takes base + k.
        let base: i64 = if created > 0 {
            let first: i64 = sqlx::query_scalar("SELECT ancrage_reserve_actor_ids($1)")
                .bind(created)
                .fetch_one(pool)
                .await?;
            sqlx::query(INSERT_NEW)
                .bind(first - 1)
                .execute(&mut *conn)
                .await?;
            first - 1
        } else {
            0
        };
        if count(&["update"]) > 0 {
            sqlx::raw_sql(UPDATE_OWN).execute(&mut *conn).await?;
        }
        let rounds: Option<i64> =
            sqlx::query_scalar("SELECT max(fill_round) FROM pg_temp.merge_plan")
                .fetch_one(&mut *conn)
                .await?;
        for round in 1..=rounds.unwrap_or(0) {
            sqlx::query(FILL_ROUND)
                .bind(base)
                .bind(round)
                .execute(&mut *conn)
                .await?;
        }
        if count(&["update", "fill"]) > 0 {
            sqlx::raw_sql(UPDATE_SOURCES).execute(&mut *conn).await?;
        }
        if count(&["create", "merge", "merge-new"]) > 0 {
            sqlx::query(INSERT_SOURCES)
                .bind(base)
                .execute(&mut *conn)
                .await?;
        }
        // Everything else that is neither new nor unchanged updated an actor (as on SQLite, a
        // superseded record counts as an update of the record that replaced it).
        let total: i64 = by_action.iter().map(|(_, n)| n).sum();
        let unchanged = count(&["unchanged"]);
        let as_u64 = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(MergeCounts {
            created: as_u64(created),
            unchanged: as_u64(unchanged),
            updated: as_u64(total - created - unchanged),
        })
    }
}

impl ImportSession for PgImport {
    /// Appends the record to the rows for the staging table, sent by the few thousand.
    async fn stage(&mut self, r: UpsertRecord<'_>) -> Result<()> {
        let a = r.fields;
        let source_ref = a.source_ref.as_deref().ok_or_else(|| {
            StoreError::Corrupt("an imported record needs a source reference".into())
        })?;
        let v = ContentValues::of(a);
        self.candidates.note(source_ref, v.siret);
        let row = &mut self.rows;
        row.int(self.seq);
        row.text(Some(&a.source));
        row.text(Some(source_ref));
        row.text(Some(r.hash));
        row.text(Some(r.status.as_str()));
        row.text(r.location_flag);
        row.text(Some(v.name));
        row.text(v.description);
        row.text(Some(&v.categories));
        row.text(Some(v.family));
        row.bool(v.tiers_lieu);
        row.bool(v.ptce);
        row.bool(v.reseau);
        row.text(v.siret);
        row.text(v.street);
        row.text(v.postcode);
        row.text(Some(v.commune));
        row.float(Some(v.lon));
        row.float(Some(v.lat));
        row.int(v.lon_e7);
        row.int(v.lat_e7);
        row.text(Some(v.precision));
        row.text(v.website);
        row.text(v.email);
        row.text(v.phone);
        row.text(v.opening_hours);
        row.text(v.accessibility);
        row.bool(a.demo);
        row.end_row();
        self.seq += 1;
        if self.rows.len() >= STAGE_FLUSH {
            self.flush().await?;
        }
        Ok(())
    }

    /// Merges in one transaction: classification, new actors, own records, filled gaps,
    /// sources, the run; then commits (or, for a dry run, rolls back). On an error the
    /// connection is closed, which rolls everything back.
    async fn commit(mut self, run: ImportRun<'_>, dry_run: bool) -> Result<MergeCounts> {
        self.flush().await?;
        self.end_staging().await?;
        let candidates = std::mem::take(&mut self.candidates);
        candidates.store(self.conn()?).await?;
        let started_at = self.started_at.clone();
        let pool = self.pool.clone();
        let conn = self.conn()?;
        sqlx::raw_sql("BEGIN").execute(&mut *conn).await?;
        let counts = Self::merge(conn, &pool).await?;
        let total = counts.of_run(run);
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        sqlx::query(
            "INSERT INTO import_runs (source, format, input, started_at, read, created, updated, unchanged, rejected) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(run.source)
        .bind(run.format)
        .bind(run.input)
        .bind(started_at)
        .bind(count(total.read))
        .bind(count(total.created))
        .bind(count(total.updated))
        .bind(count(total.unchanged))
        .bind(count(total.rejected))
        .execute(&mut *conn)
        .await?;
        let end = if dry_run { "ROLLBACK" } else { "COMMIT" };
        sqlx::raw_sql(end).execute(&mut *conn).await?;
        // Ended, whatever the close says: the temporary tables go with the session.
        if let Some(conn) = self.conn.take()
            && let Err(e) = conn.close().await
        {
            tracing::debug!("import connection not closed cleanly: {e}");
        }
        Ok(counts)
    }
}
