//! The one validation error of the domain: which field, and why.

/// A value or a request the rules refuse, naming the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Invalid {
    /// The input field at fault, as the API and forms name it.
    pub field: &'static str,
    /// Why the value is refused, in a sentence a user can act on.
    pub reason: String,
}

impl Invalid {
    /// Builds the error for `field` with `reason`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
