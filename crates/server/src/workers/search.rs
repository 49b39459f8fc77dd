//! The search indexer: every process keeps its own index current by tailing the event log
//! (so several nodes on PostgreSQL each keep theirs), and rebuilds it from the tables when it
//! is new, was written by another version, or an administrator asks.
//!
//! New content is searchable within a second: the log is read every 200 ms and each run of
//! changes is one index commit, whose payload is the log position it reached.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use opsdesk_domain::knowledge::Visibility;
use opsdesk_search::{Audience, Change, Doc, Kind, SearchIndex};
use opsdesk_store::{Owner, SearchRow, Searchable, Store, StoreError};

use crate::app::search::SearchState;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the log is read when nothing was waiting.
const IDLE: Duration = Duration::from_millis(200);
/// Events read per step.
const EVENTS_PER_STEP: i64 = 2_000;
/// Rows read per query during a rebuild.
const REBUILD_PAGE: i64 = 1_000;

/// The running indexer; stop it with [`Indexer::stop`].
#[derive(Debug)]
pub struct Indexer {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Indexer {
    /// Starts keeping `index` current from `store`'s event log.
    pub fn start(store: Store, index: Arc<SearchIndex>, state: SearchState) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(store, index, state, stopped));
        Self { stop, task }
    }

    /// Stops the indexer after its current step.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    store: Store,
    index: Arc<SearchIndex>,
    state: SearchState,
    mut stopped: watch::Receiver<bool>,
) {
    let mut cursor = match index.cursor() {
        Ok(cursor) => cursor,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the search index");
            None
        }
    };
    loop {
        if *stopped.borrow() {
            break;
        }
        let position = match cursor {
            Some(position) => position,
            None => {
                tracing::info!("building the search index");
                let progress = state.clone();
                state.update(|s| {
                    s.rebuilding = true;
                    s.rebuilt = 0;
                });
                let built = rebuild(&store, &index, move |done, total| {
                    progress.update(|s| {
                        s.rebuilt = done;
                        s.rebuild_total = total;
                    });
                })
                .await;
                state.update(|s| s.rebuilding = false);
                match built {
                    Ok((count, position)) => {
                        tracing::info!(documents = count, "search index built");
                        state.update(|s| {
                            s.rebuilt_at = Some(Timestamp::now());
                            s.cursor = position;
                            s.error = None;
                        });
                        cursor = Some(position);
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "search index build failed");
                        state.update(|s| s.error = Some(e.to_string()));
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_secs(5)) => {}
                            changed = stopped.changed() => if changed.is_err() { break },
                        }
                    }
                }
                continue;
            }
        };
        let wait = match step(&store, &index, position).await {
            Ok((reached, busy)) => {
                cursor = Some(reached);
                state.update(|s| {
                    s.cursor = reached;
                    s.error = None;
                });
                if busy {
                    Duration::ZERO
                } else {
                    IDLE
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "search indexing step failed");
                state.update(|s| s.error = Some(e.to_string()));
                Duration::from_secs(2)
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = state.rebuild_requested() => cursor = None,
            changed = stopped.changed() => if changed.is_err() { break },
        }
    }
}

/// Why indexing failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexingError {
    /// Reading the database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the index failed.
    #[error(transparent)]
    Search(#[from] opsdesk_search::SearchError),
    /// The indexing thread ended unexpectedly.
    #[error("indexing thread: {0}")]
    Thread(String),
}

/// Applies the events after `cursor`: every ticket, article, incident or problem they touch
/// is read again and replaces its document. Answers the position reached and whether more
/// events are waiting. Without changes to write, the index is not committed (the cursor moves
/// in memory; after a restart those events are read again, which changes nothing).
async fn step(
    store: &Store,
    index: &Arc<SearchIndex>,
    cursor: i64,
) -> Result<(i64, bool), IndexingError> {
    let events = store.subjects_after(cursor, EVENTS_PER_STEP).await?;
    let Some(last) = events.last().map(|(seq, _, _)| *seq) else {
        return Ok((cursor, false));
    };
    let mut touched: BTreeSet<(Searchable, i64)> = BTreeSet::new();
    for (_, subject_kind, subject_id) in &events {
        if let Some(kind) = Searchable::of_subject(subject_kind) {
            touched.insert((kind, *subject_id));
        }
        // A category's name is part of its articles' documents.
        if subject_kind == "kb_category" {
            for id in store.article_ids_in_category(*subject_id).await? {
                touched.insert((Searchable::Article, id));
            }
        }
    }
    let busy = events.len() as i64 == EVENTS_PER_STEP;
    if touched.is_empty() {
        return Ok((last, busy));
    }
    let mut changes = Vec::new();
    for kind in Searchable::ALL {
        let ids: Vec<i64> = touched
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect();
        changes.extend(changes_of(store, kind, &ids).await?);
    }
    let index = Arc::clone(index);
    tokio::task::spawn_blocking(move || index.apply(&changes, last))
        .await
        .map_err(|e| IndexingError::Thread(e.to_string()))??;
    Ok((last, busy))
}

/// The index changes for these things as they are now: a document for each that exists and
/// is searchable, a removal for the rest.
async fn changes_of(
    store: &Store,
    kind: Searchable,
    ids: &[i64],
) -> Result<Vec<Change>, StoreError> {
    let rows = store.search_rows(kind, ids).await?;
    let mut found: std::collections::HashMap<i64, Doc> =
        rows.into_iter().map(|r| (r.id, doc(r))).collect();
    Ok(ids
        .iter()
        .map(|id| match found.remove(id) {
            Some(doc) => Change::Put(doc),
            None => Change::Remove(kind_of(kind), *id),
        })
        .collect())
}

/// The index's kind of a searchable thing.
fn kind_of(kind: Searchable) -> Kind {
    match kind {
        Searchable::Ticket => Kind::Ticket,
        Searchable::Article => Kind::Article,
        Searchable::Incident => Kind::Incident,
        Searchable::Problem => Kind::Problem,
    }
}

/// Who may find a row: a ticket its organisation (or requester) and staff; a published article
/// its visibility's readers; a draft staff only (of its tier, when it has one); the desk's own
/// records staff only.
fn audience(owner: Owner) -> Audience {
    match owner {
        Owner::Organisation(org) => Audience::Organisation(org),
        Owner::Requester(user) => Audience::Requester(user),
        Owner::Article {
            visibility: Visibility::Tier(tier),
            ..
        } => Audience::Tier(tier.level()),
        Owner::Article {
            visibility: Visibility::Public,
            published: true,
        } => Audience::Public,
        Owner::Article { .. } | Owner::Desk => Audience::Staff,
    }
}

/// The index document of a row.
fn doc(row: SearchRow) -> Doc {
    Doc {
        kind: kind_of(row.kind),
        id: row.id,
        title: row.title,
        text: row.text,
        internal: row.internal,
        tags: row.tags,
        status: row.status,
        team: row.team,
        org: row.org,
        audience: audience(row.owner),
        created: row.created,
        updated: row.updated,
    }
}

/// Rebuilds `index` from the tables: reads every ticket, article, incident and problem in
/// pages while another thread indexes them, then commits with the log position taken before
/// the first read (events during the rebuild are applied again afterwards). `progress` hears
/// (documents done, documents in all). Answers the count and that position.
pub async fn rebuild(
    store: &Store,
    index: &Arc<SearchIndex>,
    progress: impl FnMut(usize, usize) + Send + 'static,
) -> Result<(usize, i64), IndexingError> {
    let position = store.last_event_seq().await?;
    let mut total = 0usize;
    for kind in Searchable::ALL {
        total += usize::try_from(store.search_row_count(kind).await?).unwrap_or(0);
    }
    // Two pages in flight: the database read of the next overlaps the indexing of this one.
    let (send, mut receive) = tokio::sync::mpsc::channel::<Result<Vec<Doc>, StoreError>>(2);
    let writer = {
        let index = Arc::clone(index);
        let mut progress = progress;
        tokio::task::spawn_blocking(move || {
            let pages = std::iter::from_fn(|| receive.blocking_recv());
            index.rebuild(position, pages, |done| progress(done, total))
        })
    };
    for kind in Searchable::ALL {
        let mut after = 0;
        loop {
            let page = store
                .search_rows_after(kind, after, REBUILD_PAGE)
                .await
                .map(|rows| rows.into_iter().map(doc).collect::<Vec<_>>());
            let (last, full) = match &page {
                Ok(docs) => (docs.last().map(|d| d.id), docs.len() as i64 == REBUILD_PAGE),
                Err(_) => (None, false),
            };
            let failed = page.is_err();
            if send.send(page).await.is_err() || failed {
                break;
            }
            match last {
                Some(id) if full => after = id,
                _ => break,
            }
        }
    }
    drop(send);
    let count = writer
        .await
        .map_err(|e| IndexingError::Thread(e.to_string()))???;
    Ok((count, position))
}
