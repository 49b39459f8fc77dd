//! Mail pages: the administrators' mail page (mailboxes, "fetch now", the mail log,
//! templates, organisations' mail domains), one message's headers and delivery state, and
//! downloads of attachments and kept sources.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::session::{Session, SignedForm};
use super::views::{exact, readable, Chrome, FormErrors};
use super::{page_error, render, render_with};
use crate::app::mail as app;
use crate::app::Operator;
use crate::error::{ApiError, Code};
use crate::input::IdPath;
use crate::wire::mail::{MailOut, MailboxIn, MailboxOut, ServerIn, TemplateIn, TemplateOut};
use crate::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/mail", get(page))
        .route("/admin/mail/mailboxes", post(save_mailbox))
        .route("/admin/mail/fetch", post(fetch))
        .route("/admin/mail/templates", post(save_template))
        .route("/admin/mail/domains", post(save_domains))
        .route("/desk/mail/{id}", get(message))
        .route("/desk/mail/{id}/source", get(source))
        .route("/attachments/{id}", get(attachment))
}

/// The administrators' mail page.
#[derive(Template)]
#[template(path = "admin_mail.html")]
pub struct MailAdminPage {
    /// Frame.
    pub chrome: Chrome,
    /// Errors of a refused form.
    pub form: FormErrors,
    /// Mailboxes.
    pub mailboxes: Vec<MailboxOut>,
    /// Team names.
    pub teams: Vec<String>,
    /// (organisation name, its domains joined).
    pub orgs: Vec<(String, String)>,
    /// Templates.
    pub templates: Vec<TemplateOut>,
    /// The newest mail in and out.
    pub log: Vec<MailOut>,
}

/// One message's headers and delivery state.
#[derive(Template)]
#[template(path = "mail_message.html")]
pub struct MailMessagePage {
    /// Frame.
    pub chrome: Chrome,
    /// The message.
    pub m: MailOut,
    /// The sanitized HTML part, if any (shown in a sandboxed frame).
    pub html: String,
    /// When it was received or queued, readable.
    pub at: String,
}

async fn page(State(state): State<AppState>, session: Session) -> Response {
    mail_page(&state, &session, FormErrors::default(), StatusCode::OK).await
}

async fn mail_page(
    state: &AppState,
    session: &Session,
    form: FormErrors,
    status: StatusCode,
) -> Response {
    let ctx = state.ctx(&session.actor);
    let built: Result<MailAdminPage, ApiError> = async {
        let orgs = app::domains_by_org(&ctx).await?;
        let mut log = Vec::new();
        for m in app::recent_mail(&ctx, None, Some(50)).await? {
            let mut out = app::mail_out(&m);
            out.created_at = readable(&out.created_at);
            log.push(out);
        }
        let mut mailboxes: Vec<MailboxOut> = app::mailboxes(&ctx)
            .await?
            .iter()
            .map(app::mailbox_out)
            .collect();
        for m in &mut mailboxes {
            m.last_polled_at = m.last_polled_at.as_deref().map(readable);
        }
        Ok(MailAdminPage {
            chrome: session.chrome(),
            form,
            mailboxes,
            teams: crate::app::directory::teams(&ctx)
                .await?
                .into_iter()
                .map(|t| t.name)
                .collect(),
            orgs,
            templates: app::templates(&ctx).await?,
            log,
        })
    }
    .await;
    match built {
        Ok(page) => render_with(status, &page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn after(state: &AppState, session: &Session, result: Result<(), ApiError>) -> Response {
    super::after(result, "/admin/mail", |errors, status| {
        mail_page(state, session, errors, status)
    })
    .await
}

/// The mailbox form: one set of fields creates a mailbox, or changes the one of that name.
#[derive(Debug, Deserialize)]
struct MailboxForm {
    name: String,
    address: String,
    #[serde(default)]
    display_name: String,
    team: String,
    #[serde(default)]
    imap_host: String,
    #[serde(default)]
    imap_port: String,
    #[serde(default)]
    imap_security: String,
    #[serde(default)]
    imap_user: String,
    #[serde(default)]
    imap_password: String,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    smtp_host: String,
    #[serde(default)]
    smtp_port: String,
    #[serde(default)]
    smtp_security: String,
    #[serde(default)]
    smtp_user: String,
    #[serde(default)]
    smtp_password: String,
    #[serde(default)]
    max_attachment_mb: String,
    #[serde(default)]
    sender_limit_per_hour: String,
    #[serde(default)]
    active: Option<String>,
    #[serde(default)]
    tls_ca: String,
}

fn number<T: std::str::FromStr>(field: &str, raw: &str) -> Result<Option<T>, ApiError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.parse().map(Some).map_err(|_| {
        ApiError::field(
            Code::InvalidInput,
            field,
            format!("'{raw}' is not a number"),
        )
    })
}

impl MailboxForm {
    fn wire(&self) -> Result<MailboxIn, ApiError> {
        let server = |host: &str, port: Option<u16>, security: &str, user: &str, password: &str| {
            (!host.trim().is_empty()).then(|| ServerIn {
                host: host.trim().to_owned(),
                port,
                security: Some(security.to_owned()).filter(|s| !s.is_empty()),
                user: user.to_owned(),
                password: password.to_owned(),
            })
        };
        let megabytes: Option<i64> = number("max_attachment_bytes", &self.max_attachment_mb)?;
        Ok(MailboxIn {
            name: self.name.clone(),
            address: self.address.clone(),
            display_name: Some(self.display_name.clone()),
            team: self.team.clone(),
            imap: server(
                &self.imap_host,
                number("imap.port", &self.imap_port)?,
                &self.imap_security,
                &self.imap_user,
                &self.imap_password,
            ),
            folder: Some(self.folder.clone()).filter(|f| !f.trim().is_empty()),
            smtp: server(
                &self.smtp_host,
                number("smtp.port", &self.smtp_port)?,
                &self.smtp_security,
                &self.smtp_user,
                &self.smtp_password,
            ),
            max_attachment_bytes: megabytes.map(|mb| mb.saturating_mul(1024 * 1024)),
            sender_limit_per_hour: number("sender_limit_per_hour", &self.sender_limit_per_hour)?,
            active: Some(self.active.is_some()),
            tls_ca: Some(self.tls_ca.clone()),
        })
    }
}

async fn save_mailbox(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<MailboxForm>,
) -> Response {
    let result = async {
        let input = form.wire()?;
        app::save_mailbox(&state.ctx(&session.actor), &input)
            .await
            .map(|_| ())
    }
    .await;
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct IdForm {
    id: i64,
}

async fn fetch(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<IdForm>,
) -> Response {
    let result = app::fetch_now(&state.store, Operator::User(&session.actor), form.id)
        .await
        .map(|_| ());
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct TemplateForm {
    key: String,
    subject: String,
    body: String,
}

async fn save_template(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<TemplateForm>,
) -> Response {
    let input = TemplateIn {
        subject: form.subject.clone(),
        body: form.body.replace("\r\n", "\n"),
    };
    let result = app::save_template(&state.ctx(&session.actor), &form.key, &input).await;
    after(&state, &session, result).await
}

#[derive(Debug, Deserialize)]
struct DomainsForm {
    organization: String,
    #[serde(default)]
    domains: String,
}

async fn save_domains(
    State(state): State<AppState>,
    SignedForm { session, form }: SignedForm<DomainsForm>,
) -> Response {
    let result = async {
        let ctx = state.ctx(&session.actor);
        let org =
            crate::app::directory::org_named(&ctx, "organization", &form.organization).await?;
        let domains: Vec<String> = form
            .domains
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect();
        app::set_org_domains(&state.ctx(&session.actor), org.id, &domains)
            .await
            .map(|_| ())
    }
    .await;
    after(&state, &session, result).await
}

async fn message(State(state): State<AppState>, session: Session, IdPath(id): IdPath) -> Response {
    let built: Result<MailMessagePage, ApiError> = async {
        let mail = app::mail_for(&state.store, &session.actor, id).await?;
        let at = exact(mail.created_at);
        let html = mail.html.clone().unwrap_or_default();
        let mut m = app::mail_out(&mail);
        m.sent_at = m.sent_at.as_deref().map(readable);
        Ok(MailMessagePage {
            chrome: session.chrome(),
            m,
            html,
            at,
        })
    }
    .await;
    match built {
        Ok(page) => render(&page),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn source(State(state): State<AppState>, session: Session, IdPath(id): IdPath) -> Response {
    match app::mail_source(&state.ctx(&session.actor), id).await {
        Ok(raw) => crate::http::download::file(raw, "message/rfc822", &format!("mail-{id}.eml")),
        Err(e) => page_error(e, session.chrome()),
    }
}

async fn attachment(
    State(state): State<AppState>,
    session: Session,
    IdPath(id): IdPath,
) -> Response {
    match app::attachment_content(&state.store, &session.actor, id).await {
        Ok((a, data)) => crate::http::download::file(data, &a.content_type, &a.filename),
        Err(e) => page_error(e, session.chrome()),
    }
}
