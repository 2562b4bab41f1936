//! Pictures of the revision graph: a `git log --graph` style lane drawing for
//! `migraph history --graph`, and Graphviz DOT / Mermaid for `migraph graph`.
//! Pure functions over plain data: the caller picks rows and text.

use std::collections::{BinaryHeap, HashMap, HashSet};

/// One revision as the drawings need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawNode {
    pub id: String,
    /// Parent IDs in the order the file declares them.
    pub parents: Vec<String>,
    /// IDs this revision depends on without being their child (drawn dashed in DOT/Mermaid; ignored by the lane drawing).
    pub depends_on: Vec<String>,
    pub message: String,
    pub labels: Vec<String>,
    /// Whether the database has it applied; None when no database was consulted.
    pub applied: Option<bool>,
}

impl DrawNode {
    /// The drawing data of `revision`, with its applied state if known.
    pub fn of(revision: &crate::revision::Revision, applied: Option<bool>) -> DrawNode {
        DrawNode {
            id: revision.id.clone(),
            parents: revision.parents.clone(),
            depends_on: revision.depends_on.clone(),
            message: revision.message.clone(),
            labels: revision.labels.clone(),
            applied,
        }
    }
}

/// Draws `nodes`, given newest first (every node before all of its parents that are in the list),
/// as lanes like `git log --graph`: one line starting with its lanes and a `*` per node, followed by
/// a space and `text(node)`, plus connector lines (`|`, `/`, `\`, `_`) where lanes fork, merge or shift.
/// [`graph_order`] puts nodes in the order that draws best (each branch in one piece).
///
/// Lane `k` is drawn in character column `2k`. A merge of `n >= 3` parents is drawn like git's
/// octopus (`*-.`, `*---.`). A node found in no lane (a head) opens a new lane on the right.
/// Parents absent from `nodes` (a history cut by a range) simply end their lane; so do parents
/// listed before their child (bad input), which are ignored. Further lines of a multi-line
/// `text` are printed beside the following connector lines. Runs in O(nodes × open lanes)
/// (times parents per node), without recursion.
///
/// Returns the lines joined with '\n' and a trailing '\n' (empty string for no nodes).
pub fn log_graph(nodes: &[DrawNode], text: impl Fn(&DrawNode) -> String) -> String {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        first.entry(node.id.as_str()).or_insert(i);
    }
    // Each open lane waits for the node (index into `nodes`) it leads to; never two equal lanes.
    let mut lanes: Vec<usize> = Vec::new();
    let mut parents: Vec<usize> = Vec::new();
    let mut out = String::new();
    for (i, node) in nodes.iter().enumerate() {
        parents.clear();
        for p in &node.parents {
            match first.get(p.as_str()) {
                Some(&j) if j > i && !parents.contains(&j) => parents.push(j),
                _ => {}
            }
        }
        let col = match lanes.iter().position(|&l| l == i) {
            Some(col) => col,
            None => {
                lanes.push(i);
                lanes.len() - 1
            }
        };
        let step = Step::new(&lanes, col, &parents);
        step.write(&mut out, &text(node));
        lanes = step.lanes;
    }
    out
}

/// The order in which [`log_graph`] draws `nodes` best, as indices into `nodes`: still newest first
/// (every node before its parents and the revisions it depends on), but each branch is kept together,
/// like `git log --graph` (`--topo-order`): after a node come its parents as soon as all their
/// children are drawn, the last-declared parent first (the merged branch right under its merge, the
/// main line after it), depth first. The deepest head (longest chain of parents and dependencies
/// below it) starts, then the others as the drawing needs them, deepest first (ties in the order
/// `nodes` gives them). Nodes that never become ready (cycles in bad input) follow in their given order.
///
/// `nodes` may be in any order; links to IDs absent from `nodes` are ignored; a repeated ID counts
/// as the same revision for its children (its first occurrence). Iterative, O(nodes + links).
pub fn graph_order(nodes: &[DrawNode]) -> Vec<usize> {
    let mut first: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        first.entry(node.id.as_str()).or_insert(i);
    }
    // Links from each node to its distinct parents and dependencies (in `nodes`, not itself), in
    // the order they are pushed: dependencies first, then parents as declared, so the last
    // parent is on top of the stack.
    let mut seen_by = vec![usize::MAX; nodes.len()];
    let mut dependencies: Vec<usize> = Vec::with_capacity(nodes.len());
    let links: Vec<Vec<usize>> = nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            seen_by[i] = i;
            let mut pick = |ids: &[String]| -> Vec<usize> {
                let mut out = Vec::new();
                for id in ids {
                    if let Some(&j) = first.get(id.as_str()) {
                        if seen_by[j] != i {
                            seen_by[j] = i;
                            out.push(j);
                        }
                    }
                }
                out
            };
            let parents = pick(&node.parents);
            let mut out = pick(&node.depends_on);
            dependencies.push(out.len());
            out.extend(parents);
            out
        })
        .collect();
    // Children (and dependents) not yet drawn.
    let mut waiting = vec![0usize; nodes.len()];
    for out in &links {
        for &j in out {
            waiting[j] += 1;
        }
    }
    // Generations: the longest chain of links below each node (Kahn's order from the heads, reversed).
    let mut kahn: Vec<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    let mut left = waiting.clone();
    let mut k = 0;
    while let Some(&i) = kahn.get(k) {
        k += 1;
        for &j in &links[i] {
            left[j] -= 1;
            if left[j] == 0 {
                kahn.push(j);
            }
        }
    }
    let mut depth = vec![0usize; nodes.len()];
    for &i in kahn.iter().rev() {
        depth[i] = links[i].iter().map(|&j| depth[j] + 1).max().unwrap_or(0);
    }
    // Heads of the lane drawing (no node names them as a parent) wait in `pool` until the
    // depth-first walk runs dry, then the deepest goes first: when the walk waits for another
    // head's revisions, the head that joins highest up is usually the deepest one.
    let mut child_lane = vec![false; nodes.len()];
    for (out, &deps) in links.iter().zip(&dependencies) {
        for &j in &out[deps..] {
            child_lane[j] = true;
        }
    }
    let rank = |i: usize| (depth[i], std::cmp::Reverse(i));
    let mut pool: BinaryHeap<(usize, std::cmp::Reverse<usize>)> =
        (0..nodes.len()).filter(|&i| waiting[i] == 0).map(rank).collect();
    let mut order = Vec::with_capacity(nodes.len());
    let mut stack: Vec<usize> = Vec::new();
    while let Some(i) = stack.pop().or_else(|| pool.pop().map(|(_, std::cmp::Reverse(i))| i)) {
        order.push(i);
        for &j in &links[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                if child_lane[j] {
                    stack.push(j);
                } else {
                    pool.push(rank(j));
                }
            }
        }
    }
    let mut done = vec![false; nodes.len()];
    for &i in &order {
        done[i] = true;
    }
    order.extend((0..nodes.len()).filter(|&i| !done[i]));
    order
}

/// The lines drawn for one node: its own row, the connector rows below it, and the lanes after it.
struct Step {
    node_row: Vec<u8>,
    rows: Vec<Vec<u8>>,
    lanes: Vec<usize>,
}

impl Step {
    /// `lanes[col]` is the node; `parents` are its distinct, drawable parents.
    fn new(lanes: &[usize], col: usize, parents: &[usize]) -> Step {
        // Edges as (current character column, target character column).
        let mut edges: Vec<(usize, usize)> = (0..col).map(|k| (2 * k, 2 * k)).collect();
        // Parents that need a lane of their own, opened where the node is (git's order).
        let mut fan: Vec<usize> = Vec::new();
        for &p in parents {
            match lanes.iter().position(|&l| l == p) {
                Some(k) if k < col => edges.push((2 * col, 2 * k)),
                _ => fan.push(p),
            }
        }
        // An octopus row `*---.` pushes the lanes on its right this far (in lanes).
        let shift = fan.len().saturating_sub(2);
        for q in 0..fan.len() {
            edges.push((2 * col + 2 * q.saturating_sub(1), 2 * (col + q)));
        }
        let mut node_row = Vec::new();
        for k in 0..col {
            put(&mut node_row, 2 * k, b'|');
        }
        put(&mut node_row, 2 * col, b'*');
        for x in 2 * col + 1..=2 * col + 2 * shift {
            put(&mut node_row, x, if x == 2 * col + 2 * shift { b'.' } else { b'-' });
        }
        let mut new_lanes: Vec<usize> = lanes.iter().take(col).copied().collect();
        new_lanes.extend_from_slice(&fan);
        for (k, &lane) in lanes.iter().enumerate().skip(col + 1) {
            let start = 2 * (k + shift);
            put(&mut node_row, start, b'|');
            let target = match fan.iter().position(|&p| p == lane) {
                Some(q) => col + q,
                None => {
                    new_lanes.push(lane);
                    new_lanes.len() - 1
                }
            };
            edges.push((start, 2 * target));
        }
        // First edges moving left (collapsing lanes, long moves with `_`), then edges moving right.
        let mut rows = Vec::new();
        for leftwards in [true, false] {
            while edges.iter().any(|&(x, t)| if leftwards { t < x } else { t > x }) {
                let mut row = Vec::new();
                for edge in edges.iter_mut() {
                    let (x, t) = *edge;
                    if leftwards && t < x {
                        put(&mut row, x - 1, b'/');
                        if t + 2 < x {
                            let mut u = x - 3;
                            while u > t + 1 {
                                put_weak(&mut row, u, b'_');
                                u -= 2;
                            }
                            edge.0 = t + 2;
                        } else {
                            edge.0 = t;
                        }
                    } else if !leftwards && t > x {
                        put(&mut row, x + 1, b'\\');
                        edge.0 = x + 2;
                    } else {
                        put(&mut row, x, b'|');
                    }
                }
                rows.push(row);
            }
        }
        Step { node_row, rows, lanes: new_lanes }
    }

    fn write(&self, out: &mut String, text: &str) {
        let mut after = Vec::new();
        for k in 0..self.lanes.len() {
            put(&mut after, 2 * k, b'|');
        }
        let width = self.rows.iter().map(Vec::len).chain([self.node_row.len(), after.len()]).max().unwrap_or_default();
        let mut lines = text.lines();
        push_line(out, &self.node_row, width, lines.next().unwrap_or(""));
        let mut rows = self.rows.iter();
        for line in lines {
            push_line(out, rows.next().unwrap_or(&after), width, line);
        }
        for row in rows {
            push_line(out, row, 0, "");
        }
    }
}

/// Sets `row[x]`, growing the row with spaces.
fn put(row: &mut Vec<u8>, x: usize, c: u8) {
    if row.len() <= x {
        row.resize(x + 1, b' ');
    }
    row[x] = c;
}

/// Sets `row[x]` only if nothing is drawn there yet.
fn put_weak(row: &mut Vec<u8>, x: usize, c: u8) {
    if matches!(row.get(x), None | Some(b' ')) {
        put(row, x, c);
    }
}

fn push_line(out: &mut String, graph: &[u8], width: usize, text: &str) {
    out.extend(graph.iter().map(|&b| b as char));
    if !text.is_empty() {
        out.push_str(&" ".repeat(width.saturating_sub(graph.len()) + 1));
        out.push_str(text);
    }
    out.push('\n');
}

/// Graphviz DOT: a `digraph` drawn bottom-up (`rankdir=BT`: roots at the bottom, heads on top),
/// one box per revision labelled with its short ID (12 characters), its message and its labels
/// in brackets; edges parent -> child (solid) and dependency -> dependent (`style=dashed`).
///
/// Convention: a head (no child among `nodes`) has a double outline (`peripheries=2`); a merge
/// point (two or more parents) is a hexagon; an applied revision (`applied == Some(true)`) is
/// filled light green; a pending one (`Some(false)`) has a dashed outline; `None` leaves the box
/// plain. When any node says whether it is applied, a legend line spelling this out is the
/// graph's label (at the top). Edges to revisions absent from `nodes` are left out.
pub fn dot(nodes: &[DrawNode]) -> String {
    let graph = Facts::new(nodes);
    let mut out = String::from("digraph migraph {\n    rankdir=BT;\n    node [shape=box, fontname=\"monospace\"];\n");
    if nodes.iter().any(|n| n.applied.is_some()) {
        out.push_str(
            "    label=\"green: applied, dashed: pending, double outline: head, hexagon: merge point\";\n    \
             labelloc=t;\n    fontname=\"monospace\";\n",
        );
    }
    for node in nodes {
        let label = label_lines(node).iter().map(|l| dot_escape(l)).collect::<Vec<_>>().join("\\n");
        let mut attrs = vec![format!("label=\"{label}\"")];
        if graph.is_merge(node) {
            attrs.push("shape=hexagon".into());
        }
        if graph.is_head(node) {
            attrs.push("peripheries=2".into());
        }
        match node.applied {
            Some(true) => attrs.push("style=filled, fillcolor=\"#c6efce\"".into()),
            Some(false) => attrs.push("style=dashed".into()),
            None => {}
        }
        out.push_str(&format!("    \"{}\" [{}];\n", dot_escape(&node.id), attrs.join(", ")));
    }
    for (from, to, dashed) in graph.edges(nodes) {
        let style = if dashed { " [style=dashed]" } else { "" };
        out.push_str(&format!("    \"{}\" -> \"{}\"{style};\n", dot_escape(from), dot_escape(to)));
    }
    out.push_str("}\n");
    out
}

/// Mermaid `flowchart BT` with the same information as [`dot`]: node `r_<id>` (so IDs such as
/// `end` or `graph` are no keywords), labelled with short ID, message and labels; `-->` from
/// parent to child, `-.->` from dependency to dependent. Merge points are hexagons (`{{...}}`)
/// with class `merge`; heads have class `head` (thick outline); applied revisions class
/// `applied` (filled), pending ones class `pending` (dashed outline).
pub fn mermaid(nodes: &[DrawNode]) -> String {
    let graph = Facts::new(nodes);
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        ids.entry(&node.id).or_insert_with(|| {
            let safe = node.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if safe && !node.id.is_empty() {
                format!("r_{}", node.id)
            } else {
                format!("n{i}")
            }
        });
    }
    let id = |s: &str| ids.get(s).cloned().unwrap_or_default();
    let mut out = String::from("flowchart BT\n");
    let (mut heads, mut merges, mut applied, mut pending) = (vec![], vec![], vec![], vec![]);
    for node in nodes {
        let mid = id(&node.id);
        let label = label_lines(node).iter().map(|l| mermaid_escape(l)).collect::<Vec<_>>().join("<br>");
        if graph.is_merge(node) {
            out.push_str(&format!("    {mid}{{{{\"{label}\"}}}}\n"));
            merges.push(mid.clone());
        } else {
            out.push_str(&format!("    {mid}[\"{label}\"]\n"));
        }
        if graph.is_head(node) {
            heads.push(mid.clone());
        }
        match node.applied {
            Some(true) => applied.push(mid),
            Some(false) => pending.push(mid),
            None => {}
        }
    }
    for (from, to, dashed) in graph.edges(nodes) {
        out.push_str(&format!("    {} {} {}\n", id(from), if dashed { "-.->" } else { "-->" }, id(to)));
    }
    out.push_str("    classDef head stroke-width:3px\n");
    out.push_str("    classDef merge stroke:#7b1fa2\n");
    out.push_str("    classDef applied fill:#c6efce\n");
    out.push_str("    classDef pending stroke-dasharray:5 5\n");
    for (class, members) in [("head", heads), ("merge", merges), ("applied", applied), ("pending", pending)] {
        if !members.is_empty() {
            out.push_str(&format!("    class {} {class}\n", members.join(",")));
        }
    }
    out
}

/// What DOT and Mermaid need to know about the graph as a whole.
struct Facts<'a> {
    present: HashSet<&'a str>,
    parents_of_someone: HashSet<&'a str>,
}

impl<'a> Facts<'a> {
    fn new(nodes: &'a [DrawNode]) -> Self {
        let present = nodes.iter().map(|n| n.id.as_str()).collect();
        let parents_of_someone = nodes.iter().flat_map(|n| n.parents.iter().map(String::as_str)).collect();
        Facts { present, parents_of_someone }
    }

    fn is_head(&self, node: &DrawNode) -> bool {
        !self.parents_of_someone.contains(node.id.as_str())
    }

    fn is_merge(&self, node: &DrawNode) -> bool {
        distinct(&node.parents).len() >= 2
    }

    /// (from, to, dashed) for every edge between two present revisions, each once.
    fn edges(&self, nodes: &'a [DrawNode]) -> Vec<(&'a str, &'a str, bool)> {
        let mut edges = Vec::new();
        for node in nodes {
            let parents = distinct(&node.parents);
            for &p in &parents {
                if self.present.contains(p) {
                    edges.push((p, node.id.as_str(), false));
                }
            }
            for d in distinct(&node.depends_on) {
                if self.present.contains(d) && d != node.id && !parents.contains(&d) {
                    edges.push((d, node.id.as_str(), true));
                }
            }
        }
        edges
    }
}

fn distinct(ids: &[String]) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::with_capacity(ids.len());
    let mut seen = HashSet::new();
    for id in ids {
        if seen.insert(id.as_str()) {
            out.push(id);
        }
    }
    out
}

/// Short ID, message (if any), labels in brackets (if any): unescaped label lines.
fn label_lines(node: &DrawNode) -> Vec<String> {
    let short = node.id.char_indices().nth(12).map_or(node.id.as_str(), |(i, _)| &node.id[..i]);
    let mut lines = vec![short.to_string()];
    if !node.message.is_empty() {
        lines.push(node.message.clone());
    }
    if !node.labels.is_empty() {
        lines.push(format!("[{}]", node.labels.join(", ")));
    }
    lines
}

/// Escapes text for a DOT double-quoted string; line breaks become `\n` (centred lines).
fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Mermaid quoted label with entity codes; line breaks become `<br>`.
fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '`' => out.push_str("#96;"),
            '\n' => out.push_str("<br>"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\r' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str, parents: &[&str], message: &str) -> DrawNode {
        DrawNode {
            id: id.into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            depends_on: vec![],
            message: message.into(),
            labels: vec![],
            applied: None,
        }
    }

    fn draw(nodes: &[DrawNode]) -> String {
        log_graph(nodes, |n| format!("{} {}", n.id, n.message).trim_end().to_string())
    }

    fn fork_merge() -> Vec<DrawNode> {
        vec![
            node("m", &["a", "b"], "merge"),
            node("b", &["r"], "feature b"),
            node("a", &["r"], "feature a"),
            node("r", &[], "root"),
        ]
    }

    #[test]
    fn empty_input() {
        assert_eq!(draw(&[]), "");
        assert_eq!(dot(&[]), "digraph migraph {\n    rankdir=BT;\n    node [shape=box, fontname=\"monospace\"];\n}\n");
        assert!(mermaid(&[]).starts_with("flowchart BT\n    classDef head"));
    }

    #[test]
    fn linear_chain() {
        let nodes = [node("c", &["b"], "third"), node("b", &["a"], "second"), node("a", &[], "first")];
        assert_eq!(draw(&nodes), "* c third\n* b second\n* a first\n");
    }

    #[test]
    fn fork_and_merge() {
        let expected = "\
*   m merge
|\\
| * b feature b
* | a feature a
|/
* r root
";
        assert_eq!(draw(&fork_merge()), expected);
        let mut swapped = fork_merge();
        swapped.swap(1, 2);
        let expected = "\
*   m merge
|\\
* | a feature a
| * b feature b
|/
* r root
";
        assert_eq!(draw(&swapped), expected);
    }

    #[test]
    fn two_independent_roots() {
        let nodes = [node("a2", &["a1"], ""), node("b2", &["b1"], ""), node("a1", &[], ""), node("b1", &[], "")];
        let expected = "\
* a2
| * b2
* | a1
 /
* b1
";
        assert_eq!(draw(&nodes), expected);
    }

    #[test]
    fn octopus_merge_of_three() {
        let nodes = [
            node("m", &["a", "b", "c"], "octopus"),
            node("c", &["r"], "c"),
            node("b", &["r"], "b"),
            node("a", &["r"], "a"),
            node("r", &[], "root"),
        ];
        let expected = "\
*-.   m octopus
|\\ \\
| | * c c
| * | b b
| |/
* | a a
|/
* r root
";
        assert_eq!(draw(&nodes), expected);
    }

    #[test]
    fn octopus_beside_other_lanes() {
        let nodes = [
            node("h", &["r"], ""),
            node("m", &["a", "b", "c", "d"], "octopus"),
            node("d", &["r"], ""),
            node("c", &["r"], ""),
            node("b", &["r"], ""),
            node("a", &["r"], ""),
            node("r", &[], ""),
        ];
        let expected = "\
* h
| *---.   m octopus
| |\\ \\ \\
| | | | * d
| |_|_|/
|/| | |
| | | * c
| |_|/
|/| |
| | * b
| |/
|/|
| * a
|/
* r
";
        assert_eq!(draw(&nodes), expected);
    }

    #[test]
    fn branch_left_open_two_heads() {
        let nodes = [
            node("h2", &["x"], "head two"),
            node("h1", &["r"], "head one"),
            node("x", &["r"], "on the branch"),
            node("r", &[], "root"),
        ];
        let expected = "\
* h2 head two
| * h1 head one
* | x on the branch
|/
* r root
";
        assert_eq!(draw(&nodes), expected);
    }

    #[test]
    fn merge_into_lanes_on_either_side() {
        let nodes = [node("h", &["x"], ""), node("a", &["x", "b"], "merge"), node("b", &["x"], ""), node("x", &[], "")];
        let expected = "\
* h
| * a merge
|/|
| * b
|/
* x
";
        assert_eq!(draw(&nodes), expected);
        let nodes = [node("a", &["x", "b"], "merge"), node("h", &["b"], ""), node("b", &["x"], ""), node("x", &[], "")];
        let expected = "\
*   a merge
|\\
| | * h
| |/
| * b
|/
* x
";
        assert_eq!(draw(&nodes), expected);
    }

    #[test]
    fn history_cut_so_a_parent_is_missing() {
        let nodes = [
            node("m", &["a", "b"], "merge"),
            node("b", &["gone"], "parent outside the range"),
            node("a", &["r"], ""),
            node("r", &["gone_too"], ""),
        ];
        let expected = "\
*   m merge
|\\
| * b parent outside the range
* a
* r
";
        assert_eq!(draw(&nodes), expected);
    }

    #[test]
    fn multi_line_text_follows_the_lanes() {
        let nodes = [node("m", &["a", "b"], "merge\nsecond\nthird"), node("b", &["a"], ""), node("a", &[], "")];
        let expected = "\
*   m merge
|\\  second
| | third
| * b
|/
* a
";
        assert_eq!(draw(&nodes), expected);
    }

    #[test]
    fn odd_input_draws_without_panicking() {
        // A parent twice, a self-parent, a parent listed before its child, a duplicate id.
        let nodes = [
            node("a", &["b", "b", "a"], ""),
            node("b", &["a", "zz"], ""),
            node("a", &["b"], "again"),
            node("c", &["b", "c"], ""),
        ];
        assert_eq!(draw(&nodes), "* a\n* b\n* a again\n* c\n");
        // Random DAGs in random order: never a panic, always one `*` line per node.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut rand = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for _ in 0..200 {
            let len = 1 + rand(30);
            let nodes: Vec<DrawNode> = (0..len)
                .map(|i| {
                    let parents: Vec<String> = (0..rand(4)).map(|_| format!("n{}", rand(len + 3))).collect();
                    let parents: Vec<&str> = parents.iter().map(String::as_str).collect();
                    node(&format!("n{i}"), &parents, "")
                })
                .collect();
            let drawn = draw(&nodes);
            assert_eq!(drawn.lines().filter(|l| l.contains('*')).count(), len, "{drawn}");
            dot(&nodes);
            mermaid(&nodes);
        }
    }

    fn ordered(nodes: &[DrawNode]) -> Vec<DrawNode> {
        graph_order(nodes).into_iter().map(|i| nodes[i].clone()).collect()
    }

    fn ids(nodes: &[DrawNode]) -> Vec<&str> {
        nodes.iter().map(|n| n.id.as_str()).collect()
    }

    #[test]
    fn graph_order_keeps_each_branch_together() {
        // Newest first by creation, the two branches interleave.
        let nodes = [
            node("m", &["a2", "b2"], "merge"),
            node("a2", &["a1"], ""),
            node("b2", &["b1"], ""),
            node("a1", &["r"], ""),
            node("b1", &["r"], ""),
            node("r", &[], ""),
        ];
        assert_eq!(
            draw(&nodes),
            "*   m merge\n|\\\n* | a2\n| * b2\n* | a1\n| * b1\n|/\n* r\n",
            "the plain order crosses the branches"
        );
        let sorted = ordered(&nodes);
        assert_eq!(ids(&sorted), ["m", "b2", "b1", "a2", "a1", "r"], "the merged branch right under its merge");
        assert_eq!(draw(&sorted), "*   m merge\n|\\\n| * b2\n| * b1\n* | a2\n* | a1\n|/\n* r\n");
    }

    #[test]
    fn graph_order_starts_with_the_deepest_head_and_draws_other_heads_where_they_join() {
        // Main line r-x1-x2-x3-x4-x5 (head x5); branch p (from x3) and q (from x1), both open.
        let nodes = [
            node("q2", &["q1"], "q head"),
            node("p1", &["x3"], "p head"),
            node("x5", &["x4"], "main head"),
            node("x4", &["x3"], ""),
            node("q1", &["x1"], ""),
            node("x3", &["x2"], ""),
            node("x2", &["x1"], ""),
            node("x1", &["r"], ""),
            node("r", &[], ""),
        ];
        let expected = "\
* x5 main head
* x4
| * p1 p head
|/
* x3
* x2
| * q2 q head
| * q1
|/
* x1
* r
";
        assert_eq!(draw(&ordered(&nodes)), expected);
    }

    #[test]
    fn graph_order_puts_dependents_first_and_survives_bad_input() {
        // `b` depends on `a2` without descending from it: `b` must come before `a2`.
        let nodes = [
            DrawNode { depends_on: vec!["a2".into()], ..node("b", &["r"], "") },
            node("a2", &["a1"], ""),
            node("a1", &["r"], ""),
            node("r", &[], ""),
        ];
        let sorted = ids(&ordered(&nodes)).join(" ");
        assert!(sorted.find('b') < sorted.find("a2"), "{sorted}");
        // Cycles, self-links, repeated IDs and parents listed first: every index exactly once.
        let nodes = [
            node("a", &["b", "b", "a"], ""),
            node("b", &["a", "zz"], ""),
            node("a", &["b"], "again"),
            node("c", &["b", "c"], ""),
            DrawNode { depends_on: vec!["c".into(), "c".into(), "d".into()], ..node("d", &["c"], "") },
        ];
        let mut order = graph_order(&nodes);
        order.sort_unstable();
        assert_eq!(order, [0, 1, 2, 3, 4]);
        assert!(graph_order(&[]).is_empty());
        // Random DAGs given in random order: a permutation, every node before its parents.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut rand = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n.max(1) as u64) as usize
        };
        for _ in 0..300 {
            let len = 1 + rand(40);
            let mut nodes: Vec<DrawNode> = (0..len)
                .map(|i| {
                    let links: Vec<String> = (0..rand(4)).filter(|_| i > 0).map(|_| format!("n{}", rand(i))).collect();
                    let links: Vec<&str> = links.iter().map(String::as_str).collect();
                    let (parents, deps) = links.split_at(links.len().min(2));
                    DrawNode {
                        depends_on: deps.iter().map(|d| d.to_string()).collect(),
                        ..node(&format!("n{i}"), parents, "")
                    }
                })
                .collect();
            for i in (1..nodes.len()).rev() {
                nodes.swap(i, rand(i + 1));
            }
            let order = graph_order(&nodes);
            let mut seen = vec![false; len];
            let position: HashMap<&str, usize> =
                order.iter().enumerate().map(|(k, &i)| (nodes[i].id.as_str(), k)).collect();
            for (k, &i) in order.iter().enumerate() {
                assert!(!std::mem::replace(&mut seen[i], true));
                for p in nodes[i].parents.iter().chain(&nodes[i].depends_on) {
                    assert!(position[p.as_str()] > k, "{} before its parent {p}", nodes[i].id);
                }
            }
            let sorted = ordered(&nodes);
            assert_eq!(draw(&sorted).lines().filter(|l| l.contains('*')).count(), len);
        }
    }

    #[test]
    fn hundred_thousand_nodes_with_side_branches() {
        let mut nodes = Vec::new(); // oldest first, reversed below
        let mut prev: Vec<String> = vec![];
        let mut i = 0;
        while nodes.len() < 100_000 {
            let id = format!("c{i}");
            if i % 50 == 49 && nodes.len() + 4 <= 100_000 {
                let side: Vec<String> = (0..3).map(|k| format!("s{i}_{k}")).collect();
                nodes.push(DrawNode { id: side[0].clone(), parents: prev.clone(), ..node("", &[], "side") });
                nodes.push(node(&side[1], &[&side[0]], "side"));
                nodes.push(node(&side[2], &[&side[1]], "side"));
                let parents = [prev.first().map_or("", String::as_str), side[2].as_str()];
                nodes.push(node(&id, &parents, "merge"));
            } else {
                nodes.push(DrawNode { id: id.clone(), parents: prev.clone(), ..node("", &[], "") });
            }
            prev = vec![id];
            i += 1;
        }
        nodes.reverse();
        let drawn = draw(&nodes);
        assert_eq!(drawn.lines().filter(|l| l.contains('*')).count(), 100_000);
        assert_eq!(drawn.lines().filter(|l| *l == "|\\").count(), 100_000 / 53);
        assert_eq!(drawn.lines().filter(|l| *l == "|/").count(), 100_000 / 53);
    }

    #[test]
    fn dot_escaping_and_marks() {
        let nodes = [
            DrawNode {
                labels: vec!["billing".into(), "v\"2\"".into()],
                applied: Some(false),
                depends_on: vec!["graph".into(), "0123456789abcdef".into(), "absent".into()],
                ..node("merge_point", &["graph", "0123456789abcdef"], "say \"hi\"\\ now\r\nsecond line")
            },
            DrawNode { applied: Some(true), ..node("graph", &["0123456789abcdef"], "keyword id") },
            DrawNode { applied: Some(true), ..node("0123456789abcdef", &[], "") },
            DrawNode { depends_on: vec!["graph".into()], ..node("side", &["missing"], "cut") },
        ];
        let expected = r##"digraph migraph {
    rankdir=BT;
    node [shape=box, fontname="monospace"];
    label="green: applied, dashed: pending, double outline: head, hexagon: merge point";
    labelloc=t;
    fontname="monospace";
    "merge_point" [label="merge_point\nsay \"hi\"\\ now\nsecond line\n[billing, v\"2\"]", shape=hexagon, peripheries=2, style=dashed];
    "graph" [label="graph\nkeyword id", style=filled, fillcolor="#c6efce"];
    "0123456789abcdef" [label="0123456789ab", style=filled, fillcolor="#c6efce"];
    "side" [label="side\ncut", peripheries=2];
    "graph" -> "merge_point";
    "0123456789abcdef" -> "merge_point";
    "0123456789abcdef" -> "graph";
    "graph" -> "side" [style=dashed];
}
"##;
        assert_eq!(dot(&nodes), expected);
    }

    #[test]
    fn mermaid_keyword_ids_and_escaping() {
        let nodes = [
            DrawNode { applied: Some(false), ..node("end", &["graph", "subgraph"], "merge \"x\" #1 <b>&`") },
            DrawNode { applied: Some(true), depends_on: vec!["subgraph".into()], ..node("graph", &["style"], "a\nb") },
            DrawNode { applied: Some(true), labels: vec!["l1".into()], ..node("subgraph", &["style"], "") },
            DrawNode { applied: Some(true), ..node("style", &[], "root") },
        ];
        let expected = r#"flowchart BT
    r_end{{"end<br>merge #quot;x#quot; #35;1 #lt;b#gt;#amp;#96;"}}
    r_graph["graph<br>a<br>b"]
    r_subgraph["subgraph<br>[l1]"]
    r_style["style<br>root"]
    r_graph --> r_end
    r_subgraph --> r_end
    r_style --> r_graph
    r_subgraph -.-> r_graph
    r_style --> r_subgraph
    classDef head stroke-width:3px
    classDef merge stroke:#7b1fa2
    classDef applied fill:#c6efce
    classDef pending stroke-dasharray:5 5
    class r_end head
    class r_end merge
    class r_graph,r_subgraph,r_style applied
    class r_end pending
"#;
        assert_eq!(mermaid(&nodes), expected);
    }
}
