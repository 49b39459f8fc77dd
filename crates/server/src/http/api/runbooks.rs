//! Runbook routes: runbooks, runs on tickets and incidents with their steps, and scheduled
//! checks with their upcoming and recent occurrences.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use opsdesk_store::RunTarget;

use crate::app::runbooks as app;
use crate::auth::ApiCaller;
use crate::error::{ApiError, Problem};
use crate::input::{ApiJson, IdPath};
use crate::wire::desk::Items;
use crate::wire::runbooks::*;
use crate::AppState;

/// The runbook routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/runbooks", get(list_runbooks).post(create_runbook))
        .route(
            "/api/v1/runbooks/{id}",
            get(get_runbook).put(update_runbook),
        )
        .route(
            "/api/v1/tickets/{id}/runbook-runs",
            get(ticket_runs).post(start_ticket_run),
        )
        .route(
            "/api/v1/incidents/{id}/runbook-runs",
            get(incident_runs).post(start_incident_run),
        )
        .route("/api/v1/runbook-runs/{id}", get(get_run))
        .route(
            "/api/v1/runbook-runs/{id}/steps/{position}",
            post(record_step),
        )
        .route("/api/v1/checks", get(list_checks).post(create_check))
        .route("/api/v1/checks/{id}", get(get_check).put(update_check))
}

/// The OpenAPI description of the runbook routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_runbooks,
    create_runbook,
    get_runbook,
    update_runbook,
    ticket_runs,
    start_ticket_run,
    incident_runs,
    start_incident_run,
    get_run,
    record_step,
    list_checks,
    create_check,
    get_check,
    update_check
))]
pub struct RunbookDoc;

/// Every runbook (staff).
#[utoipa::path(get, path = "/api/v1/runbooks", responses((status = 200, body = Items<RunbookOut>)))]
async fn list_runbooks(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<RunbookOut>>, ApiError> {
    let items = app::runbooks(&state.ctx(&caller.actor)).await?;
    Ok(Json(Items { items }))
}

/// Writes a runbook (staff who write): steps as a list or as text.
#[utoipa::path(post, path = "/api/v1/runbooks", request_body = RunbookIn, responses((status = 201, body = RunbookOut), (status = 422, body = Problem)))]
async fn create_runbook(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<RunbookIn>,
) -> Result<(StatusCode, Json<RunbookOut>), ApiError> {
    let saved = app::save_runbook(&state.ctx(&caller.actor), None, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(app::runbook_out(&state.store, &saved).await?),
    ))
}

/// One runbook (staff).
#[utoipa::path(get, path = "/api/v1/runbooks/{id}", params(("id" = i64, Path)), responses((status = 200, body = RunbookOut), (status = 404, body = Problem)))]
async fn get_runbook(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<RunbookOut>, ApiError> {
    Ok(Json(app::runbook(&state.ctx(&caller.actor), id).await?))
}

/// Changes a runbook (runs already started keep their steps).
#[utoipa::path(put, path = "/api/v1/runbooks/{id}", params(("id" = i64, Path)), request_body = RunbookIn, responses((status = 200, body = RunbookOut), (status = 422, body = Problem)))]
async fn update_runbook(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<RunbookIn>,
) -> Result<Json<RunbookOut>, ApiError> {
    let saved = app::save_runbook(&state.ctx(&caller.actor), Some(id), &input).await?;
    Ok(Json(app::runbook_out(&state.store, &saved).await?))
}

async fn runs(
    state: &AppState,
    caller: &ApiCaller,
    target: RunTarget,
) -> Result<Json<Items<RunOut>>, ApiError> {
    let runs = app::runs(&state.ctx(&caller.actor), target).await?;
    Ok(Json(Items {
        items: runs.iter().map(app::run_out).collect(),
    }))
}

/// The runbook runs on a ticket (staff).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/runbook-runs", params(("id" = i64, Path)), responses((status = 200, body = Items<RunOut>), (status = 404, body = Problem)))]
async fn ticket_runs(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<RunOut>>, ApiError> {
    runs(&state, &caller, RunTarget::Ticket(id)).await
}

/// Starts a runbook on a ticket (staff who write).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/runbook-runs", params(("id" = i64, Path)), request_body = RunIn, responses((status = 201, body = RunOut), (status = 422, body = Problem)))]
async fn start_ticket_run(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<RunIn>,
) -> Result<(StatusCode, Json<RunOut>), ApiError> {
    let run = app::start_run(
        &state.ctx(&caller.actor),
        RunTarget::Ticket(id),
        input.runbook,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(app::run_out(&run))))
}

/// The runbook runs on an incident (staff).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/runbook-runs", params(("id" = i64, Path)), responses((status = 200, body = Items<RunOut>), (status = 404, body = Problem)))]
async fn incident_runs(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<RunOut>>, ApiError> {
    runs(&state, &caller, RunTarget::Incident(id)).await
}

/// Starts a runbook on an incident (responders).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/runbook-runs", params(("id" = i64, Path)), request_body = RunIn, responses((status = 201, body = RunOut), (status = 422, body = Problem)))]
async fn start_incident_run(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<RunIn>,
) -> Result<(StatusCode, Json<RunOut>), ApiError> {
    let run = app::start_run(
        &state.ctx(&caller.actor),
        RunTarget::Incident(id),
        input.runbook,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(app::run_out(&run))))
}

/// One run with its steps (staff).
#[utoipa::path(get, path = "/api/v1/runbook-runs/{id}", params(("id" = i64, Path)), responses((status = 200, body = RunOut), (status = 404, body = Problem)))]
async fn get_run(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<RunOut>, ApiError> {
    let run = app::run(&state.ctx(&caller.actor), id).await?;
    Ok(Json(app::run_out(&run)))
}

/// Records a step's outcome (`done`, `skipped`, `failed`) with a note; the last step finishes
/// the run (and its check occurrence).
#[utoipa::path(post, path = "/api/v1/runbook-runs/{id}/steps/{position}", params(("id" = i64, Path), ("position" = usize, Path)), request_body = StepOutcomeIn, responses((status = 200, body = RunOut), (status = 422, body = Problem)))]
async fn record_step(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, position)): Path<(i64, usize)>,
    ApiJson(input): ApiJson<StepOutcomeIn>,
) -> Result<Json<RunOut>, ApiError> {
    let run = app::record_step(&state.ctx(&caller.actor), id, position, &input).await?;
    Ok(Json(app::run_out(&run)))
}

/// Scheduled checks with their next and latest occurrences (staff).
#[utoipa::path(get, path = "/api/v1/checks", responses((status = 200, body = Items<CheckOut>)))]
async fn list_checks(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<CheckOut>>, ApiError> {
    let items = app::checks(&state.ctx(&caller.actor)).await?;
    Ok(Json(Items { items }))
}

/// Schedules a check (administrators and managers): an RFC 5545 rule from a local start in a
/// zone; each occurrence opens a task ticket for the team with the runbook running on it.
#[utoipa::path(post, path = "/api/v1/checks", request_body = CheckIn, responses((status = 201, body = CheckOut), (status = 422, body = Problem)))]
async fn create_check(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<CheckIn>,
) -> Result<(StatusCode, Json<CheckOut>), ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let check = app::save_check(&ctx, None, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(app::check_out(&state.store, &check, now).await?),
    ))
}

/// One check (staff).
#[utoipa::path(get, path = "/api/v1/checks/{id}", params(("id" = i64, Path)), responses((status = 200, body = CheckOut), (status = 404, body = Problem)))]
async fn get_check(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<CheckOut>, ApiError> {
    Ok(Json(app::check(&state.ctx(&caller.actor), id).await?))
}

/// Changes a check (administrators and managers); the next occurrence is computed again.
#[utoipa::path(put, path = "/api/v1/checks/{id}", params(("id" = i64, Path)), request_body = CheckIn, responses((status = 200, body = CheckOut), (status = 422, body = Problem)))]
async fn update_check(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<CheckIn>,
) -> Result<Json<CheckOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let check = app::save_check(&ctx, Some(id), &input).await?;
    Ok(Json(app::check_out(&state.store, &check, now).await?))
}
