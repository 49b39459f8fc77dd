//! `Idempotency-Key` on API POSTs other than ticket creation (which tickets.rs covers).

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn post_with_key(
    app: &TestApp,
    who: &str,
    path: &str,
    key: &str,
    body: Value,
) -> (StatusCode, bool, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.tokens[who])
        .header("idempotency-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let replayed = response.headers().contains_key("idempotent-replayed");
    (
        status,
        replayed,
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn a_retried_reply_is_stored_once_and_answered_the_same() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "retry me").await;
    let path = format!("/api/v1/tickets/{id}/messages");
    let (s1, r1, first) =
        post_with_key(&app, "l1", &path, "reply-1", json!({"body": "On it."})).await;
    let (s2, r2, second) =
        post_with_key(&app, "l1", &path, "reply-1", json!({"body": "On it."})).await;
    assert_eq!((s1, r1), (StatusCode::CREATED, false));
    assert_eq!((s2, r2), (StatusCode::CREATED, true));
    assert_eq!(first, second);
    let messages = app.get("l1", &path).await;
    let bodies: Vec<&str> = messages.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Details.", "On it."]);

    let (status, _, problem) = post_with_key(
        &app,
        "l1",
        &path,
        "reply-1",
        json!({"body": "Something else"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");

    // The same key from another caller is another key.
    let (status, replayed, _) =
        post_with_key(&app, "acme", &path, "reply-1", json!({"body": "On it."})).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false));
    assert_eq!(
        app.get("l1", &path).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn a_failed_request_gives_its_key_back() {
    let app = spawn_app().await;
    let (status, _, problem) =
        post_with_key(&app, "admin", "/api/v1/orgs", "org-1", json!({"name": " "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "name");
    let (status, replayed, org) = post_with_key(
        &app,
        "admin",
        "/api/v1/orgs",
        "org-1",
        json!({"name": "Initech"}),
    )
    .await;
    assert_eq!((status, replayed), (StatusCode::CREATED, false));
    let (status, replayed, again) = post_with_key(
        &app,
        "admin",
        "/api/v1/orgs",
        "org-1",
        json!({"name": "Initech"}),
    )
    .await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    assert_eq!(org["id"], again["id"]);
    let orgs = app.get("admin", "/api/v1/orgs").await;
    assert_eq!(orgs.body["items"].as_array().unwrap().len(), 3);
    let (status, _, problem) = post_with_key(
        &app,
        "admin",
        "/api/v1/orgs",
        &"k".repeat(201),
        json!({"name": "X"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
}
