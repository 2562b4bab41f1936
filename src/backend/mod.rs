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

use crate::plan::Direction;

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

/// How [`Backend::values`] loads a column: the Diesel SQL type its values
/// are read as (the select expression casts to it where the engine needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReadAs {
    /// `BigInt` (booleans too, as 0 and 1).
    Int,
    /// `Double`.
    Float,
    /// `Text`.
    Text,
    /// `Binary`.
    Blob,
}

impl ReadAs {
    /// The one-letter code [`Backend::values`] passes along with each row.
    pub fn code(self) -> char {
        match self {
            ReadAs::Int => 'i',
            ReadAs::Float => 'f',
            ReadAs::Text => 't',
            ReadAs::Blob => 'b',
        }
    }
}

/// One value of a row, as [`Backend::values`] loads it or
/// [`Backend::exec_values`] binds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
    Bool(bool),
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
    /// The way the revision was going (stored as `up` or `down`).
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub direction: Direction,
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub started_at: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub error: Option<String>,
}

impl fmt::Display for PendingRow {
    /// `going up (started <time>)`, then `: <error>` when the run recorded
    /// one; the ID is left to the sentence around it.
    ///
    /// ```
    /// use migraph::backend::PendingRow;
    /// use migraph::Direction;
    ///
    /// let marker = PendingRow {
    ///     id: "5f1c".into(),
    ///     direction: Direction::Up,
    ///     started_at: "2026-11-30T12:00:00.000000Z".into(),
    ///     error: Some("no such table: t".into()),
    /// };
    /// assert_eq!(marker.to_string(), "going up (started 2026-11-30T12:00:00.000000Z): no such table: t");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "going {} (started {})", self.direction, self.started_at)?;
        match &self.error {
            Some(error) => write!(f, ": {error}"),
            None => Ok(()),
        }
    }
}

/// A marker's direction is stored as text, `up` or `down`; anything else is
/// an error, never a guess.
impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for Direction
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        match <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?.as_str() {
            "up" => Ok(Direction::Up),
            "down" => Ok(Direction::Down),
            other => Err(format!("a marker's direction is `{other}`, not `up` or `down`").into()),
        }
    }
}

/// A database error, with the statement context that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
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
    /// PostgreSQL: the version table is not in the configured schema, but a
    /// schema on the `search_path` has one (where earlier releases created
    /// it unqualified). Nothing is read or created until the schema is chosen.
    #[error(
        "schema `public` has no table `{table}`, but schema `{schema}` (on the search_path) has one, \
         where earlier releases created it"
    )]
    TableInOtherSchema { table: String, schema: String },
    #[error("this migraph was built without {backend} support; rebuild it with `--features {feature}`")]
    NotCompiled { backend: &'static str, feature: &'static str },
    /// A statement of a revision's SQL section failed.
    #[error("{} SQL, statement {} at {} (`{}`): {}", .0.direction, .0.number, .0.location, .0.first_line, .0.message)]
    Statement(Box<FailedStatement>),
}

/// Which statement of a revision's SQL section failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedStatement {
    pub direction: crate::plan::Direction,
    /// Its 1-based number in the section.
    pub number: usize,
    /// Where it starts: `file:line` (or the file and the line within the
    /// section when the section cannot be found in the file again).
    pub location: String,
    /// Its first line, trimmed.
    pub first_line: String,
    /// The database's message (which may span several lines).
    pub message: String,
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
    /// Whether migraph opened this connection itself ([`AnyConnection`], what
    /// the command line uses), so that no application shares its session:
    /// outside a Diesel transaction the runner may then send a revision's
    /// transaction control in the same batch as its statements (one round
    /// trip) instead of going through Diesel's transaction manager. `false`
    /// for every connection an application passes in.
    fn owns_session(&self) -> bool {
        false
    }
    /// Loads rows of any shape: `SELECT <expr> AS c0, ... <rest>`, each
    /// expression read as its [`ReadAs`] (NULL is [`Value::Null`]), with
    /// `args` bound to the placeholders of `rest`. Used by `migraph copy`.
    fn values(&mut self, select: &[(String, ReadAs)], rest: &str, args: &[Arg]) -> Result<Vec<Vec<Value>>, DbError> {
        let _ = (select, rest, args);
        Err(DbError::Query("this connection cannot load rows of any shape".into()))
    }
    /// Runs one statement with `values` bound to its placeholders in order.
    fn exec_values(&mut self, sql: &str, values: &[Value]) -> Result<usize, DbError> {
        let _ = (sql, values);
        Err(DbError::Query("this connection cannot bind typed values".into()))
    }
    /// PostgreSQL: runs one statement with each of `columns` bound as a
    /// `text[]` placeholder (`$1`, `$2`, ...), for `INSERT ... SELECT FROM
    /// unnest($1, ...)`. Other engines refuse.
    fn exec_text_arrays(&mut self, sql: &str, columns: &[Vec<Option<String>>]) -> Result<usize, DbError> {
        let _ = (sql, columns);
        Err(DbError::Query("binding text arrays needs PostgreSQL".into()))
    }
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
