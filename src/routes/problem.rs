//! Errors as `application/problem+json` (RFC 9457): what was wrong, never internals.

use crate::domain::InputError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Every error a route can answer with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter or path segment broke a rule (400).
    #[error("{0}")]
    InvalidParameter(InputError),
    /// A request body was well-formed JSON but not an acceptable value (422).
    #[error("{0}")]
    InvalidBody(InputError),
    /// The body could not be read as JSON (400).
    #[error("{0}")]
    MalformedBody(String),
    /// The body is larger than accepted (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// Nothing at this address (404).
    #[error("{0}")]
    NotFound(String),
    /// A request body broke several rules, each listed (422).
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidFields(Vec<InputError>),
    /// No valid administrator token was presented (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The resource is not in a state that allows this (409).
    #[error("{0}")]
    Conflict(String),
    /// Too many requests from this client: retry after so many seconds (429).
    #[error("too many requests: retry in {0} s")]
    TooManyRequests(u64),
    /// The store is busy or unreachable: retry after so many seconds (503). Reads keep being
    /// answered from the in-memory snapshot meanwhile.
    #[error("the service cannot write right now: retry in {0} s")]
    Unavailable(u64),
    /// Anything unexpected (500): logged with its cause, answered without it.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Seconds a client is asked to wait when the store is busy or unreachable.
pub const STORE_RETRY_AFTER_S: u64 = 5;

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_transient() {
            tracing::warn!("store unavailable: {e}");
            Self::Unavailable(STORE_RETRY_AFTER_S)
        } else {
            Self::Internal(e.into())
        }
    }
}

impl From<InputError> for ApiError {
    fn from(e: InputError) -> Self {
        Self::InvalidParameter(e)
    }
}

impl ApiError {
    fn kind(&self) -> (&'static str, &'static str) {
        match self {
            Self::InvalidParameter(_) => ("invalid-parameter", "Invalid parameter"),
            Self::InvalidBody(_) => ("invalid-body", "Invalid request body"),
            Self::MalformedBody(_) => ("malformed-body", "Malformed request body"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Request body too large"),
            Self::NotFound(_) => ("not-found", "Not found"),
            Self::InvalidFields(_) => ("invalid-body", "Invalid request body"),
            Self::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::TooManyRequests(_) => ("too-many-requests", "Too many requests"),
            Self::Unavailable(_) => ("unavailable", "Service temporarily unavailable"),
            Self::Internal(_) => ("internal", "Internal error"),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidParameter(_) | Self::MalformedBody(_) => StatusCode::BAD_REQUEST,
            Self::InvalidBody(_) | Self::InvalidFields(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let (slug, title) = self.kind();
        let mut body = json!({
            "type": format!("/api/v1/docs#problem-{slug}"),
            "title": title,
            "status": status.as_u16(),
        });
        match self {
            Self::InvalidParameter(e) | Self::InvalidBody(e) => {
                body["detail"] = json!(e.to_string());
                body["field"] = json!(e.field);
                body["rule"] = json!(e.rule);
            }
            Self::MalformedBody(d)
            | Self::PayloadTooLarge(d)
            | Self::NotFound(d)
            | Self::Unauthorized(d)
            | Self::Conflict(d) => {
                body["detail"] = json!(d);
            }
            Self::InvalidFields(errors) => {
                body["detail"] = json!(self.to_string());
                if let Some(first) = errors.first() {
                    body["field"] = json!(first.field);
                    body["rule"] = json!(first.rule);
                }
                body["errors"] = errors
                    .iter()
                    .map(|e| json!({"field": e.field, "rule": e.rule}))
                    .collect();
            }
            Self::TooManyRequests(_) | Self::Unavailable(_) => {
                body["detail"] = json!(self.to_string());
            }
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                body["detail"] =
                    json!("The server could not answer this request. It has been logged.");
            }
        }
        let mut res = HttpResponse::build(status);
        res.content_type("application/problem+json");
        match self {
            Self::Unauthorized(_) => {
                res.insert_header((
                    actix_web::http::header::WWW_AUTHENTICATE,
                    "Bearer realm=\"ancrage-admin\"",
                ));
            }
            Self::TooManyRequests(seconds) | Self::Unavailable(seconds) => {
                res.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
            }
            _ => {}
        }
        res.body(body.to_string())
    }
}

/// Maps actix's own extractor errors (query strings, JSON bodies) to problem+json.
pub fn query_error(
    err: actix_web::error::QueryPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    ApiError::InvalidParameter(InputError::new("query", err.to_string())).into()
}

/// Maps body-reading errors, telling a too-large body from a malformed one.
pub fn json_error(
    err: actix_web::error::JsonPayloadError,
    _: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    match err {
        E::Overflow { limit } | E::OverflowKnownLength { limit, .. } => {
            ApiError::PayloadTooLarge(format!("the body must be at most {limit} bytes")).into()
        }
        E::ContentType => ApiError::MalformedBody(
            "send the body as application/json or application/geo+json".into(),
        )
        .into(),
        other => ApiError::MalformedBody(format!("the body is not valid JSON: {other}")).into(),
    }
}
