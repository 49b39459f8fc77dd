//! The mail templates admins edit: their keys, placeholders and built-in texts. A template is
//! checked by the domain when saved, so a stored one always renders.

use opsdesk_domain::mail::Template;
use opsdesk_domain::Invalid;

/// One kind of mail opsdesk sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// Stored key.
    pub key: &'static str,
    /// What it is for, for the admin page.
    pub purpose: &'static str,
    /// Built-in subject.
    pub subject: &'static str,
    /// Built-in body.
    pub body: &'static str,
}

/// Placeholders every template may use.
pub const PLACEHOLDERS: [&str; 10] = [
    "ticket.number",
    "ticket.subject",
    "ticket.status",
    "ticket.url",
    "requester.name",
    "agent.name",
    "message.body",
    "sla.metric",
    "desk.name",
    "survey.url",
];

/// Every template.
pub const KINDS: [Kind; 4] = [
    Kind {
        key: "acknowledgement",
        purpose: "sent once when mail opens a new ticket",
        subject: "{{ ticket.subject }}",
        body: "Hello {{ requester.name }},\n\nWe received your request and opened ticket #{{ ticket.number }}. \
Reply to this mail to add to it.\n\n{{ ticket.url }}\n\n— {{ desk.name }}\n",
    },
    Kind {
        key: "reply",
        purpose: "an agent's public reply",
        subject: "{{ ticket.subject }}",
        body: "{{ message.body }}\n\n— {{ agent.name }}, {{ desk.name }}\n\n{{ ticket.url }}\n",
    },
    Kind {
        key: "resolved",
        purpose: "the ticket was resolved",
        subject: "{{ ticket.subject }}",
        body: "Hello {{ requester.name }},\n\nTicket #{{ ticket.number }} is resolved. If it is not, reply \
to this mail and it opens again.\n\n{{ ticket.url }}\n\nHow did we do? One click rates us: \
{{ survey.url }}\n\n— {{ desk.name }}\n",
    },
    Kind {
        key: "sla_breach",
        purpose: "to the assignee when an SLA target is missed",
        subject: "SLA breached: {{ ticket.subject }}",
        body: "The {{ sla.metric }} target of ticket #{{ ticket.number }} ({{ ticket.subject }}) was missed.\n\n{{ ticket.url }}\n",
    },
];

/// The kind stored under `key`.
pub fn kind(key: &str) -> Option<Kind> {
    KINDS.into_iter().find(|k| k.key == key)
}

/// Checks a template's subject and body.
pub fn check(subject: &str, body: &str) -> Result<(Template, Template), Invalid> {
    if subject.trim().is_empty() {
        return Err(Invalid::new("subject", "must not be empty"));
    }
    if subject.contains(['\r', '\n']) {
        return Err(Invalid::new("subject", "must be one line"));
    }
    Ok((
        Template::parse("subject", subject, &PLACEHOLDERS)?,
        Template::parse("body", body, &PLACEHOLDERS)?,
    ))
}

/// The templates in force: stored ones over the built-in texts.
pub fn in_force(stored: &[(String, String, String)], key: &str) -> Option<(Template, Template)> {
    let builtin = kind(key)?;
    let (subject, body) = stored
        .iter()
        .find(|(k, _, _)| k == key)
        .map_or((builtin.subject, builtin.body), |(_, s, b)| {
            (s.as_str(), b.as_str())
        });
    check(subject, body)
        .or_else(|_| check(builtin.subject, builtin.body))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_templates_are_valid() {
        for kind in KINDS {
            assert!(check(kind.subject, kind.body).is_ok(), "{}", kind.key);
        }
    }
}
