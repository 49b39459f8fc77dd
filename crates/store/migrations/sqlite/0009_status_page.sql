-- The public status page: services shown as components, incidents published by their first
-- public update, public updates, and webhook subscribers.
ALTER TABLE services ADD COLUMN public INTEGER NOT NULL DEFAULT 0;
ALTER TABLE incidents ADD COLUMN public_at INTEGER;
-- The title visitors see (set with the first public update; internal titles stay internal).
ALTER TABLE incidents ADD COLUMN public_title TEXT;
CREATE INDEX incidents_public ON incidents (public_at) WHERE public_at IS NOT NULL;

CREATE TABLE status_updates (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    status TEXT NOT NULL,
    impact TEXT NOT NULL,
    body TEXT NOT NULL,
    author_id INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX status_updates_incident ON status_updates (incident_id, id);
CREATE INDEX status_updates_created ON status_updates (created_at);

CREATE TABLE status_subscribers (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX status_subscribers_address ON status_subscribers (kind, address);
