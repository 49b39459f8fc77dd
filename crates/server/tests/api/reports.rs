//! Reports against hand-computed answers: a small week of tickets with known first responses,
//! resolutions (in business and calendar time), a reopening, an escalation and SLA outcomes;
//! incidents with known milestones; CSV equal to the JSON; refusals that name the field.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use opsdesk_domain::{Body, Impact, Severity, Status, Subject, Tier, Urgency};
use opsdesk_store::{
    ImportedMessage, ImportedTicket, IncidentChanges, NewIncident, NewTicket, TeamRef,
};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp, PEOPLE};

/// Monday of the week that began at least 14 days ago (so every ticket below is 7–30 days old).
fn base_monday() -> Date {
    let today = Timestamp::now().to_zoned(TimeZone::UTC).date();
    let back = i64::from(today.weekday().to_monday_zero_offset()) + 14;
    today.checked_sub(back.days()).unwrap()
}

/// Berlin wall-clock time `days` after the base Monday.
fn at(days: i64, time: &str) -> Timestamp {
    let date = base_monday().checked_add(days.days()).unwrap();
    let t: jiff::civil::Time = time.parse().unwrap();
    DateTime::from_parts(date, t)
        .to_zoned(TimeZone::get("Europe/Berlin").unwrap())
        .unwrap()
        .timestamp()
}

async fn user_id(app: &TestApp, who: &str) -> i64 {
    let email = PEOPLE.iter().find(|p| p.0 == who).unwrap().1;
    app.store.user_by_email(email).await.unwrap().unwrap().id
}

/// A ticket from the past: raised by Acme's customer in Intake at `created`, with `replies`
/// (author key, instant), its `status` taking effect at `updated`.
struct Past<'a> {
    subject: &'a str,
    category: Option<&'a str>,
    created: Timestamp,
    replies: &'a [(&'a str, Timestamp)],
    status: Status,
    updated: Timestamp,
    assignee: Option<&'a str>,
}

/// Imports a ticket from the past; answers its id.
async fn import(app: &TestApp, past: Past<'_>) -> i64 {
    let Past {
        subject,
        category,
        created,
        replies,
        status,
        updated,
        assignee,
    } = past;
    let intake = app.store.team_by_name("Intake").await.unwrap().unwrap();
    let requester = user_id(app, "acme").await;
    let mut messages = Vec::new();
    for (who, when) in replies {
        messages.push(ImportedMessage {
            author_id: user_id(app, who).await,
            internal: false,
            body: Body::parse("body", "A reply.").unwrap(),
            created_at: *when,
        });
    }
    let assignee_id = match assignee {
        Some(who) => Some(user_id(app, who).await),
        None => None,
    };
    let acme = app.store.org_by_name("Acme").await.unwrap().unwrap();
    let row = ImportedTicket {
        ticket: NewTicket {
            subject: Subject::parse("subject", subject).unwrap(),
            body: Body::parse("body", "Details.").unwrap(),
            requester_id: requester,
            team: Some(TeamRef::Id(intake.id)),
            impact: Impact::Medium,
            urgency: Urgency::Medium,
            priority: None,
            category: category.map(|c| opsdesk_domain::Category::parse("category", c).unwrap()),
            service: None,
            tags: vec![],
            channel: "api",
        },
        org_id: Some(acme.id),
        status,
        tier: Tier::L0,
        assignee_id,
        created_at: created,
        updated_at: updated,
        replies: messages,
    };
    app.store
        .import_tickets(&[row], None, Timestamp::now())
        .await
        .unwrap();
    app.ticket_with_subject(subject).await
}

/// The desk of the ticket tests: a Berlin office calendar (Mon–Fri 09–17) on Intake, a policy
/// of 60 business minutes to first response and 8 business hours to resolution, and five
/// tickets (times Berlin, M = the base Monday):
/// - T1 M 09:00, desk reply 09:30, resolved 11:00 — FR 30 m, resolution 2 h, first contact;
/// - T2 Fri 16:00, desk reply Mon 10:00, open — FR 2 business hours (66 calendar), breached;
/// - T3 Tue 10:00, no reply, new — FR and resolution overdue; escalated to L1 later;
/// - T4 Wed 09:00, desk replies 09:10 and 09:20, resolved 16:00 — FR 10 m, resolution 7 h;
/// - T5 Thu 09:00 (category billing), desk reply 09:15, resolved 10:00, reopened and resolved
///   again now.
async fn desk_with_history(app: &TestApp) -> [i64; 5] {
    let cal = app
        .post(
            "manager",
            "/api/v1/calendars",
            json!({"name": "Office", "zone": "Europe/Berlin",
                   "hours": {"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00",
                             "thu": "09:00-17:00", "fri": "09:00-17:00"}, "holidays": []}),
        )
        .await;
    assert_eq!(cal.status, StatusCode::CREATED, "{:?}", cal.body);
    let intake = app.store.team_by_name("Intake").await.unwrap().unwrap();
    let team = app
        .patch(
            "manager",
            &format!("/api/v1/teams/{}", intake.id),
            json!({"calendar": "Office"}),
        )
        .await;
    assert_eq!(team.status, StatusCode::OK, "{:?}", team.body);
    let policy = app
        .post(
            "manager",
            "/api/v1/sla/policies",
            json!({"name": "Office hours", "targets": {
                "first_response": {"minutes": 60}, "resolution": {"minutes": 480}}}),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{:?}", policy.body);
    let t1 = import(
        app,
        Past {
            subject: "T1 printer offline",
            category: None,
            created: at(0, "09:00"),
            replies: &[("l1", at(0, "09:30"))],
            status: Status::Resolved,
            updated: at(0, "11:00"),
            assignee: Some("l1"),
        },
    )
    .await;
    let t2 = import(
        app,
        Past {
            subject: "T2 friday afternoon",
            category: None,
            created: at(4, "16:00"),
            replies: &[("l1", at(7, "10:00"))],
            status: Status::Open,
            updated: at(7, "10:00"),
            assignee: None,
        },
    )
    .await;
    let t3 = import(
        app,
        Past {
            subject: "T3 nobody answered",
            category: None,
            created: at(1, "10:00"),
            replies: &[],
            status: Status::New,
            updated: at(1, "10:00"),
            assignee: None,
        },
    )
    .await;
    let t4 = import(
        app,
        Past {
            subject: "T4 two replies",
            category: None,
            created: at(2, "09:00"),
            replies: &[("l1", at(2, "09:10")), ("l1", at(2, "09:20"))],
            status: Status::Resolved,
            updated: at(2, "16:00"),
            assignee: Some("l1"),
        },
    )
    .await;
    let t5 = import(
        app,
        Past {
            subject: "T5 invoice wrong",
            category: Some("billing"),
            created: at(3, "09:00"),
            replies: &[("l1", at(3, "09:15"))],
            status: Status::Resolved,
            updated: at(3, "10:00"),
            assignee: None,
        },
    )
    .await;
    let reopened = app
        .patch(
            "acme",
            &format!("/api/v1/tickets/{t5}"),
            json!({"status": "open"}),
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{:?}", reopened.body);
    let resolved = app
        .patch(
            "l1",
            &format!("/api/v1/tickets/{t5}"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{:?}", resolved.body);
    let escalated = app
        .post(
            "l0",
            &format!("/api/v1/tickets/{t3}/escalate"),
            json!({"reason": "needs L1", "tried": "restart"}),
        )
        .await;
    assert_eq!(escalated.status, StatusCode::OK, "{:?}", escalated.body);
    [t1, t2, t3, t4, t5]
}

/// The report path for the base week (Monday to Sunday, UTC days) plus `extra` parameters.
fn week(extra: &str) -> String {
    let m = base_monday();
    let sunday = m.checked_add(6.days()).unwrap();
    format!("/api/v1/reports/tickets?from={m}&to={sunday}&granularity=day{extra}")
}

fn sla(report: &Value, metric: &str) -> (i64, i64) {
    let c = report["totals"]["sla"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == metric)
        .unwrap();
    (c["met"].as_i64().unwrap(), c["breached"].as_i64().unwrap())
}

#[tokio::test]
async fn ticket_report_matches_hand_computed_figures() {
    let app = spawn_app().await;
    desk_with_history(&app).await;
    let r = app.get("manager", &week("")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let b = &r.body;
    let t = &b["totals"];
    assert_eq!(b["reach"], "desk");
    assert_eq!(t["created"], 5);
    // Resolved within the week: T1 and T4 (T5's last resolution is today).
    assert_eq!(t["resolved"], 2);
    // First responses (business): T4 600 s, T5 900 s, T1 1800 s, T2 7200 s. Nearest rank: the
    // median is the 2nd (900 s, bucket [896, 912) → 904 s), p90 the 4th (7200 s, bucket
    // [7168, 7296) → 7232 s).
    assert_eq!(t["first_response_median_secs"], 904);
    assert_eq!(t["first_response_p90_secs"], 7232);
    // Resolutions of T1 (7200 s → 7232) and T4 (25200 s, bucket [25088, 25600) → 25344).
    assert_eq!(t["resolution_median_secs"], 7232);
    assert_eq!(t["resolution_p90_secs"], 25344);
    // First response met by T1, T4, T5; breached by T2 (late) and T3 (never answered).
    assert_eq!(sla(b, "first_response"), (3, 2));
    // Resolution met by T1, T4, T5; T2 and T3 are open past 8 business hours.
    assert_eq!(sla(b, "resolution"), (3, 2));
    assert_eq!(t["sla"][0]["percent"], 60.0);
    // Of T1 and T4, T1 was resolved at first contact (T4 had two replies); none reopened.
    assert_eq!(t["first_contact_rate"], 50.0);
    assert_eq!(t["reopen_rate"], 0.0);
    // One ticket in five escalated (T3, out of L0).
    assert_eq!(t["escalation_rate"], 20.0);
    let l0 = &b["escalations"][0];
    assert_eq!(
        (
            l0["tier"].as_str(),
            l0["reached"].as_i64(),
            l0["escalated"].as_i64()
        ),
        (Some("L0"), Some(5), Some(1))
    );
    assert_eq!(b["escalations"][1]["reached"], 1);
    assert_eq!(b["escalations"][1]["escalated"], 0);
    // Backlog now: T2 and T3, both between 7 and 30 days old.
    assert_eq!(b["backlog"], 2);
    assert_eq!(b["backlog_ages"][3]["age"], "7-30d");
    assert_eq!(b["backlog_ages"][3]["tickets"], 2);
    // One point per day: created Mon, Tue, Wed, Thu, Fri; resolved Mon and Wed.
    let series = b["series"].as_array().unwrap();
    assert_eq!(series.len(), 7);
    let created: Vec<i64> = series
        .iter()
        .map(|p| p["created"].as_i64().unwrap())
        .collect();
    let resolved: Vec<i64> = series
        .iter()
        .map(|p| p["resolved"].as_i64().unwrap())
        .collect();
    assert_eq!(created, [1, 1, 1, 1, 1, 0, 0]);
    assert_eq!(resolved, [1, 0, 1, 0, 0, 0, 0]);
    // The week before holds nothing.
    assert_eq!(b["previous"]["created"], 0);
    assert_eq!(b["previous"]["first_response_median_secs"], Value::Null);
    // Teams: T3 moved to Support L1 when escalated.
    let teams = b["teams"].as_array().unwrap();
    let intake = teams.iter().find(|t| t["name"] == "Intake").unwrap();
    assert_eq!(
        (intake["created"].as_i64(), intake["active"].as_i64()),
        (Some(4), Some(1))
    );
    let l1 = teams.iter().find(|t| t["name"] == "Support L1").unwrap();
    assert_eq!(
        (l1["created"].as_i64(), l1["active"].as_i64()),
        (Some(1), Some(1))
    );

    // Calendar time: T2's first response took 66 hours on the clock, so p90 moves; the median
    // stays T5's 15 minutes.
    let cal = app.get("manager", &week("&time=calendar")).await.body;
    assert_eq!(cal["totals"]["first_response_median_secs"], 904);
    assert!(cal["totals"]["first_response_p90_secs"].as_i64().unwrap() > 200_000);

    // The reopened ticket, alone by its category, over a period that includes today.
    let today = Timestamp::now().to_zoned(TimeZone::UTC).date();
    let billing = app
        .get(
            "manager",
            &format!(
                "/api/v1/reports/tickets?from={}&to={today}&category=billing",
                base_monday()
            ),
        )
        .await
        .body;
    assert_eq!(billing["totals"]["created"], 1);
    assert_eq!(billing["totals"]["resolved"], 1);
    assert_eq!(billing["totals"]["reopen_rate"], 100.0);
    assert_eq!(billing["totals"]["first_contact_rate"], 0.0);
}

#[tokio::test]
async fn csv_holds_the_numbers_of_the_json() {
    let app = spawn_app().await;
    desk_with_history(&app).await;
    let json = app.get("manager", &week("")).await.body;
    let reply = app
        .client_get_text("manager", &week("&format=csv&table=series"))
        .await;
    assert_eq!(reply.0, StatusCode::OK);
    assert!(reply.1.starts_with("text/csv"), "{}", reply.1);
    let lines: Vec<&str> = reply.2.lines().collect();
    assert_eq!(lines[0], "start,created,resolved,first_response_met,first_response_breached,resolution_met,resolution_breached,sla_percent");
    let series = json["series"].as_array().unwrap();
    assert_eq!(lines.len(), series.len() + 1);
    for (line, point) in lines[1..].iter().zip(series) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells[0], point["start"].as_str().unwrap());
        for (i, key) in [
            "created",
            "resolved",
            "first_response_met",
            "first_response_breached",
            "resolution_met",
            "resolution_breached",
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(cells[i + 1], point[key].to_string(), "{key} of {line}");
        }
        match point["sla_percent"].as_f64() {
            Some(p) => assert_eq!(cells[7].parse::<f64>().unwrap(), p),
            None => assert_eq!(cells[7], ""),
        }
    }
    let teams = app
        .client_get_text("manager", &week("&format=csv&table=teams"))
        .await;
    let rows: Vec<&str> = teams.2.lines().skip(1).collect();
    assert_eq!(rows.len(), json["teams"].as_array().unwrap().len());
    assert!(
        rows.iter().any(|r| r.starts_with("Intake,4,2,1,")),
        "{rows:?}"
    );
}

#[tokio::test]
async fn report_filters_are_checked_and_narrow() {
    let app = spawn_app().await;
    let [t1, _, t3, t4, _] = desk_with_history(&app).await;
    let bad = app
        .get(
            "manager",
            "/api/v1/reports/tickets?from=2026-13-01&tier=L9&team=Nowhere&time=decades&granularity=hour",
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        bad.body
    );
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(fields, ["from", "granularity", "team", "tier", "time"]);
    let backwards = app
        .get(
            "manager",
            "/api/v1/reports/tickets?from=2026-02-01&to=2026-01-01",
        )
        .await;
    assert_eq!(backwards.error_fields(), ["to"]);
    let unknown = app
        .get("manager", "/api/v1/reports/tickets?colour=red")
        .await;
    assert_eq!(unknown.status.as_u16() / 100, 4);
    let table = app.get("manager", &week("&format=csv&table=nope")).await;
    assert_eq!(table.error_fields(), ["table"]);
    // A filter the report has no field for is refused, not ignored.
    let r = app
        .post("manager", "/api/v1/services", json!({"name": "checkout"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let unknown_service = app.get("manager", &week("&service=nowhere")).await;
    assert_eq!(unknown_service.error_fields(), ["service"]);
    let incidents_by_tier = app
        .get("manager", "/api/v1/reports/incidents?tier=L1")
        .await;
    assert_eq!(incidents_by_tier.error_fields(), ["tier"]);
    let incidents_by_service = app
        .get("manager", "/api/v1/reports/incidents?service=checkout")
        .await;
    assert_eq!(incidents_by_service.status, StatusCode::OK);

    // Narrowing: priority (all are normal), tier (T3 is L1 now), organisation.
    let normal = app.get("manager", &week("&priority=normal")).await.body;
    assert_eq!(normal["totals"]["created"], 5);
    let urgent = app.get("manager", &week("&priority=urgent")).await.body;
    assert_eq!(urgent["totals"]["created"], 0);
    let l1 = app.get("manager", &week("&tier=L1")).await.body;
    assert_eq!(l1["totals"]["created"], 1);
    let globex = app.get("manager", &week("&organization=Globex")).await.body;
    assert_eq!(globex["totals"]["created"], 0);
    // By service: T1 and T4 (both resolved in the week, first responses in time) and T3
    // (open, at L1, never answered) are about checkout.
    for t in [t1, t3, t4] {
        let r = app
            .patch(
                "manager",
                &format!("/api/v1/tickets/{t}"),
                json!({"service": "Checkout"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["service"], "checkout");
    }
    let checkout = app.get("manager", &week("&service=checkout")).await.body;
    assert_eq!(checkout["totals"]["created"], 3);
    assert_eq!(checkout["totals"]["resolved"], 2);
    assert_eq!(checkout["backlog"], 1);
    assert_eq!(sla(&checkout, "first_response"), (2, 1));
    let with_team = app
        .get("manager", &week("&service=checkout&team=Intake"))
        .await
        .body;
    assert_eq!(with_team["totals"]["created"], 2);
    assert_eq!(with_team["backlog"], 0);
    let with_tier = app
        .get("manager", &week("&service=checkout&tier=L1"))
        .await
        .body;
    assert_eq!(with_tier["totals"]["created"], 1);
    // The desk's top services: checkout alone (tickets without a service have no row).
    let desk = app.get("manager", &week("")).await.body;
    let services = desk["services"].as_array().unwrap();
    assert_eq!(services.len(), 1, "{services:?}");
    let row = &services[0];
    assert_eq!(
        (
            row["name"].as_str(),
            row["created"].as_i64(),
            row["resolved"].as_i64(),
            row["active"].as_i64(),
        ),
        (Some("checkout"), Some(3), Some(2), Some(1))
    );
    let csv = app
        .client_get_text("manager", &week("&format=csv&table=services"))
        .await;
    assert_eq!(csv.0, StatusCode::OK);
    // Two of three first responses and resolutions in time.
    let two_thirds = (200.0_f64 / 3.0).to_string();
    assert_eq!(
        csv.2.lines().nth(1),
        Some(format!("checkout,3,2,1,{two_thirds},{two_thirds}").as_str()),
        "{}",
        csv.2
    );
    let forecast = app
        .get("manager", "/api/v1/reports/forecast?service=checkout")
        .await;
    assert_eq!(forecast.status, StatusCode::OK, "{:?}", forecast.body);
    let weekly_path = week("").replace("granularity=day", "granularity=week");
    let weekly = app.get("manager", &weekly_path).await.body;
    assert_eq!(weekly["series"].as_array().unwrap().len(), 1);
    assert_eq!(weekly["series"][0]["created"], 5);
}

#[tokio::test]
async fn agents_see_their_own_tickets_and_customers_no_reports() {
    let app = spawn_app().await;
    desk_with_history(&app).await;
    let own = app.get("l1", &week("")).await;
    assert_eq!(own.status, StatusCode::OK, "{:?}", own.body);
    assert_eq!(own.body["reach"], "own");
    // T1 and T4 are assigned to l1 (T5 was resolved by l1 but is unassigned).
    assert_eq!(own.body["totals"]["created"], 2);
    let agents = own.body["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 1, "{agents:?}");
    let auditor = app.get("auditor", &week("")).await;
    assert_eq!(auditor.body["totals"]["created"], 5);
    for who in ["acme", "globex"] {
        assert_eq!(app.get(who, &week("")).await.status, StatusCode::FORBIDDEN);
        assert_eq!(
            app.get(who, "/api/v1/reports/incidents").await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(app.get(who, "/metrics").await.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.get("l1", "/metrics").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn incident_report_matches_hand_computed_figures() {
    let app = spawn_app().await;
    for name in ["checkout", "search"] {
        let r = app
            .post("manager", "/api/v1/services", json!({"name": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let services = app.store.services().await.unwrap();
    let id = |name: &str| services.iter().find(|s| s.name == name).unwrap().id;
    let t0 = at(0, "10:00");
    let declare = |title: &'static str, severity: Severity, service: i64, when: Timestamp| {
        let store = app.store.clone();
        async move {
            store
                .declare_incident(
                    &NewIncident {
                        title: title.into(),
                        severity,
                        service_ids: vec![service],
                        team_id: None,
                        summary: String::new(),
                        commander_id: None,
                        ticket_id: None,
                    },
                    None,
                    when,
                )
                .await
                .unwrap()
                .id
        }
    };
    let set = |id: i64, status: &str, when: Timestamp| {
        let store = app.store.clone();
        let status = opsdesk_domain::IncidentStatus::parse("status", status).unwrap();
        async move {
            store
                .change_incident(
                    id,
                    &IncidentChanges {
                        status: Some(status),
                        ..IncidentChanges::default()
                    },
                    None,
                    when,
                )
                .await
                .unwrap();
        }
    };
    // A (checkout, SEV2): acknowledged after 5 min, mitigated after 20, resolved after 60.
    let a = declare("Checkout errors", Severity::Sev2, id("checkout"), t0).await;
    set(a, "acknowledged", t0 + 5.minutes()).await;
    set(a, "monitoring", t0 + 20.minutes()).await;
    set(a, "resolved", t0 + 60.minutes()).await;
    // B (checkout, SEV3) two hours after A ended: acknowledged after 10, resolved after 30.
    let b = declare(
        "Checkout slow",
        Severity::Sev3,
        id("checkout"),
        t0 + 3.hours(),
    )
    .await;
    set(b, "acknowledged", t0 + 3.hours() + 10.minutes()).await;
    set(b, "resolved", t0 + 3.hours() + 30.minutes()).await;
    // C (search, SEV1): still triggered.
    declare("Search down", Severity::Sev1, id("search"), t0 + 1.hours()).await;

    let m = base_monday();
    let path = format!("/api/v1/reports/incidents?from={m}&to={m}");
    let r = app.get("manager", &path).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let t = &r.body["totals"];
    assert_eq!(t["incidents"], 3);
    assert_eq!(t["by_severity"], json!([1, 1, 1, 0]));
    // MTTA over A and B: (5 + 10) / 2 = 7.5 min; MTTR: (60 + 30) / 2 = 45 min.
    assert_eq!(t["mtta_secs"], 450);
    assert_eq!(t["mttr_secs"], 2700);
    // Mitigated: A at 20 min; B at its resolution, 30 min (resolving mitigates): 25 min.
    assert_eq!(t["mttm_secs"], 1500);
    // Time in each status. Triggered: A 5 min, B 10 min (C is still there); acknowledged: A
    // 15 min, B 20 min; monitoring: A 40 min; resolved is not a stay the report counts.
    assert_eq!(
        r.body["statuses"],
        json!([
            {"status": "triggered", "incidents": 2, "mean_secs": 450, "total_secs": 900, "now": 1},
            {"status": "acknowledged", "incidents": 2, "mean_secs": 1050, "total_secs": 2100, "now": 0},
            {"status": "investigating", "incidents": 0, "mean_secs": null, "total_secs": 0, "now": 0},
            {"status": "identified", "incidents": 0, "mean_secs": null, "total_secs": 0, "now": 0},
            {"status": "monitoring", "incidents": 1, "mean_secs": 2400, "total_secs": 2400, "now": 0},
        ])
    );
    let statuses = app
        .client_get_text("manager", &format!("{path}&format=csv&table=statuses"))
        .await;
    assert!(
        statuses
            .2
            .lines()
            .any(|l| l == "acknowledged,2,1050,2100,0"),
        "{}",
        statuses.2
    );
    let services = r.body["services"].as_array().unwrap();
    let checkout = services.iter().find(|s| s["name"] == "checkout").unwrap();
    assert_eq!(checkout["incidents"], 2);
    // From A's end (t0 + 60 min) to B's start (t0 + 3 h): 2 hours.
    assert_eq!(checkout["mtbf_secs"], 7200);
    let search = services.iter().find(|s| s["name"] == "search").unwrap();
    assert_eq!(search["mttr_secs"], Value::Null);
    assert_eq!(search["mtbf_secs"], Value::Null);
    let only = app
        .get("manager", &format!("{path}&service=search"))
        .await
        .body;
    assert_eq!(only["totals"]["incidents"], 1);
    let unknown = app.get("manager", &format!("{path}&service=nope")).await;
    assert_eq!(unknown.error_fields(), ["service"]);
    let csv = app
        .client_get_text("manager", &format!("{path}&format=csv&table=services"))
        .await;
    assert!(
        csv.2
            .lines()
            .any(|l| l == "checkout,2,0,1,1,0,450,1500,2700,7200"),
        "{}",
        csv.2
    );
}

#[tokio::test]
async fn metrics_expose_the_desk_in_prometheus_format() {
    let app = spawn_app().await;
    let [_, t2, ..] = desk_with_history(&app).await;
    let (status, content_type, body) = app.client_get_text("auditor", "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    assert!(
        body.contains("opsdesk_tickets_active{team=\"Intake\",priority=\"normal\",tier=\"L0\"} 1"),
        "{body}"
    );
    assert!(
        body.contains(
            "opsdesk_tickets_active{team=\"Support L1\",priority=\"normal\",tier=\"L1\"} 1"
        ),
        "{body}"
    );
    assert!(body.contains("opsdesk_tickets_created_total 5"), "{body}");
    // Earlier requests of this test were timed under their route pattern, never a raw path.
    assert!(
        body.contains("opsdesk_http_request_duration_seconds_count{method=\"PATCH\",route=\"/api/v1/tickets/{id}\",status=\"2xx\"} 2"),
        "{body}"
    );
    assert!(!body.contains("route=\"/api/v1/tickets/1\""));
    // Resolving T2 leaves Intake with no active ticket; T3 stays counted in Support L1.
    let resolved = app
        .patch(
            "l1",
            &format!("/api/v1/tickets/{t2}"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK);
    let (_, _, body) = app.client_get_text("auditor", "/metrics").await;
    assert!(
        !body.contains("opsdesk_tickets_active{team=\"Intake\""),
        "{body}"
    );
    assert!(
        body.contains(
            "opsdesk_tickets_active{team=\"Support L1\",priority=\"normal\",tier=\"L1\"} 1"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn forecast_follows_the_weekly_pattern_and_staffs_the_busy_hours() {
    let app = spawn_app().await;
    // Eight full weeks before this one: 6 tickets each weekday at 10:00 UTC, none at weekends.
    let this_monday = {
        let today = Timestamp::now().to_zoned(TimeZone::UTC).date();
        today
            .checked_sub(i64::from(today.weekday().to_monday_zero_offset()).days())
            .unwrap()
    };
    let intake = app.store.team_by_name("Intake").await.unwrap().unwrap();
    let requester = user_id(&app, "acme").await;
    let mut rows = Vec::new();
    for week in 1..=8 {
        for day in 0..5 {
            let date = this_monday.checked_sub((week * 7 - day).days()).unwrap();
            for n in 0..6 {
                let at = date
                    .at(10, n * 5, 0, 0)
                    .to_zoned(TimeZone::UTC)
                    .unwrap()
                    .timestamp();
                rows.push(ImportedTicket {
                    ticket: NewTicket {
                        subject: Subject::parse("subject", "Weekly pattern").unwrap(),
                        body: Body::parse("body", "Details.").unwrap(),
                        requester_id: requester,
                        team: Some(TeamRef::Id(intake.id)),
                        impact: Impact::Medium,
                        urgency: Urgency::Medium,
                        priority: None,
                        category: None,
                        service: None,
                        tags: vec![],
                        channel: "api",
                    },
                    org_id: None,
                    status: Status::Closed,
                    tier: Tier::L0,
                    assignee_id: None,
                    created_at: at,
                    updated_at: at + 2.hours(),
                    replies: vec![],
                });
            }
        }
    }
    app.store
        .import_tickets(&rows, None, Timestamp::now())
        .await
        .unwrap();
    let r = app
        .get(
            "manager",
            "/api/v1/reports/forecast?handle_minutes=30&target_minutes=60&service_level=80",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let weeks = r.body["weeks"].as_array().unwrap();
    // Eight past weeks (30 tickets each), then four forecast weeks of 30.
    assert_eq!(weeks.len(), 12, "{weeks:?}");
    for w in &weeks[..8] {
        assert_eq!(w["actual"], 30, "{w}");
    }
    for w in &weeks[8..] {
        assert_eq!(w["actual"], Value::Null);
        let p = w["predicted"].as_f64().unwrap();
        assert!((p - 30.0).abs() < 0.5, "{w}");
        assert!(w["low"].as_f64().unwrap() <= p && p <= w["high"].as_f64().unwrap());
    }
    // The back-test of a perfectly regular history misses nothing.
    assert!(
        r.body["backtest_mape"].as_f64().unwrap() < 1.0,
        "{}",
        r.body["backtest_mape"]
    );
    assert!(
        weeks[4]["predicted"].as_f64().is_some(),
        "back-test weeks carry a prediction"
    );
    // Staffing: 6 tickets in the 10:00 hour of each weekday, none at night or at weekends.
    let staffing = r.body["staffing"].as_array().unwrap();
    assert_eq!(staffing.len(), 168);
    let monday_ten = &staffing[10];
    assert_eq!(
        (monday_ten["weekday"].as_i64(), monday_ten["hour"].as_i64()),
        (Some(0), Some(10))
    );
    assert!(
        (monday_ten["arrivals"].as_f64().unwrap() - 6.0).abs() < 0.2,
        "{monday_ten}"
    );
    // 6 an hour at 30 minutes each is 3 Erlangs: 3 agents cannot keep up; with 4, Erlang C
    // gives P(wait) = 0.509 and P(wait > 60 min) = 0.509 · e^-2 = 6.9 %, so 93 % in time.
    assert_eq!(monday_ten["agents"], 4, "{monday_ten}");
    assert_eq!(staffing[3]["agents"], 0);
    assert_eq!(staffing[5 * 24 + 10]["agents"], 0, "Saturday");

    let bad = app
        .get(
            "manager",
            "/api/v1/reports/forecast?handle_minutes=0&service_level=120",
        )
        .await;
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(fields, ["handle_minutes", "service_level"]);
    assert_eq!(
        app.get("l1", "/api/v1/reports/forecast").await.status,
        StatusCode::FORBIDDEN
    );
    let csv = app
        .client_get_text(
            "manager",
            "/api/v1/reports/forecast?format=csv&table=staffing",
        )
        .await;
    assert_eq!(csv.2.lines().count(), 169);
    assert!(
        csv.2.lines().any(|l| l.starts_with("mon,10,6.00,")),
        "{}",
        csv.2
    );
}

#[tokio::test]
async fn requesters_rate_resolved_tickets_and_reports_count_satisfaction() {
    let app = spawn_app().await;
    let [t1, t2, _, t4, _] = desk_with_history(&app).await;
    let rate = |id: i64, who: &'static str, body: Value| {
        let app = &app;
        async move {
            app.post(who, &format!("/api/v1/tickets/{id}/satisfaction"), body)
                .await
        }
    };
    let open = rate(t2, "acme", json!({"score": 5})).await;
    assert_eq!(open.status, StatusCode::CONFLICT, "{:?}", open.body);
    assert_eq!(open.error_fields(), ["status"]);
    let bad = rate(t1, "acme", json!({"score": 6, "comment": "x"})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), ["score"]);
    let unknown = rate(t1, "acme", json!({"score": 5, "stars": 5})).await;
    assert_eq!(unknown.status.as_u16() / 100, 4);
    assert_eq!(
        rate(t1, "globex", json!({"score": 1})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        rate(t1, "acme2", json!({"score": 1})).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        rate(t1, "l1", json!({"score": 5})).await.status,
        StatusCode::FORBIDDEN
    );
    // Nothing refused was recorded.
    assert_eq!(
        app.get("manager", &week("")).await.body["totals"]["csat_responses"],
        0
    );

    let great = rate(
        t1,
        "acme",
        json!({"score": 5, "comment": " Great, thanks! "}),
    )
    .await;
    assert_eq!(great.status, StatusCode::OK, "{:?}", great.body);
    assert_eq!(great.body["comment"], "Great, thanks!");
    assert_eq!(
        rate(t4, "acme", json!({"score": 2})).await.status,
        StatusCode::OK
    );
    let r = app.get("manager", &week("")).await.body;
    assert_eq!(r["totals"]["csat_responses"], 2);
    assert_eq!(r["totals"]["csat_average"], 3.5);
    assert_eq!(r["totals"]["csat_satisfied_percent"], 50.0);
    assert_eq!(r["csat_comments"].as_array().unwrap().len(), 1);
    assert_eq!(r["csat_comments"][0]["comment"], "Great, thanks!");
    // Answering again replaces the answer; both answers are on the timeline.
    assert_eq!(
        rate(t4, "acme", json!({"score": 4})).await.status,
        StatusCode::OK
    );
    let r = app.get("manager", &week("")).await.body;
    assert_eq!(r["totals"]["csat_average"], 4.5);
    assert_eq!(r["totals"]["csat_satisfied_percent"], 100.0);
    let kinds = app.event_kinds(t4).await;
    assert_eq!(kinds.iter().filter(|k| *k == "csat.answered").count(), 2);
}

/// Reports read a daily rollup kept beside the facts; narrowed to one organisation they fold
/// that organisation's facts instead. Both must give the same figures, after every kind of
/// change, and a rollup rebuilt from the facts must equal the one kept change by change.
#[tokio::test]
async fn the_rollup_agrees_with_the_facts_and_the_organisation_path() {
    let app = spawn_app().await;
    let [t1, _, t3, t4, _] = desk_with_history(&app).await;
    let rated = app
        .post(
            "acme",
            &format!("/api/v1/tickets/{t1}/satisfaction"),
            json!({"score": 4, "comment": "Fine"}),
        )
        .await;
    assert_eq!(rated.status, StatusCode::OK, "{:?}", rated.body);
    // A resolved ticket reopened, an open one taken over and re-prioritised.
    let reopened = app
        .patch(
            "acme",
            &format!("/api/v1/tickets/{t4}"),
            json!({"status": "open"}),
        )
        .await;
    assert_eq!(reopened.status, StatusCode::OK, "{:?}", reopened.body);
    let changed = app
        .patch(
            "l1",
            &format!("/api/v1/tickets/{t3}"),
            json!({"priority": "urgent", "category": "access"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    // Services named, one moved to another, and one cleared.
    for name in ["checkout", "billing-db"] {
        let r = app
            .post("manager", "/api/v1/services", json!({"name": name}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    for (t, service) in [
        (t1, json!("checkout")),
        (t3, json!("billing-db")),
        (t4, json!("checkout")),
        (t3, json!("checkout")),
        (t1, Value::Null),
    ] {
        let r = app
            .patch(
                "l1",
                &format!("/api/v1/tickets/{t}"),
                json!({ "service": service }),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    let differences = app.store.report_rollup_differences().await.unwrap();
    assert!(differences.is_empty(), "{differences:#?}");

    // Every ticket is Acme's: the desk's report and Acme's report are the same report (with no
    // filter the desk's is read from the desk grain of the rollup, filtered from the detail grain).
    // By service, the service grain answers.
    for extra in [
        "",
        "&time=calendar",
        "&category=access",
        "&priority=urgent",
        "&service=checkout",
        "&service=checkout&priority=urgent",
        "&service=billing-db",
    ] {
        let desk = app.get("manager", &week(extra)).await;
        assert_eq!(desk.status, StatusCode::OK, "{:?}", desk.body);
        let acme = app
            .get("manager", &week(&format!("{extra}&organization=Acme")))
            .await;
        assert_eq!(desk.body, acme.body, "filters {extra:?}");
    }
    let desk = app.get("manager", &week("")).await.body;
    assert_eq!(desk["totals"]["created"], 5);
    assert_eq!(desk["totals"]["csat_responses"], 1);
    assert_eq!(desk["backlog"], 3);
    let globex = app.get("manager", &week("&organization=Globex")).await.body;
    assert_eq!(globex["totals"]["created"], 0);
    assert_eq!(globex["backlog"], 0);
    let checkout = app.get("manager", &week("&service=checkout")).await.body;
    assert_eq!(checkout["totals"]["created"], 2);
    assert_eq!(desk["services"][0]["name"], "checkout");
    assert_eq!(desk["services"][0]["created"], 2);

    // Rebuilt from the facts, the rollup holds the same rows and the report does not move.
    assert!(
        app.store
            .rebuild_report_rollup(Timestamp::now())
            .await
            .unwrap()
            > 0
    );
    let differences = app.store.report_rollup_differences().await.unwrap();
    assert!(differences.is_empty(), "{differences:#?}");
    assert_eq!(app.get("manager", &week("")).await.body, desk);
}

#[tokio::test]
async fn the_survey_link_records_an_answer_without_signing_in() {
    let app = spawn_app().await;
    let [t1, t2, ..] = desk_with_history(&app).await;
    let secret = opsdesk_server::paging::secret(&app.store).await.unwrap();
    let link = opsdesk_server::app::survey::survey_link(&app.base, &secret, t1);
    let client = reqwest::Client::new();
    let forged = client
        .get(format!("{}/survey/{t1}?sig=00ff", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    // T1's signature does not open T2's survey.
    let sig = link.split("sig=").nth(1).unwrap().to_owned();
    let other = client
        .get(format!("{}/survey/{t2}?sig={sig}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let page = client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("How did we do?"));
    let refused = client
        .post(format!("{}/survey/{t1}", app.base))
        .form(&[("sig", sig.as_str()), ("score", "9"), ("comment", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("score: a whole number from 1 to 5"));
    assert_eq!(
        app.get("manager", &week("")).await.body["totals"]["csat_responses"],
        0
    );
    let answered = client
        .post(format!("{}/survey/{t1}", app.base))
        .form(&[
            ("sig", sig.as_str()),
            ("score", "4"),
            ("comment", "Fine <b>really</b>"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
    let html = answered.text().await.unwrap();
    assert!(html.contains("you rated us <b>4 of 5</b>"));
    assert!(
        html.contains("really") && !html.contains("<b>really"),
        "the comment is escaped"
    );
    let r = app.get("manager", &week("")).await.body;
    assert_eq!(r["totals"]["csat_responses"], 1);
    assert_eq!(r["totals"]["csat_average"], 4.0);
}
