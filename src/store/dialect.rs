//! What differs between the three SQL stores, kept in one place: the URL scheme that
//! selects a dialect, the placeholder style, and the migrations (the DDL). Every query
//! is written once with `?` placeholders and rewritten here for PostgreSQL.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AssertSqlSafe, SqlSafeStr, SqlStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
    MySql,
}

/// One embedded migration: version, description, SQL per dialect.
struct EmbeddedMigration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    mysql: &'static str,
}

/// Applied in order; a released migration is never edited (sqlx checks its checksum).
const MIGRATIONS: &[EmbeddedMigration] = &[
    EmbeddedMigration {
        version: 1,
        description: "users accounts sessions verification_tokens",
        sqlite: include_str!("migrations/sqlite/0001_init.sql"),
        postgres: include_str!("migrations/postgres/0001_init.sql"),
        mysql: include_str!("migrations/mysql/0001_init.sql"),
    },
    EmbeddedMigration {
        version: 2,
        description: "session browser binding",
        sqlite: include_str!("migrations/sqlite/0002_session_browser.sql"),
        postgres: include_str!("migrations/postgres/0002_session_browser.sql"),
        mysql: include_str!("migrations/mysql/0002_session_browser.sql"),
    },
    EmbeddedMigration {
        version: 3,
        description: "session management",
        sqlite: include_str!("migrations/sqlite/0003_session_management.sql"),
        postgres: include_str!("migrations/postgres/0003_session_management.sql"),
        mysql: include_str!("migrations/mysql/0003_session_management.sql"),
    },
    EmbeddedMigration {
        version: 4,
        description: "shared state",
        sqlite: include_str!("migrations/sqlite/0004_shared_state.sql"),
        postgres: include_str!("migrations/postgres/0004_shared_state.sql"),
        mysql: include_str!("migrations/mysql/0004_shared_state.sql"),
    },
];

impl Dialect {
    /// The dialect a `database.url` selects, by its scheme.
    pub fn of_url(url: &str) -> Option<Dialect> {
        let scheme = url.split_once(':')?.0.to_ascii_lowercase();
        match scheme.as_str() {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            "mysql" | "mariadb" => Some(Dialect::MySql),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
        }
    }

    /// `sql` with its `?` placeholders in this dialect's style (`$1, $2, …` for
    /// PostgreSQL). Question marks inside quoted strings and identifiers are left alone.
    pub fn placeholders(self, sql: &str) -> String {
        if self != Dialect::Postgres {
            return sql.to_string();
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut quote: Option<char> = None;
        let mut index = 0;
        for c in sql.chars() {
            match (quote, c) {
                (None, '\'' | '"' | '`') => {
                    quote = Some(c);
                    out.push(c);
                }
                (Some(open), _) if c == open => {
                    quote = None;
                    out.push(c);
                }
                (None, '?') => {
                    index += 1;
                    out.push('$');
                    out.push_str(&index.to_string());
                }
                _ => out.push(c),
            }
        }
        out
    }

    /// A statement ready for sqlx in this dialect.
    pub fn statement(self, sql: &str) -> SqlStr {
        AssertSqlSafe(self.placeholders(sql)).into_sql_str()
    }

    /// The embedded migrations for this dialect.
    pub fn migrator(self) -> Migrator {
        let migrations: Vec<Migration> = MIGRATIONS
            .iter()
            .map(|migration| {
                let sql = match self {
                    Dialect::Sqlite => migration.sqlite,
                    Dialect::Postgres => migration.postgres,
                    Dialect::MySql => migration.mysql,
                };
                Migration::new(
                    migration.version,
                    Cow::Borrowed(migration.description),
                    MigrationType::Simple,
                    AssertSqlSafe(sql).into_sql_str(),
                    false,
                )
            })
            .collect();
        Migrator {
            migrations: Cow::Owned(migrations),
            table_name: Cow::Borrowed("authgate_migrations"),
            ..Migrator::DEFAULT
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes_select_dialects() {
        let cases = [
            ("sqlite://authgate.db", Some(Dialect::Sqlite)),
            ("sqlite::memory:", Some(Dialect::Sqlite)),
            ("postgres://u@127.0.0.1/db", Some(Dialect::Postgres)),
            ("postgresql://u@127.0.0.1/db", Some(Dialect::Postgres)),
            ("mysql://u@127.0.0.1/db", Some(Dialect::MySql)),
            ("mariadb://u@127.0.0.1/db", Some(Dialect::MySql)),
            ("redis://127.0.0.1", None),
            ("authgate.db", None),
        ];
        for (url, expected) in cases {
            assert_eq!(Dialect::of_url(url), expected, "{url}");
        }
    }

    #[test]
    fn postgres_placeholders_are_numbered_outside_quotes() {
        let sql = "SELECT '?', \"a?\" FROM t WHERE a = ? AND b = ?";
        assert_eq!(
            Dialect::Postgres.placeholders(sql),
            "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b = $2"
        );
        assert_eq!(Dialect::MySql.placeholders(sql), sql);
        assert_eq!(Dialect::Sqlite.placeholders(sql), sql);
    }
}
