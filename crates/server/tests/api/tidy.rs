//! The house rules as tests (after rust-analyzer's `tidy`): each reads the workspace's sources
//! and names every line that breaks a rule, so a rule in ARCHITECTURE.md cannot drift from
//! the code without a red test.
//!
//! Where today's code still breaks a rule, the debt is listed here file by file with its size
//! now (`ROLE_DECISIONS`, `EDGE_CLOCK_READS`, `KNOWN_CIRCLES`): a listed file may shrink but
//! never grow, a new file may not join the list, and an entry that no longer breaks the rule
//! must be removed. The last test feeds each check a deliberate violation, so none of them can
//! pass by checking nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest source file, in lines.
const MAX_LINES: usize = 1_200;

/// Lines deciding by role outside `domain::access` today, per file, as a ceiling until each
/// becomes an `Action`.
const ROLE_DECISIONS: &[(&str, usize)] = &[];

/// Clock reads at the edges today, per file, as a ceiling until each handler builds its `Ctx`
/// once (`AppState::ctx`) and passes it on.
const EDGE_CLOCK_READS: &[(&str, usize)] = &[
    ("crates/server/src/http/api/incidents.rs", 1),
    ("crates/server/src/http/api/mod.rs", 1),
    ("crates/server/src/http/api/oncall.rs", 2),
    ("crates/server/src/http/api/reports.rs", 1),
    ("crates/server/src/http/api/status.rs", 1),
    ("crates/server/src/http/hooks/mod.rs", 1),
    ("crates/server/src/http/ui/desk.rs", 2),
    ("crates/server/src/http/ui/help.rs", 1),
    ("crates/server/src/http/ui/incidents.rs", 1),
    ("crates/server/src/http/ui/oncall.rs", 2),
    ("crates/server/src/http/ui/paging.rs", 1),
    ("crates/server/src/http/ui/portal.rs", 3),
    ("crates/server/src/http/ui/session.rs", 2),
    ("crates/server/src/http/ui/status.rs", 5),
    ("crates/server/src/http/ui/survey.rs", 1),
];

/// Statements the store runs on its write pool outside a `Write`, per file: operational state
/// with no history of its own (sessions, idempotency claims, mailbox poll flags, outbox retry
/// times, install secrets), which appends no event. A ceiling: every other change is a `Write`.
const WRITES_OUTSIDE_WRITE: &[(&str, usize)] = &[
    ("crates/store/src/directory.rs", 2),
    ("crates/store/src/firing.rs", 1),
    ("crates/store/src/idempotency.rs", 4),
    ("crates/store/src/mail.rs", 4),
    ("crates/store/src/oncall.rs", 2),
    ("crates/store/src/tickets.rs", 1),
];

/// Store functions that read derived rows on purpose without waiting for the ticket writer's
/// backlog: the SLA scheduler's own reads (a new ticket's first trigger is minutes away, and it
/// looks again within a second), which would otherwise ask the writer for a flush every round.
const UNSETTLED_READS: &[&str] = &["next_sla_trigger", "tickets_with_due_triggers"];

/// Circles between modules today (`crate: modules`), as debt until each is broken: a listed
/// circle may only disappear.
const KNOWN_CIRCLES: &[&str] = &[];

/// The server's floors: which top-level modules a module under `src/<floor>/` may not name.
const FORBIDDEN_IMPORTS: &[(&str, &[&str])] = &[
    // The wire types are the lowest floor; `wire` may name only itself (checked apart).
    (
        "app",
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

/// The server module a file under `crates/server/src/` belongs to (`app` for `app/mod.rs`;
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
    if matches!(floor, "app" | "wire") {
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

/// Lines naming the `Store` type (a parameter, an import): an edge holds `AppState` and passes
/// it on, it never works with the store itself.
fn store_type_names(source: &Source) -> Vec<String> {
    code_lines(&source.text)
        .filter(|(_, l)| {
            l.match_indices("Store").any(|(at, _)| {
                let before = l[..at].chars().last();
                let after = l[at + "Store".len()..].chars().next();
                !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .map(|(n, _)| format!("{}:{n} names `Store`", source.path))
        .collect()
}

/// Authorization asked at an edge (`authorize(`): the application layer's job.
fn edge_authorizations(source: &Source) -> usize {
    code_lines(&source.text)
        .map(|(_, l)| l.matches("authorize(").count())
        .sum()
}

/// A file's module in its crate: `("crates/store", "clocks")`, `("crates/server", "app::sla")`;
/// the crate root is `""`.
fn module_of(path: &str) -> Option<(&str, String)> {
    let (krate, rest) = path.split_once("/src/")?;
    let rest = rest.strip_suffix(".rs")?;
    let rest = rest.strip_suffix("/mod").unwrap_or(rest);
    let module = if rest == "lib" || rest == "main" {
        String::new()
    } else {
        rest.replace('/', "::")
    };
    Some((krate, module))
}

/// The module `path` (`a::b::item`) names: its longest prefix that is a module of the crate.
fn resolve(path: &str, modules: &BTreeSet<String>) -> Option<String> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    (1..=segments.len())
        .rev()
        .map(|n| segments[..n].join("::"))
        .find(|m| modules.contains(m))
}

/// The paths a `use` tree names after `prefix` (`a::b`, `{a, b::{c, d}}`), whole.
fn use_paths(prefix: &str, rest: &str, out: &mut Vec<String>) {
    let head: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let after = &rest[head.len()..];
    let path = format!("{prefix}{head}");
    if (path.is_empty() || path.ends_with("::")) && after.starts_with('{') {
        let mut depth = 0;
        let mut start = 1;
        for (i, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 1 => {
                    use_paths(&path, after[start..i].trim_start(), out);
                    return;
                }
                '}' => depth -= 1,
                ',' if depth == 1 => {
                    use_paths(&path, after[start..i].trim_start(), out);
                    start = i + 1;
                }
                _ => {}
            }
        }
    } else {
        out.push(path);
    }
}

/// The other modules of its crate a file names: through `crate::`, `super::` and, in a
/// `mod.rs` or the crate root, its child modules by their bare names.
fn module_references(text: &str, module: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String = code_lines(text).map(|(_, l)| format!("{l}\n")).collect();
    let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
    let child_prefix = if module.is_empty() {
        String::new()
    } else {
        format!("{module}::")
    };
    let mut paths = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if !code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
            use_paths("", &code[at + "crate::".len()..], &mut paths);
        }
    }
    for (at, _) in code.match_indices("super::") {
        if !code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            let base = if parent.is_empty() {
                String::new()
            } else {
                format!("{parent}::")
            };
            use_paths(&base, &code[at + "super::".len()..], &mut paths);
        }
    }
    for child in modules.iter().filter_map(|m| m.strip_prefix(&child_prefix)) {
        if child.contains("::") {
            continue;
        }
        let needle = format!("{child}::");
        for (at, _) in code.match_indices(&needle) {
            if !code[..at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                use_paths(&child_prefix, &code[at..], &mut paths);
            }
        }
    }
    paths
        .iter()
        .filter_map(|p| resolve(p, modules))
        .filter(|m| m != module)
        .collect()
}

/// Whether `a` contains `b` or `b` contains `a` (a module may use its parent's helpers, and a
/// parent wires its children: neither is a circle between files).
fn nested(a: &str, b: &str) -> bool {
    let within =
        |inner: &str, outer: &str| outer.is_empty() || inner.starts_with(&format!("{outer}::"));
    within(a, b) || within(b, a)
}

/// The circles among the modules of each crate (strongly connected groups of more than one),
/// each as `crate: a, b, c` with its modules sorted.
fn import_circles(sources: &[Source]) -> Vec<String> {
    let mut crates: BTreeMap<&str, Vec<(String, &str)>> = BTreeMap::new();
    for s in sources {
        if let Some((krate, module)) = module_of(&s.path) {
            crates.entry(krate).or_default().push((module, &s.text));
        }
    }
    let mut circles = Vec::new();
    for (krate, files) in crates {
        let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
        let graph: BTreeMap<String, BTreeSet<String>> = files
            .iter()
            .map(|(m, text)| {
                let refs = module_references(text, m, &modules)
                    .into_iter()
                    .filter(|r| !nested(m, r))
                    .collect();
                (m.clone(), refs)
            })
            .collect();
        let reach = |from: &String| {
            let mut seen = BTreeSet::new();
            let mut todo = vec![from.clone()];
            while let Some(m) = todo.pop() {
                for next in graph.get(&m).into_iter().flatten() {
                    if seen.insert(next.clone()) {
                        todo.push(next.clone());
                    }
                }
            }
            seen
        };
        let reachable: BTreeMap<&String, BTreeSet<String>> =
            graph.keys().map(|m| (m, reach(m))).collect();
        let mut placed = BTreeSet::new();
        for m in graph.keys() {
            if placed.contains(m) || !reachable[m].contains(m) {
                continue;
            }
            let group: Vec<&String> = graph
                .keys()
                .filter(|o| reachable[m].contains(*o) && reachable[*o].contains(m))
                .collect();
            placed.extend(group.iter().map(|g| (*g).clone()));
            let names: Vec<&str> = group.iter().map(|g| g.as_str()).collect();
            circles.push(format!("{krate}: {}", names.join(", ")));
        }
    }
    circles
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
        against_ceilings("lines", &lengths, &[], MAX_LINES),
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
        "an edge calls `app`, never the store",
        against_ceilings("store calls", &counts, &[], 0),
    );
    let named: Vec<String> = sources()
        .iter()
        .filter(|s| is_edge(&s.path))
        .flat_map(store_type_names)
        .collect();
    assert_none("an edge never names the `Store` type", named);
}

/// Statements run straight on the write pool (not inside a `Write`).
fn writes_outside_write(source: &Source) -> usize {
    code_lines(&source.text)
        .filter(|(_, l)| l.contains("(&self.write)"))
        .count()
}

#[test]
fn changes_go_through_the_write_transaction() {
    let counts: BTreeMap<String, usize> = sources()
        .iter()
        .filter(|s| s.path.starts_with("crates/store/src/"))
        .map(|s| (s.path.clone(), writes_outside_write(s)))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_none(
        "a change appends its events in a `Write`",
        against_ceilings("statements outside Write", &counts, WRITES_OUTSIDE_WRITE, 0),
    );
}

/// Tables SQLite's ticket writer may fill after its tickets' commit.
const DERIVED_TABLES: &[&str] = &[
    "ticket_clocks",
    "ticket_facts",
    "ticket_gauges",
    "ticket_daily",
    "report_rollup::grouped",
    "report_rollup::all_rows",
];

/// Functions of a store file that read a derived table on the read pool without first
/// calling `settle_derived`, by name.
fn unsettled_reads(source: &Source) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    let mut finish = |f: Option<(String, String)>| {
        if let Some((name, body)) = f {
            let reads =
                body.contains("self.read") && DERIVED_TABLES.iter().any(|t| body.contains(t));
            if reads && !body.contains("settle_derived") {
                out.push(name);
            }
        }
    };
    for (_, line) in code_lines(&source.text) {
        let start = line
            .trim_start()
            .trim_start_matches("pub ")
            .trim_start_matches("pub(crate) ");
        let named = start
            .strip_prefix("async fn ")
            .or_else(|| start.strip_prefix("fn "))
            .filter(|_| line.starts_with("    ") && !line.starts_with("        "));
        if let Some(rest) = named {
            finish(current.take());
            let name = rest.split(['(', '<']).next().unwrap_or_default().to_owned();
            current = Some((name, String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    finish(current);
    out
}

#[test]
fn readers_of_derived_rows_settle_the_ticket_writer_first() {
    let breaks: Vec<String> = sources()
        .iter()
        .filter(|s| s.path.starts_with("crates/store/src/"))
        .flat_map(|s| {
            unsettled_reads(s)
                .into_iter()
                .filter(|name| !UNSETTLED_READS.contains(&name.as_str()))
                .map(|name| format!("{}: {name} reads derived rows unsettled", s.path))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_none(
        "a read of clocks, facts or rollups calls `settle_derived` first",
        breaks,
    );
}

#[test]
fn edges_read_the_clock_only_to_build_a_request_context() {
    let counts: BTreeMap<String, usize> = sources()
        .iter()
        .filter(|s| is_edge(&s.path))
        .map(|s| (s.path.clone(), clock_reads(s).len()))
        .filter(|(_, n)| *n > 0)
        .collect();
    assert_none(
        "a handler reads the clock once, into its Ctx",
        against_ceilings("clock reads", &counts, EDGE_CLOCK_READS, 0),
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
        against_ceilings("authorize calls", &counts, &[], 0),
    );
}

#[test]
fn no_two_modules_import_each_other_in_a_circle() {
    let circles = import_circles(&sources());
    let mut breaks: Vec<String> = circles
        .iter()
        .filter(|c| !KNOWN_CIRCLES.contains(&c.as_str()))
        .map(|c| format!("{c}: a new circle (or a known one grown)"))
        .collect();
    breaks.extend(
        KNOWN_CIRCLES
            .iter()
            .filter(|k| !circles.iter().any(|c| c == *k))
            .map(|k| format!("{k}: gone or changed: remove it from KNOWN_CIRCLES")),
    );
    assert_none("no circles between modules", breaks);
}

/// The names under `[dependencies]` of a `Cargo.toml`.
fn dependencies(manifest: &str) -> Vec<String> {
    manifest
        .lines()
        .skip_while(|l| l.trim() != "[dependencies]")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('['))
        .filter_map(|l| l.split(['.', '=', ' ']).next())
        .map(str::trim)
        .filter(|name| !name.is_empty() && !name.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// The crates a crate of the workspace may not depend on: the floors above it, and for the
/// domain anything but the two crates it needs.
fn crate_breaks(krate: &str, manifest: &str) -> Vec<String> {
    let deps = dependencies(manifest);
    let forbidden = |name: &str| match krate {
        "domain" => !matches!(name, "jiff" | "thiserror"),
        "store" => matches!(
            name,
            "opsdesk-search" | "opsdesk-server" | "axum" | "tantivy"
        ),
        "search" => matches!(name, "opsdesk-store" | "opsdesk-server" | "sqlx"),
        _ => false,
    };
    deps.iter()
        .filter(|d| forbidden(d))
        .map(|d| format!("crates/{krate} depends on {d}"))
        .collect()
}

#[test]
fn each_crate_depends_only_on_the_floors_below_it() {
    let breaks: Vec<String> = ["domain", "store", "search"]
        .iter()
        .flat_map(|krate| {
            let path = workspace().join("crates").join(krate).join("Cargo.toml");
            let manifest = std::fs::read_to_string(&path).unwrap_or_default();
            assert!(!manifest.is_empty(), "{} is missing", path.display());
            crate_breaks(krate, &manifest)
        })
        .collect();
    assert_none(
        "the domain needs only jiff and thiserror; the store knows nothing of the index",
        breaks,
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
    let bypass = source(
        "crates/store/src/x.rs",
        "sqlx::query(\"DELETE FROM tickets\").execute(&self.write).await?;\n",
    );
    assert_eq!(writes_outside_write(&bypass), 1);
    let commented = source("crates/store/src/x.rs", "// never Timestamp::now()\n");
    assert!(clock_reads(&commented).is_empty());

    let ui_on_api = source(
        "crates/server/src/http/ui/x.rs",
        "use crate::http::api::reports::csv_response;\n",
    );
    assert_eq!(floor_breaks(&ui_on_api).len(), 1);
    let app_on_axum = source("crates/server/src/app/mod.rs", "use axum::Json;\n");
    assert_eq!(floor_breaks(&app_on_axum).len(), 1);
    let wire_on_app = source(
        "crates/server/src/wire/desk.rs",
        "fn f() { crate::app::x(); crate::wire::desk::y(); }\n",
    );
    assert_eq!(floor_breaks(&wire_on_app).len(), 1);
    let allowed = source(
        "crates/server/src/http/ui/x.rs",
        "use crate::app::Operator;\n",
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
        "let t = state\n    .store\n    .ticket(id)\n    .await?;\napp::x(&state.store, id);\ncaller.actor.authorize(Action::Administer)?;\n",
    );
    assert_eq!(store_calls(&edge), 1);
    assert_eq!(edge_authorizations(&edge), 1);
    let typed = source(
        "crates/server/src/http/hooks/x.rs",
        "use opsdesk_store::{Integration, Store};\nfn f(s: &Store) {}\nlet x = StoreError::Busy;\n",
    );
    assert_eq!(store_type_names(&typed).len(), 2);
    assert!(is_edge(&edge.path) && !is_edge("crates/server/src/app/mod.rs"));

    let circle = [
        source(
            "crates/x/src/lib.rs",
            "mod a;\nmod b;\nmod c;\nmod d;\npub use a::A;\n",
        ),
        source("crates/x/src/a.rs", "use crate::{b::B, c};\n"),
        source("crates/x/src/b.rs", "fn f() { crate::a::g(); }\n"),
        source("crates/x/src/c.rs", "use super::d::D;\n"),
        source("crates/x/src/d/mod.rs", "mod e;\nfn f() { e::g(); }\n"),
        source("crates/x/src/d/e.rs", "use super::D;\n"),
    ];
    assert_eq!(import_circles(&circle), vec!["crates/x: a, b".to_owned()]);

    let store_on_search = "[package]\nname = \"x\"\n\n[dependencies]\nopsdesk-domain.workspace = true\nopsdesk-search = { path = \"../search\" }\n\n[dev-dependencies]\ntantivy = \"1\"\n";
    assert_eq!(crate_breaks("store", store_on_search).len(), 1);
    assert_eq!(crate_breaks("domain", store_on_search).len(), 2);

    let unsettled = source(
        "crates/store/src/x.rs",
        "impl Store {\n    pub async fn a(&self) {\n        q(\"SELECT 1 FROM ticket_facts\").fetch_all(&self.read);\n    }\n    pub async fn b(&self) {\n        self.settle_derived().await?;\n        q(\"FROM ticket_clocks\").fetch_all(&self.read);\n    }\n    async fn c(&self) {\n        q(\"FROM tickets\").fetch_all(&self.read);\n    }\n}\n",
    );
    assert_eq!(unsettled_reads(&unsettled), ["a"]);

    let grown = BTreeMap::from([("a.rs".to_owned(), 1_300), ("b.rs".to_owned(), 1_201)]);
    let breaks = against_ceilings("lines", &grown, &[("a.rs", 1_250)], MAX_LINES);
    assert_eq!(breaks.len(), 2, "{breaks:?}");
    let stale = BTreeMap::from([("a.rs".to_owned(), 900)]);
    assert_eq!(
        against_ceilings("lines", &stale, &[("a.rs", 1_250)], MAX_LINES).len(),
        1
    );
}
