//! What the database says, compared with the files: the applied state,
//! revisions applied but missing from the files, checksum drift, and
//! markers of revisions that failed or were killed half-way.
//!
//! A revision applied by a newer release may be missing from an older
//! checkout. Its row still holds its parents and its down section, so it
//! becomes a *stored* revision in an extended graph: `downgrade` can unapply
//! it with the SQL recorded when it was applied, while `upgrade` refuses to
//! run against a database that is ahead of its files.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use crate::backend::{PendingRow, VersionRow};
use crate::graph::{GraphError, RevisionGraph};
use crate::plan::{Direction, Plan, PlanError, State, Step, Verb};
use crate::revision::{Checksum, HeaderLines, Links, Revision};
use crate::squash;

/// The version table's content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbState {
    /// Whether the version table exists yet.
    pub exists: bool,
    /// Whether the marker table exists yet.
    pub pending_exists: bool,
    /// Whether the version table was written by an older release and lacks
    /// columns of the current layout (or, on MySQL, has 64 KB text columns
    /// or ID columns that compare without regard to case);
    /// a run brings it up to date, under the lock, before recording anything.
    pub outdated: bool,
    pub rows: Vec<VersionRow>,
    pub pending: Vec<PendingRow>,
}

impl DbState {
    /// The IDs of the rows, as stored.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.rows.iter().map(|row| row.id.as_str())
    }
}

/// An applied revision whose file now has a different checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub id: String,
    pub path: PathBuf,
    pub recorded: String,
    pub current: String,
}

/// The database state interpreted against the files.
#[derive(Debug)]
pub struct Analysis {
    /// The file graph, extended with stored revisions when there are any.
    pub graph: Option<RevisionGraph>,
    /// IDs applied but missing from the files, sorted.
    pub stored: Vec<String>,
    pub drift: Vec<Drift>,
    pub state: State,
    /// Squashes whose rows the next run rewrites: record the squash, drop
    /// the rows of the revisions it replaces (no SQL runs).
    pub squashes: Vec<squash::Rewrite>,
}

/// Why the database state cannot be interpreted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("the version table's rows do not form a valid graph with the files: {0}")]
    Graph(GraphError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Squash(Box<squash::PartialSquash>),
}

/// Where stored revisions point in messages.
pub const STORED_PATH: &str = "(version table row; file missing)";

impl Analysis {
    /// Compares `db` with `files`. Squashes (`replaces`) are read here: rows
    /// of replaced revisions stand for their squash, and a squash that is
    /// only partly applied gives way to the revisions it replaces
    /// ([`crate::squash`]).
    pub fn new(files: &RevisionGraph, db: &DbState) -> Result<Analysis, StateError> {
        let rows: HashSet<&str> = db.ids().collect();
        let view = squash::view(files.revisions(), &rows).map_err(StateError::Squash)?;
        let dropped = view.dropped();
        let unfolded = (!view.unfolded.is_empty()).then(|| squash::effective(files.revisions(), &view.unfolded));
        let unfolded_ids: Option<HashMap<&str, &Revision>> =
            unfolded.as_ref().map(|revisions| revisions.iter().map(|r| (r.id.as_str(), r)).collect());
        let file = |id: &str| match &unfolded_ids {
            Some(revisions) => revisions.get(id).copied(),
            None => files.get(id),
        };
        let live = || db.rows.iter().filter(|row| !dropped.contains(row.id.as_str()));
        let mut stored: Vec<&VersionRow> = live().filter(|row| file(&row.id).is_none()).collect();
        stored.sort_by(|a, b| a.id.cmp(&b.id));
        let drift = live()
            .filter_map(|row| {
                let file = file(&row.id)?;
                (file.checksum != row.checksum).then(|| Drift {
                    id: row.id.clone(),
                    path: file.path.clone(),
                    recorded: row.checksum.clone(),
                    current: file.checksum.to_string(),
                })
            })
            .collect();
        let extended = if stored.is_empty() && unfolded.is_none() {
            None
        } else {
            let mut revisions = unfolded.clone().unwrap_or_else(|| files.revisions().to_vec());
            revisions.extend(stored.iter().map(|row| stored_revision(row)));
            Some(RevisionGraph::new(revisions).map_err(StateError::Graph)?)
        };
        let graph = extended.as_ref().unwrap_or(files);
        let state = State::new(graph, view.applied(db.ids()))?;
        let stored = stored.into_iter().map(|row| row.id.clone()).collect();
        Ok(Analysis { graph: extended, stored, drift, state, squashes: view.rewrites })
    }

    /// The graph plans are made on: the files, plus stored revisions.
    pub fn graph<'g>(&'g self, files: &'g RevisionGraph) -> &'g RevisionGraph {
        self.graph.as_ref().unwrap_or(files)
    }

    /// Every revision not applied, in the order `upgrade heads` would apply it.
    pub fn pending<'g>(&'g self, files: &'g RevisionGraph) -> Vec<&'g Revision> {
        let graph = self.graph(files);
        crate::plan::plan(graph, &self.state, Verb::Upgrade, &["heads"])
            .map(|plan| plan.steps.iter().filter_map(|s| graph.get(&s.id)).collect())
            .unwrap_or_default()
    }
}

/// How to repair a version table whose rows cannot be interpreted with
/// the files (rows whose parents have no row, rows of unknown revisions
/// with unknown parents): the `stamp` targets that record every revision of
/// the files that has a row, with its ancestors. That is the likely truth
/// when rows were lost; `["base"]` when no row names a revision of the files.
pub fn repair_targets(files: &RevisionGraph, db: &DbState) -> Vec<String> {
    let known: Vec<&str> = db.ids().filter(|id| files.get(id).is_some()).collect();
    let heads: Vec<String> = State::at(files, &known)
        .map(|state| state.heads(files).iter().map(|r| r.id.clone()).collect())
        .unwrap_or_default();
    if heads.is_empty() {
        vec!["base".to_string()]
    } else {
        heads
    }
}

/// The `stamp` plan for a damaged version table (one [`Analysis::new`]
/// refuses): afterwards the rows are exactly closure(`targets`) in the
/// files' graph. Rows outside it, of known revisions or not, are removed
/// (newest first); revisions of the closure without a row are added in
/// apply order. `stamp` is never refused for the state it is meant to fix.
pub fn repair_plan(files: &RevisionGraph, db: &DbState, targets: &[&str]) -> Result<Plan, PlanError> {
    let goal = State::at(files, targets)?;
    let mut steps: Vec<Step> = db
        .rows
        .iter()
        .rev()
        .filter(|row| !goal.contains(files, &row.id))
        .map(|row| Step { id: row.id.clone(), direction: Direction::Down, message: row.message.clone() })
        .collect();
    let recorded: HashSet<&str> = db.ids().collect();
    steps.extend(goal.applied(files).into_iter().filter(|r| !recorded.contains(r.id.as_str())).map(|r| Step {
        id: r.id.clone(),
        direction: Direction::Up,
        message: r.message.clone(),
    }));
    Ok(Plan { verb: Verb::Stamp, steps })
}

/// A revision rebuilt from its version row: its SQL to unapply is the down
/// section recorded when it was applied (none: irreversible).
fn stored_revision(row: &VersionRow) -> Revision {
    Revision {
        id: row.id.clone(),
        parents: words(&row.parents),
        message: row.message.clone(),
        created: None,
        transactional: row.transaction != 0,
        up: String::new(),
        down: row.down_sql.clone(),
        has_generic_up: false,
        dialect_sql: Default::default(),
        checksum: Checksum::parse(&row.checksum),
        path: PathBuf::from(STORED_PATH),
        lines: HeaderLines::default(),
        links: Links { depends_on: words(row.depends_on.as_deref().unwrap_or("")), ..Links::default() }.into(),
        sql_loaded: true,
    }
}

/// Space-separated IDs.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::graph;

    fn row(id: &str, parents: &str) -> VersionRow {
        VersionRow {
            id: id.into(),
            parents: parents.into(),
            message: format!("m {id}"),
            checksum: String::new(),
            down_sql: Some("DROP INDEX CONCURRENTLY i".into()),
            applied_at: String::new(),
            execution_ms: 0,
            depends_on: Some("c".into()),
            transaction: 0,
        }
    }

    fn db(rows: &[(&str, &str)]) -> DbState {
        DbState { exists: true, rows: rows.iter().map(|(id, p)| row(id, p)).collect(), ..DbState::default() }
    }

    fn words(plan: &Plan) -> String {
        let sign = |d: Direction| if d == Direction::Up { "+" } else { "-" };
        plan.steps.iter().map(|s| format!("{}{}", sign(s.direction), s.id)).collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn stored_revisions_keep_depends_on_and_transaction() {
        let r = stored_revision(&row("x", "a b"));
        assert_eq!(r.parents, ["a", "b"]);
        assert_eq!(r.depends_on(), ["c"]);
        assert!(!r.transactional);
        let old = VersionRow { depends_on: None, transaction: 1, ..row("y", "") };
        assert!(stored_revision(&old).depends_on().is_empty() && stored_revision(&old).transactional);
    }

    #[test]
    fn damaged_tables_get_a_repair_plan() {
        let files = graph(&["a:", "b: a", "c: b"]);
        // b's row lost its parent's row; zz is unknown with an unknown parent.
        let damaged = db(&[("b", "a"), ("zz", "yy")]);
        assert!(Analysis::new(&files, &damaged).is_err());
        assert_eq!(repair_targets(&files, &damaged), ["b"]);
        assert_eq!(words(&repair_plan(&files, &damaged, &["b"]).unwrap()), "-zz +a");
        assert_eq!(words(&repair_plan(&files, &damaged, &["base"]).unwrap()), "-zz -b");
        assert_eq!(words(&repair_plan(&files, &damaged, &["heads"]).unwrap()), "-zz +a +c");
        assert_eq!(repair_targets(&files, &db(&[("zz", "yy")])), ["base"]);
        assert!(repair_plan(&files, &damaged, &["nope"]).is_err());
    }
}
