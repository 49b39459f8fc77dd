-- Nothing to do on PostgreSQL, whose ticket writer writes derived rows in the commit of their
-- tickets (SQLite's migration 22 adds the ticket writer's derived backlog).
SELECT 1;
