//! One import: read, validate, upsert in a single transaction, report.
//!
//! The reader and the validation run on their own thread and hand validated records to the
//! writer through a bounded channel, so memory stays flat whatever the input's size. The
//! writer upserts in one transaction: a failure, an interruption (Ctrl-C) or a crash leaves
//! the store as it was, and a dry run rolls back at the end after counting exactly what would
//! have changed. Running servers see the committed data at their next poll of the store's
//! revision counter.

use super::formats::{self, Format};
use super::geocode::{BanGeocoder, Geocoder};
use super::mapping::{Mapping, Prepared};
use super::progress::{self, Counters};
use super::{DraftError, InputFailure, Item, Strictness, Validator, stable_hash};
use crate::domain::Catalog;
use crate::index::territories::Territories;
use crate::index::text::fold;
use crate::store::{ImportCounts, ImportRun, ImportSession, Store, StoreError, UpsertRecord};
use anyhow::Context;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// Format of the input.
    pub format: Format,
    /// The input (SIRENE: the establishments stock).
    pub input: PathBuf,
    /// SIRENE: the legal units stock.
    pub units: Option<PathBuf>,
    /// SIRENE: the geolocation file.
    pub geo: Option<PathBuf>,
    /// Mapping file.
    pub mapping: Option<PathBuf>,
    /// Source name (default: the format's).
    pub source: Option<String>,
    /// Count what would change, write nothing.
    pub dry_run: bool,
    /// Where to write rejected rows and warnings (default: `<input>.rejects.csv`).
    pub rejects: Option<PathBuf>,
    /// Base URL of a BAN-compatible geocoder.
    pub geocoder: Option<String>,
    /// Show progress on standard error.
    pub progress: bool,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    /// Counts.
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// Records left out on purpose, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Warnings (values dropped or corrected, locations replaced).
    pub warnings: u64,
    /// Records whose coordinates contradicted their commune or lay outside France.
    pub flagged_locations: u64,
    /// The rejects file.
    pub rejects_file: PathBuf,
    /// Nothing was written.
    pub dry_run: bool,
    /// Wall-clock time, seconds.
    pub seconds: f64,
}

impl ImportReport {
    /// The report as the command prints it.
    #[must_use]
    pub fn render(&self) -> String {
        let c = &self.counts;
        let mut s = format!(
            "{}read {}, created {}, updated {}, unchanged {}, rejected {}",
            if self.dry_run {
                "dry run (nothing written): "
            } else {
                ""
            },
            c.read,
            c.created,
            c.updated,
            c.unchanged,
            c.rejected
        );
        let skipped: u64 = self.skipped.values().sum();
        if skipped > 0 {
            s.push_str(&format!(", skipped {skipped}"));
            for (reason, n) in &self.skipped {
                s.push_str(&format!("\n  skipped, {reason}: {n}"));
            }
        }
        if self.flagged_locations > 0 {
            s.push_str(&format!(
                "\n  locations contradicting their commune or outside France: {}",
                self.flagged_locations
            ));
        }
        s.push_str(&format!(
            "\n{} warning(s); rejects and warnings with their line: {}\n{:.1} s, {:.0} records/s",
            self.warnings,
            self.rejects_file.display(),
            self.seconds,
            c.read as f64 / self.seconds.max(1e-3)
        ));
        s
    }
}

/// Messages handed from the reading thread to the writer at once.
const BATCH: usize = 512;

/// A message from the reading thread to the writer.
enum Msg {
    Record {
        line: u64,
        v: Box<super::Validated>,
        hash: String,
    },
    Reject {
        line: u64,
        source_ref: Option<String>,
        reason: String,
    },
    Warning {
        line: u64,
        source_ref: Option<String>,
        text: String,
    },
    Skip(&'static str),
    Failed(String),
}

/// The rejects file: `line;source_ref;kind;reason`, UTF-8 with BOM for spreadsheets.
struct Rejects {
    out: std::io::BufWriter<std::fs::File>,
}

impl Rejects {
    fn create(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create the rejects file {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        out.write_all(b"\xEF\xBB\xBFline;source_ref;kind;reason\n")?;
        Ok(Self { out })
    }

    fn write(
        &mut self,
        line: u64,
        source_ref: Option<&str>,
        kind: &str,
        reason: &str,
    ) -> anyhow::Result<()> {
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\"").replace(['\n', '\r'], " "));
        writeln!(
            self.out,
            "{line};{};{kind};{}",
            quote(source_ref.unwrap_or("")),
            quote(reason)
        )?;
        Ok(())
    }
}

fn default_rejects(input: &Path) -> PathBuf {
    let mut name = input
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "import".into());
    name.push(".rejects.csv");
    input.with_file_name(name)
}

fn prepared_mapping(req: &ImportRequest) -> anyhow::Result<Prepared> {
    let mapping = match &req.mapping {
        Some(p) => Mapping::load(p).map_err(anyhow::Error::msg)?,
        None => Mapping::default(),
    };
    let mapping = if req.format == Format::Gogocarto {
        formats::gogocarto::with_defaults(mapping)
    } else {
        mapping
    };
    Ok(mapping.prepare())
}

/// Runs an import into `store`.
///
/// # Errors
/// When an input cannot be read, the geocoder fails, the store fails or the import is
/// interrupted; nothing is written then.
pub async fn run(
    store: &impl Store,
    catalog: Arc<Catalog>,
    territories: Arc<Territories>,
    req: &ImportRequest,
) -> anyhow::Result<ImportReport> {
    let started = Instant::now();
    for p in [Some(&req.input), req.units.as_ref(), req.geo.as_ref()]
        .into_iter()
        .flatten()
    {
        if !p.is_file() {
            anyhow::bail!("{}: no such file", p.display());
        }
    }
    if req.format == Format::Sirene && req.units.is_none() {
        anyhow::bail!(
            "the SIRENE import needs the legal units stock: --units StockUniteLegale.csv (and --geo GeolocalisationEtablissement.csv for positions)"
        );
    }
    let mapping = prepared_mapping(req)?;
    let source = req
        .source
        .clone()
        .unwrap_or_else(|| req.format.default_source().to_owned());
    if source.trim().is_empty() || source.len() > 100 {
        anyhow::bail!("--source must be a short non-empty name");
    }
    let rejects_path = req
        .rejects
        .clone()
        .unwrap_or_else(|| default_rejects(&req.input));
    let mut rejects = Rejects::create(&rejects_path)?;
    let total_bytes = std::fs::metadata(&req.input).map_or(0, |m| m.len());
    let counters = Arc::new(Counters::default());
    let reporter = req.progress.then(|| {
        progress::start(
            format!("import {}", req.format),
            total_bytes,
            Arc::clone(&counters),
        )
    });

    // Batches of messages: one hand-over between threads per batch, not per record.
    let (send, mut receive) = tokio::sync::mpsc::channel::<Vec<Msg>>(16);
    let reader = {
        let req = req.clone();
        let counters = Arc::clone(&counters);
        let source = source.clone();
        std::thread::spawn(move || {
            read_and_validate(
                &req,
                &mapping,
                &catalog,
                &territories,
                &source,
                &counters,
                &send,
            );
        })
    };

    let mut tx = store.begin_import().await?;
    let mut counts = ImportCounts::default();
    let mut skipped: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut warnings = 0u64;
    let mut flagged = 0u64;
    let mut failure: Option<anyhow::Error> = None;
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    'batches: loop {
        let batch = tokio::select! {
            m = receive.recv() => m,
            _ = &mut interrupt => {
                failure = Some(anyhow::anyhow!("interrupted: nothing was imported"));
                break;
            }
        };
        let Some(batch) = batch else { break };
        for msg in batch {
            match msg {
                Msg::Record { line, v, hash } => {
                    counts.read += 1;
                    counters.records.fetch_add(1, Ordering::Relaxed);
                    if v.location_flag.is_some() {
                        flagged += 1;
                    }
                    for w in &v.warnings {
                        warnings += 1;
                        rejects.write(line, v.fields.source_ref.as_deref(), "warning", w)?;
                    }
                    let record = UpsertRecord {
                        fields: &v.fields,
                        status: v.status,
                        location_flag: v.location_flag,
                        hash: &hash,
                    };
                    match tx.stage(record).await {
                        Ok(()) => {}
                        Err(StoreError::Conflict(message)) => {
                            counts.rejected += 1;
                            rejects.write(
                                line,
                                v.fields.source_ref.as_deref(),
                                "rejected",
                                &format!("refused by the store: {message}"),
                            )?;
                        }
                        Err(e) => {
                            failure = Some(e.into());
                            break 'batches;
                        }
                    }
                }
                Msg::Reject {
                    line,
                    source_ref,
                    reason,
                } => {
                    counts.read += 1;
                    counts.rejected += 1;
                    counters.records.fetch_add(1, Ordering::Relaxed);
                    rejects.write(line, source_ref.as_deref(), "rejected", &reason)?;
                }
                Msg::Warning {
                    line,
                    source_ref,
                    text,
                } => {
                    warnings += 1;
                    rejects.write(line, source_ref.as_deref(), "warning", &text)?;
                }
                Msg::Skip(reason) => {
                    counts.read += 1;
                    counters.records.fetch_add(1, Ordering::Relaxed);
                    *skipped.entry(reason).or_default() += 1;
                }
                Msg::Failed(problem) => {
                    failure = Some(anyhow::anyhow!("{problem}: nothing was imported"));
                    break 'batches;
                }
            }
        }
    }
    // Stop the reader (it fails its next send) and wait for it.
    drop(receive);
    let _ = tokio::task::spawn_blocking(move || reader.join()).await;
    counters.done.store(true, Ordering::Relaxed);
    if let Some(r) = reporter {
        let _ = r.join();
    }
    rejects.out.flush()?;
    if let Some(e) = failure {
        drop(tx);
        return Err(e);
    }
    let input = req.input.display().to_string();
    let run = ImportRun {
        source: &source,
        format: req.format.as_str(),
        input: &input,
        read: counts.read,
        rejected: counts.rejected,
    };
    // The merge is the only moment the store is written (and, on SQLite, locked): say so.
    let merging = Instant::now();
    if req.progress {
        let _ = writeln!(
            std::io::stderr().lock(),
            "import: merging the staged records into the store…"
        );
    }
    let counts = tx.commit(run, req.dry_run).await?.of_run(run);
    if req.progress {
        let _ = writeln!(
            std::io::stderr().lock(),
            "import: merged in {:.1} s",
            merging.elapsed().as_secs_f64()
        );
    }
    Ok(ImportReport {
        counts,
        skipped,
        warnings,
        flagged_locations: flagged,
        rejects_file: rejects_path,
        dry_run: req.dry_run,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The reading thread: reads the input, validates each record and sends the results.
fn read_and_validate(
    req: &ImportRequest,
    mapping: &Prepared,
    catalog: &Catalog,
    territories: &Territories,
    source: &str,
    counters: &Arc<Counters>,
    send: &tokio::sync::mpsc::Sender<Vec<Msg>>,
) {
    let geocoder = req
        .geocoder
        .as_deref()
        .map(|url| BanGeocoder::new(url, 0.5));
    let validator = Validator {
        catalog,
        territories,
        geocoder: geocoder.as_ref().map(|g| g as &dyn Geocoder),
        source,
        strictness: Strictness::Lenient,
    };
    let closed = || InputFailure("the import stopped".into());
    let mut batch: Vec<Msg> = Vec::with_capacity(BATCH);
    let push = |msg: Msg, batch: &mut Vec<Msg>| -> Result<(), InputFailure> {
        batch.push(msg);
        if batch.len() >= BATCH {
            send.blocking_send(std::mem::replace(batch, Vec::with_capacity(BATCH)))
                .map_err(|_| closed())?;
        }
        Ok(())
    };
    let mut sink = |item: Item| -> Result<(), InputFailure> {
        let msg = match item {
            Item::Skip(reason) => Msg::Skip(reason),
            Item::Reject {
                line,
                source_ref,
                reason,
            } => Msg::Reject {
                line,
                source_ref,
                reason,
            },
            Item::Record { line, draft, notes } => {
                for text in notes {
                    push(
                        Msg::Warning {
                            line,
                            source_ref: draft.source_ref.clone(),
                            text,
                        },
                        &mut batch,
                    )?;
                }
                match validator.validate(&draft) {
                    Ok(mut v) => {
                        if v.fields.source_ref.is_none() {
                            v.fields.source_ref = Some(match &v.fields.siret {
                                Some(s) => s.as_str().to_owned(),
                                None => format!(
                                    "{}@{}",
                                    fold(&v.fields.name).replace(' ', "-"),
                                    v.fields.commune
                                ),
                            });
                        }
                        let hash = stable_hash(
                            serde_json::to_string(&(&v.fields, v.status.as_str(), v.location_flag))
                                .unwrap_or_default()
                                .as_bytes(),
                        );
                        Msg::Record {
                            line,
                            v: Box::new(v),
                            hash,
                        }
                    }
                    Err(DraftError::Invalid(errors)) => Msg::Reject {
                        line,
                        source_ref: draft.source_ref.clone(),
                        reason: errors
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join("; "),
                    },
                    Err(DraftError::Geocoder(e)) => {
                        return Err(InputFailure(e.to_string()));
                    }
                }
            }
        };
        push(msg, &mut batch)
    };
    let counters = Some(counters);
    let result = match req.format {
        Format::Csv => formats::csv::read(&req.input, mapping, counters, &mut sink),
        Format::Geojson => formats::geojson::read(&req.input, mapping, counters, &mut sink),
        Format::Gogocarto => formats::gogocarto::read(&req.input, mapping, counters, &mut sink),
        Format::MediationNumerique => formats::mediation::read(&req.input, counters, &mut sink),
        Format::Sirene => {
            let files = formats::sirene::Files {
                establishments: &req.input,
                units: req.units.as_deref().unwrap_or(Path::new("")),
                geo: req.geo.as_deref(),
            };
            formats::sirene::read(&files, mapping, counters, &mut sink)
        }
    };
    if let Err(e) = result {
        batch.push(Msg::Failed(e.0));
    }
    // When the writer has gone, it already knows why.
    let _ = send.blocking_send(batch);
    // Give the progress reporter a last look before the writer finishes.
    std::thread::sleep(Duration::from_millis(1));
}
