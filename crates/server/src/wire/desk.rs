//! The JSON shapes of the API. These types exist only at the edge: handlers convert them to
//! domain values on the way in and from store records on the way out.

use opsdesk_store::{BugReportRecord, Event, Link, Message, Org, Team, Ticket, User, UserRef};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// RFC 3339 UTC text of a timestamp.
pub fn rfc3339(ts: jiff::Timestamp) -> String {
    ts.to_string()
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
pub(crate) fn present<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}

/// A page of items and the cursor of the next page (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page.
    pub next_cursor: Option<String>,
}

/// A person next to a ticket or message.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    /// User id.
    pub id: i64,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
}

impl From<&UserRef> for PersonOut {
    fn from(u: &UserRef) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
        }
    }
}

/// A ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketOut {
    /// Id.
    pub id: i64,
    /// The number people quote (`#number`).
    pub number: i64,
    /// Subject.
    pub subject: String,
    /// `new`, `open`, `pending`, `resolved` or `closed`.
    pub status: String,
    /// `urgent`, `high`, `normal` or `low`.
    pub priority: String,
    /// `low`, `medium` or `high`.
    pub impact: String,
    /// `low`, `medium` or `high`.
    pub urgency: String,
    /// `L0` to `L4`.
    pub tier: String,
    /// Team name.
    pub team: String,
    /// Team id.
    pub team_id: i64,
    /// Organisation name.
    pub organization: Option<String>,
    /// Organisation id.
    pub organization_id: Option<i64>,
    /// Who raised it.
    pub requester: PersonOut,
    /// Who works it.
    pub assignee: Option<PersonOut>,
    /// Category.
    pub category: Option<String>,
    /// The service it is about.
    pub service: Option<String>,
    /// The service's id.
    pub service_id: Option<i64>,
    /// `portal`, `desk` (raised by staff in the workspace), `api` or `email`.
    pub channel: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
    /// While pending: `customer`, `vendor` or `internal`.
    pub pending_reason: Option<String>,
    /// The vendor it is (or was last) handed to.
    pub vendor: Option<String>,
    /// The vendor's reference (case number).
    pub vendor_ref: Option<String>,
    /// The nearest due instant of a running SLA clock (RFC 3339).
    pub sla_due_at: Option<String>,
    /// Policy, calendar and every clock (staff, on the single-ticket read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla: Option<TicketSlaOut>,
}

impl From<&Ticket> for TicketOut {
    fn from(t: &Ticket) -> Self {
        Self {
            id: t.id,
            number: t.id,
            subject: t.subject.clone(),
            status: t.status.as_str().to_owned(),
            priority: t.priority.as_str().to_owned(),
            impact: t.impact.as_str().to_owned(),
            urgency: t.urgency.as_str().to_owned(),
            tier: t.tier.to_string(),
            team: t.team_name.clone(),
            team_id: t.team_id,
            organization: t.org_name.clone(),
            organization_id: t.org_id,
            requester: (&t.requester).into(),
            assignee: t.assignee.as_ref().map(PersonOut::from),
            category: t.category.clone(),
            service: t.service.as_ref().map(|(_, name)| name.clone()),
            service_id: t.service.as_ref().map(|(id, _)| *id),
            channel: t.channel.clone(),
            tags: t.tags.clone(),
            created_at: rfc3339(t.created_at),
            updated_at: rfc3339(t.updated_at),
            pending_reason: t.pending_reason.map(|r| r.as_str().to_owned()),
            vendor: t.vendor.as_ref().map(|(_, name)| name.clone()),
            vendor_ref: t.vendor_ref.clone(),
            sla_due_at: t.sla_due_at.map(rfc3339),
            sla: None,
        }
    }
}

impl TicketOut {
    /// The ticket as `staff` or a customer may see it: customers get no SLA due instant and no
    /// vendor (the desk's internal arrangements).
    pub fn for_audience(t: &Ticket, staff: bool) -> Self {
        let mut out = Self::from(t);
        if !staff {
            out.sla_due_at = None;
            out.vendor = None;
            out.vendor_ref = None;
        }
        out
    }
}

/// Raise a ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketIn {
    /// One-line summary, 1–200 characters.
    pub subject: String,
    /// The first message, up to 64 KiB.
    pub body: String,
    /// Staff only: raise on behalf of this customer.
    pub requester_email: Option<String>,
    /// Staff only: team name (default: the intake team).
    pub team: Option<String>,
    /// Staff only: explicit priority, overriding impact × urgency.
    pub priority: Option<String>,
    /// `low`, `medium` (default) or `high`.
    pub impact: Option<String>,
    /// `low`, `medium` (default) or `high`.
    pub urgency: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Staff only: the service (name) it is about.
    pub service: Option<String>,
    /// Staff only: tags.
    pub tags: Option<Vec<String>>,
}

/// Change a ticket; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTicketIn {
    /// New subject.
    pub subject: Option<String>,
    /// New status; customers may only set `resolved` or `open` (reopen).
    pub status: Option<String>,
    /// Explicit priority.
    pub priority: Option<String>,
    /// Impact; recomputes priority unless one is given.
    pub impact: Option<String>,
    /// Urgency; recomputes priority unless one is given.
    pub urgency: Option<String>,
    /// While pending, who the ticket waits on: `customer` (default), `vendor` or `internal`.
    /// SLA policies pause clocks by it.
    pub pending_reason: Option<String>,
    /// The vendor (name) a ticket waiting on a vendor is handed to; `null` clears it. Starts
    /// the vendor's clocks while the ticket is pending – waiting on vendor.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub vendor: Option<Option<String>>,
    /// The vendor's reference (case number); `null` clears it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub vendor_ref: Option<Option<String>>,
    /// `true` records that the vendor responded (stops its response clock).
    #[serde(default)]
    pub vendor_responded: Option<bool>,
    /// Assignee e-mail, `me`, or `null` to unassign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    /// Team name, same tier (use escalate to change tier).
    pub team: Option<String>,
    /// Category, or `null` to clear.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// The service (name) it is about, or `null` to clear.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub service: Option<Option<String>>,
    /// Tags to add.
    pub add_tags: Option<Vec<String>>,
    /// Tags to remove.
    pub remove_tags: Option<Vec<String>>,
}

/// A reply or internal note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessageIn {
    /// Text, up to 64 KiB.
    pub body: String,
    /// Staff only: an internal note customers never see.
    #[serde(default)]
    pub internal: bool,
}

/// A message on a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    /// Id.
    pub id: i64,
    /// Ticket id.
    pub ticket_id: i64,
    /// Author.
    pub author: PersonOut,
    /// Internal note (staff only).
    pub internal: bool,
    /// Text.
    pub body: String,
    /// The quoted history folded off a reply that came by mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quoted: Option<String>,
    /// Written (RFC 3339).
    pub created_at: String,
}

impl From<&Message> for MessageOut {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id,
            ticket_id: m.ticket_id,
            author: (&m.author).into(),
            internal: m.internal,
            body: m.body.clone(),
            quoted: m.quoted.clone(),
            created_at: rfc3339(m.created_at),
        }
    }
}

/// Escalate to the next tier: a reason and what was tried are required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalateIn {
    /// Why the ticket needs the next tier.
    pub reason: String,
    /// What was tried before escalating.
    pub tried: String,
    /// Team name; default: the team's escalation target.
    pub team: Option<String>,
}

/// Hand a ticket back down a tier with a note.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeescalateIn {
    /// What the lower tier should do now.
    pub note: String,
    /// Team name; default: the team it was escalated from.
    pub team: Option<String>,
}

/// Link a ticket.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLinkIn {
    /// `related`, `duplicate_of`, `caused_by` or `external_bug`.
    pub kind: String,
    /// Target ticket number (ticket links).
    pub target: Option<i64>,
    /// Target URL (`external_bug`).
    pub url: Option<String>,
}

/// A link.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkOut {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Target ticket number.
    pub target: Option<i64>,
    /// Target URL.
    pub url: Option<String>,
    /// Made (RFC 3339).
    pub created_at: String,
}

impl From<&Link> for LinkOut {
    fn from(l: &Link) -> Self {
        Self {
            id: l.id,
            kind: l.kind.as_str().to_owned(),
            target: l.target_ticket_id,
            url: l.url.clone(),
            created_at: rfc3339(l.created_at),
        }
    }
}

/// File a bug report for engineering (L3 and above).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BugReportIn {
    /// Steps to reproduce.
    pub steps: String,
    /// Expected behaviour.
    pub expected: String,
    /// Actual behaviour.
    pub actual: String,
    /// Version, platform, configuration.
    pub environment: String,
    /// Engineering's issue URL.
    pub external_url: Option<String>,
}

/// A bug report.
#[derive(Debug, Serialize, ToSchema)]
pub struct BugReportOut {
    /// Id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Steps to reproduce.
    pub steps: String,
    /// Expected.
    pub expected: String,
    /// Actual.
    pub actual: String,
    /// Environment.
    pub environment: String,
    /// Engineering's issue.
    pub external_url: Option<String>,
    /// Filed by (user id).
    pub created_by: i64,
    /// Filed (RFC 3339).
    pub created_at: String,
}

impl From<&BugReportRecord> for BugReportOut {
    fn from(b: &BugReportRecord) -> Self {
        Self {
            id: b.id,
            ticket_id: b.ticket_id,
            steps: b.steps.clone(),
            expected: b.expected.clone(),
            actual: b.actual.clone(),
            environment: b.environment.clone(),
            external_url: b.external_url.clone(),
            created_by: b.created_by,
            created_at: rfc3339(b.created_at),
        }
    }
}

/// An entry of a ticket's timeline, from the event log.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    /// Position in the log.
    pub seq: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: Option<PersonOut>,
    /// What happened, such as `ticket.escalated`.
    pub kind: String,
    /// Staff-only event.
    pub internal: bool,
    /// Details, such as `before` and `after`.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<&Event> for EventOut {
    fn from(e: &Event) -> Self {
        Self {
            seq: e.seq,
            at: rfc3339(e.at),
            actor: e.actor.as_ref().map(PersonOut::from),
            kind: e.kind.clone(),
            internal: e.internal,
            data: e.data.clone(),
        }
    }
}

/// A user.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    /// Id.
    pub id: i64,
    /// E-mail address.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Agent tier.
    pub tier: Option<String>,
    /// Customer organisation id.
    pub organization_id: Option<i64>,
    /// Team ids.
    pub team_ids: Vec<i64>,
    /// Whether the user may sign in and use API tokens.
    pub active: bool,
    /// Created (RFC 3339).
    pub created_at: String,
}

impl From<&User> for UserOut {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.as_str().to_owned(),
            tier: u.tier.map(|t| t.to_string()),
            organization_id: u.org_id,
            team_ids: u.team_ids.clone(),
            active: u.active,
            created_at: rfc3339(u.created_at),
        }
    }
}

/// Create a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserIn {
    /// E-mail address (sign-in name).
    pub email: String,
    /// Display name.
    pub name: String,
    /// `admin`, `manager`, `agent`, `customer` or `auditor`.
    pub role: String,
    /// Agent tier `L0`–`L4`.
    pub tier: Option<String>,
    /// Team names to join.
    pub teams: Option<Vec<String>>,
    /// Customer organisation name.
    pub organization: Option<String>,
    /// Password (at least 10 characters); without it the user cannot sign in to the UI.
    pub password: Option<String>,
}

/// Change a user; absent fields stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchUserIn {
    /// Display name.
    pub name: Option<String>,
    /// Tier `L0`–`L4`, or `null` to remove it (not for agents).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub tier: Option<Option<String>>,
    /// The complete new list of team names.
    pub teams: Option<Vec<String>>,
    /// `false` deactivates: no sign-in, no API tokens, sessions ended.
    pub active: Option<bool>,
}

/// A team.
#[derive(Debug, Serialize, ToSchema)]
pub struct TeamOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Tier `L0`–`L4`.
    pub tier: String,
    /// Team id tickets escalate to.
    pub escalates_to: Option<i64>,
    /// Business calendar id; the default calendar when absent.
    pub calendar_id: Option<i64>,
    /// Created (RFC 3339).
    pub created_at: String,
}

impl From<&Team> for TeamOut {
    fn from(t: &Team) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            tier: t.tier.to_string(),
            escalates_to: t.escalates_to,
            calendar_id: t.calendar_id,
            created_at: rfc3339(t.created_at),
        }
    }
}

/// Create a team.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTeamIn {
    /// Name.
    pub name: String,
    /// Tier `L0`–`L4`.
    pub tier: String,
    /// Name of the team tickets escalate to.
    pub escalates_to: Option<String>,
}

/// Change a team; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchTeamIn {
    /// Name of the team tickets escalate to, or `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub escalates_to: Option<Option<String>>,
    /// Name of the team's business calendar, or `null` for the default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub calendar: Option<Option<String>>,
}

/// An organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrgOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Business calendar id (contracted hours), if set.
    pub calendar_id: Option<i64>,
    /// Plan ("gold"), if set.
    pub plan: Option<String>,
}

impl From<&Org> for OrgOut {
    fn from(o: &Org) -> Self {
        Self {
            id: o.id,
            name: o.name.clone(),
            created_at: rfc3339(o.created_at),
            calendar_id: o.calendar_id,
            plan: o.plan.clone(),
        }
    }
}

/// Create an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrgIn {
    /// Name.
    pub name: String,
}

/// Create an API token for a user.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenIn {
    /// The user's e-mail address.
    pub email: String,
    /// What the token is for.
    pub name: Option<String>,
}

/// A new API token; the secret is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    /// Token id.
    pub id: i64,
    /// The secret to send as `Authorization: Bearer …`.
    pub token: String,
}

/// An API token as listed (the secret is never shown again).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenInfoOut {
    /// Token id.
    pub id: i64,
    /// Owner's user id.
    pub user_id: i64,
    /// Owner's e-mail address.
    pub user_email: String,
    /// What it is for.
    pub name: String,
    /// Created (RFC 3339).
    pub created_at: String,
}

impl From<&opsdesk_store::TokenInfo> for TokenInfoOut {
    fn from(t: &opsdesk_store::TokenInfo) -> Self {
        Self {
            id: t.id,
            user_id: t.user_id,
            user_email: t.user_email.clone(),
            name: t.name.clone(),
            created_at: rfc3339(t.created_at),
        }
    }
}

/// Server health.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthOut {
    /// `ok` when the database answers.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// opsdesk version.
    pub version: String,
}

// ---- SLA: calendars, policies, clocks ----

/// Opening hours per weekday: `"09:00-17:00"`, `"08:00-12:00, 13:00-17:00"`, or empty/absent
/// for closed.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeekHoursWire {
    /// Monday.
    #[serde(default)]
    pub mon: String,
    /// Tuesday.
    #[serde(default)]
    pub tue: String,
    /// Wednesday.
    #[serde(default)]
    pub wed: String,
    /// Thursday.
    #[serde(default)]
    pub thu: String,
    /// Friday.
    #[serde(default)]
    pub fri: String,
    /// Saturday.
    #[serde(default)]
    pub sat: String,
    /// Sunday.
    #[serde(default)]
    pub sun: String,
}

impl WeekHoursWire {
    /// The seven days, Monday first, with their field names.
    pub fn days(&self) -> [(&'static str, &str); 7] {
        [
            ("hours.mon", &self.mon),
            ("hours.tue", &self.tue),
            ("hours.wed", &self.wed),
            ("hours.thu", &self.thu),
            ("hours.fri", &self.fri),
            ("hours.sat", &self.sat),
            ("hours.sun", &self.sun),
        ]
    }

    /// Builds the wire form from seven day texts, Monday first.
    pub fn from_days(days: [String; 7]) -> Self {
        let [mon, tue, wed, thu, fri, sat, sun] = days;
        Self {
            mon,
            tue,
            wed,
            thu,
            fri,
            sat,
            sun,
        }
    }
}

/// A holiday: `date` is `YYYY-MM-DD` (once) or `MM-DD` (every year).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayWire {
    /// `2026-12-24` or `12-25`.
    pub date: String,
    /// Name ("Christmas Day").
    pub name: String,
}

/// Create or replace a business calendar.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarIn {
    /// Name, unique.
    pub name: String,
    /// IANA time zone, such as `Europe/Berlin`.
    pub zone: String,
    /// Opening hours per weekday.
    pub hours: WeekHoursWire,
    /// Holidays (replaces the list on update).
    #[serde(default)]
    pub holidays: Vec<HolidayWire>,
    /// Make it the default calendar.
    #[serde(default)]
    pub default: bool,
}

/// A business calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// IANA time zone.
    pub zone: String,
    /// Opening hours.
    pub hours: WeekHoursWire,
    /// Holidays.
    pub holidays: Vec<HolidayWire>,
    /// Whether it is the default calendar.
    pub default: bool,
    /// One-line description.
    pub summary: String,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// Holidays to import from an iCalendar file.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IcsImportIn {
    /// The text of the .ics file.
    pub ics: String,
}

/// How many holidays an import added.
#[derive(Debug, Serialize, ToSchema)]
pub struct IcsImportOut {
    /// Holidays added (dates already present are skipped).
    pub added: usize,
}

/// One metric's target.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetWire {
    /// Minutes, 1 to a year.
    pub minutes: i64,
    /// Count business time per the calendar (default) or calendar time.
    #[serde(default = "yes")]
    pub business: bool,
    /// Pending reasons that pause this clock: `customer`, `vendor`, `internal`. Absent: the
    /// default (customer and vendor pause resolution and periodic update; responses never).
    #[serde(default)]
    pub pauses: Option<Vec<String>>,
}

fn yes() -> bool {
    true
}

/// Targets per metric; absent metrics are not measured.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetsWire {
    /// Creation to the first public reply.
    #[serde(default)]
    pub first_response: Option<TargetWire>,
    /// Each later customer reply to the next public reply.
    #[serde(default)]
    pub next_response: Option<TargetWire>,
    /// Creation to resolution (summed over reopenings).
    #[serde(default)]
    pub resolution: Option<TargetWire>,
    /// Between public updates while active.
    #[serde(default)]
    pub periodic_update: Option<TargetWire>,
}

/// When a policy applies; every list given must match, empty lists match anything.
#[derive(Debug, Default, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionsWire {
    /// `urgent`, `high`, `normal`, `low`.
    #[serde(default)]
    pub priorities: Vec<String>,
    /// Team names.
    #[serde(default)]
    pub teams: Vec<String>,
    /// Organisation names.
    #[serde(default)]
    pub organizations: Vec<String>,
    /// Organisation plans.
    #[serde(default)]
    pub plans: Vec<String>,
    /// Tags (any).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Channels: `portal`, `desk`, `api`, `email`.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Categories (ticket types).
    #[serde(default)]
    pub categories: Vec<String>,
}

/// One action of an escalation level.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionWire {
    /// `notify_assignee`, `notify_team`, `notify_team_managers`, `notify_user`,
    /// `raise_priority`, `move_to_team`, `escalate_tier`, `add_tag`, `webhook`.
    pub kind: String,
    /// For `notify_user` an e-mail, `move_to_team` a team name, `add_tag` a tag, `webhook` a URL.
    #[serde(default)]
    pub target: Option<String>,
}

/// One level of the escalation matrix.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelWire {
    /// `75%`, `100%`, `+1h`, `-30m`: relative to the clock's target.
    pub at: String,
    /// The clock it watches; absent: every clock of the policy.
    #[serde(default)]
    pub metric: Option<String>,
    /// What it does.
    pub actions: Vec<ActionWire>,
}

/// Create or replace an SLA policy.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyIn {
    /// Name, unique.
    pub name: String,
    /// Place in the order, 1 first; absent: last (on create) or unchanged.
    #[serde(default)]
    pub position: Option<i64>,
    /// When it applies.
    #[serde(default)]
    pub conditions: ConditionsWire,
    /// Targets.
    pub targets: TargetsWire,
    /// Escalation levels.
    #[serde(default)]
    pub levels: Vec<LevelWire>,
}

/// An SLA policy.
#[derive(Debug, Serialize, ToSchema)]
pub struct PolicyOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Place in the order, 1 first.
    pub position: i64,
    /// When it applies.
    pub conditions: ConditionsWire,
    /// Targets.
    pub targets: TargetsWire,
    /// Escalation levels.
    pub levels: Vec<LevelWire>,
    /// Last changed (RFC 3339).
    pub updated_at: String,
}

/// One SLA clock cycle of a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockOut {
    /// `first_response`, `next_response`, `resolution`, `periodic_update`.
    pub metric: String,
    /// 0 for the first cycle.
    pub cycle: u32,
    /// `running`, `paused`, `met` or `breached`.
    pub state: String,
    /// Target in minutes.
    pub target_minutes: i64,
    /// Business time (per the calendar) or calendar time.
    pub business: bool,
    /// Started (RFC 3339).
    pub started_at: String,
    /// Stopped, once met or breached for good.
    pub stopped_at: Option<String>,
    /// When the target is (or was) reached; absent while paused within target.
    pub due_at: Option<String>,
    /// When it turns "warning" (75 % used).
    pub warn_at: Option<String>,
    /// Counted seconds so far.
    pub elapsed_seconds: i64,
    /// Seconds spent paused.
    pub paused_seconds: i64,
    /// Target minus elapsed, in seconds (negative: overdue).
    pub margin_seconds: i64,
    /// The computation in words.
    pub explanation: String,
}

/// A name with its id.
#[derive(Debug, Serialize, ToSchema)]
pub struct NamedRef {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
}

/// The SLA of one ticket: policy, calendar and clocks, computed from its history.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketSlaOut {
    /// The policy that applies.
    pub policy: Option<NamedRef>,
    /// The calendar business time counts in.
    pub calendar: Option<NamedRef>,
    /// Where the calendar comes from: `organisation`, `team`, `default`.
    pub calendar_source: String,
    /// Every clock cycle.
    pub clocks: Vec<ClockOut>,
}

/// A clock near its next breach or escalation.
#[derive(Debug, Serialize, ToSchema)]
pub struct AtRiskOut {
    /// Ticket id.
    pub ticket_id: i64,
    /// Subject.
    pub subject: String,
    /// Team.
    pub team: String,
    /// Priority.
    pub priority: String,
    /// Metric.
    pub metric: String,
    /// `running`, `paused` or `breached`.
    pub state: String,
    /// Due instant.
    pub due_at: Option<String>,
    /// The next breach or level instant not yet fired.
    pub next_at: Option<String>,
    /// Assignee e-mail.
    pub assignee: Option<String>,
}

/// A background recomputation of clocks.
#[derive(Debug, Serialize, ToSchema)]
pub struct SlaJobOut {
    /// Id.
    pub id: i64,
    /// What caused it.
    pub reason: String,
    /// Open tickets to recompute.
    pub total: i64,
    /// Done so far.
    pub done: i64,
    /// Queued (RFC 3339).
    pub created_at: String,
    /// Finished.
    pub finished_at: Option<String>,
}

/// Calendar and plan of an organisation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchOrgIn {
    /// Calendar name, or `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub calendar: Option<Option<String>>,
    /// Plan ("gold"), or `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub plan: Option<Option<String>>,
}

/// An in-app notification.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    /// Id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: Option<i64>,
    /// Text.
    pub text: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Seen.
    pub read: bool,
}

/// Create or replace a vendor.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorIn {
    /// Name, unique.
    pub name: String,
    /// How to reach its support: e-mail, phone, portal (free text).
    #[serde(default)]
    pub contacts: String,
    /// Its support-hours calendar (name); around the clock when absent.
    #[serde(default)]
    pub calendar: Option<String>,
    /// Minutes (in its calendar) to its first response.
    #[serde(default)]
    pub response_minutes: Option<i64>,
    /// Minutes (in its calendar) until the ticket no longer waits on it.
    #[serde(default)]
    pub resolution_minutes: Option<i64>,
}

/// A vendor, with how its clocks went.
#[derive(Debug, Serialize, ToSchema)]
pub struct VendorOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Contacts.
    pub contacts: String,
    /// Support-hours calendar name, if any.
    pub calendar: Option<String>,
    /// Response target, minutes.
    pub response_minutes: Option<i64>,
    /// Resolution target, minutes.
    pub resolution_minutes: Option<i64>,
    /// Response clocks: met.
    pub response_met: i64,
    /// Response clocks: breached (including running past due).
    pub response_breached: i64,
    /// Resolution clocks: met.
    pub resolution_met: i64,
    /// Resolution clocks: breached (including running past due).
    pub resolution_breached: i64,
    /// Clocks still running.
    pub running: i64,
}

/// A list of items (short lists, unpaginated).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    /// The items.
    pub items: Vec<T>,
}
