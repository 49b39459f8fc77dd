//! Reports: the filters a report takes (names on the wire become ids here), the ticket and
//! incident reports assembled from the store's aggregates with the domain's rules, the
//! comparison with the previous period, and CSV. The report structs are the API's JSON too.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::access::ReportReach;
use opsdesk_domain::report::{
    date_of_day, day_number, mean, mean_time_between, percent, Granularity, Histogram, Period,
};
use opsdesk_domain::{IncidentStatus, Priority, Severity, Tier};
use opsdesk_store::{BreakdownRow, IncidentFact, ReportScope, Store, TicketAggregates};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::{Ctx, Operator};
use crate::error::{ApiError, Checks, Code};

mod tables;

pub use tables::Table;

/// The filters of a report, as query parameters (every one optional).
#[derive(Debug, Default, Clone, Deserialize, Serialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// First day (YYYY-MM-DD, UTC); default 29 days before `to`.
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD, UTC), included; default today.
    pub to: Option<String>,
    /// `day`, `week` or `month`; default by the period's length.
    pub granularity: Option<String>,
    /// Team name.
    pub team: Option<String>,
    /// Organisation name.
    pub organization: Option<String>,
    /// `urgent`, `high`, `normal` or `low`.
    pub priority: Option<String>,
    /// `L0`–`L4` (the ticket's tier now).
    pub tier: Option<String>,
    /// Ticket category.
    pub category: Option<String>,
    /// Service name (incident reports).
    pub service: Option<String>,
    /// `business` (default) or `calendar` time for durations.
    pub time: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
    /// Which table a CSV holds: `series` (default), `teams`, `agents`, `categories`,
    /// `services`, `backlog`, `escalations`; for incidents `series`, `services`, `severities`, `statuses`; for the
    /// forecast `weeks`, `staffing`.
    pub table: Option<String>,
    /// Forecast: minutes an agent spends on a ticket (default 20).
    pub handle_minutes: Option<String>,
    /// Forecast: the first-response target to staff for, minutes (default 60).
    pub target_minutes: Option<String>,
    /// Forecast: the share to answer within the target, percent (default 80).
    pub service_level: Option<String>,
}

/// A report's filters once read: ids, the period, the cut.
#[derive(Debug, Clone)]
pub struct Filters {
    /// The period.
    pub period: Period,
    /// How the series is cut.
    pub granularity: Granularity,
    /// Which tickets (and, for incidents, its team and service).
    pub scope: ReportScope,
    /// Business time (else calendar time).
    pub business: bool,
    /// Whether CSV was asked for.
    pub csv: bool,
    /// The CSV table.
    pub table: String,
    /// What the caller asked, echoed back (for links and forms).
    pub query: ReportQuery,
}

fn day(field: &'static str, raw: &str, checks: &mut Checks) -> Option<Date> {
    match raw.trim().parse::<Date>() {
        Ok(d) => Some(d),
        Err(_) => {
            checks.fail(field, "a day as YYYY-MM-DD");
            None
        }
    }
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Reads a report's filters for `actor` (an agent's report is narrowed to their own tickets);
/// every bad field is named.
pub async fn read_filters(
    ctx: &Ctx<'_>,
    query: ReportQuery,
) -> Result<(Filters, ReportReach), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let reach = match by {
        Operator::User(actor) => actor.report_reach()?,
        Operator::Console => ReportReach::Desk,
    };
    let mut checks = Checks::default();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let to = blank(&query.to).map_or(Some(today), |raw| day("to", raw, &mut checks));
    let from = match (blank(&query.from), to) {
        (Some(raw), _) => day("from", raw, &mut checks),
        (None, Some(to)) => Some(date_of_day(day_number(to) - 29)),
        (None, None) => None,
    };
    let period = match (from, to) {
        (Some(from), Some(to)) => checks.check(Period::parse(from, to)),
        _ => None,
    };
    let granularity = match blank(&query.granularity) {
        Some(raw) => checks.check(Granularity::parse("granularity", raw)),
        None => Some(match period.map_or(30, |p| p.days()) {
            0..=62 => Granularity::Day,
            63..=366 => Granularity::Week,
            _ => Granularity::Month,
        }),
    };
    let mut scope = ReportScope::default();
    if let Some(name) = blank(&query.team) {
        match store.team_by_name(name).await? {
            Some(team) => scope.team_id = Some(team.id),
            None => checks.fail("team", format!("no team named '{name}'")),
        }
    }
    if let Some(name) = blank(&query.organization) {
        match store.org_by_name(name).await? {
            Some(org) => scope.org_id = Some(org.id),
            None => checks.fail("organization", format!("no organisation named '{name}'")),
        }
    }
    if let Some(raw) = blank(&query.priority) {
        scope.priority = checks
            .check(Priority::parse("priority", raw))
            .map(Priority::rank);
    }
    if let Some(raw) = blank(&query.tier) {
        scope.tier = checks
            .check(Tier::parse("tier", raw))
            .map(|t| i64::from(t.level()));
    }
    scope.category = blank(&query.category).map(str::to_owned);
    if let Some(name) = blank(&query.service) {
        match store.service_by_name(name).await? {
            Some(s) => scope.service_id = Some(s.id),
            None => checks.fail("service", format!("no service named '{name}'")),
        }
    }
    let business = match blank(&query.time) {
        None | Some("business") => true,
        Some("calendar") => false,
        Some(_) => {
            checks.fail("time", "business or calendar");
            true
        }
    };
    let csv = match blank(&query.format) {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            checks.fail("format", "json or csv");
            false
        }
    };
    let table = blank(&query.table).unwrap_or("series").to_owned();
    if let ReportReach::Own(user) = reach {
        scope.assignee_id = Some(user);
    }
    checks.finish()?;
    match (period, granularity) {
        (Some(period), Some(granularity)) => Ok((
            Filters {
                period,
                granularity,
                scope,
                business,
                csv,
                table,
                query,
            },
            reach,
        )),
        _ => Err(ApiError::field(Code::InvalidInput, "from", "a period")),
    }
}

/// Refuses anyone but the desk's readers (administrators, managers, auditors): `what` are
/// forecasts or metrics, which speak of the whole desk.
pub fn desk_readers_only(actor: &opsdesk_domain::Actor, what: &str) -> Result<(), ApiError> {
    match actor.report_reach()? {
        ReportReach::Desk => Ok(()),
        ReportReach::Own(_) => Err(ApiError::new(
            Code::Forbidden,
            format!("{what} are for administrators, managers and auditors."),
        )),
    }
}

/// SLA compliance of one metric.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Compliance {
    /// `first_response`, `next_response`, `resolution` or `periodic_update`.
    pub metric: String,
    /// Cycles met.
    pub met: i64,
    /// Cycles breached.
    pub breached: i64,
    /// Met over met plus breached, in percent (none without either).
    pub percent: Option<f64>,
}

/// The headline figures of a period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketTotals {
    /// Tickets created.
    pub created: i64,
    /// Tickets resolved (their last resolution in the period).
    pub resolved: i64,
    /// First response, median, seconds (tickets created in the period).
    pub first_response_median_secs: Option<i64>,
    /// First response, 90th percentile, seconds.
    pub first_response_p90_secs: Option<i64>,
    /// Resolution, median, seconds (tickets resolved in the period).
    pub resolution_median_secs: Option<i64>,
    /// Resolution, 90th percentile, seconds.
    pub resolution_p90_secs: Option<i64>,
    /// Per SLA metric (tickets created in the period).
    pub sla: Vec<Compliance>,
    /// Resolved tickets that had been reopened, percent.
    pub reopen_rate: Option<f64>,
    /// Resolved tickets resolved at first contact, percent.
    pub first_contact_rate: Option<f64>,
    /// Created tickets escalated at least once, percent.
    pub escalation_rate: Option<f64>,
    /// Satisfaction answers (tickets resolved in the period).
    pub csat_responses: i64,
    /// Their mean score, 1–5.
    pub csat_average: Option<f64>,
    /// Answers of 4 or 5, percent.
    pub csat_satisfied_percent: Option<f64>,
}

/// A satisfaction answer with a comment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CsatComment {
    /// The ticket.
    pub ticket_id: i64,
    /// Its subject.
    pub subject: String,
    /// 1–5.
    pub score: i64,
    /// What the customer wrote.
    pub comment: String,
    /// When (RFC 3339).
    pub answered_at: String,
}

/// One point of the series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SeriesPoint {
    /// The bucket's first day.
    pub start: String,
    /// Created.
    pub created: i64,
    /// Resolved.
    pub resolved: i64,
    /// First responses met / breached (tickets created in the bucket).
    pub first_response_met: i64,
    /// First responses breached.
    pub first_response_breached: i64,
    /// Resolutions met.
    pub resolution_met: i64,
    /// Resolutions breached.
    pub resolution_breached: i64,
    /// All SLA cycles met, percent.
    pub sla_percent: Option<f64>,
}

/// Active tickets of one age.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgeBucket {
    /// `<1d`, `1-3d`, `3-7d`, `7-30d`, `>30d`.
    pub age: String,
    /// Tickets.
    pub tickets: i64,
}

/// Escalations out of one tier.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TierEscalation {
    /// `L0`–`L4`.
    pub tier: String,
    /// Tickets (created in the period) that reached the tier.
    pub reached: i64,
    /// Of those, escalated out of it.
    pub escalated: i64,
    /// Percent.
    pub percent: Option<f64>,
}

/// Workload and outcomes of one team, agent or category.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakdownOut {
    /// Team, agent or category.
    pub name: String,
    /// Created in the period.
    pub created: i64,
    /// Resolved in the period.
    pub resolved: i64,
    /// Active now.
    pub active: i64,
    /// First responses within target, percent.
    pub first_response_percent: Option<f64>,
    /// Resolutions within target, percent.
    pub resolution_percent: Option<f64>,
}

/// The ticket report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketReport {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// `day`, `week` or `month`.
    pub granularity: String,
    /// `business` or `calendar`.
    pub time: String,
    /// `desk`, or `own` for an agent's own tickets.
    pub reach: String,
    /// This period.
    pub totals: TicketTotals,
    /// The period of the same length before it.
    pub previous: TicketTotals,
    /// Active tickets now.
    pub backlog: i64,
    /// Active tickets by age.
    pub backlog_ages: Vec<AgeBucket>,
    /// Created, resolved and SLA per bucket.
    pub series: Vec<SeriesPoint>,
    /// Escalation rate per tier.
    pub escalations: Vec<TierEscalation>,
    /// Per team.
    pub teams: Vec<BreakdownOut>,
    /// Per agent (assignee).
    pub agents: Vec<BreakdownOut>,
    /// Top categories.
    pub categories: Vec<BreakdownOut>,
    /// Top services (tickets that name one).
    pub services: Vec<BreakdownOut>,
    /// The latest satisfaction comments.
    pub csat_comments: Vec<CsatComment>,
}

const METRICS: [&str; 4] = [
    "first_response",
    "next_response",
    "resolution",
    "periodic_update",
];

fn secs(d: Option<SignedDuration>) -> Option<i64> {
    d.map(|d| d.as_secs())
}

fn totals(a: &TicketAggregates) -> TicketTotals {
    let csat = a.csat;
    let created: i64 = a.created.iter().map(|d| d.created).sum();
    let resolved: i64 = a.resolved.iter().map(|d| d.resolved).sum();
    let fr = Histogram::new(a.first_response.clone());
    let res = Histogram::new(a.resolution.clone());
    let sla = METRICS
        .iter()
        .enumerate()
        .map(|(i, metric)| {
            let met: i64 = a.created.iter().map(|d| d.sla[i].0).sum();
            let breached: i64 = a.created.iter().map(|d| d.sla[i].1).sum();
            Compliance {
                metric: (*metric).to_owned(),
                met,
                breached,
                percent: percent(met, met + breached),
            }
        })
        .collect();
    TicketTotals {
        created,
        resolved,
        first_response_median_secs: secs(fr.quantile(0.5)),
        first_response_p90_secs: secs(fr.quantile(0.9)),
        resolution_median_secs: secs(res.quantile(0.5)),
        resolution_p90_secs: secs(res.quantile(0.9)),
        sla,
        reopen_rate: percent(a.resolved.iter().map(|d| d.reopened).sum(), resolved),
        first_contact_rate: percent(a.resolved.iter().map(|d| d.first_contact).sum(), resolved),
        escalation_rate: percent(a.created.iter().map(|d| d.escalated).sum(), created),
        csat_responses: csat.responses,
        csat_average: (csat.responses > 0).then(|| csat.score_sum as f64 / csat.responses as f64),
        csat_satisfied_percent: percent(csat.satisfied, csat.responses),
    }
}

fn series(a: &TicketAggregates, filters: &Filters) -> Vec<SeriesPoint> {
    let g = filters.granularity;
    let starts = filters.period.buckets(g);
    let mut points: Vec<SeriesPoint> = starts
        .iter()
        .map(|s| SeriesPoint {
            start: s.to_string(),
            created: 0,
            resolved: 0,
            first_response_met: 0,
            first_response_breached: 0,
            resolution_met: 0,
            resolution_breached: 0,
            sla_percent: None,
        })
        .collect();
    let index = |day: i64| -> Option<usize> {
        let start = g.bucket_start(date_of_day(day));
        starts.binary_search(&start).ok()
    };
    let mut sla_totals = vec![(0i64, 0i64); points.len()];
    for d in &a.created {
        if let Some(i) = index(d.day) {
            points[i].created += d.created;
            points[i].first_response_met += d.sla[0].0;
            points[i].first_response_breached += d.sla[0].1;
            points[i].resolution_met += d.sla[2].0;
            points[i].resolution_breached += d.sla[2].1;
            for (met, breached) in d.sla {
                sla_totals[i].0 += met;
                sla_totals[i].1 += breached;
            }
        }
    }
    for d in &a.resolved {
        if let Some(i) = index(d.day) {
            points[i].resolved += d.resolved;
        }
    }
    for (p, (met, breached)) in points.iter_mut().zip(sla_totals) {
        p.sla_percent = percent(met, met + breached);
    }
    points
}

fn breakdown(rows: Vec<BreakdownRow>, limit: usize) -> Vec<BreakdownOut> {
    rows.into_iter()
        .take(limit)
        .map(|r| BreakdownOut {
            name: r.name,
            created: r.created,
            resolved: r.resolved,
            active: r.active,
            first_response_percent: percent(
                r.first_response.0,
                r.first_response.0 + r.first_response.1,
            ),
            resolution_percent: percent(r.resolution.0, r.resolution.0 + r.resolution.1),
        })
        .collect()
}

/// The ticket report for `filters` at `now`.
pub async fn ticket_report(
    store: &Store,
    filters: &Filters,
    reach: ReportReach,
    now: Timestamp,
) -> Result<TicketReport, ApiError> {
    let p = filters.period;
    let prev = p.previous();
    let scope = &filters.scope;
    let summary = store
        .ticket_summary(
            scope,
            (p.start(), p.end()),
            (prev.start(), prev.end()),
            filters.business,
            now,
        )
        .await?;
    let current = &summary.current;
    let ages = summary.backlog_ages;
    let mut escalations = Vec::new();
    for (t, tier) in Tier::ALL.iter().enumerate() {
        let reached: i64 = current.created.iter().map(|d| d.reached[t]).sum();
        let escalated: i64 = current.created.iter().map(|d| d.escalated_from[t]).sum();
        escalations.push(TierEscalation {
            tier: tier.to_string(),
            reached,
            escalated,
            percent: percent(escalated, reached),
        });
    }
    Ok(TicketReport {
        from: p.from.to_string(),
        to: p.to.to_string(),
        granularity: filters.granularity.as_str().to_owned(),
        time: if filters.business {
            "business"
        } else {
            "calendar"
        }
        .to_owned(),
        reach: match reach {
            ReportReach::Desk => "desk",
            ReportReach::Own(_) => "own",
        }
        .to_owned(),
        totals: totals(current),
        previous: totals(&summary.previous),
        csat_comments: store
            .csat_comments(scope, p.start(), p.end(), 10)
            .await?
            .into_iter()
            .map(|c| CsatComment {
                ticket_id: c.ticket_id,
                subject: c.subject,
                score: c.score,
                comment: c.comment,
                answered_at: c.answered_at.to_string(),
            })
            .collect(),
        backlog: ages.iter().sum(),
        backlog_ages: ["<1d", "1-3d", "3-7d", "7-30d", ">30d"]
            .iter()
            .zip(ages)
            .map(|(age, tickets)| AgeBucket {
                age: (*age).to_owned(),
                tickets,
            })
            .collect(),
        series: series(current, filters),
        escalations,
        teams: breakdown(summary.teams, 50),
        agents: breakdown(summary.agents, 100),
        categories: breakdown(summary.categories, 10),
        services: breakdown(summary.services, 10),
    })
}

/// Incident figures of one service, one severity, or all.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentStats {
    /// Service name, severity, or `all`.
    pub name: String,
    /// Incidents detected in the period.
    pub incidents: i64,
    /// By severity: SEV1, SEV2, SEV3, SEV4.
    pub by_severity: [i64; 4],
    /// Mean time to acknowledge, seconds (acknowledged incidents).
    pub mtta_secs: Option<i64>,
    /// Mean time to mitigate, seconds (mitigated incidents).
    pub mttm_secs: Option<i64>,
    /// Mean time to resolve, seconds (resolved incidents).
    pub mttr_secs: Option<i64>,
    /// Mean time between failures, seconds (services only).
    pub mtbf_secs: Option<i64>,
}

/// Incidents detected in one bucket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentPoint {
    /// The bucket's first day.
    pub start: String,
    /// By severity: SEV1, SEV2, SEV3, SEV4.
    pub by_severity: [i64; 4],
}

/// Time incidents spent in one status (stays that ended).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusTimeOut {
    /// The status, in lifecycle order: triggered, acknowledged, investigating, identified,
    /// monitoring.
    pub status: String,
    /// Incidents of the period that left it at least once.
    pub incidents: i64,
    /// Their mean time in it, seconds (all their stays there added up).
    pub mean_secs: Option<i64>,
    /// Their time in it in all, seconds.
    pub total_secs: i64,
    /// Incidents of the period in it now.
    pub now: i64,
}

/// The incident report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentReport {
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// `day`, `week` or `month`.
    pub granularity: String,
    /// All incidents of the period.
    pub totals: IncidentStats,
    /// The period before.
    pub previous: IncidentStats,
    /// Per severity.
    pub severities: Vec<IncidentStats>,
    /// Per service, most incidents first.
    pub services: Vec<IncidentStats>,
    /// Detected per bucket.
    pub series: Vec<IncidentPoint>,
    /// Time in each status before resolution.
    pub statuses: Vec<StatusTimeOut>,
    /// Action items past due and not done, now.
    pub overdue_action_items: i64,
}

fn severity_index(raw: &str) -> Option<usize> {
    Severity::ALL.iter().position(|s| s.as_str() == raw)
}

fn stats<'a>(
    name: &str,
    facts: impl Iterator<Item = &'a IncidentFact> + Clone,
    with_mtbf: bool,
) -> IncidentStats {
    let mut by_severity = [0i64; 4];
    for f in facts.clone() {
        if let Some(i) = severity_index(&f.severity) {
            by_severity[i] += 1;
        }
    }
    let since =
        |to: Option<Timestamp>, f: &IncidentFact| to.map(|t| t.duration_since(f.detected_at));
    let collect = |pick: &dyn Fn(&IncidentFact) -> Option<SignedDuration>| -> Vec<SignedDuration> {
        facts.clone().filter_map(pick).collect()
    };
    let spans: Vec<(Timestamp, Option<Timestamp>)> = facts
        .clone()
        .map(|f| (f.detected_at, f.resolved_at))
        .collect();
    IncidentStats {
        name: name.to_owned(),
        incidents: facts.clone().count() as i64,
        by_severity,
        mtta_secs: secs(mean(&collect(&|f| since(f.acknowledged_at, f)))),
        mttm_secs: secs(mean(&collect(&|f| since(f.mitigated_at, f)))),
        mttr_secs: secs(mean(&collect(&|f| since(f.resolved_at, f)))),
        mtbf_secs: if with_mtbf {
            secs(mean_time_between(&spans))
        } else {
            None
        },
    }
}

/// One row per incident (an incident on several services comes once per service).
fn distinct(facts: &[IncidentFact]) -> Vec<IncidentFact> {
    let mut seen = std::collections::HashSet::new();
    facts
        .iter()
        .filter(|f| seen.insert(f.id))
        .cloned()
        .collect()
}

/// The incident report for `filters` at `now` (the desk's; agents' own reports hold no
/// incidents).
pub async fn incident_report(
    store: &Store,
    filters: &Filters,
    now: Timestamp,
) -> Result<IncidentReport, ApiError> {
    let p = filters.period;
    let prev = p.previous();
    let team = filters.scope.team_id;
    let (facts, before, times) = tokio::try_join!(
        store.incident_facts(p.start(), p.end(), filters.scope.service_id, team),
        store.incident_facts(prev.start(), prev.end(), filters.scope.service_id, team),
        store.incident_status_times(p.start(), p.end(), filters.scope.service_id, team),
    )?;
    let statuses = IncidentStatus::ALL
        .iter()
        .filter(|s| **s != IncidentStatus::Resolved)
        .map(|s| {
            let found = times.iter().find(|t| t.status == s.as_str());
            let incidents = found.map_or(0, |t| t.incidents);
            let total = found.map_or(0, |t| t.total.as_secs());
            StatusTimeOut {
                status: s.as_str().to_owned(),
                incidents,
                mean_secs: (incidents > 0).then(|| total / incidents),
                total_secs: total,
                now: found.map_or(0, |t| t.now_in),
            }
        })
        .collect();
    let all = distinct(&facts);
    let severities = Severity::ALL
        .iter()
        .map(|s| {
            stats(
                &s.as_str().to_uppercase(),
                all.iter().filter(|f| f.severity == s.as_str()),
                false,
            )
        })
        .collect();
    let mut names: Vec<(i64, String)> = facts
        .iter()
        .filter_map(|f| Some((f.service_id?, f.service.clone()?)))
        .collect();
    names.sort();
    names.dedup();
    let mut services: Vec<IncidentStats> = names
        .iter()
        .map(|(id, name)| {
            stats(
                name,
                facts.iter().filter(|f| f.service_id == Some(*id)),
                true,
            )
        })
        .collect();
    services.sort_by(|a, b| b.incidents.cmp(&a.incidents).then(a.name.cmp(&b.name)));
    let g = filters.granularity;
    let starts = p.buckets(g);
    let mut series: Vec<IncidentPoint> = starts
        .iter()
        .map(|s| IncidentPoint {
            start: s.to_string(),
            by_severity: [0; 4],
        })
        .collect();
    for f in &all {
        let start = g.bucket_start(f.detected_at.to_zoned(jiff::tz::TimeZone::UTC).date());
        if let (Ok(i), Some(s)) = (starts.binary_search(&start), severity_index(&f.severity)) {
            series[i].by_severity[s] += 1;
        }
    }
    let previous_all = distinct(&before);
    Ok(IncidentReport {
        from: p.from.to_string(),
        to: p.to.to_string(),
        granularity: g.as_str().to_owned(),
        totals: stats("all", all.iter(), false),
        previous: stats("all", previous_all.iter(), false),
        severities,
        services,
        series,
        statuses,
        overdue_action_items: store.overdue_action_items(now).await?,
    })
}

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Tickets.
    Tickets,
    /// Incidents.
    Incidents,
    /// Arrival forecast and staffing.
    Forecast,
}

impl Kind {
    /// The report's name in file names.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Tickets => "tickets",
            Kind::Incidents => "incidents",
            Kind::Forecast => "forecast",
        }
    }

    /// Refuses a filter this report has no such field for (incidents have no organisation,
    /// priority, tier or category) rather than answering as if unfiltered.
    pub fn refuse_foreign_filters(self, filters: &Filters) -> Result<(), ApiError> {
        let scope = &filters.scope;
        let foreign = match self {
            Kind::Tickets | Kind::Forecast => vec![],
            Kind::Incidents => vec![
                ("organization", scope.org_id.is_some()),
                ("priority", scope.priority.is_some()),
                ("tier", scope.tier.is_some()),
                ("category", scope.category.is_some()),
            ],
        };
        match foreign.into_iter().find(|(_, given)| *given) {
            Some((field, _)) => Err(ApiError::field(
                Code::InvalidInput,
                field,
                format!("the {} report has no {field} filter", self.name()),
            )),
            None => Ok(()),
        }
    }

    /// Who may read it, beyond the reach [`read_filters`] gives: incidents need the right
    /// to read incidents, forecasts the whole desk.
    pub fn authorize(self, by: Operator<'_>) -> Result<(), ApiError> {
        let Operator::User(actor) = by else {
            return Ok(());
        };
        match self {
            Kind::Tickets => Ok(()),
            Kind::Incidents => Ok(actor.authorize(opsdesk_domain::Action::ReadIncidents)?),
            Kind::Forecast => desk_readers_only(actor, "Forecasts"),
        }
    }

    /// The table a CSV or the CLI shows when none is named.
    pub fn default_table(self) -> &'static str {
        match self {
            Kind::Tickets | Kind::Incidents => "series",
            Kind::Forecast => "weeks",
        }
    }
}

/// A report, built.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Built {
    /// The ticket report.
    Tickets(Box<TicketReport>),
    /// The incident report.
    Incidents(Box<IncidentReport>),
    /// The forecast.
    Forecast(Box<ForecastReport>),
}

/// Authorizes, reads the filters and builds a report: the one path of the API, the UI's CSV
/// downloads and the CLI.
pub async fn build(
    ctx: &Ctx<'_>,
    kind: Kind,
    query: ReportQuery,
) -> Result<(Filters, Built), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    kind.authorize(by)?;
    let (filters, reach) = read_filters(ctx, query).await?;
    kind.refuse_foreign_filters(&filters)?;
    let built = match kind {
        Kind::Tickets => {
            Built::Tickets(Box::new(ticket_report(store, &filters, reach, now).await?))
        }
        Kind::Incidents => Built::Incidents(Box::new(incident_report(store, &filters, now).await?)),
        Kind::Forecast => Built::Forecast(Box::new(forecast_report(store, &filters, now).await?)),
    };
    Ok((filters, built))
}

/// One week of the forecast chart: what happened, what the model says.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastWeek {
    /// The week's Monday.
    pub start: String,
    /// Tickets that arrived (past weeks).
    pub actual: Option<i64>,
    /// What the model predicts (future weeks) or predicted before seeing it (back-test weeks).
    pub predicted: Option<f64>,
    /// Lower edge of the approximate 95 % band (future weeks).
    pub low: Option<f64>,
    /// Upper edge.
    pub high: Option<f64>,
}

/// Agents needed in one hour of the week.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffingHour {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// 0–23 (UTC).
    pub hour: u8,
    /// Expected arrivals in that hour next week.
    pub arrivals: f64,
    /// Agents needed (Erlang C).
    pub agents: u32,
}

/// The arrival forecast for the next four weeks and the staffing it needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ForecastReport {
    /// Eight weeks of history (the last four also as back-test), then four forecast weeks.
    pub weeks: Vec<ForecastWeek>,
    /// Mean absolute percentage error of the back-test over the last four full weeks (weekly
    /// totals), when there was enough history.
    pub backtest_mape: Option<f64>,
    /// Days of history the model was fitted on.
    pub history_days: usize,
    /// Why there is no forecast, when there is none.
    pub note: Option<String>,
    /// Minutes per ticket.
    pub handle_minutes: f64,
    /// Response target staffed for, minutes.
    pub target_minutes: f64,
    /// Share to answer within it, percent.
    pub service_level: f64,
    /// Agents per hour of next week (168 rows, Monday 00:00 UTC first).
    pub staffing: Vec<StaffingHour>,
}

fn number(
    field: &str,
    raw: Option<&str>,
    default: f64,
    range: (f64, f64),
    checks: &mut Checks,
) -> f64 {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => default,
        Some(r) => match r.parse::<f64>() {
            Ok(v) if v >= range.0 && v <= range.1 => v,
            _ => {
                checks.fail(field, format!("a number from {} to {}", range.0, range.1));
                default
            }
        },
    }
}

/// Weeks of daily history the forecast is fitted on.
const HISTORY_WEEKS: i64 = 16;

/// The forecast of ticket arrivals (team and other filters apply; the period does not: it is
/// the last 16 full weeks) and the agents each hour of next week needs.
pub async fn forecast_report(
    store: &Store,
    filters: &Filters,
    now: Timestamp,
) -> Result<ForecastReport, ApiError> {
    use opsdesk_domain::forecast::{agents_needed, backtest, holt_winters};
    let mut checks = Checks::default();
    let q = &filters.query;
    let handle = number(
        "handle_minutes",
        q.handle_minutes.as_deref(),
        20.0,
        (1.0, 480.0),
        &mut checks,
    );
    let target = number(
        "target_minutes",
        q.target_minutes.as_deref(),
        60.0,
        (1.0, 10_080.0),
        &mut checks,
    );
    let level = number(
        "service_level",
        q.service_level.as_deref(),
        80.0,
        (1.0, 99.9),
        &mut checks,
    );
    checks.finish()?;
    // Whole weeks up to the last Monday (UTC).
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let this_monday = Granularity::Week.bucket_start(today);
    let end = day_number(this_monday);
    let start = end - HISTORY_WEEKS * 7;
    let history = Period::parse(date_of_day(start), date_of_day(end - 1))?;
    let (per_day, _) = store
        .arrivals(&filters.scope, history.start(), history.end())
        .await?;
    // Days before the first ticket are not history: the series starts at the first arrival.
    let first = per_day.first().map_or(end, |(d, _)| (*d).max(start));
    let first = start + (first - start) / 7 * 7;
    let mut series = vec![0.0; usize::try_from(end - first).unwrap_or(0)];
    for (d, n) in &per_day {
        if let Some(slot) = usize::try_from(d - first)
            .ok()
            .and_then(|i| series.get_mut(i))
        {
            *slot = *n as f64;
        }
    }
    let week_sum = |values: &[f64], w: usize| values.iter().skip(w * 7).take(7).sum::<f64>();
    let mut weeks = Vec::new();
    let past_weeks = series.len() / 7;
    let test = backtest(&series, 7, 28);
    for w in past_weeks.saturating_sub(8)..past_weeks {
        let monday = date_of_day(first + (w as i64) * 7);
        let predicted = test.as_ref().and_then(|b| {
            let offset = w.checked_sub(past_weeks - 4)?;
            Some(week_sum(&b.predicted, offset))
        });
        weeks.push(ForecastWeek {
            start: monday.to_string(),
            actual: Some(week_sum(&series, w) as i64),
            predicted,
            low: None,
            high: None,
        });
    }
    let backtest_mape = test.as_ref().and_then(|b| {
        let ratios: Vec<f64> = (0..4)
            .filter_map(|w| {
                let actual = week_sum(&b.actual, w);
                (actual > 0.0).then(|| ((week_sum(&b.predicted, w) - actual) / actual).abs())
            })
            .collect();
        (!ratios.is_empty()).then(|| 100.0 * ratios.iter().sum::<f64>() / ratios.len() as f64)
    });
    let forecast = holt_winters(&series, 7, 28);
    let note = match &forecast {
        Some(_) => None,
        None => Some("a forecast needs at least two full weeks of tickets".to_owned()),
    };
    if let Some(f) = &forecast {
        // One-step errors, taken as independent, widen a week's total by √7.
        let band = 1.96 * f.rmse * 7f64.sqrt();
        for w in 0..4 {
            let predicted = week_sum(&f.values, w);
            weeks.push(ForecastWeek {
                start: date_of_day(end + (w as i64) * 7).to_string(),
                actual: None,
                predicted: Some(predicted),
                low: Some((predicted - band).max(0.0)),
                high: Some(predicted + band),
            });
        }
    }
    // Next week's hours: the last eight weeks' pattern, scaled to the forecast's first week.
    let recent = Period::parse(date_of_day(end - 56), date_of_day(end - 1))?;
    let (_, by_hour) = store
        .arrivals(&filters.scope, recent.start(), recent.end())
        .await?;
    let recent_weeks = past_weeks.clamp(1, 8) as f64;
    let pattern_total: f64 = by_hour.iter().sum::<i64>() as f64 / recent_weeks;
    let scale = match (&forecast, pattern_total > 0.0) {
        (Some(f), true) => week_sum(&f.values, 0) / pattern_total,
        _ => 1.0,
    };
    let staffing = by_hour
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let arrivals = *n as f64 / recent_weeks * scale;
            StaffingHour {
                weekday: (i / 24) as u8,
                hour: (i % 24) as u8,
                arrivals,
                agents: agents_needed(arrivals, handle, target, level / 100.0),
            }
        })
        .collect();
    Ok(ForecastReport {
        weeks,
        backtest_mape,
        history_days: series.len(),
        note,
        handle_minutes: handle,
        target_minutes: target,
        service_level: level,
        staffing,
    })
}
