//! Mail routes: mailboxes, handing in a raw message, "fetch now", a ticket's mail and
//! attachments, a message's source, templates and organisations' mail domains.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;

use crate::app::mail as app;
use crate::app::Operator;
use crate::auth::ApiCaller;
use crate::error::{ApiError, Code, Problem};
use crate::input::{ApiJson, IdPath};
use crate::mail::fetch::MAX_MESSAGE_BYTES;
use crate::wire::desk::Items;
use crate::wire::mail::*;
use crate::AppState;

/// The mail routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/mailboxes",
            get(list_mailboxes).post(create_mailbox),
        )
        .route("/api/v1/mailboxes/{id}", get(get_mailbox).put(put_mailbox))
        .route("/api/v1/mailboxes/{id}/fetch", post(fetch_now))
        .route(
            "/api/v1/mailboxes/{id}/messages",
            post(hand_in).layer(DefaultBodyLimit::max(MAX_MESSAGE_BYTES as usize)),
        )
        .route("/api/v1/mail", get(list_mail))
        .route("/api/v1/mail/{id}", get(get_mail))
        .route("/api/v1/mail/{id}/source", get(get_source))
        .route("/api/v1/tickets/{id}/mail", get(ticket_mail))
        .route("/api/v1/tickets/{id}/attachments", get(ticket_attachments))
        .route("/api/v1/attachments/{id}", get(get_attachment))
        .route("/api/v1/mail-templates", get(list_templates))
        .route("/api/v1/mail-templates/{key}", put(put_template))
        .route(
            "/api/v1/orgs/{id}/domains",
            get(get_domains).put(put_domains),
        )
}

/// The OpenAPI description of the mail routes.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_mailboxes,
    create_mailbox,
    get_mailbox,
    put_mailbox,
    fetch_now,
    hand_in,
    list_mail,
    get_mail,
    get_source,
    ticket_mail,
    ticket_attachments,
    get_attachment,
    list_templates,
    put_template,
    get_domains,
    put_domains
))]
pub struct MailDoc;

/// Mailboxes (administrators).
#[utoipa::path(get, path = "/api/v1/mailboxes", responses((status = 200, body = Items<MailboxOut>)))]
async fn list_mailboxes(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<MailboxOut>>, ApiError> {
    let items = app::mailboxes(&state.ctx(&caller.actor)).await?;
    Ok(Json(Items {
        items: items.iter().map(app::mailbox_out).collect(),
    }))
}

/// Creates a mailbox (administrators).
#[utoipa::path(post, path = "/api/v1/mailboxes", request_body = MailboxIn, responses((status = 201, body = MailboxOut), (status = 422, body = Problem)))]
async fn create_mailbox(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<MailboxIn>,
) -> Result<(StatusCode, Json<MailboxOut>), ApiError> {
    let mailbox = app::create_mailbox(&state.ctx(&caller.actor), &input).await?;
    Ok((StatusCode::CREATED, Json(app::mailbox_out(&mailbox))))
}

/// One mailbox (administrators).
#[utoipa::path(get, path = "/api/v1/mailboxes/{id}", params(("id" = i64, Path)), responses((status = 200, body = MailboxOut), (status = 404, body = Problem)))]
async fn get_mailbox(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<MailboxOut>, ApiError> {
    let mailbox = app::mailbox(&state.ctx(&caller.actor), id).await?;
    Ok(Json(app::mailbox_out(&mailbox)))
}

/// Changes a mailbox (administrators); empty passwords keep the stored ones.
#[utoipa::path(put, path = "/api/v1/mailboxes/{id}", params(("id" = i64, Path)), request_body = MailboxIn, responses((status = 200, body = MailboxOut), (status = 422, body = Problem)))]
async fn put_mailbox(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<MailboxIn>,
) -> Result<Json<MailboxOut>, ApiError> {
    let mailbox = app::update_mailbox(&state.ctx(&caller.actor), id, &input).await?;
    Ok(Json(app::mailbox_out(&mailbox)))
}

/// Polls a mailbox now instead of at its next turn (administrators).
#[utoipa::path(post, path = "/api/v1/mailboxes/{id}/fetch", params(("id" = i64, Path)), responses((status = 202, body = MailboxOut), (status = 422, body = Problem)))]
async fn fetch_now(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<(StatusCode, Json<MailboxOut>), ApiError> {
    let mailbox = app::fetch_now(&state.store, Operator::User(&caller.actor), id).await?;
    Ok((StatusCode::ACCEPTED, Json(app::mailbox_out(&mailbox))))
}

/// Hands in one raw message (`Content-Type: message/rfc822`) as if it had arrived in the
/// mailbox, the way an MTA's delivery command would (administrators).
#[utoipa::path(post, path = "/api/v1/mailboxes/{id}/messages", params(("id" = i64, Path)), request_body(content = String, content_type = "message/rfc822"), responses((status = 201, body = IntakeOut), (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn hand_in(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<IntakeOut>), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !content_type.trim().eq_ignore_ascii_case("message/rfc822") {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "send the message as Content-Type: message/rfc822",
        ));
    }
    let received = app::hand_in(&state.ctx(&caller.actor), id, body.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(app::intake_out(&received))))
}

/// Which mail to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MailQuery {
    /// Only this mailbox's.
    pub mailbox: Option<i64>,
    /// How many (1–200, default 50).
    pub limit: Option<i64>,
}

/// The newest mail in and out, newest first (administrators): the mail log.
#[utoipa::path(get, path = "/api/v1/mail", params(MailQuery), responses((status = 200, body = Items<MailOut>)))]
async fn list_mail(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(q): Query<MailQuery>,
) -> Result<Json<Items<MailOut>>, ApiError> {
    let mail = app::recent_mail(&state.ctx(&caller.actor), q.mailbox, q.limit).await?;
    Ok(Json(Items {
        items: mail.iter().map(app::mail_out).collect(),
    }))
}

/// One stored mail with its headers and delivery state (staff who may read its ticket;
/// mail on no ticket: administrators).
#[utoipa::path(get, path = "/api/v1/mail/{id}", params(("id" = i64, Path)), responses((status = 200, body = MailOut), (status = 404, body = Problem)))]
async fn get_mail(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<MailOut>, ApiError> {
    let mail = app::mail_for(&state.store, &caller.actor, id).await?;
    Ok(Json(app::mail_out(&mail)))
}

/// The source of a mail that did not become ticket content (unparseable, ignored, held,
/// bounces), as `message/rfc822`.
#[utoipa::path(get, path = "/api/v1/mail/{id}/source", params(("id" = i64, Path)), responses((status = 200, body = String, content_type = "message/rfc822"), (status = 404, body = Problem)))]
async fn get_source(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let raw = app::mail_source(&state.ctx(&caller.actor), id).await?;
    Ok(crate::http::download::file(
        raw,
        "message/rfc822",
        &format!("mail-{id}.eml"),
    ))
}

/// A ticket's mail in and out (staff).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/mail", params(("id" = i64, Path)), responses((status = 200, body = Items<MailOut>), (status = 404, body = Problem)))]
async fn ticket_mail(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<MailOut>>, ApiError> {
    Ok(Json(Items {
        items: app::ticket_mail(&state.store, &caller.actor, id).await?,
    }))
}

/// A ticket's attachments (anyone who may read the ticket).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments", params(("id" = i64, Path)), responses((status = 200, body = Items<AttachmentOut>), (status = 404, body = Problem)))]
async fn ticket_attachments(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<Items<AttachmentOut>>, ApiError> {
    Ok(Json(Items {
        items: app::ticket_attachments(&state.store, &caller.actor, id).await?,
    }))
}

/// Downloads an attachment (anyone who may read its ticket).
#[utoipa::path(get, path = "/api/v1/attachments/{id}", params(("id" = i64, Path)), responses((status = 200, body = String, content_type = "application/octet-stream"), (status = 404, body = Problem)))]
async fn get_attachment(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let (attachment, data) = app::attachment_content(&state.store, &caller.actor, id).await?;
    Ok(crate::http::download::file(
        data,
        &attachment.content_type,
        &attachment.filename,
    ))
}

/// The mail templates in force (administrators).
#[utoipa::path(get, path = "/api/v1/mail-templates", responses((status = 200, body = Items<TemplateOut>)))]
async fn list_templates(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<Items<TemplateOut>>, ApiError> {
    Ok(Json(Items {
        items: app::templates(&state.ctx(&caller.actor)).await?,
    }))
}

/// Changes a mail template (administrators); an unknown placeholder is refused by field.
#[utoipa::path(put, path = "/api/v1/mail-templates/{key}", params(("key" = String, Path)), request_body = TemplateIn, responses((status = 200, body = Items<TemplateOut>), (status = 422, body = Problem)))]
async fn put_template(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(key): Path<String>,
    ApiJson(input): ApiJson<TemplateIn>,
) -> Result<Json<Items<TemplateOut>>, ApiError> {
    app::save_template(&state.ctx(&caller.actor), &key, &input).await?;
    Ok(Json(Items {
        items: app::templates_out(&state.store).await?,
    }))
}

/// An organisation's mail domains (administrators).
#[utoipa::path(get, path = "/api/v1/orgs/{id}/domains", params(("id" = i64, Path)), responses((status = 200, body = DomainsWire)))]
async fn get_domains(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
) -> Result<Json<DomainsWire>, ApiError> {
    Ok(Json(DomainsWire {
        domains: app::org_domains(&state.ctx(&caller.actor), id).await?,
    }))
}

/// Sets an organisation's mail domains: unknown senders from them join it (administrators).
#[utoipa::path(put, path = "/api/v1/orgs/{id}/domains", params(("id" = i64, Path)), request_body = DomainsWire, responses((status = 200, body = DomainsWire), (status = 422, body = Problem)))]
async fn put_domains(
    State(state): State<AppState>,
    caller: ApiCaller,
    IdPath(id): IdPath,
    ApiJson(input): ApiJson<DomainsWire>,
) -> Result<Json<DomainsWire>, ApiError> {
    let domains = app::set_org_domains(&state.ctx(&caller.actor), id, &input.domains).await?;
    Ok(Json(DomainsWire { domains }))
}
