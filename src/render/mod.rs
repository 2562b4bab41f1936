//! Pictures of the revision graph: a `git log --graph` style lane drawing for
//! `migraph history --graph`, and Graphviz DOT / Mermaid for `migraph graph`.
//! They read the [`RevisionGraph`](crate::RevisionGraph) itself (its parent and
//! depends-on edges, its heads and merge points) rather than a copy of it; the
//! caller picks the rows, their text and what the database says (a `history
//! -r` range is a cut of the graph, whose heads are its own).
//!
//! - `lanes`: the lane layout of [`log_graph`], written line by line and bounded in width by
//!   [`write_log_graph`];
//! - `order`: the drawing order, [`graph_order`];
//! - `export`: Graphviz DOT ([`dot`]) and Mermaid ([`mermaid`]).

mod export;
mod lanes;
mod order;

pub use export::{dot, mermaid};
pub use lanes::{log_graph, write_log_graph};
pub use order::graph_order;

/// Which revisions of a graph a drawing shows, and where: `revisions` as given, and for each
/// node of the graph its first place among them.
struct Cut {
    /// The graph's node of each revision given (None for one that is not in the graph).
    nodes: Vec<Option<usize>>,
    at: Vec<Option<usize>>,
}

impl Cut {
    fn new(graph: &crate::RevisionGraph, revisions: &[&crate::Revision]) -> Cut {
        let nodes: Vec<Option<usize>> = revisions.iter().map(|r| graph.node(&r.id)).collect();
        let mut at = vec![None; graph.len()];
        for (i, node) in nodes.iter().enumerate().rev() {
            if let Some(node) = *node {
                at[node] = Some(i);
            }
        }
        Cut { nodes, at }
    }

    /// Where `node` is drawn, if it is.
    fn place(&self, node: usize) -> Option<usize> {
        self.at[node]
    }
}

#[cfg(test)]
mod tests;
