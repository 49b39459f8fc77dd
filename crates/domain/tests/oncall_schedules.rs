//! Property tests of on-call rotations across DST in several zones: every instant after the
//! start belongs to exactly one turn, turns are contiguous, day turns hand off at the first
//! hand-off's local time, and the shift listing agrees with "who is on call at t".

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::oncall::{DailyHours, Layer, Schedule, Shift, TurnLength};
use proptest::prelude::*;

const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "UTC",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];
/// 2026-01-01 and two years on: every DST change of the zones above, twice.
const SPAN_START: i64 = 1_767_225_600;
const SPAN_SECS: i64 = 2 * 365 * 86_400;

fn layer() -> impl Strategy<Value = Layer> {
    (
        0..ZONES.len(),
        0..SPAN_SECS / 2,
        prop_oneof![
            (1u16..=14).prop_map(TurnLength::Days),
            (1u16..=48).prop_map(TurnLength::Hours)
        ],
        1usize..5,
        prop_oneof![
            Just(None),
            Just(Some(DailyHours::parse("h", "09:00-17:00").unwrap())),
            Just(Some(DailyHours::parse("h", "22:00-06:00").unwrap()))
        ],
    )
        .prop_map(|(zone, offset, turn, n, hours)| {
            let zone = TimeZone::get(ZONES[zone]).unwrap();
            let start = Timestamp::from_second(SPAN_START + offset).unwrap();
            Layer::new(start, zone, turn, (1..=n as i64).collect(), hours).unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn every_instant_is_in_one_contiguous_turn(l in layer(), at in 0..SPAN_SECS) {
        let t = Timestamp::from_second(SPAN_START + at).unwrap();
        match l.turn_at(t) {
            None => prop_assert!(t < l.start),
            Some((k, s, e)) => {
                prop_assert!(s <= t && t < e, "{s} <= {t} < {e}");
                let (k2, s2, _) = l.turn_at(e).unwrap();
                prop_assert_eq!(k2, k + 1);
                prop_assert_eq!(s2, e);
                if k > 0 {
                    let (k0, _, e0) = l.turn_at(s - SignedDuration::from_nanos(1)).unwrap();
                    prop_assert_eq!((k0, e0), (k - 1, s));
                }
                if let TurnLength::Days(_) = l.turn {
                    // The hand-off keeps the first one's local wall time unless that time
                    // does not exist that day (a DST gap moves it forward).
                    let first = l.start.to_zoned(l.zone.clone()).time();
                    let here = s.to_zoned(l.zone.clone()).time();
                    let gap = s.to_zoned(l.zone.clone()).date().to_datetime(first)
                        .to_zoned(l.zone.clone()).map(|z| z.time() != first).unwrap_or(true);
                    prop_assert!(here == first || gap, "hand-off at {here}, first at {first}");
                }
                if l.hours.is_none() {
                    let n = l.participants.len() as i64;
                    prop_assert_eq!(l.on_call_at(t), Some(l.participants[k.rem_euclid(n) as usize]));
                }
            }
        }
    }

    #[test]
    fn shifts_agree_with_who_is_on_call(
        base in layer(),
        top in layer(),
        from in 0..SPAN_SECS,
        days in 1i64..40,
        over in proptest::option::of((0i64..40 * 86_400, 60i64..86_400)),
    ) {
        let from = Timestamp::from_second(SPAN_START + from).unwrap();
        let to = from + SignedDuration::from_hours(24 * days);
        let overrides = over
            .map(|(o, len)| {
                let start = from + SignedDuration::from_secs(o);
                vec![Shift { start, end: start + SignedDuration::from_secs(len), user: 99 }]
            })
            .unwrap_or_default();
        let schedule = Schedule { layers: vec![base, top], overrides };
        let shifts = schedule.shifts(from, to);
        for s in &shifts {
            prop_assert!(s.start < s.end);
            prop_assert!(s.start >= from && s.end <= to);
            prop_assert_eq!(schedule.on_call_at(s.start), Some(s.user));
            prop_assert_eq!(schedule.on_call_at(s.end - SignedDuration::from_nanos(1)), Some(s.user));
        }
        for pair in shifts.windows(2) {
            prop_assert!(pair[0].end <= pair[1].start);
            if pair[0].end == pair[1].start {
                prop_assert!(pair[0].user != pair[1].user, "adjacent shifts of one person merge");
            }
        }
        // Between shifts nobody is on call.
        for pair in shifts.windows(2) {
            if pair[0].end < pair[1].start {
                prop_assert_eq!(schedule.on_call_at(pair[0].end), None);
            }
        }
    }
}
