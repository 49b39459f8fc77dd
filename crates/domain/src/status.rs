//! The public status page: component states, how incidents' public updates set them, and the
//! day-by-day history bar.

use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::{IncidentStatus, Invalid};

/// What a component's visitors see.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ComponentStatus {
    /// Working normally.
    Operational,
    /// Planned work under way.
    UnderMaintenance,
    /// Slower or partly failing.
    Degraded,
    /// Failing for some.
    PartialOutage,
    /// Down.
    MajorOutage,
}

impl ComponentStatus {
    /// Every status, best first.
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::UnderMaintenance,
        ComponentStatus::Degraded,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
    ];

    /// Parses `operational`, `under_maintenance`, `degraded`, `partial_outage`, `major_outage`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let lower = raw.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == lower)
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!(
                        "'{}' is not a component status (operational, degraded, partial_outage, \
                         major_outage, under_maintenance)",
                        raw.trim()
                    ),
                )
            })
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::UnderMaintenance => "under_maintenance",
            ComponentStatus::Degraded => "degraded",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
        }
    }

    /// Words for visitors.
    pub fn label(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::UnderMaintenance => "Under maintenance",
            ComponentStatus::Degraded => "Degraded performance",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
        }
    }
}

/// The statuses a public update can announce (a public incident's lifecycle).
pub fn public_status(field: &'static str, raw: &str) -> Result<IncidentStatus, Invalid> {
    match IncidentStatus::parse(field, raw)? {
        s @ (IncidentStatus::Investigating
        | IncidentStatus::Identified
        | IncidentStatus::Monitoring
        | IncidentStatus::Resolved) => Ok(s),
        _ => Err(Invalid::new(
            field,
            "a public update is investigating, identified, monitoring or resolved",
        )),
    }
}

/// A component's state now: the worst impact of the public incidents open on it, else under
/// maintenance when a window is active, else operational.
pub fn current(impacts: &[ComponentStatus], in_maintenance: bool) -> ComponentStatus {
    match impacts.iter().max() {
        Some(worst) if *worst > ComponentStatus::UnderMaintenance => *worst,
        _ if in_maintenance => ComponentStatus::UnderMaintenance,
        _ => ComponentStatus::Operational,
    }
}

/// The worst impact of each of the `days` UTC days ending with `today`'s, oldest first, from
/// incidents as (start, end or still open, impact).
pub fn history(
    spans: &[(Timestamp, Option<Timestamp>, ComponentStatus)],
    now: Timestamp,
    days: i64,
) -> Vec<ComponentStatus> {
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    (0..days)
        .rev()
        .map(|back| {
            let Ok(day) = today.checked_sub(back.days()) else {
                return ComponentStatus::Operational;
            };
            let Ok(start) = day.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()) else {
                return ComponentStatus::Operational;
            };
            let end = start + SignedDuration::from_hours(24);
            spans
                .iter()
                .filter(|(s, e, _)| *s < end && e.unwrap_or(now) >= start)
                .map(|(_, _, impact)| *impact)
                .max()
                .unwrap_or(ComponentStatus::Operational)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn the_worst_open_impact_wins_over_maintenance() {
        use ComponentStatus::*;
        assert_eq!(current(&[], false), Operational);
        assert_eq!(current(&[], true), UnderMaintenance);
        assert_eq!(current(&[Degraded, PartialOutage], true), PartialOutage);
        assert_eq!(current(&[Operational], true), UnderMaintenance);
    }

    #[test]
    fn history_marks_each_day_an_incident_touched() {
        use ComponentStatus::*;
        let now = ts("2026-11-24T12:00:00Z");
        let spans = [
            (
                ts("2026-11-20T23:00:00Z"),
                Some(ts("2026-11-21T01:00:00Z")),
                Degraded,
            ),
            (
                ts("2026-11-21T10:00:00Z"),
                Some(ts("2026-11-21T11:00:00Z")),
                MajorOutage,
            ),
            (ts("2026-11-24T08:00:00Z"), None, PartialOutage),
        ];
        let h = history(&spans, now, 6);
        assert_eq!(
            h,
            vec![
                Operational,
                Degraded,
                MajorOutage,
                Operational,
                Operational,
                PartialOutage
            ]
        );
    }

    #[test]
    fn public_updates_use_the_public_lifecycle() {
        assert!(public_status("s", "identified").is_ok());
        assert!(public_status("s", "acknowledged").is_err());
        assert_eq!(
            ComponentStatus::parse("i", "Partial outage"),
            Ok(ComponentStatus::PartialOutage)
        );
        assert!(ComponentStatus::parse("i", "on fire").is_err());
    }
}
