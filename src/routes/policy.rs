//! Who may frame the pages and who may call the API from another origin, applied to every
//! response by one middleware ([`apply`]).
//!
//! - Framing: `/embed` may be framed by any site (or by the configured allow-list); every
//!   other page only by the site itself (`frame-ancestors 'self'`, and `X-Frame-Options` for
//!   old browsers).
//! - Cross-origin reads: the read API (`GET`/`HEAD` under `/api/v1/`, the `POST` query of
//!   `/api/v1/actors/within`, and `/oembed`) answers with `Access-Control-Allow-Origin: *`
//!   and its preflight is answered; so does `/widget.js`, a module script other sites load.
//!   Anything else (the write endpoints) gets no CORS header, so browsers refuse cross-origin
//!   writes. The administration API (`/api/v1/admin/`) gets none either, reads included. No
//!   credentials are ever allowed.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// Paths of the embeddable page.
fn is_embed(path: &str) -> bool {
    path == "/embed" || path.starts_with("/embed/")
}

/// Whether a request of `method` on `path` is a read other sites may make.
fn is_cross_origin_read(method: &Method, path: &str) -> bool {
    // The administration API is for the site's own administration page only.
    let admin = path == "/api/v1/admin" || path.starts_with("/api/v1/admin/");
    let read_path =
        (path.starts_with("/api/v1/") && !admin) || path == "/oembed" || path == "/widget.js";
    (read_path && (method == Method::GET || method == Method::HEAD))
        || (method == Method::POST && path == "/api/v1/actors/within")
}

/// The `frame-ancestors` sources of the embed page: `*`, or the configured origins.
#[derive(Debug, Clone)]
pub struct FramePolicy {
    embed_ancestors: String,
}

impl FramePolicy {
    /// Any site may frame the embed page.
    #[must_use]
    pub fn anyone() -> Self {
        Self {
            embed_ancestors: "*".into(),
        }
    }

    /// Only these origins (and the site itself) may frame the embed page; an empty list means
    /// any site.
    #[must_use]
    pub fn only(origins: &[String]) -> Self {
        if origins.is_empty() || origins.iter().any(|o| o == "*") {
            return Self::anyone();
        }
        Self {
            embed_ancestors: std::iter::once("'self'")
                .chain(origins.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

impl Default for FramePolicy {
    fn default() -> Self {
        Self::anyone()
    }
}

/// The middleware: framing and CORS headers on every response, CORS preflights answered.
///
/// # Errors
/// Those of the wrapped service.
pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let path = req.path().to_owned();
    // A CORS preflight: answered here for the reads, refused (no CORS headers) otherwise.
    if req.method() == Method::OPTIONS
        && let Some(asked) = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|v| v.to_str().ok())
            .and_then(|m| Method::from_bytes(m.as_bytes()).ok())
    {
        let res = if is_cross_origin_read(&asked, &path) {
            HttpResponse::NoContent()
                .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
                .insert_header((header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, POST"))
                .insert_header((
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    "Content-Type, If-None-Match",
                ))
                .insert_header((header::ACCESS_CONTROL_MAX_AGE, "86400"))
                .finish()
        } else {
            HttpResponse::NoContent().finish()
        };
        return Ok(req.into_response(res));
    }
    let cross_origin = is_cross_origin_read(req.method(), &path);
    let policy = req
        .app_data::<actix_web::web::Data<crate::startup::AppState>>()
        .map_or_else(|| "*".into(), |s| s.frame_policy.embed_ancestors.clone());
    let mut res = next.call(req).await?.map_into_boxed_body();
    let h = res.headers_mut();
    if cross_origin {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            header::HeaderValue::from_static("*"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            header::HeaderValue::from_static("ETag, Content-Disposition"),
        );
    }
    if is_embed(&path) {
        if let Ok(v) = header::HeaderValue::from_str(&format!("frame-ancestors {policy}")) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        h.remove(header::X_FRAME_OPTIONS);
    } else {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static("frame-ancestors 'self'"),
        );
        h.insert(
            header::X_FRAME_OPTIONS,
            header::HeaderValue::from_static("SAMEORIGIN"),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_cross_origin_and_writes_are_not() {
        assert!(is_cross_origin_read(&Method::GET, "/api/v1/actors"));
        assert!(is_cross_origin_read(&Method::HEAD, "/api/v1/categories"));
        assert!(is_cross_origin_read(&Method::GET, "/oembed"));
        assert!(is_cross_origin_read(&Method::GET, "/widget.js"));
        assert!(is_cross_origin_read(&Method::POST, "/api/v1/actors/within"));
        assert!(!is_cross_origin_read(&Method::POST, "/api/v1/actors"));
        assert!(!is_cross_origin_read(&Method::PUT, "/api/v1/actors/1"));
        assert!(!is_cross_origin_read(&Method::DELETE, "/api/v1/actors/1"));
        assert!(!is_cross_origin_read(&Method::GET, "/"));
        assert!(!is_cross_origin_read(
            &Method::GET,
            "/api/v1/admin/contributions"
        ));
        assert!(!is_cross_origin_read(
            &Method::POST,
            "/api/v1/contributions"
        ));
    }

    #[test]
    fn the_allow_list_keeps_the_site_itself() {
        assert_eq!(FramePolicy::only(&[]).embed_ancestors, "*");
        assert_eq!(
            FramePolicy::only(&["https://mairie.example".into()]).embed_ancestors,
            "'self' https://mairie.example"
        );
    }
}
