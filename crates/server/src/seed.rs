//! Demo data: organisations, a tiered team ladder, staff and customers, and tickets in varied
//! states. Everything goes through [`crate::ops`], so demo rows carry their events like real ones.

use jiff::{SignedDuration, Timestamp};
use opsdesk_store::{Store, Ticket};

use crate::error::ApiError;
use crate::ops::{self, Operator};
use crate::wire::desk::{
    CreateMessageIn, CreateTeamIn, CreateTicketIn, CreateUserIn, EscalateIn, PatchTicketIn,
};

/// The password every demo account signs in with.
pub const DEMO_PASSWORD: &str = "opsdesk-demo";

/// The team ladder: (name, tier, escalates to).
pub const TEAMS: [(&str, &str, Option<&str>); 5] = [
    ("Service Desk", "L0", Some("Support L1")),
    ("Support L1", "L1", Some("Product Experts L2")),
    ("Product Experts L2", "L2", Some("Engineering Liaison L3")),
    ("Engineering Liaison L3", "L3", Some("Core Engineering L4")),
    ("Core Engineering L4", "L4", None),
];

/// A demo staff member: (email, name, role, tier, team).
pub type StaffMember = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// Demo staff.
pub const STAFF: [StaffMember; 9] = [
    ("admin@opsdesk.example", "Ada Admin", "admin", None, None),
    (
        "manager@opsdesk.example",
        "Max Manager",
        "manager",
        None,
        None,
    ),
    (
        "lena.l0@opsdesk.example",
        "Lena Intake",
        "agent",
        Some("L0"),
        Some("Service Desk"),
    ),
    (
        "liam.l1@opsdesk.example",
        "Liam First",
        "agent",
        Some("L1"),
        Some("Support L1"),
    ),
    (
        "lucy.l1@opsdesk.example",
        "Lucy First",
        "agent",
        Some("L1"),
        Some("Support L1"),
    ),
    (
        "noah.l2@opsdesk.example",
        "Noah Expert",
        "agent",
        Some("L2"),
        Some("Product Experts L2"),
    ),
    (
        "olga.l3@opsdesk.example",
        "Olga Liaison",
        "agent",
        Some("L3"),
        Some("Engineering Liaison L3"),
    ),
    (
        "paul.l4@opsdesk.example",
        "Paul Engineer",
        "agent",
        Some("L4"),
        Some("Core Engineering L4"),
    ),
    (
        "audrey.audit@opsdesk.example",
        "Audrey Auditor",
        "auditor",
        None,
        None,
    ),
];

/// Demo customer organisations and their people: (organisation, [(email, name)]).
pub const CUSTOMERS: [(&str, [(&str, &str); 3]); 2] = [
    (
        "Acme Logistics",
        [
            ("carol@acme.example", "Carol Customer"),
            ("dan@acme.example", "Dan Dispatcher"),
            ("eve@acme.example", "Eve Engineer"),
        ],
    ),
    (
        "Globex Retail",
        [
            ("gary@globex.example", "Gary Globex"),
            ("hana@globex.example", "Hana Store"),
            ("ivan@globex.example", "Ivan Ops"),
        ],
    ),
];

const SUBJECTS: [&str; 16] = [
    "Cannot log in after password reset",
    "Invoice PDF shows the wrong VAT rate",
    "Shipment tracking page times out",
    "Export to CSV drops the last row",
    "API returns 502 for /orders during peak",
    "Two-factor codes arrive late by SMS",
    "Dashboard widgets are blank in Firefox",
    "Request to add three new user seats",
    "Webhook deliveries stopped overnight",
    "Search finds nothing for accented names",
    "Mobile app crashes when scanning a barcode",
    "Billing contact needs changing",
    "Scheduled report e-mail not received",
    "Slow page loads from the Singapore office",
    "SSO redirect loops on the login page",
    "Question about the data retention policy",
];

const CATEGORIES: [&str; 5] = ["access", "billing", "bug", "performance", "question"];
const TAGS: [&str; 6] = ["vip", "regression", "eu", "mobile", "api", "sso"];

/// What seeding created, for printing sign-in hints.
#[derive(Debug, Clone, Default)]
pub struct Seeded {
    /// Tickets created.
    pub tickets: usize,
}

/// Creates the team ladder, the demo staff and customers, and `tickets` tickets spread over the
/// last 30 days before `now`. Does nothing when the database already has users.
pub async fn demo(
    store: &Store,
    tickets: usize,
    now: Timestamp,
) -> Result<Option<Seeded>, ApiError> {
    if !store.users(None, None, 0, 1).await?.is_empty() {
        return Ok(None);
    }
    let by = Operator::Console;
    for (name, tier, _) in TEAMS {
        let input = CreateTeamIn {
            name: name.into(),
            tier: tier.into(),
            escalates_to: None,
        };
        ops::create_team(store, by, &input, now).await?;
    }
    for (name, _, target) in TEAMS {
        if let (Some(team), Some(target)) = (store.team_by_name(name).await?, target) {
            let target = store.team_by_name(target).await?.map(|t| t.id);
            store
                .set_team_escalation(team.id, target, None, now)
                .await?;
        }
    }
    for (email, name, role, tier, team) in STAFF {
        let input = CreateUserIn {
            email: email.into(),
            name: name.into(),
            role: role.into(),
            tier: tier.map(Into::into),
            teams: team.map(|t| vec![t.to_owned()]),
            organization: None,
            password: Some(DEMO_PASSWORD.into()),
        };
        ops::create_user(store, by, &input, now).await?;
    }
    let mut customers = Vec::new();
    for (org, people) in CUSTOMERS {
        ops::create_org(store, by, org, now).await?;
        for (email, name) in people {
            let input = CreateUserIn {
                email: email.into(),
                name: name.into(),
                role: "customer".into(),
                tier: None,
                teams: None,
                organization: Some(org.into()),
                password: Some(DEMO_PASSWORD.into()),
            };
            customers.push(ops::create_user(store, by, &input, now).await?);
        }
    }
    seed_sla(store, now).await?;
    let lena = store.user_by_email("lena.l0@opsdesk.example").await?;
    let liam = store.user_by_email("liam.l1@opsdesk.example").await?;
    let noah = store.user_by_email("noah.l2@opsdesk.example").await?;
    let (Some(lena), Some(liam), Some(noah)) = (lena, liam, noah) else {
        return Ok(None);
    };
    let mut rng = fastrand::Rng::with_seed(42);
    for i in 0..tickets {
        let customer = &customers[rng.usize(..customers.len())];
        let age = SignedDuration::from_mins(rng.i64(5..30 * 24 * 60));
        let created = now.checked_sub(age).unwrap_or(now);
        let levels = ["low", "medium", "high"];
        let input = CreateTicketIn {
            subject: SUBJECTS[i % SUBJECTS.len()].into(),
            body: format!(
                "Hello,\n\n{} since this morning. It affects {} of our users.\n\nThanks,\n{}",
                SUBJECTS[i % SUBJECTS.len()],
                rng.u32(1..40),
                customer.name
            ),
            requester_email: None,
            team: None,
            priority: None,
            impact: Some(levels[rng.usize(..3)].into()),
            urgency: Some(levels[rng.usize(..3)].into()),
            category: Some(CATEGORIES[rng.usize(..CATEGORIES.len())].into()),
            service: None,
            tags: None,
        };
        let (ticket, _) =
            ops::create_ticket(store, customer, &input, "portal", None, created).await?;
        let step = |minutes: i64| {
            created
                .checked_add(SignedDuration::from_mins(minutes))
                .unwrap_or(created)
        };
        let fate = rng.u8(..10);
        if fate == 0 {
            continue; // stays new and unassigned
        }
        let lena_actor = crate::auth::actor_of(&lena);
        triage(store, &lena_actor, &ticket, &mut rng, step(3)).await?;
        let liam_actor = crate::auth::actor_of(&liam);
        let worker = if fate >= 6 {
            ops::escalate(
                store,
                &lena_actor,
                ticket.id,
                &EscalateIn {
                    reason: "Needs product knowledge beyond intake".into(),
                    tried: "Confirmed the account and reproduced the symptom".into(),
                    team: None,
                },
                step(5),
            )
            .await?;
            assign(store, &liam_actor, ticket.id, step(8)).await?;
            if fate >= 8 {
                ops::escalate(
                    store,
                    &liam_actor,
                    ticket.id,
                    &EscalateIn {
                        reason: "Not covered by the known-issue list".into(),
                        tried: "Cleared caches, checked status page, asked for a HAR file".into(),
                        team: None,
                    },
                    step(40),
                )
                .await?;
                let noah_actor = crate::auth::actor_of(&noah);
                assign(store, &noah_actor, ticket.id, step(45)).await?;
                noah_actor
            } else {
                liam_actor
            }
        } else {
            assign(store, &lena_actor, ticket.id, step(4)).await?;
            lena_actor
        };
        reply(
            store,
            &worker,
            ticket.id,
            "Thanks for the details, we are looking into it now.",
            false,
            step(60),
        )
        .await?;
        if rng.bool() {
            reply(
                store,
                &worker,
                ticket.id,
                "Checked the logs: matches a known pattern from last week.",
                true,
                step(70),
            )
            .await?;
        }
        let status = match fate % 4 {
            0 => Some("pending"),
            1 => Some("resolved"),
            2 => None,
            _ => Some("resolved"),
        };
        if let Some(status) = status {
            if status == "pending" && rng.u8(..3) == 0 {
                wait_on_vendor(store, &worker, ticket.id, step(120)).await?;
            } else {
                set_status(store, &worker, ticket.id, status, step(120)).await?;
            }
            if status == "resolved" && rng.u8(..3) == 0 {
                set_status(store, &worker, ticket.id, "closed", step(3 * 24 * 60)).await?;
            }
        }
    }
    seed_services(store, now).await?;
    let history = seed_history(store, &customers, now).await?;
    let fresh = fresh_tickets(store, &customers, &lena, now).await?;
    seed_incidents(store, fresh.first().copied(), now).await?;
    seed_mail(store, now).await?;
    seed_knowledge(store, now).await?;
    seed_runbooks(store, now).await?;
    Ok(Some(Seeded {
        tickets: tickets + fresh.len() + history,
    }))
}

/// Days of ticket and incident history behind the live demo tickets, so every report has a
/// shape (weekly seasonality, a slow rise, a forecast with a back-test).
const HISTORY_DAYS: i64 = 182;

/// Six months of solved tickets, imported with their conversations: busier on weekdays and
/// rising slowly, first replies within minutes to hours, resolutions within hours to days.
/// Answers how many.
async fn seed_history(
    store: &Store,
    customers: &[opsdesk_store::User],
    now: Timestamp,
) -> Result<usize, ApiError> {
    use opsdesk_domain::{Body, Category, Impact, Status, Subject, Urgency};
    use opsdesk_store::{ImportedMessage, ImportedTicket, NewTicket, ServiceRef, TeamRef};
    let mut rng = fastrand::Rng::with_seed(7);
    let mut agents = Vec::new();
    for email in [
        "lena.l0@opsdesk.example",
        "liam.l1@opsdesk.example",
        "lucy.l1@opsdesk.example",
        "noah.l2@opsdesk.example",
    ] {
        if let Some(user) = store.user_by_email(email).await? {
            agents.push(user);
        }
    }
    let mut teams = Vec::new();
    for (name, _, _) in TEAMS.iter().take(3) {
        if let Some(team) = store.team_by_name(name).await? {
            teams.push(team);
        }
    }
    if agents.is_empty() || teams.is_empty() || customers.is_empty() {
        return Ok(0);
    }
    let services: Vec<(i64, String)> = store
        .services()
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let levels = [Impact::Low, Impact::Medium, Impact::High];
    let urgencies = [Urgency::Low, Urgency::Medium, Urgency::High];
    let mut rows = Vec::new();
    for back in (1..=HISTORY_DAYS).rev() {
        let Ok(day) = today.checked_sub(jiff::Span::new().days(back)) else {
            continue;
        };
        let weekend = day.weekday().to_monday_zero_offset() >= 5;
        let base = if weekend { 2.0 } else { 9.0 };
        let rising = base * (1.0 + 0.4 * (HISTORY_DAYS - back) as f64 / HISTORY_DAYS as f64);
        let count = (rising + rng.f64() * 4.0 - 2.0).round().max(0.0) as usize;
        for _ in 0..count {
            let minute = if weekend {
                rng.i64(0..1440)
            } else {
                rng.i64(7 * 60..19 * 60)
            };
            let Ok(created) = day
                .to_zoned(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .and_then(|t| t.checked_add(SignedDuration::from_mins(minute)))
            else {
                continue;
            };
            // Most first replies within the hour, a tail to a day.
            let first_reply = [10, 25, 45, 70, 150, 400, 1200][rng.usize(..7)] + rng.i64(0..10);
            let solved = first_reply + [30, 120, 360, 1440, 2880, 5760][rng.usize(..6)];
            let at = |minutes: i64| created.checked_add(SignedDuration::from_mins(minutes));
            let (Ok(replied), Ok(resolved)) = (at(first_reply), at(solved)) else {
                continue;
            };
            if resolved >= now {
                continue;
            }
            let agent = &agents[rng.usize(..agents.len())];
            let customer = &customers[rng.usize(..customers.len())];
            let team = &teams[rng.usize(..teams.len()).min(rng.usize(..teams.len()))];
            let subject = SUBJECTS[rng.usize(..SUBJECTS.len())];
            let category = CATEGORIES[rng.usize(..CATEGORIES.len())];
            let mut replies = vec![ImportedMessage {
                author_id: agent.id,
                internal: false,
                body: Body::parse("body", "Thanks, we are on it; a fix is on its way.")?,
                created_at: replied,
            }];
            if rng.u8(..3) == 0 {
                if let Ok(later) = at(first_reply + (solved - first_reply) / 2) {
                    replies.push(ImportedMessage {
                        author_id: customer.id,
                        internal: false,
                        body: Body::parse("body", "Any news on this?")?,
                        created_at: later,
                    });
                    replies.push(ImportedMessage {
                        author_id: agent.id,
                        internal: false,
                        body: Body::parse("body", "Deployed the fix, please check again.")?,
                        created_at: later,
                    });
                }
            }
            rows.push(ImportedTicket {
                ticket: NewTicket {
                    subject: Subject::parse("subject", subject)?,
                    body: Body::parse("body", &format!("Hello,\n\n{subject}.\n\nThanks"))?,
                    requester_id: customer.id,
                    team: Some(TeamRef::Id(team.id)),
                    impact: levels[rng.usize(..3)],
                    urgency: urgencies[rng.usize(..3)],
                    priority: None,
                    category: Some(Category::parse("category", category)?),
                    // Most tickets are about a service; questions often are not.
                    service: (!services.is_empty() && rng.u8(..4) > 0).then(|| {
                        let (id, name) = services[rng.usize(..services.len())].clone();
                        ServiceRef::Known(id, name)
                    }),
                    tags: Vec::new(),
                    channel: ["portal", "email", "api"][rng.usize(..3)],
                },
                org_id: customer.org_id,
                status: if back > 14 && rng.u8(..3) > 0 {
                    Status::Closed
                } else {
                    Status::Resolved
                },
                tier: team.tier,
                assignee_id: Some(agent.id),
                created_at: created,
                updated_at: resolved,
                replies,
            });
        }
    }
    let count = rows.len();
    for chunk in rows.chunks(500) {
        store.import_tickets(chunk, None, now).await?;
    }
    seed_satisfaction(store, now).await?;
    Ok(count)
}

/// Survey answers on about a third of the solved tickets: mostly happy, some not, a few words.
async fn seed_satisfaction(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use opsdesk_domain::report::Satisfaction;
    use opsdesk_domain::Status;
    let mut rng = fastrand::Rng::with_seed(5);
    let filter = opsdesk_store::QueueFilter {
        statuses: vec![Status::Resolved, Status::Closed],
        ..Default::default()
    };
    let comments = [
        "",
        "",
        "Quick and friendly, thank you!",
        "Solved on the first reply.",
        "Took a while, but it works now.",
        "Had to explain the problem twice.",
        "",
    ];
    let mut cursor: Option<String> = None;
    loop {
        let page = store
            .tickets(
                &filter,
                opsdesk_domain::access::Confinement::None,
                opsdesk_store::QueueSort::Oldest,
                cursor.as_deref(),
                200,
            )
            .await?;
        for ticket in &page.items {
            if rng.u8(..3) != 0 {
                continue;
            }
            let score = [5, 5, 5, 4, 4, 4, 3, 2, 1, 5][rng.usize(..10)];
            let comment = comments[rng.usize(..comments.len())];
            let answer = Satisfaction::parse(score, comment)?;
            let answered = ticket
                .updated_at
                .checked_add(SignedDuration::from_mins(rng.i64(5..600)))
                .unwrap_or(now)
                .min(now);
            store
                .record_satisfaction(ticket.id, &answer, Some(ticket.requester.id), answered)
                .await?;
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// Six months of incidents on the demo services: acknowledged within minutes, mitigated and
/// resolved within hours, so MTTA, MTTR and MTBF per service have history.
async fn seed_incident_history(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use opsdesk_domain::{IncidentStatus, Severity};
    use opsdesk_store::{IncidentChanges, NewIncident};
    let services = store.services().await?;
    if services.is_empty() {
        return Ok(());
    }
    let mut rng = fastrand::Rng::with_seed(11);
    let titles = [
        "Elevated error rate",
        "Latency above objective",
        "Queue backlog growing",
        "Certificate expiring",
        "Disk filling up",
    ];
    for _ in 0..48 {
        let service = &services[rng.usize(..services.len())];
        let back = SignedDuration::from_mins(rng.i64(14 * 1440..HISTORY_DAYS * 1440));
        let Ok(detected) = now.checked_sub(back) else {
            continue;
        };
        let after = |minutes: i64| {
            detected
                .checked_add(SignedDuration::from_mins(minutes))
                .unwrap_or(detected)
        };
        let severity = [
            Severity::Sev1,
            Severity::Sev2,
            Severity::Sev3,
            Severity::Sev3,
            Severity::Sev4,
        ][rng.usize(..5)];
        let incident = store
            .declare_incident(
                &NewIncident {
                    title: format!("{}: {}", service.name, titles[rng.usize(..titles.len())]),
                    severity,
                    service_ids: vec![service.id],
                    team_id: service.team_id,
                    summary: String::new(),
                    commander_id: None,
                    ticket_id: None,
                },
                None,
                detected,
            )
            .await?;
        let ack = rng.i64(1..30);
        let mitigated = ack + rng.i64(5..120);
        let resolved = mitigated + rng.i64(10..240);
        for (status, minutes) in [
            (IncidentStatus::Acknowledged, ack),
            (IncidentStatus::Monitoring, mitigated),
            (IncidentStatus::Resolved, resolved),
        ] {
            store
                .change_incident(
                    incident.id,
                    &IncidentChanges {
                        status: Some(status),
                        ..IncidentChanges::default()
                    },
                    None,
                    after(minutes),
                )
                .await?;
        }
    }
    Ok(())
}

/// Two business calendars (Berlin and New York, with holidays), organisation plans and four
/// policies with escalation levels, so demo tickets carry live clocks.
async fn seed_sla(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use crate::ops::sla;
    use crate::wire::desk::{
        ActionWire, CalendarIn, ConditionsWire, HolidayWire, LevelWire, PolicyIn, TargetWire,
        TargetsWire, WeekHoursWire,
    };
    let by = Operator::Console;
    let holiday = |date: &str, name: &str| HolidayWire {
        date: date.into(),
        name: name.into(),
    };
    let weekdays = |hours: &str| {
        let h = hours.to_owned();
        WeekHoursWire::from_days([
            h.clone(),
            h.clone(),
            h.clone(),
            h.clone(),
            h,
            String::new(),
            String::new(),
        ])
    };
    let berlin = CalendarIn {
        name: "Berlin office".into(),
        zone: "Europe/Berlin".into(),
        hours: weekdays("08:00-18:00"),
        holidays: vec![
            holiday("01-01", "New Year's Day"),
            holiday("05-01", "Labour Day"),
            holiday("10-03", "German Unity Day"),
            holiday("12-24", "Christmas Eve"),
            holiday("12-25", "Christmas Day"),
            holiday("12-26", "Boxing Day"),
        ],
        default: false,
    };
    let new_york = CalendarIn {
        name: "New York support".into(),
        zone: "America/New_York".into(),
        hours: weekdays("09:00-12:30, 13:30-18:00"),
        holidays: vec![
            holiday("01-01", "New Year's Day"),
            holiday("07-04", "Independence Day"),
            holiday("2026-11-26", "Thanksgiving"),
            holiday("12-25", "Christmas Day"),
        ],
        default: false,
    };
    sla::create_calendar(store, by, &berlin, now).await?;
    sla::create_calendar(store, by, &new_york, now).await?;
    for (org, calendar, plan) in [
        ("Acme Logistics", "Berlin office", "gold"),
        ("Globex Retail", "New York support", "standard"),
    ] {
        if let Some(o) = store.org_by_name(org).await? {
            sla::set_org_sla(store, by, o.id, Some(Some(calendar)), Some(Some(plan)), now).await?;
        }
    }
    let target = |minutes: i64, business: bool| {
        Some(TargetWire {
            minutes,
            business,
            pauses: None,
        })
    };
    let action = |kind: &str, target: Option<&str>| ActionWire {
        kind: kind.into(),
        target: target.map(Into::into),
    };
    let level = |at: &str, metric: Option<&str>, actions: Vec<ActionWire>| LevelWire {
        at: at.into(),
        metric: metric.map(Into::into),
        actions,
    };
    let policies = [
        PolicyIn {
            name: "Urgent, around the clock".into(),
            position: None,
            conditions: ConditionsWire {
                priorities: vec!["urgent".into()],
                ..ConditionsWire::default()
            },
            targets: TargetsWire {
                first_response: target(30, false),
                next_response: target(60, false),
                resolution: target(240, false),
                periodic_update: target(120, false),
            },
            levels: vec![
                level("75%", None, vec![action("notify_assignee", None)]),
                level(
                    "100%",
                    None,
                    vec![
                        action("notify_team_managers", None),
                        action("add_tag", Some("sla-breach")),
                    ],
                ),
                level(
                    "+1h",
                    Some("resolution"),
                    vec![action("escalate_tier", None)],
                ),
            ],
        },
        PolicyIn {
            name: "High priority".into(),
            position: None,
            conditions: ConditionsWire {
                priorities: vec!["high".into()],
                ..ConditionsWire::default()
            },
            targets: TargetsWire {
                first_response: target(60, true),
                next_response: target(120, true),
                resolution: target(8 * 60, true),
                periodic_update: target(4 * 60, true),
            },
            levels: vec![
                level("75%", None, vec![action("notify_assignee", None)]),
                level(
                    "100%",
                    None,
                    vec![
                        action("notify_team_managers", None),
                        action("add_tag", Some("sla-breach")),
                    ],
                ),
            ],
        },
        PolicyIn {
            name: "Gold plan".into(),
            position: None,
            conditions: ConditionsWire {
                plans: vec!["gold".into()],
                ..ConditionsWire::default()
            },
            targets: TargetsWire {
                first_response: target(60, true),
                next_response: target(120, true),
                resolution: target(8 * 60, true),
                periodic_update: None,
            },
            levels: vec![
                level(
                    "75%",
                    Some("first_response"),
                    vec![action("notify_team", None)],
                ),
                level(
                    "100%",
                    None,
                    vec![
                        action("notify_team_managers", None),
                        action("add_tag", Some("sla-breach")),
                    ],
                ),
            ],
        },
        PolicyIn {
            name: "Standard".into(),
            position: None,
            conditions: ConditionsWire::default(),
            targets: TargetsWire {
                first_response: target(4 * 60, true),
                next_response: target(8 * 60, true),
                resolution: target(3 * 8 * 60, true),
                periodic_update: None,
            },
            levels: vec![level(
                "100%",
                None,
                vec![action("add_tag", Some("sla-breach"))],
            )],
        },
    ];
    for policy in &policies {
        sla::create_policy(store, by, policy, now).await?;
    }
    let carrier = crate::wire::desk::VendorIn {
        name: "Carrier Co".into(),
        contacts: "api-support@carrier.example, +1 555 0100".into(),
        calendar: Some("New York support".into()),
        response_minutes: Some(60),
        resolution_minutes: Some(8 * 60),
    };
    sla::save_vendor(store, by, None, &carrier, now).await?;
    Ok(())
}

/// A handful of tickets raised in the last hours, so the queue shows clocks that are running,
/// paused, at risk and about to breach as soon as the demo starts.
async fn fresh_tickets(
    store: &Store,
    customers: &[opsdesk_store::User],
    agent: &opsdesk_store::User,
    now: Timestamp,
) -> Result<Vec<i64>, ApiError> {
    let agent_actor = crate::auth::actor_of(agent);
    let plan: [(&str, i64, Option<&str>, &str); 6] = [
        (
            "Checkout returns 502 for every customer",
            25,
            Some("urgent"),
            "open",
        ),
        (
            "Label printer queue stuck at depot 4",
            50,
            Some("high"),
            "new",
        ),
        ("Cannot export last month's invoices", 20, None, "new"),
        ("Password reset mail never arrives", 90, None, "pending"),
        (
            "Carrier API rejects our new token",
            150,
            Some("high"),
            "vendor",
        ),
        (
            "Dashboard widgets load slowly on Mondays",
            10,
            Some("low"),
            "open",
        ),
    ];
    let mut ids = Vec::with_capacity(plan.len());
    for (i, (subject, minutes_ago, priority, state)) in plan.into_iter().enumerate() {
        let customer = &customers[i % customers.len()];
        let created = now
            .checked_sub(SignedDuration::from_mins(minutes_ago))
            .unwrap_or(now);
        let input = CreateTicketIn {
            subject: subject.into(),
            body: format!(
                "Hello,

{subject}. Please help.

{}",
                customer.name
            ),
            requester_email: None,
            team: None,
            priority: None,
            impact: None,
            urgency: None,
            category: None,
            service: None,
            tags: None,
        };
        let (ticket, _) =
            ops::create_ticket(store, customer, &input, "portal", None, created).await?;
        ids.push(ticket.id);
        let later = |m: i64| {
            created
                .checked_add(SignedDuration::from_mins(m))
                .unwrap_or(created)
        };
        if let Some(p) = priority {
            let patch = PatchTicketIn {
                priority: Some(p.into()),
                ..PatchTicketIn::default()
            };
            ops::patch_ticket(store, &agent_actor, ticket.id, &patch, later(2)).await?;
        }
        match state {
            "open" => set_status(store, &agent_actor, ticket.id, "open", later(3)).await?,
            "pending" => {
                reply(
                    store,
                    &agent_actor,
                    ticket.id,
                    "Could you tell us which address you use?",
                    false,
                    later(5),
                )
                .await?;
                set_status(store, &agent_actor, ticket.id, "pending", later(6)).await?;
            }
            "vendor" => {
                reply(
                    store,
                    &agent_actor,
                    ticket.id,
                    "We have raised this with the carrier.",
                    false,
                    later(5),
                )
                .await?;
                wait_on_vendor(store, &agent_actor, ticket.id, later(6)).await?;
            }
            _ => {}
        }
    }
    Ok(ids)
}

async fn wait_on_vendor(
    store: &Store,
    actor: &opsdesk_domain::Actor,
    id: i64,
    at: Timestamp,
) -> Result<(), ApiError> {
    let patch = PatchTicketIn {
        status: Some("pending".into()),
        pending_reason: Some("vendor".into()),
        vendor: Some(Some("Carrier Co".into())),
        vendor_ref: Some(Some(format!("CC-{}", 4000 + id))),
        ..PatchTicketIn::default()
    };
    ops::patch_ticket(store, actor, id, &patch, at).await?;
    Ok(())
}

async fn triage(
    store: &Store,
    actor: &opsdesk_domain::Actor,
    ticket: &Ticket,
    rng: &mut fastrand::Rng,
    at: Timestamp,
) -> Result<(), ApiError> {
    let patch = PatchTicketIn {
        add_tags: Some(vec![TAGS[rng.usize(..TAGS.len())].to_owned()]),
        ..PatchTicketIn::default()
    };
    ops::patch_ticket(store, actor, ticket.id, &patch, at).await?;
    Ok(())
}

async fn assign(
    store: &Store,
    actor: &opsdesk_domain::Actor,
    id: i64,
    at: Timestamp,
) -> Result<(), ApiError> {
    let patch = PatchTicketIn {
        assignee: Some(Some("me".into())),
        ..PatchTicketIn::default()
    };
    ops::patch_ticket(store, actor, id, &patch, at).await?;
    Ok(())
}

async fn reply(
    store: &Store,
    actor: &opsdesk_domain::Actor,
    id: i64,
    body: &str,
    internal: bool,
    at: Timestamp,
) -> Result<(), ApiError> {
    let input = CreateMessageIn {
        body: body.into(),
        internal,
    };
    ops::add_message(store, actor, id, &input, at).await?;
    Ok(())
}

async fn set_status(
    store: &Store,
    actor: &opsdesk_domain::Actor,
    id: i64,
    status: &str,
    at: Timestamp,
) -> Result<(), ApiError> {
    let patch = PatchTicketIn {
        status: Some(status.into()),
        ..PatchTicketIn::default()
    };
    ops::patch_ticket(store, actor, id, &patch, at).await?;
    Ok(())
}

/// One demo alert as an Alertmanager integration reads it (grouped by alert name and service).
fn demo_alert(
    name: &str,
    instance: &str,
    service: &str,
    severity: opsdesk_domain::Severity,
    summary: &str,
    firing: bool,
    started: Timestamp,
) -> opsdesk_store::AlertInput {
    use opsdesk_domain::incident::{fingerprint, group_key};
    let labels: std::collections::BTreeMap<String, String> = [
        ("alertname", name),
        ("instance", instance),
        ("service", service),
        (
            "severity",
            if severity == opsdesk_domain::Severity::Sev1 {
                "critical"
            } else {
                "warning"
            },
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    opsdesk_store::AlertInput {
        fingerprint: fingerprint(&labels),
        firing,
        severity,
        summary: summary.to_owned(),
        group_key: group_key(&labels, &["alertname".to_owned(), "service".to_owned()]),
        annotations: [("summary".to_owned(), summary.to_owned())]
            .into_iter()
            .collect(),
        labels,
        source_url: Some(format!(
            "http://prometheus.example:9090/graph?g0.expr={name}"
        )),
        starts_at: started,
        ends_at: (!firing).then_some(started),
        service: Some(service.to_owned()),
    }
}

/// Services, integrations, maintenance windows and incidents in every state: one resolved
/// from alerts with a full timeline, one being worked, one declared from a customer ticket, and
/// one just triggered.
/// The demo's services, before the tickets and incidents that name them.
async fn seed_services(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use crate::ops::incidents as inc;
    use crate::wire::incidents::ServiceIn;
    let by = Operator::Console;
    let ago = |m: i64| now.checked_sub(SignedDuration::from_mins(m)).unwrap_or(now);
    for (name, description, team) in [
        (
            "billing-db",
            "PostgreSQL cluster behind invoicing",
            "Product Experts L2",
        ),
        (
            "checkout-web",
            "The web shop's checkout pages",
            "Support L1",
        ),
        (
            "payments-api",
            "Card and SEPA payments gateway",
            "Core Engineering L4",
        ),
        (
            "email-relay",
            "Outbound mail for notifications",
            "Service Desk",
        ),
    ] {
        let input = ServiceIn {
            name: name.into(),
            description: description.into(),
            team: Some(team.into()),
        };
        inc::save_service(store, by, None, &input, ago(60 * 24 * 10)).await?;
    }
    Ok(())
}

async fn seed_incidents(
    store: &Store,
    ticket: Option<i64>,
    now: Timestamp,
) -> Result<(), ApiError> {
    use crate::ops::incidents as inc;
    use crate::wire::incidents::{
        DeclareIncidentIn, IntegrationIn, IntegrationSettingsWire, MaintenanceIn, PatchIncidentIn,
    };
    use opsdesk_domain::Severity;
    let by = Operator::Console;
    let ago = |m: i64| now.checked_sub(SignedDuration::from_mins(m)).unwrap_or(now);
    // History before the live incidents, so those are the newest in every list.
    seed_incident_history(store, now).await?;
    let mut integrations = Vec::new();
    for (name, kind) in [
        ("Prometheus", "alertmanager"),
        ("Grafana", "grafana"),
        ("Uptime checks", "generic"),
    ] {
        let input = IntegrationIn {
            name: name.into(),
            kind: kind.into(),
            service: None,
            team: None,
            settings: IntegrationSettingsWire {
                group_by: (kind == "alertmanager")
                    .then(|| vec!["alertname".into(), "service".into()]),
                quiet_minutes: Some(15),
                ..IntegrationSettingsWire::default()
            },
        };
        let (created, _token) =
            inc::create_integration(store, by, &input, ago(60 * 24 * 10)).await?;
        integrations.push(created);
    }
    let berlin_saturday = {
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC);
        let local = now.to_zoned(zone.clone()).date();
        let back = i64::from(local.weekday().to_monday_zero_offset()) + 2;
        local
            .checked_sub(jiff::Span::new().days(back))
            .ok()
            .and_then(|d| d.at(2, 0, 0, 0).to_zoned(zone).ok())
            .map_or(now, |z| z.timestamp())
    };
    let windows = [
        MaintenanceIn {
            title: "Database patching".into(),
            description: "Minor-version upgrades, one node at a time.".into(),
            starts_at: berlin_saturday.to_string(),
            ends_at: (berlin_saturday + SignedDuration::from_hours(2)).to_string(),
            zone: Some("Europe/Berlin".into()),
            recurrence: Some("weekly:sat".into()),
            until: None,
            services: vec!["billing-db".into()],
        },
        MaintenanceIn {
            title: "Payments API upgrade to v5".into(),
            description: "Card payments may be declined for up to 10 minutes.".into(),
            starts_at: (now + SignedDuration::from_hours(24 * 3)).to_string(),
            ends_at: (now + SignedDuration::from_hours(24 * 3 + 1)).to_string(),
            zone: Some("UTC".into()),
            recurrence: None,
            until: None,
            services: vec!["payments-api".into()],
        },
    ];
    for w in &windows {
        inc::create_maintenance(store, by, w, ago(60 * 24 * 7)).await?;
    }
    let noah = store
        .user_by_email("noah.l2@opsdesk.example")
        .await?
        .map(|u| crate::auth::actor_of(&u));
    let olga = store
        .user_by_email("olga.l3@opsdesk.example")
        .await?
        .map(|u| crate::auth::actor_of(&u));
    let (Some(noah), Some(olga)) = (noah, olga) else {
        return Ok(());
    };
    let Some(prometheus) = integrations.first() else {
        return Ok(());
    };
    let patch = |status: &str| PatchIncidentIn {
        status: Some(status.into()),
        ..PatchIncidentIn::default()
    };
    let note = |id: i64, actor: &opsdesk_domain::Actor, body: &'static str, at: Timestamp| {
        let actor = actor.clone();
        async move { inc::note(store, Operator::User(&actor), id, body, at).await }
    };

    // On call: a weekly platform rotation (Monday 09:00 Berlin), a business-hours layer with
    // the L2 expert on top, and a policy paging it, then the manager, for the databases and
    // payments.
    {
        use crate::ops::oncall;
        use crate::wire::incidents::{EscalationPolicyIn, LayerWire, PolicyLevelWire, ScheduleIn};
        let monday = {
            let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC);
            let local = now.to_zoned(zone).date();
            let back = i64::from(local.weekday().to_monday_zero_offset()) + 14;
            local
                .checked_sub(jiff::Span::new().days(back))
                .map(|d| d.at(9, 0, 0, 0).to_string())
                .unwrap_or_default()
        };
        let schedule = ScheduleIn {
            name: "Platform primary".into(),
            description: "Databases and payments, around the clock".into(),
            layers: vec![
                LayerWire {
                    starts_at: monday.clone(),
                    zone: "Europe/Berlin".into(),
                    turn: "weekly".into(),
                    participants: vec![
                        "olga.l3@opsdesk.example".into(),
                        "noah.l2@opsdesk.example".into(),
                        "liam.l1@opsdesk.example".into(),
                    ],
                    hours: None,
                },
                LayerWire {
                    starts_at: monday,
                    zone: "Europe/Berlin".into(),
                    turn: "daily".into(),
                    participants: vec!["noah.l2@opsdesk.example".into()],
                    hours: Some("09:00-17:00".into()),
                },
            ],
        };
        oncall::create_schedule(store, by, &schedule, ago(60 * 24 * 14)).await?;
        let policy = EscalationPolicyIn {
            name: "Platform".into(),
            levels: vec![
                PolicyLevelWire {
                    timeout_minutes: 5,
                    targets: vec!["schedule:Platform primary".into()],
                },
                PolicyLevelWire {
                    timeout_minutes: 15,
                    targets: vec!["user:manager@opsdesk.example".into()],
                },
            ],
            repeats: 1,
        };
        oncall::create_policy(store, by, &policy, ago(60 * 24 * 14)).await?;
        for service in store.services().await? {
            if service.name == "billing-db" || service.name == "payments-api" {
                oncall::set_service_policy(
                    store,
                    by,
                    service.id,
                    Some("Platform"),
                    ago(60 * 24 * 14),
                )
                .await?;
            }
        }
    }

    // Three days ago: checkout latency, worked and resolved.
    let t0 = ago(3 * 24 * 60);
    let latency: Vec<_> = ["web-1:9100", "web-2:9100", "web-3:9100"]
        .iter()
        .map(|i| {
            demo_alert(
                "CheckoutLatencyHigh",
                i,
                "checkout-web",
                Severity::Sev2,
                &format!("p99 checkout latency above 2 s on {i}"),
                true,
                t0,
            )
        })
        .collect();
    let opened = store.ingest_alerts(prometheus, latency.clone(), t0).await?;
    if let Some(id) = opened.opened.first().copied() {
        let at = |m: i64| t0 + SignedDuration::from_mins(m);
        inc::patch(
            store,
            Operator::User(&noah),
            id,
            &PatchIncidentIn {
                commander: Some(Some("me".into())),
                ..patch("acknowledged")
            },
            at(4),
        )
        .await?;
        note(
            id,
            &noah,
            "Latency follows the 14:00 deploy; connection pool exhausted on all three nodes.",
            at(12),
        )
        .await?;
        inc::patch(
            store,
            Operator::User(&noah),
            id,
            &patch("identified"),
            at(15),
        )
        .await?;
        note(
            id,
            &noah,
            "Rolled back to the previous release; pool usage back to 40%.",
            at(31),
        )
        .await?;
        let calm: Vec<_> = latency
            .into_iter()
            .map(|mut a| {
                a.firing = false;
                a.ends_at = Some(at(38));
                a
            })
            .collect();
        store.ingest_alerts(prometheus, calm, at(38)).await?;
        store.resolve_quiet_incidents(at(54)).await?;
    }

    // Twenty-five minutes ago: billing database disks, being worked now.
    let t1 = ago(25);
    let disks = vec![
        demo_alert(
            "DiskAlmostFull",
            "db-01:9100",
            "billing-db",
            Severity::Sev1,
            "Disk /var/lib/postgresql is 97% full on db-01",
            true,
            t1,
        ),
        demo_alert(
            "DiskAlmostFull",
            "db-02:9100",
            "billing-db",
            Severity::Sev1,
            "Disk /var/lib/postgresql is 95% full on db-02",
            true,
            t1,
        ),
    ];
    let opened = store.ingest_alerts(prometheus, disks, t1).await?;
    store.page_due(t1 + SignedDuration::from_secs(2)).await?;
    if let Some(id) = opened.opened.first().copied() {
        inc::patch(
            store,
            Operator::User(&noah),
            id,
            &PatchIncidentIn {
                commander: Some(Some("me".into())),
                ..patch("investigating")
            },
            ago(21),
        )
        .await?;
        note(
            id,
            &noah,
            "WAL archiving stalled since 02:10; archive bucket credentials expired.",
            ago(12),
        )
        .await?;
    }

    // An hour ago, declared from a customer's ticket.
    let declared = inc::declare(
        store,
        Operator::User(&olga),
        &DeclareIncidentIn {
            title: "Checkout returns 502 for some EU customers".into(),
            severity: "SEV2".into(),
            services: vec!["checkout-web".into(), "payments-api".into()],
            team: None,
            summary: "Customers in DE and AT see 502 after entering card details.".into(),
            commander: Some("me".into()),
            ticket,
        },
        ago(60),
    )
    .await?;
    inc::patch(
        store,
        Operator::User(&olga),
        declared.id,
        &PatchIncidentIn {
            comms: Some(Some("manager@opsdesk.example".into())),
            ..patch("identified")
        },
        ago(40),
    )
    .await?;
    note(declared.id, &olga, "The payment provider's EU endpoint answers 503; failover to the secondary region under way.", ago(35)).await?;

    // The status page: four components, the EU checkout incident published, and the
    // resolved latency incident's public story.
    for service in store.services().await? {
        crate::ops::status::set_public(store, by, service.id, true, ago(60 * 24 * 10)).await?;
    }
    let olga = &olga;
    let publish = |id: i64,
                   title: Option<&'static str>,
                   status: &'static str,
                   impact: &'static str,
                   body: &'static str,
                   at: Timestamp| async move {
        let input = crate::wire::incidents::StatusUpdateIn {
            status: status.into(),
            impact: impact.into(),
            body: body.into(),
            title: title.map(str::to_owned),
        };
        crate::ops::status::post_update(store, Operator::User(olga), id, &input, at).await
    };
    publish(declared.id, Some("Card payments failing for some customers in Europe"), "identified", "partial_outage",
        "Some card payments from Germany and Austria fail. We have found the cause at our payment provider and are switching to its second region.", ago(38)).await?;
    if let Some(resolved) = store
        .incidents(&opsdesk_store::IncidentFilter {
            open: Some(false),
            limit: 10,
            ..Default::default()
        })
        .await?
        .into_iter()
        .find(|i| i.title.starts_with("p99 checkout latency"))
    {
        let t = resolved.milestones.detected;
        let at = |m: i64| t + SignedDuration::from_mins(m);
        // Published after the fact: the incident is already resolved, so the update keeps it so.
        publish(
            resolved.id,
            Some("Slow checkout"),
            "resolved",
            "degraded",
            "Checkout pages were slow for about 35 minutes after a release; it was rolled back.",
            at(60),
        )
        .await?;
    }

    // The resolved latency incident's review: written, with action items (one verified, one
    // overdue) and a problem record holding the known error.
    if let Some(resolved) = store
        .incidents(&opsdesk_store::IncidentFilter {
            open: Some(false),
            limit: 10,
            ..Default::default()
        })
        .await?
        .into_iter()
        .find(|i| i.title.starts_with("p99 checkout latency"))
    {
        use crate::ops::reviews;
        use crate::wire::incidents::{ActionItemIn, ProblemIn, ReviewIn};
        let t = resolved.milestones.detected;
        let at = |m: i64| t + SignedDuration::from_mins(m);
        let review = ReviewIn {
            summary: "Checkout pages were slow (p99 above 2 s) for 35 minutes after the 14:00 release.".into(),
            customer_impact: "About 8% of checkouts timed out; no orders were lost.".into(),
            root_cause: "The release lowered the database connection pool from 50 to 10 per node.".into(),
            contributing_factors: "The pool size lives in a config file no review looks at; no alert on pool saturation.".into(),
            went_well: "Alert to acknowledgement in 4 minutes; rollback in 16.".into(),
            went_poorly: "Nobody knew the pool setting had changed; the release notes did not say.".into(),
            published: true,
            ..ReviewIn::default()
        };
        reviews::save_review(
            store,
            Operator::User(&noah),
            resolved.id,
            &review,
            at(24 * 60),
        )
        .await?;
        let item = |title: &str, owner: &str, due: &str, verification: &str| ActionItemIn {
            title: title.into(),
            owner: owner.into(),
            due: due.into(),
            verification: verification.into(),
            incident: Some(resolved.id),
            problem: None,
        };
        let alert = reviews::create_action_item(
            store,
            Operator::User(&noah),
            &item(
                "Alert on connection pool saturation above 80%",
                "noah.l2@opsdesk.example",
                &(t + SignedDuration::from_hours(48)).to_string(),
                "A load test at 85% pages the on-call",
            ),
            at(24 * 60 + 5),
        )
        .await?;
        reviews::set_action_state(store, Operator::User(&noah), alert.id, "done", at(40 * 60))
            .await?;
        reviews::set_action_state(
            store,
            Operator::User(olga),
            alert.id,
            "verified",
            at(44 * 60),
        )
        .await?;
        reviews::create_action_item(
            store,
            Operator::User(&noah),
            &item(
                "Show config changes in release notes",
                "olga.l3@opsdesk.example",
                &(t + SignedDuration::from_hours(24)).to_string(),
                "The next release's notes list its config diff",
            ),
            at(24 * 60 + 6),
        )
        .await?;
        let problem = ProblemIn {
            title: "Connection pool too small for peak checkout load".into(),
            status: Some("known_error".into()),
            root_cause:
                "Pool sizing is per node and was never revisited after adding payment retries."
                    .into(),
            workaround: "Raise DB_POOL_SIZE to 50 and restart the checkout nodes one by one."
                .into(),
            incidents: vec![resolved.id],
        };
        reviews::save_problem(store, Operator::User(olga), None, &problem, at(26 * 60)).await?;
    }

    // Three minutes ago: the mail relay queue, nobody on it yet.
    let t3 = ago(3);
    let relay = vec![demo_alert(
        "MailQueueGrowing",
        "relay-1:9154",
        "email-relay",
        Severity::Sev3,
        "Outbound mail queue above 5,000 messages on relay-1",
        true,
        t3,
    )];
    store.ingest_alerts(prometheus, relay, t3).await?;
    Ok(())
}

/// A mailbox fed by `mail ingest` (the demo reaches no mail server), the customers' mail
/// domains, and mail that opened tickets, replied with quoted history, brought an attachment,
/// was an out-of-office answer, and could not be read.
async fn seed_mail(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    let by = Operator::Console;
    let input = crate::wire::mail::MailboxIn {
        name: "Support".into(),
        address: "support@opsdesk.example".into(),
        display_name: Some("opsdesk Demo Support".into()),
        team: "Service Desk".into(),
        imap: None,
        folder: None,
        smtp: None,
        max_attachment_bytes: None,
        sender_limit_per_hour: None,
        active: Some(true),
        tls_ca: None,
    };
    let mailbox = ops::mail::create_mailbox(store, by, &input, now).await?;
    for ((org, _), domain) in CUSTOMERS.iter().zip(["acme.example", "globex.example"]) {
        if let Some(found) = store.org_by_name(org).await? {
            ops::mail::set_org_domains(store, by, found.id, &[domain.to_owned()], now).await?;
        }
    }
    let first = "From: Carol Customer <carol@acme.example>\r\nTo: support@opsdesk.example\r\n\
        Subject: Label printer in bay 4 prints blank pages\r\nMessage-ID: <demo-1@acme.example>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nSince the driver update this morning the label \
        printer in bay 4 feeds blank labels. Log attached.\r\n\r\nCarol\r\n--b\r\n\
        Content-Type: text/plain; name=\"printer-log.txt\"\r\nContent-Disposition: attachment; \
        filename=\"printer-log.txt\"\r\n\r\n08:02 job 4411 sent\r\n08:02 ribbon sensor: no ribbon\r\n--b--\r\n";
    let opened = ops::mail::ingest(store, by, &mailbox, first.as_bytes().to_vec(), now).await?;
    if let opsdesk_store::Intake::NewTicket(ticket) = opened.intake {
        let reply = format!(
            "From: Carol Customer <carol@acme.example>\r\nTo: support@opsdesk.example\r\n\
             Subject: Re: [#{ticket}] Label printer in bay 4 prints blank pages\r\n\
             Message-ID: <demo-2@acme.example>\r\nIn-Reply-To: <demo-1@acme.example>\r\n\
             References: <demo-1@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Bay 5 has the same problem now.\r\n\r\nOn Mon, 23 Nov 2026 at 08:10, Carol Customer \
             <carol@acme.example> wrote:\r\n> Since the driver update this morning the label printer\r\n\
             > in bay 4 feeds blank labels.\r\n"
        );
        ops::mail::ingest(store, by, &mailbox, reply.into_bytes(), now).await?;
    }
    let unknown = "From: Zoe Driver <zoe@acme.example>\r\nTo: support@opsdesk.example\r\n\
        Subject: =?utf-8?q?Can=E2=80=99t_log_in_to_the_driver_app?=\r\nMessage-ID: <demo-3@acme.example>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n--a\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nThe app says my account is locked.\r\n--a\r\n\
        Content-Type: text/html; charset=utf-8\r\n\r\n<p>The app says my account is <b>locked</b>.</p>\r\n--a--\r\n";
    let out_of_office =
        "From: Dan Dispatcher <dan@acme.example>\r\nTo: support@opsdesk.example\r\n\
        Subject: Automatic reply: holiday\r\nMessage-ID: <demo-4@acme.example>\r\n\
        Auto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n";
    let broken = "To: support@opsdesk.example\r\nSubject: ???\r\n\r\n\u{1}\u{2}";
    for raw in [unknown, out_of_office, broken] {
        ops::mail::ingest(store, by, &mailbox, raw.as_bytes().to_vec(), now).await?;
    }
    Ok(())
}

/// A demo article: title, category, visibility, body, owner, review due in days.
type DemoArticle = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<String>,
    i64,
);

/// A believable knowledge base: categories, public and internal articles (one restricted to
/// L2 and above), a few past their review date, one with an unpublished draft, a known error
/// from a problem record, feedback, a deflection and links from resolved tickets.
async fn seed_knowledge(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use crate::ops::knowledge as kb;
    use crate::wire::knowledge::{ArticleIn, CategoryIn};
    let by = Operator::Console;
    let day = |days: i64| {
        (now + SignedDuration::from_hours(24 * days))
            .strftime("%Y-%m-%d")
            .to_string()
    };
    for (position, (name, description)) in [
        (
            "Accounts and sign-in",
            "Passwords, two-factor codes, single sign-on.",
        ),
        (
            "Tracking and shipments",
            "Tracking pages, labels, scanners in the depot.",
        ),
        ("Billing", "Invoices, VAT, payment methods."),
        ("Runbooks and internal notes", "For the desk's staff."),
    ]
    .into_iter()
    .enumerate()
    {
        let input = CategoryIn {
            name: name.into(),
            description: description.into(),
            position: position as i64,
        };
        kb::save_category(store, by, None, &input, now).await?;
    }
    let owner = |email: &str| Some(email.to_owned());
    // (title, category, visibility, body, owner, review in days)
    let articles: [DemoArticle; 9] = [
        ("Reset your password", "Accounts and sign-in", "public", "Forgot your password? You can set a new one yourself.\n\n1. Open the sign-in page and choose **Forgot password**.\n2. Enter your work e-mail address.\n3. Follow the link in the e-mail within 30 minutes.\n\nThe link works once. If no e-mail arrives within 5 minutes, check your spam folder, then raise a request.", owner("liam.l1@opsdesk.example"), 120),
        ("Two-factor codes arrive late or not at all", "Accounts and sign-in", "public", "Codes sent by SMS can be delayed by the mobile network.\n\n- Use the authenticator app instead: **Profile → Security → Authenticator**.\n- Make sure your phone's clock is set automatically; codes depend on the time.\n- Each code is valid for 30 seconds.", owner("liam.l1@opsdesk.example"), -10),
        ("Single sign-on redirect loop", "Accounts and sign-in", "public", "If the sign-in page keeps sending you back and forth:\n\n1. Clear cookies for the site.\n2. Sign out of your company portal and sign in again.\n3. Try a private window.\n\nIf it still loops, raise a request and say which browser you use.", owner("noah.l2@opsdesk.example"), 200),
        ("Tracking page shows yesterday's data", "Tracking and shipments", "public", "Tracking updates arrive from carriers every 15 minutes. A page that shows older data is usually cached by the browser: reload with **Ctrl+F5**.\n\nShipments handed over after 18:00 appear the next morning.", owner("liam.l1@opsdesk.example"), 90),
        ("Label printer prints blank labels", "Tracking and shipments", "public", "Blank labels mean the printer cannot read the ribbon.\n\n1. Open the cover and check the ribbon is threaded under the print head.\n2. Run the calibration: hold the feed button until the light blinks twice.\n3. Print a test label from **Settings → Printers**.", owner("lena.l0@opsdesk.example"), -3),
        ("Invoice shows the wrong VAT rate", "Billing", "public", "The VAT rate follows the billing address of your organisation. Check it under **Account → Billing**. Invoices already issued are corrected with a credit note: raise a request with the invoice number.", owner("manager@opsdesk.example"), 60),
        ("Restarting the tracking ingest workers", "Runbooks and internal notes", "internal", "When carrier updates stop:\n\n```\nsystemctl restart tracking-ingest@*\njournalctl -u tracking-ingest@1 -n 50\n```\n\nExpect `consumer lag` to fall below 1,000 within 5 minutes.", owner("noah.l2@opsdesk.example"), -30),
        ("Escalating a billing dispute", "Runbooks and internal notes", "internal", "Billing disputes over 1,000 EUR go to the finance queue with the invoice number and the customer's contract id. Never promise a refund in the first reply.", owner("manager@opsdesk.example"), 180),
        ("Rotating the carrier API keys", "Runbooks and internal notes", "L2", "Carrier API keys are rotated every 90 days from the vault (`secret/carriers/*`). Rotate one carrier at a time and watch the ingest dashboard for 10 minutes.", owner("noah.l2@opsdesk.example"), 45),
    ];
    let mut made = Vec::new();
    for (title, category, visibility, body, owner, review_in_days) in articles {
        let input = ArticleIn {
            title: title.into(),
            body: body.into(),
            category: Some(category.into()),
            visibility: Some(visibility.into()),
            owner,
            review_by: Some(day(review_in_days)),
            note: "First version".into(),
            publish: true,
            base_version: None,
        };
        made.push(kb::create_article(store, by, &input, now).await?);
    }
    // An edit waiting to be published, and a draft nobody published yet.
    if let Some(first) = made.first() {
        let input = ArticleIn {
            title: first.title.clone(),
            body: format!(
                "{}\n\nAdministrators of your organisation can also reset it for you.",
                first.body
            ),
            category: first.category.as_ref().map(|c| c.1.clone()),
            visibility: Some("public".into()),
            owner: first.owner.as_ref().map(|o| o.email.clone()),
            review_by: Some(day(120)),
            note: "Mention organisation administrators".into(),
            publish: false,
            base_version: Some(first.version),
        };
        kb::edit_article(store, by, first.id, &input, now).await?;
    }
    let draft = ArticleIn {
        title: "Adding user seats".into(),
        body: "Seats are added under **Account → Users**. (Draft: confirm the price list first.)"
            .into(),
        category: Some("Billing".into()),
        visibility: Some("public".into()),
        owner: Some("manager@opsdesk.example".into()),
        review_by: None,
        note: String::new(),
        publish: false,
        base_version: None,
    };
    kb::create_article(store, by, &draft, now).await?;
    // Readers' feedback and a deflection on the public ones.
    let carol = store
        .user_by_email("carol@acme.example")
        .await?
        .map(|u| u.id);
    let gary = store
        .user_by_email("gary@globex.example")
        .await?
        .map(|u| u.id);
    if let Some(label) = made.get(4) {
        store
            .article_feedback(label.id, true, "", carol, now)
            .await?;
        store.article_deflected(label.id, carol, now).await?;
    }
    if let Some(twofa) = made.get(1) {
        store
            .article_feedback(twofa.id, false, "I have no smartphone.", gary, now)
            .await?;
    }
    // Linked from resolved tickets whose subject they answer.
    let resolved = store
        .tickets(
            &opsdesk_store::QueueFilter {
                statuses: vec![
                    opsdesk_domain::Status::Resolved,
                    opsdesk_domain::Status::Closed,
                ],
                ..Default::default()
            },
            opsdesk_domain::access::Confinement::None,
            opsdesk_store::QueueSort::Priority,
            None,
            200,
        )
        .await?;
    let liam = store
        .user_by_email("liam.l1@opsdesk.example")
        .await?
        .map(|u| u.id);
    for ticket in &resolved.items {
        let subject = ticket.subject.as_str().to_lowercase();
        let answer = if subject.contains("password") {
            made.first()
        } else if subject.contains("two-factor") {
            made.get(1)
        } else if subject.contains("sso") {
            made.get(2)
        } else {
            None
        };
        if let Some(article) = answer {
            store.link_article(ticket.id, article, liam, now).await?;
        }
    }
    Ok(())
}

/// Runbooks attached to services and alerts, one run under way on an open incident, and
/// scheduled checks with a few days of history: done, done late, and missed occurrences.
async fn seed_runbooks(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use crate::ops::runbooks as rb;
    use crate::wire::runbooks::{RunbookIn, StepOutcomeIn};
    use opsdesk_store::RunTarget;
    let by = Operator::Console;
    let runbooks = [
        ("Billing database failover", "When billing-db's primary is down or lagging.", Some("billing-db"), "billing-db", "",
         "## Confirm the primary is down\nCheck replication and connections on the primary.\n$ psql -h billing-db-1 -c 'select pg_is_in_recovery()'\n=> the primary does not answer\n\n## Promote the replica\n$ patronictl failover billing --candidate billing-db-2 --force\n=> billing-db-2 is leader\n\n## Point invoicing at the new primary\nThe service follows DNS; check it moved.\n$ dig +short billing-db.internal\n\n## Post a status update\nTell customers invoicing is back."),
        ("Checkout errors (5xx)", "Checkout returns 5xx to customers.", Some("checkout-web"), "checkout", "",
         "## Look at the error rate by route\n$ curl -s localhost:9090/api/v1/query?query=rate(http_5xx[5m])\n\n## Roll back the last release if it is new\n$ deployctl rollback checkout-web\n=> error rate below 0.1 %\n\n## Tell the desk\nPost an internal note on linked tickets."),
        ("Daily health check", "Morning check of the platform before the desk opens.", None, "", "",
         "## Dashboards green\nOpen the overview dashboard; every panel green.\n\n## Queue depths normal\n$ rabbitmqctl list_queues\n=> fewer than 1,000 messages each\n\n## Disk space\n$ df -h /var/lib\n=> Use% below 80\n\n## Certificates\nNone expires within 14 days."),
        ("Backup verification", "Restore last night's backup into the scratch database and compare.", Some("billing-db"), "", "",
         "## Restore last night's dump\n$ pg_restore -d scratch /backups/billing-latest.dump\n=> exits 0\n\n## Compare row counts\n$ psql scratch -c 'select count(*) from invoices'\n=> within 0.1 % of production\n\n## Drop the scratch copy\n$ dropdb scratch"),
        ("Password reset for a locked account", "L1: unlock and reset a customer's account.", None, "", "access",
         "## Verify the caller\nAsk for the order number of their last shipment.\n\n## Unlock the account\nAdmin console → Users → Unlock.\n\n## Send the reset link\nLink the article 'Reset your password' in the reply."),
    ];
    let mut made = Vec::new();
    for (title, description, service, alert_match, category, steps) in runbooks {
        let input = RunbookIn {
            title: title.into(),
            description: description.into(),
            steps: None,
            steps_text: Some(steps.into()),
            service: service.map(str::to_owned),
            alert_match: alert_match.into(),
            category: category.into(),
        };
        made.push(rb::save_runbook(store, by, None, &input, now).await?);
    }
    // The checkout runbook under way on the open checkout incident.
    let incidents = store
        .incidents(&opsdesk_store::IncidentFilter {
            open: Some(true),
            limit: 50,
            ..Default::default()
        })
        .await?;
    let noah = store.user_by_email("noah.l2@opsdesk.example").await?;
    if let (Some(incident), Some(noah), Some(checkout)) = (
        incidents
            .iter()
            .find(|i| i.title.to_lowercase().contains("checkout")),
        noah,
        made.get(1),
    ) {
        let actor = opsdesk_domain::Actor {
            user_id: noah.id,
            role: noah.role,
            org_id: None,
            tier: noah.tier,
        };
        let run = rb::start_run(
            store,
            &actor,
            RunTarget::Incident(incident.id),
            checkout.id,
            now,
        )
        .await?;
        let note = StepOutcomeIn {
            outcome: Some("done".into()),
            note: "502s only on /eu/checkout since the 09:05 release".into(),
        };
        rb::record_step(store, &actor, run.id, 1, &note, now).await?;
    }
    // Checks with history: scheduled a week ago, driven through the days since.
    let owner = store
        .user_by_email("manager@opsdesk.example")
        .await?
        .map(|u| u.id)
        .unwrap_or_default();
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC);
    let week_ago = (now - SignedDuration::from_hours(24 * 7))
        .to_zoned(zone.clone())
        .date();
    for (name, runbook, team, rule, hour) in [
        (
            "Daily health check",
            2usize,
            "Service Desk",
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            8,
        ),
        (
            "Backup verification",
            3,
            "Product Experts L2",
            "FREQ=DAILY",
            6,
        ),
    ] {
        let Some(runbook) = made.get(runbook) else {
            continue;
        };
        let Some(team) = store.team_by_name(team).await? else {
            continue;
        };
        let start = week_ago.at(hour, 0, 0, 0);
        let parsed = opsdesk_domain::recurrence::Rule::parse("rrule", rule)?;
        let recurrence = opsdesk_domain::recurrence::Recurrence::new(parsed, start, zone.clone());
        let first = recurrence.next_after(
            start
                .to_zoned(zone.clone())
                .map(|z| z.timestamp())
                .unwrap_or(now)
                - SignedDuration::from_secs(1),
        );
        let draft = opsdesk_store::CheckDraft {
            name: name.into(),
            runbook_id: runbook.id,
            team_id: team.id,
            owner_id: owner,
            rrule: rule.into(),
            start_local: start.strftime("%Y-%m-%dT%H:%M").to_string(),
            zone: "Europe/Berlin".into(),
            window_minutes: 120,
            active: true,
            next_at: first,
        };
        let check = store
            .save_check(None, &draft, None, now - SignedDuration::from_hours(24 * 7))
            .await?;
        // Walk each past occurrence: most done in time, one done late, one left undone (missed
        // when the next one came).
        let mut at = first;
        let mut day = 0;
        while let Some(t) = at.filter(|t| *t < now) {
            crate::workers::checks::step(store, t + SignedDuration::from_mins(1)).await?;
            let latest = store.occurrences(Some(check.id), 1).await?;
            if let Some(run_id) = latest.first().and_then(|o| o.run_id) {
                let done_after = match day % 4 {
                    1 => Some(SignedDuration::from_mins(150)),
                    2 => None,
                    _ => Some(SignedDuration::from_mins(35)),
                };
                let next = recurrence.next_after(t);
                let is_last = next.is_none_or(|n| n >= now);
                if let (Some(after), false) = (done_after, is_last) {
                    let when = t + after;
                    if when > t + SignedDuration::from_mins(120) {
                        crate::workers::checks::step(store, when - SignedDuration::from_mins(1))
                            .await?;
                    }
                    let run = store.run(run_id).await?;
                    for position in 0..run.steps.len() {
                        store
                            .record_step(
                                run_id,
                                position,
                                opsdesk_domain::runbook::Outcome::Done,
                                "",
                                Some(owner),
                                when,
                            )
                            .await?;
                    }
                }
            }
            day += 1;
            at = recurrence.next_after(t);
        }
    }
    Ok(())
}
