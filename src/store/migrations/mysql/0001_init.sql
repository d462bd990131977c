-- authgate store, MySQL/MariaDB dialect. Timestamps are Unix seconds. Binary collation,
-- so that lookups match exactly, as they do in PostgreSQL and SQLite.
CREATE TABLE users (
    id             VARCHAR(255) NOT NULL PRIMARY KEY,
    name           TEXT,
    email          VARCHAR(320) UNIQUE,
    email_verified BIGINT,
    image          TEXT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE accounts (
    id                  VARCHAR(255) NOT NULL PRIMARY KEY,
    user_id             VARCHAR(255) NOT NULL,
    type                VARCHAR(32) NOT NULL,
    provider            VARCHAR(255) NOT NULL,
    provider_account_id VARCHAR(255) NOT NULL,
    refresh_token       TEXT,
    access_token        TEXT,
    expires_at          BIGINT,
    token_type          VARCHAR(255),
    scope               TEXT,
    id_token            TEXT,
    session_state       TEXT,
    UNIQUE KEY accounts_provider_account (provider, provider_account_id),
    KEY accounts_user_id (user_id),
    CONSTRAINT accounts_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- session_token holds the SHA-256 of the cookie value, never the value itself.
CREATE TABLE sessions (
    session_token VARCHAR(64) NOT NULL PRIMARY KEY,
    user_id       VARCHAR(255) NOT NULL,
    expires       BIGINT NOT NULL,
    KEY sessions_user_id (user_id),
    KEY sessions_expires (expires),
    CONSTRAINT sessions_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE verification_tokens (
    identifier VARCHAR(320) NOT NULL,
    token      VARCHAR(255) NOT NULL,
    expires    BIGINT NOT NULL,
    PRIMARY KEY (identifier, token),
    KEY verification_tokens_expires (expires)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
