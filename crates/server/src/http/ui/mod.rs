//! The HTML UI: sign-in, the customer portal, the agent workspace and administration.
//!
//! Pages are askama templates (compile-time checked) rendered from view models in [`views`];
//! forms post back with a CSRF token checked by [`session::SignedForm`] and call the same
//! [`crate::app`] functions as the API. Assets are embedded in the binary.

mod admin;
mod admin_sla;
mod charts;
mod desk;
mod help;
mod incidents;
mod knowledge;
mod mail;
mod oncall;
mod operations;
mod paging;
mod portal;
pub mod reports;
mod reviews;
mod runbooks;
mod search;
pub mod session;
mod status;
mod survey;
pub mod views;

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use opsdesk_domain::Action;

use crate::error::{ApiError, Code};
use crate::AppState;
use session::Session;
use views::{Chrome, MessagePage};

/// The routes of the UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(session::login_page).post(session::login))
        .route("/logout", post(session::logout))
        .route(
            "/assets/app.css",
            get(|| asset("text/css", include_str!("../../../assets/app.css"))),
        )
        .route(
            "/assets/app.js",
            get(|| asset("text/javascript", include_str!("../../../assets/app.js"))),
        )
        .route(
            "/assets/htmx.min.js",
            get(|| {
                asset(
                    "text/javascript",
                    include_str!("../../../assets/htmx.min.js"),
                )
            }),
        )
        .merge(portal::routes())
        .merge(desk::routes())
        .merge(admin::routes())
        .merge(admin_sla::routes())
        .merge(incidents::routes())
        .merge(paging::routes())
        .merge(oncall::routes())
        .merge(status::routes())
        .merge(reviews::routes())
        .merge(mail::routes())
        .merge(knowledge::routes())
        .merge(search::routes())
        .merge(operations::routes())
        .merge(help::routes())
        .merge(runbooks::routes())
        .merge(reports::routes())
        .merge(survey::routes())
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn home(session: Result<Session, Response>) -> Response {
    match session {
        Ok(s) if s.actor.may(Action::ListQueues) => Redirect::to("/desk").into_response(),
        Ok(_) => Redirect::to("/portal").into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

/// Renders a template, or a plain error page if rendering fails.
pub fn render<T: Template>(page: &T) -> Response {
    render_with(StatusCode::OK, page)
}

/// Renders `page` answered with `status`; a template that fails is a 500, never a page that
/// looks fine.
pub fn render_with<T: Template>(status: StatusCode, page: &T) -> Response {
    answer(status, page.render())
}

/// The response for a page rendered (or not) with `status`.
fn answer(status: StatusCode, rendered: askama::Result<String>) -> Response {
    match rendered {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>The page could not be rendered.</p>"),
            )
                .into_response()
        }
    }
}

/// An error as a page: its status, and a heading and sentence for people.
pub fn page_error(err: ApiError, chrome: Chrome) -> Response {
    let (status, _, title) = err.code.describe();
    let page = MessagePage {
        chrome,
        heading: title.into(),
        text: err.detail,
    };
    render_with(status, &page)
}

/// The status a form error is answered with: the problem's own.
fn status_of(err: &ApiError) -> StatusCode {
    err.code.describe().0
}

/// A refused form's status and the errors to show beside its fields; a refusal that names no
/// field (a forbidden action, say) is shown as an error of the whole request.
fn form_errors(err: ApiError) -> (StatusCode, views::FormErrors) {
    let status = status_of(&err);
    let errors = if err.errors.is_empty() {
        vec![crate::error::FieldError {
            field: "request".into(),
            reason: err.detail,
        }]
    } else {
        err.errors
    };
    (status, views::FormErrors { errors })
}

/// What a form post answers: on success a redirect to `to` (post/redirect/get); on a refusal
/// the form's page again, from `again`, with the errors beside their fields and the refusal's
/// status.
async fn after<F, Fut>(result: Result<(), ApiError>, to: &str, again: F) -> Response
where
    F: FnOnce(views::FormErrors, StatusCode) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    match result {
        Ok(()) => Redirect::to(to).into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            again(errors, status).await
        }
    }
}

/// The refusal page for a customer who opens a staff page, or `None` for staff.
fn refuse_customers(session: &Session) -> Option<Response> {
    (!session.actor.may(Action::ListQueues)).then(|| {
        page_error(
            ApiError::new(Code::Forbidden, "This page is for the desk's staff."),
            session.chrome(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_that_fails_to_render_is_a_server_error() {
        let failed = answer(StatusCode::OK, Err(askama::Error::Fmt));
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let refused = answer(StatusCode::UNPROCESSABLE_ENTITY, Ok("<p>form</p>".into()));
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
}
