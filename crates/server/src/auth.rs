//! Credentials: argon2id password hashes, API tokens and session secrets stored only as
//! SHA-256 hashes, the extractors that turn a request into an [`Actor`], and the sign-in limiter.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use opsdesk_domain::Actor;
use opsdesk_store::User;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, Code};
use crate::AppState;

/// Prefix of API tokens, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "odk_";

/// Hashes a password with argon2id and a random salt into a PHC string.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::new(Code::Internal, format!("cannot hash password: {e}")))
}

/// Checks a password against a stored PHC string.
pub fn verify_password(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh random secret: 32 bytes from the OS, hex-encoded.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// A new API token to show once: `odk_` and 64 hex digits.
pub fn new_api_token() -> String {
    format!("{TOKEN_PREFIX}{}", new_secret())
}

/// The SHA-256 hash under which a token or session secret is stored.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Checks a new password's strength for `field`.
pub fn check_new_password(password: &str) -> Result<(), opsdesk_domain::Invalid> {
    if password.chars().count() < 10 {
        return Err(opsdesk_domain::Invalid::new(
            "password",
            "must be at least 10 characters",
        ));
    }
    if password.len() > 1024 {
        return Err(opsdesk_domain::Invalid::new(
            "password",
            "must be at most 1024 bytes",
        ));
    }
    Ok(())
}

/// The caller of an API route, authenticated by a bearer token.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    /// The user behind the token.
    pub user: User,
    /// The same user as the rules see them.
    pub actor: Actor,
}

impl FromRequestParts<AppState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::new(
                    Code::Unauthenticated,
                    "send an API token as 'Authorization: Bearer …'",
                )
            })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::new(
                    Code::Unauthenticated,
                    "the Authorization header must be 'Bearer <token>'",
                )
            })?;
        let hash = secret_hash(token);
        let user = match state.token_cache.get(&hash) {
            Some(user) => user,
            None => {
                let user = state
                    .store
                    .user_by_token_hash(&hash)
                    .await?
                    .ok_or_else(|| {
                        ApiError::new(Code::Unauthenticated, "the API token is not valid")
                    })?;
                state.token_cache.put(hash, user.clone());
                user
            }
        };
        let actor = user.actor();
        Ok(Self { user, actor })
    }
}

/// Recently verified API tokens (by hash) and their users, kept for [`TOKEN_CACHE_TTL`].
///
/// Integrations send the same token with every request; remembering it for a moment saves a
/// database read per request. The cost: a change to a token's user (or, later, a revocation)
/// takes effect within that time. Only valid tokens are remembered.
#[derive(Debug)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (Instant, User)>>,
    ttl: Duration,
}

impl Default for TokenCache {
    fn default() -> Self {
        Self::new(TOKEN_CACHE_TTL)
    }
}

/// How long a verified token is remembered.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(2);

impl TokenCache {
    /// A cache remembering tokens for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// The user of a token hash verified less than the cache's time ago.
    pub fn get(&self, hash: &str) -> Option<User> {
        let map = match self.entries.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.get(hash)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, user)| user.clone())
    }

    /// Forgets every remembered token, after a revocation in this process.
    pub fn clear(&self) {
        let mut map = match self.entries.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.clear();
    }

    /// Remembers a verified token hash.
    pub fn put(&self, hash: String, user: User) {
        let mut map = match self.entries.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() >= 10_000 {
            let ttl = self.ttl;
            map.retain(|_, (at, _)| at.elapsed() < ttl);
        }
        map.insert(hash, (Instant::now(), user));
    }
}

/// Counts failed sign-ins per address and client, and refuses more after a limit.
#[derive(Debug)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
    max_failures: usize,
    window: Duration,
}

impl LoginLimiter {
    /// A limiter allowing `max_failures` failed attempts per key within `window`.
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            max_failures,
            window,
        }
    }

    /// Whether `key` may try to sign in now.
    pub fn allowed(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut map = match self.failures.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        let window = self.window;
        let entry = map.entry(key.to_owned()).or_default();
        entry.retain(|t| now.duration_since(*t) < window);
        entry.len() < self.max_failures
    }

    /// Records a failed attempt for `key`.
    pub fn failed(&self, key: &str) {
        let mut map = match self.failures.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        if map.len() > 100_000 {
            map.clear();
        }
        map.entry(key.to_owned()).or_default().push(Instant::now());
    }

    /// Forgets the failures of `key` after a successful sign-in.
    pub fn succeeded(&self, key: &str) {
        let mut map = match self.failures.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_with_the_right_secret() {
        let hash = hash_password("correct horse battery").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "wrong horse battery"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_api_token();
        let b = new_api_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(secret_hash(&a).len(), 64);
        assert_ne!(secret_hash(&a), a);
    }

    #[test]
    fn token_cache_forgets_after_its_time() {
        let cache = TokenCache::new(Duration::from_millis(40));
        let user = User {
            id: 1,
            email: "a@b.example".into(),
            name: "A".into(),
            role: opsdesk_domain::Role::Agent,
            tier: None,
            org_id: None,
            team_ids: vec![],
            created_at: jiff::Timestamp::UNIX_EPOCH,
            active: true,
        };
        assert!(cache.get("h").is_none());
        cache.put("h".into(), user.clone());
        assert_eq!(cache.get("h"), Some(user));
        assert!(cache.get("other").is_none());
        std::thread::sleep(Duration::from_millis(80));
        assert!(
            cache.get("h").is_none(),
            "an expired token must be checked again"
        );
    }

    #[test]
    fn limiter_blocks_after_failures_and_resets_on_success() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(limiter.allowed("ana@example.com"));
            limiter.failed("ana@example.com");
        }
        assert!(!limiter.allowed("ana@example.com"));
        assert!(limiter.allowed("bob@example.com"));
        limiter.succeeded("ana@example.com");
        assert!(limiter.allowed("ana@example.com"));
    }
}
