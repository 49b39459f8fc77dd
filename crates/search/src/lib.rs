//! Full-text search over tickets, articles, incidents and problem records: one tantivy index
//! in the data directory.
//!
//! *The index holds copies, never the truth*: every document is rebuilt from the database, and
//! the whole index can be thrown away and rebuilt (`opsdesk reindex`). The position in the event
//! log up to which the index is current is the payload of its last commit, so the documents and
//! the cursor move together and a crash between them is impossible.
//!
//! *Permissions are part of every query*: each document carries audience tokens (`staff`,
//! `public`, `org:7`, `user:12`, `tier:3`) and a search adds the tokens its caller may see as a
//! required clause, so nothing is filtered after the fact and a page is never short. Internal
//! notes live in their own field, searched and shown only for staff.

mod query;
mod schema;

use std::path::Path;
use std::sync::Mutex;

use tantivy::directory::MmapDirectory;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

pub use opsdesk_domain::access::{ArticleReach, Confinement, SearchReach};
pub use query::{Found, Hit, Order, SearchQuery};
use schema::Fields;

/// Bumped whenever the schema or the way documents are built changes: an index written by
/// another version is thrown away and rebuilt.
const SCHEMA_VERSION: &str = "opsdesk-search-1";
/// The file in the index directory that names the schema version.
const VERSION_FILE: &str = "opsdesk-schema-version";
/// Memory the live indexer may buffer before it writes a segment.
const LIVE_BUDGET: usize = 32_000_000;

/// What went wrong in the index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Another process (a running server) holds the index.
    #[error("the search index in {0} is in use by another opsdesk process")]
    InUse(String),
    /// The index files could not be read or written.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The index directory could not be prepared.
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    /// A lock was poisoned by a panic elsewhere.
    #[error("search index: a writer failed earlier")]
    Poisoned,
}

/// The kinds of things the index holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A ticket: subject, messages, tags.
    Ticket,
    /// A knowledge base article.
    Article,
    /// An incident: title and notes.
    Incident,
    /// A problem record.
    Problem,
}

impl Kind {
    /// Every kind, in the order results are grouped in the UI.
    pub const ALL: [Kind; 4] = [Kind::Ticket, Kind::Article, Kind::Incident, Kind::Problem];

    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ticket => "ticket",
            Kind::Article => "article",
            Kind::Incident => "incident",
            Kind::Problem => "problem",
        }
    }

    /// Reads the wire form.
    pub fn parse(raw: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

/// Who may find a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Staff, and customers of this organisation.
    Organisation(i64),
    /// Staff, and this customer (a ticket of a customer without an organisation).
    Requester(i64),
    /// Everyone, anonymous visitors included (published public articles).
    Public,
    /// Staff only.
    Staff,
    /// Agents of this tier and above, managers, administrators and auditors.
    Tier(u8),
}

/// One document as the index stores it, built from the database by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// What it is.
    pub kind: Kind,
    /// Its id in the database.
    pub id: i64,
    /// Subject or title.
    pub title: String,
    /// Text everyone who may find the document may read (public messages, the article).
    pub text: String,
    /// Text only staff may read (internal notes).
    pub internal: String,
    /// Tags, each one term.
    pub tags: Vec<String>,
    /// Status as the UI names it (`open`, `published`, `resolved`…).
    pub status: String,
    /// The owning team, if any.
    pub team: Option<i64>,
    /// The organisation, if any.
    pub org: Option<i64>,
    /// Who may find it.
    pub audience: Audience,
    /// When it was created (UTC microseconds).
    pub created: i64,
    /// When it last changed (UTC microseconds).
    pub updated: i64,
}

/// A change to apply to the index.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Add the document, replacing any earlier one of the same kind and id.
    Put(Doc),
    /// Remove the document of this kind and id (deleted, archived, no longer indexable).
    Remove(Kind, i64),
}

/// The search index: many readers at once, one writer (this process).
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<IndexWriter<TantivyDocument>>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (or recreating it, if an older schema wrote it).
    /// Fails with [`SearchError::InUse`] when another process holds it.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir)?;
        let version_file = dir.join(VERSION_FILE);
        let current = std::fs::read_to_string(&version_file).unwrap_or_default();
        if current.trim() != SCHEMA_VERSION {
            // Written by another version (or never): start empty; the caller rebuilds.
            for entry in std::fs::read_dir(dir)? {
                let path = entry?.path();
                if path.is_file() {
                    std::fs::remove_file(&path)?;
                }
            }
            std::fs::write(&version_file, SCHEMA_VERSION)?;
        }
        let (schema, fields) = schema::build();
        let directory = MmapDirectory::open(dir)
            .map_err(|e| SearchError::Io(std::io::Error::other(e.to_string())))?;
        let index = Index::open_or_create(directory, schema)?;
        Self::over(index, fields, dir.display().to_string())
    }

    /// An index in memory (tests and tools).
    pub fn in_memory() -> Result<Self, SearchError> {
        let (schema, fields) = schema::build();
        Self::over(Index::create_in_ram(schema), fields, "memory".into())
    }

    fn over(index: Index, fields: Fields, place: String) -> Result<Self, SearchError> {
        schema::register_tokenizers(&index);
        let writer = match index.writer_with_num_threads(1, LIVE_BUDGET) {
            Ok(writer) => writer,
            Err(tantivy::TantivyError::LockFailure(..)) => return Err(SearchError::InUse(place)),
            Err(e) => return Err(e.into()),
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(Self {
            index,
            reader,
            fields,
            writer: Mutex::new(writer),
        })
    }

    /// The event-log position the index is current up to; `None` when it was never built.
    pub fn cursor(&self) -> Result<Option<i64>, SearchError> {
        let metas = self.index.load_metas()?;
        Ok(metas.payload.and_then(|p| p.trim().parse::<i64>().ok()))
    }

    /// How many documents a search can see now.
    pub fn documents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Applies `changes` and commits them with `cursor` as the new position, then makes them
    /// visible to searches.
    pub fn apply(&self, changes: &[Change], cursor: i64) -> Result<(), SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        for change in changes {
            self.stage(&writer, change)?;
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&cursor.to_string());
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(())
    }

    /// Replaces the whole content: every document `batches` yields, then the cursor. Searches
    /// see the old content until the new one is complete.
    pub fn rebuild<E>(
        &self,
        cursor: i64,
        batches: impl Iterator<Item = Result<Vec<Doc>, E>>,
        mut progress: impl FnMut(usize),
    ) -> Result<Result<usize, E>, SearchError> {
        let mut writer = self.writer.lock().map_err(|_| SearchError::Poisoned)?;
        writer.delete_all_documents()?;
        let mut count = 0;
        for batch in batches {
            let docs = match batch {
                Ok(docs) => docs,
                Err(e) => {
                    writer.rollback()?;
                    return Ok(Err(e));
                }
            };
            for doc in docs {
                writer.add_document(self.fields.document(&doc))?;
                count += 1;
            }
            progress(count);
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&cursor.to_string());
        commit.commit()?;
        drop(writer);
        self.reader.reload()?;
        Ok(Ok(count))
    }

    /// Waits for background segment merges (before a process exits after a rebuild).
    pub fn settle(self) -> Result<(), SearchError> {
        let writer = self
            .writer
            .into_inner()
            .map_err(|_| SearchError::Poisoned)?;
        writer.wait_merging_threads()?;
        Ok(())
    }

    fn stage(
        &self,
        writer: &IndexWriter<TantivyDocument>,
        change: &Change,
    ) -> Result<(), SearchError> {
        let (kind, id) = match change {
            Change::Put(doc) => (doc.kind, doc.id),
            Change::Remove(kind, id) => (*kind, *id),
        };
        writer.delete_term(Term::from_field_text(
            self.fields.key,
            &schema::key(kind, id),
        ));
        if let Change::Put(doc) = change {
            writer.add_document(self.fields.document(doc))?;
        }
        Ok(())
    }
}
