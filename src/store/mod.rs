//! The source of truth: actors, categories, territories and what seeding has done.
//!
//! Backends are variants of one enum rather than trait objects: async methods stay plain
//! `async fn`s and every backend offers exactly the same operations.

pub mod admin;
pub mod sqlite;

use crate::domain::actor::{ActorFields, ActorRecord};
use crate::domain::territory::TerritoryRecord;
use crate::domain::{ActorId, Catalog, CategoryDef, Status};
use crate::index::actors::ActorRows;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names a backend this build does not support.
    #[error(
        "unsupported database URL '{0}': use sqlite://PATH (for example sqlite://data/ancrage.db)"
    )]
    UnsupportedUrl(String),
    /// The data directory could not be created or written to.
    #[error("the data directory '{path}' {problem}")]
    DataDirectory {
        /// The directory.
        path: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The schema migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A database operation failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored row could not be decoded into a domain value.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// Result alias for store operations.
pub type Result<T> = std::result::Result<T, StoreError>;

/// A store backend.
#[derive(Debug, Clone)]
pub enum Store {
    /// Embedded SQLite file (the default).
    Sqlite(sqlite::SqliteStore),
}

impl Store {
    /// Opens (creating it if needed) and migrates the store named by a database URL.
    ///
    /// # Errors
    /// On an unsupported URL, an unusable data directory or a failed migration.
    pub async fn open(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(sqlite::SqliteStore::open(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    /// Whether a named seeding step has been applied.
    ///
    /// # Errors
    /// On a database error.
    pub async fn seeded(&self, name: &str) -> Result<bool> {
        match self {
            Self::Sqlite(s) => s.seeded(name).await,
        }
    }

    /// Stores territories, categories and marks seeding steps, all in one transaction.
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    pub async fn seed_reference(
        &self,
        territories: &[TerritoryRecord],
        categories: &[CategoryDef],
    ) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.seed_reference(territories, categories).await,
        }
    }

    /// Loads every territory.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn territories(&self) -> Result<Vec<TerritoryRecord>> {
        match self {
            Self::Sqlite(s) => s.territories().await,
        }
    }

    /// Loads the category taxonomy.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn categories(&self) -> Result<Vec<CategoryDef>> {
        match self {
            Self::Sqlite(s) => s.categories().await,
        }
    }

    /// Inserts actors with their status and records the seeding step `seed_step` (when
    /// given), all in one transaction.
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    pub async fn insert_actors(
        &self,
        actors: &[(ActorFields, Status)],
        seed_step: Option<(&str, &str)>,
    ) -> Result<Vec<ActorId>> {
        match self {
            Self::Sqlite(s) => s.insert_actors(actors, seed_step).await,
        }
    }

    /// Changes the status of an actor; returns whether it existed.
    ///
    /// # Errors
    /// On a database error.
    pub async fn set_status(&self, id: ActorId, status: Status) -> Result<bool> {
        match self {
            Self::Sqlite(s) => s.set_status(id, status).await,
        }
    }

    /// Loads the published actors as the index needs them.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn actor_rows(&self, catalog: &Catalog) -> Result<ActorRows> {
        match self {
            Self::Sqlite(s) => s.actor_rows(catalog).await,
        }
    }

    /// Flushes the write-ahead log into the database file and closes every connection.
    pub async fn close(&self) {
        match self {
            Self::Sqlite(s) => s.close().await,
        }
    }

    /// Loads one actor, whatever its status.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn actor(&self, id: ActorId) -> Result<Option<ActorRecord>> {
        match self {
            Self::Sqlite(s) => s.actor(id).await,
        }
    }
}

/// What an upsert did with one record.
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

impl Upserted {
    /// The actor concerned.
    #[must_use]
    pub fn id(self) -> ActorId {
        match self {
            Self::Created(id) | Self::Updated(id) | Self::Merged(id) | Self::Unchanged(id) => id,
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

/// An import in progress: one transaction, committed whole or not at all.
pub enum ImportTx {
    /// On SQLite.
    Sqlite(sqlite::SqliteImport),
}

impl ImportTx {
    /// Creates or updates the actor of a record.
    ///
    /// # Errors
    /// On a database error (the whole import is then abandoned).
    pub async fn upsert(&mut self, r: UpsertRecord<'_>) -> Result<Upserted> {
        match self {
            Self::Sqlite(s) => s.upsert(r).await,
        }
    }

    /// Records the run and commits everything.
    ///
    /// # Errors
    /// On a database error (nothing is written then).
    pub async fn commit(self, run: (&str, &str, &str, &str), counts: &ImportCounts) -> Result<()> {
        match self {
            Self::Sqlite(s) => s.commit(run, counts).await,
        }
    }
}

impl Store {
    /// Starts an import transaction.
    ///
    /// # Errors
    /// On a database error.
    pub async fn begin_import(&self) -> Result<ImportTx> {
        match self {
            Self::Sqlite(s) => Ok(ImportTx::Sqlite(s.begin_import().await?)),
        }
    }

    /// The change counter of actors (moves on every insert, update or delete).
    ///
    /// # Errors
    /// On a database error.
    pub async fn revision(&self) -> Result<i64> {
        match self {
            Self::Sqlite(s) => s.revision().await,
        }
    }

    /// Ids of the published actors, in id order (demonstration actors only when asked).
    ///
    /// # Errors
    /// On a database error.
    pub async fn published_ids(&self, include_demo: bool) -> Result<Vec<ActorId>> {
        match self {
            Self::Sqlite(s) => s.published_ids(include_demo).await,
        }
    }

    /// Loads the actors of the given ids (whatever their status), in id order, for exports.
    ///
    /// # Errors
    /// On a database error or a corrupt row.
    pub async fn actor_records(&self, ids: &[ActorId]) -> Result<Vec<ActorRecord>> {
        match self {
            Self::Sqlite(s) => s.actor_records(ids).await,
        }
    }
}
