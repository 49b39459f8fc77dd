//! Tiered escalation: moving a ticket up to the next tier's team with a reason and what was
//! tried, handing it back down with a note, and the bug report an L3 agent hands engineering.

use crate::{Body, ExternalUrl, Invalid, Tier};

/// A team as escalation sees it: its tier and the team it escalates to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRoute {
    /// The team's id.
    pub id: i64,
    /// The tier the team works at.
    pub tier: Tier,
    /// Where the team escalates to, if anywhere.
    pub escalates_to: Option<i64>,
}

/// An accepted escalation or de-escalation: where the ticket goes and the words that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Escalation {
    /// The team the ticket moves to.
    pub to_team: i64,
    /// The tier the ticket moves to.
    pub to_tier: Tier,
    /// Why it moves.
    pub reason: Body,
    /// What was tried before escalating (empty for a de-escalation).
    pub tried: Option<Body>,
}

impl Escalation {
    /// Plans an escalation of a ticket at `ticket_tier` in team `from` to `to`.
    ///
    /// `to` is the team the caller resolved from `from.escalates_to` (or an explicit choice);
    /// a reason and what was tried are both required, and the target must be a higher tier.
    pub fn up(
        ticket_tier: Tier,
        from: &TeamRoute,
        to: Option<&TeamRoute>,
        reason: &str,
        tried: &str,
    ) -> Result<Self, Invalid> {
        let reason = Body::parse("reason", reason)?;
        let tried = Body::parse("tried", tried)?;
        let to = to.ok_or_else(|| {
            Invalid::new(
                "team",
                "this ticket's team has no escalation target; name a team to escalate to",
            )
        })?;
        if to.tier <= ticket_tier {
            return Err(Invalid::new(
                "team",
                format!(
                    "escalation goes up: the target team works at {} and the ticket is already at {}",
                    to.tier, ticket_tier
                ),
            ));
        }
        if to.id == from.id {
            return Err(Invalid::new("team", "the ticket is already in that team"));
        }
        Ok(Self {
            to_team: to.id,
            to_tier: to.tier,
            reason,
            tried: Some(tried),
        })
    }

    /// Plans handing a ticket at `ticket_tier` back down to team `to` with a note.
    pub fn down(ticket_tier: Tier, to: Option<&TeamRoute>, note: &str) -> Result<Self, Invalid> {
        let note = Body::parse("note", note)?;
        let to = to.ok_or_else(|| {
            Invalid::new(
                "team",
                "no earlier team to hand back to; name a team to de-escalate to",
            )
        })?;
        if to.tier >= ticket_tier {
            return Err(Invalid::new(
                "team",
                format!(
                    "de-escalation goes down: the target team works at {} and the ticket is at {}",
                    to.tier, ticket_tier
                ),
            ));
        }
        Ok(Self {
            to_team: to.id,
            to_tier: to.tier,
            reason: note,
            tried: None,
        })
    }
}

/// A structured bug report for engineering, filed from a ticket by an L3 agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BugReport {
    /// Steps to reproduce.
    pub steps: Body,
    /// What should happen.
    pub expected: Body,
    /// What happens instead.
    pub actual: Body,
    /// Version, platform, configuration.
    pub environment: Body,
    /// The issue in engineering's tracker, once it exists.
    pub external_url: Option<ExternalUrl>,
}

impl BugReport {
    /// Validates every field of a bug report; the URL is optional.
    pub fn parse(
        steps: &str,
        expected: &str,
        actual: &str,
        environment: &str,
        external_url: Option<&str>,
    ) -> Result<Self, Invalid> {
        Ok(Self {
            steps: Body::parse("steps", steps)?,
            expected: Body::parse("expected", expected)?,
            actual: Body::parse("actual", actual)?,
            environment: Body::parse("environment", environment)?,
            external_url: external_url
                .filter(|u| !u.trim().is_empty())
                .map(|u| ExternalUrl::parse("external_url", u))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn team(id: i64, tier: Tier, escalates_to: Option<i64>) -> TeamRoute {
        TeamRoute {
            id,
            tier,
            escalates_to,
        }
    }

    #[test]
    fn escalation_path_l1_to_l2() {
        let l1 = team(1, Tier::L1, Some(2));
        let l2 = team(2, Tier::L2, Some(3));
        let plan = Escalation::up(
            Tier::L1,
            &l1,
            Some(&l2),
            "needs product expert",
            "restarted",
        );
        assert_eq!(
            plan.as_ref().map(|p| (p.to_team, p.to_tier)),
            Ok((2, Tier::L2))
        );
    }

    #[test]
    fn escalation_requires_reason_and_what_was_tried() {
        let l1 = team(1, Tier::L1, Some(2));
        let l2 = team(2, Tier::L2, None);
        let no_reason = Escalation::up(Tier::L1, &l1, Some(&l2), " ", "restarted");
        assert_eq!(no_reason.map_err(|e| e.field), Err("reason"));
        let no_tried = Escalation::up(Tier::L1, &l1, Some(&l2), "stuck", "");
        assert_eq!(no_tried.map_err(|e| e.field), Err("tried"));
    }

    #[test]
    fn escalation_only_goes_up_and_needs_a_target() {
        let l2 = team(2, Tier::L2, None);
        let other_l2 = team(5, Tier::L2, None);
        assert!(Escalation::up(Tier::L2, &l2, None, "r", "t").is_err());
        assert!(Escalation::up(Tier::L2, &l2, Some(&other_l2), "r", "t").is_err());
    }

    #[test]
    fn de_escalation_goes_down_with_a_note() {
        let l1 = team(1, Tier::L1, Some(2));
        assert!(Escalation::down(Tier::L2, Some(&l1), "customer to apply the workaround").is_ok());
        assert_eq!(
            Escalation::down(Tier::L2, Some(&l1), "").map_err(|e| e.field),
            Err("note")
        );
        assert!(Escalation::down(Tier::L1, Some(&l1), "note").is_err());
    }

    #[test]
    fn bug_report_fields_are_all_required_but_the_link() {
        assert!(BugReport::parse("1. open", "works", "500", "v2.1", None).is_ok());
        assert_eq!(
            BugReport::parse("1. open", "", "500", "v2.1", None).map_err(|e| e.field),
            Err("expected")
        );
        assert_eq!(
            BugReport::parse("s", "e", "a", "v", Some("not a url")).map_err(|e| e.field),
            Err("external_url")
        );
    }
}
