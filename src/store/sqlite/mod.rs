//! SQLite backend: one file, created and migrated on first start; the zero-setup default.

mod admin;
mod import;
mod restore;

pub use import::SqliteImport;
pub use restore::SqliteRestore;

use super::rows::{
    ACTOR_COLUMNS, ActorRow, CategoryRow, ContentValues, TERRITORY_COLUMNS, TerritoryRow,
    bind_content, corrupt, now_ms, now_utc, records,
};
use super::{Backend, ChangeFeed, RateDecision, Result, SeedLock, Store, StoreError, StoreOptions};
use crate::domain::actor::{ActorFields, ActorRecord};
use crate::domain::territory::{TerritoryRecord, write_area_geometry};
use crate::domain::{
    ActorId, Catalog, CategoryDef, CategorySet, Family, GeocodePrecision, KindSet, LonLat, Status,
};
use crate::index::actors::{ActorFacts, ActorRows, CommuneCode};
use futures_util::TryStreamExt;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Largest id range read in one batch by [`SqliteStore::actor_rows`].
const ACTOR_BATCH: i64 = 4096;

/// A SQLite store (connection pool).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The database file (`None` in memory), whose `.lock` sibling serialises seeding.
    file: Option<PathBuf>,
    /// How long a writer waits for the write lock.
    busy_timeout: Duration,
}

impl SqliteStore {
    /// Opens the database at `sqlite://PATH`, creating the file and its directory if needed,
    /// and applies migrations. Writers wait up to `options.statement_timeout` for the write
    /// lock, then fail with [`StoreError::Busy`].
    ///
    /// # Errors
    /// When the directory cannot be created or written, or the migration fails.
    pub async fn open(url: &str, options: StoreOptions) -> Result<Self> {
        let connect = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(options.statement_timeout);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let file = if in_memory {
            None
        } else {
            check_directory(connect.get_filename())?;
            Some(connect.get_filename().to_path_buf())
        };
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 4 })
            .acquire_timeout(options.connect_timeout.max(options.statement_timeout))
            .connect_with(connect)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool,
            file,
            busy_timeout: options.statement_timeout,
        })
    }
}

/// Inserts territories (geometry as GeoJSON text) in the caller's transaction.
async fn insert_territories(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    territories: &[TerritoryRecord],
) -> Result<()> {
    let mut geometry = Vec::new();
    for t in territories {
        let geojson = t.geometry.as_ref().map(|g| {
            geometry.clear();
            write_area_geometry(&mut geometry, g);
            String::from_utf8_lossy(&geometry).into_owned()
        });
        sqlx::query(
            "INSERT INTO territories (kind, code, name, population, population_published, commune_count, \
             postcodes, epci, departement, departements, region, area_m2, point_lon, point_lat, point_origin, \
             geometry_origin, geometry) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(t.kind.as_str())
        .bind(&t.code)
        .bind(&t.name)
        .bind(i64::try_from(t.population).unwrap_or(i64::MAX))
        .bind(t.population_published.map(|p| i64::try_from(p).unwrap_or(i64::MAX)))
        .bind(i64::from(t.commune_count))
        .bind(t.postcodes.join(" "))
        .bind(&t.epci)
        .bind(&t.departement)
        .bind(t.departements.join(" "))
        .bind(&t.region)
        .bind(t.area_m2)
        .bind(t.point.map(|p| p[0]))
        .bind(t.point.map(|p| p[1]))
        .bind(&t.point_origin)
        .bind(&t.geometry_origin)
        .bind(geojson)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

impl Store for SqliteStore {
    type Import = SqliteImport;
    type Restore = SqliteRestore;

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn seed_lock(&self) -> Result<SeedLock> {
        let Some(file) = &self.file else {
            return Ok(SeedLock(Box::new(())));
        };
        let mut path = file.clone().into_os_string();
        path.push(".seed-lock");
        let path = PathBuf::from(path);
        let lock = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)?;
            f.lock()?;
            Ok(f)
        })
        .await
        .map_err(|e| StoreError::Unavailable(format!("seed lock: {e}")))?
        .map_err(|e| StoreError::Unavailable(format!("seed lock: {e}")))?;
        Ok(SeedLock(Box::new(lock)))
    }

    async fn seeded(&self, step: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM seed_runs WHERE name = ?")
            .bind(step)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    async fn seed_reference(
        &self,
        territories: &[TerritoryRecord],
        categories: &[CategoryDef],
        edition: &str,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        insert_territories(&mut tx, territories).await?;
        for (position, c) in categories.iter().enumerate() {
            sqlx::query(
                "INSERT INTO categories (position, slug, parent, label_fr, label_en, colour, icon) VALUES (?, ?, ?, ?, ?, ?, ?)",
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
        sqlx::query("INSERT INTO seed_runs (name, detail) VALUES ('reference', ?), (?, ?)")
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
        insert_territories(&mut tx, territories).await?;
        sqlx::query("INSERT INTO seed_runs (name, detail) VALUES (?, ?)")
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

    async fn insert_actors(
        &self,
        actors: &[(ActorFields, Status)],
        seed_step: Option<(&str, &str)>,
    ) -> Result<Vec<ActorId>> {
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(actors.len());
        for (a, status) in actors {
            ids.push(insert_actor(&mut tx, a, *status, None).await?);
        }
        if let Some((name, detail)) = seed_step {
            sqlx::query("INSERT INTO seed_runs (name, detail) VALUES (?, ?)")
                .bind(name)
                .bind(detail)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn set_status(&self, id: ActorId, status: Status) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE actors SET status = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
        )
        .bind(status.as_str())
        .bind(id.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Loads published actors. Decoding a million rows one by one costs seconds in the
    /// driver, so SQLite packs them into JSON arrays of up to [`ACTOR_BATCH`] actors, one id
    /// range each (a range scan of the primary key: no sort), on two connections at once
    /// (one per core); one blocking thread parses the batches, escaping and folding names
    /// into the index's arenas, while SQLite prepares the next ones. Positions are read in
    /// fixed point (`lon_e7`, `lat_e7`): integers print fast and exactly, where SQLite's exact
    /// printing of `REAL`s (`%!.17g`) took a third of the load and its JSON numbers come back
    /// 1 ulp off about half the time.
    ///
    /// Batches are separate statements, so a write committed during the load may be seen by
    /// some batches only; every write publishes a new snapshot after it commits, and that
    /// reload sees it whole.
    async fn actor_rows(&self, catalog: &Catalog) -> Result<ActorRows> {
        let (first, last): (Option<i64>, Option<i64>) =
            sqlx::query_as("SELECT min(id), max(id) FROM actors")
                .fetch_one(&self.pool)
                .await?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(ActorRows::default());
        };
        let starts: Vec<i64> = (first..=last).step_by(ACTOR_BATCH as usize).collect();
        // One parsing thread (not one task per batch: every thread that allocates keeps its
        // own malloc arena, which showed as +120 MiB of resident memory).
        let (send, receive) = std::sync::mpsc::channel::<(String, Option<String>)>();
        let catalog = catalog.clone();
        let parser = tokio::task::spawn_blocking(move || -> Result<ActorRows> {
            let mut out = ActorRows::default();
            for (batch, changed_at) in receive {
                parse_actor_batch(&batch, &catalog, &mut out)?;
                if let Some(t) = changed_at {
                    out.note_change(&t);
                }
            }
            Ok(out)
        });
        let reader = |lane: usize| {
            let send = send.clone();
            let starts = &starts;
            async move {
                let mut conn = self.pool.acquire().await?;
                for &start in starts.iter().skip(lane).step_by(2) {
                    // The batch's latest change comes from the same scan.
                    let (batch, changed_at): (Option<String>, Option<String>) = sqlx::query_as(
                        "SELECT json_group_array(json_array(id, name, categories, family, \
                             is_tiers_lieu + 2 * is_ptce + 4 * is_reseau, commune_code, \
                             lon_e7, lat_e7, precision, demo, opening_hours)), max(updated_at) \
                         FROM actors WHERE id >= ? AND id < ? AND status = 'published'",
                    )
                    .bind(start)
                    .bind(start.saturating_add(ACTOR_BATCH))
                    .fetch_one(&mut *conn)
                    .await?;
                    if let Some(batch) = batch
                        && send.send((batch, changed_at)).is_err()
                    {
                        break; // The parser stopped on an error, reported below.
                    }
                }
                Ok::<(), StoreError>(())
            }
        };
        let read = futures_util::future::try_join(reader(0), reader(1)).await;
        drop(send);
        let out = parser
            .await
            .map_err(|e| StoreError::Corrupt(format!("actor batches: {e}")))??;
        read?;
        Ok(out)
    }

    async fn actor(&self, id: ActorId) -> Result<Option<ActorRecord>> {
        let row: Option<ActorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            // A constant column list: no input in this text.
            "SELECT {ACTOR_COLUMNS} FROM actors WHERE id = ?"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(ActorRecord::try_from).transpose()
    }

    async fn actor_records(&self, ids: &[ActorId]) -> Result<Vec<ActorRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(|id| id.0.to_string())
                .collect::<Vec<_>>()
                .join(",");
            // Integers printed by us and a constant column list: no input in this text.
            let rows: Vec<ActorRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {ACTOR_COLUMNS} FROM actors WHERE id IN ({list}) ORDER BY id"
            )))
            .fetch_all(&self.pool)
            .await?;
            out.extend(records(rows)?);
        }
        // Chunks come back in id order each, not across chunks.
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    async fn published_ids(&self, include_demo: bool) -> Result<Vec<ActorId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM actors WHERE status = 'published' AND (? OR demo = 0) ORDER BY id",
        )
        .bind(include_demo)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(ActorId).collect())
    }

    async fn actor_sources(&self, id: ActorId) -> Result<Vec<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT source, source_ref FROM actor_sources WHERE actor_id = ? ORDER BY source, source_ref",
        )
        .bind(id.0)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn actor_by_source(&self, source: &str, source_ref: &str) -> Result<Option<ActorId>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT actor_id FROM actor_sources WHERE source = ? AND source_ref = ?",
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

    async fn begin_import(&self) -> Result<SqliteImport> {
        // Beside the store: the same disk, the operator's folder.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!(".import-{}-{n}.staging", std::process::id());
        let path = match &self.file {
            Some(f) => {
                let mut p = f.clone().into_os_string();
                p.push(name);
                PathBuf::from(p)
            }
            // The staging file is attached to the store's connection, which a store in memory
            // cannot share with a file of its own.
            None => {
                return Err(StoreError::Conflict(
                    "imports need a store in a file (sqlite://PATH), not in memory".into(),
                ));
            }
        };
        SqliteImport::begin(self.pool.clone(), path, now_utc()).await
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
        admin::token_owner(&self.pool, token_hash, self.busy_timeout).await
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

    async fn begin_restore(&self) -> Result<SqliteRestore> {
        SqliteRestore::begin(&self.pool).await
    }

    fn listen(&self, _feed: Arc<ChangeFeed>) {
        // SQLite cannot notify other processes: the revision poll alone applies.
    }

    async fn close(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await
        {
            tracing::warn!("checkpoint before close failed: {e}");
        }
        self.pool.close().await;
    }
}

/// A new actor: the content columns, then source, reference, demo, status and location flag.
const INSERT_ACTOR: &str = "INSERT INTO actors (name, description, categories, family, is_tiers_lieu, is_ptce, is_reseau, \
     siret, street, postcode, commune_code, lon, lat, lon_e7, lat_e7, precision, website, email, phone, opening_hours, \
     accessibility, source, source_ref, demo, status, location_flag) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";

/// Every content column of an actor, then status, location flag, and the id.
const UPDATE_ACTOR: &str = "UPDATE actors SET name = ?, description = ?, categories = ?, family = ?, is_tiers_lieu = ?, \
     is_ptce = ?, is_reseau = ?, siret = ?, street = ?, postcode = ?, commune_code = ?, lon = ?, lat = ?, lon_e7 = ?, \
     lat_e7 = ?, precision = ?, website = ?, email = ?, phone = ?, opening_hours = ?, accessibility = ?, status = ?, \
     location_flag = ?, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?";

async fn insert_actor(
    conn: &mut sqlx::SqliteConnection,
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
/// by it (to imports and [`Store::actor_by_source`]) and its reference unique.
async fn own_source_record(
    conn: &mut sqlx::SqliteConnection,
    a: &ActorFields,
    id: i64,
) -> Result<()> {
    if let Some(source_ref) = &a.source_ref {
        sqlx::query("INSERT INTO actor_sources (source, source_ref, actor_id) VALUES (?, ?, ?)")
            .bind(&a.source)
            .bind(source_ref)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Replaces every value of an actor by a record of its own source.
async fn update_actor(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
    fields: &ActorFields,
    status: Status,
    location_flag: Option<&str>,
) -> Result<()> {
    let v = ContentValues::of(fields);
    bind_content!(sqlx::query(UPDATE_ACTOR), &v)
        .bind(status.as_str())
        .bind(location_flag)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One actor of a JSON batch, in the order of the batch query's `json_array`. Short fields
/// borrow from the batch text: a million transient strings would fragment the heap.
#[derive(serde::Deserialize)]
struct BatchRow<'a> {
    id: i64,
    #[serde(borrow)]
    name: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    categories: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    family: std::borrow::Cow<'a, str>,
    kinds: u8,
    #[serde(borrow)]
    commune: std::borrow::Cow<'a, str>,
    lon_e7: i64,
    lat_e7: i64,
    #[serde(borrow)]
    precision: std::borrow::Cow<'a, str>,
    demo: u8,
    #[serde(borrow)]
    hours: Option<std::borrow::Cow<'a, str>>,
}

fn parse_actor_batch(batch: &str, catalog: &Catalog, out: &mut ActorRows) -> Result<()> {
    let rows: Vec<BatchRow<'_>> = serde_json::from_str(batch)
        .map_err(|e| StoreError::Corrupt(format!("actor batch: {e}")))?;
    for r in rows {
        let id = r.id;
        let mut categories = CategorySet::EMPTY;
        for slug in r.categories.split_whitespace() {
            let pos = catalog.position(slug).ok_or_else(|| {
                StoreError::Corrupt(format!("actor {id}: unknown category '{slug}'"))
            })?;
            categories.0 |= 1 << pos;
        }
        let facts = ActorFacts {
            id: ActorId(id),
            categories,
            family: corrupt(Family::parse("family", &r.family))?,
            kinds: KindSet(r.kinds),
            commune: CommuneCode::new(&r.commune).ok_or_else(|| {
                StoreError::Corrupt(format!("actor {id}: bad commune code '{}'", r.commune))
            })?,
            location: corrupt(LonLat::from_e7(r.lon_e7, r.lat_e7))?,
            precision: corrupt(GeocodePrecision::parse("precision", &r.precision))?,
            demo: r.demo != 0,
        };
        out.push_with_hours(facts, &r.name, r.hours.as_deref());
    }
    Ok(())
}

/// Creates the database's directory if needed and checks that it is writable, so that a
/// misconfiguration is reported in plain words rather than as an SQLite error code.
fn check_directory(file: &Path) -> Result<()> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let err = |problem: String| StoreError::DataDirectory {
        path: dir.display().to_string(),
        problem,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(err("exists but is not a directory".into()));
    }
    std::fs::create_dir_all(dir).map_err(|e| err(format!("cannot be created: {e}")))?;
    let probe = dir.join(format!(".ancrage-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| err(format!("is not writable: {e}")))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::SqliteStore;
    use crate::domain::LonLat;
    use crate::store::fixtures::{actor, counted, options, record, run};
    use crate::store::{ImportSession, Store};
    use sqlx::sqlite::SqlitePoolOptions;
    use sqlx::{Connection, Executor, SqliteConnection};

    /// An import classifies its records before it takes the write lock; a writer that
    /// changes the store in between (here: an actor with the record's SIRET, committed while
    /// the import waits for the lock) is seen, because the import checks the revision under
    /// the lock and classifies again: the record joins that actor instead of making a second
    /// one. The revision then moves once for the merge, and the row triggers are back.
    #[tokio::test]
    async fn a_change_made_while_an_import_waits_for_the_lock_is_taken_into_account() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("ancrage.db").display());
        let store = SqliteStore::open(&url, options()).await.expect("open");
        let mut fields = actor("Ressourcerie du port", "sirene", Some("r1"));
        fields.siret =
            Some(crate::domain::Siret::parse("siret", "12345678900007").expect("a SIRET"));
        let mut session = store.begin_import().await.expect("begin");
        session.stage(record(&fields, "h1")).await.expect("stage");
        let mut writer = SqliteConnection::connect(&url).await.expect("writer");
        writer.execute("BEGIN IMMEDIATE").await.expect("lock");
        writer
            .execute(
                "INSERT INTO actors (name, categories, family, siret, commune_code, lon, lat, lon_e7, lat_e7, \
                 precision, source, source_ref, status) VALUES ('Ressourcerie', 'ressourcerie', 'association', \
                 '12345678900007', '44109', -1.55, 47.21, -15500000, 472100000, 'commune', 'admin', NULL, \
                 'published')",
            )
            .await
            .expect("insert");
        let merging = tokio::spawn(async move { session.commit(run(), false).await });
        // Long enough for the import to classify (one record) and wait for the lock.
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        assert!(!merging.is_finished(), "the import waits for the lock");
        writer.execute("COMMIT").await.expect("commit");
        let revision = store.revision().await.expect("revision");
        let counts = merging.await.expect("task").expect("merge");
        assert_eq!(counts, counted(0, 1, 0), "merged into the actor by SIRET");
        let joined = store
            .actor_by_source("sirene", "r1")
            .await
            .expect("lookup")
            .expect("the record has an actor");
        assert_eq!(joined.0, 1, "the record joined the actor written meanwhile");
        assert_eq!(store.revision().await.expect("revision"), revision + 1);
        store
            .insert_actors(
                &[(
                    actor("Après", "seed", None),
                    crate::domain::Status::Published,
                )],
                None,
            )
            .await
            .expect("insert");
        assert_eq!(store.revision().await.expect("revision"), revision + 2);
    }

    /// Migration 0002 moves existing stores to fixed-point positions that the server reads
    /// back as exactly the values it would have written itself.
    #[tokio::test]
    async fn the_fixed_point_migration_keeps_positions_to_the_centimetre() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("memory database");
        pool.execute(include_str!("../../../migrations/sqlite/0001_init.sql"))
            .await
            .expect("first migration");
        let points = [
            (2.352_221_899_999_9, 48.856_613_450_01),
            (-1.553_621_94, 47.218_371_55),
            (55.448_000_049_999, -20.878_999_95),
            (-179.999_999_96, -14.3),
            (180.0, 90.0),
        ];
        for (i, (lon, lat)) in points.iter().enumerate() {
            sqlx::query(
                "INSERT INTO actors (name, categories, family, commune_code, lon, lat, precision, source, source_ref) \
                 VALUES ('A', 'ressourcerie', 'association', '44109', ?, ?, 'manual', 'test', ?)",
            )
            .bind(lon)
            .bind(lat)
            .bind(i.to_string())
            .execute(&pool)
            .await
            .expect("insert");
        }
        pool.execute(include_str!(
            "../../../migrations/sqlite/0002_fixed_point_positions.sql"
        ))
        .await
        .expect("second migration");
        let rows: Vec<(f64, f64, i64, i64)> =
            sqlx::query_as("SELECT lon, lat, lon_e7, lat_e7 FROM actors ORDER BY id")
                .fetch_all(&pool)
                .await
                .expect("select");
        for ((lon, lat), (s_lon, s_lat, lon_e7, lat_e7)) in points.iter().zip(rows) {
            let want = LonLat::new(*lon, *lat).expect("in range");
            assert_eq!([lon_e7, lat_e7], want.to_e7(), "{lon} {lat}");
            let back = LonLat::from_e7(lon_e7, lat_e7).expect("in range");
            assert_eq!(back, want.quantized());
            // The REAL columns hold the same values, for SQL users.
            assert_eq!((s_lon, s_lat), (back.lon(), back.lat()));
        }
    }
}
