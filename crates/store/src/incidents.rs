//! Incidents and their alerts: ingesting a batch (dedup, grouping, lifecycle), declaring and
//! changing incidents by hand, notes, linked tickets and the quiet-period auto-resolution.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::incident::{
    after_alerts, plan_batch, AlertTarget, IncomingAlert, KnownAlert, Milestones,
};
use opsdesk_domain::{IncidentStatus, Invalid, Severity};
use serde_json::{json, Value};
use sqlx::Row;

use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::operations::{load_services, load_windows, Integration};
use crate::sql::{Param, Sql};
use crate::{Backend, Store, StoreError, UserRef};

/// Alerts named one by one in a timeline entry; the rest are counted.
const NAMED_IN_TIMELINE: usize = 10;

/// An incident with the names of the people in its roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// Id, also the incident number people quote.
    pub id: i64,
    /// One line saying what is wrong.
    pub title: String,
    /// SEV1–SEV4.
    pub severity: Severity,
    /// Lifecycle status.
    pub status: IncidentStatus,
    /// The primary affected service.
    pub service_id: Option<i64>,
    /// Every affected service (the primary one included).
    pub service_ids: Vec<i64>,
    /// The team responding.
    pub team_id: Option<i64>,
    /// The integration whose alerts opened it.
    pub integration_id: Option<i64>,
    /// The alert group it collects.
    pub group_key: Option<String>,
    /// Who leads the response.
    pub commander: Option<UserRef>,
    /// Who keeps stakeholders informed.
    pub comms: Option<UserRef>,
    /// What responders know so far.
    pub summary: String,
    /// Detected, acknowledged, mitigated and resolved instants.
    pub milestones: Milestones,
    /// When it resolves by itself, its alerts having gone quiet.
    pub auto_resolve_at: Option<Timestamp>,
    /// Alerts it holds.
    pub alert_count: i64,
    /// Of which still firing.
    pub firing_count: i64,
    /// Last change.
    pub updated_at: Timestamp,
}

/// One alert identity and its latest state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    /// Id.
    pub id: i64,
    /// The integration it arrived through.
    pub integration_id: i64,
    /// Its identity within the integration.
    pub fingerprint: String,
    /// Still firing.
    pub firing: bool,
    /// The incident holding it.
    pub incident_id: Option<i64>,
    /// The service it concerns.
    pub service_id: Option<i64>,
    /// Its severity.
    pub severity: Severity,
    /// Its one-line summary.
    pub summary: String,
    /// The group it belongs to.
    pub group_key: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its annotations.
    pub annotations: BTreeMap<String, String>,
    /// A link to the source.
    pub source_url: Option<String>,
    /// When the source says it started.
    pub starts_at: Timestamp,
    /// When the source says it ended.
    pub ends_at: Option<Timestamp>,
    /// First receipt.
    pub first_seen: Timestamp,
    /// Latest receipt.
    pub last_seen: Timestamp,
    /// How many times it was received.
    pub receipts: i64,
    /// The maintenance window that suppressed it, if one did.
    pub suppressed_by: Option<i64>,
}

/// One alert as a source's format reduces to (read and validated at the edge).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertInput {
    /// Identity within the integration.
    pub fingerprint: String,
    /// Firing, or resolved.
    pub firing: bool,
    /// Severity.
    pub severity: Severity,
    /// One-line summary.
    pub summary: String,
    /// Group key.
    pub group_key: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Link to the source.
    pub source_url: Option<String>,
    /// Start as the source says (else the receipt).
    pub starts_at: Timestamp,
    /// End as the source says.
    pub ends_at: Option<Timestamp>,
    /// The service the alert names (its service label), if any.
    pub service: Option<String>,
}

/// What one ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Alerts in the request (after collapsing repeats within it).
    pub received: usize,
    /// Alerts seen for the first time.
    pub created: usize,
    /// Alerts that moved to resolved.
    pub resolved: usize,
    /// Alerts recorded under a maintenance window.
    pub suppressed: usize,
    /// Incidents opened.
    pub opened: Vec<i64>,
    /// Existing incidents whose alerts changed.
    pub updated: Vec<i64>,
}

/// Which incidents a list returns.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// Only open ones (`Some(true)`), only resolved (`Some(false)`), or all.
    pub open: Option<bool>,
    /// Only this status.
    pub status: Option<IncidentStatus>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// Only those affecting this service.
    pub service_id: Option<i64>,
    /// Ids below this (the cursor).
    pub before: Option<i64>,
    /// Page size.
    pub limit: i64,
}

/// An incident declared by a person.
#[derive(Debug, Clone)]
pub struct NewIncident {
    /// Title.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Affected services; the first is the primary one.
    pub service_ids: Vec<i64>,
    /// Responding team.
    pub team_id: Option<i64>,
    /// What is known.
    pub summary: String,
    /// Who leads.
    pub commander_id: Option<i64>,
    /// A ticket it is declared from (linked at once).
    pub ticket_id: Option<i64>,
}

/// Changes a person makes to an incident; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct IncidentChanges {
    /// New title.
    pub title: Option<String>,
    /// New severity.
    pub severity: Option<Severity>,
    /// New status.
    pub status: Option<IncidentStatus>,
    /// New summary.
    pub summary: Option<String>,
    /// New commander (`Some(None)` clears).
    pub commander_id: Option<Option<i64>>,
    /// New comms lead (`Some(None)` clears).
    pub comms_id: Option<Option<i64>>,
    /// New affected services.
    pub service_ids: Option<Vec<i64>>,
}

const INCIDENT_COLUMNS: &str = "i.id, i.title, i.severity, i.status, i.service_id, i.team_id, \
    i.integration_id, i.group_key, i.commander_id, cu.email, cu.name, i.comms_id, mu.email, mu.name, \
    i.summary, i.detected_at, i.acknowledged_at, i.mitigated_at, i.resolved_at, i.auto_resolve_at, \
    i.alert_count, i.firing_count, i.updated_at";
const INCIDENT_FROM: &str = "FROM incidents i LEFT JOIN users cu ON cu.id = i.commander_id \
    LEFT JOIN users mu ON mu.id = i.comms_id";

fn opt_ts(v: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
    v.map(ts).transpose()
}

fn user_at(r: &sqlx::any::AnyRow, id: usize) -> Result<Option<UserRef>, StoreError> {
    Ok(match r.try_get::<Option<i64>, _>(id)? {
        Some(uid) => Some(UserRef {
            id: uid,
            email: r.try_get::<Option<String>, _>(id + 1)?.unwrap_or_default(),
            name: r.try_get::<Option<String>, _>(id + 2)?.unwrap_or_default(),
        }),
        None => None,
    })
}

fn incident_row(r: &sqlx::any::AnyRow) -> Result<Incident, StoreError> {
    let severity: String = r.try_get(2)?;
    let status: String = r.try_get(3)?;
    let service_id: Option<i64> = r.try_get(4)?;
    Ok(Incident {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        severity: Severity::parse("severity", &severity).map_err(corrupt)?,
        status: IncidentStatus::parse("status", &status).map_err(corrupt)?,
        service_id,
        service_ids: service_id.into_iter().collect(),
        team_id: r.try_get(5)?,
        integration_id: r.try_get(6)?,
        group_key: r.try_get(7)?,
        commander: user_at(r, 8)?,
        comms: user_at(r, 11)?,
        summary: r.try_get(14)?,
        milestones: Milestones {
            detected: ts(r.try_get(15)?)?,
            acknowledged: opt_ts(r.try_get(16)?)?,
            mitigated: opt_ts(r.try_get(17)?)?,
            resolved: opt_ts(r.try_get(18)?)?,
        },
        auto_resolve_at: opt_ts(r.try_get(19)?)?,
        alert_count: r.try_get(20)?,
        firing_count: r.try_get(21)?,
        updated_at: ts(r.try_get(22)?)?,
    })
}

fn labels_from(text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("alert labels: {e}")))
}

const ALERT_COLUMNS: &str = "id, integration_id, fingerprint, status, incident_id, service_id, \
    severity, summary, group_key, labels, annotations, source_url, starts_at, ends_at, first_seen, \
    last_seen, receipts, suppressed_by";

fn alert_row(r: &sqlx::any::AnyRow) -> Result<AlertRecord, StoreError> {
    let severity: String = r.try_get(6)?;
    let status: String = r.try_get(3)?;
    Ok(AlertRecord {
        id: r.try_get(0)?,
        integration_id: r.try_get(1)?,
        fingerprint: r.try_get(2)?,
        firing: status == "firing",
        incident_id: r.try_get(4)?,
        service_id: r.try_get(5)?,
        severity: Severity::parse("severity", &severity).map_err(corrupt)?,
        summary: r.try_get(7)?,
        group_key: r.try_get(8)?,
        labels: labels_from(&r.try_get::<String, _>(9)?)?,
        annotations: labels_from(&r.try_get::<String, _>(10)?)?,
        source_url: r.try_get(11)?,
        starts_at: ts(r.try_get(12)?)?,
        ends_at: opt_ts(r.try_get(13)?)?,
        first_seen: ts(r.try_get(14)?)?,
        last_seen: ts(r.try_get(15)?)?,
        receipts: r.try_get(16)?,
        suppressed_by: r.try_get(17)?,
    })
}

/// What the store knows of one alert before a batch.
struct Prior {
    firing: bool,
    ends_at: Option<i64>,
    incident: Option<i64>,
}

/// Whether an incident can still take alerts: open, or resolved within the quiet period.
fn reusable(status: &str, resolved_at: Option<i64>, quiet_since: i64) -> bool {
    status != IncidentStatus::Resolved.as_str() || resolved_at.is_some_and(|r| r >= quiet_since)
}

/// A subquery listing the strings of a JSON array parameter (one placeholder, however many).
fn json_texts(backend: Backend, placeholder: &str) -> String {
    match backend {
        Backend::Sqlite => format!("SELECT value FROM json_each({placeholder})"),
        Backend::Postgres => format!("SELECT jsonb_array_elements_text({placeholder}::jsonb)"),
    }
}

/// An alert's entry in a timeline event.
fn named(alert: &AlertInput) -> Value {
    json!({"fingerprint": alert.fingerprint, "summary": alert.summary,
           "severity": alert.severity.as_str()})
}

impl Store {
    /// Records a batch of alerts from `integration`: dedups by fingerprint, joins or opens
    /// incidents by group, suppresses alerts of services under maintenance, moves incidents to
    /// monitoring when their last alert resolves and reopens them when one fires again.
    ///
    /// Concurrent requests share one transaction (a group commit, `alert_batch.rs`); the answer
    /// comes once it is committed. Repeats that change nothing append no events.
    pub async fn ingest_alerts(
        &self,
        integration: &Integration,
        alerts: Vec<AlertInput>,
        now: Timestamp,
    ) -> Result<IngestOutcome, StoreError> {
        self.alert_writer
            .ingest(integration.clone(), alerts, now)
            .await
    }
}

/// Collapses repeats of one fingerprint to the last one, keeping first-seen order.
pub(crate) fn collapse(alerts: Vec<AlertInput>) -> Vec<AlertInput> {
    let mut at: HashMap<String, usize> = HashMap::with_capacity(alerts.len());
    let mut kept: Vec<AlertInput> = Vec::with_capacity(alerts.len());
    for alert in alerts {
        match at.get(&alert.fingerprint) {
            Some(&n) => kept[n] = alert,
            None => {
                at.insert(alert.fingerprint.clone(), kept.len());
                kept.push(alert);
            }
        }
    }
    kept
}

/// What an ingest reads besides the alerts: services and the windows active now.
pub(crate) struct IngestContext {
    /// Every service.
    pub(crate) services: Vec<crate::operations::Service>,
    /// Active maintenance windows: (id, service ids).
    pub(crate) windows: Vec<(i64, Vec<i64>)>,
}

impl IngestContext {
    /// Loads the context at `now`.
    pub(crate) async fn load(pool: &sqlx::AnyPool, now: Timestamp) -> Result<Self, StoreError> {
        Ok(Self {
            services: load_services(pool).await?,
            windows: load_windows(pool)
                .await?
                .into_iter()
                .filter(|m| m.window.active_at(now).is_some())
                .map(|m| (m.id, m.service_ids))
                .collect(),
        })
    }
}

/// What ingesting did to one alert (after collapsing repeats).
#[derive(Debug, Clone, Default)]
pub(crate) struct AlertEffect {
    /// Seen for the first time.
    pub(crate) created: bool,
    /// Moved from firing to resolved.
    pub(crate) resolved: bool,
    /// Recorded under a maintenance window.
    pub(crate) suppressed: bool,
    /// The incident it opened.
    pub(crate) opened: Option<i64>,
    /// The existing incident its change (fired or resolved) touched.
    pub(crate) touched: Option<i64>,
}

/// Ingests `alerts` (already [`collapse`]d: one per fingerprint) from one integration inside
/// `w`; answers each alert's effect by fingerprint.
pub(crate) async fn ingest_in(
    w: &mut Write,
    ctx: &IngestContext,
    integration: &Integration,
    alerts: Vec<AlertInput>,
) -> Result<HashMap<String, AlertEffect>, StoreError> {
    let mut effects: HashMap<String, AlertEffect> = HashMap::new();
    if alerts.is_empty() {
        return Ok(effects);
    }
    let services = &ctx.services;
    let service_of = |name: &Option<String>| -> Option<i64> {
        name.as_deref()
            .and_then(|n| {
                services
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(n.trim()))
            })
            .map(|s| s.id)
            .or(integration.service_id)
    };
    let windows = &ctx.windows;
    let service_ids: Vec<Option<i64>> = alerts.iter().map(|a| service_of(&a.service)).collect();
    let suppressed_by: Vec<Option<i64>> = service_ids
        .iter()
        .map(|s| {
            s.and_then(|sid| {
                windows
                    .iter()
                    .find(|(_, ids)| ids.contains(&sid))
                    .map(|(id, _)| *id)
            })
        })
        .collect();

    let now_us = w.now();
    let quiet = integration.settings.quiet_minutes.max(0) * 60_000_000;
    let quiet_since = now_us - quiet;
    // The first statement locks the integration's row on PostgreSQL, so two deliveries of
    // one group (an Alertmanager HA pair) are decided one after the other.
    sqlx::query(
        "UPDATE integrations SET alert_count = alert_count + $1, last_alert_at = $2 WHERE id = $3",
    )
    .bind(alerts.len() as i64)
    .bind(now_us)
    .bind(integration.id)
    .execute(&mut *w.tx)
    .await?;

    let mut prior: HashMap<String, Prior> = HashMap::new();
    let fingerprints = json!(alerts.iter().map(|a| &a.fingerprint).collect::<Vec<_>>());
    let known_rows = sqlx::query(&format!(
        "SELECT a.fingerprint, a.status, a.ends_at, a.incident_id, i.status, i.resolved_at \
             FROM alerts a LEFT JOIN incidents i ON i.id = a.incident_id \
             WHERE a.integration_id = $1 AND a.fingerprint IN ({})",
        json_texts(w.backend(), "$2")
    ))
    .bind(integration.id)
    .bind(fingerprints.to_string())
    .fetch_all(&mut *w.tx)
    .await?;
    for r in known_rows {
        let incident: Option<i64> = r.try_get(3)?;
        let istatus: Option<String> = r.try_get(4)?;
        let usable = match (&incident, istatus) {
            (Some(_), Some(st)) => reusable(&st, r.try_get(5)?, quiet_since),
            _ => false,
        };
        prior.insert(
            r.try_get(0)?,
            Prior {
                firing: r.try_get::<String, _>(1)? == "firing",
                ends_at: r.try_get(2)?,
                incident: incident.filter(|_| usable),
            },
        );
    }

    let keys: HashSet<String> = alerts.iter().map(|a| a.group_key.clone()).collect();
    let mut groups: HashMap<String, i64> = HashMap::new();
    let group_rows = sqlx::query(&format!(
        "SELECT group_key, id, status, resolved_at FROM incidents \
             WHERE integration_id = $1 AND group_key IN ({}) ORDER BY id",
        json_texts(w.backend(), "$2")
    ))
    .bind(integration.id)
    .bind(json!(keys.into_iter().collect::<Vec<_>>()).to_string())
    .fetch_all(&mut *w.tx)
    .await?;
    for r in group_rows {
        let key: String = r.try_get(0)?;
        let id: i64 = r.try_get(1)?;
        let status: String = r.try_get(2)?;
        if reusable(&status, r.try_get(3)?, quiet_since) {
            groups.insert(key, id);
        } else {
            groups.remove(&key);
        }
    }

    // A firing delivery that started before the alert's recorded end is a late duplicate
    // (the other member of an HA pair, or a retry): it must not undo the resolve.
    let stale = |a: &AlertInput| -> bool {
        a.firing
            && prior.get(&a.fingerprint).is_some_and(|p| {
                !p.firing && p.ends_at.is_some_and(|e| a.starts_at.as_microsecond() < e)
            })
    };
    let incoming: Vec<IncomingAlert> = alerts
        .iter()
        .zip(&suppressed_by)
        .map(|(a, s)| IncomingAlert {
            fingerprint: a.fingerprint.clone(),
            firing: a.firing && !stale(a),
            group_key: a.group_key.clone(),
            suppressed: s.is_some(),
        })
        .collect();
    let known: HashMap<String, KnownAlert> = prior
        .iter()
        .map(|(fp, p)| {
            (
                fp.clone(),
                KnownAlert {
                    incident: p.incident,
                },
            )
        })
        .collect();
    let plan = plan_batch(&incoming, &known, &groups);

    // Open the new incidents, each at the worst severity of the alerts it opens with.
    let mut opened: Vec<i64> = Vec::with_capacity(plan.new_incidents.len());
    for (n, first) in plan.new_incidents.iter().enumerate() {
        let alert = &alerts[*first];
        let severity = plan
            .targets
            .iter()
            .zip(&alerts)
            .filter(|(t, _)| **t == AlertTarget::New(n))
            .map(|(_, a)| a.severity)
            .min()
            .unwrap_or(alert.severity);
        let service = service_ids[*first];
        let team = match service {
            Some(sid) => services
                .iter()
                .find(|s| s.id == sid)
                .and_then(|s| s.team_id)
                .or(integration.team_id),
            None => integration.team_id,
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (title, severity, status, service_id, team_id, integration_id, \
                 group_key, detected_at, created_at, updated_at) \
                 VALUES ($1, $2, 'triggered', $3, $4, $5, $6, $7, $7, $7) RETURNING id",
        )
        .bind(&alert.summary)
        .bind(severity.as_str())
        .bind(service)
        .bind(team)
        .bind(integration.id)
        .bind(&alert.group_key)
        .bind(now_us)
        .fetch_one(&mut *w.tx)
        .await?;
        enter_status(w, id, IncidentStatus::Triggered).await?;
        if let Some(sid) = service {
            sqlx::query("INSERT INTO incident_services (incident_id, service_id) VALUES ($1, $2)")
                .bind(id)
                .bind(sid)
                .execute(&mut *w.tx)
                .await?;
        }
        w.event(
            "incident",
            id,
            "incident.triggered",
            false,
            json!({"title": alert.summary, "severity": severity.as_str(),
                       "integration": integration.name, "group_key": alert.group_key}),
        )
        .await?;
        crate::oncall::start_paging_in(w, id, service).await?;
        opened.push(id);
    }
    let target_id = |t: AlertTarget| -> Option<i64> {
        match t {
            AlertTarget::None => None,
            AlertTarget::Existing(id) => Some(id),
            AlertTarget::New(n) => opened.get(n).copied(),
        }
    };

    // Upsert every alert in one statement whose rows travel as one JSON parameter: binding
    // seventeen placeholders per alert cost more than the writes themselves (measured).
    let mut rows = Vec::with_capacity(alerts.len());
    for (i, a) in alerts.iter().enumerate() {
        let keep_resolved = stale(a);
        let ends_at = if keep_resolved {
            prior.get(&a.fingerprint).and_then(|p| p.ends_at)
        } else {
            a.ends_at.map(|e| e.as_microsecond())
        };
        let text = |m: &BTreeMap<String, String>| {
            serde_json::to_string(m).map_err(|e| StoreError::Corrupt(e.to_string()))
        };
        rows.push((
            a.fingerprint.as_str(),
            if incoming[i].firing {
                "firing"
            } else {
                "resolved"
            },
            target_id(plan.targets[i]),
            service_ids[i],
            a.severity.as_str(),
            a.summary.as_str(),
            a.group_key.as_str(),
            text(&a.labels)?,
            text(&a.annotations)?,
            a.source_url.as_deref(),
            a.starts_at.as_microsecond(),
            ends_at,
            suppressed_by[i],
        ));
    }
    // Serialized straight from the tuples: building a `Value` tree first cost an allocation
    // per field.
    let rows = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let source = match w.backend() {
            Backend::Sqlite => {
                "SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
                 j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, \
                 j.value ->> 10, j.value ->> 11, $2, $2, 1, j.value ->> 12 \
                 FROM json_each($3) AS j WHERE true"
            }
            Backend::Postgres => {
                "SELECT $1, j ->> 0, j ->> 1, (j ->> 2)::bigint, (j ->> 3)::bigint, j ->> 4, \
                 j ->> 5, j ->> 6, j ->> 7, j ->> 8, j ->> 9, (j ->> 10)::bigint, (j ->> 11)::bigint, \
                 $2, $2, 1, (j ->> 12)::bigint FROM jsonb_array_elements($3::jsonb) AS j"
            }
        };
    sqlx::query(&format!(
        "INSERT INTO alerts (integration_id, fingerprint, status, incident_id, service_id, \
             severity, summary, group_key, labels, annotations, source_url, starts_at, ends_at, \
             first_seen, last_seen, receipts, suppressed_by) {source} \
             ON CONFLICT (integration_id, fingerprint) DO UPDATE SET status = excluded.status, \
             incident_id = COALESCE(excluded.incident_id, alerts.incident_id), \
             service_id = excluded.service_id, severity = excluded.severity, \
             summary = excluded.summary, group_key = excluded.group_key, \
             labels = excluded.labels, annotations = excluded.annotations, \
             source_url = excluded.source_url, starts_at = excluded.starts_at, \
             ends_at = excluded.ends_at, last_seen = excluded.last_seen, \
             receipts = alerts.receipts + 1, suppressed_by = excluded.suppressed_by"
    ))
    .bind(integration.id)
    .bind(now_us)
    .bind(rows)
    .execute(&mut *w.tx)
    .await?;

    // What changed, per incident, for the timeline.
    #[derive(Default)]
    struct Change {
        fired: Vec<Value>,
        fired_count: usize,
        resolved: Vec<Value>,
        resolved_count: usize,
        worst_new: Option<Severity>,
    }
    let mut changes: BTreeMap<i64, Change> = BTreeMap::new();
    let mut quiet_changes = 0usize;
    let mut suppressed = 0usize;
    for (i, a) in alerts.iter().enumerate() {
        let before = prior.get(&a.fingerprint);
        let now_firing = incoming[i].firing;
        let was_firing = before.is_some_and(|p| p.firing);
        let fired = now_firing && !was_firing;
        let resolved = !now_firing && was_firing;
        let opens = match plan.targets[i] {
            AlertTarget::New(n) if plan.new_incidents.get(n) == Some(&i) => opened.get(n).copied(),
            _ => None,
        };
        let effect = AlertEffect {
            created: before.is_none(),
            resolved,
            suppressed: suppressed_by[i].is_some(),
            opened: opens,
            touched: None,
        };
        suppressed += usize::from(effect.suppressed);
        let effect = effects.entry(a.fingerprint.clone()).or_insert(effect);
        if !(fired || resolved) {
            continue;
        }
        let Some(incident) = target_id(plan.targets[i]) else {
            quiet_changes += 1;
            continue;
        };
        if !opened.contains(&incident) {
            effect.touched = Some(incident);
        }
        let c = changes.entry(incident).or_default();
        if fired {
            c.fired_count += 1;
            if c.fired.len() < NAMED_IN_TIMELINE {
                c.fired.push(named(a));
            }
            c.worst_new = Some(c.worst_new.map_or(a.severity, |s| s.min(a.severity)));
        } else {
            c.resolved_count += 1;
            if c.resolved.len() < NAMED_IN_TIMELINE {
                c.resolved.push(named(a));
            }
        }
    }
    if quiet_changes > 0 || suppressed > 0 {
        w.event(
            "integration",
            integration.id,
            "alerts.recorded",
            false,
            json!({"changed": quiet_changes, "suppressed": suppressed}),
        )
        .await?;
    }
    for (incident, c) in &changes {
        w.event(
            "incident",
            *incident,
            "incident.alerts",
            false,
            json!({"fired": c.fired, "fired_count": c.fired_count,
                       "resolved": c.resolved, "resolved_count": c.resolved_count}),
        )
        .await?;
    }
    let touched: Vec<i64> = changes.keys().copied().collect();
    settle_incidents(w, &touched, quiet, &changes_worst(&changes)).await?;
    return Ok(effects);

    fn changes_worst(changes: &BTreeMap<i64, Change>) -> HashMap<i64, Severity> {
        changes
            .iter()
            .filter_map(|(id, c)| c.worst_new.map(|s| (*id, s)))
            .collect()
    }
}

/// Recounts the alerts of `ids`, raises severities to the worst newly firing alert, and
/// moves each incident as its alerts say (monitoring when quiet, reopened on a flap).
async fn settle_incidents(
    w: &mut Write,
    ids: &[i64],
    quiet: i64,
    worst: &HashMap<i64, Severity>,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let now = w.now();
    let mut sql = Sql::new(
            "UPDATE incidents SET \
             firing_count = (SELECT COUNT(*) FROM alerts a WHERE a.incident_id = incidents.id AND a.status = 'firing'), \
             alert_count = (SELECT COUNT(*) FROM alerts a WHERE a.incident_id = incidents.id), \
             updated_at = ",
        );
    sql.bind(Param::Int(now));
    sql.push(" WHERE id IN ");
    sql.bind_list(ids.iter().map(|id| Param::Int(*id)));
    sql.push(
        " RETURNING id, status, severity, firing_count, detected_at, acknowledged_at, \
             mitigated_at, resolved_at, auto_resolve_at",
    );
    let rows = sql.query().fetch_all(&mut *w.tx).await?;
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let status =
            IncidentStatus::parse("status", &r.try_get::<String, _>(1)?).map_err(corrupt)?;
        let severity = Severity::parse("severity", &r.try_get::<String, _>(2)?).map_err(corrupt)?;
        let firing: i64 = r.try_get(3)?;
        let milestones = Milestones {
            detected: ts(r.try_get(4)?)?,
            acknowledged: opt_ts(r.try_get(5)?)?,
            mitigated: opt_ts(r.try_get(6)?)?,
            resolved: opt_ts(r.try_get(7)?)?,
        };
        let auto_resolve: Option<i64> = r.try_get(8)?;
        if let Some(new) = worst.get(&id).filter(|s| **s < severity) {
            sqlx::query("UPDATE incidents SET severity = $1 WHERE id = $2")
                .bind(new.as_str())
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            w.event(
                "incident",
                id,
                "incident.severity",
                false,
                json!({"before": severity.as_str(), "after": new.as_str(),
                           "reason": "a more severe alert joined"}),
            )
            .await?;
        }
        let next = after_alerts(
            status,
            milestones.acknowledged.is_some(),
            firing,
            auto_resolve.is_some(),
        );
        match next {
            Some(to) => {
                let reason = if to == IncidentStatus::Monitoring {
                    "every alert resolved"
                } else {
                    "an alert fired again"
                };
                let auto = (to == IncidentStatus::Monitoring).then_some(now + quiet);
                set_status(w, id, status, to, milestones, auto, reason).await?;
            }
            None if status == IncidentStatus::Monitoring
                && firing == 0
                && auto_resolve.is_none() =>
            {
                sqlx::query("UPDATE incidents SET auto_resolve_at = $1 WHERE id = $2")
                    .bind(now + quiet)
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
            }
            None => {}
        }
    }
    Ok(())
}

impl Store {
    /// Incidents matching `filter`, newest first.
    pub async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<Incident>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT {INCIDENT_COLUMNS} {INCIDENT_FROM} WHERE 1 = 1"
        ));
        match filter.open {
            Some(true) => {
                sql.push(" AND i.status <> 'resolved'");
            }
            Some(false) => {
                sql.push(" AND i.status = 'resolved'");
            }
            None => {}
        }
        if let Some(s) = filter.status {
            sql.push(" AND i.status = ")
                .bind(Param::Text(s.as_str().to_owned()));
        }
        if let Some(s) = filter.severity {
            sql.push(" AND i.severity = ")
                .bind(Param::Text(s.as_str().to_owned()));
        }
        if let Some(s) = filter.service_id {
            sql.push(" AND i.id IN (SELECT incident_id FROM incident_services WHERE service_id = ")
                .bind(Param::Int(s))
                .push(")");
        }
        if let Some(b) = filter.before {
            sql.push(" AND i.id < ").bind(Param::Int(b));
        }
        sql.push(" ORDER BY i.id DESC LIMIT ")
            .bind(Param::Int(filter.limit.clamp(1, 500)));
        let rows = sql.query().fetch_all(&self.read).await?;
        let mut out: Vec<Incident> = rows.iter().map(incident_row).collect::<Result<_, _>>()?;
        self.fill_services(&mut out).await?;
        Ok(out)
    }

    async fn fill_services(&self, incidents: &mut [Incident]) -> Result<(), StoreError> {
        if incidents.is_empty() {
            return Ok(());
        }
        let mut sql =
            Sql::new("SELECT incident_id, service_id FROM incident_services WHERE incident_id IN ");
        sql.bind_list(incidents.iter().map(|i| Param::Int(i.id)));
        sql.push(" ORDER BY service_id");
        let mut by: HashMap<i64, Vec<i64>> = HashMap::new();
        for r in sql.query().fetch_all(&self.read).await? {
            by.entry(r.try_get(0)?).or_default().push(r.try_get(1)?);
        }
        for i in incidents {
            let mut ids: Vec<i64> = i.service_id.into_iter().collect();
            for s in by.remove(&i.id).unwrap_or_default() {
                if !ids.contains(&s) {
                    ids.push(s);
                }
            }
            i.service_ids = ids;
        }
        Ok(())
    }

    /// One incident.
    pub async fn incident(&self, id: i64) -> Result<Incident, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INCIDENT_COLUMNS} {INCIDENT_FROM} WHERE i.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("incident"))?;
        let mut one = vec![incident_row(&row)?];
        self.fill_services(&mut one).await?;
        one.pop().ok_or(StoreError::NotFound("incident"))
    }

    /// How many incidents are open, by severity (worst first).
    pub async fn open_incident_counts(&self) -> Result<Vec<(Severity, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT severity, COUNT(*) FROM incidents WHERE status <> 'resolved' GROUP BY severity",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let sev = Severity::parse("severity", &r.try_get::<String, _>(0)?).map_err(corrupt)?;
            out.push((sev, r.try_get(1)?));
        }
        out.sort();
        Ok(out)
    }

    /// The alerts an incident holds, firing first.
    pub async fn incident_alerts(
        &self,
        incident: i64,
        limit: i64,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE incident_id = $1 \
             ORDER BY CASE status WHEN 'firing' THEN 0 ELSE 1 END, last_seen DESC, id LIMIT $2"
        ))
        .bind(incident)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(alert_row).collect()
    }

    /// One alert by its identity.
    pub async fn alert_by_fingerprint(
        &self,
        integration: i64,
        fingerprint: &str,
    ) -> Result<Option<AlertRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE integration_id = $1 AND fingerprint = $2"
        ))
        .bind(integration)
        .bind(fingerprint)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(alert_row).transpose()
    }

    /// The latest alerts of an integration (or of all), newest first.
    pub async fn recent_alerts(
        &self,
        integration: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AlertRecord>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {ALERT_COLUMNS} FROM alerts"));
        if let Some(i) = integration {
            sql.push(" WHERE integration_id = ").bind(Param::Int(i));
        }
        sql.push(" ORDER BY last_seen DESC, id DESC LIMIT ")
            .bind(Param::Int(limit.clamp(1, 500)));
        let rows = sql.query().fetch_all(&self.read).await?;
        rows.iter().map(alert_row).collect()
    }

    /// Declares an incident by hand (from the incident page, or from a ticket it then links).
    pub async fn declare_incident(
        &self,
        input: &NewIncident,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Incident, StoreError> {
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (title, severity, status, service_id, team_id, commander_id, summary, \
             detected_at, created_at, updated_at) VALUES ($1, $2, 'triggered', $3, $4, $5, $6, $7, $7, $7) \
             RETURNING id",
        )
        .bind(&input.title)
        .bind(input.severity.as_str())
        .bind(input.service_ids.first().copied())
        .bind(input.team_id)
        .bind(input.commander_id)
        .bind(&input.summary)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        enter_status(&mut w, id, IncidentStatus::Triggered).await?;
        for sid in &input.service_ids {
            sqlx::query(
                "INSERT INTO incident_services (incident_id, service_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(sid)
            .execute(&mut *w.tx)
            .await?;
        }
        w.event(
            "incident",
            id,
            "incident.declared",
            false,
            json!({"title": input.title, "severity": input.severity.as_str(),
                   "service_ids": input.service_ids, "commander_id": input.commander_id,
                   "ticket_id": input.ticket_id}),
        )
        .await?;
        if let Some(ticket) = input.ticket_id {
            link_ticket_in(&mut w, id, ticket).await?;
        }
        let paging =
            crate::oncall::start_paging_in(&mut w, id, input.service_ids.first().copied()).await?;
        w.commit().await?;
        if paging {
            self.wake.notify_one();
        }
        self.incident(id).await
    }

    /// Applies a person's changes to an incident, each recorded in its timeline.
    pub async fn change_incident(
        &self,
        id: i64,
        changes: &IncidentChanges,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Incident, StoreError> {
        let mut w = self.write(actor, now).await?;
        change_incident_in(&mut w, id, changes).await?;
        w.commit().await?;
        self.incident(id).await
    }

    /// Adds a note to an incident's timeline.
    pub async fn incident_note(
        &self,
        id: i64,
        body: &str,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        self.incident(id).await?;
        let mut w = self.write(actor, now).await?;
        let seq = w
            .event(
                "incident",
                id,
                "incident.note",
                false,
                json!({"body": body}),
            )
            .await?;
        sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
            .bind(w.now())
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await?;
        Ok(seq)
    }

    /// Links a customer ticket to an incident (recorded on both timelines).
    pub async fn link_incident_ticket(
        &self,
        id: i64,
        ticket: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.incident(id).await?;
        let mut w = self.write(actor, now).await?;
        link_ticket_in(&mut w, id, ticket).await?;
        w.commit().await
    }

    /// Unlinks a ticket from an incident.
    pub async fn unlink_incident_ticket(
        &self,
        id: i64,
        ticket: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        let gone =
            sqlx::query("DELETE FROM incident_tickets WHERE incident_id = $1 AND ticket_id = $2")
                .bind(id)
                .bind(ticket)
                .execute(&mut *w.tx)
                .await?;
        if gone.rows_affected() == 0 {
            return Err(StoreError::NotFound("link"));
        }
        w.event(
            "incident",
            id,
            "incident.ticket_unlinked",
            false,
            json!({"ticket_id": ticket}),
        )
        .await?;
        w.event(
            "ticket",
            ticket,
            "ticket.incident_unlinked",
            true,
            json!({"incident_id": id}),
        )
        .await?;
        w.commit().await
    }

    /// Records on the incident's timeline that its linked tickets were replied to.
    pub async fn incident_replied(
        &self,
        incident: i64,
        tickets: &[i64],
        failed: usize,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        w.event(
            "incident",
            incident,
            "incident.customers_replied",
            false,
            json!({"tickets": tickets, "failed": failed}),
        )
        .await?;
        w.commit().await
    }

    /// The tickets linked to an incident.
    pub async fn incident_ticket_ids(&self, id: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT ticket_id FROM incident_tickets WHERE incident_id = $1 ORDER BY ticket_id",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?)
    }

    /// The incidents a ticket is linked to.
    pub async fn ticket_incident_ids(&self, ticket: i64) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT incident_id FROM incident_tickets WHERE ticket_id = $1 ORDER BY incident_id",
        )
        .bind(ticket)
        .fetch_all(&self.read)
        .await?)
    }

    /// The earliest instant a quiet incident resolves by itself.
    pub async fn next_auto_resolve(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(auto_resolve_at) FROM incidents WHERE auto_resolve_at IS NOT NULL",
        )
        .fetch_one(&self.read)
        .await?;
        opt_ts(next)
    }

    /// Resolves every incident whose quiet period ended by `now`; returns their ids.
    pub async fn resolve_quiet_incidents(&self, now: Timestamp) -> Result<Vec<i64>, StoreError> {
        let mut w = self.write(None, now).await?;
        let rows = sqlx::query(
            "SELECT id, status, firing_count, detected_at, acknowledged_at, mitigated_at, resolved_at \
             FROM incidents WHERE auto_resolve_at IS NOT NULL AND auto_resolve_at <= $1 ORDER BY id LIMIT 500",
        )
        .bind(w.now())
        .fetch_all(&mut *w.tx)
        .await?;
        let mut done = Vec::new();
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let status =
                IncidentStatus::parse("status", &r.try_get::<String, _>(1)?).map_err(corrupt)?;
            let firing: i64 = r.try_get(2)?;
            if status != IncidentStatus::Monitoring || firing > 0 {
                sqlx::query("UPDATE incidents SET auto_resolve_at = NULL WHERE id = $1")
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                continue;
            }
            let milestones = Milestones {
                detected: ts(r.try_get(3)?)?,
                acknowledged: opt_ts(r.try_get(4)?)?,
                mitigated: opt_ts(r.try_get(5)?)?,
                resolved: opt_ts(r.try_get(6)?)?,
            };
            set_status(
                &mut w,
                id,
                status,
                IncidentStatus::Resolved,
                milestones,
                None,
                "its alerts stayed resolved for the quiet period",
            )
            .await?;
            done.push(id);
        }
        w.commit().await?;
        Ok(done)
    }
}

/// Ends the incident's stay in its status (if any) and starts one in `status`, now: the
/// stays the report's time in each status sums.
async fn enter_status(w: &mut Write, id: i64, status: IncidentStatus) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE incident_status_spans SET until = $1 WHERE incident_id = $2 AND until IS NULL",
    )
    .bind(w.now())
    .bind(id)
    .execute(&mut *w.tx)
    .await?;
    sqlx::query(
        "INSERT INTO incident_status_spans (incident_id, status, since) VALUES ($1, $2, $3)",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(w.now())
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

/// Moves an incident to `to`, updating its milestones and auto-resolution instant, with an
/// `incident.status` event (`reason` empty for a person's move).
async fn set_status(
    w: &mut Write,
    id: i64,
    from: IncidentStatus,
    to: IncidentStatus,
    milestones: Milestones,
    auto_resolve_at: Option<i64>,
    reason: &str,
) -> Result<(), StoreError> {
    let now = ts(w.now())?;
    let m = milestones.after_move(to, now);
    let us = |t: Option<Timestamp>| t.map(|t| t.as_microsecond());
    sqlx::query(
        "UPDATE incidents SET status = $1, acknowledged_at = $2, mitigated_at = $3, resolved_at = $4, \
         auto_resolve_at = $5, updated_at = $6 WHERE id = $7",
    )
    .bind(to.as_str())
    .bind(us(m.acknowledged))
    .bind(us(m.mitigated))
    .bind(us(m.resolved))
    .bind(auto_resolve_at)
    .bind(w.now())
    .bind(id)
    .execute(&mut *w.tx)
    .await?;
    enter_status(w, id, to).await?;
    let mut data = json!({"before": from.as_str(), "after": to.as_str()});
    if !reason.is_empty() {
        data["reason"] = json!(reason);
    }
    if let Some(at) = auto_resolve_at {
        data["auto_resolve_at"] = json!(ts(at)?.to_string());
    }
    w.event("incident", id, "incident.status", false, data)
        .await?;
    if to == IncidentStatus::Triggered {
        let service: Option<i64> =
            sqlx::query_scalar("SELECT service_id FROM incidents WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *w.tx)
                .await?;
        crate::oncall::start_paging_in(w, id, service).await?;
    } else {
        crate::oncall::stop_paging_in(w, id, to.as_str()).await?;
    }
    Ok(())
}

async fn link_ticket_in(w: &mut Write, incident: i64, ticket: i64) -> Result<(), StoreError> {
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM tickets WHERE id = $1")
        .bind(ticket)
        .fetch_optional(&mut *w.tx)
        .await?;
    if exists.is_none() {
        return Err(Invalid::new("ticket", format!("no ticket #{ticket}")).into());
    }
    let added = sqlx::query(
        "INSERT INTO incident_tickets (incident_id, ticket_id, linked_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(incident)
    .bind(ticket)
    .bind(w.now())
    .execute(&mut *w.tx)
    .await?;
    if added.rows_affected() == 0 {
        return Err(StoreError::Conflict {
            field: "ticket",
            reason: format!("ticket #{ticket} is already linked to incident #{incident}"),
        });
    }
    w.event(
        "incident",
        incident,
        "incident.ticket_linked",
        false,
        json!({"ticket_id": ticket}),
    )
    .await?;
    w.event(
        "ticket",
        ticket,
        "ticket.incident_linked",
        true,
        json!({"incident_id": incident}),
    )
    .await?;
    Ok(())
}

/// The quiet period as a duration (for display).
pub fn quiet_period(minutes: i64) -> SignedDuration {
    SignedDuration::from_mins(minutes.max(0))
}

/// Applies a person's changes to an incident inside `w` (each change on its timeline), so a
/// caller can commit them with its own writes.
pub(crate) async fn change_incident_in(
    w: &mut Write,
    id: i64,
    changes: &IncidentChanges,
) -> Result<(), StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {INCIDENT_COLUMNS} {INCIDENT_FROM} WHERE i.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *w.tx)
    .await?
    .ok_or(StoreError::NotFound("incident"))?;
    let before = incident_row(&row)?;
    if let Some(to) = changes.status {
        before.status.move_to(to)?;
        let auto = (to == IncidentStatus::Monitoring
            && before.firing_count == 0
            && before.alert_count > 0)
            .then(|| {
                before
                    .auto_resolve_at
                    .map_or(w.now(), |t| t.as_microsecond())
            });
        set_status(w, id, before.status, to, before.milestones, auto, "").await?;
    }
    if let Some(sev) = changes.severity.filter(|s| *s != before.severity) {
        sqlx::query("UPDATE incidents SET severity = $1 WHERE id = $2")
            .bind(sev.as_str())
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "incident",
            id,
            "incident.severity",
            false,
            json!({"before": before.severity.as_str(), "after": sev.as_str()}),
        )
        .await?;
    }
    for (column, kind, value, old) in [
        ("title", "incident.retitled", &changes.title, &before.title),
        (
            "summary",
            "incident.summary",
            &changes.summary,
            &before.summary,
        ),
    ] {
        if let Some(v) = value.as_ref().filter(|v| *v != old) {
            sqlx::query(&format!("UPDATE incidents SET {column} = $1 WHERE id = $2"))
                .bind(v)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
            w.event(
                "incident",
                id,
                kind,
                false,
                json!({"before": old, "after": v}),
            )
            .await?;
        }
    }
    for (column, role, value, old) in [
        (
            "commander_id",
            "commander",
            changes.commander_id,
            &before.commander,
        ),
        ("comms_id", "comms", changes.comms_id, &before.comms),
    ] {
        let Some(v) = value else { continue };
        if v == old.as_ref().map(|u| u.id) {
            continue;
        }
        sqlx::query(&format!("UPDATE incidents SET {column} = $1 WHERE id = $2"))
            .bind(v)
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "incident",
            id,
            "incident.role",
            false,
            json!({"role": role, "before": old.as_ref().map(|u| u.id), "after": v}),
        )
        .await?;
    }
    if let Some(ids) = &changes.service_ids {
        sqlx::query("DELETE FROM incident_services WHERE incident_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        for sid in ids {
            sqlx::query(
                    "INSERT INTO incident_services (incident_id, service_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(sid)
                .execute(&mut *w.tx)
                .await?;
        }
        sqlx::query("UPDATE incidents SET service_id = $1 WHERE id = $2")
            .bind(ids.first().copied())
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "incident",
            id,
            "incident.services",
            false,
            json!({"before": before.service_ids, "after": ids}),
        )
        .await?;
    }
    sqlx::query("UPDATE incidents SET updated_at = $1 WHERE id = $2")
        .bind(w.now())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    Ok(())
}
