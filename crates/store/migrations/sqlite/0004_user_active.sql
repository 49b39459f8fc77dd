-- Users can be deactivated: they keep their history but cannot sign in or use API tokens.
ALTER TABLE users ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
