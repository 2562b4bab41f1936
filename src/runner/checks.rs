//! What a run refuses before its first statement because of how the plan's
//! revisions would run: transaction control inside a transactional
//! revision, `ALTER TABLE` forms SQLite does not have, and what cannot share
//! a transaction (the caller's, or the whole plan's).

use std::path::PathBuf;

use crate::backend::split::transaction_control;
use crate::backend::Dialect;
use crate::graph::RevisionGraph;
use crate::lint::{file_line, sqlite_alter};
use crate::plan::{Direction, Plan, Verb};
use crate::revision::Revision;

use super::{NotNestable, RunError};

/// A transactional revision whose SQL ends or rolls back the transaction it
/// runs in (`COMMIT`, `ROLLBACK`, `END`, ...): its version row would be
/// written outside that transaction, or recorded while its SQL was rolled
/// back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionControl {
    pub id: String,
    pub direction: Direction,
    /// The revision's file.
    pub path: PathBuf,
    /// The statement's line in the file (in its SQL section when the file
    /// cannot be read, e.g. an embedded revision).
    pub line: usize,
    pub statement: String,
}

/// Refuses a plan in which a revision that runs in a transaction contains
/// transaction control for `dialect`, and, on SQLite, a plan with an
/// `ALTER TABLE` SQLite cannot run ([`sqlite_alter_free`]). A `stamp` plan
/// runs no SQL.
pub fn transaction_control_free(graph: &RevisionGraph, plan: &Plan, dialect: Dialect) -> Result<(), RunError> {
    if plan.verb == Verb::Stamp {
        return Ok(());
    }
    sqlite_alter_free(graph, plan, dialect)?;
    for step in &plan.steps {
        let revision = graph.rev_by_id(&step.id);
        if !revision.transactional {
            continue;
        }
        let Some(sql) = revision.sql_for(step.direction, dialect) else { continue };
        if let Some(found) = transaction_control(sql, dialect) {
            return Err(RunError::TransactionControl(Box::new(TransactionControl {
                id: revision.id.clone(),
                direction: step.direction,
                path: revision.path.clone(),
                line: file_line(revision, sql, found.line),
                statement: found.statement,
            })));
        }
    }
    Ok(())
}

/// Refuses a plan that would run, on SQLite, an `ALTER TABLE` clause SQLite
/// does not have (`ALTER COLUMN … TYPE`, `ADD CONSTRAINT`, ...; see
/// [`sqlite_alter`]), naming the first one, before the plan's first
/// statement: SQLite would fail on it after the revisions before it were
/// committed. Other dialects, and `stamp` plans, pass.
pub fn sqlite_alter_free(graph: &RevisionGraph, plan: &Plan, dialect: Dialect) -> Result<(), RunError> {
    if dialect != Dialect::Sqlite || plan.verb == Verb::Stamp {
        return Ok(());
    }
    let found = plan
        .steps
        .iter()
        .find_map(|s| sqlite_alter::revision_findings(graph.rev_by_id(&s.id), s.direction).into_iter().next());
    match found {
        Some(finding) => Err(RunError::SqliteAlter(Box::new(finding))),
        None => Ok(()),
    }
}

/// Refuses what cannot run inside the caller's open transaction: revisions
/// with `transaction: false` (SQLite and PostgreSQL nest the others as
/// savepoints; MySQL and `single_transaction` are refused earlier).
pub fn nestable(graph: &RevisionGraph, plan: &Plan) -> Result<(), RunError> {
    match plan.steps.iter().find(|s| !graph.rev_by_id(&s.id).transactional) {
        Some(step) => Err(RunError::InTransaction(NotNestable::NotTransactional(step.id.clone()))),
        None => Ok(()),
    }
}

/// Whether the whole plan can run in one transaction.
pub fn single_transaction_possible(dialect: Dialect, graph: &RevisionGraph, plan: &Plan) -> Result<(), RunError> {
    if !dialect.transactional_ddl() {
        return Err(RunError::SingleTransaction("MySQL commits DDL implicitly".into()));
    }
    match plan.steps.iter().find(|s| !graph.rev_by_id(&s.id).transactional) {
        Some(step) => Err(RunError::SingleTransaction(format!("revision {} has `transaction: false`", step.id))),
        None => Ok(()),
    }
}

/// The comment line that marks an up section as empty on purpose (a
/// revision that only moves the history, such as a placeholder kept for
/// another dialect). It must stand on a line of its own in the up section.
pub const EMPTY_MARKER: &str = "-- migraph:empty";

/// A revision whose up SQL for a dialect has no statement (empty, or
/// comments only) and does not say so with [`EMPTY_MARKER`]: most likely
/// an unedited `migraph revision` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmptyUp {
    pub id: String,
    /// The revision's file.
    pub path: PathBuf,
    /// The line of the up section's marker in the file (`None` when the
    /// file cannot be read, e.g. an embedded revision).
    pub line: Option<usize>,
    pub dialect: Dialect,
}

/// Whether `revision`'s up SQL for `dialect` is empty without saying so.
/// Merge revisions (two or more parents) may be empty: they only join lines.
/// SQL that does not split is not judged here (the split check reports it).
pub fn empty_up(revision: &Revision, dialect: Dialect) -> Option<EmptyUp> {
    if revision.parents.len() >= 2 {
        return None;
    }
    let sql = revision.up_for(dialect)?;
    if sql.lines().any(|line| line.trim() == EMPTY_MARKER) {
        return None;
    }
    // Blank and `--` lines only: empty. Large sections are never a template
    // (and splitting them again would cost time): not empty.
    let blank = sql.lines().map(str::trim).all(|l| l.is_empty() || l.starts_with("--"));
    if !blank && (sql.len() > 64 * 1024 || !crate::backend::split::statements(sql, dialect).ok()?.is_empty()) {
        return None;
    }
    let slot = crate::revision::DIALECTS.iter().position(|(d, _)| *d == dialect).unwrap_or(0);
    let marker = match revision.dialect_sql[slot].up.is_some() {
        true => format!("{} {}", crate::revision::UP_MARKER, crate::revision::dialect_name(dialect)),
        false => crate::revision::UP_MARKER.to_string(),
    };
    let line = std::fs::read_to_string(&revision.path)
        .ok()
        .and_then(|text| text.lines().position(|l| l.trim_end() == marker).map(|n| n + 1));
    Some(EmptyUp { id: revision.id.clone(), path: revision.path.clone(), line, dialect })
}

/// Refuses a plan that would apply a revision with an empty up section
/// ([`empty_up`]), before the first statement. A `stamp` plan runs no SQL.
pub fn empty_up_free(graph: &RevisionGraph, plan: &Plan, dialect: Dialect) -> Result<(), RunError> {
    if plan.verb == Verb::Stamp {
        return Ok(());
    }
    let found = plan
        .steps
        .iter()
        .filter(|s| s.direction == Direction::Up)
        .find_map(|s| empty_up(graph.rev_by_id(&s.id), dialect));
    match found {
        Some(empty) => Err(RunError::EmptyUp(Box::new(empty))),
        None => Ok(()),
    }
}

/// Every revision of `graph` with an empty up section, for `migraph check`:
/// on `dialect` when the database is known, else on any dialect it has up
/// SQL for (one report per revision).
pub fn empty_up_problems(graph: &RevisionGraph, dialect: Option<Dialect>) -> Vec<EmptyUp> {
    let dialects = match dialect {
        Some(d) => vec![d],
        None => vec![Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql],
    };
    graph.revisions().iter().filter_map(|r| dialects.iter().find_map(|&d| empty_up(r, d))).collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plan::{plan, State};

    #[test]
    fn sqlite_alter_is_refused_on_sqlite_only() {
        let file = |id: &str, parents: &str, up: &str, down: &str| {
            let text = format!("-- id: {id}\n-- parents: {parents}\n-- migrate:up\n{up}\n-- migrate:down\n{down}\n");
            Revision::parse(Path::new(&format!("{id}.sql")), &text).unwrap()
        };
        let graph = RevisionGraph::new(vec![
            file("a", "", "CREATE TABLE t (v INT);", "DROP TABLE t;"),
            file("b", "a", "ALTER TABLE t ADD COLUMN w INT;", "ALTER TABLE t DROP CONSTRAINT c;"),
            file("c", "b", "SELECT 1;\nALTER TABLE t ALTER COLUMN v SET NOT NULL;", ""),
        ])
        .unwrap();
        let empty = State::new(&graph, []).unwrap();
        let up = plan(&graph, &empty, Verb::Upgrade, &["head"]).unwrap();
        let e = sqlite_alter_free(&graph, &up, Dialect::Sqlite).unwrap_err();
        let RunError::SqliteAlter(found) = &e else { panic!("{e}") };
        assert_eq!((found.id.as_str(), found.line, found.direction), ("c", 2, Direction::Up));
        assert_eq!(found.unsupported.clause, "ALTER COLUMN v SET NOT NULL");
        assert!(transaction_control_free(&graph, &up, Dialect::Sqlite).is_err(), "part of the plan's SQL checks");
        assert!(sqlite_alter_free(&graph, &up, Dialect::Postgres).is_ok());
        let stamp = plan(&graph, &empty, Verb::Stamp, &["head"]).unwrap();
        assert!(sqlite_alter_free(&graph, &stamp, Dialect::Sqlite).is_ok(), "stamp runs no SQL");
        let to_b = plan(&graph, &empty, Verb::Upgrade, &["b"]).unwrap();
        assert!(sqlite_alter_free(&graph, &to_b, Dialect::Sqlite).is_ok());
        let applied = State::new(&graph, ["a", "b"]).unwrap();
        let down = plan(&graph, &applied, Verb::Downgrade, &["a"]).unwrap();
        let e = sqlite_alter_free(&graph, &down, Dialect::Sqlite).unwrap_err();
        assert!(matches!(&e, RunError::SqliteAlter(f) if f.id == "b" && f.direction == Direction::Down), "{e}");
    }
}
