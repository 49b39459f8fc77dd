//! Group commit for ticket creation: concurrent creates share one transaction.
//!
//! Each statement sent to the database costs a hand-off between threads (for SQLite, to sqlx's
//! per-connection worker thread), and that hand-off, not SQLite itself, was the measured cost of
//! creating a ticket. So one writer task takes every create waiting at the moment, inserts
//! their tickets, first messages, tags and events with one multi-row statement each, and
//! commits once. Every request still gets its answer only after the commit that holds its row.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};
use std::sync::mpsc;
use tokio::sync::oneshot;

use crate::events::Write;
use crate::new_tickets::{batch_now, insert_tickets, prepare, CreateRequest, Prepared};
use crate::sla_config::SlaCache;
use crate::sqlite_writer::{Outcome, SqliteWriter};
use crate::{Backend, StoreError, Ticket};

/// Most creates committed together.
const MAX_BATCH: usize = 64;

struct Job {
    request: CreateRequest,
    reply: oneshot::Sender<Result<Ticket, StoreError>>,
}

/// The handle to the ticket writer thread.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    jobs: mpsc::Sender<Job>,
    costs: Arc<Costs>,
}

/// What ticket creation has cost on SQLite's writer thread since the store opened: the
/// write-path budget (ARCHITECTURE.md) is tested against it.
#[derive(Debug, Default)]
struct Costs {
    batches: AtomicU64,
    tickets: AtomicU64,
    statements: AtomicU64,
}

/// Group commits, tickets created in them, and the statements they ran (reads and writes, the
/// commits aside): on SQLite's ticket writer each statement, on PostgreSQL each round trip
/// (SQLite without a file, on the sqlx path, is not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateCosts {
    /// Group commits.
    pub batches: u64,
    /// Tickets created in them.
    pub tickets: u64,
    /// Statements they ran.
    pub statements: u64,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("ticket", &self.request.new.subject)
            .finish()
    }
}

impl Batcher {
    /// Starts the ticket writer thread on `pool`; on SQLite with `sqlite`, batches run on that
    /// connection.
    pub(crate) fn start(
        pool: AnyPool,
        backend: Backend,
        sla: Arc<SlaCache>,
        sqlite: Option<SqliteWriter>,
    ) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel();
        let costs = Arc::new(Costs::default());
        let writer = Writer {
            pool,
            backend,
            sla,
            sqlite,
            costs: costs.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        std::thread::Builder::new()
            .name("opsdesk-ticket-writer".into())
            .spawn(move || writer.serve(queue))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the ticket writer: {e}")))?;
        Ok(Self { jobs, costs })
    }

    /// What creation has cost so far.
    pub(crate) fn costs(&self) -> CreateCosts {
        CreateCosts {
            batches: self.costs.batches.load(Ordering::Relaxed),
            tickets: self.costs.tickets.load(Ordering::Relaxed),
            statements: self.costs.statements.load(Ordering::Relaxed),
        }
    }

    /// Creates one ticket in the next batch; returns once that batch is committed.
    pub(crate) async fn create(&self, request: CreateRequest) -> Result<Ticket, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Job { request, reply })
            .map_err(|_| StoreError::Unavailable("the ticket writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the ticket writer has stopped".into()))?
    }
}

/// The ticket writer: a thread of its own that takes every create waiting, writes them as one
/// batch and answers each request, then looks again at once. Batches run on SQLite's writer
/// connection, or (PostgreSQL, SQLite without a file) through the pool on the runtime.
///
/// A thread, not a task: a task would wait for a busy runtime worker between the commit of one
/// batch and the start of the next, and that wait, not the writing, was where the writer spent
/// half its time (BENCHMARKS.md).
struct Writer {
    pool: AnyPool,
    backend: Backend,
    sla: Arc<SlaCache>,
    sqlite: Option<SqliteWriter>,
    costs: Arc<Costs>,
    runtime: tokio::runtime::Handle,
}

/// The longest the SQLite writer keeps the write turn while batches keep coming.
const TURN: Duration = Duration::from_millis(10);

/// The process's write turn on SQLite (the write pool's one connection), held by the ticket
/// writer since `since`.
struct Turn {
    _connection: PoolConnection<Any>,
    since: Instant,
}

impl Writer {
    /// Writes batches until every handle to the writer is gone.
    fn serve(mut self, queue: mpsc::Receiver<Job>) {
        // Giving the write turn back returns a pooled connection, which needs the runtime.
        let runtime = self.runtime.clone();
        let _context = runtime.enter();
        let mut turn: Option<Turn> = None;
        let mut waiting: Option<Job> = None;
        loop {
            let first = match waiting.take() {
                Some(job) => job,
                None => match queue.recv() {
                    Ok(job) => job,
                    Err(_) => return,
                },
            };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            let requests: Vec<CreateRequest> = jobs.iter().map(|j| j.request.clone()).collect();
            let outcome = self.commit(requests, &mut turn);
            let failed = outcome.is_err();
            match outcome {
                Ok(answers) => {
                    for (job, answer) in jobs.into_iter().zip(answers) {
                        let _ = job.reply.send(answer);
                    }
                }
                Err(err) if jobs.len() > 1 => {
                    // One bad request must not sink the others: each is tried again on its own.
                    tracing::warn!(error = %err, batch = jobs.len(), "ticket batch failed; retrying its requests one by one");
                    turn = None;
                    for job in jobs {
                        let answer = match self.commit(vec![job.request.clone()], &mut turn) {
                            Ok(mut answers) => answers.pop().unwrap_or_else(|| {
                                Err(StoreError::Corrupt("the ticket was not returned".into()))
                            }),
                            Err(err) => Err(refusal(&err)),
                        };
                        let _ = job.reply.send(answer);
                    }
                }
                Err(err) => {
                    for job in jobs {
                        let _ = job.reply.send(Err(refusal(&err)));
                    }
                }
            }
            // Give the write turn back when nothing waits, or when other writers have waited
            // long enough; keeping it between back-to-back batches saves a release and an
            // acquire each.
            waiting = queue.try_recv().ok();
            if failed
                || waiting.is_none()
                || turn.as_ref().is_some_and(|t| t.since.elapsed() > TURN)
            {
                turn = None;
            }
        }
    }

    /// Adds a committed batch to the costs.
    fn count(&self, answers: &[Result<Ticket, StoreError>], statements: usize) {
        self.costs.batches.fetch_add(1, Ordering::Relaxed);
        let created = answers.iter().filter(|a| a.is_ok()).count() as u64;
        self.costs.tickets.fetch_add(created, Ordering::Relaxed);
        self.costs
            .statements
            .fetch_add(statements as u64, Ordering::Relaxed);
    }

    /// Commits one batch; answers each request's ticket or its own refusal, in order.
    fn commit(
        &mut self,
        requests: Vec<CreateRequest>,
        turn: &mut Option<Turn>,
    ) -> Result<Vec<Result<Ticket, StoreError>>, StoreError> {
        let runtime = self.runtime.clone();
        let Some(sqlite) = self.sqlite.as_mut() else {
            // Through the pool the batch runs as a task: the runtime worker that hears the
            // database's answer sends the next statement at once, instead of waking this
            // thread for every round trip.
            let (pool, backend, sla) = (self.pool.clone(), self.backend, self.sla.clone());
            let task =
                runtime.spawn(async move { commit_on_pool(&pool, backend, &sla, &requests).await });
            let (answers, round_trips) = runtime
                .block_on(task)
                .map_err(|e| StoreError::Unavailable(format!("the ticket batch stopped: {e}")))??;
            if let Some(round_trips) = round_trips {
                self.count(&answers, round_trips);
            }
            return Ok(answers);
        };
        // Holding the write pool's one connection keeps every other writer of the process
        // out until this batch is committed.
        if turn.is_none() {
            *turn = Some(Turn {
                _connection: runtime.block_on(self.pool.acquire())?,
                since: Instant::now(),
            });
        }
        let mut config = self.sla.held();
        for _ in 0..3 {
            match sqlite.write(&requests, &config)? {
                Outcome::Done(answers, statements) => {
                    self.count(&answers, statements);
                    return Ok(answers);
                }
                Outcome::Stale(version) => config = runtime.block_on(self.sla.at(version))?,
            }
        }
        Err(StoreError::Unavailable(
            "the SLA configuration kept changing during the create".into(),
        ))
    }
}

/// Commits one batch through the pool: PostgreSQL's writer (which answers its round trips), or
/// the general path (SQLite without a file, not counted).
async fn commit_on_pool(
    pool: &AnyPool,
    backend: Backend,
    sla: &SlaCache,
    requests: &[CreateRequest],
) -> Result<(Vec<Result<Ticket, StoreError>>, Option<usize>), StoreError> {
    if backend == Backend::Postgres {
        let (answers, round_trips) = crate::postgres_writer::write(pool, sla, requests).await?;
        return Ok((answers, Some(round_trips)));
    }
    let mut w = Write::begin(pool, backend, None, batch_now(requests)).await?;
    let prepared = prepare(&mut w, requests).await?;
    let ready: Vec<Prepared> = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .cloned()
        .collect();
    let mut tickets = insert_tickets(&mut w, &ready, sla).await?.into_iter();
    w.commit().await?;
    // Requests whose references did not resolve get their own refusal; the rest their ticket.
    let answers = prepared
        .into_iter()
        .map(|p| match p {
            Ok(_) => tickets.next().ok_or_else(|| {
                StoreError::Corrupt("a ticket of the batch was not returned".into())
            }),
            Err(refused) => Err(refused),
        })
        .collect();
    Ok((answers, None))
}

/// What a request of a failed batch is told.
fn refusal(err: &StoreError) -> StoreError {
    tracing::error!(error = %err, "ticket create failed; nothing of it was committed");
    StoreError::Unavailable(format!(
        "the ticket could not be written ({err}); nothing was changed"
    ))
}
