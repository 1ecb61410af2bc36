//! The `ancrage` binary: parses the command line and runs the library.

use ancrage::cli::{Cli, Command};
use ancrage::startup::{AppState, Application};
use clap::Parser;
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // Whole-table reads at start-up are expected to be slow: keep sqlx to real errors.
    ancrage::telemetry::init("info,sqlx=error");
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings()?;
    match cli.command {
        None | Some(Command::Serve) => {
            let app = Application::build(settings.clone()).await?;
            tracing::info!(
                "Ancrage is serving http://{} (store {})",
                display_addr(&settings.bind, app.port()),
                settings.database_url
            );
            app.run_until_stopped().await?;
        }
        Some(Command::Seed { .. }) => {
            let state = AppState::load(&settings).await?;
            let snap = state.snapshot.load();
            tracing::info!(
                "store {} ready: {} territories, {} published actors",
                settings.database_url,
                snap.territories.len(),
                snap.actors.len()
            );
        }
    }
    Ok(())
}

fn display_addr(bind: &str, port: u16) -> String {
    let host = bind.rsplit_once(':').map_or(bind, |(h, _)| h);
    let host = if host == "0.0.0.0" || host == "127.0.0.1" {
        "localhost"
    } else {
        host
    };
    format!("{host}:{port}")
}
