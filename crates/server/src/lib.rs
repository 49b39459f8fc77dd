//! The opsdesk server: the JSON API, the HTML UI and the state they share.
//!
//! Handlers are thin: they read input, call [`app`] (which authorizes and validates once for
//! both the API and the UI), and render the result. The clock is read here, at the edge.

pub mod app;
pub mod auth;
pub mod demo;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod input;
pub mod mail;
pub mod markdown;
pub mod metrics;
pub mod paging;
pub mod wire;
pub mod workers;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use opsdesk_store::Store;
use tokio::net::TcpListener;

use http::{api, hooks, ui};

/// What every request handler shares: cheap to clone (one reference count), as every
/// extractor and middleware of a request clones it.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

/// The state itself, read through [`AppState`].
#[derive(Debug, Clone)]
pub struct Shared {
    /// The database.
    pub store: Store,
    /// Failed sign-in counter.
    pub login_limiter: Arc<auth::LoginLimiter>,
    /// Recently verified API tokens.
    pub token_cache: Arc<auth::TokenCache>,
    /// Mark cookies `Secure` (the site is served over HTTPS, directly or behind a proxy).
    pub secure_cookies: bool,
    /// Inbound alert endpoints' token cache and rate counters.
    pub hooks: Arc<hooks::HookState>,
    /// The address people reach opsdesk at (links in pages).
    pub public_url: String,
    /// The paging secret, read once (the page-answer route needs no login).
    pub paging_secret: Arc<tokio::sync::OnceCell<String>>,
    /// Let webhook deliveries reach loopback and private addresses (off by default).
    pub allow_private_webhooks: bool,
    /// This process's search index.
    pub search: Arc<opsdesk_search::SearchIndex>,
    /// What this process's indexer is doing; asks it to rebuild.
    pub indexer: app::search::SearchState,
    /// Request counts and latencies of this process, for `/metrics`.
    pub requests: metrics::RequestStats,
}

impl AppState {
    /// State over `store` and the search index `search`, with the default sign-in limit
    /// (10 failures per 15 minutes).
    pub fn new(store: Store, search: Arc<opsdesk_search::SearchIndex>) -> Self {
        Self(Arc::new(Shared {
            store,
            login_limiter: Arc::new(auth::LoginLimiter::new(10, Duration::from_secs(15 * 60))),
            token_cache: Arc::new(auth::TokenCache::default()),
            secure_cookies: false,
            hooks: Arc::new(hooks::HookState::default()),
            public_url: "http://127.0.0.1:8080".to_owned(),
            paging_secret: Arc::default(),
            allow_private_webhooks: false,
            search,
            indexer: app::search::SearchState::default(),
            requests: metrics::RequestStats::default(),
        }))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    /// Settings are changed while the state is being set up, before any request shares it
    /// (afterwards a change would copy the state for this handle alone).
    fn deref_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

impl AppState {
    /// The secret that signs links mailed or paged out (page answers, surveys, status
    /// subscriptions), read from the database once per process.
    pub async fn signing_secret(&self) -> Result<&str, opsdesk_store::StoreError> {
        Ok(self
            .paging_secret
            .get_or_try_init(|| paging::secret(&self.store))
            .await?
            .as_str())
    }

    /// The application layer's view of one request by `actor`, arriving now.
    pub fn ctx<'a>(&'a self, actor: &'a opsdesk_domain::Actor) -> app::Ctx<'a> {
        app::Ctx::of(&self.store, actor)
    }
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(ui::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::replay,
        ))
        .layer(DefaultBodyLimit::max(input::MAX_BODY_BYTES))
        .merge(hooks::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
}

/// Serves `state` on `listener`, with the background workers, until ctrl-c or SIGTERM.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let workers = workers::Workers::start(
        state.store.clone(),
        state.public_url.clone(),
        state.allow_private_webhooks,
    );
    let indexer = workers::search::Indexer::start(
        state.store.clone(),
        Arc::clone(&state.search),
        state.indexer.clone(),
    );
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await;
    indexer.stop().await;
    workers.stop().await;
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
