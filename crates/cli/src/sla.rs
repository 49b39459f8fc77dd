//! `opsdesk calendar …` and `opsdesk sla …`: business calendars, policies, the at-risk list and
//! the full explanation of one ticket's clocks.

use clap::Subcommand;
use jiff::{SignedDuration, Timestamp};
use opsdesk_server::app::sla::policy_out;
use opsdesk_server::app::sla::{self, level_line, parse_level_line, Names};
use opsdesk_server::app::Ctx;
use opsdesk_server::app::Operator;
use opsdesk_server::wire::desk::{
    CalendarIn, CalendarOut, ConditionsWire, HolidayWire, PolicyIn, PolicyOut, TargetWire,
    TargetsWire, WeekHoursWire,
};
use opsdesk_store::Store;

use crate::{print_rows, Failure, FormatArg};

/// Business calendars.
#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Create a calendar. Hours per weekday as `09:00-12:00,13:00-17:00`; omitted days are closed.
    Create {
        /// Name.
        #[arg(long)]
        name: String,
        /// IANA time zone, such as Europe/Berlin.
        #[arg(long)]
        zone: String,
        /// The same hours Monday to Friday (individual days override it).
        #[arg(long)]
        weekdays: Option<String>,
        /// Monday's hours.
        #[arg(long)]
        mon: Option<String>,
        /// Tuesday's hours.
        #[arg(long)]
        tue: Option<String>,
        /// Wednesday's hours.
        #[arg(long)]
        wed: Option<String>,
        /// Thursday's hours.
        #[arg(long)]
        thu: Option<String>,
        /// Friday's hours.
        #[arg(long)]
        fri: Option<String>,
        /// Saturday's hours.
        #[arg(long)]
        sat: Option<String>,
        /// Sunday's hours.
        #[arg(long)]
        sun: Option<String>,
        /// A holiday, `12-25 Christmas Day` (yearly) or `2026-12-24 Christmas Eve` (repeatable).
        #[arg(long = "holiday")]
        holidays: Vec<String>,
        /// Make it the default calendar.
        #[arg(long)]
        default: bool,
    },
    /// Add the holidays of an iCalendar (.ics) file to a calendar.
    ImportIcs {
        /// The calendar's name.
        #[arg(long)]
        calendar: String,
        /// Path of the .ics file.
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// Give a team or an organisation a calendar (and an organisation a plan).
    Assign {
        /// The calendar's name (`""` for the default / none).
        #[arg(long)]
        calendar: String,
        /// A team's name.
        #[arg(long)]
        team: Option<String>,
        /// An organisation's name.
        #[arg(long)]
        org: Option<String>,
        /// The organisation's plan (policies can select on it).
        #[arg(long)]
        plan: Option<String>,
    },
    /// Delete a calendar nothing uses.
    Delete {
        /// The calendar's name.
        #[arg(long)]
        name: String,
    },
    /// List calendars.
    List(FormatArg),
}

/// Vendors and their support terms.
#[derive(Debug, Subcommand)]
pub enum VendorCommand {
    /// Create or update (by name) a vendor.
    Save {
        /// Name.
        #[arg(long)]
        name: String,
        /// How to reach its support.
        #[arg(long, default_value = "")]
        contacts: String,
        /// Its support-hours calendar (name); around the clock when absent.
        #[arg(long)]
        calendar: Option<String>,
        /// Response target, minutes in its calendar.
        #[arg(long)]
        response: Option<i64>,
        /// Resolution target, minutes in its calendar.
        #[arg(long)]
        resolution: Option<i64>,
    },
    /// Delete a vendor no ticket was handed to.
    Delete {
        /// The vendor's name.
        #[arg(long)]
        name: String,
    },
    /// List vendors with their results (met / breached per clock).
    List(FormatArg),
}

/// Runs a vendor command.
pub async fn vendor(store: &Store, command: &VendorCommand, now: Timestamp) -> Result<(), Failure> {
    match command {
        VendorCommand::Save {
            name,
            contacts,
            calendar,
            response,
            resolution,
        } => {
            let existing = store
                .vendors()
                .await?
                .into_iter()
                .find(|v| v.terms.name.eq_ignore_ascii_case(name))
                .map(|v| v.terms.id);
            let input = opsdesk_server::wire::desk::VendorIn {
                name: name.clone(),
                contacts: contacts.clone(),
                calendar: calendar.clone(),
                response_minutes: *response,
                resolution_minutes: *resolution,
            };
            let record =
                sla::save_vendor(&Ctx::new(store, Operator::Console, now), existing, &input)
                    .await?;
            println!(
                "saved vendor {} (id {})",
                record.terms.name, record.terms.id
            );
            Ok(())
        }
        VendorCommand::Delete { name } => {
            let id = sla::vendor_named(store, name).await?;
            sla::delete_vendor(&Ctx::new(store, Operator::Console, now), id).await?;
            println!("deleted vendor {name}");
            Ok(())
        }
        VendorCommand::List(f) => {
            let rows = opsdesk_server::app::sla::vendors_out(store, jiff::Timestamp::now()).await?;
            print_rows(
                f.format,
                &rows,
                &[
                    "id",
                    "name",
                    "response",
                    "resolution",
                    "response met/breached",
                    "resolution met/breached",
                    "running",
                ],
                |v| {
                    vec![
                        v.id.to_string(),
                        v.name.clone(),
                        v.response_minutes
                            .map(|m| format!("{m}m"))
                            .unwrap_or_default(),
                        v.resolution_minutes
                            .map(|m| format!("{m}m"))
                            .unwrap_or_default(),
                        format!("{}/{}", v.response_met, v.response_breached),
                        format!("{}/{}", v.resolution_met, v.resolution_breached),
                        v.running.to_string(),
                    ]
                },
            )
        }
    }
}

/// SLA policies and clocks.
#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Print the whole computation of a ticket's clocks: policy choice, calendar, history, clocks.
    Explain {
        /// Ticket number.
        ticket: i64,
    },
    /// Clocks whose next breach or escalation level comes within the window, and breaches.
    AtRisk {
        /// Minutes ahead.
        #[arg(long, default_value_t = 60)]
        within: i64,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Background recomputations and their progress.
    Jobs,
}

/// Policy verbs.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Create a policy. Targets in minutes of business time (or `--calendar-time`).
    Create(Box<PolicyCreate>),
    /// Delete a policy.
    Delete {
        /// The policy's name.
        #[arg(long)]
        name: String,
    },
    /// List policies in order.
    List(FormatArg),
}

/// The options of `sla policy create`.
#[derive(Debug, clap::Args)]
pub struct PolicyCreate {
    /// Name.
    #[arg(long)]
    pub name: String,
    /// Place in the order, 1 first (default last).
    #[arg(long)]
    pub position: Option<i64>,
    /// Condition: priority (repeatable).
    #[arg(long = "priority")]
    pub priorities: Vec<String>,
    /// Condition: team name (repeatable).
    #[arg(long = "team")]
    pub teams: Vec<String>,
    /// Condition: organisation name (repeatable).
    #[arg(long = "org")]
    pub orgs: Vec<String>,
    /// Condition: organisation plan (repeatable).
    #[arg(long = "plan")]
    pub plans: Vec<String>,
    /// Condition: tag (repeatable).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Condition: channel (repeatable).
    #[arg(long = "channel")]
    pub channels: Vec<String>,
    /// Condition: category (repeatable).
    #[arg(long = "category")]
    pub categories: Vec<String>,
    /// First-response target, minutes.
    #[arg(long)]
    pub first_response: Option<i64>,
    /// Next-response target, minutes.
    #[arg(long)]
    pub next_response: Option<i64>,
    /// Resolution target, minutes.
    #[arg(long)]
    pub resolution: Option<i64>,
    /// Periodic-update target, minutes.
    #[arg(long)]
    pub periodic_update: Option<i64>,
    /// Count calendar time instead of business time.
    #[arg(long)]
    pub calendar_time: bool,
    /// Escalation level, `75% first_response: notify_assignee, add_tag=at-risk` (repeatable).
    #[arg(long = "level")]
    pub levels: Vec<String>,
}

async fn calendar_id(store: &Store, name: &str) -> Result<i64, Failure> {
    Ok(sla::calendar_named(store, "calendar", name).await?.id)
}

/// Runs a calendar command.
pub async fn calendar(
    store: &Store,
    command: &CalendarCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    let by = Operator::Console;
    match command {
        CalendarCommand::Create {
            name,
            zone,
            weekdays,
            mon,
            tue,
            wed,
            thu,
            fri,
            sat,
            sun,
            holidays,
            default,
        } => {
            let day = |d: &Option<String>, weekday: bool| {
                d.clone()
                    .or_else(|| if weekday { weekdays.clone() } else { None })
                    .unwrap_or_default()
            };
            let input = CalendarIn {
                name: name.clone(),
                zone: zone.clone(),
                hours: WeekHoursWire::from_days([
                    day(mon, true),
                    day(tue, true),
                    day(wed, true),
                    day(thu, true),
                    day(fri, true),
                    day(sat, false),
                    day(sun, false),
                ]),
                holidays: holidays
                    .iter()
                    .map(|h| {
                        let (date, name) =
                            h.trim().split_once(' ').unwrap_or((h.trim(), "Holiday"));
                        HolidayWire {
                            date: date.into(),
                            name: name.trim().into(),
                        }
                    })
                    .collect(),
                default: *default,
            };
            let record = sla::create_calendar(&Ctx::new(store, by, now), &input).await?;
            println!(
                "created calendar {} (id {}): {}",
                record.name,
                record.id,
                record.calendar.summary()
            );
            Ok(())
        }
        CalendarCommand::ImportIcs { calendar, file } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Failure(format!("file: cannot read {}: {e}", file.display())))?;
            let id = calendar_id(store, calendar).await?;
            let added = sla::import_ics(&Ctx::new(store, by, now), id, &text).await?;
            println!("added {added} holidays to {calendar}");
            Ok(())
        }
        CalendarCommand::Assign {
            calendar,
            team,
            org,
            plan,
        } => {
            let cal = Some(calendar.as_str()).filter(|c| !c.trim().is_empty());
            if team.is_none() && org.is_none() {
                return Err(Failure("team: give --team or --org".into()));
            }
            if let Some(team) = team {
                let t = store
                    .team_by_name(team)
                    .await?
                    .ok_or_else(|| Failure(format!("team: no team named '{team}'")))?;
                sla::set_team_calendar(&Ctx::new(store, by, now), t.id, cal).await?;
                println!(
                    "team {team} counts business time in {}",
                    cal.unwrap_or("the default calendar")
                );
            }
            if let Some(org) = org {
                let o = store
                    .org_by_name(org)
                    .await?
                    .ok_or_else(|| Failure(format!("org: no organisation named '{org}'")))?;
                sla::set_org_sla(
                    &Ctx::new(store, by, now),
                    o.id,
                    Some(cal),
                    plan.as_deref().map(Some),
                )
                .await?;
                println!(
                    "organisation {org} counts business time in {}",
                    cal.unwrap_or("its team's or the default calendar")
                );
            }
            Ok(())
        }
        CalendarCommand::Delete { name } => {
            let id = calendar_id(store, name).await?;
            sla::delete_calendar(&Ctx::new(store, by, now), id).await?;
            println!("deleted calendar {name}");
            Ok(())
        }
        CalendarCommand::List(f) => {
            let rows: Vec<CalendarOut> = store
                .calendars()
                .await?
                .iter()
                .map(|c| {
                    let (hours, holidays) = sla::calendar_wire(c);
                    CalendarOut {
                        id: c.id,
                        name: c.name.clone(),
                        zone: c.zone.clone(),
                        hours,
                        holidays,
                        default: c.is_default,
                        summary: c.calendar.summary(),
                        updated_at: c.updated_at.to_string(),
                    }
                })
                .collect();
            print_rows(f.format, &rows, &["id", "name", "default", "hours"], |c| {
                vec![
                    c.id.to_string(),
                    c.name.clone(),
                    c.default.to_string(),
                    c.summary.clone(),
                ]
            })
        }
    }
}

/// Runs an SLA command.
pub async fn run(store: &Store, command: &SlaCommand, now: Timestamp) -> Result<(), Failure> {
    let by = Operator::Console;
    match command {
        SlaCommand::Policy(PolicyCommand::Create(create)) => {
            let PolicyCreate {
                name,
                position,
                priorities,
                teams,
                orgs,
                plans,
                tags,
                channels,
                categories,
                first_response,
                next_response,
                resolution,
                periodic_update,
                calendar_time,
                levels,
            } = create.as_ref();
            let target = |m: &Option<i64>| {
                m.map(|minutes| TargetWire {
                    minutes,
                    business: !calendar_time,
                    pauses: None,
                })
            };
            let levels = levels
                .iter()
                .map(|l| parse_level_line(l).map_err(|e| Failure(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let input = PolicyIn {
                name: name.clone(),
                position: *position,
                conditions: ConditionsWire {
                    priorities: priorities.clone(),
                    teams: teams.clone(),
                    organizations: orgs.clone(),
                    plans: plans.clone(),
                    tags: tags.clone(),
                    channels: channels.clone(),
                    categories: categories.clone(),
                },
                targets: TargetsWire {
                    first_response: target(first_response),
                    next_response: target(next_response),
                    resolution: target(resolution),
                    periodic_update: target(periodic_update),
                },
                levels,
            };
            let record = sla::create_policy(&Ctx::new(store, by, now), &input).await?;
            println!(
                "created policy {} at position {} (id {}); open tickets are recomputed in the background by the running server",
                record.policy.name, record.position, record.policy.id
            );
            Ok(())
        }
        SlaCommand::Policy(PolicyCommand::Delete { name }) => {
            let record = store
                .policies()
                .await?
                .into_iter()
                .find(|p| p.policy.name.eq_ignore_ascii_case(name))
                .ok_or_else(|| Failure(format!("name: no policy named '{name}'")))?;
            sla::delete_policy(&Ctx::new(store, by, now), record.policy.id).await?;
            println!("deleted policy {name}");
            Ok(())
        }
        SlaCommand::Policy(PolicyCommand::List(f)) => {
            let records = store.policies().await?;
            let names = Names::load(store, &records).await?;
            let rows: Vec<PolicyOut> = records.iter().map(|r| policy_out(r, &names)).collect();
            print_rows(
                f.format,
                &rows,
                &["position", "name", "targets", "levels"],
                |p| {
                    let t = &p.targets;
                    let targets: Vec<String> = [
                        ("first", &t.first_response),
                        ("next", &t.next_response),
                        ("resolution", &t.resolution),
                        ("update", &t.periodic_update),
                    ]
                    .iter()
                    .filter_map(|(label, t)| {
                        t.as_ref().map(|t| {
                            format!(
                                "{label} {}m{}",
                                t.minutes,
                                if t.business { "" } else { " (calendar)" }
                            )
                        })
                    })
                    .collect();
                    vec![
                        p.position.to_string(),
                        p.name.clone(),
                        targets.join(", "),
                        p.levels
                            .iter()
                            .map(level_line)
                            .collect::<Vec<_>>()
                            .join(" | "),
                    ]
                },
            )
        }
        SlaCommand::Explain { ticket } => {
            for line in store.sla_explain(*ticket, now).await? {
                println!("{line}");
            }
            Ok(())
        }
        SlaCommand::AtRisk { within, format } => {
            if !(0..=10_080).contains(within) {
                return Err(Failure("within: minutes ahead, 0 to 10080 (a week)".into()));
            }
            let until = now
                .checked_add(SignedDuration::from_mins(*within))
                .map_err(|e| Failure(e.to_string()))?;
            let rows = store.at_risk(now, until, None, 500).await?;
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|a| {
                    serde_json::json!({
                        "ticket": a.ticket_id, "subject": a.subject, "team": a.team_name,
                        "priority": a.priority.as_str(), "metric": a.metric.as_str(), "state": a.state,
                        "due_at": a.due_at.map(|t| t.to_string()), "next_at": a.next_at.map(|t| t.to_string()),
                    })
                })
                .collect();
            print_rows(
                format.format,
                &rows,
                &[
                    "ticket", "metric", "state", "next_at", "due_at", "team", "subject",
                ],
                |r| {
                    [
                        "ticket", "metric", "state", "next_at", "due_at", "team", "subject",
                    ]
                    .iter()
                    .map(|k| match &r[*k] {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    })
                    .collect()
                },
            )
        }
        SlaCommand::Jobs => {
            for job in store.sla_jobs(20).await? {
                let state = match job.finished_at {
                    Some(at) => format!("finished {at}"),
                    None => "running".into(),
                };
                println!(
                    "#{} {}: {} of {} — {state}",
                    job.id, job.reason, job.done, job.total
                );
            }
            Ok(())
        }
    }
}
