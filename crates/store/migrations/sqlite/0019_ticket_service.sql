-- Tickets name the service they are about (optional; staff set it). Reports filter and break
-- down by it: the facts carry it, and a third grain of the rollup, ticket_daily_service, holds
-- the rows of ticket_daily per service for the tickets that have one (ticket_daily and
-- ticket_daily_desk keep service_id 0: a report without a service reads them as before).
-- Nothing to fill: no ticket had a service before this migration.
ALTER TABLE tickets ADD COLUMN service_id INTEGER REFERENCES services (id);
ALTER TABLE ticket_facts ADD COLUMN service_id INTEGER;
ALTER TABLE ticket_daily ADD COLUMN service_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ticket_daily_desk ADD COLUMN service_id INTEGER NOT NULL DEFAULT 0;
CREATE TABLE ticket_daily_service (
    cohort INTEGER NOT NULL,
    day INTEGER NOT NULL,
    team_id INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    tier INTEGER NOT NULL,
    category TEXT NOT NULL,
    assignee_id INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
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
    PRIMARY KEY (cohort, day, service_id, team_id, priority, tier, category, assignee_id)
) WITHOUT ROWID;
