//! The knowledge base for staff: the article list, editor, history with diffs and restore,
//! categories, known errors from problem records, the related-articles panel beside a ticket,
//! and the index rebuild. The search page is `search.rs`, the public help centre `help.rs`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use opsdesk_domain::knowledge::{is_stale, ArticleStatus};
use opsdesk_domain::Action;
use opsdesk_store::Category;
use serde::Deserialize;

use super::search::some;
use super::session::{Empty, Session, SignedForm};
use super::views::{Chrome, FormErrors};
use super::{form_errors, page_error, refuse_customers, render, render_with};
use crate::app::knowledge as app;
use crate::error::ApiError;
use crate::wire::knowledge::{ArticleIn, ArticleOut, CategoryIn, SearchHitOut};
use crate::AppState;

/// The routes of search and the knowledge base.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/desk/kb", get(kb_list).post(kb_create))
        .route("/desk/kb/new", get(kb_new))
        .route("/desk/kb/categories", post(kb_category))
        .route("/desk/kb/{id}", get(kb_article).post(kb_save))
        .route("/desk/kb/{id}/edit", get(kb_edit))
        .route("/desk/kb/{id}/publish", post(kb_publish))
        .route("/desk/kb/{id}/archive", post(kb_archive))
        .route("/desk/kb/{id}/versions/{version}", get(kb_version))
        .route("/desk/kb/{id}/versions/{version}/restore", post(kb_restore))
        .route("/desk/tickets/{id}/related", get(related))
        .route("/desk/tickets/{id}/articles", post(link_article))
        .route("/problems/{id}/article", post(known_error))
        .route("/admin/search/reindex", post(reindex))
}

/// A row of the article list.
pub struct ArticleRow {
    /// Id.
    pub id: i64,
    /// Latest title.
    pub title: String,
    /// Category.
    pub category: Option<String>,
    /// Status.
    pub status: &'static str,
    /// The latest version is not the published one.
    pub unpublished_changes: bool,
    /// Visibility.
    pub visibility: String,
    /// Owner's name.
    pub owner: String,
    /// Review-by date.
    pub review_by: String,
    /// Past its review date.
    pub stale: bool,
    /// From a problem record.
    pub problem: Option<i64>,
    /// Helpful answers.
    pub helpful: i64,
    /// Not-helpful answers.
    pub unhelpful: i64,
    /// Linked tickets.
    pub tickets_linked: i64,
    /// Linked tickets resolved.
    pub tickets_solved: i64,
    /// Deflections.
    pub deflections: i64,
}

/// The staff's article list.
#[derive(Template)]
#[template(path = "kb_list.html")]
pub struct KbList {
    /// Frame.
    pub chrome: Chrome,
    /// Which tab.
    pub filter: String,
    /// Articles.
    pub articles: Vec<ArticleRow>,
    /// Categories.
    pub categories: Vec<Category>,
    /// May write articles.
    pub can_edit: bool,
    /// May add categories.
    pub can_shape: bool,
    /// Errors of a refused category.
    pub form: FormErrors,
}

#[derive(Debug, Default, Deserialize)]
struct ListForm {
    #[serde(default)]
    filter: String,
}

fn day(t: Option<Timestamp>) -> String {
    t.map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

async fn kb_list(
    State(state): State<AppState>,
    session: Session,
    Query(list): Query<ListForm>,
) -> Response {
    kb_list_page(
        &state,
        &session,
        list.filter,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn kb_list_page(
    state: &AppState,
    session: &Session,
    filter: String,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    if let Some(r) = refuse_customers(session) {
        return r;
    }
    let ctx = state.ctx(&session.actor);
    let now = ctx.now;
    let result = async {
        let (status, stale, owner) = match filter.as_str() {
            tab @ ("draft" | "published" | "archived") => (Some(tab), false, None),
            "stale" => (None, true, None),
            "mine" => (None, true, Some("me")),
            _ => (None, false, None),
        };
        let query = app::article_filter(&ctx, None, status, stale, owner)?;
        let articles = app::articles(&ctx, query).await?;
        let rows = articles
            .iter()
            .filter(|a| !filter.is_empty() || a.status != ArticleStatus::Archived)
            .map(|a| ArticleRow {
                id: a.id,
                title: a.title.clone(),
                category: a.category.as_ref().map(|c| c.1.clone()),
                status: a.status.as_str(),
                unpublished_changes: a.status == ArticleStatus::Published
                    && a.has_unpublished_changes(),
                visibility: a.visibility.as_string(),
                owner: a.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
                review_by: day(a.review_by),
                stale: is_stale(a.status, a.review_by, now),
                problem: a.problem_id,
                helpful: a.helpful,
                unhelpful: a.unhelpful,
                tickets_linked: a.tickets_linked,
                tickets_solved: a.tickets_solved,
                deflections: a.deflections,
            })
            .collect();
        Ok::<_, ApiError>(KbList {
            chrome: session.chrome(),
            filter: filter.clone(),
            articles: rows,
            categories: app::categories(&ctx).await?,
            can_edit: ctx.may(Action::EditArticles),
            can_shape: ctx.may(Action::ManageKnowledge),
            form,
        })
    }
    .await;
    match result {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

#[derive(Debug, Deserialize)]
struct CategoryForm {
    name: String,
    #[serde(default)]
    description: String,
}

async fn kb_category(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<CategoryForm>,
) -> Response {
    let input = CategoryIn {
        name: form.name,
        description: form.description,
        position: 0,
    };
    match app::save_category(&state.ctx(&session.actor), None, &input).await {
        Ok(_) => Redirect::to("/desk/kb").into_response(),
        Err(e) => {
            let (status, errors) = form_errors(e);
            kb_list_page(&state, &session, String::new(), errors, status).await
        }
    }
}

/// The article editor.
#[derive(Template)]
#[template(path = "kb_edit.html")]
pub struct KbEdit {
    /// Frame.
    pub chrome: Chrome,
    /// The article being edited (none for a new one).
    pub id: Option<i64>,
    /// The version the edit starts from.
    pub base_version: Option<i64>,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Category name.
    pub category: String,
    /// Categories.
    pub categories: Vec<Category>,
    /// Visibility value.
    pub visibility: String,
    /// (value, label) of the visibilities.
    pub visibilities: Vec<(&'static str, &'static str)>,
    /// Owner's e-mail.
    pub owner: String,
    /// Review-by date.
    pub review_by: String,
    /// What changed.
    pub note: String,
    /// Refused fields.
    pub form: FormErrors,
}

const VISIBILITIES: [(&str, &str); 7] = [
    ("internal", "internal (staff)"),
    ("public", "public (customers and help centre)"),
    ("L0", "L0 and above"),
    ("L1", "L1 and above"),
    ("L2", "L2 and above"),
    ("L3", "L3 and above"),
    ("L4", "L4 only"),
];

#[derive(Debug, Default, Deserialize)]
struct ArticleForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    visibility: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    review_by: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    publish: String,
    #[serde(default)]
    base_version: Option<i64>,
}

impl ArticleForm {
    fn input(&self) -> ArticleIn {
        ArticleIn {
            title: self.title.clone(),
            body: self.body.clone(),
            // The form always sends these: empty means none.
            category: Some(self.category.clone()),
            visibility: some(&self.visibility),
            owner: some(&self.owner),
            review_by: Some(self.review_by.clone()),
            note: self.note.clone(),
            publish: self.publish == "true",
            base_version: self.base_version,
        }
    }
}

async fn editor(
    state: &AppState,
    session: &Session,
    id: Option<i64>,
    form: ArticleForm,
    errors: FormErrors,
    status: StatusCode,
) -> Response {
    if let Some(r) = refuse_customers(session) {
        return r;
    }
    let categories = app::categories(&state.ctx(&session.actor))
        .await
        .unwrap_or_default();
    let page = KbEdit {
        chrome: session.chrome(),
        id,
        base_version: form.base_version,
        title: form.title,
        body: form.body,
        category: form.category,
        categories,
        visibility: if form.visibility.is_empty() {
            "internal".into()
        } else {
            form.visibility
        },
        visibilities: VISIBILITIES.to_vec(),
        owner: form.owner,
        review_by: form.review_by,
        note: form.note,
        form: errors,
    };
    render_with(status, &page)
}

async fn kb_new(State(state): State<AppState>, session: Session) -> Response {
    editor(
        &state,
        &session,
        None,
        ArticleForm::default(),
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn kb_create(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<ArticleForm>,
) -> Response {
    match app::create_article(&state.ctx(&session.actor), &form.input()).await {
        Ok(article) => Redirect::to(&format!("/desk/kb/{}", article.id)).into_response(),
        Err(e) => {
            let (status, errors) = form_errors(e);
            editor(&state, &session, None, form, errors, status).await
        }
    }
}

async fn kb_edit(State(state): State<AppState>, session: Session, Path(id): Path<i64>) -> Response {
    let article = match app::article(&state.ctx(&session.actor), id).await {
        Ok(a) => a,
        Err(e) => return page_error(e, session.chrome()),
    };
    let form = ArticleForm {
        title: article.title.clone(),
        body: article.body.clone(),
        category: article
            .category
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_default(),
        visibility: article.visibility.as_string(),
        owner: article
            .owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        review_by: day(article.review_by),
        note: String::new(),
        publish: String::new(),
        base_version: Some(article.version),
    };
    editor(
        &state,
        &session,
        Some(id),
        form,
        FormErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn kb_save(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<ArticleForm>,
) -> Response {
    match app::edit_article(&state.ctx(&session.actor), id, &form.input()).await {
        Ok(_) => Redirect::to(&format!("/desk/kb/{id}")).into_response(),
        Err(e) => {
            let (status, errors) = form_errors(e);
            editor(&state, &session, Some(id), form, errors, status).await
        }
    }
}

/// An article for staff: content, actions, use, history, feedback.
#[derive(Template)]
#[template(path = "kb_article.html")]
pub struct KbArticle {
    /// Frame.
    pub chrome: Chrome,
    /// The article (latest version).
    pub a: ArticleOut,
    /// Owner's name.
    pub owner: String,
    /// Review-by date.
    pub review_by: String,
    /// Versions, newest first.
    pub versions: Vec<VersionRow>,
    /// (helpful, who, comment).
    pub feedback: Vec<(bool, String, String)>,
    /// May write.
    pub can_edit: bool,
    /// A line at the top.
    pub notice: String,
}

/// A line of an article's history.
pub struct VersionRow {
    /// Number.
    pub version: i64,
    /// Author's name.
    pub author: String,
    /// When.
    pub created_at: String,
    /// What changed.
    pub note: String,
    /// Readers see this version.
    pub published: bool,
}

async fn kb_article(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<i64>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let result = async {
        let ctx = state.ctx(&session.actor);
        let article = app::staff_article(&ctx, id).await?;
        let versions = app::versions(&ctx, id).await?;
        let feedback = app::feedback(&ctx, id).await?;
        let out = app::article_out(&article, Some(&session.actor), &state.public_url, ctx.now);
        Ok::<_, ApiError>(KbArticle {
            chrome: session.chrome(),
            owner: article
                .owner
                .as_ref()
                .map(|o| o.name.clone())
                .unwrap_or_else(|| "nobody".into()),
            review_by: day(article.review_by),
            a: out,
            versions: versions
                .iter()
                .map(|v| VersionRow {
                    version: v.version,
                    author: v
                        .author
                        .as_ref()
                        .map(|a| a.name.clone())
                        .unwrap_or_else(|| "system".into()),
                    created_at: v.created_at.strftime("%Y-%m-%d %H:%M").to_string(),
                    note: v.note.clone(),
                    published: article.published_version == Some(v.version),
                })
                .collect(),
            feedback: feedback
                .iter()
                .map(|f| {
                    (
                        f.helpful,
                        f.user
                            .as_ref()
                            .map(|u| u.name.clone())
                            .unwrap_or_else(|| "a visitor".into()),
                        f.comment.clone(),
                    )
                })
                .collect(),
            can_edit: ctx.may(Action::EditArticles),
            notice: String::new(),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn kb_publish(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, .. }: SignedForm<Empty>,
) -> Response {
    let done = app::publish_article(&state.ctx(&session.actor), id).await;
    back_to_article(id, &session, done)
}

async fn kb_archive(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, .. }: SignedForm<Empty>,
) -> Response {
    let done = app::archive_article(&state.ctx(&session.actor), id).await;
    back_to_article(id, &session, done)
}

/// One version with the diff from the one before.
#[derive(Template)]
#[template(path = "kb_version.html")]
pub struct KbVersion {
    /// Frame.
    pub chrome: Chrome,
    /// Article id.
    pub id: i64,
    /// This version.
    pub version: i64,
    /// The latest version.
    pub latest: i64,
    /// Title then.
    pub title: String,
    /// Author.
    pub author: String,
    /// When.
    pub created_at: String,
    /// What changed.
    pub note: String,
    /// (class, line) of the unified diff.
    pub diff: Vec<(&'static str, String)>,
    /// The body then, rendered.
    pub body_html: String,
    /// May restore.
    pub can_edit: bool,
}

async fn kb_version(
    State(state): State<AppState>,
    session: Session,
    Path((id, version)): Path<(i64, i64)>,
) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let result = async {
        let ctx = state.ctx(&session.actor);
        let article = app::staff_article(&ctx, id).await?;
        let (this, previous) = app::version(&ctx, id, version).await?;
        let diff = app::diff(previous.as_ref(), &this)
            .lines()
            .map(|line| {
                let class = match line.chars().next() {
                    Some('+') if !line.starts_with("+++") => "add",
                    Some('-') if !line.starts_with("---") => "del",
                    Some('@') => "hunk",
                    _ => "same",
                };
                (class, line.to_owned())
            })
            .collect();
        Ok::<_, ApiError>(KbVersion {
            chrome: session.chrome(),
            id,
            version,
            latest: article.version,
            title: this.title.clone(),
            author: this
                .author
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_else(|| "system".into()),
            created_at: this.created_at.strftime("%Y-%m-%d %H:%M").to_string(),
            note: this.note.clone(),
            diff,
            body_html: crate::markdown::to_html(&this.body),
            can_edit: ctx.may(Action::EditArticles),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn kb_restore(
    State(state): State<AppState>,
    Path((id, version)): Path<(i64, i64)>,
    SignedForm { session, .. }: SignedForm<Empty>,
) -> Response {
    let done = app::restore_version(&state.ctx(&session.actor), id, version).await;
    back_to_article(id, &session, done)
}

/// After an action on an article: back to its page, or the refusal as a page.
fn back_to_article(
    id: i64,
    session: &Session,
    done: Result<opsdesk_store::Article, ApiError>,
) -> Response {
    match done {
        Ok(_) => Redirect::to(&format!("/desk/kb/{id}")).into_response(),
        Err(e) => page_error(e, session.chrome()),
    }
}

/// An article suggestion beside a ticket.
pub struct RelatedArticle {
    /// Id.
    pub id: i64,
    /// Plain title.
    pub title: String,
    /// Highlighted title.
    pub title_html: String,
    /// The address to put in a reply (published public articles only; empty otherwise).
    pub link: String,
}

/// The related panel beside a ticket.
#[derive(Template)]
#[template(path = "desk_related.html")]
pub struct RelatedPanel {
    /// Ticket id.
    pub ticket: i64,
    /// Articles that may answer it.
    pub articles: Vec<RelatedArticle>,
    /// Already linked (id, title).
    pub linked: Vec<(i64, String)>,
    /// Resolved tickets like it.
    pub similar: Vec<SearchHitOut>,
    /// May link articles.
    pub can_write: bool,
    /// CSRF token for the link buttons.
    pub csrf: String,
}

async fn related(State(state): State<AppState>, session: Session, Path(id): Path<i64>) -> Response {
    if let Some(r) = refuse_customers(&session) {
        return r;
    }
    let result = async {
        let ctx = state.ctx(&session.actor);
        let ticket = crate::app::readable_ticket(&ctx, id).await?;
        let (articles, similar) =
            app::related(&state.search, &session.actor, id, ticket.subject.as_str()).await?;
        let linked = app::ticket_articles(&ctx, id).await?;
        let mut related = Vec::new();
        for h in articles.hits {
            // Only a published public article has an address a customer can open.
            let public = app::article_for(&state.store, None, h.id).await.is_ok();
            related.push(RelatedArticle {
                link: if public {
                    format!("{}/help/articles/{}", state.public_url, h.id)
                } else {
                    String::new()
                },
                id: h.id,
                title: h.title,
                title_html: h.title_html,
            });
        }
        let articles = related;
        let similar = app::search_out(similar, &opsdesk_search::SearchQuery::default(), true).items;
        Ok::<_, ApiError>(RelatedPanel {
            ticket: id,
            articles,
            linked: linked
                .iter()
                .map(|a| {
                    (
                        a.id,
                        a.published_title.clone().unwrap_or_else(|| a.title.clone()),
                    )
                })
                .collect(),
            similar,
            can_write: ctx.may(Action::EditArticles),
            csrf: session.csrf.clone(),
        })
    }
    .await;
    match result {
        Ok(page) => render(&page),
        Err(e) => (super::status_of(&e), e.detail).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct LinkForm {
    article: i64,
}

async fn link_article(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<LinkForm>,
) -> Response {
    match app::link_article(&state.ctx(&session.actor), id, form.article).await {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => (super::status_of(&e), e.detail).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct KnownErrorForm {
    #[serde(default)]
    visibility: String,
}

async fn known_error(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<KnownErrorForm>,
) -> Response {
    match app::publish_known_error(
        &state.ctx(&session.actor),
        id,
        some(&form.visibility).as_deref(),
    )
    .await
    {
        Ok(article) => Redirect::to(&format!("/desk/kb/{}", article.id)).into_response(),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn reindex(
    State(state): State<AppState>,
    SignedForm { session, .. }: SignedForm<Empty>,
) -> Response {
    let ctx = state.ctx(&session.actor);
    match crate::app::search::rebuild(&ctx, &state.indexer, &state.search).await {
        Ok(_) => Redirect::to("/admin#search-index").into_response(),
        Err(e) => page_error(e, session.chrome()),
    }
}
