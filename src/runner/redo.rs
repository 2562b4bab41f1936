//! `redo`: unapply a revision with the down SQL stored when it was applied,
//! then apply it again from its file: the edit-and-rerun loop.
//!
//! What needs the revision cannot stay applied without it, so redo R
//! unapplies needs*(R) ∩ S (R and every applied revision that descends from
//! it through parents or depends-on) in the exact reverse of their apply
//! order, then applies the same set again in apply order, from the files.
//! (Rails' `db:migrate:redo STEP=N` redoes the last N in the same way;
//! Alembic has no redo.) Drift of the redone revisions is expected: their
//! stored down SQL runs, and re-applying records the files' new checksums.
//! Drift of any other applied revision is refused, as on every run.

use std::collections::HashSet;

use thiserror::Error;

use crate::backend::Backend;
use crate::graph::RevisionGraph;
use crate::plan::{Direction, Plan, Step, Verb};
use crate::status::{Analysis, DbState, Drift, StateError};
use crate::target::resolve_revision;

use super::checks::{empty_up_free, nestable, transaction_control_free};
use super::lock::backup_sqlite;
use super::table::{ensure_tables, recordable, session_restore};
use super::{check_state, db, start, Event, Executor, Report, RunError, RunOptions, Started};

/// Why there is nothing to redo, or it cannot be redone.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum RedoError {
    #[error("nothing to redo: no revision is applied")]
    NothingApplied,
    #[error("the database has several applied heads ({}); name the revision to redo", .0.join(", "))]
    SeveralHeads(Vec<String>),
    #[error("revision {0} is not applied; there is nothing to redo")]
    NotApplied(String),
    #[error("revision {0} is applied but its file is missing: it cannot be applied again")]
    NoFile(String),
}

/// A redo, planned: the steps down, then up, and the drifted revisions
/// whose stored down SQL runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedoPlan {
    /// The revision asked for.
    pub id: String,
    /// needs*(id) ∩ S, newest first.
    pub down: Plan,
    /// The same revisions, in apply order.
    pub up: Plan,
    /// The revisions of `down` whose file changed since they were applied.
    pub drifted: Vec<String>,
}

impl RedoPlan {
    /// Down then up, as one plan (for `--dry-run` and progress).
    pub fn steps(&self) -> Plan {
        Plan { verb: Verb::Migrate, steps: self.down.steps.iter().chain(&self.up.steps).cloned().collect() }
    }
}

/// Plans `redo rev` (`None`: the single applied head) on `state`, checked
/// like a run's plan: markers, drift outside the redone set, missing files.
pub fn redo_plan(files: &RevisionGraph, state: &DbState, rev: Option<&str>) -> Result<RedoPlan, RunError> {
    let analysis = check_state(files, state, Verb::Downgrade, true)?;
    plan_of(files, &analysis, rev)
}

fn plan_of(files: &RevisionGraph, analysis: &Analysis, rev: Option<&str>) -> Result<RedoPlan, RunError> {
    let graph = analysis.graph(files);
    let applied = &analysis.state;
    let id = match rev {
        Some(text) => resolve_revision(graph, text).map_err(|e| RunError::Plan(e.into()))?.id.clone(),
        None => match applied.heads(graph).as_slice() {
            [] => return Err(RedoError::NothingApplied.into()),
            [head] => head.id.clone(),
            heads => return Err(RedoError::SeveralHeads(heads.iter().map(|r| r.id.clone()).collect()).into()),
        },
    };
    if !applied.contains(graph, &id) {
        return Err(RedoError::NotApplied(id).into());
    }
    let revision = graph.rev_by_id(&id);
    // Every applied descendant's ancestors are applied too (S is closed),
    // so this is the apply order of the set: `id` is its only root.
    let set: Vec<_> = std::iter::once(revision)
        .chain(graph.descendants(&id).into_iter().filter(|r| applied.contains(graph, &r.id)))
        .collect();
    let stored: HashSet<&str> = analysis.stored.iter().map(String::as_str).collect();
    if let Some(missing) = set.iter().find(|r| stored.contains(r.id.as_str())) {
        return Err(RedoError::NoFile(missing.id.clone()).into());
    }
    let step =
        |r: &crate::revision::Revision, direction| Step { id: r.id.clone(), direction, message: r.message.clone() };
    let up = Plan { verb: Verb::Upgrade, steps: set.iter().map(|r| step(r, Direction::Up)).collect() };
    let down = Plan { verb: Verb::Downgrade, steps: set.iter().rev().map(|r| step(r, Direction::Down)).collect() };
    let drifted = drifted_down(analysis, &down)?;
    Ok(RedoPlan { id, down, up, drifted })
}

/// Runs `redo rev` under the run lock: the plan is made from the state read
/// under it, everything is checked before the first statement, and each
/// revision runs with the usual guarantees (its SQL and its row in one
/// transaction where the backend allows it, else a marker).
pub fn redo(
    backend: &mut dyn Backend,
    files: &RevisionGraph,
    rev: Option<&str>,
    options: &RunOptions,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Report, RunError> {
    let Started { locked, table, state, nested, dialect } = start(backend, files, options, on_event)?;
    let backend = &mut *locked.backend;
    // Files read from their header only: every revision's SQL, loaded and checked.
    let mut loaded = None;
    if !files.has_all_sql() {
        let mut all = files.clone();
        all.load_all_sql()?;
        loaded = Some(all);
    }
    let files = loaded.as_ref().unwrap_or(files);
    let analysis = check_state(files, &state, Verb::Downgrade, true)?;
    let redo = plan_of(files, &analysis, rev)?;
    let up_graph = analysis.graph(files);
    let stored_down = with_stored_down(up_graph, &state, &redo.drifted)?;
    let down_graph = stored_down.as_ref().unwrap_or(up_graph);
    for (graph, plan) in [(down_graph, &redo.down), (up_graph, &redo.up)] {
        crate::revision::check_dialect(graph, plan, dialect)?;
        recordable(backend, graph, plan)?;
        if nested {
            nestable(graph, plan)?;
        }
        crate::backend::split::check_plan(graph, plan, dialect)?;
        transaction_control_free(graph, plan, dialect)?;
    }
    empty_up_free(up_graph, &redo.up, dialect)?;
    let whole = redo.steps();
    on_event(Event::Planned(&whole));
    let backup = match options.backup {
        true => backup_sqlite(backend)?,
        false => None,
    };
    if let Some(path) = &backup {
        on_event(Event::BackedUp(path));
    }
    let create = !state.pending_exists;
    if create {
        ensure_tables(backend, &table).map_err(db("cannot create the version table"))?;
    }
    let restore = session_restore(backend, &table).map_err(db("cannot read the session"))?;
    let mut executor = Executor {
        backend,
        graph: down_graph,
        options,
        dialect,
        on_event,
        table,
        restore: restore.clone(),
        restored: false,
    };
    let squashed = executor.squash_rows(files, &analysis.squashes)?;
    let down = executor.execute(redo.down.clone(), &analysis.stored, &redo.drifted, false)?;
    executor.graph = up_graph;
    let mut up = executor.execute(redo.up.clone(), &[], &[], false)?;
    let mut done = down.done;
    done.append(&mut up.done);
    let mut skipped = down.skipped;
    skipped.append(&mut up.skipped);
    drop(locked);
    Ok(Report { plan: whole, done, skipped, accepted: Vec::new(), backup, squashed, heads: None })
}

/// The drifted revisions `plan` unapplies (they run the down SQL stored when
/// they were applied); drift of a revision the plan leaves applied is
/// still refused ([`RunError::Drift`]).
pub fn drifted_down(analysis: &Analysis, plan: &Plan) -> Result<Vec<String>, RunError> {
    let down: HashSet<&str> =
        plan.steps.iter().filter(|s| s.direction == Direction::Down).map(|s| s.id.as_str()).collect();
    let (inside, outside): (Vec<&Drift>, Vec<&Drift>) =
        analysis.drift.iter().partition(|d| down.contains(d.id.as_str()));
    if !outside.is_empty() {
        return Err(RunError::Drift(outside.into_iter().cloned().collect()));
    }
    Ok(inside.into_iter().map(|d| d.id.clone()).collect())
}

/// `graph` with the down SQL of the revisions `ids` replaced by the down
/// section stored in their version rows (and run the way they were applied,
/// in a transaction or not); `None` when `ids` is empty.
pub fn with_stored_down(
    graph: &RevisionGraph,
    state: &DbState,
    ids: &[String],
) -> Result<Option<RevisionGraph>, RunError> {
    if ids.is_empty() {
        return Ok(None);
    }
    let mut revisions = graph.revisions().to_vec();
    for revision in revisions.iter_mut().filter(|r| ids.contains(&r.id)) {
        if let Some(row) = state.rows.iter().find(|row| row.id == revision.id) {
            revision.down = row.down_sql.clone();
            revision.dialect_sql.iter_mut().for_each(|d| d.down = None);
            revision.transactional = row.transaction != 0;
        }
    }
    RevisionGraph::new(revisions).map(Some).map_err(|e| RunError::State(StateError::Graph(e)))
}
