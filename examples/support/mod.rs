//! What the example applications share with each other and with
//! `tests/library.rs` (which includes this file through `#[path]`): the
//! revisions compiled in, the application's connection type, a SQLite file
//! to run on, the queries that check what a start-up did, and how `main`
//! reports. Not an example itself (Cargo builds only `examples/*.rs`).
#![allow(dead_code)] // each includer uses its own part

use std::error::Error;
use std::process::ExitCode;

use diesel::query_builder::SqlQuery;
use diesel::query_dsl::LoadQuery;
use diesel::sql_types::{BigInt, Text};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};
use migraph::Embedded;

/// The sample revisions of `revisions/`, read at compile time (paths are
/// relative to Cargo.toml), so a binary needs no files at run time.
pub static REVISIONS: &[Embedded] = migraph::embed_revisions!("revisions");

/// Every database an application supports, behind one connection type.
#[derive(diesel::MultiConnection)]
pub enum AppConnection {
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Pg(diesel::PgConnection),
}

// migraph runs on the enum (and on pooled enums) like on a plain connection.
#[cfg(not(feature = "postgres"))]
migraph::multi_connection_backend!(AppConnection { Sqlite });
#[cfg(feature = "postgres")]
migraph::multi_connection_backend!(AppConnection { Sqlite, Pg });

/// A SQLite database file in a new temporary directory, which removes it
/// when dropped: `(directory, path)`.
pub fn sqlite_file() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("app.db").display().to_string();
    (dir, path)
}

/// The row of a `SELECT COUNT(*) AS n ...`.
#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What `sql`, a `SELECT COUNT(*) AS n ...`, counts.
pub fn count<C>(conn: &mut C, sql: &str) -> QueryResult<i64>
where
    for<'a> SqlQuery: LoadQuery<'a, C, Count>,
{
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

/// The row of a `SELECT id ...`.
#[derive(QueryableByName)]
pub struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The revision IDs recorded in the version table `table`, sorted.
pub fn recorded<C>(conn: &mut C, table: &str) -> QueryResult<Vec<String>>
where
    for<'a> SqlQuery: LoadQuery<'a, C, Id>,
{
    let rows = diesel::sql_query(format!("SELECT id FROM {table} ORDER BY id")).load::<Id>(conn)?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// What `main` returns: `ok: <summary>` on stdout, or `error: ...` on
/// stderr and a failing exit code.
pub fn exit(outcome: Result<String, Box<dyn Error>>) -> ExitCode {
    match outcome {
        Ok(summary) => {
            println!("ok: {summary}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
