//! Operations configuration: services, inbound alert integrations and maintenance windows.

use std::collections::{BTreeMap, HashSet};

use jiff::tz::TimeZone;
use jiff::Timestamp;
use opsdesk_domain::incident::{MaintenanceWindow, Recurrence};
use opsdesk_domain::{Invalid, Name, Severity};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{AnyPool, Row};

use crate::error::corrupt;
use crate::model::ts;
use crate::{Store, StoreError};

/// A service: something alerts and incidents are about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Id.
    pub id: i64,
    /// Name, unique regardless of case; alerts name it in their service label.
    pub name: String,
    /// What it is, for responders.
    pub description: String,
    /// The team that owns it.
    pub team_id: Option<i64>,
}

/// Which monitoring source an integration receives from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntegrationKind {
    /// Prometheus Alertmanager webhook (version 4).
    Alertmanager,
    /// Grafana alerting webhook.
    Grafana,
    /// PagerDuty Events API v2.
    PagerDuty,
    /// Any JSON, read through the integration's field mapping.
    Generic,
}

impl IntegrationKind {
    /// Every kind.
    pub const ALL: [IntegrationKind; 4] = [
        IntegrationKind::Alertmanager,
        IntegrationKind::Grafana,
        IntegrationKind::PagerDuty,
        IntegrationKind::Generic,
    ];

    /// Parses `alertmanager`, `grafana`, `pagerduty` or `generic`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let lower = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == lower)
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!(
                        "'{}' is not an integration kind (alertmanager, grafana, pagerduty, generic)",
                        raw.trim()
                    ),
                )
            })
    }

    /// The stable name, also the path segment of its endpoint (`/hooks/<kind>/…`).
    pub fn as_str(self) -> &'static str {
        match self {
            IntegrationKind::Alertmanager => "alertmanager",
            IntegrationKind::Grafana => "grafana",
            IntegrationKind::PagerDuty => "pagerduty",
            IntegrationKind::Generic => "generic",
        }
    }
}

/// Where a generic integration finds each field in a payload (JSON pointers, RFC 6901).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct GenericMapping {
    /// The array of alerts; empty when the payload is one alert.
    pub alerts: String,
    /// The alert's identity; empty to compute one from its labels.
    pub fingerprint: String,
    /// Its title.
    pub title: String,
    /// Its state; resolved when the value is one of `resolved_values`.
    pub status: String,
    /// State values that mean resolved.
    pub resolved_values: Vec<String>,
    /// Its severity word.
    pub severity: String,
    /// An object of labels.
    pub labels: String,
    /// A longer description.
    pub description: String,
    /// A link back to the source.
    pub source_url: String,
}

/// How an integration reads and groups what it receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IntegrationSettings {
    /// The label holding the severity word.
    pub severity_label: String,
    /// Severity words mapped to SEV1…SEV4 (checked before the usual meanings).
    pub severity_map: BTreeMap<String, String>,
    /// Severity when an alert names none the integration understands.
    pub default_severity: String,
    /// Labels that form the group key; empty to use the source's own group (Alertmanager's
    /// `groupKey`) or else `alertname`.
    pub group_by: Vec<String>,
    /// The label naming the service.
    pub service_label: String,
    /// Minutes an incident stays in monitoring after its last alert resolves.
    pub quiet_minutes: i64,
    /// Requests per minute accepted; 0 for no limit.
    pub rate_limit_per_minute: i64,
    /// Field mapping for generic integrations.
    pub mapping: GenericMapping,
}

impl Default for IntegrationSettings {
    fn default() -> Self {
        Self {
            severity_label: "severity".to_owned(),
            severity_map: BTreeMap::new(),
            default_severity: Severity::Sev3.as_str().to_owned(),
            group_by: Vec::new(),
            service_label: "service".to_owned(),
            quiet_minutes: 10,
            rate_limit_per_minute: 600,
            mapping: GenericMapping::default(),
        }
    }
}

impl IntegrationSettings {
    /// The severity an alert's word means for this integration.
    pub fn severity_of(&self, word: Option<&str>) -> Severity {
        let default =
            Severity::parse("default_severity", &self.default_severity).unwrap_or(Severity::Sev3);
        let Some(word) = word else {
            return default;
        };
        let key = word.trim().to_ascii_lowercase();
        self.severity_map
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase() == key)
            .and_then(|(_, v)| Severity::parse("severity_map", v).ok())
            .or_else(|| Severity::from_source_word(word))
            .unwrap_or(default)
    }

    /// Checks the settings, naming the first bad field.
    pub fn validate(&self) -> Result<(), Invalid> {
        Severity::parse("default_severity", &self.default_severity)?;
        for (word, sev) in &self.severity_map {
            Severity::parse("severity_map", sev).map_err(|_| {
                Invalid::new(
                    "severity_map",
                    format!("'{word}' maps to '{sev}', which is not SEV1–SEV4"),
                )
            })?;
        }
        if !(0..=7 * 24 * 60).contains(&self.quiet_minutes) {
            return Err(Invalid::new(
                "quiet_minutes",
                "must be between 0 and 10080 (a week)",
            ));
        }
        if !(0..=10_000_000).contains(&self.rate_limit_per_minute) {
            return Err(Invalid::new(
                "rate_limit_per_minute",
                "must be between 0 (no limit) and 10,000,000",
            ));
        }
        if self.group_by.iter().any(|l| l.trim().is_empty()) {
            return Err(Invalid::new("group_by", "label names cannot be empty"));
        }
        let m = &self.mapping;
        for (field, pointer) in [
            ("mapping.alerts", &m.alerts),
            ("mapping.fingerprint", &m.fingerprint),
            ("mapping.title", &m.title),
            ("mapping.status", &m.status),
            ("mapping.severity", &m.severity),
            ("mapping.labels", &m.labels),
            ("mapping.description", &m.description),
            ("mapping.source_url", &m.source_url),
        ] {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(Invalid::new(
                    field,
                    format!("'{pointer}' is not a JSON pointer like /alert/title"),
                ));
            }
        }
        Ok(())
    }
}

/// An inbound alert integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    /// Id.
    pub id: i64,
    /// Name, unique regardless of case.
    pub name: String,
    /// Which format it receives.
    pub kind: IntegrationKind,
    /// Service for alerts that name none the desk knows.
    pub service_id: Option<i64>,
    /// Team its incidents belong to.
    pub team_id: Option<i64>,
    /// How it reads and groups alerts.
    pub settings: IntegrationSettings,
    /// Alerts received so far.
    pub alert_count: i64,
    /// When the last alert arrived.
    pub last_alert_at: Option<Timestamp>,
    /// When it was created.
    pub created_at: Timestamp,
}

/// What a new or edited integration holds.
#[derive(Debug, Clone)]
pub struct IntegrationInput {
    /// Name.
    pub name: Name,
    /// Format.
    pub kind: IntegrationKind,
    /// Default service.
    pub service_id: Option<i64>,
    /// Team.
    pub team_id: Option<i64>,
    /// Settings, already validated.
    pub settings: IntegrationSettings,
}

/// A maintenance window as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceRecord {
    /// Id.
    pub id: i64,
    /// What is being done.
    pub title: String,
    /// Details for responders and the status page.
    pub description: String,
    /// First occurrence's start.
    pub starts_at: Timestamp,
    /// First occurrence's end.
    pub ends_at: Timestamp,
    /// IANA zone the recurrence keeps its local time in.
    pub zone: String,
    /// How it repeats.
    pub recurrence: Recurrence,
    /// Last instant an occurrence may start.
    pub until: Option<Timestamp>,
    /// Services it covers.
    pub service_ids: Vec<i64>,
    /// The window as the domain computes it.
    pub window: MaintenanceWindow,
}

/// What a new maintenance window holds (validated).
#[derive(Debug, Clone)]
pub struct MaintenanceInput {
    /// Title.
    pub title: Name,
    /// Description.
    pub description: String,
    /// The window's timing.
    pub window: MaintenanceWindow,
    /// First occurrence's start.
    pub starts_at: Timestamp,
    /// First occurrence's end.
    pub ends_at: Timestamp,
    /// Zone name.
    pub zone: String,
    /// Recurrence.
    pub recurrence: Recurrence,
    /// Until.
    pub until: Option<Timestamp>,
    /// Services covered (at least one).
    pub service_ids: Vec<i64>,
}

pub(crate) async fn load_services(pool: &AnyPool) -> Result<Vec<Service>, StoreError> {
    let rows =
        sqlx::query("SELECT id, name, description, team_id FROM services ORDER BY lower(name)")
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|r| {
            Ok(Service {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                description: r.try_get(2)?,
                team_id: r.try_get(3)?,
            })
        })
        .collect()
}

const INTEGRATION_COLUMNS: &str =
    "id, name, kind, service_id, team_id, settings, alert_count, last_alert_at, created_at";

fn integration_row(r: &sqlx::any::AnyRow) -> Result<Integration, StoreError> {
    let kind: String = r.try_get(2)?;
    let settings: String = r.try_get(5)?;
    Ok(Integration {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        kind: IntegrationKind::parse("kind", &kind).map_err(corrupt)?,
        service_id: r.try_get(3)?,
        team_id: r.try_get(4)?,
        settings: serde_json::from_str(&settings)
            .map_err(|e| StoreError::Corrupt(format!("integration settings: {e}")))?,
        alert_count: r.try_get(6)?,
        last_alert_at: r.try_get::<Option<i64>, _>(7)?.map(ts).transpose()?,
        created_at: ts(r.try_get(8)?)?,
    })
}

pub(crate) async fn load_windows(pool: &AnyPool) -> Result<Vec<MaintenanceRecord>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, title, description, starts_at, ends_at, zone, recurrence, until_at \
         FROM maintenance_windows ORDER BY starts_at, id",
    )
    .fetch_all(pool)
    .await?;
    let links = sqlx::query("SELECT window_id, service_id FROM maintenance_services")
        .fetch_all(pool)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let id: i64 = r.try_get(0)?;
        let zone_name: String = r.try_get(5)?;
        let zone = TimeZone::get(&zone_name).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let recurrence: String = r.try_get(6)?;
        let recurrence = Recurrence::parse("recurrence", &recurrence).map_err(corrupt)?;
        let starts_at = ts(r.try_get(3)?)?;
        let ends_at = ts(r.try_get(4)?)?;
        let until = r.try_get::<Option<i64>, _>(7)?.map(ts).transpose()?;
        let window = MaintenanceWindow::new(starts_at, ends_at, zone, recurrence.clone(), until)
            .map_err(corrupt)?;
        let mut service_ids = Vec::new();
        for l in &links {
            if l.try_get::<i64, _>(0)? == id {
                service_ids.push(l.try_get(1)?);
            }
        }
        out.push(MaintenanceRecord {
            id,
            title: r.try_get(1)?,
            description: r.try_get(2)?,
            starts_at,
            ends_at,
            zone: zone_name,
            recurrence,
            until,
            service_ids,
            window,
        });
    }
    Ok(out)
}

impl Store {
    /// Every service, by name.
    pub async fn services(&self) -> Result<Vec<Service>, StoreError> {
        load_services(&self.read).await
    }

    /// The service with this name, regardless of case.
    pub async fn service_by_name(&self, name: &str) -> Result<Option<Service>, StoreError> {
        let name = name.trim();
        Ok(self
            .services()
            .await?
            .into_iter()
            .find(|s| s.name.eq_ignore_ascii_case(name)))
    }

    /// Creates (`id` = `None`) or replaces a service.
    pub async fn save_service(
        &self,
        id: Option<i64>,
        name: &Name,
        description: &str,
        team_id: Option<i64>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Service, StoreError> {
        let mut w = self.write(actor, now).await?;
        let taken = StoreError::unique(
            "name",
            format!("a service named '{}' already exists", name.as_str()),
        );
        let id = match id {
            Some(id) => {
                let changed = sqlx::query(
                    "UPDATE services SET name = $1, description = $2, team_id = $3, updated_at = $4 \
                     WHERE id = $5",
                )
                .bind(name.as_str())
                .bind(description)
                .bind(team_id)
                .bind(w.now())
                .bind(id)
                .execute(&mut *w.tx)
                .await
                .map_err(taken)?;
                if changed.rows_affected() == 0 {
                    return Err(StoreError::NotFound("service"));
                }
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO services (name, description, team_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $4) RETURNING id",
            )
            .bind(name.as_str())
            .bind(description)
            .bind(team_id)
            .bind(w.now())
            .fetch_one(&mut *w.tx)
            .await
            .map_err(taken)?,
        };
        w.event(
            "service",
            id,
            "service.saved",
            false,
            json!({"after": {"name": name.as_str(), "description": description, "team_id": team_id}}),
        )
        .await?;
        w.commit().await?;
        self.services()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound("service"))
    }

    /// Every integration, by name.
    pub async fn integrations(&self) -> Result<Vec<Integration>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations ORDER BY lower(name)"
        ))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(integration_row).collect()
    }

    /// One integration.
    pub async fn integration(&self, id: i64) -> Result<Integration, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("integration"))?;
        integration_row(&row)
    }

    /// The integration whose secret token hashes to `token_hash`.
    pub async fn integration_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<Integration>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {INTEGRATION_COLUMNS} FROM integrations WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(integration_row).transpose()
    }

    /// Creates an integration with the hash of its secret token.
    pub async fn create_integration(
        &self,
        input: &IntegrationInput,
        token_hash: &str,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Integration, StoreError> {
        input.settings.validate()?;
        let settings = serde_json::to_string(&input.settings)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO integrations (name, kind, token_hash, service_id, team_id, settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(input.name.as_str())
        .bind(input.kind.as_str())
        .bind(token_hash)
        .bind(input.service_id)
        .bind(input.team_id)
        .bind(&settings)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(StoreError::unique(
            "name",
            format!("an integration named '{}' already exists", input.name.as_str()),
        ))?;
        w.event(
            "integration",
            id,
            "integration.created",
            false,
            json!({"after": {"name": input.name.as_str(), "kind": input.kind.as_str(),
                   "service_id": input.service_id, "team_id": input.team_id}}),
        )
        .await?;
        w.commit().await?;
        self.integration(id).await
    }

    /// Changes an integration's name, service, team and settings (not its kind or token).
    pub async fn update_integration(
        &self,
        id: i64,
        input: &IntegrationInput,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Integration, StoreError> {
        input.settings.validate()?;
        let before = self.integration(id).await?;
        let settings = serde_json::to_string(&input.settings)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut w = self.write(actor, now).await?;
        sqlx::query(
            "UPDATE integrations SET name = $1, service_id = $2, team_id = $3, settings = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(input.name.as_str())
        .bind(input.service_id)
        .bind(input.team_id)
        .bind(&settings)
        .bind(w.now())
        .bind(id)
        .execute(&mut *w.tx)
        .await
        .map_err(StoreError::unique(
            "name",
            format!("an integration named '{}' already exists", input.name.as_str()),
        ))?;
        w.event(
            "integration",
            id,
            "integration.updated",
            false,
            json!({"before": {"name": before.name}, "after": {"name": input.name.as_str(),
                   "service_id": input.service_id, "team_id": input.team_id}}),
        )
        .await?;
        w.commit().await?;
        self.integration(id).await
    }

    /// Replaces an integration's token (the old one stops working at once).
    pub async fn rotate_integration_token(
        &self,
        id: i64,
        token_hash: &str,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.integration(id).await?;
        let mut w = self.write(actor, now).await?;
        sqlx::query("UPDATE integrations SET token_hash = $1, updated_at = $2 WHERE id = $3")
            .bind(token_hash)
            .bind(w.now())
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "integration",
            id,
            "integration.token_rotated",
            false,
            json!({}),
        )
        .await?;
        w.commit().await
    }

    /// Deletes an integration that never received an alert (one that did keeps its history).
    pub async fn delete_integration(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let before = self.integration(id).await?;
        let mut w = self.write(actor, now).await?;
        let used: i64 = sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM alerts WHERE integration_id = $1) + \
             (SELECT COUNT(*) FROM incidents WHERE integration_id = $1)",
        )
        .bind(id)
        .fetch_one(&mut *w.tx)
        .await?;
        if used > 0 {
            return Err(StoreError::Conflict {
                field: "integration",
                reason: format!(
                    "'{}' has received alerts; rotate its token to stop it instead",
                    before.name
                ),
            });
        }
        sqlx::query("DELETE FROM integrations WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "integration",
            id,
            "integration.deleted",
            false,
            json!({"before": {"name": before.name}}),
        )
        .await?;
        w.commit().await
    }

    /// Every maintenance window, by start.
    pub async fn maintenance_windows(&self) -> Result<Vec<MaintenanceRecord>, StoreError> {
        load_windows(&self.read).await
    }

    /// Creates a maintenance window over some services.
    pub async fn create_maintenance(
        &self,
        input: &MaintenanceInput,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<MaintenanceRecord, StoreError> {
        let known: HashSet<i64> = self.services().await?.iter().map(|s| s.id).collect();
        if input.service_ids.is_empty() {
            return Err(Invalid::new("services", "name at least one service").into());
        }
        if let Some(missing) = input.service_ids.iter().find(|id| !known.contains(id)) {
            return Err(Invalid::new("services", format!("no service with id {missing}")).into());
        }
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO maintenance_windows (title, description, starts_at, ends_at, zone, recurrence, until_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING id",
        )
        .bind(input.title.as_str())
        .bind(&input.description)
        .bind(input.starts_at.as_microsecond())
        .bind(input.ends_at.as_microsecond())
        .bind(&input.zone)
        .bind(input.recurrence.as_text())
        .bind(input.until.map(|u| u.as_microsecond()))
        .bind(actor)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        for service in &input.service_ids {
            sqlx::query(
                "INSERT INTO maintenance_services (window_id, service_id) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(id)
            .bind(service)
            .execute(&mut *w.tx)
            .await?;
        }
        w.event(
            "maintenance",
            id,
            "maintenance.created",
            false,
            json!({"after": {"title": input.title.as_str(), "starts_at": input.starts_at.to_string(),
                   "ends_at": input.ends_at.to_string(), "zone": input.zone,
                   "recurrence": input.recurrence.as_text(), "service_ids": input.service_ids}}),
        )
        .await?;
        w.commit().await?;
        self.maintenance_windows()
            .await?
            .into_iter()
            .find(|m| m.id == id)
            .ok_or(StoreError::NotFound("maintenance window"))
    }

    /// Deletes a maintenance window (alerts it suppressed keep saying so).
    pub async fn delete_maintenance(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        let title: Option<String> =
            sqlx::query_scalar("SELECT title FROM maintenance_windows WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *w.tx)
                .await?;
        let title = title.ok_or(StoreError::NotFound("maintenance window"))?;
        sqlx::query("DELETE FROM maintenance_services WHERE window_id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        sqlx::query("DELETE FROM maintenance_windows WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "maintenance",
            id,
            "maintenance.deleted",
            false,
            json!({"before": {"title": title}}),
        )
        .await?;
        w.commit().await
    }
}
