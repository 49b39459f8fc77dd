//! `opsdesk review show`, `opsdesk action-item …` and `opsdesk problem …`.

use clap::Subcommand;
use jiff::Timestamp;
use opsdesk_server::app::reviews as app;
use opsdesk_server::app::Ctx;
use opsdesk_server::app::Operator;
use opsdesk_server::wire::incidents::ProblemIn;
use opsdesk_store::Store;

use crate::{print_rows, Failure, FormatArg};

/// Post-incident reviews.
#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Print an incident's review and its action items.
    Show {
        /// Incident number.
        incident: i64,
    },
}

/// Action items.
#[derive(Debug, Subcommand)]
pub enum ActionItemCommand {
    /// List action items not yet verified (soonest due first).
    List {
        /// Only overdue ones.
        #[arg(long)]
        overdue: bool,
        /// Output format.
        #[command(flatten)]
        format: FormatArg,
    },
}

/// Problem records.
#[derive(Debug, Subcommand)]
pub enum ProblemCommand {
    /// Create a problem record linking incidents.
    Create {
        /// Title.
        #[arg(long)]
        title: String,
        /// An incident to link (repeatable).
        #[arg(long = "incident")]
        incidents: Vec<i64>,
        /// Root cause so far.
        #[arg(long, default_value = "")]
        root_cause: String,
    },
    /// List problem records.
    List(FormatArg),
}

/// Runs a `review` verb.
pub async fn review(store: &Store, command: &ReviewCommand, now: Timestamp) -> Result<(), Failure> {
    let ReviewCommand::Show { incident } = command;
    let review = store
        .review(*incident)
        .await?
        .ok_or_else(|| Failure(format!("incident #{incident} has no review yet")))?;
    let out = app::review_out(store, &review, now).await?;
    println!("Review of incident #{incident} ({})", out.status);
    for ((_, heading), text) in opsdesk_store::REVIEW_SECTIONS.iter().zip(&review.sections) {
        println!("\n## {heading}\n{text}");
    }
    println!("\n## Action items");
    for a in out.action_items {
        println!(
            "- [{}] {} — {} by {}{}",
            a.state,
            a.title,
            a.owner.email,
            a.due_at,
            if a.overdue { " (overdue)" } else { "" }
        );
    }
    Ok(())
}

/// Runs an `action-item` verb.
pub async fn action_item(
    store: &Store,
    command: &ActionItemCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    let ActionItemCommand::List { overdue, format } = command;
    let rows: Vec<_> = store
        .action_items(None, None, None, false)
        .await?
        .iter()
        .map(|a| app::item_out(a, now))
        .filter(|a| !overdue || a.overdue)
        .collect();
    print_rows(
        format.format,
        &rows,
        &[
            "id", "incident", "title", "owner", "due", "state", "overdue",
        ],
        |a| {
            vec![
                a.id.to_string(),
                a.incident.map(|i| format!("#{i}")).unwrap_or_default(),
                a.title.clone(),
                a.owner.email.clone(),
                a.due_at.clone(),
                a.state.clone(),
                if a.overdue { "yes" } else { "" }.to_owned(),
            ]
        },
    )
}

/// Runs a `problem` verb.
pub async fn problem(
    store: &Store,
    command: &ProblemCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        ProblemCommand::Create {
            title,
            incidents,
            root_cause,
        } => {
            let input = ProblemIn {
                title: title.clone(),
                status: None,
                root_cause: root_cause.clone(),
                workaround: String::new(),
                incidents: incidents.clone(),
            };
            let p =
                app::save_problem(&Ctx::new(store, Operator::Console, now), None, &input).await?;
            println!("created problem #{} {}", p.id, p.title);
            Ok(())
        }
        ProblemCommand::List(f) => {
            let rows: Vec<_> = store
                .problems()
                .await?
                .iter()
                .map(app::problem_out)
                .collect();
            print_rows(
                f.format,
                &rows,
                &["id", "title", "status", "incidents", "workaround"],
                |p| {
                    vec![
                        p.id.to_string(),
                        p.title.clone(),
                        p.status.clone(),
                        p.incidents
                            .iter()
                            .map(|i| format!("#{i}"))
                            .collect::<Vec<_>>()
                            .join(" "),
                        p.workaround.clone(),
                    ]
                },
            )
        }
    }
}
