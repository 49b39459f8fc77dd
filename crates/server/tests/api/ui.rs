//! The HTML UI over HTTP: sign-in, session cookies, CSRF on forms, the sign-in limit, and who
//! may open which page.

use jiff::Timestamp;
use opsdesk_server::app::Ctx;
use opsdesk_server::app::{self, Operator};
use opsdesk_server::wire::desk::CreateUserIn;
use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestApp};

const PASSWORD: &str = "correct-horse-battery";

/// Gives `email` a password (test desk users have only API tokens).
async fn with_password(
    app: &TestApp,
    email: &str,
    role: &str,
    org: Option<&str>,
    team: Option<&str>,
) {
    let input = CreateUserIn {
        email: email.into(),
        name: email.split('@').next().unwrap_or("user").into(),
        role: role.into(),
        tier: (role == "agent").then(|| "L1".into()),
        teams: team.map(|t| vec![t.to_owned()]),
        organization: org.map(Into::into),
        password: Some(PASSWORD.into()),
    };
    app::create_user(
        &Ctx::new(&app.store, Operator::Console, Timestamp::now()),
        &input,
    )
    .await
    .unwrap();
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    html.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned()
}

/// Signs in through the form; returns the response to the POST.
async fn sign_in(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let page = client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client
        .post(format!("{}/login", app.base))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("email", email),
            ("password", password),
            ("next", ""),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn sign_in_sets_a_protected_session_cookie_and_sign_out_ends_it() {
    let app = spawn_app().await;
    with_password(&app, "ana@desk.test", "agent", None, Some("Support L1")).await;
    let client = browser();
    let response = sign_in(&app, &client, "ana@desk.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("opsdesk_session="))
        .unwrap()
        .to_owned();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    let desk = client
        .get(format!("{}/desk", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(desk.status(), StatusCode::OK);
    let html = desk.text().await.unwrap();
    assert!(html.contains("Queues"));
    let out = client
        .post(format!("{}/logout", app.base))
        .form(&[("csrf", csrf_of(&html).as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = client
        .get(format!("{}/desk", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(after.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/login"));
}

#[tokio::test]
async fn forms_without_the_session_csrf_token_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    with_password(&app, "carla@acme.test", "customer", Some("Acme"), None).await;
    let client = browser();
    sign_in(&app, &client, "carla@acme.test", PASSWORD).await;
    for token in ["", "forged-token"] {
        let response = client
            .post(format!("{}/portal/tickets", app.base))
            .form(&[
                ("csrf", token),
                ("subject", "Forged"),
                ("body", "b"),
                ("category", ""),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(app.ticket_count().await, 0);
    let page = client
        .get(format!("{}/portal/new", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let created = client
        .post(format!("{}/portal/tickets", app.base))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("subject", "Real"),
            ("body", "b"),
            ("category", "bug"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.ticket_count().await, 1);
}

#[tokio::test]
async fn the_portal_form_shows_the_field_error_and_keeps_what_was_typed() {
    let app = spawn_app().await;
    with_password(&app, "carla@acme.test", "customer", Some("Acme"), None).await;
    let client = browser();
    sign_in(&app, &client, "carla@acme.test", PASSWORD).await;
    let page = client
        .get(format!("{}/portal/new", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = client
        .post(format!("{}/portal/tickets", app.base))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("subject", "Printer on fire"),
            ("body", " "),
            ("category", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(r#"data-field="body">must not be empty"#),
        "{html}"
    );
    assert!(html.contains("value=\"Printer on fire\""));
    assert_eq!(app.ticket_count().await, 0);
}

#[tokio::test]
async fn repeated_wrong_passwords_are_rate_limited() {
    let app = spawn_app().await;
    with_password(&app, "ana@desk.test", "agent", None, Some("Support L1")).await;
    let client = browser();
    for _ in 0..10 {
        let response = sign_in(&app, &client, "ana@desk.test", "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let limited = sign_in(&app, &client, "ana@desk.test", PASSWORD).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let other = sign_in(&app, &client, "nobody@desk.test", "x").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn pages_are_for_their_audience() {
    let app = spawn_app().await;
    with_password(&app, "carla@acme.test", "customer", Some("Acme"), None).await;
    with_password(&app, "gus@globex.test", "customer", Some("Globex"), None).await;
    let acme_ticket = app.ticket("acme", "Acme only").await;
    app.post(
        "l1",
        &format!("/api/v1/tickets/{acme_ticket}/messages"),
        serde_json::json!({"body": "SECRET-NOTE", "internal": true}),
    )
    .await;
    let anonymous = browser()
        .get(format!("{}/desk", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);

    let carla = browser();
    sign_in(&app, &carla, "carla@acme.test", PASSWORD).await;
    assert_eq!(
        carla
            .get(format!("{}/desk", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        carla
            .get(format!("{}/admin", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    let own = carla
        .get(format!("{}/portal/tickets/{acme_ticket}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let html = own.text().await.unwrap();
    assert!(html.contains("Acme only"));
    assert!(!html.contains("SECRET-NOTE"));

    let gus = browser();
    sign_in(&app, &gus, "gus@globex.test", PASSWORD).await;
    let other = gus
        .get(format!("{}/portal/tickets/{acme_ticket}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert!(!other.text().await.unwrap().contains("Acme only"));
    let list = gus
        .get(format!("{}/portal", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!list.contains("Acme only"));
}

#[tokio::test]
async fn an_agent_works_a_ticket_through_the_desk_forms() {
    let app = spawn_app().await;
    with_password(&app, "ana@desk.test", "agent", None, Some("Intake")).await;
    let id = app.ticket("acme", "Desk flow").await;
    let client = browser();
    sign_in(&app, &client, "ana@desk.test", PASSWORD).await;
    let page = client
        .get(format!("{}/desk/tickets/{id}", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    let post = |path: String, fields: Vec<(&'static str, String)>| {
        let client = client.clone();
        let csrf = csrf.clone();
        async move {
            let mut form = vec![("csrf", csrf)];
            form.extend(fields);
            client.post(path).form(&form).send().await.unwrap()
        }
    };
    let base = format!("{}/desk/tickets/{id}", app.base);
    let note = post(
        format!("{base}/messages"),
        vec![
            ("body", "internal thought".into()),
            ("internal", "true".into()),
        ],
    )
    .await;
    assert_eq!(note.status(), StatusCode::SEE_OTHER);
    let triage = post(
        format!("{base}/update"),
        vec![
            ("status", "open".into()),
            ("impact", "high".into()),
            ("urgency", "high".into()),
            ("priority", "".into()),
            ("assignee", "ana@desk.test".into()),
            ("team", "Intake".into()),
            ("category", "network".into()),
            ("tags", "vip, eu".into()),
        ],
    )
    .await;
    assert_eq!(triage.status(), StatusCode::SEE_OTHER);
    let ticket = app.get("l1", &format!("/api/v1/tickets/{id}")).await.body;
    assert_eq!(ticket["priority"], "urgent");
    assert_eq!(ticket["status"], "open");
    assert_eq!(ticket["assignee"]["email"], "ana@desk.test");
    assert_eq!(ticket["tags"], serde_json::json!(["eu", "vip"]));
    let refused = post(
        format!("{base}/escalate"),
        vec![("reason", "".into()), ("tried", "x".into())],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains(r#"data-field="reason""#));
    let escalated = post(
        format!("{base}/escalate"),
        vec![("reason", "needs L1".into()), ("tried", "checked".into())],
    )
    .await;
    assert_eq!(escalated.status(), StatusCode::SEE_OTHER);
    let link = post(
        format!("{base}/links"),
        vec![
            ("kind", "external_bug".into()),
            ("target_or_url", "https://tracker.example/1".into()),
        ],
    )
    .await;
    assert_eq!(link.status(), StatusCode::SEE_OTHER);
    let timeline = client
        .get(&base)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(timeline.contains("escalated from Intake (L0) to Support L1 (L1)"));
    assert!(timeline.contains("internal thought"));
    assert!(timeline.contains("https://tracker.example/1"));
}

#[tokio::test]
async fn an_admin_sets_a_team_escalation_on_the_admin_page() {
    let app = spawn_app().await;
    with_password(&app, "root@desk.test", "admin", None, None).await;
    let client = browser();
    sign_in(&app, &client, "root@desk.test", PASSWORD).await;
    let page = client
        .get(format!("{}/admin", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<title>Admin · opsdesk</title>"),
        "the title must be plain text"
    );
    assert_eq!(page.matches(r#"id="tokens""#).count(), 1);
    let form = |name: &'static str, target: &'static str| {
        let csrf = csrf_of(&page);
        let client = client.clone();
        let url = format!("{}/admin/teams/escalation", app.base);
        async move {
            client
                .post(url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("name", name),
                    ("escalates_to", target),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let refused = form("Experts L2", "Intake").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains(r#"data-field="escalates_to""#));
    let set = form("Intake", "Liaison L3").await;
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let intake = app.store.team_by_name("Intake").await.unwrap().unwrap();
    let l3 = app.store.team_by_name("Liaison L3").await.unwrap().unwrap();
    assert_eq!(intake.escalates_to, Some(l3.id));
}

#[tokio::test]
async fn deactivating_a_user_ends_their_sessions_and_sign_ins() {
    let app = spawn_app().await;
    with_password(&app, "root@desk.test", "admin", None, None).await;
    with_password(&app, "ana@desk.test", "agent", None, Some("Support L1")).await;
    let ana = browser();
    sign_in(&app, &ana, "ana@desk.test", PASSWORD).await;
    assert_eq!(
        ana.get(format!("{}/desk", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let root = browser();
    sign_in(&app, &root, "root@desk.test", PASSWORD).await;
    let page = root
        .get(format!("{}/admin", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let off = root
        .post(format!("{}/admin/users/active", app.base))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("email", "ana@desk.test"),
            ("active", "false"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ana.get(format!("{}/desk", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    let again = sign_in(&app, &browser(), "ana@desk.test", PASSWORD).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let admin_page = root
        .get(format!("{}/admin", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(admin_page.contains("deactivated"));
}

#[tokio::test]
async fn staff_raise_a_ticket_from_the_desk_for_a_customer() {
    let app = spawn_app().await;
    with_password(&app, "ana@desk.test", "agent", None, Some("Support L1")).await;
    let client = browser();
    sign_in(&app, &client, "ana@desk.test", PASSWORD).await;
    let page = client
        .get(format!("{}/desk/new", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = [
        ("csrf", csrf_of(&page)),
        ("requester_email", "carol@acme.test".to_owned()),
        ("subject", "Phoned in: VPN down".to_owned()),
        ("team", "Support L1".to_owned()),
        ("impact", "high".to_owned()),
        ("urgency", "high".to_owned()),
        ("category", "network".to_owned()),
        ("tags", "phone, vpn".to_owned()),
        ("body", "Carol called at 9:05.".to_owned()),
    ];
    let created = client
        .post(format!("{}/desk/tickets", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let list = app.get("acme", "/api/v1/tickets").await;
    let ticket = &list.body["items"][0];
    assert_eq!(ticket["subject"], "Phoned in: VPN down");
    assert_eq!(ticket["channel"], "desk");
    assert_eq!(ticket["priority"], "urgent");
    assert_eq!(ticket["tags"], serde_json::json!(["phone", "vpn"]));
}

#[tokio::test]
async fn report_pages_and_csv_downloads_follow_who_may_read_them() {
    let app = spawn_app().await;
    with_password(&app, "mia@desk.test", "manager", None, None).await;
    with_password(&app, "ana@desk.test", "agent", None, Some("Support L1")).await;
    app.ticket("acme", "Printer offline").await;
    let manager = browser();
    sign_in(&app, &manager, "mia@desk.test", PASSWORD).await;
    let page = manager
        .get(format!("{}/reports?granularity=week", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("<svg class=\"chart\" id=\"chart-volume\""));
    for (path, header) in [
        (
            "/reports/tickets.csv?table=teams",
            "name,created,resolved,active,",
        ),
        (
            "/reports/incidents.csv?table=services",
            "name,incidents,sev1,",
        ),
        (
            "/reports/forecast.csv?table=staffing",
            "weekday,hour,arrivals,agents",
        ),
    ] {
        let csv = manager
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), StatusCode::OK, "{path}");
        assert!(csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(csv.text().await.unwrap().starts_with(header), "{path}");
    }
    let bad = manager
        .get(format!("{}/reports/tickets.csv?table=nope", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // An agent gets their own tickets' report but no forecast.
    let agent = browser();
    sign_in(&app, &agent, "ana@desk.test", PASSWORD).await;
    let own = agent
        .get(format!("{}/reports/tickets.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let forecast = agent
        .get(format!("{}/reports/forecast.csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(forecast.status(), StatusCode::FORBIDDEN);
}
