//! Six months of history behind the live demo: solved tickets with their conversations, satisfaction answers and past incidents.

use super::*;

/// Days of ticket and incident history behind the live demo tickets, so every report has a
/// shape (weekly seasonality, a slow rise, a forecast with a back-test).
const HISTORY_DAYS: i64 = 182;

/// Six months of solved tickets, imported with their conversations: busier on weekdays and
/// rising slowly, first replies within minutes to hours, resolutions within hours to days.
/// Answers how many.
pub(super) async fn seed_history(
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
pub(super) async fn seed_incident_history(store: &Store, now: Timestamp) -> Result<(), ApiError> {
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
