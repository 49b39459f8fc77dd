//! Incident routes: incidents (declare, change, notes, timeline, alerts, linked tickets),
//! alerts, integrations, services and maintenance windows.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::Deserialize;

use crate::app::incidents::{self as app, Directory};
use crate::app::Operator;
use crate::auth::ApiCaller;
use crate::error::{ApiError, Code, Problem};
use crate::input::{ApiJson, IdPath};
use crate::wire::desk::Items;
use crate::wire::desk::{EventOut, Page};
use crate::wire::incidents::*;
use crate::AppState;

/// The incident routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/incidents", get(list_incidents).post(declare))
        .route(
            "/api/v1/incidents/{id}",
            get(get_incident).patch(patch_incident),
        )
        .route("/api/v1/incidents/{id}/events", get(incident_events))
        .route("/api/v1/incidents/{id}/notes", post(add_note))
        .route("/api/v1/incidents/{id}/alerts", get(incident_alerts))
        .route("/api/v1/incidents/{id}/tickets", post(link_ticket))
        .route("/api/v1/incidents/{id}/reply", post(reply_to_tickets))
        .route(
            "/api/v1/incidents/{id}/tickets/{ticket}",
            delete(unlink_ticket),
        )
        .route("/api/v1/alerts", get(list_alerts))
        .route(
            "/api/v1/integrations",
            get(list_integrations).post(create_integration),
        )
        .route(
            "/api/v1/integrations/{id}",
            get(get_integration)
                .put(put_integration)
                .delete(delete_integration),
        )
        .route("/api/v1/integrations/{id}/rotate", post(rotate_integration))
        .route("/api/v1/services", get(list_services).post(create_service))
        .route("/api/v1/services/{id}", axum::routing::put(put_service))
        .route(
            "/api/v1/maintenance-windows",
            get(list_maintenance).post(create_maintenance),
        )
        .route(
            "/api/v1/maintenance-windows/{id}",
            delete(delete_maintenance),
        )
}

/// The OpenAPI description of the incident routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_incidents,
    declare,
    get_incident,
    patch_incident,
    incident_events,
    add_note,
    incident_alerts,
    link_ticket,
    reply_to_tickets,
    unlink_ticket,
    list_alerts,
    list_integrations,
    create_integration,
    get_integration,
    put_integration,
    delete_integration,
    rotate_integration,
    list_services,
    create_service,
    put_service,
    list_maintenance,
    create_maintenance,
    delete_maintenance
))]
pub struct IncidentDoc;

/// Incidents, newest first (staff).
#[utoipa::path(get, path = "/api/v1/incidents", params(IncidentQuery), responses((status = 200, body = Page<IncidentOut>), (status = 422, body = Problem)))]
async fn list_incidents(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<IncidentQuery>,
) -> Result<Json<Page<IncidentOut>>, ApiError> {
    let dir = Directory::load(&state.store).await?;
    let (items, next_cursor) = app::incidents(&state.ctx(&caller.actor), &q, &dir).await?;
    Ok(Json(Page {
        items: items.iter().map(|i| dir.incident(i, None)).collect(),
        next_cursor,
    }))
}

/// Declares an incident by hand (optionally from a ticket, which it links).
#[utoipa::path(post, path = "/api/v1/incidents", request_body = DeclareIncidentIn, responses((status = 201, body = IncidentOut), (status = 422, body = Problem)))]
async fn declare(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<DeclareIncidentIn>,
) -> Result<(StatusCode, Json<IncidentOut>), ApiError> {
    let incident = app::declare(&state.ctx(&caller.actor), &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(incident_out(&state, &caller, incident.id).await?),
    ))
}

async fn incident_out(
    state: &AppState,
    caller: &ApiCaller,
    id: i64,
) -> Result<IncidentOut, ApiError> {
    let (incident, tickets) = app::incident(&state.ctx(&caller.actor), id).await?;
    let dir = Directory::load(&state.store).await?;
    Ok(dir.incident(&incident, Some(tickets)))
}

/// One incident with its linked tickets (staff).
#[utoipa::path(get, path = "/api/v1/incidents/{id}", params(("id" = i64, Path)), responses((status = 200, body = IncidentOut), (status = 404, body = Problem)))]
async fn get_incident(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<IncidentOut>, ApiError> {
    Ok(Json(incident_out(&state, &caller, id).await?))
}

/// Changes an incident: status, severity, title, summary, commander, comms, services.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", params(("id" = i64, Path)), request_body = PatchIncidentIn, responses((status = 200, body = IncidentOut), (status = 422, body = Problem)))]
async fn patch_incident(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<PatchIncidentIn>,
) -> Result<Json<IncidentOut>, ApiError> {
    app::patch(&state.ctx(&caller.actor), id, &input).await?;
    Ok(Json(incident_out(&state, &caller, id).await?))
}

/// The incident's timeline: alerts joining and resolving, status changes, notes, links.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/events", params(("id" = i64, Path)), responses((status = 200, body = Items<EventOut>), (status = 404, body = Problem)))]
async fn incident_events(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<EventOut>>, ApiError> {
    let events = app::incident_events(&state.ctx(&caller.actor), id).await?;
    Ok(Json(Items {
        items: events.iter().map(EventOut::from).collect(),
    }))
}

/// Adds a note to the timeline.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/notes", params(("id" = i64, Path)), request_body = IncidentNoteIn, responses((status = 201, body = EventOut), (status = 422, body = Problem)))]
async fn add_note(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<IncidentNoteIn>,
) -> Result<(StatusCode, Json<EventOut>), ApiError> {
    let seq = app::note(&state.ctx(&caller.actor), id, &input.body).await?;
    let event = app::incident_event(&state.ctx(&caller.actor), id, seq).await?;
    Ok((StatusCode::CREATED, Json(EventOut::from(&event))))
}

/// The alerts an incident holds, firing first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/alerts", params(("id" = i64, Path)), responses((status = 200, body = Items<AlertOut>), (status = 404, body = Problem)))]
async fn incident_alerts(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<AlertOut>>, ApiError> {
    let alerts = app::incident_alerts(&state.ctx(&caller.actor), id, 1000).await?;
    let dir = Directory::load(&state.store).await?;
    Ok(Json(Items {
        items: alerts.iter().map(|a| dir.alert(a)).collect(),
    }))
}

/// Links a customer ticket to the incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/tickets", params(("id" = i64, Path)), request_body = LinkTicketIn, responses((status = 200, body = IncidentOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn link_ticket(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<LinkTicketIn>,
) -> Result<Json<IncidentOut>, ApiError> {
    app::link_ticket(&state.ctx(&caller.actor), id, input.ticket).await?;
    Ok(Json(incident_out(&state, &caller, id).await?))
}

/// Unlinks a ticket.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/tickets/{ticket}", params(("id" = i64, Path), ("ticket" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn unlink_ticket(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, ticket)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    app::unlink_ticket(&state.ctx(&caller.actor), id, ticket).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Filters of the alert list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    /// Integration name.
    pub integration: Option<String>,
    /// Most alerts (1–500, default 100).
    pub limit: Option<i64>,
}

/// The latest alerts, newest first (staff).
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery), responses((status = 200, body = Items<AlertOut>)))]
async fn list_alerts(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Items<AlertOut>>, ApiError> {
    let dir = Directory::load(&state.store).await?;
    let alerts = app::recent_alerts(
        &state.ctx(&caller.actor),
        q.integration.as_deref(),
        q.limit,
        &dir,
    )
    .await?;
    Ok(Json(Items {
        items: alerts.iter().map(|a| dir.alert(a)).collect(),
    }))
}

/// Integrations (administrators).
#[utoipa::path(get, path = "/api/v1/integrations", responses((status = 200, body = Items<IntegrationOut>)))]
async fn list_integrations(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<IntegrationOut>>, ApiError> {
    let list = app::integrations(&state.store, Operator::User(&caller.actor)).await?;
    let dir = Directory::load(&state.store).await?;
    Ok(Json(Items {
        items: list.iter().map(|i| dir.integration_out(i)).collect(),
    }))
}

/// Creates an integration; the answer holds its secret token, shown this once.
#[utoipa::path(post, path = "/api/v1/integrations", request_body = IntegrationIn, responses((status = 201, body = IntegrationCreatedOut), (status = 422, body = Problem)))]
async fn create_integration(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<IntegrationIn>,
) -> Result<(StatusCode, Json<IntegrationCreatedOut>), ApiError> {
    let (integration, token) = app::create_integration(&state.ctx(&caller.actor), &input).await?;
    let dir = Directory::load(&state.store).await?;
    Ok((
        StatusCode::CREATED,
        Json(IntegrationCreatedOut {
            path: app::hook_path(integration.kind, &token),
            integration: dir.integration_out(&integration),
            token,
        }),
    ))
}

/// One integration (administrators).
#[utoipa::path(get, path = "/api/v1/integrations/{id}", params(("id" = i64, Path)), responses((status = 200, body = IntegrationOut), (status = 404, body = Problem)))]
async fn get_integration(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<IntegrationOut>, ApiError> {
    let integration = app::integration(&state.ctx(&caller.actor), id).await?;
    let dir = Directory::load(&state.store).await?;
    Ok(Json(dir.integration_out(&integration)))
}

/// Changes an integration's name, service, team and settings (its kind stays).
#[utoipa::path(put, path = "/api/v1/integrations/{id}", params(("id" = i64, Path)), request_body = IntegrationIn, responses((status = 200, body = IntegrationOut), (status = 422, body = Problem)))]
async fn put_integration(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<IntegrationIn>,
) -> Result<Json<IntegrationOut>, ApiError> {
    let integration = app::update_integration(&state.ctx(&caller.actor), id, &input).await?;
    let dir = Directory::load(&state.store).await?;
    Ok(Json(dir.integration_out(&integration)))
}

/// Deletes an integration that never received an alert.
#[utoipa::path(delete, path = "/api/v1/integrations/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 409, body = Problem)))]
async fn delete_integration(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    app::delete_integration(&state.ctx(&caller.actor), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives an integration a new token (the old one stops at once; allow 2 s on other servers).
#[utoipa::path(post, path = "/api/v1/integrations/{id}/rotate", params(("id" = i64, Path)), responses((status = 200, body = IntegrationCreatedOut), (status = 404, body = Problem)))]
async fn rotate_integration(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<IntegrationCreatedOut>, ApiError> {
    let (integration, token) = app::rotate_integration(&state.ctx(&caller.actor), id).await?;
    let dir = Directory::load(&state.store).await?;
    Ok(Json(IntegrationCreatedOut {
        path: app::hook_path(integration.kind, &token),
        integration: dir.integration_out(&integration),
        token,
    }))
}

/// Services with maintenance state and open incidents (staff).
#[utoipa::path(get, path = "/api/v1/services", responses((status = 200, body = Items<ServiceOut>)))]
async fn list_services(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<ServiceOut>>, ApiError> {
    Ok(Json(Items {
        items: app::services(&state.ctx(&caller.actor)).await?,
    }))
}

async fn service_out(
    state: &AppState,
    caller: &ApiCaller,
    id: i64,
) -> Result<ServiceOut, ApiError> {
    app::services(&state.ctx(&caller.actor))
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::new(Code::NotFound, "service not found"))
}

/// Creates a service (administrators and managers).
#[utoipa::path(post, path = "/api/v1/services", request_body = ServiceIn, responses((status = 201, body = ServiceOut), (status = 422, body = Problem)))]
async fn create_service(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<ServiceIn>,
) -> Result<(StatusCode, Json<ServiceOut>), ApiError> {
    let s = app::save_service(&state.ctx(&caller.actor), None, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(service_out(&state, &caller, s.id).await?),
    ))
}

/// Changes a service.
#[utoipa::path(put, path = "/api/v1/services/{id}", params(("id" = i64, Path)), request_body = ServiceIn, responses((status = 200, body = ServiceOut), (status = 422, body = Problem)))]
async fn put_service(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<ServiceIn>,
) -> Result<Json<ServiceOut>, ApiError> {
    app::save_service(&state.ctx(&caller.actor), Some(id), &input).await?;
    Ok(Json(service_out(&state, &caller, id).await?))
}

/// Maintenance windows with their next occurrences (staff).
#[utoipa::path(get, path = "/api/v1/maintenance-windows", responses((status = 200, body = Items<MaintenanceOut>)))]
async fn list_maintenance(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<MaintenanceOut>>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let windows = app::maintenance_windows(&ctx).await?;
    let now = ctx.now;
    let dir = Directory::load(&state.store).await?;
    Ok(Json(Items {
        items: windows.iter().map(|m| dir.maintenance(m, now)).collect(),
    }))
}

/// Creates a maintenance window (administrators and managers).
#[utoipa::path(post, path = "/api/v1/maintenance-windows", request_body = MaintenanceIn, responses((status = 201, body = MaintenanceOut), (status = 422, body = Problem)))]
async fn create_maintenance(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<MaintenanceIn>,
) -> Result<(StatusCode, Json<MaintenanceOut>), ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let m = app::create_maintenance(&ctx, &input).await?;
    let dir = Directory::load(&state.store).await?;
    Ok((StatusCode::CREATED, Json(dir.maintenance(&m, now))))
}

/// Deletes a maintenance window.
#[utoipa::path(delete, path = "/api/v1/maintenance-windows/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_maintenance(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    app::delete_maintenance(&state.ctx(&caller.actor), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a reply to every linked ticket did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct RepliedOut {
    /// Tickets that got the reply.
    pub replied: Vec<i64>,
    /// Tickets that refused it, and why.
    pub failed: Vec<app::ReplyFailure>,
}

/// Replies publicly on every customer ticket linked to the incident (each reply committed on its
/// ticket; the answer lists any that refused).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/reply", params(("id" = i64, Path)), request_body = IncidentNoteIn, responses((status = 200, body = RepliedOut), (status = 422, body = Problem)))]
async fn reply_to_tickets(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<IncidentNoteIn>,
) -> Result<Json<RepliedOut>, ApiError> {
    let (replied, failed) = app::reply_to_linked(
        &state.store,
        &caller.actor,
        id,
        &input.body,
        Timestamp::now(),
    )
    .await?;
    Ok(Json(RepliedOut { replied, failed }))
}
