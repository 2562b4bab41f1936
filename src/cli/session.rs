//! The binary's one way to the library's flows: a [`Migrator`] built from
//! the settings, and connections opened for it. Commands parse, call the
//! `Migrator` and format; they do not re-implement its reading, checking
//! or planning.

use migraph::backend::{dialect_of, sqlite_path, AnyConnection, Dialect};
use migraph::runner::RunOptions;
use migraph::{Migrator, RevisionGraph};

use super::{CliError, Context, Result};

/// The run options of the settings (version table, schema, lock timeout).
pub fn options(cx: &Context) -> RunOptions {
    let mut options = RunOptions::default();
    options.table = cx.settings.table.clone();
    options.schema = cx.settings.schema.clone();
    options.lock_timeout = cx.settings.lock_timeout;
    options
}

/// A [`Migrator`] over `graph` with the settings' options.
pub fn migrator(cx: &Context, graph: RevisionGraph) -> Result<Migrator> {
    Ok(Migrator::from_graph(graph).with_options(options(cx))?)
}

/// A connection to read the database through without changing it: a SQLite
/// file that does not exist yet reads as an empty in-memory database, so
/// reading never creates it.
pub fn connect_for_reading(url: &str) -> Result<AnyConnection> {
    let missing = dialect_of(url).map_err(CliError::new)? == Dialect::Sqlite
        && sqlite_path(url).is_some_and(|path| !std::path::Path::new(&path).exists());
    AnyConnection::connect(if missing { "sqlite::memory:" } else { url }).map_err(CliError::new)
}
