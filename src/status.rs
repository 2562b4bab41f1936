//! What the database says, compared with the files: the applied state,
//! revisions applied but missing from the files, checksum drift, and
//! markers of revisions that failed or were killed half-way.
//!
//! A revision applied by a newer release may be missing from an older
//! checkout. Its row still holds its parents and its down section, so it
//! becomes a *stored* revision in an extended graph: `downgrade` can unapply
//! it with the SQL recorded when it was applied, while `upgrade` refuses to
//! run against a database that is ahead of its files.

use std::path::PathBuf;

use crate::backend::{sql::PENDING_SUFFIX, Backend, DbError, PendingRow, VersionRow};
use crate::graph::{GraphError, RevisionGraph};
use crate::plan::{PlanError, State, Verb};
use crate::revision::{HeaderLines, Revision};

/// The version table's content.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbState {
    /// Whether the version table exists yet.
    pub exists: bool,
    /// Whether the marker table exists yet.
    pub pending_exists: bool,
    pub rows: Vec<VersionRow>,
    pub pending: Vec<PendingRow>,
}

impl DbState {
    /// Reads the version table and the markers, without creating anything.
    pub fn read(backend: &mut dyn Backend, table: &str) -> Result<DbState, DbError> {
        let dialect = backend.dialect();
        let count = |backend: &mut dyn Backend, name: String| -> Result<bool, DbError> {
            Ok(backend.int(&dialect.count_tables(), &[crate::backend::Arg::Text(name)])?.unwrap_or(0) > 0)
        };
        if !count(backend, table.to_string())? {
            return Ok(DbState::default());
        }
        let rows = backend.version_rows(&dialect.select_rows(table))?;
        let pending_exists = count(backend, format!("{table}{PENDING_SUFFIX}"))?;
        let pending = if pending_exists { backend.pending_rows(&dialect.select_pending(table))? } else { Vec::new() };
        Ok(DbState { exists: true, pending_exists, rows, pending })
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
}

/// Why the database state cannot be interpreted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("the version table's rows do not form a valid graph with the files: {0}")]
    Graph(GraphError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

/// Where stored revisions point in messages.
pub const STORED_PATH: &str = "(version table row; file missing)";

impl Analysis {
    /// Compares `db` with `files`.
    pub fn new(files: &RevisionGraph, db: &DbState) -> Result<Analysis, StateError> {
        let mut stored: Vec<&VersionRow> = db.rows.iter().filter(|row| files.get(&row.id).is_none()).collect();
        stored.sort_by(|a, b| a.id.cmp(&b.id));
        let drift = db
            .rows
            .iter()
            .filter_map(|row| {
                let file = files.get(&row.id)?;
                (file.checksum != row.checksum).then(|| Drift {
                    id: row.id.clone(),
                    path: file.path.clone(),
                    recorded: row.checksum.clone(),
                    current: file.checksum.clone(),
                })
            })
            .collect();
        let extended = if stored.is_empty() {
            None
        } else {
            let mut revisions = files.revisions().to_vec();
            revisions.extend(stored.iter().map(|row| stored_revision(row)));
            Some(RevisionGraph::new(revisions).map_err(StateError::Graph)?)
        };
        let graph = extended.as_ref().unwrap_or(files);
        let state = State::new(graph, db.rows.iter().map(|row| row.id.as_str()))?;
        let stored = stored.into_iter().map(|row| row.id.clone()).collect();
        Ok(Analysis { graph: extended, stored, drift, state })
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

/// A revision rebuilt from its version row: its SQL to unapply is the down
/// section recorded when it was applied (none: irreversible).
fn stored_revision(row: &VersionRow) -> Revision {
    Revision {
        id: row.id.clone(),
        parents: row.parents.split_whitespace().map(str::to_string).collect(),
        message: row.message.clone(),
        created: None,
        labels: Vec::new(),
        depends_on: Vec::new(),
        transactional: true,
        up: String::new(),
        down: row.down_sql.clone(),
        checksum: row.checksum.clone(),
        path: PathBuf::from(STORED_PATH),
        lines: HeaderLines::default(),
    }
}
