//! The search page: live results as you type, over everything the reader may see.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use opsdesk_domain::access::SearchReach;
use opsdesk_domain::Action;
use opsdesk_search::Kind;
use serde::Deserialize;

use super::session::Session;
use super::views::{Chrome, FormErrors};
use super::{form_errors, render};
use crate::app::knowledge as app;
use crate::wire::knowledge::{SearchHitOut, SearchParams};
use crate::AppState;

/// The search route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/search", get(search_page))
}

/// A search as the form sends it (unknown parameters ignored).
#[derive(Debug, Default, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    pub(super) q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    offset: String,
}

pub(super) fn some(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.trim().to_owned())
}

impl SearchForm {
    pub(super) fn params(&self) -> SearchParams {
        SearchParams {
            q: self.q.clone(),
            kind: some(&self.kind),
            status: some(&self.status),
            team: some(&self.team),
            org: some(&self.org),
            from: some(&self.from),
            to: some(&self.to),
            order: some(&self.order),
            limit: None,
            offset: some(&self.offset),
        }
    }

    pub(super) fn filtered(&self) -> bool {
        [
            &self.kind,
            &self.status,
            &self.team,
            &self.org,
            &self.from,
            &self.to,
        ]
        .iter()
        .any(|f| !f.trim().is_empty())
    }

    /// The query string of this search without its offset (for "more results").
    pub(super) fn link(&self, path: &str) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("q", self.q.as_str()),
            ("kind", &self.kind),
            ("status", &self.status),
            ("team", &self.team),
            ("org", &self.org),
            ("from", &self.from),
            ("to", &self.to),
            ("order", &self.order),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        format!(
            "{path}?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    }
}

/// Search results (the partial swapped in as the user types).
#[derive(Template)]
#[template(path = "search_results.html")]
pub struct SearchResults {
    /// What was typed.
    pub query: String,
    /// Any filter is set.
    pub filtered: bool,
    /// The hits.
    pub hits: Vec<SearchHitOut>,
    /// Offset of the next page.
    pub next_offset: Option<usize>,
    /// This search's link without offset.
    pub more_link: String,
    /// The searcher is staff.
    pub staff: bool,
    /// The searcher sees internal notes.
    pub internal: bool,
}

/// The search page.
#[derive(Template)]
#[template(path = "search.html")]
pub struct SearchPage {
    /// Frame.
    pub chrome: Chrome,
    /// What was typed.
    pub query: String,
    /// Any filter is set.
    pub filtered: bool,
    /// Kind filter.
    pub kind: String,
    /// (value, label) of the kinds this searcher may ask for.
    pub kinds: Vec<(&'static str, &'static str)>,
    /// Status filter.
    pub status: String,
    /// Statuses to choose from.
    pub statuses: Vec<&'static str>,
    /// Team filter.
    pub team: String,
    /// (id, name) of teams.
    pub teams: Vec<(i64, String)>,
    /// Organisation filter.
    pub org: String,
    /// (id, name) of organisations.
    pub orgs: Vec<(i64, String)>,
    /// From date.
    pub from: String,
    /// To date.
    pub to: String,
    /// Order.
    pub order: String,
    /// The hits.
    pub hits: Vec<SearchHitOut>,
    /// Offset of the next page.
    pub next_offset: Option<usize>,
    /// This search's link without offset.
    pub more_link: String,
    /// The searcher is staff.
    pub staff: bool,
    /// The searcher sees internal notes.
    pub internal: bool,
    /// Refused parameters.
    pub form: FormErrors,
}

/// Whether htmx asked (answer with the partial only).
pub(super) fn from_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request")
}

/// Runs a search form for `reach`; refused parameters come back as form errors.
pub(super) async fn run(
    state: &AppState,
    form: &SearchForm,
    reach: SearchReach,
    staff: bool,
    only: Option<Kind>,
) -> (Vec<SearchHitOut>, Option<usize>, FormErrors) {
    let blank = form.q.trim().is_empty() && !form.filtered();
    if blank {
        return (Vec::new(), None, FormErrors::default());
    }
    let mut query = match app::search_query(&form.params()) {
        Ok(q) => q,
        Err(e) => return (Vec::new(), None, form_errors(e).1),
    };
    if let Some(kind) = only {
        query.kinds = vec![kind];
    }
    match app::run_search(&state.search, query.clone(), reach).await {
        Ok(found) => {
            let out = app::search_out(found, &query, staff);
            (out.items, out.next_offset, FormErrors::default())
        }
        Err(e) => (Vec::new(), None, form_errors(e).1),
    }
}

async fn search_page(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(form): Query<SearchForm>,
) -> Response {
    let ctx = state.ctx(&session.actor);
    let staff = ctx.may(Action::ListQueues);
    let internal = ctx.sees_internal();
    let (hits, next_offset, errors) =
        run(&state, &form, session.actor.search_reach(), staff, None).await;
    if from_htmx(&headers) {
        return render(&SearchResults {
            query: form.q.clone(),
            filtered: form.filtered(),
            hits,
            next_offset,
            more_link: form.link("/search"),
            staff,
            internal,
        })
        .into_response();
    }
    let (teams, orgs) = if staff {
        let teams = crate::app::directory::teams(&ctx).await.unwrap_or_default();
        let orgs = crate::app::directory::orgs(&ctx).await.unwrap_or_default();
        (
            teams.into_iter().map(|t| (t.id, t.name)).collect(),
            orgs.into_iter().map(|o| (o.id, o.name)).collect(),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let mut kinds = vec![("ticket", "tickets"), ("article", "articles")];
    if ctx.may(Action::ReadIncidents) {
        kinds.extend([("incident", "incidents"), ("problem", "problems")]);
    }
    let page = SearchPage {
        chrome: session.chrome(),
        query: form.q.clone(),
        filtered: form.filtered(),
        kind: form.kind.clone(),
        kinds,
        status: form.status.clone(),
        statuses: vec![
            "new",
            "open",
            "pending",
            "on_hold",
            "resolved",
            "closed",
            "published",
            "draft",
            "triggered",
            "acknowledged",
            "known_error",
        ],
        team: form.team.clone(),
        teams,
        org: form.org.clone(),
        orgs,
        from: form.from.clone(),
        to: form.to.clone(),
        order: form.order.clone(),
        hits,
        next_offset,
        more_link: form.link("/search"),
        staff,
        internal,
        form: errors,
    };
    render(&page)
}
