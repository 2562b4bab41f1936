//! Moving a database to another engine (`migraph copy`): SQLite to
//! PostgreSQL, PostgreSQL to MySQL, any way round.
//!
//! The target's schema is not translated from the source's: it is built by
//! running the revisions the source has applied, through the same
//! [`Migrator`] runs use, so each revision's dialect section (`-- migrate:up
//! postgres`) makes the tables the target's engine should have. Then every
//! table's rows are copied, parents before children by foreign key, in
//! batches, each value checked against the target column's limits first so
//! that a value the target cannot hold is an error naming table, column and
//! row key. The version table's rows are copied last, so the target reports
//! the same state with the same dates. Finally both sides are compared
//! table by table: row counts and an order-independent SHA-256 over values
//! in a canonical form per [`Kind`].
//!
//! On SQLite and PostgreSQL targets all of it (schema, rows, version rows,
//! the comparison) is one transaction: a failure leaves the target as it was.
//! MySQL commits DDL implicitly: the schema is built first, under a marker
//! table (`<version table>_copy`), then the rows go in one transaction; a
//! failure leaves the schema, no rows and the marker, and
//! [`CopyOptions::into_existing`] finishes the copy once the cause is fixed.
//!
//! The source is only read. It must be in a clean state (no failure marker,
//! no checksum drift, no revision missing from the files), and should not
//! be written to while the copy runs.

mod catalog;
mod fill;
mod rows;

use std::collections::BTreeSet;

use thiserror::Error;

use crate::backend::sql::Table as VersionTable;
use crate::backend::{Backend, DbError, Dialect, VersionRow};
use crate::plan::{Step, Verb};
use crate::runner::RunError;
use crate::status::DbState;
use crate::Migrator;

pub use catalog::Kind;
use catalog::Table;
use fill::Job;

/// How to copy.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CopyOptions {
    /// Copy into a target that already has the schema (at exactly the
    /// source's applied revisions) and empty tables, e.g. to finish a MySQL
    /// copy that stopped.
    pub into_existing: bool,
    /// Rows read and written per batch.
    pub batch_rows: usize,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions { into_existing: false, batch_rows: 10_000 }
    }
}

/// Progress, reported as it happens.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A revision was applied on the target.
    Applied(&'a Step),
    /// Rows of a table copied so far.
    Rows { table: &'a str, done: u64, total: u64 },
    /// A table is copied.
    TableDone { table: &'a str, rows: u64, ms: u64 },
    /// Comparing the two sides.
    Verifying,
}

/// A table to copy and how many rows it has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TablePlan {
    pub table: String,
    pub rows: u64,
}

/// What a copy would do ([`plan`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyPlan {
    /// The revisions to apply on the target, in order.
    pub schema: Vec<Step>,
    /// The tables in the order they are filled, then the version table.
    pub tables: Vec<TablePlan>,
}

/// One table compared on both sides.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Check {
    pub table: String,
    pub source_rows: u64,
    pub target_rows: u64,
    pub source_digest: String,
    pub target_digest: String,
}

impl Check {
    pub fn matches(&self) -> bool {
        self.source_rows == self.target_rows && self.source_digest == self.target_digest
    }
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CopyReport {
    /// Revisions applied on the target.
    pub applied: Vec<Step>,
    /// Every table compared, in the order filled; the version table last.
    pub checks: Vec<Check>,
    /// Rows copied, version rows included.
    pub rows: u64,
}

/// Why a copy did not start or did not finish.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CopyError {
    #[error("cannot read the {side}'s state: {source}")]
    State { side: &'static str, source: Box<RunError> },
    #[error("the source is not in a clean state: {0}")]
    Unclean(String),
    #[error("the target is not empty: it has table(s) {}", .0.join(", "))]
    TargetNotEmpty(Vec<String>),
    #[error("the target's applied revisions ({}) are not the source's ({})", list(.found), list(.expected))]
    TargetState { expected: Vec<String>, found: Vec<String> },
    #[error("table `{0}` on the target already has rows")]
    TargetHasRows(String),
    #[error("cannot build the schema on the target: {0}")]
    Run(Box<RunError>),
    #[error("table `{table}`: {problem}")]
    Schema { table: String, problem: String },
    #[error("table `{table}`, column `{column}`, row {key}: {problem}")]
    Value { table: String, column: String, key: String, problem: String },
    /// The target's engine refused a row.
    #[error("table `{table}`, row {key}: the target refused it: {source}")]
    Row { table: String, key: String, source: DbError },
    #[error("{context}: {source}")]
    Db { context: String, source: DbError },
    #[error("the copy does not match the source: table(s) {}", .0.iter().filter(|c| !c.matches()).map(|c| c.table.as_str()).collect::<Vec<_>>().join(", "))]
    Mismatch(Vec<Check>),
    /// MySQL: the schema was built and committed, the rows were not.
    #[error("{cause}")]
    Unfinished {
        cause: Box<CopyError>,
        /// Whether the target has the source's schema (the rows' transaction was rolled back).
        schema_built: bool,
        /// The marker table left on the target.
        marker: String,
    },
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

fn db(context: impl Into<String>) -> impl FnOnce(DbError) -> CopyError {
    move |source| CopyError::Db { context: context.into(), source }
}

/// The version table, its markers' table and `copy`'s own marker, which
/// are not user tables.
struct Own {
    table: VersionTable,
    names: [String; 3],
}

impl Own {
    fn new(migrator: &Migrator) -> Own {
        let options = migrator.options();
        let table = VersionTable::new(options.table.as_str(), options.schema.clone());
        let names = [table.name.clone(), table.pending().name, format!("{}_copy", table.name)];
        Own { table, names }
    }

    fn is_own(&self, name: &str) -> bool {
        self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    fn marker(&self) -> &str {
        &self.names[2]
    }
}

/// The source, read and checked.
struct Source {
    applied: Vec<String>,
    heads: Vec<String>,
    versions: Vec<VersionRow>,
    tables: Vec<Table>,
    order: Vec<usize>,
    tangled: BTreeSet<usize>,
}

fn read_source(migrator: &Migrator, source: &mut dyn Backend, own: &Own) -> Result<Source, CopyError> {
    let status = migrator.status(source).map_err(|e| CopyError::State { side: "source", source: Box::new(e) })?;
    let mut problems = Vec::new();
    if !status.failed.is_empty() || !status.running.is_empty() {
        let ids: Vec<&str> = status.failed.iter().chain(&status.running).map(|p| p.id.as_str()).collect();
        problems.push(format!("revision(s) {} failed, were interrupted or are running", ids.join(", ")));
    }
    if !status.drift.is_empty() {
        let ids: Vec<&str> = status.drift.iter().map(|d| d.id.as_str()).collect();
        problems
            .push(format!("applied revision(s) {} changed since they were applied (checksum drift)", ids.join(", ")));
    }
    if !status.missing_files.is_empty() {
        problems.push(format!("applied revision(s) {} have no file", status.missing_files.join(", ")));
    }
    if !problems.is_empty() {
        return Err(CopyError::Unclean(problems.join("; ")));
    }
    let versions = DbState::read(source, &own.table).map_err(db("cannot read the source's version table"))?.rows;
    let mut tables = Vec::new();
    for name in catalog::table_names(source).map_err(db("cannot list the source's tables"))? {
        if !own.is_own(&name) {
            tables
                .push(catalog::table(source, &name).map_err(db(format!("cannot read table `{name}` of the source")))?);
        }
    }
    let (order, tangled) = catalog::fill_order(&tables);
    Ok(Source { applied: status.applied, heads: status.heads, versions, tables, order, tangled })
}

/// The target's user tables; with `into_existing`, also checks its state.
fn check_target(
    migrator: &Migrator,
    target: &mut dyn Backend,
    own: &Own,
    source: &Source,
    into_existing: bool,
) -> Result<(), CopyError> {
    let names = catalog::table_names(target).map_err(db("cannot list the target's tables"))?;
    if !into_existing {
        let mut found: Vec<String> = names.into_iter().filter(|n| !n.eq_ignore_ascii_case(own.marker())).collect();
        if own.table.schema.is_some() && DbState::read(target, &own.table).is_ok_and(|s| s.exists) {
            found.push(own.table.name.clone());
        }
        return if found.is_empty() { Ok(()) } else { Err(CopyError::TargetNotEmpty(found)) };
    }
    let status = migrator.status(target).map_err(|e| CopyError::State { side: "target", source: Box::new(e) })?;
    if !status.failed.is_empty() || !status.drift.is_empty() || !status.missing_files.is_empty() {
        return Err(CopyError::TargetState { expected: source.applied.clone(), found: status.applied });
    }
    let mut theirs = status.applied.clone();
    let mut ours = source.applied.clone();
    theirs.sort();
    ours.sort();
    if theirs != ours {
        return Err(CopyError::TargetState { expected: source.applied.clone(), found: status.applied });
    }
    for name in names.iter().filter(|n| !own.is_own(n)) {
        if count(target, name)? > 0 {
            return Err(CopyError::TargetHasRows(name.clone()));
        }
    }
    Ok(())
}

fn count(db: &mut dyn Backend, table: &str) -> Result<u64, CopyError> {
    let dialect = db.dialect();
    let sql = format!("SELECT CAST(COUNT(*) AS {}) AS v FROM {}", bigint(dialect), dialect.ident(table));
    let n = db.int(&sql, &[]).map_err(db_count(table))?;
    Ok(n.unwrap_or(0).max(0) as u64)
}

fn db_count(table: &str) -> impl FnOnce(DbError) -> CopyError + '_ {
    move |source| CopyError::Db { context: format!("cannot count the rows of `{table}`"), source }
}

fn bigint(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => "SIGNED",
        _ => "BIGINT",
    }
}

/// What [`copy`] would do, without changing either database: the same
/// checks, the revisions to apply on the target, and the tables with their
/// row counts in the order they would be filled.
pub fn plan(
    migrator: &Migrator,
    source: &mut dyn Backend,
    target: &mut dyn Backend,
    options: &CopyOptions,
) -> Result<CopyPlan, CopyError> {
    let own = Own::new(migrator);
    let read = read_source(migrator, source, &own)?;
    check_target(migrator, target, &own, &read, options.into_existing)?;
    let schema = if options.into_existing || read.heads.is_empty() {
        Vec::new()
    } else {
        let heads: Vec<&str> = read.heads.iter().map(String::as_str).collect();
        migrator.plan(target, Verb::Upgrade, &heads).map_err(|e| CopyError::Run(Box::new(e)))?.steps
    };
    let mut tables = Vec::new();
    for &i in &read.order {
        let table = read.tables[i].name.clone();
        tables.push(TablePlan { rows: count(source, &table)?, table });
    }
    tables.push(TablePlan { table: own.table.name.clone(), rows: read.versions.len() as u64 });
    Ok(CopyPlan { schema, tables })
}

/// Copies the database `source` into `target` (see the [module](self)
/// docs), calling `on_event` as it goes.
pub fn copy(
    migrator: &Migrator,
    source: &mut dyn Backend,
    target: &mut dyn Backend,
    options: &CopyOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<CopyReport, CopyError> {
    let own = Own::new(migrator);
    let read = read_source(migrator, source, &own)?;
    check_target(migrator, target, &own, &read, options.into_existing)?;
    let mut job = Job { migrator, own: &own, read: &read, options, on_event };
    if target.dialect() != Dialect::Mysql {
        // One transaction: the schema (the runner nests in it), the rows,
        // the version rows and the comparison.
        return in_transaction(target, &mut |target| {
            let applied = job.schema(target)?;
            job.fill(source, target, applied)
        });
    }
    // MySQL: DDL commits at once. Mark the target, build the schema, then
    // fill it in one transaction; the marker goes when all is verified.
    let marker = own.marker().to_string();
    let unfinished = |cause: CopyError, schema_built: bool| CopyError::Unfinished {
        cause: Box::new(cause),
        schema_built,
        marker: marker.clone(),
    };
    let quoted = Dialect::Mysql.ident(&marker);
    if !options.into_existing {
        let mark = format!(
            "CREATE TABLE IF NOT EXISTS {quoted} (note VARCHAR(200)); INSERT INTO {quoted} (note) VALUES \
             ('a migraph copy into this database has not finished')"
        );
        target.batch(&mark).map_err(db("cannot create the marker table on the target"))?;
    }
    let applied = job.schema(target).map_err(|e| unfinished(e, false))?;
    target.batch("SET FOREIGN_KEY_CHECKS = 0").map_err(db("cannot turn off foreign key checks on the target"))?;
    let report = in_transaction(target, &mut |target| job.fill(source, target, applied.clone()));
    let restored = target.batch("SET FOREIGN_KEY_CHECKS = 1");
    let report = report.map_err(|e| unfinished(e, true))?;
    restored.map_err(db("cannot turn foreign key checks back on on the target"))?;
    target
        .batch(&format!("DROP TABLE IF EXISTS {quoted}"))
        .map_err(db("cannot drop the marker table on the target"))?;
    Ok(report)
}

/// Runs `body` in a transaction on `target`: committed when it succeeds,
/// rolled back when it fails.
fn in_transaction(
    target: &mut dyn Backend,
    body: &mut dyn FnMut(&mut dyn Backend) -> Result<CopyReport, CopyError>,
) -> Result<CopyReport, CopyError> {
    let mut outcome = None;
    let done = target.with_transaction(&mut |target| {
        let result = body(target);
        let failed = result.is_err();
        outcome = Some(result);
        if failed {
            Err(DbError::Query("rolled back".into()))
        } else {
            Ok(())
        }
    });
    match (outcome, done) {
        (Some(Err(e)), _) => Err(e),
        (Some(Ok(report)), Ok(())) => Ok(report),
        (_, Err(e)) => Err(CopyError::Db { context: "cannot commit the copy on the target".into(), source: e }),
        (None, Ok(())) => {
            Err(CopyError::Db { context: "the copy did not run".into(), source: DbError::Query("no outcome".into()) })
        }
    }
}
