-- State several authgate instances share when `state.backend: database`: sign-in attempt
-- counts, short locks and short-lived values, each with an expiry in Unix milliseconds.
CREATE TABLE shared_state (
    state_key  TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX shared_state_expires_at ON shared_state (expires_at);
