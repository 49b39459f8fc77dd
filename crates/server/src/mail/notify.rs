//! The mail notifier: tails the event log and turns ticket events into mail — the
//! acknowledgement of a ticket opened by mail, agents' public replies, the resolution notice,
//! SLA breaches to the assignee.
//!
//! *Each event leads to its mail exactly once*: the mails of a run of events are queued in the
//! transaction that moves the notifier's cursor past them ([`Store::queue_mail`]). Nothing
//! here sends; the outbox worker does.

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::mail::subject_for;
use opsdesk_store::{Event, OutgoingMail, Store, StoreError, Ticket};

use super::templates;

/// The notifier's cursor name.
pub const CURSOR: &str = "mail";
/// Events read per step.
const PER_STEP: i64 = 2_000;
/// At most this many acknowledgements go to one address in an hour (a loop breaker).
const ACKNOWLEDGEMENTS_PER_HOUR: i64 = 3;

/// Reads the events after the cursor and queues their mail; `true` when more are waiting.
pub async fn step(store: &Store, public_url: &str, now: Timestamp) -> Result<bool, StoreError> {
    let cursor = store.event_cursor(CURSOR).await?;
    let (events, last, more) = store.mail_events_after(cursor, PER_STEP).await?;
    if last == cursor {
        return Ok(false);
    }
    let stored = store.mail_templates().await?;
    let mut mails: Vec<OutgoingMail> = Vec::new();
    for event in &events {
        if event.subject_kind != "ticket" {
            continue;
        }
        if let Some(mail) = decide(store, &stored, public_url, event, now).await? {
            // The hourly acknowledgement limit counts this run's mail too.
            let earlier = mails
                .iter()
                .filter(|m| m.purpose == "acknowledgement" && m.to == mail.to)
                .count() as i64;
            if mail.purpose == "acknowledgement" && earlier > 0 {
                let since = now - SignedDuration::from_hours(1);
                let sent = store.mails_sent_to(&mail.to, mail.purpose, since).await?;
                if sent + earlier >= ACKNOWLEDGEMENTS_PER_HOUR {
                    continue;
                }
            }
            mails.push(mail);
        }
    }
    store.queue_mail(CURSOR, last, &mails, now).await?;
    Ok(more)
}

async fn decide(
    store: &Store,
    stored: &[(String, String, String)],
    public_url: &str,
    event: &Event,
    now: Timestamp,
) -> Result<Option<OutgoingMail>, StoreError> {
    let purpose = match event.kind.as_str() {
        // Only a ticket raised by mail is acknowledged by mail: the event names its channel,
        // so the others (most creates) cost no read.
        "ticket.created"
            if event.data["after"]["channel"]
                .as_str()
                .is_some_and(|c| c != "email") =>
        {
            return Ok(None)
        }
        "ticket.created" => "acknowledgement",
        "message.added" if event.internal || event.data["imported"] == true => return Ok(None),
        "message.added" => "reply",
        "ticket.updated" if event.data["after"]["status"] == "resolved" => "resolved",
        "sla.breached" => "sla_breach",
        _ => return Ok(None),
    };
    let ticket = match store.ticket(event.subject_id).await {
        Ok(ticket) => ticket,
        Err(StoreError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(mailbox_id) = store.mailbox_for_ticket(ticket.id).await? else {
        return Ok(None);
    };
    let mailbox = store.mailbox(mailbox_id).await?;
    let requester = store.user(ticket.requester.id).await?;
    let mut values = Values {
        agent: String::new(),
        body: String::new(),
        metric: String::new(),
        survey: String::new(),
    };
    let mut message_id = None;
    let to = match purpose {
        "acknowledgement" => {
            if ticket.channel != "email" || requester.actor().works_the_desk() {
                return Ok(None);
            }
            let first = store.first_inbound_mail(ticket.id).await?;
            if first.is_none_or(|m| m.automatic.is_some()) {
                return Ok(None);
            }
            let since = now - SignedDuration::from_hours(1);
            if store
                .mails_sent_to(requester.email.as_str(), purpose, since)
                .await?
                >= ACKNOWLEDGEMENTS_PER_HOUR
            {
                tracing::info!(to = %requester.email, "acknowledgement withheld: too many this hour");
                return Ok(None);
            }
            requester.email.as_str().to_owned()
        }
        "reply" => {
            let Some(id) = event.data["message_id"].as_i64() else {
                return Ok(None);
            };
            let messages = store.messages(ticket.id, false).await?;
            let Some(message) = messages.iter().find(|m| m.id == id) else {
                return Ok(None);
            };
            if !message.author_is_staff || requester.actor().works_the_desk() {
                return Ok(None);
            }
            values.agent.clone_from(&message.author.name);
            values.body.clone_from(&message.body);
            message_id = Some(id);
            requester.email.as_str().to_owned()
        }
        "resolved" => {
            if requester.actor().works_the_desk() {
                return Ok(None);
            }
            let secret = crate::paging::secret(store).await?;
            values.survey = crate::app::survey::survey_link(public_url, &secret, ticket.id);
            requester.email.as_str().to_owned()
        }
        _ => {
            let Some(assignee) = &ticket.assignee else {
                return Ok(None);
            };
            values.metric = event.data["metric"]
                .as_str()
                .unwrap_or("response")
                .replace('_', " ");
            assignee.email.clone()
        }
    };
    let Some((subject, body)) = templates::in_force(stored, purpose) else {
        return Ok(None);
    };
    let staff = purpose == "sla_breach";
    let url = if staff {
        format!("{public_url}/desk/tickets/{}", ticket.id)
    } else {
        format!("{public_url}/portal/tickets/{}", ticket.id)
    };
    let number = ticket.id.to_string();
    let filled = [
        ("ticket.number", number.as_str()),
        ("ticket.subject", ticket.subject.as_str()),
        ("ticket.status", ticket.status.as_str()),
        ("ticket.url", url.as_str()),
        ("requester.name", requester.name.as_str()),
        ("agent.name", values.agent.as_str()),
        ("message.body", values.body.as_str()),
        ("sla.metric", values.metric.as_str()),
        ("survey.url", values.survey.as_str()),
        (
            "desk.name",
            display_name(&mailbox.settings.display_name, &ticket),
        ),
    ];
    let subject_line = subject.render(&filled).replace(['\r', '\n'], " ");
    Ok(Some(OutgoingMail {
        mailbox_id,
        ticket_id: Some(ticket.id),
        ticket_message_id: message_id,
        message_id: new_message_id(ticket.id, mailbox.settings.address.domain()),
        to,
        subject: subject_for(&subject_line, ticket.id, purpose == "reply"),
        body: body.render(&filled),
        automatic: purpose != "reply",
        purpose,
    }))
}

struct Values {
    agent: String,
    body: String,
    metric: String,
    /// The satisfaction survey link (resolution notices).
    survey: String,
}

fn display_name<'a>(name: &'a str, ticket: &'a Ticket) -> &'a str {
    if name.is_empty() {
        &ticket.team_name
    } else {
        name
    }
}

/// A fresh `Message-ID` naming the ticket (without angle brackets).
pub fn new_message_id(ticket: i64, domain: &str) -> String {
    format!(
        "opsdesk.{ticket}.{:016x}{:016x}@{domain}",
        fastrand::u64(..),
        fastrand::u64(..)
    )
}
