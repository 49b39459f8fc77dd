//! Services, integrations, live and resolved incidents from alerts, maintenance and the status page.

use super::*;

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
pub(super) async fn seed_services(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use crate::app::incidents as inc;
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
        inc::save_service(&Ctx::new(store, by, ago(60 * 24 * 10)), None, &input).await?;
    }
    Ok(())
}

pub(super) async fn seed_incidents(
    store: &Store,
    ticket: Option<i64>,
    now: Timestamp,
) -> Result<(), ApiError> {
    use crate::app::incidents as inc;
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
            inc::create_integration(&Ctx::new(store, by, ago(60 * 24 * 10)), &input).await?;
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
        inc::create_maintenance(&Ctx::new(store, by, ago(60 * 24 * 7)), w).await?;
    }
    let noah = store
        .user_by_email("noah.l2@opsdesk.example")
        .await?
        .map(|u| u.actor());
    let olga = store
        .user_by_email("olga.l3@opsdesk.example")
        .await?
        .map(|u| u.actor());
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
        async move { inc::note(&Ctx::new(store, Operator::User(&actor), at), id, body).await }
    };

    // On call: a weekly platform rotation (Monday 09:00 Berlin), a business-hours layer with
    // the L2 expert on top, and a policy paging it, then the manager, for the databases and
    // payments.
    {
        use crate::app::oncall;
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
        oncall::create_schedule(&Ctx::new(store, by, ago(60 * 24 * 14)), &schedule).await?;
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
        oncall::create_policy(&Ctx::new(store, by, ago(60 * 24 * 14)), &policy).await?;
        for service in store.services().await? {
            if service.name == "billing-db" || service.name == "payments-api" {
                oncall::set_service_policy(
                    &Ctx::new(store, by, ago(60 * 24 * 14)),
                    service.id,
                    Some("Platform"),
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
            &Ctx::new(store, Operator::User(&noah), at(4)),
            id,
            &PatchIncidentIn {
                commander: Some(Some("me".into())),
                ..patch("acknowledged")
            },
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
            &Ctx::new(store, Operator::User(&noah), at(15)),
            id,
            &patch("identified"),
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
            &Ctx::new(store, Operator::User(&noah), ago(21)),
            id,
            &PatchIncidentIn {
                commander: Some(Some("me".into())),
                ..patch("investigating")
            },
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
        &Ctx::new(store, Operator::User(&olga), ago(60)),
        &DeclareIncidentIn {
            title: "Checkout returns 502 for some EU customers".into(),
            severity: "SEV2".into(),
            services: vec!["checkout-web".into(), "payments-api".into()],
            team: None,
            summary: "Customers in DE and AT see 502 after entering card details.".into(),
            commander: Some("me".into()),
            ticket,
        },
    )
    .await?;
    inc::patch(
        &Ctx::new(store, Operator::User(&olga), ago(40)),
        declared.id,
        &PatchIncidentIn {
            comms: Some(Some("manager@opsdesk.example".into())),
            ..patch("identified")
        },
    )
    .await?;
    note(declared.id, &olga, "The payment provider's EU endpoint answers 503; failover to the secondary region under way.", ago(35)).await?;

    // The status page: four components, the EU checkout incident published, and the
    // resolved latency incident's public story.
    for service in store.services().await? {
        crate::app::status::set_public(&Ctx::new(store, by, ago(60 * 24 * 10)), service.id, true)
            .await?;
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
        crate::app::status::post_update(&Ctx::new(store, Operator::User(olga), at), id, &input)
            .await
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

    seed_review(store, &noah, olga).await?;

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
