-- Nothing to do on SQLite: the ticket writer registers opsdesk_histogram_add on its own
-- connection (PostgreSQL defines it in its migration 20).
SELECT 1;
