//! Outbox delivery: webhook calls queued by the transactions that decided them, posted with
//! retries and exponential backoff. Each request carries `Idempotency-Key: opsdesk-outbox-<id>`,
//! so a receiver can drop the duplicate of a call whose answer was lost to a crash.

use std::time::Duration;

use jiff::Timestamp;
use opsdesk_store::{Store, StoreError};

/// The HTTP client deliveries use.
pub(super) type Client = reqwest::Client;

/// What deliveries need: the client, and for pages the address of opsdesk and the key that
/// signs their links and bodies.
pub(super) struct Deliverer {
    pub(super) http: Client,
    pub(super) public_url: String,
    pub(super) secret: String,
    pub(super) allow_private: bool,
}

/// Items delivered per round.
const PER_ROUND: i64 = 50;
/// How long a claimed item is held before another attempt may take it (longer than a send).
const HOLD: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// A client with a short timeout, so one slow receiver cannot hold the queue; unless private
/// webhooks are allowed, it connects only to public addresses.
pub(super) fn client(allow_private: bool) -> Client {
    let builder = reqwest::Client::builder();
    let builder = if allow_private {
        builder
    } else {
        builder.dns_resolver(std::sync::Arc::new(super::egress::PublicOnly))
    };
    builder
        .timeout(Duration::from_secs(10))
        // A receiver cannot bounce a delivery to another address.
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("opsdesk/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// Delivers the items due at `now`; `true` when a full round was taken.
pub(super) async fn deliver_due(
    store: &Store,
    client: &Deliverer,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let due = store.claim_outbox(now, HOLD, PER_ROUND).await?;
    let mut mails = Vec::new();
    // Send concurrently (one slow receiver does not hold the others back), record at once.
    let mut sends = tokio::task::JoinSet::new();
    for item in &due {
        if matches!(
            item.kind.as_str(),
            "email" | "page_email" | "status_email" | "status_confirm"
        ) {
            mails.push(item.clone());
            continue;
        }
        let (http, public_url, secret, allow_private) = (
            client.http.clone(),
            client.public_url.clone(),
            client.secret.clone(),
            client.allow_private,
        );
        let (id, kind, target, payload) = (
            item.id,
            item.kind.clone(),
            item.target.clone(),
            item.payload.clone(),
        );
        sends.spawn(async move {
            if !allow_private {
                if let Err(refused) = super::egress::check_url(&target) {
                    return (id, Err(refused));
                }
            }
            let outcome = match kind.as_str() {
                "webhook" => post(&http, id, &target, &payload, None).await,
                "page_webhook" | "page_slack" => {
                    match crate::paging::render(&kind, &payload, &public_url, &secret) {
                        Ok(body) => {
                            let signature = (kind == "page_webhook")
                                .then(|| crate::paging::body_signature(&secret, body.as_bytes()));
                            post(&http, id, &target, &body, signature).await
                        }
                        Err(e) => Err(e),
                    }
                }
                other => Err(format!("no transport for '{other}' messages")),
            };
            if let Err(error) = &outcome {
                tracing::warn!(id, %target, %error, "outbox delivery failed");
            }
            (id, outcome)
        });
    }
    for item in mails {
        let store = store.clone();
        let (base, secret) = (client.public_url.clone(), client.secret.clone());
        sends.spawn(async move {
            let outcome = if item.kind == "email" {
                send_mail(&store, &item.payload).await
            } else {
                send_notice(&store, &item, &base, &secret).await
            };
            if let Err(error) = &outcome {
                tracing::warn!(id = item.id, kind = %item.kind, %error, "mail delivery failed");
            }
            (item.id, outcome)
        });
    }
    let mut outcomes = Vec::with_capacity(due.len());
    while let Some(done) = sends.join_next().await {
        match done {
            Ok(result) => outcomes.push(result),
            Err(e) => tracing::error!(error = %e, "an outbox delivery task failed"),
        }
    }
    store.record_deliveries(outcomes, Timestamp::now()).await?;
    Ok(due.len() as i64 == PER_ROUND)
}

async fn post(
    client: &Client,
    id: i64,
    url: &str,
    payload: &str,
    signature: Option<String>,
) -> Result<(), String> {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header("idempotency-key", format!("opsdesk-outbox-{id}"));
    if let Some(sig) = signature {
        request = request.header("x-opsdesk-signature", sig);
    }
    let response = request
        .body(payload.to_owned())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {}", response.status()))
    }
}

/// Sends one queued mail through its mailbox's SMTP server.
async fn send_mail(store: &Store, payload: &str) -> Result<(), String> {
    let payload: serde_json::Value =
        serde_json::from_str(payload).map_err(|e| format!("unreadable mail payload: {e}"))?;
    let mail_id = payload["mail_id"]
        .as_i64()
        .ok_or("the mail payload names no mail")?;
    let body = payload["body"].as_str().unwrap_or_default();
    let mail = store.mail(mail_id).await.map_err(|e| e.to_string())?;
    let mailbox_id = mail.mailbox_id.ok_or("the mail has no mailbox")?;
    let mailbox = store.mailbox(mailbox_id).await.map_err(|e| e.to_string())?;
    let message = crate::mail::send::build(&mailbox, &mail, body)?;
    crate::mail::send::send(&mailbox, message).await
}

/// Renders and sends a page, a status update or a subscription confirmation by mail.
async fn send_notice(
    store: &Store,
    item: &opsdesk_store::OutboxItem,
    base: &str,
    secret: &str,
) -> Result<(), String> {
    let mailbox = store
        .sending_mailbox()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no active mailbox with an SMTP server to send through")?;
    let (subject, body) = match item.kind.as_str() {
        "page_email" => crate::paging::render_mail(&item.payload, base, secret)?,
        kind => crate::app::status::render_mail(kind, &item.target, &item.payload, base, secret)?,
    };
    let message = crate::mail::send::notice(&mailbox, &item.target, &subject, &body)?;
    crate::mail::send::send(&mailbox, message).await
}
