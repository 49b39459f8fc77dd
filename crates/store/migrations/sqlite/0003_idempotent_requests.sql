-- Responses to POST requests sent with an Idempotency-Key, so a retry gets the first answer.
-- A row with status 0 is a request still running (or one whose server died mid-way).
CREATE TABLE idempotent_requests (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
);
