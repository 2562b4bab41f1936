//! An application that owns its Diesel connections (an r2d2 pool of a
//! `#[derive(diesel::MultiConnection)]` enum, so one binary serves SQLite
//! and PostgreSQL) and brings the schema up to date inside its own set-up,
//! before it hands out any connection.
//!
//! ```text
//! cargo run --example diesel_app -- app.db                         # SQLite
//! cargo run --example diesel_app --features postgres -- postgres://user@localhost/app
//! ```
//!
//! `cargo test` runs it on a SQLite file, and on PostgreSQL too when built
//! with `--features postgres` and `MIGRAPH_TEST_POSTGRES_URL` set (the test
//! creates and drops its own database there).
//!
//! What it shows:
//! - the revisions are compiled in (`embed_revisions!`), so the binary needs
//!   no files at run time;
//! - a pooled connection and the enum are passed as they are
//!   (`migrator.run(&mut pooled, …)`): no `&mut *pooled`, no match;
//! - the migration runs on one connection of the application's own pool,
//!   with the application's own connection settings, and reports through
//!   the application's own logging (here: stderr).

use std::error::Error;
use std::process::ExitCode;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::RunQueryDsl;
use migraph::runner::Event;
use migraph::{Migrator, Verb};

mod support;

// The application's revisions, read at compile time (`embed_revisions!`), and its connection
// type: a `#[derive(diesel::MultiConnection)]` enum of every database it supports, made a
// migraph backend by `migraph::multi_connection_backend!` (see `support/mod.rs`).
use support::{AppConnection, REVISIONS};

/// The application's own settings for every new pooled connection.
#[derive(Debug)]
struct Settings;

impl CustomizeConnection<AppConnection, diesel::r2d2::Error> for Settings {
    #[cfg_attr(not(feature = "postgres"), allow(irrefutable_let_patterns))]
    fn on_acquire(&self, conn: &mut AppConnection) -> Result<(), diesel::r2d2::Error> {
        if let AppConnection::Sqlite(sqlite) = conn {
            sqlite
                .batch_execute("PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON")
                .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// The running application: what its handlers use.
pub struct App {
    pool: Pool<ConnectionManager<AppConnection>>,
    /// Revisions the start-up applied.
    pub migrated: usize,
}

/// Builds the pool and migrates the database before anything else uses it.
pub fn setup(database_url: &str) -> Result<App, Box<dyn Error>> {
    let pool = Pool::builder()
        .max_size(4)
        .connection_customizer(Box::new(Settings))
        .build(ConnectionManager::<AppConnection>::new(database_url))?;

    let migrator = Migrator::from_embedded(REVISIONS)?.table("schema_history")?;
    let mut conn = pool.get()?;
    let report = migrator.run(&mut conn, Verb::Upgrade, &["heads"], |event| match event {
        Event::WaitingForLock => eprintln!("[setup] another instance is migrating; waiting"),
        Event::Finished { step, ms } => eprintln!("[setup] applied {} {} ({ms} ms)", step.id, step.message),
        _ => {}
    })?;
    eprintln!("[setup] schema up to date ({} revision(s) applied now)", report.done.len());
    Ok(App { pool, migrated: report.done.len() })
}

impl App {
    /// A request handler's query: needs the migrated schema.
    pub fn add_customer(&self, id: i64, email: &str) -> Result<i64, Box<dyn Error>> {
        let mut conn = self.pool.get()?;
        diesel::sql_query(format!(
            "INSERT INTO customers (id, email, full_name, created_at, phone) \
             VALUES ({id}, '{}', 'Ada', '2026-11-30', NULL)",
            email.replace('\'', "''")
        ))
        .execute(&mut conn)?;
        Ok(support::count(&mut conn, "SELECT COUNT(*) AS n FROM customers")?)
    }
}

fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1).or_else(|| std::env::var("DATABASE_URL").ok()) else {
        eprintln!("usage: diesel_app DATABASE_URL (a SQLite file or a postgres:// URL)");
        return ExitCode::from(2);
    };
    support::exit(
        setup(&url).and_then(|app| app.add_customer(1, "ada@example.com")).map(|n| format!("{n} customer(s)")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_start_up_migrates_once() {
        let (_dir, url) = support::sqlite_file();
        let app = setup(&url).unwrap();
        assert_eq!(app.migrated, REVISIONS.len());
        assert_eq!(app.add_customer(1, "ada@example.com").unwrap(), 1);
        drop(app);
        let again = setup(&url).unwrap();
        assert_eq!(again.migrated, 0, "the second start-up has nothing to do");
        assert_eq!(again.add_customer(2, "o'brien@example.com").unwrap(), 2);
    }

    #[cfg(feature = "postgres")]
    #[cfg_attr(not(migraph_postgres_server), ignore = "set MIGRAPH_TEST_POSTGRES_URL to run")]
    #[test]
    fn postgres_start_up_migrates_once() {
        use diesel::Connection;
        let admin_url = std::env::var("MIGRAPH_TEST_POSTGRES_URL").expect("MIGRAPH_TEST_POSTGRES_URL");
        let name = format!("migraph_example_{}", std::process::id());
        let mut admin = diesel::PgConnection::establish(&admin_url).unwrap();
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name}")).unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
        let url = format!("{base}/{name}");
        let result = std::panic::catch_unwind(|| {
            let app = setup(&url).unwrap();
            assert_eq!(app.migrated, REVISIONS.len());
            assert_eq!(app.add_customer(1, "ada@example.com").unwrap(), 1);
            drop(app);
            assert_eq!(setup(&url).unwrap().migrated, 0);
        });
        admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).unwrap();
        if let Err(panic) = result {
            std::panic::resume_unwind(panic);
        }
    }
}
