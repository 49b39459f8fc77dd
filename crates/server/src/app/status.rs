//! The public status page: assembling what visitors see, posting public updates, components
//! and subscriptions. What is assembled here is all the page shows: only public services,
//! published incidents with their public titles and updates, and maintenance on public services.

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::status::{self, ComponentStatus};
use opsdesk_domain::{Action, ExternalUrl};
use opsdesk_store::{NewStatusUpdate, PublicIncident, StatusUpdate, Store};

use super::Ctx;
use crate::error::{ApiError, Checks, Code};
use crate::wire::desk::rfc3339;
use crate::wire::incidents::{
    ComponentOut, PublicIncidentOut, PublicMaintenanceOut, StatusPageOut, StatusUpdateIn,
    StatusUpdateOut,
};

/// Days of history per component.
pub const HISTORY_DAYS: i64 = 90;

/// The wire form of a public update.
pub fn update_out(u: &StatusUpdate) -> StatusUpdateOut {
    StatusUpdateOut {
        id: u.id,
        status: u.status.as_str().to_owned(),
        impact: u.impact.as_str().to_owned(),
        body: u.body.clone(),
        created_at: rfc3339(u.created_at),
    }
}

/// Everything the status page shows at `now`.
pub async fn page(store: &Store, now: Timestamp) -> Result<StatusPageOut, ApiError> {
    let public = store.public_service_ids().await?;
    let services = store.services().await?;
    let name = |id: i64| services.iter().find(|s| s.id == id).map(|s| s.name.clone());
    let since = now - SignedDuration::from_hours(24 * HISTORY_DAYS);
    let incidents = store.public_incidents(since).await?;
    let windows = store.maintenance_windows().await?;
    let mut components = Vec::new();
    for id in &public {
        let Some(service) = services.iter().find(|s| s.id == *id) else {
            continue;
        };
        let mine: Vec<&PublicIncident> = incidents
            .iter()
            .filter(|i| i.service_ids.contains(id))
            .collect();
        let open: Vec<ComponentStatus> = mine
            .iter()
            .filter(|i| i.resolved_at.is_none())
            .map(|i| i.current_impact())
            .collect();
        let maintenance = windows
            .iter()
            .any(|w| w.service_ids.contains(id) && w.window.active_at(now).is_some());
        let current = status::current(&open, maintenance);
        let spans: Vec<_> = mine
            .iter()
            .map(|i| (i.started_at, i.resolved_at, i.worst_impact()))
            .collect();
        components.push(ComponentOut {
            name: service.name.clone(),
            description: service.description.clone(),
            status: current.as_str().to_owned(),
            label: current.label().to_owned(),
            history: status::history(&spans, now, HISTORY_DAYS)
                .into_iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
        });
    }
    let incident_out = |i: &PublicIncident| PublicIncidentOut {
        id: i.id,
        title: i.title.clone(),
        status: i.status.as_str().to_owned(),
        impact: i.current_impact().as_str().to_owned(),
        components: i
            .service_ids
            .iter()
            .filter(|s| public.contains(s))
            .filter_map(|s| name(*s))
            .collect(),
        published_at: rfc3339(i.published_at),
        resolved_at: i.resolved_at.map(rfc3339),
        updates: i.updates.iter().map(update_out).collect(),
    };
    let recent_since = now - SignedDuration::from_hours(24 * 14);
    let active = incidents
        .iter()
        .filter(|i| i.resolved_at.is_none())
        .map(incident_out)
        .collect();
    let recent = incidents
        .iter()
        .filter(|i| i.resolved_at.is_some_and(|r| r >= recent_since))
        .map(incident_out)
        .collect();
    let horizon = now + SignedDuration::from_hours(24 * 14);
    let mut maintenance = Vec::new();
    for w in &windows {
        // Only windows wholly on public components: a window's title and description were
        // written for the desk, and one touching an internal service may name it.
        if w.service_ids.is_empty() || w.service_ids.iter().any(|s| !public.contains(s)) {
            continue;
        }
        let shown: Vec<String> = w.service_ids.iter().filter_map(|s| name(*s)).collect();
        if let Some((s, e)) = w.window.upcoming(now, 1).first().copied() {
            if s <= horizon {
                maintenance.push(PublicMaintenanceOut {
                    title: w.title.clone(),
                    description: w.description.clone(),
                    components: shown,
                    starts_at: rfc3339(s),
                    ends_at: rfc3339(e),
                    active: s <= now,
                });
            }
        }
    }
    let worst = components
        .iter()
        .filter_map(|c| ComponentStatus::parse("status", &c.status).ok())
        .max()
        .unwrap_or(ComponentStatus::Operational);
    let label = match worst {
        ComponentStatus::Operational => "All systems operational",
        ComponentStatus::UnderMaintenance => "Maintenance in progress",
        ComponentStatus::Degraded => "Degraded performance",
        ComponentStatus::PartialOutage => "Partial outage",
        ComponentStatus::MajorOutage => "Major outage",
    };
    Ok(StatusPageOut {
        status: worst.as_str().to_owned(),
        label: label.to_owned(),
        components,
        active,
        recent,
        maintenance,
    })
}

/// Posts a public update on an incident (responders).
pub async fn post_update(
    ctx: &Ctx<'_>,
    incident: i64,
    input: &StatusUpdateIn,
) -> Result<StatusUpdate, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::RespondToIncident)?;
    let mut checks = Checks::default();
    let to = checks.check(status::public_status("status", &input.status));
    let impact = checks.check(ComponentStatus::parse("impact", &input.impact));
    let body = input.body.trim();
    if body.is_empty() {
        checks.fail("body", "must not be empty");
    } else if body.len() > 5_000 {
        checks.fail("body", "at most 5,000 characters");
    }
    if input
        .title
        .as_ref()
        .is_some_and(|t| t.chars().count() > 200)
    {
        checks.fail("title", "at most 200 characters");
    }
    if input.title.as_deref().is_none_or(|t| t.trim().is_empty())
        && store.public_title(incident).await?.is_none()
    {
        checks.fail(
            "title",
            "the first public update names the title visitors see (internal titles stay internal)",
        );
    }
    let current = store.incident(incident).await?;
    if let Some(to) = to {
        if to != current.status {
            if let Err(e) = current.status.move_to(to) {
                checks.fail("status", e.reason);
            }
        }
    }
    checks.finish()?;
    let (Some(to), Some(impact)) = (to, impact) else {
        return Err(ApiError::new(Code::InvalidInput, "invalid update"));
    };
    let update = NewStatusUpdate {
        public_title: input.title.clone(),
        status: to,
        impact,
        body: body.to_owned(),
    };
    Ok(store
        .post_status_update(incident, &update, actor, now)
        .await?)
}

/// Shows a service on the status page or hides it (administrators and managers).
pub async fn set_public(ctx: &Ctx<'_>, service: i64, public: bool) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageOperations)?;
    Ok(store
        .set_service_public(service, public, actor, now)
        .await?)
}

/// Subscribes a webhook to public updates. Administrators and managers add them: a webhook
/// makes opsdesk call an address, which must not be open to anyone (visitors have the feed).
pub async fn subscribe(ctx: &Ctx<'_>, url: &str) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    by.authorize_to(Action::ManageOperations)?;
    let url = ExternalUrl::parse("webhook", url.trim())?;
    Ok(store.subscribe_status(url.as_str(), now).await?)
}

/// Subscribes an e-mail address directly (administrators and managers: no confirmation).
pub async fn subscribe_email(ctx: &Ctx<'_>, email: &str) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    by.authorize_to(Action::ManageOperations)?;
    let email = opsdesk_domain::Email::parse("email", email)?;
    Ok(store.subscribe_status_email(email.as_str(), now).await?)
}

/// What a subscription link does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    /// Confirms a subscription asked for on the public page.
    Confirm,
    /// Ends one (every update mail carries it).
    Unsubscribe,
}

impl Subscription {
    fn word(self) -> &'static str {
        match self {
            Subscription::Confirm => "confirm",
            Subscription::Unsubscribe => "unsubscribe",
        }
    }
}

/// The signed link that confirms or ends `email`'s subscription (no sign-in needed).
pub fn subscription_link(base: &str, secret: &str, action: Subscription, email: &str) -> String {
    let sig = crate::paging::sign(secret, &format!("status:{}:{email}", action.word()));
    let path = match action {
        Subscription::Confirm => "subscribe/confirm",
        Subscription::Unsubscribe => "unsubscribe",
    };
    let mut query = url_query(&[("email", email), ("sig", &sig)]);
    query.insert(0, '?');
    format!("{}/status/{path}{query}", base.trim_end_matches('/'))
}

fn url_query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

/// Whether `sig` signs that subscription link.
pub fn subscription_link_is_valid(
    secret: &str,
    action: Subscription,
    email: &str,
    sig: &str,
) -> bool {
    crate::paging::verify(secret, &format!("status:{}:{email}", action.word()), sig)
}

/// The subject and text of a status mail queued as `kind` (`status_confirm`, `status_email`)
/// for `to`.
pub fn render_mail(
    kind: &str,
    to: &str,
    payload: &str,
    base: &str,
    secret: &str,
) -> Result<(String, String), String> {
    let v: serde_json::Value = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let page = format!("{}/status", base.trim_end_matches('/'));
    if kind == "status_confirm" {
        return Ok((
            "Confirm your subscription to status updates".into(),
            format!(
                "Someone (we hope you) asked for status updates at {page} to be mailed to {to}.\n\n\
                 Confirm: {}\n\nIf it was not you, ignore this mail: nothing will be sent.\n",
                subscription_link(base, secret, Subscription::Confirm, to)
            ),
        ));
    }
    let incident = &v["incident"];
    let title = incident["title"].as_str().unwrap_or("Incident");
    let status = incident["status"].as_str().unwrap_or_default();
    let id = incident["id"].as_i64().unwrap_or(0);
    Ok((
        format!("[{status}] {title}"),
        format!(
            "{title} — {status} (impact: {})\n\n{}\n\nDetails: {page}/incidents/{id}\n\n--\nUnsubscribe: {}\n",
            incident["impact"].as_str().unwrap_or_default(),
            v["update"]["body"].as_str().unwrap_or_default(),
            subscription_link(base, secret, Subscription::Unsubscribe, to)
        ),
    ))
}

/// An incident's public updates, newest first (staff).
pub async fn updates(ctx: &Ctx<'_>, incident_id: i64) -> Result<Vec<StatusUpdate>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    ctx.store.incident(incident_id).await?;
    Ok(ctx.store.status_updates(incident_id).await?)
}

/// A visitor asks for status mail at `email`: a confirmation link is mailed (at most three a
/// day per address). `false` when this desk sends no mail.
pub async fn request_subscription(
    store: &Store,
    email: &opsdesk_domain::Email,
    now: Timestamp,
) -> Result<bool, ApiError> {
    if store.sending_mailbox().await?.is_none() {
        return Ok(false);
    }
    store
        .queue_subscription_confirmation(email.as_str(), now)
        .await?;
    Ok(true)
}

/// Carries out a subscription link whose signature [`subscription_link_is_valid`] checked:
/// the address starts or stops getting every public update.
pub async fn follow_subscription_link(
    store: &Store,
    action: Subscription,
    email: &str,
    now: Timestamp,
) -> Result<(), ApiError> {
    match action {
        Subscription::Confirm => store.subscribe_status_email(email, now).await?,
        Subscription::Unsubscribe => {
            store.unsubscribe_status("email", email, now).await?;
        }
    }
    Ok(())
}

/// The latest public updates with their incidents' titles, newest first (the Atom feed).
pub async fn feed(store: &Store, limit: i64) -> Result<Vec<(StatusUpdate, String)>, ApiError> {
    Ok(store.recent_status_updates(limit).await?)
}
