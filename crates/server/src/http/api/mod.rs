//! The JSON API under `/api/v1`, authenticated by bearer tokens, described by OpenAPI.

pub mod incidents;
pub mod knowledge;
pub mod mail;
pub mod oncall;
pub mod reports;
pub mod reviews;
pub mod runbooks;
pub mod sla;
pub mod status;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::OpenApi;

use crate::app::{self, Operator, TicketQuery};
use crate::auth::ApiCaller;
use crate::error::{ApiError, Code, Problem};
use crate::input::{ApiJson, IdPath};
use crate::wire::desk::*;
use crate::AppState;

/// The routes of `/api/v1`, `/api/openapi.json` and `/healthz`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/me", get(me))
        .route("/api/v1/tickets", get(list_tickets).post(create_ticket))
        .route("/api/v1/tickets/{id}", get(get_ticket).patch(patch_ticket))
        .route(
            "/api/v1/tickets/{id}/messages",
            get(list_messages).post(create_message),
        )
        .route("/api/v1/tickets/{id}/events", get(list_events))
        .route("/api/v1/tickets/{id}/escalate", post(escalate))
        .route("/api/v1/tickets/{id}/deescalate", post(deescalate))
        .route(
            "/api/v1/tickets/{id}/links",
            get(list_links).post(create_link),
        )
        .route(
            "/api/v1/tickets/{id}/bug-reports",
            get(list_bug_reports).post(create_bug_report),
        )
        .route("/api/v1/users", get(list_users).post(create_user))
        .route("/api/v1/users/{id}", get(get_user).patch(patch_user))
        .route("/api/v1/teams", get(list_teams).post(create_team))
        .route("/api/v1/teams/{id}", get(get_team).patch(patch_team))
        .route("/api/v1/orgs", get(list_orgs).post(create_org))
        .route("/api/v1/orgs/{id}", get(get_org))
        .route("/api/v1/tokens", get(list_tokens).post(create_token))
        .route("/api/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .merge(sla::routes())
        .merge(incidents::routes())
        .merge(oncall::routes())
        .merge(status::routes())
        .merge(reviews::routes())
        .merge(mail::routes())
        .merge(knowledge::routes())
        .merge(runbooks::routes())
        .merge(reports::routes())
        .fallback(not_found)
}

async fn not_found() -> ApiError {
    ApiError::new(Code::NotFound, "no such route")
}

/// The OpenAPI 3 document, generated from the handlers and wire types.
#[derive(OpenApi)]
#[openapi(
    info(title = "opsdesk API", description = "The operations support desk: tickets, tiers, escalation."),
    paths(
        health, me, list_tickets, create_ticket, get_ticket, patch_ticket, list_messages, create_message,
        list_events, escalate, deescalate, list_links, create_link, list_bug_reports, create_bug_report,
        list_users, create_user, get_user, patch_user, list_teams, create_team, get_team, patch_team, list_orgs, create_org, get_org,
        create_token, list_tokens, revoke_token
    ),
    components(schemas(Problem)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![utoipa::openapi::security::SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    doc.merge(sla::SlaDoc::openapi());
    doc.merge(incidents::IncidentDoc::openapi());
    doc.merge(oncall::OnCallDoc::openapi());
    doc.merge(status::StatusDoc::openapi());
    doc.merge(reviews::ReviewDoc::openapi());
    doc.merge(mail::MailDoc::openapi());
    doc.merge(knowledge::KnowledgeDoc::openapi());
    doc.merge(runbooks::RunbookDoc::openapi());
    doc.merge(reports::ReportDoc::openapi());
    Json(doc)
}

/// Health of the server and its database.
#[utoipa::path(get, path = "/healthz", security(()), responses((status = 200, body = HealthOut), (status = 503, body = Problem)))]
async fn health(State(state): State<AppState>) -> Result<Json<HealthOut>, ApiError> {
    let database = app::database_health(&state.store).await?;
    Ok(Json(HealthOut {
        status: "ok".into(),
        database: database.into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// The user behind the token.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = UserOut), (status = 401, body = Problem)))]
async fn me(caller: ApiCaller) -> Json<UserOut> {
    Json((&caller.user).into())
}

/// Tickets the caller may see: staff see every queue, customers their organisation's tickets.
#[utoipa::path(get, path = "/api/v1/tickets", params(TicketQuery), responses((status = 200, body = Page<TicketOut>), (status = 422, body = Problem)))]
async fn list_tickets(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<Query<TicketQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<TicketOut>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(Code::InvalidInput, e.body_text()))?;
    let page = app::list_tickets(&state.store, &caller.actor, &query).await?;
    Ok(Json(Page {
        items: page
            .items
            .iter()
            .map(|t| TicketOut::for_audience(t, caller.actor.sees_internal()))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Raise a ticket. With an `Idempotency-Key` header, a retry returns the first result.
#[utoipa::path(post, path = "/api/v1/tickets", request_body = CreateTicketIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key returns the first result")),
    responses((status = 201, body = TicketOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn create_ticket(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    ApiJson(input): ApiJson<CreateTicketIn>,
) -> Result<Response, ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(value) => {
            let key = value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| {
                    ApiError::field(
                        Code::InvalidInput,
                        "Idempotency-Key",
                        "must be 1 to 200 visible ASCII characters",
                    )
                })?;
            Some(key.to_owned())
        }
        None => None,
    };
    let (ticket, created) = app::create_ticket(
        &state.store,
        &caller.user,
        &input,
        "api",
        key.as_deref(),
        Timestamp::now(),
    )
    .await?;
    let mut response = (
        StatusCode::CREATED,
        Json(TicketOut::for_audience(
            &ticket,
            caller.actor.sees_internal(),
        )),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/tickets/{}", ticket.id)) {
        response.headers_mut().insert("location", location);
    }
    if !created {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// One ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", params(("id" = i64, Path)), responses((status = 200, body = TicketOut), (status = 404, body = Problem)))]
async fn get_ticket(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<TicketOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let ticket = app::readable_ticket(&ctx, id).await?;
    let out = TicketOut::for_audience(&ticket, ctx.sees_internal());
    Ok(Json(sla::with_clocks(&ctx, out).await?))
}

/// Change status, priority, impact, urgency, assignee, team, category, service or tags.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", params(("id" = i64, Path)), request_body = PatchTicketIn,
    responses((status = 200, body = TicketOut), (status = 422, body = Problem), (status = 403, body = Problem)))]
async fn patch_ticket(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<PatchTicketIn>,
) -> Result<Json<TicketOut>, ApiError> {
    let ticket = app::patch_ticket(&state.ctx(&caller.actor), id, &input).await?;
    Ok(Json(TicketOut::for_audience(
        &ticket,
        caller.actor.sees_internal(),
    )))
}

/// Messages of a ticket; internal notes only for staff.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/messages", params(("id" = i64, Path)), responses((status = 200, body = Page<MessageOut>)))]
async fn list_messages(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Page<MessageOut>>, ApiError> {
    let messages = app::ticket_messages(&state.ctx(&caller.actor), id).await?;
    Ok(Json(Page {
        items: messages.iter().map(MessageOut::from).collect(),
        next_cursor: None,
    }))
}

/// Reply publicly, or (staff) add an internal note.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/messages", params(("id" = i64, Path)), request_body = CreateMessageIn,
    responses((status = 201, body = MessageOut), (status = 422, body = Problem)))]
async fn create_message(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<CreateMessageIn>,
) -> Result<(StatusCode, Json<MessageOut>), ApiError> {
    let ctx = state.ctx(&caller.actor);
    let message_id = app::add_message(&ctx, id, &input).await?;
    let message = app::ticket_message(&ctx, id, message_id).await?;
    Ok((StatusCode::CREATED, Json((&message).into())))
}

/// The ticket's timeline from the event log; internal events only for staff.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/events", params(("id" = i64, Path)), responses((status = 200, body = Page<EventOut>)))]
async fn list_events(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Page<EventOut>>, ApiError> {
    let events = app::ticket_events(&state.ctx(&caller.actor), id).await?;
    Ok(Json(Page {
        items: events.iter().map(EventOut::from).collect(),
        next_cursor: None,
    }))
}

/// Escalate to the next tier's team; a reason and what was tried are required.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/escalate", params(("id" = i64, Path)), request_body = EscalateIn,
    responses((status = 200, body = TicketOut), (status = 422, body = Problem)))]
async fn escalate(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<EscalateIn>,
) -> Result<Json<TicketOut>, ApiError> {
    let ticket = app::escalate(&state.ctx(&caller.actor), id, &input).await?;
    Ok(Json(TicketOut::for_audience(
        &ticket,
        caller.actor.sees_internal(),
    )))
}

/// Hand the ticket back down a tier with a note.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/deescalate", params(("id" = i64, Path)), request_body = DeescalateIn,
    responses((status = 200, body = TicketOut), (status = 422, body = Problem)))]
async fn deescalate(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<DeescalateIn>,
) -> Result<Json<TicketOut>, ApiError> {
    let ticket = app::deescalate(&state.ctx(&caller.actor), id, &input).await?;
    Ok(Json(TicketOut::for_audience(
        &ticket,
        caller.actor.sees_internal(),
    )))
}

/// Links of a ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/links", params(("id" = i64, Path)), responses((status = 200, body = Page<LinkOut>)))]
async fn list_links(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Page<LinkOut>>, ApiError> {
    let links = app::ticket_links(&state.ctx(&caller.actor), id).await?;
    Ok(Json(Page {
        items: links.iter().map(LinkOut::from).collect(),
        next_cursor: None,
    }))
}

/// Link to another ticket or an external bug URL.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/links", params(("id" = i64, Path)), request_body = CreateLinkIn,
    responses((status = 201, body = LinkOut), (status = 422, body = Problem)))]
async fn create_link(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<CreateLinkIn>,
) -> Result<(StatusCode, Json<LinkOut>), ApiError> {
    let link = app::add_link(&state.ctx(&caller.actor), id, &input).await?;
    Ok((StatusCode::CREATED, Json((&link).into())))
}

/// Bug reports filed from a ticket.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/bug-reports", params(("id" = i64, Path)), responses((status = 200, body = Page<BugReportOut>)))]
async fn list_bug_reports(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Page<BugReportOut>>, ApiError> {
    let reports = app::ticket_bug_reports(&state.ctx(&caller.actor), id).await?;
    Ok(Json(Page {
        items: reports.iter().map(BugReportOut::from).collect(),
        next_cursor: None,
    }))
}

/// File a structured bug report for engineering (L3 agents and above).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/bug-reports", params(("id" = i64, Path)), request_body = BugReportIn,
    responses((status = 201, body = BugReportOut), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_bug_report(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<BugReportIn>,
) -> Result<(StatusCode, Json<BugReportOut>), ApiError> {
    let report = app::file_bug_report(&state.ctx(&caller.actor), id, &input).await?;
    Ok((StatusCode::CREATED, Json((&report).into())))
}

/// Paging and filters of the user list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
struct UserQuery {
    /// Only this role.
    role: Option<String>,
    /// Only members of this team (name).
    team: Option<String>,
    /// Cursor from the previous page.
    cursor: Option<String>,
    /// Page size, 1–200.
    limit: Option<i64>,
}

/// Users (staff only).
#[utoipa::path(get, path = "/api/v1/users", params(UserQuery), responses((status = 200, body = Page<UserOut>), (status = 403, body = Problem)))]
async fn list_users(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<Query<UserQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Page<UserOut>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(Code::InvalidInput, e.body_text()))?;
    let page = app::directory::users(
        &state.ctx(&caller.actor),
        query.role.as_deref(),
        query.team.as_deref(),
        query.cursor.as_deref(),
        query.limit,
    )
    .await?;
    Ok(Json(Page {
        next_cursor: page.next_cursor,
        items: page.users.iter().map(UserOut::from).collect(),
    }))
}

/// Create a user (admins only).
#[utoipa::path(post, path = "/api/v1/users", request_body = CreateUserIn, responses((status = 201, body = UserOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<CreateUserIn>,
) -> Result<(StatusCode, Json<UserOut>), ApiError> {
    let user = app::create_user(&state.ctx(&caller.actor), &input).await?;
    Ok((StatusCode::CREATED, Json((&user).into())))
}

/// One user (staff, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{id}", params(("id" = i64, Path)), responses((status = 200, body = UserOut), (status = 404, body = Problem)))]
async fn get_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<UserOut>, ApiError> {
    let user = app::directory::user(&state.ctx(&caller.actor), id).await?;
    Ok(Json((&user).into()))
}

/// Teams (staff only).
#[utoipa::path(get, path = "/api/v1/teams", responses((status = 200, body = Page<TeamOut>), (status = 403, body = Problem)))]
async fn list_teams(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Page<TeamOut>>, ApiError> {
    let teams = app::directory::teams(&state.ctx(&caller.actor)).await?;
    Ok(Json(Page {
        items: teams.iter().map(TeamOut::from).collect(),
        next_cursor: None,
    }))
}

/// Create a team (admins only).
#[utoipa::path(post, path = "/api/v1/teams", request_body = CreateTeamIn, responses((status = 201, body = TeamOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_team(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<CreateTeamIn>,
) -> Result<(StatusCode, Json<TeamOut>), ApiError> {
    let team = app::create_team(&state.ctx(&caller.actor), &input).await?;
    Ok((StatusCode::CREATED, Json((&team).into())))
}

/// One team (staff only).
#[utoipa::path(get, path = "/api/v1/teams/{id}", params(("id" = i64, Path)), responses((status = 200, body = TeamOut), (status = 404, body = Problem)))]
async fn get_team(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<TeamOut>, ApiError> {
    let team = app::directory::team(&state.ctx(&caller.actor), id).await?;
    Ok(Json((&team).into()))
}

/// Change where a team escalates to (admins only).
#[utoipa::path(patch, path = "/api/v1/teams/{id}", params(("id" = i64, Path)), request_body = PatchTeamIn,
    responses((status = 200, body = TeamOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn patch_team(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<PatchTeamIn>,
) -> Result<Json<TeamOut>, ApiError> {
    let team = app::patch_team(&state.ctx(&caller.actor), id, &input).await?;
    Ok(Json((&team).into()))
}

/// Organisations (staff only).
#[utoipa::path(get, path = "/api/v1/orgs", responses((status = 200, body = Page<OrgOut>), (status = 403, body = Problem)))]
async fn list_orgs(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Page<OrgOut>>, ApiError> {
    let orgs = app::directory::orgs(&state.ctx(&caller.actor)).await?;
    Ok(Json(Page {
        items: orgs.iter().map(OrgOut::from).collect(),
        next_cursor: None,
    }))
}

/// Create an organisation (admins only).
#[utoipa::path(post, path = "/api/v1/orgs", request_body = CreateOrgIn, responses((status = 201, body = OrgOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_org(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<CreateOrgIn>,
) -> Result<(StatusCode, Json<OrgOut>), ApiError> {
    let org = app::create_org(&state.ctx(&caller.actor), &input.name).await?;
    Ok((StatusCode::CREATED, Json((&org).into())))
}

/// One organisation (staff, or its own customers).
#[utoipa::path(get, path = "/api/v1/orgs/{id}", params(("id" = i64, Path)), responses((status = 200, body = OrgOut), (status = 404, body = Problem)))]
async fn get_org(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<OrgOut>, ApiError> {
    let org = app::directory::org(&state.ctx(&caller.actor), id).await?;
    Ok(Json((&org).into()))
}

/// Create an API token for a user (admins only); the secret is shown once.
#[utoipa::path(post, path = "/api/v1/tokens", request_body = CreateTokenIn, responses((status = 201, body = TokenOut), (status = 422, body = Problem)))]
async fn create_token(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<CreateTokenIn>,
) -> Result<(StatusCode, Json<TokenOut>), ApiError> {
    let (id, token) = app::create_token(
        &state.ctx(&caller.actor),
        &input.email,
        input.name.as_deref(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(TokenOut { id, token })))
}

/// API tokens of every user (admins only); secrets are never shown again.
#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = Page<TokenInfoOut>), (status = 403, body = Problem)))]
async fn list_tokens(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Page<TokenInfoOut>>, ApiError> {
    let tokens = app::list_tokens(&state.store, Operator::User(&caller.actor)).await?;
    Ok(Json(Page {
        items: tokens.iter().map(TokenInfoOut::from).collect(),
        next_cursor: None,
    }))
}

/// Revoke an API token (admins only); it stops working at once on this server and within
/// 2 seconds on others.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 403, body = Problem)))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    app::revoke_token(&state.ctx(&caller.actor), id).await?;
    state.token_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// Change a user's name, tier, teams, or deactivate them (admins only).
#[utoipa::path(patch, path = "/api/v1/users/{id}", params(("id" = i64, Path)), request_body = PatchUserIn,
    responses((status = 200, body = UserOut), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn patch_user(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<PatchUserIn>,
) -> Result<Json<UserOut>, ApiError> {
    let user = app::update_user(&state.ctx(&caller.actor), id, &input).await?;
    if input.active == Some(false) {
        state.token_cache.clear();
    }
    Ok(Json((&user).into()))
}
