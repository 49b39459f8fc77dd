//! The JSON shapes of mailboxes, stored mail, attachments, templates and mail domains.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How to reach a mail server.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerIn {
    /// Host name or address.
    pub host: String,
    /// Port (default by security: IMAP 993/143, SMTP 465/587/25).
    #[serde(default)]
    pub port: Option<u16>,
    /// `tls` (default), `starttls` or `none`.
    #[serde(default)]
    pub security: Option<String>,
    /// Login; empty for none.
    #[serde(default)]
    pub user: String,
    /// Password; on an update, absent or empty keeps the stored one.
    #[serde(default)]
    pub password: String,
}

/// A mailbox as an admin sets it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailboxIn {
    /// Unique name.
    pub name: String,
    /// The address customers write to; replies come from it.
    pub address: String,
    /// The name shown beside the address (default: the mailbox name).
    #[serde(default)]
    pub display_name: Option<String>,
    /// The team new tickets go to.
    pub team: String,
    /// Where mail is fetched; absent for a mailbox fed by `opsdesk mail ingest` or the API.
    #[serde(default)]
    pub imap: Option<ServerIn>,
    /// The IMAP folder (default `INBOX`).
    #[serde(default)]
    pub folder: Option<String>,
    /// Where mail is sent; absent for a mailbox that sends nothing.
    #[serde(default)]
    pub smtp: Option<ServerIn>,
    /// Attachments above this many bytes are recorded as rejected (default 25 MB).
    #[serde(default)]
    pub max_attachment_bytes: Option<i64>,
    /// More messages than this from one sender in an hour are held (default 30).
    #[serde(default)]
    pub sender_limit_per_hour: Option<i64>,
    /// Polled and used for sending (default true).
    #[serde(default)]
    pub active: Option<bool>,
    /// A certificate (PEM) to trust for this mailbox's IMAP and SMTP servers besides the
    /// public roots: a private CA or a self-signed server; empty for none.
    #[serde(default)]
    pub tls_ca: Option<String>,
}

/// A mail server as shown (never its password).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServerOut {
    /// Host.
    pub host: String,
    /// Port.
    pub port: u16,
    /// `tls`, `starttls` or `none`.
    pub security: String,
    /// Login.
    pub user: String,
    /// Whether a password is stored.
    pub password_set: bool,
}

/// A mailbox with its fetch state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailboxOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Display name.
    pub display_name: String,
    /// Team new tickets go to.
    pub team: String,
    /// IMAP server.
    pub imap: Option<ServerOut>,
    /// IMAP folder.
    pub folder: String,
    /// SMTP server.
    pub smtp: Option<ServerOut>,
    /// Attachment limit in bytes.
    pub max_attachment_bytes: i64,
    /// Messages per sender and hour.
    pub sender_limit_per_hour: i64,
    /// Active.
    pub active: bool,
    /// When it was last polled.
    pub last_polled_at: Option<String>,
    /// What went wrong at the last poll.
    pub last_error: Option<String>,
    /// The highest IMAP UID taken in.
    pub last_uid: i64,
    /// Whether a certificate besides the public roots is trusted.
    pub tls_ca: bool,
}

/// A message in or out, with its headers and delivery state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MailOut {
    /// Id.
    pub id: i64,
    /// `in` or `out`.
    pub direction: String,
    /// Mailbox id.
    pub mailbox_id: Option<i64>,
    /// Ticket.
    pub ticket_id: Option<i64>,
    /// The ticket message it became or carries.
    pub ticket_message_id: Option<i64>,
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// `References`.
    pub references: Vec<String>,
    /// Sender.
    pub from: String,
    /// Recipients.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Inbound: received, auto_reply, unparseable, ignored, rate_limited, bounce.
    /// Outbound: queued, sent, failed, bounced.
    pub state: String,
    /// Why (ignored, held, bounced, the last delivery error).
    pub reason: Option<String>,
    /// Why it counts as automatic.
    pub automatic: Option<String>,
    /// Delivery attempts (outbound).
    pub attempts: i64,
    /// The header block.
    pub headers: String,
    /// Whether the source is kept (`GET /api/v1/mail/{id}/source`).
    pub source_kept: bool,
    /// Received or queued.
    pub created_at: String,
    /// Handed to the SMTP server.
    pub sent_at: Option<String>,
}

/// An attachment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentOut {
    /// Id.
    pub id: i64,
    /// The mail it came with.
    pub mail_id: i64,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Why it was not kept.
    pub rejected: Option<String>,
    /// Where to download it (when kept).
    pub url: Option<String>,
}

/// What became of a message handed in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntakeOut {
    /// The stored message.
    pub mail_id: i64,
    /// new_ticket, reply, auto_reply_noted, bounce, ignored, rate_limited, unparseable, duplicate.
    pub outcome: String,
    /// The ticket it opened or joined.
    pub ticket_id: Option<i64>,
    /// Why, when it was not acted on.
    pub reason: Option<String>,
}

/// A mail template.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TemplateOut {
    /// Key.
    pub key: String,
    /// When it is sent.
    pub purpose: String,
    /// Subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// Whether an admin changed it from the built-in text.
    pub customised: bool,
    /// Placeholders it may use.
    pub placeholders: Vec<String>,
}

/// A template's new text.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateIn {
    /// Subject, one line.
    pub subject: String,
    /// Body.
    pub body: String,
}

/// An organisation's mail domains.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainsWire {
    /// Domains whose unknown senders join the organisation (`example.com`).
    pub domains: Vec<String>,
}
