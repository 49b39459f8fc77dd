//! A ticket's links (to other tickets, to external bugs) and the structured bug reports L3
//! files for engineering; each an event on the ticket.

use jiff::Timestamp;
use opsdesk_domain::{BugReport, ExternalUrl, Invalid, LinkKind};
use serde_json::json;
use sqlx::Row;

use crate::error::corrupt;
use crate::model::ts;
use crate::tickets::touch;
use crate::{BugReportRecord, Link, Store, StoreError};

impl Store {
    /// Links a ticket to another ticket or, for `external_bug`, to a URL.
    pub async fn add_link(
        &self,
        ticket_id: i64,
        kind: LinkKind,
        target_ticket: Option<i64>,
        url: Option<&ExternalUrl>,
        actor: i64,
        now: Timestamp,
    ) -> Result<Link, StoreError> {
        self.ticket(ticket_id).await?;
        let (target_ticket, url) = if kind.targets_url() {
            let url = url.ok_or_else(|| Invalid::new("url", "an external_bug link needs a url"))?;
            (None, Some(url.as_str().to_owned()))
        } else {
            let target = target_ticket
                .ok_or_else(|| Invalid::new("target", "this link needs a target ticket number"))?;
            if target == ticket_id {
                return Err(Invalid::new("target", "a ticket cannot link to itself").into());
            }
            self.ticket(target).await.map_err(|e| match e {
                StoreError::NotFound(_) => {
                    Invalid::new("target", format!("ticket #{target} does not exist")).into()
                }
                other => other,
            })?;
            (Some(target), None)
        };
        let mut w = self.write(Some(actor), now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ticket_links (ticket_id, kind, target_ticket_id, url, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(ticket_id)
        .bind(kind.as_str())
        .bind(target_ticket)
        .bind(url.as_deref())
        .bind(actor)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        w.event(
            "ticket",
            ticket_id,
            "link.added",
            false,
            json!({"after": {"kind": kind.as_str(), "target": target_ticket, "url": url}}),
        )
        .await?;
        touch(&mut w, ticket_id).await?;
        w.commit().await?;
        Ok(Link {
            id,
            kind,
            target_ticket_id: target_ticket,
            url,
            created_at: now,
        })
    }

    /// The links of a ticket.
    pub async fn links(&self, ticket_id: i64) -> Result<Vec<Link>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, target_ticket_id, url, created_at FROM ticket_links WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get(1)?;
                Ok(Link {
                    id: row.try_get(0)?,
                    kind: LinkKind::parse("kind", &kind).map_err(corrupt)?,
                    target_ticket_id: row.try_get(2)?,
                    url: row.try_get(3)?,
                    created_at: ts(row.try_get(4)?)?,
                })
            })
            .collect()
    }

    /// Files a bug report for engineering from a ticket; with a URL it also links the issue.
    pub async fn file_bug_report(
        &self,
        ticket_id: i64,
        report: &BugReport,
        actor: i64,
        now: Timestamp,
    ) -> Result<BugReportRecord, StoreError> {
        self.ticket(ticket_id).await?;
        let url = report.external_url.as_ref().map(|u| u.as_str().to_owned());
        let mut w = self.write(Some(actor), now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bug_reports (ticket_id, steps, expected, actual, environment, external_url, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(ticket_id)
        .bind(report.steps.as_str())
        .bind(report.expected.as_str())
        .bind(report.actual.as_str())
        .bind(report.environment.as_str())
        .bind(url.as_deref())
        .bind(actor)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        if let Some(url) = &url {
            sqlx::query(
                "INSERT INTO ticket_links (ticket_id, kind, url, created_by, created_at) VALUES ($1, 'external_bug', $2, $3, $4)",
            )
            .bind(ticket_id)
            .bind(url.as_str())
            .bind(actor)
            .bind(w.now())
            .execute(&mut *w.tx)
            .await?;
        }
        w.event(
            "ticket",
            ticket_id,
            "bug_report.filed",
            false,
            json!({"bug_report_id": id, "after": {
                "steps": report.steps.as_str(), "expected": report.expected.as_str(), "actual": report.actual.as_str(),
                "environment": report.environment.as_str(), "external_url": url,
            }}),
        )
        .await?;
        touch(&mut w, ticket_id).await?;
        w.commit().await?;
        Ok(BugReportRecord {
            id,
            ticket_id,
            steps: report.steps.as_str().to_owned(),
            expected: report.expected.as_str().to_owned(),
            actual: report.actual.as_str().to_owned(),
            environment: report.environment.as_str().to_owned(),
            external_url: url,
            created_by: actor,
            created_at: now,
        })
    }

    /// The bug reports filed from a ticket.
    pub async fn bug_reports(&self, ticket_id: i64) -> Result<Vec<BugReportRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, ticket_id, steps, expected, actual, environment, external_url, created_by, created_at \
             FROM bug_reports WHERE ticket_id = $1 ORDER BY id",
        )
        .bind(ticket_id)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(BugReportRecord {
                    id: row.try_get(0)?,
                    ticket_id: row.try_get(1)?,
                    steps: row.try_get(2)?,
                    expected: row.try_get(3)?,
                    actual: row.try_get(4)?,
                    environment: row.try_get(5)?,
                    external_url: row.try_get(6)?,
                    created_by: row.try_get(7)?,
                    created_at: ts(row.try_get(8)?)?,
                })
            })
            .collect()
    }
}
