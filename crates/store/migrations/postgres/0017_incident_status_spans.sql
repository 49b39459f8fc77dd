-- Each stay of an incident in a status: entered at `since`, left at `until` (none while it is
-- there). Written by the store whenever an incident is opened or moves
-- (opsdesk_store::incidents::enter_status); the incident report sums them into the time spent
-- in each status. Incidents from before this migration get theirs from their status events.
CREATE TABLE incident_status_spans (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    status TEXT NOT NULL,
    since BIGINT NOT NULL,
    until BIGINT
);
CREATE INDEX incident_status_spans_incident ON incident_status_spans (incident_id, since);

-- The first stay: from detection to the first move (the status before it), or still there.
INSERT INTO incident_status_spans (incident_id, status, since, until)
SELECT i.id,
       COALESCE((SELECT (e.data::json ->> 'before') FROM events e
                 WHERE e.subject_kind = 'incident' AND e.subject_id = i.id AND e.kind = 'incident.status'
                 ORDER BY e.seq LIMIT 1), i.status),
       i.detected_at,
       (SELECT e.at FROM events e
        WHERE e.subject_kind = 'incident' AND e.subject_id = i.id AND e.kind = 'incident.status'
        ORDER BY e.seq LIMIT 1)
FROM incidents i;
-- Every move starts a stay that the next move ends.
INSERT INTO incident_status_spans (incident_id, status, since, until)
SELECT subject_id, (data::json ->> 'after'), at, LEAD(at) OVER (PARTITION BY subject_id ORDER BY seq)
FROM events
WHERE subject_kind = 'incident' AND kind = 'incident.status';
