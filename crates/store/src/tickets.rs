//! Tickets: creation, queues, replies and notes, triage changes, escalation. Links and bug
//! reports are `ticket_links.rs`.
//!
//! Each mutation loads what it changes inside its transaction, asks the domain whether the
//! change is allowed, writes it and appends the matching events before committing.

use std::collections::HashMap;

use jiff::Timestamp;
use opsdesk_domain::access::Confinement;
use opsdesk_domain::{
    Body, Category, Escalation, Impact, Invalid, PendingReason, Priority, Role, Status, Subject,
    Tag, TeamRoute, Tier, Urgency,
};
use serde_json::{json, Map, Value};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::clocks::{refresh_clocks, settle_imported_clocks, NO_DUE};
use crate::error::corrupt;
use crate::events::{NewEvent, Write};
use crate::model::ts;
use crate::new_tickets::{insert_tickets, prepare, write_rows, CreateRequest, TicketRow};
use crate::sql::{Param, Sql};
use crate::{
    ImportedMessage, ImportedTicket, Message, NewTicket, Page, Store, StoreError, Ticket, UserRef,
};
use crate::{ServiceRef, TeamRef};

const TICKET_SELECT: &str = "SELECT t.id, t.subject, t.status, t.priority, t.impact, t.urgency, t.tier, \
    t.team_id, tm.name, t.org_id, o.name, t.requester_id, r.email, r.name, t.assignee_id, a.email, a.name, \
    t.category, t.channel, t.created_at, t.updated_at, t.pending_reason, t.sla_due_at, t.sla_warn_at, t.vendor_id, vd.name, t.vendor_ref, \
    t.service_id, sv.name \
    FROM tickets t JOIN teams tm ON tm.id = t.team_id LEFT JOIN orgs o ON o.id = t.org_id \
    JOIN users r ON r.id = t.requester_id LEFT JOIN users a ON a.id = t.assignee_id \
    LEFT JOIN vendors vd ON vd.id = t.vendor_id LEFT JOIN services sv ON sv.id = t.service_id";

/// Which tickets a queue or list shows. Empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// Only this team's queue.
    pub team_id: Option<i64>,
    /// Only these statuses.
    pub statuses: Vec<Status>,
    /// Only this priority.
    pub priority: Option<Priority>,
    /// Only this tier.
    pub tier: Option<Tier>,
    /// `Some(None)`: unassigned only; `Some(Some(id))`: assigned to this user.
    pub assignee: Option<Option<i64>>,
    /// Only tickets with this tag.
    pub tag: Option<String>,
    /// Only this organisation's tickets.
    pub org_id: Option<i64>,
    /// Only tickets about this service.
    pub service_id: Option<i64>,
    /// Subject contains this text (case-insensitive).
    pub text: Option<String>,
}

/// The order of a queue. Every order ends on the ticket id, so pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueSort {
    /// Most urgent first, then oldest first: the order work is taken in.
    #[default]
    Priority,
    /// Oldest first.
    Oldest,
    /// Newest first.
    Newest,
    /// Most recently changed first.
    Updated,
    /// Nearest SLA due instant first; tickets without a running clock last.
    Due,
}

impl QueueSort {
    /// Parses a sort name for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "" | "priority" => Ok(Self::Priority),
            "oldest" => Ok(Self::Oldest),
            "newest" => Ok(Self::Newest),
            "updated" => Ok(Self::Updated),
            "due" => Ok(Self::Due),
            other => Err(Invalid::new(
                field,
                format!("'{other}' is not a sort (priority, due, oldest, newest, updated)"),
            )),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Priority => "priority",
            Self::Oldest => "oldest",
            Self::Newest => "newest",
            Self::Updated => "updated",
            Self::Due => "due",
        }
    }

    /// Columns of the order, and whether it runs descending.
    fn keys(self) -> (&'static [&'static str], bool) {
        match self {
            Self::Priority => (&["t.priority", "t.created_at", "t.id"], false),
            Self::Oldest => (&["t.created_at", "t.id"], false),
            Self::Newest => (&["t.created_at", "t.id"], true),
            Self::Updated => (&["t.updated_at", "t.id"], true),
            Self::Due => (&["t.sla_due_at", "t.id"], false),
        }
    }

    fn cursor_of(self, ticket: &Ticket) -> String {
        let keys: Vec<i64> = match self {
            Self::Priority => vec![
                ticket.priority.rank(),
                ticket.created_at.as_microsecond(),
                ticket.id,
            ],
            Self::Oldest | Self::Newest => vec![ticket.created_at.as_microsecond(), ticket.id],
            Self::Updated => vec![ticket.updated_at.as_microsecond(), ticket.id],
            Self::Due => vec![
                ticket.sla_due_at.map_or(NO_DUE, |d| d.as_microsecond()),
                ticket.id,
            ],
        };
        let keys: Vec<String> = keys.iter().map(i64::to_string).collect();
        format!("{}.{}", self.as_str(), keys.join("."))
    }

    fn parse_cursor(self, cursor: &str) -> Result<Vec<i64>, Invalid> {
        let bad = || {
            Invalid::new(
                "cursor",
                "is not a cursor this list gave out (was the sort changed?)",
            )
        };
        let mut parts = cursor.split('.');
        if parts.next() != Some(self.as_str()) {
            return Err(bad());
        }
        let values: Vec<i64> = parts
            .map(|p| p.parse::<i64>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        if values.len() != self.keys().0.len() {
            return Err(bad());
        }
        Ok(values)
    }
}

/// A move between tiers: up (escalation) needs a reason and what was tried; down needs a note,
/// passed as `reason`.
#[derive(Debug, Clone, Copy)]
pub struct EscalationRequest<'a> {
    /// Up a tier (escalate) or down (de-escalate).
    pub up: bool,
    /// The team to move to; default: the escalation target, or the team it came from.
    pub to_team: Option<i64>,
    /// Why (or, going down, the note).
    pub reason: &'a str,
    /// What was tried (ignored going down).
    pub tried: &'a str,
}

/// Triage changes to a ticket; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TicketChanges {
    /// New subject.
    pub subject: Option<Subject>,
    /// New status (checked against the lifecycle).
    pub status: Option<Status>,
    /// Explicit priority.
    pub priority: Option<Priority>,
    /// New impact; recomputes priority unless one is given.
    pub impact: Option<Impact>,
    /// New urgency; recomputes priority unless one is given.
    pub urgency: Option<Urgency>,
    /// `Some(None)` unassigns; `Some(Some(id))` assigns.
    pub assignee: Option<Option<i64>>,
    /// Move to another team of the same tier.
    pub team_id: Option<i64>,
    /// New category; `Some(None)` clears it.
    pub category: Option<Option<Category>>,
    /// The service it is about: (id, name); `Some(None)` clears it.
    pub service: Option<Option<(i64, String)>>,
    /// Tags to add.
    pub add_tags: Vec<Tag>,
    /// Tags to remove.
    pub remove_tags: Vec<Tag>,
    /// Why a pending ticket waits (customer when not given).
    pub pending_reason: Option<PendingReason>,
    /// The vendor it is handed to; `Some(None)` clears it.
    pub vendor: Option<Option<i64>>,
    /// The vendor's reference (case number); `Some(None)` clears it.
    pub vendor_ref: Option<Option<String>>,
    /// Record that the vendor responded (stops the vendor's response clock).
    pub vendor_responded: bool,
}

impl Store {
    /// Creates a ticket with its first message. With an idempotency key, a retry by the same
    /// actor returns the ticket the first request created, and `false` for "created now".
    /// Without one, the create joins the current group commit ([`crate::batch`]).
    pub async fn create_ticket(
        &self,
        new: &NewTicket,
        actor: i64,
        now: Timestamp,
        idempotency_key: Option<&str>,
    ) -> Result<(Ticket, bool), StoreError> {
        if let Some(key) = idempotency_key {
            if let Some(id) = self.idempotent_ticket(actor, key).await? {
                return Ok((self.ticket(id).await?, false));
            }
        }
        let request = CreateRequest {
            new: new.clone(),
            actor,
            now,
        };
        let Some(key) = idempotency_key else {
            return Ok((self.batcher.create(request).await?, true));
        };
        let mut w = self.write(Some(actor), now).await?;
        let prepared = prepare(&mut w, std::slice::from_ref(&request))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("the new ticket was not prepared".into()))??;
        let ticket = insert_tickets(&mut w, std::slice::from_ref(&prepared), &self.sla)
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("the new ticket was not returned".into()))?;
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (user_id, key, ticket_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, key) DO NOTHING",
        )
        .bind(actor)
        .bind(key)
        .bind(ticket.id)
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            // A concurrent request with the same key won; answer with its ticket.
            w.tx.rollback().await?;
            let first = self
                .idempotent_ticket(actor, key)
                .await?
                .ok_or(StoreError::NotFound("ticket"))?;
            return Ok((self.ticket(first).await?, false));
        }
        w.commit().await?;
        Ok((ticket, true))
    }

    /// Loads tickets in bulk, as an import from another desk (or the benchmark generator) does:
    /// each row keeps its own status and times, gets its first message and a `ticket.imported`
    /// event, and the whole batch commits as one transaction (one statement per table).
    pub async fn import_tickets(
        &self,
        rows: &[ImportedTicket],
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let mut ticket_rows = Vec::with_capacity(rows.len());
        for row in rows {
            let new = &row.ticket;
            let Some(TeamRef::Id(team_id)) = new.team else {
                return Err(Invalid::new("team", "imported tickets name their team by id").into());
            };
            let service = match &new.service {
                None => None,
                Some(ServiceRef::Known(id, name)) => Some((*id, name.as_str())),
                Some(ServiceRef::Name(_)) => {
                    return Err(Invalid::new(
                        "service",
                        "imported tickets name their service by id",
                    )
                    .into())
                }
            };
            ticket_rows.push(TicketRow {
                new,
                actor,
                team_id,
                team_name: None,
                tier: row.tier,
                org_id: row.org_id,
                requester_email: None,
                priority: new
                    .priority
                    .unwrap_or_else(|| Priority::from_matrix(new.impact, new.urgency)),
                service,
                status: row.status,
                assignee_id: row.assignee_id,
                created_at: row.created_at,
                updated_at: row.updated_at,
                event_kind: "ticket.imported",
            });
        }
        let mut w = self.write(actor, now).await?;
        // 100 rows a statement: SQLite looks bound parameters up by name in linear time, so a
        // statement with n parameters costs O(n²) to bind (1,000 rows was 10x slower per row).
        for (chunk, imported) in ticket_rows.chunks(100).zip(rows.chunks(100)) {
            let written = write_rows(&mut w, chunk).await?;
            let ids: Vec<i64> = written.iter().map(|(id, _)| *id).collect();
            let replies: Vec<(i64, &ImportedMessage)> = ids
                .iter()
                .zip(imported)
                .flat_map(|(id, row)| row.replies.iter().map(move |m| (*id, m)))
                .collect();
            for part in replies.chunks(100) {
                let mut sql = Sql::new(
                    "INSERT INTO messages (ticket_id, author_id, internal, body, created_at) VALUES ",
                );
                for (i, (id, m)) in part.iter().enumerate() {
                    if i > 0 {
                        sql.push(", ");
                    }
                    sql.bind_list([
                        Param::Int(*id),
                        Param::Int(m.author_id),
                        Param::Int(i64::from(m.internal)),
                        Param::Text(m.body.as_str().to_owned()),
                        Param::Int(m.created_at.as_microsecond()),
                    ]);
                }
                // Each reply is on the timeline and counts for the clocks at its own instant, by
                // its author: ids come back in insertion order once sorted.
                sql.push(" RETURNING id");
                let mut message_ids: Vec<i64> = sql
                    .query()
                    .fetch_all(&mut *w.tx)
                    .await?
                    .iter()
                    .map(|row| row.try_get(0))
                    .collect::<Result<_, _>>()?;
                message_ids.sort_unstable();
                let events: Vec<NewEvent> = part
                    .iter()
                    .zip(message_ids)
                    .map(|((ticket, m), message_id)| NewEvent {
                        at: m.created_at.as_microsecond(),
                        actor: Some(m.author_id),
                        subject_kind: "ticket",
                        subject_id: *ticket,
                        kind: "message.added",
                        internal: m.internal,
                        // Marked imported: history mails nobody (the notifier passes over it).
                        data: json!({"message_id": message_id, "internal": m.internal, "imported": true}),
                    })
                    .collect();
                w.events(&events).await?;
            }
            settle_imported_clocks(&mut w, &self.sla, &ids).await?;
        }
        w.commit().await?;
        Ok(rows.len())
    }

    async fn idempotent_ticket(&self, actor: i64, key: &str) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT ticket_id FROM idempotency_keys WHERE user_id = $1 AND key = $2",
        )
        .bind(actor)
        .bind(key)
        .fetch_optional(&self.write)
        .await?)
    }

    /// One ticket.
    pub async fn ticket(&self, id: i64) -> Result<Ticket, StoreError> {
        let row = sqlx::query(&format!("{TICKET_SELECT} WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("ticket"))?;
        let mut ticket = ticket_from_row(&row)?;
        ticket.tags =
            sqlx::query_scalar("SELECT tag FROM ticket_tags WHERE ticket_id = $1 ORDER BY tag")
                .bind(id)
                .fetch_all(&self.read)
                .await?;
        Ok(ticket)
    }

    /// The tickets of `ids` that exist, in id order: two reads however many there are.
    pub async fn tickets_with_ids(&self, ids: &[i64]) -> Result<Vec<Ticket>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(TICKET_SELECT);
        sql.push(" WHERE t.id IN ");
        sql.bind_list(ids.iter().map(|id| Param::Int(*id)));
        sql.push(" ORDER BY t.id");
        let rows = sql.query().fetch_all(&self.read).await?;
        let mut items: Vec<Ticket> = rows.iter().map(ticket_from_row).collect::<Result<_, _>>()?;
        self.load_tags(&mut items).await?;
        Ok(items)
    }

    /// A page of tickets matching `filter` within `confinement`, in `sort` order.
    pub async fn tickets(
        &self,
        filter: &QueueFilter,
        confinement: Confinement,
        sort: QueueSort,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Page<Ticket>, StoreError> {
        let mut sql = Sql::new(TICKET_SELECT);
        sql.push(" WHERE 1 = 1");
        match confinement {
            Confinement::None => {}
            Confinement::Organisation(org) => {
                sql.push(" AND t.org_id = ").bind(Param::Int(org));
            }
            Confinement::Requester(user) => {
                sql.push(" AND t.requester_id = ").bind(Param::Int(user));
            }
            Confinement::Nothing => {
                sql.push(" AND 1 = 0");
            }
        }
        if let Some(team) = filter.team_id {
            sql.push(" AND t.team_id = ").bind(Param::Int(team));
        }
        if !filter.statuses.is_empty() {
            sql.push(" AND t.status IN ").bind_list(
                filter
                    .statuses
                    .iter()
                    .map(|s| Param::Text(s.as_str().to_owned())),
            );
        }
        if let Some(priority) = filter.priority {
            sql.push(" AND t.priority = ")
                .bind(Param::Int(priority.rank()));
        }
        if let Some(tier) = filter.tier {
            sql.push(" AND t.tier = ")
                .bind(Param::Int(i64::from(tier.level())));
        }
        match filter.assignee {
            None => {}
            Some(None) => {
                sql.push(" AND t.assignee_id IS NULL");
            }
            Some(Some(user)) => {
                sql.push(" AND t.assignee_id = ").bind(Param::Int(user));
            }
        }
        if let Some(org) = filter.org_id {
            sql.push(" AND t.org_id = ").bind(Param::Int(org));
        }
        if let Some(service) = filter.service_id {
            sql.push(" AND t.service_id = ").bind(Param::Int(service));
        }
        if let Some(tag) = &filter.tag {
            sql.push(
                " AND EXISTS (SELECT 1 FROM ticket_tags g WHERE g.ticket_id = t.id AND g.tag = ",
            )
            .bind(Param::Text(tag.clone()))
            .push(")");
        }
        if let Some(text) = filter.text.as_deref().filter(|t| !t.trim().is_empty()) {
            let pattern = format!("%{}%", text.trim().to_lowercase().replace(['%', '_'], ""));
            sql.push(" AND lower(t.subject) LIKE ")
                .bind(Param::Text(pattern));
        }
        let (keys, descending) = sort.keys();
        if let Some(cursor) = cursor.filter(|c| !c.is_empty()) {
            let values = sort.parse_cursor(cursor)?;
            sql.push(&format!(
                " AND ({}) {} ",
                keys.join(", "),
                if descending { "<" } else { ">" }
            ))
            .bind_list(values.into_iter().map(Param::Int));
        }
        let direction = if descending { " DESC" } else { "" };
        let order: Vec<String> = keys.iter().map(|k| format!("{k}{direction}")).collect();
        sql.push(&format!(" ORDER BY {} LIMIT ", order.join(", ")))
            .bind(Param::Int(limit + 1));
        let rows = sql.query().fetch_all(&self.read).await?;
        let mut items: Vec<Ticket> = rows.iter().map(ticket_from_row).collect::<Result<_, _>>()?;
        let more = items.len() as i64 > limit;
        items.truncate(usize::try_from(limit).unwrap_or(0));
        self.load_tags(&mut items).await?;
        let next_cursor = if more {
            items.last().map(|t| sort.cursor_of(t))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn load_tags(&self, tickets: &mut [Ticket]) -> Result<(), StoreError> {
        if tickets.is_empty() {
            return Ok(());
        }
        let mut sql = Sql::new("SELECT ticket_id, tag FROM ticket_tags WHERE ticket_id IN ");
        sql.bind_list(tickets.iter().map(|t| Param::Int(t.id)));
        sql.push(" ORDER BY tag");
        let mut by_ticket: HashMap<i64, Vec<String>> = HashMap::new();
        for row in sql.query().fetch_all(&self.read).await? {
            by_ticket
                .entry(row.try_get(0)?)
                .or_default()
                .push(row.try_get(1)?);
        }
        for ticket in tickets {
            ticket.tags = by_ticket.remove(&ticket.id).unwrap_or_default();
        }
        Ok(())
    }

    /// Counts of active tickets per team and status, for queue navigation. Read from
    /// `ticket_counts`, which triggers keep in step with every ticket change.
    pub async fn queue_counts(&self) -> Result<Vec<(i64, Status, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT team_id, status, n FROM ticket_counts WHERE status IN ('new', 'open', 'pending') AND n > 0",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get(1)?;
                Ok((
                    row.try_get(0)?,
                    Status::parse("status", &status).map_err(corrupt)?,
                    row.try_get(2)?,
                ))
            })
            .collect()
    }

    /// The messages of a ticket in order; internal notes only when `include_internal`.
    pub async fn messages(
        &self,
        ticket_id: i64,
        include_internal: bool,
    ) -> Result<Vec<Message>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.ticket_id, m.author_id, u.email, u.name, m.internal, m.body, m.created_at, u.role, m.quoted \
             FROM messages m JOIN users u ON u.id = m.author_id \
             WHERE m.ticket_id = $1 AND (m.internal = 0 OR $2 = 1) ORDER BY m.id",
        )
        .bind(ticket_id)
        .bind(i64::from(include_internal))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Message {
                    id: row.try_get(0)?,
                    ticket_id: row.try_get(1)?,
                    author: UserRef {
                        id: row.try_get(2)?,
                        email: row.try_get(3)?,
                        name: row.try_get(4)?,
                    },
                    internal: row.try_get::<i64, _>(5)? != 0,
                    body: row.try_get(6)?,
                    created_at: ts(row.try_get(7)?)?,
                    author_is_staff: !Role::parse("role", &row.try_get::<String, _>(8)?)
                        .map_err(corrupt)?
                        .speaks_for_the_customer(),
                    quoted: row.try_get(9)?,
                })
            })
            .collect()
    }

    /// Adds a public reply or internal note by `author` and moves the status as replies do.
    pub async fn add_message(
        &self,
        ticket_id: i64,
        author: i64,
        author_role: Role,
        body: &Body,
        internal: bool,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut w = self.write(Some(author), now).await?;
        let message_id = add_message_in(
            &mut w,
            &self.sla,
            ticket_id,
            Author {
                id: author,
                role: author_role,
            },
            (body, None),
            internal,
        )
        .await?;
        w.commit().await?;
        Ok(message_id)
    }

    /// Applies triage changes, each checked by the domain, as one event of before/after values.
    pub async fn update_ticket(
        &self,
        ticket_id: i64,
        changes: &TicketChanges,
        actor: i64,
        now: Timestamp,
    ) -> Result<Ticket, StoreError> {
        let ticket = self.ticket(ticket_id).await?;
        let mut before = Map::new();
        let mut after = Map::new();
        let mut w = self.write(Some(actor), now).await?;
        let mut sets: Vec<(&str, Param)> = Vec::new();

        if let Some(subject) = &changes.subject {
            if subject.as_str() != ticket.subject {
                before.insert("subject".into(), json!(ticket.subject));
                after.insert("subject".into(), json!(subject.as_str()));
                sets.push(("subject", Param::Text(subject.as_str().to_owned())));
            }
        }
        if let Some(status) = changes.status {
            if status != ticket.status {
                ticket.status.move_to(status)?;
                before.insert("status".into(), json!(ticket.status.as_str()));
                after.insert("status".into(), json!(status.as_str()));
                sets.push(("status", Param::Text(status.as_str().to_owned())));
                push_status_times(&mut sets, status, w.now());
            }
        }
        let next_status = changes.status.unwrap_or(ticket.status);
        if changes.pending_reason.is_some() && next_status != Status::Pending {
            return Err(Invalid::new(
                "pending_reason",
                "only a pending ticket waits on someone; set status to pending as well",
            )
            .into());
        }
        let reason = (next_status == Status::Pending).then(|| {
            changes
                .pending_reason
                .or(ticket.pending_reason)
                .unwrap_or(PendingReason::Customer)
        });
        if reason != ticket.pending_reason {
            before.insert(
                "pending_reason".into(),
                json!(ticket.pending_reason.map(PendingReason::as_str)),
            );
            after.insert(
                "pending_reason".into(),
                json!(reason.map(PendingReason::as_str)),
            );
            sets.push((
                "pending_reason",
                reason.map_or(Param::NullText, |r| Param::Text(r.as_str().to_owned())),
            ));
        }
        if let Some(vendor) = changes.vendor {
            let current = ticket.vendor.as_ref().map(|(id, _)| *id);
            if vendor != current {
                if let Some(id) = vendor {
                    self.vendor(id).await.map_err(|e| match e {
                        StoreError::NotFound(_) => Invalid::new("vendor", "no such vendor").into(),
                        other => other,
                    })?;
                }
                before.insert("vendor_id".into(), json!(current));
                after.insert("vendor_id".into(), json!(vendor));
                sets.push(("vendor_id", vendor.map_or(Param::Null, Param::Int)));
            }
        }
        if let Some(reference) = &changes.vendor_ref {
            if *reference != ticket.vendor_ref {
                before.insert("vendor_ref".into(), json!(ticket.vendor_ref));
                after.insert("vendor_ref".into(), json!(reference));
                sets.push((
                    "vendor_ref",
                    reference.clone().map_or(Param::NullText, Param::Text),
                ));
            }
        }
        if changes.vendor_responded {
            let waiting = next_status == Status::Pending && reason == Some(PendingReason::Vendor);
            if !waiting
                || changes
                    .vendor
                    .unwrap_or(ticket.vendor.as_ref().map(|(id, _)| *id))
                    .is_none()
            {
                return Err(Invalid::new(
                    "vendor_responded",
                    "only a ticket waiting on a vendor can record the vendor's response",
                )
                .into());
            }
            after.insert("vendor_responded".into(), json!(true));
        }
        let impact = changes.impact.unwrap_or(ticket.impact);
        let urgency = changes.urgency.unwrap_or(ticket.urgency);
        if impact != ticket.impact {
            before.insert("impact".into(), json!(ticket.impact.as_str()));
            after.insert("impact".into(), json!(impact.as_str()));
            sets.push(("impact", Param::Text(impact.as_str().to_owned())));
        }
        if urgency != ticket.urgency {
            before.insert("urgency".into(), json!(ticket.urgency.as_str()));
            after.insert("urgency".into(), json!(urgency.as_str()));
            sets.push(("urgency", Param::Text(urgency.as_str().to_owned())));
        }
        let priority = match changes.priority {
            Some(p) => p,
            None if impact != ticket.impact || urgency != ticket.urgency => {
                Priority::from_matrix(impact, urgency)
            }
            None => ticket.priority,
        };
        if priority != ticket.priority {
            before.insert("priority".into(), json!(ticket.priority.as_str()));
            after.insert("priority".into(), json!(priority.as_str()));
            sets.push(("priority", Param::Int(priority.rank())));
        }
        if let Some(team_id) = changes.team_id {
            if team_id != ticket.team_id {
                let team = self.team(team_id).await?;
                if team.tier != ticket.tier {
                    return Err(Invalid::new(
                        "team",
                        format!(
                            "'{}' works at {} and the ticket is at {}; use escalate or de-escalate to change tier",
                            team.name, team.tier, ticket.tier
                        ),
                    )
                    .into());
                }
                before.insert("team".into(), json!(ticket.team_name));
                after.insert("team".into(), json!(team.name));
                sets.push(("team_id", Param::Int(team.id)));
            }
        }
        if let Some(assignee) = changes.assignee {
            let current = ticket.assignee.as_ref().map(|a| a.id);
            if assignee != current {
                let target_team = changes.team_id.unwrap_or(ticket.team_id);
                let email = match assignee {
                    Some(user_id) => Some(self.check_assignee(user_id, target_team).await?),
                    None => None,
                };
                before.insert(
                    "assignee".into(),
                    json!(ticket.assignee.as_ref().map(|a| a.email.clone())),
                );
                after.insert("assignee".into(), json!(email));
                sets.push(("assignee_id", assignee.map_or(Param::Null, Param::Int)));
            }
        }
        if let Some(category) = &changes.category {
            let new = category.as_ref().map(|c| c.as_str().to_owned());
            if new != ticket.category {
                before.insert("category".into(), json!(ticket.category));
                after.insert("category".into(), json!(new));
                sets.push(("category", new.map_or(Param::NullText, Param::Text)));
            }
        }
        if let Some(service) = &changes.service {
            let current = ticket.service.as_ref().map(|(id, _)| *id);
            let new = service.as_ref().map(|(id, _)| *id);
            if new != current {
                let name = |s: &Option<(i64, String)>| s.as_ref().map(|(_, n)| n.clone());
                before.insert("service".into(), json!(name(&ticket.service)));
                after.insert("service".into(), json!(name(service)));
                after.insert("service_id".into(), json!(new));
                sets.push(("service_id", new.map_or(Param::Null, Param::Int)));
            }
        }
        let mut tags = ticket.tags.clone();
        for tag in &changes.add_tags {
            if !tags.iter().any(|t| t == tag.as_str()) {
                insert_tag(&mut w, ticket_id, tag).await?;
                tags.push(tag.as_str().to_owned());
            }
        }
        for tag in &changes.remove_tags {
            if tags.iter().any(|t| t == tag.as_str()) {
                sqlx::query("DELETE FROM ticket_tags WHERE ticket_id = $1 AND tag = $2")
                    .bind(ticket_id)
                    .bind(tag.as_str())
                    .execute(&mut *w.tx)
                    .await?;
                tags.retain(|t| t != tag.as_str());
            }
        }
        tags.sort();
        if tags != ticket.tags {
            before.insert("tags".into(), json!(ticket.tags));
            after.insert("tags".into(), json!(tags));
        }
        if before.is_empty() && after.is_empty() {
            return Ok(ticket);
        }
        sets.push(("updated_at", Param::Int(w.now())));
        let mut sql = Sql::new("UPDATE tickets SET ");
        for (i, (column, value)) in sets.into_iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push(column).push(" = ").bind(value);
        }
        sql.push(" WHERE id = ").bind(Param::Int(ticket_id));
        sql.query().execute(&mut *w.tx).await?;
        w.event(
            "ticket",
            ticket_id,
            "ticket.updated",
            false,
            json!({"before": Value::Object(before), "after": Value::Object(after)}),
        )
        .await?;
        refresh_clocks(&mut w, &self.sla, &[ticket_id]).await?;
        w.commit().await?;
        self.ticket(ticket_id).await
    }

    async fn check_assignee(&self, user_id: i64, team_id: i64) -> Result<String, StoreError> {
        let user = self.user(user_id).await.map_err(|e| match e {
            StoreError::NotFound(_) => Invalid::new("assignee", "no such user").into(),
            other => other,
        })?;
        if !user.role.may_be_assigned() {
            return Err(Invalid::new(
                "assignee",
                format!(
                    "{} is a {} and cannot work tickets",
                    user.email,
                    user.role.as_str()
                ),
            )
            .into());
        }
        if user.role.assigned_within_own_teams() && !user.team_ids.contains(&team_id) {
            return Err(Invalid::new(
                "assignee",
                format!("{} is not a member of the ticket's team", user.email),
            )
            .into());
        }
        Ok(user.email)
    }

    /// Escalates a ticket to its team's escalation target (or the named team), or de-escalates
    /// it back down (to the named team, or the team it last came from).
    pub async fn escalate(
        &self,
        ticket_id: i64,
        request: &EscalationRequest<'_>,
        actor: i64,
        now: Timestamp,
    ) -> Result<Ticket, StoreError> {
        let EscalationRequest {
            up,
            to_team,
            reason,
            tried,
        } = *request;
        let ticket = self.ticket(ticket_id).await?;
        let from = self.team(ticket.team_id).await?;
        let from_route = route(&from);
        let target_id = match (to_team, up) {
            (Some(id), _) => Some(id),
            (None, true) => from.escalates_to,
            (None, false) => self.escalated_from(ticket_id, from.id).await?,
        };
        let target = match target_id {
            Some(id) => Some(self.team(id).await.map_err(|e| match e {
                StoreError::NotFound(_) => Invalid::new("team", "no such team").into(),
                other => other,
            })?),
            None => None,
        };
        let target_route = target.as_ref().map(route);
        let plan = if up {
            Escalation::up(
                ticket.tier,
                &from_route,
                target_route.as_ref(),
                reason,
                tried,
            )?
        } else {
            Escalation::down(ticket.tier, target_route.as_ref(), reason)?
        };
        let to_name = target.map(|t| t.name).unwrap_or_default();
        let mut w = self.write(Some(actor), now).await?;
        sqlx::query("UPDATE tickets SET team_id = $1, tier = $2, assignee_id = NULL, updated_at = $3 WHERE id = $4")
            .bind(plan.to_team)
            .bind(i64::from(plan.to_tier.level()))
            .bind(w.now())
            .bind(ticket_id)
            .execute(&mut *w.tx)
            .await?;
        let kind = if up {
            "ticket.escalated"
        } else {
            "ticket.deescalated"
        };
        w.event(
            "ticket",
            ticket_id,
            kind,
            false,
            json!({
                "before": {"team": ticket.team_name, "team_id": ticket.team_id, "tier": ticket.tier.to_string(),
                           "assignee": ticket.assignee.as_ref().map(|a| a.email.clone())},
                "after": {"team": to_name, "team_id": plan.to_team, "tier": plan.to_tier.to_string(), "assignee": null},
                "reason": plan.reason.as_str(),
                "tried": plan.tried.as_ref().map(Body::as_str),
            }),
        )
        .await?;
        refresh_clocks(&mut w, &self.sla, &[ticket_id]).await?;
        w.commit().await?;
        self.ticket(ticket_id).await
    }

    /// The team the most recent escalation into `team_id` came from.
    async fn escalated_from(
        &self,
        ticket_id: i64,
        team_id: i64,
    ) -> Result<Option<i64>, StoreError> {
        let events = self.events_of("ticket", ticket_id, false).await?;
        Ok(events
            .iter()
            .rev()
            .filter(|e| e.kind == "ticket.escalated")
            .find(|e| e.data["after"]["team_id"].as_i64() == Some(team_id))
            .and_then(|e| e.data["before"]["team_id"].as_i64()))
    }
}

fn route(team: &crate::Team) -> TeamRoute {
    TeamRoute {
        id: team.id,
        tier: team.tier,
        escalates_to: team.escalates_to,
    }
}

/// Who writes a message, and in which role (a customer's reply reopens, a note moves nothing).
pub(crate) struct Author {
    pub(crate) id: i64,
    pub(crate) role: Role,
}

/// Adds a message (with the quoted history folded off it, for mail) inside `w`, moves the
/// status as replies do and refreshes the clocks.
pub(crate) async fn add_message_in(
    w: &mut Write,
    sla: &crate::sla_config::SlaCache,
    ticket_id: i64,
    author: Author,
    (body, quoted): (&Body, Option<&str>),
    internal: bool,
) -> Result<i64, StoreError> {
    let status = current_status(w, ticket_id).await?;
    let message_id = insert_message(w, ticket_id, author.id, internal, body).await?;
    if let Some(quoted) = quoted {
        sqlx::query("UPDATE messages SET quoted = $1 WHERE id = $2")
            .bind(quoted)
            .bind(message_id)
            .execute(&mut *w.tx)
            .await?;
    }
    w.event(
        "ticket",
        ticket_id,
        "message.added",
        internal,
        json!({"message_id": message_id, "internal": internal}),
    )
    .await?;
    if let Some(next) = status.after_reply(author.role.speaks_for_the_customer(), internal) {
        set_status(w, ticket_id, status, next).await?;
    }
    touch(w, ticket_id).await?;
    refresh_clocks(w, sla, &[ticket_id]).await?;
    Ok(message_id)
}

pub(crate) async fn current_status(w: &mut Write, ticket_id: i64) -> Result<Status, StoreError> {
    let status: String = sqlx::query_scalar("SELECT status FROM tickets WHERE id = $1")
        .bind(ticket_id)
        .fetch_optional(&mut *w.tx)
        .await?
        .ok_or(StoreError::NotFound("ticket"))?;
    Status::parse("status", &status).map_err(corrupt)
}

async fn set_status(
    w: &mut Write,
    ticket_id: i64,
    from: Status,
    to: Status,
) -> Result<(), StoreError> {
    from.move_to(to)?;
    let mut sets = vec![("status", Param::Text(to.as_str().to_owned()))];
    if to != Status::Pending {
        sets.push(("pending_reason", Param::NullText));
    }
    push_status_times(&mut sets, to, w.now());
    let mut sql = Sql::new("UPDATE tickets SET ");
    for (i, (column, value)) in sets.into_iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.push(column).push(" = ").bind(value);
    }
    sql.push(" WHERE id = ").bind(Param::Int(ticket_id));
    sql.query().execute(&mut *w.tx).await?;
    w.event(
        "ticket",
        ticket_id,
        "ticket.updated",
        false,
        json!({"before": {"status": from.as_str()}, "after": {"status": to.as_str()}}),
    )
    .await?;
    Ok(())
}

/// Keeps `resolved_at` and `closed_at` in step with the status.
fn push_status_times(sets: &mut Vec<(&str, Param)>, status: Status, now: i64) {
    match status {
        Status::Resolved => sets.push(("resolved_at", Param::Int(now))),
        Status::Closed => sets.push(("closed_at", Param::Int(now))),
        Status::Open => {
            sets.push(("resolved_at", Param::Null));
            sets.push(("closed_at", Param::Null));
        }
        Status::New | Status::Pending => {}
    }
}

pub(crate) async fn touch(w: &mut Write, ticket_id: i64) -> Result<(), StoreError> {
    sqlx::query("UPDATE tickets SET updated_at = $1 WHERE id = $2")
        .bind(w.now())
        .bind(ticket_id)
        .execute(&mut *w.tx)
        .await?;
    Ok(())
}

async fn insert_message(
    w: &mut Write,
    ticket_id: i64,
    author: i64,
    internal: bool,
    body: &Body,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO messages (ticket_id, author_id, internal, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(ticket_id)
    .bind(author)
    .bind(i64::from(internal))
    .bind(body.as_str())
    .bind(w.now())
    .fetch_one(&mut *w.tx)
    .await?)
}

async fn insert_tag(w: &mut Write, ticket_id: i64, tag: &Tag) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO ticket_tags (ticket_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(ticket_id)
        .bind(tag.as_str())
        .execute(&mut *w.tx)
        .await?;
    Ok(())
}

fn ticket_from_row(row: &AnyRow) -> Result<Ticket, StoreError> {
    let status: String = row.try_get(2)?;
    let impact: String = row.try_get(4)?;
    let urgency: String = row.try_get(5)?;
    let assignee_id: Option<i64> = row.try_get(14)?;
    Ok(Ticket {
        id: row.try_get(0)?,
        subject: row.try_get(1)?,
        status: Status::parse("status", &status).map_err(corrupt)?,
        priority: Priority::from_rank(row.try_get(3)?).map_err(corrupt)?,
        impact: Impact::parse(&impact).map_err(corrupt)?,
        urgency: Urgency::parse(&urgency).map_err(corrupt)?,
        tier: Tier::from_level("tier", row.try_get(6)?).map_err(corrupt)?,
        team_id: row.try_get(7)?,
        team_name: row.try_get(8)?,
        org_id: row.try_get(9)?,
        org_name: row.try_get(10)?,
        requester: UserRef {
            id: row.try_get(11)?,
            email: row.try_get(12)?,
            name: row.try_get(13)?,
        },
        assignee: match assignee_id {
            Some(id) => Some(UserRef {
                id,
                email: row.try_get::<Option<String>, _>(15)?.unwrap_or_default(),
                name: row.try_get::<Option<String>, _>(16)?.unwrap_or_default(),
            }),
            None => None,
        },
        category: row.try_get(17)?,
        service: match row.try_get::<Option<i64>, _>(27)? {
            Some(id) => Some((
                id,
                row.try_get::<Option<String>, _>(28)?.unwrap_or_default(),
            )),
            None => None,
        },
        channel: row.try_get(18)?,
        tags: Vec::new(),
        created_at: ts(row.try_get(19)?)?,
        updated_at: ts(row.try_get(20)?)?,
        pending_reason: match row.try_get::<Option<String>, _>(21)? {
            Some(r) => Some(PendingReason::parse("pending_reason", &r).map_err(corrupt)?),
            None => None,
        },
        sla_due_at: match row.try_get::<i64, _>(22)? {
            NO_DUE => None,
            at => Some(ts(at)?),
        },
        sla_warn_at: row.try_get::<Option<i64>, _>(23)?.map(ts).transpose()?,
        vendor: match row.try_get::<Option<i64>, _>(24)? {
            Some(id) => Some((
                id,
                row.try_get::<Option<String>, _>(25)?.unwrap_or_default(),
            )),
            None => None,
        },
        vendor_ref: row.try_get(26)?,
    })
}
