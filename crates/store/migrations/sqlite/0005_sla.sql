-- SLA: business calendars, policies, the clocks cached per ticket, escalation firings,
-- in-app notifications and the outbox that delivers webhooks (and later mail) exactly once.

CREATE TABLE calendars (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    zone TEXT NOT NULL,
    -- Seven lines, Monday first, each "09:00-12:00, 13:00-17:00" or empty (closed).
    hours TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX calendars_name ON calendars (lower(name));

CREATE TABLE calendar_holidays (
    id INTEGER PRIMARY KEY,
    calendar_id INTEGER NOT NULL REFERENCES calendars (id),
    -- "2026-12-24" (once) or "12-25" (every year).
    date TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX calendar_holidays_calendar ON calendar_holidays (calendar_id);

-- The default calendar a fresh desk starts with: around the clock, UTC.
INSERT INTO calendars (name, zone, hours, is_default, created_at, updated_at)
VALUES ('Around the clock', 'UTC', '00:00-24:00
00:00-24:00
00:00-24:00
00:00-24:00
00:00-24:00
00:00-24:00
00:00-24:00', 1, 0, 0);

ALTER TABLE teams ADD COLUMN calendar_id INTEGER REFERENCES calendars (id);
ALTER TABLE orgs ADD COLUMN calendar_id INTEGER REFERENCES calendars (id);
ALTER TABLE orgs ADD COLUMN plan TEXT;
ALTER TABLE tickets ADD COLUMN pending_reason TEXT;
ALTER TABLE tickets ADD COLUMN sla_policy_id INTEGER;
-- The nearest due instant of a running clock; the largest integer when none runs, so the
-- queue sorts by it with a plain index and a keyset cursor.
ALTER TABLE tickets ADD COLUMN sla_due_at INTEGER NOT NULL DEFAULT 9223372036854775807;
-- When the clock with the nearest due instant turns "warning" (75 % of its target used).
ALTER TABLE tickets ADD COLUMN sla_warn_at INTEGER;
CREATE INDEX tickets_team_due ON tickets (team_id, sla_due_at, id);
CREATE INDEX tickets_due ON tickets (sla_due_at, id);

-- Policies in order; conditions, targets, pauses and levels are one JSON document (spec).
CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX sla_policies_name ON sla_policies (lower(name));

-- Bumped in the same transaction as every calendar or policy change: every node reloads
-- its cached configuration when it sees a new version.
CREATE TABLE sla_config (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL
);
INSERT INTO sla_config (id, version) VALUES (1, 1);

-- The clocks of each ticket: a cache of a pure function of (events, policy, calendar).
CREATE TABLE ticket_clocks (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    metric TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    policy_id INTEGER NOT NULL,
    state TEXT NOT NULL,
    target_minutes INTEGER NOT NULL,
    business INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    stopped_at INTEGER,
    due_at INTEGER,
    warn_at INTEGER,
    elapsed_secs INTEGER NOT NULL,
    paused_secs INTEGER NOT NULL,
    -- The next trigger (breach or escalation level) not yet fired; the scheduler sleeps until
    -- the smallest one.
    next_at INTEGER,
    PRIMARY KEY (ticket_id, metric, cycle)
);
CREATE INDEX ticket_clocks_next ON ticket_clocks (next_at) WHERE next_at IS NOT NULL;

-- Each breach (trigger -1) and each escalation level (trigger = its position) fires once per
-- ticket, policy, metric and clock cycle: the primary key is the guarantee.
CREATE TABLE sla_firings (
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    policy_id INTEGER NOT NULL,
    metric TEXT NOT NULL,
    cycle INTEGER NOT NULL,
    trigger_key INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    fired_at INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, policy_id, metric, cycle, trigger_key)
);

-- Background recomputation after a policy or calendar edit, with its progress.
CREATE TABLE sla_jobs (
    id INTEGER PRIMARY KEY,
    reason TEXT NOT NULL,
    total INTEGER NOT NULL,
    done INTEGER NOT NULL,
    after_ticket INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    ticket_id INTEGER REFERENCES tickets (id),
    text TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notifications_user ON notifications (user_id, id);

-- Messages to the outside world, written in the transaction that decided to send them and
-- delivered (with retries) by a worker: nothing is lost or sent twice across a restart.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    delivered_at INTEGER,
    last_error TEXT
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
