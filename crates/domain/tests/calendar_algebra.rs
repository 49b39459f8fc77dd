//! Property tests of business-time arithmetic over random calendars, instants and amounts.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::calendar::{Calendar, Holiday, HolidayDate, OpenRange, WeekHours};
use proptest::prelude::*;

/// Zones with DST (two hemispheres, a 30-minute shift) and without.
const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "UTC",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];

/// 2026-01-01 to 2028-01-01: two of every DST change in every zone above.
const SPAN_START: i64 = 1_767_225_600;
const SPAN_SECS: i64 = 2 * 365 * 86_400;

fn day_ranges() -> impl Strategy<Value = Vec<OpenRange>> {
    prop_oneof![
        Just(vec![]),
        (0u16..1380, 1u16..600).prop_map(|(start, len)| {
            vec![OpenRange::new("h", start, (start + len).min(1440)).unwrap()]
        }),
        // Split shift: two ranges with a break.
        (0u16..600, 1u16..300, 1u16..120, 1u16..400).prop_map(|(a, l1, gap, l2)| {
            let first = OpenRange::new("h", a, a + l1).unwrap();
            let b = a + l1 + gap;
            let second = OpenRange::new("h", b, (b + l2).min(1440)).unwrap();
            vec![first, second]
        }),
        Just(vec![OpenRange::new("h", 0, 1440).unwrap()]),
    ]
}

fn calendar() -> impl Strategy<Value = Calendar> {
    (
        0..ZONES.len(),
        proptest::array::uniform7(day_ranges()),
        proptest::collection::vec((1i8..=12, 1i8..=28), 0..6),
        proptest::collection::vec(0i64..(SPAN_SECS / 86_400), 0..6),
    )
        .prop_filter_map("a week with no hours", |(zone, week, yearly, once)| {
            let mut holidays: Vec<Holiday> = yearly
                .into_iter()
                .map(|(month, day)| Holiday {
                    date: HolidayDate::Yearly { month, day },
                    name: "yearly".into(),
                })
                .collect();
            for offset in once {
                let date = Timestamp::from_second(SPAN_START + offset * 86_400)
                    .ok()?
                    .to_zoned(TimeZone::UTC)
                    .date();
                holidays.push(Holiday {
                    date: HolidayDate::Once(date),
                    name: "once".into(),
                });
            }
            Calendar::new(TimeZone::get(ZONES[zone]).ok()?, WeekHours(week), holidays).ok()
        })
}

fn instant() -> impl Strategy<Value = Timestamp> {
    (0..SPAN_SECS).prop_map(|s| Timestamp::from_second(SPAN_START + s).unwrap())
}

fn amount() -> impl Strategy<Value = SignedDuration> {
    (0i64..20_000).prop_map(SignedDuration::from_mins)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn adding_then_measuring_gives_back_the_amount(cal in calendar(), t in instant(), n in amount()) {
        let due = cal.add(t, n).unwrap();
        prop_assert_eq!(cal.between(t, due), n);
    }

    #[test]
    fn a_positive_amount_never_ends_in_closed_time(cal in calendar(), t in instant(), n in 1i64..20_000) {
        let due = cal.add(t, SignedDuration::from_mins(n)).unwrap();
        // The second before the due instant was business time.
        let just_before = due - SignedDuration::from_secs(1);
        prop_assert_eq!(cal.between(just_before, due), SignedDuration::from_secs(1));
    }

    #[test]
    fn adding_more_never_ends_earlier(cal in calendar(), t in instant(), a in amount(), b in amount()) {
        let (small, large) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(cal.add(t, small).unwrap() <= cal.add(t, large).unwrap());
    }

    #[test]
    fn measuring_is_additive(cal in calendar(), a in instant(), b in instant(), c in instant()) {
        let mut points = [a, b, c];
        points.sort();
        let [a, b, c] = points;
        prop_assert_eq!(cal.between(a, b) + cal.between(b, c), cal.between(a, c));
    }

    #[test]
    fn business_time_never_exceeds_elapsed_time(cal in calendar(), a in instant(), b in instant()) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(cal.between(a, b) <= b.duration_since(a));
    }

    #[test]
    fn adding_in_steps_equals_adding_at_once(cal in calendar(), t in instant(), a in amount(), b in amount()) {
        let stepwise = cal.add(cal.add(t, a).unwrap(), b).unwrap();
        let at_once = cal.add(t, a + b).unwrap();
        // Equal unless the first step ended exactly at a closing time, where the second step
        // resumes at the next opening: both are the same business instant.
        prop_assert_eq!(cal.between(t, stepwise), cal.between(t, at_once));
        prop_assert!(stepwise >= at_once);
    }
}

/// Business time by walking every open interval (no whole-day skipping): the reference.
fn walked_between(cal: &Calendar, from: Timestamp, to: Timestamp) -> SignedDuration {
    let mut total = SignedDuration::ZERO;
    for (start, end) in cal.open_intervals(from) {
        if start >= to {
            break;
        }
        total += end.min(to).duration_since(start);
    }
    total
}

/// Adding by walking every open interval: the reference.
fn walked_add(cal: &Calendar, from: Timestamp, amount: SignedDuration) -> Option<Timestamp> {
    if amount <= SignedDuration::ZERO {
        return Some(from);
    }
    let mut remaining = amount;
    for (start, end) in cal.open_intervals(from) {
        let open = end.duration_since(start);
        if remaining <= open {
            return start.checked_add(remaining).ok();
        }
        remaining -= open;
    }
    None
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn skipping_whole_days_agrees_with_walking_every_interval(cal in calendar(), a in instant(), b in instant(), n in amount()) {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        prop_assert_eq!(cal.between(a, b), walked_between(&cal, a, b));
        prop_assert_eq!(cal.add(a, n), walked_add(&cal, a, n));
    }
}
