//! Domain types: every request value becomes one of these at the edge, so that invalid
//! states (a latitude of 95°, a radius of -3 m, an unknown category) cannot reach the index.

pub mod actor;
pub mod bbox;
pub mod category;
pub mod error;
pub mod geodesy;
pub mod hours;
pub mod insee;
pub mod lonlat;
pub mod polygon;
pub mod siret;
pub mod territory;

pub use actor::{ActorId, Family, FamilySet, GeocodePrecision, KindSet, Status};
pub use bbox::Bbox;
pub use category::{Catalog, CategoryDef, CategorySet};
pub use error::InputError;
pub use geodesy::{EARTH_RADIUS_M, Radius, haversine_m};
pub use insee::InseeCode;
pub use lonlat::LonLat;
pub use polygon::QueryPolygon;
pub use siret::Siret;
pub use territory::{TerritoryCode, TerritoryKind};
