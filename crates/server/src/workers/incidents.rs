//! Resolves incidents whose alerts stayed quiet for their integration's quiet period.

use jiff::Timestamp;
use opsdesk_store::{Store, StoreError};

/// Resolves the incidents due at `now`; answers whether more may be due at once.
pub async fn resolve_quiet(store: &Store, now: Timestamp) -> Result<bool, StoreError> {
    match store.next_auto_resolve().await? {
        Some(at) if at <= now => {
            let resolved = store.resolve_quiet_incidents(now).await?;
            for id in &resolved {
                tracing::info!(incident = id, "incident resolved after its quiet period");
            }
            Ok(resolved.len() >= 500)
        }
        _ => Ok(false),
    }
}
