//! `/metrics`: the Prometheus text exposition. Request counts and latencies are kept in memory
//! per process by a middleware (by method, route pattern and status class); the desk's gauges
//! are read from the database at scrape time (indexed aggregates, no timeline scans).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use opsdesk_store::{Store, StoreError};

use crate::AppState;

/// Upper bounds (seconds) of the request-latency histogram buckets.
const BOUNDS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Counts and latency histogram of one (method, route, status class).
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    /// Requests per bucket of [`BOUNDS`] (not cumulative), plus the overflow.
    buckets: [u64; 11],
    /// Sum of latencies, seconds.
    sum: f64,
    /// Requests.
    count: u64,
}

/// Latencies by (method, route pattern, status class).
pub type ByRoute = BTreeMap<(String, String, String), Latencies>;

/// Request statistics of this process.
#[derive(Debug, Clone, Default)]
pub struct RequestStats {
    inner: Arc<Mutex<ByRoute>>,
}

impl RequestStats {
    fn record(&self, key: (String, String, String), secs: f64) {
        let Ok(mut map) = self.inner.lock() else {
            return;
        };
        let entry = map.entry(key).or_default();
        let i = BOUNDS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BOUNDS.len());
        entry.buckets[i] += 1;
        entry.sum += secs;
        entry.count += 1;
    }

    /// A copy of the statistics so far.
    pub fn snapshot(&self) -> ByRoute {
        self.inner.lock().map(|m| m.clone()).unwrap_or_default()
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
    let class = format!("{}xx", response.status().as_u16() / 100);
    state
        .requests
        .record((method, route, class), started.elapsed().as_secs_f64());
    response
}

fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The whole exposition: the desk's gauges from `store`, then the request statistics.
pub async fn render(store: &Store, requests: ByRoute) -> Result<String, StoreError> {
    let gauges = store.metric_gauges().await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP opsdesk_tickets_active Tickets new, open or pending, by team, priority and tier.\n# TYPE opsdesk_tickets_active gauge"
    );
    for g in &gauges.active_tickets {
        let _ = writeln!(
            out,
            "opsdesk_tickets_active{{team=\"{}\",priority=\"{}\",tier=\"{}\"}} {}",
            escape(&g.team),
            g.priority,
            g.tier,
            g.count
        );
    }
    let _ = writeln!(
        out,
        "# HELP opsdesk_tickets_created_total Tickets ever created.\n# TYPE opsdesk_tickets_created_total counter\nopsdesk_tickets_created_total {}",
        gauges.tickets_total
    );
    let _ = writeln!(
        out,
        "# HELP opsdesk_sla_breaches_total SLA breaches recorded, by metric.\n# TYPE opsdesk_sla_breaches_total counter"
    );
    for (metric, n) in &gauges.breaches {
        let _ = writeln!(
            out,
            "opsdesk_sla_breaches_total{{metric=\"{}\"}} {n}",
            escape(metric)
        );
    }
    let _ = writeln!(
        out,
        "# HELP opsdesk_incidents_open Incidents not resolved, by severity.\n# TYPE opsdesk_incidents_open gauge"
    );
    for (severity, n) in &gauges.open_incidents {
        let _ = writeln!(
            out,
            "opsdesk_incidents_open{{severity=\"{}\"}} {n}",
            escape(severity)
        );
    }
    let _ = writeln!(
        out,
        "# HELP opsdesk_alerts_received_total Alert deliveries received (repeats included).\n# TYPE opsdesk_alerts_received_total counter\nopsdesk_alerts_received_total {}",
        gauges.alert_receipts
    );
    let _ = writeln!(
        out,
        "# HELP opsdesk_mail_received_total Inbound mail messages stored.\n# TYPE opsdesk_mail_received_total counter\nopsdesk_mail_received_total {}",
        gauges.mail_received
    );
    let _ = writeln!(
        out,
        "# HELP opsdesk_http_request_duration_seconds HTTP requests of this process, by method, route and status class.\n# TYPE opsdesk_http_request_duration_seconds histogram"
    );
    for ((method, route, class), l) in &requests {
        let labels = format!(
            "method=\"{}\",route=\"{}\",status=\"{}\"",
            escape(method),
            escape(route),
            escape(class)
        );
        let mut cumulative = 0;
        for (i, bound) in BOUNDS.iter().enumerate() {
            cumulative += l.buckets[i];
            let _ = writeln!(
                out,
                "opsdesk_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "opsdesk_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\nopsdesk_http_request_duration_seconds_sum{{{labels}}} {}\nopsdesk_http_request_duration_seconds_count{{{labels}}} {}",
            l.count, l.sum, l.count
        );
    }
    Ok(out)
}
