//! Tests of SLA policies and clocks, and of vendor clocks.

use super::*;
use crate::calendar::{OpenRange, WeekHours};
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

fn t(civil: &str) -> Timestamp {
    civil
        .parse::<jiff::civil::DateTime>()
        .unwrap()
        .to_zoned(TimeZone::get("Europe/Berlin").unwrap())
        .unwrap()
        .timestamp()
}

fn policy(levels: Vec<Level>) -> Policy {
    let target = |m| Some(Target::new("t", m, true).unwrap());
    Policy {
        id: 1,
        name: "Standard".into(),
        conditions: Conditions::default(),
        targets: [target(60), target(120), target(480), None],
        pauses: Metric::ALL.map(PauseSet::default_for),
        levels,
    }
}

fn fact(at: &str, what: Happening) -> Fact {
    Fact { at: t(at), what }
}

fn clock(clocks: &[Clock], metric: Metric, cycle: u32) -> &Clock {
    clocks
        .iter()
        .find(|c| c.metric == metric && c.cycle == cycle)
        .unwrap()
}

#[test]
fn first_response_met_and_resolution_paused_while_waiting_on_customer() {
    let cal = berlin_office();
    let facts = [
        fact("2026-11-23T10:00", Happening::Created),
        fact("2026-11-23T10:30", Happening::Reply { by_customer: false }),
        fact("2026-11-23T10:30", Happening::Status(Status::Open, None)),
        fact(
            "2026-11-23T11:00",
            Happening::Status(Status::Pending, Some(PendingReason::Customer)),
        ),
        fact("2026-11-23T15:00", Happening::Reply { by_customer: true }),
        fact("2026-11-23T15:00", Happening::Status(Status::Open, None)),
    ];
    let now = t("2026-11-23T16:00");
    let clocks = compute_clocks(&facts, &policy(vec![]), &cal, now);
    let first = clock(&clocks, Metric::FirstResponse, 0);
    assert_eq!(first.state, ClockState::Met);
    assert_eq!(first.margin(), SignedDuration::from_mins(30));
    let resolution = clock(&clocks, Metric::Resolution, 0);
    assert_eq!(resolution.state, ClockState::Running);
    // 10:00-11:00 and 15:00-16:00 counted; 4h paused.
    assert_eq!(resolution.elapsed, SignedDuration::from_hours(2));
    assert_eq!(resolution.paused_for(now), SignedDuration::from_hours(4));
    // 7h were left when the clock resumed at 15:00: 2h today, 5h tomorrow: Tue 14:00.
    assert_eq!(resolution.due, Some(t("2026-11-24T14:00")));
    let next = clock(&clocks, Metric::NextResponse, 0);
    assert_eq!(next.started_at, t("2026-11-23T15:00"));
    assert_eq!(next.state, ClockState::Running);
    let text = explain(resolution, &cal, now);
    assert!(
        text.contains("paused 4h while waiting on customer"),
        "{text}"
    );
    assert!(text.contains("due Tue 24 Nov 14:00 CET"), "{text}");
}

#[test]
fn breach_is_reported_with_its_instant_and_margin() {
    let cal = berlin_office();
    let facts = [fact("2026-11-20T16:00", Happening::Created)];
    // Friday 16:00 + 1h business = 17:00 Friday; now is Monday 10:00: 2h elapsed.
    let now = t("2026-11-23T10:00");
    let clocks = compute_clocks(&facts, &policy(vec![]), &cal, now);
    let first = clock(&clocks, Metric::FirstResponse, 0);
    assert_eq!(first.state, ClockState::Breached);
    assert_eq!(first.due, Some(t("2026-11-20T17:00")));
    assert_eq!(first.margin(), SignedDuration::from_hours(-1));
    let text = explain(first, &cal, now);
    assert!(text.contains("excludes Sat–Sun"), "{text}");
}

#[test]
fn reopening_resumes_resolution_and_resolving_stops_responses() {
    let cal = berlin_office();
    let facts = [
        fact("2026-11-23T09:00", Happening::Created),
        fact(
            "2026-11-23T10:00",
            Happening::Status(Status::Resolved, None),
        ),
        fact("2026-11-23T12:00", Happening::Reply { by_customer: true }),
        fact("2026-11-23T12:00", Happening::Status(Status::Open, None)),
    ];
    let clocks = compute_clocks(&facts, &policy(vec![]), &cal, t("2026-11-23T13:00"));
    let resolution = clock(&clocks, Metric::Resolution, 0);
    assert_eq!(resolution.elapsed, SignedDuration::from_hours(2));
    assert!(resolution.is_active());
    let first = clock(&clocks, Metric::FirstResponse, 0);
    assert_eq!(first.stopped_at, Some(t("2026-11-23T10:00")));
    assert_eq!(
        clock(&clocks, Metric::NextResponse, 0).started_at,
        t("2026-11-23T12:00")
    );
}

#[test]
fn triggers_come_in_time_order_and_levels_stop_with_the_clock() {
    let cal = berlin_office();
    let levels = vec![
        Level {
            metric: Some(Metric::FirstResponse),
            at: LevelPoint::parse("l", "75%").unwrap(),
            actions: vec![LevelAction::NotifyAssignee],
        },
        Level {
            metric: None,
            at: LevelPoint::parse("l", "+1h").unwrap(),
            actions: vec![LevelAction::RaisePriority],
        },
    ];
    let p = policy(levels);
    let facts = [fact("2026-11-23T09:00", Happening::Created)];
    let clocks = compute_clocks(&facts, &p, &cal, t("2026-11-23T09:10"));
    let first = clock(&clocks, Metric::FirstResponse, 0);
    let got = triggers(first, &p, &cal);
    assert_eq!(
        got,
        vec![
            (Trigger::Level(0), t("2026-11-23T09:45")),
            (Trigger::Breach, t("2026-11-23T10:00")),
            (Trigger::Level(1), t("2026-11-23T11:00")),
        ]
    );
    let answered = [
        facts[0],
        fact("2026-11-23T09:20", Happening::Reply { by_customer: false }),
    ];
    let clocks = compute_clocks(&answered, &p, &cal, t("2026-11-23T12:00"));
    assert!(triggers(clock(&clocks, Metric::FirstResponse, 0), &p, &cal).is_empty());
}

#[test]
fn conditions_select_the_first_matching_policy() {
    let mut gold = policy(vec![]);
    gold.id = 2;
    gold.conditions.plans = vec!["gold".into()];
    gold.conditions.priorities = vec![Priority::Urgent, Priority::High];
    let fallback = policy(vec![]);
    let policies = [gold, fallback];
    let tags: Vec<String> = vec![];
    let mut facts = TicketFacts {
        priority: Priority::Urgent,
        team_id: 1,
        org_id: Some(3),
        plan: Some("Gold"),
        tags: &tags,
        channel: "portal",
        category: None,
    };
    assert_eq!(select_policy(&policies, &facts).map(|p| p.id), Some(2));
    facts.priority = Priority::Low;
    assert_eq!(select_policy(&policies, &facts).map(|p| p.id), Some(1));
}

#[test]
fn level_points_and_durations_read_like_people_write_them() {
    assert_eq!(LevelPoint::parse("l", "75%"), Ok(LevelPoint::Percent(75)));
    assert_eq!(
        LevelPoint::parse("l", "+4h30m"),
        Ok(LevelPoint::FromDue(SignedDuration::from_mins(270)))
    );
    assert_eq!(
        LevelPoint::parse("l", "-30m"),
        Ok(LevelPoint::FromDue(SignedDuration::from_mins(-30)))
    );
    assert!(LevelPoint::parse("l", "soon").is_err());
    assert!(LevelPoint::parse("l", "0%").is_err());
    assert_eq!(
        LevelPoint::FromDue(SignedDuration::from_mins(-90)).to_string(),
        "-1h 30m"
    );
    assert_eq!(
        format_duration(SignedDuration::from_mins(3 * 1440 + 125)),
        "3d 2h"
    );
    let target = Target::new("t", 240, true).unwrap();
    assert_eq!(
        LevelPoint::Percent(75).threshold(target),
        SignedDuration::from_mins(180)
    );
    assert_eq!(
        LevelPoint::parse("l", "-5h").unwrap().threshold(target),
        SignedDuration::ZERO
    );
    assert!(Target::new("t", 0, true).is_err());
}

mod vendor {
    use super::*;
    use crate::calendar::{OpenRange, WeekHours};
    use jiff::tz::TimeZone;

    fn t(civil: &str) -> Timestamp {
        civil
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(TimeZone::UTC)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn a_hand_over_runs_the_vendors_clocks_in_its_own_hours() {
        let hours = OpenRange::parse_list("h", "09:00-17:00").unwrap();
        let vendor_hours =
            Calendar::new(TimeZone::UTC, WeekHours::weekdays(&hours), vec![]).unwrap();
        let terms = VendorTerms {
            id: 7,
            name: "Carrier".into(),
            response: Some(Target::new("t", 60, true).unwrap()),
            resolution: Some(Target::new("t", 8 * 60, true).unwrap()),
        };
        let lookup = |id: i64| (id == 7).then_some((&terms, &vendor_hours));
        let facts = [
            Fact {
                at: t("2026-11-23T09:00"),
                what: Happening::Created,
            },
            // Handed over at 16:30 Monday: 30 business minutes left that day.
            Fact {
                at: t("2026-11-23T16:30"),
                what: Happening::Status(Status::Pending, Some(PendingReason::Vendor)),
            },
            Fact {
                at: t("2026-11-23T16:30"),
                what: Happening::Vendor(Some(7)),
            },
            Fact {
                at: t("2026-11-24T09:15"),
                what: Happening::VendorResponded,
            },
            Fact {
                at: t("2026-11-24T12:00"),
                what: Happening::Status(Status::Open, None),
            },
        ];
        let clocks = compute_vendor_clocks(&facts, &lookup, t("2026-11-24T13:00"));
        assert_eq!(clocks.len(), 2);
        let response = &clocks[0];
        assert_eq!(response.metric, Metric::VendorResponse);
        assert_eq!(response.vendor_id, Some(7));
        assert_eq!(response.elapsed, SignedDuration::from_mins(45));
        assert_eq!(response.state, ClockState::Met);
        let resolution = &clocks[1];
        assert_eq!(resolution.stopped_at, Some(t("2026-11-24T12:00")));
        assert_eq!(resolution.elapsed, SignedDuration::from_mins(30 + 180));
        // A second hand-over is a second cycle; without a vendor set there is none.
        let mut more = facts.to_vec();
        more.push(Fact {
            at: t("2026-11-24T14:00"),
            what: Happening::Status(Status::Pending, Some(PendingReason::Vendor)),
        });
        let clocks = compute_vendor_clocks(&more, &lookup, t("2026-11-24T16:00"));
        let second: Vec<&Clock> = clocks.iter().filter(|c| c.cycle == 1).collect();
        assert_eq!(second.len(), 2, "the vendor stays set on the ticket");
        assert!(second
            .iter()
            .all(|c| c.state == ClockState::Breached || c.metric == Metric::VendorResolution));
        let none = compute_vendor_clocks(&facts[..2], &lookup, t("2026-11-24T13:00"));
        assert!(none.is_empty());
    }
}
