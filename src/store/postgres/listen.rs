//! The change listener: `LISTEN` on [`CHANNEL`] and a [`ChangeFeed`] signal per notification.
//!
//! Notifications sent while the listener is disconnected are lost, so the feed must hear of
//! every disconnection: `PgListener::recv` would reconnect silently, so the task calls
//! `try_recv` (with eager reconnection off), which returns `Ok(None)` when the connection was
//! lost; the task then marks the feed disconnected and starts a new listener after a backoff.
//! Marking the feed connected again (after `LISTEN` succeeded, so that nothing committed after
//! the mark goes unheard) signals the instance, which resynchronises from the revision.
//!
//! The listener has a pool of its own (one connection, no lifetime limit), so that it never
//! takes one of the store's connections away from requests; the task ends when the store's
//! pool is closed.

use super::CHANNEL;
use crate::store::ChangeFeed;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use std::sync::Arc;
use std::time::Duration;

/// First wait before reconnecting.
const BACKOFF_MIN: Duration = Duration::from_millis(500);

/// Longest wait before reconnecting.
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How a listening session ended.
enum Ended {
    /// The store was closed: stop.
    Closed,
    /// The connection was lost (or could not be made).
    Lost(String),
}

/// Starts the listener task (needs a Tokio runtime; without one the feed stays unsupported and
/// the revision poll alone applies).
pub(super) fn spawn(
    pool: PgPool,
    connect: PgConnectOptions,
    connect_timeout: Duration,
    feed: Arc<ChangeFeed>,
) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        tracing::warn!("no async runtime: change notifications are off, polling only");
        return;
    };
    feed.set_supported();
    rt.spawn(run(pool, connect, connect_timeout, feed));
}

async fn run(
    pool: PgPool,
    connect: PgConnectOptions,
    connect_timeout: Duration,
    feed: Arc<ChangeFeed>,
) {
    let own = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(connect_timeout)
        .connect_lazy_with(connect);
    let mut backoff = BACKOFF_MIN;
    while !pool.is_closed() {
        let why = match session(&pool, &own, &feed, &mut backoff).await {
            Ended::Closed => break,
            Ended::Lost(why) => why,
        };
        feed.set_connected(false);
        tracing::warn!(
            "change listener disconnected ({why}); reconnecting in {} ms",
            backoff.as_millis()
        );
        // Sleep, unless the store closes meanwhile.
        if pool
            .close_event()
            .do_until(tokio::time::sleep(backoff))
            .await
            .is_err()
        {
            break;
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
    feed.set_connected(false);
    own.close().await;
    tracing::debug!("change listener stopped");
}

/// One listening connection, from `LISTEN` until it is lost or the store closes.
async fn session(pool: &PgPool, own: &PgPool, feed: &ChangeFeed, backoff: &mut Duration) -> Ended {
    let mut close = pool.close_event();
    let connected = close
        .do_until(async {
            let mut listener = PgListener::connect_with(own).await?;
            // Report a lost connection instead of reconnecting within `try_recv`.
            listener.eager_reconnect(false);
            // The store's pool, not the listener's own, tells when to stop.
            listener.ignore_pool_close_event(true);
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        })
        .await;
    let mut listener = match connected {
        Err(_) => return Ended::Closed,
        Ok(Err(e)) => return Ended::Lost(e.to_string()),
        Ok(Ok(listener)) => listener,
    };
    feed.set_connected(true);
    *backoff = BACKOFF_MIN;
    tracing::debug!("change listener connected");
    loop {
        match close.do_until(listener.try_recv()).await {
            Err(_) => return Ended::Closed,
            Ok(Ok(Some(_))) => feed.signal(),
            Ok(Ok(None)) => return Ended::Lost("connection lost".into()),
            Ok(Err(e)) => return Ended::Lost(e.to_string()),
        }
    }
}
