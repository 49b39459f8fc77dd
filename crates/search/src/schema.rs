//! The index's fields and how a [`Doc`] becomes a tantivy document.

use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

use crate::{Audience, Doc, Kind};

/// The tokenizer of every text field: words split on anything but letters and digits,
/// lower-cased, accents folded (so `café` finds `cafe`), absurdly long tokens dropped.
pub(crate) const WORDS: &str = "opsdesk_words";

/// The fields of the schema.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    /// `ticket:12`: the one term that identifies a document (for replacing it).
    pub(crate) key: Field,
    pub(crate) kind: Field,
    pub(crate) id: Field,
    pub(crate) title: Field,
    pub(crate) text: Field,
    pub(crate) internal: Field,
    pub(crate) tags: Field,
    pub(crate) status: Field,
    pub(crate) team: Field,
    pub(crate) org: Field,
    pub(crate) audience: Field,
    pub(crate) created: Field,
    pub(crate) updated: Field,
}

/// The schema and its fields.
pub(crate) fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = |stored: bool| {
        let indexing = TextFieldIndexing::default()
            .set_tokenizer(WORDS)
            .set_index_option(IndexRecordOption::WithFreqs);
        let options = TextOptions::default().set_indexing_options(indexing);
        if stored {
            options.set_stored()
        } else {
            options
        }
    };
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_i64_field("id", STORED),
        title: b.add_text_field("title", words(true)),
        text: b.add_text_field("text", words(true)),
        internal: b.add_text_field("internal", words(true)),
        tags: b.add_text_field("tags", words(false)),
        status: b.add_text_field("status", STRING | STORED),
        team: b.add_i64_field("team", INDEXED),
        org: b.add_i64_field("org", INDEXED),
        audience: b.add_text_field("audience", STRING),
        created: b.add_i64_field("created", INDEXED | FAST | STORED),
        updated: b.add_i64_field("updated", STORED),
    };
    (b.build(), fields)
}

/// Registers the tokenizer the schema names.
pub(crate) fn register_tokenizers(index: &Index) {
    index.tokenizers().register(WORDS, analyzer());
}

/// The analyzer of [`WORDS`].
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The identifying term of a document.
pub(crate) fn key(kind: Kind, id: i64) -> String {
    format!("{}:{id}", kind.as_str())
}

impl Fields {
    /// The tantivy document of `doc`.
    pub(crate) fn document(&self, doc: &Doc) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_text(self.key, key(doc.kind, doc.id));
        d.add_text(self.kind, doc.kind.as_str());
        d.add_i64(self.id, doc.id);
        d.add_text(self.title, &doc.title);
        if !doc.text.is_empty() {
            d.add_text(self.text, &doc.text);
        }
        if !doc.internal.is_empty() {
            d.add_text(self.internal, &doc.internal);
        }
        for tag in &doc.tags {
            d.add_text(self.tags, tag);
        }
        d.add_text(self.status, &doc.status);
        if let Some(team) = doc.team {
            d.add_i64(self.team, team);
        }
        if let Some(org) = doc.org {
            d.add_i64(self.org, org);
        }
        for token in audience_tokens(doc.audience) {
            d.add_text(self.audience, token);
        }
        d.add_i64(self.created, doc.created);
        d.add_i64(self.updated, doc.updated);
        d
    }
}

/// The audience tokens a document carries. Staff other than agents see everything and are
/// not filtered; agents match `staff` and the tiers up to theirs; customers match `public`
/// and their organisation or themselves.
fn audience_tokens(audience: Audience) -> Vec<String> {
    match audience {
        Audience::Organisation(org) => vec!["staff".into(), format!("org:{org}")],
        Audience::Requester(user) => vec!["staff".into(), format!("user:{user}")],
        Audience::Public => vec!["staff".into(), "public".into()],
        Audience::Staff => vec!["staff".into()],
        Audience::Tier(tier) => vec![format!("tier:{tier}")],
    }
}
