//! The house rules as tests (after rust-analyzer's `tidy`): each reads the workspace's sources
//! and names every line that breaks a rule, so a rule in ARCHITECTURE.md cannot drift from
//! the code without a red test.
//!
//! Where today's code still breaks a rule, the debt is listed here file by file with its size
//! now (`OVERSIZE`, `ROLE_DECISIONS`): a listed file may shrink but never grow, a new file may
//! not join the list, and an entry that no longer breaks the rule must be removed. The last
//! test feeds each check a deliberate violation, so none of them can pass by checking nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Longest source file, in lines.
const MAX_LINES: usize = 1_200;

/// Files over [`MAX_LINES`] today, with their length as a ceiling until they are split.
const OVERSIZE: &[(&str, usize)] = &[
    ("crates/store/src/mail.rs", 1_610),
    ("crates/store/src/incidents.rs", 1_458),
    ("crates/domain/src/sla.rs", 1_416),
    ("crates/server/src/ops/reports.rs", 1_382),
    ("crates/server/src/http/ui/knowledge.rs", 1_362),
    ("crates/store/src/clocks.rs", 1_345),
    ("crates/store/src/tickets.rs", 1_297),
    ("crates/server/src/http/ui/incidents.rs", 1_249),
];

/// Lines deciding by role outside `domain::access` today, per file, as a ceiling until each
/// becomes an `Action`.
const ROLE_DECISIONS: &[(&str, usize)] = &[
    ("crates/server/src/http/api/knowledge.rs", 3),
    ("crates/server/src/mail/notify.rs", 3),
    ("crates/server/src/ops/knowledge.rs", 2),
    ("crates/server/src/ops/mod.rs", 9),
    ("crates/server/src/ops/reports.rs", 1),
    ("crates/server/src/ops/sla.rs", 1),
    ("crates/server/src/http/ui/desk.rs", 1),
    ("crates/server/src/http/ui/knowledge.rs", 1),
    ("crates/server/src/http/ui/mod.rs", 2),
    ("crates/server/src/http/ui/portal.rs", 1),
    ("crates/server/src/http/ui/views.rs", 3),
    ("crates/store/src/clocks.rs", 1),
    ("crates/store/src/knowledge.rs", 1),
    ("crates/store/src/mail.rs", 2),
    ("crates/store/src/oncall.rs", 1),
    ("crates/store/src/tickets.rs", 4),
];

/// Direct `Store` calls at the edges today, per file, as a ceiling until each goes through
/// `ops` (issue "One door").
const EDGE_STORE_CALLS: &[(&str, usize)] = &[
    ("crates/server/src/http/api/incidents.rs", 11),
    ("crates/server/src/http/api/knowledge.rs", 14),
    ("crates/server/src/http/api/mail.rs", 7),
    ("crates/server/src/http/api/mod.rs", 16),
    ("crates/server/src/http/api/oncall.rs", 5),
    ("crates/server/src/http/api/reviews.rs", 6),
    ("crates/server/src/http/api/runbooks.rs", 10),
    ("crates/server/src/http/api/sla.rs", 9),
    ("crates/server/src/http/api/status.rs", 2),
    ("crates/server/src/http/ui/admin.rs", 6),
    ("crates/server/src/http/ui/admin_sla.rs", 8),
    ("crates/server/src/http/ui/desk.rs", 21),
    ("crates/server/src/http/ui/incidents.rs", 14),
    ("crates/server/src/http/ui/knowledge.rs", 21),
    ("crates/server/src/http/ui/mail.rs", 8),
    ("crates/server/src/http/ui/oncall.rs", 2),
    ("crates/server/src/http/ui/paging.rs", 3),
    ("crates/server/src/http/ui/portal.rs", 3),
    ("crates/server/src/http/ui/reports.rs", 3),
    ("crates/server/src/http/ui/reviews.rs", 6),
    ("crates/server/src/http/ui/runbooks.rs", 9),
    ("crates/server/src/http/ui/session.rs", 4),
    ("crates/server/src/http/ui/status.rs", 5),
    ("crates/server/src/http/ui/survey.rs", 1),
];

/// `authorize` asked at the edges today, per file, as a ceiling until `ops` asks it.
const EDGE_AUTHORIZE: &[(&str, usize)] = &[
    ("crates/server/src/http/api/incidents.rs", 7),
    ("crates/server/src/http/api/knowledge.rs", 6),
    ("crates/server/src/http/api/mail.rs", 5),
    ("crates/server/src/http/api/mod.rs", 9),
    ("crates/server/src/http/api/oncall.rs", 5),
    ("crates/server/src/http/api/reviews.rs", 4),
    ("crates/server/src/http/api/runbooks.rs", 7),
    ("crates/server/src/http/api/sla.rs", 7),
    ("crates/server/src/http/api/status.rs", 1),
    ("crates/server/src/http/ui/admin.rs", 1),
    ("crates/server/src/http/ui/admin_sla.rs", 1),
    ("crates/server/src/http/ui/desk.rs", 3),
    ("crates/server/src/http/ui/incidents.rs", 6),
    ("crates/server/src/http/ui/knowledge.rs", 10),
    ("crates/server/src/http/ui/mail.rs", 1),
    ("crates/server/src/http/ui/oncall.rs", 2),
    ("crates/server/src/http/ui/reports.rs", 2),
    ("crates/server/src/http/ui/reviews.rs", 4),
    ("crates/server/src/http/ui/runbooks.rs", 5),
];

/// The server's floors: which top-level modules a module under `src/<floor>/` may not name.
const FORBIDDEN_IMPORTS: &[(&str, &[&str])] = &[
    // The wire types are the lowest floor; `wire` may name only itself (checked apart).
    (
        "ops",
        &["http", "api", "ui", "hooks", "download", "workers", "demo"],
    ),
    ("api", &["ui", "hooks", "demo"]),
    ("ui", &["api", "hooks", "demo"]),
    ("hooks", &["api", "ui", "demo"]),
    (
        "workers",
        &["http", "api", "ui", "hooks", "download", "demo"],
    ),
    ("mail", &["http", "api", "ui", "hooks", "download", "demo"]),
];

/// A source file: its path from the workspace root and its text.
struct Source {
    path: String,
    text: String,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `crates/*/src` and `crates/*/tests`.
fn sources() -> Vec<Source> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<Source>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let rel = path.strip_prefix(root).unwrap_or(&path);
                out.push(Source {
                    path: rel.to_string_lossy().replace('\\', "/"),
                    text,
                });
            }
        }
    }
    let root = workspace().canonicalize().expect("the workspace root");
    let mut out = Vec::new();
    let crates = std::fs::read_dir(root.join("crates")).expect("crates/");
    for krate in crates.flatten() {
        for part in ["src", "tests"] {
            walk(&krate.path().join(part), &root, &mut out);
        }
    }
    assert!(
        out.len() > 100,
        "found only {} source files: is the walk looking in the right place?",
        out.len()
    );
    out
}

/// Code lines of `text` with their numbers, comments dropped (a rule is about code, and a
/// doc line may name what the rule forbids).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines().enumerate().filter_map(|(n, line)| {
        let code = line.split("//").next().unwrap_or("");
        (!code.trim().is_empty()).then_some((n + 1, code))
    })
}

/// Lines that read the wall clock.
fn clock_reads(source: &Source) -> Vec<String> {
    code_lines(&source.text)
        .filter(|(_, l)| l.contains("Timestamp::now") || l.contains("SystemTime::now"))
        .map(|(n, _)| format!("{}:{n} reads the clock", source.path))
        .collect()
}

/// The server module a file under `crates/server/src/` belongs to (`ops` for `ops/mod.rs`;
/// an edge under `http/` by its own name, `api` for `http/api/tickets.rs`).
fn floor(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("crates/server/src/")?;
    let rest = rest.strip_prefix("http/").unwrap_or(rest);
    let first = rest.split('/').next()?;
    Some(first.strip_suffix(".rs").unwrap_or(first))
}

/// Top-level server modules a file names through `crate::…`.
fn named_modules(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in code_lines(text) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            // `opsdesk_crate::` and the like are other names.
            let before = rest[..at].chars().last();
            let after = &rest[at + "crate::".len()..];
            let ident = |text: &str| -> String {
                text.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            };
            let mut name = ident(after);
            // An edge is named by its folder under `http` (`crate::http::ui` is `ui`).
            if name == "http" {
                if let Some(sub) = after["http".len()..].strip_prefix("::") {
                    name = ident(sub);
                }
            }
            if !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') && !name.is_empty() {
                out.push((n, name));
            }
            rest = after;
        }
    }
    out
}

/// Imports that run against the floors of the server.
fn floor_breaks(source: &Source) -> Vec<String> {
    let Some(floor) = floor(&source.path) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (n, module) in named_modules(&source.text) {
        let forbidden = if floor == "wire" {
            module != "wire"
        } else {
            FORBIDDEN_IMPORTS
                .iter()
                .find(|(f, _)| *f == floor)
                .is_some_and(|(_, banned)| banned.contains(&module.as_str()))
        };
        if forbidden {
            out.push(format!(
                "{}:{n}: `{floor}` names `crate::{module}`, a floor it may not import",
                source.path
            ));
        }
    }
    if matches!(floor, "ops" | "wire") {
        for (n, line) in code_lines(&source.text) {
            if line.contains("axum::") {
                out.push(format!(
                    "{}:{n}: `{floor}` names axum: HTTP stays at the edge",
                    source.path
                ));
            }
        }
    }
    out
}

/// Lines deciding by role (comparing or matching a `Role`, asking `is_staff`).
fn role_decisions(source: &Source) -> usize {
    code_lines(&source.text)
        .filter(|(_, l)| {
            l.contains(".is_staff()")
                || (l.contains("Role::")
                    && (l.contains("==")
                        || l.contains("!=")
                        || l.contains("matches!")
                        || l.contains("=>")
                        || l.contains(" | ")))
        })
        .count()
}

/// Whether a file is an edge (`http/api/`, `http/ui/`, `http/hooks/`).
fn is_edge(path: &str) -> bool {
    matches!(floor(path), Some("api" | "ui" | "hooks"))
}

/// The code with each method chain on one line (rustfmt breaks `state\n.store\n.x(` apart).
fn chained(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (_, line) in code_lines(text) {
        let trimmed = line.trim();
        match out.last_mut() {
            Some(last) if trimmed.starts_with('.') => last.push_str(trimmed),
            _ => out.push(trimmed.to_owned()),
        }
    }
    out
}

/// Calls of a `Store` method (`store.x(`, `state.store.x(`): reads and writes that do not go
/// through the application layer.
fn store_calls(source: &Source) -> usize {
    let mut count = 0;
    for line in chained(&source.text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("store.") {
            let before = rest[..at].chars().last();
            let after = &rest[at + "store.".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let tail = &after[name.len()..];
            let called = tail.starts_with('(') || tail.starts_with("::<");
            if !name.is_empty()
                && called
                && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                count += 1;
            }
            rest = after;
        }
    }
    count
}

/// Authorization asked at an edge (`authorize(`): the application layer's job.
fn edge_authorizations(source: &Source) -> usize {
    code_lines(&source.text)
        .map(|(_, l)| l.matches("authorize(").count())
        .sum()
}

/// Checks `counts` against a ceiling list: nothing new, nothing grown, nothing stale.
fn against_ceilings(
    rule: &str,
    counts: &BTreeMap<String, usize>,
    ceilings: &[(&str, usize)],
    allowed: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    for (path, count) in counts {
        let ceiling = ceilings
            .iter()
            .find(|(p, _)| p == path)
            .map_or(allowed, |(_, c)| *c);
        if *count > ceiling {
            out.push(format!("{path}: {rule}: {count} (at most {ceiling})"));
        }
    }
    for (path, ceiling) in ceilings {
        let count = counts.get(*path).copied().unwrap_or(0);
        if count <= allowed {
            out.push(format!(
                "{path}: {rule}: now {count}, within the rule: remove it from the list"
            ));
        } else if count < *ceiling {
            out.push(format!(
                "{path}: {rule}: now {count}, below its ceiling {ceiling}: lower the ceiling"
            ));
        }
    }
    out
}

fn assert_none(rule: &str, breaks: Vec<String>) {
    assert!(breaks.is_empty(), "{rule}:\n  {}", breaks.join("\n  "));
}

#[test]
fn the_domain_and_the_store_never_read_the_clock() {
    let breaks = sources()
        .iter()
        .filter(|s| {
            s.path.starts_with("crates/domain/src/") || s.path.starts_with("crates/store/src/")
        })
        .flat_map(clock_reads)
        .collect();
    assert_none("`now` is passed in, never read below the edge", breaks);
}

#[test]
fn no_module_imports_a_floor_it_may_not() {
    let breaks = sources().iter().flat_map(floor_breaks).collect();
    assert_none("the floors of the server", breaks);
}

#[test]
fn no_source_file_grows_past_the_limit() {
    let lengths: BTreeMap<String, usize> = sources()
        .into_iter()
        .map(|s| (s.path, s.text.lines().count()))
        .collect();
    assert_none(
        "lines per file",
        against_ceilings("lines", &lengths, OVERSIZE, MAX_LINES),
    );
}

#[test]
fn role_decisions_stay_in_access() {
    let counts: BTreeMap<String, usize> = sources()
        .iter()
        .filter(|s| s.path.contains("/src/"))
        .filter(|s| {
            s.path != "crates/domain/src/access.rs" && s.path != "crates/domain/src/role.rs"
        })
        .map(|s| (s.path.clone(), role_decisions(s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_none(
        "who may do what is decided in domain::access",
        against_ceilings("role decisions", &counts, ROLE_DECISIONS, 0),
    );
}

#[test]
fn edges_reach_the_store_only_through_the_application_layer() {
    let counts: BTreeMap<String, usize> = sources()
        .iter()
        .filter(|s| is_edge(&s.path))
        .map(|s| (s.path.clone(), store_calls(s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_none(
        "an edge calls `ops`, never the store",
        against_ceilings("store calls", &counts, EDGE_STORE_CALLS, 0),
    );
}

#[test]
fn edges_leave_authorization_to_the_application_layer() {
    let counts: BTreeMap<String, usize> = sources()
        .iter()
        .filter(|s| is_edge(&s.path))
        .map(|s| (s.path.clone(), edge_authorizations(s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_none(
        "an edge never asks `authorize` itself",
        against_ceilings("authorize calls", &counts, EDGE_AUTHORIZE, 0),
    );
}

#[test]
fn each_rule_catches_a_deliberate_violation() {
    let source = |path: &str, text: &str| Source {
        path: path.to_owned(),
        text: text.to_owned(),
    };
    let clock = source("crates/store/src/x.rs", "let now = Timestamp::now();\n");
    assert_eq!(clock_reads(&clock).len(), 1);
    let commented = source("crates/store/src/x.rs", "// never Timestamp::now()\n");
    assert!(clock_reads(&commented).is_empty());

    let ui_on_api = source(
        "crates/server/src/http/ui/x.rs",
        "use crate::http::api::reports::csv_response;\n",
    );
    assert_eq!(floor_breaks(&ui_on_api).len(), 1);
    let ops_on_axum = source("crates/server/src/ops/mod.rs", "use axum::Json;\n");
    assert_eq!(floor_breaks(&ops_on_axum).len(), 1);
    let wire_on_ops = source(
        "crates/server/src/wire/desk.rs",
        "fn f() { crate::ops::x(); crate::wire::desk::y(); }\n",
    );
    assert_eq!(floor_breaks(&wire_on_ops).len(), 1);
    let allowed = source(
        "crates/server/src/http/ui/x.rs",
        "use crate::ops::Operator;\n",
    );
    assert!(floor_breaks(&allowed).is_empty());
    let other_crate = source(
        "crates/server/src/http/ui/x.rs",
        "use opsdesk_crate::api;\n",
    );
    assert!(floor_breaks(&other_crate).is_empty());

    let role = source(
        "crates/server/src/http/ui/x.rs",
        "if user.role == Role::Admin {}\nif actor.is_staff() {}\nlet r = Role::Agent;\n",
    );
    assert_eq!(role_decisions(&role), 2);

    let edge = source(
        "crates/server/src/http/api/x.rs",
        "let t = state\n    .store\n    .ticket(id)\n    .await?;\nops::x(&state.store, id);\ncaller.actor.authorize(Action::Administer)?;\n",
    );
    assert_eq!(store_calls(&edge), 1);
    assert_eq!(edge_authorizations(&edge), 1);
    assert!(is_edge(&edge.path) && !is_edge("crates/server/src/ops/mod.rs"));

    let grown = BTreeMap::from([("a.rs".to_owned(), 1_300), ("b.rs".to_owned(), 1_201)]);
    let breaks = against_ceilings("lines", &grown, &[("a.rs", 1_250)], MAX_LINES);
    assert_eq!(breaks.len(), 2, "{breaks:?}");
    let stale = BTreeMap::from([("a.rs".to_owned(), 900)]);
    assert_eq!(
        against_ceilings("lines", &stale, &[("a.rs", 1_250)], MAX_LINES).len(),
        1
    );
}
