//! The public help centre (no sign-in needed): categories and articles, article pages with
//! feedback and deflection, and the portal's suggestions while a customer types a subject.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use jiff::Timestamp;
use opsdesk_domain::access::SearchReach;
use opsdesk_domain::knowledge::ArticleStatus;
use opsdesk_domain::Actor;
use opsdesk_search::Kind;
use opsdesk_store::Category;
use serde::Deserialize;

use super::search::{from_htmx, run, SearchForm, SearchResults};
use super::session::Empty;
use super::session::{Session, SignedForm};
use super::views::Chrome;
use super::{page_error, render};
use crate::app::knowledge as app;
use crate::error::ApiError;
use crate::wire::knowledge::{ArticleOut, FeedbackIn, SearchHitOut};
use crate::AppState;

/// The help centre's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/help", get(help))
        .route("/help/articles/{id}", get(help_article))
        .route("/help/articles/{id}/feedback", post(feedback))
        .route("/help/articles/{id}/deflected", post(deflected))
        .route("/portal/suggest", get(portal_suggest))
}

/// A category on the help centre: name, description, and its articles' (id, title).
pub type HelpCategory = (String, String, Vec<(i64, String)>);

/// The help centre's front page.
#[derive(Template)]
#[template(path = "help.html")]
pub struct HelpPage {
    /// Frame (no user for anonymous visitors).
    pub chrome: Chrome,
    /// What was typed.
    pub query: String,
    /// Always false (the help centre has no filters).
    pub filtered: bool,
    /// Hits.
    pub hits: Vec<SearchHitOut>,
    /// Offset of the next page.
    pub next_offset: Option<usize>,
    /// Link without offset.
    pub more_link: String,
    /// Staff view of the results text.
    pub staff: bool,
    /// Internal notes searched.
    pub internal: bool,
    /// (name, description, [(id, title)]) per category, then uncategorised.
    pub categories: Vec<HelpCategory>,
}

fn reader(session: &Result<Session, Response>) -> Option<&Actor> {
    session.as_ref().ok().map(|s| &s.actor)
}

fn chrome_of(session: &Result<Session, Response>) -> Chrome {
    session.as_ref().map(Session::chrome).unwrap_or_default()
}

async fn help(
    State(state): State<AppState>,
    session: Result<Session, Response>,
    headers: HeaderMap,
    Query(form): Query<SearchForm>,
) -> Response {
    // The help centre shows what the public may read, whoever asks.
    let (hits, next_offset, _) = run(
        &state,
        &form,
        SearchReach::ANONYMOUS,
        false,
        Some(Kind::Article),
    )
    .await;
    let results = SearchResults {
        query: form.q.clone(),
        filtered: false,
        hits,
        next_offset,
        more_link: form.link("/help"),
        staff: false,
        internal: false,
    };
    if from_htmx(&headers) {
        return render(&results);
    }
    let result = async {
        let (categories, articles) = app::help_centre(&state.store).await?;
        let mut groups: Vec<HelpCategory> = categories
            .iter()
            .map(|c: &Category| (c.name.clone(), c.description.clone(), Vec::new()))
            .collect();
        let mut other = Vec::new();
        for a in &articles {
            let entry = (
                a.id,
                a.published_title.clone().unwrap_or_else(|| a.title.clone()),
            );
            match a
                .category
                .as_ref()
                .and_then(|(id, _)| categories.iter().position(|c| c.id == *id))
            {
                Some(i) => groups[i].2.push(entry),
                None => other.push(entry),
            }
        }
        if !other.is_empty() {
            groups.push(("More articles".into(), String::new(), other));
        }
        groups.retain(|g| !g.2.is_empty());
        Ok::<_, ApiError>(groups)
    }
    .await;
    match result {
        Ok(categories) => render(&HelpPage {
            chrome: chrome_of(&session),
            query: results.query,
            filtered: false,
            hits: results.hits,
            next_offset: results.next_offset,
            more_link: results.more_link,
            staff: false,
            internal: false,
            categories,
        })
        .into_response(),
        Err(e) => page_error(e, chrome_of(&session)),
    }
}

/// A help centre article.
#[derive(Template)]
#[template(path = "help_article.html")]
pub struct HelpArticlePage {
    /// Frame.
    pub chrome: Chrome,
    /// The article as the reader may read it.
    pub a: ArticleOut,
    /// Last updated, readable.
    pub updated: String,
    /// Opened from a suggestion while raising a request.
    pub from_suggestion: bool,
    /// A signed-in reader (may give feedback).
    pub signed_in: bool,
    /// A line of thanks after feedback.
    pub notice: String,
}

#[derive(Debug, Default, Deserialize)]
struct ArticleView {
    #[serde(default)]
    from: String,
    #[serde(default)]
    thanks: String,
}

async fn help_article(
    State(state): State<AppState>,
    session: Result<Session, Response>,
    Path(id): Path<i64>,
    Query(view): Query<ArticleView>,
) -> Response {
    let actor = reader(&session).cloned();
    let result = async {
        let article = app::article_for(&state.store, actor.as_ref(), id).await?;
        // Everyone reads the published version here, staff included.
        Ok::<_, ApiError>(app::article_out(
            &article,
            None,
            &state.public_url,
            Timestamp::now(),
        ))
    }
    .await;
    match result {
        Ok(a) => {
            if a.status != ArticleStatus::Published.as_str() {
                return page_error(
                    ApiError::new(crate::error::Code::NotFound, "article not found"),
                    chrome_of(&session),
                );
            }
            let page = HelpArticlePage {
                chrome: chrome_of(&session),
                updated: super::views::readable(&a.updated_at),
                a,
                from_suggestion: view.from == "suggest",
                signed_in: session.is_ok(),
                notice: match view.thanks.as_str() {
                    "feedback" => "Thank you for your feedback.".into(),
                    "deflected" => "Glad it helped — no request needed.".into(),
                    _ => String::new(),
                },
            };
            render(&page)
        }
        Err(e) => page_error(e, chrome_of(&session)),
    }
}

#[derive(Debug, Deserialize)]
struct FeedbackForm {
    helpful: String,
    #[serde(default)]
    comment: String,
}

async fn feedback(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, form }: SignedForm<FeedbackForm>,
) -> Response {
    let result = async {
        let input = FeedbackIn {
            helpful: form.helpful == "true",
            comment: form.comment,
        };
        app::give_feedback(&state.ctx(&session.actor), id, &input)
            .await
            .map(|_| ())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/help/articles/{id}?thanks=feedback")).into_response(),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn deflected(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    SignedForm { session, .. }: SignedForm<Empty>,
) -> Response {
    let result = async {
        app::record_deflection(&state.ctx(&session.actor), id)
            .await
            .map(|_| ())
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/help/articles/{id}?thanks=deflected")).into_response(),
        Err(e) => page_error(e, session.chrome()),
    }
}

/// Suggested articles under the subject of a new request.
#[derive(Template)]
#[template(path = "portal_suggest.html")]
pub struct Suggestions {
    /// Matching public articles.
    pub hits: Vec<SearchHitOut>,
}

#[derive(Debug, Default, Deserialize)]
struct SuggestForm {
    #[serde(default)]
    subject: String,
}

async fn portal_suggest(
    State(state): State<AppState>,
    session: Session,
    Query(form): Query<SuggestForm>,
) -> Response {
    let hits = match app::suggest(
        &state.search,
        &form.subject,
        session.actor.search_reach(),
        5,
    )
    .await
    {
        Ok(found) => app::search_out(found, &opsdesk_search::SearchQuery::default(), false).items,
        Err(_) => Vec::new(),
    };
    render(&Suggestions { hits })
}
