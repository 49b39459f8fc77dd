//! Search and the knowledge base: reading a search's parameters, running it within the
//! caller's reach, and writing, publishing, restoring and reading articles. The API and the UI
//! both call these, so the rules hold on every path.

use std::sync::Arc;

use jiff::Timestamp;
use opsdesk_domain::access::{ArticleScope, SearchReach};
use opsdesk_domain::knowledge::{self, is_stale, known_error_body, ArticleStatus, Visibility};
use opsdesk_domain::review::ProblemStatus;
use opsdesk_domain::{Action, Actor};
use opsdesk_search::{Found, Kind, Order, SearchIndex, SearchQuery};
use opsdesk_store::{
    Article, ArticleDraft, ArticleFilter, ArticleVersion, Category, Feedback, Store,
};

use super::{parse_instant, Ctx, DayEdge, Operator};
use crate::error::{ApiError, Checks, Code};
use crate::wire::desk::{rfc3339, PersonOut};
use crate::wire::knowledge::{
    ArticleIn, ArticleOut, ArticleVersionOut, CategoryIn, CategoryOut, SearchHitOut, SearchOut,
    SearchParams,
};

/// Most results a page may ask for.
const MAX_LIMIT: usize = 100;
/// Longest query text, in characters.
const MAX_QUERY: usize = 500;

/// Reads the query string of a search; every bad parameter is named.
pub fn search_query(params: &SearchParams) -> Result<SearchQuery, ApiError> {
    let mut checks = Checks::default();
    let mut query = SearchQuery {
        text: params.q.clone(),
        limit: 20,
        ..SearchQuery::default()
    };
    if params.q.chars().count() > MAX_QUERY {
        checks.fail("q", format!("must be at most {MAX_QUERY} characters"));
    }
    if let Some(kinds) = params.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        for raw in kinds.split(',') {
            match Kind::parse(raw.trim()) {
                Some(kind) => query.kinds.push(kind),
                None => checks.fail(
                    "kind",
                    format!(
                        "'{}' is not one of ticket, article, incident, problem",
                        raw.trim()
                    ),
                ),
            }
        }
    }
    query.status = params
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let mut id = |field: &str, raw: &Option<String>| -> Option<i64> {
        let raw = raw.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        match raw.parse::<i64>() {
            Ok(v) if v > 0 => Some(v),
            _ => {
                checks.fail(field, format!("'{raw}' is not an id"));
                None
            }
        }
    };
    query.team = id("team", &params.team);
    query.org = id("org", &params.org);
    let mut instant = |field: &str, raw: &Option<String>, edge: DayEdge| {
        let raw = raw.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        parse_instant(field, raw, edge, &mut checks).map(|t| t.as_microsecond())
    };
    query.from = instant("from", &params.from, DayEdge::Start);
    // `to` a day means through that day: the next day's start, excluded.
    query.to = instant("to", &params.to, DayEdge::End).map(|t| {
        if params.to.as_deref().is_some_and(|r| r.trim().len() == 10) {
            t + 1_000_000
        } else {
            t
        }
    });
    if let (Some(from), Some(to)) = (query.from, query.to) {
        if from >= to {
            checks.fail("to", "must be after from");
        }
    }
    query.order = match params.order.as_deref().map(str::trim) {
        None | Some("") | Some("relevance") => Order::Relevance,
        Some("recency") => Order::Recency,
        Some(other) => {
            checks.fail("order", format!("'{other}' is not relevance or recency"));
            Order::Relevance
        }
    };
    let mut count = |field: &str, raw: &Option<String>, range: std::ops::RangeInclusive<usize>| {
        let raw = raw.as_deref().map(str::trim).filter(|s| !s.is_empty())?;
        match raw.parse::<usize>() {
            Ok(v) if range.contains(&v) => Some(v),
            _ => {
                checks.fail(
                    field,
                    format!("must be a number from {} to {}", range.start(), range.end()),
                );
                None
            }
        }
    };
    if let Some(limit) = count("limit", &params.limit, 1..=MAX_LIMIT) {
        query.limit = limit;
    }
    if let Some(offset) = count("offset", &params.offset, 0..=10_000) {
        query.offset = offset;
    }
    checks.finish()?;
    Ok(query)
}

/// Runs `query` for someone who may see `reach`, on a blocking thread (the index is CPU
/// work, never awaited I/O).
pub async fn run_search(
    index: &Arc<SearchIndex>,
    query: SearchQuery,
    reach: SearchReach,
) -> Result<Found, ApiError> {
    let index = Arc::clone(index);
    tokio::task::spawn_blocking(move || index.search(&query, &reach))
        .await
        .map_err(|e| ApiError::new(Code::Internal, format!("search failed: {e}")))?
        .map_err(|e| ApiError::new(Code::Internal, format!("search failed: {e}")))
}

/// The wire form of a page of results; links point where `staff` (or a customer) opens them.
pub fn search_out(found: Found, query: &SearchQuery, staff: bool) -> SearchOut {
    let next_offset = found.more.then_some(query.offset + found.hits.len());
    SearchOut {
        items: found
            .hits
            .into_iter()
            .map(|h| SearchHitOut {
                kind: h.kind.as_str().into(),
                id: h.id,
                url: hit_url(h.kind, h.id, staff),
                title: h.title,
                title_html: h.title_html,
                snippet_html: h.snippet_html,
                status: h.status,
                created_at: Timestamp::from_microsecond(h.created)
                    .map(rfc3339)
                    .unwrap_or_default(),
                score: h.score,
            })
            .collect(),
        next_offset,
    }
}

/// Where a result opens in the UI.
pub fn hit_url(kind: Kind, id: i64, staff: bool) -> String {
    match (kind, staff) {
        (Kind::Ticket, true) => format!("/desk/tickets/{id}"),
        (Kind::Ticket, false) => format!("/portal/tickets/{id}"),
        (Kind::Article, true) => format!("/desk/kb/{id}"),
        (Kind::Article, false) => format!("/help/articles/{id}"),
        (Kind::Incident, _) => format!("/incidents/{id}"),
        (Kind::Problem, _) => format!("/problems#problem-{id}"),
    }
}

/// Published public articles whose titles match what a customer is typing.
pub async fn suggest(
    index: &Arc<SearchIndex>,
    text: &str,
    reach: SearchReach,
    limit: usize,
) -> Result<Found, ApiError> {
    if text.trim().chars().count() < 3 {
        return Ok(Found::default());
    }
    let query = SearchQuery {
        text: text.chars().take(MAX_QUERY).collect(),
        kinds: vec![Kind::Article],
        titles_only: true,
        limit,
        ..SearchQuery::default()
    };
    let reach = SearchReach {
        tickets: opsdesk_domain::access::Confinement::Nothing,
        articles: opsdesk_domain::access::ArticleReach::Public,
        ..reach
    };
    run_search(index, query, reach).await
}

/// Articles that may answer a ticket (by its subject), and resolved tickets like it.
pub async fn related(
    index: &Arc<SearchIndex>,
    actor: &Actor,
    ticket_id: i64,
    subject: &str,
) -> Result<(Found, Found), ApiError> {
    let reach = actor.search_reach();
    let base = SearchQuery {
        text: format!("{subject} "),
        limit: 5,
        any_word: true,
        ..SearchQuery::default()
    };
    let articles = run_search(
        index,
        SearchQuery {
            kinds: vec![Kind::Article],
            ..base.clone()
        },
        reach,
    )
    .await?;
    let mut similar = Found::default();
    for status in ["resolved", "closed"] {
        let found = run_search(
            index,
            SearchQuery {
                kinds: vec![Kind::Ticket],
                status: Some(status.into()),
                limit: 6,
                ..base.clone()
            },
            reach,
        )
        .await?;
        similar
            .hits
            .extend(found.hits.into_iter().filter(|h| h.id != ticket_id));
    }
    similar
        .hits
        .sort_by(|a, b| b.score.unwrap_or(0.0).total_cmp(&a.score.unwrap_or(0.0)));
    similar.hits.truncate(5);
    Ok((articles, similar))
}

/// The wire form of a category.
pub fn category_out(c: &opsdesk_store::Category) -> CategoryOut {
    CategoryOut {
        id: c.id,
        name: c.name.clone(),
        description: c.description.clone(),
        position: c.position,
        published: c.published,
    }
}

/// Creates or changes (`id`) a category (administrators and managers).
pub async fn save_category(
    ctx: &Ctx<'_>,
    id: Option<i64>,
    input: &CategoryIn,
) -> Result<CategoryOut, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::ManageKnowledge)?;
    let mut checks = Checks::default();
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        checks.fail("name", "1 to 100 characters");
    }
    if input.description.chars().count() > 1_000 {
        checks.fail("description", "at most 1,000 characters");
    }
    checks.finish()?;
    let saved = match id {
        Some(id) => {
            store
                .update_category(
                    id,
                    name,
                    input.description.trim(),
                    input.position,
                    actor,
                    now,
                )
                .await?
        }
        None => {
            store
                .create_category(name, input.description.trim(), input.position, actor, now)
                .await?
        }
    };
    Ok(category_out(&saved))
}

/// Reads an article as written into the store's draft; every bad field is named.
async fn draft_of(
    store: &Store,
    input: &ArticleIn,
    writer: Option<i64>,
) -> Result<ArticleDraft, ApiError> {
    let mut checks = Checks::default();
    let title = checks.check(knowledge::parse_title(&input.title));
    let body = checks.check(knowledge::parse_body(&input.body));
    let visibility = match input.visibility.as_deref().map(str::trim) {
        None | Some("") => Some(Visibility::Internal),
        Some(raw) => checks.check(Visibility::parse("visibility", raw)),
    };
    let mut category_id = None;
    if let Some(raw) = input
        .category
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        let categories = store.categories().await?;
        let found = categories
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(raw) || raw.parse::<i64>() == Ok(c.id));
        match found {
            Some(c) => category_id = Some(c.id),
            None => checks.fail("category", format!("no category '{raw}'")),
        }
    }
    let mut owner_id = writer;
    if let Some(raw) = input
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        match store.user_by_email(raw).await? {
            Some(user) if user.actor().works_the_desk() => owner_id = Some(user.id),
            Some(_) => checks.fail("owner", "must be a member of staff"),
            None => checks.fail("owner", format!("no user '{raw}'")),
        }
    }
    let review_by = input
        .review_by
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .and_then(|raw| parse_instant("review_by", raw, DayEdge::Start, &mut checks));
    if input.note.chars().count() > 500 {
        checks.fail("note", "at most 500 characters");
    }
    checks.finish()?;
    match (title, body, visibility) {
        (Some(title), Some(body), Some(visibility)) => Ok(ArticleDraft {
            category_id,
            title,
            body,
            visibility,
            owner_id,
            review_by,
            note: input.note.trim().to_owned(),
        }),
        _ => Err(ApiError::new(
            Code::InvalidInput,
            "the article is not valid",
        )),
    }
}

/// Writes a new article (staff), published at once if asked.
pub async fn create_article(ctx: &Ctx<'_>, input: &ArticleIn) -> Result<Article, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let writer = by.authorize_to(Action::EditArticles)?;
    let draft = draft_of(store, input, writer).await?;
    Ok(store
        .create_article(&draft, input.publish, None, writer, now)
        .await?)
}

/// Saves an edit (a new version when the content changed), publishing it if asked.
pub async fn edit_article(ctx: &Ctx<'_>, id: i64, input: &ArticleIn) -> Result<Article, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let writer = by.authorize_to(Action::EditArticles)?;
    let current = writable(store, by, id).await?;
    if let Some(base) = input.base_version {
        if base != current.version {
            return Err(ApiError::field(
                Code::Conflict,
                "base_version",
                format!(
                    "version {} was saved after version {base}; reload and edit again",
                    current.version
                ),
            ));
        }
    }
    let mut draft = draft_of(store, input, writer).await?;
    // What an edit leaves out stays as it was.
    let absent = |v: &Option<String>| v.as_deref().is_none_or(|v| v.trim().is_empty());
    if absent(&input.owner) {
        draft.owner_id = current.owner.as_ref().map(|o| o.id).or(writer);
    }
    if absent(&input.visibility) {
        draft.visibility = current.visibility;
    }
    if input.category.is_none() {
        draft.category_id = current.category.as_ref().map(|c| c.0);
    }
    if input.review_by.is_none() {
        draft.review_by = current.review_by;
    }
    let expected = input.base_version.unwrap_or(current.version);
    let saved = store
        .edit_article(id, &draft, expected, writer, now)
        .await?;
    if input.publish {
        return Ok(store.publish_article(id, writer, now).await?);
    }
    Ok(saved)
}

/// The article `id`, if `by` may read it (a writer may only change what they may read).
async fn writable(store: &Store, by: Operator<'_>, id: i64) -> Result<Article, ApiError> {
    let article = store.article(id).await?;
    if let Operator::User(actor) = by {
        authorize_read(Some(actor), &article)?;
    }
    Ok(article)
}

/// Publishes the latest version (staff).
pub async fn publish_article(ctx: &Ctx<'_>, id: i64) -> Result<Article, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let writer = by.authorize_to(Action::EditArticles)?;
    writable(store, by, id).await?;
    Ok(store.publish_article(id, writer, now).await?)
}

/// Archives an article (staff).
pub async fn archive_article(ctx: &Ctx<'_>, id: i64) -> Result<Article, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let writer = by.authorize_to(Action::EditArticles)?;
    writable(store, by, id).await?;
    Ok(store.archive_article(id, writer, now).await?)
}

/// Restores an old version as the latest (staff); publish it to show it to readers.
pub async fn restore_version(ctx: &Ctx<'_>, id: i64, version: i64) -> Result<Article, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let writer = by.authorize_to(Action::EditArticles)?;
    writable(store, by, id).await?;
    Ok(store
        .restore_article_version(id, version, writer, now)
        .await?)
}

/// Publishes a problem record's known error as an article (symptom, cause, workaround), or
/// updates the article made from it before.
pub async fn publish_known_error(
    ctx: &Ctx<'_>,
    problem_id: i64,
    visibility: Option<&str>,
) -> Result<Article, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let writer = by.authorize_to(Action::EditArticles)?;
    let problem = store.problem(problem_id).await?;
    if problem.status != ProblemStatus::KnownError && problem.status != ProblemStatus::Resolved {
        return Err(ApiError::field(
            Code::InvalidInput,
            "problem",
            "only a known error (root cause and workaround recorded) can be published",
        ));
    }
    let mut checks = Checks::default();
    let visibility = match visibility.map(str::trim).filter(|v| !v.is_empty()) {
        Some(raw) => checks.check(Visibility::parse("visibility", raw)),
        None => Some(Visibility::Internal),
    };
    checks.finish()?;
    let body = known_error_body(&problem.title, &problem.root_cause, &problem.workaround);
    let title = knowledge::parse_title(&format!("Known error: {}", problem.title))
        .or_else(|_| knowledge::parse_title(&problem.title))?;
    let existing = store.article_of_problem(problem_id).await?;
    let draft = ArticleDraft {
        category_id: existing
            .as_ref()
            .and_then(|a| a.category.as_ref().map(|c| c.0)),
        title,
        body,
        visibility: visibility.unwrap_or(Visibility::Internal),
        owner_id: existing
            .as_ref()
            .and_then(|a| a.owner.as_ref().map(|o| o.id))
            .or(writer),
        review_by: existing.as_ref().and_then(|a| a.review_by),
        note: format!("From problem #{problem_id}"),
    };
    Ok(match existing {
        Some(article) => {
            writable(store, by, article.id).await?;
            store
                .edit_article(article.id, &draft, article.version, writer, now)
                .await?;
            store.publish_article(article.id, writer, now).await?
        }
        None => {
            store
                .create_article(&draft, true, Some(problem_id), writer, now)
                .await?
        }
    })
}

/// The scope that decides who may read `article`.
pub fn scope_of(article: &Article) -> ArticleScope {
    ArticleScope {
        visibility: article.visibility,
        published: article.is_published(),
    }
}

/// Checks `reader` (or an anonymous visitor) may read `article`; hidden ones are not found.
pub fn authorize_read(reader: Option<&Actor>, article: &Article) -> Result<(), ApiError> {
    let allowed = match reader {
        Some(actor) => actor
            .authorize(Action::ReadArticle(scope_of(article)))
            .is_ok(),
        None => article.is_published() && article.visibility == Visibility::Public,
    };
    if allowed {
        Ok(())
    } else {
        Err(ApiError::new(Code::NotFound, "article not found"))
    }
}

/// The wire form of an article for `reader`: staff see the latest version and the counters,
/// everyone else the published version only.
pub fn article_out(
    article: &Article,
    reader: Option<&Actor>,
    public_url: &str,
    now: Timestamp,
) -> ArticleOut {
    let staff = reader.is_some_and(Actor::works_the_desk);
    let (title, body, version) = if staff || !article.is_published() {
        (article.title.clone(), article.body.clone(), article.version)
    } else {
        (
            article.published_title.clone().unwrap_or_default(),
            article.published_body.clone().unwrap_or_default(),
            article.published_version.unwrap_or(article.version),
        )
    };
    let staff_only = |v: i64| if staff { v } else { 0 };
    ArticleOut {
        id: article.id,
        body_html: crate::markdown::to_html(&body),
        title,
        body,
        version,
        latest_version: staff.then_some(article.version),
        published_version: article.published_version,
        status: article.status.as_str().into(),
        visibility: article.visibility.as_string(),
        category: article.category.as_ref().map(|c| c.1.clone()),
        owner: if staff {
            article.owner.as_ref().map(PersonOut::from)
        } else {
            None
        },
        review_by: if staff {
            article.review_by.map(rfc3339)
        } else {
            None
        },
        stale: staff && is_stale(article.status, article.review_by, now),
        problem: if staff { article.problem_id } else { None },
        helpful: article.helpful,
        unhelpful: article.unhelpful,
        deflections: staff_only(article.deflections),
        tickets_linked: staff_only(article.tickets_linked),
        tickets_solved: staff_only(article.tickets_solved),
        updated_at: rfc3339(article.updated_at),
        public_url: (article.is_published() && article.visibility == Visibility::Public)
            .then(|| format!("{public_url}/help/articles/{}", article.id)),
    }
}

/// The wire form of a version; with `previous`, its body and the diff from that version.
pub fn version_out(
    v: &ArticleVersion,
    previous: Option<&ArticleVersion>,
    full: bool,
) -> ArticleVersionOut {
    ArticleVersionOut {
        version: v.version,
        title: v.title.clone(),
        body: full.then(|| v.body.clone()),
        author: v.author.as_ref().map(PersonOut::from),
        note: v.note.clone(),
        created_at: rfc3339(v.created_at),
        diff: full.then(|| diff(previous, v)),
    }
}

/// A unified diff (title line, then body) from `before` to `after`.
pub fn diff(before: Option<&ArticleVersion>, after: &ArticleVersion) -> String {
    let old = before
        .map(|b| format!("# {}\n\n{}\n", b.title, b.body))
        .unwrap_or_default();
    let new = format!("# {}\n\n{}\n", after.title, after.body);
    let label_old = before.map_or_else(|| "empty".to_owned(), |b| format!("version {}", b.version));
    let label_new = format!("version {}", after.version);
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&label_old, &label_new)
        .to_string()
}

/// Records "was this helpful?" (the comment at most 2,000 characters).
pub async fn record_feedback(
    store: &Store,
    article: &Article,
    input: &crate::wire::knowledge::FeedbackIn,
    reader: Option<i64>,
    now: Timestamp,
) -> Result<(), ApiError> {
    let comment = input.comment.trim();
    if comment.chars().count() > 2_000 {
        return Err(ApiError::field(
            Code::InvalidInput,
            "comment",
            "at most 2,000 characters",
        ));
    }
    if comment
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(ApiError::field(
            Code::InvalidInput,
            "comment",
            "must not contain control characters",
        ));
    }
    Ok(store
        .article_feedback(article.id, input.helpful, comment, reader, now)
        .await?)
}

/// Links an article to a ticket (staff who may read both).
pub async fn link_article(
    ctx: &Ctx<'_>,
    ticket_id: i64,
    article_id: i64,
) -> Result<bool, ApiError> {
    let (store, actor, now) = (ctx.store, ctx.user()?, ctx.now);
    actor.authorize(Action::EditArticles)?;
    let ticket = store.ticket(ticket_id).await?;
    actor.authorize(Action::ReadTicket(ticket.scope()))?;
    let article = store.article(article_id).await?;
    authorize_read(Some(actor), &article)?;
    if !article.is_published() {
        return Err(ApiError::field(
            Code::InvalidInput,
            "article",
            "only a published article can be linked to a ticket",
        ));
    }
    Ok(store
        .link_article(ticket_id, &article, Some(actor.user_id), now)
        .await?)
}

/// Knowledge categories: every one for staff, the public ones for everyone else.
pub async fn categories(ctx: &Ctx<'_>) -> Result<Vec<Category>, ApiError> {
    Ok(if ctx.may(Action::ListQueues) {
        ctx.store.categories().await?
    } else {
        ctx.store.public_categories().await?
    })
}

/// The article filter of a list: `status` (`draft`, `published`, `archived`), `stale` and
/// `owner` (`me` or a user id) count for staff only; everyone else sees published public ones.
pub fn article_filter(
    ctx: &Ctx<'_>,
    category: Option<i64>,
    status: Option<&str>,
    stale: bool,
    owner: Option<&str>,
) -> Result<ArticleFilter, ApiError> {
    let mut filter = ArticleFilter {
        category_id: category,
        ..ArticleFilter::default()
    };
    if !ctx.may(Action::ListQueues) {
        return Ok(filter);
    }
    if let Some(raw) = status {
        filter.status = Some(
            ArticleStatus::parse("status", raw)
                .map_err(|e| ApiError::field(Code::InvalidInput, e.field, e.reason))?,
        );
    }
    if stale {
        filter.stale_at = Some(ctx.now);
    }
    filter.owner_id = match owner.map(str::trim) {
        None | Some("") => None,
        Some("me") => ctx.actor().map(|a| a.user_id),
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| {
            ApiError::field(Code::InvalidInput, "owner", "must be 'me' or a user id")
        })?),
    };
    Ok(filter)
}

/// Articles matching `filter` that the operator may read, most recently changed first (at
/// most 500); anyone but staff reads published public ones only.
pub async fn articles(ctx: &Ctx<'_>, mut filter: ArticleFilter) -> Result<Vec<Article>, ApiError> {
    filter.public_only |= !ctx.may(Action::ListQueues);
    let mut articles = ctx.store.articles(&filter, 500).await?;
    articles.retain(|a| readable(ctx, a));
    Ok(articles)
}

fn readable(ctx: &Ctx<'_>, article: &Article) -> bool {
    match ctx.actor() {
        Some(actor) => authorize_read(Some(actor), article).is_ok(),
        None => true,
    }
}

/// One article the operator may read; a hidden one is not found.
pub async fn article(ctx: &Ctx<'_>, id: i64) -> Result<Article, ApiError> {
    let article = ctx.store.article(id).await?;
    if !readable(ctx, &article) {
        return Err(ApiError::new(Code::NotFound, "article not found"));
    }
    Ok(article)
}

/// One article for `reader`, or for an anonymous visitor of the help centre (published and
/// public only); a hidden one is not found.
pub async fn article_for(
    store: &Store,
    reader: Option<&Actor>,
    id: i64,
) -> Result<Article, ApiError> {
    let article = store.article(id).await?;
    authorize_read(reader, &article)?;
    Ok(article)
}

/// The help centre's index, the same for everyone: every category and the published public
/// articles (at most 1,000).
pub async fn help_centre(store: &Store) -> Result<(Vec<Category>, Vec<Article>), ApiError> {
    let categories = store.categories().await?;
    let filter = ArticleFilter {
        public_only: true,
        ..ArticleFilter::default()
    };
    let articles = store.articles(&filter, 1_000).await?;
    Ok((categories, articles))
}

/// One article for staff who may read it.
pub async fn staff_article(ctx: &Ctx<'_>, id: i64) -> Result<Article, ApiError> {
    ctx.authorize(Action::ListQueues)?;
    article(ctx, id).await
}

/// Every version of an article, newest first (staff).
pub async fn versions(ctx: &Ctx<'_>, id: i64) -> Result<Vec<ArticleVersion>, ApiError> {
    staff_article(ctx, id).await?;
    Ok(ctx.store.article_versions(id).await?)
}

/// One version of an article and the one before it, for a diff (staff).
pub async fn version(
    ctx: &Ctx<'_>,
    id: i64,
    version: i64,
) -> Result<(ArticleVersion, Option<ArticleVersion>), ApiError> {
    staff_article(ctx, id).await?;
    let this = ctx.store.article_version(id, version).await?;
    let previous = if version > 1 {
        ctx.store.article_version(id, version - 1).await.ok()
    } else {
        None
    };
    Ok((this, previous))
}

/// The feedback an article received (staff).
pub async fn feedback(ctx: &Ctx<'_>, id: i64) -> Result<Vec<Feedback>, ApiError> {
    staff_article(ctx, id).await?;
    Ok(ctx.store.article_feedback_list(id).await?)
}

/// "Was this helpful?" from a reader who may read the article.
pub async fn give_feedback(
    ctx: &Ctx<'_>,
    id: i64,
    input: &crate::wire::knowledge::FeedbackIn,
) -> Result<Article, ApiError> {
    let reader = ctx.authorize(Action::RateArticle)?;
    let article = article(ctx, id).await?;
    record_feedback(ctx.store, &article, input, reader, ctx.now).await?;
    Ok(article)
}

/// Counts a deflection: the reader found the answer in this article and raised no ticket.
pub async fn record_deflection(ctx: &Ctx<'_>, id: i64) -> Result<Article, ApiError> {
    let reader = ctx.authorize(Action::RateArticle)?;
    let article = article(ctx, id).await?;
    ctx.store.article_deflected(id, reader, ctx.now).await?;
    Ok(article)
}

/// The articles linked to a ticket that the operator may read.
pub async fn ticket_articles(ctx: &Ctx<'_>, ticket_id: i64) -> Result<Vec<Article>, ApiError> {
    super::readable_ticket(ctx, ticket_id).await?;
    let mut articles = ctx.store.ticket_articles(ticket_id).await?;
    articles.retain(|a| readable(ctx, a));
    Ok(articles)
}
