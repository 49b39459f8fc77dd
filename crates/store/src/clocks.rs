//! SLA clocks per ticket: their facts read from the event log, the cached clock rows every
//! ticket write refreshes in its own transaction, and what the scheduler and the pages read.
//!
//! The rows in `ticket_clocks` and `tickets.sla_due_at` are a cache of
//! `sla::compute_clocks(events, policy, calendar)`; [`refresh_clocks`] rewrites them whole.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jiff::Timestamp;
use opsdesk_domain::calendar::Calendar;
use opsdesk_domain::sla::{
    compute_clocks, explain, select_policy, triggers, warning_at, Clock, Fact, Happening, Metric,
    Policy, TicketFacts,
};
use opsdesk_domain::{PendingReason, Priority, Role, Status};
use serde_json::Value;
use sqlx::{AnyConnection, Row};

use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::sla_config::{config_version, SlaCache, SlaConfig};
use crate::sql::{Param, Sql};
use crate::{Store, StoreError};

/// Stored `sla_due_at` when no clock runs: sorts after every real instant.
pub(crate) const NO_DUE: i64 = i64::MAX;

/// How many tickets one statement reads or writes (bind-parameter costs grow with the square
/// of the count on SQLite).
const CHUNK: usize = 100;

/// What a ticket's clocks are computed from.
#[derive(Debug, Clone)]
pub(crate) struct ClockInputs {
    pub(crate) id: i64,
    pub(crate) subject: String,
    pub(crate) priority: Priority,
    pub(crate) team_id: i64,
    pub(crate) org_id: Option<i64>,
    pub(crate) plan: Option<String>,
    pub(crate) channel: String,
    pub(crate) category: Option<String>,
    pub(crate) team_calendar: Option<i64>,
    pub(crate) org_calendar: Option<i64>,
    pub(crate) assignee_id: Option<i64>,
    pub(crate) team_name: String,
    pub(crate) org_name: Option<String>,
    pub(crate) tags: Vec<String>,
    pub(crate) facts: Vec<Fact>,
}

impl ClockInputs {
    fn ticket_facts(&self) -> TicketFacts<'_> {
        TicketFacts {
            priority: self.priority,
            team_id: self.team_id,
            org_id: self.org_id,
            plan: self.plan.as_deref(),
            tags: &self.tags,
            channel: &self.channel,
            category: self.category.as_deref(),
        }
    }
}

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
             tm.calendar_id, o.calendar_id, t.assignee_id, t.status, t.resolved_at, t.updated_at, tm.name, o.name \
             FROM tickets t JOIN teams tm ON tm.id = t.team_id LEFT JOIN orgs o ON o.id = t.org_id WHERE t.id IN ",
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
                tags: Vec::new(),
                facts: Vec::new(),
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
             WHERE e.subject_kind = 'ticket' AND e.kind IN ('ticket.created', 'ticket.imported', 'ticket.updated', 'message.added') \
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
            let data: Value = serde_json::from_str(&data)
                .map_err(|e| StoreError::Corrupt(format!("event data: {e}")))?;
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
                    if let Some(&(status, since)) =
                        imported_status.get(&id).filter(|(s, _)| *s != Status::New)
                    {
                        facts.push(Fact {
                            at: since.max(at),
                            what: Happening::Status(status, None),
                        });
                    }
                }
                "ticket.updated" => {
                    if let Some(status) = data["after"]["status"].as_str() {
                        let reason = match data["after"]["pending_reason"].as_str() {
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
                    } else if let Some(r) = data["after"]["pending_reason"].as_str() {
                        // The reason changed while the ticket stayed pending.
                        let reason = PendingReason::parse("pending_reason", r).map_err(corrupt)?;
                        facts.push(Fact {
                            at,
                            what: Happening::Status(Status::Pending, Some(reason)),
                        });
                    }
                }
                "message.added" if data["internal"].as_bool() == Some(false) => {
                    let by_customer = role.as_deref() == Some(Role::Customer.as_str());
                    facts.push(Fact {
                        at,
                        what: Happening::Reply { by_customer },
                    });
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// (ticket, policy, metric, cycle, trigger) of every firing of `ids`.
type FiringKey = (i64, i64, String, i64, i64);

async fn load_firings(
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

/// Recomputes and rewrites the cached clocks of `ids` inside `w`; answers each ticket's
/// nearest due instant.
pub(crate) async fn refresh_clocks(
    w: &mut Write,
    cache: &SlaCache,
    ids: &[i64],
) -> Result<HashMap<i64, NearestDue>, StoreError> {
    let mut due: HashMap<i64, NearestDue> = HashMap::new();
    if ids.is_empty() {
        return Ok(due);
    }
    let config = cache.at(config_version(w).await?).await?;
    let now = ts(w.now())?;
    let (inputs, fired) = if config.policies.is_empty() {
        (Vec::new(), HashSet::new())
    } else {
        let inputs = load_inputs(&mut w.tx, ids).await?;
        let fired = load_firings(&mut w.tx, ids).await?;
        (inputs, fired)
    };
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new("DELETE FROM ticket_clocks WHERE ticket_id IN ");
        sql.bind_list(chunk.iter().map(|id| Param::Int(*id)));
        sql.query().execute(&mut *w.tx).await?;
    }
    let mut rows: Vec<[Param; 14]> = Vec::new();
    // (ticket, nearest due, its warning instant, policy)
    let mut tickets: Vec<(i64, i64, Option<i64>, i64)> =
        ids.iter().map(|id| (*id, NO_DUE, None, 0)).collect();
    for (n, input) in inputs.iter().enumerate() {
        let (policy, _, calendar, clocks) = compute(&config, input, now);
        let Some(policy) = policy else { continue };
        let mut nearest: Option<(Timestamp, Option<Timestamp>)> = None;
        for clock in &clocks {
            let next = triggers(clock, &policy, &calendar)
                .into_iter()
                .find(|(t, _)| {
                    !fired.contains(&(
                        input.id,
                        policy.id,
                        clock.metric.as_str().to_owned(),
                        i64::from(clock.cycle),
                        t.key(),
                    ))
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
            let opt =
                |t: Option<Timestamp>| t.map_or(Param::Null, |t| Param::Int(t.as_microsecond()));
            rows.push([
                Param::Int(input.id),
                Param::Text(clock.metric.as_str().to_owned()),
                Param::Int(i64::from(clock.cycle)),
                Param::Int(policy.id),
                Param::Text(clock.state.as_str().to_owned()),
                Param::Int(clock.target.minutes()),
                Param::Int(i64::from(clock.target.business())),
                Param::Int(clock.started_at.as_microsecond()),
                opt(clock.stopped_at),
                opt(clock.due),
                opt(warn),
                Param::Int(clock.elapsed.as_secs()),
                Param::Int(clock.paused_for(now).as_secs()),
                opt(next),
            ]);
        }
        if let Some(slot) = tickets.iter_mut().find(|t| t.0 == input.id) {
            slot.1 = nearest.map_or(NO_DUE, |(d, _)| d.as_microsecond());
            slot.2 = nearest.and_then(|(_, w)| w).map(|w| w.as_microsecond());
            slot.3 = policy.id;
        }
        due.insert(inputs[n].id, nearest);
    }
    for chunk in rows.chunks(CHUNK / 2) {
        let mut sql = Sql::new(
            "INSERT INTO ticket_clocks (ticket_id, metric, cycle, policy_id, state, target_minutes, business, \
             started_at, stopped_at, due_at, warn_at, elapsed_secs, paused_secs, next_at) VALUES ",
        );
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_list(row.iter().cloned());
        }
        sql.query().execute(&mut *w.tx).await?;
    }
    for chunk in tickets.chunks(CHUNK) {
        let mut sql = Sql::new(
            "UPDATE tickets SET sla_due_at = v.column2, sla_warn_at = NULLIF(v.column3, 0), \
             sla_policy_id = NULLIF(v.column4, 0) FROM (VALUES ",
        );
        for (i, (id, due_at, warn_at, policy)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_list([
                Param::Int(*id),
                Param::Int(*due_at),
                Param::Int(warn_at.unwrap_or(0)),
                Param::Int(*policy),
            ]);
        }
        sql.push(") AS v WHERE tickets.id = v.column1");
        sql.query().execute(&mut *w.tx).await?;
    }
    Ok(due)
}

impl Store {
    /// The clocks of one ticket as of `now`, computed from its history (not from the cache).
    pub async fn ticket_sla(
        &self,
        ticket_id: i64,
        now: Timestamp,
    ) -> Result<TicketSla, StoreError> {
        let config = self.sla_config().await?;
        let mut conn = self.read.acquire().await?;
        let inputs = load_inputs(&mut conn, &[ticket_id])
            .await?
            .pop()
            .ok_or(StoreError::NotFound("ticket"))?;
        drop(conn);
        let (policy, calendar_id, calendar, clocks) = compute(&config, &inputs, now);
        let calendar_source = match calendar_id {
            Some(id) if Some(id) == inputs.org_calendar => "organisation",
            Some(id) if Some(id) == inputs.team_calendar => "team",
            Some(_) => "default",
            None => "none",
        };
        Ok(TicketSla {
            calendar: calendar_id.map(|id| {
                (
                    id,
                    config.calendar_names.get(&id).cloned().unwrap_or_default(),
                )
            }),
            calendar_source,
            clocks: clocks
                .into_iter()
                .map(|clock| ClockView {
                    warn_at: warning_at(&clock, &calendar),
                    explanation: explain(&clock, &calendar, now),
                    clock,
                })
                .collect(),
            calendar_rules: calendar,
            policy,
        })
    }

    /// Every step of the computation for one ticket, in lines for `opsdesk sla explain`.
    pub async fn sla_explain(
        &self,
        ticket_id: i64,
        now: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        let config = self.sla_config().await?;
        let mut conn = self.read.acquire().await?;
        let inputs = load_inputs(&mut conn, &[ticket_id])
            .await?
            .pop()
            .ok_or(StoreError::NotFound("ticket"))?;
        let fired = load_firings(&mut conn, &[ticket_id]).await?;
        drop(conn);
        let mut lines = vec![format!(
            "Ticket #{} '{}': priority {}, team {}, organisation {}, plan {}, channel {}, category {}, tags [{}]",
            inputs.id,
            inputs.subject,
            inputs.priority.as_str(),
            inputs.team_name,
            inputs.org_name.as_deref().unwrap_or("none"),
            inputs.plan.as_deref().unwrap_or("none"),
            inputs.channel,
            inputs.category.as_deref().unwrap_or("none"),
            inputs.tags.join(", ")
        )];
        lines.push(String::new());
        lines.push("Policies, in order:".into());
        let facts = inputs.ticket_facts();
        let mut chosen = false;
        for (i, p) in config.policies.iter().enumerate() {
            let verdict = if chosen {
                "not considered (an earlier policy applies)"
            } else if p.conditions.matches(&facts) {
                chosen = true;
                "MATCHES: applies"
            } else {
                "does not match"
            };
            lines.push(format!("  {}. '{}': {verdict}", i + 1, p.name));
        }
        if !chosen {
            lines.push("  No policy matches: the ticket has no SLA clocks.".into());
        }
        let (policy, calendar_id, calendar, clocks) = compute(&config, &inputs, now);
        lines.push(String::new());
        let source = match calendar_id {
            Some(id) if Some(id) == inputs.org_calendar => "the organisation's calendar",
            Some(id) if Some(id) == inputs.team_calendar => "the team's calendar",
            Some(_) => "the default calendar",
            None => "no stored calendar",
        };
        lines.push(format!(
            "Calendar: '{}' ({source}): {}",
            calendar_id
                .and_then(|id| config.calendar_names.get(&id).cloned())
                .unwrap_or_else(|| "around the clock".into()),
            calendar.summary()
        ));
        lines.push(String::new());
        lines.push("History the clocks read:".into());
        for fact in &inputs.facts {
            let what = match fact.what {
                Happening::Created => "created".to_owned(),
                Happening::Status(s, r) => match r {
                    Some(r) => format!("status {} ({})", s.as_str(), r.label()),
                    None => format!("status {}", s.as_str()),
                },
                Happening::Reply { by_customer: true } => "public reply by the customer".to_owned(),
                Happening::Reply { by_customer: false } => "public reply by the desk".to_owned(),
            };
            lines.push(format!(
                "  {}  {what}",
                fact.at.strftime("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        if let Some(policy) = &policy {
            lines.push(String::new());
            lines.push(format!(
                "Clocks as of {}:",
                now.strftime("%Y-%m-%d %H:%M:%S UTC")
            ));
            for clock in &clocks {
                lines.push(format!(
                    "  [{} cycle {}] {} — {}",
                    clock.metric.as_str(),
                    clock.cycle,
                    clock.state.as_str(),
                    explain(clock, &calendar, now)
                ));
                for (trigger, at) in triggers(clock, policy, &calendar) {
                    let key = (
                        inputs.id,
                        policy.id,
                        clock.metric.as_str().to_owned(),
                        i64::from(clock.cycle),
                        trigger.key(),
                    );
                    let name = match trigger {
                        opsdesk_domain::sla::Trigger::Breach => "breach".to_owned(),
                        opsdesk_domain::sla::Trigger::Level(i) => format!("level {}", i + 1),
                    };
                    let state = if fired.contains(&key) {
                        "fired"
                    } else if at <= now {
                        "due now"
                    } else {
                        "pending"
                    };
                    lines.push(format!(
                        "      {name} at {} ({state})",
                        at.strftime("%Y-%m-%d %H:%M:%S UTC")
                    ));
                }
            }
        }
        Ok(lines)
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

    /// Clocks whose next trigger falls before `until`, soonest first; then active clocks already
    /// breached, most recent breach first. At most `limit` of each.
    pub async fn at_risk(
        &self,
        until: Timestamp,
        team_ids: Option<&[i64]>,
        limit: i64,
    ) -> Result<Vec<AtRisk>, StoreError> {
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
                sql.push(" AND c.state = 'breached'");
            } else {
                sql.push(" AND c.state <> 'breached' AND c.next_at IS NOT NULL AND c.next_at <= ")
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
                    state: row.try_get(8)?,
                    assignee: row.try_get(9)?,
                });
            }
        }
        Ok(found)
    }

    /// Recomputes the cached clocks of `ids` now, in one transaction.
    pub async fn refresh_sla(&self, ids: &[i64], now: Timestamp) -> Result<(), StoreError> {
        let mut w = self.write(None, now).await?;
        refresh_clocks(&mut w, &self.sla, ids).await?;
        w.commit().await
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
            "SELECT id FROM tickets WHERE id > $1 AND status IN ('new', 'open', 'pending') ORDER BY id LIMIT $2",
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
