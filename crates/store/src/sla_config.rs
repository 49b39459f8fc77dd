//! SLA configuration: business calendars and policies, their storage form, and the cached
//! snapshot every write path reads clocks against.
//!
//! Every change bumps `sla_config.version` in its own transaction and queues a recomputation of
//! the open tickets; a node reloads its snapshot when it sees a version it has not loaded.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jiff::Timestamp;
use opsdesk_domain::calendar::{parse_zone, Calendar, Holiday, HolidayDate, OpenRange, WeekHours};
use opsdesk_domain::sla::{
    Conditions, Level, LevelAction, LevelPoint, Metric, PauseSet, Policy, Target, VendorTerms,
};
use opsdesk_domain::{Invalid, Name, PendingReason, Priority};
use serde_json::{json, Value};
use sqlx::{AnyPool, Row};

use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::{Store, StoreError};

/// A business calendar as stored: its name, zone and hours, and the calendar built from them.
#[derive(Debug, Clone)]
pub struct CalendarRecord {
    /// Id.
    pub id: i64,
    /// Display name, unique regardless of case.
    pub name: String,
    /// IANA zone name.
    pub zone: String,
    /// Whether tickets without a team or organisation calendar use it.
    pub is_default: bool,
    /// The calendar itself (hours, holidays).
    pub calendar: Calendar,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// What a new or edited calendar holds.
#[derive(Debug, Clone)]
pub struct CalendarInput {
    /// Display name.
    pub name: Name,
    /// IANA zone name, already checked.
    pub zone: String,
    /// Opening hours, Monday first.
    pub hours: WeekHours,
    /// Holidays.
    pub holidays: Vec<Holiday>,
}

impl CalendarInput {
    /// Checks the zone and builds the calendar the input describes.
    pub fn build(&self) -> Result<Calendar, Invalid> {
        Calendar::new(
            parse_zone("zone", &self.zone)?,
            self.hours.clone(),
            self.holidays.clone(),
        )
    }
}

/// A policy as stored: its place in the order and the domain policy.
#[derive(Debug, Clone)]
pub struct PolicyRecord {
    /// Position in the order; the first matching policy applies.
    pub position: i64,
    /// The policy (its id is the record's id).
    pub policy: Policy,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// A vendor as stored: contacts, support-hours calendar and the terms its clocks run on.
#[derive(Debug, Clone)]
pub struct VendorRecord {
    /// Name, contacts and targets.
    pub terms: VendorTerms,
    /// How to reach its support (free text: e-mail, phone, portal).
    pub contacts: String,
    /// Its support-hours calendar; around the clock when `None`.
    pub calendar_id: Option<i64>,
    /// Last changed.
    pub updated_at: Timestamp,
}

/// What a new or edited vendor holds.
#[derive(Debug, Clone)]
pub struct VendorInput {
    /// Name.
    pub name: Name,
    /// Contacts (free text).
    pub contacts: String,
    /// Support-hours calendar.
    pub calendar_id: Option<i64>,
    /// Response target.
    pub response: Option<Target>,
    /// Resolution target.
    pub resolution: Option<Target>,
}

/// Breaches and results of one vendor's clocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorReport {
    /// Vendor id.
    pub vendor_id: i64,
    /// Vendor name.
    pub name: String,
    /// Per metric (`vendor_response`, `vendor_resolution`): (met, breached, still running).
    pub response: (i64, i64, i64),
    /// Resolution: (met, breached, still running).
    pub resolution: (i64, i64, i64),
}

/// The configuration snapshot clocks are computed against.
#[derive(Debug, Default)]
pub struct SlaConfig {
    /// The version it was loaded at.
    pub version: i64,
    /// Policies in order.
    pub policies: Vec<Policy>,
    /// Calendars by id.
    pub calendars: HashMap<i64, Arc<Calendar>>,
    /// Calendar names by id.
    pub calendar_names: HashMap<i64, String>,
    /// The default calendar's id.
    pub default_calendar: Option<i64>,
    /// Each team's calendar, where set.
    pub team_calendars: HashMap<i64, i64>,
    /// Each organisation's calendar and plan, where set.
    pub org_settings: HashMap<i64, (Option<i64>, Option<String>)>,
    /// Vendors' terms and support calendars by vendor id.
    pub vendors: HashMap<i64, (VendorTerms, Arc<Calendar>)>,
}

impl SlaConfig {
    /// The calendar for a ticket: its organisation's, else its team's, else the default.
    pub fn calendar_for(
        &self,
        org_calendar: Option<i64>,
        team_calendar: Option<i64>,
    ) -> (Option<i64>, Arc<Calendar>) {
        for id in [org_calendar, team_calendar, self.default_calendar]
            .into_iter()
            .flatten()
        {
            if let Some(cal) = self.calendars.get(&id) {
                return (Some(id), cal.clone());
            }
        }
        (None, Arc::new(Calendar::continuous()))
    }

    /// A vendor's terms and the calendar they count in.
    pub fn vendor(&self, id: i64) -> Option<(&VendorTerms, &Calendar)> {
        self.vendors.get(&id).map(|(t, c)| (t, c.as_ref()))
    }
}

/// The loaded snapshot, shared by every write path of one process.
#[derive(Debug)]
pub(crate) struct SlaCache {
    read: AnyPool,
    current: RwLock<Arc<SlaConfig>>,
}

impl SlaCache {
    pub(crate) fn new(read: AnyPool) -> Self {
        Self {
            read,
            current: RwLock::new(Arc::new(SlaConfig::default())),
        }
    }

    /// The snapshot at `version`, reloading it when this process holds an older one.
    pub(crate) async fn at(&self, version: i64) -> Result<Arc<SlaConfig>, StoreError> {
        let held = self.held();
        if held.version == version {
            return Ok(held);
        }
        let fresh = Arc::new(load_config(&self.read, version).await?);
        if let Ok(mut slot) = self.current.write() {
            *slot = fresh.clone();
        }
        Ok(fresh)
    }

    pub(crate) fn held(&self) -> Arc<SlaConfig> {
        self.current.read().map(|c| c.clone()).unwrap_or_default()
    }
}

/// The version the database is at, read inside a write transaction.
pub(crate) async fn config_version(w: &mut Write) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT version FROM sla_config WHERE id = 1")
            .fetch_one(&mut *w.tx)
            .await?,
    )
}

async fn load_config(pool: &AnyPool, version: i64) -> Result<SlaConfig, StoreError> {
    let calendars = load_calendars(pool).await?;
    let policies = load_policies(pool).await?;
    let mut team_calendars = HashMap::new();
    for row in sqlx::query("SELECT id, calendar_id FROM teams WHERE calendar_id IS NOT NULL")
        .fetch_all(pool)
        .await?
    {
        team_calendars.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let mut org_settings = HashMap::new();
    for row in sqlx::query(
        "SELECT id, calendar_id, plan FROM orgs WHERE calendar_id IS NOT NULL OR plan IS NOT NULL",
    )
    .fetch_all(pool)
    .await?
    {
        org_settings.insert(row.try_get(0)?, (row.try_get(1)?, row.try_get(2)?));
    }
    let mut vendors = HashMap::new();
    for record in load_vendors(pool).await? {
        let calendar = record
            .calendar_id
            .and_then(|id| calendars.iter().find(|c| c.id == id))
            .map(|c| Arc::new(c.calendar.clone()))
            .unwrap_or_else(|| Arc::new(Calendar::continuous()));
        vendors.insert(record.terms.id, (record.terms, calendar));
    }
    Ok(SlaConfig {
        version,
        team_calendars,
        org_settings,
        vendors,
        default_calendar: calendars.iter().find(|c| c.is_default).map(|c| c.id),
        calendar_names: calendars.iter().map(|c| (c.id, c.name.clone())).collect(),
        calendars: calendars
            .into_iter()
            .map(|c| (c.id, Arc::new(c.calendar)))
            .collect(),
        policies: policies.into_iter().map(|p| p.policy).collect(),
    })
}

/// Hours in storage form: seven lines, Monday first.
fn hours_text(hours: &WeekHours) -> String {
    hours
        .0
        .iter()
        .map(|day| {
            day.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads stored hours back.
fn parse_hours(text: &str) -> Result<WeekHours, Invalid> {
    let mut week: [Vec<OpenRange>; 7] = Default::default();
    for (i, line) in text.lines().enumerate().take(7) {
        week[i] = OpenRange::parse_list("hours", line)?;
    }
    Ok(WeekHours(week))
}

async fn load_calendars(pool: &AnyPool) -> Result<Vec<CalendarRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, zone, hours, is_default, updated_at FROM calendars ORDER BY lower(name)",
    )
    .fetch_all(pool)
    .await?;
    let holiday_rows =
        sqlx::query("SELECT calendar_id, date, name FROM calendar_holidays ORDER BY date")
            .fetch_all(pool)
            .await?;
    let mut holidays: HashMap<i64, Vec<Holiday>> = HashMap::new();
    for row in holiday_rows {
        let date: String = row.try_get(1)?;
        holidays.entry(row.try_get(0)?).or_default().push(Holiday {
            date: HolidayDate::parse("date", &date).map_err(corrupt)?,
            name: row.try_get(2)?,
        });
    }
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0)?;
            let zone: String = row.try_get(2)?;
            let hours: String = row.try_get(3)?;
            let calendar = Calendar::new(
                parse_zone("zone", &zone).map_err(corrupt)?,
                parse_hours(&hours).map_err(corrupt)?,
                holidays.remove(&id).unwrap_or_default(),
            )
            .map_err(corrupt)?;
            Ok(CalendarRecord {
                id,
                name: row.try_get(1)?,
                zone,
                is_default: row.try_get::<i64, _>(4)? != 0,
                calendar,
                updated_at: ts(row.try_get(5)?)?,
            })
        })
        .collect()
}

/// The JSON document a policy is stored as (conditions, targets with pauses, levels).
pub fn policy_spec(policy: &Policy) -> Value {
    let c = &policy.conditions;
    let targets: serde_json::Map<String, Value> = Metric::ALL
        .into_iter()
        .filter_map(|m| {
            let target = policy.target(m)?;
            let pauses: Vec<&str> = policy.pauses[m.index()]
                .reasons()
                .into_iter()
                .map(PendingReason::as_str)
                .collect();
            Some((
                m.as_str().to_owned(),
                json!({"minutes": target.minutes(), "business": target.business(), "pauses": pauses}),
            ))
        })
        .collect();
    let levels: Vec<Value> = policy
        .levels
        .iter()
        .map(|l| {
            json!({
                "metric": l.metric.map(Metric::as_str),
                "at": l.at.to_string(),
                "actions": l.actions.iter().map(|a| json!({"kind": a.kind(), "arg": a.argument()})).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "conditions": {
            "priorities": c.priorities.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
            "team_ids": c.team_ids, "org_ids": c.org_ids, "plans": c.plans,
            "tags": c.tags, "channels": c.channels, "categories": c.categories,
        },
        "targets": targets,
        "levels": levels,
    })
}

/// Reads a stored policy document back into a policy.
pub fn parse_policy_spec(id: i64, name: String, spec: &Value) -> Result<Policy, Invalid> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let ids = |v: &Value| -> Vec<i64> {
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default()
    };
    let c = &spec["conditions"];
    let conditions = Conditions {
        priorities: strings(&c["priorities"])
            .iter()
            .map(|p| Priority::parse("conditions.priorities", p))
            .collect::<Result<_, _>>()?,
        team_ids: ids(&c["team_ids"]),
        org_ids: ids(&c["org_ids"]),
        plans: strings(&c["plans"]),
        tags: strings(&c["tags"]),
        channels: strings(&c["channels"]),
        categories: strings(&c["categories"]),
    };
    let mut targets = [None; 4];
    let mut pauses = [PauseSet::NONE; 4];
    for metric in Metric::ALL {
        let t = &spec["targets"][metric.as_str()];
        if t.is_null() {
            continue;
        }
        let minutes = t["minutes"].as_i64().unwrap_or(0);
        targets[metric.index()] = Some(Target::new(
            "targets",
            minutes,
            t["business"].as_bool().unwrap_or(true),
        )?);
        let reasons = strings(&t["pauses"])
            .iter()
            .map(|r| PendingReason::parse("targets.pauses", r))
            .collect::<Result<Vec<_>, _>>()?;
        pauses[metric.index()] = PauseSet::of(&reasons);
    }
    let levels = spec["levels"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|l| {
            Ok(Level {
                metric: match l["metric"].as_str() {
                    Some(m) => Some(Metric::parse("levels.metric", m)?),
                    None => None,
                },
                at: LevelPoint::parse("levels.at", l["at"].as_str().unwrap_or_default())?,
                actions: l["actions"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default()
                    .iter()
                    .map(|a| {
                        LevelAction::parse(
                            "levels.actions",
                            a["kind"].as_str().unwrap_or_default(),
                            a["arg"].as_str(),
                        )
                    })
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect::<Result<_, Invalid>>()?;
    Ok(Policy {
        id,
        name,
        conditions,
        targets,
        pauses,
        levels,
    })
}

async fn load_policies(pool: &AnyPool) -> Result<Vec<PolicyRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, position, spec, updated_at FROM sla_policies ORDER BY position, id",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let spec: String = row.try_get(3)?;
            let spec: Value = serde_json::from_str(&spec)
                .map_err(|e| StoreError::Corrupt(format!("policy spec: {e}")))?;
            Ok(PolicyRecord {
                position: row.try_get(2)?,
                policy: parse_policy_spec(row.try_get(0)?, row.try_get(1)?, &spec)
                    .map_err(corrupt)?,
                updated_at: ts(row.try_get(4)?)?,
            })
        })
        .collect()
}

async fn load_vendors(pool: &AnyPool) -> Result<Vec<VendorRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, contacts, calendar_id, response_minutes, resolution_minutes, updated_at \
         FROM vendors ORDER BY lower(name)",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let target = |i: usize| -> Result<Option<Target>, StoreError> {
                match row.try_get::<Option<i64>, _>(i)? {
                    Some(m) => Ok(Some(Target::new("target", m, true).map_err(corrupt)?)),
                    None => Ok(None),
                }
            };
            Ok(VendorRecord {
                terms: VendorTerms {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                    response: target(4)?,
                    resolution: target(5)?,
                },
                contacts: row.try_get(2)?,
                calendar_id: row.try_get(3)?,
                updated_at: ts(row.try_get(6)?)?,
            })
        })
        .collect()
}

/// Bumps the configuration version and queues a recomputation of the open tickets.
async fn config_changed(w: &mut Write, reason: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE sla_config SET version = version + 1 WHERE id = 1")
        .execute(&mut *w.tx)
        .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tickets WHERE status IN ('new', 'open', 'pending')",
    )
    .fetch_one(&mut *w.tx)
    .await?;
    sqlx::query(
        "INSERT INTO sla_jobs (reason, total, done, after_ticket, created_at) VALUES ($1, $2, 0, 0, $3)",
    )
    .bind(reason)
    .bind(total)
    .bind(w.now())
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

impl Store {
    /// The SLA configuration as of the database's current version.
    pub async fn sla_config(&self) -> Result<Arc<SlaConfig>, StoreError> {
        let version: i64 = sqlx::query_scalar("SELECT version FROM sla_config WHERE id = 1")
            .fetch_one(&self.read)
            .await?;
        self.sla.at(version).await
    }

    /// Every calendar, by name.
    pub async fn calendars(&self) -> Result<Vec<CalendarRecord>, StoreError> {
        load_calendars(&self.read).await
    }

    /// One calendar.
    pub async fn calendar(&self, id: i64) -> Result<CalendarRecord, StoreError> {
        self.calendars()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(StoreError::NotFound("calendar"))
    }

    /// Creates a calendar.
    pub async fn create_calendar(
        &self,
        input: &CalendarInput,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<CalendarRecord, StoreError> {
        input.build()?;
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO calendars (name, zone, hours, is_default, created_at, updated_at) VALUES ($1, $2, $3, 0, $4, $4) RETURNING id",
        )
        .bind(input.name.as_str())
        .bind(&input.zone)
        .bind(hours_text(&input.hours))
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(StoreError::unique("name", format!("a calendar named '{}' already exists", input.name.as_str())))?;
        insert_holidays(&mut w, id, &input.holidays).await?;
        w.event(
            "calendar",
            id,
            "calendar.created",
            false,
            calendar_json(input),
        )
        .await?;
        config_changed(
            &mut w,
            &format!("calendar '{}' created", input.name.as_str()),
        )
        .await?;
        w.commit().await?;
        self.calendar(id).await
    }

    /// Replaces a calendar's name, zone, hours and holidays.
    pub async fn update_calendar(
        &self,
        id: i64,
        input: &CalendarInput,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<CalendarRecord, StoreError> {
        input.build()?;
        let before = self.calendar(id).await?;
        let mut w = self.write(actor, now).await?;
        sqlx::query(
            "UPDATE calendars SET name = $1, zone = $2, hours = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(input.name.as_str())
        .bind(&input.zone)
        .bind(hours_text(&input.hours))
        .bind(w.now())
        .bind(id)
        .execute(&mut *w.tx)
        .await
        .map_err(StoreError::unique(
            "name",
            format!("a calendar named '{}' already exists", input.name.as_str()),
        ))?;
        sqlx::query("DELETE FROM calendar_holidays WHERE calendar_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        insert_holidays(&mut w, id, &input.holidays).await?;
        let before_json = json!({"name": before.name, "zone": before.zone,
            "hours": hours_text(&WeekHours(before.calendar.week().clone())),
            "holidays": before.calendar.holidays().len()});
        w.event(
            "calendar",
            id,
            "calendar.updated",
            false,
            json!({"before": before_json, "after": calendar_json(input)}),
        )
        .await?;
        config_changed(
            &mut w,
            &format!("calendar '{}' changed", input.name.as_str()),
        )
        .await?;
        w.commit().await?;
        self.calendar(id).await
    }

    /// Adds holidays to a calendar (an iCalendar import), skipping dates it already has.
    pub async fn add_holidays(
        &self,
        id: i64,
        holidays: &[Holiday],
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let record = self.calendar(id).await?;
        let fresh: Vec<Holiday> = holidays
            .iter()
            .filter(|h| !record.calendar.holidays().iter().any(|k| k.date == h.date))
            .cloned()
            .collect();
        if fresh.is_empty() {
            return Ok(0);
        }
        let mut w = self.write(actor, now).await?;
        insert_holidays(&mut w, id, &fresh).await?;
        w.event("calendar", id, "calendar.holidays_added", false, json!({"after": {"holidays": fresh.iter().map(|h| json!({"date": h.date.to_string(), "name": h.name})).collect::<Vec<_>>()}})).await?;
        config_changed(&mut w, &format!("holidays imported into '{}'", record.name)).await?;
        w.commit().await?;
        Ok(fresh.len())
    }

    /// Makes a calendar the default.
    pub async fn set_default_calendar(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let record = self.calendar(id).await?;
        let mut w = self.write(actor, now).await?;
        sqlx::query("UPDATE calendars SET is_default = CASE WHEN id = $1 THEN 1 ELSE 0 END")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "calendar",
            id,
            "calendar.default",
            false,
            json!({"after": {"default": record.name}}),
        )
        .await?;
        config_changed(
            &mut w,
            &format!("'{}' became the default calendar", record.name),
        )
        .await?;
        w.commit().await?;
        Ok(())
    }

    /// Assigns a calendar (or none, for the default) to a team.
    pub async fn set_team_calendar(
        &self,
        team_id: i64,
        calendar_id: Option<i64>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.check_calendar(calendar_id).await?;
        let mut w = self.write(actor, now).await?;
        let changed = sqlx::query("UPDATE teams SET calendar_id = $1 WHERE id = $2")
            .bind(calendar_id)
            .bind(team_id)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::NotFound("team"));
        }
        w.event(
            "team",
            team_id,
            "team.updated",
            false,
            json!({"after": {"calendar_id": calendar_id}}),
        )
        .await?;
        config_changed(&mut w, "team calendar changed").await?;
        w.commit().await
    }

    /// Sets an organisation's calendar and plan (`None` leaves one as it is).
    pub async fn set_org_sla(
        &self,
        org_id: i64,
        calendar_id: Option<Option<i64>>,
        plan: Option<Option<&str>>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        if let Some(cal) = calendar_id {
            self.check_calendar(cal).await?;
        }
        self.org(org_id).await?;
        let mut w = self.write(actor, now).await?;
        let mut after = serde_json::Map::new();
        if let Some(cal) = calendar_id {
            sqlx::query("UPDATE orgs SET calendar_id = $1 WHERE id = $2")
                .bind(cal)
                .bind(org_id)
                .execute(&mut *w.tx)
                .await?;
            after.insert("calendar_id".into(), json!(cal));
        }
        if let Some(plan) = plan {
            sqlx::query("UPDATE orgs SET plan = $1 WHERE id = $2")
                .bind(plan)
                .bind(org_id)
                .execute(&mut *w.tx)
                .await?;
            after.insert("plan".into(), json!(plan));
        }
        w.event(
            "org",
            org_id,
            "org.updated",
            false,
            json!({"after": Value::Object(after)}),
        )
        .await?;
        config_changed(&mut w, "organisation calendar or plan changed").await?;
        w.commit().await
    }

    async fn check_calendar(&self, calendar_id: Option<i64>) -> Result<(), StoreError> {
        if let Some(id) = calendar_id {
            self.calendar(id).await.map_err(|e| match e {
                StoreError::NotFound(_) => Invalid::new("calendar", "no such calendar").into(),
                other => other,
            })?;
        }
        Ok(())
    }

    /// Deletes a calendar nothing uses: not the default, and no team, organisation or vendor.
    pub async fn delete_calendar(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let record = self.calendar(id).await?;
        if record.is_default {
            return Err(Invalid::new(
                "calendar",
                "the default calendar cannot be deleted; make another one the default first",
            )
            .into());
        }
        let mut w = self.write(actor, now).await?;
        for (table, what) in [
            ("teams", "teams"),
            ("orgs", "organisations"),
            ("vendors", "vendors"),
        ] {
            let users: i64 = sqlx::query_scalar(&format!(
                "SELECT COUNT(*) FROM {table} WHERE calendar_id = $1"
            ))
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?;
            if users > 0 {
                return Err(Invalid::new(
                    "calendar",
                    format!(
                        "'{}' is used by {users} {what}; assign them another calendar first",
                        record.name
                    ),
                )
                .into());
            }
        }
        sqlx::query("DELETE FROM calendar_holidays WHERE calendar_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM calendars WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "calendar",
            id,
            "calendar.deleted",
            false,
            json!({"before": {"name": record.name}}),
        )
        .await?;
        config_changed(&mut w, &format!("calendar '{}' deleted", record.name)).await?;
        w.commit().await
    }

    /// Deletes a vendor no ticket was ever handed to.
    pub async fn delete_vendor(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let record = self.vendor(id).await?;
        let mut w = self.write(actor, now).await?;
        let handed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE vendor_id = $1")
            .bind(id)
            .fetch_one(&mut *w.tx)
            .await?;
        if handed > 0 {
            return Err(Invalid::new(
                "vendor",
                format!(
                    "{handed} tickets were handed to '{}'; their history keeps it",
                    record.terms.name
                ),
            )
            .into());
        }
        sqlx::query("DELETE FROM vendors WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "vendor",
            id,
            "vendor.deleted",
            false,
            json!({"before": {"name": record.terms.name}}),
        )
        .await?;
        config_changed(&mut w, &format!("vendor '{}' deleted", record.terms.name)).await?;
        w.commit().await
    }

    /// Every vendor, by name.
    pub async fn vendors(&self) -> Result<Vec<VendorRecord>, StoreError> {
        load_vendors(&self.read).await
    }

    /// One vendor.
    pub async fn vendor(&self, id: i64) -> Result<VendorRecord, StoreError> {
        self.vendors()
            .await?
            .into_iter()
            .find(|v| v.terms.id == id)
            .ok_or(StoreError::NotFound("vendor"))
    }

    /// Creates (`id` = `None`) or replaces a vendor.
    pub async fn save_vendor(
        &self,
        id: Option<i64>,
        input: &VendorInput,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<VendorRecord, StoreError> {
        self.check_calendar(input.calendar_id).await?;
        if let Some(id) = id {
            self.vendor(id).await?;
        }
        if input.response.is_none() && input.resolution.is_none() {
            return Err(Invalid::new(
                "targets",
                "a vendor needs a response or a resolution target",
            )
            .into());
        }
        let mut w = self.write(actor, now).await?;
        let minutes = |t: Option<Target>| t.map(Target::minutes);
        let taken = StoreError::unique(
            "name",
            format!("a vendor named '{}' already exists", input.name.as_str()),
        );
        let id = match id {
            Some(id) => {
                sqlx::query(
                    "UPDATE vendors SET name = $1, contacts = $2, calendar_id = $3, response_minutes = $4, \
                     resolution_minutes = $5, updated_at = $6 WHERE id = $7",
                )
                .bind(input.name.as_str())
                .bind(&input.contacts)
                .bind(input.calendar_id)
                .bind(minutes(input.response))
                .bind(minutes(input.resolution))
                .bind(w.now())
                .bind(id)
                .execute(&mut *w.tx)
                .await
                .map_err(taken)?;
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO vendors (name, contacts, calendar_id, response_minutes, resolution_minutes, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
            )
            .bind(input.name.as_str())
            .bind(&input.contacts)
            .bind(input.calendar_id)
            .bind(minutes(input.response))
            .bind(minutes(input.resolution))
            .bind(w.now())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(taken)?,
        };
        w.event("vendor", id, "vendor.saved", false, json!({"after": {
            "name": input.name.as_str(), "contacts": input.contacts, "calendar_id": input.calendar_id,
            "response_minutes": minutes(input.response), "resolution_minutes": minutes(input.resolution),
        }})).await?;
        config_changed(&mut w, &format!("vendor '{}' saved", input.name.as_str())).await?;
        w.commit().await?;
        self.vendor(id).await
    }

    /// Per vendor: how many response and resolution clocks were met, breached (including those
    /// running past their due instant at `now`) and are still running.
    pub async fn vendor_report(&self, now: Timestamp) -> Result<Vec<VendorReport>, StoreError> {
        self.settle_derived().await?;
        let rows = sqlx::query(
            "SELECT c.vendor_id, c.metric, \
             SUM(CASE WHEN c.state = 'met' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN c.state = 'breached' OR (c.stopped_at IS NULL AND c.due_at <= $1) THEN 1 ELSE 0 END), \
             SUM(CASE WHEN c.stopped_at IS NULL THEN 1 ELSE 0 END) \
             FROM ticket_clocks c WHERE c.vendor_id IS NOT NULL GROUP BY c.vendor_id, c.metric",
        )
        .bind(now.as_microsecond())
        .fetch_all(&self.read)
        .await?;
        let mut report: Vec<VendorReport> = self
            .vendors()
            .await?
            .into_iter()
            .map(|v| VendorReport {
                vendor_id: v.terms.id,
                name: v.terms.name,
                response: (0, 0, 0),
                resolution: (0, 0, 0),
            })
            .collect();
        for row in rows {
            let vendor: i64 = row.try_get(0)?;
            let metric: String = row.try_get(1)?;
            let counts = (row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            if let Some(r) = report.iter_mut().find(|r| r.vendor_id == vendor) {
                if metric == Metric::VendorResponse.as_str() {
                    r.response = counts;
                } else {
                    r.resolution = counts;
                }
            }
        }
        Ok(report)
    }

    /// Every policy, in order.
    pub async fn policies(&self) -> Result<Vec<PolicyRecord>, StoreError> {
        load_policies(&self.read).await
    }

    /// One policy.
    pub async fn policy(&self, id: i64) -> Result<PolicyRecord, StoreError> {
        self.policies()
            .await?
            .into_iter()
            .find(|p| p.policy.id == id)
            .ok_or(StoreError::NotFound("policy"))
    }

    /// Creates a policy at `position` (the end when `None`), moving later ones down.
    pub async fn create_policy(
        &self,
        policy: &Policy,
        position: Option<i64>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<PolicyRecord, StoreError> {
        check_policy(policy)?;
        let mut w = self.write(actor, now).await?;
        let end: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) + 1 FROM sla_policies")
                .fetch_one(&mut *w.tx)
                .await?;
        let position = position.unwrap_or(end).clamp(1, end);
        sqlx::query("UPDATE sla_policies SET position = position + 1 WHERE position >= $1")
            .bind(position)
            .execute(&mut *w.tx)
            .await?;
        let spec = policy_spec(policy);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sla_policies (name, position, spec, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING id",
        )
        .bind(&policy.name)
        .bind(position)
        .bind(spec.to_string())
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(StoreError::unique("name", format!("a policy named '{}' already exists", &policy.name)))?;
        w.event(
            "sla_policy",
            id,
            "sla_policy.created",
            false,
            json!({"after": {"name": policy.name, "position": position, "spec": spec}}),
        )
        .await?;
        config_changed(&mut w, &format!("policy '{}' created", policy.name)).await?;
        w.commit().await?;
        self.policy(id).await
    }

    /// Replaces a policy's name, spec and (optionally) position.
    pub async fn update_policy(
        &self,
        id: i64,
        policy: &Policy,
        position: Option<i64>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<PolicyRecord, StoreError> {
        check_policy(policy)?;
        let before = self.policy(id).await?;
        let mut w = self.write(actor, now).await?;
        if let Some(to) = position.filter(|p| *p != before.position) {
            let end: i64 = sqlx::query_scalar("SELECT MAX(position) FROM sla_policies")
                .fetch_one(&mut *w.tx)
                .await?;
            let to = to.clamp(1, end);
            let from = before.position;
            let (sql, lo, hi) = if to < from {
                ("UPDATE sla_policies SET position = position + 1 WHERE position >= $1 AND position < $2", to, from)
            } else {
                ("UPDATE sla_policies SET position = position - 1 WHERE position > $1 AND position <= $2", from, to)
            };
            sqlx::query(sql)
                .bind(lo)
                .bind(hi)
                .execute(&mut *w.tx)
                .await?;
            sqlx::query("UPDATE sla_policies SET position = $1 WHERE id = $2")
                .bind(to)
                .bind(id)
                .execute(&mut *w.tx)
                .await?;
        }
        let spec = policy_spec(policy);
        sqlx::query("UPDATE sla_policies SET name = $1, spec = $2, updated_at = $3 WHERE id = $4")
            .bind(&policy.name)
            .bind(spec.to_string())
            .bind(w.now())
            .bind(id)
            .execute(&mut *w.tx)
            .await
            .map_err(StoreError::unique(
                "name",
                format!("a policy named '{}' already exists", &policy.name),
            ))?;
        w.event("sla_policy", id, "sla_policy.updated", false, json!({
            "before": {"name": before.policy.name, "position": before.position, "spec": policy_spec(&before.policy)},
            "after": {"name": policy.name, "position": position.unwrap_or(before.position), "spec": spec},
        })).await?;
        config_changed(&mut w, &format!("policy '{}' changed", policy.name)).await?;
        w.commit().await?;
        self.policy(id).await
    }

    /// Deletes a policy; tickets it governed fall to the next matching one.
    pub async fn delete_policy(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let before = self.policy(id).await?;
        let mut w = self.write(actor, now).await?;
        sqlx::query("DELETE FROM sla_policies WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("UPDATE sla_policies SET position = position - 1 WHERE position > $1")
            .bind(before.position)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "sla_policy",
            id,
            "sla_policy.deleted",
            false,
            json!({"before": {"name": before.policy.name}}),
        )
        .await?;
        config_changed(&mut w, &format!("policy '{}' deleted", before.policy.name)).await?;
        w.commit().await?;
        Ok(())
    }
}

/// Refuses a policy with nothing to measure.
fn check_policy(policy: &Policy) -> Result<(), Invalid> {
    Name::parse("name", &policy.name)?;
    if policy.targets.iter().all(Option::is_none) {
        return Err(Invalid::new(
            "targets",
            "a policy needs at least one target",
        ));
    }
    for (i, level) in policy.levels.iter().enumerate() {
        if level.actions.is_empty() {
            return Err(Invalid::new(
                "levels",
                format!("level {} has no actions", i + 1),
            ));
        }
        if let Some(m) = level.metric {
            if policy.target(m).is_none() {
                return Err(Invalid::new(
                    "levels",
                    format!(
                        "level {} watches {} but the policy has no target for it",
                        i + 1,
                        m.as_str()
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn calendar_json(input: &CalendarInput) -> Value {
    json!({"name": input.name.as_str(), "zone": input.zone, "hours": hours_text(&input.hours),
           "holidays": input.holidays.iter().map(|h| json!({"date": h.date.to_string(), "name": h.name})).collect::<Vec<_>>()})
}

async fn insert_holidays(
    w: &mut Write,
    calendar_id: i64,
    holidays: &[Holiday],
) -> Result<(), StoreError> {
    for h in holidays {
        sqlx::query("INSERT INTO calendar_holidays (calendar_id, date, name) VALUES ($1, $2, $3)")
            .bind(calendar_id)
            .bind(h.date.to_string())
            .bind(&h.name)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}
