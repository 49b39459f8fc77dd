//! New tickets as rows: a create as requested ([`CreateRequest`]), resolved against teams,
//! people and services ([`Prepared`]), and written with one multi-row statement per table and
//! their clocks. Shared by the batch writer (`batch.rs`), the dialect writers, mail intake and
//! single creates.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use opsdesk_domain::{Invalid, Priority, Status, Tier};
use sqlx::Row;

use crate::clock_inputs::ClockInputs;
use crate::clocks::{clocks_of_new_tickets, NearestDue, NO_DUE};
use crate::error::corrupt;
use crate::events::{NewEvent, Write};
use crate::model::ts;
use crate::sla_config::SlaCache;
use crate::sql::{Param, Sql};
use crate::{NewTicket, ServiceRef, StoreError, TeamRef, Ticket, UserRef};
use opsdesk_domain::sla::{Fact, Happening};

/// A create as requested: the validated ticket, who asks, and when.
#[derive(Debug, Clone)]
pub(crate) struct CreateRequest {
    pub(crate) new: NewTicket,
    pub(crate) actor: i64,
    pub(crate) now: Timestamp,
}

/// A create whose references are resolved: everything the rows and the reply need.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub(crate) new: NewTicket,
    pub(crate) actor: i64,
    pub(crate) now: Timestamp,
    pub(crate) team_id: i64,
    pub(crate) team_name: String,
    pub(crate) tier: Tier,
    pub(crate) requester: UserRef,
    pub(crate) org_id: Option<i64>,
    pub(crate) org_name: Option<String>,
    pub(crate) priority: Priority,
    /// The service it is about, resolved: (id, name).
    pub(crate) service: Option<(i64, String)>,
}

/// The teams (id, name, tier) in tier order, and the requesters of a batch by id with their
/// organisation: what resolving a create reads.
pub(crate) type Teams = Vec<(i64, String, i64)>;
/// Requesters by id: the person, their organisation's id and name.
pub(crate) type People = HashMap<i64, (UserRef, Option<i64>, Option<String>)>;
/// The services a batch names, by [`service_key`]: (id, name).
pub(crate) type Services = HashMap<String, (i64, String)>;

/// The SQL of the reads [`resolve`] needs; the requesters' ids follow as a list.
pub(crate) const TEAMS_SQL: &str = "SELECT id, name, tier FROM teams ORDER BY tier, id";
pub(crate) const PEOPLE_SQL: &str = "SELECT u.id, u.email, u.name, u.org_id, o.name FROM users u \
     LEFT JOIN orgs o ON o.id = u.org_id WHERE u.id IN ";
/// One service by name, regardless of case (the unique index is on `lower(name)`).
pub(crate) const SERVICE_SQL: &str = "SELECT id, name FROM services WHERE lower(name) = lower($1)";

/// A service name as [`Services`] keys it: ASCII letters in lower case, as SQLite's `lower()`
/// folds them (a non-ASCII name matches as typed).
fn service_key(name: &str) -> String {
    name.trim().to_ascii_lowercase()
}

/// The distinct services `requests` name (not yet resolved), as [`service_key`] writes them.
pub(crate) fn named_services(requests: &[CreateRequest]) -> Vec<String> {
    let mut names: Vec<String> = requests
        .iter()
        .filter_map(|r| match &r.new.service {
            Some(ServiceRef::Name(name)) => Some(service_key(name)),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Resolves the team, requester and service of each request with one read of the teams, one of
/// the requesters and one per service named, inside the batch's transaction. A request naming
/// a team or service that does not exist is refused on its own.
pub(crate) async fn prepare(
    w: &mut Write,
    requests: &[CreateRequest],
) -> Result<Vec<Result<Prepared, StoreError>>, StoreError> {
    let teams: Teams = sqlx::query(TEAMS_SQL)
        .fetch_all(&mut *w.tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    let mut sql = Sql::new(PEOPLE_SQL);
    sql.bind_list(requests.iter().map(|r| Param::Int(r.new.requester_id)));
    let mut people: People = HashMap::new();
    for row in sql.query().fetch_all(&mut *w.tx).await? {
        let id: i64 = row.try_get(0)?;
        let person = UserRef {
            id,
            email: row.try_get(1)?,
            name: row.try_get(2)?,
        };
        people.insert(id, (person, row.try_get(3)?, row.try_get(4)?));
    }
    let mut services = Services::new();
    for name in named_services(requests) {
        if let Some(row) = sqlx::query(SERVICE_SQL)
            .bind(name.clone())
            .fetch_optional(&mut *w.tx)
            .await?
        {
            services.insert(name, (row.try_get(0)?, row.try_get(1)?));
        }
    }
    resolve(requests, &teams, &people, &services)
}

/// Resolves each request's team, requester and service from what [`prepare`] reads.
pub(crate) fn resolve(
    requests: &[CreateRequest],
    teams: &Teams,
    people: &People,
    services: &Services,
) -> Result<Vec<Result<Prepared, StoreError>>, StoreError> {
    requests
        .iter()
        .map(|r| {
            let team = match &r.new.team {
                None => teams.first(),
                Some(TeamRef::Id(id)) => teams.iter().find(|t| t.0 == *id),
                Some(TeamRef::Name(name)) => teams
                    .iter()
                    .find(|t| t.1.to_lowercase() == name.trim().to_lowercase()),
            };
            let Some((team_id, team_name, tier)) = team else {
                return Ok(Err(match &r.new.team {
                    Some(TeamRef::Name(name)) => {
                        Invalid::new("team", format!("no team named '{name}'")).into()
                    }
                    Some(TeamRef::Id(_)) => StoreError::NotFound("team"),
                    None => Invalid::new(
                        "team",
                        "no team exists yet; an administrator must create one",
                    )
                    .into(),
                }));
            };
            let Some((requester, org_id, org_name)) = people.get(&r.new.requester_id).cloned()
            else {
                return Ok(Err(StoreError::NotFound("requester")));
            };
            let service = match &r.new.service {
                None => None,
                Some(ServiceRef::Known(id, name)) => Some((*id, name.clone())),
                Some(ServiceRef::Name(name)) => match services.get(&service_key(name)) {
                    Some(found) => Some(found.clone()),
                    None => {
                        return Ok(Err(Invalid::new(
                            "service",
                            format!("no service named '{name}'"),
                        )
                        .into()))
                    }
                },
            };
            Ok(Ok(Prepared {
                new: r.new.clone(),
                actor: r.actor,
                now: r.now,
                team_id: *team_id,
                team_name: team_name.clone(),
                tier: Tier::from_level("tier", *tier).map_err(corrupt)?,
                requester,
                org_id,
                org_name,
                priority: r
                    .new
                    .priority
                    .unwrap_or_else(|| Priority::from_matrix(r.new.impact, r.new.urgency)),
                service,
            }))
        })
        .collect()
}

/// The instant a batch plans at: its latest request's.
pub(crate) fn batch_now(requests: &[CreateRequest]) -> Timestamp {
    requests
        .iter()
        .map(|r| r.now)
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Each request's answer, in order: for a prepared one the ticket built with the next of
/// `ids` and its due instant in `due`, for the rest their own refusal (what both ticket
/// writers answer after their commit).
pub(crate) fn answers(
    prepared: Vec<Result<Prepared, StoreError>>,
    ids: &[i64],
    due: &HashMap<i64, NearestDue>,
) -> Vec<Result<Ticket, StoreError>> {
    let mut ids = ids.iter();
    prepared
        .into_iter()
        .map(|p| {
            let p = p?;
            let id = ids.next().ok_or_else(|| {
                StoreError::Corrupt("a ticket of the batch was given no id".into())
            })?;
            p.ticket(*id, p.now.as_microsecond(), due.get(id).copied().flatten())
        })
        .collect()
}

/// One ticket row to write, with its first message and its event: what a create and an import
/// have in common.
pub(crate) struct TicketRow<'a> {
    pub(crate) new: &'a NewTicket,
    pub(crate) actor: Option<i64>,
    pub(crate) team_id: i64,
    pub(crate) team_name: Option<&'a str>,
    pub(crate) tier: Tier,
    pub(crate) org_id: Option<i64>,
    pub(crate) requester_email: Option<&'a str>,
    pub(crate) priority: Priority,
    /// The service, resolved: (id, name).
    pub(crate) service: Option<(i64, &'a str)>,
    pub(crate) status: Status,
    pub(crate) assignee_id: Option<i64>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    /// `ticket.created` or `ticket.imported`.
    pub(crate) event_kind: &'static str,
}

impl TicketRow<'_> {
    /// The data of the row's `ticket.created` or `ticket.imported` event.
    pub(crate) fn event_data(&self, message_id: Option<i64>) -> serde_json::Value {
        serde_json::to_value(self.event(message_id)).unwrap_or_default()
    }

    /// [`Self::event_data`] as stored: written straight to text, which the ticket writers
    /// store without building the JSON tree first.
    pub(crate) fn event_text(&self, message_id: Option<i64>) -> String {
        serde_json::to_string(&self.event(message_id)).unwrap_or_default()
    }

    fn event(&self, message_id: Option<i64>) -> CreatedEvent<'_> {
        let r = self;
        CreatedEvent {
            message_id,
            status_at: (r.event_kind == "ticket.imported").then(|| r.updated_at.as_microsecond()),
            after: CreatedFields {
                subject: r.new.subject.as_str(),
                status: r.status.as_str(),
                priority: r.priority.as_str(),
                impact: r.new.impact.as_str(),
                urgency: r.new.urgency.as_str(),
                tier: r.tier.to_string(),
                team_id: r.team_id,
                team: r.team_name,
                requester: r.requester_email,
                assignee_id: r.assignee_id,
                category: r.new.category.as_ref().map(|c| c.as_str()),
                service: r.service.map(|(_, name)| name),
                service_id: r.service.map(|(id, _)| id),
                tags: r.new.tags.iter().map(|t| t.as_str()).collect(),
                channel: r.new.channel,
            },
        }
    }
}

/// The data of a `ticket.created` or `ticket.imported` event.
#[derive(serde::Serialize)]
struct CreatedEvent<'a> {
    message_id: Option<i64>,
    /// When an imported ticket's status took effect (its last change).
    status_at: Option<i64>,
    after: CreatedFields<'a>,
}

/// A new ticket's fields, as its event records them.
#[derive(serde::Serialize)]
struct CreatedFields<'a> {
    subject: &'a str,
    status: &'a str,
    priority: &'a str,
    impact: &'a str,
    urgency: &'a str,
    tier: String,
    team_id: i64,
    team: Option<&'a str>,
    requester: Option<&'a str>,
    assignee_id: Option<i64>,
    category: Option<&'a str>,
    service: Option<&'a str>,
    service_id: Option<i64>,
    tags: Vec<&'a str>,
    channel: &'a str,
}

/// Writes `rows` inside `w` with one multi-row statement per table (tickets, messages, tags,
/// events) and returns each row's ticket id and stored creation time, in the order given.
///
/// Rows get distinct creation instants (a row colliding with an earlier one in the same call
/// moves by a microsecond), which maps what RETURNING gives back to the rows without relying
/// on the order of returned rows.
pub(crate) async fn write_rows(
    w: &mut Write,
    rows: &[TicketRow<'_>],
) -> Result<Vec<(i64, i64)>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut taken = HashSet::new();
    let created: Vec<i64> = rows
        .iter()
        .map(|r| {
            let mut at = r.created_at.as_microsecond();
            while !taken.insert(at) {
                at += 1;
            }
            at
        })
        .collect();
    let mut sql = Sql::new(
        "INSERT INTO tickets (subject, status, priority, impact, urgency, tier, team_id, org_id, \
         requester_id, assignee_id, category, service_id, channel, created_at, updated_at) VALUES ",
    );
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind_list([
            Param::Text(r.new.subject.as_str().to_owned()),
            Param::Text(r.status.as_str().to_owned()),
            Param::Int(r.priority.rank()),
            Param::Text(r.new.impact.as_str().to_owned()),
            Param::Text(r.new.urgency.as_str().to_owned()),
            Param::Int(i64::from(r.tier.level())),
            Param::Int(r.team_id),
            r.org_id.map_or(Param::Null, Param::Int),
            Param::Int(r.new.requester_id),
            r.assignee_id.map_or(Param::Null, Param::Int),
            r.new
                .category
                .as_ref()
                .map_or(Param::NullText, |c| Param::Text(c.as_str().to_owned())),
            r.service.map_or(Param::Null, |(id, _)| Param::Int(id)),
            Param::Text(r.new.channel.to_owned()),
            Param::Int(created[i]),
            Param::Int(r.updated_at.as_microsecond().max(created[i])),
        ]);
    }
    sql.push(" RETURNING id, created_at");
    let mut id_at: HashMap<i64, i64> = HashMap::new();
    for row in sql.query().fetch_all(&mut *w.tx).await? {
        id_at.insert(row.try_get(1)?, row.try_get(0)?);
    }
    let ids: Vec<i64> = created
        .iter()
        .map(|at| {
            id_at
                .get(at)
                .copied()
                .ok_or_else(|| StoreError::Corrupt("a new ticket row was not returned".into()))
        })
        .collect::<Result<_, _>>()?;

    let mut sql =
        Sql::new("INSERT INTO messages (ticket_id, author_id, internal, body, created_at) VALUES ");
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind_list([
            Param::Int(ids[i]),
            Param::Int(r.new.requester_id),
            Param::Int(0),
            Param::Text(r.new.body.as_str().to_owned()),
            Param::Int(created[i]),
        ]);
    }
    sql.push(" RETURNING id, ticket_id");
    let mut message_of: HashMap<i64, i64> = HashMap::new();
    for row in sql.query().fetch_all(&mut *w.tx).await? {
        message_of.insert(row.try_get(1)?, row.try_get(0)?);
    }

    let tags: Vec<(i64, &str)> = rows
        .iter()
        .zip(&ids)
        .flat_map(|(r, id)| r.new.tags.iter().map(move |t| (*id, t.as_str())))
        .collect();
    if !tags.is_empty() {
        let mut sql = Sql::new("INSERT INTO ticket_tags (ticket_id, tag) VALUES ");
        for (i, (id, tag)) in tags.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind_list([Param::Int(*id), Param::Text((*tag).to_owned())]);
        }
        sql.push(" ON CONFLICT DO NOTHING");
        sql.query().execute(&mut *w.tx).await?;
    }

    let events: Vec<NewEvent> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| NewEvent {
            at: created[i],
            actor: r.actor,
            subject_kind: "ticket",
            subject_id: ids[i],
            kind: r.event_kind,
            internal: false,
            data: r.event_data(message_of.get(&ids[i]).copied()),
        })
        .collect();
    w.events(&events).await?;
    Ok(ids.into_iter().zip(created).collect())
}

impl Prepared {
    /// The ticket's row as a new ticket.
    pub(crate) fn row(&self) -> TicketRow<'_> {
        TicketRow {
            new: &self.new,
            actor: Some(self.actor),
            team_id: self.team_id,
            team_name: Some(&self.team_name),
            tier: self.tier,
            org_id: self.org_id,
            requester_email: Some(&self.requester.email),
            priority: self.priority,
            service: self.service.as_ref().map(|(id, name)| (*id, name.as_str())),
            status: Status::New,
            assignee_id: None,
            created_at: self.now,
            updated_at: self.now,
            event_kind: "ticket.created",
        }
    }

    /// What the new ticket's clocks are computed from (its history: its creation).
    pub(crate) fn clock_inputs(&self, id: i64, created: i64) -> Result<ClockInputs, StoreError> {
        Ok(ClockInputs {
            id,
            subject: self.new.subject.as_str().to_owned(),
            priority: self.priority,
            team_id: self.team_id,
            org_id: self.org_id,
            plan: None,
            channel: self.new.channel.to_owned(),
            category: self.new.category.as_ref().map(|c| c.as_str().to_owned()),
            service_id: self.service.as_ref().map(|(id, _)| *id),
            team_calendar: None,
            org_calendar: None,
            assignee_id: None,
            team_name: self.team_name.clone(),
            org_name: self.org_name.clone(),
            sla_due_at: NO_DUE,
            sla_warn_at: None,
            sla_policy_id: None,
            tags: self
                .new
                .tags
                .iter()
                .map(|t| t.as_str().to_owned())
                .collect(),
            facts: vec![Fact {
                at: ts(created)?,
                what: Happening::Created,
            }],
            tier: self.tier,
            tier_moves: Vec::new(),
            csat: None,
        })
    }

    /// The ticket as created, with id `id`, created at `created` (stored form), due `due`.
    pub(crate) fn ticket(
        &self,
        id: i64,
        created: i64,
        due: NearestDue,
    ) -> Result<Ticket, StoreError> {
        let mut tags: Vec<String> = self
            .new
            .tags
            .iter()
            .map(|t| t.as_str().to_owned())
            .collect();
        tags.sort();
        let at = ts(created)?;
        Ok(Ticket {
            id,
            subject: self.new.subject.as_str().to_owned(),
            status: Status::New,
            priority: self.priority,
            impact: self.new.impact,
            urgency: self.new.urgency,
            tier: self.tier,
            team_id: self.team_id,
            team_name: self.team_name.clone(),
            org_id: self.org_id,
            org_name: self.org_name.clone(),
            requester: self.requester.clone(),
            assignee: None,
            category: self.new.category.as_ref().map(|c| c.as_str().to_owned()),
            service: self.service.clone(),
            channel: self.new.channel.to_owned(),
            tags,
            created_at: at,
            updated_at: at,
            pending_reason: None,
            sla_due_at: due.map(|(d, _)| d),
            sla_warn_at: due.and_then(|(_, w)| w),
            vendor: None,
            vendor_ref: None,
        })
    }
}

/// Inserts the tickets of `batch` as new tickets (see [`write_rows`]) and returns them in the
/// order given.
pub(crate) async fn insert_tickets(
    w: &mut Write,
    batch: &[Prepared],
    sla: &SlaCache,
) -> Result<Vec<Ticket>, StoreError> {
    let rows: Vec<TicketRow<'_>> = batch.iter().map(Prepared::row).collect();
    let written = write_rows(w, &rows).await?;
    let clock_inputs = batch
        .iter()
        .zip(&written)
        .map(|(p, (id, created))| p.clock_inputs(*id, *created))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let due = clocks_of_new_tickets(w, sla, clock_inputs).await?;
    batch
        .iter()
        .zip(written)
        .map(|(p, (id, created))| p.ticket(id, created, due.get(&id).copied().flatten()))
        .collect()
}
