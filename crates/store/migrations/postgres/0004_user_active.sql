-- Users can be deactivated: they keep their history but cannot sign in or use API tokens.
ALTER TABLE users ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
