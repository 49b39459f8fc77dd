//! Report facts (`ticket_facts`): one row per ticket, read off its history by
//! `report::measure` and written in the transaction of every ticket change, beside its clocks.

use opsdesk_domain::calendar::Calendar;
use opsdesk_domain::report::{duration_bucket, measure, Measured};
use opsdesk_domain::sla::Clock;

use crate::clocks::ClockInputs;
use crate::events::Write;
use crate::sql::Param;
use crate::{Backend, StoreError};

/// The columns of `ticket_facts`, in the order of [`fact_row`]; all but `category` and
/// `channel` are integers.
const COLUMNS: [&str; 34] = [
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
];

/// One ticket's row, or `None` when its history has no creation (nothing to report).
pub(crate) fn fact_row(
    input: &ClockInputs,
    clocks: &[Clock],
    calendar: &Calendar,
) -> Option<Vec<Param>> {
    let m = measure(
        &input.facts,
        &input.tier_moves,
        input.tier,
        clocks,
        calendar,
    )?;
    let int = |v: i64| Param::Int(v);
    let opt = |v: Option<i64>| v.map_or(Param::Null, Param::Int);
    let secs = |d: Option<Measured>| {
        let c = d.map(|d| d.calendar.as_secs());
        let b = d.map(|d| d.business.as_secs());
        [
            opt(c),
            opt(b),
            opt(c.map(duration_bucket)),
            opt(b.map(duration_bucket)),
        ]
    };
    let mut row = vec![
        int(input.id),
        int(input.team_id),
        opt(input.org_id),
        opt(input.assignee_id),
        int(input.priority.rank()),
        int(i64::from(input.tier.level())),
        input.category.clone().map_or(Param::NullText, Param::Text),
        Param::Text(input.channel.clone()),
        int(i64::from(m.active)),
        int(m.created_at.as_microsecond()),
        opt(m.first_response_at.map(|t| t.as_microsecond())),
    ];
    row.extend(secs(m.first_response));
    row.push(opt(m.resolved_at.map(|t| t.as_microsecond())));
    row.extend(secs(m.resolution));
    row.extend([
        int(i64::from(m.reopens)),
        int(i64::from(m.desk_replies)),
        int(i64::from(m.escalations)),
        int(i64::from(m.tiers_reached)),
        int(i64::from(m.escalated_from)),
        int(i64::from(m.first_contact)),
    ]);
    for outcome in m.sla {
        row.extend([
            int(i64::from(outcome.met)),
            int(i64::from(outcome.breached)),
        ]);
    }
    Some(row)
}

/// Upserts the rows in one statement (they travel as one JSON parameter, as the clocks do).
pub(crate) async fn write_facts(w: &mut Write, rows: Vec<Vec<Param>>) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| {
            serde_json::Value::Array(
                row.iter()
                    .map(|p| match p {
                        Param::Int(v) => serde_json::Value::from(*v),
                        Param::Text(s) => serde_json::Value::from(s.as_str()),
                        Param::Null | Param::NullText => serde_json::Value::Null,
                    })
                    .collect(),
            )
        })
        .collect();
    let columns = &COLUMNS[..];
    let text = |name: &str| name == "category" || name == "channel";
    let values: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| match (w.backend(), text(name)) {
            (Backend::Sqlite, _) => format!("j.value ->> {i}"),
            (Backend::Postgres, true) => format!("j ->> {i}"),
            (Backend::Postgres, false) => format!("(j ->> {i})::bigint"),
        })
        .collect();
    let source = match w.backend() {
        Backend::Sqlite => format!(
            "SELECT {} FROM json_each($1) AS j WHERE true",
            values.join(", ")
        ),
        Backend::Postgres => format!(
            "SELECT {} FROM jsonb_array_elements($1::jsonb) AS j",
            values.join(", ")
        ),
    };
    let updates: Vec<String> = columns[1..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    sqlx::query(&format!(
        "INSERT INTO ticket_facts ({}) {source} ON CONFLICT (ticket_id) DO UPDATE SET {}",
        columns.join(", "),
        updates.join(", ")
    ))
    .bind(serde_json::Value::Array(json).to_string())
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}
