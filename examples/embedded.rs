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
use diesel::{Connection, SqliteConnection};
use migraph::runner::Event;
use migraph::{Migrator, Verb};

mod support;

/// Every `.sql` file below `revisions/`, relative to this package's Cargo.toml:
/// `migraph::embed_revisions!("revisions")` (in `support/mod.rs`).
use support::REVISIONS;

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
    let tables = "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'customers'";
    if support::count(&mut conn, tables)? != 1 {
        return Err("the customers table is missing after the upgrade".into());
    }
    let recorded = support::recorded(&mut conn, "migraph_revisions")?.len();
    let status = migrator.status(&mut conn)?;
    if !status.is_up_to_date() || recorded != REVISIONS.len() {
        return Err(format!("expected all {} revisions recorded, found {recorded}: {status:?}", REVISIONS.len()).into());
    }
    Ok(StartUp { applied_now: report.done.len(), recorded })
}

fn main() -> ExitCode {
    let database = std::env::args().nth(1).unwrap_or_else(|| ":memory:".to_string());
    support::exit(start(&database).map(|StartUp { applied_now, recorded }| {
        format!("{recorded} revision(s) recorded in {database} ({applied_now} applied now)")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_runs() {
        let started = start(":memory:").unwrap();
        assert_eq!((started.applied_now, started.recorded), (12, 12));
    }

    #[test]
    fn a_second_start_up_has_nothing_to_do() {
        let (_dir, database) = support::sqlite_file();
        assert_eq!(start(&database).unwrap().applied_now, 12);
        let again = start(&database).unwrap();
        assert_eq!((again.applied_now, again.recorded), (0, 12));
    }
}
