-- On-call schedules: rotation layers (later layers win) and overrides (win over all).
CREATE TABLE schedules (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX schedules_name ON schedules (lower(name));

CREATE TABLE schedule_layers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule_id BIGINT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    zone TEXT NOT NULL,
    turn TEXT NOT NULL,
    -- JSON array of user ids, in turn order.
    participants TEXT NOT NULL,
    hours TEXT
);
CREATE INDEX schedule_layers_schedule ON schedule_layers (schedule_id, position);

CREATE TABLE schedule_overrides (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    schedule_id BIGINT NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX schedule_overrides_schedule ON schedule_overrides (schedule_id, ends_at);

-- Escalation policies; `spec` is JSON: {"repeats": n, "levels": [{"timeout_minutes": m,
-- "targets": [{"kind": "user"|"schedule"|"team", "id": n}]}]}.
CREATE TABLE escalation_policies (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    spec TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX escalation_policies_name ON escalation_policies (lower(name));
ALTER TABLE services ADD COLUMN escalation_policy_id BIGINT REFERENCES escalation_policies (id);

-- Where a person is paged: a signed JSON webhook or a Slack-compatible incoming webhook.
CREATE TABLE contact_methods (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX contact_methods_user ON contact_methods (user_id);

-- One paging run per incident at a time: the next (round, level) to page and when. `next_at`
-- is NULL once the run stopped (acknowledged, resolved, or every level paged).
CREATE TABLE paging_runs (
    incident_id BIGINT PRIMARY KEY REFERENCES incidents (id),
    policy_id BIGINT NOT NULL REFERENCES escalation_policies (id),
    run BIGINT NOT NULL,
    round BIGINT NOT NULL,
    level BIGINT NOT NULL,
    next_at BIGINT,
    started_at BIGINT NOT NULL,
    stopped_at BIGINT,
    stop_reason TEXT
);
CREATE INDEX paging_runs_due ON paging_runs (next_at) WHERE next_at IS NOT NULL;

-- Every page sent: once per incident, run, round, level and person.
CREATE TABLE pages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    run BIGINT NOT NULL,
    round BIGINT NOT NULL,
    level BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    answered_at BIGINT,
    answer TEXT
);
CREATE UNIQUE INDEX pages_once ON pages (incident_id, run, round, level, user_id);

-- Per-installation secrets (the key that signs page links and webhooks).
CREATE TABLE install_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
