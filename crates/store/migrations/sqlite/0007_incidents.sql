-- Services: what alerts and incidents are about.
CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    team_id INTEGER REFERENCES teams (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX services_name ON services (lower(name));

-- Inbound alert integrations, one per monitoring source. The secret token is kept only as its
-- SHA-256 hash; `settings` is JSON (severity map, group-by labels, service label, quiet period,
-- rate limit, generic field mapping).
CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    service_id INTEGER REFERENCES services (id),
    team_id INTEGER REFERENCES teams (id),
    settings TEXT NOT NULL,
    alert_count INTEGER NOT NULL DEFAULT 0,
    last_alert_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX integrations_name ON integrations (lower(name));
CREATE UNIQUE INDEX integrations_token ON integrations (token_hash);

-- Maintenance windows: alerts of their services are recorded but open no incident.
CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    zone TEXT NOT NULL,
    recurrence TEXT NOT NULL,
    until_at INTEGER,
    created_by INTEGER REFERENCES users (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE maintenance_services (
    window_id INTEGER NOT NULL REFERENCES maintenance_windows (id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services (id),
    PRIMARY KEY (window_id, service_id)
);

-- Incidents. `auto_resolve_at` is set when the last alert resolved: the incident resolves then
-- unless an alert fires again first.
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    service_id INTEGER REFERENCES services (id),
    team_id INTEGER REFERENCES teams (id),
    integration_id INTEGER REFERENCES integrations (id),
    group_key TEXT,
    commander_id INTEGER REFERENCES users (id),
    comms_id INTEGER REFERENCES users (id),
    summary TEXT NOT NULL DEFAULT '',
    detected_at INTEGER NOT NULL,
    acknowledged_at INTEGER,
    mitigated_at INTEGER,
    resolved_at INTEGER,
    auto_resolve_at INTEGER,
    alert_count INTEGER NOT NULL DEFAULT 0,
    firing_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX incidents_group ON incidents (integration_id, group_key, id);
CREATE INDEX incidents_status ON incidents (status, id);
CREATE INDEX incidents_auto_resolve ON incidents (auto_resolve_at) WHERE auto_resolve_at IS NOT NULL;

CREATE TABLE incident_services (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    PRIMARY KEY (incident_id, service_id)
);

CREATE TABLE incident_tickets (
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    linked_at INTEGER NOT NULL,
    PRIMARY KEY (incident_id, ticket_id)
);
CREATE INDEX incident_tickets_ticket ON incident_tickets (ticket_id);

-- Alerts, one row per identity (integration, fingerprint); a repeat updates the row.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations (id),
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    incident_id INTEGER REFERENCES incidents (id),
    service_id INTEGER REFERENCES services (id),
    severity TEXT NOT NULL,
    summary TEXT NOT NULL,
    group_key TEXT NOT NULL,
    labels TEXT NOT NULL,
    annotations TEXT NOT NULL,
    source_url TEXT,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    receipts INTEGER NOT NULL DEFAULT 1,
    suppressed_by INTEGER
);
CREATE UNIQUE INDEX alerts_identity ON alerts (integration_id, fingerprint);
CREATE INDEX alerts_incident ON alerts (incident_id);
