//! The store's contract, the same cases on each backend: the suite runs once on SQLite and once
//! on PostgreSQL (`OPSDESK_TEST_BACKEND`), straight against `Store`, with no server in front.
//! What the rest of opsdesk relies on: concurrent writes each commit once, the event log reads
//! back in commit order, a refused request in a group commit fails alone, derived data equals
//! what the log rebuilds, migrating again changes nothing, and times come from the caller.

use std::collections::{BTreeMap, HashSet};

use jiff::{Timestamp, ToSpan};
use opsdesk_domain::{Body, Email, Impact, Name, Role, Severity, Subject, Tier, Urgency};
use opsdesk_store::{
    AlertInput, IntegrationInput, IntegrationKind, IntegrationSettings, NewTicket, NewUser, Store,
    StoreError, TeamRef,
};
use tokio::task::JoinSet;

use crate::helpers::fresh_database_url;

/// A store over a fresh database with an organisation, an intake team and one customer.
struct Desk {
    store: Store,
    url: String,
    team: i64,
    customer: i64,
    _dir: Option<tempfile::TempDir>,
}

async fn desk() -> Desk {
    let (url, dir) = fresh_database_url().await;
    let now = Timestamp::now();
    let store = Store::open(&url, now).await.unwrap();
    let org = store
        .create_org(&Name::parse("name", "Acme").unwrap(), None, now)
        .await
        .unwrap();
    let team = store
        .create_team(
            &Name::parse("name", "Intake").unwrap(),
            Tier::L1,
            None,
            None,
            now,
        )
        .await
        .unwrap();
    let customer = store
        .create_user(
            &NewUser {
                email: Email::parse("email", "carol@acme.example").unwrap(),
                name: Name::parse("name", "Carol").unwrap(),
                role: Role::Customer,
                tier: None,
                org_id: Some(org.id),
                team_ids: vec![],
                password_hash: None,
            },
            None,
            now,
        )
        .await
        .unwrap();
    Desk {
        store,
        url,
        team: team.id,
        customer: customer.id,
        _dir: dir,
    }
}

impl Desk {
    fn ticket(&self, subject: &str, team: TeamRef) -> NewTicket {
        NewTicket {
            subject: Subject::parse("subject", subject).unwrap(),
            body: Body::parse("body", "Details.").unwrap(),
            requester_id: self.customer,
            team: Some(team),
            impact: Impact::Medium,
            urgency: Urgency::High,
            priority: None,
            category: None,
            service: None,
            tags: vec![],
            channel: "api",
        }
    }

    /// How many `ticket.created` events the log holds.
    async fn tickets_in_the_log(&self) -> usize {
        let log = self.store.events_after(0, 10_000).await.unwrap();
        log.iter().filter(|e| e.kind == "ticket.created").count()
    }

    /// Creates `n` tickets at once (one group commit or a few); answers each result in order.
    async fn create_many(
        &self,
        news: Vec<NewTicket>,
        now: Timestamp,
        key: Option<&'static str>,
    ) -> Vec<Result<(opsdesk_store::Ticket, bool), StoreError>> {
        let mut running = JoinSet::new();
        for (n, new) in news.into_iter().enumerate() {
            let store = self.store.clone();
            let actor = self.customer;
            running.spawn(async move { (n, store.create_ticket(&new, actor, now, key).await) });
        }
        let mut results: Vec<_> = running.join_all().await;
        results.sort_by_key(|(n, _)| *n);
        results.into_iter().map(|(_, r)| r).collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_each_commit_once_and_the_log_reads_back_in_order() {
    let desk = desk().await;
    // Times are kept to the microsecond.
    let now = Timestamp::from_microsecond(Timestamp::now().as_microsecond()).unwrap();
    let news = (0..40)
        .map(|n| desk.ticket(&format!("Printer {n}"), TeamRef::Id(desk.team)))
        .collect();
    let created = desk.create_many(news, now, None).await;
    let mut ids = HashSet::new();
    for (n, result) in created.into_iter().enumerate() {
        let (ticket, fresh) = result.unwrap();
        assert!(fresh);
        assert_eq!(ticket.subject, format!("Printer {n}"));
        // The store stamps what the caller says the time is; it reads no clock of its own.
        assert_eq!(ticket.created_at, now);
        assert_eq!(
            desk.store.ticket(ticket.id).await.unwrap().subject,
            ticket.subject
        );
        assert!(
            ids.insert(ticket.id),
            "ticket {} was answered twice",
            ticket.id
        );
    }
    // Read back in bulk: the ones that exist, in id order, a missing id skipped.
    let mut wanted: Vec<i64> = ids.iter().copied().collect();
    wanted.push(i64::MAX);
    let bulk = desk.store.tickets_with_ids(&wanted).await.unwrap();
    let mut sorted: Vec<i64> = ids.iter().copied().collect();
    sorted.sort_unstable();
    assert_eq!(bulk.iter().map(|t| t.id).collect::<Vec<_>>(), sorted);
    let log = desk.store.events_after(0, 10_000).await.unwrap();
    assert!(
        log.windows(2).all(|w| w[0].seq < w[1].seq),
        "log out of order"
    );
    let created: HashSet<i64> = log
        .iter()
        .filter(|e| e.kind == "ticket.created")
        .map(|e| e.subject_id)
        .collect();
    assert_eq!(created, ids);
    // A reader that resumes after any position sees exactly the rest.
    let middle = log[log.len() / 2].seq;
    let rest = desk.store.events_after(middle, 10_000).await.unwrap();
    assert_eq!(rest.len(), log.iter().filter(|e| e.seq > middle).count());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_idempotency_key_makes_one_ticket_however_often_it_is_sent() {
    let desk = desk().await;
    let now = Timestamp::now();
    let news = (0..6)
        .map(|_| desk.ticket("Retried", TeamRef::Id(desk.team)))
        .collect();
    let answers = desk.create_many(news, now, Some("key-1")).await;
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    let ids: HashSet<i64> = answers.iter().map(|(t, _)| t.id).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(answers.iter().filter(|(_, fresh)| *fresh).count(), 1);
    assert_eq!(desk.tickets_in_the_log().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_create_fails_alone_and_its_batch_commits() {
    let desk = desk().await;
    let now = Timestamp::now();
    let news = (0..12)
        .map(|n| {
            let team = if n == 5 {
                TeamRef::Name("No such team".into())
            } else {
                TeamRef::Id(desk.team)
            };
            desk.ticket(&format!("Batch {n}"), team)
        })
        .collect();
    let answers = desk.create_many(news, now, None).await;
    for (n, answer) in answers.iter().enumerate() {
        match (n, answer) {
            (5, Err(StoreError::Invalid(invalid))) => {
                assert_eq!(invalid.field, "team", "{invalid}");
            }
            (5, other) => panic!("the create naming no team was answered {other:?}"),
            (_, Ok((ticket, true))) => assert_eq!(ticket.subject, format!("Batch {n}")),
            (_, other) => panic!("create {n} was answered {other:?}"),
        }
    }
    assert_eq!(desk.tickets_in_the_log().await, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn derived_data_equals_what_the_log_rebuilds() {
    let desk = desk().await;
    let now = Timestamp::now();
    let news = (0..20)
        .map(|n| desk.ticket(&format!("Derived {n}"), TeamRef::Id(desk.team)))
        .collect();
    for answer in desk.create_many(news, now, None).await {
        answer.unwrap();
    }
    let clocks = desk.store.derived_differences(now).await.unwrap();
    assert!(clocks.is_empty(), "{clocks:#?}");
    let before = desk.store.report_rollup_differences().await.unwrap();
    assert!(before.is_empty(), "{before:#?}");
    assert!(desk.store.rebuild_report_rollup(now).await.unwrap() > 0);
    let after = desk.store.report_rollup_differences().await.unwrap();
    assert!(after.is_empty(), "{after:#?}");
}

/// SQLite's ticket writer may commit tickets before their derived rows, which it writes for
/// several batches at once; if the process dies in between, the database's mark names the
/// first of them, and the next start recomputes every ticket from it on. (PostgreSQL writes
/// derived rows in their tickets' commit: nothing to recover there.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_committed_without_their_derived_rows_get_them_at_the_next_start() {
    let desk = desk().await;
    if desk.store.backend() != opsdesk_store::Backend::Sqlite {
        return;
    }
    let now = Timestamp::now();
    let news = (0..10)
        .map(|n| desk.ticket(&format!("Backlog {n}"), TeamRef::Id(desk.team)))
        .collect();
    let mut ids: Vec<i64> = desk
        .create_many(news, now, None)
        .await
        .into_iter()
        .map(|answer| answer.unwrap().0.id)
        .collect();
    ids.sort_unstable();
    let first = ids[4];
    // What a writer stopped between the two commits leaves behind: the last six tickets with
    // no facts and a rollup that never counted them, and the mark.
    sqlx::any::install_default_drivers();
    let mut raw = <sqlx::AnyConnection as sqlx::Connection>::connect(&desk.url)
        .await
        .unwrap();
    for statement in [
        format!("DELETE FROM ticket_clocks WHERE ticket_id >= {first}"),
        format!("DELETE FROM ticket_facts WHERE ticket_id >= {first}"),
        format!("UPDATE derived_backlog SET first_ticket = {first} WHERE id = 1"),
    ] {
        sqlx::Executor::execute(&mut raw, statement.as_str())
            .await
            .unwrap();
    }
    desk.store.rebuild_report_rollup(now).await.unwrap();
    let broken = desk.store.derived_differences(now).await.unwrap();
    assert_eq!(broken.len(), 6, "{broken:#?}");

    let again = Store::open(&desk.url, now).await.unwrap();
    let clocks = again.derived_differences(now).await.unwrap();
    assert!(clocks.is_empty(), "{clocks:#?}");
    let rollup = again.report_rollup_differences().await.unwrap();
    assert!(rollup.is_empty(), "{rollup:#?}");
    let facts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ticket_facts")
        .fetch_one(&mut raw)
        .await
        .unwrap();
    assert_eq!(facts, 10);
    let mark: Option<i64> =
        sqlx::query_scalar("SELECT first_ticket FROM derived_backlog WHERE id = 1")
            .fetch_one(&mut raw)
            .await
            .unwrap();
    assert_eq!(mark, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_an_existing_database_again_changes_nothing() {
    let desk = desk().await;
    let now = Timestamp::now();
    let (ticket, _) = desk
        .store
        .create_ticket(
            &desk.ticket("Kept", TeamRef::Id(desk.team)),
            desk.customer,
            now,
            None,
        )
        .await
        .unwrap();
    let log = desk.store.events_after(0, 10_000).await.unwrap().len();
    let again = Store::open(&desk.url, now + 1.hour()).await.unwrap();
    assert_eq!(again.ticket(ticket.id).await.unwrap().subject, "Kept");
    assert_eq!(again.events_after(0, 10_000).await.unwrap().len(), log);
    assert!(matches!(
        again.ticket(ticket.id + 1_000).await,
        Err(StoreError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_name_is_a_conflict_on_its_field_and_writes_nothing() {
    let desk = desk().await;
    let now = Timestamp::now();
    let log = desk.store.events_after(0, 10_000).await.unwrap().len();
    let again = desk
        .store
        .create_team(
            &Name::parse("name", "Intake").unwrap(),
            Tier::L2,
            None,
            None,
            now,
        )
        .await;
    match again {
        Err(StoreError::Conflict { field, .. }) => assert_eq!(field, "name"),
        other => panic!("a second team named Intake was answered {other:?}"),
    }
    assert_eq!(desk.store.events_after(0, 10_000).await.unwrap().len(), log);
    assert_eq!(desk.store.teams().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ha_pair_delivering_together_makes_one_alert_and_one_incident() {
    let desk = desk().await;
    let now = Timestamp::now();
    let integration = desk
        .store
        .create_integration(
            &IntegrationInput {
                name: Name::parse("name", "prod alerts").unwrap(),
                kind: IntegrationKind::Alertmanager,
                service_id: None,
                team_id: Some(desk.team),
                settings: IntegrationSettings::default(),
            },
            "hash-of-a-token",
            None,
            now,
        )
        .await
        .unwrap();
    let alert = |fingerprint: &str| AlertInput {
        fingerprint: fingerprint.to_owned(),
        firing: true,
        severity: Severity::Sev2,
        summary: format!("disk full on {fingerprint}"),
        group_key: "disk".into(),
        labels: BTreeMap::from([("instance".to_owned(), fingerprint.to_owned())]),
        annotations: BTreeMap::new(),
        source_url: None,
        starts_at: now - 1.minute(),
        ends_at: None,
        service: None,
    };
    let mut deliveries = JoinSet::new();
    for _ in 0..2 {
        let store = desk.store.clone();
        let integration = integration.clone();
        let alerts = vec![alert("db-1"), alert("db-2")];
        deliveries.spawn(async move { store.ingest_alerts(&integration, alerts, now).await });
    }
    let outcomes: Vec<_> = deliveries
        .join_all()
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let opened: Vec<i64> = outcomes.iter().flat_map(|o| o.opened.clone()).collect();
    assert_eq!(opened.len(), 1, "{outcomes:?}");
    assert_eq!(outcomes.iter().map(|o| o.created).sum::<usize>(), 2);
    for fingerprint in ["db-1", "db-2"] {
        let stored = desk
            .store
            .alert_by_fingerprint(integration.id, fingerprint)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.receipts, 2);
        assert_eq!(stored.incident_id, Some(opened[0]));
        assert!(stored.firing);
    }
    let incident = desk.store.incident(opened[0]).await.unwrap();
    assert_eq!(incident.severity, Severity::Sev2);
}
