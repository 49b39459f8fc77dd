//! Report facts (`ticket_facts`): one row per ticket, read off its history by
//! `report::measure` and written in the transaction of every ticket change, beside its clocks
//! and the daily rollup (`report_rollup`) they feed.

use opsdesk_domain::calendar::Calendar;
use opsdesk_domain::report::{duration_bucket, measure, Measured};
use opsdesk_domain::sla::Clock;

use crate::clock_inputs::ClockInputs;
use crate::events::Write;
use crate::fact_rows::{FactRow, Span, COLUMNS};
use crate::sql::{json_rows, select_json_rows, Param, Sql};
use crate::StoreError;

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
