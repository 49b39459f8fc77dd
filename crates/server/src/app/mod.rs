//! The actions of the desk, each authorized and validated in exactly one place.
//!
//! The JSON API and the HTML UI both call these functions with the same input types, so a rule
//! added here holds on every path. Input arrives as plain strings and leaves as domain values.

use jiff::Timestamp;
use opsdesk_domain::{
    Action, Actor, Body, BugReport, Category, Email, ExternalUrl, Impact, LinkKind, Name,
    PendingReason, Priority, Role, Status, Subject, Tag, Tier, Urgency,
};
use opsdesk_store::{
    BugReportRecord, EscalationRequest, Event, Link, Message, NewTicket, NewUser, Org, Page,
    QueueFilter, QueueSort, ServiceRef, Store, Team, TeamRef, Ticket, TicketChanges, User,
};
use serde::Deserialize;

use crate::auth;
use crate::wire::desk::{
    BugReportIn, CreateLinkIn, CreateMessageIn, CreateTeamIn, CreateTicketIn, CreateUserIn,
    DeescalateIn, EscalateIn, PatchTicketIn,
};

pub mod directory;
pub mod incidents;
pub mod knowledge;
pub mod mail;
pub mod oncall;
pub mod reports;
pub mod reviews;
pub mod runbooks;
pub mod search;
pub mod sessions;
pub mod sla;
pub mod status;
pub mod survey;
pub mod workspace;
use crate::error::{ApiError, Checks, Code};

/// Most items one page of a list returns.
pub const MAX_PAGE: i64 = 200;
/// Items per page when the caller does not say.
pub const DEFAULT_PAGE: i64 = 50;

/// Filters, order and page of a ticket list, as query parameters.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct TicketQuery {
    /// Team name.
    pub team: Option<String>,
    /// Comma-separated statuses, or `active` (new, open, pending) or `all`.
    pub status: Option<String>,
    /// `urgent`, `high`, `normal` or `low`.
    pub priority: Option<String>,
    /// `L0`–`L4`.
    pub tier: Option<String>,
    /// Assignee e-mail, `me` or `none`.
    pub assignee: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Organisation name.
    pub organization: Option<String>,
    /// Service name.
    pub service: Option<String>,
    /// Text the subject contains.
    pub q: Option<String>,
    /// `priority` (default), `oldest`, `newest` or `updated`.
    pub sort: Option<String>,
    /// Cursor from the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–200 (default 50).
    pub limit: Option<i64>,
}

fn nonblank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// People by address, with `me` for the caller; unknown or non-staff addresses fail `field`.
pub(crate) async fn staff_member(
    store: &Store,
    field: &str,
    raw: &str,
    me: Option<i64>,
    checks: &mut Checks,
) -> Result<Option<i64>, ApiError> {
    let raw = raw.trim();
    if raw.eq_ignore_ascii_case("me") {
        if me.is_none() {
            checks.fail(field, "'me' needs a signed-in person");
        }
        return Ok(me);
    }
    match store.user_by_email(&raw.to_lowercase()).await? {
        Some(user) if user.active && user.actor().works_the_desk() => Ok(Some(user.id)),
        _ => {
            checks.fail(
                field,
                format!("no active staff member with the address '{raw}'"),
            );
            Ok(None)
        }
    }
}

/// Loads a ticket the actor may read; another organisation's ticket is "not found".
pub async fn ticket_for(store: &Store, actor: &Actor, id: i64) -> Result<Ticket, ApiError> {
    let ticket = store.ticket(id).await?;
    actor.authorize(Action::ReadTicket(ticket.scope()))?;
    Ok(ticket)
}

/// A ticket's messages, internal notes only for staff.
pub async fn ticket_messages(ctx: &Ctx<'_>, id: i64) -> Result<Vec<Message>, ApiError> {
    readable_ticket(ctx, id).await?;
    Ok(ctx.store.messages(id, ctx.sees_internal()).await?)
}

/// One message of a ticket, as the reader may see it.
pub async fn ticket_message(
    ctx: &Ctx<'_>,
    ticket_id: i64,
    message_id: i64,
) -> Result<Message, ApiError> {
    ticket_messages(ctx, ticket_id)
        .await?
        .into_iter()
        .find(|m| m.id == message_id)
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such message"))
}

/// A ticket's timeline from the event log, internal events only for staff.
pub async fn ticket_events(ctx: &Ctx<'_>, id: i64) -> Result<Vec<Event>, ApiError> {
    readable_ticket(ctx, id).await?;
    Ok(ctx
        .store
        .events_of("ticket", id, ctx.sees_internal())
        .await?)
}

/// A ticket's links to other tickets and bug trackers (staff).
pub async fn ticket_links(ctx: &Ctx<'_>, id: i64) -> Result<Vec<Link>, ApiError> {
    readable_ticket(ctx, id).await?;
    ctx.authorize(Action::ReadInternal)?;
    Ok(ctx.store.links(id).await?)
}

/// Bug reports filed from a ticket (staff).
pub async fn ticket_bug_reports(ctx: &Ctx<'_>, id: i64) -> Result<Vec<BugReportRecord>, ApiError> {
    readable_ticket(ctx, id).await?;
    ctx.authorize(Action::ReadInternal)?;
    Ok(ctx.store.bug_reports(id).await?)
}

/// Loads a ticket the operator may read (the console reads all).
pub async fn readable_ticket(ctx: &Ctx<'_>, id: i64) -> Result<Ticket, ApiError> {
    match ctx.actor() {
        Some(actor) => ticket_for(ctx.store, actor, id).await,
        None => Ok(ctx.store.ticket(id).await?),
    }
}

/// The database's kind, once it answers (the health check).
pub async fn database_health(store: &Store) -> Result<&'static str, ApiError> {
    store.ping().await?;
    Ok(match store.backend() {
        opsdesk_store::Backend::Sqlite => "sqlite",
        opsdesk_store::Backend::Postgres => "postgres",
    })
}

async fn team_named(store: &Store, field: &'static str, name: &str) -> Result<Team, ApiError> {
    store.team_by_name(name).await?.ok_or_else(|| {
        ApiError::field(Code::InvalidInput, field, format!("no team named '{name}'"))
    })
}

/// Raises a ticket for `caller`, or on a customer's behalf when staff name one.
pub async fn create_ticket(
    store: &Store,
    caller: &User,
    input: &CreateTicketIn,
    channel: &'static str,
    idempotency_key: Option<&str>,
    now: Timestamp,
) -> Result<(Ticket, bool), ApiError> {
    let actor = caller.actor();
    actor.authorize(Action::CreateTicket)?;
    let staff_only = [
        (
            "requester_email",
            nonblank(&input.requester_email).is_some(),
        ),
        ("team", nonblank(&input.team).is_some()),
        ("priority", nonblank(&input.priority).is_some()),
        ("service", nonblank(&input.service).is_some()),
        ("tags", input.tags.as_ref().is_some_and(|t| !t.is_empty())),
    ];
    if let Some((field, _)) = staff_only.iter().find(|(_, set)| *set) {
        if actor.authorize(Action::CreateTicketOnBehalf).is_err() {
            return Err(ApiError::field(
                Code::Forbidden,
                field,
                "only the desk's staff can set this",
            ));
        }
    }
    let mut checks = Checks::default();
    let subject = checks.check(Subject::parse("subject", &input.subject));
    let body = checks.check(Body::parse("body", &input.body));
    let impact = match nonblank(&input.impact) {
        Some(raw) => checks.check(Impact::parse(raw)),
        None => Some(Impact::Medium),
    };
    let urgency = match nonblank(&input.urgency) {
        Some(raw) => checks.check(Urgency::parse(raw)),
        None => Some(Urgency::Medium),
    };
    let priority = match nonblank(&input.priority) {
        Some(raw) => checks.check(Priority::parse("priority", raw)).map(Some),
        None => Some(None),
    };
    let category = match nonblank(&input.category) {
        Some(raw) => checks.check(Category::parse("category", raw)).map(Some),
        None => Some(None),
    };
    let tags = checks.check(Tag::parse_list(
        "tags",
        input.tags.iter().flatten().map(String::as_str),
    ));
    let requester = match nonblank(&input.requester_email) {
        Some(raw) => match checks.check(Email::parse("requester_email", raw)) {
            Some(email) => match store.user_by_email(email.as_str()).await? {
                Some(user) => Some(user),
                None => {
                    checks.fail("requester_email", format!("no user with e-mail {email}"));
                    None
                }
            },
            None => None,
        },
        None => Some(caller.clone()),
    };
    // The store resolves team and service names in the transaction that writes the row; look
    // them up here only when other fields already failed, so one answer names every bad field.
    if !checks.is_clean() {
        if let Some(name) = nonblank(&input.team) {
            if store.team_by_name(name).await?.is_none() {
                checks.fail("team", format!("no team named '{name}'"));
            }
        }
        if let Some(name) = nonblank(&input.service) {
            ticket_service(store, &mut checks, name).await?;
        }
    }
    let team = Some(nonblank(&input.team).map(|name| TeamRef::Name(name.to_owned())));
    let service = Some(nonblank(&input.service).map(|name| ServiceRef::Name(name.to_owned())));
    checks.finish()?;
    let (
        Some(subject),
        Some(body),
        Some(impact),
        Some(urgency),
        Some(priority),
        Some(category),
        Some(service),
        Some(tags),
        Some(requester),
        Some(team),
    ) = (
        subject, body, impact, urgency, priority, category, service, tags, requester, team,
    )
    else {
        return Err(ApiError::new(
            Code::Internal,
            "validation passed with a missing value",
        ));
    };
    let new = NewTicket {
        subject,
        body,
        requester_id: requester.id,
        team,
        impact,
        urgency,
        priority,
        category,
        service,
        tags,
        channel,
    };
    Ok(store
        .create_ticket(&new, caller.id, now, idempotency_key)
        .await?)
}

/// The service named `name` as a ticket keeps it, `(id, name)`; an unknown name fails the
/// `service` field.
async fn ticket_service(
    store: &Store,
    checks: &mut Checks,
    name: &str,
) -> Result<Option<(i64, String)>, ApiError> {
    Ok(match store.service_by_name(name).await? {
        Some(s) => Some((s.id, s.name)),
        None => {
            checks.fail("service", format!("no service named '{name}'"));
            None
        }
    })
}

/// Lists the tickets the actor may see, filtered and ordered as asked.
pub async fn list_tickets(
    store: &Store,
    actor: &Actor,
    query: &TicketQuery,
) -> Result<Page<Ticket>, ApiError> {
    let mut checks = Checks::default();
    let mut filter = QueueFilter::default();
    if let Some(name) = nonblank(&query.team) {
        match store.team_by_name(name).await? {
            Some(team) => filter.team_id = Some(team.id),
            None => checks.fail("team", format!("no team named '{name}'")),
        }
    }
    match nonblank(&query.status) {
        None | Some("all") => {}
        Some("active") => filter.statuses = vec![Status::New, Status::Open, Status::Pending],
        Some(list) => {
            for raw in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                if let Some(status) = checks.check(Status::parse("status", raw)) {
                    filter.statuses.push(status);
                }
            }
        }
    }
    if let Some(raw) = nonblank(&query.priority) {
        filter.priority = checks.check(Priority::parse("priority", raw));
    }
    if let Some(raw) = nonblank(&query.tier) {
        filter.tier = checks.check(Tier::parse("tier", raw));
    }
    match nonblank(&query.assignee) {
        None => {}
        Some("none") => filter.assignee = Some(None),
        Some("me") => filter.assignee = Some(Some(actor.user_id)),
        Some(email) => match store.user_by_email(email).await? {
            Some(user) => filter.assignee = Some(Some(user.id)),
            None => checks.fail("assignee", format!("no user with e-mail {email}")),
        },
    }
    if let Some(raw) = nonblank(&query.tag) {
        filter.tag = checks.check(Tag::parse("tag", raw)).map(Tag::into_string);
    }
    if let Some(name) = nonblank(&query.organization) {
        match store.org_by_name(name).await? {
            Some(org) => filter.org_id = Some(org.id),
            None => checks.fail("organization", format!("no organisation named '{name}'")),
        }
    }
    if let Some(name) = nonblank(&query.service) {
        filter.service_id = ticket_service(store, &mut checks, name)
            .await?
            .map(|(id, _)| id);
    }
    filter.text = nonblank(&query.q).map(str::to_owned);
    let sort = checks
        .check(QueueSort::parse(
            "sort",
            query.sort.as_deref().unwrap_or(""),
        ))
        .unwrap_or_default();
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        checks.fail("limit", format!("must be between 1 and {MAX_PAGE}"));
    }
    checks.finish()?;
    Ok(store
        .tickets(
            &filter,
            actor.confined_to(),
            sort,
            query.cursor.as_deref(),
            limit,
        )
        .await?)
}

/// Applies triage changes, or for a customer, resolving or reopening their own ticket.
pub async fn patch_ticket(
    ctx: &Ctx<'_>,
    id: i64,
    input: &PatchTicketIn,
) -> Result<Ticket, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    let ticket = ticket_for(store, actor, id).await?;
    if !actor.works_the_desk() {
        return customer_status(store, actor, &ticket, input, now).await;
    }
    actor.authorize(Action::Triage)?;
    let mut checks = Checks::default();
    let mut changes = TicketChanges::default();
    if let Some(raw) = &input.subject {
        changes.subject = checks.check(Subject::parse("subject", raw));
    }
    if let Some(raw) = &input.status {
        changes.status = checks.check(Status::parse("status", raw));
    }
    if let Some(raw) = &input.priority {
        changes.priority = checks.check(Priority::parse("priority", raw));
    }
    if let Some(raw) = &input.impact {
        changes.impact = checks.check(Impact::parse(raw));
    }
    if let Some(raw) = &input.urgency {
        changes.urgency = checks.check(Urgency::parse(raw));
    }
    if let Some(raw) = nonblank(&input.pending_reason) {
        changes.pending_reason = checks.check(PendingReason::parse("pending_reason", raw));
    }
    if let Some(vendor) = &input.vendor {
        changes.vendor = match vendor.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Some(None),
            Some(name) => match sla::vendor_named(store, name).await {
                Ok(v) => Some(Some(v)),
                Err(_) => {
                    checks.fail("vendor", format!("no vendor named '{name}'"));
                    None
                }
            },
        };
    }
    if let Some(reference) = &input.vendor_ref {
        let reference = reference
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        if let Some(r) = reference {
            checks.check(Name::parse("vendor_ref", r));
        }
        changes.vendor_ref = Some(reference.map(str::to_owned));
    }
    changes.vendor_responded = input.vendor_responded == Some(true);
    if let Some(assignee) = &input.assignee {
        changes.assignee = match assignee.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some("me") => Some(Some(actor.user_id)),
            Some(email) => match store.user_by_email(email).await? {
                Some(user) => Some(Some(user.id)),
                None => {
                    checks.fail("assignee", format!("no user with e-mail {email}"));
                    None
                }
            },
        };
    }
    if let Some(name) = nonblank(&input.team) {
        match store.team_by_name(name).await? {
            Some(team) => changes.team_id = Some(team.id),
            None => checks.fail("team", format!("no team named '{name}'")),
        }
    }
    if let Some(category) = &input.category {
        changes.category = match category.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(raw) => checks.check(Category::parse("category", raw)).map(Some),
        };
    }
    if let Some(service) = &input.service {
        changes.service = match service.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(name) => ticket_service(store, &mut checks, name).await?.map(Some),
        };
    }
    if let Some(tags) = &input.add_tags {
        changes.add_tags = checks
            .check(Tag::parse_list("add_tags", tags.iter().map(String::as_str)))
            .unwrap_or_default();
    }
    if let Some(tags) = &input.remove_tags {
        changes.remove_tags = checks
            .check(Tag::parse_list(
                "remove_tags",
                tags.iter().map(String::as_str),
            ))
            .unwrap_or_default();
    }
    checks.finish()?;
    Ok(store
        .update_ticket(id, &changes, actor.user_id, now)
        .await?)
}

async fn customer_status(
    store: &Store,
    actor: &Actor,
    ticket: &Ticket,
    input: &PatchTicketIn,
    now: Timestamp,
) -> Result<Ticket, ApiError> {
    actor.authorize(Action::CustomerSetStatus(ticket.scope()))?;
    let others = [
        ("subject", input.subject.is_some()),
        ("priority", input.priority.is_some()),
        ("impact", input.impact.is_some()),
        ("urgency", input.urgency.is_some()),
        ("assignee", input.assignee.is_some()),
        ("team", input.team.is_some()),
        ("category", input.category.is_some()),
        ("service", input.service.is_some()),
        ("add_tags", input.add_tags.is_some()),
        ("remove_tags", input.remove_tags.is_some()),
    ];
    if let Some((field, _)) = others.iter().find(|(_, set)| *set) {
        return Err(ApiError::field(
            Code::Forbidden,
            field,
            "only the desk's staff can change this",
        ));
    }
    let Some(raw) = &input.status else {
        return Ok(ticket.clone());
    };
    let status = Status::parse("status", raw)?;
    if !matches!(status, Status::Resolved | Status::Open) {
        return Err(ApiError::field(
            Code::Forbidden,
            "status",
            "customers can mark a ticket resolved or reopen it",
        ));
    }
    let changes = TicketChanges {
        status: Some(status),
        ..TicketChanges::default()
    };
    Ok(store
        .update_ticket(ticket.id, &changes, actor.user_id, now)
        .await?)
}

/// Adds a public reply, or for staff an internal note.
pub async fn add_message(ctx: &Ctx<'_>, id: i64, input: &CreateMessageIn) -> Result<i64, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    let ticket = ticket_for(store, actor, id).await?;
    if input.internal {
        actor.authorize(Action::AddInternalNote).map_err(|_| {
            ApiError::field(
                Code::Forbidden,
                "internal",
                "only the desk's staff can add internal notes",
            )
        })?;
    } else {
        actor.authorize(Action::Reply(ticket.scope()))?;
    }
    let body = Body::parse("body", &input.body)?;
    Ok(store
        .add_message(id, actor.user_id, actor.role, &body, input.internal, now)
        .await?)
}

/// Escalates a ticket to the next tier's team.
pub async fn escalate(ctx: &Ctx<'_>, id: i64, input: &EscalateIn) -> Result<Ticket, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    let request = EscalationRequest {
        up: true,
        to_team: None,
        reason: &input.reason,
        tried: &input.tried,
    };
    change_tier(store, actor, id, &input.team, request, now).await
}

/// Hands a ticket back down a tier with a note.
pub async fn deescalate(ctx: &Ctx<'_>, id: i64, input: &DeescalateIn) -> Result<Ticket, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    let request = EscalationRequest {
        up: false,
        to_team: None,
        reason: &input.note,
        tried: "",
    };
    change_tier(store, actor, id, &input.team, request, now).await
}

/// Moves a ticket along the tier ladder, to the team named in `team` or the default one.
async fn change_tier(
    store: &Store,
    actor: &Actor,
    id: i64,
    team: &Option<String>,
    mut request: EscalationRequest<'_>,
    now: Timestamp,
) -> Result<Ticket, ApiError> {
    ticket_for(store, actor, id).await?;
    actor.authorize(Action::Escalate)?;
    if let Some(name) = nonblank(team) {
        request.to_team = Some(team_named(store, "team", name).await?.id);
    }
    Ok(store.escalate(id, &request, actor.user_id, now).await?)
}

/// Links a ticket to another ticket or an external bug URL.
pub async fn add_link(ctx: &Ctx<'_>, id: i64, input: &CreateLinkIn) -> Result<Link, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    ticket_for(store, actor, id).await?;
    actor.authorize(Action::Triage)?;
    let kind = LinkKind::parse("kind", &input.kind)?;
    let url = match nonblank(&input.url) {
        Some(raw) => Some(ExternalUrl::parse("url", raw)?),
        None => None,
    };
    Ok(store
        .add_link(id, kind, input.target, url.as_ref(), actor.user_id, now)
        .await?)
}

/// Files a bug report for engineering from a ticket.
pub async fn file_bug_report(
    ctx: &Ctx<'_>,
    id: i64,
    input: &BugReportIn,
) -> Result<BugReportRecord, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    ticket_for(store, actor, id).await?;
    actor.authorize(Action::FileBugReport)?;
    let report = BugReport::parse(
        &input.steps,
        &input.expected,
        &input.actual,
        &input.environment,
        input.external_url.as_deref(),
    )?;
    Ok(store
        .file_bug_report(id, &report, actor.user_id, now)
        .await?)
}

/// Which instant a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayEdge {
    /// 00:00:00 UTC of that day.
    Start,
    /// 23:59:59 UTC of that day.
    End,
}

/// Reads `field` as an RFC 3339 instant or a `2026-12-15` date (UTC, at `edge` of the day);
/// records a refusal in `checks` otherwise.
pub(crate) fn parse_instant(
    field: &str,
    raw: &str,
    edge: DayEdge,
    checks: &mut Checks,
) -> Option<Timestamp> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(t);
    }
    let start = raw
        .parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| z.timestamp());
    match (start, edge) {
        (Some(t), DayEdge::Start) => Some(t),
        (Some(t), DayEdge::End) => Some(t + jiff::SignedDuration::from_secs(86_399)),
        (None, _) => {
            checks.fail(field, format!("'{raw}' is not a date like 2026-12-15"));
            None
        }
    }
}

/// Who acts on the directory: a signed-in administrator, or the operator at the CLI.
#[derive(Debug, Clone, Copy)]
pub enum Operator<'a> {
    /// A user through the API or UI; must be allowed to administer.
    User(&'a Actor),
    /// The CLI, working directly on the database.
    Console,
}

impl Operator<'_> {
    fn authorize(&self) -> Result<Option<i64>, ApiError> {
        self.authorize_to(Action::Administer)
    }

    /// Checks a user may take `action` (the console may do anything); answers the actor's id.
    pub(crate) fn authorize_to(&self, action: Action) -> Result<Option<i64>, ApiError> {
        match self {
            Operator::User(actor) => {
                actor.authorize(action)?;
                Ok(Some(actor.user_id))
            }
            Operator::Console => Ok(None),
        }
    }
}

/// One request as the application layer sees it: the database, who acts, and the moment the
/// request arrived (the clock is read once, where the request enters).
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub(crate) store: &'a Store,
    /// Who acts.
    pub operator: Operator<'a>,
    /// When the request arrived.
    pub now: Timestamp,
}

impl<'a> Ctx<'a> {
    /// A request by `operator` at `now`.
    pub fn new(store: &'a Store, operator: Operator<'a>, now: Timestamp) -> Self {
        Ctx {
            store,
            operator,
            now,
        }
    }

    /// A signed-in user's request, arriving now.
    pub fn of(store: &'a Store, actor: &'a Actor) -> Self {
        Ctx::new(store, Operator::User(actor), Timestamp::now())
    }

    /// The acting user as the rules see them; `None` at the console.
    pub fn actor(&self) -> Option<&'a Actor> {
        match self.operator {
            Operator::User(actor) => Some(actor),
            Operator::Console => None,
        }
    }

    /// The signed-in person acting; the console is refused (these actions are a person's).
    pub(crate) fn user(&self) -> Result<&'a Actor, ApiError> {
        self.actor().ok_or_else(|| {
            ApiError::new(
                Code::Forbidden,
                "this action is taken by a signed-in person",
            )
        })
    }

    /// Whether the operator may take `action`: for showing or hiding a control. The action
    /// itself asks again.
    pub fn may(&self, action: Action) -> bool {
        self.operator.authorize_to(action).is_ok()
    }

    /// Whether the operator reads internal notes and events (staff, or the console).
    pub fn sees_internal(&self) -> bool {
        self.actor().is_none_or(Actor::sees_internal)
    }

    /// Refuses unless the operator may take `action`; answers the acting user's id.
    pub(crate) fn authorize(&self, action: Action) -> Result<Option<i64>, ApiError> {
        self.operator.authorize_to(action)
    }
}

/// Changes a team's business calendar and where it escalates to (administrators).
pub async fn patch_team(
    ctx: &Ctx<'_>,
    id: i64,
    input: &crate::wire::desk::PatchTeamIn,
) -> Result<Team, ApiError> {
    if input.calendar.is_none() && input.escalates_to.is_none() {
        ctx.authorize(Action::Administer)?;
    }
    if let Some(calendar) = &input.calendar {
        sla::set_team_calendar(
            &Ctx::new(ctx.store, ctx.operator, ctx.now),
            id,
            calendar.as_deref(),
        )
        .await?;
    }
    match &input.escalates_to {
        Some(target) => set_team_escalation(ctx, id, target.as_deref()).await,
        None => Ok(ctx.store.team(id).await?),
    }
}

/// Creates an organisation.
pub async fn create_org(ctx: &Ctx<'_>, name: &str) -> Result<Org, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize()?;
    let name = Name::parse("name", name)?;
    Ok(store.create_org(&name, actor, now).await?)
}

/// Creates a team.
pub async fn create_team(ctx: &Ctx<'_>, input: &CreateTeamIn) -> Result<Team, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize()?;
    let mut checks = Checks::default();
    let name = checks.check(Name::parse("name", &input.name));
    let tier = checks.check(Tier::parse("tier", &input.tier));
    let mut escalates_to = None;
    if let Some(target) = nonblank(&input.escalates_to) {
        match store.team_by_name(target).await? {
            Some(team) => escalates_to = Some(team.id),
            None => checks.fail("escalates_to", format!("no team named '{target}'")),
        }
    }
    checks.finish()?;
    let (Some(name), Some(tier)) = (name, tier) else {
        return Err(ApiError::new(
            Code::Internal,
            "validation passed with a missing value",
        ));
    };
    Ok(store
        .create_team(&name, tier, escalates_to, actor, now)
        .await?)
}

/// Changes where a team escalates to.
pub async fn set_team_escalation(
    ctx: &Ctx<'_>,
    team_id: i64,
    escalates_to: Option<&str>,
) -> Result<Team, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize()?;
    let team = store.team(team_id).await?;
    let target = match escalates_to.map(str::trim).filter(|t| !t.is_empty()) {
        Some(name) => {
            let target = team_named(store, "escalates_to", name).await?;
            if target.id == team.id {
                return Err(ApiError::field(
                    Code::InvalidInput,
                    "escalates_to",
                    "a team cannot escalate to itself",
                ));
            }
            if target.tier <= team.tier {
                return Err(ApiError::field(
                    Code::InvalidInput,
                    "escalates_to",
                    format!(
                        "escalation goes up: '{}' works at {} and '{}' at {}",
                        target.name, target.tier, team.name, team.tier
                    ),
                ));
            }
            Some(target.id)
        }
        None => None,
    };
    Ok(store
        .set_team_escalation(team.id, target, actor, now)
        .await?)
}

/// Creates a user; the password, if any, is stored as an argon2id hash.
pub async fn create_user(ctx: &Ctx<'_>, input: &CreateUserIn) -> Result<User, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize()?;
    let mut checks = Checks::default();
    let email = checks.check(Email::parse("email", &input.email));
    let name = checks.check(Name::parse("name", &input.name));
    let role = checks.check(Role::parse("role", &input.role));
    let tier = match nonblank(&input.tier) {
        Some(raw) => checks.check(Tier::parse("tier", raw)),
        None => None,
    };
    if role.is_some_and(Role::needs_tier) && tier.is_none() && nonblank(&input.tier).is_none() {
        checks.fail("tier", "an agent needs a tier (L0 to L4)");
    }
    if tier.is_some() && role.is_some_and(|r| !r.may_have_tier()) {
        checks.fail("tier", "only staff who work tickets have a tier");
    }
    let mut org_id = None;
    if let Some(org) = nonblank(&input.organization) {
        if role.is_some_and(|r| !r.has_organisation()) {
            checks.fail("organization", "only customers belong to an organisation");
        }
        match store.org_by_name(org).await? {
            Some(found) => org_id = Some(found.id),
            None => checks.fail("organization", format!("no organisation named '{org}'")),
        }
    }
    let mut team_ids = Vec::new();
    for team in input.teams.iter().flatten() {
        if role.is_some_and(Role::has_organisation) {
            checks.fail("teams", "customers do not belong to teams");
            break;
        }
        match store.team_by_name(team).await? {
            Some(found) => team_ids.push(found.id),
            None => checks.fail("teams", format!("no team named '{team}'")),
        }
    }
    if let Some(password) = &input.password {
        checks.check(auth::check_new_password(password));
    }
    checks.finish()?;
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        return Err(ApiError::new(
            Code::Internal,
            "validation passed with a missing value",
        ));
    };
    let password_hash = match input.password.clone() {
        Some(password) => Some(
            tokio::task::spawn_blocking(move || auth::hash_password(&password))
                .await
                .map_err(|e| ApiError::new(Code::Internal, e.to_string()))??,
        ),
        None => None,
    };
    let new = NewUser {
        email,
        name,
        role,
        tier,
        org_id,
        team_ids,
        password_hash,
    };
    Ok(store.create_user(&new, actor, now).await?)
}

/// Creates an API token for the user with `email`; returns its id and the secret, shown once.
pub async fn create_token(
    ctx: &Ctx<'_>,
    email: &str,
    name: Option<&str>,
) -> Result<(i64, String), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize()?;
    let email = Email::parse("email", email)?;
    let user = store.user_by_email(email.as_str()).await?.ok_or_else(|| {
        ApiError::field(
            Code::InvalidInput,
            "email",
            format!("no user with e-mail {email}"),
        )
    })?;
    let name = Name::parse("name", name.unwrap_or("api"))?;
    let secret = auth::new_api_token();
    let id = store
        .create_token(user.id, &name, &auth::secret_hash(&secret), actor, now)
        .await?;
    Ok((id, secret))
}

/// Lists API tokens (never their secrets).
pub async fn list_tokens(
    store: &Store,
    by: Operator<'_>,
) -> Result<Vec<opsdesk_store::TokenInfo>, ApiError> {
    by.authorize()?;
    Ok(store.tokens(None).await?)
}

/// Revokes an API token.
pub async fn revoke_token(ctx: &Ctx<'_>, id: i64) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize()?;
    Ok(store.revoke_token(id, actor, now).await?)
}

/// Changes a user's name, tier, teams or whether they are active.
pub async fn update_user(
    ctx: &Ctx<'_>,
    id: i64,
    input: &crate::wire::desk::PatchUserIn,
) -> Result<User, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize()?;
    let user = store.user(id).await?;
    let mut checks = Checks::default();
    let mut changes = opsdesk_store::UserChanges::default();
    if let Some(name) = &input.name {
        changes.name = checks.check(Name::parse("name", name));
    }
    if let Some(tier) = &input.tier {
        changes.tier = match tier.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(raw) => checks.check(Tier::parse("tier", raw)).map(Some),
            None => Some(None),
        };
        match changes.tier {
            Some(None) if user.role.needs_tier() => {
                checks.fail("tier", "an agent needs a tier (L0 to L4)")
            }
            Some(Some(_)) if !user.role.may_have_tier() => {
                checks.fail("tier", "only staff who work tickets have a tier")
            }
            _ => {}
        }
    }
    if let Some(names) = &input.teams {
        if user.role.has_organisation() && !names.is_empty() {
            checks.fail("teams", "customers do not belong to teams");
        }
        let mut ids = Vec::new();
        for name in names {
            match store.team_by_name(name).await? {
                Some(team) => ids.push(team.id),
                None => checks.fail("teams", format!("no team named '{name}'")),
            }
        }
        changes.team_ids = Some(ids);
    }
    if let Some(active) = input.active {
        if !active && actor == Some(user.id) {
            checks.fail("active", "you cannot deactivate your own account");
        }
        changes.active = Some(active);
    }
    checks.finish()?;
    Ok(store.update_user(id, &changes, actor, now).await?)
}
