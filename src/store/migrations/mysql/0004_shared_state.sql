-- State several authgate instances share when `state.backend: database`: sign-in attempt
-- counts, short locks and short-lived values, each with an expiry in Unix milliseconds.
CREATE TABLE shared_state (
    state_key  VARCHAR(191) NOT NULL PRIMARY KEY,
    value      TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    INDEX shared_state_expires_at (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
