//! The public status page's data: which services are public components, incidents' public
//! updates (the first one publishes the incident), and webhook subscribers.
//!
//! Nothing internal is readable through these functions: only public services, published
//! incidents (their title, status, services and public updates) and maintenance windows.

use jiff::Timestamp;
use opsdesk_domain::status::ComponentStatus;
use opsdesk_domain::{IncidentStatus, Invalid};
use serde_json::json;
use sqlx::Row;

use crate::error::corrupt;
use crate::model::ts;
use crate::{Store, StoreError};

/// One public update of an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusUpdate {
    /// Id.
    pub id: i64,
    /// The incident.
    pub incident_id: i64,
    /// Announced status.
    pub status: IncidentStatus,
    /// Impact on the incident's components.
    pub impact: ComponentStatus,
    /// What visitors read.
    pub body: String,
    /// When.
    pub created_at: Timestamp,
}

/// A public update to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStatusUpdate {
    /// The title visitors see (kept from the first update when `None`).
    pub public_title: Option<String>,
    /// Announced status (the incident moves there).
    pub status: IncidentStatus,
    /// Impact on its components.
    pub impact: ComponentStatus,
    /// What visitors read.
    pub body: String,
}

/// A published incident as visitors see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicIncident {
    /// Id.
    pub id: i64,
    /// Title.
    pub title: String,
    /// Status.
    pub status: IncidentStatus,
    /// Affected services (public or not; the page shows only public ones).
    pub service_ids: Vec<i64>,
    /// When it was published.
    pub published_at: Timestamp,
    /// When it began (detected).
    pub started_at: Timestamp,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
    /// Public updates, newest first.
    pub updates: Vec<StatusUpdate>,
}

impl PublicIncident {
    /// The impact its latest update announced (operational once resolved).
    pub fn current_impact(&self) -> ComponentStatus {
        if self.status == IncidentStatus::Resolved {
            return ComponentStatus::Operational;
        }
        self.updates
            .first()
            .map_or(ComponentStatus::Degraded, |u| u.impact)
    }

    /// The worst impact it ever announced.
    pub fn worst_impact(&self) -> ComponentStatus {
        self.updates
            .iter()
            .map(|u| u.impact)
            .max()
            .unwrap_or(ComponentStatus::Degraded)
    }
}

fn update_row(r: &sqlx::any::AnyRow) -> Result<StatusUpdate, StoreError> {
    Ok(StatusUpdate {
        id: r.try_get(0)?,
        incident_id: r.try_get(1)?,
        status: IncidentStatus::parse("status", &r.try_get::<String, _>(2)?).map_err(corrupt)?,
        impact: ComponentStatus::parse("impact", &r.try_get::<String, _>(3)?).map_err(corrupt)?,
        body: r.try_get(4)?,
        created_at: ts(r.try_get(5)?)?,
    })
}

impl Store {
    /// Shows a service on the status page, or hides it.
    pub async fn set_service_public(
        &self,
        service: i64,
        public: bool,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(actor, now).await?;
        let changed = sqlx::query("UPDATE services SET public = $1 WHERE id = $2")
            .bind(i64::from(public))
            .bind(service)
            .execute(&mut *w.tx)
            .await?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound("service"));
        }
        w.event(
            "service",
            service,
            "service.public",
            false,
            json!({"after": public}),
        )
        .await?;
        w.commit().await
    }

    /// Ids of the services shown on the status page.
    pub async fn public_service_ids(&self) -> Result<Vec<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM services WHERE public = 1 ORDER BY lower(name)")
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Posts a public update: publishes the incident (first update), moves it to the announced
    /// status when that is a move, and queues the update for every webhook subscriber.
    pub async fn post_status_update(
        &self,
        incident: i64,
        update: &NewStatusUpdate,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<StatusUpdate, StoreError> {
        let (public_title, status, impact, body) = (
            update.public_title.as_deref(),
            update.status,
            update.impact,
            update.body.as_str(),
        );
        if body.trim().is_empty() {
            return Err(Invalid::new("body", "must not be empty").into());
        }
        let current = self.incident(incident).await?;
        let title = public_title.map(str::trim).filter(|t| !t.is_empty());
        if title.is_none() && self.public_title(incident).await?.is_none() {
            return Err(Invalid::new(
                "title",
                "the first public update names the title visitors see (internal titles stay internal)",
            )
            .into());
        }
        if current.status != status {
            current.status.move_to(status)?;
        }
        // The status move and the update commit together.
        let mut w = self.write(actor, now).await?;
        if current.status != status {
            crate::incidents::change_incident_in(
                &mut w,
                incident,
                &crate::IncidentChanges {
                    status: Some(status),
                    ..crate::IncidentChanges::default()
                },
            )
            .await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO status_updates (incident_id, status, impact, body, author_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(incident)
        .bind(status.as_str())
        .bind(impact.as_str())
        .bind(body.trim())
        .bind(actor)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await?;
        sqlx::query(
            "UPDATE incidents SET public_at = COALESCE(public_at, $1), \
             public_title = COALESCE($2, public_title) WHERE id = $3",
        )
        .bind(w.now())
        .bind(title)
        .bind(incident)
        .execute(&mut *w.tx)
        .await?;
        w.event(
            "incident",
            incident,
            "incident.public_update",
            false,
            json!({"status": status.as_str(), "impact": impact.as_str(), "body": body.trim()}),
        )
        .await?;
        let shown: String = sqlx::query_scalar("SELECT public_title FROM incidents WHERE id = $1")
            .bind(incident)
            .fetch_one(&mut *w.tx)
            .await?;
        let subscribers: Vec<(String, String)> =
            sqlx::query("SELECT kind, address FROM status_subscribers ORDER BY id")
                .fetch_all(&mut *w.tx)
                .await?
                .iter()
                .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
                .collect::<Result<_, _>>()?;
        let at = ts(w.now())?;
        let payload = json!({
            "incident": {"id": incident, "title": shown, "status": status.as_str(),
                         "impact": impact.as_str()},
            "update": {"id": id, "body": body.trim(), "created_at": at.to_string()},
        });
        for (kind, address) in subscribers {
            // E-mail subscribers get the update rendered as mail (with their unsubscribe link).
            let kind = if kind == "email" {
                "status_email"
            } else {
                "webhook"
            };
            crate::firing::queue_delivery(&mut w, kind, &address, &payload).await?;
        }
        w.commit().await?;
        self.wake.notify_one();
        Ok(StatusUpdate {
            id,
            incident_id: incident,
            status,
            impact,
            body: body.trim().to_owned(),
            created_at: at,
        })
    }

    /// An incident's public updates, newest first.
    pub async fn status_updates(&self, incident: i64) -> Result<Vec<StatusUpdate>, StoreError> {
        sqlx::query(
            "SELECT id, incident_id, status, impact, body, created_at FROM status_updates \
             WHERE incident_id = $1 ORDER BY id DESC",
        )
        .bind(incident)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(update_row)
        .collect()
    }

    /// The title visitors see, once the incident is published.
    pub async fn public_title(&self, incident: i64) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "SELECT public_title FROM incidents WHERE id = $1",
        )
        .bind(incident)
        .fetch_optional(&self.read)
        .await?
        .flatten())
    }

    /// Published incidents open now or resolved since `since`, newest first, with their updates.
    pub async fn public_incidents(
        &self,
        since: Timestamp,
    ) -> Result<Vec<PublicIncident>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, public_title, status, public_at, resolved_at, detected_at FROM incidents \
             WHERE public_at IS NOT NULL ORDER BY public_at DESC LIMIT 500",
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let updates = self.status_updates(id).await?;
            let service_ids: Vec<i64> = sqlx::query_scalar(
                "SELECT service_id FROM incident_services WHERE incident_id = $1 ORDER BY service_id",
            )
            .bind(id)
            .fetch_all(&self.read)
            .await?;
            // Visitors see what the public updates said, never the internal state: the status
            // is the latest update's, and it is over when that update says resolved.
            let Some(latest) = updates.first() else {
                continue;
            };
            let resolved_at =
                (latest.status == IncidentStatus::Resolved).then_some(latest.created_at);
            if resolved_at.is_some_and(|r| r < since) {
                continue;
            }
            out.push(PublicIncident {
                id,
                title: r.try_get(1)?,
                status: latest.status,
                service_ids,
                published_at: ts(r.try_get(3)?)?,
                started_at: ts(r.try_get(5)?)?,
                resolved_at,
                updates,
            });
        }
        Ok(out)
    }

    /// The latest public updates across incidents (the Atom feed), newest first.
    pub async fn recent_status_updates(
        &self,
        limit: i64,
    ) -> Result<Vec<(StatusUpdate, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.incident_id, u.status, u.impact, u.body, u.created_at, i.public_title \
             FROM status_updates u JOIN incidents i ON i.id = u.incident_id \
             ORDER BY u.created_at DESC, u.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((update_row(r)?, r.try_get(6)?)))
            .collect()
    }

    /// Subscribes a webhook to public updates (subscribing twice changes nothing).
    pub async fn subscribe_status(&self, url: &str, now: Timestamp) -> Result<(), StoreError> {
        self.subscribe_status_as("webhook", url, now).await
    }

    /// Subscribes a (confirmed) e-mail address to public updates.
    pub async fn subscribe_status_email(
        &self,
        email: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.subscribe_status_as("email", email, now).await
    }

    /// Ends a subscription; `false` when there was none.
    pub async fn unsubscribe_status(
        &self,
        kind: &str,
        address: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut w = self.write(None, now).await?;
        let gone = sqlx::query("DELETE FROM status_subscribers WHERE kind = $1 AND address = $2")
            .bind(kind)
            .bind(address)
            .execute(&mut *w.tx)
            .await?
            .rows_affected();
        if gone > 0 {
            w.event(
                "status_page",
                0,
                "status.unsubscribed",
                true,
                json!({"kind": kind}),
            )
            .await?;
        }
        w.commit().await?;
        Ok(gone > 0)
    }

    /// Queues the mail asking `email` to confirm a subscription, unless three were sent to
    /// it in the last day or a hundred to anyone in the last hour (so the public form cannot
    /// be used to flood someone).
    pub async fn queue_subscription_confirmation(
        &self,
        email: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut w = self.write(None, now).await?;
        let day_ago = w.now() - 86_400_000_000;
        let recent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'status_confirm' AND target = $1 AND created_at >= $2",
        )
        .bind(email)
        .bind(day_ago)
        .fetch_one(&mut *w.tx)
        .await?;
        // And at most 100 an hour in all, whoever asks.
        let hour_ago = w.now() - 3_600_000_000;
        let all: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'status_confirm' AND created_at >= $1",
        )
        .bind(hour_ago)
        .fetch_one(&mut *w.tx)
        .await?;
        if recent >= 3 || all >= 100 {
            w.tx.rollback().await?;
            return Ok(false);
        }
        crate::firing::queue_delivery(&mut w, "status_confirm", email, &json!({"email": email}))
            .await?;
        w.commit().await?;
        self.wake.notify_one();
        Ok(true)
    }

    async fn subscribe_status_as(
        &self,
        kind: &'static str,
        address: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let mut w = self.write(None, now).await?;
        let added = sqlx::query(
            "INSERT INTO status_subscribers (kind, address, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (kind, address) DO NOTHING",
        )
        .bind(kind)
        .bind(address)
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?;
        if added.rows_affected() > 0 {
            w.event(
                "status_page",
                0,
                "status.subscribed",
                true,
                json!({"kind": kind}),
            )
            .await?;
        }
        w.commit().await
    }
}
