//! Group commit for ticket creation: concurrent creates share one transaction.
//!
//! Each statement sent to the database costs a hand-off between threads (for SQLite, to sqlx's
//! per-connection worker thread), and that hand-off, not SQLite itself, was the measured cost of
//! creating a ticket. So one writer task takes every create waiting at the moment, inserts
//! their tickets, first messages, tags and events with one multi-row statement each, and
//! commits once. Every request still gets its answer only after the commit that holds its row.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// What the ticket writer is asked.
// Creates are nearly every message: boxing them would allocate once more per create.
#[allow(clippy::large_enum_variant)]
enum Message {
    /// Create a ticket.
    Create(Job),
    /// Write the derived rows of committed tickets now, then answer.
    Settle(oneshot::Sender<()>),
}

/// The handle to the ticket writer thread.
#[derive(Debug, Clone)]
pub(crate) struct Batcher {
    jobs: mpsc::Sender<Message>,
    costs: Arc<Costs>,
    /// Whether committed tickets wait for their derived rows.
    backlog: Arc<AtomicBool>,
}

/// What ticket creation has cost on SQLite's writer thread since the store opened: the
/// write-path budget (ARCHITECTURE.md) is tested against it.
#[derive(Debug, Default)]
struct Costs {
    batches: AtomicU64,
    tickets: AtomicU64,
    statements: AtomicU64,
    derived_writes: AtomicU64,
    backlogs: AtomicU64,
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
    /// Statements they ran, and those that wrote backlogs.
    pub statements: u64,
    /// Commits that wrote derived rows (clocks, facts, rollup): a batch's own, or a backlog's.
    pub derived_writes: u64,
    /// Backlogs of derived rows written after their tickets' commits.
    pub backlogs: u64,
}

impl Costs {
    /// Adds a committed batch.
    fn count(&self, answers: &[Result<Ticket, StoreError>]) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        let created = answers.iter().filter(|a| a.is_ok()).count() as u64;
        self.tickets.fetch_add(created, Ordering::Relaxed);
    }

    /// Adds what the SQLite writer's commits cost.
    fn add(&self, spent: crate::sqlite_writer::Spent) {
        let add = |counter: &AtomicU64, n: usize| {
            counter.fetch_add(n as u64, Ordering::Relaxed);
        };
        add(&self.statements, spent.statements);
        add(&self.derived_writes, spent.derived_writes);
        add(&self.backlogs, spent.backlogs);
    }
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
        let backlog = Arc::new(AtomicBool::new(false));
        let writer = Writer {
            pool,
            backend,
            sla,
            sqlite,
            costs: costs.clone(),
            backlog: backlog.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        std::thread::Builder::new()
            .name("opsdesk-ticket-writer".into())
            .spawn(move || writer.serve(queue))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the ticket writer: {e}")))?;
        Ok(Self {
            jobs,
            costs,
            backlog,
        })
    }

    /// What creation has cost so far.
    pub(crate) fn costs(&self) -> CreateCosts {
        CreateCosts {
            batches: self.costs.batches.load(Ordering::Relaxed),
            tickets: self.costs.tickets.load(Ordering::Relaxed),
            statements: self.costs.statements.load(Ordering::Relaxed),
            derived_writes: self.costs.derived_writes.load(Ordering::Relaxed),
            backlogs: self.costs.backlogs.load(Ordering::Relaxed),
        }
    }

    /// Returns once every ticket committed so far has its derived rows (clocks, facts,
    /// rollup): what readers of those rows call first, so a create is seen in them at once.
    pub(crate) async fn settle(&self) -> Result<(), StoreError> {
        if !self.backlog.load(Ordering::Acquire) {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Message::Settle(reply))
            .map_err(|_| StoreError::Unavailable("the ticket writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the ticket writer has stopped".into()))
    }

    /// Creates one ticket in the next batch; returns once that batch is committed.
    pub(crate) async fn create(&self, request: CreateRequest) -> Result<Ticket, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.jobs
            .send(Message::Create(Job { request, reply }))
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
    backlog: Arc<AtomicBool>,
    runtime: tokio::runtime::Handle,
}

/// The longest the SQLite writer keeps the write turn while batches keep coming.
const TURN: Duration = Duration::from_millis(10);

/// How long the SQLite writer waits for another create before it writes the derived rows it
/// left for later and gives the turn back.
const LINGER: Duration = Duration::from_millis(1);

/// The process's write turn on SQLite (the write pool's one connection), held by the ticket
/// writer since `since`.
struct Turn {
    _connection: PoolConnection<Any>,
    since: Instant,
}

impl Writer {
    /// Writes batches until every handle to the writer is gone.
    fn serve(mut self, queue: mpsc::Receiver<Message>) {
        // Giving the write turn back returns a pooled connection, which needs the runtime.
        let runtime = self.runtime.clone();
        let _context = runtime.enter();
        let mut turn: Option<Turn> = None;
        let mut waiting: Option<Message> = None;
        let mut settled: Vec<oneshot::Sender<()>> = Vec::new();
        loop {
            let first = match waiting.take() {
                Some(message) => message,
                None => match self.next_when_quiet(&queue, &mut turn) {
                    Some(message) => message,
                    None => return,
                },
            };
            let mut jobs = Vec::new();
            self.take(first, &mut jobs, &mut settled);
            while jobs.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(message) => self.take(message, &mut jobs, &mut settled),
                    Err(_) => break,
                }
            }
            let failed = !jobs.is_empty() && self.run(jobs, &mut turn);
            if !settled.is_empty() {
                self.flush(&mut turn);
                for reply in settled.drain(..) {
                    let _ = reply.send(());
                }
            }
            // Keep the write turn between back-to-back batches (saving a release and an
            // acquire each) until other writers have waited long enough; derived rows left for
            // later are written first: every other writer finds them complete.
            waiting = queue.try_recv().ok();
            if failed || turn.as_ref().is_some_and(|t| t.since.elapsed() > TURN) {
                self.flush(&mut turn);
                turn = None;
            }
        }
    }

    /// The next message once none waits: with derived rows left for later, the writer keeps
    /// its turn for a moment in case another create comes (under load one always does), then
    /// writes them and gives the turn back. `None` when every handle is gone.
    fn next_when_quiet(
        &mut self,
        queue: &mpsc::Receiver<Message>,
        turn: &mut Option<Turn>,
    ) -> Option<Message> {
        if self.sqlite.as_ref().is_some_and(SqliteWriter::has_backlog) {
            match queue.recv_timeout(LINGER) {
                Ok(message) => return Some(message),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.flush(turn);
                    return None;
                }
            }
            self.flush(turn);
        }
        *turn = None;
        queue.recv().ok()
    }

    /// Adds a message to the batch being gathered: a create to `jobs`, a wish to see derived
    /// rows complete to `settled`.
    fn take(&self, message: Message, jobs: &mut Vec<Job>, settled: &mut Vec<oneshot::Sender<()>>) {
        match message {
            Message::Create(job) => jobs.push(job),
            Message::Settle(reply) => settled.push(reply),
        }
    }

    /// Commits `jobs` and answers each; `true` when the batch failed.
    fn run(&mut self, jobs: Vec<Job>, turn: &mut Option<Turn>) -> bool {
        let requests: Vec<CreateRequest> = jobs.iter().map(|j| j.request.clone()).collect();
        match self.commit(requests, turn) {
            Ok(answers) => {
                for (job, answer) in jobs.into_iter().zip(answers) {
                    let _ = job.reply.send(answer);
                }
                false
            }
            Err(err) if jobs.len() > 1 => {
                // One bad request must not sink the others: each is tried again on its own.
                tracing::warn!(error = %err, batch = jobs.len(), "ticket batch failed; retrying its requests one by one");
                self.flush(turn);
                *turn = None;
                for job in jobs {
                    let answer = match self.commit(vec![job.request.clone()], turn) {
                        Ok(mut answers) => answers.pop().unwrap_or_else(|| {
                            Err(StoreError::Corrupt("the ticket was not returned".into()))
                        }),
                        Err(err) => Err(refusal(&err)),
                    };
                    let _ = job.reply.send(answer);
                }
                true
            }
            Err(err) => {
                for job in jobs {
                    let _ = job.reply.send(Err(refusal(&err)));
                }
                true
            }
        }
    }

    /// Writes the derived rows of committed tickets that wait, holding the write turn. A
    /// failure is logged: the database's mark makes the next writer of derived rows (or the
    /// next start) recompute those tickets.
    fn flush(&mut self, turn: &mut Option<Turn>) {
        let Some(sqlite) = self.sqlite.as_mut() else {
            return;
        };
        if !sqlite.has_backlog() {
            return;
        }
        if let Err(err) = take_turn(&self.runtime, &self.pool, turn) {
            tracing::error!(error = %err, "cannot take the write turn to write derived rows");
            return;
        }
        if let Err(err) = sqlite.flush() {
            tracing::error!(error = %err, "writing the derived rows of new tickets failed; they are recomputed by the next writer");
        }
        self.backlog.store(sqlite.has_backlog(), Ordering::Release);
        self.costs.add(sqlite.take_spent());
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
                self.costs.count(&answers);
                self.costs
                    .statements
                    .fetch_add(round_trips as u64, Ordering::Relaxed);
            }
            return Ok(answers);
        };
        // Holding the write pool's one connection keeps every other writer of the process
        // out until this batch is committed.
        take_turn(&runtime, &self.pool, turn)?;
        let mut config = self.sla.held();
        for _ in 0..3 {
            let outcome = sqlite.write(&requests, &config);
            self.costs.add(sqlite.take_spent());
            self.backlog.store(sqlite.has_backlog(), Ordering::Release);
            match outcome? {
                Outcome::Done(answers) => {
                    self.costs.count(&answers);
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

/// Takes the process's write turn unless `turn` holds it already.
fn take_turn(
    runtime: &tokio::runtime::Handle,
    pool: &AnyPool,
    turn: &mut Option<Turn>,
) -> Result<(), StoreError> {
    if turn.is_none() {
        *turn = Some(Turn {
            _connection: runtime.block_on(pool.acquire())?,
            since: Instant::now(),
        });
    }
    Ok(())
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
