//! The `opsdesk` binary as a user runs it: admin verbs and their exit codes, serving, crash
//! safety of accepted data, and two processes on one PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_opsdesk");

fn opsdesk(data: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .env("OPSDESK_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `opsdesk serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
    banner: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .args(args)
        .args(["--listen", "127.0.0.1:0", "serve"])
        .env("OPSDESK_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    let mut base = None;
    for _ in 0..20 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        banner.push_str(&line);
        if let Some(url) = line.trim().strip_prefix("opsdesk is running at ") {
            base = Some(url.trim_end_matches('/').to_owned());
            // Read the hint lines that follow without blocking on a live server.
            break;
        }
    }
    let base = base.unwrap_or_else(|| panic!("no URL in: {banner}"));
    std::thread::spawn(move || {
        let mut sink = String::new();
        while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {}
    });
    Server {
        child,
        base,
        banner,
    }
}

fn setup_admin(data: &Path) -> String {
    assert!(opsdesk(
        data,
        &["team", "create", "--name", "Desk", "--tier", "L1"],
        ""
    )
    .status
    .success());
    let created = opsdesk(
        data,
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--role",
            "admin",
        ],
        "correct-horse-battery\n",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    let token = opsdesk(data, &["token", "create", "--email", "ada@example.com"], "");
    assert!(token.status.success());
    text(&token.stdout).trim().to_owned()
}

async fn create_ticket(base: &str, token: &str, subject: &str) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v1/tickets"))
        .bearer_auth(token)
        .json(&json!({"subject": subject, "body": "b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    response.json().await.unwrap()
}

async fn list_subjects(base: &str, token: &str) -> Vec<String> {
    let page: Value = reqwest::Client::new()
        .get(format!(
            "{base}/api/v1/tickets?status=all&sort=oldest&limit=200"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn admin_verbs_succeed_and_refuse_bad_input_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let org = opsdesk(data, &["org", "create", "--name", "Acme"], "");
    assert!(org.status.success(), "{}", text(&org.stderr));
    let customer = opsdesk(
        data,
        &[
            "user",
            "create",
            "--email",
            "carol@acme.example",
            "--name",
            "Carol",
            "--role",
            "customer",
            "--org",
            "Acme",
        ],
        "",
    );
    assert!(customer.status.success());
    assert!(
        text(&customer.stdout).contains("password (shown once): "),
        "a generated password is printed once"
    );

    let duplicate = opsdesk(
        data,
        &[
            "user",
            "create",
            "--email",
            "CAROL@acme.example",
            "--name",
            "C",
            "--role",
            "customer",
        ],
        "x-long-password\n",
    );
    assert_eq!(duplicate.status.code(), Some(1));
    let stderr = text(&duplicate.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("email"), "{stderr}");

    let bad_role = opsdesk(
        data,
        &[
            "user",
            "create",
            "--email",
            "x@y.example",
            "--name",
            "X",
            "--role",
            "root",
        ],
        "x-long-password\n",
    );
    assert_eq!(bad_role.status.code(), Some(1));
    assert!(text(&bad_role.stderr).contains("role"));
    let agent_without_tier = opsdesk(
        data,
        &[
            "user",
            "create",
            "--email",
            "a@y.example",
            "--name",
            "A",
            "--role",
            "agent",
        ],
        "x-long-password\n",
    );
    assert_eq!(agent_without_tier.status.code(), Some(1));
    assert!(text(&agent_without_tier.stderr).contains("tier"));
    assert!(opsdesk(
        data,
        &["team", "create", "--name", "L1", "--tier", "L1"],
        ""
    )
    .status
    .success());
    assert!(opsdesk(
        data,
        &["team", "create", "--name", "L3", "--tier", "L3"],
        ""
    )
    .status
    .success());
    let update = opsdesk(
        data,
        &["team", "update", "--name", "L1", "--escalates-to", "L3"],
        "",
    );
    assert_eq!(text(&update.stdout), "team L1 now escalates to L3\n");
    let upside_down = opsdesk(
        data,
        &["team", "update", "--name", "L3", "--escalates-to", "L1"],
        "",
    );
    assert_eq!(upside_down.status.code(), Some(1));
    assert!(text(&upside_down.stderr).contains("escalates_to"));
    let unknown_team = opsdesk(
        data,
        &[
            "team",
            "create",
            "--name",
            "L2",
            "--tier",
            "L2",
            "--escalates-to",
            "Nowhere",
        ],
        "",
    );
    assert_eq!(unknown_team.status.code(), Some(1));
    let usage = opsdesk(data, &["user", "create"], "");
    assert_eq!(usage.status.code(), Some(2));

    let off = opsdesk(
        data,
        &[
            "user",
            "update",
            "--email",
            "carol@acme.example",
            "--active",
            "false",
        ],
        "",
    );
    assert_eq!(
        text(&off.stdout),
        "updated carol@acme.example (customer, deactivated)\n"
    );
    let no_tier = opsdesk(
        data,
        &[
            "user",
            "update",
            "--email",
            "carol@acme.example",
            "--tier",
            "L1",
        ],
        "",
    );
    assert_eq!(no_tier.status.code(), Some(1));
    let list = opsdesk(data, &["user", "list", "--format", "json"], "");
    let users: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(users.as_array().unwrap().len(), 1);
    assert_eq!(users[0]["email"], "carol@acme.example");
    assert_eq!(users[0]["active"], false);
    let csv = opsdesk(data, &["org", "list", "--format", "csv"], "");
    assert_eq!(text(&csv.stdout), "id,name\n1,Acme\n");
    let migrate = opsdesk(data, &["migrate"], "");
    assert!(migrate.status.success());
}

#[tokio::test]
async fn empty_server_says_how_to_create_the_first_admin() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(&["--data", dir.path().to_str().unwrap()]);
    let health: Value = reqwest::get(format!("{}/healthz", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], "sqlite");
    assert!(dir.path().join("opsdesk.db").exists());
    drop(server);
    let data = dir.path().to_str().unwrap();
    let mut child = Command::new(BIN)
        .args(["--data", data, "--listen", "127.0.0.1:0", "serve"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = String::new();
    for _ in 0..3 {
        reader.read_line(&mut lines).unwrap();
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(lines.contains("No users yet"), "{lines}");
    assert!(lines.contains("opsdesk user create --email"), "{lines}");
}

#[tokio::test]
async fn accepted_tickets_survive_a_killed_server() {
    let dir = tempfile::tempdir().unwrap();
    let token = setup_admin(dir.path());
    let data = dir.path().to_str().unwrap();
    let mut server = serve(&["--data", data]);
    assert!(!server.banner.contains("No users yet"));
    let mut accepted = Vec::new();
    for i in 0..25 {
        let ticket = create_ticket(&server.base, &token, &format!("durable {i}")).await;
        accepted.push(ticket["subject"].as_str().unwrap().to_owned());
    }
    // SIGKILL: no shutdown hook, no checkpoint; only what was committed survives.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let restarted = serve(&["--data", data]);
    assert_eq!(list_subjects(&restarted.base, &token).await, accepted);
}

#[tokio::test]
async fn tickets_acknowledged_under_load_survive_a_killed_server() {
    // On the backend the suite runs on: SQLite in the data directory, or a fresh PostgreSQL
    // database when OPSDESK_TEST_BACKEND=postgres.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let mut db: Vec<String> = Vec::new();
    if std::env::var("OPSDESK_TEST_BACKEND").as_deref() == Ok("postgres") {
        db = vec!["--database-url".into(), fresh_postgres_url().await];
    }
    let args = |extra: &[&str]| -> Vec<String> {
        db.iter()
            .cloned()
            .chain(extra.iter().map(|a| a.to_string()))
            .collect()
    };
    let run = |extra: &[&str], stdin: &str| {
        let all = args(extra);
        opsdesk(
            dir.path(),
            &all.iter().map(String::as_str).collect::<Vec<_>>(),
            stdin,
        )
    };
    assert!(
        run(&["team", "create", "--name", "Desk", "--tier", "L1"], "")
            .status
            .success()
    );
    let admin = [
        "user",
        "create",
        "--email",
        "ada@example.com",
        "--name",
        "Ada",
        "--role",
        "admin",
    ];
    assert!(run(&admin, "correct-horse-battery\n").status.success());
    let token = text(&run(&["token", "create", "--email", "ada@example.com"], "").stdout)
        .trim()
        .to_owned();
    let serve_args = args(&["--data", &data]);
    let serve_args: Vec<&str> = serve_args.iter().map(String::as_str).collect();
    let mut server = serve(&serve_args);
    // Sixteen clients create as fast as they can (their creates share group commits) while
    // the server is killed; each keeps the tickets it was answered 201 for.
    let mut clients = Vec::new();
    for c in 0..16 {
        let (base, token) = (server.base.clone(), token.clone());
        clients.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut acknowledged = Vec::new();
            for i in 0.. {
                let subject = format!("load {c}-{i}");
                let sent = client
                    .post(format!("{base}/api/v1/tickets"))
                    .bearer_auth(&token)
                    .json(&json!({"subject": subject, "body": "b"}))
                    .send()
                    .await;
                let Ok(reply) = sent else { break };
                if reply.status().as_u16() != 201 {
                    break;
                }
                let Ok(ticket) = reply.json::<Value>().await else {
                    break;
                };
                acknowledged.push((ticket["id"].as_i64().unwrap(), subject));
            }
            acknowledged
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    // SIGKILL: no shutdown hook, no checkpoint; only what was committed survives.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    assert!(
        acknowledged.len() > 16,
        "too few creates before the kill: {}",
        acknowledged.len()
    );
    let restarted = serve(&serve_args);
    let client = reqwest::Client::new();
    for (id, subject) in &acknowledged {
        let ticket: Value = client
            .get(format!("{}/api/v1/tickets/{id}", restarted.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            ticket["subject"],
            subject.as_str(),
            "ticket {id} acknowledged, then lost"
        );
    }
    // Every ticket the killed server committed has its report facts and is counted once in
    // the rollup, whether or not its derived rows were written before the kill (SQLite's
    // writer may write them after the tickets' commit; the restart recomputes the rest).
    let url = match db.get(1) {
        Some(url) => url.clone(),
        None => format!("sqlite://{data}/opsdesk.db"),
    };
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let mut counts = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM tickets",
        "SELECT COUNT(*) FROM ticket_facts",
        "SELECT CAST(SUM(tickets) AS BIGINT) FROM ticket_daily_desk WHERE cohort = 0",
    ] {
        let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
        counts.push(n);
    }
    let tickets = counts[0];
    assert!(tickets >= acknowledged.len() as i64);
    assert_eq!(
        counts, [tickets; 3],
        "tickets, facts, tickets in the rollup"
    );
    drop(restarted);
}

#[tokio::test]
async fn environment_variables_configure_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["org", "create", "--name", "Env Org"])
        .env("OPSDESK_DATA", dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listed = opsdesk(dir.path(), &["org", "list"], "");
    assert!(text(&listed.stdout).contains("Env Org"));
}

async fn fresh_postgres_url() -> String {
    use sqlx::{Connection, Executor};
    let server = std::env::var("OPSDESK_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("opsdesk_t_{:016x}", fastrand::u64(..));
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .unwrap();
    format!("{server}/{name}")
}

#[tokio::test]
async fn two_processes_serve_one_postgres_database() {
    let url = fresh_postgres_url().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let setup = |args: &[&str], stdin: &str| {
        let mut all = vec!["--database-url", url.as_str()];
        all.extend_from_slice(args);
        opsdesk(Path::new(data), &all, stdin)
    };
    assert!(
        setup(&["team", "create", "--name", "Desk", "--tier", "L1"], "")
            .status
            .success()
    );
    assert!(setup(
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--role",
            "admin"
        ],
        "correct-horse-battery\n"
    )
    .status
    .success());
    let token = text(&setup(&["token", "create", "--email", "ada@example.com"], "").stdout)
        .trim()
        .to_owned();
    // Each node keeps its own data directory (its search index); the database is shared.
    let (node_a, node_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = serve(&[
        "--database-url",
        &url,
        "--data",
        node_a.path().to_str().unwrap(),
    ]);
    let b = serve(&[
        "--database-url",
        &url,
        "--data",
        node_b.path().to_str().unwrap(),
    ]);
    // A second server on the same data directory is refused (the index is per node).
    let same = opsdesk(
        node_a.path(),
        &["--database-url", &url, "--listen", "127.0.0.1:0", "serve"],
        "",
    );
    assert!(!same.status.success());
    assert!(
        text(&same.stderr).contains("in use"),
        "{}",
        text(&same.stderr)
    );
    let health: Value = reqwest::get(format!("{}/healthz", b.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["database"], "postgres");
    create_ticket(&a.base, &token, "from a").await;
    create_ticket(&b.base, &token, "from b").await;
    assert_eq!(list_subjects(&a.base, &token).await, ["from a", "from b"]);
    assert_eq!(list_subjects(&b.base, &token).await, ["from a", "from b"]);
    assert!(
        !dir.path().join("opsdesk.db").exists(),
        "PostgreSQL mode must not create a SQLite file"
    );
}

#[test]
fn tokens_are_listed_without_secrets_and_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let secret = setup_admin(dir.path());
    let list = opsdesk(dir.path(), &["token", "list", "--format", "json"], "");
    let tokens: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(tokens.as_array().unwrap().len(), 1);
    assert_eq!(tokens[0]["user_email"], "ada@example.com");
    assert!(!text(&list.stdout).contains(&secret));
    let id = tokens[0]["id"].as_i64().unwrap().to_string();
    let revoke = opsdesk(dir.path(), &["token", "revoke", "--id", &id], "");
    assert!(revoke.status.success(), "{}", text(&revoke.stderr));
    let twice = opsdesk(dir.path(), &["token", "revoke", "--id", &id], "");
    assert_eq!(twice.status.code(), Some(1));
    assert!(text(&twice.stderr).contains("no such token"));
}

#[test]
fn mail_ingest_takes_a_message_from_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let team = opsdesk(
        data,
        &["team", "create", "--name", "Service Desk", "--tier", "L0"],
        "",
    );
    assert!(team.status.success(), "{}", text(&team.stderr));
    let org = opsdesk(data, &["org", "create", "--name", "Acme"], "");
    assert!(org.status.success());
    let domains = opsdesk(
        data,
        &[
            "org",
            "domains",
            "--name",
            "Acme",
            "--domain",
            "acme.example",
        ],
        "",
    );
    assert!(domains.status.success(), "{}", text(&domains.stderr));
    let bad = opsdesk(
        data,
        &[
            "mailbox",
            "create",
            "--name",
            "support",
            "--address",
            "nope",
            "--team",
            "Service Desk",
        ],
        "",
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stderr).contains("address"),
        "{}",
        text(&bad.stderr)
    );
    let created = opsdesk(
        data,
        &[
            "mailbox",
            "create",
            "--name",
            "support",
            "--address",
            "support@desk.example",
            "--team",
            "Service Desk",
        ],
        "",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));

    let message =
        "From: Ana <ana@acme.example>\r\nTo: support@desk.example\r\nSubject: Printer jammed\r\n\
                   Message-ID: <cli-1@acme.example>\r\n\r\nTray 2 is jammed.\r\n";
    let taken = opsdesk(data, &["mail", "ingest", "--mailbox", "support"], message);
    assert!(taken.status.success(), "{}", text(&taken.stderr));
    assert!(
        text(&taken.stdout).starts_with("new_ticket #1"),
        "{}",
        text(&taken.stdout)
    );
    let again = opsdesk(data, &["mail", "ingest", "--mailbox", "support"], message);
    assert!(
        text(&again.stdout).starts_with("duplicate"),
        "{}",
        text(&again.stdout)
    );
    let unknown = opsdesk(data, &["mail", "ingest", "--mailbox", "nope"], message);
    assert_eq!(unknown.status.code(), Some(1));

    let log = opsdesk(data, &["mail", "log", "--format", "csv"], "");
    let log = text(&log.stdout);
    assert!(
        log.lines()
            .nth(1)
            .is_some_and(|l| l.contains("received") && l.contains("Printer jammed")),
        "{log}"
    );
    let customers = opsdesk(data, &["user", "list", "--format", "csv"], "");
    assert!(
        text(&customers.stdout).contains("ana@acme.example"),
        "{}",
        text(&customers.stdout)
    );
}

#[test]
fn runbooks_checks_and_articles_from_files_and_a_rebuilt_index() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(opsdesk(
        data,
        &["team", "create", "--name", "Desk", "--tier", "L1"],
        ""
    )
    .status
    .success());
    let admin = opsdesk(
        data,
        &[
            "user",
            "create",
            "--email",
            "ada@example.com",
            "--name",
            "Ada",
            "--role",
            "admin",
        ],
        "correct-horse-battery\n",
    );
    assert!(admin.status.success(), "{}", text(&admin.stderr));
    let steps = data.join("steps.txt");
    std::fs::write(
        &steps,
        "## Check backups\n$ ls /backups\n=> last night's file\n## Restore one\n",
    )
    .unwrap();
    let runbook = opsdesk(
        data,
        &[
            "runbook",
            "import",
            "--title",
            "Backup check",
            steps.to_str().unwrap(),
        ],
        "",
    );
    assert!(runbook.status.success(), "{}", text(&runbook.stderr));
    assert!(text(&runbook.stdout).contains("with 2 steps"));
    // A rule across the spring change: 02:30 does not exist on 29 March in Berlin.
    let preview = opsdesk(
        data,
        &[
            "check",
            "preview",
            "--rrule",
            "FREQ=DAILY",
            "--start",
            "2026-03-28T02:30",
            "--zone",
            "Europe/Berlin",
            "--count",
            "3",
        ],
        "",
    );
    let out = text(&preview.stdout);
    assert!(
        out.contains("Sat 2026-03-28 02:30 CET") && out.contains("Sun 2026-03-29 03:30 CEST"),
        "{out}"
    );
    let bad = opsdesk(
        data,
        &[
            "check",
            "preview",
            "--rrule",
            "FREQ=YEARLY",
            "--start",
            "2026-03-28T02:30",
            "--zone",
            "UTC",
        ],
        "",
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("FREQ=YEARLY"),
        "{}",
        text(&bad.stderr)
    );
    let check = opsdesk(
        data,
        &[
            "check",
            "create",
            "--name",
            "Nightly",
            "--runbook",
            "Backup check",
            "--team",
            "Desk",
            "--rrule",
            "FREQ=DAILY",
            "--start",
            "2030-01-01T02:00",
            "--zone",
            "UTC",
        ],
        "",
    );
    assert!(check.status.success(), "{}", text(&check.stderr));
    let listed = opsdesk(data, &["check", "list", "--format", "csv"], "");
    assert!(
        text(&listed.stdout).contains("Nightly,FREQ=DAILY,UTC"),
        "{}",
        text(&listed.stdout)
    );
    let article = data.join("vpn.md");
    std::fs::write(&article, "## Steps\n\n1. Reconnect.").unwrap();
    let imported = opsdesk(
        data,
        &[
            "article",
            "import",
            "--title",
            "VPN drops",
            "--visibility",
            "public",
            "--publish",
            article.to_str().unwrap(),
        ],
        "",
    );
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    let again = opsdesk(
        data,
        &[
            "article",
            "import",
            "--title",
            "VPN drops",
            article.to_str().unwrap(),
        ],
        "",
    );
    assert!(
        text(&again.stdout).contains("version 1"),
        "an unchanged file adds no version: {}",
        text(&again.stdout)
    );
    let reindex = opsdesk(data, &["reindex"], "");
    assert!(reindex.status.success(), "{}", text(&reindex.stderr));
    assert!(
        text(&reindex.stdout).contains("indexed 1 documents"),
        "{}",
        text(&reindex.stdout)
    );
}

#[test]
fn reports_from_the_command_line_as_table_csv_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let seeded = opsdesk(data, &["demo", "seed", "--tickets", "20"], "");
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let from = today.checked_sub(jiff::Span::new().days(179)).unwrap();
    let period = ["--from", &from.to_string(), "--to", &today.to_string()];
    let mut args = vec![
        "report",
        "tickets",
        "--granularity",
        "month",
        "--format",
        "csv",
    ];
    args.extend(period);
    let csv = opsdesk(data, &args, "");
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let out = text(&csv.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "start,created,resolved,first_response_met,first_response_breached,resolution_met,resolution_breached,sla_percent"
    );
    assert!(
        (6..=8).contains(&(lines.len() - 1)),
        "a row per month: {out}"
    );
    let mut args = vec!["report", "tickets", "--format", "json"];
    args.extend(period);
    let json: Value = serde_json::from_slice(&opsdesk(data, &args, "").stdout).unwrap();
    let created = json["totals"]["created"].as_i64().unwrap();
    assert!(created > 1000, "six months of demo history: {created}");
    let monthly: i64 = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(monthly, created, "the CSV rows add up to the JSON total");
    let services = opsdesk(data, &["report", "incidents", "--table", "services"], "");
    assert!(services.status.success(), "{}", text(&services.stderr));
    assert!(
        text(&services.stdout).starts_with("name "),
        "{}",
        text(&services.stdout)
    );
    let forecast = opsdesk(data, &["report", "forecast", "--format", "json"], "");
    let forecast: Value = serde_json::from_slice(&forecast.stdout).unwrap();
    assert_eq!(forecast["staffing"].as_array().unwrap().len(), 168);
    let bad = opsdesk(data, &["report", "tickets", "--tier", "L9"], "");
    assert_eq!(bad.status.code(), Some(1));
    assert!(text(&bad.stderr).contains("tier"), "{}", text(&bad.stderr));
    // Six months of demo history, imported, answered, escalated and resolved: the rollup kept
    // change by change equals the facts summed afresh.
    let check = opsdesk(data, &["report", "check"], "");
    assert!(
        check.status.success(),
        "{}{}",
        text(&check.stdout),
        text(&check.stderr)
    );
    assert!(
        text(&check.stdout).contains("agrees with the ticket facts"),
        "{}",
        text(&check.stdout)
    );
}
