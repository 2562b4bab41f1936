//! [`Backend`] for Diesel's connections, and [`AnyConnection`] opened from a URL.

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
use diesel::connection::SimpleConnection;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
use diesel::connection::{AnsiTransactionManager, TransactionManager};
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
use diesel::sql_types::{BigInt, Nullable, Text};
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
use diesel::{Connection, QueryableByName, RunQueryDsl};

use std::time::Duration;

use super::{redact, scrub, Arg, Backend, DatabaseUrl, DbError, Dialect, PendingRow, ReadAs, Value, VersionRow};

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#[derive(QueryableByName)]
struct IntRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    v: Option<i64>,
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

/// A row of any shape ([`Backend::values`]): column `k` holds one
/// [`ReadAs::code`] per value column, and the values are `c0`, `c1`, ...
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
struct AnyRow(Vec<Value>);

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
impl<DB> diesel::deserialize::QueryableByName<DB> for AnyRow
where
    DB: diesel::backend::Backend,
    i64: diesel::deserialize::FromSql<BigInt, DB>,
    f64: diesel::deserialize::FromSql<diesel::sql_types::Double, DB>,
    String: diesel::deserialize::FromSql<Text, DB>,
    Vec<u8>: diesel::deserialize::FromSql<diesel::sql_types::Binary, DB>,
{
    fn build<'a>(row: &impl diesel::row::NamedRow<'a, DB>) -> diesel::deserialize::Result<Self> {
        use diesel::row::NamedRow;
        use diesel::sql_types::{Binary, Double};
        let codes = diesel::row::NamedRow::get::<Text, String>(row, "k")?;
        let mut values = Vec::with_capacity(codes.len());
        for (i, code) in codes.chars().enumerate() {
            let name = column_name(i);
            let value = match code {
                'i' => NamedRow::get::<Nullable<BigInt>, Option<i64>>(row, &name)?.map(Value::Int),
                'f' => NamedRow::get::<Nullable<Double>, Option<f64>>(row, &name)?.map(Value::Float),
                'b' => NamedRow::get::<Nullable<Binary>, Option<Vec<u8>>>(row, &name)?.map(Value::Blob),
                _ => NamedRow::get::<Nullable<Text>, Option<String>>(row, &name)?.map(Value::Text),
            };
            values.push(value.unwrap_or(Value::Null));
        }
        Ok(AnyRow(values))
    }
}

/// `c<i>`, the alias of the `i`th value column of [`Backend::values`].
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
fn column_name(i: usize) -> std::borrow::Cow<'static, str> {
    const NAMES: [&str; 16] =
        ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15"];
    match NAMES.get(i) {
        Some(name) => std::borrow::Cow::Borrowed(name),
        None => std::borrow::Cow::Owned(format!("c{i}")),
    }
}

/// The statement [`Backend::values`] runs.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
fn values_sql(select: &[(String, ReadAs)], rest: &str) -> String {
    let codes: String = select.iter().map(|(_, read)| read.code()).collect();
    let mut sql = format!("SELECT '{codes}' AS k");
    for (i, (expr, _)) in select.iter().enumerate() {
        sql.push_str(&format!(", {expr} AS c{i}"));
    }
    sql.push(' ');
    sql.push_str(rest);
    sql
}

/// Implements [`Backend`] for one Diesel connection type: the same code,
/// compiled against each backend's concrete types.
macro_rules! diesel_backend {
    ($feature:literal, $conn:ty, $db:ty, $dialect:expr, $begin:literal, $arrays:path) => {
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

            fn in_transaction(&mut self) -> Result<bool, DbError> {
                in_transaction(self)
            }

            fn with_transaction(
                &mut self,
                body: &mut dyn FnMut(&mut dyn Backend) -> Result<(), DbError>,
            ) -> Result<(), DbError> {
                transaction(self, $begin, body)
            }

            fn values(
                &mut self,
                select: &[(String, ReadAs)],
                rest: &str,
                args: &[Arg],
            ) -> Result<Vec<Vec<Value>>, DbError> {
                let query = bind(diesel::sql_query(values_sql(select, rest)).into_boxed::<$db>(), args);
                Ok(query.load::<AnyRow>(self)?.into_iter().map(|row| row.0).collect())
            }

            fn exec_values(&mut self, sql: &str, values: &[Value]) -> Result<usize, DbError> {
                Ok(bind_values(diesel::sql_query(sql).into_boxed::<$db>(), values).execute(self)?)
            }

            fn exec_text_arrays(&mut self, sql: &str, columns: &[Vec<Option<String>>]) -> Result<usize, DbError> {
                $arrays(self, sql, columns)
            }
        }
    };
}

/// Binds `values` in order to a boxed raw query (NULL as a text NULL).
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
fn bind_values<'f, DB>(
    mut query: diesel::query_builder::BoxedSqlQuery<'f, DB, diesel::query_builder::SqlQuery>,
    values: &'f [Value],
) -> diesel::query_builder::BoxedSqlQuery<'f, DB, diesel::query_builder::SqlQuery>
where
    DB: diesel::backend::Backend
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<BigInt>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Double>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Binary>
        + diesel::sql_types::HasSqlType<diesel::sql_types::Bool>,
    Option<String>: diesel::serialize::ToSql<Nullable<Text>, DB>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    f64: diesel::serialize::ToSql<diesel::sql_types::Double, DB>,
    String: diesel::serialize::ToSql<Text, DB>,
    Vec<u8>: diesel::serialize::ToSql<diesel::sql_types::Binary, DB>,
    bool: diesel::serialize::ToSql<diesel::sql_types::Bool, DB>,
{
    for value in values {
        query = match value {
            Value::Null => query.bind::<Nullable<Text>, _>(None::<String>),
            Value::Int(n) => query.bind::<BigInt, _>(*n),
            Value::Float(x) => query.bind::<diesel::sql_types::Double, _>(*x),
            Value::Text(text) => query.bind::<Text, _>(text),
            Value::Blob(bytes) => query.bind::<diesel::sql_types::Binary, _>(bytes),
            Value::Bool(b) => query.bind::<diesel::sql_types::Bool, _>(*b),
        };
    }
    query
}

/// [`Backend::exec_text_arrays`] on PostgreSQL: each column a `text[]`.
#[cfg(feature = "postgres")]
fn pg_text_arrays(
    conn: &mut diesel::PgConnection,
    sql: &str,
    columns: &[Vec<Option<String>>],
) -> Result<usize, DbError> {
    let mut query = diesel::sql_query(sql).into_boxed::<diesel::pg::Pg>();
    for column in columns {
        query = query.bind::<diesel::sql_types::Array<Nullable<Text>>, _>(column.as_slice());
    }
    Ok(query.execute(conn)?)
}

/// [`Backend::exec_text_arrays`] elsewhere: refused.
#[cfg(any(feature = "sqlite", feature = "mysql"))]
fn no_text_arrays<C>(_: &mut C, _: &str, _: &[Vec<Option<String>>]) -> Result<usize, DbError> {
    Err(DbError::Query("binding text arrays needs PostgreSQL".into()))
}

/// Whether Diesel's transaction manager has a transaction open. Diesel
/// exposes the depth only to backend implementors, so this asks it to begin
/// one the way that refuses inside a transaction (and rolls the probe back).
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
fn in_transaction<C>(conn: &mut C) -> Result<bool, DbError>
where
    C: Connection<TransactionManager = AnsiTransactionManager>,
{
    match AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN") {
        Ok(()) => {
            <AnsiTransactionManager as TransactionManager<C>>::rollback_transaction(conn)?;
            Ok(false)
        }
        Err(diesel::result::Error::AlreadyInTransaction) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// [`Backend::with_transaction`] through Diesel's transaction manager: `begin`
/// at the top level, a savepoint inside a transaction; commit on `Ok`,
/// rollback on `Err` and on a panic (which then resumes).
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
fn transaction<C>(
    conn: &mut C,
    begin: &str,
    body: &mut dyn FnMut(&mut dyn Backend) -> Result<(), DbError>,
) -> Result<(), DbError>
where
    C: Connection<TransactionManager = AnsiTransactionManager> + Backend,
{
    type Manager = AnsiTransactionManager;
    match Manager::begin_transaction_sql(conn, begin) {
        Ok(()) => {}
        Err(diesel::result::Error::AlreadyInTransaction) => {
            <Manager as TransactionManager<C>>::begin_transaction(conn)?
        }
        Err(e) => return Err(e.into()),
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&mut *conn))) {
        Ok(Ok(())) => Ok(<Manager as TransactionManager<C>>::commit_transaction(conn)?),
        Ok(Err(error)) => match <Manager as TransactionManager<C>>::rollback_transaction(conn) {
            Ok(()) => Err(error),
            Err(rollback) => {
                Err(DbError::Query(format!("{error}; the rollback failed too: {}", DbError::from(rollback))))
            }
        },
        Err(panic) => {
            let _ = <Manager as TransactionManager<C>>::rollback_transaction(conn);
            std::panic::resume_unwind(panic)
        }
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
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

diesel_backend!(
    "sqlite",
    diesel::SqliteConnection,
    diesel::sqlite::Sqlite,
    Dialect::Sqlite,
    "BEGIN IMMEDIATE",
    no_text_arrays
);
diesel_backend!("postgres", diesel::PgConnection, diesel::pg::Pg, Dialect::Postgres, "BEGIN", pg_text_arrays);
diesel_backend!("mysql", diesel::MysqlConnection, diesel::mysql::Mysql, Dialect::Mysql, "BEGIN", no_text_arrays);

/// How long a SQLite connection opened with [`AnyConnection::connect`]
/// waits for a lock another connection holds.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

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
    /// [`AnyConnection::connect_with`] with the [`DEFAULT_BUSY_TIMEOUT`].
    pub fn connect(url: &str) -> Result<AnyConnection, DbError> {
        AnyConnection::connect_with(url, DEFAULT_BUSY_TIMEOUT)
    }

    /// Opens the database `url` names (see [`DatabaseUrl`] for the forms:
    /// SQLite files and `file:` URIs with their parameters, `:memory:` only
    /// when asked for, `postgres://`, `postgresql://`, `mysql://`,
    /// `mariadb://`). The URL is checked before anything is opened; errors
    /// never show the password.
    ///
    /// SQLite waits up to `busy_timeout` (at most `i32::MAX` ms, about 24
    /// days, SQLite's limit) for a lock another connection holds, and reads
    /// the schema at once: a database locked for longer fails here with
    /// "database is locked by another connection (waited N s)".
    pub fn connect_with(url: &str, busy_timeout: Duration) -> Result<AnyConnection, DbError> {
        #[cfg(not(feature = "sqlite"))]
        let _ = busy_timeout;
        #[cfg_attr(not(any(feature = "sqlite", feature = "postgres", feature = "mysql")), allow(unused_variables))]
        let fail = |message: String| DbError::Connect {
            url: redact(url),
            message: scrub(&message, url).trim_end().to_string(),
        };
        match DatabaseUrl::parse(url)? {
            #[cfg(feature = "sqlite")]
            DatabaseUrl::Sqlite(sqlite) => {
                let mut conn =
                    diesel::SqliteConnection::establish(&sqlite.open_name()).map_err(|e| fail(e.to_string()))?;
                let ms = busy_timeout.as_millis().min(i32::MAX as u128);
                conn.batch_execute(&format!("PRAGMA busy_timeout = {ms}")).map_err(|e| fail(e.to_string()))?;
                if let Err(e) = conn.batch_execute("SELECT COUNT(*) FROM sqlite_master") {
                    let message = e.to_string();
                    return Err(fail(if message.contains("database is locked") {
                        format!("database is locked by another connection (waited {})", seconds(busy_timeout))
                    } else {
                        message
                    }));
                }
                Ok(AnyConnection::Sqlite(conn))
            }
            #[cfg(feature = "postgres")]
            DatabaseUrl::Postgres(driver) => {
                diesel::PgConnection::establish(&driver).map(AnyConnection::Postgres).map_err(|e| fail(e.to_string()))
            }
            #[cfg(feature = "mysql")]
            DatabaseUrl::Mysql(driver) => {
                diesel::MysqlConnection::establish(&driver).map(AnyConnection::Mysql).map_err(|e| fail(e.to_string()))
            }
            #[allow(unreachable_patterns)]
            other => Err(not_compiled(other.dialect())),
        }
    }

    fn inner(&mut self) -> &mut dyn Backend {
        // `*self`: with no backend feature the enum is empty and so is the match.
        match *self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(ref mut c) => c,
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(ref mut c) => c,
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(ref mut c) => c,
        }
    }
}

/// `3 s`, or `250 ms` below a second.
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
fn seconds(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else {
        format!("{} s", duration.as_secs())
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
        match *self {
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

    fn in_transaction(&mut self) -> Result<bool, DbError> {
        self.inner().in_transaction()
    }

    fn with_transaction(
        &mut self,
        body: &mut dyn FnMut(&mut dyn Backend) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        self.inner().with_transaction(body)
    }

    /// Opened by migraph: no application shares the session. (Inside
    /// [`Backend::with_transaction`] the body gets the Diesel connection
    /// within, which does not own its session.)
    fn owns_session(&self) -> bool {
        true
    }

    fn values(&mut self, select: &[(String, ReadAs)], rest: &str, args: &[Arg]) -> Result<Vec<Vec<Value>>, DbError> {
        self.inner().values(select, rest, args)
    }

    fn exec_values(&mut self, sql: &str, values: &[Value]) -> Result<usize, DbError> {
        self.inner().exec_values(sql, values)
    }

    fn exec_text_arrays(&mut self, sql: &str, columns: &[Vec<Option<String>>]) -> Result<usize, DbError> {
        self.inner().exec_text_arrays(sql, columns)
    }
}

/// A connection checked out of an r2d2 pool (`diesel::r2d2::Pool`) is a
/// [`Backend`] when the pooled connection is, so `migrator.run(&mut pooled,
/// …)` works on a `PooledConnection<ConnectionManager<PgConnection>>` as it
/// does on the `PgConnection` itself. Everything goes to the connection
/// inside, transactions through its Diesel transaction manager.
#[cfg(feature = "r2d2")]
impl<M> Backend for diesel::r2d2::PooledConnection<M>
where
    M: diesel::r2d2::ManageConnection,
    M::Connection: Backend,
{
    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }

    fn batch(&mut self, sql: &str) -> Result<(), DbError> {
        (**self).batch(sql)
    }

    fn exec(&mut self, sql: &str, args: &[Arg]) -> Result<usize, DbError> {
        (**self).exec(sql, args)
    }

    fn version_rows(&mut self, sql: &str) -> Result<Vec<VersionRow>, DbError> {
        (**self).version_rows(sql)
    }

    fn pending_rows(&mut self, sql: &str) -> Result<Vec<PendingRow>, DbError> {
        (**self).pending_rows(sql)
    }

    fn int(&mut self, sql: &str, args: &[Arg]) -> Result<Option<i64>, DbError> {
        (**self).int(sql, args)
    }

    fn text(&mut self, sql: &str, args: &[Arg]) -> Result<Option<String>, DbError> {
        (**self).text(sql, args)
    }

    fn in_transaction(&mut self) -> Result<bool, DbError> {
        (**self).in_transaction()
    }

    fn with_transaction(
        &mut self,
        body: &mut dyn FnMut(&mut dyn Backend) -> Result<(), DbError>,
    ) -> Result<(), DbError> {
        (**self).with_transaction(body)
    }

    fn values(&mut self, select: &[(String, ReadAs)], rest: &str, args: &[Arg]) -> Result<Vec<Vec<Value>>, DbError> {
        (**self).values(select, rest, args)
    }

    fn exec_values(&mut self, sql: &str, values: &[Value]) -> Result<usize, DbError> {
        (**self).exec_values(sql, values)
    }

    fn exec_text_arrays(&mut self, sql: &str, columns: &[Vec<Option<String>>]) -> Result<usize, DbError> {
        (**self).exec_text_arrays(sql, columns)
    }
}

/// Implements [`Backend`](crate::backend::Backend) for an enum made with
/// `#[derive(diesel::MultiConnection)]`, by handing every call to the
/// connection inside the variant in use: list the enum's variants.
///
/// ```
/// use diesel::Connection;
///
/// #[derive(diesel::MultiConnection)]
/// enum AppConnection {
///     Sqlite(diesel::SqliteConnection),
///     // Pg(diesel::PgConnection), with diesel's `postgres` feature
/// }
/// migraph::multi_connection_backend!(AppConnection { Sqlite });
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let migrator = migraph::Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
///     let mut conn = AppConnection::establish(":memory:")?;
///     assert_eq!(migrator.upgrade_heads(&mut conn)?.done.len(), 12);
///     Ok(())
/// }
/// ```
///
/// (PostgreSQL too in `tests/library.rs`.) Transactions go through the inner
/// connection's Diesel transaction manager, the one the enum's own
/// `transaction` uses, so migrating inside the application's transaction
/// nests as it does on a plain connection.
#[macro_export]
macro_rules! multi_connection_backend {
    ($ty:ty { $($variant:ident),+ $(,)? }) => {
        impl $crate::backend::Backend for $ty {
            fn dialect(&self) -> $crate::backend::Dialect {
                match self { $(Self::$variant(c) => $crate::backend::Backend::dialect(c),)+ }
            }
            fn batch(&mut self, sql: &str) -> ::core::result::Result<(), $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::batch(c, sql),)+ }
            }
            fn exec(
                &mut self,
                sql: &str,
                args: &[$crate::backend::Arg],
            ) -> ::core::result::Result<usize, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::exec(c, sql, args),)+ }
            }
            fn version_rows(
                &mut self,
                sql: &str,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::backend::VersionRow>, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::version_rows(c, sql),)+ }
            }
            fn pending_rows(
                &mut self,
                sql: &str,
            ) -> ::core::result::Result<::std::vec::Vec<$crate::backend::PendingRow>, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::pending_rows(c, sql),)+ }
            }
            fn int(
                &mut self,
                sql: &str,
                args: &[$crate::backend::Arg],
            ) -> ::core::result::Result<::core::option::Option<i64>, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::int(c, sql, args),)+ }
            }
            fn text(
                &mut self,
                sql: &str,
                args: &[$crate::backend::Arg],
            ) -> ::core::result::Result<::core::option::Option<::std::string::String>, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::text(c, sql, args),)+ }
            }
            fn in_transaction(&mut self) -> ::core::result::Result<bool, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::in_transaction(c),)+ }
            }
            fn with_transaction(
                &mut self,
                body: &mut dyn FnMut(&mut dyn $crate::backend::Backend) -> ::core::result::Result<(), $crate::backend::DbError>,
            ) -> ::core::result::Result<(), $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::with_transaction(c, body),)+ }
            }
            fn values(
                &mut self,
                select: &[(::std::string::String, $crate::backend::ReadAs)],
                rest: &str,
                args: &[$crate::backend::Arg],
            ) -> ::core::result::Result<::std::vec::Vec<::std::vec::Vec<$crate::backend::Value>>, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::values(c, select, rest, args),)+ }
            }
            fn exec_values(
                &mut self,
                sql: &str,
                values: &[$crate::backend::Value],
            ) -> ::core::result::Result<usize, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::exec_values(c, sql, values),)+ }
            }
            fn exec_text_arrays(
                &mut self,
                sql: &str,
                columns: &[::std::vec::Vec<::core::option::Option<::std::string::String>>],
            ) -> ::core::result::Result<usize, $crate::backend::DbError> {
                match self { $(Self::$variant(c) => $crate::backend::Backend::exec_text_arrays(c, sql, columns),)+ }
            }
        }
    };
}
