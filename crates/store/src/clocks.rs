//! SLA clocks per ticket: their facts read from the event log, the cached clock rows every
//! ticket write refreshes in its own transaction, and what the scheduler reads. One ticket's
//! clocks as the pages show them, with their explanation, are `sla_views.rs`.
//!
//! The rows in `ticket_clocks` and `tickets.sla_due_at` are a cache of
//! `sla::compute_clocks(events, policy, calendar)`; [`refresh_clocks`] rewrites them whole.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::calendar::Calendar;
use opsdesk_domain::report::TierMove;
use opsdesk_domain::sla::{
    calendar_for, compute_clocks, compute_vendor_clocks, select_policy, triggers, warning_at,
    Clock, Fact, Happening, Metric, Policy, Trigger,
};
use opsdesk_domain::{PendingReason, Priority, Role, Status, Tier};
use sqlx::{AnyConnection, Row};

use crate::clock_inputs::ClockInputs;
use crate::error::corrupt;
use crate::events::{NewEvent, Write};
use crate::model::ts;
use crate::report_facts::{fact_row, write_facts, write_new_facts};
use crate::sla_config::{config_version, SlaCache, SlaConfig};
use crate::sql::{Param, Sql};
use crate::{Backend, Store, StoreError};

/// Stored `sla_due_at` when no clock runs: sorts after every real instant.
pub(crate) const NO_DUE: i64 = i64::MAX;

/// How many tickets one statement reads by id.
const CHUNK: usize = 500;

/// The clocks of one ticket, as computed, with what they were computed under.
#[derive(Debug, Clone)]
pub struct TicketSla {
    /// The policy that applies, if any.
    pub policy: Option<Policy>,
    /// The calendar's id and name, when a stored calendar applies.
    pub calendar: Option<(i64, String)>,
    /// Where the calendar came from: "organisation", "team" or "default".
    pub calendar_source: &'static str,
    /// The calendar itself.
    pub calendar_rules: Arc<Calendar>,
    /// Every clock cycle, by metric then cycle.
    pub clocks: Vec<ClockView>,
}

/// One clock with what the pages show beside it.
#[derive(Debug, Clone)]
pub struct ClockView {
    /// The clock.
    pub clock: Clock,
    /// When it turns "warning" (75 % used), if its spans reach that.
    pub warn_at: Option<Timestamp>,
    /// Its explanation in words.
    pub explanation: String,
}

/// A clock whose next trigger is near, for the at-risk view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtRisk {
    /// Ticket.
    pub ticket_id: i64,
    /// Ticket subject.
    pub subject: String,
    /// Team id.
    pub team_id: i64,
    /// Team name.
    pub team_name: String,
    /// Priority.
    pub priority: Priority,
    /// The metric.
    pub metric: Metric,
    /// The clock's due instant, when known.
    pub due_at: Option<Timestamp>,
    /// The next breach or escalation instant not yet fired, if any.
    pub next_at: Option<Timestamp>,
    /// "running", "paused" or "breached" as last computed.
    pub state: String,
    /// Assignee email, if assigned.
    pub assignee: Option<String>,
}

/// Progress of a background recomputation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaJob {
    /// Id.
    pub id: i64,
    /// What caused it.
    pub reason: String,
    /// Open tickets to recompute.
    pub total: i64,
    /// Recomputed so far.
    pub done: i64,
    /// Queued.
    pub created_at: Timestamp,
    /// Finished (or superseded by a later job).
    pub finished_at: Option<Timestamp>,
}

/// Reads everything the clocks of `ids` depend on, on one connection (inside a write
/// transaction, or a read connection for pages).
pub(crate) async fn load_inputs(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<Vec<ClockInputs>, StoreError> {
    let mut out: Vec<ClockInputs> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let list = || chunk.iter().map(|id| Param::Int(*id));
        let mut sql = Sql::new(
            "SELECT t.id, t.subject, t.priority, t.team_id, t.org_id, o.plan, t.channel, t.category, \
             tm.calendar_id, o.calendar_id, t.assignee_id, t.status, t.resolved_at, t.updated_at, tm.name, o.name, \
             t.sla_due_at, t.sla_warn_at, t.sla_policy_id, t.tier, c.score, t.service_id \
             FROM tickets t JOIN teams tm ON tm.id = t.team_id LEFT JOIN orgs o ON o.id = t.org_id \
             LEFT JOIN csat_responses c ON c.ticket_id = t.id WHERE t.id IN ",
        );
        sql.bind_list(list());
        let rows = sql.query().fetch_all(&mut *conn).await?;
        let mut index: HashMap<i64, usize> = HashMap::new();
        let mut imported_status: HashMap<i64, (Status, Timestamp)> = HashMap::new();
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let status: String = row.try_get(11)?;
            let at: Option<i64> = row.try_get(12)?;
            let at = ts(at.unwrap_or(row.try_get(13)?))?;
            imported_status.insert(id, (Status::parse("status", &status).map_err(corrupt)?, at));
            index.insert(id, out.len());
            out.push(ClockInputs {
                id,
                subject: row.try_get(1)?,
                priority: Priority::from_rank(row.try_get(2)?).map_err(corrupt)?,
                team_id: row.try_get(3)?,
                org_id: row.try_get(4)?,
                plan: row.try_get(5)?,
                channel: row.try_get(6)?,
                category: row.try_get(7)?,
                team_calendar: row.try_get(8)?,
                org_calendar: row.try_get(9)?,
                assignee_id: row.try_get(10)?,
                team_name: row.try_get(14)?,
                org_name: row.try_get(15)?,
                sla_due_at: row.try_get(16)?,
                sla_warn_at: row.try_get(17)?,
                sla_policy_id: row.try_get(18)?,
                tags: Vec::new(),
                facts: Vec::new(),
                tier: Tier::from_level("tier", row.try_get(19)?).map_err(corrupt)?,
                tier_moves: Vec::new(),
                csat: row.try_get(20)?,
                service_id: row.try_get(21)?,
            });
        }
        let mut sql = Sql::new("SELECT ticket_id, tag FROM ticket_tags WHERE ticket_id IN ");
        sql.bind_list(list());
        for row in sql.query().fetch_all(&mut *conn).await? {
            if let Some(&i) = index.get(&row.try_get::<i64, _>(0)?) {
                out[i].tags.push(row.try_get(1)?);
            }
        }
        let mut sql = Sql::new(
            "SELECT e.subject_id, e.at, e.kind, e.data, u.role FROM events e LEFT JOIN users u ON u.id = e.actor_id \
             WHERE e.subject_kind = 'ticket' AND e.kind IN ('ticket.created', 'ticket.imported', 'ticket.updated', 'message.added', \
             'ticket.escalated', 'ticket.deescalated') \
             AND e.subject_id IN ",
        );
        sql.bind_list(list());
        sql.push(" ORDER BY e.seq");
        for row in sql.query().fetch_all(&mut *conn).await? {
            let id: i64 = row.try_get(0)?;
            let Some(&i) = index.get(&id) else { continue };
            let at = ts(row.try_get(1)?)?;
            let kind: String = row.try_get(2)?;
            let data: String = row.try_get(3)?;
            let role: Option<String> = row.try_get(4)?;
            // Only the fields the clocks read are decoded (a typed read skips the rest quickly).
            let data: ClockEventData = serde_json::from_str(&data)
                .map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?;
            if kind == "ticket.escalated" || kind == "ticket.deescalated" {
                let tier = |raw: Option<&str>| raw.map(|r| Tier::parse("tier", r).map_err(corrupt));
                if let (Some(from), Some(to)) = (
                    tier(data.before.tier.as_deref()).transpose()?,
                    tier(data.after.tier.as_deref()).transpose()?,
                ) {
                    out[i].tier_moves.push(TierMove { from, to });
                }
                continue;
            }
            let facts = &mut out[i].facts;
            match kind.as_str() {
                "ticket.created" => facts.push(Fact {
                    at,
                    what: Happening::Created,
                }),
                "ticket.imported" => {
                    facts.push(Fact {
                        at,
                        what: Happening::Created,
                    });
                    // An imported ticket brings its status; it took effect when last changed.
                    // The event says both (older events: the ticket row, as of now).
                    let recorded = match (data.after.status.as_deref(), data.status_at) {
                        (Some(s), Some(since)) => {
                            Some((Status::parse("status", s).map_err(corrupt)?, ts(since)?))
                        }
                        _ => imported_status.get(&id).copied(),
                    };
                    if let Some((status, since)) = recorded.filter(|(s, _)| *s != Status::New) {
                        facts.push(Fact {
                            at: since.max(at),
                            what: Happening::Status(status, None),
                        });
                    }
                }
                "ticket.updated" => {
                    if let Some(status) = data.after.status.as_deref() {
                        let reason = match data.after.pending_reason.as_deref() {
                            Some(r) => {
                                Some(PendingReason::parse("pending_reason", r).map_err(corrupt)?)
                            }
                            None => None,
                        };
                        let status = Status::parse("status", status).map_err(corrupt)?;
                        facts.push(Fact {
                            at,
                            what: Happening::Status(status, reason),
                        });
                    } else if let Some(r) = data.after.pending_reason.as_deref() {
                        // The reason changed while the ticket stayed pending.
                        let reason = PendingReason::parse("pending_reason", r).map_err(corrupt)?;
                        facts.push(Fact {
                            at,
                            what: Happening::Status(Status::Pending, Some(reason)),
                        });
                    }
                    if let Some(vendor) = data.after.vendor_id {
                        facts.push(Fact {
                            at,
                            what: Happening::Vendor(vendor),
                        });
                    }
                    if data.after.vendor_responded == Some(true) {
                        facts.push(Fact {
                            at,
                            what: Happening::VendorResponded,
                        });
                    }
                }
                "message.added" if data.internal == Some(false) => {
                    let by_customer = role
                        .as_deref()
                        .and_then(|r| Role::parse("role", r).ok())
                        .is_some_and(Role::speaks_for_the_customer);
                    facts.push(Fact {
                        at,
                        what: Happening::Reply { by_customer },
                    });
                }
                _ => {}
            }
        }
    }
    // Facts in time order (stable, so log order decides within an instant): an imported
    // ticket's status takes effect when it last changed, after the replies it brought along.
    for input in &mut out {
        input.facts.sort_by_key(|f| f.at);
    }
    Ok(out)
}

/// The part of an event's data the clocks read.
#[derive(Debug, Default, serde::Deserialize)]
struct ClockEventData {
    #[serde(default)]
    status_at: Option<i64>,
    #[serde(default)]
    before: ClockEventBefore,
    #[serde(default)]
    after: ClockEventAfter,
    #[serde(default)]
    internal: Option<bool>,
}

/// The before-values the report facts read (the tier an escalation left).
#[derive(Debug, Default, serde::Deserialize)]
struct ClockEventBefore {
    #[serde(default)]
    tier: Option<String>,
}

/// The after-values the clocks read.
#[derive(Debug, Default, serde::Deserialize)]
struct ClockEventAfter {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    pending_reason: Option<String>,
    /// Present (even as `null`) when the ticket's vendor changed.
    #[serde(default, deserialize_with = "present")]
    vendor_id: Option<Option<i64>>,
    #[serde(default)]
    vendor_responded: Option<bool>,
    #[serde(default)]
    tier: Option<String>,
}

/// Reads a field that may be `null` as `Some(None)`, so an absent field stays `None`.
fn present<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<Option<i64>>, D::Error> {
    <Option<i64> as serde::Deserialize>::deserialize(de).map(Some)
}

/// (ticket, policy, metric, cycle, trigger) of every firing of `ids`.
pub(crate) type FiringKey = (i64, i64, String, i64, i64);

pub(crate) async fn load_firings(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashSet<FiringKey>, StoreError> {
    let mut fired = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new("SELECT ticket_id, policy_id, metric, cycle, trigger_key FROM sla_firings WHERE ticket_id IN ");
        sql.bind_list(chunk.iter().map(|id| Param::Int(*id)));
        for row in sql.query().fetch_all(&mut *conn).await? {
            fired.insert((
                row.try_get(0)?,
                row.try_get(1)?,
                row.try_get(2)?,
                row.try_get(3)?,
                row.try_get(4)?,
            ));
        }
    }
    Ok(fired)
}

/// The policy, calendar and clocks for one ticket's inputs.
pub(crate) fn compute(
    config: &SlaConfig,
    inputs: &ClockInputs,
    now: Timestamp,
) -> (Option<Policy>, Option<i64>, Arc<Calendar>, Vec<Clock>) {
    let policy = select_policy(&config.policies, &inputs.ticket_facts()).cloned();
    let (calendar_id, calendar) = config.calendar_for(inputs.org_calendar, inputs.team_calendar);
    let clocks = policy
        .as_ref()
        .map(|p| compute_clocks(&inputs.facts, p, &calendar, now))
        .unwrap_or_default();
    (policy, calendar_id, calendar, clocks)
}

/// A ticket's nearest due instant and when that clock turns "warning".
pub(crate) type NearestDue = Option<(Timestamp, Option<Timestamp>)>;

/// One cached clock row, in column order (see `CLOCK_COLUMNS`).
pub(crate) type ClockRow = [Param; 15];

pub(crate) const CLOCK_COLUMNS: &str =
    "ticket_id, metric, cycle, policy_id, state, target_minutes, business, \
     started_at, stopped_at, due_at, warn_at, elapsed_secs, paused_secs, next_at, vendor_id";

/// `SELECT` of the clock rows bound (as JSON, in [`CLOCK_COLUMNS`] order) at `placeholder`.
pub(crate) fn select_json_clocks(backend: Backend, placeholder: &str) -> String {
    let columns: Vec<&str> = CLOCK_COLUMNS.split(',').map(str::trim).collect();
    crate::sql::select_json_rows(backend, placeholder, &columns, |c| {
        c == "metric" || c == "state"
    })
}

/// The cached row of one clock. Every value is independent of `now`, so recomputing an unchanged
/// ticket yields identical rows and writes nothing: an active clock stores running or paused
/// (breached is `due_at` passed) and the time banked in its finished spans.
fn clock_row(
    ticket: i64,
    policy: i64,
    clock: &Clock,
    calendar: &Calendar,
    warn: Option<Timestamp>,
    next: Option<Timestamp>,
) -> ClockRow {
    let opt = |t: Option<Timestamp>| t.map_or(Param::Null, |t| Param::Int(t.as_microsecond()));
    let continuous = Calendar::continuous();
    let cal = calendar_for(clock.target, calendar, &continuous);
    let banked: SignedDuration = clock
        .running
        .iter()
        .filter_map(|s| s.to.map(|to| cal.between(s.from, to)))
        .sum();
    let paused: SignedDuration = clock
        .pauses
        .iter()
        .filter_map(|p| p.span.to.map(|to| to.duration_since(p.span.from)))
        .sum();
    let state = match (
        clock.is_active(),
        clock.running.last().is_some_and(|s| s.to.is_none()),
    ) {
        (true, true) => "running",
        (true, false) => "paused",
        (false, _) => clock.state.as_str(),
    };
    [
        Param::Int(ticket),
        Param::Text(clock.metric.as_str().to_owned()),
        Param::Int(i64::from(clock.cycle)),
        Param::Int(policy),
        Param::Text(state.to_owned()),
        Param::Int(clock.target.minutes()),
        Param::Int(i64::from(clock.target.business())),
        Param::Int(clock.started_at.as_microsecond()),
        opt(clock.stopped_at),
        opt(clock.due),
        opt(warn),
        Param::Int(banked.as_secs()),
        Param::Int(paused.as_secs()),
        opt(next),
        clock.vendor_id.map_or(Param::Null, Param::Int),
    ]
}

/// Key of a vendor clock's firings: vendors take the negative id space of policies.
pub(crate) fn vendor_key(vendor_id: i64) -> i64 {
    -vendor_id
}

/// The vendor clocks of one ticket under `config`.
pub(crate) fn vendor_clocks(
    config: &SlaConfig,
    inputs: &ClockInputs,
    now: Timestamp,
) -> Vec<Clock> {
    if config.vendors.is_empty() {
        return Vec::new();
    }
    compute_vendor_clocks(&inputs.facts, &|id| config.vendor(id), now)
}

/// A bound value as JSON, for the one-parameter bulk statements.
fn row_key(row: &ClockRow) -> (i64, String, i64) {
    let int = |p: &Param| if let Param::Int(v) = p { *v } else { 0 };
    let text = |p: &Param| {
        if let Param::Text(v) = p {
            v.clone()
        } else {
            String::new()
        }
    };
    (int(&row[0]), text(&row[1]), int(&row[2]))
}

/// The clock rows stored for `ids`, by (ticket, metric, cycle).
async fn load_rows(
    conn: &mut AnyConnection,
    ids: &[i64],
) -> Result<HashMap<(i64, String, i64), ClockRow>, StoreError> {
    let mut rows = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new(&format!(
            "SELECT {CLOCK_COLUMNS} FROM ticket_clocks WHERE ticket_id IN "
        ));
        sql.bind_list(chunk.iter().map(|id| Param::Int(*id)));
        for r in sql.query().fetch_all(&mut *conn).await? {
            let int = |i: usize| -> Result<Param, StoreError> {
                Ok(r.try_get::<Option<i64>, _>(i)?
                    .map_or(Param::Null, Param::Int))
            };
            let row: ClockRow = [
                int(0)?,
                Param::Text(r.try_get(1)?),
                int(2)?,
                int(3)?,
                Param::Text(r.try_get(4)?),
                int(5)?,
                int(6)?,
                int(7)?,
                int(8)?,
                int(9)?,
                int(10)?,
                int(11)?,
                int(12)?,
                int(13)?,
                int(14)?,
            ];
            rows.insert(row_key(&row), row);
        }
    }
    Ok(rows)
}

/// Writes the clocks of tickets created in `w` (history: just their creation), with nothing
/// read back: their settings come from the configuration snapshot, and they have no stored
/// clocks or firings yet. Without policies it costs one read.
pub(crate) async fn clocks_of_new_tickets(
    w: &mut Write,
    cache: &SlaCache,
    inputs: Vec<ClockInputs>,
) -> Result<HashMap<i64, NearestDue>, StoreError> {
    if inputs.is_empty() {
        return Ok(HashMap::new());
    }
    // The report rollup is read and written back below: take the log's lock before any row.
    w.lock_log().await?;
    settle_backlog(w, cache).await?;
    let config = cache.at(config_version(w).await?).await?;
    let plan = plan_new_tickets(&config, inputs, ts(w.now())?);
    write_plan(w, &config, plan, true).await
}

/// On SQLite, recomputes from their history the tickets whose derived rows (clocks, facts,
/// rollup) the ticket writer had left for later when it stopped (a crash), or has not written
/// yet while this writer, of another process, runs: every ticket from the database's
/// `derived_backlog` mark on. Every writer of derived rows calls it first; it costs one read
/// when there is no backlog.
pub(crate) async fn settle_backlog(w: &mut Write, cache: &SlaCache) -> Result<(), StoreError> {
    if w.backend() != Backend::Sqlite {
        return Ok(());
    }
    let first: Option<i64> =
        sqlx::query_scalar("SELECT first_ticket FROM derived_backlog WHERE id = 1")
            .fetch_optional(&mut *w.tx)
            .await?
            .flatten();
    let Some(first) = first else {
        return Ok(());
    };
    sqlx::query("UPDATE derived_backlog SET first_ticket = NULL WHERE id = 1")
        .execute(&mut *w.tx)
        .await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM tickets WHERE id >= $1 ORDER BY id")
        .bind(first)
        .fetch_all(&mut *w.tx)
        .await?;
    tracing::info!(
        tickets = ids.len(),
        first,
        "derived rows of new tickets recomputed"
    );
    recompute(w, cache, &ids, false).await?;
    Ok(())
}

/// Recomputes the cached clocks of `ids` inside `w` and writes what changed; answers each
/// ticket's nearest due instant.
pub(crate) async fn refresh_clocks(
    w: &mut Write,
    cache: &SlaCache,
    ids: &[i64],
) -> Result<HashMap<i64, NearestDue>, StoreError> {
    refresh(w, cache, ids, false).await
}

/// As [`refresh_clocks`] for tickets just imported with their history: every trigger already
/// due is settled now — a breach recorded (`sla.breached` at its instant), a level marked as
/// passed without acting — so the scheduler never notifies or re-routes over the past.
pub(crate) async fn settle_imported_clocks(
    w: &mut Write,
    cache: &SlaCache,
    ids: &[i64],
) -> Result<HashMap<i64, NearestDue>, StoreError> {
    refresh(w, cache, ids, true).await
}

async fn refresh(
    w: &mut Write,
    cache: &SlaCache,
    ids: &[i64],
    settle_past: bool,
) -> Result<HashMap<i64, NearestDue>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // The report rollup is read and written back below: take the log's lock before any row
    // (the recomputation and the facts backfill write no event before this).
    w.lock_log().await?;
    settle_backlog(w, cache).await?;
    recompute(w, cache, ids, settle_past).await
}

/// [`refresh`] once the backlog is settled.
async fn recompute(
    w: &mut Write,
    cache: &SlaCache,
    ids: &[i64],
    settle_past: bool,
) -> Result<HashMap<i64, NearestDue>, StoreError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let config = cache.at(config_version(w).await?).await?;
    if config.policies.is_empty() {
        // No policy, no clocks: clear what an earlier configuration left (usually nothing).
        for chunk in ids.chunks(CHUNK) {
            let mut sql = Sql::new("DELETE FROM ticket_clocks WHERE ticket_id IN ");
            sql.bind_list(chunk.iter().map(|id| Param::Int(*id)));
            sql.query().execute(&mut *w.tx).await?;
            let mut sql = Sql::new("UPDATE tickets SET sla_due_at = ");
            sql.bind(Param::Int(NO_DUE))
                .push(", sla_warn_at = NULL, sla_policy_id = NULL WHERE (sla_policy_id IS NOT NULL OR sla_warn_at IS NOT NULL) AND id IN ")
                .bind_list(chunk.iter().map(|id| Param::Int(*id)));
            sql.query().execute(&mut *w.tx).await?;
        }
        let inputs = load_inputs(&mut w.tx, ids).await?;
        let rows = inputs
            .iter()
            .filter_map(|i| {
                let (_, calendar) = config.calendar_for(i.org_calendar, i.team_calendar);
                fact_row(i, &[], &calendar)
            })
            .collect();
        write_facts(w, rows).await?;
        return Ok(ids.iter().map(|id| (*id, None)).collect());
    }
    let inputs = load_inputs(&mut w.tx, ids).await?;
    let fired = load_firings(&mut w.tx, ids).await?;
    let stored = load_rows(&mut w.tx, ids).await?;
    write_clocks(w, &config, &inputs, &fired, stored, settle_past).await
}

/// What recomputing some tickets' clocks changes, computed without I/O: the writers (the
/// transaction of [`write_clocks`], and the SQLite ticket writer) only store it.
#[derive(Debug, Default)]
pub(crate) struct ClockPlan {
    /// Clock rows that differ from what is stored.
    pub(crate) upserts: Vec<ClockRow>,
    /// Stored rows no longer computed: (ticket, metric, cycle).
    pub(crate) removed: Vec<(i64, String, i64)>,
    /// (ticket, nearest due, its warning instant, policy or 0) of tickets whose cached values change.
    pub(crate) tickets: Vec<(i64, i64, Option<i64>, i64)>,
    /// The report facts of every ticket planned.
    pub(crate) facts: Vec<crate::fact_rows::FactRow>,
    /// Triggers settled as history: (firing key, due instant).
    pub(crate) settled: Vec<(FiringKey, Timestamp)>,
    /// Each ticket's nearest due instant.
    pub(crate) due: HashMap<i64, NearestDue>,
}

impl ClockPlan {
    /// What each planned ticket's row caches: (nearest due, its warning instant, policy or 0),
    /// with no due and no policy for a ticket no policy applies to.
    pub(crate) fn ticket_columns(&self) -> impl Fn(i64) -> (i64, Option<i64>, i64) + '_ {
        let cached: HashMap<i64, (i64, Option<i64>, i64)> = self
            .tickets
            .iter()
            .map(|(id, due, warn, policy)| (*id, (*due, *warn, *policy)))
            .collect();
        move |id| cached.get(&id).copied().unwrap_or((NO_DUE, None, 0))
    }
}

/// The clocks of tickets just created (history: their creation alone), with their settings
/// from the configuration snapshot and nothing stored or fired yet.
pub(crate) fn plan_new_tickets(
    config: &SlaConfig,
    inputs: Vec<ClockInputs>,
    now: Timestamp,
) -> ClockPlan {
    if config.policies.is_empty() {
        // A new ticket's facts are its creation alone: business time does not enter yet.
        let calendar = Calendar::continuous();
        return ClockPlan {
            facts: inputs
                .iter()
                .filter_map(|i| fact_row(i, &[], &calendar))
                .collect(),
            due: inputs.iter().map(|i| (i.id, None)).collect(),
            ..ClockPlan::default()
        };
    }
    let inputs: Vec<ClockInputs> = inputs
        .into_iter()
        .map(|mut input| {
            input.team_calendar = config.team_calendars.get(&input.team_id).copied();
            if let Some((calendar, plan)) = input.org_id.and_then(|o| config.org_settings.get(&o)) {
                input.org_calendar = *calendar;
                input.plan = plan.clone();
            }
            input
        })
        .collect();
    plan_clocks(config, &inputs, &HashSet::new(), HashMap::new(), false, now)
}

/// Computes the clocks of `inputs` and what differs from `stored` (rows, ticket columns,
/// facts, triggers settled as history when `settle_past`).
fn plan_clocks(
    config: &SlaConfig,
    inputs: &[ClockInputs],
    fired: &HashSet<FiringKey>,
    mut stored: HashMap<(i64, String, i64), ClockRow>,
    settle_past: bool,
    now: Timestamp,
) -> ClockPlan {
    // Triggers settled as history: (firing key, due instant).
    let mut settled: Vec<(FiringKey, Timestamp)> = Vec::new();
    let mut due: HashMap<i64, NearestDue> = HashMap::new();
    let mut upserts: Vec<ClockRow> = Vec::new();
    // (ticket, nearest due, its warning instant, policy) of tickets whose cached values change.
    let mut tickets: Vec<(i64, i64, Option<i64>, i64)> = Vec::new();
    let mut facts: Vec<crate::fact_rows::FactRow> = Vec::with_capacity(inputs.len());
    for input in inputs {
        let (policy, _, calendar, clocks) = compute(config, input, now);
        facts.extend(fact_row(input, &clocks, &calendar));
        let mut nearest: Option<(Timestamp, Option<Timestamp>)> = None;
        if let Some(policy) = &policy {
            for clock in &clocks {
                let key = |t: Trigger| {
                    (
                        input.id,
                        policy.id,
                        clock.metric.as_str().to_owned(),
                        i64::from(clock.cycle),
                        t.key(),
                    )
                };
                let next = triggers(clock, policy, &calendar)
                    .into_iter()
                    .filter(|(t, _)| !fired.contains(&key(*t)))
                    .find(|(t, at)| {
                        if settle_past && *at <= now {
                            settled.push((key(*t), *at));
                            return false;
                        }
                        true
                    })
                    .map(|(_, at)| at);
                let warn = warning_at(clock, &calendar);
                if clock.is_active() {
                    if let Some(d) = clock.due {
                        if nearest.is_none_or(|(n, _)| d < n) {
                            nearest = Some((d, warn));
                        }
                    }
                }
                let row = clock_row(input.id, policy.id, clock, &calendar, warn, next);
                if stored.remove(&row_key(&row)).as_ref() != Some(&row) {
                    upserts.push(row);
                }
            }
        }
        // Vendor clocks: their breach is their only trigger; they leave the queue's due alone.
        for clock in vendor_clocks(config, input, now) {
            let Some(vendor) = clock.vendor_id else {
                continue;
            };
            let key = (
                input.id,
                vendor_key(vendor),
                clock.metric.as_str().to_owned(),
                i64::from(clock.cycle),
                Trigger::Breach.key(),
            );
            let next = clock
                .due
                .filter(|_| {
                    clock.is_active() || clock.state == opsdesk_domain::sla::ClockState::Breached
                })
                .filter(|_| !fired.contains(&key));
            let calendar = config
                .vendor(vendor)
                .map(|(_, c)| c.clone())
                .unwrap_or_else(Calendar::continuous);
            let row = clock_row(
                input.id,
                0,
                &clock,
                &calendar,
                warning_at(&clock, &calendar),
                next,
            );
            if stored.remove(&row_key(&row)).as_ref() != Some(&row) {
                upserts.push(row);
            }
        }
        let cached = (
            nearest.map_or(NO_DUE, |(d, _)| d.as_microsecond()),
            nearest.and_then(|(_, w)| w).map(|w| w.as_microsecond()),
            policy.as_ref().map_or(0, |p| p.id),
        );
        if (
            input.sla_due_at,
            input.sla_warn_at,
            input.sla_policy_id.unwrap_or(0),
        ) != cached
        {
            tickets.push((input.id, cached.0, cached.1, cached.2));
        }
        due.insert(input.id, nearest);
    }
    ClockPlan {
        upserts,
        // Rows no longer computed (a policy lost a metric, a cycle disappeared) go.
        removed: stored.into_keys().collect(),
        tickets,
        facts,
        settled,
        due,
    }
}

/// Computes the clocks of `inputs` and writes the rows and ticket columns that differ from
/// `stored`; answers each ticket's nearest due instant.
async fn write_clocks(
    w: &mut Write,
    config: &SlaConfig,
    inputs: &[ClockInputs],
    fired: &HashSet<FiringKey>,
    stored: HashMap<(i64, String, i64), ClockRow>,
    settle_past: bool,
) -> Result<HashMap<i64, NearestDue>, StoreError> {
    let plan = plan_clocks(config, inputs, fired, stored, settle_past, ts(w.now())?);
    write_plan(w, config, plan, false).await
}

/// Stores `plan` in `w`; `new_tickets` when its tickets were created in `w` (their facts are
/// then written without reading what is stored, as nothing is).
pub(crate) async fn write_plan(
    w: &mut Write,
    config: &SlaConfig,
    plan: ClockPlan,
    new_tickets: bool,
) -> Result<HashMap<i64, NearestDue>, StoreError> {
    let ClockPlan {
        upserts,
        removed,
        tickets,
        facts,
        settled,
        due,
    } = plan;
    for (ticket, metric, cycle) in removed {
        sqlx::query(
            "DELETE FROM ticket_clocks WHERE ticket_id = $1 AND metric = $2 AND cycle = $3",
        )
        .bind(ticket)
        .bind(metric)
        .bind(cycle)
        .execute(&mut *w.tx)
        .await?;
    }
    // One statement each for the batch's clock rows and due instants: the rows travel as one
    // JSON parameter, since binding many parameters costs SQLite time quadratic in their count.
    if !upserts.is_empty() {
        let rows: Vec<serde_json::Value> = upserts
            .iter()
            .map(|row| serde_json::Value::Array(row.iter().map(Param::json).collect()))
            .collect();
        let source = select_json_clocks(w.backend(), "$1");
        sqlx::query(&format!(
            "INSERT INTO ticket_clocks ({CLOCK_COLUMNS}) {source} \
             ON CONFLICT (ticket_id, metric, cycle) DO UPDATE SET policy_id = excluded.policy_id, \
             state = excluded.state, target_minutes = excluded.target_minutes, business = excluded.business, \
             started_at = excluded.started_at, stopped_at = excluded.stopped_at, due_at = excluded.due_at, \
             warn_at = excluded.warn_at, elapsed_secs = excluded.elapsed_secs, \
             paused_secs = excluded.paused_secs, next_at = excluded.next_at, vendor_id = excluded.vendor_id"
        ))
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(&mut *w.tx)
        .await?;
    }
    if !tickets.is_empty() {
        let rows: Vec<serde_json::Value> = tickets
            .iter()
            .map(|(id, due_at, warn_at, policy)| {
                serde_json::json!([id, due_at, warn_at, (*policy != 0).then_some(*policy)])
            })
            .collect();
        let statement = match w.backend() {
            Backend::Sqlite => {
                "UPDATE tickets SET sla_due_at = v.value ->> 1, sla_warn_at = v.value ->> 2, \
                 sla_policy_id = v.value ->> 3 FROM json_each($1) AS v WHERE tickets.id = v.value ->> 0"
            }
            Backend::Postgres => {
                "UPDATE tickets SET sla_due_at = (v ->> 1)::bigint, sla_warn_at = (v ->> 2)::bigint, \
                 sla_policy_id = (v ->> 3)::bigint FROM jsonb_array_elements($1::jsonb) AS v \
                 WHERE tickets.id = (v ->> 0)::bigint"
            }
        };
        sqlx::query(statement)
            .bind(serde_json::Value::Array(rows).to_string())
            .execute(&mut *w.tx)
            .await?;
    }
    if new_tickets {
        write_new_facts(w, facts).await?;
    } else {
        write_facts(w, facts).await?;
    }
    settle(w, &settled, config).await?;
    Ok(due)
}

/// Records triggers of imported history as fired: one `sla_firings` row each (so nothing fires
/// them again), and for each breach its `sla.breached` event at the breach instant.
async fn settle(
    w: &mut Write,
    settled: &[(FiringKey, Timestamp)],
    config: &SlaConfig,
) -> Result<(), StoreError> {
    for part in settled.chunks(100) {
        let mut sql = Sql::new(
            "INSERT INTO sla_firings (ticket_id, policy_id, metric, cycle, trigger_key, due_at, fired_at) VALUES ",
        );
        for (i, ((ticket, policy, metric, cycle, trigger), at)) in part.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_list([
                Param::Int(*ticket),
                Param::Int(*policy),
                Param::Text(metric.clone()),
                Param::Int(*cycle),
                Param::Int(*trigger),
                Param::Int(at.as_microsecond()),
                Param::Int(w.now()),
            ]);
        }
        sql.push(" ON CONFLICT DO NOTHING");
        sql.query().execute(&mut *w.tx).await?;
    }
    let events: Vec<NewEvent> = settled
        .iter()
        .filter(|((_, _, _, _, trigger), _)| *trigger == Trigger::Breach.key())
        .map(|((ticket, policy, metric, cycle, _), at)| {
            let name = config
                .policies
                .iter()
                .find(|p| p.id == *policy)
                .map(|p| p.name.clone())
                .unwrap_or_default();
            NewEvent {
                at: at.as_microsecond(),
                actor: None,
                subject_kind: "ticket",
                subject_id: *ticket,
                kind: "sla.breached",
                internal: false,
                data: serde_json::json!({
                    "metric": metric, "cycle": cycle, "policy": name, "policy_id": policy,
                    "due": at.to_string(), "at": at.to_string(), "imported": true,
                }),
            }
        })
        .collect();
    w.events(&events).await
}

impl Store {
    /// Recomputes every ticket's clocks and report facts from its row and its event log, as
    /// the background recomputation would at `now`, and names each stored clock row, cached
    /// due instant and fact row that differs; writes nothing. Empty when the write path left
    /// its derived data exact (the rollup has its own check, `report_rollup_differences`).
    pub async fn derived_differences(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        self.settle_derived().await?;
        let config = self.sla_config().await?;
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM tickets ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        let mut conn = self.read.acquire().await?;
        let mut differences = Vec::new();
        for chunk in ids.chunks(CHUNK) {
            let inputs = load_inputs(&mut conn, chunk).await?;
            let fired = load_firings(&mut conn, chunk).await?;
            let stored = load_rows(&mut conn, chunk).await?;
            let plan = plan_clocks(&config, &inputs, &fired, stored, false, now);
            for row in &plan.upserts {
                differences.push(format!(
                    "clock row {:?}: stored differs from {row:?}",
                    row_key(row)
                ));
            }
            for key in &plan.removed {
                differences.push(format!("clock row {key:?}: stored but not computed"));
            }
            for (id, due, warn, policy) in &plan.tickets {
                differences.push(format!(
                    "ticket {id}: cached due {due}, warning {warn:?}, policy {policy} when computed"
                ));
            }
            let mut stored_facts: HashMap<i64, crate::fact_rows::FactRow> =
                crate::report_facts::stored_facts(&mut conn, chunk)
                    .await?
                    .into_iter()
                    .map(|f| (f.ticket_id, f))
                    .collect();
            for fact in plan.facts {
                match stored_facts.remove(&fact.ticket_id) {
                    Some(stored) if stored == fact => {}
                    Some(stored) => differences.push(format!(
                        "facts of ticket {}: stored {stored:?}, computed {fact:?}",
                        fact.ticket_id
                    )),
                    None => {
                        differences.push(format!("facts of ticket {}: missing", fact.ticket_id))
                    }
                }
            }
        }
        Ok(differences)
    }

    /// The earliest trigger not yet fired, over every ticket (one index lookup).
    pub async fn next_sla_trigger(&self) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT MIN(next_at) FROM ticket_clocks WHERE next_at IS NOT NULL")
                .fetch_one(&self.read)
                .await?;
        at.map(ts).transpose()
    }

    /// How many clocks have a trigger (breach or level) still to fire.
    pub async fn pending_sla_triggers(&self) -> Result<i64, StoreError> {
        self.settle_derived().await?;
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM ticket_clocks WHERE next_at IS NOT NULL")
                .fetch_one(&self.read)
                .await?,
        )
    }

    /// Tickets with a trigger due at `now`, earliest first.
    pub async fn tickets_with_due_triggers(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT ticket_id FROM ticket_clocks WHERE next_at IS NOT NULL AND next_at <= $1 \
             GROUP BY ticket_id ORDER BY MIN(next_at) LIMIT $2",
        )
        .bind(now.as_microsecond())
        .bind(limit)
        .fetch_all(&self.read)
        .await?)
    }

    /// Active clocks whose next trigger falls before `until`, soonest first; then active clocks
    /// already past their due instant at `now`, most recent breach first. At most `limit` of each.
    pub async fn at_risk(
        &self,
        now: Timestamp,
        until: Timestamp,
        team_ids: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<AtRisk>, StoreError> {
        self.settle_derived().await?;
        if team_ids.is_some_and(<[i64]>::is_empty) {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for breached in [false, true] {
            let mut sql = Sql::new(
                "SELECT c.ticket_id, t.subject, t.team_id, tm.name, t.priority, c.metric, c.due_at, c.next_at, c.state, a.email \
                 FROM ticket_clocks c JOIN tickets t ON t.id = c.ticket_id JOIN teams tm ON tm.id = t.team_id \
                 LEFT JOIN users a ON a.id = t.assignee_id WHERE c.stopped_at IS NULL",
            );
            if breached {
                sql.push(" AND c.due_at <= ")
                    .bind(Param::Int(now.as_microsecond()));
            } else {
                sql.push(" AND (c.due_at IS NULL OR c.due_at > ")
                    .bind(Param::Int(now.as_microsecond()))
                    .push(") AND c.next_at <= ")
                    .bind(Param::Int(until.as_microsecond()));
            }
            if let Some(teams) = team_ids {
                sql.push(" AND t.team_id IN ")
                    .bind_list(teams.iter().map(|t| Param::Int(*t)));
            }
            if breached {
                sql.push(" ORDER BY c.due_at DESC, c.ticket_id LIMIT ");
            } else {
                sql.push(" ORDER BY c.next_at, c.ticket_id LIMIT ");
            }
            sql.bind(Param::Int(limit));
            for row in sql.query().fetch_all(&self.read).await? {
                let metric: String = row.try_get(5)?;
                let due: Option<i64> = row.try_get(6)?;
                let next: Option<i64> = row.try_get(7)?;
                found.push(AtRisk {
                    ticket_id: row.try_get(0)?,
                    subject: row.try_get(1)?,
                    team_id: row.try_get(2)?,
                    team_name: row.try_get(3)?,
                    priority: Priority::from_rank(row.try_get(4)?).map_err(corrupt)?,
                    metric: Metric::parse("metric", &metric).map_err(corrupt)?,
                    due_at: due.map(ts).transpose()?,
                    next_at: next.map(ts).transpose()?,
                    state: if breached {
                        "breached".to_owned()
                    } else {
                        row.try_get(8)?
                    },
                    assignee: row.try_get(9)?,
                });
            }
        }
        Ok(found)
    }

    /// Recent recomputation jobs, newest first.
    pub async fn sla_jobs(&self, limit: i64) -> Result<Vec<SlaJob>, StoreError> {
        let rows = sqlx::query("SELECT id, reason, total, done, created_at, finished_at FROM sla_jobs ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| {
                let finished: Option<i64> = row.try_get(5)?;
                Ok(SlaJob {
                    id: row.try_get(0)?,
                    reason: row.try_get(1)?,
                    total: row.try_get(2)?,
                    done: row.try_get(3)?,
                    created_at: ts(row.try_get(4)?)?,
                    finished_at: finished.map(ts).transpose()?,
                })
            })
            .collect()
    }

    /// Runs one step (up to `batch` open tickets, one transaction) of the newest unfinished
    /// recomputation; older unfinished jobs are superseded by it. `None` when nothing is queued.
    pub async fn run_sla_job_step(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<Option<SlaJob>, StoreError> {
        let mut w = self.write(None, now).await?;
        let newest: Option<(i64, i64)> = sqlx::query("SELECT id, after_ticket FROM sla_jobs WHERE finished_at IS NULL ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *w.tx)
            .await?
            .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
            .transpose()?;
        let Some((job, after)) = newest else {
            return Ok(None);
        };
        sqlx::query("UPDATE sla_jobs SET finished_at = $1 WHERE finished_at IS NULL AND id < $2")
            .bind(w.now())
            .bind(job)
            .execute(&mut *w.tx)
            .await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            // `status || ''` keeps both planners off the status index, which would read every
            // active ticket and sort them; walking the primary key from the cursor reads a batch.
            "SELECT id FROM tickets WHERE id > $1 AND (status || '') IN ('new', 'open', 'pending') ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(batch)
        .fetch_all(&mut *w.tx)
        .await?;
        match ids.last() {
            Some(&last) => {
                refresh_clocks(&mut w, &self.sla, &ids).await?;
                sqlx::query(
                    "UPDATE sla_jobs SET done = done + $1, after_ticket = $2 WHERE id = $3",
                )
                .bind(ids.len() as i64)
                .bind(last)
                .bind(job)
                .execute(&mut *w.tx)
                .await?;
            }
            None => {
                sqlx::query("UPDATE sla_jobs SET finished_at = $1, total = done WHERE id = $2")
                    .bind(w.now())
                    .bind(job)
                    .execute(&mut *w.tx)
                    .await?;
            }
        }
        w.commit().await?;
        self.sla_jobs(1).await.map(|mut jobs| jobs.pop())
    }
}
