//! Every error the HTTP edge returns, mapped once to an RFC 9457 problem+json response.
//!
//! [`Code`] is the one table of stable error codes, their HTTP status and their title.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opsdesk_domain::{Denied, Invalid};
use opsdesk_store::StoreError;
use serde::Serialize;

/// Stable error codes clients can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// A field failed validation.
    InvalidInput,
    /// The body is not well-formed JSON.
    MalformedJson,
    /// The body is not JSON at all.
    UnsupportedMediaType,
    /// The body is larger than the server accepts.
    PayloadTooLarge,
    /// No valid credentials.
    Unauthenticated,
    /// Credentials valid, action not allowed.
    Forbidden,
    /// Nothing there (or nothing the caller may know about).
    NotFound,
    /// Collides with existing data.
    Conflict,
    /// Too many attempts.
    RateLimited,
    /// The database is unreachable.
    Unavailable,
    /// A bug on our side.
    Internal,
}

impl Code {
    /// The status, machine code and title of each error code.
    pub fn describe(self) -> (StatusCode, &'static str, &'static str) {
        match self {
            Code::InvalidInput => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                "Invalid input",
            ),
            Code::MalformedJson => (StatusCode::BAD_REQUEST, "malformed_json", "Malformed JSON"),
            Code::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            Code::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            Code::Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            Code::Forbidden => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            Code::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found"),
            Code::Conflict => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Code::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
            ),
            Code::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            Code::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal server error",
            ),
        }
    }
}

/// One field's problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The input field, as named in the request.
    pub field: String,
    /// Why it was refused.
    pub reason: String,
}

/// An error on its way to becoming a problem+json response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The error code.
    pub code: Code,
    /// A sentence for people.
    pub detail: String,
    /// The fields at fault.
    pub errors: Vec<FieldError>,
}

/// The RFC 9457 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the problem type: `urn:opsdesk:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the problem type.
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// What went wrong here.
    pub detail: String,
    /// Stable machine code.
    pub code: &'static str,
    /// Field errors, when input was refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl ApiError {
    /// An error with a code and detail and no field errors.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    /// A validation error on fields.
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.reason))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            code: Code::InvalidInput,
            detail,
            errors,
        }
    }

    /// A refusal naming one field, with a chosen code.
    pub fn field(code: Code, field: &str, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        Self {
            code,
            detail: format!("{field}: {reason}"),
            errors: vec![FieldError {
                field: field.to_owned(),
                reason,
            }],
        }
    }

    /// The problem body of this error.
    pub fn problem(&self) -> Problem {
        let (status, code, title) = self.code.describe();
        Problem {
            kind: format!("urn:opsdesk:problem:{code}"),
            title,
            status: status.as_u16(),
            detail: self.detail.clone(),
            code,
            errors: self.errors.clone(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status = self.code.describe().0;
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if self.code == Code::Unauthenticated {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<Invalid> for ApiError {
    fn from(err: Invalid) -> Self {
        Self::invalid(vec![FieldError {
            field: err.field.to_owned(),
            reason: err.reason,
        }])
    }
}

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> Self {
        match denied {
            Denied::Hidden => Self::new(Code::NotFound, "no such ticket"),
            Denied::Forbidden(why) => Self::new(Code::Forbidden, why),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Invalid(invalid) => invalid.into(),
            StoreError::NotFound(what) => Self::new(Code::NotFound, format!("no such {what}")),
            StoreError::Conflict { field, reason } => Self::field(Code::Conflict, field, reason),
            StoreError::Unavailable(why) => {
                tracing::error!(error = %why, "database unavailable");
                Self::new(
                    Code::Unavailable,
                    "the database is unavailable; nothing was changed",
                )
            }
            StoreError::Engine(why) => {
                tracing::error!(error = %why, "database error");
                Self::new(
                    Code::Internal,
                    "a database error occurred; nothing was changed",
                )
            }
            StoreError::Database(db) => {
                tracing::error!(error = %db, "database error");
                Self::new(
                    Code::Internal,
                    "a database error occurred; nothing was changed",
                )
            }
            StoreError::Corrupt(why) => {
                tracing::error!(error = %why, "unreadable stored data");
                Self::new(Code::Internal, "stored data could not be read")
            }
        }
    }
}

/// Collects field errors while parsing a request, so one response names every bad field.
#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    /// Keeps the value of `result`, or records its error and returns `None`.
    pub fn check<T>(&mut self, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.errors.push(FieldError {
                    field: err.field.to_owned(),
                    reason: err.reason,
                });
                None
            }
        }
    }

    /// Records an error on `field`.
    pub fn fail(&mut self, field: &str, reason: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.to_owned(),
            reason: reason.into(),
        });
    }

    /// Whether no check has failed so far.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// `Ok` when nothing failed, else the validation error naming every field.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(self.errors))
        }
    }
}
