//! Change notifications between instances sharing one store.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tokio::sync::Notify;

/// What a store's listener tells the instance: "something may have changed, check the
/// revision". A notification can be lost (a listener that reconnects misses what was sent
/// meanwhile), so the instance also polls the revision; after a reconnection the listener
/// signals once so that the instance resynchronises.
#[derive(Debug, Default)]
pub struct ChangeFeed {
    notify: Notify,
    supported: AtomicBool,
    connected: AtomicBool,
    reconnections: AtomicU64,
}

impl ChangeFeed {
    /// A feed that nobody listens to yet (`supported` is false until a backend starts one).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the instance's watcher.
    pub fn signal(&self) {
        self.notify.notify_one();
    }

    /// Waits for the next signal (a signal sent while nobody waited is kept for the next
    /// wait).
    pub async fn changed(&self) {
        self.notify.notified().await;
    }

    /// Marks the feed as provided by the backend.
    pub fn set_supported(&self) {
        self.supported.store(true, Ordering::Relaxed);
    }

    /// Records whether the listener is connected; a new connection after a loss counts as a
    /// reconnection and signals the watcher so that it resynchronises.
    pub fn set_connected(&self, connected: bool) {
        let was = self.connected.swap(connected, Ordering::Relaxed);
        if connected && !was {
            self.reconnections.fetch_add(1, Ordering::Relaxed);
            self.signal();
        }
    }

    /// Whether the backend provides notifications at all.
    #[must_use]
    pub fn supported(&self) -> bool {
        self.supported.load(Ordering::Relaxed)
    }

    /// Whether the listener is connected now.
    #[must_use]
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }

    /// How many times the listener connected (1 after the first connection).
    #[must_use]
    pub fn connections(&self) -> u64 {
        self.reconnections.load(Ordering::Relaxed)
    }
}
