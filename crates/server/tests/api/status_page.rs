//! The public status page: no login, nothing internal (unpublished incidents, internal titles,
//! notes), component states from public updates and maintenance, the history bar, the Atom
//! feed, webhook subscribers, and who may publish.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn service(app: &TestApp, name: &str, public: bool) -> i64 {
    let r = app
        .post("manager", "/api/v1/services", json!({"name": name}))
        .await;
    let id = r.body["id"].as_i64().unwrap();
    let r = app
        .call(
            "manager",
            Method::PUT,
            &format!("/api/v1/services/{id}/public"),
            Some(json!({"public": public})),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    id
}

async fn public_page(app: &TestApp) -> Value {
    let r = reqwest::get(format!("{}/api/v1/status", app.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "no login needed");
    r.json().await.unwrap()
}

#[tokio::test]
async fn the_status_page_shows_only_what_was_published() {
    let app = spawn_app().await;
    service(&app, "checkout", true).await;
    service(&app, "internal-db", false).await;
    // Subscribers: managers add webhooks; a real receiver counts deliveries.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Value>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/status", listener.local_addr().unwrap());
    let receiver = axum::Router::new().route(
        "/status",
        axum::routing::post(move |body: axum::Json<Value>| {
            let _ = tx.send(body.0);
            async { "ok" }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let r = app
        .post("l1", "/api/v1/status/subscribers", json!({"webhook": hook}))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "agents do not add subscribers"
    );
    let r = app
        .post(
            "manager",
            "/api/v1/status/subscribers",
            json!({"webhook": hook}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);

    let page = public_page(&app).await;
    assert_eq!(page["status"], "operational");
    assert_eq!(page["label"], "All systems operational");
    let names: Vec<&str> = page["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["checkout"],
        "hidden services are not components"
    );
    assert_eq!(
        page["components"][0]["history"].as_array().unwrap().len(),
        90
    );

    // An incident with an internal title and a note: invisible until published.
    let r = app
        .post(
            "l2",
            "/api/v1/incidents",
            json!({"title": "pgbouncer pool exhausted on db-07", "severity": "SEV2",
                   "services": ["checkout", "internal-db"]}),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    app.post(
        "l2",
        &format!("/api/v1/incidents/{id}/notes"),
        json!({"body": "secret: password rotated"}),
    )
    .await;
    let page = public_page(&app).await;
    assert_eq!(page["active"], json!([]));
    assert_eq!(page["components"][0]["status"], "operational");

    // Refusals name the fields; customers and anonymous callers cannot publish.
    let r = app
        .post(
            "l2",
            &format!("/api/v1/incidents/{id}/status-updates"),
            json!({"status": "acknowledged", "impact": "on fire", "body": " "}),
        )
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["body", "impact", "status", "title"]);
    let r = app
        .post(
            "l2",
            &format!("/api/v1/incidents/{id}/status-updates"),
            json!({"status": "investigating", "impact": "partial_outage", "body": "Looking."}),
        )
        .await;
    assert_eq!(
        r.error_fields(),
        vec!["title"],
        "the internal title is never the public one"
    );
    let update = json!({"status": "investigating", "impact": "partial_outage",
                        "body": "Some checkouts fail; we are looking into it.",
                        "title": "Checkout errors"});
    for who in ["acme", "auditor"] {
        let r = app
            .post(
                who,
                &format!("/api/v1/incidents/{id}/status-updates"),
                update.clone(),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{who}");
    }
    let r = app
        .post(
            "l2",
            &format!("/api/v1/incidents/{id}/status-updates"),
            update,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);

    let page = public_page(&app).await;
    assert_eq!(page["status"], "partial_outage");
    let active = &page["active"][0];
    assert_eq!(active["title"], "Checkout errors");
    assert_eq!(
        active["status"], "investigating",
        "the incident moved with the update"
    );
    assert_eq!(active["components"], json!(["checkout"]));
    assert_eq!(page["components"][0]["status"], "partial_outage");
    assert_eq!(
        page["components"][0]["history"]
            .as_array()
            .unwrap()
            .last()
            .unwrap(),
        "partial_outage"
    );
    let text = page.to_string();
    for secret in ["pgbouncer", "db-07", "internal-db", "password"] {
        assert!(!text.contains(secret), "'{secret}' leaked: {text}");
    }
    let html = reqwest::get(format!("{}/status", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Checkout errors") && html.contains("Partial outage"));
    assert!(!html.contains("pgbouncer") && !html.contains("Sign out"));
    let inc = app.get("l2", &format!("/api/v1/incidents/{id}")).await;
    assert_eq!(inc.body["status"], "investigating");
    // Internal moves do not show: visitors see what the last public update said.
    let r = app
        .patch(
            "l2",
            &format!("/api/v1/incidents/{id}"),
            json!({"status": "monitoring"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let page = public_page(&app).await;
    assert_eq!(page["active"][0]["status"], "investigating");
    assert_eq!(page["components"][0]["status"], "partial_outage");

    // The subscriber got the update.
    let got = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got["incident"]["title"], "Checkout errors");
    assert_eq!(
        got["update"]["body"],
        "Some checkouts fail; we are looking into it."
    );

    // Resolved: operational again, listed among past incidents, and in the feed.
    app.post(
        "l2",
        &format!("/api/v1/incidents/{id}/status-updates"),
        json!({"status": "resolved", "impact": "operational", "body": "Fixed & verified <ok>."}),
    )
    .await;
    let page = public_page(&app).await;
    assert_eq!(page["status"], "operational");
    assert_eq!(page["recent"][0]["title"], "Checkout errors");
    assert_eq!(page["recent"][0]["updates"].as_array().unwrap().len(), 2);
    let feed = reqwest::get(format!("{}/status/feed.atom", app.base))
        .await
        .unwrap();
    assert!(feed.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let feed = feed.text().await.unwrap();
    assert!(feed.contains("<title>Checkout errors — resolved</title>"));
    // The body is escaped (as character references or named entities, either is XML) and
    // reads back as written.
    assert!(!feed.contains("<ok>"), "unescaped: {feed}");
    let unescaped = feed
        .replace("&#38;", "&")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    assert!(
        unescaped.contains("<content type=\"text\">Fixed & verified <ok>.</content>"),
        "escaped: {feed}"
    );
    assert!(!feed.contains("pgbouncer"));
    let r = reqwest::get(format!("{}/status/incidents/{id}", app.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn maintenance_shows_on_the_status_page() {
    let app = spawn_app().await;
    service(&app, "api", true).await;
    let now = Timestamp::now();
    let r = app
        .post(
            "manager",
            "/api/v1/maintenance-windows",
            json!({"title": "Database upgrade", "services": ["api"],
                   "starts_at": (now - SignedDuration::from_mins(5)).to_string(),
                   "ends_at": (now + SignedDuration::from_mins(55)).to_string()}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let page = public_page(&app).await;
    assert_eq!(page["components"][0]["status"], "under_maintenance");
    assert_eq!(page["status"], "under_maintenance");
    assert_eq!(page["maintenance"][0]["title"], "Database upgrade");
    assert_eq!(page["maintenance"][0]["active"], true);
    // An unpublished incident's page does not exist publicly.
    let r = app
        .post(
            "l2",
            "/api/v1/incidents",
            json!({"title": "x", "severity": "SEV3"}),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    let r = reqwest::get(format!("{}/status/incidents/{id}", app.base))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
