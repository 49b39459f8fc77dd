//! Integration tests: the real server over HTTP, on SQLite or PostgreSQL (see `helpers`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod alertmanager;
mod authz;
mod escalation;
mod helpers;
mod idempotency;
mod incidents;
mod knowledge;
mod mail;
mod mail_servers;
mod paging;
mod reports;
mod reviews;
mod runbooks;
mod sla;
mod status_page;
mod store;
mod tickets;
mod tidy;
mod ui;
