//! The front end (`frontend/`), embedded in the binary and served with its media type,
//! precompressed and cached.
//!
//! Each text file is compressed once (gzip and brotli at their best levels) the first time it is
//! asked for, or ahead of time by [`warm`], and the encoding is chosen from `Accept-Encoding`.
//! Pages are served with every file they reference versioned by its content hash
//! (`/css/app.css?v=…`) and an import map that versions every module, so those files are cached
//! for a year and a new release is fetched at once.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;
use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, LazyLock, Mutex};

#[derive(RustEmbed)]
#[folder = "frontend/"]
struct Frontend;

/// Files smaller than this are sent as they are: compression would not pay for itself.
const MIN_COMPRESS: usize = 1024;

/// `Cache-Control` of a file asked for with its current version (`?v=` its hash).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Media type of an embedded file: JavaScript modules must be served as JavaScript, and text is
/// UTF-8.
fn media_type(path: &str) -> String {
    let ext = path.rsplit_once('.').map_or("", |(_, e)| e);
    match ext {
        "mjs" | "js" => "text/javascript; charset=utf-8".to_owned(),
        "html" => "text/html; charset=utf-8".to_owned(),
        "css" => "text/css; charset=utf-8".to_owned(),
        "json" => "application/json".to_owned(),
        "svg" => "image/svg+xml".to_owned(),
        "txt" | "md" | "" => "text/plain; charset=utf-8".to_owned(),
        _ => mime_guess::from_path(path)
            .first_or_octet_stream()
            .essence_str()
            .to_owned(),
    }
}

/// Whether a media type is text, worth compressing.
fn compressible(mime: &str) -> bool {
    mime.starts_with("text/") || mime == "application/json" || mime == "image/svg+xml"
}

/// Whether a path is a territory page, `/territoire/{kind}/{code}`. Any two segments get the
/// page: it reads the coverage API and explains itself when the territory does not exist.
fn is_territory_page(path: &str) -> bool {
    path.strip_prefix("/territoire/")
        .map(|rest| rest.strip_suffix('/').unwrap_or(rest))
        .is_some_and(|rest| {
            let segments: Vec<&str> = rest.split('/').collect();
            segments.len() == 2 && segments.iter().all(|s| !s.is_empty())
        })
}

/// The version of an embedded file: the start of its SHA-256, in hex.
fn version_of(path: &str) -> Option<String> {
    Frontend::get(path).map(|f| hex(&f.metadata.sha256_hash()[..6]))
}

/// A page with each `href="/…"` and `src="/…"` that names an embedded file versioned
/// (`?v=`), and an import map that versions every module, so that modules imported by other
/// modules (`import … from './state.mjs'`) get the same long-cached URLs.
fn versioned_page(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 2048);
    let mut rest = html;
    while let Some(at) = ["href=\"/", "src=\"/"]
        .iter()
        .filter_map(|attr| rest.find(attr).map(|i| (i, attr.len())))
        .min()
    {
        let (i, len) = at;
        out.push_str(&rest[..i + len]);
        rest = &rest[i + len..];
        let end = rest.find('"').unwrap_or(rest.len());
        let target = &rest[..end];
        out.push_str(target);
        if !target.contains(['?', '#'])
            && !target.ends_with(".html")
            && let Some(v) = version_of(target)
        {
            out.push_str("?v=");
            out.push_str(&v);
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    let mut modules: Vec<String> = Frontend::iter()
        .filter(|p| p.ends_with(".mjs"))
        .map(|p| p.into_owned())
        .collect();
    modules.sort();
    let imports: serde_json::Map<String, serde_json::Value> = modules
        .iter()
        .filter_map(|p| {
            let v = version_of(p)?;
            Some((format!("/{p}"), format!("/{p}?v={v}").into()))
        })
        .collect();
    let map = serde_json::json!({ "imports": imports });
    let tag = format!("<script type=\"importmap\">{map}</script>\n");
    match out.find("<head>") {
        Some(i) => out.insert_str(i + "<head>".len(), &format!("\n{tag}")),
        None => out.insert_str(0, &tag),
    }
    out
}

/// An embedded file ready to send: its bytes in each encoding and its version.
struct Prepared {
    mime: String,
    /// What the file was prepared from (see [`key`]), the `ETag`'s core.
    key: String,
    identity: web::Bytes,
    gzip: Option<web::Bytes>,
    brotli: Option<web::Bytes>,
}

/// Files prepared so far, by path; a file whose content changed (the debug build reads
/// `frontend/` from disk) is prepared again.
static PREPARED: LazyLock<Mutex<HashMap<String, Arc<Prepared>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

fn gzip(bytes: &[u8]) -> Option<web::Bytes> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    enc.write_all(bytes).ok()?;
    enc.finish().ok().map(web::Bytes::from)
}

fn brotli(bytes: &[u8]) -> Option<web::Bytes> {
    let mut out = Vec::with_capacity(bytes.len() / 4);
    {
        let mut enc = brotli::CompressorWriter::new(&mut out, 64 * 1024, 11, 22);
        enc.write_all(bytes).ok()?;
        enc.flush().ok()?;
    }
    Some(web::Bytes::from(out))
}

/// What a file is prepared from: its content hash, and for a page the hashes of every file,
/// since the page carries their versions. Its first 12 characters are the `?v=` version.
fn key(path: &str) -> Option<String> {
    let own = hex(&Frontend::get(path)?.metadata.sha256_hash()[..12]);
    if !path.ends_with(".html") {
        return Some(own);
    }
    let mut all = sha2::Sha256::default();
    for p in Frontend::iter() {
        if let Some(f) = Frontend::get(&p) {
            sha2::Digest::update(&mut all, f.metadata.sha256_hash());
        }
    }
    Some(format!("{own}-{}", hex(&sha2::Digest::finalize(all)[..6])))
}

/// The prepared file if it is current, without compressing anything.
fn cached(path: &str, key: &str) -> Option<Arc<Prepared>> {
    let memo = PREPARED.lock().ok()?;
    memo.get(path).filter(|p| p.key == key).cloned()
}

/// Prepares a file: versions a page, compresses text, and remembers the result.
fn prepare(path: &str, key: &str) -> Option<Arc<Prepared>> {
    let file = Frontend::get(path)?;
    let bytes = if path.ends_with(".html") {
        versioned_page(&String::from_utf8_lossy(&file.data)).into_bytes()
    } else {
        file.data.into_owned()
    };
    let mime = media_type(path);
    let worth = compressible(&mime) && bytes.len() >= MIN_COMPRESS;
    let prepared = Arc::new(Prepared {
        gzip: worth.then(|| gzip(&bytes)).flatten(),
        brotli: worth.then(|| brotli(&bytes)).flatten(),
        identity: web::Bytes::from(bytes),
        mime,
        key: key.to_owned(),
    });
    if let Ok(mut memo) = PREPARED.lock() {
        memo.insert(path.to_owned(), Arc::clone(&prepared));
    }
    Some(prepared)
}

/// Compresses every embedded file ahead of the first visit (a few seconds of one core, once).
pub fn warm() {
    for path in Frontend::iter() {
        if let Some(key) = key(&path)
            && cached(&path, &key).is_none()
        {
            prepare(&path, &key);
        }
    }
}

/// An encoding the client accepts, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

/// The encoding to send: brotli, then gzip, when `Accept-Encoding` accepts it (`q` above 0,
/// `*` included) and the file has it.
fn choose(req: &HttpRequest, has_br: bool, has_gz: bool) -> Encoding {
    let mut br = None;
    let mut gz = None;
    let mut any = None;
    for item in req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
    {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        match name.as_str() {
            "br" => br = Some(q),
            "gzip" | "x-gzip" => gz = Some(q),
            "*" => any = Some(q),
            _ => {}
        }
    }
    let accepted = |q: Option<f32>| q.or(any).is_some_and(|q| q > 0.0);
    if has_br && accepted(br) {
        Encoding::Brotli
    } else if has_gz && accepted(gz) {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Serves an embedded file; `/` is `index.html`, `/embed` the embeddable map, `/api/v1/docs`
/// the API documentation page, `/territoire/{kind}/{code}` the territory page, `/admin` the
/// administration page. A file asked for with its current version (`?v=`, as the pages
/// reference them) is cached for a year; other vendored libraries for a day, the embeddable
/// `widget.js` for an hour; the pages themselves are revalidated with their `ETag` on every
/// use, so a new version is picked up at once.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    let path = match req.path() {
        "/" => "index.html",
        "/api/v1/docs" | "/api/v1/docs/" => "docs.html",
        "/embed" | "/embed/" => "embed.html",
        p if is_territory_page(p) => "territoire.html",
        "/admin" | "/admin/" => "admin.html",
        p => p.trim_start_matches('/'),
    }
    .to_owned();
    let Some(key) = key(&path) else {
        return not_found();
    };
    let file = match cached(&path, &key) {
        Some(file) => file,
        None => {
            let (p, k) = (path.clone(), key.clone());
            match web::block(move || prepare(&p, &k)).await {
                Ok(Some(file)) => file,
                _ => return not_found(),
            }
        }
    };
    let asked_version = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("v").cloned());
    let current = !path.ends_with(".html")
        && asked_version.is_some_and(|v| v.len() == 12 && file.key.starts_with(&v));
    let cache = if current {
        IMMUTABLE
    } else if path.starts_with("vendor/") {
        "public, max-age=86400"
    } else if path == "widget.js" {
        // Loaded by other sites on each of their pages: an hour, then revalidated.
        "public, max-age=3600"
    } else {
        "no-cache"
    };
    let encoding = choose(&req, file.brotli.is_some(), file.gzip.is_some());
    let (body, suffix, coding) = match encoding {
        Encoding::Brotli => (file.brotli.as_ref(), "-br", Some("br")),
        Encoding::Gzip => (file.gzip.as_ref(), "-gz", Some("gzip")),
        Encoding::Identity => (None, "", None),
    };
    let etag = format!("\"{}{suffix}\"", file.key);
    let held = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if held
        .split(',')
        .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*")
    {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, etag))
            .insert_header((header::CACHE_CONTROL, cache))
            .insert_header((header::VARY, "Accept-Encoding"))
            .finish();
    }
    let mut res = HttpResponse::Ok();
    res.insert_header((header::CONTENT_TYPE, file.mime.clone()))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::ETAG, etag))
        .insert_header((header::VARY, "Accept-Encoding"));
    if let Some(coding) = coding {
        res.insert_header((header::CONTENT_ENCODING, coding));
    }
    res.body(body.unwrap_or(&file.identity).clone())
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("Page introuvable / Page not found")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::{is_territory_page, media_type, serve};
    use actix_web::body::MessageBody;
    use actix_web::http::{StatusCode, header};
    use actix_web::test::TestRequest;

    async fn get(uri: &str) -> (StatusCode, String, String) {
        let res = serve(TestRequest::get().uri(uri).to_http_request()).await;
        let status = res.status();
        let mime = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = res.into_body().try_into_bytes().unwrap_or_default();
        (status, mime, String::from_utf8_lossy(&body).into_owned())
    }

    #[test]
    fn territory_pages_are_two_segments_under_territoire() {
        assert!(is_territory_page("/territoire/departement/44"));
        assert!(is_territory_page("/territoire/commune/2A004/"));
        assert!(is_territory_page("/territoire/canton/1"));
        assert!(!is_territory_page("/territoire/departement"));
        assert!(!is_territory_page("/territoire/departement/"));
        assert!(!is_territory_page("/territoire//44"));
        assert!(!is_territory_page("/territoire/departement/44/plus"));
        assert!(!is_territory_page("/territoires/departement/44"));
    }

    #[actix_web::test]
    async fn a_territory_path_serves_the_territory_page() {
        let (status, mime, body) = get("/territoire/departement/44").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(mime, "text/html; charset=utf-8");
        assert!(body.contains("/js/territory.mjs"), "the page's module");
        // An unknown kind still gets the page, which says in French what is wrong.
        let (status, _, other) = get("/territoire/canton/1").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(other, body);
        let (status, _, _) = get("/territoire/departement").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn modules_styles_and_pages_get_their_types_with_charset() {
        assert_eq!(media_type("js/app.mjs"), "text/javascript; charset=utf-8");
        assert_eq!(
            media_type("vendor/maplibre-gl/maplibre-gl.mjs"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(media_type("css/app.css"), "text/css; charset=utf-8");
        assert_eq!(media_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            media_type("vendor/maplibre-gl/LICENSE.txt"),
            "text/plain; charset=utf-8"
        );
        assert_eq!(media_type("img/logo.png"), "image/png");
    }
}
