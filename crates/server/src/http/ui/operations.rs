//! The operations page: services (public or not), maintenance windows, alert integrations
//! with their tokens, and status-page subscribers.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use opsdesk_domain::Action;
use serde::Deserialize;

use super::incidents::blank_to_none;
use super::session::{Session, SignedForm};
use super::views::{age, Chrome, FormErrors};
use super::{form_errors, page_error, refuse_customers, render_with};
use crate::app::incidents::{self as app, Directory};
use crate::app::workspace::{self};
use crate::app::Ctx;
use crate::error::ApiError;
use crate::wire::incidents::{IntegrationIn, IntegrationSettingsWire, MaintenanceIn, ServiceIn};
use crate::AppState;

/// The operations routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/operations", get(operations))
        .route("/operations/services", post(save_service))
        .route("/operations/maintenance", post(create_maintenance))
        .route("/operations/maintenance/delete", post(delete_maintenance))
        .route("/operations/integrations", post(create_integration))
        .route("/operations/services/public", post(set_public))
        .route("/operations/subscribers", post(add_subscriber))
        .route("/operations/integrations/rotate", post(rotate_integration))
        .route("/operations/integrations/delete", post(delete_integration))
}

/// Services, maintenance windows and integrations.
#[derive(Template)]
#[template(path = "operations.html")]
pub struct OperationsPage {
    /// Frame.
    pub chrome: Chrome,
    /// (id, name, description, team, in maintenance, open incidents, public).
    pub services: Vec<(i64, String, String, String, bool, i64, bool)>,
    /// Windows: (id, title, services, recurrence, zone, active, next occurrence text).
    pub windows: Vec<(i64, String, String, String, String, bool, String)>,
    /// Integrations: (id, name, kind, service, alerts, last alert).
    pub integrations: Vec<(i64, String, String, String, i64, String)>,
    /// Team names.
    pub teams: Vec<String>,
    /// May change services and windows.
    pub can_manage: bool,
    /// May see and change integrations.
    pub is_admin: bool,
    /// Errors of a refused form.
    pub form: FormErrors,
    /// A new token to show once: (integration name, full endpoint URL, token).
    pub created: Option<(String, String, String)>,
}

async fn operations(State(state): State<AppState>, session: Session) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    operations_page(
        &state,
        &session,
        FormErrors::default(),
        StatusCode::OK,
        None,
    )
    .await
}

async fn operations_page(
    state: &AppState,
    session: &Session,
    form: FormErrors,
    status: StatusCode,
    created: Option<(String, String, String)>,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let now = ctx.now;
        let services = app::services(&Ctx::new(&state.store, ctx.operator, now)).await?;
        let dir = Directory::load(&state.store).await?;
        let is_admin = ctx.may(Action::Administer);
        let windows = app::maintenance_windows(&ctx)
            .await?
            .iter()
            .map(|m| {
                let out = dir.maintenance(m, now);
                let next = out
                    .next
                    .first()
                    .map(|o| format!("{} → {}", o.starts_at, o.ends_at))
                    .unwrap_or_else(|| "over".to_owned());
                (
                    out.id,
                    out.title,
                    out.services.join(", "),
                    out.recurrence,
                    out.zone,
                    out.active,
                    next,
                )
            })
            .collect();
        let integrations = if is_admin {
            dir.integrations
                .iter()
                .map(|i| {
                    (
                        i.id,
                        i.name.clone(),
                        i.kind.as_str().to_owned(),
                        i.service_id.map(|s| dir.service(s)).unwrap_or_default(),
                        i.alert_count,
                        i.last_alert_at
                            .map(|t| format!("{} ago", age(t, now)))
                            .unwrap_or_else(|| "never".to_owned()),
                    )
                })
                .collect()
        } else {
            Vec::new()
        };
        Ok::<_, ApiError>(OperationsPage {
            chrome: session.chrome(),
            services: services
                .into_iter()
                .map(|s| {
                    (
                        s.id,
                        s.name,
                        s.description,
                        s.team.unwrap_or_default(),
                        s.in_maintenance,
                        s.open_incidents,
                        s.public,
                    )
                })
                .collect(),
            windows,
            integrations,
            teams: dir.teams.iter().map(|t| t.name.clone()).collect(),
            can_manage: ctx.may(Action::ManageOperations),
            is_admin,
            form,
            created,
        })
    }
    .await;
    match result {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn operations_after(
    state: &AppState,
    session: &Session,
    result: Result<(), ApiError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to("/operations").into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            operations_page(state, session, errors, status, None).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct ServiceForm {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    team: String,
}

async fn save_service(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<ServiceForm>,
) -> Response {
    let result = async {
        let existing = workspace::services(&state.ctx(&session.actor))
            .await?
            .into_iter()
            .find(|s| s.name.eq_ignore_ascii_case(form.name.trim()))
            .map(|s| s.id);
        let input = ServiceIn {
            name: form.name.clone(),
            description: form.description.clone(),
            team: blank_to_none(&form.team),
        };
        app::save_service(&state.ctx(&session.actor), existing, &input)
            .await
            .map(|_| ())
    }
    .await;
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct MaintenanceForm {
    title: String,
    #[serde(default)]
    description: String,
    starts_at: String,
    ends_at: String,
    #[serde(default)]
    zone: String,
    #[serde(default)]
    recurrence: String,
    #[serde(default)]
    services: String,
}

/// Reads `2026-12-01T22:00` (a `datetime-local` field) in `zone`, or a full RFC 3339 instant.
fn local_instant(raw: &str, zone: &str) -> String {
    let raw = raw.trim();
    if raw.parse::<Timestamp>().is_ok() {
        return raw.to_owned();
    }
    let zone = jiff::tz::TimeZone::get(zone.trim()).unwrap_or(jiff::tz::TimeZone::UTC);
    raw.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(zone).ok())
        .map_or_else(|| raw.to_owned(), |z| z.timestamp().to_string())
}

async fn create_maintenance(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<MaintenanceForm>,
) -> Response {
    let zone = if form.zone.trim().is_empty() {
        "UTC".to_owned()
    } else {
        form.zone.clone()
    };
    let input = MaintenanceIn {
        title: form.title.clone(),
        description: form.description.clone(),
        starts_at: local_instant(&form.starts_at, &zone),
        ends_at: local_instant(&form.ends_at, &zone),
        zone: Some(zone),
        recurrence: blank_to_none(&form.recurrence),
        until: None,
        services: form
            .services
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    };
    let result = app::create_maintenance(&state.ctx(&session.actor), &input)
        .await
        .map(|_| ());
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct IdForm {
    id: i64,
}

async fn delete_maintenance(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<IdForm>,
) -> Response {
    let result = app::delete_maintenance(&state.ctx(&session.actor), form.id).await;
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct IntegrationForm {
    name: String,
    kind: String,
    #[serde(default)]
    service: String,
    #[serde(default)]
    group_by: String,
    #[serde(default)]
    quiet_minutes: String,
}

fn endpoint(headers: &axum::http::HeaderMap, path: &str) -> String {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}{path}")
}

async fn create_integration(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    SignedForm { session, form }: SignedForm<IntegrationForm>,
) -> Response {
    let quiet = match form.quiet_minutes.trim() {
        "" => None,
        q => q.parse::<i64>().ok().or(Some(-1)),
    };
    let input = IntegrationIn {
        name: form.name.clone(),
        kind: form.kind.clone(),
        service: blank_to_none(&form.service),
        team: None,
        settings: IntegrationSettingsWire {
            group_by: blank_to_none(&form.group_by).map(|g| {
                g.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            }),
            quiet_minutes: quiet,
            ..IntegrationSettingsWire::default()
        },
    };
    let result = app::create_integration(&state.ctx(&session.actor), &input).await;
    token_page(&state, &session, &headers, result, StatusCode::CREATED).await
}

/// The operations page showing a new integration token once (or the refusal).
async fn token_page(
    state: &AppState,
    session: &Session,
    headers: &axum::http::HeaderMap,
    result: Result<(opsdesk_store::Integration, String), ApiError>,
    status: StatusCode,
) -> Response {
    match result {
        Ok((integration, token)) => {
            let path = app::hook_path(integration.kind, &token);
            let shown = (integration.name, endpoint(headers, &path), token);
            operations_page(state, session, FormErrors::default(), status, Some(shown)).await
        }
        Err(err) => {
            let (status, errors) = form_errors(err);
            operations_page(state, session, errors, status, None).await
        }
    }
}

async fn rotate_integration(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    SignedForm { session, form }: SignedForm<IdForm>,
) -> Response {
    let result = app::rotate_integration(&state.ctx(&session.actor), form.id).await;
    token_page(&state, &session, &headers, result, StatusCode::OK).await
}

async fn delete_integration(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<IdForm>,
) -> Response {
    let result = app::delete_integration(&state.ctx(&session.actor), form.id).await;
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct PublicForm {
    id: i64,
    public: String,
}

async fn set_public(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<PublicForm>,
) -> Response {
    let result =
        crate::app::status::set_public(&state.ctx(&session.actor), form.id, form.public == "true")
            .await;
    operations_after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct SubscriberForm {
    /// A webhook URL or an e-mail address.
    webhook: String,
}

async fn add_subscriber(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<SubscriberForm>,
) -> Response {
    let ctx = state.ctx(&session.actor);
    let result = if form.webhook.contains('@') && !form.webhook.contains("://") {
        crate::app::status::subscribe_email(&ctx, &form.webhook).await
    } else {
        crate::app::status::subscribe(&ctx, &form.webhook).await
    };
    operations_after(&state, &session, result).await
}
