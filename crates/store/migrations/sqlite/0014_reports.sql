-- Report facts: one row per ticket, read off its history in the transaction of every ticket
-- change (with its SLA clocks), so reports aggregate rows instead of replaying timelines.
-- Durations are whole seconds; *_bucket columns are their log-linear histogram buckets
-- (opsdesk_domain::report::duration_bucket), so percentiles come from one GROUP BY.
CREATE TABLE ticket_facts (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
    team_id INTEGER NOT NULL,
    org_id INTEGER,
    assignee_id INTEGER,
    priority INTEGER NOT NULL,
    tier INTEGER NOT NULL,
    category TEXT,
    channel TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    first_response_at INTEGER,
    fr_secs INTEGER,
    fr_business_secs INTEGER,
    fr_bucket INTEGER,
    fr_business_bucket INTEGER,
    resolved_at INTEGER,
    res_secs INTEGER,
    res_business_secs INTEGER,
    res_bucket INTEGER,
    res_business_bucket INTEGER,
    reopens INTEGER NOT NULL,
    desk_replies INTEGER NOT NULL,
    escalations INTEGER NOT NULL,
    tiers_reached INTEGER NOT NULL,
    escalated_from INTEGER NOT NULL,
    first_contact INTEGER NOT NULL,
    fr_met INTEGER NOT NULL,
    fr_breached INTEGER NOT NULL,
    nr_met INTEGER NOT NULL,
    nr_breached INTEGER NOT NULL,
    res_met INTEGER NOT NULL,
    res_breached INTEGER NOT NULL,
    pu_met INTEGER NOT NULL,
    pu_breached INTEGER NOT NULL
);
CREATE INDEX ticket_facts_created ON ticket_facts (created_at);
CREATE INDEX ticket_facts_resolved ON ticket_facts (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX ticket_facts_active ON ticket_facts (active, created_at);

-- Customer satisfaction: the requester's answer to the survey sent on resolution (1–5 and a
-- comment); answering again replaces it (each answer is an event on the ticket).
CREATE TABLE csat_responses (
    ticket_id INTEGER PRIMARY KEY REFERENCES tickets (id),
    score INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    answered_at INTEGER NOT NULL
);

-- Active tickets per team, priority and tier (for /metrics), kept by triggers on the report
-- facts in the same transaction, so a scrape reads a few rows instead of the active tickets.
CREATE TABLE ticket_gauges (
    team_id INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    tier INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (team_id, priority, tier)
);

CREATE TRIGGER ticket_gauges_insert AFTER INSERT ON ticket_facts WHEN NEW.active = 1
BEGIN
    INSERT INTO ticket_gauges (team_id, priority, tier, n) VALUES (NEW.team_id, NEW.priority, NEW.tier, 1)
    ON CONFLICT (team_id, priority, tier) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_gauges_update AFTER UPDATE OF active, team_id, priority, tier ON ticket_facts
WHEN OLD.active <> NEW.active OR OLD.team_id <> NEW.team_id OR OLD.priority <> NEW.priority OR OLD.tier <> NEW.tier
BEGIN
    UPDATE ticket_gauges SET n = n - 1
    WHERE OLD.active = 1 AND team_id = OLD.team_id AND priority = OLD.priority AND tier = OLD.tier;
    INSERT INTO ticket_gauges (team_id, priority, tier, n)
    SELECT NEW.team_id, NEW.priority, NEW.tier, 1 WHERE NEW.active = 1
    ON CONFLICT (team_id, priority, tier) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_gauges_delete AFTER DELETE ON ticket_facts WHEN OLD.active = 1
BEGIN
    UPDATE ticket_gauges SET n = n - 1
    WHERE team_id = OLD.team_id AND priority = OLD.priority AND tier = OLD.tier;
END;

-- Breaches by metric for /metrics without reading every firing.
CREATE INDEX sla_firings_trigger ON sla_firings (trigger_key, metric);
