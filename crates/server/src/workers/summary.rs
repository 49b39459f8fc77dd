//! The weekly summary: on Mondays from 07:00 UTC, last week's figures mailed to every active
//! manager and administrator through the first mailbox that sends. The week is claimed with
//! the mails in one transaction (the `weekly_summary` cursor holds the Monday's day number), so
//! two nodes or a restart never send a week twice; the first run only marks the current week.

use jiff::Timestamp;
use opsdesk_domain::access::ReportReach;
use opsdesk_domain::report::{date_of_day, day_number, Granularity, Period};
use opsdesk_domain::sla::format_duration;
use opsdesk_domain::Role;
use opsdesk_store::{OutgoingMail, ReportScope, Store};

use crate::app::reports::{incident_report, ticket_report, Filters, ReportQuery, TicketTotals};
use crate::error::ApiError;

/// The cursor that remembers the last week summarised.
const CURSOR: &str = "weekly_summary";

/// The Monday (day number) of the latest summary slot at or before `now`: Monday 07:00 UTC.
pub fn slot(now: Timestamp) -> i64 {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let monday = day_number(Granularity::Week.bucket_start(today));
    let seven = (monday * 86_400 + 7 * 3600) * 1_000_000;
    if now.as_microsecond() >= seven {
        monday
    } else {
        monday - 7
    }
}

fn duration(secs: Option<i64>) -> String {
    secs.map_or_else(
        || "–".to_owned(),
        |s| format_duration(jiff::SignedDuration::from_secs(s)),
    )
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.1} %"))
}

fn sla(t: &TicketTotals, metric: &str) -> String {
    pct(t
        .sla
        .iter()
        .find(|c| c.metric == metric)
        .and_then(|c| c.percent))
}

/// The summary text of the week starting `monday` (a day number).
pub async fn text(
    store: &Store,
    public_url: &str,
    monday: i64,
    now: Timestamp,
) -> Result<(String, String), ApiError> {
    let period = Period::parse(date_of_day(monday), date_of_day(monday + 6))?;
    let filters = Filters {
        period,
        granularity: Granularity::Day,
        scope: ReportScope::default(),
        business: true,
        csv: false,
        table: "series".to_owned(),
        query: ReportQuery::default(),
    };
    let tickets = ticket_report(store, &filters, ReportReach::Desk, now).await?;
    let incidents = incident_report(store, &filters, now).await?;
    let (t, p) = (&tickets.totals, &tickets.previous);
    let subject = format!("opsdesk weekly summary: {} to {}", period.from, period.to);
    let mut body = format!(
        "Last week at the desk ({} to {}), with the week before in brackets.\n\n\
         Tickets created     {} ({})\n\
         Tickets resolved    {} ({})\n\
         Active now          {}\n\
         First response      median {} ({}), p90 {}\n\
         Resolution          median {} ({}), p90 {}\n\
         First response SLA  {} ({})\n\
         Resolution SLA      {} ({})\n\
         Reopen rate         {}\n\
         First contact       {}\n\
         Satisfaction        {} answers, {} satisfied\n\n\
         Incidents           {} ({}), SEV1 {}\n\
         MTTA                {}\n\
         MTTR                {}\n\
         Overdue actions     {}\n",
        period.from,
        period.to,
        t.created,
        p.created,
        t.resolved,
        p.resolved,
        tickets.backlog,
        duration(t.first_response_median_secs),
        duration(p.first_response_median_secs),
        duration(t.first_response_p90_secs),
        duration(t.resolution_median_secs),
        duration(p.resolution_median_secs),
        duration(t.resolution_p90_secs),
        sla(t, "first_response"),
        sla(p, "first_response"),
        sla(t, "resolution"),
        sla(p, "resolution"),
        pct(t.reopen_rate),
        pct(t.first_contact_rate),
        t.csat_responses,
        pct(t.csat_satisfied_percent),
        incidents.totals.incidents,
        incidents.previous.incidents,
        incidents.totals.by_severity[0],
        duration(incidents.totals.mtta_secs),
        duration(incidents.totals.mttr_secs),
        incidents.overdue_action_items,
    );
    body.push_str(&format!(
        "\nThe whole report: {public_url}/reports?from={}&to={}&granularity=day\n",
        period.from, period.to
    ));
    Ok((subject, body))
}

/// Queues the summary of last week if its slot has come and it is not sent yet; answers how
/// many mails were queued.
pub async fn step(store: &Store, public_url: &str, now: Timestamp) -> Result<usize, ApiError> {
    let monday = slot(now);
    let done = store.event_cursor(CURSOR).await?;
    if done >= monday {
        return Ok(0);
    }
    if done == 0 {
        // The first run: summaries start with the next slot, never for weeks before.
        store.queue_mail(CURSOR, monday, &[], now).await?;
        return Ok(0);
    }
    let Some(mailbox) = store.sending_mailbox().await? else {
        return Ok(0);
    };
    let mut recipients = Vec::new();
    for role in [Role::Admin, Role::Manager] {
        recipients.extend(
            store
                .users(Some(role), None, 0, 1000)
                .await?
                .into_iter()
                .filter(|u| u.active),
        );
    }
    let (subject, body) = text(store, public_url, monday - 7, now).await?;
    let domain = mailbox.settings.address.domain().to_owned();
    let mails: Vec<OutgoingMail> = recipients
        .iter()
        .map(|u| OutgoingMail {
            mailbox_id: mailbox.id,
            ticket_id: None,
            ticket_message_id: None,
            message_id: crate::mail::notify::new_message_id(0, &domain),
            to: u.email.clone(),
            subject: subject.clone(),
            body: body.clone(),
            automatic: true,
            purpose: "summary",
        })
        .collect();
    store.queue_mail(CURSOR, monday, &mails, now).await?;
    Ok(mails.len())
}
