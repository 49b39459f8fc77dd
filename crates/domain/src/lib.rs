//! The pure rules of opsdesk.
//!
//! This crate does no I/O, reads no clock and knows no wire format: callers pass `now` in and
//! persist what the functions decide. Every value type here is built by a `parse` constructor,
//! so an invalid subject, e-mail address, tag or tier cannot exist in the rest of the program.

pub mod access;
pub mod calendar;
pub mod error;
pub mod escalation;
pub mod forecast;
pub mod ics;
pub mod incident;
pub mod knowledge;
pub mod mail;
pub mod oncall;
pub mod priority;
pub mod recurrence;
pub mod report;
pub mod review;
pub mod role;
pub mod runbook;
pub mod sla;
pub mod status;
pub mod ticket;
pub mod values;

pub use access::{Action, Actor, Denied};
pub use calendar::Calendar;
pub use error::Invalid;
pub use escalation::{BugReport, Escalation, TeamRoute};
pub use incident::{IncidentStatus, Severity};
pub use priority::{Impact, Priority, Urgency};
pub use role::{Role, Tier};
pub use ticket::{LinkKind, PendingReason, Status};
pub use values::{Body, Category, Email, ExternalUrl, Name, Subject, Tag};
