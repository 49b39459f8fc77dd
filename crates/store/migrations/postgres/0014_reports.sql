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
