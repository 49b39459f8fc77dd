//! The knowledge base: categories, articles with every version kept, publishing, feedback,
//! deflections and the tickets an article was linked to.
//!
//! *An edit never overwrites*: it appends a version, and restoring an old version appends a
//! copy of it. Readers see the published version; staff edit the latest.

use jiff::Timestamp;
use opsdesk_domain::knowledge::{ArticleStatus, Visibility};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::error::corrupt;
use crate::model::{ts, user_at};
use crate::sql::{Param, Sql};
use crate::{Store, StoreError, UserRef};

/// A knowledge base category.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What belongs in it.
    pub description: String,
    /// Order in lists (smallest first).
    pub position: i64,
    /// Articles in it that are published (what readers see counted).
    pub published: i64,
}

/// An article: its latest version (the working draft) and the version readers see.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    /// Id.
    pub id: i64,
    /// Category, if any: id and name.
    pub category: Option<(i64, String)>,
    /// Latest title.
    pub title: String,
    /// Latest body (Markdown).
    pub body: String,
    /// Latest version number (1, 2, …).
    pub version: i64,
    /// The version readers see.
    pub published_version: Option<i64>,
    /// Title of the published version.
    pub published_title: Option<String>,
    /// Body of the published version.
    pub published_body: Option<String>,
    /// Draft, published or archived.
    pub status: ArticleStatus,
    /// Who may read it.
    pub visibility: Visibility,
    /// Who keeps it current.
    pub owner: Option<UserRef>,
    /// When it is due for review.
    pub review_by: Option<Timestamp>,
    /// The problem record a known error came from.
    pub problem_id: Option<i64>,
    /// "Was this helpful?" answers: yes.
    pub helpful: i64,
    /// "Was this helpful?" answers: no.
    pub unhelpful: i64,
    /// Customers who read it from a suggestion and raised no ticket.
    pub deflections: i64,
    /// Tickets it was linked to.
    pub tickets_linked: i64,
    /// Linked tickets now resolved or closed.
    pub tickets_solved: i64,
    /// Created.
    pub created_at: Timestamp,
    /// Last changed.
    pub updated_at: Timestamp,
}

impl Article {
    /// Whether readers have a version to read.
    pub fn is_published(&self) -> bool {
        self.status == ArticleStatus::Published && self.published_version.is_some()
    }

    /// Whether the latest version differs from the published one.
    pub fn has_unpublished_changes(&self) -> bool {
        self.published_version != Some(self.version)
    }
}

/// One version of an article.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleVersion {
    /// Version number.
    pub version: i64,
    /// Title then.
    pub title: String,
    /// Body then.
    pub body: String,
    /// Who wrote it.
    pub author: Option<UserRef>,
    /// What changed, in the author's words.
    pub note: String,
    /// When.
    pub created_at: Timestamp,
}

/// A reader's feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct Feedback {
    /// Helpful or not.
    pub helpful: bool,
    /// What they said.
    pub comment: String,
    /// Who (signed-in readers).
    pub user: Option<UserRef>,
    /// When.
    pub created_at: Timestamp,
}

/// The content and settings of a new article or of an edit.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleDraft {
    /// Category.
    pub category_id: Option<i64>,
    /// Title (checked).
    pub title: String,
    /// Body, Markdown (checked).
    pub body: String,
    /// Who may read it.
    pub visibility: Visibility,
    /// Who keeps it current.
    pub owner_id: Option<i64>,
    /// When it is due for review.
    pub review_by: Option<Timestamp>,
    /// What changed.
    pub note: String,
}

/// Which articles to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleFilter {
    /// Only this category.
    pub category_id: Option<i64>,
    /// Only this status.
    pub status: Option<ArticleStatus>,
    /// Only articles this person owns.
    pub owner_id: Option<i64>,
    /// Only articles due for review at this time.
    pub stale_at: Option<Timestamp>,
    /// Only published public articles (the help centre).
    pub public_only: bool,
}

const ARTICLE_SELECT: &str = "SELECT a.id, a.category_id, c.name, a.title, a.body, a.version, \
     a.published_version, pv.title, pv.body, a.status, a.visibility, a.owner_id, o.email, o.name, \
     a.review_by, a.problem_id, a.helpful, a.unhelpful, a.deflections, \
     (SELECT COUNT(*) FROM ticket_articles ta WHERE ta.article_id = a.id), \
     (SELECT COUNT(*) FROM ticket_articles ta JOIN tickets t ON t.id = ta.ticket_id \
      WHERE ta.article_id = a.id AND t.status IN ('resolved', 'closed')), \
     a.created_at, a.updated_at \
     FROM articles a LEFT JOIN kb_categories c ON c.id = a.category_id \
     LEFT JOIN users o ON o.id = a.owner_id \
     LEFT JOIN article_versions pv ON pv.article_id = a.id AND pv.version = a.published_version";

fn article_from_row(r: &AnyRow) -> Result<Article, StoreError> {
    let category = match r.try_get::<Option<i64>, _>(1)? {
        Some(id) => Some((id, r.try_get::<Option<String>, _>(2)?.unwrap_or_default())),
        None => None,
    };
    let owner = match r.try_get::<Option<i64>, _>(11)? {
        Some(id) => Some(UserRef {
            id,
            email: r.try_get::<Option<String>, _>(12)?.unwrap_or_default(),
            name: r.try_get::<Option<String>, _>(13)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Article {
        id: r.try_get(0)?,
        category,
        title: r.try_get(3)?,
        body: r.try_get(4)?,
        version: r.try_get(5)?,
        published_version: r.try_get(6)?,
        published_title: r.try_get(7)?,
        published_body: r.try_get(8)?,
        status: ArticleStatus::parse("status", &r.try_get::<String, _>(9)?).map_err(corrupt)?,
        visibility: Visibility::parse("visibility", &r.try_get::<String, _>(10)?)
            .map_err(corrupt)?,
        owner,
        review_by: r.try_get::<Option<i64>, _>(14)?.map(ts).transpose()?,
        problem_id: r.try_get(15)?,
        helpful: r.try_get(16)?,
        unhelpful: r.try_get(17)?,
        deflections: r.try_get(18)?,
        tickets_linked: r.try_get(19)?,
        tickets_solved: r.try_get(20)?,
        created_at: ts(r.try_get(21)?)?,
        updated_at: ts(r.try_get(22)?)?,
    })
}

impl Store {
    /// Creates a category.
    pub async fn create_category(
        &self,
        name: &str,
        description: &str,
        position: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Category, StoreError> {
        let mut w = self.write(actor, now).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO kb_categories (name, description, position, created_at) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(description)
        .bind(position)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(StoreError::unique(
            "name",
            "a category with this name exists",
        ))?;
        w.event(
            "kb_category",
            id,
            "kb_category.created",
            false,
            json!({"name": name, "description": description, "position": position}),
        )
        .await?;
        w.commit().await?;
        self.category(id).await
    }

    /// Changes a category.
    pub async fn update_category(
        &self,
        id: i64,
        name: &str,
        description: &str,
        position: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Category, StoreError> {
        let before = self.category(id).await?;
        let mut w = self.write(actor, now).await?;
        sqlx::query(
            "UPDATE kb_categories SET name = $1, description = $2, position = $3 WHERE id = $4",
        )
        .bind(name)
        .bind(description)
        .bind(position)
        .bind(id)
        .execute(&mut *w.tx)
        .await
        .map_err(StoreError::unique(
            "name",
            "a category with this name exists",
        ))?;
        w.event(
            "kb_category",
            id,
            "kb_category.updated",
            false,
            json!({"before": {"name": before.name, "description": before.description, "position": before.position},
                   "after": {"name": name, "description": description, "position": position}}),
        )
        .await?;
        w.commit().await?;
        self.category(id).await
    }

    /// Every category in order, with its count of published articles (for staff).
    pub async fn categories(&self) -> Result<Vec<Category>, StoreError> {
        self.categories_counting(false).await
    }

    /// Every category in order, counting only published public articles (for readers).
    pub async fn public_categories(&self) -> Result<Vec<Category>, StoreError> {
        self.categories_counting(true).await
    }

    async fn categories_counting(&self, public_only: bool) -> Result<Vec<Category>, StoreError> {
        let public = if public_only {
            " AND a.visibility = 'public'"
        } else {
            ""
        };
        sqlx::query(&format!(
            "SELECT c.id, c.name, c.description, c.position, \
             (SELECT COUNT(*) FROM articles a WHERE a.category_id = c.id AND a.status = 'published'{public}) \
             FROM kb_categories c ORDER BY c.position, lower(c.name)"
        ))
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(Category {
                id: r.try_get(0)?,
                name: r.try_get(1)?,
                description: r.try_get(2)?,
                position: r.try_get(3)?,
                published: r.try_get(4)?,
            })
        })
        .collect()
    }

    /// One category.
    pub async fn category(&self, id: i64) -> Result<Category, StoreError> {
        self.categories()
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or(StoreError::NotFound("category"))
    }

    /// Creates an article (version 1), published at once if `publish`; known errors name the
    /// problem record they came from.
    pub async fn create_article(
        &self,
        draft: &ArticleDraft,
        publish: bool,
        problem_id: Option<i64>,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Article, StoreError> {
        self.check_refs(draft).await?;
        let mut w = self.write(actor, now).await?;
        let status = if publish {
            ArticleStatus::Published
        } else {
            ArticleStatus::Draft
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO articles (category_id, title, body, version, published_version, status, \
             visibility, owner_id, review_by, problem_id, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, 1, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        )
        .bind(draft.category_id)
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(publish.then_some(1_i64))
        .bind(status.as_str())
        .bind(draft.visibility.as_string())
        .bind(draft.owner_id)
        .bind(draft.review_by.map(|t| t.as_microsecond()))
        .bind(problem_id)
        .bind(actor)
        .bind(w.now())
        .fetch_one(&mut *w.tx)
        .await
        .map_err(StoreError::unique(
            "problem",
            "this problem already has its article",
        ))?;
        insert_version(&mut w, id, 1, &draft.title, &draft.body, actor, &draft.note).await?;
        w.event(
            "article",
            id,
            "article.created",
            false,
            json!({"title": draft.title, "version": 1, "visibility": draft.visibility.as_string(),
                   "published": publish, "problem_id": problem_id}),
        )
        .await?;
        w.commit().await?;
        self.article(id).await
    }

    /// Saves an edit made from version `expected` (refused if another save came since): a new
    /// version whenever anything changed, so a stale form can never undo a newer save.
    pub async fn edit_article(
        &self,
        id: i64,
        draft: &ArticleDraft,
        expected: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Article, StoreError> {
        self.check_refs(draft).await?;
        let before = self.article(id).await?;
        let content_changed = before.title != draft.title || before.body != draft.body;
        let settings_changed = before.category.as_ref().map(|c| c.0) != draft.category_id
            || before.visibility != draft.visibility
            || before.owner.as_ref().map(|o| o.id) != draft.owner_id
            || before.review_by != draft.review_by;
        if !content_changed && !settings_changed {
            return Ok(before);
        }
        let version = before.version + 1;
        let mut w = self.write(actor, now).await?;
        let updated = sqlx::query(
            "UPDATE articles SET category_id = $1, title = $2, body = $3, version = $4, \
             visibility = $5, owner_id = $6, review_by = $7, updated_at = $8 \
             WHERE id = $9 AND version = $10",
        )
        .bind(draft.category_id)
        .bind(&draft.title)
        .bind(&draft.body)
        .bind(version)
        .bind(draft.visibility.as_string())
        .bind(draft.owner_id)
        .bind(draft.review_by.map(|t| t.as_microsecond()))
        .bind(w.now())
        .bind(id)
        .bind(expected)
        .execute(&mut *w.tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                field: "version",
                reason: "someone saved this article meanwhile; reload and edit again".into(),
            });
        }
        let note = if content_changed || !draft.note.is_empty() {
            draft.note.clone()
        } else {
            "Settings changed".to_owned()
        };
        insert_version(&mut w, id, version, &draft.title, &draft.body, actor, &note).await?;
        w.event(
            "article",
            id,
            "article.edited",
            false,
            json!({"version": version, "content_changed": content_changed, "note": draft.note,
                   "before": {"title": before.title, "visibility": before.visibility.as_string(),
                              "category_id": before.category.as_ref().map(|c| c.0),
                              "owner_id": before.owner.as_ref().map(|o| o.id),
                              "review_by": before.review_by.map(|t| t.to_string())},
                   "after": {"title": draft.title, "visibility": draft.visibility.as_string(),
                             "category_id": draft.category_id, "owner_id": draft.owner_id,
                             "review_by": draft.review_by.map(|t| t.to_string())}}),
        )
        .await?;
        w.commit().await?;
        self.article(id).await
    }

    /// Publishes the latest version.
    pub async fn publish_article(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Article, StoreError> {
        let before = self.article(id).await?;
        let mut w = self.write(actor, now).await?;
        sqlx::query(
            "UPDATE articles SET published_version = version, status = 'published', updated_at = $1 WHERE id = $2",
        )
        .bind(w.now())
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.event(
            "article",
            id,
            "article.published",
            false,
            json!({"version": before.version, "before": before.published_version}),
        )
        .await?;
        w.commit().await?;
        self.article(id).await
    }

    /// Withdraws an article from readers and search; its history stays.
    pub async fn archive_article(
        &self,
        id: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Article, StoreError> {
        let before = self.article(id).await?;
        let mut w = self.write(actor, now).await?;
        sqlx::query("UPDATE articles SET status = 'archived', updated_at = $1 WHERE id = $2")
            .bind(w.now())
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event(
            "article",
            id,
            "article.archived",
            false,
            json!({"before": before.status.as_str()}),
        )
        .await?;
        w.commit().await?;
        self.article(id).await
    }

    /// Makes an old version the latest again (as a new version; nothing is lost).
    pub async fn restore_article_version(
        &self,
        id: i64,
        version: i64,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<Article, StoreError> {
        let old = self.article_version(id, version).await?;
        let article = self.article(id).await?;
        let draft = ArticleDraft {
            category_id: article.category.as_ref().map(|c| c.0),
            title: old.title,
            body: old.body,
            visibility: article.visibility,
            owner_id: article.owner.as_ref().map(|o| o.id),
            review_by: article.review_by,
            note: format!("Restored version {version}"),
        };
        self.edit_article(id, &draft, article.version, actor, now)
            .await
    }

    /// One article.
    pub async fn article(&self, id: i64) -> Result<Article, StoreError> {
        let row = sqlx::query(&format!("{ARTICLE_SELECT} WHERE a.id = $1"))
            .bind(id)
            .fetch_optional(&self.read)
            .await?
            .ok_or(StoreError::NotFound("article"))?;
        article_from_row(&row)
    }

    /// The article made from a problem record, if any.
    pub async fn article_of_problem(&self, problem_id: i64) -> Result<Option<Article>, StoreError> {
        let row = sqlx::query(&format!("{ARTICLE_SELECT} WHERE a.problem_id = $1"))
            .bind(problem_id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(article_from_row).transpose()
    }

    /// Articles matching `filter`, most recently changed first (at most `limit`).
    pub async fn articles(
        &self,
        filter: &ArticleFilter,
        limit: i64,
    ) -> Result<Vec<Article>, StoreError> {
        let mut sql = Sql::new(ARTICLE_SELECT);
        sql.push(" WHERE 1 = 1");
        if let Some(category) = filter.category_id {
            sql.push(" AND a.category_id = ").bind(Param::Int(category));
        }
        if let Some(status) = filter.status {
            sql.push(" AND a.status = ")
                .bind(Param::Text(status.as_str().into()));
        }
        if let Some(owner) = filter.owner_id {
            sql.push(" AND a.owner_id = ").bind(Param::Int(owner));
        }
        if let Some(at) = filter.stale_at {
            sql.push(" AND a.status <> 'archived' AND a.review_by <= ")
                .bind(Param::Int(at.as_microsecond()));
        }
        if filter.public_only {
            sql.push(" AND a.status = 'published' AND a.visibility = 'public'");
        }
        sql.push(" ORDER BY a.updated_at DESC, a.id DESC LIMIT ")
            .bind(Param::Int(limit));
        sql.query()
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(article_from_row)
            .collect()
    }

    /// Every version of an article, newest first.
    pub async fn article_versions(&self, id: i64) -> Result<Vec<ArticleVersion>, StoreError> {
        self.versions_where(id, None).await
    }

    /// One version of an article.
    pub async fn article_version(
        &self,
        id: i64,
        version: i64,
    ) -> Result<ArticleVersion, StoreError> {
        self.versions_where(id, Some(version))
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound("article version"))
    }

    async fn versions_where(
        &self,
        id: i64,
        version: Option<i64>,
    ) -> Result<Vec<ArticleVersion>, StoreError> {
        let mut sql = Sql::new(
            "SELECT v.version, v.title, v.body, v.author_id, u.email, u.name, v.note, v.created_at \
             FROM article_versions v LEFT JOIN users u ON u.id = v.author_id WHERE v.article_id = ",
        );
        sql.bind(Param::Int(id));
        if let Some(version) = version {
            sql.push(" AND v.version = ").bind(Param::Int(version));
        }
        sql.push(" ORDER BY v.version DESC");
        sql.query()
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                Ok(ArticleVersion {
                    version: r.try_get(0)?,
                    title: r.try_get(1)?,
                    body: r.try_get(2)?,
                    author: user_at(r, 3)?,
                    note: r.try_get(6)?,
                    created_at: ts(r.try_get(7)?)?,
                })
            })
            .collect()
    }

    /// Records a reader's "was this helpful?" answer.
    pub async fn article_feedback(
        &self,
        id: i64,
        helpful: bool,
        comment: &str,
        user: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.article(id).await?;
        if self
            .answered_today(id, user, "article.feedback", now)
            .await?
        {
            return Ok(());
        }
        let mut w = self.write(user, now).await?;
        sqlx::query(
            "INSERT INTO article_feedback (article_id, user_id, helpful, comment, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(user)
        .bind(i64::from(helpful))
        .bind(comment)
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?;
        let column = if helpful { "helpful" } else { "unhelpful" };
        sqlx::query(&format!(
            "UPDATE articles SET {column} = {column} + 1 WHERE id = $1"
        ))
        .bind(id)
        .execute(&mut *w.tx)
        .await?;
        w.event(
            "article",
            id,
            "article.feedback",
            false,
            json!({"helpful": helpful, "comment": comment}),
        )
        .await?;
        w.commit().await
    }

    /// The feedback an article received, newest first.
    pub async fn article_feedback_list(&self, id: i64) -> Result<Vec<Feedback>, StoreError> {
        sqlx::query(
            "SELECT f.helpful, f.comment, f.user_id, u.email, u.name, f.created_at \
             FROM article_feedback f LEFT JOIN users u ON u.id = f.user_id \
             WHERE f.article_id = $1 ORDER BY f.id DESC LIMIT 200",
        )
        .bind(id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(|r| {
            Ok(Feedback {
                helpful: r.try_get::<i64, _>(0)? != 0,
                comment: r.try_get(1)?,
                user: user_at(r, 2)?,
                created_at: ts(r.try_get(5)?)?,
            })
        })
        .collect()
    }

    /// Counts a deflection: a customer read the article from a suggestion and did not raise
    /// the ticket.
    pub async fn article_deflected(
        &self,
        id: i64,
        user: Option<i64>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.article(id).await?;
        if self
            .answered_today(id, user, "article.deflected", now)
            .await?
        {
            return Ok(());
        }
        let mut w = self.write(user, now).await?;
        sqlx::query("UPDATE articles SET deflections = deflections + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *w.tx)
            .await?;
        w.event("article", id, "article.deflected", false, json!({}))
            .await?;
        w.commit().await
    }

    /// Links an article to a ticket (an agent used it); `true` when newly linked. The ticket's
    /// timeline shows it, to the customer only when the article is public.
    pub async fn link_article(
        &self,
        ticket_id: i64,
        article: &Article,
        actor: Option<i64>,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut w = self.write(actor, now).await?;
        let added = sqlx::query(
            "INSERT INTO ticket_articles (ticket_id, article_id, linked_by, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(ticket_id)
        .bind(article.id)
        .bind(actor)
        .bind(w.now())
        .execute(&mut *w.tx)
        .await?
        .rows_affected()
            > 0;
        if added {
            w.event(
                "ticket",
                ticket_id,
                "article.linked",
                !(article.is_published() && article.visibility == Visibility::Public),
                json!({"article_id": article.id, "title": article.published_title.as_ref().unwrap_or(&article.title)}),
            )
            .await?;
        }
        w.commit().await?;
        Ok(added)
    }

    /// The articles linked to a ticket.
    pub async fn ticket_articles(&self, ticket_id: i64) -> Result<Vec<Article>, StoreError> {
        sqlx::query(&format!(
            "{ARTICLE_SELECT} WHERE a.id IN (SELECT article_id FROM ticket_articles WHERE ticket_id = $1) \
             ORDER BY a.id"
        ))
        .bind(ticket_id)
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(article_from_row)
        .collect()
    }

    /// Whether `user` already gave this answer on this article in the last day (a reader counts
    /// once a day, so a counter cannot be pumped).
    async fn answered_today(
        &self,
        id: i64,
        user: Option<i64>,
        kind: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let Some(user) = user else {
            return Ok(false);
        };
        let since = now.as_microsecond() - 86_400_000_000;
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events WHERE subject_kind = 'article' AND subject_id = $1 \
             AND kind = $2 AND actor_id = $3 AND at > $4",
        )
        .bind(id)
        .bind(kind)
        .bind(user)
        .bind(since)
        .fetch_one(&self.read)
        .await?;
        Ok(count > 0)
    }

    /// The ids of the articles in a category (a renamed category re-indexes them).
    pub async fn article_ids_in_category(&self, category: i64) -> Result<Vec<i64>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT id FROM articles WHERE category_id = $1 ORDER BY id")
                .bind(category)
                .fetch_all(&self.read)
                .await?,
        )
    }

    async fn check_refs(&self, draft: &ArticleDraft) -> Result<(), StoreError> {
        if let Some(category) = draft.category_id {
            self.category(category).await.map_err(|_| {
                StoreError::from(opsdesk_domain::Invalid::new("category", "no such category"))
            })?;
        }
        if let Some(owner) = draft.owner_id {
            let user = self.user(owner).await.map_err(|_| {
                StoreError::from(opsdesk_domain::Invalid::new("owner", "no such user"))
            })?;
            if !user.actor().works_the_desk() {
                return Err(
                    opsdesk_domain::Invalid::new("owner", "must be a member of staff").into(),
                );
            }
        }
        Ok(())
    }
}

async fn insert_version(
    w: &mut crate::events::Write,
    id: i64,
    version: i64,
    title: &str,
    body: &str,
    author: Option<i64>,
    note: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO article_versions (article_id, version, title, body, author_id, note, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(version)
    .bind(title)
    .bind(body)
    .bind(author)
    .bind(note)
    .bind(w.now())
    .execute(&mut *w.tx)
    .await?;
    Ok(())
}
