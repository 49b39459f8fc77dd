//! `/metrics`: the Prometheus text exposition. Request counts and latencies are kept in memory
//! per process by a middleware (by method, route pattern and status class); the desk's gauges
//! are read from the database at scrape time (indexed aggregates, no timeline scans).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use opsdesk_store::Store;
use prometheus_client::encoding::{prometheus_text, EncodeLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::error::{ApiError, Code};
use crate::AppState;

/// The `Content-Type` of the exposition (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

/// Upper bounds (seconds) of the request-latency histogram buckets.
const BOUNDS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// The labels of a request's latency: method, route pattern, status class.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

fn histogram() -> Histogram {
    Histogram::new(BOUNDS)
}

/// Request counts and latencies of this process, by method, route pattern and status class.
#[derive(Debug, Clone)]
pub struct RequestStats {
    latencies: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl Default for RequestStats {
    fn default() -> Self {
        Self {
            latencies: Family::new_with_constructor(histogram),
        }
    }
}

/// Middleware: times every request under its route pattern (never the raw path, so ids do
/// not multiply the series).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: format!("{}xx", response.status().as_u16() / 100),
    };
    state
        .requests
        .latencies
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActiveLabels {
    team: String,
    priority: String,
    tier: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MetricLabel {
    metric: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeverityLabel {
    severity: String,
}

/// A counter read from the database at scrape time.
fn counter(value: i64) -> Counter {
    let counter = Counter::default();
    counter.inc_by(u64::try_from(value).unwrap_or(0));
    counter
}

/// The whole exposition: the desk's gauges read from `store` now, then this process's
/// request latencies.
pub async fn render(store: &Store, requests: &RequestStats) -> Result<String, ApiError> {
    let gauges = store.metric_gauges().await?;
    let mut registry = Registry::default();
    let active = Family::<ActiveLabels, Gauge>::default();
    for g in &gauges.active_tickets {
        let labels = ActiveLabels {
            team: g.team.clone(),
            priority: g.priority.clone(),
            tier: g.tier.clone(),
        };
        active.get_or_create(&labels).set(g.count);
    }
    registry.register(
        "opsdesk_tickets_active",
        "Tickets new, open or pending, by team, priority and tier",
        active,
    );
    registry.register(
        "opsdesk_tickets_created",
        "Tickets ever created",
        counter(gauges.tickets_total),
    );
    let breaches = Family::<MetricLabel, Counter>::default();
    for (metric, n) in &gauges.breaches {
        let labels = MetricLabel {
            metric: metric.clone(),
        };
        breaches
            .get_or_create(&labels)
            .inc_by(u64::try_from(*n).unwrap_or(0));
    }
    registry.register(
        "opsdesk_sla_breaches",
        "SLA breaches recorded, by metric",
        breaches,
    );
    let incidents = Family::<SeverityLabel, Gauge>::default();
    for (severity, n) in &gauges.open_incidents {
        let labels = SeverityLabel {
            severity: severity.clone(),
        };
        incidents.get_or_create(&labels).set(*n);
    }
    registry.register(
        "opsdesk_incidents_open",
        "Incidents not resolved, by severity",
        incidents,
    );
    registry.register(
        "opsdesk_alerts_received",
        "Alert deliveries received (repeats included)",
        counter(gauges.alert_receipts),
    );
    registry.register(
        "opsdesk_mail_received",
        "Inbound mail messages stored",
        counter(gauges.mail_received),
    );
    registry.register(
        "opsdesk_http_request_duration_seconds",
        "HTTP requests of this process, by method, route and status class",
        requests.latencies.clone(),
    );
    let mut out = String::new();
    prometheus_text::encode(&mut out, &registry)
        .map_err(|e| ApiError::new(Code::Internal, format!("metrics not written: {e}")))?;
    Ok(out)
}
