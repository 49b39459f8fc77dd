//! Runbooks and scheduled checks through the API: runs inside tickets and incidents with
//! every step recorded, runs that keep the steps they started with, field errors, and checks
//! whose occurrences open task tickets, become late, are missed, and finish.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const STEPS: &str = "## Check the queue depth\nOpen the broker dashboard.\n$ rabbitmqctl list_queues\n=> fewer than 1,000 messages\n\n## Restart the consumers\n$ systemctl restart tracking-ingest@*\n\n## Confirm recovery\nWatch the lag for five minutes.";

async fn runbook(app: &TestApp, title: &str) -> i64 {
    let r = app
        .post(
            "l1",
            "/api/v1/runbooks",
            json!({"title": title, "steps_text": STEPS, "category": "bug"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"].as_i64().unwrap_or_default()
}

#[tokio::test]
async fn a_runbook_runs_inside_a_ticket_step_by_step() {
    let app = spawn_app().await;
    let id = runbook(&app, "Tracking ingest stalled").await;
    let got = app.get("l2", &format!("/api/v1/runbooks/{id}")).await;
    assert_eq!(got.body["steps"][0]["command"], "rabbitmqctl list_queues");
    assert_eq!(
        got.body["steps"][0]["expected"],
        "fewer than 1,000 messages"
    );
    let ticket = app.ticket("acme", "Tracking stuck since 9:00").await;
    let started = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{ticket}/runbook-runs"),
            json!({"runbook": id}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{:?}", started.body);
    let run = started.body["id"].as_i64().unwrap_or_default();
    // Changing the runbook now does not change the run under way.
    let edited = app
        .call(
            "l1",
            Method::PUT,
            &format!("/api/v1/runbooks/{id}"),
            Some(json!({"title": "Tracking ingest stalled", "steps_text": "## Only step"})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    let step = |n: usize, body: Value| {
        let app = &app;
        async move {
            app.post("l2", &format!("/api/v1/runbook-runs/{run}/steps/{n}"), body)
                .await
        }
    };
    let first = step(1, json!({"note": "412 messages"})).await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(
        first.body["steps"].as_array().map(Vec::len),
        Some(3),
        "the run kept its three steps"
    );
    assert_eq!(first.body["done"], 1);
    assert_eq!(
        first.body["finished_at"],
        Value::Null,
        "an unfinished run is visible as such"
    );
    let bad = step(9, json!({"outcome": "maybe"})).await;
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["outcome", "step"]);
    step(
        2,
        json!({"outcome": "skipped", "note": "consumers were up"}),
    )
    .await;
    let last = step(3, json!({"outcome": "done"})).await;
    assert!(last.body["finished_at"].is_string(), "{:?}", last.body);
    assert_eq!(last.body["steps"][1]["outcome"], "skipped");
    assert_eq!(last.body["steps"][0]["by"]["email"], "l2@desk.test");
    assert_eq!(last.body["steps"][0]["note"], "412 messages");

    let kinds = app.event_kinds(ticket).await;
    for kind in ["runbook.started", "runbook.step", "runbook.finished"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    // Customers see neither the runs nor their steps on the timeline.
    assert_eq!(
        app.get("acme", &format!("/api/v1/tickets/{ticket}/runbook-runs"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let public = app
        .get("acme", &format!("/api/v1/tickets/{ticket}/events"))
        .await;
    assert!(
        !public.body.to_string().contains("runbook"),
        "{}",
        public.body
    );
    assert_eq!(
        app.post(
            "auditor",
            &format!("/api/v1/tickets/{ticket}/runbook-runs"),
            json!({"runbook": id})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let unknown = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{ticket}/runbook-runs"),
            json!({"runbook": 999}),
        )
        .await;
    assert_eq!(unknown.error_fields(), vec!["runbook"]);
}

#[tokio::test]
async fn a_runbook_runs_inside_an_incident() {
    let app = spawn_app().await;
    let id = runbook(&app, "Gateway failover").await;
    let incident = app
        .post(
            "l2",
            "/api/v1/incidents",
            json!({"title": "Gateway failover needed", "severity": "sev2"}),
        )
        .await;
    assert_eq!(incident.status, StatusCode::CREATED, "{:?}", incident.body);
    let incident = incident.body["id"].as_i64().unwrap_or_default();
    let run = app
        .post(
            "l2",
            &format!("/api/v1/incidents/{incident}/runbook-runs"),
            json!({"runbook": id}),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{:?}", run.body);
    assert_eq!(run.body["incident"], incident);
    let listed = app
        .get("l1", &format!("/api/v1/incidents/{incident}/runbook-runs"))
        .await;
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    let events = app
        .get("l1", &format!("/api/v1/incidents/{incident}/events"))
        .await;
    assert!(
        events.body.to_string().contains("runbook.started"),
        "{}",
        events.body
    );
}

#[tokio::test]
async fn bad_runbooks_and_checks_are_refused_by_field() {
    let app = spawn_app().await;
    let r = app
        .post(
            "l1",
            "/api/v1/runbooks",
            json!({"title": "", "steps_text": "no heading", "service": "Nope"}),
        )
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["service", "steps_text", "title"]);
    let both = app
        .post(
            "l1",
            "/api/v1/runbooks",
            json!({"title": "T", "steps": [{"title": "a"}], "steps_text": "## a"}),
        )
        .await;
    assert_eq!(both.error_fields(), vec!["steps"]);
    assert_eq!(
        app.post(
            "acme",
            "/api/v1/runbooks",
            json!({"title": "T", "steps_text": "## a"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    runbook(&app, "Backup verification").await;
    let twice = app
        .post(
            "l1",
            "/api/v1/runbooks",
            json!({"title": "backup verification", "steps_text": "## a"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    let c = app
        .post("manager", "/api/v1/checks", json!({"name": "Nightly", "runbook": "Nope", "team": "Nope", "rrule": "FREQ=YEARLY", "start": "tomorrow", "zone": "Mars/Olympus", "window_minutes": 1}))
        .await;
    let mut fields = c.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "rrule",
            "runbook",
            "start",
            "team",
            "window_minutes",
            "zone"
        ]
    );
    let c = app
        .post("l1", "/api/v1/checks", json!({"name": "Nightly", "runbook": "Backup verification", "team": "Support L1", "rrule": "FREQ=DAILY", "start": "2026-01-01T02:00", "zone": "UTC"}))
        .await;
    assert_eq!(
        c.status,
        StatusCode::FORBIDDEN,
        "agents do not schedule checks"
    );
    assert_eq!(
        app.get("l1", "/api/v1/checks").await.body["items"],
        json!([]),
        "nothing was created"
    );
}

fn local(zone: &str, at: &str) -> Timestamp {
    at.parse::<DateTime>()
        .ok()
        .and_then(|d| d.to_zoned(TimeZone::get(zone).ok()?).ok())
        .map(|z| z.timestamp())
        .unwrap_or_else(|| panic!("{at}"))
}

#[tokio::test]
async fn a_check_opens_task_tickets_and_records_late_missed_and_done() {
    let app = spawn_app().await;
    // The test drives the scheduler with its own clock.
    app.stop_workers().await;
    runbook(&app, "Backup verification").await;
    let tomorrow = (Timestamp::now() + SignedDuration::from_hours(24))
        .to_zoned(TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC))
        .strftime("%Y-%m-%d")
        .to_string();
    let start = format!("{tomorrow}T09:00");
    let c = app
        .post("manager", "/api/v1/checks", json!({"name": "Daily backup check", "runbook": "Backup verification", "team": "Support L1", "rrule": "FREQ=DAILY", "start": start, "zone": "Europe/Berlin", "window_minutes": 60}))
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{:?}", c.body);
    let check = c.body["id"].as_i64().unwrap_or_default();
    assert_eq!(c.body["upcoming"].as_array().map(Vec::len), Some(5));
    assert!(
        c.body["upcoming"][0]
            .as_str()
            .unwrap_or_default()
            .contains("09:00"),
        "{:?}",
        c.body["upcoming"]
    );
    let first = local("Europe/Berlin", &start);
    assert_eq!(c.body["next_at"], first.to_string());

    let step = |now: Timestamp| {
        let store = app.store.clone();
        async move {
            opsdesk_server::workers::checks::step(&store, now)
                .await
                .unwrap_or_else(|e| panic!("{}", e.detail))
        }
    };
    assert_eq!(
        step(first - SignedDuration::from_secs(1)).await,
        0,
        "not yet"
    );
    assert_eq!(step(first + SignedDuration::from_secs(1)).await, 1);
    assert_eq!(
        step(first + SignedDuration::from_secs(2)).await,
        0,
        "an occurrence opens once"
    );
    let got = app.get("l1", &format!("/api/v1/checks/{check}")).await;
    let occurrence = &got.body["recent"][0];
    assert_eq!(occurrence["state"], "open");
    let ticket = occurrence["ticket"].as_i64().unwrap_or_default();
    let t = app.get("l1", &format!("/api/v1/tickets/{ticket}")).await;
    assert!(
        t.body["subject"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Daily backup check"),
        "{:?}",
        t.body
    );
    assert_eq!(t.body["team"], "Support L1");
    assert_eq!(t.body["tags"], json!(["scheduled-check"]));
    let runs = app
        .get("l1", &format!("/api/v1/tickets/{ticket}/runbook-runs"))
        .await;
    assert_eq!(
        runs.body["items"].as_array().map(Vec::len),
        Some(1),
        "the runbook runs on the task ticket"
    );

    // Past its window: late, with an event.
    step(first + SignedDuration::from_mins(61)).await;
    let got = app.get("l1", &format!("/api/v1/checks/{check}")).await;
    assert_eq!(got.body["recent"][0]["state"], "late");
    let told = app.get("manager", "/api/v1/notifications").await;
    assert!(
        told.body
            .to_string()
            .contains("Scheduled check Daily backup check is late"),
        "{}",
        told.body
    );
    // The next day comes with the first still unfinished: missed; the server was down for
    // the two days after: those are recorded missed too, and only the latest opens.
    let fourth = first + SignedDuration::from_hours(72);
    step(fourth + SignedDuration::from_secs(5)).await;
    let got = app.get("l1", &format!("/api/v1/checks/{check}")).await;
    let states: Vec<&str> = got.body["recent"]
        .as_array()
        .map(|a| a.iter().filter_map(|o| o["state"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(states, vec!["open", "missed", "missed", "missed"]);
    let kinds: Vec<String> = app
        .store
        .events_of("check", check, true)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.iter().any(|k| k == "check.late"), "{kinds:?}");
    assert_eq!(
        kinds.iter().filter(|k| *k == "check.missed").count(),
        3,
        "{kinds:?}"
    );
    assert_eq!(
        got.body["next_at"],
        (fourth + SignedDuration::from_hours(24)).to_string()
    );

    // Finishing the open one's run in time makes it done.
    let run = got.body["recent"][0]["run"].as_i64().unwrap_or_default();
    for n in 1..=3 {
        let r = app
            .post(
                "l1",
                &format!("/api/v1/runbook-runs/{run}/steps/{n}"),
                json!({}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    let got = app.get("l1", &format!("/api/v1/checks/{check}")).await;
    assert_eq!(got.body["recent"][0]["state"], "done");
    assert!(got.body["recent"][0]["finished_at"].is_string());
}
