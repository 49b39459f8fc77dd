//! On-call: schedules (layers, overrides), escalation policies, people's contact methods, and
//! durable paging runs.
//!
//! A paging run is a row (`paging_runs`) holding the next level to page and when. The scheduler
//! pages a due level in one transaction that records each page once (`pages_once`), queues its
//! deliveries in the outbox and moves the run on by compare-and-set, so a restart or a second
//! scheduler neither loses nor repeats a page. The next level is due one timeout after the
//! previous level was *due* (not sent), so a scheduler that was down catches up in order.

use std::collections::HashSet;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::oncall::{
    DailyHours, EscalationPolicy, Layer, PageTarget, PolicyLevel, RunStep, Schedule, Shift,
    TurnLength,
};
use opsdesk_domain::{Invalid, Name};
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};

use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::{Store, StoreError, UserRef};

/// A schedule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleRecord {
    /// Id.
    pub id: i64,
    /// Name, unique regardless of case.
    pub name: String,
    /// What it covers.
    pub description: String,
    /// Layers, lowest first, with their zone names.
    pub layers: Vec<(Layer, String)>,
    /// Overrides: (id, shift).
    pub overrides: Vec<(i64, Shift)>,
}

impl ScheduleRecord {
    /// The schedule as the domain computes it.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            layers: self.layers.iter().map(|(l, _)| l.clone()).collect(),
            overrides: self.overrides.iter().map(|(_, s)| *s).collect(),
        }
    }
}

/// An escalation policy as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPolicyRecord {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Levels and repeats.
    pub policy: EscalationPolicy,
}

/// Where a person is paged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMethod {
    /// Id.
    pub id: i64,
    /// The person.
    pub user_id: i64,
    /// `webhook` (signed JSON) or `slack` (Slack-compatible incoming webhook).
    pub kind: String,
    /// The URL.
    pub address: String,
}

/// A page sent to someone about an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRecord {
    /// Id.
    pub id: i64,
    /// The incident.
    pub incident_id: i64,
    /// Who was paged.
    pub user: UserRef,
    /// Which run, round and level of the policy.
    pub run: i64,
    /// Round.
    pub round: i64,
    /// Level.
    pub level: i64,
    /// When.
    pub created_at: Timestamp,
    /// When it was answered from its link.
    pub answered_at: Option<Timestamp>,
    /// `acknowledge` or `resolve`.
    pub answer: Option<String>,
}

/// Where an incident's paging stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagingState {
    /// The policy.
    pub policy_id: i64,
    /// Run number (a reopened incident starts another).
    pub run: i64,
    /// Next round.
    pub round: i64,
    /// Next level.
    pub level: i64,
    /// When the next level is paged; `None` once stopped.
    pub next_at: Option<Timestamp>,
    /// Why it stopped.
    pub stop_reason: Option<String>,
}

fn target_json(t: &PageTarget) -> Value {
    match t {
        PageTarget::User(id) => json!({"kind": "user", "id": id}),
        PageTarget::Schedule(id) => json!({"kind": "schedule", "id": id}),
        PageTarget::Team(id) => json!({"kind": "team", "id": id}),
    }
}

fn policy_json(p: &EscalationPolicy) -> Value {
    json!({
        "repeats": p.repeats,
        "levels": p.levels.iter().map(|l| json!({
            "timeout_minutes": l.timeout_minutes,
            "targets": l.targets.iter().map(target_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn policy_from(spec: &str) -> Result<EscalationPolicy, StoreError> {
    let v: Value = serde_json::from_str(spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut levels = Vec::new();
    for l in v["levels"].as_array().into_iter().flatten() {
        let mut targets = Vec::new();
        for t in l["targets"].as_array().into_iter().flatten() {
            let id = t["id"].as_i64().unwrap_or(0);
            targets.push(match t["kind"].as_str() {
                Some("schedule") => PageTarget::Schedule(id),
                Some("team") => PageTarget::Team(id),
                _ => PageTarget::User(id),
            });
        }
        levels.push(PolicyLevel {
            timeout_minutes: l["timeout_minutes"].as_u64().unwrap_or(1) as u32,
            targets,
        });
    }
    EscalationPolicy::new(levels, v["repeats"].as_u64().unwrap_or(0) as u32).map_err(corrupt)
}

pub(crate) async fn load_schedules(pool: &AnyPool) -> Result<Vec<ScheduleRecord>, StoreError> {
    let rows = sqlx::query("SELECT id, name, description FROM schedules ORDER BY lower(name)")
        .fetch_all(pool)
        .await?;
    let layers = sqlx::query(
        "SELECT schedule_id, starts_at, zone, turn, participants, hours FROM schedule_layers \
         ORDER BY schedule_id, position",
    )
    .fetch_all(pool)
    .await?;
    let overrides = sqlx::query(
        "SELECT id, schedule_id, user_id, starts_at, ends_at FROM schedule_overrides ORDER BY starts_at, id",
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let mut record = ScheduleRecord {
            id,
            name: r.try_get(1)?,
            description: r.try_get(2)?,
            layers: Vec::new(),
            overrides: Vec::new(),
        };
        for l in &layers {
            if l.try_get::<i64, _>(0)? != id {
                continue;
            }
            let zone_name: String = l.try_get(2)?;
            let zone = TimeZone::get(&zone_name).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let turn = TurnLength::parse("turn", &l.try_get::<String, _>(3)?).map_err(corrupt)?;
            let participants: Vec<i64> = serde_json::from_str(&l.try_get::<String, _>(4)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let hours = l
                .try_get::<Option<String>, _>(5)?
                .map(|h| DailyHours::parse("hours", &h))
                .transpose()
                .map_err(corrupt)?;
            let layer =
                Layer::new(ts(l.try_get(1)?)?, zone, turn, participants, hours).map_err(corrupt)?;
            record.layers.push((layer, zone_name));
        }
        for o in &overrides {
            if o.try_get::<i64, _>(1)? != id {
                continue;
            }
            record.overrides.push((
                o.try_get(0)?,
                Shift {
                    user: o.try_get(2)?,
                    start: ts(o.try_get(3)?)?,
                    end: ts(o.try_get(4)?)?,
                },
            ));
        }
        out.push(record);
    }
    Ok(out)
}

async fn load_policies(pool: &AnyPool) -> Result<Vec<EscalationPolicyRecord>, StoreError> {
    let rows = sqlx::query("SELECT id, name, spec FROM escalation_policies ORDER BY lower(name)")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(EscalationPolicyRecord {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                policy: policy_from(&r.try_get::<String, _>(2)?)?,
            })
        })
        .collect()
}

/// Starts (or restarts) paging for an incident whose primary service has a policy.
pub(crate) async fn start_paging_in(
    w: &mut Write,
    incident_id: i64,
    service_id: Option<i64>,
) -> Result<bool, StoreError> {
    let Some(service) = service_id else {
        return Ok(false);
    };
    let policy: Option<i64> =
        sqlx::query_scalar("SELECT escalation_policy_id FROM services WHERE id = $1")
            .bind(service)
            .fetch_optional(&mut *w.tx)
            .await?
            .flatten();
    let Some(policy) = policy else {
        return Ok(false);
    };
    let run: i64 = sqlx::query_scalar::<_, i64>(
        "SELECT COALESCE(MAX(run), 0) + 1 FROM paging_runs WHERE incident_id = $1",
    )
    .bind(incident_id)
    .fetch_one(&mut *w.tx)
    .await?;
    sqlx::query(
        "INSERT INTO paging_runs (incident_id, policy_id, run, round, level, next_at, started_at) \
         VALUES ($1, $2, $3, 0, 0, $4, $4) ON CONFLICT (incident_id) DO UPDATE SET \
         policy_id = excluded.policy_id, run = excluded.run, round = 0, level = 0, \
         next_at = excluded.next_at, started_at = excluded.started_at, stopped_at = NULL, stop_reason = NULL",
    )
    .bind(incident_id)
    .bind(policy)
    .bind(run)
    .bind(w.now())
    .execute(&mut *w.tx)
    .await?;
    let name: String = sqlx::query_scalar("SELECT name FROM escalation_policies WHERE id = $1")
        .bind(policy)
        .fetch_one(&mut *w.tx)
        .await?;
    w.event(
        "incident",
        incident_id,
        "incident.paging_started",
        false,
        json!({"policy": name, "run": run}),
    )
    .await?;
    Ok(true)
}

/// Stops an incident's paging run, if one is under way.
pub(crate) async fn stop_paging_in(
    w: &mut Write,
    incident_id: i64,
    reason: &str,
) -> Result<(), StoreError> {
    let stopped = sqlx::query(
        "UPDATE paging_runs SET next_at = NULL, stopped_at = $1, stop_reason = $2 \
         WHERE incident_id = $3 AND next_at IS NOT NULL",
    )
    .bind(w.now())
    .bind(reason)
    .bind(incident_id)
    .execute(&mut *w.tx)
    .await?;
    if stopped.rows_affected() > 0 {
        w.event(
            "incident",
            incident_id,
            "incident.paging_stopped",
            false,
            json!({"reason": reason}),
        )
        .await?;
    }
    Ok(())
}

impl Store {
    /// Every schedule with its layers and overrides, by name.
    pub async fn schedules(&self) -> Result<Vec<ScheduleRecord>, StoreError> {
        load_schedules(&self.read).await
    }

    /// Creates a schedule from its layers (lowest first).
    pub async fn create_schedule(
        &self,
        name: &Name,
        description: &str,
        layers: &[(Layer, String)],
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<ScheduleRecord, StoreError> {
        if layers.is_empty() {
            return Err(Invalid::new("layers", "a schedule needs at least one layer").into());
        }
        self.check_users(
            layers
                .iter()
                .flat_map(|(l, _)| l.participants.iter().copied()),
        )
        .await?;
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO schedules (name, description, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(name.as_str())
        .bind(description)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(StoreError::unique(
            "name",
            format!("a schedule named '{}' already exists", name.as_str()),
        ))?;
        for (position, (layer, zone)) in layers.iter().enumerate() {
            sqlx::query(
                "INSERT INTO schedule_layers (schedule_id, position, starts_at, zone, turn, participants, hours) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(id)
            .bind(position as i64)
            .bind(layer.start.as_microsecond())
            .bind(zone)
            .bind(layer.turn.as_text())
            .bind(json!(layer.participants).to_string())
            .bind(layer.hours.map(|h| h.as_text()))
            .execute(&mut *w.tx)
            .await?;
        }
        w.event(
            "schedule",
            id,
            "schedule.created",
            false,
            json!({"name": name.as_str(), "layers": layers.len()}),
        )
        .await?;
        w.commit().await?;
        self.schedule(id).await
    }

    /// One schedule.
    pub async fn schedule(&self, id: i64) -> Result<ScheduleRecord, StoreError> {
        self.schedules()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound("schedule"))
    }

    async fn check_users(&self, ids: impl IntoIterator<Item = i64>) -> Result<(), StoreError> {
        for id in ids.into_iter().collect::<HashSet<_>>() {
            match self.user(id).await {
                Ok(u) if u.active && u.actor().works_the_desk() => {}
                _ => {
                    return Err(Invalid::new(
                        "participants",
                        format!("user {id} is not an active staff member"),
                    )
                    .into())
                }
            }
        }
        Ok(())
    }

    /// Deletes a schedule no escalation policy pages.
    pub async fn delete_schedule(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let record = self.schedule(id).await?;
        let used = load_policies(&self.read).await?.into_iter().find(|p| {
            p.policy
                .levels
                .iter()
                .any(|l| l.targets.contains(&PageTarget::Schedule(id)))
        });
        if let Some(p) = used {
            return Err(StoreError::Conflict {
                field: "schedule",
                reason: format!("escalation policy '{}' pages '{}'", p.name, record.name),
            });
        }
        let mut w = self.write(actor, now).await?;
        for table in ["schedule_layers", "schedule_overrides"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE schedule_id = $1"))
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        }
        sqlx::query("DELETE FROM schedules WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "schedule",
            id,
            "schedule.deleted",
            false,
            json!({"name": record.name}),
        )
        .await?;
        w.commit().await
    }

    /// Puts `user` on call for [start, end) over every layer of a schedule.
    pub async fn add_override(
        &self,
        schedule: i64,
        user: i64,
        start: Timestamp,
        end: Timestamp,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        self.schedule(schedule).await?;
        if end <= start {
            return Err(Invalid::new("ends_at", "must be after starts_at").into());
        }
        if end.duration_since(start) > SignedDuration::from_hours(24 * 90) {
            return Err(Invalid::new("ends_at", "an override lasts at most 90 days").into());
        }
        self.check_users([user])
            .await
            .map_err(|_| StoreError::from(Invalid::new("user", "not an active staff member")))?;
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO schedule_overrides (schedule_id, user_id, starts_at, ends_at, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(schedule)
        .bind(user)
        .bind(start.as_microsecond())
        .bind(end.as_microsecond())
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        w.event(
            "schedule",
            schedule,
            "schedule.override_added",
            false,
            json!({"user_id": user, "starts_at": start.to_string(), "ends_at": end.to_string()}),
        )
        .await?;
        w.commit().await?;
        Ok(id)
    }

    /// Removes an override.
    pub async fn delete_override(
        &self,
        schedule: i64,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        let gone = sqlx::query("DELETE FROM schedule_overrides WHERE id = $1 AND schedule_id = $2")
            .bind(id)
            .bind(schedule)
            .execute(&mut *w.tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(StoreError::NotFound("override"));
        }
        w.event(
            "schedule",
            schedule,
            "schedule.override_removed",
            false,
            json!({"override_id": id}),
        )
        .await?;
        w.commit().await
    }

    /// Every escalation policy, by name.
    pub async fn escalation_policies(&self) -> Result<Vec<EscalationPolicyRecord>, StoreError> {
        load_policies(&self.read).await
    }

    /// Creates an escalation policy.
    pub async fn create_escalation_policy(
        &self,
        name: &Name,
        policy: &EscalationPolicy,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<EscalationPolicyRecord, StoreError> {
        let schedules: HashSet<i64> = self.schedules().await?.iter().map(|s| s.id).collect();
        for t in policy.levels.iter().flat_map(|l| &l.targets) {
            match t {
                PageTarget::User(u) => self.check_users([*u]).await?,
                PageTarget::Schedule(s) if !schedules.contains(s) => {
                    return Err(Invalid::new("levels", format!("no schedule with id {s}")).into())
                }
                PageTarget::Team(t) => {
                    self.team(*t).await.map_err(|_| {
                        StoreError::from(Invalid::new("levels", format!("no team with id {t}")))
                    })?;
                }
                PageTarget::Schedule(_) => {}
            }
        }
        let mut w = self.write(actor, now).await?;
        let spec = policy_json(policy);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO escalation_policies (name, spec, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id",
        )
        .bind(name.as_str())
        .bind(spec.to_string())
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(StoreError::unique(
            "name",
            format!("an escalation policy named '{}' already exists", name.as_str()),
        ))?;
        w.event(
            "escalation_policy",
            id,
            "escalation_policy.created",
            false,
            json!({"name": name.as_str(), "spec": spec}),
        )
        .await?;
        w.commit().await?;
        self.escalation_policies()
            .await?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or(StoreError::NotFound("escalation policy"))
    }

    /// Deletes an escalation policy no service uses.
    pub async fn delete_escalation_policy(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        let used: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM services WHERE escalation_policy_id = $1) + \
             (SELECT COUNT(*) FROM paging_runs WHERE policy_id = $1)",
        )
        .bind(id)
        .fetch_one(&mut *w.tx)
        .await?;
        if used > 0 {
            return Err(StoreError::Conflict {
                field: "escalation_policy",
                reason: "a service uses it or an incident was paged by it".into(),
            });
        }
        let gone = sqlx::query("DELETE FROM escalation_policies WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(StoreError::NotFound("escalation policy"));
        }
        w.event(
            "escalation_policy",
            id,
            "escalation_policy.deleted",
            false,
            json!({}),
        )
        .await?;
        w.commit().await
    }

    /// Chooses the escalation policy that pages for a service (`None` pages no one).
    pub async fn set_service_policy(
        &self,
        service: i64,
        policy: Option<i64>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        let changed = sqlx::query("UPDATE services SET escalation_policy_id = $1 WHERE id = $2")
            .bind(policy)
            .bind(service)
            .execute(&mut *w.tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound("service"));
        }
        w.event(
            "service",
            service,
            "service.escalation_policy",
            false,
            json!({"after": policy}),
        )
        .await?;
        w.commit().await
    }

    /// The policy each service pages with: (service id, policy id).
    pub async fn service_policies(&self) -> Result<Vec<(i64, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, escalation_policy_id FROM services WHERE escalation_policy_id IS NOT NULL",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// A person's contact methods.
    pub async fn contact_methods(&self, user: i64) -> Result<Vec<ContactMethod>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, user_id, kind, address FROM contact_methods WHERE user_id = $1 ORDER BY id",
        )
        .bind(user)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ContactMethod {
                    id: r.try_get(0)?,
                    user_id: r.try_get(1)?,
                    kind: r.try_get(2)?,
                    address: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// Adds a contact method (`webhook` or `slack`, with an http(s) URL, checked by the caller).
    pub async fn add_contact_method(
        &self,
        user: i64,
        kind: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<ContactMethod, StoreError> {
        let mut w = self.write(Some(user), now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO contact_methods (user_id, kind, address, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(user)
        .bind(kind)
        .bind(address)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        w.event(
            "user",
            user,
            "user.contact_method_added",
            false,
            json!({"kind": kind}),
        )
        .await?;
        w.commit().await?;
        Ok(ContactMethod {
            id,
            user_id: user,
            kind: kind.to_owned(),
            address: address.to_owned(),
        })
    }

    /// Removes one of a person's contact methods.
    pub async fn delete_contact_method(
        &self,
        user: i64,
        id: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(Some(user), now).await?;
        let gone = sqlx::query("DELETE FROM contact_methods WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user)
            .execute(&mut *w.tx)
            .await?;
        if gone.rows_affected() == 0 {
            return Err(StoreError::NotFound("contact method"));
        }
        w.event(
            "user",
            user,
            "user.contact_method_removed",
            false,
            json!({"id": id}),
        )
        .await?;
        w.commit().await
    }

    /// The installation's secret `name`, created from `candidate` the first time.
    pub async fn install_secret(&self, name: &str, candidate: &str) -> Result<String, StoreError> {
        sqlx::query("INSERT INTO install_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(&self.write)
            .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM install_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.write)
                .await?,
        )
    }

    /// Where an incident's paging stands.
    pub async fn paging_state(&self, incident: i64) -> Result<Option<PagingState>, StoreError> {
        let row = sqlx::query(
            "SELECT policy_id, run, round, level, next_at, stop_reason FROM paging_runs WHERE incident_id = $1",
        )
        .bind(incident)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok(PagingState {
                policy_id: r.try_get(0)?,
                run: r.try_get(1)?,
                round: r.try_get(2)?,
                level: r.try_get(3)?,
                next_at: r.try_get::<Option<i64>, _>(4)?.map(ts).transpose()?,
                stop_reason: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// The pages sent about an incident, oldest first.
    pub async fn incident_pages(&self, incident: i64) -> Result<Vec<PageRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.id, p.incident_id, p.user_id, u.email, u.name, p.run, p.round, p.level, \
             p.created_at, p.answered_at, p.answer FROM pages p JOIN users u ON u.id = p.user_id \
             WHERE p.incident_id = $1 ORDER BY p.id",
        )
        .bind(incident)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(page_row).collect()
    }

    /// One page.
    pub async fn page(&self, id: i64) -> Result<PageRecord, StoreError> {
        let row = sqlx::query(
            "SELECT p.id, p.incident_id, p.user_id, u.email, u.name, p.run, p.round, p.level, \
             p.created_at, p.answered_at, p.answer FROM pages p JOIN users u ON u.id = p.user_id \
             WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("page"))?;
        page_row(&row)
    }

    /// The earliest instant a paging run is due.
    pub async fn next_page_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let next: Option<i64> =
            sqlx::query_scalar("SELECT MIN(next_at) FROM paging_runs WHERE next_at IS NOT NULL")
                .fetch_one(&self.read)
                .await?;
        next.map(ts).transpose()
    }

    /// Pages every level due at `now`, each run in its own transaction; answers how many
    /// pages were sent.
    pub async fn page_due(&self, now: Timestamp) -> Result<usize, StoreError> {
        let due = sqlx::query(
            "SELECT incident_id, policy_id, run, round, level, next_at FROM paging_runs \
             WHERE next_at IS NOT NULL AND next_at <= $1 ORDER BY next_at LIMIT 100",
        )
        .bind(now.as_microsecond())
        .fetch_all(&self.read)
        .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let schedules = load_schedules(&self.read).await?;
        let policies = load_policies(&self.read).await?;
        // Every due run in one transaction: under an alert storm many incidents open at once,
        // and the single SQLite writer is shared with ingest.
        let mut w = self.write(None, now).await?;
        let mut sent = 0;
        for r in due {
            let incident: i64 = r.try_get(0)?;
            let policy_id: i64 = r.try_get(1)?;
            let run: i64 = r.try_get(2)?;
            let round: i64 = r.try_get(3)?;
            let level: i64 = r.try_get(4)?;
            let due_at: i64 = r.try_get(5)?;
            let Some(policy) = policies.iter().find(|p| p.id == policy_id) else {
                continue;
            };
            sent += page_level(
                &mut w,
                incident,
                policy,
                (run, round, level),
                due_at,
                &schedules,
                now,
            )
            .await?;
        }
        w.commit().await?;
        Ok(sent)
    }
}

fn page_row(r: &sqlx::any::AnyRow) -> Result<PageRecord, StoreError> {
    Ok(PageRecord {
        id: r.try_get(0)?,
        incident_id: r.try_get(1)?,
        user: UserRef {
            id: r.try_get(2)?,
            email: r.try_get(3)?,
            name: r.try_get(4)?,
        },
        run: r.try_get(5)?,
        round: r.try_get(6)?,
        level: r.try_get(7)?,
        created_at: ts(r.try_get(8)?)?,
        answered_at: r.try_get::<Option<i64>, _>(9)?.map(ts).transpose()?,
        answer: r.try_get(10)?,
    })
}

/// Pages one due level of a run inside `w`: claims the step by compare-and-set (another
/// scheduler that got there first leaves nothing to do), records each page once, queues its
/// deliveries and moves the run on.
async fn page_level(
    w: &mut Write,
    incident: i64,
    policy: &EscalationPolicyRecord,
    (run, round, level): (i64, i64, i64),
    due_at: i64,
    schedules: &[ScheduleRecord],
    now: Timestamp,
) -> Result<usize, StoreError> {
    // Claim the step: only one scheduler moves a run from this (run, round, level).
    let (next, wait) = policy.policy.after(round as u32, level as usize);
    let (next_round, next_level, next_at, reason) = match next {
        RunStep::Page { round, level } => (
            i64::from(round),
            level as i64,
            Some(due_at + wait.as_micros() as i64),
            None,
        ),
        RunStep::Exhausted => (round, level, None, Some("every level was paged")),
    };
    let claimed = sqlx::query(
        "UPDATE paging_runs SET round = $1, level = $2, next_at = $3, \
             stopped_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END, stop_reason = $5 \
             WHERE incident_id = $6 AND run = $7 AND round = $8 AND level = $9 AND next_at = $10",
    )
    .bind(next_round)
    .bind(next_level)
    .bind(next_at)
    .bind(w.now())
    .bind(reason)
    .bind(incident)
    .bind(run)
    .bind(round)
    .bind(level)
    .bind(due_at)
    .execute(&mut *w.tx)
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(0);
    }
    let info = sqlx::query("SELECT title, severity, status FROM incidents WHERE id = $1")
        .bind(incident)
        .fetch_one(&mut *w.tx)
        .await?;
    let (title, severity, status): (String, String, String) =
        (info.try_get(0)?, info.try_get(1)?, info.try_get(2)?);
    let at = ts(due_at)?;
    let mut people: Vec<i64> = Vec::new();
    let mut nobody: Vec<String> = Vec::new();
    let targets = policy
        .policy
        .levels
        .get(level as usize)
        .map(|l| l.targets.clone())
        .unwrap_or_default();
    for t in targets {
        match t {
            PageTarget::User(u) => people.push(u),
            PageTarget::Schedule(s) => match schedules.iter().find(|x| x.id == s) {
                Some(sched) => match sched.schedule().on_call_at(at.max(now)) {
                    Some(u) => people.push(u),
                    None => nobody.push(sched.name.clone()),
                },
                None => nobody.push(format!("schedule {s}")),
            },
            PageTarget::Team(team) => {
                let members: Vec<i64> = sqlx::query_scalar(
                    "SELECT u.id FROM team_members m JOIN users u ON u.id = m.user_id \
                         WHERE m.team_id = $1 AND u.active = 1 ORDER BY u.id",
                )
                .bind(team)
                .fetch_all(&mut *w.tx)
                .await?;
                people.extend(members);
            }
        }
    }
    let mut seen = HashSet::new();
    people.retain(|p| seen.insert(*p));
    let mut sent = 0;
    for user in people {
        let page: Option<i64> = sqlx::query_scalar(
            "INSERT INTO pages (incident_id, user_id, run, round, level, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(incident)
        .bind(user)
        .bind(run)
        .bind(round)
        .bind(level)
        .bind(w.now())
        .fetch_optional(&mut *w.tx)
        .await?;
        let Some(page) = page else { continue };
        let who = sqlx::query("SELECT email, name FROM users WHERE id = $1")
            .bind(user)
            .fetch_one(&mut *w.tx)
            .await?;
        let (email, name): (String, String) = (who.try_get(0)?, who.try_get(1)?);
        let text = format!("[{severity}] Incident #{incident}: {title} ({status})");
        sqlx::query(
                "INSERT INTO notifications (user_id, ticket_id, text, created_at) VALUES ($1, NULL, $2, $3)",
            )
            .bind(user)
            .bind(format!("Paged: {text}"))
            .bind(w.now())
            .execute(&mut *w.tx)
            .await?;
        let methods =
            sqlx::query("SELECT kind, address FROM contact_methods WHERE user_id = $1 ORDER BY id")
                .bind(user)
                .fetch_all(&mut *w.tx)
                .await?;
        let payload = json!({
            "page_id": page, "incident_id": incident, "title": title, "severity": severity,
            "status": status, "user": {"id": user, "email": email, "name": name},
            "level": level + 1, "round": round + 1, "text": text,
        });
        let mut channels = Vec::new();
        for m in &methods {
            let kind: String = m.try_get(0)?;
            let address: String = m.try_get(1)?;
            sqlx::query(
                    "INSERT INTO outbox (kind, target, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(format!("page_{kind}"))
                .bind(&address)
                .bind(payload.to_string())
                .bind(w.now())
                .execute(&mut *w.tx)
                .await?;
            channels.push(kind);
        }
        w.event(
            "incident",
            incident,
            "incident.paged",
            false,
            json!({"user_id": user, "name": name, "email": email, "level": level + 1,
                       "round": round + 1, "channels": channels, "page_id": page}),
        )
        .await?;
        sent += 1;
    }
    if !nobody.is_empty() {
        w.event(
            "incident",
            incident,
            "incident.nobody_on_call",
            false,
            json!({"schedules": nobody, "level": level + 1}),
        )
        .await?;
    }
    if let Some(reason) = reason {
        w.event(
            "incident",
            incident,
            "incident.paging_stopped",
            false,
            json!({"reason": reason}),
        )
        .await?;
    }
    Ok(sent)
}
