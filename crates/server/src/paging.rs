//! Pages as they leave opsdesk: signed links to acknowledge or resolve from the page itself,
//! and the two delivery formats (a signed JSON webhook and a Slack-compatible incoming webhook).
//!
//! A link carries `sig` = HMAC-SHA256 over `<page id>:<action>` with the installation's paging
//! secret, so it works without signing in and cannot be forged for another page or action.
//! Webhook bodies are signed the same way (`X-Opsdesk-Signature: sha256=<hex>` over the body).

use hmac::{Hmac, Mac};
use opsdesk_store::{Store, StoreError};
use serde_json::{json, Value};
use sha2::Sha256;

/// The name of the installation secret that signs pages.
const SECRET_NAME: &str = "paging";

/// The installation's paging secret (created on first use).
pub async fn secret(store: &Store) -> Result<String, StoreError> {
    store
        .install_secret(SECRET_NAME, &crate::auth::new_secret())
        .await
}

fn mac(secret: &str, data: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut m) => {
            m.update(data);
            hex::encode(m.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// The signature of a page link for `action` (`acknowledge` or `resolve`).
pub fn link_signature(secret: &str, page: i64, action: &str) -> String {
    sign(secret, &format!("{page}:{action}"))
}

/// Whether `sig` is the signature of that page link (compared in constant time).
pub fn link_is_valid(secret: &str, page: i64, action: &str, sig: &str) -> bool {
    verify(secret, &format!("{page}:{action}"), sig)
}

/// The signature of any link opsdesk mails out that works without signing in (page answers,
/// status-page subscriptions): HMAC-SHA256 of `message`, hex.
pub fn sign(secret: &str, message: &str) -> String {
    mac(secret, message.as_bytes())
}

/// Whether `sig` signs `message` (compared in constant time).
pub fn verify(secret: &str, message: &str, sig: &str) -> bool {
    let Ok(raw) = hex::decode(sig.trim()) else {
        return false;
    };
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut m) => {
            m.update(message.as_bytes());
            m.verify_slice(&raw).is_ok()
        }
        Err(_) => false,
    }
}

/// The subject and text of a page sent by mail, with its answer links.
pub fn render_mail(payload: &str, base: &str, secret: &str) -> Result<(String, String), String> {
    let v: Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let page = v["page_id"].as_i64().ok_or("the page has no id")?;
    let incident = v["incident_id"].as_i64().unwrap_or(0);
    let text = v["text"].as_str().unwrap_or("Incident");
    let body = format!(
        "{text}\n\nYou are paged (level {}, round {}).\n\nAcknowledge: {}\nResolve: {}\nWar room: {}/incidents/{incident}\n",
        v["level"], v["round"],
        link(base, secret, page, "acknowledge"),
        link(base, secret, page, "resolve"),
        base.trim_end_matches('/'),
    );
    Ok((format!("Paged: {text}"), body))
}

/// The `X-Opsdesk-Signature` value of a webhook body.
pub fn body_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", mac(secret, body))
}

/// The absolute link that answers a page.
pub fn link(base: &str, secret: &str, page: i64, action: &str) -> String {
    format!(
        "{}/pages/{page}?action={action}&sig={}",
        base.trim_end_matches('/'),
        link_signature(secret, page, action)
    )
}

/// The body delivered for a queued page (`payload` as the store queued it) in `kind`
/// (`page_webhook` or `page_slack`), with its answer links.
pub fn render(kind: &str, payload: &str, base: &str, secret: &str) -> Result<String, String> {
    let mut v: Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let page = v["page_id"].as_i64().ok_or("the page has no id")?;
    let incident = v["incident_id"].as_i64().unwrap_or(0);
    let ack = link(base, secret, page, "acknowledge");
    let resolve = link(base, secret, page, "resolve");
    let view = format!("{}/incidents/{incident}", base.trim_end_matches('/'));
    let body = match kind {
        "page_slack" => json!({
            "text": format!(
                "{} — <{view}|open> · <{ack}|acknowledge> · <{resolve}|resolve>",
                v["text"].as_str().unwrap_or("Incident")
            ),
        }),
        _ => {
            v["acknowledge_url"] = json!(ack);
            v["resolve_url"] = json!(resolve);
            v["incident_url"] = json!(view);
            v
        }
    };
    Ok(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_verify_only_for_their_page_and_action() {
        let sig = link_signature("s3cret", 7, "acknowledge");
        assert!(link_is_valid("s3cret", 7, "acknowledge", &sig));
        assert!(!link_is_valid("s3cret", 8, "acknowledge", &sig));
        assert!(!link_is_valid("s3cret", 7, "resolve", &sig));
        assert!(!link_is_valid("other", 7, "acknowledge", &sig));
        assert!(!link_is_valid("s3cret", 7, "acknowledge", "zz"));
    }

    #[test]
    fn slack_pages_carry_links_in_text() {
        let payload = r#"{"page_id": 3, "incident_id": 9, "text": "[SEV1] Incident #9: db down (triggered)"}"#;
        let body = render("page_slack", payload, "http://desk.test", "k").unwrap_or_default();
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        let text = v["text"].as_str().unwrap_or_default();
        assert!(text.starts_with("[SEV1] Incident #9: db down"));
        assert!(text.contains("http://desk.test/pages/3?action=acknowledge&sig="));
        let body = render("page_webhook", payload, "http://desk.test/", "k").unwrap_or_default();
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(v["incident_url"], "http://desk.test/incidents/9");
    }
}
