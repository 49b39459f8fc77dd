//! Opening the database: URL parsing, pools, pragmas, migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use std::sync::Arc;

use crate::alert_batch::AlertWriter;
use crate::batch::Batcher;
use crate::sla_config::SlaCache;
use crate::sqlite_writer::{database_file, SqliteWriter};
use crate::{migrate, StoreError};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in WAL mode: the embedded default, one process.
    Sqlite,
    /// PostgreSQL: any number of processes on one database.
    Postgres,
}

/// The handle every part of opsdesk uses to read and write data. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    /// Connections for writing. On SQLite a single connection, so writers queue in the
    /// process instead of failing with "database is locked".
    pub(crate) write: AnyPool,
    /// Connections for reading; on PostgreSQL the same pool as `write`.
    pub(crate) read: AnyPool,
    /// The group-commit writer for ticket creation.
    pub(crate) batcher: Batcher,
    /// The group-commit writer for alert ingest.
    pub(crate) alert_writer: AlertWriter,
    /// Rung after a commit that gives the background workers something to do now (a page).
    pub(crate) wake: Arc<tokio::sync::Notify>,
    /// The SLA configuration snapshot every clock refresh reads.
    pub(crate) sla: Arc<SlaCache>,
    backend: Backend,
}

impl Store {
    /// Opens the database at `url` (`sqlite://PATH` or `postgres://…`) and migrates it.
    pub async fn open(url: &str, now: jiff::Timestamp) -> Result<Self, StoreError> {
        let store = Self::connect(url).await?;
        store.migrate(now).await?;
        Ok(store)
    }

    /// Opens the database at `url` without migrating it. A `sqlite:` URL may end in
    /// `synchronous=full` to sync every commit to disk (the default, `normal`, syncs the WAL at
    /// checkpoints: nothing acknowledged is lost when the process dies, the last commits may be
    /// lost when the machine loses power).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(opsdesk_domain::Invalid::new(
                "database_url",
                "must start with sqlite: or postgres://",
            )));
        };
        let (url, synchronous) = match backend {
            Backend::Sqlite => sqlite_synchronous(url)?,
            Backend::Postgres => (url.to_owned(), Synchronous::Normal),
        };
        let url = url.as_str();
        let options = AnyConnectOptions::from_str(url)?;
        match backend {
            Backend::Sqlite => {
                let pragmas = format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA cache_size = -4000; PRAGMA temp_store = MEMORY;",
                    synchronous.pragma()
                );
                let pool = |max: u32| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .min_connections(1)
                        // A local file cannot go stale; a ping per checkout would double the
                        // thread hand-offs to sqlx's SQLite worker (measured: the main cost).
                        .test_before_acquire(false)
                        .acquire_timeout(Duration::from_secs(30))
                        .after_connect({
                            let pragmas = pragmas.clone();
                            move |conn, _meta| {
                                let pragmas = pragmas.clone();
                                Box::pin(
                                    async move { conn.execute(pragmas.as_str()).await.map(|_| ()) },
                                )
                            }
                        })
                        .connect_with(options.clone())
                };
                // One reader per core: more readers only add thread hand-offs to sqlx's
                // per-connection SQLite worker threads (measured in BENCHMARKS.md).
                let readers = std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
                    .clamp(2, 8) as u32;
                let write = pool(1).await?;
                let read = pool(readers).await?;
                let sqlite_writer = match database_file(url) {
                    Some(path) => Some(SqliteWriter::open(&path, &pragmas)?),
                    None => None,
                };
                let sla = Arc::new(SlaCache::new(read.clone()));
                let wake = Arc::new(tokio::sync::Notify::new());
                Ok(Self {
                    alert_writer: AlertWriter::start(
                        write.clone(),
                        read.clone(),
                        backend,
                        wake.clone(),
                    ),
                    wake,
                    batcher: Batcher::start(write.clone(), backend, sla.clone(), sqlite_writer)?,
                    write,
                    read,
                    sla,
                    backend,
                })
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(30))
                    .connect_with(options)
                    .await?;
                let sla = Arc::new(SlaCache::new(pool.clone()));
                let wake = Arc::new(tokio::sync::Notify::new());
                Ok(Self {
                    alert_writer: AlertWriter::start(
                        pool.clone(),
                        pool.clone(),
                        backend,
                        wake.clone(),
                    ),
                    wake,
                    batcher: Batcher::start(pool.clone(), backend, sla.clone(), None)?,
                    write: pool.clone(),
                    read: pool,
                    sla,
                    backend,
                })
            }
        }
    }

    /// What ticket creation has cost on SQLite's writer thread since this store opened.
    pub fn create_costs(&self) -> crate::CreateCosts {
        self.batcher.costs()
    }

    /// Returns once every ticket created so far has its derived rows (clocks, report facts,
    /// rollup): the ticket writer may write them after answering while more creates wait.
    /// Every read of those rows calls it first.
    pub async fn settle_derived(&self) -> Result<(), StoreError> {
        self.batcher.settle().await
    }

    /// Wakes the background workers (a change they must act on now, such as a new schedule).
    pub fn ring_work(&self) {
        self.wake.notify_one();
    }

    /// Waits until a commit gives the background workers something to do at once.
    pub async fn work_ready(&self) {
        self.wake.notified().await;
    }

    /// Applies every migration not yet applied (and fills what a migration added that SQL
    /// alone cannot: the report rollup of existing facts), stamped `now`.
    pub async fn migrate(&self, now: jiff::Timestamp) -> Result<usize, StoreError> {
        let applied = migrate::run(&self.write, self.backend, now).await?;
        self.fill_report_rollup(now).await?;
        // Tickets a stopped process committed without their derived rows get them now.
        let mut w = crate::events::Write::begin(&self.write, self.backend, None, now).await?;
        crate::clocks::settle_backlog(&mut w, &self.sla).await?;
        w.commit().await?;
        Ok(applied)
    }

    /// The engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Closes every connection, waiting for queries in flight.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// How hard SQLite waits for the disk at a commit (`synchronous=` in a `sqlite:` URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Synchronous {
    /// The default: WAL is synced at checkpoints, not at every commit. A killed process loses
    /// nothing committed; a power cut or OS crash may lose the last commits (never corrupts).
    Normal,
    /// Every commit is synced before it is acknowledged: survives a power cut, costs a sync.
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// Takes `synchronous=normal|full` out of a `sqlite:` URL (sqlx does not know it).
fn sqlite_synchronous(url: &str) -> Result<(String, Synchronous), StoreError> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), Synchronous::Normal));
    };
    let mut synchronous = Synchronous::Normal;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("synchronous", value)) => {
                synchronous = match value.to_ascii_lowercase().as_str() {
                    "normal" => Synchronous::Normal,
                    "full" => Synchronous::Full,
                    _ => {
                        return Err(StoreError::Invalid(opsdesk_domain::Invalid::new(
                            "database_url",
                            "synchronous must be normal or full",
                        )))
                    }
                }
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, synchronous))
}

impl Store {
    /// The default database URL: SQLite in `opsdesk.db` inside the data directory `dir`.
    pub fn default_url(dir: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", dir.join("opsdesk.db").display())
    }
}

/// The right to run singleton work (the SLA scheduler, outbox delivery) in one process of a
/// deployment. On PostgreSQL it is a session advisory lock held on a connection of its own
/// (taken out of the pool, so the lock ends when the connection does); SQLite has one process.
#[derive(Debug)]
pub struct Lease {
    conn: Option<sqlx::AnyConnection>,
}

impl Lease {
    /// Whether the lease still holds (its connection answers).
    pub async fn alive(&mut self) -> bool {
        match self.conn.as_mut() {
            None => true,
            Some(conn) => sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok(),
        }
    }
}

impl Store {
    /// Tries to take the lease named `key`; `None` while another process holds it.
    pub async fn try_lease(&self, key: i64) -> Result<Option<Lease>, StoreError> {
        match self.backend {
            Backend::Sqlite => Ok(Some(Lease { conn: None })),
            Backend::Postgres => {
                let mut conn = self.write.acquire().await?.detach();
                let held: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(&mut conn)
                    .await?;
                Ok(held.then_some(Lease { conn: Some(conn) }))
            }
        }
    }
}
