//! Targets: the words users give `upgrade`, `downgrade`, `migrate`, `stamp`,
//! `history -r` and `revision --parent`, resolved against the graph and,
//! for relative targets, the database's applied state.
//!
//! | target | meaning |
//! | --- | --- |
//! | `heads` | every head |
//! | `head` | the single head (error listing them if several) |
//! | `base` | the empty state |
//! | `<id-prefix>` | that revision (error listing candidates if ambiguous) |
//! | `<label>` | the revision carrying that label |
//! | `B@head`, `B@head-N` | the single head descending from B, N steps down B's lineage |
//! | `B@base`, `B@base+N` | B's branch emptied; N steps up B's lineage from the empty state |
//! | `B@<rev>` | a revision of B's lineage (an ID prefix unique within it) |
//! | `B@+N`, `B@-N` | N steps along B's lineage from the database's head on it |
//! | `+N`, `-N` | N steps from the database's single head |
//! | `<target>+N`, `<target>-N` | N steps from that revision |
//!
//! B is a label or a revision. Branch-scoped targets (`B@head`, `B@base`, `B@<rev>`, `B@±N`)
//! keep B's lineage and the start of B's branch, so that `downgrade` and
//! `stamp` move only B's branch. A step up follows the only child, a step
//! down the only parent (within B's lineage for branch-scoped targets); at a
//! branch or merge point the step is ambiguous and the error lists the
//! choices, because guessing a branch is how linear tools lose migrations.

use petgraph::Direction::{Incoming, Outgoing};
use thiserror::Error;

use crate::graph::{RevisionGraph, Via};
use crate::revision::Revision;

mod branch;

pub(crate) use branch::Scope;

/// A target resolved to node numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// The empty state.
    Base,
    /// These revisions (empty only for `heads` of an empty graph).
    Revisions(Vec<usize>),
}

/// A target as a plan sees it: [`Resolved`], plus branch-scoped targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// The empty state.
    Base,
    /// These revisions.
    Revisions(Vec<usize>),
    /// `B@…`: `at` is a revision of B's lineage, `None` for `B@base`.
    Branch { scope: Scope, at: Option<usize> },
}

impl From<Target> for Resolved {
    /// Forgets the branch: `B@<rev>` is that revision, `B@base` the empty state.
    fn from(target: Target) -> Self {
        match target {
            Target::Base | Target::Branch { at: None, .. } => Resolved::Base,
            Target::Revisions(nodes) => Resolved::Revisions(nodes),
            Target::Branch { at: Some(node), .. } => Resolved::Revisions(vec![node]),
        }
    }
}

/// A target that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TargetError {
    #[error("no revision ID, prefix or label matches `{target}`")]
    Unknown { target: String },
    #[error("`{target}` is ambiguous: it is a prefix of {}", list(.candidates))]
    AmbiguousPrefix { target: String, candidates: Vec<String> },
    #[error("`{target}` is ambiguous: the graph has {} heads: {}", .heads.len(), list(.heads))]
    SeveralHeads { target: String, heads: Vec<String> },
    #[error("`{target}` is ambiguous: the database has {} heads applied: {}", .heads.len(), list(.heads))]
    DatabaseSeveralHeads { target: String, heads: Vec<String> },
    #[error("`{target}`: the branch `{label}` has {} heads: {}", .heads.len(), list(.heads))]
    BranchSeveralHeads { target: String, label: String, heads: Vec<String> },
    #[error("`{target}`: the step {} from {from} is ambiguous; choose one of {}", if *.up { "up" } else { "down" }, list(.choices))]
    AmbiguousStep { target: String, from: String, up: bool, choices: Vec<String> },
    /// `from` is where the walk started, `done` how many steps exist from there.
    #[error("`{target}`: there are only {done} step(s) {} {from}", if *.up { "above" } else { "below" })]
    OutOfRange { target: String, from: String, up: bool, done: u64 },
    #[error("`{target}`: {revision} is not on the lineage of `{branch}` (its ancestors and descendants)")]
    OffLineage { target: String, branch: String, revision: String },
    #[error("the graph has no revisions, so `{target}` names nothing")]
    Empty { target: String },
    #[error("`{target}` is the empty state, not a revision")]
    Base { target: String },
    #[error("`{target}` names several revisions where one is needed")]
    NotSingle { target: String },
    #[error("invalid target `{target}`: {why}")]
    Syntax { target: String, why: &'static str },
    #[error("range `{range}`: {}, so nothing lies between them", not_ancestor(.from, .to))]
    RangeNotAncestor { range: String, from: Vec<String>, to: Vec<String> },
}

fn list(items: &[String]) -> String {
    items.join(", ")
}

/// `a is not an ancestor of b`, `none of a, b is an ancestor of any of c, d`.
fn not_ancestor(from: &[String], to: &[String]) -> String {
    let to = if to.len() == 1 { list(to) } else { format!("any of {}", list(to)) };
    match from {
        [one] => format!("{one} is not an ancestor of {to}"),
        _ => format!("none of {} is an ancestor of {to}", list(from)),
    }
}

/// `id (message)`, for error lists.
pub(crate) fn describe(graph: &RevisionGraph, node: usize) -> String {
    let r = graph.rev(node);
    if r.message.is_empty() {
        r.id.clone()
    } else {
        format!("{} ({})", r.id, r.message)
    }
}

fn describe_all(graph: &RevisionGraph, nodes: impl IntoIterator<Item = usize>) -> Vec<String> {
    nodes.into_iter().map(|n| describe(graph, n)).collect()
}

/// The syntax of one target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Syntax<'a> {
    Heads,
    Head,
    Base,
    Name(&'a str),
    /// `B@…`: B's text and what follows the `@`.
    Branch(&'a str, BranchAt<'a>),
    Relative(i64),
    /// `<target>+N`: the base's text is resolved as a whole (it may be a
    /// label that itself ends in `-N`).
    Offset(&'a str, i64),
}

/// What follows `B@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BranchAt<'a> {
    /// `head`, `head-N` (N with its sign).
    Head(i64),
    /// `base`, `base+N`.
    Base(i64),
    /// `+N`, `-N`: from the database's head on B.
    Relative(i64),
    /// `<rev>`: an ID, label or prefix on B's lineage.
    Rev(&'a str),
}

/// `+N` / `-N` → N with sign.
fn signed(text: &str) -> Option<i64> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().map(|n| sign * n)
}

fn is_name(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/'))
}

fn parse(text: &str) -> Result<Syntax<'_>, TargetError> {
    let syntax = |why| TargetError::Syntax { target: text.to_string(), why };
    if text.is_empty() {
        return Err(syntax("it is empty"));
    }
    if text.len() > 256 {
        return Err(syntax("it is longer than 256 characters"));
    }
    match text {
        "heads" => return Ok(Syntax::Heads),
        "head" => return Ok(Syntax::Head),
        "base" => return Ok(Syntax::Base),
        _ => {}
    }
    if let Some(n) = signed(text) {
        return Ok(Syntax::Relative(n));
    }
    if let Some((branch, rest)) = text.split_once('@') {
        if branch.is_empty() || !is_name(branch) {
            return Err(syntax("a label or revision must come before `@`"));
        }
        let at = match rest {
            "head" => BranchAt::Head(0),
            "base" => BranchAt::Base(0),
            _ => {
                if let Some(n) = rest.strip_prefix("head").and_then(signed) {
                    BranchAt::Head(n)
                } else if let Some(n) = rest.strip_prefix("base").and_then(signed) {
                    BranchAt::Base(n)
                } else if let Some(n) = signed(rest) {
                    BranchAt::Relative(n)
                } else if !rest.is_empty() && is_name(rest) {
                    BranchAt::Rev(rest)
                } else {
                    return Err(syntax("after `@` comes `head`, `head-N`, `base`, `base+N`, `+N`, `-N` or a revision"));
                }
            }
        };
        return Ok(Syntax::Branch(branch, at));
    }
    if let Some(at) = text.rfind(['+', '-']) {
        if let Some(n) = signed(&text[at..]) {
            if at > 0 {
                parse(&text[..at])?;
                return Ok(Syntax::Offset(&text[..at], n));
            }
        }
    }
    if !is_name(text) {
        return Err(syntax("targets are IDs, labels, `head`, `heads`, `base`, `<label>@head` or `±N` steps"));
    }
    Ok(Syntax::Name(text))
}

/// The step of a target that counts from the database's state (`+N`, `-N`,
/// `B@+N`, `B@-N`), with its sign; `None` for every other target.
pub(crate) fn relative_step(graph: &RevisionGraph, text: &str) -> Option<i64> {
    if graph.label_node(text).is_some() {
        return None;
    }
    match parse(text).ok()? {
        Syntax::Relative(n) | Syntax::Branch(_, BranchAt::Relative(n)) => Some(n),
        _ => None,
    }
}

/// Resolves targets; `applied` is the database state (one flag per node) or
/// `None` when there is no database, in which case `+N`/`-N` count from
/// the graph's single head.
pub(crate) struct Resolver<'g> {
    pub graph: &'g RevisionGraph,
    pub applied: Option<&'g [bool]>,
}

impl Resolver<'_> {
    /// Resolves a target to revisions or base (`B@<rev>` is that revision,
    /// `B@base` is base).
    pub fn resolve(&self, text: &str) -> Result<Resolved, TargetError> {
        self.resolve_target(text).map(Resolved::from)
    }

    /// Resolves a target for a plan, keeping branch scopes.
    pub fn resolve_target(&self, text: &str) -> Result<Target, TargetError> {
        // A label may itself end in `-N` (`release-2`): the whole word wins.
        if let Some(node) = self.graph.label_node(text) {
            return Ok(Target::Revisions(vec![node]));
        }
        self.resolve_syntax(text, &parse(text)?)
    }

    /// Resolves a target that must name one revision or base (`None`).
    pub fn resolve_one(&self, text: &str) -> Result<Option<usize>, TargetError> {
        match self.resolve(text)? {
            Resolved::Base => Ok(None),
            Resolved::Revisions(nodes) if nodes.len() == 1 => Ok(Some(nodes[0])),
            Resolved::Revisions(_) => Err(TargetError::NotSingle { target: text.to_string() }),
        }
    }

    fn resolve_syntax(&self, text: &str, syntax: &Syntax<'_>) -> Result<Target, TargetError> {
        let graph = self.graph;
        let target = || text.to_string();
        let one = |node| Ok(Target::Revisions(vec![node]));
        match syntax {
            Syntax::Heads => Ok(Target::Revisions(self.heads_within(None))),
            Syntax::Base => Ok(Target::Base),
            Syntax::Head => {
                let heads = self.heads_within(None);
                match heads.len() {
                    0 => Err(TargetError::Empty { target: target() }),
                    1 => one(heads[0]),
                    _ => Err(TargetError::SeveralHeads { target: target(), heads: describe_all(graph, heads) }),
                }
            }
            Syntax::Name(name) => one(self.name(name)?),
            Syntax::Branch(branch, at) => self.branch(text, branch, *at),
            Syntax::Relative(n) => match self.applied {
                Some(_) => {
                    let tops = self.applied_heads(None);
                    match tops.as_slice() {
                        [] => self.step(text, None, *n, None).map(Self::at),
                        [top] => self.step(text, Some(*top), *n, None).map(Self::at),
                        _ => Err(TargetError::DatabaseSeveralHeads {
                            target: target(),
                            heads: describe_all(graph, tops),
                        }),
                    }
                }
                None => self.resolve_syntax(text, &Syntax::Offset("head", *n)),
            },
            Syntax::Offset(base, n) => {
                let from = match self.resolve(base)? {
                    Resolved::Base => None,
                    Resolved::Revisions(nodes) if nodes.len() == 1 => Some(nodes[0]),
                    Resolved::Revisions(_) => return Err(TargetError::NotSingle { target: target() }),
                };
                self.step(text, from, *n, None).map(Self::at)
            }
        }
    }

    /// A revision, or base for `None`.
    fn at(node: Option<usize>) -> Target {
        node.map_or(Target::Base, |node| Target::Revisions(vec![node]))
    }

    /// An exact ID, a label, or a unique ID prefix.
    fn name(&self, name: &str) -> Result<usize, TargetError> {
        if let Some(node) = self.graph.node(name).or_else(|| self.graph.label_node(name)) {
            return Ok(node);
        }
        let matches = self.graph.with_prefix(name);
        match matches.len() {
            0 => Err(TargetError::Unknown { target: name.to_string() }),
            1 => Ok(matches.start),
            _ => Err(TargetError::AmbiguousPrefix {
                target: name.to_string(),
                candidates: describe_all(self.graph, matches),
            }),
        }
    }

    /// Heads of the graph, or those descending (through parents) from `from`.
    fn heads_within(&self, from: Option<usize>) -> Vec<usize> {
        let within = from.map(|start| self.graph.reach(&[start], Outgoing, Via::Parents));
        (0..self.graph.len())
            .filter(|&n| within.as_ref().is_none_or(|w| w[n]))
            .filter(|&n| self.graph.succs(n, Via::Parents).next().is_none())
            .collect()
    }

    /// Applied revisions without an applied child, optionally within a set
    /// (a child outside the set does not count).
    fn applied_heads(&self, within: Option<&[bool]>) -> Vec<usize> {
        let Some(applied) = self.applied else { return Vec::new() };
        let inside = |n: usize| applied[n] && within.is_none_or(|w| w[n]);
        (0..self.graph.len()).filter(|&n| inside(n) && !self.graph.succs(n, Via::Parents).any(inside)).collect()
    }

    /// `n` steps from `from` (`None` is base): up through the only child,
    /// down through the only parent, counting only revisions `within` the
    /// set when one is given (a lineage). Running off the graph is an error
    /// naming where the walk started and how many steps exist from there.
    fn step(
        &self,
        text: &str,
        from: Option<usize>,
        n: i64,
        within: Option<&[bool]>,
    ) -> Result<Option<usize>, TargetError> {
        let graph = self.graph;
        let up = n > 0;
        let name = |at: Option<usize>| at.map_or_else(|| "base".to_string(), |node| graph.rev(node).id.clone());
        let keep = |node: &usize| within.is_none_or(|w| w[*node]);
        let mut here = from;
        for done in 0..n.unsigned_abs() {
            let mut choices: Vec<usize> = match (here, up) {
                (None, true) => (0..graph.len()).filter(|&n| graph.rev(n).parents.is_empty()).filter(keep).collect(),
                (Some(node), true) => graph.succs(node, Via::Parents).filter(keep).collect(),
                (Some(node), false) => graph.preds(node, Via::Parents).filter(keep).collect(),
                (None, false) => Vec::new(),
            };
            choices.sort_unstable();
            here = match choices.as_slice() {
                [next] => Some(*next),
                [] if !up && here.is_some() => None,
                [] => return Err(TargetError::OutOfRange { target: text.to_string(), from: name(from), up, done }),
                _ => {
                    let choices = describe_all(graph, choices);
                    return Err(TargetError::AmbiguousStep { target: text.to_string(), from: name(here), up, choices });
                }
            };
        }
        Ok(here)
    }
}

/// Resolves `text` without a database to exactly one revision (`+N` and
/// `-N` count from `head`).
pub fn resolve_revision<'g>(graph: &'g RevisionGraph, text: &str) -> Result<&'g Revision, TargetError> {
    match (Resolver { graph, applied: None }).resolve_one(text)? {
        Some(node) => Ok(graph.rev(node)),
        None => Err(TargetError::Base { target: text.to_string() }),
    }
}

/// The revisions of a `history -r` range (see `range`), in topological
/// order; `-N`/`+N` count from `head`.
pub fn range_revisions<'g>(graph: &'g RevisionGraph, text: &str) -> Result<Vec<&'g Revision>, TargetError> {
    let nodes = range(&Resolver { graph, applied: None }, text)?;
    Ok(nodes.into_iter().map(|n| graph.rev(n)).collect())
}

/// A `history -r` range `a:b`: revisions descending from `a` (inclusive;
/// `base` or empty for everything) that are ancestors of `b` (inclusive;
/// empty for every head). Returns node numbers in topological order.
pub(crate) fn range(resolver: &Resolver<'_>, text: &str) -> Result<Vec<usize>, TargetError> {
    let graph = resolver.graph;
    let Some((low, high)) = text.split_once(':') else {
        return Err(TargetError::Syntax {
            target: text.to_string(),
            why: "a range is `FROM:TO`, e.g. `base:head` or `-3:`",
        });
    };
    // A listing names no single target: `head` with several heads means
    // all of them, and `-N:` is each top and the N revisions below it.
    let high = if high == "head" { "heads" } else { high };
    let all = || vec![true; graph.len()];
    let above = if low.is_empty() {
        all()
    } else if let Some(n) = signed(low).filter(|n| *n <= 0) {
        let tops = match high {
            "" => resolver.heads_within(None),
            _ => match resolver.resolve(high)? {
                Resolved::Base => Vec::new(),
                Resolved::Revisions(nodes) => nodes,
            },
        };
        within_steps_below(graph, &tops, n.unsigned_abs())
    } else {
        match resolver.resolve(low)? {
            Resolved::Base => all(),
            Resolved::Revisions(nodes) => graph.reach(&nodes, Outgoing, Via::All),
        }
    };
    let below = if high.is_empty() {
        all()
    } else {
        match resolver.resolve(high)? {
            Resolved::Base => vec![false; graph.len()],
            Resolved::Revisions(nodes) => graph.reach(&nodes, Incoming, Via::All),
        }
    };
    let members: Vec<bool> = above.iter().zip(&below).map(|(a, b)| *a && *b).collect();
    let order = graph.order_of(&members);
    if order.is_empty() {
        // Both ends name revisions and none of FROM is an ancestor of TO.
        let named = |end: &str| match end {
            "" => Ok(None),
            _ => resolver.resolve(end).map(|r| match r {
                Resolved::Revisions(nodes) if !nodes.is_empty() => Some(nodes),
                _ => None,
            }),
        };
        if let (Some(from), Some(to)) = (named(low)?, named(high)?) {
            let ids = |nodes: Vec<usize>| nodes.into_iter().map(|n| graph.rev(n).id.clone()).collect();
            return Err(TargetError::RangeNotAncestor { range: text.to_string(), from: ids(from), to: ids(to) });
        }
    }
    Ok(order)
}

/// `tops` and every revision at most `steps` parent steps below one of them.
fn within_steps_below(graph: &RevisionGraph, tops: &[usize], steps: u64) -> Vec<bool> {
    let mut seen = vec![false; graph.len()];
    let mut layer: Vec<usize> = tops.to_vec();
    for &node in &layer {
        seen[node] = true;
    }
    for _ in 0..steps {
        if layer.is_empty() {
            break; // below every root: further steps reach nothing (and `-9223372036854775807:` must not spin)
        }
        let mut next = Vec::new();
        for node in layer {
            for parent in graph.preds(node, Via::Parents) {
                if !seen[parent] {
                    seen[parent] = true;
                    next.push(parent);
                }
            }
        }
        layer = next;
    }
    seen
}

#[cfg(test)]
mod tests;
