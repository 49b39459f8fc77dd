//! The alert formats opsdesk reads, each reduced to [`AlertInput`]s: Alertmanager webhook v4,
//! Grafana alerting webhook (Alertmanager's shape plus Grafana's fields), PagerDuty Events API
//! v2, and generic JSON read through an integration's field mapping.
//!
//! Every refusal names the field (`alerts[3].status`) and the reason; nothing is stored unless
//! the whole payload reads.

use std::collections::BTreeMap;
use std::fmt::Display;

use jiff::Timestamp;
use opsdesk_domain::incident::{fingerprint, group_key};
use opsdesk_store::{AlertInput, GenericMapping, IntegrationSettings};
use serde::Deserialize;
use serde_json::Value;

use crate::error::{ApiError, Code};
use crate::input;

/// Most alerts one request may carry.
pub const MAX_ALERTS: usize = 5_000;
/// Longest summary kept.
const MAX_SUMMARY: usize = 300;
/// Most labels (or annotations) one alert may carry.
const MAX_LABELS: usize = 200;

/// What a payload asks for, beyond alerts to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Record these alerts (firing or resolved).
    Alerts {
        /// The alerts.
        alerts: Vec<AlertInput>,
        /// Alerts the sender left out (Alertmanager's `truncatedAlerts`).
        truncated: u64,
    },
    /// PagerDuty `acknowledge`: acknowledge the incident holding this alert.
    Acknowledge {
        /// The alert's dedup key.
        fingerprint: String,
    },
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> ApiError {
    ApiError::field(Code::InvalidInput, &field.into(), reason)
}

fn clip(text: &str, max: usize) -> String {
    let trimmed = text.trim();
    match trimmed.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &trimmed[..cut]),
        None => trimmed.to_owned(),
    }
}

/// Parses an RFC 3339 instant; Go's zero time (`0001-01-01T00:00:00Z`) means "not set".
fn instant(field: &dyn Display, raw: Option<&str>) -> Result<Option<Timestamp>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    let t: Timestamp = raw.parse().map_err(|_| {
        bad(
            field.to_string(),
            format!("'{raw}' is not an RFC 3339 instant"),
        )
    })?;
    // Year 1 and before (Go's zero time is -62135596800 s) is "unset".
    Ok((t.as_second() > -62_000_000_000).then_some(t))
}

fn check_labels(field: &dyn Display, labels: &BTreeMap<String, String>) -> Result<(), ApiError> {
    if labels.len() > MAX_LABELS {
        return Err(bad(
            field.to_string(),
            format!("at most {MAX_LABELS} entries"),
        ));
    }
    for (k, v) in labels {
        check_text(&format_args!("{field}.{k}"), k)?;
        check_text(&format_args!("{field}.{k}"), v)?;
    }
    Ok(())
}

/// Names field `.1` of the alert at index `.0` (`alerts[3].labels`), formatted only when
/// an error needs it: checking a hundred alerts must not build a hundred field names.
struct AlertField(usize, &'static str);

impl Display for AlertField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "alerts[{}].{}", self.0, self.1)
    }
}

/// Refuses text no database stores as given (NUL) or no one reads (other control characters
/// but tab and line breaks).
fn check_text(field: &dyn Display, text: &str) -> Result<(), ApiError> {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(bad(field.to_string(), "contains control characters"));
    }
    Ok(())
}

/// A link back to the source, kept only when it is http(s): anything else (`javascript:`)
/// would run in a responder's browser when clicked.
fn safe_link(raw: Option<String>) -> Option<String> {
    raw.map(|u| u.trim().to_owned()).filter(|u| {
        let lower = u.to_ascii_lowercase();
        (lower.starts_with("https://") || lower.starts_with("http://")) && u.len() <= 2_000
    })
}

/// The group key for an alert: the integration's labels, else the source's own group, else
/// the alert name.
fn grouping(
    settings: &IntegrationSettings,
    labels: &BTreeMap<String, String>,
    source_group: Option<&str>,
) -> String {
    if !settings.group_by.is_empty() {
        return group_key(labels, &settings.group_by);
    }
    match source_group.filter(|g| !g.is_empty()) {
        Some(g) => g.to_owned(),
        None => group_key(labels, &["alertname".to_owned()]),
    }
}

/// Alertmanager webhook v4 (and Grafana's, which shares its shape).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmPayload {
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    group_key: Option<String>,
    alerts: Vec<AmAlert>,
    #[serde(default)]
    truncated_alerts: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AmAlert {
    status: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    ends_at: Option<String>,
    #[serde(default, rename = "generatorURL")]
    generator_url: Option<String>,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default, rename = "panelURL")]
    panel_url: Option<String>,
    #[serde(default, rename = "dashboardURL")]
    dashboard_url: Option<String>,
}

/// Reads an Alertmanager (`grafana` = false) or Grafana webhook payload.
pub fn alertmanager(
    body: &[u8],
    settings: &IntegrationSettings,
    grafana: bool,
    now: Timestamp,
) -> Result<Request, ApiError> {
    let payload: AmPayload = input::parse(body)?;
    if !grafana {
        if let Some(v) = payload.version.as_deref().filter(|v| *v != "4") {
            return Err(bad(
                "version",
                format!("version '{v}' is not the Alertmanager webhook version 4"),
            ));
        }
    }
    if payload.alerts.len() > MAX_ALERTS {
        return Err(bad(
            "alerts",
            format!("at most {MAX_ALERTS} alerts per request"),
        ));
    }
    let mut alerts = Vec::with_capacity(payload.alerts.len());
    for (i, a) in payload.alerts.into_iter().enumerate() {
        let at = |f: &str| format!("alerts[{i}].{f}");
        let firing = match a.status.as_str() {
            "firing" => true,
            "resolved" => false,
            other => {
                return Err(bad(
                    at("status"),
                    format!("'{other}' is neither firing nor resolved"),
                ))
            }
        };
        check_labels(&AlertField(i, "labels"), &a.labels)?;
        check_labels(&AlertField(i, "annotations"), &a.annotations)?;
        if a.labels.is_empty() {
            return Err(bad(at("labels"), "an alert needs at least one label"));
        }
        let fp = match a
            .fingerprint
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
        {
            Some(f) if f.len() > 200 => {
                return Err(bad(at("fingerprint"), "at most 200 characters"))
            }
            Some(f) => f.to_owned(),
            None => fingerprint(&a.labels),
        };
        let starts_at = instant(&AlertField(i, "startsAt"), a.starts_at.as_deref())?.unwrap_or(now);
        let ends_at = instant(&AlertField(i, "endsAt"), a.ends_at.as_deref())?;
        let summary = a
            .annotations
            .get("summary")
            .or_else(|| a.annotations.get("title"))
            .or_else(|| a.annotations.get("description"))
            .or_else(|| a.labels.get("alertname"))
            .map(|s| clip(s, MAX_SUMMARY))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("Alert {fp}"));
        let source_url = safe_link(if grafana {
            a.panel_url
                .filter(|u| !u.is_empty())
                .or(a.dashboard_url.filter(|u| !u.is_empty()))
                .or(a.generator_url)
        } else {
            a.generator_url
        });
        check_text(&AlertField(i, "fingerprint"), &fp)?;
        alerts.push(AlertInput {
            severity: settings
                .severity_of(a.labels.get(&settings.severity_label).map(String::as_str)),
            group_key: grouping(settings, &a.labels, payload.group_key.as_deref()),
            service: a.labels.get(&settings.service_label).cloned(),
            fingerprint: fp,
            firing,
            summary,
            labels: a.labels,
            annotations: a.annotations,
            source_url,
            starts_at,
            ends_at: if firing { None } else { ends_at.or(Some(now)) },
        });
    }
    Ok(Request::Alerts {
        alerts,
        truncated: payload.truncated_alerts,
    })
}

/// PagerDuty Events API v2 event.
#[derive(Debug, Deserialize)]
struct PdEvent {
    #[serde(default)]
    #[allow(dead_code)]
    routing_key: Option<String>,
    event_action: String,
    #[serde(default)]
    dedup_key: Option<String>,
    #[serde(default)]
    payload: Option<PdPayload>,
    #[serde(default)]
    links: Vec<PdLink>,
    #[serde(default)]
    client_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PdPayload {
    summary: String,
    source: String,
    severity: String,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    class: Option<String>,
    #[serde(default)]
    custom_details: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct PdLink {
    #[serde(default)]
    href: Option<String>,
}

/// The routing key of a PagerDuty event, which is the integration's token.
pub fn pagerduty_routing_key(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("routing_key")?
        .as_str()
        .map(str::to_owned)
}

/// Reads a PagerDuty Events API v2 event; a trigger without a dedup key gets `new_key`.
pub fn pagerduty(
    body: &[u8],
    settings: &IntegrationSettings,
    now: Timestamp,
    new_key: impl FnOnce() -> String,
) -> Result<Request, ApiError> {
    let event: PdEvent = input::parse(body)?;
    let dedup = event
        .dedup_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned);
    if dedup.as_ref().is_some_and(|k| k.len() > 255) {
        return Err(bad("dedup_key", "at most 255 characters"));
    }
    if let Some(k) = &dedup {
        check_text(&"dedup_key", k)?;
    }
    match event.event_action.as_str() {
        "trigger" => {}
        "acknowledge" | "resolve" => {
            let fingerprint = dedup.ok_or_else(|| {
                bad(
                    "dedup_key",
                    format!("{} needs the dedup_key of the alert", event.event_action),
                )
            })?;
            if event.event_action == "acknowledge" {
                return Ok(Request::Acknowledge { fingerprint });
            }
            let mut labels = BTreeMap::new();
            labels.insert("dedup_key".to_owned(), fingerprint.clone());
            return Ok(Request::Alerts {
                alerts: vec![AlertInput {
                    summary: format!("Alert {fingerprint}"),
                    severity: settings.severity_of(None),
                    group_key: format!("dedup:{fingerprint}"),
                    service: None,
                    fingerprint,
                    firing: false,
                    labels,
                    annotations: BTreeMap::new(),
                    source_url: None,
                    starts_at: now,
                    ends_at: Some(now),
                }],
                truncated: 0,
            });
        }
        other => {
            return Err(bad(
                "event_action",
                format!("'{other}' is not trigger, acknowledge or resolve"),
            ))
        }
    }
    let payload = event
        .payload
        .ok_or_else(|| bad("payload", "a trigger needs a payload"))?;
    check_text(&"payload.summary", &payload.summary)?;
    check_text(&"payload.source", &payload.source)?;
    if payload.summary.trim().is_empty() {
        return Err(bad("payload.summary", "must not be empty"));
    }
    if payload.summary.chars().count() > 1024 {
        return Err(bad("payload.summary", "at most 1024 characters"));
    }
    if payload.source.trim().is_empty() {
        return Err(bad("payload.source", "must not be empty"));
    }
    if !["critical", "error", "warning", "info"].contains(&payload.severity.as_str()) {
        return Err(bad(
            "payload.severity",
            format!(
                "'{}' is not critical, error, warning or info",
                payload.severity
            ),
        ));
    }
    let fingerprint = dedup.unwrap_or_else(new_key);
    let mut labels = BTreeMap::new();
    if let Some(Value::Object(details)) = &payload.custom_details {
        for (k, v) in details {
            let text = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            labels.insert(k.clone(), text);
        }
    }
    for (k, v) in [
        ("source", Some(&payload.source)),
        ("component", payload.component.as_ref()),
        ("group", payload.group.as_ref()),
        ("class", payload.class.as_ref()),
        ("severity", Some(&payload.severity)),
    ] {
        if let Some(v) = v {
            labels.insert(k.to_owned(), v.clone());
        }
    }
    check_labels(&"payload.custom_details", &labels)?;
    let mut annotations = BTreeMap::new();
    annotations.insert("summary".to_owned(), payload.summary.clone());
    if let Some(details) = &payload.custom_details {
        annotations.insert("custom_details".to_owned(), details.to_string());
    }
    // PagerDuty's own examples write offsets without a colon (+0000); an unreadable timestamp
    // is the receipt time rather than a refusal, as the field is optional there.
    let starts_at = payload
        .timestamp
        .as_deref()
        .and_then(|t| {
            t.parse::<Timestamp>().ok().or_else(|| {
                jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", t)
                    .ok()
                    .and_then(|b| b.to_timestamp().ok())
            })
        })
        .unwrap_or(now);
    let group = if settings.group_by.is_empty() {
        format!("dedup:{fingerprint}")
    } else {
        group_key(&labels, &settings.group_by)
    };
    Ok(Request::Alerts {
        alerts: vec![AlertInput {
            severity: settings.severity_of(Some(&payload.severity)),
            service: labels.get(&settings.service_label).cloned(),
            group_key: group,
            summary: clip(&payload.summary, MAX_SUMMARY),
            source_url: safe_link(
                event
                    .links
                    .into_iter()
                    .find_map(|l| l.href)
                    .or(event.client_url),
            ),
            fingerprint,
            firing: true,
            labels,
            annotations,
            starts_at,
            ends_at: None,
        }],
        truncated: 0,
    })
}

/// The mapping a generic integration uses where its own leaves a field empty.
fn pointer_or<'a>(set: &'a str, default: &'a str) -> &'a str {
    if set.is_empty() {
        default
    } else {
        set
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads any JSON through the integration's mapping (JSON pointers; defaults `/title`,
/// `/status`, `/severity`, `/fingerprint`, `/labels`, `/description`, `/source_url`).
pub fn generic(
    body: &[u8],
    settings: &IntegrationSettings,
    now: Timestamp,
) -> Result<Request, ApiError> {
    let root: Value = input::parse(body)?;
    let m: &GenericMapping = &settings.mapping;
    let items: Vec<&Value> = if m.alerts.is_empty() {
        match &root {
            Value::Array(items) => items.iter().collect(),
            other => vec![other],
        }
    } else {
        match root.pointer(&m.alerts) {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(other) => vec![other],
            None => {
                return Err(bad(
                    m.alerts.clone(),
                    format!("the payload has nothing at {} (mapping.alerts)", m.alerts),
                ))
            }
        }
    };
    if items.len() > MAX_ALERTS {
        return Err(bad(
            "alerts",
            format!("at most {MAX_ALERTS} alerts per request"),
        ));
    }
    let resolved_values: Vec<String> = if m.resolved_values.is_empty() {
        [
            "resolved",
            "ok",
            "inactive",
            "normal",
            "recovered",
            "closed",
        ]
        .map(str::to_owned)
        .to_vec()
    } else {
        m.resolved_values
            .iter()
            .map(|v| v.to_ascii_lowercase())
            .collect()
    };
    let mut alerts = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        let at = |p: &str| format!("alerts[{i}]{p}");
        let title_ptr = pointer_or(&m.title, "/title");
        let title = item
            .pointer(title_ptr)
            .and_then(scalar)
            .map(|t| clip(&t, MAX_SUMMARY))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| bad(at(title_ptr), "the alert has no title here (mapping.title)"))?;
        check_text(&at(title_ptr), &title)?;
        let mut labels = BTreeMap::new();
        if let Some(Value::Object(obj)) = item.pointer(pointer_or(&m.labels, "/labels")) {
            for (k, v) in obj {
                if let Some(s) = scalar(v) {
                    labels.insert(k.clone(), s);
                }
            }
        }
        check_labels(&at(pointer_or(&m.labels, "/labels")), &labels)?;
        let severity_word = item
            .pointer(pointer_or(&m.severity, "/severity"))
            .and_then(scalar)
            .or_else(|| labels.get(&settings.severity_label).cloned());
        if !labels.contains_key("alertname") {
            labels.insert("alertname".to_owned(), title.clone());
        }
        let status = item
            .pointer(pointer_or(&m.status, "/status"))
            .and_then(scalar)
            .unwrap_or_default()
            .to_ascii_lowercase();
        let firing = !resolved_values.contains(&status);
        let fp = match item
            .pointer(pointer_or(&m.fingerprint, "/fingerprint"))
            .and_then(scalar)
            .map(|f| f.trim().to_owned())
            .filter(|f| !f.is_empty())
        {
            Some(f) if f.len() > 200 => {
                return Err(bad(
                    at(pointer_or(&m.fingerprint, "/fingerprint")),
                    "at most 200 characters",
                ))
            }
            Some(f) => f,
            None => fingerprint(&labels),
        };
        let mut annotations = BTreeMap::new();
        if let Some(d) = item
            .pointer(pointer_or(&m.description, "/description"))
            .and_then(scalar)
        {
            annotations.insert("description".to_owned(), d);
        }
        alerts.push(AlertInput {
            severity: settings.severity_of(severity_word.as_deref()),
            group_key: grouping(settings, &labels, None),
            service: labels.get(&settings.service_label).cloned(),
            source_url: safe_link(
                item.pointer(pointer_or(&m.source_url, "/source_url"))
                    .and_then(scalar),
            ),
            fingerprint: fp,
            firing,
            summary: title,
            labels,
            annotations,
            starts_at: now,
            ends_at: (!firing).then_some(now),
        });
    }
    Ok(Request::Alerts {
        alerts,
        truncated: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-24T00:00:00Z".parse().unwrap_or_default()
    }

    #[test]
    fn zero_time_means_unset() {
        assert_eq!(instant(&"f", Some("0001-01-01T00:00:00Z")).ok(), Some(None));
        assert!(instant(&"f", Some("yesterday")).is_err());
        assert!(instant(&"f", Some("2026-11-23T19:38:39.899Z"))
            .ok()
            .flatten()
            .is_some());
    }

    #[test]
    fn pagerduty_timestamps_without_colon_read() {
        let body = br#"{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"error","timestamp":"2026-11-23T19:38:40.315+0000"}}"#;
        let Ok(Request::Alerts { alerts, .. }) =
            pagerduty(body, &IntegrationSettings::default(), now(), || {
                "gen".to_owned()
            })
        else {
            panic!("trigger refused")
        };
        assert_eq!(alerts[0].starts_at.to_string(), "2026-11-23T19:38:40.315Z");
        assert_eq!(alerts[0].fingerprint, "gen");
        assert_eq!(alerts[0].severity, opsdesk_domain::Severity::Sev2);
    }

    #[test]
    fn generic_needs_a_title() {
        let err = generic(
            br#"[{"status":"firing"}]"#,
            &IntegrationSettings::default(),
            now(),
        )
        .err()
        .map(|e| e.errors[0].field.clone());
        assert_eq!(err.as_deref(), Some("alerts[0]/title"));
    }
}
