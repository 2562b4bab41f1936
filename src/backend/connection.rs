//! [`Backend`] for Diesel's connections, and [`AnyConnection`] opened from a URL.

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::{dialect_of, redact, scrub, sqlite_path, Arg, Backend, DbError, Dialect, PendingRow, VersionRow};

#[derive(QueryableByName)]
struct IntRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    v: Option<i64>,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

/// Implements [`Backend`] for one Diesel connection type: the same code,
/// compiled against each backend's concrete types.
macro_rules! diesel_backend {
    ($feature:literal, $conn:ty, $db:ty, $dialect:expr) => {
        #[cfg(feature = $feature)]
        impl Backend for $conn {
            fn dialect(&self) -> Dialect {
                $dialect
            }

            fn batch(&mut self, sql: &str) -> Result<(), DbError> {
                Ok(self.batch_execute(sql)?)
            }

            fn exec(&mut self, sql: &str, args: &[Arg]) -> Result<usize, DbError> {
                Ok(bind(diesel::sql_query(sql).into_boxed::<$db>(), args).execute(self)?)
            }

            fn version_rows(&mut self, sql: &str) -> Result<Vec<VersionRow>, DbError> {
                Ok(diesel::sql_query(sql).load::<VersionRow>(self)?)
            }

            fn pending_rows(&mut self, sql: &str) -> Result<Vec<PendingRow>, DbError> {
                Ok(diesel::sql_query(sql).load::<PendingRow>(self)?)
            }

            fn int(&mut self, sql: &str, args: &[Arg]) -> Result<Option<i64>, DbError> {
                let rows = bind(diesel::sql_query(sql).into_boxed::<$db>(), args).load::<IntRow>(self)?;
                Ok(rows.into_iter().next().and_then(|row| row.v))
            }

            fn text(&mut self, sql: &str, args: &[Arg]) -> Result<Option<String>, DbError> {
                let rows = bind(diesel::sql_query(sql).into_boxed::<$db>(), args).load::<TextRow>(self)?;
                Ok(rows.into_iter().next().and_then(|row| row.v))
            }
        }
    };
}

/// Binds `args` in order to a boxed raw query.
fn bind<'f, DB>(
    mut query: diesel::query_builder::BoxedSqlQuery<'f, DB, diesel::query_builder::SqlQuery>,
    args: &[Arg],
) -> diesel::query_builder::BoxedSqlQuery<'f, DB, diesel::query_builder::SqlQuery>
where
    DB: diesel::backend::Backend + diesel::sql_types::HasSqlType<Text> + diesel::sql_types::HasSqlType<BigInt>,
    String: diesel::serialize::ToSql<Text, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    Option<String>: diesel::serialize::ToSql<Nullable<Text>, DB>,
{
    for arg in args {
        query = match arg.clone() {
            Arg::Text(text) => query.bind::<Text, _>(text),
            Arg::NullableText(text) => query.bind::<Nullable<Text>, _>(text),
            Arg::Int(n) => query.bind::<BigInt, _>(n),
        };
    }
    query
}

diesel_backend!("sqlite", diesel::SqliteConnection, diesel::sqlite::Sqlite, Dialect::Sqlite);
diesel_backend!("postgres", diesel::PgConnection, diesel::pg::Pg, Dialect::Postgres);
diesel_backend!("mysql", diesel::MysqlConnection, diesel::mysql::Mysql, Dialect::Mysql);

/// How long a fresh SQLite connection waits for another writer.
#[cfg(feature = "sqlite")]
const SQLITE_BUSY_TIMEOUT_MS: u32 = 60_000;

/// A connection to whichever database a URL names.
pub enum AnyConnection {
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

impl AnyConnection {
    /// Opens the database `url` names. `sqlite://PATH`, `sqlite::memory:`
    /// and bare paths are SQLite; `postgres://`, `postgresql://` and
    /// `mysql://` go to the server. Errors never show the password.
    pub fn connect(url: &str) -> Result<AnyConnection, DbError> {
        let fail = |e: diesel::ConnectionError| DbError::Connect {
            url: redact(url),
            message: scrub(&e.to_string(), url).trim_end().to_string(),
        };
        // Drivers want the scheme in lower case (`POSTGRES://` is valid URL syntax).
        let scheme_len = url.find("://").unwrap_or(0);
        let url = &format!("{}{}", url[..scheme_len].to_ascii_lowercase(), &url[scheme_len..]);
        match dialect_of(url)? {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                let target = sqlite_path(url).unwrap_or_else(|| ":memory:".to_string());
                let mut conn = diesel::SqliteConnection::establish(&target).map_err(fail)?;
                // Wait for other writers instead of failing with "database is
                // locked" (the runner sets its own lock timeout later).
                conn.batch_execute(&format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"))?;
                Ok(AnyConnection::Sqlite(conn))
            }
            #[cfg(feature = "postgres")]
            Dialect::Postgres => diesel::PgConnection::establish(url).map(AnyConnection::Postgres).map_err(fail),
            #[cfg(feature = "mysql")]
            Dialect::Mysql => diesel::MysqlConnection::establish(url).map(AnyConnection::Mysql).map_err(fail),
            #[allow(unreachable_patterns)]
            other => Err(not_compiled(other)),
        }
    }

    fn inner(&mut self) -> &mut dyn Backend {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(c) => c,
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(c) => c,
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(c) => c,
        }
    }
}

/// The error for a backend whose cargo feature is off.
pub fn not_compiled(dialect: Dialect) -> DbError {
    match dialect {
        Dialect::Sqlite => DbError::NotCompiled { backend: "SQLite", feature: "sqlite" },
        Dialect::Postgres => DbError::NotCompiled { backend: "PostgreSQL", feature: "postgres" },
        Dialect::Mysql => DbError::NotCompiled { backend: "MySQL", feature: "mysql" },
    }
}

impl Backend for AnyConnection {
    fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(_) => Dialect::Sqlite,
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(_) => Dialect::Mysql,
        }
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        self.inner().batch(sql)
    }

    fn exec(&mut self, sql: &str, args: &[Arg]) -> Result<usize, DbError> {
        self.inner().exec(sql, args)
    }

    fn version_rows(&mut self, sql: &str) -> Result<Vec<VersionRow>, DbError> {
        self.inner().version_rows(sql)
    }

    fn pending_rows(&mut self, sql: &str) -> Result<Vec<PendingRow>, DbError> {
        self.inner().pending_rows(sql)
    }

    fn int(&mut self, sql: &str, args: &[Arg]) -> Result<Option<i64>, DbError> {
        self.inner().int(sql, args)
    }

    fn text(&mut self, sql: &str, args: &[Arg]) -> Result<Option<String>, DbError> {
        self.inner().text(sql, args)
    }
}
