//! Branch-scoped targets, `B@…` (SPEC §2–§4): B is a label or a revision;
//! its lineage is B with its ancestors and descendants through parent
//! edges, and the start of its branch is where `B@base` cuts: the labelled
//! revision for a label; for a revision, the first revision reached going
//! down single parents that are not branch points.

use petgraph::Direction::{Incoming, Outgoing};

use super::{describe, describe_all, BranchAt, Resolver, Target, TargetError};
use crate::graph::{RevisionGraph, Via};

/// B's lineage and the start of B's branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    /// The revision B names.
    pub anchor: usize,
    /// The start of B's branch.
    pub start: usize,
    /// Membership flags of B's lineage.
    pub lineage: Vec<bool>,
}

impl Scope {
    /// The scope of revision `anchor`; `labelled` when B was a label, whose
    /// start is the labelled revision itself.
    pub fn new(graph: &RevisionGraph, anchor: usize, labelled: bool) -> Scope {
        let down = graph.reach(&[anchor], Incoming, Via::Parents);
        let up = graph.reach(&[anchor], Outgoing, Via::Parents);
        let lineage = down.iter().zip(&up).map(|(a, b)| *a || *b).collect();
        let mut start = anchor;
        if !labelled {
            loop {
                let mut parents = graph.preds(start, Via::Parents);
                match (parents.next(), parents.next()) {
                    (Some(parent), None) if graph.succs(parent, Via::Parents).nth(1).is_none() => start = parent,
                    _ => break,
                }
            }
        }
        Scope { anchor, start, lineage }
    }
}

impl Resolver<'_> {
    /// `B@…`.
    pub(super) fn branch(&self, text: &str, branch: &str, at: BranchAt<'_>) -> Result<Target, TargetError> {
        let graph = self.graph;
        let scope = match graph.label_node(branch) {
            Some(node) => Scope::new(graph, node, true),
            None => Scope::new(graph, self.name(branch)?, false),
        };
        let lineage = Some(scope.lineage.as_slice());
        let at = match at {
            BranchAt::Head(n) => {
                let heads = self.heads_within(Some(scope.anchor));
                let [head] = heads.as_slice() else {
                    return Err(TargetError::BranchSeveralHeads {
                        target: text.to_string(),
                        label: branch.to_string(),
                        heads: describe_all(graph, heads),
                    });
                };
                self.step(text, Some(*head), n, lineage)?
            }
            BranchAt::Base(n) => self.step(text, None, n, lineage)?,
            BranchAt::Rev(name) => Some(self.name_within(text, branch, name, &scope.lineage)?),
            BranchAt::Relative(n) => {
                let tops = self.applied_heads(lineage);
                let top = match tops.as_slice() {
                    [] => None,
                    [top] => Some(*top),
                    _ => {
                        return Err(TargetError::BranchSeveralHeads {
                            target: text.to_string(),
                            label: branch.to_string(),
                            heads: describe_all(graph, tops),
                        })
                    }
                };
                if n > 0 {
                    self.step(text, top, n, lineage)?
                } else {
                    self.step_down_to_start(text, top, n.unsigned_abs(), &scope)?
                }
            }
        };
        Ok(Target::Branch { scope, at })
    }

    /// `B@-N`: down B's lineage; a walk that would go below the start of
    /// B's branch ends at `B@base` (`None`), never at the global base.
    fn step_down_to_start(
        &self,
        text: &str,
        from: Option<usize>,
        n: u64,
        scope: &Scope,
    ) -> Result<Option<usize>, TargetError> {
        let above_start = self.graph.reach(&[scope.start], Outgoing, Via::Parents);
        let mut here = from;
        for _ in 0..n {
            match here {
                Some(node) if node != scope.start && above_start[node] => {
                    here = self.step(text, Some(node), -1, Some(&scope.lineage))?;
                }
                _ => return Ok(None),
            }
        }
        Ok(here)
    }

    /// `<rev>` in `B@<rev>`: an exact ID or label on B's lineage, or an ID
    /// prefix unique within it.
    fn name_within(&self, text: &str, branch: &str, name: &str, lineage: &[bool]) -> Result<usize, TargetError> {
        let graph = self.graph;
        let off = |node| TargetError::OffLineage {
            target: text.to_string(),
            branch: branch.to_string(),
            revision: describe(graph, node),
        };
        if let Some(node) = graph.node(name).or_else(|| graph.label_node(name)) {
            return if lineage[node] { Ok(node) } else { Err(off(node)) };
        }
        let all = graph.with_prefix(name);
        let on: Vec<usize> = all.clone().filter(|&n| lineage[n]).collect();
        match (on.as_slice(), all.len()) {
            ([node], _) => Ok(*node),
            ([], 0) => Err(TargetError::Unknown { target: name.to_string() }),
            ([], 1) => Err(off(all.start)),
            ([], _) => {
                Err(TargetError::AmbiguousPrefix { target: name.to_string(), candidates: describe_all(graph, all) })
            }
            (_, _) => {
                Err(TargetError::AmbiguousPrefix { target: name.to_string(), candidates: describe_all(graph, on) })
            }
        }
    }
}
