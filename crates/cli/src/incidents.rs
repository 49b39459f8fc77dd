//! `opsdesk integration …`, `opsdesk service …`, `opsdesk maintenance …` and
//! `opsdesk incident …`: alert sources, services, maintenance windows and incidents.

use clap::Subcommand;
use jiff::Timestamp;
use opsdesk_server::app::incidents::{self as app, Directory};
use opsdesk_server::app::Ctx;
use opsdesk_server::app::Operator;
use opsdesk_server::wire::incidents::{
    DeclareIncidentIn, GenericMappingWire, IntegrationIn, IntegrationSettingsWire, MaintenanceIn,
    PatchIncidentIn, ServiceIn,
};
use opsdesk_store::{IncidentFilter, Store};

use crate::{print_rows, Failure, FormatArg};

/// Inbound alert integrations.
#[derive(Debug, Subcommand)]
pub enum IntegrationCommand {
    /// Create an integration and print its inbound URL (with its secret token, shown once).
    Create {
        /// `alertmanager`, `grafana`, `pagerduty` or `generic`.
        #[arg(long)]
        kind: String,
        /// Name.
        #[arg(long)]
        name: String,
        /// Default service for alerts that name none the desk knows.
        #[arg(long)]
        service: Option<String>,
        /// Team its incidents go to (else the service's team).
        #[arg(long)]
        team: Option<String>,
        /// Labels that form the group key (repeatable); default: the source's own grouping.
        #[arg(long = "group-by")]
        group_by: Vec<String>,
        /// Minutes in monitoring after the last alert resolves, before auto-resolving.
        #[arg(long)]
        quiet_minutes: Option<i64>,
        /// Requests per minute accepted (0: no limit).
        #[arg(long)]
        rate_limit: Option<i64>,
        /// Generic JSON: a field mapping as `title=/name` (repeatable; fields alerts,
        /// fingerprint, title, status, severity, labels, description, source_url).
        #[arg(long = "map")]
        mapping: Vec<String>,
        /// The address people's monitoring reaches opsdesk at (default: from --listen).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// List integrations.
    List(FormatArg),
    /// Give an integration a new token (the old one stops working) and print the new URL.
    Rotate {
        /// Name.
        #[arg(long)]
        name: String,
        /// The address people's monitoring reaches opsdesk at (default: from --listen).
        #[arg(long)]
        public_url: Option<String>,
    },
    /// Delete an integration that never received an alert.
    Delete {
        /// Name.
        #[arg(long)]
        name: String,
    },
}

/// Services.
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// Create a service, or change the one with this name.
    Save {
        /// Name (alerts name it in their `service` label).
        #[arg(long)]
        name: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// Owning team.
        #[arg(long)]
        team: Option<String>,
    },
    /// List services with their maintenance state and open incidents.
    List(FormatArg),
    /// Show a service on the public status page, or hide it.
    Public {
        /// Name.
        #[arg(long)]
        name: String,
        /// `true` to show, `false` to hide.
        #[arg(long)]
        shown: bool,
    },
}

/// Maintenance windows.
#[derive(Debug, Subcommand)]
pub enum MaintenanceCommand {
    /// Plan a window: alerts of its services are recorded but open no incident.
    Create {
        /// Title.
        #[arg(long)]
        title: String,
        /// Service (repeatable).
        #[arg(long = "service")]
        services: Vec<String>,
        /// First start, RFC 3339 (`2026-12-05T02:00:00+01:00`).
        #[arg(long)]
        starts: String,
        /// First end, RFC 3339.
        #[arg(long)]
        ends: String,
        /// IANA zone a recurrence keeps its local time in.
        #[arg(long, default_value = "UTC")]
        zone: String,
        /// `once`, `daily` or `weekly:sat`.
        #[arg(long, default_value = "once")]
        repeat: String,
        /// Last start of a recurring window, RFC 3339.
        #[arg(long)]
        until: Option<String>,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List windows with their next occurrences.
    List(FormatArg),
    /// Delete a window.
    Delete {
        /// Its id.
        #[arg(long)]
        id: i64,
    },
}

/// Incidents.
#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// List incidents (open ones unless `--status`).
    List {
        /// `open`, `resolved`, `all` or one status.
        #[arg(long, default_value = "open")]
        status: String,
        /// Output format.
        #[command(flatten)]
        format: FormatArg,
    },
    /// Show one incident with its timeline and alerts.
    Show {
        /// Incident number.
        id: i64,
    },
    /// Declare an incident by hand.
    Declare {
        /// Title.
        #[arg(long)]
        title: String,
        /// SEV1–SEV4.
        #[arg(long)]
        severity: String,
        /// Affected service (repeatable).
        #[arg(long = "service")]
        services: Vec<String>,
        /// Commander's e-mail.
        #[arg(long)]
        commander: Option<String>,
        /// A ticket to link.
        #[arg(long)]
        ticket: Option<i64>,
        /// What is known.
        #[arg(long, default_value = "")]
        summary: String,
    },
    /// Change an incident's status, severity or roles.
    Update {
        /// Incident number.
        id: i64,
        /// New status.
        #[arg(long)]
        status: Option<String>,
        /// New severity.
        #[arg(long)]
        severity: Option<String>,
        /// Commander's e-mail.
        #[arg(long)]
        commander: Option<String>,
        /// Comms lead's e-mail.
        #[arg(long)]
        comms: Option<String>,
    },
    /// Post a public update on the status page (publishes the incident).
    Publish {
        /// Incident number.
        id: i64,
        /// investigating, identified, monitoring or resolved.
        #[arg(long)]
        status: String,
        /// degraded, partial_outage, major_outage, under_maintenance or operational.
        #[arg(long)]
        impact: String,
        /// What visitors read.
        #[arg(long)]
        body: String,
        /// The title visitors see (first update).
        #[arg(long)]
        title: Option<String>,
    },
    /// Add a note to an incident's timeline.
    Note {
        /// Incident number.
        id: i64,
        /// The note.
        #[arg(long)]
        body: String,
    },
}

fn base_url(public: &Option<String>, listen: std::net::SocketAddr) -> String {
    public
        .as_deref()
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{listen}"))
}

async fn integration_named(store: &Store, name: &str) -> Result<i64, Failure> {
    store
        .integrations()
        .await?
        .into_iter()
        .find(|i| i.name.eq_ignore_ascii_case(name.trim()))
        .map(|i| i.id)
        .ok_or_else(|| Failure(format!("no integration named '{name}'")))
}

/// Runs an `integration` verb.
pub async fn integration(
    store: &Store,
    command: &IntegrationCommand,
    listen: std::net::SocketAddr,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        IntegrationCommand::Create {
            kind,
            name,
            service,
            team,
            group_by,
            quiet_minutes,
            rate_limit,
            mapping,
            public_url,
        } => {
            let mut map = GenericMappingWire::default();
            for entry in mapping {
                let (field, pointer) = entry
                    .split_once('=')
                    .ok_or_else(|| Failure(format!("--map '{entry}' is not field=/pointer")))?;
                let slot = match field.trim() {
                    "alerts" => &mut map.alerts,
                    "fingerprint" => &mut map.fingerprint,
                    "title" => &mut map.title,
                    "status" => &mut map.status,
                    "severity" => &mut map.severity,
                    "labels" => &mut map.labels,
                    "description" => &mut map.description,
                    "source_url" => &mut map.source_url,
                    other => {
                        return Err(Failure(format!("--map: '{other}' is not a mapped field")))
                    }
                };
                *slot = pointer.trim().to_owned();
            }
            let input = IntegrationIn {
                name: name.clone(),
                kind: kind.clone(),
                service: service.clone(),
                team: team.clone(),
                settings: IntegrationSettingsWire {
                    group_by: (!group_by.is_empty()).then(|| group_by.clone()),
                    quiet_minutes: *quiet_minutes,
                    rate_limit_per_minute: *rate_limit,
                    mapping: (!mapping.is_empty()).then_some(map),
                    ..IntegrationSettingsWire::default()
                },
            };
            let (created, token) =
                app::create_integration(&Ctx::new(store, Operator::Console, now), &input).await?;
            println!(
                "created {} integration {} (id {})",
                created.kind.as_str(),
                created.name,
                created.id
            );
            println!(
                "inbound URL: {}{}",
                base_url(public_url, listen),
                app::hook_path(created.kind, &token)
            );
            println!("the token is shown only now; it can also be sent as 'Authorization: Bearer <token>'");
            Ok(())
        }
        IntegrationCommand::List(f) => {
            let dir = Directory::load(store).await?;
            let rows: Vec<_> = dir
                .integrations
                .iter()
                .map(|i| dir.integration_out(i))
                .collect();
            print_rows(
                f.format,
                &rows,
                &[
                    "id",
                    "name",
                    "kind",
                    "service",
                    "alerts",
                    "last alert",
                    "endpoint",
                ],
                |i| {
                    vec![
                        i.id.to_string(),
                        i.name.clone(),
                        i.kind.clone(),
                        i.service.clone().unwrap_or_default(),
                        i.alert_count.to_string(),
                        i.last_alert_at.clone().unwrap_or_default(),
                        i.endpoint.clone(),
                    ]
                },
            )
        }
        IntegrationCommand::Rotate { name, public_url } => {
            let id = integration_named(store, name).await?;
            let (integration, token) =
                app::rotate_integration(&Ctx::new(store, Operator::Console, now), id).await?;
            println!(
                "new inbound URL: {}{}",
                base_url(public_url, listen),
                app::hook_path(integration.kind, &token)
            );
            Ok(())
        }
        IntegrationCommand::Delete { name } => {
            let id = integration_named(store, name).await?;
            app::delete_integration(&Ctx::new(store, Operator::Console, now), id).await?;
            println!("deleted integration {name}");
            Ok(())
        }
    }
}

/// Runs a `service` verb.
pub async fn service(
    store: &Store,
    command: &ServiceCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        ServiceCommand::Save {
            name,
            description,
            team,
        } => {
            let existing = store
                .services()
                .await?
                .into_iter()
                .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
                .map(|s| s.id);
            let input = ServiceIn {
                name: name.clone(),
                description: description.clone(),
                team: team.clone(),
            };
            let saved =
                app::save_service(&Ctx::new(store, Operator::Console, now), existing, &input)
                    .await?;
            println!("saved service {} (id {})", saved.name, saved.id);
            Ok(())
        }
        ServiceCommand::Public { name, shown } => {
            let id = store
                .services()
                .await?
                .into_iter()
                .find(|s| s.name.eq_ignore_ascii_case(name.trim()))
                .map(|s| s.id)
                .ok_or_else(|| Failure(format!("no service named '{name}'")))?;
            opsdesk_server::app::status::set_public(
                &Ctx::new(store, Operator::Console, now),
                id,
                *shown,
            )
            .await?;
            println!(
                "{name} is {} the status page",
                if *shown { "on" } else { "off" }
            );
            Ok(())
        }
        ServiceCommand::List(f) => {
            let rows = app::services(&Ctx::new(store, Operator::Console, now)).await?;
            print_rows(
                f.format,
                &rows,
                &[
                    "id",
                    "name",
                    "team",
                    "maintenance",
                    "open incidents",
                    "description",
                ],
                |s| {
                    vec![
                        s.id.to_string(),
                        s.name.clone(),
                        s.team.clone().unwrap_or_default(),
                        if s.in_maintenance { "now" } else { "" }.to_owned(),
                        s.open_incidents.to_string(),
                        s.description.clone(),
                    ]
                },
            )
        }
    }
}

/// Runs a `maintenance` verb.
pub async fn maintenance(
    store: &Store,
    command: &MaintenanceCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        MaintenanceCommand::Create {
            title,
            services,
            starts,
            ends,
            zone,
            repeat,
            until,
            description,
        } => {
            let input = MaintenanceIn {
                title: title.clone(),
                description: description.clone(),
                starts_at: starts.clone(),
                ends_at: ends.clone(),
                zone: Some(zone.clone()),
                recurrence: Some(repeat.clone()),
                until: until.clone(),
                services: services.clone(),
            };
            let created =
                app::create_maintenance(&Ctx::new(store, Operator::Console, now), &input).await?;
            let dir = Directory::load(store).await?;
            let out = dir.maintenance(&created, now);
            println!("planned maintenance window {} (id {})", out.title, out.id);
            for o in out.next {
                println!("  {} → {}", o.starts_at, o.ends_at);
            }
            Ok(())
        }
        MaintenanceCommand::List(f) => {
            let dir = Directory::load(store).await?;
            let rows: Vec<_> = store
                .maintenance_windows()
                .await?
                .iter()
                .map(|m| dir.maintenance(m, now))
                .collect();
            print_rows(
                f.format,
                &rows,
                &[
                    "id",
                    "title",
                    "services",
                    "repeats",
                    "zone",
                    "active",
                    "next start",
                ],
                |m| {
                    vec![
                        m.id.to_string(),
                        m.title.clone(),
                        m.services.join(", "),
                        m.recurrence.clone(),
                        m.zone.clone(),
                        if m.active { "now" } else { "" }.to_owned(),
                        m.next
                            .first()
                            .map(|o| o.starts_at.clone())
                            .unwrap_or_default(),
                    ]
                },
            )
        }
        MaintenanceCommand::Delete { id } => {
            app::delete_maintenance(&Ctx::new(store, Operator::Console, now), *id).await?;
            println!("deleted maintenance window {id}");
            Ok(())
        }
    }
}

/// Runs an `incident` verb.
pub async fn incident(
    store: &Store,
    command: &IncidentCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        IncidentCommand::List { status, format } => {
            let dir = Directory::load(store).await?;
            let query = opsdesk_server::wire::incidents::IncidentQuery {
                status: Some(status.clone()),
                limit: Some(200),
                ..Default::default()
            };
            let filter: IncidentFilter =
                opsdesk_server::app::incidents::incident_filter(&query, &dir)?;
            let rows: Vec<_> = store
                .incidents(&filter)
                .await?
                .iter()
                .map(|i| dir.incident(i, None))
                .collect();
            print_rows(
                format.format,
                &rows,
                &[
                    "id",
                    "sev",
                    "status",
                    "title",
                    "services",
                    "firing",
                    "commander",
                    "detected",
                ],
                |i| {
                    vec![
                        i.id.to_string(),
                        i.severity.clone(),
                        i.status.clone(),
                        i.title.clone(),
                        i.services.join(", "),
                        format!("{}/{}", i.firing_count, i.alert_count),
                        i.commander
                            .as_ref()
                            .map(|c| c.email.clone())
                            .unwrap_or_default(),
                        i.detected_at.clone(),
                    ]
                },
            )
        }
        IncidentCommand::Show { id } => {
            let dir = Directory::load(store).await?;
            let incident = store.incident(*id).await?;
            let tickets = store.incident_ticket_ids(*id).await?;
            let out = dir.incident(&incident, Some(tickets));
            println!(
                "#{} {} [{} · {}]",
                out.id, out.title, out.severity, out.status
            );
            println!("services: {}", out.services.join(", "));
            println!("detected: {}", out.detected_at);
            for (label, at) in [
                ("acknowledged", &out.acknowledged_at),
                ("mitigated", &out.mitigated_at),
                ("resolved", &out.resolved_at),
                ("auto-resolves", &out.auto_resolve_at),
            ] {
                if let Some(at) = at {
                    println!("{label}: {at}");
                }
            }
            if let Some(c) = &out.commander {
                println!("commander: {} <{}>", c.name, c.email);
            }
            if let Some(c) = &out.comms {
                println!("comms: {} <{}>", c.name, c.email);
            }
            if let Some(t) = &out.tickets {
                if !t.is_empty() {
                    let list: Vec<String> = t.iter().map(|t| format!("#{t}")).collect();
                    println!("tickets: {}", list.join(", "));
                }
            }
            println!("\ntimeline:");
            for e in store.events_of("incident", *id, true).await? {
                let who = e.actor.map_or_else(|| "opsdesk".to_owned(), |a| a.email);
                println!("  {} {who} {} {}", e.at, e.kind, e.data);
            }
            println!(
                "\nalerts ({} firing of {}):",
                out.firing_count, out.alert_count
            );
            for a in store.incident_alerts(*id, 50).await? {
                println!(
                    "  {} {} {} ({}×)",
                    if a.firing { "firing  " } else { "resolved" },
                    a.severity.as_str(),
                    a.summary,
                    a.receipts
                );
            }
            Ok(())
        }
        IncidentCommand::Declare {
            title,
            severity,
            services,
            commander,
            ticket,
            summary,
        } => {
            let input = DeclareIncidentIn {
                title: title.clone(),
                severity: severity.clone(),
                services: services.clone(),
                team: None,
                summary: summary.clone(),
                commander: commander.clone(),
                ticket: *ticket,
            };
            let created = app::declare(&Ctx::new(store, Operator::Console, now), &input).await?;
            println!(
                "declared incident #{} ({})",
                created.id,
                created.severity.as_str()
            );
            Ok(())
        }
        IncidentCommand::Update {
            id,
            status,
            severity,
            commander,
            comms,
        } => {
            let input = PatchIncidentIn {
                status: status.clone(),
                severity: severity.clone(),
                commander: commander.clone().map(Some),
                comms: comms.clone().map(Some),
                ..PatchIncidentIn::default()
            };
            let changed = app::patch(&Ctx::new(store, Operator::Console, now), *id, &input).await?;
            println!(
                "incident #{} is {} ({})",
                changed.id,
                changed.status.as_str(),
                changed.severity.as_str()
            );
            Ok(())
        }
        IncidentCommand::Publish {
            id,
            status,
            impact,
            body,
            title,
        } => {
            let input = opsdesk_server::wire::incidents::StatusUpdateIn {
                status: status.clone(),
                impact: impact.clone(),
                body: body.clone(),
                title: title.clone(),
            };
            opsdesk_server::app::status::post_update(
                &Ctx::new(store, Operator::Console, now),
                *id,
                &input,
            )
            .await?;
            println!("published an update on incident #{id}");
            Ok(())
        }
        IncidentCommand::Note { id, body } => {
            app::note(&Ctx::new(store, Operator::Console, now), *id, body).await?;
            println!("noted on incident #{id}");
            Ok(())
        }
    }
}
