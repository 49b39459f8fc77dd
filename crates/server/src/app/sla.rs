//! SLA actions: calendars, policies, organisation and team SLA settings, the clocks of a ticket
//! and the at-risk list. Names on the wire (teams, organisations, e-mails) become ids here.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::calendar::{parse_zone, Holiday, HolidayDate, OpenRange, WeekHours};
use opsdesk_domain::ics::holidays_from_ics;
use opsdesk_domain::sla::{
    Conditions, Level, LevelAction, LevelPoint, Metric, PauseSet, Policy, Target,
};
use opsdesk_domain::{Action, Invalid, Name, PendingReason, Priority};
use opsdesk_store::{
    AtRisk, CalendarInput, CalendarRecord, Notification, Org, OutboxItem, PolicyRecord, SlaJob,
    Store, Team, TicketSla, VendorInput, VendorRecord,
};

use crate::app::{ticket_for, Ctx};
use crate::error::{ApiError, Checks, Code};
use crate::wire::desk::{
    ActionWire, CalendarIn, ConditionsWire, HolidayWire, LevelWire, PolicyIn, TargetWire,
    TargetsWire, VendorIn, WeekHoursWire,
};

/// Reads a calendar from its wire form, naming every bad field at once.
pub fn calendar_input(input: &CalendarIn) -> Result<CalendarInput, ApiError> {
    let mut checks = Checks::default();
    let name = checks.check(Name::parse("name", &input.name));
    let zone = checks
        .check(parse_zone("zone", &input.zone))
        .map(|_| input.zone.trim().to_owned());
    let mut week: [Vec<OpenRange>; 7] = Default::default();
    for (i, (field, text)) in input.hours.days().into_iter().enumerate() {
        if let Some(ranges) = checks.check(OpenRange::parse_list(field, text)) {
            week[i] = ranges;
        }
    }
    let holidays: Vec<Holiday> = input
        .holidays
        .iter()
        .filter_map(|h| {
            let date = checks.check(HolidayDate::parse("holidays.date", &h.date))?;
            let name = checks.check(Name::parse("holidays.name", &h.name))?;
            Some(Holiday {
                date,
                name: name.as_str().to_owned(),
            })
        })
        .collect();
    if week.iter().all(Vec::is_empty) && checks.is_clean() {
        checks.fail(
            "hours",
            "a calendar needs opening hours on at least one weekday",
        );
    }
    checks.finish()?;
    match (name, zone) {
        (Some(name), Some(zone)) => Ok(CalendarInput {
            name,
            zone,
            hours: WeekHours(week),
            holidays,
        }),
        _ => Err(ApiError::new(Code::InvalidInput, "invalid calendar")),
    }
}

/// The wire form of a stored calendar.
pub fn calendar_wire(record: &CalendarRecord) -> (WeekHoursWire, Vec<HolidayWire>) {
    let days = record.calendar.week().clone().map(|ranges| {
        ranges
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    });
    let holidays = record
        .calendar
        .holidays()
        .iter()
        .map(|h| HolidayWire {
            date: h.date.to_string(),
            name: h.name.clone(),
        })
        .collect();
    (WeekHoursWire::from_days(days), holidays)
}

/// Creates a calendar (and makes it the default when asked).
pub async fn create_calendar(
    ctx: &Ctx<'_>,
    input: &CalendarIn,
) -> Result<CalendarRecord, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    let parsed = calendar_input(input)?;
    let record = store.create_calendar(&parsed, actor, now).await?;
    if input.default {
        store.set_default_calendar(record.id, actor, now).await?;
        return Ok(store.calendar(record.id).await?);
    }
    Ok(record)
}

/// Replaces a calendar's name, zone, hours and holidays.
pub async fn update_calendar(
    ctx: &Ctx<'_>,
    id: i64,
    input: &CalendarIn,
) -> Result<CalendarRecord, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    let parsed = calendar_input(input)?;
    store.update_calendar(id, &parsed, actor, now).await?;
    if input.default {
        store.set_default_calendar(id, actor, now).await?;
    }
    Ok(store.calendar(id).await?)
}

/// Adds the holidays of an iCalendar text to a calendar; answers how many were new.
pub async fn import_ics(ctx: &Ctx<'_>, id: i64, ics: &str) -> Result<usize, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    store.calendar(id).await?;
    let holidays = holidays_from_ics(ics)?;
    Ok(store.add_holidays(id, &holidays, actor, now).await?)
}

/// A calendar by name, for fields that name one.
pub async fn calendar_named(
    store: &Store,
    field: &'static str,
    name: &str,
) -> Result<CalendarRecord, ApiError> {
    store
        .calendars()
        .await?
        .into_iter()
        .find(|c| c.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            ApiError::field(
                Code::InvalidInput,
                field,
                format!("no calendar named '{}'", name.trim()),
            )
        })
}

/// Sets a team's calendar (`None` = the default).
pub async fn set_team_calendar(
    ctx: &Ctx<'_>,
    team_id: i64,
    calendar: Option<&str>,
) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    let calendar_id = match calendar.map(str::trim).filter(|c| !c.is_empty()) {
        Some(name) => Some(calendar_named(store, "calendar", name).await?.id),
        None => None,
    };
    Ok(store
        .set_team_calendar(team_id, calendar_id, actor, now)
        .await?)
}

/// Sets an organisation's calendar and plan; `None` leaves a field as it is.
pub async fn set_org_sla(
    ctx: &Ctx<'_>,
    org_id: i64,
    calendar: Option<Option<&str>>,
    plan: Option<Option<&str>>,
) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    let calendar_id = match calendar {
        Some(Some(name)) if !name.trim().is_empty() => {
            Some(Some(calendar_named(store, "calendar", name).await?.id))
        }
        Some(_) => Some(None),
        None => None,
    };
    let plan = plan.map(|p| p.map(str::trim).filter(|p| !p.is_empty()));
    if let Some(Some(p)) = plan {
        Name::parse("plan", p)?;
    }
    Ok(store
        .set_org_sla(org_id, calendar_id, plan, actor, now)
        .await?)
}

fn target_from(
    metric: Metric,
    wire: &Option<TargetWire>,
    checks: &mut Checks,
) -> (Option<Target>, PauseSet) {
    let Some(t) = wire else {
        return (None, PauseSet::default_for(metric));
    };
    let field: &'static str = match metric {
        Metric::FirstResponse => "targets.first_response",
        Metric::NextResponse => "targets.next_response",
        Metric::Resolution => "targets.resolution",
        Metric::PeriodicUpdate => "targets.periodic_update",
        Metric::VendorResponse | Metric::VendorResolution => "targets",
    };
    let target = checks.check(Target::new(field, t.minutes, t.business));
    let pauses = match &t.pauses {
        None => PauseSet::default_for(metric),
        Some(list) => {
            let reasons: Vec<PendingReason> = list
                .iter()
                .filter_map(|r| checks.check(PendingReason::parse(field, r)))
                .collect();
            PauseSet::of(&reasons)
        }
    };
    (target, pauses)
}

/// The non-blank entries of a condition list, trimmed (and lower-cased where matching is).
fn cleaned(list: &[String], lower: bool) -> Vec<String> {
    list.iter()
        .map(|v| {
            if lower {
                v.trim().to_lowercase()
            } else {
                v.trim().to_owned()
            }
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// Reads a policy from its wire form, resolving names; every bad field is named at once.
pub async fn policy_from(store: &Store, input: &PolicyIn) -> Result<Policy, ApiError> {
    let mut checks = Checks::default();
    let name = checks.check(Name::parse("name", &input.name));
    let c = &input.conditions;
    let mut conditions = Conditions {
        priorities: c
            .priorities
            .iter()
            .filter_map(|p| checks.check(Priority::parse("conditions.priorities", p)))
            .collect(),
        plans: cleaned(&c.plans, false),
        tags: cleaned(&c.tags, true),
        channels: cleaned(&c.channels, true),
        categories: cleaned(&c.categories, false),
        ..Conditions::default()
    };
    for channel in &conditions.channels {
        if !["portal", "desk", "api", "email"].contains(&channel.as_str()) {
            checks.fail(
                "conditions.channels",
                format!("'{channel}' is not a channel (portal, desk, api, email)"),
            );
        }
    }
    for team in &c.teams {
        match store.team_by_name(team).await? {
            Some(t) => conditions.team_ids.push(t.id),
            None => checks.fail("conditions.teams", format!("no team named '{team}'")),
        }
    }
    for org in &c.organizations {
        match store.org_by_name(org).await? {
            Some(o) => conditions.org_ids.push(o.id),
            None => checks.fail(
                "conditions.organizations",
                format!("no organisation named '{org}'"),
            ),
        }
    }
    let mut targets = [None; 4];
    let mut pauses = [PauseSet::NONE; 4];
    let t = &input.targets;
    for (metric, wire) in [
        (Metric::FirstResponse, &t.first_response),
        (Metric::NextResponse, &t.next_response),
        (Metric::Resolution, &t.resolution),
        (Metric::PeriodicUpdate, &t.periodic_update),
    ] {
        let (target, pause) = target_from(metric, wire, &mut checks);
        targets[metric.index()] = target;
        pauses[metric.index()] = pause;
    }
    let mut levels = Vec::new();
    for level in &input.levels {
        let at = checks.check(LevelPoint::parse("levels.at", &level.at));
        let metric = match &level.metric {
            Some(m) => checks.check(Metric::parse("levels.metric", m)).map(Some),
            None => Some(None),
        };
        let mut actions = Vec::new();
        for action in &level.actions {
            let arg = match (action.kind.trim(), action.target.as_deref().map(str::trim)) {
                ("notify_user", Some(email)) => match store.user_by_email(email).await? {
                    Some(u) if u.actor().works_the_desk() => Some(u.id.to_string()),
                    _ => {
                        checks.fail(
                            "levels.actions",
                            format!("no staff user with e-mail {email}"),
                        );
                        continue;
                    }
                },
                ("move_to_team", Some(team)) => match store.team_by_name(team).await? {
                    Some(t) => Some(t.id.to_string()),
                    None => {
                        checks.fail("levels.actions", format!("no team named '{team}'"));
                        continue;
                    }
                },
                (_, target) => target.map(str::to_owned),
            };
            if let Some(a) = checks.check(LevelAction::parse(
                "levels.actions",
                &action.kind,
                arg.as_deref(),
            )) {
                actions.push(a);
            }
        }
        if let (Some(at), Some(metric)) = (at, metric) {
            levels.push(Level {
                metric,
                at,
                actions,
            });
        }
    }
    checks.finish()?;
    let policy = Policy {
        id: 0,
        name: name.map(|n| n.as_str().to_owned()).unwrap_or_default(),
        conditions,
        targets,
        pauses,
        levels,
    };
    Ok(policy)
}

/// Names of teams, organisations and users, to show stored ids as the wire speaks of them.
pub struct Names {
    teams: HashMap<i64, String>,
    orgs: HashMap<i64, String>,
    users: HashMap<i64, String>,
}

impl Names {
    /// Loads the names a policy may refer to.
    pub async fn load(store: &Store, policies: &[PolicyRecord]) -> Result<Self, ApiError> {
        let teams = store
            .teams()
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        let orgs = store
            .orgs()
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect();
        let mut users = HashMap::new();
        for p in policies {
            for level in &p.policy.levels {
                for action in &level.actions {
                    if let LevelAction::NotifyUser(id) = action {
                        if let Ok(u) = store.user(*id).await {
                            users.insert(*id, u.email);
                        }
                    }
                }
            }
        }
        Ok(Self { teams, orgs, users })
    }

    fn team(&self, id: i64) -> String {
        self.teams
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("team {id}"))
    }
}

/// The wire form of a stored policy.
pub fn policy_wire(
    record: &PolicyRecord,
    names: &Names,
) -> (ConditionsWire, TargetsWire, Vec<LevelWire>) {
    let p = &record.policy;
    let c = &p.conditions;
    let conditions = ConditionsWire {
        priorities: c.priorities.iter().map(|p| p.as_str().to_owned()).collect(),
        teams: c.team_ids.iter().map(|id| names.team(*id)).collect(),
        organizations: c
            .org_ids
            .iter()
            .map(|id| {
                names
                    .orgs
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| format!("organisation {id}"))
            })
            .collect(),
        plans: c.plans.clone(),
        tags: c.tags.clone(),
        channels: c.channels.clone(),
        categories: c.categories.clone(),
    };
    let target = |m: Metric| {
        p.target(m).map(|t| TargetWire {
            minutes: t.minutes(),
            business: t.business(),
            pauses: Some(
                p.pauses[m.index()]
                    .reasons()
                    .into_iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
            ),
        })
    };
    let targets = TargetsWire {
        first_response: target(Metric::FirstResponse),
        next_response: target(Metric::NextResponse),
        resolution: target(Metric::Resolution),
        periodic_update: target(Metric::PeriodicUpdate),
    };
    let levels = p
        .levels
        .iter()
        .map(|l| LevelWire {
            at: l.at.to_string(),
            metric: l.metric.map(|m| m.as_str().to_owned()),
            actions: l
                .actions
                .iter()
                .map(|a| ActionWire {
                    kind: a.kind().to_owned(),
                    target: match a {
                        LevelAction::NotifyUser(id) => Some(
                            names
                                .users
                                .get(id)
                                .cloned()
                                .unwrap_or_else(|| format!("user {id}")),
                        ),
                        LevelAction::MoveToTeam(id) => Some(names.team(*id)),
                        other => other.argument(),
                    },
                })
                .collect(),
        })
        .collect();
    (conditions, targets, levels)
}

/// Creates a policy.
pub async fn create_policy(ctx: &Ctx<'_>, input: &PolicyIn) -> Result<PolicyRecord, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    let policy = policy_from(store, input).await?;
    Ok(store
        .create_policy(&policy, input.position, actor, now)
        .await?)
}

/// Replaces a policy.
pub async fn update_policy(
    ctx: &Ctx<'_>,
    id: i64,
    input: &PolicyIn,
) -> Result<PolicyRecord, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    store.policy(id).await?;
    let policy = policy_from(store, input).await?;
    Ok(store
        .update_policy(id, &policy, input.position, actor, now)
        .await?)
}

/// Deletes a policy.
pub async fn delete_policy(ctx: &Ctx<'_>, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    Ok(store.delete_policy(id, actor, now).await?)
}

/// The clocks of a ticket, for staff.
pub async fn ticket_sla(ctx: &Ctx<'_>, id: i64) -> Result<TicketSla, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    ticket_for(store, actor, id).await?;
    actor.authorize(Action::ReadInternal)?;
    Ok(store.ticket_sla(id, now).await?)
}

/// Clocks whose next breach or level falls within `within`, and active breached clocks; for
/// staff, optionally one team's.
pub async fn at_risk(
    ctx: &Ctx<'_>,
    within: SignedDuration,
    team: Option<&str>,
) -> Result<Vec<AtRisk>, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    actor.authorize(Action::ListQueues)?;
    let teams = match team.map(str::trim).filter(|t| !t.is_empty()) {
        Some(name) => Some(vec![
            store
                .team_by_name(name)
                .await?
                .ok_or_else(|| {
                    ApiError::field(
                        Code::InvalidInput,
                        "team",
                        format!("no team named '{name}'"),
                    )
                })?
                .id,
        ]),
        None => None,
    };
    let until = now
        .checked_add(within)
        .map_err(|_| ApiError::field(Code::InvalidInput, "within", "too far ahead"))?;
    Ok(store.at_risk(now, until, teams.as_deref(), 500).await?)
}

/// Deletes a calendar nothing uses.
pub async fn delete_calendar(ctx: &Ctx<'_>, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    Ok(store.delete_calendar(id, actor, now).await?)
}

/// Deletes a vendor no ticket was handed to.
pub async fn delete_vendor(ctx: &Ctx<'_>, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    Ok(store.delete_vendor(id, actor, now).await?)
}

/// A vendor's id by name.
pub async fn vendor_named(store: &Store, name: &str) -> Result<i64, ApiError> {
    store
        .vendors()
        .await?
        .into_iter()
        .find(|v| v.terms.name.eq_ignore_ascii_case(name.trim()))
        .map(|v| v.terms.id)
        .ok_or_else(|| {
            ApiError::field(
                Code::InvalidInput,
                "vendor",
                format!("no vendor named '{}'", name.trim()),
            )
        })
}

/// Creates (`id` = `None`) or replaces a vendor.
pub async fn save_vendor(
    ctx: &Ctx<'_>,
    id: Option<i64>,
    input: &VendorIn,
) -> Result<VendorRecord, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageSla)?;
    let mut checks = Checks::default();
    let name = checks.check(Name::parse("name", &input.name));
    let response = input
        .response_minutes
        .and_then(|m| checks.check(Target::new("response_minutes", m, true)));
    let resolution = input
        .resolution_minutes
        .and_then(|m| checks.check(Target::new("resolution_minutes", m, true)));
    if input.response_minutes.is_none() && input.resolution_minutes.is_none() {
        checks.fail(
            "response_minutes",
            "a vendor needs a response or a resolution target",
        );
    }
    if input.contacts.len() > 2_000 {
        checks.fail("contacts", "at most 2,000 characters");
    }
    let calendar_id = match input
        .calendar
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => match calendar_named(store, "calendar", c).await {
            Ok(cal) => Some(cal.id),
            Err(_) => {
                checks.fail("calendar", format!("no calendar named '{c}'"));
                None
            }
        },
        None => None,
    };
    checks.finish()?;
    let name = name.ok_or_else(|| ApiError::new(Code::InvalidInput, "invalid vendor"))?;
    let input = VendorInput {
        name,
        contacts: input.contacts.trim().to_owned(),
        calendar_id,
        response,
        resolution,
    };
    Ok(store.save_vendor(id, &input, actor, now).await?)
}

/// Reads one level written as a line: `75% first_response: notify_assignee, add_tag=at-risk`.
///
/// The metric is optional (`+1h: raise_priority`); targets follow `=` (a tag, a team name, an
/// e-mail or a URL).
pub fn parse_level_line(line: &str) -> Result<LevelWire, Invalid> {
    let field = "levels";
    let (head, actions) = line.split_once(':').ok_or_else(|| {
        Invalid::new(
            field,
            format!(
                "'{}' is not a level like '75% first_response: notify_assignee'",
                line.trim()
            ),
        )
    })?;
    let mut words = head.split_whitespace();
    let at = words
        .next()
        .ok_or_else(|| Invalid::new(field, "a level starts with its point, like 75% or +1h"))?;
    let metric = words.next().map(str::to_owned);
    if words.next().is_some() {
        return Err(Invalid::new(
            field,
            format!(
                "'{}': one point and at most one metric before ':'",
                head.trim()
            ),
        ));
    }
    let actions: Vec<ActionWire> = actions
        .split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| match a.split_once('=') {
            Some((kind, target)) => ActionWire {
                kind: kind.trim().to_owned(),
                target: Some(target.trim().to_owned()),
            },
            None => ActionWire {
                kind: a.to_owned(),
                target: None,
            },
        })
        .collect();
    if actions.is_empty() {
        return Err(Invalid::new(
            field,
            format!("'{}' has no actions after ':'", line.trim()),
        ));
    }
    Ok(LevelWire {
        at: at.to_owned(),
        metric,
        actions,
    })
}

/// Writes a level as the line [`parse_level_line`] reads.
pub fn level_line(level: &LevelWire) -> String {
    let actions: Vec<String> = level
        .actions
        .iter()
        .map(|a| match &a.target {
            Some(t) => format!("{}={t}", a.kind),
            None => a.kind.clone(),
        })
        .collect();
    match &level.metric {
        Some(m) => format!("{} {m}: {}", level.at, actions.join(", ")),
        None => format!("{}: {}", level.at, actions.join(", ")),
    }
}

/// The wire form of vendors with their SLA results.
pub async fn vendors_out(
    store: &Store,
    now: Timestamp,
) -> Result<Vec<crate::wire::desk::VendorOut>, ApiError> {
    let report = store.vendor_report(now).await?;
    let calendars = store.calendars().await?;
    Ok(store
        .vendors()
        .await?
        .into_iter()
        .map(|v| {
            let r = report.iter().find(|r| r.vendor_id == v.terms.id);
            let (rm, rb, rr) = r.map_or((0, 0, 0), |r| r.response);
            let (sm, sb, sr) = r.map_or((0, 0, 0), |r| r.resolution);
            crate::wire::desk::VendorOut {
                id: v.terms.id,
                name: v.terms.name.clone(),
                contacts: v.contacts.clone(),
                calendar: v
                    .calendar_id
                    .and_then(|id| calendars.iter().find(|c| c.id == id))
                    .map(|c| c.name.clone()),
                response_minutes: v.terms.response.map(|t| t.minutes()),
                resolution_minutes: v.terms.resolution.map(|t| t.minutes()),
                response_met: rm,
                response_breached: rb,
                resolution_met: sm,
                resolution_breached: sb,
                running: rr + sr,
            }
        })
        .collect())
}

/// The wire form of a policy.
pub fn policy_out(record: &PolicyRecord, names: &Names) -> crate::wire::desk::PolicyOut {
    let (conditions, targets, levels) = policy_wire(record, names);
    crate::wire::desk::PolicyOut {
        id: record.policy.id,
        name: record.policy.name.clone(),
        position: record.position,
        conditions,
        targets,
        levels,
        updated_at: crate::wire::desk::rfc3339(record.updated_at),
    }
}

/// Every business calendar (staff).
pub async fn calendars(ctx: &Ctx<'_>) -> Result<Vec<CalendarRecord>, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    Ok(ctx.store.calendars().await?)
}

/// One business calendar (staff).
pub async fn calendar(ctx: &Ctx<'_>, id: i64) -> Result<CalendarRecord, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    Ok(ctx.store.calendar(id).await?)
}

/// Every SLA policy as stored, in order (staff).
pub async fn policy_records(ctx: &Ctx<'_>) -> Result<Vec<PolicyRecord>, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    Ok(ctx.store.policies().await?)
}

/// Every SLA policy in order, the first matching applies (staff).
pub async fn policies(ctx: &Ctx<'_>) -> Result<Vec<crate::wire::desk::PolicyOut>, ApiError> {
    let records = policy_records(ctx).await?;
    let names = Names::load(ctx.store, &records).await?;
    Ok(records.iter().map(|r| policy_out(r, &names)).collect())
}

/// One SLA policy (staff).
pub async fn policy(ctx: &Ctx<'_>, id: i64) -> Result<crate::wire::desk::PolicyOut, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    let record = ctx.store.policy(id).await?;
    let names = Names::load(ctx.store, std::slice::from_ref(&record)).await?;
    Ok(policy_out(&record, &names))
}

/// The latest background recomputations, newest first (staff).
pub async fn jobs(ctx: &Ctx<'_>, limit: i64) -> Result<Vec<SlaJob>, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    Ok(ctx.store.sla_jobs(limit).await?)
}

/// Every vendor with its results (staff).
pub async fn vendors(ctx: &Ctx<'_>) -> Result<Vec<crate::wire::desk::VendorOut>, ApiError> {
    ctx.authorize(Action::ReadDirectory)?;
    vendors_out(ctx.store, ctx.now).await
}

/// One vendor with its results (staff).
pub async fn vendor(ctx: &Ctx<'_>, id: i64) -> Result<crate::wire::desk::VendorOut, ApiError> {
    vendors(ctx)
        .await?
        .into_iter()
        .find(|v| v.id == id)
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such vendor"))
}

/// The operator's notifications, newest first (the console has none).
pub async fn notifications(ctx: &Ctx<'_>, limit: i64) -> Result<Vec<Notification>, ApiError> {
    match ctx.actor() {
        Some(actor) => Ok(ctx.store.notifications(actor.user_id, limit).await?),
        None => Ok(Vec::new()),
    }
}

/// Marks every notification of the operator read.
pub async fn read_notifications(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if let Some(actor) = ctx.actor() {
        ctx.store
            .mark_notifications_read(actor.user_id, ctx.now)
            .await?;
    }
    Ok(())
}

/// A ticket's clocks for a reader who sees internal data and has already read the ticket;
/// `None` for everyone else.
pub async fn clocks_if_internal(ctx: &Ctx<'_>, id: i64) -> Result<Option<TicketSla>, ApiError> {
    if !ctx.sees_internal() {
        return Ok(None);
    }
    Ok(Some(ctx.store.ticket_sla(id, ctx.now).await?))
}

/// Everything the SLA settings page shows.
pub struct Settings {
    /// Business calendars.
    pub calendars: Vec<CalendarRecord>,
    /// Policies in order.
    pub policies: Vec<PolicyRecord>,
    /// Names of what the policies refer to.
    pub names: Names,
    /// Teams.
    pub teams: Vec<Team>,
    /// Organisations.
    pub orgs: Vec<Org>,
    /// The latest background recomputations.
    pub jobs: Vec<SlaJob>,
    /// The latest notification deliveries.
    pub outbox: Vec<OutboxItem>,
    /// Vendors with their results.
    pub vendors: Vec<crate::wire::desk::VendorOut>,
}

/// The SLA settings: calendars, policies, vendors and the work they cause (administrators
/// and managers).
pub async fn settings(ctx: &Ctx<'_>) -> Result<Settings, ApiError> {
    ctx.authorize(Action::ManageSla)?;
    let store = ctx.store;
    let policies = store.policies().await?;
    Ok(Settings {
        calendars: store.calendars().await?,
        names: Names::load(store, &policies).await?,
        policies,
        teams: store.teams().await?,
        orgs: store.orgs().await?,
        jobs: store.sla_jobs(5).await?,
        outbox: store.outbox_recent(10).await?,
        vendors: vendors_out(store, ctx.now).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_lines_round_trip() {
        let line =
            "75% first_response: notify_assignee, add_tag=at-risk, move_to_team=Service Desk L2";
        let level = parse_level_line(line).unwrap();
        assert_eq!(level.at, "75%");
        assert_eq!(level.metric.as_deref(), Some("first_response"));
        assert_eq!(level.actions.len(), 3);
        assert_eq!(level.actions[2].target.as_deref(), Some("Service Desk L2"));
        assert_eq!(level_line(&level), line);
        assert!(parse_level_line("+1h: raise_priority")
            .unwrap()
            .metric
            .is_none());
        assert!(parse_level_line("75% notify").is_err());
        assert!(parse_level_line("75% resolution:").is_err());
    }
}
