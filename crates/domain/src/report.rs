//! What reports count: a ticket's measures read off its history (first response, resolution,
//! reopens, escalations, first-contact resolution, SLA outcomes), duration histograms with
//! their percentiles, and reporting periods.
//!
//! Definitions (the same words are on the definitions page):
//! - **First response**: from creation to the desk's first public reply. Internal notes and
//!   customer replies do not count.
//! - **Resolution**: from creation to resolution, summed over every time the ticket was open
//!   (a reopened ticket adds the time from its reopening to its next resolution). Measured only
//!   while the ticket is resolved or closed.
//! - **Business time** is the same spans counted in the ticket's business calendar (the
//!   organisation's, else the team's, else the default); **calendar time** counts every hour.
//! - **Reopen**: a move from resolved or closed back to new, open or pending.
//! - **First-contact resolution**: resolved or closed, with at most one public reply from the
//!   desk, never reopened and never escalated.
//! - **Escalation rate of a tier**: of the tickets that reached the tier, the share escalated
//!   out of it to a higher one.
//! - **SLA compliance** of a metric: met clocks over met plus breached clocks (a clock still
//!   running within its target counts in neither).

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::calendar::Calendar;
use crate::error::Invalid;
use crate::role::Tier;
use crate::sla::{Clock, ClockState, Fact, Happening, Metric};

/// A move between tiers (an escalation when `to` is above `from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TierMove {
    /// The tier the ticket left.
    pub from: Tier,
    /// The tier it went to.
    pub to: Tier,
}

/// A span measured in calendar time and in business time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Measured {
    /// Every hour counts.
    pub calendar: SignedDuration,
    /// Only the business calendar's open hours count.
    pub business: SignedDuration,
}

/// Met and breached clock cycles of one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Outcomes {
    /// Cycles stopped within their target.
    pub met: u32,
    /// Cycles past their target (stopped or not).
    pub breached: u32,
}

/// The SLA metrics reports count compliance for, in report order.
pub const REPORTED_METRICS: [Metric; 4] = [
    Metric::FirstResponse,
    Metric::NextResponse,
    Metric::Resolution,
    Metric::PeriodicUpdate,
];

/// What a ticket's history says for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketMeasures {
    /// When it was raised.
    pub created_at: Timestamp,
    /// The desk's first public reply.
    pub first_response_at: Option<Timestamp>,
    /// Creation to first response.
    pub first_response: Option<Measured>,
    /// The last resolution, while the ticket is resolved or closed.
    pub resolved_at: Option<Timestamp>,
    /// Time open, summed over reopenings, while the ticket is resolved or closed.
    pub resolution: Option<Measured>,
    /// Whether the ticket is new, open or pending now.
    pub active: bool,
    /// Moves from resolved or closed back to an active status.
    pub reopens: u32,
    /// Public replies by the desk.
    pub desk_replies: u32,
    /// Moves to a higher tier.
    pub escalations: u32,
    /// Bit `n` set: the ticket was at tier `n` at some point.
    pub tiers_reached: u8,
    /// Bit `n` set: the ticket was escalated out of tier `n`.
    pub escalated_from: u8,
    /// Resolved at first contact (see the module's definitions).
    pub first_contact: bool,
    /// SLA outcomes in the order of [`REPORTED_METRICS`].
    pub sla: [Outcomes; 4],
}

/// Reads a ticket's measures off its history: `facts` in log order, its tier moves in order,
/// its tier now, its SLA clocks (empty without a policy) and its business calendar.
pub fn measure(
    facts: &[Fact],
    moves: &[TierMove],
    tier_now: Tier,
    clocks: &[Clock],
    calendar: &Calendar,
) -> Option<TicketMeasures> {
    let created_at = facts
        .iter()
        .find(|f| f.what == Happening::Created)
        .map(|f| f.at)?;
    let span = |from: Timestamp, to: Timestamp| Measured {
        calendar: to.duration_since(from).max(SignedDuration::ZERO),
        business: calendar.between(from, to),
    };
    let mut first_response_at = None;
    let mut desk_replies = 0u32;
    let mut open_since = Some(created_at);
    let mut resolution = Measured::default();
    let mut resolved_at = None;
    let mut reopens = 0u32;
    for fact in facts {
        match fact.what {
            Happening::Reply { by_customer: false } => {
                desk_replies += 1;
                first_response_at.get_or_insert(fact.at);
            }
            Happening::Status(status, _) => match (status.is_active(), open_since) {
                (false, Some(since)) => {
                    let part = span(since, fact.at);
                    resolution.calendar += part.calendar;
                    resolution.business += part.business;
                    open_since = None;
                    resolved_at = Some(fact.at);
                }
                (true, None) => {
                    reopens += 1;
                    open_since = Some(fact.at);
                    resolved_at = None;
                }
                _ => {}
            },
            _ => {}
        }
    }
    let active = open_since.is_some();
    let first_tier = moves.first().map_or(tier_now, |m| m.from);
    let mut tiers_reached = 1u8 << first_tier.level();
    let mut escalated_from = 0u8;
    let mut escalations = 0u32;
    for m in moves {
        tiers_reached |= 1 << m.to.level();
        if m.to > m.from {
            escalations += 1;
            escalated_from |= 1 << m.from.level();
        }
    }
    let mut sla = [Outcomes::default(); 4];
    for clock in clocks.iter().filter(|c| c.vendor_id.is_none()) {
        let Some(i) = REPORTED_METRICS.iter().position(|m| *m == clock.metric) else {
            continue;
        };
        match clock.state {
            ClockState::Met => sla[i].met += 1,
            ClockState::Breached => sla[i].breached += 1,
            ClockState::Running | ClockState::Paused => {}
        }
    }
    Some(TicketMeasures {
        created_at,
        first_response_at,
        first_response: first_response_at.map(|at| span(created_at, at)),
        resolved_at,
        resolution: resolved_at.map(|_| resolution),
        active,
        reopens,
        desk_replies,
        escalations,
        tiers_reached,
        escalated_from,
        first_contact: !active && reopens == 0 && escalations == 0 && desk_replies <= 1,
        sla,
    })
}

/// Sub-buckets per power of two in a duration histogram: 32 gives buckets at most 1/32 wide,
/// so a percentile read from the bucket's middle is within 1.6 % of the true value.
const SUB_BUCKETS: i64 = 32;

/// The histogram bucket of a duration in whole seconds (log-linear: exact below 64 s, then 32
/// buckets per doubling). Negative durations count as zero.
pub fn duration_bucket(secs: i64) -> i64 {
    let v = secs.max(0);
    if v < 2 * SUB_BUCKETS {
        return v;
    }
    let shift = i64::from(63 - v.leading_zeros() as i32) - 5;
    SUB_BUCKETS * shift + (v >> shift)
}

/// The smallest duration (seconds) of a bucket and its width.
pub fn bucket_range(bucket: i64) -> (i64, i64) {
    if bucket < 2 * SUB_BUCKETS {
        return (bucket.max(0), 1);
    }
    let shift = bucket / SUB_BUCKETS - 1;
    let sub = bucket - SUB_BUCKETS * shift;
    (sub << shift, 1 << shift)
}

/// A histogram of durations: (bucket, count) pairs in any order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<(i64, i64)>,
}

impl Histogram {
    /// A histogram from (bucket, count) pairs.
    pub fn new(mut counts: Vec<(i64, i64)>) -> Histogram {
        counts.retain(|(_, n)| *n > 0);
        counts.sort_unstable();
        Histogram { counts }
    }

    /// How many durations it holds.
    pub fn total(&self) -> i64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    /// The `q` quantile (0 < q ≤ 1, nearest rank), as the middle of its bucket; `None` when
    /// empty.
    pub fn quantile(&self, q: f64) -> Option<SignedDuration> {
        let total = self.total();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as i64).max(1);
        let mut seen = 0;
        for (bucket, n) in &self.counts {
            seen += n;
            if seen >= rank {
                let (floor, width) = bucket_range(*bucket);
                return Some(SignedDuration::from_secs(floor + width / 2));
            }
        }
        None
    }
}

/// How a report's series is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    /// One point per day.
    Day,
    /// One point per ISO week (Monday to Sunday).
    Week,
    /// One point per calendar month.
    Month,
}

impl Granularity {
    /// Reads `day`, `week` or `month`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Granularity, Invalid> {
        match raw {
            "day" => Ok(Granularity::Day),
            "week" => Ok(Granularity::Week),
            "month" => Ok(Granularity::Month),
            _ => Err(Invalid::new(field, "day, week or month")),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    /// The first day of the bucket holding `day`.
    pub fn bucket_start(self, day: Date) -> Date {
        match self {
            Granularity::Day => day,
            Granularity::Week => {
                let back = i64::from(day.weekday().to_monday_zero_offset());
                day.checked_sub(back.days()).unwrap_or(day)
            }
            Granularity::Month => day.first_of_month(),
        }
    }

    /// The first day of the bucket after the one starting at `start`.
    pub fn next_start(self, start: Date) -> Date {
        let step = match self {
            Granularity::Day => 1.day(),
            Granularity::Week => 1.week(),
            Granularity::Month => 1.month(),
        };
        start.checked_add(step).unwrap_or(start)
    }
}

/// A reporting period: whole UTC days from `from` up to and including `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// The first day.
    pub from: Date,
    /// The last day.
    pub to: Date,
}

/// The longest period a report covers (about five years).
pub const MAX_PERIOD_DAYS: i64 = 1830;

impl Period {
    /// A period from its first and last day; the last may not precede the first, and a period
    /// spans at most [`MAX_PERIOD_DAYS`].
    pub fn parse(from: Date, to: Date) -> Result<Period, Invalid> {
        if to < from {
            return Err(Invalid::new("to", "the last day comes before the first"));
        }
        let period = Period { from, to };
        if period.days() > MAX_PERIOD_DAYS {
            return Err(Invalid::new("from", "a report covers at most five years"));
        }
        Ok(period)
    }

    /// How many days it spans.
    pub fn days(&self) -> i64 {
        day_number(self.to) - day_number(self.from) + 1
    }

    /// The period of the same length that ends the day before this one starts.
    pub fn previous(&self) -> Period {
        let len = self.days();
        let to = date_of_day(day_number(self.from) - 1);
        Period {
            from: date_of_day(day_number(to) - len + 1),
            to,
        }
    }

    /// The first instant of the period (its first day's midnight, UTC).
    pub fn start(&self) -> Timestamp {
        day_start(day_number(self.from))
    }

    /// The instant just after the period (the midnight after its last day, UTC).
    pub fn end(&self) -> Timestamp {
        day_start(day_number(self.to) + 1)
    }

    /// The starts of the buckets the period is cut into (the first may begin before `from`).
    pub fn buckets(&self, granularity: Granularity) -> Vec<Date> {
        let mut out = Vec::new();
        let mut start = granularity.bucket_start(self.from);
        while start <= self.to {
            out.push(start);
            let next = granularity.next_start(start);
            if next <= start {
                break;
            }
            start = next;
        }
        out
    }
}

const DAY_MICROS: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a date.
pub fn day_number(date: Date) -> i64 {
    let epoch = Date::constant(1970, 1, 1);
    i64::from(
        date.since(epoch)
            .map(|span| span.get_days())
            .unwrap_or_default(),
    )
}

/// The date `days` after 1970-01-01 (clamped to jiff's range).
pub fn date_of_day(days: i64) -> Date {
    let ts = Timestamp::from_microsecond(days.saturating_mul(DAY_MICROS)).unwrap_or(if days < 0 {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    });
    ts.to_zoned(jiff::tz::TimeZone::UTC).date()
}

/// The UTC day number of an instant stored as microseconds.
pub fn day_of_micros(micros: i64) -> i64 {
    micros.div_euclid(DAY_MICROS)
}

fn day_start(days: i64) -> Timestamp {
    Timestamp::from_microsecond(days.saturating_mul(DAY_MICROS)).unwrap_or(Timestamp::MAX)
}

/// Mean time between failures of one service: the mean gap from the end of each incident to
/// the start of the next, over consecutive incidents in start order (`(start, end)` pairs; an
/// unresolved incident ends no gap, an overlapping one counts as no gap). `None` without a gap.
pub fn mean_time_between(incidents: &[(Timestamp, Option<Timestamp>)]) -> Option<SignedDuration> {
    let mut sorted = incidents.to_vec();
    sorted.sort();
    let gaps: Vec<SignedDuration> = sorted
        .windows(2)
        .filter_map(|pair| {
            let end = pair[0].1?;
            Some(pair[1].0.duration_since(end).max(SignedDuration::ZERO))
        })
        .collect();
    mean(&gaps)
}

/// The mean of some durations (whole seconds); `None` when there are none.
pub fn mean(durations: &[SignedDuration]) -> Option<SignedDuration> {
    let n = i64::try_from(durations.len()).ok().filter(|n| *n > 0)?;
    let total: i64 = durations.iter().map(|d| d.as_secs()).sum();
    Some(SignedDuration::from_secs(total / n))
}

/// A customer's satisfaction answer: a score from 1 (very unhappy) to 5 (very happy) and an
/// optional comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Satisfaction {
    score: u8,
    comment: String,
}

/// The longest comment kept.
pub const MAX_COMMENT_CHARS: usize = 2000;

impl Satisfaction {
    /// Checks the score (1–5) and the comment (at most 2,000 characters; control characters
    /// other than line breaks and tabs are dropped, surrounding space trimmed).
    pub fn parse(score: i64, comment: &str) -> Result<Satisfaction, Invalid> {
        let score = u8::try_from(score)
            .ok()
            .filter(|s| (1..=5).contains(s))
            .ok_or_else(|| Invalid::new("score", "a whole number from 1 to 5"))?;
        let comment: String = comment
            .chars()
            .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
            .collect::<String>()
            .trim()
            .to_owned();
        if comment.chars().count() > MAX_COMMENT_CHARS {
            return Err(Invalid::new("comment", "at most 2000 characters"));
        }
        Ok(Satisfaction { score, comment })
    }

    /// 1–5.
    pub fn score(&self) -> u8 {
        self.score
    }

    /// The comment (may be empty).
    pub fn comment(&self) -> &str {
        &self.comment
    }

    /// Whether the answer counts as satisfied (4 or 5).
    pub fn satisfied(&self) -> bool {
        self.score >= 4
    }
}

/// Part over whole, as a percentage; `None` when the whole is zero.
pub fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests;
