//! On-call: schedules built from rotation layers and overrides, and escalation policies that
//! say whom to page, in what order, with what timeouts.
//!
//! Rotations hand off at a local time in an IANA zone, so a weekly Monday 09:00 hand-off in
//! Berlin stays at 09:00 across DST (the shift around the change is an hour shorter or longer).
//! Rotations measured in hours are elapsed time and ignore the zone. Later layers win over
//! earlier ones where they cover an instant; overrides win over every layer.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::Invalid;

/// How long each participant's turn lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnLength {
    /// A number of local days (7 for weekly), handing off at the start's local time.
    Days(u16),
    /// A number of elapsed hours.
    Hours(u16),
}

impl TurnLength {
    /// Parses `daily`, `weekly`, `3d`, `2w` or `12h`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let lower = raw.trim().to_ascii_lowercase();
        let bad = || {
            Invalid::new(
                field,
                format!(
                    "'{}' is not a turn length (daily, weekly, 3d, 2w, 12h)",
                    raw.trim()
                ),
            )
        };
        let number = |digits: &str| digits.parse::<u16>().ok().filter(|n| *n > 0);
        match lower.as_str() {
            "daily" => return Ok(TurnLength::Days(1)),
            "weekly" => return Ok(TurnLength::Days(7)),
            _ => {}
        }
        if let Some(d) = lower.strip_suffix('d') {
            return number(d)
                .filter(|n| *n <= 366)
                .map(TurnLength::Days)
                .ok_or_else(bad);
        }
        if let Some(w) = lower.strip_suffix('w') {
            return number(w)
                .filter(|n| *n <= 52)
                .map(|n| TurnLength::Days(n * 7))
                .ok_or_else(bad);
        }
        if let Some(h) = lower.strip_suffix('h') {
            return number(h)
                .filter(|n| *n <= 24 * 31)
                .map(TurnLength::Hours)
                .ok_or_else(bad);
        }
        Err(bad())
    }

    /// The canonical text (`daily`, `weekly`, `3d`, `2w`, `12h`).
    pub fn as_text(self) -> String {
        match self {
            TurnLength::Days(1) => "daily".to_owned(),
            TurnLength::Days(7) => "weekly".to_owned(),
            TurnLength::Days(d) if d % 7 == 0 => format!("{}w", d / 7),
            TurnLength::Days(d) => format!("{d}d"),
            TurnLength::Hours(h) => format!("{h}h"),
        }
    }
}

/// Local hours a layer covers each day (`start` == `end` is not allowed; `end` before `start`
/// runs past midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyHours {
    start: Time,
    end: Time,
}

impl DailyHours {
    /// Parses `09:00-17:00` (or `22:00-06:00` across midnight).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid::new(
                field,
                format!("'{}' is not local hours like 09:00-17:00", raw.trim()),
            )
        };
        let (a, b) = raw.trim().split_once('-').ok_or_else(bad)?;
        let time = |t: &str| t.trim().parse::<Time>().map_err(|_| bad());
        let (start, end) = (time(a)?, time(b)?);
        if start == end {
            return Err(bad());
        }
        Ok(Self { start, end })
    }

    /// `09:00-17:00`.
    pub fn as_text(self) -> String {
        format!(
            "{}-{}",
            self.start.strftime("%H:%M"),
            self.end.strftime("%H:%M")
        )
    }

    fn covers(self, local: Time) -> bool {
        if self.start < self.end {
            self.start <= local && local < self.end
        } else {
            local >= self.start || local < self.end
        }
    }
}

/// One rotation layer: participants taking turns from a first hand-off.
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// The first hand-off; later hand-offs keep its local time of day (for day turns).
    pub start: Timestamp,
    /// Zone of the hand-off time.
    pub zone: TimeZone,
    /// Turn length.
    pub turn: TurnLength,
    /// Participants (user ids) in order.
    pub participants: Vec<i64>,
    /// Only these local hours each day, if set (a business-hours layer over a 24/7 one).
    pub hours: Option<DailyHours>,
}

/// A stretch of time someone is on call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    /// From.
    pub start: Timestamp,
    /// Until (exclusive).
    pub end: Timestamp,
    /// Who.
    pub user: i64,
}

/// An override: someone takes over for a stretch.
pub type Override = Shift;

impl Layer {
    /// Checks a layer, naming the bad field.
    pub fn new(
        start: Timestamp,
        zone: TimeZone,
        turn: TurnLength,
        participants: Vec<i64>,
        hours: Option<DailyHours>,
    ) -> Result<Self, Invalid> {
        if participants.is_empty() {
            return Err(Invalid::new("participants", "name at least one person"));
        }
        Ok(Self {
            start,
            zone,
            turn,
            participants,
            hours,
        })
    }

    /// The turn number and its [start, end) containing `t`, if `t` is not before the start.
    pub fn turn_at(&self, t: Timestamp) -> Option<(i64, Timestamp, Timestamp)> {
        if t < self.start {
            return None;
        }
        match self.turn {
            TurnLength::Hours(h) => {
                let len = SignedDuration::from_hours(i64::from(h));
                let elapsed = t.duration_since(self.start);
                let k = elapsed.as_secs() / len.as_secs();
                let s = self.start.checked_add(len * (k as i32)).ok()?;
                let e = s.checked_add(len).ok()?;
                Some((k, s, e))
            }
            TurnLength::Days(d) => {
                let first = self.start.to_zoned(self.zone.clone());
                let days = i64::from(d);
                let local = t.to_zoned(self.zone.clone()).date();
                let since = first.date().until(local).ok()?.get_days() as i64;
                let mut k = since.div_euclid(days);
                // The hand-off on the turn's first day may still be ahead of `t`.
                let handoff = |k: i64| -> Option<Timestamp> {
                    let date = first.date().checked_add((k * days).days()).ok()?;
                    Some(
                        date.to_datetime(first.time())
                            .to_zoned(self.zone.clone())
                            .ok()?
                            .timestamp(),
                    )
                };
                let mut s = handoff(k)?;
                if s > t {
                    k -= 1;
                    s = handoff(k)?;
                }
                let e = handoff(k + 1)?;
                Some((k, s, e))
            }
        }
    }

    /// Who this layer puts on call at `t` (none outside its start or its daily hours).
    pub fn on_call_at(&self, t: Timestamp) -> Option<i64> {
        if let Some(h) = self.hours {
            if !h.covers(t.to_zoned(self.zone.clone()).time()) {
                return None;
            }
        }
        let (k, _, _) = self.turn_at(t)?;
        let n = self.participants.len() as i64;
        self.participants.get(k.rem_euclid(n) as usize).copied()
    }

    /// The instants in [from, to) where this layer's answer may change: hand-offs and the
    /// edges of its daily hours.
    fn changes(&self, from: Timestamp, to: Timestamp) -> Vec<Timestamp> {
        let mut out = Vec::new();
        let mut t = from.max(self.start);
        if self.start >= from && self.start < to {
            out.push(self.start);
        }
        // Hand-offs.
        while t < to {
            let Some((_, _, e)) = self.turn_at(t) else {
                break;
            };
            if e >= to {
                break;
            }
            out.push(e);
            t = e;
        }
        // Daily hours edges.
        if let Some(h) = self.hours {
            let mut date: Date = from.to_zoned(self.zone.clone()).date();
            let last = to.to_zoned(self.zone.clone()).date();
            while date <= last {
                for time in [h.start, h.end] {
                    if let Ok(z) = date.to_datetime(time).to_zoned(self.zone.clone()) {
                        let at = z.timestamp();
                        if at >= from && at < to {
                            out.push(at);
                        }
                    }
                }
                match date.tomorrow() {
                    Ok(d) => date = d,
                    Err(_) => break,
                }
            }
        }
        out
    }
}

/// A schedule: layers (later wins) and overrides (win over all).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schedule {
    /// Layers, lowest first.
    pub layers: Vec<Layer>,
    /// Overrides.
    pub overrides: Vec<Override>,
}

/// Longest stretch a shift listing covers.
const MAX_SPAN_DAYS: i64 = 400;

impl Schedule {
    /// Who is on call at `t`.
    pub fn on_call_at(&self, t: Timestamp) -> Option<i64> {
        if let Some(o) = self
            .overrides
            .iter()
            .rev()
            .find(|o| o.start <= t && t < o.end)
        {
            return Some(o.user);
        }
        self.layers.iter().rev().find_map(|l| l.on_call_at(t))
    }

    /// The final schedule in [from, to) as contiguous shifts (gaps where nobody is on call are
    /// left out); at most 400 days.
    pub fn shifts(&self, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        let to = to.min(
            from.checked_add(SignedDuration::from_hours(24 * MAX_SPAN_DAYS))
                .unwrap_or(to),
        );
        if to <= from {
            return Vec::new();
        }
        let mut edges = vec![from, to];
        for l in &self.layers {
            edges.extend(l.changes(from, to));
        }
        for o in &self.overrides {
            for t in [o.start, o.end] {
                if t > from && t < to {
                    edges.push(t);
                }
            }
        }
        edges.sort();
        edges.dedup();
        let mut out: Vec<Shift> = Vec::new();
        for pair in edges.windows(2) {
            let (s, e) = (pair[0], pair[1]);
            let Some(user) = self.on_call_at(s) else {
                continue;
            };
            match out.last_mut() {
                Some(last) if last.user == user && last.end == s => last.end = e,
                _ => out.push(Shift {
                    start: s,
                    end: e,
                    user,
                }),
            }
        }
        out
    }
}

/// Whom a level of an escalation policy pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageTarget {
    /// A person.
    User(i64),
    /// Whoever a schedule has on call at the time.
    Schedule(i64),
    /// Every member of a team.
    Team(i64),
}

/// One level: whom to page, and how long to wait for an acknowledgement before the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyLevel {
    /// Minutes before escalating to the next level.
    pub timeout_minutes: u32,
    /// Targets paged together.
    pub targets: Vec<PageTarget>,
}

/// An escalation policy: levels in order, the whole run repeated `repeats` more times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscalationPolicy {
    /// Levels, first paged first.
    pub levels: Vec<PolicyLevel>,
    /// How many times to run the levels again when nobody acknowledged (0–9).
    pub repeats: u32,
}

/// Where a paging run stands: the next (round, level) to page, or finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStep {
    /// Page this level of this round at the given instant.
    Page {
        /// Round, from 0.
        round: u32,
        /// Level, from 0.
        level: usize,
    },
    /// Every level of every round has been paged.
    Exhausted,
}

impl EscalationPolicy {
    /// Checks a policy, naming the bad field.
    pub fn new(levels: Vec<PolicyLevel>, repeats: u32) -> Result<Self, Invalid> {
        if levels.is_empty() {
            return Err(Invalid::new("levels", "a policy needs at least one level"));
        }
        if levels.len() > 20 {
            return Err(Invalid::new("levels", "at most 20 levels"));
        }
        for l in &levels {
            if l.targets.is_empty() {
                return Err(Invalid::new("levels", "every level needs a target"));
            }
            if !(1..=24 * 60).contains(&l.timeout_minutes) {
                return Err(Invalid::new(
                    "levels",
                    "a level's timeout is 1 to 1440 minutes",
                ));
            }
        }
        if repeats > 9 {
            return Err(Invalid::new("repeats", "at most 9 repeats"));
        }
        Ok(Self { levels, repeats })
    }

    /// The step after paging (`round`, `level`), and how long to wait before it.
    pub fn after(&self, round: u32, level: usize) -> (RunStep, SignedDuration) {
        let wait = self
            .levels
            .get(level)
            .map(|l| SignedDuration::from_mins(i64::from(l.timeout_minutes)))
            .unwrap_or_default();
        let next = if level + 1 < self.levels.len() {
            RunStep::Page {
                round,
                level: level + 1,
            }
        } else if round < self.repeats {
            RunStep::Page {
                round: round + 1,
                level: 0,
            }
        } else {
            RunStep::Exhausted
        };
        (next, wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or_default()
    }

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC)
    }

    fn weekly(participants: Vec<i64>) -> Layer {
        // Mondays 09:00 Berlin, from Monday 23 March 2026 (DST starts Sunday 29 March).
        Layer::new(
            ts("2026-03-23T08:00:00Z"),
            berlin(),
            TurnLength::Days(7),
            participants,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn weekly_handoff_keeps_local_time_across_dst() {
        let l = weekly(vec![1, 2, 3]);
        assert_eq!(l.on_call_at(ts("2026-03-23T07:59:59Z")), None);
        assert_eq!(l.on_call_at(ts("2026-03-23T08:00:00Z")), Some(1));
        // Monday 30 March 09:00 Berlin is 07:00 UTC (summer time).
        assert_eq!(l.on_call_at(ts("2026-03-30T06:59:59Z")), Some(1));
        assert_eq!(l.on_call_at(ts("2026-03-30T07:00:00Z")), Some(2));
        assert_eq!(l.on_call_at(ts("2026-04-06T07:00:00Z")), Some(3));
        assert_eq!(l.on_call_at(ts("2026-04-13T07:00:00Z")), Some(1));
        let (_, s, e) = l.turn_at(ts("2026-03-25T00:00:00Z")).unwrap_or((
            0,
            ts("2000-01-01T00:00:00Z"),
            ts("2000-01-01T00:00:00Z"),
        ));
        assert_eq!(e.duration_since(s), SignedDuration::from_hours(24 * 7 - 1));
    }

    #[test]
    fn hour_turns_ignore_the_zone() {
        let l = Layer::new(
            ts("2026-03-28T20:00:00Z"),
            berlin(),
            TurnLength::Hours(12),
            vec![7, 8],
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(l.on_call_at(ts("2026-03-29T07:59:00Z")), Some(7));
        assert_eq!(l.on_call_at(ts("2026-03-29T08:00:00Z")), Some(8));
        assert_eq!(l.on_call_at(ts("2026-03-29T20:00:00Z")), Some(7));
    }

    #[test]
    fn layers_and_overrides_compose_into_shifts() {
        let base = weekly(vec![1, 2]);
        let business = Layer::new(
            ts("2026-03-23T08:00:00Z"),
            berlin(),
            TurnLength::Days(1),
            vec![5],
            Some(DailyHours::parse("h", "09:00-17:00").unwrap_or_else(|e| panic!("{e}"))),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let schedule = Schedule {
            layers: vec![base, business],
            overrides: vec![Shift {
                start: ts("2026-03-24T20:00:00Z"),
                end: ts("2026-03-24T22:00:00Z"),
                user: 9,
            }],
        };
        assert_eq!(schedule.on_call_at(ts("2026-03-24T10:00:00Z")), Some(5));
        assert_eq!(schedule.on_call_at(ts("2026-03-24T17:00:00Z")), Some(1));
        assert_eq!(schedule.on_call_at(ts("2026-03-24T21:00:00Z")), Some(9));
        let shifts = schedule.shifts(ts("2026-03-24T00:00:00Z"), ts("2026-03-25T00:00:00Z"));
        let users: Vec<i64> = shifts.iter().map(|s| s.user).collect();
        assert_eq!(users, vec![1, 5, 1, 9, 1]);
        for pair in shifts.windows(2) {
            assert_eq!(pair[0].end, pair[1].start, "contiguous");
        }
    }

    #[test]
    fn turn_lengths_and_hours_parse() {
        assert_eq!(TurnLength::parse("t", "weekly"), Ok(TurnLength::Days(7)));
        assert_eq!(TurnLength::parse("t", "2w"), Ok(TurnLength::Days(14)));
        assert_eq!(TurnLength::parse("t", "12h"), Ok(TurnLength::Hours(12)));
        assert!(TurnLength::parse("t", "0d").is_err());
        assert!(TurnLength::parse("t", "fortnightly").is_err());
        assert_eq!(TurnLength::Days(14).as_text(), "2w");
        assert!(DailyHours::parse("h", "09:00-09:00").is_err());
        assert!(DailyHours::parse("h", "22:00-06:00").is_ok());
    }

    #[test]
    fn policies_walk_levels_then_rounds() {
        let level = |m| PolicyLevel {
            timeout_minutes: m,
            targets: vec![PageTarget::User(1)],
        };
        let p =
            EscalationPolicy::new(vec![level(5), level(10)], 1).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            p.after(0, 0),
            (
                RunStep::Page { round: 0, level: 1 },
                SignedDuration::from_mins(5)
            )
        );
        assert_eq!(
            p.after(0, 1),
            (
                RunStep::Page { round: 1, level: 0 },
                SignedDuration::from_mins(10)
            )
        );
        assert_eq!(p.after(1, 1).0, RunStep::Exhausted);
        assert!(EscalationPolicy::new(vec![], 0).is_err());
        assert!(EscalationPolicy::new(vec![level(0)], 0).is_err());
    }
}
