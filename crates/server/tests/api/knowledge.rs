//! Search and the knowledge base through the API: permissions of every result, articles'
//! versions, publishing and restore, feedback, deflections, links to tickets, known errors,
//! suggestions, validation and the index rebuild.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// The (kind, id) pairs `who` finds for `path`, once the index has caught up so that `ready`
/// holds (or after 10 s, so that a test that expects nothing still ends).
async fn found_when(
    app: &TestApp,
    who: &str,
    path: &str,
    ready: impl Fn(&[(String, i64)]) -> bool,
) -> Vec<(String, i64)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app.get(who, path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {:?}", r.body);
        let hits: Vec<(String, i64)> = r.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{:?}", r.body))
            .iter()
            .map(|h| {
                (
                    h["kind"].as_str().unwrap_or_default().to_owned(),
                    h["id"].as_i64().unwrap_or_default(),
                )
            })
            .collect();
        if ready(&hits) || Instant::now() > deadline {
            return hits;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the index has caught up with every event written so far.
async fn index_current(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let r = app.get("admin", "/api/v1/search/status").await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        if r.body["cursor"] == r.body["latest"] && !r.body["rebuilding"].as_bool().unwrap_or(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the index did not catch up: {:?}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn article(app: &TestApp, who: &str, body: Value) -> i64 {
    let r = app.post(who, "/api/v1/articles", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{:?}", r.body))
}

fn has(hits: &[(String, i64)], kind: &str, id: i64) -> bool {
    hits.iter().any(|(k, i)| k == kind && *i == id)
}

#[tokio::test]
async fn search_results_respect_every_permission() {
    let app = spawn_app().await;
    let acme = app.ticket("acme", "Printer jam at the Leeds depot").await;
    let globex = app.ticket("globex", "Printer toner low in Leeds").await;
    let note = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{acme}/messages"),
            json!({"body": "Warehouse manager threatens to cancel", "internal": true}),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{:?}", note.body);
    let public = article(&app, "l1", json!({"title": "Clearing a printer jam", "body": "Open tray 2.", "visibility": "public", "publish": true})).await;
    let internal = article(&app, "l1", json!({"title": "Printer fleet vendor contacts", "body": "Call the vendor.", "publish": true})).await;
    let l3_only = article(&app, "l3", json!({"title": "Printer firmware signing keys", "body": "Vault path.", "visibility": "L3", "publish": true})).await;
    let draft = article(
        &app,
        "l1",
        json!({"title": "Printer drivers (draft)", "body": "Not yet.", "visibility": "public"}),
    )
    .await;
    index_current(&app).await;

    let q = "/api/v1/search?q=printer";
    let seen = found_when(&app, "manager", q, |_| true).await;
    for (kind, id) in [
        ("ticket", acme),
        ("ticket", globex),
        ("article", public),
        ("article", internal),
        ("article", l3_only),
        ("article", draft),
    ] {
        assert!(
            has(&seen, kind, id),
            "a manager finds {kind} {id}: {seen:?}"
        );
    }
    let carol = found_when(&app, "acme", q, |_| true).await;
    assert_eq!(carol.len(), 2, "{carol:?}");
    assert!(
        has(&carol, "ticket", acme) && has(&carol, "article", public),
        "{carol:?}"
    );
    let dan = found_when(&app, "acme2", q, |_| true).await;
    assert!(has(&dan, "ticket", acme), "the same organisation: {dan:?}");
    let gary = found_when(&app, "globex", q, |_| true).await;
    assert_eq!(gary.len(), 2, "{gary:?}");
    assert!(
        has(&gary, "ticket", globex) && has(&gary, "article", public),
        "{gary:?}"
    );

    let l1 = found_when(&app, "l1", q, |_| true).await;
    assert!(has(&l1, "article", internal) && has(&l1, "article", draft));
    assert!(
        !has(&l1, "article", l3_only),
        "an L1 agent does not find L3 articles: {l1:?}"
    );
    let l3 = found_when(&app, "l3", q, |_| true).await;
    assert!(has(&l3, "article", l3_only));

    // Internal notes: found by staff, never by customers (not even of their own ticket).
    let staff = found_when(&app, "l0", "/api/v1/search?q=warehouse", |h| !h.is_empty()).await;
    assert_eq!(staff, vec![("ticket".to_owned(), acme)]);
    let snippet = app.get("l0", "/api/v1/search?q=warehouse").await;
    assert!(
        snippet.body["items"][0]["snippet_html"]
            .as_str()
            .unwrap_or_default()
            .contains("<mark>Warehouse</mark>"),
        "{:?}",
        snippet.body
    );
    assert!(
        found_when(&app, "acme", "/api/v1/search?q=warehouse", |_| true)
            .await
            .is_empty()
    );
    // Customers get customer links.
    let links = app.get("acme", q).await;
    let urls: Vec<&str> = links.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|h| h["url"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        urls.contains(&format!("/portal/tickets/{acme}").as_str()),
        "{urls:?}"
    );
    assert!(
        urls.contains(&format!("/help/articles/{public}").as_str()),
        "{urls:?}"
    );
}

#[tokio::test]
async fn search_filters_and_refuses_bad_parameters_by_name() {
    let app = spawn_app().await;
    let vpn = app.ticket("acme", "VPN drops every hour").await;
    let vpn_globex = app.ticket("globex", "VPN slow since Monday").await;
    let kb = article(&app, "l1", json!({"title": "VPN troubleshooting", "body": "Check the MTU.", "visibility": "public", "publish": true})).await;
    index_current(&app).await;

    let tickets = found_when(&app, "l1", "/api/v1/search?q=vpn&kind=ticket", |_| true).await;
    assert_eq!(tickets.len(), 2, "{tickets:?}");
    let articles = found_when(&app, "l1", "/api/v1/search?q=vpn&kind=article", |_| true).await;
    assert_eq!(articles, vec![("article".to_owned(), kb)]);
    let acme_org = app.get("l1", &format!("/api/v1/tickets/{vpn}")).await.body["organization_id"]
        .as_i64()
        .unwrap_or_default();
    let of_org = found_when(
        &app,
        "l1",
        &format!("/api/v1/search?q=vpn&org={acme_org}"),
        |_| true,
    )
    .await;
    assert_eq!(of_org, vec![("ticket".to_owned(), vpn)]);
    let newest = found_when(
        &app,
        "l1",
        "/api/v1/search?q=vpn&order=recency&kind=ticket",
        |_| true,
    )
    .await;
    assert_eq!(
        newest,
        vec![
            ("ticket".to_owned(), vpn_globex),
            ("ticket".to_owned(), vpn)
        ]
    );
    let typo = found_when(&app, "l1", "/api/v1/search?q=troublshooting", |_| true).await;
    assert_eq!(
        typo,
        vec![("article".to_owned(), kb)],
        "one typo is forgiven"
    );
    let future = found_when(&app, "l1", "/api/v1/search?q=vpn&from=2099-01-01", |_| true).await;
    assert!(future.is_empty());
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let through_today = found_when(
        &app,
        "l1",
        &format!("/api/v1/search?q=vpn&from={today}&to={today}"),
        |_| true,
    )
    .await;
    assert_eq!(
        through_today.len(),
        3,
        "to a day includes that day: {through_today:?}"
    );
    let page = app.get("l1", "/api/v1/search?q=vpn&limit=2").await;
    assert_eq!(page.body["next_offset"], 2, "{:?}", page.body);
    let rest = app.get("l1", "/api/v1/search?q=vpn&limit=2&offset=2").await;
    assert_eq!(rest.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest.body["next_offset"], Value::Null);
    // Customers asking for incidents get nothing, not an error.
    assert!(
        found_when(&app, "acme", "/api/v1/search?q=vpn&kind=incident", |_| true)
            .await
            .is_empty()
    );

    let bad = app
        .get(
            "l1",
            "/api/v1/search?q=vpn&kind=bogus&limit=0&from=yesterday&order=best",
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = bad.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["from", "kind", "limit", "order"]);
    let unknown = app.get("l1", "/api/v1/search?q=vpn&colour=red").await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        unknown.body
    );
    assert_eq!(
        app.get("nobody", "/api/v1/search?q=vpn").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn articles_keep_every_version_and_restore_old_ones() {
    let app = spawn_app().await;
    let id = article(&app, "l1", json!({"title": "Reset a password", "body": "Use the self-service page.", "visibility": "public", "note": "first"})).await;
    let path = format!("/api/v1/articles/{id}");
    assert_eq!(
        app.get("acme", &path).await.status,
        StatusCode::NOT_FOUND,
        "a draft is not public"
    );
    let published = app.post("l1", &format!("{path}/publish"), json!({})).await;
    assert_eq!(
        published.body["status"], "published",
        "{:?}",
        published.body
    );
    let read = app.get("acme", &path).await;
    assert_eq!(read.body["title"], "Reset a password");
    assert_eq!(
        read.body["owner"],
        Value::Null,
        "customers do not see who owns it"
    );

    let edit = |title: &str, body: &str, base: i64| json!({"title": title, "body": body, "visibility": "public", "base_version": base, "note": format!("edit of {base}")});
    let v2 = app
        .call(
            "l1",
            Method::PUT,
            &path,
            Some(edit(
                "Reset a password",
                "Use the **self-service** page at /reset.",
                1,
            )),
        )
        .await;
    assert_eq!(v2.status, StatusCode::OK, "{:?}", v2.body);
    assert_eq!(v2.body["latest_version"], 2);
    assert_eq!(v2.body["published_version"], 1);
    assert_eq!(
        app.get("acme", &path).await.body["body"],
        "Use the self-service page.",
        "readers keep the published version"
    );
    let stale_edit = app
        .call(
            "l2",
            Method::PUT,
            &path,
            Some(edit("Reset a password", "Overwrite", 1)),
        )
        .await;
    assert_eq!(
        stale_edit.status,
        StatusCode::CONFLICT,
        "{:?}",
        stale_edit.body
    );
    assert_eq!(stale_edit.error_fields(), vec!["base_version"]);
    let same = app
        .call(
            "l1",
            Method::PUT,
            &path,
            Some(edit(
                "Reset a password",
                "Use the **self-service** page at /reset.",
                2,
            )),
        )
        .await;
    assert_eq!(
        same.body["latest_version"], 2,
        "settings-only saves add no version"
    );
    app.post("l1", &format!("{path}/publish"), json!({})).await;
    let customer = app.get("acme", &path).await;
    assert!(
        customer.body["body_html"]
            .as_str()
            .unwrap_or_default()
            .contains("<strong>self-service</strong>"),
        "{:?}",
        customer.body
    );

    let restored = app
        .post("l2", &format!("{path}/versions/1/restore"), json!({}))
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{:?}", restored.body);
    assert_eq!(restored.body["latest_version"], 3);
    assert_eq!(restored.body["body"], "Use the self-service page.");
    let versions = app.get("l1", &format!("{path}/versions")).await;
    let numbers: Vec<i64> = versions.body["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v["version"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(numbers, vec![3, 2, 1]);
    assert_eq!(versions.body["items"][0]["note"], "Restored version 1");
    let v2 = app.get("l1", &format!("{path}/versions/2")).await;
    let diff = v2.body["diff"].as_str().unwrap_or_default();
    assert!(
        diff.contains("-Use the self-service page.")
            && diff.contains("+Use the **self-service** page at /reset."),
        "{diff}"
    );
    assert_eq!(
        app.get("acme", &format!("{path}/versions")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("l1", &format!("{path}/versions/9")).await.status,
        StatusCode::NOT_FOUND
    );

    // Archived: gone for readers and from search, kept for staff.
    index_current(&app).await;
    assert_eq!(
        found_when(&app, "acme", "/api/v1/search?q=password", |h| !h.is_empty())
            .await
            .len(),
        1
    );
    let archived = app.post("l1", &format!("{path}/archive"), json!({})).await;
    assert_eq!(archived.body["status"], "archived");
    assert_eq!(app.get("acme", &path).await.status, StatusCode::NOT_FOUND);
    assert!(
        found_when(&app, "l1", "/api/v1/search?q=password", |h| h.is_empty())
            .await
            .is_empty()
    );
    assert_eq!(app.get("l1", &path).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_articles_are_refused_by_field_and_change_nothing() {
    let app = spawn_app().await;
    let r = app.post("l1", "/api/v1/articles", json!({"title": " ", "body": "", "visibility": "secret", "owner": "nobody@desk.test", "category": "Nope", "review_by": "soon"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "body",
            "category",
            "owner",
            "review_by",
            "title",
            "visibility"
        ]
    );
    let owner = app
        .post(
            "l1",
            "/api/v1/articles",
            json!({"title": "T", "body": "B", "owner": "carol@acme.test"}),
        )
        .await;
    assert_eq!(
        owner.error_fields(),
        vec!["owner"],
        "a customer cannot own an article"
    );
    let listed = app.get("l1", "/api/v1/articles").await;
    assert_eq!(listed.body["items"], json!([]), "nothing was created");
    assert_eq!(
        app.post(
            "acme",
            "/api/v1/articles",
            json!({"title": "T", "body": "B"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(
            "auditor",
            "/api/v1/articles",
            json!({"title": "T", "body": "B"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let unknown = app
        .post(
            "l1",
            "/api/v1/articles",
            json!({"title": "T", "body": "B", "colour": "red"}),
        )
        .await;
    assert_eq!(unknown.error_fields(), vec!["colour"]);
    let category = app
        .post("l1", "/api/v1/kb/categories", json!({"name": "Accounts"}))
        .await;
    assert_eq!(
        category.status,
        StatusCode::FORBIDDEN,
        "agents do not shape the categories"
    );
    let category = app
        .post(
            "manager",
            "/api/v1/kb/categories",
            json!({"name": "Accounts", "description": "Sign-in"}),
        )
        .await;
    assert_eq!(category.status, StatusCode::CREATED, "{:?}", category.body);
    let twice = app
        .post(
            "manager",
            "/api/v1/kb/categories",
            json!({"name": "accounts"}),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.error_fields(), vec!["name"]);
}

#[tokio::test]
async fn feedback_deflections_links_and_stale_articles_are_counted() {
    let app = spawn_app().await;
    let id = article(&app, "l1", json!({"title": "Unlock an account", "body": "Wait 15 minutes.", "visibility": "public", "publish": true, "review_by": "2020-01-01"})).await;
    let path = format!("/api/v1/articles/{id}");
    let r = app
        .post(
            "acme",
            &format!("{path}/feedback"),
            json!({"helpful": false, "comment": "Too slow"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    app.post(
        "globex",
        &format!("{path}/feedback"),
        json!({"helpful": true}),
    )
    .await;
    let r = app
        .post("acme", &format!("{path}/deflections"), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let ticket = app.ticket("acme", "Locked out").await;
    let link = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{ticket}/articles"),
            json!({"article": id}),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{:?}", link.body);
    let again = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{ticket}/articles"),
            json!({"article": id}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "linking twice counts once");
    assert_eq!(
        app.post(
            "acme",
            &format!("/api/v1/tickets/{ticket}/articles"),
            json!({"article": id})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let unknown = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{ticket}/articles"),
            json!({"article": 999}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{:?}", unknown.body);
    let linked = app
        .get("acme", &format!("/api/v1/tickets/{ticket}/articles"))
        .await;
    assert_eq!(
        linked.body["items"][0]["id"], id,
        "the customer sees the public article linked"
    );
    let before = app.get("l1", &path).await;
    assert_eq!(
        (
            before.body["helpful"].as_i64(),
            before.body["unhelpful"].as_i64(),
            before.body["deflections"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(
        (
            before.body["tickets_linked"].as_i64(),
            before.body["tickets_solved"].as_i64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(before.body["stale"], true);
    app.patch(
        "l1",
        &format!("/api/v1/tickets/{ticket}"),
        json!({"status": "resolved"}),
    )
    .await;
    assert_eq!(app.get("l1", &path).await.body["tickets_solved"], 1);
    let feedback = app.get("l1", &format!("{path}/feedback")).await;
    assert_eq!(feedback.body["items"][0]["helpful"], true);
    assert_eq!(feedback.body["items"][1]["comment"], "Too slow");
    assert_eq!(
        app.get("acme", &format!("{path}/feedback")).await.status,
        StatusCode::FORBIDDEN
    );
    let stale = app.get("l1", "/api/v1/articles?stale=true&owner=me").await;
    assert_eq!(
        stale.body["items"].as_array().map(Vec::len),
        Some(1),
        "{:?}",
        stale.body
    );
    let none = app.get("l2", "/api/v1/articles?stale=true&owner=me").await;
    assert_eq!(none.body["items"], json!([]));
    let customer = app.get("acme", "/api/v1/articles").await;
    assert_eq!(
        customer.body["items"][0]["stale"], false,
        "customers are not told"
    );
    assert_eq!(customer.body["items"][0]["deflections"], 0);
}

#[tokio::test]
async fn a_known_error_becomes_an_article_and_suggestions_follow_typing() {
    let app = spawn_app().await;
    let problem = app
        .post(
            "l3",
            "/api/v1/problems",
            json!({"title": "Proxy pool exhaustion"}),
        )
        .await;
    let problem = problem.body["id"].as_i64().unwrap_or_default();
    let early = app
        .post(
            "l3",
            &format!("/api/v1/problems/{problem}/article"),
            json!({}),
        )
        .await;
    assert_eq!(
        early.error_fields(),
        vec!["problem"],
        "not a known error yet"
    );
    app.call("l3", Method::PUT, &format!("/api/v1/problems/{problem}"), Some(json!({"title": "Proxy pool exhaustion", "status": "known_error", "root_cause": "Pool of 50 connections", "workaround": "Restart the proxy"}))).await;
    let made = app
        .post(
            "l3",
            &format!("/api/v1/problems/{problem}/article"),
            json!({"visibility": "public"}),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{:?}", made.body);
    let body = made.body["body"].as_str().unwrap_or_default();
    assert!(
        body.contains("## Symptom")
            && body.contains("Pool of 50 connections")
            && body.contains("Restart the proxy"),
        "{body}"
    );
    assert_eq!(made.body["problem"], problem);
    app.call("l3", Method::PUT, &format!("/api/v1/problems/{problem}"), Some(json!({"title": "Proxy pool exhaustion", "status": "known_error", "root_cause": "Pool of 50 connections", "workaround": "Raise the pool to 200"}))).await;
    let again = app
        .post(
            "l3",
            &format!("/api/v1/problems/{problem}/article"),
            json!({"visibility": "public"}),
        )
        .await;
    assert_eq!(
        again.body["id"], made.body["id"],
        "the same article, updated"
    );
    assert_eq!(again.body["published_version"], 2);

    index_current(&app).await;
    let typed = found_when(
        &app,
        "acme",
        "/api/v1/search/suggest?q=known%20error%3A%20pro",
        |h| !h.is_empty(),
    )
    .await;
    assert_eq!(
        typed,
        vec![(
            "article".to_owned(),
            made.body["id"].as_i64().unwrap_or_default()
        )]
    );
    let short = app.get("acme", "/api/v1/search/suggest?q=pr").await;
    assert_eq!(
        short.body["items"],
        json!([]),
        "fewer than 3 characters suggest nothing"
    );
    let body_words = app.get("acme", "/api/v1/search/suggest?q=restart").await;
    assert_eq!(
        body_words.body["items"],
        json!([]),
        "suggestions match titles"
    );
}

#[tokio::test]
async fn new_content_is_searchable_and_a_rebuild_keeps_it() {
    let app = spawn_app().await;
    let id = app.ticket("acme", "Scanner firmware bricked").await;
    let hits = found_when(&app, "l1", "/api/v1/search?q=scanner", |h| !h.is_empty()).await;
    assert_eq!(hits, vec![("ticket".to_owned(), id)]);
    let reply = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{id}/messages"),
            json!({"body": "Reflash with the recovery image"}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let by_reply = found_when(&app, "acme", "/api/v1/search?q=recovery", |h| !h.is_empty()).await;
    assert_eq!(
        by_reply,
        vec![("ticket".to_owned(), id)],
        "a reply is searchable"
    );

    assert_eq!(
        app.post("l1", "/api/v1/search/reindex", json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    index_current(&app).await;
    let first_build = app.get("admin", "/api/v1/search/status").await.body["rebuilt_at"].clone();
    assert!(first_build.is_string(), "a new index is built at start");
    tokio::time::sleep(Duration::from_millis(5)).await;
    let r = app.post("admin", "/api/v1/search/reindex", json!({})).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{:?}", r.body);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = app.get("admin", "/api/v1/search/status").await;
        if status.body["rebuilt_at"].is_string()
            && status.body["rebuilt_at"] != first_build
            && status.body["cursor"] == status.body["latest"]
        {
            assert_eq!(status.body["error"], Value::Null);
            assert!(status.body["documents"].as_u64().unwrap_or_default() >= 1);
            break;
        }
        assert!(Instant::now() < deadline, "{:?}", status.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let after = found_when(&app, "l1", "/api/v1/search?q=recovery", |h| !h.is_empty()).await;
    assert_eq!(after, vec![("ticket".to_owned(), id)]);
    assert_eq!(
        app.get("acme", "/api/v1/search/status").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn tier_restrictions_hold_for_drafts_writers_and_links() {
    let app = spawn_app().await;
    let secret = article(
        &app,
        "l3",
        json!({"title": "Signing key rotation", "body": "Vault path.", "visibility": "L3"}),
    )
    .await;
    let path = format!("/api/v1/articles/{secret}");
    assert_eq!(
        app.get("l1", &path).await.status,
        StatusCode::NOT_FOUND,
        "an L3 draft is not for L1"
    );
    for action in ["publish", "archive"] {
        let r = app.post("l1", &format!("{path}/{action}"), json!({})).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}: {:?}", r.body);
    }
    let overwrite = app
        .call(
            "l1",
            Method::PUT,
            &path,
            Some(json!({"title": "x", "body": "y"})),
        )
        .await;
    assert_eq!(overwrite.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("l3", &path).await.body["status"],
        "draft",
        "nothing changed"
    );
    // A draft cannot be linked to a ticket (its title would reach the customer).
    let draft = article(
        &app,
        "l1",
        json!({"title": "Unfinished", "body": "b", "visibility": "public"}),
    )
    .await;
    let ticket = app.ticket("acme", "Needs an answer").await;
    let link = app
        .post(
            "l1",
            &format!("/api/v1/tickets/{ticket}/articles"),
            json!({"article": draft}),
        )
        .await;
    assert_eq!(link.error_fields(), vec!["article"]);
    // A reader's feedback counts once a day.
    app.post(
        "l1",
        &format!("/api/v1/articles/{draft}/publish"),
        json!({}),
    )
    .await;
    for _ in 0..3 {
        app.post(
            "acme",
            &format!("/api/v1/articles/{draft}/feedback"),
            json!({"helpful": true}),
        )
        .await;
        app.post(
            "acme",
            &format!("/api/v1/articles/{draft}/deflections"),
            json!({}),
        )
        .await;
    }
    let counted = app.get("l1", &format!("/api/v1/articles/{draft}")).await;
    assert_eq!(
        (
            counted.body["helpful"].as_i64(),
            counted.body["deflections"].as_i64()
        ),
        (Some(1), Some(1))
    );
}

#[tokio::test]
async fn a_renamed_category_is_found_under_its_new_name() {
    let app = spawn_app().await;
    let category = app
        .post(
            "manager",
            "/api/v1/kb/categories",
            json!({"name": "Logistics"}),
        )
        .await;
    let category = category.body["id"].as_i64().unwrap_or_default();
    let id = article(&app, "l1", json!({"title": "Pallet labels", "body": "Print them.", "category": "Logistics", "visibility": "public", "publish": true})).await;
    assert_eq!(
        found_when(&app, "l1", "/api/v1/search?q=logistics", |h| !h.is_empty()).await,
        vec![("article".to_owned(), id)]
    );
    let renamed = app
        .call(
            "manager",
            Method::PUT,
            &format!("/api/v1/kb/categories/{category}"),
            Some(json!({"name": "Warehouse"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(
        found_when(&app, "l1", "/api/v1/search?q=warehouse", |h| !h.is_empty()).await,
        vec![("article".to_owned(), id)]
    );
    assert!(
        found_when(&app, "l1", "/api/v1/search?q=logistics", |h| h.is_empty())
            .await
            .is_empty()
    );
    // Customers count only what they may read.
    article(&app, "l1", json!({"title": "Internal pallet rules", "body": "b", "category": "Warehouse", "publish": true})).await;
    let theirs = app.get("acme", "/api/v1/kb/categories").await;
    assert_eq!(theirs.body["items"][0]["published"], 1);
    let staff = app.get("l1", "/api/v1/kb/categories").await;
    assert_eq!(staff.body["items"][0]["published"], 2);
}
