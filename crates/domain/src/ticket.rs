//! The ticket lifecycle: statuses, which moves between them are allowed, and link kinds.

use crate::Invalid;

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Raised, nobody has worked it yet.
    New,
    /// Being worked by the desk.
    Open,
    /// Waiting on the customer (or a third party).
    Pending,
    /// The desk believes it is solved; the customer can still reopen it.
    Resolved,
    /// Finished; reopening is still possible but deliberate.
    Closed,
}

impl Status {
    /// Every status in lifecycle order.
    pub const ALL: [Status; 5] = [
        Status::New,
        Status::Open,
        Status::Pending,
        Status::Resolved,
        Status::Closed,
    ];

    /// Parses a status name for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim().to_lowercase())
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("'{raw}' is not a status (new, open, pending, resolved, closed)"),
                )
            })
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    /// Whether the desk still owes work on the ticket.
    pub fn is_active(self) -> bool {
        matches!(self, Status::New | Status::Open | Status::Pending)
    }

    /// Whether moving from `self` to `to` is allowed.
    ///
    /// new → open | pending | resolved; open → pending | resolved; pending → open | resolved;
    /// resolved → closed | open (reopen); closed → open (reopen). Nothing returns to `new`.
    pub fn can_move_to(self, to: Status) -> bool {
        use Status::*;
        matches!(
            (self, to),
            (New, Open | Pending | Resolved)
                | (Open, Pending | Resolved)
                | (Pending, Open | Resolved)
                | (Resolved, Closed | Open)
                | (Closed, Open)
        )
    }

    /// Checks the move from `self` to `to`, naming the allowed moves when it is refused.
    pub fn move_to(self, to: Status) -> Result<Status, Invalid> {
        if self == to {
            return Err(Invalid::new(
                "status",
                format!("the ticket is already {}", to.as_str()),
            ));
        }
        if self.can_move_to(to) {
            return Ok(to);
        }
        let allowed: Vec<&str> = Self::ALL
            .into_iter()
            .filter(|s| self.can_move_to(*s))
            .map(Status::as_str)
            .collect();
        Err(Invalid::new(
            "status",
            format!(
                "a {} ticket cannot become {}; allowed: {}",
                self.as_str(),
                to.as_str(),
                allowed.join(", ")
            ),
        ))
    }

    /// The status a public reply moves the ticket to, if any.
    ///
    /// A customer's reply puts a waiting, resolved or closed ticket back in front of the desk;
    /// the desk's first public reply to a new ticket opens it. Internal notes move nothing.
    pub fn after_reply(self, by_customer: bool, internal: bool) -> Option<Status> {
        if internal {
            return None;
        }
        match (self, by_customer) {
            (Status::Pending | Status::Resolved | Status::Closed, true) => Some(Status::Open),
            (Status::New, false) => Some(Status::Open),
            _ => None,
        }
    }
}

/// Why a pending ticket waits; SLA policies pause clocks by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PendingReason {
    /// The desk asked the customer something.
    Customer,
    /// A vendor (third-party supplier) is working on it.
    Vendor,
    /// On hold inside the desk (a change window, a parts order).
    Internal,
}

impl PendingReason {
    /// Every reason.
    pub const ALL: [PendingReason; 3] = [
        PendingReason::Customer,
        PendingReason::Vendor,
        PendingReason::Internal,
    ];

    /// Parses a reason for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw.trim().to_lowercase())
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("'{raw}' is not a pending reason (customer, vendor, internal)"),
                )
            })
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            PendingReason::Customer => "customer",
            PendingReason::Vendor => "vendor",
            PendingReason::Internal => "internal",
        }
    }

    /// Words for a person: "waiting on customer".
    pub fn label(self) -> &'static str {
        match self {
            PendingReason::Customer => "waiting on customer",
            PendingReason::Vendor => "waiting on vendor",
            PendingReason::Internal => "on hold",
        }
    }
}

/// How one ticket relates to another ticket or to the outside world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// About the same matter.
    Related,
    /// The same request as the target ticket, which carries the work.
    DuplicateOf,
    /// Caused by the target ticket (an incident or problem, say).
    CausedBy,
    /// An issue in an external bug tracker (a URL, not a ticket).
    ExternalBug,
}

impl LinkKind {
    /// Every link kind.
    pub const ALL: [LinkKind; 4] = [
        LinkKind::Related,
        LinkKind::DuplicateOf,
        LinkKind::CausedBy,
        LinkKind::ExternalBug,
    ];

    /// Parses a link kind for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == raw.trim().to_lowercase())
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("'{raw}' is not a link kind (related, duplicate_of, caused_by, external_bug)"),
                )
            })
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Related => "related",
            LinkKind::DuplicateOf => "duplicate_of",
            LinkKind::CausedBy => "caused_by",
            LinkKind::ExternalBug => "external_bug",
        }
    }

    /// Whether the link points at a URL rather than another ticket.
    pub fn targets_url(self) -> bool {
        matches!(self, LinkKind::ExternalBug)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn transition_table() {
        let allowed = [
            (New, Open),
            (New, Pending),
            (New, Resolved),
            (Open, Pending),
            (Open, Resolved),
            (Pending, Open),
            (Pending, Resolved),
            (Resolved, Closed),
            (Resolved, Open),
            (Closed, Open),
        ];
        for from in Status::ALL {
            for to in Status::ALL {
                assert_eq!(
                    from.can_move_to(to),
                    allowed.contains(&(from, to)),
                    "{from:?} -> {to:?}"
                );
            }
        }
    }

    #[test]
    fn nothing_returns_to_new_and_closing_needs_resolution() {
        for from in Status::ALL {
            assert!(!from.can_move_to(New));
        }
        assert!(Open.move_to(Closed).is_err());
        let err = Open
            .move_to(Closed)
            .err()
            .map(|e| e.reason)
            .unwrap_or_default();
        assert!(err.contains("allowed: pending, resolved"), "{err}");
        assert!(Open.move_to(Open).is_err());
    }

    #[test]
    fn replies_move_the_ticket() {
        assert_eq!(Pending.after_reply(true, false), Some(Open));
        assert_eq!(Resolved.after_reply(true, false), Some(Open));
        assert_eq!(Closed.after_reply(true, false), Some(Open));
        assert_eq!(New.after_reply(false, false), Some(Open));
        assert_eq!(New.after_reply(false, true), None);
        assert_eq!(Open.after_reply(false, false), None);
        assert_eq!(Pending.after_reply(false, false), None);
    }

    #[test]
    fn link_kinds_round_trip() {
        for kind in LinkKind::ALL {
            assert_eq!(LinkKind::parse("kind", kind.as_str()), Ok(kind));
        }
        assert!(LinkKind::ExternalBug.targets_url());
        assert!(!LinkKind::DuplicateOf.targets_url());
    }
}
