//! Command-line interface.

use crate::config::{Overrides, Settings};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Ancrage: map of France's social and solidarity economy and its tiers-lieux.
///
/// Without a command, serves the map and the API (same as `ancrage serve`).
#[derive(Debug, Parser)]
#[command(name = "ancrage", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (TOML). Default: ./ancrage.toml when it exists.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on, host:port [env: ANCRAGE_BIND] [default: 127.0.0.1:8080].
    #[arg(long, global = true, value_name = "HOST:PORT")]
    pub bind: Option<String>,
    /// Store URL, sqlite://PATH [env: ANCRAGE_DATABASE_URL] [default: sqlite://data/ancrage.db].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// URL of a remote MapLibre basemap style; empty for the offline style [env: ANCRAGE_BASEMAP_STYLE].
    #[arg(long, global = true, value_name = "URL")]
    pub basemap_style: Option<String>,
    /// E-mail address of the map's "Signaler une erreur" link; empty hides it [env: ANCRAGE_REPORT_EMAIL].
    #[arg(long, global = true, value_name = "ADDRESS")]
    pub report_email: Option<String>,
    /// Origins allowed to frame the embed page, space- or comma-separated; empty for any site
    /// [env: ANCRAGE_EMBED_ORIGINS].
    #[arg(long, global = true, value_name = "ORIGINS")]
    pub embed_origins: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the map and the API (creates, migrates and seeds the store on first start).
    Serve,
    /// Create, migrate and seed the store, then exit: reference territories and categories,
    /// the real structures, and demonstration actors if never generated.
    Seed {
        /// Number of demonstration actors to generate [env: ANCRAGE_DEMO_ACTORS] [default: 5000].
        #[arg(long, value_name = "N")]
        demo_actors: Option<usize>,
    },
}

impl Cli {
    /// The settings for this invocation.
    ///
    /// # Errors
    /// On an invalid configuration file or value.
    pub fn settings(&self) -> Result<Settings, crate::config::ConfigError> {
        let demo_actors = match &self.command {
            Some(Command::Seed { demo_actors }) => *demo_actors,
            _ => None,
        };
        let overrides = Overrides {
            bind: self.bind.clone(),
            database_url: self.database_url.clone(),
            demo_actors,
            basemap_style: self.basemap_style.clone(),
            report_email: self.report_email.clone(),
            embed_origins: self.embed_origins.clone(),
        };
        let (file, required) = match &self.config {
            Some(p) => (p.clone(), true),
            None => (PathBuf::from("ancrage.toml"), false),
        };
        Settings::load(&file, required, |k| std::env::var(k).ok(), &overrides)
    }
}
