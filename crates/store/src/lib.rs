//! opsdesk persistence: one set of queries over SQLite (embedded default) and PostgreSQL.
//!
//! Queries are written once with `$n` placeholders, which both dialects accept, and run through
//! sqlx's `Any` driver. Only the DDL migrations, write serialisation and the two JSON bulk
//! statements of the clock cache differ per backend.
//! Every mutation runs in one transaction that also appends its events to the event log
//! ([`events`]); nothing here reads the clock: callers pass `now`.

mod alert_batch;
mod alert_ingest;
mod batch;
mod clock_inputs;
mod clocks;
mod connect;
mod directory;
mod error;
pub mod events;
mod fact_rows;
mod firing;
mod idempotency;
mod incidents;
mod knowledge;
mod mail;
mod mail_intake;
mod migrate;
mod model;
mod new_tickets;
mod oncall;
mod operations;
mod page_answers;
mod postgres_writer;
mod report_facts;
mod report_rollup;
mod report_scope;
mod reports;
mod reviews;
mod runbooks;
mod searchable;
mod sla_config;
mod sla_views;
mod sql;
mod sqlite_writer;
mod status_page;
mod ticket_links;
mod tickets;

pub use batch::CreateCosts;
pub use clocks::{AtRisk, ClockView, SlaJob, TicketSla};
pub use connect::{Backend, Lease, Store};
pub use error::StoreError;
pub use events::Event;
pub use firing::{Notification, OutboxItem, MAX_ATTEMPTS};
pub use idempotency::Claim;
pub use incidents::{
    quiet_period, AlertInput, AlertRecord, Incident, IncidentChanges, IncidentFilter,
    IngestOutcome, NewIncident,
};
pub use knowledge::{Article, ArticleDraft, ArticleFilter, ArticleVersion, Category, Feedback};
pub use mail::{
    Attachment, Inbound, InboundAttachment, InboundMail, Intake, MailRecord, Mailbox,
    MailboxSettings, OutgoingMail, Received, ServerSettings, DEFAULT_MAX_ATTACHMENT_BYTES,
    DEFAULT_SENDER_LIMIT,
};
pub use model::*;
pub use oncall::{ContactMethod, EscalationPolicyRecord, PageRecord, PagingState, ScheduleRecord};
pub use operations::{
    GenericMapping, Integration, IntegrationInput, IntegrationKind, IntegrationSettings,
    MaintenanceInput, MaintenanceRecord, Service,
};
pub use report_scope::ReportScope;
pub use reports::{
    ActiveGauge, BreakdownRow, CreatedDay, CsatAnswer, CsatTotals, IncidentFact, MetricGauges,
    ResolvedDay, StatusTime, TicketAggregates, TicketSummary,
};
pub use reviews::{ActionItem, NewActionItem, Problem, Review, REVIEW_SECTIONS};
pub use runbooks::{Check, CheckDraft, Occurrence, Run, RunStep, RunTarget, Runbook};
pub use searchable::{Owner, SearchRow, Searchable};
pub use sla_config::{
    CalendarInput, CalendarRecord, PolicyRecord, SlaConfig, VendorInput, VendorRecord, VendorReport,
};
pub use status_page::{NewStatusUpdate, PublicIncident, StatusUpdate};
pub use tickets::{EscalationRequest, QueueFilter, QueueSort, TicketChanges};
