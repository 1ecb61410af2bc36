//! The front end (`frontend/`), embedded in the binary and served with its media type.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "frontend/"]
struct Frontend;

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

/// Serves an embedded file; `/` is `index.html`, `/embed` the embeddable map, `/api/v1/docs`
/// the API documentation page, `/territoire/{kind}/{code}` the territory page, `/admin` the
/// administration page. Vendored
/// libraries are cached for a day, the embeddable `widget.js` for an hour; the pages and their
/// own code are revalidated with their `ETag` on every use, so a new version is picked up at
/// once.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    let path = match req.path() {
        "/" => "index.html",
        "/api/v1/docs" | "/api/v1/docs/" => "docs.html",
        "/embed" | "/embed/" => "embed.html",
        p if is_territory_page(p) => "territoire.html",
        "/admin" | "/admin/" => "admin.html",
        p => p.trim_start_matches('/'),
    };
    match Frontend::get(path) {
        Some(file) => {
            let mime = media_type(path);
            let cache = if path.starts_with("vendor/") {
                "public, max-age=86400"
            } else if path == "widget.js" {
                // Loaded by other sites on each of their pages: an hour, then revalidated.
                "public, max-age=3600"
            } else {
                "no-cache"
            };
            let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..12]));
            if req
                .headers()
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                == Some(etag.as_str())
            {
                return HttpResponse::NotModified()
                    .insert_header((header::ETAG, etag))
                    .finish();
            }
            HttpResponse::Ok()
                .insert_header((header::CONTENT_TYPE, mime))
                .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .insert_header((header::CACHE_CONTROL, cache))
                .insert_header((header::ETAG, etag))
                .body(file.data.into_owned())
        }
        None => HttpResponse::NotFound()
            .content_type("text/plain; charset=utf-8")
            .body("Page introuvable / Page not found"),
    }
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
