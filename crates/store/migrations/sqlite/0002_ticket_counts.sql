-- Ticket counts per team and status, kept by triggers in the same transaction as every ticket
-- change, so queue navigation never scans the tickets table.
CREATE TABLE ticket_counts (
    team_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (team_id, status)
);
INSERT INTO ticket_counts (team_id, status, n) SELECT team_id, status, COUNT(*) FROM tickets GROUP BY team_id, status;

CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets
BEGIN
    INSERT INTO ticket_counts (team_id, status, n) VALUES (NEW.team_id, NEW.status, 1)
    ON CONFLICT (team_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_update AFTER UPDATE OF team_id, status ON tickets
WHEN OLD.team_id <> NEW.team_id OR OLD.status <> NEW.status
BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE team_id = OLD.team_id AND status = OLD.status;
    INSERT INTO ticket_counts (team_id, status, n) VALUES (NEW.team_id, NEW.status, 1)
    ON CONFLICT (team_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets
BEGIN
    UPDATE ticket_counts SET n = n - 1 WHERE team_id = OLD.team_id AND status = OLD.status;
END;
