//! Tickets through the API: creation, validation, idempotency, queues, triage, messages.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{spawn_app, TestApp};

#[tokio::test]
async fn customer_raises_a_ticket_and_gets_the_documented_reply() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "acme",
            "/api/v1/tickets",
            json!({"subject": "VPN down", "body": "Since 9:00.", "category": "Network"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    let t = &reply.body;
    for field in [
        "id",
        "number",
        "status",
        "priority",
        "tier",
        "team",
        "organization",
    ] {
        assert!(!t[field].is_null(), "{field} missing in {t}");
    }
    assert_eq!(t["status"], "new");
    assert_eq!(t["priority"], "normal");
    assert_eq!(t["tier"], "L0");
    assert_eq!(t["team"], "Intake");
    assert_eq!(t["organization"], "Acme");
    assert_eq!(t["category"], "network");
    assert_eq!(t["requester"]["email"], "carol@acme.test");
    let id = t["id"].as_i64().unwrap();
    assert_eq!(
        reply.headers.get("location").and_then(|v| v.to_str().ok()),
        Some(format!("/api/v1/tickets/{id}").as_str())
    );
    let got = app.get("acme", &format!("/api/v1/tickets/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["subject"], "VPN down");
    let events = app.get("l1", &format!("/api/v1/tickets/{id}/events")).await;
    let kinds: Vec<&str> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ticket.created"]);
    let first_message = app
        .get("l1", &format!("/api/v1/tickets/{id}/messages"))
        .await;
    assert_eq!(
        events.body["items"][0]["data"]["message_id"],
        first_message.body["items"][0]["id"]
    );
    assert_eq!(events.body["items"][0]["actor"]["email"], "carol@acme.test");
}

#[tokio::test]
async fn staff_raise_on_behalf_with_triage_fields_and_priority_matrix() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": "Orders API 502", "body": "Peak traffic.", "requester_email": "gary@globex.test",
                   "team": "Support L1", "impact": "high", "urgency": "high", "tags": ["API", "api", "peak"]}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    assert_eq!(reply.body["priority"], "urgent");
    assert_eq!(reply.body["tier"], "L1");
    assert_eq!(reply.body["organization"], "Globex");
    assert_eq!(reply.body["requester"]["email"], "gary@globex.test");
    assert_eq!(reply.body["tags"], json!(["api", "peak"]));
    let explicit = app
        .post("l1", "/api/v1/tickets", json!({"subject": "s", "body": "b", "impact": "high", "urgency": "high", "priority": "low"}))
        .await;
    assert_eq!(explicit.body["priority"], "low");
}

#[tokio::test]
async fn bad_input_names_the_field_and_writes_nothing() {
    let app = spawn_app().await;
    let tickets_before = app.ticket_count().await;
    let events_before = app.event_count().await;
    let cases = [
        (
            json!({"subject": "", "body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject": "   ", "body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject": "x".repeat(201), "body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject": "ok", "body": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body",
        ),
        (
            json!({"subject": "ok", "body": "x".repeat(70_000)}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "body",
        ),
        (
            json!({"subject": "ok", "body": "x", "team": "Nowhere"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "team",
        ),
        (
            json!({"subject": "ok", "body": "x", "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "colour",
        ),
        (
            json!({"body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject": 7, "body": "x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "subject",
        ),
        (
            json!({"subject": "ok", "body": "x", "impact": "huge"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "impact",
        ),
        (
            json!({"subject": "ok", "body": "x", "requester_email": "nobody@x.test"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "requester_email",
        ),
        (
            json!({"subject": "ok", "body": "x", "tags": ["two words"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "tags",
        ),
    ];
    for (body, status, field) in cases {
        let reply = app.post("l1", "/api/v1/tickets", body.clone()).await;
        assert_eq!(reply.status, status, "{body}: {:?}", reply.body);
        assert_eq!(
            reply
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        assert!(
            reply.error_fields().iter().any(|f| f == field),
            "{field} not named in {:?}",
            reply.body
        );
        assert_eq!(reply.body["status"], status.as_u16());
        assert_eq!(reply.body["code"], "invalid_input");
    }
    let several = app
        .post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": "", "body": "", "team": "Nowhere"}),
        )
        .await;
    assert_eq!(several.error_fields(), ["subject", "body", "team"]);

    let malformed = app
        .call_raw(
            "l1",
            Method::POST,
            "/api/v1/tickets",
            "application/json",
            b"{\"subject\": ".to_vec(),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    assert_eq!(malformed.body["code"], "malformed_json");
    let wrong_type = app
        .call_raw(
            "l1",
            Method::POST,
            "/api/v1/tickets",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = app
        .call_raw(
            "l1",
            Method::POST,
            "/api/v1/tickets",
            "application/json",
            vec![b' '; 400 * 1024],
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(app.ticket_count().await, tickets_before);
    assert_eq!(app.event_count().await, events_before);
}

/// A ticket names the service it is about: staff set it on creation or later, by name
/// regardless of case; an unknown name is refused naming the field; clearing it is recorded.
#[tokio::test]
async fn tickets_name_the_service_they_are_about() {
    let app = spawn_app().await;
    let svc = app
        .post(
            "manager",
            "/api/v1/services",
            json!({"name": "Payments API"}),
        )
        .await;
    assert_eq!(svc.status, StatusCode::CREATED, "{:?}", svc.body);
    let created = app
        .post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": "Card payments fail", "body": "Since 10:00.",
                   "requester_email": "gary@globex.test", "service": "payments api"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    assert_eq!(created.body["service"], "Payments API");
    assert_eq!(created.body["service_id"], svc.body["id"]);
    let id = created.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/tickets/{id}");
    assert_eq!(app.get("l1", &path).await.body["service"], "Payments API");

    let unknown = app
        .post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": "s", "body": "b", "service": "Nowhere"}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.error_fields(), ["service"]);
    // The name is resolved in the create's transaction; with another bad field, one answer
    // still names both.
    let two_bad = app
        .post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": "", "body": "b", "service": "nowhere"}),
        )
        .await;
    assert_eq!(two_bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(two_bad.error_fields(), ["subject", "service"]);
    // A name beyond ASCII matches as typed.
    let umlaut = app
        .post(
            "manager",
            "/api/v1/services",
            json!({"name": "Zahlungsdienst Ä"}),
        )
        .await;
    assert_eq!(umlaut.status, StatusCode::CREATED, "{:?}", umlaut.body);
    let named = app
        .post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": "s", "body": "b", "service": "zahlungsdienst Ä"}),
        )
        .await;
    assert_eq!(named.status, StatusCode::CREATED, "{:?}", named.body);
    assert_eq!(named.body["service"], "Zahlungsdienst Ä");
    assert_eq!(app.ticket_count().await, 2);
    let bad_patch = app
        .patch(
            "l1",
            &path,
            json!({"service": "Nowhere", "priority": "urgent"}),
        )
        .await;
    assert_eq!(bad_patch.error_fields(), ["service"]);
    assert_eq!(app.get("l1", &path).await.body["priority"], "normal");

    // The queue filters by it.
    let listed = app
        .get("l1", "/api/v1/tickets?service=Payments%20API&status=all")
        .await;
    assert_eq!(listed.status, StatusCode::OK, "{:?}", listed.body);
    let ids: Vec<i64> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [id]);
    let other = app
        .post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": "Other", "body": "b"}),
        )
        .await;
    assert_eq!(other.status, StatusCode::CREATED, "{:?}", other.body);
    assert!(other.body["service"].is_null());
    let unknown_filter = app.get("l1", "/api/v1/tickets?service=Nowhere").await;
    assert_eq!(unknown_filter.error_fields(), ["service"]);
    let cleared = app.patch("l1", &path, json!({"service": null})).await;
    assert_eq!(cleared.status, StatusCode::OK, "{:?}", cleared.body);
    assert!(cleared.body["service"].is_null());
    let events = app.get("l1", &format!("{path}/events")).await;
    let update = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "ticket.updated")
        .unwrap();
    assert_eq!(update["data"]["before"]["service"], "Payments API");
    assert!(update["data"]["after"]["service"].is_null());

    // Customers neither set it on their tickets nor change it.
    let by_customer = app
        .post(
            "globex",
            "/api/v1/tickets",
            json!({"subject": "s", "body": "b", "service": "Payments API"}),
        )
        .await;
    assert_eq!(by_customer.status, StatusCode::FORBIDDEN);
    assert_eq!(by_customer.error_fields(), ["service"]);
    let patched = app
        .patch("globex", &path, json!({"service": "Payments API"}))
        .await;
    assert_eq!(patched.status, StatusCode::FORBIDDEN);
    assert_eq!(patched.error_fields(), ["service"]);
}

#[tokio::test]
async fn customers_cannot_set_staff_fields() {
    let app = spawn_app().await;
    for field in ["team", "priority", "requester_email"] {
        let mut body = json!({"subject": "s", "body": "b"});
        body[field] = json!(match field {
            "team" => "Support L1",
            "priority" => "urgent",
            _ => "gary@globex.test",
        });
        let reply = app.post("acme", "/api/v1/tickets", body).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{field}");
        assert_eq!(reply.error_fields(), [field]);
    }
    assert_eq!(app.ticket_count().await, 0);
}

#[tokio::test]
async fn idempotency_key_returns_the_first_result() {
    let app = spawn_app().await;
    let send = |key: &'static str, subject: &'static str| {
        let app = &app;
        async move {
            let request = reqwest::Client::new()
                .post(format!("{}/api/v1/tickets", app.base))
                .bearer_auth(&app.tokens["l1"])
                .header("idempotency-key", key)
                .json(&json!({"subject": subject, "body": "b"}));
            let response = request.send().await.unwrap();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (
                response.status(),
                replayed,
                response.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (s1, r1, first) = send("order-17", "first").await;
    let (s2, r2, second) = send("order-17", "second").await;
    assert_eq!((s1, r1), (StatusCode::CREATED, false));
    assert_eq!((s2, r2), (StatusCode::CREATED, true));
    assert_eq!(first["id"], second["id"]);
    assert_eq!(second["subject"], "first");
    let (_, _, other) = send("order-18", "third").await;
    assert_ne!(other["id"], first["id"]);
    assert_eq!(app.ticket_count().await, 2);
}

#[tokio::test]
async fn queue_filters_sorts_and_pages_with_a_cursor() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for (i, (impact, urgency)) in [
        ("low", "low"),
        ("high", "high"),
        ("medium", "medium"),
        ("high", "medium"),
        ("low", "low"),
    ]
    .into_iter()
    .enumerate()
    {
        let reply = app
            .post(
                "l1",
                "/api/v1/tickets",
                json!({"subject": format!("t{i}"), "body": "b", "team": "Support L1", "impact": impact, "urgency": urgency,
                       "tags": if i % 2 == 0 { vec!["even"] } else { vec!["odd"] }}),
            )
            .await;
        ids.push(reply.body["id"].as_i64().unwrap());
    }
    app.ticket("l1", "in intake").await;

    let queue = app
        .get(
            "l1",
            "/api/v1/tickets?team=Support%20L1&status=new&sort=priority&limit=2",
        )
        .await;
    assert_eq!(queue.status, StatusCode::OK, "{:?}", queue.body);
    let page1: Vec<&str> = queue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(page1, ["t1", "t3"]);
    let cursor = queue.body["next_cursor"].as_str().unwrap().to_owned();
    let next = app.get("l1", &format!("/api/v1/tickets?team=Support%20L1&status=new&sort=priority&limit=2&cursor={cursor}")).await;
    let page2: Vec<&str> = next.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap())
        .collect();
    assert_eq!(page2, ["t2", "t0"]);
    let cursor = next.body["next_cursor"].as_str().unwrap().to_owned();
    let last = app.get("l1", &format!("/api/v1/tickets?team=Support%20L1&status=new&sort=priority&limit=2&cursor={cursor}")).await;
    assert_eq!(last.body["items"].as_array().unwrap().len(), 1);
    assert!(last.body["next_cursor"].is_null());

    let newest = app.get("l1", "/api/v1/tickets?sort=newest&limit=1").await;
    assert_eq!(newest.body["items"][0]["subject"], "in intake");
    let tagged = app.get("l1", "/api/v1/tickets?tag=odd").await;
    assert_eq!(tagged.body["items"].as_array().unwrap().len(), 2);
    let tier = app.get("l1", "/api/v1/tickets?tier=L0").await;
    assert_eq!(tier.body["items"].as_array().unwrap().len(), 1);
    let urgent = app.get("l1", "/api/v1/tickets?priority=urgent").await;
    assert_eq!(urgent.body["items"][0]["id"], ids[1]);
    let unassigned = app.get("l1", "/api/v1/tickets?assignee=none").await;
    assert_eq!(unassigned.body["items"].as_array().unwrap().len(), 6);
    let search = app.get("l1", "/api/v1/tickets?q=INTAKE").await;
    assert_eq!(search.body["items"].as_array().unwrap().len(), 1);

    let bad = app
        .get(
            "l1",
            "/api/v1/tickets?status=done&tier=L9&sort=random&limit=0&team=Nope",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.error_fields(),
        ["team", "status", "tier", "sort", "limit"]
    );
    let bad_cursor = app.get("l1", "/api/v1/tickets?cursor=garbage").await;
    assert_eq!(bad_cursor.error_fields(), ["cursor"]);
}

#[tokio::test]
async fn status_moves_follow_the_lifecycle() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "printer").await;
    let path = format!("/api/v1/tickets/{id}");
    let refused = app.patch("l0", &path, json!({"status": "closed"})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_fields(), ["status"]);
    for status in ["open", "pending", "resolved", "closed", "open"] {
        let reply = app.patch("l0", &path, json!({"status": status})).await;
        assert_eq!(reply.status, StatusCode::OK, "{status}: {:?}", reply.body);
        assert_eq!(reply.body["status"], status);
    }
    let back_to_new = app.patch("l0", &path, json!({"status": "new"})).await;
    assert_eq!(back_to_new.status, StatusCode::UNPROCESSABLE_ENTITY);
    let events = app.get("l0", &format!("{path}/events")).await;
    let moves: Vec<String> = events.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "ticket.updated")
        .map(|e| {
            format!(
                "{}>{}",
                e["data"]["before"]["status"].as_str().unwrap(),
                e["data"]["after"]["status"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            "new>open",
            "open>pending",
            "pending>resolved",
            "resolved>closed",
            "closed>open"
        ]
    );
}

#[tokio::test]
async fn triage_assigns_tags_and_recomputes_priority() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "slow app").await;
    let path = format!("/api/v1/tickets/{id}");
    let assigned = app
        .patch(
            "l0",
            &path,
            json!({"assignee": "me", "impact": "high", "urgency": "high", "add_tags": ["VIP"]}),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);
    assert_eq!(assigned.body["assignee"]["email"], "l0@desk.test");
    assert_eq!(assigned.body["priority"], "urgent");
    assert_eq!(assigned.body["tags"], json!(["vip"]));
    let not_member = app
        .patch("l0", &path, json!({"assignee": "l2@desk.test"}))
        .await;
    assert_eq!(not_member.error_fields(), ["assignee"]);
    let customer = app
        .patch("l0", &path, json!({"assignee": "carol@acme.test"}))
        .await;
    assert_eq!(customer.error_fields(), ["assignee"]);
    let manager = app
        .patch(
            "l0",
            &path,
            json!({"assignee": "manager@desk.test", "remove_tags": ["vip"]}),
        )
        .await;
    assert_eq!(manager.body["assignee"]["email"], "manager@desk.test");
    assert_eq!(manager.body["tags"], json!([]));
    let unassigned = app.patch("l0", &path, json!({"assignee": null})).await;
    assert!(unassigned.body["assignee"].is_null());
    let wrong_tier = app.patch("l0", &path, json!({"team": "Experts L2"})).await;
    assert_eq!(wrong_tier.error_fields(), ["team"]);
    let updates = app.get("l0", &format!("{path}/events")).await;
    let first_update = updates.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "ticket.updated")
        .unwrap();
    assert_eq!(first_update["data"]["before"]["priority"], "normal");
    assert_eq!(first_update["data"]["after"]["priority"], "urgent");
    assert_eq!(first_update["data"]["after"]["assignee"], "l0@desk.test");
}

#[tokio::test]
async fn replies_and_notes_move_status_and_notes_stay_internal() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "login loop").await;
    let messages = format!("/api/v1/tickets/{id}/messages");
    let note = app
        .post(
            "l0",
            &messages,
            json!({"body": "Customer is on the old SSO config", "internal": true}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    assert_eq!(
        app.get("l0", &format!("/api/v1/tickets/{id}")).await.body["status"],
        "new"
    );
    let reply = app
        .post(
            "l0",
            &messages,
            json!({"body": "Please clear cookies and retry."}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(
        app.get("l0", &format!("/api/v1/tickets/{id}")).await.body["status"],
        "open"
    );
    app.patch(
        "l0",
        &format!("/api/v1/tickets/{id}"),
        json!({"status": "pending"}),
    )
    .await;
    let answer = app
        .post("acme2", &messages, json!({"body": "Still looping."}))
        .await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(
        app.get("l0", &format!("/api/v1/tickets/{id}")).await.body["status"],
        "open"
    );

    let customer_view = app.get("acme", &messages).await;
    let bodies: Vec<&str> = customer_view.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "Details.",
            "Please clear cookies and retry.",
            "Still looping."
        ]
    );
    let staff_view = app.get("l0", &messages).await;
    assert_eq!(staff_view.body["items"].as_array().unwrap().len(), 4);

    let customer_events = app
        .get("acme", &format!("/api/v1/tickets/{id}/events"))
        .await;
    let text = customer_events.body.to_string();
    assert!(!text.contains("\"internal\":true"), "{text}");
    let staff_events = app.get("l0", &format!("/api/v1/tickets/{id}/events")).await;
    assert!(staff_events.body.to_string().contains("\"internal\":true"));

    let sneaky = app
        .post("acme", &messages, json!({"body": "psst", "internal": true}))
        .await;
    assert_eq!(sneaky.status, StatusCode::FORBIDDEN);
    assert_eq!(sneaky.error_fields(), ["internal"]);
    let empty = app.post("acme", &messages, json!({"body": " "})).await;
    assert_eq!(empty.error_fields(), ["body"]);
}

#[tokio::test]
async fn customers_resolve_and_reopen_their_own_tickets_only() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "question").await;
    let path = format!("/api/v1/tickets/{id}");
    let resolved = app
        .patch("acme2", &path, json!({"status": "resolved"}))
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:?}", resolved.body);
    let reopened = app.patch("acme", &path, json!({"status": "open"})).await;
    assert_eq!(reopened.body["status"], "open");
    let pending = app.patch("acme", &path, json!({"status": "pending"})).await;
    assert_eq!(pending.status, StatusCode::FORBIDDEN);
    let priority = app
        .patch("acme", &path, json!({"priority": "urgent"}))
        .await;
    assert_eq!(priority.status, StatusCode::FORBIDDEN);
    assert_eq!(priority.error_fields(), ["priority"]);
    let other = app
        .patch("globex", &path, json!({"status": "resolved"}))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn links_connect_tickets_and_external_bugs() {
    let app = spawn_app().await;
    let a = app.ticket("acme", "a").await;
    let b = app.ticket("acme", "b").await;
    let links = format!("/api/v1/tickets/{b}/links");
    let dup = app
        .post("l1", &links, json!({"kind": "duplicate_of", "target": a}))
        .await;
    assert_eq!(dup.status, StatusCode::CREATED, "{:?}", dup.body);
    let bug = app
        .post(
            "l1",
            &links,
            json!({"kind": "external_bug", "url": "https://tracker.example/ENG-7"}),
        )
        .await;
    assert_eq!(bug.status, StatusCode::CREATED);
    let related = app
        .post("l1", &links, json!({"kind": "related", "target": a}))
        .await;
    assert_eq!(related.status, StatusCode::CREATED);
    for (body, field) in [
        (json!({"kind": "related", "target": b}), "target"),
        (json!({"kind": "related", "target": 99999}), "target"),
        (
            json!({"kind": "external_bug", "url": "javascript:alert(1)"}),
            "url",
        ),
        (json!({"kind": "external_bug"}), "url"),
        (json!({"kind": "sibling", "target": a}), "kind"),
    ] {
        let reply = app.post("l1", &links, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.error_fields(), [field], "{body}");
    }
    let listed = app.get("l1", &links).await;
    let kinds: Vec<&str> = listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["duplicate_of", "external_bug", "related"]);
}

#[tokio::test]
async fn openapi_document_lists_every_route_and_health_answers() {
    let app = spawn_app().await;
    let doc = app.get("nobody", "/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/tickets/{id}/messages",
        "/api/v1/tickets/{id}/escalate",
        "/api/v1/tickets/{id}/events",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/orgs",
        "/healthz",
    ] {
        assert!(doc.body["paths"].get(path).is_some(), "{path} missing");
    }
    let health = app.get("nobody", "/healthz").await;
    assert_eq!(health.body["status"], "ok");
}

#[tokio::test]
async fn queue_counts_follow_creates_moves_and_status_changes() {
    let app = spawn_app().await;
    let a = app.ticket("acme", "a").await;
    let b = app.ticket("acme", "b").await;
    app.ticket("globex", "c").await;
    app.patch(
        "l0",
        &format!("/api/v1/tickets/{a}"),
        json!({"status": "open"}),
    )
    .await;
    app.post(
        "l0",
        &format!("/api/v1/tickets/{b}/escalate"),
        json!({"reason": "r", "tried": "t"}),
    )
    .await;
    app.patch(
        "l1",
        &format!("/api/v1/tickets/{b}"),
        json!({"status": "resolved"}),
    )
    .await;
    let mut counts: Vec<(String, String, i64)> = Vec::new();
    let teams = app.store.teams().await.unwrap();
    for (team, status, n) in app.store.queue_counts().await.unwrap() {
        let name = teams.iter().find(|t| t.id == team).unwrap().name.clone();
        counts.push((name, status.as_str().to_owned(), n));
    }
    counts.sort();
    assert_eq!(
        counts,
        [
            ("Intake".to_owned(), "new".to_owned(), 1),
            ("Intake".to_owned(), "open".to_owned(), 1)
        ]
    );
    // The same numbers as counting the tickets themselves.
    let active = app
        .get("l0", "/api/v1/tickets?status=active&limit=200")
        .await;
    assert_eq!(active.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn concurrent_creates_commit_together_and_each_gets_its_own_ticket() {
    let app = spawn_app().await;
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let client = client.clone();
        let url = format!("{}/api/v1/tickets", app.base);
        let token = app.tokens[if i % 2 == 0 { "l1" } else { "acme" }].clone();
        let l1 = app.tokens["l1"].clone();
        tasks.push(tokio::spawn(async move {
            // Every tenth request names a team that does not exist: refused on its own,
            // while the creates batched with it still commit.
            let (body, token) = if i % 10 == 0 {
                (
                    json!({"subject": format!("burst {i}"), "body": "b", "team": "Nowhere"}),
                    l1,
                )
            } else {
                (
                    json!({"subject": format!("burst {i}"), "body": format!("body of {i}")}),
                    token,
                )
            };
            let reply = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = reply.status();
            (i, status, reply.json::<serde_json::Value>().await.unwrap())
        }));
    }
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let (i, status, ticket) = task.await.unwrap();
        if i % 10 == 0 {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{ticket}");
            assert_eq!(ticket["errors"][0]["field"], "team");
            continue;
        }
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        assert_eq!(ticket["subject"], format!("burst {i}"));
        let id = ticket["id"].as_i64().unwrap();
        assert!(ids.insert(id), "id {id} handed out twice");
        let stored = app.get("l1", &format!("/api/v1/tickets/{id}")).await;
        assert_eq!(stored.body["subject"], format!("burst {i}"));
        assert_eq!(stored.body["created_at"], ticket["created_at"]);
        let messages = app
            .get("l1", &format!("/api/v1/tickets/{id}/messages"))
            .await;
        assert_eq!(messages.body["items"][0]["body"], format!("body of {i}"));
        let events = app.get("l1", &format!("/api/v1/tickets/{id}/events")).await;
        assert_eq!(
            events.body["items"][0]["data"]["message_id"],
            messages.body["items"][0]["id"]
        );
        assert_eq!(
            events.body["items"][0]["data"]["after"]["subject"],
            format!("burst {i}")
        );
    }
    assert_eq!(app.ticket_count().await, 54);
}

#[tokio::test]
async fn imported_tickets_keep_their_state_and_get_messages_and_events() {
    use opsdesk_domain::{Body, Impact, Status, Subject, Tag, Tier, Urgency};
    use opsdesk_store::{ImportedTicket, NewTicket, TeamRef};
    let app = spawn_app().await;
    let team = app.store.team_by_name("Support L1").await.unwrap().unwrap();
    let carol = app
        .store
        .user_by_email("carol@acme.test")
        .await
        .unwrap()
        .unwrap();
    let l1 = app
        .store
        .user_by_email("l1@desk.test")
        .await
        .unwrap()
        .unwrap();
    let created = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    let rows: Vec<ImportedTicket> = [Status::Open, Status::Closed, Status::Pending]
        .into_iter()
        .enumerate()
        .map(|(i, status)| ImportedTicket {
            ticket: NewTicket {
                subject: Subject::parse("subject", &format!("imported {i}")).unwrap(),
                body: Body::parse("body", &format!("first words {i}")).unwrap(),
                requester_id: carol.id,
                team: Some(TeamRef::Id(team.id)),
                impact: Impact::High,
                urgency: Urgency::Low,
                priority: None,
                category: None,
                service: None,
                tags: vec![Tag::parse("tags", "legacy").unwrap()],
                channel: "email",
            },
            org_id: carol.org_id,
            status,
            tier: Tier::L1,
            assignee_id: Some(l1.id),
            // Two rows share an instant: the store keeps them apart by a microsecond.
            created_at: created,
            updated_at: created,
            replies: Vec::new(),
        })
        .collect();
    assert_eq!(
        app.store
            .import_tickets(&rows, None, jiff::Timestamp::now())
            .await
            .unwrap(),
        3
    );
    let listed = app
        .get("acme", "/api/v1/tickets?status=all&sort=oldest")
        .await;
    let items = listed.body["items"].as_array().unwrap();
    let found: Vec<(&str, &str)> = items
        .iter()
        .map(|t| {
            (
                t["subject"].as_str().unwrap(),
                t["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("imported 0", "open"),
            ("imported 1", "closed"),
            ("imported 2", "pending")
        ]
    );
    assert_eq!(items[0]["assignee"]["email"], "l1@desk.test");
    assert_eq!(items[0]["priority"], "normal");
    assert_eq!(items[0]["tags"], json!(["legacy"]));
    for item in items {
        let id = item["id"].as_i64().unwrap();
        let messages = app
            .get("l1", &format!("/api/v1/tickets/{id}/messages"))
            .await;
        assert_eq!(messages.body["items"].as_array().unwrap().len(), 1);
        let events = app.get("l1", &format!("/api/v1/tickets/{id}/events")).await;
        assert_eq!(events.body["items"][0]["kind"], "ticket.imported");
        assert_eq!(
            events.body["items"][0]["data"]["message_id"],
            messages.body["items"][0]["id"]
        );
    }
    let counts = app.store.queue_counts().await.unwrap();
    let active: i64 = counts
        .iter()
        .filter(|(t, _, _)| *t == team.id)
        .map(|(_, _, n)| n)
        .sum();
    assert_eq!(active, 2);
}

#[tokio::test]
async fn a_reader_tailing_the_event_log_never_skips_a_commit() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "busy ticket").await;
    let agent = app
        .store
        .user_by_email("l1@desk.test")
        .await
        .unwrap()
        .unwrap();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let store = app.store.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut cursor = 0;
            loop {
                let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                for event in store.events_after(cursor, 1000).await.unwrap() {
                    cursor = event.seq;
                    seen.push(event.seq);
                }
                if finished {
                    return seen;
                }
                tokio::task::yield_now().await;
            }
        })
    };
    let mut writers = Vec::new();
    for w in 0..8 {
        let store = app.store.clone();
        let agent = agent.id;
        writers.push(tokio::spawn(async move {
            for i in 0..25 {
                let body = opsdesk_domain::Body::parse("body", &format!("note {w}-{i}")).unwrap();
                store
                    .add_message(
                        id,
                        agent,
                        opsdesk_domain::Role::Agent,
                        &body,
                        true,
                        jiff::Timestamp::now(),
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let all: Vec<i64> = app
        .store
        .events_after(0, 1_000_000)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(
        seen, all,
        "the tailing reader missed events that committed behind its cursor"
    );
    assert!(all.len() > 200);
}

#[tokio::test]
async fn a_bad_id_in_the_path_is_a_problem_naming_the_id() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/tickets/abc",
        "/api/v1/tickets/0",
        "/api/v1/tickets/-3/messages",
        "/api/v1/users/x",
    ] {
        let reply = app.get("l1", path).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(reply.error_fields(), ["id"], "{path}");
        assert_eq!(
            reply
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
    }
    let missing = app.get("l1", "/api/v1/tickets/999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["code"], "not_found");
    let no_route = app.get("l1", "/api/v1/nothing-here").await;
    assert_eq!(no_route.status, StatusCode::NOT_FOUND);
    assert_eq!(no_route.body["code"], "not_found");
}

/// The desk the create bench measures: an SLA policy with a level, and a service `checkout`.
async fn realistic_desk(app: &TestApp) {
    let policy = app
        .post(
            "manager",
            "/api/v1/sla/policies",
            json!({"name": "Standard", "targets": {
                "first_response": {"minutes": 240}, "next_response": {"minutes": 480},
                "resolution": {"minutes": 1440}},
                "levels": [{"at": "75%", "metric": "first_response",
                            "actions": [{"kind": "notify_assignee"}]}]}),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{:?}", policy.body);
    let service = app
        .post("manager", "/api/v1/services", json!({"name": "checkout"}))
        .await;
    assert_eq!(service.status, StatusCode::CREATED, "{:?}", service.body);
}

#[tokio::test]
async fn creates_leave_clocks_facts_and_rollup_as_a_recomputation_from_the_log_would() {
    let app = spawn_app().await;
    realistic_desk(&app).await;
    // Concurrent creates share group commits: staff with teams, priorities, services and tags,
    // customers with their organisation.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = reqwest::Client::new();
        let url = format!("{}/api/v1/tickets", app.base);
        let (who, body) = if i % 3 == 0 {
            (
                "acme",
                json!({"subject": format!("writer {i}"), "body": "b"}),
            )
        } else {
            (
                "l1",
                json!({"subject": format!("writer {i}"), "body": "b",
                    "team": if i % 2 == 0 { "Support L1" } else { "Intake" },
                    "impact": if i % 2 == 0 { "low" } else { "high" }, "urgency": "high",
                    "service": (i % 4 == 1).then_some("checkout"),
                    "tags": [format!("t{}", i % 5)]}),
            )
        };
        let token = app.tokens[who].clone();
        tasks.push(tokio::spawn(async move {
            let reply = client
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                who,
                reply.status(),
                reply.json::<serde_json::Value>().await.unwrap(),
            )
        }));
    }
    for task in tasks {
        let (who, status, ticket) = task.await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{ticket}");
        // Customers never see SLA data; staff see the due instant the writer computed.
        assert_eq!(ticket["sla_due_at"].is_string(), who == "l1", "{ticket}");
    }
    let now = jiff::Timestamp::now();
    let differences = app.store.derived_differences(now).await.unwrap();
    assert!(differences.is_empty(), "{differences:#?}");
    let differences = app.store.report_rollup_differences().await.unwrap();
    assert!(differences.is_empty(), "{differences:#?}");
    // The check sees what it should: a month on, every first response has breached, which
    // the stored facts (written at creation, with no scheduler run since) do not say yet.
    let later = now + jiff::SignedDuration::from_hours(24 * 30);
    let stale = app.store.derived_differences(later).await.unwrap();
    assert_eq!(
        stale
            .iter()
            .filter(|d| d.starts_with("facts of ticket"))
            .count(),
        40,
        "{stale:#?}"
    );
}

#[tokio::test]
async fn ticket_creates_keep_to_the_write_path_budget() {
    let app = spawn_app().await;
    realistic_desk(&app).await;
    // The budget (ARCHITECTURE.md) for tickets alike (one requester, one day, team and
    // priority), and for a lone create with two tags and a service. SQLite counts statements:
    // per batch 5 reads (SLA version, teams, each requester, next id, the backlog's mark); per
    // ticket its row, message and event, one per clock (a new ticket runs first response and
    // resolution) and its facts; per commit that writes derived rows one upsert per rollup row
    // (detail and desk; with a service, its two grains too); per backlog written after its
    // tickets' commits 3 (marked, read, cleared); one read per service named, one insert per tag.
    // PostgreSQL counts round trips: `BEGIN` with the log's lock, the read, the write.
    let (per_batch, per_ticket, per_derived_write, per_backlog, lone) = match app.store.backend() {
        opsdesk_store::Backend::Sqlite => (5, 3 + 2 + 1, 2, 3, 5 + 1 + 6 + 2 + 4 + 3),
        opsdesk_store::Backend::Postgres => (3, 0, 0, 0, 3),
    };
    // Derived rows may be written after the answer: the costs are read once they are.
    app.store.settle_derived().await.unwrap();
    let before = app.store.create_costs();
    let reply = app
        .post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": "budget", "body": "b", "tags": ["a", "b"], "service": "checkout"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    app.store.settle_derived().await.unwrap();
    let after = app.store.create_costs();
    assert_eq!(after.batches - before.batches, 1);
    assert_eq!(after.tickets - before.tickets, 1);
    assert_eq!(after.statements - before.statements, lone);
    // Concurrent creates alike: whatever the batching, each batch pays its own share and each
    // ticket its rows.
    let before = app.store.create_costs();
    let replies = futures_util::future::join_all((0..12).map(|i| {
        app.post(
            "l1",
            "/api/v1/tickets",
            json!({"subject": format!("alike {i}"), "body": "b"}),
        )
    }))
    .await;
    assert!(replies.iter().all(|r| r.status == StatusCode::CREATED));
    app.store.settle_derived().await.unwrap();
    let after = app.store.create_costs();
    let (batches, tickets) = (
        after.batches - before.batches,
        after.tickets - before.tickets,
    );
    let (derived_writes, backlogs) = (
        after.derived_writes - before.derived_writes,
        after.backlogs - before.backlogs,
    );
    assert_eq!(tickets, 12);
    assert_eq!(
        after.statements - before.statements,
        batches * per_batch
            + tickets * per_ticket
            + derived_writes * per_derived_write
            + backlogs * per_backlog,
        "{batches} batches, {derived_writes} derived writes, {backlogs} backlogs"
    );
}
