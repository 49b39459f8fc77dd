//! Remembered answers to POST requests sent with an `Idempotency-Key`.
//!
//! The edge claims a key before running a request and records the answer after; a retry with
//! the same key gets the recorded answer. Ticket creation records its key inside its own
//! transaction instead (see `create_ticket`), which also survives a crash between commit and
//! answer.

use jiff::Timestamp;
use sqlx::Row;

use crate::{Store, StoreError};

/// What a claim on an idempotency key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new and now claimed: run the request, then `complete` or `release` it.
    Claimed,
    /// A request with this key already finished: its fingerprint, status and body.
    Done {
        /// The fingerprint of the request that used the key.
        fingerprint: String,
        /// Its HTTP status.
        status: u16,
        /// Its response body.
        body: String,
    },
    /// A request with this key is still running.
    InProgress,
}

impl Store {
    /// Claims `key` within `scope` (one caller's keys) for a request with `fingerprint`.
    pub async fn claim_idempotency(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
    ) -> Result<Claim, StoreError> {
        let claimed = sqlx::query(
            "INSERT INTO idempotent_requests (scope, key, fingerprint, status, body, created_at) \
             VALUES ($1, $2, $3, 0, '', $4) ON CONFLICT (scope, key) DO NOTHING",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(now.as_microsecond())
        .execute(&self.write)
        .await?
        .rows_affected();
        if claimed == 1 {
            return Ok(Claim::Claimed);
        }
        let row = sqlx::query("SELECT fingerprint, status, body FROM idempotent_requests WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .fetch_optional(&self.write)
            .await?;
        let Some(row) = row else {
            // Released between our insert and read: the caller may simply retry.
            return Ok(Claim::InProgress);
        };
        let status: i64 = row.try_get(1)?;
        if status == 0 {
            return Ok(Claim::InProgress);
        }
        Ok(Claim::Done {
            fingerprint: row.try_get(0)?,
            status: u16::try_from(status).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            body: row.try_get(2)?,
        })
    }

    /// Records the answer of a claimed request.
    pub async fn complete_idempotency(
        &self,
        scope: &str,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE idempotent_requests SET status = $1, body = $2 WHERE scope = $3 AND key = $4",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(scope)
        .bind(key)
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// Gives a claimed key back after a request that changed nothing (it failed).
    pub async fn release_idempotency(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotent_requests WHERE scope = $1 AND key = $2 AND status = 0")
            .bind(scope)
            .bind(key)
            .execute(&self.write)
            .await?;
        Ok(())
    }
}
