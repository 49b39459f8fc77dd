//! The SLA scheduler: fires due breaches and escalation levels, and runs queued recomputations.
//!
//! It does no work per open ticket: it asks the database (one index lookup) for the earliest
//! pending trigger and sleeps until then.

use jiff::Timestamp;
use opsdesk_store::{Store, StoreError};

/// Tickets handled per round.
const TICKETS_PER_ROUND: i64 = 200;
/// Open tickets recomputed per transaction of a background recomputation.
const RECOMPUTE_BATCH: i64 = 500;

/// Fires every trigger due at `now`; `true` when a full round was taken (more may be due).
pub(super) async fn fire_due(store: &Store, now: Timestamp) -> Result<bool, StoreError> {
    let due = store
        .tickets_with_due_triggers(now, TICKETS_PER_ROUND)
        .await?;
    for ticket in &due {
        match store.fire_sla_triggers(*ticket, now).await {
            Ok(fired) if fired > 0 => tracing::info!(ticket, fired, "SLA triggers fired"),
            Ok(_) => {}
            Err(e) => tracing::error!(ticket, error = %e, "SLA triggers of a ticket failed"),
        }
    }
    Ok(due.len() as i64 == TICKETS_PER_ROUND)
}

/// Runs one batch of the newest queued recomputation; `true` while it is unfinished.
pub(super) async fn recompute_step(store: &Store, now: Timestamp) -> Result<bool, StoreError> {
    Ok(store
        .run_sla_job_step(now, RECOMPUTE_BATCH)
        .await?
        .is_some_and(|job| job.finished_at.is_none()))
}
