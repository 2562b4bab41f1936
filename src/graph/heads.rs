//! Whether several heads are meant: each on its own labelled branch.
//!
//! Long-lived branches (expand/contract, one branch per Django app, a
//! library's own history) keep several heads on purpose, and say so with a
//! label on the branch. Two heads that grew out of one unlabelled line are
//! what a Git merge leaves behind when nobody ran `migraph merge`.
//!
//! The rule, over parent edges only (depends-on orders revisions across
//! branches but does not make them one branch): a head is on its own
//! labelled branch when some revision at or below it carries a label and no
//! other head is at or above that revision. Labelling a head itself declares
//! it a branch of its own.

use std::collections::BTreeMap;
use std::fmt;

use petgraph::Direction::Outgoing;

use super::{RevisionGraph, Via};

/// Heads that are not each on their own labelled branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadProblem {
    /// No revision at or below these heads (through parents) carries a label.
    Unlabelled { heads: Vec<String> },
    /// The nearest labelled branch of `heads` (`label`, on the revision
    /// `labelled`) also holds the `others` heads, each of which may have a
    /// branch of its own further up.
    Shared { heads: Vec<String>, label: String, labelled: String, others: Vec<String> },
}

fn heads_word(heads: &[String]) -> String {
    let noun = if heads.len() == 1 { "head" } else { "heads" };
    format!("{noun} {}", heads.join(", "))
}

impl fmt::Display for HeadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadProblem::Unlabelled { heads } => {
                let (is, them) = if heads.len() == 1 { ("is", "it") } else { ("are", "them") };
                write!(
                    f,
                    "{} {is} on no labelled branch (no revision at or below {them} carries a label)",
                    heads_word(heads)
                )
            }
            HeadProblem::Shared { heads, label, labelled, others } => {
                let verb = if heads.len() == 1 { "shares" } else { "share" };
                write!(f, "{} {verb} the branch `{label}` (labelled on {labelled})", heads_word(heads))?;
                if !others.is_empty() {
                    write!(f, " with {}", heads_word(others))?;
                }
                Ok(())
            }
        }
    }
}

impl RevisionGraph {
    /// When the graph has several heads, those that are not each on their
    /// own labelled branch (see the module docs), grouped: the heads on no
    /// labelled branch first, then the heads by the nearest labelled branch
    /// they share. Empty when every head has its own branch, or when there
    /// are fewer than two heads.
    pub fn heads_off_their_branch(&self) -> Vec<HeadProblem> {
        let heads: Vec<usize> = (0..self.len()).filter(|&n| self.is_head(n)).collect();
        if heads.len() < 2 {
            return Vec::new();
        }
        let mut labelled: Vec<usize> = self.labels.values().copied().collect();
        labelled.sort_unstable();
        labelled.dedup();
        // The heads at or above each labelled revision.
        let heads_above: Vec<(usize, Vec<usize>)> = labelled
            .into_iter()
            .map(|node| {
                let above = self.reach(&[node], Outgoing, Via::Parents);
                (node, heads.iter().copied().filter(|&h| above[h]).collect())
            })
            .collect();
        let mut unlabelled = Vec::new();
        let mut shared: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &head in &heads {
            // The nearest labelled branch: the one holding the fewest heads.
            let nearest = heads_above.iter().filter(|(_, above)| above.contains(&head)).min_by_key(|(_, a)| a.len());
            match nearest {
                None => unlabelled.push(head),
                Some((_, above)) if above.len() == 1 => {}
                Some((node, _)) => shared.entry(*node).or_default().push(head),
            }
        }
        let ids = |nodes: &[usize]| nodes.iter().map(|&n| self.revisions[n].id.clone()).collect::<Vec<_>>();
        let mut problems = Vec::new();
        if !unlabelled.is_empty() {
            problems.push(HeadProblem::Unlabelled { heads: ids(&unlabelled) });
        }
        for (node, group) in shared {
            let r = &self.revisions[node];
            let above = heads_above.iter().find(|(n, _)| *n == node).map_or(&[][..], |(_, a)| a.as_slice());
            let others: Vec<usize> = above.iter().copied().filter(|h| !group.contains(h)).collect();
            problems.push(HeadProblem::Shared {
                heads: ids(&group),
                label: r.labels().first().cloned().unwrap_or_default(),
                labelled: r.id.clone(),
                others: ids(&others),
            });
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::revs;

    /// `spec` as for [`revs`], then `(id, label)` pairs.
    fn labelled(spec: &[&str], labels: &[(&str, &str)]) -> RevisionGraph {
        let mut revisions = revs(spec);
        for (id, label) in labels {
            let r = revisions.iter_mut().find(|r| r.id == *id).expect("a revision of the spec");
            r.links_mut().labels.push((*label).to_string());
        }
        RevisionGraph::new(revisions).expect("a valid graph")
    }

    fn problems(spec: &[&str], labels: &[(&str, &str)]) -> Vec<String> {
        labelled(spec, labels).heads_off_their_branch().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn expand_and_contract_branches_each_own_their_head() {
        let spec = ["r:", "e1: r", "e2: e1", "c1: r", "c2: c1 | e2"];
        assert_eq!(problems(&spec, &[("e1", "expand"), ("c1", "contract")]), Vec::<String>::new());
        // Labels further down count too, as long as no other head is above them.
        assert_eq!(problems(&spec, &[("e2", "expand"), ("c1", "contract")]), Vec::<String>::new());
    }

    #[test]
    fn one_label_per_app_with_merges_inside_apps_and_cross_app_depends_on() {
        let spec = [
            "a1:",
            "a2: a1",
            "a3: a1",
            "a4: a2 a3",
            "b1: | a2",
            "b2: b1 | a4",
            "c1: | b1",
            "c2: c1",
            "c3: c1",
            "c4: c2 c3 | b2",
        ];
        let labels = [("a1", "accounts"), ("b1", "billing"), ("c1", "catalog")];
        assert_eq!(labelled(&spec, &labels).heads().len(), 3);
        assert_eq!(problems(&spec, &labels), Vec::<String>::new());
        // Without labels: every head is on no labelled branch.
        assert_eq!(
            problems(&spec, &[("a1", "accounts")]),
            ["heads b2, c4 are on no labelled branch (no revision at or below them carries a label)"]
        );
    }

    #[test]
    fn an_unlabelled_fork_fails() {
        assert_eq!(
            problems(&["r:", "a: r", "b: r"], &[]),
            ["heads a, b are on no labelled branch (no revision at or below them carries a label)"]
        );
        assert_eq!(
            problems(&["r:", "a: r", "b: r"], &[("a", "feat")]),
            ["head b is on no labelled branch (no revision at or below it carries a label)"]
        );
    }

    #[test]
    fn heads_sharing_a_label_name_it() {
        let spec = ["r:", "a1: r", "a2: a1", "b1: r", "b2: b1", "c1: r"];
        assert_eq!(problems(&spec, &[("r", "main")]), ["heads a2, b2, c1 share the branch `main` (labelled on r)"]);
        assert_eq!(
            problems(&spec, &[("r", "main"), ("a1", "feat")]),
            ["heads b2, c1 share the branch `main` (labelled on r) with head a2"]
        );
        assert_eq!(
            problems(&spec, &[("r", "main"), ("a1", "feat"), ("b1", "other")]),
            ["head c1 shares the branch `main` (labelled on r) with heads a2, b2"]
        );
        // A label on a head declares it a branch of its own.
        assert_eq!(problems(&spec, &[("r", "main"), ("a1", "feat"), ("b2", "b"), ("c1", "c")]), Vec::<String>::new());
    }

    #[test]
    fn a_merge_joins_branches_into_one() {
        // x and y each labelled, merged in m; two heads above m share neither label alone.
        let spec = ["r:", "x: r", "y: r", "m: x y", "h1: m", "h2: m"];
        assert_eq!(
            problems(&spec, &[("x", "ex"), ("y", "why")]),
            ["heads h1, h2 share the branch `ex` (labelled on x)"]
        );
    }

    #[test]
    fn fewer_than_two_heads_is_never_a_problem() {
        assert!(problems(&["r:", "a: r"], &[]).is_empty());
        assert!(labelled(&[], &[]).heads_off_their_branch().is_empty());
    }
}
