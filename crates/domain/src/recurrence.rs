//! Recurrence rules for scheduled checks: the RFC 5545 `RRULE` parts operations teams use
//! (`FREQ` = `HOURLY`, `DAILY`, `WEEKLY`, `MONTHLY`; `INTERVAL`, `BYDAY` (with ordinals for
//! monthly rules: `1MO`, `-1FR`), `BYMONTHDAY` (negative from the month's end), `BYHOUR`,
//! `BYMINUTE`, `COUNT`, `UNTIL`), anchored at a local start time in an IANA zone.
//!
//! Occurrences are wall-clock times in the zone, turned into instants the way RFC 5545 asks:
//! a time that does not exist (the hour skipped in spring) moves forward by the length of the
//! gap, and a time that happens twice (autumn) is the first of the two. The zone database is
//! the one every other part of opsdesk uses (jiff's, built into the binary), so checks,
//! business calendars, rotations and maintenance windows agree about every DST change.
//! Anything else a rule may say (`BYSETPOS`, `BYWEEKNO`, `YEARLY`…) is refused by name.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::Invalid;

/// How often the rule repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// Every `INTERVAL` hours.
    Hourly,
    /// Every `INTERVAL` days.
    Daily,
    /// Every `INTERVAL` weeks (weeks start on Monday).
    Weekly,
    /// Every `INTERVAL` months.
    Monthly,
}

/// A weekday, with an ordinal in monthly rules (`-1FR`: the last Friday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByDay {
    /// 1 = first, -1 = last; `None` = every such weekday.
    pub nth: Option<i8>,
    /// The weekday.
    pub day: Weekday,
}

/// The end of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Through this day, in the rule's own zone (`UNTIL=20261231`).
    Date(Date),
    /// Through this instant (`UNTIL=20261231T235900Z`).
    Instant(Timestamp),
}

/// A parsed `RRULE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Frequency.
    pub frequency: Frequency,
    /// Every how many periods (at least 1).
    pub interval: i64,
    /// Weekdays.
    pub by_day: Vec<ByDay>,
    /// Days of the month (1..=31, or -1..=-31 from the end).
    pub by_month_day: Vec<i8>,
    /// Hours (0..=23).
    pub by_hour: Vec<i8>,
    /// Minutes (0..=59).
    pub by_minute: Vec<i8>,
    /// At most this many occurrences, counted from the start.
    pub count: Option<u32>,
    /// No occurrence after this.
    pub until: Option<Until>,
    text: String,
}

impl Rule {
    /// Parses `FREQ=DAILY;BYHOUR=9` (an `RRULE:` prefix is allowed) for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Rule, Invalid> {
        let text = raw.trim();
        let body = text
            .strip_prefix("RRULE:")
            .or_else(|| text.strip_prefix("rrule:"))
            .unwrap_or(text);
        if body.is_empty() {
            return Err(Invalid::new(
                field,
                "must not be empty (e.g. FREQ=DAILY;BYHOUR=9)",
            ));
        }
        let mut frequency = None;
        let mut rule = Rule {
            frequency: Frequency::Daily,
            interval: 1,
            by_day: Vec::new(),
            by_month_day: Vec::new(),
            by_hour: Vec::new(),
            by_minute: Vec::new(),
            count: None,
            until: None,
            text: String::new(),
        };
        let bad = |reason: String| Invalid::new(field, reason);
        for part in body.split(';').filter(|p| !p.trim().is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("'{part}' is not NAME=VALUE")))?;
            let name = name.trim().to_ascii_uppercase();
            let value = value.trim();
            let numbers = |lo: i64, hi: i64, zero: bool| -> Result<Vec<i8>, Invalid> {
                value
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse::<i64>()
                            .ok()
                            .filter(|v| (lo..=hi).contains(v) && (zero || *v != 0))
                            .map(|v| v as i8)
                            .ok_or_else(|| bad(format!("{name}: '{n}' is out of range {lo}..{hi}")))
                    })
                    .collect()
            };
            match name.as_str() {
                "FREQ" => {
                    frequency = Some(match value.to_ascii_uppercase().as_str() {
                        "HOURLY" => Frequency::Hourly,
                        "DAILY" => Frequency::Daily,
                        "WEEKLY" => Frequency::Weekly,
                        "MONTHLY" => Frequency::Monthly,
                        other => {
                            return Err(bad(format!(
                                "FREQ={other} is not supported (HOURLY, DAILY, WEEKLY or MONTHLY)"
                            )))
                        }
                    })
                }
                "INTERVAL" => {
                    rule.interval = value
                        .parse::<i64>()
                        .ok()
                        .filter(|v| (1..=1000).contains(v))
                        .ok_or_else(|| bad("INTERVAL must be a number from 1 to 1000".into()))?
                }
                "BYDAY" => {
                    for item in value.split(',') {
                        rule.by_day.push(parse_by_day(item.trim()).ok_or_else(|| {
                            bad(format!("BYDAY: '{item}' is not a weekday such as MO or -1FR"))
                        })?);
                    }
                }
                "BYMONTHDAY" => rule.by_month_day = numbers(-31, 31, false)?,
                "BYHOUR" => rule.by_hour = numbers(0, 23, true)?,
                "BYMINUTE" => rule.by_minute = numbers(0, 59, true)?,
                "COUNT" => {
                    rule.count = Some(
                        value
                            .parse::<u32>()
                            .ok()
                            .filter(|v| (1..=MAX_COUNT).contains(v))
                            .ok_or_else(|| {
                                bad(format!("COUNT must be a number from 1 to {MAX_COUNT}"))
                            })?,
                    )
                }
                "UNTIL" => rule.until = Some(parse_until(value).ok_or_else(|| {
                    bad(format!("UNTIL: '{value}' is not a date (20261231) or UTC time (20261231T235900Z)"))
                })?),
                "WKST" if value.eq_ignore_ascii_case("MO") => {}
                other => {
                    return Err(bad(format!(
                        "{other} is not supported (FREQ, INTERVAL, BYDAY, BYMONTHDAY, BYHOUR, BYMINUTE, COUNT, UNTIL)"
                    )))
                }
            }
        }
        rule.frequency = frequency.ok_or_else(|| bad("FREQ is required".into()))?;
        if rule.count.is_some() && rule.until.is_some() {
            return Err(bad("COUNT and UNTIL cannot both be given".into()));
        }
        if rule.frequency != Frequency::Monthly && rule.by_day.iter().any(|d| d.nth.is_some()) {
            return Err(bad(
                "BYDAY ordinals such as 1MO only go with FREQ=MONTHLY".into()
            ));
        }
        if rule.frequency != Frequency::Monthly && !rule.by_month_day.is_empty() {
            return Err(bad("BYMONTHDAY only goes with FREQ=MONTHLY".into()));
        }
        if rule.frequency == Frequency::Hourly && !rule.by_minute.is_empty() {
            return Err(bad(
                "BYMINUTE goes with DAILY, WEEKLY or MONTHLY (an hourly rule keeps the start's minute)".into(),
            ));
        }
        if !rule.by_month_day.is_empty() && rule.by_day.iter().any(|d| d.nth.is_some()) {
            return Err(bad(
                "BYDAY ordinals such as 1MO cannot be combined with BYMONTHDAY".into(),
            ));
        }
        rule.text = body.to_ascii_uppercase();
        Ok(rule)
    }

    /// The rule as stored (upper case, without `RRULE:`).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn parse_by_day(raw: &str) -> Option<ByDay> {
    if !raw.is_ascii() {
        return None;
    }
    let upper = raw.to_ascii_uppercase();
    let split = upper.len().checked_sub(2)?;
    let (nth, day) = upper.split_at(split);
    let day = match day {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return None,
    };
    let nth = if nth.is_empty() {
        None
    } else {
        let n = nth.trim_start_matches('+').parse::<i8>().ok()?;
        if n == 0 || !(-5..=5).contains(&n) {
            return None;
        }
        Some(n)
    };
    Some(ByDay { nth, day })
}

fn parse_until(raw: &str) -> Option<Until> {
    let raw = raw.trim();
    if raw.len() == 8 {
        return Date::strptime("%Y%m%d", raw).ok().map(Until::Date);
    }
    let utc = raw.strip_suffix('Z')?;
    DateTime::strptime("%Y%m%dT%H%M%S", utc)
        .ok()?
        .to_zoned(TimeZone::UTC)
        .ok()
        .map(|z| Until::Instant(z.timestamp()))
}

/// A rule anchored at a local start time in a zone.
#[derive(Debug, Clone)]
pub struct Recurrence {
    rule: Rule,
    start: DateTime,
    zone: TimeZone,
}

/// Periods in a row without an occurrence before a rule is taken to have no more.
const MAX_EMPTY_PERIODS: i64 = 5_000;
/// The largest `COUNT` (a counted rule is walked from its start).
const MAX_COUNT: u32 = 100_000;

impl Recurrence {
    /// `rule` starting at `start` (wall-clock) in `zone`.
    pub fn new(rule: Rule, start: DateTime, zone: TimeZone) -> Self {
        Self { rule, start, zone }
    }

    /// The rule.
    pub fn rule(&self) -> &Rule {
        &self.rule
    }

    /// The first occurrence strictly after `after`, if the rule has one.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        self.upcoming(after, 1).into_iter().next()
    }

    /// Up to `n` occurrences strictly after `after`, in order.
    pub fn upcoming(&self, after: Timestamp, n: usize) -> Vec<Timestamp> {
        let mut out = Vec::with_capacity(n);
        if n == 0 {
            return out;
        }
        let start_instant = self.instant(self.start);
        // Without COUNT, skip the periods that end before `after`.
        let mut period = if self.rule.count.is_none() {
            self.periods_before(after).max(0)
        } else {
            0
        };
        let mut seen: u32 = 0;
        let mut empty: i64 = 0;
        let mut previous: Option<DateTime> = None;
        while empty < MAX_EMPTY_PERIODS {
            empty += 1;
            for local in self.candidates(period) {
                if local < self.start {
                    continue;
                }
                // An hourly rule passes a repeated autumn hour twice: it happens once.
                if previous == Some(local) {
                    continue;
                }
                previous = Some(local);
                let at = self.instant(local);
                if at < start_instant {
                    continue;
                }
                empty = 0;
                let ended = match self.rule.until {
                    Some(Until::Instant(until)) => at > until,
                    Some(Until::Date(day)) => local.date() > day,
                    None => false,
                };
                if ended {
                    return out;
                }
                seen += 1;
                if self.rule.count.is_some_and(|c| seen > c) {
                    return out;
                }
                if at > after {
                    out.push(at);
                    if out.len() == n {
                        return out;
                    }
                }
            }
            period += 1;
        }
        out
    }

    /// The wall-clock time as an instant: a time in a spring gap moves forward by the gap, a
    /// repeated autumn time is the first of the two (RFC 5545, jiff's "compatible").
    fn instant(&self, local: DateTime) -> Timestamp {
        local
            .to_zoned(self.zone.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX)
    }

    /// How many whole periods lie between the start and `after` (an underestimate is fine).
    fn periods_before(&self, after: Timestamp) -> i64 {
        let local = self.zone.to_datetime(after);
        let days = self
            .start
            .date()
            .until(local.date())
            .map(|span| i64::from(span.get_days()))
            .unwrap_or(0);
        let periods = match self.rule.frequency {
            Frequency::Hourly => {
                let hours = after.duration_since(self.instant(self.start)).as_hours();
                hours / self.rule.interval
            }
            Frequency::Daily => days / self.rule.interval,
            Frequency::Weekly => days / 7 / self.rule.interval,
            Frequency::Monthly => {
                let months = i64::from(local.year() - self.start.year()) * 12
                    + i64::from(local.month() - self.start.month());
                months / self.rule.interval
            }
        };
        periods - 1
    }

    /// The wall-clock candidates of period `k`, in order (before the start and COUNT checks).
    fn candidates(&self, k: i64) -> Vec<DateTime> {
        let rule = &self.rule;
        let times = self.times();
        let mut out = Vec::new();
        match rule.frequency {
            Frequency::Hourly => {
                let at = self
                    .instant(self.start)
                    .checked_add(SignedDuration::from_hours(k * rule.interval));
                if let Ok(at) = at {
                    let local = self.zone.to_datetime(at);
                    let day_ok = rule.by_day.is_empty()
                        || rule.by_day.iter().any(|d| d.day == local.weekday());
                    let hour_ok = rule.by_hour.is_empty() || rule.by_hour.contains(&local.hour());
                    if day_ok && hour_ok {
                        out.push(local);
                    }
                }
            }
            Frequency::Daily => {
                if let Ok(day) = self.start.date().checked_add((k * rule.interval).days()) {
                    if rule.by_day.is_empty() || rule.by_day.iter().any(|d| d.day == day.weekday())
                    {
                        out.extend(times.iter().map(|t| day.to_datetime(*t)));
                    }
                }
            }
            Frequency::Weekly => {
                let monday = self
                    .start
                    .date()
                    .checked_sub(i64::from(self.start.weekday().to_monday_zero_offset()).days());
                let Ok(monday) = monday else { return out };
                let Ok(week) = monday.checked_add((k * rule.interval * 7).days()) else {
                    return out;
                };
                let mut days: Vec<Weekday> = if rule.by_day.is_empty() {
                    vec![self.start.weekday()]
                } else {
                    rule.by_day.iter().map(|d| d.day).collect()
                };
                days.sort_by_key(|d| d.to_monday_zero_offset());
                days.dedup();
                for day in days {
                    if let Ok(date) =
                        week.checked_add(i64::from(day.to_monday_zero_offset()).days())
                    {
                        out.extend(times.iter().map(|t| date.to_datetime(*t)));
                    }
                }
            }
            Frequency::Monthly => {
                let Ok(first) = self
                    .start
                    .date()
                    .first_of_month()
                    .checked_add((k * rule.interval).months())
                else {
                    return out;
                };
                let mut dates: Vec<Date> = Vec::new();
                let length = first.days_in_month();
                if !rule.by_month_day.is_empty() {
                    for &d in &rule.by_month_day {
                        let day = if d > 0 { d } else { length + 1 + d };
                        if (1..=length).contains(&day) {
                            if let Ok(date) = first.with().day(day).build() {
                                // With BYDAY too, only the days that are both (Friday the 13th).
                                if rule.by_day.is_empty()
                                    || rule.by_day.iter().any(|b| b.day == date.weekday())
                                {
                                    dates.push(date);
                                }
                            }
                        }
                    }
                } else if !rule.by_day.is_empty() {
                    for d in &rule.by_day {
                        let matching: Vec<Date> = (1..=length)
                            .filter_map(|day| first.with().day(day).build().ok())
                            .filter(|date| date.weekday() == d.day)
                            .collect();
                        match d.nth {
                            None => dates.extend(matching),
                            Some(n) if n > 0 => dates.extend(matching.get(n as usize - 1)),
                            Some(n) => {
                                let back = matching.len().checked_sub(n.unsigned_abs() as usize);
                                dates.extend(back.and_then(|i| matching.get(i)));
                            }
                        }
                    }
                } else if let Ok(date) = first.with().day(self.start.day()).build() {
                    // The start's day; months without it (the 31st) are skipped, as RFC 5545 says.
                    if date.day() == self.start.day() {
                        dates.push(date);
                    }
                }
                dates.sort();
                dates.dedup();
                for date in dates {
                    out.extend(times.iter().map(|t| date.to_datetime(*t)));
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The times of day of each occurring day: BYHOUR × BYMINUTE, defaulting to the start's.
    fn times(&self) -> Vec<Time> {
        let hours: Vec<i8> = if self.rule.by_hour.is_empty() {
            vec![self.start.hour()]
        } else {
            self.rule.by_hour.clone()
        };
        let minutes: Vec<i8> = if self.rule.by_minute.is_empty() {
            vec![self.start.minute()]
        } else {
            self.rule.by_minute.clone()
        };
        let mut times: Vec<Time> = hours
            .iter()
            .flat_map(|h| {
                minutes
                    .iter()
                    .filter_map(move |m| Time::new(*h, *m, 0, 0).ok())
            })
            .collect();
        times.sort();
        times.dedup();
        times
    }
}

#[cfg(test)]
mod tests;
