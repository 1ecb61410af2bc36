//! The front end (`frontend/`), embedded in the binary and served with its media type.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "frontend/"]
struct Frontend;

/// Serves an embedded file; `/` is `index.html`, `/api/v1/docs` the API documentation page.
/// Vendored libraries are cached for a day, pages revalidated.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    let path = match req.path() {
        "/" => "index.html",
        "/api/v1/docs" | "/api/v1/docs/" => "docs.html",
        p => p.trim_start_matches('/'),
    };
    match Frontend::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
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
                .insert_header((header::CONTENT_TYPE, mime.as_ref()))
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
