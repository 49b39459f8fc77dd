//! The event log: every change appends who, when, what and before/after in its own transaction.
//!
//! The log is append-only (database triggers refuse UPDATE and DELETE). On PostgreSQL, appends
//! are serialised with a transaction-scoped advisory lock taken just before the first event of a
//! transaction, so sequence numbers become visible in commit order and a reader tailing by `seq`
//! never skips a late commit. SQLite has one writer, so order holds there by construction.

use jiff::Timestamp;
use serde_json::Value;
use sqlx::{Any, Row, Transaction};

use crate::model::ts;
use crate::sql::{Param, Sql};
use crate::{Backend, Store, StoreError, UserRef};

/// Key of the advisory lock that serialises event appends on PostgreSQL.
const APPEND_LOCK: i64 = 0x6f70_7365_7665;

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the log; strictly increasing in commit order.
    pub seq: i64,
    /// When it happened.
    pub at: Timestamp,
    /// Who did it; `None` for the system.
    pub actor: Option<UserRef>,
    /// What kind of thing changed: `ticket`, `user`, `team`, `org`, `token`.
    pub subject_kind: String,
    /// Which one.
    pub subject_id: i64,
    /// What happened, such as `ticket.created` or `ticket.escalated`.
    pub kind: String,
    /// Whether only staff may see it (internal notes and what they say).
    pub internal: bool,
    /// Details: for changes, `{"before": …, "after": …}`.
    pub data: Value,
}

/// An event to append, with its own actor and time (stored microseconds).
pub(crate) struct NewEvent {
    pub(crate) at: i64,
    pub(crate) actor: Option<i64>,
    pub(crate) subject_kind: &'static str,
    pub(crate) subject_id: i64,
    pub(crate) kind: &'static str,
    pub(crate) internal: bool,
    pub(crate) data: Value,
}

/// A write transaction that knows who acts and when, and appends events as it goes.
pub(crate) struct Write {
    pub(crate) tx: Transaction<'static, Any>,
    backend: Backend,
    now: i64,
    actor: Option<i64>,
    locked: bool,
}

impl Write {
    /// Starts a write transaction on `pool` for a change by `actor` at `now`.
    pub(crate) async fn begin(
        pool: &sqlx::AnyPool,
        backend: Backend,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            tx: pool.begin().await?,
            backend,
            now: now.as_microsecond(),
            actor,
            locked: false,
        })
    }

    /// Starts a write transaction holding the event log's lock from its start: on PostgreSQL
    /// `BEGIN` and the lock travel in one round trip (a writer that appends anyway, such as
    /// the ticket batch, saves one).
    pub(crate) async fn begin_locked(
        pool: &sqlx::AnyPool,
        backend: Backend,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Self, StoreError> {
        if backend != Backend::Postgres {
            return Self::begin(pool, backend, actor, now).await;
        }
        Ok(Self {
            tx: pool
                .begin_with(format!(
                    "BEGIN; SELECT pg_advisory_xact_lock({APPEND_LOCK})"
                ))
                .await?,
            backend,
            now: now.as_microsecond(),
            actor,
            locked: true,
        })
    }

    /// Makes the rest of the transaction's events act as `actor` (mail intake learns who
    /// wrote only after it has read the message).
    pub(crate) fn act_as(&mut self, actor: Option<i64>) {
        self.actor = actor;
    }

    /// The time of this change, in stored form.
    pub(crate) fn now(&self) -> i64 {
        self.now
    }

    /// The engine this transaction runs on (for the few statements whose SQL differs).
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// Appends one event to the log inside this transaction.
    pub(crate) async fn event(
        &mut self,
        subject_kind: &'static str,
        subject_id: i64,
        kind: &'static str,
        internal: bool,
        data: Value,
    ) -> Result<i64, StoreError> {
        self.lock_log().await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO events (at, actor_id, subject_kind, subject_id, kind, internal, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq",
        )
        .bind(self.now)
        .bind(self.actor)
        .bind(subject_kind)
        .bind(subject_id)
        .bind(kind)
        .bind(i64::from(internal))
        .bind(data.to_string())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(seq)
    }

    /// Appends several events at once (one statement), each with its own actor and time: the
    /// batched ticket writer uses it for requests that share one transaction.
    pub(crate) async fn events(&mut self, events: &[NewEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        self.lock_log().await?;
        let mut sql = Sql::new(
            "INSERT INTO events (at, actor_id, subject_kind, subject_id, kind, internal, data) VALUES ",
        );
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_list([
                Param::Int(e.at),
                e.actor.map_or(Param::Null, Param::Int),
                Param::Text(e.subject_kind.to_owned()),
                Param::Int(e.subject_id),
                Param::Text(e.kind.to_owned()),
                Param::Int(i64::from(e.internal)),
                Param::Text(e.data.to_string()),
            ]);
        }
        sql.query().execute(&mut *self.tx).await?;
        Ok(())
    }

    /// Takes the event log's append lock now (PostgreSQL), before any row lock, so this
    /// transaction locks in the same order as every other writer and cannot deadlock with one.
    pub(crate) async fn lock_log(&mut self) -> Result<(), StoreError> {
        if self.backend == Backend::Postgres && !self.locked {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(APPEND_LOCK)
                .execute(&mut *self.tx)
                .await?;
            self.locked = true;
        }
        Ok(())
    }

    /// Commits the change and its events together.
    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store {
    /// Starts a change made by `actor` (a user id, or `None` for the system) at `now`.
    pub(crate) async fn write(
        &self,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Write, StoreError> {
        Write::begin(&self.write, self.backend(), actor, now).await
    }

    /// The events of one subject in log order; internal events only when `include_internal`.
    pub async fn events_of(
        &self,
        subject_kind: &str,
        subject_id: i64,
        include_internal: bool,
    ) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!(
            "{EVENT_SELECT} WHERE e.subject_kind = $1 AND e.subject_id = $2 AND (e.internal = 0 OR $3 = 1) \
             ORDER BY e.seq"
        ))
        .bind(subject_kind)
        .bind(subject_id)
        .bind(i64::from(include_internal))
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Up to `limit` events after `seq`, in log order: what a worker tailing the log reads.
    pub async fn events_after(&self, seq: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
        let rows = sqlx::query(&format!(
            "{EVENT_SELECT} WHERE e.seq > $1 ORDER BY e.seq LIMIT $2"
        ))
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// The events the mail notifier acts on among the next `limit` after `seq`, in log order:
    /// replies, updates and SLA breaches of tickets, and the creation of tickets raised by
    /// mail. With them the position those `limit` events reach, and whether there were that
    /// many. The other events (most creates) are skipped by the database: decoding them was
    /// most of the notifier's time.
    pub async fn mail_events_after(
        &self,
        seq: i64,
        limit: i64,
    ) -> Result<(Vec<Event>, i64, bool), StoreError> {
        let window = sqlx::query(
            "SELECT COUNT(*), MAX(seq) FROM (SELECT seq FROM events WHERE seq > $1 ORDER BY seq LIMIT $2) w",
        )
        .bind(seq)
        .bind(limit)
        .fetch_one(&self.read)
        .await?;
        let (count, reached): (i64, Option<i64>) = (window.try_get(0)?, window.try_get(1)?);
        let Some(reached) = reached else {
            return Ok((Vec::new(), seq, false));
        };
        let rows = sqlx::query(&format!(
            "{EVENT_SELECT} LEFT JOIN tickets t ON t.id = e.subject_id \
             WHERE e.seq > $1 AND e.seq <= $2 AND e.subject_kind = 'ticket' \
             AND e.kind IN ('ticket.created', 'message.added', 'ticket.updated', 'sla.breached') \
             AND (e.kind <> 'ticket.created' OR t.channel = 'email') ORDER BY e.seq"
        ))
        .bind(seq)
        .bind(reached)
        .fetch_all(&self.read)
        .await?;
        let events = rows.iter().map(event_from_row).collect::<Result<_, _>>()?;
        Ok((events, reached, count == limit))
    }

    /// Where up to `limit` events after `seq` happened, in log order: (position, subject kind,
    /// subject id), without who or what (a worker that reads the subjects again needs no more,
    /// and parsing every event's data was most of its read).
    pub async fn subjects_after(
        &self,
        seq: i64,
        limit: i64,
    ) -> Result<Vec<(i64, String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, subject_kind, subject_id FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
            .collect()
    }
}

/// The select of an event with its actor, as [`event_from_row`] reads it; a `WHERE` follows.
const EVENT_SELECT: &str = "SELECT e.seq, e.at, e.actor_id, u.email, u.name, e.subject_kind, \
     e.subject_id, e.kind, e.internal, e.data FROM events e LEFT JOIN users u ON u.id = e.actor_id";

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<Event, StoreError> {
    let actor_id: Option<i64> = row.try_get(2)?;
    let actor = match actor_id {
        Some(id) => Some(UserRef {
            id,
            email: row.try_get::<Option<String>, _>(3)?.unwrap_or_default(),
            name: row.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
        }),
        None => None,
    };
    let data: String = row.try_get(9)?;
    Ok(Event {
        seq: row.try_get(0)?,
        at: ts(row.try_get(1)?)?,
        actor,
        subject_kind: row.try_get(5)?,
        subject_id: row.try_get(6)?,
        kind: row.try_get(7)?,
        internal: row.try_get::<i64, _>(8)? != 0,
        data: serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}
