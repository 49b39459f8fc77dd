//! Searching: the words of a query become required term groups (exact, prefix for the word
//! being typed, one typo allowed for longer words), the caller's reach and the filters become
//! required clauses, and the hits come back with highlighted snippets.

use std::ops::Bound;

use opsdesk_domain::access::{ArticleReach, Confinement, SearchReach};
use tantivy::collector::TopDocs;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use crate::schema::{analyzer, Fields};
use crate::{Kind, SearchError, SearchIndex};

/// Most words of a query that are used (the rest are ignored).
const MAX_WORDS: usize = 8;
/// Words at least this long also match with one typo.
const FUZZY_FROM: usize = 5;
/// Characters of a snippet.
const SNIPPET_CHARS: usize = 180;

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Best match first (BM25 over title, text, tags).
    #[default]
    Relevance,
    /// Newest first.
    Recency,
}

/// A search: words and filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchQuery {
    /// What was typed. Empty finds everything the filters allow, newest first.
    pub text: String,
    /// Only these kinds (none: every kind).
    pub kinds: Vec<Kind>,
    /// Only this status.
    pub status: Option<String>,
    /// Only this team.
    pub team: Option<i64>,
    /// Only this organisation.
    pub org: Option<i64>,
    /// Created at or after (UTC microseconds).
    pub from: Option<i64>,
    /// Created before (UTC microseconds).
    pub to: Option<i64>,
    /// Ordering.
    pub order: Order,
    /// Results to skip.
    pub offset: usize,
    /// Results to return (at least 1).
    pub limit: usize,
    /// Search titles only (suggestions as a customer types).
    pub titles_only: bool,
    /// Any word may match (similar documents) instead of every word.
    pub any_word: bool,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// What it is.
    pub kind: Kind,
    /// Its id.
    pub id: i64,
    /// Title with the matched words in `<mark>` (HTML, escaped).
    pub title_html: String,
    /// Plain title.
    pub title: String,
    /// A passage with the matched words in `<mark>` (HTML, escaped); may be empty.
    pub snippet_html: String,
    /// Status when indexed.
    pub status: String,
    /// Created (UTC microseconds).
    pub created: i64,
    /// Relevance score (absent when ordered by recency).
    pub score: Option<f32>,
}

/// A page of results.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    /// The hits of this page.
    pub hits: Vec<Hit>,
    /// Whether more results follow this page.
    pub more: bool,
}

/// The words of a query, as the index tokenizes them.
#[derive(Debug, Clone)]
struct Words {
    words: Vec<String>,
    /// Per word: the index does not hold it as typed, so it also matches with one typo.
    typo: Vec<bool>,
    /// The last word is still being typed (no space after it): match it as a prefix too.
    last_is_prefix: bool,
}

impl Words {
    fn read(text: &str) -> Words {
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut words = Vec::new();
        while stream.advance() {
            if words.len() == MAX_WORDS {
                break;
            }
            words.push(stream.token().text.clone());
        }
        let last_is_prefix = !text.ends_with(char::is_whitespace);
        Words {
            typo: vec![false; words.len()],
            words,
            last_is_prefix,
        }
    }

    fn is_prefix(&self, i: usize) -> bool {
        self.last_is_prefix && i + 1 == self.words.len() && self.words[i].len() >= 2
    }

    /// Whether `token` (already tokenized) matches word `i`.
    fn matches(&self, i: usize, token: &str) -> bool {
        let word = &self.words[i];
        token == word
            || (self.is_prefix(i) && token.starts_with(word.as_str()))
            || (self.typo[i] && within_one_edit(word, token))
    }
}

impl SearchIndex {
    /// Runs `query` for a caller who may see `reach`.
    pub fn search(&self, query: &SearchQuery, reach: &SearchReach) -> Result<Found, SearchError> {
        let searcher = self.reader.searcher();
        let fields = &self.fields;
        let mut words = Words::read(&query.text);
        // Typo tolerance only for a word the index does not hold as typed: a fuzzy match
        // expands to every similar term and their documents, which costs more than anything
        // else here (and snippets then mark only what matched).
        let searched = searched_fields(fields, reach.internal, query.titles_only);
        for (i, word) in words.words.iter().enumerate() {
            let known = searched.iter().any(|&(field, _)| {
                searcher
                    .doc_freq(&Term::from_field_text(field, word))
                    .is_ok_and(|n| n > 0)
            });
            words.typo[i] = !known && word.chars().count() >= FUZZY_FROM;
        }
        let words = words;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let word_queries = (0..words.words.len()).map(|i| word_query(fields, &searched, &words, i));
        if query.any_word {
            // At least one word must match: the words together are one required clause.
            let any: Vec<(Occur, Box<dyn Query>)> =
                word_queries.map(|q| (Occur::Should, q)).collect();
            if !any.is_empty() {
                clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
            }
        } else {
            clauses.extend(word_queries.map(|q| (Occur::Must, q)));
        }
        let Some(reach_clause) = reach_query(fields, reach) else {
            return Ok(Found::default());
        };
        clauses.extend(reach_clause.map(|q| (Occur::Must, q)));
        let kinds: Vec<Kind> = if query.kinds.is_empty() {
            Kind::ALL.to_vec()
        } else {
            query.kinds.clone()
        };
        let kinds: Vec<Kind> = kinds
            .into_iter()
            .filter(|k| reach.records || !matches!(k, Kind::Incident | Kind::Problem))
            .collect();
        if kinds.is_empty() {
            return Ok(Found::default());
        }
        if kinds.len() < Kind::ALL.len() {
            let any: Vec<(Occur, Box<dyn Query>)> = kinds
                .iter()
                .map(|k| {
                    (
                        Occur::Should,
                        term(Term::from_field_text(fields.kind, k.as_str())),
                    )
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        if let Some(status) = &query.status {
            clauses.push((
                Occur::Must,
                term(Term::from_field_text(fields.status, status)),
            ));
        }
        if let Some(team) = query.team {
            clauses.push((Occur::Must, term(Term::from_field_i64(fields.team, team))));
        }
        if let Some(org) = query.org {
            clauses.push((Occur::Must, term(Term::from_field_i64(fields.org, org))));
        }
        if query.from.is_some() || query.to.is_some() {
            let lower = query.from.map_or(Bound::Unbounded, |t| {
                Bound::Included(Term::from_field_i64(fields.created, t))
            });
            let upper = query.to.map_or(Bound::Unbounded, |t| {
                Bound::Excluded(Term::from_field_i64(fields.created, t))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
        }
        if clauses.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        let tantivy_query = BooleanQuery::new(clauses);
        let limit = query.limit.max(1);
        // One more than asked, to know whether a next page exists.
        let top = TopDocs::with_limit(limit + 1).and_offset(query.offset);
        let by_recency = query.order == Order::Recency || words.words.is_empty();
        let addresses: Vec<(Option<f32>, DocAddress)> = if by_recency {
            searcher
                .search(
                    &tantivy_query,
                    &top.order_by_fast_field::<i64>("created", tantivy::Order::Desc),
                )?
                .into_iter()
                .map(|(_, address)| (None, address))
                .collect()
        } else {
            searcher
                .search(&tantivy_query, &top.order_by_score())?
                .into_iter()
                .map(|(score, address)| (Some(score), address))
                .collect()
        };
        let more = addresses.len() > limit;
        let mut hits = Vec::with_capacity(limit);
        for (score, address) in addresses.into_iter().take(limit) {
            if let Some(hit) = self.hit(
                &searcher,
                address,
                score,
                &words,
                reach.internal && !query.titles_only,
            )? {
                hits.push(hit);
            }
        }
        Ok(Found { hits, more })
    }

    fn hit(
        &self,
        searcher: &Searcher,
        address: DocAddress,
        score: Option<f32>,
        words: &Words,
        internal: bool,
    ) -> Result<Option<Hit>, SearchError> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let fields = &self.fields;
        let text_of = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let Some(kind) = Kind::parse(&text_of(fields.kind)) else {
            return Ok(None);
        };
        let Some(id) = doc.get_first(fields.id).and_then(|v| v.as_i64()) else {
            return Ok(None);
        };
        let title = text_of(fields.title);
        let title_html = highlight(&title, words, usize::MAX).unwrap_or_else(|| escape(&title));
        let text = text_of(fields.text);
        let mut snippet_html = highlight(&text, words, SNIPPET_CHARS);
        if snippet_html.is_none() && internal {
            snippet_html = highlight(&text_of(fields.internal), words, SNIPPET_CHARS);
        }
        let snippet_html = snippet_html.unwrap_or_else(|| escape(&clip(&text, SNIPPET_CHARS)));
        Ok(Some(Hit {
            kind,
            id,
            title_html,
            title,
            snippet_html,
            status: text_of(fields.status),
            created: doc
                .get_first(fields.created)
                .and_then(|v| v.as_i64())
                .unwrap_or(0),
            score,
        }))
    }
}

fn term(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// The fields a word is looked for in, with their weights: titles always, then tags and text,
/// and internal notes for staff (titles only for suggestions).
fn searched_fields(fields: &Fields, internal: bool, titles_only: bool) -> Vec<(Field, f32)> {
    let mut searched: Vec<(Field, f32)> = vec![(fields.title, 3.0)];
    if !titles_only {
        searched.push((fields.tags, 2.0));
        searched.push((fields.text, 1.0));
        if internal {
            searched.push((fields.internal, 0.8));
        }
    }
    searched
}

/// The query for word `i`: exact in every searched field, as a prefix in titles if it is being
/// typed, with one typo if the index does not hold it as typed.
fn word_query(
    fields: &Fields,
    searched: &[(Field, f32)],
    words: &Words,
    i: usize,
) -> Box<dyn Query> {
    let word = &words.words[i];
    let fuzzy = words.typo[i];
    let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for &(field, boost) in searched {
        let t = Term::from_field_text(field, word);
        any.push((
            Occur::Should,
            Box::new(BoostQuery::new(
                Box::new(TermQuery::new(t.clone(), IndexRecordOption::WithFreqs)),
                boost,
            )),
        ));
        // The word being typed completes in titles (in bodies a short prefix would expand to
        // most of the dictionary).
        if words.is_prefix(i) && field == fields.title {
            any.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new_prefix(t.clone(), 0, true)),
                    boost * 0.5,
                )),
            ));
        }
        if fuzzy {
            any.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(FuzzyTermQuery::new(t, 1, true)),
                    boost * 0.3,
                )),
            ));
        }
    }
    Box::new(BooleanQuery::new(any))
}

/// The clause confining a search to what `reach` may see: `Some(None)` when nothing needs to
/// be confined, `None` when nothing at all may be found.
fn reach_query(fields: &Fields, reach: &SearchReach) -> Option<Option<Box<dyn Query>>> {
    let mut tokens: Vec<String> = Vec::new();
    match reach.articles {
        ArticleReach::All if reach.tickets == Confinement::None => return Some(None),
        ArticleReach::All => tokens.extend((0..=4).map(|t| format!("tier:{t}"))),
        ArticleReach::UpToTier(tier) => {
            tokens.extend((0..=tier.level()).map(|t| format!("tier:{t}")))
        }
        ArticleReach::Public => tokens.push("public".into()),
    }
    match reach.tickets {
        Confinement::None => tokens.push("staff".into()),
        Confinement::Organisation(org) => tokens.push(format!("org:{org}")),
        Confinement::Requester(user) => tokens.push(format!("user:{user}")),
        Confinement::Nothing => {}
    }
    if tokens.is_empty() {
        return None;
    }
    let any: Vec<(Occur, Box<dyn Query>)> = tokens
        .iter()
        .map(|t| {
            (
                Occur::Should,
                term(Term::from_field_text(fields.audience, t)),
            )
        })
        .collect();
    Some(Some(Box::new(BooleanQuery::new(any))))
}

/// `text` with the words of the query marked, clipped to about `max` characters around the
/// first match; `None` when no word matches.
fn highlight(text: &str, words: &Words, max: usize) -> Option<String> {
    if words.words.is_empty() || text.is_empty() {
        return None;
    }
    let mut analyzer = analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut marks: Vec<(usize, usize)> = Vec::new();
    while stream.advance() {
        let token = stream.token();
        if (0..words.words.len()).any(|i| words.matches(i, &token.text)) {
            marks.push((token.offset_from, token.offset_to));
        }
    }
    let first = marks.first()?.0;
    // Start a little before the first match, on a character boundary.
    let mut start = if max == usize::MAX {
        0
    } else {
        first.saturating_sub(max / 4)
    };
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = start.saturating_add(max).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let mut html = String::new();
    if start > 0 {
        html.push('…');
    }
    let mut at = start;
    for (from, to) in marks
        .into_iter()
        .filter(|(from, to)| *from >= start && *to <= end)
    {
        html.push_str(&escape(&text[at..from]));
        html.push_str("<mark>");
        html.push_str(&escape(&text[from..to]));
        html.push_str("</mark>");
        at = to;
    }
    html.push_str(&escape(&text[at..end]));
    if end < text.len() {
        html.push('…');
    }
    Some(html)
}

/// The first `max` characters of `text`.
fn clip(text: &str, max: usize) -> String {
    let mut clipped: String = text.chars().take(max).collect();
    if clipped.len() < text.len() {
        clipped.push('…');
    }
    clipped
}

/// `text` safe inside HTML.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Whether `a` becomes `b` by at most one insertion, deletion, substitution or swap of
/// neighbours (what the index's fuzzy match allows).
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if prefix == a.len() && prefix == b.len() {
        return true;
    }
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let tail_equal = |x: &[char], y: &[char]| x == y;
    match ra.len().cmp(&rb.len()) {
        std::cmp::Ordering::Equal => {
            tail_equal(&ra[1..], &rb[1..])
                || (ra.len() >= 2
                    && ra[0] == rb[1]
                    && ra[1] == rb[0]
                    && tail_equal(&ra[2..], &rb[2..]))
        }
        std::cmp::Ordering::Greater => tail_equal(&ra[1..], rb),
        std::cmp::Ordering::Less => tail_equal(ra, &rb[1..]),
    }
}

#[cfg(test)]
mod tests;
