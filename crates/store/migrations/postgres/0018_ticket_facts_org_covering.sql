-- A report narrowed to one organisation reads that organisation's facts (about one ticket in
-- fifty, scattered over the table). With every column the report reads in the index, they are
-- read from the index alone: at 1,000,000 tickets, 20,000 facts in 13 ms instead of 120 ms
-- (15,000 table pages). It replaces the narrower index of 0015.
CREATE INDEX ticket_facts_org_report ON ticket_facts (org_id, created_at) INCLUDE (
    resolved_at, team_id, priority, tier, category, assignee_id, active, escalations,
    fr_met, fr_breached, nr_met, nr_breached, res_met, res_breached, pu_met, pu_breached,
    tiers_reached, escalated_from, reopens, first_contact, csat_score,
    fr_bucket, fr_business_bucket, res_bucket, res_business_bucket
);
DROP INDEX ticket_facts_org;
