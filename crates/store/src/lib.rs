//! opsdesk persistence: one set of queries over SQLite (embedded default) and PostgreSQL.
//!
//! Queries are written once with `$n` placeholders, which both dialects accept, and run through
//! sqlx's `Any` driver. Only the DDL migrations and write serialisation differ per backend.
//! Every mutation runs in one transaction that also appends its events to the event log
//! ([`events`]); nothing here reads the clock: callers pass `now`.

mod batch;
mod connect;
mod directory;
mod error;
pub mod events;
mod idempotency;
mod migrate;
mod model;
mod sql;
mod tickets;

pub use connect::{Backend, Store};
pub use error::StoreError;
pub use events::Event;
pub use idempotency::Claim;
pub use model::*;
pub use tickets::{EscalationRequest, QueueFilter, QueueSort, TicketChanges};
