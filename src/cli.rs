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
    /// A PMTiles archive of OpenStreetMap vector tiles to serve as the basemap, with its style;
    /// empty for none [env: ANCRAGE_BASEMAP_PMTILES].
    #[arg(long, global = true, value_name = "FILE")]
    pub basemap_pmtiles: Option<String>,
    /// Base URL of a BAN-compatible geocoder for the map's address search (for example
    /// https://api-adresse.data.gouv.fr); empty for none [env: ANCRAGE_GEOCODER_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub geocoder_url: Option<String>,
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
    /// Import actors from a file (creating, migrating and seeding the store if needed), in one
    /// transaction: re-running updates instead of duplicating; a failure or Ctrl-C writes
    /// nothing. Rejected rows and warnings go to a CSV file with their line number.
    Import(ImportArgs),
    /// Export published actors (demonstration data excluded unless --demo).
    Export(ExportArgs),
    /// Manage administrator tokens (the administration API and the /admin page).
    Admin {
        /// What to do.
        #[command(subcommand)]
        action: AdminCommand,
    },
    /// Write a small basemap archive (PMTiles, Protomaps schema) from the store's territory
    /// outlines and commune names plus synthetic streets around Nantes, to try
    /// `basemap_pmtiles` without downloading anything. Not a map of real streets.
    BasemapSample {
        /// The archive to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Move a whole store between backends (SQLite file ↔ PostgreSQL database).
    Store {
        /// What to do.
        #[command(subcommand)]
        action: StoreCommand,
    },
}

/// Subcommands of `ancrage store`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Copy every table of a store (territories, categories, actors with their ids, sources,
    /// imports, history, contributions, tokens) into an empty store, in one transaction, then
    /// check the counts. The target is created and migrated if needed; nothing is written to it
    /// if anything fails.
    Copy {
        /// The store to read: sqlite://PATH or postgres://…
        #[arg(long, value_name = "URL")]
        from: String,
        /// The empty store to write: sqlite://PATH or postgres://…
        #[arg(long, value_name = "URL")]
        to: String,
    },
}

/// Subcommands of `ancrage admin`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a token and print it, once: only its hash is stored.
    CreateToken {
        /// Who the token is for (recorded as the author of every change made with it).
        name: String,
    },
    /// List tokens: name, creation, last use, revocation.
    ListTokens,
    /// Revoke the active token of NAME.
    RevokeToken {
        /// The token's name.
        name: String,
    },
}

/// Arguments of `ancrage import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Input format.
    #[arg(long, value_enum)]
    pub format: crate::ingest::formats::Format,
    /// Mapping file (TOML): columns, defaults, category and family tables.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// Source name recorded on the actors [default: the format's name, "import" for csv and geojson].
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Read, validate and count what would change, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// SIRENE: the legal units stock (StockUniteLegale.csv).
    #[arg(long, value_name = "FILE")]
    pub units: Option<PathBuf>,
    /// SIRENE: the geolocation file (GeolocalisationEtablissement.csv).
    #[arg(long, value_name = "FILE")]
    pub geo: Option<PathBuf>,
    /// Where to write rejected rows and warnings [default: INPUT.rejects.csv].
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Base URL of a BAN-compatible geocoder (https://api-adresse.data.gouv.fr or an addok)
    /// for rows without coordinates; without it they get their commune's point.
    #[arg(long, env = "ANCRAGE_GEOCODER_URL", value_name = "URL")]
    pub geocoder_url: Option<String>,
    /// The file to import (SIRENE: StockEtablissement.csv).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

/// Arguments of `ancrage export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum)]
    pub format: crate::export::ExportFormat,
    /// Output file [default: standard output].
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Include demonstration actors.
    #[arg(long)]
    pub demo: bool,
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
            basemap_pmtiles: self.basemap_pmtiles.clone(),
            geocoder_url: self.geocoder_url.clone(),
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
