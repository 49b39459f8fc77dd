//! Search and knowledge base routes: one search over everything the caller may see, the
//! suggestion endpoint of the portal, the index's status and rebuild, categories, articles,
//! their versions and feedback, and articles linked to tickets.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use jiff::Timestamp;
use opsdesk_domain::Action;
use serde::Deserialize;
use utoipa::IntoParams;

use crate::app::knowledge as app;
use crate::auth::ApiCaller;
use crate::error::{ApiError, Code, Problem};
use crate::input::{ApiJson, IdPath};
use crate::wire::desk::Items;
use crate::wire::knowledge::*;
use crate::AppState;

/// The search and knowledge base routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/search", get(search))
        .route("/api/v1/search/suggest", get(suggest))
        .route("/api/v1/search/status", get(search_status))
        .route("/api/v1/search/reindex", post(reindex))
        .route(
            "/api/v1/kb/categories",
            get(list_categories).post(create_category),
        )
        .route("/api/v1/kb/categories/{id}", put(update_category))
        .route("/api/v1/articles", get(list_articles).post(create_article))
        .route("/api/v1/articles/{id}", get(get_article).put(edit_article))
        .route("/api/v1/articles/{id}/publish", post(publish_article))
        .route("/api/v1/articles/{id}/archive", post(archive_article))
        .route("/api/v1/articles/{id}/versions", get(list_versions))
        .route("/api/v1/articles/{id}/versions/{version}", get(get_version))
        .route(
            "/api/v1/articles/{id}/versions/{version}/restore",
            post(restore_version),
        )
        .route(
            "/api/v1/articles/{id}/feedback",
            get(list_feedback).post(give_feedback),
        )
        .route("/api/v1/articles/{id}/deflections", post(deflected))
        .route(
            "/api/v1/tickets/{id}/articles",
            get(ticket_articles).post(link_article),
        )
        .route("/api/v1/problems/{id}/article", post(known_error))
}

/// The OpenAPI description of these routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    search,
    suggest,
    search_status,
    reindex,
    list_categories,
    create_category,
    update_category,
    list_articles,
    create_article,
    get_article,
    edit_article,
    publish_article,
    archive_article,
    list_versions,
    get_version,
    restore_version,
    list_feedback,
    give_feedback,
    deflected,
    ticket_articles,
    link_article,
    known_error
))]
pub struct KnowledgeDoc;

fn query_params<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(q)| q)
        .map_err(|e| ApiError::new(Code::InvalidInput, e.body_text()))
}

/// Searches tickets, articles, incidents and problems the caller may see (customers: their
/// organisation's tickets and public articles; internal notes only for staff).
#[utoipa::path(get, path = "/api/v1/search", params(SearchParams), responses((status = 200, body = SearchOut), (status = 422, body = Problem)))]
async fn search(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchOut>, ApiError> {
    let params = query_params(query)?;
    let query = app::search_query(&params)?;
    let found = app::run_search(&state.search, query.clone(), caller.actor.search_reach()).await?;
    Ok(Json(app::search_out(
        found,
        &query,
        state.ctx(&caller.actor).may(Action::ListQueues),
    )))
}

/// What a suggestion is for.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SuggestParams {
    /// What the customer has typed so far (at least 3 characters).
    #[serde(default)]
    pub q: String,
}

/// Published public articles whose titles match what is being typed (the portal's suggestions
/// while a customer writes a subject).
#[utoipa::path(get, path = "/api/v1/search/suggest", params(SuggestParams), responses((status = 200, body = SearchOut)))]
async fn suggest(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<Query<SuggestParams>, QueryRejection>,
) -> Result<Json<SearchOut>, ApiError> {
    let params = query_params(query)?;
    let found = app::suggest(&state.search, &params.q, caller.actor.search_reach(), 5).await?;
    let query = opsdesk_search::SearchQuery::default();
    Ok(Json(app::search_out(found, &query, false)))
}

/// The search index of the answering process: documents, position in the event log, rebuild
/// progress (staff).
#[utoipa::path(get, path = "/api/v1/search/status", responses((status = 200, body = SearchStatusOut)))]
async fn search_status(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<SearchStatusOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    Ok(Json(
        crate::app::search::status(&ctx, &state.indexer, &state.search).await?,
    ))
}

/// Rebuilds this process's search index from the database (administrators); searches see
/// the old index until the new one is complete.
#[utoipa::path(post, path = "/api/v1/search/reindex", responses((status = 202, body = SearchStatusOut), (status = 403, body = Problem)))]
async fn reindex(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<(StatusCode, Json<SearchStatusOut>), ApiError> {
    let ctx = state.ctx(&caller.actor);
    Ok((
        StatusCode::ACCEPTED,
        Json(crate::app::search::rebuild(&ctx, &state.indexer, &state.search).await?),
    ))
}

/// Knowledge base categories with their published article counts.
#[utoipa::path(get, path = "/api/v1/kb/categories", responses((status = 200, body = Items<CategoryOut>)))]
async fn list_categories(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<CategoryOut>>, ApiError> {
    let items = app::categories(&state.ctx(&caller.actor)).await?;
    Ok(Json(Items {
        items: items.iter().map(app::category_out).collect(),
    }))
}

/// Creates a category (administrators and managers).
#[utoipa::path(post, path = "/api/v1/kb/categories", request_body = CategoryIn, responses((status = 201, body = CategoryOut), (status = 422, body = Problem)))]
async fn create_category(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<CategoryIn>,
) -> Result<(StatusCode, Json<CategoryOut>), ApiError> {
    let out = app::save_category(&state.ctx(&caller.actor), None, &input).await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Changes a category (administrators and managers).
#[utoipa::path(put, path = "/api/v1/kb/categories/{id}", params(("id" = i64, Path)), request_body = CategoryIn, responses((status = 200, body = CategoryOut), (status = 422, body = Problem)))]
async fn update_category(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<CategoryIn>,
) -> Result<Json<CategoryOut>, ApiError> {
    Ok(Json(
        app::save_category(&state.ctx(&caller.actor), Some(id), &input).await?,
    ))
}

/// Which articles to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ArticleQuery {
    /// Category id.
    #[serde(default)]
    pub category: Option<i64>,
    /// `draft`, `published` or `archived` (staff).
    #[serde(default)]
    pub status: Option<String>,
    /// Only articles past their review date (staff).
    #[serde(default)]
    pub stale: Option<bool>,
    /// Only articles this user owns (`me` or an id; staff).
    #[serde(default)]
    pub owner: Option<String>,
}

/// Articles, most recently changed first: staff see every article they may read, customers
/// the published public ones.
#[utoipa::path(get, path = "/api/v1/articles", params(ArticleQuery), responses((status = 200, body = Items<ArticleOut>), (status = 422, body = Problem)))]
async fn list_articles(
    State(state): State<AppState>,
    caller: ApiCaller,
    query: Result<Query<ArticleQuery>, QueryRejection>,
) -> Result<Json<Items<ArticleOut>>, ApiError> {
    let q = query_params(query)?;
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let filter = app::article_filter(
        &ctx,
        q.category,
        q.status.as_deref(),
        q.stale == Some(true),
        q.owner.as_deref(),
    )?;
    let articles = app::articles(&ctx, filter).await?;
    Ok(Json(Items {
        items: articles
            .iter()
            .map(|a| app::article_out(a, Some(&caller.actor), &state.public_url, now))
            .collect(),
    }))
}

/// Writes an article (staff); `publish: true` publishes it at once.
#[utoipa::path(post, path = "/api/v1/articles", request_body = ArticleIn, responses((status = 201, body = ArticleOut), (status = 422, body = Problem)))]
async fn create_article(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<ArticleIn>,
) -> Result<(StatusCode, Json<ArticleOut>), ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let article = app::create_article(&ctx, &input).await?;
    Ok((StatusCode::CREATED, answer(&state, &caller, &article, now)))
}

/// One article as the caller may read it.
#[utoipa::path(get, path = "/api/v1/articles/{id}", params(("id" = i64, Path)), responses((status = 200, body = ArticleOut), (status = 404, body = Problem)))]
async fn get_article(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<ArticleOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let article = app::article(&ctx, id).await?;
    Ok(answer(&state, &caller, &article, ctx.now))
}

/// Saves an edit (staff): a new version when the title or body changed; `base_version`
/// refuses an edit made over someone else's newer save.
#[utoipa::path(put, path = "/api/v1/articles/{id}", params(("id" = i64, Path)), request_body = ArticleIn, responses((status = 200, body = ArticleOut), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn edit_article(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<ArticleIn>,
) -> Result<Json<ArticleOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let article = app::edit_article(&ctx, id, &input).await?;
    Ok(answer(&state, &caller, &article, now))
}

/// Publishes the latest version (staff).
#[utoipa::path(post, path = "/api/v1/articles/{id}/publish", params(("id" = i64, Path)), responses((status = 200, body = ArticleOut), (status = 404, body = Problem)))]
async fn publish_article(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<ArticleOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let article = app::publish_article(&ctx, id).await?;
    Ok(answer(&state, &caller, &article, now))
}

/// Withdraws an article from readers and search (staff); its history stays.
#[utoipa::path(post, path = "/api/v1/articles/{id}/archive", params(("id" = i64, Path)), responses((status = 200, body = ArticleOut), (status = 404, body = Problem)))]
async fn archive_article(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<ArticleOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let article = app::archive_article(&ctx, id).await?;
    Ok(answer(&state, &caller, &article, now))
}

/// The article as the caller reads it.
fn answer(
    state: &AppState,
    caller: &ApiCaller,
    article: &opsdesk_store::Article,
    now: Timestamp,
) -> Json<ArticleOut> {
    Json(app::article_out(
        article,
        Some(&caller.actor),
        &state.public_url,
        now,
    ))
}

/// Every version of an article, newest first (staff).
#[utoipa::path(get, path = "/api/v1/articles/{id}/versions", params(("id" = i64, Path)), responses((status = 200, body = Items<ArticleVersionOut>), (status = 404, body = Problem)))]
async fn list_versions(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<ArticleVersionOut>>, ApiError> {
    let versions = app::versions(&state.ctx(&caller.actor), id).await?;
    Ok(Json(Items {
        items: versions
            .iter()
            .map(|v| app::version_out(v, None, false))
            .collect(),
    }))
}

/// One version with its body and the diff from the version before (staff).
#[utoipa::path(get, path = "/api/v1/articles/{id}/versions/{version}", params(("id" = i64, Path), ("version" = i64, Path)), responses((status = 200, body = ArticleVersionOut), (status = 404, body = Problem)))]
async fn get_version(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, version)): Path<(i64, i64)>,
) -> Result<Json<ArticleVersionOut>, ApiError> {
    let (this, previous) = app::version(&state.ctx(&caller.actor), id, version).await?;
    Ok(Json(app::version_out(&this, previous.as_ref(), true)))
}

/// Makes an old version the latest again, as a new version (staff); publish to show it.
#[utoipa::path(post, path = "/api/v1/articles/{id}/versions/{version}/restore", params(("id" = i64, Path), ("version" = i64, Path)), responses((status = 200, body = ArticleOut), (status = 404, body = Problem)))]
async fn restore_version(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, version)): Path<(i64, i64)>,
) -> Result<Json<ArticleOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let article = app::restore_version(&ctx, id, version).await?;
    Ok(answer(&state, &caller, &article, now))
}

/// The feedback an article received (staff).
#[utoipa::path(get, path = "/api/v1/articles/{id}/feedback", params(("id" = i64, Path)), responses((status = 200, body = Items<FeedbackOut>), (status = 404, body = Problem)))]
async fn list_feedback(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<FeedbackOut>>, ApiError> {
    let feedback = app::feedback(&state.ctx(&caller.actor), id).await?;
    Ok(Json(Items {
        items: feedback
            .iter()
            .map(|f| FeedbackOut {
                helpful: f.helpful,
                comment: f.comment.clone(),
                user: f.user.as_ref().map(crate::wire::desk::PersonOut::from),
                created_at: crate::wire::desk::rfc3339(f.created_at),
            })
            .collect(),
    }))
}

/// "Was this helpful?" from a reader who may read the article.
#[utoipa::path(post, path = "/api/v1/articles/{id}/feedback", params(("id" = i64, Path)), request_body = FeedbackIn, responses((status = 204), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn give_feedback(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<FeedbackIn>,
) -> Result<StatusCode, ApiError> {
    app::give_feedback(&state.ctx(&caller.actor), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Counts a deflection: the customer read this article from a suggestion and needs no ticket.
#[utoipa::path(post, path = "/api/v1/articles/{id}/deflections", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn deflected(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    app::record_deflection(&state.ctx(&caller.actor), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The articles linked to a ticket (staff, and its customers for public articles).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/articles", params(("id" = i64, Path)), responses((status = 200, body = Items<ArticleOut>), (status = 404, body = Problem)))]
async fn ticket_articles(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<ArticleOut>>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let articles = app::ticket_articles(&ctx, id).await?;
    Ok(Json(Items {
        items: articles
            .iter()
            .map(|a| app::article_out(a, Some(&caller.actor), &state.public_url, now))
            .collect(),
    }))
}

/// Links an article to a ticket (staff): it counts towards the tickets the article solved.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/articles", params(("id" = i64, Path)), request_body = TicketArticleIn, responses((status = 201), (status = 200), (status = 422, body = Problem)))]
async fn link_article(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<TicketArticleIn>,
) -> Result<StatusCode, ApiError> {
    let added = app::link_article(&state.ctx(&caller.actor), id, input.article).await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    })
}

/// How to publish a known error.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KnownErrorIn {
    /// `public`, `internal` (default) or a tier.
    #[serde(default)]
    pub visibility: Option<String>,
}

/// Publishes a problem record's known error (symptom, cause, workaround) as an article, or
/// updates the one made before (staff).
#[utoipa::path(post, path = "/api/v1/problems/{id}/article", params(("id" = i64, Path)), request_body = KnownErrorIn, responses((status = 200, body = ArticleOut), (status = 422, body = Problem)))]
async fn known_error(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<KnownErrorIn>,
) -> Result<Json<ArticleOut>, ApiError> {
    let ctx = state.ctx(&caller.actor);
    let now = ctx.now;
    let article = app::publish_known_error(&ctx, id, input.visibility.as_deref()).await?;
    Ok(answer(&state, &caller, &article, now))
}
