//! What the staff's pages read, one call a page: the ticket workspace (a ticket with its
//! conversation, links, clocks, mail and incidents), the queue counts and the incident war room.

use std::collections::BTreeMap;

use opsdesk_domain::{Action, Severity, Status};
use opsdesk_store::{
    AlertRecord, Attachment, BugReportRecord, Event, Incident, Link, MailRecord, Message,
    PageRecord, PagingState, Service, Team, Ticket, TicketSla, User,
};

use super::{readable_ticket, Ctx};
use crate::error::ApiError;

/// Everything the agent's ticket page shows.
#[derive(Debug)]
pub struct TicketWorkspace {
    /// The ticket.
    pub ticket: Ticket,
    /// Its messages, internal notes included.
    pub messages: Vec<Message>,
    /// Its timeline, internal events included.
    pub events: Vec<Event>,
    /// Links to tickets and bug trackers.
    pub links: Vec<Link>,
    /// Bug reports filed from it.
    pub bug_reports: Vec<BugReportRecord>,
    /// Every team (for transfer and escalation).
    pub teams: Vec<Team>,
    /// The members of the ticket's team (for assignment), at most 500.
    pub team_members: Vec<User>,
    /// Its clocks.
    pub sla: TicketSla,
    /// Vendors' names (to hand the ticket to).
    pub vendors: Vec<String>,
    /// Services' names.
    pub services: Vec<String>,
    /// The incidents it is linked to.
    pub incidents: Vec<Incident>,
    /// Its mail in and out.
    pub mails: Vec<MailRecord>,
    /// Its attachments.
    pub attachments: Vec<Attachment>,
}

/// The ticket workspace of ticket `id` (staff who may read it).
pub async fn ticket_workspace(ctx: &Ctx<'_>, id: i64) -> Result<TicketWorkspace, ApiError> {
    let ticket = readable_ticket(ctx, id).await?;
    ctx.authorize(Action::ReadInternal)?;
    let store = ctx.store;
    let mut incidents = Vec::new();
    for incident in store.ticket_incident_ids(id).await? {
        incidents.push(store.incident(incident).await?);
    }
    Ok(TicketWorkspace {
        messages: store.messages(id, true).await?,
        events: store.events_of("ticket", id, true).await?,
        links: store.links(id).await?,
        bug_reports: store.bug_reports(id).await?,
        teams: store.teams().await?,
        team_members: store.users(None, Some(ticket.team_id), 0, 500).await?,
        sla: store.ticket_sla(id, ctx.now).await?,
        vendors: store
            .vendors()
            .await?
            .into_iter()
            .map(|v| v.terms.name)
            .collect(),
        services: store
            .services()
            .await?
            .into_iter()
            .map(|s| s.name)
            .collect(),
        incidents,
        mails: store.ticket_mail(id).await?,
        attachments: store.attachments(id).await?,
        ticket,
    })
}

/// Every team with its active tickets counted by status (staff).
pub async fn queue_counts(ctx: &Ctx<'_>) -> Result<(Vec<Team>, Vec<(i64, Status, i64)>), ApiError> {
    ctx.authorize(Action::ListQueues)?;
    Ok((ctx.store.teams().await?, ctx.store.queue_counts().await?))
}

/// Every service (staff), for pickers and filters.
pub async fn services(ctx: &Ctx<'_>) -> Result<Vec<Service>, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    Ok(ctx.store.services().await?)
}

/// An incident's timeline with the names of the people its events name by id.
#[derive(Debug)]
pub struct IncidentTimeline {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// Names of the users the events refer to (commander and comms changes).
    pub people: BTreeMap<i64, String>,
}

/// An incident's timeline (staff).
pub async fn incident_timeline(ctx: &Ctx<'_>, id: i64) -> Result<IncidentTimeline, ApiError> {
    let events = super::incidents::incident_events(ctx, id).await?;
    let mut people = BTreeMap::new();
    for e in events.iter().filter(|e| e.kind == "incident.role") {
        if let Some(user) = e.data["after"].as_i64() {
            if let std::collections::btree_map::Entry::Vacant(slot) = people.entry(user) {
                if let Ok(u) = ctx.store.user(user).await {
                    slot.insert(u.name);
                }
            }
        }
    }
    Ok(IncidentTimeline { events, people })
}

/// Everything an incident's war room shows.
#[derive(Debug)]
pub struct WarRoom {
    /// The incident.
    pub incident: Incident,
    /// Its timeline.
    pub timeline: IncidentTimeline,
    /// The tickets linked to it.
    pub tickets: Vec<Ticket>,
    /// Its alerts, firing first (at most 200).
    pub alerts: Vec<AlertRecord>,
    /// The pages sent about it.
    pub pages: Vec<PageRecord>,
    /// Where its escalation stands.
    pub paging: Option<PagingState>,
}

/// The war room of incident `id` (staff).
pub async fn war_room(ctx: &Ctx<'_>, id: i64) -> Result<WarRoom, ApiError> {
    let timeline = incident_timeline(ctx, id).await?;
    let store = ctx.store;
    let incident = store.incident(id).await?;
    let tickets = store
        .tickets_with_ids(&store.incident_ticket_ids(id).await?)
        .await?;
    Ok(WarRoom {
        incident,
        timeline,
        tickets,
        alerts: store.incident_alerts(id, 200).await?,
        pages: store.incident_pages(id).await?,
        paging: store.paging_state(id).await?,
    })
}

/// Open incidents counted by severity (staff).
pub async fn open_incident_counts(ctx: &Ctx<'_>) -> Result<Vec<(Severity, i64)>, ApiError> {
    ctx.authorize(Action::ReadIncidents)?;
    Ok(ctx.store.open_incident_counts().await?)
}
