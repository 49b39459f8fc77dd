//! E-mail rules: which inbound mail was sent by a machine, how a reply finds its ticket, how
//! quoted history folds away, and how the templates admins edit are checked and filled in.
//! The wire format (MIME, charsets, headers) is read at the edge; these are the decisions.

use crate::access::{Action, Actor, TicketScope};
use crate::Invalid;

/// How a connection to a mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// A plain connection upgraded with STARTTLS before anything is said (143, 587).
    StartTls,
    /// No encryption: only for a server on the same host or a trusted network.
    None,
}

impl Security {
    /// Every choice.
    pub const ALL: [Security; 3] = [Security::Tls, Security::StartTls, Security::None];

    /// Parses `tls`, `starttls` or `none` for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("'{raw}' is not a connection security; use tls, starttls or none"),
                )
            })
    }

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::StartTls => "starttls",
            Security::None => "none",
        }
    }
}

/// The headers that tell a person's mail from a machine's (RFC 3834 and the de-facto ones).
#[derive(Debug, Clone, Default)]
pub struct Signals<'a> {
    /// `Auto-Submitted`.
    pub auto_submitted: Option<&'a str>,
    /// `Precedence`.
    pub precedence: Option<&'a str>,
    /// `X-Autoreply`, `X-Autorespond` or `X-Autoresponder` is present.
    pub autoreply_header: bool,
    /// `List-Id` or `List-Unsubscribe` is present.
    pub mailing_list: bool,
    /// The envelope sender (`Return-Path`) is empty (`<>`), as for bounces and notices.
    pub null_sender: bool,
    /// The sender's local part (before `@`).
    pub from_local: &'a str,
}

/// Why a message counts as automatic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Automatic {
    /// An out-of-office or other automatic answer to a message.
    Reply,
    /// Mail from a system (monitoring, a list, a notifier): may open a ticket, is never answered.
    Generated,
    /// A delivery report from a mail server (a bounce).
    DeliveryReport,
}

impl Automatic {
    /// Reads the signals; `None` for mail a person wrote.
    pub fn detect(s: &Signals<'_>) -> Option<Automatic> {
        let local = s.from_local.to_ascii_lowercase();
        if local == "mailer-daemon" || local == "postmaster" {
            return Some(Automatic::DeliveryReport);
        }
        let auto = s.auto_submitted.map(|v| v.trim().to_ascii_lowercase());
        if let Some(value) = &auto {
            if value.starts_with("auto-replied") {
                return Some(Automatic::Reply);
            }
            if !value.starts_with("no") && !value.is_empty() {
                return Some(Automatic::Generated);
            }
        }
        if s.autoreply_header {
            return Some(Automatic::Reply);
        }
        match s
            .precedence
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            Some("auto_reply") => return Some(Automatic::Reply),
            Some("bulk" | "junk" | "list") => return Some(Automatic::Generated),
            _ => {}
        }
        if s.mailing_list || s.null_sender {
            return Some(Automatic::Generated);
        }
        None
    }

    /// Whether a message of this kind may open a new ticket (an out-of-office answer to our
    /// own mail, or a bounce, must not: that is how mail loops start).
    pub fn opens_ticket(self) -> bool {
        matches!(self, Automatic::Generated)
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Automatic::Reply => "auto-reply",
            Automatic::Generated => "auto-generated",
            Automatic::DeliveryReport => "delivery-report",
        }
    }
}

/// The ticket number a subject carries as `[#1234]`, if any.
pub fn ticket_reference(subject: &str) -> Option<i64> {
    let mut rest = subject;
    while let Some(start) = rest.find("[#") {
        let after = &rest[start + 2..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && after[digits.len()..].starts_with(']') {
            return digits.parse().ok();
        }
        rest = after;
    }
    None
}

/// The subject of mail about ticket `number`: the reference is added once, and a reply is
/// marked `Re:` once.
pub fn subject_for(subject: &str, number: i64, reply: bool) -> String {
    let subject = subject.trim();
    let tagged = if ticket_reference(subject) == Some(number) {
        subject.to_owned()
    } else {
        format!("[#{number}] {subject}")
    };
    let has_re = tagged
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case("re:"));
    if reply && !has_re {
        format!("Re: {tagged}")
    } else {
        tagged
    }
}

/// A reply's own words and the history it quotes, split where the quoting starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// What the sender wrote.
    pub text: String,
    /// The quoted earlier messages, if any were found.
    pub quoted: Option<String>,
}

/// Splits quoted history off a plain-text reply: Gmail and Apple Mail (`On … wrote:`),
/// Outlook (`-----Original Message-----`, or a `From:` line followed by `Sent:`), and a
/// trailing block of `>` lines. Interleaved answers (text after quoted lines) are not folded;
/// a message that would become empty is left whole.
pub fn fold_quoted(body: &str) -> Folded {
    let lines: Vec<&str> = body.lines().collect();
    let cut = (0..lines.len()).find(|&i| starts_quote(&lines, i));
    let Some(cut) = cut else {
        return Folded {
            text: body.trim_end().to_owned(),
            quoted: None,
        };
    };
    let text = lines[..cut].join("\n").trim_end().to_owned();
    if text.trim().is_empty() {
        return Folded {
            text: body.trim_end().to_owned(),
            quoted: None,
        };
    }
    Folded {
        text,
        quoted: Some(lines[cut..].join("\n").trim().to_owned()),
    }
}

fn starts_quote(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    let lower = line.to_ascii_lowercase();
    // "On Tue, 3 Nov 2026 at 10:00, Ana <ana@example.com> wrote:" (often wrapped in two).
    if lower.starts_with("on ") {
        let joined = match lines.get(i + 1) {
            Some(next) if !lower.ends_with("wrote:") => format!("{lower} {}", next.trim()),
            _ => lower.clone(),
        };
        if joined.trim_end().ends_with("wrote:") {
            return true;
        }
    }
    if (lower.starts_with("am ") && lower.ends_with("schrieb:"))
        || (lower.starts_with("le ")
            && (lower.ends_with("a écrit :") || lower.ends_with("a écrit:")))
    {
        return true;
    }
    if lower.contains("-----original message-----") {
        return true;
    }
    if lower.starts_with("from:")
        && lines
            .iter()
            .skip(i + 1)
            .take(4)
            .any(|l| l.trim().to_ascii_lowercase().starts_with("sent:"))
    {
        return true;
    }
    // A trailing block of quoted lines (blank lines allowed) ends the message.
    line.starts_with('>')
        && lines[i..]
            .iter()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('>'))
}

/// A mail template: text with `{{ name }}` placeholders, checked when saved so that it always
/// renders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(String),
}

impl Template {
    /// Parses `raw` for `field`, refusing a placeholder not in `names` or left unclosed.
    pub fn parse(field: &'static str, raw: &str, names: &[&str]) -> Result<Self, Invalid> {
        if raw.len() > 20_000 {
            return Err(Invalid::new(
                field,
                "a template is at most 20,000 characters",
            ));
        }
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| {
                Invalid::new(
                    field,
                    "a placeholder opened with '{{' is not closed with '}}'",
                )
            })?;
            let name = after[..close].trim();
            if !names.contains(&name) {
                return Err(Invalid::new(
                    field,
                    format!(
                        "unknown placeholder '{{{{ {name} }}}}'; known: {}",
                        names.join(", ")
                    ),
                ));
            }
            parts.push(Part::Value(name.to_owned()));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self { parts })
    }

    /// Fills the placeholders from `values` (a missing value renders empty).
    pub fn render(&self, values: &[(&str, &str)]) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Value(name) => {
                    if let Some((_, value)) = values.iter().find(|(n, _)| n == name) {
                        out.push_str(value);
                    }
                }
            }
        }
        out
    }
}

/// The sender of an inbound message, when the address belongs to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    /// The account as the rules see it.
    pub actor: Actor,
    /// Whether the account is active.
    pub active: bool,
}

/// The ticket an inbound message threads to (by its references or the `[#n]` in its subject).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thread {
    /// The ticket.
    pub ticket: i64,
    /// Whose it is.
    pub scope: TicketScope,
    /// Whether it is closed (a closed ticket takes no more replies).
    pub closed: bool,
}

/// What the desk knows about an inbound message before it decides what the message is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntakeFacts {
    /// It was sent from one of the desk's own mailboxes.
    pub from_own_mailbox: bool,
    /// It reports that mail the desk sent bounced: the ticket that mail was about, if any.
    pub bounce_of: Option<Option<i64>>,
    /// What kind of machine sent it, if one did.
    pub automatic: Option<Automatic>,
    /// Messages from the same address in the last hour, this one aside.
    pub recent_from_sender: i64,
    /// The mailbox's limit per sender and hour.
    pub sender_limit_per_hour: i64,
    /// The sender's account, if the address has one.
    pub sender: Option<Sender>,
    /// The ticket it threads to, if any.
    pub thread: Option<Thread>,
}

/// What an inbound message becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Recorded, nothing more, for this reason.
    Ignore(String),
    /// Recorded and dropped: the sender wrote too often this hour.
    RateLimited,
    /// A bounce of the desk's mail, about this ticket if known.
    Bounce(Option<i64>),
    /// An out-of-office answer on a ticket: an internal note by the sender.
    AutoReplyNote {
        /// The ticket.
        ticket: i64,
        /// The sender's account.
        sender: i64,
    },
    /// A reply on a ticket; staff mail is kept as an internal note, never published.
    Reply {
        /// The ticket.
        ticket: i64,
        /// The sender as the rules see them.
        sender: Actor,
    },
    /// A new ticket, by the sender's account if the address has one.
    NewTicket {
        /// The sender's account.
        sender: Option<i64>,
    },
}

/// Decides what an inbound message becomes: loops and unknown delivery reports are ignored,
/// bounces recorded, senders over their hourly limit dropped, deactivated accounts ignored;
/// mail threaded to an open ticket by someone who may add to it by mail is a reply (an
/// out-of-office answer an internal note); other automatic mail opens nothing; the rest opens
/// a ticket.
pub fn decide(facts: &IntakeFacts) -> Decision {
    if facts.from_own_mailbox {
        return Decision::Ignore("sent from one of opsdesk's own mailboxes (a loop)".into());
    }
    if let Some(ticket) = facts.bounce_of {
        return Decision::Bounce(ticket);
    }
    if facts.automatic == Some(Automatic::DeliveryReport) {
        return Decision::Ignore("a delivery report that names no mail opsdesk sent".into());
    }
    if facts.recent_from_sender >= facts.sender_limit_per_hour {
        return Decision::RateLimited;
    }
    if facts.sender.as_ref().is_some_and(|s| !s.active) {
        return Decision::Ignore("the sender's account is deactivated".into());
    }
    if let (Some(thread), Some(sender)) = (facts.thread, &facts.sender) {
        let allowed = sender.actor.may(Action::ReplyByMail(thread.scope));
        if allowed && !thread.closed {
            if facts.automatic == Some(Automatic::Reply) {
                return Decision::AutoReplyNote {
                    ticket: thread.ticket,
                    sender: sender.actor.user_id,
                };
            }
            return Decision::Reply {
                ticket: thread.ticket,
                sender: sender.actor.clone(),
            };
        }
    }
    if let Some(kind) = facts.automatic {
        if !kind.opens_ticket() {
            return Decision::Ignore(format!(
                "an automatic message ({}) that answers no open ticket",
                kind.as_str()
            ));
        }
    }
    Decision::NewTicket {
        sender: facts.sender.as_ref().map(|s| s.actor.user_id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signals(from_local: &str) -> Signals<'_> {
        Signals {
            from_local,
            ..Signals::default()
        }
    }

    #[test]
    fn person_mail_is_not_automatic() {
        assert_eq!(Automatic::detect(&signals("ana")), None);
        let explicit_no = Signals {
            auto_submitted: Some("no"),
            ..signals("ana")
        };
        assert_eq!(Automatic::detect(&explicit_no), None);
    }

    #[test]
    fn machine_mail_is_recognised() {
        let cases = [
            (
                Signals {
                    auto_submitted: Some("auto-replied; owner-email=x@y.z"),
                    ..signals("ana")
                },
                Automatic::Reply,
            ),
            (
                Signals {
                    auto_submitted: Some("auto-generated"),
                    ..signals("nagios")
                },
                Automatic::Generated,
            ),
            (
                Signals {
                    autoreply_header: true,
                    ..signals("ana")
                },
                Automatic::Reply,
            ),
            (
                Signals {
                    precedence: Some("bulk"),
                    ..signals("news")
                },
                Automatic::Generated,
            ),
            (
                Signals {
                    precedence: Some("auto_reply"),
                    ..signals("ana")
                },
                Automatic::Reply,
            ),
            (signals("MAILER-DAEMON"), Automatic::DeliveryReport),
            (
                Signals {
                    null_sender: true,
                    ..signals("noreply")
                },
                Automatic::Generated,
            ),
        ];
        for (s, want) in cases {
            assert_eq!(Automatic::detect(&s), Some(want), "{s:?}");
        }
        assert!(!Automatic::Reply.opens_ticket());
        assert!(!Automatic::DeliveryReport.opens_ticket());
        assert!(Automatic::Generated.opens_ticket());
    }

    #[test]
    fn subjects_carry_the_reference_once() {
        assert_eq!(ticket_reference("Re: [#1234] Printer"), Some(1234));
        assert_eq!(ticket_reference("[#] [x] [#12a] [#7]"), Some(7));
        assert_eq!(ticket_reference("No reference #12"), None);
        assert_eq!(subject_for("Printer", 12, false), "[#12] Printer");
        assert_eq!(subject_for("[#12] Printer", 12, true), "Re: [#12] Printer");
        assert_eq!(
            subject_for("RE: [#12] Printer", 12, true),
            "RE: [#12] Printer"
        );
        assert_eq!(
            subject_for("[#9] Printer", 12, true),
            "Re: [#12] [#9] Printer"
        );
    }

    #[test]
    fn quoted_history_folds_for_common_clients() {
        let gmail = "Thanks, that worked.\n\nOn Tue, 3 Nov 2026 at 10:00, Desk <desk@example.com>\nwrote:\n> Try again.\n";
        let folded = fold_quoted(gmail);
        assert_eq!(folded.text, "Thanks, that worked.");
        assert!(folded
            .quoted
            .as_deref()
            .is_some_and(|q| q.ends_with("> Try again.")));

        let outlook = "Still broken.\r\n\r\nFrom: Desk <desk@example.com>\r\nSent: Tuesday, November 3, 2026 10:00\r\nTo: Ana\r\nSubject: RE: [#5] VPN\r\n\r\nTry again.";
        let folded = fold_quoted(outlook);
        assert_eq!(folded.text, "Still broken.");
        assert!(folded.quoted.is_some_and(|q| q.starts_with("From: Desk")));

        let original = "Yes.\n-----Original Message-----\nFrom: x";
        assert_eq!(fold_quoted(original).text, "Yes.");

        let trailing = "Fine now.\n\n> earlier\n>\n> text\n";
        assert_eq!(fold_quoted(trailing).text, "Fine now.");

        let interleaved = "> question one\nanswer one\n> question two\nanswer two";
        assert_eq!(fold_quoted(interleaved).quoted, None);

        let only_quote = "> all quoted\n> nothing new";
        assert_eq!(fold_quoted(only_quote).text, only_quote);
    }

    #[test]
    fn templates_refuse_unknown_placeholders_and_render() {
        let names = ["ticket.number", "ticket.subject"];
        let t = Template::parse(
            "body",
            "Ticket {{ ticket.number }}: {{ticket.subject}}!",
            &names,
        )
        .expect("valid template");
        assert_eq!(
            t.render(&[("ticket.number", "12"), ("ticket.subject", "VPN")]),
            "Ticket 12: VPN!"
        );
        let unknown = Template::parse("body", "{{ ticket.secret }}", &names).expect_err("unknown");
        assert_eq!(unknown.field, "body");
        assert!(
            unknown.reason.contains("ticket.secret"),
            "{}",
            unknown.reason
        );
        assert!(Template::parse("subject", "open {{ ticket.number", &names).is_err());
    }

    #[test]
    fn security_names_round_trip() {
        for s in Security::ALL {
            assert_eq!(Security::parse("imap_security", s.as_str()), Ok(s));
        }
        assert_eq!(
            Security::parse("imap_security", "ssl").map_err(|e| e.field),
            Err("imap_security")
        );
    }

    fn facts() -> IntakeFacts {
        IntakeFacts {
            from_own_mailbox: false,
            bounce_of: None,
            automatic: None,
            recent_from_sender: 0,
            sender_limit_per_hour: 30,
            sender: Some(Sender {
                actor: Actor {
                    user_id: 7,
                    role: crate::Role::Customer,
                    org_id: Some(1),
                    tier: None,
                },
                active: true,
            }),
            thread: Some(Thread {
                ticket: 40,
                scope: TicketScope {
                    org_id: Some(1),
                    requester_id: 8,
                },
                closed: false,
            }),
        }
    }

    #[test]
    fn a_colleague_replies_by_mail_and_a_stranger_opens_a_ticket() {
        let colleague = facts();
        assert!(matches!(
            decide(&colleague),
            Decision::Reply { ticket: 40, .. }
        ));
        let mut stranger = facts();
        if let Some(sender) = &mut stranger.sender {
            sender.actor.org_id = Some(2);
        }
        assert_eq!(decide(&stranger), Decision::NewTicket { sender: Some(7) });
        let mut closed = facts();
        if let Some(thread) = &mut closed.thread {
            thread.closed = true;
        }
        assert_eq!(decide(&closed), Decision::NewTicket { sender: Some(7) });
    }

    #[test]
    fn loops_bounces_floods_and_machines_open_nothing() {
        let own = IntakeFacts {
            from_own_mailbox: true,
            ..facts()
        };
        assert!(matches!(decide(&own), Decision::Ignore(_)));
        let bounce = IntakeFacts {
            bounce_of: Some(Some(40)),
            ..facts()
        };
        assert_eq!(decide(&bounce), Decision::Bounce(Some(40)));
        let flood = IntakeFacts {
            recent_from_sender: 30,
            ..facts()
        };
        assert_eq!(decide(&flood), Decision::RateLimited);
        let away = IntakeFacts {
            automatic: Some(Automatic::Reply),
            ..facts()
        };
        assert_eq!(
            decide(&away),
            Decision::AutoReplyNote {
                ticket: 40,
                sender: 7
            }
        );
        let away_unthreaded = IntakeFacts {
            automatic: Some(Automatic::Reply),
            thread: None,
            ..facts()
        };
        assert!(matches!(decide(&away_unthreaded), Decision::Ignore(_)));
    }
}
