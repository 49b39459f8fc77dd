//! Taking in one inbound message, in one transaction with everything it causes: the facts the
//! domain decides on (`mail::decide`), threading, a new contact, the ticket or the reply, the
//! attachments and the mailbox's UID cursor. A message that cannot be taken in is kept whole
//! with the reason, so one message never blocks a mailbox.

use jiff::Timestamp;
use opsdesk_domain::access::{Actor, TicketScope};
use opsdesk_domain::mail::{
    decide, ticket_reference, Automatic, Decision, IntakeFacts, Sender, Thread,
};
use opsdesk_domain::{Body, Name, Role, Status, Subject};
use serde_json::json;
use sqlx::Row;

use crate::directory::insert_user;
use crate::error::corrupt;
use crate::events::Write;
use crate::model::ts;
use crate::new_tickets::{insert_tickets, prepare, CreateRequest};
use crate::sql::{Param, Sql};
use crate::tickets::{add_message_in, Author};
use crate::{NewTicket, NewUser, Store, StoreError, TeamRef};

use crate::mail::{Inbound, InboundMail, Intake, Mailbox, Received};

impl Store {
    /// Takes in one inbound message for `mailbox`, with its IMAP UID when fetched, in one
    /// transaction: threading, the contact, the ticket or reply, attachments, the cursor.
    pub async fn receive_mail(
        &self,
        mailbox: &Mailbox,
        inbound: Inbound,
        uid: Option<i64>,
        now: Timestamp,
    ) -> Result<Received, StoreError> {
        let mut w = self.write(None, now).await?;
        if let Some(uid) = uid {
            sqlx::query("UPDATE mailboxes SET last_uid = $1 WHERE id = $2 AND last_uid < $1")
                .bind(uid)
                .bind(mailbox.id)
                .execute(&mut *w.tx)
                .await?;
        }
        let mail = match inbound {
            Inbound::Parsed(mail) => mail,
            Inbound::Unparseable { raw, reason } => {
                let headers = String::from_utf8_lossy(header_block(&raw)).into_owned();
                let id = insert_inbound(
                    &mut w,
                    mailbox.id,
                    &InboundRow {
                        from: "",
                        subject: "",
                        headers: &headers,
                        state: "unparseable",
                        reason: Some(&reason),
                        raw: Some(&raw),
                        ..InboundRow::default()
                    },
                )
                .await?;
                w.event(
                    "mailbox",
                    mailbox.id,
                    "mail.unparseable",
                    true,
                    json!({"mail_id": id, "reason": reason}),
                )
                .await?;
                w.commit().await?;
                return Ok(Received {
                    mail_id: id,
                    intake: Intake::Unparseable(reason),
                });
            }
        };
        if let Some(message_id) = &mail.message_id {
            let seen: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM mail_messages WHERE message_id = $1 AND direction = 'in' AND mailbox_id = $2 \
                 AND from_addr = $3 LIMIT 1",
            )
            .bind(message_id)
            .bind(mailbox.id)
            .bind(mail.from.as_str())
            .fetch_optional(&mut *w.tx)
            .await?;
            if let Some(first) = seen {
                w.commit().await?;
                return Ok(Received {
                    mail_id: first,
                    intake: Intake::Duplicate,
                });
            }
        }
        let taken = match intake_facts(&mut w, mailbox, &mail).await {
            Ok(facts) => apply(&mut w, &self.sla, mailbox, &mail, decide(&facts)).await,
            Err(e) => Err(e),
        };
        let received = match taken {
            Ok(received) => received,
            Err(e @ (StoreError::Unavailable(_) | StoreError::Database(_)))
                if !is_constraint(&e) =>
            {
                // The database itself failed: retry the message later (the cursor did not move).
                return Err(e);
            }
            Err(e) => {
                // This message cannot be taken in as it is: keep it whole, with the reason, and
                // move on, so one message never blocks a mailbox.
                w.tx.rollback().await?;
                let mail = *mail;
                return Box::pin(self.receive_mail(
                    mailbox,
                    Inbound::Unparseable {
                        raw: mail.raw,
                        reason: format!("could not be taken in: {e}"),
                    },
                    uid,
                    now,
                ))
                .await;
            }
        };
        w.commit().await?;
        if matches!(received.intake, Intake::NewTicket(_) | Intake::Reply(_)) {
            self.wake.notify_one();
        }
        Ok(received)
    }
}

/// What the database knows about an inbound message, read in its transaction; the decision is
/// the domain's ([`decide`]).
async fn intake_facts(
    w: &mut Write,
    mailbox: &Mailbox,
    mail: &InboundMail,
) -> Result<IntakeFacts, StoreError> {
    let own: Option<i64> = sqlx::query_scalar("SELECT id FROM mailboxes WHERE address = $1")
        .bind(mail.from.as_str())
        .fetch_optional(&mut *w.tx)
        .await?;
    let bounce_of = match &mail.bounce_of {
        Some((original, _)) => Some(
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT ticket_id FROM mail_messages WHERE message_id = $1 AND direction = 'out' LIMIT 1",
            )
            .bind(original)
            .fetch_optional(&mut *w.tx)
            .await?
            .flatten(),
        ),
        None => None,
    };
    let hour_ago = w.now() - 3_600_000_000;
    let recent_from_sender: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM mail_messages WHERE direction = 'in' AND from_addr = $1 AND created_at >= $2",
    )
    .bind(mail.from.as_str())
    .bind(hour_ago)
    .fetch_one(&mut *w.tx)
    .await?;
    let sender = match sqlx::query("SELECT id, role, org_id, active FROM users WHERE email = $1")
        .bind(mail.from.as_str())
        .fetch_optional(&mut *w.tx)
        .await?
    {
        Some(row) => Some(Sender {
            actor: Actor {
                user_id: row.try_get(0)?,
                role: Role::parse("role", &row.try_get::<String, _>(1)?).map_err(corrupt)?,
                org_id: row.try_get(2)?,
                tier: None,
            },
            active: row.try_get::<i64, _>(3)? != 0,
        }),
        None => None,
    };
    let thread = match thread_ticket(w, mail).await? {
        Some(ticket) => {
            match sqlx::query("SELECT requester_id, org_id, status FROM tickets WHERE id = $1")
                .bind(ticket)
                .fetch_optional(&mut *w.tx)
                .await?
            {
                Some(row) => Some(Thread {
                    ticket,
                    scope: TicketScope {
                        requester_id: row.try_get(0)?,
                        org_id: row.try_get(1)?,
                    },
                    closed: Status::parse("status", &row.try_get::<String, _>(2)?)
                        .map_err(corrupt)?
                        == Status::Closed,
                }),
                None => None,
            }
        }
        None => None,
    };
    Ok(IntakeFacts {
        from_own_mailbox: own.is_some(),
        bounce_of,
        automatic: mail.automatic,
        recent_from_sender,
        sender_limit_per_hour: mailbox.settings.sender_limit_per_hour,
        sender,
        thread,
    })
}

/// The ticket a message answers: by the Message-IDs it refers to (newest first), then by the
/// `[#n]` reference in its subject.
async fn thread_ticket(w: &mut Write, mail: &InboundMail) -> Result<Option<i64>, StoreError> {
    let ids: Vec<&String> = mail
        .in_reply_to
        .iter()
        .chain(mail.references.iter().rev())
        .collect();
    if !ids.is_empty() {
        let mut sql = Sql::new(
            "SELECT message_id, ticket_id FROM mail_messages WHERE ticket_id IS NOT NULL AND message_id IN ",
        );
        sql.bind_list(ids.iter().map(|id| Param::Text((*id).clone())));
        let found: Vec<(String, i64)> = sql
            .query()
            .fetch_all(&mut *w.tx)
            .await?
            .iter()
            .map(|row| Ok::<_, sqlx::Error>((row.try_get(0)?, row.try_get(1)?)))
            .collect::<Result<_, _>>()?;
        for id in ids {
            if let Some((_, ticket)) = found.iter().find(|(m, _)| m == id) {
                return Ok(Some(*ticket));
            }
        }
    }
    if let Some(number) = ticket_reference(&mail.subject) {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM tickets WHERE id = $1")
            .bind(number)
            .fetch_optional(&mut *w.tx)
            .await?;
        return Ok(exists);
    }
    Ok(None)
}

async fn apply(
    w: &mut Write,
    sla: &crate::sla_config::SlaCache,
    mailbox: &Mailbox,
    mail: &InboundMail,
    decision: Decision,
) -> Result<Received, StoreError> {
    let to = mail.to.join(", ");
    let refs = mail.references.join(" ");
    let base = InboundRow {
        message_id: mail.message_id.as_deref(),
        in_reply_to: mail.in_reply_to.first().map(String::as_str),
        refs: &refs,
        from: mail.from.as_str(),
        to: &to,
        subject: &mail.subject,
        headers: &mail.headers,
        html: mail.html.as_deref(),
        automatic: mail.automatic.map(Automatic::as_str),
        ..InboundRow::default()
    };
    let (intake, ticket, message, row, internal) = match decision {
        Decision::Ignore(reason) => {
            let row = InboundRow {
                state: "ignored",
                raw: Some(&mail.raw),
                ..base
            };
            let id = insert_inbound(
                w,
                mailbox.id,
                &InboundRow {
                    reason: Some(&reason),
                    ..row
                },
            )
            .await?;
            return Ok(Received {
                mail_id: id,
                intake: Intake::Ignored(reason),
            });
        }
        Decision::RateLimited => {
            let reason = format!(
                "more than {} messages from {} in an hour",
                mailbox.settings.sender_limit_per_hour, mail.from
            );
            let id = insert_inbound(
                w,
                mailbox.id,
                &InboundRow {
                    state: "rate_limited",
                    reason: Some(&reason),
                    raw: Some(&mail.raw),
                    ..base
                },
            )
            .await?;
            return Ok(Received {
                mail_id: id,
                intake: Intake::RateLimited,
            });
        }
        Decision::Bounce(ticket) => {
            let (original, why) = mail.bounce_of.clone().unwrap_or_default();
            sqlx::query(
                "UPDATE mail_messages SET state = 'bounced', reason = $1 WHERE message_id = $2 AND direction = 'out'",
            )
            .bind(&why)
            .bind(&original)
            .execute(&mut *w.tx)
            .await?;
            let id = insert_inbound(
                w,
                mailbox.id,
                &InboundRow {
                    ticket_id: ticket,
                    state: "bounce",
                    reason: Some(&why),
                    raw: Some(&mail.raw),
                    ..base
                },
            )
            .await?;
            if let Some(ticket) = ticket {
                w.event(
                    "ticket",
                    ticket,
                    "mail.bounced",
                    true,
                    json!({"mail_id": id, "original": original, "reason": why}),
                )
                .await?;
            }
            return Ok(Received {
                mail_id: id,
                intake: Intake::Bounce(ticket),
            });
        }
        Decision::AutoReplyNote { ticket, sender } => {
            w.act_as(Some(sender));
            let body = note_body(mail)?;
            let message = add_message_in(
                w,
                sla,
                ticket,
                Author {
                    id: sender,
                    role: Role::Customer,
                },
                (&body, None),
                true,
            )
            .await?;
            (
                Intake::AutoReplyNoted(ticket),
                ticket,
                message,
                "auto_reply",
                true,
            )
        }
        Decision::Reply { ticket, sender } => {
            w.act_as(Some(sender.user_id));
            let body = reply_body(mail)?;
            // A From line proves nothing: mail from a staff address is kept as an internal
            // note, never published (or mailed on) as the desk's answer.
            let internal = sender.works_the_desk();
            let message = add_message_in(
                w,
                sla,
                ticket,
                Author {
                    id: sender.user_id,
                    role: sender.role,
                },
                (&body, mail.quoted.as_deref()),
                internal,
            )
            .await?;
            (Intake::Reply(ticket), ticket, message, "received", internal)
        }
        Decision::NewTicket { sender } => {
            let requester = match sender {
                Some(id) => id,
                None => create_contact(w, mail).await?,
            };
            w.act_as(Some(requester));
            let (ticket, message) = open_ticket(w, sla, mailbox, mail, requester).await?;
            (
                Intake::NewTicket(ticket),
                ticket,
                message,
                "received",
                false,
            )
        }
    };
    let id = insert_inbound(
        w,
        mailbox.id,
        &InboundRow {
            ticket_id: Some(ticket),
            ticket_message_id: Some(message),
            state: row,
            ..base
        },
    )
    .await?;
    // Attachments of an internal note are kept but not listed with the ticket (customers see
    // a ticket's attachments).
    let listed = (!internal).then_some(ticket);
    for attachment in &mail.attachments {
        let size = i64::try_from(attachment.data.len()).unwrap_or(i64::MAX);
        let rejected = (size > mailbox.settings.max_attachment_bytes).then(|| {
            format!(
                "larger than the mailbox's limit of {} bytes",
                mailbox.settings.max_attachment_bytes
            )
        });
        sqlx::query(
            "INSERT INTO attachments (mail_id, ticket_id, filename, content_type, size, data, rejected, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(listed)
        .bind(&attachment.filename)
        .bind(&attachment.content_type)
        .bind(size)
        .bind(rejected.is_none().then_some(attachment.data.as_slice()))
        .bind(rejected.as_deref())
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?;
    }
    w.event(
        "ticket",
        ticket,
        "mail.received",
        internal,
        json!({"mail_id": id, "message_id": message, "from": mail.from.as_str(),
               "subject": mail.subject, "automatic": mail.automatic.map(Automatic::as_str),
               "attachments": mail.attachments.len()}),
    )
    .await?;
    Ok(Received {
        mail_id: id,
        intake,
    })
}

/// A reply's body: its own words, or a placeholder when it has none (only attachments).
fn reply_body(mail: &InboundMail) -> Result<Body, StoreError> {
    let text = if mail.text.trim().is_empty() {
        format!("(no text; {} attachment(s))", mail.attachments.len())
    } else {
        mail.text.clone()
    };
    Ok(Body::parse("body", &clip(&text, 60_000))?)
}

fn note_body(mail: &InboundMail) -> Result<Body, StoreError> {
    let text = format!(
        "Automatic reply from {}: {}\n\n{}",
        mail.from,
        mail.subject,
        mail.text.trim()
    );
    Ok(Body::parse("body", &clip(&text, 60_000))?)
}

fn clip(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n[… shortened; the whole message is in its attachments]",
        &text[..end]
    )
}

/// A contact for an unknown sender, in the organisation that owns their mail domain.
async fn create_contact(w: &mut Write, mail: &InboundMail) -> Result<i64, StoreError> {
    let org_id: Option<i64> =
        sqlx::query_scalar("SELECT org_id FROM org_domains WHERE domain = $1")
            .bind(mail.from.domain())
            .fetch_optional(&mut *w.tx)
            .await?;
    let local = mail.from.as_str().split('@').next().unwrap_or("customer");
    let name = Name::parse("name", mail.from_name.trim())
        .or_else(|_| Name::parse("name", local))
        .or_else(|_| Name::parse("name", "Customer"))
        .map_err(StoreError::from)?;
    insert_user(
        w,
        &NewUser {
            email: mail.from.clone(),
            name,
            role: Role::Customer,
            tier: None,
            org_id,
            team_ids: Vec::new(),
            password_hash: None,
        },
    )
    .await
}

async fn open_ticket(
    w: &mut Write,
    sla: &crate::sla_config::SlaCache,
    mailbox: &Mailbox,
    mail: &InboundMail,
    requester: i64,
) -> Result<(i64, i64), StoreError> {
    let subject = if mail.subject.trim().is_empty() {
        "(no subject)".to_owned()
    } else {
        mail.subject.trim().chars().take(200).collect()
    };
    let subject = Subject::parse("subject", &subject)
        .or_else(|_| Subject::parse("subject", "(no subject)"))
        .map_err(StoreError::from)?;
    let request = CreateRequest {
        new: NewTicket {
            subject,
            body: reply_body(mail)?,
            requester_id: requester,
            team: Some(TeamRef::Id(mailbox.settings.team_id)),
            impact: opsdesk_domain::Impact::Medium,
            urgency: opsdesk_domain::Urgency::Medium,
            priority: None,
            category: None,
            service: None,
            tags: Vec::new(),
            channel: "email",
        },
        actor: requester,
        now: ts(w.now())?,
    };
    let prepared = prepare(w, std::slice::from_ref(&request))
        .await?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("the new ticket was not prepared".into()))??;
    let ticket = insert_tickets(w, std::slice::from_ref(&prepared), sla)
        .await?
        .pop()
        .ok_or_else(|| StoreError::Corrupt("the new ticket was not returned".into()))?;
    let message: i64 = sqlx::query_scalar("SELECT MIN(id) FROM messages WHERE ticket_id = $1")
        .bind(ticket.id)
        .fetch_one(&mut *w.tx)
        .await?;
    if let Some(quoted) = &mail.quoted {
        sqlx::query("UPDATE messages SET quoted = $1 WHERE id = $2")
            .bind(quoted)
            .bind(message)
            .execute(&mut *w.tx)
            .await?;
    }
    Ok((ticket.id, message))
}

#[derive(Default)]
struct InboundRow<'a> {
    ticket_id: Option<i64>,
    ticket_message_id: Option<i64>,
    message_id: Option<&'a str>,
    in_reply_to: Option<&'a str>,
    refs: &'a str,
    from: &'a str,
    to: &'a str,
    subject: &'a str,
    headers: &'a str,
    html: Option<&'a str>,
    raw: Option<&'a [u8]>,
    state: &'a str,
    reason: Option<&'a str>,
    automatic: Option<&'a str>,
}

async fn insert_inbound(
    w: &mut Write,
    mailbox_id: i64,
    row: &InboundRow<'_>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO mail_messages (mailbox_id, direction, ticket_id, ticket_message_id, message_id, \
         in_reply_to, refs, from_addr, to_addrs, subject, headers, html, raw, state, reason, automatic, created_at) \
         VALUES ($1, 'in', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(mailbox_id)
    .bind(row.ticket_id)
    .bind(row.ticket_message_id)
    .bind(row.message_id)
    .bind(row.in_reply_to)
    .bind(row.refs)
    .bind(row.from)
    .bind(row.to)
    .bind(row.subject)
    .bind(row.headers)
    .bind(row.html)
    .bind(row.raw)
    .bind(row.state)
    .bind(row.reason)
    .bind(row.automatic)
    .bind(w.now())
    .fetch_one(&mut *w.tx)
    .await?)
}

/// The bytes before the first blank line: a message's header block.
fn header_block(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len().min(64 * 1024));
    &raw[..end.min(64 * 1024)]
}

/// Whether a database error is a refused row (a constraint), not a failing database.
fn is_constraint(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(sqlx::Error::Database(db))
        if db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation())
}
