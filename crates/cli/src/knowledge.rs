//! `opsdesk article …`, `opsdesk runbook …` and `opsdesk check …`: the knowledge base, runbooks
//! and scheduled checks from the command line (docs-as-code: import Markdown files).

use std::path::PathBuf;

use clap::Subcommand;
use jiff::Timestamp;
use opsdesk_domain::recurrence::{Recurrence, Rule};
use opsdesk_server::app::knowledge as kb;
use opsdesk_server::app::runbooks as rb;
use opsdesk_server::app::Ctx;
use opsdesk_server::app::Operator;
use opsdesk_server::wire::knowledge::ArticleIn;
use opsdesk_server::wire::runbooks::{CheckIn, RunbookIn};
use opsdesk_store::{ArticleFilter, Store};

use crate::{print_rows, Failure, FormatArg};

/// Knowledge base articles.
#[derive(Debug, Subcommand)]
pub enum ArticleCommand {
    /// List articles (most recently changed first).
    List {
        /// Only articles past their review-by date.
        #[arg(long)]
        stale: bool,
        /// Output format.
        #[command(flatten)]
        format: FormatArg,
    },
    /// Create an article from a Markdown file (or update the one with the same title: a new
    /// version).
    Import {
        /// Title.
        #[arg(long)]
        title: String,
        /// Markdown file.
        file: PathBuf,
        /// Category name.
        #[arg(long)]
        category: Option<String>,
        /// `public`, `internal` (default) or a tier such as `L2`.
        #[arg(long)]
        visibility: Option<String>,
        /// Owner's e-mail.
        #[arg(long)]
        owner: Option<String>,
        /// Review-by date (YYYY-MM-DD).
        #[arg(long)]
        review_by: Option<String>,
        /// Publish this version.
        #[arg(long)]
        publish: bool,
    },
}

/// Runbooks.
#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// List runbooks.
    List(FormatArg),
    /// Create a runbook from a text file (`## Step`, `$ command`, `=> expected`), or update
    /// the one with the same title.
    Import {
        /// Title.
        #[arg(long)]
        title: String,
        /// Steps file.
        file: PathBuf,
        /// The service it belongs to.
        #[arg(long)]
        service: Option<String>,
        /// Ticket category that suggests it.
        #[arg(long, default_value = "")]
        category: String,
        /// Incidents whose title contains this suggest it.
        #[arg(long, default_value = "")]
        alert_match: String,
    },
}

/// Scheduled checks.
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// List checks with their next occurrence and latest states.
    List(FormatArg),
    /// Schedule a check.
    Create {
        /// Name.
        #[arg(long)]
        name: String,
        /// Runbook title.
        #[arg(long)]
        runbook: String,
        /// Team for its task tickets.
        #[arg(long)]
        team: String,
        /// RFC 5545 rule, e.g. `FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR`.
        #[arg(long)]
        rrule: String,
        /// First occurrence, local time: `2026-12-01T09:00`.
        #[arg(long)]
        start: String,
        /// IANA zone.
        #[arg(long)]
        zone: String,
        /// Minutes before an occurrence is late.
        #[arg(long)]
        window_minutes: Option<i64>,
    },
    /// Print the next occurrences of a rule (to try one out before scheduling it).
    Preview {
        /// RFC 5545 rule.
        #[arg(long)]
        rrule: String,
        /// First occurrence, local time.
        #[arg(long)]
        start: String,
        /// IANA zone.
        #[arg(long)]
        zone: String,
        /// How many (at most 1,000).
        #[arg(long, default_value_t = 10)]
        count: usize,
    },
}

fn read(file: &PathBuf) -> Result<String, Failure> {
    std::fs::read_to_string(file)
        .map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))
}

/// Runs an `article` verb.
pub async fn article(
    store: &Store,
    command: &ArticleCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        ArticleCommand::List { stale, format } => {
            let filter = ArticleFilter {
                stale_at: stale.then_some(now),
                ..ArticleFilter::default()
            };
            let rows: Vec<_> = store
                .articles(&filter, 10_000)
                .await?
                .iter()
                .map(|a| kb::article_out(a, None, "", now))
                .collect();
            print_rows(
                format.format,
                &rows,
                &["id", "title", "status", "visibility", "updated"],
                |a| {
                    vec![
                        a.id.to_string(),
                        a.title.clone(),
                        a.status.clone(),
                        a.visibility.clone(),
                        a.updated_at.clone(),
                    ]
                },
            )
        }
        ArticleCommand::Import {
            title,
            file,
            category,
            visibility,
            owner,
            review_by,
            publish,
        } => {
            let input = ArticleIn {
                title: title.clone(),
                body: read(file)?,
                category: category.clone(),
                visibility: visibility.clone(),
                owner: owner.clone(),
                review_by: review_by.clone(),
                note: format!("Imported from {}", file.display()),
                publish: *publish,
                base_version: None,
            };
            let existing = store
                .articles(&ArticleFilter::default(), 100_000)
                .await?
                .into_iter()
                .find(|a| a.title.eq_ignore_ascii_case(title.trim()));
            let saved = match existing {
                Some(a) => {
                    kb::edit_article(&Ctx::new(store, Operator::Console, now), a.id, &input).await?
                }
                None => {
                    kb::create_article(&Ctx::new(store, Operator::Console, now), &input).await?
                }
            };
            println!(
                "article #{} version {} ({})",
                saved.id,
                saved.version,
                saved.status.as_str()
            );
            Ok(())
        }
    }
}

/// Runs a `runbook` verb.
pub async fn runbook(
    store: &Store,
    command: &RunbookCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        RunbookCommand::List(format) => {
            let rows = rb::runbooks_out(store, &store.runbooks().await?).await?;
            print_rows(
                format.format,
                &rows,
                &["id", "title", "steps", "service", "category"],
                |r| {
                    vec![
                        r.id.to_string(),
                        r.title.clone(),
                        r.steps.len().to_string(),
                        r.service.clone().unwrap_or_default(),
                        r.category.clone(),
                    ]
                },
            )
        }
        RunbookCommand::Import {
            title,
            file,
            service,
            category,
            alert_match,
        } => {
            let input = RunbookIn {
                title: title.clone(),
                description: String::new(),
                steps: None,
                steps_text: Some(read(file)?),
                service: service.clone(),
                alert_match: alert_match.clone(),
                category: category.clone(),
            };
            let existing = store
                .runbooks()
                .await?
                .into_iter()
                .find(|r| r.title.eq_ignore_ascii_case(title.trim()))
                .map(|r| r.id);
            let saved =
                rb::save_runbook(&Ctx::new(store, Operator::Console, now), existing, &input)
                    .await?;
            println!("runbook #{} with {} steps", saved.id, saved.steps.len());
            Ok(())
        }
    }
}

/// Runs a `check` verb.
pub async fn check(store: &Store, command: &CheckCommand, now: Timestamp) -> Result<(), Failure> {
    match command {
        CheckCommand::List(format) => {
            let mut rows = Vec::new();
            for c in store.checks().await? {
                rows.push(rb::check_out(store, &c, now).await?);
            }
            print_rows(
                format.format,
                &rows,
                &["id", "name", "rrule", "zone", "next", "latest"],
                |c| {
                    vec![
                        c.id.to_string(),
                        c.name.clone(),
                        c.rrule.clone(),
                        c.zone.clone(),
                        c.upcoming.first().cloned().unwrap_or_default(),
                        c.recent
                            .iter()
                            .map(|o| o.state.clone())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ]
                },
            )
        }
        CheckCommand::Create {
            name,
            runbook,
            team,
            rrule,
            start,
            zone,
            window_minutes,
        } => {
            let input = CheckIn {
                name: name.clone(),
                runbook: runbook.clone(),
                team: team.clone(),
                rrule: rrule.clone(),
                start: start.clone(),
                zone: zone.clone(),
                window_minutes: *window_minutes,
                active: Some(true),
            };
            let saved =
                rb::save_check(&Ctx::new(store, Operator::Console, now), None, &input).await?;
            let out = rb::check_out(store, &saved, now).await?;
            println!(
                "check #{}; next: {}",
                out.id,
                out.upcoming.first().cloned().unwrap_or_default()
            );
            Ok(())
        }
        CheckCommand::Preview {
            rrule,
            start,
            zone,
            count,
        } => {
            let rule = Rule::parse("rrule", rrule).map_err(|e| Failure(e.to_string()))?;
            let start = start
                .parse::<jiff::civil::DateTime>()
                .map_err(|e| Failure(format!("start: {e}")))?;
            let tz = jiff::tz::TimeZone::get(zone).map_err(|e| Failure(format!("zone: {e}")))?;
            let first = start
                .to_zoned(tz.clone())
                .map_err(|e| Failure(format!("start: {e}")))?
                .timestamp();
            let recurrence = Recurrence::new(rule, start, tz.clone());
            let count = (*count).min(1_000);
            for at in recurrence.upcoming(first - jiff::SignedDuration::from_secs(1), count) {
                println!(
                    "{}  ({})",
                    at.to_zoned(tz.clone()).strftime("%a %Y-%m-%d %H:%M %Z"),
                    at
                );
            }
            Ok(())
        }
    }
}
