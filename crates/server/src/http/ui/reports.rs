//! Report pages: the ticket dashboard (`/reports`, its `_body` partial swapped in by htmx when a
//! filter changes), the incident report, CSV downloads and the definitions page. Filters live
//! in the URL, so a report is a link.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use jiff::SignedDuration;
use opsdesk_domain::sla::format_duration;

use super::charts::{bars, heatmap, lines, Series};
use super::session::Session;
use super::views::Chrome;
use super::{page_error, refuse_customers, render};
use crate::app::reports::{
    self as app, BreakdownOut, ForecastReport, IncidentReport, Kind, ReportQuery, TicketReport,
};
use crate::app::Ctx;
use crate::error::{ApiError, Code};
use crate::AppState;

/// The report pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports", get(tickets_page))
        .route(
            "/reports/tickets.csv",
            get(|s, session, q| csv(Kind::Tickets, s, session, q)),
        )
        .route("/reports/incidents", get(incidents_page))
        .route(
            "/reports/incidents.csv",
            get(|s, session, q| csv(Kind::Incidents, s, session, q)),
        )
        .route("/reports/forecast", get(forecast_page))
        .route(
            "/reports/forecast.csv",
            get(|s, session, q| csv(Kind::Forecast, s, session, q)),
        )
        .route("/reports/definitions", get(definitions_page))
}

/// A headline figure with the previous period's beside it.
#[derive(Debug, Clone)]
pub struct Tile {
    /// What it is.
    pub label: String,
    /// This period.
    pub value: String,
    /// The previous period.
    pub previous: String,
    /// `up`, `down` or `same`, and whether that is `good` or `bad` (or `neutral`).
    pub trend: String,
}

fn tile(
    label: &str,
    now: Option<f64>,
    before: Option<f64>,
    text: impl Fn(f64) -> String,
    higher_is_better: Option<bool>,
) -> Tile {
    let show = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), &text);
    let trend = match (now, before) {
        (Some(a), Some(b)) if (a - b).abs() > f64::EPSILON => {
            let up = a > b;
            let judgement = match higher_is_better {
                Some(better) if better == up => "good",
                Some(_) => "bad",
                None => "neutral",
            };
            format!("{} {judgement}", if up { "up" } else { "down" })
        }
        (Some(_), Some(_)) => "same neutral".to_owned(),
        _ => "neutral".to_owned(),
    };
    Tile {
        label: label.to_owned(),
        value: show(now),
        previous: show(before),
        trend,
    }
}

fn duration(secs: f64) -> String {
    format_duration(SignedDuration::from_secs(secs as i64))
}

fn pct(v: f64) -> String {
    format!("{v:.1} %")
}

fn count(v: f64) -> String {
    format!("{}", v as i64)
}

/// `1 234` style numbers are left to the table; this keeps the query for links.
fn query_string(q: &ReportQuery) -> String {
    let mut q = q.clone();
    q.format = None;
    q.table = None;
    serde_urlencoded::to_string(&q).unwrap_or_default()
}

/// One table of a report as a CSV download (the filters and `table` from the query).
async fn csv(
    kind: Kind,
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result = async {
        let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidInput, e.body_text()))?;
        let (filters, built) = app::build(&state.ctx(&session.actor), kind, q).await?;
        Ok::<_, ApiError>((built.csv(&filters.table)?, filters.table))
    }
    .await;
    match result {
        Ok((body, table)) => crate::http::download::csv(kind.name(), &table, body),
        Err(e) => page_error(e, session.chrome()),
    }
}

/// The query as read (for the filter bar and links) and the report it asks for.
async fn report(
    ctx: &Ctx<'_>,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
    kind: Kind,
) -> Result<(ReportQuery, app::Built), ApiError> {
    let Query(q) = query.map_err(|e| ApiError::new(Code::InvalidInput, e.body_text()))?;
    let (_, built) = app::build(ctx, kind, q.clone()).await?;
    Ok((q, built))
}

fn not_built(kind: Kind) -> ApiError {
    ApiError::new(
        Code::Internal,
        format!("the {} report came back as another", kind.name()),
    )
}

/// The filter bar's choices.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// Team names.
    pub teams: Vec<String>,
    /// Organisation names.
    pub orgs: Vec<String>,
    /// Service names.
    pub services: Vec<String>,
}

async fn choices(state: &AppState, session: &Session) -> Result<Choices, ApiError> {
    let ctx = state.ctx(&session.actor);
    Ok(Choices {
        teams: crate::app::directory::teams(&ctx)
            .await?
            .into_iter()
            .map(|t| t.name)
            .collect(),
        orgs: crate::app::directory::orgs(&ctx)
            .await?
            .into_iter()
            .map(|o| o.name)
            .collect(),
        services: crate::app::workspace::services(&ctx)
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect(),
    })
}

/// The ticket dashboard's body: tiles, charts with their tables, breakdowns.
#[derive(Template)]
#[template(path = "reports_body.html")]
pub struct TicketBody {
    /// The report.
    pub report: TicketReport,
    /// Headline figures.
    pub tiles: Vec<Tile>,
    /// Created vs resolved.
    pub volume_chart: String,
    /// SLA compliance per bucket.
    pub sla_chart: String,
    /// Backlog by age.
    pub backlog_chart: String,
    /// Escalation rate per tier.
    pub escalation_chart: String,
    /// Teams, agents, categories and services: (heading, table name, rows).
    pub breakdowns: Vec<(&'static str, &'static str, Vec<BreakdownOut>)>,
    /// The filters as a query string (for CSV links).
    pub query: String,
}

/// The ticket dashboard.
#[derive(Template)]
#[template(path = "reports.html")]
pub struct TicketPage {
    /// Frame.
    pub chrome: Chrome,
    /// Filters as asked.
    pub q: ReportQuery,
    /// Filter choices.
    pub choices: Choices,
    /// The body.
    pub body: TicketBody,
}

fn ticket_body(report: TicketReport, q: &ReportQuery) -> TicketBody {
    let t = &report.totals;
    let p = &report.previous;
    let f = |v: Option<i64>| v.map(|v| v as f64);
    let sla_of = |totals: &app::TicketTotals, metric: &str| {
        totals
            .sla
            .iter()
            .find(|c| c.metric == metric)
            .and_then(|c| c.percent)
    };
    let tiles = vec![
        tile(
            "Created",
            Some(t.created as f64),
            Some(p.created as f64),
            count,
            None,
        ),
        tile(
            "Resolved",
            Some(t.resolved as f64),
            Some(p.resolved as f64),
            count,
            Some(true),
        ),
        tile(
            "First response (median)",
            f(t.first_response_median_secs),
            f(p.first_response_median_secs),
            duration,
            Some(false),
        ),
        tile(
            "First response (p90)",
            f(t.first_response_p90_secs),
            f(p.first_response_p90_secs),
            duration,
            Some(false),
        ),
        tile(
            "Resolution (median)",
            f(t.resolution_median_secs),
            f(p.resolution_median_secs),
            duration,
            Some(false),
        ),
        tile(
            "Resolution (p90)",
            f(t.resolution_p90_secs),
            f(p.resolution_p90_secs),
            duration,
            Some(false),
        ),
        tile(
            "First response SLA",
            sla_of(t, "first_response"),
            sla_of(p, "first_response"),
            pct,
            Some(true),
        ),
        tile(
            "Resolution SLA",
            sla_of(t, "resolution"),
            sla_of(p, "resolution"),
            pct,
            Some(true),
        ),
        tile(
            "Reopen rate",
            t.reopen_rate,
            p.reopen_rate,
            pct,
            Some(false),
        ),
        tile(
            "First-contact resolution",
            t.first_contact_rate,
            p.first_contact_rate,
            pct,
            Some(true),
        ),
        tile(
            "Escalation rate",
            t.escalation_rate,
            p.escalation_rate,
            pct,
            None,
        ),
        tile(
            "Satisfaction (of 5)",
            t.csat_average,
            p.csat_average,
            |v| format!("{v:.2}"),
            Some(true),
        ),
        tile(
            "Satisfied (4–5)",
            t.csat_satisfied_percent,
            p.csat_satisfied_percent,
            pct,
            Some(true),
        ),
    ];
    let starts: Vec<String> = report.series.iter().map(|s| s.start.clone()).collect();
    let volume_chart = bars(
        "chart-volume",
        "Tickets created and resolved",
        &starts,
        &[
            Series {
                name: "Created".into(),
                class: "s1",
                values: report
                    .series
                    .iter()
                    .map(|s| Some(s.created as f64))
                    .collect(),
            },
            Series {
                name: "Resolved".into(),
                class: "s2",
                values: report
                    .series
                    .iter()
                    .map(|s| Some(s.resolved as f64))
                    .collect(),
            },
        ],
    );
    let share = |met: i64, breached: i64| opsdesk_domain::report::percent(met, met + breached);
    let sla_chart = lines(
        "chart-sla",
        "SLA compliance",
        &starts,
        &[
            Series {
                name: "First response".into(),
                class: "s1",
                values: report
                    .series
                    .iter()
                    .map(|s| share(s.first_response_met, s.first_response_breached))
                    .collect(),
            },
            Series {
                name: "Resolution".into(),
                class: "s2",
                values: report
                    .series
                    .iter()
                    .map(|s| share(s.resolution_met, s.resolution_breached))
                    .collect(),
            },
        ],
        Some(100.0),
        "%",
    );
    let backlog_chart = bars(
        "chart-backlog",
        "Active tickets by age",
        &report
            .backlog_ages
            .iter()
            .map(|a| a.age.clone())
            .collect::<Vec<_>>(),
        &[Series {
            name: "Active tickets".into(),
            class: "s3",
            values: report
                .backlog_ages
                .iter()
                .map(|a| Some(a.tickets as f64))
                .collect(),
        }],
    );
    let escalation_chart = bars(
        "chart-escalation",
        "Escalation rate per tier",
        &report
            .escalations
            .iter()
            .map(|e| e.tier.clone())
            .collect::<Vec<_>>(),
        &[Series {
            name: "Escalated out of the tier (%)".into(),
            class: "s4",
            values: report.escalations.iter().map(|e| e.percent).collect(),
        }],
    );
    let breakdowns = vec![
        ("Teams", "teams", report.teams.clone()),
        ("Agents", "agents", report.agents.clone()),
        ("Top categories", "categories", report.categories.clone()),
        ("Top services", "services", report.services.clone()),
    ];
    TicketBody {
        breakdowns,
        report,
        tiles,
        volume_chart,
        sla_chart,
        backlog_chart,
        escalation_chart,
        query: query_string(q),
    }
}

async fn tickets_page(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let ctx = state.ctx(&session.actor);
    let _now = ctx.now;
    let result = async {
        let (q, built) = report(&ctx, query, Kind::Tickets).await?;
        let app::Built::Tickets(report) = built else {
            return Err(not_built(Kind::Tickets));
        };
        let report = *report;
        Ok::<_, ApiError>((q, report))
    }
    .await;
    match result {
        Ok((q, report)) => {
            let body = ticket_body(report, &q);
            if headers.contains_key("hx-request") {
                return render(&body);
            }
            match choices(&state, &session).await {
                Ok(choices) => render(&TicketPage {
                    chrome: session.chrome(),
                    q,
                    choices,
                    body,
                })
                .into_response(),
                Err(e) => page_error(e, session.chrome()),
            }
        }
        Err(e) => page_error(e, session.chrome()),
    }
}

/// The incident report page.
#[derive(Template)]
#[template(path = "reports_incidents.html")]
pub struct IncidentPage {
    /// Frame.
    pub chrome: Chrome,
    /// Filters as asked.
    pub q: ReportQuery,
    /// Filter choices.
    pub choices: Choices,
    /// The report.
    pub report: IncidentReport,
    /// Headline figures.
    pub tiles: Vec<Tile>,
    /// Incidents per bucket by severity.
    pub series_chart: String,
    /// MTTA and MTTR per service.
    pub service_chart: String,
    /// Mean time in each status.
    pub status_chart: String,
    /// The filters as a query string.
    pub query: String,
}

/// A duration in seconds for a table cell.
pub fn secs_text(v: &Option<i64>) -> String {
    v.map_or_else(|| "–".to_owned(), |s| duration(s as f64))
}

/// A duration in seconds that is always there, for a table cell.
pub fn total_secs_text(v: &i64) -> String {
    duration(*v as f64)
}

async fn incidents_page(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let ctx = state.ctx(&session.actor);
    let _now = ctx.now;
    let result = async {
        let (q, built) = report(&ctx, query, Kind::Incidents).await?;
        let app::Built::Incidents(report) = built else {
            return Err(not_built(Kind::Incidents));
        };
        let report = *report;
        let t = &report.totals;
        let p = &report.previous;
        let f = |v: Option<i64>| v.map(|v| v as f64);
        let tiles = vec![
            tile(
                "Incidents",
                Some(t.incidents as f64),
                Some(p.incidents as f64),
                count,
                Some(false),
            ),
            tile(
                "SEV1",
                Some(t.by_severity[0] as f64),
                Some(p.by_severity[0] as f64),
                count,
                Some(false),
            ),
            tile(
                "MTTA",
                f(t.mtta_secs),
                f(p.mtta_secs),
                duration,
                Some(false),
            ),
            tile(
                "Time to mitigate",
                f(t.mttm_secs),
                f(p.mttm_secs),
                duration,
                Some(false),
            ),
            tile(
                "MTTR",
                f(t.mttr_secs),
                f(p.mttr_secs),
                duration,
                Some(false),
            ),
            tile(
                "Overdue action items",
                Some(report.overdue_action_items as f64),
                None,
                count,
                Some(false),
            ),
        ];
        let starts: Vec<String> = report.series.iter().map(|s| s.start.clone()).collect();
        let series_chart = bars(
            "chart-incidents",
            "Incidents by severity",
            &starts,
            &["SEV1", "SEV2", "SEV3", "SEV4"]
                .iter()
                .enumerate()
                .map(|(i, name)| Series {
                    name: (*name).to_owned(),
                    class: ["s5", "s4", "s3", "s1"][i],
                    values: report
                        .series
                        .iter()
                        .map(|s| Some(s.by_severity[i] as f64))
                        .collect(),
                })
                .collect::<Vec<_>>(),
        );
        let names: Vec<String> = report.services.iter().map(|s| s.name.clone()).collect();
        let minutes = |v: Option<i64>| v.map(|s| s as f64 / 60.0);
        let service_chart = bars(
            "chart-services",
            "MTTA and MTTR per service (minutes)",
            &names,
            &[
                Series {
                    name: "MTTA (min)".into(),
                    class: "s1",
                    values: report
                        .services
                        .iter()
                        .map(|s| minutes(s.mtta_secs))
                        .collect(),
                },
                Series {
                    name: "MTTR (min)".into(),
                    class: "s2",
                    values: report
                        .services
                        .iter()
                        .map(|s| minutes(s.mttr_secs))
                        .collect(),
                },
            ],
        );
        let statuses: Vec<String> = report.statuses.iter().map(|s| s.status.clone()).collect();
        let status_chart = bars(
            "chart-statuses",
            "Mean time in each status (minutes)",
            &statuses,
            &[Series {
                name: "Mean (min)".into(),
                class: "s3",
                values: report
                    .statuses
                    .iter()
                    .map(|s| minutes(s.mean_secs))
                    .collect(),
            }],
        );
        Ok::<_, ApiError>(IncidentPage {
            chrome: session.chrome(),
            query: query_string(&q),
            q,
            choices: choices(&state, &session).await?,
            report,
            tiles,
            series_chart,
            service_chart,
            status_chart,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => page_error(e, session.chrome()),
    }
}

/// What each figure means.
#[derive(Template)]
#[template(path = "reports_definitions.html")]
pub struct DefinitionsPage {
    /// Frame.
    pub chrome: Chrome,
}

async fn definitions_page(session: Session) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    render(&DefinitionsPage {
        chrome: session.chrome(),
    })
    .into_response()
}

/// The forecast and staffing page.
#[derive(Template)]
#[template(path = "reports_forecast.html")]
pub struct ForecastPage {
    /// Frame.
    pub chrome: Chrome,
    /// Filters as asked.
    pub q: ReportQuery,
    /// Filter choices.
    pub choices: Choices,
    /// The forecast.
    pub report: ForecastReport,
    /// Weeks: actual, back-test and forecast.
    pub weeks_chart: String,
    /// Agents per hour of next week.
    pub staffing_chart: String,
    /// The filters as a query string.
    pub query: String,
}

/// A number with one decimal, or a dash.
pub fn one_decimal(v: &Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1}"))
}

async fn forecast_page(
    State(state): State<AppState>,
    session: Session,
    query: Result<Query<ReportQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let ctx = state.ctx(&session.actor);
    let _now = ctx.now;
    let result = async {
        let (q, built) = report(&ctx, query, Kind::Forecast).await?;
        let app::Built::Forecast(report) = built else {
            return Err(not_built(Kind::Forecast));
        };
        let report = *report;
        let starts: Vec<String> = report.weeks.iter().map(|w| w.start.clone()).collect();
        let weeks_chart = lines(
            "chart-forecast",
            "Tickets per week: actual, back-test and forecast",
            &starts,
            &[
                Series {
                    name: "Actual".into(),
                    class: "s1",
                    values: report
                        .weeks
                        .iter()
                        .map(|w| w.actual.map(|a| a as f64))
                        .collect(),
                },
                Series {
                    name: "Predicted".into(),
                    class: "s3",
                    values: report.weeks.iter().map(|w| w.predicted).collect(),
                },
                Series {
                    name: "95 % band, high".into(),
                    class: "s4",
                    values: report.weeks.iter().map(|w| w.high).collect(),
                },
                Series {
                    name: "95 % band, low".into(),
                    class: "s4",
                    values: report.weeks.iter().map(|w| w.low).collect(),
                },
            ],
            None,
            "",
        );
        let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        let grid: Vec<Vec<u32>> = (0..7)
            .map(|d| {
                report
                    .staffing
                    .iter()
                    .skip(d * 24)
                    .take(24)
                    .map(|h| h.agents)
                    .collect()
            })
            .collect();
        let staffing_chart = heatmap(
            "chart-staffing",
            "Agents needed per hour next week (UTC)",
            &days.iter().map(|d| (*d).to_owned()).collect::<Vec<_>>(),
            &(0..24).map(|h| h.to_string()).collect::<Vec<_>>(),
            &grid,
        );
        Ok::<_, ApiError>(ForecastPage {
            chrome: session.chrome(),
            query: query_string(&q),
            q,
            choices: choices(&state, &session).await?,
            report,
            weeks_chart,
            staffing_chart,
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => page_error(e, session.chrome()),
    }
}
