//! `/oembed`: turns a pasted map address into an embed (<https://oembed.com>, JSON, type
//! `rich`), so that content-management systems that speak oEmbed embed the map by themselves.
//!
//! Accepted addresses are this site's map (`/?…`, its view and filters kept), its embed page
//! (`/embed?…`) and its territory pages (`/territoire/{kind}/{code}`); the answer's `html` is
//! an `<iframe>` of `/embed` with the same view.

use super::problem::ApiError;
use super::respond::{self, Cache};
use crate::domain::{InputError, TerritoryCode, TerritoryKind};
use crate::startup::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};

/// Default embed size, CSS pixels.
const DEFAULT_SIZE: (u32, u32) = (640, 480);
/// Smallest embed size a consumer may ask for.
const MIN_SIZE: (u32, u32) = (200, 200);

/// Parameters of `/oembed`.
#[derive(Debug, Deserialize)]
pub struct OembedParams {
    url: Option<String>,
    maxwidth: Option<String>,
    maxheight: Option<String>,
    format: Option<String>,
}

/// The oEmbed answer.
#[derive(Debug, Serialize)]
struct Oembed {
    version: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    title: String,
    provider_name: &'static str,
    provider_url: String,
    html: String,
    width: u32,
    height: u32,
    cache_age: u32,
}

/// The parameters `/embed` reads; the map's own parameters of the same name mean the same, so
/// they carry over. `frontend/js/embed_config.mjs` lists the same (a test checks).
pub const EMBED_PARAMS: [&str; 16] = [
    "territory",
    "kind",
    "code",
    "cat",
    "fam",
    "tl",
    "open",
    "demo",
    "lon",
    "lat",
    "z",
    "bbox",
    "lang",
    "basemap",
    "controls",
    "theme",
];

/// Whether `path` is a page oEmbed can embed: the map, the embed page or a territory page
/// (`/territoire/{kind}/{code}`, checked for shape only).
#[must_use]
pub fn is_shared_page(path: &str) -> bool {
    match path.trim_end_matches('/') {
        "" | "/embed" => true,
        p => matches!(
            p.trim_start_matches('/').split('/').collect::<Vec<_>>().as_slice(),
            ["territoire", kind, code] if !kind.is_empty() && !code.is_empty()
        ),
    }
}

/// The origin (`scheme://host`) requests come to.
fn origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// `s` escaped for an HTML attribute value in double quotes.
pub(crate) fn escape_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn size(field: &str, text: Option<&str>, default: u32, min: u32) -> Result<u32, InputError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(default),
        Some(t) => {
            let v: u32 = t
                .parse()
                .map_err(|_| InputError::new(field, "must be a whole number of pixels"))?;
            if v < min {
                return Err(InputError::new(
                    field,
                    format!("must be at least {min} pixels"),
                ));
            }
            Ok(default.min(v))
        }
    }
}

/// `GET /oembed?url=…&maxwidth=&maxheight=`.
pub async fn oembed(
    req: HttpRequest,
    state: web::Data<AppState>,
    q: web::Query<OembedParams>,
) -> Result<HttpResponse, ApiError> {
    if let Some(f) = q.format.as_deref().map(str::trim)
        && !f.is_empty()
        && f != "json"
    {
        // oEmbed asks for 501 when the format is not supported.
        return Ok(HttpResponse::NotImplemented()
            .content_type("application/problem+json")
            .body(
                serde_json::json!({
                    "type": "about:blank",
                    "title": "Format not implemented",
                    "status": 501,
                    "detail": "only format=json is offered",
                    "field": "format",
                    "rule": "must be json",
                })
                .to_string(),
            ));
    }
    let url = q
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| InputError::new("url", "is required: the address of a map page"))?;
    let own = origin(&req);
    let rest = url
        .strip_prefix(&own)
        .or_else(|| {
            // The same host over the other scheme (a proxy may end TLS).
            let host = own.split_once("://").map_or("", |(_, h)| h);
            url.strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"))
                .and_then(|u| u.strip_prefix(host))
        })
        .ok_or_else(|| ApiError::NotFound(format!("'{url}' is not a page of {own}")))?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let path = path.split('#').next().unwrap_or("");
    let query = query.split('#').next().unwrap_or("");
    if !is_shared_page(path) {
        return Err(ApiError::NotFound(format!(
            "'{url}' is not a map, embed or territory page"
        )));
    }
    let snap = state.snapshot.load();
    let pairs = url_pairs(query);
    let mut kept: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| EMBED_PARAMS.contains(&k.as_str()) && k != "kind" && k != "code")
        .cloned()
        .collect();
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    if !kept.iter().any(|(k, _)| k == "territory") {
        // The embed's `kind`+`code`, or the territory selected on the map (`terr`).
        let territory = match (value("kind"), value("code")) {
            (Some(kind), Some(code)) => Some(format!("{kind}:{code}")),
            _ if path.trim_end_matches('/').is_empty() => value("terr"),
            _ => None,
        };
        if let Some(t) = territory {
            kept.push(("territory".into(), t));
        }
    }
    let mut title = "Carte de l'économie sociale et solidaire".to_owned();
    match path.trim_end_matches('/') {
        "" | "/embed" => {}
        p => {
            let parts: Vec<&str> = p.trim_start_matches('/').split('/').collect();
            let ["territoire", kind, code] = parts.as_slice() else {
                return Err(ApiError::NotFound(format!(
                    "'{url}' is not a map, embed or territory page"
                )));
            };
            let kind = TerritoryKind::parse("url", kind)?;
            let code = TerritoryCode::parse(kind, "url", code)?;
            snap.territories.find(kind, code.code()).ok_or_else(|| {
                ApiError::NotFound(format!("no {kind} has the code '{}'", code.code()))
            })?;
            kept.retain(|(k, _)| k != "territory");
            kept.push(("territory".into(), format!("{kind}:{}", code.code())));
        }
    }
    if let Some((_, t)) = kept.iter().find(|(k, _)| k == "territory")
        && let Some((kind, code)) = t.split_once(':')
        && let Ok(kind) = TerritoryKind::parse("territory", kind)
        && let Some(idx) = snap.territories.find(kind, code)
        && let Some(territory) = snap.territories.get(idx)
    {
        title = format!("{title} — {}", territory.record.name);
    }
    let width = size(
        "maxwidth",
        q.maxwidth.as_deref(),
        DEFAULT_SIZE.0,
        MIN_SIZE.0,
    )?;
    let height = size(
        "maxheight",
        q.maxheight.as_deref(),
        DEFAULT_SIZE.1,
        MIN_SIZE.1,
    )?;
    let src = if kept.is_empty() {
        format!("{own}/embed")
    } else {
        let query: Vec<String> = kept
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        format!("{own}/embed?{}", query.join("&"))
    };
    let html = format!(
        r#"<iframe src="{}" title="{}" width="{width}" height="{height}" loading="lazy" allow="geolocation; fullscreen" style="border:0;max-width:100%"></iframe>"#,
        escape_attr(&src),
        escape_attr(&title),
    );
    let body = Oembed {
        version: "1.0",
        kind: "rich",
        title,
        provider_name: "Ancrage",
        provider_url: format!("{own}/"),
        html,
        width,
        height,
        cache_age: 86_400,
    };
    respond::json(&req, "oembed", &body, Cache::Long, None)
}

/// Decodes `a=1&b=x%20y` into pairs (malformed escapes are kept as they are).
fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len()
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit() =>
            {
                let hex = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
                out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `s` percent-encoded for a query string (`:` and `,` kept, as the map writes them).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~:,".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_round_trip() {
        let pairs =
            url_pairs("cat=alimentation%2Crepair-cafe&territory=epci:244400404&x=%ZZ&q=a+b");
        assert_eq!(pairs[0], ("cat".into(), "alimentation,repair-cafe".into()));
        assert_eq!(pairs[1].1, "epci:244400404");
        assert_eq!(pairs[2].1, "%ZZ");
        assert_eq!(pairs[3].1, "a b");
        assert_eq!(encode("é &x"), "%C3%A9%20%26x");
        assert_eq!(decode(&encode("Saint-Étienne & co")), "Saint-Étienne & co");
        assert_eq!(escape_attr(r#"a"<b>&"#), "a&quot;&lt;b&gt;&amp;");
        assert_eq!(
            decode("%é%4"),
            "%é%4",
            "no panic on bytes that are not escapes"
        );
    }
}
