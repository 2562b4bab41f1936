//! migraph as a library: run the migrations of an application from its own
//! code, typically once at start-up.
//!
//! A [`Migrator`] holds a validated [`RevisionGraph`], loaded from a
//! directory ([`Migrator::from_dir`]) or from files embedded into the binary
//! at compile time ([`Migrator::from_embedded`] with
//! [`embed_revisions!`](crate::embed_revisions)), and the run options. It
//! plans and runs on any [`Backend`]: Diesel's `SqliteConnection`,
//! `PgConnection` and `MysqlConnection` (with the `sqlite`, `postgres` and
//! `mysql` features) are backends as they are, so an application passes the
//! connection it already holds. Runs are exactly the command line's runs
//! ([`runner::run`]): the same lock, checks, transactions and version table.
//!
//! Nothing here prints. Progress arrives through a callback
//! ([`Migrator::run`]) and every outcome is a value: a [`Report`] of what
//! ran, or a typed error ([`RunError`], which `?` turns into
//! [`crate::Error`] like every error of this crate).
//!
//! # Start-up
//!
//! ```
//! use diesel::Connection;
//! use migraph::Migrator;
//!
//! let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
//! let mut conn = diesel::SqliteConnection::establish(":memory:")?;
//! let report = migrator.upgrade_heads(&mut conn)?;
//! assert_eq!(report.done.len(), 12); // the sample history: 12 revisions
//!
//! // Running again is a no-op.
//! assert!(migrator.upgrade_heads(&mut conn)?.done.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Embedding the revision files
//!
//! ```
//! use diesel::Connection;
//! use migraph::{Embedded, Migrator};
//!
//! // Every `.sql` file below `revisions/` (relative to Cargo.toml), read at compile time.
//! static REVISIONS: &[Embedded] = migraph::embed_revisions!("revisions");
//!
//! let migrator = Migrator::from_embedded(REVISIONS)?;
//! let mut conn = diesel::SqliteConnection::establish(":memory:")?;
//! migrator.upgrade_heads(&mut conn)?;
//! assert!(migrator.status(&mut conn)?.is_up_to_date());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Transactions
//!
//! Runs use Diesel's transaction manager on the connection passed in, never
//! raw `BEGIN`/`COMMIT`, and leave it as they found it: outside a
//! transaction each revision commits with its version row; inside one that
//! the application opened through Diesel (`conn.transaction(..)`,
//! `begin_test_transaction()`), SQLite and PostgreSQL runs nest as
//! savepoints, so the application's rollback undoes the migration, its rows
//! and the version table. What cannot nest is refused with
//! [`RunError::InTransaction`] before any change: any run on MySQL (its DDL
//! commits implicitly, which would commit the application's transaction),
//! revisions with `transaction: false`, and [`Migrator::single_transaction`].
//! The run lock is released, transactions rolled back and SQLite's
//! `busy_timeout` restored on every path, also when `on_event` panics (the
//! panic then continues to the caller).
//!
//! ```
//! use diesel::Connection;
//! use migraph::Migrator;
//!
//! let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
//! let mut conn = diesel::SqliteConnection::establish(":memory:")?;
//! let outcome = conn.transaction::<(), diesel::result::Error, _>(|conn| {
//!     assert_eq!(migrator.upgrade_heads(conn).expect("nested run").done.len(), 12);
//!     Err(diesel::result::Error::RollbackTransaction) // e.g. a test that cleans up
//! });
//! assert!(outcome.is_err());
//! assert_eq!(migrator.status(&mut conn)?.pending.len(), 12, "the rollback undid the migration");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `include_str!` recompiles the application when an embedded file changes;
//! for a **new** file to be picked up, add a `build.rs` that prints
//! `cargo:rerun-if-changed=revisions`.

use std::path::Path;
use std::time::Duration;

use crate::backend::sql::{valid_schema_name, valid_table_name, Table};
use crate::backend::{Backend, PendingRow};
use crate::graph::RevisionGraph;
use crate::plan::{Plan, Verb};
use crate::revision::Revision;
use crate::runner::{self, Event, Interruption, Purpose, Recovery, RedoPlan, Report, RunError, RunOptions};
use crate::squash::Rewrite;
use crate::status::{Analysis, DbState, Drift};
use crate::Error;

/// One revision file embedded into the binary, as produced by
/// [`embed_revisions!`](crate::embed_revisions).
///
/// ```
/// static REVISIONS: &[migraph::Embedded] = migraph::embed_revisions!("revisions");
///
/// assert_eq!(REVISIONS.len(), 12);
/// assert_eq!(REVISIONS[0].path, "revisions/01db6cf0cc54_create_payments.sql");
/// assert!(REVISIONS[0].text.starts_with("-- id: 01db6cf0cc54"));
/// ```
///
/// Literal values work too, e.g. for tests:
///
/// ```
/// use migraph::{Embedded, Migrator};
///
/// static FILES: &[Embedded] = &[Embedded {
///     path: "revisions/a.sql",
///     text: "-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t (x INT);\n-- migrate:down\nDROP TABLE t;\n",
/// }];
/// let migrator = Migrator::from_embedded(FILES)?;
/// assert_eq!(migrator.graph().heads()[0].id, "a");
/// # Ok::<(), migraph::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Embedded {
    /// The file's path, as named in messages (`revisions/<relative path>`).
    pub path: &'static str,
    /// The file's content.
    pub text: &'static str,
}

/// Plans and runs an application's revisions. See the [module](self) docs.
#[derive(Debug)]
pub struct Migrator {
    graph: RevisionGraph,
    options: RunOptions,
}

/// A version table name that [`Migrator::table`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version table name `{0}`: use 1 to 55 ASCII letters, digits or `_`, not starting with a digit")]
pub struct InvalidTableName(pub String);

/// A PostgreSQL schema name that [`Migrator::schema`] refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid version table schema `{0}`: use 1 to 63 ASCII letters, digits or `_`, not starting with a digit")]
pub struct InvalidSchemaName(pub String);

/// What a run would do now ([`Migrator::preview`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The plan, checked like a run's.
    pub plan: Plan,
    /// Squashes the run records first in place of the revisions they
    /// replace (no SQL runs for them).
    pub squashes: Vec<Rewrite>,
    /// Drifted revisions the plan unapplies with the down SQL stored when
    /// they were applied (a downgrade only).
    pub drifted: Vec<String>,
}

/// The database compared with the revisions ([`Migrator::status`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Status {
    /// Applied revision IDs, in apply order.
    pub applied: Vec<String>,
    /// Applied revisions with no applied child, sorted by ID.
    pub heads: Vec<String>,
    /// Revisions not applied yet, in the order `upgrade heads` applies them.
    pub pending: Vec<String>,
    /// Applied revisions whose SQL changed since (runs refuse to start).
    pub drift: Vec<Drift>,
    /// Applied revisions that these revisions do not have (the database is
    /// ahead: upgrades refuse to start; downgrades use the stored down SQL).
    pub missing_files: Vec<String>,
    /// Revisions that failed or were interrupted half-way (runs refuse to
    /// start until the state is repaired with `stamp`).
    pub failed: Vec<PendingRow>,
    /// Revisions another migraph run is applying right now (it holds the
    /// run lock): in flight, not failed.
    pub running: Vec<PendingRow>,
    /// Each of `failed`, with the `stamp` targets that record the truth
    /// whether its statements all took effect or none did.
    pub interrupted: Vec<Interruption>,
}

impl Status {
    /// Nothing pending and nothing wrong.
    pub fn is_up_to_date(&self) -> bool {
        self.pending.is_empty()
            && self.drift.is_empty()
            && self.missing_files.is_empty()
            && self.failed.is_empty()
            && self.running.is_empty()
    }
}

/// The database state interpreted against the revisions
/// ([`Migrator::inspect`]): what [`Status`] summarizes.
#[derive(Debug)]
#[non_exhaustive]
pub struct Inspection {
    /// The applied state, drift, squashes and revisions applied without a file.
    pub analysis: Analysis,
    /// Another migraph run holds the run lock: the markers are revisions in
    /// flight, not failures.
    pub running: bool,
}

impl Migrator {
    /// Loads and validates every revision file below `dir` (like the command
    /// line's `--revisions DIR`).
    ///
    /// ```
    /// let missing = migraph::Migrator::from_dir("no/such/dir").unwrap_err();
    /// assert_eq!(missing.to_string(), "revisions directory no/such/dir does not exist");
    /// ```
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Migrator, Error> {
        Ok(Migrator::from_graph(crate::load(dir.as_ref())?))
    }

    /// Parses and validates embedded files exactly as [`Migrator::from_dir`]
    /// reads files on disk: the same parser, checks and messages, naming
    /// each file by its [`Embedded::path`].
    ///
    /// ```
    /// use migraph::{Embedded, Migrator};
    ///
    /// static BROKEN: &[Embedded] = &[Embedded { path: "revisions/b.sql", text: "-- id: b\n-- parnts: a\n" }];
    /// let error = Migrator::from_embedded(BROKEN).unwrap_err();
    /// assert!(error.to_string().starts_with("revisions/b.sql:2: unknown header key `parnts`"));
    /// ```
    pub fn from_embedded(files: &[Embedded]) -> Result<Migrator, Error> {
        // Path order, as the directory walk gives, so every list of problems
        // comes out as it would for the same files on disk.
        let mut files: Vec<&Embedded> = files.iter().collect();
        files.sort_by(|a, b| Path::new(a.path).cmp(Path::new(b.path)));
        let mut revisions = Vec::with_capacity(files.len());
        let mut errors = Vec::new();
        for file in files {
            match Revision::parse_bytes(Path::new(file.path), file.text.as_bytes()) {
                Ok(revision) => revisions.push(revision),
                Err(error) => errors.push(error),
            }
        }
        Ok(Migrator::from_graph(RevisionGraph::with_parse_errors(revisions, errors)?))
    }

    /// Wraps a graph built some other way, with the default options.
    pub fn from_graph(graph: RevisionGraph) -> Migrator {
        Migrator { graph, options: RunOptions::default() }
    }

    /// Uses `options` for every run: the version table and schema are
    /// checked as [`Migrator::table`] and [`Migrator::schema`] check them.
    pub fn with_options(mut self, options: RunOptions) -> Result<Migrator, Error> {
        let schema = options.schema.clone();
        self = self.table(&options.table)?;
        if let Some(schema) = &schema {
            self = self.schema(schema)?;
        }
        self.options = options;
        Ok(self)
    }

    /// The revisions.
    pub fn graph(&self) -> &RevisionGraph {
        &self.graph
    }

    /// The revisions, given back.
    pub fn into_graph(self) -> RevisionGraph {
        self.graph
    }

    /// The options runs use.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// Uses `name` as the version table (default `migraph_revisions`; the
    /// failure markers live in `<name>_pending`).
    ///
    /// ```
    /// use std::time::Duration;
    /// use migraph::Migrator;
    ///
    /// let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?
    ///     .table("schema_history")?
    ///     .lock_timeout(Duration::from_secs(10));
    /// assert_eq!(migrator.options().table, "schema_history");
    ///
    /// let refused = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?.table("x; DROP TABLE y");
    /// assert!(refused.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn table(mut self, name: &str) -> Result<Migrator, InvalidTableName> {
        if !valid_table_name(name) {
            return Err(InvalidTableName(name.to_string()));
        }
        self.options.table = name.to_string();
        Ok(self)
    }

    /// PostgreSQL: keeps the version table in schema `name` (default
    /// `public`; created on first use if missing). Every statement names
    /// the table with its schema, so `search_path` never matters. SQLite
    /// always uses `main` and MySQL the connection's database, so this is
    /// ignored there.
    ///
    /// ```
    /// use migraph::Migrator;
    ///
    /// let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?.schema("app")?;
    /// assert_eq!(migrator.options().schema.as_deref(), Some("app"));
    /// assert!(Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?.schema("a.b").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schema(mut self, name: &str) -> Result<Migrator, InvalidSchemaName> {
        if !valid_schema_name(name) {
            return Err(InvalidSchemaName(name.to_string()));
        }
        self.options.schema = Some(name.to_string());
        Ok(self)
    }

    /// How long a run waits for another run's lock (default 60 s) before
    /// failing with [`RunError::LockTimeout`].
    pub fn lock_timeout(mut self, timeout: Duration) -> Migrator {
        self.options.lock_timeout = timeout;
        self
    }

    /// Runs each plan in one transaction, all or nothing, the version table
    /// included (SQLite and PostgreSQL; refused for MySQL, for
    /// `transaction: false` revisions and on a connection already inside a
    /// transaction).
    pub fn single_transaction(mut self, single: bool) -> Migrator {
        self.options.single_transaction = single;
        self
    }

    /// What [`Migrator::run`] would do now: reads the database without
    /// creating or changing anything and checks it like a real run
    /// (failure markers, checksum drift, a database ahead of the files).
    /// A concurrent run may change the state before the real run, which
    /// plans again under its lock.
    ///
    /// ```
    /// use diesel::Connection;
    /// use migraph::{Migrator, Verb};
    ///
    /// let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
    /// let mut conn = diesel::SqliteConnection::establish(":memory:")?;
    /// let plan = migrator.plan(&mut conn, Verb::Upgrade, &["billing"])?;
    /// let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    /// assert_eq!(ids, ["39d3b87c81ca", "c5b223edf0bd", "70934d49a34c", "d795e90cb440"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn plan(&self, backend: &mut dyn Backend, verb: Verb, targets: &[&str]) -> Result<Plan, RunError> {
        Ok(self.preview(backend, verb, targets)?.plan)
    }

    /// [`Migrator::plan`], with what else the run would do: squashes it
    /// records first, and drifted revisions a downgrade unapplies with the
    /// down SQL stored when they were applied.
    pub fn preview(&self, backend: &mut dyn Backend, verb: Verb, targets: &[&str]) -> Result<Preview, RunError> {
        let db = self.read_state(backend)?;
        runner::refuse_running(backend, &self.options, &db, verb)?;
        let prepared = runner::prepare(backend, &self.graph, &db, verb, targets, &self.options, Purpose::Preview)?;
        let squashes = prepared.analysis.map(|analysis| analysis.squashes).unwrap_or_default();
        Ok(Preview { plan: prepared.plan, squashes, drifted: prepared.drifted })
    }

    /// Runs `verb` to `targets` (the targets of the command line: `heads`,
    /// `head`, `base`, IDs, prefixes, labels, `label@head`, `+1`, ...),
    /// calling `on_event` as it goes: [`Event::Planned`] once the plan is
    /// made under the lock, then [`Event::Starting`] and [`Event::Finished`]
    /// for each revision. Nothing after a failing revision runs; the error
    /// says what stays applied.
    ///
    /// ```
    /// use diesel::Connection;
    /// use migraph::runner::Event;
    /// use migraph::{Migrator, Verb};
    ///
    /// let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
    /// let mut conn = diesel::SqliteConnection::establish(":memory:")?;
    ///
    /// let mut log = Vec::new();
    /// migrator.run(&mut conn, Verb::Upgrade, &["search"], |event| match event {
    ///     Event::Planned(plan) => log.push(format!("{} step(s)", plan.steps.len())),
    ///     Event::Finished { step, ms } => log.push(format!("{} {} ({ms} ms)", step.direction, step.id)),
    ///     _ => {}
    /// })?;
    /// assert_eq!(log[0], "4 step(s)");
    /// assert!(log[1].starts_with("up 39d3b87c81ca ("));
    /// assert!(log[4].starts_with("up b276e67b9c34 ("));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// The [`Report`] lists what ran:
    ///
    /// ```
    /// use diesel::Connection;
    /// use migraph::{Direction, Migrator, Verb};
    ///
    /// let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
    /// let mut conn = diesel::SqliteConnection::establish(":memory:")?;
    /// migrator.upgrade_heads(&mut conn)?;
    ///
    /// // Back to the billing branch's payments revision: the five revisions
    /// // built on it are unapplied, newest first, ending with the merge.
    /// let report = migrator.run(&mut conn, Verb::Downgrade, &["01db6cf0cc54"], |_| {})?;
    /// assert_eq!(report.plan.verb, Verb::Downgrade);
    /// assert!(report.done.iter().all(|(step, _ms)| step.direction == Direction::Down));
    /// let ids: Vec<&str> = report.done.iter().map(|(step, _)| step.id.as_str()).collect();
    /// assert_eq!(ids.len(), 5);
    /// assert_eq!(ids.last(), Some(&"6f5b0dbe1cf1"));
    /// assert!(report.skipped.is_empty()); // done by a concurrent run first
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn run(
        &self,
        backend: &mut dyn Backend,
        verb: Verb,
        targets: &[&str],
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Report, RunError> {
        runner::run(backend, &self.graph, verb, targets, &self.options, &mut on_event)
    }

    /// Applies every revision not applied yet (`migraph upgrade heads`): the
    /// one call an application makes at start-up. Creates the version table
    /// on first use; does nothing when the database is up to date.
    pub fn upgrade_heads(&self, backend: &mut dyn Backend) -> Result<Report, RunError> {
        self.run(backend, Verb::Upgrade, &["heads"], |_| {})
    }

    /// `redo rev` (`None`: the single applied head): unapplies the revision
    /// and every applied revision that needs it with the down SQL stored
    /// when they were applied, then applies them again from their files,
    /// under the run lock and with a run's checks ([`runner::redo`]).
    ///
    /// ```
    /// use diesel::Connection;
    /// use migraph::{Direction, Migrator, Verb};
    ///
    /// let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
    /// let mut conn = diesel::SqliteConnection::establish(":memory:")?;
    /// migrator.run(&mut conn, Verb::Upgrade, &["39d3b87c81ca"], |_| {})?;
    /// let report = migrator.redo(&mut conn, None, |_| {})?;
    /// let steps: Vec<_> = report.done.iter().map(|(s, _)| (s.direction, s.id.as_str())).collect();
    /// assert_eq!(steps, [(Direction::Down, "39d3b87c81ca"), (Direction::Up, "39d3b87c81ca")]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn redo(
        &self,
        backend: &mut dyn Backend,
        rev: Option<&str>,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<Report, RunError> {
        runner::redo(backend, &self.graph, rev, &self.options, &mut on_event)
    }

    /// What [`Migrator::redo`] would do now, on `db` as read by
    /// [`Migrator::read_state`] without the lock: checked like the run's
    /// plan, and [`RunError::Running`] while another run applies a revision
    /// (the only [`RunError::Db`] is the question whether one does).
    pub fn redo_plan(&self, backend: &mut dyn Backend, db: &DbState, rev: Option<&str>) -> Result<RedoPlan, RunError> {
        runner::refuse_running(backend, &self.options, db, Verb::Migrate)?;
        runner::redo_plan(&self.graph, db, rev)
    }

    /// The database compared with the revisions, without changing anything.
    ///
    /// ```
    /// use diesel::Connection;
    /// use migraph::{Migrator, Verb};
    ///
    /// let migrator = Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions"))?;
    /// let mut conn = diesel::SqliteConnection::establish(":memory:")?;
    /// migrator.run(&mut conn, Verb::Upgrade, &["billing"], |_| {})?;
    ///
    /// let status = migrator.status(&mut conn)?;
    /// assert_eq!(status.heads, ["d795e90cb440"]);
    /// assert_eq!(status.applied.len(), 4);
    /// assert_eq!(status.pending.len(), 8);
    /// assert!(!status.is_up_to_date());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn status(&self, backend: &mut dyn Backend) -> Result<Status, RunError> {
        let db = self.read_state(backend)?;
        let Inspection { analysis, running: in_flight } = self.inspect(backend, &db)?;
        let graph = analysis.graph(&self.graph);
        let state = &analysis.state;
        let ids = |revisions: Vec<&Revision>| revisions.into_iter().map(|r| r.id.clone()).collect();
        let pending = ids(analysis.pending(&self.graph));
        let (running, failed) = if in_flight { (db.pending, Vec::new()) } else { (Vec::new(), db.pending) };
        let interrupted = failed
            .iter()
            .map(|p| Interruption { pending: p.clone(), recovery: Recovery::new(graph, state, p) })
            .collect();
        Ok(Status {
            applied: ids(state.applied(graph)),
            heads: ids(state.heads(graph)),
            pending,
            drift: analysis.drift.clone(),
            missing_files: analysis.stored.clone(),
            failed,
            running,
            interrupted,
        })
    }

    /// The version table and its markers, read without creating or changing
    /// anything (a missing table reads as empty). Every error is
    /// [`RunError::Db`].
    pub fn read_state(&self, backend: &mut dyn Backend) -> Result<DbState, RunError> {
        runner::read_state(backend, &Table::new(self.options.table.as_str(), self.options.schema.clone()))
    }

    /// `db`, as read by [`Migrator::read_state`], interpreted against the
    /// revisions, with whether its markers are revisions in flight: what
    /// [`Migrator::status`] is made of, for callers that show more of it.
    /// [`RunError::State`] when the rows cannot be read as a state of these
    /// revisions; the only [`RunError::Db`] is the question whether another
    /// run holds the lock.
    pub fn inspect(&self, backend: &mut dyn Backend, db: &DbState) -> Result<Inspection, RunError> {
        let analysis = Analysis::new(&self.graph, db)?;
        let running = !db.pending.is_empty()
            && runner::lock_held(backend, &self.options).map_err(|source| RunError::Db {
                context: "cannot tell whether another run holds the lock".into(),
                source,
            })?;
        Ok(Inspection { analysis, running })
    }

    /// For a version table whose rows cannot be read as a state of these
    /// files ([`Migrator::status`] fails with [`RunError::State`]): the
    /// `stamp` targets that record every revision with a row, with its
    /// ancestors (`["base"]` when no row names a revision of the files).
    pub fn repair_targets(&self, backend: &mut dyn Backend) -> Result<Vec<String>, RunError> {
        Ok(crate::status::repair_targets(&self.graph, &self.read_state(backend)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Direction;

    fn sample() -> Migrator {
        Migrator::from_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/revisions")).unwrap()
    }

    const ROOT: Embedded =
        Embedded { path: "revisions/a.sql", text: "-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t (x INT);\n" };

    #[test]
    fn embedded_files_parse_like_files_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let files = [
            ("revisions/b.sql", "-- id: b\n-- parents: a\n-- labels: head\n-- migrate:up\n"),
            ("revisions/a-b.sql", "-- id: c\n-- parents: zz\n-- migrate:up\n"),
            ("revisions/a/z.sql", "-- id: d\n-- id: d\n"),
            ("revisions/nul.sql", "-- id: n\n-- parents:\n-- migrate:up\nSELECT '\0';\n"),
            (ROOT.path, ROOT.text),
        ];
        let mut embedded = Vec::new();
        for (path, text) in files {
            let on_disk = dir.path().join(path);
            std::fs::create_dir_all(on_disk.parent().unwrap()).unwrap();
            std::fs::write(&on_disk, text).unwrap();
            embedded.push(Embedded { path, text });
        }
        let from_dir = Migrator::from_dir(dir.path().join("revisions")).unwrap_err().to_string();
        let from_embedded = Migrator::from_embedded(&embedded).unwrap_err().to_string();
        let prefix = format!("{}/", dir.path().display());
        assert_eq!(from_dir.replace(&prefix, ""), from_embedded);
        assert_eq!(from_embedded.lines().count(), 4, "{from_embedded}");
        assert!(from_embedded.starts_with("revisions/a/z.sql:2: header key `id` repeated"), "{from_embedded}");
        assert!(from_embedded.contains("revisions/nul.sql:4: the file contains a NUL byte"), "{from_embedded}");
    }

    #[test]
    fn options_are_validated_as_a_whole() {
        let migrator = || Migrator::from_embedded(&[ROOT]).unwrap();
        let mut options = RunOptions { table: "x; DROP TABLE y".into(), ..RunOptions::default() };
        assert!(matches!(migrator().with_options(options.clone()), Err(Error::InvalidTableName(_))));
        options.table = "history".into();
        options.schema = Some("a.b".into());
        assert!(matches!(migrator().with_options(options.clone()), Err(Error::InvalidSchemaName(_))));
        options.schema = Some("app".into());
        options.backup = true;
        let migrator = migrator().with_options(options).unwrap();
        assert_eq!((migrator.options().table.as_str(), migrator.options().schema.as_deref()), ("history", Some("app")));
        assert!(migrator.options().backup);
    }

    #[test]
    fn options_are_validated() {
        let migrator = Migrator::from_embedded(&[ROOT]).unwrap();
        assert_eq!(migrator.graph().len(), 1);
        assert_eq!(migrator.options().table, "migraph_revisions");
        let error = Migrator::from_embedded(&[ROOT]).unwrap().table("9lives").unwrap_err();
        assert_eq!(error, InvalidTableName("9lives".into()));
        assert!(error.to_string().starts_with("invalid version table name `9lives`"));
        let migrator =
            migrator.table("Schema_V2").unwrap().lock_timeout(Duration::from_millis(5)).single_transaction(true);
        assert_eq!(migrator.options().table, "Schema_V2");
        assert_eq!(migrator.options().lock_timeout, Duration::from_millis(5));
        assert!(migrator.options().single_transaction);
    }

    #[cfg(feature = "sqlite")]
    mod sqlite {
        use diesel::Connection;

        use super::*;
        use crate::backend::Arg;
        use crate::plan::PlanError;
        use crate::target::TargetError;

        fn memory() -> diesel::SqliteConnection {
            diesel::SqliteConnection::establish(":memory:").unwrap()
        }

        fn tables(conn: &mut diesel::SqliteConnection) -> Option<String> {
            let sql = "SELECT group_concat(name, ' ') AS v FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)";
            conn.text(sql, &[]).unwrap()
        }

        #[test]
        fn plan_reads_without_creating_tables() {
            let mut conn = memory();
            let migrator = sample();
            let plan = migrator.plan(&mut conn, Verb::Upgrade, &["heads"]).unwrap();
            assert_eq!(plan.steps.len(), 12);
            assert_eq!(tables(&mut conn), None);
            let status = migrator.status(&mut conn).unwrap();
            assert_eq!(status.pending, plan.steps.iter().map(|s| s.id.clone()).collect::<Vec<_>>());
            assert!(status.applied.is_empty() && status.heads.is_empty());
            assert_eq!(tables(&mut conn), None);
        }

        #[test]
        fn runs_in_the_chosen_table_and_reports_events_in_order() {
            let mut conn = memory();
            let migrator = sample().table("app_schema").unwrap();
            let mut events = Vec::new();
            let report = migrator
                .run(&mut conn, Verb::Upgrade, &["heads"], |event| {
                    events.push(match event {
                        Event::Read { heads } => format!("read {}", heads.len()),
                        Event::Planned(plan) => format!("planned {}", plan.steps.len()),
                        Event::Starting(step) => format!("start {}", step.id),
                        Event::Finished { step, .. } => format!("done {}", step.id),
                        other => format!("{other:?}"),
                    })
                })
                .unwrap();
            assert_eq!(events.len(), 2 + 2 * 12);
            assert_eq!(events[..2], ["read 0", "planned 12"]);
            for (i, (step, _)) in report.done.iter().enumerate() {
                assert_eq!(events[2 + 2 * i], format!("start {}", step.id));
                assert_eq!(events[3 + 2 * i], format!("done {}", step.id));
            }
            let count = conn.int("SELECT COUNT(*) AS v FROM app_schema", &[]).unwrap();
            assert_eq!(count, Some(12));
            assert!(tables(&mut conn).unwrap().contains("app_schema app_schema_pending"));
            let status = migrator.status(&mut conn).unwrap();
            assert!(status.is_up_to_date(), "{status:?}");
            assert_eq!(status.heads, ["29bb7cfae2a9", "9c2e4b7a1f30"]);
            assert_eq!(report.heads.as_ref(), Some(&status.heads), "the report's heads are the database's");
            // The default table knows nothing of these runs.
            assert_eq!(sample().status(&mut conn).unwrap().pending.len(), 12);
        }

        #[test]
        fn drift_and_failures_are_reported_and_refused() {
            let mut conn = memory();
            let migrator = sample();
            migrator.upgrade_heads(&mut conn).unwrap();
            let edit = "UPDATE migraph_revisions SET checksum = 'x' WHERE id = ?";
            conn.exec(edit, &[Arg::Text("39d3b87c81ca".into())]).unwrap();
            let status = migrator.status(&mut conn).unwrap();
            assert_eq!(status.drift.len(), 1);
            assert!(!status.is_up_to_date());
            let error = migrator.plan(&mut conn, Verb::Upgrade, &["heads"]).unwrap_err();
            assert!(matches!(error, RunError::Drift(_)), "{error}");
            assert!(matches!(migrator.upgrade_heads(&mut conn), Err(RunError::Drift(_))));

            let mut conn = memory();
            migrator.run(&mut conn, Verb::Upgrade, &["39d3b87c81ca"], |_| {}).unwrap();
            let marker = "INSERT INTO migraph_revisions_pending (id, direction, started_at) VALUES ('c5b223edf0bd', 'up', 'now')";
            conn.exec(marker, &[]).unwrap();
            let status = migrator.status(&mut conn).unwrap();
            assert_eq!(status.failed.len(), 1);
            assert!(matches!(migrator.upgrade_heads(&mut conn), Err(RunError::Interrupted(_))));
        }

        #[test]
        fn failed_markers_come_typed_with_their_repair() {
            let mut conn = memory();
            let migrator = sample();
            migrator.run(&mut conn, Verb::Upgrade, &["39d3b87c81ca"], |_| {}).unwrap();
            let marker = "INSERT INTO migraph_revisions_pending (id, direction, started_at, error) \
                          VALUES ('c5b223edf0bd', 'up', 'T', 'boom')";
            conn.exec(marker, &[]).unwrap();
            let status = migrator.status(&mut conn).unwrap();
            let [Interruption { pending, recovery: Some(recovery) }] = status.interrupted.as_slice() else {
                panic!("{status:?}")
            };
            assert_eq!(pending.direction, Direction::Up);
            assert_eq!(pending.to_string(), "going up (started T): boom");
            assert_eq!(recovery.if_done, ["c5b223edf0bd"]);
            assert_eq!(recovery.if_not_done, ["39d3b87c81ca"]);
            // Every error of a run converts into the crate's one error type.
            let error = crate::Error::from(migrator.upgrade_heads(&mut conn).unwrap_err());
            assert!(matches!(&error, crate::Error::Run(RunError::Interrupted(i)) if i.recovery.is_some()), "{error}");
            assert!(error
                .to_string()
                .starts_with("revision c5b223edf0bd failed or was interrupted going up (started T): boom"));

            // A direction that is neither `up` nor `down` is an error, not a guess.
            conn.exec("UPDATE migraph_revisions_pending SET direction = 'sideways'", &[]).unwrap();
            let error = migrator.status(&mut conn).unwrap_err();
            assert!(matches!(&error, RunError::Db { .. }) && error.to_string().contains("`sideways`"), "{error}");
        }

        #[test]
        fn plans_refuse_what_runs_refuse() {
            static EMPTY: &[Embedded] =
                &[Embedded { path: "revisions/e.sql", text: "-- id: e\n-- parents:\n-- migrate:up\n" }];
            let migrator = Migrator::from_embedded(EMPTY).unwrap();
            let mut conn = memory();
            let planned = migrator.plan(&mut conn, Verb::Upgrade, &["heads"]).unwrap_err();
            let ran = migrator.upgrade_heads(&mut conn).unwrap_err();
            assert!(matches!(planned, RunError::EmptyUp(_)), "{planned}");
            assert_eq!(planned.to_string(), ran.to_string());
        }

        #[test]
        fn redo_and_inspection_go_through_the_migrator() {
            let mut conn = memory();
            let migrator = sample();
            migrator.run(&mut conn, Verb::Upgrade, &["c5b223edf0bd"], |_| {}).unwrap();
            let db = migrator.read_state(&mut conn).unwrap();
            assert_eq!(db.ids().collect::<Vec<_>>(), ["39d3b87c81ca", "c5b223edf0bd"]);
            let Inspection { analysis, running, .. } = migrator.inspect(&mut conn, &db).unwrap();
            assert!(!running);
            let heads: Vec<&str> = analysis.state.heads(migrator.graph()).iter().map(|r| r.id.as_str()).collect();
            assert_eq!(heads, ["c5b223edf0bd"]);
            let planned = migrator.redo_plan(&mut conn, &db, None).unwrap();
            assert_eq!(planned.id, "c5b223edf0bd");
            let report = migrator.redo(&mut conn, None, |_| {}).unwrap();
            assert_eq!(report.plan, planned.steps());
            assert_eq!(report.done.len(), 2);
            // A marker of a run that no longer holds the lock is a failure, not a run in flight.
            conn.exec("INSERT INTO migraph_revisions_pending (id, direction, started_at) VALUES ('x', 'up', 'T')", &[])
                .unwrap();
            let db = migrator.read_state(&mut conn).unwrap();
            assert!(!migrator.inspect(&mut conn, &db).unwrap().running);
            assert!(matches!(migrator.redo_plan(&mut conn, &db, None), Err(RunError::Interrupted(_))));
        }

        #[test]
        fn previews_plan_as_runs_do() {
            let mut conn = memory();
            let migrator = sample();
            migrator.upgrade_heads(&mut conn).unwrap();
            let accept = RunOptions { accept_drift: true, ..RunOptions::default() };
            let migrator = sample().with_options(accept).unwrap();
            // Only checksums are recorded again: no row is added or removed.
            assert!(migrator.plan(&mut conn, Verb::Stamp, &[]).unwrap().is_empty());
            assert!(migrator.run(&mut conn, Verb::Stamp, &[], |_| {}).unwrap().done.is_empty());
        }

        #[test]
        fn a_damaged_table_has_repair_targets() {
            let mut conn = memory();
            let migrator = sample();
            migrator.run(&mut conn, Verb::Upgrade, &["c5b223edf0bd"], |_| {}).unwrap();
            conn.exec("DELETE FROM migraph_revisions WHERE id = '39d3b87c81ca'", &[]).unwrap();
            assert!(matches!(migrator.status(&mut conn), Err(RunError::State(_))));
            assert_eq!(migrator.repair_targets(&mut conn).unwrap(), ["c5b223edf0bd"]);
            // `stamp` plans the repair, as its run does; other verbs refuse.
            let repair = migrator.plan(&mut conn, Verb::Stamp, &["c5b223edf0bd"]).unwrap();
            assert_eq!(
                repair.steps.iter().map(|s| (s.id.as_str(), s.direction)).collect::<Vec<_>>(),
                [("39d3b87c81ca", Direction::Up)]
            );
            assert!(matches!(migrator.plan(&mut conn, Verb::Upgrade, &["heads"]), Err(RunError::State(_))));
        }

        #[test]
        fn downgrade_and_errors_are_values() {
            let mut conn = memory();
            let migrator = sample();
            let error = migrator.plan(&mut conn, Verb::Upgrade, &["head"]).unwrap_err();
            let several = |e: &RunError| matches!(e, RunError::Plan(PlanError::Target(TargetError::SeveralHeads { heads, .. })) if heads.len() == 2);
            assert!(several(&error), "{error}");
            assert!(matches!(crate::Error::from(error), crate::Error::Run(RunError::Plan(_))));
            assert!(migrator.run(&mut conn, Verb::Upgrade, &["nope"], |_| {}).is_err());
            migrator.upgrade_heads(&mut conn).unwrap();
            let report = migrator.run(&mut conn, Verb::Downgrade, &["base"], |_| {}).unwrap();
            assert_eq!(report.done.len(), 12);
            assert!(report.done.iter().all(|(s, _)| s.direction == Direction::Down));
            assert!(migrator.status(&mut conn).unwrap().applied.is_empty());
        }
    }
}
