//! `opsdesk-bench reports`: a year of incidents on the generated desk, then the latency of every
//! report's data (a year by month, the default 30 days by day, narrowed by team, the incident
//! report, the forecast; a year and 30 days narrowed to one organisation; a year narrowed to one
//! service, alone and with a team) and of `/metrics`, through the API as a manager.

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::{IncidentStatus, Severity};
use opsdesk_server::app::Ctx;
use opsdesk_server::app::{self, Operator};
use opsdesk_server::wire::desk::CreateUserIn;
use opsdesk_store::{IncidentChanges, NewIncident, Service, Store};

use crate::{fail, open, report, start, timed_gets, Failure, Target};

const BENCH_MANAGER: &str = "bench-manager@opsdesk.example";

/// The bench's 20 services (`service-00` …), which tickets and incidents are about.
pub(crate) async fn ensure_services(store: &Store) -> Result<Vec<Service>, Failure> {
    let now = Timestamp::now();
    let services = store.services().await?;
    for s in services.len()..20 {
        let input = opsdesk_server::wire::incidents::ServiceIn {
            name: format!("service-{s:02}"),
            description: String::new(),
            team: None,
        };
        opsdesk_server::app::incidents::save_service(
            &Ctx::new(store, Operator::Console, now),
            None,
            &input,
        )
        .await
        .map_err(|e| fail(e.detail))?;
    }
    Ok(store.services().await?)
}

/// Incidents to have on the desk before measuring (a year of them, on 20 services).
async fn ensure_incidents(store: &Store, wanted: usize) -> Result<usize, Failure> {
    let now = Timestamp::now();
    let services = ensure_services(store).await?;
    let have = store
        .incident_facts(Timestamp::UNIX_EPOCH, now, None, None)
        .await?
        .len();
    let mut rng = fastrand::Rng::with_seed(3);
    for i in have..wanted {
        let service = &services[rng.usize(..services.len())];
        let detected = now
            .checked_sub(SignedDuration::from_mins(rng.i64(60..365 * 24 * 60)))
            .map_err(|e| fail(e.to_string()))?;
        let incident = store
            .declare_incident(
                &NewIncident {
                    title: format!("Bench incident {i}"),
                    severity: Severity::ALL[rng.usize(..4)],
                    service_ids: vec![service.id],
                    team_id: None,
                    summary: String::new(),
                    commander_id: None,
                    ticket_id: None,
                },
                None,
                detected,
            )
            .await?;
        let mut at = detected;
        for status in [IncidentStatus::Acknowledged, IncidentStatus::Resolved] {
            at = at
                .checked_add(SignedDuration::from_mins(rng.i64(1..240)))
                .map_err(|e| fail(e.to_string()))?;
            if at >= now {
                break;
            }
            store
                .change_incident(
                    incident.id,
                    &IncidentChanges {
                        status: Some(status),
                        ..IncidentChanges::default()
                    },
                    None,
                    at,
                )
                .await?;
        }
    }
    Ok(wanted.max(have))
}

/// Runs the scenario.
pub(crate) async fn reports(
    target: &Target,
    requests: usize,
    incidents: usize,
) -> Result<(), Failure> {
    let store = open(target).await?;
    crate::ensure_desk(&store).await?;
    let now = Timestamp::now();
    if store.user_by_email(BENCH_MANAGER).await?.is_none() {
        let input = CreateUserIn {
            email: BENCH_MANAGER.into(),
            name: "Bench Manager".into(),
            role: "manager".into(),
            tier: None,
            teams: None,
            organization: None,
            password: None,
        };
        app::create_user(&Ctx::new(&store, Operator::Console, now), &input)
            .await
            .map_err(|e| fail(e.detail))?;
    }
    let (_, token) = app::create_token(
        &Ctx::new(&store, Operator::Console, now),
        BENCH_MANAGER,
        Some("bench"),
    )
    .await
    .map_err(|e| fail(e.detail))?;
    let total = ensure_incidents(&store, incidents).await?;
    let facts: i64 = store.metric_gauges().await?.tickets_total;
    store.close().await;
    let server = start(target).await?;
    println!("{facts} tickets, {total} incidents");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let year_ago = today
        .checked_sub(jiff::Span::new().days(364))
        .map_err(|e| fail(e.to_string()))?;
    let year = format!("from={year_ago}&to={today}&granularity=month");
    let base = &server.base;
    let scenarios = [
        (
            "ticket report, a year by month (all teams)",
            format!("{base}/api/v1/reports/tickets?{year}"),
        ),
        (
            "ticket report, a year by month, one team",
            format!("{base}/api/v1/reports/tickets?{year}&team=Support%20L1"),
        ),
        (
            "ticket report, a year by month, one organisation",
            format!("{base}/api/v1/reports/tickets?{year}&organization=Customer%2000"),
        ),
        (
            "ticket report, a year by month, one service",
            format!("{base}/api/v1/reports/tickets?{year}&service=service-05"),
        ),
        (
            "ticket report, a year by month, one service and team",
            format!("{base}/api/v1/reports/tickets?{year}&service=service-05&team=Support%20L1"),
        ),
        (
            "ticket report, last 30 days by day",
            format!("{base}/api/v1/reports/tickets"),
        ),
        (
            "ticket report, last 30 days, one organisation",
            format!("{base}/api/v1/reports/tickets?organization=Customer%2000"),
        ),
        (
            "incident report, a year by month",
            format!("{base}/api/v1/reports/incidents?{year}"),
        ),
        (
            "forecast and staffing",
            format!("{base}/api/v1/reports/forecast"),
        ),
        ("/metrics", format!("{base}/metrics")),
    ];
    for (name, url) in scenarios {
        // Warm up (the first read pulls pages into the cache), then measure.
        timed_gets(&client, vec![url.clone(); 3], Some(&token), None, 1).await?;
        let (latencies, elapsed, errors) =
            timed_gets(&client, vec![url; requests], Some(&token), None, 1).await?;
        report(name, latencies, elapsed, errors);
    }
    Ok(())
}
