-- The knowledge base: categories, articles with their full version history, readers'
-- feedback, and the tickets each article was linked to.
CREATE TABLE kb_categories (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX kb_categories_name ON kb_categories (lower(name));

-- title/body/version are the latest version (the working draft); readers see
-- published_version, kept in article_versions.
CREATE TABLE articles (
    id INTEGER PRIMARY KEY,
    category_id INTEGER REFERENCES kb_categories (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    version INTEGER NOT NULL,
    published_version INTEGER,
    status TEXT NOT NULL,
    visibility TEXT NOT NULL,
    owner_id INTEGER REFERENCES users (id),
    review_by INTEGER,
    problem_id INTEGER REFERENCES problems (id),
    helpful INTEGER NOT NULL DEFAULT 0,
    unhelpful INTEGER NOT NULL DEFAULT 0,
    deflections INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX articles_category ON articles (category_id, id);
CREATE INDEX articles_review ON articles (review_by);
CREATE UNIQUE INDEX articles_problem ON articles (problem_id);

CREATE TABLE article_versions (
    article_id INTEGER NOT NULL REFERENCES articles (id),
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id INTEGER REFERENCES users (id),
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE article_feedback (
    id INTEGER PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id),
    user_id INTEGER REFERENCES users (id),
    helpful INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX article_feedback_article ON article_feedback (article_id, id);

CREATE TABLE ticket_articles (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    article_id INTEGER NOT NULL REFERENCES articles (id),
    linked_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, article_id)
);
CREATE INDEX ticket_articles_article ON ticket_articles (article_id, ticket_id);
