//! Runbooks, runs and scheduled checks: writing runbooks (as steps or as text), running them
//! inside tickets and incidents, and scheduling checks whose occurrences open task tickets.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use opsdesk_domain::recurrence::{Recurrence, Rule};
use opsdesk_domain::runbook::{self, Outcome, Step};
use opsdesk_domain::{Action, Actor};
use opsdesk_store::{Check, CheckDraft, Occurrence, Run, RunTarget, Runbook, Store};

use super::Ctx;
use crate::error::{ApiError, Checks, Code};
use crate::wire::desk::{rfc3339, PersonOut};
use crate::wire::runbooks::{
    CheckIn, CheckOut, OccurrenceOut, RunOut, RunStepOut, RunbookIn, RunbookOut, StepIo,
    StepOutcomeIn,
};

/// The wire form of a runbook.
pub async fn runbook_out(store: &Store, r: &Runbook) -> Result<RunbookOut, ApiError> {
    let mut out = runbooks_out(store, std::slice::from_ref(r)).await?;
    out.pop()
        .ok_or_else(|| ApiError::new(Code::Internal, "a runbook vanished while shown"))
}

/// The wire forms of runbooks (the services they name read once for all).
pub async fn runbooks_out(
    store: &Store,
    runbooks: &[Runbook],
) -> Result<Vec<RunbookOut>, ApiError> {
    let services = store.services().await?;
    Ok(runbooks
        .iter()
        .map(|r| RunbookOut {
            id: r.id,
            title: r.title.clone(),
            description: r.description.clone(),
            steps: r
                .steps
                .iter()
                .map(|s| StepIo {
                    title: s.title.clone(),
                    instructions: s.instructions.clone(),
                    command: s.command.clone(),
                    expected: s.expected.clone(),
                })
                .collect(),
            steps_text: runbook::steps_text(&r.steps),
            service: r
                .service_id
                .and_then(|id| services.iter().find(|s| s.id == id))
                .map(|s| s.name.clone()),
            alert_match: r.alert_match.clone(),
            category: r.category.clone(),
            updated_at: rfc3339(r.updated_at),
        })
        .collect())
}

/// Creates (`id` = `None`) or changes a runbook (staff who write).
pub async fn save_runbook(
    ctx: &Ctx<'_>,
    id: Option<i64>,
    input: &RunbookIn,
) -> Result<Runbook, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::EditRunbooks)?;
    let mut checks = Checks::default();
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        checks.fail("title", "1 to 200 characters on one line");
    }
    if input.description.chars().count() > 5_000 {
        checks.fail("description", "at most 5,000 characters");
    }
    if input
        .description
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        checks.fail("description", "must not contain control characters");
    }
    let steps: Option<Vec<Step>> = match (&input.steps, &input.steps_text) {
        (Some(_), Some(_)) => {
            checks.fail("steps", "give steps or steps_text, not both");
            None
        }
        (Some(list), None) => {
            let steps: Vec<Step> = list
                .iter()
                .map(|s| Step {
                    title: s.title.trim().to_owned(),
                    instructions: s.instructions.trim().to_owned(),
                    command: s.command.trim().to_owned(),
                    expected: s.expected.trim().to_owned(),
                })
                .collect();
            checks
                .check(runbook::check_steps("steps", &steps))
                .map(|()| steps)
        }
        (None, Some(text)) => checks.check(runbook::parse_steps("steps_text", text)),
        (None, None) => {
            checks.fail("steps", "a runbook needs at least one step");
            None
        }
    };
    let mut service_id = None;
    if let Some(name) = input
        .service
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match store
            .services()
            .await?
            .into_iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
        {
            Some(service) => service_id = Some(service.id),
            None => checks.fail("service", format!("no service '{name}'")),
        }
    }
    if input.alert_match.chars().count() > 200 {
        checks.fail("alert_match", "at most 200 characters");
    }
    if input.category.chars().count() > 100 {
        checks.fail("category", "at most 100 characters");
    }
    checks.finish()?;
    let steps = steps.unwrap_or_default();
    Ok(store
        .save_runbook(
            id,
            title,
            input.description.trim(),
            &steps,
            service_id,
            input.alert_match.trim(),
            input.category.trim(),
            actor,
            now,
        )
        .await?)
}

/// Checks `actor` may work on `target`, and that it exists.
async fn authorize_target(store: &Store, actor: &Actor, target: RunTarget) -> Result<(), ApiError> {
    match target {
        RunTarget::Ticket(id) => {
            let ticket = store.ticket(id).await?;
            actor.authorize(Action::ReadTicket(ticket.scope()))?;
            actor.authorize(Action::Triage)?;
        }
        RunTarget::Incident(id) => {
            actor.authorize(Action::ReadIncidents)?;
            store.incident(id).await?;
            actor.authorize(Action::RespondToIncident)?;
        }
    }
    Ok(())
}

/// Starts a run of a runbook on a ticket or incident.
pub async fn start_run(ctx: &Ctx<'_>, target: RunTarget, runbook_id: i64) -> Result<Run, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    authorize_target(store, actor, target).await?;
    let runbook = store
        .runbook(runbook_id)
        .await
        .map_err(|_| ApiError::field(Code::InvalidInput, "runbook", "no such runbook"))?;
    Ok(store
        .start_run(&runbook, target, Some(actor.user_id), now)
        .await?)
}

/// Records step `position` (1-based) of a run.
pub async fn record_step(
    ctx: &Ctx<'_>,
    run_id: i64,
    position: usize,
    input: &StepOutcomeIn,
) -> Result<Run, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    let run = store.run(run_id).await?;
    authorize_target(store, actor, run.target).await?;
    let mut checks = Checks::default();
    let outcome = match input.outcome.as_deref() {
        None | Some("") => Some(Outcome::Done),
        Some(raw) => checks.check(Outcome::parse("outcome", raw)),
    };
    if input.note.chars().count() > 5_000 {
        checks.fail("note", "at most 5,000 characters");
    }
    if position == 0 || position > run.steps.len() {
        checks.fail("step", format!("must be from 1 to {}", run.steps.len()));
    }
    checks.finish()?;
    let outcome = outcome.unwrap_or(Outcome::Done);
    Ok(store
        .record_step(
            run_id,
            position - 1,
            outcome,
            input.note.trim(),
            Some(actor.user_id),
            now,
        )
        .await?)
}

/// The wire form of a run.
pub fn run_out(run: &Run) -> RunOut {
    let (ticket, incident) = match run.target {
        RunTarget::Ticket(id) => (Some(id), None),
        RunTarget::Incident(id) => (None, Some(id)),
    };
    RunOut {
        id: run.id,
        runbook: run.runbook_id,
        title: run.title.clone(),
        ticket,
        incident,
        started_by: run.started_by.as_ref().map(PersonOut::from),
        started_at: rfc3339(run.started_at),
        finished_at: run.finished_at.map(rfc3339),
        done: run.steps.iter().filter(|s| s.outcome.is_some()).count(),
        steps: run
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| RunStepOut {
                position: i + 1,
                title: s.step.title.clone(),
                instructions_html: crate::markdown::to_html(&s.step.instructions),
                instructions: s.step.instructions.clone(),
                command: s.step.command.clone(),
                expected: s.step.expected.clone(),
                outcome: s.outcome.map(|o| o.as_str().to_owned()),
                note: s.note.clone(),
                by: s.by.as_ref().map(PersonOut::from),
                at: s.at.map(rfc3339),
            })
            .collect(),
    }
}

/// Runbooks that fit a ticket (its category) or an incident (its services, its title).
pub async fn suggested_runbooks(
    store: &Store,
    target: RunTarget,
) -> Result<Vec<Runbook>, ApiError> {
    let all = store.runbooks().await?;
    Ok(match target {
        RunTarget::Ticket(id) => {
            let ticket = store.ticket(id).await?;
            let category = ticket.category.as_ref().map(|c| c.as_str().to_lowercase());
            all.into_iter()
                .filter(|r| {
                    !r.category.is_empty()
                        && category.as_deref() == Some(r.category.to_lowercase().as_str())
                })
                .collect()
        }
        RunTarget::Incident(id) => {
            let incident = store.incident(id).await?;
            let title = incident.title.to_lowercase();
            all.into_iter()
                .filter(|r| {
                    r.service_id
                        .is_some_and(|s| incident.service_ids.contains(&s))
                        || (!r.alert_match.is_empty()
                            && title.contains(&r.alert_match.to_lowercase()))
                })
                .collect()
        }
    })
}

/// The recurrence of a stored check.
pub fn recurrence_of(check: &Check) -> Result<Recurrence, ApiError> {
    let rule = Rule::parse("rrule", &check.rrule)?;
    let start = check
        .start_local
        .parse::<DateTime>()
        .map_err(|e| ApiError::new(Code::Internal, format!("stored check start: {e}")))?;
    let zone = TimeZone::get(&check.zone)
        .map_err(|e| ApiError::new(Code::Internal, format!("stored check zone: {e}")))?;
    Ok(Recurrence::new(rule, start, zone))
}

/// Creates (`id` = `None`) or changes a scheduled check (administrators and managers).
pub async fn save_check(
    ctx: &Ctx<'_>,
    id: Option<i64>,
    input: &CheckIn,
) -> Result<Check, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    let mut checks = Checks::default();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
        checks.fail("name", "1 to 120 characters on one line");
    }
    let rule = checks.check(Rule::parse("rrule", &input.rrule));
    let start = match input.start.trim().parse::<DateTime>() {
        Ok(start) => Some(start),
        Err(_) => {
            checks.fail(
                "start",
                format!(
                    "'{}' is not a local time like 2026-11-24T09:00",
                    input.start.trim()
                ),
            );
            None
        }
    };
    let zone = match TimeZone::get(input.zone.trim()) {
        Ok(zone) => Some(zone),
        Err(_) => {
            checks.fail(
                "zone",
                format!(
                    "'{}' is not an IANA time zone such as Europe/Berlin",
                    input.zone.trim()
                ),
            );
            None
        }
    };
    let window = input.window_minutes.unwrap_or(120);
    if !(5..=7 * 24 * 60).contains(&window) {
        checks.fail("window_minutes", "must be from 5 minutes to 7 days (10080)");
    }
    let runbooks = store.runbooks().await?;
    let raw = input.runbook.trim();
    let runbook = runbooks
        .iter()
        .find(|r| r.title.eq_ignore_ascii_case(raw) || raw.parse::<i64>() == Ok(r.id));
    if runbook.is_none() {
        checks.fail("runbook", format!("no runbook '{raw}'"));
    }
    let team = store.team_by_name(input.team.trim()).await?;
    if team.is_none() {
        checks.fail("team", format!("no team '{}'", input.team.trim()));
    }
    checks.finish()?;
    let (Some(rule), Some(start), Some(zone), Some(runbook), Some(team)) =
        (rule, start, zone, runbook, team)
    else {
        return Err(ApiError::new(Code::InvalidInput, "the check is not valid"));
    };
    // An edit keeps the owner: the requester of its tickets, and the scope of the
    // idempotency keys that make each occurrence's ticket exactly once.
    let owner_id = match (id, actor) {
        (Some(id), _) => store.check(id).await?.owner_id,
        (None, Some(user)) => user,
        (None, None) => first_admin(store).await?,
    };
    let recurrence = Recurrence::new(rule.clone(), start, zone.clone());
    let active = input.active.unwrap_or(true);
    let next_at = recurrence.next_after(now);
    if next_at.is_none() && active {
        return Err(ApiError::field(
            Code::InvalidInput,
            "rrule",
            "the rule has no occurrence after now",
        ));
    }
    let draft = CheckDraft {
        name: name.to_owned(),
        runbook_id: runbook.id,
        team_id: team.id,
        owner_id,
        rrule: rule.as_str().to_owned(),
        start_local: start.strftime("%Y-%m-%dT%H:%M").to_string(),
        zone: zone.iana_name().unwrap_or("UTC").to_owned(),
        window_minutes: window,
        active,
        next_at: if active { next_at } else { None },
    };
    let check = store.save_check(id, &draft, actor, now).await?;
    // The scheduler sleeps until the next due check; wake it to see this one.
    store.ring_work();
    Ok(check)
}

async fn first_admin(store: &Store) -> Result<i64, ApiError> {
    store
        .users(Some(opsdesk_domain::Role::Admin), None, 0, 1)
        .await?
        .first()
        .map(|u| u.id)
        .ok_or_else(|| {
            ApiError::new(
                Code::InvalidInput,
                "create an administrator first: checks raise tickets in someone's name",
            )
        })
}

/// The wire form of a check with its next occurrences and latest ones.
pub async fn check_out(store: &Store, check: &Check, now: Timestamp) -> Result<CheckOut, ApiError> {
    let upcoming = match (recurrence_of(check), check.active) {
        (Ok(r), true) => {
            let zone = TimeZone::get(&check.zone).unwrap_or(TimeZone::UTC);
            r.upcoming(now, 5)
                .into_iter()
                .map(|t| {
                    t.to_zoned(zone.clone())
                        .strftime("%a %Y-%m-%d %H:%M %Z")
                        .to_string()
                })
                .collect()
        }
        _ => Vec::new(),
    };
    let recent = store.occurrences(Some(check.id), 10).await?;
    Ok(CheckOut {
        id: check.id,
        name: check.name.clone(),
        runbook: check.runbook_id,
        runbook_title: check.runbook_title.clone(),
        team: check.team_name.clone(),
        rrule: check.rrule.clone(),
        start: check.start_local.clone(),
        zone: check.zone.clone(),
        window_minutes: check.window_minutes,
        active: check.active,
        next_at: check.next_at.map(rfc3339),
        upcoming,
        recent: recent.iter().map(occurrence_out).collect(),
    })
}

/// The wire form of an occurrence.
pub fn occurrence_out(o: &Occurrence) -> OccurrenceOut {
    OccurrenceOut {
        check: o.check_id,
        scheduled_at: rfc3339(o.scheduled_at),
        due_at: rfc3339(o.due_at),
        state: o.state.as_str().into(),
        ticket: o.ticket_id,
        run: o.run_id,
        finished_at: o.finished_at.map(rfc3339),
    }
}

/// Every runbook (staff).
pub async fn runbooks(ctx: &Ctx<'_>) -> Result<Vec<RunbookOut>, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    let runbooks = ctx.store.runbooks().await?;
    runbooks_out(ctx.store, &runbooks).await
}

/// Every runbook as stored, for pickers (staff).
pub async fn runbook_records(ctx: &Ctx<'_>) -> Result<Vec<Runbook>, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    Ok(ctx.store.runbooks().await?)
}

/// One runbook (staff).
pub async fn runbook(ctx: &Ctx<'_>, id: i64) -> Result<RunbookOut, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    let r = ctx.store.runbook(id).await?;
    runbook_out(ctx.store, &r).await
}

/// The runs on a ticket or an incident, newest first (staff; an incident's need the right
/// to read incidents).
pub async fn runs(ctx: &Ctx<'_>, target: RunTarget) -> Result<Vec<Run>, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    match target {
        RunTarget::Ticket(id) => {
            super::readable_ticket(ctx, id).await?;
        }
        RunTarget::Incident(id) => {
            ctx.authorize(Action::ReadIncidents)?;
            ctx.store.incident(id).await?;
        }
    }
    Ok(ctx.store.runs_of(target).await?)
}

/// One run (staff).
pub async fn run(ctx: &Ctx<'_>, id: i64) -> Result<Run, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    Ok(ctx.store.run(id).await?)
}

/// Every scheduled check with its next and latest occurrences (staff).
pub async fn checks(ctx: &Ctx<'_>) -> Result<Vec<CheckOut>, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    let mut out = Vec::new();
    for c in ctx.store.checks().await? {
        out.push(check_out(ctx.store, &c, ctx.now).await?);
    }
    Ok(out)
}

/// One scheduled check (staff).
pub async fn check(ctx: &Ctx<'_>, id: i64) -> Result<CheckOut, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    let check = ctx.store.check(id).await?;
    check_out(ctx.store, &check, ctx.now).await
}
