//! A report's tables (the same numbers as its JSON) and their CSV: RFC 4180 by the `csv`
//! crate, CRLF line ends, spreadsheet formulas defused.

use std::fmt::Display;

use super::{BreakdownOut, Built, ForecastReport, IncidentReport, IncidentStats, TicketReport};
use crate::error::{ApiError, Code};

/// A field a spreadsheet would run as a formula, made text (a leading apostrophe).
fn defused(raw: &str) -> std::borrow::Cow<'_, str> {
    if raw.starts_with(['=', '+', '-', '@']) && raw.parse::<f64>().is_err() {
        format!("'{raw}").into()
    } else {
        raw.into()
    }
}

fn num<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// A table as CSV (RFC 4180 by the `csv` crate, CRLF line ends), formulas defused.
fn to_csv(header: &[&str], rows: &[Vec<String>]) -> Result<String, ApiError> {
    let failed = |e: &dyn Display| ApiError::new(Code::Internal, format!("CSV not written: {e}"));
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    out.write_record(header).map_err(|e| failed(&e))?;
    for row in rows {
        out.write_record(row.iter().map(|f| defused(f).into_owned()))
            .map_err(|e| failed(&e))?;
    }
    let bytes = out.into_inner().map_err(|e| failed(&e))?;
    String::from_utf8(bytes).map_err(|e| failed(&e))
}

/// A table's header and rows.
pub type Table = (Vec<&'static str>, Vec<Vec<String>>);

fn table_of(header: &[&'static str], rows: Vec<Vec<String>>) -> Table {
    (header.to_vec(), rows)
}

impl Built {
    /// One of its tables (the same numbers as the JSON).
    pub fn table(&self, table: &str) -> Result<Table, ApiError> {
        match self {
            Built::Tickets(r) => ticket_table(r, table),
            Built::Incidents(r) => incident_table(r, table),
            Built::Forecast(r) => forecast_table(r, table),
        }
    }

    /// One of its tables as CSV.
    pub fn csv(&self, table: &str) -> Result<String, ApiError> {
        let (header, rows) = self.table(table)?;
        to_csv(&header, &rows)
    }
}

/// One table of the ticket report: `series`, `teams`, `agents`, `categories`, `services`,
/// `backlog` or `escalations`.
fn ticket_table(report: &TicketReport, table: &str) -> Result<Table, ApiError> {
    let breakdown_rows = |rows: &[BreakdownOut]| {
        rows.iter()
            .map(|r| {
                vec![
                    r.name.clone(),
                    r.created.to_string(),
                    r.resolved.to_string(),
                    r.active.to_string(),
                    num(r.first_response_percent),
                    num(r.resolution_percent),
                ]
            })
            .collect()
    };
    let breakdown_header = [
        "name",
        "created",
        "resolved",
        "active",
        "first_response_percent",
        "resolution_percent",
    ];
    Ok(match table {
        "series" => table_of(
            &[
                "start",
                "created",
                "resolved",
                "first_response_met",
                "first_response_breached",
                "resolution_met",
                "resolution_breached",
                "sla_percent",
            ],
            report
                .series
                .iter()
                .map(|p| {
                    vec![
                        p.start.clone(),
                        p.created.to_string(),
                        p.resolved.to_string(),
                        p.first_response_met.to_string(),
                        p.first_response_breached.to_string(),
                        p.resolution_met.to_string(),
                        p.resolution_breached.to_string(),
                        num(p.sla_percent),
                    ]
                })
                .collect(),
        ),
        "teams" => table_of(&breakdown_header, breakdown_rows(&report.teams)),
        "agents" => table_of(&breakdown_header, breakdown_rows(&report.agents)),
        "categories" => table_of(&breakdown_header, breakdown_rows(&report.categories)),
        "services" => table_of(&breakdown_header, breakdown_rows(&report.services)),
        "backlog" => table_of(
            &["age", "tickets"],
            report
                .backlog_ages
                .iter()
                .map(|a| vec![a.age.clone(), a.tickets.to_string()])
                .collect(),
        ),
        "escalations" => table_of(
            &["tier", "reached", "escalated", "percent"],
            report
                .escalations
                .iter()
                .map(|e| {
                    vec![
                        e.tier.clone(),
                        e.reached.to_string(),
                        e.escalated.to_string(),
                        num(e.percent),
                    ]
                })
                .collect(),
        ),
        _ => {
            return Err(table_error(
                "series, teams, agents, categories, services, backlog, escalations",
            ))
        }
    })
}

fn table_error(tables: &str) -> ApiError {
    ApiError::field(Code::InvalidInput, "table", format!("one of {tables}"))
}

/// One table of the incident report: `series`, `services`, `severities` or `statuses`.
fn incident_table(report: &IncidentReport, table: &str) -> Result<Table, ApiError> {
    let stat_rows = |rows: &[IncidentStats]| {
        rows.iter()
            .map(|s| {
                let mut row = vec![s.name.clone(), s.incidents.to_string()];
                row.extend(s.by_severity.iter().map(|n| n.to_string()));
                row.extend([
                    num(s.mtta_secs),
                    num(s.mttm_secs),
                    num(s.mttr_secs),
                    num(s.mtbf_secs),
                ]);
                row
            })
            .collect()
    };
    let header = [
        "name",
        "incidents",
        "sev1",
        "sev2",
        "sev3",
        "sev4",
        "mtta_secs",
        "mttm_secs",
        "mttr_secs",
        "mtbf_secs",
    ];
    Ok(match table {
        "series" => table_of(
            &["start", "sev1", "sev2", "sev3", "sev4"],
            report
                .series
                .iter()
                .map(|p| {
                    let mut row = vec![p.start.clone()];
                    row.extend(p.by_severity.iter().map(|n| n.to_string()));
                    row
                })
                .collect(),
        ),
        "services" => table_of(&header, stat_rows(&report.services)),
        "severities" => table_of(&header, stat_rows(&report.severities)),
        "statuses" => table_of(
            &["status", "incidents", "mean_secs", "total_secs", "now"],
            report
                .statuses
                .iter()
                .map(|s| {
                    vec![
                        s.status.clone(),
                        s.incidents.to_string(),
                        num(s.mean_secs),
                        s.total_secs.to_string(),
                        s.now.to_string(),
                    ]
                })
                .collect(),
        ),
        _ => return Err(table_error("series, services, severities, statuses")),
    })
}

/// One table of the forecast: `weeks` or `staffing`.
fn forecast_table(report: &ForecastReport, table: &str) -> Result<Table, ApiError> {
    let f = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    Ok(match table {
        "weeks" | "series" => table_of(
            &["start", "actual", "predicted", "low", "high"],
            report
                .weeks
                .iter()
                .map(|w| {
                    vec![
                        w.start.clone(),
                        num(w.actual),
                        f(w.predicted),
                        f(w.low),
                        f(w.high),
                    ]
                })
                .collect(),
        ),
        "staffing" => table_of(
            &["weekday", "hour", "arrivals", "agents"],
            report
                .staffing
                .iter()
                .map(|h| {
                    vec![
                        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][usize::from(h.weekday)]
                            .to_owned(),
                        h.hour.to_string(),
                        format!("{:.2}", h.arrivals),
                        h.agents.to_string(),
                    ]
                })
                .collect(),
        ),
        _ => return Err(table_error("weeks, staffing")),
    })
}
