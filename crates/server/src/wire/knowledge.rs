//! The JSON shapes of search results, knowledge base categories, articles and their versions.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::desk::PersonOut;

/// A search as the query string gives it.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// The words; the last one also matches as a prefix unless followed by a space.
    #[serde(default)]
    pub q: String,
    /// Comma-separated kinds: `ticket`, `article`, `incident`, `problem`.
    #[serde(default)]
    pub kind: Option<String>,
    /// Only this status (`open`, `resolved`, `published`…).
    #[serde(default)]
    pub status: Option<String>,
    /// Only this team (id).
    #[serde(default)]
    pub team: Option<String>,
    /// Only this organisation (id).
    #[serde(default)]
    pub org: Option<String>,
    /// Created at or after: RFC 3339 time or `YYYY-MM-DD` (UTC).
    #[serde(default)]
    pub from: Option<String>,
    /// Created before: RFC 3339 time or `YYYY-MM-DD` (UTC, the day excluded).
    #[serde(default)]
    pub to: Option<String>,
    /// `relevance` (default) or `recency`.
    #[serde(default)]
    pub order: Option<String>,
    /// Results per page, 1–100 (default 20).
    #[serde(default)]
    pub limit: Option<String>,
    /// Results to skip.
    #[serde(default)]
    pub offset: Option<String>,
}

/// One search result.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHitOut {
    /// `ticket`, `article`, `incident` or `problem`.
    pub kind: String,
    /// Its id.
    pub id: i64,
    /// Title or subject.
    pub title: String,
    /// The title with matched words in `<mark>` (escaped HTML).
    pub title_html: String,
    /// A passage with matched words in `<mark>` (escaped HTML).
    pub snippet_html: String,
    /// Status when indexed.
    pub status: String,
    /// Created (RFC 3339).
    pub created_at: String,
    /// Where the caller opens it in the UI.
    pub url: String,
    /// Relevance score (absent when ordered by recency).
    pub score: Option<f32>,
}

/// A page of search results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchOut {
    /// The results.
    pub items: Vec<SearchHitOut>,
    /// The offset of the next page, when there is one.
    pub next_offset: Option<usize>,
}

/// The search index of the answering process.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchStatusOut {
    /// Documents searchable now.
    pub documents: u64,
    /// The event-log position the index has reached.
    pub cursor: i64,
    /// The newest event-log position (the index is current when equal).
    pub latest: i64,
    /// A rebuild is running.
    pub rebuilding: bool,
    /// Documents written by the running or last rebuild.
    pub rebuilt: usize,
    /// Documents the running rebuild will write.
    pub rebuild_total: usize,
    /// When the last rebuild in this process finished (RFC 3339).
    pub rebuilt_at: Option<String>,
    /// The indexer's last failure, if it is failing.
    pub error: Option<String>,
}

/// A category as written.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryIn {
    /// Unique name.
    pub name: String,
    /// What belongs in it.
    #[serde(default)]
    pub description: String,
    /// Order in lists (smallest first).
    #[serde(default)]
    pub position: i64,
}

/// A category.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// What belongs in it.
    pub description: String,
    /// Order.
    pub position: i64,
    /// Published articles in it.
    pub published: i64,
}

/// An article as written: a new one, or an edit (which adds a version when the title or body
/// changed).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleIn {
    /// Title.
    pub title: String,
    /// Body in Markdown.
    pub body: String,
    /// Category name or id (an edit without it keeps the current one; empty for none).
    #[serde(default)]
    pub category: Option<String>,
    /// `public`, `internal` (default for a new article; an edit without it keeps the current
    /// one) or a tier such as `L2` (that tier and above).
    #[serde(default)]
    pub visibility: Option<String>,
    /// Owner's e-mail (staff; default: the writer).
    #[serde(default)]
    pub owner: Option<String>,
    /// Review-by date, `YYYY-MM-DD` or RFC 3339.
    #[serde(default)]
    pub review_by: Option<String>,
    /// What changed (kept with the version).
    #[serde(default)]
    pub note: String,
    /// Publish this version at once.
    #[serde(default)]
    pub publish: bool,
    /// On an edit: the version this edit started from; refused when someone saved meanwhile.
    #[serde(default)]
    pub base_version: Option<i64>,
}

/// An article for its reader: staff see the latest version and the published one; others only
/// the published one.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleOut {
    /// Id.
    pub id: i64,
    /// Title (the version the caller reads).
    pub title: String,
    /// Body, Markdown.
    pub body: String,
    /// Body rendered to safe HTML.
    pub body_html: String,
    /// The version shown.
    pub version: i64,
    /// The latest version (staff).
    pub latest_version: Option<i64>,
    /// The published version.
    pub published_version: Option<i64>,
    /// `draft`, `published` or `archived`.
    pub status: String,
    /// `public`, `internal` or a tier.
    pub visibility: String,
    /// Category name.
    pub category: Option<String>,
    /// Owner (staff).
    pub owner: Option<PersonOut>,
    /// Review-by (RFC 3339; staff).
    pub review_by: Option<String>,
    /// Past its review date (staff).
    pub stale: bool,
    /// The problem record a known error came from.
    pub problem: Option<i64>,
    /// Helpful answers.
    pub helpful: i64,
    /// Not-helpful answers.
    pub unhelpful: i64,
    /// Deflections: read from a suggestion, no ticket raised (staff).
    pub deflections: i64,
    /// Tickets it was linked to (staff).
    pub tickets_linked: i64,
    /// Linked tickets now resolved or closed (staff).
    pub tickets_solved: i64,
    /// Last changed (RFC 3339).
    pub updated_at: String,
    /// Public address on the help centre (public articles).
    pub public_url: Option<String>,
}

/// One version of an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleVersionOut {
    /// Version number.
    pub version: i64,
    /// Title then.
    pub title: String,
    /// Body then (only when one version is asked for).
    pub body: Option<String>,
    /// Who wrote it.
    pub author: Option<PersonOut>,
    /// What changed.
    pub note: String,
    /// When (RFC 3339).
    pub created_at: String,
    /// Unified diff against the version before (only when one version is asked for).
    pub diff: Option<String>,
}

/// "Was this helpful?"
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackIn {
    /// Helpful or not.
    pub helpful: bool,
    /// What was missing.
    #[serde(default)]
    pub comment: String,
}

/// A reader's feedback (staff).
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackOut {
    /// Helpful or not.
    pub helpful: bool,
    /// What they said.
    pub comment: String,
    /// Who (signed-in readers).
    pub user: Option<PersonOut>,
    /// When (RFC 3339).
    pub created_at: String,
}

/// Link an article to a ticket.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketArticleIn {
    /// The article's id.
    pub article: i64,
}
