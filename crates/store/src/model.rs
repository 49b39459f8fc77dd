//! What the store hands back: rows as typed records, built from validated domain values.

use jiff::Timestamp;
use opsdesk_domain::access::Actor;
use opsdesk_domain::{Impact, LinkKind, PendingReason, Priority, Role, Status, Tier, Urgency};

/// A customer organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Org {
    /// Id.
    pub id: i64,
    /// Display name, unique regardless of case.
    pub name: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// Its business calendar (contracted support hours), if not the team's or the default.
    pub calendar_id: Option<i64>,
    /// Its plan ("gold"), which SLA policies can select on.
    pub plan: Option<String>,
}

/// A team: a queue of tickets worked at one tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    /// Id.
    pub id: i64,
    /// Display name, unique regardless of case.
    pub name: String,
    /// The tier the team works at.
    pub tier: Tier,
    /// The team tickets escalate to.
    pub escalates_to: Option<i64>,
    /// When it was created.
    pub created_at: Timestamp,
    /// Its business calendar; the default when `None`.
    pub calendar_id: Option<i64>,
}

/// A person who signs in: staff or customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Sign-in address, lower-case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// The agent's tier.
    pub tier: Option<Tier>,
    /// The customer's organisation.
    pub org_id: Option<i64>,
    /// Teams the user works in.
    pub team_ids: Vec<i64>,
    /// When the account was created.
    pub created_at: Timestamp,
    /// Whether the user may sign in and use API tokens.
    pub active: bool,
}

impl User {
    /// The user as the rules see them.
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            role: self.role,
            org_id: self.org_id,
            tier: self.tier,
        }
    }
}

/// Changes to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    /// New display name.
    pub name: Option<opsdesk_domain::Name>,
    /// `Some(None)` removes the tier.
    pub tier: Option<Option<Tier>>,
    /// The complete new set of teams.
    pub team_ids: Option<Vec<i64>>,
    /// Activate or deactivate.
    pub active: Option<bool>,
}

/// An API token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user_id: i64,
    /// Owner's address.
    pub user_email: String,
    /// What it is for.
    pub name: String,
    /// Created.
    pub created_at: Timestamp,
}

/// A user as shown next to a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRef {
    /// Id.
    pub id: i64,
    /// Address.
    pub email: String,
    /// Display name.
    pub name: String,
}

/// A ticket with the names of everything it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Id, also the ticket number people quote.
    pub id: i64,
    /// One-line summary.
    pub subject: String,
    /// Lifecycle status.
    pub status: Status,
    /// Priority.
    pub priority: Priority,
    /// Impact.
    pub impact: Impact,
    /// Urgency.
    pub urgency: Urgency,
    /// Tier the ticket sits at.
    pub tier: Tier,
    /// Team (queue).
    pub team_id: i64,
    /// Team name.
    pub team_name: String,
    /// Customer organisation.
    pub org_id: Option<i64>,
    /// Organisation name.
    pub org_name: Option<String>,
    /// Who raised it.
    pub requester: UserRef,
    /// Who works it.
    pub assignee: Option<UserRef>,
    /// Category.
    pub category: Option<String>,
    /// The service it is about: (id, name).
    pub service: Option<(i64, String)>,
    /// Intake channel: portal, desk, api, email.
    pub channel: String,
    /// Tags, sorted.
    pub tags: Vec<String>,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
    /// Why it waits, while pending.
    pub pending_reason: Option<PendingReason>,
    /// The nearest due instant of its running SLA clocks.
    pub sla_due_at: Option<Timestamp>,
    /// When the clock due nearest turns "warning" (75 % of its target used).
    pub sla_warn_at: Option<Timestamp>,
    /// The vendor it is (or was last) handed to: (id, name).
    pub vendor: Option<(i64, String)>,
    /// The vendor's reference for it (case number).
    pub vendor_ref: Option<String>,
}

impl Ticket {
    /// The facts authorization needs.
    pub fn scope(&self) -> opsdesk_domain::access::TicketScope {
        opsdesk_domain::access::TicketScope {
            org_id: self.org_id,
            requester_id: self.requester.id,
        }
    }
}

/// A reply or internal note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Id.
    pub id: i64,
    /// Ticket.
    pub ticket_id: i64,
    /// Author.
    pub author: UserRef,
    /// Whether only staff may read it.
    pub internal: bool,
    /// Text.
    pub body: String,
    /// Quoted history folded off a mailed reply.
    pub quoted: Option<String>,
    /// Written.
    pub created_at: Timestamp,
    /// Whether the author works on the desk's side.
    pub author_is_staff: bool,
}

/// A link from a ticket to another ticket or an external URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: LinkKind,
    /// Target ticket.
    pub target_ticket_id: Option<i64>,
    /// Target URL.
    pub url: Option<String>,
    /// Made.
    pub created_at: Timestamp,
}

/// A bug report filed for engineering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BugReportRecord {
    /// Id.
    pub id: i64,
    /// Ticket it came from.
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
    /// Filed by.
    pub created_by: i64,
    /// Filed.
    pub created_at: Timestamp,
}

/// One page of a list, with the cursor for the next page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// Items on this page.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next_cursor: Option<String>,
}

/// A team named by id or by name (names are matched regardless of case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamRef {
    /// By id.
    Id(i64),
    /// By name; the create is refused on the `team` field if no team has it.
    Name(String),
}

/// The service a new ticket is about: known already, or named (resolved in the create's own
/// transaction, so naming a service costs no read before it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceRef {
    /// By id, with its name.
    Known(i64, String),
    /// By name (matched regardless of case); the create is refused on the `service` field if
    /// no service has it.
    Name(String),
}

/// The input to create a ticket, already validated by the domain.
#[derive(Debug, Clone)]
pub struct NewTicket {
    /// Subject.
    pub subject: opsdesk_domain::Subject,
    /// First message.
    pub body: opsdesk_domain::Body,
    /// Requester's user id.
    pub requester_id: i64,
    /// Team; `None` picks the intake team (the lowest tier's first).
    pub team: Option<TeamRef>,
    /// Impact.
    pub impact: Impact,
    /// Urgency.
    pub urgency: Urgency,
    /// Explicit priority overriding the matrix.
    pub priority: Option<Priority>,
    /// Category.
    pub category: Option<opsdesk_domain::Category>,
    /// The service it is about.
    pub service: Option<ServiceRef>,
    /// Tags.
    pub tags: Vec<opsdesk_domain::Tag>,
    /// Intake channel.
    pub channel: &'static str,
}

/// A ticket brought in from elsewhere with its own state and times.
#[derive(Debug, Clone)]
pub struct ImportedTicket {
    /// The ticket as it would be created (its team must be given by id).
    pub ticket: NewTicket,
    /// Its organisation.
    pub org_id: Option<i64>,
    /// Its current status.
    pub status: opsdesk_domain::Status,
    /// Its tier.
    pub tier: Tier,
    /// Who works it.
    pub assignee_id: Option<i64>,
    /// When it was raised.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// The rest of its conversation after the first message, oldest first.
    pub replies: Vec<ImportedMessage>,
}

/// A message of an imported ticket's conversation.
#[derive(Debug, Clone)]
pub struct ImportedMessage {
    /// Who wrote it.
    pub author_id: i64,
    /// An internal note.
    pub internal: bool,
    /// What it says.
    pub body: opsdesk_domain::Body,
    /// When.
    pub created_at: Timestamp,
}

/// The input to create a user, already validated.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Address.
    pub email: opsdesk_domain::Email,
    /// Display name.
    pub name: opsdesk_domain::Name,
    /// Role.
    pub role: Role,
    /// Agent tier.
    pub tier: Option<Tier>,
    /// Customer organisation.
    pub org_id: Option<i64>,
    /// Teams to join.
    pub team_ids: Vec<i64>,
    /// argon2id PHC string, if the user signs in with a password.
    pub password_hash: Option<String>,
}

pub(crate) fn ts(micros: i64) -> Result<Timestamp, crate::StoreError> {
    Timestamp::from_microsecond(micros).map_err(|e| crate::StoreError::Corrupt(e.to_string()))
}

/// A user from three columns starting at `at` (id, email, name); `None` when the id is null.
pub(crate) fn user_at(
    r: &sqlx::any::AnyRow,
    at: usize,
) -> Result<Option<UserRef>, crate::StoreError> {
    use sqlx::Row;
    Ok(match r.try_get::<Option<i64>, _>(at)? {
        Some(id) => Some(UserRef {
            id,
            email: r.try_get::<Option<String>, _>(at + 1)?.unwrap_or_default(),
            name: r.try_get::<Option<String>, _>(at + 2)?.unwrap_or_default(),
        }),
        None => None,
    })
}
