//! `mail-intake`: a real Dovecot holds `--messages` messages in a mailbox; the real `opsdesk
//! serve` fetches them over IMAP and turns them into tickets. Reports messages per second, and
//! the server's peak resident memory before and after `--large` messages of `--large-mb` MB
//! each (the fetcher holds one message at a time, so the peak should grow by about one
//! message's worth, not by all of them).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use opsdesk_server::app::Ctx;
use opsdesk_server::app::{self, Operator};
use opsdesk_server::wire::mail::{MailboxIn, ServerIn};
use opsdesk_store::Store;

use crate::{ensure_desk, fail, open, start, Failure, Target};

/// Stops Dovecot when the run ends.
struct Dovecot(Child);

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the scenario.
pub async fn intake(
    target: &Target,
    messages: usize,
    large: usize,
    large_mb: usize,
) -> Result<(), Failure> {
    let root = std::env::temp_dir().join(format!("opsdesk-bench-mail-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let maildir = root.join("mail/bench");
    for dir in [
        "run",
        "state",
        "home",
        "mail/bench/new",
        "mail/bench/cur",
        "mail/bench/tmp",
    ] {
        std::fs::create_dir_all(root.join(dir))?;
    }
    for dir in [
        "mail",
        "home",
        "mail/bench",
        "mail/bench/new",
        "mail/bench/cur",
        "mail/bench/tmp",
    ] {
        std::fs::set_permissions(root.join(dir), std::fs::Permissions::from_mode(0o777))?;
    }
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0")?;
        probe.local_addr()?.port()
    };
    std::fs::write(root.join("dovecot.conf"), dovecot_config(&root, port))?;
    let _dovecot = Dovecot(
        Command::new("/usr/sbin/dovecot")
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                fail(format!(
                    "cannot run Dovecot (apt-get install dovecot-imapd): {e}"
                ))
            })?,
    );
    let begun = Instant::now();
    for i in 0..messages {
        write_message(&maildir, i, &small(i))?;
    }
    println!(
        "{messages} messages written to the maildir in {:.1} s",
        begun.elapsed().as_secs_f64()
    );

    let store = open(target).await?;
    ensure_desk(&store).await?;
    let now = Timestamp::now();
    let input = MailboxIn {
        name: format!("bench-{}", now.as_millisecond()),
        address: format!("bench-{}@desk.example", now.as_millisecond()),
        display_name: None,
        team: "Service Desk".into(),
        imap: Some(ServerIn {
            host: "127.0.0.1".into(),
            port: Some(port),
            security: Some("none".into()),
            user: "bench".into(),
            password: "secret".into(),
        }),
        folder: None,
        smtp: None,
        max_attachment_bytes: Some(64 * 1024 * 1024),
        sender_limit_per_hour: Some(100_000),
        active: Some(true),
        tls_ca: None,
    };
    let mailbox = app::mail::create_mailbox(&Ctx::new(&store, Operator::Console, now), &input)
        .await
        .map_err(|e| fail(e.detail))?;
    let server = start(target).await?;
    let pid = server.child.id();
    let started = Instant::now();
    wait_for(&store, mailbox.id, messages as i64).await?;
    let elapsed = started.elapsed();
    println!(
        "mail intake over IMAP: {messages} messages in {:.2} s = {:.0} messages/s (each a new ticket with a new contact)",
        elapsed.as_secs_f64(),
        messages as f64 / elapsed.as_secs_f64()
    );
    let before = peak_rss_mb(pid)?;
    println!("server peak RSS after the small messages: {before:.0} MB");

    if large > 0 {
        let message = big(large_mb);
        for i in 0..large {
            write_message(
                &maildir,
                messages + i,
                &message.replace("{n}", &i.to_string()),
            )?;
        }
        drop(message);
        store.poll_soon(mailbox.id).await?;
        let started = Instant::now();
        wait_for(&store, mailbox.id, (messages + large) as i64).await?;
        let after = peak_rss_mb(pid)?;
        println!(
            "{large} messages of {large_mb} MB in {:.1} s; server peak RSS {after:.0} MB (+{:.0} MB)",
            started.elapsed().as_secs_f64(),
            after - before
        );
    }
    let error = store.mailbox(mailbox.id).await?.last_error;
    if let Some(error) = error {
        println!("last poll error: {error}");
    }
    store.close().await;
    drop(server);
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}

async fn wait_for(store: &Store, mailbox: i64, uid: i64) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(1800);
    while Instant::now() < deadline {
        let m = store.mailbox(mailbox).await?;
        if m.last_uid >= uid {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(fail(format!(
        "the mailbox did not reach UID {uid} in 30 minutes"
    )))
}

fn write_message(maildir: &Path, i: usize, text: &str) -> Result<(), Failure> {
    let path = maildir.join("new").join(format!("1790000000.{i}.bench"));
    std::fs::write(&path, text)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666))?;
    Ok(())
}

/// A typical customer message: one of 500 senders, a subject, ~1 KB of text.
fn small(i: usize) -> String {
    let paragraph = "The export to CSV stops at 10,000 rows and the download shows an error page. \
                     We tried two browsers and cleared the cache; it happens for every report. ";
    format!(
        "From: Customer {s} <customer{s}@example{d}.com>\r\nTo: support@desk.example\r\n\
         Subject: Export fails on report {i}\r\nMessage-ID: <bench-{i}@example.com>\r\n\
         Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\n{}\r\nThanks\r\n",
        paragraph.repeat(6),
        s = i % 500,
        d = i % 7,
    )
}

/// A message of about `mb` MB: a short text and one base64 attachment.
fn big(mb: usize) -> String {
    let line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n";
    let lines = mb * 1024 * 1024 / line.len();
    let mut out = String::with_capacity(mb * 1024 * 1024 + 1024);
    out.push_str(
        "From: Big Sender <big@example.com>\r\nTo: support@desk.example\r\n\
         Subject: Full disk image {n}\r\nMessage-ID: <bench-big-{n}@example.com>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nThe image is attached.\r\n\
         --b\r\nContent-Type: application/octet-stream; name=\"disk.img\"\r\n\
         Content-Disposition: attachment; filename=\"disk.img\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n",
    );
    for _ in 0..lines {
        out.push_str(line);
    }
    out.push_str("--b--\r\n");
    out
}

/// The process's peak resident memory (VmHWM), in MiB.
pub(crate) fn peak_rss_mb(pid: u32) -> Result<f64, Failure> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| fail("no VmHWM in /proc/PID/status"))?;
    Ok(kb / 1024.0)
}

fn dovecot_config(root: &Path, port: u16) -> String {
    let root = root.display();
    format!(
        "base_dir = {root}/run\nstate_dir = {root}/state\nlog_path = {root}/dovecot.log\n\
         instance_name = opsdesk-bench-{port}\nprotocols = imap\nlisten = 127.0.0.1\nssl = no\n\
         disable_plaintext_auth = no\nauth_mechanisms = plain\nmail_location = maildir:{root}/mail/%u\n\
         first_valid_uid = 1\npassdb {{\n  driver = static\n  args = password=secret\n}}\n\
         userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={root}/home/%u\n}}\n\
         service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
         inet_listener imaps {{\n    port = 0\n  }}\n}}\n"
    )
}
