-- The ticket writer may commit new tickets before their clocks, report facts and rollup rows
-- (which it then writes for several batches at once). While it does, `first_ticket` is the
-- lowest ticket id whose derived rows are not written yet; every ticket from it on is
-- recomputed by whichever writer finds it set (after a crash: the next start).
CREATE TABLE derived_backlog (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    first_ticket INTEGER
);
INSERT INTO derived_backlog (id, first_ticket) VALUES (1, NULL);
