//! Building SQL whose shape depends on input (filters), with `$n` placeholders for both dialects.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
    /// NULL for an integer column.
    Null,
    /// NULL for a text column: PostgreSQL remembers a prepared statement's parameter types, so
    /// a text parameter must stay text when it is NULL.
    NullText,
}

/// SQL text plus the values of its placeholders, numbered as they are pushed.
#[derive(Debug, Default)]
pub(crate) struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends raw SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `param`.
    pub(crate) fn bind(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        self.text.push_str(&format!("${}", self.params.len()));
        self
    }

    /// Appends `(p1, p2, …)` for a list of values.
    pub(crate) fn bind_list(&mut self, params: impl IntoIterator<Item = Param>) -> &mut Self {
        self.text.push('(');
        for (i, p) in params.into_iter().enumerate() {
            if i > 0 {
                self.text.push_str(", ");
            }
            self.bind(p);
        }
        self.text.push(')');
        self
    }

    pub(crate) fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut query = sqlx::query(&self.text);
        for param in &self.params {
            query = match param {
                Param::Int(v) => query.bind(*v),
                Param::Text(v) => query.bind(v.as_str()),
                Param::Null => query.bind(None::<i64>),
                Param::NullText => query.bind(None::<String>),
            };
        }
        query
    }
}
