//! After an incident: the review's state, action items tracked until someone verifies them,
//! and problem records (ITIL) that carry a root cause and, once known, a workaround.

use jiff::Timestamp;

use crate::Invalid;

/// Where an action item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionState {
    /// To do.
    Open,
    /// The owner says it is done.
    Done,
    /// Someone checked it against its verification criteria.
    Verified,
}

impl ActionState {
    /// Parses `open`, `done` or `verified`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(ActionState::Open),
            "done" => Ok(ActionState::Done),
            "verified" => Ok(ActionState::Verified),
            other => Err(Invalid::new(
                field,
                format!("'{other}' is not an action item state (open, done, verified)"),
            )),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionState::Open => "open",
            ActionState::Done => "done",
            ActionState::Verified => "verified",
        }
    }

    /// Checks a move: open → done → verified, done → open (it was not done after all);
    /// verified is final; only someone other than the owner verifies.
    pub fn move_to(self, to: ActionState, by_owner: bool) -> Result<ActionState, Invalid> {
        use ActionState::*;
        match (self, to) {
            (a, b) if a == b => Err(Invalid::new(
                "state",
                format!("the action item is already {}", b.as_str()),
            )),
            (Open, Done) | (Done, Open) => Ok(to),
            (Done, Verified) if by_owner => Err(Invalid::new(
                "state",
                "someone other than the owner verifies an action item",
            )),
            (Done, Verified) => Ok(to),
            (Open, Verified) => Err(Invalid::new(
                "state",
                "an action item is done before it is verified",
            )),
            (Verified, _) => Err(Invalid::new("state", "a verified action item is final")),
            _ => Err(Invalid::new("state", "not a possible move")),
        }
    }
}

/// Whether an action item is overdue at `now`: still open past its due instant.
pub fn overdue(state: ActionState, due: Timestamp, now: Timestamp) -> bool {
    state == ActionState::Open && due < now
}

/// Where a problem record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemStatus {
    /// The cause is being investigated.
    Open,
    /// The cause is known and a workaround exists (a known error).
    KnownError,
    /// Fixed for good.
    Resolved,
}

impl ProblemStatus {
    /// Parses `open`, `known_error` or `resolved`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        match raw
            .trim()
            .to_ascii_lowercase()
            .replace([' ', '-'], "_")
            .as_str()
        {
            "open" => Ok(ProblemStatus::Open),
            "known_error" => Ok(ProblemStatus::KnownError),
            "resolved" => Ok(ProblemStatus::Resolved),
            other => Err(Invalid::new(
                field,
                format!("'{other}' is not a problem status (open, known_error, resolved)"),
            )),
        }
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemStatus::Open => "open",
            ProblemStatus::KnownError => "known_error",
            ProblemStatus::Resolved => "resolved",
        }
    }

    /// A known error needs its root cause and workaround written down.
    pub fn check(self, root_cause: &str, workaround: &str) -> Result<(), Invalid> {
        if self == ProblemStatus::KnownError {
            if root_cause.trim().is_empty() {
                return Err(Invalid::new(
                    "root_cause",
                    "a known error states its root cause",
                ));
            }
            if workaround.trim().is_empty() {
                return Err(Invalid::new("workaround", "a known error has a workaround"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_items_are_verified_by_someone_else() {
        use ActionState::*;
        assert_eq!(Open.move_to(Done, true), Ok(Done));
        assert!(Done.move_to(Verified, true).is_err());
        assert_eq!(Done.move_to(Verified, false), Ok(Verified));
        assert!(Open.move_to(Verified, false).is_err());
        assert!(Verified.move_to(Open, false).is_err());
        assert_eq!(Done.move_to(Open, false), Ok(Open));
    }

    #[test]
    fn known_errors_need_cause_and_workaround() {
        assert!(ProblemStatus::KnownError.check("disk", "").is_err());
        assert!(ProblemStatus::KnownError.check("", "restart").is_err());
        assert!(ProblemStatus::KnownError.check("disk", "restart").is_ok());
        assert!(ProblemStatus::Open.check("", "").is_ok());
        let t = |s: i64| Timestamp::from_second(s).unwrap_or_default();
        assert!(overdue(ActionState::Open, t(10), t(20)));
        assert!(!overdue(ActionState::Done, t(10), t(20)));
    }
}
