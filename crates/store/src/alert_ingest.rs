//! Ingesting a batch of alerts: dedup by fingerprint, grouping into incidents, suppression
//! under maintenance, and each incident's lifecycle as its alerts fire and resolve, in the
//! transaction the alert writer (`alert_batch.rs`) commits.

use std::collections::{BTreeMap, HashMap, HashSet};

use jiff::Timestamp;
use opsdesk_domain::incident::{
    after_alerts, plan_batch, AlertTarget, IncomingAlert, KnownAlert, Milestones,
};
use opsdesk_domain::{IncidentStatus, Severity};
use serde_json::{json, Value};
use sqlx::Row;

use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::operations::{load_services, load_windows, Integration};
use crate::sql::{Param, Sql};
use crate::{Backend, Store, StoreError};

use crate::incidents::{
    enter_status, opt_ts, set_status, AlertInput, IngestOutcome, NAMED_IN_TIMELINE,
};

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
/// `w`; `deliveries` says how many requests carried each fingerprint (one when absent), so an
/// alert's receipts count every delivery a merged batch collapsed. Answers each alert's effect
/// by fingerprint.
pub(crate) async fn ingest_in(
    w: &mut Write,
    ctx: &IngestContext,
    integration: &Integration,
    alerts: Vec<AlertInput>,
    deliveries: &HashMap<&str, i64>,
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
            deliveries.get(a.fingerprint.as_str()).copied().unwrap_or(1),
        ));
    }
    // Serialized straight from the tuples: building a `Value` tree first cost an allocation
    // per field.
    let rows = serde_json::to_string(&rows).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let source = match w.backend() {
            Backend::Sqlite => {
                "SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4, \
                 j.value ->> 5, j.value ->> 6, j.value ->> 7, j.value ->> 8, j.value ->> 9, \
                 j.value ->> 10, j.value ->> 11, $2, $2, j.value ->> 13, j.value ->> 12 \
                 FROM json_each($3) AS j WHERE true"
            }
            Backend::Postgres => {
                "SELECT $1, j ->> 0, j ->> 1, (j ->> 2)::bigint, (j ->> 3)::bigint, j ->> 4, \
                 j ->> 5, j ->> 6, j ->> 7, j ->> 8, j ->> 9, (j ->> 10)::bigint, (j ->> 11)::bigint, \
                 $2, $2, (j ->> 13)::bigint, (j ->> 12)::bigint FROM jsonb_array_elements($3::jsonb) AS j"
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
             receipts = alerts.receipts + excluded.receipts, suppressed_by = excluded.suppressed_by"
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
