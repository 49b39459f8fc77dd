//! Knowledge base categories and articles, runbooks and scheduled checks.

use super::*;

/// A demo article: title, category, visibility, body, owner, review due in days.
type DemoArticle = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<String>,
    i64,
);

/// A believable knowledge base: categories, public and internal articles (one restricted to
/// L2 and above), a few past their review date, one with an unpublished draft, a known error
/// from a problem record, feedback, a deflection and links from resolved tickets.
pub(super) async fn seed_knowledge(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use crate::app::knowledge as kb;
    use crate::wire::knowledge::{ArticleIn, CategoryIn};
    let by = Operator::Console;
    let day = |days: i64| {
        (now + SignedDuration::from_hours(24 * days))
            .strftime("%Y-%m-%d")
            .to_string()
    };
    for (position, (name, description)) in [
        (
            "Accounts and sign-in",
            "Passwords, two-factor codes, single sign-on.",
        ),
        (
            "Tracking and shipments",
            "Tracking pages, labels, scanners in the depot.",
        ),
        ("Billing", "Invoices, VAT, payment methods."),
        ("Runbooks and internal notes", "For the desk's staff."),
    ]
    .into_iter()
    .enumerate()
    {
        let input = CategoryIn {
            name: name.into(),
            description: description.into(),
            position: position as i64,
        };
        kb::save_category(&Ctx::new(store, by, now), None, &input).await?;
    }
    let owner = |email: &str| Some(email.to_owned());
    // (title, category, visibility, body, owner, review in days)
    let articles: [DemoArticle; 9] = [
        ("Reset your password", "Accounts and sign-in", "public", "Forgot your password? You can set a new one yourself.\n\n1. Open the sign-in page and choose **Forgot password**.\n2. Enter your work e-mail address.\n3. Follow the link in the e-mail within 30 minutes.\n\nThe link works once. If no e-mail arrives within 5 minutes, check your spam folder, then raise a request.", owner("liam.l1@opsdesk.example"), 120),
        ("Two-factor codes arrive late or not at all", "Accounts and sign-in", "public", "Codes sent by SMS can be delayed by the mobile network.\n\n- Use the authenticator app instead: **Profile → Security → Authenticator**.\n- Make sure your phone's clock is set automatically; codes depend on the time.\n- Each code is valid for 30 seconds.", owner("liam.l1@opsdesk.example"), -10),
        ("Single sign-on redirect loop", "Accounts and sign-in", "public", "If the sign-in page keeps sending you back and forth:\n\n1. Clear cookies for the site.\n2. Sign out of your company portal and sign in again.\n3. Try a private window.\n\nIf it still loops, raise a request and say which browser you use.", owner("noah.l2@opsdesk.example"), 200),
        ("Tracking page shows yesterday's data", "Tracking and shipments", "public", "Tracking updates arrive from carriers every 15 minutes. A page that shows older data is usually cached by the browser: reload with **Ctrl+F5**.\n\nShipments handed over after 18:00 appear the next morning.", owner("liam.l1@opsdesk.example"), 90),
        ("Label printer prints blank labels", "Tracking and shipments", "public", "Blank labels mean the printer cannot read the ribbon.\n\n1. Open the cover and check the ribbon is threaded under the print head.\n2. Run the calibration: hold the feed button until the light blinks twice.\n3. Print a test label from **Settings → Printers**.", owner("lena.l0@opsdesk.example"), -3),
        ("Invoice shows the wrong VAT rate", "Billing", "public", "The VAT rate follows the billing address of your organisation. Check it under **Account → Billing**. Invoices already issued are corrected with a credit note: raise a request with the invoice number.", owner("manager@opsdesk.example"), 60),
        ("Restarting the tracking ingest workers", "Runbooks and internal notes", "internal", "When carrier updates stop:\n\n```\nsystemctl restart tracking-ingest@*\njournalctl -u tracking-ingest@1 -n 50\n```\n\nExpect `consumer lag` to fall below 1,000 within 5 minutes.", owner("noah.l2@opsdesk.example"), -30),
        ("Escalating a billing dispute", "Runbooks and internal notes", "internal", "Billing disputes over 1,000 EUR go to the finance queue with the invoice number and the customer's contract id. Never promise a refund in the first reply.", owner("manager@opsdesk.example"), 180),
        ("Rotating the carrier API keys", "Runbooks and internal notes", "L2", "Carrier API keys are rotated every 90 days from the vault (`secret/carriers/*`). Rotate one carrier at a time and watch the ingest dashboard for 10 minutes.", owner("noah.l2@opsdesk.example"), 45),
    ];
    let mut made = Vec::new();
    for (title, category, visibility, body, owner, review_in_days) in articles {
        let input = ArticleIn {
            title: title.into(),
            body: body.into(),
            category: Some(category.into()),
            visibility: Some(visibility.into()),
            owner,
            review_by: Some(day(review_in_days)),
            note: "First version".into(),
            publish: true,
            base_version: None,
        };
        made.push(kb::create_article(&Ctx::new(store, by, now), &input).await?);
    }
    // An edit waiting to be published, and a draft nobody published yet.
    if let Some(first) = made.first() {
        let input = ArticleIn {
            title: first.title.clone(),
            body: format!(
                "{}\n\nAdministrators of your organisation can also reset it for you.",
                first.body
            ),
            category: first.category.as_ref().map(|c| c.1.clone()),
            visibility: Some("public".into()),
            owner: first.owner.as_ref().map(|o| o.email.clone()),
            review_by: Some(day(120)),
            note: "Mention organisation administrators".into(),
            publish: false,
            base_version: Some(first.version),
        };
        kb::edit_article(&Ctx::new(store, by, now), first.id, &input).await?;
    }
    let draft = ArticleIn {
        title: "Adding user seats".into(),
        body: "Seats are added under **Account → Users**. (Draft: confirm the price list first.)"
            .into(),
        category: Some("Billing".into()),
        visibility: Some("public".into()),
        owner: Some("manager@opsdesk.example".into()),
        review_by: None,
        note: String::new(),
        publish: false,
        base_version: None,
    };
    kb::create_article(&Ctx::new(store, by, now), &draft).await?;
    // Readers' feedback and a deflection on the public ones.
    let carol = store
        .user_by_email("carol@acme.example")
        .await?
        .map(|u| u.id);
    let gary = store
        .user_by_email("gary@globex.example")
        .await?
        .map(|u| u.id);
    if let Some(label) = made.get(4) {
        store
            .article_feedback(label.id, true, "", carol, now)
            .await?;
        store.article_deflected(label.id, carol, now).await?;
    }
    if let Some(twofa) = made.get(1) {
        store
            .article_feedback(twofa.id, false, "I have no smartphone.", gary, now)
            .await?;
    }
    // Linked from resolved tickets whose subject they answer.
    let resolved = store
        .tickets(
            &opsdesk_store::QueueFilter {
                statuses: vec![
                    opsdesk_domain::Status::Resolved,
                    opsdesk_domain::Status::Closed,
                ],
                ..Default::default()
            },
            opsdesk_domain::access::Confinement::None,
            opsdesk_store::QueueSort::Priority,
            None,
            200,
        )
        .await?;
    let liam = store
        .user_by_email("liam.l1@opsdesk.example")
        .await?
        .map(|u| u.id);
    for ticket in &resolved.items {
        let subject = ticket.subject.as_str().to_lowercase();
        let answer = if subject.contains("password") {
            made.first()
        } else if subject.contains("two-factor") {
            made.get(1)
        } else if subject.contains("sso") {
            made.get(2)
        } else {
            None
        };
        if let Some(article) = answer {
            store.link_article(ticket.id, article, liam, now).await?;
        }
    }
    Ok(())
}

/// Runbooks attached to services and alerts, one run under way on an open incident, and
/// scheduled checks with a few days of history: done, done late, and missed occurrences.
pub(super) async fn seed_runbooks(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    use crate::app::runbooks as rb;
    use crate::wire::runbooks::{RunbookIn, StepOutcomeIn};
    use opsdesk_store::RunTarget;
    let by = Operator::Console;
    let runbooks = [
        ("Billing database failover", "When billing-db's primary is down or lagging.", Some("billing-db"), "billing-db", "",
         "## Confirm the primary is down\nCheck replication and connections on the primary.\n$ psql -h billing-db-1 -c 'select pg_is_in_recovery()'\n=> the primary does not answer\n\n## Promote the replica\n$ patronictl failover billing --candidate billing-db-2 --force\n=> billing-db-2 is leader\n\n## Point invoicing at the new primary\nThe service follows DNS; check it moved.\n$ dig +short billing-db.internal\n\n## Post a status update\nTell customers invoicing is back."),
        ("Checkout errors (5xx)", "Checkout returns 5xx to customers.", Some("checkout-web"), "checkout", "",
         "## Look at the error rate by route\n$ curl -s localhost:9090/api/v1/query?query=rate(http_5xx[5m])\n\n## Roll back the last release if it is new\n$ deployctl rollback checkout-web\n=> error rate below 0.1 %\n\n## Tell the desk\nPost an internal note on linked tickets."),
        ("Daily health check", "Morning check of the platform before the desk opens.", None, "", "",
         "## Dashboards green\nOpen the overview dashboard; every panel green.\n\n## Queue depths normal\n$ rabbitmqctl list_queues\n=> fewer than 1,000 messages each\n\n## Disk space\n$ df -h /var/lib\n=> Use% below 80\n\n## Certificates\nNone expires within 14 days."),
        ("Backup verification", "Restore last night's backup into the scratch database and compare.", Some("billing-db"), "", "",
         "## Restore last night's dump\n$ pg_restore -d scratch /backups/billing-latest.dump\n=> exits 0\n\n## Compare row counts\n$ psql scratch -c 'select count(*) from invoices'\n=> within 0.1 % of production\n\n## Drop the scratch copy\n$ dropdb scratch"),
        ("Password reset for a locked account", "L1: unlock and reset a customer's account.", None, "", "access",
         "## Verify the caller\nAsk for the order number of their last shipment.\n\n## Unlock the account\nAdmin console → Users → Unlock.\n\n## Send the reset link\nLink the article 'Reset your password' in the reply."),
    ];
    let mut made = Vec::new();
    for (title, description, service, alert_match, category, steps) in runbooks {
        let input = RunbookIn {
            title: title.into(),
            description: description.into(),
            steps: None,
            steps_text: Some(steps.into()),
            service: service.map(str::to_owned),
            alert_match: alert_match.into(),
            category: category.into(),
        };
        made.push(rb::save_runbook(&Ctx::new(store, by, now), None, &input).await?);
    }
    // The checkout runbook under way on the open checkout incident.
    let incidents = store
        .incidents(&opsdesk_store::IncidentFilter {
            open: Some(true),
            limit: 50,
            ..Default::default()
        })
        .await?;
    let noah = store.user_by_email("noah.l2@opsdesk.example").await?;
    if let (Some(incident), Some(noah), Some(checkout)) = (
        incidents
            .iter()
            .find(|i| i.title.to_lowercase().contains("checkout")),
        noah,
        made.get(1),
    ) {
        let actor = opsdesk_domain::Actor {
            user_id: noah.id,
            role: noah.role,
            org_id: None,
            tier: noah.tier,
        };
        let run = rb::start_run(
            &Ctx::new(store, Operator::User(&actor), now),
            RunTarget::Incident(incident.id),
            checkout.id,
        )
        .await?;
        let note = StepOutcomeIn {
            outcome: Some("done".into()),
            note: "502s only on /eu/checkout since the 09:05 release".into(),
        };
        rb::record_step(
            &Ctx::new(store, Operator::User(&actor), now),
            run.id,
            1,
            &note,
        )
        .await?;
    }
    // Checks with history: scheduled a week ago, driven through the days since.
    let owner = store
        .user_by_email("manager@opsdesk.example")
        .await?
        .map(|u| u.id)
        .unwrap_or_default();
    let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap_or(jiff::tz::TimeZone::UTC);
    let week_ago = (now - SignedDuration::from_hours(24 * 7))
        .to_zoned(zone.clone())
        .date();
    for (name, runbook, team, rule, hour) in [
        (
            "Daily health check",
            2usize,
            "Service Desk",
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
            8,
        ),
        (
            "Backup verification",
            3,
            "Product Experts L2",
            "FREQ=DAILY",
            6,
        ),
    ] {
        let Some(runbook) = made.get(runbook) else {
            continue;
        };
        let Some(team) = store.team_by_name(team).await? else {
            continue;
        };
        let start = week_ago.at(hour, 0, 0, 0);
        let parsed = opsdesk_domain::recurrence::Rule::parse("rrule", rule)?;
        let recurrence = opsdesk_domain::recurrence::Recurrence::new(parsed, start, zone.clone());
        let first = recurrence.next_after(
            start
                .to_zoned(zone.clone())
                .map(|z| z.timestamp())
                .unwrap_or(now)
                - SignedDuration::from_secs(1),
        );
        let draft = opsdesk_store::CheckDraft {
            name: name.into(),
            runbook_id: runbook.id,
            team_id: team.id,
            owner_id: owner,
            rrule: rule.into(),
            start_local: start.strftime("%Y-%m-%dT%H:%M").to_string(),
            zone: "Europe/Berlin".into(),
            window_minutes: 120,
            active: true,
            next_at: first,
        };
        let check = store
            .save_check(None, &draft, None, now - SignedDuration::from_hours(24 * 7))
            .await?;
        // Walk each past occurrence: most done in time, one done late, one left undone (missed
        // when the next one came).
        let mut at = first;
        let mut day = 0;
        while let Some(t) = at.filter(|t| *t < now) {
            crate::workers::checks::step(store, t + SignedDuration::from_mins(1)).await?;
            let latest = store.occurrences(Some(check.id), 1).await?;
            if let Some(run_id) = latest.first().and_then(|o| o.run_id) {
                let done_after = match day % 4 {
                    1 => Some(SignedDuration::from_mins(150)),
                    2 => None,
                    _ => Some(SignedDuration::from_mins(35)),
                };
                let next = recurrence.next_after(t);
                let is_last = next.is_none_or(|n| n >= now);
                if let (Some(after), false) = (done_after, is_last) {
                    let when = t + after;
                    if when > t + SignedDuration::from_mins(120) {
                        crate::workers::checks::step(store, when - SignedDuration::from_mins(1))
                            .await?;
                    }
                    let run = store.run(run_id).await?;
                    for position in 0..run.steps.len() {
                        store
                            .record_step(
                                run_id,
                                position,
                                opsdesk_domain::runbook::Outcome::Done,
                                "",
                                Some(owner),
                                when,
                            )
                            .await?;
                    }
                }
            }
            day += 1;
            at = recurrence.next_after(t);
        }
    }
    Ok(())
}
