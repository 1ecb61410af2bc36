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

/// Serves an embedded file; `/` is `index.html`, `/api/v1/docs` the API documentation page,
/// `/admin` the administration page.
/// Vendored libraries are cached for a day; the page and its own code are revalidated with
/// their `ETag` on every use, so a new version is picked up at once.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    let path = match req.path() {
        "/" => "index.html",
        "/api/v1/docs" | "/api/v1/docs/" => "docs.html",
        "/admin" | "/admin/" => "admin.html",
        p => p.trim_start_matches('/'),
    };
    match Frontend::get(path) {
        Some(file) => {
            let mime = media_type(path);
            let cache = if path.starts_with("vendor/") {
                "public, max-age=86400"
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
    use super::media_type;

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
