//! Logging set-up.

use tracing_subscriber::EnvFilter;

/// Installs a formatted logger on standard error; `RUST_LOG` overrides the default level.
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
