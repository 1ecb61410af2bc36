//! Assembling the application: store, seed, snapshot, HTTP server.

use crate::config::Settings;
use crate::index::SnapshotHandle;
use crate::routes;
use crate::store::{AnyStore, ChangeFeed, Store};
use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;
use tracing_actix_web::TracingLogger;

/// What every request handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The source of truth.
    pub store: AnyStore,
    /// The current query snapshot.
    pub snapshot: Arc<SnapshotHandle>,
    /// Map settings and outlines for the map page.
    pub map: Arc<routes::map::MapState>,
    /// The store's revision read just before the published actors were (see
    /// [`watch_store`]): every change up to it is in the snapshot. Set only once a snapshot
    /// is published, under [`AppState::reloading`].
    pub revision: Arc<std::sync::atomic::AtomicI64>,
    /// Held while actors are reloaded, so that reloads publish in the order they read: a
    /// slow reload that read the store before a write can never replace, and so hide, a
    /// later one that read it after.
    pub reloading: Arc<tokio::sync::Mutex<()>>,
    /// Who may frame the embed page.
    pub frame_policy: Arc<routes::policy::FramePolicy>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Public contributions accepted per client per hour, counted in the store for every
    /// instance at once.
    pub contributions_per_hour: u32,
    /// Notifications of changes made by other processes (PostgreSQL only).
    pub feed: Arc<ChangeFeed>,
}

impl AppState {
    /// Opens the store, seeds it if needed and builds the first snapshot.
    ///
    /// # Errors
    /// When the store cannot be opened or seeded.
    pub async fn load(settings: &Settings) -> anyhow::Result<Self> {
        let started = std::time::Instant::now();
        // A configured basemap that cannot be served stops the start, saying why.
        let basemap = match &settings.basemap_pmtiles {
            Some(path) => Some(Arc::new(crate::basemap::Basemap::open(path).await?)),
            None => None,
        };
        let store = AnyStore::open(&settings.database_url, settings.store).await?;
        let (catalog, seeded) = crate::seed::ensure_seeded(&store, settings.demo_actors).await?;
        // Read before the actors: a write committed in between makes the watcher reload.
        let revision = store.revision().await?;
        // Territories and actors are independent: read them at the same time.
        let (territories, rows) = tokio::try_join!(
            async {
                match seeded {
                    Some(t) => Ok(t),
                    None => crate::seed::load_territories(&store).await,
                }
            },
            async { Ok(store.actor_rows(&catalog).await?) }
        )?;
        let read = started.elapsed();
        let snapshot =
            tokio::task::spawn_blocking(move || SnapshotHandle::new(catalog, territories, rows))
                .await
                .context("building the index")?;
        tracing::info!(
            "snapshot ready in {:.2?}: reading the store {:.2?}, building the index {:.2?}",
            started.elapsed(),
            read,
            started.elapsed() - read
        );
        Ok(Self {
            store,
            snapshot: Arc::new(snapshot),
            map: Arc::new(routes::map::MapState::new(settings, basemap)),
            revision: Arc::new(std::sync::atomic::AtomicI64::new(revision)),
            reloading: Arc::new(tokio::sync::Mutex::new(())),
            frame_policy: Arc::new(routes::policy::FramePolicy::only(&settings.embed_origins)),
            trusted_proxies: Arc::new(settings.trusted_proxies.clone()),
            contributions_per_hour: settings.contributions_per_hour,
            feed: Arc::new(ChangeFeed::new()),
        })
    }

    /// Makes the published snapshot hold every change committed before the call: reloads
    /// the actors and publishes a new snapshot, built off the request threads (readers keep
    /// the old one until the swap), unless a reload that read the store after the caller's
    /// change has already been published. Reloads run one at a time.
    ///
    /// # Errors
    /// When the store cannot be read.
    pub async fn refresh_actors(&self) -> anyhow::Result<u64> {
        use std::sync::atomic::Ordering;
        // Every change the caller made has a revision up to this one.
        let wanted = self.store.revision().await?;
        let _reloading = self.reloading.lock().await;
        if self.revision.load(Ordering::Acquire) == wanted {
            // Published since: a reload read the store at this revision or later.
            return Ok(self.snapshot.load().version);
        }
        // Read before the actors, as at load time: a write committed in between is in the
        // rows and makes the watcher reload once more, never less.
        let revision = self.store.revision().await?;
        let catalog = Arc::clone(&self.snapshot.load().catalog);
        let rows = self.store.actor_rows(&catalog).await?;
        let handle = Arc::clone(&self.snapshot);
        let snap = tokio::task::spawn_blocking(move || handle.publish_actors(rows)).await?;
        self.revision.store(revision, Ordering::Release);
        Ok(snap.version)
    }
}

/// How often a server checks whether another process (an import, another instance) changed
/// the actors, whether or not it was notified.
pub const STORE_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// Reloads the actors when the store's revision counter moved: imports run in another
/// process and other instances share the store. On PostgreSQL a notification wakes the
/// watcher at once; the poll every `every` is the safety net for notifications lost while the
/// listener reconnected (after which the listener signals once, so the instance resyncs).
pub async fn watch_store(state: AppState, every: std::time::Duration) {
    use std::sync::atomic::Ordering;
    state.store.listen(Arc::clone(&state.feed));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = state.feed.changed() => {}
        }
        match state.store.revision().await {
            Ok(r) if r != state.revision.load(Ordering::Relaxed) => {
                match state.refresh_actors().await {
                    Ok(version) => tracing::info!(
                        "the store changed (revision {r}): snapshot {version} published"
                    ),
                    Err(e) => tracing::warn!("reloading the actors failed: {e:#}"),
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot read the store's revision: {e}"),
        }
    }
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
}

impl Application {
    /// Loads the state and binds the listener (port 0 picks a free port, as tests do).
    ///
    /// # Errors
    /// When the state cannot be loaded or the address cannot be bound.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let state = AppState::load(&settings).await?;
        let listener = TcpListener::bind(&settings.bind)
            .with_context(|| format!("cannot listen on {}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let server = run(listener, state.clone())?;
        actix_web::rt::spawn(watch_store(state.clone(), STORE_POLL));
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The bound port.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state (for tests that change the store).
    #[must_use]
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until stopped.
    ///
    /// # Errors
    /// When the server fails.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Starts the HTTP server on a bound listener.
///
/// # Errors
/// When the listener cannot be used.
pub fn run(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(routes::discovery::link))
            .wrap(actix_web::middleware::from_fn(routes::policy::apply))
            .wrap(TracingLogger::default())
            .app_data(data.clone())
            .configure(routes::configure)
    })
    .listen(listener)?
    .run();
    Ok(server)
}
