use opsdesk_domain::Tier;

use super::*;
use crate::{Audience, Change, Doc};

fn doc(kind: Kind, id: i64, title: &str, text: &str, audience: Audience) -> Doc {
    Doc {
        kind,
        id,
        title: title.into(),
        text: text.into(),
        internal: String::new(),
        tags: Vec::new(),
        status: "open".into(),
        team: Some(1),
        org: match audience {
            Audience::Organisation(org) => Some(org),
            _ => None,
        },
        audience,
        created: id * 1_000_000,
        updated: id * 1_000_000,
    }
}

fn staff() -> SearchReach {
    SearchReach {
        internal: true,
        tickets: Confinement::None,
        articles: ArticleReach::All,
        records: true,
    }
}

fn customer(org: i64) -> SearchReach {
    SearchReach {
        internal: false,
        tickets: Confinement::Organisation(org),
        articles: ArticleReach::Public,
        records: false,
    }
}

fn agent(tier: Tier) -> SearchReach {
    SearchReach {
        internal: true,
        tickets: Confinement::None,
        articles: ArticleReach::UpToTier(tier),
        records: true,
    }
}

fn index() -> SearchIndex {
    let index = SearchIndex::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let mut secret = doc(
        Kind::Ticket,
        3,
        "Printer jam in Leeds",
        "The tray is stuck",
        Audience::Organisation(2),
    );
    secret.internal = "customer owes money, hold the engineer".into();
    let mut tagged = doc(
        Kind::Ticket,
        4,
        "Mail stopped",
        "nothing arrives",
        Audience::Requester(40),
    );
    tagged.tags = vec!["exchange".into()];
    tagged.status = "resolved".into();
    let changes = vec![
        Change::Put(doc(
            Kind::Ticket,
            1,
            "VPN drops every hour",
            "Since Monday the VPN disconnects <b>hourly</b>",
            Audience::Organisation(1),
        )),
        Change::Put(doc(
            Kind::Ticket,
            2,
            "Cannot print",
            "The printer in Leeds is offline",
            Audience::Organisation(1),
        )),
        Change::Put(secret),
        Change::Put(tagged),
        Change::Put(doc(
            Kind::Article,
            5,
            "Fix VPN disconnects",
            "Lower the MTU to 1400",
            Audience::Public,
        )),
        Change::Put(doc(
            Kind::Article,
            6,
            "VPN concentrator failover",
            "internal steps",
            Audience::Staff,
        )),
        Change::Put(doc(
            Kind::Article,
            7,
            "VPN key rotation",
            "L3 only",
            Audience::Tier(3),
        )),
        Change::Put(doc(
            Kind::Incident,
            8,
            "VPN gateway down",
            "paged",
            Audience::Staff,
        )),
    ];
    index.apply(&changes, 42).unwrap_or_else(|e| panic!("{e}"));
    index
}

fn ids(index: &SearchIndex, text: &str, reach: &SearchReach) -> Vec<(Kind, i64)> {
    let query = SearchQuery {
        text: text.into(),
        limit: 20,
        ..SearchQuery::default()
    };
    let mut found: Vec<(Kind, i64)> = index
        .search(&query, reach)
        .unwrap_or_else(|e| panic!("{e}"))
        .hits
        .into_iter()
        .map(|h| (h.kind, h.id))
        .collect();
    found.sort_by_key(|(_, id)| *id);
    found
}

#[test]
fn the_cursor_moves_with_the_documents() {
    let index = index();
    assert_eq!(index.cursor().ok().flatten(), Some(42));
    assert_eq!(index.documents(), 8);
    index
        .apply(&[Change::Remove(Kind::Ticket, 1)], 43)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(index.cursor().ok().flatten(), Some(43));
    assert_eq!(index.documents(), 7);
}

#[test]
fn a_customer_finds_only_their_organisation_and_public_articles() {
    let index = index();
    assert_eq!(
        ids(&index, "vpn", &customer(1)),
        vec![(Kind::Ticket, 1), (Kind::Article, 5)]
    );
    assert_eq!(ids(&index, "vpn", &customer(2)), vec![(Kind::Article, 5)]);
    assert_eq!(ids(&index, "leeds", &customer(1)), vec![(Kind::Ticket, 2)]);
    assert_eq!(ids(&index, "leeds", &customer(2)), vec![(Kind::Ticket, 3)]);
    let alone = SearchReach {
        tickets: Confinement::Requester(40),
        ..customer(0)
    };
    assert_eq!(ids(&index, "mail", &alone), vec![(Kind::Ticket, 4)]);
    assert!(ids(&index, "mail", &customer(1)).is_empty());
    assert_eq!(
        ids(&index, "vpn", &SearchReach::ANONYMOUS),
        vec![(Kind::Article, 5)]
    );
}

#[test]
fn internal_notes_are_found_by_staff_only() {
    let index = index();
    assert_eq!(ids(&index, "engineer", &staff()), vec![(Kind::Ticket, 3)]);
    assert!(ids(&index, "engineer", &customer(2)).is_empty());
    let found = index
        .search(
            &SearchQuery {
                text: "engineer".into(),
                limit: 5,
                ..SearchQuery::default()
            },
            &staff(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(found.hits[0].snippet_html.contains("<mark>engineer</mark>"));
}

#[test]
fn tier_restricted_articles_need_the_tier() {
    let index = index();
    let l1 = ids(&index, "vpn", &agent(Tier::L1));
    assert!(l1.contains(&(Kind::Article, 6)));
    assert!(!l1.contains(&(Kind::Article, 7)));
    assert!(l1.contains(&(Kind::Incident, 8)));
    assert!(ids(&index, "vpn", &agent(Tier::L3)).contains(&(Kind::Article, 7)));
    assert!(ids(&index, "rotation", &staff()).contains(&(Kind::Article, 7)));
}

#[test]
fn prefixes_typos_tags_and_accents_match() {
    let index = index();
    assert_eq!(
        ids(&index, "print", &staff()),
        vec![(Kind::Ticket, 2), (Kind::Ticket, 3)],
        "print and printer"
    );
    assert_eq!(
        ids(&index, "print ", &staff()),
        vec![(Kind::Ticket, 2)],
        "a finished word is not a prefix"
    );
    assert_eq!(
        ids(&index, "pirnter", &staff()),
        vec![(Kind::Ticket, 2), (Kind::Ticket, 3)],
        "swapped letters"
    );
    assert_eq!(ids(&index, "exchange", &staff()), vec![(Kind::Ticket, 4)]);
    assert_eq!(
        ids(&index, "LÉEDS", &staff()),
        vec![(Kind::Ticket, 2), (Kind::Ticket, 3)]
    );
    assert_eq!(
        ids(&index, "vpn monday", &staff()),
        vec![(Kind::Ticket, 1)],
        "every word must match"
    );
}

#[test]
fn filters_and_ordering() {
    let index = index();
    let run = |query: SearchQuery| {
        index
            .search(&SearchQuery { limit: 10, ..query }, &staff())
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let articles = run(SearchQuery {
        text: "vpn".into(),
        kinds: vec![Kind::Article],
        ..SearchQuery::default()
    });
    assert!(articles.hits.iter().all(|h| h.kind == Kind::Article));
    assert_eq!(articles.hits.len(), 3);
    let resolved = run(SearchQuery {
        status: Some("resolved".into()),
        ..SearchQuery::default()
    });
    assert_eq!(
        resolved.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![4]
    );
    let of_org = run(SearchQuery {
        org: Some(2),
        ..SearchQuery::default()
    });
    assert_eq!(
        of_org.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![3]
    );
    let window = run(SearchQuery {
        from: Some(2_000_000),
        to: Some(4_000_000),
        ..SearchQuery::default()
    });
    assert_eq!(
        window.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![3, 2]
    );
    let newest = run(SearchQuery {
        text: "vpn".into(),
        order: Order::Recency,
        ..SearchQuery::default()
    });
    assert_eq!(
        newest.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![8, 7, 6, 5, 1]
    );
    let page = index
        .search(
            &SearchQuery {
                text: "vpn".into(),
                limit: 2,
                order: Order::Recency,
                ..SearchQuery::default()
            },
            &staff(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(page.more);
    let rest = index
        .search(
            &SearchQuery {
                text: "vpn".into(),
                limit: 5,
                offset: 2,
                order: Order::Recency,
                ..SearchQuery::default()
            },
            &staff(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!rest.more);
    assert_eq!(
        rest.hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![6, 5, 1]
    );
}

#[test]
fn titles_rank_first_and_snippets_are_escaped() {
    let index = index();
    let found = index
        .search(
            &SearchQuery {
                text: "hourly".into(),
                limit: 5,
                ..SearchQuery::default()
            },
            &staff(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let snippet = &found.hits[0].snippet_html;
    assert!(
        snippet.contains("&lt;b&gt;<mark>hourly</mark>&lt;/b&gt;"),
        "{snippet}"
    );
    let vpn = index
        .search(
            &SearchQuery {
                text: "disconnects".into(),
                limit: 5,
                ..SearchQuery::default()
            },
            &staff(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        vpn.hits[0].id, 5,
        "the title match ranks above the body match"
    );
    assert_eq!(vpn.hits[0].title_html, "Fix VPN <mark>disconnects</mark>");
}

#[test]
fn suggestions_search_titles_only() {
    let index = index();
    let found = index
        .search(
            &SearchQuery {
                text: "mtu".into(),
                titles_only: true,
                kinds: vec![Kind::Article],
                limit: 5,
                ..SearchQuery::default()
            },
            &SearchReach::ANONYMOUS,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(found.hits.is_empty());
    let found = index
        .search(
            &SearchQuery {
                text: "fix vp".into(),
                titles_only: true,
                kinds: vec![Kind::Article],
                limit: 5,
                ..SearchQuery::default()
            },
            &SearchReach::ANONYMOUS,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(found.hits.iter().map(|h| h.id).collect::<Vec<_>>(), vec![5]);
}

#[test]
fn one_edit_is_one_edit() {
    assert!(within_one_edit("printer", "printer"));
    assert!(within_one_edit("printer", "pirnter"));
    assert!(within_one_edit("printer", "printe"));
    assert!(within_one_edit("printer", "printers"));
    assert!(within_one_edit("printer", "prinzer"));
    assert!(!within_one_edit("printer", "pritners"));
    assert!(!within_one_edit("printer", "paintar"));
}

#[test]
fn an_index_on_disk_keeps_its_cursor_and_refuses_a_second_writer() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    {
        let index = SearchIndex::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(index.cursor().ok().flatten(), None);
        index
            .apply(
                &[Change::Put(doc(
                    Kind::Article,
                    1,
                    "Reset a password",
                    "steps",
                    Audience::Public,
                ))],
                7,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            SearchIndex::open(dir.path()),
            Err(SearchError::InUse(_))
        ));
    }
    let again = SearchIndex::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.cursor().ok().flatten(), Some(7));
    assert_eq!(again.documents(), 1);
}

#[test]
fn a_word_the_index_holds_marks_only_itself() {
    let index = SearchIndex::in_memory().unwrap_or_else(|e| panic!("{e}"));
    let changes = vec![Change::Put(doc(
        Kind::Ticket,
        1,
        "Printer offline",
        "the printer and the printers",
        Audience::Staff,
    ))];
    index.apply(&changes, 1).unwrap_or_else(|e| panic!("{e}"));
    let found = index
        .search(
            &SearchQuery {
                text: "printer ".into(),
                limit: 5,
                ..SearchQuery::default()
            },
            &staff(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        found.hits[0].snippet_html,
        "the <mark>printer</mark> and the printers"
    );
}
