//! What reports read: aggregates over `ticket_facts` (grouped by UTC day, histogram bucket or a
//! breakdown key) and the incident milestones. One query text serves SQLite and PostgreSQL;
//! sums are cast to BIGINT because PostgreSQL sums integers as numeric.

use jiff::Timestamp;
use sqlx::Row;

use crate::sql::{Param, Sql};
use crate::{Store, StoreError};

/// Which tickets a report counts (every field narrows).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportScope {
    /// The ticket's team now.
    pub team_id: Option<i64>,
    /// The ticket's organisation.
    pub org_id: Option<i64>,
    /// Priority rank (1 = P1).
    pub priority: Option<i64>,
    /// Tier level now (0 = L0).
    pub tier: Option<i64>,
    /// Category.
    pub category: Option<String>,
    /// Assignee now (an agent's own report).
    pub assignee_id: Option<i64>,
}

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
}

/// What a breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// The ticket's team.
    Team,
    /// The ticket's assignee.
    Assignee,
    /// The ticket's category.
    Category,
}

/// One row of a breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreakdownRow {
    /// The team's or assignee's id (none for categories and the unassigned).
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
    /// Its title.
    pub title: String,
    /// `sev1` … `sev4`.
    pub severity: String,
    /// Its status now.
    pub status: String,
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

const DAY: &str = "86400000000";

fn scoped(sql: &mut Sql, scope: &ReportScope) {
    let mut eq = |column: &str, value: Option<Param>| {
        if let Some(v) = value {
            sql.push(&format!(" AND f.{column} = "));
            sql.bind(v);
        }
    };
    eq("team_id", scope.team_id.map(Param::Int));
    eq("org_id", scope.org_id.map(Param::Int));
    eq("priority", scope.priority.map(Param::Int));
    eq("tier", scope.tier.map(Param::Int));
    eq("category", scope.category.clone().map(Param::Text));
    eq("assignee_id", scope.assignee_id.map(Param::Int));
}

fn between(sql: &mut Sql, column: &str, from: Timestamp, to: Timestamp) {
    sql.push(&format!(" WHERE f.{column} >= "))
        .bind(Param::Int(from.as_microsecond()))
        .push(&format!(" AND f.{column} < "))
        .bind(Param::Int(to.as_microsecond()));
}

/// The index of the breakdown row for `id` (or, without one, `name`), added when missing.
fn slot(rows: &mut Vec<BreakdownRow>, id: Option<i64>, name: Option<String>) -> usize {
    let name = name.unwrap_or_else(|| "(none)".to_owned());
    let found = rows
        .iter()
        .position(|r| r.id == id && (id.is_some() || r.name == name));
    found.unwrap_or_else(|| {
        rows.push(BreakdownRow {
            id,
            name,
            ..BreakdownRow::default()
        });
        rows.len() - 1
    })
}

fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

fn flag(mask: &str, bit: u8) -> String {
    sum(&format!(
        "CASE WHEN ({mask} & {}) <> 0 THEN 1 ELSE 0 END",
        1 << bit
    ))
}

impl Store {
    /// Day-by-day aggregates of tickets created or resolved in `[from, to)` and their
    /// first-response and resolution histograms (business or calendar time).
    pub async fn ticket_aggregates(
        &self,
        scope: &ReportScope,
        from: Timestamp,
        to: Timestamp,
        business: bool,
    ) -> Result<TicketAggregates, StoreError> {
        let mut columns = vec![
            format!("f.created_at / {DAY}"),
            "COUNT(*)".to_owned(),
            sum("CASE WHEN f.escalations > 0 THEN 1 ELSE 0 END"),
        ];
        for m in ["fr", "nr", "res", "pu"] {
            columns.push(sum(&format!("f.{m}_met")));
            columns.push(sum(&format!("f.{m}_breached")));
        }
        for bit in 0..5 {
            columns.push(flag("f.tiers_reached", bit));
        }
        for bit in 0..5 {
            columns.push(flag("f.escalated_from", bit));
        }
        let mut sql = Sql::new(&format!(
            "SELECT {} FROM ticket_facts f",
            columns.join(", ")
        ));
        between(&mut sql, "created_at", from, to);
        scoped(&mut sql, scope);
        sql.push(&format!(" GROUP BY f.created_at / {DAY} ORDER BY 1"));
        let mut created = Vec::new();
        for row in sql.query().fetch_all(&self.read).await? {
            let get = |i: usize| row.try_get::<i64, _>(i);
            let mut day = CreatedDay {
                day: get(0)?,
                created: get(1)?,
                escalated: get(2)?,
                ..CreatedDay::default()
            };
            for m in 0..4 {
                day.sla[m] = (get(3 + 2 * m)?, get(4 + 2 * m)?);
            }
            for t in 0..5 {
                day.reached[t] = get(11 + t)?;
                day.escalated_from[t] = get(16 + t)?;
            }
            created.push(day);
        }

        let mut sql = Sql::new(&format!(
            "SELECT f.resolved_at / {DAY}, COUNT(*), {}, {} FROM ticket_facts f",
            sum("CASE WHEN f.reopens > 0 THEN 1 ELSE 0 END"),
            sum("f.first_contact")
        ));
        between(&mut sql, "resolved_at", from, to);
        scoped(&mut sql, scope);
        sql.push(&format!(" GROUP BY f.resolved_at / {DAY} ORDER BY 1"));
        let mut resolved = Vec::new();
        for row in sql.query().fetch_all(&self.read).await? {
            resolved.push(ResolvedDay {
                day: row.try_get(0)?,
                resolved: row.try_get(1)?,
                reopened: row.try_get(2)?,
                first_contact: row.try_get(3)?,
            });
        }

        let suffix = if business {
            "business_bucket"
        } else {
            "bucket"
        };
        let histogram = |cohort: &str, bucket: String| {
            let mut sql = Sql::new(&format!("SELECT {bucket}, COUNT(*) FROM ticket_facts f"));
            between(&mut sql, cohort, from, to);
            scoped(&mut sql, scope);
            sql.push(&format!(" AND {bucket} IS NOT NULL GROUP BY {bucket}"));
            sql
        };
        let mut out = TicketAggregates {
            created,
            resolved,
            ..TicketAggregates::default()
        };
        for (sql, into) in [
            (
                histogram("created_at", format!("f.fr_{suffix}")),
                &mut out.first_response,
            ),
            (
                histogram("resolved_at", format!("f.res_{suffix}")),
                &mut out.resolution,
            ),
        ] {
            for row in sql.query().fetch_all(&self.read).await? {
                into.push((row.try_get(0)?, row.try_get(1)?));
            }
        }
        Ok(out)
    }

    /// Active tickets now, by age: under 1 day, 1–3, 3–7, 7–30, over 30 days.
    pub async fn backlog_ages(
        &self,
        scope: &ReportScope,
        now: Timestamp,
    ) -> Result<[i64; 5], StoreError> {
        let day = 86_400_000_000i64;
        let edges = [1, 3, 7, 30].map(|d| Param::Int(now.as_microsecond() - d * day));
        let mut sql = Sql::new("SELECT CASE WHEN f.created_at > ");
        sql.bind(edges[0].clone())
            .push(" THEN 0 WHEN f.created_at > ")
            .bind(edges[1].clone())
            .push(" THEN 1 WHEN f.created_at > ")
            .bind(edges[2].clone())
            .push(" THEN 2 WHEN f.created_at > ")
            .bind(edges[3].clone())
            .push(" THEN 3 ELSE 4 END, COUNT(*) FROM ticket_facts f WHERE f.active = 1");
        scoped(&mut sql, scope);
        sql.push(" GROUP BY 1");
        let mut out = [0; 5];
        for row in sql.query().fetch_all(&self.read).await? {
            let bucket: i64 = row.try_get(0)?;
            if let Some(slot) = usize::try_from(bucket).ok().and_then(|b| out.get_mut(b)) {
                *slot = row.try_get(1)?;
            }
        }
        Ok(out)
    }

    /// Created, resolved and active tickets with first-response and resolution outcomes, per
    /// team, assignee or category, most created first.
    pub async fn ticket_breakdown(
        &self,
        scope: &ReportScope,
        by: Breakdown,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<BreakdownRow>, StoreError> {
        let (key, name, join) = match by {
            Breakdown::Team => (
                "f.team_id",
                "MIN(t.name)",
                " LEFT JOIN teams t ON t.id = f.team_id",
            ),
            Breakdown::Assignee => (
                "f.assignee_id",
                "MIN(u.name)",
                " LEFT JOIN users u ON u.id = f.assignee_id",
            ),
            Breakdown::Category => ("f.category", "f.category", ""),
        };
        let mut rows: Vec<BreakdownRow> = Vec::new();
        let id_of = |row: &sqlx::any::AnyRow| -> Result<Option<i64>, StoreError> {
            Ok(match by {
                Breakdown::Category => None,
                _ => row.try_get(0)?,
            })
        };
        let key_name = |row: &sqlx::any::AnyRow| -> Result<Option<String>, StoreError> {
            Ok(match by {
                Breakdown::Category => row.try_get(0)?,
                _ => row.try_get(1)?,
            })
        };
        let mut sql = Sql::new(&format!(
            "SELECT {key}, {name}, COUNT(*), {}, {}, {}, {} FROM ticket_facts f{join}",
            sum("f.fr_met"),
            sum("f.fr_breached"),
            sum("f.res_met"),
            sum("f.res_breached")
        ));
        between(&mut sql, "created_at", from, to);
        scoped(&mut sql, scope);
        sql.push(&format!(" GROUP BY {key}"));
        let created = sql.query().fetch_all(&self.read).await?;
        for row in &created {
            let i = slot(&mut rows, id_of(row)?, key_name(row)?);
            rows[i].created = row.try_get(2)?;
            rows[i].first_response = (row.try_get(3)?, row.try_get(4)?);
            rows[i].resolution = (row.try_get(5)?, row.try_get(6)?);
        }
        let mut sql = Sql::new(&format!(
            "SELECT {key}, {name}, COUNT(*) FROM ticket_facts f{join}"
        ));
        between(&mut sql, "resolved_at", from, to);
        scoped(&mut sql, scope);
        sql.push(&format!(" GROUP BY {key}"));
        let resolved = sql.query().fetch_all(&self.read).await?;
        for row in &resolved {
            let i = slot(&mut rows, id_of(row)?, key_name(row)?);
            rows[i].resolved = row.try_get(2)?;
        }
        let mut sql = Sql::new(&format!(
            "SELECT {key}, {name}, COUNT(*) FROM ticket_facts f{join} WHERE f.active = 1"
        ));
        scoped(&mut sql, scope);
        sql.push(&format!(" GROUP BY {key}"));
        let active = sql.query().fetch_all(&self.read).await?;
        for row in &active {
            let i = slot(&mut rows, id_of(row)?, key_name(row)?);
            rows[i].active = row.try_get(2)?;
        }
        rows.sort_by(|a, b| {
            (b.created, b.resolved, b.active)
                .cmp(&(a.created, a.resolved, a.active))
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(rows)
    }

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
            "SELECT i.id, i.title, i.severity, i.status, s.id, s.name, i.detected_at, i.acknowledged_at, \
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
                title: row.try_get(1)?,
                severity: row.try_get(2)?,
                status: row.try_get(3)?,
                service_id: row.try_get(4)?,
                service: row.try_get(5)?,
                detected_at: crate::model::ts(row.try_get(6)?)?,
                acknowledged_at: ts(row.try_get(7)?)?,
                mitigated_at: ts(row.try_get(8)?)?,
                resolved_at: ts(row.try_get(9)?)?,
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

    /// Fills `ticket_facts` for up to `batch` tickets that have none (databases from before
    /// reports, and tickets written by a version that did not keep them); answers how many.
    pub async fn backfill_report_facts(
        &self,
        now: Timestamp,
        batch: i64,
    ) -> Result<usize, StoreError> {
        let mut w = self.write(None, now).await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT t.id FROM tickets t WHERE NOT EXISTS \
             (SELECT 1 FROM ticket_facts f WHERE f.ticket_id = t.id) ORDER BY t.id LIMIT $1",
        )
        .bind(batch)
        .fetch_all(&mut *w.tx)
        .await?;
        if ids.is_empty() {
            return Ok(0);
        }
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

impl Store {
    /// Tickets created per UTC day in `[from, to)`: (day number, count), days without tickets
    /// left out.
    pub async fn created_per_day(
        &self,
        scope: &ReportScope,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT f.created_at / {DAY}, COUNT(*) FROM ticket_facts f"
        ));
        between(&mut sql, "created_at", from, to);
        scoped(&mut sql, scope);
        sql.push(&format!(" GROUP BY f.created_at / {DAY} ORDER BY 1"));
        let mut out = Vec::new();
        for row in sql.query().fetch_all(&self.read).await? {
            out.push((row.try_get(0)?, row.try_get(1)?));
        }
        Ok(out)
    }

    /// Tickets created in `[from, to)` per hour of the week (UTC), Monday 00:00 = 0 … Sunday
    /// 23:00 = 167.
    pub async fn created_per_hour_of_week(
        &self,
        scope: &ReportScope,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<[i64; 168], StoreError> {
        // 1970-01-01 was a Thursday: 72 hours after a Monday midnight.
        let mut sql =
            Sql::new("SELECT (f.created_at / 3600000000 + 72) % 168, COUNT(*) FROM ticket_facts f");
        between(&mut sql, "created_at", from, to);
        scoped(&mut sql, scope);
        sql.push(" GROUP BY 1");
        let mut out = [0; 168];
        for row in sql.query().fetch_all(&self.read).await? {
            let hour: i64 = row.try_get(0)?;
            if let Some(slot) = usize::try_from(hour).ok().and_then(|h| out.get_mut(h)) {
                *slot = row.try_get(1)?;
            }
        }
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

    /// Satisfaction answers of tickets resolved in `[from, to)` within `scope`.
    pub async fn csat_totals(
        &self,
        scope: &ReportScope,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<CsatTotals, StoreError> {
        let mut sql = Sql::new(&format!(
            "SELECT COUNT(*), {}, {} FROM csat_responses c JOIN ticket_facts f ON f.ticket_id = c.ticket_id",
            sum("c.score"),
            sum("CASE WHEN c.score >= 4 THEN 1 ELSE 0 END")
        ));
        between(&mut sql, "resolved_at", from, to);
        scoped(&mut sql, scope);
        let row = sql.query().fetch_one(&self.read).await?;
        Ok(CsatTotals {
            responses: row.try_get(0)?,
            score_sum: row.try_get(1)?,
            satisfied: row.try_get(2)?,
        })
    }

    /// The latest answers with a comment, of tickets resolved in `[from, to)` within `scope`.
    pub async fn csat_comments(
        &self,
        scope: &ReportScope,
        from: Timestamp,
        to: Timestamp,
        limit: i64,
    ) -> Result<Vec<CsatAnswer>, StoreError> {
        let mut sql = Sql::new(
            "SELECT c.ticket_id, t.subject, c.score, c.comment, c.answered_at FROM csat_responses c \
             JOIN ticket_facts f ON f.ticket_id = c.ticket_id JOIN tickets t ON t.id = c.ticket_id",
        );
        between(&mut sql, "resolved_at", from, to);
        scoped(&mut sql, scope);
        sql.push(" AND c.comment <> '' ORDER BY c.answered_at DESC LIMIT ")
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
