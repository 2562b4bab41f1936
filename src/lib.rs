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
//! graph ([`graph`]) → targets ([`target`]) → plan ([`plan`]). Everything
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
pub mod graph;
pub mod migrator;
pub mod plan;
pub mod render;
pub mod revision;
pub mod runner;
pub mod script;
pub mod source;
pub mod squash;
pub mod status;
pub mod target;

use std::path::Path;

pub use graph::{GraphError, Problem, RevisionGraph};
pub use migraph_macros::embed_revisions;
pub use migrator::{Embedded, Migrator};
pub use plan::{plan, Direction, Plan, PlanError, State, Step, Verb};
pub use revision::{ParseError, Revision};
pub use source::{NewRevision, SourceError};
pub use target::TargetError;

/// Any error the library reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

impl Error {
    /// A line telling the user what to do next, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Target(e) => e.hint(),
            Error::Plan(e) => e.hint(),
            Error::Graph(_) => Some("fix the files named above; `migraph check` lists every problem".into()),
            Error::Source(SourceError::Missing(_)) => {
                Some("run `migraph init` to create one, or pass --revisions DIR".into())
            }
            Error::Source(_) => None,
        }
    }
}

/// Loads and validates every revision below `dir`.
pub fn load(dir: &Path) -> Result<RevisionGraph, Error> {
    let loaded = source::load_dir(dir)?;
    Ok(RevisionGraph::with_parse_errors(loaded.revisions, loaded.errors)?)
}
