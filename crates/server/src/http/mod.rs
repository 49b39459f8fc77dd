//! The edges: handlers only. Each reads its request (extractors), calls the application layer
//! (`crate::app`) and answers. `api/` is the JSON API under `/api/v1`, `ui/` the HTML pages,
//! `hooks/` the inbound alert endpoints; `download.rs` is the file responses the API and the
//! UI share. No edge imports another.

pub mod api;
pub mod download;
pub mod hooks;
pub mod ui;
