//! Responses that hand the browser a file to save, shared by the API and the UI: CSV exports
//! and stored mail and attachments. A saved file is never rendered in opsdesk's origin.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A CSV download named after the report and table.
pub fn csv(name: &str, table: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"opsdesk-{name}-{table}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// A download that a browser saves and never renders in opsdesk's origin.
pub fn file(data: Vec<u8>, content_type: &str, filename: &str) -> Response {
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let content_type = if content_type.contains(['\r', '\n']) {
        "application/octet-stream"
    } else {
        content_type
    };
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CONTENT_SECURITY_POLICY, "sandbox".to_owned()),
        ],
        data,
    )
        .into_response()
}
