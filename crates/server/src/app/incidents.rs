//! Incident actions: integrations, services, maintenance windows, declaring and working
//! incidents. Called by the API, the UI and the CLI alike; each authorizes and validates once.

use jiff::Timestamp;
use opsdesk_domain::incident::{MaintenanceWindow, Recurrence};
use opsdesk_domain::{Action, IncidentStatus, Name, Severity};
use opsdesk_store::{
    AlertRecord, Event, GenericMapping, Incident, IncidentChanges, Integration, IntegrationInput,
    IntegrationKind, IntegrationSettings, MaintenanceInput, MaintenanceRecord, NewIncident,
    Service, Store, Team,
};

use super::{Ctx, Operator, DEFAULT_PAGE, MAX_PAGE};
use crate::auth;
use crate::error::{ApiError, Checks, Code};
use crate::wire::desk::{rfc3339, PersonOut};
use crate::wire::incidents::{
    AlertOut, DeclareIncidentIn, GenericMappingWire, IncidentOut, IntegrationIn, IntegrationOut,
    IntegrationSettingsWire, MaintenanceIn, MaintenanceOut, OccurrenceOut, PatchIncidentIn,
    ServiceIn, ServiceOut,
};

/// Longest title of an incident or window.
const MAX_TITLE: usize = 200;
/// Longest summary, note or description.
const MAX_TEXT: usize = 20_000;

/// Names of services and teams, for turning ids into wire names.
pub struct Directory {
    /// Every service.
    pub services: Vec<Service>,
    /// Every team.
    pub teams: Vec<Team>,
    /// Every integration.
    pub integrations: Vec<Integration>,
}

impl Directory {
    /// Loads the names.
    pub async fn load(store: &Store) -> Result<Self, ApiError> {
        Ok(Self {
            services: store.services().await?,
            teams: store.teams().await?,
            integrations: store.integrations().await?,
        })
    }

    /// A service's name.
    pub fn service(&self, id: i64) -> String {
        self.services
            .iter()
            .find(|s| s.id == id)
            .map_or_else(|| format!("service {id}"), |s| s.name.clone())
    }

    /// A team's name.
    pub fn team(&self, id: i64) -> String {
        self.teams
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("team {id}"), |t| t.name.clone())
    }

    /// An integration's name.
    pub fn integration(&self, id: i64) -> String {
        self.integrations
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("integration {id}"), |t| t.name.clone())
    }

    /// Service ids for names, each unknown one a field error.
    fn service_ids(&self, field: &str, names: &[String], checks: &mut Checks) -> Vec<i64> {
        let mut ids = Vec::new();
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            match self
                .services
                .iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
            {
                Some(s) if !ids.contains(&s.id) => ids.push(s.id),
                Some(_) => {}
                None => checks.fail(field, format!("no service named '{name}'")),
            }
        }
        ids
    }

    fn team_id(&self, field: &str, name: Option<&str>, checks: &mut Checks) -> Option<i64> {
        let name = name.map(str::trim).filter(|n| !n.is_empty())?;
        match self
            .teams
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
        {
            Some(t) => Some(t.id),
            None => {
                checks.fail(field, format!("no team named '{name}'"));
                None
            }
        }
    }

    /// The wire form of an incident.
    pub fn incident(&self, i: &Incident, tickets: Option<Vec<i64>>) -> IncidentOut {
        IncidentOut {
            id: i.id,
            title: i.title.clone(),
            severity: i.severity.as_str().to_owned(),
            status: i.status.as_str().to_owned(),
            services: i.service_ids.iter().map(|s| self.service(*s)).collect(),
            team: i.team_id.map(|t| self.team(t)),
            integration: i.integration_id.map(|t| self.integration(t)),
            group_key: i.group_key.clone(),
            commander: i.commander.as_ref().map(PersonOut::from),
            comms: i.comms.as_ref().map(PersonOut::from),
            summary: i.summary.clone(),
            detected_at: rfc3339(i.milestones.detected),
            acknowledged_at: i.milestones.acknowledged.map(rfc3339),
            mitigated_at: i.milestones.mitigated.map(rfc3339),
            resolved_at: i.milestones.resolved.map(rfc3339),
            auto_resolve_at: i.auto_resolve_at.map(rfc3339),
            alert_count: i.alert_count,
            firing_count: i.firing_count,
            tickets,
            updated_at: rfc3339(i.updated_at),
        }
    }

    /// The wire form of an alert.
    pub fn alert(&self, a: &AlertRecord) -> AlertOut {
        AlertOut {
            id: a.id,
            fingerprint: a.fingerprint.clone(),
            status: if a.firing { "firing" } else { "resolved" }.to_owned(),
            incident: a.incident_id,
            service: a.service_id.map(|s| self.service(s)),
            severity: a.severity.as_str().to_owned(),
            summary: a.summary.clone(),
            group_key: a.group_key.clone(),
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            source_url: a.source_url.clone(),
            starts_at: rfc3339(a.starts_at),
            ends_at: a.ends_at.map(rfc3339),
            first_seen: rfc3339(a.first_seen),
            last_seen: rfc3339(a.last_seen),
            receipts: a.receipts,
            suppressed_by: a.suppressed_by,
        }
    }

    /// The wire form of an integration.
    pub fn integration_out(&self, i: &Integration) -> IntegrationOut {
        IntegrationOut {
            id: i.id,
            name: i.name.clone(),
            kind: i.kind.as_str().to_owned(),
            service: i.service_id.map(|s| self.service(s)),
            team: i.team_id.map(|t| self.team(t)),
            settings: settings_wire(&i.settings),
            alert_count: i.alert_count,
            last_alert_at: i.last_alert_at.map(rfc3339),
            created_at: rfc3339(i.created_at),
            endpoint: format!("/hooks/{}/<token>", i.kind.as_str()),
        }
    }

    /// The wire form of a maintenance window at `now`.
    pub fn maintenance(&self, m: &MaintenanceRecord, now: Timestamp) -> MaintenanceOut {
        MaintenanceOut {
            id: m.id,
            title: m.title.clone(),
            description: m.description.clone(),
            starts_at: rfc3339(m.starts_at),
            ends_at: rfc3339(m.ends_at),
            zone: m.zone.clone(),
            recurrence: m.recurrence.as_text(),
            until: m.until.map(rfc3339),
            services: m.service_ids.iter().map(|s| self.service(*s)).collect(),
            active: m.window.active_at(now).is_some(),
            next: m
                .window
                .upcoming(now, 3)
                .into_iter()
                .map(|(s, e)| OccurrenceOut {
                    starts_at: rfc3339(s),
                    ends_at: rfc3339(e),
                })
                .collect(),
        }
    }
}

/// The wire form of integration settings (every field present).
pub fn settings_wire(s: &IntegrationSettings) -> IntegrationSettingsWire {
    let m = &s.mapping;
    IntegrationSettingsWire {
        severity_label: Some(s.severity_label.clone()),
        severity_map: Some(s.severity_map.clone()),
        default_severity: Some(s.default_severity.clone()),
        group_by: Some(s.group_by.clone()),
        service_label: Some(s.service_label.clone()),
        quiet_minutes: Some(s.quiet_minutes),
        rate_limit_per_minute: Some(s.rate_limit_per_minute),
        mapping: Some(GenericMappingWire {
            alerts: m.alerts.clone(),
            fingerprint: m.fingerprint.clone(),
            title: m.title.clone(),
            status: m.status.clone(),
            resolved_values: m.resolved_values.clone(),
            severity: m.severity.clone(),
            labels: m.labels.clone(),
            description: m.description.clone(),
            source_url: m.source_url.clone(),
        }),
    }
}

/// Settings from the wire over `base`; absent fields keep `base`'s values.
fn settings_from(
    base: IntegrationSettings,
    w: &IntegrationSettingsWire,
    checks: &mut Checks,
) -> IntegrationSettings {
    let mut s = base;
    let label = |v: &Option<String>, current: &mut String| {
        if let Some(v) = v.as_ref().map(|v| v.trim()).filter(|v| !v.is_empty()) {
            *current = v.to_owned();
        }
    };
    label(&w.severity_label, &mut s.severity_label);
    label(&w.service_label, &mut s.service_label);
    if let Some(map) = &w.severity_map {
        s.severity_map = map.clone();
    }
    if let Some(d) = &w.default_severity {
        match Severity::parse("settings.default_severity", d) {
            Ok(sev) => s.default_severity = sev.as_str().to_owned(),
            Err(e) => checks.fail(e.field, e.reason),
        }
    }
    if let Some(g) = &w.group_by {
        s.group_by = g
            .iter()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect();
    }
    if let Some(q) = w.quiet_minutes {
        s.quiet_minutes = q;
    }
    if let Some(r) = w.rate_limit_per_minute {
        s.rate_limit_per_minute = r;
    }
    if let Some(m) = &w.mapping {
        s.mapping = GenericMapping {
            alerts: m.alerts.trim().to_owned(),
            fingerprint: m.fingerprint.trim().to_owned(),
            title: m.title.trim().to_owned(),
            status: m.status.trim().to_owned(),
            resolved_values: m.resolved_values.clone(),
            severity: m.severity.trim().to_owned(),
            labels: m.labels.trim().to_owned(),
            description: m.description.trim().to_owned(),
            source_url: m.source_url.trim().to_owned(),
        };
    }
    if let Err(e) = s.validate() {
        checks.fail(&format!("settings.{}", e.field), e.reason);
    }
    s
}

async fn integration_input(
    store: &Store,
    input: &IntegrationIn,
    base: IntegrationSettings,
) -> Result<IntegrationInput, ApiError> {
    let dir = Directory::load(store).await?;
    let mut checks = Checks::default();
    let name = checks.check(Name::parse("name", &input.name));
    let kind = checks.check(IntegrationKind::parse("kind", &input.kind));
    let service_id = input
        .service
        .as_deref()
        .map(|s| dir.service_ids("service", &[s.to_owned()], &mut checks))
        .and_then(|ids| ids.first().copied());
    let team_id = dir.team_id("team", input.team.as_deref(), &mut checks);
    let settings = settings_from(base, &input.settings, &mut checks);
    checks.finish()?;
    match (name, kind) {
        (Some(name), Some(kind)) => Ok(IntegrationInput {
            name,
            kind,
            service_id,
            team_id,
            settings,
        }),
        _ => Err(ApiError::new(Code::InvalidInput, "invalid integration")),
    }
}

/// The inbound path of an integration with its token in it.
pub fn hook_path(kind: IntegrationKind, token: &str) -> String {
    format!("/hooks/{}/{token}", kind.as_str())
}

/// Creates an integration; answers it with its token, shown this once.
pub async fn create_integration(
    ctx: &Ctx<'_>,
    input: &IntegrationIn,
) -> Result<(Integration, String), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::Administer)?;
    let input = integration_input(store, input, IntegrationSettings::default()).await?;
    let token = auth::new_secret();
    let created = store
        .create_integration(&input, &auth::secret_hash(&token), actor, now)
        .await?;
    Ok((created, token))
}

/// Changes an integration's name, service, team and settings.
pub async fn update_integration(
    ctx: &Ctx<'_>,
    id: i64,
    input: &IntegrationIn,
) -> Result<Integration, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::Administer)?;
    let current = store.integration(id).await?;
    let parsed = integration_input(store, input, current.settings.clone()).await?;
    if parsed.kind != current.kind {
        return Err(ApiError::field(
            Code::InvalidInput,
            "kind",
            "an integration's kind cannot change; create another integration",
        ));
    }
    Ok(store.update_integration(id, &parsed, actor, now).await?)
}

/// Gives an integration a new token; the old one stops working.
pub async fn rotate_integration(ctx: &Ctx<'_>, id: i64) -> Result<(Integration, String), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::Administer)?;
    let token = auth::new_secret();
    store
        .rotate_integration_token(id, &auth::secret_hash(&token), actor, now)
        .await?;
    Ok((store.integration(id).await?, token))
}

/// Deletes an integration that never received an alert.
pub async fn delete_integration(ctx: &Ctx<'_>, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::Administer)?;
    Ok(store.delete_integration(id, actor, now).await?)
}

/// Lists integrations (administrators: they hold the routing of alerts).
pub async fn integrations(store: &Store, by: Operator<'_>) -> Result<Vec<Integration>, ApiError> {
    by.authorize_to(Action::Administer)?;
    Ok(store.integrations().await?)
}

/// Creates (`id` = `None`) or changes a service.
pub async fn save_service(
    ctx: &Ctx<'_>,
    id: Option<i64>,
    input: &ServiceIn,
) -> Result<Service, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    let dir = Directory::load(store).await?;
    let mut checks = Checks::default();
    let name = checks.check(Name::parse("name", &input.name));
    if input.description.len() > MAX_TEXT {
        checks.fail("description", format!("at most {MAX_TEXT} characters"));
    }
    let team = dir.team_id("team", input.team.as_deref(), &mut checks);
    checks.finish()?;
    let name = name.ok_or_else(|| ApiError::new(Code::InvalidInput, "invalid service"))?;
    Ok(store
        .save_service(id, &name, input.description.trim(), team, actor, now)
        .await?)
}

/// Services with their maintenance state and open incident counts.
pub async fn services(ctx: &Ctx<'_>) -> Result<Vec<ServiceOut>, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    by.authorize_to(Action::ReadIncidents)?;
    let dir = Directory::load(store).await?;
    let windows = store.maintenance_windows().await?;
    let public = store.public_service_ids().await?;
    let open = store
        .incidents(&opsdesk_store::IncidentFilter {
            open: Some(true),
            limit: 500,
            ..Default::default()
        })
        .await?;
    Ok(dir
        .services
        .iter()
        .map(|s| ServiceOut {
            id: s.id,
            name: s.name.clone(),
            description: s.description.clone(),
            team: s.team_id.map(|t| dir.team(t)),
            in_maintenance: windows
                .iter()
                .any(|w| w.service_ids.contains(&s.id) && w.window.active_at(now).is_some()),
            open_incidents: open
                .iter()
                .filter(|i| i.service_ids.contains(&s.id))
                .count() as i64,
            public: public.contains(&s.id),
        })
        .collect())
}

fn instant(field: &'static str, raw: &str, checks: &mut Checks) -> Option<Timestamp> {
    let raw = raw.trim();
    match raw.parse::<Timestamp>() {
        Ok(t) => Some(t),
        Err(_) => {
            checks.fail(
                field,
                format!("'{raw}' is not an RFC 3339 instant like 2026-12-01T22:00:00Z"),
            );
            None
        }
    }
}

/// Creates a maintenance window.
pub async fn create_maintenance(
    ctx: &Ctx<'_>,
    input: &MaintenanceIn,
) -> Result<MaintenanceRecord, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    let dir = Directory::load(store).await?;
    let mut checks = Checks::default();
    let title = checks.check(Name::parse("title", &input.title));
    if input.description.len() > MAX_TEXT {
        checks.fail("description", format!("at most {MAX_TEXT} characters"));
    }
    let starts = instant("starts_at", &input.starts_at, &mut checks);
    let ends = instant("ends_at", &input.ends_at, &mut checks);
    let until = input
        .until
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .and_then(|u| instant("until", u, &mut checks));
    let zone_name = input
        .zone
        .as_deref()
        .map(str::trim)
        .filter(|z| !z.is_empty())
        .unwrap_or("UTC");
    let zone = checks.check(opsdesk_domain::calendar::parse_zone("zone", zone_name));
    let recurrence = checks.check(Recurrence::parse(
        "recurrence",
        input.recurrence.as_deref().unwrap_or("once"),
    ));
    let service_ids = dir.service_ids("services", &input.services, &mut checks);
    if input.services.iter().all(|s| s.trim().is_empty()) {
        checks.fail("services", "name at least one service");
    }
    let window = match (starts, ends, zone, recurrence.clone()) {
        (Some(s), Some(e), Some(z), Some(r)) => {
            checks.check(MaintenanceWindow::new(s, e, z, r, until))
        }
        _ => None,
    };
    checks.finish()?;
    let (Some(title), Some(window), Some(starts_at), Some(ends_at), Some(recurrence)) =
        (title, window, starts, ends, recurrence)
    else {
        return Err(ApiError::new(
            Code::InvalidInput,
            "invalid maintenance window",
        ));
    };
    let input = MaintenanceInput {
        title,
        description: input.description.trim().to_owned(),
        window,
        starts_at,
        ends_at,
        zone: zone_name.to_owned(),
        recurrence,
        until,
        service_ids,
    };
    Ok(store.create_maintenance(&input, actor, now).await?)
}

/// Deletes a maintenance window.
pub async fn delete_maintenance(ctx: &Ctx<'_>, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    Ok(store.delete_maintenance(id, actor, now).await?)
}

/// A user's id from an e-mail address or `me`.
async fn person(
    store: &Store,
    field: &str,
    raw: &str,
    me: Option<i64>,
    checks: &mut Checks,
) -> Result<Option<i64>, ApiError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    super::staff_member(store, field, raw, me, checks).await
}

fn title_text(field: &'static str, raw: &str, checks: &mut Checks) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() {
        checks.fail(field, "must not be empty");
        None
    } else if t.chars().count() > MAX_TITLE {
        checks.fail(field, format!("at most {MAX_TITLE} characters"));
        None
    } else {
        Some(t.to_owned())
    }
}

/// Declares an incident by hand, optionally from a ticket.
pub async fn declare(ctx: &Ctx<'_>, input: &DeclareIncidentIn) -> Result<Incident, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    let dir = Directory::load(store).await?;
    let mut checks = Checks::default();
    let title = title_text("title", &input.title, &mut checks);
    let severity = checks.check(Severity::parse("severity", &input.severity));
    let service_ids = dir.service_ids("services", &input.services, &mut checks);
    let team_id = dir
        .team_id("team", input.team.as_deref(), &mut checks)
        .or_else(|| {
            service_ids
                .first()
                .and_then(|s| dir.services.iter().find(|x| x.id == *s))
                .and_then(|s| s.team_id)
        });
    if input.summary.len() > MAX_TEXT {
        checks.fail("summary", format!("at most {MAX_TEXT} characters"));
    }
    let commander = person(
        store,
        "commander",
        input.commander.as_deref().unwrap_or(""),
        actor,
        &mut checks,
    )
    .await?;
    if let Some(t) = input.ticket {
        if store.ticket(t).await.is_err() {
            checks.fail("ticket", format!("no ticket #{t}"));
        }
    }
    checks.finish()?;
    let (Some(title), Some(severity)) = (title, severity) else {
        return Err(ApiError::new(Code::InvalidInput, "invalid incident"));
    };
    Ok(store
        .declare_incident(
            &NewIncident {
                title,
                severity,
                service_ids,
                team_id,
                summary: input.summary.trim().to_owned(),
                commander_id: commander,
                ticket_id: input.ticket,
            },
            actor,
            now,
        )
        .await?)
}

/// Changes an incident (status, severity, roles, services, text).
pub async fn patch(ctx: &Ctx<'_>, id: i64, input: &PatchIncidentIn) -> Result<Incident, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    let current = store.incident(id).await?;
    let dir = Directory::load(store).await?;
    let mut checks = Checks::default();
    let mut changes = IncidentChanges {
        title: input
            .title
            .as_deref()
            .and_then(|t| title_text("title", t, &mut checks)),
        severity: input
            .severity
            .as_deref()
            .and_then(|s| checks.check(Severity::parse("severity", s))),
        status: input
            .status
            .as_deref()
            .and_then(|s| checks.check(IncidentStatus::parse("status", s))),
        summary: input.summary.as_ref().map(|s| s.trim().to_owned()),
        service_ids: input
            .services
            .as_ref()
            .map(|names| dir.service_ids("services", names, &mut checks)),
        ..IncidentChanges::default()
    };
    if let Some(to) = changes.status {
        if let Err(e) = current.status.move_to(to) {
            checks.fail(e.field, e.reason);
        }
    }
    if changes.summary.as_ref().is_some_and(|s| s.len() > MAX_TEXT) {
        checks.fail("summary", format!("at most {MAX_TEXT} characters"));
    }
    for (field, value, slot) in [
        ("commander", &input.commander, &mut changes.commander_id),
        ("comms", &input.comms, &mut changes.comms_id),
    ] {
        if let Some(v) = value {
            *slot =
                Some(person(store, field, v.as_deref().unwrap_or(""), actor, &mut checks).await?);
        }
    }
    checks.finish()?;
    Ok(store.change_incident(id, &changes, actor, now).await?)
}

/// Adds a note to an incident's timeline.
pub async fn note(ctx: &Ctx<'_>, id: i64, body: &str) -> Result<i64, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    let body = body.trim();
    if body.is_empty() {
        return Err(ApiError::field(
            Code::InvalidInput,
            "body",
            "must not be empty",
        ));
    }
    if body.len() > MAX_TEXT {
        return Err(ApiError::field(
            Code::InvalidInput,
            "body",
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    Ok(store.incident_note(id, body, actor, now).await?)
}

/// Links a ticket to an incident.
pub async fn link_ticket(ctx: &Ctx<'_>, id: i64, ticket: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    Ok(store.link_incident_ticket(id, ticket, actor, now).await?)
}

/// Unlinks a ticket from an incident.
pub async fn unlink_ticket(ctx: &Ctx<'_>, id: i64, ticket: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    Ok(store.unlink_incident_ticket(id, ticket, actor, now).await?)
}

/// The integration whose secret token hashes to `hash`, if any: the token is an inbound
/// sender's only authority.
pub async fn integration_by_token(
    store: &Store,
    hash: &str,
) -> Result<Option<Integration>, ApiError> {
    Ok(store.integration_by_token(hash).await?)
}

/// Ingests one inbound request's alerts for `integration` (the token that named it is the
/// sender's authority); answers once they are committed.
pub async fn ingest_alerts(
    store: &Store,
    integration: &Integration,
    alerts: Vec<opsdesk_store::AlertInput>,
    now: Timestamp,
) -> Result<opsdesk_store::IngestOutcome, ApiError> {
    Ok(store.ingest_alerts(integration, alerts, now).await?)
}

/// A PagerDuty `acknowledge`: the incident holding the alert moves to acknowledged (when it
/// was only triggered). An unknown dedup key is refused so the sender learns of it.
pub async fn acknowledge_alert(
    store: &Store,
    integration: &Integration,
    fingerprint: &str,
    now: Timestamp,
) -> Result<(), ApiError> {
    let alert = store
        .alert_by_fingerprint(integration.id, fingerprint)
        .await?
        .ok_or_else(|| {
            ApiError::field(
                Code::InvalidInput,
                "dedup_key",
                format!("no alert with dedup_key '{fingerprint}'"),
            )
        })?;
    let Some(incident) = alert.incident_id else {
        return Ok(());
    };
    let current = store.incident(incident).await?;
    if current.status == IncidentStatus::Triggered {
        store
            .change_incident(
                incident,
                &IncidentChanges {
                    status: Some(IncidentStatus::Acknowledged),
                    ..IncidentChanges::default()
                },
                None,
                now,
            )
            .await?;
    }
    Ok(())
}

/// One linked ticket a reply-to-all could not reach, and why.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ReplyFailure {
    /// The ticket.
    pub ticket: i64,
    /// Why.
    pub reason: String,
}

/// Replies publicly, as `actor`, on every customer ticket linked to the incident; each reply
/// is the ticket's own message (committed one by one). Answers the tickets replied to and those
/// that refused, and records both on the incident's timeline.
pub async fn reply_to_linked(
    store: &Store,
    actor: &opsdesk_domain::Actor,
    incident: i64,
    body: &str,
    now: Timestamp,
) -> Result<(Vec<i64>, Vec<ReplyFailure>), ApiError> {
    actor.authorize(Action::RespondToIncident)?;
    store.incident(incident).await?;
    if body.trim().is_empty() {
        return Err(ApiError::field(
            Code::InvalidInput,
            "body",
            "must not be empty",
        ));
    }
    let tickets = store.incident_ticket_ids(incident).await?;
    if tickets.is_empty() {
        return Err(ApiError::field(
            Code::InvalidInput,
            "body",
            "no customer tickets are linked to this incident",
        ));
    }
    let input = crate::wire::desk::CreateMessageIn {
        body: body.to_owned(),
        internal: false,
    };
    let mut replied = Vec::new();
    let mut failed = Vec::new();
    for ticket in tickets {
        let ctx = Ctx::new(store, Operator::User(actor), now);
        match super::add_message(&ctx, ticket, &input).await {
            Ok(_) => replied.push(ticket),
            Err(e) => failed.push(ReplyFailure {
                ticket,
                reason: e.detail,
            }),
        }
    }
    store
        .incident_replied(incident, &replied, failed.len(), Some(actor.user_id), now)
        .await?;
    Ok((replied, failed))
}

/// Reads the list filters, naming each bad one.
pub fn incident_filter(
    q: &crate::wire::incidents::IncidentQuery,
    dir: &Directory,
) -> Result<opsdesk_store::IncidentFilter, ApiError> {
    let mut checks = Checks::default();
    let mut filter = opsdesk_store::IncidentFilter {
        limit: q.limit.unwrap_or(DEFAULT_PAGE),
        ..opsdesk_store::IncidentFilter::default()
    };
    if !(1..=MAX_PAGE).contains(&filter.limit) {
        checks.fail("limit", format!("must be between 1 and {MAX_PAGE}"));
    }
    match q.status.as_deref().map(str::trim).unwrap_or("open") {
        "" | "open" => filter.open = Some(true),
        "all" => {}
        s => filter.status = checks.check(IncidentStatus::parse("status", s)),
    }
    if let Some(s) = q.severity.as_deref().filter(|s| !s.trim().is_empty()) {
        filter.severity = checks.check(Severity::parse("severity", s));
    }
    if let Some(name) = q
        .service
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match dir
            .services
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
        {
            Some(s) => filter.service_id = Some(s.id),
            None => checks.fail("service", format!("no service named '{name}'")),
        }
    }
    if let Some(c) = q.cursor.as_deref().filter(|c| !c.is_empty()) {
        match c.parse::<i64>() {
            Ok(id) if id > 0 => filter.before = Some(id),
            _ => checks.fail("cursor", "not a cursor this API gave"),
        }
    }
    checks.finish()?;
    Ok(filter)
}

/// One page of incidents matching `q`, and the cursor of the next (staff).
pub async fn incidents(
    ctx: &Ctx<'_>,
    q: &crate::wire::incidents::IncidentQuery,
    dir: &Directory,
) -> Result<(Vec<Incident>, Option<String>), ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let filter = incident_filter(q, dir)?;
    let items = ctx.store.incidents(&filter).await?;
    let next_cursor = (items.len() as i64 == filter.limit)
        .then(|| items.last().map(|i| i.id.to_string()))
        .flatten();
    Ok((items, next_cursor))
}

/// One incident and the ids of its linked tickets (staff).
pub async fn incident(ctx: &Ctx<'_>, id: i64) -> Result<(Incident, Vec<i64>), ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let incident = ctx.store.incident(id).await?;
    let tickets = ctx.store.incident_ticket_ids(id).await?;
    Ok((incident, tickets))
}

/// An incident's timeline (staff).
pub async fn incident_events(ctx: &Ctx<'_>, id: i64) -> Result<Vec<Event>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    ctx.store.incident(id).await?;
    Ok(ctx.store.events_of("incident", id, true).await?)
}

/// One event of an incident's timeline (staff).
pub async fn incident_event(ctx: &Ctx<'_>, id: i64, seq: i64) -> Result<Event, ApiError> {
    incident_events(ctx, id)
        .await?
        .into_iter()
        .find(|e| e.seq == seq)
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such event on this incident"))
}

/// The alerts an incident holds, firing first, at most `limit` (staff).
pub async fn incident_alerts(
    ctx: &Ctx<'_>,
    id: i64,
    limit: i64,
) -> Result<Vec<AlertRecord>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    ctx.store.incident(id).await?;
    Ok(ctx.store.incident_alerts(id, limit).await?)
}

/// The latest alerts, newest first, of one integration (by name) or all (staff).
pub async fn recent_alerts(
    ctx: &Ctx<'_>,
    integration: Option<&str>,
    limit: Option<i64>,
    dir: &Directory,
) -> Result<Vec<AlertRecord>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    let integration = match integration.map(str::trim).filter(|s| !s.is_empty()) {
        Some(name) => Some(
            dir.integrations
                .iter()
                .find(|i| i.name.eq_ignore_ascii_case(name))
                .map(|i| i.id)
                .ok_or_else(|| {
                    ApiError::field(
                        Code::InvalidInput,
                        "integration",
                        format!("no integration named '{name}'"),
                    )
                })?,
        ),
        None => None,
    };
    let limit = limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::field(
            Code::InvalidInput,
            "limit",
            "must be between 1 and 500",
        ));
    }
    Ok(ctx.store.recent_alerts(integration, limit).await?)
}

/// One integration (administrators).
pub async fn integration(ctx: &Ctx<'_>, id: i64) -> Result<Integration, ApiError> {
    ctx.authorize(Action::Administer)?;
    Ok(ctx.store.integration(id).await?)
}

/// Every maintenance window (staff).
pub async fn maintenance_windows(ctx: &Ctx<'_>) -> Result<Vec<MaintenanceRecord>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    Ok(ctx.store.maintenance_windows().await?)
}
