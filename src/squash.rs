//! Squashing: a revision R that `replaces` older revisions Q1…Qn (SPEC §4),
//! modelled on Django's `squashmigrations` and its migration loader.
//!
//! Everything here is pure: it rewrites lists of revisions, and never plans
//! or touches a database. Two steps, as in Django's loader:
//!
//! 1. [`fold`], when a graph is built: R takes the place of the Qi. The Qi
//!    files that are still present move into [`Revision::replaced`], and every
//!    other revision's parents and depends-on that name a Qi name R instead,
//!    so revisions written on top of a Qi keep working once the Qi files are
//!    deleted. The graph everyone sees (heads, history, check, a fresh
//!    database) is the squashed one: R runs instead of the Qi.
//! 2. [`view`], when a database's rows are read: R counts as applied when it
//!    has a row or every Qi has one ([`Rewrite`]: the next run records R and
//!    drops the Qi rows in one transaction, running no SQL). With some but not
//!    all Qi applied R cannot be used: [`effective`] puts the Qi back in its
//!    place (references to R then name the last replaced revisions, as
//!    Django does), so the missing Qi run first, after which R is recorded in
//!    their place. Without the Qi files that is impossible:
//!    [`PartialSquash`] names what is missing, before any change.
//!
//! Squashes of squashes are refused (squash the original revisions again).

mod range;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use thiserror::Error;

use crate::revision::{location, HeaderLines, Revision};

pub use range::{squash_range, RangeError, Squashed};

/// Something wrong with a `replaces` header, at the file and line of that key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}: revision `{squash}` {kind}", location(.path, Some(*.line)))]
pub struct SquashProblem {
    /// The squashing revision.
    pub squash: String,
    pub path: PathBuf,
    /// The line of its `replaces` key.
    pub line: usize,
    pub kind: SquashProblemKind,
}

/// What is wrong with a `replaces` header.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SquashProblemKind {
    #[error("replaces itself")]
    ReplacesItself,
    #[error("replaces `{0}`, which is also one of its parents or dependencies (its parents are the replaced range's parents)")]
    ReplacesAncestor(String),
    #[error("replaces `{id}`, which {} also replaces", location(.other, Some(*.other_line)))]
    ReplacedTwice { id: String, other: PathBuf, other_line: usize },
    #[error(
        "replaces `{0}`, which itself replaces revisions and replaces `{0}`'s squash in turn: `replaces` forms a cycle"
    )]
    Cycle(String),
    #[error("replaces `{0}`, which is itself a squash: squashes of squashes are not supported (replace the original revisions)")]
    Nested(String),
    #[error("replaces revisions that are not contiguous: `{outside}` lies between `{below}` and `{above}` without being replaced")]
    NotContiguous { outside: String, below: String, above: String },
    #[error("descends from `{0}`, which it replaces")]
    AboveReplaced(String),
}

/// A squash that cannot be used on a database that has some, not all, of
/// the revisions it replaces, because files of the replaced revisions are gone.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "revision {squash} ({}) replaces {}, of which the database has only {} applied; {} must run first, but the file(s) of {} are missing",
    .path.display(), .replaces.join(", "), .applied.join(", "), .missing.join(", "), .without_files.join(", ")
)]
pub struct PartialSquash {
    pub squash: String,
    pub path: PathBuf,
    /// Every replaced revision, as declared.
    pub replaces: Vec<String>,
    /// The replaced revisions the database has.
    pub applied: Vec<String>,
    /// The replaced revisions the database lacks.
    pub missing: Vec<String>,
    /// The replaced revisions whose files are missing.
    pub without_files: Vec<String>,
}

/// A row change the next run makes: record `squash` (when it has no row
/// yet) and drop the rows of the replaced revisions in `drop`, in one
/// transaction, running no SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub squash: String,
    /// Whether the squash's row must be added.
    pub record: bool,
    /// Rows of replaced revisions to drop, in the order declared.
    pub drop: Vec<String>,
}

/// How the squashes read on one database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    /// Squashes that count as applied, with the rows to rewrite.
    pub rewrites: Vec<Rewrite>,
    /// Squashes that cannot be used (partly applied): their replaced
    /// revisions take their place ([`effective`]).
    pub unfolded: Vec<String>,
}

impl View {
    /// Rows that stand for a squash and are not revisions of their own here.
    pub fn dropped(&self) -> HashSet<&str> {
        self.rewrites.iter().flat_map(|r| r.drop.iter().map(String::as_str)).collect()
    }

    /// The applied IDs: `rows` with the dropped ones replaced by their squash.
    pub fn applied<'a>(&'a self, rows: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        let dropped = self.dropped();
        let mut ids: Vec<&str> = rows.into_iter().filter(|id| !dropped.contains(id)).collect();
        ids.extend(self.rewrites.iter().filter(|r| r.record).map(|r| r.squash.as_str()));
        ids
    }
}

/// Folds every squash over the revisions it replaces (see the module docs),
/// or returns them unchanged with every problem found.
pub fn fold(revisions: Vec<Revision>) -> (Vec<Revision>, Vec<SquashProblem>) {
    if revisions.iter().all(|r| r.replaces().is_empty()) {
        return (revisions, Vec::new());
    }
    let problems = validate(&revisions);
    if !problems.is_empty() {
        return (revisions, problems);
    }
    let owner: HashMap<String, String> =
        revisions.iter().flat_map(|r| r.replaces().iter().map(move |q| (q.clone(), r.id.clone()))).collect();
    let (mut moved, mut kept): (Vec<Revision>, Vec<Revision>) =
        revisions.into_iter().partition(|r| owner.contains_key(&r.id));
    moved.iter_mut().for_each(|q| remap(q, &owner, owner.get(&q.id).map(String::as_str)));
    for r in &mut kept {
        remap(r, &owner, None);
        if !r.replaced().is_empty() {
            let id = r.id.clone();
            r.links_mut().replaced.iter_mut().for_each(|q| remap(q, &owner, Some(id.as_str())));
        }
    }
    let index: HashMap<String, usize> = kept.iter().enumerate().map(|(n, r)| (r.id.clone(), n)).collect();
    for q in moved {
        if let Some(&n) = owner.get(&q.id).and_then(|s| index.get(s)) {
            let replaced = &mut kept[n].links_mut().replaced;
            replaced.push(q);
            replaced.sort_by(|a, b| a.id.cmp(&b.id));
        }
    }
    (kept, Vec::new())
}

/// Points `r`'s references to replaced revisions at their squash, except
/// references inside the squash `member_of` (the replaced revisions keep
/// their own links to each other).
fn remap(r: &mut Revision, owner: &HashMap<String, String>, member_of: Option<&str>) {
    let map = |ids: &mut Vec<String>| {
        let mut seen = HashSet::new();
        let mapped: Vec<String> = ids
            .iter()
            .map(|id| match owner.get(id) {
                Some(squash) if Some(squash.as_str()) != member_of => squash.clone(),
                _ => id.clone(),
            })
            .filter(|id| seen.insert(id.clone()))
            .collect();
        *ids = mapped;
    };
    map(&mut r.parents);
    if let Some(ids) = r.depends_on_mut() {
        map(ids);
    }
}

/// Every problem of the `replaces` headers among `revisions`.
fn validate(revisions: &[Revision]) -> Vec<SquashProblem> {
    let by_id: HashMap<&str, &Revision> = revisions.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut problems = Vec::new();
    let mut first: HashMap<&str, &Revision> = HashMap::new();
    for r in revisions.iter().filter(|r| !r.replaces().is_empty()) {
        let before = problems.len();
        let problem = |kind| SquashProblem {
            squash: r.id.clone(),
            path: r.path.clone(),
            line: HeaderLines::number(r.lines.replaces),
            kind,
        };
        for q in r.replaces() {
            if *q == r.id {
                problems.push(problem(SquashProblemKind::ReplacesItself));
            } else if r.parents.contains(q) || r.depends_on().contains(q) {
                problems.push(problem(SquashProblemKind::ReplacesAncestor(q.clone())));
            } else if let Some(other) = first.get(q.as_str()) {
                let (other, other_line) = (other.path.clone(), HeaderLines::number(other.lines.replaces));
                problems.push(problem(SquashProblemKind::ReplacedTwice { id: q.clone(), other, other_line }));
            } else if let Some(inner) = by_id.get(q.as_str()).filter(|q| !q.replaces().is_empty()) {
                let cycle = inner.replaces().contains(&r.id);
                problems.push(problem(if cycle {
                    SquashProblemKind::Cycle(q.clone())
                } else {
                    SquashProblemKind::Nested(q.clone())
                }));
            }
            first.entry(q.as_str()).or_insert(r);
        }
        if problems.len() > before {
            continue;
        }
        if let Some(kind) = shape_problem(r, &by_id, revisions) {
            problems.push(problem(kind));
        }
    }
    problems
}

/// Checks, on the replaced revisions whose files are present, that no
/// other revision lies between two of them and that R is not above them.
fn shape_problem(r: &Revision, by_id: &HashMap<&str, &Revision>, all: &[Revision]) -> Option<SquashProblemKind> {
    let members: HashSet<&str> = r.replaces().iter().map(String::as_str).filter(|q| by_id.contains_key(q)).collect();
    if members.is_empty() {
        return None;
    }
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for x in all {
        for p in x.parents.iter().chain(x.depends_on()) {
            children.entry(p.as_str()).or_default().push(x.id.as_str());
        }
    }
    // Walk up from each member, outside the set, recording which member was left.
    let mut above: HashMap<&str, &str> = HashMap::new();
    let mut stack: Vec<(&str, &str)> = Vec::new();
    for &m in &members {
        stack.extend(children.get(m).into_iter().flatten().map(|&c| (c, m)));
    }
    while let Some((x, from)) = stack.pop() {
        if members.contains(x) || above.contains_key(x) {
            continue;
        }
        above.insert(x, from);
        stack.extend(children.get(x).into_iter().flatten().map(|&c| (c, from)));
    }
    if let Some(from) = above.get(r.id.as_str()) {
        return Some(SquashProblemKind::AboveReplaced(from.to_string()));
    }
    // A member below which (outside the set) lies a revision above a member.
    let mut ids: Vec<&str> = members.iter().copied().collect();
    ids.sort_unstable();
    for m in ids {
        let Some(q) = by_id.get(m) else { continue };
        let mut stack: Vec<&str> = q.parents.iter().chain(q.depends_on()).map(String::as_str).collect();
        let mut seen = HashSet::new();
        while let Some(x) = stack.pop() {
            if !seen.insert(x) {
                continue;
            }
            if members.contains(x) {
                continue;
            }
            if let Some(below) = above.get(x) {
                return Some(SquashProblemKind::NotContiguous {
                    outside: x.to_string(),
                    below: below.to_string(),
                    above: m.to_string(),
                });
            }
            if let Some(x) = by_id.get(x) {
                stack.extend(x.parents.iter().chain(x.depends_on()).map(String::as_str));
            }
        }
    }
    None
}

/// How the squashes among `revisions` (folded) read on a database whose
/// version table has `rows`.
pub fn view(revisions: &[Revision], rows: &HashSet<&str>) -> Result<View, Box<PartialSquash>> {
    let mut view = View::default();
    for r in revisions.iter().filter(|r| !r.replaces().is_empty()) {
        let applied: Vec<String> = r.replaces().iter().filter(|q| rows.contains(q.as_str())).cloned().collect();
        let recorded = rows.contains(r.id.as_str());
        if recorded || applied.len() == r.replaces().len() {
            if !recorded || !applied.is_empty() {
                view.rewrites.push(Rewrite { squash: r.id.clone(), record: !recorded, drop: applied });
            }
        } else if !applied.is_empty() {
            let present: HashSet<&str> = r.replaced().iter().map(|q| q.id.as_str()).collect();
            let without_files: Vec<String> =
                r.replaces().iter().filter(|q| !present.contains(q.as_str())).cloned().collect();
            if !without_files.is_empty() {
                return Err(Box::new(PartialSquash {
                    squash: r.id.clone(),
                    path: r.path.clone(),
                    replaces: r.replaces().to_vec(),
                    missing: r.replaces().iter().filter(|q| !applied.contains(q)).cloned().collect(),
                    applied,
                    without_files,
                }));
            }
            view.unfolded.push(r.id.clone());
        }
    }
    Ok(view)
}

/// `revisions` with each squash of `unfolded` replaced by the revisions it
/// replaces; references to the squash name the last of them instead (those
/// no other replaced revision has as a parent).
pub fn effective(revisions: &[Revision], unfolded: &[String]) -> Vec<Revision> {
    let mut redirect: HashMap<&str, Vec<String>> = HashMap::new();
    let mut out: Vec<Revision> = Vec::with_capacity(revisions.len());
    for r in revisions {
        if !unfolded.contains(&r.id) {
            out.push(r.clone());
            continue;
        }
        let parents: HashSet<&str> = r.replaced().iter().flat_map(|q| q.parents.iter().map(String::as_str)).collect();
        let last = r.replaced().iter().filter(|q| !parents.contains(q.id.as_str())).map(|q| q.id.clone()).collect();
        redirect.insert(r.id.as_str(), last);
        out.extend(r.replaced().iter().cloned());
    }
    let map = |ids: &mut Vec<String>| {
        let mut mapped: Vec<String> = Vec::with_capacity(ids.len());
        for id in ids.iter() {
            for new in redirect.get(id.as_str()).cloned().unwrap_or_else(|| vec![id.clone()]) {
                if !mapped.contains(&new) {
                    mapped.push(new);
                }
            }
        }
        *ids = mapped;
    };
    for r in &mut out {
        map(&mut r.parents);
        if let Some(ids) = r.depends_on_mut() {
            map(ids);
        }
    }
    out
}

#[cfg(test)]
mod tests;
