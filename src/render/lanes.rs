//! The lane layout of `history --graph`, like `git log --graph`.

use super::Cut;
use crate::graph::RevisionGraph;
use crate::revision::Revision;

/// Draws `revisions` of `graph`, given newest first (every revision before all of its parents that
/// are in the list), as lanes like `git log --graph`: one line starting with its lanes and a `*` per
/// revision, followed by a space and `text(revision)`, plus connector lines (`|`, `/`, `\`, `_`)
/// where lanes fork, merge or shift. [`graph_order`](super::graph_order) puts a cut of the graph
/// in the order that draws best (each branch in one piece).
///
/// The lanes follow the graph's parent edges, in the order each file declares them. Lane `k` is
/// drawn in character column `2k`. A merge of `n >= 3` parents is drawn like git's octopus (`*-.`,
/// `*---.`). A revision found in no lane (a head of the cut) opens a new lane on the right.
/// Parents absent from `revisions` (a history cut by a range) simply end their lane; so do parents
/// listed before their child, which are ignored. Further lines of a multi-line `text` are printed
/// beside the following connector lines. Runs in O(graph + revisions × open lanes) (times parents
/// per revision), without recursion.
///
/// Returns the lines joined with '\n' and a trailing '\n' (empty string for no revisions).
pub fn log_graph(graph: &RevisionGraph, revisions: &[&Revision], text: impl Fn(&Revision) -> String) -> String {
    let cut = Cut::new(graph, revisions);
    // Each open lane waits for the revision (index into `revisions`) it leads to; never two equal lanes.
    let mut lanes: Vec<usize> = Vec::new();
    let mut parents: Vec<usize> = Vec::new();
    let mut out = String::new();
    for (i, (revision, node)) in revisions.iter().zip(&cut.nodes).enumerate() {
        parents.clear();
        let drawn = node.iter().flat_map(|&n| graph.parent_nodes(n)).filter_map(|p| cut.place(p));
        parents.extend(drawn.filter(|&j| j > i));
        let col = match lanes.iter().position(|&l| l == i) {
            Some(col) => col,
            None => {
                lanes.push(i);
                lanes.len() - 1
            }
        };
        let step = Step::new(&lanes, col, &parents);
        step.write(&mut out, &text(revision));
        lanes = step.lanes;
    }
    out
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
