//! An application that carries its migrations inside its binary and brings
//! its database up to date at start-up.
//!
//! ```text
//! cargo run --example embedded              # an in-memory SQLite database
//! cargo run --example embedded -- app.db    # a SQLite file (a second run has nothing to do)
//! ```
//!
//! The revision files of `revisions/` are read at compile time by
//! `migraph::embed_revisions!`, so the binary needs no files at run time.
//! `cargo test` runs this example too (`test = true` in Cargo.toml).

use std::error::Error;
use std::process::ExitCode;

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use migraph::runner::Event;
use migraph::{Embedded, Migrator, Verb};

/// Every `.sql` file below `revisions/`, relative to this package's Cargo.toml.
static REVISIONS: &[Embedded] = migraph::embed_revisions!("revisions");

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// What start-up did.
#[derive(Debug)]
struct StartUp {
    /// Revisions applied by this start-up.
    applied_now: usize,
    /// Revisions recorded in the version table afterwards.
    recorded: usize,
}

/// Opens the database, upgrades it to every head, prints a short report and
/// checks the result: what `main` does, and what the test below runs.
fn start(database: &str) -> Result<StartUp, Box<dyn Error>> {
    let migrator = Migrator::from_embedded(REVISIONS)?;
    let mut conn = SqliteConnection::establish(database)?;
    conn.batch_execute("PRAGMA foreign_keys = ON")?;

    let report = migrator.run(&mut conn, Verb::Upgrade, &["heads"], |event| match event {
        Event::WaitingForLock => println!("waiting for another migration run..."),
        Event::Planned(plan) if !plan.is_empty() => println!("migrating: {} revision(s)", plan.steps.len()),
        Event::Finished { step, ms } => println!("  applied {} {} ({ms} ms)", step.id, step.message),
        _ => {}
    })?;
    if report.done.is_empty() {
        println!("database is up to date");
    } else {
        println!("applied {} revision(s)", report.done.len());
    }

    // The application's own queries now find the schema.
    let customers: Count =
        diesel::sql_query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'customers'")
            .get_result(&mut conn)?;
    if customers.n != 1 {
        return Err("the customers table is missing after the upgrade".into());
    }
    let recorded: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM migraph_revisions").get_result(&mut conn)?;
    let status = migrator.status(&mut conn)?;
    if !status.is_up_to_date() || recorded.n as usize != REVISIONS.len() {
        return Err(
            format!("expected all {} revisions recorded, found {}: {status:?}", REVISIONS.len(), recorded.n).into()
        );
    }
    Ok(StartUp { applied_now: report.done.len(), recorded: recorded.n as usize })
}

fn main() -> ExitCode {
    let database = std::env::args().nth(1).unwrap_or_else(|| ":memory:".to_string());
    match start(&database) {
        Ok(StartUp { applied_now, recorded }) => {
            println!("ok: {recorded} revision(s) recorded in {database} ({applied_now} applied now)");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_runs() {
        let started = start(":memory:").unwrap();
        assert_eq!((started.applied_now, started.recorded), (11, 11));
    }

    #[test]
    fn a_second_start_up_has_nothing_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("app.db");
        let database = database.to_str().unwrap();
        assert_eq!(start(database).unwrap().applied_now, 11);
        let again = start(database).unwrap();
        assert_eq!((again.applied_now, again.recorded), (0, 11));
    }
}
