//! Report facts (`ticket_facts`): one row per ticket, read off its history by
//! `report::measure` and written in the transaction of every ticket change, beside its clocks
//! and the daily rollup (`report_rollup`) they feed.

use opsdesk_domain::calendar::Calendar;
use opsdesk_domain::report::{duration_bucket, measure, Measured};
use opsdesk_domain::sla::Clock;
use sqlx::Row;

use crate::clocks::ClockInputs;
use crate::events::Write;
use crate::sql::{json_rows, select_json_rows, Param, Sql};
use crate::StoreError;

/// The columns of `ticket_facts`, in the order of [`FactRow::params`]; all but `category` and
/// `channel` are integers.
pub(crate) const COLUMNS: [&str; 36] = [
    "ticket_id",
    "team_id",
    "org_id",
    "assignee_id",
    "priority",
    "tier",
    "category",
    "channel",
    "active",
    "created_at",
    "first_response_at",
    "fr_secs",
    "fr_business_secs",
    "fr_bucket",
    "fr_business_bucket",
    "resolved_at",
    "res_secs",
    "res_business_secs",
    "res_bucket",
    "res_business_bucket",
    "reopens",
    "desk_replies",
    "escalations",
    "tiers_reached",
    "escalated_from",
    "first_contact",
    "fr_met",
    "fr_breached",
    "nr_met",
    "nr_breached",
    "res_met",
    "res_breached",
    "pu_met",
    "pu_breached",
    "csat_score",
    "service_id",
];

/// A first-response or resolution duration: seconds and histogram bucket, in calendar and in
/// business time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) secs: Option<i64>,
    pub(crate) business_secs: Option<i64>,
    pub(crate) bucket: Option<i64>,
    pub(crate) business_bucket: Option<i64>,
}

/// One ticket's row of `ticket_facts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FactRow {
    pub(crate) ticket_id: i64,
    pub(crate) team_id: i64,
    pub(crate) org_id: Option<i64>,
    pub(crate) assignee_id: Option<i64>,
    pub(crate) priority: i64,
    pub(crate) tier: i64,
    pub(crate) category: Option<String>,
    pub(crate) channel: String,
    pub(crate) active: bool,
    pub(crate) created_at: i64,
    pub(crate) first_response_at: Option<i64>,
    pub(crate) first_response: Span,
    pub(crate) resolved_at: Option<i64>,
    pub(crate) resolution: Span,
    pub(crate) reopens: i64,
    pub(crate) desk_replies: i64,
    pub(crate) escalations: i64,
    /// Bit n: the ticket was at tier Ln.
    pub(crate) tiers_reached: i64,
    /// Bit n: the ticket was escalated out of tier Ln.
    pub(crate) escalated_from: i64,
    pub(crate) first_contact: bool,
    /// Met and breached cycles: first response, next response, resolution, periodic update.
    pub(crate) sla: [(i64, i64); 4],
    pub(crate) csat_score: Option<i64>,
    pub(crate) service_id: Option<i64>,
}

impl FactRow {
    /// The row's values in [`COLUMNS`] order.
    pub(crate) fn params(&self) -> Vec<Param> {
        let int = Param::Int;
        let opt = |v: Option<i64>| v.map_or(Param::Null, Param::Int);
        let span = |s: &Span| {
            [
                opt(s.secs),
                opt(s.business_secs),
                opt(s.bucket),
                opt(s.business_bucket),
            ]
        };
        let mut row = vec![
            int(self.ticket_id),
            int(self.team_id),
            opt(self.org_id),
            opt(self.assignee_id),
            int(self.priority),
            int(self.tier),
            self.category.clone().map_or(Param::NullText, Param::Text),
            Param::Text(self.channel.clone()),
            int(i64::from(self.active)),
            int(self.created_at),
            opt(self.first_response_at),
        ];
        row.extend(span(&self.first_response));
        row.push(opt(self.resolved_at));
        row.extend(span(&self.resolution));
        row.extend([
            int(self.reopens),
            int(self.desk_replies),
            int(self.escalations),
            int(self.tiers_reached),
            int(self.escalated_from),
            int(i64::from(self.first_contact)),
        ]);
        for (met, breached) in self.sla {
            row.extend([int(met), int(breached)]);
        }
        row.push(opt(self.csat_score));
        row.push(opt(self.service_id));
        row
    }

    /// Reads a row selected as [`COLUMNS`] (from the first column on).
    pub(crate) fn read(row: &sqlx::any::AnyRow) -> Result<Self, StoreError> {
        let int = |i: usize| row.try_get::<i64, _>(i);
        let opt = |i: usize| row.try_get::<Option<i64>, _>(i);
        let span = |i: usize| -> Result<Span, sqlx::Error> {
            Ok(Span {
                secs: opt(i)?,
                business_secs: opt(i + 1)?,
                bucket: opt(i + 2)?,
                business_bucket: opt(i + 3)?,
            })
        };
        let mut sla = [(0, 0); 4];
        for (m, slot) in sla.iter_mut().enumerate() {
            *slot = (int(26 + 2 * m)?, int(27 + 2 * m)?);
        }
        Ok(Self {
            ticket_id: int(0)?,
            team_id: int(1)?,
            org_id: opt(2)?,
            assignee_id: opt(3)?,
            priority: int(4)?,
            tier: int(5)?,
            category: row.try_get(6)?,
            channel: row.try_get(7)?,
            active: int(8)? != 0,
            created_at: int(9)?,
            first_response_at: opt(10)?,
            first_response: span(11)?,
            resolved_at: opt(15)?,
            resolution: span(16)?,
            reopens: int(20)?,
            desk_replies: int(21)?,
            escalations: int(22)?,
            tiers_reached: int(23)?,
            escalated_from: int(24)?,
            first_contact: int(25)? != 0,
            sla,
            csat_score: opt(34)?,
            service_id: opt(35)?,
        })
    }
}

/// One ticket's row, or `None` when its history has no creation (nothing to report).
pub(crate) fn fact_row(
    input: &ClockInputs,
    clocks: &[Clock],
    calendar: &Calendar,
) -> Option<FactRow> {
    let m = measure(
        &input.facts,
        &input.tier_moves,
        input.tier,
        clocks,
        calendar,
    )?;
    let span = |d: Option<Measured>| {
        let secs = d.map(|d| d.calendar.as_secs());
        let business_secs = d.map(|d| d.business.as_secs());
        Span {
            secs,
            business_secs,
            bucket: secs.map(duration_bucket),
            business_bucket: business_secs.map(duration_bucket),
        }
    };
    let mut sla = [(0, 0); 4];
    for (slot, outcome) in sla.iter_mut().zip(m.sla) {
        *slot = (i64::from(outcome.met), i64::from(outcome.breached));
    }
    Some(FactRow {
        ticket_id: input.id,
        team_id: input.team_id,
        org_id: input.org_id,
        assignee_id: input.assignee_id,
        priority: input.priority.rank(),
        tier: i64::from(input.tier.level()),
        category: input.category.clone(),
        channel: input.channel.clone(),
        active: m.active,
        created_at: m.created_at.as_microsecond(),
        first_response_at: m.first_response_at.map(|t| t.as_microsecond()),
        first_response: span(m.first_response),
        resolved_at: m.resolved_at.map(|t| t.as_microsecond()),
        resolution: span(m.resolution),
        reopens: i64::from(m.reopens),
        desk_replies: i64::from(m.desk_replies),
        escalations: i64::from(m.escalations),
        tiers_reached: i64::from(m.tiers_reached),
        escalated_from: i64::from(m.escalated_from),
        first_contact: m.first_contact,
        sla,
        csat_score: input.csat,
        service_id: input.service_id,
    })
}

/// The stored facts of `ids` (tickets without facts are absent).
pub(crate) async fn stored_facts(
    conn: &mut sqlx::AnyConnection,
    ids: &[i64],
) -> Result<Vec<FactRow>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut sql = Sql::new(&format!(
            "SELECT {} FROM ticket_facts WHERE ticket_id IN ",
            COLUMNS.join(", ")
        ));
        sql.bind_list(chunk.iter().map(|id| Param::Int(*id)));
        for row in sql.query().fetch_all(&mut *conn).await? {
            out.push(FactRow::read(&row)?);
        }
    }
    Ok(out)
}

/// Writes the facts of tickets created in `w`'s transaction: nothing is stored for them, so
/// nothing is read first.
pub(crate) async fn write_new_facts(w: &mut Write, rows: Vec<FactRow>) -> Result<(), StoreError> {
    if w.backend() == crate::Backend::Postgres && !rows.is_empty() {
        w.lock_log().await?;
        upsert(w, rows.iter()).await?;
        return crate::report_rollup::add_new(w, &rows).await;
    }
    let changes: Vec<(Option<FactRow>, FactRow)> = rows.into_iter().map(|r| (None, r)).collect();
    store_changes(w, changes).await
}

/// Writes the facts that changed (one statement: the rows travel as one JSON parameter, as the
/// clocks do) and moves the daily rollup by the difference, in `w`'s transaction.
pub(crate) async fn write_facts(w: &mut Write, rows: Vec<FactRow>) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    // The rollup is read, changed and written back: writers take turns.
    w.lock_log().await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.ticket_id).collect();
    let mut before: std::collections::HashMap<i64, FactRow> = stored_facts(&mut w.tx, &ids)
        .await?
        .into_iter()
        .map(|f| (f.ticket_id, f))
        .collect();
    let mut changes: Vec<(Option<FactRow>, FactRow)> = Vec::with_capacity(rows.len());
    for row in rows {
        let old = before.remove(&row.ticket_id);
        if old.as_ref() != Some(&row) {
            changes.push((old, row));
        }
    }
    store_changes(w, changes).await
}

/// `SELECT` of the fact rows bound (by [`json_rows`], in [`FactRow::params`] order) at
/// `placeholder`, in [`COLUMNS`] order.
pub(crate) fn select_json_facts(backend: crate::Backend, placeholder: &str) -> String {
    let text = |name: &str| name == "category" || name == "channel";
    select_json_rows(backend, placeholder, &COLUMNS, text)
}

/// Upserts fact rows whole (one statement: the rows travel as one JSON parameter).
async fn upsert(w: &mut Write, rows: impl Iterator<Item = &FactRow>) -> Result<(), StoreError> {
    let params: Vec<Vec<Param>> = rows.map(FactRow::params).collect();
    let source = select_json_facts(w.backend(), "$1");
    let updates: Vec<String> = COLUMNS[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO ticket_facts ({}) {source} ON CONFLICT (ticket_id) DO UPDATE SET {}",
        COLUMNS.join(", "),
        updates.join(", ")
    ))
    .bind(json_rows(&params))
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}

/// Upserts the new side of `changes` and moves the rollup by their difference.
async fn store_changes(
    w: &mut Write,
    changes: Vec<(Option<FactRow>, FactRow)>,
) -> Result<(), StoreError> {
    if changes.is_empty() {
        return Ok(());
    }
    // The rollup is read, changed and written back: writers take turns.
    w.lock_log().await?;
    upsert(w, changes.iter().map(|(_, new)| new)).await?;
    crate::report_rollup::apply(w, &changes).await
}
