//! Test harness: each test gets its own copy of a store seeded once per test run, on the
//! backend it asks for. Every API test runs on both (see [`on_both_stores!`]).

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{App, test, web};
use ancrage::config::Settings;
use ancrage::startup::AppState;
use ancrage::store::Store;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Demonstration actors in the test store (as on a real first start).
pub const DEMO_ACTORS: usize = 5_000;

/// The store backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite,
    /// A database of the private PostgreSQL cluster of this test run.
    Postgres,
}

/// Generates, for each named `async fn name(store: Backend)`, a module `name` with one test
/// per backend: `name::sqlite` and `name::postgres`. Where PostgreSQL cannot be started (and
/// only outside CI), the `postgres` tests return at once after a banner on stderr says so.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[actix_web::test]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }

                #[actix_web::test]
                async fn postgres() {
                    if $crate::postgres::cluster().is_some() {
                        super::$name($crate::helpers::Backend::Postgres).await;
                    }
                }
            }
        )*
    };
}

static SQLITE_TEMPLATE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
static PG_TEMPLATE: OnceLock<String> = OnceLock::new();

fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        ancrage::telemetry::init("debug");
    }
}

/// Seeds a store with `settings` on a runtime of its own (the template is shared by tests
/// running on other runtimes), then closes it.
fn seed_template(settings: Settings) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let state = AppState::load(&settings)
                .await
                .expect("seeding the template store");
            state.store.close().await;
        });
    })
    .join()
    .expect("template thread");
}

/// The seeded SQLite template store, built once and copied by every test.
fn sqlite_template() -> PathBuf {
    SQLITE_TEMPLATE
        .get_or_init(|| {
            init_logs();
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("template.db");
            seed_template(settings_for(&format!("sqlite://{}", path.display())));
            (dir, path)
        })
        .1
        .clone()
}

/// The seeded PostgreSQL template database, built once; tests create theirs from it.
fn pg_template() -> String {
    PG_TEMPLATE
        .get_or_init(|| {
            init_logs();
            let cluster = crate::postgres::cluster().expect("PostgreSQL cluster");
            let name = crate::postgres::Cluster::unique_name("template");
            cluster
                .create_database(&name, None)
                .expect("template database");
            seed_template(settings_for(&cluster.url(&name)));
            name
        })
        .clone()
}

/// Settings for a test store at `database_url` on a free port.
pub fn settings_for(database_url: &str) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        database_url: database_url.to_owned(),
        demo_actors: DEMO_ACTORS,
        ..Settings::default()
    }
}

/// A fresh store copied from the template of `backend`: its database URL, and what removes it
/// when dropped.
pub fn fresh_store(backend: Backend) -> (String, StoreGuard) {
    match backend {
        Backend::Sqlite => {
            let template = sqlite_template();
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("ancrage.db");
            std::fs::copy(&template, &path).expect("copy template store");
            (
                format!("sqlite://{}", path.display()),
                StoreGuard {
                    _folder: Some(dir),
                    database: None,
                },
            )
        }
        Backend::Postgres => {
            let template = pg_template();
            let cluster = crate::postgres::cluster().expect("PostgreSQL cluster");
            let name = crate::postgres::Cluster::unique_name("test");
            cluster
                .create_database(&name, Some(&template))
                .expect("test database");
            let url = cluster.url(&name);
            (
                url,
                StoreGuard {
                    _folder: None,
                    database: Some(name),
                },
            )
        }
    }
}

/// An empty store on `backend` (not even migrated): its database URL, and what removes it.
pub fn empty_store(backend: Backend) -> (String, StoreGuard) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}", dir.path().join("ancrage.db").display());
            (
                url,
                StoreGuard {
                    _folder: Some(dir),
                    database: None,
                },
            )
        }
        Backend::Postgres => {
            let cluster = crate::postgres::cluster().expect("PostgreSQL cluster");
            let name = crate::postgres::Cluster::unique_name("empty");
            cluster.create_database(&name, None).expect("database");
            (
                cluster.url(&name),
                StoreGuard {
                    _folder: None,
                    database: Some(name),
                },
            )
        }
    }
}

/// Removes a test's store when the test ends.
pub struct StoreGuard {
    /// The SQLite file's folder, removed when dropped.
    _folder: Option<tempfile::TempDir>,
    /// The PostgreSQL database, dropped.
    database: Option<String>,
}

impl Drop for StoreGuard {
    fn drop(&mut self) {
        if let Some(name) = &self.database
            && let Some(cluster) = crate::postgres::cluster()
        {
            cluster.drop_database(name);
        }
    }
}

/// A test application with its own store.
pub struct TestApp {
    /// Shared state (store and snapshot handle).
    pub state: AppState,
    /// The settings the state was loaded with (the test's own store).
    pub settings: Settings,
    /// Removes the store when the test ends.
    pub _guard: StoreGuard,
}

/// A copy of the template store on `backend`, with the application state loaded from it.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], with settings changed by `adjust`.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let (url, guard) = fresh_store(backend);
    let mut settings = settings_for(&url);
    adjust(&mut settings);
    let state = AppState::load(&settings)
        .await
        .expect("loading the test store");
    TestApp {
        state,
        settings,
        _guard: guard,
    }
}

impl TestApp {
    /// The in-process service with the real route table.
    pub async fn service(
        &self,
    ) -> impl Service<
        actix_http::Request,
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
    > {
        test::init_service(
            App::new()
                .wrap(actix_web::middleware::from_fn(
                    ancrage::routes::discovery::link,
                ))
                .wrap(actix_web::middleware::from_fn(
                    ancrage::routes::policy::apply,
                ))
                .app_data(web::Data::new(self.state.clone()))
                .configure(ancrage::routes::configure),
        )
        .await
    }
}

/// A response, decoded.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.bytes)
            )
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// Asserts a problem+json error naming `field`, and returns it.
    pub fn problem(&self, status: u16, field: Option<&str>) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "body: {}",
            String::from_utf8_lossy(&self.bytes)
        );
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
        if let Some(f) = field {
            assert_eq!(body["field"], f, "{body}");
            assert!(
                body["rule"].as_str().is_some_and(|r| !r.is_empty()),
                "{body}"
            );
        }
        body
    }
}

/// Sends a request and reads the whole response.
pub async fn send<S, B>(svc: &S, req: test::TestRequest) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let res = test::call_service(svc, req.to_request()).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = test::read_body(res).await.to_vec();
    Reply {
        status,
        headers,
        bytes,
    }
}

/// `GET uri`.
pub async fn get<S, B>(svc: &S, uri: &str) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(svc, test::TestRequest::get().uri(uri)).await
}

/// `POST uri` with a JSON body.
pub async fn post_json<S, B>(svc: &S, uri: &str, body: &Value) -> Reply
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(svc, test::TestRequest::post().uri(uri).set_json(body)).await
}

/// The `id`s of the features of a collection.
pub fn feature_ids(body: &Value) -> Vec<i64> {
    body["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| f["id"].as_i64().expect("id"))
        .collect()
}

/// Creates an administrator token named `name` in the app's store.
pub async fn admin_token(app: &TestApp, name: &str) -> String {
    ancrage::admin::token::create(&app.state.store, name)
        .await
        .expect("creating a token")
}

/// A request carrying an administrator token.
pub fn with_token(req: test::TestRequest, token: &str) -> test::TestRequest {
    req.insert_header(("Authorization", format!("Bearer {token}")))
}

/// Stores one more published actor: a generated one, changed by `adjust` (which sets at least
/// its source reference). The snapshot is not refreshed: callers do it when they need to.
pub async fn insert_published(
    app: &TestApp,
    adjust: impl FnOnce(&mut ancrage::domain::actor::ActorFields),
) -> ancrage::domain::ActorId {
    let snap = app.state.snapshot.load();
    let mut fields =
        ancrage::seed::demo::generate(&snap.catalog, &snap.territories, 1, 7).remove(0);
    adjust(&mut fields);
    app.state
        .store
        .insert_actors(&[(fields, ancrage::domain::Status::Published)], None)
        .await
        .expect("insert")[0]
}
