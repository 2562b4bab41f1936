//! Checking a revision's SQL before anything runs: it must split (no
//! `DELIMITER`, no unterminated literal, balanced compound bodies), so a
//! plan never stops half-way through a revision on a lexing problem.

use crate::backend::Dialect;
use crate::graph::RevisionGraph;
use crate::plan::{Direction, Plan, Verb};
use crate::revision::Revision;

use super::{locate, statements};

/// A revision whose SQL cannot be split for a dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: revision {id}, {direction} SQL for {dialect}: {message}")]
pub struct RevisionSqlError {
    /// `file:line` of the problem (the file and the line within the
    /// section when the section cannot be found in the file again).
    pub location: String,
    pub id: String,
    pub direction: Direction,
    pub dialect: Dialect,
    pub message: String,
}

/// Whether `revision`'s SQL for `direction` on `dialect` splits (no SQL
/// there passes: that is [`crate::revision::check_dialect`]'s business).
pub fn check_revision(revision: &Revision, direction: Direction, dialect: Dialect) -> Result<(), RevisionSqlError> {
    let Some(sql) = revision.sql_for(direction, dialect) else { return Ok(()) };
    // A revision read from its header only holds empty sections: never
    // treated as SQL that splits (and so runs, or goes into a script).
    if !revision.has_sql() {
        return Err(RevisionSqlError {
            location: revision.path.display().to_string(),
            id: revision.id.clone(),
            direction,
            dialect,
            message: "its SQL was not read (the graph was read from headers only: load it with \
                      `RevisionGraph::load_all_sql` first)"
                .into(),
        });
    }
    statements(sql, dialect).map(drop).map_err(|e| RevisionSqlError {
        location: locate(&revision.path, sql, e.line),
        id: revision.id.clone(),
        direction,
        dialect,
        message: e.message,
    })
}

/// [`check_revision`] for every step of `plan`, before its first statement
/// runs. A `stamp` plan runs no SQL and always passes.
pub fn check_plan(graph: &RevisionGraph, plan: &Plan, dialect: Dialect) -> Result<(), RevisionSqlError> {
    if plan.verb == Verb::Stamp {
        return Ok(());
    }
    plan.steps.iter().try_for_each(|step| check_revision(graph.rev_by_id(&step.id), step.direction, dialect))
}

/// Every revision's SQL that does not split, for `migraph check`: on
/// `dialect` when the database is known; otherwise each dialect section on
/// its own dialect, and generic sections only when they split on none of
/// the three (such as a `DELIMITER` line), since their dialect is unknown.
pub fn sql_problems(graph: &RevisionGraph, dialect: Option<Dialect>) -> Vec<RevisionSqlError> {
    const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];
    let mut out = Vec::new();
    for revision in graph.revisions() {
        for direction in [Direction::Up, Direction::Down] {
            let problem = match dialect {
                Some(dialect) => check_revision(revision, direction, dialect).err(),
                None => {
                    let mut errors = ALL.iter().map(|&d| (d, check_revision(revision, direction, d)));
                    let own = errors.clone().find(|(d, e)| e.is_err() && has_own_section(revision, direction, *d));
                    match own {
                        Some((_, e)) => e.err(),
                        None => {
                            let failing: Vec<RevisionSqlError> = errors.by_ref().filter_map(|(_, e)| e.err()).collect();
                            (failing.len() == ALL.len()).then(|| failing.into_iter().next()).flatten()
                        }
                    }
                }
            };
            out.extend(problem);
        }
    }
    out
}

fn has_own_section(revision: &Revision, direction: Direction, dialect: Dialect) -> bool {
    let generic = match direction {
        Direction::Up => revision.has_generic_up.then_some(revision.up.as_str()),
        Direction::Down => revision.down.as_deref(),
    };
    revision.sql_for(direction, dialect).is_some_and(|sql| generic.is_none_or(|g| !std::ptr::eq(g, sql)))
}
