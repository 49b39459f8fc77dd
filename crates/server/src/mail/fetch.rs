//! Fetching a mailbox over IMAP (TLS, STARTTLS or plain): every message above the stored UID,
//! one at a time, each committed with its UID before the next is read.
//!
//! *One message never blocks a mailbox*: whatever it holds, it is stored (as a ticket, or as
//! unparseable or too large with its reason) and the cursor moves past it. A message is only
//! marked `\Seen` after its commit; a crash in between fetches it again, and the store records
//! it once.

use std::sync::Arc;
use std::time::Duration;

use async_imap::Client;
use futures_util::TryStreamExt;
use jiff::Timestamp;
use opsdesk_domain::mail::Security;
use opsdesk_store::{Inbound, Mailbox, ServerSettings, Store};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Messages taken per poll; the rest wait for the next one.
const PER_POLL: usize = 500;
/// A message larger than this is recorded from its header alone.
pub const MAX_MESSAGE_BYTES: u32 = 64 * 1024 * 1024;
/// How long one network step may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// What a connection is: plain TCP or TLS over it.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}

/// What a poll did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Polled {
    /// Messages taken in.
    pub taken: usize,
    /// Whether more are waiting.
    pub more: bool,
}

/// Polls `mailbox` once.
pub async fn poll(store: &Store, mailbox: &Mailbox) -> Result<Polled, String> {
    let Some(server) = &mailbox.settings.imap else {
        return Ok(Polled::default());
    };
    let stream = tokio::time::timeout(TIMEOUT, connect(server))
        .await
        .map_err(|_| {
            format!(
                "IMAP {}:{}: no answer within a minute",
                server.host, server.port
            )
        })??;
    let client = Client::new(stream);
    let mut session = client
        .login(&server.user, &server.password)
        .await
        .map_err(|(e, _)| format!("IMAP login as '{}' refused: {e}", server.user))?;
    let folder = session
        .select(&mailbox.settings.imap_folder)
        .await
        .map_err(|e| format!("IMAP folder '{}': {e}", mailbox.settings.imap_folder))?;
    let validity = i64::from(folder.uid_validity.unwrap_or(0));
    let mut last_uid = mailbox.last_uid;
    if mailbox.uid_validity != Some(validity) {
        store
            .reset_uid_validity(mailbox.id, validity)
            .await
            .map_err(|e| e.to_string())?;
        last_uid = 0;
    }
    let found = session
        .uid_search(format!("UID {}:*", last_uid + 1))
        .await
        .map_err(|e| format!("IMAP search: {e}"))?;
    let mut uids: Vec<u32> = found
        .into_iter()
        .filter(|uid| i64::from(*uid) > last_uid)
        .collect();
    uids.sort_unstable();
    let more = uids.len() > PER_POLL;
    uids.truncate(PER_POLL);
    let mut taken = 0;
    for uid in uids {
        let size = {
            let sizes: Vec<_> = session
                .uid_fetch(uid.to_string(), "(UID RFC822.SIZE)")
                .await
                .map_err(|e| format!("IMAP fetch {uid}: {e}"))?
                .try_collect()
                .await
                .map_err(|e| format!("IMAP fetch {uid}: {e}"))?;
            sizes.first().and_then(|f| f.size).unwrap_or(0)
        };
        let part = if size > MAX_MESSAGE_BYTES {
            "BODY.PEEK[HEADER]"
        } else {
            "BODY.PEEK[]"
        };
        let raw = {
            let fetched: Vec<_> = session
                .uid_fetch(uid.to_string(), part)
                .await
                .map_err(|e| format!("IMAP fetch {uid}: {e}"))?
                .try_collect()
                .await
                .map_err(|e| format!("IMAP fetch {uid}: {e}"))?;
            fetched
                .first()
                .and_then(|f| f.body().or_else(|| f.header()))
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        };
        let inbound = if size > MAX_MESSAGE_BYTES {
            Inbound::Unparseable {
                raw,
                reason: format!(
                    "the message is {size} bytes, over the {MAX_MESSAGE_BYTES}-byte limit; only its header was kept"
                ),
            }
        } else {
            super::parse::read(raw)
        };
        store
            .receive_mail(mailbox, inbound, Some(i64::from(uid)), Timestamp::now())
            .await
            .map_err(|e| format!("storing message {uid}: {e}"))?;
        taken += 1;
        // Cosmetic for people who also read the mailbox: the cursor already moved.
        let flagged: Result<Vec<_>, _> =
            match session.uid_store(uid.to_string(), "+FLAGS (\\Seen)").await {
                Ok(stream) => stream.try_collect().await,
                Err(e) => Err(e),
            };
        if let Err(e) = flagged {
            tracing::debug!(uid, error = %e, "could not flag a fetched message as seen");
        }
    }
    let _ = session.logout().await;
    Ok(Polled { taken, more })
}

async fn connect(server: &ServerSettings) -> Result<Box<dyn Io>, String> {
    let tcp = TcpStream::connect((server.host.as_str(), server.port))
        .await
        .map_err(|e| format!("IMAP {}:{}: {e}", server.host, server.port))?;
    match server.security {
        Security::None => {
            let mut reader = BufReader::new(tcp);
            greeting(&mut reader).await?;
            Ok(Box::new(reader))
        }
        Security::Tls => {
            let tls = tls(&server.host, tcp).await?;
            let mut reader = BufReader::new(tls);
            greeting(&mut reader).await?;
            Ok(Box::new(reader))
        }
        Security::StartTls => {
            let mut reader = BufReader::new(tcp);
            greeting(&mut reader).await?;
            reader
                .get_mut()
                .write_all(b"s0 STARTTLS\r\n")
                .await
                .map_err(|e| e.to_string())?;
            loop {
                let line = read_line(&mut reader).await?;
                if line.starts_with("s0 OK") {
                    break;
                }
                if line.starts_with("s0 ") {
                    return Err(format!("IMAP STARTTLS refused: {}", line.trim()));
                }
            }
            let tcp = reader.into_inner();
            Ok(Box::new(tls(&server.host, tcp).await?))
        }
    }
}

/// Reads the server's greeting, so the client starts at its first command.
async fn greeting<S: AsyncRead + Unpin>(reader: &mut BufReader<S>) -> Result<(), String> {
    let line = read_line(reader).await?;
    if line.starts_with("* OK") || line.starts_with("* PREAUTH") {
        Ok(())
    } else {
        Err(format!("IMAP server greeted with '{}'", line.trim()))
    }
}

async fn read_line<S: AsyncRead + Unpin>(reader: &mut BufReader<S>) -> Result<String, String> {
    let mut line = String::new();
    let n = reader
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    if n == 0 {
        return Err("the IMAP server closed the connection".into());
    }
    Ok(line)
}

async fn tls(
    host: &str,
    tcp: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_owned())
        .map_err(|e| format!("IMAP host '{host}': {e}"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("IMAP TLS with {host}: {e}"))
}
