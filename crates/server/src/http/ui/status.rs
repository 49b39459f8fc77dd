//! The public status page (no login): components with their 90-day history, published
//! incidents with their updates, maintenance, and an Atom feed of every public update.

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use serde::Deserialize;

use super::views::{Chrome, MessagePage};
use super::{render, render_with};
use crate::app::status as app;
use crate::wire::incidents::{PublicIncidentOut, StatusPageOut};
use crate::AppState;

/// The public routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/status", get(page))
        .route("/status/incidents/{id}", get(incident))
        .route("/status/feed.atom", get(feed))
        .route("/status/subscribe", post(subscribe))
        .route("/status/subscribe/confirm", get(confirm_page).post(confirm))
        .route(
            "/status/unsubscribe",
            get(unsubscribe_page).post(unsubscribe),
        )
}

/// A subscription form or link: the address, and for links their signature.
#[derive(Debug, Deserialize)]
struct SubscriptionForm {
    email: String,
    #[serde(default)]
    sig: String,
}

fn said(status: StatusCode, heading: &str, text: String) -> Response {
    let page = MessagePage {
        chrome: chrome(),
        heading: heading.into(),
        text,
    };
    render_with(status, &page)
}

/// The public form: mails a confirmation link (at most three a day per address).
async fn subscribe(State(state): State<AppState>, Form(form): Form<SubscriptionForm>) -> Response {
    let email = match opsdesk_domain::Email::parse("email", &form.email) {
        Ok(email) => email,
        Err(e) => {
            return said(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not an e-mail address",
                e.reason,
            )
        }
    };
    match app::request_subscription(&state.store, &email, Timestamp::now()).await {
        Ok(true) => said(
            StatusCode::OK,
            "Check your inbox",
            format!(
                "If {email} can receive mail, a message with a confirmation link is on its way."
            ),
        ),
        Ok(false) => said(
            StatusCode::SERVICE_UNAVAILABLE,
            "E-mail updates are not available",
            "This desk sends no mail yet; follow the Atom feed instead.".into(),
        ),
        Err(e) => unavailable(e.detail),
    }
}

/// The address of a subscription link whose signature holds, or the page refusing it.
async fn checked(
    state: &AppState,
    form: &SubscriptionForm,
    action: app::Subscription,
) -> Result<String, Response> {
    let Ok(secret) = state.signing_secret().await else {
        return Err(unavailable("the link cannot be checked right now".into()));
    };
    let email = form.email.trim().to_lowercase();
    if app::subscription_link_is_valid(secret, action, &email, &form.sig) {
        Ok(email)
    } else {
        Err(said(
            StatusCode::FORBIDDEN,
            "This link is not valid",
            "Use the latest link you were mailed, or subscribe again on the status page.".into(),
        ))
    }
}

/// A confirmation or unsubscribe link opens a page with a button: mail scanners follow links,
/// so only the button's POST changes anything.
async fn link_page(
    state: &AppState,
    form: SubscriptionForm,
    action: app::Subscription,
) -> Response {
    match checked(state, &form, action).await {
        Ok(email) => render(&SubscriptionPage {
            chrome: chrome(),
            email,
            sig: form.sig,
            confirm: action == app::Subscription::Confirm,
        })
        .into_response(),
        Err(refused) => refused,
    }
}

async fn confirm_page(
    State(state): State<AppState>,
    Query(form): Query<SubscriptionForm>,
) -> Response {
    link_page(&state, form, app::Subscription::Confirm).await
}

async fn unsubscribe_page(
    State(state): State<AppState>,
    Query(form): Query<SubscriptionForm>,
) -> Response {
    link_page(&state, form, app::Subscription::Unsubscribe).await
}

async fn confirm(State(state): State<AppState>, Form(form): Form<SubscriptionForm>) -> Response {
    let email = match checked(&state, &form, app::Subscription::Confirm).await {
        Ok(email) => email,
        Err(refused) => return refused,
    };
    match app::follow_subscription_link(
        &state.store,
        app::Subscription::Confirm,
        &email,
        Timestamp::now(),
    )
    .await
    {
        Ok(()) => said(
            StatusCode::OK,
            "Subscribed",
            format!("{email} now gets every public update. Each mail has a link to stop them."),
        ),
        Err(e) => unavailable(e.detail),
    }
}

async fn unsubscribe(
    State(state): State<AppState>,
    Form(form): Form<SubscriptionForm>,
) -> Response {
    let email = match checked(&state, &form, app::Subscription::Unsubscribe).await {
        Ok(email) => email,
        Err(refused) => return refused,
    };
    match app::follow_subscription_link(
        &state.store,
        app::Subscription::Unsubscribe,
        &email,
        Timestamp::now(),
    )
    .await
    {
        Ok(_) => said(
            StatusCode::OK,
            "Unsubscribed",
            format!("{email} gets no more status mail."),
        ),
        Err(e) => unavailable(e.detail),
    }
}

/// The page behind a confirmation or unsubscribe link: a button that does it.
#[derive(Template)]
#[template(path = "status_subscription.html")]
pub struct SubscriptionPage {
    /// Frame.
    pub chrome: Chrome,
    /// The address.
    pub email: String,
    /// The link's signature, sent back with the button.
    pub sig: String,
    /// Confirming (else unsubscribing).
    pub confirm: bool,
}

/// The status page.
#[derive(Template)]
#[template(path = "status.html")]
pub struct StatusPage {
    /// Frame (nobody signed in).
    pub chrome: Chrome,
    /// What the page shows.
    pub page: StatusPageOut,
}

/// One published incident.
#[derive(Template)]
#[template(path = "status_incident.html")]
pub struct StatusIncidentPage {
    /// Frame.
    pub chrome: Chrome,
    /// The incident.
    pub incident: PublicIncidentOut,
}

fn chrome() -> Chrome {
    Chrome {
        me: None,
        csrf: String::new(),
        notice: String::new(),
    }
}

fn unavailable(detail: String) -> Response {
    let page = MessagePage {
        chrome: chrome(),
        heading: "Status is unavailable".into(),
        text: detail,
    };
    render_with(StatusCode::SERVICE_UNAVAILABLE, &page)
}

/// The page with its instants as people read them.
fn readable(mut page: StatusPageOut) -> StatusPageOut {
    use super::views::readable as r;
    for i in page.active.iter_mut().chain(page.recent.iter_mut()) {
        readable_incident(i);
    }
    for m in &mut page.maintenance {
        m.starts_at = r(&m.starts_at);
        m.ends_at = r(&m.ends_at);
    }
    page
}

fn readable_incident(i: &mut PublicIncidentOut) {
    use super::views::readable as r;
    i.published_at = r(&i.published_at);
    i.resolved_at = i.resolved_at.as_deref().map(r);
    for u in &mut i.updates {
        u.created_at = r(&u.created_at);
    }
}

async fn page(State(state): State<AppState>) -> Response {
    match app::page(&state.store, Timestamp::now())
        .await
        .map(readable)
    {
        Ok(page) => render(&StatusPage {
            chrome: chrome(),
            page,
        })
        .into_response(),
        Err(e) => unavailable(e.detail),
    }
}

async fn incident(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    let page = match app::page(&state.store, Timestamp::now()).await {
        Ok(p) => p,
        Err(e) => return unavailable(e.detail),
    };
    let found = page
        .active
        .into_iter()
        .chain(page.recent)
        .find(|i| i.id == id);
    match found {
        Some(mut incident) => {
            readable_incident(&mut incident);
            render(&StatusIncidentPage {
                chrome: chrome(),
                incident,
            })
        }
        .into_response(),
        None => {
            let page = MessagePage {
                chrome: chrome(),
                heading: "Not found".into(),
                text: "No published incident has this number.".into(),
            };
            render_with(StatusCode::NOT_FOUND, &page)
        }
    }
}

/// The public updates as an Atom feed (RFC 4287); the template escapes every value.
#[derive(Template)]
#[template(path = "status_feed.xml")]
pub struct StatusFeed {
    /// The address the desk is reached at, without a trailing slash.
    pub base: String,
    /// When the newest update was posted.
    pub updated: String,
    /// The updates, newest first.
    pub entries: Vec<FeedEntry>,
}

/// One public update in the feed.
pub struct FeedEntry {
    /// The incident's number.
    pub incident: i64,
    /// The update's id.
    pub id: i64,
    /// The incident's public title.
    pub title: String,
    /// The status the update announced.
    pub status: String,
    /// When it was posted.
    pub updated: String,
    /// What it said.
    pub body: String,
}

async fn feed(State(state): State<AppState>) -> Response {
    let updates = match app::feed(&state.store, 50).await {
        Ok(u) => u,
        Err(e) => return unavailable(e.detail),
    };
    let page = StatusFeed {
        base: state.public_url.trim_end_matches('/').to_owned(),
        updated: updates.first().map_or_else(
            || Timestamp::UNIX_EPOCH.to_string(),
            |(u, _)| u.created_at.to_string(),
        ),
        entries: updates
            .into_iter()
            .map(|(u, title)| FeedEntry {
                incident: u.incident_id,
                id: u.id,
                title,
                status: u.status.as_str().to_owned(),
                updated: u.created_at.to_string(),
                body: u.body,
            })
            .collect(),
    };
    let mut response = render(&page);
    if response.status().is_success() {
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/atom+xml; charset=utf-8"),
        );
    }
    response
}
