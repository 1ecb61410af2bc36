//! The `ancrage` binary: parses the command line and runs the library.

use ancrage::cli::{AdminCommand, Cli, Command, ExportArgs, ImportArgs, StoreCommand};
use ancrage::config::Settings;
use ancrage::ingest::run::ImportRequest;
use ancrage::startup::{AppState, Application};
use ancrage::store::{AnyStore, Store};
use clap::Parser;
use std::io::Write;
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
            // Compress the front end once, before the first visitor asks for it.
            std::thread::spawn(ancrage::assets::warm);
            tracing::info!(
                "Ancrage is serving http://{} (store {})",
                display_addr(&settings.bind, app.port()),
                ancrage::store::redact_url(&settings.database_url)
            );
            app.run_until_stopped().await?;
        }
        Some(Command::BasemapSample { out }) => {
            let state = AppState::load(&settings).await?;
            let snap = state.snapshot.load();
            let target = out.clone();
            let written = tokio::task::spawn_blocking(move || {
                ancrage::basemap::sample::write(&snap.territories, &target)
            })
            .await??;
            tracing::info!(
                "wrote {} ({} tiles, {} bytes): set basemap_pmtiles = \"{}\" to serve it",
                out.display(),
                written.tiles,
                written.bytes,
                out.display()
            );
        }
        Some(Command::Seed { .. }) => {
            let state = AppState::load(&settings).await?;
            let snap = state.snapshot.load();
            tracing::info!(
                "store {} ready: {} territories, {} published actors",
                ancrage::store::redact_url(&settings.database_url),
                snap.territories.len(),
                snap.actors.len()
            );
        }
        Some(Command::Import(args)) => import(&settings, args).await?,
        Some(Command::Export(args)) => export(&settings, args).await?,
        Some(Command::Admin { action }) => admin(&settings, action).await?,
        Some(Command::Store {
            action: StoreCommand::Copy { from, to },
        }) => copy(&settings, &from, &to).await?,
    }
    Ok(())
}

async fn import(settings: &Settings, args: ImportArgs) -> anyhow::Result<()> {
    let store = AnyStore::open(&settings.database_url, settings.store).await?;
    let (catalog, territories) = ancrage::seed::ensure_seeded(&store, settings.demo_actors).await?;
    let territories = match territories {
        Some(t) => t,
        None => ancrage::seed::load_territories(&store).await?,
    };
    let request = ImportRequest {
        format: args.format,
        input: args.path,
        units: args.units,
        geo: args.geo,
        mapping: args.mapping,
        source: args.source,
        dry_run: args.dry_run,
        rejects: args.rejects,
        geocoder: args.geocoder_url.filter(|u| !u.trim().is_empty()),
        progress: true,
    };
    let result = ancrage::ingest::run::run(&store, catalog, territories, &request).await;
    store.close().await;
    let report = result?;
    writeln!(std::io::stdout().lock(), "{}", report.render())?;
    Ok(())
}

async fn export(settings: &Settings, args: ExportArgs) -> anyhow::Result<()> {
    use ancrage::export::{self, ExportFormat};
    if args.format == ExportFormat::Pmtiles {
        return export_pmtiles(settings, &args).await;
    }
    let store = AnyStore::open(&settings.database_url, settings.store).await?;
    let ids = store.published_ids(args.demo).await?;
    let mut out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut first = true;
    match args.format {
        ExportFormat::Csv => export::csv_header(&mut out)?,
        ExportFormat::Geojson => export::geojson_start(&mut out)?,
        ExportFormat::MediationNumerique => export::mediation_header(&mut out)?,
        ExportFormat::Pmtiles => {}
    }
    for chunk in ids.chunks(2000) {
        let records = store.actor_records(chunk).await?;
        match args.format {
            ExportFormat::Csv => export::csv_rows(&mut out, &records)?,
            ExportFormat::Geojson => export::geojson_features(&mut out, &records, &mut first)?,
            ExportFormat::MediationNumerique => export::mediation_rows(&mut out, &records)?,
            ExportFormat::Pmtiles => {}
        }
    }
    if args.format == ExportFormat::Geojson {
        export::geojson_end(&mut out)?;
    }
    out.flush()?;
    store.close().await;
    if let Some(p) = &args.output {
        tracing::info!("{} actors written to {}", ids.len(), p.display());
    }
    Ok(())
}

/// `ancrage export --format pmtiles -o FILE`: the actor tiles of the store's snapshot.
async fn export_pmtiles(settings: &Settings, args: &ExportArgs) -> anyhow::Result<()> {
    let Some(path) = args.output.clone() else {
        anyhow::bail!(
            "--format pmtiles writes a file: name it with --output (e.g. -o acteurs.pmtiles)"
        );
    };
    let store = AnyStore::open(&settings.database_url, settings.store).await?;
    let (catalog, seeded) = ancrage::seed::ensure_seeded(&store, settings.demo_actors).await?;
    let territories = match seeded {
        Some(t) => t,
        None => ancrage::seed::load_territories(&store).await?,
    };
    let rows = store.actor_rows(&catalog).await?;
    store.close().await;
    let demo = args.demo;
    let written = tokio::task::spawn_blocking(move || {
        let snapshot = ancrage::index::SnapshotHandle::new(catalog, territories, rows).load();
        let started = std::time::Instant::now();
        let mut last = started;
        ancrage::tiles::export::write(&snapshot, &path, demo, |done, total| {
            if last.elapsed().as_secs_f64() >= 2.0 || done == total {
                last = std::time::Instant::now();
                let share = if total == 0 {
                    100.0
                } else {
                    100.0 * done as f64 / total as f64
                };
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "tuiles : {done} / {total} ({share:.0} %), {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
        })
        .map(|w| (w, path))
    })
    .await??;
    let (w, path) = written;
    tracing::info!(
        "{} tiles of {} actors written to {} ({} bytes)",
        w.tiles,
        w.actors,
        path.display(),
        w.bytes
    );
    Ok(())
}

async fn admin(settings: &Settings, action: AdminCommand) -> anyhow::Result<()> {
    use ancrage::admin::token;
    let store = AnyStore::open(&settings.database_url, settings.store).await?;
    let result = async {
        let mut out = std::io::stdout().lock();
        match action {
            AdminCommand::CreateToken { name } => {
                let secret = token::create(&store, &name).await?;
                writeln!(out, "{secret}")?;
                tracing::info!(
                    "token '{}' created: keep it now, it cannot be shown again",
                    name.trim()
                );
            }
            AdminCommand::ListTokens => {
                writeln!(out, "name\tcreated\tlast used\trevoked")?;
                for t in store.tokens().await? {
                    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
                    writeln!(
                        out,
                        "{}\t{}\t{}\t{}",
                        t.name,
                        t.created_at,
                        or_dash(t.last_used_at),
                        or_dash(t.revoked_at)
                    )?;
                }
            }
            AdminCommand::RevokeToken { name } => {
                token::revoke(&store, &name).await?;
                tracing::info!("token '{}' revoked", name.trim());
            }
        }
        anyhow::Ok(())
    }
    .await;
    store.close().await;
    result
}

async fn copy(settings: &Settings, from: &str, to: &str) -> anyhow::Result<()> {
    use ancrage::store::copy::{CopyTable, copy_store};
    use ancrage::store::redact_url;
    use std::io::IsTerminal;
    let source = AnyStore::open(from, settings.store).await?;
    let target = AnyStore::open(to, settings.store).await?;
    let tty = std::io::stderr().is_terminal();
    let tick = if tty {
        std::time::Duration::from_millis(200)
    } else {
        std::time::Duration::from_secs(2)
    };
    let mut last = std::time::Instant::now();
    let mut progress = |table: CopyTable, done: u64, total: u64| {
        let finished = done == total;
        if !finished && last.elapsed() < tick {
            return;
        }
        last = std::time::Instant::now();
        let percent = (done * 100).checked_div(total).unwrap_or(100);
        let mut err = std::io::stderr().lock();
        let line = format!(
            "copy {:<14} {done:>9} / {total:<9} {percent:>3} %",
            table.name()
        );
        let _ = if tty {
            write!(err, "\r{line}\x1b[K")
        } else {
            writeln!(err, "{line}")
        };
        if tty && finished {
            let _ = writeln!(err);
        }
    };
    let result = copy_store(&source, &target, &mut progress).await;
    source.close().await;
    target.close().await;
    let report = result?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "copied {} to {} in {:.1} s, counts checked:",
        redact_url(from),
        redact_url(to),
        report.elapsed.as_secs_f64()
    )?;
    for (table, rows) in report.tables {
        writeln!(out, "  {table:<14} {rows:>9}")?;
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
