//! The credentials `lookup`: the operator's own SQL finds the user by the submitted
//! fields, which are bound by name (`:username`), never spliced into the text.

use sqlx::any::AnyRow;
use sqlx::{Row, SqlStr};

use super::dialect::Dialect;
use super::sql::SqlStore;
use super::{StoreError, StoreResult};

/// A lookup query in its dialect's placeholder style, and the fields it binds, in order.
#[derive(Debug, Clone)]
pub struct PreparedLookup {
    sql: SqlStr,
    pub parameters: Vec<String>,
}

/// The row a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupUser {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub image: Option<String>,
    pub password_hash: Option<String>,
}

/// The `:name` parameters of `query`, in order of appearance, and the query with each
/// replaced by `?`. Quoted text and PostgreSQL casts (`::text`) are left alone.
pub fn named_parameters(query: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(query.len());
    let mut names = Vec::new();
    let mut quote: Option<char> = None;
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(open), _) => {
                if c == open {
                    quote = None;
                }
                out.push(c);
            }
            (None, '\'' | '"' | '`') => {
                quote = Some(c);
                out.push(c);
            }
            (None, ':') if chars.peek() == Some(&':') => {
                out.push_str("::");
                chars.next();
            }
            (None, ':')
                if chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphabetic() || *n == '_') =>
            {
                let mut name = String::new();
                while let Some(n) = chars.peek().copied() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                names.push(name);
                out.push('?');
            }
            _ => out.push(c),
        }
    }
    (out, names)
}

impl PreparedLookup {
    pub fn new(query: &str, dialect: Dialect) -> PreparedLookup {
        let (positional, parameters) = named_parameters(query);
        PreparedLookup {
            sql: dialect.statement(&positional),
            parameters,
        }
    }
}

fn text_column(row: &AnyRow, name: &str) -> Result<Option<String>, sqlx::Error> {
    // Integer ids are common in existing user tables.
    match row.try_get::<Option<String>, _>(name) {
        Ok(value) => Ok(value),
        Err(sqlx::Error::ColumnNotFound(column)) => Err(sqlx::Error::ColumnNotFound(column)),
        Err(_) => Ok(row
            .try_get::<Option<i64>, _>(name)?
            .map(|number| number.to_string())),
    }
}

fn optional_column(row: &AnyRow, name: &str) -> Result<Option<String>, sqlx::Error> {
    match text_column(row, name) {
        Err(sqlx::Error::ColumnNotFound(_)) => Ok(None),
        other => other,
    }
}

impl SqlStore {
    /// `Adapter::lookup_user` over the pool.
    pub(super) async fn run_lookup(
        &self,
        lookup: &PreparedLookup,
        fields: &std::collections::BTreeMap<String, String>,
    ) -> StoreResult<Option<LookupUser>> {
        let mut query = sqlx::query(lookup.sql.clone());
        for parameter in &lookup.parameters {
            query = query.bind(fields.get(parameter).cloned().unwrap_or_default());
        }
        let row = query
            .fetch_optional(self.pool())
            .await
            .map_err(super::sql::classify)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let read = || -> Result<LookupUser, sqlx::Error> {
            Ok(LookupUser {
                id: text_column(&row, "id")?.unwrap_or_default(),
                name: optional_column(&row, "name")?,
                email: optional_column(&row, "email")?,
                image: optional_column(&row, "image")?,
                password_hash: text_column(&row, "password_hash")?,
            })
        };
        let user = read().map_err(|error| {
            StoreError::Other(format!(
                "credentials lookup must return `id` and `password_hash`: {error}"
            ))
        })?;
        Ok((!user.id.is_empty()).then_some(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_positional_in_order() {
        let cases: [(&str, &str, &[&str]); 4] = [
            (
                "SELECT * FROM u WHERE login = :username OR mail = :username",
                "SELECT * FROM u WHERE login = ? OR mail = ?",
                &["username", "username"],
            ),
            (
                "SELECT id::text AS id FROM u WHERE name = :name AND x = ':not'",
                "SELECT id::text AS id FROM u WHERE name = ? AND x = ':not'",
                &["name"],
            ),
            ("SELECT 1", "SELECT 1", &[]),
            ("WHERE a=:a_1,:b", "WHERE a=?,?", &["a_1", "b"]),
        ];
        for (query, positional, names) in cases {
            let (sql, found) = named_parameters(query);
            assert_eq!(sql, positional, "{query}");
            assert_eq!(found, names.to_vec(), "{query}");
        }
    }
}
