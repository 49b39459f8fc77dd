//! SLA administration (admins and managers): business calendars with holidays and iCalendar
//! import, policies with targets, pauses and escalation levels, team and organisation
//! calendars, and the progress of background recomputations.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::session::{Session, SignedForm};
use super::views::{self, AdminSlaPage, CalendarRow, FormErrors, PolicyRow};
use super::{form_errors, page_error, render_with};
use crate::app::sla::{self as sla_ops, level_line, parse_level_line};
use crate::error::ApiError;
use crate::wire::desk::{
    CalendarIn, ConditionsWire, HolidayWire, PolicyIn, TargetWire, TargetsWire, WeekHoursWire,
};
use crate::AppState;

pub(super) fn routes() -> axum::Router<AppState> {
    Router::new()
        .route("/admin/sla", get(page))
        .route("/admin/sla/calendars", post(save_calendar))
        .route("/admin/sla/calendars/import", post(import_ics))
        .route("/admin/sla/policies", post(save_policy))
        .route("/admin/sla/policies/delete", post(delete_policy))
        .route("/admin/sla/assign", post(assign))
        .route("/admin/sla/vendors", post(save_vendor))
        .route("/admin/sla/calendars/delete", post(delete_calendar))
        .route("/admin/sla/vendors/delete", post(delete_vendor))
}

async fn page(State(state): State<AppState>, session: Session) -> Response {
    sla_page(&state, &session, FormErrors::default(), StatusCode::OK).await
}

fn comma(list: &[String]) -> String {
    list.join(", ")
}

fn split(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

async fn sla_page(
    state: &AppState,
    session: &Session,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    let sla_ops::Settings {
        calendars,
        policies,
        names,
        teams,
        orgs,
        jobs,
        outbox,
        vendors,
    } = match sla_ops::settings(&state.ctx(&session.actor)).await {
        Ok(found) => found,
        Err(e) => return page_error(e, session.chrome()),
    };
    let calendar_name = |id: Option<i64>| {
        id.and_then(|id| calendars.iter().find(|c| c.id == id))
            .map(|c| c.name.clone())
            .unwrap_or_default()
    };
    let page = AdminSlaPage {
        chrome: session.chrome(),
        form,
        calendars: calendars
            .iter()
            .map(|c| {
                let (hours, holidays) = sla_ops::calendar_wire(c);
                CalendarRow {
                    id: c.id,
                    name: c.name.clone(),
                    zone: c.zone.clone(),
                    summary: c.calendar.summary(),
                    default: c.is_default,
                    days: hours
                        .days()
                        .map(|(field, text)| {
                            (
                                field.trim_start_matches("hours.").to_owned(),
                                text.to_owned(),
                            )
                        })
                        .to_vec(),
                    holidays: holidays
                        .iter()
                        .map(|h| format!("{} {}", h.date, h.name))
                        .collect::<Vec<_>>()
                        .join("\n"),
                }
            })
            .collect(),
        policies: policies
            .iter()
            .map(|p| {
                let (conditions, targets, levels) = sla_ops::policy_wire(p, &names);
                let target = |t: &Option<TargetWire>| match t {
                    Some(t) => (
                        t.minutes.to_string(),
                        t.business,
                        t.pauses.as_deref().map(comma).unwrap_or_default(),
                    ),
                    None => (String::new(), true, String::new()),
                };
                PolicyRow {
                    id: p.policy.id,
                    position: p.position,
                    name: p.policy.name.clone(),
                    priorities: comma(&conditions.priorities),
                    teams: comma(&conditions.teams),
                    organizations: comma(&conditions.organizations),
                    plans: comma(&conditions.plans),
                    tags: comma(&conditions.tags),
                    channels: comma(&conditions.channels),
                    categories: comma(&conditions.categories),
                    targets: vec![
                        ("fr", "First response", target(&targets.first_response)),
                        ("nr", "Next response", target(&targets.next_response)),
                        ("res", "Resolution", target(&targets.resolution)),
                        ("upd", "Periodic update", target(&targets.periodic_update)),
                    ],
                    levels: levels.iter().map(level_line).collect::<Vec<_>>().join("\n"),
                    summary: policy_summary(&conditions, &targets),
                }
            })
            .collect(),
        teams: teams
            .iter()
            .map(|t| (t.name.clone(), calendar_name(t.calendar_id)))
            .collect(),
        orgs: orgs
            .iter()
            .map(|o| {
                (
                    o.name.clone(),
                    calendar_name(o.calendar_id),
                    o.plan.clone().unwrap_or_default(),
                )
            })
            .collect(),
        calendar_names: calendars.iter().map(|c| c.name.clone()).collect(),
        blank_targets: vec![
            ("fr", "First response", (String::new(), true, String::new())),
            ("nr", "Next response", (String::new(), true, String::new())),
            (
                "res",
                "Resolution",
                (String::new(), true, "customer, vendor".to_owned()),
            ),
            (
                "upd",
                "Periodic update",
                (String::new(), true, "customer, vendor".to_owned()),
            ),
        ],
        jobs: jobs
            .iter()
            .map(|j| {
                let state = match j.finished_at {
                    Some(at) => format!("finished {}", views::exact(at)),
                    None => format!("running: {} of {}", j.done, j.total),
                };
                (j.reason.clone(), state)
            })
            .collect(),
        outbox: outbox
            .iter()
            .map(|o| {
                let state = match (o.delivered_at, &o.last_error) {
                    (Some(at), _) => format!("delivered {}", views::exact(at)),
                    (None, Some(e)) if o.attempts >= opsdesk_store::MAX_ATTEMPTS => {
                        format!("given up: {e}")
                    }
                    (None, Some(e)) => format!("retrying ({} attempts): {e}", o.attempts),
                    (None, None) => "queued".into(),
                };
                (o.kind.clone(), o.target.clone(), state)
            })
            .collect(),
        vendors: vendors
            .into_iter()
            .map(|v| views::VendorRow {
                id: v.id,
                name: v.name,
                contacts: v.contacts,
                calendar: v.calendar.unwrap_or_default(),
                response: v
                    .response_minutes
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                resolution: v
                    .resolution_minutes
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
                response_results: format!(
                    "{} met / {} breached",
                    v.response_met, v.response_breached
                ),
                resolution_results: format!(
                    "{} met / {} breached",
                    v.resolution_met, v.resolution_breached
                ),
                running: v.running,
            })
            .collect(),
    };
    render_with(status, &page)
}

#[derive(Debug, Deserialize)]
struct VendorForm {
    #[serde(default)]
    id: String,
    name: String,
    #[serde(default)]
    contacts: String,
    #[serde(default)]
    calendar: String,
    #[serde(default)]
    response_minutes: String,
    #[serde(default)]
    resolution_minutes: String,
}

async fn save_vendor(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<VendorForm>,
) -> Response {
    let result = async {
        let mut checks = crate::error::Checks::default();
        let mut minutes = |field: &'static str, raw: &str| match raw.trim() {
            "" => None,
            m => match m.parse::<i64>() {
                Ok(m) => Some(m),
                Err(_) => {
                    checks.fail(field, format!("'{m}' is not a number of minutes"));
                    None
                }
            },
        };
        let response_minutes = minutes("response_minutes", &form.response_minutes);
        let resolution_minutes = minutes("resolution_minutes", &form.resolution_minutes);
        checks.finish()?;
        let input = crate::wire::desk::VendorIn {
            name: form.name.clone(),
            contacts: form.contacts.clone(),
            calendar: Some(form.calendar.clone()).filter(|c| !c.trim().is_empty()),
            response_minutes,
            resolution_minutes,
        };
        let id = form.id.trim().parse::<i64>().ok();
        sla_ops::save_vendor(&state.ctx(&session.actor), id, &input)
            .await
            .map(|_| ())
    }
    .await;
    after(&state, &session, result).await
}

fn policy_summary(c: &ConditionsWire, t: &TargetsWire) -> String {
    let mut when = Vec::new();
    for (label, list) in [
        ("priority", &c.priorities),
        ("team", &c.teams),
        ("organisation", &c.organizations),
        ("plan", &c.plans),
        ("tag", &c.tags),
        ("channel", &c.channels),
        ("category", &c.categories),
    ] {
        if !list.is_empty() {
            when.push(format!("{label} {}", list.join("/")));
        }
    }
    let mut targets = Vec::new();
    for (label, target) in [
        ("first response", &t.first_response),
        ("next response", &t.next_response),
        ("resolution", &t.resolution),
        ("update every", &t.periodic_update),
    ] {
        if let Some(t) = target {
            let kind = if t.business { "business" } else { "calendar" };
            targets.push(format!(
                "{label} {} ({kind})",
                opsdesk_domain::sla::format_duration(jiff::SignedDuration::from_mins(t.minutes))
            ));
        }
    }
    let when = if when.is_empty() {
        "every ticket".to_owned()
    } else {
        when.join(", ")
    };
    format!("{when} → {}", targets.join(", "))
}

async fn after(state: &AppState, session: &Session, result: Result<(), ApiError>) -> Response {
    super::after(result, "/admin/sla", |errors, status| {
        sla_page(state, session, errors, status)
    })
    .await
}

#[derive(Debug, Deserialize)]
struct CalendarForm {
    #[serde(default)]
    id: String,
    name: String,
    zone: String,
    #[serde(default)]
    mon: String,
    #[serde(default)]
    tue: String,
    #[serde(default)]
    wed: String,
    #[serde(default)]
    thu: String,
    #[serde(default)]
    fri: String,
    #[serde(default)]
    sat: String,
    #[serde(default)]
    sun: String,
    #[serde(default)]
    holidays: String,
    #[serde(default)]
    default: Option<String>,
}

async fn save_calendar(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<CalendarForm>,
) -> Response {
    let holidays = form
        .holidays
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (date, name) = line
                .split_once(char::is_whitespace)
                .unwrap_or((line, "Holiday"));
            HolidayWire {
                date: date.to_owned(),
                name: name.trim().to_owned(),
            }
        })
        .collect();
    let input = CalendarIn {
        name: form.name,
        zone: form.zone,
        hours: WeekHoursWire::from_days([
            form.mon, form.tue, form.wed, form.thu, form.fri, form.sat, form.sun,
        ]),
        holidays,
        default: form.default.is_some(),
    };
    let ctx = state.ctx(&session.actor);
    let result = match form.id.trim().parse::<i64>() {
        Ok(id) => sla_ops::update_calendar(&ctx, id, &input).await.map(|_| ()),
        Err(_) => sla_ops::create_calendar(&ctx, &input).await.map(|_| ()),
    };
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct ImportForm {
    calendar: String,
    ics: String,
}

async fn import_ics(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<ImportForm>,
) -> Response {
    let result = async {
        let calendar = sla_ops::calendar_named(&state.store, "calendar", &form.calendar).await?;
        sla_ops::import_ics(&state.ctx(&session.actor), calendar.id, &form.ics).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/admin/sla").into_response(),
        Err(err) => {
            let (status, errors) = form_errors(err);
            sla_page(&state, &session, errors, status).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct PolicyForm {
    #[serde(default)]
    id: String,
    name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    priorities: String,
    #[serde(default)]
    teams: String,
    #[serde(default)]
    organizations: String,
    #[serde(default)]
    plans: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    channels: String,
    #[serde(default)]
    categories: String,
    #[serde(default)]
    fr_minutes: String,
    fr_business: Option<String>,
    #[serde(default)]
    fr_pauses: String,
    #[serde(default)]
    nr_minutes: String,
    nr_business: Option<String>,
    #[serde(default)]
    nr_pauses: String,
    #[serde(default)]
    res_minutes: String,
    res_business: Option<String>,
    #[serde(default)]
    res_pauses: String,
    #[serde(default)]
    upd_minutes: String,
    upd_business: Option<String>,
    #[serde(default)]
    upd_pauses: String,
    #[serde(default)]
    levels: String,
}

fn target_of(
    field: &'static str,
    minutes: &str,
    business: &Option<String>,
    pauses: &str,
    errors: &mut crate::error::Checks,
) -> Option<TargetWire> {
    let minutes = minutes.trim();
    if minutes.is_empty() {
        return None;
    }
    match minutes.parse::<i64>() {
        Ok(m) => Some(TargetWire {
            minutes: m,
            business: business.is_some(),
            pauses: Some(split(pauses)),
        }),
        Err(_) => {
            errors.fail(field, format!("'{minutes}' is not a number of minutes"));
            None
        }
    }
}

async fn save_policy(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<PolicyForm>,
) -> Response {
    let result = async {
        let mut checks = crate::error::Checks::default();
        let targets = TargetsWire {
            first_response: target_of(
                "targets.first_response",
                &form.fr_minutes,
                &form.fr_business,
                &form.fr_pauses,
                &mut checks,
            ),
            next_response: target_of(
                "targets.next_response",
                &form.nr_minutes,
                &form.nr_business,
                &form.nr_pauses,
                &mut checks,
            ),
            resolution: target_of(
                "targets.resolution",
                &form.res_minutes,
                &form.res_business,
                &form.res_pauses,
                &mut checks,
            ),
            periodic_update: target_of(
                "targets.periodic_update",
                &form.upd_minutes,
                &form.upd_business,
                &form.upd_pauses,
                &mut checks,
            ),
        };
        let levels = form
            .levels
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .filter_map(|l| checks.check(parse_level_line(l)))
            .collect();
        let position = match form.position.trim() {
            "" => None,
            p => match p.parse::<i64>() {
                Ok(p) => Some(p),
                Err(_) => {
                    checks.fail("position", format!("'{p}' is not a position"));
                    None
                }
            },
        };
        checks.finish()?;
        let input = PolicyIn {
            name: form.name.clone(),
            position,
            conditions: ConditionsWire {
                priorities: split(&form.priorities),
                teams: split(&form.teams),
                organizations: split(&form.organizations),
                plans: split(&form.plans),
                tags: split(&form.tags),
                channels: split(&form.channels),
                categories: split(&form.categories),
            },
            targets,
            levels,
        };
        let ctx = state.ctx(&session.actor);
        match form.id.trim().parse::<i64>() {
            Ok(id) => sla_ops::update_policy(&ctx, id, &input).await.map(|_| ()),
            Err(_) => sla_ops::create_policy(&ctx, &input).await.map(|_| ()),
        }
    }
    .await;
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct DeleteForm {
    id: i64,
}

async fn delete_calendar(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<DeleteForm>,
) -> Response {
    let result = sla_ops::delete_calendar(&state.ctx(&session.actor), form.id).await;
    after(&state, &session, result).await
}

async fn delete_vendor(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<DeleteForm>,
) -> Response {
    let result = sla_ops::delete_vendor(&state.ctx(&session.actor), form.id).await;
    after(&state, &session, result).await
}

async fn delete_policy(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<DeleteForm>,
) -> Response {
    let result = sla_ops::delete_policy(&state.ctx(&session.actor), form.id).await;
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct AssignForm {
    #[serde(default)]
    team: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    calendar: String,
    #[serde(default)]
    plan: String,
}

async fn assign(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<AssignForm>,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let calendar = Some(form.calendar.as_str()).filter(|c| !c.trim().is_empty());
        if !form.team.trim().is_empty() {
            let team = crate::app::directory::team_named(&ctx, "team", &form.team).await?;
            sla_ops::set_team_calendar(&ctx, team.id, calendar).await?;
        }
        if !form.org.trim().is_empty() {
            let org = crate::app::directory::org_named(&ctx, "org", &form.org).await?;
            let plan = Some(form.plan.as_str()).filter(|p| !p.trim().is_empty());
            sla_ops::set_org_sla(&ctx, org.id, Some(calendar), Some(plan)).await?;
        }
        Ok(())
    }
    .await;
    after(&state, &session, result).await
}
