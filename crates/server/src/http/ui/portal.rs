//! The customer portal: raise a request, follow your organisation's tickets, reply.

use axum::extract::{Query, State};

use crate::input::IdPath;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use opsdesk_domain::Action;
use serde::Deserialize;

use super::session::{Session, SignedForm};
use super::views::{FormErrors, MessageView, PortalList, PortalNew, PortalTicket, TicketView};
use super::{page_error, render, render_with, status_of};
use crate::app::{self, TicketQuery};
use crate::error::ApiError;
use crate::wire::desk::{CreateMessageIn, CreateTicketIn, PatchTicketIn};
use crate::AppState;

const CATEGORIES: [&str; 5] = ["access", "billing", "bug", "performance", "question"];

pub(super) fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/portal", get(list))
        .route("/portal/new", get(new_form))
        .route("/portal/tickets", post(create))
        .route("/portal/tickets/{id}", get(show))
        .route("/portal/tickets/{id}/reply", post(reply))
        .route("/portal/tickets/{id}/status", post(set_status))
}

fn staff_go_to_desk(session: &Session) -> Option<Response> {
    session
        .actor
        .may(Action::ListQueues)
        .then(|| Redirect::to("/desk").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<PageQuery>,
) -> Response {
    if let Some(redirect) = staff_go_to_desk(&session) {
        return redirect;
    }
    let ticket_query = TicketQuery {
        sort: Some("updated".into()),
        cursor: query.cursor,
        limit: Some(50),
        ..TicketQuery::default()
    };
    let page = match app::list_tickets(&state.store, &session.actor, &ticket_query).await {
        Ok(page) => page,
        Err(e) => return page_error(e, session.chrome()),
    };
    let org = match session.user.org_id {
        Some(id) => app::directory::org(&state.ctx(&session.actor), id)
            .await
            .ok()
            .map(|o| o.name),
        None => None,
    };
    let now = Timestamp::now();
    render(&PortalList {
        chrome: session.chrome(),
        org,
        tickets: page.items.iter().map(|t| TicketView::of(t, now)).collect(),
        next_cursor: page.next_cursor,
    })
    .into_response()
}

async fn new_form(session: Session) -> Response {
    render(&PortalNew {
        chrome: session.chrome(),
        form: FormErrors::default(),
        subject: String::new(),
        body: String::new(),
        category: String::new(),
        categories: CATEGORIES.to_vec(),
    })
    .into_response()
}

#[derive(Debug, Deserialize)]
struct NewRequest {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    category: String,
}

async fn create(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<NewRequest>,
) -> Response {
    let input = CreateTicketIn {
        subject: form.subject.clone(),
        body: form.body.clone(),
        requester_email: None,
        team: None,
        priority: None,
        impact: None,
        urgency: None,
        category: Some(form.category.clone()),
        service: None,
        tags: None,
    };
    match app::create_ticket(
        &state.store,
        &session.user,
        &input,
        "portal",
        None,
        Timestamp::now(),
    )
    .await
    {
        Ok((ticket, _)) => Redirect::to(&format!("/portal/tickets/{}", ticket.id)).into_response(),
        Err(err) => (
            status_of(&err),
            render(&PortalNew {
                chrome: session.chrome(),
                form: FormErrors { errors: err.errors },
                subject: form.subject,
                body: form.body,
                category: form.category,
                categories: CATEGORIES.to_vec(),
            }),
        )
            .into_response(),
    }
}

async fn show(State(state): State<AppState>, session: Session, IdPath(id): IdPath) -> Response {
    ticket_page(&state, &session, id, FormErrors::default()).await
}

async fn ticket_page(state: &AppState, session: &Session, id: i64, form: FormErrors) -> Response {
    if let Some(redirect) = staff_go_to_desk(session) {
        return redirect;
    }
    let result: Result<_, ApiError> = async {
        let ctx = state.ctx(&session.actor);
        let ticket = app::readable_ticket(&ctx, id).await?;
        let messages = app::ticket_messages(&ctx, id).await?;
        let attachments = app::mail::attachments(&ctx, id).await?;
        Ok((ticket, messages, attachments))
    }
    .await;
    let (ticket, messages, attachments) = match result {
        Ok(found) => found,
        Err(e) => return page_error(e, session.chrome()),
    };
    let now = Timestamp::now();
    let status = if form.errors.is_empty() {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = PortalTicket {
        chrome: session.chrome(),
        form,
        t: TicketView::of(&ticket, now),
        messages: messages
            .iter()
            .map(|m| MessageView {
                author: m.author.name.clone(),
                from_staff: m.author_is_staff,
                body: m.body.clone(),
                quoted: m.quoted.clone().unwrap_or_default(),
                at: format!("{} ago", super::views::age(m.created_at, now)),
                at_exact: super::views::exact(m.created_at),
            })
            .collect(),
        attachments: attachments
            .iter()
            .map(super::views::AttachmentView::from)
            .collect(),
    };
    render_with(status, &page)
}

#[derive(Debug, Deserialize)]
struct ReplyForm {
    #[serde(default)]
    body: String,
}

async fn reply(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    SignedForm { session, form }: SignedForm<ReplyForm>,
) -> Response {
    let input = CreateMessageIn {
        body: form.body,
        internal: false,
    };
    match app::add_message(&state.ctx(&session.actor), id, &input).await {
        Ok(_) => Redirect::to(&format!("/portal/tickets/{id}")).into_response(),
        Err(err) if !err.errors.is_empty() => {
            ticket_page(&state, &session, id, FormErrors { errors: err.errors }).await
        }
        Err(err) => page_error(err, session.chrome()),
    }
}

#[derive(Debug, Deserialize)]
struct StatusForm {
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    IdPath(id): IdPath,
    SignedForm { session, form }: SignedForm<StatusForm>,
) -> Response {
    let patch = PatchTicketIn {
        status: Some(form.status),
        ..PatchTicketIn::default()
    };
    match app::patch_ticket(&state.ctx(&session.actor), id, &patch).await {
        Ok(_) => Redirect::to(&format!("/portal/tickets/{id}")).into_response(),
        Err(err) => page_error(err, session.chrome()),
    }
}
