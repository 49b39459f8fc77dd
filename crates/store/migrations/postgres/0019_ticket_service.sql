-- Tickets name the service they are about (optional; staff set it). Reports filter and break
-- down by it: the facts carry it, and two more grains of the rollup hold the tickets that name
-- a service: ticket_daily_service_team per day, service and team (top services, a service's
-- series), ticket_daily_service per day, service and every dimension of ticket_daily (a
-- service's breakdowns; its key starts with the service, which such a query names).
-- ticket_daily and ticket_daily_desk keep service_id 0: a report without a service reads them
-- as before. Nothing to fill: no ticket had a service before this migration.
ALTER TABLE tickets ADD COLUMN service_id BIGINT REFERENCES services (id);
ALTER TABLE ticket_facts ADD COLUMN service_id BIGINT;
ALTER TABLE ticket_daily ADD COLUMN service_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ticket_daily_desk ADD COLUMN service_id BIGINT NOT NULL DEFAULT 0;
CREATE TABLE ticket_daily_service (
    cohort BIGINT NOT NULL,
    day BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    tier BIGINT NOT NULL,
    category TEXT NOT NULL,
    assignee_id BIGINT NOT NULL,
    service_id BIGINT NOT NULL,
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
    PRIMARY KEY (service_id, cohort, day, team_id, priority, tier, category, assignee_id)
);
CREATE TABLE ticket_daily_service_team (
    cohort BIGINT NOT NULL,
    day BIGINT NOT NULL,
    team_id BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    tier BIGINT NOT NULL,
    category TEXT NOT NULL,
    assignee_id BIGINT NOT NULL,
    service_id BIGINT NOT NULL,
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
    PRIMARY KEY (cohort, day, service_id, team_id, priority, tier, category, assignee_id)
);
-- The organisation's covering index carries the service too, so its report still reads the
-- index alone (0018).
DROP INDEX ticket_facts_org_report;
CREATE INDEX ticket_facts_org_report ON ticket_facts (org_id, created_at) INCLUDE (
    resolved_at, team_id, priority, tier, category, assignee_id, service_id, active, escalations,
    fr_met, fr_breached, nr_met, nr_breached, res_met, res_breached, pu_met, pu_breached,
    tiers_reached, escalated_from, reopens, first_contact, csat_score,
    fr_bucket, fr_business_bucket, res_bucket, res_business_bucket
);
