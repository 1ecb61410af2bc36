//! Import, export and their guarantees, over real seeded stores: each format's fixture
//! (written from the format's public documentation) with its expected counts and rejects,
//! idempotent re-imports, one actor per SIRET across sources, dry runs, an import killed
//! midway, the geocoder path against a local BAN-compatible server, round trips through
//! export, and a running server picking up an import without a restart.

use ancrage::config::Settings;
use ancrage::domain::GeocodePrecision;
use ancrage::ingest::formats::Format;
use ancrage::ingest::run::{ImportReport, ImportRequest, run};
use ancrage::store::{AnyStore, Store};
use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import/fixtures")
        .join(name)
}

fn settings_for(path: &Path) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        database_url: format!("sqlite://{}", path.display()),
        demo_actors: 0,
        ..Settings::default()
    }
}

/// A store seeded with the reference territories and the real structures, built once.
fn template() -> PathBuf {
    TEMPLATE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("template.db");
            let url = settings_for(&path).database_url;
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
            (dir, path)
        })
        .1
        .clone()
}

/// A copy of the template store.
struct TestStore {
    dir: tempfile::TempDir,
    path: PathBuf,
    store: AnyStore,
    pool: SqlitePool,
}

impl TestStore {
    async fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ancrage.db");
        std::fs::copy(template(), &path).expect("copy template");
        let url = format!("sqlite://{}", path.display());
        let store = AnyStore::open(&url, Default::default())
            .await
            .expect("store");
        let pool = SqlitePool::connect(&url).await.expect("pool");
        Self {
            dir,
            path,
            store,
            pool,
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

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .fetch_one(&self.pool)
            .await
            .expect(sql)
    }

    /// The records of the actors whose ids a query selects, in its order.
    async fn records(&self, ids_sql: &str) -> Vec<ancrage::domain::actor::ActorRecord> {
        let ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(ids_sql.to_owned()))
            .fetch_all(&self.pool)
            .await
            .expect(ids_sql);
        let ids: Vec<_> = ids.into_iter().map(ancrage::domain::ActorId).collect();
        self.store.actor_records(&ids).await.expect("records")
    }

    /// One actor of a source, by its reference: (name, commune, precision, lon, lat).
    async fn actor(
        &self,
        source: &str,
        source_ref: &str,
    ) -> (String, String, String, f64, f64, String) {
        sqlx::query_as(
            "SELECT a.name, a.commune_code, a.precision, a.lon, a.lat, a.categories FROM actors a \
             JOIN actor_sources s ON s.actor_id = a.id WHERE s.source = ? AND s.source_ref = ?",
        )
        .bind(source)
        .bind(source_ref)
        .fetch_one(&self.pool)
        .await
        .unwrap_or_else(|e| panic!("actor {source}/{source_ref}: {e}"))
    }
}

fn counts(r: &ImportReport) -> (u64, u64, u64, u64, u64) {
    let c = &r.counts;
    (c.read, c.created, c.updated, c.unchanged, c.rejected)
}

#[tokio::test]
async fn a_windows_1252_csv_imports_with_its_mapping_and_reports_each_rejected_line() {
    let t = TestStore::new().await;
    let before = t.count("SELECT count(*) FROM actors").await;
    let req = t.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    );
    let report = t.import(&req).await;
    assert_eq!(counts(&report), (8, 5, 0, 0, 3), "{}", report.render());
    assert_eq!(report.flagged_locations, 2);
    assert_eq!(t.count("SELECT count(*) FROM actors").await, before + 5);

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
        t.count("SELECT count(*) FROM actors WHERE location_flag = 'outside-commune'")
            .await,
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

#[tokio::test]
async fn re_importing_is_idempotent_and_a_changed_row_updates_its_actor() {
    let t = TestStore::new().await;
    let req = t.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    );
    t.import(&req).await;
    let after_first = t.count("SELECT count(*) FROM actors").await;
    let again = t.import(&req).await;
    assert_eq!(counts(&again), (8, 0, 0, 5, 3), "{}", again.render());
    assert_eq!(t.count("SELECT count(*) FROM actors").await, after_first);

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
    assert_eq!(t.count("SELECT count(*) FROM actors").await, after_first);
    assert_eq!(t.count("SELECT count(*) FROM import_runs").await, 3);
}

#[tokio::test]
async fn a_geojson_collection_imports_points_and_rejects_other_geometries() {
    let t = TestStore::new().await;
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
    let email: String = sqlx::query_scalar(
        "SELECT email FROM actors a JOIN actor_sources s ON s.actor_id = a.id WHERE s.source_ref = 'G1'",
    )
    .fetch_one(&t.pool)
    .await
    .expect("email");
    assert_eq!(email, "contact@exemple.org");
    // No geometry: the commune's point.
    let (_, commune, precision, ..) = t.actor("import", "G4").await;
    assert_eq!((commune.as_str(), precision.as_str()), ("35238", "commune"));
}

#[tokio::test]
async fn a_gogocarto_export_maps_categories_hours_and_statuses() {
    let t = TestStore::new().await;
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
    let (hours, phone, status): (String, String, String) = sqlx::query_as(
        "SELECT opening_hours, phone, status FROM actors WHERE source = 'gogocarto' AND source_ref = 'aB3'",
    )
    .fetch_one(&t.pool)
    .await
    .expect("row");
    assert_eq!(hours, "Tu 10:00-19:00; Sa 09:00-13:00");
    assert_eq!(phone, "03 20 00 00 00");
    assert_eq!(status, "published");
    let status: String = sqlx::query_scalar("SELECT status FROM actors WHERE source_ref = 'cD4'")
        .fetch_one(&t.pool)
        .await
        .expect("row");
    assert_eq!(
        status, "archived",
        "GoGoCarto status -1 is a deleted element"
    );
    let (_, commune, precision, ..) = t.actor("gogocarto", "eF5").await;
    assert_eq!((commune.as_str(), precision.as_str()), ("49007", "commune"));
    assert!(t.rejects().contains("'Divers' is not in the mapping"));
}

#[tokio::test]
async fn the_mediation_numerique_schema_imports_typologies_and_lists() {
    let t = TestStore::new().await;
    let req = t.request(
        Format::MediationNumerique,
        fixture("mediation-numerique.csv"),
        None,
    );
    let report = t.import(&req).await;
    assert_eq!(counts(&report), (3, 3, 0, 0, 0), "{}", report.render());
    let (email, family, siret): (String, String, String) = sqlx::query_as(
        "SELECT email, family, siret FROM actors WHERE source = 'mediation-numerique' AND source_ref = 'mn-1'",
    )
    .fetch_one(&t.pool)
    .await
    .expect("mn-1");
    assert_eq!(
        (email.as_str(), family.as_str(), siret.as_str()),
        ("mediation@exemple.org", "association", "77567227200017")
    );
    let (_, commune, precision, _, _, cats) = t.actor("mediation-numerique", "mn-2").await;
    assert_eq!((commune.as_str(), precision.as_str()), ("49007", "commune"));
    assert_eq!(cats, "mediation-numerique fablab tiers-lieux");
    let kinds: i64 =
        sqlx::query_scalar("SELECT is_tiers_lieu FROM actors WHERE source_ref = 'mn-2'")
            .fetch_one(&t.pool)
            .await
            .expect("row");
    assert_eq!(kinds, 1);
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

#[tokio::test]
async fn sirene_keeps_active_diffusible_ess_establishments_and_never_natural_persons() {
    let t = TestStore::new().await;
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
    let sirets: Vec<String> =
        sqlx::query_scalar("SELECT siret FROM actors WHERE source = 'sirene' ORDER BY siret")
            .fetch_all(&t.pool)
            .await
            .expect("sirets");
    assert_eq!(sirets.len(), 3);
    // Sorted by SIRET: the cooperative's Lille establishment, then the association's two.
    let (_, commune, precision, lon, lat, _) = t.actor("sirene", &sirets[2]).await;
    assert_eq!((commune.as_str(), precision.as_str()), ("49007", "street"));
    assert!(
        (lon + 0.5519).abs() < 2e-5 && (lat - 47.4698).abs() < 2e-5,
        "{lon} {lat}"
    );
    let family: String = sqlx::query_scalar("SELECT family FROM actors WHERE siret = ?")
        .bind(&sirets[2])
        .fetch_one(&t.pool)
        .await
        .expect("family");
    assert_eq!(family, "association");
    // Street types in words, the unit's name when the establishment has none, commune point.
    let (name, commune, precision, ..) = t.actor("sirene", &sirets[0]).await;
    assert_eq!(
        (name.as_str(), commune.as_str(), precision.as_str()),
        ("LA FABRIQUE COOPERATIVE", "59350", "commune")
    );
    let street: String = sqlx::query_scalar("SELECT street FROM actors WHERE siret = ?")
        .bind(&sirets[0])
        .fetch_one(&t.pool)
        .await
        .expect("street");
    assert_eq!(street, "40 Boulevard VICTOR HUGO");
    // Natural persons and non-diffusible records are nowhere in the store.
    assert_eq!(
        t.count("SELECT count(*) FROM actors WHERE name LIKE '%DISCRETE%' OR street LIKE '%PRIVEE%' OR street LIKE '%CACHEE%'").await,
        0
    );
}

#[tokio::test]
async fn a_siret_seen_in_two_sources_is_one_actor_with_both_sources() {
    let t = TestStore::new().await;
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
        t.count("SELECT count(*) FROM actors WHERE siret = '77567227200017'")
            .await,
        1
    );
    let sources: Vec<String> = sqlx::query_scalar(
        "SELECT s.source FROM actor_sources s JOIN actors a ON a.id = s.actor_id \
         WHERE a.siret = '77567227200017' ORDER BY s.source",
    )
    .fetch_all(&t.pool)
    .await
    .expect("sources");
    assert_eq!(sources, vec!["mediation-numerique", "sirene"]);
    // The first source's values stay; the second added its category.
    let (name, .., cats) = t.actor("sirene", "77567227200017").await;
    assert_eq!(name, "Jardin numérique du Clos Toreau");
    assert_eq!(cats, "mediation-numerique centre-social");
    // Idempotent across sources too.
    let again = t.import(&sirene_request(&t)).await;
    assert_eq!((again.counts.created, again.counts.unchanged), (0, 3));
}

#[tokio::test]
async fn a_dry_run_counts_exactly_and_writes_nothing() {
    let t = TestStore::new().await;
    let before = t.count("SELECT count(*) FROM actors").await;
    let revision = t.count("SELECT value FROM store_revision").await;
    let mut req = t.request(
        Format::Csv,
        fixture("lieux-cp1252.csv"),
        Some("lieux.mapping.toml"),
    );
    req.dry_run = true;
    let report = t.import(&req).await;
    assert!(report.dry_run);
    assert_eq!(counts(&report), (8, 5, 0, 0, 3));
    assert_eq!(t.count("SELECT count(*) FROM actors").await, before);
    assert_eq!(t.count("SELECT count(*) FROM import_runs").await, 0);
    assert_eq!(t.count("SELECT value FROM store_revision").await, revision);
}

#[tokio::test]
async fn bad_inputs_fail_clearly_and_write_nothing() {
    let t = TestStore::new().await;
    let (catalog, _) = ancrage::seed::ensure_seeded(&t.store, 0)
        .await
        .expect("seeded");
    let territories = ancrage::seed::load_territories(&t.store)
        .await
        .expect("territories");
    let before = t.count("SELECT count(*) FROM actors").await;
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
    assert_eq!(t.count("SELECT count(*) FROM actors").await, before);
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

#[test]
fn an_import_killed_midway_loses_nothing_and_can_be_run_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ancrage.db");
    std::fs::copy(template(), &db).expect("copy");
    let input = dir.path().join("big.csv");
    let rows = 200_000;
    write_native_csv(&input, rows);
    let count = |db: &Path| -> (i64, i64) {
        let url = format!("sqlite://{}", db.display());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(async {
                let pool = SqlitePool::connect(&url).await.expect("pool");
                let a = sqlx::query_scalar("SELECT count(*) FROM actors")
                    .fetch_one(&pool)
                    .await
                    .expect("count");
                let r = sqlx::query_scalar("SELECT count(*) FROM import_runs")
                    .fetch_one(&pool)
                    .await
                    .expect("runs");
                pool.close().await;
                (a, r)
            })
    };
    let before = count(&db);
    let command = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_ancrage"));
        c.args([
            "--database-url",
            &format!("sqlite://{}", db.display()),
            "import",
            "--format",
            "csv",
        ])
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
        count(&db),
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
    let after = count(&db);
    assert_eq!(after, (before.0 + rows as i64, before.1 + 1));
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

#[tokio::test]
async fn rows_without_coordinates_are_geocoded_by_a_ban_compatible_service() {
    let t = TestStore::new().await;
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
    let before = t.count("SELECT count(*) FROM actors").await;
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
    assert_eq!(t.count("SELECT count(*) FROM actors").await, before);
}

/// Fields compared by the round trips: everything but ids, timestamps and the source name.
async fn imported(t: &TestStore, source: &str) -> Vec<serde_json::Value> {
    // The sources are the tests' own constants.
    t.records(&format!(
        "SELECT id FROM actors WHERE source = '{source}' ORDER BY source_ref"
    ))
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

#[tokio::test]
async fn csv_and_geojson_exports_import_back_unchanged() {
    let a = TestStore::new().await;
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
    let records = a
        .records("SELECT id FROM actors WHERE source IN ('import', 'gogocarto') ORDER BY id")
        .await;
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
        let b = TestStore::new().await;
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

#[tokio::test]
async fn the_mediation_numerique_export_imports_back_with_what_the_schema_carries() {
    let a = TestStore::new().await;
    a.import(&a.request(
        Format::MediationNumerique,
        fixture("mediation-numerique.csv"),
        None,
    ))
    .await;
    let records = a
        .records("SELECT id FROM actors WHERE source = 'mediation-numerique' ORDER BY id")
        .await;
    let mut out = Vec::new();
    ancrage::export::mediation_header(&mut out).expect("header");
    ancrage::export::mediation_rows(&mut out, &records).expect("rows");
    let path = a.dir.path().join("export-mn.csv");
    std::fs::write(&path, &out).expect("write");
    let b = TestStore::new().await;
    let report = b
        .import(&b.request(Format::MediationNumerique, path, None))
        .await;
    assert_eq!(counts(&report), (3, 3, 0, 0, 0), "{}", report.render());
    let original = imported(&a, "mediation-numerique").await;
    let back = imported(&b, "mediation-numerique").await;
    assert_eq!(back, original);
}

#[actix_web::test]
async fn a_running_server_sees_an_import_without_a_restart() {
    let t = TestStore::new().await;
    let app = ancrage::startup::Application::build(settings_for(&t.path))
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
