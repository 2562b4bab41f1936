//! Executes plans on a database: lock, re-read the state, check, plan,
//! apply, record. It reports progress through a callback and never prints.
//!
//! Safety rules, in the order they apply:
//!
//! 1. The run lock (PostgreSQL advisory lock, polled so that a `CREATE
//!    INDEX CONCURRENTLY` revision cannot deadlock with a waiting run; MySQL
//!    `GET_LOCK`; on SQLite an OS lock on the database's directory) is held
//!    by a guard and released on every exit path, and by the server or the
//!    kernel when the process dies. The directory, not the database file, is
//!    locked because closing a second descriptor of the database file would
//!    drop SQLite's own POSIX locks. Each SQLite revision's `BEGIN IMMEDIATE`
//!    also checks the revision's row again inside the write lock, so an
//!    application that shares the file without migraph's lock stays safe.
//! 2. The state is read after the lock is taken and the plan computed from
//!    it, so concurrent runs apply each revision exactly once.
//! 3. Everything is checked before the first statement: a leftover marker of
//!    a revision that failed half-way, checksum drift (`downgrade` and
//!    [`redo`] unapply a drifted revision with the down SQL stored when it
//!    was applied; drift of one that stays applied is refused), revisions
//!    applied but missing from the files, irreversible revisions,
//!    unreachable targets, up sections with no statement ([`empty_up`]).
//! 4. Each revision's SQL and its version row commit in one transaction
//!    where the backend allows it (SQLite, PostgreSQL). Otherwise (MySQL, or
//!    a `transaction: false` revision) a marker row is written first and
//!    removed with the version row, so a failure or a kill leaves a marker
//!    that `status` reports and the next run refuses to pass until the user
//!    repairs the schema and runs `migraph stamp`.
//! 5. Transactions go through Diesel's transaction manager
//!    ([`Backend::with_transaction`]), never raw `BEGIN`/`COMMIT`. On a
//!    connection that is already inside a Diesel transaction (an
//!    application's `conn.transaction(..)` or `begin_test_transaction()`),
//!    SQLite and PostgreSQL runs nest: each revision runs in a savepoint, so
//!    the caller's rollback undoes the tables, the rows and the version
//!    table. What cannot nest is refused before any change: MySQL (its DDL
//!    commits implicitly, which would commit the caller's transaction),
//!    `transaction: false` revisions and `single_transaction`.
//! 6. The connection is left as it was found on every path, a panic in the
//!    progress callback included: transactions are rolled back, the run lock
//!    released, and SQLite's `busy_timeout` set back to the caller's value.
//! 7. Nothing is created when nothing is to be recorded: the plan is made
//!    from the state read under the lock, and the version tables are created
//!    only when it is not empty (a failed plan leaves the database as it
//!    was). With `backup`, a SQLite database is copied (`VACUUM INTO`, on
//!    the runner's own connection, under the run lock) after planning and
//!    before the first change; a backup that fails stops the run.
//! 8. A marker whose run still holds the lock is a revision in flight, not
//!    a failure: [`lock_held`] asks without holding the lock for more than
//!    a moment, and plans made without the lock ([`checked_unlocked`]) say
//!    [`RunError::Running`] instead of advising a repair.
//! 9. A transactional revision whose SQL ends or rolls back its transaction
//!    (`COMMIT`, `ROLLBACK`, ...) is refused before the first statement
//!    ([`transaction_control_free`]), so rolled-back SQL is never recorded.

mod checks;
mod lock;
mod redo;
mod squashes;
mod state;
mod table;

use std::collections::HashSet;
use std::convert::identity;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::backend::split::statements;
use crate::backend::sql::Table;
use crate::backend::{Arg, Backend, DbError, Dialect, PendingRow};
use crate::graph::RevisionGraph;
use crate::plan::{plan, Direction, Plan, PlanError, State, Step, Verb};
use crate::revision::Revision;
use crate::squash::Rewrite;
use crate::status::{repair_plan, Analysis, DbState, Drift, StateError};

pub use checks::{
    empty_up, empty_up_free, empty_up_problems, sqlite_alter_free, transaction_control_free, EmptyUp,
    TransactionControl, EMPTY_MARKER,
};
use checks::{nestable, single_transaction_possible};
pub use lock::lock_held;
use lock::{backup_sqlite, lock, Locked};
pub use redo::{drifted_down, redo, redo_plan, with_stored_down, RedoError, RedoPlan};
pub use table::{ensure_tables, locate};
use table::{recordable, session_restore};

/// How to run.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// The version table.
    pub table: String,
    /// PostgreSQL: the schema of the version table (`None`: `public`).
    /// Ignored elsewhere: SQLite uses `main`, MySQL the URL's database.
    pub schema: Option<String>,
    /// How long to wait for another run's lock.
    pub lock_timeout: Duration,
    /// Run the whole plan in one transaction (SQLite and PostgreSQL only).
    pub single_transaction: bool,
    /// With `stamp`: record the files' current checksums for drifted revisions.
    pub accept_drift: bool,
    /// SQLite: copy the database beside its file (`<file>.<UTC time>.backup`)
    /// after planning and before the first change, or stop when that fails.
    pub backup: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            table: "migraph_revisions".into(),
            schema: None,
            lock_timeout: Duration::from_secs(60),
            single_transaction: false,
            accept_drift: false,
            backup: false,
        }
    }
}

/// Progress, reported as it happens.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// Another run holds the lock; waiting up to the timeout.
    WaitingForLock,
    /// The database's applied heads, as read under the lock before the
    /// plan (not sent for a damaged version table).
    Read { heads: &'a [String] },
    /// The plan, once computed under the lock.
    Planned(&'a Plan),
    /// A revision is about to run. On a PostgreSQL connection migraph
    /// opened itself (the command line), fast revisions go to the server
    /// several in one batch: each is announced once the batch returned,
    /// `Starting` then `Finished`, in order.
    Starting(&'a Step),
    /// A revision ran and was recorded, in `ms` milliseconds (measured by
    /// the server for revisions sent in one batch).
    Finished { step: &'a Step, ms: u64 },
    /// Another run applied (or unapplied) it first.
    Skipped(&'a Step),
    /// The file is gone: unapplying with the down section stored at apply time.
    UsingStoredDown(&'a Step),
    /// The file changed since the revision was applied (drift): unapplying
    /// with the down section stored at apply time, not the file's.
    DriftedDown(&'a Step),
    /// The database was copied to this file before the first change.
    BackedUp(&'a std::path::Path),
    /// A squash was recorded in place of the rows of the revisions it
    /// replaces (all applied), or its leftover rows were dropped; no SQL ran.
    Squashed(&'a Rewrite),
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    pub plan: Plan,
    /// Steps executed, with their SQL time in milliseconds.
    pub done: Vec<(Step, u64)>,
    /// Steps another concurrent run did first.
    pub skipped: Vec<Step>,
    /// `stamp --accept-drift`: revisions whose new checksums were recorded.
    pub accepted: Vec<String>,
    /// Where the database was copied before the first change (`backup`).
    pub backup: Option<std::path::PathBuf>,
    /// Squashes recorded in place of the revisions they replace (no SQL ran).
    pub squashed: Vec<Rewrite>,
    /// The database's applied heads after the run (`None` where no state
    /// could be read: a damaged version table that `stamp` repairs).
    pub heads: Option<Vec<String>>,
}

impl Report {
    fn empty(plan: Plan) -> Report {
        Report {
            plan,
            done: Vec::new(),
            skipped: Vec::new(),
            accepted: Vec::new(),
            backup: None,
            squashed: Vec::new(),
            heads: None,
        }
    }

    /// This report with the heads of the state after its plan runs on `before`.
    fn with_heads(self, graph: &RevisionGraph, before: &State) -> Report {
        let heads = before.after(graph, &self.plan).heads(graph).into_iter().map(|r| r.id.clone()).collect();
        Report { heads: Some(heads), ..self }
    }
}

/// Why a run stopped. Nothing after the failing revision ran.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RunError {
    #[error("{context}: {source}")]
    Db { context: String, source: DbError },
    #[error("revision {id}{} failed while going {direction}: {source}", if .message.is_empty() { String::new() } else { format!(" ({})", .message) })]
    Revision {
        id: String,
        message: String,
        direction: Direction,
        source: DbError,
        /// Revisions of this run that stay applied before it.
        done: usize,
        /// Whether a marker was left (the revision may be half applied).
        marked: bool,
        /// Whether the whole plan was rolled back (`--single-transaction`).
        rolled_back: bool,
    },
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    State(#[from] StateError),
    /// The SQL of a revision read from its header only cannot be loaded,
    /// or is not the SQL it was read with ([`Revision::load_sql`]).
    #[error(transparent)]
    File(#[from] crate::revision::SqlError),
    #[error("checksum drift: applied revision(s) changed since they were applied: {}", describe_drift(.0))]
    Drift(Vec<Drift>),
    #[error("the database is ahead of these files: applied revision(s) {} have no file", .0.join(", "))]
    Ahead(Vec<String>),
    #[error("revision {} failed or was interrupted {}; the schema may be half changed", .0.pending.id, .0.pending)]
    Interrupted(Box<Interruption>),
    #[error("another migraph run held the lock for more than {0} s")]
    LockTimeout(u64),
    #[error("single-transaction mode is not possible here: {0}")]
    SingleTransaction(String),
    #[error("cannot run on a connection that is inside a transaction: {0}")]
    InTransaction(NotNestable),
    #[error("cannot back up the database to {path}: {source}")]
    Backup { path: String, source: DbError },
    #[error("{}:{}: the {} SQL of revision {} ends or rolls back the transaction it runs in: `{}`", .0.path.display(), .0.line, .0.direction, .0.id, .0.statement)]
    TransactionControl(Box<TransactionControl>),
    #[error("revision {} is being applied by another migraph run ({}; it holds the lock)", .0.id, .0)]
    Running(Box<PendingRow>),
    #[error("revision {id} cannot be recorded in the version table: {problem}")]
    Unrecordable { id: String, problem: String },
    #[error(transparent)]
    Sql(#[from] crate::backend::split::RevisionSqlError),
    #[error("{}{}: revision {} has no statement in its up section for {} (empty, or comments only)", .0.path.display(), .0.line.map(|l| format!(":{l}")).unwrap_or_default(), .0.id, .0.dialect)]
    EmptyUp(Box<EmptyUp>),
    #[error(transparent)]
    Redo(#[from] RedoError),
    /// An `ALTER TABLE` SQLite cannot run ([`sqlite_alter_free`]).
    #[error("{0}")]
    SqliteAlter(Box<crate::lint::sqlite_alter::Finding>),
}

/// Why a run cannot take place inside the caller's open transaction.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NotNestable {
    #[error("MySQL commits DDL implicitly, which would commit the caller's transaction")]
    Mysql,
    #[error("a single transaction for the whole plan cannot nest in it")]
    SingleTransaction,
    #[error("revision {0} has `transaction: false`")]
    NotTransactional(String),
}

fn describe_drift(drift: &[Drift]) -> String {
    drift.iter().map(|d| format!("{} ({})", d.id, d.path.display())).collect::<Vec<_>>().join(", ")
}

fn db(context: &str) -> impl Fn(DbError) -> RunError + '_ {
    move |source| RunError::Db { context: context.to_string(), source }
}

/// Runs `verb` to `targets`: the whole safe sequence described above.
pub fn run(
    backend: &mut dyn Backend,
    files: &RevisionGraph,
    verb: Verb,
    targets: &[&str],
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Report, RunError> {
    let Started { locked, table, state, nested, dialect } = start(backend, files, options, on_event)?;
    let backend = &mut *locked.backend;
    let Prepared { plan, analysis, drifted, stored_down, files: with_sql } =
        prepare(backend, files, &state, verb, targets, options, Purpose::Run { nested })?;
    // The files with the SQL of the revisions the plan runs (read from headers only before).
    let files = with_sql.as_ref().unwrap_or(files);
    let Some(analysis) = analysis else {
        // A damaged version table: stamp is how it is repaired.
        on_event(Event::Planned(&plan));
        let restore = session_restore(backend, &table).map_err(db("cannot read the session"))?;
        let mut executor =
            Executor { backend, graph: files, options, dialect, on_event, table, restore, restored: false };
        let report = executor.stamp(plan, &[])?;
        drop(locked);
        return Ok(report);
    };
    let graph = stored_down.as_ref().unwrap_or(analysis.graph(files));
    let heads: Vec<String> = analysis.state.heads(graph).into_iter().map(|r| r.id.clone()).collect();
    on_event(Event::Read { heads: &heads });
    on_event(Event::Planned(&plan));
    if plan.is_empty() && analysis.squashes.is_empty() && (verb != Verb::Stamp || !state.exists) {
        // Nothing to record: nothing is created, and the heads are the ones read.
        return Ok(Report { heads: Some(heads), ..Report::empty(plan) });
    }
    let backup = match options.backup && !plan.is_empty() {
        true => backup_sqlite(backend)?,
        false => None,
    };
    if let Some(path) = &backup {
        on_event(Event::BackedUp(path));
    }
    // Under the lock: no concurrent run can be creating them too. With a
    // single transaction they are created in it, so a rollback leaves none.
    let create = !state.exists || !state.pending_exists;
    if create && !(options.single_transaction && verb != Verb::Stamp) {
        ensure_tables(backend, &table).map_err(db("cannot create the version table"))?;
    }
    let restore = session_restore(backend, &table).map_err(db("cannot read the session"))?;
    let mut executor = Executor { backend, graph, options, dialect, on_event, table, restore, restored: false };
    // Squashes whose replaced revisions are all applied: rows first (no SQL).
    let mut squashed = executor.squash_rows(files, &analysis.squashes)?;
    let mut report = if verb == Verb::Stamp {
        executor.stamp(plan, &analysis.drift)?
    } else {
        executor.execute(plan, &analysis.stored, &drifted, create)?
    };
    if verb != Verb::Stamp && !report.done.is_empty() {
        // The plan may have run the last revisions a squash replaces.
        squashed.extend(executor.squash_rows_after(files)?);
    }
    report.squashed = squashed;
    report.backup = backup;
    drop(locked);
    Ok(report.with_heads(graph, &analysis.state))
}

/// A run, started: the lock held, the version table located, and its state
/// read under the lock.
struct Started<'b> {
    locked: Locked<'b>,
    table: Table,
    state: DbState,
    /// The connection is inside the caller's transaction.
    nested: bool,
    dialect: Dialect,
}

/// What every run ([`run`], [`redo`]) does before it plans: refuses what
/// cannot run on this connection (MySQL or a single transaction inside the
/// caller's transaction, a backup of a database that is not SQLite), takes
/// the lock, locates the version table, reads the state under the lock and
/// brings a table written by an older migraph up to date.
fn start<'b>(
    backend: &'b mut dyn Backend,
    files: &RevisionGraph,
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Started<'b>, RunError> {
    let dialect = backend.dialect();
    let nested = backend.in_transaction().map_err(db("cannot read the connection's transaction state"))?;
    if nested && dialect == Dialect::Mysql {
        return Err(RunError::InTransaction(NotNestable::Mysql));
    }
    if nested && options.single_transaction {
        return Err(RunError::InTransaction(NotNestable::SingleTransaction));
    }
    if options.backup && dialect != Dialect::Sqlite {
        let source = DbError::Query(format!("the database is {dialect}; back it up with its own tools"));
        return Err(RunError::Db { context: "backups work with SQLite databases only".into(), source });
    }
    let locked = lock(backend, options, on_event)?;
    let backend = &mut *locked.backend;
    let table = locate(backend, options).map_err(db("cannot find the version table's database"))?;
    let mut state = read_state_for_run(backend, &table, files)?;
    if state.exists && (!state.pending_exists || state.outdated) {
        // A table written by an older migraph, brought up to date under the lock.
        ensure_tables(backend, &table).map_err(db("cannot update the version table"))?;
        state = read_state_for_run(backend, &table, files)?;
    }
    Ok(Started { locked, table, state, nested, dialect })
}

/// [`read_state`] for a run on `files`: the stored down sections are read
/// only for the rows that may run theirs (a revision whose file is gone, or
/// whose file's checksum differs: drift), not for every applied revision.
fn read_state_for_run(backend: &mut dyn Backend, table: &Table, files: &RevisionGraph) -> Result<DbState, RunError> {
    let mut state =
        DbState::read_without_down_sql(backend, table.clone()).map_err(db("cannot read the version table"))?;
    let stored_down_may_run =
        |row: &crate::backend::VersionRow| files.get(&row.id).is_none_or(|r| r.checksum != row.checksum);
    state.load_down_sql(backend, table.clone(), stored_down_may_run).map_err(db("cannot read the version table"))?;
    Ok(state)
}

/// Reads the version table and the markers, without creating anything:
/// the one read of runs, previews and status.
pub(crate) fn read_state(backend: &mut dyn Backend, table: &Table) -> Result<DbState, RunError> {
    DbState::read(backend, table.clone()).map_err(db("cannot read the version table"))
}

/// Who a plan is prepared for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A run, under its lock, on the connection it runs on (`nested`: inside
    /// the caller's transaction): every check.
    Run { nested: bool },
    /// A preview ([`crate::Migrator::preview`]): the checks of the plan's
    /// revisions, not those of how this run would execute them.
    Preview,
}

/// A plan made from a state and checked before anything changes.
pub(crate) struct Prepared {
    pub(crate) plan: Plan,
    /// `None` for the repair of a damaged version table (a `stamp`).
    pub(crate) analysis: Option<Analysis>,
    /// Drifted revisions the plan unapplies with their stored down SQL.
    pub(crate) drifted: Vec<String>,
    /// The graph with those down sections, when there are any.
    pub(crate) stored_down: Option<RevisionGraph>,
    /// The files with the SQL of the revisions the plan runs or records,
    /// when some were read from their header only: the run uses it in
    /// place of the files it was given.
    pub(crate) files: Option<RevisionGraph>,
}

/// A copy of `files` with the SQL of `plan`'s revisions and of every squash
/// loaded and checked ([`Revision::load_sql`]), when some lack it.
/// `also`: further revisions whose rows the run records (drifted ones
/// `stamp --accept-drift` records again).
fn with_sql(
    files: &RevisionGraph,
    plan: &Plan,
    squashes: bool,
    also: &[Drift],
) -> Result<Option<RevisionGraph>, RunError> {
    if (plan.is_empty() && !squashes && also.is_empty()) || files.has_all_sql() {
        return Ok(None);
    }
    let steps = plan.steps.iter().map(|s| s.id.as_str());
    let squashes = files.revisions().iter().filter(|r| !r.replaces().is_empty()).map(|r| r.id.as_str());
    Ok(files.with_sql_for(steps.chain(squashes).chain(also.iter().map(|d| d.id.as_str())))?)
}

/// The check, plan and checks of a run and of its preview: the state
/// interpreted ([`check_state`]), the plan made on it, and everything the
/// plan is refused for checked before the first statement. A `stamp` on a
/// damaged version table plans its repair.
pub(crate) fn prepare(
    backend: &mut dyn Backend,
    files: &RevisionGraph,
    state: &DbState,
    verb: Verb,
    targets: &[&str],
    options: &RunOptions,
    purpose: Purpose,
) -> Result<Prepared, RunError> {
    let dialect = backend.dialect();
    if verb == Verb::Stamp {
        if let Err(RunError::State(_)) = checked(files, state, verb) {
            let plan = repair_plan(files, state, targets)?;
            if let Some(loaded) = with_sql(files, &plan, false, &[])? {
                let prepared = prepare(backend, &loaded, state, verb, targets, options, purpose)?;
                return Ok(Prepared { files: Some(loaded), ..prepared });
            }
            if purpose != Purpose::Preview {
                recordable(backend, files, &plan)?;
            }
            return Ok(Prepared { plan, analysis: None, drifted: Vec::new(), stored_down: None, files: None });
        }
    }
    let analysis = check_state(files, state, verb, verb == Verb::Downgrade)?;
    let plan = match verb == Verb::Stamp && options.accept_drift && targets.is_empty() {
        // Only the checksums of applied revisions are recorded again: no row is added or removed.
        true => Plan { verb, steps: Vec::new() },
        false => plan(analysis.graph(files), &analysis.state, verb, targets)?,
    };
    // Revisions read from their header only: the same preparation on the
    // files with the SQL of what the plan runs (the same plan: the graph
    // and the state are the same), every check below seeing that SQL.
    let drift = if verb == Verb::Stamp { analysis.drift.as_slice() } else { &[] };
    if let Some(loaded) = with_sql(files, &plan, !analysis.squashes.is_empty(), drift)? {
        let prepared = prepare(backend, &loaded, state, verb, targets, options, purpose)?;
        return Ok(Prepared { files: Some(loaded), ..prepared });
    }
    // Downgrade: drifted revisions it unapplies run the down SQL stored when they were applied.
    let drifted = if verb == Verb::Downgrade { drifted_down(&analysis, &plan)? } else { Vec::new() };
    let stored_down = with_stored_down(analysis.graph(files), state, &drifted)?;
    let graph = stored_down.as_ref().unwrap_or(analysis.graph(files));
    crate::revision::check_dialect(graph, &plan, dialect)?;
    empty_up_free(graph, &plan, dialect)?;
    if let Purpose::Run { nested } = purpose {
        recordable(backend, graph, &plan)?;
        if options.single_transaction {
            single_transaction_possible(dialect, graph, &plan)?;
        }
        if nested {
            nestable(graph, &plan)?;
        }
        crate::backend::split::check_plan(graph, &plan, dialect)?;
    }
    transaction_control_free(graph, &plan, dialect)?;
    Ok(Prepared { plan, analysis: Some(analysis), drifted, stored_down, files: None })
}

/// A leftover marker, with the commands that repair it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interruption {
    pub pending: PendingRow,
    pub recovery: Option<Recovery>,
}

/// How to record the truth after a revision was interrupted half-way: the
/// `stamp` targets for either outcome. `stamp T...` sets the state to the
/// closure of the targets, so they are the heads of the whole applied state
/// with or without the interrupted revision; every other branch stays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Targets if the revision's statements all took effect.
    pub if_done: Vec<String>,
    /// Targets if none of them did.
    pub if_not_done: Vec<String>,
}

impl Recovery {
    /// `None` when the revision is not in the graph.
    pub fn new(graph: &RevisionGraph, state: &State, pending: &PendingRow) -> Option<Recovery> {
        graph.get(&pending.id)?;
        let heads = |applied: bool| {
            let ids: Vec<String> =
                state.with(graph, &pending.id, applied).heads(graph).iter().map(|r| r.id.clone()).collect();
            if ids.is_empty() {
                vec!["base".to_string()]
            } else {
                ids
            }
        };
        // Going up, "done" means applied; going down, it means unapplied.
        let up = pending.direction == Direction::Up;
        Some(Recovery { if_done: heads(up), if_not_done: heads(!up) })
    }
}

/// [`checked`] for a state read without holding the run lock (plans shown
/// before a run): a marker of a run that still holds the lock is
/// [`RunError::Running`], not a failure.
pub fn checked_unlocked(
    backend: &mut dyn Backend,
    options: &RunOptions,
    files: &RevisionGraph,
    state: &DbState,
    verb: Verb,
) -> Result<Analysis, RunError> {
    refuse_running(backend, options, state, verb)?;
    checked(files, state, verb)
}

/// For a state read without holding the run lock: a marker of a run that
/// still holds the lock is [`RunError::Running`] (but for `stamp`, which
/// judges no marker). Errors of the lock query are [`RunError::Db`].
pub(crate) fn refuse_running(
    backend: &mut dyn Backend,
    options: &RunOptions,
    state: &DbState,
    verb: Verb,
) -> Result<(), RunError> {
    if let Some(pending) = state.pending.first().filter(|_| verb != Verb::Stamp) {
        if lock_held(backend, options).map_err(db("cannot tell whether another run holds the lock"))? {
            return Err(RunError::Running(Box::new(pending.clone())));
        }
    }
    Ok(())
}

/// Interprets the database state and applies the checks that come before
/// any plan: markers, drift, and files missing for applied revisions.
pub fn checked(files: &RevisionGraph, state: &DbState, verb: Verb) -> Result<Analysis, RunError> {
    check_state(files, state, verb, false)
}

/// [`checked`], with `allow_drift`: drift is left for the caller to judge
/// ([`drifted_down`]: `downgrade` and `redo` unapply drifted revisions with
/// their stored down SQL).
pub fn check_state(
    files: &RevisionGraph,
    state: &DbState,
    verb: Verb,
    allow_drift: bool,
) -> Result<Analysis, RunError> {
    if verb != Verb::Stamp {
        if let Some(pending) = state.pending.first() {
            let recovery =
                Analysis::new(files, state).ok().and_then(|a| Recovery::new(a.graph(files), &a.state, pending));
            return Err(RunError::Interrupted(Box::new(Interruption { pending: pending.clone(), recovery })));
        }
    }
    let analysis = Analysis::new(files, state)?;
    if verb != Verb::Stamp && !allow_drift && !analysis.drift.is_empty() {
        return Err(RunError::Drift(analysis.drift.clone()));
    }
    if matches!(verb, Verb::Upgrade | Verb::Migrate) && !analysis.stored.is_empty() {
        return Err(RunError::Ahead(analysis.stored.clone()));
    }
    Ok(analysis)
}

struct Executor<'r> {
    backend: &'r mut dyn Backend,
    graph: &'r RevisionGraph,
    options: &'r RunOptions,
    dialect: Dialect,
    on_event: &'r mut dyn FnMut(Event<'_>),
    /// The version table, located once at the start of the run.
    table: Table,
    /// Puts the session back after each revision (`SET search_path`, `USE`).
    restore: Option<String>,
    /// The last revision's batch restored the session already (PostgreSQL).
    restored: bool,
}

/// A group of revisions grows (doubling) while each group takes less than
/// this, up to [`GROUP_MAX`] revisions and [`GROUP_BYTES`] of SQL.
const GROUP_FAST: Duration = Duration::from_millis(250);
const GROUP_MAX: usize = 64;
const GROUP_BYTES: usize = 256 * 1024;

/// Now, UTC, RFC 3339 with exactly six fraction digits, so that the text
/// sorts in time order.
fn now() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// Version rows per statement of a `stamp` (9 arguments each: within every
/// engine's limit on bound parameters).
const STAMP_BATCH: usize = 500;

/// The arguments of the version-row insert for `r`.
pub fn row_args(r: &Revision, dialect: Dialect, ms: i64, applied_at: String) -> Vec<Arg> {
    vec![
        Arg::Text(r.id.clone()),
        Arg::Text(r.parents.join(" ")),
        Arg::Text(r.message.clone()),
        Arg::Text(r.checksum.to_string()),
        Arg::NullableText(r.down_for(dialect).map(str::to_string)),
        Arg::Text(applied_at),
        Arg::Int(ms),
        Arg::NullableText(Some(r.depends_on().join(" "))),
        Arg::Int(i64::from(r.transactional)),
    ]
}

impl Executor<'_> {
    fn sql(&mut self, sql: &str) -> Result<(), DbError> {
        self.backend.batch(sql)
    }

    /// Records `step` as done (inserts or deletes its row).
    fn record(&mut self, revision: &Revision, direction: Direction, ms: i64) -> Result<(), DbError> {
        match direction {
            Direction::Up => {
                let args = row_args(revision, self.dialect, ms, now());
                self.backend.exec(&self.dialect.insert_row(&self.table), &args).map(drop)
            }
            Direction::Down => self.delete_row(&revision.id),
        }
    }

    fn delete_row(&mut self, id: &str) -> Result<(), DbError> {
        self.backend.exec(&self.dialect.delete_row(&self.table), &[Arg::Text(id.to_string())]).map(drop)
    }

    /// Puts the session back after a revision: PostgreSQL's `search_path`
    /// as it was at the start, MySQL's database.
    fn restore_session(&mut self) -> Result<(), RunError> {
        if std::mem::take(&mut self.restored) {
            return Ok(()); // in the revision's own batch
        }
        let Some(sql) = &self.restore else { return Ok(()) };
        self.backend.batch(sql).map_err(db("cannot restore the session after a revision"))
    }

    fn stamp(&mut self, plan: Plan, drift: &[Drift]) -> Result<Report, RunError> {
        let table = self.table.clone();
        let mut accepted = Vec::new();
        let result = self.in_tx(identity, |ex| {
            // A few statements for any number of rows (one round trip per
            // STAMP_BATCH rows, not one per revision): the rows removed, then
            // the rows added. A plan never removes and adds the same ID.
            let (added, removed): (Vec<&Step>, Vec<&Step>) = plan
                .steps
                .iter()
                // Repairs also remove rows of revisions the graph lacks.
                .partition(|step| step.direction == Direction::Up && ex.graph.get(&step.id).is_some());
            for chunk in removed.chunks(STAMP_BATCH) {
                let ids: Vec<Arg> = chunk.iter().map(|s| Arg::Text(s.id.clone())).collect();
                ex.backend.exec(&ex.dialect.delete_rows(&table, ids.len()), &ids)?;
            }
            for chunk in added.chunks(STAMP_BATCH) {
                let args: Vec<Arg> =
                    chunk.iter().flat_map(|s| row_args(ex.graph.rev_by_id(&s.id), ex.dialect, 0, now())).collect();
                ex.backend.exec(&ex.dialect.insert_rows(&table, chunk.len()), &args)?;
            }
            if ex.options.accept_drift {
                let planned: HashSet<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
                for d in drift.iter().filter(|d| !planned.contains(d.id.as_str())) {
                    accepted.push(d.id.clone());
                    let r = ex.graph.rev_by_id(&d.id);
                    let args = [
                        Arg::Text(r.checksum.to_string()),
                        Arg::NullableText(r.down_for(ex.dialect).map(str::to_string)),
                        Arg::Text(r.id.clone()),
                    ];
                    ex.backend.exec(&ex.dialect.update_checksum(&table), &args)?;
                }
            }
            ex.backend.exec(&ex.dialect.clear_pending(&table), &[])?;
            Ok(())
        });
        if let Err(source) = result {
            return Err(RunError::Db { context: "cannot stamp".into(), source });
        }
        let done = plan.steps.iter().map(|s| (s.clone(), 0)).collect();
        Ok(Report { done, accepted, ..Report::empty(plan) })
    }

    /// Runs `body` in a transaction of the backend (Diesel's transaction
    /// manager, a savepoint when the caller's connection is in one):
    /// committed on `Ok`, rolled back on `Err` or a panic. `wrap` turns a
    /// failure to begin, commit or roll back into the caller's error.
    fn in_tx<T, E>(
        &mut self,
        wrap: impl Fn(DbError) -> E,
        mut body: impl FnMut(&mut Executor<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let Executor { backend, graph, options, dialect, on_event, table, restore, .. } = self;
        let (mut value, mut failure) = (None, None);
        let outcome = backend.with_transaction(&mut |b| {
            let mut inner = Executor {
                backend: b,
                graph,
                options,
                dialect: *dialect,
                on_event: &mut **on_event,
                table: table.clone(),
                restore: restore.clone(),
                restored: false,
            };
            match body(&mut inner) {
                Ok(v) => {
                    value = Some(v);
                    Ok(())
                }
                Err(e) => {
                    failure = Some(e);
                    Err(DbError::Query("rolled back".into()))
                }
            }
        });
        match (outcome, failure, value) {
            (_, Some(e), _) => Err(e),
            (Err(e), None, _) => Err(wrap(e)),
            (Ok(()), None, Some(v)) => Ok(v),
            (Ok(()), None, None) => Err(wrap(DbError::Query("the transaction's body did not run".into()))),
        }
    }

    /// Runs the plan; with a single transaction, `create` makes the version
    /// tables in it first.
    fn execute(&mut self, plan: Plan, stored: &[String], drifted: &[String], create: bool) -> Result<Report, RunError> {
        let stored: HashSet<&str> = stored.iter().map(String::as_str).collect();
        let drifted: HashSet<&str> = drifted.iter().map(String::as_str).collect();
        let mut report = Report::empty(Plan { verb: plan.verb, steps: Vec::new() });
        if self.options.single_transaction {
            self.in_tx(db("the plan's transaction failed"), |ex| {
                if create {
                    ensure_tables(&mut *ex.backend, &ex.table).map_err(db("cannot create the version table"))?;
                }
                ex.steps(&plan, (&stored, &drifted), &mut report, true)
            })?;
        } else {
            self.steps(&plan, (&stored, &drifted), &mut report, false)?;
        }
        report.plan = plan;
        Ok(report)
    }

    /// Runs the plan's steps, each in its own transaction or marker, or all
    /// in the transaction already open (`single`). On a PostgreSQL
    /// connection migraph opened itself, consecutive transactional
    /// revisions that run fast go to the server together ([`Executor::grouped`]).
    fn steps(
        &mut self,
        plan: &Plan,
        seen: (&HashSet<&str>, &HashSet<&str>),
        report: &mut Report,
        single: bool,
    ) -> Result<(), RunError> {
        // A connection migraph opened itself, outside any transaction, gets
        // each revision's transaction control in its batch (one round trip).
        let own = !single
            && self.backend.owns_session()
            && !self.backend.in_transaction().map_err(db("cannot read the connection's transaction state"))?;
        let (mut at, mut group) = (0, 1);
        while at < plan.steps.len() {
            let started = Instant::now();
            let n = match own && self.dialect == Dialect::Postgres {
                true => self.group_len(&plan.steps[at..], group),
                false => 1,
            };
            match n {
                1 => self.step(&plan.steps[at], seen, report, single, own)?,
                _ => self.grouped(&plan.steps[at..at + n], seen, report)?,
            }
            at += n;
            // Groups grow while revisions run fast and shrink back to one
            // revision as soon as one is slow, so progress stays live.
            group = if started.elapsed() < GROUP_FAST { (group * 2).min(GROUP_MAX) } else { 1 };
        }
        Ok(())
    }

    /// The events before `step` runs.
    fn announce(&mut self, step: &Step, (stored, drifted): (&HashSet<&str>, &HashSet<&str>)) {
        if stored.contains(step.id.as_str()) {
            (self.on_event)(Event::UsingStoredDown(step));
        }
        if drifted.contains(step.id.as_str()) && step.direction == Direction::Down {
            (self.on_event)(Event::DriftedDown(step));
        }
        (self.on_event)(Event::Starting(step));
    }

    /// One step, in its own transaction or marker, or in the open one.
    fn step(
        &mut self,
        step: &Step,
        seen: (&HashSet<&str>, &HashSet<&str>),
        report: &mut Report,
        single: bool,
        own: bool,
    ) -> Result<(), RunError> {
        let revision = self.graph.rev_by_id(&step.id);
        self.announce(step, seen);
        let done = if single { 0 } else { report.done.len() };
        let fail = |source, marked| RunError::Revision {
            id: step.id.clone(),
            message: revision.message.clone(),
            direction: step.direction,
            source,
            done,
            marked,
            rolled_back: single,
        };
        let outcome = if single {
            self.in_open_transaction(revision, step.direction).map(Some).map_err(|e| fail(e, false))
        } else if revision.transactional && self.dialect.transactional_ddl() {
            self.in_own_transaction(revision, step.direction, own).map_err(|e| fail(e, false))
        } else {
            self.with_marker(revision, step.direction, own).map(Some).map_err(|(e, marked)| fail(e, marked))
        };
        let restored = self.restore_session();
        let outcome = outcome?;
        restored?;
        match outcome {
            Some(ms) => {
                (self.on_event)(Event::Finished { step, ms });
                report.done.push((step.clone(), ms));
            }
            None => {
                (self.on_event)(Event::Skipped(step));
                report.skipped.push(step.clone());
            }
        }
        Ok(())
    }

    /// How many of `steps`, from the first, go to the server together: at
    /// most `limit`, transactional ones, each revision once, and up to
    /// [`GROUP_BYTES`] of SQL; one when the first is not transactional.
    fn group_len(&self, steps: &[Step], limit: usize) -> usize {
        let mut bytes = 0;
        let mut n = 0;
        for step in steps.iter().take(limit) {
            let revision = self.graph.rev_by_id(&step.id);
            bytes += revision.sql_for(step.direction, self.dialect).map_or(0, str::len);
            let again = steps[..n].iter().any(|s| s.id == step.id);
            if !revision.transactional || again || bytes > GROUP_BYTES {
                break;
            }
            n += 1;
        }
        n.max(1)
    }

    /// PostgreSQL, on a connection migraph opened itself: the batches of
    /// several revisions ([`Executor::revision_batch`]: each `BEGIN`, its
    /// statements, its row, `COMMIT`) in one simple query, one round trip
    /// for all of them. The server stops at the first error: the revisions
    /// before it are committed, the failing one is rolled back and the
    /// rest never ran. Which ones committed is read back from the version
    /// table (under the run's lock); the others then run one at a time
    /// ([`Executor::step`]), which names the failing statement. Each
    /// revision's time is the server's, collected in the session setting
    /// `migraph.elapsed`. Events come once the batch returns, in order.
    fn grouped(
        &mut self,
        steps: &[Step],
        seen: (&HashSet<&str>, &HashSet<&str>),
        report: &mut Report,
    ) -> Result<(), RunError> {
        let mut batch = String::new();
        for (k, step) in steps.iter().enumerate() {
            match self.revision_batch(self.graph.rev_by_id(&step.id), step.direction, true, Some(k)) {
                Ok(text) => batch.push_str(&text),
                // One at a time then, so that the error is reported as usual.
                Err(_) => return steps.iter().try_for_each(|step| self.step(step, seen, report, false, true)),
            }
        }
        let failed = self.backend.batch(&batch).is_err();
        if failed {
            let _ = self.backend.batch("ROLLBACK");
        }
        let read = if failed { self.committed(steps) } else { Ok(steps.len()) };
        let committed = match read {
            Ok(n) => n,
            Err(source) => {
                // Not "left no trace": some of them may have committed.
                let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
                let context = format!(
                    "the batch of revisions {} failed, and which of them were applied could not be read back \
                     (`migraph status` shows it)",
                    ids.join(", ")
                );
                return Err(RunError::Db { context, source });
            }
        };
        // The server's times, asked for only when a revision committed.
        let times = match committed {
            0 => None,
            _ => self.backend.text("SELECT current_setting('migraph.elapsed', true) AS v", &[]).ok().flatten(),
        };
        let mut times = times.iter().flat_map(|t| t.split(',')).map(|ms| ms.trim().parse::<u64>().unwrap_or(0));
        for step in &steps[..committed] {
            self.announce(step, seen);
            let ms = times.next().unwrap_or(0);
            (self.on_event)(Event::Finished { step, ms });
            report.done.push((step.clone(), ms));
        }
        // Each revision's batch restored the session (`search_path`) already.
        // The server parses the whole batch before it runs any of it, so a
        // syntax error stops the group before its first revision: the ones
        // that did not commit run again one at a time, as without groups.
        steps[committed..].iter().try_for_each(|step| self.step(step, seen, report, false, true))
    }

    /// How many of `steps`, from the first, are recorded as done in the
    /// version table (after a group's batch failed).
    fn committed(&mut self, steps: &[Step]) -> Result<usize, DbError> {
        let sql = self.dialect.row_exists(&self.table);
        let mut n = 0;
        for step in steps {
            let exists = self.backend.int(&sql, &[Arg::Text(step.id.clone())])?.unwrap_or(0) > 0;
            if exists != (step.direction == Direction::Up) {
                break;
            }
            n += 1;
        }
        Ok(n)
    }

    fn run_sql(&mut self, revision: &Revision, direction: Direction) -> Result<u64, DbError> {
        let sql = revision.sql_for(direction, self.dialect).unwrap_or(""); // present: checked by check_dialect
        let start = Instant::now();
        if sql.trim().is_empty() {
            return Ok(0);
        }
        // One statement at a time on every backend, so that a failure names
        // its statement. Inside a transaction this is the same transaction
        // as one batch; outside one (PostgreSQL `transaction: false`) a
        // multi-statement string would run in an implicit transaction, where
        // `CREATE INDEX CONCURRENTLY` is refused. The split was checked
        // before the plan's first statement ([`crate::backend::split::check_plan`]).
        let statements = statements(sql, self.dialect).map_err(|e| DbError::Query(format!("{direction} SQL, {e}")))?;
        for (n, statement) in statements.iter().enumerate() {
            // SQLite reads a statement cut short (`CREATE TABLE t (`) as
            // "incomplete input"; with its `;` it names the syntax error. The
            // text ends with a token (never a comment), and SQLite stores the
            // schema's text as written up to the `;`, as a batch would.
            let text = match self.dialect {
                Dialect::Sqlite => format!("{};", statement.text),
                _ => statement.text.to_string(),
            };
            self.sql(&text).map_err(|e| failed(revision, direction, sql, n + 1, statement, e))?;
        }
        Ok(start.elapsed().as_millis() as u64)
    }

    fn in_open_transaction(&mut self, revision: &Revision, direction: Direction) -> Result<u64, DbError> {
        let ms = self.run_sql(revision, direction)?;
        self.record(revision, direction, ms as i64)?;
        Ok(ms)
    }

    /// SQL and row in one transaction; `None` when another run did it first.
    fn in_own_transaction(
        &mut self,
        revision: &Revision,
        direction: Direction,
        own: bool,
    ) -> Result<Option<u64>, DbError> {
        if self.dialect == Dialect::Postgres {
            return self.batched(revision, direction, own).map(Some);
        }
        self.in_tx(identity, |ex| {
            // SQLite has no run lock: the write lock just taken is the lock,
            // so look again whether a concurrent run did this revision.
            if ex.dialect == Dialect::Sqlite {
                let sql = ex.dialect.row_exists(&ex.table);
                let exists = ex.backend.int(&sql, &[Arg::Text(revision.id.clone())])?.unwrap_or(0) > 0;
                if exists == (direction == Direction::Up) {
                    return Ok(None);
                }
            }
            ex.in_open_transaction(revision, direction).map(Some)
        })
    }

    /// PostgreSQL: the revision's statements, its version row and the
    /// session's restore go to the server as one simple-query batch inside
    /// the revision's transaction: on a connection migraph opened itself
    /// (`own`) its `BEGIN` and `COMMIT` are in the batch too, one round trip
    /// per revision (after a failure a `ROLLBACK` ends the aborted block);
    /// on an application's connection Diesel's transaction manager begins
    /// and commits it (a savepoint inside the caller's transaction), three
    /// round trips, where one per statement, row and restore took 4 or more. Inside a
    /// transaction block a batch runs exactly as its statements one by one.
    /// The row's `execution_ms` is measured by the server (from the batch's
    /// first statement to its row). A failed batch does not say which
    /// statement failed: its statements then run again one at a time in a
    /// transaction that is always rolled back, to name the one that fails
    /// (only what cannot be rolled back, such as a sequence's value, is
    /// touched twice).
    fn batched(&mut self, revision: &Revision, direction: Direction, own: bool) -> Result<u64, DbError> {
        let batch = self.revision_batch(revision, direction, own, None)?;
        let start = Instant::now();
        let outcome = match own {
            // After a failure the block is aborted (or already gone when COMMIT failed).
            true => self.backend.batch(&batch).inspect_err(|_| {
                let _ = self.backend.batch("ROLLBACK");
            }),
            false => self.in_tx(identity, |ex| ex.backend.batch(&batch)),
        };
        match outcome {
            Ok(()) => {
                self.restored = self.restore.is_some();
                Ok(start.elapsed().as_millis() as u64)
            }
            Err(batch_error) => Err(self.locate(revision, direction, batch_error)),
        }
    }

    /// A PostgreSQL revision's batch ([`Executor::batched`]): with `own`,
    /// `BEGIN` and `COMMIT` around it; as the `k`th of a group
    /// ([`Executor::grouped`]) it adds its time to `migraph.elapsed`.
    fn revision_batch(
        &self,
        revision: &Revision,
        direction: Direction,
        own: bool,
        group: Option<usize>,
    ) -> Result<String, DbError> {
        let sql = revision.sql_for(direction, self.dialect).unwrap_or(""); // present: checked by check_dialect
        let statements = statements(sql, self.dialect).map_err(|e| DbError::Query(format!("{direction} SQL, {e}")))?;
        let mut batch = String::from(if own { "BEGIN;\n" } else { "" });
        batch.push_str("SELECT set_config('migraph.started', clock_timestamp()::text, true);\n");
        for statement in &statements {
            batch.push_str(statement.text);
            batch.push_str(";\n");
        }
        let elapsed = "CAST(EXTRACT(EPOCH FROM clock_timestamp() - \
                       CAST(current_setting('migraph.started') AS TIMESTAMPTZ)) * 1000 AS BIGINT)";
        batch.push_str(&row_sql(
            self.dialect,
            &self.table,
            revision,
            direction,
            &crate::script::literal(self.dialect, &now()),
            elapsed,
        ));
        if let Some(k) = group {
            // Session-wide, so it outlives the commit; kept only if it commits.
            let before = if k == 0 { "" } else { "current_setting('migraph.elapsed') || ',' || " };
            batch.push_str(&format!("SELECT set_config('migraph.elapsed', {before}CAST({elapsed} AS TEXT), false);\n"));
        }
        // The search_path as it was at the start, in the same transaction:
        // committed with the revision (a failed one rolls its own SET back).
        if let Some(restore) = &self.restore {
            batch.push_str(restore);
            batch.push_str(";\n");
        }
        if own {
            batch.push_str("COMMIT;\n");
        }
        Ok(batch)
    }

    /// A failed batch does not say which statement failed: they run again
    /// one at a time in a transaction that is always rolled back.
    fn locate(&mut self, revision: &Revision, direction: Direction, batch_error: DbError) -> DbError {
        let located: Result<(), DbError> = self.in_tx(identity, |ex| {
            ex.run_sql(revision, direction)?;
            Err(DbError::Query(String::new()))
        });
        match located {
            Err(DbError::Statement(failed)) => DbError::Statement(failed),
            _ => DbError::Query(format!(
                "{direction} SQL, at COMMIT or in its version row: {} (its statements, run again one at a time \
                 and rolled back, did not fail)",
                match batch_error {
                    DbError::Query(message) => message,
                    other => other.to_string(),
                }
            )),
        }
    }

    /// SQL outside a transaction, guarded by a marker row. The error says
    /// whether the marker was left (the revision may be half applied).
    fn with_marker(&mut self, revision: &Revision, direction: Direction, own: bool) -> Result<u64, (DbError, bool)> {
        if own && self.dialect == Dialect::Mysql {
            if let Some(outcome) = self.marked_batch(revision, direction) {
                return outcome;
            }
        }
        let table = self.table.clone();
        let id = Arg::Text(revision.id.clone());
        let marker = [id.clone(), Arg::Text(direction.to_string()), Arg::Text(now())];
        self.backend.exec(&self.dialect.insert_pending(&table), &marker).map_err(|e| (e, false))?;
        let finish = |ex: &mut Executor<'_>, ms: u64| -> Result<u64, DbError> {
            ex.record(revision, direction, ms as i64)?;
            ex.backend.exec(&ex.dialect.delete_pending(&table), std::slice::from_ref(&id))?;
            Ok(ms)
        };
        let result = if revision.transactional {
            // MySQL: the DDL may commit implicitly, the rest is transactional.
            self.in_tx(identity, |ex| ex.run_sql(revision, direction).and_then(|ms| finish(ex, ms)))
        } else {
            self.run_sql(revision, direction).and_then(|ms| self.in_tx(identity, |ex| finish(ex, ms)))
        };
        result.map_err(|e: DbError| {
            let _ = self.backend.exec(&self.dialect.fail_pending(&table), &[Arg::Text(e.to_string()), id.clone()]);
            (e, true)
        })
    }

    /// MySQL on a connection migraph opened itself: [`Executor::with_marker`]
    /// as one multi-statement batch (its marker, `START TRANSACTION` for a
    /// transactional revision, each statement after `SET @migraph_statement
    /// = N`, the version row and the marker's removal in a transaction, the
    /// database's restore), so a revision costs the batch and Diesel's two
    /// multi-statement toggles, where one call per statement, row and marker
    /// took about 20 round trips. The server stops a batch at its first
    /// error; `@migraph_statement` then says how far it got, so the error
    /// names the statement (as one at a time would) and the marker is left
    /// with the error when anything may be half applied. `None`: a revision
    /// that is not sent as one batch (see [`joinable`]).
    fn marked_batch(&mut self, revision: &Revision, direction: Direction) -> Option<Result<u64, (DbError, bool)>> {
        let (dialect, table) = (self.dialect, self.table.clone());
        let sql = revision.sql_for(direction, dialect).unwrap_or(""); // present: checked by check_dialect
        let statements = statements(sql, dialect).ok()?; // run_sql reports it
        if !statements.iter().all(|s| joinable(s.text)) {
            return None;
        }
        let mut batch = format!(
            "SET @migraph_statement = NULL;\n{};\nSET @migraph_statement = 0, @migraph_started = SYSDATE(6);\n",
            dialect.insert_pending_literal(&table, &revision.id, &direction.to_string(), &now())
        );
        if revision.transactional {
            batch.push_str("START TRANSACTION;\n");
        }
        for (n, statement) in statements.iter().enumerate() {
            batch.push_str(&format!("SET @migraph_statement = {};\n{};\n", n + 1, statement.text));
        }
        // The row and the marker's removal commit together, as Diesel's transaction did.
        batch.push_str("SET @migraph_statement = -1;\n");
        if !revision.transactional {
            batch.push_str("START TRANSACTION;\n");
        }
        let elapsed = "CAST(TIMESTAMPDIFF(MICROSECOND, @migraph_started, SYSDATE(6)) DIV 1000 AS SIGNED)";
        batch.push_str(&row_sql(
            self.dialect,
            &self.table,
            revision,
            direction,
            &crate::script::literal(self.dialect, &now()),
            elapsed,
        ));
        batch.push_str(&format!(
            "{};\nCOMMIT;\nSET @migraph_statement = -2;\n",
            dialect.delete_pending_literal(&table, &revision.id)
        ));
        if let Some(restore) = &self.restore {
            batch.push_str(restore);
            batch.push_str(";\n");
        }
        // The server refuses (and closes the connection on) a packet above max_allowed_packet.
        if batch.len() > 64 * 1024 {
            let packet = self.backend.int("SELECT CAST(@@max_allowed_packet AS SIGNED) AS v", &[]).ok()??;
            if batch.len() as i64 + 1024 > packet {
                return None;
            }
        }
        let start = Instant::now();
        let Err(error) = self.backend.batch(&batch) else {
            self.restored = self.restore.is_some();
            return Some(Ok(start.elapsed().as_millis() as u64));
        };
        let _ = self.backend.batch("ROLLBACK");
        let reached = self.backend.int("SELECT CAST(@migraph_statement AS SIGNED) AS v", &[]);
        let error = match reached {
            // The marker's insert failed: nothing ran, no marker.
            Ok(None) => return Some(Err((error, false))),
            // Committed; the restore failed (the runner restores again and reports it).
            Ok(Some(-2)) => return Some(Ok(start.elapsed().as_millis() as u64)),
            Ok(Some(n)) if n >= 1 && n as usize <= statements.len() => {
                let statement = &statements[n as usize - 1];
                failed(revision, direction, sql, n as usize, statement, error)
            }
            _ => error,
        };
        let _ = self
            .backend
            .exec(&dialect.fail_pending(&table), &[Arg::Text(error.to_string()), Arg::Text(revision.id.clone())]);
        Some(Err((error, true)))
    }
}

/// The version row's change for `direction` as one statement with its
/// values written in (batches and `--sql` scripts bind nothing): the columns
/// [`row_args`] binds, with `applied_at` and `execution_ms` given as SQL
/// expressions (a literal, or what the server measures).
pub(crate) fn row_sql(
    dialect: Dialect,
    table: &Table,
    revision: &Revision,
    direction: Direction,
    applied_at: &str,
    execution_ms: &str,
) -> String {
    match direction {
        Direction::Up => {
            let values: Vec<String> = row_args(revision, dialect, 0, String::new())
                .iter()
                .enumerate()
                .map(|(i, arg)| match i {
                    5 => applied_at.to_string(),
                    6 => execution_ms.to_string(),
                    _ => crate::script::value(dialect, arg),
                })
                .collect();
            format!("{};\n", dialect.insert_row_values(table, &values.join(", ")))
        }
        Direction::Down => format!("{};\n", dialect.delete_row_literal(table, &revision.id)),
    }
}

/// Whether a MySQL statement may be sent inside a multi-statement batch: an
/// executable comment (`/*! … */`, `/*M! … */`), which the splitter keeps
/// whole, is read by the server as SQL, so a `;` in one might end the
/// statement early in a batch; such a revision runs one statement at a time.
fn joinable(text: &str) -> bool {
    !(text.contains("/*!") || text.contains("/*M!")) || !text.contains(';')
}

/// The error of statement `number` (1-based) of `sql`, `revision`'s section
/// going `direction`: its place in the file, first line and the server's message.
fn failed(
    revision: &Revision,
    direction: Direction,
    sql: &str,
    number: usize,
    statement: &crate::backend::split::Statement<'_>,
    error: DbError,
) -> DbError {
    DbError::Statement(Box::new(crate::backend::FailedStatement {
        direction,
        number,
        location: crate::backend::split::locate(&revision.path, sql, statement.line),
        first_line: statement.text.lines().next().unwrap_or("").trim().to_string(),
        message: match error {
            DbError::Query(message) => message,
            other => other.to_string(),
        },
    }))
}

#[cfg(test)]
mod batch_tests {
    #[test]
    fn a_statement_with_a_semicolon_in_an_executable_comment_is_not_joined() {
        assert!(super::joinable("CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END"));
        assert!(super::joinable("CREATE TABLE t (id INT) /*!50100 ENGINE=InnoDB */"));
        assert!(!super::joinable("SELECT 1 /*!; SELECT 2 */"));
        assert!(!super::joinable(
            "/*M!100100 CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW BEGIN SET @a = 1; END */"
        ));
    }
}
