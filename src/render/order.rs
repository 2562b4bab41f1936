//! The order in which the lane drawing shows revisions best.

use std::collections::BinaryHeap;

use super::Cut;
use crate::graph::RevisionGraph;
use crate::revision::Revision;

/// `revisions` (a cut of `graph`, such as a `history -r` range, in any order) in the order in
/// which [`log_graph`](super::log_graph) draws them best: newest first (every revision before its
/// parents and the revisions it depends on), but each branch kept together, like
/// `git log --graph` (`--topo-order`): after a revision come its parents as soon as all their
/// children in the cut are drawn, the last-declared parent first (the merged branch right under
/// its merge, the main line after it), depth first. The deepest head of the cut (longest chain of
/// parents and dependencies below it inside the cut) starts, then the others as the drawing needs
/// them, deepest first (ties in the order `revisions` gives them).
///
/// The links are the graph's own ([`RevisionGraph`]'s parents and depends-on); links to revisions
/// outside the cut are ignored, and a revision given twice is drawn twice, linked once (its first
/// place). Iterative, O(graph + cut links).
pub fn graph_order<'g>(graph: &RevisionGraph, revisions: &[&'g Revision]) -> Vec<&'g Revision> {
    let cut = Cut::new(graph, revisions);
    // Links from each revision to its parents and dependencies in the cut, in the order they are
    // pushed: dependencies first, then parents as declared, so the last parent is on top of the
    // stack.
    let mut dependencies: Vec<usize> = Vec::with_capacity(revisions.len());
    let links: Vec<Vec<usize>> = cut
        .nodes
        .iter()
        .map(|node| {
            let Some(node) = *node else {
                dependencies.push(0);
                return Vec::new();
            };
            let mut out: Vec<usize> = graph.dependency_nodes(node).filter_map(|d| cut.place(d)).collect();
            dependencies.push(out.len());
            out.extend(graph.parent_nodes(node).filter_map(|p| cut.place(p)));
            out
        })
        .collect();
    // Children (and dependents) not yet drawn.
    let mut waiting = vec![0usize; revisions.len()];
    for out in &links {
        for &j in out {
            waiting[j] += 1;
        }
    }
    // Generations: the longest chain of links below each node (Kahn's order from the heads, reversed).
    let mut kahn: Vec<usize> = (0..revisions.len()).filter(|&i| waiting[i] == 0).collect();
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
    let mut depth = vec![0usize; revisions.len()];
    for &i in kahn.iter().rev() {
        depth[i] = links[i].iter().map(|&j| depth[j] + 1).max().unwrap_or(0);
    }
    // Heads of the lane drawing (no node names them as a parent) wait in `pool` until the
    // depth-first walk runs dry, then the deepest goes first: when the walk waits for another
    // head's revisions, the head that joins highest up is usually the deepest one.
    let mut child_lane = vec![false; revisions.len()];
    for (out, &deps) in links.iter().zip(&dependencies) {
        for &j in &out[deps..] {
            child_lane[j] = true;
        }
    }
    let rank = |i: usize| (depth[i], std::cmp::Reverse(i));
    let mut pool: BinaryHeap<(usize, std::cmp::Reverse<usize>)> =
        (0..revisions.len()).filter(|&i| waiting[i] == 0).map(rank).collect();
    let mut order = Vec::with_capacity(revisions.len());
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
    let mut done = vec![false; revisions.len()];
    for &i in &order {
        done[i] = true;
    }
    order.extend((0..revisions.len()).filter(|&i| !done[i]));
    order.into_iter().map(|i| revisions[i]).collect()
}
