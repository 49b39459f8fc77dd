//! Tiered escalation, de-escalation and bug reports through the API.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn escalation_requires_reason_and_tried_and_moves_up_the_ladder() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "sync fails").await;
    let escalate = format!("/api/v1/tickets/{id}/escalate");
    let events_before = app.event_count().await;
    let missing = app
        .post("l0", &escalate, json!({"reason": "", "tried": ""}))
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.error_fields(), ["reason"]);
    let no_tried = app
        .post(
            "l0",
            &escalate,
            json!({"reason": "beyond intake", "tried": " "}),
        )
        .await;
    assert_eq!(no_tried.error_fields(), ["tried"]);
    let absent = app
        .post("l0", &escalate, json!({"reason": "beyond intake"}))
        .await;
    assert_eq!(absent.error_fields(), ["tried"]);
    assert_eq!(app.event_count().await, events_before);

    app.patch(
        "l0",
        &format!("/api/v1/tickets/{id}"),
        json!({"assignee": "me"}),
    )
    .await;
    let up = app
        .post(
            "l0",
            &escalate,
            json!({"reason": "beyond intake", "tried": "checked account"}),
        )
        .await;
    assert_eq!(up.status, StatusCode::OK, "{:?}", up.body);
    assert_eq!(up.body["tier"], "L1");
    assert_eq!(up.body["team"], "Support L1");
    assert!(up.body["assignee"].is_null());
    let up2 = app
        .post(
            "l1",
            &escalate,
            json!({"reason": "needs expert", "tried": "cleared cache"}),
        )
        .await;
    assert_eq!(up2.body["tier"], "L2");
    let events = app.get("l2", &format!("/api/v1/tickets/{id}/events")).await;
    let escalated: Vec<_> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "ticket.escalated")
        .collect();
    assert_eq!(escalated.len(), 2);
    assert_eq!(escalated[1]["data"]["reason"], "needs expert");
    assert_eq!(escalated[1]["data"]["tried"], "cleared cache");
    assert_eq!(escalated[1]["data"]["before"]["tier"], "L1");
    assert_eq!(escalated[1]["data"]["after"]["tier"], "L2");
    assert_eq!(escalated[1]["actor"]["email"], "l1@desk.test");

    let down = app
        .post(
            "l2",
            &format!("/api/v1/tickets/{id}/deescalate"),
            json!({"note": "apply workaround KB-12"}),
        )
        .await;
    assert_eq!(down.status, StatusCode::OK, "{:?}", down.body);
    assert_eq!(down.body["team"], "Support L1");
    assert_eq!(down.body["tier"], "L1");
    let no_note = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{id}/deescalate"),
            json!({"note": ""}),
        )
        .await;
    assert_eq!(no_note.error_fields(), ["note"]);
}

#[tokio::test]
async fn escalation_to_a_lower_or_missing_team_is_refused() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "x").await;
    let escalate = format!("/api/v1/tickets/{id}/escalate");
    let sideways = app
        .post(
            "l0",
            &escalate,
            json!({"reason": "r", "tried": "t", "team": "Intake"}),
        )
        .await;
    assert_eq!(sideways.error_fields(), ["team"]);
    let unknown = app
        .post(
            "l0",
            &escalate,
            json!({"reason": "r", "tried": "t", "team": "Nope"}),
        )
        .await;
    assert_eq!(unknown.error_fields(), ["team"]);
    let direct = app
        .post(
            "l0",
            &escalate,
            json!({"reason": "r", "tried": "t", "team": "Liaison L3"}),
        )
        .await;
    assert_eq!(direct.body["tier"], "L3");
    let top = app
        .post("l3", &escalate, json!({"reason": "r", "tried": "t"}))
        .await;
    assert_eq!(top.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(top.error_fields(), ["team"]);
    let customer = app
        .post("acme", &escalate, json!({"reason": "r", "tried": "t"}))
        .await;
    assert_eq!(customer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn l3_files_a_bug_report_and_lower_tiers_cannot() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "export drops last row").await;
    let reports = format!("/api/v1/tickets/{id}/bug-reports");
    let report = json!({"steps": "1. Export 10 rows\n2. Open CSV", "expected": "10 rows", "actual": "9 rows",
                        "environment": "v4.2, Chrome 120", "external_url": "https://tracker.example/ENG-42"});
    let l2 = app.post("l2", &reports, report.clone()).await;
    assert_eq!(l2.status, StatusCode::FORBIDDEN);
    let filed = app.post("l3", &reports, report).await;
    assert_eq!(filed.status, StatusCode::CREATED, "{:?}", filed.body);
    assert_eq!(filed.body["actual"], "9 rows");
    let incomplete = app
        .post(
            "l3",
            &reports,
            json!({"steps": "s", "expected": "", "actual": "a", "environment": "e"}),
        )
        .await;
    assert_eq!(incomplete.error_fields(), ["expected"]);
    let listed = app.get("l1", &reports).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    let links = app.get("l1", &format!("/api/v1/tickets/{id}/links")).await;
    assert_eq!(
        links.body["items"][0]["url"],
        "https://tracker.example/ENG-42"
    );
    let events = app.get("l1", &format!("/api/v1/tickets/{id}/events")).await;
    assert!(events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "bug_report.filed"));
    let customer = app.get("acme", &reports).await;
    assert_eq!(customer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_changes_where_a_team_escalates() {
    let app = spawn_app().await;
    let intake = app.store.team_by_name("Intake").await.unwrap().unwrap().id;
    let path = format!("/api/v1/teams/{intake}");
    let down = app
        .patch("admin", &path, json!({"escalates_to": "Intake"}))
        .await;
    assert_eq!(down.error_fields(), ["escalates_to"]);
    let unknown = app
        .patch("admin", &path, json!({"escalates_to": "Nowhere"}))
        .await;
    assert_eq!(unknown.error_fields(), ["escalates_to"]);
    let changed = app
        .patch("admin", &path, json!({"escalates_to": "Experts L2"}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let id = app.ticket("acme", "straight to L2").await;
    let up = app
        .post(
            "l0",
            &format!("/api/v1/tickets/{id}/escalate"),
            json!({"reason": "r", "tried": "t"}),
        )
        .await;
    assert_eq!(up.body["team"], "Experts L2");
    let cleared = app
        .patch("admin", &path, json!({"escalates_to": null}))
        .await;
    assert!(cleared.body["escalates_to"].is_null());
    let events = app.store.events_of("team", intake, false).await.unwrap();
    // One from setting up the test desk, two from this test; the refused changes wrote none.
    assert_eq!(
        events.iter().filter(|e| e.kind == "team.updated").count(),
        3
    );
}
