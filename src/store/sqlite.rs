//! SQLite backend: one file, created and migrated on first start.

use super::{ImportCounts, Result, StoreError, UpsertRecord, Upserted};
use crate::domain::actor::{ActorFields, ActorRecord, Kind};
use crate::domain::territory::{
    TerritoryKind, TerritoryRecord, parse_area_geometry, write_area_geometry,
};
use crate::domain::{
    ActorId, Catalog, CategoryDef, CategorySet, Family, GeocodePrecision, InseeCode, KindSet,
    LonLat, Siret, Status,
};
use crate::index::actors::{ActorFacts, ActorRows, CommuneCode};
use futures_util::TryStreamExt;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Largest id range read in one batch by [`SqliteStore::actor_rows`].
const ACTOR_BATCH: i64 = 4096;

/// A SQLite store (connection pool).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database at `sqlite://PATH`, creating the file and its directory if needed,
    /// and applies migrations.
    ///
    /// # Errors
    /// When the directory cannot be created or written, or the migration fails.
    pub async fn open(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        if !in_memory {
            check_directory(options.get_filename())?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(if in_memory { 1 } else { 4 })
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    pub(super) async fn close(&self) {
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await
        {
            tracing::warn!("checkpoint before close failed: {e}");
        }
        self.pool.close().await;
    }

    pub(super) async fn seeded(&self, name: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM seed_runs WHERE name = ?")
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    pub(super) async fn seed_reference(
        &self,
        territories: &[TerritoryRecord],
        categories: &[CategoryDef],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let mut geometry = Vec::new();
        for t in territories {
            let geojson = match &t.geometry {
                Some(g) => {
                    geometry.clear();
                    write_area_geometry(&mut geometry, g);
                    Some(String::from_utf8_lossy(&geometry).into_owned())
                }
                None => None,
            };
            sqlx::query(
                "INSERT INTO territories (kind, code, name, population, commune_count, postcodes, epci, \
                 departement, departements, region, area_m2, point_lon, point_lat, point_origin, geometry_origin, geometry) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(t.kind.as_str())
            .bind(&t.code)
            .bind(&t.name)
            .bind(i64::try_from(t.population).unwrap_or(i64::MAX))
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
            .execute(&mut *tx)
            .await?;
        }
        for (position, c) in categories.iter().enumerate() {
            sqlx::query(
                "INSERT INTO categories (position, slug, parent, label_fr, label_en, colour, icon) VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(position as i64)
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
        sqlx::query("INSERT INTO seed_runs (name, detail) VALUES ('reference', ?)")
            .bind(detail)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn territories(&self) -> Result<Vec<TerritoryRecord>> {
        let mut rows = sqlx::query(
            "SELECT kind, code, name, population, commune_count, postcodes, epci, departement, departements, region, \
             area_m2, point_lon, point_lat, point_origin, geometry_origin, geometry FROM territories",
        )
        .fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(row) = rows.try_next().await? {
            out.push(territory_from_row(&row)?);
        }
        Ok(out)
    }

    pub(super) async fn categories(&self) -> Result<Vec<CategoryDef>> {
        let rows = sqlx::query("SELECT slug, parent, label_fr, label_en, colour, icon FROM categories ORDER BY position")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(CategoryDef {
                    slug: r.try_get("slug")?,
                    parent: r.try_get("parent")?,
                    label_fr: r.try_get("label_fr")?,
                    label_en: r.try_get("label_en")?,
                    colour: r.try_get("colour")?,
                    icon: r.try_get("icon")?,
                })
            })
            .collect()
    }

    pub(super) async fn insert_actors(
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

    pub(super) async fn set_status(&self, id: ActorId, status: Status) -> Result<bool> {
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
    pub(super) async fn actor_rows(&self, catalog: &Catalog) -> Result<ActorRows> {
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
        let (send, receive) = std::sync::mpsc::channel::<String>();
        let catalog = catalog.clone();
        let parser = tokio::task::spawn_blocking(move || -> Result<ActorRows> {
            let mut out = ActorRows::default();
            for batch in receive {
                parse_actor_batch(&batch, &catalog, &mut out)?;
            }
            Ok(out)
        });
        let reader = |lane: usize| {
            let send = send.clone();
            let starts = &starts;
            async move {
                let mut conn = self.pool.acquire().await?;
                for &start in starts.iter().skip(lane).step_by(2) {
                    let batch: Option<String> = sqlx::query_scalar(
                        "SELECT json_group_array(json_array(id, name, categories, family, \
                             is_tiers_lieu + 2 * is_ptce + 4 * is_reseau, commune_code, \
                             lon_e7, lat_e7, precision, demo, opening_hours)) \
                         FROM actors WHERE id >= ? AND id < ? AND status = 'published'",
                    )
                    .bind(start)
                    .bind(start.saturating_add(ACTOR_BATCH))
                    .fetch_one(&mut *conn)
                    .await?;
                    if let Some(batch) = batch
                        && send.send(batch).is_err()
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

    pub(super) async fn actor(&self, id: ActorId) -> Result<Option<ActorRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            // A constant column list: no input in this text.
            "SELECT {RECORD_COLUMNS} FROM actors WHERE id = ?"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record_from_row).transpose()
    }

    pub(super) async fn actor_records(&self, ids: &[ActorId]) -> Result<Vec<ActorRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let list = chunk
                .iter()
                .map(|id| id.0.to_string())
                .collect::<Vec<_>>()
                .join(",");
            // Integers printed by us and a constant column list: no input in this text.
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {RECORD_COLUMNS} FROM actors WHERE id IN ({list}) ORDER BY id"
            )))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                out.push(record_from_row(r)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn published_ids(&self, include_demo: bool) -> Result<Vec<ActorId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM actors WHERE status = 'published' AND (? OR demo = 0) ORDER BY id",
        )
        .bind(include_demo)
        .fetch_all(&self.pool)
        .await?;
        Ok(ids.into_iter().map(ActorId).collect())
    }

    pub(super) async fn revision(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM store_revision WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    pub(super) async fn begin_import(&self) -> Result<SqliteImport> {
        let mut conn = self.pool.acquire().await?;
        // A large import touches many pages: a bigger page cache (128 MiB, bounded) keeps
        // SQLite from spilling them to the log one by one before the commit.
        sqlx::query("PRAGMA cache_size = -131072")
            .execute(&mut *conn)
            .await?;
        // Every row fires the revision trigger, so every statement keeps a statement journal
        // to undo itself: in memory rather than in a temporary file, one write per page.
        sqlx::query("PRAGMA temp_store = MEMORY")
            .execute(&mut *conn)
            .await?;
        // Take the write lock now: a concurrent writer waits for the busy timeout rather
        // than failing halfway through the import.
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        Ok(SqliteImport {
            conn: Some(conn),
            started_at: now_utc(),
        })
    }
}

/// Columns read into an [`ActorRecord`] by [`record_from_row`].
pub(super) const RECORD_COLUMNS: &str = "id, name, description, categories, family, is_tiers_lieu, is_ptce, is_reseau, siret, street, \
     postcode, commune_code, lon_e7, lat_e7, precision, website, email, phone, opening_hours, accessibility, source, \
     source_ref, demo, status, created_at, updated_at";

pub(super) fn record_from_row(r: &SqliteRow) -> Result<ActorRecord> {
    let categories: Vec<String> = r
        .try_get::<&str, _>("categories")?
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let siret: Option<String> = r.try_get("siret")?;
    Ok(ActorRecord {
        id: ActorId(r.try_get("id")?),
        fields: ActorFields {
            name: r.try_get("name")?,
            description: r.try_get("description")?,
            categories,
            family: parse(Family::parse("family", r.try_get::<&str, _>("family")?))?,
            kinds: kinds_from(
                r.try_get("is_tiers_lieu")?,
                r.try_get("is_ptce")?,
                r.try_get("is_reseau")?,
            ),
            siret: siret
                .map(|s| parse(Siret::parse("siret", &s)))
                .transpose()?,
            street: r.try_get("street")?,
            postcode: r.try_get("postcode")?,
            commune: parse(InseeCode::parse(
                "commune_code",
                r.try_get::<&str, _>("commune_code")?,
            ))?,
            location: parse(LonLat::from_e7(r.try_get("lon_e7")?, r.try_get("lat_e7")?))?,
            precision: parse(GeocodePrecision::parse(
                "precision",
                r.try_get::<&str, _>("precision")?,
            ))?,
            website: r.try_get("website")?,
            email: r.try_get("email")?,
            phone: r.try_get("phone")?,
            opening_hours: r.try_get("opening_hours")?,
            accessibility: r.try_get("accessibility")?,
            source: r.try_get("source")?,
            source_ref: r.try_get("source_ref")?,
            demo: r.try_get("demo")?,
        },
        status: parse(Status::parse("status", r.try_get::<&str, _>("status")?))?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    crate::domain::hours::rfc3339_utc(secs)
}

/// An import transaction on one connection (`BEGIN IMMEDIATE` … `COMMIT`). Dropped without
/// [`SqliteImport::commit`] (an error, Ctrl-C, a crash), it is rolled back: the connection is
/// closed rather than returned to the pool, and SQLite discards the uncommitted pages.
pub struct SqliteImport {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
    started_at: String,
}

impl Drop for SqliteImport {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Closing without COMMIT rolls the transaction back.
            drop(conn.detach());
        }
    }
}

impl SqliteImport {
    fn conn(&mut self) -> Result<&mut sqlx::SqliteConnection> {
        self.conn
            .as_deref_mut()
            .ok_or_else(|| StoreError::Corrupt("the import transaction is closed".into()))
    }

    pub(super) async fn upsert(&mut self, r: UpsertRecord<'_>) -> Result<Upserted> {
        let a = r.fields;
        let source_ref = a.source_ref.as_deref().ok_or_else(|| {
            StoreError::Corrupt("an imported record needs a source reference".into())
        })?;
        let conn = self.conn()?;
        // One round trip for both lookups: this source's record, and an actor with the SIRET.
        let (known_id, known_hash, same_siret): (Option<i64>, Option<String>, Option<i64>) =
            sqlx::query_as(
                "SELECT s.actor_id, s.fields_hash, \
                 (SELECT id FROM actors WHERE ? IS NOT NULL AND siret = ? AND status <> 'archived' ORDER BY id LIMIT 1) \
                 FROM (SELECT 1) LEFT JOIN actor_sources s ON s.source = ? AND s.source_ref = ?",
            )
            .bind(a.siret.as_ref().map(Siret::as_str))
            .bind(a.siret.as_ref().map(Siret::as_str))
            .bind(&a.source)
            .bind(source_ref)
            .fetch_one(&mut *conn)
            .await?;
        if let Some(id) = known_id {
            if known_hash.as_deref() == Some(r.hash) {
                return Ok(Upserted::Unchanged(ActorId(id)));
            }
            let owner: Option<(String, Option<String>)> =
                sqlx::query_as("SELECT source, source_ref FROM actors WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            let owns = owner
                .as_ref()
                .is_some_and(|(s, sr)| *s == a.source && sr.as_deref() == Some(source_ref));
            if owns {
                update_actor(conn, id, r).await?;
            } else {
                fill_gaps(conn, id, a).await?;
            }
            touch_source(conn, &a.source, source_ref, id, r.hash).await?;
            return Ok(Upserted::Updated(ActorId(id)));
        }
        if let Some(id) = same_siret {
            fill_gaps(conn, id, a).await?;
            touch_source(conn, &a.source, source_ref, id, r.hash).await?;
            return Ok(Upserted::Merged(ActorId(id)));
        }
        let id = insert_actor(conn, a, r.status, r.location_flag).await?;
        touch_source(conn, &a.source, source_ref, id.0, r.hash).await?;
        Ok(Upserted::Created(id))
    }

    pub(super) async fn commit(
        mut self,
        (source, format, input, _): (&str, &str, &str, &str),
        counts: &ImportCounts,
    ) -> Result<()> {
        let started_at = self.started_at.clone();
        let conn = self.conn()?;
        sqlx::query(
            "INSERT INTO import_runs (source, format, input, started_at, read, created, updated, unchanged, rejected) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(source)
        .bind(format)
        .bind(input)
        .bind(started_at)
        .bind(counts.read as i64)
        .bind(counts.created as i64)
        .bind(counts.updated as i64)
        .bind(counts.unchanged as i64)
        .bind(counts.rejected as i64)
        .execute(&mut *conn)
        .await?;
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        // Committed: the connection can go back to the pool.
        self.conn.take();
        Ok(())
    }
}

/// Binds the content columns of an actor, in the order of [`INSERT_ACTOR`] and
/// [`UPDATE_ACTOR`].
macro_rules! bind_content {
    ($query:expr, $a:expr) => {{
        let a: &ActorFields = $a;
        let [lon_e7, lat_e7] = a.location.to_e7();
        let q = a.location.quantized();
        $query
            .bind(&a.name)
            .bind(&a.description)
            .bind(a.categories.join(" "))
            .bind(a.family.as_str())
            .bind(a.kinds.has(Kind::TiersLieu))
            .bind(a.kinds.has(Kind::Ptce))
            .bind(a.kinds.has(Kind::Reseau))
            .bind(a.siret.as_ref().map(Siret::as_str))
            .bind(&a.street)
            .bind(&a.postcode)
            .bind(a.commune.as_str())
            .bind(q.lon())
            .bind(q.lat())
            .bind(lon_e7)
            .bind(lat_e7)
            .bind(a.precision.as_str())
            .bind(&a.website)
            .bind(&a.email)
            .bind(&a.phone)
            .bind(&a.opening_hours)
            .bind(&a.accessibility)
    }};
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

pub(super) async fn insert_actor(
    conn: &mut sqlx::SqliteConnection,
    a: &ActorFields,
    status: Status,
    location_flag: Option<&str>,
) -> Result<ActorId> {
    let id: i64 = bind_content!(sqlx::query_scalar(INSERT_ACTOR), a)
        .bind(&a.source)
        .bind(&a.source_ref)
        .bind(a.demo)
        .bind(status.as_str())
        .bind(location_flag)
        .fetch_one(&mut *conn)
        .await?;
    Ok(ActorId(id))
}

/// Replaces every value of an actor by a record of its own source.
pub(super) async fn update_actor(
    conn: &mut sqlx::SqliteConnection,
    id: i64,
    r: UpsertRecord<'_>,
) -> Result<()> {
    bind_content!(sqlx::query(UPDATE_ACTOR), r.fields)
        .bind(r.status.as_str())
        .bind(r.location_flag)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Completes an actor with what another source knows: missing values, extra categories, and
/// a better location when the actor's is only its commune's.
async fn fill_gaps(conn: &mut sqlx::SqliteConnection, id: i64, a: &ActorFields) -> Result<()> {
    let current: Option<String> = sqlx::query_scalar("SELECT categories FROM actors WHERE id = ?")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let mut categories: Vec<String> = current
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    for c in &a.categories {
        if !categories.contains(c) {
            categories.push(c.clone());
        }
    }
    let [lon_e7, lat_e7] = a.location.to_e7();
    let q = a.location.quantized();
    let better = a.precision != GeocodePrecision::Commune;
    sqlx::query(
        "UPDATE actors SET categories = ?, description = coalesce(description, ?), siret = coalesce(siret, ?), \
         street = coalesce(street, ?), postcode = coalesce(postcode, ?), website = coalesce(website, ?), \
         email = coalesce(email, ?), phone = coalesce(phone, ?), opening_hours = coalesce(opening_hours, ?), \
         accessibility = coalesce(accessibility, ?), \
         lon = CASE WHEN precision = 'commune' AND ? THEN ? ELSE lon END, \
         lat = CASE WHEN precision = 'commune' AND ? THEN ? ELSE lat END, \
         lon_e7 = CASE WHEN precision = 'commune' AND ? THEN ? ELSE lon_e7 END, \
         lat_e7 = CASE WHEN precision = 'commune' AND ? THEN ? ELSE lat_e7 END, \
         precision = CASE WHEN precision = 'commune' AND ? THEN ? ELSE precision END, \
         updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE id = ?",
    )
    .bind(categories.join(" "))
    .bind(&a.description)
    .bind(a.siret.as_ref().map(Siret::as_str))
    .bind(&a.street)
    .bind(&a.postcode)
    .bind(&a.website)
    .bind(&a.email)
    .bind(&a.phone)
    .bind(&a.opening_hours)
    .bind(&a.accessibility)
    .bind(better)
    .bind(q.lon())
    .bind(better)
    .bind(q.lat())
    .bind(better)
    .bind(lon_e7)
    .bind(better)
    .bind(lat_e7)
    .bind(better)
    .bind(a.precision.as_str())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn touch_source(
    conn: &mut sqlx::SqliteConnection,
    source: &str,
    source_ref: &str,
    actor_id: i64,
    hash: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO actor_sources (source, source_ref, actor_id, fields_hash) VALUES (?, ?, ?, ?) \
         ON CONFLICT (source, source_ref) DO UPDATE SET actor_id = excluded.actor_id, \
         fields_hash = excluded.fields_hash, last_seen = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
    )
    .bind(source)
    .bind(source_ref)
    .bind(actor_id)
    .bind(hash)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn parse<T>(r: std::result::Result<T, crate::domain::InputError>) -> Result<T> {
    r.map_err(|e| StoreError::Corrupt(e.to_string()))
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
            family: parse(Family::parse("family", &r.family))?,
            kinds: KindSet(r.kinds),
            commune: CommuneCode::new(&r.commune).ok_or_else(|| {
                StoreError::Corrupt(format!("actor {id}: bad commune code '{}'", r.commune))
            })?,
            location: parse(LonLat::from_e7(r.lon_e7, r.lat_e7))?,
            precision: parse(GeocodePrecision::parse("precision", &r.precision))?,
            demo: r.demo != 0,
        };
        out.push_with_hours(facts, &r.name, r.hours.as_deref());
    }
    Ok(())
}

fn kinds_from(tiers_lieu: bool, ptce: bool, reseau: bool) -> KindSet {
    let mut k = KindSet::default();
    for (on, kind) in [
        (tiers_lieu, Kind::TiersLieu),
        (ptce, Kind::Ptce),
        (reseau, Kind::Reseau),
    ] {
        if on {
            k.0 |= KindSet::of(kind).0;
        }
    }
    k
}

fn territory_from_row(r: &SqliteRow) -> Result<TerritoryRecord> {
    let words = |s: String| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    let geometry: Option<String> = r.try_get("geometry")?;
    let kind: String = r.try_get("kind")?;
    Ok(TerritoryRecord {
        kind: parse(TerritoryKind::parse("kind", &kind))?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        population: u64::try_from(r.try_get::<i64, _>("population")?).unwrap_or(0),
        postcodes: words(r.try_get("postcodes")?),
        commune_count: u32::try_from(r.try_get::<i64, _>("commune_count")?).unwrap_or(0),
        epci: r.try_get("epci")?,
        departement: r.try_get("departement")?,
        departements: words(r.try_get("departements")?),
        region: r.try_get("region")?,
        area_m2: r.try_get("area_m2")?,
        point: match (
            r.try_get::<Option<f64>, _>("point_lon")?,
            r.try_get::<Option<f64>, _>("point_lat")?,
        ) {
            (Some(lon), Some(lat)) => Some([lon, lat]),
            _ => None,
        },
        point_origin: r.try_get("point_origin")?,
        geometry_origin: r.try_get("geometry_origin")?,
        geometry: geometry
            .map(|g| {
                parse_area_geometry(&g)
                    .map_err(|e| StoreError::Corrupt(format!("territory geometry: {e}")))
            })
            .transpose()?,
    })
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
    use crate::domain::LonLat;
    use sqlx::Executor;
    use sqlx::sqlite::SqlitePoolOptions;

    /// Migration 0002 moves existing stores to fixed-point positions that the server reads
    /// back as exactly the values it would have written itself.
    #[tokio::test]
    async fn the_fixed_point_migration_keeps_positions_to_the_centimetre() {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .expect("memory database");
        pool.execute(include_str!("../../migrations/sqlite/0001_init.sql"))
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
            "../../migrations/sqlite/0002_fixed_point_positions.sql"
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
