//! `Idempotency-Key` on every API `POST`: a retry with the same key gets the first answer.
//!
//! The key is scoped to the caller's token. The first request claims the key, runs, and its
//! successful answer is recorded; a retry with the same key and the same request replays that
//! answer (with `Idempotent-Replayed: true`), the same key on a different request is refused,
//! and a retry while the first still runs gets 409. A failed request gives its key back.
//! Ticket creation records its key in the same transaction as the ticket (see the store), so it
//! is left to its handler.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use opsdesk_store::Claim;
use sha2::{Digest, Sha256};

use crate::auth::secret_hash;
use crate::error::{ApiError, Code};
use crate::input::MAX_BODY_BYTES;
use crate::AppState;

/// Largest answer that is recorded for replay.
const MAX_RECORDED_BYTES: usize = 1024 * 1024;

/// The middleware; see the module documentation.
pub async fn replay(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if request.method() != Method::POST
        || !path.starts_with("/api/v1/")
        || path == "/api/v1/tickets"
    {
        return next.run(request).await;
    }
    let Some(raw_key) = request.headers().get("idempotency-key") else {
        return next.run(request).await;
    };
    let Some(key) = raw_key
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 200)
        .map(str::to_owned)
    else {
        return ApiError::field(
            Code::InvalidInput,
            "Idempotency-Key",
            "must be 1 to 200 visible ASCII characters",
        )
        .into_response();
    };
    let Some(token) = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_owned)
    else {
        return next.run(request).await;
    };
    let scope = secret_hash(&token);
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::new(
            Code::PayloadTooLarge,
            format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        )
        .into_response();
    };
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update([0]);
    hasher.update(&bytes);
    let fingerprint = hex::encode(hasher.finalize());
    match state
        .store
        .claim_idempotency(&scope, &key, &fingerprint, Timestamp::now())
        .await
    {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::InProgress) => ApiError::field(
            Code::Conflict,
            "Idempotency-Key",
            "a request with this key is still running; retry in a moment",
        )
        .into_response(),
        Ok(Claim::Done {
            fingerprint: first,
            status,
            body,
        }) => {
            if first != fingerprint {
                return ApiError::field(
                    Code::InvalidInput,
                    "Idempotency-Key",
                    "this key was already used for a different request",
                )
                .into_response();
            }
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut response = (status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
            response
        }
        Ok(Claim::Claimed) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            if !response.status().is_success() {
                if let Err(e) = state.store.release_idempotency(&scope, &key).await {
                    tracing::warn!(error = %e, "cannot release an idempotency key");
                }
                return response;
            }
            let (parts, body) = response.into_parts();
            let Ok(bytes) = to_bytes(body, MAX_RECORDED_BYTES).await else {
                return ApiError::new(Code::Internal, "the answer was too large to record")
                    .into_response();
            };
            let text = String::from_utf8_lossy(&bytes).into_owned();
            if let Err(e) = state
                .store
                .complete_idempotency(&scope, &key, parts.status.as_u16(), &text)
                .await
            {
                tracing::warn!(error = %e, "cannot record an idempotent answer");
            }
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}
