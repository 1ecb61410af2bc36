//! `POST /api/v1/contributions`: the public proposes a new place, a correction or a closure.
//! Nothing public changes until a moderator approves it (see [`super::admin`]).
//!
//! Abuse resistance: a small body limit, a rate limit per client address, a honeypot field
//! (filled in, the contribution is acknowledged but dropped), and the import's strict
//! validation, which refuses markup in every text.

use super::limit::client_key;
use super::problem::{self, ApiError};
use crate::admin::actions::{self, AdminError, ContributionBody};
use crate::startup::AppState;
use crate::store::{RateDecision, Store};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr};

/// Largest accepted contribution body, in bytes.
pub const MAX_CONTRIBUTION_BYTES: usize = 16 * 1024;

/// Registers the route with its own body limit.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/contributions")
            .app_data(
                web::JsonConfig::default()
                    .limit(MAX_CONTRIBUTION_BYTES)
                    .content_type(|mime| mime.essence_str() == "application/json")
                    .error_handler(problem::json_error),
            )
            .route(web::post().to(submit)),
    );
}

/// The address the rate limit is keyed on: the peer of the connection, or, when the peer is
/// a trusted reverse proxy, the nearest address in `X-Forwarded-For` that is not one of them
/// (entries further left are the client's own claims and could be forged).
fn client(req: &HttpRequest, trusted: &[IpAddr]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    forwarded_client(
        peer,
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok()),
        trusted,
    )
}

/// See [`client`]: `forwarded` are the header's values in order.
fn forwarded_client<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    client
}

fn accepted() -> HttpResponse {
    HttpResponse::Accepted()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(
            json!({
                "status": "pending",
                "detail": "Thank you: the moderators will review this proposal before anything changes on the map."
            })
            .to_string(),
        )
}

/// `POST /api/v1/contributions`: 202 once stored for moderation.
async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ContributionBody>,
) -> Result<HttpResponse, ApiError> {
    let key = client_key(client(&req, &state.trusted_proxies));
    if let RateDecision::Limited(wait) = state
        .store
        .take_rate(&key, state.contributions_per_hour)
        .await?
    {
        return Err(ApiError::TooManyRequests(wait.as_secs() + 1));
    }
    if body.is_bait_taken() {
        tracing::info!("a contribution with the honeypot filled in was dropped");
        return Ok(accepted());
    }
    match actions::submit(&state, &body).await {
        Ok(id) => {
            tracing::info!(contribution = id, kind = %body.kind, "contribution received");
            Ok(accepted())
        }
        Err(AdminError::Invalid(errors)) => Err(ApiError::InvalidFields(errors)),
        Err(AdminError::NotFound(m)) => Err(ApiError::NotFound(m)),
        Err(AdminError::Conflict(m)) => Err(ApiError::Conflict(m)),
        Err(AdminError::Unavailable(e)) => Err(e.into()),
        Err(AdminError::Internal(e)) => Err(ApiError::Internal(e)),
    }
}

#[cfg(test)]
mod forwarded_tests {
    use super::forwarded_client;
    use std::net::IpAddr;

    fn ip(s: &str) -> IpAddr {
        s.parse()
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn only_a_trusted_proxy_is_believed_and_only_for_its_own_hop() {
        let proxy = ip("10.0.0.2");
        let trusted = [proxy, ip("10.0.0.3")];
        // A direct client: its header is ignored.
        assert_eq!(
            forwarded_client(ip("192.0.2.7"), ["198.51.100.1"].into_iter(), &trusted),
            ip("192.0.2.7")
        );
        // Through the proxy: the address it appended.
        assert_eq!(
            forwarded_client(proxy, ["198.51.100.1"].into_iter(), &trusted),
            ip("198.51.100.1")
        );
        // A forged entry further left is not believed; chained trusted proxies are skipped.
        assert_eq!(
            forwarded_client(
                proxy,
                ["203.0.113.9, 198.51.100.1, 10.0.0.3"].into_iter(),
                &trusted
            ),
            ip("198.51.100.1")
        );
        // Several headers count as one list; garbage stops the walk at the proxy.
        assert_eq!(
            forwarded_client(proxy, ["203.0.113.9", "198.51.100.4"].into_iter(), &trusted),
            ip("198.51.100.4")
        );
        assert_eq!(
            forwarded_client(proxy, ["nonsense"].into_iter(), &trusted),
            proxy
        );
        assert_eq!(forwarded_client(proxy, std::iter::empty(), &trusted), proxy);
    }
}
