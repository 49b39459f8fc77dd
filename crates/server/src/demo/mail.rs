//! A mailbox fed by hand-ins, mail domains and the mail that opened or joined tickets.

use super::*;

/// A mailbox fed by `mail ingest` (the demo reaches no mail server), the customers' mail
/// domains, and mail that opened tickets, replied with quoted history, brought an attachment,
/// was an out-of-office answer, and could not be read.
pub(super) async fn seed_mail(store: &Store, now: Timestamp) -> Result<(), ApiError> {
    let by = Operator::Console;
    let input = crate::wire::mail::MailboxIn {
        name: "Support".into(),
        address: "support@opsdesk.example".into(),
        display_name: Some("opsdesk Demo Support".into()),
        team: "Service Desk".into(),
        imap: None,
        folder: None,
        smtp: None,
        max_attachment_bytes: None,
        sender_limit_per_hour: None,
        active: Some(true),
        tls_ca: None,
    };
    let mailbox = app::mail::create_mailbox(&Ctx::new(store, by, now), &input).await?;
    for ((org, _), domain) in CUSTOMERS.iter().zip(["acme.example", "globex.example"]) {
        if let Some(found) = store.org_by_name(org).await? {
            app::mail::set_org_domains(&Ctx::new(store, by, now), found.id, &[domain.to_owned()])
                .await?;
        }
    }
    let first = "From: Carol Customer <carol@acme.example>\r\nTo: support@opsdesk.example\r\n\
        Subject: Label printer in bay 4 prints blank pages\r\nMessage-ID: <demo-1@acme.example>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nSince the driver update this morning the label \
        printer in bay 4 feeds blank labels. Log attached.\r\n\r\nCarol\r\n--b\r\n\
        Content-Type: text/plain; name=\"printer-log.txt\"\r\nContent-Disposition: attachment; \
        filename=\"printer-log.txt\"\r\n\r\n08:02 job 4411 sent\r\n08:02 ribbon sensor: no ribbon\r\n--b--\r\n";
    let opened = app::mail::ingest(
        &Ctx::new(store, by, now),
        &mailbox,
        first.as_bytes().to_vec(),
    )
    .await?;
    if let opsdesk_store::Intake::NewTicket(ticket) = opened.intake {
        let reply = format!(
            "From: Carol Customer <carol@acme.example>\r\nTo: support@opsdesk.example\r\n\
             Subject: Re: [#{ticket}] Label printer in bay 4 prints blank pages\r\n\
             Message-ID: <demo-2@acme.example>\r\nIn-Reply-To: <demo-1@acme.example>\r\n\
             References: <demo-1@acme.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             Bay 5 has the same problem now.\r\n\r\nOn Mon, 23 Nov 2026 at 08:10, Carol Customer \
             <carol@acme.example> wrote:\r\n> Since the driver update this morning the label printer\r\n\
             > in bay 4 feeds blank labels.\r\n"
        );
        app::mail::ingest(&Ctx::new(store, by, now), &mailbox, reply.into_bytes()).await?;
    }
    let unknown = "From: Zoe Driver <zoe@acme.example>\r\nTo: support@opsdesk.example\r\n\
        Subject: =?utf-8?q?Can=E2=80=99t_log_in_to_the_driver_app?=\r\nMessage-ID: <demo-3@acme.example>\r\n\
        MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n--a\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nThe app says my account is locked.\r\n--a\r\n\
        Content-Type: text/html; charset=utf-8\r\n\r\n<p>The app says my account is <b>locked</b>.</p>\r\n--a--\r\n";
    let out_of_office =
        "From: Dan Dispatcher <dan@acme.example>\r\nTo: support@opsdesk.example\r\n\
        Subject: Automatic reply: holiday\r\nMessage-ID: <demo-4@acme.example>\r\n\
        Auto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n";
    let broken = "To: support@opsdesk.example\r\nSubject: ???\r\n\r\n\u{1}\u{2}";
    for raw in [unknown, out_of_office, broken] {
        app::mail::ingest(&Ctx::new(store, by, now), &mailbox, raw.as_bytes().to_vec()).await?;
    }
    Ok(())
}
