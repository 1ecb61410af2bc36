//! Ancrage: a geospatial service mapping France's social and solidarity economy (ESS) and its
//! tiers-lieux.
//!
//! Data flows from the [`store`] (source of truth) into an immutable in-memory [`index`]
//! snapshot that answers radius, nearest, bounding-box, polygon and territory queries, served
//! by the [`routes`]. Coordinates are WGS84 `[lon, lat]`, distances great-circle metres.

pub mod admin;
pub mod assets;
pub mod basemap;
pub mod cli;
pub mod config;
pub mod coverage;
pub mod domain;
pub mod export;
pub mod index;
pub mod ingest;
pub mod routes;
pub mod seed;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tiles;
