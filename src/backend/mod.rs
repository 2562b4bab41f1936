//! Databases, through Diesel connections.
//!
//! All logic lives above this module: the [`Backend`] trait needs only a few
//! primitives (run a batch of statements, run one statement with bound
//! values, load rows or one value, and transactions through Diesel's
//! transaction manager, never raw `BEGIN`/`COMMIT`), implemented for Diesel's
//! `SqliteConnection`, `PgConnection` and `MysqlConnection` in `connection.rs`.
//! An application that already holds one of those connections passes it to
//! the runner as it is; the command line opens an [`AnyConnection`] from a
//! URL. What differs between databases (placeholders, DDL, locks, quoting)
//! is plain text produced by [`sql::Dialect`].

mod connection;
pub mod split;
pub mod sql;
mod url;

use std::fmt;

use thiserror::Error;

pub use self::url::{redact, scrub, secrets, DatabaseUrl, SqliteUrl, LONG_SECRET, SQLITE_PARAMETERS};
pub use connection::{AnyConnection, DEFAULT_BUSY_TIMEOUT};
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
    /// Its depends-on IDs, space-separated (NULL in rows of older releases).
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub depends_on: Option<String>,
    /// 1 when it ran in a transaction, 0 for `transaction: false` (so a
    /// stored down section runs the same way).
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub transaction: i64,
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
        "unsupported database URL `{0}`: use sqlite://PATH, sqlite::memory:, a file: URI, a file path, postgres://…, mysql://… or mariadb://…"
    )]
    UnsupportedUrl(String),
    /// A URL that cannot be used (shown redacted), and why.
    #[error("invalid database URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },
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
    /// Whether the connection is inside a transaction opened through
    /// Diesel's transaction manager (`Connection::transaction`,
    /// `begin_test_transaction`, or [`Backend::with_transaction`]).
    fn in_transaction(&mut self) -> Result<bool, DbError>;
    /// Runs `body` in a transaction through Diesel's transaction manager:
    /// committed when `body` returns `Ok`, rolled back when it returns `Err`
    /// or panics (the panic then continues, with the connection restored).
    /// Outside a transaction it begins one (SQLite: `BEGIN IMMEDIATE`, so the
    /// write lock is taken at once); inside one it nests as a savepoint, so
    /// the caller's rollback still undoes everything `body` did.
    fn with_transaction(
        &mut self,
        body: &mut dyn FnMut(&mut dyn Backend) -> Result<(), DbError>,
    ) -> Result<(), DbError>;
}

/// Which kind of database a URL names (the URL is checked in full; see
/// [`DatabaseUrl::parse`]).
pub fn dialect_of(url: &str) -> Result<Dialect, DbError> {
    DatabaseUrl::parse(url).map(|parsed| parsed.dialect())
}

/// The file a SQLite URL names, exactly as the file system names it (for
/// `--backup` and the run lock); `None` for an in-memory database, and for
/// a URL that is not a valid SQLite URL.
pub fn sqlite_path(url: &str) -> Option<String> {
    DatabaseUrl::parse(url).ok()?.sqlite_path().map(str::to_string)
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
