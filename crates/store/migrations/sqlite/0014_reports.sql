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
