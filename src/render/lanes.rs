//! The lane layout of `history --graph`, like `git log --graph`.

use std::io::{self, Write};

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
/// beside the following connector lines. Without recursion; each revision costs the lanes drawn
/// (all of them here) plus its parents, and a scan and shift of the list of open lanes (no
/// drawing: neighbouring lanes that move alike are handled as one block).
///
/// Returns the lines joined with '\n' and a trailing '\n' (empty string for no revisions), with
/// every lane drawn; [`write_log_graph`] writes the same lines one by one, at most `max_lanes`
/// lanes wide.
pub fn log_graph(graph: &RevisionGraph, revisions: &[&Revision], text: impl Fn(&Revision) -> String) -> String {
    let mut out = Vec::new();
    write_log_graph(&mut out, graph, revisions, usize::MAX, text).expect("writing to a Vec cannot fail");
    String::from_utf8(out).expect("ASCII lanes and UTF-8 text")
}

/// Writes the drawing of [`log_graph`] to `out` line by line, as each line is made (memory in
/// O(open lanes), not O(output)), with at most `max_lanes` lanes (at least 1) drawn side by side.
///
/// A line whose lanes are wider than that keeps lanes `0..max_lanes` (character columns
/// `0..2 × max_lanes`, so a `\` or `-` leaving the last one shows) and puts one marker column
/// after them, at character column `2 × max_lanes`: `*` on the line of a revision whose own lane
/// is beyond the bound, `:` on other lines, followed by `+N`, the number of lanes not drawn
/// around that revision (the most open before or after it, minus `max_lanes`). Each revision
/// still has its line, with its `*` in its lane or in the marker column. Drawings that fit are
/// byte for byte those of [`log_graph`].
///
/// Memory beside the graph: one flag per revision, the open lanes, and the lines of one revision
/// (each at most `2 × max_lanes` columns plus the marker and its text). Stops at the first error
/// of `out`.
pub fn write_log_graph(
    out: &mut dyn Write,
    graph: &RevisionGraph,
    revisions: &[&Revision],
    max_lanes: usize,
    text: impl Fn(&Revision) -> String,
) -> io::Result<()> {
    let limit = max_lanes.max(1).saturating_mul(2);
    let cut = Cut::new(graph, revisions);
    // Each open lane waits for the revision (index into `revisions`) it leads to; never two equal
    // lanes. `open[i]`: whether a lane waits for revision `i`.
    let mut lanes = Lanes { waiting: Vec::new(), open: vec![false; revisions.len()] };
    let mut parents: Vec<usize> = Vec::new();
    let mut line = Vec::new();
    for (i, (revision, node)) in revisions.iter().zip(&cut.nodes).enumerate() {
        parents.clear();
        let drawn = node.iter().flat_map(|&n| graph.parent_nodes(n)).filter_map(|p| cut.place(p));
        parents.extend(drawn.filter(|&j| j > i));
        let col = match lanes.find(i, lanes.waiting.len()) {
            Some(col) => col,
            None => {
                lanes.waiting.push(i);
                lanes.open[i] = true;
                lanes.waiting.len() - 1
            }
        };
        let step = Step::new(&mut lanes, col, &parents, limit);
        step.write(out, &mut line, &text(revision))?;
    }
    Ok(())
}

/// The open lanes, left to right, each waiting for one revision.
struct Lanes {
    waiting: Vec<usize>,
    open: Vec<bool>,
}

impl Lanes {
    /// The lane waiting for revision `i`, among the first `before`.
    fn find(&self, i: usize, before: usize) -> Option<usize> {
        if self.open[i] {
            self.waiting[..before].iter().position(|&l| l == i)
        } else {
            None
        }
    }
}

/// Edges from character column `x + 2j` to `t + 2j`, for `j` in `0..n`: neighbouring lanes that
/// all move alike (a lane is one edge; the lanes right of a node move as one block).
#[derive(Clone, Copy)]
struct Block {
    x: usize,
    t: usize,
    n: usize,
}

impl Block {
    fn one(x: usize, t: usize) -> Block {
        Block { x, t, n: 1 }
    }

    fn moves(&self, leftwards: bool) -> bool {
        self.n > 0 && if leftwards { self.t < self.x } else { self.t > self.x }
    }

    /// Draws this block's part of a connector row and moves its edges on: first leftwards
    /// (`/`, with `_` along long moves), then rightwards (`\`); edges that do not move in this
    /// phase are `|`. Only the edges that reach the drawn columns are drawn one by one.
    fn draw(&mut self, row: &mut Row, leftwards: bool) {
        if self.n == 0 {
            return;
        }
        let (x, t) = (self.x, self.t);
        let last = 2 * (self.n - 1);
        let end = row.limit.saturating_add(2);
        let drawn = |j: usize| x.min(t) + 2 * j < end;
        if leftwards && t < x {
            for j in (0..self.n).take_while(|&j| drawn(j)) {
                let (x, t) = (x + 2 * j, t + 2 * j);
                row.put(x - 1, b'/');
                if t + 2 < x {
                    let mut u = x - 3;
                    if u >= row.limit {
                        u -= (u - row.limit + 2) / 2 * 2;
                    }
                    while u > t + 1 {
                        row.put_weak(u, b'_');
                        u -= 2;
                    }
                }
            }
            row.len = row.len.max(x + last);
            self.x = if t + 2 < x { t + 2 } else { t };
        } else if !leftwards && t > x {
            for j in (0..self.n).take_while(|&j| drawn(j)) {
                row.put(x + 2 * j + 1, b'\\');
            }
            row.len = row.len.max(x + last + 2);
            self.x = x + 2;
        } else {
            for j in (0..self.n).take_while(|&j| drawn(j)) {
                row.put(x + 2 * j, b'|');
            }
            row.len = row.len.max(x + last + 1);
        }
    }
}

/// One line of lanes, kept up to `limit` character columns; `len` is its whole width.
struct Row {
    bytes: Vec<u8>,
    len: usize,
    limit: usize,
}

impl Row {
    fn new(limit: usize) -> Row {
        Row { bytes: Vec::new(), len: 0, limit }
    }

    /// Sets column `x` (growing the row with spaces), if it is drawn.
    fn put(&mut self, x: usize, c: u8) {
        self.len = self.len.max(x + 1);
        if x < self.limit {
            if self.bytes.len() <= x {
                self.bytes.resize(x + 1, b' ');
            }
            self.bytes[x] = c;
        }
    }

    /// Sets column `x` only if nothing is drawn there yet.
    fn put_weak(&mut self, x: usize, c: u8) {
        if matches!(self.bytes.get(x), None | Some(b' ')) {
            self.put(x, c);
        }
    }

    /// `|` in lanes `0..lanes`.
    fn verticals(&mut self, lanes: usize) {
        if lanes == 0 {
            return;
        }
        for k in 0..lanes.min(self.limit / 2 + 1) {
            self.put(2 * k, b'|');
        }
        self.len = self.len.max(2 * (lanes - 1) + 1);
    }

    /// Whether lanes beyond the bound are drawn on this row (then it ends in the marker column).
    fn clipped(&self) -> bool {
        self.len >= self.limit
    }
}

/// The lines drawn for one node: its own row and the connector rows below it.
struct Step {
    node_row: Row,
    rows: Vec<Row>,
    /// How many lanes are open after the node.
    lanes_after: usize,
    /// Whether the node's own `*` is beyond the bound.
    node_hidden: bool,
    /// Lanes not drawn around the node, when a row is clipped.
    hidden: usize,
}

impl Step {
    /// `lanes.waiting[col]` is the node; `parents` are its distinct, drawable parents; rows are
    /// kept up to `limit` character columns. Leaves in `lanes` the lanes after the node.
    fn new(lanes: &mut Lanes, col: usize, parents: &[usize], limit: usize) -> Step {
        let before = lanes.waiting.len();
        // Edges as blocks of (current character column, target character column); the lanes
        // left of the node go straight down and are drawn first on every row.
        let mut edges: Vec<Block> = Vec::new();
        // Parents that need a lane of their own, opened where the node is (git's order).
        let mut fan: Vec<usize> = Vec::new();
        for &p in parents {
            match lanes.find(p, col) {
                Some(k) => edges.push(Block::one(2 * col, 2 * k)),
                None => fan.push(p),
            }
        }
        // An octopus row `*---.` pushes the lanes on its right this far (in lanes).
        let shift = fan.len().saturating_sub(2);
        if !fan.is_empty() {
            edges.push(Block::one(2 * col, 2 * col));
            edges.push(Block { x: 2 * col, t: 2 * col + 2, n: fan.len() - 1 });
        }
        let mut node_row = Row::new(limit);
        node_row.verticals(col);
        node_row.put(2 * col, b'*');
        let dashes_end = (2 * col + 2 * shift).min(limit.saturating_add(1));
        for x in 2 * col + 1..=dashes_end {
            node_row.put(x, b'-');
        }
        if shift > 0 {
            node_row.put(2 * col + 2 * shift, b'.');
        }
        // The lanes right of the node: `|` on the node row (pushed right by an octopus), then to
        // the lane of a parent in the fan, or to the next new lane in blocks between those.
        for k in col + 1..before {
            let x = 2 * (k + shift);
            if x >= limit {
                node_row.len = node_row.len.max(2 * (before - 1 + shift) + 1);
                break;
            }
            node_row.put(x, b'|');
        }
        let mut joining: Vec<(usize, usize)> = fan
            .iter()
            .enumerate()
            .filter(|&(_, &p)| lanes.open[p])
            .filter_map(|(q, &p)| lanes.waiting[col + 1..].iter().position(|&l| l == p).map(|at| (col + 1 + at, q)))
            .collect();
        joining.sort_unstable();
        let mut next = col + fan.len();
        let mut from = col + 1;
        for &(k, q) in joining.iter().chain([&(before, usize::MAX)]) {
            if k > from {
                edges.push(Block { x: 2 * (from + shift), t: 2 * next, n: k - from });
                next += k - from;
            }
            if q != usize::MAX {
                edges.push(Block::one(2 * (k + shift), 2 * (col + q)));
            }
            from = k + 1;
        }
        // The lanes after the node: those left of it, the fan, the others right of it.
        for &(k, _) in joining.iter().rev() {
            lanes.waiting.remove(k);
        }
        lanes.open[lanes.waiting[col]] = false;
        for &p in &fan {
            lanes.open[p] = true;
        }
        lanes.waiting.splice(col..=col, fan.iter().copied());
        // First edges moving left (collapsing lanes, long moves with `_`), then edges moving right.
        let mut rows = Vec::new();
        for leftwards in [true, false] {
            while edges.iter().any(|e| e.moves(leftwards)) {
                let mut row = Row::new(limit);
                row.verticals(col);
                for edge in edges.iter_mut() {
                    edge.draw(&mut row, leftwards);
                }
                rows.push(row);
            }
        }
        let bound = limit / 2;
        let lanes_after = lanes.waiting.len();
        let hidden = (before + shift).max(lanes_after).saturating_sub(bound).max(1);
        Step { node_row, rows, lanes_after, node_hidden: 2 * col >= limit, hidden }
    }

    fn write(&self, out: &mut dyn Write, line: &mut Vec<u8>, text: &str) -> io::Result<()> {
        let mut after = Row::new(self.node_row.limit);
        after.verticals(self.lanes_after);
        let marker = format!("+{}", self.hidden);
        let shown = |row: &Row| if row.clipped() { row.limit + 1 + marker.len() } else { row.len };
        let width = self.rows.iter().chain([&self.node_row, &after]).map(shown).max().unwrap_or_default();
        let mut lines = text.lines();
        let node_marker = if self.node_hidden { b'*' } else { b':' };
        self.put_line(out, line, &self.node_row, node_marker, &marker, width, lines.next().unwrap_or(""))?;
        let mut rows = self.rows.iter();
        for text_line in lines {
            self.put_line(out, line, rows.next().unwrap_or(&after), b':', &marker, width, text_line)?;
        }
        for row in rows {
            self.put_line(out, line, row, b':', &marker, 0, "")?;
        }
        Ok(())
    }

    /// Writes `row`, its marker if it is clipped, then `text` in column `width + 1`.
    #[allow(clippy::too_many_arguments)]
    fn put_line(
        &self,
        out: &mut dyn Write,
        line: &mut Vec<u8>,
        row: &Row,
        clip: u8,
        marker: &str,
        width: usize,
        text: &str,
    ) -> io::Result<()> {
        line.clear();
        line.extend_from_slice(&row.bytes);
        if row.clipped() {
            line.resize(row.limit, b' ');
            line.push(clip);
            line.extend_from_slice(marker.as_bytes());
        }
        if !text.is_empty() {
            let drawn = line.len();
            line.resize(width.max(drawn) + 1, b' ');
            line.extend_from_slice(text.as_bytes());
        }
        line.push(b'\n');
        out.write_all(line)
    }
}
