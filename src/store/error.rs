//! Store errors in domain terms: the driver's errors are classified here and nowhere else.

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names a backend this build does not support (password redacted).
    #[error(
        "unsupported database URL '{0}': use sqlite://PATH (for example sqlite://data/ancrage.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE"
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
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A write broke a rule of the schema (uniqueness, a check, a reference).
    #[error("refused by the store: {0}")]
    Conflict(String),
    /// The store is busy (a lock held by another writer, a statement cancelled by its
    /// timeout, no free connection): the same request can succeed a moment later.
    #[error("the store is busy: {0}")]
    Busy(String),
    /// The store cannot be reached (server down, connection lost, refused credentials).
    #[error("the store is unavailable: {0}")]
    Unavailable(String),
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// A stored row could not be decoded into a domain value, or the store answered
    /// something it should not.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Whether the request may succeed if retried shortly (answered with `503` and
    /// `Retry-After` by the routes).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Busy(_) | Self::Unavailable(_))
    }
}

/// SQLSTATE classes and codes (PostgreSQL) and extended result codes (SQLite) that mean
/// "wait and retry".
fn busy_code(code: &str) -> bool {
    matches!(
        code,
        // SQLite: SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
        "5" | "6" | "261" | "517" | "262" | "773"
        // PostgreSQL: lock_not_available, query_canceled (statement timeout),
        // serialization_failure, deadlock_detected, too_many_connections.
        | "55P03" | "57014" | "40001" | "40P01" | "53300"
    )
}

/// PostgreSQL SQLSTATEs of a server going away.
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53000")
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match e {
            E::RowNotFound => Self::NotFound("no such row".into()),
            E::PoolTimedOut => Self::Busy("no free database connection".into()),
            E::PoolClosed => Self::Unavailable("the connection pool is closed".into()),
            E::Io(io) => Self::Unavailable(io.to_string()),
            E::Tls(t) => Self::Unavailable(format!("TLS: {t}")),
            E::Protocol(p) => Self::Unavailable(format!("protocol: {p}")),
            E::WorkerCrashed => Self::Unavailable("the database worker stopped".into()),
            E::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                let message = db.message().to_owned();
                if db.is_unique_violation()
                    || db.is_check_violation()
                    || db.is_foreign_key_violation()
                {
                    Self::Conflict(message)
                } else if busy_code(&code) || message.contains("database is locked") {
                    Self::Busy(message)
                } else if unavailable_code(&code) {
                    Self::Unavailable(message)
                } else if code == "28P01" || code == "28000" || code == "3D000" {
                    // Wrong password, no such role, no such database.
                    Self::Unavailable(message)
                } else {
                    Self::Corrupt(format!("{message} ({code})"))
                }
            }
            E::ColumnDecode { index, source } => Self::Corrupt(format!("column {index}: {source}")),
            E::Decode(d) => Self::Corrupt(d.to_string()),
            E::ColumnNotFound(c) => Self::Corrupt(format!("no column {c}")),
            E::Configuration(c) => Self::UnsupportedUrl(c.to_string()),
            other => Self::Corrupt(other.to_string()),
        }
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        match e {
            sqlx::migrate::MigrateError::Execute(inner) => match Self::from(inner) {
                s @ (Self::Busy(_) | Self::Unavailable(_)) => s,
                other => Self::Migration(other.to_string()),
            },
            other => Self::Migration(other.to_string()),
        }
    }
}
