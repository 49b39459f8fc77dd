//! The demo SLA configuration (calendars, policies, a vendor) and the fresh tickets whose clocks it runs.

use super::*;

/// Two business calendars (Berlin and New York, with holidays), organisation plans and four
/// policies with escalation levels, so demo tickets carry live clocks.
pub(super) async fn seed_sla(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use crate::app::sla;
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
    sla::create_calendar(&Ctx::new(store, by, now), &berlin).await?;
    sla::create_calendar(&Ctx::new(store, by, now), &new_york).await?;
    for (org, calendar, plan) in [
        ("Acme Logistics", "Berlin office", "gold"),
        ("Globex Retail", "New York support", "standard"),
    ] {
        if let Some(o) = store.org_by_name(org).await? {
            sla::set_org_sla(
                &Ctx::new(store, by, now),
                o.id,
                Some(Some(calendar)),
                Some(Some(plan)),
            )
            .await?;
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
        sla::create_policy(&Ctx::new(store, by, now), policy).await?;
    }
    let carrier = crate::wire::desk::VendorIn {
        name: "Carrier Co".into(),
        contacts: "api-support@carrier.example, +1 555 0100".into(),
        calendar: Some("New York support".into()),
        response_minutes: Some(60),
        resolution_minutes: Some(8 * 60),
    };
    sla::save_vendor(&Ctx::new(store, by, now), None, &carrier).await?;
    Ok(())
}

/// A handful of tickets raised in the last hours, so the queue shows clocks that are running,
/// paused, at risk and about to breach as soon as the demo starts.
pub(super) async fn fresh_tickets(
    store: &Store,
    customers: &[opsdesk_store::User],
    agent: &opsdesk_store::User,
    now: Timestamp,
) -> Result<Vec<i64>, ApiError> {
    let agent_actor = agent.actor();
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
            app::create_ticket(store, customer, &input, "portal", None, created).await?;
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
            app::patch_ticket(
                &Ctx::new(store, Operator::User(&agent_actor), later(2)),
                ticket.id,
                &patch,
            )
            .await?;
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
