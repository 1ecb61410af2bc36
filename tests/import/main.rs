//! Import, export and their guarantees, over real seeded stores on both backends (every test
//! runs on SQLite and on PostgreSQL, and reads the store only through its contract): each
//! format's fixture (written from the format's public documentation) with its expected counts
//! and rejects, idempotent re-imports, one actor per SIRET across sources, dry runs, an import
//! killed midway, the geocoder path against a local BAN-compatible server, round trips
//! through export, and a running server picking up an import without a restart.

#[path = "../support/postgres.rs"]
mod postgres;

use ancrage::config::Settings;
use ancrage::domain::actor::ActorRecord;
use ancrage::domain::{ActorId, GeocodePrecision};
use ancrage::ingest::formats::Format;
use ancrage::ingest::run::{ImportReport, ImportRequest, run};
use ancrage::store::copy::CopyTable;
use ancrage::store::{AnyStore, Store};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The store backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// Generates, for each `async fn name(backend: Backend)`, a module `name` with one test per
/// backend. Where PostgreSQL cannot be started (and only outside CI), the `postgres` test
/// returns at once after a banner on stderr says so.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name(super::Backend::Sqlite).await;
                }

                #[actix_web::test]
                async fn postgres() {
                    if super::postgres::cluster().is_some() {
                        super::$name(super::Backend::Postgres).await;
                    }
                }
            }
        )*
    };
}

static SQLITE_TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
static PG_TEMPLATE: OnceLock<String> = OnceLock::new();

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import/fixtures")
        .join(name)
}

fn settings_for(database_url: &str) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        database_url: database_url.to_owned(),
        demo_actors: 0,
        ..Settings::default()
    }
}

/// Seeds the store at `url` with the reference territories and the real structures, on a
/// runtime of its own (templates are shared by tests running on other runtimes).
fn seed_template(url: String) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let store = AnyStore::open(&url, Default::default())
                .await
                .expect("store");
            ancrage::seed::ensure_seeded(&store, 0).await.expect("seed");
            store.close().await;
        });
    })
    .join()
    .expect("template thread");
}

/// A fresh seeded store on `backend`, copied from a template built once: its URL, the
/// temporary folder of the test (the SQLite file lives there), and the PostgreSQL database
/// to drop at the end.
fn fresh_store(backend: Backend) -> (String, tempfile::TempDir, Option<String>) {
    let dir = tempfile::tempdir().expect("tempdir");
    match backend {
        Backend::Sqlite => {
            let template = &SQLITE_TEMPLATE
                .get_or_init(|| {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let path = dir.path().join("template.db");
                    seed_template(format!("sqlite://{}", path.display()));
                    (dir, path)
                })
                .1;
            let path = dir.path().join("ancrage.db");
            std::fs::copy(template, &path).expect("copy template");
            (format!("sqlite://{}", path.display()), dir, None)
        }
        Backend::Postgres => {
            let cluster = postgres::cluster().expect("PostgreSQL cluster");
            let template = PG_TEMPLATE.get_or_init(|| {
                let name = postgres::Cluster::unique_name("import_template");
                cluster.create_database(&name, None).expect("template");
                seed_template(cluster.url(&name));
                name
            });
            let name = postgres::Cluster::unique_name("import");
            cluster
                .create_database(&name, Some(template))
                .expect("test database");
            (cluster.url(&name), dir, Some(name))
        }
    }
}

/// A test's own seeded store.
struct TestStore {
    dir: tempfile::TempDir,
    url: String,
    store: AnyStore,
    database: Option<String>,
}

impl Drop for TestStore {
    fn drop(&mut self) {
        if let Some(name) = &self.database
            && let Some(cluster) = postgres::cluster()
        {
            cluster.drop_database(name);
        }
    }
}

/// What the tests compare of an actor: (name, commune, precision, lon, lat, categories).
type Row = (String, String, String, f64, f64, String);

impl TestStore {
    async fn new(backend: Backend) -> Self {
        let (url, dir, database) = fresh_store(backend);
        let store = AnyStore::open(&url, Default::default())
            .await
            .expect("store");
        Self {
            dir,
            url,
            store,
            database,
        }
    }

    fn request(&self, format: Format, input: PathBuf, mapping: Option<&str>) -> ImportRequest {
        ImportRequest {
            format,
            input,
            units: None,
            geo: None,
            mapping: mapping.map(fixture),
            source: None,
            dry_run: false,
            rejects: Some(self.dir.path().join("rejects.csv")),
            geocoder: None,
            progress: false,
        }
    }

    async fn import(&self, req: &ImportRequest) -> ImportReport {
        let (catalog, _) = ancrage::seed::ensure_seeded(&self.store, 0)
            .await
            .expect("seeded");
        let territories = ancrage::seed::load_territories(&self.store)
            .await
            .expect("territories");
        run(&self.store, catalog, territories, req)
            .await
            .expect("import")
    }

    fn rejects(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("rejects.csv")).expect("rejects file")
    }

    /// Number of actors in the store, whatever their status.
    async fn actor_count(&self) -> u64 {
        self.store
            .count_rows(CopyTable::Actors)
            .await
            .expect("count")
    }

    /// Every actor, whatever its status, in id order.
    async fn all(&self) -> Vec<ActorRecord> {
        let page = self
            .store
            .admin_actors(None, None, i64::from(u32::MAX), 0)
            .await
            .expect("actors");
        let mut records = page.records;
        records.sort_by_key(|r| r.id);
        assert_eq!(records.len() as u64, self.actor_count().await);
        records
    }

    /// The actors of one source (the `source` field), in `source_ref` order.
    async fn of_source(&self, source: &str) -> Vec<ActorRecord> {
        let mut records: Vec<_> = self
            .all()
            .await
            .into_iter()
            .filter(|r| r.fields.source == source)
            .collect();
        records.sort_by(|a, b| a.fields.source_ref.cmp(&b.fields.source_ref));
        records
    }

    /// Every row of the actors table as the store dumps it (keyed by column name).
    async fn dumped_actors(&self) -> Vec<serde_json::Value> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<String>>(4);
        let collect = async {
            let mut rows: Vec<serde_json::Value> = Vec::new();
            while let Some(batch) = rx.recv().await {
                for row in batch {
                    rows.push(serde_json::from_str(&row).expect("dumped row"));
                }
            }
            rows
        };
        let (dumped, rows) = tokio::join!(self.store.dump(CopyTable::Actors, tx), collect);
        dumped.expect("dump");
        rows
    }

    /// The actor that a source's record describes, found through the sources it came from.
    async fn record(&self, source: &str, source_ref: &str) -> ActorRecord {
        let id: ActorId = self
            .store
            .actor_by_source(source, source_ref)
            .await
            .expect("lookup")
            .unwrap_or_else(|| panic!("no actor for {source}/{source_ref}"));
        self.store
            .actor(id)
            .await
            .expect("actor")
            .expect("the actor exists")
    }

    /// One actor of a source, by its reference.
    async fn actor(&self, source: &str, source_ref: &str) -> Row {
        let r = self.record(source, source_ref).await;
        (
            r.fields.name,
            r.fields.commune.to_string(),
            r.fields.precision.as_str().to_owned(),
            r.fields.location.lon(),
            r.fields.location.lat(),
            r.fields.categories.join(" "),
        )
    }
}

fn counts(r: &ImportReport) -> (u64, u64, u64, u64, u64) {
    let c = &r.counts;
    (c.read, c.created, c.updated, c.unchanged, c.rejected)
}

async fn a_windows_1252_csv_imports_with_its_mapping_and_reports_each_rejected_line(
    backend: Backend,
) {
    let t = TestStore::new(backend).await;
    let before = t.actor_count().await;
    let req = t.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    );
    let report = t.import(&req).await;
    assert_eq!(counts(&report), (8, 5, 0, 0, 3), "{}", report.render());
    assert_eq!(report.flagged_locations, 2);
    assert_eq!(t.actor_count().await, before + 5);

    // Accents survive the Windows-1252 decoding; decimal commas are read.
    let (name, commune, precision, lon, lat, cats) = t.actor("import", "L1").await;
    assert_eq!(name, "Épicerie du Clos Toreau");
    assert_eq!((commune.as_str(), precision.as_str()), ("44109", "address"));
    assert!((lon + 1.536).abs() < 1e-9 && (lat - 47.195).abs() < 1e-9);
    assert_eq!(cats, "epicerie-solidaire");
    // No INSEE code: found from postcode and name, placed at the commune's point.
    let (_, commune, precision, ..) = t.actor("import", "L2").await;
    assert_eq!((commune.as_str(), precision.as_str()), ("49007", "commune"));
    // Coordinates in Lille for a Nantes address: flagged, and the commune's point used.
    let (_, commune, precision, lon, ..) = t.actor("import", "L5").await;
    assert_eq!((commune.as_str(), precision.as_str()), ("44109", "commune"));
    assert!(lon < 0.0, "not left in Lille: {lon}");
    assert_eq!(
        t.dumped_actors()
            .await
            .iter()
            .filter(|row| row["location_flag"] == "outside-commune")
            .count(),
        2
    );
    // Several mapped categories in one cell.
    let (.., cats) = t.actor("import", "L7").await;
    assert_eq!(cats, "coworking tiers-lieux ressourcerie");

    let rejects = t.rejects();
    assert!(rejects.starts_with("\u{feff}line;source_ref;kind;reason"));
    for (line, reason) in [
        ("4;\"L3\";rejected", "a name is required"),
        ("5;\"L4\";rejected", "at least one category"),
        ("7;\"L6\";rejected", "HTML is not accepted"),
        ("9;\"L8\";warning", "not a phone number"),
    ] {
        assert!(
            rejects
                .lines()
                .any(|l| l.starts_with(line) && l.contains(reason)),
            "no line '{line}…{reason}' in:\n{rejects}"
        );
    }
}

async fn re_importing_is_idempotent_and_a_changed_row_updates_its_actor(backend: Backend) {
    let t = TestStore::new(backend).await;
    let req = t.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    );
    t.import(&req).await;
    let after_first = t.actor_count().await;
    let again = t.import(&req).await;
    assert_eq!(counts(&again), (8, 0, 0, 5, 3), "{}", again.render());
    assert_eq!(t.actor_count().await, after_first);

    // The same file with one name changed, now in UTF-8.
    let original = std::fs::read(fixture("lieux-cp1252.csv")).expect("fixture");
    // The fixture uses no byte of 0x80–0x9F: Latin-1 decoding is its Windows-1252 reading.
    let text: String = original.iter().map(|&b| char::from(b)).collect::<String>();
    let text = text.replace("Recyclerie Angevine", "Recyclerie Angevine et Solidaire");
    let changed = t.dir.path().join("lieux-modifie.csv");
    std::fs::write(&changed, text.as_bytes()).expect("write");
    let mut req2 = req.clone();
    req2.input = changed;
    let third = t.import(&req2).await;
    assert_eq!(counts(&third), (8, 0, 1, 4, 3), "{}", third.render());
    let (name, ..) = t.actor("import", "L2").await;
    assert_eq!(name, "Recyclerie Angevine et Solidaire");
    assert_eq!(t.actor_count().await, after_first);
    assert_eq!(t.store.import_count().await.expect("runs"), 3);
}

async fn a_geojson_collection_imports_points_and_rejects_other_geometries(backend: Backend) {
    let t = TestStore::new(backend).await;
    let req = t.request(
        Format::Geojson,
        fixture("lieux.geojson"),
        Some("lieux.geojson.mapping.toml"),
    );
    let report = t.import(&req).await;
    assert_eq!(counts(&report), (4, 3, 0, 0, 1), "{}", report.render());
    assert!(
        t.rejects()
            .contains("\"G3\";rejected;\"geometry: a Polygon")
    );
    let (_, commune, precision, lon, lat, cats) = t.actor("import", "G1").await;
    assert_eq!(
        (commune.as_str(), precision.as_str(), cats.as_str()),
        ("69266", "address", "friperie-solidaire")
    );
    assert!((lon - 4.88).abs() < 1e-9 && (lat - 45.7667).abs() < 1e-9);
    // Nested properties through dotted paths.
    let g1 = t.record("import", "G1").await;
    assert_eq!(g1.fields.email.as_deref(), Some("contact@exemple.org"));
    // No geometry: the commune's point.
    let (_, commune, precision, ..) = t.actor("import", "G4").await;
    assert_eq!((commune.as_str(), precision.as_str()), ("35238", "commune"));
}

async fn a_gogocarto_export_maps_categories_hours_and_statuses(backend: Backend) {
    let t = TestStore::new(backend).await;
    let req = t.request(
        Format::Gogocarto,
        fixture("gogocarto.json"),
        Some("gogocarto.mapping.toml"),
    );
    let report = t.import(&req).await;
    assert_eq!(counts(&report), (4, 3, 0, 0, 1), "{}", report.render());
    let (name, commune, _, _, _, cats) = t.actor("gogocarto", "aB3").await;
    assert_eq!(name, "L'Épicerie Vrac Solidaire");
    assert_eq!(commune, "59350");
    assert_eq!(cats, "alimentation epicerie-solidaire");
    let ab3 = t.record("gogocarto", "aB3").await;
    assert_eq!(
        ab3.fields.opening_hours.as_deref(),
        Some("Tu 10:00-19:00; Sa 09:00-13:00")
    );
    assert_eq!(ab3.fields.phone.as_deref(), Some("03 20 00 00 00"));
    assert_eq!(ab3.status.as_str(), "published");
    let status = t.record("gogocarto", "cD4").await.status;
    assert_eq!(
        status.as_str(),
        "archived",
        "GoGoCarto status -1 is a deleted element"
    );
    let (_, commune, precision, ..) = t.actor("gogocarto", "eF5").await;
    assert_eq!((commune.as_str(), precision.as_str()), ("49007", "commune"));
    assert!(t.rejects().contains("'Divers' is not in the mapping"));
}

async fn the_mediation_numerique_schema_imports_typologies_and_lists(backend: Backend) {
    let t = TestStore::new(backend).await;
    let req = t.request(
        Format::MediationNumerique,
        fixture("mediation-numerique.csv"),
        None,
    );
    let report = t.import(&req).await;
    assert_eq!(counts(&report), (3, 3, 0, 0, 0), "{}", report.render());
    let mn1 = t.record("mediation-numerique", "mn-1").await.fields;
    assert_eq!(
        (
            mn1.email.as_deref(),
            mn1.family.as_str(),
            mn1.siret.as_ref().map(ToString::to_string)
        ),
        (
            Some("mediation@exemple.org"),
            "association",
            Some("77567227200017".to_owned())
        )
    );
    let (_, commune, precision, _, _, cats) = t.actor("mediation-numerique", "mn-2").await;
    assert_eq!((commune.as_str(), precision.as_str()), ("49007", "commune"));
    assert_eq!(cats, "mediation-numerique fablab tiers-lieux");
    let kinds: Vec<_> = t
        .record("mediation-numerique", "mn-2")
        .await
        .fields
        .kinds
        .slugs()
        .collect();
    assert_eq!(kinds, ["tiers-lieu"]);
    assert!(t.rejects().contains("'abc' is not a number"));
}

fn sirene_request(t: &TestStore) -> ImportRequest {
    let mut req = t.request(
        Format::Sirene,
        fixture("sirene/StockEtablissement.csv"),
        None,
    );
    req.units = Some(fixture("sirene/StockUniteLegale.csv"));
    req.geo = Some(fixture("sirene/GeolocalisationEtablissement.csv"));
    req
}

async fn sirene_keeps_active_diffusible_ess_establishments_and_never_natural_persons(
    backend: Backend,
) {
    let t = TestStore::new(backend).await;
    let report = t.import(&sirene_request(&t)).await;
    assert_eq!(counts(&report), (9, 3, 0, 0, 0), "{}", report.render());
    let skipped: Vec<(&str, u64)> = report.skipped.iter().map(|(k, v)| (*k, *v)).collect();
    assert_eq!(
        skipped,
        vec![
            ("activity (NAF) not mapped to a category", 1),
            ("closed establishment", 1),
            ("natural person (never published)", 1),
            ("not a legal unit of the ESS", 1),
            ("not diffusible (never published)", 2),
        ]
    );
    // x_longitude / y_latitude used as given.
    let (name, commune, precision, lon, lat, cats) = t.actor("sirene", "77567227200017").await;
    assert_eq!(name, "LE JARDIN DU CLOS TOREAU");
    assert_eq!(
        (commune.as_str(), precision.as_str(), cats.as_str()),
        ("44109", "address", "centre-social")
    );
    assert!((lon + 1.536).abs() < 1e-6 && (lat - 47.195).abs() < 1e-6);
    // Only Lambert-93 x/y: reprojected (to about a metre) and "street" from qualite_xy 12.
    let mut sirets: Vec<String> = t
        .of_source("sirene")
        .await
        .iter()
        .filter_map(|r| r.fields.siret.as_ref().map(ToString::to_string))
        .collect();
    sirets.sort();
    assert_eq!(sirets.len(), 3);
    // Sorted by SIRET: the cooperative's Lille establishment, then the association's two.
    let (_, commune, precision, lon, lat, _) = t.actor("sirene", &sirets[2]).await;
    assert_eq!((commune.as_str(), precision.as_str()), ("49007", "street"));
    assert!(
        (lon + 0.5519).abs() < 2e-5 && (lat - 47.4698).abs() < 2e-5,
        "{lon} {lat}"
    );
    let family = t.record("sirene", &sirets[2]).await.fields.family;
    assert_eq!(family.as_str(), "association");
    // Street types in words, the unit's name when the establishment has none, commune point.
    let (name, commune, precision, ..) = t.actor("sirene", &sirets[0]).await;
    assert_eq!(
        (name.as_str(), commune.as_str(), precision.as_str()),
        ("LA FABRIQUE COOPERATIVE", "59350", "commune")
    );
    let street = t.record("sirene", &sirets[0]).await.fields.street;
    assert_eq!(street.as_deref(), Some("40 Boulevard VICTOR HUGO"));
    // Natural persons and non-diffusible records are nowhere in the store.
    assert_eq!(
        t.all()
            .await
            .iter()
            .filter(|r| {
                let street = r.fields.street.as_deref().unwrap_or_default();
                r.fields.name.contains("DISCRETE")
                    || street.contains("PRIVEE")
                    || street.contains("CACHEE")
            })
            .count(),
        0
    );
}

async fn a_siret_seen_in_two_sources_is_one_actor_with_both_sources(backend: Backend) {
    let t = TestStore::new(backend).await;
    let first = t
        .import(&t.request(
            Format::MediationNumerique,
            fixture("mediation-numerique.csv"),
            None,
        ))
        .await;
    assert_eq!(first.counts.created, 3);
    let second = t.import(&sirene_request(&t)).await;
    assert_eq!(
        (second.counts.created, second.counts.updated),
        (2, 1),
        "{}",
        second.render()
    );
    assert_eq!(
        t.all()
            .await
            .iter()
            .filter(|r| {
                r.fields
                    .siret
                    .as_ref()
                    .is_some_and(|s| s.to_string() == "77567227200017")
            })
            .count(),
        1
    );
    let id = t.record("sirene", "77567227200017").await.id;
    let mut sources: Vec<String> = t
        .store
        .actor_sources(id)
        .await
        .expect("sources")
        .into_iter()
        .map(|(source, _)| source)
        .collect();
    sources.sort();
    assert_eq!(sources, vec!["mediation-numerique", "sirene"]);
    // The first source's values stay; the second added its category.
    let (name, .., cats) = t.actor("sirene", "77567227200017").await;
    assert_eq!(name, "Jardin numérique du Clos Toreau");
    assert_eq!(cats, "mediation-numerique centre-social");
    // Idempotent across sources too.
    let again = t.import(&sirene_request(&t)).await;
    assert_eq!((again.counts.created, again.counts.unchanged), (0, 3));
}

async fn a_dry_run_counts_exactly_and_writes_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    let before = t.actor_count().await;
    let revision = t.store.revision().await.expect("revision");
    let mut req = t.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    );
    req.dry_run = true;
    let report = t.import(&req).await;
    assert!(report.dry_run);
    assert_eq!(counts(&report), (8, 5, 0, 0, 3));
    assert_eq!(t.actor_count().await, before);
    assert_eq!(t.store.import_count().await.expect("runs"), 0);
    assert_eq!(t.store.revision().await.expect("revision"), revision);
}

async fn bad_inputs_fail_clearly_and_write_nothing(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (catalog, _) = ancrage::seed::ensure_seeded(&t.store, 0)
        .await
        .expect("seeded");
    let territories = ancrage::seed::load_territories(&t.store)
        .await
        .expect("territories");
    let before = t.actor_count().await;
    // A mapping naming a column the file does not have.
    let bad_mapping = t.dir.path().join("bad.toml");
    std::fs::write(&bad_mapping, "[fields]\nname = \"Nom\"\nstreet = \"Rue\"\n").expect("write");
    let mut req = t.request(Format::Csv, fixture("lieux-cp1252.csv"), None);
    req.mapping = Some(bad_mapping);
    let e = run(&t.store, catalog.clone(), territories.clone(), &req)
        .await
        .expect_err("missing column");
    assert!(e.to_string().contains("missing column(s) Rue"), "{e}");
    // Not JSON.
    let req = t.request(Format::Geojson, fixture("lieux-cp1252.csv"), None);
    let e = run(&t.store, catalog.clone(), territories.clone(), &req)
        .await
        .expect_err("not JSON");
    assert!(e.to_string().contains("not valid JSON"), "{e}");
    // SIRENE without its units file.
    let req = t.request(
        Format::Sirene,
        fixture("sirene/StockEtablissement.csv"),
        None,
    );
    let e = run(&t.store, catalog, territories, &req)
        .await
        .expect_err("no units");
    assert!(e.to_string().contains("--units"), "{e}");
    assert_eq!(t.actor_count().await, before);
}

/// Writes a CSV in the export's own column names, `n` rows spread over a few communes.
fn write_native_csv(path: &Path, n: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(out, "source_ref;name;categories;family;commune;lon;lat").expect("write");
    let places = [
        ("44109", -1.5536, 47.2184),
        ("49007", -0.5519, 47.4698),
        ("59350", 3.0573, 50.6292),
    ];
    for i in 0..n {
        let (code, lon, lat) = places[i % places.len()];
        let d = (i % 100) as f64 * 1e-4;
        writeln!(
            out,
            "r{i};Lieu {i};coworking;association;{code};{};{}",
            lon + d,
            lat + d
        )
        .expect("write");
    }
}

async fn an_import_killed_midway_loses_nothing_and_can_be_run_again(backend: Backend) {
    let t = TestStore::new(backend).await;
    let input = t.dir.path().join("big.csv");
    let rows = 200_000;
    write_native_csv(&input, rows);
    let count = || async {
        (
            t.actor_count().await,
            t.store.import_count().await.expect("runs"),
        )
    };
    let before = count().await;
    let command = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_ancrage"));
        c.args(["--database-url", &t.url, "import", "--format", "csv"])
            .arg(&input)
            .env("ANCRAGE_DEMO_ACTORS", "0")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    };
    let mut child = command().spawn().expect("start the import");
    // Wait until the records are staged and the merge into the store begins (the moment the
    // store is written), then kill without warning.
    let stderr = child.stderr.take().expect("stderr");
    let lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
    let mut merging = false;
    for line in lines {
        if line.expect("line").contains("merging") {
            merging = true;
            break;
        }
    }
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    assert!(merging, "the import announces its merge");
    assert!(!status.success(), "killed before it finished");
    assert_eq!(
        count().await,
        before,
        "nothing of the killed import is in the store"
    );

    let out = command().output().expect("run again");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains(&format!("read {rows}, created {rows}")),
        "{report}"
    );
    let after = count().await;
    assert_eq!(after, (before.0 + rows as u64, before.1 + 1));
}

/// A tiny BAN-compatible `/search/` server answering one known address; counts requests.
fn ban_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).map_or(true, |n| n == 0) || h == "\r\n" {
                    break;
                }
            }
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let known = request_line.starts_with("GET /search/?")
                && request_line.contains("Montaigne")
                && request_line.contains("citycode=49007");
            let body = if known {
                r#"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[-0.5402,47.4731]},"properties":{"label":"5 Rue Montaigne 49100 Angers","score":0.93,"type":"housenumber","citycode":"49007"}}]}"#
            } else {
                r#"{"type":"FeatureCollection","features":[]}"#
            };
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (url, hits)
}

async fn rows_without_coordinates_are_geocoded_by_a_ban_compatible_service(backend: Backend) {
    let t = TestStore::new(backend).await;
    let (url, hits) = ban_server();
    let input = t.dir.path().join("adresses.csv");
    std::fs::write(
        &input,
        "source_ref;name;categories;family;street;postcode;commune\n\
         a1;Atelier Montaigne;atelier-velo;association;5 rue Montaigne;49100;49007\n\
         a2;Adresse introuvable;atelier-velo;association;999 chemin de nulle part;49100;49007\n\
         a3;Sans adresse;atelier-velo;association;;49100;49007\n",
    )
    .expect("write");
    let mut req = t.request(Format::Csv, input, None);
    req.geocoder = Some(url);
    let report = t.import(&req).await;
    assert_eq!(counts(&report), (3, 3, 0, 0, 0), "{}", report.render());
    let (_, commune, precision, lon, lat, _) = t.actor("import", "a1").await;
    assert_eq!(
        (commune.as_str(), precision.as_str()),
        ("49007", GeocodePrecision::Address.as_str())
    );
    assert!((lon + 0.5402).abs() < 1e-9 && (lat - 47.4731).abs() < 1e-9);
    let (_, _, precision, ..) = t.actor("import", "a2").await;
    assert_eq!(precision, "commune", "no match: the commune's point");
    assert!(t.rejects().contains("geocoder: no match"));
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "no request without a street"
    );

    // An unreachable geocoder stops the import: nothing written.
    let before = t.actor_count().await;
    let mut req = t.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    );
    req.geocoder = Some("http://127.0.0.1:9".into());
    let (catalog, _) = ancrage::seed::ensure_seeded(&t.store, 0)
        .await
        .expect("seeded");
    let territories = ancrage::seed::load_territories(&t.store)
        .await
        .expect("territories");
    let e = run(&t.store, catalog, territories, &req)
        .await
        .expect_err("geocoder down");
    assert!(e.to_string().contains("geocoder http://127.0.0.1:9"), "{e}");
    assert_eq!(t.actor_count().await, before);
}

/// Fields compared by the round trips: everything but ids, timestamps and the source name.
async fn imported(t: &TestStore, source: &str) -> Vec<serde_json::Value> {
    t.of_source(source)
        .await
        .into_iter()
        .map(|r| {
            let mut v = serde_json::to_value(&r.fields).expect("json");
            v.as_object_mut().expect("object").remove("source");
            v["status"] = r.status.as_str().into();
            v
        })
        .collect()
}

async fn csv_and_geojson_exports_import_back_unchanged(backend: Backend) {
    let a = TestStore::new(backend).await;
    a.import(&a.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    ))
    .await;
    a.import(&a.request(
        Format::Gogocarto,
        fixture("gogocarto.json"),
        Some("gogocarto.mapping.toml"),
    ))
    .await;
    let records: Vec<_> = a
        .all()
        .await
        .into_iter()
        .filter(|r| ["import", "gogocarto"].contains(&r.fields.source.as_str()))
        .collect();
    assert_eq!(records.len(), 8);
    let mut original = Vec::new();
    for source in ["import", "gogocarto"] {
        original.extend(imported(&a, source).await);
    }
    original.sort_by_key(|v| v["source_ref"].as_str().unwrap_or_default().to_owned());

    let dir = tempfile::tempdir().expect("tempdir");
    let csv_path = dir.path().join("export.csv");
    let mut csv = Vec::new();
    ancrage::export::csv_header(&mut csv).expect("header");
    ancrage::export::csv_rows(&mut csv, &records).expect("rows");
    std::fs::write(&csv_path, &csv).expect("write");
    let geo_path = dir.path().join("export.geojson");
    let mut geo = Vec::new();
    let mut first = true;
    ancrage::export::geojson_start(&mut geo).expect("start");
    ancrage::export::geojson_features(&mut geo, &records, &mut first).expect("features");
    ancrage::export::geojson_end(&mut geo).expect("end");
    std::fs::write(&geo_path, &geo).expect("write");

    for (format, path) in [(Format::Csv, csv_path), (Format::Geojson, geo_path)] {
        let b = TestStore::new(backend).await;
        let mut req = b.request(format, path, None);
        req.source = Some("roundtrip".into());
        let report = b.import(&req).await;
        assert_eq!(
            counts(&report),
            (8, 8, 0, 0, 0),
            "{format}: {}",
            report.render()
        );
        let mut back = imported(&b, "roundtrip").await;
        back.sort_by_key(|v| v["source_ref"].as_str().unwrap_or_default().to_owned());
        assert_eq!(back, original, "{format} round trip");
    }
}

async fn the_mediation_numerique_export_imports_back_with_what_the_schema_carries(
    backend: Backend,
) {
    let a = TestStore::new(backend).await;
    a.import(&a.request(
        Format::MediationNumerique,
        fixture("mediation-numerique.csv"),
        None,
    ))
    .await;
    let records = a.of_source("mediation-numerique").await;
    let mut out = Vec::new();
    ancrage::export::mediation_header(&mut out).expect("header");
    ancrage::export::mediation_rows(&mut out, &records).expect("rows");
    let path = a.dir.path().join("export-mn.csv");
    std::fs::write(&path, &out).expect("write");
    let b = TestStore::new(backend).await;
    let report = b
        .import(&b.request(Format::MediationNumerique, path, None))
        .await;
    assert_eq!(counts(&report), (3, 3, 0, 0, 0), "{}", report.render());
    let original = imported(&a, "mediation-numerique").await;
    let back = imported(&b, "mediation-numerique").await;
    assert_eq!(back, original);
}

async fn a_running_server_sees_an_import_without_a_restart(backend: Backend) {
    let t = TestStore::new(backend).await;
    let app = ancrage::startup::Application::build(settings_for(&t.url))
        .await
        .expect("server");
    let before = app.state().snapshot.load().actors.len();
    t.import(&t.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    ))
    .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let now = app.state().snapshot.load().actors.len();
        if now == before + 5 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {now} actors, expected {}",
            before + 5
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

on_both_stores!(
    a_windows_1252_csv_imports_with_its_mapping_and_reports_each_rejected_line,
    re_importing_is_idempotent_and_a_changed_row_updates_its_actor,
    a_geojson_collection_imports_points_and_rejects_other_geometries,
    a_gogocarto_export_maps_categories_hours_and_statuses,
    the_mediation_numerique_schema_imports_typologies_and_lists,
    sirene_keeps_active_diffusible_ess_establishments_and_never_natural_persons,
    a_siret_seen_in_two_sources_is_one_actor_with_both_sources,
    a_dry_run_counts_exactly_and_writes_nothing,
    bad_inputs_fail_clearly_and_write_nothing,
    an_import_killed_midway_loses_nothing_and_can_be_run_again,
    rows_without_coordinates_are_geocoded_by_a_ban_compatible_service,
    csv_and_geojson_exports_import_back_unchanged,
    the_mediation_numerique_export_imports_back_with_what_the_schema_carries,
    a_running_server_sees_an_import_without_a_restart,
);
