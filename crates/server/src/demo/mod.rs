//! Demo data (`opsdesk demo seed`, `serve --demo`): organisations, a tiered team ladder, staff and customers, and tickets in varied
//! states. Everything goes through [`crate::app`], so demo rows carry their events like real ones.

use jiff::{SignedDuration, Timestamp};
use opsdesk_store::{Store, Ticket};

use crate::app::{self, Ctx, Operator};
use crate::error::ApiError;
use crate::wire::desk::{
    CreateMessageIn, CreateTeamIn, CreateTicketIn, CreateUserIn, EscalateIn, PatchTicketIn,
};

mod history;
mod incidents;
mod knowledge;
mod mail;
mod reviews;
mod sla;

use history::{seed_history, seed_incident_history};
use incidents::{seed_incidents, seed_services};
use knowledge::{seed_knowledge, seed_runbooks};
use mail::seed_mail;
use reviews::seed_review;
use sla::{fresh_tickets, seed_sla};

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
pub async fn seed(
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
        app::create_team(&Ctx::new(store, by, now), &input).await?;
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
        app::create_user(&Ctx::new(store, by, now), &input).await?;
    }
    let mut customers = Vec::new();
    for (org, people) in CUSTOMERS {
        app::create_org(&Ctx::new(store, by, now), org).await?;
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
            customers.push(app::create_user(&Ctx::new(store, by, now), &input).await?);
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
            app::create_ticket(store, customer, &input, "portal", None, created).await?;
        let step = |minutes: i64| {
            created
                .checked_add(SignedDuration::from_mins(minutes))
                .unwrap_or(created)
        };
        let fate = rng.u8(..10);
        if fate == 0 {
            continue; // stays new and unassigned
        }
        let lena_actor = lena.actor();
        triage(store, &lena_actor, &ticket, &mut rng, step(3)).await?;
        let liam_actor = liam.actor();
        let worker = if fate >= 6 {
            app::escalate(
                &Ctx::new(store, Operator::User(&lena_actor), step(5)),
                ticket.id,
                &EscalateIn {
                    reason: "Needs product knowledge beyond intake".into(),
                    tried: "Confirmed the account and reproduced the symptom".into(),
                    team: None,
                },
            )
            .await?;
            assign(store, &liam_actor, ticket.id, step(8)).await?;
            if fate >= 8 {
                app::escalate(
                    &Ctx::new(store, Operator::User(&liam_actor), step(40)),
                    ticket.id,
                    &EscalateIn {
                        reason: "Not covered by the known-issue list".into(),
                        tried: "Cleared caches, checked status page, asked for a HAR file".into(),
                        team: None,
                    },
                )
                .await?;
                let noah_actor = noah.actor();
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
    app::patch_ticket(&Ctx::new(store, Operator::User(actor), at), id, &patch).await?;
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
    app::patch_ticket(
        &Ctx::new(store, Operator::User(actor), at),
        ticket.id,
        &patch,
    )
    .await?;
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
    app::patch_ticket(&Ctx::new(store, Operator::User(actor), at), id, &patch).await?;
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
    app::add_message(&Ctx::new(store, Operator::User(actor), at), id, &input).await?;
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
    app::patch_ticket(&Ctx::new(store, Operator::User(actor), at), id, &patch).await?;
    Ok(())
}
