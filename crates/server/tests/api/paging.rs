//! On-call and paging: schedules answer who is on call across DST, escalation policies page
//! level by level through real webhook receivers (signed JSON and Slack format), a scheduler
//! that was down resumes the escalation without losing or repeating a page (also with two
//! schedulers at once), and a signed link in the page acknowledges and stops paging.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use opsdesk_store::AlertInput;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// A receiver that records (path, signature header, body) of every POST.
async fn receiver() -> (
    String,
    tokio::sync::mpsc::UnboundedReceiver<(String, String, String)>,
) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/{who}",
        axum::routing::post(
            move |axum::extract::Path(who): axum::extract::Path<String>,
                  headers: axum::http::HeaderMap,
                  body: String| {
                let sig = headers
                    .get("x-opsdesk-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send((who, sig, body));
                async { "ok" }
            },
        ),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, rx)
}

/// A weekly rotation l1 → l2 whose current turn is l1's, a policy paging the schedule then l2,
/// and the `billing-db` service paging with it. Answers the Prometheus integration.
async fn desk(app: &TestApp, timeouts: [u32; 2], repeats: u32) -> opsdesk_store::Integration {
    let started = Timestamp::now() - SignedDuration::from_hours(24);
    let r = app
        .post(
            "manager",
            "/api/v1/schedules",
            json!({"name": "Primary", "layers": [{
                "starts_at": started.to_string(), "zone": "Europe/Berlin", "turn": "weekly",
                "participants": ["l1@desk.test", "l2@desk.test"]
            }]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["on_call_now"]["email"], "l1@desk.test");
    let r = app
        .post(
            "manager",
            "/api/v1/escalation-policies",
            json!({"name": "Ops", "repeats": repeats, "levels": [
                {"timeout_minutes": timeouts[0], "targets": ["schedule:Primary"]},
                {"timeout_minutes": timeouts[1], "targets": ["user:l2@desk.test"]}
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .post("manager", "/api/v1/services", json!({"name": "billing-db"}))
        .await;
    let service = r.body["id"].as_i64().unwrap();
    let r = app
        .call(
            "manager",
            reqwest::Method::PUT,
            &format!("/api/v1/services/{service}/escalation-policy"),
            Some(json!({"escalation_policy": "Ops"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let r = app
        .post(
            "admin",
            "/api/v1/integrations",
            json!({"name": "Prometheus", "kind": "alertmanager"}),
        )
        .await;
    app.store
        .integration(r.body["integration"]["id"].as_i64().unwrap())
        .await
        .unwrap()
}

fn disk_alert() -> AlertInput {
    let labels: BTreeMap<String, String> = [("alertname", "DiskFull"), ("service", "billing-db")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    AlertInput {
        fingerprint: opsdesk_domain::incident::fingerprint(&labels),
        firing: true,
        severity: opsdesk_domain::Severity::Sev1,
        summary: "Disk full on db-01".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        labels,
        annotations: BTreeMap::new(),
        source_url: None,
        starts_at: Timestamp::now(),
        ends_at: None,
        service: Some("billing-db".into()),
    }
}

async fn pages(app: &TestApp, incident: i64) -> Vec<(String, i64, i64)> {
    let r = app
        .get("l1", &format!("/api/v1/incidents/{incident}/pages"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["user"]["email"].as_str().unwrap().to_owned(),
                p["round"].as_i64().unwrap(),
                p["level"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_escalation_missed_while_down_resumes_once_with_two_schedulers() {
    let app = spawn_app().await;
    let (hooks, mut received) = receiver().await;
    for (who, kind) in [("l1", "webhook"), ("l2", "slack")] {
        let r = app
            .post(
                who,
                "/api/v1/me/contact-methods",
                json!({"kind": kind, "address": format!("{hooks}/{who}")}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let integration = desk(&app, [1, 1], 1).await;
    // The scheduler is down when the incident opens ten minutes ago: every level is overdue.
    app.stop_workers().await;
    let opened = app
        .store
        .ingest_alerts(
            &integration,
            vec![disk_alert()],
            Timestamp::now() - SignedDuration::from_mins(10),
        )
        .await
        .unwrap();
    let incident = opened.opened[0];
    assert!(pages(&app, incident).await.is_empty());
    // A restarted server and a second node start together.
    app.start_workers().await;
    app.start_workers().await;
    let mut deliveries = Vec::new();
    while deliveries.len() < 4 {
        match tokio::time::timeout(Duration::from_secs(10), received.recv()).await {
            Ok(Some(d)) => deliveries.push(d),
            _ => break,
        }
    }
    assert_eq!(deliveries.len(), 4, "{deliveries:?}");
    // Nothing more arrives: each page went once.
    assert!(
        tokio::time::timeout(Duration::from_millis(1500), received.recv())
            .await
            .is_err()
    );
    assert_eq!(
        pages(&app, incident).await,
        vec![
            ("l1@desk.test".to_owned(), 1, 1),
            ("l2@desk.test".to_owned(), 1, 2),
            ("l1@desk.test".to_owned(), 2, 1),
            ("l2@desk.test".to_owned(), 2, 2),
        ]
    );
    // l1's webhook is signed JSON with answer links; l2's is Slack's format.
    let secret = opsdesk_server::paging::secret(&app.store).await.unwrap();
    let (_, sig, body) = deliveries.iter().find(|d| d.0 == "l1").unwrap();
    assert_eq!(
        sig,
        &opsdesk_server::paging::body_signature(&secret, body.as_bytes())
    );
    let page: Value = serde_json::from_str(body).unwrap();
    assert_eq!(page["incident_id"], incident);
    assert!(page["acknowledge_url"]
        .as_str()
        .unwrap()
        .starts_with(&app.base));
    let (_, slack_sig, slack) = deliveries.iter().find(|d| d.0 == "l2").unwrap();
    assert!(slack_sig.is_empty());
    let slack: Value = serde_json::from_str(slack).unwrap();
    assert!(slack["text"].as_str().unwrap().contains("|acknowledge>"));
    let state = app.store.paging_state(incident).await.unwrap().unwrap();
    assert_eq!(state.next_at, None);
    assert_eq!(state.stop_reason.as_deref(), Some("every level was paged"));
}

#[tokio::test]
async fn a_signed_link_in_the_page_acknowledges_and_stops_paging() {
    let app = spawn_app().await;
    let (hooks, mut received) = receiver().await;
    app.post(
        "l1",
        "/api/v1/me/contact-methods",
        json!({"kind": "webhook", "address": format!("{hooks}/l1")}),
    )
    .await;
    // Level 2 only after an hour: the first page is the only one before the answer.
    let integration = desk(&app, [60, 60], 0).await;
    let opened = app
        .store
        .ingest_alerts(&integration, vec![disk_alert()], Timestamp::now())
        .await
        .unwrap();
    let incident = opened.opened[0];
    let (_, _, body) = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .unwrap()
        .unwrap();
    let page: Value = serde_json::from_str(&body).unwrap();
    let ack = page["acknowledge_url"].as_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    // A tampered link is refused and changes nothing.
    let forged = format!("{}0", ack);
    let r = client.get(&forged).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Opening the link only shows the question; the POST answers.
    let r = client.get(&ack).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("Acknowledge this page?"));
    let inc = app
        .get("l1", &format!("/api/v1/incidents/{incident}"))
        .await;
    assert_eq!(inc.body["status"], "triggered");
    let query: Vec<(String, String)> = reqwest::Url::parse(&ack)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let r = client
        .post(format!("{}/pages/{}", app.base, page["page_id"]))
        .form(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let inc = app
        .get("l1", &format!("/api/v1/incidents/{incident}"))
        .await;
    assert_eq!(inc.body["status"], "acknowledged");
    let events = app
        .get("l1", &format!("/api/v1/incidents/{incident}/events"))
        .await;
    let ack_event = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "incident.status")
        .unwrap()
        .clone();
    assert_eq!(
        ack_event["actor"]["email"], "l1@desk.test",
        "answered as the paged person"
    );
    let state = app.store.paging_state(incident).await.unwrap().unwrap();
    assert_eq!(state.next_at, None);
    assert_eq!(state.stop_reason.as_deref(), Some("acknowledged"));
    let listed = app
        .get("l1", &format!("/api/v1/incidents/{incident}/pages"))
        .await;
    assert_eq!(listed.body["items"][0]["answer"], "acknowledge");
}

#[tokio::test]
async fn schedules_policies_and_contacts_refuse_bad_input() {
    let app = spawn_app().await;
    let r = app
        .post(
            "manager",
            "/api/v1/schedules",
            json!({"name": "Bad", "layers": [{
                "starts_at": "soon", "zone": "Mars/Base", "turn": "fortnightly",
                "participants": ["nobody@desk.test", "carol@acme.test"], "hours": "9-5"
            }]}),
        )
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    fields.dedup();
    assert_eq!(
        fields,
        vec![
            "layers[0].hours",
            "layers[0].participants",
            "layers[0].turn",
            "layers[0].zone"
        ],
        "{:?}",
        r.body
    );
    let r = app
        .post(
            "l1",
            "/api/v1/schedules",
            json!({"name": "Mine", "layers": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            "manager",
            "/api/v1/escalation-policies",
            json!({"name": "P", "levels": [{"timeout_minutes": 0, "targets": ["schedule:Nope", "pager:x"]}], "repeats": 12}),
        )
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    fields.dedup();
    assert_eq!(
        fields,
        vec!["levels[0].targets", "levels[0].timeout_minutes", "repeats"],
        "{:?}",
        r.body
    );
    let r = app
        .post(
            "l1",
            "/api/v1/me/contact-methods",
            json!({"kind": "sms", "address": "not a url"}),
        )
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["address", "kind"]);
    let r = app
        .post(
            "acme",
            "/api/v1/me/contact-methods",
            json!({"kind": "webhook", "address": "https://x.test/h"}),
        )
        .await;
    assert_eq!(r.error_fields(), vec!["user"]);
}

#[tokio::test]
async fn who_is_on_call_follows_overrides_and_dst() {
    let app = spawn_app().await;
    // Daily turns handing off at 09:00 Berlin, from before the 2026 spring change.
    let r = app
        .post(
            "manager",
            "/api/v1/schedules",
            json!({"name": "Days", "layers": [{
                "starts_at": "2026-03-27T09:00", "zone": "Europe/Berlin", "turn": "daily",
                "participants": ["l1@desk.test", "l2@desk.test"]
            }]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .get(
            "l3",
            &format!("/api/v1/schedules/{id}?from=2026-03-28T00:00:00Z&to=2026-03-31T00:00:00Z"),
        )
        .await;
    let starts: Vec<&str> = r.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["starts_at"].as_str().unwrap())
        .collect();
    // 09:00 Berlin is 08:00 UTC before 29 March and 07:00 UTC after.
    assert_eq!(
        starts,
        vec![
            "2026-03-28T00:00:00Z",
            "2026-03-28T08:00:00Z",
            "2026-03-29T07:00:00Z",
            "2026-03-30T07:00:00Z"
        ]
    );
    // An override puts l3 on call for two hours of that day.
    let r = app
        .post(
            "l3",
            &format!("/api/v1/schedules/{id}/overrides"),
            json!({"user": "me", "starts_at": "2026-03-29T10:00:00Z", "ends_at": "2026-03-29T12:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app
        .get(
            "l1",
            &format!("/api/v1/schedules/{id}?from=2026-03-29T07:00:00Z&to=2026-03-29T13:00:00Z"),
        )
        .await;
    let who: Vec<&str> = r.body["shifts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user"]["email"].as_str().unwrap())
        .collect();
    // 29 March is the third day: l1's turn again.
    assert_eq!(who, vec!["l1@desk.test", "l3@desk.test", "l1@desk.test"]);
    let r = app
        .post(
            "l3",
            &format!("/api/v1/schedules/{id}/overrides"),
            json!({"user": "carol@acme.test", "starts_at": "2026-03-29T10:00:00Z", "ends_at": "2026-03-29T09:00:00Z"}),
        )
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["ends_at", "user"]);
}

#[tokio::test]
async fn an_unacknowledged_incident_that_flaps_pages_again() {
    let app = spawn_app().await;
    let integration = desk(&app, [60, 60], 0).await;
    let firing = disk_alert();
    let opened = app
        .store
        .ingest_alerts(&integration, vec![firing.clone()], Timestamp::now())
        .await
        .unwrap();
    let incident = opened.opened[0];
    let wait_for_pages = |n: usize| {
        let app = &app;
        async move {
            for _ in 0..100 {
                if pages(app, incident).await.len() >= n {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            pages(app, incident).await
        }
    };
    assert_eq!(wait_for_pages(1).await.len(), 1);
    // Nobody acknowledges; the alert resolves (monitoring, paging stops), then fires again.
    let mut resolved = firing.clone();
    resolved.firing = false;
    resolved.ends_at = Some(Timestamp::now());
    app.store
        .ingest_alerts(&integration, vec![resolved], Timestamp::now())
        .await
        .unwrap();
    let inc = app
        .get("l1", &format!("/api/v1/incidents/{incident}"))
        .await;
    assert_eq!(inc.body["status"], "monitoring");
    assert!(
        inc.body["acknowledged_at"].is_null(),
        "going quiet is not an acknowledgement"
    );
    let mut again = firing;
    again.starts_at = Timestamp::now() + SignedDuration::from_secs(1);
    app.store
        .ingest_alerts(
            &integration,
            vec![again],
            Timestamp::now() + SignedDuration::from_secs(1),
        )
        .await
        .unwrap();
    let inc = app
        .get("l1", &format!("/api/v1/incidents/{incident}"))
        .await;
    assert_eq!(inc.body["status"], "triggered");
    let sent = wait_for_pages(2).await;
    assert_eq!(sent.len(), 2, "the reopened incident pages again: {sent:?}");
    let listed = app
        .get("l1", &format!("/api/v1/incidents/{incident}/pages"))
        .await;
    assert_eq!(listed.body["items"][1]["run"], 2);
}

#[tokio::test]
async fn deliveries_never_reach_internal_addresses_unless_allowed() {
    let app = spawn_app().await;
    let (hooks, mut received) = receiver().await;
    app.post(
        "l1",
        "/api/v1/me/contact-methods",
        json!({"kind": "webhook", "address": format!("{hooks}/l1")}),
    )
    .await;
    let integration = desk(&app, [60, 60], 0).await;
    // A server as started by default: private webhooks not allowed.
    app.stop_workers().await;
    let guarded =
        opsdesk_server::workers::Workers::start(app.store.clone(), app.base.clone(), false);
    app.store
        .ingest_alerts(&integration, vec![disk_alert()], Timestamp::now())
        .await
        .unwrap();
    let mut refused = None;
    for _ in 0..100 {
        let items = app.store.outbox_recent(10).await.unwrap();
        if let Some(item) = items
            .iter()
            .find(|i| i.kind == "page_webhook" && i.last_error.is_some())
        {
            refused = item.last_error.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    guarded.stop().await;
    let refused = refused.expect("the page delivery was attempted and refused");
    assert!(refused.contains("internal address"), "{refused}");
    assert!(
        received.try_recv().is_err(),
        "nothing reached the loopback receiver"
    );
}
