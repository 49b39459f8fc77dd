//! Report routes: the ticket and incident reports as JSON or CSV, and `/metrics` in the
//! Prometheus text format.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::Timestamp;

use crate::app::reports::{self, ForecastReport, IncidentReport, Kind, ReportQuery, TicketReport};
use crate::auth::ApiCaller;
use crate::error::{ApiError, Code, Problem};
use crate::input::{ApiJson, IdPath};
use crate::AppState;

/// The report routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports/tickets", get(ticket_report))
        .route("/api/v1/reports/incidents", get(incident_report))
        .route("/api/v1/reports/forecast", get(forecast_report))
        .route(
            "/api/v1/tickets/{id}/satisfaction",
            axum::routing::post(rate_ticket),
        )
        .route("/metrics", get(metrics))
}

/// The OpenAPI description of the report routes, merged into the API's document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(ticket_report, incident_report, forecast_report, rate_ticket, metrics))]
pub struct ReportDoc;

type Q = Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>;

fn read_query(query: Q) -> Result<ReportQuery, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::new(Code::InvalidInput, e.body_text()))
}

/// Builds a report for the caller: JSON, or one table as CSV with `format=csv`.
async fn respond(
    state: &AppState,
    caller: &ApiCaller,
    kind: Kind,
    query: Q,
) -> Result<Response, ApiError> {
    let (filters, built) =
        reports::build(&state.ctx(&caller.actor), kind, read_query(query)?).await?;
    if filters.csv {
        let body = built.csv(&filters.table)?;
        return Ok(crate::http::download::csv(
            kind.name(),
            &filters.table,
            body,
        ));
    }
    Ok(Json(built).into_response())
}

/// Tickets: volume created and resolved, backlog and its ages, first-response and resolution
/// times (median, p90), SLA compliance, reopen, first-contact and escalation rates, per team,
/// agent and category, with the previous period. Agents get their own tickets' report.
/// `format=csv` returns one table (`table`).
#[utoipa::path(get, path = "/api/v1/reports/tickets", params(ReportQuery),
    responses((status = 200, body = TicketReport), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn ticket_report(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Q,
) -> Result<Response, ApiError> {
    respond(&state, &caller, Kind::Tickets, query).await
}

/// Incidents: counts by severity and service, MTTA, time to mitigate, MTTR and MTBF per
/// service, overdue action items, with the previous period (staff who may read incidents).
#[utoipa::path(get, path = "/api/v1/reports/incidents", params(ReportQuery),
    responses((status = 200, body = IncidentReport), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn incident_report(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Q,
) -> Result<Response, ApiError> {
    respond(&state, &caller, Kind::Incidents, query).await
}

/// Ticket arrivals: the last eight weeks, a back-test of the last four (the model fitted
/// without them), the next four weeks with an approximate 95 % band (additive Holt-Winters,
/// weekly season, fitted on up to 16 weeks), and the agents each hour of next week needs to
/// answer `service_level` % within `target_minutes` (Erlang C, `handle_minutes` per ticket).
/// `format=csv` returns `table=weeks` or `table=staffing`.
#[utoipa::path(get, path = "/api/v1/reports/forecast", params(ReportQuery),
    responses((status = 200, body = ForecastReport), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn forecast_report(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Q,
) -> Result<Response, ApiError> {
    respond(&state, &caller, Kind::Forecast, query).await
}

/// A satisfaction answer.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SatisfactionIn {
    /// 1 (very unhappy) to 5 (very happy).
    pub score: i64,
    /// What went well or not (optional, at most 2000 characters).
    #[serde(default)]
    pub comment: String,
}

/// A recorded satisfaction answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SatisfactionOut {
    /// The ticket.
    pub ticket_id: i64,
    /// 1–5.
    pub score: u8,
    /// The comment as kept.
    pub comment: String,
}

/// The customer rates a resolved or closed ticket of theirs (answering again replaces the
/// answer); the same as the survey link mailed on resolution.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/satisfaction", request_body = SatisfactionIn,
    responses((status = 200, body = SatisfactionOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn rate_ticket(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<SatisfactionIn>,
) -> Result<Json<SatisfactionOut>, ApiError> {
    let answer = crate::app::survey::rate_ticket(
        &state.store,
        crate::app::survey::Rater::Customer(&caller.actor),
        id,
        input.score,
        &input.comment,
        Timestamp::now(),
    )
    .await?;
    Ok(Json(SatisfactionOut {
        ticket_id: id,
        score: answer.score(),
        comment: answer.comment().to_owned(),
    }))
}

/// Prometheus metrics (text format 0.0.4): active tickets by team, priority and tier, SLA
/// breaches, open incidents by severity, alerts received. For a token of an administrator,
/// manager or auditor.
#[utoipa::path(get, path = "/metrics", responses((status = 200, body = String, content_type = "text/plain"), (status = 403, body = Problem)))]
async fn metrics(State(state): State<AppState>, caller: ApiCaller) -> Result<Response, ApiError> {
    reports::desk_readers_only(&caller.actor, "Metrics")?;
    let body = crate::metrics::render(&state.store, &state.requests).await?;
    Ok(([(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)], body).into_response())
}
