//! Tests against a real server: the one `ANCRAGE_PG_TEST_URL` names (a superuser URL such as
//! `postgres://postgres@127.0.0.1:55432/postgres`), else the private cluster the integration
//! tests start (`tests/support/postgres.rs`: skipped with a banner where PostgreSQL cannot be
//! started, a failure under CI). Each test creates a database of its own and drops it at the
//! end.
//!
//! What holds on every backend is checked by the conformance suite (`tests/store`); here, what
//! is particular to PostgreSQL: connection errors, migrations under concurrent starts, the
//! revision's commit-time bump, pools of one, row locks, the listener.

use super::PgStore;
use crate::domain::actor::ActorFields;
use crate::domain::{ActorId, Status};
use crate::store::fixtures::{actor, counted, options, record, run};
use crate::store::{ChangeFeed, ImportSession, MergeCounts, Store, StoreError, StoreOptions};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[path = "../../../tests/support/postgres.rs"]
mod cluster;

static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// A fresh database on the test server, dropped by [`TestDb::drop_now`].
struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    async fn new() -> Option<Self> {
        let admin_url = match std::env::var("ANCRAGE_PG_TEST_URL") {
            Ok(url) => url,
            Err(_) => cluster::cluster()?.url("postgres"),
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "ancrage_test_{}_{}_{nanos}",
            std::process::id(),
            DATABASES.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .expect("connect to ANCRAGE_PG_TEST_URL");
        // A name of our own making (digits and underscores).
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .expect("create database");
        let _ = admin.close().await;
        let (base, query) = match admin_url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (admin_url.as_str(), String::new()),
        };
        let server = base.rsplit_once('/').map_or(base, |(s, _)| s);
        let url = format!("{server}/{name}{query}");
        Some(Self {
            admin_url,
            name,
            url,
        })
    }

    async fn open(&self) -> PgStore {
        PgStore::open(&self.url, options()).await.expect("open")
    }

    async fn raw(&self) -> PgConnection {
        PgConnection::connect(&self.url)
            .await
            .expect("raw connection")
    }

    async fn drop_now(self) {
        let mut admin = PgConnection::connect(&self.admin_url)
            .await
            .expect("connect to ANCRAGE_PG_TEST_URL");
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .await
            .expect("drop database");
    }
}

/// Stages `records` (hashes given) in one import and commits it; returns the counts.
async fn import<S: Store>(
    store: &S,
    records: &[(&ActorFields, &str)],
) -> Result<MergeCounts, StoreError> {
    let mut session = store.begin_import().await?;
    for (fields, hash) in records {
        session.stage(record(fields, hash)).await?;
    }
    session.commit(run(), false).await
}

#[tokio::test]
async fn a_refused_connection_is_unavailable_and_names_the_url_without_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("postgres://ancrage:s3cret@127.0.0.1:{port}/ess");
    let started = Instant::now();
    let err = PgStore::open(
        &url,
        StoreOptions {
            connect_timeout: Duration::from_millis(400),
            ..options()
        },
    )
    .await
    .expect_err("nothing listens there");
    let StoreError::Unavailable(message) = &err else {
        panic!("not Unavailable: {err:?}");
    };
    assert_eq!(
        message,
        &format!(
            "cannot connect to postgres://ancrage:***@127.0.0.1:{port}/ess: connection refused"
        )
    );
    assert!(!err.to_string().contains("s3cret"));
    // Retried for the connect timeout, not much longer.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn instances_starting_together_migrate_once() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let (a, b, c) = tokio::join!(
        PgStore::open(&db.url, options()),
        PgStore::open(&db.url, options()),
        PgStore::open(&db.url, options()),
    );
    let a = a.expect("first");
    b.expect("second").close().await;
    c.expect("third").close().await;
    assert_eq!(a.revision().await.expect("revision"), 0);
    a.close().await;
    // And again on a migrated database.
    db.open().await.close().await;
    let mut raw = db.raw().await;
    let applied: i64 = sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations")
        .fetch_one(&mut raw)
        .await
        .expect("migrations");
    // Each embedded migration once, whichever instance applied it.
    let embedded = sqlx::migrate!("./migrations/postgres").iter().count();
    assert!(embedded >= 3, "the embedded migrations: {embedded}");
    assert_eq!(usize::try_from(applied).ok(), Some(embedded));
    let name: String = sqlx::query_scalar("SELECT current_setting('application_name')")
        .fetch_one(&mut raw)
        .await
        .expect("setting");
    assert_ne!(name, "ancrage", "a raw connection keeps its own name");
    let _ = raw.close().await;
    let store = db.open().await;
    let (timeout, name): (String, String) = sqlx::query_as(
        "SELECT current_setting('statement_timeout'), current_setting('application_name')",
    )
    .fetch_one(&store.pool)
    .await
    .expect("settings");
    assert_eq!((timeout.as_str(), name.as_str()), ("30s", "ancrage"));
    store.close().await;
    db.drop_now().await;
}

/// The revision moves exactly once per committed transaction that changed actors, at its
/// commit (SQLite moves it once per row: the conformance suite asserts only that it moves);
/// neither the marks nor an import's staging tables outlive their transactions.
#[tokio::test]
async fn the_revision_moves_once_per_transaction_and_nothing_outlives_it() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let before = store.revision().await.expect("revision");
    let three: Vec<_> = ["A", "B", "C"]
        .iter()
        .map(|n| (actor(n, "seed", None), Status::Published))
        .collect();
    let ids = store.insert_actors(&three, None).await.expect("insert");
    assert_eq!(store.revision().await.expect("revision"), before + 1);
    let first = actor("Ressourcerie", "src", Some("r2"));
    let second = actor("Fablab", "src", Some("r3"));
    assert_eq!(
        import(&store, &[(&first, "h1"), (&second, "h2")])
            .await
            .expect("import"),
        counted(2, 0, 0)
    );
    assert_eq!(store.revision().await.expect("revision"), before + 2);
    assert!(
        store
            .set_status(ids[0], Status::Archived)
            .await
            .expect("set")
    );
    assert!(
        !store
            .set_status(ActorId(999_999), Status::Archived)
            .await
            .expect("set")
    );
    assert_eq!(store.revision().await.expect("revision"), before + 3);
    let marks: i64 = sqlx::query_scalar("SELECT count(*) FROM revision_marks")
        .fetch_one(&store.pool)
        .await
        .expect("marks");
    assert_eq!(marks, 0);
    // The import's session (and its temporary tables) ends just after the commit.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let staged: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_class WHERE relname IN ('staged', 'merge_plan')",
        )
        .fetch_one(&store.pool)
        .await
        .expect("staged");
        if staged == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "staging tables left behind");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The sequence is left as one `nextval` after another would leave it.
    let (increment, next): (i64, i64) = sqlx::query_as(
        "SELECT increment_by, nextval('actors_id_seq') FROM pg_sequences WHERE sequencename = 'actors_id_seq'",
    )
    .fetch_one(&store.pool)
    .await
    .expect("sequence");
    let r3 = store
        .actor_by_source("src", "r3")
        .await
        .expect("lookup")
        .expect("r3");
    assert_eq!((increment, next), (1, r3.0 + 1));
    store.close().await;
    db.drop_now().await;
}

/// The staging `COPY` lasts as long as the records take to arrive, longer than the store lets
/// a statement run: a slow import still completes.
#[tokio::test]
async fn an_import_slower_than_the_statement_timeout_still_completes() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = PgStore::open(
        &db.url,
        StoreOptions {
            statement_timeout: Duration::from_millis(500),
            ..options()
        },
    )
    .await
    .expect("open");
    let records: Vec<ActorFields> = (0..12_000)
        .map(|i| {
            let mut a = actor(&format!("Lieu {i}"), "slow", Some(&format!("r{i}")));
            // Some 6 MB in all: the first batches go to the server before the pause.
            a.description = Some("Une description assez longue. ".repeat(16));
            a
        })
        .collect();
    let mut session = store.begin_import().await.expect("begin");
    for (i, r) in records.iter().enumerate() {
        session.stage(record(r, "h")).await.expect("stage");
        if i == 10_000 {
            tokio::time::sleep(Duration::from_millis(1_200)).await;
        }
    }
    let counts = session.commit(run(), false).await.expect("commit");
    assert_eq!(counts, counted(12_000, 0, 0));
    store.close().await;
    db.drop_now().await;
}

/// A source record must name an existing actor, whichever statement writes it (checked once
/// per statement, not by a per-row foreign key); deleting an actor takes its records along.
#[tokio::test]
async fn every_source_record_names_an_actor_and_goes_with_it() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let first = actor("Ressourcerie", "src", Some("r1"));
    let second = actor("Fablab", "src", Some("r2"));
    import(&store, &[(&first, "h1"), (&second, "h2")])
        .await
        .expect("import");
    let r1 = store
        .actor_by_source("src", "r1")
        .await
        .expect("lookup")
        .expect("r1");
    let orphan = sqlx::query(
        "INSERT INTO actor_sources (source, source_ref, actor_id) VALUES ('src', 'x', 424242), ('src', 'y', $1)",
    )
    .bind(r1.0)
    .execute(&store.pool)
    .await
    .map_err(StoreError::from);
    assert!(matches!(orphan, Err(StoreError::Conflict(_))), "{orphan:?}");
    let moved = sqlx::query("UPDATE actor_sources SET actor_id = 424242 WHERE source_ref = 'r2'")
        .execute(&store.pool)
        .await
        .map_err(StoreError::from);
    assert!(matches!(moved, Err(StoreError::Conflict(_))), "{moved:?}");
    assert_eq!(
        store.actor_sources(r1).await.expect("sources").len(),
        1,
        "nothing written by the refused statements"
    );
    sqlx::query("DELETE FROM actors WHERE id = $1")
        .bind(r1.0)
        .execute(&store.pool)
        .await
        .expect("delete");
    assert_eq!(
        store.actor_by_source("src", "r1").await.expect("lookup"),
        None
    );
    assert!(
        store
            .actor_by_source("src", "r2")
            .await
            .expect("lookup")
            .is_some()
    );
    store.close().await;
    db.drop_now().await;
}

/// Neither the listener nor the seed lock takes a connection away from a pool of one.
#[tokio::test]
async fn a_pool_of_one_still_serves_requests_while_listening_and_seeding() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = PgStore::open(
        &db.url,
        StoreOptions {
            pool_size: 1,
            connect_timeout: Duration::from_secs(2),
            ..options()
        },
    )
    .await
    .expect("open");
    let feed = Arc::new(ChangeFeed::new());
    store.listen(feed.clone());
    tokio::time::timeout(Duration::from_secs(5), feed.changed())
        .await
        .expect("listener connected");
    let lock = store.seed_lock().await.expect("lock");
    assert!(!store.seeded("reference").await.expect("seeded"));
    store
        .insert_actors(&[(actor("A", "t", None), Status::Published)], None)
        .await
        .expect("insert");
    assert_eq!(store.revision().await.expect("revision"), 1);
    drop(lock);
    store.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn a_busy_token_row_neither_delays_nor_fails_an_authenticated_read() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let hash = "a".repeat(64);
    assert!(store.create_token("alice", &hash).await.expect("create"));
    assert!(
        !store
            .create_token("alice", &"b".repeat(64))
            .await
            .expect("again")
    );
    let mut raw = db.raw().await;
    raw.execute("BEGIN").await.expect("begin");
    raw.execute("SELECT * FROM admin_tokens FOR UPDATE")
        .await
        .expect("lock");
    let owner = tokio::time::timeout(Duration::from_secs(2), store.token_owner(&hash))
        .await
        .expect("token_owner waited")
        .expect("token_owner");
    assert_eq!(owner.as_deref(), Some("alice"));
    raw.execute("ROLLBACK").await.expect("rollback");
    assert_eq!(store.tokens().await.expect("tokens")[0].last_used_at, None);
    store.token_owner(&hash).await.expect("token_owner");
    assert!(
        store.tokens().await.expect("tokens")[0]
            .last_used_at
            .is_some()
    );
    let _ = raw.close().await;
    store.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn the_listener_signals_changes_and_resynchronises_after_a_lost_connection() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let feed = Arc::new(ChangeFeed::new());
    store.listen(feed.clone());
    assert!(feed.supported());
    let wait = |what: &'static str| {
        let feed = feed.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(10), feed.changed())
                .await
                .unwrap_or_else(|_| panic!("no signal: {what}"));
        }
    };
    wait("first connection").await;
    assert!(feed.connected());
    assert_eq!(feed.connections(), 1);

    store
        .insert_actors(&[(actor("A", "t", None), Status::Published)], None)
        .await
        .expect("insert");
    wait("a committed change").await;

    // The server drops the listener's session: the feed reconnects and signals a resync.
    let mut raw = db.raw().await;
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_one(&mut raw)
    .await
    .expect("terminate");
    assert_eq!(killed, 1);
    wait("the reconnection").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while feed.connections() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(feed.connections(), 2);
    assert!(feed.connected());
    // Changes by hand, in SQL, are heard too.
    raw.execute("UPDATE actors SET name = 'B'")
        .await
        .expect("update");
    wait("a change typed by hand").await;
    let _ = raw.close().await;

    store.close().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while feed.connected() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!feed.connected(), "the listener stops with the store");
    db.drop_now().await;
}

/// Imports `records` in one session (hashes: their positions); returns the time taken and
/// the counts.
async fn import_all<S: Store>(store: &S, records: &[ActorFields]) -> (Duration, MergeCounts) {
    let t = Instant::now();
    let mut session = store.begin_import().await.expect("begin");
    for (i, r) in records.iter().enumerate() {
        let hash = i.to_string();
        session.stage(record(r, &hash)).await.expect("stage");
    }
    let staged = t.elapsed();
    let counts = session.commit(run(), false).await.expect("commit");
    eprintln!(
        "  (staged in {staged:?}, merged in {:?})",
        t.elapsed() - staged
    );
    (t.elapsed(), counts)
}

/// Import figures alone: `ANCRAGE_PG_BENCH_ACTORS` actors generated by SQL (default 200 000),
/// then an import of `ANCRAGE_PG_BENCH_IMPORT` records (default 100 000), half of them
/// updates, and its re-import. Run with `--ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn import_figures() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(default)
    };
    let n = env("ANCRAGE_PG_BENCH_ACTORS", 200_000);
    let size = env("ANCRAGE_PG_BENCH_IMPORT", 100_000);
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        // Our own integer: no input in this text.
        "INSERT INTO actors (name, categories, family, commune_code, lon, lat, lon_e7, lat_e7, precision, source, \
         source_ref) SELECT 'Acteur ' || g, 'ressourcerie', 'association', '44109', -1.5536219, 47.2183716, \
         -15536219, 472183716, 'commune', 'bench', g::text FROM generate_series(0, {n} - 1) g; \
         INSERT INTO actor_sources (source, source_ref, actor_id, fields_hash) \
         SELECT source, source_ref, id, '' FROM actors; ANALYZE actors; ANALYZE actor_sources"
    )))
    .execute(&store.pool)
    .await
    .expect("generate");
    let records: Vec<ActorFields> = (0..size)
        .map(|i| {
            let source_ref = if i % 2 == 0 {
                format!("{i}")
            } else {
                format!("new-{i}")
            };
            actor(&format!("Importé {i}"), "bench", Some(&source_ref))
        })
        .collect();
    eprintln!(
        "import of {size} records among {n}: {:?}",
        import_all(&store, &records).await
    );
    eprintln!(
        "re-import, unchanged: {:?}",
        import_all(&store, &records).await
    );
    store.close().await;
    db.drop_now().await;
}
