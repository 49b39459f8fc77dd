//! What the search index is built from, read from the database: a row per ticket, article,
//! incident and problem record, read in batches (one query per table per batch, never one
//! per row), for the live indexer (by id) and for a full rebuild (by id range). The indexer
//! (`server::workers::search`) turns rows into index documents and decides who may find them;
//! the store knows nothing of the index.

use std::collections::HashMap;

use opsdesk_domain::knowledge::{ArticleStatus, Visibility};
use sqlx::Row;

use crate::sql::{Param, Sql};
use crate::{Store, StoreError};

/// What the search index follows: the kinds of event-log subject it indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Searchable {
    /// Tickets: subject, public messages, internal notes, tags.
    Ticket,
    /// Knowledge articles (archived ones are not searchable).
    Article,
    /// Incidents: title, summary, notes.
    Incident,
    /// Problem records: title, root cause, workaround.
    Problem,
}

impl Searchable {
    /// Every kind, in the order a rebuild reads them.
    pub const ALL: [Searchable; 4] = [
        Searchable::Ticket,
        Searchable::Article,
        Searchable::Incident,
        Searchable::Problem,
    ];

    /// The kind of an event-log subject (`ticket`, `article`…), if the index follows it.
    pub fn of_subject(subject_kind: &str) -> Option<Self> {
        match subject_kind {
            "ticket" => Some(Searchable::Ticket),
            "article" => Some(Searchable::Article),
            "incident" => Some(Searchable::Incident),
            "problem" => Some(Searchable::Problem),
            _ => None,
        }
    }

    fn table(self) -> &'static str {
        match self {
            Searchable::Ticket => "tickets",
            Searchable::Article => "articles",
            Searchable::Incident => "incidents",
            Searchable::Problem => "problems",
        }
    }
}

/// Whose a searchable row is, as the database records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A ticket of this organisation.
    Organisation(i64),
    /// A ticket of a customer without an organisation.
    Requester(i64),
    /// An article: its visibility, and whether readers see a published version.
    Article {
        /// Who the article is for.
        visibility: Visibility,
        /// Readers see a published version (its text is the row's).
        published: bool,
    },
    /// The desk's own records (incidents, problems).
    Desk,
}

/// One searchable thing as it is now.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRow {
    /// What it is.
    pub kind: Searchable,
    /// Its id.
    pub id: i64,
    /// Subject or title (an article's published one once published).
    pub title: String,
    /// What its readers may read: public messages, the article, the summary and notes.
    pub text: String,
    /// What only staff read (internal notes).
    pub internal: String,
    /// Tags (a ticket's; an article's category).
    pub tags: Vec<String>,
    /// Status as the UI names it.
    pub status: String,
    /// The owning team, if any.
    pub team: Option<i64>,
    /// The organisation, if any.
    pub org: Option<i64>,
    /// Whose it is.
    pub owner: Owner,
    /// Created (UTC microseconds).
    pub created: i64,
    /// Last changed (UTC microseconds).
    pub updated: i64,
}

impl Store {
    /// The rows of these things as they are now; a thing deleted or no longer searchable has
    /// none.
    pub async fn search_rows(
        &self,
        kind: Searchable,
        ids: &[i64],
    ) -> Result<Vec<SearchRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.rows_of(kind, Selection::Ids(ids)).await
    }

    /// Up to `limit` rows of `kind` with ids above `after`, in id order (a rebuild's pages).
    pub async fn search_rows_after(
        &self,
        kind: Searchable,
        after: i64,
        limit: i64,
    ) -> Result<Vec<SearchRow>, StoreError> {
        self.rows_of(kind, Selection::After(after, limit)).await
    }

    /// How many rows of `kind` a rebuild reads (its progress bar's length).
    pub async fn search_row_count(&self, kind: Searchable) -> Result<i64, StoreError> {
        let table = kind.table();
        Ok(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&self.read)
            .await?)
    }

    /// The position of the newest event (a rebuild starts from here).
    pub async fn last_event_seq(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(seq) FROM events")
                .fetch_one(&self.read)
                .await?
                .unwrap_or(0),
        )
    }

    async fn rows_of(
        &self,
        kind: Searchable,
        which: Selection<'_>,
    ) -> Result<Vec<SearchRow>, StoreError> {
        match kind {
            Searchable::Ticket => self.ticket_rows(which).await,
            Searchable::Article => self.article_rows(which).await,
            Searchable::Incident => self.incident_rows(which).await,
            Searchable::Problem => self.problem_rows(which).await,
        }
    }

    async fn ticket_rows(&self, which: Selection<'_>) -> Result<Vec<SearchRow>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, subject, status, team_id, org_id, requester_id, created_at, updated_at FROM tickets t WHERE 1 = 1",
        );
        which.push(&mut sql, "t.id");
        let mut docs = Vec::new();
        for r in sql.query().fetch_all(&self.read).await? {
            let org: Option<i64> = r.try_get(4)?;
            let requester: i64 = r.try_get(5)?;
            docs.push(SearchRow {
                kind: Searchable::Ticket,
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                text: String::new(),
                internal: String::new(),
                tags: Vec::new(),
                status: r.try_get(2)?,
                team: r.try_get(3)?,
                org,
                owner: org.map_or(Owner::Requester(requester), Owner::Organisation),
                created: r.try_get(6)?,
                updated: r.try_get(7)?,
            });
        }
        let Some(ids) = id_list(&docs) else {
            return Ok(docs);
        };
        let at: HashMap<i64, usize> = docs.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
        let mut messages =
            Sql::new("SELECT ticket_id, internal, body FROM messages WHERE ticket_id IN ");
        messages
            .bind_list(ids.clone())
            .push(" ORDER BY ticket_id, id");
        for r in messages.query().fetch_all(&self.read).await? {
            let Some(&i) = at.get(&r.try_get::<i64, _>(0)?) else {
                continue;
            };
            let internal = r.try_get::<i64, _>(1)? != 0;
            let body: String = r.try_get(2)?;
            let into = if internal {
                &mut docs[i].internal
            } else {
                &mut docs[i].text
            };
            if !into.is_empty() {
                into.push_str("\n\n");
            }
            into.push_str(&body);
        }
        let mut tags = Sql::new("SELECT ticket_id, tag FROM ticket_tags WHERE ticket_id IN ");
        tags.bind_list(ids);
        for r in tags.query().fetch_all(&self.read).await? {
            if let Some(&i) = at.get(&r.try_get::<i64, _>(0)?) {
                docs[i].tags.push(r.try_get(1)?);
            }
        }
        Ok(docs)
    }

    async fn article_rows(&self, which: Selection<'_>) -> Result<Vec<SearchRow>, StoreError> {
        let mut sql = Sql::new(
            "SELECT a.id, a.title, a.body, pv.title, pv.body, a.status, a.visibility, c.name, \
             a.created_at, a.updated_at FROM articles a \
             LEFT JOIN kb_categories c ON c.id = a.category_id \
             LEFT JOIN article_versions pv ON pv.article_id = a.id AND pv.version = a.published_version \
             WHERE a.status <> 'archived'",
        );
        which.push(&mut sql, "a.id");
        let mut docs = Vec::new();
        for r in sql.query().fetch_all(&self.read).await? {
            let status = ArticleStatus::parse("status", &r.try_get::<String, _>(5)?)
                .map_err(crate::error::corrupt)?;
            let visibility = Visibility::parse("visibility", &r.try_get::<String, _>(6)?)
                .map_err(crate::error::corrupt)?;
            let published: Option<String> = r.try_get(3)?;
            // Readers find the published text; a never-published draft only staff find.
            let (title, body, published) = match published {
                Some(title) if status == ArticleStatus::Published => (
                    title,
                    r.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
                    true,
                ),
                _ => (r.try_get(1)?, r.try_get(2)?, false),
            };
            docs.push(SearchRow {
                kind: Searchable::Article,
                id: r.try_get(0)?,
                title,
                text: body,
                internal: String::new(),
                tags: r.try_get::<Option<String>, _>(7)?.into_iter().collect(),
                status: status.as_str().into(),
                team: None,
                org: None,
                owner: Owner::Article {
                    visibility,
                    published,
                },
                created: r.try_get(8)?,
                updated: r.try_get(9)?,
            });
        }
        Ok(docs)
    }

    async fn incident_rows(&self, which: Selection<'_>) -> Result<Vec<SearchRow>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, title, summary, status, team_id, created_at, updated_at FROM incidents i WHERE 1 = 1",
        );
        which.push(&mut sql, "i.id");
        let mut docs = Vec::new();
        for r in sql.query().fetch_all(&self.read).await? {
            docs.push(SearchRow {
                kind: Searchable::Incident,
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                text: r.try_get(2)?,
                internal: String::new(),
                tags: Vec::new(),
                status: r.try_get(3)?,
                team: r.try_get(4)?,
                org: None,
                owner: Owner::Desk,
                created: r.try_get(5)?,
                updated: r.try_get(6)?,
            });
        }
        let Some(ids) = id_list(&docs) else {
            return Ok(docs);
        };
        let at: HashMap<i64, usize> = docs.iter().enumerate().map(|(i, d)| (d.id, i)).collect();
        let mut notes = Sql::new(
            "SELECT subject_id, data FROM events WHERE subject_kind = 'incident' AND kind = 'incident.note' \
             AND subject_id IN ",
        );
        notes.bind_list(ids).push(" ORDER BY seq");
        for r in notes.query().fetch_all(&self.read).await? {
            let Some(&i) = at.get(&r.try_get::<i64, _>(0)?) else {
                continue;
            };
            let data: serde_json::Value =
                serde_json::from_str(&r.try_get::<String, _>(1)?).unwrap_or_default();
            if let Some(body) = data["body"].as_str() {
                let text = &mut docs[i].text;
                if !text.is_empty() {
                    text.push_str("\n\n");
                }
                text.push_str(body);
            }
        }
        Ok(docs)
    }

    async fn problem_rows(&self, which: Selection<'_>) -> Result<Vec<SearchRow>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, title, status, root_cause, workaround, created_at, updated_at FROM problems p WHERE 1 = 1",
        );
        which.push(&mut sql, "p.id");
        let mut docs = Vec::new();
        for r in sql.query().fetch_all(&self.read).await? {
            let cause: String = r.try_get(3)?;
            let workaround: String = r.try_get(4)?;
            docs.push(SearchRow {
                kind: Searchable::Problem,
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                text: format!("{cause}\n\n{workaround}").trim().to_owned(),
                internal: String::new(),
                tags: Vec::new(),
                status: r.try_get(2)?,
                team: None,
                org: None,
                owner: Owner::Desk,
                created: r.try_get(5)?,
                updated: r.try_get(6)?,
            });
        }
        Ok(docs)
    }
}

/// Which rows a document query reads.
#[derive(Debug, Clone, Copy)]
enum Selection<'a> {
    /// These ids.
    Ids(&'a [i64]),
    /// Ids above the first, at most the second many, in order.
    After(i64, i64),
}

impl Selection<'_> {
    fn push(self, sql: &mut Sql, id_column: &str) {
        match self {
            Selection::Ids(ids) => {
                sql.push(&format!(" AND {id_column} IN "))
                    .bind_list(ids.iter().map(|id| Param::Int(*id)));
            }
            Selection::After(after, limit) => {
                sql.push(&format!(" AND {id_column} > "))
                    .bind(Param::Int(after))
                    .push(&format!(" ORDER BY {id_column} LIMIT "))
                    .bind(Param::Int(limit));
            }
        }
    }
}

fn id_list(docs: &[SearchRow]) -> Option<Vec<Param>> {
    if docs.is_empty() {
        None
    } else {
        Some(docs.iter().map(|d| Param::Int(d.id)).collect())
    }
}
