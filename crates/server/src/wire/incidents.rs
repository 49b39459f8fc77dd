//! The JSON shapes of incidents, alerts, integrations, services and maintenance windows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::desk::{present, PersonOut};

/// How an integration reads and groups alerts; absent fields keep their defaults.
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationSettingsWire {
    /// Label holding the severity word (default `severity`).
    #[serde(default)]
    pub severity_label: Option<String>,
    /// Severity words mapped to `SEV1`…`SEV4`, checked before the usual meanings.
    #[serde(default)]
    pub severity_map: Option<BTreeMap<String, String>>,
    /// Severity when an alert names none understood (default `SEV3`).
    #[serde(default)]
    pub default_severity: Option<String>,
    /// Labels forming the group key; empty uses the source's group (Alertmanager's
    /// `groupKey`), or `alertname`; PagerDuty events then get one incident per dedup key.
    #[serde(default)]
    pub group_by: Option<Vec<String>>,
    /// Label naming the service (default `service`).
    #[serde(default)]
    pub service_label: Option<String>,
    /// Minutes in monitoring after the last alert resolves before auto-resolving (default 10).
    #[serde(default)]
    pub quiet_minutes: Option<i64>,
    /// Requests per minute accepted, 0 for no limit (default 600).
    #[serde(default)]
    pub rate_limit_per_minute: Option<i64>,
    /// Generic integrations: where each field is (JSON pointers).
    #[serde(default)]
    pub mapping: Option<GenericMappingWire>,
}

/// Where a generic integration finds each field (JSON pointers, RFC 6901).
#[derive(Debug, Default, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct GenericMappingWire {
    /// The array of alerts; empty when the body is one alert (or a bare array).
    pub alerts: String,
    /// Identity (default `/fingerprint`; computed from labels when absent).
    pub fingerprint: String,
    /// Title (default `/title`).
    pub title: String,
    /// State (default `/status`).
    pub status: String,
    /// State values meaning resolved (default resolved, ok, inactive, normal, recovered, closed).
    pub resolved_values: Vec<String>,
    /// Severity word (default `/severity`).
    pub severity: String,
    /// Object of labels (default `/labels`).
    pub labels: String,
    /// Description (default `/description`).
    pub description: String,
    /// Link to the source (default `/source_url`).
    pub source_url: String,
}

/// Create or change an integration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationIn {
    /// Name, unique.
    pub name: String,
    /// `alertmanager`, `grafana`, `pagerduty` or `generic` (fixed once created).
    pub kind: String,
    /// Service for alerts that name none the desk knows.
    #[serde(default)]
    pub service: Option<String>,
    /// Team its incidents go to (else the service's team).
    #[serde(default)]
    pub team: Option<String>,
    /// Settings.
    #[serde(default)]
    pub settings: IntegrationSettingsWire,
}

/// An integration.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Format.
    pub kind: String,
    /// Default service.
    pub service: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Settings in force.
    pub settings: IntegrationSettingsWire,
    /// Alerts received.
    pub alert_count: i64,
    /// Last alert (RFC 3339).
    pub last_alert_at: Option<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// The endpoint, with `<token>` where the secret goes.
    pub endpoint: String,
}

/// A new integration (or a rotated token), with its secret shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationCreatedOut {
    /// The integration.
    pub integration: IntegrationOut,
    /// The secret token; stored only as a hash.
    pub token: String,
    /// The endpoint path with the token in it.
    pub path: String,
}

/// Create or change a service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceIn {
    /// Name, unique; alerts name it in their service label.
    pub name: String,
    /// What it is.
    #[serde(default)]
    pub description: String,
    /// Owning team.
    #[serde(default)]
    pub team: Option<String>,
}

/// A service.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Owning team.
    pub team: Option<String>,
    /// Under maintenance right now.
    pub in_maintenance: bool,
    /// Open incidents affecting it.
    pub open_incidents: i64,
    /// Shown on the public status page.
    pub public: bool,
}

/// Create a maintenance window.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceIn {
    /// What is being done.
    pub title: String,
    /// Details.
    #[serde(default)]
    pub description: String,
    /// First occurrence's start (RFC 3339).
    pub starts_at: String,
    /// First occurrence's end (RFC 3339).
    pub ends_at: String,
    /// IANA zone a recurrence keeps its local time in (default UTC).
    #[serde(default)]
    pub zone: Option<String>,
    /// `once` (default), `daily` or `weekly:mon,thu`.
    #[serde(default)]
    pub recurrence: Option<String>,
    /// Last instant an occurrence may start (RFC 3339).
    #[serde(default)]
    pub until: Option<String>,
    /// Services covered (names).
    pub services: Vec<String>,
}

/// One occurrence of a window.
#[derive(Debug, Serialize, ToSchema)]
pub struct OccurrenceOut {
    /// Start (RFC 3339).
    pub starts_at: String,
    /// End (RFC 3339).
    pub ends_at: String,
}

/// A maintenance window.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceOut {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// First start.
    pub starts_at: String,
    /// First end.
    pub ends_at: String,
    /// Zone.
    pub zone: String,
    /// Recurrence.
    pub recurrence: String,
    /// Until.
    pub until: Option<String>,
    /// Services covered.
    pub services: Vec<String>,
    /// Whether an occurrence is under way.
    pub active: bool,
    /// The next occurrences (the current one first).
    pub next: Vec<OccurrenceOut>,
}

/// Declare an incident by hand.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareIncidentIn {
    /// What is wrong.
    pub title: String,
    /// `SEV1`…`SEV4`.
    pub severity: String,
    /// Affected services (names); the first is the primary one.
    #[serde(default)]
    pub services: Vec<String>,
    /// Responding team (name).
    #[serde(default)]
    pub team: Option<String>,
    /// What is known.
    #[serde(default)]
    pub summary: String,
    /// Commander's e-mail, or `me`.
    #[serde(default)]
    pub commander: Option<String>,
    /// A ticket to declare it from (linked at once).
    #[serde(default)]
    pub ticket: Option<i64>,
}

/// Change an incident; absent fields stay.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchIncidentIn {
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// `SEV1`…`SEV4`.
    #[serde(default)]
    pub severity: Option<String>,
    /// triggered, acknowledged, investigating, identified, monitoring, resolved.
    #[serde(default)]
    pub status: Option<String>,
    /// Summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// Commander's e-mail or `me`; `null` clears.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub commander: Option<Option<String>>,
    /// Comms lead's e-mail or `me`; `null` clears.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub comms: Option<Option<String>>,
    /// Affected services (names).
    #[serde(default)]
    pub services: Option<Vec<String>>,
}

/// An incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentOut {
    /// Id, the number people quote.
    pub id: i64,
    /// Title.
    pub title: String,
    /// SEV1–SEV4.
    pub severity: String,
    /// Status.
    pub status: String,
    /// Affected services; the primary first.
    pub services: Vec<String>,
    /// Responding team.
    pub team: Option<String>,
    /// The integration whose alerts opened it.
    pub integration: Option<String>,
    /// Alert group it collects.
    pub group_key: Option<String>,
    /// Commander.
    pub commander: Option<PersonOut>,
    /// Comms lead.
    pub comms: Option<PersonOut>,
    /// Summary.
    pub summary: String,
    /// Detected (RFC 3339).
    pub detected_at: String,
    /// First acknowledged.
    pub acknowledged_at: Option<String>,
    /// Mitigated.
    pub mitigated_at: Option<String>,
    /// Resolved.
    pub resolved_at: Option<String>,
    /// When it resolves by itself if its alerts stay quiet.
    pub auto_resolve_at: Option<String>,
    /// Alerts it holds.
    pub alert_count: i64,
    /// Of which firing.
    pub firing_count: i64,
    /// Linked tickets (ids), on a single incident's representation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tickets: Option<Vec<i64>>,
    /// Last change.
    pub updated_at: String,
}

/// An alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertOut {
    /// Id.
    pub id: i64,
    /// Identity within its integration.
    pub fingerprint: String,
    /// `firing` or `resolved`.
    pub status: String,
    /// Incident holding it.
    pub incident: Option<i64>,
    /// Service.
    pub service: Option<String>,
    /// Severity.
    pub severity: String,
    /// Summary.
    pub summary: String,
    /// Group key.
    pub group_key: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
    /// Link to the source.
    pub source_url: Option<String>,
    /// Start per the source.
    pub starts_at: String,
    /// End per the source.
    pub ends_at: Option<String>,
    /// First receipt.
    pub first_seen: String,
    /// Latest receipt.
    pub last_seen: String,
    /// Receipts.
    pub receipts: i64,
    /// Maintenance window that suppressed it.
    pub suppressed_by: Option<i64>,
}

/// A note on an incident's timeline.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentNoteIn {
    /// Text.
    pub body: String,
}

/// Link a ticket to an incident.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkTicketIn {
    /// Ticket number.
    pub ticket: i64,
}

/// One rotation layer of a schedule.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LayerWire {
    /// First hand-off: RFC 3339, or a local `2026-11-30T09:00` in `zone`.
    pub starts_at: String,
    /// IANA zone of the hand-off time.
    pub zone: String,
    /// `daily`, `weekly`, `3d`, `2w` or `12h`.
    pub turn: String,
    /// Participants' e-mail addresses, in turn order.
    pub participants: Vec<String>,
    /// Only these local hours each day (`09:00-17:00`), for a layer over another.
    #[serde(default)]
    pub hours: Option<String>,
}

/// Create an on-call schedule.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    /// Name, unique.
    pub name: String,
    /// What it covers.
    #[serde(default)]
    pub description: String,
    /// Layers, lowest first (later layers win where they cover).
    pub layers: Vec<LayerWire>,
}

/// Someone on call for a stretch.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShiftOut {
    /// From (RFC 3339).
    pub starts_at: String,
    /// Until.
    pub ends_at: String,
    /// Who.
    pub user: PersonOut,
}

/// An override of a schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct OverrideOut {
    /// Id.
    pub id: i64,
    /// From.
    pub starts_at: String,
    /// Until.
    pub ends_at: String,
    /// Who takes over.
    pub user: PersonOut,
}

/// Put someone on call over a schedule for a stretch.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideIn {
    /// Their e-mail, or `me`.
    pub user: String,
    /// From (RFC 3339).
    pub starts_at: String,
    /// Until (RFC 3339).
    pub ends_at: String,
}

/// A schedule with who is on call now and the shifts ahead.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Layers.
    pub layers: Vec<LayerWire>,
    /// Overrides still to come or under way.
    pub overrides: Vec<OverrideOut>,
    /// Who is on call now.
    pub on_call_now: Option<PersonOut>,
    /// The final schedule for the window asked (default: the next 14 days).
    pub shifts: Vec<ShiftOut>,
}

/// One level of an escalation policy.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyLevelWire {
    /// Minutes to wait for an acknowledgement before the next level (1–1440).
    pub timeout_minutes: u32,
    /// `user:EMAIL`, `schedule:NAME` or `team:NAME`.
    pub targets: Vec<String>,
}

/// Create an escalation policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationPolicyIn {
    /// Name, unique.
    pub name: String,
    /// Levels, first paged first.
    pub levels: Vec<PolicyLevelWire>,
    /// Times to run the levels again when nobody acknowledges (0–9).
    #[serde(default)]
    pub repeats: u32,
}

/// An escalation policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationPolicyOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Levels.
    pub levels: Vec<PolicyLevelWire>,
    /// Repeats.
    pub repeats: u32,
    /// Services it pages for.
    pub services: Vec<String>,
}

/// Which escalation policy pages for a service.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePolicyIn {
    /// Policy name; `null` pages no one.
    pub escalation_policy: Option<String>,
}

/// Add a way to be paged.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactMethodIn {
    /// `webhook` (signed JSON) or `slack` (Slack-compatible incoming webhook).
    pub kind: String,
    /// The http(s) URL.
    pub address: String,
}

/// A way to be paged.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactMethodOut {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// URL.
    pub address: String,
}

/// A page sent about an incident.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageOut {
    /// Id.
    pub id: i64,
    /// Who.
    pub user: PersonOut,
    /// Run (a reopened incident pages again).
    pub run: i64,
    /// Round of the policy, from 1.
    pub round: i64,
    /// Level, from 1.
    pub level: i64,
    /// When.
    pub created_at: String,
    /// When it was answered from its link.
    pub answered_at: Option<String>,
    /// `acknowledge` or `resolve`.
    pub answer: Option<String>,
}

/// Post a public update on the status page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdateIn {
    /// `investigating`, `identified`, `monitoring` or `resolved` (the incident moves there).
    pub status: String,
    /// `degraded`, `partial_outage`, `major_outage`, `under_maintenance` or `operational`.
    pub impact: String,
    /// What visitors read.
    pub body: String,
    /// The title visitors see (first update; default the incident's title).
    #[serde(default)]
    pub title: Option<String>,
}

/// A public update.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusUpdateOut {
    /// Id.
    pub id: i64,
    /// Announced status.
    pub status: String,
    /// Impact.
    pub impact: String,
    /// Text.
    pub body: String,
    /// When (RFC 3339).
    pub created_at: String,
}

/// A component on the status page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ComponentOut {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// `operational`, `degraded`, `partial_outage`, `major_outage` or `under_maintenance`.
    pub status: String,
    /// Words for it.
    pub label: String,
    /// The worst status of each of the last 90 days, oldest first.
    pub history: Vec<String>,
}

/// A published incident on the status page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicIncidentOut {
    /// Id.
    pub id: i64,
    /// Public title.
    pub title: String,
    /// Status.
    pub status: String,
    /// Current impact.
    pub impact: String,
    /// Public components affected.
    pub components: Vec<String>,
    /// Published (RFC 3339).
    pub published_at: String,
    /// Resolved.
    pub resolved_at: Option<String>,
    /// Updates, newest first.
    pub updates: Vec<StatusUpdateOut>,
}

/// Planned maintenance on the status page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicMaintenanceOut {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Components.
    pub components: Vec<String>,
    /// Start of the current or next occurrence.
    pub starts_at: String,
    /// Its end.
    pub ends_at: String,
    /// Under way now.
    pub active: bool,
}

/// The whole status page.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusPageOut {
    /// The worst component status.
    pub status: String,
    /// Words for it.
    pub label: String,
    /// Components.
    pub components: Vec<ComponentOut>,
    /// Open published incidents.
    pub active: Vec<PublicIncidentOut>,
    /// Published incidents resolved in the last 14 days.
    pub recent: Vec<PublicIncidentOut>,
    /// Maintenance under way or in the next 14 days.
    pub maintenance: Vec<PublicMaintenanceOut>,
}

/// Subscribe a webhook to public updates.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeIn {
    /// The http(s) URL each update is posted to.
    #[serde(default)]
    pub webhook: Option<String>,
    /// An e-mail address each update is mailed to (subscribed at once, no confirmation).
    #[serde(default)]
    pub email: Option<String>,
}

/// Show a service on the status page or hide it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServicePublicIn {
    /// Shown.
    pub public: bool,
}

/// Write an incident's review; the first save fills an empty timeline from the incident's.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReviewIn {
    /// Summary.
    pub summary: String,
    /// Customer impact.
    pub customer_impact: String,
    /// Timeline (empty on the first save: pulled from the incident).
    pub timeline: String,
    /// Root cause.
    pub root_cause: String,
    /// Contributing factors.
    pub contributing_factors: String,
    /// What went well.
    pub went_well: String,
    /// What went poorly.
    pub went_poorly: String,
    /// Published (else a draft).
    pub published: bool,
}

/// An action item.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActionItemOut {
    /// Id.
    pub id: i64,
    /// The incident it came from.
    pub incident: Option<i64>,
    /// The problem it belongs to.
    pub problem: Option<i64>,
    /// What to do.
    pub title: String,
    /// Owner.
    pub owner: PersonOut,
    /// Due (RFC 3339).
    pub due_at: String,
    /// How to check it is done.
    pub verification: String,
    /// `open`, `done` or `verified`.
    pub state: String,
    /// Open past its due instant.
    pub overdue: bool,
    /// Who verified it.
    pub verified_by: Option<PersonOut>,
    /// When.
    pub verified_at: Option<String>,
}

/// An incident's review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    /// The incident.
    pub incident: i64,
    /// Summary.
    pub summary: String,
    /// Customer impact.
    pub customer_impact: String,
    /// Timeline.
    pub timeline: String,
    /// Root cause.
    pub root_cause: String,
    /// Contributing factors.
    pub contributing_factors: String,
    /// What went well.
    pub went_well: String,
    /// What went poorly.
    pub went_poorly: String,
    /// `draft` or `published`.
    pub status: String,
    /// Last change.
    pub updated_at: String,
    /// The incident's action items.
    pub action_items: Vec<ActionItemOut>,
}

/// Create an action item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionItemIn {
    /// What to do.
    pub title: String,
    /// Owner's e-mail, or `me`.
    pub owner: String,
    /// Due: `2026-12-15` (end of that day, UTC) or RFC 3339.
    pub due: String,
    /// How someone else checks it is done.
    pub verification: String,
    /// The incident it comes from.
    #[serde(default)]
    pub incident: Option<i64>,
    /// The problem it belongs to.
    #[serde(default)]
    pub problem: Option<i64>,
}

/// Move an action item.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionStateIn {
    /// `open`, `done` or `verified`.
    pub state: String,
}

/// Create or change a problem record.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProblemIn {
    /// Title.
    pub title: String,
    /// `open` (default), `known_error` or `resolved`.
    #[serde(default)]
    pub status: Option<String>,
    /// Root-cause analysis.
    #[serde(default)]
    pub root_cause: String,
    /// The known error's workaround.
    #[serde(default)]
    pub workaround: String,
    /// Incidents to link (added to those already linked).
    #[serde(default)]
    pub incidents: Vec<i64>,
}

/// A problem record.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemOut {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// Root cause.
    pub root_cause: String,
    /// Workaround.
    pub workaround: String,
    /// Linked incidents.
    pub incidents: Vec<i64>,
    /// Last change.
    pub updated_at: String,
}

/// Filters of the incident list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct IncidentQuery {
    /// `open` (default), `resolved`, `all`, or one status.
    pub status: Option<String>,
    /// `SEV1`…`SEV4`.
    pub severity: Option<String>,
    /// Service name.
    pub service: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}
