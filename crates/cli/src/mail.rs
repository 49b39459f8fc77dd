//! `opsdesk mailbox …`, `opsdesk mail ingest|log` and `opsdesk org domains`.

use std::io::Read;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use jiff::Timestamp;
use opsdesk_server::app::mail as app;
use opsdesk_server::app::Ctx;
use opsdesk_server::app::Operator;
use opsdesk_server::wire::mail::{MailboxIn, ServerIn};
use opsdesk_store::Store;

use crate::{print_rows, Failure, FormatArg};

/// Mailboxes.
#[derive(Debug, Subcommand)]
pub enum MailboxCommand {
    /// Create a mailbox (passwords from OPSDESK_IMAP_PASSWORD and OPSDESK_SMTP_PASSWORD).
    Create(MailboxArgs),
    /// Change a mailbox (named by --name); empty passwords keep the stored ones.
    Update(MailboxArgs),
    /// List mailboxes with their fetch state.
    List(FormatArg),
    /// Poll a mailbox at the server's next turn instead of its usual interval.
    Fetch {
        /// Mailbox name.
        name: String,
    },
}

/// A mailbox's settings on the command line.
#[derive(Debug, Args)]
pub struct MailboxArgs {
    /// Unique name.
    #[arg(long)]
    name: String,
    /// The address customers write to.
    #[arg(long)]
    address: String,
    /// The team new tickets go to.
    #[arg(long)]
    team: String,
    /// The name shown beside the address.
    #[arg(long)]
    display_name: Option<String>,
    /// IMAP host (none: fed by `mail ingest` only).
    #[arg(long)]
    imap_host: Option<String>,
    /// IMAP port (default 993 for tls, else 143).
    #[arg(long)]
    imap_port: Option<u16>,
    /// tls, starttls or none.
    #[arg(long)]
    imap_security: Option<String>,
    /// IMAP login.
    #[arg(long, default_value = "")]
    imap_user: String,
    /// IMAP password.
    #[arg(
        long,
        env = "OPSDESK_IMAP_PASSWORD",
        hide_env_values = true,
        default_value = ""
    )]
    imap_password: String,
    /// IMAP folder.
    #[arg(long)]
    folder: Option<String>,
    /// SMTP host (none: sends nothing).
    #[arg(long)]
    smtp_host: Option<String>,
    /// SMTP port (default 465 for tls, 587 for starttls, 25 for none).
    #[arg(long)]
    smtp_port: Option<u16>,
    /// tls, starttls or none.
    #[arg(long)]
    smtp_security: Option<String>,
    /// SMTP login (empty: no authentication).
    #[arg(long, default_value = "")]
    smtp_user: String,
    /// SMTP password.
    #[arg(
        long,
        env = "OPSDESK_SMTP_PASSWORD",
        hide_env_values = true,
        default_value = ""
    )]
    smtp_password: String,
    /// Attachments above this many bytes are recorded as rejected.
    #[arg(long)]
    max_attachment_bytes: Option<i64>,
    /// Messages per sender and hour before mail is held.
    #[arg(long)]
    sender_limit_per_hour: Option<i64>,
    /// Whether it is polled and sends.
    #[arg(long)]
    active: Option<bool>,
    /// A PEM file with a certificate to trust for the mailbox's servers (private CA or
    /// self-signed server), besides the public roots.
    #[arg(long)]
    tls_ca: Option<PathBuf>,
}

impl MailboxArgs {
    fn wire(&self) -> Result<MailboxIn, Failure> {
        let tls_ca = match &self.tls_ca {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?,
            ),
            None => None,
        };
        let server =
            |host: &Option<String>, port, security: &Option<String>, user: &str, password: &str| {
                host.as_ref().map(|host| ServerIn {
                    host: host.clone(),
                    port,
                    security: security.clone(),
                    user: user.to_owned(),
                    password: password.to_owned(),
                })
            };
        Ok(MailboxIn {
            name: self.name.clone(),
            address: self.address.clone(),
            display_name: self.display_name.clone(),
            team: self.team.clone(),
            imap: server(
                &self.imap_host,
                self.imap_port,
                &self.imap_security,
                &self.imap_user,
                &self.imap_password,
            ),
            folder: self.folder.clone(),
            smtp: server(
                &self.smtp_host,
                self.smtp_port,
                &self.smtp_security,
                &self.smtp_user,
                &self.smtp_password,
            ),
            max_attachment_bytes: self.max_attachment_bytes,
            sender_limit_per_hour: self.sender_limit_per_hour,
            active: self.active,
            tls_ca,
        })
    }
}

/// Mail in and out.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Take in one message (RFC 822) from a file or standard input, as an MTA's delivery
    /// command: `opsdesk mail ingest --mailbox support < message.eml`.
    Ingest {
        /// Mailbox name.
        #[arg(long)]
        mailbox: String,
        /// The message file (default: standard input).
        file: Option<PathBuf>,
    },
    /// The newest mail in and out with its state.
    Log {
        /// Only this mailbox's.
        #[arg(long)]
        mailbox: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Output format.
        #[command(flatten)]
        format: FormatArg,
    },
}

/// Runs a `mailbox` verb.
pub async fn mailbox(
    store: &Store,
    command: &MailboxCommand,
    now: Timestamp,
) -> Result<(), Failure> {
    match command {
        MailboxCommand::Create(args) => {
            let m = app::create_mailbox(&Ctx::new(store, Operator::Console, now), &args.wire()?)
                .await?;
            println!(
                "created mailbox {} <{}> (id {})",
                m.settings.name, m.settings.address, m.id
            );
            Ok(())
        }
        MailboxCommand::Update(args) => {
            let existing = app::mailbox_named(store, &args.name).await?;
            let m = app::update_mailbox(
                &Ctx::new(store, Operator::Console, now),
                existing.id,
                &args.wire()?,
            )
            .await?;
            println!("updated mailbox {} (id {})", m.settings.name, m.id);
            Ok(())
        }
        MailboxCommand::List(f) => {
            let rows: Vec<_> = store
                .mailboxes()
                .await?
                .iter()
                .map(app::mailbox_out)
                .collect();
            print_rows(
                f.format,
                &rows,
                &[
                    "id",
                    "name",
                    "address",
                    "team",
                    "imap",
                    "smtp",
                    "last_polled_at",
                    "last_error",
                ],
                |m| {
                    let server = |s: &Option<opsdesk_server::wire::mail::ServerOut>| {
                        s.as_ref()
                            .map(|s| format!("{}:{} ({})", s.host, s.port, s.security))
                            .unwrap_or_else(|| "-".into())
                    };
                    vec![
                        m.id.to_string(),
                        m.name.clone(),
                        m.address.clone(),
                        m.team.clone(),
                        server(&m.imap),
                        server(&m.smtp),
                        m.last_polled_at.clone().unwrap_or_else(|| "-".into()),
                        m.last_error.clone().unwrap_or_default(),
                    ]
                },
            )
        }
        MailboxCommand::Fetch { name } => {
            let m = app::mailbox_named(store, name).await?;
            app::fetch_now(store, Operator::Console, m.id).await?;
            println!(
                "mailbox {} will be polled at the server's next turn",
                m.settings.name
            );
            Ok(())
        }
    }
}

/// Runs a `mail` verb.
pub async fn mail(store: &Store, command: &MailCommand, now: Timestamp) -> Result<(), Failure> {
    match command {
        MailCommand::Ingest { mailbox, file } => {
            let mailbox = app::mailbox_named(store, mailbox).await?;
            let raw = match file {
                Some(path) => std::fs::read(path)
                    .map_err(|e| Failure(format!("cannot read {}: {e}", path.display())))?,
                None => {
                    let mut raw = Vec::new();
                    std::io::stdin()
                        .lock()
                        .read_to_end(&mut raw)
                        .map_err(|e| Failure(format!("cannot read standard input: {e}")))?;
                    raw
                }
            };
            let received =
                app::ingest(&Ctx::new(store, Operator::Console, now), &mailbox, raw).await?;
            let out = app::intake_out(&received);
            match (out.ticket_id, out.reason) {
                (Some(ticket), _) => println!("{} #{ticket} (mail {})", out.outcome, out.mail_id),
                (None, Some(reason)) => {
                    println!("{}: {reason} (mail {})", out.outcome, out.mail_id)
                }
                (None, None) => println!("{} (mail {})", out.outcome, out.mail_id),
            }
            Ok(())
        }
        MailCommand::Log {
            mailbox,
            limit,
            format,
        } => {
            let mailbox = match mailbox {
                Some(name) => Some(app::mailbox_named(store, name).await?.id),
                None => None,
            };
            let mail = store.recent_mail(mailbox, (*limit).clamp(1, 1000)).await?;
            let rows: Vec<_> = mail.iter().map(app::mail_out).collect();
            print_rows(
                format.format,
                &rows,
                &[
                    "id",
                    "direction",
                    "state",
                    "from",
                    "to",
                    "subject",
                    "ticket",
                    "reason",
                ],
                |m| {
                    vec![
                        m.id.to_string(),
                        m.direction.clone(),
                        m.state.clone(),
                        m.from.clone(),
                        m.to.clone(),
                        m.subject.clone(),
                        m.ticket_id.map(|t| format!("#{t}")).unwrap_or_default(),
                        m.reason.clone().unwrap_or_default(),
                    ]
                },
            )
        }
    }
}

/// Sets an organisation's mail domains.
pub async fn org_domains(
    store: &Store,
    name: &str,
    domains: &[String],
    now: Timestamp,
) -> Result<(), Failure> {
    let org = store
        .org_by_name(name)
        .await?
        .ok_or_else(|| Failure(format!("no organisation named '{name}'")))?;
    let set =
        app::set_org_domains(&Ctx::new(store, Operator::Console, now), org.id, domains).await?;
    println!(
        "{}: {}",
        org.name,
        if set.is_empty() {
            "no mail domains".into()
        } else {
            set.join(", ")
        }
    );
    Ok(())
}
