//! The planner: (graph, applied state, verb, targets) → the ordered list of
//! revisions to apply or unapply. Pure: it serves `--dry-run`, `--sql` and
//! execution alike, so what a dry run shows is what a run does.
//!
//! With S the applied set and closure(T) the targets with their ancestors:
//!
//! - `upgrade T` applies closure(T) − S;
//! - `downgrade T` unapplies S ∩ needs*(below(T)): T's own line of work
//!   above it (descendants through parent edges) and whatever needs that; a
//!   revision that merely depends on T stays. `base` unapplies all of S.
//!   With several targets: the union for each target, minus closure(targets);
//! - `downgrade B@T` unapplies S ∩ needs*(below(T) ∩ lineage(B)), and
//!   `downgrade B@base` S ∩ needs*(start of B's branch): only B's branch moves;
//! - `migrate T` makes the state exactly closure(T): unapply S − closure(T),
//!   then apply closure(T) − S (`base`: unapply all);
//! - `stamp T` reaches the same state as `migrate` without running SQL;
//!   `stamp B@…` the state the same downgrade or upgrade would leave.
//!
//! Applying follows the graph's deterministic topological order restricted
//! to the set; unapplying is its exact reverse. Every check (reachability,
//! irreversible revisions) happens here, before anything runs.

use std::fmt;
use std::path::PathBuf;

use petgraph::Direction::{Incoming, Outgoing};
use serde::Serialize;
use thiserror::Error;

use crate::graph::{RevisionGraph, Via};
use crate::revision::Revision;
use crate::target::{relative_step, Resolved, Resolver, Target, TargetError};

/// Apply or unapply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

/// What the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Upgrade,
    Downgrade,
    Migrate,
    Stamp,
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verb::Upgrade => "upgrade",
            Verb::Downgrade => "downgrade",
            Verb::Migrate => "migrate",
            Verb::Stamp => "stamp",
        })
    }
}

/// One revision to apply or unapply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub id: String,
    pub direction: Direction,
    pub message: String,
}

/// An ordered plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub verb: Verb,
    pub steps: Vec<Step>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Why no plan could be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{verb} needs at least one target")]
    NoTargets { verb: Verb },
    #[error("`base` is a target for downgrade, migrate and stamp, not for {verb}")]
    BaseNotAllowed { verb: Verb },
    #[error("`{target}` is the empty state of a branch, a target for downgrade and stamp, not for {verb}")]
    BranchBaseNotAllowed { verb: Verb, target: String },
    #[error("{verb} `{target}` goes the wrong way: {verb} moves {}", if *.verb == Verb::Upgrade { "up" } else { "down" })]
    WrongDirection { verb: Verb, target: String },
    #[error("cannot downgrade to {}: not applied", .targets.join(", "))]
    NotApplied { targets: Vec<String> },
    #[error("the plan would unapply irreversible revision(s) without a `-- migrate:down` section: {}", .revisions.iter().map(|(id, p)| format!("{id} ({})", p.display())).collect::<Vec<_>>().join(", "))]
    Irreversible { revisions: Vec<(String, PathBuf)> },
    #[error("the database has revision(s) applied that no revision file declares: {}", .ids.join(", "))]
    UnknownApplied { ids: Vec<String> },
    #[error("the database state is inconsistent: `{id}` is applied but its ancestor `{missing}` is not")]
    NotClosed { id: String, missing: String },
    /// Revisions of the plan without SQL for the database's dialect (see `revision::check_dialect`).
    #[error("{}", crate::revision::not_for_dialect_message(*.direction, *.dialect, .revisions))]
    NotForDialect { direction: Direction, dialect: crate::backend::Dialect, revisions: Vec<(String, PathBuf)> },
}

/// The applied state of a database, checked against the graph: every ID is
/// known and every ancestor of an applied revision is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct State {
    applied: Vec<bool>,
}

impl State {
    /// The empty state.
    pub fn empty(graph: &RevisionGraph) -> Self {
        State { applied: vec![false; graph.len()] }
    }

    /// The state with `ids` applied.
    pub fn new<'a>(graph: &RevisionGraph, ids: impl IntoIterator<Item = &'a str>) -> Result<Self, PlanError> {
        let mut applied = vec![false; graph.len()];
        let mut unknown = Vec::new();
        for id in ids {
            match graph.node(id) {
                Some(node) => applied[node] = true,
                None => unknown.push(id.to_string()),
            }
        }
        if !unknown.is_empty() {
            unknown.sort();
            return Err(PlanError::UnknownApplied { ids: unknown });
        }
        for node in (0..graph.len()).filter(|&n| applied[n]) {
            if let Some(missing) = graph.preds(node, Via::All).filter(|&p| !applied[p]).min() {
                return Err(PlanError::NotClosed {
                    id: graph.rev(node).id.clone(),
                    missing: graph.rev(missing).id.clone(),
                });
            }
        }
        Ok(State { applied })
    }

    /// The closure of `targets` (resolved without a database), e.g. for `--sql --from`.
    pub fn at(graph: &RevisionGraph, targets: &[&str]) -> Result<Self, PlanError> {
        let resolver = Resolver { graph, applied: None };
        let mut starts = Vec::new();
        for target in targets {
            if let Resolved::Revisions(nodes) = resolver.resolve(target)? {
                starts.extend(nodes);
            }
        }
        Ok(State { applied: graph.reach(&starts, Incoming, Via::All) })
    }

    /// Whether `id` is applied.
    pub fn contains(&self, graph: &RevisionGraph, id: &str) -> bool {
        graph.node(id).is_some_and(|n| self.applied[n])
    }

    /// Applied revisions in apply order.
    pub fn applied<'g>(&self, graph: &'g RevisionGraph) -> Vec<&'g Revision> {
        graph.order_of(&self.applied).into_iter().map(|n| graph.rev(n)).collect()
    }

    /// Applied revisions with no applied child, sorted by ID.
    pub fn heads<'g>(&self, graph: &'g RevisionGraph) -> Vec<&'g Revision> {
        let applied = &self.applied;
        (0..graph.len())
            .filter(|&n| applied[n] && !graph.succs(n, Via::Parents).any(|c| applied[c]))
            .map(|n| graph.rev(n))
            .collect()
    }

    /// This state with `id` applied or not (its ancestors and descendants
    /// untouched; used to spell out recovery commands).
    pub fn with(&self, graph: &RevisionGraph, id: &str, applied: bool) -> State {
        let mut next = self.clone();
        if let Some(node) = graph.node(id) {
            next.applied[node] = applied;
        }
        next
    }

    /// The state after `plan` runs.
    pub fn after(&self, graph: &RevisionGraph, plan: &Plan) -> State {
        let mut next = self.clone();
        for step in &plan.steps {
            if let Some(node) = graph.node(&step.id) {
                next.applied[node] = step.direction == Direction::Up;
            }
        }
        next
    }
}

/// Computes the plan for `verb` to `targets` from `state`.
pub fn plan(graph: &RevisionGraph, state: &State, verb: Verb, targets: &[&str]) -> Result<Plan, PlanError> {
    if targets.is_empty() {
        return Err(PlanError::NoTargets { verb });
    }
    for target in targets {
        let wrong = match relative_step(graph, target) {
            Some(n) => (verb == Verb::Upgrade && n < 0) || (verb == Verb::Downgrade && n > 0),
            None => false,
        };
        if wrong {
            return Err(PlanError::WrongDirection { verb, target: target.to_string() });
        }
    }
    let applied = &state.applied;
    let resolver = Resolver { graph, applied: Some(applied) };
    let resolved = targets.iter().map(|t| resolver.resolve_target(t)).collect::<Result<Vec<Target>, _>>()?;
    for (target, text) in resolved.iter().zip(targets) {
        match target {
            Target::Base if verb == Verb::Upgrade => return Err(PlanError::BaseNotAllowed { verb }),
            Target::Branch { at: None, .. } if matches!(verb, Verb::Upgrade | Verb::Migrate) => {
                return Err(PlanError::BranchBaseNotAllowed { verb, target: text.to_string() })
            }
            _ => {}
        }
    }
    let nodes: Vec<usize> = resolved.iter().flat_map(revisions).collect();
    let wanted = graph.reach(&nodes, Incoming, Via::All);
    let n = graph.len();
    let (unapply, apply): (Vec<bool>, Vec<bool>) = match verb {
        Verb::Upgrade => (vec![false; n], (0..n).map(|i| wanted[i] && !applied[i]).collect()),
        Verb::Migrate => {
            ((0..n).map(|i| applied[i] && !wanted[i]).collect(), (0..n).map(|i| wanted[i] && !applied[i]).collect())
        }
        Verb::Stamp => {
            let goal = stamp_goal(graph, applied, &resolved, &wanted);
            ((0..n).map(|i| applied[i] && !goal[i]).collect(), (0..n).map(|i| goal[i] && !applied[i]).collect())
        }
        Verb::Downgrade => {
            let mut missing: Vec<String> =
                nodes.iter().filter(|&&t| !applied[t]).map(|&t| graph.rev(t).id.clone()).collect();
            if !missing.is_empty() {
                missing.sort();
                missing.dedup();
                return Err(PlanError::NotApplied { targets: missing });
            }
            let mut down = vec![false; n];
            for target in &resolved {
                for (d, x) in down.iter_mut().zip(falls_with(graph, target)) {
                    *d |= x;
                }
            }
            ((0..n).map(|i| applied[i] && down[i] && !wanted[i]).collect(), vec![false; n])
        }
    };
    let mut steps = Vec::new();
    let step = |node: usize, direction| {
        let r = graph.rev(node);
        Step { id: r.id.clone(), direction, message: r.message.clone() }
    };
    let down_order = graph.order_of(&unapply);
    if verb != Verb::Stamp {
        let irreversible: Vec<(String, PathBuf)> = down_order
            .iter()
            .map(|&node| graph.rev(node))
            .filter(|r| !r.is_reversible())
            .map(|r| (r.id.clone(), r.path.clone()))
            .collect();
        if !irreversible.is_empty() {
            return Err(PlanError::Irreversible { revisions: irreversible });
        }
    }
    steps.extend(down_order.into_iter().rev().map(|node| step(node, Direction::Down)));
    steps.extend(graph.order_of(&apply).into_iter().map(|node| step(node, Direction::Up)));
    Ok(Plan { verb, steps })
}

/// The revisions a target names (none for `base` and `B@base`).
fn revisions(target: &Target) -> Vec<usize> {
    match target {
        Target::Base | Target::Branch { at: None, .. } => Vec::new(),
        Target::Revisions(nodes) => nodes.clone(),
        Target::Branch { at: Some(node), .. } => vec![*node],
    }
}

/// What cannot stay applied when the database is brought down to
/// `target`, before intersecting with S and sparing closure(targets):
/// everything for `base`; needs*(below(T)) for a revision T;
/// needs*(below(T) ∩ lineage(B)) for `B@T`; needs*(start of B's branch)
/// for `B@base`.
fn falls_with(graph: &RevisionGraph, target: &Target) -> Vec<bool> {
    let below = |t: usize, within: Option<&[bool]>| {
        let mut set = graph.reach(&[t], Outgoing, Via::Parents);
        set[t] = false;
        let seeds: Vec<usize> = (0..graph.len()).filter(|&i| set[i] && within.is_none_or(|w| w[i])).collect();
        graph.reach(&seeds, Outgoing, Via::All)
    };
    match target {
        Target::Base => vec![true; graph.len()],
        Target::Revisions(nodes) => {
            let mut all = vec![false; graph.len()];
            for &t in nodes {
                for (a, x) in all.iter_mut().zip(below(t, None)) {
                    *a |= x;
                }
            }
            all
        }
        Target::Branch { scope, at: Some(t) } => below(*t, Some(&scope.lineage)),
        Target::Branch { scope, at: None } => graph.reach(&[scope.start], Outgoing, Via::All),
    }
}

/// The state `stamp` records. Without branch-scoped targets: closure(T).
/// With them: starting from S (or, when plain targets are given too, from
/// their closure), add closure of the branch targets and remove what the
/// same branch-scoped downgrade would unapply, sparing closure(targets).
fn stamp_goal(graph: &RevisionGraph, applied: &[bool], targets: &[Target], wanted: &[bool]) -> Vec<bool> {
    let scoped = |t: &&Target| matches!(t, Target::Branch { .. });
    if !targets.iter().any(|t| scoped(&t)) {
        return wanted.to_vec();
    }
    let mut goal = if targets.iter().all(|t| scoped(&t)) {
        applied.to_vec()
    } else {
        let plain: Vec<usize> = targets.iter().filter(|t| !scoped(t)).flat_map(revisions).collect();
        graph.reach(&plain, Incoming, Via::All)
    };
    let mut down = vec![false; graph.len()];
    for target in targets.iter().filter(scoped) {
        for (d, x) in down.iter_mut().zip(falls_with(graph, target)) {
            *d |= x;
        }
    }
    for i in 0..graph.len() {
        goal[i] = wanted[i] || (goal[i] && !down[i]);
    }
    goal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::{graph, revs};

    fn run(g: &RevisionGraph, applied: &[&str], verb: Verb, targets: &[&str]) -> Result<String, String> {
        let state = State::new(g, applied.iter().copied()).map_err(|e| e.to_string())?;
        let plan = plan(g, &state, verb, targets).map_err(|e| e.to_string())?;
        let words: Vec<String> = plan
            .steps
            .iter()
            .map(|s| format!("{}{}", if s.direction == Direction::Up { "+" } else { "-" }, s.id))
            .collect();
        Ok(words.join(" "))
    }

    fn diamond() -> RevisionGraph {
        graph(&["r:", "a1: r", "a2: a1", "b1: r", "b2: b1", "m: a2 b2", "t: m"])
    }

    #[test]
    fn upgrade_linear_and_noop() {
        let g = graph(&["a:", "b: a", "c: b"]);
        assert_eq!(run(&g, &[], Verb::Upgrade, &["head"]), Ok("+a +b +c".into()));
        assert_eq!(run(&g, &["a"], Verb::Upgrade, &["b"]), Ok("+b".into()));
        assert_eq!(
            run(&g, &["a", "b"], Verb::Upgrade, &["a"]),
            Ok("".into()),
            "upgrade to an applied target is a no-op"
        );
        assert_eq!(run(&g, &["a"], Verb::Upgrade, &["+2"]), Ok("+b +c".into()));
    }

    #[test]
    fn upgrade_across_fork_and_merge() {
        let g = diamond();
        assert_eq!(run(&g, &[], Verb::Upgrade, &["heads"]), Ok("+r +a1 +a2 +b1 +b2 +m +t".into()));
        assert_eq!(run(&g, &["r", "b1"], Verb::Upgrade, &["m"]), Ok("+a1 +a2 +b2 +m".into()));
        assert_eq!(run(&g, &[], Verb::Upgrade, &["a2", "b1"]), Ok("+r +a1 +a2 +b1".into()));
    }

    #[test]
    fn downgrade_across_a_merge_point() {
        let g = diamond();
        let all = ["r", "a1", "a2", "b1", "b2", "m", "t"];
        assert_eq!(run(&g, &all, Verb::Downgrade, &["b1"]), Ok("-t -m -b2".into()));
        assert_eq!(run(&g, &all, Verb::Downgrade, &["r"]), Ok("-t -m -b2 -b1 -a2 -a1".into()));
        assert_eq!(run(&g, &all, Verb::Downgrade, &["base"]), Ok("-t -m -b2 -b1 -a2 -a1 -r".into()));
        assert_eq!(run(&g, &all, Verb::Downgrade, &["-1"]), Ok("-t".into()));
        assert_eq!(run(&g, &["r", "a1"], Verb::Downgrade, &["b1"]), Err("cannot downgrade to b1: not applied".into()));
        // Several targets: each stays, with its ancestors.
        assert_eq!(run(&g, &all, Verb::Downgrade, &["a1", "b2"]), Ok("-t -m -a2".into()));
    }

    #[test]
    fn migrate_between_two_branches_goes_through_the_merge_base() {
        let g = diamond();
        assert_eq!(run(&g, &["r", "a1", "a2"], Verb::Migrate, &["b2"]), Ok("-a2 -a1 +b1 +b2".into()));
        assert_eq!(run(&g, &["r", "a1", "a2"], Verb::Migrate, &["a1"]), Ok("-a2".into()));
        assert_eq!(
            run(&g, &["r", "a1"], Verb::Migrate, &["base"]),
            Ok("-a1 -r".into()),
            "migrate base = downgrade base"
        );
        assert_eq!(
            run(&g, &["r"], Verb::Upgrade, &["base"]),
            Err("`base` is a target for downgrade, migrate and stamp, not for upgrade".into())
        );
    }

    #[test]
    fn stamp_sets_the_state_without_checking_reversibility() {
        let mut revisions = revs(&["a:", "b: a"]);
        revisions[1].down = None;
        let g = RevisionGraph::new(revisions).unwrap();
        assert_eq!(run(&g, &["a", "b"], Verb::Stamp, &["base"]), Ok("-b -a".into()));
        assert_eq!(run(&g, &[], Verb::Stamp, &["b"]), Ok("+a +b".into()));
        assert_eq!(
            run(&g, &["a", "b"], Verb::Downgrade, &["base"]),
            Err("the plan would unapply irreversible revision(s) without a `-- migrate:down` section: b (b.sql)".into())
        );
    }

    #[test]
    fn depends_on_across_branches() {
        let g = graph(&["r:", "a: r", "b: r | a", "c: b"]);
        assert_eq!(run(&g, &[], Verb::Upgrade, &["c"]), Ok("+r +a +b +c".into()));
        // Unapplying a dependency takes its dependents down too.
        assert_eq!(run(&g, &["r", "a", "b", "c"], Verb::Downgrade, &["r"]), Ok("-c -b -a".into()));
        // A revision that merely depends on the target stays (as in Alembic and Django).
        assert_eq!(run(&g, &["r", "a", "b", "c"], Verb::Downgrade, &["a"]), Ok("".into()));
        assert_eq!(run(&g, &["r", "a", "b", "c"], Verb::Downgrade, &["b"]), Ok("-c".into()));
        assert_eq!(run(&g, &["r", "a", "b"], Verb::Migrate, &["a"]), Ok("-b".into()));
    }

    #[test]
    fn several_roots() {
        let g = graph(&["x:", "y:", "z: x y"]);
        assert_eq!(run(&g, &[], Verb::Upgrade, &["head"]), Ok("+x +y +z".into()));
        assert_eq!(run(&g, &["x", "y", "z"], Verb::Downgrade, &["y"]), Ok("-z".into()));
    }

    #[test]
    fn bad_states() {
        let g = graph(&["a:", "b: a"]);
        assert!(run(&g, &["b"], Verb::Upgrade, &["b"])
            .unwrap_err()
            .contains("`b` is applied but its ancestor `a` is not"));
        assert!(run(&g, &["zzz"], Verb::Upgrade, &["b"]).unwrap_err().contains("no revision file declares: zzz"));
        assert!(run(&g, &[], Verb::Upgrade, &[]).unwrap_err().contains("at least one target"));
    }

    #[test]
    fn unapply_order_is_the_reverse_of_apply_order() {
        let g = graph(&["b:", "c:", "a: c"]);
        assert_eq!(run(&g, &[], Verb::Upgrade, &["b", "a"]), Ok("+b +c +a".into()));
        assert_eq!(run(&g, &["c"], Verb::Upgrade, &["b", "a"]), Ok("+a +b".into()), "ties among ready revisions only");
        assert_eq!(run(&g, &["b", "c", "a"], Verb::Downgrade, &["base"]), Ok("-a -c -b".into()));
    }

    /// Alembic's BranchedPathTestCrossDependencies shape: a ─ b ─ c1 (c1branch) ─ d1,
    /// b ─ c2 (c2branch) ─ d2, d2 depends on c1.
    fn cross() -> RevisionGraph {
        let mut revisions = revs(&["a:", "b: a", "c1: b", "d1: c1", "c2: b", "d2: c2 | c1"]);
        revisions[2].links_mut().labels = vec!["c1branch".into()];
        revisions[4].links_mut().labels = vec!["c2branch".into()];
        RevisionGraph::new(revisions).unwrap()
    }

    #[test]
    fn branch_scoped_downgrade_moves_only_that_branch() {
        let g = cross();
        let all = ["a", "b", "c1", "d1", "c2", "d2"];
        assert_eq!(run(&g, &all, Verb::Downgrade, &["c2branch@b"]), Ok("-d2 -c2".into()));
        assert_eq!(run(&g, &all, Verb::Downgrade, &["c1branch@b"]), Ok("-d2 -d1 -c1".into()), "d2 needs c1");
        assert_eq!(run(&g, &all, Verb::Downgrade, &["b"]), Ok("-d2 -d1 -c2 -c1".into()));
        assert_eq!(run(&g, &all, Verb::Downgrade, &["c2branch@base"]), Ok("-d2 -c2".into()));
        assert_eq!(run(&g, &all, Verb::Downgrade, &["d1@base"]), Ok("-d2 -d1 -c1".into()));
        assert_eq!(run(&g, &all, Verb::Downgrade, &["c1branch@-1"]), Ok("-d1".into()));
        assert_eq!(run(&g, &all, Verb::Downgrade, &["c2branch@-5"]), Ok("-d2 -c2".into()), "never the global base");
        assert_eq!(
            run(&g, &["a", "b", "c1"], Verb::Downgrade, &["c2branch@c2"]),
            Err("cannot downgrade to c2: not applied".into())
        );
        // Several targets: the union for each, minus closure(targets).
        assert_eq!(run(&g, &all, Verb::Downgrade, &["c2branch@base", "c1branch@c1"]), Ok("-d2 -d1 -c2".into()));
        assert!(run(&g, &all, Verb::Upgrade, &["c2branch@base"]).unwrap_err().contains("not for upgrade"));
        assert!(run(&g, &all, Verb::Migrate, &["c2branch@base"]).unwrap_err().contains("not for migrate"));
    }

    #[test]
    fn branch_scoped_upgrade_and_stamp() {
        let g = cross();
        assert_eq!(run(&g, &[], Verb::Upgrade, &["c2branch@+1"]), Ok("+a".into()), "one revision, as Alembic");
        assert_eq!(run(&g, &["a", "b", "c1"], Verb::Upgrade, &["c2branch@+1"]), Ok("+c2".into()));
        assert_eq!(run(&g, &["a", "b", "c1"], Verb::Upgrade, &["c2branch@head"]), Ok("+c2 +d2".into()));
        // stamp B@… leaves what the same downgrade or upgrade would leave.
        let all = ["a", "b", "c1", "d1", "c2", "d2"];
        assert_eq!(run(&g, &all, Verb::Stamp, &["c2branch@base"]), Ok("-d2 -c2".into()));
        assert_eq!(run(&g, &["a", "b", "c1", "d1", "c2"], Verb::Stamp, &["c2branch@head"]), Ok("+d2".into()));
        assert_eq!(run(&g, &["a", "b", "c1", "d1", "c2"], Verb::Stamp, &["c1branch@base"]), Ok("-d1 -c1".into()));
        // With a plain target too: its closure, then the branch moves.
        assert_eq!(run(&g, &all, Verb::Stamp, &["c2branch@base", "c1"]), Ok("-d2 -d1 -c2".into()));
        // A plain target still sets the state to its closure.
        assert_eq!(run(&g, &["a", "b", "c1", "d1", "c2"], Verb::Stamp, &["b"]), Ok("-d1 -c2 -c1".into()));
    }

    #[test]
    fn relative_steps_go_the_verb_s_way() {
        let g = graph(&["a:", "b: a", "c: b"]);
        assert_eq!(
            run(&g, &["a", "b"], Verb::Upgrade, &["-1"]),
            Err("upgrade `-1` goes the wrong way: upgrade moves up".into())
        );
        assert_eq!(
            run(&g, &["a"], Verb::Downgrade, &["+1"]),
            Err("downgrade `+1` goes the wrong way: downgrade moves down".into())
        );
        let e = plan(&g, &State::new(&g, ["a"]).unwrap(), Verb::Downgrade, &["+1"]).unwrap_err();
        assert_eq!(e, PlanError::WrongDirection { verb: Verb::Downgrade, target: "+1".into() });
        assert_eq!(run(&g, &["a", "b"], Verb::Migrate, &["-1"]), Ok("-b".into()), "migrate goes either way");
        assert_eq!(
            run(&g, &["a", "b"], Verb::Upgrade, &["c-1"]),
            Ok("".into()),
            "an offset from a revision is absolute"
        );
    }
}
