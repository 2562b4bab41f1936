//! Squashes on the database: a squash whose replaced revisions are all
//! applied is recorded in their place, their rows dropped, in one
//! transaction per squash and without running SQL ([`crate::squash`]).

use std::collections::HashSet;

use super::{db, Event, Executor, RunError};
use crate::graph::RevisionGraph;
use crate::plan::Direction;
use crate::squash::{self, Rewrite};
use crate::status::DbState;

impl Executor<'_> {
    /// Records each squash of `rewrites` in place of the rows of the
    /// revisions it replaces, one transaction per squash, running no SQL.
    pub(super) fn squash_rows(
        &mut self,
        files: &RevisionGraph,
        rewrites: &[Rewrite],
    ) -> Result<Vec<Rewrite>, RunError> {
        for rewrite in rewrites {
            let Some(revision) = files.get(&rewrite.squash) else { continue };
            self.in_tx(db("cannot record the squash"), |ex| {
                let context = || format!("cannot record squash {} in place of its replaced revisions", revision.id);
                let fail = |source| RunError::Db { context: context(), source };
                if rewrite.record {
                    ex.record(revision, Direction::Up, 0).map_err(fail)?;
                }
                for id in &rewrite.drop {
                    ex.delete_row(id).map_err(fail)?;
                }
                Ok(())
            })?;
            (self.on_event)(Event::Squashed(rewrite));
        }
        Ok(rewrites.to_vec())
    }

    /// [`Executor::squash_rows`] for the state after a plan ran.
    pub(super) fn squash_rows_after(&mut self, files: &RevisionGraph) -> Result<Vec<Rewrite>, RunError> {
        if files.revisions().iter().all(|r| r.replaces().is_empty()) {
            // No squash in the files: nothing to record, no need to read the table again.
            return Ok(Vec::new());
        }
        let state = DbState::read(&mut *self.backend, &self.table).map_err(db("cannot read the version table"))?;
        let rows: HashSet<&str> = state.ids().collect();
        let rewrites = squash::view(files.revisions(), &rows).map(|view| view.rewrites).unwrap_or_default();
        self.squash_rows(files, &rewrites)
    }
}
