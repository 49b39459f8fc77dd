//! The SQLite writer of ticket creation: one thread owns a connection of its own and runs a
//! whole group commit — its reads, the tickets, messages, tags, events, clocks, facts and the
//! rollup — as one call, with prepared statements cached on the connection.
//!
//! Through sqlx every statement is a hand-off to its worker thread and back; a batch of
//! sixteen creates cost about twenty of them, and those hand-offs, not SQLite, were the cost of
//! a create (BENCHMARKS.md). Here a batch costs one hand-off each way.
//!
//! Writers take turns with every other SQLite write of the process: the batcher holds the
//! write pool's one connection while a batch runs here, so no two writers meet SQLite's lock.
//! Derived rows are computed by the same functions the sqlx path uses
//! ([`crate::clocks::plan_new_tickets`], [`crate::report_rollup::contributions`]) and added to
//! the rollup with no read before the write.
//!
//! A batch commits its tickets, messages, tags and events and keeps their clocks, facts and
//! rollup rows in a backlog, written for several batches at once when the writer finds no
//! create waiting, has held its turn long enough, or is asked (the rollup then takes one upsert
//! per key for all of them): those rows were most of a batch's pages. The backlog is written before the writer gives its turn back, so every other writer
//! finds derived rows complete. `derived_backlog.first_ticket` says in the database that a
//! backlog exists: after a crash, or for a writer of another process, every ticket from that id
//! on is recomputed from its history (`clocks::settle_backlog`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rusqlite::functions::FunctionFlags;
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{
    params_from_iter, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};

use crate::clocks::{plan_new_tickets, ClockPlan, ClockRow, CLOCK_COLUMNS};
use crate::fact_rows::{FactRow, COLUMNS as FACT_COLUMNS};
use crate::new_tickets::{
    answers, batch_now, named_services, resolve, CreateRequest, People, Prepared, Services,
    PEOPLE_SQL, SERVICE_SQL, TEAMS_SQL,
};
use crate::report_rollup::{
    add_histograms, additive_upsert, fold, row_params, Grain, HISTOGRAM_ADD,
};
use crate::sla_config::SlaConfig;
use crate::sql::Param;
use crate::{StoreError, Ticket, UserRef};

/// What a batch came to.
pub(crate) enum Outcome {
    /// Committed: each request's ticket or its own refusal, in order.
    Done(Vec<Result<Ticket, StoreError>>),
    /// Nothing written: the SLA configuration is at this version, not the snapshot's.
    Stale(i64),
}

/// SQLite's ticket writer: its own connection, with its statements cached, and the derived
/// rows of committed tickets not written yet.
pub(crate) struct SqliteWriter {
    conn: Connection,
    backlog: Backlog,
    /// What its commits cost since the last [`SqliteWriter::take_spent`].
    spent: Spent,
}

/// Derived rows of committed tickets, not yet written: the database's
/// `derived_backlog.first_ticket` is `first` while any are kept.
#[derive(Default)]
struct Backlog {
    first: Option<i64>,
    clocks: Vec<ClockRow>,
    facts: Vec<FactRow>,
}

impl Backlog {
    /// Tickets whose derived rows it holds.
    fn tickets(&self) -> usize {
        self.facts.len()
    }
}

impl std::fmt::Debug for SqliteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteWriter").finish_non_exhaustive()
    }
}

/// The database file of a `sqlite:` URL, unless it names an in-memory database (which a
/// second connection cannot share).
pub(crate) fn database_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    let in_memory = path.is_empty() || path == ":memory:" || url.contains("mode=memory");
    (!in_memory).then(|| PathBuf::from(path))
}

impl SqliteWriter {
    /// Opens the writer's connection to the database file at `path`, set up with `pragmas`
    /// (those of every connection of the store).
    pub(crate) fn open(path: &Path, pragmas: &str) -> Result<Self, StoreError> {
        Ok(Self {
            conn: open(path, pragmas)?,
            backlog: Backlog::default(),
            spent: Spent::default(),
        })
    }

    /// Runs one batch under `config`; the caller holds the process's write turn. The batch's
    /// derived rows join the backlog (a backlog of `MAX_BACKLOG` tickets is written first),
    /// unless the database's mark is not this writer's: then they are written in its commit.
    pub(crate) fn write(
        &mut self,
        requests: &[CreateRequest],
        config: &SlaConfig,
    ) -> Result<Outcome, StoreError> {
        if self.backlog.tickets() >= MAX_BACKLOG {
            self.flush()?;
        }
        run(
            &mut self.conn,
            &mut self.backlog,
            &mut self.spent,
            requests,
            config,
        )
    }

    /// Whether derived rows of committed tickets wait to be written.
    pub(crate) fn has_backlog(&self) -> bool {
        self.backlog.first.is_some()
    }

    /// Writes the backlog in a commit of its own; the caller holds the process's write turn.
    /// Unless another writer has recomputed those tickets meanwhile (the database's mark
    /// moved), in which case there is nothing left to write.
    pub(crate) fn flush(&mut self) -> Result<(), StoreError> {
        let Some(first) = self.backlog.first else {
            return Ok(());
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let tally = Tally::default();
        let ours = marked(&tx, &tally)? == Some(first);
        if ours {
            write_derived(&tx, &tally, &self.backlog.clocks, &self.backlog.facts)?;
            mark(&tx, &tally, None)?;
        }
        tx.commit()?;
        self.backlog = Backlog::default();
        self.spent.statements += tally.0.get();
        if ours {
            self.spent.derived_writes += 1;
            self.spent.backlogs += 1;
        }
        Ok(())
    }

    /// What the writer's commits cost since the last call.
    pub(crate) fn take_spent(&mut self) -> Spent {
        std::mem::take(&mut self.spent)
    }
}

/// What ticket creation cost on the writer: statements run (reads and writes, commits aside),
/// commits that wrote derived rows (a batch's own, or a backlog's), backlogs written.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Spent {
    pub(crate) statements: usize,
    pub(crate) derived_writes: usize,
    pub(crate) backlogs: usize,
}

/// Most tickets whose derived rows wait: then a batch writes them all.
const MAX_BACKLOG: usize = 1024;

/// The first ticket of the backlog the database records.
fn marked(tx: &Transaction<'_>, tally: &Tally) -> Result<Option<i64>, StoreError> {
    Ok(tally.one(
        tx.prepare_cached("SELECT first_ticket FROM derived_backlog WHERE id = 1")?
            .query_row([], |r| r.get(0)),
    )?)
}

/// Records `first` as the first ticket of the backlog (none: no backlog).
fn mark(tx: &Transaction<'_>, tally: &Tally, first: Option<i64>) -> Result<(), StoreError> {
    tally.one(
        tx.prepare_cached("UPDATE derived_backlog SET first_ticket = ?1 WHERE id = 1")?
            .execute([first]),
    )?;
    Ok(())
}

/// Opens the writer's connection with the pragmas every connection of the store has, and the
/// histogram function the additive rollup upsert calls.
fn open(path: &Path, pragmas: &str) -> Result<Connection, StoreError> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch(pragmas)?;
    conn.create_scalar_function(
        HISTOGRAM_ADD,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let a: String = ctx.get(0)?;
            let b: String = ctx.get(1)?;
            add_histograms(&a, &b).map_err(|e| rusqlite::Error::UserFunctionError(Box::new(e)))
        },
    )?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

/// One group commit: everything is read and written in one immediate transaction, committed
/// before any request is answered; the derived rows go to `backlog`.
fn run(
    conn: &mut Connection,
    backlog: &mut Backlog,
    spent: &mut Spent,
    requests: &[CreateRequest],
    config: &SlaConfig,
) -> Result<Outcome, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tally = Tally::default();
    let marked = marked(&tx, &tally)?;
    if backlog.first.is_some() && marked != backlog.first {
        // Another writer recomputed the backlog's tickets from their history.
        *backlog = Backlog::default();
    }
    // A mark that is not this writer's (a crash, another process) is left to its recovery.
    let defer = marked == backlog.first;
    let kept = (backlog.first, backlog.clocks.len(), backlog.facts.len());
    let outcome = write_batch(&tx, &tally, backlog, requests, config, defer, marked)?;
    if let Outcome::Done(_) = outcome {
        if let Err(err) = tx.commit() {
            // Rolled back: the backlog is what it was.
            backlog.first = kept.0;
            backlog.clocks.truncate(kept.1);
            backlog.facts.truncate(kept.2);
            return Err(err.into());
        }
        spent.statements += tally.0.get();
        if !defer {
            spent.derived_writes += 1;
        }
    }
    Ok(outcome)
}

/// The batch's reads and writes in `tx`, after the backlog's mark was read as `marked`.
fn write_batch(
    tx: &Transaction<'_>,
    tally: &Tally,
    backlog: &mut Backlog,
    requests: &[CreateRequest],
    config: &SlaConfig,
    defer: bool,
    marked: Option<i64>,
) -> Result<Outcome, StoreError> {
    let version: i64 = tally.one(
        tx.prepare_cached("SELECT version FROM sla_config WHERE id = 1")?
            .query_row([], |r| r.get(0)),
    )?;
    if version != config.version {
        return Ok(Outcome::Stale(version));
    }
    let prepared = resolve(
        requests,
        &teams(tx, tally)?,
        &people(tx, requests, tally)?,
        &services(tx, requests, tally)?,
    )?;
    let ready: Vec<&Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
    let first_id: i64 = tally.one(
        tx.prepare_cached("SELECT COALESCE(MAX(id), 0) + 1 FROM tickets")?
            .query_row([], |r| r.get(0)),
    )?;
    let now = batch_now(requests);
    let ids: Vec<i64> = (first_id..).take(ready.len()).collect();
    let inputs = ready
        .iter()
        .zip(&ids)
        .map(|(p, id)| p.clock_inputs(*id, p.now.as_microsecond()))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let plan = plan_new_tickets(config, inputs, now);
    // A new ticket has no stored clock, firing or fact, so nothing is removed or settled.
    {
        let cached = plan.ticket_columns();
        for (p, id) in ready.iter().zip(&ids) {
            insert_ticket(tx, tally, p, *id, cached(*id))?;
        }
    }
    let ClockPlan {
        upserts,
        facts,
        due,
        ..
    } = plan;
    if defer {
        let first = backlog.first.or(ids.first().copied());
        if first != marked {
            mark(tx, tally, first)?;
        }
        backlog.first = first;
        backlog.clocks.extend(upserts);
        backlog.facts.extend(facts);
    } else {
        write_derived(tx, tally, &upserts, &facts)?;
    }
    Ok(Outcome::Done(answers(prepared, &ids, &due)))
}

/// Counts the statements a batch runs, where they run: the write-path budget
/// (ARCHITECTURE.md) is tested against it.
#[derive(Default)]
struct Tally(std::cell::Cell<usize>);

impl Tally {
    /// Counts one statement run, passing its result on.
    fn one<T>(&self, result: rusqlite::Result<T>) -> rusqlite::Result<T> {
        self.0.set(self.0.get() + 1);
        result
    }
}

/// The statements whose text is built from column lists, built once: the statement cache is
/// keyed by the text, and building it for every batch was a measurable part of the writer's
/// time.
struct Statements {
    clocks: String,
    facts: String,
    rollup: [String; 4],
    person: String,
}

fn statements() -> &'static Statements {
    static STATEMENTS: OnceLock<Statements> = OnceLock::new();
    STATEMENTS.get_or_init(|| Statements {
        clocks: format!(
            "INSERT INTO ticket_clocks ({CLOCK_COLUMNS}) VALUES ({})",
            placeholders(15)
        ),
        facts: format!(
            "INSERT INTO ticket_facts ({}) VALUES ({})",
            FACT_COLUMNS.join(", "),
            placeholders(FACT_COLUMNS.len())
        ),
        rollup: Grain::ALL.map(additive_upsert),
        person: format!("{PEOPLE_SQL}(?1)"),
    })
}

/// Writes the clock rows and facts of new tickets and adds their facts to every grain of the
/// rollup.
fn write_derived(
    tx: &Transaction<'_>,
    tally: &Tally,
    clocks: &[ClockRow],
    facts: &[FactRow],
) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(&statements().clocks)?;
    for row in clocks {
        tally.one(insert.execute(params_from_iter(row.iter())))?;
    }
    let mut insert = tx.prepare_cached(&statements().facts)?;
    for fact in facts {
        tally.one(insert.execute(params_from_iter(fact.params())))?;
    }
    let added = fold(facts);
    for (grain, sql) in Grain::ALL.iter().zip(&statements().rollup) {
        let mut upsert = tx.prepare_cached(sql)?;
        for (key, daily) in grain.regroup(&added) {
            tally.one(upsert.execute(params_from_iter(row_params(&key, &daily))))?;
        }
    }
    Ok(())
}

/// Writes one ticket with its first message, tags and `ticket.created` event; `cached` is its
/// nearest due instant, warning instant and policy (0 for none).
fn insert_ticket(
    tx: &Transaction<'_>,
    tally: &Tally,
    p: &Prepared,
    id: i64,
    cached: (i64, Option<i64>, i64),
) -> Result<(), StoreError> {
    let row = p.row();
    let at = p.now.as_microsecond();
    let (due, warn, policy) = cached;
    let mut ticket = tx.prepare_cached(
        "INSERT INTO tickets (id, subject, status, priority, impact, urgency, tier, team_id, org_id, \
         requester_id, assignee_id, category, service_id, channel, created_at, updated_at, \
         sla_due_at, sla_warn_at, sla_policy_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, ?11, ?12, ?13, ?14, ?14, ?15, ?16, ?17)",
    )?;
    tally.one(ticket.execute(rusqlite::params![
        id,
        p.new.subject.as_str(),
        row.status.as_str(),
        p.priority.rank(),
        p.new.impact.as_str(),
        p.new.urgency.as_str(),
        i64::from(p.tier.level()),
        p.team_id,
        p.org_id,
        p.new.requester_id,
        p.new.category.as_ref().map(|c| c.as_str()),
        p.service.as_ref().map(|(id, _)| *id),
        p.new.channel,
        at,
        due,
        warn,
        (policy != 0).then_some(policy),
    ]))?;
    let mut message = tx.prepare_cached(
        "INSERT INTO messages (ticket_id, author_id, internal, body, created_at) VALUES (?1, ?2, 0, ?3, ?4)",
    )?;
    tally.one(message.execute(rusqlite::params![
        id,
        p.new.requester_id,
        p.new.body.as_str(),
        at
    ]))?;
    let message_id = tx.last_insert_rowid();
    let mut tag = tx.prepare_cached(
        "INSERT INTO ticket_tags (ticket_id, tag) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for t in &p.new.tags {
        tally.one(tag.execute(rusqlite::params![id, t.as_str()]))?;
    }
    let mut event = tx.prepare_cached(
        "INSERT INTO events (at, actor_id, subject_kind, subject_id, kind, internal, data) \
         VALUES (?1, ?2, 'ticket', ?3, ?4, 0, ?5)",
    )?;
    tally.one(event.execute(rusqlite::params![
        at,
        row.actor,
        id,
        row.event_kind,
        row.event_text(Some(message_id))
    ]))?;
    Ok(())
}

/// Every team, as [`resolve`] takes them.
fn teams(tx: &Transaction<'_>, tally: &Tally) -> Result<crate::new_tickets::Teams, StoreError> {
    let mut statement = tx.prepare_cached(TEAMS_SQL)?;
    let rows = tally.one(statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The requesters of `requests`, one cached statement per distinct requester (a list of
/// varying length would be a new statement to prepare for every batch size).
fn people(
    tx: &Transaction<'_>,
    requests: &[CreateRequest],
    tally: &Tally,
) -> Result<People, StoreError> {
    let mut statement = tx.prepare_cached(&statements().person)?;
    let mut people = People::new();
    for request in requests {
        let id = request.new.requester_id;
        if people.contains_key(&id) {
            continue;
        }
        let found = tally
            .one(statement.query_row([id], |r| {
                Ok((
                    UserRef {
                        id,
                        email: r.get(1)?,
                        name: r.get(2)?,
                    },
                    r.get::<_, Option<i64>>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            }))
            .optional()?;
        if let Some(person) = found {
            people.insert(id, person);
        }
    }
    Ok(people)
}

/// The services `requests` name, one cached statement per distinct name.
fn services(
    tx: &Transaction<'_>,
    requests: &[CreateRequest],
    tally: &Tally,
) -> Result<Services, StoreError> {
    let mut services = Services::new();
    let names = named_services(requests);
    if names.is_empty() {
        return Ok(services);
    }
    let mut statement = tx.prepare_cached(SERVICE_SQL)?;
    for name in names {
        let found = tally
            .one(statement.query_row([&name], |r| Ok((r.get(0)?, r.get(1)?))))
            .optional()?;
        if let Some(service) = found {
            services.insert(name, service);
        }
    }
    Ok(services)
}

/// `?1, ?2, …, ?n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl rusqlite::ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Param::Int(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            Param::Text(v) => ToSqlOutput::Borrowed(rusqlite::types::ValueRef::Text(v.as_bytes())),
            Param::Null | Param::NullText => ToSqlOutput::Owned(Value::Null),
        })
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Unavailable(err.to_string())
            }
            _ => StoreError::Engine(err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::database_file;
    use std::path::PathBuf;

    #[test]
    fn the_database_file_comes_from_the_url() {
        assert_eq!(
            database_file("sqlite:///tmp/d/opsdesk.db?mode=rwc"),
            Some(PathBuf::from("/tmp/d/opsdesk.db"))
        );
        assert_eq!(
            database_file("sqlite://data/opsdesk.db"),
            Some(PathBuf::from("data/opsdesk.db"))
        );
        assert_eq!(database_file("sqlite::memory:"), None);
        assert_eq!(database_file("sqlite://x.db?mode=memory"), None);
        assert_eq!(database_file("postgres://localhost/x"), None);
    }
}
