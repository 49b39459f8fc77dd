//! The mail fetcher: polls each active IMAP mailbox when it is due (every [`POLL_EVERY`], or
//! at once after "fetch now"), each in its own task so a slow server holds up nothing else.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use opsdesk_store::Store;
use tokio::task::JoinHandle;

use crate::mail::fetch;

/// How often a mailbox is polled.
pub const POLL_EVERY: SignedDuration = SignedDuration::from_secs(30);

/// The polls in flight, by mailbox.
#[derive(Default)]
pub(super) struct Fetchers {
    running: HashMap<i64, JoinHandle<()>>,
}

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
        for mailbox in mailboxes {
            let due = mailbox
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
                    let recorded = if more {
                        store.poll_soon(mailbox.id).await
                    } else {
                        store.record_poll(mailbox.id, error, now).await
                    };
                    if let Err(e) = recorded {
                        tracing::warn!(error = %e, "cannot record a mail poll");
                    }
                }),
            );
        }
    }
}
