//! The HTML UI: the customer portal and the agent workspace.

use axum::Router;

use crate::AppState;

/// The routes of the UI.
pub fn routes() -> Router<AppState> {
    Router::new()
}
