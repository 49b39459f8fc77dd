//! Who a user is to the desk: a role, and for agents a support tier.

use crate::Invalid;

/// What a user may do in general; the per-action rules live in [`crate::access`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Configures the desk: users, teams, organisations, tokens.
    Admin,
    /// Runs teams: sees every queue and report, works tickets like an agent.
    Manager,
    /// Works tickets at a tier in one or more teams.
    Agent,
    /// Belongs to an organisation; raises and follows its own organisation's tickets.
    Customer,
    /// Reads everything, changes nothing.
    Auditor,
}

impl Role {
    /// Every role, in the order the UI lists them.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Manager,
        Role::Agent,
        Role::Customer,
        Role::Auditor,
    ];

    /// Parses a role name such as `agent` for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        // No allocation: the store parses a role for every message it reads back.
        Self::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(raw.trim()))
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!("'{raw}' is not a role (admin, manager, agent, customer, auditor)"),
                )
            })
    }

    /// The role's stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Customer => "customer",
            Role::Auditor => "auditor",
        }
    }

    /// Whether the role works on the staff side of the desk (sees queues and internal notes).
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Customer)
    }

    /// Whether a person of this role must have a tier (an agent works one tier's queues).
    pub fn needs_tier(self) -> bool {
        matches!(self, Role::Agent)
    }

    /// Whether a person of this role may have a tier (staff who work tickets).
    pub fn may_have_tier(self) -> bool {
        !matches!(self, Role::Customer | Role::Auditor)
    }

    /// Whether a person of this role belongs to an organisation (customers do; staff do not).
    pub fn has_organisation(self) -> bool {
        matches!(self, Role::Customer)
    }

    /// Whether a person of this role can be assigned tickets (staff who work them).
    pub fn may_be_assigned(self) -> bool {
        self.may_have_tier()
    }

    /// Whether this role is assigned only tickets of its own teams (agents).
    pub fn assigned_within_own_teams(self) -> bool {
        self.needs_tier()
    }

    /// Whether a message by this role is the customer's side of the conversation: it moves a
    /// ticket's status and SLA clocks as a customer's reply does.
    pub fn speaks_for_the_customer(self) -> bool {
        matches!(self, Role::Customer)
    }
}

/// A support tier, L0 (intake) to L4 (engineers who hotfix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tier(u8);

impl Tier {
    /// L0: intake, clarify and route.
    pub const L0: Tier = Tier(0);
    /// L1: solve the known, forward the rest.
    pub const L1: Tier = Tier(1);
    /// L2: product experts.
    pub const L2: Tier = Tier(2);
    /// L3: known errors, defect confirmation, bug reports.
    pub const L3: Tier = Tier(3);
    /// L4: engineers who hotfix.
    pub const L4: Tier = Tier(4);
    /// Every tier from L0 to L4.
    pub const ALL: [Tier; 5] = [Tier::L0, Tier::L1, Tier::L2, Tier::L3, Tier::L4];

    /// Parses `L0`..`L4` (or `0`..`4`) for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let trimmed = raw.trim();
        let digits = trimmed
            .strip_prefix('L')
            .or_else(|| trimmed.strip_prefix('l'))
            .unwrap_or(trimmed);
        match digits.parse::<u8>() {
            Ok(level) if level <= 4 => Ok(Tier(level)),
            _ => Err(Invalid::new(
                field,
                format!("'{raw}' is not a tier (L0 to L4)"),
            )),
        }
    }

    /// Builds a tier from its level number as stored.
    pub fn from_level(field: &'static str, level: i64) -> Result<Self, Invalid> {
        u8::try_from(level)
            .ok()
            .filter(|l| *l <= 4)
            .map(Tier)
            .ok_or_else(|| Invalid::new(field, format!("{level} is not a tier level (0 to 4)")))
    }

    /// The level number, 0 to 4.
    pub fn level(self) -> u8 {
        self.0
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "L{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_parse_and_order() {
        assert_eq!(Tier::parse("tier", "L3"), Ok(Tier::L3));
        assert_eq!(Tier::parse("tier", "2"), Ok(Tier::L2));
        assert!(Tier::parse("tier", "L5").is_err());
        assert!(Tier::L0 < Tier::L4);
        assert_eq!(Tier::L1.to_string(), "L1");
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse("role", role.as_str()), Ok(role));
        }
        assert!(Role::parse("role", "root").is_err());
        assert!(!Role::Customer.is_staff());
    }
}
