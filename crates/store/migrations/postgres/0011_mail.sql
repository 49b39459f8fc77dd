-- E-mail in and out: mailboxes (IMAP intake, SMTP sending), every message in or out with its
-- headers and delivery state, attachments, editable templates, organisations' mail domains,
-- and the cursor of the worker that turns events into mail.
CREATE TABLE mailboxes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    display_name TEXT NOT NULL,
    team_id BIGINT NOT NULL REFERENCES teams (id),
    imap_host TEXT,
    imap_port BIGINT NOT NULL,
    imap_security TEXT NOT NULL,
    imap_user TEXT NOT NULL DEFAULT '',
    imap_password TEXT NOT NULL DEFAULT '',
    imap_folder TEXT NOT NULL DEFAULT 'INBOX',
    smtp_host TEXT,
    smtp_port BIGINT NOT NULL,
    smtp_security TEXT NOT NULL,
    smtp_user TEXT NOT NULL DEFAULT '',
    smtp_password TEXT NOT NULL DEFAULT '',
    max_attachment_bytes BIGINT NOT NULL,
    sender_limit_per_hour BIGINT NOT NULL,
    tls_ca TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    uid_validity BIGINT,
    last_uid BIGINT NOT NULL DEFAULT 0,
    last_polled_at BIGINT,
    poll_requested BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX mailboxes_name ON mailboxes (lower(name));
CREATE UNIQUE INDEX mailboxes_address ON mailboxes (address);

CREATE TABLE org_domains (
    domain TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES orgs (id)
);

CREATE TABLE mail_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mailbox_id BIGINT REFERENCES mailboxes (id),
    direction TEXT NOT NULL,
    ticket_id BIGINT REFERENCES tickets (id),
    ticket_message_id BIGINT REFERENCES messages (id),
    message_id TEXT,
    in_reply_to TEXT,
    refs TEXT NOT NULL DEFAULT '',
    from_addr TEXT NOT NULL,
    to_addrs TEXT NOT NULL,
    subject TEXT NOT NULL,
    headers TEXT NOT NULL,
    html TEXT,
    raw BYTEA,
    state TEXT NOT NULL,
    reason TEXT,
    automatic TEXT,
    purpose TEXT,
    outbox_id BIGINT REFERENCES outbox (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX mail_messages_message_id ON mail_messages (message_id);
CREATE INDEX mail_messages_ticket ON mail_messages (ticket_id, id);
CREATE INDEX mail_messages_sender ON mail_messages (direction, from_addr, created_at);
CREATE INDEX mail_messages_recipient ON mail_messages (direction, to_addrs, created_at);
CREATE INDEX mail_messages_outbox ON mail_messages (outbox_id);

CREATE TABLE attachments (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mail_id BIGINT NOT NULL REFERENCES mail_messages (id),
    ticket_id BIGINT REFERENCES tickets (id),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA,
    rejected TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_mail ON attachments (mail_id);
CREATE INDEX attachments_ticket ON attachments (ticket_id);

CREATE TABLE mail_templates (
    key TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

ALTER TABLE messages ADD COLUMN quoted TEXT;

CREATE TABLE event_cursors (
    name TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
-- The notifier mails what happens from now on, not the history before this migration.
INSERT INTO event_cursors (name, seq) SELECT 'mail', COALESCE(MAX(seq), 0) FROM events;
