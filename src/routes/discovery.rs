//! oEmbed discovery: every shared page (the map, the embed page, territory pages) gets a
//! `<link rel="alternate" type="application/json+oembed">` naming its own absolute address, so
//! that content-management systems and crawlers find the embed without running JavaScript.
//!
//! It is a middleware over whichever handler serves the HTML, so a new page kind only has to
//! be accepted by [`super::oembed::is_shared_page`].

use super::oembed::{encode, escape_attr, is_shared_page};
use actix_web::body::{self, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpRequest};

/// The absolute address of a request (`scheme://host/path?query`).
fn absolute_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    format!("{}://{}{path}", info.scheme(), info.host())
}

/// The discovery `<link>` of a page at `page_url` on `origin`.
#[must_use]
pub fn discovery_link(origin: &str, page_url: &str) -> String {
    format!(
        r#"<link rel="alternate" type="application/json+oembed" href="{}" title="{}">"#,
        escape_attr(&format!(
            "{origin}/oembed?format=json&url={}",
            encode(page_url)
        )),
        "Ancrage (oEmbed)"
    )
}

/// `html` with `link` inserted just before `</head>` (unchanged when there is no head end).
fn with_link(html: &[u8], link: &str) -> Option<Vec<u8>> {
    let at = html
        .windows(7)
        .position(|w| w.eq_ignore_ascii_case(b"</head>"))?;
    let mut out = Vec::with_capacity(html.len() + link.len() + 1);
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(link.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&html[at..]);
    Some(out)
}

/// The middleware: adds the discovery link to the HTML of shared pages.
///
/// # Errors
/// Those of the wrapped service, or reading its body.
pub async fn link(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let wanted =
        (req.method() == Method::GET || req.method() == Method::HEAD) && is_shared_page(req.path());
    let res = next.call(req).await?;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !wanted || !html || res.status() != StatusCode::OK {
        return Ok(res.map_into_boxed_body());
    }
    let (http_req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("reading the page"))?;
    let info = http_req.connection_info().clone();
    let origin = format!("{}://{}", info.scheme(), info.host());
    let linked = with_link(&bytes, &discovery_link(&origin, &absolute_url(&http_req)))
        .unwrap_or_else(|| bytes.to_vec());
    let res = res.set_body(BoxBody::new(linked));
    Ok(ServiceResponse::new(http_req, res))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_goes_before_the_end_of_the_head_with_the_address_escaped() {
        let link = discovery_link(
            "https://ancrage.example",
            "https://ancrage.example/?cat=a&z=9",
        );
        assert_eq!(
            link,
            r#"<link rel="alternate" type="application/json+oembed" href="https://ancrage.example/oembed?format=json&amp;url=https:%2F%2Fancrage.example%2F%3Fcat%3Da%26z%3D9" title="Ancrage (oEmbed)">"#
        );
        let out = with_link(b"<html><head><title>x</title></HEAD><body>", "<link>").expect("head");
        assert_eq!(
            String::from_utf8_lossy(&out),
            "<html><head><title>x</title><link>\n</HEAD><body>"
        );
        assert_eq!(with_link(b"<p>no head</p>", "<link>"), None);
    }
}
