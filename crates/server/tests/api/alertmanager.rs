//! End to end with a real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, which
//! `scripts/test` installs) on loopback, with opsdesk as its webhook receiver: alerts posted to
//! Alertmanager's API become one incident, and their resolution moves it to monitoring.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

/// Kills the Alertmanager process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn alertmanager_binary() -> String {
    for candidate in [
        "/usr/bin/prometheus-alertmanager",
        "/usr/local/bin/alertmanager",
    ] {
        if std::path::Path::new(candidate).exists() {
            return candidate.to_owned();
        }
    }
    panic!(
        "Alertmanager is not installed: run scripts/test (it installs Debian's \
         prometheus-alertmanager) or apt-get install prometheus-alertmanager"
    );
}

#[tokio::test]
async fn a_real_alertmanager_delivers_to_opsdesk() {
    let app = spawn_app().await;
    let r = app
        .post(
            "admin",
            "/api/v1/integrations",
            json!({"name": "Prometheus", "kind": "alertmanager"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let token = r.body["token"].as_str().unwrap().to_owned();

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("alertmanager.yml");
    // The token travels as a bearer header, so it stays out of Alertmanager's logged URLs.
    std::fs::write(
        &config,
        format!(
            "route:\n  receiver: opsdesk\n  group_by: [alertname, service]\n  group_wait: 0s\n  \
             group_interval: 1s\n  repeat_interval: 24h\nreceivers:\n  - name: opsdesk\n    \
             webhook_configs:\n      - url: {}/hooks/alertmanager\n        send_resolved: true\n        \
             http_config:\n          authorization:\n            type: Bearer\n            credentials: {token}\n",
            app.base
        ),
    )
    .unwrap();
    let port = free_port();
    let am = Running(
        Command::new(alertmanager_binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let am_url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{am_url}/-/ready")).send().await {
            if r.status().is_success() {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "Alertmanager did not become ready");

    let started = Timestamp::now() - SignedDuration::from_mins(1);
    let alert = |instance: &str, ends: Option<Timestamp>| -> Value {
        let mut a = json!({
            "labels": {"alertname": "DiskFull", "service": "billing-db", "instance": instance, "severity": "warning"},
            "annotations": {"summary": format!("Disk full on {instance}")},
            "startsAt": started.to_string(),
            "generatorURL": "http://prometheus.test/graph"
        });
        if let Some(e) = ends {
            a["endsAt"] = json!(e.to_string());
        }
        a
    };
    let post = |alerts: Value| {
        let client = client.clone();
        let url = format!("{am_url}/api/v2/alerts");
        async move {
            let r = client.post(url).json(&alerts).send().await.unwrap();
            assert!(
                r.status().is_success(),
                "Alertmanager refused: {}",
                r.status()
            );
        }
    };
    post(json!([alert("db-01", None), alert("db-02", None)])).await;

    let incidents = || async {
        app.get("l1", "/api/v1/incidents?status=all").await.body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen = incidents().await;
        if seen.first().is_some_and(|i| i["firing_count"] == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.len(), 1, "one incident for the group: {seen:?}");
    let incident = &seen[0];
    assert_eq!(incident["firing_count"], 2);
    assert_eq!(incident["title"], "Disk full on db-01");
    assert_eq!(incident["severity"], "SEV3");
    assert_eq!(
        incident["group_key"],
        "{}:{alertname=\"DiskFull\", service=\"billing-db\"}"
    );

    // Both resolve; Alertmanager sends the resolution at its next group interval.
    let ended = Timestamp::now() - SignedDuration::from_secs(1);
    post(json!([
        alert("db-01", Some(ended)),
        alert("db-02", Some(ended))
    ]))
    .await;
    let mut status = String::new();
    for _ in 0..100 {
        status = incidents().await[0]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if status == "monitoring" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "monitoring");
    drop(am);
}
