//! The search index's status and rebuild, as the application layer offers them: the indexer
//! (`workers::search`) writes the status, staff read it, administrators ask for a rebuild.

use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use opsdesk_domain::Action;
use opsdesk_search::SearchIndex;
use opsdesk_store::Store;
use tokio::sync::Notify;

use super::Ctx;
use crate::error::ApiError;
use crate::wire::desk::rfc3339;
use crate::wire::knowledge::SearchStatusOut;

/// What the index is doing, for the admin page and `GET /api/v1/search/status`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexStatus {
    /// A rebuild is running.
    pub rebuilding: bool,
    /// Documents written by the running (or last) rebuild.
    pub rebuilt: usize,
    /// Documents the running rebuild will write.
    pub rebuild_total: usize,
    /// When the last rebuild finished.
    pub rebuilt_at: Option<Timestamp>,
    /// The event-log position the index has reached.
    pub cursor: i64,
    /// The last failure, if the indexer is failing.
    pub error: Option<String>,
}

/// The handle of a process's indexer: its status, and a way to ask for a rebuild.
#[derive(Debug, Clone, Default)]
pub struct SearchState {
    status: Arc<Mutex<IndexStatus>>,
    rebuild: Arc<Notify>,
}

impl SearchState {
    /// What the indexer is doing now.
    pub fn status(&self) -> IndexStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// The index status as the API and the admin page show it.
    async fn report(
        &self,
        store: &Store,
        search: &SearchIndex,
    ) -> Result<SearchStatusOut, ApiError> {
        let status = self.status();
        Ok(SearchStatusOut {
            documents: search.documents(),
            cursor: status.cursor,
            latest: store.last_event_seq().await?,
            rebuilding: status.rebuilding,
            rebuilt: status.rebuilt,
            rebuild_total: status.rebuild_total,
            rebuilt_at: status.rebuilt_at.map(rfc3339),
            error: status.error,
        })
    }

    /// Waits until someone asks for a rebuild (the indexer's side).
    pub(crate) async fn rebuild_requested(&self) {
        self.rebuild.notified().await;
    }

    /// Changes the status (the indexer's side).
    pub(crate) fn update(&self, change: impl FnOnce(&mut IndexStatus)) {
        if let Ok(mut status) = self.status.lock() {
            change(&mut status);
        }
    }
}

/// What this process's index holds and is doing (staff).
pub async fn status(
    ctx: &Ctx<'_>,
    indexer: &SearchState,
    search: &SearchIndex,
) -> Result<SearchStatusOut, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    indexer.report(ctx.store, search).await
}

/// Asks this process's indexer to rebuild the index from the tables (administrators);
/// searches see the old index until the new one is complete.
pub async fn rebuild(
    ctx: &Ctx<'_>,
    indexer: &SearchState,
    search: &SearchIndex,
) -> Result<SearchStatusOut, ApiError> {
    ctx.authorize(Action::Administer)?;
    indexer.rebuild.notify_one();
    indexer.report(ctx.store, search).await
}
