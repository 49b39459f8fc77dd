//! SLA routes: calendars, policies, a ticket's clocks, the at-risk list, recomputation jobs,
//! organisation SLA settings and in-app notifications.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::{SignedDuration, Timestamp};
use opsdesk_store::{AtRisk, CalendarRecord, ClockView, SlaJob, TicketSla};
use serde::Deserialize;

use crate::app::sla;
use crate::auth::ApiCaller;
use crate::error::{ApiError, Code, Problem};
use crate::input::{ApiJson, IdPath};
use crate::wire::desk::*;
use crate::AppState;

/// The SLA routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/calendars",
            get(list_calendars).post(create_calendar),
        )
        .route(
            "/api/v1/calendars/{id}",
            get(get_calendar).put(put_calendar).delete(delete_calendar),
        )
        .route(
            "/api/v1/calendars/{id}/holidays/import",
            post(import_holidays),
        )
        .route(
            "/api/v1/sla/policies",
            get(list_policies).post(create_policy),
        )
        .route(
            "/api/v1/sla/policies/{id}",
            get(get_policy).put(put_policy).delete(delete_policy),
        )
        .route("/api/v1/sla/at-risk", get(at_risk))
        .route("/api/v1/sla/jobs", get(list_jobs))
        .route("/api/v1/tickets/{id}/sla", get(ticket_sla))
        .route("/api/v1/orgs/{id}/sla", axum::routing::patch(patch_org_sla))
        .route("/api/v1/vendors", get(list_vendors).post(create_vendor))
        .route(
            "/api/v1/vendors/{id}",
            get(get_vendor).put(put_vendor).delete(delete_vendor),
        )
        .route("/api/v1/notifications", get(list_notifications))
        .route("/api/v1/notifications/read", post(read_notifications))
}

/// The OpenAPI description of the SLA routes, merged into the API's document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_calendars,
    get_calendar,
    create_calendar,
    put_calendar,
    import_holidays,
    list_policies,
    get_policy,
    create_policy,
    put_policy,
    delete_policy,
    ticket_sla,
    at_risk,
    list_jobs,
    patch_org_sla,
    list_notifications,
    read_notifications,
    list_vendors,
    get_vendor,
    create_vendor,
    put_vendor,
    delete_calendar,
    delete_vendor
))]
pub struct SlaDoc;

fn calendar_out(record: &CalendarRecord) -> CalendarOut {
    let (hours, holidays) = sla::calendar_wire(record);
    CalendarOut {
        id: record.id,
        name: record.name.clone(),
        zone: record.zone.clone(),
        hours,
        holidays,
        default: record.is_default,
        summary: record.calendar.summary(),
        updated_at: rfc3339(record.updated_at),
    }
}

/// The wire form of one clock.
pub fn clock_out(view: &ClockView, now: Timestamp) -> ClockOut {
    let c = &view.clock;
    ClockOut {
        metric: c.metric.as_str().to_owned(),
        cycle: c.cycle,
        state: c.state.as_str().to_owned(),
        target_minutes: c.target.minutes(),
        business: c.target.business(),
        started_at: rfc3339(c.started_at),
        stopped_at: c.stopped_at.map(rfc3339),
        due_at: c.due.map(rfc3339),
        warn_at: view.warn_at.map(rfc3339),
        elapsed_seconds: c.elapsed.as_secs(),
        paused_seconds: c.paused_for(now).as_secs(),
        margin_seconds: c.margin().as_secs(),
        explanation: view.explanation.clone(),
    }
}

/// The wire form of a ticket's SLA.
pub fn ticket_sla_out(sla: &TicketSla, now: Timestamp) -> TicketSlaOut {
    TicketSlaOut {
        policy: sla.policy.as_ref().map(|p| NamedRef {
            id: p.id,
            name: p.name.clone(),
        }),
        calendar: sla.calendar.as_ref().map(|(id, name)| NamedRef {
            id: *id,
            name: name.clone(),
        }),
        calendar_source: sla.calendar_source.to_owned(),
        clocks: sla.clocks.iter().map(|c| clock_out(c, now)).collect(),
    }
}

fn at_risk_out(a: &AtRisk) -> AtRiskOut {
    AtRiskOut {
        ticket_id: a.ticket_id,
        subject: a.subject.clone(),
        team: a.team_name.clone(),
        priority: a.priority.as_str().to_owned(),
        metric: a.metric.as_str().to_owned(),
        state: a.state.clone(),
        due_at: a.due_at.map(rfc3339),
        next_at: a.next_at.map(rfc3339),
        assignee: a.assignee.clone(),
    }
}

fn job_out(j: &SlaJob) -> SlaJobOut {
    SlaJobOut {
        id: j.id,
        reason: j.reason.clone(),
        total: j.total,
        done: j.done,
        created_at: rfc3339(j.created_at),
        finished_at: j.finished_at.map(rfc3339),
    }
}

/// Business calendars (staff).
#[utoipa::path(get, path = "/api/v1/calendars", responses((status = 200, body = Items<CalendarOut>)))]
async fn list_calendars(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<CalendarOut>>, ApiError> {
    let items = sla::calendars(&state.ctx(&caller.actor))
        .await?
        .iter()
        .map(calendar_out)
        .collect();
    Ok(Json(Items { items }))
}

/// One calendar (staff).
#[utoipa::path(get, path = "/api/v1/calendars/{id}", params(("id" = i64, Path)), responses((status = 200, body = CalendarOut), (status = 404, body = Problem)))]
async fn get_calendar(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<CalendarOut>, ApiError> {
    let calendar = sla::calendar(&state.ctx(&caller.actor), id).await?;
    Ok(Json(calendar_out(&calendar)))
}

/// Create a calendar (admins and managers). Editing one recomputes open tickets' clocks.
#[utoipa::path(post, path = "/api/v1/calendars", request_body = CalendarIn, responses((status = 201, body = CalendarOut), (status = 422, body = Problem)))]
async fn create_calendar(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<CalendarIn>,
) -> Result<(StatusCode, Json<CalendarOut>), ApiError> {
    let record = sla::create_calendar(&state.ctx(&caller.actor), &input).await?;
    Ok((StatusCode::CREATED, Json(calendar_out(&record))))
}

/// Replace a calendar (admins and managers).
#[utoipa::path(put, path = "/api/v1/calendars/{id}", params(("id" = i64, Path)), request_body = CalendarIn, responses((status = 200, body = CalendarOut), (status = 422, body = Problem)))]
async fn put_calendar(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<CalendarIn>,
) -> Result<Json<CalendarOut>, ApiError> {
    let record = sla::update_calendar(&state.ctx(&caller.actor), id, &input).await?;
    Ok(Json(calendar_out(&record)))
}

/// Add holidays from an iCalendar (.ics) text; dates already present are skipped.
#[utoipa::path(post, path = "/api/v1/calendars/{id}/holidays/import", params(("id" = i64, Path)), request_body = IcsImportIn, responses((status = 200, body = IcsImportOut), (status = 422, body = Problem)))]
async fn import_holidays(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<IcsImportIn>,
) -> Result<Json<IcsImportOut>, ApiError> {
    let added = sla::import_ics(&state.ctx(&caller.actor), id, &input.ics).await?;
    Ok(Json(IcsImportOut { added }))
}

/// SLA policies in order; the first whose conditions match a ticket applies (staff).
#[utoipa::path(get, path = "/api/v1/sla/policies", responses((status = 200, body = Items<PolicyOut>)))]
async fn list_policies(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<PolicyOut>>, ApiError> {
    Ok(Json(Items {
        items: sla::policies(&state.ctx(&caller.actor)).await?,
    }))
}

/// One policy (staff).
#[utoipa::path(get, path = "/api/v1/sla/policies/{id}", params(("id" = i64, Path)), responses((status = 200, body = PolicyOut), (status = 404, body = Problem)))]
async fn get_policy(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<PolicyOut>, ApiError> {
    Ok(Json(sla::policy(&state.ctx(&caller.actor), id).await?))
}

/// Create a policy (admins and managers); open tickets are recomputed in the background.
#[utoipa::path(post, path = "/api/v1/sla/policies", request_body = PolicyIn, responses((status = 201, body = PolicyOut), (status = 422, body = Problem)))]
async fn create_policy(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<PolicyIn>,
) -> Result<(StatusCode, Json<PolicyOut>), ApiError> {
    let record = sla::create_policy(&state.ctx(&caller.actor), &input).await?;
    let out = sla::policy(&state.ctx(&caller.actor), record.policy.id).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Replace a policy (admins and managers).
#[utoipa::path(put, path = "/api/v1/sla/policies/{id}", params(("id" = i64, Path)), request_body = PolicyIn, responses((status = 200, body = PolicyOut), (status = 422, body = Problem)))]
async fn put_policy(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<PolicyIn>,
) -> Result<Json<PolicyOut>, ApiError> {
    let record = sla::update_policy(&state.ctx(&caller.actor), id, &input).await?;
    Ok(Json(
        sla::policy(&state.ctx(&caller.actor), record.policy.id).await?,
    ))
}

/// Delete a policy (admins and managers).
#[utoipa::path(delete, path = "/api/v1/sla/policies/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_policy(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    sla::delete_policy(&state.ctx(&caller.actor), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The policy, calendar and every clock of a ticket, computed from its history (staff).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/sla", params(("id" = i64, Path)), responses((status = 200, body = TicketSlaOut), (status = 404, body = Problem)))]
async fn ticket_sla(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<TicketSlaOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let sla = sla::ticket_sla(&ctx, id).await?;
    Ok(Json(ticket_sla_out(&sla, now)))
}

/// Query of the at-risk list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AtRiskQuery {
    /// Minutes ahead to look (default 60, at most 10080).
    pub within: Option<i64>,
    /// Only this team (name).
    pub team: Option<String>,
}

/// Clocks whose next breach or escalation level fires within `within` minutes, and active
/// clocks already breached, soonest first (staff).
#[utoipa::path(get, path = "/api/v1/sla/at-risk", params(AtRiskQuery), responses((status = 200, body = Items<AtRiskOut>)))]
async fn at_risk(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<Query<AtRiskQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Items<AtRiskOut>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(Code::InvalidInput, e.body_text()))?;
    let within = query.within.unwrap_or(60);
    if !(0..=10_080).contains(&within) {
        return Err(ApiError::field(
            Code::InvalidInput,
            "within",
            "minutes ahead, 0 to 10080 (a week)",
        ));
    }
    let items = sla::at_risk(
        &state.ctx(&caller.actor),
        SignedDuration::from_mins(within),
        query.team.as_deref(),
    )
    .await?;
    Ok(Json(Items {
        items: items.iter().map(at_risk_out).collect(),
    }))
}

/// Background recomputations after policy or calendar edits, newest first, with progress.
#[utoipa::path(get, path = "/api/v1/sla/jobs", responses((status = 200, body = Items<SlaJobOut>)))]
async fn list_jobs(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<SlaJobOut>>, ApiError> {
    let jobs = sla::jobs(&state.ctx(&caller.actor), 20).await?;
    Ok(Json(Items {
        items: jobs.iter().map(job_out).collect(),
    }))
}

/// Set an organisation's business calendar and plan (admins and managers).
#[utoipa::path(patch, path = "/api/v1/orgs/{id}/sla", params(("id" = i64, Path)), request_body = PatchOrgIn, responses((status = 200, body = OrgOut), (status = 422, body = Problem)))]
async fn patch_org_sla(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<PatchOrgIn>,
) -> Result<Json<OrgOut>, ApiError> {
    sla::set_org_sla(
        &state.ctx(&caller.actor),
        id,
        input.calendar.as_ref().map(|c| c.as_deref()),
        input.plan.as_ref().map(|p| p.as_deref()),
    )
    .await?;
    let org = crate::app::directory::org(&state.ctx(&caller.actor), id).await?;
    Ok(Json((&org).into()))
}

/// Vendors with their targets and how their clocks went: met, breached, running (staff).
#[utoipa::path(get, path = "/api/v1/vendors", responses((status = 200, body = Items<VendorOut>)))]
async fn list_vendors(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<VendorOut>>, ApiError> {
    Ok(Json(Items {
        items: sla::vendors(&state.ctx(&caller.actor)).await?,
    }))
}

/// One vendor (staff).
#[utoipa::path(get, path = "/api/v1/vendors/{id}", params(("id" = i64, Path)), responses((status = 200, body = VendorOut), (status = 404, body = Problem)))]
async fn get_vendor(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<VendorOut>, ApiError> {
    Ok(Json(sla::vendor(&state.ctx(&caller.actor), id).await?))
}

/// Create a vendor (admins and managers).
#[utoipa::path(post, path = "/api/v1/vendors", request_body = VendorIn, responses((status = 201, body = VendorOut), (status = 422, body = Problem)))]
async fn create_vendor(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<VendorIn>,
) -> Result<(StatusCode, Json<VendorOut>), ApiError> {
    let record = sla::save_vendor(&state.ctx(&caller.actor), None, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(sla::vendor(&state.ctx(&caller.actor), record.terms.id).await?),
    ))
}

/// Replace a vendor (admins and managers).
#[utoipa::path(put, path = "/api/v1/vendors/{id}", params(("id" = i64, Path)), request_body = VendorIn, responses((status = 200, body = VendorOut), (status = 422, body = Problem)))]
async fn put_vendor(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<VendorIn>,
) -> Result<Json<VendorOut>, ApiError> {
    sla::save_vendor(&state.ctx(&caller.actor), Some(id), &input).await?;
    Ok(Json(sla::vendor(&state.ctx(&caller.actor), id).await?))
}

/// Delete a calendar nothing uses (admins and managers).
#[utoipa::path(delete, path = "/api/v1/calendars/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 422, body = Problem)))]
async fn delete_calendar(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    sla::delete_calendar(&state.ctx(&caller.actor), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete a vendor no ticket was handed to (admins and managers).
#[utoipa::path(delete, path = "/api/v1/vendors/{id}", params(("id" = i64, Path)), responses((status = 204), (status = 422, body = Problem)))]
async fn delete_vendor(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    sla::delete_vendor(&state.ctx(&caller.actor), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's notifications (SLA warnings, breaches, escalations), newest first.
#[utoipa::path(get, path = "/api/v1/notifications", responses((status = 200, body = Items<NotificationOut>)))]
async fn list_notifications(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<NotificationOut>>, ApiError> {
    let items = sla::notifications(&state.ctx(&caller.actor), 100)
        .await?
        .into_iter()
        .map(|n| NotificationOut {
            id: n.id,
            ticket_id: n.ticket_id,
            text: n.text,
            created_at: rfc3339(n.created_at),
            read: n.read,
        })
        .collect();
    Ok(Json(Items { items }))
}

/// Mark every notification of the caller read.
#[utoipa::path(post, path = "/api/v1/notifications/read", responses((status = 204)))]
async fn read_notifications(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<StatusCode, ApiError> {
    sla::read_notifications(&state.ctx(&caller.actor)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds the clocks to the representation of a ticket the caller has just read, for staff.
pub async fn with_clocks(
    ctx: &crate::app::Ctx<'_>,
    mut out: TicketOut,
) -> Result<TicketOut, ApiError> {
    if let Some(sla) = sla::clocks_if_internal(ctx, out.id).await? {
        out.sla = Some(ticket_sla_out(&sla, ctx.now));
    }
    Ok(out)
}
