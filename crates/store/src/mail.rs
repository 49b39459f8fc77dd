//! E-mail: mailboxes, every message in or out, attachments, templates, organisations' mail
//! domains, and the cursor of the worker that turns events into mail. Taking in an inbound
//! message is `mail_intake.rs`.
//!
//! *An inbound message commits in one transaction with everything it causes* (the ticket or
//! reply, a new contact, attachments, the mailbox's UID cursor), so a fetcher that dies
//! mid-message fetches it again and a message fetched twice is recorded once. *Outbound mail
//! is queued in the transaction that decided it* (with the event cursor that led to it) and
//! sent by the outbox worker.

use jiff::Timestamp;
use opsdesk_domain::mail::{Automatic, Security};
use opsdesk_domain::{Email, Name};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::{Store, StoreError};

/// How to reach one mail server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// TLS, STARTTLS or none.
    pub security: Security,
    /// Login; empty for none.
    pub user: String,
    /// Password; on an update, empty keeps the stored one.
    pub password: String,
}

/// What an admin sets on a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxSettings {
    /// Unique name.
    pub name: Name,
    /// The address customers write to and replies come from.
    pub address: Email,
    /// The name shown beside the address in sent mail.
    pub display_name: String,
    /// The team new tickets go to.
    pub team_id: i64,
    /// Where mail is fetched (IMAP); `None` for a mailbox fed only by `mail ingest`.
    pub imap: Option<ServerSettings>,
    /// The IMAP folder polled.
    pub imap_folder: String,
    /// Where mail is submitted (SMTP); `None` for a mailbox that sends nothing.
    pub smtp: Option<ServerSettings>,
    /// Attachments larger than this are recorded as rejected.
    pub max_attachment_bytes: i64,
    /// More messages than this from one sender in an hour are held, not turned into tickets.
    pub sender_limit_per_hour: i64,
    /// Whether it is polled and used for sending.
    pub active: bool,
    /// A certificate (PEM) trusted for this mailbox's servers besides the public roots: a
    /// private CA or a self-signed server.
    pub tls_ca: Option<String>,
}

/// A mailbox with its fetch state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// Id.
    pub id: i64,
    /// Settings.
    pub settings: MailboxSettings,
    /// The team's name.
    pub team_name: String,
    /// The IMAP folder's UIDVALIDITY when last polled.
    pub uid_validity: Option<i64>,
    /// The highest UID taken in.
    pub last_uid: i64,
    /// When it was last polled.
    pub last_polled_at: Option<Timestamp>,
    /// What went wrong at the last poll.
    pub last_error: Option<String>,
    /// Someone (fetch now, the IDLE watcher, a poll that left mail waiting) asked for a poll.
    pub poll_requested: bool,
}

/// One attachment of an inbound message.
#[derive(Debug, Clone)]
pub struct InboundAttachment {
    /// File name (or a made-up one).
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Content.
    pub data: Vec<u8>,
}

/// An inbound message read by the edge.
#[derive(Debug, Clone)]
pub struct InboundMail {
    /// `Message-ID` without the angle brackets.
    pub message_id: Option<String>,
    /// `In-Reply-To` ids.
    pub in_reply_to: Vec<String>,
    /// `References` ids, oldest first.
    pub references: Vec<String>,
    /// The sender.
    pub from: Email,
    /// The sender's display name.
    pub from_name: String,
    /// Recipients (To and Cc).
    pub to: Vec<String>,
    /// Decoded subject.
    pub subject: String,
    /// The header block, decoded for display.
    pub headers: String,
    /// The message's own words (plain text preferred; HTML turned into text).
    pub text: String,
    /// The quoted history folded off `text`.
    pub quoted: Option<String>,
    /// The HTML part, sanitized, for display.
    pub html: Option<String>,
    /// Why it counts as automatic.
    pub automatic: Option<Automatic>,
    /// For a delivery report: the Message-ID of the mail that bounced and why.
    pub bounce_of: Option<(String, String)>,
    /// Attachments.
    pub attachments: Vec<InboundAttachment>,
    /// The source, kept when the message does not become ticket content.
    pub raw: Vec<u8>,
}

/// An inbound message as it arrived.
#[derive(Debug, Clone)]
pub enum Inbound {
    /// Read.
    Parsed(Box<InboundMail>),
    /// Could not be read: kept with its source and the reason.
    Unparseable {
        /// The source.
        raw: Vec<u8>,
        /// Why.
        reason: String,
    },
}

/// What became of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intake {
    /// It opened this ticket.
    NewTicket(i64),
    /// It was added to this ticket.
    Reply(i64),
    /// An automatic answer, noted internally on this ticket.
    AutoReplyNoted(i64),
    /// A delivery report: the outbound mail it names is marked bounced.
    Bounce(Option<i64>),
    /// Kept but not acted on, with the reason.
    Ignored(String),
    /// The sender sent more than the mailbox allows in an hour.
    RateLimited,
    /// Kept as unparseable with its source, and why.
    Unparseable(String),
    /// Already taken in (same Message-ID in this mailbox).
    Duplicate,
}

/// The receipt of one inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The stored message (for a duplicate: the first copy).
    pub mail_id: i64,
    /// What happened.
    pub intake: Intake,
}

/// A mail to send, decided by the notifier.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    /// The mailbox it goes out through.
    pub mailbox_id: i64,
    /// The ticket it is about.
    pub ticket_id: Option<i64>,
    /// The ticket message it carries.
    pub ticket_message_id: Option<i64>,
    /// Its `Message-ID` (without angle brackets).
    pub message_id: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Sent by a machine without a person (acknowledgements, notices): `Auto-Submitted`.
    pub automatic: bool,
    /// What it is: `reply`, `acknowledgement`, `resolved`, `sla`, `page`, `status`.
    pub purpose: &'static str,
}

/// A stored message in or out, with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailRecord {
    /// Id.
    pub id: i64,
    /// Mailbox.
    pub mailbox_id: Option<i64>,
    /// `in` or `out`.
    pub direction: String,
    /// Ticket.
    pub ticket_id: Option<i64>,
    /// The ticket message it became or carries.
    pub ticket_message_id: Option<i64>,
    /// `Message-ID`.
    pub message_id: Option<String>,
    /// `In-Reply-To`.
    pub in_reply_to: Option<String>,
    /// `References`, space-separated.
    pub references: String,
    /// Sender.
    pub from: String,
    /// Recipients, comma-separated.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Header block (for outbound: the threading headers).
    pub headers: String,
    /// The sanitized HTML part.
    pub html: Option<String>,
    /// Inbound: received, unparseable, ignored, rate_limited, bounce, auto_reply.
    /// Outbound: queued, sent, failed, bounced.
    pub state: String,
    /// Why (ignored, rejected, bounced, last delivery error).
    pub reason: Option<String>,
    /// Why it counts as automatic.
    pub automatic: Option<String>,
    /// Delivery attempts so far (outbound).
    pub attempts: i64,
    /// When it was received or queued.
    pub created_at: Timestamp,
    /// When it was handed to the SMTP server.
    pub sent_at: Option<Timestamp>,
    /// Whether its source is kept (what did not become ticket content).
    pub source_kept: bool,
}

/// An attachment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Id.
    pub id: i64,
    /// The message it came with.
    pub mail_id: i64,
    /// Ticket.
    pub ticket_id: Option<i64>,
    /// File name.
    pub filename: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Why it was not kept (too large).
    pub rejected: Option<String>,
}

/// Default attachment limit: 25 MB.
pub const DEFAULT_MAX_ATTACHMENT_BYTES: i64 = 25 * 1024 * 1024;
/// Default per-sender limit per hour.
pub const DEFAULT_SENDER_LIMIT: i64 = 30;

const MAILBOX_SELECT: &str = "SELECT m.id, m.name, m.address, m.display_name, m.team_id, t.name, \
     m.imap_host, m.imap_port, m.imap_security, m.imap_user, m.imap_password, m.imap_folder, \
     m.smtp_host, m.smtp_port, m.smtp_security, m.smtp_user, m.smtp_password, \
     m.max_attachment_bytes, m.sender_limit_per_hour, m.active, m.uid_validity, m.last_uid, \
     m.last_polled_at, m.last_error, m.poll_requested, m.tls_ca FROM mailboxes m JOIN teams t ON t.id = m.team_id";

const MAIL_SELECT: &str =
    "SELECT g.id, g.mailbox_id, g.direction, g.ticket_id, g.ticket_message_id, \
     g.message_id, g.in_reply_to, g.refs, g.from_addr, g.to_addrs, g.subject, g.headers, g.html, \
     g.state, g.reason, g.automatic, o.attempts, o.delivered_at, o.next_attempt_at, o.last_error, \
     g.created_at, CAST(CASE WHEN g.raw IS NULL THEN 0 ELSE 1 END AS BIGINT) FROM mail_messages g LEFT JOIN outbox o ON o.id = g.outbox_id";

impl Store {
    /// Creates a mailbox.
    pub async fn create_mailbox(
        &self,
        settings: &MailboxSettings,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Mailbox, StoreError> {
        let mut w = self.write(actor, now).await?;
        let insert = sqlx::query(
            "INSERT INTO mailboxes (name, address, display_name, team_id, imap_host, imap_port, \
             imap_security, imap_user, imap_password, imap_folder, smtp_host, smtp_port, smtp_security, \
             smtp_user, smtp_password, max_attachment_bytes, sender_limit_per_hour, active, tls_ca, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) \
             RETURNING id",
        );
        let id: i64 = bind_settings(insert, settings)
            .bind(w.now())
            .fetch_one(&mut *w.tx)
            .await
            .and_then(|row| row.try_get(0))
            .map_err(StoreError::unique(
                "name",
                format!(
                    "a mailbox named '{}' or with address {} exists",
                    settings.name, settings.address
                ),
            ))?;
        w.event("mailbox", id, "mailbox.created", false, audit(settings))
            .await?;
        w.commit().await?;
        self.mailbox(id).await
    }

    /// Changes a mailbox's settings; an empty password keeps the stored one.
    pub async fn update_mailbox(
        &self,
        id: i64,
        settings: &MailboxSettings,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Mailbox, StoreError> {
        let before = self.mailbox(id).await?;
        let mut w = self.write(actor, now).await?;
        // A new IMAP server or folder starts from its first message.
        let moved = before
            .settings
            .imap
            .as_ref()
            .map(|s| (&s.host, s.port, &s.user))
            != settings.imap.as_ref().map(|s| (&s.host, s.port, &s.user))
            || before.settings.imap_folder != settings.imap_folder;
        let update = sqlx::query(
            "UPDATE mailboxes SET name = $1, address = $2, display_name = $3, team_id = $4, \
             imap_host = $5, imap_port = $6, imap_security = $7, imap_user = $8, \
             imap_password = CASE WHEN $9 = '' THEN imap_password ELSE $9 END, imap_folder = $10, \
             smtp_host = $11, smtp_port = $12, smtp_security = $13, smtp_user = $14, \
             smtp_password = CASE WHEN $15 = '' THEN smtp_password ELSE $15 END, \
             max_attachment_bytes = $16, sender_limit_per_hour = $17, active = $18, \
             tls_ca = $19, uid_validity = CASE WHEN $20 = 1 THEN NULL ELSE uid_validity END, \
             last_uid = CASE WHEN $20 = 1 THEN 0 ELSE last_uid END WHERE id = $21",
        );
        bind_settings(update, settings)
            .bind(i64::from(moved))
            .bind(id)
            .execute(&mut *w.tx)
            .await
            .map_err(StoreError::unique(
                "name",
                format!(
                    "a mailbox named '{}' or with address {} exists",
                    settings.name, settings.address
                ),
            ))?;
        w.event(
            "mailbox",
            id,
            "mailbox.updated",
            false,
            json!({"before": audit(&before.settings), "after": audit(settings)}),
        )
        .await?;
        w.commit().await?;
        self.mailbox(id).await
    }

    /// Every mailbox, by name.
    pub async fn mailboxes(&self) -> Result<Vec<Mailbox>, StoreError> {
        let rows = sqlx::query(&format!("{MAILBOX_SELECT} ORDER BY lower(m.name)"))
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(mailbox_from_row).collect()
    }

    /// One mailbox.
    pub async fn mailbox(&self, id: i64) -> Result<Mailbox, StoreError> {
        let row = sqlx::query(&format!("{MAILBOX_SELECT} WHERE m.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("mailbox"))?;
        mailbox_from_row(&row)
    }

    /// A mailbox by name (any case).
    pub async fn mailbox_by_name(&self, name: &str) -> Result<Option<Mailbox>, StoreError> {
        let row = sqlx::query(&format!("{MAILBOX_SELECT} WHERE lower(m.name) = lower($1)"))
            .bind(name)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(mailbox_from_row).transpose()
    }

    /// Marks the requests for a poll as served by the poll starting now.
    pub async fn start_poll(&self, mailbox_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE mailboxes SET poll_requested = 0 WHERE id = $1")
            .bind(mailbox_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Records the outcome of a poll (`None` when it went well).
    pub async fn record_poll(
        &self,
        mailbox_id: i64,
        error: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE mailboxes SET last_polled_at = $1, last_error = $2 WHERE id = $3")
            .bind(now.as_microsecond())
            .bind(error)
            .bind(mailbox_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Makes a mailbox due for polling now ("fetch now", new mail announced, or more mail
    /// waiting); a request made while a poll runs brings another poll after it.
    pub async fn poll_soon(&self, mailbox_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE mailboxes SET poll_requested = 1 WHERE id = $1")
            .bind(mailbox_id)
            .execute(&self.write)
            .await?;
        self.wake.notify_one();
        Ok(())
    }

    /// Starts a folder over when its UIDVALIDITY changed (the server renumbered it).
    pub async fn reset_uid_validity(
        &self,
        mailbox_id: i64,
        uid_validity: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE mailboxes SET uid_validity = $1, last_uid = 0 WHERE id = $2")
            .bind(uid_validity)
            .bind(mailbox_id)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Sets the mail domains whose senders belong to organisation `org_id` (replacing its list).
    pub async fn set_org_domains(
        &self,
        org_id: i64,
        domains: &[String],
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        sqlx::query("DELETE FROM org_domains WHERE org_id = $1")
            .bind(org_id)
            .execute(&mut *w.tx)
            .await?;
        for domain in domains {
            sqlx::query("INSERT INTO org_domains (domain, org_id) VALUES ($1, $2)")
                .bind(domain)
                .bind(org_id)
                .execute(&mut *w.tx)
                .await
                .map_err(StoreError::unique(
                    "domains",
                    format!("{domain} already belongs to another organisation"),
                ))?;
        }
        w.event(
            "org",
            org_id,
            "org.domains_set",
            false,
            json!({"after": {"domains": domains}}),
        )
        .await?;
        w.commit().await
    }

    /// The mail domains of an organisation.
    pub async fn org_domains(&self, org_id: i64) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT domain FROM org_domains WHERE org_id = $1 ORDER BY domain")
                .bind(org_id)
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Where the notifier left off in the event log (0 before its first run).
    pub async fn event_cursor(&self, name: &str) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar::<_, i64>("SELECT seq FROM event_cursors WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.read)
                .await?
                .unwrap_or(0),
        )
    }

    /// Queues `mails` and moves cursor `name` to `seq` in one transaction, so every event
    /// leads to its mail exactly once across restarts.
    pub async fn queue_mail(
        &self,
        name: &str,
        seq: i64,
        mails: &[OutgoingMail],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(None, now).await?;
        let moved = sqlx::query("UPDATE event_cursors SET seq = $1 WHERE name = $2 AND seq < $1")
            .bind(seq)
            .bind(name)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        if moved == 0 {
            let inserted = sqlx::query(
                "INSERT INTO event_cursors (name, seq) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(seq)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                // Another notifier already passed this point: queue nothing twice.
                w.tx.rollback().await?;
                return Ok(());
            }
        }
        for mail in mails {
            queue_one(&mut w, mail).await?;
        }
        w.commit().await
    }

    /// How many mails of `purpose` went to `to` since `since` (the acknowledgement limit).
    pub async fn mails_sent_to(
        &self,
        to: &str,
        purpose: &str,
        since: Timestamp,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM mail_messages WHERE direction = 'out' AND to_addrs = $1 AND purpose = $2 AND created_at >= $3",
        )
        .bind(to)
        .bind(purpose)
        .bind(since.as_microsecond())
        .fetch_one(&self.read)
        .await?)
    }

    /// The mailbox a ticket's mail goes out through: the one it came in by, else one of its
    /// team's, else any active mailbox that sends.
    pub async fn mailbox_for_ticket(&self, ticket_id: i64) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT m.id FROM mailboxes m WHERE m.active = 1 AND m.smtp_host IS NOT NULL ORDER BY \
             CASE WHEN m.id IN (SELECT mailbox_id FROM mail_messages WHERE ticket_id = $1 AND direction = 'in') THEN 0 \
                  WHEN m.team_id = (SELECT team_id FROM tickets WHERE id = $1) THEN 1 ELSE 2 END, m.id LIMIT 1",
        )
        .bind(ticket_id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// The mailbox that mail about no ticket (pages, status updates) goes out through: the
    /// first active one with an SMTP server.
    pub async fn sending_mailbox(&self) -> Result<Option<Mailbox>, StoreError> {
        let row = sqlx::query(&format!(
            "{MAILBOX_SELECT} WHERE m.active = 1 AND m.smtp_host IS NOT NULL ORDER BY m.id LIMIT 1"
        ))
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(mailbox_from_row).transpose()
    }

    /// The first inbound mail of a ticket, if it came in by mail.
    pub async fn first_inbound_mail(
        &self,
        ticket_id: i64,
    ) -> Result<Option<MailRecord>, StoreError> {
        let row = sqlx::query(&format!(
            "{MAIL_SELECT} WHERE g.ticket_id = $1 AND g.direction = 'in' ORDER BY g.id LIMIT 1"
        ))
        .bind(ticket_id)
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(mail_from_row).transpose()
    }

    /// Every mail of a ticket, in order.
    pub async fn ticket_mail(&self, ticket_id: i64) -> Result<Vec<MailRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{MAIL_SELECT} WHERE g.ticket_id = $1 ORDER BY g.id"
        ))
        .bind(ticket_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// One stored mail.
    pub async fn mail(&self, id: i64) -> Result<MailRecord, StoreError> {
        let row = sqlx::query(&format!("{MAIL_SELECT} WHERE g.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("mail"))?;
        mail_from_row(&row)
    }

    /// The newest mail of a mailbox (or of all), newest first, for the admin page.
    pub async fn recent_mail(
        &self,
        mailbox_id: Option<i64>,
        limit: i64,
    ) -> Result<Vec<MailRecord>, StoreError> {
        let rows = sqlx::query(&format!(
            "{MAIL_SELECT} WHERE ($1 = 0 OR g.mailbox_id = $1) ORDER BY g.id DESC LIMIT $2"
        ))
        .bind(mailbox_id.unwrap_or(0))
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(mail_from_row).collect()
    }

    /// The stored source of a mail (kept for what did not become ticket content).
    pub async fn mail_source(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        sqlx::query_scalar::<_, Option<Vec<u8>>>("SELECT raw FROM mail_messages WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("mail"))
    }

    /// The attachments of a ticket.
    pub async fn attachments(&self, ticket_id: i64) -> Result<Vec<Attachment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, mail_id, ticket_id, filename, content_type, size, rejected FROM attachments \
             WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Attachment {
                    id: row.try_get(0)?,
                    mail_id: row.try_get(1)?,
                    ticket_id: row.try_get(2)?,
                    filename: row.try_get(3)?,
                    content_type: row.try_get(4)?,
                    size: row.try_get(5)?,
                    rejected: row.try_get(6)?,
                })
            })
            .collect()
    }

    /// An attachment's content with its record (`None` content when it was rejected).
    pub async fn attachment(&self, id: i64) -> Result<(Attachment, Option<Vec<u8>>), StoreError> {
        let row = sqlx::query(
            "SELECT id, mail_id, ticket_id, filename, content_type, size, rejected, data FROM attachments WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        .ok_or(StoreError::NotFound("attachment"))?;
        Ok((
            Attachment {
                id: row.try_get(0)?,
                mail_id: row.try_get(1)?,
                ticket_id: row.try_get(2)?,
                filename: row.try_get(3)?,
                content_type: row.try_get(4)?,
                size: row.try_get(5)?,
                rejected: row.try_get(6)?,
            },
            row.try_get(7)?,
        ))
    }

    /// The stored templates (key, subject, body); keys without a row use the built-in text.
    pub async fn mail_templates(&self) -> Result<Vec<(String, String, String)>, StoreError> {
        let rows = sqlx::query("SELECT key, subject, body FROM mail_templates ORDER BY key")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }

    /// Saves a template (already checked by the domain).
    pub async fn save_mail_template(
        &self,
        key: &str,
        subject: &str,
        body: &str,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        sqlx::query(
            "INSERT INTO mail_templates (key, subject, body, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET subject = $2, body = $3, updated_at = $4",
        )
        .bind(key)
        .bind(subject)
        .bind(body)
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?;
        w.event(
            "mail_template",
            0,
            "mail_template.saved",
            false,
            json!({"key": key, "after": {"subject": subject, "body": body}}),
        )
        .await?;
        w.commit().await
    }
}

/// Queues one outbound mail: the threading headers come from the ticket's earlier mail.
async fn queue_one(w: &mut Write, mail: &OutgoingMail) -> Result<i64, StoreError> {
    let (in_reply_to, refs) = match mail.ticket_id {
        Some(ticket) => {
            let ids: Vec<String> = sqlx::query_scalar(
                "SELECT message_id FROM mail_messages WHERE ticket_id = $1 AND message_id IS NOT NULL \
                 AND state <> 'bounce' ORDER BY id",
            )
            .bind(ticket)
            .fetch_all(&mut *w.tx)
            .await?;
            let last = ids.last().cloned();
            let start = ids.len().saturating_sub(20);
            (last, ids[start..].join(" "))
        }
        None => (None, String::new()),
    };
    let from: String = sqlx::query_scalar("SELECT address FROM mailboxes WHERE id = $1")
        .bind(mail.mailbox_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(StoreError::NotFound("mailbox"))?;
    let headers = format!(
        "Message-ID: <{}>\nIn-Reply-To: {}\nReferences: {}\nAuto-Submitted: {}",
        mail.message_id,
        in_reply_to
            .as_deref()
            .map(|id| format!("<{id}>"))
            .unwrap_or_default(),
        refs.split(' ')
            .filter(|id| !id.is_empty())
            .map(|id| format!("<{id}>"))
            .collect::<Vec<_>>()
            .join(" "),
        if mail.automatic { "auto-replied" } else { "no" }
    );
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO mail_messages (mailbox_id, direction, ticket_id, ticket_message_id, message_id, \
         in_reply_to, refs, from_addr, to_addrs, subject, headers, state, automatic, purpose, created_at) \
         VALUES ($1, 'out', $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $12, $13) RETURNING id",
    )
    .bind(mail.mailbox_id)
    .bind(mail.ticket_id)
    .bind(mail.ticket_message_id)
    .bind(&mail.message_id)
    .bind(in_reply_to.as_deref())
    .bind(&refs)
    .bind(&from)
    .bind(&mail.to)
    .bind(&mail.subject)
    .bind(&headers)
    .bind(mail.automatic.then_some("auto-replied"))
    .bind(mail.purpose)
    .bind(w.now())
    .fetch_one(&mut *w.tx)
    .await?;
    let payload = json!({"mail_id": id, "body": mail.body}).to_string();
    let outbox: i64 = sqlx::query_scalar(
        "INSERT INTO outbox (kind, target, payload, created_at, next_attempt_at) VALUES ('email', $1, $2, $3, $3) RETURNING id",
    )
    .bind(&mail.to)
    .bind(payload)
    .bind(w.now())
    .fetch_one(&mut *w.tx)
    .await?;
    sqlx::query("UPDATE mail_messages SET outbox_id = $1 WHERE id = $2")
        .bind(outbox)
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
    if let Some(ticket) = mail.ticket_id {
        w.event(
            "ticket",
            ticket,
            "mail.queued",
            mail.purpose != "reply",
            json!({"mail_id": id, "to": mail.to, "subject": mail.subject, "purpose": mail.purpose}),
        )
        .await?;
    }
    Ok(id)
}

/// Binds a mailbox's settings as `$1`…`$19`, in the order both the INSERT and the UPDATE
/// name them.
fn bind_settings<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    settings: &'q MailboxSettings,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let (imap, smtp) = (server_params(&settings.imap), server_params(&settings.smtp));
    query
        .bind(settings.name.as_str())
        .bind(settings.address.as_str())
        .bind(&settings.display_name)
        .bind(settings.team_id)
        .bind(imap.0)
        .bind(imap.1)
        .bind(imap.2)
        .bind(imap.3)
        .bind(imap.4)
        .bind(&settings.imap_folder)
        .bind(smtp.0)
        .bind(smtp.1)
        .bind(smtp.2)
        .bind(smtp.3)
        .bind(smtp.4)
        .bind(settings.max_attachment_bytes)
        .bind(settings.sender_limit_per_hour)
        .bind(i64::from(settings.active))
        .bind(settings.tls_ca.as_deref())
}

type ServerParams<'a> = (Option<&'a str>, i64, &'static str, &'a str, &'a str);

fn server_params(server: &Option<ServerSettings>) -> ServerParams<'_> {
    match server {
        Some(s) => (
            Some(s.host.as_str()),
            i64::from(s.port),
            s.security.as_str(),
            s.user.as_str(),
            s.password.as_str(),
        ),
        None => (None, 0, Security::None.as_str(), "", ""),
    }
}

/// A mailbox's settings for the audit trail: everything but the passwords.
fn audit(s: &MailboxSettings) -> serde_json::Value {
    let server = |s: &Option<ServerSettings>| {
        s.as_ref().map(|s| {
            json!({"host": s.host, "port": s.port, "security": s.security.as_str(), "user": s.user})
        })
    };
    json!({
        "name": s.name.as_str(), "address": s.address.as_str(), "display_name": s.display_name,
        "team_id": s.team_id, "imap": server(&s.imap), "imap_folder": s.imap_folder,
        "smtp": server(&s.smtp), "max_attachment_bytes": s.max_attachment_bytes,
        "sender_limit_per_hour": s.sender_limit_per_hour, "active": s.active,
        "tls_ca": s.tls_ca.is_some(),
    })
}

fn mailbox_from_row(row: &AnyRow) -> Result<Mailbox, StoreError> {
    let server = |host: usize| -> Result<Option<ServerSettings>, StoreError> {
        let Some(name) = row.try_get::<Option<String>, _>(host)? else {
            return Ok(None);
        };
        Ok(Some(ServerSettings {
            host: name,
            port: u16::try_from(row.try_get::<i64, _>(host + 1)?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            security: Security::parse("security", &row.try_get::<String, _>(host + 2)?)
                .map_err(corrupt)?,
            user: row.try_get(host + 3)?,
            password: row.try_get(host + 4)?,
        }))
    };
    let last_polled: Option<i64> = row.try_get(22)?;
    Ok(Mailbox {
        id: row.try_get(0)?,
        settings: MailboxSettings {
            name: Name::parse("name", &row.try_get::<String, _>(1)?).map_err(corrupt)?,
            address: Email::parse("address", &row.try_get::<String, _>(2)?).map_err(corrupt)?,
            display_name: row.try_get(3)?,
            team_id: row.try_get(4)?,
            imap: server(6)?,
            imap_folder: row.try_get(11)?,
            smtp: server(12)?,
            max_attachment_bytes: row.try_get(17)?,
            sender_limit_per_hour: row.try_get(18)?,
            active: row.try_get::<i64, _>(19)? != 0,
            tls_ca: row.try_get(25)?,
        },
        team_name: row.try_get(5)?,
        uid_validity: row.try_get(20)?,
        last_uid: row.try_get(21)?,
        last_polled_at: last_polled.map(ts).transpose()?,
        last_error: row.try_get(23)?,
        poll_requested: row.try_get::<i64, _>(24)? != 0,
    })
}

fn mail_from_row(row: &AnyRow) -> Result<MailRecord, StoreError> {
    let direction: String = row.try_get(2)?;
    let mut state: String = row.try_get(13)?;
    let mut reason: Option<String> = row.try_get(14)?;
    let attempts: Option<i64> = row.try_get(16)?;
    let delivered: Option<i64> = row.try_get(17)?;
    let next_attempt: Option<i64> = row.try_get(18)?;
    let last_error: Option<String> = row.try_get(19)?;
    if direction == "out" && state == "queued" {
        // The outbox holds the delivery state; the row only records a later bounce.
        if delivered.is_some() {
            state = "sent".into();
        } else if next_attempt.is_none() && attempts.unwrap_or(0) > 0 {
            state = "failed".into();
        }
        if reason.is_none() {
            reason = last_error;
        }
    }
    Ok(MailRecord {
        id: row.try_get(0)?,
        mailbox_id: row.try_get(1)?,
        direction,
        ticket_id: row.try_get(3)?,
        ticket_message_id: row.try_get(4)?,
        message_id: row.try_get(5)?,
        in_reply_to: row.try_get(6)?,
        references: row.try_get(7)?,
        from: row.try_get(8)?,
        to: row.try_get(9)?,
        subject: row.try_get(10)?,
        headers: row.try_get(11)?,
        html: row.try_get(12)?,
        state,
        reason,
        automatic: row.try_get(15)?,
        attempts: attempts.unwrap_or(0),
        created_at: ts(row.try_get(20)?)?,
        sent_at: delivered.map(ts).transpose()?,
        source_kept: row.try_get::<i64, _>(21)? != 0,
    })
}
