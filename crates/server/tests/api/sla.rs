//! SLA: calendars, policies, clocks on tickets, the scheduler firing breaches and escalation
//! levels exactly once (also across a restart), background recomputation, webhooks.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

fn office_calendar(name: &str) -> Value {
    json!({
        "name": name, "zone": "Europe/Berlin",
        "hours": {"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00", "thu": "09:00-17:00", "fri": "09:00-12:00, 13:00-17:00"},
        "holidays": [{"date": "12-25", "name": "Christmas Day"}, {"date": "2026-12-24", "name": "Christmas Eve"}]
    })
}

/// A policy on every ticket with round-the-clock targets (the default calendar is 24/7).
async fn standard_policy(app: &TestApp, levels: Value) -> Value {
    let reply = app
        .post(
            "manager",
            "/api/v1/sla/policies",
            json!({
                "name": "Standard",
                "targets": {
                    "first_response": {"minutes": 60},
                    "next_response": {"minutes": 120},
                    "resolution": {"minutes": 480}
                },
                "levels": levels
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply.body
}

fn clock<'a>(ticket: &'a Value, metric: &str) -> &'a Value {
    ticket["sla"]["clocks"]
        .as_array()
        .and_then(|c| c.iter().rev().find(|c| c["metric"] == metric))
        .unwrap_or_else(|| panic!("no {metric} clock in {ticket}"))
}

fn instant(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

/// Waits (up to `seconds`) until the ticket's timeline has `count` events of `kind`.
async fn wait_for_events(
    app: &TestApp,
    ticket: i64,
    kind: &str,
    count: usize,
    seconds: u64,
) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let found = app
            .event_kinds(ticket)
            .await
            .iter()
            .filter(|k| *k == kind)
            .count();
        if found >= count || std::time::Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn calendars_are_checked_field_by_field_and_managed_by_managers() {
    let app = spawn_app().await;
    let before = app.get("manager", "/api/v1/calendars").await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, 1, "a default calendar exists");
    let bad = app
        .post(
            "manager",
            "/api/v1/calendars",
            json!({"name": " ", "zone": "Mars/Olympus", "hours": {"mon": "17:00-09:00", "tue": "9-5"},
                   "holidays": [{"date": "12-32", "name": "x"}]}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.error_fields(),
        ["name", "zone", "hours.mon", "hours.tue", "holidays.date"]
    );
    let after_bad = app.get("manager", "/api/v1/calendars").await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(after_bad, before, "a refused calendar changes nothing");

    let agent = app
        .post("l1", "/api/v1/calendars", office_calendar("Berlin office"))
        .await;
    assert_eq!(agent.status, StatusCode::FORBIDDEN);
    let customer = app
        .post(
            "acme",
            "/api/v1/calendars",
            office_calendar("Berlin office"),
        )
        .await;
    assert_eq!(customer.status, StatusCode::FORBIDDEN);

    let created = app
        .post(
            "manager",
            "/api/v1/calendars",
            office_calendar("Berlin office"),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["hours"]["fri"], "09:00-12:00, 13:00-17:00");
    assert_eq!(created.body["hours"]["sat"], "");
    assert_eq!(created.body["holidays"].as_array().unwrap().len(), 2);
    let id = created.body["id"].as_i64().unwrap();
    let twice = app
        .post(
            "manager",
            "/api/v1/calendars",
            office_calendar("berlin OFFICE"),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{:?}", twice.body);

    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261003\r\nSUMMARY:German Unity Day\r\nEND:VEVENT\r\n\
               BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:Christmas\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let imported = app
        .post(
            "admin",
            &format!("/api/v1/calendars/{id}/holidays/import"),
            json!({"ics": ics}),
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{:?}", imported.body);
    assert_eq!(imported.body["added"], 1, "Christmas was already there");
    let broken = app
        .post(
            "admin",
            &format!("/api/v1/calendars/{id}/holidays/import"),
            json!({"ics": "nonsense"}),
        )
        .await;
    assert_eq!(broken.error_fields(), ["ics"]);

    let mut edited = office_calendar("Berlin office");
    edited["zone"] = json!("America/New_York");
    edited["default"] = json!(true);
    let put = app
        .call(
            "manager",
            reqwest::Method::PUT,
            &format!("/api/v1/calendars/{id}"),
            Some(edited),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    assert_eq!(put.body["zone"], "America/New_York");
    assert_eq!(put.body["default"], true);
    let all = app.get("l1", "/api/v1/calendars").await;
    let defaults = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["default"] == true)
        .count();
    assert_eq!(defaults, 1, "exactly one default calendar");

    let default_gone = app
        .call(
            "manager",
            reqwest::Method::DELETE,
            &format!("/api/v1/calendars/{id}"),
            None,
        )
        .await;
    assert_eq!(
        default_gone.error_fields(),
        ["calendar"],
        "the default calendar stays"
    );
    let spare = app
        .post("manager", "/api/v1/calendars", office_calendar("Spare"))
        .await;
    let spare_id = spare.body["id"].as_i64().unwrap();
    let team = app.store.team_by_name("Intake").await.unwrap().unwrap();
    let assigned = app
        .patch(
            "manager",
            &format!("/api/v1/teams/{}", team.id),
            json!({"calendar": "Spare"}),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);
    assert_eq!(assigned.body["calendar_id"], spare_id);
    let in_use = app
        .call(
            "manager",
            reqwest::Method::DELETE,
            &format!("/api/v1/calendars/{spare_id}"),
            None,
        )
        .await;
    assert_eq!(in_use.error_fields(), ["calendar"]);
    assert!(in_use.body["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("used by 1 teams"));
    app.patch(
        "manager",
        &format!("/api/v1/teams/{}", team.id),
        json!({"calendar": null}),
    )
    .await;
    let gone = app
        .call(
            "manager",
            reqwest::Method::DELETE,
            &format!("/api/v1/calendars/{spare_id}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("manager", &format!("/api/v1/calendars/{spare_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn policies_are_validated_ordered_and_selected_by_conditions() {
    let app = spawn_app().await;
    let bad = app
        .post(
            "manager",
            "/api/v1/sla/policies",
            json!({
                "name": "Broken",
                "conditions": {"priorities": ["p0"], "teams": ["Nowhere"], "channels": ["fax"]},
                "targets": {"first_response": {"minutes": 0}, "resolution": {"minutes": 60, "pauses": ["lunch"]}},
                "levels": [{"at": "soon", "actions": [{"kind": "notify_assignee"}]},
                           {"at": "75%", "actions": [{"kind": "explode"}]}]
            }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.error_fields(),
        [
            "conditions.priorities",
            "conditions.channels",
            "conditions.teams",
            "targets.first_response",
            "targets.resolution",
            "levels.at",
            "levels.actions"
        ]
    );
    let none = app.get("manager", "/api/v1/sla/policies").await;
    assert_eq!(
        none.body["items"].as_array().unwrap().len(),
        0,
        "nothing stored"
    );
    let agent = app
        .post(
            "l2",
            "/api/v1/sla/policies",
            json!({"name": "x", "targets": {"resolution": {"minutes": 5}}}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::FORBIDDEN);

    standard_policy(&app, json!([])).await;
    let urgent = app
        .post(
            "admin",
            "/api/v1/sla/policies",
            json!({"name": "Urgent", "position": 1, "conditions": {"priorities": ["urgent"]},
                   "targets": {"resolution": {"minutes": 30, "business": false}}}),
        )
        .await;
    assert_eq!(urgent.status, StatusCode::CREATED, "{:?}", urgent.body);
    let list = app.get("auditor", "/api/v1/sla/policies").await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Urgent", "Standard"]);

    let id = app.ticket("acme", "printer on fire").await;
    let ticket = app.get("l0", &format!("/api/v1/tickets/{id}")).await.body;
    assert_eq!(ticket["sla"]["policy"]["name"], "Standard");
    let patched = app
        .patch(
            "l0",
            &format!("/api/v1/tickets/{id}"),
            json!({"priority": "urgent"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    let ticket = app.get("l0", &format!("/api/v1/tickets/{id}")).await.body;
    assert_eq!(
        ticket["sla"]["policy"]["name"], "Urgent",
        "a priority change re-selects the policy"
    );
    let resolution = clock(&ticket, "resolution");
    assert_eq!(resolution["target_minutes"], 30);
    let created = instant(&ticket["created_at"]);
    let due = instant(&resolution["due_at"]);
    assert_eq!(
        due.duration_since(created),
        SignedDuration::from_mins(30),
        "recomputed from creation"
    );
    assert_eq!(instant(&ticket["sla_due_at"]), due);
}

#[tokio::test]
async fn clocks_pause_while_waiting_on_the_customer_and_are_staff_only() {
    let app = spawn_app().await;
    standard_policy(&app, json!([])).await;
    let id = app.ticket("acme", "cannot log in").await;
    let path = format!("/api/v1/tickets/{id}");
    let ticket = app.get("l0", &path).await.body;
    assert_eq!(ticket["sla"]["calendar_source"], "default");
    let first = clock(&ticket, "first_response");
    assert_eq!(first["state"], "running");
    assert_eq!(
        instant(&first["due_at"]).duration_since(instant(&ticket["created_at"])),
        SignedDuration::from_mins(60)
    );
    assert!(first["explanation"]
        .as_str()
        .unwrap()
        .starts_with("First response: target 1h business time"));

    let customer_view = app.get("acme", &path).await.body;
    assert!(
        customer_view.get("sla").is_none(),
        "customers do not see SLA clocks"
    );
    assert!(!ticket["sla_due_at"].is_null());
    assert!(customer_view["sla_due_at"].is_null(), "nor the due instant");
    let listed = app.get("acme", "/api/v1/tickets").await;
    assert!(listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["sla_due_at"].is_null()));
    assert_eq!(
        app.get("acme", &format!("{path}/sla")).await.status,
        StatusCode::FORBIDDEN
    );

    let reply = app
        .post(
            "l0",
            &format!("{path}/messages"),
            json!({"body": "Looking into it."}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let wait = app
        .patch(
            "l0",
            &path,
            json!({"status": "pending", "pending_reason": "customer"}),
        )
        .await;
    assert_eq!(wait.status, StatusCode::OK, "{:?}", wait.body);
    assert_eq!(wait.body["pending_reason"], "customer");
    let ticket = app.get("l0", &path).await.body;
    assert_eq!(clock(&ticket, "first_response")["state"], "met");
    let resolution = clock(&ticket, "resolution");
    assert_eq!(resolution["state"], "paused");
    assert!(
        resolution["due_at"].is_null(),
        "no due instant while paused"
    );
    assert!(
        ticket["sla_due_at"].is_null(),
        "nothing runs, nothing is due"
    );

    let bad = app
        .patch(
            "l0",
            &path,
            json!({"status": "open", "pending_reason": "vendor"}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["pending_reason"]);
    let bad = app
        .patch("l0", &path, json!({"pending_reason": "moon"}))
        .await;
    assert_eq!(bad.error_fields(), ["pending_reason"]);

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = app
        .post(
            "acme",
            &format!("{path}/messages"),
            json!({"body": "Here is the screenshot."}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    let ticket = app.get("l0", &path).await.body;
    assert_eq!(ticket["status"], "open");
    let resolution = clock(&ticket, "resolution");
    assert_eq!(resolution["state"], "running");
    assert!(resolution["paused_seconds"].as_i64().unwrap() >= 1);
    let counted = resolution["elapsed_seconds"].as_i64().unwrap();
    let wall = Timestamp::now()
        .duration_since(instant(&ticket["created_at"]))
        .as_secs();
    assert!(
        counted < wall,
        "the pause is not counted: {counted}s of {wall}s"
    );
    let explanation = resolution["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("while waiting on customer"),
        "{explanation}"
    );
    let next = clock(&ticket, "next_response");
    assert_eq!(
        next["state"], "running",
        "a customer reply starts the next-response clock"
    );
}

#[tokio::test]
async fn breaches_and_levels_fire_once_even_across_restarts_and_two_schedulers() {
    let app = spawn_app().await;
    // A real receiver for the webhook level.
    let (hits_tx, mut hits) = tokio::sync::mpsc::unbounded_channel::<(String, Value)>();
    let receiver = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", receiver.local_addr().unwrap());
    let hook_app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::Json<Value>| {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|k| k.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let _ = hits_tx.send((key, body.0));
                async { "ok" }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(receiver, hook_app).await });

    standard_policy(
        &app,
        json!([
            {"at": "50%", "metric": "first_response", "actions": [{"kind": "notify_team"}, {"kind": "add_tag", "target": "sla-warning"}]},
            {"at": "100%", "metric": "first_response", "actions": [{"kind": "raise_priority"}, {"kind": "webhook", "target": hook}]}
        ]),
    )
    .await;

    // The scheduler is down while the ticket's first-response target passes.
    app.stop_workers().await;
    // Stored instants have microsecond precision.
    let raised = Timestamp::from_microsecond(
        (Timestamp::now() - SignedDuration::from_secs(59 * 60 + 58)).as_microsecond(),
    )
    .unwrap();
    let id = app
        .ticket_raised_at("acme", "nightly export failed", raised)
        .await;
    let due = raised + SignedDuration::from_mins(60);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        app.event_kinds(id)
            .await
            .iter()
            .filter(|k| *k == "sla.breached")
            .count(),
        0
    );

    // A restarted node and a second node start together; each trigger fires exactly once.
    app.start_workers().await;
    app.start_workers().await;
    assert_eq!(wait_for_events(&app, id, "sla.breached", 1, 5).await, 1);
    assert_eq!(wait_for_events(&app, id, "sla.escalated", 2, 5).await, 2);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.stop_workers().await;
    app.start_workers().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let kinds = app.event_kinds(id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "sla.breached").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "sla.escalated").count(),
        2,
        "{kinds:?}"
    );

    let events = app.store.events_of("ticket", id, true).await.unwrap();
    let breach = events.iter().find(|e| e.kind == "sla.breached").unwrap();
    assert_eq!(breach.data["metric"], "first_response");
    assert_eq!(
        instant(&breach.data["at"]),
        due,
        "the breach is recorded at its due instant"
    );
    assert!(breach.at >= due, "never before it is due");

    let ticket = app.get("l0", &format!("/api/v1/tickets/{id}")).await.body;
    assert_eq!(
        ticket["priority"], "high",
        "level 2 raised the priority one step"
    );
    assert!(ticket["tags"]
        .as_array()
        .unwrap()
        .contains(&json!("sla-warning")));
    assert_eq!(clock(&ticket, "first_response")["state"], "breached");

    // Level 1 told the Intake team (the L0 agent) in the app.
    let notes = app.get("l0", "/api/v1/notifications").await;
    let texts: Vec<&str> = notes.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].contains("reached SLA level 1 (50%)"), "{texts:?}");
    assert!(app.get("l1", "/api/v1/notifications").await.body["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // Level 2's webhook arrived once, with its idempotency key.
    let (key, body) = tokio::time::timeout(Duration::from_secs(5), hits.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(key.starts_with("opsdesk-outbox-"), "{key}");
    assert_eq!(body["event"], "sla.escalated");
    assert_eq!(body["ticket"]["id"], id);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(hits.try_recv().is_err(), "delivered once");
    let outbox = app.store.outbox_recent(10).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert!(outbox[0].delivered_at.is_some());
}

#[tokio::test]
async fn editing_a_policy_recomputes_open_tickets_in_the_background_and_at_risk_follows() {
    let app = spawn_app().await;
    let policy = standard_policy(
        &app,
        json!([{"at": "100%", "actions": [{"kind": "notify_assignee"}]}]),
    )
    .await;
    let policy_id = policy["id"].as_i64().unwrap();
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(app.ticket("acme", &format!("slow page {n}")).await);
    }
    let at_risk = app.get("manager", "/api/v1/sla/at-risk?within=90").await;
    assert_eq!(at_risk.status, StatusCode::OK, "{:?}", at_risk.body);
    let listed: Vec<i64> = at_risk.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["ticket_id"].as_i64().unwrap())
        .collect();
    for id in &ids {
        assert!(
            listed.contains(id),
            "first response fires within the hour: {listed:?}"
        );
    }
    let soon = app.get("manager", "/api/v1/sla/at-risk?within=10").await;
    assert!(
        soon.body["items"].as_array().unwrap().is_empty(),
        "{:?}",
        soon.body
    );
    assert_eq!(
        app.get("acme", "/api/v1/sla/at-risk").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("manager", "/api/v1/sla/at-risk?within=-5")
            .await
            .error_fields(),
        ["within"]
    );

    let put = app
        .call(
            "manager",
            reqwest::Method::PUT,
            &format!("/api/v1/sla/policies/{policy_id}"),
            Some(json!({"name": "Standard", "targets": {"first_response": {"minutes": 5}, "resolution": {"minutes": 480}}})),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let job = loop {
        let jobs = app.get("manager", "/api/v1/sla/jobs").await.body;
        let newest = jobs["items"][0].clone();
        if !newest["finished_at"].is_null() || std::time::Instant::now() > deadline {
            break newest;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        job["reason"]
            .as_str()
            .unwrap()
            .contains("policy 'Standard' changed"),
        "{job}"
    );
    assert_eq!(job["done"], 5, "{job}");
    assert!(!job["finished_at"].is_null(), "{job}");
    for id in &ids {
        let ticket = app.get("l0", &format!("/api/v1/tickets/{id}")).await.body;
        let first = clock(&ticket, "first_response");
        assert_eq!(first["target_minutes"], 5);
        assert_eq!(
            instant(&ticket["sla_due_at"]),
            instant(&first["due_at"]),
            "the queue's due instant was recomputed"
        );
    }
    let soon = app.get("manager", "/api/v1/sla/at-risk?within=10").await;
    assert_eq!(
        soon.body["items"].as_array().unwrap().len(),
        5,
        "{:?}",
        soon.body
    );

    let deleted = app
        .call(
            "manager",
            reqwest::Method::DELETE,
            &format!("/api/v1/sla/policies/{policy_id}"),
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ticket = app
            .get("l0", &format!("/api/v1/tickets/{}", ids[0]))
            .await
            .body;
        if ticket["sla_due_at"].is_null() {
            assert!(ticket["sla"]["clocks"].as_array().unwrap().is_empty());
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "clocks were not cleared: {ticket}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn vendor_clocks_run_while_a_ticket_waits_on_the_vendor_and_breaches_count_per_vendor() {
    let app = spawn_app().await;
    standard_policy(&app, json!([])).await;
    let bad = app
        .post(
            "manager",
            "/api/v1/vendors",
            json!({"name": " ", "calendar": "Nowhere", "response_minutes": 0}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), ["name", "response_minutes", "calendar"]);
    let agent = app
        .post(
            "l1",
            "/api/v1/vendors",
            json!({"name": "Carrier Co", "response_minutes": 30}),
        )
        .await;
    assert_eq!(agent.status, StatusCode::FORBIDDEN);
    let created = app
        .post(
            "manager",
            "/api/v1/vendors",
            json!({"name": "Carrier Co", "contacts": "support@carrier.example", "response_minutes": 30, "resolution_minutes": 240}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let vendor_id = created.body["id"].as_i64().unwrap();

    // Handed to the vendor 40 minutes ago: its 30-minute response target has passed.
    let raised = Timestamp::now() - SignedDuration::from_mins(50);
    let id = app
        .ticket_raised_at("acme", "carrier label API rejects token", raised)
        .await;
    let l1 = app
        .store
        .user_by_email("l1@desk.test")
        .await
        .unwrap()
        .unwrap();
    let handed = Timestamp::now() - SignedDuration::from_mins(40);
    let changes = opsdesk_store::TicketChanges {
        status: Some(opsdesk_domain::Status::Pending),
        pending_reason: Some(opsdesk_domain::PendingReason::Vendor),
        vendor: Some(Some(vendor_id)),
        vendor_ref: Some(Some("CASE-4711".into())),
        ..Default::default()
    };
    app.store
        .update_ticket(id, &changes, l1.id, handed)
        .await
        .unwrap();
    assert_eq!(
        wait_for_events(&app, id, "sla.vendor_breached", 1, 5).await,
        1
    );

    let path = format!("/api/v1/tickets/{id}");
    let ticket = app.get("l1", &path).await.body;
    assert_eq!(ticket["vendor"], "Carrier Co");
    assert_eq!(ticket["vendor_ref"], "CASE-4711");
    let customer_view = app.get("acme", &path).await.body;
    assert!(
        customer_view["vendor"].is_null() && customer_view["vendor_ref"].is_null(),
        "the vendor is the desk's business"
    );
    assert_eq!(customer_view["pending_reason"], "vendor");
    assert_eq!(clock(&ticket, "vendor_response")["state"], "breached");
    assert_eq!(clock(&ticket, "vendor_resolution")["state"], "running");
    assert_eq!(
        clock(&ticket, "resolution")["state"],
        "paused",
        "the desk's own clock waits"
    );
    assert!(clock(&ticket, "vendor_response")["explanation"]
        .as_str()
        .unwrap()
        .contains("(Carrier Co)"));

    let answered = app
        .patch("l1", &path, json!({"vendor_responded": true}))
        .await;
    assert_eq!(answered.status, StatusCode::OK, "{:?}", answered.body);
    let ticket = app.get("l1", &path).await.body;
    let response = clock(&ticket, "vendor_response");
    assert!(
        !response["stopped_at"].is_null(),
        "the response clock stopped"
    );
    assert_eq!(response["state"], "breached");
    let back = app.patch("l1", &path, json!({"status": "open"})).await;
    assert_eq!(back.status, StatusCode::OK);
    let ticket = app.get("l1", &path).await.body;
    assert_eq!(
        clock(&ticket, "vendor_resolution")["state"],
        "met",
        "leaving the vendor stops its clock"
    );
    let refused = app
        .patch("l1", &path, json!({"vendor_responded": true}))
        .await;
    assert_eq!(refused.error_fields(), ["vendor_responded"]);
    let unknown = app
        .patch("l1", &path, json!({"vendor": "Nobody Inc"}))
        .await;
    assert_eq!(unknown.error_fields(), ["vendor"]);

    let vendors = app.get("manager", "/api/v1/vendors").await;
    let carrier = &vendors.body["items"][0];
    assert_eq!(carrier["name"], "Carrier Co");
    assert_eq!(carrier["response_breached"], 1);
    assert_eq!(carrier["response_met"], 0);
    assert_eq!(carrier["resolution_met"], 1);
    assert_eq!(carrier["running"], 0);
    assert_eq!(
        app.get("acme", "/api/v1/vendors").await.status,
        StatusCode::FORBIDDEN
    );
    let kept = app
        .call(
            "manager",
            reqwest::Method::DELETE,
            &format!("/api/v1/vendors/{vendor_id}"),
            None,
        )
        .await;
    assert_eq!(
        kept.error_fields(),
        ["vendor"],
        "history keeps a vendor tickets were handed to"
    );
    let spare = app
        .post(
            "manager",
            "/api/v1/vendors",
            json!({"name": "Spare Parts Ltd", "resolution_minutes": 600}),
        )
        .await;
    let spare_id = spare.body["id"].as_i64().unwrap();
    let gone = app
        .call(
            "manager",
            reqwest::Method::DELETE,
            &format!("/api/v1/vendors/{spare_id}"),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
}
