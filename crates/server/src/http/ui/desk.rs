//! The agent workspace: queues, the ticket page and its actions.

use axum::extract::{Query, State};

use crate::input::IdPath;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use opsdesk_domain::{Action, LinkKind, PendingReason, Priority, Status, Tier};
use serde::Deserialize;

use super::session::{Session, SignedForm};
use super::views::{
    self, DeskNew, DeskQueue, DeskTicket, FormErrors, LinkView, NewTicketValues, QueueFilters,
    QueueLink, QueueRows, TicketView,
};
use super::{form_errors, page_error, refuse_customers, render, render_with, status_of};
use crate::app::{self, TicketQuery};
use crate::error::ApiError;
use crate::wire::desk::{
    BugReportIn, CreateLinkIn, CreateMessageIn, CreateTicketIn, DeescalateIn, EscalateIn,
    PatchTicketIn,
};
use crate::AppState;

const LEVELS: [&str; 3] = ["low", "medium", "high"];

pub(super) fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/desk", get(queue))
        .route("/desk/new", get(new_form))
        .route("/desk/tickets", post(create))
        .route("/desk/tickets/{id}", get(show))
        .route("/desk/tickets/{id}/messages", post(add_message))
        .route("/desk/tickets/{id}/update", post(update))
        .route("/desk/tickets/{id}/escalate", post(escalate))
        .route("/desk/tickets/{id}/deescalate", post(deescalate))
        .route("/desk/tickets/{id}/links", post(add_link))
        .route("/desk/tickets/{id}/bug-reports", post(file_bug_report))
        .route("/desk/at-risk", get(at_risk))
        .route("/desk/notifications", get(notifications))
        .route("/desk/notifications/read", post(read_notifications))
}

#[derive(Debug, Deserialize)]
struct AtRiskQuery {
    within: Option<i64>,
    team: Option<String>,
}

async fn at_risk(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(query): Query<AtRiskQuery>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let ctx = state.ctx(&session.actor);
    let now = ctx.now;
    let within = query.within.unwrap_or(60).clamp(0, 10_080);
    let team = query.team.clone().unwrap_or_default();
    let found = app::sla::at_risk(
        &ctx,
        jiff::SignedDuration::from_mins(within),
        Some(team.as_str()),
    )
    .await;
    let items = match found {
        Ok(items) => items,
        Err(e) => return page_error(e, session.chrome()),
    };
    let rows = views::AtRiskRows {
        items: items
            .iter()
            .map(|a| {
                let breached = a.state == "breached" || a.due_at.is_some_and(|d| d <= now);
                let next = match (a.next_at, a.due_at) {
                    (Some(next), Some(due)) if next >= due && !breached => {
                        format!("breach {}", views::due_text(next, now))
                    }
                    (Some(next), _) => format!("level {}", views::due_text(next, now)),
                    (None, Some(due)) => format!("breached {} ago", views::age(due, now)),
                    (None, None) => "—".into(),
                };
                views::AtRiskRow {
                    ticket_id: a.ticket_id,
                    subject: a.subject.clone(),
                    team: a.team_name.clone(),
                    priority: a.priority.as_str().into(),
                    metric: a.metric.label().into(),
                    colour: if breached { "breached" } else { "warning" },
                    next,
                    next_exact: a.next_at.or(a.due_at).map(views::exact).unwrap_or_default(),
                    assignee: a.assignee.clone().unwrap_or_else(|| "—".into()),
                }
            })
            .collect(),
        as_of: now.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
    };
    if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        return render(&rows);
    }
    let teams = match app::directory::teams(&state.ctx(&session.actor)).await {
        Ok(teams) => teams.into_iter().map(|t| t.name).collect(),
        Err(e) => return page_error(e, session.chrome()),
    };
    render(&views::DeskAtRisk {
        chrome: session.chrome(),
        within,
        team,
        teams,
        rows,
    })
    .into_response()
}

async fn notifications(State(state): State<AppState>, session: Session) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let ctx = state.ctx(&session.actor);
    let now = ctx.now;
    match app::sla::notifications(&ctx, 100).await {
        Ok(found) => render(&views::DeskNotifications {
            chrome: session.chrome(),
            items: found
                .into_iter()
                .map(|n| {
                    (
                        n.ticket_id.unwrap_or(0),
                        n.text,
                        format!("{} ago", views::age(n.created_at, now)),
                        !n.read,
                    )
                })
                .collect(),
        })
        .into_response(),
        Err(e) => page_error(e, session.chrome()),
    }
}

#[derive(Debug, Deserialize)]
struct NoFields {}

async fn read_notifications(
    State(state): State<AppState>,
    SignedForm { session, .. }: SignedForm<NoFields>,
) -> Response {
    match app::sla::read_notifications(&state.ctx(&session.actor)).await {
        Ok(()) => Redirect::to("/desk/notifications").into_response(),
        Err(e) => page_error(e, session.chrome()),
    }
}

/// The SLA panel: every active clock, and the latest cycle of each finished metric.
fn sla_panel(sla: &opsdesk_store::TicketSla, now: Timestamp) -> views::SlaPanel {
    let Some(policy) = &sla.policy else {
        return views::SlaPanel::default();
    };
    let mut clocks: Vec<views::ClockRow> = Vec::new();
    let latest = |metric| sla.clocks.iter().rev().find(|c| c.clock.metric == metric);
    for metric in opsdesk_domain::sla::Metric::ALL
        .into_iter()
        .chain(opsdesk_domain::sla::Metric::VENDOR)
    {
        let Some(view) = latest(metric) else { continue };
        let c = &view.clock;
        let colour = match c.state {
            opsdesk_domain::sla::ClockState::Breached => "breached",
            opsdesk_domain::sla::ClockState::Met => "done",
            opsdesk_domain::sla::ClockState::Paused => "paused",
            opsdesk_domain::sla::ClockState::Running => views::sla_state(c.due, view.warn_at, now),
        };
        let headline = match (c.state, c.stopped_at, c.due) {
            (opsdesk_domain::sla::ClockState::Met, _, _) => format!(
                "met, {} to spare",
                opsdesk_domain::sla::format_duration(c.margin())
            ),
            (opsdesk_domain::sla::ClockState::Breached, Some(_), _) => format!(
                "breached by {}",
                opsdesk_domain::sla::format_duration(-c.margin())
            ),
            (opsdesk_domain::sla::ClockState::Paused, _, _) => format!(
                "paused, {} left",
                opsdesk_domain::sla::format_duration(c.margin())
            ),
            (_, _, Some(due)) => {
                format!("due {} ({})", views::due_text(due, now), views::exact(due))
            }
            _ => String::new(),
        };
        let label = if c.cycle > 0 {
            format!("{} #{}", metric.label(), c.cycle + 1)
        } else {
            metric.label().to_owned()
        };
        clocks.push(views::ClockRow {
            label,
            state: c.state.as_str().to_owned(),
            colour,
            headline,
            explanation: view.explanation.clone(),
        });
    }
    views::SlaPanel {
        policy: policy.name.clone(),
        calendar: match &sla.calendar {
            Some((_, name)) => format!("{name} ({})", sla.calendar_source),
            None => "around the clock".into(),
        },
        hours: sla.calendar_rules.summary(),
        clocks,
    }
}

/// (value, label, selected) of the status choices, with a choice per pending reason.
fn status_options(ticket: &opsdesk_store::Ticket) -> Vec<(String, String, bool)> {
    let mut options = Vec::new();
    for status in Status::ALL {
        if status == Status::Pending {
            for reason in PendingReason::ALL {
                let selected = ticket.status == Status::Pending
                    && ticket.pending_reason.unwrap_or(PendingReason::Customer) == reason;
                options.push((
                    format!("pending:{}", reason.as_str()),
                    format!("pending – {}", reason.label()),
                    selected,
                ));
            }
        } else {
            options.push((
                status.as_str().to_owned(),
                status.as_str().to_owned(),
                ticket.status == status,
            ));
        }
    }
    options
}

fn priorities() -> Vec<&'static str> {
    Priority::ALL.iter().map(|p| p.as_str()).collect()
}

fn tiers() -> Vec<String> {
    Tier::ALL.iter().map(Tier::to_string).collect()
}

async fn queue(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(mut query): Query<TicketQuery>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    if query.status.is_none() {
        query.status = Some("active".into());
    }
    let now = Timestamp::now();
    let (tickets, next_cursor, error) =
        match app::list_tickets(&state.store, &session.actor, &query).await {
            Ok(page) => (page.items, page.next_cursor, String::new()),
            Err(e) => (Vec::new(), None, e.detail),
        };
    let filters = QueueFilters {
        team: query.team.clone().unwrap_or_default(),
        status: query.status.clone().unwrap_or_default(),
        priority: query.priority.clone().unwrap_or_default(),
        tier: query.tier.clone().unwrap_or_default(),
        assignee: query.assignee.clone().unwrap_or_default(),
        tag: query.tag.clone().unwrap_or_default(),
        service: query.service.clone().unwrap_or_default(),
        q: query.q.clone().unwrap_or_default(),
        sort: query.sort.clone().unwrap_or_else(|| "priority".into()),
    };
    let next_url = next_cursor.map(|cursor| {
        let mut next = query.clone();
        next.cursor = Some(cursor);
        format!("/desk?{}", query_string(&next))
    });
    let rows = QueueRows {
        tickets: tickets.iter().map(|t| TicketView::of(t, now)).collect(),
        next_url,
    };
    if headers.contains_key("hx-request") && !headers.contains_key("hx-boosted") {
        return render(&rows);
    }
    let ctx = state.ctx(&session.actor);
    let (queues, total_active) = match queue_links(&ctx).await {
        Ok(found) => found,
        Err(e) => return page_error(e, session.chrome()),
    };
    let services = match app::workspace::services(&ctx).await {
        Ok(services) => services.into_iter().map(|s| s.name).collect(),
        Err(e) => return page_error(e, session.chrome()),
    };
    let title = if filters.team.is_empty() {
        "Queues".to_owned()
    } else {
        filters.team.clone()
    };
    render(&DeskQueue {
        chrome: session.chrome(),
        title,
        queues,
        total_active,
        filters,
        error,
        rows,
        status_options: vec![
            ("active", "Active (new, open, pending)"),
            ("new", "New"),
            ("open", "Open"),
            ("pending", "Pending"),
            ("resolved", "Resolved"),
            ("closed", "Closed"),
            ("all", "Any status"),
        ],
        sort_options: vec![
            ("priority", "Priority, then oldest"),
            ("due", "SLA due soonest"),
            ("oldest", "Oldest first"),
            ("newest", "Newest first"),
            ("updated", "Recently updated"),
        ],
        priorities: priorities(),
        tiers: tiers(),
        services,
    })
    .into_response()
}

fn query_string(query: &TicketQuery) -> String {
    let pairs: Vec<(&str, String)> = [
        ("team", &query.team),
        ("status", &query.status),
        ("priority", &query.priority),
        ("tier", &query.tier),
        ("assignee", &query.assignee),
        ("tag", &query.tag),
        ("organization", &query.organization),
        ("service", &query.service),
        ("q", &query.q),
        ("sort", &query.sort),
        ("cursor", &query.cursor),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn queue_links(ctx: &app::Ctx<'_>) -> Result<(Vec<QueueLink>, i64), ApiError> {
    let (teams, counts) = app::workspace::queue_counts(ctx).await?;
    let total = counts.iter().map(|(_, _, n)| n).sum();
    let queues = teams
        .iter()
        .map(|t| QueueLink {
            name: t.name.clone(),
            tier: t.tier.to_string(),
            count: counts
                .iter()
                .filter(|(team, _, _)| *team == t.id)
                .map(|(_, _, n)| n)
                .sum(),
        })
        .collect();
    Ok((queues, total))
}

async fn new_form(State(state): State<AppState>, session: Session) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let values = NewTicketValues {
        impact: "medium".into(),
        urgency: "medium".into(),
        ..NewTicketValues::default()
    };
    new_page(
        &state,
        &session,
        values,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn new_page(
    state: &AppState,
    session: &Session,
    values: NewTicketValues,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    let ctx = state.ctx(&session.actor);
    let teams = match app::directory::teams(&ctx).await {
        Ok(teams) => teams.into_iter().map(|t| t.name).collect(),
        Err(e) => return page_error(e, session.chrome()),
    };
    let services = match app::workspace::services(&ctx).await {
        Ok(services) => services.into_iter().map(|s| s.name).collect(),
        Err(e) => return page_error(e, session.chrome()),
    };
    (
        status,
        render(&DeskNew {
            chrome: session.chrome(),
            form,
            values,
            teams,
            services,
            levels: LEVELS.to_vec(),
        }),
    )
        .into_response()
}

fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn create(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<NewTicketValues>,
) -> Response {
    let input = CreateTicketIn {
        subject: form.subject.clone(),
        body: form.body.clone(),
        requester_email: Some(form.requester_email.clone()),
        team: Some(form.team.clone()),
        priority: None,
        impact: Some(form.impact.clone()),
        urgency: Some(form.urgency.clone()),
        category: Some(form.category.clone()),
        service: Some(form.service.clone()),
        tags: Some(comma_list(&form.tags)),
    };
    match app::create_ticket(
        &state.store,
        &session.user,
        &input,
        "desk",
        None,
        Timestamp::now(),
    )
    .await
    {
        Ok((ticket, _)) => Redirect::to(&format!("/desk/tickets/{}", ticket.id)).into_response(),
        Err(err) if !err.errors.is_empty() => {
            let status = status_of(&err);
            new_page(
                &state,
                &session,
                form,
                FormErrors { errors: err.errors },
                status,
            )
            .await
        }
        Err(err) => page_error(err, session.chrome()),
    }
}

async fn show(State(state): State<AppState>, session: Session, IdPath(id): IdPath) -> Response {
    ticket_page(&state, &session, id, FormErrors::default(), StatusCode::OK).await
}

async fn ticket_page(
    state: &AppState,
    session: &Session,
    id: i64,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    if let Some(r) = refuse_customers(session) {
        return r;
    }
    match build_ticket_page(state, session, id, form).await {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn build_ticket_page(
    state: &AppState,
    session: &Session,
    id: i64,
    form: FormErrors,
) -> Result<DeskTicket, ApiError> {
    let ctx = state.ctx(&session.actor);
    let now = ctx.now;
    let app::workspace::TicketWorkspace {
        ticket,
        messages,
        events,
        links,
        bug_reports,
        teams,
        team_members,
        sla,
        vendors,
        services,
        incidents,
        mails,
        attachments,
    } = app::workspace::ticket_workspace(&ctx, id).await?;
    let team = teams.iter().find(|t| t.id == ticket.team_id);
    let escalates_to = team
        .and_then(|t| t.escalates_to)
        .and_then(|target| teams.iter().find(|t| t.id == target))
        .map(|t| t.name.clone())
        .unwrap_or_default();
    let mut assignees: Vec<(String, String)> = team_members
        .into_iter()
        .map(|u| (u.email, u.name))
        .collect();
    if !assignees
        .iter()
        .any(|(email, _)| *email == session.user.email)
        && ctx.may(Action::Triage)
    {
        assignees.push((
            session.user.email.clone(),
            format!("{} (me)", session.user.name),
        ));
    }
    let can_write = ctx.may(Action::Triage);
    let sla = sla_panel(&sla, now);
    let incidents = incidents
        .into_iter()
        .map(|i| {
            (
                i.id,
                i.severity.as_str().to_owned(),
                i.title,
                i.status.as_str().to_owned(),
            )
        })
        .collect();
    let mails = mails
        .into_iter()
        .map(|m| {
            let (arrow, peer) = if m.direction == "in" {
                ("in", m.from)
            } else {
                ("out", m.to)
            };
            (m.id, arrow, m.state, peer, m.subject)
        })
        .collect();
    let attachments = attachments
        .iter()
        .map(views::AttachmentView::from)
        .collect();
    Ok(DeskTicket {
        mails,
        attachments,
        incidents,
        can_declare: ctx.may(Action::RespondToIncident),
        chrome: session.chrome(),
        form,
        timeline: views::timeline(&events, &messages, now),
        can_write,
        can_escalate: can_write && !escalates_to.is_empty(),
        can_deescalate: can_write && ticket.tier > Tier::L0,
        can_file_bug: ctx.may(Action::FileBugReport),
        escalates_to,
        statuses: status_options(&ticket),
        levels: LEVELS.to_vec(),
        priorities: priorities(),
        assignees,
        same_tier_teams: teams
            .iter()
            .filter(|t| t.tier == ticket.tier)
            .map(|t| t.name.clone())
            .collect(),
        links: links
            .iter()
            .map(|l| match (l.target_ticket_id, &l.url) {
                (Some(target), _) => LinkView {
                    kind: l.kind.as_str().into(),
                    label: format!("#{target}"),
                    href: format!("/desk/tickets/{target}"),
                },
                (None, Some(url)) => LinkView {
                    kind: l.kind.as_str().into(),
                    label: url.clone(),
                    href: url.clone(),
                },
                (None, None) => LinkView {
                    kind: l.kind.as_str().into(),
                    label: "—".into(),
                    href: String::new(),
                },
            })
            .collect(),
        link_kinds: LinkKind::ALL.iter().map(|k| k.as_str()).collect(),
        bug_reports,
        sla,
        vendors,
        services,
        t: TicketView::of(&ticket, now),
    })
}

/// After an action: back to the ticket, or the ticket page with the errors next to the fields.
async fn done(
    state: &AppState,
    session: &Session,
    id: i64,
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/desk/tickets/{id}")).into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            ticket_page(state, session, id, errors, status).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct MessageForm {
    #[serde(default)]
    body: String,
    #[serde(default)]
    internal: bool,
}

async fn add_message(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    SignedForm { session, form }: SignedForm<MessageForm>,
) -> Response {
    let input = CreateMessageIn {
        body: form.body,
        internal: form.internal,
    };
    let result = app::add_message(&state.ctx(&session.actor), id, &input)
        .await
        .map(|_| ());
    done(&state, &session, id, result).await
}

#[derive(Debug, Deserialize)]
struct TriageForm {
    status: Option<String>,
    impact: Option<String>,
    urgency: Option<String>,
    #[serde(default)]
    priority: String,
    assignee: Option<String>,
    team: Option<String>,
    category: Option<String>,
    service: Option<String>,
    tags: Option<String>,
    vendor: Option<String>,
    vendor_ref: Option<String>,
    vendor_responded: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    SignedForm { session, form }: SignedForm<TriageForm>,
) -> Response {
    let result = async {
        let current = app::ticket_for(&state.store, &session.actor, id).await?;
        let wanted: Vec<String> = form
            .tags
            .as_deref()
            .map(comma_list)
            .unwrap_or_else(|| current.tags.clone());
        // "pending:vendor" carries the pending reason with the status.
        let (status, pending_reason) = match form.status.as_deref().map(|s| s.split_once(':')) {
            Some(Some((status, reason))) => (Some(status.to_owned()), Some(reason.to_owned())),
            _ => (form.status, None),
        };
        let patch = PatchTicketIn {
            subject: None,
            status,
            pending_reason,
            vendor: form.vendor.map(Some),
            vendor_ref: form.vendor_ref.map(Some),
            vendor_responded: form.vendor_responded.map(|v| v == "true"),
            priority: Some(form.priority).filter(|p| !p.is_empty()),
            impact: form.impact,
            urgency: form.urgency,
            assignee: form.assignee.map(Some),
            team: form.team,
            category: form.category.map(Some),
            service: form.service.map(Some),
            add_tags: Some(
                wanted
                    .iter()
                    .filter(|t| !current.tags.contains(&t.to_lowercase()))
                    .cloned()
                    .collect(),
            ),
            remove_tags: Some(
                current
                    .tags
                    .iter()
                    .filter(|t| !wanted.iter().any(|w| w.to_lowercase() == **t))
                    .cloned()
                    .collect(),
            ),
        };
        app::patch_ticket(&state.ctx(&session.actor), id, &patch)
            .await
            .map(|_| ())
    }
    .await;
    done(&state, &session, id, result).await
}

async fn escalate(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    SignedForm { session, form }: SignedForm<EscalateIn>,
) -> Response {
    let result = app::escalate(&state.ctx(&session.actor), id, &form)
        .await
        .map(|_| ());
    done(&state, &session, id, result).await
}

async fn deescalate(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    SignedForm { session, form }: SignedForm<DeescalateIn>,
) -> Response {
    let result = app::deescalate(&state.ctx(&session.actor), id, &form)
        .await
        .map(|_| ());
    done(&state, &session, id, result).await
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    kind: String,
    #[serde(default)]
    target_or_url: String,
}

async fn add_link(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    SignedForm { session, form }: SignedForm<LinkForm>,
) -> Response {
    let raw = form.target_or_url.trim();
    let target = raw.trim_start_matches('#').parse::<i64>().ok();
    let input = CreateLinkIn {
        kind: form.kind,
        target,
        url: if target.is_none() && !raw.is_empty() {
            Some(raw.to_owned())
        } else {
            None
        },
    };
    let result = app::add_link(&state.ctx(&session.actor), id, &input)
        .await
        .map(|_| ());
    done(&state, &session, id, result).await
}

async fn file_bug_report(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    SignedForm { session, form }: SignedForm<BugReportIn>,
) -> Response {
    let result = app::file_bug_report(&state.ctx(&session.actor), id, &form)
        .await
        .map(|_| ());
    done(&state, &session, id, result).await
}
