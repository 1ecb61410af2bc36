//! Several instances, one service: two server processes started together on one empty
//! PostgreSQL database seed it once; a write through one is visible through the other within
//! the 2 s the architecture promises; killing one instance and an import with SIGKILL leaves
//! the other serving and the database as it was. On both backends, administration writes,
//! token checks and public contributions succeed while an import runs in another process.

#[path = "../support/postgres.rs"]
mod postgres;

use serde_json::{Value, json};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Demonstration actors each instance would seed (once for the whole service).
const DEMO: usize = 300;

/// A client that waits longer than a server lets a write wait for the store (30 s by
/// default): what a test sees is the server's own answer, a success or a 503, never a client
/// giving up first.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(40)))
        .build()
        .into()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn ancrage(url: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ancrage"));
    c.arg("--database-url")
        .arg(url)
        .env("ANCRAGE_DEMO_ACTORS", DEMO.to_string())
        .env("ANCRAGE_CONTRIBUTIONS_PER_HOUR", "100000")
        .env("RUST_LOG", "warn");
    c
}

/// A server process, killed when dropped.
struct Instance {
    child: Child,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    fn start(url: &str) -> Self {
        let port = free_port();
        let child = ancrage(url)
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start a server");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn get(&self, path: &str) -> (u16, Value) {
        match agent().get(format!("{}{path}", self.base)).call() {
            Ok(mut r) => {
                let status = r.status().as_u16();
                (status, r.body_mut().read_json().unwrap_or(Value::Null))
            }
            Err(_) => (0, Value::Null),
        }
    }

    /// Waits until `/health` answers with the change feed connected (or polling, on SQLite).
    fn wait_ready(&self, within: Duration) -> Value {
        let start = Instant::now();
        loop {
            let (status, body) = self.get("/health");
            if status == 200 && body["store"]["changeFeed"] != "disconnected" {
                return body;
            }
            assert!(
                start.elapsed() < within,
                "{} not ready after {within:?}: {status} {body}",
                self.base
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn count(&self) -> u64 {
        let (status, body) = self.get("/api/v1/actors?demo=include&limit=1");
        assert_eq!(status, 200, "{body}");
        body["numberMatched"].as_u64().expect("count")
    }
}

fn admin_token(url: &str) -> String {
    let out = ancrage(url)
        .args(["admin", "create-token", "instances-test"])
        .output()
        .expect("create a token");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn write_csv(path: &std::path::Path, n: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    writeln!(out, "source_ref;name;categories;family;commune;lon;lat").expect("write");
    for i in 0..n {
        let d = (i % 100) as f64 * 1e-4;
        writeln!(
            out,
            "r{i};Lieu {i};coworking;association;44109;{};{}",
            -1.5536 + d,
            47.2184 + d
        )
        .expect("write");
    }
}

#[test]
fn two_instances_on_one_postgres_database_behave_as_one_service() {
    let Some(cluster) = postgres::cluster() else {
        return;
    };
    let name = postgres::Cluster::unique_name("instances");
    cluster.create_database(&name, None).expect("database");
    let url = cluster.url(&name);

    // Started together on an empty database: one seeds, the other waits for it.
    let a = Instance::start(&url);
    let b = Instance::start(&url);
    let health_a = a.wait_ready(Duration::from_secs(180));
    let health_b = b.wait_ready(Duration::from_secs(180));
    assert_eq!(health_a["store"]["backend"], "postgres");
    assert_eq!(health_b["store"]["backend"], "postgres");
    let seeded = a.count();
    assert_eq!(b.count(), seeded);
    let real = b.get("/api/v1/actors?demo=exclude&limit=1").1["numberMatched"]
        .as_u64()
        .expect("real count");
    assert_eq!(
        seeded - real,
        DEMO as u64,
        "the demonstration set was seeded once"
    );

    // A write through one instance is visible through the other within 2 s.
    let token = admin_token(&url);
    let mut created = agent()
        .post(format!("{}/api/v1/admin/actors", a.base))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({
            "name": "Épicerie des deux instances",
            "categories": ["epicerie-solidaire"],
            "family": "association",
            "commune": "44109",
            "lon": -1.5536,
            "lat": 47.2184,
        }))
        .expect("create");
    let written = Instant::now();
    assert_eq!(created.status().as_u16(), 201);
    let id = created.body_mut().read_json::<Value>().expect("json")["id"]
        .as_i64()
        .expect("id");
    // Visible in both kinds of answer: the record (read from the store) and the lists and
    // counts (answered from the instance's snapshot, which follows the store's revision).
    loop {
        if b.get(&format!("/api/v1/actors/{id}")).0 == 200 && b.count() == seeded + 1 {
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(2),
            "actor {id} written through one instance is not visible through the other after 2 s"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    let seen_after = written.elapsed();
    assert_eq!(b.count(), seeded + 1);

    // An import and an instance killed without warning: the other instance keeps serving,
    // and the database is unchanged.
    let revision = b.wait_ready(Duration::from_secs(5))["store"]["revision"].clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("big.csv");
    let rows = 100_000;
    write_csv(&input, rows);
    let mut import = ancrage(&url)
        .args(["import", "--format", "csv"])
        .arg(&input)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the import");
    let stderr = import.stderr.take().expect("stderr");
    // Killed as its merge into the database begins: the moment it writes.
    let merging = std::io::BufReader::new(stderr)
        .lines()
        .any(|line| line.expect("line").contains("merging"));
    assert!(merging, "the import announces its merge");
    drop(a); // SIGKILL
    import.kill().expect("kill the import");
    assert!(!import.wait().expect("wait").success());
    std::thread::sleep(Duration::from_secs(3));
    let health = b.wait_ready(Duration::from_secs(5));
    assert_eq!(
        health["store"]["revision"], revision,
        "nothing of the killed import was committed"
    );
    assert_eq!(b.count(), seeded + 1);
    let (status, near) = b.get("/api/v1/actors/nearby?lon=-1.5536&lat=47.2184&limit=5");
    assert_eq!(status, 200, "{near}");
    drop(b);
    cluster.drop_database(&name);
    eprintln!("a write became visible on the other instance after {seen_after:?}");
}

#[test]
fn a_database_that_is_down_at_start_is_named_without_its_password() {
    let port = free_port();
    let url = format!("postgres://ancrage:hunter2@127.0.0.1:{port}/ess");
    let out = ancrage(&url)
        .env("ANCRAGE_DB_CONNECT_TIMEOUT_S", "2")
        .arg("seed")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("postgres://ancrage:***@127.0.0.1:{port}/ess")),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

/// Sends administration writes, token checks and contributions to `server` while `import`
/// runs, until it ends; every one must succeed. Returns (requests, the slowest).
fn write_during_import(server: &Instance, token: &str, import: &mut Child) -> (usize, Duration) {
    let agent = agent();
    let mut sent = 0;
    let mut slowest = Duration::ZERO;
    let started = Instant::now();
    while import.try_wait().expect("import status").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "the import never ends"
        );
        let t = Instant::now();
        let mut created = agent
            .post(format!("{}/api/v1/admin/actors", server.base))
            .header("Authorization", &format!("Bearer {token}"))
            .send_json(json!({
                "name": format!("Écrit pendant l'import {sent}"),
                "categories": ["epicerie-solidaire"],
                "family": "association",
                "commune": "44109",
                "lon": -1.5536,
                "lat": 47.2184,
            }))
            .expect("administration write");
        let status = created.status().as_u16();
        let body = created.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(
            status, 201,
            "administration write during the import: {body}"
        );
        let session = agent
            .get(format!("{}/api/v1/admin/session", server.base))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .expect("token check");
        assert_eq!(
            session.status().as_u16(),
            200,
            "token check during the import"
        );
        let mut contribution = agent
            .post(format!("{}/api/v1/contributions", server.base))
            .send_json(json!({
                "kind": "new",
                "actor": {
                    "name": format!("Proposé pendant l'import {sent}"),
                    "categories": ["epicerie-solidaire"],
                    "family": "association",
                    "commune": "44109",
                    "lon": -1.5536,
                    "lat": 47.2184,
                },
            }))
            .expect("contribution");
        let status = contribution.status().as_u16();
        let body = contribution.body_mut().read_to_string().unwrap_or_default();
        assert_eq!(status, 202, "contribution during the import: {body}");
        slowest = slowest.max(t.elapsed());
        sent += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    (sent, slowest)
}

/// An import of `rows` records in a child process, on `url`, with writes sent to a server on
/// the same store all along. `ANCRAGE_TEST_IMPORT_ROWS` sets another size (a measurement:
/// `ANCRAGE_TEST_IMPORT_ROWS=1000000 cargo test --release --test instances no_write_waits --
/// --nocapture` prints the rounds and the slowest one).
fn no_write_waits_for_an_import(url: &str, rows: usize) {
    let rows = std::env::var("ANCRAGE_TEST_IMPORT_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(rows);
    let server = Instance::start(url);
    server.wait_ready(Duration::from_secs(180));
    let token = admin_token(url);
    let before = server.count();
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("big.csv");
    write_csv(&input, rows);
    let mut import = ancrage(url)
        .args(["import", "--format", "csv"])
        .arg(&input)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the import");
    let (sent, slowest) = write_during_import(&server, &token, &mut import);
    let out = import.wait_with_output().expect("import output");
    assert!(out.status.success(), "the import succeeds");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains(&format!("read {rows}, created {rows}")),
        "{report}"
    );
    assert!(sent >= 3, "writes were sent during the import ({sent})");
    // Everything is there once the server has seen the import.
    let want = before + rows as u64 + sent as u64;
    let start = Instant::now();
    while server.count() != want {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{} actors, {want} expected",
            server.count()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "{url}: {sent} rounds of writes during an import of {rows} rows, slowest round {slowest:?}"
    );
}

#[test]
fn on_sqlite_no_write_waits_for_an_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("ancrage.db").display());
    no_write_waits_for_an_import(&url, 100_000);
}

#[test]
fn on_postgres_no_write_waits_for_an_import() {
    let Some(cluster) = postgres::cluster() else {
        return;
    };
    let name = postgres::Cluster::unique_name("import_writes");
    cluster.create_database(&name, None).expect("database");
    no_write_waits_for_an_import(&cluster.url(&name), 30_000);
    cluster.drop_database(&name);
}

#[test]
fn the_command_line_copies_a_sqlite_store_to_postgres_and_back() {
    let Some(cluster) = postgres::cluster() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("ancrage.db").display());
    let seed = ancrage(&sqlite).arg("seed").output().expect("seed");
    assert!(
        seed.status.success(),
        "{}",
        String::from_utf8_lossy(&seed.stderr)
    );
    let name = postgres::Cluster::unique_name("cli_copy");
    cluster.create_database(&name, None).expect("database");
    let pg = cluster.url(&name);
    let copy = |from: &str, to: &str| {
        let out = ancrage(&sqlite)
            .args(["store", "copy", "--from", from, "--to", to])
            .output()
            .expect("copy");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            out.status.success(),
            stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, report, progress) = copy(&sqlite, &pg);
    assert!(ok, "{report}{progress}");
    assert!(report.contains("counts checked"), "{report}");
    assert!(
        progress.contains("copy territories"),
        "a progress line per table: {progress}"
    );
    let territories = report
        .lines()
        .find(|l| l.trim_start().starts_with("territories"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("territories copied");
    assert_eq!(territories, 34_875 + 1_255 + 101 + 18);
    // Into a store that has data: refused, with a reason.
    let (ok, _, err) = copy(&sqlite, &pg);
    assert!(!ok);
    assert!(err.contains("not empty"), "{err}");
    // A server on the copy answers as one on the original.
    let original = Instance::start(&sqlite);
    let copied = Instance::start(&pg);
    original.wait_ready(Duration::from_secs(120));
    copied.wait_ready(Duration::from_secs(120));
    assert_eq!(copied.count(), original.count());
    // And back into a new file.
    let back = format!("sqlite://{}", dir.path().join("back.db").display());
    let (ok, report, progress) = copy(&pg, &back);
    assert!(ok, "{report}{progress}");
    drop(copied);
    cluster.drop_database(&name);
}
