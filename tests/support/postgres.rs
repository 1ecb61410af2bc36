//! A private PostgreSQL cluster for the tests: started once per test process on a free port in
//! a temporary folder, never the system cluster, and stopped and removed when the process ends.
//!
//! Include it with `#[path = "../support/postgres.rs"] mod postgres;` and call [`cluster`]:
//! it returns `None` (after a loud banner on stderr) when PostgreSQL cannot be started here, and
//! panics instead when the `CI` environment variable is set, because CI must never skip it.
//!
//! Environment: `ANCRAGE_PG_BIN` names the folder of `initdb`, `postgres`, `pg_isready` and
//! `psql` (default: the highest-versioned `/usr/lib/postgresql/*/bin`, then `PATH`);
//! `ANCRAGE_TEST_POSTGRES=skip` skips the PostgreSQL tests on purpose (a failure under `CI`).
//!
//! Teardown: libtest has no global teardown and statics are never dropped, so at start-up the
//! module spawns a watchdog (`sh -c`, in its own process group so that Ctrl-C in the terminal
//! does not kill it first) that waits while the test process is alive (`kill -0`), then stops
//! the server (`kill -INT` on the postmaster, a fast shutdown; `kill -KILL` after 30 s) and
//! removes the folder (`rm -rf`). It also runs when the test process panics or is killed.

// Each test binary includes this file and uses only some of its items.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The cluster of this test process, or why it could not be started.
static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// Counter that makes the names of [`Cluster::unique_name`] unique within the process.
static NAMES: AtomicUsize = AtomicUsize::new(0);

/// How long to wait for the server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How many times to start the server on a new port when its port was taken meanwhile.
const PORT_ATTEMPTS: usize = 3;

/// Longest database name PostgreSQL keeps without truncating it (`NAMEDATALEN` - 1).
const MAX_NAME_LEN: usize = 63;

/// Shell script of the watchdog: `$1` is the test process's pid, `$2` the cluster's folder.
///
/// A zombie still answers `kill -0`, so `alive` also looks at its state in `/proc`. The
/// postmaster's pid is read from `postmaster.pid` when the test process has ended (when the
/// server runs through `runuser`, the pid of the child that the test process spawned is
/// `runuser`'s), and only signalled if it still is a `postgres` process.
const WATCHDOG: &str = r#"
trap '' HUP INT
alive() {
  kill -0 "$1" 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
while alive "$1"; do sleep 0.2; done
pidfile="$2/data/postmaster.pid"
if [ -f "$pidfile" ]; then
  pm=$(head -n 1 "$pidfile")
  case "$pm" in
    ''|*[!0-9]*) ;;
    *)
      if [ "$(cat "/proc/$pm/comm" 2>/dev/null)" = postgres ]; then
        kill -INT "$pm" 2>/dev/null
        i=0
        while alive "$pm" && [ "$i" -lt 150 ]; do sleep 0.2; i=$((i + 1)); done
        if alive "$pm"; then kill -KILL "$pm" 2>/dev/null; sleep 0.5; fi
      fi
      ;;
  esac
fi
rm -rf "$2"
"#;

/// A running private PostgreSQL cluster: superuser `postgres`, trust authentication, listening
/// on 127.0.0.1 only, with durability turned off (fsync, synchronous commit) for speed.
#[derive(Debug)]
pub struct Cluster {
    /// TCP port of the server on 127.0.0.1.
    port: u16,
    /// Folder of the server binaries (`psql` is taken from there).
    bin: PathBuf,
    /// The temporary folder: `data/` (the cluster), `server.log`, the Unix socket. Held so that
    /// it lives as long as the process; the watchdog removes it.
    dir: tempfile::TempDir,
}

/// The private cluster of this test process, started on the first call; `None` when PostgreSQL
/// cannot be started here, or `ANCRAGE_TEST_POSTGRES=skip` (a banner on stderr says so once).
///
/// # Panics
/// When the cluster cannot be started (or is skipped) and the `CI` variable is set and non-empty.
pub fn cluster() -> Option<&'static Cluster> {
    let state = CLUSTER.get_or_init(|| {
        let started = if skip_requested() {
            Err("ANCRAGE_TEST_POSTGRES=skip is set".to_string())
        } else {
            Cluster::start()
        };
        if let Err(reason) = &started
            && !in_ci()
        {
            banner(reason);
        }
        started
    });
    match state {
        Ok(cluster) => Some(cluster),
        Err(reason) if in_ci() => {
            panic!("PostgreSQL tests cannot be skipped on CI (CI is set): {reason}")
        }
        Err(_) => None,
    }
}

impl Cluster {
    /// Connection URL of `database` on this cluster, as the superuser, e.g.
    /// `postgres://postgres@127.0.0.1:54321/test_1234_0`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// TCP port of the server on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `sql` with the cluster's `psql` in `database`, stopping at the first error, and
    /// returns its output, unaligned and without headers (`-t -A`), trimmed; the error is psql's
    /// stderr. Several statements in one call run in one implicit transaction.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, String> {
        let port = self.port.to_string();
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-d",
                database,
            ])
            .arg("-c")
            .arg(sql)
            .env_remove("PGSERVICE")
            .env_remove("PGOPTIONS")
            .env("PGCONNECT_TIMEOUT", "10")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.bin.join("psql").display()))?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
        } else {
            Err(format!(
                "psql -d {database} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }

    /// Creates database `name`, copied from `template` when given (which must have no other
    /// connection open at that moment), else from PostgreSQL's default `template1`. Names must
    /// match `[a-z0-9_]+` (at most 63 bytes), so that nothing can be injected.
    pub fn create_database(&self, name: &str, template: Option<&str>) -> Result<(), String> {
        check_name(name)?;
        let sql = match template {
            Some(template) => {
                check_name(template)?;
                format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"")
            }
            None => format!("CREATE DATABASE \"{name}\""),
        };
        self.psql("postgres", &sql).map(drop)
    }

    /// Drops database `name` if it exists, closing its connections (`WITH (FORCE)`); best effort:
    /// errors, and names that are not `[a-z0-9_]+`, are ignored.
    pub fn drop_database(&self, name: &str) {
        if check_name(name).is_ok() {
            let _ignored = self.psql(
                "postgres",
                &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            );
        }
    }

    /// A database name unique in this cluster's lifetime: `prefix`, this process's pid, `_` and
    /// a counter, e.g. `test_1234_0` for `test_` (so `prefix` should be `[a-z0-9_]*`).
    pub fn unique_name(prefix: &str) -> String {
        let n = NAMES.fetch_add(1, Ordering::Relaxed);
        format!("{prefix}{}_{n}", std::process::id())
    }

    /// Creates the folder, spawns the watchdog, runs `initdb` and starts the server.
    fn start() -> Result<Self, String> {
        let bin = find_bin()?;
        let root = is_root();
        // Under root the server runs as `postgres`, which must be able to reach the folder:
        // `/tmp` rather than a `TMPDIR` that may be private.
        let parent = if root {
            PathBuf::from("/tmp")
        } else {
            std::env::temp_dir()
        };
        let dir = tempfile::Builder::new()
            .prefix("ancrage-pg-")
            .tempdir_in(&parent)
            .map_err(|e| {
                format!(
                    "cannot create a temporary folder in {}: {e}",
                    parent.display()
                )
            })?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot chmod {}: {e}", dir.path().display()))?;
        if root {
            let chown = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .stdin(Stdio::null())
                .output();
            check_output("chown -R postgres", chown)?;
        }
        spawn_watchdog(dir.path())?;

        let data = dir.path().join("data");
        let initdb = server_command(root, &bin.join("initdb"), dir.path())
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8"])
            .args(["--locale=C", "--no-sync"])
            .output();
        check_output(
            &format!("{} -D {}", bin.join("initdb").display(), data.display()),
            initdb,
        )?;

        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            match start_server(root, &bin, dir.path(), port) {
                Ok(()) => return Ok(Cluster { port, bin, dir }),
                Err((error, retry)) => {
                    last_error = error;
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last_error)
    }
}

/// Whether `ANCRAGE_TEST_POSTGRES=skip` asks to skip the PostgreSQL tests.
fn skip_requested() -> bool {
    std::env::var("ANCRAGE_TEST_POSTGRES").is_ok_and(|v| v.trim().eq_ignore_ascii_case("skip"))
}

/// Whether the tests run on CI (`CI` set and non-empty), where skipping is a failure.
fn in_ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Writes the skip banner straight to stderr, which libtest does not capture (unlike
/// `eprintln!`), so that it shows without `--nocapture`.
fn banner(reason: &str) {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|n| n.to_string_lossy().into_owned()))
        // Cargo names test binaries `NAME-HASH`.
        .map(|n| match n.rsplit_once('-') {
            Some((name, hash)) if hash.bytes().all(|b| b.is_ascii_hexdigit()) => name.to_string(),
            _ => n,
        })
        .unwrap_or_else(|| "this test binary".to_string());
    let rule = "=".repeat(78);
    let reason = reason.trim().replace('\n', "\n      ");
    let text = format!(
        "\n{rule}\n\
         !!! SKIPPED: the PostgreSQL half of the tests in {binary}\n\
         !!! Why: {reason}\n\
         !!! To run them, install PostgreSQL's server: apt-get install postgresql\n\
         !!! (scripts/test does it), or set ANCRAGE_PG_BIN to a folder holding initdb,\n\
         !!! postgres, pg_isready and psql. On CI (CI set) this is a failure, never a skip.\n\
         {rule}\n\n"
    );
    let mut stderr = std::io::stderr().lock();
    let _ignored = stderr.write_all(text.as_bytes());
    let _ignored = stderr.flush();
}

/// The folder of the server binaries: `ANCRAGE_PG_BIN`, else the highest-versioned
/// `/usr/lib/postgresql/*/bin` holding `initdb`, else the folder of `initdb` on `PATH`.
fn find_bin() -> Result<PathBuf, String> {
    if let Some(bin) = std::env::var_os("ANCRAGE_PG_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        return if is_executable(&bin.join("initdb")) {
            Ok(bin)
        } else {
            Err(format!("ANCRAGE_PG_BIN={} holds no initdb", bin.display()))
        };
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_str()?
                .split('.')
                .map(|part| part.parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()?;
            let bin = entry.path().join("bin");
            is_executable(&bin.join("initdb")).then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .find(|dir| is_executable(&dir.join("initdb")))
        .ok_or_else(|| {
            "PostgreSQL's server is not installed: no initdb in ANCRAGE_PG_BIN, \
             /usr/lib/postgresql/*/bin or PATH"
                .to_string()
        })
}

/// Whether `path` is a file with an execute bit.
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether this process runs as root (effective uid 0), from `/proc/self/status`, else `id -u`.
fn is_root() -> bool {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(uids) = status.lines().find_map(|l| l.strip_prefix("Uid:"))
    {
        // Real, effective, saved and filesystem uids.
        return uids.split_whitespace().nth(1) == Some("0");
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A command running `program` as the `postgres` user (through `runuser`) when root, which
/// PostgreSQL refuses to run as, else as this user; its working folder is `dir`, which that user
/// can read (initdb fails when it cannot read its working folder).
fn server_command(root: bool, program: &Path, dir: &Path) -> Command {
    let mut command = if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command
        .current_dir(dir)
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    command
}

/// Turns the output of a command that must succeed into an error with its output if it failed.
fn check_output(what: &str, output: std::io::Result<Output>) -> Result<(), String> {
    let output = output.map_err(|e| format!("cannot run {what}: {e}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    ))
}

/// Spawns the watchdog that stops the server and removes `dir` once this process has ended.
fn spawn_watchdog(dir: &Path) -> Result<(), String> {
    Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("ancrage-pg-watchdog")
        .arg(std::process::id().to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot spawn the watchdog (sh): {e}"))
}

/// A TCP port that was free on 127.0.0.1 a moment ago (bound to port 0, then released).
fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))
}

/// Starts the server of `dir/data` on `port` and waits until it accepts connections. The error
/// says whether to retry on another port (the port was taken between its choice and the start).
fn start_server(root: bool, bin: &Path, dir: &Path, port: u16) -> Result<(), (String, bool)> {
    let log_path = dir.join("server.log");
    let log = File::create(&log_path)
        .map_err(|e| (format!("cannot create {}: {e}", log_path.display()), false))?;
    let log_err = log
        .try_clone()
        .map_err(|e| (format!("cannot duplicate a file handle: {e}"), false))?;
    let port_arg = port.to_string();
    let mut server = server_command(root, &bin.join("postgres"), dir)
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port_arg])
        .arg("-k")
        .arg(dir)
        .args(["-c", "listen_addresses=127.0.0.1"])
        .args(["-c", "fsync=off"])
        .args(["-c", "synchronous_commit=off"])
        .args(["-c", "full_page_writes=off"])
        .args(["-c", "max_connections=300"])
        .args(["-c", "shared_buffers=128MB"])
        .stdout(log)
        .stderr(log_err)
        // Not in the terminal's foreground group: Ctrl-C leaves the shutdown to the watchdog.
        .process_group(0)
        .spawn()
        .map_err(|e| {
            (
                format!("cannot start {}: {e}", bin.join("postgres").display()),
                false,
            )
        })?;

    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if is_ready(bin, port) {
            return Ok(());
        }
        if let Ok(Some(status)) = server.try_wait() {
            let tail = log_tail(&log_path);
            let retry = tail.contains("could not bind") || tail.contains("already in use");
            let error = format!("the PostgreSQL server exited ({status}); {tail}");
            return Err((error, retry));
        }
        if Instant::now() >= deadline {
            stop_failed_server(&mut server, dir);
            let error = format!(
                "the PostgreSQL server did not accept connections on 127.0.0.1:{port} within \
                 {} s; {}",
                START_TIMEOUT.as_secs(),
                log_tail(&log_path)
            );
            return Err((error, false));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether the server on `port` accepts connections, by `pg_isready` from the same folder.
fn is_ready(bin: &Path, port: u16) -> bool {
    Command::new(bin.join("pg_isready"))
        .args(["-q", "-t", "1", "-h", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Stops a server that did not become ready, before its folder is removed: a fast shutdown of
/// the postmaster (whose pid is in `postmaster.pid`, if it got that far), then, after up to 5 s,
/// `SIGKILL` to the process group of `server`, the spawned child (`runuser` does not pass a
/// kill on to its own child).
fn stop_failed_server(server: &mut Child, dir: &Path) {
    let pid = std::fs::read_to_string(dir.join("data").join("postmaster.pid"))
        .ok()
        .and_then(|s| s.lines().next().map(str::to_string));
    if let Some(pid) = pid {
        let _ignored = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(server.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let group = format!("-{}", server.id());
    let _ignored = Command::new("kill")
        .args(["-KILL", "--", &group])
        .stderr(Stdio::null())
        .status();
    let _ignored = server.kill();
    let _ignored = server.wait();
}

/// The last lines of the server log, for error messages.
fn log_tail(path: &Path) -> String {
    const TAIL: u64 = 4_000;
    let mut bytes = Vec::new();
    if let Ok(mut file) = File::open(path) {
        let len = file.metadata().map_or(0, |m| m.len());
        let _ignored = file.seek(SeekFrom::Start(len.saturating_sub(TAIL)));
        let _ignored = file.read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        "the server log is empty".to_string()
    } else {
        format!("end of the server log:\n{}", text.trim_end())
    }
}

/// Checks that `name` is a plain database name: `[a-z0-9_]+`, at most 63 bytes.
fn check_name(name: &str) -> Result<(), String> {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if plain && !name.is_empty() && name.len() <= MAX_NAME_LEN {
        Ok(())
    } else {
        Err(format!(
            "invalid database name {name:?}: expected [a-z0-9_]+, at most {MAX_NAME_LEN} bytes"
        ))
    }
}
