//! # migraph
//!
//! Database migrations whose history is a Git-style DAG.
//!
//! Each revision is a `.sql` file that declares its ID and its parents in a
//! comment header. Two branches that each add a revision simply give the
//! graph two heads; a merge revision (two parents) joins them again. No
//! numbering scheme decides the order, so merged branches never skip,
//! reorder or reject each other's migrations.
//!
//! ```sql
//! -- id: 5f1c0e9a2b7d
//! -- parents: 1a2b3c4d5e6f 9e8d7c6b5a4f
//! -- message: add users table
//! -- labels: accounts
//!
//! -- migrate:up
//! CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL);
//!
//! -- migrate:down
//! DROP TABLE users;
//! ```
//!
//! Data flows one way: files ([`source`]) → revisions ([`revision`]) →
//! graph ([`graph`]) → targets ([`target`]) → plan ([`plan`](mod@plan)). Everything
//! here is pure: no database, no terminal.
//!
//! ```
//! use migraph::{plan, RevisionGraph, Revision, State, Verb};
//! use std::path::Path;
//!
//! let file = |id: &str, parents: &str| {
//!     let text = format!("-- id: {id}\n-- parents: {parents}\n-- migrate:up\nSELECT 1;\n-- migrate:down\n");
//!     Revision::parse(Path::new(&format!("{id}.sql")), &text).unwrap()
//! };
//! // base ─ a ─ b (feature 1)
//! //          └ c (feature 2), then m merges b and c
//! let graph = RevisionGraph::new(vec![
//!     file("a", ""), file("b", "a"), file("c", "a"), file("m", "b c"),
//! ]).unwrap();
//! assert_eq!(graph.heads().len(), 1);
//! assert_eq!(graph.merge_points()[0].id, "m");
//!
//! // The database has a and c applied (feature 2 only); upgrade to the head.
//! let state = State::new(&graph, ["a", "c"]).unwrap();
//! let plan = plan(&graph, &state, Verb::Upgrade, &["head"]).unwrap();
//! let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
//! assert_eq!(ids, ["b", "m"]);
//! ```
//!
//! To run migrations from an application, use [`Migrator`]: it loads the
//! revisions from a directory, or from files embedded into the binary at
//! compile time with [`embed_revisions!`], and plans and runs them on a
//! Diesel connection, reporting progress through a callback.

pub mod backend;
pub mod copy;
mod embed;
pub mod graph;
pub mod import;
pub mod lint;
pub mod migrator;
pub mod plan;
// The command line's pictures (`history --graph`, DOT, Mermaid): public
// for the binary and its tests, not a stable library API.
#[doc(hidden)]
pub mod render;
pub mod revision;
pub mod runner;
pub mod schema;
pub mod script;
pub mod source;
#[cfg(feature = "sqlite")]
pub mod sqlite_rebuild;
pub mod squash;
pub mod status;
pub mod target;

use std::path::Path;

pub use graph::{GraphError, Problem, RevisionGraph};
#[doc(hidden)]
pub use migraph_macros::embed_revisions as __embed_revisions;
pub use migrator::{Embedded, Migrator};
pub use plan::{plan, Direction, Plan, PlanError, State, Step, Verb};
pub use revision::{Links, ParseError, Revision};
pub use runner::RunError;
pub use source::{NewRevision, SourceError};
pub use target::TargetError;

/// Any error the library reports: `?` turns every error of this crate
/// into it, so an application's start-up code can return
/// `Result<_, migraph::Error>` (it also works with `Box<dyn Error>` and
/// `anyhow`). Each variant keeps the typed error of its module, with the
/// IDs, paths and repair targets it carries; `Display` says what went wrong,
/// in words that name no command-line tool.
///
/// ```
/// use diesel::Connection;
/// use migraph::{Error, Migrator, RunError};
///
/// fn migrate(conn: &mut diesel::SqliteConnection) -> Result<usize, Error> {
///     let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?.table("schema_history")?;
///     Ok(migrator.upgrade_heads(conn)?.done.len())
/// }
///
/// let mut conn = diesel::SqliteConnection::establish(":memory:")?;
/// assert_eq!(migrate(&mut conn)?, 12);
///
/// let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
/// let error = Error::from(migrator.run(&mut conn, migraph::Verb::Upgrade, &["nope"], |_| {}).unwrap_err());
/// assert!(matches!(error, Error::Run(RunError::Plan(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A run, plan or status on a database.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The version table cannot be read as a state of the files.
    #[error(transparent)]
    State(#[from] status::StateError),
    #[error(transparent)]
    Db(#[from] backend::DbError),
    #[error(transparent)]
    InvalidTableName(#[from] migrator::InvalidTableName),
    #[error(transparent)]
    InvalidSchemaName(#[from] migrator::InvalidSchemaName),
}

/// Loads and validates every revision below `dir`.
pub fn load(dir: &Path) -> Result<RevisionGraph, Error> {
    let loaded = source::load_dir(dir)?;
    Ok(RevisionGraph::with_parse_errors(loaded.revisions, loaded.errors)?)
}

/// Loads and validates every revision below `dir` from headers only
/// ([`source::load_headers`]: through the header cache, without the SQL):
/// what drawing and planning need. A run loads and checks the SQL of the
/// revisions it runs ([`Revision::load_sql`]).
pub fn load_headers(dir: &Path) -> Result<RevisionGraph, Error> {
    let loaded = source::load_headers(dir)?;
    Ok(RevisionGraph::with_parse_errors(loaded.revisions, loaded.errors)?)
}
