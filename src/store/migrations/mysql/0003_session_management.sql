-- Account and session management: disabled users and their "not before" time for
-- sessions, when an account was linked, what a session shows its user (created, last seen,
-- user agent), and the JWT sessions a store keeps track of (by their stable `sid`).
ALTER TABLE users ADD COLUMN disabled_at BIGINT NULL;
ALTER TABLE users ADD COLUMN sessions_not_before BIGINT NULL;
ALTER TABLE accounts ADD COLUMN created_at BIGINT NULL;
ALTER TABLE sessions ADD COLUMN created_at BIGINT NULL;
ALTER TABLE sessions ADD COLUMN last_seen BIGINT NULL;
ALTER TABLE sessions ADD COLUMN user_agent VARCHAR(512) NULL;
CREATE TABLE jwt_sessions (
    sid        VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id    VARCHAR(255) NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL,
    expires    BIGINT NOT NULL,
    user_agent VARCHAR(512) NULL,
    KEY jwt_sessions_user_id (user_id),
    KEY jwt_sessions_expires (expires)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
