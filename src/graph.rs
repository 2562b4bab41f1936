//! The revision DAG: validation, heads, branch and merge points, walks, and
//! the one deterministic topological order every plan and listing uses.
//!
//! The graph is built once from parsed revisions and never changes. Nodes are
//! numbered in ID order, so comparing node numbers compares IDs: ties in
//! the topological order and prefix lookups need no other index. Edges point from a parent (or
//! a dependency) to its child (or dependent), so "up" is the direction of
//! the edges. The petgraph storage stays private: callers speak in IDs and
//! [`Revision`]s, while the planner uses node numbers through crate-private
//! methods.
//!
//! Every walk is iterative and marks nodes in a bit vector, so it is linear
//! in nodes plus edges and cannot overflow the stack on a 100,000-deep chain.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt;
use std::path::PathBuf;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction::{self, Incoming, Outgoing};
use thiserror::Error;

use crate::revision::{location, HeaderLines, ParseError, Revision};

mod heads;

pub use heads::HeadProblem;

/// Why an edge exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edge {
    Parent,
    DependsOn,
}

/// Which edges a walk follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// Parent edges only: the branch structure.
    Parents,
    /// Parent and depends-on edges: what must be applied before what.
    All,
}

/// A validated revision graph.
#[derive(Debug, Clone)]
pub struct RevisionGraph {
    revisions: Vec<Revision>,
    graph: DiGraph<(), Edge, u32>,
    index: Index,
    labels: HashMap<String, usize>,
}

/// Something wrong with the graph as a whole. Each names every file involved.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Problem {
    #[error(transparent)]
    Parse(#[from] ParseError),
    #[error("duplicate revision ID `{id}` in {}", file_list(.files))]
    DuplicateId { id: String, files: Vec<(PathBuf, usize)> },
    #[error("{}: revision `{id}` names {}", location(.path, Some(*.line)), missing_name(.missing, *.depends_on))]
    Missing { id: String, missing: String, depends_on: bool, path: PathBuf, line: usize },
    #[error("cycle through parents/depends-on: {}; files: {}", .path.join(" -> "), file_list(.files))]
    Cycle { path: Vec<String>, files: Vec<(PathBuf, usize)> },
    #[error("label `{label}` is used by more than one revision: {}", file_list(.files))]
    LabelTwice { label: String, files: Vec<(PathBuf, usize)> },
    #[error(transparent)]
    Squash(#[from] crate::squash::SquashProblem),
    #[error("{}: label `{label}` is also a revision ID, so targets naming it would be ambiguous", location(.path, Some(*.line)))]
    LabelIsId { label: String, path: PathBuf, line: usize },
}

/// Reports the copies gathered for `kept`'s ID, if any.
fn flush_duplicates(copies: &mut Vec<(PathBuf, usize)>, kept: Option<&Revision>, problems: &mut Vec<Problem>) {
    if let (Some(kept), false) = (kept, copies.is_empty()) {
        problems.push(Problem::DuplicateId { id: kept.id.clone(), files: std::mem::take(copies) });
    }
}

fn missing_name(name: &str, depends_on: bool) -> String {
    if depends_on {
        format!("dependency `{name}`, which is neither a revision ID nor a branch label")
    } else {
        format!("parent `{name}`, which no revision file declares")
    }
}

fn file_list(files: &[(PathBuf, usize)]) -> String {
    files.iter().map(|(p, l)| location(p, Some(*l))).collect::<Vec<_>>().join(", ")
}

/// Every problem found while building a graph.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct GraphError {
    pub problems: Vec<Problem>,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("\n"))
    }
}

/// What [`Index::find_all`] gives for an ID no revision has.
const NOT_FOUND: u32 = u32::MAX;

/// Node numbers by ID. Revisions are sorted by ID, so the first 16 bytes
/// of each ID (big-endian, zero-padded: their order is the IDs' order) make
/// a sorted array: a binary search in it stays in the processor's cache,
/// and only IDs with the same 16 bytes are compared whole.
#[derive(Debug, Clone)]
struct Index {
    keys: Vec<u128>,
    /// Whether no ID has a zero byte in its first 16 (a file's ID never
    /// has; a `Revision` built by hand may): then a key of an ID shorter
    /// than 16 bytes is that ID's alone.
    no_zero: bool,
}

impl Index {
    fn key(id: &str) -> u128 {
        let mut bytes = [0u8; 16];
        let n = id.len().min(16);
        bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
        u128::from_be_bytes(bytes)
    }

    /// Whether `id` has a zero byte where its key holds it.
    fn has_zero(id: &str) -> bool {
        id.as_bytes().iter().take(16).any(|&b| b == 0)
    }

    fn new(revisions: &[Revision]) -> Index {
        let mut no_zero = true;
        let keys = revisions
            .iter()
            .map(|r| {
                no_zero &= !Self::has_zero(&r.id);
                Self::key(&r.id)
            })
            .collect();
        Index { keys, no_zero }
    }

    fn find(&self, revisions: &[Revision], id: &str) -> Option<usize> {
        let key = Self::key(id);
        self.find_from(revisions, (key, self.whole(id)), id, self.keys.partition_point(|&k| k < key))
    }

    /// Whether `id`'s key is `id`'s alone: `id` is shorter than 16 bytes
    /// and its key ends with a zero byte that no ID has.
    fn whole(&self, id: &str) -> bool {
        id.len() < 16 && self.no_zero && !Self::has_zero(id)
    }

    /// [`Index::find`] of each of `ids`, in their order, as node numbers
    /// ([`NOT_FOUND`] where there is none: 4 bytes each, not 16). They are
    /// looked up in the order of their keys, so the index is read once from
    /// start to end instead of searched once per ID (a search of a large
    /// index waits for memory at most of its steps), and an ID whose key is
    /// its own is not read again.
    fn find_all<'a>(&self, revisions: &[Revision], ids: impl Iterator<Item = &'a str>) -> Vec<u32> {
        let ids: Vec<&str> = ids.collect();
        // Each key's halves and the ID's place: 24 bytes, not 32 with a
        // `u128` (which is aligned to 16).
        let mut order: Vec<(u64, u64, usize)> = ids
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let key = Self::key(id);
                ((key >> 64) as u64, key as u64, n)
            })
            .collect();
        order.sort_unstable();
        let mut found = vec![NOT_FOUND; ids.len()];
        let mut start = 0;
        for (high, low, n) in order {
            let key = u128::from(high) << 64 | u128::from(low);
            while self.keys.get(start).is_some_and(|&k| k < key) {
                start += 1;
            }
            let node = self.find_from(revisions, (key, self.whole(ids[n])), ids[n], start);
            // Node numbers are the graph's `u32`s.
            found[n] = node.and_then(|node| u32::try_from(node).ok()).unwrap_or(NOT_FOUND);
        }
        found
    }

    /// `id` with its key and [`Index::whole`], at or after `start`, the
    /// first key not below its key.
    fn find_from(&self, revisions: &[Revision], (key, whole): (u128, bool), id: &str, start: usize) -> Option<usize> {
        if whole {
            // Only `id` itself has this key (IDs are unique here), so no
            // revision is looked at.
            return (self.keys.get(start) == Some(&key)).then_some(start);
        }
        (start..self.keys.len()).take_while(|&n| self.keys[n] == key).find(|&n| revisions[n].id == id)
    }
}

/// Sorts by ID, then path ((ID, path) pairs are unique). Revisions come
/// mostly sorted already (files are named by ID), and are large: a sorted
/// list is left alone, and otherwise their order is sorted as numbers and
/// applied in place, each revision moved about once.
fn sort_by_id(revisions: &mut [Revision]) {
    let before = |a: &Revision, b: &Revision| a.id.cmp(&b.id).then_with(|| a.path.cmp(&b.path));
    if revisions.is_sorted_by(|a, b| before(a, b).is_le()) {
        return;
    }
    let mut order: Vec<usize> = (0..revisions.len()).collect();
    order.sort_unstable_by(|&a, &b| before(&revisions[a], &revisions[b]));
    // Position `i` takes what was at `order[i]`: follow each cycle once.
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != usize::MAX {
            let from = std::mem::replace(&mut order[at], usize::MAX);
            if from == start {
                break;
            }
            revisions.swap(at, from);
            at = from;
        }
    }
}

impl RevisionGraph {
    /// Validates `revisions` and builds the graph, or lists every problem.
    pub fn new(revisions: Vec<Revision>) -> Result<Self, GraphError> {
        Self::with_parse_errors(revisions, Vec::new())
    }

    /// Like [`RevisionGraph::new`], reporting `parse_errors` (files that did
    /// not parse) together with the graph's own problems.
    pub fn with_parse_errors(mut revisions: Vec<Revision>, parse_errors: Vec<ParseError>) -> Result<Self, GraphError> {
        let mut problems: Vec<Problem> = parse_errors.into_iter().map(Problem::Parse).collect();
        sort_by_id(&mut revisions);

        // Duplicate IDs: keep the first, report all. In place: no second
        // vector of every revision.
        let mut copies: Vec<(PathBuf, usize)> = Vec::new();
        let mut write = 0;
        for read in 0..revisions.len() {
            if write > 0 && revisions[write - 1].id == revisions[read].id {
                let (kept, revision) = (&revisions[write - 1], &revisions[read]);
                if copies.is_empty() {
                    copies.push((kept.path.clone(), kept.lines.id as usize));
                }
                copies.push((revision.path.clone(), revision.lines.id as usize));
                continue;
            }
            flush_duplicates(&mut copies, write.checked_sub(1).map(|k| &revisions[k]), &mut problems);
            if write != read {
                revisions.swap(write, read);
            }
            write += 1;
        }
        flush_duplicates(&mut copies, write.checked_sub(1).map(|k| &revisions[k]), &mut problems);
        revisions.truncate(write);
        let unique = revisions;
        // Squashes take the place of the revisions they replace (`replaces`).
        let (mut revisions, squash_problems) = crate::squash::fold(unique);
        problems.extend(squash_problems.into_iter().map(Problem::Squash));
        let index = Index::new(&revisions);
        let mut label_problems = Vec::new();
        let labels = Self::labels(&revisions, &index, &mut label_problems);

        let mut graph = DiGraph::with_capacity(revisions.len(), revisions.len() + revisions.len() / 8);
        for _ in &revisions {
            graph.add_node(());
        }
        let mut resolved_depends_on: Vec<(usize, Vec<String>)> = Vec::new();
        let parents = index.find_all(&revisions, revisions.iter().flat_map(|r| r.parents.iter().map(String::as_str)));
        let mut parents = parents.into_iter();
        for (child, r) in revisions.iter().enumerate() {
            for (ids, kind, line) in [
                (r.parents.as_slice(), Edge::Parent, r.lines.parents as usize),
                (r.depends_on(), Edge::DependsOn, HeaderLines::number(r.lines.depends_on)),
            ] {
                // The IDs depends-on resolves to (parents are IDs already).
                let mut resolved: Vec<String> = Vec::new();
                for id in ids {
                    // depends-on may name a branch label: the labelled revision (as in Alembic).
                    let found = match kind {
                        Edge::Parent => parents.next().filter(|&p| p != NOT_FOUND).map(|p| p as usize),
                        Edge::DependsOn => index.find(&revisions, id).or_else(|| labels.get(id).copied()),
                    };
                    match found {
                        Some(parent) => {
                            graph.add_edge(NodeIndex::new(parent), NodeIndex::new(child), kind);
                            let parent_id = &revisions[parent].id;
                            if kind == Edge::DependsOn && !resolved.contains(parent_id) {
                                resolved.push(parent_id.clone());
                            }
                        }
                        None => problems.push(Problem::Missing {
                            id: r.id.clone(),
                            missing: id.clone(),
                            depends_on: kind == Edge::DependsOn,
                            path: r.path.clone(),
                            line,
                        }),
                    }
                }
                if kind == Edge::DependsOn && resolved != *ids {
                    resolved_depends_on.push((child, resolved));
                }
            }
        }
        problems.extend(label_problems);
        // Rows and plans name revisions by ID: labels in depends-on become IDs.
        for (child, ids) in resolved_depends_on {
            revisions[child].links_mut().depends_on = ids;
        }

        let built = RevisionGraph { revisions, graph, index, labels };
        problems.extend(built.cycles());
        if problems.is_empty() {
            Ok(built)
        } else {
            Err(GraphError { problems })
        }
    }

    /// Label → node, reporting labels used twice or equal to an ID.
    fn labels(revisions: &[Revision], index: &Index, problems: &mut Vec<Problem>) -> HashMap<String, usize> {
        let mut labels: HashMap<String, usize> = HashMap::new();
        let mut label_files: HashMap<&str, Vec<(PathBuf, usize)>> = HashMap::new();
        for (node, r) in revisions.iter().enumerate() {
            let line = HeaderLines::number(r.lines.labels);
            for label in r.labels() {
                labels.entry(label.clone()).or_insert(node);
                label_files.entry(label).or_default().push((r.path.clone(), line));
                if index.find(revisions, label).is_some() {
                    problems.push(Problem::LabelIsId { label: label.clone(), path: r.path.clone(), line });
                }
            }
        }
        let mut twice: Vec<_> = label_files.into_iter().filter(|(_, f)| f.len() > 1).collect();
        twice.sort();
        for (label, files) in twice {
            problems.push(Problem::LabelTwice { label: label.to_string(), files });
        }
        labels
    }

    /// One problem per strongly connected component with a cycle, naming a
    /// concrete cycle and every file in the component.
    fn cycles(&self) -> Vec<Problem> {
        if self.order_of(&vec![true; self.len()]).len() == self.len() {
            return Vec::new();
        }
        let mut problems = Vec::new();
        // Scratch space shared by all components and reset after each, so
        // many small cycles cost linear time.
        let mut members = vec![false; self.len()];
        let mut seen_at = vec![usize::MAX; self.len()];
        for component in petgraph::algo::kosaraju_scc(&self.graph) {
            let self_loop = component.len() == 1 && self.graph.contains_edge(component[0], component[0]);
            if component.len() < 2 && !self_loop {
                continue;
            }
            component.iter().for_each(|n| members[n.index()] = true);
            // Walk inside the component until a node repeats: that is a cycle.
            let mut walk = Vec::new();
            let mut node = component.iter().map(|n| n.index()).min().unwrap_or(0);
            while seen_at[node] == usize::MAX {
                seen_at[node] = walk.len();
                walk.push(node);
                node = self.succs(node, Via::All).filter(|&s| members[s]).min().unwrap_or(node);
            }
            let mut path: Vec<String> = walk[seen_at[node]..].iter().map(|&n| self.revisions[n].id.clone()).collect();
            path.push(self.revisions[node].id.clone());
            let mut nodes: Vec<usize> = component.iter().map(|n| n.index()).collect();
            nodes.sort_unstable();
            let files =
                nodes.iter().map(|&n| (self.revisions[n].path.clone(), self.revisions[n].lines.id as usize)).collect();
            problems.push(Problem::Cycle { path, files });
            component.iter().for_each(|n| members[n.index()] = false);
            walk.iter().for_each(|&n| seen_at[n] = usize::MAX);
        }
        problems.sort_by_key(ToString::to_string);
        problems
    }

    /// Number of revisions.
    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    /// Whether there are no revisions at all.
    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// Every revision, sorted by ID.
    pub fn revisions(&self) -> &[Revision] {
        &self.revisions
    }

    /// Whether every revision holds its SQL ([`Revision::has_sql`]): false
    /// for a graph read from headers only ([`crate::load_headers`]).
    pub fn has_all_sql(&self) -> bool {
        self.revisions.iter().all(|r| r.has_sql() && r.replaced().iter().all(Revision::has_sql))
    }

    /// Loads the SQL of every revision read from its header only
    /// ([`Revision::load_sql`]: checked against the checksum read with it).
    pub fn load_all_sql(&mut self) -> Result<(), crate::revision::SqlError> {
        self.revisions.iter_mut().try_for_each(Revision::load_sql)
    }

    /// Loads the SQL of the revision `id` (or of the squash replacing it)
    /// when it was read from its header only.
    pub fn load_sql_of(&mut self, id: &str) -> Result<(), crate::revision::SqlError> {
        match self.holding(id) {
            Some(n) => self.revisions[n].load_sql(),
            None => Ok(()),
        }
    }

    /// A copy of this graph with the SQL of the revisions `ids` (or of the
    /// squash that replaces one of them) loaded, when one of them lacks it;
    /// `None` when they all hold their SQL already.
    pub(crate) fn with_sql_for<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<Option<RevisionGraph>, crate::revision::SqlError> {
        let lacking = |r: &Revision| !r.has_sql() || r.replaced().iter().any(|r| !r.has_sql());
        let mut wanted: Vec<usize> =
            ids.into_iter().filter_map(|id| self.holding(id)).filter(|&n| lacking(&self.revisions[n])).collect();
        if wanted.is_empty() {
            return Ok(None);
        }
        wanted.sort_unstable();
        wanted.dedup();
        let mut graph = self.clone();
        for n in wanted {
            graph.revisions[n].load_sql()?;
        }
        Ok(Some(graph))
    }

    /// The node of the revision `id`, else of the squash whose `replaced`
    /// holds it.
    fn holding(&self, id: &str) -> Option<usize> {
        self.node(id).or_else(|| self.revisions.iter().position(|r| r.replaced().iter().any(|old| old.id == id)))
    }

    /// The revision with exactly this ID.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.node(id).map(|n| &self.revisions[n])
    }

    /// The revision carrying `label`.
    pub fn labelled(&self, label: &str) -> Option<&Revision> {
        self.labels.get(label).map(|&n| &self.revisions[n])
    }

    /// Revisions that are no other revision's parent, sorted by ID.
    pub fn heads(&self) -> Vec<&Revision> {
        self.nodes_where(|n| self.is_head(n))
    }

    /// Revisions without parents, sorted by ID.
    pub fn roots(&self) -> Vec<&Revision> {
        self.nodes_where(|n| self.revisions[n].parents.is_empty())
    }

    /// Revisions with two or more children, sorted by ID.
    pub fn branch_points(&self) -> Vec<&Revision> {
        self.nodes_where(|n| self.children_count(n) >= 2)
    }

    /// Revisions with two or more parents, sorted by ID.
    pub fn merge_points(&self) -> Vec<&Revision> {
        self.nodes_where(|n| self.is_merge(n))
    }

    /// The children of `id` (revisions naming it as a parent), sorted by ID.
    pub fn children(&self, id: &str) -> Vec<&Revision> {
        let Some(node) = self.node(id) else { return Vec::new() };
        let mut children: Vec<usize> = self.succs(node, Via::Parents).collect();
        children.sort_unstable();
        children.into_iter().map(|c| &self.revisions[c]).collect()
    }

    /// All revisions, parents (and dependencies) before children, ties by
    /// smallest ID. `history` shows it reversed.
    pub fn topological(&self) -> Vec<&Revision> {
        self.order_of(&vec![true; self.len()]).into_iter().map(|n| &self.revisions[n]).collect()
    }

    /// `ids` with all their ancestors through parents and depends-on, in
    /// topological order. Unknown IDs are ignored.
    pub fn closure<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> Vec<&Revision> {
        let starts: Vec<usize> = ids.into_iter().filter_map(|id| self.node(id)).collect();
        let set = self.reach(&starts, Incoming, Via::All);
        self.order_of(&set).into_iter().map(|n| &self.revisions[n]).collect()
    }

    /// Strict descendants of `id` through parents and depends-on, in topological order.
    pub fn descendants(&self, id: &str) -> Vec<&Revision> {
        let Some(node) = self.node(id) else { return Vec::new() };
        let mut set = self.reach(&[node], Outgoing, Via::All);
        set[node] = false;
        self.order_of(&set).into_iter().map(|n| &self.revisions[n]).collect()
    }

    fn nodes_where(&self, keep: impl Fn(usize) -> bool) -> Vec<&Revision> {
        (0..self.len()).filter(|&n| keep(n)).map(|n| &self.revisions[n]).collect()
    }

    fn children_count(&self, node: usize) -> usize {
        self.succs(node, Via::Parents).count()
    }

    // ---- crate-private, node-number based API used by targets and plans ----

    pub(crate) fn node(&self, id: &str) -> Option<usize> {
        self.index.find(&self.revisions, id)
    }

    pub(crate) fn label_node(&self, label: &str) -> Option<usize> {
        self.labels.get(label).copied()
    }

    /// The revision with `id`, which must be in the graph (plans only name
    /// revisions of the graph they were made on).
    pub(crate) fn rev_by_id(&self, id: &str) -> &Revision {
        &self.revisions[self.node(id).unwrap_or_else(|| panic!("revision {id} is not in the graph"))]
    }

    pub(crate) fn rev(&self, node: usize) -> &Revision {
        &self.revisions[node]
    }

    /// Whether `node` is no revision's parent: a head of [`RevisionGraph::heads`].
    pub(crate) fn is_head(&self, node: usize) -> bool {
        self.children_count(node) == 0
    }

    /// Whether `node` has two or more parents: one of [`RevisionGraph::merge_points`].
    pub(crate) fn is_merge(&self, node: usize) -> bool {
        self.revisions[node].parents.len() >= 2
    }

    /// The parents of `node` in the order its file declares them, each once.
    pub(crate) fn parent_nodes(&self, node: usize) -> impl Iterator<Item = usize> {
        self.declared(&self.revisions[node].parents, &[])
    }

    /// What `node` depends on without being its child (depends-on, labels
    /// resolved), in declared order, each once.
    pub(crate) fn dependency_nodes(&self, node: usize) -> impl Iterator<Item = usize> {
        let r = &self.revisions[node];
        self.declared(r.depends_on(), &r.parents)
    }

    /// The nodes of `ids` in their order, skipping repeats and IDs in `except`;
    /// linear also for a merge of thousands of parents.
    fn declared(&self, ids: &[String], except: &[String]) -> std::vec::IntoIter<usize> {
        if ids.is_empty() {
            return Vec::new().into_iter();
        }
        let skip: Vec<usize> = except.iter().filter_map(|id| self.node(id)).collect();
        let nodes = ids.iter().filter_map(|id| self.node(id));
        let mut out = Vec::with_capacity(ids.len());
        if ids.len() + skip.len() <= 16 {
            for node in nodes {
                if !out.contains(&node) && !skip.contains(&node) {
                    out.push(node);
                }
            }
        } else {
            let mut seen: std::collections::HashSet<usize> = skip.into_iter().collect();
            out.extend(nodes.filter(|&node| seen.insert(node)));
        }
        out.into_iter()
    }

    /// Node numbers whose ID starts with `prefix`, sorted by ID.
    pub(crate) fn with_prefix(&self, prefix: &str) -> std::ops::Range<usize> {
        let start = self.revisions.partition_point(|r| r.id.as_str() < prefix);
        let len = self.revisions[start..].partition_point(|r| r.id.starts_with(prefix));
        start..start + len
    }

    fn edges(&self, node: usize, dir: Direction, via: Via) -> impl Iterator<Item = usize> + '_ {
        self.graph
            .edges_directed(NodeIndex::new(node), dir)
            .filter(move |e| via == Via::All || *e.weight() == Edge::Parent)
            .map(move |e| if dir == Outgoing { e.target().index() } else { e.source().index() })
    }

    /// Children (and, with [`Via::All`], dependents).
    pub(crate) fn succs(&self, node: usize, via: Via) -> impl Iterator<Item = usize> + '_ {
        self.edges(node, Outgoing, via)
    }

    /// Parents (and, with [`Via::All`], dependencies).
    pub(crate) fn preds(&self, node: usize, via: Via) -> impl Iterator<Item = usize> + '_ {
        self.edges(node, Incoming, via)
    }

    /// The nodes reachable from `starts` (included) following `dir`.
    pub(crate) fn reach(&self, starts: &[usize], dir: Direction, via: Via) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<usize> = Vec::with_capacity(starts.len());
        for &s in starts {
            if !seen[s] {
                seen[s] = true;
                stack.push(s);
            }
        }
        while let Some(node) = stack.pop() {
            for next in self.edges(node, dir, via) {
                if !seen[next] {
                    seen[next] = true;
                    stack.push(next);
                }
            }
        }
        seen
    }

    /// The members of `set` in apply order: Kahn's algorithm restricted to
    /// the set (predecessors outside it count as already there), taking the
    /// smallest ID among the revisions ready at the same time. Members on a
    /// cycle are left out, which is how cycles are detected.
    pub(crate) fn order_of(&self, set: &[bool]) -> Vec<usize> {
        let mut waiting = vec![0u32; self.len()];
        let mut ready = BinaryHeap::new();
        for node in (0..self.len()).filter(|&n| set[n]) {
            waiting[node] = self.preds(node, Via::All).filter(|&p| set[p]).count() as u32;
            if waiting[node] == 0 {
                ready.push(Reverse(node));
            }
        }
        let mut order = Vec::new();
        while let Some(Reverse(node)) = ready.pop() {
            order.push(node);
            for next in self.succs(node, Via::All) {
                if set[next] {
                    waiting[next] -= 1;
                    if waiting[next] == 0 {
                        ready.push(Reverse(next));
                    }
                }
            }
        }
        order
    }
}

#[cfg(test)]
pub(crate) mod tests;
