-- Report facts: one row per ticket, read off its history in the transaction of every ticket
-- change (with its SLA clocks), so reports aggregate rows instead of replaying timelines.
-- Durations are whole seconds; *_bucket columns are their log-linear histogram buckets
-- (opsdesk_domain::report::duration_bucket), so percentiles come from one GROUP BY.
CREATE TABLE ticket_facts (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id),
    team_id BIGINT NOT NULL,
    org_id BIGINT,
    assignee_id BIGINT,
    priority BIGINT NOT NULL,
    tier BIGINT NOT NULL,
    category TEXT,
    channel TEXT NOT NULL,
    active BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    first_response_at BIGINT,
    fr_secs BIGINT,
    fr_business_secs BIGINT,
    fr_bucket BIGINT,
    fr_business_bucket BIGINT,
    resolved_at BIGINT,
    res_secs BIGINT,
    res_business_secs BIGINT,
    res_bucket BIGINT,
    res_business_bucket BIGINT,
    reopens BIGINT NOT NULL,
    desk_replies BIGINT NOT NULL,
    escalations BIGINT NOT NULL,
    tiers_reached BIGINT NOT NULL,
    escalated_from BIGINT NOT NULL,
    first_contact BIGINT NOT NULL,
    fr_met BIGINT NOT NULL,
    fr_breached BIGINT NOT NULL,
    nr_met BIGINT NOT NULL,
    nr_breached BIGINT NOT NULL,
    res_met BIGINT NOT NULL,
    res_breached BIGINT NOT NULL,
    pu_met BIGINT NOT NULL,
    pu_breached BIGINT NOT NULL
);
CREATE INDEX ticket_facts_created ON ticket_facts (created_at);
CREATE INDEX ticket_facts_resolved ON ticket_facts (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX ticket_facts_active ON ticket_facts (active, created_at);

-- Customer satisfaction: the requester's answer to the survey sent on resolution (1–5 and a
-- comment); answering again replaces it (each answer is an event on the ticket).
CREATE TABLE csat_responses (
    ticket_id BIGINT PRIMARY KEY REFERENCES tickets (id),
    score BIGINT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    answered_at BIGINT NOT NULL
);

-- Active tickets per team, priority and tier (for /metrics), kept by triggers on the report
-- facts in the same transaction, so a scrape reads a few rows instead of the active tickets.
CREATE TABLE ticket_gauges (
    team_id BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    tier BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (team_id, priority, tier)
);

CREATE FUNCTION ticket_gauges_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.active = 1 THEN
        UPDATE ticket_gauges SET n = n - 1
        WHERE team_id = OLD.team_id AND priority = OLD.priority AND tier = OLD.tier;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.active = 1 THEN
        INSERT INTO ticket_gauges (team_id, priority, tier, n) VALUES (NEW.team_id, NEW.priority, NEW.tier, 1)
        ON CONFLICT (team_id, priority, tier) DO UPDATE SET n = ticket_gauges.n + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ticket_gauges_insert AFTER INSERT OR DELETE ON ticket_facts
FOR EACH ROW EXECUTE FUNCTION ticket_gauges_keep();
CREATE TRIGGER ticket_gauges_update AFTER UPDATE OF active, team_id, priority, tier ON ticket_facts
FOR EACH ROW WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.team_id IS DISTINCT FROM NEW.team_id
    OR OLD.priority IS DISTINCT FROM NEW.priority OR OLD.tier IS DISTINCT FROM NEW.tier)
EXECUTE FUNCTION ticket_gauges_keep();

-- Breaches by metric for /metrics without reading every firing.
CREATE INDEX sla_firings_trigger ON sla_firings (trigger_key, metric);
