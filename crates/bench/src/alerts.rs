//! Alert ingest: Alertmanager-format webhooks (100 alerts per request, several concurrent
//! senders) into a real `opsdesk serve`, and the same alerts into a real Alertmanager's
//! `POST /api/v2/alerts` on the same machine for comparison.
//!
//! Each request is one group's notification, as Alertmanager sends them. Every request is sent
//! twice in a row (an HA pair of Alertmanagers), so half the alerts are duplicates that dedup
//! must absorb; once the prepared payloads are used up they are sent again (Alertmanager's
//! repeat notifications), which exercises the unchanged-repeat path.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use opsdesk_server::app::incidents as app;
use opsdesk_server::app::Ctx;
use opsdesk_server::app::Operator;
use opsdesk_server::wire::incidents::{IntegrationIn, IntegrationSettingsWire};
use serde_json::{json, Value};

use crate::{fail, open, report, start, Failure, Target};

/// Incidents opened by the run: (incident, request sent, answer received).
type Opened = Arc<std::sync::Mutex<Vec<(i64, Instant, Instant)>>>;

/// Distinct alert groups the storm spreads over.
const GROUPS: usize = 200;

fn alert(group: usize, instance: usize, starts: &str) -> Value {
    json!({
        "status": "firing",
        "labels": {"alertname": format!("BenchAlert{group}"), "service": format!("svc-{}", group % 20),
                   "instance": format!("host-{instance}:9100"), "severity": if group.is_multiple_of(7) { "critical" } else { "warning" }},
        "annotations": {"summary": format!("Bench alert {group} on host-{instance}"),
                        "description": "Synthetic load from opsdesk-bench."},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.bench:9090/graph"
    })
}

/// The alerts of request `n` (requests come in identical pairs).
fn alerts_of(n: usize, per_request: usize, starts: &str) -> (usize, Vec<Value>) {
    let pair = n / 2;
    let group = pair % GROUPS;
    let first = (pair / GROUPS) * per_request;
    let alerts = (first..first + per_request)
        .map(|i| alert(group, i, starts))
        .collect();
    (group, alerts)
}

fn webhook(group: usize, alerts: Vec<Value>) -> Vec<u8> {
    let body = json!({
        "receiver": "opsdesk", "status": "firing", "alerts": alerts,
        "groupLabels": {"alertname": format!("BenchAlert{group}")},
        "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://alertmanager.bench:9093",
        "version": "4", "groupKey": format!("{{}}:{{alertname=\"BenchAlert{group}\"}}"),
        "truncatedAlerts": 0
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Sends the prepared bodies from `senders` tasks for `seconds`; answers (latencies, errors,
/// requests, elapsed).
async fn blast(
    url: String,
    token: Option<String>,
    bodies: Arc<Vec<Vec<u8>>>,
    senders: usize,
    seconds: u64,
    ok: u16,
    opened: Option<Opened>,
) -> Result<(Vec<Duration>, usize, Duration), Failure> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(senders)
        .build()?;
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let begun = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (client, url, token, bodies, next, opened) = (
            client.clone(),
            url.clone(),
            token.clone(),
            bodies.clone(),
            next.clone(),
            opened.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let body = bodies[n % bodies.len()].clone();
                let mut request = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body);
                if let Some(t) = &token {
                    request = request.bearer_auth(t);
                }
                let sent = Instant::now();
                match request.send().await {
                    Ok(r) if r.status().as_u16() == ok => {
                        let answered = Instant::now();
                        latencies.push(sent.elapsed());
                        if let Some(opened) = &opened {
                            if let Ok(v) = r.json::<Value>().await {
                                for id in v["incidents_opened"].as_array().into_iter().flatten() {
                                    if let (Some(id), Ok(mut list)) = (id.as_i64(), opened.lock()) {
                                        list.push((id, sent, answered));
                                    }
                                }
                            }
                        }
                    }
                    Ok(r) => {
                        errors += 1;
                        if errors < 3 {
                            eprintln!(
                                "refused: {} {}",
                                r.status(),
                                r.text().await.unwrap_or_default()
                            );
                        }
                    }
                    Err(e) => {
                        errors += 1;
                        if errors < 3 {
                            eprintln!("failed: {e}");
                        }
                    }
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    Ok((all, errors, begun.elapsed()))
}

/// Paging set-up for the latency measurement: a receiver, a person paged by webhook, a
/// schedule and policy, and every bench service paging with it.
async fn paging_desk(
    store: &opsdesk_store::Store,
    now: Timestamp,
) -> Result<tokio::sync::mpsc::UnboundedReceiver<(i64, Instant)>, Failure> {
    use opsdesk_server::app::oncall;
    use opsdesk_server::wire::incidents::{
        ContactMethodIn, EscalationPolicyIn, LayerWire, PolicyLevelWire, ScheduleIn, ServiceIn,
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/page", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/page",
        axum::routing::post(move |body: String| {
            let arrived = Instant::now();
            let incident = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| v["incident_id"].as_i64())
                .unwrap_or(0);
            let _ = tx.send((incident, arrived));
            async { "ok" }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    crate::ensure_desk(store).await?;
    let agent = store
        .user_by_email(crate::BENCH_AGENT)
        .await?
        .ok_or_else(|| fail("the bench agent is missing"))?;
    oncall::add_contact_method(
        store,
        &agent,
        &ContactMethodIn {
            kind: "webhook".into(),
            address: url,
        },
        now,
    )
    .await
    .map_err(|e| fail(e.detail))?;
    let stamp = now.as_millisecond();
    let schedule = ScheduleIn {
        name: format!("Bench on call {stamp}"),
        description: String::new(),
        layers: vec![LayerWire {
            starts_at: (now - jiff::SignedDuration::from_hours(1)).to_string(),
            zone: "UTC".into(),
            turn: "weekly".into(),
            participants: vec![crate::BENCH_AGENT.into()],
            hours: None,
        }],
    };
    oncall::create_schedule(&Ctx::new(store, Operator::Console, now), &schedule)
        .await
        .map_err(|e| fail(e.detail))?;
    let policy = EscalationPolicyIn {
        name: format!("Bench policy {stamp}"),
        levels: vec![PolicyLevelWire {
            timeout_minutes: 30,
            targets: vec![format!("schedule:{}", schedule.name)],
        }],
        repeats: 0,
    };
    oncall::create_policy(&Ctx::new(store, Operator::Console, now), &policy)
        .await
        .map_err(|e| fail(e.detail))?;
    for n in 0..20 {
        let name = format!("svc-{n}");
        let existing = store.services().await?.into_iter().find(|s| s.name == name);
        let id = match existing {
            Some(s) => s.id,
            None => {
                let input = ServiceIn {
                    name,
                    description: String::new(),
                    team: None,
                };
                app::save_service(&Ctx::new(store, Operator::Console, now), None, &input)
                    .await
                    .map_err(|e| fail(e.detail))?
                    .id
            }
        };
        oncall::set_service_policy(
            &Ctx::new(store, Operator::Console, now),
            id,
            Some(&policy.name),
        )
        .await
        .map_err(|e| fail(e.detail))?;
    }
    Ok(rx)
}

/// Alertmanager-format ingest into opsdesk; with `page`, every new incident pages a person by
/// webhook and the time from the alert's acceptance to the page's arrival is measured.
pub async fn ingest(
    target: &Target,
    senders: usize,
    seconds: u64,
    per_request: usize,
    page: bool,
) -> Result<f64, Failure> {
    let store = open(target).await?;
    let now = Timestamp::now();
    let mut pages = if page {
        Some(paging_desk(&store, now).await?)
    } else {
        None
    };
    let input = IntegrationIn {
        name: format!("Bench Alertmanager {}", now.as_millisecond()),
        kind: "alertmanager".into(),
        service: None,
        team: None,
        settings: IntegrationSettingsWire {
            rate_limit_per_minute: Some(0),
            ..IntegrationSettingsWire::default()
        },
    };
    let (_, token) = app::create_integration(&Ctx::new(&store, Operator::Console, now), &input)
        .await
        .map_err(|e| fail(e.detail))?;
    let incidents_before = store
        .open_incident_counts()
        .await?
        .iter()
        .map(|c| c.1)
        .sum::<i64>();
    store.close().await;
    let starts = now.to_string();
    let prepared = 3_000;
    let bodies: Vec<Vec<u8>> = (0..prepared)
        .map(|n| {
            let (group, alerts) = alerts_of(n, per_request, &starts);
            webhook(group, alerts)
        })
        .collect();
    let server = start(target).await?;
    let accepted: Opened = Arc::default();
    let (latencies, errors, elapsed) = blast(
        format!("{}/hooks/alertmanager", server.base),
        Some(token),
        Arc::new(bodies),
        senders,
        seconds,
        200,
        Some(accepted.clone()),
    )
    .await?;
    let requests = latencies.len();
    report(
        &format!(
            "alert ingest (Alertmanager webhook, {per_request} alerts/request, {senders} senders)"
        ),
        latencies,
        elapsed,
        errors,
    );
    let rate = (requests * per_request) as f64 / elapsed.as_secs_f64();
    println!(
        "  = {rate:.0} alerts/s committed ({} alerts; half are HA duplicates, {} distinct prepared)",
        requests * per_request,
        prepared / 2 * per_request
    );
    if let Some(pages) = pages.as_mut() {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut arrivals = std::collections::HashMap::new();
        while let Ok((incident, at)) = pages.try_recv() {
            arrivals.entry(incident).or_insert(at);
        }
        let opened = accepted.lock().map(|a| a.clone()).unwrap_or_default();
        let mut from_answer = Vec::new();
        let mut from_send = Vec::new();
        for (incident, sent, answered) in &opened {
            if let Some(at) = arrivals.get(incident) {
                from_send.push(at.saturating_duration_since(*sent));
                from_answer.push(at.saturating_duration_since(*answered));
            }
        }
        from_send.sort();
        from_answer.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "  pages: {} incidents opened, {} pages arrived; from the alert's request to the page: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; from its 200 answer: p50 {:.1} ms, p99 {:.1} ms (0 when the page came first)",
            opened.len(),
            from_send.len(),
            ms(crate::percentile(&from_send, 0.5)),
            ms(crate::percentile(&from_send, 0.99)),
            ms(from_send.last().copied().unwrap_or_default()),
            ms(crate::percentile(&from_answer, 0.5)),
            ms(crate::percentile(&from_answer, 0.99)),
        );
    }
    drop(server);
    let store = open(target).await?;
    let incidents_after = store
        .open_incident_counts()
        .await?
        .iter()
        .map(|c| c.1)
        .sum::<i64>();
    println!(
        "  open incidents: {incidents_before} before, {incidents_after} after ({GROUPS} groups)"
    );
    store.close().await;
    Ok(rate)
}

/// The same alerts into a real Alertmanager's API (it keeps them in memory); answers the
/// accepted alerts per second.
pub async fn alertmanager(
    senders: usize,
    seconds: u64,
    per_request: usize,
) -> Result<f64, Failure> {
    let binary = "/usr/bin/prometheus-alertmanager";
    if !std::path::Path::new(binary).exists() {
        return Err(fail("install Debian's prometheus-alertmanager first"));
    }
    let dir = std::env::temp_dir().join(format!("opsdesk-bench-am-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let config = dir.join("am.yml");
    std::fs::write(
        &config,
        "route:\n  receiver: none\n  group_by: [alertname]\nreceivers:\n  - name: none\n",
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut child = std::process::Command::new(binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/-/ready"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let starts = Timestamp::now().to_string();
    let bodies: Vec<Vec<u8>> = (0..3_000)
        .map(|n| serde_json::to_vec(&alerts_of(n, per_request, &starts).1).unwrap_or_default())
        .collect();
    let result = blast(
        format!("{base}/api/v2/alerts"),
        None,
        Arc::new(bodies),
        senders,
        seconds,
        200,
        None,
    )
    .await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let (latencies, errors, elapsed) = result?;
    let requests = latencies.len();
    report(
        &format!("Alertmanager 0.25 POST /api/v2/alerts ({per_request} alerts/request, {senders} senders)"),
        latencies,
        elapsed,
        errors,
    );
    let rate = (requests * per_request) as f64 / elapsed.as_secs_f64();
    println!("  = {rate:.0} alerts/s accepted");
    Ok(rate)
}
