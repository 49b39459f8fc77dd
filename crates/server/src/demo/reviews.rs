//! The resolved incident's review, its action items and the problem record holding the known error.

use super::*;

/// Writes the resolved incident's review, its action items and the problem record holding the known error.
pub(super) async fn seed_review(
    store: &Store,
    noah: &opsdesk_domain::Actor,
    olga: &opsdesk_domain::Actor,
) -> Result<(), ApiError> {
    if let Some(resolved) = store
        .incidents(&opsdesk_store::IncidentFilter {
            open: Some(false),
            limit: 10,
            ..Default::default()
        })
        .await?
        .into_iter()
        .find(|i| i.title.starts_with("p99 checkout latency"))
    {
        use crate::app::reviews;
        use crate::wire::incidents::{ActionItemIn, ProblemIn, ReviewIn};
        let t = resolved.milestones.detected;
        let at = |m: i64| t + SignedDuration::from_mins(m);
        let review = ReviewIn {
            summary: "Checkout pages were slow (p99 above 2 s) for 35 minutes after the 14:00 release.".into(),
            customer_impact: "About 8% of checkouts timed out; no orders were lost.".into(),
            root_cause: "The release lowered the database connection pool from 50 to 10 per node.".into(),
            contributing_factors: "The pool size lives in a config file no review looks at; no alert on pool saturation.".into(),
            went_well: "Alert to acknowledgement in 4 minutes; rollback in 16.".into(),
            went_poorly: "Nobody knew the pool setting had changed; the release notes did not say.".into(),
            published: true,
            ..ReviewIn::default()
        };
        reviews::save_review(
            &Ctx::new(store, Operator::User(noah), at(24 * 60)),
            resolved.id,
            &review,
        )
        .await?;
        let item = |title: &str, owner: &str, due: &str, verification: &str| ActionItemIn {
            title: title.into(),
            owner: owner.into(),
            due: due.into(),
            verification: verification.into(),
            incident: Some(resolved.id),
            problem: None,
        };
        let alert = reviews::create_action_item(
            &Ctx::new(store, Operator::User(noah), at(24 * 60 + 5)),
            &item(
                "Alert on connection pool saturation above 80%",
                "noah.l2@opsdesk.example",
                &(t + SignedDuration::from_hours(48)).to_string(),
                "A load test at 85% pages the on-call",
            ),
        )
        .await?;
        reviews::set_action_state(
            &Ctx::new(store, Operator::User(noah), at(40 * 60)),
            alert.id,
            "done",
        )
        .await?;
        reviews::set_action_state(
            &Ctx::new(store, Operator::User(olga), at(44 * 60)),
            alert.id,
            "verified",
        )
        .await?;
        reviews::create_action_item(
            &Ctx::new(store, Operator::User(noah), at(24 * 60 + 6)),
            &item(
                "Show config changes in release notes",
                "olga.l3@opsdesk.example",
                &(t + SignedDuration::from_hours(24)).to_string(),
                "The next release's notes list its config diff",
            ),
        )
        .await?;
        let problem = ProblemIn {
            title: "Connection pool too small for peak checkout load".into(),
            status: Some("known_error".into()),
            root_cause:
                "Pool sizing is per node and was never revisited after adding payment retries."
                    .into(),
            workaround: "Raise DB_POOL_SIZE to 50 and restart the checkout nodes one by one."
                .into(),
            incidents: vec![resolved.id],
        };
        reviews::save_problem(
            &Ctx::new(store, Operator::User(olga), at(26 * 60)),
            None,
            &problem,
        )
        .await?;
    }
    Ok(())
}
