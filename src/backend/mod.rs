//! Databases, through Diesel connections.
//!
//! All logic lives above this module: the [`Backend`] trait needs only four
//! primitives (run a batch of statements, run one statement with bound
//! values, load version rows, load one integer), implemented for Diesel's
//! `SqliteConnection`, `PgConnection` and `MysqlConnection` in `connection.rs`.
//! An application that already holds one of those connections passes it to
//! the runner as it is; the command line opens an [`AnyConnection`] from a
//! URL. What differs between databases (placeholders, DDL, locks, quoting)
//! is plain text produced by [`sql::Dialect`].

mod connection;
pub mod split;
pub mod sql;

use std::fmt;

use thiserror::Error;

pub use connection::AnyConnection;
pub use sql::Dialect;

/// A value bound to a statement placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    NullableText(Option<String>),
    Int(i64),
}

/// One row of the version table.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct VersionRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub parents: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub message: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub checksum: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub down_sql: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub applied_at: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub execution_ms: i64,
}

/// A revision whose SQL started without committing together with its
/// version row (MySQL, or `transaction: false`), kept in `<table>_pending`
/// until its row is written. A leftover marker means the run failed or was
/// killed in the middle, and the schema may be half changed.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName, serde::Serialize)]
pub struct PendingRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub direction: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub started_at: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub error: Option<String>,
}

/// A database error, with the statement context that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DbError {
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error("{0}")]
    Query(String),
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH, sqlite::memory:, a file path, postgres://… or mysql://…"
    )]
    UnsupportedUrl(String),
    #[error("this migraph was built without {backend} support; rebuild it with `--features {feature}`")]
    NotCompiled { backend: &'static str, feature: &'static str },
}

impl From<diesel::result::Error> for DbError {
    fn from(error: diesel::result::Error) -> Self {
        DbError::Query(error.to_string().trim_end().to_string())
    }
}

/// What the runner needs from a database connection.
pub trait Backend {
    /// Which SQL dialect the connection speaks.
    fn dialect(&self) -> Dialect;
    /// Runs SQL that may contain several statements.
    fn batch(&mut self, sql: &str) -> Result<(), DbError>;
    /// Runs one statement with `args` bound to its placeholders.
    fn exec(&mut self, sql: &str, args: &[Arg]) -> Result<usize, DbError>;
    /// Loads version rows (the statement selects the seven columns).
    fn version_rows(&mut self, sql: &str) -> Result<Vec<VersionRow>, DbError>;
    /// Loads pending markers.
    fn pending_rows(&mut self, sql: &str) -> Result<Vec<PendingRow>, DbError>;
    /// Loads one integer, selected as `v` (NULL is `None`).
    fn int(&mut self, sql: &str, args: &[Arg]) -> Result<Option<i64>, DbError>;
    /// Loads one text value, selected as `v` (NULL is `None`).
    fn text(&mut self, sql: &str, args: &[Arg]) -> Result<Option<String>, DbError>;
}

/// Which kind of database a URL names.
pub fn dialect_of(url: &str) -> Result<Dialect, DbError> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        Ok(Dialect::Postgres)
    } else if lower.starts_with("mysql://") {
        Ok(Dialect::Mysql)
    } else if lower.starts_with("sqlite:") || !url.contains("://") {
        Ok(Dialect::Sqlite)
    } else {
        Err(DbError::UnsupportedUrl(crate::backend::redact(url)))
    }
}

/// The file a SQLite URL names, or `None` for an in-memory database.
pub fn sqlite_path(url: &str) -> Option<String> {
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    let path = path.split('?').next().unwrap_or(path);
    (path != ":memory:" && !path.is_empty()).then(|| path.to_string())
}

/// Where a URL keeps secrets: the userinfo password (everything between the
/// first `:` and the last `@` before the path, so `#`, `?` and `@` inside a
/// password stay inside it) and `password=` query parameters.
fn secret_spans(url: &str) -> Vec<std::ops::Range<usize>> {
    let mut spans = Vec::new();
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return spans };
    let rest = &url[scheme_end..];
    let path = rest.find('/').unwrap_or(rest.len());
    let mut query_from = scheme_end;
    if let Some(at) = rest[..path].rfind('@') {
        if let Some(colon) = rest[..at].find(':') {
            spans.push(scheme_end + colon + 1..scheme_end + at);
        }
        query_from = scheme_end + at;
    }
    if let Some(q) = url[query_from..].find('?').map(|q| query_from + q + 1) {
        let mut start = q;
        for pair in url[q..].split('&') {
            if let Some((key, value)) = pair.split_once('=') {
                if key.eq_ignore_ascii_case("password") && !value.is_empty() {
                    let from = start + key.len() + 1;
                    spans.push(from..from + value.len());
                }
            }
            start += pair.len() + 1;
        }
    }
    spans.retain(|span| !span.is_empty());
    spans
}

/// The URL with any password replaced by `***`, for every message and log.
pub fn redact(url: &str) -> String {
    let mut out = url.to_string();
    for span in secret_spans(url).into_iter().rev() {
        out.replace_range(span, "***");
    }
    out
}

/// The secrets in a URL (to scrub them from driver messages).
pub fn secrets(url: &str) -> Vec<String> {
    secret_spans(url).into_iter().map(|span| url[span].to_string()).collect()
}

/// Replaces every secret of `url` in `text` with `***`.
pub fn scrub(text: &str, url: &str) -> String {
    let mut secrets = secrets(url);
    secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len())); // `pw2` before its prefix `pw`
    secrets.iter().fold(text.to_string(), |text, secret| text.replace(secret.as_str(), "***"))
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgresql",
            Dialect::Mysql => "mysql",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(dialect_of("sqlite://x.db"), Ok(Dialect::Sqlite));
        assert_eq!(dialect_of("sqlite::memory:"), Ok(Dialect::Sqlite));
        assert_eq!(dialect_of("data/app.db"), Ok(Dialect::Sqlite));
        assert_eq!(dialect_of("postgresql://u@h/db"), Ok(Dialect::Postgres));
        assert_eq!(dialect_of("postgres://u@h/db"), Ok(Dialect::Postgres));
        assert_eq!(dialect_of("mysql://root@h/db"), Ok(Dialect::Mysql));
        assert!(
            matches!(dialect_of("oracle://u:pw@h/db"), Err(DbError::UnsupportedUrl(u)) if u == "oracle://u:***@h/db")
        );
        assert_eq!(sqlite_path("sqlite://x.db"), Some("x.db".into()));
        assert_eq!(sqlite_path("sqlite:///abs/x.db"), Some("/abs/x.db".into()));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("rel/x.db"), Some("rel/x.db".into()));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("mysql://root:p@ss@h/db?x=1"), "mysql://root:***@h/db?x=1");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
        assert_eq!(secrets("mysql://root:p@ss@h/db"), ["p@ss"]);
        assert!(secrets("mysql://root@h/db").is_empty());
        assert_eq!(redact("postgres://u:s3cr3t#pw@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("postgres://u:a?b@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("postgres://u@h/db?sslmode=require&password=pw1&x=2"),
            "postgres://u@h/db?sslmode=require&password=***&x=2"
        );
        assert_eq!(redact("postgres://u:pw@h/db?PASSWORD=pw2"), "postgres://u:***@h/db?PASSWORD=***");
        assert_eq!(
            scrub("failed for u:pw@h with pw2", "postgres://u:pw@h/db?password=pw2"),
            "failed for u:***@h with ***"
        );
    }
}
