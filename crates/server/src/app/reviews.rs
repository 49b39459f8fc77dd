//! After an incident: reviews from the template, action items tracked until verified, and
//! problem records. Responders write them; every staff member reads them.

use jiff::Timestamp;
use opsdesk_domain::review::{overdue, ActionState, ProblemStatus};
use opsdesk_domain::Action;
use opsdesk_store::{ActionItem, Incident, NewActionItem, Problem, Review, Store};

use super::Ctx;
use crate::error::{ApiError, Checks, Code};
use crate::wire::desk::{rfc3339, PersonOut};
use crate::wire::incidents::{
    ActionItemIn, ActionItemOut, ProblemIn, ProblemOut, ReviewIn, ReviewOut,
};

/// Longest text of one review section.
const MAX_SECTION: usize = 50_000;

/// The wire form of an action item at `now`.
pub fn item_out(a: &ActionItem, now: Timestamp) -> ActionItemOut {
    ActionItemOut {
        id: a.id,
        incident: a.incident_id,
        problem: a.problem_id,
        title: a.title.clone(),
        owner: PersonOut::from(&a.owner),
        due_at: rfc3339(a.due_at),
        verification: a.verification.clone(),
        state: a.state.as_str().to_owned(),
        overdue: overdue(a.state, a.due_at, now),
        verified_by: a.verified_by.as_ref().map(PersonOut::from),
        verified_at: a.verified_at.map(rfc3339),
    }
}

/// The wire form of a review with the incident's action items.
pub async fn review_out(store: &Store, r: &Review, now: Timestamp) -> Result<ReviewOut, ApiError> {
    let items = store
        .action_items(Some(r.incident_id), None, None, true)
        .await?;
    let s = |i: usize| r.sections.get(i).cloned().unwrap_or_default();
    Ok(ReviewOut {
        incident: r.incident_id,
        summary: s(0),
        customer_impact: s(1),
        timeline: s(2),
        root_cause: s(3),
        contributing_factors: s(4),
        went_well: s(5),
        went_poorly: s(6),
        status: r.status.clone(),
        updated_at: rfc3339(r.updated_at),
        action_items: items.iter().map(|a| item_out(a, now)).collect(),
    })
}

/// The incident's timeline as review text, one line per entry.
async fn timeline_text(store: &Store, incident: i64) -> Result<String, ApiError> {
    let mut lines = Vec::new();
    for e in store.events_of("incident", incident, false).await? {
        let who = e.actor.map_or_else(|| "opsdesk".to_owned(), |a| a.name);
        let d = &e.data;
        let change = d["after"].as_str().map(|after| {
            let reason = d["reason"]
                .as_str()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            format!("{} → {after}{reason}", d["before"].as_str().unwrap_or(""))
        });
        let detail = change
            .or_else(|| {
                ["body", "title", "reason", "name"]
                    .iter()
                    .find_map(|k| d[*k].as_str().map(str::to_owned))
            })
            .unwrap_or_default();
        let what = e.kind.trim_start_matches("incident.").replace('_', " ");
        lines.push(format!(
            "{} · {who} · {what}{}",
            e.at.strftime("%Y-%m-%d %H:%M UTC"),
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        ));
    }
    Ok(lines.join("\n"))
}

/// Saves an incident's review from the template (responders).
pub async fn save_review(
    ctx: &Ctx<'_>,
    incident: i64,
    input: &ReviewIn,
) -> Result<Review, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    store.incident(incident).await?;
    let mut sections = vec![
        input.summary.trim().to_owned(),
        input.customer_impact.trim().to_owned(),
        input.timeline.trim().to_owned(),
        input.root_cause.trim().to_owned(),
        input.contributing_factors.trim().to_owned(),
        input.went_well.trim().to_owned(),
        input.went_poorly.trim().to_owned(),
    ];
    let mut checks = Checks::default();
    for (text, (field, _)) in sections.iter().zip(opsdesk_store::REVIEW_SECTIONS) {
        if text.len() > MAX_SECTION {
            checks.fail(field, format!("at most {MAX_SECTION} characters"));
        }
    }
    if input.published && sections[0].is_empty() {
        checks.fail("summary", "a published review has a summary");
    }
    if input.published && sections[3].is_empty() {
        checks.fail("root_cause", "a published review states the root cause");
    }
    checks.finish()?;
    if sections[2].is_empty() && store.review(incident).await?.is_none() {
        sections[2] = timeline_text(store, incident).await?;
    }
    Ok(store
        .save_review(incident, &sections, input.published, actor, now)
        .await?)
}

/// Reads a due date: `2026-12-15` (end of that day, UTC) or an RFC 3339 instant.
fn due(raw: &str, checks: &mut Checks) -> Option<Timestamp> {
    super::parse_instant("due", raw, super::DayEdge::End, checks)
}

/// Creates an action item (responders).
pub async fn create_action_item(
    ctx: &Ctx<'_>,
    input: &ActionItemIn,
) -> Result<ActionItem, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    let mut checks = Checks::default();
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 300 {
        checks.fail("title", "1 to 300 characters");
    }
    if input.verification.trim().is_empty() {
        checks.fail("verification", "say how someone else will check it is done");
    }
    let owner = super::staff_member(store, "owner", &input.owner, actor, &mut checks).await?;
    let due_at = due(&input.due, &mut checks);
    if input.incident.is_none() && input.problem.is_none() {
        checks.fail(
            "incident",
            "an action item comes from an incident or a problem",
        );
    }
    if let Some(i) = input.incident {
        if store.incident(i).await.is_err() {
            checks.fail("incident", format!("no incident #{i}"));
        }
    }
    if let Some(p) = input.problem {
        if store.problem(p).await.is_err() {
            checks.fail("problem", format!("no problem #{p}"));
        }
    }
    checks.finish()?;
    let (Some(owner_id), Some(due_at)) = (owner, due_at) else {
        return Err(ApiError::new(Code::InvalidInput, "invalid action item"));
    };
    let item = NewActionItem {
        incident_id: input.incident,
        problem_id: input.problem,
        title: title.to_owned(),
        owner_id,
        due_at,
        verification: input.verification.trim().to_owned(),
    };
    Ok(store.create_action_item(&item, actor, now).await?)
}

/// Moves an action item (responders; someone other than the owner verifies).
pub async fn set_action_state(ctx: &Ctx<'_>, id: i64, state: &str) -> Result<ActionItem, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    let to = ActionState::parse("state", state)?;
    Ok(store.set_action_state(id, to, actor, now).await?)
}

/// The wire form of a problem.
pub fn problem_out(p: &Problem) -> ProblemOut {
    ProblemOut {
        id: p.id,
        title: p.title.clone(),
        status: p.status.as_str().to_owned(),
        root_cause: p.root_cause.clone(),
        workaround: p.workaround.clone(),
        incidents: p.incident_ids.clone(),
        updated_at: rfc3339(p.updated_at),
    }
}

/// Creates (`id` = `None`) or changes a problem record (responders).
pub async fn save_problem(
    ctx: &Ctx<'_>,
    id: Option<i64>,
    input: &ProblemIn,
) -> Result<Problem, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    let mut checks = Checks::default();
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 300 {
        checks.fail("title", "1 to 300 characters");
    }
    let status = checks
        .check(ProblemStatus::parse(
            "status",
            input.status.as_deref().unwrap_or("open"),
        ))
        .unwrap_or(ProblemStatus::Open);
    if let Err(e) = status.check(&input.root_cause, &input.workaround) {
        checks.fail(e.field, e.reason);
    }
    for i in &input.incidents {
        if store.incident(*i).await.is_err() {
            checks.fail("incidents", format!("no incident #{i}"));
        }
    }
    checks.finish()?;
    Ok(store
        .save_problem(
            id,
            title,
            status,
            input.root_cause.trim(),
            input.workaround.trim(),
            &input.incidents,
            actor,
            now,
        )
        .await?)
}

/// An incident's review with its action items (staff).
pub async fn review(ctx: &Ctx<'_>, incident_id: i64) -> Result<ReviewOut, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let review = ctx
        .store
        .review(incident_id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "this incident has no review yet"))?;
    review_out(ctx.store, &review, ctx.now).await
}

/// Which action items to list: of an incident or a problem, of an owner (an address or `me`),
/// only overdue ones, verified ones too.
#[derive(Debug, Default, Clone, Copy)]
pub struct ItemFilter<'a> {
    /// Only this incident's.
    pub incident: Option<i64>,
    /// Only this problem's.
    pub problem: Option<i64>,
    /// Only this owner's (e-mail or `me`).
    pub owner: Option<&'a str>,
    /// Only overdue ones.
    pub overdue: bool,
    /// Include verified ones.
    pub all: bool,
}

/// Action items, soonest due first (staff).
pub async fn action_items(
    ctx: &Ctx<'_>,
    filter: ItemFilter<'_>,
) -> Result<Vec<ActionItemOut>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let owner = match filter.owner.map(str::trim).filter(|o| !o.is_empty()) {
        Some("me") => ctx.actor().map(|a| a.user_id),
        Some(email) => Some(
            ctx.store
                .user_by_email(&email.to_lowercase())
                .await?
                .map(|u| u.id)
                .ok_or_else(|| {
                    ApiError::field(Code::InvalidInput, "owner", format!("no user '{email}'"))
                })?,
        ),
        None => None,
    };
    Ok(ctx
        .store
        .action_items(filter.incident, filter.problem, owner, filter.all)
        .await?
        .iter()
        .map(|a| item_out(a, ctx.now))
        .filter(|a| !filter.overdue || a.overdue)
        .collect())
}

/// The incident an action item belongs to, if it belongs to one (staff).
pub async fn incident_of_item(ctx: &Ctx<'_>, id: i64) -> Result<Option<i64>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    Ok(ctx.store.action_item(id).await?.incident_id)
}

/// Problem records, newest first (staff).
pub async fn problems(ctx: &Ctx<'_>) -> Result<Vec<Problem>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    Ok(ctx.store.problems().await?)
}

/// One problem record (staff).
pub async fn problem(ctx: &Ctx<'_>, id: i64) -> Result<Problem, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    Ok(ctx.store.problem(id).await?)
}

/// An incident and its review as saved so far, if any (staff).
pub async fn review_record(
    ctx: &Ctx<'_>,
    incident_id: i64,
) -> Result<(Incident, Option<Review>), ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let incident = ctx.store.incident(incident_id).await?;
    Ok((incident, ctx.store.review(incident_id).await?))
}
