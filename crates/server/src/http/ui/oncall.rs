//! The on-call page: every schedule with who is on call now and the week's shifts, overrides,
//! escalation policies, and how the signed-in person is paged.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::Action;
use serde::Deserialize;

use super::session::{Session, SignedForm};
use super::views::{Chrome, FormErrors};
use super::{page_error, refuse_customers, render_with};
use crate::app::oncall as app;
use crate::error::ApiError;
use crate::wire::incidents::{
    ContactMethodIn, ContactMethodOut, EscalationPolicyOut, OverrideIn, ScheduleOut,
};
use crate::AppState;

/// The on-call routes of the UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/oncall", get(page))
        .route("/oncall/overrides", post(add_override))
        .route("/oncall/contacts", post(add_contact))
        .route("/oncall/contacts/delete", post(delete_contact))
}

/// The on-call page.
#[derive(Template)]
#[template(path = "oncall.html")]
pub struct OnCallPage {
    /// Frame.
    pub chrome: Chrome,
    /// Schedules with the next 7 days.
    pub schedules: Vec<ScheduleOut>,
    /// Policies.
    pub policies: Vec<EscalationPolicyOut>,
    /// The signed-in person's contact methods.
    pub contacts: Vec<ContactMethodOut>,
    /// May add overrides.
    pub can_respond: bool,
    /// Errors of a refused form.
    pub form: FormErrors,
}

async fn page(State(state): State<AppState>, session: Session) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    render_page(&state, &session, FormErrors::default(), StatusCode::OK).await
}

async fn render_page(
    state: &AppState,
    session: &Session,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let now = ctx.now;
        let to = now + SignedDuration::from_hours(24 * 7);
        let mut schedules = Vec::new();
        for mut out in app::schedules_between(&ctx, now, to).await? {
            // People read shifts in minutes, not RFC 3339 with nanoseconds.
            let readable = super::views::readable;
            for shift in &mut out.shifts {
                shift.starts_at = readable(&shift.starts_at);
                shift.ends_at = readable(&shift.ends_at);
            }
            for layer in &mut out.layers {
                layer.starts_at = readable(&layer.starts_at);
            }
            schedules.push(out);
        }
        let policies = app::policies(&ctx).await?;
        Ok::<_, ApiError>(OnCallPage {
            chrome: session.chrome(),
            schedules,
            policies,
            contacts: app::contact_methods(&state.store, &session.user).await?,
            can_respond: ctx.may(Action::RespondToIncident),
            form,
        })
    }
    .await;
    match result {
        Ok(p) => render_with(status, &p),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn after(state: &AppState, session: &Session, result: Result<(), ApiError>) -> Response {
    super::after(result, "/oncall", |errors, status| {
        render_page(state, session, errors, status)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct OverrideForm {
    schedule: i64,
    user: String,
    starts_at: String,
    ends_at: String,
}

async fn add_override(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<OverrideForm>,
) -> Response {
    let input = OverrideIn {
        user: form.user,
        starts_at: form.starts_at,
        ends_at: form.ends_at,
    };
    let result = app::add_override(&state.ctx(&session.actor), form.schedule, &input)
        .await
        .map(|_| ());
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct ContactForm {
    kind: String,
    address: String,
}

async fn add_contact(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<ContactForm>,
) -> Response {
    let input = ContactMethodIn {
        kind: form.kind,
        address: form.address,
    };
    let result = app::add_contact_method(&state.store, &session.user, &input, Timestamp::now())
        .await
        .map(|_| ());
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct IdForm {
    id: i64,
}

async fn delete_contact(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<IdForm>,
) -> Response {
    let result =
        app::delete_contact_method(&state.store, &session.user, form.id, Timestamp::now()).await;
    after(&state, &session, result).await
}
