-- Account and session management: disabled users and their "not before" time for
-- sessions, when an account was linked, what a session shows its user (created, last seen,
-- user agent), and the JWT sessions a store keeps track of (by their stable `sid`).
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
ALTER TABLE users ADD COLUMN sessions_not_before BIGINT;
ALTER TABLE accounts ADD COLUMN created_at BIGINT;
ALTER TABLE sessions ADD COLUMN created_at BIGINT;
ALTER TABLE sessions ADD COLUMN last_seen BIGINT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
CREATE TABLE jwt_sessions (
    sid        TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    expires    BIGINT NOT NULL,
    user_agent TEXT
);
CREATE INDEX jwt_sessions_user_id ON jwt_sessions (user_id);
CREATE INDEX jwt_sessions_expires ON jwt_sessions (expires);
