//! Pictures of the revision graph: a `git log --graph` style lane drawing for
//! `migraph history --graph`, and Graphviz DOT / Mermaid for `migraph graph`.
//! Pure functions over plain data: the caller picks rows and text (a
//! `history -r` range is a cut of the graph, whose heads are its own).
//!
//! - `lanes`: the lane layout of [`log_graph`];
//! - `order`: the drawing order, [`graph_order`];
//! - `export`: Graphviz DOT ([`dot`]) and Mermaid ([`mermaid`]).

mod export;
mod lanes;
mod order;

pub use export::{dot, mermaid};
pub use lanes::log_graph;
pub use order::graph_order;

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

#[cfg(test)]
mod tests;
