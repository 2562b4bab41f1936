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
//!    a revision that failed half-way, checksum drift, revisions applied but
//!    missing from the files, irreversible revisions, unreachable targets.
//! 4. Each revision's SQL and its version row commit in one transaction
//!    where the backend allows it (SQLite, PostgreSQL). Otherwise (MySQL, or
//!    a `transaction: false` revision) a marker row is written first and
//!    removed with the version row, so a failure or a kill leaves a marker
//!    that `status` reports and the next run refuses to pass until the user
//!    repairs the schema and runs `migraph stamp`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::backend::split::statements;
use crate::backend::{Arg, Backend, DbError, Dialect, PendingRow};
use crate::graph::RevisionGraph;
use crate::plan::{plan, Direction, Plan, PlanError, State, Step, Verb};
use crate::revision::Revision;
use crate::status::{Analysis, DbState, Drift, StateError};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The version table.
    pub table: String,
    /// How long to wait for another run's lock.
    pub lock_timeout: Duration,
    /// Run the whole plan in one transaction (SQLite and PostgreSQL only).
    pub single_transaction: bool,
    /// With `stamp`: record the files' current checksums for drifted revisions.
    pub accept_drift: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            table: "migraph_revisions".into(),
            lock_timeout: Duration::from_secs(60),
            single_transaction: false,
            accept_drift: false,
        }
    }
}

/// Progress, reported as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// Another run holds the lock; waiting up to the timeout.
    WaitingForLock,
    /// The plan, once computed under the lock.
    Planned(&'a Plan),
    /// A revision is about to run.
    Starting(&'a Step),
    /// A revision ran and was recorded.
    Finished { step: &'a Step, ms: u64 },
    /// Another run applied (or unapplied) it first.
    Skipped(&'a Step),
    /// The file is gone: unapplying with the down section stored at apply time.
    UsingStoredDown(&'a Step),
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub plan: Plan,
    /// Steps executed, with their SQL time in milliseconds.
    pub done: Vec<(Step, u64)>,
    /// Steps another concurrent run did first.
    pub skipped: Vec<Step>,
    /// `stamp --accept-drift`: revisions whose new checksums were recorded.
    pub accepted: Vec<String>,
}

/// Why a run stopped. Nothing after the failing revision ran.
#[derive(Debug, Error)]
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
    #[error("checksum drift: applied revision(s) changed since they were applied: {}", describe_drift(.0))]
    Drift(Vec<Drift>),
    #[error("the database is ahead of these files: applied revision(s) {} have no file", .0.join(", "))]
    Ahead(Vec<String>),
    #[error("revision {} failed or was interrupted while going {} (started {}){}; the schema may be half changed", .0.pending.id, .0.pending.direction, .0.pending.started_at, .0.pending.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    Interrupted(Box<Interruption>),
    #[error("another migraph run held the lock for more than {0} s")]
    LockTimeout(u64),
    #[error("--single-transaction is not possible here: {0}")]
    SingleTransaction(String),
}

fn describe_drift(drift: &[Drift]) -> String {
    drift.iter().map(|d| format!("{} ({})", d.id, d.path.display())).collect::<Vec<_>>().join(", ")
}

impl RunError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            RunError::Plan(e) => e.hint(),
            RunError::Drift(_) => Some(
                "restore the file(s) from version control; if the edit is intended and the schema already matches, \
                 record the new checksums with `migraph stamp --accept-drift heads` (or the current target)"
                    .into(),
            ),
            RunError::Ahead(_) => Some(
                "run the release that has these revisions, or unapply them with `migraph downgrade`, \
                 which uses the down sections stored when they were applied"
                    .into(),
            ),
            RunError::Interrupted(i) => Some(match &i.recovery {
                Some(r) => r.advice(&i.pending.id),
                None => format!(
                    "inspect the schema, finish or undo revision {}'s statements by hand, then record the true \
                     state with `migraph stamp <the applied heads>`",
                    i.pending.id
                ),
            }),
            RunError::Revision { marked: true, .. } => {
                Some("the revision ran outside a transaction and may be half applied; see `migraph status`".into())
            }
            RunError::Revision { rolled_back: true, .. } => {
                Some("the whole plan ran in one transaction and was rolled back: nothing changed".into())
            }
            RunError::Revision { done, .. } => Some(format!(
                "the {done} revision(s) before it stay applied; the failing one left no trace; fix the cause and run again"
            )),
            RunError::LockTimeout(_) => Some("wait for the other run to finish, or raise --lock-timeout".into()),
            _ => None,
        }
    }
}

fn db(context: &str) -> impl Fn(DbError) -> RunError + '_ {
    move |source| RunError::Db { context: context.to_string(), source }
}

/// Holds the run lock and releases it when dropped.
struct Locked<'b> {
    backend: &'b mut dyn Backend,
    release: Option<(&'static str, Arg)>,
    /// SQLite: the locked directory (the kernel unlocks it on close or death).
    _directory: Option<std::fs::File>,
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some((sql, arg)) = self.release.take() {
            let _ = self.backend.int(sql, &[arg]);
        }
    }
}

fn lock<'b>(
    backend: &'b mut dyn Backend,
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Locked<'b>, RunError> {
    let dialect = backend.dialect();
    let Some(take) = dialect.try_lock() else {
        let ms = options.lock_timeout.as_millis().min(i32::MAX as u128);
        backend.batch(&format!("PRAGMA busy_timeout = {ms}")).map_err(db("cannot set the SQLite busy timeout"))?;
        let directory = lock_sqlite_directory(backend, options, on_event)?;
        return Ok(Locked { backend, release: None, _directory: directory });
    };
    let arg = dialect.lock_arg(&options.table);
    let taken = wait_for(options, on_event, || {
        let got = backend.int(take, std::slice::from_ref(&arg)).map_err(db("cannot take the run lock"))?;
        Ok((got == Some(1)).then_some(()))
    });
    taken.map(|()| Locked { backend, release: dialect.unlock().map(|sql| (sql, arg)), _directory: None })
}

/// Polls `try_take` every 100 ms until it succeeds or the timeout passes.
fn wait_for<T>(
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
    mut try_take: impl FnMut() -> Result<Option<T>, RunError>,
) -> Result<T, RunError> {
    let deadline = Instant::now() + options.lock_timeout;
    let mut told = false;
    loop {
        if let Some(taken) = try_take()? {
            return Ok(taken);
        }
        if Instant::now() >= deadline {
            return Err(RunError::LockTimeout(options.lock_timeout.as_secs()));
        }
        if !told {
            on_event(Event::WaitingForLock);
            told = true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Locks the directory of the SQLite database file (none for `:memory:`).
fn lock_sqlite_directory(
    backend: &mut dyn Backend,
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Option<std::fs::File>, RunError> {
    let sql = "SELECT file AS v FROM pragma_database_list WHERE name = 'main'";
    let file = backend.text(sql, &[]).map_err(db("cannot find the SQLite database file"))?.unwrap_or_default();
    let Some(directory) = std::path::Path::new(&file).parent().filter(|_| !file.is_empty()) else {
        return Ok(None);
    };
    let handle = std::fs::File::open(directory).map_err(|e| RunError::Db {
        context: format!("cannot open {} to lock it", directory.display()),
        source: DbError::Query(e.to_string()),
    })?;
    wait_for(options, on_event, || match handle.try_lock() {
        Ok(()) => Ok(Some(())),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(e)) => Err(RunError::Db {
            context: format!("cannot lock {}", directory.display()),
            source: DbError::Query(e.to_string()),
        }),
    })?;
    Ok(Some(handle))
}

/// Creates the version table and the marker table if they do not exist.
pub fn ensure_tables(backend: &mut dyn Backend, table: &str) -> Result<(), DbError> {
    let dialect = backend.dialect();
    backend.batch(&dialect.create_version_table(table))?;
    backend.batch(&dialect.create_pending_table(table))
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
    let locked = lock(backend, options, on_event)?;
    let backend = &mut *locked.backend;
    let mut state = DbState::read(backend, &options.table).map_err(db("cannot read the version table"))?;
    if !state.exists || !state.pending_exists {
        // Under the lock: no concurrent run can be creating them too.
        ensure_tables(backend, &options.table).map_err(db("cannot create the version table"))?;
        state = DbState::read(backend, &options.table).map_err(db("cannot read the version table"))?;
    }
    let analysis = checked(files, &state, verb)?;
    let graph = analysis.graph(files);
    let plan = plan(graph, &analysis.state, verb, targets)?;
    if options.single_transaction {
        single_transaction_possible(backend.dialect(), graph, &plan)?;
    }
    on_event(Event::Planned(&plan));
    let dialect = backend.dialect();
    let mut executor = Executor { backend, graph, options, dialect, on_event };
    let report = if verb == Verb::Stamp {
        executor.stamp(plan, &analysis.drift)?
    } else {
        executor.execute(plan, &analysis.stored)?
    };
    drop(locked);
    Ok(report)
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
        let up = pending.direction == Direction::Up.to_string();
        Some(Recovery { if_done: heads(up), if_not_done: heads(!up) })
    }

    /// The hint: both commands, spelled out.
    pub fn advice(&self, id: &str) -> String {
        format!(
            "inspect the schema; if all of revision {id}'s statements took effect, run `migraph stamp {}`; \
             if none did, run `migraph stamp {}`; if only some did, finish or undo them by hand first \
             (stamp records the state without running SQL and clears the failure)",
            self.if_done.join(" "),
            self.if_not_done.join(" ")
        )
    }
}

/// Interprets the database state and applies the checks that come before
/// any plan: markers, drift, and files missing for applied revisions.
pub fn checked(files: &RevisionGraph, state: &DbState, verb: Verb) -> Result<Analysis, RunError> {
    if verb != Verb::Stamp {
        if let Some(pending) = state.pending.first() {
            let recovery =
                Analysis::new(files, state).ok().and_then(|a| Recovery::new(a.graph(files), &a.state, pending));
            return Err(RunError::Interrupted(Box::new(Interruption { pending: pending.clone(), recovery })));
        }
    }
    let analysis = Analysis::new(files, state)?;
    if verb != Verb::Stamp && !analysis.drift.is_empty() {
        return Err(RunError::Drift(analysis.drift.clone()));
    }
    if matches!(verb, Verb::Upgrade | Verb::Migrate) && !analysis.stored.is_empty() {
        return Err(RunError::Ahead(analysis.stored.clone()));
    }
    Ok(analysis)
}

/// Whether the whole plan can run in one transaction.
fn single_transaction_possible(dialect: Dialect, graph: &RevisionGraph, plan: &Plan) -> Result<(), RunError> {
    if !dialect.transactional_ddl() {
        return Err(RunError::SingleTransaction("MySQL commits DDL implicitly".into()));
    }
    match plan.steps.iter().find(|s| !graph.rev_by_id(&s.id).transactional) {
        Some(step) => Err(RunError::SingleTransaction(format!("revision {} has `transaction: false`", step.id))),
        None => Ok(()),
    }
}

struct Executor<'r> {
    backend: &'r mut dyn Backend,
    graph: &'r RevisionGraph,
    options: &'r RunOptions,
    dialect: Dialect,
    on_event: &'r mut dyn FnMut(Event<'_>),
}

/// Now, UTC, RFC 3339 with exactly six fraction digits, so that the text
/// sorts in time order.
fn now() -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
    time::OffsetDateTime::now_utc().format(&format).unwrap_or_default()
}

/// The arguments of the version-row insert for `r`.
pub fn row_args(r: &Revision, ms: i64, applied_at: String) -> Vec<Arg> {
    vec![
        Arg::Text(r.id.clone()),
        Arg::Text(r.parents.join(" ")),
        Arg::Text(r.message.clone()),
        Arg::Text(r.checksum.clone()),
        Arg::NullableText(r.down.clone()),
        Arg::Text(applied_at),
        Arg::Int(ms),
    ]
}

impl Executor<'_> {
    fn sql(&mut self, sql: &str) -> Result<(), DbError> {
        self.backend.batch(sql)
    }

    /// Records `step` as done (inserts or deletes its row).
    fn record(&mut self, revision: &Revision, direction: Direction, ms: i64) -> Result<(), DbError> {
        let table = &self.options.table;
        match direction {
            Direction::Up => self.backend.exec(&self.dialect.insert_row(table), &row_args(revision, ms, now())),
            Direction::Down => self.backend.exec(&self.dialect.delete_row(table), &[Arg::Text(revision.id.clone())]),
        }
        .map(drop)
    }

    fn stamp(&mut self, plan: Plan, drift: &[Drift]) -> Result<Report, RunError> {
        let table = self.options.table.clone();
        let mut accepted = Vec::new();
        let result = (|| -> Result<(), DbError> {
            self.sql(self.dialect.begin())?;
            for step in &plan.steps {
                self.record(self.graph.rev_by_id(&step.id), step.direction, 0)?;
            }
            if self.options.accept_drift {
                let planned: HashSet<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
                for d in drift.iter().filter(|d| !planned.contains(d.id.as_str())) {
                    accepted.push(d.id.clone());
                    let r = self.graph.rev_by_id(&d.id);
                    let args =
                        [Arg::Text(r.checksum.clone()), Arg::NullableText(r.down.clone()), Arg::Text(r.id.clone())];
                    self.backend.exec(&self.dialect.update_checksum(&table), &args)?;
                }
            }
            self.backend.exec(&self.dialect.clear_pending(&table), &[])?;
            self.sql("COMMIT")
        })();
        if let Err(source) = result {
            let _ = self.sql("ROLLBACK");
            return Err(RunError::Db { context: "cannot stamp".into(), source });
        }
        let done = plan.steps.iter().map(|s| (s.clone(), 0)).collect();
        Ok(Report { plan, done, skipped: Vec::new(), accepted })
    }

    fn execute(&mut self, plan: Plan, stored: &[String]) -> Result<Report, RunError> {
        let stored: HashSet<&str> = stored.iter().map(String::as_str).collect();
        let single = self.options.single_transaction;
        if single {
            self.sql(self.dialect.begin()).map_err(db("cannot start the transaction"))?;
        }
        let mut report = Report {
            plan: Plan { verb: plan.verb, steps: Vec::new() },
            done: Vec::new(),
            skipped: Vec::new(),
            accepted: Vec::new(),
        };
        for step in &plan.steps {
            let revision = self.graph.rev_by_id(&step.id);
            if stored.contains(step.id.as_str()) {
                (self.on_event)(Event::UsingStoredDown(step));
            }
            (self.on_event)(Event::Starting(step));
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
                self.in_open_transaction(revision, step.direction).map(Some).map_err(|e| {
                    let _ = self.sql("ROLLBACK");
                    fail(e, false)
                })
            } else if revision.transactional && self.dialect.transactional_ddl() {
                self.in_own_transaction(revision, step.direction).map_err(|e| fail(e, false))
            } else {
                self.with_marker(revision, step.direction).map(Some).map_err(|(e, marked)| fail(e, marked))
            };
            match outcome? {
                Some(ms) => {
                    (self.on_event)(Event::Finished { step, ms });
                    report.done.push((step.clone(), ms));
                }
                None => {
                    (self.on_event)(Event::Skipped(step));
                    report.skipped.push(step.clone());
                }
            }
        }
        if single {
            self.sql("COMMIT").map_err(db("cannot commit the transaction"))?;
        }
        report.plan = plan;
        Ok(report)
    }

    fn run_sql(&mut self, revision: &Revision, direction: Direction) -> Result<u64, DbError> {
        let sql = match direction {
            Direction::Up => revision.up.as_str(),
            Direction::Down => revision.down.as_deref().unwrap_or(""),
        };
        let start = Instant::now();
        if sql.trim().is_empty() {
            return Ok(0);
        }
        if !revision.transactional && self.dialect == Dialect::Postgres {
            // A multi-statement string runs in an implicit transaction on
            // PostgreSQL, where `CREATE INDEX CONCURRENTLY` is refused.
            for statement in statements(sql) {
                self.sql(statement)?;
            }
        } else {
            self.sql(sql)?;
        }
        Ok(start.elapsed().as_millis() as u64)
    }

    fn in_open_transaction(&mut self, revision: &Revision, direction: Direction) -> Result<u64, DbError> {
        let ms = self.run_sql(revision, direction)?;
        self.record(revision, direction, ms as i64)?;
        Ok(ms)
    }

    /// SQL and row in one transaction; `None` when another run did it first.
    fn in_own_transaction(&mut self, revision: &Revision, direction: Direction) -> Result<Option<u64>, DbError> {
        self.sql(self.dialect.begin())?;
        let result = (|| {
            // SQLite has no run lock: the write lock just taken is the lock,
            // so look again whether a concurrent run did this revision.
            if self.dialect == Dialect::Sqlite {
                let sql = self.dialect.row_exists(&self.options.table);
                let exists = self.backend.int(&sql, &[Arg::Text(revision.id.clone())])?.unwrap_or(0) > 0;
                if exists == (direction == Direction::Up) {
                    return Ok(None);
                }
            }
            self.in_open_transaction(revision, direction).map(Some)
        })();
        match result {
            Ok(outcome) => self.sql("COMMIT").map(|()| outcome),
            Err(e) => {
                let _ = self.sql("ROLLBACK");
                Err(e)
            }
        }
    }

    /// SQL outside a transaction, guarded by a marker row. The error says
    /// whether the marker was left (the revision may be half applied).
    fn with_marker(&mut self, revision: &Revision, direction: Direction) -> Result<u64, (DbError, bool)> {
        let table = self.options.table.clone();
        let id = Arg::Text(revision.id.clone());
        let marker = [id.clone(), Arg::Text(direction.to_string()), Arg::Text(now())];
        self.backend.exec(&self.dialect.insert_pending(&table), &marker).map_err(|e| (e, false))?;
        let transactional = revision.transactional;
        let result = (|| {
            if transactional {
                self.sql(self.dialect.begin())?;
            }
            let ms = self.run_sql(revision, direction)?;
            if !transactional {
                self.sql(self.dialect.begin())?;
            }
            self.record(revision, direction, ms as i64)?;
            self.backend.exec(&self.dialect.delete_pending(&table), std::slice::from_ref(&id))?;
            self.sql("COMMIT")?;
            Ok(ms)
        })();
        result.map_err(|e: DbError| {
            let _ = self.sql("ROLLBACK");
            let _ = self.backend.exec(&self.dialect.fail_pending(&table), &[Arg::Text(e.to_string()), id.clone()]);
            (e, true)
        })
    }
}
