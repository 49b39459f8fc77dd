//! opsdesk benchmark harness: a realistic data generator and scenarios run against a real
//! `opsdesk serve` over HTTP. Figures go to BENCHMARKS.md with the command that produced them.
//!
//! Every scenario prepares the database directly (through the store and the application layer), then
//! starts the opsdesk binary as a child process and measures it from the outside.

mod alerts;
mod mail;
mod reports;
mod search;
mod sla;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::{Body, Category, Impact, Status, Subject, Tag, Tier, Urgency};
use opsdesk_server::app::Ctx;
use opsdesk_server::app::{self, Operator};
use opsdesk_server::wire::desk::{CreateTeamIn, CreateUserIn};
use opsdesk_store::{ImportedTicket, NewTicket, ServiceRef, Store, TeamRef};

/// Benchmarks for opsdesk.
#[derive(Debug, Parser)]
#[command(name = "opsdesk-bench", about)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct Target {
    /// Data directory for SQLite (created if missing).
    #[arg(long, default_value = "./bench-data")]
    data: PathBuf,
    /// Use this database instead (`postgres://…`).
    #[arg(long)]
    database_url: Option<String>,
    /// The opsdesk binary to run.
    #[arg(long, default_value = "target/release/opsdesk")]
    opsdesk: PathBuf,
}

impl Target {
    fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| Store::default_url(&self.data))
    }

    /// The server's arguments: its data directory (the SQLite file, the search index) and,
    /// on PostgreSQL, the database.
    fn server_args(&self) -> Vec<String> {
        let mut args = vec!["--data".into(), self.data.display().to_string()];
        if let Some(url) = &self.database_url {
            args.extend(["--database-url".into(), url.clone()]);
        }
        args
    }
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// Fill the database with a realistic desk and `--tickets` tickets.
    Generate {
        #[command(flatten)]
        target: Target,
        /// Tickets to generate (each with 1–4 replies and notes after its first message).
        #[arg(long, default_value_t = 10_000)]
        tickets: usize,
        /// Knowledge base articles to have in all.
        #[arg(long, default_value_t = 0)]
        articles: usize,
    },
    /// Full reindex (`opsdesk reindex`), then search and suggestion latencies through the API.
    Search {
        #[command(flatten)]
        target: Target,
        /// Searches to time.
        #[arg(long, default_value_t = 4_000)]
        queries: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 1)]
        clients: usize,
    },
    /// Ticket creation through the API by concurrent clients, on a desk set up as one is used:
    /// an SLA policy with an escalation level, tickets naming their team and a service, report
    /// facts and rollups kept (`--bare`: no policy, no service, as the first benchmarks ran).
    Create {
        #[command(flatten)]
        target: Target,
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// How long to run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// No SLA policy and no service.
        #[arg(long)]
        bare: bool,
    },
    /// The machine's ceiling for `create`: an in-process axum server that parses the same JSON
    /// body and answers 201 with it, driven by the same load generator, with no database.
    Ceiling {
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// How long to run.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The agent queue (API and page): 50 rows filtered by team and status, sorted by priority.
    Queue {
        #[command(flatten)]
        target: Target,
        /// Requests per endpoint.
        #[arg(long, default_value_t = 2_000)]
        requests: usize,
        /// Concurrent clients.
        #[arg(long, default_value_t = 1)]
        clients: usize,
        /// Queue order: `priority` or `due` (SLA due soonest).
        #[arg(long, default_value = "priority")]
        sort: String,
    },
    /// Report data over the generated desk (adds a year of incidents first): ticket reports
    /// for a year by month and 30 days by day (all teams, one team, one organisation; a year
    /// for one service, alone and with a team), the incident report, the forecast, `/metrics`.
    Reports {
        #[command(flatten)]
        target: Target,
        /// Requests per report.
        #[arg(long, default_value_t = 20)]
        requests: usize,
        /// Incidents to have (a year of them).
        #[arg(long, default_value_t = 20_000)]
        incidents: usize,
    },
    /// Start-up time to a healthy server, and resident memory when idle.
    Idle {
        #[command(flatten)]
        target: Target,
    },
    /// Business-time arithmetic on one core (no database).
    Calendar {
        /// Computations to time.
        #[arg(long, default_value_t = 2_000_000)]
        count: usize,
    },
    /// Saves an SLA policy and times the background recomputation of every open ticket.
    SlaRecompute {
        #[command(flatten)]
        target: Target,
        /// Stop after this many tickets (the rest stays queued for a server).
        #[arg(long)]
        limit: Option<i64>,
    },
    /// Alertmanager-format alert ingest into opsdesk (100 alerts per request by default).
    Alerts {
        #[command(flatten)]
        target: Target,
        /// Concurrent senders.
        #[arg(long, default_value_t = 8)]
        senders: usize,
        /// Seconds to send for.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Alerts per request.
        #[arg(long, default_value_t = 100)]
        per_request: usize,
        /// Page a person (by webhook to the bench) for every new incident and measure how long
        /// from the alert's acceptance to the page's arrival.
        #[arg(long)]
        page: bool,
    },
    /// The same alerts into a real Alertmanager's POST /api/v2/alerts, for comparison.
    AlertmanagerApi {
        /// Concurrent senders.
        #[arg(long, default_value_t = 8)]
        senders: usize,
        /// Seconds to send for.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Alerts per request.
        #[arg(long, default_value_t = 100)]
        per_request: usize,
    },
    /// Mail intake from a real Dovecot over IMAP: messages/s, and peak memory with large mail.
    MailIntake {
        #[command(flatten)]
        target: Target,
        /// Messages in the mailbox.
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Large messages fetched after them.
        #[arg(long, default_value_t = 4)]
        large: usize,
        /// Size of each large message in MB.
        #[arg(long, default_value_t = 25)]
        large_mb: usize,
    },
    /// How soon a running server records breaches after their due instants, and its idle CPU.
    SlaBreach {
        #[command(flatten)]
        target: Target,
        /// Tickets falling due, 250 ms apart.
        #[arg(long, default_value_t = 20)]
        probes: usize,
    },
}

pub(crate) const BENCH_AGENT: &str = "bench.agent@opsdesk.example";
const BENCH_PASSWORD: &str = "bench-password-1";
const TEAMS: [(&str, &str); 5] = [
    ("Service Desk", "L0"),
    ("Support L1", "L1"),
    ("Product Experts L2", "L2"),
    ("Engineering Liaison L3", "L3"),
    ("Core Engineering L4", "L4"),
];

pub(crate) type Failure = Box<dyn std::error::Error>;

pub(crate) fn fail(message: impl std::fmt::Display) -> Failure {
    message.to_string().into()
}

#[tokio::main]
async fn main() -> Result<(), Failure> {
    match Cli::parse().scenario {
        Scenario::Generate {
            target,
            tickets,
            articles,
        } => generate(&target, tickets, articles).await,
        Scenario::Search {
            target,
            queries,
            clients,
        } => search::bench(&target, queries, clients).await,
        Scenario::Create {
            target,
            clients,
            seconds,
            bare,
        } => create(&target, clients, seconds, bare).await,
        Scenario::Ceiling { clients, seconds } => ceiling(clients, seconds).await.map(|_| ()),
        Scenario::Queue {
            target,
            requests,
            clients,
            sort,
        } => queue(&target, requests, clients, &sort).await,
        Scenario::Idle { target } => idle(&target).await,
        Scenario::Reports {
            target,
            requests,
            incidents,
        } => reports::reports(&target, requests, incidents).await,
        Scenario::Calendar { count } => sla::calendar(count),
        Scenario::SlaRecompute { target, limit } => sla::recompute(&target, limit).await,
        Scenario::SlaBreach { target, probes } => sla::breach(&target, probes).await,
        Scenario::Alerts {
            target,
            senders,
            seconds,
            per_request,
            page,
        } => {
            let ours = alerts::ingest(&target, senders, seconds, per_request, page).await?;
            // The same load into a real Alertmanager in the same invocation, for the ratio.
            if !page && std::path::Path::new("/usr/bin/prometheus-alertmanager").exists() {
                let theirs = alerts::alertmanager(senders, seconds, per_request).await?;
                println!("opsdesk ÷ Alertmanager = {:.2}", ours / theirs);
            }
            Ok(())
        }
        Scenario::MailIntake {
            target,
            messages,
            large,
            large_mb,
        } => mail::intake(&target, messages, large, large_mb).await,
        Scenario::AlertmanagerApi {
            senders,
            seconds,
            per_request,
        } => alerts::alertmanager(senders, seconds, per_request)
            .await
            .map(|_| ()),
    }
}

pub(crate) async fn open(target: &Target) -> Result<Store, Failure> {
    if target.database_url.is_none() {
        std::fs::create_dir_all(&target.data)?;
    }
    Ok(Store::open(&target.url(), Timestamp::now()).await?)
}

/// Creates the team ladder and the bench agent if missing; returns a fresh API token.
pub(crate) async fn ensure_desk(store: &Store) -> Result<String, Failure> {
    let now = Timestamp::now();
    for (name, tier) in TEAMS {
        if store.team_by_name(name).await?.is_none() {
            let input = CreateTeamIn {
                name: name.into(),
                tier: tier.into(),
                escalates_to: None,
            };
            app::create_team(&Ctx::new(store, Operator::Console, now), &input)
                .await
                .map_err(|e| fail(e.detail))?;
        }
    }
    if store.user_by_email(BENCH_AGENT).await?.is_none() {
        let input = CreateUserIn {
            email: BENCH_AGENT.into(),
            name: "Bench Agent".into(),
            role: "agent".into(),
            tier: Some("L1".into()),
            teams: Some(vec!["Support L1".into()]),
            organization: None,
            password: Some(BENCH_PASSWORD.into()),
        };
        app::create_user(&Ctx::new(store, Operator::Console, now), &input)
            .await
            .map_err(|e| fail(e.detail))?;
    }
    let (_, token) = app::create_token(
        &Ctx::new(store, Operator::Console, now),
        BENCH_AGENT,
        Some("bench"),
    )
    .await
    .map_err(|e| fail(e.detail))?;
    Ok(token)
}

async fn generate(target: &Target, tickets: usize, articles: usize) -> Result<(), Failure> {
    let store = open(target).await?;
    ensure_desk(&store).await?;
    let now = Timestamp::now();
    let mut org_ids = Vec::new();
    let mut customers: Vec<(i64, Option<i64>)> = Vec::new();
    let existing_orgs = store.orgs().await?.len();
    for o in existing_orgs..50 {
        let org = app::create_org(
            &Ctx::new(&store, Operator::Console, now),
            &format!("Customer {o:02}"),
        )
        .await
        .map_err(|e| fail(e.detail))?;
        org_ids.push(org.id);
        for c in 0..40 {
            let input = CreateUserIn {
                email: format!("c{c}@customer{o:02}.example"),
                name: format!("Customer {o:02}-{c}"),
                role: "customer".into(),
                tier: None,
                teams: None,
                organization: Some(org.name.clone()),
                password: None,
            };
            let user = app::create_user(&Ctx::new(&store, Operator::Console, now), &input)
                .await
                .map_err(|e| fail(e.detail))?;
            customers.push((user.id, user.org_id));
        }
    }
    if customers.is_empty() {
        let all = store
            .users(Some(opsdesk_domain::Role::Customer), None, 0, 100_000)
            .await?;
        customers = all.iter().map(|u| (u.id, u.org_id)).collect();
    }
    let teams = store.teams().await?;
    let services: Vec<(i64, String)> = reports::ensure_services(&store)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let agent = store
        .user_by_email(BENCH_AGENT)
        .await?
        .ok_or_else(|| fail("bench agent missing"))?;
    let bar = ProgressBar::new(tickets as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tickets  {per_sec}  eta {eta}")
            .map_err(|e| fail(e.to_string()))?,
    );
    let mut rng = fastrand::Rng::with_seed(7);
    let mut text = search::Text::new(7);
    let levels_i = [Impact::Low, Impact::Medium, Impact::High];
    let levels_u = [Urgency::Low, Urgency::Medium, Urgency::High];
    let mut done = 0;
    while done < tickets {
        let n = (tickets - done).min(2_000);
        let mut batch = Vec::with_capacity(n);
        for _ in 0..n {
            let (requester, org) = customers[rng.usize(..customers.len())];
            // Team mix: most work sits at L0–L2, little at L3–L4.
            let team_index = [0, 0, 0, 1, 1, 1, 1, 2, 2, 3][rng.usize(..10)].min(teams.len() - 1);
            let team = &teams[team_index];
            // Three tickets in four name a service, mostly one of the five their team runs.
            let service = (rng.u8(..4) > 0).then(|| {
                let own = team_index * 5 + rng.usize(..5);
                let index = if rng.u8(..5) > 0 {
                    own
                } else {
                    rng.usize(..20)
                };
                let (id, name) = services[index % services.len()].clone();
                ServiceRef::Known(id, name)
            });
            let status = [
                Status::New,
                Status::Open,
                Status::Open,
                Status::Pending,
                Status::Resolved,
                Status::Resolved,
                Status::Closed,
                Status::Closed,
                Status::Closed,
                Status::Closed,
            ][rng.usize(..10)];
            let age = SignedDuration::from_mins(rng.i64(1..365 * 24 * 60));
            let created = now.checked_sub(age)?;
            let updated =
                created.checked_add(SignedDuration::from_mins(rng.i64(0..age.as_mins().max(1))))?;
            let subject = text.subject();
            let subject = subject.as_str();
            batch.push(ImportedTicket {
                ticket: NewTicket {
                    subject: Subject::parse("subject", subject)?,
                    body: Body::parse("body", &text.body(subject))?,
                    requester_id: requester,
                    team: Some(TeamRef::Id(team.id)),
                    impact: levels_i[rng.usize(..3)],
                    urgency: levels_u[rng.usize(..3)],
                    priority: None,
                    category: Some(Category::parse(
                        "category",
                        ["access", "billing", "bug", "question"][rng.usize(..4)],
                    )?),
                    service,
                    tags: if rng.u8(..4) == 0 {
                        vec![Tag::parse(
                            "tags",
                            ["vip", "eu", "api", "mobile"][rng.usize(..4)],
                        )?]
                    } else {
                        vec![]
                    },
                    channel: "api",
                },
                org_id: org,
                status,
                tier: team.tier,
                assignee_id: if status == Status::New || team.tier != Tier::L1 {
                    None
                } else {
                    Some(agent.id)
                },
                created_at: created,
                updated_at: updated,
                replies: text.replies(subject, requester, agent.id, created)?,
            });
        }
        store.import_tickets(&batch, None, now).await?;
        done += n;
        bar.inc(n as u64);
    }
    bar.finish();
    search::articles(&store, articles).await?;
    store.close().await;
    println!(
        "generated {tickets} tickets and {articles} articles in {} organisations",
        org_ids.len().max(existing_orgs)
    );
    Ok(())
}

/// A running server, stopped when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) base: String,
    started_in: Duration,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start(target: &Target) -> Result<Server, Failure> {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let begun = Instant::now();
    let child = Command::new(&target.opsdesk)
        .args(target.server_args())
        .args(["--listen", &format!("127.0.0.1:{port}"), "serve"])
        .env("OPSDESK_LOG", "error")
        // The bench's own receivers (pages, SLA webhooks) listen on loopback.
        .env("OPSDESK_ALLOW_PRIVATE_WEBHOOKS", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| fail(format!("cannot run {}: {e}", target.opsdesk.display())))?;
    let client = reqwest::Client::new();
    for _ in 0..6000 {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return Ok(Server {
                    child,
                    base,
                    started_in: begun.elapsed(),
                });
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Err(fail("server did not become healthy in 30 s"))
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

pub(crate) fn report(name: &str, mut latencies: Vec<Duration>, elapsed: Duration, errors: usize) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name}: {} requests in {:.2} s = {:.0}/s; latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; errors {errors}",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
    );
}

/// The SLA policy and service a realistic create run has.
const BENCH_POLICY: &str = "Bench standard";
const BENCH_SERVICE: &str = "bench-checkout";

/// Gives the desk an SLA policy with an escalation level and a service, unless present.
async fn realistic_desk(store: &Store) -> Result<(), Failure> {
    let now = Timestamp::now();
    if !store
        .policies()
        .await?
        .iter()
        .any(|p| p.policy.name == BENCH_POLICY)
    {
        let input: opsdesk_server::wire::desk::PolicyIn =
            serde_json::from_value(serde_json::json!({
                "name": BENCH_POLICY,
                "targets": {"first_response": {"minutes": 240}, "next_response": {"minutes": 480},
                            "resolution": {"minutes": 1440}},
                "levels": [{"at": "75%", "metric": "first_response",
                            "actions": [{"kind": "notify_assignee"}]}],
            }))
            .map_err(|e| fail(e.to_string()))?;
        app::sla::create_policy(&Ctx::new(store, Operator::Console, now), &input)
            .await
            .map_err(|e| fail(e.detail))?;
    }
    if store.service_by_name(BENCH_SERVICE).await?.is_none() {
        let input = opsdesk_server::wire::incidents::ServiceIn {
            name: BENCH_SERVICE.into(),
            description: String::new(),
            team: Some("Support L1".into()),
        };
        app::incidents::save_service(&Ctx::new(store, Operator::Console, now), None, &input)
            .await
            .map_err(|e| fail(e.detail))?;
    }
    Ok(())
}

/// The body of the `i`th create of `worker`.
fn create_body(worker: usize, i: u64, bare: bool) -> serde_json::Value {
    let mut body = serde_json::json!({
        "subject": format!("Load test ticket {worker}-{i}"),
        "body": "The nightly export failed with error 0x31 on the primary node.",
        "impact": "medium", "urgency": "high", "team": "Support L1",
    });
    if !bare {
        body["service"] = BENCH_SERVICE.into();
    }
    body
}

async fn create(target: &Target, clients: usize, seconds: u64, bare: bool) -> Result<(), Failure> {
    let store = open(target).await?;
    let token = ensure_desk(&store).await?;
    if !bare {
        realistic_desk(&store).await?;
    }
    store.close().await;
    let server = start(target).await?;
    let url = format!("{}/api/v1/tickets", server.base);
    let setup = if bare {
        "bare"
    } else {
        "SLA policy with a level, a service"
    };
    let ours = post_load(
        &format!("ticket create, {clients} clients, {setup}"),
        &url,
        &token,
        clients,
        seconds,
        bare,
    )
    .await?;
    println!(
        "server peak RSS: {:.0} MiB",
        mail::peak_rss_mb(server.child.id())?
    );
    drop(server);
    // The machine's ceiling in the same invocation, for the ratio.
    let ceiling = ceiling(clients, seconds).await?;
    println!("opsdesk ÷ ceiling = {:.3}", ours / ceiling);
    Ok(())
}

/// Runs the ceiling server and load; answers its rate.
async fn ceiling(clients: usize, seconds: u64) -> Result<f64, Failure> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/api/v1/tickets", listener.local_addr()?);
    let app = axum::Router::new().route(
        "/api/v1/tickets",
        axum::routing::post(
            |axum::Json(body): axum::Json<serde_json::Value>| async move {
                (axum::http::StatusCode::CREATED, axum::Json(body))
            },
        ),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    post_load(
        &format!("ceiling (axum echo), {clients} clients"),
        &url,
        "ceiling",
        clients,
        seconds,
        false,
    )
    .await
}

/// `clients` concurrent clients POST create bodies to `url` for `seconds`; prints the rate
/// and latencies of the 201s and answers the rate.
async fn post_load(
    name: &str,
    url: &str,
    token: &str,
    clients: usize,
    seconds: u64,
    bare: bool,
) -> Result<f64, Failure> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let token = Arc::new(token.to_owned());
    let begun = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..clients {
        let client = client.clone();
        let token = Arc::clone(&token);
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = 0u64;
            while Instant::now() < deadline {
                let body = create_body(worker, i, bare);
                let sent = Instant::now();
                match client
                    .post(&url)
                    .bearer_auth(token.as_str())
                    .json(&body)
                    .send()
                    .await
                {
                    Ok(r) if r.status().as_u16() == 201 => {
                        let _ = r.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
                i += 1;
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (latencies, e) = task.await?;
        all.extend(latencies);
        errors += e;
    }
    let rate = all.len() as f64 / begun.elapsed().as_secs_f64();
    report(name, all, begun.elapsed(), errors);
    Ok(rate)
}

pub(crate) async fn timed_gets(
    client: &reqwest::Client,
    urls: Vec<String>,
    token: Option<&str>,
    cookie: Option<&str>,
    clients: usize,
) -> Result<(Vec<Duration>, Duration, usize), Failure> {
    let urls = Arc::new(urls);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let begun = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, urls, next) = (client.clone(), Arc::clone(&urls), Arc::clone(&next));
        let token = token.map(str::to_owned);
        let cookie = cookie.map(str::to_owned);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(url) = urls.get(i) else { break };
                let mut request = client.get(url);
                if let Some(t) = &token {
                    request = request.bearer_auth(t);
                }
                if let Some(c) = &cookie {
                    request = request.header("cookie", c);
                }
                let sent = Instant::now();
                match request.send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await?;
        all.extend(l);
        errors += e;
    }
    Ok((all, begun.elapsed(), errors))
}

async fn sign_in(client: &reqwest::Client, base: &str) -> Result<String, Failure> {
    let page = client.get(format!("{base}/login")).send().await?;
    let login_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("opsdesk_login="))
        .and_then(|c| c.split(';').next())
        .ok_or_else(|| fail("no sign-in cookie"))?
        .to_owned();
    let html = page.text().await?;
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| fail("no CSRF token on the sign-in page"))?;
    let response = client
        .post(format!("{base}/login"))
        .header("cookie", login_cookie)
        .form(&[
            ("csrf", csrf),
            ("email", BENCH_AGENT),
            ("password", BENCH_PASSWORD),
            ("next", "/desk"),
        ])
        .send()
        .await?;
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("opsdesk_session="))
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| fail("sign-in failed"))
}

async fn queue(
    target: &Target,
    requests: usize,
    clients: usize,
    sort: &str,
) -> Result<(), Failure> {
    let store = open(target).await?;
    let token = ensure_desk(&store).await?;
    let total = store
        .queue_counts()
        .await?
        .iter()
        .map(|(_, _, n)| n)
        .sum::<i64>();
    store.close().await;
    let server = start(target).await?;
    println!(
        "start-up on this database: {:.0} ms ({total} active tickets)",
        server.started_in.as_secs_f64() * 1000.0
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let statuses = ["open", "new", "pending"];
    let api: Vec<String> = (0..requests)
        .map(|i| {
            format!(
                "{}/api/v1/tickets?team=Support%20L1&status={}&sort={sort}&limit=50",
                server.base,
                statuses[i % 3]
            )
        })
        .collect();
    // Warm up, then measure.
    timed_gets(
        &client,
        api[..requests.min(50)].to_vec(),
        Some(&token),
        None,
        1,
    )
    .await?;
    let (latencies, elapsed, errors) =
        timed_gets(&client, api, Some(&token), None, clients).await?;
    report(
        &format!("queue API (50 rows, team + status, by {sort})"),
        latencies,
        elapsed,
        errors,
    );
    let cookie = sign_in(&client, &server.base).await?;
    let pages: Vec<String> = (0..requests)
        .map(|i| {
            format!(
                "{}/desk?team=Support+L1&status={}&sort={sort}",
                server.base,
                statuses[i % 3]
            )
        })
        .collect();
    timed_gets(
        &client,
        pages[..requests.min(50)].to_vec(),
        None,
        Some(&cookie),
        1,
    )
    .await?;
    let (latencies, elapsed, errors) =
        timed_gets(&client, pages, None, Some(&cookie), clients).await?;
    report("queue page (HTML, 50 rows)", latencies, elapsed, errors);
    Ok(())
}

fn rss_kib(pid: u32) -> Result<u64, Failure> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| fail("no VmRSS"))
}

async fn idle(target: &Target) -> Result<(), Failure> {
    let store = open(target).await?;
    let token = ensure_desk(&store).await?;
    store.close().await;
    let server = start(target).await?;
    println!(
        "start-up to healthy: {:.0} ms",
        server.started_in.as_secs_f64() * 1000.0
    );
    let client = reqwest::Client::new();
    for _ in 0..20 {
        client
            .get(format!("{}/api/v1/tickets?limit=50", server.base))
            .bearer_auth(&token)
            .send()
            .await?;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "idle resident memory after 20 queue requests: {:.1} MiB",
        rss_kib(server.child.id())? as f64 / 1024.0
    );
    Ok(())
}
