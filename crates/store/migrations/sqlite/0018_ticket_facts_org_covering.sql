-- PostgreSQL reads an organisation's facts from a covering index from this version on (its
-- table pages are not in memory). SQLite reads them through ticket_facts_org fast enough
-- (BENCHMARKS.md), and a covering index there would be a second copy of every fact row to
-- rewrite on each ticket change: nothing to do.
SELECT 1;
