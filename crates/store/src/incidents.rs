//! Incidents and their alerts: reading them, declaring and changing incidents by hand, notes,
//! linked tickets and the quiet-period auto-resolution. Ingesting a batch of alerts (dedup,
//! grouping, lifecycle) is `alert_ingest.rs`.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::incident::Milestones;
use opsdesk_domain::{IncidentStatus, Invalid, Severity};
use serde_json::json;
use sqlx::Row;

use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::sql::{Param, Sql};
use crate::{Store, StoreError, UserRef};

/// Alerts named one by one in a timeline entry; the rest are counted.
pub(crate) const NAMED_IN_TIMELINE: usize = 10;

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

pub(crate) fn opt_ts(v: Option<i64>) -> Result<Option<Timestamp>, StoreError> {
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
pub(crate) async fn enter_status(
    w: &mut Write,
    id: i64,
    status: IncidentStatus,
) -> Result<(), StoreError> {
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
pub(crate) async fn set_status(
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
