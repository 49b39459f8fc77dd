//! The one way tests start opsdesk: a real server on a free port over a fresh database.
//!
//! `OPSDESK_TEST_BACKEND=postgres` runs the suite on PostgreSQL (a new database per test on
//! `OPSDESK_TEST_PG`, default `postgres://postgres@127.0.0.1:5432`); otherwise SQLite in a
//! temporary directory. Each test gets the same small desk: a team ladder, two customer
//! organisations and one user per role, each with an API token.

use std::collections::HashMap;

use jiff::Timestamp;
use opsdesk_server::app::Ctx;
use opsdesk_server::app::{self, Operator};
use opsdesk_server::wire::desk::{CreateTeamIn, CreateUserIn};
use opsdesk_server::workers::Workers;
use opsdesk_server::AppState;
use opsdesk_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A running server and the people who use it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The store the server runs on, for looking behind the API.
    pub store: Store,
    /// API token per person key (see [`PEOPLE`]).
    pub tokens: HashMap<&'static str, String>,
    client: reqwest::Client,
    workers: tokio::sync::Mutex<Vec<Workers>>,
    _dir: Option<tempfile::TempDir>,
    _search: (opsdesk_server::workers::search::Indexer, tempfile::TempDir),
}

/// (key, email, role, tier, team, organisation) of one person in the test desk.
type Person = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

/// Everyone in the test desk.
pub const PEOPLE: [Person; 10] = [
    ("admin", "admin@desk.test", "admin", None, None, None),
    ("manager", "manager@desk.test", "manager", None, None, None),
    (
        "l0",
        "l0@desk.test",
        "agent",
        Some("L0"),
        Some("Intake"),
        None,
    ),
    (
        "l1",
        "l1@desk.test",
        "agent",
        Some("L1"),
        Some("Support L1"),
        None,
    ),
    (
        "l2",
        "l2@desk.test",
        "agent",
        Some("L2"),
        Some("Experts L2"),
        None,
    ),
    (
        "l3",
        "l3@desk.test",
        "agent",
        Some("L3"),
        Some("Liaison L3"),
        None,
    ),
    ("auditor", "auditor@desk.test", "auditor", None, None, None),
    (
        "acme",
        "carol@acme.test",
        "customer",
        None,
        None,
        Some("Acme"),
    ),
    (
        "acme2",
        "dan@acme.test",
        "customer",
        None,
        None,
        Some("Acme"),
    ),
    (
        "globex",
        "gary@globex.test",
        "customer",
        None,
        None,
        Some("Globex"),
    ),
];

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
    /// Parsed body.
    pub body: Value,
}

impl Reply {
    /// The field names of a problem+json error.
    pub fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The database URL of a fresh, empty database for one test.
pub async fn fresh_database_url() -> (String, Option<tempfile::TempDir>) {
    if std::env::var("OPSDESK_TEST_BACKEND").as_deref() == Ok("postgres") {
        let server = std::env::var("OPSDESK_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("opsdesk_t_{:016x}", fastrand::u64(..));
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {server} is not reachable: {e}"));
        sqlx::Executor::execute(&mut admin, format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create test database: {e}"));
        (format!("{server}/{name}"), None)
    } else {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("no temp dir: {e}"));
        (Store::default_url(dir.path()), Some(dir))
    }
}

/// Starts opsdesk on a free port over a fresh database with the test desk in it.
pub async fn spawn_app() -> TestApp {
    let (url, dir) = fresh_database_url().await;
    let store = Store::open(&url, jiff::Timestamp::now())
        .await
        .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
    let tokens = seed_desk(&store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("cannot bind: {e}"));
    let base = format!(
        "http://{}",
        listener.local_addr().unwrap_or_else(|e| panic!("{e}"))
    );
    let search_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let search = std::sync::Arc::new(
        opsdesk_search::SearchIndex::open(search_dir.path()).unwrap_or_else(|e| panic!("{e}")),
    );
    let mut state = AppState::new(store.clone(), std::sync::Arc::clone(&search));
    state.public_url = base.clone();
    let indexer = opsdesk_server::workers::search::Indexer::start(
        store.clone(),
        search,
        state.indexer.clone(),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, opsdesk_server::router(state)).await;
    });
    let workers = tokio::sync::Mutex::new(vec![Workers::start(store.clone(), base.clone(), true)]);
    TestApp {
        base,
        workers,
        store,
        tokens,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("{e}")),
        _dir: dir,
        _search: (indexer, search_dir),
    }
}

async fn seed_desk(store: &Store) -> HashMap<&'static str, String> {
    let now = Timestamp::now();
    let by = Operator::Console;
    for (name, tier) in [
        ("Intake", "L0"),
        ("Support L1", "L1"),
        ("Experts L2", "L2"),
        ("Liaison L3", "L3"),
    ] {
        let team = CreateTeamIn {
            name: name.into(),
            tier: tier.into(),
            escalates_to: None,
        };
        app::create_team(&Ctx::new(store, by, now), &team)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    for (from, to) in [
        ("Intake", "Support L1"),
        ("Support L1", "Experts L2"),
        ("Experts L2", "Liaison L3"),
    ] {
        let from = store
            .team_by_name(from)
            .await
            .ok()
            .flatten()
            .map(|t| t.id)
            .unwrap_or_default();
        let to = store.team_by_name(to).await.ok().flatten().map(|t| t.id);
        store
            .set_team_escalation(from, to, None, now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    }
    for org in ["Acme", "Globex"] {
        app::create_org(&Ctx::new(store, by, now), org)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
    }
    let mut tokens = HashMap::new();
    for (key, email, role, tier, team, org) in PEOPLE {
        let user = CreateUserIn {
            email: email.into(),
            name: key.to_uppercase(),
            role: role.into(),
            tier: tier.map(Into::into),
            teams: team.map(|t| vec![t.to_owned()]),
            organization: org.map(Into::into),
            password: None,
        };
        app::create_user(&Ctx::new(store, by, now), &user)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        let (_, token) = app::create_token(&Ctx::new(store, by, now), email, None)
            .await
            .unwrap_or_else(|e| panic!("{e:?}"));
        tokens.insert(key, token);
    }
    tokens
}

impl TestApp {
    /// Sends `method path` as `who` with an optional JSON body.
    pub async fn call(&self, who: &str, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = self.tokens.get(who) {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        Self::reply(response).await
    }

    /// Sends a raw body with a chosen content type as `who`.
    pub async fn call_raw(
        &self,
        who: &str,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = self.tokens.get(who) {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        Self::reply(response).await
    }

    async fn reply(response: reqwest::Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap_or_default();
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// GET as `who` of a body that is not JSON: (status, content type, text).
    pub async fn client_get_text(&self, who: &str, path: &str) -> (StatusCode, String, String) {
        let mut request = self.client.get(format!("{}{path}", self.base));
        if let Some(token) = self.tokens.get(who) {
            request = request.bearer_auth(token);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request failed: {e}"));
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (
            status,
            content_type,
            response.text().await.unwrap_or_default(),
        )
    }

    /// GET as `who`.
    pub async fn get(&self, who: &str, path: &str) -> Reply {
        self.call(who, Method::GET, path, None).await
    }

    /// POST JSON as `who`.
    pub async fn post(&self, who: &str, path: &str, body: Value) -> Reply {
        self.call(who, Method::POST, path, Some(body)).await
    }

    /// PATCH JSON as `who`.
    pub async fn patch(&self, who: &str, path: &str, body: Value) -> Reply {
        self.call(who, Method::PATCH, path, Some(body)).await
    }

    /// Raises a ticket as `who` and returns its id, failing the test if it is refused.
    pub async fn ticket(&self, who: &str, subject: &str) -> i64 {
        let reply = self
            .post(
                who,
                "/api/v1/tickets",
                json!({"subject": subject, "body": "Details."}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        reply.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {:?}", reply.body))
    }

    /// How many tickets the database holds, looking behind the API.
    pub async fn ticket_count(&self) -> usize {
        self.store
            .tickets(
                &Default::default(),
                opsdesk_domain::access::Confinement::None,
                Default::default(),
                None,
                10_000,
            )
            .await
            .map(|p| p.items.len())
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Stops the background workers (the scheduler), as a server shutting down does.
    pub async fn stop_workers(&self) {
        let mut running = self.workers.lock().await;
        for w in running.drain(..) {
            w.stop().await;
        }
    }

    /// Starts another set of background workers, as a restarted server or a second node does.
    pub async fn start_workers(&self) {
        self.workers
            .lock()
            .await
            .push(Workers::start(self.store.clone(), self.base.clone(), true));
    }

    /// Brings in a ticket raised by `who` at `created_at` (in the past), still new, through the
    /// importer, so clocks can be tested near their due instants without waiting for them.
    pub async fn ticket_raised_at(&self, who: &str, subject: &str, created_at: Timestamp) -> i64 {
        let email = PEOPLE.iter().find(|p| p.0 == who).map(|p| p.1).unwrap();
        let requester = self.store.user_by_email(email).await.unwrap().unwrap();
        let intake = self.store.team_by_name("Intake").await.unwrap().unwrap();
        let new = opsdesk_store::NewTicket {
            subject: opsdesk_domain::Subject::parse("subject", subject).unwrap(),
            body: opsdesk_domain::Body::parse("body", "Details.").unwrap(),
            requester_id: requester.id,
            team: Some(opsdesk_store::TeamRef::Id(intake.id)),
            impact: opsdesk_domain::Impact::Medium,
            urgency: opsdesk_domain::Urgency::Medium,
            priority: None,
            category: None,
            service: None,
            tags: vec![],
            channel: "api",
        };
        let row = opsdesk_store::ImportedTicket {
            ticket: new,
            org_id: requester.org_id,
            status: opsdesk_domain::Status::New,
            tier: intake.tier,
            assignee_id: None,
            created_at,
            updated_at: created_at,
            replies: Vec::new(),
        };
        self.store
            .import_tickets(&[row], None, created_at)
            .await
            .unwrap();
        self.ticket_with_subject(subject).await
    }

    /// The oldest ticket whose subject contains `subject`, looking behind the API.
    pub async fn ticket_with_subject(&self, subject: &str) -> i64 {
        let page = self
            .store
            .tickets(
                &opsdesk_store::QueueFilter {
                    text: Some(subject.into()),
                    ..Default::default()
                },
                opsdesk_domain::access::Confinement::None,
                opsdesk_store::QueueSort::Oldest,
                None,
                1,
            )
            .await
            .unwrap();
        page.items[0].id
    }

    /// The kinds of a ticket's events, in order, looking behind the API.
    pub async fn event_kinds(&self, ticket: i64) -> Vec<String> {
        self.store
            .events_of("ticket", ticket, true)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    /// How many events the log holds.
    pub async fn event_count(&self) -> usize {
        self.store
            .events_after(0, 1_000_000)
            .await
            .map(|e| e.len())
            .unwrap_or_else(|e| panic!("{e}"))
    }
}
