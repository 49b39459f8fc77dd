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
    let from_name = clean(sender.name.as_deref().unwrap_or_default().trim());
    let signals = signals(&message, &from);
    let automatic = Automatic::detect(&signals);
    // Only a mail server's report (null sender or MAILER-DAEMON) may mark our mail bounced.
    let bounce_of = (signals.null_sender || automatic == Some(Automatic::DeliveryReport))
        .then(|| delivery_report(&message))
        .flatten();
    let text = message
        .body_text(0)
        .map(|t| clean(&t.replace("\r\n", "\n")))
        .unwrap_or_default();
    let folded = fold_quoted(&text);
    let html = message
        .body_html(0)
        .filter(|_| message.html_body_count() > 0 && has_html_part(&message))
        .map(|html| clean(&ammonia::clean(&html)));
    let attachments = message
        .attachments()
        .enumerate()
        .filter(|(_, part)| !matches!(part.body, PartType::Message(_)) || bounce_of.is_none())
        .map(|(i, part)| InboundAttachment {
            filename: part
                .attachment_name()
                .map(clean)
                .filter(|name| !name.trim().is_empty())
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
        message_id: message
            .message_id()
            .map(clean_id)
            .filter(|id| !id.is_empty()),
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
        subject: clean(message.subject().unwrap_or_default().trim()).replace('\n', " "),
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
    clean(id.trim().trim_start_matches('<').trim_end_matches('>'))
}

/// Text without control characters (but newlines and tabs): a NUL or an escape in a subject
/// or body must not make the message unstorable.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || *c == '\n' || *c == '\t')
        .collect()
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
        out.push_str(&clean(name));
        out.push(':');
        let value: String = clean(value)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        out.push(' ');
        out.push_str(&value);
        out.push('\n');
        if out.len() > 64 * 1024 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parsed(raw: &[u8]) -> InboundMail {
        match read(raw.to_vec()) {
            Inbound::Parsed(mail) => *mail,
            Inbound::Unparseable { reason, .. } => panic!("unparseable: {reason}"),
        }
    }

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!("../../tests/fixtures/mail/", $name))
        };
    }

    fn filled(template: &[u8], ticket: i64, parent: &str) -> Vec<u8> {
        String::from_utf8_lossy(template)
            .replace("{ticket}", &ticket.to_string())
            .replace("{parent}", parent)
            .replace("{recipient}", "gone@acme.example")
            .into_bytes()
    }

    #[test]
    fn plain_text_keeps_sender_ids_and_body() {
        let mail = parsed(fixture!("plain.eml"));
        assert_eq!(mail.from.as_str(), "ana@acme.example");
        assert_eq!(mail.from_name, "Ana Lima");
        assert_eq!(
            mail.message_id.as_deref(),
            Some("CAF1plain001@mail.acme.example")
        );
        assert_eq!(mail.subject, "VPN drops every hour");
        assert!(mail.text.contains("disconnects every hour"));
        assert_eq!(mail.to, vec!["support@desk.example".to_owned()]);
        assert!(mail.automatic.is_none());
        assert!(mail
            .headers
            .contains("Message-ID: <CAF1plain001@mail.acme.example>"));
    }

    #[test]
    fn alternative_prefers_plain_text_and_sanitizes_html() {
        let mail = parsed(fixture!("gmail-alternative.eml"));
        assert_eq!(
            mail.text.trim(),
            "The invoice 2026-118 charges 23% VAT; our contract says 6%."
        );
        let html = mail.html.expect("html part kept");
        assert!(html.contains("<b>23% VAT</b>"), "{html}");
        assert!(!html.contains("script"), "{html}");
    }

    #[test]
    fn nested_multipart_finds_text_and_attachment() {
        let mail = parsed(fixture!("nested-multipart.eml"));
        assert_eq!(
            mail.text.trim(),
            "Please find the signed contract attached."
        );
        assert_eq!(mail.attachments.len(), 1);
        let pdf = &mail.attachments[0];
        assert_eq!(pdf.filename, "contract.pdf");
        assert_eq!(pdf.content_type, "application/pdf");
        assert!(pdf.data.starts_with(b"%PDF-1.4"));
    }

    #[test]
    fn charsets_and_encoded_words_decode() {
        let latin = parsed(fixture!("iso-8859-1.eml"));
        assert_eq!(latin.subject, "Imprimante à l'étage 2 en panne");
        assert_eq!(latin.from_name, "Françoise Müller");
        assert!(latin.text.contains("« Bourrage papier »"), "{}", latin.text);

        let sjis = parsed(fixture!("shift_jis.eml"));
        assert_eq!(sjis.subject, "ログインできません");
        assert_eq!(sjis.from_name, "山田");
        assert!(
            sjis.text.contains("パスワードを再設定してください"),
            "{}",
            sjis.text
        );

        let cp = parsed(fixture!("windows-1252.eml"));
        assert_eq!(cp.subject, "Export “button” charges");
        assert!(
            cp.text.contains("costs €10 per click – that’s wrong"),
            "{}",
            cp.text
        );
    }

    #[test]
    fn html_only_mail_becomes_text_and_loses_its_scripts() {
        let mail = parsed(fixture!("html-only.eml"));
        assert!(
            mail.text
                .contains("The dashboard shows nothing since the update"),
            "{}",
            mail.text
        );
        assert!(!mail.text.contains("fetch("), "{}", mail.text);
        let html = mail.html.expect("html kept");
        for bad in ["<script", "onerror", "javascript:", "<style"] {
            assert!(!html.contains(bad), "{bad} survived: {html}");
        }
    }

    #[test]
    fn inline_images_and_winmail_dat_are_attachments() {
        let mail = parsed(fixture!("inline-image.eml"));
        assert_eq!(mail.attachments.len(), 1);
        assert_eq!(mail.attachments[0].filename, "screenshot.png");
        assert_eq!(mail.attachments[0].content_type, "image/png");

        let outlook = parsed(fixture!("outlook-winmail.eml"));
        assert!(outlook.text.contains("0x8004010F"));
        assert_eq!(outlook.attachments.len(), 1);
        assert_eq!(outlook.attachments[0].filename, "winmail.dat");
        assert_eq!(outlook.attachments[0].content_type, "application/ms-tnef");
    }

    #[test]
    fn replies_from_common_clients_thread_and_fold() {
        for (template, own_words, quote_start) in [
            (
                &fixture!("reply-outlook.eml.tmpl")[..],
                "It still drops, also with client 5.3.",
                "-----Original Message-----",
            ),
            (
                &fixture!("reply-gmail.eml.tmpl")[..],
                "Thanks, that fixed it.",
                "On Mon, 23 Nov 2026",
            ),
            (
                &fixture!("reply-apple-mail.eml.tmpl")[..],
                "One more detail: it happens on Wi-Fi only.",
                "> On 23 Nov 2026",
            ),
        ] {
            let mail = parsed(&filled(template, 12, "opsdesk.12.abc@desk.example"));
            assert_eq!(
                mail.in_reply_to,
                vec!["opsdesk.12.abc@desk.example".to_owned()]
            );
            assert_eq!(
                mail.references,
                vec!["opsdesk.12.abc@desk.example".to_owned()]
            );
            assert_eq!(mail.text, own_words);
            let quoted = mail.quoted.expect("quoted history folded");
            assert!(quoted.starts_with(quote_start), "{quoted}");
            assert!(mail.automatic.is_none());
        }
    }

    #[test]
    fn auto_replies_and_bounces_are_recognised() {
        let auto = parsed(&filled(
            fixture!("auto-reply.eml.tmpl"),
            12,
            "p@desk.example",
        ));
        assert_eq!(auto.automatic, Some(Automatic::Reply));

        let bounce = parsed(&filled(
            fixture!("bounce-dsn.eml.tmpl"),
            12,
            "opsdesk.12.x@desk.example",
        ));
        assert_eq!(bounce.automatic, Some(Automatic::DeliveryReport));
        let (original, reason) = bounce.bounce_of.expect("names the bounced mail");
        assert_eq!(original, "opsdesk.12.x@desk.example");
        assert!(reason.contains("5.1.1"), "{reason}");
        assert!(reason.contains("User unknown"), "{reason}");
    }

    #[test]
    fn control_characters_never_reach_storage() {
        let raw = b"From: a@b.example\r\nSubject: =?utf-8?q?x=00y=1Bz?=\r\nMessage-ID: <a\x01b@c>\r\n\r\nnul\x00here\x0cand\ttab\r\n";
        let mail = parsed(raw);
        assert_eq!(mail.subject, "xyz");
        assert_eq!(mail.message_id.as_deref(), Some("ab@c"));
        assert_eq!(mail.text, "nulhereand\ttab");
    }

    #[test]
    fn a_report_from_a_stranger_bounces_nothing() {
        let forged = String::from_utf8_lossy(&filled(
            fixture!("bounce-dsn.eml.tmpl"),
            1,
            "x@desk.example",
        ))
        .replace("Return-Path: <>", "Return-Path: <mallory@evil.example>")
        .replace("MAILER-DAEMON@mx.desk.example", "mallory@evil.example");
        let mail = parsed(forged.as_bytes());
        assert!(mail.bounce_of.is_none());
    }

    #[test]
    fn unreadable_input_is_kept_with_a_reason() {
        for raw in [
            &fixture!("no-from.eml")[..],
            &fixture!("garbage.bin")[..],
            b"",
        ] {
            match read(raw.to_vec()) {
                Inbound::Unparseable { raw: kept, reason } => {
                    assert_eq!(kept, raw);
                    assert!(!reason.is_empty());
                }
                Inbound::Parsed(mail) => panic!("parsed {:?}", mail.subject),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// No input makes the reader panic; it always answers parsed or unparseable.
        #[test]
        fn any_bytes_are_read_without_panicking(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = read(raw);
        }

        /// Damaged real messages (bytes flipped, cut short) never panic either.
        #[test]
        fn damaged_messages_are_read_without_panicking(
            which in 0usize..6,
            cut in 0usize..2000,
            flips in proptest::collection::vec((0usize..2000, any::<u8>()), 0..40),
        ) {
            let corpus: [&[u8]; 6] = [
                fixture!("plain.eml"), fixture!("gmail-alternative.eml"), fixture!("nested-multipart.eml"),
                fixture!("shift_jis.eml"), fixture!("inline-image.eml"), fixture!("bounce-dsn.eml.tmpl"),
            ];
            let mut raw = corpus[which].to_vec();
            for (at, byte) in flips {
                if !raw.is_empty() {
                    let i = at % raw.len();
                    raw[i] = byte;
                }
            }
            raw.truncate(cut.max(1).min(raw.len()));
            let _ = read(raw);
        }
    }
}
