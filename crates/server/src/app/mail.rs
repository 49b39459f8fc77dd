//! Mail actions: mailboxes (with their servers checked field by field), handing in a message,
//! "fetch now", templates, organisations' mail domains, and the views of stored mail.

use opsdesk_domain::mail::Security;
use opsdesk_domain::{Action, Actor, Email, Name};
use opsdesk_store::{
    Attachment, Intake, MailRecord, Mailbox, MailboxSettings, Received, ServerSettings, Store,
    DEFAULT_MAX_ATTACHMENT_BYTES, DEFAULT_SENDER_LIMIT,
};

use super::{Ctx, Operator};
use crate::error::{ApiError, Checks, Code};
use crate::mail::templates;
use crate::wire::desk::rfc3339;
use crate::wire::mail::{
    AttachmentOut, IntakeOut, MailOut, MailboxIn, MailboxOut, ServerIn, ServerOut, TemplateIn,
    TemplateOut,
};

/// Which server a block of settings describes (for default ports and field names).
#[derive(Clone, Copy)]
enum Protocol {
    Imap,
    Smtp,
}

fn server(
    input: &Option<ServerIn>,
    protocol: Protocol,
    checks: &mut Checks,
) -> Option<ServerSettings> {
    let input = input.as_ref()?;
    let prefix = match protocol {
        Protocol::Imap => "imap",
        Protocol::Smtp => "smtp",
    };
    let host = input.host.trim();
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
        checks.fail(
            &format!("{prefix}.host"),
            "must be a host name or address, such as mail.example.com",
        );
    }
    let security = match &input.security {
        Some(raw) => match Security::parse("security", raw) {
            Ok(s) => s,
            Err(e) => {
                checks.fail(&format!("{prefix}.security"), e.reason);
                Security::Tls
            }
        },
        None => Security::Tls,
    };
    let port = input.port.unwrap_or(match (protocol, security) {
        (Protocol::Imap, Security::Tls) => 993,
        (Protocol::Imap, _) => 143,
        (Protocol::Smtp, Security::Tls) => 465,
        (Protocol::Smtp, Security::StartTls) => 587,
        (Protocol::Smtp, Security::None) => 25,
    });
    if port == 0 {
        checks.fail(&format!("{prefix}.port"), "must be 1–65535");
    }
    if matches!(protocol, Protocol::Imap) && input.user.trim().is_empty() {
        checks.fail(&format!("{prefix}.user"), "IMAP needs a login");
    }
    Some(ServerSettings {
        host: host.to_owned(),
        port,
        security,
        user: input.user.trim().to_owned(),
        password: input.password.clone(),
    })
}

async fn settings(
    store: &Store,
    input: &MailboxIn,
    checks: &mut Checks,
) -> Result<Option<MailboxSettings>, ApiError> {
    let name = checks.check(Name::parse("name", &input.name));
    let address = checks.check(Email::parse("address", &input.address));
    let team = store.team_by_name(input.team.trim()).await?;
    if team.is_none() {
        checks.fail("team", format!("no team named '{}'", input.team.trim()));
    }
    let imap = server(&input.imap, Protocol::Imap, checks);
    let smtp = server(&input.smtp, Protocol::Smtp, checks);
    let folder = input.folder.as_deref().unwrap_or("INBOX").trim().to_owned();
    if folder.is_empty() || folder.contains(['\r', '\n', '"']) {
        checks.fail("folder", "must be a folder name such as INBOX");
    }
    let max_attachment_bytes = input
        .max_attachment_bytes
        .unwrap_or(DEFAULT_MAX_ATTACHMENT_BYTES);
    if !(1..=1024 * 1024 * 1024).contains(&max_attachment_bytes) {
        checks.fail("max_attachment_bytes", "must be 1 byte to 1 GiB");
    }
    let sender_limit_per_hour = input.sender_limit_per_hour.unwrap_or(DEFAULT_SENDER_LIMIT);
    if !(1..=100_000).contains(&sender_limit_per_hour) {
        checks.fail("sender_limit_per_hour", "must be 1 to 100,000");
    }
    let tls_ca = input
        .tls_ca
        .as_deref()
        .map(str::trim)
        .filter(|pem| !pem.is_empty())
        .map(str::to_owned);
    if let Some(pem) = &tls_ca {
        if let Err(reason) = crate::mail::fetch::trusted_certificates(pem) {
            checks.fail("tls_ca", reason);
        }
    }
    let (Some(name), Some(address), Some(team)) = (name, address, team) else {
        return Ok(None);
    };
    Ok(Some(MailboxSettings {
        display_name: input
            .display_name
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .unwrap_or(name.as_str())
            .to_owned(),
        name,
        address,
        team_id: team.id,
        imap,
        imap_folder: folder,
        smtp,
        max_attachment_bytes,
        sender_limit_per_hour,
        active: input.active.unwrap_or(true),
        tls_ca,
    }))
}

/// Creates a mailbox (administrators).
pub async fn create_mailbox(ctx: &Ctx<'_>, input: &MailboxIn) -> Result<Mailbox, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::Administer)?;
    let mut checks = Checks::default();
    let settings = settings(store, input, &mut checks).await?;
    checks.finish()?;
    let settings = settings.ok_or_else(|| ApiError::new(Code::InvalidInput, "invalid mailbox"))?;
    Ok(store.create_mailbox(&settings, actor, now).await?)
}

/// Changes a mailbox (administrators); empty passwords keep the stored ones.
pub async fn update_mailbox(
    ctx: &Ctx<'_>,
    id: i64,
    input: &MailboxIn,
) -> Result<Mailbox, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::Administer)?;
    store.mailbox(id).await?;
    let mut checks = Checks::default();
    let settings = settings(store, input, &mut checks).await?;
    checks.finish()?;
    let settings = settings.ok_or_else(|| ApiError::new(Code::InvalidInput, "invalid mailbox"))?;
    Ok(store.update_mailbox(id, &settings, actor, now).await?)
}

/// A mailbox by id or name.
pub async fn mailbox_named(store: &Store, name: &str) -> Result<Mailbox, ApiError> {
    if let Ok(id) = name.trim().parse::<i64>() {
        return Ok(store.mailbox(id).await?);
    }
    store.mailbox_by_name(name.trim()).await?.ok_or_else(|| {
        ApiError::field(
            Code::InvalidInput,
            "mailbox",
            format!("no mailbox named '{name}'"),
        )
    })
}

/// Takes in one raw message for `mailbox` (administrators, and `opsdesk mail ingest`).
pub async fn ingest(ctx: &Ctx<'_>, mailbox: &Mailbox, raw: Vec<u8>) -> Result<Received, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    by.authorize_to(Action::Administer)?;
    if raw.is_empty() {
        return Err(ApiError::field(
            Code::InvalidInput,
            "message",
            "the message is empty",
        ));
    }
    let inbound = crate::mail::parse::read(raw);
    Ok(store.receive_mail(mailbox, inbound, None, now).await?)
}

/// Makes a mailbox due for polling now (administrators).
pub async fn fetch_now(store: &Store, by: Operator<'_>, id: i64) -> Result<Mailbox, ApiError> {
    by.authorize_to(Action::Administer)?;
    let mailbox = store.mailbox(id).await?;
    if mailbox.settings.imap.is_none() {
        return Err(ApiError::field(
            Code::InvalidInput,
            "imap",
            "this mailbox has no IMAP server to fetch from",
        ));
    }
    store.poll_soon(id).await?;
    Ok(store.mailbox(id).await?)
}

/// Every template in force (stored or built in).
pub async fn templates_out(store: &Store) -> Result<Vec<TemplateOut>, ApiError> {
    let stored = store.mail_templates().await?;
    Ok(templates::KINDS
        .iter()
        .map(|kind| {
            let saved = stored.iter().find(|(k, _, _)| k == kind.key);
            TemplateOut {
                key: kind.key.into(),
                purpose: kind.purpose.into(),
                subject: saved.map_or(kind.subject.into(), |(_, s, _)| s.clone()),
                body: saved.map_or(kind.body.into(), |(_, _, b)| b.clone()),
                customised: saved.is_some(),
                placeholders: templates::PLACEHOLDERS
                    .iter()
                    .map(|p| (*p).into())
                    .collect(),
            }
        })
        .collect())
}

/// Saves a template (administrators), refusing unknown placeholders by field.
pub async fn save_template(ctx: &Ctx<'_>, key: &str, input: &TemplateIn) -> Result<(), ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::Administer)?;
    if templates::kind(key).is_none() {
        return Err(ApiError::new(
            Code::NotFound,
            format!("no mail template '{key}'"),
        ));
    }
    let mut checks = Checks::default();
    if let Err(e) = templates::check(&input.subject, &input.body) {
        checks.fail(e.field, e.reason);
    }
    checks.finish()?;
    store
        .save_mail_template(key, input.subject.trim(), &input.body, actor, now)
        .await?;
    Ok(())
}

/// Sets an organisation's mail domains (administrators).
pub async fn set_org_domains(
    ctx: &Ctx<'_>,
    org_id: i64,
    domains: &[String],
) -> Result<Vec<String>, ApiError> {
    let (store, by, now) = (ctx.store, ctx.operator, ctx.now);
    let actor = by.authorize_to(Action::Administer)?;
    store.org(org_id).await?;
    let mut checks = Checks::default();
    let mut clean = Vec::new();
    for (i, raw) in domains.iter().enumerate() {
        let domain = raw.trim().trim_start_matches('@').to_lowercase();
        let ok = domain.contains('.')
            && domain
                .split('.')
                .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
        if ok {
            if !clean.contains(&domain) {
                clean.push(domain);
            }
        } else {
            checks.fail(
                &format!("domains[{i}]"),
                format!("'{raw}' is not a mail domain like example.com"),
            );
        }
    }
    checks.finish()?;
    store.set_org_domains(org_id, &clean, actor, now).await?;
    Ok(store.org_domains(org_id).await?)
}

/// The mail of a ticket (staff).
pub async fn ticket_mail(
    store: &Store,
    actor: &Actor,
    ticket: i64,
) -> Result<Vec<MailOut>, ApiError> {
    actor.authorize(Action::ReadInternal)?;
    super::ticket_for(store, actor, ticket).await?;
    Ok(store
        .ticket_mail(ticket)
        .await?
        .iter()
        .map(mail_out)
        .collect())
}

/// A ticket's attachments, for anyone who may read the ticket.
pub async fn ticket_attachments(
    store: &Store,
    actor: &Actor,
    ticket: i64,
) -> Result<Vec<AttachmentOut>, ApiError> {
    super::ticket_for(store, actor, ticket).await?;
    Ok(store
        .attachments(ticket)
        .await?
        .iter()
        .map(attachment_out)
        .collect())
}

/// An attachment's content, for anyone who may read its ticket.
pub async fn attachment_content(
    store: &Store,
    actor: &Actor,
    id: i64,
) -> Result<(Attachment, Vec<u8>), ApiError> {
    let (attachment, data) = store.attachment(id).await?;
    let ticket = attachment
        .ticket_id
        .ok_or_else(|| ApiError::new(Code::NotFound, "attachment not found"))?;
    super::ticket_for(store, actor, ticket).await?;
    let data = data.ok_or_else(|| {
        ApiError::new(
            Code::NotFound,
            format!(
                "this attachment was not kept: {}",
                attachment.rejected.as_deref().unwrap_or("rejected")
            ),
        )
    })?;
    Ok((attachment, data))
}

/// The wire form of an attachment.
pub fn attachment_out(a: &Attachment) -> AttachmentOut {
    AttachmentOut {
        id: a.id,
        mail_id: a.mail_id,
        filename: a.filename.clone(),
        content_type: a.content_type.clone(),
        size: a.size,
        rejected: a.rejected.clone(),
        url: a
            .rejected
            .is_none()
            .then(|| format!("/api/v1/attachments/{}", a.id)),
    }
}

/// The wire form of a stored mail.
pub fn mail_out(m: &MailRecord) -> MailOut {
    MailOut {
        id: m.id,
        direction: m.direction.clone(),
        mailbox_id: m.mailbox_id,
        ticket_id: m.ticket_id,
        ticket_message_id: m.ticket_message_id,
        message_id: m.message_id.clone(),
        in_reply_to: m.in_reply_to.clone(),
        references: m.references.split_whitespace().map(str::to_owned).collect(),
        from: m.from.clone(),
        to: m.to.clone(),
        subject: m.subject.clone(),
        state: m.state.clone(),
        reason: m.reason.clone(),
        automatic: m.automatic.clone(),
        attempts: m.attempts,
        headers: m.headers.clone(),
        source_kept: m.source_kept,
        created_at: rfc3339(m.created_at),
        sent_at: m.sent_at.map(rfc3339),
    }
}

/// The wire form of an intake.
pub fn intake_out(received: &Received) -> IntakeOut {
    let (outcome, ticket_id, reason) = match &received.intake {
        Intake::NewTicket(t) => ("new_ticket", Some(*t), None),
        Intake::Reply(t) => ("reply", Some(*t), None),
        Intake::AutoReplyNoted(t) => ("auto_reply_noted", Some(*t), None),
        Intake::Bounce(t) => ("bounce", *t, None),
        Intake::Ignored(why) => ("ignored", None, Some(why.clone())),
        Intake::RateLimited => ("rate_limited", None, None),
        Intake::Unparseable(why) => ("unparseable", None, Some(why.clone())),
        Intake::Duplicate => ("duplicate", None, None),
    };
    IntakeOut {
        mail_id: received.mail_id,
        outcome: outcome.into(),
        ticket_id,
        reason,
    }
}

/// The wire form of a mailbox.
pub fn mailbox_out(m: &Mailbox) -> MailboxOut {
    let server = |s: &Option<ServerSettings>| {
        s.as_ref().map(|s| ServerOut {
            host: s.host.clone(),
            port: s.port,
            security: s.security.as_str().into(),
            user: s.user.clone(),
            password_set: !s.password.is_empty(),
        })
    };
    MailboxOut {
        id: m.id,
        name: m.settings.name.as_str().into(),
        address: m.settings.address.as_str().into(),
        display_name: m.settings.display_name.clone(),
        team: m.team_name.clone(),
        imap: server(&m.settings.imap),
        folder: m.settings.imap_folder.clone(),
        smtp: server(&m.settings.smtp),
        max_attachment_bytes: m.settings.max_attachment_bytes,
        sender_limit_per_hour: m.settings.sender_limit_per_hour,
        active: m.settings.active,
        last_polled_at: m.last_polled_at.map(rfc3339),
        last_error: m.last_error.clone(),
        last_uid: m.last_uid,
        tls_ca: m.settings.tls_ca.is_some(),
    }
}

/// A stored mail the actor may see: staff who may read its ticket; mail on no ticket only
/// administrators.
pub async fn mail_for(store: &Store, actor: &Actor, id: i64) -> Result<MailRecord, ApiError> {
    actor.authorize(Action::ReadInternal)?;
    let mail = store.mail(id).await?;
    match mail.ticket_id {
        Some(ticket) => {
            super::ticket_for(store, actor, ticket).await?;
        }
        None => actor.authorize(Action::Administer)?,
    }
    Ok(mail)
}

/// Every mailbox (administrators).
pub async fn mailboxes(ctx: &Ctx<'_>) -> Result<Vec<Mailbox>, ApiError> {
    ctx.authorize(Action::Administer)?;
    Ok(ctx.store.mailboxes().await?)
}

/// One mailbox (administrators).
pub async fn mailbox(ctx: &Ctx<'_>, id: i64) -> Result<Mailbox, ApiError> {
    ctx.authorize(Action::Administer)?;
    Ok(ctx.store.mailbox(id).await?)
}

/// Takes in one raw message as if it had arrived in mailbox `id` (administrators).
pub async fn hand_in(ctx: &Ctx<'_>, id: i64, raw: Vec<u8>) -> Result<Received, ApiError> {
    let mailbox = mailbox(ctx, id).await?;
    ingest(ctx, &mailbox, raw).await
}

/// The newest mail in and out, of one mailbox or all, 1–200 of it (administrators).
pub async fn recent_mail(
    ctx: &Ctx<'_>,
    mailbox: Option<i64>,
    limit: Option<i64>,
) -> Result<Vec<MailRecord>, ApiError> {
    ctx.authorize(Action::Administer)?;
    let limit = limit.unwrap_or(50).clamp(1, 200);
    Ok(ctx.store.recent_mail(mailbox, limit).await?)
}

/// The kept source of a mail (whoever may read the mail).
pub async fn mail_source(ctx: &Ctx<'_>, id: i64) -> Result<Vec<u8>, ApiError> {
    if let Some(actor) = ctx.actor() {
        mail_for(ctx.store, actor, id).await?;
    }
    ctx.store
        .mail_source(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, "the source of this mail was not kept"))
}

/// The mail templates in force (administrators).
pub async fn templates(ctx: &Ctx<'_>) -> Result<Vec<TemplateOut>, ApiError> {
    ctx.authorize(Action::Administer)?;
    templates_out(ctx.store).await
}

/// An organisation's mail domains (administrators).
pub async fn org_domains(ctx: &Ctx<'_>, org_id: i64) -> Result<Vec<String>, ApiError> {
    ctx.authorize(Action::Administer)?;
    ctx.store.org(org_id).await?;
    Ok(ctx.store.org_domains(org_id).await?)
}

/// Creates the mailbox named in `input`, or changes the one of that name (administrators).
pub async fn save_mailbox(ctx: &Ctx<'_>, input: &MailboxIn) -> Result<Mailbox, ApiError> {
    ctx.authorize(Action::Administer)?;
    match ctx.store.mailbox_by_name(input.name.trim()).await? {
        Some(existing) => update_mailbox(ctx, existing.id, input).await,
        None => create_mailbox(ctx, input).await,
    }
}

/// Every organisation's name with its mail domains, comma-separated (administrators).
pub async fn domains_by_org(ctx: &Ctx<'_>) -> Result<Vec<(String, String)>, ApiError> {
    ctx.authorize(Action::Administer)?;
    let mut out = Vec::new();
    for org in ctx.store.orgs().await? {
        let domains = ctx.store.org_domains(org.id).await?.join(", ");
        out.push((org.name, domains));
    }
    Ok(out)
}

/// A ticket's attachments as stored (anyone who may read the ticket).
pub async fn attachments(ctx: &Ctx<'_>, ticket: i64) -> Result<Vec<Attachment>, ApiError> {
    super::readable_ticket(ctx, ticket).await?;
    Ok(ctx.store.attachments(ticket).await?)
}
