//! Business calendars and the arithmetic of business time.
//!
//! A calendar is a real IANA time zone, opening hours per weekday (several ranges a day, for
//! split shifts) and holidays. Hours are local wall-clock times, so a DST change moves the
//! instants but never the business hours; a range that a DST gap swallows is shorter that day.
//! All arithmetic walks the open intervals forward from an instant, one local day at a time.

use std::fmt;

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};

use crate::Invalid;

/// Minutes in a civil day; a range may end at 24:00.
const DAY_MINUTES: u16 = 1440;

/// How many local days the walk scans without finding open time before it gives up.
///
/// Construction guarantees open hours every week and holidays are finite or yearly, so this
/// only stops a walk past the end of representable time.
const MAX_CLOSED_DAYS: u32 = 3 * 366;

/// Looks up an IANA time zone ("Europe/Berlin") in the time-zone database built into opsdesk.
pub fn parse_zone(field: &'static str, raw: &str) -> Result<TimeZone, Invalid> {
    let name = raw.trim();
    TimeZone::get(name).map_err(|_| {
        Invalid::new(
            field,
            format!("'{name}' is not an IANA time zone (like Europe/Berlin or America/New_York)"),
        )
    })
}

/// One range of opening hours within a local day, in minutes since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpenRange {
    start: u16,
    end: u16,
}

impl OpenRange {
    /// A range from `start` to `end` minutes after local midnight (`end` up to 1440 = 24:00).
    pub fn new(field: &'static str, start: u16, end: u16) -> Result<Self, Invalid> {
        if end > DAY_MINUTES {
            return Err(Invalid::new(field, "a range ends at 24:00 at the latest"));
        }
        if start >= end {
            return Err(Invalid::new(
                field,
                format!("{} must be before {}", clock_text(start), clock_text(end)),
            ));
        }
        Ok(Self { start, end })
    }

    /// Parses `HH:MM-HH:MM` (also with an en dash).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let cleaned = raw.trim().replace('–', "-");
        let Some((from, to)) = cleaned.split_once('-') else {
            return Err(Invalid::new(
                field,
                format!("'{raw}' is not a range like 09:00-17:00"),
            ));
        };
        Self::new(field, parse_clock(field, from)?, parse_clock(field, to)?)
    }

    /// Parses a comma-separated list of ranges; an empty text or `closed` means no hours.
    pub fn parse_list(field: &'static str, raw: &str) -> Result<Vec<Self>, Invalid> {
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("closed") {
            return Ok(Vec::new());
        }
        let mut ranges = trimmed
            .split(',')
            .map(|part| Self::parse(field, part))
            .collect::<Result<Vec<_>, _>>()?;
        ranges.sort();
        for pair in ranges.windows(2) {
            if pair[1].start < pair[0].end {
                return Err(Invalid::new(
                    field,
                    format!("{} overlaps {}", pair[0], pair[1]),
                ));
            }
        }
        Ok(ranges)
    }

    /// Minutes after local midnight when the range opens.
    pub fn start_minute(self) -> u16 {
        self.start
    }

    /// Minutes after local midnight when the range closes.
    pub fn end_minute(self) -> u16 {
        self.end
    }
}

impl fmt::Display for OpenRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", clock_text(self.start), clock_text(self.end))
    }
}

fn parse_clock(field: &'static str, raw: &str) -> Result<u16, Invalid> {
    let raw = raw.trim();
    let bad = || Invalid::new(field, format!("'{raw}' is not a time like 09:30"));
    let (h, m) = raw.split_once(':').ok_or_else(bad)?;
    let h: u16 = h.trim().parse().map_err(|_| bad())?;
    let m: u16 = m.trim().parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn clock_text(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// When a holiday falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HolidayDate {
    /// One date.
    Once(Date),
    /// The same month and day every year.
    Yearly {
        /// Month, 1–12.
        month: i8,
        /// Day of the month, 1–31.
        day: i8,
    },
}

impl HolidayDate {
    /// Parses `YYYY-MM-DD` (one date) or `MM-DD` (every year).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let raw = raw.trim();
        if let Ok(date) = raw.parse::<Date>() {
            return Ok(Self::Once(date));
        }
        let bad = || {
            Invalid::new(
                field,
                format!("'{raw}' is not a date (2026-12-24) or a yearly date (12-25)"),
            )
        };
        let (m, d) = raw.split_once('-').ok_or_else(bad)?;
        let month: i8 = m.parse().map_err(|_| bad())?;
        let day: i8 = d.parse().map_err(|_| bad())?;
        // 2024 is a leap year, so 02-29 is accepted as a yearly date.
        Date::new(2024, month, day).map_err(|_| bad())?;
        Ok(Self::Yearly { month, day })
    }

    /// Whether the holiday falls on `date`.
    pub fn falls_on(self, date: Date) -> bool {
        match self {
            Self::Once(d) => d == date,
            Self::Yearly { month, day } => date.month() == month && date.day() == day,
        }
    }
}

impl fmt::Display for HolidayDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Once(d) => write!(f, "{d}"),
            Self::Yearly { month, day } => write!(f, "{month:02}-{day:02}"),
        }
    }
}

/// A named day off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    /// When it falls.
    pub date: HolidayDate,
    /// What it is called ("Christmas Day").
    pub name: String,
}

/// Opening hours for each weekday, Monday first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeekHours(pub [Vec<OpenRange>; 7]);

impl WeekHours {
    /// The same hours Monday to Friday, closed at weekends.
    pub fn weekdays(ranges: &[OpenRange]) -> Self {
        let mut week: [Vec<OpenRange>; 7] = Default::default();
        for day in week.iter_mut().take(5) {
            *day = ranges.to_vec();
        }
        Self(week)
    }

    /// Open around the clock every day.
    pub fn always() -> Self {
        Self(std::array::from_fn(|_| {
            vec![OpenRange {
                start: 0,
                end: DAY_MINUTES,
            }]
        }))
    }
}

/// Short weekday names, Monday first.
pub const WEEKDAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// When the desk is open: a time zone, weekly hours and holidays.
#[derive(Debug, Clone)]
pub struct Calendar {
    zone: TimeZone,
    week: [Vec<OpenRange>; 7],
    once: Vec<Date>,
    yearly: Vec<(i8, i8)>,
    holidays: Vec<Holiday>,
    always_open: bool,
}

impl Calendar {
    /// Builds a calendar, refusing one with no opening hours in the whole week.
    pub fn new(zone: TimeZone, week: WeekHours, holidays: Vec<Holiday>) -> Result<Self, Invalid> {
        if week.0.iter().all(Vec::is_empty) {
            return Err(Invalid::new(
                "hours",
                "a calendar needs opening hours on at least one weekday",
            ));
        }
        let mut once: Vec<Date> = Vec::new();
        let mut yearly: Vec<(i8, i8)> = Vec::new();
        for h in &holidays {
            match h.date {
                HolidayDate::Once(d) => once.push(d),
                HolidayDate::Yearly { month, day } => yearly.push((month, day)),
            }
        }
        once.sort();
        once.dedup();
        yearly.sort();
        yearly.dedup();
        let always_open = holidays.is_empty()
            && week
                .0
                .iter()
                .all(|day| day.len() == 1 && day[0].start == 0 && day[0].end == DAY_MINUTES);
        Ok(Self {
            zone,
            week: week.0,
            once,
            yearly,
            holidays,
            always_open,
        })
    }

    /// Calendar time: open around the clock, no holidays.
    pub fn continuous() -> Self {
        Self {
            zone: TimeZone::UTC,
            week: WeekHours::always().0,
            once: Vec::new(),
            yearly: Vec::new(),
            holidays: Vec::new(),
            always_open: true,
        }
    }

    /// The time zone the hours are read in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// Opening hours per weekday, Monday first.
    pub fn week(&self) -> &[Vec<OpenRange>; 7] {
        &self.week
    }

    /// The holidays, as given.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// Whether `date` is a holiday.
    pub fn is_holiday(&self, date: Date) -> bool {
        self.once.binary_search(&date).is_ok() || self.yearly.contains(&(date.month(), date.day()))
    }

    fn ranges_on(&self, date: Date) -> &[OpenRange] {
        if self.is_holiday(date) {
            return &[];
        }
        let weekday = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
        &self.week[weekday % 7]
    }

    /// The instant of `minute` after local midnight on `date`; a time a DST change skips
    /// reads as after the change, a repeated one as its first occurrence.
    fn instant(&self, date: Date, minute: u16) -> Option<Timestamp> {
        self.zone
            .to_ambiguous_timestamp(local(date, minute)?)
            .compatible()
            .ok()
    }

    /// The open intervals from `from` on, in order, each clipped to start no earlier than `from`.
    pub fn open_intervals(&self, from: Timestamp) -> OpenIntervals<'_> {
        OpenIntervals {
            calendar: self,
            date: self.zone.to_datetime(from).date(),
            index: 0,
            from,
            closed_days: 0,
            fixed: FixedOffset::around(&self.zone, from),
        }
    }

    /// The instant when `amount` of business time has passed after `from`.
    ///
    /// Never lands inside a closed period: a positive amount ends within or at the end of an open
    /// interval. `None` only beyond the end of representable time.
    pub fn add(&self, from: Timestamp, amount: SignedDuration) -> Option<Timestamp> {
        if amount <= SignedDuration::ZERO {
            return Some(from);
        }
        if self.always_open {
            return from.checked_add(amount).ok();
        }
        let mut remaining = amount;
        let mut intervals = self.open_intervals(from);
        loop {
            remaining -= intervals.skip_whole_days(Timestamp::MAX, remaining);
            let (start, end) = intervals.next()?;
            let open = end.duration_since(start);
            if remaining <= open {
                return start.checked_add(remaining).ok();
            }
            remaining -= open;
        }
    }

    /// Business time between `from` and `to` (zero when `to` is not after `from`).
    pub fn between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        if to <= from {
            return SignedDuration::ZERO;
        }
        if self.always_open {
            return to.duration_since(from);
        }
        let mut total = SignedDuration::ZERO;
        let mut intervals = self.open_intervals(from);
        loop {
            total += intervals.skip_whole_days(to, SignedDuration::MAX);
            let Some((start, end)) = intervals.next() else {
                break;
            };
            if start >= to {
                break;
            }
            total += end.min(to).duration_since(start);
        }
        total
    }

    /// Open time of a whole day with no holiday and no DST change.
    fn day_open(&self, date: Date) -> SignedDuration {
        let minutes: i64 = self
            .ranges_on(date)
            .iter()
            .map(|r| i64::from(r.end - r.start))
            .sum();
        SignedDuration::from_mins(minutes)
    }

    /// Human words for the closed time between two instants: "excludes Sat–Sun, 25 Dec (Christmas Day)".
    ///
    /// Empty for a continuous calendar or when nothing closed falls in the span.
    pub fn describe_closures(&self, from: Timestamp, to: Timestamp) -> String {
        if self.always_open || to <= from {
            return String::new();
        }
        let first = self.zone.to_datetime(from).date();
        let last = self.zone.to_datetime(to).date();
        let closed_weekdays: Vec<usize> = (0..7).filter(|&i| self.week[i].is_empty()).collect();
        let mut holidays: Vec<String> = Vec::new();
        let mut saw_closed_weekday = false;
        let mut date = first;
        let mut days = 0;
        while date <= last && days < 400 {
            let weekday = usize::try_from(date.weekday().to_monday_zero_offset()).unwrap_or(0);
            if self.is_holiday(date) {
                let name = self
                    .holidays
                    .iter()
                    .find(|h| h.date.falls_on(date))
                    .map(|h| h.name.as_str())
                    .unwrap_or("holiday");
                holidays.push(format!("{} ({name})", date.strftime("%-d %b %Y")));
            } else if closed_weekdays.contains(&weekday) {
                saw_closed_weekday = true;
            }
            let Ok(next) = date.tomorrow() else { break };
            date = next;
            days += 1;
        }
        let mut parts = Vec::new();
        if saw_closed_weekday {
            parts.push(weekday_runs(&closed_weekdays));
        }
        parts.extend(holidays);
        if parts.is_empty() {
            String::new()
        } else {
            format!("excludes {}", parts.join(", "))
        }
    }

    /// One line describing the hours: "Mon–Fri 09:00-17:00 · Europe/Berlin · 3 holidays".
    pub fn summary(&self) -> String {
        let mut groups: Vec<(usize, usize, &Vec<OpenRange>)> = Vec::new();
        for (i, ranges) in self.week.iter().enumerate() {
            match groups.last_mut() {
                Some((_, end, r)) if *r == ranges && *end + 1 == i => *end = i,
                _ => groups.push((i, i, ranges)),
            }
        }
        let hours: Vec<String> = groups
            .iter()
            .filter(|(_, _, r)| !r.is_empty())
            .map(|(a, b, r)| {
                let days = if a == b {
                    WEEKDAY_NAMES[*a].to_owned()
                } else {
                    format!("{}–{}", WEEKDAY_NAMES[*a], WEEKDAY_NAMES[*b])
                };
                let ranges: Vec<String> = r.iter().map(ToString::to_string).collect();
                format!("{days} {}", ranges.join(", "))
            })
            .collect();
        let zone = self.zone.iana_name().unwrap_or("UTC");
        let mut text = format!("{} · {zone}", hours.join("; "));
        if !self.holidays.is_empty() {
            text.push_str(&format!(" · {} holidays", self.holidays.len()));
        }
        text
    }
}

/// The civil date-time `minute` minutes after midnight of `date` (1440 = next midnight).
fn local(date: Date, minute: u16) -> Option<DateTime> {
    if minute >= DAY_MINUTES {
        return Some(date.tomorrow().ok()?.to_datetime(Time::midnight()));
    }
    let hour = i8::try_from(minute / 60).ok()?;
    let min = i8::try_from(minute % 60).ok()?;
    Some(date.to_datetime(Time::new(hour, min, 0, 0).ok()?))
}

/// A stretch of time in which the zone keeps one UTC offset, kept a day clear of each
/// transition (where local times are skipped or repeated): inside it, local time converts by
/// plain arithmetic instead of a time-zone lookup.
#[derive(Debug, Clone, Copy)]
struct FixedOffset {
    offset: Offset,
    after: Timestamp,
    before: Timestamp,
}

impl FixedOffset {
    fn around(zone: &TimeZone, t: Timestamp) -> Self {
        let day = SignedDuration::from_hours(24);
        let before = zone
            .following(t)
            .next()
            .and_then(|tr| tr.timestamp().checked_sub(day).ok())
            .unwrap_or(Timestamp::MAX);
        let after = zone
            .preceding(t)
            .next()
            .and_then(|tr| tr.timestamp().checked_add(day).ok())
            .unwrap_or(Timestamp::MIN);
        Self {
            offset: zone.to_offset(t),
            after,
            before,
        }
    }

    fn convert(&self, datetime: DateTime) -> Option<Timestamp> {
        self.offset
            .to_timestamp(datetime)
            .ok()
            .filter(|t| *t > self.after && *t < self.before)
    }
}

/// "Sat–Sun" or "Wed, Sat–Sun" for a sorted list of weekday indexes.
fn weekday_runs(days: &[usize]) -> String {
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for &d in days {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == d => *end = d,
            _ => runs.push((d, d)),
        }
    }
    runs.iter()
        .map(|(a, b)| {
            if a == b {
                WEEKDAY_NAMES[*a].to_owned()
            } else {
                format!("{}–{}", WEEKDAY_NAMES[*a], WEEKDAY_NAMES[*b])
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Iterator over a calendar's open intervals, as `(start, end)` instants.
#[derive(Debug)]
pub struct OpenIntervals<'a> {
    calendar: &'a Calendar,
    date: Date,
    index: usize,
    from: Timestamp,
    closed_days: u32,
    fixed: FixedOffset,
}

impl OpenIntervals<'_> {
    /// Skips whole days not yet entered that end by `until`, lie where the zone's offset is
    /// fixed, and whose open time is less than `budget`, without converting any instant: long
    /// spans cost one holiday check per day. Answers the open time skipped.
    fn skip_whole_days(&mut self, until: Timestamp, budget: SignedDuration) -> SignedDuration {
        let mut skipped = SignedDuration::ZERO;
        loop {
            if self.index > 0 {
                if self.index < self.calendar.ranges_on(self.date).len() {
                    return skipped;
                }
                // The day is used up: move to the next one.
                let Ok(next) = self.date.tomorrow() else {
                    return skipped;
                };
                self.date = next;
                self.index = 0;
                self.closed_days += 1;
            }
            let Some(start) = local(self.date, 0).and_then(|d| self.fixed.convert(d)) else {
                return skipped;
            };
            let Some(end) = local(self.date, DAY_MINUTES).and_then(|d| self.fixed.convert(d))
            else {
                return skipped;
            };
            let open = self.calendar.day_open(self.date);
            if start < self.from || end > until || open >= budget - skipped {
                return skipped;
            }
            skipped += open;
            if open.is_positive() {
                self.closed_days = 0;
            } else {
                self.closed_days += 1;
                if self.closed_days > MAX_CLOSED_DAYS {
                    return skipped;
                }
            }
            self.from = end;
            let Ok(next) = self.date.tomorrow() else {
                return skipped;
            };
            self.date = next;
        }
    }

    /// [`Calendar::instant`], by arithmetic while the zone's offset is known to hold.
    fn instant(&mut self, date: Date, minute: u16) -> Option<Timestamp> {
        let datetime = local(date, minute)?;
        if let Some(t) = self.fixed.convert(datetime) {
            return Some(t);
        }
        let t = self.calendar.instant(date, minute)?;
        self.fixed = FixedOffset::around(&self.calendar.zone, t);
        Some(t)
    }
}

impl Iterator for OpenIntervals<'_> {
    type Item = (Timestamp, Timestamp);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let ranges = self.calendar.ranges_on(self.date);
            if let Some(range) = ranges.get(self.index) {
                self.index += 1;
                let (date, range) = (self.date, *range);
                let start = self.instant(date, range.start)?;
                let end = self.instant(date, range.end)?;
                // Clipping to the previous end also keeps intervals apart on a DST day, where a
                // range ending in the skipped hour can end after the next range starts.
                let start = start.max(self.from);
                if start < end {
                    self.closed_days = 0;
                    self.from = end;
                    return Some((start, end));
                }
                continue;
            }
            self.date = self.date.tomorrow().ok()?;
            self.index = 0;
            self.closed_days += 1;
            if self.closed_days > MAX_CLOSED_DAYS {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap_or(TimeZone::UTC)
    }

    fn office(name: &str, holidays: &[(&str, &str)]) -> Calendar {
        let hours = OpenRange::parse_list("hours", "09:00-17:00").unwrap_or_default();
        let holidays = holidays
            .iter()
            .map(|(d, n)| Holiday {
                date: HolidayDate::parse("date", d)
                    .unwrap_or(HolidayDate::Yearly { month: 1, day: 1 }),
                name: (*n).to_owned(),
            })
            .collect();
        Calendar::new(zone(name), WeekHours::weekdays(&hours), holidays)
            .unwrap_or_else(|_| Calendar::continuous())
    }

    fn at(zone_name: &str, civil: &str) -> Timestamp {
        civil
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|dt| dt.to_zoned(zone(zone_name)).ok())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn hours(h: i64) -> SignedDuration {
        SignedDuration::from_hours(h)
    }

    #[test]
    fn ranges_parse_and_refuse_clearly() {
        assert_eq!(
            OpenRange::parse_list("f", "13:00-17:00, 08:30-12:00")
                .map(|r| r.iter().map(ToString::to_string).collect::<Vec<_>>()),
            Ok(vec!["08:30-12:00".to_owned(), "13:00-17:00".to_owned()])
        );
        assert_eq!(OpenRange::parse_list("f", "closed"), Ok(vec![]));
        assert_eq!(
            OpenRange::parse("f", "00:00-24:00").map(|r| r.end_minute()),
            Ok(1440)
        );
        let overlap = OpenRange::parse_list("f", "09:00-12:00,11:00-13:00").unwrap_err();
        assert_eq!(overlap.reason, "09:00-12:00 overlaps 11:00-13:00");
        assert!(OpenRange::parse("f", "17:00-09:00").is_err());
        assert!(OpenRange::parse("f", "9-5").is_err());
        assert!(OpenRange::parse("f", "09:60-10:00").is_err());
        assert!(OpenRange::parse("f", "24:01-24:30").is_err());
    }

    #[test]
    fn holiday_dates_parse() {
        assert_eq!(
            HolidayDate::parse("d", "12-25"),
            Ok(HolidayDate::Yearly { month: 12, day: 25 })
        );
        assert!(matches!(
            HolidayDate::parse("d", "2026-12-24"),
            Ok(HolidayDate::Once(_))
        ));
        assert!(HolidayDate::parse("d", "13-01").is_err());
        assert!(HolidayDate::parse("d", "christmas").is_err());
    }

    #[test]
    fn a_week_with_no_hours_is_refused() {
        let err = Calendar::new(TimeZone::UTC, WeekHours::default(), vec![]).unwrap_err();
        assert_eq!(err.field, "hours");
    }

    #[test]
    fn adding_within_a_day_and_across_a_weekend() {
        let cal = office("Europe/Berlin", &[]);
        // Friday 2026-11-20 15:00 + 4h business = Monday 11:00.
        let due = cal.add(at("Europe/Berlin", "2026-11-20T15:00"), hours(4));
        assert_eq!(due, Some(at("Europe/Berlin", "2026-11-23T11:00")));
        // Before opening: the clock starts at 09:00.
        let due = cal.add(at("Europe/Berlin", "2026-11-23T06:00"), hours(1));
        assert_eq!(due, Some(at("Europe/Berlin", "2026-11-23T10:00")));
        // Exactly a full day ends at closing time, not the next morning.
        let due = cal.add(at("Europe/Berlin", "2026-11-23T09:00"), hours(8));
        assert_eq!(due, Some(at("Europe/Berlin", "2026-11-23T17:00")));
    }

    #[test]
    fn holidays_are_skipped_including_one_next_to_a_weekend() {
        let cal = office(
            "Europe/Berlin",
            &[
                ("12-25", "Christmas Day"),
                ("12-26", "Boxing Day"),
                ("2026-12-28", "Company day"),
            ],
        );
        // Thu 24 Dec 2026 16:00 + 2h: 1h on Thursday; Fri 25 and Sat 26 closed (holiday + weekend),
        // Sun closed, Mon 28 a one-off holiday: Tue 29 Dec 10:00.
        let due = cal.add(at("Europe/Berlin", "2026-12-24T16:00"), hours(2));
        assert_eq!(due, Some(at("Europe/Berlin", "2026-12-29T10:00")));
        let text = cal.describe_closures(
            at("Europe/Berlin", "2026-12-24T16:00"),
            at("Europe/Berlin", "2026-12-29T10:00"),
        );
        assert_eq!(
            text,
            "excludes Sat–Sun, 25 Dec 2026 (Christmas Day), 26 Dec 2026 (Boxing Day), 28 Dec 2026 (Company day)"
        );
    }

    #[test]
    fn split_shifts_skip_the_lunch_break() {
        let hours_list = OpenRange::parse_list("h", "08:00-12:00, 13:00-17:00").unwrap_or_default();
        let cal = Calendar::new(
            zone("America/New_York"),
            WeekHours::weekdays(&hours_list),
            vec![],
        )
        .unwrap_or_else(|_| Calendar::continuous());
        let due = cal.add(at("America/New_York", "2026-11-23T11:00"), hours(2));
        assert_eq!(due, Some(at("America/New_York", "2026-11-23T14:00")));
        assert_eq!(
            cal.between(
                at("America/New_York", "2026-11-23T07:00"),
                at("America/New_York", "2026-11-23T18:00")
            ),
            hours(8)
        );
    }

    #[test]
    fn business_hours_stay_put_across_dst() {
        // Europe/Berlin springs forward on 2026-03-29 and falls back on 2026-10-25 (Sundays);
        // America/New_York on 2026-03-08 and 2026-11-01. Mon 09:00 local is 09:00 local either side.
        for (name, before, after) in [
            ("Europe/Berlin", "2026-03-27T16:00", "2026-03-30T10:00"),
            ("Europe/Berlin", "2026-10-23T16:00", "2026-10-26T10:00"),
            ("America/New_York", "2026-03-06T16:00", "2026-03-09T10:00"),
            ("America/New_York", "2026-10-30T16:00", "2026-11-02T10:00"),
        ] {
            let cal = office(name, &[]);
            assert_eq!(
                cal.add(at(name, before), hours(2)),
                Some(at(name, after)),
                "{name} {before}"
            );
            assert_eq!(
                cal.between(at(name, before), at(name, after)),
                hours(2),
                "{name} {before}"
            );
        }
    }

    #[test]
    fn a_24_7_calendar_counts_the_real_length_of_dst_days() {
        let cal = Calendar::new(
            zone("Europe/Berlin"),
            WeekHours::always(),
            vec![Holiday {
                date: HolidayDate::Yearly { month: 1, day: 1 },
                name: "New Year".into(),
            }],
        )
        .unwrap_or_else(|_| Calendar::continuous());
        // The spring-forward day has 23 hours, the fall-back day 25.
        let spring = cal.between(
            at("Europe/Berlin", "2026-03-29T00:00"),
            at("Europe/Berlin", "2026-03-30T00:00"),
        );
        assert_eq!(spring, hours(23));
        let autumn = cal.between(
            at("Europe/Berlin", "2026-10-25T00:00"),
            at("Europe/Berlin", "2026-10-26T00:00"),
        );
        assert_eq!(autumn, hours(25));
        let continuous = Calendar::continuous();
        let t = at("UTC", "2026-03-29T00:00");
        assert_eq!(continuous.add(t, hours(30)), t.checked_add(hours(30)).ok());
    }

    #[test]
    fn ranges_around_a_skipped_hour_never_count_twice() {
        // On 2026-03-29 Berlin skips 02:00-03:00: 02:30 does not exist and reads as 03:30 CEST,
        // after the second range has opened at 03:00.
        let ranges = OpenRange::parse_list("h", "01:00-02:30, 03:00-04:00").unwrap();
        let cal = Calendar::new(
            zone("Europe/Berlin"),
            WeekHours(std::array::from_fn(|_| ranges.clone())),
            vec![],
        )
        .unwrap();
        let total = cal.between(
            at("Europe/Berlin", "2026-03-29T00:00"),
            at("Europe/Berlin", "2026-03-29T05:00"),
        );
        assert_eq!(total, SignedDuration::from_mins(120));
    }

    #[test]
    fn the_arithmetic_fast_path_agrees_with_the_zone_database_every_day_for_two_years() {
        let ranges =
            OpenRange::parse_list("h", "00:30-02:30, 02:45-03:15, 08:00-12:00, 13:00-24:00")
                .unwrap();
        for name in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "UTC",
        ] {
            let cal = Calendar::new(
                zone(name),
                WeekHours(std::array::from_fn(|_| ranges.clone())),
                vec![],
            )
            .unwrap();
            let from = at(name, "2026-01-01T00:00");
            let mut date = cal.zone().to_datetime(from).date();
            let mut expected = Vec::new();
            for _ in 0..730 {
                for r in &ranges {
                    expected.push((
                        cal.instant(date, r.start_minute()).unwrap(),
                        cal.instant(date, r.end_minute()).unwrap(),
                    ));
                }
                date = date.tomorrow().unwrap();
            }
            // The iterator clips overlaps on DST days; compare the ends, and starts where no clip applies.
            let got: Vec<(Timestamp, Timestamp)> =
                cal.open_intervals(from).take(expected.len()).collect();
            let mut previous_end = from;
            let mut checked = 0;
            let mut e = expected.iter().filter(|(a, b)| b > a && *b > from);
            for (start, end) in got {
                let Some(&(want_start, want_end)) = e.by_ref().find(|(_, b)| *b > previous_end)
                else {
                    break;
                };
                checked += 1;
                assert_eq!(end, want_end, "{name}");
                assert_eq!(start, want_start.max(previous_end), "{name}");
                previous_end = end;
            }
            assert!(
                checked > 2 * 365 * 3,
                "{name}: only {checked} intervals compared"
            );
        }
    }

    #[test]
    fn summary_names_the_hours_and_zone() {
        let cal = office("Europe/Berlin", &[("12-25", "Christmas Day")]);
        assert_eq!(
            cal.summary(),
            "Mon–Fri 09:00-17:00 · Europe/Berlin · 1 holidays"
        );
    }
}
