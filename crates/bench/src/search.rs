//! The search benchmark: realistic support text for the generator (a vocabulary of products,
//! symptoms, places, error codes and host names, so terms are as unevenly common as in a real
//! desk), a knowledge base of articles, a full reindex timed by the `opsdesk reindex` command,
//! and search and suggestion latencies through the API.

use std::process::Command;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};
use opsdesk_domain::knowledge::Visibility;
use opsdesk_domain::{Body, Tier};
use opsdesk_server::app::Ctx;
use opsdesk_server::app::{self, Operator};
use opsdesk_store::{ArticleDraft, ImportedMessage, Store};

use crate::{fail, open, report, start, timed_gets, Failure, Target, BENCH_AGENT};

const PRODUCTS: [&str; 40] = [
    "Outlook",
    "Teams",
    "SharePoint",
    "OneDrive",
    "VPN",
    "Citrix",
    "SAP",
    "Salesforce",
    "Jira",
    "Confluence",
    "Slack",
    "Zoom",
    "Okta",
    "Azure AD",
    "Exchange",
    "Printer",
    "Scanner",
    "Laptop",
    "Docking station",
    "Monitor",
    "Wi-Fi",
    "Firewall",
    "Proxy",
    "DNS",
    "Backup",
    "Payroll",
    "Invoice portal",
    "Tracking page",
    "Mobile app",
    "API",
    "Webhook",
    "CSV export",
    "Dashboard",
    "Reports",
    "Warehouse scanner",
    "Label printer",
    "POS terminal",
    "ERP",
    "Password reset",
    "Single sign-on",
];

const SYMPTOMS: [&str; 36] = [
    "fails after update",
    "is very slow",
    "keeps disconnecting",
    "shows error",
    "times out",
    "cannot connect",
    "crashes on start",
    "freezes randomly",
    "rejects my password",
    "sends duplicate emails",
    "lost my settings",
    "returns 502",
    "returns 403 forbidden",
    "drops the last row",
    "shows the wrong totals",
    "will not sync",
    "asks to log in again",
    "loops on redirect",
    "prints blank pages",
    "jams constantly",
    "has no network",
    "shows certificate warning",
    "is missing data",
    "stopped overnight",
    "is out of licences",
    "displays garbled characters",
    "does not open attachments",
    "will not install",
    "blocks the upload",
    "is locked out",
    "cannot find the printer",
    "charges twice",
    "uses the wrong VAT rate",
    "shows yesterday's data",
    "is unreachable from home",
    "needs more seats",
];

const PLACES: [&str; 24] = [
    "Leeds",
    "Manchester",
    "London",
    "Berlin",
    "Hamburg",
    "Munich",
    "Paris",
    "Lyon",
    "Madrid",
    "Milan",
    "Dublin",
    "Amsterdam",
    "Rotterdam",
    "Warsaw",
    "Prague",
    "Vienna",
    "Zurich",
    "Stockholm",
    "Oslo",
    "Copenhagen",
    "Lisbon",
    "Brussels",
    "the head office",
    "the depot",
];

const WORDS: [&str; 114] = [
    "user",
    "users",
    "customer",
    "account",
    "since",
    "this",
    "morning",
    "yesterday",
    "after",
    "before",
    "update",
    "restart",
    "rebooted",
    "cleared",
    "cache",
    "cookies",
    "browser",
    "Chrome",
    "Firefox",
    "Edge",
    "Safari",
    "Windows",
    "macOS",
    "Android",
    "iPhone",
    "tablet",
    "screen",
    "message",
    "error",
    "warning",
    "code",
    "log",
    "logs",
    "attached",
    "screenshot",
    "colleague",
    "team",
    "manager",
    "urgent",
    "deadline",
    "month",
    "end",
    "closing",
    "audit",
    "shipment",
    "orders",
    "invoice",
    "payment",
    "refund",
    "contract",
    "renewal",
    "licence",
    "seat",
    "permission",
    "group",
    "role",
    "admin",
    "policy",
    "setting",
    "profile",
    "mailbox",
    "calendar",
    "meeting",
    "share",
    "folder",
    "file",
    "upload",
    "download",
    "sync",
    "network",
    "cable",
    "port",
    "router",
    "switch",
    "access",
    "point",
    "signal",
    "battery",
    "charger",
    "keyboard",
    "mouse",
    "headset",
    "camera",
    "microphone",
    "driver",
    "firmware",
    "version",
    "patch",
    "release",
    "rollback",
    "ticket",
    "request",
    "incident",
    "outage",
    "degraded",
    "intermittent",
    "every",
    "hour",
    "minutes",
    "again",
    "still",
    "not",
    "working",
    "tried",
    "steps",
    "guide",
    "article",
    "workaround",
    "helped",
    "please",
    "thanks",
    "regards",
    "asap",
    "priority",
];

/// A seeded source of support text.
pub(crate) struct Text {
    rng: fastrand::Rng,
}

impl Text {
    /// Text from `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
        }
    }

    /// An index skewed towards the start (a few items very common, most rare).
    fn skewed(&mut self, len: usize) -> usize {
        let x = self.rng.f64();
        ((x * x * x) * len as f64) as usize % len
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.skewed(from.len())]
    }

    /// A ticket subject such as "VPN keeps disconnecting in Leeds".
    pub(crate) fn subject(&mut self) -> String {
        let product = self.pick(&PRODUCTS);
        let symptom = self.pick(&SYMPTOMS);
        match self.rng.u8(..3) {
            0 => format!("{product} {symptom} in {}", self.pick(&PLACES)),
            1 => format!("{product} {symptom}"),
            _ => format!("{product} {symptom} for {} users", self.rng.u32(2..400)),
        }
    }

    /// An error code or host name: the rare, exact terms people paste.
    fn token(&mut self) -> String {
        match self.rng.u8(..4) {
            0 => format!("ERR-{:04X}", self.rng.u16(..)),
            1 => format!(
                "srv-{}-{:03}",
                ["lon", "ber", "par", "mad", "dub"][self.rng.usize(..5)],
                self.rng.u16(..400)
            ),
            2 => format!("0x{:08x}", self.rng.u32(..)),
            _ => format!("KB{}", self.rng.u32(100_000..999_999)),
        }
    }

    /// A sentence of `n` words, with a product, a place or a code now and then.
    fn sentence(&mut self, n: usize) -> String {
        let mut words: Vec<String> = Vec::with_capacity(n + 2);
        for i in 0..n {
            let word = match self.rng.u8(..12) {
                0 => self.pick(&PRODUCTS).to_owned(),
                1 => self.pick(&PLACES).to_owned(),
                2 if i > 2 => self.token(),
                _ => self.pick(&WORDS).to_owned(),
            };
            words.push(word);
        }
        let mut s = words.join(" ");
        if let Some(first) = s.get(..1) {
            s = first.to_uppercase() + &s[1..];
        }
        s.push('.');
        s
    }

    /// A message body of a few sentences.
    pub(crate) fn body(&mut self, subject: &str) -> String {
        let mut parts = vec![format!("{subject}.")];
        for _ in 0..self.rng.usize(1..5) {
            let n = self.rng.usize(6..18);
            parts.push(self.sentence(n));
        }
        parts.join(" ")
    }

    /// The conversation after the first message: 1–4 replies and notes.
    pub(crate) fn replies(
        &mut self,
        subject: &str,
        requester: i64,
        agent: i64,
        created: Timestamp,
    ) -> Result<Vec<ImportedMessage>, Failure> {
        let mut out = Vec::new();
        let mut at = created;
        for i in 0..self.rng.usize(1..5) {
            at = at.checked_add(SignedDuration::from_mins(self.rng.i64(5..600)))?;
            let (author, internal) = match (i % 2, self.rng.u8(..4)) {
                (0, 0) => (agent, true),
                (0, _) => (agent, false),
                _ => (requester, false),
            };
            let body = self.body(subject);
            out.push(ImportedMessage {
                author_id: author,
                internal,
                body: Body::parse("body", &body)?,
                created_at: at,
            });
        }
        Ok(out)
    }

    /// A query of 1–4 words people would type.
    fn query(&mut self) -> String {
        let words = [1, 1, 2, 2, 2, 3, 3, 4][self.rng.usize(..8)];
        let mut parts: Vec<String> = Vec::new();
        for _ in 0..words {
            let part = match self.rng.u8(..6) {
                0 => self.pick(&PLACES).to_owned(),
                1 | 2 => self.pick(&PRODUCTS).to_owned(),
                3 => self
                    .pick(&SYMPTOMS)
                    .split(' ')
                    .next_back()
                    .unwrap_or("error")
                    .to_owned(),
                _ => self.pick(&WORDS).to_owned(),
            };
            parts.push(part);
        }
        // Now and then a typo (a swapped pair of letters) in a longer word.
        if self.rng.u8(..8) == 0 {
            if let Some(long) = parts.iter_mut().find(|p| p.len() >= 6 && p.is_ascii()) {
                let mut bytes = long.clone().into_bytes();
                bytes.swap(2, 3);
                *long = String::from_utf8(bytes).unwrap_or_default();
            }
        }
        parts.join(" ")
    }
}

/// Writes `count` articles (most published, a third public, some tier-restricted, a few stale).
pub(crate) async fn articles(store: &Store, count: usize) -> Result<(), Failure> {
    let existing = store
        .search_row_count(opsdesk_store::Searchable::Article)
        .await?;
    let agent = store
        .user_by_email(BENCH_AGENT)
        .await?
        .ok_or_else(|| fail("bench agent missing"))?;
    let mut text = Text::new(11);
    let now = Timestamp::now();
    for i in existing as usize..count {
        let subject = text.subject();
        let title = format!("How to fix: {subject}");
        let mut body = String::new();
        body.push_str(&format!(
            "## Symptom\n\n{}\n\n## Steps\n\n",
            text.body(&subject)
        ));
        for step in 1..=text.rng.usize(3..7) {
            body.push_str(&format!("{step}. {}\n", text.sentence(10)));
        }
        let visibility = match i % 6 {
            0 | 1 => Visibility::Public,
            2 => Visibility::Tier(Tier::L2),
            _ => Visibility::Internal,
        };
        let draft = ArticleDraft {
            category_id: None,
            title: title.chars().take(200).collect(),
            body,
            visibility,
            owner_id: Some(agent.id),
            review_by: Some(
                now.checked_add(SignedDuration::from_hours(24 * (i as i64 % 400 - 30)))?,
            ),
            note: String::new(),
        };
        store
            .create_article(&draft, i % 10 != 0, None, Some(agent.id), now)
            .await?;
    }
    Ok(())
}

/// Full reindex with the real command, then search and suggestion latencies through the API.
pub(crate) async fn bench(target: &Target, queries: usize, clients: usize) -> Result<(), Failure> {
    let store = open(target).await?;
    let token = crate::ensure_desk(&store).await?;
    let customer = store
        .users(Some(opsdesk_domain::Role::Customer), None, 0, 1)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| fail("no customers: run generate first"))?;
    let (_, customer_token) = app::create_token(
        &Ctx::new(&store, Operator::Console, Timestamp::now()),
        customer.email.as_str(),
        Some("bench"),
    )
    .await
    .map_err(|e| fail(e.detail))?;
    let titles: Vec<String> = store
        .articles(
            &opsdesk_store::ArticleFilter {
                public_only: true,
                ..Default::default()
            },
            200,
        )
        .await?
        .into_iter()
        .map(|a| a.published_title.unwrap_or(a.title))
        .collect();
    store.close().await;

    // The index is rebuilt by the command users run, which prints its own throughput.
    let mut reindex = Command::new(&target.opsdesk);
    reindex.args(target.server_args()).arg("reindex");
    let began = Instant::now();
    let output = reindex.output()?;
    if !output.status.success() {
        return Err(fail(format!(
            "reindex failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    println!(
        "opsdesk reindex: {} ({:.1} s wall)",
        String::from_utf8_lossy(&output.stdout).trim(),
        began.elapsed().as_secs_f64()
    );

    let server = start(target).await?;
    // Measure only a current index: the one `reindex` built, caught up with the log.
    let status_url = format!("{}/api/v1/search/status", server.base);
    let waited = Instant::now();
    loop {
        let status: serde_json::Value = reqwest::Client::new()
            .get(&status_url)
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if status["rebuilding"] == false && status["cursor"] == status["latest"] {
            println!("index current: {} documents", status["documents"]);
            break;
        }
        if waited.elapsed() > std::time::Duration::from_secs(600) {
            return Err(fail(format!("the index did not become current: {status}")));
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let client = reqwest::Client::new();
    let mut text = Text::new(99);
    let filters = [
        "",
        "",
        "",
        "&kind=ticket",
        "&kind=ticket&status=open",
        "&kind=article",
        "&order=recency",
        "&from=2026-06-01&to=2026-09-30",
    ];
    let mut agent_urls = Vec::with_capacity(queries);
    let mut customer_urls = Vec::with_capacity(queries / 4);
    for i in 0..queries {
        let q = text.query();
        let filter = filters[i % filters.len()];
        let url = with_query(&server.base, "/api/v1/search", &q)? + filter;
        if i % 4 == 3 {
            customer_urls.push(url);
        } else {
            agent_urls.push(url);
        }
    }
    // Searches must find things, or the timings mean nothing.
    let mut found_some = 0;
    for url in agent_urls.iter().take(200) {
        let found: serde_json::Value = client
            .get(url)
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        if found["items"].as_array().is_some_and(|a| !a.is_empty()) {
            found_some += 1;
        }
    }
    println!("{found_some} of the first 200 agent searches found something");
    if found_some == 0 {
        return Err(fail(
            "no search found anything: the index is empty or not this database's",
        ));
    }
    // Warm up the page cache, then measure.
    timed_gets(
        &client,
        agent_urls[..agent_urls.len().min(100)].to_vec(),
        Some(&token),
        None,
        1,
    )
    .await?;
    let (latencies, elapsed, errors) =
        timed_gets(&client, agent_urls, Some(&token), None, clients).await?;
    report(
        "search as an agent (1–4 words, a mix of filters)",
        latencies,
        elapsed,
        errors,
    );
    let (latencies, elapsed, errors) =
        timed_gets(&client, customer_urls, Some(&customer_token), None, clients).await?;
    report(
        "search as a customer (own organisation + public articles)",
        latencies,
        elapsed,
        errors,
    );

    // Suggestions: a customer typing article titles one character at a time.
    let mut typed = Vec::new();
    for title in titles.iter().cycle().take(queries / 10) {
        let subject = title.trim_start_matches("How to fix: ");
        for end in 3..subject.len().min(24) {
            if subject.is_char_boundary(end) {
                typed.push(with_query(
                    &server.base,
                    "/api/v1/search/suggest",
                    &subject[..end],
                )?);
            }
        }
    }
    let (latencies, elapsed, errors) =
        timed_gets(&client, typed, Some(&customer_token), None, clients).await?;
    report(
        "suggestions as a customer types a subject",
        latencies,
        elapsed,
        errors,
    );

    // Freshness: from a ticket's 201 to the first search that finds it by a word only it has.
    let mut waits = Vec::new();
    for i in 0..50 {
        let word = format!("freshness{:08x}x{i}", fastrand::u32(..));
        let created = client
            .post(format!("{}/api/v1/tickets", server.base))
            .bearer_auth(&customer_token)
            .json(&serde_json::json!({"subject": format!("Probe {word}"), "body": "Freshness probe."}))
            .send()
            .await?;
        if !created.status().is_success() {
            return Err(fail(format!("probe ticket refused: {}", created.status())));
        }
        let began = Instant::now();
        let url = with_query(&server.base, "/api/v1/search", &format!("{word} "))?;
        loop {
            let found: serde_json::Value = client
                .get(&url)
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            if found["items"].as_array().is_some_and(|a| !a.is_empty()) {
                waits.push(began.elapsed());
                break;
            }
            if began.elapsed() > std::time::Duration::from_secs(10) {
                return Err(fail("a new ticket was not searchable within 10 s"));
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
    waits.sort();
    println!(
        "new ticket searchable after its 201: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (50 probes, polled every 10 ms)",
        crate::percentile(&waits, 0.5).as_secs_f64() * 1000.0,
        crate::percentile(&waits, 0.99).as_secs_f64() * 1000.0,
        waits.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    );
    drop(server);
    Ok(())
}

/// `base` + `path` with `q` as its encoded query parameter.
fn with_query(base: &str, path: &str, q: &str) -> Result<String, Failure> {
    Ok(reqwest::Url::parse_with_params(&format!("{base}{path}"), [("q", q)])?.to_string())
}
