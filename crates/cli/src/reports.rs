//! `opsdesk report tickets|incidents`: the reports of the UI and API from the command line, one
//! table at a time (`--table`), as a table, CSV, or the whole report as JSON.

use clap::{Args, Subcommand};
use jiff::Timestamp;
use opsdesk_server::app::reports::{self, Kind, ReportQuery};
use opsdesk_server::app::Ctx;
use opsdesk_server::app::Operator;
use opsdesk_store::Store;

use crate::{print_rows, Failure, Format, FormatArg};

/// Reports.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Tickets: volume, backlog, response and resolution times, SLA compliance, rates; the
    /// tables `series` (default), `teams`, `agents`, `categories`, `services`, `backlog`,
    /// `escalations`.
    Tickets(ReportArgs),
    /// Incidents: counts, MTTA, MTTR, MTBF, time in each status; the tables `series`
    /// (default), `services`, `severities`, `statuses`.
    Incidents(ReportArgs),
    /// Arrival forecast for the next four weeks and agents needed per hour; the tables
    /// `weeks` (default) and `staffing`.
    Forecast(ReportArgs),
    /// Compares the reports' daily rollup with the ticket facts it sums (they agree unless the
    /// database was changed by hand); `--repair` rebuilds it from the facts.
    Check {
        /// Rebuild the rollup when it differs.
        #[arg(long)]
        repair: bool,
    },
}

/// The filters every report takes.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First day (YYYY-MM-DD, UTC); default 29 days before `--to`.
    #[arg(long)]
    from: Option<String>,
    /// Last day (YYYY-MM-DD, UTC), included; default today.
    #[arg(long)]
    to: Option<String>,
    /// `day`, `week` or `month` (default by the period's length).
    #[arg(long)]
    granularity: Option<String>,
    /// Team name.
    #[arg(long)]
    team: Option<String>,
    /// Organisation name.
    #[arg(long)]
    organization: Option<String>,
    /// `urgent`, `high`, `normal` or `low`.
    #[arg(long)]
    priority: Option<String>,
    /// `L0`–`L4`.
    #[arg(long)]
    tier: Option<String>,
    /// Ticket category.
    #[arg(long)]
    category: Option<String>,
    /// Service name (incidents).
    #[arg(long)]
    service: Option<String>,
    /// `business` (default) or `calendar` time.
    #[arg(long)]
    time: Option<String>,
    /// Which table to print.
    #[arg(long)]
    table: Option<String>,
    /// Forecast: minutes an agent spends on a ticket (default 20).
    #[arg(long)]
    handle_minutes: Option<String>,
    /// Forecast: response target to staff for, minutes (default 60).
    #[arg(long)]
    target_minutes: Option<String>,
    /// Forecast: share to answer within the target, percent (default 80).
    #[arg(long)]
    service_level: Option<String>,
    /// Output format (`json` prints the whole report).
    #[command(flatten)]
    format: FormatArg,
}

impl ReportArgs {
    fn query(&self) -> ReportQuery {
        ReportQuery {
            from: self.from.clone(),
            to: self.to.clone(),
            granularity: self.granularity.clone(),
            team: self.team.clone(),
            organization: self.organization.clone(),
            priority: self.priority.clone(),
            tier: self.tier.clone(),
            category: self.category.clone(),
            service: self.service.clone(),
            time: self.time.clone(),
            format: None,
            table: self.table.clone(),
            handle_minutes: self.handle_minutes.clone(),
            target_minutes: self.target_minutes.clone(),
            service_level: self.service_level.clone(),
        }
    }
}

fn print_json<T: serde::Serialize>(report: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(report).map_err(|e| Failure(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// Runs a report verb.
pub async fn run(store: &Store, command: &ReportCommand, now: Timestamp) -> Result<(), Failure> {
    let (args, kind) = match command {
        ReportCommand::Tickets(a) => (a, Kind::Tickets),
        ReportCommand::Incidents(a) => (a, Kind::Incidents),
        ReportCommand::Forecast(a) => (a, Kind::Forecast),
        ReportCommand::Check { repair } => return check(store, *repair, now).await,
    };
    let mut query = args.query();
    query
        .table
        .get_or_insert_with(|| kind.default_table().to_owned());
    let (filters, built) =
        reports::build(&Ctx::new(store, Operator::Console, now), kind, query).await?;
    if matches!(args.format.format, Format::Json) {
        return print_json(&built);
    }
    let (header, rows) = built.table(&filters.table)?;
    print_rows(args.format.format, &rows, &header, |r| r.clone())
}

/// `opsdesk report check`: the rollup's differences from the facts, mended with `--repair`.
async fn check(store: &Store, repair: bool, now: Timestamp) -> Result<(), Failure> {
    let differences = store.report_rollup_differences().await?;
    if differences.is_empty() {
        println!("the report rollup agrees with the ticket facts");
        return Ok(());
    }
    for line in differences.iter().take(20) {
        println!("{line}");
    }
    if !repair {
        return Err(Failure(format!(
            "the report rollup differs from the ticket facts in {} rows; `opsdesk report check --repair` rebuilds it",
            differences.len()
        )));
    }
    let rows = store.rebuild_report_rollup(now).await?;
    println!("rebuilt the report rollup from the ticket facts: {rows} rows");
    Ok(())
}
