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
//! | `<label>@head` | the single head descending from the labelled revision |
//! | `<label>@+N`, `<label>@-N` | N steps from the applied revision furthest up the branch |
//! | `+N`, `-N` | N steps from the database's single head |
//! | `<target>+N`, `<target>-N` | N steps from that revision |
//!
//! A step up follows the only child, a step down the only parent; at a
//! branch or merge point the step is ambiguous and the error lists the
//! choices, because guessing a branch is how linear tools lose migrations.

use petgraph::Direction::{Incoming, Outgoing};
use thiserror::Error;

use crate::graph::{RevisionGraph, Via};
use crate::revision::Revision;

/// A target resolved to node numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// The empty state.
    Base,
    /// These revisions (empty only for `heads` of an empty graph).
    Revisions(Vec<usize>),
}

/// A target that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
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
    #[error("`{target}`: there are only {done} step(s) {} {from}", if *.up { "above" } else { "below" })]
    OutOfRange { target: String, from: String, up: bool, done: u64 },
    #[error("`{target}`: nothing on the branch `{label}` is applied, so there is nothing to step down from")]
    BranchNotApplied { target: String, label: String },
    #[error("the graph has no revisions, so `{target}` names nothing")]
    Empty { target: String },
    #[error("`{target}` is the empty state, not a revision")]
    Base { target: String },
    #[error("`{target}` names several revisions where one is needed")]
    NotSingle { target: String },
    #[error("invalid target `{target}`: {why}")]
    Syntax { target: String, why: &'static str },
}

impl TargetError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            TargetError::SeveralHeads { .. } => Some(
                "name one of them (an ID prefix or `<label>@head`), use `heads` for all of them, or join them with `migraph merge`"
                    .into(),
            ),
            TargetError::DatabaseSeveralHeads { .. } => Some("use `<label>@+N`, `<revision>+N` or name the target revision".into()),
            TargetError::AmbiguousPrefix { .. } => Some("type more characters of the ID".into()),
            TargetError::AmbiguousStep { .. } => Some("name the revision you want instead of counting steps".into()),
            TargetError::Unknown { .. } => Some("`migraph history` lists every revision; `migraph heads` lists the heads".into()),
            _ => None,
        }
    }
}

fn list(items: &[String]) -> String {
    items.join(", ")
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
    LabelHead(&'a str),
    LabelRelative(&'a str, i64),
    Relative(i64),
    /// `<target>+N`: the base's text is resolved as a whole (it may be a
    /// label that itself ends in `-N`).
    Offset(&'a str, i64),
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
    if let Some((label, rest)) = text.split_once('@') {
        if label.is_empty() {
            return Err(syntax("a label must come before `@`"));
        }
        if rest == "head" {
            return Ok(Syntax::LabelHead(label));
        }
        if let Some(n) = signed(rest) {
            return Ok(Syntax::LabelRelative(label, n));
        }
        if let Some(n) = rest.strip_prefix("head").and_then(signed) {
            return Ok(Syntax::Offset(&text[..label.len() + 5], n));
        }
        return Err(syntax("after `@` comes `head`, `head+N`, `head-N`, `+N` or `-N`"));
    }
    if let Some(at) = text.rfind(['+', '-']) {
        if let Some(n) = signed(&text[at..]) {
            if at > 0 {
                parse(&text[..at])?;
                return Ok(Syntax::Offset(&text[..at], n));
            }
        }
    }
    if !text.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/')) {
        return Err(syntax("targets are IDs, labels, `head`, `heads`, `base`, `<label>@head` or `±N` steps"));
    }
    Ok(Syntax::Name(text))
}

/// Resolves targets; `applied` is the database state (one flag per node) or
/// `None` when there is no database, in which case `+N`/`-N` count from
/// the graph's single head.
pub(crate) struct Resolver<'g> {
    pub graph: &'g RevisionGraph,
    pub applied: Option<&'g [bool]>,
}

impl Resolver<'_> {
    pub fn resolve(&self, text: &str) -> Result<Resolved, TargetError> {
        // A label may itself end in `-N` (`release-2`): the whole word wins.
        if let Some(node) = self.graph.label_node(text) {
            return Ok(Resolved::Revisions(vec![node]));
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

    fn resolve_syntax(&self, text: &str, syntax: &Syntax<'_>) -> Result<Resolved, TargetError> {
        let graph = self.graph;
        let target = || text.to_string();
        let one = |node| Ok(Resolved::Revisions(vec![node]));
        match syntax {
            Syntax::Heads => Ok(Resolved::Revisions(self.heads_within(None))),
            Syntax::Base => Ok(Resolved::Base),
            Syntax::Head => {
                let heads = self.heads_within(None);
                match heads.len() {
                    0 => Err(TargetError::Empty { target: target() }),
                    1 => one(heads[0]),
                    _ => Err(TargetError::SeveralHeads { target: target(), heads: describe_all(graph, heads) }),
                }
            }
            Syntax::Name(name) => one(self.name(name)?),
            Syntax::LabelHead(label) => {
                let start = self.label(label)?;
                let heads = self.heads_within(Some(start));
                match heads.as_slice() {
                    [head] => one(*head),
                    _ => Err(TargetError::BranchSeveralHeads {
                        target: target(),
                        label: label.to_string(),
                        heads: describe_all(graph, heads),
                    }),
                }
            }
            Syntax::LabelRelative(label, n) => {
                let start = self.label(label)?;
                let branch = graph.reach(&[start], Outgoing, Via::Parents);
                let tops = self.applied_heads(Some(&branch));
                match tops.as_slice() {
                    [top] => self.step(text, Some(*top), *n),
                    [] if *n > 0 => self.step(text, Some(start), n - 1),
                    [] => Err(TargetError::BranchNotApplied { target: target(), label: label.to_string() }),
                    _ => Err(TargetError::BranchSeveralHeads {
                        target: target(),
                        label: label.to_string(),
                        heads: describe_all(graph, tops),
                    }),
                }
            }
            Syntax::Relative(n) => match self.applied {
                Some(_) => {
                    let tops = self.applied_heads(None);
                    match tops.as_slice() {
                        [] => self.step(text, None, *n),
                        [top] => self.step(text, Some(*top), *n),
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
                self.step(text, from, *n)
            }
        }
    }

    fn label(&self, label: &str) -> Result<usize, TargetError> {
        self.graph.label_node(label).ok_or_else(|| TargetError::Unknown { target: label.to_string() })
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

    /// Applied revisions without an applied child, optionally within a set.
    fn applied_heads(&self, within: Option<&[bool]>) -> Vec<usize> {
        let Some(applied) = self.applied else { return Vec::new() };
        let inside = |n: usize| applied[n] && within.is_none_or(|w| w[n]);
        (0..self.graph.len()).filter(|&n| inside(n) && !self.graph.succs(n, Via::Parents).any(inside)).collect()
    }

    /// `n` steps from `from` (`None` is base): up through the only child,
    /// down through the only parent.
    fn step(&self, text: &str, mut from: Option<usize>, n: i64) -> Result<Resolved, TargetError> {
        let graph = self.graph;
        let up = n > 0;
        for done in 0..n.unsigned_abs() {
            let here = || from.map_or_else(|| "base".to_string(), |node| graph.rev(node).id.clone());
            let mut choices: Vec<usize> = match (from, up) {
                (None, true) => (0..graph.len()).filter(|&n| graph.rev(n).parents.is_empty()).collect(),
                (Some(node), true) => graph.succs(node, Via::Parents).collect(),
                (Some(node), false) => graph.preds(node, Via::Parents).collect(),
                (None, false) => Vec::new(),
            };
            choices.sort_unstable();
            from = match choices.as_slice() {
                [next] => Some(*next),
                [] if !up && from.is_some() => None,
                [] => return Err(TargetError::OutOfRange { target: text.to_string(), from: here(), up, done }),
                _ => {
                    let choices = describe_all(graph, choices);
                    return Err(TargetError::AmbiguousStep { target: text.to_string(), from: here(), up, choices });
                }
            };
        }
        Ok(from.map_or(Resolved::Base, |node| Resolved::Revisions(vec![node])))
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

/// The revisions of a `history -r` range (see [`range`]), in topological
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
    let all = || vec![true; graph.len()];
    let above = if low.is_empty() {
        all()
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
    Ok(graph.order_of(&members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::tests::graph;

    fn ids(g: &RevisionGraph, r: Result<Resolved, TargetError>) -> Result<Vec<String>, String> {
        match r {
            Ok(Resolved::Base) => Ok(vec!["base".into()]),
            Ok(Resolved::Revisions(nodes)) => Ok(nodes.iter().map(|&n| g.rev(n).id.clone()).collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn applied(g: &RevisionGraph, list: &[&str]) -> Vec<bool> {
        (0..g.len()).map(|n| list.contains(&g.rev(n).id.as_str())).collect()
    }

    /// r00 ─ a1 ─ a2 (label `feat-a` on a1) and r00 ─ b1 ─ b2 (label `b` on b1): two heads.
    fn forked() -> RevisionGraph {
        let mut revisions = crate::graph::tests::revs(&["r00:", "a1: r00", "a2: a1", "b1: r00", "b2: b1"]);
        revisions[1].labels = vec!["feat-a".into()];
        revisions[3].labels = vec!["b".into()];
        RevisionGraph::new(revisions).unwrap()
    }

    #[test]
    fn keywords_names_and_prefixes() {
        let g = forked();
        let r = Resolver { graph: &g, applied: None };
        assert_eq!(ids(&g, r.resolve("heads")), Ok(vec!["a2".into(), "b2".into()]));
        assert_eq!(ids(&g, r.resolve("base")), Ok(vec!["base".into()]));
        assert_eq!(ids(&g, r.resolve("r0")), Ok(vec!["r00".into()]));
        assert_eq!(ids(&g, r.resolve("feat-a")), Ok(vec!["a1".into()]), "a label ending in -N is a label");
        assert_eq!(ids(&g, r.resolve("feat-a+1")), Ok(vec!["a2".into()]), "and takes an offset");
        assert_eq!(ids(&g, r.resolve("feat-a-0")), Ok(vec!["a1".into()]));
        assert_eq!(ids(&g, r.resolve("b")), Ok(vec!["b1".into()]), "a label beats an ID prefix");
        assert_eq!(ids(&g, r.resolve("a")), Err("`a` is ambiguous: it is a prefix of a1 (m a1), a2 (m a2)".into()));
        assert_eq!(ids(&g, r.resolve("zz")), Err("no revision ID, prefix or label matches `zz`".into()));
        let e = r.resolve("head").unwrap_err();
        assert!(matches!(&e, TargetError::SeveralHeads { heads, .. } if heads.len() == 2));
        assert!(e.hint().unwrap().contains("migraph merge"));
    }

    #[test]
    fn label_heads_and_steps() {
        let g = forked();
        let r = Resolver { graph: &g, applied: None };
        assert_eq!(ids(&g, r.resolve("feat-a@head")), Ok(vec!["a2".into()]));
        assert_eq!(ids(&g, r.resolve("b@head-1")), Ok(vec!["b1".into()]));
        assert_eq!(ids(&g, r.resolve("a2-2")), Ok(vec!["r00".into()]));
        assert_eq!(ids(&g, r.resolve("a2-3")), Ok(vec!["base".into()]));
        assert_eq!(ids(&g, r.resolve("a2-4")), Err("`a2-4`: there are only 3 step(s) below base".into()));
        assert_eq!(ids(&g, r.resolve("a1+1")), Ok(vec!["a2".into()]));
        assert_eq!(ids(&g, r.resolve("a2+1")), Err("`a2+1`: there are only 0 step(s) above a2".into()));
        assert_eq!(
            ids(&g, r.resolve("r00+1")),
            Err("`r00+1`: the step up from r00 is ambiguous; choose one of a1 (m a1), b1 (m b1)".into())
        );
        assert!(matches!(r.resolve("nope@head"), Err(TargetError::Unknown { .. })));
        assert!(matches!(r.resolve("x@tail"), Err(TargetError::Syntax { .. })));
        assert!(matches!(r.resolve("a b"), Err(TargetError::Syntax { .. })));
    }

    #[test]
    fn relative_to_the_database() {
        let g = forked();
        let state = applied(&g, &["r00", "a1"]);
        let r = Resolver { graph: &g, applied: Some(&state) };
        assert_eq!(ids(&g, r.resolve("+1")), Ok(vec!["a2".into()]));
        assert_eq!(ids(&g, r.resolve("-1")), Ok(vec!["r00".into()]));
        assert_eq!(ids(&g, r.resolve("-2")), Ok(vec!["base".into()]));
        // Nothing on branch b is applied: b@+1 is its first revision.
        assert_eq!(ids(&g, r.resolve("b@+1")), Ok(vec!["b1".into()]));
        assert_eq!(ids(&g, r.resolve("b@+2")), Ok(vec!["b2".into()]));
        assert!(matches!(r.resolve("b@-1"), Err(TargetError::BranchNotApplied { .. })));
        assert_eq!(ids(&g, r.resolve("feat-a@+1")), Ok(vec!["a2".into()]));
        let empty = applied(&g, &[]);
        let r = Resolver { graph: &g, applied: Some(&empty) };
        assert_eq!(ids(&g, r.resolve("+1")), Ok(vec!["r00".into()]));
        let both = applied(&g, &["r00", "a1", "b1"]);
        let r = Resolver { graph: &g, applied: Some(&both) };
        assert!(matches!(r.resolve("+1"), Err(TargetError::DatabaseSeveralHeads { heads, .. }) if heads.len() == 2));
    }

    #[test]
    fn merge_point_step_down_is_ambiguous() {
        let g = graph(&["r:", "x: r", "y: r", "m: x y"]);
        let r = Resolver { graph: &g, applied: None };
        assert!(
            matches!(r.resolve("m-1"), Err(TargetError::AmbiguousStep { up: false, choices, .. }) if choices.len() == 2)
        );
        assert_eq!(ids(&g, r.resolve("-0")), Ok(vec!["m".into()]));
    }

    #[test]
    fn ranges() {
        let g = forked();
        let r = Resolver { graph: &g, applied: None };
        let names = |text: &str| range(&r, text).map(|v| v.iter().map(|&n| g.rev(n).id.clone()).collect::<Vec<_>>());
        assert_eq!(names("base:heads").unwrap(), ["r00", "a1", "a2", "b1", "b2"]);
        assert_eq!(names(":").unwrap().len(), 5);
        assert_eq!(names("a1:").unwrap(), ["a1", "a2"]);
        assert_eq!(names(":b1").unwrap(), ["r00", "b1"]);
        assert_eq!(names("b@head-1:b@head").unwrap(), ["b1", "b2"]);
        assert!(names("a1").is_err());
    }
}
