//! The PostgreSQL writer of ticket creation: a group commit in three round trips and the
//! commit, whatever the batch's size.
//!
//! Every statement is a round trip to the server, and a batch used to cost seventeen of them
//! (BENCHMARKS.md). Here the transaction starts with the event log's lock in the same round
//! trip as `BEGIN`; one statement reads everything resolving the batch needs (the SLA version,
//! the teams, the requesters, the services named) and takes the new rows' ids from their
//! sequences; the clocks and facts are planned in memory by the same function SQLite's writer
//! uses ([`plan_new_tickets`]); and one statement writes every row — tickets, messages, tags,
//! events, clocks, facts and the rollup's additive upserts — as data-modifying `WITH` parts,
//! each table's rows bound as one JSON parameter. The SQL text is the same for every batch, so
//! the server plans each statement once per connection.

use std::sync::OnceLock;

use serde::Deserialize;
use sqlx::{AnyPool, Row};

use crate::clocks::{plan_new_tickets, select_json_clocks, CLOCK_COLUMNS};
use crate::events::Write;
use crate::fact_rows::COLUMNS as FACT_COLUMNS;
use crate::new_tickets::{
    answers, batch_now, named_services, resolve, CreateRequest, People, Prepared, Services,
};
use crate::report_facts::select_json_facts;
use crate::report_rollup::{additive_upsert_json, fold, row_params, Grain};
use crate::sla_config::SlaCache;
use crate::sql::{json_rows, select_json_rows, Param};
use crate::{Backend, StoreError, Ticket, UserRef};

/// Round trips of a batch, the commit aside: `BEGIN` with the lock, the read, the write.
pub(crate) const ROUND_TRIPS: usize = 3;

/// What resolving a batch reads, in one statement: the SLA version, the teams, the
/// requesters ($1, a JSON list of ids), the services ($2, a JSON list of folded names), and
/// $3 fresh ticket ids and as many message ids.
const READ_SQL: &str = "SELECT (SELECT version FROM sla_config WHERE id = 1), \
     (SELECT COALESCE(json_agg(json_build_array(id, name, tier) ORDER BY tier, id), '[]') FROM teams)::text, \
     (SELECT COALESCE(json_agg(json_build_array(u.id, u.email, u.name, u.org_id, o.name)), '[]') \
        FROM users u LEFT JOIN orgs o ON o.id = u.org_id \
        WHERE u.id IN (SELECT value::bigint FROM jsonb_array_elements_text($1::jsonb)))::text, \
     (SELECT COALESCE(json_agg(json_build_array(k.key, s.id, s.name)), '[]') \
        FROM jsonb_array_elements_text($2::jsonb) AS k(key) JOIN services s ON lower(s.name) = lower(k.key))::text, \
     (SELECT COALESCE(json_agg(nextval(pg_get_serial_sequence('tickets', 'id'))), '[]') \
        FROM generate_series(1, $3::bigint))::text, \
     (SELECT COALESCE(json_agg(nextval(pg_get_serial_sequence('messages', 'id'))), '[]') \
        FROM generate_series(1, $3::bigint))::text";

/// The ticket columns a create writes, in the order [`ticket_params`] gives them.
const TICKET_COLUMNS: [&str; 19] = [
    "id",
    "subject",
    "status",
    "priority",
    "impact",
    "urgency",
    "tier",
    "team_id",
    "org_id",
    "requester_id",
    "category",
    "service_id",
    "channel",
    "created_at",
    "updated_at",
    "sla_due_at",
    "sla_warn_at",
    "sla_policy_id",
    "assignee_id",
];
const MESSAGE_COLUMNS: [&str; 6] = [
    "id",
    "ticket_id",
    "author_id",
    "internal",
    "body",
    "created_at",
];
const EVENT_COLUMNS: [&str; 7] = [
    "at",
    "actor_id",
    "subject_kind",
    "subject_id",
    "kind",
    "internal",
    "data",
];

/// The one statement that writes a batch: every table's rows bound as JSON, $1 tickets,
/// $2 messages, $3 tags, $4 events, $5 clocks, $6 facts, then one per rollup grain.
fn write_sql() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| {
        let pg = Backend::Postgres;
        let text = |names: &'static [&'static str]| move |c: &str| names.contains(&c);
        let mut parts = vec![
            format!(
                "tickets_added AS (INSERT INTO tickets ({}) OVERRIDING SYSTEM VALUE {} RETURNING 1)",
                TICKET_COLUMNS.join(", "),
                select_json_rows(
                    pg,
                    "$1",
                    &TICKET_COLUMNS,
                    text(&["subject", "status", "impact", "urgency", "category", "channel"])
                )
            ),
            format!(
                "messages_added AS (INSERT INTO messages ({}) OVERRIDING SYSTEM VALUE {} RETURNING 1)",
                MESSAGE_COLUMNS.join(", "),
                select_json_rows(pg, "$2", &MESSAGE_COLUMNS, text(&["body"]))
            ),
            format!(
                "tags_added AS (INSERT INTO ticket_tags (ticket_id, tag) {} ON CONFLICT DO NOTHING RETURNING 1)",
                select_json_rows(pg, "$3", &["ticket_id", "tag"], text(&["tag"]))
            ),
            format!(
                "events_added AS (INSERT INTO events ({}) {} RETURNING 1)",
                EVENT_COLUMNS.join(", "),
                select_json_rows(
                    pg,
                    "$4",
                    &EVENT_COLUMNS,
                    text(&["subject_kind", "kind", "data"])
                )
            ),
            format!(
                "clocks_added AS (INSERT INTO ticket_clocks ({CLOCK_COLUMNS}) {} RETURNING 1)",
                select_json_clocks(pg, "$5")
            ),
            format!(
                "facts_added AS (INSERT INTO ticket_facts ({}) {} RETURNING 1)",
                FACT_COLUMNS.join(", "),
                select_json_facts(pg, "$6")
            ),
        ];
        for (i, grain) in Grain::ALL.iter().enumerate() {
            parts.push(format!(
                "rollup_{i} AS ({} RETURNING 1)",
                additive_upsert_json(*grain, pg, &format!("${}", 7 + i))
            ));
        }
        // A `WITH` needs a main statement; its parts run to completion whether read or not.
        format!("WITH {} SELECT 1", parts.join(", "))
    })
}

/// A team, a requester and a service as the read answers them.
type TeamRow = (i64, String, i64);
type PersonRow = (i64, String, String, Option<i64>, Option<String>);
type ServiceRow = (String, i64, String);

/// One group commit on `pool`: answers each request's ticket or its own refusal, in order, and
/// the round trips it took (the commit aside).
pub(crate) async fn write(
    pool: &AnyPool,
    sla: &SlaCache,
    requests: &[CreateRequest],
) -> Result<(Vec<Result<Ticket, StoreError>>, usize), StoreError> {
    let now = batch_now(requests);
    let mut w = Write::begin_locked(pool, Backend::Postgres, None, now).await?;
    let requesters: Vec<i64> = requests.iter().map(|r| r.new.requester_id).collect();
    let row = sqlx::query(READ_SQL)
        .bind(serde_json::to_string(&requesters).map_err(corrupt)?)
        .bind(serde_json::to_string(&named_services(requests)).map_err(corrupt)?)
        .bind(requests.len() as i64)
        .fetch_one(&mut *w.tx)
        .await?;
    let version: i64 = row.try_get(0)?;
    let teams: Vec<TeamRow> = parse(&row.try_get::<String, _>(1)?)?;
    let people: People = parse::<Vec<PersonRow>>(&row.try_get::<String, _>(2)?)?
        .into_iter()
        .map(|(id, email, name, org_id, org_name)| {
            (id, (UserRef { id, email, name }, org_id, org_name))
        })
        .collect();
    let services: Services = parse::<Vec<ServiceRow>>(&row.try_get::<String, _>(3)?)?
        .into_iter()
        .map(|(key, id, name)| (key, (id, name)))
        .collect();
    let mut ticket_ids: Vec<i64> = parse(&row.try_get::<String, _>(4)?)?;
    let mut message_ids: Vec<i64> = parse(&row.try_get::<String, _>(5)?)?;
    ticket_ids.sort_unstable();
    message_ids.sort_unstable();

    // The lock is held: no SLA change can commit between this version and the commit.
    let held = sla.held();
    let config = if held.version == version {
        held
    } else {
        sla.at(version).await?
    };
    let prepared = resolve(requests, &teams, &people, &services)?;
    let ready: Vec<&Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
    if ticket_ids.len() < ready.len() || message_ids.len() < ready.len() {
        return Err(StoreError::Corrupt(
            "the batch was given fewer ids than tickets".into(),
        ));
    }
    let inputs = ready
        .iter()
        .zip(&ticket_ids)
        .map(|(p, id)| p.clock_inputs(*id, p.now.as_microsecond()))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let plan = plan_new_tickets(&config, inputs, now);
    if !plan.removed.is_empty() || !plan.settled.is_empty() {
        return Err(StoreError::Corrupt(
            "a new ticket's plan removes or settles clocks".into(),
        ));
    }
    let cached = plan.ticket_columns();

    let (mut tickets, mut messages, mut tags, mut events) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((p, id), message_id) in ready.iter().zip(&ticket_ids).zip(&message_ids) {
        let (id, message_id) = (*id, *message_id);
        let at = p.now.as_microsecond();
        let row = p.row();
        let (due, warn, policy) = cached(id);
        tickets.push(ticket_params(p, id, at, due, warn, policy));
        messages.push(vec![
            Param::Int(message_id),
            Param::Int(id),
            Param::Int(p.new.requester_id),
            Param::Int(0),
            Param::Text(p.new.body.as_str().to_owned()),
            Param::Int(at),
        ]);
        for tag in &p.new.tags {
            tags.push(vec![Param::Int(id), Param::Text(tag.as_str().to_owned())]);
        }
        events.push(vec![
            Param::Int(at),
            row.actor.map_or(Param::Null, Param::Int),
            Param::Text("ticket".into()),
            Param::Int(id),
            Param::Text(row.event_kind.into()),
            Param::Int(0),
            Param::Text(row.event_text(Some(message_id))),
        ]);
    }
    let clocks: Vec<Vec<Param>> = plan.upserts.iter().map(|r| r.to_vec()).collect();
    let facts: Vec<Vec<Param>> = plan.facts.iter().map(|f| f.params()).collect();
    let added = fold(&plan.facts);
    let mut query = sqlx::query(write_sql())
        .bind(json_rows(&tickets))
        .bind(json_rows(&messages))
        .bind(json_rows(&tags))
        .bind(json_rows(&events))
        .bind(json_rows(&clocks))
        .bind(json_rows(&facts));
    for grain in Grain::ALL {
        let rows: Vec<Vec<Param>> = grain
            .regroup(&added)
            .iter()
            .map(|(key, daily)| row_params(key, daily))
            .collect();
        query = query.bind(json_rows(&rows));
    }
    query.execute(&mut *w.tx).await?;
    w.commit().await?;

    let answers = answers(prepared, &ticket_ids, &plan.due);
    Ok((answers, ROUND_TRIPS))
}

/// A ticket's row in [`TICKET_COLUMNS`] order.
fn ticket_params(
    p: &Prepared,
    id: i64,
    at: i64,
    due: i64,
    warn: Option<i64>,
    policy: i64,
) -> Vec<Param> {
    let opt = |v: Option<i64>| v.map_or(Param::Null, Param::Int);
    vec![
        Param::Int(id),
        Param::Text(p.new.subject.as_str().to_owned()),
        Param::Text(p.row().status.as_str().to_owned()),
        Param::Int(p.priority.rank()),
        Param::Text(p.new.impact.as_str().to_owned()),
        Param::Text(p.new.urgency.as_str().to_owned()),
        Param::Int(i64::from(p.tier.level())),
        Param::Int(p.team_id),
        opt(p.org_id),
        Param::Int(p.new.requester_id),
        p.new
            .category
            .as_ref()
            .map_or(Param::NullText, |c| Param::Text(c.as_str().to_owned())),
        opt(p.service.as_ref().map(|(id, _)| *id)),
        Param::Text(p.new.channel.to_owned()),
        Param::Int(at),
        Param::Int(at),
        Param::Int(due),
        opt(warn),
        opt((policy != 0).then_some(policy)),
        Param::Null,
    ]
}

/// One JSON answer of the read.
fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(corrupt)
}

fn corrupt(err: serde_json::Error) -> StoreError {
    StoreError::Corrupt(err.to_string())
}
