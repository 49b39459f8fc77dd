//! The JSON shapes of runbooks, their runs, and scheduled checks.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::desk::PersonOut;

/// One step of a runbook.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepIo {
    /// What to do, in a line.
    pub title: String,
    /// How, in Markdown.
    #[serde(default)]
    pub instructions: String,
    /// A command to copy.
    #[serde(default)]
    pub command: String,
    /// What a good result looks like.
    #[serde(default)]
    pub expected: String,
}

/// A runbook as written: steps as a list, or as text (`## Title` per step, `$ command`,
/// `=> expected`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunbookIn {
    /// Unique title.
    pub title: String,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The steps.
    #[serde(default)]
    pub steps: Option<Vec<StepIo>>,
    /// The steps as text (instead of `steps`).
    #[serde(default)]
    pub steps_text: Option<String>,
    /// The service it belongs to (name).
    #[serde(default)]
    pub service: Option<String>,
    /// Incidents whose title contains this (case-insensitive) suggest it.
    #[serde(default)]
    pub alert_match: String,
    /// Tickets of this category suggest it.
    #[serde(default)]
    pub category: String,
}

/// A runbook.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunbookOut {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// What it is for.
    pub description: String,
    /// The steps.
    pub steps: Vec<StepIo>,
    /// The steps as text.
    pub steps_text: String,
    /// Service name.
    pub service: Option<String>,
    /// Alert match.
    pub alert_match: String,
    /// Ticket category.
    pub category: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// Start a run.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunIn {
    /// The runbook's id.
    pub runbook: i64,
}

/// Record a step's outcome.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepOutcomeIn {
    /// `done` (default), `skipped` or `failed`.
    #[serde(default)]
    pub outcome: Option<String>,
    /// What was seen.
    #[serde(default)]
    pub note: String,
}

/// A step of a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunStepOut {
    /// 1-based position.
    pub position: usize,
    /// The step.
    pub title: String,
    /// Instructions (Markdown).
    pub instructions: String,
    /// Instructions rendered to safe HTML.
    pub instructions_html: String,
    /// Command to copy.
    pub command: String,
    /// Expected result.
    pub expected: String,
    /// `done`, `skipped`, `failed`, or absent.
    pub outcome: Option<String>,
    /// The note.
    pub note: String,
    /// Who recorded it.
    pub by: Option<PersonOut>,
    /// When (RFC 3339).
    pub at: Option<String>,
}

/// A run of a runbook.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunOut {
    /// Id.
    pub id: i64,
    /// The runbook.
    pub runbook: i64,
    /// Its title.
    pub title: String,
    /// The ticket it runs on.
    pub ticket: Option<i64>,
    /// The incident it runs on.
    pub incident: Option<i64>,
    /// Who started it.
    pub started_by: Option<PersonOut>,
    /// When (RFC 3339).
    pub started_at: String,
    /// When the last step was recorded (absent while unfinished).
    pub finished_at: Option<String>,
    /// Steps with an outcome.
    pub done: usize,
    /// The steps.
    pub steps: Vec<RunStepOut>,
}

/// A scheduled check as written.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// Unique name.
    pub name: String,
    /// The runbook each occurrence runs (id or title).
    pub runbook: String,
    /// The team its task tickets go to (name).
    pub team: String,
    /// RFC 5545 recurrence rule, e.g. `FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR`.
    pub rrule: String,
    /// The first occurrence, local wall-clock time: `2026-11-24T09:00`.
    pub start: String,
    /// IANA zone, e.g. `Europe/Berlin`.
    pub zone: String,
    /// Minutes an occurrence may take before it is late (default 120).
    #[serde(default)]
    pub window_minutes: Option<i64>,
    /// Scheduling (default true).
    #[serde(default)]
    pub active: Option<bool>,
}

/// A scheduled check.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Runbook id.
    pub runbook: i64,
    /// Runbook title.
    pub runbook_title: String,
    /// Team.
    pub team: String,
    /// Rule.
    pub rrule: String,
    /// First occurrence, local.
    pub start: String,
    /// Zone.
    pub zone: String,
    /// Window in minutes.
    pub window_minutes: i64,
    /// Scheduling.
    pub active: bool,
    /// Next occurrence (RFC 3339).
    pub next_at: Option<String>,
    /// The next occurrences, local time in the zone (up to 5).
    pub upcoming: Vec<String>,
    /// The latest occurrences, newest first.
    pub recent: Vec<OccurrenceOut>,
}

/// An occurrence of a check.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceOut {
    /// The check.
    pub check: i64,
    /// When it was due to start (RFC 3339).
    pub scheduled_at: String,
    /// When it becomes late (RFC 3339).
    pub due_at: String,
    /// `open`, `done`, `late`, `done_late` or `missed`.
    pub state: String,
    /// Its task ticket.
    pub ticket: Option<i64>,
    /// Its run.
    pub run: Option<i64>,
    /// When its run finished (RFC 3339).
    pub finished_at: Option<String>,
}
