//! On-call actions: schedules, overrides, escalation policies, the policy a service pages
//! with, and people's contact methods. Names and e-mails on the wire become ids here.

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::oncall::{
    DailyHours, EscalationPolicy, Layer, PageTarget, PolicyLevel, TurnLength,
};
use opsdesk_domain::{Action, Name};
use opsdesk_store::{
    ContactMethod, EscalationPolicyRecord, Incident, PageRecord, ScheduleRecord, Store, User,
    UserRef,
};

use super::Ctx;
use crate::error::{ApiError, Checks, Code};
use crate::wire::desk::{rfc3339, PersonOut};
use crate::wire::incidents::{
    ContactMethodIn, ContactMethodOut, EscalationPolicyIn, EscalationPolicyOut, LayerWire,
    OverrideIn, OverrideOut, PageOut, PolicyLevelWire, ScheduleIn, ScheduleOut, ShiftOut,
};

/// Reads an instant: RFC 3339, or a local date-time (`2026-11-30T09:00`) in `zone`.
pub fn instant_in(
    field: &str,
    raw: &str,
    zone: &jiff::tz::TimeZone,
    checks: &mut Checks,
) -> Option<Timestamp> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(t);
    }
    match raw
        .parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(zone.clone()).ok())
    {
        Some(z) => Some(z.timestamp()),
        None => {
            checks.fail(
                field,
                format!("'{raw}' is not an instant like 2026-11-30T09:00 or 2026-11-30T08:00:00Z"),
            );
            None
        }
    }
}

async fn person(store: &Store, id: i64) -> PersonOut {
    match store.user(id).await {
        Ok(u) => PersonOut {
            id: u.id,
            email: u.email,
            name: u.name,
        },
        Err(_) => PersonOut {
            id,
            email: String::new(),
            name: format!("user {id}"),
        },
    }
}

/// Creates a schedule.
pub async fn create_schedule(
    ctx: &Ctx<'_>,
    input: &ScheduleIn,
) -> Result<ScheduleRecord, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    let mut checks = Checks::default();
    let name = checks.check(Name::parse("name", &input.name));
    if input.layers.is_empty() {
        checks.fail("layers", "a schedule needs at least one layer");
    }
    let mut layers = Vec::new();
    for (i, l) in input.layers.iter().enumerate() {
        let field = |f: &str| format!("layers[{i}].{f}");
        let zone = match opsdesk_domain::calendar::parse_zone("zone", &l.zone) {
            Ok(z) => Some(z),
            Err(e) => {
                checks.fail(&field("zone"), e.reason);
                None
            }
        };
        let start = zone
            .as_ref()
            .and_then(|z| instant_in(&field("starts_at"), &l.starts_at, z, &mut checks));
        let turn = match TurnLength::parse("turn", &l.turn) {
            Ok(t) => Some(t),
            Err(e) => {
                checks.fail(&field("turn"), e.reason);
                None
            }
        };
        let hours = match l.hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            Some(h) => match DailyHours::parse("hours", h) {
                Ok(h) => Some(Some(h)),
                Err(e) => {
                    checks.fail(&field("hours"), e.reason);
                    None
                }
            },
            None => Some(None),
        };
        let mut participants = Vec::new();
        for p in &l.participants {
            if let Some(id) =
                super::staff_member(store, &field("participants"), p, actor, &mut checks).await?
            {
                participants.push(id);
            }
        }
        if l.participants.is_empty() {
            checks.fail(&field("participants"), "name at least one person");
        }
        if let (Some(zone), Some(start), Some(turn), Some(hours)) = (zone, start, turn, hours) {
            if let Ok(layer) = Layer::new(start, zone, turn, participants, hours) {
                layers.push((layer, l.zone.trim().to_owned()));
            }
        }
    }
    if input.description.len() > 2_000 {
        checks.fail("description", "at most 2,000 characters");
    }
    checks.finish()?;
    let name = name.ok_or_else(|| ApiError::new(Code::InvalidInput, "invalid schedule"))?;
    Ok(store
        .create_schedule(&name, input.description.trim(), &layers, actor, now)
        .await?)
}

/// A schedule by name.
pub async fn schedule_named(
    store: &Store,
    field: &str,
    name: &str,
) -> Result<ScheduleRecord, ApiError> {
    store
        .schedules()
        .await?
        .into_iter()
        .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            ApiError::field(
                Code::InvalidInput,
                field,
                format!("no schedule named '{}'", name.trim()),
            )
        })
}

/// The wire form of a schedule with its shifts in [from, to).
pub async fn schedule_out(
    store: &Store,
    s: &ScheduleRecord,
    now: Timestamp,
    from: Timestamp,
    to: Timestamp,
) -> ScheduleOut {
    let schedule = s.schedule();
    let mut layers = Vec::new();
    for (l, zone) in &s.layers {
        let mut participants = Vec::new();
        for p in &l.participants {
            participants.push(person(store, *p).await.email);
        }
        layers.push(LayerWire {
            starts_at: rfc3339(l.start),
            zone: zone.clone(),
            turn: l.turn.as_text(),
            participants,
            hours: l.hours.map(|h| h.as_text()),
        });
    }
    let mut overrides = Vec::new();
    for (id, o) in &s.overrides {
        if o.end > now {
            overrides.push(OverrideOut {
                id: *id,
                starts_at: rfc3339(o.start),
                ends_at: rfc3339(o.end),
                user: person(store, o.user).await,
            });
        }
    }
    let mut shifts = Vec::new();
    for sh in schedule.shifts(from, to) {
        shifts.push(ShiftOut {
            starts_at: rfc3339(sh.start),
            ends_at: rfc3339(sh.end),
            user: person(store, sh.user).await,
        });
    }
    let on_call_now = match schedule.on_call_at(now) {
        Some(u) => Some(person(store, u).await),
        None => None,
    };
    ScheduleOut {
        id: s.id,
        name: s.name.clone(),
        description: s.description.clone(),
        layers,
        overrides,
        on_call_now,
        shifts,
    }
}

/// Deletes a schedule no policy pages.
pub async fn delete_schedule(ctx: &Ctx<'_>, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    Ok(store.delete_schedule(id, actor, now).await?)
}

/// Puts someone on call over a schedule (any responder may swap shifts).
pub async fn add_override(
    ctx: &Ctx<'_>,
    schedule: i64,
    input: &OverrideIn,
) -> Result<i64, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    let mut checks = Checks::default();
    let user = super::staff_member(store, "user", &input.user, actor, &mut checks).await?;
    let utc = jiff::tz::TimeZone::UTC;
    let start = instant_in("starts_at", &input.starts_at, &utc, &mut checks);
    let end = instant_in("ends_at", &input.ends_at, &utc, &mut checks);
    if let (Some(s), Some(e)) = (start, end) {
        if e <= s {
            checks.fail("ends_at", "must be after starts_at");
        }
    }
    checks.finish()?;
    let (Some(user), Some(start), Some(end)) = (user, start, end) else {
        return Err(ApiError::new(Code::InvalidInput, "invalid override"));
    };
    Ok(store
        .add_override(schedule, user, start, end, actor, now)
        .await?)
}

/// Removes an override.
pub async fn delete_override(ctx: &Ctx<'_>, schedule: i64, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    Ok(store.delete_override(schedule, id, actor, now).await?)
}

/// Reads a target: `user:EMAIL`, `schedule:NAME` or `team:NAME`.
async fn target(
    store: &Store,
    field: &str,
    raw: &str,
    checks: &mut Checks,
) -> Result<Option<PageTarget>, ApiError> {
    let Some((kind, name)) = raw.split_once(':') else {
        checks.fail(
            field,
            format!("'{raw}' is not user:EMAIL, schedule:NAME or team:NAME"),
        );
        return Ok(None);
    };
    let name = name.trim();
    Ok(match kind.trim().to_ascii_lowercase().as_str() {
        "user" => super::staff_member(store, field, name, None, checks)
            .await?
            .map(PageTarget::User),
        "schedule" => match schedule_named(store, field, name).await {
            Ok(s) => Some(PageTarget::Schedule(s.id)),
            Err(_) => {
                checks.fail(field, format!("no schedule named '{name}'"));
                None
            }
        },
        "team" => match store.team_by_name(name).await? {
            Some(t) => Some(PageTarget::Team(t.id)),
            None => {
                checks.fail(field, format!("no team named '{name}'"));
                None
            }
        },
        other => {
            checks.fail(field, format!("'{other}' is not user, schedule or team"));
            None
        }
    })
}

/// Creates an escalation policy.
pub async fn create_policy(
    ctx: &Ctx<'_>,
    input: &EscalationPolicyIn,
) -> Result<EscalationPolicyRecord, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    let mut checks = Checks::default();
    let name = checks.check(Name::parse("name", &input.name));
    let mut levels = Vec::new();
    for (i, l) in input.levels.iter().enumerate() {
        let mut targets = Vec::new();
        for t in &l.targets {
            if let Some(t) = target(store, &format!("levels[{i}].targets"), t, &mut checks).await? {
                targets.push(t);
            }
        }
        if l.targets.is_empty() {
            checks.fail(
                &format!("levels[{i}].targets"),
                "every level needs a target",
            );
        }
        if !(1..=24 * 60).contains(&l.timeout_minutes) {
            checks.fail(&format!("levels[{i}].timeout_minutes"), "1 to 1440 minutes");
        }
        levels.push(PolicyLevel {
            timeout_minutes: l.timeout_minutes,
            targets,
        });
    }
    if input.levels.is_empty() {
        checks.fail("levels", "a policy needs at least one level");
    }
    if input.repeats > 9 {
        checks.fail("repeats", "at most 9 repeats");
    }
    checks.finish()?;
    let policy = EscalationPolicy::new(levels, input.repeats)?;
    let name = name.ok_or_else(|| ApiError::new(Code::InvalidInput, "invalid policy"))?;
    Ok(store
        .create_escalation_policy(&name, &policy, actor, now)
        .await?)
}

/// The wire form of a policy.
pub async fn policy_out(
    store: &Store,
    p: &EscalationPolicyRecord,
) -> Result<EscalationPolicyOut, ApiError> {
    let schedules = store.schedules().await?;
    let teams = store.teams().await?;
    let services = store.services().await?;
    let uses = store.service_policies().await?;
    let mut levels = Vec::new();
    for l in &p.policy.levels {
        let mut targets = Vec::new();
        for t in &l.targets {
            targets.push(match t {
                PageTarget::User(u) => format!("user:{}", person(store, *u).await.email),
                PageTarget::Schedule(s) => format!(
                    "schedule:{}",
                    schedules
                        .iter()
                        .find(|x| x.id == *s)
                        .map_or("?", |x| x.name.as_str())
                ),
                PageTarget::Team(t) => format!(
                    "team:{}",
                    teams
                        .iter()
                        .find(|x| x.id == *t)
                        .map_or("?", |x| x.name.as_str())
                ),
            });
        }
        levels.push(PolicyLevelWire {
            timeout_minutes: l.timeout_minutes,
            targets,
        });
    }
    Ok(EscalationPolicyOut {
        id: p.id,
        name: p.name.clone(),
        levels,
        repeats: p.policy.repeats,
        services: uses
            .iter()
            .filter(|(_, pid)| *pid == p.id)
            .filter_map(|(sid, _)| {
                services
                    .iter()
                    .find(|s| s.id == *sid)
                    .map(|s| s.name.clone())
            })
            .collect(),
    })
}

/// Deletes a policy no service uses and no incident was paged by.
pub async fn delete_policy(ctx: &Ctx<'_>, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    Ok(store.delete_escalation_policy(id, actor, now).await?)
}

/// Chooses the policy that pages for a service (by name; `None` pages no one).
pub async fn set_service_policy(
    ctx: &Ctx<'_>,
    service: i64,
    policy: Option<&str>,
) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    let policy_id = match policy.map(str::trim).filter(|p| !p.is_empty()) {
        Some(name) => Some(
            store
                .escalation_policies()
                .await?
                .into_iter()
                .find(|p| p.name.eq_ignore_ascii_case(name))
                .map(|p| p.id)
                .ok_or_else(|| {
                    ApiError::field(
                        Code::InvalidInput,
                        "escalation_policy",
                        format!("no escalation policy named '{name}'"),
                    )
                })?,
        ),
        None => None,
    };
    Ok(store
        .set_service_policy(service, policy_id, actor, now)
        .await?)
}

/// The ways `user` is paged.
pub async fn contact_methods(
    store: &Store,
    user: &User,
) -> Result<Vec<ContactMethodOut>, ApiError> {
    Ok(store
        .contact_methods(user.id)
        .await?
        .iter()
        .map(contact_out)
        .collect())
}

/// Removes one of `user`'s contact methods (another person's is not found).
pub async fn delete_contact_method(
    store: &Store,
    user: &User,
    id: i64,
    now: Timestamp,
) -> Result<(), ApiError> {
    Ok(store.delete_contact_method(user.id, id, now).await?)
}

/// Adds a way to page the caller.
pub async fn add_contact_method(
    store: &Store,
    user: &User,
    input: &ContactMethodIn,
    now: Timestamp,
) -> Result<ContactMethod, ApiError> {
    let mut checks = Checks::default();
    let kind = input.kind.trim().to_ascii_lowercase();
    if !matches!(kind.as_str(), "webhook" | "slack" | "email") {
        checks.fail(
            "kind",
            format!("'{}' is not webhook, slack or email", input.kind.trim()),
        );
    }
    if user.actor().authorize(Action::RespondToIncident).is_err() {
        checks.fail(
            "user",
            "only responders (agents, managers, administrators) are paged",
        );
    }
    let mut address = input.address.trim().to_owned();
    if kind == "email" {
        match opsdesk_domain::Email::parse("address", &address) {
            Ok(email) => address = email.as_str().to_owned(),
            Err(e) => checks.fail("address", e.reason),
        }
    } else if let Err(e) = opsdesk_domain::ExternalUrl::parse("address", &address) {
        checks.fail("address", e.reason);
    }
    checks.finish()?;
    Ok(store
        .add_contact_method(user.id, &kind, &address, now)
        .await?)
}

/// The wire form of a contact method.
pub fn contact_out(c: &ContactMethod) -> ContactMethodOut {
    ContactMethodOut {
        id: c.id,
        kind: c.kind.clone(),
        address: c.address.clone(),
    }
}

/// The wire form of a page.
pub fn page_out(p: &PageRecord) -> PageOut {
    PageOut {
        id: p.id,
        user: PersonOut::from(&p.user),
        run: p.run,
        round: p.round + 1,
        level: p.level + 1,
        created_at: rfc3339(p.created_at),
        answered_at: p.answered_at.map(rfc3339),
        answer: p.answer.clone(),
    }
}

/// Who each schedule has on call now: (schedule name, person).
pub async fn on_call_now(
    store: &Store,
    now: Timestamp,
) -> Result<Vec<(String, Option<UserRef>)>, ApiError> {
    let mut out = Vec::new();
    for s in store.schedules().await? {
        let who = match s.schedule().on_call_at(now) {
            Some(u) => store.user(u).await.ok().map(|u| UserRef {
                id: u.id,
                email: u.email,
                name: u.name,
            }),
            None => None,
        };
        out.push((s.name, who));
    }
    Ok(out)
}

/// The default shift window: now to 14 days ahead.
pub fn default_window(now: Timestamp) -> (Timestamp, Timestamp) {
    (now, now + SignedDuration::from_hours(24 * 14))
}

/// Every schedule with who is on call now and its shifts over the next 14 days (staff).
pub async fn schedules(ctx: &Ctx<'_>) -> Result<Vec<ScheduleOut>, ApiError> {
    let (from, to) = default_window(ctx.now);
    schedules_between(ctx, from, to).await
}

/// Every schedule with who is on call now and its shifts between `from` and `to` (staff).
pub async fn schedules_between(
    ctx: &Ctx<'_>,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ScheduleOut>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let mut out = Vec::new();
    for s in ctx.store.schedules().await? {
        out.push(schedule_out(ctx.store, &s, ctx.now, from, to).await);
    }
    Ok(out)
}

/// One schedule with its shifts between `from` and `to` (staff).
pub async fn schedule(
    ctx: &Ctx<'_>,
    id: i64,
    from: Timestamp,
    to: Timestamp,
) -> Result<ScheduleOut, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let s = ctx.store.schedule(id).await?;
    Ok(schedule_out(ctx.store, &s, ctx.now, from, to).await)
}

/// Every escalation policy (staff).
pub async fn policies(ctx: &Ctx<'_>) -> Result<Vec<EscalationPolicyOut>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let mut out = Vec::new();
    for p in ctx.store.escalation_policies().await? {
        out.push(policy_out(ctx.store, &p).await?);
    }
    Ok(out)
}

/// Who each schedule has on call now (staff).
pub async fn who_is_on_call(ctx: &Ctx<'_>) -> Result<Vec<(String, Option<UserRef>)>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    on_call_now(ctx.store, ctx.now).await
}

/// The pages sent about an incident (staff).
pub async fn incident_pages(ctx: &Ctx<'_>, incident_id: i64) -> Result<Vec<PageRecord>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    ctx.store.incident(incident_id).await?;
    Ok(ctx.store.incident_pages(incident_id).await?)
}

/// Checks a page's signed link (the signature is the permission: no one signs in).
fn check_page_link(secret: &str, id: i64, action: &str, sig: &str) -> Result<(), ApiError> {
    let known = matches!(action, "acknowledge" | "resolve");
    if !known || !crate::paging::link_is_valid(secret, id, action, sig) {
        return Err(ApiError::new(
            Code::NotFound,
            "this page link is not valid (it may have been changed)",
        ));
    }
    Ok(())
}

/// The page a signed link names, with its incident.
pub async fn linked_page(
    store: &Store,
    secret: &str,
    id: i64,
    action: &str,
    sig: &str,
) -> Result<(PageRecord, Incident), ApiError> {
    check_page_link(secret, id, action, sig)?;
    let page = store.page(id).await?;
    let incident = store.incident(page.incident_id).await?;
    Ok((page, incident))
}

/// Answers a page through its signed link, as the paged person: `resolve` resolves the
/// incident, `acknowledge` stops the paging.
pub async fn answer_linked_page(
    store: &Store,
    secret: &str,
    id: i64,
    action: &str,
    sig: &str,
    now: Timestamp,
) -> Result<PageRecord, ApiError> {
    check_page_link(secret, id, action, sig)?;
    Ok(store.answer_page(id, action == "resolve", now).await?)
}
