//! Readers of each import format. Each turns its input into [`Items`](super::Items): records
//! with their raw values, rejects, and records skipped on purpose.

pub mod csv;
pub mod geojson;
pub mod gogocarto;
pub mod mediation;
pub mod sirene;
pub mod table;

use std::fmt;

/// An import format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// GeoJSON FeatureCollection of Points; properties named by the mapping file.
    Geojson,
    /// CSV (`;` or `,`, UTF-8 or Windows-1252) with a column-mapping file.
    Csv,
    /// GoGoCarto export (`/api/elements.json`).
    Gogocarto,
    /// SIRENE stocks: establishments joined to legal units and geolocation.
    Sirene,
    /// The "lieux de médiation numérique" data schema (CSV).
    MediationNumerique,
}

impl Format {
    /// The format's name on the command line.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Geojson => "geojson",
            Self::Csv => "csv",
            Self::Gogocarto => "gogocarto",
            Self::Sirene => "sirene",
            Self::MediationNumerique => "mediation-numerique",
        }
    }

    /// The source name recorded when `--source` is not given.
    #[must_use]
    pub fn default_source(self) -> &'static str {
        match self {
            Self::Sirene => "sirene",
            Self::Gogocarto => "gogocarto",
            Self::MediationNumerique => "mediation-numerique",
            Self::Geojson | Self::Csv => "import",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
