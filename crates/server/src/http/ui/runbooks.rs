//! Runbooks in the UI: the runbooks page, the scheduled checks page (late and missed ones
//! flagged), and the runbook panel beside a ticket or in an incident's war room, where a run's
//! steps are recorded one by one.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use opsdesk_domain::Action;
use opsdesk_store::RunTarget;
use serde::Deserialize;

use super::session::{Session, SignedForm};
use super::views::{Chrome, FormErrors};
use super::{form_errors, page_error, refuse_customers, render, render_with};
use crate::app::runbooks as app;
use crate::error::ApiError;
use crate::wire::runbooks::{
    CheckIn, CheckOut, RunIn, RunOut, RunbookIn, RunbookOut, StepOutcomeIn,
};
use crate::AppState;

/// The routes of runbooks and checks.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runbooks", get(runbooks_page).post(create_runbook))
        .route("/runbooks/{id}", post(update_runbook))
        .route("/checks", get(checks_page).post(create_check))
        .route("/checks/{id}", post(update_check))
        .route("/desk/tickets/{id}/runbooks", get(ticket_panel))
        .route("/desk/tickets/{id}/runbook-runs", post(start_ticket_run))
        .route("/incidents/{id}/runbooks", get(incident_panel))
        .route("/incidents/{id}/runbook-runs", post(start_incident_run))
        .route("/runbook-runs/{id}/steps/{position}", post(record_step))
}

/// The runbooks page.
#[derive(Template)]
#[template(path = "runbooks.html")]
pub struct RunbooksPage {
    /// Frame.
    pub chrome: Chrome,
    /// Runbooks.
    pub runbooks: Vec<RunbookOut>,
    /// Service names.
    pub services: Vec<String>,
    /// May write.
    pub can_edit: bool,
    /// What a refused new runbook said: title, description, steps.
    pub typed: (String, String, String),
    /// The runbook whose refused edit is shown open with what was typed (0: none).
    pub open_id: i64,
    /// Errors of a refused form.
    pub form: FormErrors,
}

async fn runbooks_page(State(state): State<AppState>, session: Session) -> Response {
    runbooks_view(
        &state,
        &session,
        None,
        Default::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn runbooks_view(
    state: &AppState,
    session: &Session,
    editing: Option<i64>,
    typed: (String, String, String),
    form: FormErrors,
    status: StatusCode,
) -> Response {
    if let Some(r) = refuse_customers(session) {
        return r;
    }
    let result = async {
        let ctx = state.ctx(&session.actor);
        let mut runbooks = Vec::new();
        for mut out in app::runbooks(&ctx).await? {
            // A refused edit shows what was typed, in the form it came from.
            if editing == Some(out.id) {
                out.title = typed.0.clone();
                out.description = typed.1.clone();
                out.steps_text = typed.2.clone();
            }
            runbooks.push(out);
        }
        let services = crate::app::workspace::services(&ctx)
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect();
        Ok::<_, ApiError>(RunbooksPage {
            chrome: session.chrome(),
            runbooks,
            services,
            can_edit: ctx.may(Action::EditRunbooks),
            typed: if editing.is_some() {
                Default::default()
            } else {
                typed.clone()
            },
            open_id: editing.unwrap_or(0),
            form,
        })
    }
    .await;
    match result {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

#[derive(Debug, Deserialize)]
struct RunbookForm {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    alert_match: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    steps_text: String,
}

impl RunbookForm {
    fn input(&self) -> RunbookIn {
        RunbookIn {
            title: self.title.clone(),
            description: self.description.clone(),
            steps: None,
            steps_text: Some(self.steps_text.clone()),
            service: Some(self.service.clone()).filter(|s| !s.trim().is_empty()),
            alert_match: self.alert_match.clone(),
            category: self.category.clone(),
        }
    }
}

async fn create_runbook(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<RunbookForm>,
) -> Response {
    save_runbook(state, session, None, form).await
}

async fn update_runbook(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<RunbookForm>,
) -> Response {
    save_runbook(state, session, Some(id), form).await
}

async fn save_runbook(
    state: AppState,
    session: Session,
    id: Option<i64>,
    form: RunbookForm,
) -> Response {
    match app::save_runbook(&state.ctx(&session.actor), id, &form.input()).await {
        Ok(r) => Redirect::to(&format!("/runbooks#runbook-{}", r.id)).into_response(),
        Err(e) => {
            let (status, errors) = form_errors(e);
            let typed = (form.title, form.description, form.steps_text);
            runbooks_view(&state, &session, id, typed, errors, status).await
        }
    }
}

/// The scheduled checks page.
#[derive(Template)]
#[template(path = "checks.html")]
pub struct ChecksPage {
    /// Frame.
    pub chrome: Chrome,
    /// Checks with their next and latest occurrences.
    pub checks: Vec<CheckOut>,
    /// Runbook titles.
    pub runbooks: Vec<String>,
    /// Team names.
    pub teams: Vec<String>,
    /// Late occurrences among the latest.
    pub late: usize,
    /// Missed occurrences among the latest.
    pub missed: usize,
    /// May schedule.
    pub can_manage: bool,
    /// What a refused new check said.
    pub typed: CheckTyped,
    /// Errors of a refused form.
    pub form: FormErrors,
}

/// The fields of the check form, as typed (defaults for a new one).
#[derive(Debug, Clone, Deserialize)]
pub struct CheckTyped {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Runbook title.
    #[serde(default)]
    pub runbook: String,
    /// Team name.
    #[serde(default)]
    pub team: String,
    /// Rule.
    #[serde(default)]
    pub rrule: String,
    /// First occurrence, local.
    #[serde(default)]
    pub start: String,
    /// Zone.
    #[serde(default)]
    pub zone: String,
    /// Window in minutes.
    #[serde(default)]
    pub window_minutes: String,
    /// `true` to schedule; absent (an unticked box) pauses an edited check.
    #[serde(default)]
    pub active: Option<String>,
}

impl Default for CheckTyped {
    fn default() -> Self {
        Self {
            name: String::new(),
            runbook: String::new(),
            team: String::new(),
            rrule: "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR".into(),
            start: String::new(),
            zone: "Europe/Berlin".into(),
            window_minutes: "120".into(),
            active: Some("true".into()),
        }
    }
}

impl CheckTyped {
    fn input(&self) -> CheckIn {
        CheckIn {
            name: self.name.clone(),
            runbook: self.runbook.clone(),
            team: self.team.clone(),
            rrule: self.rrule.clone(),
            start: self.start.clone(),
            zone: self.zone.clone(),
            window_minutes: self.window_minutes.trim().parse::<i64>().ok(),
            active: Some(self.active.as_deref() == Some("true")),
        }
    }
}

async fn checks_page(State(state): State<AppState>, session: Session) -> Response {
    checks_view(
        &state,
        &session,
        CheckTyped::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn checks_view(
    state: &AppState,
    session: &Session,
    typed: CheckTyped,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    if let Some(r) = refuse_customers(session) {
        return r;
    }
    let ctx = state.ctx(&session.actor);
    let result = async {
        let mut checks = Vec::new();
        for mut out in app::checks(&ctx).await? {
            for o in &mut out.recent {
                o.scheduled_at = super::views::readable(&o.scheduled_at);
            }
            checks.push(out);
        }
        let count = |state: &str| {
            checks
                .iter()
                .flat_map(|c: &CheckOut| c.recent.iter().take(3))
                .filter(|o| o.state == state)
                .count()
        };
        let (late, missed) = (count("late"), count("missed"));
        Ok::<_, ApiError>(ChecksPage {
            chrome: session.chrome(),
            late,
            missed,
            checks,
            runbooks: app::runbook_records(&ctx)
                .await?
                .into_iter()
                .map(|r| r.title)
                .collect(),
            teams: crate::app::directory::teams(&ctx)
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect(),
            can_manage: ctx.may(Action::ManageOperations),
            typed,
            form,
        })
    }
    .await;
    match result {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn create_check(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<CheckTyped>,
) -> Response {
    save_check(state, session, None, form).await
}

async fn update_check(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<CheckTyped>,
) -> Response {
    save_check(state, session, Some(id), form).await
}

async fn save_check(
    state: AppState,
    session: Session,
    id: Option<i64>,
    form: CheckTyped,
) -> Response {
    match app::save_check(&state.ctx(&session.actor), id, &form.input()).await {
        Ok(_) => Redirect::to("/checks").into_response(),
        Err(e) => {
            let (status, errors) = form_errors(e);
            let typed = if id.is_none() {
                form
            } else {
                CheckTyped::default()
            };
            checks_view(&state, &session, typed, errors, status).await
        }
    }
}

/// The runbook panel of a ticket or incident.
#[derive(Template)]
#[template(path = "runbook_panel.html")]
pub struct RunbookPanel {
    /// The page it sits on (`/desk/tickets/5`, `/incidents/3`).
    pub base: String,
    /// Runs, oldest first.
    pub runs: Vec<RunOut>,
    /// (id, title, suggested) of every runbook, suggested first.
    pub runbooks: Vec<(i64, String, bool)>,
    /// May start runs and record steps.
    pub can_act: bool,
    /// CSRF token.
    pub csrf: String,
    /// A refusal to show.
    pub error: String,
}

fn base_of(target: RunTarget) -> String {
    match target {
        RunTarget::Ticket(id) => format!("/desk/tickets/{id}"),
        RunTarget::Incident(id) => format!("/incidents/{id}"),
    }
}

async fn panel(state: &AppState, session: &Session, target: RunTarget, error: String) -> Response {
    if let Some(r) = refuse_customers(session) {
        return r;
    }
    let result = async {
        let ctx = state.ctx(&session.actor);
        let runs = app::runs(&ctx, target).await?;
        let suggested: Vec<i64> = app::suggested_runbooks(&state.store, target)
            .await?
            .iter()
            .map(|r| r.id)
            .collect();
        let mut runbooks: Vec<(i64, String, bool)> = app::runbook_records(&ctx)
            .await?
            .into_iter()
            .map(|r| (r.id, r.title, suggested.contains(&r.id)))
            .collect();
        runbooks.sort_by_key(|r| !r.2);
        let can_act = match target {
            RunTarget::Ticket(_) => ctx.may(Action::Triage),
            RunTarget::Incident(_) => ctx.may(Action::RespondToIncident),
        };
        Ok::<_, ApiError>(RunbookPanel {
            base: base_of(target),
            runs: runs.iter().map(app::run_out).collect(),
            runbooks,
            can_act,
            csrf: session.csrf.clone(),
            error,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => (super::status_of(&e), e.detail).into_response(),
    }
}

async fn ticket_panel(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    panel(&state, &session, RunTarget::Ticket(id), String::new()).await
}

async fn incident_panel(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    panel(&state, &session, RunTarget::Incident(id), String::new()).await
}

#[derive(Debug, Deserialize)]
struct StartForm {
    runbook: i64,
}

/// Answers a panel action: the panel again for htmx, a redirect back for a plain form.
async fn after(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    target: RunTarget,
    result: Result<(), ApiError>,
) -> Response {
    let error = result.err().map(|e| e.detail).unwrap_or_default();
    if headers.contains_key("hx-request") {
        panel(state, session, target, error).await
    } else if error.is_empty() {
        Redirect::to(&base_of(target)).into_response()
    } else {
        page_error(
            ApiError::new(crate::error::Code::InvalidInput, error),
            session.chrome(),
        )
    }
}

async fn start_run(
    state: AppState,
    session: Session,
    headers: HeaderMap,
    target: RunTarget,
    form: StartForm,
) -> Response {
    let input = RunIn {
        runbook: form.runbook,
    };
    let result = app::start_run(&state.ctx(&session.actor), target, input.runbook)
        .await
        .map(|_| ());
    after(&state, &session, &headers, target, result).await
}

async fn start_ticket_run(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    SignedForm { session, form }: SignedForm<StartForm>,
) -> Response {
    start_run(state, session, headers, RunTarget::Ticket(id), form).await
}

async fn start_incident_run(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    headers: HeaderMap,
    SignedForm { session, form }: SignedForm<StartForm>,
) -> Response {
    start_run(state, session, headers, RunTarget::Incident(id), form).await
}

#[derive(Debug, Deserialize)]
struct StepForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    note: String,
}

async fn record_step(
    State(state): State<AppState>,
    Path((id, position)): Path<(i64, usize)>,
    headers: HeaderMap,
    SignedForm { session, form }: SignedForm<StepForm>,
) -> Response {
    let run = match app::run(&state.ctx(&session.actor), id).await {
        Ok(run) => run,
        Err(e) => return page_error(e, session.chrome()),
    };
    let input = StepOutcomeIn {
        outcome: Some(form.outcome),
        note: form.note,
    };
    let result = app::record_step(&state.ctx(&session.actor), id, position, &input)
        .await
        .map(|_| ());
    after(&state, &session, &headers, run.target, result).await
}
