//! Property tests of scheduled-check recurrences across DST in several zones: a daily or
//! weekly rule occurs once per day (or week) at its local time — or, on a day whose time falls
//! in a spring gap, just after the gap — always in increasing order.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use opsdesk_domain::recurrence::{Recurrence, Rule};
use proptest::prelude::*;

const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "UTC",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
];
/// 2026-01-01T00:00Z.
const SPAN_START: i64 = 1_767_225_600;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_occurrence_is_at_its_local_time_or_just_after_a_gap(
        zone in 0..ZONES.len(),
        hour in 0i8..24,
        minute in 0i8..60,
        weekly in any::<bool>(),
        offset_days in 0i64..365,
    ) {
        let tz = TimeZone::get(ZONES[zone]).unwrap();
        let start_at = Timestamp::from_second(SPAN_START + offset_days * 86_400).unwrap();
        let start_day = tz.to_datetime(start_at).date();
        let start = DateTime::from_parts(start_day, Time::new(hour, minute, 0, 0).unwrap());
        let text = if weekly { "FREQ=WEEKLY" } else { "FREQ=DAILY" };
        let recurrence = Recurrence::new(Rule::parse("rrule", text).unwrap(), start, tz.clone());
        let got = recurrence.upcoming(Timestamp::from_second(SPAN_START - 86_400).unwrap(), 400);
        prop_assert_eq!(got.len(), 400);
        let step_days = if weekly { 7 } else { 1 };
        for (i, at) in got.iter().enumerate() {
            if i > 0 {
                prop_assert!(got[i - 1] < *at, "in order");
            }
            let local = tz.to_datetime(*at);
            let expected_day = start_day.checked_add(jiff::Span::new().days(i as i64 * step_days)).unwrap();
            prop_assert_eq!(local.date(), expected_day, "one occurrence per period");
            let wanted = DateTime::from_parts(expected_day, start.time());
            if local.time() != start.time() {
                // Only a wall-clock time that does not exist may move, and only forward.
                prop_assert!(matches!(tz.to_ambiguous_zoned(wanted).offset(), jiff::tz::AmbiguousOffset::Gap { .. }), "{} moved to {}", wanted, local);
                prop_assert!(local > wanted);
            }
        }
    }
}
