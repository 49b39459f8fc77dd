-- The daily rollup of the report facts: per UTC day, team, priority, tier, category and
-- assignee, the tickets created that day (cohort 0: first-response outcomes, escalations, arrival
-- hours, how many are still active) and those last resolved that day (cohort 1: reopens, first
-- contact, satisfaction, resolution times). Kept by the store in the transaction of every fact
-- change (opsdesk_store::report_rollup), so a year's report reads tens of thousands of rows.
-- Histograms are `slot:count` lists: duration buckets (calendar and business time; first response
-- for cohort 0, resolution for cohort 1) and hours of the day. No category is '', no assignee 0.
-- The store fills it from the facts on the first start after this migration.
CREATE TABLE ticket_daily (
    cohort INTEGER NOT NULL,
    day INTEGER NOT NULL,
    team_id INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    tier INTEGER NOT NULL,
    category TEXT NOT NULL,
    assignee_id INTEGER NOT NULL,
    tickets INTEGER NOT NULL,
    active INTEGER NOT NULL,
    escalated INTEGER NOT NULL,
    fr_met INTEGER NOT NULL,
    fr_breached INTEGER NOT NULL,
    nr_met INTEGER NOT NULL,
    nr_breached INTEGER NOT NULL,
    res_met INTEGER NOT NULL,
    res_breached INTEGER NOT NULL,
    pu_met INTEGER NOT NULL,
    pu_breached INTEGER NOT NULL,
    reached_l0 INTEGER NOT NULL,
    reached_l1 INTEGER NOT NULL,
    reached_l2 INTEGER NOT NULL,
    reached_l3 INTEGER NOT NULL,
    reached_l4 INTEGER NOT NULL,
    left_l0 INTEGER NOT NULL,
    left_l1 INTEGER NOT NULL,
    left_l2 INTEGER NOT NULL,
    left_l3 INTEGER NOT NULL,
    left_l4 INTEGER NOT NULL,
    reopened INTEGER NOT NULL,
    first_contact INTEGER NOT NULL,
    csat_responses INTEGER NOT NULL,
    csat_score_sum INTEGER NOT NULL,
    csat_satisfied INTEGER NOT NULL,
    calendar_histogram TEXT NOT NULL,
    business_histogram TEXT NOT NULL,
    hour_histogram TEXT NOT NULL,
    PRIMARY KEY (cohort, day, team_id, priority, tier, category, assignee_id)
) WITHOUT ROWID; -- stored in key order: a period's rows are read in sequence, not looked up one by one
-- Created rows still holding active tickets (the backlog), whatever their day: the index holds
-- every column the backlog reads, so it is read without the rows and their histograms.
CREATE INDEX ticket_daily_active ON ticket_daily (cohort, day, team_id, priority, tier, category, assignee_id, active)
    WHERE active > 0;

-- The satisfaction score is a fact of the ticket (the rollup sums it by resolution day).
ALTER TABLE ticket_facts ADD COLUMN csat_score INTEGER;
UPDATE ticket_facts SET csat_score = (SELECT c.score FROM csat_responses c WHERE c.ticket_id = ticket_facts.ticket_id);

-- A report narrowed to one organisation reads that organisation's facts.
CREATE INDEX ticket_facts_org ON ticket_facts (org_id, created_at);
-- The latest satisfaction comments, newest first.
CREATE INDEX csat_responses_answered ON csat_responses (answered_at);
