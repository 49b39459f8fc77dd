//! One ticket's clocks as the pages show them, computed from its history rather than read
//! from the cache, and the explanation of each in words.

use jiff::Timestamp;
use opsdesk_domain::calendar::Calendar;
use opsdesk_domain::sla::{explain, triggers, warning_at, Happening};

use crate::clocks::{compute, load_firings, load_inputs, vendor_clocks, ClockView, TicketSla};
use crate::{Store, StoreError};

impl Store {
    /// The clocks of one ticket as of `now`, computed from its history (not from the cache).
    pub async fn ticket_sla(
        &self,
        ticket_id: i64,
        now: Timestamp,
    ) -> Result<TicketSla, StoreError> {
        let config = self.sla_config().await?;
        let mut conn = self.read.acquire().await?;
        let inputs = load_inputs(&mut conn, &[ticket_id])
            .await?
            .pop()
            .ok_or(StoreError::NotFound("ticket"))?;
        drop(conn);
        let (policy, calendar_id, calendar, clocks) = compute(&config, &inputs, now);
        let calendar_source = match calendar_id {
            Some(id) if Some(id) == inputs.org_calendar => "organisation",
            Some(id) if Some(id) == inputs.team_calendar => "team",
            Some(_) => "default",
            None => "none",
        };
        Ok(TicketSla {
            calendar: calendar_id.map(|id| {
                (
                    id,
                    config.calendar_names.get(&id).cloned().unwrap_or_default(),
                )
            }),
            calendar_source,
            clocks: clocks
                .into_iter()
                .map(|clock| ClockView {
                    warn_at: warning_at(&clock, &calendar),
                    explanation: explain(&clock, &calendar, now),
                    clock,
                })
                .chain(
                    vendor_clocks(&config, &inputs, now)
                        .into_iter()
                        .map(|clock| {
                            let (name, cal) = clock
                                .vendor_id
                                .and_then(|v| config.vendor(v))
                                .map(|(t, c)| (t.name.clone(), c.clone()))
                                .unwrap_or_else(|| (String::new(), Calendar::continuous()));
                            ClockView {
                                warn_at: warning_at(&clock, &cal),
                                explanation: format!("{} ({name})", explain(&clock, &cal, now)),
                                clock,
                            }
                        }),
                )
                .collect(),
            calendar_rules: calendar,
            policy,
        })
    }

    /// Every step of the computation for one ticket, in lines for `opsdesk sla explain`.
    pub async fn sla_explain(
        &self,
        ticket_id: i64,
        now: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        self.settle_derived().await?;
        let config = self.sla_config().await?;
        let mut conn = self.read.acquire().await?;
        let inputs = load_inputs(&mut conn, &[ticket_id])
            .await?
            .pop()
            .ok_or(StoreError::NotFound("ticket"))?;
        let fired = load_firings(&mut conn, &[ticket_id]).await?;
        drop(conn);
        let mut lines = vec![format!(
            "Ticket #{} '{}': priority {}, team {}, organisation {}, plan {}, channel {}, category {}, tags [{}]",
            inputs.id,
            inputs.subject,
            inputs.priority.as_str(),
            inputs.team_name,
            inputs.org_name.as_deref().unwrap_or("none"),
            inputs.plan.as_deref().unwrap_or("none"),
            inputs.channel,
            inputs.category.as_deref().unwrap_or("none"),
            inputs.tags.join(", ")
        )];
        lines.push(String::new());
        lines.push("Policies, in order:".into());
        let facts = inputs.ticket_facts();
        let mut chosen = false;
        for (i, p) in config.policies.iter().enumerate() {
            let verdict = if chosen {
                "not considered (an earlier policy applies)"
            } else if p.conditions.matches(&facts) {
                chosen = true;
                "MATCHES: applies"
            } else {
                "does not match"
            };
            lines.push(format!("  {}. '{}': {verdict}", i + 1, p.name));
        }
        if !chosen {
            lines.push("  No policy matches: the ticket has no SLA clocks.".into());
        }
        let (policy, calendar_id, calendar, clocks) = compute(&config, &inputs, now);
        lines.push(String::new());
        let source = match calendar_id {
            Some(id) if Some(id) == inputs.org_calendar => "the organisation's calendar",
            Some(id) if Some(id) == inputs.team_calendar => "the team's calendar",
            Some(_) => "the default calendar",
            None => "no stored calendar",
        };
        lines.push(format!(
            "Calendar: '{}' ({source}): {}",
            calendar_id
                .and_then(|id| config.calendar_names.get(&id).cloned())
                .unwrap_or_else(|| "around the clock".into()),
            calendar.summary()
        ));
        lines.push(String::new());
        lines.push("History the clocks read:".into());
        for fact in &inputs.facts {
            let what = match fact.what {
                Happening::Created => "created".to_owned(),
                Happening::Status(s, r) => match r {
                    Some(r) => format!("status {} ({})", s.as_str(), r.label()),
                    None => format!("status {}", s.as_str()),
                },
                Happening::Reply { by_customer: true } => "public reply by the customer".to_owned(),
                Happening::Reply { by_customer: false } => "public reply by the desk".to_owned(),
                Happening::Vendor(Some(v)) => format!(
                    "handed to vendor '{}'",
                    config.vendors.get(&v).map_or("?", |(t, _)| t.name.as_str())
                ),
                Happening::Vendor(None) => "vendor cleared".to_owned(),
                Happening::VendorResponded => "the vendor responded".to_owned(),
            };
            lines.push(format!(
                "  {}  {what}",
                fact.at.strftime("%Y-%m-%d %H:%M:%S UTC")
            ));
        }
        if let Some(policy) = &policy {
            lines.push(String::new());
            lines.push(format!(
                "Clocks as of {}:",
                now.strftime("%Y-%m-%d %H:%M:%S UTC")
            ));
            for clock in &clocks {
                lines.push(format!(
                    "  [{} cycle {}] {} — {}",
                    clock.metric.as_str(),
                    clock.cycle,
                    clock.state.as_str(),
                    explain(clock, &calendar, now)
                ));
                for (trigger, at) in triggers(clock, policy, &calendar) {
                    let key = (
                        inputs.id,
                        policy.id,
                        clock.metric.as_str().to_owned(),
                        i64::from(clock.cycle),
                        trigger.key(),
                    );
                    let name = match trigger {
                        opsdesk_domain::sla::Trigger::Breach => "breach".to_owned(),
                        opsdesk_domain::sla::Trigger::Level(i) => format!("level {}", i + 1),
                    };
                    let state = if fired.contains(&key) {
                        "fired"
                    } else if at <= now {
                        "due now"
                    } else {
                        "pending"
                    };
                    lines.push(format!(
                        "      {name} at {} ({state})",
                        at.strftime("%Y-%m-%d %H:%M:%S UTC")
                    ));
                }
            }
        }
        Ok(lines)
    }
}
