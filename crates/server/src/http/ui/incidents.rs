//! Incident pages: the incident list with a declare form, the war-room page (live timeline,
//! alerts, roles, status moves, notes, linked tickets) and the operations page (services,
//! maintenance windows, alert integrations).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use opsdesk_domain::{Action, IncidentStatus};
use opsdesk_store::Incident;
use serde::Deserialize;
use serde_json::Value;

use super::session::{Session, SignedForm};
use super::views::{age, exact, Chrome, FormErrors};
use super::{form_errors, page_error, refuse_customers, render, render_with};
use crate::error::ApiError;
use crate::ops::incidents::{self as ops, Directory};
use crate::ops::workspace::{self, IncidentTimeline};
use crate::ops::Operator;
use crate::wire::incidents::IncidentQuery;
use crate::wire::incidents::{
    DeclareIncidentIn, IntegrationIn, IntegrationSettingsWire, MaintenanceIn, PatchIncidentIn,
    ServiceIn,
};
use crate::AppState;

/// The incident routes of the UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(list))
        .route("/incidents/declare", post(declare))
        .route("/incidents/{id}", get(war_room))
        .route("/incidents/{id}/timeline", get(timeline_partial))
        .route("/incidents/{id}/update", post(update))
        .route("/incidents/{id}/notes", post(add_note))
        .route("/incidents/{id}/tickets", post(link_ticket))
        .route("/incidents/{id}/tickets/unlink", post(unlink_ticket))
        .route("/operations", get(operations))
        .route("/operations/services", post(save_service))
        .route("/operations/maintenance", post(create_maintenance))
        .route("/operations/maintenance/delete", post(delete_maintenance))
        .route("/operations/integrations", post(create_integration))
        .route("/operations/services/public", post(set_public))
        .route("/operations/subscribers", post(add_subscriber))
        .route("/incidents/{id}/public-update", post(public_update))
        .route("/incidents/{id}/reply", post(reply_all))
        .route("/operations/integrations/rotate", post(rotate_integration))
        .route("/operations/integrations/delete", post(delete_integration))
}

/// An incident as a list row or page header shows it.
#[derive(Debug, Clone)]
pub struct IncidentRow {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// `SEV1`…
    pub severity: String,
    /// Status.
    pub status: String,
    /// Services, comma-separated.
    pub services: String,
    /// Firing alerts.
    pub firing: i64,
    /// All alerts.
    pub alerts: i64,
    /// Commander's name.
    pub commander: String,
    /// Comms lead's name.
    pub comms: String,
    /// Age since detection.
    pub age: String,
    /// Team.
    pub team: String,
}

fn row(dir: &Directory, i: &Incident, now: Timestamp) -> IncidentRow {
    IncidentRow {
        id: i.id,
        title: i.title.clone(),
        severity: i.severity.as_str().to_owned(),
        status: i.status.as_str().to_owned(),
        services: i
            .service_ids
            .iter()
            .map(|s| dir.service(*s))
            .collect::<Vec<_>>()
            .join(", "),
        firing: i.firing_count,
        alerts: i.alert_count,
        commander: i
            .commander
            .as_ref()
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        comms: i.comms.as_ref().map(|u| u.name.clone()).unwrap_or_default(),
        age: age(i.milestones.detected, now),
        team: i.team_id.map(|t| dir.team(t)).unwrap_or_default(),
    }
}

/// The incident list.
#[derive(Template)]
#[template(path = "incidents.html")]
pub struct IncidentsPage {
    /// Frame.
    pub chrome: Chrome,
    /// Rows.
    pub rows: Vec<IncidentRow>,
    /// The status filter in force.
    pub status: String,
    /// The severity filter in force.
    pub severity: String,
    /// Service names, for the declare form.
    pub services: Vec<String>,
    /// Errors of a refused declaration.
    pub form: FormErrors,
    /// Open incidents by severity: (severity, count).
    pub open_counts: Vec<(String, i64)>,
    /// The filters offered.
    pub statuses: Vec<&'static str>,
}

/// One line of an incident's timeline.
#[derive(Debug, Clone)]
pub struct TimelineLine {
    /// Exact time.
    pub when: String,
    /// Who (or "opsdesk").
    pub who: String,
    /// Kind, for styling (`status`, `alerts`, `note`, …).
    pub kind: String,
    /// What happened.
    pub text: String,
}

/// An alert row on the war-room page.
#[derive(Debug, Clone)]
pub struct AlertRow {
    /// Firing or resolved.
    pub status: String,
    /// Severity.
    pub severity: String,
    /// Summary.
    pub summary: String,
    /// Labels as `k=v` text.
    pub labels: String,
    /// Link to the source.
    pub source_url: String,
    /// Receipts.
    pub receipts: i64,
    /// Last seen.
    pub last_seen: String,
}

/// The war-room page of one incident.
#[derive(Template)]
#[template(path = "incident.html")]
pub struct WarRoomPage {
    /// Frame.
    pub chrome: Chrome,
    /// The incident.
    pub incident: IncidentRow,
    /// Summary text.
    pub summary: String,
    /// (label, instant) of the milestones reached.
    pub milestones: Vec<(&'static str, String)>,
    /// When it resolves by itself, if its alerts stay quiet.
    pub auto_resolve: String,
    /// Status moves offered (status names).
    pub moves: Vec<&'static str>,
    /// Timeline, oldest first.
    pub timeline: Vec<TimelineLine>,
    /// Alerts, firing first.
    pub alerts: Vec<AlertRow>,
    /// Linked tickets: (id, subject, status).
    pub tickets: Vec<(i64, String, String)>,
    /// Every service name.
    pub services: Vec<String>,
    /// Commander's e-mail (form value).
    pub commander_email: String,
    /// Comms lead's e-mail (form value).
    pub comms_email: String,
    /// May change the incident.
    pub can_act: bool,
    /// Errors of a refused change.
    pub form: FormErrors,
    /// The alert group, if it came from alerts.
    pub group_key: String,
    /// The integration, if any.
    pub integration: String,
    /// Pages sent: (who, "level L · round R", when, answer).
    pub pages: Vec<(String, String, String, String)>,
    /// Where paging stands, in words (empty when nothing pages for it).
    pub paging: String,
}

/// The timeline alone, for the page's live refresh.
#[derive(Template)]
#[template(path = "incident_timeline.html")]
pub struct TimelinePartial {
    /// Timeline, oldest first.
    pub timeline: Vec<TimelineLine>,
}

/// Services, maintenance windows and integrations.
#[derive(Template)]
#[template(path = "operations.html")]
pub struct OperationsPage {
    /// Frame.
    pub chrome: Chrome,
    /// (id, name, description, team, in maintenance, open incidents, public).
    pub services: Vec<(i64, String, String, String, bool, i64, bool)>,
    /// Windows: (id, title, services, recurrence, zone, active, next occurrence text).
    pub windows: Vec<(i64, String, String, String, String, bool, String)>,
    /// Integrations: (id, name, kind, service, alerts, last alert).
    pub integrations: Vec<(i64, String, String, String, i64, String)>,
    /// Team names.
    pub teams: Vec<String>,
    /// May change services and windows.
    pub can_manage: bool,
    /// May see and change integrations.
    pub is_admin: bool,
    /// Errors of a refused form.
    pub form: FormErrors,
    /// A new token to show once: (integration name, full endpoint URL, token).
    pub created: Option<(String, String, String)>,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(q): Query<IncidentQuery>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    list_page(&state, &session, &q, FormErrors::default(), StatusCode::OK).await
}

async fn list_page(
    state: &AppState,
    session: &Session,
    q: &IncidentQuery,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let dir = Directory::load(&state.store).await?;
        let (found, _) = ops::incidents(&ctx, q, &dir).await?;
        let counts = workspace::open_incident_counts(&ctx).await?;
        let now = ctx.now;
        Ok::<_, ApiError>(IncidentsPage {
            chrome: session.chrome(),
            rows: found.iter().map(|i| row(&dir, i, now)).collect(),
            status: q.status.clone().unwrap_or_else(|| "open".to_owned()),
            severity: q.severity.clone().unwrap_or_default(),
            services: dir.services.iter().map(|s| s.name.clone()).collect(),
            form,
            open_counts: counts
                .into_iter()
                .map(|(s, n)| (s.as_str().to_owned(), n))
                .collect(),
            statuses: ["open", "all"]
                .into_iter()
                .chain(IncidentStatus::ALL.iter().map(|s| s.as_str()))
                .collect(),
        })
    }
    .await;
    match result {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

#[derive(Debug, Deserialize)]
struct DeclareForm {
    title: String,
    severity: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    ticket: String,
}

async fn declare(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<DeclareForm>,
) -> Response {
    let input = DeclareIncidentIn {
        title: form.title,
        severity: form.severity,
        services: vec![form.service]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect(),
        team: None,
        summary: form.summary,
        commander: Some("me".to_owned()),
        ticket: form.ticket.trim().parse().ok(),
    };
    match ops::declare(
        &state.store,
        Operator::User(&session.actor),
        &input,
        Timestamp::now(),
    )
    .await
    {
        Ok(incident) => Redirect::to(&format!("/incidents/{}", incident.id)).into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            list_page(&state, &session, &IncidentQuery::default(), errors, status).await
        }
    }
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn names(list: &Value) -> String {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .map(|a| text(a, "summary"))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

fn names_list(list: &Value) -> String {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// A timeline entry in words.
fn timeline_lines(timeline: &IncidentTimeline, dir: &Directory) -> Vec<TimelineLine> {
    let mut out = Vec::with_capacity(timeline.events.len());
    for e in &timeline.events {
        let d = &e.data;
        let (kind, text_line) = match e.kind.as_str() {
            "incident.triggered" => (
                "alerts",
                format!(
                    "Opened by integration {} ({}): {}",
                    text(d, "integration"),
                    text(d, "severity"),
                    text(d, "title")
                ),
            ),
            "incident.declared" => (
                "status",
                format!("Declared ({}): {}", text(d, "severity"), text(d, "title")),
            ),
            "incident.alerts" => {
                let mut parts = Vec::new();
                let fired = d["fired_count"].as_i64().unwrap_or(0);
                let resolved = d["resolved_count"].as_i64().unwrap_or(0);
                if fired > 0 {
                    parts.push(format!("{fired} alert(s) fired: {}", names(&d["fired"])));
                }
                if resolved > 0 {
                    parts.push(format!("{resolved} resolved: {}", names(&d["resolved"])));
                }
                ("alerts", parts.join(" · "))
            }
            "incident.status" => {
                let mut line = format!("Status {} → {}", text(d, "before"), text(d, "after"));
                let reason = text(d, "reason");
                if !reason.is_empty() {
                    line.push_str(&format!(" ({reason})"));
                }
                ("status", line)
            }
            "incident.severity" => (
                "status",
                format!("Severity {} → {}", text(d, "before"), text(d, "after")),
            ),
            "incident.role" => {
                let who = match d["after"].as_i64() {
                    Some(id) => timeline
                        .people
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| format!("user {id}")),
                    None => "nobody".to_owned(),
                };
                ("status", format!("{} is now {who}", text(d, "role")))
            }
            "incident.note" => ("note", text(d, "body")),
            "incident.ticket_linked" => {
                ("link", format!("Ticket #{} linked", text(d, "ticket_id")))
            }
            "incident.ticket_unlinked" => {
                ("link", format!("Ticket #{} unlinked", text(d, "ticket_id")))
            }
            "incident.paging_started" => (
                "page",
                format!("Paging with escalation policy {}", text(d, "policy")),
            ),
            "incident.paging_stopped" => ("page", format!("Paging stopped: {}", text(d, "reason"))),
            "incident.paged" => {
                let channels: Vec<String> = d["channels"]
                    .as_array()
                    .map(|c| {
                        c.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    "page",
                    format!(
                        "Paged {} (level {}, round {}){}",
                        text(d, "name"),
                        text(d, "level"),
                        text(d, "round"),
                        if channels.is_empty() {
                            " in opsdesk".to_owned()
                        } else {
                            format!(" by {}", channels.join(", "))
                        }
                    ),
                )
            }
            "incident.nobody_on_call" => (
                "page",
                format!("Nobody on call in {}", names_list(&d["schedules"])),
            ),
            "incident.customers_replied" => {
                let tickets: Vec<String> = d["tickets"]
                    .as_array()
                    .map(|t| {
                        t.iter()
                            .filter_map(Value::as_i64)
                            .map(|t| format!("#{t}"))
                            .collect()
                    })
                    .unwrap_or_default();
                (
                    "link",
                    format!("Replied to customers on {}", tickets.join(", ")),
                )
            }
            "incident.retitled" => ("status", format!("Retitled: {}", text(d, "after"))),
            "incident.summary" => ("note", format!("Summary: {}", text(d, "after"))),
            "incident.services" => {
                let after: Vec<String> = d["after"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_i64)
                            .map(|s| dir.service(s))
                            .collect()
                    })
                    .unwrap_or_default();
                ("status", format!("Services: {}", after.join(", ")))
            }
            "runbook.started" => ("note", format!("Runbook “{}” started", text(d, "runbook"))),
            "runbook.step" => {
                let note = text(d, "note");
                (
                    "note",
                    format!(
                        "Runbook step {} {}: {}{}",
                        text(d, "position"),
                        text(d, "outcome"),
                        text(d, "step"),
                        if note.is_empty() {
                            String::new()
                        } else {
                            format!(" — {note}")
                        }
                    ),
                )
            }
            "runbook.finished" => ("note", format!("Runbook “{}” finished", text(d, "runbook"))),
            other => ("status", other.to_owned()),
        };
        out.push(TimelineLine {
            when: exact(e.at),
            who: e
                .actor
                .as_ref()
                .map_or_else(|| "opsdesk".to_owned(), |a| a.name.clone()),
            kind: kind.to_owned(),
            text: text_line,
        });
    }
    out
}

async fn war_room(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    war_room_page(&state, &session, id, FormErrors::default(), StatusCode::OK).await
}

async fn war_room_page(
    state: &AppState,
    session: &Session,
    id: i64,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let workspace::WarRoom {
            incident,
            timeline,
            tickets,
            alerts,
            pages,
            paging,
        } = workspace::war_room(&ctx, id).await?;
        let dir = Directory::load(&state.store).await?;
        let now = ctx.now;
        let tickets = tickets
            .into_iter()
            .map(|t| (t.id, t.subject, t.status.as_str().to_owned()))
            .collect();
        let alerts = alerts
            .into_iter()
            .map(|a| AlertRow {
                status: if a.firing { "firing" } else { "resolved" }.to_owned(),
                severity: a.severity.as_str().to_owned(),
                summary: a.summary,
                labels: a
                    .labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                source_url: a.source_url.unwrap_or_default(),
                receipts: a.receipts,
                last_seen: format!("{} ago", age(a.last_seen, now)),
            })
            .collect();
        let m = incident.milestones;
        let milestones = [
            ("Detected", Some(m.detected)),
            ("Acknowledged", m.acknowledged),
            ("Mitigated", m.mitigated),
            ("Resolved", m.resolved),
        ]
        .into_iter()
        .filter_map(|(label, at)| at.map(|t| (label, exact(t))))
        .collect();
        let moves = IncidentStatus::ALL
            .into_iter()
            .filter(|to| incident.status.move_to(*to).is_ok())
            .map(IncidentStatus::as_str)
            .collect();
        let pages = pages
            .into_iter()
            .map(|p| {
                (
                    p.user.name,
                    format!("level {} · round {}", p.level + 1, p.round + 1),
                    exact(p.created_at),
                    p.answer.unwrap_or_default(),
                )
            })
            .collect();
        let paging = match paging {
            Some(state) => match (state.next_at, state.stop_reason) {
                (Some(at), _) => format!(
                    "level {} of round {} is paged at {} unless acknowledged",
                    state.level + 1,
                    state.round + 1,
                    exact(at)
                ),
                (None, Some(reason)) => format!("stopped: {reason}"),
                (None, None) => "stopped".to_owned(),
            },
            None => String::new(),
        };
        Ok::<_, ApiError>(WarRoomPage {
            pages,
            paging,
            chrome: session.chrome(),
            summary: incident.summary.clone(),
            milestones,
            auto_resolve: incident.auto_resolve_at.map(exact).unwrap_or_default(),
            moves,
            timeline: timeline_lines(&timeline, &dir),
            alerts,
            tickets,
            services: dir.services.iter().map(|s| s.name.clone()).collect(),
            commander_email: incident
                .commander
                .as_ref()
                .map(|u| u.email.clone())
                .unwrap_or_default(),
            comms_email: incident
                .comms
                .as_ref()
                .map(|u| u.email.clone())
                .unwrap_or_default(),
            can_act: ctx.may(Action::RespondToIncident),
            form,
            group_key: incident.group_key.clone().unwrap_or_default(),
            integration: incident
                .integration_id
                .map(|i| dir.integration(i))
                .unwrap_or_default(),
            incident: row(&dir, &incident, now),
        })
    }
    .await;
    match result {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn timeline_partial(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    let result = async {
        let timeline = workspace::incident_timeline(&state.ctx(&session.actor), id).await?;
        let dir = Directory::load(&state.store).await?;
        Ok::<_, ApiError>(TimelinePartial {
            timeline: timeline_lines(&timeline, &dir),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => page_error(e, session.chrome()),
    }
}

#[derive(Debug, Deserialize)]
struct UpdateForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    commander: Option<String>,
    #[serde(default)]
    comms: Option<String>,
    #[serde(default)]
    services: Option<String>,
}

fn blank_to_none(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

async fn update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<UpdateForm>,
) -> Response {
    let input = PatchIncidentIn {
        title: blank_to_none(&form.title),
        severity: blank_to_none(&form.severity),
        status: blank_to_none(&form.status),
        summary: form.summary.clone(),
        commander: form.commander.as_deref().map(blank_to_none),
        comms: form.comms.as_deref().map(blank_to_none),
        services: form.services.as_deref().map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        }),
    };
    let result = ops::patch(
        &state.store,
        Operator::User(&session.actor),
        id,
        &input,
        Timestamp::now(),
    )
    .await
    .map(|_| ());
    after(&state, &session, id, result).await
}

async fn after(
    state: &AppState,
    session: &Session,
    id: i64,
    result: Result<(), ApiError>,
) -> Response {
    super::after(result, &format!("/incidents/{id}"), |errors, status| {
        war_room_page(state, session, id, errors, status)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct NoteForm {
    body: String,
}

async fn add_note(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<NoteForm>,
) -> Response {
    let result = ops::note(
        &state.store,
        Operator::User(&session.actor),
        id,
        &form.body,
        Timestamp::now(),
    )
    .await
    .map(|_| ());
    after(&state, &session, id, result).await
}

#[derive(Debug, Deserialize)]
struct TicketForm {
    ticket: String,
}

fn ticket_number(raw: &str) -> Result<i64, ApiError> {
    raw.trim()
        .trim_start_matches('#')
        .parse::<i64>()
        .map_err(|_| {
            ApiError::field(
                crate::error::Code::InvalidInput,
                "ticket",
                format!("'{}' is not a ticket number", raw.trim()),
            )
        })
}

async fn link_ticket(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<TicketForm>,
) -> Response {
    let result = async {
        let ticket = ticket_number(&form.ticket)?;
        ops::link_ticket(
            &state.store,
            Operator::User(&session.actor),
            id,
            ticket,
            Timestamp::now(),
        )
        .await
    }
    .await;
    after(&state, &session, id, result).await
}

async fn unlink_ticket(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<TicketForm>,
) -> Response {
    let result = async {
        let ticket = ticket_number(&form.ticket)?;
        ops::unlink_ticket(
            &state.store,
            Operator::User(&session.actor),
            id,
            ticket,
            Timestamp::now(),
        )
        .await
    }
    .await;
    after(&state, &session, id, result).await
}

async fn operations(State(state): State<AppState>, session: Session) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    operations_page(
        &state,
        &session,
        FormErrors::default(),
        StatusCode::OK,
        None,
    )
    .await
}

async fn operations_page(
    state: &AppState,
    session: &Session,
    form: FormErrors,
    status: StatusCode,
    created: Option<(String, String, String)>,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let now = ctx.now;
        let services = ops::services(&state.store, ctx.operator, now).await?;
        let dir = Directory::load(&state.store).await?;
        let is_admin = ctx.may(Action::Administer);
        let windows = ops::maintenance_windows(&ctx)
            .await?
            .iter()
            .map(|m| {
                let out = dir.maintenance(m, now);
                let next = out
                    .next
                    .first()
                    .map(|o| format!("{} → {}", o.starts_at, o.ends_at))
                    .unwrap_or_else(|| "over".to_owned());
                (
                    out.id,
                    out.title,
                    out.services.join(", "),
                    out.recurrence,
                    out.zone,
                    out.active,
                    next,
                )
            })
            .collect();
        let integrations = if is_admin {
            dir.integrations
                .iter()
                .map(|i| {
                    (
                        i.id,
                        i.name.clone(),
                        i.kind.as_str().to_owned(),
                        i.service_id.map(|s| dir.service(s)).unwrap_or_default(),
                        i.alert_count,
                        i.last_alert_at
                            .map(|t| format!("{} ago", age(t, now)))
                            .unwrap_or_else(|| "never".to_owned()),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok::<_, ApiError>(OperationsPage {
            chrome: session.chrome(),
            services: services
                .into_iter()
                .map(|s| {
                    (
                        s.id,
                        s.name,
                        s.description,
                        s.team.unwrap_or_default(),
                        s.in_maintenance,
                        s.open_incidents,
                        s.public,
                    )
                })
                .collect(),
            windows,
            integrations,
            teams: dir.teams.iter().map(|t| t.name.clone()).collect(),
            can_manage: ctx.may(Action::ManageOperations),
            is_admin,
            form,
            created,
        })
    }
    .await;
    match result {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn operations_after(
    state: &AppState,
    session: &Session,
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to("/operations").into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            operations_page(state, session, errors, status, None).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct ServiceForm {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    team: String,
}

async fn save_service(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<ServiceForm>,
) -> Response {
    let result = async {
        let existing = workspace::services(&state.ctx(&session.actor))
            .await?
            .into_iter()
            .find(|s| s.name.eq_ignore_ascii_case(form.name.trim()))
            .map(|s| s.id);
        let input = ServiceIn {
            name: form.name.clone(),
            description: form.description.clone(),
            team: blank_to_none(&form.team),
        };
        ops::save_service(
            &state.store,
            Operator::User(&session.actor),
            existing,
            &input,
            Timestamp::now(),
        )
        .await
        .map(|_| ())
    }
    .await;
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct MaintenanceForm {
    title: String,
    #[serde(default)]
    description: String,
    starts_at: String,
    ends_at: String,
    #[serde(default)]
    zone: String,
    #[serde(default)]
    recurrence: String,
    #[serde(default)]
    services: String,
}

/// Reads `2026-12-01T22:00` (a `datetime-local` field) in `zone`, or a full RFC 3339 instant.
fn local_instant(raw: &str, zone: &str) -> String {
    let raw = raw.trim();
    if raw.parse::<Timestamp>().is_ok() {
        return raw.to_owned();
    }
    let zone = jiff::tz::TimeZone::get(zone.trim()).unwrap_or(jiff::tz::TimeZone::UTC);
    raw.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(zone).ok())
        .map_or_else(|| raw.to_owned(), |z| z.timestamp().to_string())
}

async fn create_maintenance(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<MaintenanceForm>,
) -> Response {
    let zone = if form.zone.trim().is_empty() {
        "UTC".to_owned()
    } else {
        form.zone.clone()
    };
    let input = MaintenanceIn {
        title: form.title.clone(),
        description: form.description.clone(),
        starts_at: local_instant(&form.starts_at, &zone),
        ends_at: local_instant(&form.ends_at, &zone),
        zone: Some(zone),
        recurrence: blank_to_none(&form.recurrence),
        until: None,
        services: form
            .services
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    let result = ops::create_maintenance(
        &state.store,
        Operator::User(&session.actor),
        &input,
        Timestamp::now(),
    )
    .await
    .map(|_| ());
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct IdForm {
    id: i64,
}

async fn delete_maintenance(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<IdForm>,
) -> Response {
    let result = ops::delete_maintenance(
        &state.store,
        Operator::User(&session.actor),
        form.id,
        Timestamp::now(),
    )
    .await;
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct IntegrationForm {
    name: String,
    kind: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    group_by: String,
    #[serde(default)]
    quiet_minutes: String,
}

fn endpoint(headers: &axum::http::HeaderMap, path: &str) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{path}")
}

async fn create_integration(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    SignedForm { session, form }: SignedForm<IntegrationForm>,
) -> Response {
    let quiet = match form.quiet_minutes.trim() {
        "" => None,
        q => q.parse::<i64>().ok().or(Some(-1)),
    };
    let input = IntegrationIn {
        name: form.name.clone(),
        kind: form.kind.clone(),
        service: blank_to_none(&form.service),
        team: None,
        settings: IntegrationSettingsWire {
            group_by: blank_to_none(&form.group_by).map(|g| {
                g.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            }),
            quiet_minutes: quiet,
            ..IntegrationSettingsWire::default()
        },
    };
    let result = ops::create_integration(
        &state.store,
        Operator::User(&session.actor),
        &input,
        Timestamp::now(),
    )
    .await;
    token_page(&state, &session, &headers, result, StatusCode::CREATED).await
}

/// The operations page showing a new integration token once (or the refusal).
async fn token_page(
    state: &AppState,
    session: &Session,
    headers: &axum::http::HeaderMap,
    result: Result<(opsdesk_store::Integration, String), ApiError>,
    status: StatusCode,
) -> Response {
    match result {
        Ok((integration, token)) => {
            let path = ops::hook_path(integration.kind, &token);
            let shown = (integration.name, endpoint(headers, &path), token);
            operations_page(state, session, FormErrors::default(), status, Some(shown)).await
        }
        Err(err) => {
            let (status, errors) = form_errors(err);
            operations_page(state, session, errors, status, None).await
        }
    }
}

async fn rotate_integration(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    SignedForm { session, form }: SignedForm<IdForm>,
) -> Response {
    let result = ops::rotate_integration(
        &state.store,
        Operator::User(&session.actor),
        form.id,
        Timestamp::now(),
    )
    .await;
    token_page(&state, &session, &headers, result, StatusCode::OK).await
}

async fn delete_integration(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<IdForm>,
) -> Response {
    let result = ops::delete_integration(
        &state.store,
        Operator::User(&session.actor),
        form.id,
        Timestamp::now(),
    )
    .await;
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct PublicForm {
    id: i64,
    public: String,
}

async fn set_public(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<PublicForm>,
) -> Response {
    let result = crate::ops::status::set_public(
        &state.store,
        Operator::User(&session.actor),
        form.id,
        form.public == "true",
        Timestamp::now(),
    )
    .await;
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct SubscriberForm {
    /// A webhook URL or an e-mail address.
    webhook: String,
}

async fn add_subscriber(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<SubscriberForm>,
) -> Response {
    let by = Operator::User(&session.actor);
    let result = if form.webhook.contains('@') && !form.webhook.contains("://") {
        crate::ops::status::subscribe_email(&state.store, by, &form.webhook, Timestamp::now()).await
    } else {
        crate::ops::status::subscribe(&state.store, by, &form.webhook, Timestamp::now()).await
    };
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct PublicUpdateForm {
    status: String,
    impact: String,
    body: String,
    #[serde(default)]
    title: String,
}

async fn public_update(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<PublicUpdateForm>,
) -> Response {
    let input = crate::wire::incidents::StatusUpdateIn {
        status: form.status,
        impact: form.impact,
        body: form.body,
        title: blank_to_none(&form.title),
    };
    let result = crate::ops::status::post_update(
        &state.store,
        Operator::User(&session.actor),
        id,
        &input,
        Timestamp::now(),
    )
    .await
    .map(|_| ());
    after(&state, &session, id, result).await
}

async fn reply_all(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<NoteForm>,
) -> Response {
    let result = ops::reply_to_linked(
        &state.store,
        &session.actor,
        id,
        &form.body,
        Timestamp::now(),
    )
    .await
    .and_then(|(_, failed)| match failed.first() {
        None => Ok(()),
        Some(f) => Err(ApiError::field(
            crate::error::Code::InvalidInput,
            "ticket",
            format!("ticket #{} refused the reply: {}", f.ticket, f.reason),
        )),
    });
    after(&state, &session, id, result).await
}
