//! Mail in and out, end to end: Dovecot holds the mailbox opsdesk polls over IMAP, aiosmtpd
//! receives what opsdesk sends over SMTP (both real servers on loopback, see
//! `mail_servers`); threading is asserted both ways. Intake rules (senders, loops, bounces,
//! floods, attachments, unparseable mail) go through the API's hand-in route, which runs the
//! same intake as the fetcher.

use std::time::Duration;

use mail_parser::MessageParser;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};
use crate::mail_servers::MailServers;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/mail/",
            $name
        ))
    };
}

fn filled(template: &[u8], ticket: i64, parent: &str) -> Vec<u8> {
    String::from_utf8_lossy(template)
        .replace("{ticket}", &ticket.to_string())
        .replace("{parent}", parent)
        .replace("{recipient}", "ana@acme.example")
        .into_bytes()
}

/// A mailbox on the test servers (or with no servers: fed by hand-in only).
async fn mailbox(app: &TestApp, servers: Option<&MailServers>, extra: Value) -> i64 {
    let mut body = json!({
        "name": "Support",
        "address": "support@desk.example",
        "display_name": "Desk Support",
        "team": "Support L1",
    });
    if let Some(s) = servers {
        body["imap"] = json!({"host": "127.0.0.1", "port": s.imap_port, "security": "none",
                              "user": "support", "password": "secret"});
        body["smtp"] = json!({"host": "127.0.0.1", "port": s.smtp_port, "security": "none",
                              "user": "desk", "password": "secret"});
    }
    if let (Some(target), Some(more)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            target.insert(k.clone(), v.clone());
        }
    }
    let created = app.post("admin", "/api/v1/mailboxes", body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.body["id"].as_i64().unwrap()
}

async fn hand_in(app: &TestApp, mailbox: i64, raw: &[u8]) -> Value {
    let reply = app
        .call_raw(
            "admin",
            Method::POST,
            &format!("/api/v1/mailboxes/{mailbox}/messages"),
            "message/rfc822",
            raw.to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body
}

/// Waits until `check` answers `Some` (polling the API), at most 20 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(found) = check().await {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen within 20 s");
}

async fn ticket_from(app: &TestApp, subject: &str) -> Option<i64> {
    let list = app
        .get("admin", "/api/v1/tickets?status=all&limit=200")
        .await;
    list.body["items"]
        .as_array()?
        .iter()
        .find(|t| t["subject"] == subject)
        .and_then(|t| t["id"].as_i64())
}

fn header(raw: &[u8], name: &str) -> String {
    let message = MessageParser::default().parse(raw).unwrap();
    message
        .header_raw(name)
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Makes `domain` Acme's, so unknown senders from it join Acme.
async fn acme_owns(domain: &str, app: &TestApp) -> i64 {
    let acme = app.get("admin", "/api/v1/orgs").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "Acme")
        .and_then(|o| o["id"].as_i64())
        .unwrap();
    let set = app
        .call(
            "admin",
            Method::PUT,
            &format!("/api/v1/orgs/{acme}/domains"),
            Some(json!({"domains": [domain]})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["domains"], json!([domain]));
    acme
}

#[tokio::test]
async fn mail_threads_both_ways_through_real_imap_and_smtp_servers() {
    let servers = MailServers::start().await;
    let app = spawn_app().await;
    acme_owns("acme.example", &app).await;
    let custom = app
        .call(
            "admin",
            Method::PUT,
            "/api/v1/mail-templates/acknowledgement",
            Some(json!({"subject": "We have it: {{ ticket.subject }}",
                        "body": "Hi {{ requester.name }}, ticket {{ ticket.number }} is open.\n"})),
        )
        .await;
    assert_eq!(custom.status, StatusCode::OK, "{}", custom.body);
    let mailbox = mailbox(&app, Some(&servers), json!({})).await;

    // A customer writes in: the fetcher opens a ticket and a contact in her organisation.
    servers.deliver("support", fixture!("plain.eml")).await;
    let fetch = app
        .post(
            "admin",
            &format!("/api/v1/mailboxes/{mailbox}/fetch"),
            json!({}),
        )
        .await;
    assert_eq!(fetch.status, StatusCode::ACCEPTED, "{}", fetch.body);
    let ticket = eventually("the ticket from mail", || {
        ticket_from(&app, "VPN drops every hour")
    })
    .await;
    let shown = app
        .get("admin", &format!("/api/v1/tickets/{ticket}"))
        .await
        .body;
    assert_eq!(shown["channel"], "email");
    assert_eq!(shown["team"], "Support L1");
    assert_eq!(shown["organization"], "Acme", "{shown}");
    let customers = app
        .get("admin", "/api/v1/users?role=customer&limit=200")
        .await
        .body;
    let ana = customers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "ana@acme.example")
        .cloned();
    assert_eq!(
        ana.map(|a| a["name"].clone()),
        Some(json!("Ana Lima")),
        "{customers}"
    );

    // The acknowledgement (from the edited template) threads under her message.
    let sent = servers.sent(1).await;
    let ack = &sent[0];
    assert_eq!(
        header(ack, "In-Reply-To"),
        "<CAF1plain001@mail.acme.example>"
    );
    assert_eq!(header(ack, "Auto-Submitted"), "auto-replied");
    assert_eq!(
        header(ack, "Subject"),
        format!("[#{ticket}] We have it: VPN drops every hour")
    );
    assert!(header(ack, "To").contains("ana@acme.example"));
    assert!(header(ack, "From").contains("support@desk.example"));
    let ack_text = String::from_utf8_lossy(ack);
    assert!(
        ack_text.contains(&format!("ticket {ticket} is open")),
        "{ack_text}"
    );

    // An agent replies: the mail carries the whole chain.
    let reply = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{ticket}/messages"),
            json!({"body": "Please update to client 5.3."}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let sent = servers.sent(2).await;
    let agent_mail = &sent[1];
    let ack_id = header(ack, "Message-ID");
    assert_eq!(header(agent_mail, "In-Reply-To"), ack_id);
    let references = header(agent_mail, "References");
    assert!(
        references.contains("<CAF1plain001@mail.acme.example>"),
        "{references}"
    );
    assert!(references.contains(&ack_id), "{references}");
    assert_eq!(
        header(agent_mail, "Subject"),
        format!("Re: [#{ticket}] VPN drops every hour")
    );
    assert!(String::from_utf8_lossy(agent_mail).contains("Please update to client 5.3."));

    // She answers from Gmail with another subject: the headers alone find the ticket, and
    // the quoted history is folded off.
    let agent_id = header(agent_mail, "Message-ID");
    let parent = agent_id.trim_matches(['<', '>']);
    let answer = String::from_utf8_lossy(&filled(fixture!("reply-gmail.eml.tmpl"), ticket, parent))
        .replace(
            &format!("Subject: Re: [#{ticket}] VPN drops every hour"),
            "Subject: Re: that VPN thing",
        )
        .into_bytes();
    servers.deliver("support", &answer).await;
    app.post(
        "admin",
        &format!("/api/v1/mailboxes/{mailbox}/fetch"),
        json!({}),
    )
    .await;
    let messages = eventually("the reply on the ticket", || async {
        let m = app
            .get("admin", &format!("/api/v1/tickets/{ticket}/messages"))
            .await
            .body;
        (m["items"].as_array().map_or(0, Vec::len) >= 3).then_some(m)
    })
    .await;
    let last = &messages["items"][2];
    assert_eq!(last["body"], "Thanks, that fixed it.");
    assert_eq!(last["author"]["email"], "ana@acme.example");
    assert!(
        last["quoted"]
            .as_str()
            .unwrap_or_default()
            .contains("> Please update to client 5.3."),
        "{last}"
    );

    // Every mail is on the ticket with headers and state; both IMAP messages were taken once.
    let mail = app
        .get("l1", &format!("/api/v1/tickets/{ticket}/mail"))
        .await
        .body;
    let states: Vec<(String, String)> = mail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("in", "received"),
            ("out", "sent"),
            ("out", "sent"),
            ("in", "received")
        ]
        .map(|(d, s)| (d.to_owned(), s.to_owned()))
    );
    assert!(mail["items"][0]["headers"]
        .as_str()
        .unwrap()
        .contains("Message-ID: <CAF1plain001@mail.acme.example>"));
    let flags = servers.flags("support").await;
    assert_eq!(flags.len(), 2);
    assert!(flags.iter().all(|(_, f)| f.contains("Seen")), "{flags:?}");
    let state = app
        .get("admin", &format!("/api/v1/mailboxes/{mailbox}"))
        .await
        .body;
    assert_eq!(state["last_uid"], 2);
    assert_eq!(state["last_error"], Value::Null);
    assert_eq!(state["imap"]["password_set"], true);
    assert!(!state.to_string().contains("secret"), "{state}");
    // Nothing else was sent (her reply is not acknowledged again).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(servers.sent_now(), 2);

    // Resolving mails the notice with the satisfaction survey link, which works unsigned-in.
    let resolved = app
        .patch(
            "l1",
            &format!("/api/v1/tickets/{ticket}"),
            json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let sent = servers.sent(3).await;
    // Quoted-printable: soft line breaks and "=3D" for "=".
    let notice = String::from_utf8_lossy(&sent[2])
        .replace("=\r\n", "")
        .replace("=3D", "=");
    let start = notice
        .find(&format!("/survey/{ticket}?sig="))
        .unwrap_or_else(|| panic!("no survey link in {notice}"));
    let link: String = notice[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/?=".contains(*c))
        .collect();
    let page = reqwest::get(format!("{}{link}", app.base)).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("How did we do?"));
    let sig = link.split("sig=").nth(1).unwrap();
    let rated = reqwest::Client::new()
        .post(format!("{}/survey/{ticket}", app.base))
        .form(&[("sig", sig), ("score", "5"), ("comment", "")])
        .send()
        .await
        .unwrap();
    assert!(rated
        .text()
        .await
        .unwrap()
        .contains("you rated us <b>5 of 5</b>"));
}

#[tokio::test]
async fn a_broken_message_does_not_block_the_mailbox() {
    let servers = MailServers::start().await;
    let app = spawn_app().await;
    let mailbox = mailbox(&app, Some(&servers), json!({})).await;
    servers.deliver("support", fixture!("no-from.eml")).await;
    servers.deliver("support", fixture!("iso-8859-1.eml")).await;
    app.post(
        "admin",
        &format!("/api/v1/mailboxes/{mailbox}/fetch"),
        json!({}),
    )
    .await;
    eventually("the ticket after the broken message", || {
        ticket_from(&app, "Imprimante à l'étage 2 en panne")
    })
    .await;
    let log = app
        .get("admin", &format!("/api/v1/mail?mailbox={mailbox}"))
        .await
        .body;
    let broken = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["state"] == "unparseable")
        .cloned()
        .unwrap_or_else(|| panic!("no unparseable entry: {log}"));
    assert!(
        broken["reason"].as_str().unwrap().contains("no From"),
        "{broken}"
    );
    assert_eq!(broken["source_kept"], true);
    let source = reqwest::Client::new()
        .get(format!("{}/api/v1/mail/{}/source", app.base, broken["id"]))
        .bearer_auth(&app.tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(source.status(), StatusCode::OK);
    assert_eq!(
        source.bytes().await.unwrap().as_ref(),
        fixture!("no-from.eml")
    );
}

#[tokio::test]
async fn only_senders_allowed_on_a_ticket_can_reply_to_it() {
    let app = spawn_app().await;
    let mailbox = mailbox(&app, None, json!({})).await;
    let first = hand_in(&app, mailbox, fixture!("plain.eml")).await;
    assert_eq!(first["outcome"], "new_ticket");
    let ticket = first["ticket_id"].as_i64().unwrap();

    // The same message again (a re-delivery) is recorded once.
    let again = hand_in(&app, mailbox, fixture!("plain.eml")).await;
    assert_eq!(again["outcome"], "duplicate");

    // A stranger quoting the ticket number gets a ticket of their own.
    let stranger =
        String::from_utf8_lossy(&filled(fixture!("reply-outlook.eml.tmpl"), ticket, "x@y.z"))
            .replace(
                "Ana Lima <ana@acme.example>",
                "Mallory <mallory@evil.example>",
            )
            .into_bytes();
    let taken = hand_in(&app, mailbox, &stranger).await;
    assert_eq!(taken["outcome"], "new_ticket", "{taken}");
    assert_ne!(taken["ticket_id"].as_i64(), Some(ticket));
    let messages = app
        .get("admin", &format!("/api/v1/tickets/{ticket}/messages"))
        .await
        .body;
    assert_eq!(messages["items"].as_array().unwrap().len(), 1);

    // The requester herself, by subject reference only, reaches it.
    let own = String::from_utf8_lossy(&filled(
        fixture!("reply-outlook.eml.tmpl"),
        ticket,
        "unknown@nowhere.example",
    ))
    .replace("AM0PR01MB0002@", "AM0PR01MB0003@");
    let joined = hand_in(&app, mailbox, own.as_bytes()).await;
    assert_eq!(joined["outcome"], "reply", "{joined}");
    assert_eq!(joined["ticket_id"].as_i64(), Some(ticket));
    let messages = app
        .get("admin", &format!("/api/v1/tickets/{ticket}/messages"))
        .await
        .body;
    assert_eq!(
        messages["items"][1]["body"],
        "It still drops, also with client 5.3."
    );
    // The sender acts in the log (a customer's mailed reply is not the desk's response).
    let events = app
        .get("admin", &format!("/api/v1/tickets/{ticket}/events"))
        .await
        .body;
    let actors: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "message.added" || e["kind"] == "ticket.created")
        .map(|e| e["actor"]["email"].as_str().unwrap_or("system"))
        .collect();
    assert_eq!(actors, ["ana@acme.example", "ana@acme.example"], "{events}");

    // Mail claiming to be from an agent is kept as an internal note, never published.
    let agent = String::from_utf8_lossy(&filled(
        fixture!("reply-outlook.eml.tmpl"),
        ticket,
        "nobody@nowhere.example",
    ))
    .replace("Ana Lima <ana@acme.example>", "L1 <l1@desk.test>")
    .replace("AM0PR01MB0002@", "AM0PR01MB0004@");
    assert_eq!(
        hand_in(&app, mailbox, agent.as_bytes()).await["outcome"],
        "reply"
    );
    let messages = app
        .get("admin", &format!("/api/v1/tickets/{ticket}/messages"))
        .await
        .body;
    assert_eq!(messages["items"][2]["internal"], true, "{messages}");

    // Control characters and an over-long subject do not stop a message.
    let odd = format!(
        "From: {}@acme.example\r\nSubject: {}\r\nMessage-ID: <odd-1@acme.example>\r\n\r\nnul\x00 and escape\x1b here\r\n",
        "x".repeat(64),
        "長い件名".repeat(80)
    );
    let taken = hand_in(&app, mailbox, odd.as_bytes()).await;
    assert_eq!(taken["outcome"], "new_ticket", "{taken}");
    let odd_ticket = app
        .get("admin", &format!("/api/v1/tickets/{}", taken["ticket_id"]))
        .await
        .body;
    assert_eq!(odd_ticket["subject"].as_str().unwrap().chars().count(), 200);

    // Another organisation's customer cannot read the mail-born ticket.
    let hidden = app
        .get("globex", &format!("/api/v1/tickets/{ticket}"))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn machines_loops_and_floods_open_no_tickets() {
    let app = spawn_app().await;
    let mailbox = mailbox(&app, None, json!({"sender_limit_per_hour": 3})).await;
    acme_owns("acme.example", &app).await;
    let ticket = hand_in(&app, mailbox, fixture!("plain.eml")).await["ticket_id"]
        .as_i64()
        .unwrap();

    // An out-of-office answer is noted internally on its ticket and moves nothing.
    let auto = hand_in(
        &app,
        mailbox,
        &filled(
            fixture!("auto-reply.eml.tmpl"),
            ticket,
            "CAF1plain001@mail.acme.example",
        ),
    )
    .await;
    assert_eq!(auto["outcome"], "auto_reply_noted", "{auto}");
    let staff_view = app
        .get("admin", &format!("/api/v1/tickets/{ticket}/messages"))
        .await
        .body;
    let note = &staff_view["items"][1];
    assert_eq!(note["internal"], true);
    assert!(
        note["body"].as_str().unwrap().contains("out of the office"),
        "{note}"
    );
    let customer_view = app
        .get("acme", &format!("/api/v1/tickets/{ticket}/messages"))
        .await;
    assert_eq!(
        customer_view.status,
        StatusCode::OK,
        "{}",
        customer_view.body
    );
    assert_eq!(
        customer_view.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        customer_view.body
    );
    assert_eq!(
        app.get("admin", &format!("/api/v1/tickets/{ticket}"))
            .await
            .body["status"],
        "new"
    );

    // An automatic answer about nothing we know is kept but opens nothing.
    let stray = String::from_utf8_lossy(&filled(
        fixture!("auto-reply.eml.tmpl"),
        999_999,
        "none@x.example",
    ))
    .replace("autoreply-0001", "autoreply-0002")
    .into_bytes();
    let ignored = hand_in(&app, mailbox, &stray).await;
    assert_eq!(ignored["outcome"], "ignored", "{ignored}");

    // Mail from our own address (a forwarding loop) is ignored.
    let own = String::from_utf8_lossy(fixture!("html-only.eml"))
        .replace("Eve <eve@acme.example>", "Support <support@desk.example>")
        .into_bytes();
    assert_eq!(hand_in(&app, mailbox, &own).await["outcome"], "ignored");

    // A flood from one sender is held after the mailbox's limit (3 per hour here).
    let mut outcomes = Vec::new();
    for i in 0..3 {
        let raw = format!(
            "From: bot@flood.example\r\nTo: support@desk.example\r\nSubject: flood {i}\r\nMessage-ID: <flood-{i}@flood.example>\r\n\r\nhello\r\n"
        );
        outcomes.push(hand_in(&app, mailbox, raw.as_bytes()).await["outcome"].clone());
    }
    let over = "From: bot@flood.example\r\nTo: support@desk.example\r\nSubject: flood 4\r\nMessage-ID: <flood-4@flood.example>\r\n\r\nhello\r\n";
    outcomes.push(hand_in(&app, mailbox, over.as_bytes()).await["outcome"].clone());
    assert_eq!(
        outcomes,
        [
            json!("new_ticket"),
            json!("new_ticket"),
            json!("new_ticket"),
            json!("rate_limited")
        ]
    );
    assert!(ticket_from(&app, "flood 4").await.is_none());
}

#[tokio::test]
async fn a_bounce_marks_the_mail_that_bounced_and_failures_are_visible() {
    let app = spawn_app().await;
    // SMTP on a port where nothing listens: deliveries fail and are retried, visibly.
    let mailbox = mailbox(
        &app,
        None,
        json!({"smtp": {"host": "127.0.0.1", "port": 9, "security": "none"}}),
    )
    .await;
    let ticket = hand_in(&app, mailbox, fixture!("plain.eml")).await["ticket_id"]
        .as_i64()
        .unwrap();
    let ack = eventually("the acknowledgement's first attempt", || async {
        let mail = app
            .get("l1", &format!("/api/v1/tickets/{ticket}/mail"))
            .await
            .body;
        mail["items"]
            .as_array()?
            .iter()
            .find(|m| m["direction"] == "out" && m["attempts"].as_i64() >= Some(1))
            .cloned()
    })
    .await;
    assert_eq!(ack["state"], "queued", "{ack}");
    assert!(
        ack["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("127.0.0.1:9"),
        "{ack}"
    );

    // The receiving server's bounce names it: it is marked bounced, and no ticket opens.
    let original = ack["message_id"].as_str().unwrap();
    let bounce = hand_in(
        &app,
        mailbox,
        &filled(fixture!("bounce-dsn.eml.tmpl"), ticket, original),
    )
    .await;
    assert_eq!(bounce["outcome"], "bounce", "{bounce}");
    assert_eq!(bounce["ticket_id"].as_i64(), Some(ticket));
    let after = app
        .get("admin", &format!("/api/v1/mail/{}", ack["id"]))
        .await
        .body;
    assert_eq!(after["state"], "bounced");
    assert!(
        after["reason"].as_str().unwrap().contains("User unknown"),
        "{after}"
    );
    assert!(ticket_from(&app, "Undelivered Mail Returned to Sender")
        .await
        .is_none());
    assert!(app
        .event_kinds(ticket)
        .await
        .contains(&"mail.bounced".to_owned()));
}

#[tokio::test]
async fn attachments_are_kept_within_the_limit_and_rejected_above_it() {
    let app = spawn_app().await;
    let mailbox = mailbox(&app, None, json!({"max_attachment_bytes": 62})).await;
    let taken = hand_in(&app, mailbox, fixture!("nested-multipart.eml")).await;
    let ticket = taken["ticket_id"].as_i64().unwrap();
    let small = hand_in(
        &app,
        mailbox,
        &String::from_utf8_lossy(fixture!("outlook-winmail.eml"))
            .replace("gina@acme.example", "carla@acme.example")
            .replace(
                "Calendar sync fails",
                &format!("Re: [#{ticket}] Contract scan attached"),
            )
            .into_bytes(),
    )
    .await;
    assert_eq!(small["outcome"], "reply", "{small}");
    let list = app
        .get("admin", &format!("/api/v1/tickets/{ticket}/attachments"))
        .await
        .body;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(items[0]["filename"], "contract.pdf");
    assert_eq!(items[0]["rejected"], Value::Null, "{list}");
    assert_eq!(items[1]["filename"], "winmail.dat");
    assert!(
        items[1]["rejected"].as_str().unwrap().contains("62 bytes"),
        "{list}"
    );
    assert_eq!(items[1]["url"], Value::Null);
    // The message with the rejected attachment still landed.
    assert_eq!(
        app.get("admin", &format!("/api/v1/tickets/{ticket}/messages"))
            .await
            .body["items"][1]["body"],
        "Outlook calendar sync fails with error 0x8004010F."
    );
    let messages = app
        .get("admin", &format!("/api/v1/tickets/{ticket}/messages"))
        .await
        .body;
    assert_eq!(
        messages["items"][0]["body"],
        "Please find the signed contract attached."
    );

    // The kept one downloads (never rendered inline), for staff and for its customer only.
    let url = items[0]["url"].as_str().unwrap();
    let download = reqwest::Client::new()
        .get(format!("{}{url}", app.base))
        .bearer_auth(&app.tokens["admin"])
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert!(download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    assert!(download.bytes().await.unwrap().starts_with(b"%PDF-1.4"));
    let other = app.get("globex", url).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_mail_settings_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let bad = app
        .post(
            "admin",
            "/api/v1/mailboxes",
            json!({"name": "", "address": "not-an-address", "team": "Nobody",
                   "imap": {"host": "mail example", "security": "ssl", "user": ""},
                   "smtp": {"host": "smtp.example", "port": 0},
                   "max_attachment_bytes": 0}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "address",
            "imap.host",
            "imap.security",
            "imap.user",
            "max_attachment_bytes",
            "name",
            "smtp.port",
            "team"
        ]
    );
    assert_eq!(
        app.get("admin", "/api/v1/mailboxes").await.body["items"],
        json!([])
    );

    let template = app
        .call(
            "admin",
            Method::PUT,
            "/api/v1/mail-templates/reply",
            Some(json!({"subject": "{{ ticket.subject }}", "body": "{{ ticket.secret }}"})),
        )
        .await;
    assert_eq!(template.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(template.error_fields(), ["body"]);
    let templates = app.get("admin", "/api/v1/mail-templates").await.body;
    assert!(templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["customised"] == false));

    let not_mail = app
        .call_raw(
            "admin",
            Method::POST,
            "/api/v1/mailboxes/1/messages",
            "text/plain",
            b"x".to_vec(),
        )
        .await;
    assert_eq!(not_mail.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let customer = app.get("acme", "/api/v1/mailboxes").await;
    assert_eq!(customer.status, StatusCode::FORBIDDEN);
}

/// The first link after `label` in a mail's text.
fn link_after(raw: &[u8], label: &str) -> String {
    let message = MessageParser::default().parse(raw).unwrap();
    let text = message.body_text(0).unwrap_or_default().into_owned();
    let start = text
        .find(label)
        .unwrap_or_else(|| panic!("no '{label}' in {text}"))
        + label.len();
    text[start..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

fn query(link: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(link)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

#[tokio::test]
async fn pages_and_status_updates_go_out_by_mail() {
    let servers = MailServers::start().await;
    let app = spawn_app().await;
    mailbox(&app, Some(&servers), json!({})).await;
    let web = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // A visitor subscribes on the public page and confirms by the mailed link.
    let asked = web
        .post(format!("{}/status/subscribe", app.base))
        .form(&[("email", "Watcher@Example.org")])
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), StatusCode::OK);
    let sent = servers.sent(1).await;
    assert!(header(&sent[0], "To").contains("watcher@example.org"));
    assert_eq!(header(&sent[0], "Auto-Submitted"), "auto-generated");
    let confirm = link_after(&sent[0], "Confirm: ");
    assert!(confirm.starts_with(&app.base), "{confirm}");
    let forged = confirm.replace("sig=", "sig=00");
    assert_eq!(
        web.get(&forged).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        web.get(&confirm).send().await.unwrap().status(),
        StatusCode::OK
    );
    // Opening the link (as a mail scanner would) subscribes no one; the button does.
    let confirmed = web
        .post(format!("{}/status/subscribe/confirm", app.base))
        .form(&query(&confirm))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);

    // l1 is paged by mail; the mailed link acknowledges.
    let contact = app
        .post(
            "l1",
            "/api/v1/me/contact-methods",
            json!({"kind": "email", "address": "L1-pager@desk.test"}),
        )
        .await;
    assert_eq!(contact.status, StatusCode::CREATED, "{}", contact.body);
    let bad = app
        .post(
            "l1",
            "/api/v1/me/contact-methods",
            json!({"kind": "email", "address": "not mail"}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["address"]);
    let policy = app
        .post("manager", "/api/v1/escalation-policies",
              json!({"name": "Mail", "levels": [{"timeout_minutes": 30, "targets": ["user:l1@desk.test"]}]}))
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.body);
    let service = app
        .post("manager", "/api/v1/services", json!({"name": "checkout"}))
        .await
        .body["id"]
        .as_i64()
        .unwrap();
    app.call(
        "manager",
        Method::PUT,
        &format!("/api/v1/services/{service}/escalation-policy"),
        Some(json!({"escalation_policy": "Mail"})),
    )
    .await;
    let incident = app
        .post("l1", "/api/v1/incidents", json!({"title": "checkout 500s (db pool)", "severity": "SEV2", "services": ["checkout"]}))
        .await;
    assert_eq!(incident.status, StatusCode::CREATED, "{}", incident.body);
    let id = incident.body["id"].as_i64().unwrap();
    let sent = servers.sent(2).await;
    let page = &sent[1];
    assert!(header(page, "To").contains("l1-pager@desk.test"));
    assert!(
        header(page, "Subject").contains(&format!("Incident #{id}")),
        "{}",
        header(page, "Subject")
    );
    let ack = link_after(page, "Acknowledge: ");
    let answered = web
        .post(format!(
            "{}/pages/{}",
            app.base,
            ack.split("/pages/")
                .nth(1)
                .unwrap()
                .split('?')
                .next()
                .unwrap()
        ))
        .form(&query(&ack))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), StatusCode::OK);
    assert_eq!(
        app.get("l1", &format!("/api/v1/incidents/{id}")).await.body["status"],
        "acknowledged"
    );

    // A public update reaches the subscriber, with a link that ends the subscription.
    let update = app
        .post("l1", &format!("/api/v1/incidents/{id}/status-updates"),
              json!({"status": "investigating", "impact": "partial_outage", "title": "Checkout errors",
                     "body": "Some payments fail; we are on it."}))
        .await;
    assert_eq!(update.status, StatusCode::CREATED, "{}", update.body);
    let sent = servers.sent(3).await;
    let notice = &sent[2];
    assert_eq!(header(notice, "Subject"), "[investigating] Checkout errors");
    let text = String::from_utf8_lossy(notice);
    assert!(text.contains("Some payments fail"), "{text}");
    assert!(
        !text.contains("db pool"),
        "the internal title leaked: {text}"
    );
    let unsubscribe = link_after(notice, "Unsubscribe: ");
    let shown = web.get(&unsubscribe).send().await.unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    let gone = web
        .post(format!("{}/status/unsubscribe", app.base))
        .form(&query(&unsubscribe))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::OK);
    app.post(
        "l1",
        &format!("/api/v1/incidents/{id}/status-updates"),
        json!({"status": "resolved", "impact": "none", "body": "Fixed."}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(servers.sent_now(), 3, "no mail after unsubscribing");
}

#[tokio::test]
async fn new_mail_is_fetched_at_once_through_imap_idle() {
    let servers = MailServers::start().await;
    let app = spawn_app().await;
    let mailbox = mailbox(&app, Some(&servers), json!({})).await;
    eventually("the first poll", || async {
        app.get("admin", &format!("/api/v1/mailboxes/{mailbox}"))
            .await
            .body["last_polled_at"]
            .as_str()
            .map(str::to_owned)
    })
    .await;
    // Let the watcher reach IDLE; the next scheduled poll is then ~28 s away, longer than
    // `eventually` waits, so only the server's IDLE notice can bring the message in time.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    servers.deliver("support", fixture!("plain.eml")).await;
    eventually("the ticket announced by IDLE", || {
        ticket_from(&app, "VPN drops every hour")
    })
    .await;
}

#[tokio::test]
async fn tls_servers_are_verified_against_the_public_roots_or_the_mailbox_certificate() {
    let servers = MailServers::start_tls().await;
    let app = spawn_app().await;
    let settings = |ca: &str| {
        json!({"name": "Support", "address": "support@desk.example", "team": "Support L1",
               "imap": {"host": "127.0.0.1", "port": servers.imaps_port, "security": "tls",
                        "user": "support", "password": "secret"},
               "smtp": {"host": "127.0.0.1", "port": servers.smtp_port, "security": "starttls",
                        "user": "desk", "password": "secret"},
               "tls_ca": ca})
    };
    let bad = app
        .post("admin", "/api/v1/mailboxes", {
            let mut s = settings("not a certificate");
            s["name"] = json!("Other");
            s
        })
        .await;
    assert_eq!(bad.error_fields(), ["tls_ca"]);
    // Without the test CA the server's certificate is refused, and the mailbox says why.
    let created = app.post("admin", "/api/v1/mailboxes", settings("")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.body["id"].as_i64().unwrap();
    let error = eventually("the refused certificate", || async {
        app.get("admin", &format!("/api/v1/mailboxes/{id}"))
            .await
            .body["last_error"]
            .as_str()
            .map(str::to_owned)
    })
    .await;
    assert!(error.to_lowercase().contains("certificate"), "{error}");
    // Trusting the CA, mail comes in over IMAPS and the acknowledgement goes out over STARTTLS.
    servers.deliver("support", fixture!("plain.eml")).await;
    let updated = app
        .call(
            "admin",
            Method::PUT,
            &format!("/api/v1/mailboxes/{id}"),
            Some(settings(&servers.ca_pem)),
        )
        .await;
    assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
    assert_eq!(updated.body["tls_ca"], true);
    app.post("admin", &format!("/api/v1/mailboxes/{id}/fetch"), json!({}))
        .await;
    eventually("the ticket over IMAPS", || {
        ticket_from(&app, "VPN drops every hour")
    })
    .await;
    let sent = servers.sent(1).await;
    assert_eq!(
        header(&sent[0], "In-Reply-To"),
        "<CAF1plain001@mail.acme.example>"
    );
}

#[tokio::test]
async fn the_weekly_summary_is_queued_once_for_managers_and_admins() {
    use opsdesk_server::workers::summary;
    let servers = MailServers::start().await;
    let app = spawn_app().await;
    mailbox(&app, Some(&servers), json!({})).await;
    app.ticket("acme", "Printer offline").await;
    let now = jiff::Timestamp::now();
    // The first run only marks the current week (the workers may have done so already).
    assert_eq!(summary::step(&app.store, &app.base, now).await.unwrap(), 0);
    let next = now
        .checked_add(jiff::SignedDuration::from_hours(7 * 24))
        .unwrap();
    assert_eq!(summary::step(&app.store, &app.base, next).await.unwrap(), 2);
    assert_eq!(
        summary::step(&app.store, &app.base, next).await.unwrap(),
        0,
        "a week is summarised once"
    );
    let log = app.get("admin", "/api/v1/mail").await.body;
    let mut to: Vec<String> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| {
            m["subject"]
                .as_str()
                .is_some_and(|s| s.starts_with("opsdesk weekly summary"))
        })
        .map(|m| m["to"].as_str().unwrap().to_owned())
        .collect();
    to.sort();
    assert_eq!(to, ["admin@desk.test", "manager@desk.test"]);
    // The text of the week the ticket was raised in: the Monday of `now` is the slot seven
    // hours on (`slot(next) - 7` is the week before on a Monday before 07:00 UTC).
    let monday = summary::slot(now + jiff::SignedDuration::from_hours(7));
    let (subject, body) = summary::text(&app.store, &app.base, monday, next)
        .await
        .unwrap();
    assert!(subject.starts_with("opsdesk weekly summary: "), "{subject}");
    assert!(body.contains("Tickets created     1 (0)"), "{body}");
    assert!(body.contains("Active now          1"), "{body}");
    assert!(
        body.contains(&format!("{}/reports?from=", app.base)),
        "{body}"
    );
}
