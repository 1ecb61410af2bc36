//! First-start seeding: reference territories and categories, the real structures entered by
//! hand, and a deterministic demonstration set. Each step is one transaction recorded in
//! `seed_runs`, so an interrupted start resumes where it stopped and later starts reuse the store.

pub mod demo;
pub mod real;
pub mod territories;

use crate::domain::Catalog;
use crate::domain::actor::ActorFields;
use crate::domain::category::builtin_catalog;
use crate::domain::geodesy::haversine_m;
use crate::domain::{GeocodePrecision, InputError, InseeCode, LonLat, Status, TerritoryKind};
use crate::index::territories::Territories;
use crate::store::Store;
use anyhow::Context;
use std::sync::Arc;

/// How far outside its commune's (simplified) polygon a point given with a commune code may
/// lie before the pair is rejected, in metres: covers polygon simplification and coastlines.
pub const COMMUNE_TOLERANCE_M: f64 = 2_000.0;

/// Brings a store up to date with the seed: reference data, real actors, `demo_actors`
/// demonstration actors (only when the demonstration step has never run). Returns the
/// catalog, and the territories when seeding had to build them.
///
/// # Errors
/// When the embedded seed is malformed or the store fails; completed steps stay committed.
pub async fn ensure_seeded(
    store: &impl Store,
    demo_actors: usize,
) -> anyhow::Result<(Arc<Catalog>, Option<Arc<Territories>>)> {
    let edition = territories::edition();
    let wanted = !store.seeded("reference").await?
        || !store.seeded(&edition).await?
        || !store.seeded("real-actors").await?
        || (demo_actors > 0 && !store.seeded("demo-actors").await?);
    // Instances starting together on one empty store: one seeds, the others wait for it and
    // then find every step done.
    let _lock = if wanted {
        Some(store.seed_lock().await?)
    } else {
        None
    };
    if !store.seeded("reference").await? {
        tracing::info!("first start: loading reference territories and categories into the store");
        let records = territories::embedded().context("reading the embedded territory seed")?;
        let catalog = builtin_catalog()?;
        store
            .seed_reference(&records, catalog.defs(), &edition)
            .await?;
    } else if !store.seeded(&edition).await? {
        // Seeded by an earlier release: its outlines, areas and points may be wrong (communes
        // merged in 2025-26 drawn with one former commune's land), and figures are computed
        // from them. Actors keep their commune codes.
        let records = territories::embedded().context("reading the embedded territory seed")?;
        tracing::info!(
            "the store holds another edition of the reference territories: replacing them by {edition} ({} territories)",
            records.len()
        );
        store.replace_territories(&records, &edition).await?;
    }
    let catalog = Arc::new(Catalog::new(store.categories().await?)?);
    let wants_real = !store.seeded("real-actors").await?;
    let wants_demo = demo_actors > 0 && !store.seeded("demo-actors").await?;
    if !wants_real && !wants_demo {
        return Ok((catalog, None));
    }
    let territories = load_territories(store).await?;
    if wants_real {
        let actors =
            real::embedded(&catalog, &territories).context("reading seed/actors/real.json")?;
        let detail = format!("{} real structures", actors.len());
        store
            .insert_actors(&actors, Some(("real-actors", &detail)))
            .await?;
        tracing::info!("{detail} entered");
    }
    if wants_demo {
        let actors: Vec<_> =
            demo::generate(&catalog, &territories, demo_actors, demo::DEFAULT_SEED)
                .into_iter()
                .map(|a| (a, Status::Published))
                .collect();
        let detail = format!(
            "{} demonstration actors, seed {}",
            actors.len(),
            demo::DEFAULT_SEED
        );
        store
            .insert_actors(&actors, Some(("demo-actors", &detail)))
            .await?;
        tracing::info!("{detail} generated");
    }
    Ok((catalog, Some(territories)))
}

/// Reads the territories from the store and prepares them (polygon indexes) off the async
/// threads.
///
/// # Errors
/// When the store fails or the records are inconsistent.
pub async fn load_territories(store: &impl Store) -> anyhow::Result<Arc<Territories>> {
    let records = store.territories().await?;
    let territories = tokio::task::spawn_blocking(move || Territories::new(records)).await??;
    Ok(Arc::new(territories))
}

/// Resolves an actor's commune and location: a given INSEE code must exist and, with a point,
/// agree with it (within [`COMMUNE_TOLERANCE_M`] of the commune's polygon, or of its point
/// when it has none); without a point the commune's representative point is used
/// (precision `commune`); without a code the commune is found by point-in-polygon.
///
/// # Errors
/// When the code is unknown, the point lies elsewhere, or neither is given.
pub fn attach_commune(
    territories: &Territories,
    insee: Option<&InseeCode>,
    location: Option<LonLat>,
    precision: GeocodePrecision,
) -> Result<(InseeCode, LonLat, GeocodePrecision), InputError> {
    match (insee, location) {
        (Some(code), point) => {
            let idx = territories
                .find(TerritoryKind::Commune, code.as_str())
                .ok_or_else(|| {
                    InputError::new("commune", format!("unknown commune code {code}"))
                })?;
            let commune = territories
                .get(idx)
                .ok_or_else(|| InputError::new("commune", "unknown commune"))?;
            let Some(p) = point else {
                let p = commune.point().ok_or_else(|| {
                    InputError::new(
                        "location",
                        format!(
                            "commune {code} has no known location: give the actor's coordinates"
                        ),
                    )
                })?;
                return Ok((code.clone(), p, GeocodePrecision::Commune));
            };
            let inside = territories.commune_covers(idx, p).unwrap_or(false);
            // Outside the simplified outline: accept a point near the border (simplification,
            // coastline), reject one that is clearly elsewhere.
            if !inside && distance_to_commune(territories, idx, p) > COMMUNE_TOLERANCE_M {
                return Err(InputError::new(
                    "location",
                    format!(
                        "the point [{}, {}] is not in commune {code} ({})",
                        p.lon(),
                        p.lat(),
                        commune.record.name
                    ),
                ));
            }
            Ok((code.clone(), p, precision))
        }
        (None, Some(p)) => {
            let idx = territories
                .commune_at(p)
                .ok_or_else(|| InputError::new("location", "the point is in no French commune"))?;
            let code = territories
                .get(idx)
                .map(|t| t.record.code.clone())
                .unwrap_or_default();
            Ok((InseeCode::parse("commune", &code)?, p, precision))
        }
        (None, None) => Err(InputError::new(
            "location",
            "an actor needs a commune code or a location",
        )),
    }
}

/// Smallest great-circle distance from a point to a commune's outline vertices or point, metres.
pub(crate) fn distance_to_commune(territories: &Territories, idx: u32, p: LonLat) -> f64 {
    let Some(t) = territories.get(idx) else {
        return f64::INFINITY;
    };
    let mut best = t.point().map_or(f64::INFINITY, |c| haversine_m(p, c));
    if let Some(g) = &t.record.geometry {
        for c in g.0.iter().flat_map(|poly| poly.exterior().0.iter()) {
            if let Ok(v) = LonLat::new(c.x, c.y) {
                best = best.min(haversine_m(p, v));
            }
        }
    }
    best
}

/// Validated actor content with its commune attached (shared by the seed and the tests).
pub type SeedActor = ActorFields;
