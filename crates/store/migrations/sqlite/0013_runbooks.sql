-- Runbooks (ordered steps kept as JSON), their runs inside tickets and incidents (each run
-- keeps a copy of the steps it started with), and scheduled checks with their occurrences.
CREATE TABLE runbooks (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    steps TEXT NOT NULL,
    service_id INTEGER REFERENCES services (id),
    alert_match TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX runbooks_title ON runbooks (lower(title));

CREATE TABLE runbook_runs (
    id INTEGER PRIMARY KEY,
    runbook_id INTEGER NOT NULL REFERENCES runbooks (id),
    title TEXT NOT NULL,
    steps TEXT NOT NULL,
    ticket_id INTEGER REFERENCES tickets (id),
    incident_id INTEGER REFERENCES incidents (id),
    started_by INTEGER REFERENCES users (id),
    started_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX runbook_runs_ticket ON runbook_runs (ticket_id);
CREATE INDEX runbook_runs_incident ON runbook_runs (incident_id);
CREATE INDEX runbook_runs_open ON runbook_runs (finished_at, started_at);

CREATE TABLE run_steps (
    run_id INTEGER NOT NULL REFERENCES runbook_runs (id),
    position INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    done_by INTEGER REFERENCES users (id),
    done_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, position)
);

CREATE TABLE checks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    runbook_id INTEGER NOT NULL REFERENCES runbooks (id),
    team_id INTEGER NOT NULL REFERENCES teams (id),
    owner_id INTEGER NOT NULL REFERENCES users (id),
    rrule TEXT NOT NULL,
    start_local TEXT NOT NULL,
    zone TEXT NOT NULL,
    window_minutes INTEGER NOT NULL,
    active INTEGER NOT NULL,
    next_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX checks_name ON checks (lower(name));
CREATE INDEX checks_next ON checks (active, next_at);

CREATE TABLE check_occurrences (
    check_id INTEGER NOT NULL REFERENCES checks (id),
    scheduled_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    state TEXT NOT NULL,
    ticket_id INTEGER REFERENCES tickets (id),
    run_id INTEGER REFERENCES runbook_runs (id),
    finished_at INTEGER,
    PRIMARY KEY (check_id, scheduled_at)
);
CREATE INDEX check_occurrences_state ON check_occurrences (state, due_at);
CREATE INDEX check_occurrences_run ON check_occurrences (run_id);
