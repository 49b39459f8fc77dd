//! The review editor (template sections, action items) and the problem records page.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use opsdesk_domain::Action;
use serde::Deserialize;

use super::session::{Session, SignedForm};
use super::views::{readable, Chrome, FormErrors};
use super::{form_errors, page_error, refuse_customers, render_with};
use crate::app::reviews as app;
use crate::error::ApiError;
use crate::wire::incidents::{ActionItemIn, ActionItemOut, ProblemIn, ProblemOut, ReviewIn};
use crate::AppState;

/// The review routes of the UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/review", get(review).post(save_review))
        .route("/action-items", post(add_item))
        .route("/action-items/{id}/state", post(move_item))
        .route("/problems", get(problems).post(create_problem))
        .route("/problems/{id}", post(update_problem))
}

/// The review editor.
#[derive(Template)]
#[template(path = "review.html")]
pub struct ReviewPage {
    /// Frame.
    pub chrome: Chrome,
    /// Incident number.
    pub incident: i64,
    /// Incident title.
    pub title: String,
    /// `draft`, `published`, or `not started`.
    pub status: String,
    /// (field, heading, text) per template section.
    pub sections: Vec<(&'static str, &'static str, String)>,
    /// Action items.
    pub items: Vec<ActionItemOut>,
    /// May write.
    pub can_act: bool,
    /// Errors of a refused form.
    pub form: FormErrors,
}

/// The problem records page.
#[derive(Template)]
#[template(path = "problems.html")]
pub struct ProblemsPage {
    /// Frame.
    pub chrome: Chrome,
    /// Problems.
    pub problems: Vec<ProblemOut>,
    /// May write.
    pub can_act: bool,
    /// Errors of a refused form.
    pub form: FormErrors,
}

async fn review(State(state): State<AppState>, session: Session, Path(id): Path<i64>) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    review_page(
        &state,
        &session,
        id,
        None,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn review_page(
    state: &AppState,
    session: &Session,
    id: i64,
    typed: Option<Vec<String>>,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let (incident, saved) = app::review_record(&ctx, id).await?;
        let texts = typed
            .or_else(|| saved.as_ref().map(|r| r.sections.clone()))
            .unwrap_or_default();
        let sections = opsdesk_store::REVIEW_SECTIONS
            .iter()
            .enumerate()
            .map(|(i, (field, heading))| {
                (*field, *heading, texts.get(i).cloned().unwrap_or_default())
            })
            .collect();
        let filter = app::ItemFilter {
            incident: Some(id),
            all: true,
            ..app::ItemFilter::default()
        };
        let mut items: Vec<ActionItemOut> = app::action_items(&ctx, filter).await?;
        for a in &mut items {
            a.due_at = readable(&a.due_at);
        }
        Ok::<_, ApiError>(ReviewPage {
            chrome: session.chrome(),
            incident: id,
            title: incident.title,
            status: saved.map_or_else(|| "not started".to_owned(), |r| r.status),
            sections,
            items,
            can_act: ctx.may(Action::RespondToIncident),
            form,
        })
    }
    .await;
    match result {
        Ok(p) => render_with(status, &p),
        Err(e) => page_error(e, session.chrome()),
    }
}

#[derive(Debug, Deserialize)]
struct ReviewForm {
    #[serde(default)]
    summary: String,
    #[serde(default)]
    customer_impact: String,
    #[serde(default)]
    timeline: String,
    #[serde(default)]
    root_cause: String,
    #[serde(default)]
    contributing_factors: String,
    #[serde(default)]
    went_well: String,
    #[serde(default)]
    went_poorly: String,
    #[serde(default)]
    published: Option<String>,
}

async fn save_review(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<ReviewForm>,
) -> Response {
    let input = ReviewIn {
        summary: form.summary,
        customer_impact: form.customer_impact,
        timeline: form.timeline,
        root_cause: form.root_cause,
        contributing_factors: form.contributing_factors,
        went_well: form.went_well,
        went_poorly: form.went_poorly,
        published: form.published.as_deref() == Some("true"),
    };
    match app::save_review(&state.ctx(&session.actor), id, &input).await {
        Ok(_) => Redirect::to(&format!("/incidents/{id}/review")).into_response(),
        Err(err) => {
            // Keep what was typed.
            let typed = vec![
                input.summary,
                input.customer_impact,
                input.timeline,
                input.root_cause,
                input.contributing_factors,
                input.went_well,
                input.went_poorly,
            ];
            let (status, errors) = form_errors(err);
            review_page(&state, &session, id, Some(typed), errors, status).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct ItemForm {
    title: String,
    owner: String,
    due: String,
    verification: String,
    incident: i64,
}

async fn add_item(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<ItemForm>,
) -> Response {
    let input = ActionItemIn {
        title: form.title,
        owner: form.owner,
        due: form.due,
        verification: form.verification,
        incident: Some(form.incident),
        problem: None,
    };
    match app::create_action_item(&state.ctx(&session.actor), &input).await {
        Ok(_) => Redirect::to(&format!("/incidents/{}/review", form.incident)).into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            review_page(&state, &session, form.incident, None, errors, status).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct StateForm {
    state: String,
    back: String,
}

async fn move_item(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<StateForm>,
) -> Response {
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") {
        form.back.clone()
    } else {
        "/incidents".to_owned()
    };
    match app::set_action_state(&state.ctx(&session.actor), id, &form.state).await {
        Ok(item) => match item.incident_id {
            Some(i) => Redirect::to(&format!("/incidents/{i}/review")).into_response(),
            None => Redirect::to(&back).into_response(),
        },
        Err(err) => {
            let incident = app::incident_of_item(&state.ctx(&session.actor), id)
                .await
                .ok()
                .flatten();
            let (status, errors) = form_errors(err);
            match incident {
                Some(i) => review_page(&state, &session, i, None, errors, status).await,
                None => problems_page(&state, &session, errors, status).await,
            }
        }
    }
}

async fn problems(State(state): State<AppState>, session: Session) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    problems_page(&state, &session, FormErrors::default(), StatusCode::OK).await
}

async fn problems_page(
    state: &AppState,
    session: &Session,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        Ok::<_, ApiError>(ProblemsPage {
            chrome: session.chrome(),
            problems: app::problems(&ctx)
                .await?
                .iter()
                .map(app::problem_out)
                .collect(),
            can_act: ctx.may(Action::RespondToIncident),
            form,
        })
    }
    .await;
    match result {
        Ok(p) => render_with(status, &p),
        Err(e) => page_error(e, session.chrome()),
    }
}

#[derive(Debug, Deserialize)]
struct ProblemForm {
    title: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    root_cause: String,
    #[serde(default)]
    workaround: String,
    #[serde(default)]
    incidents: String,
}

fn problem_input(form: ProblemForm) -> Result<ProblemIn, ApiError> {
    let mut incidents = Vec::new();
    for part in form
        .incidents
        .split(',')
        .map(|p| p.trim().trim_start_matches('#'))
        .filter(|p| !p.is_empty())
    {
        incidents.push(part.parse::<i64>().map_err(|_| {
            ApiError::field(
                crate::error::Code::InvalidInput,
                "incidents",
                format!("'{part}' is not an incident number"),
            )
        })?);
    }
    Ok(ProblemIn {
        title: form.title,
        status: Some(form.status).filter(|s| !s.trim().is_empty()),
        root_cause: form.root_cause,
        workaround: form.workaround,
        incidents,
    })
}

async fn create_problem(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<ProblemForm>,
) -> Response {
    let result = async {
        let input = problem_input(form)?;
        app::save_problem(&state.ctx(&session.actor), None, &input).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/problems").into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            problems_page(&state, &session, errors, status).await
        }
    }
}

async fn update_problem(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<ProblemForm>,
) -> Response {
    let result = async {
        app::problem(&state.ctx(&session.actor), id).await?;
        let input = problem_input(form)?;
        app::save_problem(&state.ctx(&session.actor), Some(id), &input).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/problems").into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            problems_page(&state, &session, errors, status).await
        }
    }
}
