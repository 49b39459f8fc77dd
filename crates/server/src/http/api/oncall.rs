//! On-call routes: schedules and overrides, who is on call, escalation policies, the policy a
//! service pages with, the caller's contact methods, and the pages sent about an incident.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::oncall as app;
use crate::auth::ApiCaller;
use crate::error::{ApiError, Checks, Code, Problem};
use crate::input::{ApiJson, IdPath};
use crate::wire::desk::Items;
use crate::wire::desk::PersonOut;
use crate::wire::incidents::*;
use crate::AppState;

/// The on-call routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/schedules",
            get(list_schedules).post(create_schedule),
        )
        .route(
            "/api/v1/schedules/{id}",
            get(get_schedule).delete(delete_schedule),
        )
        .route("/api/v1/schedules/{id}/overrides", post(add_override))
        .route(
            "/api/v1/schedules/{id}/overrides/{override_id}",
            delete(delete_override),
        )
        .route("/api/v1/oncall", get(on_call_now))
        .route(
            "/api/v1/escalation-policies",
            get(list_policies).post(create_policy),
        )
        .route("/api/v1/escalation-policies/{id}", delete(delete_policy))
        .route(
            "/api/v1/services/{id}/escalation-policy",
            put(set_service_policy),
        )
        .route(
            "/api/v1/me/contact-methods",
            get(list_contacts).post(add_contact),
        )
        .route("/api/v1/me/contact-methods/{id}", delete(delete_contact))
        .route("/api/v1/incidents/{id}/pages", get(incident_pages))
}

/// The OpenAPI description of the on-call routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_schedules,
    create_schedule,
    get_schedule,
    delete_schedule,
    add_override,
    delete_override,
    on_call_now,
    list_policies,
    create_policy,
    delete_policy,
    set_service_policy,
    list_contacts,
    add_contact,
    delete_contact,
    incident_pages
))]
pub struct OnCallDoc;

/// The window of shifts to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    /// From (RFC 3339; default now).
    pub from: Option<String>,
    /// Until (RFC 3339; default 14 days after `from`).
    pub to: Option<String>,
}

fn window(q: &WindowQuery, now: Timestamp) -> Result<(Timestamp, Timestamp), ApiError> {
    let mut checks = Checks::default();
    let utc = jiff::tz::TimeZone::UTC;
    let from = match q.from.as_deref().filter(|f| !f.trim().is_empty()) {
        Some(f) => app::instant_in("from", f, &utc, &mut checks),
        None => Some(now),
    };
    let to = match (q.to.as_deref().filter(|t| !t.trim().is_empty()), from) {
        (Some(t), _) => app::instant_in("to", t, &utc, &mut checks),
        (None, Some(f)) => Some(app::default_window(f).1),
        (None, None) => None,
    };
    checks.finish()?;
    match (from, to) {
        (Some(f), Some(t)) if t > f => Ok((f, t)),
        _ => Err(ApiError::field(
            Code::InvalidInput,
            "to",
            "must be after from",
        )),
    }
}

/// Schedules with who is on call now and the next 14 days of shifts (staff).
#[utoipa::path(get, path = "/api/v1/schedules", responses((status = 200, body = Items<ScheduleOut>)))]
async fn list_schedules(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<ScheduleOut>>, ApiError> {
    let items = app::schedules(&state.ctx(&caller.actor)).await?;
    Ok(Json(Items { items }))
}

/// Creates a schedule (administrators and managers).
#[utoipa::path(post, path = "/api/v1/schedules", request_body = ScheduleIn, responses((status = 201, body = ScheduleOut), (status = 422, body = Problem)))]
async fn create_schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<ScheduleIn>,
) -> Result<(StatusCode, Json<ScheduleOut>), ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let s = app::create_schedule(&ctx, &input).await?;
    let (from, to) = app::default_window(now);
    Ok((
        StatusCode::CREATED,
        Json(app::schedule_out(&state.store, &s, now, from, to).await),
    ))
}

/// One schedule with its shifts in a window (staff).
#[utoipa::path(get, path = "/api/v1/schedules/{id}", params(("id" = i64, Path), WindowQuery), responses((status = 200, body = ScheduleOut), (status = 404, body = Problem)))]
async fn get_schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    Query(q): Query<WindowQuery>,
) -> Result<Json<ScheduleOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let (from, to) = window(&q, ctx.now)?;
    Ok(Json(app::schedule(&ctx, id, from, to).await?))
}

/// Deletes a schedule no escalation policy pages.
#[utoipa::path(delete, path = "/api/v1/schedules/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 409, body = Problem)))]
async fn delete_schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    app::delete_schedule(&state.ctx(&caller.actor), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The id of a new override.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedOut {
    /// Id.
    pub id: i64,
}

/// Puts someone on call over the schedule for a stretch (responders may swap shifts).
#[utoipa::path(post, path = "/api/v1/schedules/{id}/overrides", params(("id" = i64, Path)), request_body = OverrideIn, responses((status = 201, body = CreatedOut), (status = 422, body = Problem)))]
async fn add_override(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<OverrideIn>,
) -> Result<(StatusCode, Json<CreatedOut>), ApiError> {
    let created = app::add_override(&state.ctx(&caller.actor), id, &input).await?;
    Ok((StatusCode::CREATED, Json(CreatedOut { id: created })))
}

/// Removes an override.
#[utoipa::path(delete, path = "/api/v1/schedules/{id}/overrides/{override_id}", params(("id" = i64, Path), ("override_id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_override(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, override_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    app::delete_override(&state.ctx(&caller.actor), id, override_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Who a schedule has on call now.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnCallOut {
    /// Schedule name.
    pub schedule: String,
    /// Who (none outside every layer's hours).
    pub user: Option<PersonOut>,
}

/// Who is on call now, per schedule (staff).
#[utoipa::path(get, path = "/api/v1/oncall", responses((status = 200, body = Items<OnCallOut>)))]
async fn on_call_now(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<OnCallOut>>, ApiError> {
    let items = app::who_is_on_call(&state.ctx(&caller.actor))
        .await?
        .into_iter()
        .map(|(schedule, user)| OnCallOut {
            schedule,
            user: user.as_ref().map(PersonOut::from),
        })
        .collect();
    Ok(Json(Items { items }))
}

/// Escalation policies (staff).
#[utoipa::path(get, path = "/api/v1/escalation-policies", responses((status = 200, body = Items<EscalationPolicyOut>)))]
async fn list_policies(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<EscalationPolicyOut>>, ApiError> {
    let items = app::policies(&state.ctx(&caller.actor)).await?;
    Ok(Json(Items { items }))
}

/// Creates an escalation policy (administrators and managers).
#[utoipa::path(post, path = "/api/v1/escalation-policies", request_body = EscalationPolicyIn, responses((status = 201, body = EscalationPolicyOut), (status = 422, body = Problem)))]
async fn create_policy(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<EscalationPolicyIn>,
) -> Result<(StatusCode, Json<EscalationPolicyOut>), ApiError> {
    let p = app::create_policy(&state.ctx(&caller.actor), &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(app::policy_out(&state.store, &p).await?),
    ))
}

/// Deletes a policy no service uses.
#[utoipa::path(delete, path = "/api/v1/escalation-policies/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 409, body = Problem)))]
async fn delete_policy(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    app::delete_policy(&state.ctx(&caller.actor), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Chooses the escalation policy that pages for a service's incidents.
#[utoipa::path(put, path = "/api/v1/services/{id}/escalation-policy", params(("id" = i64, Path)), request_body = ServicePolicyIn, responses((status = 204), (status = 422, body = Problem)))]
async fn set_service_policy(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<ServicePolicyIn>,
) -> Result<StatusCode, ApiError> {
    app::set_service_policy(
        &state.ctx(&caller.actor),
        id,
        input.escalation_policy.as_deref(),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's contact methods.
#[utoipa::path(get, path = "/api/v1/me/contact-methods", responses((status = 200, body = Items<ContactMethodOut>)))]
async fn list_contacts(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<ContactMethodOut>>, ApiError> {
    let items = app::contact_methods(&state.store, &caller.user).await?;
    Ok(Json(Items { items }))
}

/// Adds a way to page the caller: a signed JSON webhook or a Slack-compatible one.
#[utoipa::path(post, path = "/api/v1/me/contact-methods", request_body = ContactMethodIn, responses((status = 201, body = ContactMethodOut), (status = 422, body = Problem)))]
async fn add_contact(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<ContactMethodIn>,
) -> Result<(StatusCode, Json<ContactMethodOut>), ApiError> {
    let c = app::add_contact_method(&state.store, &caller.user, &input, Timestamp::now()).await?;
    Ok((StatusCode::CREATED, Json(app::contact_out(&c))))
}

/// Removes one of the caller's contact methods.
#[utoipa::path(delete, path = "/api/v1/me/contact-methods/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_contact(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    app::delete_contact_method(&state.store, &caller.user, id, Timestamp::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The pages sent about an incident (staff).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/pages", params(("id" = i64, Path)), responses((status = 200, body = Items<PageOut>), (status = 404, body = Problem)))]
async fn incident_pages(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<PageOut>>, ApiError> {
    let items = app::incident_pages(&state.ctx(&caller.actor), id)
        .await?
        .iter()
        .map(app::page_out)
        .collect();
    Ok(Json(Items { items }))
}
