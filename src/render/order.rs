//! The order in which the lane drawing shows revisions best.

use std::collections::{BinaryHeap, HashMap};

use super::DrawNode;

/// The order in which [`log_graph`](super::log_graph) draws `nodes` best, as indices into `nodes`: still newest first
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
