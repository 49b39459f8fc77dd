-- Ticket counts per team and status, kept by triggers in the same transaction as every ticket
-- change, so queue navigation never scans the tickets table.
CREATE TABLE ticket_counts (
    team_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (team_id, status)
);
INSERT INTO ticket_counts (team_id, status, n) SELECT team_id, status, COUNT(*) FROM tickets GROUP BY team_id, status;

CREATE FUNCTION ticket_counts_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE ticket_counts SET n = n - 1 WHERE team_id = OLD.team_id AND status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO ticket_counts (team_id, status, n) VALUES (NEW.team_id, NEW.status, 1)
        ON CONFLICT (team_id, status) DO UPDATE SET n = ticket_counts.n + 1;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ticket_counts_insert AFTER INSERT OR DELETE ON tickets
FOR EACH ROW EXECUTE FUNCTION ticket_counts_keep();
CREATE TRIGGER ticket_counts_update AFTER UPDATE OF team_id, status ON tickets
FOR EACH ROW WHEN (OLD.team_id IS DISTINCT FROM NEW.team_id OR OLD.status IS DISTINCT FROM NEW.status)
EXECUTE FUNCTION ticket_counts_keep();
