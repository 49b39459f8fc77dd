-- The daily rollup of the report facts: per UTC day, team, priority, tier, category and
-- assignee, the tickets created that day (cohort 0: first-response outcomes, escalations, arrival
-- hours, how many are still active) and those last resolved that day (cohort 1: reopens, first
-- contact, satisfaction, resolution times). Kept by the store in the transaction of every fact
-- change (opsdesk_store::report_rollup), so a year's report reads tens of thousands of rows.
-- Histograms are `slot:count` lists: duration buckets (calendar and business time; first response
-- for cohort 0, resolution for cohort 1) and hours of the day. No category is '', no assignee 0.
-- The store fills it from the facts on the first start after this migration.
CREATE TABLE ticket_daily (
    cohort BIGINT NOT NULL,
    day BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    tier BIGINT NOT NULL,
    category TEXT NOT NULL,
    assignee_id BIGINT NOT NULL,
    tickets BIGINT NOT NULL,
    active BIGINT NOT NULL,
    escalated BIGINT NOT NULL,
    fr_met BIGINT NOT NULL,
    fr_breached BIGINT NOT NULL,
    nr_met BIGINT NOT NULL,
    nr_breached BIGINT NOT NULL,
    res_met BIGINT NOT NULL,
    res_breached BIGINT NOT NULL,
    pu_met BIGINT NOT NULL,
    pu_breached BIGINT NOT NULL,
    reached_l0 BIGINT NOT NULL,
    reached_l1 BIGINT NOT NULL,
    reached_l2 BIGINT NOT NULL,
    reached_l3 BIGINT NOT NULL,
    reached_l4 BIGINT NOT NULL,
    left_l0 BIGINT NOT NULL,
    left_l1 BIGINT NOT NULL,
    left_l2 BIGINT NOT NULL,
    left_l3 BIGINT NOT NULL,
    left_l4 BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    first_contact BIGINT NOT NULL,
    csat_responses BIGINT NOT NULL,
    csat_score_sum BIGINT NOT NULL,
    csat_satisfied BIGINT NOT NULL,
    calendar_histogram TEXT NOT NULL,
    business_histogram TEXT NOT NULL,
    hour_histogram TEXT NOT NULL,
    PRIMARY KEY (cohort, day, team_id, priority, tier, category, assignee_id)
);
-- Created rows still holding active tickets (the backlog), whatever their day: the index holds
-- every column the backlog reads, so it is read without the rows and their histograms.
CREATE INDEX ticket_daily_active ON ticket_daily (cohort, day, team_id, priority, tier, category, assignee_id, active)
    WHERE active > 0;

-- The satisfaction score is a fact of the ticket (the rollup sums it by resolution day).
ALTER TABLE ticket_facts ADD COLUMN csat_score BIGINT;
UPDATE ticket_facts SET csat_score = (SELECT c.score FROM csat_responses c WHERE c.ticket_id = ticket_facts.ticket_id);

-- A report narrowed to one organisation reads that organisation's facts.
CREATE INDEX ticket_facts_org ON ticket_facts (org_id, created_at);
-- The latest satisfaction comments, newest first.
CREATE INDEX csat_responses_answered ON csat_responses (answered_at);
