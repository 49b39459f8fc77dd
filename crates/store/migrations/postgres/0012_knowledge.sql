-- The knowledge base: categories, articles with their full version history, readers'
-- feedback, and the tickets each article was linked to.
CREATE TABLE kb_categories (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX kb_categories_name ON kb_categories (lower(name));

-- title/body/version are the latest version (the working draft); readers see
-- published_version, kept in article_versions.
CREATE TABLE articles (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    category_id BIGINT REFERENCES kb_categories (id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    version BIGINT NOT NULL,
    published_version BIGINT,
    status TEXT NOT NULL,
    visibility TEXT NOT NULL,
    owner_id BIGINT REFERENCES users (id),
    review_by BIGINT,
    problem_id BIGINT REFERENCES problems (id),
    helpful BIGINT NOT NULL DEFAULT 0,
    unhelpful BIGINT NOT NULL DEFAULT 0,
    deflections BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX articles_category ON articles (category_id, id);
CREATE INDEX articles_review ON articles (review_by);
CREATE UNIQUE INDEX articles_problem ON articles (problem_id);

CREATE TABLE article_versions (
    article_id BIGINT NOT NULL REFERENCES articles (id),
    version BIGINT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id BIGINT REFERENCES users (id),
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE article_feedback (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles (id),
    user_id BIGINT REFERENCES users (id),
    helpful BIGINT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX article_feedback_article ON article_feedback (article_id, id);

CREATE TABLE ticket_articles (
    ticket_id BIGINT NOT NULL REFERENCES tickets (id),
    article_id BIGINT NOT NULL REFERENCES articles (id),
    linked_by BIGINT REFERENCES users (id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, article_id)
);
CREATE INDEX ticket_articles_article ON ticket_articles (article_id, ticket_id);
