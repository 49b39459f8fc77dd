//! SLA benchmarks: business-time arithmetic throughput, background recomputation after a
//! policy edit, and how soon the scheduler of a running server records a breach (and what it
//! costs while idle) with many open tickets.

use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::calendar::{Calendar, Holiday, HolidayDate, OpenRange, WeekHours};
use opsdesk_server::app::Ctx;
use opsdesk_server::app::{sla, Operator};
use opsdesk_server::wire::desk::{
    ActionWire, CalendarIn, LevelWire, PolicyIn, TargetWire, TargetsWire, WeekHoursWire,
};
use opsdesk_store::{ImportedTicket, NewTicket, Store, TeamRef};

use crate::{ensure_desk, fail, open, start, Failure, Target};

const POLICY: &str = "Bench standard";
/// The bench policy's first-response target, in calendar minutes.
const FIRST_RESPONSE_MINUTES: i64 = 60;

/// The office calendar the benchmarks count in: split shifts, yearly and one-off holidays.
fn office() -> Result<Calendar, Failure> {
    let hours = OpenRange::parse_list("hours", "08:00-12:00, 13:00-18:00").map_err(fail)?;
    let mut holidays: Vec<Holiday> = [
        (1, 1),
        (5, 1),
        (10, 3),
        (12, 24),
        (12, 25),
        (12, 26),
        (12, 31),
    ]
    .into_iter()
    .map(|(month, day)| Holiday {
        date: HolidayDate::Yearly { month, day },
        name: "yearly".into(),
    })
    .collect();
    for date in [
        "2026-04-03",
        "2026-04-06",
        "2026-05-14",
        "2026-05-25",
        "2027-03-26",
        "2027-03-29",
    ] {
        holidays.push(Holiday {
            date: HolidayDate::parse("date", date).map_err(fail)?,
            name: "once".into(),
        });
    }
    Calendar::new(
        TimeZone::get("Europe/Berlin")?,
        WeekHours::weekdays(&hours),
        holidays,
    )
    .map_err(fail)
}

/// "add N business minutes to T" and "business time between A and B", on one core.
pub fn calendar(count: usize) -> Result<(), Failure> {
    let cal = office()?;
    let mut rng = fastrand::Rng::with_seed(11);
    let start = Timestamp::from_second(1_767_225_600)?; // 2026-01-01
    let inputs: Vec<(Timestamp, SignedDuration)> = (0..count)
        .map(|_| {
            let t = start + SignedDuration::from_secs(rng.i64(0..2 * 365 * 86_400));
            // Targets from a few minutes to a business week.
            (t, SignedDuration::from_mins(rng.i64(1..=2_400)))
        })
        .collect();
    let mut sink = 0i64;
    for (t, d) in inputs.iter().take(10_000) {
        sink ^= cal.add(*t, *d).map_or(0, |x| x.as_second());
    }
    let begun = Instant::now();
    let mut dues = Vec::with_capacity(count);
    for (t, d) in &inputs {
        let due = cal.add(*t, *d).ok_or_else(|| fail("no due instant"))?;
        dues.push(due);
    }
    let add_secs = begun.elapsed().as_secs_f64();
    let begun = Instant::now();
    for ((t, d), due) in inputs.iter().zip(&dues) {
        if cal.between(*t, *due) != *d {
            return Err(fail("between(t, add(t, d)) != d"));
        }
    }
    let between_secs = begun.elapsed().as_secs_f64();
    sink ^= dues.len() as i64;
    println!(
        "calendar: Europe/Berlin, Mon–Fri 08:00-12:00 + 13:00-18:00, 7 yearly + 6 one-off holidays"
    );
    println!("amounts: 1 minute to 5 business days (uniform), starts over 2026–2027; {count} computations");
    println!(
        "add business minutes:   {:>12.0} per second (one core)",
        count as f64 / add_secs
    );
    println!(
        "business time between:  {:>12.0} per second (one core, checked against add)",
        count as f64 / between_secs
    );
    std::hint::black_box(sink);
    Ok(())
}

/// Creates (or re-saves) the bench policy and office calendar, which queues a recomputation.
async fn save_policy(store: &Store) -> Result<(), Failure> {
    let now = Timestamp::now();
    if sla::calendar_named(store, "calendar", "Bench office")
        .await
        .is_err()
    {
        let office = |h: &str| h.to_owned();
        let input = CalendarIn {
            name: "Bench office".into(),
            zone: "Europe/Berlin".into(),
            hours: WeekHoursWire::from_days([
                office("08:00-12:00, 13:00-18:00"),
                office("08:00-12:00, 13:00-18:00"),
                office("08:00-12:00, 13:00-18:00"),
                office("08:00-12:00, 13:00-18:00"),
                office("08:00-12:00, 13:00-18:00"),
                String::new(),
                String::new(),
            ]),
            holidays: vec![],
            default: true,
        };
        sla::create_calendar(&Ctx::new(store, Operator::Console, now), &input)
            .await
            .map_err(|e| fail(e.detail))?;
    }
    let existing = store
        .policies()
        .await?
        .into_iter()
        .find(|p| p.policy.name == POLICY);
    // Each save changes the resolution target (30 ↔ 31 hours of business time), as a manager's
    // edit of one target would: every open ticket's resolution clock moves.
    let resolution = match existing
        .as_ref()
        .and_then(|p| p.policy.target(opsdesk_domain::sla::Metric::Resolution))
    {
        Some(t) if t.minutes() == 30 * 60 => 31 * 60,
        _ => 30 * 60,
    };
    let policy = PolicyIn {
        name: POLICY.into(),
        position: None,
        conditions: Default::default(),
        targets: TargetsWire {
            first_response: Some(TargetWire {
                minutes: FIRST_RESPONSE_MINUTES,
                business: false,
                pauses: None,
            }),
            next_response: Some(TargetWire {
                minutes: 240,
                business: true,
                pauses: None,
            }),
            resolution: Some(TargetWire {
                minutes: resolution,
                business: true,
                pauses: None,
            }),
            periodic_update: None,
        },
        levels: vec![LevelWire {
            at: "75%".into(),
            metric: None,
            actions: vec![ActionWire {
                kind: "notify_assignee".into(),
                target: None,
            }],
        }],
    };
    match existing {
        Some(p) => {
            sla::update_policy(
                &Ctx::new(store, Operator::Console, now),
                p.policy.id,
                &policy,
            )
            .await
        }
        None => sla::create_policy(&Ctx::new(store, Operator::Console, now), &policy).await,
    }
    .map_err(|e| fail(e.detail))?;
    Ok(())
}

/// Tag of the breach probes, which the probe policy selects.
const PROBE_TAG: &str = "bench-probe";

/// A desk in steady state: the generated tickets (up to a year old) under year-long targets, so
/// none is overdue; probes under a 60-minute first response; every clock recomputed and
/// nothing left due, so the server starts with no backlog.
async fn steady_state(store: &Store) -> Result<(), Failure> {
    let now = Timestamp::now();
    let year = 366 * 24 * 60;
    let target = |minutes| {
        Some(TargetWire {
            minutes,
            business: false,
            pauses: None,
        })
    };
    let standard = PolicyIn {
        name: POLICY.into(),
        position: None,
        conditions: Default::default(),
        targets: TargetsWire {
            first_response: target(year),
            next_response: target(year),
            resolution: target(year),
            periodic_update: None,
        },
        levels: vec![],
    };
    let probe = PolicyIn {
        name: "Bench probe".into(),
        position: Some(1),
        conditions: opsdesk_server::wire::desk::ConditionsWire {
            tags: vec![PROBE_TAG.into()],
            ..Default::default()
        },
        targets: TargetsWire {
            first_response: target(FIRST_RESPONSE_MINUTES),
            next_response: None,
            resolution: None,
            periodic_update: None,
        },
        levels: vec![],
    };
    for input in [standard, probe] {
        let existing = store
            .policies()
            .await?
            .into_iter()
            .find(|p| p.policy.name == input.name);
        match existing {
            Some(p) => {
                sla::update_policy(
                    &Ctx::new(store, Operator::Console, now),
                    p.policy.id,
                    &input,
                )
                .await
            }
            None => sla::create_policy(&Ctx::new(store, Operator::Console, now), &input).await,
        }
        .map_err(|e| fail(e.detail))?;
    }
    let begun = Instant::now();
    while let Some(job) = store.run_sla_job_step(Timestamp::now(), 500).await? {
        if job.finished_at.is_some() {
            break;
        }
    }
    let mut drained = 0;
    while !store
        .tickets_with_due_triggers(Timestamp::now(), 1)
        .await?
        .is_empty()
    {
        drained += store.fire_due_sla_triggers(Timestamp::now(), 500).await?;
    }
    println!(
        "steady state prepared in {:.0} s ({drained} overdue triggers fired first)",
        begun.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Saves the bench policy and times the background recomputation of every open ticket.
pub async fn recompute(target: &Target, limit: Option<i64>) -> Result<(), Failure> {
    let store = open(target).await?;
    ensure_desk(&store).await?;
    save_policy(&store).await?;
    let begun = Instant::now();
    let mut first_100k: Option<Duration> = None;
    let mut done = 0;
    loop {
        let Some(job) = store.run_sla_job_step(Timestamp::now(), 500).await? else {
            break;
        };
        done = job.done;
        if first_100k.is_none() && done >= 100_000 {
            first_100k = Some(begun.elapsed());
        }
        if job.finished_at.is_some() || limit.is_some_and(|l| done >= l) {
            break;
        }
    }
    let elapsed = begun.elapsed();
    println!(
        "recomputed {done} open tickets in {:.2} s ({:.0} tickets/s, batches of 500, one transaction each)",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64()
    );
    if let Some(t) = first_100k {
        println!("first 100,000 tickets: {:.2} s", t.as_secs_f64());
    }
    store.close().await;
    Ok(())
}

fn cpu_ticks(pid: u32) -> Result<u64, Failure> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| fail("bad stat"))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields
        .get(11)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| fail("no utime"))?;
    let stime: u64 = fields
        .get(12)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| fail("no stime"))?;
    Ok(utime + stime)
}

/// With the bench policy on every open ticket, starts the server, brings in `probes` tickets
/// whose first response falls due a few seconds later, and measures when each breach is
/// recorded relative to its due instant; then the server's CPU use while idle.
pub async fn breach(target: &Target, probes: usize) -> Result<(), Failure> {
    let store = open(target).await?;
    ensure_desk(&store).await?;
    steady_state(&store).await?;
    let pending = store.pending_sla_triggers().await?;
    let server = start(target).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = server.child.id();
    let idle_from = cpu_ticks(pid)?;
    tokio::time::sleep(Duration::from_secs(20)).await;
    let idle_ticks = cpu_ticks(pid)? - idle_from;
    let team = store
        .team_by_name("Service Desk")
        .await?
        .ok_or_else(|| fail("no team"))?;
    let requester = store
        .users(Some(opsdesk_domain::Role::Customer), None, 0, 1)
        .await?
        .pop()
        .ok_or_else(|| fail("generate tickets first"))?;
    let now = Timestamp::now();
    let mut ids = Vec::new();
    for i in 0..probes {
        // Due 3 s from now, then every 250 ms.
        let due = now + SignedDuration::from_millis(3_000 + 250 * i as i64);
        let raised = Timestamp::from_microsecond(
            (due - SignedDuration::from_mins(FIRST_RESPONSE_MINUTES)).as_microsecond(),
        )?;
        let subject = format!("breach probe {i} {}", now.as_millisecond());
        let row = ImportedTicket {
            ticket: NewTicket {
                subject: opsdesk_domain::Subject::parse("subject", &subject).map_err(fail)?,
                body: opsdesk_domain::Body::parse("body", "probe").map_err(fail)?,
                requester_id: requester.id,
                team: Some(TeamRef::Id(team.id)),
                impact: opsdesk_domain::Impact::Medium,
                urgency: opsdesk_domain::Urgency::Medium,
                priority: None,
                category: None,
                service: None,
                tags: vec![opsdesk_domain::Tag::parse("tags", PROBE_TAG).map_err(fail)?],
                channel: "api",
            },
            org_id: requester.org_id,
            status: opsdesk_domain::Status::New,
            tier: team.tier,
            assignee_id: None,
            created_at: raised,
            updated_at: raised,
            replies: Vec::new(),
        };
        store.import_tickets(&[row], None, raised).await?;
        let found = store
            .tickets(
                &opsdesk_store::QueueFilter {
                    text: Some(subject),
                    ..Default::default()
                },
                opsdesk_domain::access::Confinement::None,
                opsdesk_store::QueueSort::Oldest,
                None,
                1,
            )
            .await?;
        ids.push(
            found
                .items
                .first()
                .map(|t| t.id)
                .ok_or_else(|| fail("probe missing"))?,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(30 + probes as u64);
    let mut lateness: Vec<f64> = Vec::new();
    for id in &ids {
        loop {
            let events = store.events_of("ticket", *id, true).await?;
            if let Some(e) = events.iter().find(|e| e.kind == "sla.breached") {
                let due: Timestamp = e.data["at"].as_str().unwrap_or_default().parse()?;
                lateness.push(e.at.duration_since(due).as_secs_f64() * 1000.0);
                break;
            }
            if Instant::now() > deadline {
                return Err(fail(format!("ticket {id}: no breach recorded")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    lateness.sort_by(f64::total_cmp);
    let hz = 100.0; // USER_HZ on Linux
    println!("open clocks with a pending trigger: {pending}");
    println!(
        "breach recorded after its due instant ({} probes): min {:.0} ms, p50 {:.0} ms, max {:.0} ms",
        lateness.len(),
        lateness.first().copied().unwrap_or(0.0),
        lateness[lateness.len() / 2],
        lateness.last().copied().unwrap_or(0.0)
    );
    println!(
        "server CPU while idle: {:.1} ms per second (over 20 s, scheduler polling the next due instant)",
        idle_ticks as f64 / hz * 1000.0 / 20.0
    );
    drop(server);
    store.close().await;
    Ok(())
}
