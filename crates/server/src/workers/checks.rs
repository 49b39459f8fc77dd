//! Scheduled checks: each due occurrence is claimed once (with any the scheduler slept
//! through recorded as missed), opens a task ticket for the check's team — created with an
//! idempotency key made of the check and the occurrence, so a retry after a crash finds the
//! same ticket — and starts the runbook on it. Occurrences past their window become late.

use jiff::Timestamp;
use opsdesk_domain::{Body, Impact, Subject, Tag, Urgency};
use opsdesk_store::{Check, NewTicket, Occurrence, Store, TeamRef};

use crate::app::runbooks::recurrence_of;
use crate::error::ApiError;

/// Occurrences that may be skipped over after downtime before the rest are ignored.
const MAX_SLEPT_THROUGH: usize = 200;

/// One round; answers how many occurrences were opened. A check or occurrence that fails is
/// logged and left for the next round; it never holds the others up.
pub async fn step(store: &Store, now: Timestamp) -> Result<usize, ApiError> {
    let late = store.mark_late_checks(now).await?;
    if late > 0 {
        tracing::info!(late, "scheduled checks late");
    }
    for check in store.due_checks(now).await? {
        if let Err(e) = claim(store, &check, now).await {
            tracing::error!(check = check.id, error = %e.detail, "cannot claim a check's occurrence");
        }
    }
    let mut opened = 0;
    for occurrence in store.occurrences_without_run().await? {
        match open(store, &occurrence, now).await {
            Ok(()) => opened += 1,
            Err(e) => tracing::error!(
                check = occurrence.check_id,
                error = %e.detail,
                "cannot open a check's occurrence"
            ),
        }
    }
    Ok(opened)
}

/// Claims the latest due occurrence of `check`; earlier ones the scheduler slept through are
/// recorded as missed (at most [`MAX_SLEPT_THROUGH`] of them; the rest are skipped over).
async fn claim(store: &Store, check: &Check, now: Timestamp) -> Result<(), ApiError> {
    let Some(scheduled) = check.next_at else {
        return Ok(());
    };
    let recurrence = recurrence_of(check)?;
    let mut due = vec![scheduled];
    let mut following = recurrence.next_after(scheduled);
    while let Some(next) = following.filter(|n| *n <= now) {
        if due.len() > MAX_SLEPT_THROUGH {
            // Long downtime: jump to the occurrence due now without walking every one.
            let current = recurrence
                .upcoming(now - jiff::SignedDuration::from_secs(1), 1)
                .into_iter()
                .next()
                .filter(|t| *t <= now);
            due.extend(current);
            following = recurrence.next_after(now);
            break;
        }
        due.push(next);
        following = recurrence.next_after(next);
    }
    let current = due.pop().unwrap_or(scheduled);
    store
        .claim_occurrence(check, scheduled, current, &due, following, now)
        .await?;
    Ok(())
}

/// Opens the task ticket of an occurrence and starts its runbook.
async fn open(store: &Store, occurrence: &Occurrence, now: Timestamp) -> Result<(), ApiError> {
    let check = store.check(occurrence.check_id).await?;
    let runbook = store.runbook(check.runbook_id).await?;
    let zone = jiff::tz::TimeZone::get(&check.zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let when = occurrence
        .scheduled_at
        .to_zoned(zone)
        .strftime("%a %d %b %H:%M %Z")
        .to_string();
    let mut body = format!(
        "Scheduled check \"{}\" for {when}, with the runbook \"{}\" ({} steps). Record each step in the runbook panel; the check is late after {} minutes.",
        check.name,
        runbook.title,
        runbook.steps.len(),
        check.window_minutes
    );
    if !runbook.description.is_empty() {
        body.push_str("\n\n");
        body.push_str(&runbook.description);
    }
    let new = NewTicket {
        subject: Subject::parse("subject", &format!("{} — {when}", check.name))?,
        body: Body::parse("body", &body)?,
        requester_id: check.owner_id,
        team: Some(TeamRef::Id(check.team_id)),
        impact: Impact::Low,
        urgency: Urgency::Medium,
        priority: None,
        category: None,
        service: None,
        tags: vec![Tag::parse("tags", "scheduled-check")?],
        channel: "schedule",
    };
    let key = format!(
        "check:{}:{}",
        check.id,
        occurrence.scheduled_at.as_microsecond()
    );
    let (ticket, _) = store
        .create_ticket(&new, check.owner_id, now, Some(&key))
        .await?;
    store
        .start_occurrence_run(occurrence, &runbook, ticket.id, now)
        .await?;
    Ok(())
}
