//! Real mail servers on loopback for the mail tests: Dovecot (IMAP, Debian's
//! `dovecot-imapd`) holding the mailboxes opsdesk polls, and aiosmtpd (SMTP, from PyPI)
//! receiving what opsdesk sends. `scripts/test` installs both. Each test starts its own pair
//! on free ports in a temporary directory; they stop when the test ends.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills a server process when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// An IMAP server and an SMTP server.
pub struct MailServers {
    /// Dovecot's IMAP port (plain, any user, password `secret`).
    pub imap_port: u16,
    /// aiosmtpd's port (AUTH as `desk` / `secret`).
    pub smtp_port: u16,
    /// Dovecot's IMAPS port (TLS from the first byte), when started with TLS.
    pub imaps_port: u16,
    /// The test CA that signed both servers' certificate (PEM), when started with TLS.
    pub ca_pem: String,
    sent_dir: PathBuf,
    _smtp: Running,
    _imap: Running,
    _dir: tempfile::TempDir,
}

impl MailServers {
    /// Starts both and waits until they answer.
    pub async fn start() -> Self {
        Self::start_with(false).await
    }

    /// Starts both with TLS: IMAPS beside plain IMAP, and SMTP requiring STARTTLS; their
    /// certificate (for 127.0.0.1) is signed by a CA made for the test ([`Self::ca_pem`]).
    pub async fn start_tls() -> Self {
        Self::start_with(true).await
    }

    async fn start_with(tls: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        for sub in ["run", "state", "mail", "home"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        for open in ["mail", "home"] {
            std::fs::set_permissions(root.join(open), std::fs::Permissions::from_mode(0o777))
                .unwrap();
        }
        let imap_port = free_port();
        let imaps_port = if tls { free_port() } else { 0 };
        let ca_pem = if tls {
            make_certificates(&root)
        } else {
            String::new()
        };
        let config = root.join("dovecot.conf");
        std::fs::write(&config, dovecot_config(&root, imap_port, imaps_port)).unwrap();
        let dovecot = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or_else(|| {
                panic!("Dovecot is not installed: run scripts/test (it installs dovecot-imapd)")
            });
        let imap = Running(
            Command::new(dovecot)
                .arg("-F")
                .arg("-c")
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let smtp_port = free_port();
        let sent_dir = root.join("sent");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_sink.py");
        let mut command = Command::new("python3");
        command
            .arg(script)
            .arg(smtp_port.to_string())
            .arg(&sent_dir);
        if tls {
            command
                .arg(root.join("server.pem"))
                .arg(root.join("server.key"));
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let smtp = Running(child);
        let ready = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            line
        })
        .await
        .unwrap();
        assert_eq!(
            ready.trim(),
            "ready",
            "the SMTP server did not start (is aiosmtpd installed? scripts/test installs it)"
        );
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", imap_port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            imap_port,
            smtp_port,
            imaps_port,
            ca_pem,
            sent_dir,
            _smtp: smtp,
            _imap: imap,
            _dir: dir,
        }
    }

    /// Puts `raw` into `user`'s INBOX with IMAP APPEND, as a mail server's delivery would.
    pub async fn deliver(&self, user: &str, raw: &[u8]) {
        let mut session = self.login(user).await;
        session.append("INBOX", None, None, raw).await.unwrap();
        session.logout().await.unwrap();
    }

    /// The flags of every message in `user`'s INBOX, by UID.
    pub async fn flags(&self, user: &str) -> Vec<(u32, String)> {
        use futures_util::TryStreamExt;
        let mut session = self.login(user).await;
        session.select("INBOX").await.unwrap();
        let fetched: Vec<_> = session
            .uid_fetch("1:*", "(UID FLAGS)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut out: Vec<(u32, String)> = fetched
            .iter()
            .map(|f| {
                (
                    f.uid.unwrap_or(0),
                    f.flags()
                        .map(|flag| format!("{flag:?}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            })
            .collect();
        out.sort();
        session.logout().await.unwrap();
        out
    }

    async fn login(
        &self,
        user: &str,
    ) -> async_imap::Session<tokio::io::BufReader<tokio::net::TcpStream>> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .unwrap();
        let mut client = async_imap::Client::new(tokio::io::BufReader::new(tcp));
        client.read_response().await.unwrap();
        client
            .login(user, "secret")
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    /// The messages the SMTP server received, once there are at least `count` (waits 20 s).
    pub async fn sent(&self, count: usize) -> Vec<Vec<u8>> {
        let new = self.sent_dir.join("new");
        for _ in 0..200 {
            let mut files: Vec<_> = std::fs::read_dir(&new)
                .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
                .unwrap_or_default();
            if files.len() >= count {
                files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
                return files.iter().map(|p| std::fs::read(p).unwrap()).collect();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the SMTP server did not receive {count} message(s) within 20 s");
    }

    /// How many messages the SMTP server received so far.
    pub fn sent_now(&self) -> usize {
        std::fs::read_dir(self.sent_dir.join("new"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

/// A CA and a server certificate for 127.0.0.1 signed by it (`server.pem`, `server.key` in
/// `root`); answers the CA's PEM.
fn make_certificates(root: &Path) -> String {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(root)
            .output()
            .unwrap_or_else(|e| panic!("openssl is needed for the TLS tests: {e}"));
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec[..],
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=opsdesk test CA",
        ][..],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec[..],
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ][..],
    ]
    .concat());
    std::fs::write(
        root.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    for key in ["server.key", "server.pem"] {
        std::fs::set_permissions(root.join(key), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::read_to_string(root.join("ca.pem")).unwrap()
}

fn dovecot_config(root: &Path, port: u16, imaps: u16) -> String {
    let root = root.display();
    // Dovecot refuses to run mail processes as root; use the dovecot user when we are root.
    let user = whoami();
    let who = if user == "root" {
        "uid=dovecot gid=dovecot".to_owned()
    } else {
        format!("uid={user}")
    };
    let ssl = if imaps > 0 {
        format!("ssl = yes\nssl_cert = <{root}/server.pem\nssl_key = <{root}/server.key\n")
    } else {
        "ssl = no\n".to_owned()
    };
    format!(
        r#"{ssl}base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = opsdesk-test-{port}
protocols = imap
listen = 127.0.0.1
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 1
passdb {{
  driver = static
  args = password=secret
}}
userdb {{
  driver = static
  args = {who} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"#
    )
}

fn whoami() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
