//! The store's error type.

use opsdesk_domain::Invalid;

/// Why a store operation did not happen. Nothing was written when one is returned.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The rules refused the change (which field, why).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The thing named does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The change collides with existing data, such as a name already taken.
    #[error("{field}: {reason}")]
    Conflict {
        /// The input field at fault.
        field: &'static str,
        /// Why it collides.
        reason: String,
    },
    /// The database cannot be reached or has no free connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database refused or failed the operation.
    #[error("database: {0}")]
    Database(sqlx::Error),
    /// The embedded database engine refused or failed the operation (the SQLite ticket
    /// writer's own connection).
    #[error("database: {0}")]
    Engine(String),
    /// A stored row holds a value the program cannot read back.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Turns a unique-constraint violation into a [`StoreError::Conflict`] on `field`.
    pub(crate) fn unique(
        field: &'static str,
        reason: impl Into<String>,
    ) -> impl FnOnce(sqlx::Error) -> StoreError {
        let reason = reason.into();
        move |err| match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict { field, reason }
            }
            _ => StoreError::from(err),
        }
    }
}

/// Converts a stored value the domain refuses into [`StoreError::Corrupt`].
pub(crate) fn corrupt(err: Invalid) -> StoreError {
    StoreError::Corrupt(err.to_string())
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(err.to_string())
            }
            other => StoreError::Database(other),
        }
    }
}
