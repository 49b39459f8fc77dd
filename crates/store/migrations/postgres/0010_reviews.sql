-- Post-incident reviews (one per incident, from a template), action items tracked until
-- verified, and problem records (ITIL) linking incidents, with root cause and known error.
CREATE TABLE reviews (
    incident_id BIGINT PRIMARY KEY REFERENCES incidents (id),
    summary TEXT NOT NULL DEFAULT '',
    customer_impact TEXT NOT NULL DEFAULT '',
    timeline TEXT NOT NULL DEFAULT '',
    root_cause TEXT NOT NULL DEFAULT '',
    contributing_factors TEXT NOT NULL DEFAULT '',
    went_well TEXT NOT NULL DEFAULT '',
    went_poorly TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE problems (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    root_cause TEXT NOT NULL DEFAULT '',
    workaround TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE problem_incidents (
    problem_id BIGINT NOT NULL REFERENCES problems (id),
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    PRIMARY KEY (problem_id, incident_id)
);
CREATE INDEX problem_incidents_incident ON problem_incidents (incident_id);

CREATE TABLE action_items (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT REFERENCES incidents (id),
    problem_id BIGINT REFERENCES problems (id),
    title TEXT NOT NULL,
    owner_id BIGINT NOT NULL REFERENCES users (id),
    due_at BIGINT NOT NULL,
    verification TEXT NOT NULL,
    state TEXT NOT NULL,
    done_at BIGINT,
    verified_at BIGINT,
    verified_by BIGINT REFERENCES users (id),
    reminded_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX action_items_due ON action_items (state, due_at);
CREATE INDEX action_items_incident ON action_items (incident_id);
