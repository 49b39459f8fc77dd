-- Post-incident reviews (one per incident, from a template), action items tracked until
-- verified, and problem records (ITIL) linking incidents, with root cause and known error.
CREATE TABLE reviews (
    incident_id INTEGER PRIMARY KEY REFERENCES incidents (id),
    summary TEXT NOT NULL DEFAULT '',
    customer_impact TEXT NOT NULL DEFAULT '',
    timeline TEXT NOT NULL DEFAULT '',
    root_cause TEXT NOT NULL DEFAULT '',
    contributing_factors TEXT NOT NULL DEFAULT '',
    went_well TEXT NOT NULL DEFAULT '',
    went_poorly TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE problems (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    root_cause TEXT NOT NULL DEFAULT '',
    workaround TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE problem_incidents (
    problem_id INTEGER NOT NULL REFERENCES problems (id),
    incident_id INTEGER NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (problem_id, incident_id)
);
CREATE INDEX problem_incidents_incident ON problem_incidents (incident_id);

CREATE TABLE action_items (
    id INTEGER PRIMARY KEY,
    incident_id INTEGER REFERENCES incidents (id),
    problem_id INTEGER REFERENCES problems (id),
    title TEXT NOT NULL,
    owner_id INTEGER NOT NULL REFERENCES users (id),
    due_at INTEGER NOT NULL,
    verification TEXT NOT NULL,
    state TEXT NOT NULL,
    done_at INTEGER,
    verified_at INTEGER,
    verified_by INTEGER REFERENCES users (id),
    reminded_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX action_items_due ON action_items (state, due_at);
CREATE INDEX action_items_incident ON action_items (incident_id);
