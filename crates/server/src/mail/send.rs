//! Sending one queued mail over SMTP (submission with TLS or STARTTLS and auth), with the
//! threading headers the store recorded, so that replies find their ticket again.

use std::time::Duration;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox as Address;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use opsdesk_domain::mail::Security;
use opsdesk_store::{MailRecord, Mailbox};

/// `Auto-Submitted` (RFC 3834): machine-sent mail says so, and other robots do not answer it.
#[derive(Clone)]
struct AutoSubmitted(String);

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// Builds the message for `mail` (body passed separately: it lives in the outbox payload).
pub fn build(mailbox: &Mailbox, mail: &MailRecord, body: &str) -> Result<Message, String> {
    let from = Address::new(
        Some(mailbox.settings.display_name.clone()).filter(|n| !n.is_empty()),
        mailbox
            .settings
            .address
            .as_str()
            .parse()
            .map_err(|e| format!("from address: {e}"))?,
    );
    let to: Address = mail.to.parse().map_err(|e| format!("recipient: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(mail.subject.clone())
        .message_id(mail.message_id.as_ref().map(|id| format!("<{id}>")))
        .user_agent(concat!("opsdesk/", env!("CARGO_PKG_VERSION")).to_owned())
        .header(AutoSubmitted(
            mail.automatic.clone().unwrap_or_else(|| "no".into()),
        ))
        .header(ContentType::TEXT_PLAIN);
    if let Some(parent) = &mail.in_reply_to {
        builder = builder.in_reply_to(format!("<{parent}>"));
    }
    let references: Vec<String> = mail
        .references
        .split_whitespace()
        .map(|id| format!("<{id}>"))
        .collect();
    if !references.is_empty() {
        builder = builder.references(references.join(" "));
    }
    builder.body(body.to_owned()).map_err(|e| e.to_string())
}

/// Hands `message` to the mailbox's SMTP server.
pub async fn send(mailbox: &Mailbox, message: Message) -> Result<(), String> {
    let Some(smtp) = &mailbox.settings.smtp else {
        return Err(format!(
            "mailbox '{}' has no SMTP server to send through",
            mailbox.settings.name
        ));
    };
    let builder = match (&mailbox.settings.tls_ca, smtp.security) {
        (_, Security::None) => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        (Some(pem), security) => {
            // The public roots plus the mailbox's own certificate.
            let mut parameters = TlsParameters::builder(smtp.host.clone());
            for cert in super::fetch::trusted_certificates(pem)? {
                parameters = parameters.add_root_certificate(
                    Certificate::from_der(cert.to_vec()).map_err(|e| e.to_string())?,
                );
            }
            let parameters = parameters.build_rustls().map_err(|e| e.to_string())?;
            let tls = if security == Security::Tls {
                Tls::Wrapper(parameters)
            } else {
                Tls::Required(parameters)
            };
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host).tls(tls)
        }
        (None, Security::Tls) => {
            AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(|e| e.to_string())?
        }
        (None, Security::StartTls) => {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| e.to_string())?
        }
    };
    let mut builder = builder
        .port(smtp.port)
        .timeout(Some(Duration::from_secs(30)));
    if !smtp.user.is_empty() {
        builder = builder.credentials(Credentials::new(smtp.user.clone(), smtp.password.clone()));
    }
    builder
        .build()
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP {}:{}: {e}", smtp.host, smtp.port))
}

/// A notice about no ticket (a page, a status update, a confirmation request) from the
/// sending mailbox, marked `Auto-Submitted: auto-generated`.
pub fn notice(mailbox: &Mailbox, to: &str, subject: &str, body: &str) -> Result<Message, String> {
    let from = Address::new(
        Some(mailbox.settings.display_name.clone()).filter(|n| !n.is_empty()),
        mailbox
            .settings
            .address
            .as_str()
            .parse()
            .map_err(|e| format!("from address: {e}"))?,
    );
    let to: Address = to.parse().map_err(|e| format!("recipient: {e}"))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject.replace(['\r', '\n'], " "))
        .message_id(Some(format!(
            "<{}>",
            super::notify::new_message_id(0, mailbox.settings.address.domain())
        )))
        .user_agent(concat!("opsdesk/", env!("CARGO_PKG_VERSION")).to_owned())
        .header(AutoSubmitted("auto-generated".into()))
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_owned())
        .map_err(|e| e.to_string())
}
