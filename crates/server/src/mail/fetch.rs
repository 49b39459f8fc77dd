//! Fetching a mailbox over IMAP (TLS, STARTTLS or plain): every message above the stored UID,
//! in batches, each message committed with its UID before the next is read; and watching it
//! with IDLE so new mail is fetched at once.
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

/// A signed-in IMAP session.
type Session = async_imap::Session<Box<dyn Io>>;

/// Connects and signs in to the mailbox's IMAP server.
async fn open(server: &ServerSettings, trusted: Option<&str>) -> Result<Session, String> {
    let stream = tokio::time::timeout(TIMEOUT, connect(server, trusted))
        .await
        .map_err(|_| {
            format!(
                "IMAP {}:{}: no answer within a minute",
                server.host, server.port
            )
        })??;
    Client::new(stream)
        .login(&server.user, &server.password)
        .await
        .map_err(|(e, _)| format!("IMAP login as '{}' refused: {e}", server.user))
}

/// Why a watch ended.
#[derive(Debug)]
pub enum Unwatched {
    /// The server does not offer IDLE: polling alone must do.
    NoIdle,
    /// The connection failed; try again later.
    Failed(String),
}

/// Holds an IMAP IDLE connection on the mailbox's folder and makes the mailbox due for a
/// poll ([`Store::poll_soon`]) whenever the server reports a change, so new mail is taken in
/// within a second instead of at the next poll. Returns only when the connection ends.
pub async fn watch(store: &Store, mailbox: &Mailbox) -> Unwatched {
    let Some(server) = &mailbox.settings.imap else {
        return Unwatched::NoIdle;
    };
    let mut session = match open(server, mailbox.settings.tls_ca.as_deref()).await {
        Ok(session) => session,
        Err(e) => return Unwatched::Failed(e),
    };
    match session.capabilities().await {
        Ok(caps) if caps.has_str("IDLE") => {}
        Ok(_) => return Unwatched::NoIdle,
        Err(e) => return Unwatched::Failed(e.to_string()),
    }
    if let Err(e) = session.select(&mailbox.settings.imap_folder).await {
        return Unwatched::Failed(e.to_string());
    }
    loop {
        // Whatever arrived before IDLE began is taken by the poll this asks for.
        if let Err(e) = store.poll_soon(mailbox.id).await {
            return Unwatched::Failed(e.to_string());
        }
        let mut idle = session.idle();
        if let Err(e) = idle.init().await {
            return Unwatched::Failed(e.to_string());
        }
        // Servers drop an IDLE after 30 minutes; renew it before.
        let (wait, stop) = idle.wait_with_timeout(Duration::from_secs(25 * 60));
        let waited = wait.await;
        drop(stop);
        if let Err(e) = waited {
            return Unwatched::Failed(e.to_string());
        }
        session = match idle.done().await {
            Ok(session) => session,
            Err(e) => return Unwatched::Failed(e.to_string()),
        };
    }
}

/// Polls `mailbox` once.
pub async fn poll(store: &Store, mailbox: &Mailbox) -> Result<Polled, String> {
    let Some(server) = &mailbox.settings.imap else {
        return Ok(Polled::default());
    };
    let mut session = open(server, mailbox.settings.tls_ca.as_deref()).await?;
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
    // One round trip for every waiting message's size, then bodies in batches.
    let listed: Vec<_> = session
        .uid_fetch(format!("{}:*", last_uid + 1), "(UID RFC822.SIZE)")
        .await
        .map_err(|e| format!("IMAP fetch sizes: {e}"))?
        .try_collect()
        .await
        .map_err(|e| format!("IMAP fetch sizes: {e}"))?;
    let mut waiting: Vec<(u32, u32)> = listed
        .iter()
        .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
        .filter(|(uid, _)| i64::from(*uid) > last_uid)
        .collect();
    drop(listed);
    waiting.sort_unstable();
    let more = waiting.len() > PER_POLL;
    waiting.truncate(PER_POLL);
    let mut taken = 0;
    for batch in batches(&waiting) {
        let set = batch
            .iter()
            .map(|(uid, _)| uid.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let too_large = batch.len() == 1 && batch[0].1 > MAX_MESSAGE_BYTES;
        let part = if too_large {
            "(UID BODY.PEEK[HEADER])"
        } else {
            "(UID BODY.PEEK[])"
        };
        let mut fetched: Vec<_> = session
            .uid_fetch(&set, part)
            .await
            .map_err(|e| format!("IMAP fetch {set}: {e}"))?
            .try_collect()
            .await
            .map_err(|e| format!("IMAP fetch {set}: {e}"))?;
        for &(uid, size) in batch {
            // Take each body out as it is stored, so the batch's memory shrinks as it goes.
            let raw = fetched
                .iter_mut()
                .position(|f| f.uid == Some(uid))
                .map(|i| fetched.swap_remove(i))
                .and_then(|f| f.body().or_else(|| f.header()).map(<[u8]>::to_vec))
                .unwrap_or_default();
            let inbound = if too_large {
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
        }
        drop(fetched);
        // Cosmetic for people who also read the mailbox: the cursor already moved.
        let flagged: Result<Vec<_>, _> = match session.uid_store(&set, "+FLAGS (\\Seen)").await {
            Ok(stream) => stream.try_collect().await,
            Err(e) => Err(e),
        };
        if let Err(e) = flagged {
            tracing::debug!(%set, error = %e, "could not flag fetched messages as seen");
        }
    }
    let _ = session.logout().await;
    Ok(Polled { taken, more })
}

async fn connect(server: &ServerSettings, trusted: Option<&str>) -> Result<Box<dyn Io>, String> {
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
            let tls = tls(&server.host, tcp, trusted).await?;
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
            Ok(Box::new(tls(&server.host, tcp, trusted).await?))
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

/// The certificates in a PEM text, refused with a reason when there are none or one is bad.
pub fn trusted_certificates(
    pem: &str,
) -> Result<Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>, String> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let certs = tokio_rustls::rustls::pki_types::CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate found (expected -----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certs)
}

async fn tls(
    host: &str,
    tcp: TcpStream,
    trusted: Option<&str>,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = trusted {
        for cert in trusted_certificates(pem)? {
            roots
                .add(cert)
                .map_err(|e| format!("the mailbox's certificate: {e}"))?;
        }
    }
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

/// Most bytes fetched in one batch (a larger message is fetched alone).
const BATCH_BYTES: u64 = 8 * 1024 * 1024;
/// Most messages fetched in one batch.
const BATCH_COUNT: usize = 50;

/// Consecutive runs of (uid, size) of at most [`BATCH_COUNT`] messages and [`BATCH_BYTES`]
/// bytes; a message above the byte budget, or above [`MAX_MESSAGE_BYTES`], is a batch alone.
fn batches(waiting: &[(u32, u32)]) -> Vec<&[(u32, u32)]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0u64;
    for (i, &(_, size)) in waiting.iter().enumerate() {
        let size = u64::from(size);
        let alone = size > BATCH_BYTES || size > u64::from(MAX_MESSAGE_BYTES);
        if i > start && (alone || bytes + size > BATCH_BYTES || i - start >= BATCH_COUNT) {
            out.push(&waiting[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += size;
        if alone {
            out.push(&waiting[start..=i]);
            start = i + 1;
            bytes = 0;
        }
    }
    if start < waiting.len() {
        out.push(&waiting[start..]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_bytes_and_lone_large_messages() {
        let small: Vec<(u32, u32)> = (1..=120).map(|uid| (uid, 1000)).collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [50, 50, 20]);

        let mixed = [
            (1, 1000),
            (2, 30 * 1024 * 1024),
            (3, 1000),
            (4, 5 * 1024 * 1024),
            (5, 5 * 1024 * 1024),
        ];
        let uids: Vec<Vec<u32>> = batches(&mixed)
            .iter()
            .map(|b| b.iter().map(|(u, _)| *u).collect())
            .collect();
        assert_eq!(uids, [vec![1], vec![2], vec![3, 4], vec![5]]);
        assert!(batches(&[]).is_empty());
    }
}
