//! Background work that runs beside the HTTP server: the SLA scheduler (breaches, escalation
//! levels, recomputation after policy edits), paging (escalation policies' levels as they come
//! due), incidents' quiet-period resolution, the mail notifier and fetcher, and outbox delivery.
//!
//! Both are singleton work: on PostgreSQL one process holds the lease (an advisory lock) and
//! does it; the others wait to take over. Nothing here is driven by requests.

pub mod checks;
mod egress;
mod incidents;
pub mod mail;
mod outbox;
pub mod search;
mod sla;
pub mod summary;

use std::time::Duration;

use jiff::Timestamp;
use opsdesk_store::{Lease, Store};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Key of the lease that elects the process running the scheduler and deliveries.
const SCHEDULER_LEASE: i64 = 0x6f70_7364_736c;

/// The longest the scheduler sleeps: it also notices work other processes queued.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// The running background workers; stop them with [`Workers::stop`].
#[derive(Debug)]
pub struct Workers {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Workers {
    /// Starts the workers on `store`; page links point at `public_url`; webhooks may reach
    /// internal addresses only with `allow_private`.
    pub fn start(store: Store, public_url: String, allow_private: bool) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(store, public_url, allow_private, stopped));
        Self { stop, task }
    }

    /// Stops the workers and waits for the current step to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

async fn run(
    store: Store,
    public_url: String,
    allow_private: bool,
    mut stopped: watch::Receiver<bool>,
) {
    let mut client = outbox::Deliverer {
        http: outbox::client(allow_private),
        public_url,
        secret: String::new(),
        allow_private,
    };
    let mut fetchers = mail::Fetchers::default();
    let mut lease: Option<Lease> = None;
    let mut facts_complete = false;
    loop {
        if *stopped.borrow() {
            break;
        }
        let alive = match lease.as_mut() {
            Some(held) => held.alive().await,
            None => false,
        };
        if !alive {
            lease = match store.try_lease(SCHEDULER_LEASE).await {
                Ok(taken) => taken,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot take the scheduler lease");
                    None
                }
            };
        }
        let mut wait = MAX_SLEEP;
        if lease.is_some() {
            if client.secret.is_empty() {
                match crate::paging::secret(&store).await {
                    Ok(secret) => client.secret = secret,
                    Err(e) => tracing::warn!(error = %e, "cannot read the paging secret"),
                }
            }
            fetchers.start_due(&store, Timestamp::now()).await;
            let busy = step(&store, &client, &mut facts_complete).await;
            if busy {
                wait = Duration::ZERO;
            } else {
                let now = Timestamp::now();
                for next in [
                    store.next_sla_trigger().await,
                    store.next_page_due().await,
                    store.next_check_due().await,
                ]
                .into_iter()
                .flatten()
                .flatten()
                {
                    let until = next.duration_since(now);
                    wait = wait.min(Duration::try_from(until).unwrap_or(Duration::ZERO));
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = store.work_ready() => {}
            _ = stopped.changed() => {}
        }
    }
}

/// One round of every worker; `true` when there is more to do right away.
async fn step(store: &Store, client: &outbox::Deliverer, facts_complete: &mut bool) -> bool {
    let now = Timestamp::now();
    let mut busy = false;
    if !*facts_complete {
        // Tickets from before reports get their report facts, 500 per transaction.
        match store.backfill_report_facts(now, 500).await {
            Ok(0) => *facts_complete = true,
            Ok(n) => {
                tracing::info!(tickets = n, "report facts filled in");
                busy = true;
            }
            Err(e) => tracing::error!(error = %e, "report facts backfill failed"),
        }
    }
    match store.page_due(now).await {
        Ok(sent) if sent > 0 => tracing::info!(pages = sent, "paged"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "paging step failed"),
    }
    match sla::fire_due(store, now).await {
        Ok(more) => busy |= more,
        Err(e) => tracing::error!(error = %e, "SLA scheduler step failed"),
    }
    match sla::recompute_step(store, now).await {
        Ok(more) => busy |= more,
        Err(e) => tracing::error!(error = %e, "SLA recomputation step failed"),
    }
    match store.remind_overdue(now).await {
        Ok(n) if n > 0 => tracing::info!(reminders = n, "overdue action items reminded"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "action item reminders failed"),
    }
    match checks::step(store, now).await {
        Ok(n) if n > 0 => tracing::info!(opened = n, "scheduled checks opened"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e.detail, "scheduled checks step failed"),
    }
    match incidents::resolve_quiet(store, now).await {
        Ok(more) => busy |= more,
        Err(e) => tracing::error!(error = %e, "incident auto-resolution step failed"),
    }
    match summary::step(store, &client.public_url, now).await {
        Ok(n) if n > 0 => tracing::info!(mails = n, "weekly summary queued"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e.detail, "weekly summary step failed"),
    }
    match crate::mail::notify::step(store, &client.public_url, now).await {
        Ok(more) => busy |= more,
        Err(e) => tracing::error!(error = %e, "mail notifier step failed"),
    }
    match outbox::deliver_due(store, client, now).await {
        Ok(more) => busy |= more,
        Err(e) => tracing::error!(error = %e, "outbox delivery step failed"),
    }
    busy
}
