//! The page a signed link in a page opens: acknowledge or resolve the incident without signing
//! in. The link's signature is the permission; the answer is a POST (link previewers and mail
//! scanners only GET), recorded as the paged person.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{Form, Router};
use jiff::Timestamp;
use opsdesk_store::{Incident, PageRecord};
use serde::Deserialize;

use super::views::Chrome;
use super::{render, render_with};
use crate::app::oncall;
use crate::error::ApiError;
use crate::AppState;

/// The page-answer routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/pages/{id}", get(show).post(answer))
}

/// The answer page.
#[derive(Template)]
#[template(path = "page_answer.html")]
pub struct PageAnswer {
    /// Frame (no one signed in).
    pub chrome: Chrome,
    /// Heading.
    pub heading: String,
    /// Page id.
    pub page: i64,
    /// Incident number.
    pub incident: i64,
    /// Incident title.
    pub title: String,
    /// Severity.
    pub severity: String,
    /// Status.
    pub status: String,
    /// Who was paged.
    pub person: String,
    /// `acknowledge` or `resolve`.
    pub action: String,
    /// The link's signature, posted back.
    pub sig: String,
    /// Whether the answer was given.
    pub done: bool,
}

#[derive(Debug, Deserialize)]
struct Signed {
    action: String,
    sig: String,
}

fn chrome() -> Chrome {
    Chrome {
        me: None,
        csrf: String::new(),
        notice: String::new(),
    }
}

fn view(
    page: PageRecord,
    incident: Incident,
    link: Signed,
    heading: String,
    done: bool,
) -> PageAnswer {
    PageAnswer {
        chrome: chrome(),
        heading,
        page: page.id,
        incident: incident.id,
        title: incident.title,
        severity: incident.severity.as_str().to_owned(),
        status: incident.status.as_str().to_owned(),
        person: page.user.name,
        action: link.action,
        sig: link.sig,
        done,
    }
}

fn failed(err: ApiError) -> Response {
    let status = err.code.describe().0;
    let page = super::views::MessagePage {
        chrome: chrome(),
        heading: "This link does not work".into(),
        text: err.detail,
    };
    render_with(status, &page)
}

async fn show(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(link): Query<Signed>,
) -> Response {
    let result = async {
        let secret = state.signing_secret().await?;
        let (page, incident) =
            oncall::linked_page(&state.store, secret, id, &link.action, &link.sig).await?;
        let heading = if link.action == "resolve" {
            "Resolve this incident?"
        } else {
            "Acknowledge this page?"
        };
        Ok::<_, ApiError>(view(page, incident, link, heading.into(), false))
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => failed(e),
    }
}

async fn answer(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Form(link): Form<Signed>,
) -> Response {
    let result = async {
        let secret = state.signing_secret().await?;
        let record = oncall::answer_linked_page(
            &state.store,
            secret,
            id,
            &link.action,
            &link.sig,
            Timestamp::now(),
        )
        .await?;
        let heading = match record.answer.as_deref() {
            Some("resolve") => "Resolved. Thank you.",
            _ => "Acknowledged: paging has stopped.",
        };
        let (page, incident) =
            oncall::linked_page(&state.store, secret, id, &link.action, &link.sig).await?;
        Ok::<_, ApiError>(view(page, incident, link, heading.into(), true))
    }
    .await;
    match result {
        Ok(page) => render_with(StatusCode::OK, &page),
        Err(e) => failed(e),
    }
}
