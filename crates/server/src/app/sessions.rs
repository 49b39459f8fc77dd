//! Signing in to the UI: checking a password, opening a session, finding it again on each
//! request, and closing it. The cookies stay at the edge; the secrets are stored hashed.

use std::sync::OnceLock;

use jiff::{SignedDuration, Timestamp};
use opsdesk_store::{Store, User};

use crate::auth;
use crate::error::ApiError;

/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;

/// A hash to verify against when the address is unknown, so timing does not reveal accounts.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        auth::hash_password("decoy password that never matches").unwrap_or_default()
    })
}

/// Checks `password` for the account at `email` (lower-cased) and opens a session for it:
/// its secret, or `None` when the address or the password is wrong (which one is not told).
pub async fn sign_in(
    store: &Store,
    email: &str,
    password: &str,
    now: Timestamp,
) -> Result<Option<String>, ApiError> {
    let stored = store.password_hash(email).await?;
    let password = password.to_owned();
    let (user_id, hash) = stored.unwrap_or((0, decoy_hash().to_owned()));
    let valid = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    if !valid || user_id == 0 {
        return Ok(None);
    }
    let secret = auth::new_secret();
    let expires = now
        .checked_add(SignedDuration::from_hours(SESSION_HOURS))
        .unwrap_or(now);
    store
        .create_session(
            &auth::secret_hash(&secret),
            user_id,
            &auth::new_secret(),
            now,
            expires,
        )
        .await?;
    Ok(Some(secret))
}

/// The user and CSRF token of the live session with this secret, if there is one.
pub async fn resume(
    store: &Store,
    secret: &str,
    now: Timestamp,
) -> Result<Option<(User, String)>, ApiError> {
    Ok(store.session(&auth::secret_hash(secret), now).await?)
}

/// Ends the session with this secret.
pub async fn sign_out(store: &Store, secret: &str) -> Result<(), ApiError> {
    Ok(store.delete_session(&auth::secret_hash(secret)).await?)
}
