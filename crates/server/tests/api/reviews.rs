//! After an incident: the review from its template (timeline pulled in), action items verified
//! by someone other than their owner, overdue reminders, and problem records with known errors.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn reviews_action_items_and_problems() {
    let app = spawn_app().await;
    let r = app
        .post(
            "l2",
            "/api/v1/incidents",
            json!({"title": "Checkout down", "severity": "SEV1"}),
        )
        .await;
    let id = r.body["id"].as_i64().unwrap();
    app.post(
        "l2",
        &format!("/api/v1/incidents/{id}/notes"),
        json!({"body": "Rolled back the proxy"}),
    )
    .await;

    // A published review needs a summary and a root cause; a draft pulls the timeline in.
    let r = app
        .call(
            "l2",
            reqwest::Method::PUT,
            &format!("/api/v1/incidents/{id}/review"),
            Some(json!({"published": true})),
        )
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["root_cause", "summary"]);
    let r = app
        .call(
            "l2",
            reqwest::Method::PUT,
            &format!("/api/v1/incidents/{id}/review"),
            Some(
                json!({"summary": "Checkout failed for 20 minutes.", "went_well": "Fast rollback"}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "draft");
    let timeline = r.body["timeline"].as_str().unwrap();
    assert!(timeline.contains("declared: Checkout down"), "{timeline}");
    assert!(
        timeline.contains("note: Rolled back the proxy"),
        "{timeline}"
    );
    let r = app
        .call(
            "auditor",
            reqwest::Method::PUT,
            &format!("/api/v1/incidents/{id}/review"),
            Some(json!({})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("auditor", &format!("/api/v1/incidents/{id}/review"))
            .await
            .status,
        StatusCode::OK
    );

    // Action items: fields named; overdue when open past due; verified by someone else.
    let r = app
        .post("l2", "/api/v1/action-items",
              json!({"title": " ", "owner": "nobody@desk.test", "due": "someday", "verification": ""}))
        .await;
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec!["due", "incident", "owner", "title", "verification"]
    );
    let r = app
        .post(
            "l2",
            "/api/v1/action-items",
            json!({"title": "Alert on proxy 5xx", "owner": "l1@desk.test", "due": "2026-01-01",
                     "verification": "A synthetic 5xx pages the on-call", "incident": id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let item = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["overdue"], true);
    let r = app
        .get("l1", "/api/v1/action-items?owner=me&overdue=true")
        .await;
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1);
    let state = |who: &'static str, to: &'static str| {
        let app = &app;
        async move {
            app.post(
                who,
                &format!("/api/v1/action-items/{item}/state"),
                json!({"state": to}),
            )
            .await
        }
    };
    assert_eq!(state("l1", "verified").await.error_fields(), vec!["state"]);
    assert_eq!(state("l1", "done").await.status, StatusCode::OK);
    let r = state("l1", "verified").await;
    assert_eq!(
        r.error_fields(),
        vec!["state"],
        "the owner does not verify their own"
    );
    let r = state("l2", "verified").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["verified_by"]["email"], "l2@desk.test");
    assert_eq!(state("l2", "open").await.error_fields(), vec!["state"]);
    let review = app
        .get("l1", &format!("/api/v1/incidents/{id}/review"))
        .await;
    assert_eq!(review.body["action_items"][0]["state"], "verified");

    // Overdue reminders reach the owner once.
    app.post(
        "l2",
        "/api/v1/action-items",
        json!({"title": "Runbook for proxy rollback", "owner": "l3@desk.test", "due": "2026-01-02",
                    "verification": "Runbook linked from the service", "incident": id}),
    )
    .await;
    let mut reminded = false;
    for _ in 0..50 {
        let n = app.get("l3", "/api/v1/notifications").await;
        if n.body["items"].as_array().unwrap().iter().any(|x| {
            x["text"]
                .as_str()
                .unwrap_or_default()
                .contains("Runbook for proxy rollback")
        }) {
            reminded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        reminded,
        "the scheduler reminds the owner of an overdue item"
    );

    // Problems: a known error needs a root cause and a workaround.
    let r = app
        .post(
            "l3",
            "/api/v1/problems",
            json!({"title": "Proxy pool exhaustion", "incidents": [id, 999]}),
        )
        .await;
    assert_eq!(r.error_fields(), vec!["incidents"]);
    let r = app
        .post(
            "l3",
            "/api/v1/problems",
            json!({"title": "Proxy pool exhaustion", "incidents": [id]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let problem = r.body["id"].as_i64().unwrap();
    let r = app
        .call("l3", reqwest::Method::PUT, &format!("/api/v1/problems/{problem}"),
              Some(json!({"title": "Proxy pool exhaustion", "status": "known_error", "root_cause": "Pool of 50"})))
        .await;
    assert_eq!(r.error_fields(), vec!["workaround"]);
    let r = app
        .call("l3", reqwest::Method::PUT, &format!("/api/v1/problems/{problem}"),
              Some(json!({"title": "Proxy pool exhaustion", "status": "known_error",
                          "root_cause": "Pool of 50 connections", "workaround": "Restart the proxy"})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["status"], "known_error");
    assert_eq!(r.body["incidents"], json!([id]));
    let events = app
        .get("l1", &format!("/api/v1/incidents/{id}/events"))
        .await;
    assert!(events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "incident.problem_linked"));
    assert_eq!(
        app.get("acme", "/api/v1/problems").await.status,
        StatusCode::FORBIDDEN
    );
}
