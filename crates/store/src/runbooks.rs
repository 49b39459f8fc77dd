//! Runbooks, their runs inside tickets and incidents, and scheduled checks.
//!
//! *A run keeps the steps it started with*: editing a runbook changes later runs only. Every
//! step recorded is an event on the run's ticket or incident (its timeline shows who did what,
//! when, with which note). *Each occurrence of a check is claimed once* by its primary key
//! (check, scheduled instant) in the transaction that moves the check's next instant on; its
//! task ticket is created with an idempotency key made from the same pair, so a scheduler that
//! dies half-way finishes the occurrence next round without a second ticket.

use jiff::Timestamp;
use opsdesk_domain::runbook::{CheckState, Outcome, Step};
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::corrupt;
use crate::model::{ts, user_at};
use crate::{Store, StoreError, UserRef};

/// A runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// What it is for.
    pub description: String,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// The service it is attached to.
    pub service_id: Option<i64>,
    /// Alerts it is for (matched against an incident's title, case-insensitive).
    pub alert_match: String,
    /// Ticket category it is for.
    pub category: String,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// What a run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunTarget {
    /// A ticket.
    Ticket(i64),
    /// An incident.
    Incident(i64),
}

/// A step of a run with its outcome, once recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStep {
    /// The step as the run started with it.
    pub step: Step,
    /// Its outcome.
    pub outcome: Option<Outcome>,
    /// The note left with it.
    pub note: String,
    /// Who recorded it.
    pub by: Option<UserRef>,
    /// When.
    pub at: Option<Timestamp>,
}

/// A run of a runbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Id.
    pub id: i64,
    /// The runbook.
    pub runbook_id: i64,
    /// Its title when the run started.
    pub title: String,
    /// Where it runs.
    pub target: RunTarget,
    /// Who started it.
    pub started_by: Option<UserRef>,
    /// When.
    pub started_at: Timestamp,
    /// When the last step got its outcome.
    pub finished_at: Option<Timestamp>,
    /// The steps.
    pub steps: Vec<RunStep>,
}

/// A scheduled check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The runbook each occurrence runs.
    pub runbook_id: i64,
    /// The runbook's title.
    pub runbook_title: String,
    /// The team its task tickets go to.
    pub team_id: i64,
    /// That team's name.
    pub team_name: String,
    /// Who set it up (the requester of its tickets).
    pub owner_id: i64,
    /// The recurrence rule.
    pub rrule: String,
    /// The first occurrence's wall-clock time (`2026-11-24T09:00`).
    pub start_local: String,
    /// The IANA zone.
    pub zone: String,
    /// Minutes an occurrence may take before it is late.
    pub window_minutes: i64,
    /// Scheduling.
    pub active: bool,
    /// The next occurrence.
    pub next_at: Option<Timestamp>,
}

/// An occurrence of a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Occurrence {
    /// The check.
    pub check_id: i64,
    /// When it was due to start.
    pub scheduled_at: Timestamp,
    /// When it becomes late.
    pub due_at: Timestamp,
    /// Where it stands.
    pub state: CheckState,
    /// Its task ticket.
    pub ticket_id: Option<i64>,
    /// Its run.
    pub run_id: Option<i64>,
    /// When its run finished.
    pub finished_at: Option<Timestamp>,
}

/// A check as saved.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckDraft {
    /// Name.
    pub name: String,
    /// Runbook.
    pub runbook_id: i64,
    /// Team.
    pub team_id: i64,
    /// Owner.
    pub owner_id: i64,
    /// Rule text.
    pub rrule: String,
    /// First wall-clock time.
    pub start_local: String,
    /// Zone.
    pub zone: String,
    /// Window in minutes.
    pub window_minutes: i64,
    /// Scheduling.
    pub active: bool,
    /// The next occurrence (computed by the caller from the rule).
    pub next_at: Option<Timestamp>,
}

fn steps_json(steps: &[Step]) -> String {
    Value::Array(
        steps
            .iter()
            .map(|s| json!({"title": s.title, "instructions": s.instructions, "command": s.command, "expected": s.expected}))
            .collect(),
    )
    .to_string()
}

fn steps_from(text: &str) -> Result<Vec<Step>, StoreError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("runbook steps: {e}")))?;
    let field = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
    Ok(value
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| Step {
                    title: field(v, "title"),
                    instructions: field(v, "instructions"),
                    command: field(v, "command"),
                    expected: field(v, "expected"),
                })
                .collect()
        })
        .unwrap_or_default())
}

fn runbook_from(r: &AnyRow) -> Result<Runbook, StoreError> {
    Ok(Runbook {
        id: r.try_get(0)?,
        title: r.try_get(1)?,
        description: r.try_get(2)?,
        steps: steps_from(&r.try_get::<String, _>(3)?)?,
        service_id: r.try_get(4)?,
        alert_match: r.try_get(5)?,
        category: r.try_get(6)?,
        updated_at: ts(r.try_get(7)?)?,
    })
}

const RUNBOOK_SELECT: &str = "SELECT id, title, description, steps, service_id, alert_match, category, updated_at FROM runbooks";

const CHECK_SELECT: &str =
    "SELECT c.id, c.name, c.runbook_id, r.title, c.team_id, t.name, c.owner_id, c.rrule, \
     c.start_local, c.zone, c.window_minutes, c.active, c.next_at FROM checks c \
     JOIN runbooks r ON r.id = c.runbook_id JOIN teams t ON t.id = c.team_id";

fn check_from(r: &AnyRow) -> Result<Check, StoreError> {
    Ok(Check {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        runbook_id: r.try_get(2)?,
        runbook_title: r.try_get(3)?,
        team_id: r.try_get(4)?,
        team_name: r.try_get(5)?,
        owner_id: r.try_get(6)?,
        rrule: r.try_get(7)?,
        start_local: r.try_get(8)?,
        zone: r.try_get(9)?,
        window_minutes: r.try_get(10)?,
        active: r.try_get::<i64, _>(11)? != 0,
        next_at: r.try_get::<Option<i64>, _>(12)?.map(ts).transpose()?,
    })
}

fn occurrence_from(r: &AnyRow) -> Result<Occurrence, StoreError> {
    Ok(Occurrence {
        check_id: r.try_get(0)?,
        scheduled_at: ts(r.try_get(1)?)?,
        due_at: ts(r.try_get(2)?)?,
        state: CheckState::parse("state", &r.try_get::<String, _>(3)?).map_err(corrupt)?,
        ticket_id: r.try_get(4)?,
        run_id: r.try_get(5)?,
        finished_at: r.try_get::<Option<i64>, _>(6)?.map(ts).transpose()?,
    })
}

const OCCURRENCE_SELECT: &str =
    "SELECT check_id, scheduled_at, due_at, state, ticket_id, run_id, finished_at FROM check_occurrences";

impl RunTarget {
    fn subject(self) -> (&'static str, i64) {
        match self {
            RunTarget::Ticket(id) => ("ticket", id),
            RunTarget::Incident(id) => ("incident", id),
        }
    }
}

impl Store {
    /// Creates (`id` = `None`) or changes a runbook.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_runbook(
        &self,
        id: Option<i64>,
        title: &str,
        description: &str,
        steps: &[Step],
        service_id: Option<i64>,
        alert_match: &str,
        category: &str,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Runbook, StoreError> {
        if let Some(id) = id {
            self.runbook(id).await?;
        }
        let mut w = self.write(actor, now).await?;
        let steps_text = steps_json(steps);
        let id = match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE runbooks SET title = $1, description = $2, steps = $3, service_id = $4, \
                     alert_match = $5, category = $6, updated_at = $7 WHERE id = $8",
                )
                .bind(title)
                .bind(description)
                .bind(&steps_text)
                .bind(service_id)
                .bind(alert_match)
                .bind(category)
                .bind(w.now())
                .bind(id)
                .execute(&mut *w.tx)
                .await
                .map_err(StoreError::unique("title", "a runbook with this title exists"))?;
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO runbooks (title, description, steps, service_id, alert_match, category, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(title)
            .bind(description)
            .bind(&steps_text)
            .bind(service_id)
            .bind(alert_match)
            .bind(category)
            .bind(w.now())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(StoreError::unique("title", "a runbook with this title exists"))?,
        };
        w.event(
            "runbook",
            id,
            "runbook.saved",
            false,
            json!({"title": title, "steps": steps.len(), "service_id": service_id,
                   "alert_match": alert_match, "category": category}),
        )
        .await?;
        w.commit().await?;
        self.runbook(id).await
    }

    /// Every runbook by title.
    pub async fn runbooks(&self) -> Result<Vec<Runbook>, StoreError> {
        sqlx::query(&format!("{RUNBOOK_SELECT} ORDER BY lower(title)"))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(runbook_from)
            .collect()
    }

    /// One runbook.
    pub async fn runbook(&self, id: i64) -> Result<Runbook, StoreError> {
        let row = sqlx::query(&format!("{RUNBOOK_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("runbook"))?;
        runbook_from(&row)
    }

    /// Starts a run of `runbook` on `target`; the timeline shows it.
    pub async fn start_run(
        &self,
        runbook: &Runbook,
        target: RunTarget,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Run, StoreError> {
        let mut w = self.write(actor, now).await?;
        let id = insert_run(&mut w, runbook, target, actor).await?;
        w.commit().await?;
        self.run(id).await
    }

    /// Records the outcome of step `position` (0-based) of a run; the last one finishes the
    /// run (and its check occurrence, if it has one). A step may be recorded again (the latest
    /// outcome counts; every one stays on the timeline).
    pub async fn record_step(
        &self,
        run_id: i64,
        position: usize,
        outcome: Outcome,
        note: &str,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Run, StoreError> {
        let run = self.run(run_id).await?;
        let Some(step) = run.steps.get(position) else {
            return Err(opsdesk_domain::Invalid::new("step", "the run has no such step").into());
        };
        let mut w = self.write(actor, now).await?;
        w.lock_log().await?;
        sqlx::query(
            "INSERT INTO run_steps (run_id, position, outcome, note, done_by, done_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (run_id, position) DO UPDATE SET outcome = excluded.outcome, note = excluded.note, \
             done_by = excluded.done_by, done_at = excluded.done_at",
        )
        .bind(run_id)
        .bind(position as i64)
        .bind(outcome.as_str())
        .bind(note)
        .bind(actor)
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?;
        let (kind, subject) = run.target.subject();
        w.event(
            kind,
            subject,
            "runbook.step",
            kind == "ticket",
            json!({"run_id": run_id, "runbook": run.title, "position": position + 1,
                   "step": step.step.title, "outcome": outcome.as_str(), "note": note}),
        )
        .await?;
        let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM run_steps WHERE run_id = $1")
            .bind(run_id)
            .fetch_one(&mut *w.tx)
            .await?;
        let finished = recorded as usize >= run.steps.len()
            && sqlx::query(
                "UPDATE runbook_runs SET finished_at = $1 WHERE id = $2 AND finished_at IS NULL",
            )
            .bind(w.now())
            .bind(run_id)
            .execute(&mut *w.tx)
            .await?
            .rows_affected()
                > 0;
        if finished {
            w.event(
                kind,
                subject,
                "runbook.finished",
                kind == "ticket",
                json!({"run_id": run_id, "runbook": run.title}),
            )
            .await?;
            let occurrence = sqlx::query(&format!("{OCCURRENCE_SELECT} WHERE run_id = $1"))
                .bind(run_id)
                .fetch_optional(&mut *w.tx)
                .await?;
            if let Some(row) = occurrence {
                let occurrence = occurrence_from(&row)?;
                let state = occurrence.state.finished();
                sqlx::query(
                    "UPDATE check_occurrences SET state = $1, finished_at = $2 WHERE check_id = $3 AND scheduled_at = $4",
                )
                .bind(state.as_str())
                .bind(w.now())
                .bind(occurrence.check_id)
                .bind(occurrence.scheduled_at.as_microsecond())
                .execute(&mut *w.tx)
                .await?;
                w.event(
                    "check",
                    occurrence.check_id,
                    "check.finished",
                    false,
                    json!({"scheduled_at": occurrence.scheduled_at.to_string(), "state": state.as_str(), "run_id": run_id}),
                )
                .await?;
            }
        }
        w.commit().await?;
        self.run(run_id).await
    }

    /// One run with its steps' outcomes.
    pub async fn run(&self, id: i64) -> Result<Run, StoreError> {
        self.runs_where("r.id = $1", id)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("runbook run"))
    }

    /// The runs on a ticket or incident, oldest first.
    pub async fn runs_of(&self, target: RunTarget) -> Result<Vec<Run>, StoreError> {
        match target {
            RunTarget::Ticket(id) => self.runs_where("r.ticket_id = $1", id).await,
            RunTarget::Incident(id) => self.runs_where("r.incident_id = $1", id).await,
        }
    }

    async fn runs_where(&self, condition: &str, value: i64) -> Result<Vec<Run>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT r.id, r.runbook_id, r.title, r.steps, r.ticket_id, r.incident_id, r.started_by, u.email, u.name, \
             r.started_at, r.finished_at FROM runbook_runs r LEFT JOIN users u ON u.id = r.started_by \
             WHERE {condition} ORDER BY r.id"
        ))
        .bind(value)
        .fetch_all(&self.read)
        .await?;
        let mut runs = Vec::new();
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let target = match (
                r.try_get::<Option<i64>, _>(4)?,
                r.try_get::<Option<i64>, _>(5)?,
            ) {
                (Some(t), _) => RunTarget::Ticket(t),
                (None, Some(i)) => RunTarget::Incident(i),
                _ => {
                    return Err(StoreError::Corrupt(
                        "a run without ticket or incident".into(),
                    ))
                }
            };
            let mut steps: Vec<RunStep> = steps_from(&r.try_get::<String, _>(3)?)?
                .into_iter()
                .map(|step| RunStep {
                    step,
                    outcome: None,
                    note: String::new(),
                    by: None,
                    at: None,
                })
                .collect();
            let done = sqlx::query(
                "SELECT s.position, s.outcome, s.note, s.done_by, u.email, u.name, s.done_at \
                 FROM run_steps s LEFT JOIN users u ON u.id = s.done_by WHERE s.run_id = $1",
            )
            .bind(id)
            .fetch_all(&self.read)
            .await?;
            for d in done {
                let position: i64 = d.try_get(0)?;
                if let Some(step) = usize::try_from(position)
                    .ok()
                    .and_then(|p| steps.get_mut(p))
                {
                    step.outcome = Some(
                        Outcome::parse("outcome", &d.try_get::<String, _>(1)?).map_err(corrupt)?,
                    );
                    step.note = d.try_get(2)?;
                    step.by = user_at(&d, 3)?;
                    step.at = Some(ts(d.try_get(6)?)?);
                }
            }
            runs.push(Run {
                id,
                runbook_id: r.try_get(1)?,
                title: r.try_get(2)?,
                target,
                started_by: user_at(&r, 6)?,
                started_at: ts(r.try_get(9)?)?,
                finished_at: r.try_get::<Option<i64>, _>(10)?.map(ts).transpose()?,
                steps,
            });
        }
        Ok(runs)
    }

    /// Creates (`id` = `None`) or changes a scheduled check.
    pub async fn save_check(
        &self,
        id: Option<i64>,
        draft: &CheckDraft,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Check, StoreError> {
        if let Some(id) = id {
            self.check(id).await?;
        }
        let mut w = self.write(actor, now).await?;
        let next = draft.next_at.map(|t| t.as_microsecond());
        let id = match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE checks SET name = $1, runbook_id = $2, team_id = $3, owner_id = $4, rrule = $5, \
                     start_local = $6, zone = $7, window_minutes = $8, active = $9, next_at = $10, updated_at = $11 \
                     WHERE id = $12",
                )
                .bind(&draft.name)
                .bind(draft.runbook_id)
                .bind(draft.team_id)
                .bind(draft.owner_id)
                .bind(&draft.rrule)
                .bind(&draft.start_local)
                .bind(&draft.zone)
                .bind(draft.window_minutes)
                .bind(i64::from(draft.active))
                .bind(next)
                .bind(w.now())
                .bind(id)
                .execute(&mut *w.tx)
                .await
                .map_err(StoreError::unique("name", "a check with this name exists"))?;
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO checks (name, runbook_id, team_id, owner_id, rrule, start_local, zone, window_minutes, \
                 active, next_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) \
                 RETURNING id",
            )
            .bind(&draft.name)
            .bind(draft.runbook_id)
            .bind(draft.team_id)
            .bind(draft.owner_id)
            .bind(&draft.rrule)
            .bind(&draft.start_local)
            .bind(&draft.zone)
            .bind(draft.window_minutes)
            .bind(i64::from(draft.active))
            .bind(next)
            .bind(w.now())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(StoreError::unique("name", "a check with this name exists"))?,
        };
        w.event(
            "check",
            id,
            "check.saved",
            false,
            json!({"name": draft.name, "rrule": draft.rrule, "start": draft.start_local, "zone": draft.zone,
                   "window_minutes": draft.window_minutes, "active": draft.active}),
        )
        .await?;
        w.commit().await?;
        self.check(id).await
    }

    /// Every check by name.
    pub async fn checks(&self) -> Result<Vec<Check>, StoreError> {
        sqlx::query(&format!("{CHECK_SELECT} ORDER BY lower(c.name)"))
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(check_from)
            .collect()
    }

    /// One check.
    pub async fn check(&self, id: i64) -> Result<Check, StoreError> {
        let row = sqlx::query(&format!("{CHECK_SELECT} WHERE c.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("check"))?;
        check_from(&row)
    }

    /// Active checks whose next occurrence is due at `now`.
    pub async fn due_checks(&self, now: Timestamp) -> Result<Vec<Check>, StoreError> {
        sqlx::query(&format!(
            "{CHECK_SELECT} WHERE c.active = 1 AND c.next_at IS NOT NULL AND c.next_at <= $1 ORDER BY c.next_at LIMIT 100"
        ))
        .bind(now.as_microsecond())
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(check_from)
        .collect()
    }

    /// The soonest instant a check falls due or an occurrence becomes late (the scheduler
    /// sleeps until then at most).
    pub async fn next_check_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(t) FROM (SELECT MIN(next_at) AS t FROM checks WHERE active = 1 \
             UNION ALL SELECT MIN(due_at) AS t FROM check_occurrences WHERE state = 'open') x",
        )
        .fetch_one(&self.read)
        .await?;
        next.map(ts).transpose()
    }

    /// Claims the occurrence of `check` at `scheduled_at` if the check's next instant is still
    /// `expected_next`: records it (and, as missed, those the scheduler slept through) and
    /// moves the check to `following`; an earlier occurrence still unfinished is missed.
    /// Answers `false` if another scheduler claimed it first.
    pub async fn claim_occurrence(
        &self,
        check: &Check,
        expected_next: Timestamp,
        scheduled_at: Timestamp,
        slept_through: &[Timestamp],
        following: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut w = self.write(None, now).await?;
        w.lock_log().await?;
        let moved = sqlx::query("UPDATE checks SET next_at = $1 WHERE id = $2 AND next_at = $3")
            .bind(following.map(|t| t.as_microsecond()))
            .bind(check.id)
            .bind(expected_next.as_microsecond())
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        if moved == 0 {
            return Ok(false);
        }
        let unfinished = sqlx::query(&format!(
            "{OCCURRENCE_SELECT} WHERE check_id = $1 AND state IN ('open', 'late')"
        ))
        .bind(check.id)
        .fetch_all(&mut *w.tx)
        .await?;
        for row in &unfinished {
            let o = occurrence_from(row)?;
            set_state(&mut w, &o, CheckState::Missed).await?;
        }
        let window = jiff::SignedDuration::from_mins(check.window_minutes);
        for at in slept_through {
            insert_occurrence(&mut w, check.id, *at, *at + window, CheckState::Missed).await?;
            w.event("check", check.id, "check.missed", false, json!({"scheduled_at": at.to_string(), "reason": "not started: the scheduler was not running"}))
                .await?;
        }
        insert_occurrence(
            &mut w,
            check.id,
            scheduled_at,
            scheduled_at + window,
            CheckState::Open,
        )
        .await?;
        w.commit().await?;
        Ok(true)
    }

    /// Occurrences that have no run yet (just claimed, or claimed by a scheduler that stopped
    /// before starting it).
    pub async fn occurrences_without_run(&self) -> Result<Vec<Occurrence>, StoreError> {
        sqlx::query(&format!(
            "{OCCURRENCE_SELECT} WHERE run_id IS NULL AND state IN ('open', 'late') ORDER BY scheduled_at LIMIT 100"
        ))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(occurrence_from)
        .collect()
    }

    /// Starts the run of an occurrence on its task ticket, once.
    pub async fn start_occurrence_run(
        &self,
        occurrence: &Occurrence,
        runbook: &Runbook,
        ticket_id: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(None, now).await?;
        let run = insert_run(&mut w, runbook, RunTarget::Ticket(ticket_id), None).await?;
        let updated = sqlx::query(
            "UPDATE check_occurrences SET run_id = $1, ticket_id = $2 WHERE check_id = $3 AND scheduled_at = $4 AND run_id IS NULL",
        )
        .bind(run)
        .bind(ticket_id)
        .bind(occurrence.check_id)
        .bind(occurrence.scheduled_at.as_microsecond())
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if updated == 0 {
            // Another scheduler started it: keep theirs.
            return Ok(());
        }
        w.event(
            "check",
            occurrence.check_id,
            "check.started",
            false,
            json!({"scheduled_at": occurrence.scheduled_at.to_string(), "ticket_id": ticket_id, "run_id": run}),
        )
        .await?;
        w.commit().await
    }

    /// Marks open occurrences past their window late (one `check.late` event each).
    pub async fn mark_late_checks(&self, now: Timestamp) -> Result<usize, StoreError> {
        let late = sqlx::query(&format!(
            "{OCCURRENCE_SELECT} WHERE state = 'open' AND due_at <= $1 ORDER BY due_at LIMIT 200"
        ))
        .bind(now.as_microsecond())
        .fetch_all(&self.read)
        .await?;
        if late.is_empty() {
            return Ok(0);
        }
        let mut w = self.write(None, now).await?;
        w.lock_log().await?;
        for row in &late {
            let o = occurrence_from(row)?;
            set_state(&mut w, &o, CheckState::Late).await?;
        }
        w.commit().await?;
        Ok(late.len())
    }

    /// The latest occurrences of a check (or of every check), newest first.
    pub async fn occurrences(
        &self,
        check_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Occurrence>, StoreError> {
        let rows = match check_id {
            Some(id) => {
                sqlx::query(&format!(
                    "{OCCURRENCE_SELECT} WHERE check_id = $1 ORDER BY scheduled_at DESC LIMIT $2"
                ))
                .bind(id)
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "{OCCURRENCE_SELECT} ORDER BY scheduled_at DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.read)
                .await?
            }
        };
        rows.iter().map(occurrence_from).collect()
    }
}

async fn insert_run(
    w: &mut crate::events::Write,
    runbook: &Runbook,
    target: RunTarget,
    actor: Option<i64>,
) -> Result<i64, StoreError> {
    let (ticket, incident) = match target {
        RunTarget::Ticket(id) => (Some(id), None),
        RunTarget::Incident(id) => (None, Some(id)),
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO runbook_runs (runbook_id, title, steps, ticket_id, incident_id, started_by, started_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(runbook.id)
    .bind(&runbook.title)
    .bind(steps_json(&runbook.steps))
    .bind(ticket)
    .bind(incident)
    .bind(actor)
    .bind(w.now())
    .fetch_one(&mut *w.tx)
    .await?;
    let (kind, subject) = target.subject();
    w.event(
        kind,
        subject,
        "runbook.started",
        kind == "ticket",
        json!({"run_id": id, "runbook_id": runbook.id, "runbook": runbook.title, "steps": runbook.steps.len()}),
    )
    .await?;
    Ok(id)
}

async fn insert_occurrence(
    w: &mut crate::events::Write,
    check_id: i64,
    at: Timestamp,
    due: Timestamp,
    state: CheckState,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO check_occurrences (check_id, scheduled_at, due_at, state) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (check_id, scheduled_at) DO NOTHING",
    )
    .bind(check_id)
    .bind(at.as_microsecond())
    .bind(due.as_microsecond())
    .bind(state.as_str())
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

async fn set_state(
    w: &mut crate::events::Write,
    o: &Occurrence,
    state: CheckState,
) -> Result<(), StoreError> {
    // Only from a state it can still leave: a run finished meanwhile stays done.
    let from = match state {
        CheckState::Late => "('open')",
        _ => "('open', 'late')",
    };
    let changed = sqlx::query(&format!(
        "UPDATE check_occurrences SET state = $1 WHERE check_id = $2 AND scheduled_at = $3 AND state IN {from}"
    ))
    .bind(state.as_str())
    .bind(o.check_id)
    .bind(o.scheduled_at.as_microsecond())
    .execute(&mut *w.tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(());
    }
    // The owner hears of it in the app (the notifications page), not only the checks page.
    let word = match state {
        CheckState::Late => Some("late"),
        CheckState::Missed => Some("missed"),
        _ => None,
    };
    if let Some(word) = word {
        sqlx::query(
            "INSERT INTO notifications (user_id, ticket_id, text, created_at) \
             SELECT c.owner_id, $1, 'Scheduled check ' || c.name || ' is ' || $2, $3 FROM checks c WHERE c.id = $4",
        )
        .bind(o.ticket_id)
        .bind(word)
        .bind(w.now())
        .bind(o.check_id)
        .execute(&mut *w.tx)
        .await?;
    }
    let kind = match state {
        CheckState::Late => "check.late",
        CheckState::Missed => "check.missed",
        _ => "check.changed",
    };
    w.event(
        "check",
        o.check_id,
        kind,
        false,
        json!({"scheduled_at": o.scheduled_at.to_string(), "ticket_id": o.ticket_id, "run_id": o.run_id}),
    )
    .await?;
    Ok(())
}
