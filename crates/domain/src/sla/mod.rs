//! SLA policies and the clocks they run on a ticket.
//!
//! The clocks are a pure function of (the ticket's history, the policy, the calendar, `now`):
//! the store keeps their result only as a cache, and recomputes it from the event log whenever
//! the ticket, its policy or its calendar changes. Nothing here reads a clock or a database.

use jiff::{SignedDuration, Timestamp};

use crate::calendar::Calendar;
use crate::ticket::{PendingReason, Status};
use crate::values::{ExternalUrl, Tag};
use crate::{Invalid, Priority};

/// What an SLA measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// From creation to the desk's first public reply.
    FirstResponse,
    /// From each later customer reply to the desk's next public reply.
    NextResponse,
    /// From creation to resolution, summed over reopenings.
    Resolution,
    /// Between the desk's public updates while the ticket is active.
    PeriodicUpdate,
    /// From handing a ticket to a vendor to the vendor's first response.
    VendorResponse,
    /// From handing a ticket to a vendor until the ticket no longer waits on it.
    VendorResolution,
}

impl Metric {
    /// Every metric, in display order.
    pub const ALL: [Metric; 4] = [
        Metric::FirstResponse,
        Metric::NextResponse,
        Metric::Resolution,
        Metric::PeriodicUpdate,
    ];

    /// The clocks a vendor's terms run while a ticket waits on that vendor.
    pub const VENDOR: [Metric; 2] = [Metric::VendorResponse, Metric::VendorResolution];

    /// Parses a metric name for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .chain(Self::VENDOR)
            .find(|m| m.as_str() == raw.trim().to_lowercase())
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("'{raw}' is not a metric (first_response, next_response, resolution, periodic_update)"),
                )
            })
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::FirstResponse => "first_response",
            Metric::NextResponse => "next_response",
            Metric::Resolution => "resolution",
            Metric::PeriodicUpdate => "periodic_update",
            Metric::VendorResponse => "vendor_response",
            Metric::VendorResolution => "vendor_resolution",
        }
    }

    /// Words for a person.
    pub fn label(self) -> &'static str {
        match self {
            Metric::FirstResponse => "First response",
            Metric::NextResponse => "Next response",
            Metric::Resolution => "Resolution",
            Metric::PeriodicUpdate => "Periodic update",
            Metric::VendorResponse => "Vendor response",
            Metric::VendorResolution => "Vendor resolution",
        }
    }

    /// Position in [`Metric::ALL`] (vendor metrics follow, past the policy's arrays).
    pub fn index(self) -> usize {
        match self {
            Metric::FirstResponse => 0,
            Metric::NextResponse => 1,
            Metric::Resolution => 2,
            Metric::PeriodicUpdate => 3,
            Metric::VendorResponse => 4,
            Metric::VendorResolution => 5,
        }
    }
}

/// How long a metric may take, in business time (per the calendar) or in calendar time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    minutes: i64,
    business: bool,
}

/// The longest target accepted: a year of minutes.
const MAX_TARGET_MINUTES: i64 = 366 * 24 * 60;

impl Target {
    /// A target of `minutes` (1 minute to a year).
    pub fn new(field: &'static str, minutes: i64, business: bool) -> Result<Self, Invalid> {
        if !(1..=MAX_TARGET_MINUTES).contains(&minutes) {
            return Err(Invalid::new(
                field,
                format!("a target is between 1 minute and {MAX_TARGET_MINUTES} minutes (a year), not {minutes}"),
            ));
        }
        Ok(Self { minutes, business })
    }

    /// The target in minutes.
    pub fn minutes(self) -> i64 {
        self.minutes
    }

    /// Whether the target counts business time only.
    pub fn business(self) -> bool {
        self.business
    }

    /// The target as a duration.
    pub fn duration(self) -> SignedDuration {
        SignedDuration::from_mins(self.minutes)
    }
}

/// Which pending reasons pause a metric's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PauseSet(u8);

impl PauseSet {
    /// Pauses for nothing.
    pub const NONE: PauseSet = PauseSet(0);

    /// The set of the given reasons.
    pub fn of(reasons: &[PendingReason]) -> Self {
        Self(reasons.iter().fold(0, |bits, r| bits | Self::bit(*r)))
    }

    fn bit(reason: PendingReason) -> u8 {
        match reason {
            PendingReason::Customer => 1,
            PendingReason::Vendor => 2,
            PendingReason::Internal => 4,
        }
    }

    /// Whether `reason` pauses the clock.
    pub fn contains(self, reason: PendingReason) -> bool {
        self.0 & Self::bit(reason) != 0
    }

    /// The reasons in the set.
    pub fn reasons(self) -> Vec<PendingReason> {
        PendingReason::ALL
            .into_iter()
            .filter(|r| self.contains(*r))
            .collect()
    }

    /// The usual choice: waiting on the customer or a vendor pauses resolution and periodic
    /// updates; responses never pause.
    pub fn default_for(metric: Metric) -> Self {
        match metric {
            Metric::FirstResponse
            | Metric::NextResponse
            | Metric::VendorResponse
            | Metric::VendorResolution => Self::NONE,
            Metric::Resolution | Metric::PeriodicUpdate => {
                Self::of(&[PendingReason::Customer, PendingReason::Vendor])
            }
        }
    }
}

/// What a policy's conditions look at on a ticket.
#[derive(Debug, Clone, Copy)]
pub struct TicketFacts<'a> {
    /// Current priority.
    pub priority: Priority,
    /// Team (queue).
    pub team_id: i64,
    /// Organisation, when the requester has one.
    pub org_id: Option<i64>,
    /// The organisation's plan ("gold").
    pub plan: Option<&'a str>,
    /// Tags.
    pub tags: &'a [String],
    /// Channel it came in by ("portal", "api", "email", "desk").
    pub channel: &'a str,
    /// Category (the ticket's type).
    pub category: Option<&'a str>,
}

/// When a policy applies; every non-empty list must match, an empty list matches anything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    /// Any of these priorities.
    pub priorities: Vec<Priority>,
    /// Any of these teams.
    pub team_ids: Vec<i64>,
    /// Any of these organisations.
    pub org_ids: Vec<i64>,
    /// Any of these organisation plans.
    pub plans: Vec<String>,
    /// Any of these tags.
    pub tags: Vec<String>,
    /// Any of these channels.
    pub channels: Vec<String>,
    /// Any of these categories (ticket types).
    pub categories: Vec<String>,
}

impl Conditions {
    /// Whether a ticket with `facts` meets every condition.
    pub fn matches(&self, facts: &TicketFacts<'_>) -> bool {
        fn any<T: PartialEq>(list: &[T], value: Option<&T>) -> bool {
            list.is_empty() || value.is_some_and(|v| list.contains(v))
        }
        any(&self.priorities, Some(&facts.priority))
            && any(&self.team_ids, Some(&facts.team_id))
            && any(&self.org_ids, facts.org_id.as_ref())
            && (self.plans.is_empty()
                || facts
                    .plan
                    .is_some_and(|p| self.plans.iter().any(|q| q.eq_ignore_ascii_case(p))))
            && (self.tags.is_empty() || self.tags.iter().any(|t| facts.tags.contains(t)))
            && (self.channels.is_empty() || self.channels.iter().any(|c| c == facts.channel))
            && (self.categories.is_empty()
                || facts
                    .category
                    .is_some_and(|c| self.categories.iter().any(|q| q.eq_ignore_ascii_case(c))))
    }

    /// Whether no condition is set (the policy matches every ticket).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// When an escalation level fires, relative to a clock's target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelPoint {
    /// At this percentage of the target used (75 = three quarters, 100 = at breach).
    Percent(u16),
    /// This long after the due instant (negative: before it), in the clock's own time.
    FromDue(SignedDuration),
}

impl LevelPoint {
    /// Parses `75%`, `+1h`, `-30m`, `+4h30m`, `+2d` (business or calendar time like the clock).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let text = raw.trim();
        let bad = || {
            Invalid::new(
                field,
                format!("'{raw}' is not a level point like 75%, 100%, +1h or -30m"),
            )
        };
        if let Some(pct) = text.strip_suffix('%') {
            let pct: u16 = pct.trim().parse().map_err(|_| bad())?;
            if !(1..=1000).contains(&pct) {
                return Err(Invalid::new(field, "a percentage is between 1% and 1000%"));
            }
            return Ok(Self::Percent(pct));
        }
        let (sign, rest) = match text.chars().next() {
            Some('+') => (1, &text[1..]),
            Some('-') => (-1, &text[1..]),
            _ => return Err(bad()),
        };
        let minutes = parse_minutes(rest).ok_or_else(bad)?;
        Ok(Self::FromDue(SignedDuration::from_mins(sign * minutes)))
    }

    /// How much of the clock's time must have passed for the level to fire.
    pub fn threshold(self, target: Target) -> SignedDuration {
        match self {
            Self::Percent(p) => SignedDuration::from_secs(target.minutes * 60 * i64::from(p) / 100),
            Self::FromDue(offset) => (target.duration() + offset).max(SignedDuration::ZERO),
        }
    }
}

impl std::fmt::Display for LevelPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Percent(p) => write!(f, "{p}%"),
            Self::FromDue(d) => {
                let sign = if d.is_negative() { '-' } else { '+' };
                write!(f, "{sign}{}", format_duration(d.abs()))
            }
        }
    }
}

/// Parses `1h`, `30m`, `4h30m`, `2d` into minutes.
fn parse_minutes(raw: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in raw.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: i64 = number.parse().ok()?;
        number.clear();
        let unit = match c {
            'd' => 1440,
            'h' => 60,
            'm' => 1,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit)?)?;
        any = true;
    }
    if !number.is_empty() || !any || total > MAX_TARGET_MINUTES {
        return None;
    }
    Some(total)
}

/// "2h 10m", "3d 4h", "45s": a duration for people, to the minute above a minute.
pub fn format_duration(d: SignedDuration) -> String {
    let negative = d.is_negative();
    let secs = d.as_secs().abs();
    let text = if secs < 60 {
        format!("{secs}s")
    } else {
        let mins = secs / 60;
        let (days, hours, minutes) = (mins / 1440, (mins % 1440) / 60, mins % 60);
        let mut parts = Vec::new();
        if days > 0 {
            parts.push(format!("{days}d"));
        }
        if hours > 0 {
            parts.push(format!("{hours}h"));
        }
        if minutes > 0 && days == 0 {
            parts.push(format!("{minutes}m"));
        }
        if parts.is_empty() {
            parts.push("0m".to_owned());
        }
        parts.join(" ")
    };
    if negative {
        format!("-{text}")
    } else {
        text
    }
}

/// What an escalation level does when it fires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelAction {
    /// Tell the assignee.
    NotifyAssignee,
    /// Tell every member of the ticket's team.
    NotifyTeam,
    /// Tell the managers among the team's members.
    NotifyTeamManagers,
    /// Tell one named user.
    NotifyUser(i64),
    /// Raise the priority one step (P4 → P3 …, P1 stays).
    RaisePriority,
    /// Move the ticket to this team.
    MoveToTeam(i64),
    /// Escalate one tier, along the team's escalation route.
    EscalateTier,
    /// Add this tag.
    AddTag(Tag),
    /// Call this webhook (delivered through the outbox).
    Webhook(ExternalUrl),
}

impl LevelAction {
    /// The stable name of the action's kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotifyAssignee => "notify_assignee",
            Self::NotifyTeam => "notify_team",
            Self::NotifyTeamManagers => "notify_team_managers",
            Self::NotifyUser(_) => "notify_user",
            Self::RaisePriority => "raise_priority",
            Self::MoveToTeam(_) => "move_to_team",
            Self::EscalateTier => "escalate_tier",
            Self::AddTag(_) => "add_tag",
            Self::Webhook(_) => "webhook",
        }
    }

    /// Builds an action from its kind and, where it needs one, its argument.
    pub fn parse(field: &'static str, kind: &str, arg: Option<&str>) -> Result<Self, Invalid> {
        let need = |what: &str| {
            arg.map(str::trim)
                .filter(|a| !a.is_empty())
                .ok_or_else(|| Invalid::new(field, format!("{kind} needs {what}")))
        };
        let id = |what: &str| -> Result<i64, Invalid> {
            need(what)?
                .parse::<i64>()
                .map_err(|_| Invalid::new(field, format!("{kind} needs {what} as a number")))
        };
        Ok(match kind.trim() {
            "notify_assignee" => Self::NotifyAssignee,
            "notify_team" => Self::NotifyTeam,
            "notify_team_managers" => Self::NotifyTeamManagers,
            "notify_user" => Self::NotifyUser(id("a user id")?),
            "raise_priority" => Self::RaisePriority,
            "move_to_team" => Self::MoveToTeam(id("a team id")?),
            "escalate_tier" => Self::EscalateTier,
            "add_tag" => Self::AddTag(Tag::parse(field, need("a tag")?)?),
            "webhook" => Self::Webhook(ExternalUrl::parse(field, need("a URL")?)?),
            other => {
                return Err(Invalid::new(
                    field,
                    format!("'{other}' is not an action (notify_assignee, notify_team, notify_team_managers, notify_user, raise_priority, move_to_team, escalate_tier, add_tag, webhook)"),
                ))
            }
        })
    }

    /// The argument, as stored: a user or team id, a tag or a URL.
    pub fn argument(&self) -> Option<String> {
        match self {
            Self::NotifyUser(id) | Self::MoveToTeam(id) => Some(id.to_string()),
            Self::AddTag(tag) => Some(tag.as_str().to_owned()),
            Self::Webhook(url) => Some(url.as_str().to_owned()),
            _ => None,
        }
    }
}

/// One rung of a policy's escalation matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    /// The clock it watches; `None` watches every clock of the policy.
    pub metric: Option<Metric>,
    /// When it fires.
    pub at: LevelPoint,
    /// What it does.
    pub actions: Vec<LevelAction>,
}

/// An SLA policy: conditions, targets per metric, pause rules and escalation levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Store identity (firings are keyed by it).
    pub id: i64,
    /// Name shown on tickets.
    pub name: String,
    /// When it applies.
    pub conditions: Conditions,
    /// Target per metric, indexed by [`Metric::index`]; `None` = not measured.
    pub targets: [Option<Target>; 4],
    /// What pauses each metric, indexed by [`Metric::index`].
    pub pauses: [PauseSet; 4],
    /// The escalation matrix, in order; a level's position is its identity.
    pub levels: Vec<Level>,
}

impl Policy {
    /// The target for `metric`, if the policy measures it.
    pub fn target(&self, metric: Metric) -> Option<Target> {
        self.targets.get(metric.index()).copied().flatten()
    }
}

/// The first policy, in order, whose conditions match the ticket.
pub fn select_policy<'p>(policies: &'p [Policy], facts: &TicketFacts<'_>) -> Option<&'p Policy> {
    policies.iter().find(|p| p.conditions.matches(facts))
}

/// One moment of a ticket's history that the clocks care about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening {
    /// The ticket was raised.
    Created,
    /// The status changed (with the reason when it became pending).
    Status(Status, Option<PendingReason>),
    /// A public reply; internal notes are not happenings.
    Reply {
        /// By the customer (otherwise by the desk).
        by_customer: bool,
    },
    /// The vendor the ticket is handed to was set (or cleared).
    Vendor(Option<i64>),
    /// The vendor responded (recorded by an agent).
    VendorResponded,
}

/// A happening at an instant, in log order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fact {
    /// When.
    pub at: Timestamp,
    /// What.
    pub what: Happening,
}

/// Where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockState {
    /// Counting, within target.
    Running,
    /// Not counting (a pause status), within target.
    Paused,
    /// Stopped within target.
    Met,
    /// Past its target, stopped or not.
    Breached,
}

impl ClockState {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
        }
    }
}

/// A time span; `to` is `None` while it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start.
    pub from: Timestamp,
    /// End, if it has ended.
    pub to: Option<Timestamp>,
}

/// A span during which the clock did not count, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pause {
    /// When.
    pub span: Span,
    /// Why.
    pub reason: PendingReason,
}

/// One cycle of one metric on one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    /// What it measures.
    pub metric: Metric,
    /// 0 for the first cycle; next response and periodic update count up.
    pub cycle: u32,
    /// The target.
    pub target: Target,
    /// When the cycle began.
    pub started_at: Timestamp,
    /// When it stopped (met or breached for good); `None` while it is active.
    pub stopped_at: Option<Timestamp>,
    /// The spans in which it counted.
    pub running: Vec<Span>,
    /// The spans in which it was paused.
    pub pauses: Vec<Pause>,
    /// Counted time (business time when the target is in business time), as of `now`.
    pub elapsed: SignedDuration,
    /// The instant the target is or was reached, when known (not while paused within target).
    pub due: Option<Timestamp>,
    /// Where it stands.
    pub state: ClockState,
    /// The vendor whose terms it measures (vendor clocks only).
    pub vendor_id: Option<i64>,
}

impl Clock {
    /// Whether the clock still runs or waits (not stopped).
    pub fn is_active(&self) -> bool {
        self.stopped_at.is_none()
    }

    /// Target minus elapsed: positive is time left (or spare, once met), negative is overdue.
    pub fn margin(&self) -> SignedDuration {
        self.target.duration() - self.elapsed
    }

    /// Wall-clock time spent paused, as of `now`.
    pub fn paused_for(&self, now: Timestamp) -> SignedDuration {
        self.pauses
            .iter()
            .map(|p| p.span.to.unwrap_or(now).duration_since(p.span.from))
            .filter(|d| d.is_positive())
            .sum()
    }

    /// The instant at which `threshold` of counted time is reached, if the spans reach it.
    pub fn instant_at(&self, calendar: &Calendar, threshold: SignedDuration) -> Option<Timestamp> {
        let mut remaining = threshold;
        for span in &self.running {
            match span.to {
                Some(to) => {
                    let counted = calendar.between(span.from, to);
                    if remaining <= counted {
                        return calendar.add(span.from, remaining);
                    }
                    remaining -= counted;
                }
                None => return calendar.add(span.from, remaining),
            }
        }
        None
    }
}

/// The calendar a target counts in: the business calendar, or round-the-clock time.
pub fn calendar_for<'c>(
    target: Target,
    business: &'c Calendar,
    continuous: &'c Calendar,
) -> &'c Calendar {
    if target.business {
        business
    } else {
        continuous
    }
}

/// Builds one clock cycle while walking the history.
struct Cycle {
    metric: Metric,
    number: u32,
    started_at: Timestamp,
    stopped_at: Option<Timestamp>,
    running: Vec<Span>,
    pauses: Vec<Pause>,
}

impl Cycle {
    fn start(metric: Metric, number: u32, at: Timestamp, paused_by: Option<PendingReason>) -> Self {
        let mut cycle = Self {
            metric,
            number,
            started_at: at,
            stopped_at: None,
            running: Vec::new(),
            pauses: Vec::new(),
        };
        cycle.set_paused(at, paused_by);
        cycle
    }

    fn is_running_span_open(&self) -> bool {
        self.running.last().is_some_and(|s| s.to.is_none())
    }

    fn close_open_spans(&mut self, at: Timestamp) {
        if let Some(span) = self.running.last_mut().filter(|s| s.to.is_none()) {
            span.to = Some(at);
        }
        if let Some(pause) = self.pauses.last_mut().filter(|p| p.span.to.is_none()) {
            pause.span.to = Some(at);
        }
    }

    /// Moves the cycle into counting (`None`) or paused-for-`reason` at `at`.
    fn set_paused(&mut self, at: Timestamp, paused_by: Option<PendingReason>) {
        if self.stopped_at.is_some() {
            return;
        }
        let open_pause = self
            .pauses
            .last()
            .filter(|p| p.span.to.is_none())
            .map(|p| p.reason);
        match paused_by {
            None if self.is_running_span_open() => {}
            Some(reason) if open_pause == Some(reason) => {}
            _ => {
                self.close_open_spans(at);
                match paused_by {
                    None => self.running.push(Span { from: at, to: None }),
                    Some(reason) => self.pauses.push(Pause {
                        span: Span { from: at, to: None },
                        reason,
                    }),
                }
            }
        }
    }

    fn stop(&mut self, at: Timestamp) {
        if self.stopped_at.is_none() {
            self.close_open_spans(at);
            self.stopped_at = Some(at);
        }
    }

    fn resume(&mut self, at: Timestamp, paused_by: Option<PendingReason>) {
        if self.stopped_at.take().is_some() {
            self.set_paused(at, paused_by);
        }
    }

    fn finish(self, target: Target, calendar: &Calendar, now: Timestamp) -> Clock {
        let elapsed: SignedDuration = self
            .running
            .iter()
            .map(|s| calendar.between(s.from, s.to.unwrap_or(now).max(s.from)))
            .sum();
        let mut clock = Clock {
            metric: self.metric,
            cycle: self.number,
            target,
            started_at: self.started_at,
            stopped_at: self.stopped_at,
            running: self.running,
            pauses: self.pauses,
            elapsed,
            due: None,
            state: ClockState::Running,
            vendor_id: None,
        };
        clock.due = clock.instant_at(calendar, target.duration());
        let target = target.duration();
        clock.state = match (clock.stopped_at, clock.is_running_now()) {
            (Some(_), _) if elapsed > target => ClockState::Breached,
            (Some(_), _) => ClockState::Met,
            (None, _) if elapsed >= target => ClockState::Breached,
            (None, true) => ClockState::Running,
            (None, false) => ClockState::Paused,
        };
        clock
    }
}

impl Clock {
    fn is_running_now(&self) -> bool {
        self.running.last().is_some_and(|s| s.to.is_none())
    }
}

/// Computes every clock cycle of a ticket under `policy`, as of `now`.
///
/// `facts` are the ticket's happenings in log order. The current policy applies to the whole
/// history, so re-selecting a policy (after a priority change, say) recomputes from creation
/// and keeps every pause. Business targets count in `calendar`, the others in calendar time.
pub fn compute_clocks(
    facts: &[Fact],
    policy: &Policy,
    calendar: &Calendar,
    now: Timestamp,
) -> Vec<Clock> {
    let continuous = Calendar::continuous();
    let mut cycles: Vec<Cycle> = Vec::new();
    // Index into `cycles` of the latest cycle per metric.
    let mut latest: [Option<usize>; 4] = [None; 4];
    let mut status = Status::New;
    let mut reason: Option<PendingReason> = None;
    let pause_for =
        |metric: Metric, status: Status, reason: Option<PendingReason>| -> Option<PendingReason> {
            let r = reason.unwrap_or(PendingReason::Customer);
            let pauses = policy
                .pauses
                .get(metric.index())
                .copied()
                .unwrap_or_default();
            (status == Status::Pending && pauses.contains(r)).then_some(r)
        };
    let start = |cycles: &mut Vec<Cycle>,
                 latest: &mut [Option<usize>; 4],
                 metric: Metric,
                 at: Timestamp,
                 status: Status,
                 reason: Option<PendingReason>| {
        if policy.target(metric).is_none() {
            return;
        }
        let number = latest[metric.index()].map_or(0, |i| cycles[i].number + 1);
        cycles.push(Cycle::start(
            metric,
            number,
            at,
            pause_for(metric, status, reason),
        ));
        latest[metric.index()] = Some(cycles.len() - 1);
    };
    let active =
        |cycles: &Vec<Cycle>, latest: &[Option<usize>; 4], metric: Metric| -> Option<usize> {
            latest[metric.index()].filter(|&i| cycles[i].stopped_at.is_none())
        };

    for fact in facts {
        let at = fact.at;
        match fact.what {
            Happening::Created => {
                status = Status::New;
                reason = None;
                for metric in [
                    Metric::FirstResponse,
                    Metric::Resolution,
                    Metric::PeriodicUpdate,
                ] {
                    start(&mut cycles, &mut latest, metric, at, status, reason);
                }
            }
            Happening::Status(next, next_reason) => {
                let was_active = status.is_active();
                status = next;
                reason = if next == Status::Pending {
                    next_reason
                } else {
                    None
                };
                if !next.is_active() {
                    for metric in Metric::ALL {
                        if let Some(i) = active(&cycles, &latest, metric) {
                            cycles[i].stop(at);
                        }
                    }
                    continue;
                }
                if !was_active {
                    // Reopened: resolution resumes the same cycle; periodic updates start anew.
                    if let Some(i) = latest[Metric::Resolution.index()] {
                        cycles[i].resume(at, pause_for(Metric::Resolution, status, reason));
                    }
                    start(
                        &mut cycles,
                        &mut latest,
                        Metric::PeriodicUpdate,
                        at,
                        status,
                        reason,
                    );
                }
                for metric in Metric::ALL {
                    if let Some(i) = active(&cycles, &latest, metric) {
                        cycles[i].set_paused(at, pause_for(metric, status, reason));
                    }
                }
            }
            Happening::Reply { by_customer: false } => {
                for metric in [Metric::FirstResponse, Metric::NextResponse] {
                    if let Some(i) = active(&cycles, &latest, metric) {
                        cycles[i].stop(at);
                    }
                }
                if let Some(i) = active(&cycles, &latest, Metric::PeriodicUpdate) {
                    cycles[i].stop(at);
                    start(
                        &mut cycles,
                        &mut latest,
                        Metric::PeriodicUpdate,
                        at,
                        status,
                        reason,
                    );
                }
            }
            Happening::Vendor(_) | Happening::VendorResponded => {}
            Happening::Reply { by_customer: true } => {
                let first_done = latest[Metric::FirstResponse.index()]
                    .is_none_or(|i| cycles[i].stopped_at.is_some());
                if first_done && active(&cycles, &latest, Metric::NextResponse).is_none() {
                    start(
                        &mut cycles,
                        &mut latest,
                        Metric::NextResponse,
                        at,
                        status,
                        reason,
                    );
                }
            }
        }
    }

    let mut clocks: Vec<Clock> = cycles
        .into_iter()
        .filter_map(|cycle| {
            let target = policy.target(cycle.metric)?;
            let cal = calendar_for(target, calendar, &continuous);
            Some(cycle.finish(target, cal, now))
        })
        .collect();
    clocks.sort_by_key(|c| (c.metric, c.cycle));
    clocks
}

/// Something the scheduler must do for a clock at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Record the breach (once per cycle, also for a clock stopped late).
    Breach,
    /// Fire the escalation level at this position (only while the clock is active).
    Level(u16),
}

impl Trigger {
    /// Stable key for the firing record: -1 for the breach, else the level position.
    pub fn key(self) -> i64 {
        match self {
            Trigger::Breach => -1,
            Trigger::Level(i) => i64::from(i),
        }
    }
}

/// The triggers a clock has, with the instant each becomes due, in time order.
///
/// Levels of a stopped clock never fire; a breach is recorded even when the clock stopped after it.
pub fn triggers(clock: &Clock, policy: &Policy, calendar: &Calendar) -> Vec<(Trigger, Timestamp)> {
    let continuous = Calendar::continuous();
    let cal = calendar_for(clock.target, calendar, &continuous);
    let mut out = Vec::new();
    if let Some(due) = clock.due {
        if clock.is_active() || clock.state == ClockState::Breached {
            out.push((Trigger::Breach, due));
        }
    }
    if clock.is_active() {
        for (i, level) in policy.levels.iter().enumerate() {
            if level.metric.is_some_and(|m| m != clock.metric) {
                continue;
            }
            let Ok(position) = u16::try_from(i) else {
                break;
            };
            if let Some(at) = clock.instant_at(cal, level.at.threshold(clock.target)) {
                out.push((Trigger::Level(position), at));
            }
        }
    }
    out.sort_by_key(|(_, at)| *at);
    out
}

/// The share of target used at which a clock shows as "warning".
pub const WARNING_PERCENT: u16 = 75;

/// The instant a clock turns to "warning" (75 % of its target used), if the spans reach it.
pub fn warning_at(clock: &Clock, calendar: &Calendar) -> Option<Timestamp> {
    let continuous = Calendar::continuous();
    let cal = calendar_for(clock.target, calendar, &continuous);
    clock.instant_at(
        cal,
        LevelPoint::Percent(WARNING_PERCENT).threshold(clock.target),
    )
}

/// A one-paragraph explanation of a clock, for the ticket page and `sla explain`.
///
/// "Resolution: target 8h business time; elapsed 5h 20m; paused 2h 10m while waiting on customer;
/// due Tue 24 Nov 11:00 CET; excludes Sat–Sun, 25 Dec 2026 (Christmas Day)."
pub fn explain(clock: &Clock, calendar: &Calendar, now: Timestamp) -> String {
    let continuous = Calendar::continuous();
    let cal = calendar_for(clock.target, calendar, &continuous);
    let mut parts = vec![format!(
        "target {} {}",
        format_duration(clock.target.duration()),
        if clock.target.business {
            "business time"
        } else {
            "calendar time"
        }
    )];
    parts.push(format!("elapsed {}", format_duration(clock.elapsed)));
    let mut by_reason: Vec<(PendingReason, SignedDuration)> = Vec::new();
    for pause in &clock.pauses {
        let d = pause.span.to.unwrap_or(now).duration_since(pause.span.from);
        match by_reason.iter_mut().find(|(r, _)| *r == pause.reason) {
            Some((_, total)) => *total += d,
            None => by_reason.push((pause.reason, d)),
        }
    }
    for (reason, d) in by_reason {
        parts.push(format!(
            "paused {} while {}",
            format_duration(d),
            reason.label()
        ));
    }
    // Instants read in the business calendar's zone, also for calendar-time targets.
    let zone = calendar.zone().clone();
    let local = |t: Timestamp| {
        t.to_zoned(zone.clone())
            .strftime("%a %-d %b %H:%M %Z")
            .to_string()
    };
    match (clock.state, clock.stopped_at, clock.due) {
        (ClockState::Met, Some(at), _) => parts.push(format!(
            "met at {} with {} to spare",
            local(at),
            format_duration(clock.margin())
        )),
        (ClockState::Breached, Some(at), _) => parts.push(format!(
            "stopped at {}, {} over target",
            local(at),
            format_duration(-clock.margin())
        )),
        (ClockState::Breached, None, Some(due)) => {
            parts.push(format!("breached at {}", local(due)))
        }
        (ClockState::Paused, _, _) => parts.push(format!(
            "paused with {} left",
            format_duration(clock.margin())
        )),
        (_, _, Some(due)) => parts.push(format!("due {}", local(due))),
        _ => {}
    }
    let end = clock.stopped_at.unwrap_or(now);
    let closures = cal.describe_closures(clock.started_at, end.max(clock.due.unwrap_or(end)));
    if !closures.is_empty() {
        parts.push(closures);
    }
    format!("{}: {}.", clock.metric.label(), parts.join("; "))
}

/// A vendor's support terms: its response and resolution targets (in its own calendar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VendorTerms {
    /// Store identity.
    pub id: i64,
    /// Name shown on clocks.
    pub name: String,
    /// From hand-over to the vendor's first response.
    pub response: Option<Target>,
    /// From hand-over until the ticket no longer waits on the vendor.
    pub resolution: Option<Target>,
}

impl VendorTerms {
    /// The target for a vendor metric.
    pub fn target(&self, metric: Metric) -> Option<Target> {
        match metric {
            Metric::VendorResponse => self.response,
            Metric::VendorResolution => self.resolution,
            _ => None,
        }
    }
}

/// Computes the vendor clocks of a ticket: each hand-over to a vendor (status pending, waiting
/// on vendor, with a vendor set) starts that vendor's response and resolution clocks in the
/// vendor's calendar; "vendor responded" stops the response clock; the ticket leaving the
/// vendor (another status, another reason, another vendor) stops both. Cycles count hand-overs.
pub fn compute_vendor_clocks<'a>(
    facts: &[Fact],
    terms: &dyn Fn(i64) -> Option<(&'a VendorTerms, &'a Calendar)>,
    now: Timestamp,
) -> Vec<Clock> {
    let mut finished: Vec<Clock> = Vec::new();
    let mut open: Vec<(Cycle, i64)> = Vec::new();
    let mut status = Status::New;
    let mut reason: Option<PendingReason> = None;
    let mut vendor: Option<i64> = None;
    let mut engaged: Option<i64> = None;
    let mut handovers: u32 = 0;
    // A cycle becomes a clock under its vendor's terms (a vendor deleted since has none).
    let finish = |cycle: Cycle, vendor_id: i64| -> Option<Clock> {
        let (t, cal) = terms(vendor_id)?;
        let target = t.target(cycle.metric)?;
        let mut clock = cycle.finish(target, cal, now);
        clock.vendor_id = Some(vendor_id);
        Some(clock)
    };
    let close = |open: &mut Vec<(Cycle, i64)>, finished: &mut Vec<Clock>, at: Timestamp| {
        for (mut cycle, vendor_id) in open.drain(..) {
            cycle.stop(at);
            finished.extend(finish(cycle, vendor_id));
        }
    };
    for fact in facts {
        match fact.what {
            Happening::Status(next, next_reason) => {
                status = next;
                reason = if next == Status::Pending {
                    next_reason
                } else {
                    None
                };
            }
            Happening::Vendor(v) => vendor = v,
            Happening::VendorResponded => {
                if let Some(pos) = open
                    .iter()
                    .position(|(c, _)| c.metric == Metric::VendorResponse)
                {
                    let (mut cycle, vendor_id) = open.remove(pos);
                    cycle.stop(fact.at);
                    finished.extend(finish(cycle, vendor_id));
                }
                continue;
            }
            _ => continue,
        }
        let now_engaged = (status == Status::Pending && reason == Some(PendingReason::Vendor))
            .then_some(vendor)
            .flatten();
        if now_engaged != engaged {
            close(&mut open, &mut finished, fact.at);
            if let Some(vendor_id) = now_engaged {
                if let Some((t, _)) = terms(vendor_id) {
                    for metric in Metric::VENDOR {
                        if t.target(metric).is_some() {
                            open.push((Cycle::start(metric, handovers, fact.at, None), vendor_id));
                        }
                    }
                    handovers += 1;
                }
            }
            engaged = now_engaged;
        }
    }
    for (cycle, vendor_id) in open {
        finished.extend(finish(cycle, vendor_id));
    }
    finished.sort_by_key(|c| (c.metric, c.cycle));
    finished
}

#[cfg(test)]
mod tests;
