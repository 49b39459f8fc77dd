#![allow(clippy::unwrap_used)]

use super::*;
use crate::calendar::{OpenRange, WeekHours};
use crate::sla::{compute_clocks, Conditions, PauseSet, Policy, Target};
use crate::ticket::{PendingReason, Status};
use jiff::tz::TimeZone;

fn berlin_office() -> Calendar {
    let hours = OpenRange::parse_list("h", "09:00-17:00").unwrap();
    Calendar::new(
        TimeZone::get("Europe/Berlin").unwrap(),
        WeekHours::weekdays(&hours),
        vec![],
    )
    .unwrap()
}

/// An instant given as Berlin wall-clock time.
fn t(civil: &str) -> Timestamp {
    civil
        .parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(TimeZone::get("Europe/Berlin").unwrap())
        .unwrap()
        .timestamp()
}

fn fact(at: &str, what: Happening) -> Fact {
    Fact { at: t(at), what }
}

fn status(s: Status) -> Happening {
    Happening::Status(s, None)
}

const DESK: Happening = Happening::Reply { by_customer: false };
const CUSTOMER: Happening = Happening::Reply { by_customer: true };

#[test]
fn first_response_and_resolution_in_business_and_calendar_time() {
    // Friday 16:00 → Monday 10:00: 66 h on the clock, 2 business hours (Fri 16–17, Mon 9–10).
    let facts = [
        fact("2026-11-20T16:00", Happening::Created),
        fact("2026-11-23T10:00", DESK),
        fact("2026-11-23T11:30", status(Status::Resolved)),
    ];
    let m = measure(&facts, &[], Tier::L1, &[], &berlin_office()).unwrap();
    let fr = m.first_response.unwrap();
    assert_eq!(fr.calendar, SignedDuration::from_hours(66));
    assert_eq!(fr.business, SignedDuration::from_hours(2));
    let res = m.resolution.unwrap();
    assert_eq!(res.calendar, SignedDuration::from_mins(67 * 60 + 30));
    assert_eq!(res.business, SignedDuration::from_mins(3 * 60 + 30));
    assert_eq!(m.resolved_at, Some(t("2026-11-23T11:30")));
    assert!(!m.active);
    assert_eq!(m.reopens, 0);
    assert!(m.first_contact, "one desk reply, resolved, never reopened");
}

#[test]
fn a_reopened_ticket_sums_its_open_periods_and_loses_first_contact() {
    // Open Mon 09:00–10:00 (1 h), resolved until Tue 09:00, reopened, resolved Tue 11:00 (2 h).
    // Closing after resolving changes nothing.
    let facts = [
        fact("2026-11-23T09:00", Happening::Created),
        fact("2026-11-23T09:30", DESK),
        fact("2026-11-23T10:00", status(Status::Resolved)),
        fact("2026-11-24T09:00", CUSTOMER),
        fact("2026-11-24T09:00", status(Status::Open)),
        fact("2026-11-24T11:00", status(Status::Resolved)),
        fact("2026-11-25T11:00", status(Status::Closed)),
    ];
    let m = measure(&facts, &[], Tier::L1, &[], &berlin_office()).unwrap();
    assert_eq!(m.reopens, 1);
    let res = m.resolution.unwrap();
    assert_eq!(res.calendar, SignedDuration::from_hours(3));
    assert_eq!(res.business, SignedDuration::from_hours(3));
    assert_eq!(m.resolved_at, Some(t("2026-11-24T11:00")));
    assert!(!m.first_contact);
}

#[test]
fn an_open_ticket_has_no_resolution_and_a_pending_one_stays_active() {
    let facts = [
        fact("2026-11-23T09:00", Happening::Created),
        fact("2026-11-23T09:10", CUSTOMER),
        fact(
            "2026-11-23T09:20",
            Happening::Status(Status::Pending, Some(PendingReason::Customer)),
        ),
    ];
    let m = measure(&facts, &[], Tier::L0, &[], &berlin_office()).unwrap();
    assert!(m.active);
    assert_eq!(m.first_response_at, None, "a customer reply is no response");
    assert_eq!(m.resolution, None);
    assert!(!m.first_contact);
    assert!(measure(&[], &[], Tier::L0, &[], &berlin_office()).is_none());
}

#[test]
fn escalations_mark_the_tiers_reached_and_left() {
    let facts = [
        fact("2026-11-23T09:00", Happening::Created),
        fact("2026-11-23T09:30", DESK),
        fact("2026-11-23T10:00", status(Status::Resolved)),
    ];
    let moves = [
        TierMove {
            from: Tier::L0,
            to: Tier::L1,
        },
        TierMove {
            from: Tier::L1,
            to: Tier::L2,
        },
        TierMove {
            from: Tier::L2,
            to: Tier::L1,
        },
    ];
    let m = measure(&facts, &moves, Tier::L1, &[], &berlin_office()).unwrap();
    assert_eq!(m.escalations, 2);
    assert_eq!(m.tiers_reached, 0b111);
    assert_eq!(m.escalated_from, 0b011);
    assert!(!m.first_contact, "escalated tickets are not first-contact");
    let none = measure(&facts, &[], Tier::L2, &[], &berlin_office()).unwrap();
    assert_eq!(none.tiers_reached, 0b100);
    assert_eq!(none.escalated_from, 0);
}

#[test]
fn sla_outcomes_count_met_and_breached_cycles() {
    // First response due in 1 business hour: answered after 2 (breached). Resolution in 8:
    // resolved after 3 (met).
    let target = |m| Some(Target::new("t", m, true).unwrap());
    let policy = Policy {
        id: 1,
        name: "Standard".into(),
        conditions: Conditions::default(),
        targets: [target(60), None, target(480), None],
        pauses: Metric::ALL.map(PauseSet::default_for),
        levels: vec![],
    };
    let facts = [
        fact("2026-11-23T09:00", Happening::Created),
        fact("2026-11-23T11:00", DESK),
        fact("2026-11-23T12:00", status(Status::Resolved)),
    ];
    let calendar = berlin_office();
    let clocks = compute_clocks(&facts, &policy, &calendar, t("2026-11-24T09:00"));
    let m = measure(&facts, &[], Tier::L1, &clocks, &calendar).unwrap();
    assert_eq!(
        m.sla[0],
        Outcomes {
            met: 0,
            breached: 1
        }
    );
    assert_eq!(
        m.sla[2],
        Outcomes {
            met: 1,
            breached: 0
        }
    );
}

#[test]
fn buckets_are_exact_below_64_seconds_then_within_a_32nd() {
    for v in 0..64 {
        assert_eq!(duration_bucket(v), v);
        assert_eq!(bucket_range(v), (v, 1));
    }
    assert_eq!(duration_bucket(-5), 0);
    let mut last = 0;
    for v in [
        64,
        65,
        100,
        127,
        128,
        1_000,
        3_600,
        86_400,
        10_000_000,
        i64::MAX / 2,
    ] {
        let b = duration_bucket(v);
        assert!(b >= last, "monotonic");
        last = b;
        let (floor, width) = bucket_range(b);
        assert!(
            floor <= v && v < floor + width,
            "{v} in [{floor}, +{width})"
        );
        assert!(width * 32 <= floor, "width at most a 32nd of the value");
    }
}

#[test]
fn quantiles_by_nearest_rank() {
    // Ten durations: 1..=10 seconds (exact buckets). Median (rank 5) = 5, p90 (rank 9) = 9.
    let h = Histogram::new((1..=10).map(|s| (duration_bucket(s), 1)).collect());
    assert_eq!(h.total(), 10);
    assert_eq!(h.quantile(0.5), Some(SignedDuration::from_secs(5)));
    assert_eq!(h.quantile(0.9), Some(SignedDuration::from_secs(9)));
    assert_eq!(h.quantile(1.0), Some(SignedDuration::from_secs(10)));
    assert_eq!(Histogram::default().quantile(0.5), None);
    // One hour falls in a bucket 64 s wide starting at 3584 s: its middle is 3616 s.
    let h = Histogram::new(vec![(duration_bucket(3_600), 3)]);
    assert_eq!(h.quantile(0.5), Some(SignedDuration::from_secs(3_616)));
}

#[test]
fn periods_and_buckets() {
    let p = Period::parse(Date::constant(2026, 11, 1), Date::constant(2026, 11, 30)).unwrap();
    assert_eq!(p.days(), 30);
    let prev = p.previous();
    assert_eq!(prev.from, Date::constant(2026, 10, 2));
    assert_eq!(prev.to, Date::constant(2026, 10, 31));
    assert_eq!(p.start().to_string(), "2026-11-01T00:00:00Z");
    assert_eq!(p.end().to_string(), "2026-12-01T00:00:00Z");
    // 1 Nov 2026 is a Sunday: its week starts Monday 26 Oct.
    let weeks = p.buckets(Granularity::Week);
    assert_eq!(weeks.first(), Some(&Date::constant(2026, 10, 26)));
    assert_eq!(weeks.last(), Some(&Date::constant(2026, 11, 30)));
    assert_eq!(weeks.len(), 6);
    let year = Period::parse(Date::constant(2026, 1, 15), Date::constant(2026, 12, 31)).unwrap();
    assert_eq!(year.buckets(Granularity::Month).len(), 12);
    assert_eq!(
        Granularity::Month.bucket_start(Date::constant(2026, 2, 28)),
        Date::constant(2026, 2, 1)
    );
    assert!(Period::parse(Date::constant(2026, 2, 1), Date::constant(2026, 1, 1)).is_err());
    assert!(Period::parse(Date::constant(2000, 1, 1), Date::constant(2026, 1, 1)).is_err());
    assert_eq!(day_number(Date::constant(1970, 1, 2)), 1);
    assert_eq!(date_of_day(20_000), Date::constant(2024, 10, 4));
    assert_eq!(day_of_micros(86_400_000_000 * 3 + 5), 3);
    assert_eq!(percent(1, 4), Some(25.0));
    assert_eq!(percent(1, 0), None);
}

#[test]
fn mean_time_between_failures_of_a_service() {
    // Incidents 09:00–10:00, 12:00–12:30 and 11:30 (overlapping nothing: starts after the
    // first ended) on one day: in start order 09–10, 11:30–open, 12–12:30. Gaps: 10:00→11:30
    // = 90 min; the open one ends no gap. Mean 90 min.
    let i = [
        (t("2026-11-23T09:00"), Some(t("2026-11-23T10:00"))),
        (t("2026-11-23T12:00"), Some(t("2026-11-23T12:30"))),
        (t("2026-11-23T11:30"), None),
    ];
    assert_eq!(mean_time_between(&i), Some(SignedDuration::from_mins(90)));
    // Overlap counts as zero: 09–11 then 10–12 then 13: gaps 0 and 60 min → 30 min.
    let i = [
        (t("2026-11-23T09:00"), Some(t("2026-11-23T11:00"))),
        (t("2026-11-23T10:00"), Some(t("2026-11-23T12:00"))),
        (t("2026-11-23T13:00"), None),
    ];
    assert_eq!(mean_time_between(&i), Some(SignedDuration::from_mins(30)));
    assert_eq!(mean_time_between(&i[..1]), None);
    assert_eq!(mean(&[]), None);
}

#[test]
fn satisfaction_answers_are_checked() {
    let ok = Satisfaction::parse(4, "  Quick and kind.\u{7}\n ").unwrap();
    assert_eq!(
        (ok.score(), ok.comment(), ok.satisfied()),
        (4, "Quick and kind.", true)
    );
    assert!(!Satisfaction::parse(3, "").unwrap().satisfied());
    for bad in [0, 6, -1, 300] {
        assert_eq!(Satisfaction::parse(bad, "").unwrap_err().field, "score");
    }
    let long = "x".repeat(MAX_COMMENT_CHARS + 1);
    assert_eq!(Satisfaction::parse(5, &long).unwrap_err().field, "comment");
}
