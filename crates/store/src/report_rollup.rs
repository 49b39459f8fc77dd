//! The daily rollup of the report facts (`ticket_daily`): per UTC day, team, priority, tier,
//! category and assignee, the tickets created that day (with their first-response outcome,
//! escalations, the hours they arrived and how many are still active) and the tickets resolved
//! that day (with reopens, first contact, satisfaction and resolution times). Every fact change
//! moves it by the difference in the same transaction, so a report over a year reads tens of
//! thousands of rows instead of a million facts.
//!
//! The rollup is kept at four grains with the same columns (a dimension a grain does not keep
//! holds its "none" value): `ticket_daily` per day and every dimension but the service,
//! `ticket_daily_desk` per day only, which a report with no filter reads (a year is then
//! hundreds of rows), and, for the tickets that name a service, `ticket_daily_service_team` per
//! day, service and team and `ticket_daily_service` per day and every dimension. A query reads
//! the smallest grain that keeps every dimension it groups or filters by ([`Grain::for_query`]).
//!
//! Organisations are not a rollup dimension (there are too many: a row would hold about one
//! ticket); a report narrowed to one organisation sums that organisation's facts shaped as
//! rollup rows (`organisation_query`), so both paths feed one summary. [`fold`] is the rollup computed
//! afresh from facts, for the check and the rebuild.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::events::Write;
use crate::fact_rows::{FactRow, COLUMNS as FACT_COLUMNS};
use crate::sql::{json_rows, select_json_rows, Param, Sql};
use crate::{Backend, StoreError};

/// Microseconds in a day and an hour.
const DAY_MICROS: i64 = 86_400_000_000;
const HOUR_MICROS: i64 = 3_600_000_000;

/// Which tickets a rollup row counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Cohort {
    /// Created on the row's day.
    Created = 0,
    /// Last resolved on the row's day.
    Resolved = 1,
}

/// The key of a rollup row: its cohort, day and the ticket's dimensions (no category is `""`,
/// no assignee or service `0`, as key columns cannot be NULL).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct DailyKey {
    pub(crate) cohort: Cohort,
    /// Days since 1970-01-01 (UTC).
    pub(crate) day: i64,
    pub(crate) team_id: i64,
    pub(crate) priority: i64,
    pub(crate) tier: i64,
    pub(crate) category: String,
    pub(crate) assignee_id: i64,
    pub(crate) service_id: i64,
}

/// The four tables of the rollup: the same columns, summed to different keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grain {
    /// `ticket_daily`: per day, team, priority, tier, category and assignee.
    Detail,
    /// `ticket_daily_desk`: per day only, for reports with no filter.
    Desk,
    /// `ticket_daily_service_team`: per day, service and team, for tickets with a service only.
    ServiceTeam,
    /// `ticket_daily_service`: per day, service and the dimensions of the detail grain, for
    /// tickets with a service only.
    Service,
}

impl Grain {
    /// Every grain, kept together.
    pub(crate) const ALL: [Grain; 4] = [
        Grain::Detail,
        Grain::Desk,
        Grain::ServiceTeam,
        Grain::Service,
    ];

    /// Its table.
    pub(crate) fn table(self) -> &'static str {
        match self {
            Grain::Detail => "ticket_daily",
            Grain::Desk => "ticket_daily_desk",
            Grain::ServiceTeam => "ticket_daily_service_team",
            Grain::Service => "ticket_daily_service",
        }
    }

    /// The dimensions it keeps.
    fn dimensions(self) -> &'static [&'static str] {
        match self {
            // The key columns after cohort and day; `service_id` is the last.
            Grain::Detail => &COLUMNS[2..KEY_COLUMNS - 1],
            Grain::Desk => &[],
            Grain::ServiceTeam => &["team_id", "service_id"],
            Grain::Service => &COLUMNS[2..KEY_COLUMNS],
        }
    }

    /// Whether the grain has rows whenever tickets have facts (the service grains hold only
    /// tickets that name a service).
    pub(crate) fn holds_every_ticket(self) -> bool {
        matches!(self, Grain::Detail | Grain::Desk)
    }

    /// The smallest grain that keeps every dimension in `needed`: one that holds every ticket
    /// unless the service is needed (then only tickets with one count: a filter names one, or
    /// a grouping by service drops the rows of tickets without one).
    fn for_query(needed: &[&str]) -> Grain {
        let candidates: &[Grain] = if needed.contains(&"service_id") {
            &[Grain::ServiceTeam, Grain::Service]
        } else {
            &[Grain::Desk, Grain::Detail]
        };
        candidates
            .iter()
            .copied()
            .find(|g| needed.iter().all(|d| g.dimensions().contains(d)))
            .unwrap_or(Grain::Service)
    }

    /// Its primary key. `service_id`, the last key column, is outside the detail and desk
    /// grains' keys: they hold it at 0.
    fn primary_key(self) -> &'static [&'static str] {
        match self {
            Grain::Detail | Grain::Desk => &COLUMNS[..KEY_COLUMNS - 1],
            Grain::ServiceTeam | Grain::Service => &COLUMNS[..KEY_COLUMNS],
        }
    }

    /// The key of the row at this grain that counts the tickets of a row keyed with every
    /// dimension (as [`contributions`] gives), if this grain counts them.
    fn key(self, key: &DailyKey) -> Option<DailyKey> {
        match self {
            Grain::Detail => Some(DailyKey {
                service_id: 0,
                ..key.clone()
            }),
            Grain::Desk => Some(DailyKey {
                cohort: key.cohort,
                day: key.day,
                team_id: 0,
                priority: 0,
                tier: 0,
                category: String::new(),
                assignee_id: 0,
                service_id: 0,
            }),
            Grain::ServiceTeam => (key.service_id != 0).then(|| DailyKey {
                cohort: key.cohort,
                day: key.day,
                team_id: key.team_id,
                priority: 0,
                tier: 0,
                category: String::new(),
                assignee_id: 0,
                service_id: key.service_id,
            }),
            Grain::Service => (key.service_id != 0).then(|| key.clone()),
        }
    }

    /// Rows keyed with every dimension summed to this grain's keys.
    pub(crate) fn regroup(self, rows: &BTreeMap<DailyKey, Daily>) -> BTreeMap<DailyKey, Daily> {
        let mut out: BTreeMap<DailyKey, Daily> = BTreeMap::new();
        for (key, daily) in rows {
            if let Some(key) = self.key(key) {
                out.entry(key).or_default().add(daily, 1);
            }
        }
        out
    }
}

/// A histogram kept as counts per slot (a duration bucket, or an hour of the day).
pub(crate) type Counts = BTreeMap<i64, i64>;

/// The figures of a rollup row. Created rows use `active`, `escalated`, `sla`, `reached`,
/// `escalated_from`, `hours` and first-response histograms; resolved rows use `reopened`,
/// `first_contact`, the satisfaction sums and resolution histograms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Daily {
    pub(crate) tickets: i64,
    pub(crate) active: i64,
    pub(crate) escalated: i64,
    /// Met and breached cycles: first response, next response, resolution, periodic update.
    pub(crate) sla: [(i64, i64); 4],
    pub(crate) reached: [i64; 5],
    pub(crate) escalated_from: [i64; 5],
    pub(crate) reopened: i64,
    pub(crate) first_contact: i64,
    pub(crate) csat_responses: i64,
    pub(crate) csat_score_sum: i64,
    pub(crate) csat_satisfied: i64,
    /// Duration buckets in calendar and in business time.
    pub(crate) calendar: Counts,
    pub(crate) business: Counts,
    /// Arrivals by hour of the day (UTC).
    pub(crate) hours: Counts,
}

fn add_counts(into: &mut Counts, from: &Counts, sign: i64) {
    for (slot, n) in from {
        let v = into.entry(*slot).or_insert(0);
        *v += sign * n;
        if *v == 0 {
            into.remove(slot);
        }
    }
}

impl Daily {
    /// Adds `other` (`sign` 1) or takes it away (`sign` -1).
    pub(crate) fn add(&mut self, other: &Daily, sign: i64) {
        self.tickets += sign * other.tickets;
        self.active += sign * other.active;
        self.escalated += sign * other.escalated;
        for (a, b) in self.sla.iter_mut().zip(other.sla) {
            a.0 += sign * b.0;
            a.1 += sign * b.1;
        }
        for (a, b) in self.reached.iter_mut().zip(other.reached) {
            *a += sign * b;
        }
        for (a, b) in self.escalated_from.iter_mut().zip(other.escalated_from) {
            *a += sign * b;
        }
        self.reopened += sign * other.reopened;
        self.first_contact += sign * other.first_contact;
        self.csat_responses += sign * other.csat_responses;
        self.csat_score_sum += sign * other.csat_score_sum;
        self.csat_satisfied += sign * other.csat_satisfied;
        add_counts(&mut self.calendar, &other.calendar, sign);
        add_counts(&mut self.business, &other.business, sign);
        add_counts(&mut self.hours, &other.hours, sign);
    }
}

fn one(slot: Option<i64>) -> Counts {
    slot.map(|s| Counts::from([(s, 1)])).unwrap_or_default()
}

fn bits(mask: i64) -> [i64; 5] {
    std::array::from_fn(|bit| i64::from(mask & (1 << bit) != 0))
}

/// What one ticket's facts add to the rollup: its creation day's row and, once resolved, its
/// resolution day's row.
pub(crate) fn contributions(f: &FactRow) -> Vec<(DailyKey, Daily)> {
    let key = |cohort: Cohort, at: i64| DailyKey {
        cohort,
        day: at.div_euclid(DAY_MICROS),
        team_id: f.team_id,
        priority: f.priority,
        tier: f.tier,
        category: f.category.clone().unwrap_or_default(),
        assignee_id: f.assignee_id.unwrap_or(0),
        service_id: f.service_id.unwrap_or(0),
    };
    let mut out = vec![(
        key(Cohort::Created, f.created_at),
        Daily {
            tickets: 1,
            active: i64::from(f.active),
            escalated: i64::from(f.escalations > 0),
            sla: f.sla,
            reached: bits(f.tiers_reached),
            escalated_from: bits(f.escalated_from),
            calendar: one(f.first_response.bucket),
            business: one(f.first_response.business_bucket),
            hours: one(Some(f.created_at.rem_euclid(DAY_MICROS) / HOUR_MICROS)),
            ..Daily::default()
        },
    )];
    if let Some(resolved_at) = f.resolved_at {
        out.push((
            key(Cohort::Resolved, resolved_at),
            Daily {
                tickets: 1,
                reopened: i64::from(f.reopens > 0),
                first_contact: i64::from(f.first_contact),
                csat_responses: i64::from(f.csat_score.is_some()),
                csat_score_sum: f.csat_score.unwrap_or(0),
                csat_satisfied: i64::from(f.csat_score.is_some_and(|s| s >= 4)),
                calendar: one(f.resolution.bucket),
                business: one(f.resolution.business_bucket),
                ..Daily::default()
            },
        ));
    }
    out
}

/// Folds facts into rollup rows (what the table holds for exactly these tickets).
pub(crate) fn fold<'a>(facts: impl IntoIterator<Item = &'a FactRow>) -> BTreeMap<DailyKey, Daily> {
    let mut rows: BTreeMap<DailyKey, Daily> = BTreeMap::new();
    for fact in facts {
        for (key, daily) in contributions(fact) {
            rows.entry(key).or_default().add(&daily, 1);
        }
    }
    rows
}

/// The columns of the rollup tables, key first, in the order of [`row_params`].
const COLUMNS: [&str; 37] = [
    "cohort",
    "day",
    "team_id",
    "priority",
    "tier",
    "category",
    "assignee_id",
    "service_id",
    "tickets",
    "active",
    "escalated",
    "fr_met",
    "fr_breached",
    "nr_met",
    "nr_breached",
    "res_met",
    "res_breached",
    "pu_met",
    "pu_breached",
    "reached_l0",
    "reached_l1",
    "reached_l2",
    "reached_l3",
    "reached_l4",
    "left_l0",
    "left_l1",
    "left_l2",
    "left_l3",
    "left_l4",
    "reopened",
    "first_contact",
    "csat_responses",
    "csat_score_sum",
    "csat_satisfied",
    "calendar_histogram",
    "business_histogram",
    "hour_histogram",
];
pub(crate) const KEY_COLUMNS: usize = 8;

fn is_text(name: &str) -> bool {
    name == "category" || name.ends_with("_histogram")
}

/// Counts as text: `slot:count` pairs, comma-separated, in slot order.
fn encode(counts: &Counts) -> String {
    let pairs: Vec<String> = counts.iter().map(|(s, n)| format!("{s}:{n}")).collect();
    pairs.join(",")
}

fn decode(text: &str) -> Result<Counts, StoreError> {
    let mut out = Counts::new();
    for pair in text.split(',').filter(|p| !p.is_empty()) {
        let parsed = pair
            .split_once(':')
            .and_then(|(s, n)| Some((s.parse::<i64>().ok()?, n.parse::<i64>().ok()?)));
        let (slot, n) =
            parsed.ok_or_else(|| StoreError::Corrupt(format!("rollup histogram {pair:?}")))?;
        // Joined lists repeat slots: their counts add up.
        *out.entry(slot).or_insert(0) += n;
    }
    Ok(out)
}

fn key_params(key: &DailyKey) -> Vec<Param> {
    vec![
        Param::Int(key.cohort as i64),
        Param::Int(key.day),
        Param::Int(key.team_id),
        Param::Int(key.priority),
        Param::Int(key.tier),
        Param::Text(key.category.clone()),
        Param::Int(key.assignee_id),
        Param::Int(key.service_id),
    ]
}

pub(crate) fn row_params(key: &DailyKey, d: &Daily) -> Vec<Param> {
    let mut row = key_params(key);
    row.extend([d.tickets, d.active, d.escalated].map(Param::Int));
    for (met, breached) in d.sla {
        row.extend([Param::Int(met), Param::Int(breached)]);
    }
    row.extend(d.reached.map(Param::Int));
    row.extend(d.escalated_from.map(Param::Int));
    row.extend(
        [
            d.reopened,
            d.first_contact,
            d.csat_responses,
            d.csat_score_sum,
            d.csat_satisfied,
        ]
        .map(Param::Int),
    );
    row.extend([&d.calendar, &d.business, &d.hours].map(|c| Param::Text(encode(c))));
    row
}

/// The name of the SQL function that adds two stored histograms ([`add_histograms`]); the
/// SQLite ticket writer registers it on its connection.
pub(crate) const HISTOGRAM_ADD: &str = "opsdesk_histogram_add";

/// Two stored histograms added slot by slot, in stored form.
pub(crate) fn add_histograms(a: &str, b: &str) -> Result<String, StoreError> {
    let mut sum = decode(a)?;
    add_counts(&mut sum, &decode(b)?, 1);
    Ok(encode(&sum))
}

/// `SET` assignments that add an upserted row to the stored one of `table`: counts add up,
/// histograms add through [`HISTOGRAM_ADD`].
fn additions(table: &str) -> String {
    COLUMNS[KEY_COLUMNS..]
        .iter()
        .map(|c| {
            if c.ends_with("_histogram") {
                // Most additions bring no histogram (a new ticket has no resolution yet).
                format!(
                    "{c} = CASE WHEN excluded.{c} = '' THEN {table}.{c} \
                     ELSE {HISTOGRAM_ADD}({table}.{c}, excluded.{c}) END"
                )
            } else {
                format!("{c} = {table}.{c} + excluded.{c}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// An upsert of one row (bound as `?1…`, in [`row_params`] order) into `grain`'s table that
/// adds the row to what is stored, with no read first (SQLite's ticket writer). Only additions
/// may use it (a row it leaves is never empty).
pub(crate) fn additive_upsert(grain: Grain) -> String {
    let placeholders: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}) DO UPDATE SET {}",
        grain.table(),
        COLUMNS.join(", "),
        placeholders.join(", "),
        grain.primary_key().join(", "),
        additions(grain.table())
    )
}

/// Adds the facts of tickets just created to every grain: one additive upsert per grain, no
/// read before the write (PostgreSQL; its migration 20 defines [`HISTOGRAM_ADD`]).
pub(crate) async fn add_new(w: &mut Write, facts: &[FactRow]) -> Result<(), StoreError> {
    let added = fold(facts);
    let backend = w.backend();
    for grain in Grain::ALL {
        let rows = grain.regroup(&added);
        for chunk in rows.iter().collect::<Vec<_>>().chunks(1000) {
            let params: Vec<Vec<Param>> = chunk.iter().map(|(k, d)| row_params(k, d)).collect();
            sqlx::query(&additive_upsert_json(grain, backend, "$1"))
                .bind(json_rows(&params))
                .execute(&mut *w.tx)
                .await?;
        }
    }
    Ok(())
}

/// An upsert of the rows bound (by [`json_rows`], in [`row_params`] order) at `placeholder`
/// into `grain`'s table that adds each to what is stored, with no read first.
pub(crate) fn additive_upsert_json(grain: Grain, backend: Backend, placeholder: &str) -> String {
    format!(
        "INSERT INTO {table} ({}) {} ON CONFLICT ({}) DO UPDATE SET {}",
        COLUMNS.join(", "),
        select_json_rows(backend, placeholder, &COLUMNS, is_text),
        grain.primary_key().join(", "),
        additions(grain.table()),
        table = grain.table(),
    )
}

/// Reads a row selected as [`COLUMNS`], from column `first` on.
fn read_row(row: &sqlx::any::AnyRow, first: usize) -> Result<(DailyKey, Daily), StoreError> {
    let int = |i: usize| row.try_get::<i64, _>(first + i);
    let cohort = match int(0)? {
        0 => Cohort::Created,
        1 => Cohort::Resolved,
        other => return Err(StoreError::Corrupt(format!("rollup cohort {other}"))),
    };
    let key = DailyKey {
        cohort,
        day: int(1)?,
        team_id: int(2)?,
        priority: int(3)?,
        tier: int(4)?,
        category: row.try_get(first + 5)?,
        assignee_id: int(6)?,
        service_id: int(7)?,
    };
    // The figures follow the key.
    let figure = |i: usize| int(KEY_COLUMNS + i);
    let mut d = Daily {
        tickets: figure(0)?,
        active: figure(1)?,
        escalated: figure(2)?,
        ..Daily::default()
    };
    for (m, slot) in d.sla.iter_mut().enumerate() {
        *slot = (figure(3 + 2 * m)?, figure(4 + 2 * m)?);
    }
    for t in 0..5 {
        d.reached[t] = figure(11 + t)?;
        d.escalated_from[t] = figure(16 + t)?;
    }
    d.reopened = figure(21)?;
    d.first_contact = figure(22)?;
    d.csat_responses = figure(23)?;
    d.csat_score_sum = figure(24)?;
    d.csat_satisfied = figure(25)?;
    let text = |i: usize| row.try_get::<String, _>(first + KEY_COLUMNS + i);
    d.calendar = decode(&text(26)?)?;
    d.business = decode(&text(27)?)?;
    d.hours = decode(&text(28)?)?;
    Ok((key, d))
}

/// `(cohort, day, …) IN (the keys bound at $1)`.
fn keys_in(backend: Backend) -> String {
    format!(
        "({}) IN ({})",
        COLUMNS[..KEY_COLUMNS].join(", "),
        select_json_rows(backend, "$1", &COLUMNS[..KEY_COLUMNS], is_text)
    )
}

/// Upserts rows (whole) into `grain`'s table and deletes the keys whose rows became empty.
async fn write_rows(
    w: &mut Write,
    grain: Grain,
    rows: &BTreeMap<DailyKey, Daily>,
) -> Result<(), StoreError> {
    let table = grain.table();
    let (empty, kept): (Vec<_>, Vec<_>) = rows.iter().partition(|(_, d)| d.tickets == 0);
    let backend = w.backend();
    for chunk in kept.chunks(1000) {
        let params: Vec<Vec<Param>> = chunk.iter().map(|(k, d)| row_params(k, d)).collect();
        let updates: Vec<String> = COLUMNS[KEY_COLUMNS..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        sqlx::query(&format!(
            "INSERT INTO {table} ({}) {} ON CONFLICT ({}) DO UPDATE SET {}",
            COLUMNS.join(", "),
            select_json_rows(backend, "$1", &COLUMNS, is_text),
            grain.primary_key().join(", "),
            updates.join(", ")
        ))
        .bind(json_rows(&params))
        .execute(&mut *w.tx)
        .await?;
    }
    for chunk in empty.chunks(1000) {
        let keys: Vec<Vec<Param>> = chunk.iter().map(|(k, _)| key_params(k)).collect();
        sqlx::query(&format!("DELETE FROM {table} WHERE {}", keys_in(backend)))
            .bind(json_rows(&keys))
            .execute(&mut *w.tx)
            .await?;
    }
    Ok(())
}

/// Moves the rollup by the difference between each ticket's old facts (none for a new one)
/// and its new facts. The caller holds the log lock, so no other writer reads these rows
/// between the read and the write.
pub(crate) async fn apply(
    w: &mut Write,
    changes: &[(Option<FactRow>, FactRow)],
) -> Result<(), StoreError> {
    let mut deltas: BTreeMap<DailyKey, Daily> = BTreeMap::new();
    for (old, new) in changes {
        for (key, daily) in old.iter().flat_map(contributions) {
            deltas.entry(key).or_default().add(&daily, -1);
        }
        for (key, daily) in contributions(new) {
            deltas.entry(key).or_default().add(&daily, 1);
        }
    }
    for grain in Grain::ALL {
        let mut moved = grain.regroup(&deltas);
        moved.retain(|_, d| *d != Daily::default());
        if moved.is_empty() {
            continue;
        }
        let keys: Vec<Vec<Param>> = moved.keys().map(key_params).collect();
        let mut rows: BTreeMap<DailyKey, Daily> = BTreeMap::new();
        for chunk in keys.chunks(1000) {
            let stored = sqlx::query(&format!(
                "SELECT {} FROM {} WHERE {}",
                COLUMNS.join(", "),
                grain.table(),
                keys_in(w.backend())
            ))
            .bind(json_rows(chunk))
            .fetch_all(&mut *w.tx)
            .await?;
            for row in &stored {
                let (key, daily) = read_row(row, 0)?;
                rows.insert(key, daily);
            }
        }
        for (key, delta) in moved {
            rows.entry(key).or_default().add(&delta, 1);
        }
        write_rows(w, grain, &rows).await?;
    }
    Ok(())
}

/// Rebuilds the whole rollup (every grain) from the facts, in `w`'s transaction (after the
/// migration that added it, on a database that already had facts); answers its detail rows.
pub(crate) async fn rebuild(w: &mut Write) -> Result<usize, StoreError> {
    w.lock_log().await?;
    for grain in Grain::ALL {
        sqlx::query(&format!("DELETE FROM {}", grain.table()))
            .execute(&mut *w.tx)
            .await?;
    }
    let mut rows: BTreeMap<DailyKey, Daily> = BTreeMap::new();
    let mut after = i64::MIN;
    loop {
        let page = sqlx::query(&format!(
            "SELECT {} FROM ticket_facts WHERE ticket_id > $1 ORDER BY ticket_id LIMIT 10000",
            FACT_COLUMNS.join(", ")
        ))
        .bind(after)
        .fetch_all(&mut *w.tx)
        .await?;
        let Some(last) = page.last() else { break };
        after = last.try_get(0)?;
        for row in &page {
            for (key, daily) in contributions(&FactRow::read(row)?) {
                rows.entry(key).or_default().add(&daily, 1);
            }
        }
    }
    let mut detail_rows = 0;
    for grain in Grain::ALL {
        let regrouped = grain.regroup(&rows);
        if grain == Grain::Detail {
            detail_rows = regrouped.len();
        }
        write_rows(w, grain, &regrouped).await?;
    }
    Ok(detail_rows)
}

/// How a report sums the rollup in SQL: the expression of each key column (a column keeps
/// its dimension, a constant sums it away), the rows to take, and the figures it needs
/// (summed; histograms joined into one `slot:count` list per group, which `decode` sums up).
pub(crate) struct Grouping {
    /// `cohort, day, team_id, priority, tier, category, assignee_id, service_id`, as SQL
    /// expressions.
    pub(crate) key: [String; KEY_COLUMNS],
    /// The rows to take (SQL; numbers only, no user input).
    pub(crate) rows: String,
    /// Which columns are read (the others come back zero or empty): summing costs per column.
    pub(crate) wanted: fn(&str) -> bool,
}

/// Every count column but `active`: what a period's totals and series read.
pub(crate) fn period_count(column: &str) -> bool {
    !is_text(column) && column != "active"
}

impl Grouping {
    /// Keeps cohort and day, sums every other dimension away.
    pub(crate) fn by_day(rows: String, wanted: fn(&str) -> bool) -> Self {
        let none = "CAST(0 AS BIGINT)".to_owned();
        Self {
            key: [
                "cohort".to_owned(),
                "day".to_owned(),
                none.clone(),
                none.clone(),
                none.clone(),
                "''".to_owned(),
                none.clone(),
                none,
            ],
            rows,
            wanted,
        }
    }

    /// Whether its key keeps `column` as it is.
    fn keeps(&self, column: &str) -> bool {
        self.key.iter().any(|k| k == column)
    }
}

/// What `grouping` selects: its key, then every figure column (summed, joined, or a blank).
fn select_list(grouping: &Grouping) -> String {
    let mut select: Vec<String> = grouping.key.to_vec();
    for column in &COLUMNS[KEY_COLUMNS..] {
        let wanted = (grouping.wanted)(column);
        select.push(match (is_text(column), wanted) {
            (false, true) => format!("CAST(SUM({column}) AS BIGINT)"),
            (false, false) => "CAST(0 AS BIGINT)".to_owned(),
            (true, true) => format!("string_agg({column}, ',')"),
            (true, false) => "''".to_owned(),
        });
    }
    select.join(", ")
}

/// Rollup rows summed by each of `groupings` within the scope, in their order: the same
/// shape as stored rows, so the summaries read both alike. From the rollup the groupings are
/// read at once (a reader each); narrowed to an organisation, they come from one query that
/// reads its facts once.
pub(crate) async fn grouped(
    pool: &sqlx::AnyPool,
    scope: &crate::report_scope::ReportScope,
    groupings: &[&Grouping],
) -> Result<Vec<Vec<(DailyKey, Daily)>>, StoreError> {
    if let Some(org_id) = scope.org_id {
        let mut out = vec![Vec::new(); groupings.len()];
        for row in organisation_query(org_id, scope, groupings)
            .query()
            .fetch_all(pool)
            .await?
        {
            let n: i64 = row.try_get(0)?;
            let rows = usize::try_from(n)
                .ok()
                .and_then(|n| out.get_mut(n))
                .ok_or_else(|| StoreError::Corrupt(format!("report grouping {n}")))?;
            rows.push(read_row(&row, 1)?);
        }
        return Ok(out);
    }
    let queries: Vec<Sql> = groupings
        .iter()
        .map(|grouping| rollup_query(scope, grouping))
        .collect();
    futures_util::future::try_join_all(queries.iter().map(|sql| async move {
        let mut rows = Vec::new();
        for row in sql.query().fetch_all(pool).await? {
            rows.push(read_row(&row, 0)?);
        }
        Ok::<_, StoreError>(rows)
    }))
    .await
}

/// `grouping` over the rollup within the scope (no organisation), from the smallest grain
/// that keeps every dimension the grouping keeps or the scope filters by.
fn rollup_query(scope: &crate::report_scope::ReportScope, grouping: &Grouping) -> Sql {
    let filters = scope.dimension_filters();
    let needed: Vec<&str> = COLUMNS[2..KEY_COLUMNS]
        .iter()
        .copied()
        .filter(|d| grouping.keeps(d) || filters.iter().any(|(f, _)| f == d))
        .collect();
    let grain = Grain::for_query(&needed);
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM {} WHERE ({})",
        select_list(grouping),
        grain.table(),
        grouping.rows
    ));
    for (column, value) in filters {
        sql.push(&format!(" AND {column} = "));
        sql.bind(value);
    }
    sql.push(" GROUP BY 1, 2, 3, 4, 5, 6, 7, 8");
    sql
}

/// `groupings` over one organisation's facts (within the rest of the scope), in one query
/// whose first column numbers the grouping of each row. The facts are read once (a
/// materialized CTE), then shaped as rollup rows, one per ticket and cohort: what
/// [`contributions`] adds to the rollup, so each grouping sums them as it sums the rollup.
/// The tests hold both paths to the same report.
fn organisation_query(
    org_id: i64,
    scope: &crate::report_scope::ReportScope,
    groupings: &[&Grouping],
) -> Sql {
    let flag = |expr: &str| format!("CASE WHEN {expr} THEN 1 ELSE 0 END");
    let slot = |column: &str| format!("COALESCE(CAST({column} AS TEXT) || ':1', '')");
    let bits = |mask: &str, name: &str| -> Vec<String> {
        (0..5)
            .map(|b| {
                format!(
                    "{} AS {name}{b}",
                    flag(&format!("({mask} & {}) <> 0", 1 << b))
                )
            })
            .collect()
    };
    let day = |column: &str| format!("{column} / {DAY_MICROS}");
    let dims = "team_id, priority, tier, category, assignee_id, service_id";
    let mut created = vec![
        "0 AS cohort".to_owned(),
        format!("{} AS day", day("created_at")),
        dims.to_owned(),
        "1 AS tickets".to_owned(),
        "active".to_owned(),
        format!("{} AS escalated", flag("escalations > 0")),
        "fr_met, fr_breached, nr_met, nr_breached, res_met, res_breached, pu_met, pu_breached"
            .to_owned(),
    ];
    // The first SELECT of a UNION names the columns: every one is named as in the rollup.
    created.extend(bits("tiers_reached", "reached_l"));
    created.extend(bits("escalated_from", "left_l"));
    created.extend([
        "0 AS reopened, 0 AS first_contact, 0 AS csat_responses, 0 AS csat_score_sum, \
         0 AS csat_satisfied"
            .to_owned(),
        format!("{} AS calendar_histogram", slot("fr_bucket")),
        format!("{} AS business_histogram", slot("fr_business_bucket")),
        format!(
            "CAST((created_at % {DAY_MICROS}) / {HOUR_MICROS} AS TEXT) || ':1' AS hour_histogram"
        ),
    ]);
    let resolved = [
        "1".to_owned(),
        day("resolved_at"),
        dims.to_owned(),
        // One ticket; no active, escalation, SLA cycle or tier figures (created rows hold them).
        format!("1{}", ", 0".repeat(2 + 8 + 5 + 5)),
        flag("reopens > 0"),
        "first_contact".to_owned(),
        flag("csat_score IS NOT NULL"),
        "COALESCE(csat_score, 0)".to_owned(),
        flag("csat_score >= 4"),
        slot("res_bucket"),
        slot("res_business_bucket"),
        "''".to_owned(),
    ];
    let mut sql = Sql::new(
        "WITH facts AS MATERIALIZED (SELECT created_at, resolved_at, team_id, priority, tier, \
         COALESCE(category, '') AS category, COALESCE(assignee_id, 0) AS assignee_id, \
         COALESCE(service_id, 0) AS service_id, active, \
         escalations, fr_met, fr_breached, nr_met, nr_breached, res_met, res_breached, pu_met, \
         pu_breached, tiers_reached, escalated_from, reopens, first_contact, csat_score, \
         fr_bucket, fr_business_bucket, res_bucket, res_business_bucket \
         FROM ticket_facts f WHERE f.org_id = ",
    );
    sql.bind(Param::Int(org_id));
    crate::report_scope::scoped(
        &mut sql,
        &crate::report_scope::ReportScope {
            org_id: None,
            ..scope.clone()
        },
    );
    sql.push(&format!(
        "), shaped AS (SELECT {} FROM facts UNION ALL SELECT {} FROM facts \
         WHERE resolved_at IS NOT NULL)",
        created.join(", "),
        resolved.join(", ")
    ));
    for (n, grouping) in groupings.iter().enumerate() {
        sql.push(&format!(
            "{} SELECT {n}, {} FROM shaped WHERE ({}) GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9",
            if n == 0 { "" } else { " UNION ALL" },
            select_list(grouping),
            grouping.rows
        ));
    }
    sql
}

/// One grain of the rollup as stored (the check compares it with a fold of the facts).
pub(crate) async fn all_rows(
    pool: &sqlx::AnyPool,
    grain: Grain,
) -> Result<BTreeMap<DailyKey, Daily>, StoreError> {
    let mut out = BTreeMap::new();
    for row in sqlx::query(&format!(
        "SELECT {} FROM {}",
        COLUMNS.join(", "),
        grain.table()
    ))
    .fetch_all(pool)
    .await?
    {
        let (key, daily) = read_row(&row, 0)?;
        out.insert(key, daily);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::Grain;

    #[test]
    fn a_query_reads_the_smallest_grain_that_keeps_its_dimensions() {
        assert_eq!(Grain::for_query(&[]), Grain::Desk);
        assert_eq!(Grain::for_query(&["team_id"]), Grain::Detail);
        assert_eq!(
            Grain::for_query(&["priority", "assignee_id"]),
            Grain::Detail
        );
        // Only tickets that name a service are in the service grains.
        assert_eq!(Grain::for_query(&["service_id"]), Grain::ServiceTeam);
        assert_eq!(
            Grain::for_query(&["team_id", "service_id"]),
            Grain::ServiceTeam
        );
        assert_eq!(
            Grain::for_query(&["category", "service_id"]),
            Grain::Service
        );
    }
}
