//! Inbound alert endpoints (`/hooks/…`): each request is bound to an integration by its secret
//! token (in the path, a bearer header, or PagerDuty's `routing_key`), read in that
//! integration's format and committed before the 2xx.
//!
//! Replies follow what senders retry: 4xx for a payload that will never read (nothing stored),
//! 429 over the integration's rate limit, 5xx only for transient failures (Alertmanager retries
//! 5xx with backoff).

pub mod formats;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use jiff::Timestamp;
use opsdesk_store::{Integration, IntegrationKind};
use serde::Serialize;

use crate::auth::secret_hash;
use crate::error::{ApiError, Code};
use crate::AppState;
use formats::Request;

/// Largest alert payload read (Alertmanager groups can be large).
pub const MAX_HOOK_BYTES: usize = 8 * 1024 * 1024;
/// How long a token's integration is remembered (settings edits show within this).
const CACHE_TTL: Duration = Duration::from_secs(2);

/// Per-process state of the inbound endpoints: recently seen integrations and rate counters.
#[derive(Debug, Default)]
pub struct HookState {
    integrations: Mutex<HashMap<String, (Instant, Integration)>>,
    /// Per integration: the minute counted and requests in it.
    counts: Mutex<HashMap<i64, (u64, i64)>>,
}

impl HookState {
    async fn integration(&self, state: &AppState, token: &str) -> Result<Integration, ApiError> {
        let hash = secret_hash(token.trim());
        if let Ok(cache) = self.integrations.lock() {
            if let Some((at, i)) = cache.get(&hash) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(i.clone());
                }
            }
        }
        let found = crate::app::incidents::integration_by_token(&state.store, &hash)
            .await?
            .ok_or_else(|| ApiError::new(Code::Unauthenticated, "no integration has this token"))?;
        if let Ok(mut cache) = self.integrations.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash, (Instant::now(), found.clone()));
        }
        Ok(found)
    }

    /// Counts a request against the integration's per-minute limit.
    fn admit(&self, integration: &Integration, now: Timestamp) -> Result<(), ApiError> {
        let limit = integration.settings.rate_limit_per_minute;
        if limit <= 0 {
            return Ok(());
        }
        let minute = (now.as_second() / 60) as u64;
        let Ok(mut counts) = self.counts.lock() else {
            return Ok(());
        };
        let entry = counts.entry(integration.id).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        entry.1 += 1;
        if entry.1 > limit {
            return Err(ApiError::new(
                Code::RateLimited,
                format!(
                    "integration '{}' accepts {limit} requests per minute; try again next minute",
                    integration.name
                ),
            ));
        }
        Ok(())
    }
}

/// The inbound routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/pagerduty/v2/enqueue", post(pagerduty_enqueue))
        .route("/hooks/{kind}", post(receive_with_header))
        .route("/hooks/{kind}/{token}", post(receive_with_path))
        .layer(DefaultBodyLimit::max(MAX_HOOK_BYTES))
}

/// What a receipt answers (PagerDuty senders get PagerDuty's own reply shape instead).
#[derive(Debug, Serialize)]
struct Receipt {
    status: &'static str,
    received: usize,
    created: usize,
    resolved: usize,
    suppressed: usize,
    truncated: u64,
    incidents_opened: Vec<i64>,
    incidents_updated: Vec<i64>,
}

#[derive(Debug, Serialize)]
struct PagerDutyReply {
    status: &'static str,
    message: &'static str,
    dedup_key: String,
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(token.trim().to_owned())
}

async fn receive_with_path(
    State(state): State<AppState>,
    Path((kind, token)): Path<(String, String)>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    receive(&state, &kind, Some(token), body).await
}

async fn receive_with_header(
    State(state): State<AppState>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    receive(&state, &kind, bearer(&headers), body).await
}

async fn pagerduty_enqueue(
    State(state): State<AppState>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    receive(&state, "pagerduty", None, body).await
}

async fn receive(
    state: &AppState,
    kind: &str,
    token: Option<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    match handle(state, kind, token, body).await {
        Ok(response) => response,
        Err(err) => {
            let retry = err.code == Code::RateLimited;
            let mut response = err.into_response();
            if retry {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            }
            response
        }
    }
}

async fn handle(
    state: &AppState,
    kind: &str,
    token: Option<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Response, ApiError> {
    let now = Timestamp::now();
    let kind = IntegrationKind::parse("kind", kind)
        .map_err(|e| ApiError::new(Code::NotFound, e.reason))?;
    let body = body.map_err(|_| {
        ApiError::new(
            Code::PayloadTooLarge,
            format!("an alert payload is at most {MAX_HOOK_BYTES} bytes"),
        )
    })?;
    let token = match token {
        Some(t) => t,
        None if kind == IntegrationKind::PagerDuty => formats::pagerduty_routing_key(&body)
            .ok_or_else(|| {
                ApiError::new(
                    Code::Unauthenticated,
                    "send the integration token as routing_key, in the URL or as a bearer token",
                )
            })?,
        None => return Err(ApiError::new(
            Code::Unauthenticated,
            "send the integration token in the URL (/hooks/<kind>/<token>) or as a bearer token",
        )),
    };
    let integration = state.hooks.integration(state, &token).await?;
    if integration.kind != kind {
        return Err(ApiError::field(
            Code::InvalidInput,
            "kind",
            format!(
                "this token belongs to a {} integration: send to /hooks/{}/…",
                integration.kind.as_str(),
                integration.kind.as_str()
            ),
        ));
    }
    state.hooks.admit(&integration, now)?;
    let settings = &integration.settings;
    let request = match kind {
        IntegrationKind::Alertmanager => formats::alertmanager(&body, settings, false, now)?,
        IntegrationKind::Grafana => formats::alertmanager(&body, settings, true, now)?,
        IntegrationKind::PagerDuty => formats::pagerduty(&body, settings, now, || {
            format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
        })?,
        IntegrationKind::Generic => formats::generic(&body, settings, now)?,
    };
    match request {
        Request::Acknowledge { fingerprint } => {
            crate::app::incidents::acknowledge_alert(&state.store, &integration, &fingerprint, now)
                .await?;
            Ok(pagerduty_reply(fingerprint))
        }
        Request::Alerts { alerts, truncated } => {
            let dedup = alerts.first().map(|a| a.fingerprint.clone());
            let outcome =
                crate::app::incidents::ingest_alerts(&state.store, &integration, alerts, now)
                    .await?;
            if kind == IntegrationKind::PagerDuty {
                return Ok(pagerduty_reply(dedup.unwrap_or_default()));
            }
            Ok((
                StatusCode::OK,
                Json(Receipt {
                    status: "success",
                    received: outcome.received,
                    created: outcome.created,
                    resolved: outcome.resolved,
                    suppressed: outcome.suppressed,
                    truncated,
                    incidents_opened: outcome.opened,
                    incidents_updated: outcome.updated,
                }),
            )
                .into_response())
        }
    }
}

fn pagerduty_reply(dedup_key: String) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(PagerDutyReply {
            status: "success",
            message: "Event processed",
            dedup_key,
        }),
    )
        .into_response()
}
