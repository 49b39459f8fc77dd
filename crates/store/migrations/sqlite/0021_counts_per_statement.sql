-- Nothing to do on SQLite, which has row triggers only (PostgreSQL's migration 21 moves its
-- counts once per statement).
SELECT 1;
