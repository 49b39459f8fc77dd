//! Review routes: an incident's post-incident review, action items, problem records.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::reviews as app;
use crate::auth::ApiCaller;
use crate::error::{ApiError, Problem};
use crate::input::{ApiJson, IdPath};
use crate::wire::desk::Items;
use crate::wire::incidents::*;
use crate::AppState;

/// The review routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/incidents/{id}/review",
            get(get_review).put(put_review),
        )
        .route("/api/v1/action-items", get(list_items).post(create_item))
        .route("/api/v1/action-items/{id}/state", post(set_state))
        .route("/api/v1/problems", get(list_problems).post(create_problem))
        .route("/api/v1/problems/{id}", get(get_problem).put(put_problem))
}

/// The OpenAPI description of the review routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    get_review,
    put_review,
    list_items,
    create_item,
    set_state,
    list_problems,
    create_problem,
    get_problem,
    put_problem
))]
pub struct ReviewDoc;

/// An incident's review with its action items (staff).
#[utoipa::path(get, path = "/api/v1/incidents/{id}/review", params(("id" = i64, Path)), responses((status = 200, body = ReviewOut), (status = 404, body = Problem)))]
async fn get_review(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<ReviewOut>, ApiError> {
    Ok(Json(app::review(&state.ctx(&caller.actor), id).await?))
}

/// Writes an incident's review (the first save pulls the timeline in).
#[utoipa::path(put, path = "/api/v1/incidents/{id}/review", params(("id" = i64, Path)), request_body = ReviewIn, responses((status = 200, body = ReviewOut), (status = 422, body = Problem)))]
async fn put_review(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<ReviewIn>,
) -> Result<Json<ReviewOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let review = app::save_review(&ctx, id, &input).await?;
    Ok(Json(app::review_out(&state.store, &review, now).await?))
}

/// Which action items to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ItemQuery {
    /// Only this incident's.
    pub incident: Option<i64>,
    /// Only this problem's.
    pub problem: Option<i64>,
    /// Only this owner's (e-mail or `me`).
    pub owner: Option<String>,
    /// Only overdue ones.
    pub overdue: Option<bool>,
    /// Include verified ones.
    pub all: Option<bool>,
}

/// Action items, soonest due first (staff).
#[utoipa::path(get, path = "/api/v1/action-items", params(ItemQuery), responses((status = 200, body = Items<ActionItemOut>)))]
async fn list_items(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<ItemQuery>,
) -> Result<Json<Items<ActionItemOut>>, ApiError> {
    let filter = app::ItemFilter {
        incident: q.incident,
        problem: q.problem,
        owner: q.owner.as_deref(),
        overdue: q.overdue.unwrap_or(false),
        all: q.all.unwrap_or(false),
    };
    let items = app::action_items(&state.ctx(&caller.actor), filter).await?;
    Ok(Json(Items { items }))
}

/// Creates an action item on an incident or a problem.
#[utoipa::path(post, path = "/api/v1/action-items", request_body = ActionItemIn, responses((status = 201, body = ActionItemOut), (status = 422, body = Problem)))]
async fn create_item(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<ActionItemIn>,
) -> Result<(StatusCode, Json<ActionItemOut>), ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let item = app::create_action_item(&ctx, &input).await?;
    Ok((StatusCode::CREATED, Json(app::item_out(&item, now))))
}

/// Moves an action item: open → done → verified (by someone other than the owner).
#[utoipa::path(post, path = "/api/v1/action-items/{id}/state", params(("id" = i64, Path)), request_body = ActionStateIn, responses((status = 200, body = ActionItemOut), (status = 422, body = Problem)))]
async fn set_state(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<ActionStateIn>,
) -> Result<Json<ActionItemOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let item = app::set_action_state(&ctx, id, &input.state).await?;
    Ok(Json(app::item_out(&item, now)))
}

/// Problem records, newest first (staff).
#[utoipa::path(get, path = "/api/v1/problems", responses((status = 200, body = Items<ProblemOut>)))]
async fn list_problems(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<ProblemOut>>, ApiError> {
    let items = app::problems(&state.ctx(&caller.actor))
        .await?
        .iter()
        .map(app::problem_out)
        .collect();
    Ok(Json(Items { items }))
}

/// Creates a problem record, linking incidents.
#[utoipa::path(post, path = "/api/v1/problems", request_body = ProblemIn, responses((status = 201, body = ProblemOut), (status = 422, body = Problem)))]
async fn create_problem(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<ProblemIn>,
) -> Result<(StatusCode, Json<ProblemOut>), ApiError> {
    let p = app::save_problem(&state.ctx(&caller.actor), None, &input).await?;
    Ok((StatusCode::CREATED, Json(app::problem_out(&p))))
}

/// One problem record (staff).
#[utoipa::path(get, path = "/api/v1/problems/{id}", params(("id" = i64, Path)), responses((status = 200, body = ProblemOut), (status = 404, body = Problem)))]
async fn get_problem(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<ProblemOut>, ApiError> {
    let problem = app::problem(&state.ctx(&caller.actor), id).await?;
    Ok(Json(app::problem_out(&problem)))
}

/// Changes a problem record: root cause, known error with workaround, status, more incidents.
#[utoipa::path(put, path = "/api/v1/problems/{id}", params(("id" = i64, Path)), request_body = ProblemIn, responses((status = 200, body = ProblemOut), (status = 422, body = Problem)))]
async fn put_problem(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<ProblemIn>,
) -> Result<Json<ProblemOut>, ApiError> {
    app::problem(&state.ctx(&caller.actor), id).await?;
    let p = app::save_problem(&state.ctx(&caller.actor), Some(id), &input).await?;
    Ok(Json(app::problem_out(&p)))
}
