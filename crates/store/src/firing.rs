//! Firing SLA triggers: a breach is recorded and an escalation level acts, each exactly once per
//! ticket, policy, metric and clock cycle (the `sla_firings` primary key decides, so two
//! schedulers or a restart cannot fire twice). Also the in-app notifications and the outbox the
//! actions write to.

use jiff::Timestamp;
use opsdesk_domain::sla::{triggers, ClockState, LevelAction, Trigger};
use opsdesk_domain::{Priority, Role};
use serde_json::{json, Value};
use sqlx::Row;

use crate::clock_inputs::ClockInputs;
use crate::clocks::{compute, load_inputs, refresh_clocks, vendor_clocks, vendor_key};
use crate::events::Write;
use crate::model::ts;
use crate::sla_config::config_version;
use crate::{Store, StoreError};

/// One in-app notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Id.
    pub id: i64,
    /// The ticket it is about.
    pub ticket_id: Option<i64>,
    /// What happened, in a sentence.
    pub text: String,
    /// When.
    pub created_at: Timestamp,
    /// Whether the user has seen it.
    pub read: bool,
}

/// One message in the outbox and its delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// Id.
    pub id: i64,
    /// "webhook" (mail arrives with the mail transport).
    pub kind: String,
    /// Where it goes (a URL).
    pub target: String,
    /// The JSON body.
    pub payload: String,
    /// Delivery attempts so far.
    pub attempts: i64,
    /// Delivered at, once delivered.
    pub delivered_at: Option<Timestamp>,
    /// The last failure, if any.
    pub last_error: Option<String>,
    /// Queued at.
    pub created_at: Timestamp,
}

/// The longest an outbox item waits between attempts.
const MAX_BACKOFF_SECS: i64 = 3600;
/// Attempts after which an item is given up (and stays visible with its error).
pub const MAX_ATTEMPTS: i64 = 12;

impl Store {
    /// Fires every due trigger of one ticket in one transaction; answers how many fired.
    pub async fn fire_sla_triggers(
        &self,
        ticket_id: i64,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let mut w = self.write(None, now).await?;
        let config = self.sla.at(config_version(&mut w).await?).await?;
        let Some(inputs) = load_inputs(&mut w.tx, &[ticket_id]).await?.pop() else {
            return Ok(0);
        };
        let (policy, _, calendar, clocks) = compute(&config, &inputs, now);
        let mut fired = 0;
        if let Some(policy) = &policy {
            for clock in &clocks {
                for (trigger, at) in triggers(clock, policy, &calendar) {
                    if at > now {
                        break;
                    }
                    let claimed = sqlx::query(
                        "INSERT INTO sla_firings (ticket_id, policy_id, metric, cycle, trigger_key, due_at, fired_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                    )
                    .bind(ticket_id)
                    .bind(policy.id)
                    .bind(clock.metric.as_str())
                    .bind(i64::from(clock.cycle))
                    .bind(trigger.key())
                    .bind(at.as_microsecond())
                    .bind(w.now())
                    .execute(&mut *w.tx)
                    .await?
                    .rows_affected();
                    if claimed == 0 {
                        continue;
                    }
                    fired += 1;
                    let base = json!({
                        "metric": clock.metric.as_str(), "cycle": clock.cycle, "policy": policy.name,
                        "policy_id": policy.id, "due": clock.due.map(|d| d.to_string()), "at": at.to_string(),
                    });
                    match trigger {
                        Trigger::Breach => {
                            w.event("ticket", ticket_id, "sla.breached", false, base)
                                .await?;
                        }
                        Trigger::Level(i) => {
                            let Some(level) = policy.levels.get(usize::from(i)) else {
                                continue;
                            };
                            let mut outcomes = Vec::new();
                            for action in &level.actions {
                                outcomes.push(apply(&mut w, &inputs, action, &format!(
                                    "{} of #{} '{}' reached SLA level {} ({}) of policy '{}'",
                                    clock.metric.label(), inputs.id, inputs.subject, i + 1, level.at, policy.name
                                ), &base).await?);
                            }
                            let mut data = base;
                            data["level"] = json!(i + 1);
                            data["point"] = json!(level.at.to_string());
                            data["actions"] = Value::Array(outcomes);
                            w.event("ticket", ticket_id, "sla.escalated", false, data)
                                .await?;
                        }
                    }
                }
            }
        }
        for clock in vendor_clocks(&config, &inputs, now) {
            let (Some(vendor), Some(due)) = (clock.vendor_id, clock.due) else {
                continue;
            };
            let breached = clock.is_active() || clock.state == ClockState::Breached;
            if !breached || due > now {
                continue;
            }
            let claimed = sqlx::query(
                "INSERT INTO sla_firings (ticket_id, policy_id, metric, cycle, trigger_key, due_at, fired_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(ticket_id)
            .bind(vendor_key(vendor))
            .bind(clock.metric.as_str())
            .bind(i64::from(clock.cycle))
            .bind(Trigger::Breach.key())
            .bind(due.as_microsecond())
            .bind(w.now())
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
            if claimed == 1 {
                fired += 1;
                let name = config
                    .vendor(vendor)
                    .map(|(t, _)| t.name.clone())
                    .unwrap_or_default();
                w.event(
                    "ticket",
                    ticket_id,
                    "sla.vendor_breached",
                    false,
                    json!({
                        "metric": clock.metric.as_str(), "cycle": clock.cycle, "vendor": name,
                        "vendor_id": vendor, "due": due.to_string(), "at": due.to_string(),
                    }),
                )
                .await?;
            }
        }
        refresh_clocks(&mut w, &self.sla, &[ticket_id]).await?;
        w.commit().await?;
        Ok(fired)
    }

    /// Fires every trigger due at `now`, up to `limit` tickets; answers how many fired.
    pub async fn fire_due_sla_triggers(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<usize, StoreError> {
        let mut fired = 0;
        for id in self.tickets_with_due_triggers(now, limit).await? {
            fired += self.fire_sla_triggers(id, now).await?;
        }
        Ok(fired)
    }

    /// A user's notifications, newest first.
    pub async fn notifications(
        &self,
        user_id: i64,
        limit: i64,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, ticket_id, text, created_at, read_at FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let read: Option<i64> = row.try_get(4)?;
                Ok(Notification {
                    id: row.try_get(0)?,
                    ticket_id: row.try_get(1)?,
                    text: row.try_get(2)?,
                    created_at: ts(row.try_get(3)?)?,
                    read: read.is_some(),
                })
            })
            .collect()
    }

    /// Marks all of a user's notifications read.
    pub async fn mark_notifications_read(
        &self,
        user_id: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(Some(user_id), now).await?;
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(w.now())
            .bind(user_id)
            .execute(&mut *w.tx)
            .await?;
        w.commit().await
    }

    /// Claims the outbox items due for a delivery attempt at `now`: each is held for `hold`
    /// (pushed out of everyone else's reach by a compare-and-set), so two deliverers never send
    /// the same item, and one that crashed mid-send is retried once the hold ends.
    pub async fn claim_outbox(
        &self,
        now: Timestamp,
        hold: jiff::SignedDuration,
        limit: i64,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query(&format!(
            "{OUTBOX_SELECT}, next_attempt_at FROM outbox WHERE delivered_at IS NULL AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
        ))
        .bind(now.as_microsecond())
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        let until = now
            .as_microsecond()
            .saturating_add(hold.as_secs().saturating_mul(1_000_000));
        let mut claimed = Vec::new();
        for row in &rows {
            let item = outbox_from_row(row)?;
            let seen: i64 = row.try_get(8)?;
            let won = sqlx::query("UPDATE outbox SET next_attempt_at = $1 WHERE id = $2 AND delivered_at IS NULL AND next_attempt_at = $3")
                .bind(until)
                .bind(item.id)
                .bind(seen)
                .execute(&self.write)
                .await?
                .rows_affected();
            if won == 1 {
                claimed.push(item);
            }
        }
        Ok(claimed)
    }

    /// The newest outbox items, for the admin page.
    pub async fn outbox_recent(&self, limit: i64) -> Result<Vec<OutboxItem>, StoreError> {
        let rows = sqlx::query(&format!(
            "{OUTBOX_SELECT} FROM outbox ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(outbox_from_row).collect()
    }

    /// Records the outcomes of several delivery attempts in one transaction: delivered, or
    /// the error and the next attempt (exponential backoff, up to `MAX_ATTEMPTS`).
    pub async fn record_deliveries(
        &self,
        outcomes: Vec<(i64, Result<(), String>)>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut w = self.write(None, now).await?;
        for (id, outcome) in outcomes {
            match outcome {
                Ok(()) => {
                    sqlx::query("UPDATE outbox SET attempts = attempts + 1, delivered_at = $1, next_attempt_at = NULL, last_error = NULL WHERE id = $2")
                        .bind(w.now())
                        .bind(id)
                        .execute(&mut *w.tx)
                        .await?;
                }
                Err(error) => {
                    let attempts: i64 =
                        sqlx::query_scalar("SELECT attempts FROM outbox WHERE id = $1")
                            .bind(id)
                            .fetch_one(&mut *w.tx)
                            .await?;
                    let next = if attempts + 1 >= MAX_ATTEMPTS {
                        None
                    } else {
                        let backoff = (10_i64 << attempts.min(12)).min(MAX_BACKOFF_SECS);
                        Some(w.now() + backoff * 1_000_000)
                    };
                    sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3")
                        .bind(next)
                        .bind(error)
                        .bind(id)
                        .execute(&mut *w.tx)
                        .await?;
                }
            }
        }
        w.commit().await
    }
}

const OUTBOX_SELECT: &str =
    "SELECT id, kind, target, payload, attempts, delivered_at, last_error, created_at";

fn outbox_from_row(row: &sqlx::any::AnyRow) -> Result<OutboxItem, StoreError> {
    let delivered: Option<i64> = row.try_get(5)?;
    Ok(OutboxItem {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        target: row.try_get(2)?,
        payload: row.try_get(3)?,
        attempts: row.try_get(4)?,
        delivered_at: delivered.map(ts).transpose()?,
        last_error: row.try_get(6)?,
        created_at: ts(row.try_get(7)?)?,
    })
}

/// Queues a webhook call in the outbox inside `w`.
pub(crate) async fn queue_webhook(
    w: &mut Write,
    url: &str,
    payload: &Value,
) -> Result<(), StoreError> {
    queue_delivery(w, "webhook", url, payload).await
}

/// Queues one outbox item of `kind` for `target`, delivered after `w` commits.
pub(crate) async fn queue_delivery(
    w: &mut Write,
    kind: &str,
    target: &str,
    payload: &Value,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO outbox (kind, target, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(kind)
        .bind(target)
        .bind(payload.to_string())
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?;
    Ok(())
}

async fn notify(
    w: &mut Write,
    users: &[i64],
    ticket_id: i64,
    text: &str,
) -> Result<(), StoreError> {
    for user in users {
        sqlx::query("INSERT INTO notifications (user_id, ticket_id, text, created_at) VALUES ($1, $2, $3, $4)")
            .bind(user)
            .bind(ticket_id)
            .bind(text)
            .bind(w.now())
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

async fn team_members(
    w: &mut Write,
    team_id: i64,
    managers_only: bool,
) -> Result<Vec<i64>, StoreError> {
    let mut sql = String::from(
        "SELECT u.id FROM team_members m JOIN users u ON u.id = m.user_id WHERE m.team_id = $1 AND u.active = 1",
    );
    if managers_only {
        sql.push_str(" AND u.role = 'manager'");
    }
    let mut ids: Vec<i64> = sqlx::query_scalar(&sql)
        .bind(team_id)
        .fetch_all(&mut *w.tx)
        .await?;
    if managers_only && ids.is_empty() {
        // No manager belongs to the team: every manager of the desk hears of it.
        ids = sqlx::query_scalar("SELECT id FROM users WHERE role = $1 AND active = 1")
            .bind(Role::Manager.as_str())
            .fetch_all(&mut *w.tx)
            .await?;
    }
    Ok(ids)
}

/// Carries out one action of a level inside `w`; answers what it did, for the timeline.
async fn apply(
    w: &mut Write,
    ticket: &ClockInputs,
    action: &LevelAction,
    text: &str,
    base: &Value,
) -> Result<Value, StoreError> {
    let id = ticket.id;
    let outcome = match action {
        LevelAction::NotifyAssignee => {
            let users: Vec<i64> = ticket.assignee_id.into_iter().collect();
            notify(w, &users, id, text).await?;
            json!({"notified": users.len(), "who": "assignee"})
        }
        LevelAction::NotifyTeam | LevelAction::NotifyTeamManagers => {
            let managers = matches!(action, LevelAction::NotifyTeamManagers);
            let users = team_members(w, ticket.team_id, managers).await?;
            notify(w, &users, id, text).await?;
            json!({"notified": users.len(), "who": if managers { "team managers" } else { "team" }})
        }
        LevelAction::NotifyUser(user) => {
            notify(w, &[*user], id, text).await?;
            json!({"notified": 1, "who": format!("user {user}")})
        }
        LevelAction::RaisePriority => {
            let current: i64 = sqlx::query_scalar("SELECT priority FROM tickets WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *w.tx)
                .await?;
            let raised = (current - 1).max(1);
            if raised != current {
                sqlx::query("UPDATE tickets SET priority = $1, updated_at = $2 WHERE id = $3")
                    .bind(raised)
                    .bind(w.now())
                    .bind(id)
                    .execute(&mut *w.tx)
                    .await?;
                let name = |r: i64| Priority::from_rank(r).map(Priority::as_str).unwrap_or("?");
                w.event("ticket", id, "ticket.updated", false, json!({"before": {"priority": name(current)}, "after": {"priority": name(raised)}, "by": "sla"})).await?;
            }
            json!({"priority_raised": raised != current})
        }
        LevelAction::MoveToTeam(team) => move_to_team(w, ticket, Some(*team), false).await?,
        LevelAction::EscalateTier => {
            let target: Option<i64> =
                sqlx::query_scalar("SELECT escalates_to FROM teams WHERE id = $1")
                    .bind(ticket.team_id)
                    .fetch_one(&mut *w.tx)
                    .await?;
            move_to_team(w, ticket, target, true).await?
        }
        LevelAction::AddTag(tag) => {
            let added = sqlx::query(
                "INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(tag.as_str())
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
            if added > 0 {
                w.event(
                    "ticket",
                    id,
                    "ticket.updated",
                    false,
                    json!({"after": {"tag_added": tag.as_str()}, "by": "sla"}),
                )
                .await?;
            }
            json!({"tag": tag.as_str(), "added": added > 0})
        }
        LevelAction::Webhook(url) => {
            let mut payload = base.clone();
            payload["event"] = json!("sla.escalated");
            payload["ticket"] = json!({"id": id, "subject": ticket.subject, "team_id": ticket.team_id, "priority": ticket.priority.as_str()});
            payload["text"] = json!(text);
            queue_webhook(w, url.as_str(), &payload).await?;
            json!({"webhook": url.as_str(), "queued": true})
        }
    };
    let mut outcome = outcome;
    outcome["action"] = json!(action.kind());
    Ok(outcome)
}

async fn move_to_team(
    w: &mut Write,
    ticket: &ClockInputs,
    target: Option<i64>,
    escalation: bool,
) -> Result<Value, StoreError> {
    let Some(target) = target.filter(|t| *t != ticket.team_id) else {
        return Ok(json!({"moved": false, "why": "no team to move to"}));
    };
    let row = sqlx::query("SELECT name, tier FROM teams WHERE id = $1")
        .bind(target)
        .fetch_optional(&mut *w.tx)
        .await?;
    let Some(row) = row else {
        return Ok(json!({"moved": false, "why": format!("team {target} no longer exists")}));
    };
    let name: String = row.try_get(0)?;
    let tier: i64 = row.try_get(1)?;
    let from: (String, i64) = sqlx::query(
        "SELECT tm.name, t.tier FROM tickets t JOIN teams tm ON tm.id = t.team_id WHERE t.id = $1",
    )
    .bind(ticket.id)
    .fetch_one(&mut *w.tx)
    .await
    .and_then(|r| Ok((r.try_get(0)?, r.try_get(1)?)))?;
    sqlx::query("UPDATE tickets SET team_id = $1, tier = $2, assignee_id = NULL, updated_at = $3 WHERE id = $4")
        .bind(target)
        .bind(tier)
        .bind(w.now())
        .bind(ticket.id)
        .execute(&mut *w.tx)
        .await?;
    let kind = if escalation {
        "ticket.escalated"
    } else {
        "ticket.updated"
    };
    w.event("ticket", ticket.id, kind, false, json!({
        "before": {"team": from.0, "team_id": ticket.team_id, "tier": format!("L{}", from.1)},
        "after": {"team": name, "team_id": target, "tier": format!("L{tier}"), "assignee": null},
        "reason": "SLA escalation level", "by": "sla",
    })).await?;
    Ok(json!({"moved": true, "team": name}))
}
