//! Settings: defaults, then an optional `ancrage.toml`, then `ANCRAGE_*` environment
//! variables, then command-line flags (each layer overrides the previous one).

use serde::Deserialize;
use std::path::Path;

/// Runtime settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Address to listen on, `host:port` (port 0 picks a free port).
    pub bind: String,
    /// Store URL: `sqlite://PATH` (the default) or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    pub database_url: String,
    /// Connection pool size, connect timeout and statement timeout of the store.
    pub store: crate::store::StoreOptions,
    /// Demonstration actors generated on first start (0 for none).
    pub demo_actors: usize,
    /// URL of a remote MapLibre basemap style; `None` uses the offline style built from the
    /// territory outlines.
    pub basemap_style: Option<String>,
    /// A PMTiles archive of OpenStreetMap vector tiles (Protomaps basemap schema) served by
    /// this process under `/basemap/`, with a vendored style; `None`: no self-hosted basemap.
    pub basemap_pmtiles: Option<std::path::PathBuf>,
    /// Base URL of a BAN-compatible geocoder (`https://api-adresse.data.gouv.fr`), called by
    /// the browser as `{geocoder_url}/search/?q=…`; `None`: no address search.
    pub geocoder_url: Option<String>,
    /// Address of the map's "Signaler une erreur" link; `None` hides the link.
    pub report_email: Option<String>,
    /// Origins (`https://host[:port]`) allowed to frame the embed page; empty: any site.
    pub embed_origins: Vec<String>,
    /// Public contributions accepted per client address per hour.
    pub contributions_per_hour: u32,
    /// Reverse proxies in front of the server: for a connection from one of them, the client
    /// is the address it reports in `X-Forwarded-For`. Empty: the connection's peer.
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// Default of [`Settings::contributions_per_hour`].
pub const CONTRIBUTIONS_PER_HOUR: u32 = 20;

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1:8080".into(),
            database_url: "sqlite://data/ancrage.db".into(),
            store: crate::store::StoreOptions::default(),
            demo_actors: 5_000,
            basemap_style: None,
            basemap_pmtiles: None,
            geocoder_url: None,
            report_email: None,
            embed_origins: Vec::new(),
            contributions_per_hour: CONTRIBUTIONS_PER_HOUR,
            trusted_proxies: Vec::new(),
        }
    }
}

/// The keys of `ancrage.toml` (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    database_url: Option<String>,
    db_pool_size: Option<u32>,
    db_connect_timeout_s: Option<u64>,
    db_statement_timeout_s: Option<u64>,
    demo_actors: Option<usize>,
    basemap_style: Option<String>,
    basemap_pmtiles: Option<String>,
    geocoder_url: Option<String>,
    report_email: Option<String>,
    contributions_per_hour: Option<u32>,
    embed_origins: Option<OriginList>,
    trusted_proxies: Option<OriginList>,
}

/// `embed_origins` or `trusted_proxies` in the file: one string (space- or comma-separated)
/// or an array.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OriginList {
    Text(String),
    List(Vec<String>),
}

impl OriginList {
    fn into_text(self) -> String {
        match self {
            Self::Text(t) => t,
            Self::List(l) => l.join(" "),
        }
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The configuration file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// File path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML or has unknown keys.
    #[error("{path} is not a valid configuration: {message}")]
    Parse {
        /// File path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value is malformed.
    #[error("{name}: {message}")]
    Invalid {
        /// Setting name.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Command-line overrides.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--bind`.
    pub bind: Option<String>,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--demo-actors`.
    pub demo_actors: Option<usize>,
    /// `--basemap-style` (empty: the offline style).
    pub basemap_style: Option<String>,
    /// `--basemap-pmtiles` (empty: none).
    pub basemap_pmtiles: Option<String>,
    /// `--geocoder-url` (empty: no address search).
    pub geocoder_url: Option<String>,
    /// `--report-email` (empty: no report link).
    pub report_email: Option<String>,
    /// `--embed-origins` (space- or comma-separated; empty: any site).
    pub embed_origins: Option<String>,
}

impl Settings {
    /// Loads settings from `file` (when it exists, or always when `required`), the
    /// environment and the overrides.
    ///
    /// # Errors
    /// On an unreadable or invalid file or a malformed value.
    pub fn load(
        file: &Path,
        required: bool,
        env: impl Fn(&str) -> Option<String>,
        overrides: &Overrides,
    ) -> Result<Self, ConfigError> {
        let mut s = Self::default();
        let mut embed_origins = String::new();
        let mut pmtiles: Option<String> = None;
        let mut trusted_proxies = String::new();
        let path = file.display().to_string();
        if required || file.exists() {
            let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            let f: FileSettings = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path,
                message: e.to_string(),
            })?;
            s.bind = f.bind.unwrap_or(s.bind);
            s.database_url = f.database_url.unwrap_or(s.database_url);
            s.store.pool_size = f.db_pool_size.unwrap_or(s.store.pool_size);
            if let Some(t) = f.db_connect_timeout_s {
                s.store.connect_timeout = std::time::Duration::from_secs(t);
            }
            if let Some(t) = f.db_statement_timeout_s {
                s.store.statement_timeout = std::time::Duration::from_secs(t);
            }
            s.demo_actors = f.demo_actors.unwrap_or(s.demo_actors);
            s.basemap_style = f.basemap_style.or(s.basemap_style);
            pmtiles = f.basemap_pmtiles.or(pmtiles);
            s.geocoder_url = f.geocoder_url.or(s.geocoder_url);
            s.report_email = f.report_email.or(s.report_email);
            if let Some(o) = f.embed_origins {
                embed_origins = o.into_text();
            }
            if let Some(p) = f.trusted_proxies {
                trusted_proxies = p.into_text();
            }
            s.contributions_per_hour = f.contributions_per_hour.unwrap_or(s.contributions_per_hour);
        }
        if let Some(v) = env("ANCRAGE_BIND") {
            s.bind = v;
        }
        if let Some(v) = env("ANCRAGE_DATABASE_URL") {
            s.database_url = v;
        }
        if let Some(v) = env("ANCRAGE_DB_POOL_SIZE") {
            s.store.pool_size = whole("ANCRAGE_DB_POOL_SIZE", &v)?;
        }
        if let Some(v) = env("ANCRAGE_DB_CONNECT_TIMEOUT_S") {
            s.store.connect_timeout =
                std::time::Duration::from_secs(whole("ANCRAGE_DB_CONNECT_TIMEOUT_S", &v)?);
        }
        if let Some(v) = env("ANCRAGE_DB_STATEMENT_TIMEOUT_S") {
            s.store.statement_timeout =
                std::time::Duration::from_secs(whole("ANCRAGE_DB_STATEMENT_TIMEOUT_S", &v)?);
        }
        if let Some(v) = env("ANCRAGE_DEMO_ACTORS") {
            s.demo_actors = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "ANCRAGE_DEMO_ACTORS",
                message: format!("'{v}' is not a whole number"),
            })?;
        }
        if let Some(v) = env("ANCRAGE_BASEMAP_STYLE") {
            s.basemap_style = Some(v);
        }
        if let Some(v) = env("ANCRAGE_BASEMAP_PMTILES") {
            pmtiles = Some(v);
        }
        if let Some(v) = env("ANCRAGE_GEOCODER_URL") {
            s.geocoder_url = Some(v);
        }
        if let Some(v) = env("ANCRAGE_REPORT_EMAIL") {
            s.report_email = Some(v);
        }
        if let Some(v) = env("ANCRAGE_EMBED_ORIGINS") {
            embed_origins = v;
        }
        if let Some(v) = env("ANCRAGE_TRUSTED_PROXIES") {
            trusted_proxies = v;
        }
        if let Some(v) = env("ANCRAGE_CONTRIBUTIONS_PER_HOUR") {
            s.contributions_per_hour = v.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "ANCRAGE_CONTRIBUTIONS_PER_HOUR",
                message: format!("'{v}' is not a whole number"),
            })?;
        }
        if let Some(v) = &overrides.bind {
            s.bind.clone_from(v);
        }
        if let Some(v) = &overrides.database_url {
            s.database_url.clone_from(v);
        }
        if let Some(v) = overrides.demo_actors {
            s.demo_actors = v;
        }
        if let Some(v) = &overrides.basemap_style {
            s.basemap_style = Some(v.clone());
        }
        if let Some(v) = &overrides.basemap_pmtiles {
            pmtiles = Some(v.clone());
        }
        s.basemap_pmtiles = pmtiles
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from);
        if let Some(v) = &overrides.geocoder_url {
            s.geocoder_url = Some(v.clone());
        }
        if let Some(v) = &overrides.report_email {
            s.report_email = Some(v.clone());
        }
        if let Some(v) = &overrides.embed_origins {
            embed_origins.clone_from(v);
        }
        s.embed_origins = parse_origins(&embed_origins)?;
        s.trusted_proxies = trusted_proxies
            .split([' ', ','])
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                p.trim().parse().map_err(|_| ConfigError::Invalid {
                    name: "trusted_proxies",
                    message: format!("'{p}' is not an IP address"),
                })
            })
            .collect::<Result<_, _>>()?;
        // An empty value at any layer switches the feature off.
        s.basemap_style = s
            .basemap_style
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        // The page appends `/search/?…`: one form, without the trailing slash.
        s.geocoder_url = s
            .geocoder_url
            .map(|v| v.trim().trim_end_matches('/').to_owned())
            .filter(|v| !v.is_empty());
        s.report_email = s
            .report_email
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        s.validate()?;
        Ok(s)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.contributions_per_hour == 0 {
            return Err(ConfigError::Invalid {
                name: "contributions_per_hour",
                message: "must be at least 1".into(),
            });
        }
        let port_ok = self
            .bind
            .rsplit_once(':')
            .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !port_ok {
            return Err(ConfigError::Invalid {
                name: "bind",
                message: format!(
                    "'{}' is not host:port (for example 127.0.0.1:8080)",
                    self.bind
                ),
            });
        }
        if let Some(url) = &self.basemap_style
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            return Err(ConfigError::Invalid {
                name: "basemap_style",
                message: format!("'{url}' is not an http(s) URL of a MapLibre style"),
            });
        }
        if self.basemap_style.is_some() && self.basemap_pmtiles.is_some() {
            return Err(ConfigError::Invalid {
                name: "basemap_pmtiles",
                message: "basemap_style and basemap_pmtiles both name a basemap: keep one".into(),
            });
        }
        if let Some(url) = &self.geocoder_url
            && (!(url.starts_with("https://") || url.starts_with("http://"))
                || url.contains(['?', '#', ' ', '"', '\'', '<', '>']))
        {
            return Err(ConfigError::Invalid {
                name: "geocoder_url",
                message: format!(
                    "'{url}' is not the http(s) base URL of a BAN-compatible geocoder (for example https://api-adresse.data.gouv.fr)"
                ),
            });
        }
        if let Some(mail) = &self.report_email {
            let well_formed = mail.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && host.contains('.') && !host.starts_with('.')
            }) && !mail
                .chars()
                .any(|c| c.is_whitespace() || "<>\"?&,;".contains(c));
            if !well_formed {
                return Err(ConfigError::Invalid {
                    name: "report_email",
                    message: format!("'{mail}' is not an e-mail address (name@example.org)"),
                });
            }
        }
        if !(self.database_url.starts_with("sqlite:")
            || crate::store::is_postgres_url(&self.database_url))
        {
            return Err(ConfigError::Invalid {
                name: "database_url",
                message: format!(
                    "'{}' is not supported: use sqlite://PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE",
                    crate::store::redact_url(&self.database_url)
                ),
            });
        }
        if self.store.pool_size == 0 {
            return Err(ConfigError::Invalid {
                name: "db_pool_size",
                message: "must be at least 1".into(),
            });
        }
        for (name, t) in [
            ("db_connect_timeout_s", self.store.connect_timeout),
            ("db_statement_timeout_s", self.store.statement_timeout),
        ] {
            if t.is_zero() {
                return Err(ConfigError::Invalid {
                    name,
                    message: "must be at least 1 second".into(),
                });
            }
        }
        Ok(())
    }
}

/// A whole number from the environment variable `name`.
fn whole<T: std::str::FromStr>(name: &'static str, v: &str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| ConfigError::Invalid {
        name,
        message: format!("'{v}' is not a whole number"),
    })
}

/// Parses a space- or comma-separated list of web origins (`https://mairie.example`,
/// `http://localhost:8080`, `https://*.example.org`), normalised to lower case without a
/// trailing slash; `*` alone means any site and empties the list.
///
/// # Errors
/// On anything that is not an http(s) origin: a path, a query, credentials, a bad port.
pub fn parse_origins(text: &str) -> Result<Vec<String>, ConfigError> {
    let invalid = |origin: &str, why: &str| ConfigError::Invalid {
        name: "embed_origins",
        message: format!(
            "'{origin}' is not a web origin ({why}); write scheme://host[:port], for example https://mairie.example"
        ),
    };
    let mut origins: Vec<String> = Vec::new();
    for raw in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|p| !p.is_empty())
    {
        if raw == "*" {
            return Ok(Vec::new());
        }
        let lower = raw.to_ascii_lowercase();
        let (scheme, rest) = lower
            .split_once("://")
            .ok_or_else(|| invalid(raw, "no scheme"))?;
        if scheme != "https" && scheme != "http" {
            return Err(invalid(raw, "the scheme must be http or https"));
        }
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#', '@', '\\', '\'', '"', ';']) {
            return Err(invalid(raw, "an origin has no path, query or credentials"));
        }
        // An IPv6 literal keeps its colons inside brackets.
        let (host, port) = match authority.rfind(':') {
            Some(i) if !authority[i..].contains(']') => {
                (&authority[..i], Some(&authority[i + 1..]))
            }
            _ => (authority, None),
        };
        if let Some(p) = port
            && !p.parse::<u16>().is_ok_and(|p| p > 0)
        {
            return Err(invalid(raw, "the port must be a number from 1 to 65535"));
        }
        let name = host.strip_prefix("*.").unwrap_or(host);
        let ipv6 = name.len() > 2
            && name.starts_with('[')
            && name.ends_with(']')
            && name[1..name.len() - 1]
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
        let host_ok = ipv6
            || (!name.is_empty()
                && !name.starts_with(['.', '-'])
                && !name.ends_with(['.', '-'])
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'));
        if !host_ok {
            return Err(invalid(raw, "the host name is malformed"));
        }
        let origin = format!("{scheme}://{authority}");
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn defaults_apply_without_file_env_or_flags() {
        let s = Settings::load(
            Path::new("/nonexistent/ancrage.toml"),
            false,
            no_env,
            &Overrides::default(),
        )
        .expect("defaults");
        assert_eq!(s, Settings::default());
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://data/ancrage.db");
    }

    #[test]
    fn file_then_environment_then_flags_override_each_other() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ancrage.toml");
        std::fs::write(
            &file,
            "bind = \"0.0.0.0:9000\"\ndatabase_url = \"sqlite://file.db\"\ndemo_actors = 10\n",
        )
        .expect("write");
        let s = Settings::load(&file, false, no_env, &Overrides::default()).expect("file");
        assert_eq!(
            (s.bind.as_str(), s.database_url.as_str(), s.demo_actors),
            ("0.0.0.0:9000", "sqlite://file.db", 10)
        );
        let env = |k: &str| (k == "ANCRAGE_DATABASE_URL").then(|| "sqlite://env.db".to_owned());
        let s = Settings::load(&file, false, env, &Overrides::default()).expect("env");
        assert_eq!(s.database_url, "sqlite://env.db");
        for url in [
            "postgres://ancrage:pw@127.0.0.1:5432/ess",
            "postgresql://db/ess",
        ] {
            let env = |k: &str| match k {
                "ANCRAGE_DATABASE_URL" => Some(url.to_owned()),
                "ANCRAGE_DB_POOL_SIZE" => Some("32".to_owned()),
                "ANCRAGE_DB_CONNECT_TIMEOUT_S" => Some("3".to_owned()),
                "ANCRAGE_DB_STATEMENT_TIMEOUT_S" => Some("12".to_owned()),
                _ => None,
            };
            let s = Settings::load(Path::new("/nonexistent"), false, env, &Overrides::default())
                .expect(url);
            assert_eq!(s.database_url, url);
            assert_eq!(s.store.pool_size, 32);
            assert_eq!(s.store.connect_timeout, std::time::Duration::from_secs(3));
            assert_eq!(
                s.store.statement_timeout,
                std::time::Duration::from_secs(12)
            );
        }
        assert_eq!(s.bind, "0.0.0.0:9000");
        let flags = Overrides {
            bind: Some("127.0.0.1:0".into()),
            ..Overrides::default()
        };
        let s = Settings::load(&file, false, env, &flags).expect("flags");
        assert_eq!(s.bind, "127.0.0.1:0");
    }

    #[test]
    fn map_settings_layer_and_empty_values_switch_them_off() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ancrage.toml");
        std::fs::write(
            &file,
            "basemap_style = \"https://tiles.openfreemap.org/styles/positron\"\nreport_email = \"carte@example.org\"\n",
        )
        .expect("write");
        let s = Settings::load(&file, false, no_env, &Overrides::default()).expect("file");
        assert_eq!(
            s.basemap_style.as_deref(),
            Some("https://tiles.openfreemap.org/styles/positron")
        );
        assert_eq!(s.report_email.as_deref(), Some("carte@example.org"));
        let env = |k: &str| match k {
            "ANCRAGE_BASEMAP_STYLE" => Some(String::new()),
            "ANCRAGE_REPORT_EMAIL" => Some("signalement@example.org".to_owned()),
            _ => None,
        };
        let s = Settings::load(&file, false, env, &Overrides::default()).expect("env");
        assert_eq!(
            s.basemap_style, None,
            "an empty variable selects the offline style"
        );
        assert_eq!(s.report_email.as_deref(), Some("signalement@example.org"));
        let flags = Overrides {
            basemap_style: Some("https://example.org/style.json".into()),
            report_email: Some(" ".into()),
            ..Overrides::default()
        };
        let s = Settings::load(&file, false, env, &flags).expect("flags");
        assert_eq!(
            s.basemap_style.as_deref(),
            Some("https://example.org/style.json")
        );
        assert_eq!(s.report_email, None);
        assert_eq!(Settings::default().basemap_style, None);
    }

    #[test]
    fn malformed_map_settings_are_reported_by_name() {
        let env =
            |k: &str| (k == "ANCRAGE_BASEMAP_STYLE").then(|| "javascript:alert(1)".to_owned());
        let e = Settings::load(Path::new("/nonexistent"), false, env, &Overrides::default())
            .expect_err("bad style");
        assert!(e.to_string().contains("basemap_style"), "{e}");
        for bad in [
            "nobody",
            "a@b",
            "x@example.org?subject=spam",
            "a b@example.org",
        ] {
            let flags = Overrides {
                report_email: Some(bad.into()),
                ..Overrides::default()
            };
            let e =
                Settings::load(Path::new("/nonexistent"), false, no_env, &flags).expect_err(bad);
            assert!(e.to_string().contains("report_email"), "{e}");
        }
    }

    #[test]
    fn the_basemap_archive_layers_file_env_and_flags_and_excludes_a_remote_style() {
        assert_eq!(Settings::default().basemap_pmtiles, None);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ancrage.toml");
        std::fs::write(&file, "basemap_pmtiles = \"data/france.pmtiles\"\n").expect("write");
        let s = Settings::load(&file, false, no_env, &Overrides::default()).expect("file");
        assert_eq!(
            s.basemap_pmtiles.as_deref(),
            Some(std::path::Path::new("data/france.pmtiles"))
        );
        let env =
            |k: &str| (k == "ANCRAGE_BASEMAP_PMTILES").then(|| " /srv/fr.pmtiles ".to_owned());
        let s = Settings::load(&file, false, env, &Overrides::default()).expect("env");
        assert_eq!(
            s.basemap_pmtiles.as_deref(),
            Some(std::path::Path::new("/srv/fr.pmtiles"))
        );
        let off = Overrides {
            basemap_pmtiles: Some(String::new()),
            ..Overrides::default()
        };
        let s = Settings::load(&file, false, env, &off).expect("flags");
        assert_eq!(s.basemap_pmtiles, None, "an empty flag switches it off");
        let both = Overrides {
            basemap_style: Some("https://example.org/style.json".into()),
            ..Overrides::default()
        };
        let e = Settings::load(&file, false, no_env, &both).expect_err("two basemaps");
        assert!(e.to_string().contains("basemap_pmtiles"), "{e}");
    }

    #[test]
    fn the_geocoder_url_layers_like_the_basemap_style_and_an_empty_value_switches_it_off() {
        assert_eq!(Settings::default().geocoder_url, None);
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ancrage.toml");
        std::fs::write(
            &file,
            "geocoder_url = \"https://api-adresse.data.gouv.fr/\"\n",
        )
        .expect("write");
        let s = Settings::load(&file, false, no_env, &Overrides::default()).expect("file");
        assert_eq!(
            s.geocoder_url.as_deref(),
            Some("https://api-adresse.data.gouv.fr"),
            "the trailing slash is dropped: the page appends /search/"
        );
        let env = |k: &str| {
            (k == "ANCRAGE_GEOCODER_URL").then(|| " http://127.0.0.1:7878/ban ".to_owned())
        };
        let s = Settings::load(&file, false, env, &Overrides::default()).expect("env");
        assert_eq!(s.geocoder_url.as_deref(), Some("http://127.0.0.1:7878/ban"));
        let flags = Overrides {
            geocoder_url: Some(String::new()),
            ..Overrides::default()
        };
        let s = Settings::load(&file, false, env, &flags).expect("flags");
        assert_eq!(
            s.geocoder_url, None,
            "an empty flag switches address search off"
        );
        let flags = Overrides {
            geocoder_url: Some("https://geo.example.org/adresse".into()),
            ..Overrides::default()
        };
        let s = Settings::load(&file, false, env, &flags).expect("flags");
        assert_eq!(
            s.geocoder_url.as_deref(),
            Some("https://geo.example.org/adresse")
        );
    }

    #[test]
    fn a_geocoder_url_that_is_not_an_http_base_url_is_refused_by_name() {
        for bad in [
            "api-adresse.data.gouv.fr",
            "javascript:alert(1)",
            "https://api-adresse.data.gouv.fr/search/?q=",
            "https://geo.example.org/#x",
            "https://",
        ] {
            let env = |k: &str| (k == "ANCRAGE_GEOCODER_URL").then(|| bad.to_owned());
            let e = Settings::load(Path::new("/nonexistent"), false, env, &Overrides::default())
                .expect_err(bad);
            let text = e.to_string();
            assert!(text.starts_with("geocoder_url: "), "{text}");
            assert!(text.contains("BAN-compatible geocoder"), "{text}");
        }
    }

    #[test]
    fn malformed_values_are_reported_by_name() {
        let flags = Overrides {
            bind: Some("8080".into()),
            ..Overrides::default()
        };
        let e =
            Settings::load(Path::new("/nonexistent"), false, no_env, &flags).expect_err("bad bind");
        assert!(e.to_string().contains("host:port"), "{e}");
        let env = |k: &str| (k == "ANCRAGE_DATABASE_URL").then(|| "mysql://x".to_owned());
        let e = Settings::load(Path::new("/nonexistent"), false, env, &Overrides::default())
            .expect_err("bad url");
        assert!(e.to_string().contains("sqlite://"), "{e}");
        assert!(e.to_string().contains("postgres://"), "{e}");
        let env = |k: &str| match k {
            "ANCRAGE_DATABASE_URL" => Some("mysql://ancrage:hunter2@db/ess".to_owned()),
            _ => None,
        };
        let e = Settings::load(Path::new("/nonexistent"), false, env, &Overrides::default())
            .expect_err("bad url");
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let env = |k: &str| (k == "ANCRAGE_DB_POOL_SIZE").then(|| "many".to_owned());
        let e = Settings::load(Path::new("/nonexistent"), false, env, &Overrides::default())
            .expect_err("bad pool size");
        assert!(e.to_string().contains("ANCRAGE_DB_POOL_SIZE"), "{e}");
        let env = |k: &str| (k == "ANCRAGE_DB_STATEMENT_TIMEOUT_S").then(|| "0".to_owned());
        let e = Settings::load(Path::new("/nonexistent"), false, env, &Overrides::default())
            .expect_err("zero timeout");
        assert!(e.to_string().contains("db_statement_timeout_s"), "{e}");
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ancrage.toml");
        std::fs::write(&file, "bnid = \"x\"").expect("write");
        let e =
            Settings::load(&file, false, no_env, &Overrides::default()).expect_err("unknown key");
        assert!(e.to_string().contains("bnid"), "{e}");
        let e = Settings::load(
            &dir.path().join("missing.toml"),
            true,
            no_env,
            &Overrides::default(),
        )
        .expect_err("missing");
        assert!(e.to_string().contains("cannot read"), "{e}");
    }

    #[test]
    fn embed_origins_layer_and_accept_spaces_commas_or_a_list() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ancrage.toml");
        std::fs::write(
            &file,
            "embed_origins = [\"https://mairie.example\", \"HTTP://localhost:8080/\"]\n",
        )
        .expect("write");
        let s = Settings::load(&file, false, no_env, &Overrides::default()).expect("file");
        assert_eq!(
            s.embed_origins,
            ["https://mairie.example", "http://localhost:8080"]
        );
        let env = |k: &str| {
            (k == "ANCRAGE_EMBED_ORIGINS")
                .then(|| "https://a.example, https://*.b.example  http://[::1]:3000".to_owned())
        };
        let s = Settings::load(&file, false, env, &Overrides::default()).expect("env");
        assert_eq!(
            s.embed_origins,
            [
                "https://a.example",
                "https://*.b.example",
                "http://[::1]:3000"
            ]
        );
        let flags = Overrides {
            embed_origins: Some(String::new()),
            ..Overrides::default()
        };
        let s = Settings::load(&file, false, env, &flags).expect("flags");
        assert!(s.embed_origins.is_empty(), "an empty flag allows any site");
        assert_eq!(
            parse_origins("https://a.example *").expect("star"),
            Vec::<String>::new()
        );
        assert!(Settings::default().embed_origins.is_empty());
    }

    #[test]
    fn trusted_proxies_are_ip_addresses_from_the_file_or_the_environment() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("ancrage.toml");
        std::fs::write(&file, "trusted_proxies = [\"10.0.0.2\", \"::1\"]\n").expect("write");
        let s = Settings::load(&file, false, no_env, &Overrides::default()).expect("file");
        let ip = |t: &str| t.parse::<std::net::IpAddr>().expect("ip");
        assert_eq!(s.trusted_proxies, [ip("10.0.0.2"), ip("::1")]);
        let env =
            |k: &str| (k == "ANCRAGE_TRUSTED_PROXIES").then(|| "127.0.0.1, 10.0.0.9".to_owned());
        let s = Settings::load(&file, false, env, &Overrides::default()).expect("env");
        assert_eq!(s.trusted_proxies, [ip("127.0.0.1"), ip("10.0.0.9")]);
        let bad = |k: &str| (k == "ANCRAGE_TRUSTED_PROXIES").then(|| "proxy.local".to_owned());
        let e = Settings::load(&file, false, bad, &Overrides::default()).expect_err("not an IP");
        assert!(
            e.to_string().contains("'proxy.local' is not an IP address"),
            "{e}"
        );
        assert!(Settings::default().trusted_proxies.is_empty());
    }

    #[test]
    fn malformed_embed_origins_are_refused_with_the_reason() {
        for (bad, why) in [
            ("mairie.example", "no scheme"),
            ("ftp://mairie.example", "http or https"),
            ("https://mairie.example/carte", "no path"),
            ("https://mairie.example?x=1", "no path"),
            ("https://user@mairie.example", "credentials"),
            ("https://mairie.example:99999", "port"),
            ("https://mairie.example:", "port"),
            ("https://", "host name"),
            ("https://mai rie.example", "no scheme"),
            ("https://-x.example", "host name"),
            ("https://'self'", "no path"),
        ] {
            let flags = Overrides {
                embed_origins: Some(bad.into()),
                ..Overrides::default()
            };
            let e =
                Settings::load(Path::new("/nonexistent"), false, no_env, &flags).expect_err(bad);
            let text = e.to_string();
            assert!(text.starts_with("embed_origins: "), "{text}");
            assert!(text.contains(why), "{bad}: {text}");
        }
    }
}
