//! The mail fetcher: polls each active IMAP mailbox when it is due (every [`POLL_EVERY`], at
//! once after "fetch now", or when its IDLE watcher hears of new mail), each in its own task
//! so a slow server holds up nothing else.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use opsdesk_store::Store;
use tokio::task::JoinHandle;

use crate::mail::fetch;

/// How often a mailbox is polled.
pub const POLL_EVERY: SignedDuration = SignedDuration::from_secs(30);

/// The polls in flight and the IDLE watchers, by mailbox.
#[derive(Default)]
pub(super) struct Fetchers {
    running: HashMap<i64, JoinHandle<()>>,
    /// Each watcher with the settings it was started for (a change restarts it).
    watchers: HashMap<i64, (String, JoinHandle<()>)>,
}

impl Drop for Fetchers {
    fn drop(&mut self) {
        for (_, task) in self.watchers.values() {
            task.abort();
        }
    }
}

/// How long a watcher waits after a failed connection before trying again.
const WATCH_RETRY: std::time::Duration = std::time::Duration::from_secs(60);

impl Fetchers {
    /// Starts a poll of every mailbox that is due and not being polled.
    pub(super) async fn start_due(&mut self, store: &Store, now: Timestamp) {
        self.running.retain(|_, task| !task.is_finished());
        let mailboxes = match store.mailboxes().await {
            Ok(all) => all,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list mailboxes");
                return;
            }
        };
        self.keep_watching(store, &mailboxes);
        for mailbox in mailboxes {
            let due = mailbox.poll_requested
                || mailbox
                    .last_polled_at
                    .is_none_or(|at| at + POLL_EVERY <= now);
            if !mailbox.settings.active
                || mailbox.settings.imap.is_none()
                || !due
                || self.running.contains_key(&mailbox.id)
            {
                continue;
            }
            let store = store.clone();
            let id = mailbox.id;
            self.running.insert(
                id,
                tokio::spawn(async move {
                    if let Err(e) = store.start_poll(mailbox.id).await {
                        tracing::warn!(error = %e, "cannot start a mail poll");
                        return;
                    }
                    let outcome = fetch::poll(&store, &mailbox).await;
                    let error = match &outcome {
                        Ok(polled) => {
                            if polled.taken > 0 {
                                tracing::info!(mailbox = %mailbox.settings.name, taken = polled.taken, "mail fetched");
                            }
                            None
                        }
                        Err(e) => {
                            tracing::warn!(mailbox = %mailbox.settings.name, error = %e, "mail fetch failed");
                            Some(e.as_str())
                        }
                    };
                    let more = outcome.as_ref().is_ok_and(|p| p.more);
                    let mut recorded = store.record_poll(mailbox.id, error, now).await;
                    if more && recorded.is_ok() {
                        recorded = store.poll_soon(mailbox.id).await;
                    }
                    if let Err(e) = recorded {
                        tracing::warn!(error = %e, "cannot record a mail poll");
                    }
                }),
            );
        }
    }

    /// Runs one IDLE watcher per active IMAP mailbox, restarted when its settings change.
    fn keep_watching(&mut self, store: &Store, mailboxes: &[opsdesk_store::Mailbox]) {
        let wanted: HashMap<i64, String> = mailboxes
            .iter()
            .filter(|m| m.settings.active && m.settings.imap.is_some())
            .map(|m| {
                (
                    m.id,
                    format!("{:?}/{}", m.settings.imap, m.settings.imap_folder),
                )
            })
            .collect();
        self.watchers.retain(|id, (settings, task)| {
            let keep = wanted.get(id) == Some(settings) && !task.is_finished();
            if !keep {
                task.abort();
            }
            keep
        });
        for mailbox in mailboxes {
            let Some(settings) = wanted.get(&mailbox.id) else {
                continue;
            };
            if self.watchers.contains_key(&mailbox.id) {
                continue;
            }
            let id = mailbox.id;
            let (store, mailbox) = (store.clone(), mailbox.clone());
            let task = tokio::spawn(async move {
                loop {
                    match fetch::watch(&store, &mailbox).await {
                        fetch::Unwatched::NoIdle => return,
                        fetch::Unwatched::Failed(e) => {
                            tracing::debug!(mailbox = %mailbox.settings.name, error = %e, "IMAP IDLE ended");
                        }
                    }
                    tokio::time::sleep(WATCH_RETRY).await;
                }
            });
            self.watchers.insert(id, (settings.clone(), task));
        }
    }
}
