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
    /// Anything unexpected (500): logged with its cause, answered without it.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
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
            Self::Internal(_) => ("internal", "Internal error"),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::InvalidParameter(_) | Self::MalformedBody(_) => StatusCode::BAD_REQUEST,
            Self::InvalidBody(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
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
            Self::MalformedBody(d) | Self::PayloadTooLarge(d) | Self::NotFound(d) => {
                body["detail"] = json!(d);
            }
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                body["detail"] =
                    json!("The server could not answer this request. It has been logged.");
            }
        }
        HttpResponse::build(status)
            .content_type("application/problem+json")
            .body(body.to_string())
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
