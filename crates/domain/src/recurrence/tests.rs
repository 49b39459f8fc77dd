use jiff::civil::date;

use super::*;

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or_else(|e| panic!("{e}"))
}

fn rule(text: &str) -> Rule {
    Rule::parse("rrule", text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn local(zone_name: &str, at: Timestamp) -> String {
    at.to_zoned(zone(zone_name))
        .strftime("%Y-%m-%d %a %H:%M %Z")
        .to_string()
}

fn upcoming(
    text: &str,
    start: DateTime,
    zone_name: &str,
    after: Timestamp,
    n: usize,
) -> Vec<String> {
    Recurrence::new(rule(text), start, zone(zone_name))
        .upcoming(after, n)
        .into_iter()
        .map(|t| local(zone_name, t))
        .collect()
}

fn utc(d: DateTime) -> Timestamp {
    d.to_zoned(TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(Timestamp::MIN)
}

#[test]
fn a_daily_check_keeps_its_local_time_across_both_changes() {
    let start = date(2026, 3, 27).at(9, 0, 0, 0);
    let got = upcoming(
        "FREQ=DAILY",
        start,
        "Europe/Berlin",
        utc(date(2026, 3, 26).at(0, 0, 0, 0)),
        4,
    );
    assert_eq!(
        got,
        [
            "2026-03-27 Fri 09:00 CET",
            "2026-03-28 Sat 09:00 CET",
            "2026-03-29 Sun 09:00 CEST",
            "2026-03-30 Mon 09:00 CEST",
        ]
    );
    let autumn = upcoming(
        "FREQ=DAILY",
        start,
        "Europe/Berlin",
        utc(date(2026, 10, 24).at(0, 0, 0, 0)),
        3,
    );
    assert_eq!(
        autumn,
        [
            "2026-10-24 Sat 09:00 CEST",
            "2026-10-25 Sun 09:00 CET",
            "2026-10-26 Mon 09:00 CET",
        ]
    );
}

#[test]
fn a_time_in_the_spring_gap_moves_forward_and_a_repeated_time_is_the_first() {
    // 02:30 does not exist on 29 March 2026 in Berlin: it happens at 03:30 CEST.
    let start = date(2026, 3, 28).at(2, 30, 0, 0);
    let got = upcoming(
        "FREQ=DAILY",
        start,
        "Europe/Berlin",
        utc(date(2026, 3, 27).at(0, 0, 0, 0)),
        3,
    );
    assert_eq!(
        got,
        [
            "2026-03-28 Sat 02:30 CET",
            "2026-03-29 Sun 03:30 CEST",
            "2026-03-30 Mon 02:30 CEST",
        ]
    );
    // 02:30 happens twice on 25 October 2026: the first (CEST) one counts, once.
    let start = date(2026, 10, 24).at(2, 30, 0, 0);
    let got = Recurrence::new(rule("FREQ=DAILY"), start, zone("Europe/Berlin"))
        .upcoming(utc(date(2026, 10, 23).at(0, 0, 0, 0)), 3);
    assert_eq!(got.len(), 3);
    assert_eq!(local("Europe/Berlin", got[1]), "2026-10-25 Sun 02:30 CEST");
    assert_eq!(
        got[1].duration_until(got[2]),
        SignedDuration::from_hours(25)
    );
}

#[test]
fn weekdays_weeks_and_months() {
    let start = date(2026, 11, 2).at(8, 30, 0, 0); // a Monday
    let after = utc(date(2026, 11, 1).at(0, 0, 0, 0));
    assert_eq!(
        upcoming(
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            start,
            "America/New_York",
            after,
            6
        ),
        [
            "2026-11-02 Mon 08:30 EST",
            "2026-11-03 Tue 08:30 EST",
            "2026-11-04 Wed 08:30 EST",
            "2026-11-05 Thu 08:30 EST",
            "2026-11-06 Fri 08:30 EST",
            "2026-11-09 Mon 08:30 EST",
        ]
    );
    assert_eq!(
        upcoming(
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,FR;BYHOUR=6,18;BYMINUTE=0",
            start,
            "Europe/London",
            after,
            5
        ),
        [
            "2026-11-03 Tue 06:00 GMT",
            "2026-11-03 Tue 18:00 GMT",
            "2026-11-06 Fri 06:00 GMT",
            "2026-11-06 Fri 18:00 GMT",
            "2026-11-17 Tue 06:00 GMT",
        ]
    );
    // The last Friday of each month; the 31st only in months that have one.
    assert_eq!(
        upcoming("FREQ=MONTHLY;BYDAY=-1FR", start, "Europe/Berlin", after, 3),
        [
            "2026-11-27 Fri 08:30 CET",
            "2026-12-25 Fri 08:30 CET",
            "2027-01-29 Fri 08:30 CET"
        ]
    );
    let end_of_month = date(2027, 1, 31).at(23, 0, 0, 0);
    assert_eq!(
        upcoming(
            "FREQ=MONTHLY",
            end_of_month,
            "UTC",
            utc(date(2027, 1, 1).at(0, 0, 0, 0)),
            3
        ),
        [
            "2027-01-31 Sun 23:00 UTC",
            "2027-03-31 Wed 23:00 UTC",
            "2027-05-31 Mon 23:00 UTC"
        ]
    );
    assert_eq!(
        upcoming(
            "FREQ=MONTHLY;BYMONTHDAY=1,-1",
            end_of_month,
            "UTC",
            utc(date(2027, 2, 1).at(0, 0, 0, 0)),
            3
        ),
        [
            "2027-02-01 Mon 23:00 UTC",
            "2027-02-28 Sun 23:00 UTC",
            "2027-03-01 Mon 23:00 UTC"
        ]
    );
    assert_eq!(
        upcoming("FREQ=HOURLY;INTERVAL=6", start, "UTC", after, 3),
        [
            "2026-11-02 Mon 08:30 UTC",
            "2026-11-02 Mon 14:30 UTC",
            "2026-11-02 Mon 20:30 UTC"
        ]
    );
}

#[test]
fn count_and_until_end_a_rule() {
    let start = date(2026, 11, 2).at(9, 0, 0, 0);
    let r = Recurrence::new(rule("FREQ=DAILY;COUNT=3"), start, zone("UTC"));
    let before = utc(date(2026, 1, 1).at(0, 0, 0, 0));
    assert_eq!(r.upcoming(before, 10).len(), 3);
    assert_eq!(
        r.upcoming(utc(date(2026, 11, 3).at(10, 0, 0, 0)), 10).len(),
        1,
        "COUNT counts from the start"
    );
    let r = Recurrence::new(rule("FREQ=DAILY;UNTIL=20261105"), start, zone("UTC"));
    assert_eq!(r.upcoming(before, 10).len(), 4);
    assert_eq!(r.next_after(utc(date(2026, 11, 6).at(0, 0, 0, 0))), None);
}

#[test]
fn a_rule_far_from_its_start_is_found_without_walking_from_the_start() {
    let start = date(2020, 1, 1).at(7, 0, 0, 0);
    let r = Recurrence::new(rule("FREQ=DAILY"), start, zone("Australia/Lord_Howe"));
    let next = r.next_after(utc(date(2026, 10, 3).at(12, 0, 0, 0)));
    assert_eq!(
        next.map(|t| local("Australia/Lord_Howe", t)).as_deref(),
        Some("2026-10-04 Sun 07:00 +11")
    );
}

#[test]
fn unsupported_or_broken_rules_are_refused_by_name() {
    for (text, says) in [
        ("", "FREQ=DAILY"),
        ("BYHOUR=9", "FREQ is required"),
        ("FREQ=YEARLY", "YEARLY"),
        ("FREQ=DAILY;BYSETPOS=1", "BYSETPOS"),
        ("FREQ=DAILY;BYHOUR=24", "out of range"),
        ("FREQ=DAILY;INTERVAL=0", "INTERVAL"),
        ("FREQ=WEEKLY;BYDAY=1MO", "MONTHLY"),
        ("FREQ=DAILY;BYDAY=XX", "BYDAY"),
        ("FREQ=DAILY;COUNT=2;UNTIL=20261231", "both"),
        ("FREQ=DAILY;UNTIL=tomorrow", "UNTIL"),
        ("FREQ", "NAME=VALUE"),
        ("FREQ=WEEKLY;BYDAY=éO", "BYDAY"),
        ("FREQ=HOURLY;BYMINUTE=0,30", "BYMINUTE"),
        ("FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=1FR", "ordinals"),
        ("FREQ=DAILY;COUNT=1000000", "COUNT"),
    ] {
        let err = Rule::parse("rrule", text)
            .err()
            .unwrap_or_else(|| panic!("{text} was accepted"));
        assert_eq!(err.field, "rrule");
        assert!(err.reason.contains(says), "{text}: {}", err.reason);
    }
    assert_eq!(
        rule("rrule:freq=daily;byhour=9").as_str(),
        "FREQ=DAILY;BYHOUR=9"
    );
}

#[test]
fn friday_the_13th_and_a_date_until_in_the_rules_zone() {
    let start = date(2026, 1, 1).at(12, 0, 0, 0);
    assert_eq!(
        upcoming(
            "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR",
            start,
            "UTC",
            utc(date(2026, 1, 1).at(0, 0, 0, 0)),
            2
        ),
        ["2026-02-13 Fri 12:00 UTC", "2026-03-13 Fri 12:00 UTC"]
    );
    // A daily 17:00 in Los Angeles is 01:00 UTC the next day: UNTIL=20261105 still includes
    // the 5th, because a date ends in the rule's own zone.
    let start = date(2026, 11, 3).at(17, 0, 0, 0);
    let got = upcoming(
        "FREQ=DAILY;UNTIL=20261105",
        start,
        "America/Los_Angeles",
        utc(date(2026, 11, 1).at(0, 0, 0, 0)),
        10,
    );
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2], "2026-11-05 Thu 17:00 PST");
}

#[test]
fn an_hourly_rule_passes_the_repeated_autumn_hour_once_and_counts_go_far() {
    let start = date(2026, 10, 24).at(2, 30, 0, 0);
    let got = upcoming(
        "FREQ=HOURLY;BYHOUR=2",
        start,
        "Europe/Berlin",
        utc(date(2026, 10, 23).at(0, 0, 0, 0)),
        3,
    );
    assert_eq!(
        got,
        [
            "2026-10-24 Sat 02:30 CEST",
            "2026-10-25 Sun 02:30 CEST",
            "2026-10-26 Mon 02:30 CET"
        ]
    );
    // 500 occurrences twice a day last 250 days: the last one is still found.
    let start = date(2026, 1, 1).at(0, 0, 0, 0);
    let r = Recurrence::new(
        rule("FREQ=HOURLY;BYHOUR=9,17;COUNT=500"),
        start,
        zone("UTC"),
    );
    let late = r.upcoming(utc(date(2026, 9, 5).at(0, 0, 0, 0)), 10);
    assert_eq!(late.len(), 6, "{late:?}");
}
