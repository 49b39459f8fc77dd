//! Incident pages: the incident list with a declare form and the war-room page (live timeline,
//! alerts, roles, status moves, notes, linked tickets, public updates). The operations page
//! is `operations.rs`.

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
use crate::app::incidents::{self as app, Directory};
use crate::app::workspace::{self, IncidentTimeline};
use crate::error::ApiError;
use crate::wire::incidents::IncidentQuery;
use crate::wire::incidents::{DeclareIncidentIn, PatchIncidentIn};
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
        .route("/incidents/{id}/public-update", post(public_update))
        .route("/incidents/{id}/reply", post(reply_all))
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
        let (found, _) = app::incidents(&ctx, q, &dir).await?;
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
    match app::declare(&state.ctx(&session.actor), &input).await {
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

pub(super) fn blank_to_none(s: &str) -> Option<String> {
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
    let result = app::patch(&state.ctx(&session.actor), id, &input)
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
    let result = app::note(&state.ctx(&session.actor), id, &form.body)
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
        app::link_ticket(&state.ctx(&session.actor), id, ticket).await
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
        app::unlink_ticket(&state.ctx(&session.actor), id, ticket).await
    }
    .await;
    after(&state, &session, id, result).await
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
    let result = crate::app::status::post_update(&state.ctx(&session.actor), id, &input)
        .await
        .map(|_| ());
    after(&state, &session, id, result).await
}

async fn reply_all(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<NoteForm>,
) -> Response {
    let result = app::reply_to_linked(
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
