//! The in-memory, query-ready view of the store: an immutable [`Snapshot`] published
//! atomically. Readers take an `Arc` and never wait on writers.

pub mod actors;
pub mod cluster;
pub mod outlines;
pub mod packed;
pub mod pip;
pub mod pyramid;
pub mod territories;
pub mod text;

use crate::domain::Catalog;
use actors::{ActorIndex, ActorRows};
use arc_swap::ArcSwap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use territories::Territories;

/// One consistent view of categories, territories and actors.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases with every publication; part of HTTP `ETag`s.
    pub version: u64,
    /// Category taxonomy.
    pub catalog: Arc<Catalog>,
    /// Reference territories (shared between snapshots: they change rarely).
    pub territories: Arc<Territories>,
    /// Published actors.
    pub actors: ActorIndex,
    /// Coverage results computed from this snapshot.
    pub coverage: crate::coverage::Memo,
}

/// The current snapshot, swappable without blocking readers.
#[derive(Debug)]
pub struct SnapshotHandle {
    current: ArcSwap<Snapshot>,
    next_version: AtomicU64,
}

impl SnapshotHandle {
    /// Builds the first snapshot.
    #[must_use]
    pub fn new(catalog: Arc<Catalog>, territories: Arc<Territories>, rows: ActorRows) -> Self {
        let version = initial_version();
        let actors = ActorIndex::build(rows, &territories, &catalog);
        Self {
            current: ArcSwap::from_pointee(Snapshot {
                version,
                catalog,
                territories,
                actors,
                coverage: crate::coverage::Memo::default(),
            }),
            next_version: AtomicU64::new(version + 1),
        }
    }

    /// The current snapshot.
    #[must_use]
    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Rebuilds the actor index from fresh rows (call off the request threads) and publishes it.
    pub fn publish_actors(&self, rows: ActorRows) -> Arc<Snapshot> {
        let old = self.load();
        let actors = ActorIndex::build(rows, &old.territories, &old.catalog);
        let snapshot = Arc::new(Snapshot {
            version: self.next_version.fetch_add(1, Ordering::Relaxed),
            catalog: Arc::clone(&old.catalog),
            territories: Arc::clone(&old.territories),
            actors,
            coverage: crate::coverage::Memo::default(),
        });
        self.current.store(Arc::clone(&snapshot));
        snapshot
    }
}

/// Versions start from the clock so that `ETag`s differ across restarts.
fn initial_version() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs() << 16)
}
