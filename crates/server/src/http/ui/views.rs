//! Page templates (askama, checked at compile time) and the view models they render.

use askama::Template;
use jiff::Timestamp;
use opsdesk_domain::{Action, Actor};
use opsdesk_store::{Event, Message, Ticket, User};

use crate::error::FieldError;

/// What every page's frame shows: who is signed in, the CSRF token for its forms, a notice.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// The signed-in user, if any.
    pub me: Option<Me>,
    /// CSRF token every form posts back.
    pub csrf: String,
    /// A one-line notice at the top of the page.
    pub notice: String,
}

/// The signed-in user as the frame shows them.
#[derive(Debug, Clone)]
pub struct Me {
    /// Display name.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Role, with tier for agents (`agent L1`).
    pub label: String,
    /// Works on the staff side.
    pub is_staff: bool,
    /// May administer.
    pub is_admin: bool,
    /// May change SLA settings (admins and managers).
    pub manages_sla: bool,
}

impl Me {
    /// The frame's view of `user`, who acts as `actor`.
    pub fn of(user: &User, actor: &Actor) -> Self {
        let label = match user.tier {
            Some(tier) => format!("{} {tier}", user.role.as_str()),
            None => user.role.as_str().to_owned(),
        };
        Self {
            name: user.name.clone(),
            email: user.email.clone(),
            label,
            is_staff: actor.may(Action::ListQueues),
            is_admin: actor.may(Action::Administer),
            manages_sla: actor.may(Action::ManageSla),
        }
    }
}

/// Field errors of a submitted form, to show next to the fields.
#[derive(Debug, Clone, Default)]
pub struct FormErrors {
    /// The errors.
    pub errors: Vec<FieldError>,
}

impl FormErrors {
    /// The reason for `field`, or an empty string.
    pub fn err(&self, field: &str) -> &str {
        self.errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.reason.as_str())
            .unwrap_or("")
    }
}

/// Short age of `at` relative to `now`: `45s`, `12m`, `3h`, `5d`.
pub fn age(at: Timestamp, now: Timestamp) -> String {
    let secs = now.as_second().saturating_sub(at.as_second()).max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// An RFC 3339 instant from the wire as people read it (`Tue 24 Nov 08:00 UTC`); other text
/// is returned as it is.
pub fn readable(text: &str) -> String {
    text.parse::<Timestamp>()
        .map(|t| t.strftime("%a %d %b %H:%M UTC").to_string())
        .unwrap_or_else(|_| text.to_owned())
}

/// `2026-11-23 20:45 UTC`.
pub fn exact(at: Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

/// A ticket as a row or header shows it.
#[derive(Debug, Clone)]
pub struct TicketView {
    /// Id.
    pub id: i64,
    /// Subject.
    pub subject: String,
    /// Status name.
    pub status: String,
    /// Priority name.
    pub priority: String,
    /// Impact name.
    pub impact: String,
    /// Urgency name.
    pub urgency: String,
    /// Tier.
    pub tier: String,
    /// Team name.
    pub team: String,
    /// Organisation name or `—`.
    pub org: String,
    /// Requester's name.
    pub requester: String,
    /// Assignee's name or `—`.
    pub assignee: String,
    /// Assignee's e-mail or empty.
    pub assignee_email: String,
    /// Category or empty.
    pub category: String,
    /// The service it is about, or empty.
    pub service: String,
    /// Intake channel.
    pub channel: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Tags as one editable line.
    pub tags_text: String,
    /// Age since creation.
    pub age: String,
    /// Created, exact.
    pub created: String,
    /// Created, exact, for tooltips.
    pub created_exact: String,
    /// Updated, relative.
    pub updated: String,
    /// Updated, exact.
    pub updated_exact: String,
    /// Status with the pending reason: `pending – waiting on vendor`.
    pub status_label: String,
    /// SLA colour of the nearest due clock: `ok`, `warning`, `breached`, or empty (no clock runs).
    pub sla_state: &'static str,
    /// Nearest due, relative: `in 2h`, `15m overdue`, or empty.
    pub sla_due: String,
    /// Nearest due, exact.
    pub sla_due_exact: String,
    /// The vendor it is (or was last) handed to, or empty.
    pub vendor: String,
    /// The vendor's reference, or empty.
    pub vendor_ref: String,
    /// Whether it waits on a vendor right now.
    pub waiting_on_vendor: bool,
}

/// The SLA colour of a due instant: breached once due, warning once the warning instant passed.
pub fn sla_state(due: Option<Timestamp>, warn: Option<Timestamp>, now: Timestamp) -> &'static str {
    match due {
        None => "",
        Some(d) if d <= now => "breached",
        Some(_) if warn.is_some_and(|w| w <= now) => "warning",
        Some(_) => "ok",
    }
}

/// `in 2h` or `15m overdue`.
pub fn due_text(due: Timestamp, now: Timestamp) -> String {
    if due <= now {
        format!("{} overdue", age(due, now))
    } else {
        format!("in {}", age(now, due))
    }
}

impl TicketView {
    /// The view of `t` at `now`.
    pub fn of(t: &Ticket, now: Timestamp) -> Self {
        Self {
            id: t.id,
            subject: t.subject.clone(),
            status: t.status.as_str().to_owned(),
            priority: t.priority.as_str().to_owned(),
            impact: t.impact.as_str().to_owned(),
            urgency: t.urgency.as_str().to_owned(),
            tier: t.tier.to_string(),
            team: t.team_name.clone(),
            org: t.org_name.clone().unwrap_or_else(|| "—".into()),
            requester: t.requester.name.clone(),
            assignee: t
                .assignee
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_else(|| "—".into()),
            assignee_email: t
                .assignee
                .as_ref()
                .map(|a| a.email.clone())
                .unwrap_or_default(),
            category: t.category.clone().unwrap_or_default(),
            service: t
                .service
                .as_ref()
                .map(|(_, name)| name.clone())
                .unwrap_or_default(),
            channel: t.channel.clone(),
            tags: t.tags.clone(),
            tags_text: t.tags.join(", "),
            age: age(t.created_at, now),
            created: format!("{} ago", age(t.created_at, now)),
            created_exact: exact(t.created_at),
            updated: format!("{} ago", age(t.updated_at, now)),
            updated_exact: exact(t.updated_at),
            status_label: match t.pending_reason {
                Some(reason) if t.status == opsdesk_domain::Status::Pending => {
                    format!("pending – {}", reason.label())
                }
                _ => t.status.as_str().to_owned(),
            },
            sla_state: sla_state(t.sla_due_at, t.sla_warn_at, now),
            sla_due: t.sla_due_at.map(|d| due_text(d, now)).unwrap_or_default(),
            sla_due_exact: t.sla_due_at.map(exact).unwrap_or_default(),
            vendor: t
                .vendor
                .as_ref()
                .map(|(_, n)| n.clone())
                .unwrap_or_default(),
            vendor_ref: t.vendor_ref.clone().unwrap_or_default(),
            waiting_on_vendor: t.status == opsdesk_domain::Status::Pending
                && t.pending_reason == Some(opsdesk_domain::PendingReason::Vendor)
                && t.vendor.is_some(),
        }
    }
}

/// A message as the portal shows it.
#[derive(Debug, Clone)]
pub struct MessageView {
    /// Author's name.
    pub author: String,
    /// Written by the desk.
    pub from_staff: bool,
    /// Text.
    pub body: String,
    /// Quoted history folded off a mailed reply, or empty.
    pub quoted: String,
    /// Relative time.
    pub at: String,
    /// Exact time.
    pub at_exact: String,
}

/// One entry of a ticket's timeline on the desk: a message or an event from the log.
#[derive(Debug, Clone)]
pub struct TimelineItem {
    /// CSS class: `msg`, `note` or `event`.
    pub class: &'static str,
    /// Who.
    pub who: String,
    /// What happened, after the name.
    pub title: String,
    /// Details lines.
    pub lines: Vec<String>,
    /// Message text, or empty.
    pub body: String,
    /// Quoted history folded off a mailed reply, or empty.
    pub quoted: String,
    /// A page about the entry (the mail's headers), or empty.
    pub link: String,
    /// Staff-only.
    pub internal: bool,
    /// Relative time.
    pub at: String,
    /// Exact time.
    pub at_exact: String,
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) if items.is_empty() => "—".into(),
        serde_json::Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// The desk timeline: events from the log, with message bodies joined in.
pub fn timeline(events: &[Event], messages: &[Message], now: Timestamp) -> Vec<TimelineItem> {
    events
        .iter()
        .filter_map(|e| {
            let who = e
                .actor
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_else(|| "opsdesk".into());
            let mut item = TimelineItem {
                class: "event",
                who,
                title: String::new(),
                lines: Vec::new(),
                body: String::new(),
                quoted: String::new(),
                link: String::new(),
                internal: e.internal,
                at: format!("{} ago", age(e.at, now)),
                at_exact: exact(e.at),
            };
            let data = &e.data;
            match e.kind.as_str() {
                "ticket.imported" | "ticket.created" => {
                    item.class = "msg";
                    item.title = if e.kind == "ticket.imported" {
                        "raised the ticket (imported)".into()
                    } else {
                        format!("raised the ticket via {}", text(&data["after"]["channel"]))
                    };
                    let id = data["message_id"].as_i64();
                    if let Some(message) = messages.iter().find(|m| Some(m.id) == id) {
                        item.body = message.body.clone();
                        item.quoted = message.quoted.clone().unwrap_or_default();
                    }
                }
                "message.added" => {
                    let id = data["message_id"].as_i64();
                    let message = messages.iter().find(|m| Some(m.id) == id)?;
                    item.class = if message.internal { "note" } else { "msg" };
                    item.title = if message.internal {
                        "added a note".into()
                    } else {
                        "replied".into()
                    };
                    item.body = message.body.clone();
                    item.quoted = message.quoted.clone().unwrap_or_default();
                }
                "mail.received" => {
                    item.title = format!(
                        "— mail from {}{}",
                        text(&data["from"]),
                        match data["attachments"].as_i64() {
                            Some(n) if n > 0 => format!(" with {n} attachment(s)"),
                            _ => String::new(),
                        }
                    );
                    item.lines
                        .push(format!("Subject: {}", text(&data["subject"])));
                    item.link = format!("/desk/mail/{}", text(&data["mail_id"]));
                }
                "mail.queued" => {
                    item.title =
                        format!("— {} mail to {}", text(&data["purpose"]), text(&data["to"]));
                    item.lines
                        .push(format!("Subject: {}", text(&data["subject"])));
                    item.link = format!("/desk/mail/{}", text(&data["mail_id"]));
                }
                "mail.bounced" => {
                    item.class = "event escalation";
                    item.title = "— mail bounced".into();
                    item.lines.push(text(&data["reason"]));
                    item.link = format!("/desk/mail/{}", text(&data["mail_id"]));
                }
                "ticket.updated" => {
                    item.title = "changed".into();
                    if let Some(after) = data["after"].as_object() {
                        for (field, value) in after {
                            item.lines.push(format!(
                                "{field}: {} → {}",
                                text(&data["before"][field]),
                                text(value)
                            ));
                        }
                    }
                }
                "ticket.escalated" | "ticket.deescalated" => {
                    let up = e.kind == "ticket.escalated";
                    item.class = if up { "event escalation" } else { "event" };
                    item.title = format!(
                        "{} from {} ({}) to {} ({})",
                        if up { "escalated" } else { "handed back" },
                        text(&data["before"]["team"]),
                        text(&data["before"]["tier"]),
                        text(&data["after"]["team"]),
                        text(&data["after"]["tier"])
                    );
                    item.lines.push(format!(
                        "{}: {}",
                        if up { "Reason" } else { "Note" },
                        text(&data["reason"])
                    ));
                    if up {
                        item.lines.push(format!("Tried: {}", text(&data["tried"])));
                    }
                }
                "link.added" => {
                    let target = match data["after"]["target"].as_i64() {
                        Some(id) => format!("#{id}"),
                        None => text(&data["after"]["url"]),
                    };
                    item.title = format!("linked {} {target}", text(&data["after"]["kind"]));
                }
                "bug_report.filed" => {
                    item.title = "filed a bug report for engineering".into();
                    item.lines
                        .push(format!("Actual: {}", text(&data["after"]["actual"])));
                }
                "article.linked" => {
                    item.title = format!("linked the article “{}”", text(&data["title"]));
                }
                "runbook.started" => {
                    item.title = format!("started the runbook “{}”", text(&data["runbook"]));
                }
                "runbook.step" => {
                    item.title = format!(
                        "{} step {}: {}",
                        text(&data["outcome"]),
                        text(&data["position"]),
                        text(&data["step"])
                    );
                    let note = text(&data["note"]);
                    if !note.is_empty() {
                        item.lines.push(note);
                    }
                }
                "runbook.finished" => {
                    item.title = format!("finished the runbook “{}”", text(&data["runbook"]));
                }
                other => item.title = other.to_owned(),
            }
            Some(item)
        })
        .collect()
}

/// Sign-in page.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// Frame.
    pub chrome: Chrome,
    /// Error to show.
    pub error: String,
    /// Address typed so far.
    pub email: String,
    /// Where to go after signing in.
    pub next: String,
}

/// A page with a heading and a sentence (errors, confirmations).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    /// Frame.
    pub chrome: Chrome,
    /// Heading.
    pub heading: String,
    /// Sentence.
    pub text: String,
}

/// The customer's ticket list.
#[derive(Template)]
#[template(path = "portal_list.html")]
pub struct PortalList {
    /// Frame.
    pub chrome: Chrome,
    /// Organisation name.
    pub org: Option<String>,
    /// Tickets.
    pub tickets: Vec<TicketView>,
    /// Cursor of the next page.
    pub next_cursor: Option<String>,
}

/// The customer's new-request form.
#[derive(Template)]
#[template(path = "portal_new.html")]
pub struct PortalNew {
    /// Frame.
    pub chrome: Chrome,
    /// Errors of the last submit.
    pub form: FormErrors,
    /// Subject typed.
    pub subject: String,
    /// Body typed.
    pub body: String,
    /// Category chosen.
    pub category: String,
    /// Categories offered.
    pub categories: Vec<&'static str>,
}

/// A ticket in the portal.
#[derive(Template)]
#[template(path = "portal_ticket.html")]
pub struct PortalTicket {
    /// Frame.
    pub chrome: Chrome,
    /// Errors of the last submit.
    pub form: FormErrors,
    /// The ticket.
    pub t: TicketView,
    /// Public messages.
    pub messages: Vec<MessageView>,
    /// Attachments that came by mail.
    pub attachments: Vec<AttachmentView>,
}

/// A queue entry in the sidebar.
#[derive(Debug, Clone)]
pub struct QueueLink {
    /// Team name.
    pub name: String,
    /// Tier.
    pub tier: String,
    /// Active tickets.
    pub count: i64,
}

/// The queue filters as the URL carries them.
#[derive(Debug, Clone, Default)]
pub struct QueueFilters {
    /// Team.
    pub team: String,
    /// Status selection.
    pub status: String,
    /// Priority.
    pub priority: String,
    /// Tier.
    pub tier: String,
    /// Assignee.
    pub assignee: String,
    /// Tag.
    pub tag: String,
    /// Service.
    pub service: String,
    /// Text.
    pub q: String,
    /// Order.
    pub sort: String,
}

/// The rows of a queue: rendered inside the page, or alone for htmx.
#[derive(Template)]
#[template(path = "desk_queue_rows.html")]
pub struct QueueRows {
    /// Tickets.
    pub tickets: Vec<TicketView>,
    /// URL of the next page.
    pub next_url: Option<String>,
}

/// The agent workspace: queues and a filtered, sorted ticket table.
#[derive(Template)]
#[template(path = "desk_queue.html")]
pub struct DeskQueue {
    /// Frame.
    pub chrome: Chrome,
    /// Page title.
    pub title: String,
    /// Sidebar queues.
    pub queues: Vec<QueueLink>,
    /// Active tickets in all queues.
    pub total_active: i64,
    /// Current filters.
    pub filters: QueueFilters,
    /// A filter error to show.
    pub error: String,
    /// The table.
    pub rows: QueueRows,
    /// (value, label) of status choices.
    pub status_options: Vec<(&'static str, &'static str)>,
    /// (value, label) of sort choices.
    pub sort_options: Vec<(&'static str, &'static str)>,
    /// Priority names.
    pub priorities: Vec<&'static str>,
    /// Tier names.
    pub tiers: Vec<String>,
    /// Service names.
    pub services: Vec<String>,
}

/// Values typed into the desk's new-ticket form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewTicketValues {
    /// Requester.
    #[serde(default)]
    pub requester_email: String,
    /// Subject.
    #[serde(default)]
    pub subject: String,
    /// Team.
    #[serde(default)]
    pub team: String,
    /// Impact.
    #[serde(default)]
    pub impact: String,
    /// Urgency.
    #[serde(default)]
    pub urgency: String,
    /// Category.
    #[serde(default)]
    pub category: String,
    /// The service it is about (name), or empty.
    #[serde(default)]
    pub service: String,
    /// Tags, comma-separated.
    #[serde(default)]
    pub tags: String,
    /// Description.
    #[serde(default)]
    pub body: String,
}

/// The desk's new-ticket form.
#[derive(Template)]
#[template(path = "desk_new.html")]
pub struct DeskNew {
    /// Frame.
    pub chrome: Chrome,
    /// Errors of the last submit.
    pub form: FormErrors,
    /// Values typed.
    pub values: NewTicketValues,
    /// Team names.
    pub teams: Vec<String>,
    /// Service names.
    pub services: Vec<String>,
    /// Impact/urgency levels.
    pub levels: Vec<&'static str>,
}

/// A link as the ticket page lists it.
#[derive(Debug, Clone)]
pub struct LinkView {
    /// Kind.
    pub kind: String,
    /// Text.
    pub label: String,
    /// Where it goes, or empty.
    pub href: String,
}

/// One clock on the ticket page.
#[derive(Debug, Clone)]
pub struct ClockRow {
    /// "First response", with the cycle when there are several.
    pub label: String,
    /// `running`, `paused`, `met`, `breached`.
    pub state: String,
    /// `ok`, `warning` or `breached` for colour, `done` once stopped, `paused`.
    pub colour: &'static str,
    /// Due or result, in words.
    pub headline: String,
    /// The computation in words.
    pub explanation: String,
}

/// The SLA panel of the ticket page.
#[derive(Debug, Clone, Default)]
pub struct SlaPanel {
    /// Policy name, or empty when none applies.
    pub policy: String,
    /// Calendar name and where it comes from.
    pub calendar: String,
    /// The calendar's hours in one line.
    pub hours: String,
    /// Active clocks and the latest cycle of each finished one.
    pub clocks: Vec<ClockRow>,
}

/// A ticket in the agent workspace.
#[derive(Template)]
#[template(path = "desk_ticket.html")]
pub struct DeskTicket {
    /// Frame.
    pub chrome: Chrome,
    /// Errors of the last submit.
    pub form: FormErrors,
    /// The ticket.
    pub t: TicketView,
    /// Messages and events.
    pub timeline: Vec<TimelineItem>,
    /// May reply and triage.
    pub can_write: bool,
    /// Has a team to escalate to.
    pub can_escalate: bool,
    /// Sits above L0 and can be handed back.
    pub can_deescalate: bool,
    /// May file bug reports.
    pub can_file_bug: bool,
    /// Name of the escalation target.
    pub escalates_to: String,
    /// (value, label, selected) status choices, one per pending reason.
    pub statuses: Vec<(String, String, bool)>,
    /// Impact/urgency levels.
    pub levels: Vec<&'static str>,
    /// Priority names.
    pub priorities: Vec<&'static str>,
    /// (email, name) of people who can be assigned.
    pub assignees: Vec<(String, String)>,
    /// Teams at the ticket's tier.
    pub same_tier_teams: Vec<String>,
    /// Links.
    pub links: Vec<LinkView>,
    /// Link kinds.
    pub link_kinds: Vec<&'static str>,
    /// Bug reports.
    pub bug_reports: Vec<opsdesk_store::BugReportRecord>,
    /// SLA policy, calendar and clocks.
    pub sla: SlaPanel,
    /// Vendor names to hand a ticket to.
    pub vendors: Vec<String>,
    /// Service names a ticket can be about.
    pub services: Vec<String>,
    /// Incidents this ticket is linked to: (id, severity, title, status).
    pub incidents: Vec<(i64, String, String, String)>,
    /// May declare an incident from this ticket.
    pub can_declare: bool,
    /// Mail in and out: (id, direction arrow, state, peer address, subject).
    pub mails: Vec<(i64, &'static str, String, String, String)>,
    /// Attachments.
    pub attachments: Vec<AttachmentView>,
}

/// An attachment as pages list it.
#[derive(Debug, Clone)]
pub struct AttachmentView {
    /// Id (downloads at `/attachments/{id}`).
    pub id: i64,
    /// File name.
    pub filename: String,
    /// Size, readable.
    pub size: String,
    /// Why it was not kept, or empty.
    pub rejected: String,
}

impl From<&opsdesk_store::Attachment> for AttachmentView {
    fn from(a: &opsdesk_store::Attachment) -> Self {
        let size = match a.size {
            s if s < 1024 => format!("{s} B"),
            s if s < 1024 * 1024 => format!("{} KB", s / 1024),
            s => format!("{:.1} MB", s as f64 / 1_048_576.0),
        };
        Self {
            id: a.id,
            filename: a.filename.clone(),
            size,
            rejected: a.rejected.clone().unwrap_or_default(),
        }
    }
}

/// One row of the at-risk view.
#[derive(Debug, Clone)]
pub struct AtRiskRow {
    /// Ticket id.
    pub ticket_id: i64,
    /// Subject.
    pub subject: String,
    /// Team.
    pub team: String,
    /// Priority.
    pub priority: String,
    /// Metric label.
    pub metric: String,
    /// `warning` or `breached`.
    pub colour: &'static str,
    /// What comes next and when: `breach in 12m`, `level in 40m`, `breached 5m ago`.
    pub next: String,
    /// Exact time of the next trigger.
    pub next_exact: String,
    /// Assignee e-mail or `—`.
    pub assignee: String,
}

/// The live at-risk view for managers: clocks whose next level fires soon, and breaches.
#[derive(Template)]
#[template(path = "desk_at_risk.html")]
pub struct DeskAtRisk {
    /// Frame.
    pub chrome: Chrome,
    /// Minutes looked ahead.
    pub within: i64,
    /// Team filter.
    pub team: String,
    /// Team names for the filter.
    pub teams: Vec<String>,
    /// The rows.
    pub rows: AtRiskRows,
}

/// The rows of the at-risk view (the part htmx refreshes).
#[derive(Template)]
#[template(path = "desk_at_risk_rows.html")]
pub struct AtRiskRows {
    /// Rows, soonest first.
    pub items: Vec<AtRiskRow>,
    /// When the list was read.
    pub as_of: String,
}

/// The signed-in person's notifications.
#[derive(Template)]
#[template(path = "desk_notifications.html")]
pub struct DeskNotifications {
    /// Frame.
    pub chrome: Chrome,
    /// (ticket id or 0, text, when, unread).
    pub items: Vec<(i64, String, String, bool)>,
}

/// A user row on the admin page.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// E-mail.
    pub email: String,
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Tier or empty.
    pub tier: String,
    /// Whether the user may sign in.
    pub active: bool,
}

/// The administration page.
#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    /// Frame.
    pub chrome: Chrome,
    /// Errors of the last submit.
    pub form: FormErrors,
    /// A token just created, shown once.
    pub new_token: String,
    /// (name, tier, escalates-to name).
    pub teams: Vec<(String, String, String)>,
    /// Organisation names.
    pub orgs: Vec<String>,
    /// Users.
    pub users: Vec<UserRow>,
    /// Role names.
    pub roles: Vec<&'static str>,
    /// Tier names.
    pub tiers: Vec<String>,
    /// API tokens: (id, owner, name, created).
    pub tokens: Vec<(i64, String, String, String)>,
    /// This process's search index.
    pub search: crate::wire::knowledge::SearchStatusOut,
}

/// A calendar on the SLA page.
#[derive(Debug, Clone)]
pub struct CalendarRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// IANA zone.
    pub zone: String,
    /// Hours in one line.
    pub summary: String,
    /// Whether it is the default.
    pub default: bool,
    /// (weekday field name, hours text), Monday first.
    pub days: Vec<(String, String)>,
    /// Holidays, one `date name` per line.
    pub holidays: String,
}

/// A policy on the SLA page, as its edit form shows it.
#[derive(Debug, Clone)]
pub struct PolicyRow {
    /// Id.
    pub id: i64,
    /// Position, 1 first.
    pub position: i64,
    /// Name.
    pub name: String,
    /// Comma-separated priorities.
    pub priorities: String,
    /// Comma-separated team names.
    pub teams: String,
    /// Comma-separated organisation names.
    pub organizations: String,
    /// Comma-separated plans.
    pub plans: String,
    /// Comma-separated tags.
    pub tags: String,
    /// Comma-separated channels.
    pub channels: String,
    /// Comma-separated categories.
    pub categories: String,
    /// (field prefix, label, (minutes, business, pauses)) per metric.
    pub targets: Vec<(&'static str, &'static str, (String, bool, String))>,
    /// Escalation levels, one line each.
    pub levels: String,
    /// When it applies and what it promises, in one line.
    pub summary: String,
}

/// SLA administration.
#[derive(Template)]
#[template(path = "admin_sla.html")]
pub struct AdminSlaPage {
    /// Frame.
    pub chrome: Chrome,
    /// Errors of the last submit.
    pub form: FormErrors,
    /// Calendars.
    pub calendars: Vec<CalendarRow>,
    /// Policies in order.
    pub policies: Vec<PolicyRow>,
    /// (team, calendar name or empty).
    pub teams: Vec<(String, String)>,
    /// (organisation, calendar name or empty, plan).
    pub orgs: Vec<(String, String, String)>,
    /// Calendar names for pickers.
    pub calendar_names: Vec<String>,
    /// The target rows of a new policy, with the default pauses.
    pub blank_targets: Vec<(&'static str, &'static str, (String, bool, String))>,
    /// (reason, state) of recent recomputations.
    pub jobs: Vec<(String, String)>,
    /// (kind, target, state) of recent outbox items.
    pub outbox: Vec<(String, String, String)>,
    /// Vendors.
    pub vendors: Vec<VendorRow>,
}

/// A vendor on the SLA page.
#[derive(Debug, Clone)]
pub struct VendorRow {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Contacts.
    pub contacts: String,
    /// Calendar name or empty (around the clock).
    pub calendar: String,
    /// Response target minutes or empty.
    pub response: String,
    /// Resolution target minutes or empty.
    pub resolution: String,
    /// "met / breached" of response clocks.
    pub response_results: String,
    /// "met / breached" of resolution clocks.
    pub resolution_results: String,
    /// Clocks running now.
    pub running: i64,
}
