//! The satisfaction survey a resolution notice links to: no sign-in, the link's signature is
//! the authority. Opening the link records nothing (mail scanners open links); the form does.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use jiff::Timestamp;
use serde::Deserialize;

use super::views::Chrome;
use super::{render, render_with};
use crate::app::survey::{rate_ticket, surveyed_ticket_subject, Rater};
use crate::error::ApiError;
use crate::AppState;

/// The survey routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/survey/{id}", get(survey_page).post(answer))
}

/// The survey of one ticket.
#[derive(Template)]
#[template(path = "survey.html")]
pub struct SurveyPage {
    /// Frame (nobody signed in).
    pub chrome: Chrome,
    /// The ticket.
    pub ticket: i64,
    /// Its subject.
    pub subject: String,
    /// The link's signature, posted back.
    pub sig: String,
    /// The score given, once answered.
    pub score: Option<u8>,
    /// The comment given.
    pub comment: String,
    /// What went wrong with a refused answer.
    pub error: String,
    /// A score to preselect (from the link), not yet recorded.
    pub preselected: Option<u8>,
}

/// The link's query.
#[derive(Debug, Deserialize)]
pub struct Link {
    sig: String,
    /// A score to preselect.
    score: Option<u8>,
}

/// A posted answer.
#[derive(Debug, Deserialize)]
pub struct Answer {
    sig: String,
    score: i64,
    #[serde(default)]
    comment: String,
}

fn chrome() -> Chrome {
    Chrome {
        me: None,
        csrf: String::new(),
        notice: String::new(),
    }
}

async fn check(state: &AppState, id: i64, sig: &str) -> Result<String, ApiError> {
    let secret = state.signing_secret().await?;
    surveyed_ticket_subject(&state.store, secret, id, sig).await
}

fn page(id: i64, subject: String, sig: String) -> SurveyPage {
    SurveyPage {
        chrome: chrome(),
        ticket: id,
        subject,
        sig,
        score: None,
        comment: String::new(),
        error: String::new(),
        preselected: None,
    }
}

async fn record(state: &AppState, id: i64, sig: String, score: i64, comment: &str) -> Response {
    let subject = match check(state, id, &sig).await {
        Ok(s) => s,
        Err(e) => return super::page_error(e, chrome()),
    };
    let mut view = page(id, subject, sig);
    match rate_ticket(
        &state.store,
        Rater::SignedLink,
        id,
        score,
        comment,
        Timestamp::now(),
    )
    .await
    {
        Ok(answer) => {
            view.score = Some(answer.score());
            view.comment = answer.comment().to_owned();
            render_with(StatusCode::OK, &view)
        }
        Err(e) => {
            let status = e.code.describe().0;
            view.error = e
                .errors
                .first()
                .map_or(e.detail.clone(), |f| format!("{}: {}", f.field, f.reason));
            render_with(status, &view)
        }
    }
}

async fn survey_page(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(link): Query<Link>,
) -> Response {
    match check(&state, id, &link.sig).await {
        Ok(subject) => {
            let mut view = page(id, subject, link.sig);
            view.preselected = link.score.filter(|s| (1..=5).contains(s));
            render(&view)
        }
        Err(e) => super::page_error(e, chrome()),
    }
}

async fn answer(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(form): Form<Answer>,
) -> Response {
    record(&state, id, form.sig, form.score, &form.comment).await
}
