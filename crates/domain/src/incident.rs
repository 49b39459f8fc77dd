//! Incidents and the alerts that raise them: severities, the incident lifecycle, alert identity
//! (fingerprints), how a batch of alerts joins or opens incidents, and maintenance windows.
//!
//! The store loads what it knows about a batch's alerts and groups, [`plan_batch`] decides, and
//! the store writes the plan; [`after_alerts`] decides what an incident's status becomes once its
//! alerts have changed.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use crate::calendar::WEEKDAY_NAMES;
use crate::Invalid;

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// How bad an incident is: SEV1 (worst) to SEV4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Critical: a service is down for many customers.
    Sev1,
    /// Major: a core function is degraded.
    Sev2,
    /// Minor: limited impact, a workaround exists.
    Sev3,
    /// Low: cosmetic or informational.
    Sev4,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 4] = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];

    /// Parses `SEV1`…`SEV4` (any case, or just the digit).
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let lower = raw.trim().to_ascii_lowercase();
        let digit = lower.strip_prefix("sev").unwrap_or(&lower);
        match digit {
            "1" => Ok(Severity::Sev1),
            "2" => Ok(Severity::Sev2),
            "3" => Ok(Severity::Sev3),
            "4" => Ok(Severity::Sev4),
            _ => Err(Invalid::new(
                field,
                format!(
                    "'{}' is not a severity (SEV1, SEV2, SEV3, SEV4)",
                    raw.trim()
                ),
            )),
        }
    }

    /// The stable name, `SEV1`…`SEV4`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    /// The usual meaning of a monitoring system's severity word, when no mapping names it.
    ///
    /// Covers Prometheus conventions (`critical`, `warning`, `info`), PagerDuty's
    /// (`critical`, `error`, `warning`, `info`) and common synonyms.
    pub fn from_source_word(word: &str) -> Option<Self> {
        match word.trim().to_ascii_lowercase().as_str() {
            "critical" | "crit" | "fatal" | "emergency" | "page" | "p1" | "disaster" => {
                Some(Severity::Sev1)
            }
            "error" | "major" | "high" | "p2" => Some(Severity::Sev2),
            "warning" | "warn" | "minor" | "average" | "medium" | "p3" => Some(Severity::Sev3),
            "info" | "informational" | "low" | "notice" | "none" | "p4" | "p5" => {
                Some(Severity::Sev4)
            }
            other => Self::parse("severity", other).ok(),
        }
    }
}

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IncidentStatus {
    /// Detected; nobody has acknowledged it.
    Triggered,
    /// Someone has taken it.
    Acknowledged,
    /// The responders are looking for the cause.
    Investigating,
    /// The cause is known; a fix is under way.
    Identified,
    /// Mitigated; watching that it stays so.
    Monitoring,
    /// Over.
    Resolved,
}

impl IncidentStatus {
    /// Every status in lifecycle order.
    pub const ALL: [IncidentStatus; 6] = [
        IncidentStatus::Triggered,
        IncidentStatus::Acknowledged,
        IncidentStatus::Investigating,
        IncidentStatus::Identified,
        IncidentStatus::Monitoring,
        IncidentStatus::Resolved,
    ];

    /// Parses a status name for `field`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let lower = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == lower)
            .ok_or_else(|| {
                Invalid::new(
                    field,
                    format!(
                        "'{}' is not an incident status (triggered, acknowledged, investigating, \
                         identified, monitoring, resolved)",
                        raw.trim()
                    ),
                )
            })
    }

    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentStatus::Triggered => "triggered",
            IncidentStatus::Acknowledged => "acknowledged",
            IncidentStatus::Investigating => "investigating",
            IncidentStatus::Identified => "identified",
            IncidentStatus::Monitoring => "monitoring",
            IncidentStatus::Resolved => "resolved",
        }
    }

    /// Whether the incident still needs responders.
    pub fn is_open(self) -> bool {
        self != IncidentStatus::Resolved
    }

    /// Checks a move by a person from `self` to `to`.
    ///
    /// Any open status may move to any other; nothing returns to `triggered` but a reopen of a
    /// resolved incident, which goes to `triggered` or `investigating`.
    pub fn move_to(self, to: IncidentStatus) -> Result<IncidentStatus, Invalid> {
        use IncidentStatus::*;
        if self == to {
            return Err(Invalid::new(
                "status",
                format!("the incident is already {}", to.as_str()),
            ));
        }
        let allowed = match self {
            Resolved => matches!(to, Triggered | Investigating),
            _ => to != Triggered,
        };
        if allowed {
            Ok(to)
        } else if self == Resolved {
            Err(Invalid::new(
                "status",
                "a resolved incident can only be reopened (triggered or investigating)",
            ))
        } else {
            Err(Invalid::new(
                "status",
                "an incident returns to triggered only when it is reopened after resolution",
            ))
        }
    }
}

/// The lifecycle instants of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Milestones {
    /// When it was detected (the first alert, or when it was declared).
    pub detected: Timestamp,
    /// When someone first acknowledged it.
    pub acknowledged: Option<Timestamp>,
    /// When it was first mitigated (moved to monitoring or resolved).
    pub mitigated: Option<Timestamp>,
    /// When it was resolved; cleared by a reopen.
    pub resolved: Option<Timestamp>,
}

impl Milestones {
    /// The instants after the incident moves to `to` at `now`.
    ///
    /// Acknowledged and mitigated record the first time only; a reopen clears `mitigated` and
    /// `resolved`, so they record the last mitigation and resolution. Only a move to
    /// acknowledged, investigating or identified acknowledges: an incident that went quiet or
    /// was resolved without anyone taking it was never acknowledged (and pages again if it
    /// reopens).
    pub fn after_move(self, to: IncidentStatus, now: Timestamp) -> Self {
        use IncidentStatus::*;
        let mut next = self;
        match to {
            Triggered => {
                next.mitigated = None;
                next.resolved = None;
            }
            Acknowledged | Investigating | Identified => {
                next.acknowledged.get_or_insert(now);
                next.resolved = None;
                if self.resolved.is_some() {
                    next.mitigated = None;
                }
            }
            Monitoring => {
                next.mitigated.get_or_insert(now);
                next.resolved = None;
            }
            Resolved => {
                next.mitigated.get_or_insert(now);
                next.resolved = Some(now);
            }
        }
        next
    }
}

/// What an incident's status becomes after its alerts changed, given how many still fire.
///
/// The last alert resolving moves an open incident to `monitoring` (to auto-resolve after the
/// quiet period); an alert firing again in `monitoring` or shortly after resolution (a flap)
/// reopens it: to `investigating` if someone had acknowledged it, else to `triggered`.
/// `auto_monitoring` says whether the current `monitoring` state came from the alerts (and not
/// from a person, whose choice a firing alert does not overrule).
pub fn after_alerts(
    status: IncidentStatus,
    acknowledged: bool,
    firing: i64,
    auto_monitoring: bool,
) -> Option<IncidentStatus> {
    use IncidentStatus::*;
    let reopened = if acknowledged {
        Investigating
    } else {
        Triggered
    };
    match (status, firing > 0) {
        (Resolved, true) => Some(reopened),
        (Monitoring, true) if auto_monitoring => Some(reopened),
        (Triggered | Acknowledged | Investigating | Identified, false) => Some(Monitoring),
        _ => None,
    }
}

/// Alertmanager's fingerprint of a label set: FNV-1a (64 bit) over the labels sorted by name,
/// each name and value followed by the byte 0xff, printed as 16 hex digits.
///
/// Computing the same value as Alertmanager means an alert keeps one identity whether it
/// arrives from Alertmanager (which sends its fingerprint) or from a source that does not.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    const SEPARATOR: u8 = 0xff;
    let mut hash = OFFSET;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    for (name, value) in labels {
        add(name.as_bytes());
        add(&[SEPARATOR]);
        add(value.as_bytes());
        add(&[SEPARATOR]);
    }
    format!("{hash:016x}")
}

/// A group key from the labels an integration groups by, in Alertmanager's notation
/// (`{}:{alertname="X", service="Y"}`), so keys from both sources look alike.
pub fn group_key(labels: &BTreeMap<String, String>, group_by: &[String]) -> String {
    let mut names: Vec<&String> = group_by.iter().collect();
    names.sort();
    names.dedup();
    let parts: Vec<String> = names
        .into_iter()
        .filter_map(|n| labels.get(n).map(|v| format!("{n}={v:?}")))
        .collect();
    format!("{{}}:{{{}}}", parts.join(", "))
}

/// One alert of an ingest batch, as the sources' formats reduce to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingAlert {
    /// Identity within its integration.
    pub fingerprint: String,
    /// Firing (`true`) or resolved.
    pub firing: bool,
    /// Which incident group it belongs to.
    pub group_key: String,
    /// Whether a maintenance window covers it (recorded, opens no incident).
    pub suppressed: bool,
}

/// What the store knows of an alert already seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownAlert {
    /// The incident it last joined, if that incident can still take alerts (open, or resolved
    /// within the quiet period).
    pub incident: Option<i64>,
}

/// Where one alert of a batch goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertTarget {
    /// Recorded only: suppressed, or a resolve for an alert no incident holds.
    None,
    /// Joins (or stays in) an existing incident.
    Existing(i64),
    /// Opens, or joins, the batch's new incident at this index of [`Plan::new_incidents`].
    New(usize),
}

/// What ingesting a batch does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// For each incoming alert, in order, where it goes.
    pub targets: Vec<AlertTarget>,
    /// Incidents to open: the index of the alert that opens each one.
    pub new_incidents: Vec<usize>,
}

/// Decides where each alert of a batch goes.
///
/// `known` holds alerts seen before (by fingerprint); `groups` the incident that can still take
/// alerts for each group key (open, or resolved within the quiet period). A firing alert stays
/// with its incident, else joins its group's incident, else opens one (one per group key per
/// batch); a resolve updates the incident that holds the alert; suppressed alerts are recorded
/// and go nowhere.
pub fn plan_batch(
    incoming: &[IncomingAlert],
    known: &HashMap<String, KnownAlert>,
    groups: &HashMap<String, i64>,
) -> Plan {
    let mut plan = Plan::default();
    let mut opened: HashMap<&str, usize> = HashMap::new();
    for (i, alert) in incoming.iter().enumerate() {
        let held = known.get(&alert.fingerprint).and_then(|k| k.incident);
        // An alert an incident already holds stays with it (so its resolve settles the incident
        // even under maintenance); a new one under maintenance goes nowhere.
        let target = if let Some(id) = held {
            AlertTarget::Existing(id)
        } else if alert.suppressed || !alert.firing {
            AlertTarget::None
        } else if let Some(id) = groups.get(&alert.group_key) {
            AlertTarget::Existing(*id)
        } else if let Some(n) = opened.get(alert.group_key.as_str()) {
            AlertTarget::New(*n)
        } else {
            let n = plan.new_incidents.len();
            plan.new_incidents.push(i);
            opened.insert(alert.group_key.as_str(), n);
            AlertTarget::New(n)
        };
        plan.targets.push(target);
    }
    plan
}

/// How a maintenance window repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recurrence {
    /// Once, from start to end.
    Once,
    /// Every day at the start's local time.
    Daily,
    /// On these weekdays at the start's local time.
    Weekly(Vec<Weekday>),
}

impl Recurrence {
    /// Parses `once`, `daily` or `weekly:mon,wed,fri`.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, Invalid> {
        let lower = raw.trim().to_ascii_lowercase();
        match lower.as_str() {
            "" | "once" => return Ok(Recurrence::Once),
            "daily" => return Ok(Recurrence::Daily),
            _ => {}
        }
        let days = lower.strip_prefix("weekly:").ok_or_else(|| {
            Invalid::new(
                field,
                format!("'{}' is not once, daily or weekly:mon,wed", raw.trim()),
            )
        })?;
        let mut out = Vec::new();
        for day in days.split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let wd = WEEKDAYS
                .into_iter()
                .zip(WEEKDAY_NAMES)
                .find(|(_, name)| day.get(..3).is_some_and(|d| name.eq_ignore_ascii_case(d)))
                .map(|(wd, _)| wd)
                .ok_or_else(|| {
                    Invalid::new(field, format!("'{day}' is not a weekday (mon … sun)"))
                })?;
            if !out.contains(&wd) {
                out.push(wd);
            }
        }
        if out.is_empty() {
            return Err(Invalid::new(field, "weekly needs at least one weekday"));
        }
        out.sort_by_key(|d| d.to_monday_zero_offset());
        Ok(Recurrence::Weekly(out))
    }

    /// The canonical text form (`once`, `daily`, `weekly:mon,thu`).
    pub fn as_text(&self) -> String {
        match self {
            Recurrence::Once => "once".to_owned(),
            Recurrence::Daily => "daily".to_owned(),
            Recurrence::Weekly(days) => {
                let names: Vec<String> = days
                    .iter()
                    .map(|d| WEEKDAY_NAMES[d.to_monday_zero_offset() as usize].to_ascii_lowercase())
                    .collect();
                format!("weekly:{}", names.join(","))
            }
        }
    }
}

/// A period in which a service's alerts are recorded but open no incident and page no one.
#[derive(Debug, Clone, PartialEq)]
pub struct MaintenanceWindow {
    start: Timestamp,
    end: Timestamp,
    zone: TimeZone,
    recurrence: Recurrence,
    until: Option<Timestamp>,
}

/// Longest a maintenance window may last (one occurrence).
const MAX_WINDOW_DAYS: i64 = 31;

impl MaintenanceWindow {
    /// Builds a window: the first occurrence runs `start`..`end`; a recurring one repeats at the
    /// same local time in `zone` (so it stays put across DST) until `until`, if given.
    pub fn new(
        start: Timestamp,
        end: Timestamp,
        zone: TimeZone,
        recurrence: Recurrence,
        until: Option<Timestamp>,
    ) -> Result<Self, Invalid> {
        if end <= start {
            return Err(Invalid::new("ends_at", "must be after starts_at"));
        }
        if end.duration_since(start) > SignedDuration::from_hours(24 * MAX_WINDOW_DAYS) {
            return Err(Invalid::new(
                "ends_at",
                format!("a window lasts at most {MAX_WINDOW_DAYS} days"),
            ));
        }
        if let Recurrence::Daily = recurrence {
            if end.duration_since(start) > SignedDuration::from_hours(24) {
                return Err(Invalid::new(
                    "ends_at",
                    "a daily window lasts at most 24 hours",
                ));
            }
        }
        if let Some(u) = until {
            if u < start {
                return Err(Invalid::new("until", "must not be before starts_at"));
            }
        }
        Ok(Self {
            start,
            end,
            zone,
            recurrence,
            until,
        })
    }

    /// The occurrence (start, end) covering `now`, if any.
    pub fn active_at(&self, now: Timestamp) -> Option<(Timestamp, Timestamp)> {
        self.occurrences_around(now)
            .into_iter()
            .find(|(s, e)| *s <= now && now < *e)
    }

    /// Up to `n` occurrences that end after `from`, in order.
    pub fn upcoming(&self, from: Timestamp, n: usize) -> Vec<(Timestamp, Timestamp)> {
        let mut out = Vec::new();
        if self.recurrence == Recurrence::Once {
            if self.end > from {
                out.push((self.start, self.end));
            }
            return out;
        }
        let mut date = self
            .local_date(from.max(self.start))
            .yesterday()
            .unwrap_or_default();
        // A weekly window with one weekday needs at most 7 days per occurrence.
        for _ in 0..(n * 7 + 8) {
            if let Some(occ) = self.occurrence_on(date) {
                if occ.1 > from {
                    out.push(occ);
                    if out.len() == n {
                        break;
                    }
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        out
    }

    fn local_date(&self, t: Timestamp) -> jiff::civil::Date {
        t.to_zoned(self.zone.clone()).date()
    }

    fn occurrence_on(&self, date: jiff::civil::Date) -> Option<(Timestamp, Timestamp)> {
        let first = self.start.to_zoned(self.zone.clone());
        if date < first.date() {
            return None;
        }
        let repeats = match &self.recurrence {
            Recurrence::Once => date == first.date(),
            Recurrence::Daily => true,
            Recurrence::Weekly(days) => days.contains(&date.weekday()),
        };
        if !repeats {
            return None;
        }
        let start = date
            .to_datetime(first.time())
            .to_zoned(self.zone.clone())
            .ok()?
            .timestamp();
        if self.until.is_some_and(|u| start > u) {
            return None;
        }
        let end = start
            .checked_add(self.end.duration_since(self.start))
            .ok()?;
        Some((start, end))
    }

    fn occurrences_around(&self, now: Timestamp) -> Vec<(Timestamp, Timestamp)> {
        if self.recurrence == Recurrence::Once {
            return vec![(self.start, self.end)];
        }
        let days = self.end.duration_since(self.start).as_hours() / 24 + 1;
        let today = self.local_date(now);
        (0..=days)
            .filter_map(|back| today.checked_sub(back.days()).ok())
            .filter_map(|d| self.occurrence_on(d))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn fingerprint_matches_alertmanager() {
        // The labels and fingerprint of ../shared/fixtures/alertmanager-0.25-webhook-v4.json,
        // as Alertmanager 0.25 computed it.
        let l = labels(&[
            ("alertname", "OpsdeskSampleDiskFull"),
            ("env", "bench"),
            ("instance", "db-01:9100"),
            ("service", "billing-db"),
            ("severity", "critical"),
        ]);
        assert_eq!(fingerprint(&l), "3b859248c68b59aa");
    }

    #[test]
    fn group_key_matches_alertmanager_notation() {
        let l = labels(&[
            ("alertname", "OpsdeskSampleDiskFull"),
            ("service", "billing-db"),
            ("env", "x"),
        ]);
        let by = vec!["service".to_owned(), "alertname".to_owned()];
        assert_eq!(
            group_key(&l, &by),
            "{}:{alertname=\"OpsdeskSampleDiskFull\", service=\"billing-db\"}"
        );
    }

    #[test]
    fn severities_parse_and_map() {
        assert_eq!(Severity::parse("s", "sev2"), Ok(Severity::Sev2));
        assert_eq!(Severity::parse("s", " 4 "), Ok(Severity::Sev4));
        assert!(Severity::parse("s", "SEV5").is_err());
        assert_eq!(Severity::from_source_word("critical"), Some(Severity::Sev1));
        assert_eq!(Severity::from_source_word("Warning"), Some(Severity::Sev3));
        assert_eq!(Severity::from_source_word("SEV2"), Some(Severity::Sev2));
        assert_eq!(Severity::from_source_word("purple"), None);
    }

    #[test]
    fn status_moves() {
        use IncidentStatus::*;
        assert!(Triggered.move_to(Acknowledged).is_ok());
        assert!(Monitoring.move_to(Investigating).is_ok());
        assert!(Investigating.move_to(Triggered).is_err());
        assert!(Resolved.move_to(Investigating).is_ok());
        assert!(Resolved.move_to(Monitoring).is_err());
        assert!(Identified.move_to(Identified).is_err());
    }

    #[test]
    fn milestones_record_first_ack_and_last_resolution() {
        let t = |s: i64| Timestamp::from_second(s).unwrap_or_default();
        let m = Milestones {
            detected: t(0),
            acknowledged: None,
            mitigated: None,
            resolved: None,
        };
        let m = m.after_move(IncidentStatus::Acknowledged, t(10));
        let m = m.after_move(IncidentStatus::Investigating, t(20));
        assert_eq!(m.acknowledged, Some(t(10)));
        let m = m.after_move(IncidentStatus::Resolved, t(30));
        assert_eq!((m.mitigated, m.resolved), (Some(t(30)), Some(t(30))));
        let m = m.after_move(IncidentStatus::Investigating, t(40));
        assert_eq!((m.mitigated, m.resolved), (None, None));
        let m = m.after_move(IncidentStatus::Monitoring, t(50));
        let m = m.after_move(IncidentStatus::Resolved, t(60));
        assert_eq!(
            (m.acknowledged, m.mitigated, m.resolved),
            (Some(t(10)), Some(t(50)), Some(t(60)))
        );
    }

    #[test]
    fn alerts_drive_monitoring_and_flaps_reopen() {
        use IncidentStatus::*;
        assert_eq!(after_alerts(Triggered, false, 0, false), Some(Monitoring));
        assert_eq!(after_alerts(Identified, true, 0, false), Some(Monitoring));
        assert_eq!(after_alerts(Monitoring, true, 1, true), Some(Investigating));
        assert_eq!(after_alerts(Monitoring, false, 2, true), Some(Triggered));
        // A person chose monitoring while alerts still fire: a firing alert does not overrule.
        assert_eq!(after_alerts(Monitoring, true, 1, false), None);
        assert_eq!(after_alerts(Resolved, true, 1, false), Some(Investigating));
        assert_eq!(after_alerts(Investigating, true, 3, false), None);
        assert_eq!(after_alerts(Resolved, true, 0, false), None);
    }

    fn alert(fp: &str, firing: bool, group: &str) -> IncomingAlert {
        IncomingAlert {
            fingerprint: fp.to_owned(),
            firing,
            group_key: group.to_owned(),
            suppressed: false,
        }
    }

    #[test]
    fn a_batch_opens_one_incident_per_new_group() {
        let incoming = vec![
            alert("a", true, "g1"),
            alert("b", true, "g1"),
            alert("c", true, "g2"),
            alert("d", true, "g3"),
            alert("e", false, "g1"),
            IncomingAlert {
                suppressed: true,
                ..alert("f", true, "g4")
            },
        ];
        let known = HashMap::from([
            ("d".to_owned(), KnownAlert { incident: Some(7) }),
            ("e".to_owned(), KnownAlert { incident: None }),
        ]);
        let groups = HashMap::from([("g2".to_owned(), 5)]);
        let plan = plan_batch(&incoming, &known, &groups);
        assert_eq!(plan.new_incidents, vec![0]);
        assert_eq!(
            plan.targets,
            vec![
                AlertTarget::New(0),
                AlertTarget::New(0),
                AlertTarget::Existing(5),
                AlertTarget::Existing(7),
                AlertTarget::None,
                AlertTarget::None,
            ]
        );
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn weekly_window_keeps_local_time_across_dst() {
        let zone = TimeZone::get("Europe/Berlin").unwrap_or(TimeZone::UTC);
        // Saturdays 02:00–04:00 Berlin time from 21 March 2026; DST starts 29 March.
        let w = MaintenanceWindow::new(
            ts("2026-03-21T01:00:00Z"),
            ts("2026-03-21T03:00:00Z"),
            zone,
            Recurrence::parse("r", "weekly:sat").unwrap_or(Recurrence::Once),
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(w.active_at(ts("2026-03-21T02:30:00Z")).is_some());
        // After the change, 02:00 Berlin is 00:00 UTC.
        assert!(w.active_at(ts("2026-04-04T00:30:00Z")).is_some());
        assert!(w.active_at(ts("2026-04-04T02:30:00Z")).is_none());
        assert!(w.active_at(ts("2026-04-05T00:30:00Z")).is_none());
        assert!(w.active_at(ts("2026-03-14T01:30:00Z")).is_none());
        let next = w.upcoming(ts("2026-03-22T00:00:00Z"), 2);
        assert_eq!(
            next,
            vec![
                (ts("2026-03-28T01:00:00Z"), ts("2026-03-28T03:00:00Z")),
                (ts("2026-04-04T00:00:00Z"), ts("2026-04-04T02:00:00Z")),
            ]
        );
    }

    #[test]
    fn windows_validate() {
        let z = TimeZone::UTC;
        assert!(MaintenanceWindow::new(
            ts("2026-01-02T00:00:00Z"),
            ts("2026-01-01T00:00:00Z"),
            z.clone(),
            Recurrence::Once,
            None
        )
        .is_err());
        assert!(MaintenanceWindow::new(
            ts("2026-01-01T00:00:00Z"),
            ts("2026-01-03T00:00:00Z"),
            z.clone(),
            Recurrence::Daily,
            None
        )
        .is_err());
        assert!(Recurrence::parse("r", "weekly:").is_err());
        assert!(Recurrence::parse("r", "monthly").is_err());
        assert_eq!(
            Recurrence::parse("r", "weekly:fri, mon")
                .map(|r| r.as_text())
                .unwrap_or_default(),
            "weekly:mon,fri"
        );
        let once = MaintenanceWindow::new(
            ts("2026-01-01T00:00:00Z"),
            ts("2026-01-01T01:00:00Z"),
            z,
            Recurrence::Once,
            None,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(once.active_at(ts("2026-01-01T00:59:59Z")).is_some());
        assert!(once.active_at(ts("2026-01-01T01:00:00Z")).is_none());
    }
}
