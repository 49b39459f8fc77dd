//! Building SQL whose shape depends on input (filters), with `$n` placeholders for both dialects.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

use crate::Backend;

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

impl Param {
    /// The value as JSON (rows of a batch travel as one JSON parameter).
    pub(crate) fn json(&self) -> serde_json::Value {
        match self {
            Param::Int(v) => serde_json::Value::from(*v),
            Param::Text(v) => serde_json::Value::from(v.as_str()),
            Param::Null | Param::NullText => serde_json::Value::Null,
        }
    }
}

/// Rows of values as one JSON array text, bound as a single parameter: binding many
/// parameters costs SQLite time quadratic in their count.
pub(crate) fn json_rows(rows: &[Vec<Param>]) -> String {
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|row| serde_json::Value::Array(row.iter().map(Param::json).collect()))
        .collect();
    serde_json::Value::Array(rows).to_string()
}

/// `SELECT` of the rows bound (by [`json_rows`]) at `placeholder`, one output column per name
/// in `columns` (integers, except those `is_text` names), usable as an `INSERT` source.
pub(crate) fn select_json_rows(
    backend: Backend,
    placeholder: &str,
    columns: &[&str],
    is_text: impl Fn(&str) -> bool,
) -> String {
    let values: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, name)| match (backend, is_text(name)) {
            (Backend::Sqlite, _) => format!("j.value ->> {i}"),
            (Backend::Postgres, true) => format!("j ->> {i}"),
            (Backend::Postgres, false) => format!("(j ->> {i})::bigint"),
        })
        .collect();
    match backend {
        Backend::Sqlite => format!(
            "SELECT {} FROM json_each({placeholder}) AS j WHERE true",
            values.join(", ")
        ),
        Backend::Postgres => format!(
            "SELECT {} FROM jsonb_array_elements({placeholder}::jsonb) AS j",
            values.join(", ")
        ),
    }
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
