//! Geocoding addresses with a BAN-compatible service: the `/search` API of the Base Adresse
//! Nationale (`https://api-adresse.data.gouv.fr`, now also served by the IGN Géoplateforme) or
//! a self-hosted addok, which speaks the same protocol.

use crate::domain::{GeocodePrecision, LonLat};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// An address to geocode.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GeocodeQuery {
    /// Number and street.
    pub street: String,
    /// Postcode, when known.
    pub postcode: Option<String>,
    /// Commune name, when known.
    pub city: Option<String>,
    /// INSEE code of the commune, when known (narrows the search).
    pub citycode: Option<String>,
}

impl GeocodeQuery {
    /// The free-text query sent as `q`.
    #[must_use]
    pub fn text(&self) -> String {
        let mut q = self.street.clone();
        for part in [&self.postcode, &self.city].into_iter().flatten() {
            q.push(' ');
            q.push_str(part);
        }
        q
    }
}

/// The best match of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct GeocodeHit {
    /// The position found.
    pub location: LonLat,
    /// How precise it is (`housenumber` → address, `street` → street, else commune).
    pub precision: GeocodePrecision,
    /// INSEE code of the commune of the result.
    pub citycode: Option<String>,
    /// Relevance in 0..=1.
    pub score: f64,
}

/// The geocoder failed: unreachable, or an answer that is not the BAN protocol.
#[derive(Debug, thiserror::Error)]
#[error("geocoder {url}: {problem}")]
pub struct GeocodeError {
    /// The service.
    pub url: String,
    /// What went wrong.
    pub problem: String,
}

/// Something that turns an address into a position.
pub trait Geocoder: Send + Sync {
    /// The best match, or `None` when nothing matches well enough.
    ///
    /// # Errors
    /// When the service cannot be used at all.
    fn geocode(&self, query: &GeocodeQuery) -> Result<Option<GeocodeHit>, GeocodeError>;
}

/// Client of a BAN-compatible `/search` endpoint, with a cache of answers.
pub struct BanGeocoder {
    base: String,
    agent: ureq::Agent,
    min_score: f64,
    cache: Mutex<HashMap<GeocodeQuery, Option<GeocodeHit>>>,
}

#[derive(Deserialize)]
struct Collection {
    features: Vec<Feature>,
}

#[derive(Deserialize)]
struct Feature {
    geometry: Geometry,
    properties: Properties,
}

#[derive(Deserialize)]
struct Geometry {
    coordinates: [f64; 2],
}

#[derive(Deserialize)]
struct Properties {
    #[serde(default)]
    score: f64,
    #[serde(rename = "type", default)]
    kind: String,
    citycode: Option<String>,
}

impl BanGeocoder {
    /// A client of the service at `base` (for example `https://api-adresse.data.gouv.fr`),
    /// keeping results scoring at least `min_score`.
    #[must_use]
    pub fn new(base: &str, min_score: f64) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(20)))
            .user_agent(concat!("ancrage/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            agent,
            min_score,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn error(&self, problem: impl std::fmt::Display) -> GeocodeError {
        GeocodeError {
            url: self.base.clone(),
            problem: problem.to_string(),
        }
    }

    fn ask(&self, query: &GeocodeQuery) -> Result<Option<GeocodeHit>, GeocodeError> {
        let q = query.text();
        let mut request = self
            .agent
            .get(format!("{}/search/", self.base))
            .query("q", &q)
            .query("limit", "1");
        if let Some(code) = &query.citycode {
            request = request.query("citycode", code);
        } else if let Some(pc) = &query.postcode {
            request = request.query("postcode", pc);
        }
        let mut response = request.call().map_err(|e| self.error(e))?;
        let answer: Collection = response
            .body_mut()
            .read_json()
            .map_err(|e| self.error(format!("not a BAN answer: {e}")))?;
        let Some(best) = answer.features.into_iter().next() else {
            return Ok(None);
        };
        if best.properties.score < self.min_score {
            return Ok(None);
        }
        let [lon, lat] = best.geometry.coordinates;
        let location = LonLat::new(lon, lat).map_err(|e| self.error(e))?;
        let precision = match best.properties.kind.as_str() {
            "housenumber" => GeocodePrecision::Address,
            "street" => GeocodePrecision::Street,
            _ => GeocodePrecision::Commune,
        };
        Ok(Some(GeocodeHit {
            location,
            precision,
            citycode: best.properties.citycode,
            score: best.properties.score,
        }))
    }
}

impl Geocoder for BanGeocoder {
    fn geocode(&self, query: &GeocodeQuery) -> Result<Option<GeocodeHit>, GeocodeError> {
        if let Some(hit) = self.cache.lock().ok().and_then(|c| c.get(query).cloned()) {
            return Ok(hit);
        }
        let hit = self.ask(query)?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(query.clone(), hit.clone());
        }
        Ok(hit)
    }
}
