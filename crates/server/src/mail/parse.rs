//! Reading one inbound message off the wire: MIME structure, charsets, RFC 2047 subjects,
//! the text to keep, attachments, the automatic-mail signals and delivery reports.
//!
//! *Nothing here panics on any input and nothing is dropped*: a message that cannot be read
//! comes back as [`Inbound::Unparseable`] with its source (the intake fuzz test holds this).

use mail_parser::{Address, HeaderValue, Message, MessageParser, MimeHeaders, PartType};
use opsdesk_domain::mail::{fold_quoted, Automatic, Signals};
use opsdesk_domain::Email;
use opsdesk_store::{Inbound, InboundAttachment, InboundMail};

/// Reads `raw` into what the store takes in.
pub fn read(raw: Vec<u8>) -> Inbound {
    let parsed = MessageParser::default().parse(raw.as_slice());
    let Some(message) = parsed else {
        return Inbound::Unparseable {
            reason: "not a mail message (no header block could be read)".into(),
            raw,
        };
    };
    let Some(sender) = message.from().and_then(Address::first) else {
        return Inbound::Unparseable {
            reason: "the message has no From address".into(),
            raw,
        };
    };
    let address = sender.address.as_deref().unwrap_or_default();
    let from = match Email::parse("from", address) {
        Ok(from) => from,
        Err(e) => {
            return Inbound::Unparseable {
                reason: format!("the From address is unusable: {}", e.reason),
                raw,
            }
        }
    };
    let from_name = sender.name.as_deref().unwrap_or_default().trim().to_owned();
    let automatic = Automatic::detect(&signals(&message, &from));
    let bounce_of = delivery_report(&message);
    let text = message
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n"))
        .unwrap_or_default();
    let folded = fold_quoted(&text);
    let html = message
        .body_html(0)
        .filter(|_| message.html_body_count() > 0 && has_html_part(&message))
        .map(|html| ammonia::clean(&html));
    let attachments = message
        .attachments()
        .enumerate()
        .filter(|(_, part)| !matches!(part.body, PartType::Message(_)) || bounce_of.is_none())
        .map(|(i, part)| InboundAttachment {
            filename: part
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("attachment-{}", i + 1)),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            data: part.contents().to_vec(),
        })
        .collect();
    let mail = InboundMail {
        message_id: message.message_id().map(clean_id),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        from,
        from_name,
        to: message
            .to()
            .into_iter()
            .chain(message.cc())
            .flat_map(Address::iter)
            .filter_map(|a| a.address.as_deref().map(str::to_lowercase))
            .collect(),
        subject: message.subject().unwrap_or_default().trim().to_owned(),
        headers: headers(&message),
        text: folded.text,
        quoted: folded.quoted,
        html,
        automatic: if bounce_of.is_some() {
            Some(Automatic::DeliveryReport)
        } else {
            automatic
        },
        bounce_of,
        attachments,
        raw: Vec::new(),
    };
    drop(message);
    Inbound::Parsed(Box::new(InboundMail { raw, ..mail }))
}

fn has_html_part(message: &Message<'_>) -> bool {
    message.html_bodies().any(|p| p.is_text_html())
}

fn signals<'a>(message: &'a Message<'a>, from: &'a Email) -> Signals<'a> {
    let text = |name: &'static str| message.header(name).and_then(HeaderValue::as_text);
    Signals {
        auto_submitted: text("Auto-Submitted"),
        precedence: text("Precedence"),
        autoreply_header: ["X-Autoreply", "X-Autorespond", "X-Autoresponder"]
            .iter()
            .any(|h| message.header(*h).is_some()),
        mailing_list: message.header("List-Id").is_some()
            || message.header("List-Unsubscribe").is_some(),
        null_sender: message
            .header_raw("Return-Path")
            .is_some_and(|v| v.trim() == "<>"),
        from_local: from.as_str().split('@').next().unwrap_or_default(),
    }
}

/// For a delivery status notification (RFC 3464): the Message-ID of the returned mail and
/// the reason the server gave.
fn delivery_report(message: &Message<'_>) -> Option<(String, String)> {
    if !message.root_part().is_content_type("multipart", "report") {
        return None;
    }
    let mut original = None;
    let mut reason = String::new();
    for part in &message.parts {
        let is = |t: &str, s: &str| part.is_content_type(t, s);
        if let PartType::Message(returned) = &part.body {
            original = original.or_else(|| returned.message_id().map(clean_id));
        } else if is("text", "rfc822-headers") {
            original = original.or_else(|| {
                MessageParser::default()
                    .parse(part.contents())
                    .and_then(|m| m.message_id().map(clean_id))
            });
        } else if is("message", "delivery-status") {
            let status = String::from_utf8_lossy(part.contents());
            for line in status.lines() {
                let lower = line.to_ascii_lowercase();
                if lower.starts_with("status:") || lower.starts_with("diagnostic-code:") {
                    if !reason.is_empty() {
                        reason.push_str("; ");
                    }
                    reason.push_str(line.trim());
                }
            }
        }
    }
    let reason = if reason.is_empty() {
        "the receiving server returned the mail".to_owned()
    } else {
        reason
    };
    original.map(|id| (id, reason))
}

fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned()
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![clean_id(id)],
        HeaderValue::TextList(list) => list.iter().map(|id| clean_id(id)).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|id| !id.is_empty())
    .take(100)
    .collect()
}

/// The header block as the sender wrote it (unfolded), for the "headers" view.
fn headers(message: &Message<'_>) -> String {
    let mut out = String::new();
    for (name, value) in message.headers_raw().take(200) {
        out.push_str(name);
        out.push(':');
        let value: String = value.split_whitespace().collect::<Vec<_>>().join(" ");
        out.push(' ');
        out.push_str(&value);
        out.push('\n');
        if out.len() > 64 * 1024 {
            break;
        }
    }
    out
}
