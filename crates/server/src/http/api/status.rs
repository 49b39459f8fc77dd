//! Status page routes: the public page as JSON (no login), public updates on incidents,
//! which services are components, and webhook subscribers.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiff::Timestamp;

use crate::app::status as app;
use crate::auth::ApiCaller;
use crate::error::{ApiError, Code, Problem};
use crate::input::{ApiJson, IdPath};
use crate::wire::desk::Items;
use crate::wire::incidents::*;
use crate::AppState;

/// The status routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/status", get(status_page))
        .route("/api/v1/status/subscribers", post(subscribe))
        .route(
            "/api/v1/incidents/{id}/status-updates",
            get(list_updates).post(post_update),
        )
        .route("/api/v1/services/{id}/public", put(set_public))
}

/// The OpenAPI description of the status routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(status_page, subscribe, list_updates, post_update, set_public))]
pub struct StatusDoc;

/// The public status page: components, published incidents, maintenance (no login).
#[utoipa::path(get, path = "/api/v1/status", responses((status = 200, body = StatusPageOut)))]
async fn status_page(State(state): State<AppState>) -> Result<Json<StatusPageOut>, ApiError> {
    Ok(Json(app::page(&state.store, Timestamp::now()).await?))
}

/// Subscribes a webhook or an e-mail address to public updates (administrators and managers).
#[utoipa::path(post, path = "/api/v1/status/subscribers", request_body = SubscribeIn, responses((status = 204), (status = 422, body = Problem)))]
async fn subscribe(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<SubscribeIn>,
) -> Result<StatusCode, ApiError> {
    let ctx = state.ctx(&caller.actor);
    match (&input.webhook, &input.email) {
        (Some(url), None) => app::subscribe(&ctx, url).await?,
        (None, Some(email)) => app::subscribe_email(&ctx, email).await?,
        _ => {
            return Err(ApiError::field(
                Code::InvalidInput,
                "webhook",
                "give either a webhook URL or an e-mail address",
            ))
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// An incident's public updates, newest first (staff).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/status-updates", params(("id" = i64, Path)), responses((status = 200, body = Items<StatusUpdateOut>)))]
async fn list_updates(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<StatusUpdateOut>>, ApiError> {
    let items = app::updates(&state.ctx(&caller.actor), id)
        .await?
        .iter()
        .map(app::update_out)
        .collect();
    Ok(Json(Items { items }))
}

/// Posts a public update: publishes the incident on the status page (with a public title) and
/// moves it to the announced status.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/status-updates", params(("id" = i64, Path)), request_body = StatusUpdateIn, responses((status = 201, body = StatusUpdateOut), (status = 422, body = Problem)))]
async fn post_update(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<StatusUpdateIn>,
) -> Result<(StatusCode, Json<StatusUpdateOut>), ApiError> {
    let u = app::post_update(&state.ctx(&caller.actor), id, &input).await?;
    Ok((StatusCode::CREATED, Json(app::update_out(&u))))
}

/// Shows a service on the status page as a component, or hides it.
#[utoipa::path(put, path = "/api/v1/services/{id}/public", params(("id" = i64, Path)), request_body = ServicePublicIn, responses((status = 204), (status = 404, body = Problem)))]
async fn set_public(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<ServicePublicIn>,
) -> Result<StatusCode, ApiError> {
    app::set_public(&state.ctx(&caller.actor), id, input.public).await?;
    Ok(StatusCode::NO_CONTENT)
}
