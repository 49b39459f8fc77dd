//! Incidents from alerts: the four inbound formats (golden payloads), dedup, grouping, the
//! resolve flow with quiet-period auto-resolution, flaps, maintenance suppression, refusals
//! that store nothing, rate limits, and incidents worked by hand.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Reply, TestApp};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/alerts/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Creates services `billing-db` and `web`, and an integration; answers its endpoint path.
async fn integration(app: &TestApp, kind: &str, settings: Value) -> String {
    for name in ["billing-db", "web"] {
        if app.get("admin", "/api/v1/services").await.body["items"]
            .as_array()
            .is_some_and(|s| s.iter().any(|x| x["name"] == name))
        {
            continue;
        }
        let r = app
            .post(
                "manager",
                "/api/v1/services",
                json!({"name": name, "description": "test", "team": "Experts L2"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let r = app
        .post(
            "admin",
            "/api/v1/integrations",
            json!({"name": format!("{kind} {}", fastrand::u32(..)), "kind": kind, "settings": settings}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["token"].as_str().map(str::len), Some(64));
    r.body["path"].as_str().unwrap().to_owned()
}

async fn send(app: &TestApp, path: &str, body: Vec<u8>) -> Reply {
    app.call_raw("nobody", Method::POST, path, "application/json", body)
        .await
}

async fn incidents(app: &TestApp, status: &str) -> Vec<Value> {
    let r = app
        .get(
            "l1",
            &format!("/api/v1/incidents?status={status}&limit=200"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"].as_array().cloned().unwrap_or_default()
}

async fn incident(app: &TestApp, id: i64) -> Value {
    let r = app.get("l1", &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

async fn timeline(app: &TestApp, id: i64) -> Vec<String> {
    let r = app
        .get("l1", &format!("/api/v1/incidents/{id}/events"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn alertmanager_payloads_open_dedup_and_resolve_an_incident() {
    let app = spawn_app().await;
    let path = integration(&app, "alertmanager", json!({"quiet_minutes": 0})).await;

    let fired = send(&app, &path, fixture("alertmanager-0.25-webhook-v4.json")).await;
    assert_eq!(fired.status, StatusCode::OK, "{:?}", fired.body);
    assert_eq!(fired.body["created"], 1);
    let opened = fired.body["incidents_opened"].as_array().unwrap().clone();
    assert_eq!(opened.len(), 1);
    let id = opened[0].as_i64().unwrap();
    let inc = incident(&app, id).await;
    assert_eq!(
        inc["title"],
        "Disk /var/lib/postgresql is 97% full on db-01"
    );
    assert_eq!(inc["severity"], "SEV1", "critical maps to SEV1");
    assert_eq!(inc["status"], "triggered");
    assert_eq!(inc["services"], json!(["billing-db"]));
    assert_eq!(inc["team"], "Experts L2", "the service's team responds");
    assert_eq!(inc["firing_count"], 1);
    assert_eq!(
        inc["group_key"],
        "{}:{alertname=\"OpsdeskSampleDiskFull\", service=\"billing-db\"}"
    );

    // The HA twin delivers the same payload: nothing new, no new timeline entries.
    let events_before = app.event_count().await;
    let again = send(&app, &path, fixture("alertmanager-0.25-webhook-v4.json")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["created"], 0);
    assert_eq!(again.body["incidents_opened"], json!([]));
    assert_eq!(app.event_count().await, events_before);
    let alerts = app
        .get("l1", &format!("/api/v1/incidents/{id}/alerts"))
        .await;
    let alert = &alerts.body["items"][0];
    assert_eq!(alert["fingerprint"], "3b859248c68b59aa");
    assert_eq!(alert["receipts"], 2);
    assert_eq!(alert["labels"]["instance"], "db-01:9100");
    assert_eq!(
        alert["source_url"],
        "http://127.0.0.1:9090/graph?g0.expr=disk_free"
    );

    // Resolved: the incident goes to monitoring, then resolves after the (zero) quiet period.
    let resolved = send(
        &app,
        &path,
        fixture("alertmanager-0.25-webhook-v4-resolved.json"),
    )
    .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:?}", resolved.body);
    assert_eq!(resolved.body["resolved"], 1);
    assert_eq!(resolved.body["incidents_updated"], json!([id]));
    let mut status = String::new();
    for _ in 0..50 {
        status = incident(&app, id).await["status"]
            .as_str()
            .unwrap()
            .to_owned();
        if status == "resolved" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "resolved", "the worker resolves a quiet incident");
    let inc = incident(&app, id).await;
    assert!(inc["mitigated_at"].is_string() && inc["resolved_at"].is_string());
    assert_eq!(
        timeline(&app, id).await,
        vec![
            "incident.triggered",
            "incident.alerts",
            "incident.alerts",
            "incident.status",
            "incident.status"
        ]
    );
}

#[tokio::test]
async fn captured_groups_truncation_grafana_and_pagerduty() {
    let app = spawn_app().await;
    // Two alerts of one Alertmanager group: one incident holding both; both resolve.
    let am = integration(&app, "alertmanager", json!({})).await;
    let r = send(
        &app,
        &am,
        fixture("alertmanager-0.25-webhook-v4-two-alerts.json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (
            r.body["created"].as_i64(),
            r.body["incidents_opened"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    let id = r.body["incidents_opened"][0].as_i64().unwrap();
    assert_eq!(incident(&app, id).await["firing_count"], 2);
    let r = send(
        &app,
        &am,
        fixture("alertmanager-0.25-webhook-v4-two-alerts-resolved.json"),
    )
    .await;
    assert_eq!(r.body["resolved"], 2, "{:?}", r.body);
    let inc = incident(&app, id).await;
    assert_eq!(
        (inc["status"].as_str(), inc["firing_count"].as_i64()),
        (Some("monitoring"), Some(0))
    );
    assert!(inc["auto_resolve_at"].is_string());
    // A truncated delivery says so.
    let r = send(
        &app,
        &am,
        fixture("alertmanager-0.25-webhook-v4-truncated.json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["truncated"], 1);

    // Grafana: its groupKey groups two alerts; panel links are kept.
    let gf = integration(&app, "grafana", json!({})).await;
    let r = send(&app, &gf, fixture("grafana-11-webhook-firing.json")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let gid = r.body["incidents_opened"][0].as_i64().unwrap();
    let alerts = app
        .get("l1", &format!("/api/v1/incidents/{gid}/alerts"))
        .await;
    assert_eq!(alerts.body["items"].as_array().unwrap().len(), 2);
    assert!(alerts.body["items"][0]["source_url"]
        .as_str()
        .unwrap()
        .contains("viewPanel=4"));
    let r = send(&app, &gf, fixture("grafana-11-webhook-resolved.json")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(incident(&app, gid).await["status"], "monitoring");

    // PagerDuty Events v2: trigger, acknowledge, resolve by dedup_key, on PagerDuty's own path
    // with the token as routing_key.
    let pd = integration(&app, "pagerduty", json!({})).await;
    let token = pd.rsplit('/').next().unwrap();
    let with_key = |name: &str| -> Vec<u8> {
        let mut v: Value = serde_json::from_slice(&fixture(name)).unwrap();
        v["routing_key"] = json!(token);
        serde_json::to_vec(&v).unwrap()
    };
    let r = send(
        &app,
        "/hooks/pagerduty/v2/enqueue",
        with_key("pagerduty-v2-trigger.json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(r.body["status"], "success");
    assert_eq!(
        r.body["dedup_key"],
        "opsdesk/billing-db/OpsdeskDiskFull/db-01:9100"
    );
    let open = incidents(&app, "open").await;
    let pid = open
        .iter()
        .find(|i| {
            i["integration"]
                .as_str()
                .is_some_and(|n| n.starts_with("pagerduty"))
        })
        .map(|i| i["id"].as_i64().unwrap())
        .unwrap();
    let inc = incident(&app, pid).await;
    assert_eq!(inc["severity"], "SEV1");
    assert_eq!(
        inc["services"],
        json!(["billing-db"]),
        "custom_details.service names it"
    );
    let r = send(
        &app,
        "/hooks/pagerduty/v2/enqueue",
        with_key("pagerduty-v2-acknowledge.json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let inc = incident(&app, pid).await;
    assert_eq!(inc["status"], "acknowledged");
    assert!(inc["acknowledged_at"].is_string());
    let r = send(&app, &pd, with_key("pagerduty-v2-resolve.json")).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    assert_eq!(incident(&app, pid).await["status"], "monitoring");
    // An acknowledge for an unknown key is refused.
    let mut v: Value = serde_json::from_slice(&with_key("pagerduty-v2-acknowledge.json")).unwrap();
    v["dedup_key"] = json!("never-sent");
    let r = send(&app, &pd, serde_json::to_vec(&v).unwrap()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["dedup_key"]);
}

#[tokio::test]
async fn generic_json_through_a_mapping() {
    let app = spawn_app().await;
    let path = integration(
        &app,
        "generic",
        json!({
            "group_by": ["host"],
            "mapping": {"alerts": "/events", "title": "/name", "status": "/state",
                        "resolved_values": ["OK"], "severity": "/level", "labels": "/tags",
                        "fingerprint": "/id"}
        }),
    )
    .await;
    let body = json!({"events": [
        {"id": "e1", "name": "CPU high on web-1", "state": "ALERT", "level": "warning", "tags": {"host": "web-1", "service": "web"}},
        {"id": "e2", "name": "Memory high on web-1", "state": "ALERT", "level": "critical", "tags": {"host": "web-1", "service": "web"}},
        {"id": "e3", "name": "CPU high on web-2", "state": "ALERT", "tags": {"host": "web-2"}}
    ]});
    let r = send(&app, &path, serde_json::to_vec(&body).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body["incidents_opened"].as_array().unwrap().len(),
        2,
        "grouped by host"
    );
    let open = incidents(&app, "open").await;
    let web1 = open
        .iter()
        .find(|i| i["title"] == "CPU high on web-1")
        .unwrap();
    assert_eq!(
        web1["severity"], "SEV1",
        "the worst alert of the group sets it"
    );
    assert_eq!(web1["services"], json!(["web"]));
    // A title missing where the mapping points is refused, naming the place.
    let r = send(
        &app,
        &path,
        br#"{"events": [{"id": "x", "state": "ALERT"}]}"#.to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["alerts[0]/name"]);
    let r = send(
        &app,
        &path,
        br#"{"events": [{"id": "e1", "name": "CPU high on web-1", "state": "OK"}]}"#.to_vec(),
    )
    .await;
    assert_eq!(r.body["resolved"], 1, "{:?}", r.body);
}

#[tokio::test]
async fn refused_payloads_store_nothing() {
    let app = spawn_app().await;
    let path = integration(&app, "alertmanager", json!({})).await;
    let good: Value =
        serde_json::from_slice(&fixture("alertmanager-0.25-webhook-v4.json")).unwrap();
    let events_before = app.event_count().await;

    let r = send(&app, &path, b"{\"alerts\": [".to_vec()).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "truncated JSON");
    let mut bad = good.clone();
    bad["alerts"][0]["status"] = json!("burning");
    let r = send(&app, &path, serde_json::to_vec(&bad).unwrap()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.error_fields(), vec!["alerts[0].status"]);
    let mut bad = good.clone();
    bad["alerts"][0]["startsAt"] = json!("yesterday");
    let r = send(&app, &path, serde_json::to_vec(&bad).unwrap()).await;
    assert_eq!(r.error_fields(), vec!["alerts[0].startsAt"]);
    let mut bad = good.clone();
    bad["version"] = json!("3");
    let r = send(&app, &path, serde_json::to_vec(&bad).unwrap()).await;
    assert_eq!(r.error_fields(), vec!["version"]);
    let r = send(&app, &path, br#"{"status": "firing"}"#.to_vec()).await;
    assert_eq!(r.error_fields(), vec!["alerts"]);
    let mut bad = good.clone();
    bad["alerts"][0]["labels"]["instance"] = json!("db-01\u{0}");
    let r = send(&app, &path, serde_json::to_vec(&bad).unwrap()).await;
    assert_eq!(
        r.error_fields(),
        vec!["alerts[0].labels.instance"],
        "NUL is refused, not a 5xx"
    );
    let r = send(
        &app,
        "/hooks/alertmanager/not-a-token",
        fixture("alertmanager-0.25-webhook-v4.json"),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let wrong_kind = path.replace("/alertmanager/", "/grafana/");
    let r = send(
        &app,
        &wrong_kind,
        fixture("alertmanager-0.25-webhook-v4.json"),
    )
    .await;
    assert_eq!(r.error_fields(), vec!["kind"]);
    let r = send(
        &app,
        &path.replace("/alertmanager/", "/nagios/"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let huge = vec![b' '; 9 * 1024 * 1024];
    let r = send(&app, &path, huge).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(
        app.event_count().await,
        events_before,
        "nothing was written"
    );
    let alerts = app.get("l1", "/api/v1/alerts").await;
    assert_eq!(alerts.body["items"], json!([]));
    assert!(incidents(&app, "all").await.is_empty());

    // The token also works as a bearer header on /hooks/<kind>.
    let token = path.rsplit('/').next().unwrap().to_owned();
    let r = reqwest::Client::new()
        .post(format!("{}/hooks/alertmanager", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(fixture("alertmanager-0.25-webhook-v4.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A link that is not http(s) is dropped, never rendered as a link.
    let mut sneaky = good.clone();
    sneaky["alerts"][0]["generatorURL"] = json!("javascript:alert(1)");
    sneaky["alerts"][0]["labels"]["instance"] = json!("db-09:9100");
    sneaky["alerts"][0]["fingerprint"] = json!("0000000000000009");
    let r = send(&app, &path, serde_json::to_vec(&sneaky).unwrap()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let alerts = app.get("l1", "/api/v1/alerts").await;
    let stored = alerts.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["fingerprint"] == "0000000000000009")
        .unwrap()
        .clone();
    assert_eq!(stored["source_url"], Value::Null);
}

/// 10,000 alerts in 20 groups, 100 per request from 8 concurrent senders, each request sent
/// twice (an HA pair): exactly 20 incidents of 500 alerts each.
#[tokio::test]
async fn an_alert_storm_becomes_one_incident_per_group() {
    let app = spawn_app().await;
    let path = integration(&app, "alertmanager", json!({"rate_limit_per_minute": 0})).await;
    let mut bodies = Vec::new();
    for request in 0..100 {
        let alerts: Vec<Value> = (0..100)
            .map(|i| {
                let n = request * 100 + i;
                json!({"status": "firing",
                       "labels": {"alertname": format!("Storm{}", n % 20), "instance": format!("host-{n}"), "severity": "warning"},
                       "annotations": {"summary": format!("storm {}", n % 20)},
                       "startsAt": "2026-11-24T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"})
            })
            .collect();
        bodies.push(
            serde_json::to_vec(&json!({"version": "4", "status": "firing", "alerts": alerts}))
                .unwrap(),
        );
    }
    let app = std::sync::Arc::new(app);
    let mut senders = Vec::new();
    for sender in 0..8 {
        let app = app.clone();
        let path = path.clone();
        let mine: Vec<Vec<u8>> = bodies
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 8 == sender)
            .flat_map(|(_, b)| [b.clone(), b.clone()])
            .collect();
        senders.push(tokio::spawn(async move {
            let mut created = 0;
            for body in mine {
                let r = send(&app, &path, body).await;
                assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
                created += r.body["created"].as_i64().unwrap();
            }
            created
        }));
    }
    let mut created = 0;
    for s in senders {
        created += s.await.unwrap();
    }
    // Requests committed together still count each new alert exactly once.
    assert_eq!(created, 10_000);
    let all = incidents(&app, "all").await;
    assert_eq!(all.len(), 20, "one incident per alertname group");
    for i in &all {
        assert_eq!(i["alert_count"], 500, "{i}");
        assert_eq!(i["firing_count"], 500);
    }
    let titles: std::collections::HashSet<&str> =
        all.iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles.len(), 20);
}

#[tokio::test]
async fn a_flapping_alert_reopens_its_incident() {
    let app = spawn_app().await;
    let path = integration(&app, "alertmanager", json!({"quiet_minutes": 60})).await;
    let firing = fixture("alertmanager-0.25-webhook-v4.json");
    let r = send(&app, &path, firing.clone()).await;
    let id = r.body["incidents_opened"][0].as_i64().unwrap();
    // Someone acknowledges; the alert resolves (monitoring), then fires again with a new start.
    let r = app
        .patch(
            "l1",
            &format!("/api/v1/incidents/{id}"),
            json!({"status": "acknowledged"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    send(
        &app,
        &path,
        fixture("alertmanager-0.25-webhook-v4-resolved.json"),
    )
    .await;
    assert_eq!(incident(&app, id).await["status"], "monitoring");
    let mut again: Value = serde_json::from_slice(&firing).unwrap();
    again["alerts"][0]["startsAt"] = json!("2026-11-23T20:10:00Z");
    let r = send(&app, &path, serde_json::to_vec(&again).unwrap()).await;
    assert_eq!(r.body["incidents_opened"], json!([]), "{:?}", r.body);
    let inc = incident(&app, id).await;
    assert_eq!(
        inc["status"], "investigating",
        "reopened, as it had been acknowledged"
    );
    assert!(inc["auto_resolve_at"].is_null());

    // A late copy of the old firing (started before it resolved) does not undo a resolve.
    let mut resolved: Value =
        serde_json::from_slice(&fixture("alertmanager-0.25-webhook-v4-resolved.json")).unwrap();
    resolved["alerts"][0]["endsAt"] = json!("2026-11-23T20:20:00Z");
    send(&app, &path, serde_json::to_vec(&resolved).unwrap()).await;
    assert_eq!(incident(&app, id).await["status"], "monitoring");
    let r = send(&app, &path, serde_json::to_vec(&again).unwrap()).await;
    assert_eq!(r.body["created"], 0);
    assert_eq!(
        incident(&app, id).await["status"],
        "monitoring",
        "stale firing ignored"
    );

    // Resolved by hand, then it fires again within the quiet period: the same incident reopens.
    let r = app
        .patch(
            "l1",
            &format!("/api/v1/incidents/{id}"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.body["status"], "resolved");
    again["alerts"][0]["startsAt"] = json!("2026-11-23T20:30:00Z");
    let r = send(&app, &path, serde_json::to_vec(&again).unwrap()).await;
    assert_eq!(r.body["incidents_opened"], json!([]));
    assert_eq!(incident(&app, id).await["status"], "investigating");
    assert_eq!(incidents(&app, "all").await.len(), 1);
}

#[tokio::test]
async fn maintenance_windows_suppress_alerts() {
    let app = spawn_app().await;
    let path = integration(&app, "alertmanager", json!({})).await;
    let now = Timestamp::now();
    let window = json!({
        "title": "Disk migration", "starts_at": (now - SignedDuration::from_hours(1)).to_string(),
        "ends_at": (now + SignedDuration::from_hours(1)).to_string(), "zone": "Europe/Berlin",
        "services": ["billing-db"]
    });
    let r = app
        .post("l1", "/api/v1/maintenance-windows", window.clone())
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "agents do not plan maintenance"
    );
    let mut bad = window.clone();
    bad["ends_at"] = json!((now - SignedDuration::from_hours(2)).to_string());
    bad["zone"] = json!("Mars/Olympus");
    bad["services"] = json!(["nope"]);
    let r = app
        .post("manager", "/api/v1/maintenance-windows", bad)
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["services", "zone"], "{:?}", r.body);
    let r = app
        .post("manager", "/api/v1/maintenance-windows", window.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["active"], true);
    let wid = r.body["id"].as_i64().unwrap();

    let r = send(&app, &path, fixture("alertmanager-0.25-webhook-v4.json")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["suppressed"], 1);
    assert_eq!(r.body["incidents_opened"], json!([]));
    assert!(incidents(&app, "all").await.is_empty());
    let alerts = app.get("l1", "/api/v1/alerts").await;
    assert_eq!(alerts.body["items"][0]["suppressed_by"], wid);
    let services = app.get("l1", "/api/v1/services").await;
    let db = services.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "billing-db")
        .unwrap()
        .clone();
    assert_eq!(db["in_maintenance"], true);

    // An alert an incident already holds still settles it when it resolves under maintenance.
    let r = send(
        &app,
        &path,
        fixture("alertmanager-0.25-webhook-v4-two-alerts.json"),
    )
    .await;
    let held = r.body["incidents_opened"][0].as_i64();
    assert_eq!(r.body["suppressed"], 2, "{:?}", r.body);
    assert_eq!(held, None, "suppressed alerts open nothing");
    // Once the window is gone, the next firing opens an incident.
    let r = app
        .call(
            "manager",
            Method::DELETE,
            &format!("/api/v1/maintenance-windows/{wid}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = send(&app, &path, fixture("alertmanager-0.25-webhook-v4.json")).await;
    assert_eq!(
        r.body["incidents_opened"].as_array().unwrap().len(),
        1,
        "{:?}",
        r.body
    );
    let held = r.body["incidents_opened"][0].as_i64().unwrap();
    // A window starts; the alert the incident holds resolves under it and still settles it.
    let r = app
        .post("manager", "/api/v1/maintenance-windows", window)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    send(
        &app,
        &path,
        fixture("alertmanager-0.25-webhook-v4-resolved.json"),
    )
    .await;
    let inc = app.get("l1", &format!("/api/v1/incidents/{held}")).await;
    assert_eq!(inc.body["status"], "monitoring");
    assert_eq!(inc.body["firing_count"], 0);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let app = spawn_app().await;
    let path = integration(&app, "alertmanager", json!({"rate_limit_per_minute": 2})).await;
    // Five requests span at most two minute windows, so one window gets three: one is refused.
    let mut statuses = Vec::new();
    let mut retry = None;
    for _ in 0..5 {
        let r = send(&app, &path, fixture("alertmanager-0.25-webhook-v4.json")).await;
        statuses.push(r.status.as_u16());
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            retry = r
                .headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
        }
    }
    assert_eq!(&statuses[..2], &[200, 200]);
    assert!(statuses.contains(&429), "{statuses:?}");
    assert_eq!(retry.as_deref(), Some("60"));
}

#[tokio::test]
async fn incidents_declared_and_worked_by_hand() {
    let app = spawn_app().await;
    integration(&app, "generic", json!({})).await;
    let ticket = app.ticket("acme", "Checkout fails with error 502").await;
    let r = app
        .post(
            "l2",
            "/api/v1/incidents",
            json!({"title": "Checkout failing", "severity": "SEV5", "services": ["nope"], "commander": "nobody@x.test"}),
        )
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["commander", "services", "severity"]);
    let r = app
        .post(
            "l2",
            "/api/v1/incidents",
            json!({"title": "Checkout failing", "severity": "sev2", "services": ["web", "billing-db"],
                   "commander": "me", "ticket": ticket, "summary": "502s from the payment proxy"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let id = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["severity"], "SEV2");
    assert_eq!(r.body["services"], json!(["web", "billing-db"]));
    assert_eq!(r.body["commander"]["email"], "l2@desk.test");
    assert_eq!(r.body["tickets"], json!([ticket]));
    assert_eq!(r.body["team"], "Experts L2");

    let r = app
        .patch(
            "l1",
            &format!("/api/v1/incidents/{id}"),
            json!({"status": "triggered"}),
        )
        .await;
    assert_eq!(r.error_fields(), vec!["status"]);
    let r = app
        .patch(
            "l1",
            &format!("/api/v1/incidents/{id}"),
            json!({"status": "identified", "comms": "manager@desk.test", "severity": "SEV1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "identified");
    assert!(
        r.body["acknowledged_at"].is_string(),
        "identified implies acknowledged"
    );
    assert_eq!(r.body["comms"]["email"], "manager@desk.test");
    let r = app
        .post(
            "l1",
            &format!("/api/v1/incidents/{id}/notes"),
            json!({"body": "  "}),
        )
        .await;
    assert_eq!(r.error_fields(), vec!["body"]);
    let r = app
        .post(
            "l1",
            &format!("/api/v1/incidents/{id}/notes"),
            json!({"body": "Rolled back proxy"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    assert_eq!(r.body["actor"]["email"], "l1@desk.test");
    let other = app.ticket("globex", "Slow pages").await;
    let r = app
        .post(
            "l1",
            &format!("/api/v1/incidents/{id}/tickets"),
            json!({"ticket": other}),
        )
        .await;
    assert_eq!(r.body["tickets"], json!([ticket, other]));
    let r = app
        .post(
            "l1",
            &format!("/api/v1/incidents/{id}/tickets"),
            json!({"ticket": other}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    let r = app
        .post(
            "l1",
            &format!("/api/v1/incidents/{id}/tickets"),
            json!({"ticket": 999_999}),
        )
        .await;
    assert_eq!(r.error_fields(), vec!["ticket"]);
    let r = app
        .call(
            "l1",
            Method::DELETE,
            &format!("/api/v1/incidents/{id}/tickets/{other}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        timeline(&app, id).await,
        vec![
            "incident.declared",
            "incident.ticket_linked",
            "incident.status",
            "incident.severity",
            "incident.role",
            "incident.note",
            "incident.ticket_linked",
            "incident.ticket_unlinked"
        ]
    );
    // The ticket's own (internal) timeline records the link.
    assert!(app
        .event_kinds(ticket)
        .await
        .contains(&"ticket.incident_linked".to_owned()));

    // Auditors read but do not act; customers see no incidents at all.
    assert_eq!(
        app.get("auditor", &format!("/api/v1/incidents/{id}"))
            .await
            .status,
        StatusCode::OK
    );
    let r = app
        .patch(
            "auditor",
            &format!("/api/v1/incidents/{id}"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("acme", "/api/v1/incidents").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("acme", &format!("/api/v1/incidents/{id}"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Only administrators see integrations (they hold the routing of alerts).
    assert_eq!(
        app.get("manager", "/api/v1/integrations").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("admin", "/api/v1/integrations").await.status,
        StatusCode::OK
    );
    // Filters.
    let r = app
        .get(
            "l1",
            "/api/v1/incidents?status=identified&severity=SEV1&service=web",
        )
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let r = app.get("l1", "/api/v1/incidents?status=burning").await;
    assert_eq!(r.error_fields(), vec!["status"]);
}

#[tokio::test]
async fn replying_to_an_incident_reaches_every_linked_ticket() {
    let app = spawn_app().await;
    let acme = app.ticket("acme", "Checkout fails").await;
    let globex = app.ticket("globex", "Cannot pay").await;
    let r = app
        .post(
            "l2",
            "/api/v1/incidents",
            json!({"title": "Payments down", "severity": "SEV1", "ticket": acme}),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .post(
            "l1",
            &format!("/api/v1/incidents/{id}/reply"),
            json!({"body": "hi"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    app.post(
        "l1",
        &format!("/api/v1/incidents/{id}/tickets"),
        json!({"ticket": globex}),
    )
    .await;
    let r = app
        .post(
            "l1",
            &format!("/api/v1/incidents/{id}/reply"),
            json!({"body": "  "}),
        )
        .await;
    assert_eq!(r.error_fields(), vec!["body"]);
    let r = app
        .post(
            "auditor",
            &format!("/api/v1/incidents/{id}/reply"),
            json!({"body": "x"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .post(
            "l1",
            &format!("/api/v1/incidents/{id}/reply"),
            json!({"body": "We found the cause and are rolling out a fix."}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["replied"], json!([acme, globex]));
    // Each customer sees the reply on their own ticket, and only there.
    for (who, ticket) in [("acme", acme), ("globex", globex)] {
        let m = app
            .get(who, &format!("/api/v1/tickets/{ticket}/messages"))
            .await;
        let bodies: Vec<&str> = m.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["body"].as_str().unwrap())
            .collect();
        assert_eq!(
            bodies
                .iter()
                .filter(|b| b.contains("rolling out a fix"))
                .count(),
            1,
            "{who}"
        );
    }
    assert!(timeline(&app, id)
        .await
        .contains(&"incident.customers_replied".to_owned()));
}
