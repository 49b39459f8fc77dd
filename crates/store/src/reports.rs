//! What reports read: the daily rollup of the ticket facts (`report_rollup`) summed up by day,
//! breakdown key and histogram bucket, and the incident milestones. One query text serves
//! SQLite and PostgreSQL.

use jiff::{SignedDuration, Timestamp};
use sqlx::Row;

use std::collections::BTreeMap;

use crate::report_rollup::{self, Cohort, Counts, Daily, DailyKey, Grouping};
use crate::report_scope::{scoped, ReportScope};
use crate::sql::{Param, Sql};
use crate::{Store, StoreError};

/// Tickets created on one UTC day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreatedDay {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Created.
    pub created: i64,
    /// Escalated at least once.
    pub escalated: i64,
    /// Met and breached SLA cycles: first response, next response, resolution, periodic
    /// update, each as (met, breached).
    pub sla: [(i64, i64); 4],
    /// Tickets that reached each tier (L0..L4).
    pub reached: [i64; 5],
    /// Tickets escalated out of each tier.
    pub escalated_from: [i64; 5],
}

/// Tickets resolved on one UTC day (their last resolution).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedDay {
    /// Days since 1970-01-01.
    pub day: i64,
    /// Resolved.
    pub resolved: i64,
    /// Of those, reopened at least once.
    pub reopened: i64,
    /// Of those, resolved at first contact.
    pub first_contact: i64,
}

/// The day-by-day aggregates and duration histograms of one period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketAggregates {
    /// By creation day.
    pub created: Vec<CreatedDay>,
    /// By resolution day.
    pub resolved: Vec<ResolvedDay>,
    /// First response of tickets created in the period: (bucket, count).
    pub first_response: Vec<(i64, i64)>,
    /// Resolution of tickets resolved in the period: (bucket, count).
    pub resolution: Vec<(i64, i64)>,
    /// Satisfaction answers of tickets resolved in the period.
    pub csat: CsatTotals,
}

/// One row of a breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreakdownRow {
    /// The team's, assignee's or service's id (none for categories and the unassigned).
    pub id: Option<i64>,
    /// What the row is ("(none)" for no assignee or category).
    pub name: String,
    /// Created in the period.
    pub created: i64,
    /// Resolved in the period.
    pub resolved: i64,
    /// Active now.
    pub active: i64,
    /// First responses met / breached (tickets created in the period).
    pub first_response: (i64, i64),
    /// Resolutions met / breached (tickets created in the period).
    pub resolution: (i64, i64),
}

/// One incident's milestones, with one service it touched (an incident on two services
/// appears twice, once without a service if it has none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFact {
    /// The incident.
    pub id: i64,
    /// `sev1` … `sev4`.
    pub severity: String,
    /// A service it is on.
    pub service_id: Option<i64>,
    /// That service's name.
    pub service: Option<String>,
    /// Milestones.
    pub detected_at: Timestamp,
    /// First acknowledgement.
    pub acknowledged_at: Option<Timestamp>,
    /// Mitigated.
    pub mitigated_at: Option<Timestamp>,
    /// Resolved.
    pub resolved_at: Option<Timestamp>,
}

/// Time that incidents spent in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusTime {
    /// The status (`triggered` …).
    pub status: String,
    /// Incidents that left it at least once.
    pub incidents: i64,
    /// Their time in it, all stays that ended.
    pub total: SignedDuration,
    /// Incidents in it now.
    pub now_in: i64,
}

/// Everything the ticket report reads, for its period and the one before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketSummary {
    /// The period.
    pub current: TicketAggregates,
    /// The period before it.
    pub previous: TicketAggregates,
    /// Active tickets now by age in whole UTC days since their creation day: 0, 1–2, 3–6,
    /// 7–29, 30 and more.
    pub backlog_ages: [i64; 5],
    /// Per team, per assignee, per category (the period; active now), most created first.
    pub teams: Vec<BreakdownRow>,
    /// Per assignee.
    pub agents: Vec<BreakdownRow>,
    /// Per category.
    pub categories: Vec<BreakdownRow>,
    /// Per service (tickets with one).
    pub services: Vec<BreakdownRow>,
}

/// A period as days since 1970-01-01: `[from, to)`.
type Days = (i64, i64);

fn days(from: Timestamp, to: Timestamp) -> Days {
    (
        from.as_microsecond().div_euclid(DAY_MICROS),
        to.as_microsecond().div_euclid(DAY_MICROS),
    )
}

fn within(day: i64, (from, to): Days) -> bool {
    day >= from && day < to
}

/// The aggregates of one period from rollup rows (rows outside it are skipped).
fn aggregates(rows: &[(DailyKey, Daily)], period: Days, business: bool) -> TicketAggregates {
    let mut created: BTreeMap<i64, CreatedDay> = BTreeMap::new();
    let mut resolved: BTreeMap<i64, ResolvedDay> = BTreeMap::new();
    let mut first_response = Counts::new();
    let mut resolution = Counts::new();
    let mut csat = CsatTotals::default();
    for (key, d) in rows.iter().filter(|(k, _)| within(k.day, period)) {
        let histogram = if business { &d.business } else { &d.calendar };
        match key.cohort {
            Cohort::Created => {
                let day = created.entry(key.day).or_insert_with(|| CreatedDay {
                    day: key.day,
                    ..CreatedDay::default()
                });
                day.created += d.tickets;
                day.escalated += d.escalated;
                for (a, b) in day.sla.iter_mut().zip(d.sla) {
                    a.0 += b.0;
                    a.1 += b.1;
                }
                for t in 0..5 {
                    day.reached[t] += d.reached[t];
                    day.escalated_from[t] += d.escalated_from[t];
                }
                for (bucket, n) in histogram {
                    *first_response.entry(*bucket).or_insert(0) += n;
                }
            }
            Cohort::Resolved => {
                let day = resolved.entry(key.day).or_insert_with(|| ResolvedDay {
                    day: key.day,
                    ..ResolvedDay::default()
                });
                day.resolved += d.tickets;
                day.reopened += d.reopened;
                day.first_contact += d.first_contact;
                for (bucket, n) in histogram {
                    *resolution.entry(*bucket).or_insert(0) += n;
                }
                csat.responses += d.csat_responses;
                csat.score_sum += d.csat_score_sum;
                csat.satisfied += d.csat_satisfied;
            }
        }
    }
    TicketAggregates {
        created: created.into_values().collect(),
        resolved: resolved.into_values().collect(),
        first_response: first_response.into_iter().collect(),
        resolution: resolution.into_iter().collect(),
        csat,
    }
}

/// Active tickets by age (whole days from their creation day to `today`).
fn backlog_ages(rows: &[(DailyKey, Daily)], today: i64) -> [i64; 5] {
    let mut out = [0; 5];
    for (key, d) in rows.iter().filter(|(k, _)| k.cohort == Cohort::Created) {
        let bucket = match today - key.day {
            ..=0 => 0,
            1..=2 => 1,
            3..=6 => 2,
            7..=29 => 3,
            _ => 4,
        };
        out[bucket] += d.active;
    }
    out
}

/// Breakdown rows keyed by `key` (an id, or a name for categories), unnamed yet.
fn breakdown(
    rows: &[(DailyKey, Daily)],
    period: Days,
    key: impl Fn(&DailyKey) -> (Option<i64>, String),
) -> Vec<BreakdownRow> {
    let mut out: BTreeMap<(Option<i64>, String), BreakdownRow> = BTreeMap::new();
    for (k, d) in rows {
        let (id, name) = key(k);
        let row = out
            .entry((id, name.clone()))
            .or_insert_with(|| BreakdownRow {
                id,
                name,
                ..BreakdownRow::default()
            });
        match k.cohort {
            Cohort::Created => {
                row.active += d.active;
                if within(k.day, period) {
                    row.created += d.tickets;
                    row.first_response.0 += d.sla[0].0;
                    row.first_response.1 += d.sla[0].1;
                    row.resolution.0 += d.sla[2].0;
                    row.resolution.1 += d.sla[2].1;
                }
            }
            Cohort::Resolved if within(k.day, period) => row.resolved += d.tickets,
            Cohort::Resolved => {}
        }
    }
    let mut rows: Vec<BreakdownRow> = out
        .into_values()
        .filter(|r| r.created + r.resolved + r.active > 0)
        .collect();
    rows.sort_by(|a, b| {
        (b.created, b.resolved, b.active)
            .cmp(&(a.created, a.resolved, a.active))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// The rollup rows a ticket summary reads, each set summed as far as its use allows.
struct SummaryRows {
    /// By cohort and day (series, totals, histograms).
    days: Vec<(DailyKey, Daily)>,
    /// Active tickets by team, category and assignee, on one day per backlog age bucket
    /// (backlog ages; the breakdowns' active column).
    active: Vec<(DailyKey, Daily)>,
    /// The current period by cohort, team, category and assignee, on its first day
    /// (breakdowns).
    owners: Vec<(DailyKey, Daily)>,
    /// By cohort and service: the current period on its first day, active tickets of other
    /// days on the day before it (the service breakdown). `None` narrowed to an organisation:
    /// the owners and active rows keep the service there, and the breakdown reads them.
    services: Option<Vec<(DailyKey, Daily)>>,
}

impl Store {
    /// What a ticket summary of `current` (and, for totals, the `window` around it) reads on
    /// `today`: sums of the rollup (of an organisation's facts, narrowed to one).
    async fn summary_rows(
        &self,
        scope: &ReportScope,
        window: Days,
        current: Days,
        today: i64,
        business: bool,
    ) -> Result<SummaryRows, StoreError> {
        self.settle_derived().await?;
        let days = Grouping::by_day(
            format!("day >= {} AND day < {}", window.0, window.1),
            if business {
                |c| report_rollup::period_count(c) || c == "business_histogram"
            } else {
                |c| report_rollup::period_count(c) || c == "calendar_histogram"
            },
        );
        let (from, to) = current;
        let keep = |column: &str| column.to_owned();
        let none = || "CAST(0 AS BIGINT)".to_owned();
        // Narrowed to an organisation, every grouping is one more pass over its facts, while
        // keeping a dimension costs nothing: the owners and active groupings keep the service,
        // and the service breakdown is read off them instead of a grouping of its own. From the
        // rollup, keeping the service would move them to the largest grain.
        let by_organisation = scope.org_id.is_some();
        let service = || {
            if by_organisation {
                keep("service_id")
            } else {
                none()
            }
        };
        // One day per backlog age bucket (see `backlog_ages`): today, 1, 3, 7 and 30 days ago.
        let age_day = format!(
            "CAST(CASE WHEN day >= {today} THEN {today} WHEN day >= {} THEN {} \
             WHEN day >= {} THEN {} WHEN day >= {} THEN {} ELSE {} END AS BIGINT)",
            today - 2,
            today - 1,
            today - 6,
            today - 3,
            today - 29,
            today - 7,
            today - 30
        );
        let active = Grouping {
            key: [
                keep("cohort"),
                age_day,
                keep("team_id"),
                none(),
                none(),
                keep("category"),
                keep("assignee_id"),
                service(),
            ],
            rows: "cohort = 0 AND active > 0".to_owned(),
            wanted: |c| c == "active",
        };
        let owners = Grouping {
            key: [
                keep("cohort"),
                format!("CAST({from} AS BIGINT)"),
                keep("team_id"),
                none(),
                none(),
                keep("category"),
                keep("assignee_id"),
                service(),
            ],
            rows: format!("day >= {from} AND day < {to}"),
            wanted: |c| {
                matches!(
                    c,
                    "tickets" | "fr_met" | "fr_breached" | "res_met" | "res_breached"
                )
            },
        };
        // The service grain holds tickets with a service only: the service breakdown has no
        // "(none)" row. Active tickets outside the period count towards "active" alone.
        let services = Grouping {
            key: [
                keep("cohort"),
                format!(
                    "CAST(CASE WHEN day >= {from} AND day < {to} THEN {from} ELSE {} END AS BIGINT)",
                    from - 1
                ),
                none(),
                none(),
                none(),
                "''".to_owned(),
                none(),
                keep("service_id"),
            ],
            rows: format!("(day >= {from} AND day < {to}) OR (cohort = 0 AND active > 0)"),
            wanted: |c| {
                matches!(
                    c,
                    "tickets" | "active" | "fr_met" | "fr_breached" | "res_met" | "res_breached"
                )
            },
        };
        if by_organisation {
            let read =
                report_rollup::grouped(&self.read, scope, &[&days, &active, &owners]).await?;
            let [days, active, owners]: [_; 3] = read
                .try_into()
                .map_err(|_| StoreError::Corrupt("report groupings".to_owned()))?;
            return Ok(SummaryRows {
                days,
                active,
                owners,
                services: None,
            });
        }
        let read = report_rollup::grouped(&self.read, scope, &[&days, &active, &owners, &services])
            .await?;
        let [days, active, owners, services]: [_; 4] = read
            .try_into()
            .map_err(|_| StoreError::Corrupt("report groupings".to_owned()))?;
        Ok(SummaryRows {
            days,
            active,
            owners,
            services: Some(services),
        })
    }

    /// Names breakdown rows by their id from `table` (`teams` or `services`: a few rows each).
    async fn name_rows(
        &self,
        rows: &mut [BreakdownRow],
        table: &'static str,
    ) -> Result<(), StoreError> {
        let names: std::collections::HashMap<i64, String> =
            sqlx::query(&format!("SELECT id, name FROM {table}"))
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, sqlx::Error>>()?;
        for row in rows {
            row.name = row
                .id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_default();
        }
        Ok(())
    }

    /// The ticket report's figures for `current` and `previous` (each `[from, to)`, UTC day
    /// boundaries) within `scope`, with durations in business or calendar time; the backlog as
    /// of the UTC day of `now`.
    pub async fn ticket_summary(
        &self,
        scope: &ReportScope,
        current: (Timestamp, Timestamp),
        previous: (Timestamp, Timestamp),
        business: bool,
        now: Timestamp,
    ) -> Result<TicketSummary, StoreError> {
        let (cur, prev) = (days(current.0, current.1), days(previous.0, previous.1));
        let today = now.as_microsecond().div_euclid(DAY_MICROS);
        let window = (cur.0.min(prev.0), cur.1.max(prev.1));
        let rows = self
            .summary_rows(scope, window, cur, today, business)
            .await?;
        let owners = [rows.owners, rows.active.clone()].concat();
        let mut teams = breakdown(&owners, cur, |k| (Some(k.team_id), String::new()));
        self.name_rows(&mut teams, "teams").await?;
        let mut agents = breakdown(&owners, cur, |k| {
            ((k.assignee_id != 0).then_some(k.assignee_id), String::new())
        });
        let ids: Vec<i64> = agents.iter().filter_map(|r| r.id).collect();
        let mut names = std::collections::HashMap::new();
        for chunk in ids.chunks(500) {
            let mut sql = Sql::new("SELECT id, name FROM users WHERE id IN ");
            sql.bind_list(chunk.iter().map(|id| Param::Int(*id)));
            for r in sql.query().fetch_all(&self.read).await? {
                names.insert(r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?);
            }
        }
        for row in &mut agents {
            row.name = match row.id {
                Some(id) => names.get(&id).cloned().unwrap_or_default(),
                None => NONE.to_owned(),
            };
        }
        let categories = breakdown(&owners, cur, |k| {
            let name = if k.category.is_empty() {
                NONE
            } else {
                &k.category
            };
            (None, name.to_owned())
        });
        // An organisation's facts give tickets without a service rows of their own (0).
        let with_service: Vec<(DailyKey, Daily)> = rows
            .services
            .as_ref()
            .unwrap_or(&owners)
            .iter()
            .filter(|(k, _)| k.service_id != 0)
            .cloned()
            .collect();
        let mut services = breakdown(&with_service, cur, |k| (Some(k.service_id), String::new()));
        self.name_rows(&mut services, "services").await?;
        Ok(TicketSummary {
            current: aggregates(&rows.days, cur, business),
            previous: aggregates(&rows.days, prev, business),
            backlog_ages: backlog_ages(&rows.active, today),
            teams,
            agents,
            categories,
            services,
        })
    }

    /// Tickets created per UTC day in `[from, to)` within `scope`: (day number, count), days
    /// without tickets left out; and per hour of the week (UTC), Monday 00:00 = 0 … Sunday
    /// 23:00 = 167.
    pub async fn arrivals(
        &self,
        scope: &ReportScope,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<(Vec<(i64, i64)>, [i64; 168]), StoreError> {
        self.settle_derived().await?;
        let period = days(from, to);
        let created = format!("cohort = 0 AND day >= {} AND day < {}", period.0, period.1);
        let grouping = Grouping::by_day(created, |c| c == "tickets" || c == "hour_histogram");
        let rows = report_rollup::grouped(&self.read, scope, &[&grouping])
            .await?
            .concat();
        let mut per_day: BTreeMap<i64, i64> = BTreeMap::new();
        let mut per_hour = [0; 168];
        for (key, d) in &rows {
            if key.cohort != Cohort::Created || !within(key.day, period) {
                continue;
            }
            *per_day.entry(key.day).or_insert(0) += d.tickets;
            // 1970-01-01 was a Thursday: day 0 starts 72 hours into its week.
            let week_hour = (key.day + 3).rem_euclid(7) * 24;
            for (hour, n) in &d.hours {
                if let Some(slot) = usize::try_from(week_hour + hour)
                    .ok()
                    .and_then(|h| per_hour.get_mut(h))
                {
                    *slot += n;
                }
            }
        }
        Ok((
            per_day.into_iter().filter(|(_, n)| *n > 0).collect(),
            per_hour,
        ))
    }
}

/// The name of the breakdown row of tickets without an assignee or category.
const NONE: &str = "(none)";

/// One day in microseconds.
const DAY_MICROS: i64 = 86_400_000_000;

impl Store {
    /// Incidents detected in `[from, to)`, one row per service they touched, in detection
    /// order; `service_id` narrows to one service, `team_id` to one team's incidents.
    pub async fn incident_facts(
        &self,
        from: Timestamp,
        to: Timestamp,
        service_id: Option<i64>,
        team_id: Option<i64>,
    ) -> Result<Vec<IncidentFact>, StoreError> {
        let mut sql = Sql::new(
            "SELECT i.id, i.severity, s.id, s.name, i.detected_at, i.acknowledged_at, \
             i.mitigated_at, i.resolved_at FROM incidents i \
             LEFT JOIN (SELECT incident_id, service_id FROM incident_services \
                        UNION SELECT id, service_id FROM incidents WHERE service_id IS NOT NULL) x \
               ON x.incident_id = i.id \
             LEFT JOIN services s ON s.id = x.service_id WHERE i.detected_at >= ",
        );
        sql.bind(Param::Int(from.as_microsecond()))
            .push(" AND i.detected_at < ")
            .bind(Param::Int(to.as_microsecond()));
        if let Some(service) = service_id {
            sql.push(" AND s.id = ").bind(Param::Int(service));
        }
        if let Some(team) = team_id {
            sql.push(" AND i.team_id = ").bind(Param::Int(team));
        }
        sql.push(" ORDER BY i.detected_at, i.id");
        let ts = |v: Option<i64>| v.map(crate::model::ts).transpose();
        let mut out = Vec::new();
        for row in sql.query().fetch_all(&self.read).await? {
            out.push(IncidentFact {
                id: row.try_get(0)?,
                severity: row.try_get(1)?,
                service_id: row.try_get(2)?,
                service: row.try_get(3)?,
                detected_at: crate::model::ts(row.try_get(4)?)?,
                acknowledged_at: ts(row.try_get(5)?)?,
                mitigated_at: ts(row.try_get(6)?)?,
                resolved_at: ts(row.try_get(7)?)?,
            });
        }
        Ok(out)
    }

    /// Per status, the time incidents detected in `[from, to)` spent in it (stays that ended)
    /// and how many are in it now; statuses no such incident entered are left out.
    pub async fn incident_status_times(
        &self,
        from: Timestamp,
        to: Timestamp,
        service_id: Option<i64>,
        team_id: Option<i64>,
    ) -> Result<Vec<StatusTime>, StoreError> {
        let mut sql = Sql::new(
            "SELECT sp.status, \
             COUNT(DISTINCT CASE WHEN sp.until IS NOT NULL THEN sp.incident_id END), \
             CAST(COALESCE(SUM(sp.until - sp.since), 0) AS BIGINT), \
             COUNT(CASE WHEN sp.until IS NULL THEN 1 END) \
             FROM incident_status_spans sp JOIN incidents i ON i.id = sp.incident_id \
             WHERE i.detected_at >= ",
        );
        sql.bind(Param::Int(from.as_microsecond()))
            .push(" AND i.detected_at < ")
            .bind(Param::Int(to.as_microsecond()));
        if let Some(service) = service_id {
            sql.push(" AND (i.service_id = ")
                .bind(Param::Int(service))
                .push(
                    " OR EXISTS (SELECT 1 FROM incident_services x \
                     WHERE x.incident_id = i.id AND x.service_id = ",
                )
                .bind(Param::Int(service))
                .push("))");
        }
        if let Some(team) = team_id {
            sql.push(" AND i.team_id = ").bind(Param::Int(team));
        }
        sql.push(" GROUP BY sp.status");
        let mut out = Vec::new();
        for row in sql.query().fetch_all(&self.read).await? {
            out.push(StatusTime {
                status: row.try_get(0)?,
                incidents: row.try_get(1)?,
                total: SignedDuration::from_micros(row.try_get(2)?),
                now_in: row.try_get(3)?,
            });
        }
        Ok(out)
    }

    /// Action items past their due instant and not done, at `now`.
    pub async fn overdue_action_items(&self, now: Timestamp) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM action_items WHERE state = 'open' AND due_at < $1",
        )
        .bind(now.as_microsecond())
        .fetch_one(&self.read)
        .await?)
    }

    /// Builds the daily rollup from the facts when a grain of it is empty and facts exist (a
    /// database that had facts before the rollup or its grain); answers how many detail rows
    /// it wrote, if it did.
    pub(crate) async fn fill_report_rollup(
        &self,
        now: Timestamp,
    ) -> Result<Option<usize>, StoreError> {
        let mut w = self.write(None, now).await?;
        w.lock_log().await?;
        let exists =
            |table: &str| format!("SELECT COUNT(*) FROM (SELECT 1 FROM {table} LIMIT 1) x");
        let mut filled = true;
        for grain in report_rollup::Grain::ALL
            .into_iter()
            .filter(|g| g.holds_every_ticket())
        {
            let rows: i64 = sqlx::query_scalar(&exists(grain.table()))
                .fetch_one(&mut *w.tx)
                .await?;
            filled &= rows > 0;
        }
        let facts: i64 = sqlx::query_scalar(&exists("ticket_facts"))
            .fetch_one(&mut *w.tx)
            .await?;
        if filled || facts == 0 {
            return Ok(None);
        }
        let rows = report_rollup::rebuild(&mut w).await?;
        w.commit().await?;
        tracing::info!(rows, "built the report rollup from the ticket facts");
        Ok(Some(rows))
    }

    /// Rebuilds the daily rollup from the ticket facts in one transaction; answers its rows.
    pub async fn rebuild_report_rollup(&self, now: Timestamp) -> Result<usize, StoreError> {
        let mut w = self.write(None, now).await?;
        let rows = report_rollup::rebuild(&mut w).await?;
        w.commit().await?;
        Ok(rows)
    }

    /// Where the daily rollup (either grain) differs from the facts folded afresh (nothing when
    /// they agree): one line per differing row.
    pub async fn report_rollup_differences(&self) -> Result<Vec<String>, StoreError> {
        self.settle_derived().await?;
        let mut facts = Vec::new();
        for row in sqlx::query(&format!(
            "SELECT {} FROM ticket_facts",
            crate::fact_rows::COLUMNS.join(", ")
        ))
        .fetch_all(&self.read)
        .await?
        {
            facts.push(crate::fact_rows::FactRow::read(&row)?);
        }
        let folded = report_rollup::fold(&facts);
        let mut out = Vec::new();
        for grain in report_rollup::Grain::ALL {
            let expected = grain.regroup(&folded);
            let stored = report_rollup::all_rows(&self.read, grain).await?;
            let table = grain.table();
            for (key, want) in &expected {
                match stored.get(key) {
                    Some(have) if have == want => {}
                    have => out.push(format!(
                        "{table} {key:?}: stored {have:?}, facts give {want:?}"
                    )),
                }
            }
            for (key, have) in &stored {
                if !expected.contains_key(key) {
                    out.push(format!(
                        "{table} {key:?}: stored {have:?}, facts give nothing"
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Fills `ticket_facts` for up to `batch` tickets that have none (databases from before
    /// reports, and tickets written by a version that did not keep them); answers how many.
    pub async fn backfill_report_facts(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<usize, StoreError> {
        self.settle_derived().await?;
        // Looked for on a reader, outside the write transaction: on a large desk with every
        // fact in place (every start) the search reads every ticket, and writers need not
        // wait for it. A ticket given its facts meanwhile is refreshed again, to the same row.
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT t.id FROM tickets t WHERE NOT EXISTS \
             (SELECT 1 FROM ticket_facts f WHERE f.ticket_id = t.id) ORDER BY t.id LIMIT $1",
        )
        .bind(batch)
        .fetch_all(&self.read)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let mut w = self.write(None, now).await?;
        crate::clocks::refresh_clocks(&mut w, &self.sla, &ids).await?;
        w.commit().await?;
        Ok(ids.len())
    }
}

/// Active tickets of one team, priority and tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveGauge {
    /// Team name.
    pub team: String,
    /// `urgent` … `low`.
    pub priority: String,
    /// `L0` … `L4`.
    pub tier: String,
    /// Tickets.
    pub count: i64,
}

/// What `/metrics` reads from the database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricGauges {
    /// Active tickets by team, priority and tier.
    pub active_tickets: Vec<ActiveGauge>,
    /// Tickets ever created.
    pub tickets_total: i64,
    /// Breaches recorded, by metric.
    pub breaches: Vec<(String, i64)>,
    /// Unresolved incidents by severity.
    pub open_incidents: Vec<(String, i64)>,
    /// Alert deliveries received.
    pub alert_receipts: i64,
    /// Inbound mail stored.
    pub mail_received: i64,
}

impl Store {
    /// The gauges and counters `/metrics` exposes.
    pub async fn metric_gauges(&self) -> Result<MetricGauges, StoreError> {
        self.settle_derived().await?;
        let mut out = MetricGauges::default();
        let rows = sqlx::query(
            "SELECT t.name, g.priority, g.tier, g.n FROM ticket_gauges g JOIN teams t ON t.id = g.team_id \
             WHERE g.n > 0 ORDER BY 1, 2, 3",
        )
        .fetch_all(&self.read)
        .await?;
        for row in rows {
            let rank: i64 = row.try_get(1)?;
            let priority = opsdesk_domain::Priority::ALL
                .into_iter()
                .find(|p| p.rank() == rank)
                .map_or("unknown", |p| p.as_str());
            out.active_tickets.push(ActiveGauge {
                team: row.try_get(0)?,
                priority: priority.to_owned(),
                tier: format!("L{}", row.try_get::<i64, _>(2)?),
                count: row.try_get(3)?,
            });
        }
        out.tickets_total =
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM ticket_counts")
                .fetch_one(&self.read)
                .await?;
        for row in sqlx::query(
            "SELECT metric, COUNT(*) FROM sla_firings WHERE trigger_key = -1 GROUP BY metric ORDER BY 1",
        )
        .fetch_all(&self.read)
        .await?
        {
            out.breaches.push((row.try_get(0)?, row.try_get(1)?));
        }
        for row in sqlx::query(
            "SELECT severity, COUNT(*) FROM incidents WHERE status <> 'resolved' GROUP BY severity ORDER BY 1",
        )
        .fetch_all(&self.read)
        .await?
        {
            out.open_incidents.push((row.try_get(0)?, row.try_get(1)?));
        }
        out.alert_receipts =
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(receipts), 0) AS BIGINT) FROM alerts")
                .fetch_one(&self.read)
                .await?;
        out.mail_received =
            sqlx::query_scalar("SELECT COUNT(*) FROM mail_messages WHERE direction = 'in'")
                .fetch_one(&self.read)
                .await?;
        Ok(out)
    }
}

/// A customer's answer to the satisfaction survey, with its ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsatAnswer {
    /// The ticket.
    pub ticket_id: i64,
    /// Its subject.
    pub subject: String,
    /// 1–5.
    pub score: i64,
    /// What they wrote.
    pub comment: String,
    /// When.
    pub answered_at: Timestamp,
}

/// Satisfaction answers of tickets resolved in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsatTotals {
    /// Answers.
    pub responses: i64,
    /// Sum of their scores.
    pub score_sum: i64,
    /// Answers of 4 or 5.
    pub satisfied: i64,
}

impl Store {
    /// Records (or replaces) the satisfaction answer of a ticket, with a `csat.answered` event.
    pub async fn record_satisfaction(
        &self,
        ticket_id: i64,
        answer: &opsdesk_domain::report::Satisfaction,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        w.lock_log().await?;
        let before: Option<i64> =
            sqlx::query_scalar("SELECT score FROM csat_responses WHERE ticket_id = $1")
                .bind(ticket_id)
                .fetch_optional(&mut *w.tx)
                .await?;
        sqlx::query(
            "INSERT INTO csat_responses (ticket_id, score, comment, answered_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ticket_id) DO UPDATE SET score = excluded.score, comment = excluded.comment, \
             answered_at = excluded.answered_at",
        )
        .bind(ticket_id)
        .bind(i64::from(answer.score()))
        .bind(answer.comment())
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?;
        // The answer is a report fact of the ticket (satisfaction by resolution day).
        crate::clocks::refresh_clocks(&mut w, &self.sla, &[ticket_id]).await?;
        w.event(
            "ticket",
            ticket_id,
            "csat.answered",
            false,
            serde_json::json!({"before": {"score": before}, "after": {"score": answer.score(), "comment": answer.comment()}}),
        )
        .await?;
        w.commit().await
    }

    /// The latest answers with a comment, of tickets resolved in `[from, to)` within `scope`.
    pub async fn csat_comments(
        &self,
        scope: &ReportScope,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> Result<Vec<CsatAnswer>, StoreError> {
        self.settle_derived().await?;
        // Newest answers first, each checked against the period and scope, so the read stops
        // at the tenth match instead of joining every ticket resolved in the period.
        let mut sql = Sql::new(
            "SELECT c.ticket_id, t.subject, c.score, c.comment, c.answered_at FROM csat_responses c \
             JOIN tickets t ON t.id = c.ticket_id WHERE c.comment <> '' AND EXISTS \
             (SELECT 1 FROM ticket_facts f WHERE f.ticket_id = c.ticket_id AND f.resolved_at >= ",
        );
        sql.bind(Param::Int(from.as_microsecond()))
            .push(" AND f.resolved_at < ")
            .bind(Param::Int(to.as_microsecond()));
        scoped(&mut sql, scope);
        sql.push(") ORDER BY c.answered_at DESC LIMIT ")
            .bind(Param::Int(limit));
        let mut out = Vec::new();
        for row in sql.query().fetch_all(&self.read).await? {
            out.push(CsatAnswer {
                ticket_id: row.try_get(0)?,
                subject: row.try_get(1)?,
                score: row.try_get(2)?,
                comment: row.try_get(3)?,
                answered_at: crate::model::ts(row.try_get(4)?)?,
            });
        }
        Ok(out)
    }
}
