//! The `opsdesk` command: serve the desk, and administer it directly against its database.

mod incidents;
mod knowledge;
mod mail;
mod oncall;
mod reports;
mod reviews;
mod sla;

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use opsdesk_search::{SearchError, SearchIndex};
use opsdesk_server::app::Ctx;
use opsdesk_server::app::{self, Operator};
use opsdesk_server::error::ApiError;
use opsdesk_server::wire::desk::{
    CreateTeamIn, CreateUserIn, OrgOut, PatchUserIn, TeamOut, TokenInfoOut, UserOut,
};
use opsdesk_server::{demo, AppState};
use opsdesk_store::Store;

/// opsdesk — the operations support desk in one binary.
#[derive(Debug, Parser)]
#[command(name = "opsdesk", version, about, propagate_version = true)]
struct Cli {
    /// Data directory (SQLite database, later the search index and attachments).
    #[arg(
        long,
        global = true,
        env = "OPSDESK_DATA",
        default_value = "./opsdesk-data"
    )]
    data: PathBuf,
    /// Database URL: `postgres://…` or `sqlite://…` (default: SQLite in the data directory).
    #[arg(long, global = true, env = "OPSDESK_DATABASE_URL")]
    database_url: Option<String>,
    /// Address the server listens on.
    #[arg(
        long,
        global = true,
        env = "OPSDESK_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    listen: SocketAddr,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server (migrates the database first).
    Serve {
        /// Seed demo organisations, teams, agents and ~200 tickets into an empty database.
        #[arg(long)]
        demo: bool,
        /// Mark sign-in cookies `Secure`: set this when users reach opsdesk over HTTPS.
        #[arg(long, env = "OPSDESK_SECURE_COOKIES")]
        secure_cookies: bool,
        /// The address people reach opsdesk at, for links in pages (default: http://LISTEN).
        #[arg(long, env = "OPSDESK_PUBLIC_URL")]
        public_url: Option<String>,
        /// Let webhooks (pages, SLA levels, status subscribers) reach loopback and private
        /// addresses; off by default so a typed URL cannot reach internal services.
        #[arg(long, env = "OPSDESK_ALLOW_PRIVATE_WEBHOOKS")]
        allow_private_webhooks: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Users: staff and customers.
    #[command(subcommand)]
    User(UserCommand),
    /// Teams: queues at a tier.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Customer organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Demo data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Business calendars: hours, holidays, iCalendar import, team and organisation calendars.
    #[command(subcommand)]
    Calendar(sla::CalendarCommand),
    /// SLA policies, the at-risk list and `sla explain <ticket>`.
    #[command(subcommand)]
    Sla(sla::SlaCommand),
    /// Vendors: support terms for tickets handed to a third party.
    #[command(subcommand)]
    Vendor(sla::VendorCommand),
    /// Alert integrations: where monitoring sends alerts (`integration create` prints the URL).
    #[command(subcommand)]
    Integration(incidents::IntegrationCommand),
    /// Services that alerts and incidents are about.
    #[command(subcommand)]
    Service(incidents::ServiceCommand),
    /// Maintenance windows: alerts of their services open no incident.
    #[command(subcommand)]
    Maintenance(incidents::MaintenanceCommand),
    /// Incidents: list, show, declare, update, note.
    #[command(subcommand)]
    Incident(incidents::IncidentCommand),
    /// On-call schedules: layers, overrides, the final schedule.
    #[command(subcommand)]
    Schedule(oncall::ScheduleCommand),
    /// Who is on call now, per schedule.
    Oncall,
    /// Escalation policies: whom to page, in what order, with what timeouts.
    #[command(subcommand, name = "escalation-policy")]
    EscalationPolicy(oncall::PolicyCommand),
    /// How people are paged (signed webhook, Slack-compatible webhook).
    #[command(subcommand)]
    Contact(oncall::ContactCommand),
    /// Post-incident reviews.
    #[command(subcommand)]
    Review(reviews::ReviewCommand),
    /// Action items from reviews and problems.
    #[command(subcommand, name = "action-item")]
    ActionItem(reviews::ActionItemCommand),
    /// Problem records: root causes and known errors behind incidents.
    #[command(subcommand)]
    Problem(reviews::ProblemCommand),
    /// Mailboxes: where mail is fetched (IMAP) and sent (SMTP).
    #[command(subcommand)]
    Mailbox(mail::MailboxCommand),
    /// Mail: `mail ingest` (an MTA's delivery command) and the mail log.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Knowledge base articles: list, import Markdown files.
    #[command(subcommand)]
    Article(knowledge::ArticleCommand),
    /// Runbooks: list, import step files.
    #[command(subcommand)]
    Runbook(knowledge::RunbookCommand),
    /// Scheduled checks: list, create, preview a rule's occurrences.
    #[command(subcommand)]
    Check(knowledge::CheckCommand),
    /// Reports: `report tickets`, `report incidents` (filters as in the UI; `--table`,
    /// `--format table|csv|json`).
    #[command(subcommand)]
    Report(reports::ReportCommand),
    /// Rebuild the search index from the database, with a progress bar (the server must be
    /// stopped; a running server rebuilds from its admin page or `POST /api/v1/search/reindex`).
    Reindex,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from standard input, or generated and printed once.
    Create(UserCreate),
    /// Change a user's name, tier or teams, or deactivate (`--active false`) or reactivate them.
    Update {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// New display name.
        #[arg(long)]
        name: Option<String>,
        /// New tier, L0 to L4.
        #[arg(long)]
        tier: Option<String>,
        /// The complete new set of teams (repeatable).
        #[arg(long = "team")]
        teams: Vec<String>,
        /// `false` to deactivate: no sign-in, no API tokens.
        #[arg(long)]
        active: Option<bool>,
    },
    /// List users.
    List(FormatArg),
}

#[derive(Debug, Args)]
struct UserCreate {
    /// E-mail address (the sign-in name).
    #[arg(long)]
    email: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// admin, manager, agent, customer or auditor.
    #[arg(long)]
    role: String,
    /// Agent tier, L0 to L4.
    #[arg(long)]
    tier: Option<String>,
    /// Team to join (repeatable).
    #[arg(long = "team")]
    teams: Vec<String>,
    /// Customer organisation.
    #[arg(long)]
    org: Option<String>,
}

#[derive(Debug, Subcommand)]
enum TeamCommand {
    /// Create a team.
    Create {
        /// Name.
        #[arg(long)]
        name: String,
        /// Tier the team works at, L0 to L4.
        #[arg(long)]
        tier: String,
        /// Team that tickets escalate to.
        #[arg(long)]
        escalates_to: Option<String>,
    },
    /// Change where a team escalates to (`--escalates-to ""` for nowhere).
    Update {
        /// The team's name.
        #[arg(long)]
        name: String,
        /// Team that tickets escalate to.
        #[arg(long)]
        escalates_to: String,
    },
    /// List teams.
    List(FormatArg),
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create an organisation.
    Create {
        /// Name.
        #[arg(long)]
        name: String,
    },
    /// List organisations.
    List(FormatArg),
    /// Set the mail domains whose unknown senders join an organisation.
    Domains {
        /// Organisation name.
        #[arg(long)]
        name: String,
        /// A domain such as example.com (repeatable; none clears the list).
        #[arg(long = "domain")]
        domains: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token for a user and print it once (only its hash is stored).
    Create {
        /// The user's e-mail address.
        #[arg(long)]
        email: String,
        /// What the token is for.
        #[arg(long)]
        name: Option<String>,
    },
    /// List API tokens (never their secrets).
    List(FormatArg),
    /// Revoke an API token.
    Revoke {
        /// The token's id (see `token list`).
        #[arg(long)]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Seed demo data into an empty database.
    Seed {
        /// Number of tickets.
        #[arg(long, default_value_t = 200)]
        tickets: usize,
    },
}

#[derive(Debug, Args)]
pub(crate) struct FormatArg {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub(crate) format: Format,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Csv,
}

/// A failure to report on one line and exit with 1.
#[derive(Debug)]
pub(crate) struct Failure(pub(crate) String);

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Failure(e.detail)
    }
}

impl From<opsdesk_store::StoreError> for Failure {
    fn from(e: opsdesk_store::StoreError) -> Self {
        Failure(e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OPSDESK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,opsdesk=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("opsdesk: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(reason)) => {
            eprintln!("opsdesk: {reason}");
            ExitCode::from(1)
        }
    }
}

async fn open(cli: &Cli) -> Result<Store, Failure> {
    let url = match &cli.database_url {
        Some(url) => url.clone(),
        None => {
            std::fs::create_dir_all(&cli.data).map_err(|e| {
                Failure(format!(
                    "cannot create data directory {}: {e}",
                    cli.data.display()
                ))
            })?;
            Store::default_url(&cli.data)
        }
    };
    Store::open(&url, jiff::Timestamp::now())
        .await
        .map_err(|e| Failure(format!("cannot open the database: {e}")))
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let store = open(&cli).await?;
    let now = Timestamp::now();
    let result = command(&cli, &store, now).await;
    store.close().await;
    result
}

async fn command(cli: &Cli, store: &Store, now: Timestamp) -> Result<(), Failure> {
    match &cli.command {
        Command::Serve {
            demo,
            secure_cookies,
            public_url,
            allow_private_webhooks,
        } => {
            let options = ServeOptions {
                demo: *demo,
                secure_cookies: *secure_cookies,
                public_url: public_url.clone(),
                allow_private_webhooks: *allow_private_webhooks,
            };
            serve(cli, store, options).await
        }
        Command::Calendar(c) => sla::calendar(store, c, now).await,
        Command::Sla(c) => sla::run(store, c, now).await,
        Command::Report(c) => reports::run(store, c, now).await,
        Command::Vendor(c) => sla::vendor(store, c, now).await,
        Command::Integration(c) => incidents::integration(store, c, cli.listen, now).await,
        Command::Service(c) => incidents::service(store, c, now).await,
        Command::Maintenance(c) => incidents::maintenance(store, c, now).await,
        Command::Incident(c) => incidents::incident(store, c, now).await,
        Command::Schedule(c) => oncall::schedule(store, c, now).await,
        Command::Oncall => oncall::oncall(store, now).await,
        Command::EscalationPolicy(c) => oncall::policy(store, c, now).await,
        Command::Contact(c) => oncall::contact(store, c, now).await,
        Command::Review(c) => reviews::review(store, c, now).await,
        Command::ActionItem(c) => reviews::action_item(store, c, now).await,
        Command::Problem(c) => reviews::problem(store, c, now).await,
        Command::Mailbox(c) => mail::mailbox(store, c, now).await,
        Command::Mail(c) => mail::mail(store, c, now).await,
        Command::Org(OrgCommand::Domains { name, domains }) => {
            mail::org_domains(store, name, domains, now).await
        }
        Command::Reindex => reindex(&cli.data, store).await,
        Command::Article(c) => knowledge::article(store, c, now).await,
        Command::Runbook(c) => knowledge::runbook(store, c, now).await,
        Command::Check(c) => knowledge::check(store, c, now).await,
        Command::Migrate => {
            println!("database is up to date");
            Ok(())
        }
        Command::User(UserCommand::Create(args)) => {
            let (password, generated) = read_or_generate_password()?;
            let input = CreateUserIn {
                email: args.email.clone(),
                name: args.name.clone(),
                role: args.role.clone(),
                tier: args.tier.clone(),
                teams: Some(args.teams.clone()),
                organization: args.org.clone(),
                password: Some(password.clone()),
            };
            let user = app::create_user(&Ctx::new(store, Operator::Console, now), &input).await?;
            println!(
                "created {} {} (id {})",
                user.role.as_str(),
                user.email,
                user.id
            );
            if generated {
                println!("password (shown once): {password}");
            }
            Ok(())
        }
        Command::User(UserCommand::Update {
            email,
            name,
            tier,
            teams,
            active,
        }) => {
            let user = store
                .user_by_email(email)
                .await?
                .ok_or_else(|| Failure(format!("email: no user with e-mail {email}")))?;
            let input = PatchUserIn {
                name: name.clone(),
                tier: tier.clone().map(Some),
                teams: (!teams.is_empty()).then(|| teams.clone()),
                active: *active,
            };
            let user =
                app::update_user(&Ctx::new(store, Operator::Console, now), user.id, &input).await?;
            println!(
                "updated {} ({}{})",
                user.email,
                user.role.as_str(),
                if user.active { "" } else { ", deactivated" }
            );
            Ok(())
        }
        Command::User(UserCommand::List(f)) => {
            let users = store.users(None, None, 0, i64::MAX).await?;
            let rows: Vec<UserOut> = users.iter().map(UserOut::from).collect();
            print_rows(
                f.format,
                &rows,
                &["id", "email", "name", "role", "tier"],
                |u| {
                    vec![
                        u.id.to_string(),
                        u.email.clone(),
                        u.name.clone(),
                        u.role.clone(),
                        u.tier.clone().unwrap_or_default(),
                    ]
                },
            )
        }
        Command::Team(TeamCommand::Create {
            name,
            tier,
            escalates_to,
        }) => {
            let input = CreateTeamIn {
                name: name.clone(),
                tier: tier.clone(),
                escalates_to: escalates_to.clone(),
            };
            let team = app::create_team(&Ctx::new(store, Operator::Console, now), &input).await?;
            println!(
                "created team {} at {} (id {})",
                team.name, team.tier, team.id
            );
            Ok(())
        }
        Command::Team(TeamCommand::Update { name, escalates_to }) => {
            let team = store
                .team_by_name(name)
                .await?
                .ok_or_else(|| Failure(format!("name: no team named '{name}'")))?;
            let team = app::set_team_escalation(
                &Ctx::new(store, Operator::Console, now),
                team.id,
                Some(escalates_to),
            )
            .await?;
            let target = match team.escalates_to {
                Some(id) => store.team(id).await?.name,
                None => "nowhere".into(),
            };
            println!("team {} now escalates to {target}", team.name);
            Ok(())
        }
        Command::Team(TeamCommand::List(f)) => {
            let teams = store.teams().await?;
            let rows: Vec<TeamOut> = teams.iter().map(TeamOut::from).collect();
            print_rows(
                f.format,
                &rows,
                &["id", "name", "tier", "escalates_to"],
                |t| {
                    vec![
                        t.id.to_string(),
                        t.name.clone(),
                        t.tier.clone(),
                        t.escalates_to.map(|e| e.to_string()).unwrap_or_default(),
                    ]
                },
            )
        }
        Command::Org(OrgCommand::Create { name }) => {
            let org = app::create_org(&Ctx::new(store, Operator::Console, now), name).await?;
            println!("created organisation {} (id {})", org.name, org.id);
            Ok(())
        }
        Command::Org(OrgCommand::List(f)) => {
            let orgs = store.orgs().await?;
            let rows: Vec<OrgOut> = orgs.iter().map(OrgOut::from).collect();
            print_rows(f.format, &rows, &["id", "name"], |o| {
                vec![o.id.to_string(), o.name.clone()]
            })
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let (_, token) = app::create_token(
                &Ctx::new(store, Operator::Console, now),
                email,
                name.as_deref(),
            )
            .await?;
            println!("{token}");
            eprintln!("(shown once; send it as 'Authorization: Bearer {token}')");
            Ok(())
        }
        Command::Token(TokenCommand::List(f)) => {
            let tokens = app::list_tokens(store, Operator::Console).await?;
            let rows: Vec<TokenInfoOut> = tokens.iter().map(TokenInfoOut::from).collect();
            print_rows(
                f.format,
                &rows,
                &["id", "user", "name", "created_at"],
                |t| {
                    vec![
                        t.id.to_string(),
                        t.user_email.clone(),
                        t.name.clone(),
                        t.created_at.clone(),
                    ]
                },
            )
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            app::revoke_token(&Ctx::new(store, Operator::Console, now), *id).await?;
            println!("revoked token {id} (running servers stop accepting it within 2 seconds)");
            Ok(())
        }
        Command::Demo(DemoCommand::Seed { tickets }) => match demo::seed(store, *tickets, now)
            .await?
        {
            Some(seeded) => {
                println!(
                    "seeded {} demo tickets; sign in with password '{}'",
                    seeded.tickets,
                    demo::DEMO_PASSWORD
                );
                Ok(())
            }
            None => Err(Failure(
                "the database already has users; demo data goes only into an empty database".into(),
            )),
        },
    }
}

/// How `serve` runs.
struct ServeOptions {
    demo: bool,
    secure_cookies: bool,
    public_url: Option<String>,
    allow_private_webhooks: bool,
}

async fn serve(cli: &Cli, store: &Store, options: ServeOptions) -> Result<(), Failure> {
    let ServeOptions {
        demo,
        secure_cookies,
        public_url,
        allow_private_webhooks,
    } = options;
    if demo {
        if let Some(seeded) = demo::seed(store, 200, Timestamp::now()).await? {
            println!("seeded demo data: {} tickets", seeded.tickets);
        }
    }
    let listener = tokio::net::TcpListener::bind(cli.listen)
        .await
        .map_err(|e| Failure(format!("cannot listen on {}: {e}", cli.listen)))?;
    let address = listener.local_addr()?;
    let empty = store.users(None, None, 0, 1).await?.is_empty();
    println!("opsdesk is running at http://{address}/");
    if empty {
        println!("No users yet. Create the first administrator with:");
        println!("  opsdesk user create --email you@example.com --name 'Your Name' --role admin");
    } else if demo {
        println!("Demo sign-ins (password '{}'):", demo::DEMO_PASSWORD);
        println!("  agent workspace: liam.l1@opsdesk.example (L1), noah.l2@opsdesk.example (L2), admin@opsdesk.example");
        println!("  customer portal: carol@acme.example (Acme Logistics), gary@globex.example (Globex Retail)");
    }
    let _ = std::io::stdout().flush();
    let search = open_search(&cli.data)?;
    let mut state = AppState::new(store.clone(), search);
    state.secure_cookies = secure_cookies;
    state.allow_private_webhooks = allow_private_webhooks;
    state.public_url = public_url
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{address}"));
    opsdesk_server::serve(listener, state).await?;
    Ok(())
}

/// Opens the search index in the data directory.
fn open_search(data: &std::path::Path) -> Result<std::sync::Arc<SearchIndex>, Failure> {
    let dir = data.join("search");
    SearchIndex::open(&dir)
        .map(std::sync::Arc::new)
        .map_err(|e| match e {
            SearchError::InUse(_) => Failure(format!(
                "the search index in {} is in use: another opsdesk runs on this data directory \
             (each server needs its own --data)",
                dir.display()
            )),
            other => Failure(format!("cannot open the search index: {other}")),
        })
}

async fn reindex(data: &std::path::Path, store: &Store) -> Result<(), Failure> {
    let index = open_search(data).map_err(|Failure(reason)| {
        Failure(format!(
            "{reason}; to rebuild the index of a running server use its Admin page or POST /api/v1/search/reindex"
        ))
    })?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} documents  {per_sec}  eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    let started = std::time::Instant::now();
    let (count, position) =
        opsdesk_server::workers::search::rebuild(store, &index, move |done, total| {
            shown.set_length(total as u64);
            shown.set_position(done as u64);
        })
        .await
        .map_err(|e| Failure(format!("reindex failed: {e}")))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "indexed {count} documents in {seconds:.1} s ({:.0} documents/s); current to event {position}",
        count as f64 / seconds.max(0.001)
    );
    if let Ok(index) = std::sync::Arc::try_unwrap(index) {
        index
            .settle()
            .map_err(|e| Failure(format!("reindex failed: {e}")))?;
    }
    Ok(())
}

fn read_or_generate_password() -> Result<(String, bool), Failure> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if !password.is_empty() {
            return Ok((password, false));
        }
    }
    Ok((opsdesk_server::auth::new_secret()[..20].to_owned(), true))
}

pub(crate) fn print_rows<T: serde::Serialize>(
    format: Format,
    rows: &[T],
    header: &[&str],
    cells: impl Fn(&T) -> Vec<String>,
) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written: std::io::Result<()> = (|| {
        match format {
            Format::Json => {
                let text = serde_json::to_string_pretty(rows).map_err(std::io::Error::other)?;
                writeln!(out, "{text}")?;
            }
            Format::Csv => {
                writeln!(out, "{}", header.join(","))?;
                for row in rows {
                    let line: Vec<String> = cells(row)
                        .into_iter()
                        .map(|c| {
                            if c.contains([',', '"', '\n']) {
                                format!("\"{}\"", c.replace('"', "\"\""))
                            } else {
                                c
                            }
                        })
                        .collect();
                    writeln!(out, "{}", line.join(","))?;
                }
            }
            Format::Table => {
                let table: Vec<Vec<String>> = rows.iter().map(&cells).collect();
                let widths: Vec<usize> = (0..header.len())
                    .map(|i| {
                        table
                            .iter()
                            .map(|r| r[i].chars().count())
                            .chain([header[i].len()])
                            .max()
                            .unwrap_or(0)
                    })
                    .collect();
                let line = |cols: Vec<String>| {
                    cols.iter()
                        .enumerate()
                        .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                        .collect::<Vec<_>>()
                        .join("  ")
                        .trim_end()
                        .to_owned()
                };
                writeln!(
                    out,
                    "{}",
                    line(header.iter().map(|h| h.to_string()).collect())
                )?;
                for row in table {
                    writeln!(out, "{}", line(row))?;
                }
            }
        }
        Ok(())
    })();
    match written {
        // A reader that stops early (`| head`) is not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
