//! What the search index holds, read from the database: a document per ticket, article,
//! incident and problem record, built in batches (one query per table per batch, never one
//! per row), for the live indexer (by id) and for a full rebuild (by id range).

use std::collections::HashMap;

use opsdesk_domain::knowledge::{ArticleStatus, Visibility};
use opsdesk_search::{Audience, Change, Doc, Kind};
use sqlx::Row;

use crate::sql::{Param, Sql};
use crate::{Store, StoreError};

/// The subject kinds of the event log whose changes the index follows.
pub fn indexed_kind(subject_kind: &str) -> Option<Kind> {
    match subject_kind {
        "ticket" => Some(Kind::Ticket),
        "article" => Some(Kind::Article),
        "incident" => Some(Kind::Incident),
        "problem" => Some(Kind::Problem),
        _ => None,
    }
}

impl Store {
    /// The index changes for these things as they are now: a document for each that exists
    /// and is searchable, a removal for the rest.
    pub async fn search_changes(&self, kind: Kind, ids: &[i64]) -> Result<Vec<Change>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let docs = self.search_docs(kind, Selection::Ids(ids)).await?;
        let mut found: HashMap<i64, Doc> = docs.into_iter().map(|d| (d.id, d)).collect();
        let mut changes = Vec::with_capacity(ids.len());
        for id in ids {
            match found.remove(id) {
                Some(doc) => changes.push(Change::Put(doc)),
                None => changes.push(Change::Remove(kind, *id)),
            }
        }
        Ok(changes)
    }

    /// Up to `limit` documents of `kind` with ids above `after`, in id order (a rebuild's pages).
    pub async fn search_docs_after(
        &self,
        kind: Kind,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Doc>, StoreError> {
        self.search_docs(kind, Selection::After(after, limit)).await
    }

    /// How many rows of `kind` a rebuild reads (its progress bar's length).
    pub async fn search_doc_count(&self, kind: Kind) -> Result<i64, StoreError> {
        let table = match kind {
            Kind::Ticket => "tickets",
            Kind::Article => "articles",
            Kind::Incident => "incidents",
            Kind::Problem => "problems",
        };
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

    async fn search_docs(&self, kind: Kind, which: Selection<'_>) -> Result<Vec<Doc>, StoreError> {
        match kind {
            Kind::Ticket => self.ticket_docs(which).await,
            Kind::Article => self.article_docs(which).await,
            Kind::Incident => self.incident_docs(which).await,
            Kind::Problem => self.problem_docs(which).await,
        }
    }

    async fn ticket_docs(&self, which: Selection<'_>) -> Result<Vec<Doc>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, subject, status, team_id, org_id, requester_id, created_at, updated_at FROM tickets t WHERE 1 = 1",
        );
        which.push(&mut sql, "t.id");
        let mut docs = Vec::new();
        for r in sql.query().fetch_all(&self.read).await? {
            let org: Option<i64> = r.try_get(4)?;
            let requester: i64 = r.try_get(5)?;
            docs.push(Doc {
                kind: Kind::Ticket,
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                text: String::new(),
                internal: String::new(),
                tags: Vec::new(),
                status: r.try_get(2)?,
                team: r.try_get(3)?,
                org,
                audience: org.map_or(Audience::Requester(requester), Audience::Organisation),
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

    async fn article_docs(&self, which: Selection<'_>) -> Result<Vec<Doc>, StoreError> {
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
            let (title, body, audience) = match published {
                Some(title) if status == ArticleStatus::Published => (
                    title,
                    r.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
                    match visibility {
                        Visibility::Public => Audience::Public,
                        Visibility::Internal => Audience::Staff,
                        Visibility::Tier(t) => Audience::Tier(t.level()),
                    },
                ),
                _ => (
                    r.try_get(1)?,
                    r.try_get(2)?,
                    match visibility {
                        Visibility::Tier(t) => Audience::Tier(t.level()),
                        _ => Audience::Staff,
                    },
                ),
            };
            docs.push(Doc {
                kind: Kind::Article,
                id: r.try_get(0)?,
                title,
                text: body,
                internal: String::new(),
                tags: r.try_get::<Option<String>, _>(7)?.into_iter().collect(),
                status: status.as_str().into(),
                team: None,
                org: None,
                audience,
                created: r.try_get(8)?,
                updated: r.try_get(9)?,
            });
        }
        Ok(docs)
    }

    async fn incident_docs(&self, which: Selection<'_>) -> Result<Vec<Doc>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, title, summary, status, team_id, created_at, updated_at FROM incidents i WHERE 1 = 1",
        );
        which.push(&mut sql, "i.id");
        let mut docs = Vec::new();
        for r in sql.query().fetch_all(&self.read).await? {
            docs.push(Doc {
                kind: Kind::Incident,
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                text: r.try_get(2)?,
                internal: String::new(),
                tags: Vec::new(),
                status: r.try_get(3)?,
                team: r.try_get(4)?,
                org: None,
                audience: Audience::Staff,
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

    async fn problem_docs(&self, which: Selection<'_>) -> Result<Vec<Doc>, StoreError> {
        let mut sql = Sql::new(
            "SELECT id, title, status, root_cause, workaround, created_at, updated_at FROM problems p WHERE 1 = 1",
        );
        which.push(&mut sql, "p.id");
        let mut docs = Vec::new();
        for r in sql.query().fetch_all(&self.read).await? {
            let cause: String = r.try_get(3)?;
            let workaround: String = r.try_get(4)?;
            docs.push(Doc {
                kind: Kind::Problem,
                id: r.try_get(0)?,
                title: r.try_get(1)?,
                text: format!("{cause}\n\n{workaround}").trim().to_owned(),
                internal: String::new(),
                tags: Vec::new(),
                status: r.try_get(2)?,
                team: None,
                org: None,
                audience: Audience::Staff,
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

fn id_list(docs: &[Doc]) -> Option<Vec<Param>> {
    if docs.is_empty() {
        None
    } else {
        Some(docs.iter().map(|d| Param::Int(d.id)).collect())
    }
}
