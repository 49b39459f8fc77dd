//! The authorization matrix: every API route × every role, including a customer of another
//! organisation and an anonymous caller, asserting exactly which are allowed.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// Callers in the order of each row's expected statuses.
const ROLES: [&str; 7] = [
    "admin", "manager", "l1", "auditor", "acme", "globex", "nobody",
];

struct Case {
    method: Method,
    /// `{t}` is a fresh ticket raised by Acme's customer, `{u}` the admin's user id, `{o}` Acme's id.
    path: &'static str,
    body: Option<Value>,
    /// Escalate the fresh ticket once before the call (for de-escalation).
    escalated: bool,
    expect: [u16; 7],
}

fn case(method: Method, path: &'static str, body: Option<Value>, expect: [u16; 7]) -> Case {
    Case {
        method,
        path,
        body,
        escalated: false,
        expect,
    }
}

fn cases() -> Vec<Case> {
    use Method as M;
    let bug = json!({"steps": "s", "expected": "e", "actual": "a", "environment": "v1"});
    let mut all = vec![
        case(
            M::GET,
            "/api/v1/me",
            None,
            [200, 200, 200, 200, 200, 200, 401],
        ),
        case(
            M::GET,
            "/api/v1/tickets",
            None,
            [200, 200, 200, 200, 200, 200, 401],
        ),
        case(
            M::POST,
            "/api/v1/tickets",
            Some(json!({"subject": "s", "body": "b"})),
            [201, 201, 201, 403, 201, 201, 401],
        ),
        case(
            M::GET,
            "/api/v1/tickets/{t}",
            None,
            [200, 200, 200, 200, 200, 404, 401],
        ),
        case(
            M::PATCH,
            "/api/v1/tickets/{t}",
            Some(json!({"add_tags": ["x"]})),
            [200, 200, 200, 403, 403, 404, 401],
        ),
        case(
            M::PATCH,
            "/api/v1/tickets/{t}",
            Some(json!({"status": "resolved"})),
            [200, 200, 200, 403, 200, 404, 401],
        ),
        case(
            M::GET,
            "/api/v1/tickets/{t}/messages",
            None,
            [200, 200, 200, 200, 200, 404, 401],
        ),
        case(
            M::POST,
            "/api/v1/tickets/{t}/messages",
            Some(json!({"body": "hi"})),
            [201, 201, 201, 403, 201, 404, 401],
        ),
        case(
            M::POST,
            "/api/v1/tickets/{t}/messages",
            Some(json!({"body": "n", "internal": true})),
            [201, 201, 201, 403, 403, 404, 401],
        ),
        case(
            M::GET,
            "/api/v1/tickets/{t}/events",
            None,
            [200, 200, 200, 200, 200, 404, 401],
        ),
        case(
            M::POST,
            "/api/v1/tickets/{t}/escalate",
            Some(json!({"reason": "r", "tried": "t"})),
            [200, 200, 200, 403, 403, 404, 401],
        ),
        case(
            M::GET,
            "/api/v1/tickets/{t}/links",
            None,
            [200, 200, 200, 200, 403, 404, 401],
        ),
        case(
            M::POST,
            "/api/v1/tickets/{t}/links",
            Some(json!({"kind": "external_bug", "url": "https://x.example/1"})),
            [201, 201, 201, 403, 403, 404, 401],
        ),
        case(
            M::GET,
            "/api/v1/tickets/{t}/bug-reports",
            None,
            [200, 200, 200, 200, 403, 404, 401],
        ),
        case(
            M::POST,
            "/api/v1/tickets/{t}/bug-reports",
            Some(bug),
            [201, 201, 403, 403, 403, 404, 401],
        ),
        case(
            M::GET,
            "/api/v1/users",
            None,
            [200, 200, 200, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/users/{u}",
            None,
            [200, 200, 200, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/teams",
            None,
            [200, 200, 200, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/teams/1",
            None,
            [200, 200, 200, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/orgs",
            None,
            [200, 200, 200, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/orgs/{o}",
            None,
            [200, 200, 200, 200, 200, 404, 401],
        ),
        case(
            M::POST,
            "/api/v1/orgs",
            Some(json!({"name": "New Org {r}"})),
            [201, 403, 403, 403, 403, 403, 401],
        ),
        case(
            M::POST,
            "/api/v1/teams",
            Some(json!({"name": "New Team {r}", "tier": "L1"})),
            [201, 403, 403, 403, 403, 403, 401],
        ),
        case(
            M::POST,
            "/api/v1/users",
            Some(json!({"email": "new-{r}@desk.test", "name": "N", "role": "auditor"})),
            [201, 403, 403, 403, 403, 403, 401],
        ),
        case(
            M::POST,
            "/api/v1/tokens",
            Some(json!({"email": "l1@desk.test"})),
            [201, 403, 403, 403, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/tokens",
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        case(
            M::DELETE,
            "/api/v1/tokens/{k}",
            None,
            [204, 403, 403, 403, 403, 403, 401],
        ),
        case(
            M::PATCH,
            "/api/v1/users/{u}",
            Some(json!({"name": "Ada Admin"})),
            [200, 403, 403, 403, 403, 403, 401],
        ),
        case(
            M::PATCH,
            "/api/v1/teams/4",
            Some(json!({"escalates_to": null})),
            [200, 403, 403, 403, 403, 403, 401],
        ),
    ];
    let staff_read = [200, 200, 200, 200, 403, 403, 401];
    let sla_write = |created: u16| [created, created, 403, 403, 403, 403, 401];
    let always_open = json!({"mon": "00:00-24:00", "tue": "00:00-24:00", "wed": "00:00-24:00",
        "thu": "00:00-24:00", "fri": "00:00-24:00", "sat": "00:00-24:00", "sun": "00:00-24:00"});
    all.extend([
        case(M::GET, "/api/v1/calendars", None, staff_read),
        case(
            M::POST,
            "/api/v1/calendars",
            Some(json!({"name": "cal-{r}", "zone": "UTC", "hours": {"mon": "09:00-17:00"}})),
            sla_write(201),
        ),
        case(M::GET, "/api/v1/calendars/1", None, staff_read),
        case(
            M::PUT,
            "/api/v1/calendars/1",
            Some(json!({"name": "Around the clock", "zone": "UTC", "hours": always_open})),
            sla_write(200),
        ),
        case(M::GET, "/api/v1/sla/policies", None, staff_read),
        case(
            M::POST,
            "/api/v1/sla/policies",
            Some(json!({"name": "p-{r}", "targets": {"resolution": {"minutes": 60}}})),
            sla_write(201),
        ),
        case(
            M::GET,
            "/api/v1/tickets/{t}/sla",
            None,
            [200, 200, 200, 200, 403, 404, 401],
        ),
        case(M::GET, "/api/v1/sla/at-risk", None, staff_read),
        case(M::GET, "/api/v1/sla/jobs", None, staff_read),
        case(
            M::PATCH,
            "/api/v1/orgs/{o}/sla",
            Some(json!({"plan": "gold"})),
            sla_write(200),
        ),
        case(
            M::PATCH,
            "/api/v1/teams/4",
            Some(json!({"calendar": null})),
            sla_write(200),
        ),
        case(M::GET, "/api/v1/vendors", None, staff_read),
        case(
            M::POST,
            "/api/v1/vendors",
            Some(json!({"name": "v-{r}", "response_minutes": 60})),
            sla_write(201),
        ),
        case(
            M::GET,
            "/api/v1/notifications",
            None,
            [200, 200, 200, 200, 200, 200, 401],
        ),
        case(M::GET, "/api/v1/incidents", None, staff_read),
        // The admin's declaration (first) is incident 1, which the next rows use.
        case(
            M::POST,
            "/api/v1/incidents",
            Some(json!({"title": "t-{r}", "severity": "SEV3"})),
            [201, 201, 201, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/incidents/1", None, staff_read),
        case(
            M::PATCH,
            "/api/v1/incidents/1",
            Some(json!({"summary": "s-{r}"})),
            [200, 200, 200, 403, 403, 403, 401],
        ),
        case(
            M::POST,
            "/api/v1/incidents/1/notes",
            Some(json!({"body": "n-{r}"})),
            [201, 201, 201, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/alerts", None, staff_read),
        case(M::GET, "/api/v1/services", None, staff_read),
        case(
            M::POST,
            "/api/v1/services",
            Some(json!({"name": "svc-{r}"})),
            [201, 201, 403, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/maintenance-windows", None, staff_read),
        case(
            M::GET,
            "/api/v1/integrations",
            None,
            [200, 403, 403, 403, 403, 403, 401],
        ),
        case(
            M::POST,
            "/api/v1/integrations",
            Some(json!({"name": "i-{r}", "kind": "generic"})),
            [201, 403, 403, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/schedules", None, staff_read),
        case(
            M::POST,
            "/api/v1/schedules",
            Some(json!({"name": "s-{r}", "layers": [{"starts_at": "2026-01-05T09:00:00Z",
                "zone": "UTC", "turn": "weekly", "participants": ["admin@desk.test"]}]})),
            [201, 201, 403, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/oncall", None, staff_read),
        case(M::GET, "/api/v1/escalation-policies", None, staff_read),
        case(
            M::POST,
            "/api/v1/escalation-policies",
            Some(json!({"name": "p-{r}", "levels": [{"timeout_minutes": 5, "targets": ["user:admin@desk.test"]}]})),
            [201, 201, 403, 403, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/me/contact-methods",
            None,
            [200, 200, 200, 200, 200, 200, 401],
        ),
        case(
            M::POST,
            "/api/v1/me/contact-methods",
            Some(json!({"kind": "webhook", "address": "https://hooks.test/{r}"})),
            [201, 201, 201, 422, 422, 422, 401],
        ),
        case(M::GET, "/api/v1/incidents/1/pages", None, staff_read),
        case(
            M::GET,
            "/api/v1/status",
            None,
            [200, 200, 200, 200, 200, 200, 200],
        ),
        case(
            M::POST,
            "/api/v1/status/subscribers",
            Some(json!({"webhook": "https://hooks.test/status-{r}"})),
            [204, 204, 403, 403, 403, 403, 401],
        ),
        case(
            M::POST,
            "/api/v1/incidents/1/status-updates",
            Some(json!({"status": "investigating", "impact": "degraded", "body": "b-{r}", "title": "Public {r}"})),
            [201, 201, 201, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/incidents/1/status-updates", None, staff_read),
        case(
            M::PUT,
            "/api/v1/incidents/1/review",
            Some(json!({"summary": "s-{r}"})),
            [200, 200, 200, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/incidents/1/review", None, staff_read),
        case(M::GET, "/api/v1/action-items", None, staff_read),
        // Incident 1 has no linked tickets: allowed callers get the field error.
        case(
            M::POST,
            "/api/v1/incidents/1/reply",
            Some(json!({"body": "b-{r}"})),
            [422, 422, 422, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/problems", None, staff_read),
        case(
            M::POST,
            "/api/v1/problems",
            Some(json!({"title": "p-{r}"})),
            [201, 201, 201, 403, 403, 403, 401],
        ),
    ]);
    let admin_only = [200, 403, 403, 403, 403, 403, 401];
    let admin_missing = [404, 403, 403, 403, 403, 403, 401];
    all.extend([
        case(M::GET, "/api/v1/mailboxes", None, admin_only),
        case(
            M::POST,
            "/api/v1/mailboxes",
            Some(json!({"name": "mb-{r}", "address": "mb-{r}@desk.example", "team": "Intake"})),
            [201, 403, 403, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/mailboxes/999999", None, admin_missing),
        case(
            M::PUT,
            "/api/v1/mailboxes/999999",
            Some(json!({"name": "x", "address": "x@desk.example", "team": "Intake"})),
            admin_missing,
        ),
        case(
            M::POST,
            "/api/v1/mailboxes/999999/fetch",
            None,
            admin_missing,
        ),
        case(M::GET, "/api/v1/mail", None, admin_only),
        case(
            M::GET,
            "/api/v1/mail/999999",
            None,
            [404, 404, 404, 404, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/mail/999999/source",
            None,
            [404, 404, 404, 404, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/tickets/{t}/mail",
            None,
            [200, 200, 200, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/tickets/{t}/attachments",
            None,
            [200, 200, 200, 200, 200, 404, 401],
        ),
        case(
            M::GET,
            "/api/v1/attachments/999999",
            None,
            [404, 404, 404, 404, 404, 404, 401],
        ),
        case(M::GET, "/api/v1/mail-templates", None, admin_only),
        case(
            M::PUT,
            "/api/v1/mail-templates/reply",
            Some(json!({"subject": "{{ ticket.subject }}", "body": "{{ message.body }}"})),
            admin_only,
        ),
        case(M::GET, "/api/v1/orgs/{o}/domains", None, admin_only),
        case(
            M::PUT,
            "/api/v1/orgs/{o}/domains",
            Some(json!({"domains": []})),
            admin_only,
        ),
    ]);
    let readers = [200, 200, 200, 200, 200, 200, 401];
    let staff_readers = [200, 200, 200, 200, 403, 403, 401];
    let writers = [200, 200, 200, 403, 403, 403, 401];
    let shapers = [200, 200, 403, 403, 403, 403, 401];
    let raters = [204, 204, 204, 403, 204, 204, 401];
    all.extend([
        case(M::GET, "/api/v1/search?q=matrix", None, readers),
        case(M::GET, "/api/v1/search/suggest?q=matrix", None, readers),
        case(M::GET, "/api/v1/search/status", None, staff_readers),
        case(
            M::POST,
            "/api/v1/search/reindex",
            None,
            [202, 403, 403, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/kb/categories", None, readers),
        case(
            M::POST,
            "/api/v1/kb/categories",
            Some(json!({"name": "category of {r}"})),
            [201, 201, 403, 403, 403, 403, 401],
        ),
        case(
            M::PUT,
            "/api/v1/kb/categories/{c}",
            Some(json!({"name": "Shared"})),
            shapers,
        ),
        case(M::GET, "/api/v1/articles", None, readers),
        case(
            M::POST,
            "/api/v1/articles",
            Some(json!({"title": "T", "body": "B"})),
            [201, 201, 201, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/articles/{a}", None, readers),
        case(
            M::PUT,
            "/api/v1/articles/{a}",
            Some(json!({"title": "T2", "body": "B2", "visibility": "public"})),
            writers,
        ),
        case(M::POST, "/api/v1/articles/{a}/publish", None, writers),
        case(M::POST, "/api/v1/articles/{a}/archive", None, writers),
        case(M::GET, "/api/v1/articles/{a}/versions", None, staff_readers),
        case(
            M::GET,
            "/api/v1/articles/{a}/versions/1",
            None,
            staff_readers,
        ),
        case(
            M::POST,
            "/api/v1/articles/{a}/versions/1/restore",
            None,
            writers,
        ),
        case(M::GET, "/api/v1/articles/{a}/feedback", None, staff_readers),
        case(
            M::POST,
            "/api/v1/articles/{a}/feedback",
            Some(json!({"helpful": true})),
            raters,
        ),
        case(M::POST, "/api/v1/articles/{a}/deflections", None, raters),
        case(
            M::GET,
            "/api/v1/tickets/{t}/articles",
            None,
            [200, 200, 200, 200, 200, 404, 401],
        ),
        case(
            M::POST,
            "/api/v1/tickets/{t}/articles",
            Some(json!({"article": "{a}"})),
            [201, 201, 201, 403, 403, 403, 401],
        ),
        case(
            M::POST,
            "/api/v1/problems/{p}/article",
            Some(json!({})),
            writers,
        ),
        case(M::GET, "/api/v1/runbooks", None, staff_readers),
        case(
            M::POST,
            "/api/v1/runbooks",
            Some(json!({"title": "runbook of {r}", "steps_text": "## a"})),
            [201, 201, 201, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/runbooks/{rb}", None, staff_readers),
        case(
            M::PUT,
            "/api/v1/runbooks/{rb}",
            Some(json!({"title": "Shared runbook", "steps_text": "## a\n## b"})),
            writers,
        ),
        case(M::GET, "/api/v1/tickets/{t}/runbook-runs", None, staff_readers),
        case(
            M::POST,
            "/api/v1/tickets/{t}/runbook-runs",
            Some(json!({"runbook": "{rb}"})),
            [201, 201, 201, 403, 403, 404, 401],
        ),
        case(M::GET, "/api/v1/incidents/{i}/runbook-runs", None, staff_readers),
        case(
            M::POST,
            "/api/v1/incidents/{i}/runbook-runs",
            Some(json!({"runbook": "{rb}"})),
            [201, 201, 201, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/runbook-runs/{run}", None, staff_readers),
        case(
            M::POST,
            "/api/v1/runbook-runs/{run}/steps/1",
            Some(json!({"note": "seen"})),
            [200, 200, 200, 403, 403, 404, 401],
        ),
        case(M::GET, "/api/v1/checks", None, staff_readers),
        case(
            M::POST,
            "/api/v1/checks",
            Some(json!({"name": "check of {r}", "runbook": "Shared runbook", "team": "Support L1", "rrule": "FREQ=DAILY", "start": "2030-01-01T09:00", "zone": "UTC"})),
            [201, 201, 403, 403, 403, 403, 401],
        ),
        case(M::GET, "/api/v1/checks/{ck}", None, staff_readers),
        case(
            M::PUT,
            "/api/v1/checks/{ck}",
            Some(json!({"name": "Shared check", "runbook": "Shared runbook", "team": "Support L1", "rrule": "FREQ=WEEKLY", "start": "2030-01-01T09:00", "zone": "UTC"})),
            shapers,
        ),
    ]);
    all.push(Case {
        method: M::POST,
        path: "/api/v1/tickets/{t}/deescalate",
        body: Some(json!({"note": "back to you"})),
        escalated: true,
        expect: [200, 200, 200, 403, 403, 404, 401],
    });
    // Reports: the desk's for admins, managers and auditors, an agent's own for agents;
    // /metrics for the desk's readers only.
    all.extend([
        case(
            M::GET,
            "/api/v1/reports/tickets",
            None,
            [200, 200, 200, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/reports/incidents",
            None,
            [200, 200, 200, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/api/v1/reports/forecast",
            None,
            [200, 200, 403, 200, 403, 403, 401],
        ),
        case(
            M::GET,
            "/metrics",
            None,
            [200, 200, 403, 200, 403, 403, 401],
        ),
        // Only the requester rates, and only a resolved ticket (the fresh one is new).
        case(
            M::POST,
            "/api/v1/tickets/{t}/satisfaction",
            Some(json!({"score": 5})),
            [403, 403, 403, 403, 409, 404, 401],
        ),
    ]);
    all
}

async fn fresh_ticket(app: &TestApp, escalated: bool) -> i64 {
    let id = app.ticket("acme", "matrix").await;
    if escalated {
        let up = app
            .post(
                "admin",
                &format!("/api/v1/tickets/{id}/escalate"),
                json!({"reason": "r", "tried": "t"}),
            )
            .await;
        assert_eq!(up.status.as_u16(), 200);
    }
    id
}

#[tokio::test]
async fn every_route_for_every_role() {
    let app = spawn_app().await;
    let admin_id = app.get("admin", "/api/v1/me").await.body["id"]
        .as_i64()
        .unwrap();
    let acme_id = app.store.org_by_name("Acme").await.unwrap().unwrap().id;
    let category = app
        .post("admin", "/api/v1/kb/categories", json!({"name": "Shared"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    // A runbook, a run on Acme's ticket, an incident and a check every row may use.
    let runbook = app
        .post(
            "admin",
            "/api/v1/runbooks",
            json!({"title": "Shared runbook", "steps_text": "## a\n## b"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let run_ticket = app.ticket("acme", "runbook matrix").await;
    let run = app
        .post(
            "admin",
            &format!("/api/v1/tickets/{run_ticket}/runbook-runs"),
            json!({"runbook": runbook}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let incident = app
        .post(
            "admin",
            "/api/v1/incidents",
            json!({"title": "Matrix incident", "severity": "sev3"}),
        )
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let check = app
        .post("admin", "/api/v1/checks", json!({"name": "Shared check", "runbook": "Shared runbook", "team": "Support L1", "rrule": "FREQ=DAILY", "start": "2030-01-01T09:00", "zone": "UTC"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases() {
        for (role, expected) in ROLES.iter().zip(case.expect) {
            let ticket = fresh_ticket(&app, case.escalated).await;
            // `{k}`: a fresh API token of another user, so each caller revokes its own target.
            let token = if case.path.contains("{k}") {
                let made = app
                    .post(
                        "admin",
                        "/api/v1/tokens",
                        json!({"email": "manager@desk.test"}),
                    )
                    .await;
                made.body["id"].as_i64().unwrap()
            } else {
                0
            };
            // `{a}`: a fresh published public article; `{p}`: a fresh known error.
            let article = if case.path.contains("{a}")
                || case
                    .body
                    .as_ref()
                    .is_some_and(|b| b.to_string().contains("{a}"))
            {
                let made = app
                    .post(
                        "admin",
                        "/api/v1/articles",
                        json!({"title": "Matrix", "body": "B", "visibility": "public", "publish": true}),
                    )
                    .await;
                made.body["id"].as_i64().unwrap()
            } else {
                0
            };
            let problem = if case.path.contains("{p}") {
                let made = app
                    .post("admin", "/api/v1/problems", json!({"title": "Matrix"}))
                    .await;
                let id = made.body["id"].as_i64().unwrap();
                app.call(
                    "admin",
                    Method::PUT,
                    &format!("/api/v1/problems/{id}"),
                    Some(json!({"title": "Matrix", "status": "known_error", "root_cause": "c", "workaround": "w"})),
                )
                .await;
                id
            } else {
                0
            };
            let path = case
                .path
                .replace("{rb}", &runbook.to_string())
                .replace("{run}", &run.to_string())
                .replace("{ck}", &check.to_string())
                .replace("{i}", &incident.to_string())
                .replace("{a}", &article.to_string())
                .replace("{p}", &problem.to_string())
                .replace("{c}", &category.to_string())
                .replace("{k}", &token.to_string())
                .replace("{t}", &ticket.to_string())
                .replace("{u}", &admin_id.to_string())
                .replace("{o}", &acme_id.to_string());
            let body = case.body.as_ref().map(|b| {
                let text = b
                    .to_string()
                    .replace("{r}", role)
                    .replace("\"{a}\"", &article.to_string())
                    .replace("\"{rb}\"", &runbook.to_string());
                serde_json::from_str(&text).unwrap()
            });
            let reply = app.call(role, case.method.clone(), &path, body).await;
            checked += 1;
            if reply.status.as_u16() != expected {
                failures.push(format!(
                    "{} {} as {role}: expected {expected}, got {} {}",
                    case.method, case.path, reply.status, reply.body
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, 129 * ROLES.len());
}

#[tokio::test]
async fn a_customer_never_sees_another_organisations_tickets() {
    let app = spawn_app().await;
    let acme_ticket = app.ticket("acme", "acme secret").await;
    let own = app.ticket("globex", "globex own").await;
    let list = app
        .get("globex", "/api/v1/tickets?status=all&limit=200")
        .await;
    let ids: Vec<i64> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [own]);
    let filtered = app.get("globex", "/api/v1/tickets?organization=Acme").await;
    assert_eq!(filtered.body["items"].as_array().map(Vec::len), Some(0));
    let searched = app.get("globex", "/api/v1/tickets?q=secret").await;
    assert_eq!(searched.body["items"].as_array().map(Vec::len), Some(0));
    for path in ["", "/messages", "/events"] {
        let reply = app
            .get("globex", &format!("/api/v1/tickets/{acme_ticket}{path}"))
            .await;
        assert_eq!(reply.status.as_u16(), 404, "{path}");
        assert!(!reply.body.to_string().contains("acme secret"));
    }
    let colleague = app.get("acme2", "/api/v1/tickets").await;
    assert_eq!(colleague.body["items"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_bad_or_missing_token_is_unauthenticated() {
    let app = spawn_app().await;
    let mut with_bad = reqwest::Client::new()
        .get(format!("{}/api/v1/tickets", app.base))
        .bearer_auth("odk_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_eq!(with_bad.status().as_u16(), 401);
    assert_eq!(
        with_bad
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok()),
        Some("Bearer")
    );
    with_bad = reqwest::Client::new()
        .get(format!("{}/api/v1/tickets", app.base))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_eq!(with_bad.status().as_u16(), 401);
}

#[tokio::test]
async fn a_revoked_token_stops_working_at_once() {
    let app = spawn_app().await;
    let created = app
        .post(
            "admin",
            "/api/v1/tokens",
            json!({"email": "l1@desk.test", "name": "ci"}),
        )
        .await;
    assert_eq!(created.status.as_u16(), 201);
    let (id, secret) = (
        created.body["id"].as_i64().unwrap(),
        created.body["token"].as_str().unwrap().to_owned(),
    );
    let client = reqwest::Client::new();
    let me = |token: String| {
        let client = client.clone();
        let url = format!("{}/api/v1/me", app.base);
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(me(secret.clone()).await, 200);
    let listed = app.get("admin", "/api/v1/tokens").await;
    assert!(listed.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["id"] == id && t["name"] == "ci"));
    assert!(
        !listed.body.to_string().contains(&secret),
        "a listed token must not show its secret"
    );
    let denied = app
        .call("l1", Method::DELETE, &format!("/api/v1/tokens/{id}"), None)
        .await;
    assert_eq!(denied.status.as_u16(), 403);
    let revoked = app
        .call(
            "admin",
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(revoked.status.as_u16(), 204);
    assert_eq!(me(secret).await, 401);
    let again = app
        .call(
            "admin",
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(again.status.as_u16(), 404);
    let events = app.store.events_of("token", id, false).await.unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["token.created", "token.revoked"]);
}

#[tokio::test]
async fn a_deactivated_user_loses_access_until_reactivated() {
    let app = spawn_app().await;
    let l1 = app.get("l1", "/api/v1/me").await.body["id"]
        .as_i64()
        .unwrap();
    let admin = app.get("admin", "/api/v1/me").await.body["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/v1/users/{l1}");
    for (body, field) in [
        (json!({"tier": null}), "tier"),
        (json!({"teams": ["Nowhere"]}), "teams"),
        (json!({"name": " "}), "name"),
    ] {
        let refused = app.patch("admin", &path, body.clone()).await;
        assert_eq!(refused.status.as_u16(), 422, "{body}");
        assert_eq!(refused.error_fields(), [field], "{body}");
    }
    let own = app
        .patch(
            "admin",
            &format!("/api/v1/users/{admin}"),
            json!({"active": false}),
        )
        .await;
    assert_eq!(own.error_fields(), ["active"]);

    let moved = app
        .patch(
            "admin",
            &path,
            json!({"tier": "L2", "teams": ["Experts L2"]}),
        )
        .await;
    assert_eq!(moved.status.as_u16(), 200, "{:?}", moved.body);
    assert_eq!(moved.body["tier"], "L2");
    let off = app.patch("admin", &path, json!({"active": false})).await;
    assert_eq!(off.body["active"], false);
    assert_eq!(app.get("l1", "/api/v1/me").await.status.as_u16(), 401);
    let on = app.patch("admin", &path, json!({"active": true})).await;
    assert_eq!(on.body["active"], true);
    assert_eq!(app.get("l1", "/api/v1/me").await.status.as_u16(), 200);
    let events = app.store.events_of("user", l1, false).await.unwrap();
    let updates: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "user.updated")
        .map(|e| e.data["after"].to_string())
        .collect();
    assert_eq!(updates.len(), 3, "{updates:?}");
    assert!(updates[1].contains("\"active\":false"));
}
