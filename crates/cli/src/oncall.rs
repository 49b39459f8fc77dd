//! `opsdesk schedule …`, `opsdesk oncall`, `opsdesk escalation-policy …` and
//! `opsdesk contact …`: on-call schedules, escalation policies and how people are paged.

use clap::Subcommand;
use jiff::{SignedDuration, Timestamp};
use opsdesk_server::app::oncall as app;
use opsdesk_server::app::Ctx;
use opsdesk_server::app::Operator;
use opsdesk_server::wire::incidents::{
    ContactMethodIn, EscalationPolicyIn, LayerWire, OverrideIn, PolicyLevelWire, ScheduleIn,
};
use opsdesk_store::Store;

use crate::{print_rows, Failure, FormatArg};

/// On-call schedules.
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Create a schedule from layers, lowest first:
    /// `--layer "start=2026-11-30T09:00 zone=Europe/Berlin turn=weekly people=a@x,b@x [hours=09:00-17:00]"`.
    Create {
        /// Name.
        #[arg(long)]
        name: String,
        /// A layer (repeatable; later layers win where they cover).
        #[arg(long = "layer", required = true)]
        layers: Vec<String>,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List schedules with who is on call now.
    List(FormatArg),
    /// The final schedule (after layers and overrides) for the next days.
    Show {
        /// Name.
        #[arg(long)]
        name: String,
        /// Days ahead.
        #[arg(long, default_value_t = 14)]
        days: i64,
    },
    /// Put someone on call over a schedule for a stretch.
    Override {
        /// Schedule name.
        #[arg(long)]
        name: String,
        /// Who takes over (e-mail).
        #[arg(long)]
        email: String,
        /// From, RFC 3339.
        #[arg(long)]
        from: String,
        /// Until, RFC 3339.
        #[arg(long)]
        until: String,
    },
    /// Delete a schedule no escalation policy pages.
    Delete {
        /// Name.
        #[arg(long)]
        name: String,
    },
}

/// Escalation policies.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Create a policy: `--level "5m: schedule=Primary, user=lead@x"` (repeatable, in order).
    Create {
        /// Name.
        #[arg(long)]
        name: String,
        /// A level: timeout, then targets `user=EMAIL`, `schedule=NAME`, `team=NAME`.
        #[arg(long = "level", required = true)]
        levels: Vec<String>,
        /// Times to run the levels again when nobody acknowledges.
        #[arg(long, default_value_t = 0)]
        repeats: u32,
        /// Services that page with it (repeatable).
        #[arg(long = "service")]
        services: Vec<String>,
    },
    /// List policies.
    List(FormatArg),
    /// Delete a policy no service uses.
    Delete {
        /// Name.
        #[arg(long)]
        name: String,
    },
}

/// How people are paged.
#[derive(Debug, Subcommand)]
pub enum ContactCommand {
    /// Add a way to page someone: `--kind webhook|slack --address URL`.
    Add {
        /// The person's e-mail.
        #[arg(long)]
        email: String,
        /// `webhook` (signed JSON) or `slack` (Slack-compatible incoming webhook).
        #[arg(long)]
        kind: String,
        /// The URL.
        #[arg(long)]
        address: String,
    },
    /// List someone's contact methods.
    List {
        /// The person's e-mail.
        #[arg(long)]
        email: String,
    },
}

fn layer_from(text: &str) -> Result<LayerWire, Failure> {
    let mut layer = LayerWire {
        starts_at: String::new(),
        zone: "UTC".into(),
        turn: "weekly".into(),
        participants: Vec::new(),
        hours: None,
    };
    for part in text.split_whitespace() {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| Failure(format!("--layer: '{part}' is not key=value")))?;
        match k {
            "start" => layer.starts_at = v.to_owned(),
            "zone" => layer.zone = v.to_owned(),
            "turn" => layer.turn = v.to_owned(),
            "people" => layer.participants = v.split(',').map(str::to_owned).collect(),
            "hours" => layer.hours = Some(v.to_owned()),
            other => return Err(Failure(format!("--layer: unknown key '{other}'"))),
        }
    }
    Ok(layer)
}

fn level_from(text: &str) -> Result<PolicyLevelWire, Failure> {
    let (timeout, targets) = text.split_once(':').ok_or_else(|| {
        Failure(format!(
            "--level '{text}' is not like '5m: schedule=Primary'"
        ))
    })?;
    let minutes = timeout
        .trim()
        .trim_end_matches('m')
        .parse::<u32>()
        .map_err(|_| {
            Failure(format!(
                "--level: '{}' is not minutes like 5m",
                timeout.trim()
            ))
        })?;
    Ok(PolicyLevelWire {
        timeout_minutes: minutes,
        targets: targets
            .split(',')
            .map(|t| t.trim().replacen('=', ":", 1))
            .filter(|t| !t.is_empty())
            .collect(),
    })
}

async fn schedule_id(store: &Store, name: &str) -> Result<i64, Failure> {
    Ok(app::schedule_named(store, "name", name).await?.id)
}

/// Runs a `schedule` verb.
pub async fn schedule(
    store: &Store,
    command: &ScheduleCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        ScheduleCommand::Create {
            name,
            layers,
            description,
        } => {
            let input = ScheduleIn {
                name: name.clone(),
                description: description.clone(),
                layers: layers
                    .iter()
                    .map(|l| layer_from(l))
                    .collect::<Result<_, _>>()?,
            };
            let s = app::create_schedule(&Ctx::new(store, Operator::Console, now), &input).await?;
            let out = app::schedule_out(store, &s, now, now, now).await;
            println!(
                "created schedule {} (id {}); on call now: {}",
                out.name,
                out.id,
                out.on_call_now.map_or("nobody".to_owned(), |p| p.email)
            );
            Ok(())
        }
        ScheduleCommand::List(f) => {
            let (from, to) = app::default_window(now);
            let mut rows = Vec::new();
            for s in store.schedules().await? {
                rows.push(app::schedule_out(store, &s, now, from, to).await);
            }
            print_rows(
                f.format,
                &rows,
                &["id", "name", "on call now", "layers", "next hand-off"],
                |s| {
                    vec![
                        s.id.to_string(),
                        s.name.clone(),
                        s.on_call_now
                            .as_ref()
                            .map(|p| p.email.clone())
                            .unwrap_or_default(),
                        s.layers.len().to_string(),
                        s.shifts
                            .first()
                            .map(|x| x.ends_at.clone())
                            .unwrap_or_default(),
                    ]
                },
            )
        }
        ScheduleCommand::Show { name, days } => {
            let s = app::schedule_named(store, "name", name).await?;
            let to = now + SignedDuration::from_hours(24 * (*days).clamp(1, 400));
            let out = app::schedule_out(store, &s, now, now, to).await;
            for shift in out.shifts {
                println!(
                    "{} → {}  {} <{}>",
                    shift.starts_at, shift.ends_at, shift.user.name, shift.user.email
                );
            }
            Ok(())
        }
        ScheduleCommand::Override {
            name,
            email,
            from,
            until,
        } => {
            let id = schedule_id(store, name).await?;
            let input = OverrideIn {
                user: email.clone(),
                starts_at: from.clone(),
                ends_at: until.clone(),
            };
            let created =
                app::add_override(&Ctx::new(store, Operator::Console, now), id, &input).await?;
            println!("override {created}: {email} is on call for {name} from {from} until {until}");
            Ok(())
        }
        ScheduleCommand::Delete { name } => {
            let id = schedule_id(store, name).await?;
            app::delete_schedule(&Ctx::new(store, Operator::Console, now), id).await?;
            println!("deleted schedule {name}");
            Ok(())
        }
    }
}

/// Prints who is on call now, per schedule.
pub async fn oncall(store: &Store, now: Timestamp) -> Result<(), Failure> {
    for (schedule, who) in app::on_call_now(store, now).await? {
        match who {
            Some(u) => println!("{schedule}: {} <{}>", u.name, u.email),
            None => println!("{schedule}: nobody"),
        }
    }
    Ok(())
}

/// Runs an `escalation-policy` verb.
pub async fn policy(store: &Store, command: &PolicyCommand, now: Timestamp) -> Result<(), Failure> {
    match command {
        PolicyCommand::Create {
            name,
            levels,
            repeats,
            services,
        } => {
            let input = EscalationPolicyIn {
                name: name.clone(),
                levels: levels
                    .iter()
                    .map(|l| level_from(l))
                    .collect::<Result<_, _>>()?,
                repeats: *repeats,
            };
            let p = app::create_policy(&Ctx::new(store, Operator::Console, now), &input).await?;
            for service in services {
                let id = store
                    .services()
                    .await?
                    .into_iter()
                    .find(|s| s.name.eq_ignore_ascii_case(service.trim()))
                    .map(|s| s.id)
                    .ok_or_else(|| Failure(format!("no service named '{service}'")))?;
                app::set_service_policy(
                    &Ctx::new(store, Operator::Console, now),
                    id,
                    Some(&p.name),
                )
                .await?;
            }
            println!("created escalation policy {} (id {})", p.name, p.id);
            Ok(())
        }
        PolicyCommand::List(f) => {
            let mut rows = Vec::new();
            for p in store.escalation_policies().await? {
                rows.push(app::policy_out(store, &p).await?);
            }
            print_rows(
                f.format,
                &rows,
                &["id", "name", "levels", "repeats", "services"],
                |p| {
                    vec![
                        p.id.to_string(),
                        p.name.clone(),
                        p.levels
                            .iter()
                            .map(|l| format!("{}m: {}", l.timeout_minutes, l.targets.join(", ")))
                            .collect::<Vec<_>>()
                            .join(" → "),
                        p.repeats.to_string(),
                        p.services.join(", "),
                    ]
                },
            )
        }
        PolicyCommand::Delete { name } => {
            let id = store
                .escalation_policies()
                .await?
                .into_iter()
                .find(|p| p.name.eq_ignore_ascii_case(name.trim()))
                .map(|p| p.id)
                .ok_or_else(|| Failure(format!("no escalation policy named '{name}'")))?;
            app::delete_policy(&Ctx::new(store, Operator::Console, now), id).await?;
            println!("deleted escalation policy {name}");
            Ok(())
        }
    }
}

/// Runs a `contact` verb.
pub async fn contact(
    store: &Store,
    command: &ContactCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    let email = match command {
        ContactCommand::Add { email, .. } | ContactCommand::List { email } => email,
    };
    let user = store
        .user_by_email(&email.trim().to_lowercase())
        .await?
        .ok_or_else(|| Failure(format!("no user with the address '{email}'")))?;
    match command {
        ContactCommand::Add { kind, address, .. } => {
            let input = ContactMethodIn {
                kind: kind.clone(),
                address: address.clone(),
            };
            let c = app::add_contact_method(store, &user, &input, now).await?;
            println!(
                "{} is paged by {} at {} (id {})",
                user.email, c.kind, c.address, c.id
            );
            Ok(())
        }
        ContactCommand::List { .. } => {
            for c in store.contact_methods(user.id).await? {
                println!("{}  {}  {}", c.id, c.kind, c.address);
            }
            Ok(())
        }
    }
}
