//! What a ticket's clocks and its report facts are both computed from: its fields, its SLA
//! facts from the event log and its moves between tiers. Read in `clocks.rs`, turned into
//! clocks there and into report facts in `report_facts.rs`.

use opsdesk_domain::report::TierMove;
use opsdesk_domain::sla::{Fact, TicketFacts};
use opsdesk_domain::{Priority, Tier};

/// What a ticket's clocks are computed from.
#[derive(Debug, Clone)]
pub(crate) struct ClockInputs {
    pub(crate) id: i64,
    pub(crate) subject: String,
    pub(crate) priority: Priority,
    pub(crate) team_id: i64,
    pub(crate) org_id: Option<i64>,
    pub(crate) plan: Option<String>,
    pub(crate) channel: String,
    pub(crate) category: Option<String>,
    pub(crate) service_id: Option<i64>,
    pub(crate) team_calendar: Option<i64>,
    pub(crate) org_calendar: Option<i64>,
    pub(crate) assignee_id: Option<i64>,
    pub(crate) team_name: String,
    pub(crate) org_name: Option<String>,
    /// The cached nearest due instant (stored form), warning instant and policy.
    pub(crate) sla_due_at: i64,
    pub(crate) sla_warn_at: Option<i64>,
    pub(crate) sla_policy_id: Option<i64>,
    pub(crate) tags: Vec<String>,
    pub(crate) facts: Vec<Fact>,
    /// The tier now, and its moves between tiers in order (for reports).
    pub(crate) tier: Tier,
    pub(crate) tier_moves: Vec<TierMove>,
    /// The requester's satisfaction score (1–5), once answered.
    pub(crate) csat: Option<i64>,
}

impl ClockInputs {
    pub(crate) fn ticket_facts(&self) -> TicketFacts<'_> {
        TicketFacts {
            priority: self.priority,
            team_id: self.team_id,
            org_id: self.org_id,
            plan: self.plan.as_deref(),
            tags: &self.tags,
            channel: &self.channel,
            category: self.category.as_deref(),
        }
    }
}
