//! Graphviz DOT and Mermaid pictures of the whole graph.

use std::collections::HashMap;

use crate::graph::RevisionGraph;
use crate::revision::Revision;

/// Graphviz DOT: a `digraph` drawn bottom-up (`rankdir=BT`: roots at the bottom, heads on top),
/// one box per revision (in [`RevisionGraph::topological`] order) labelled with its short ID
/// (12 characters), its message and its labels in brackets; edges parent -> child (solid) and
/// dependency -> dependent (`style=dashed`; a dependency that is also a parent is one solid edge).
///
/// Convention: a head ([`RevisionGraph::heads`]) has a double outline (`peripheries=2`); a merge
/// point ([`RevisionGraph::merge_points`]) is a hexagon; a revision for which `applied` says
/// `Some(true)` is filled light green; `Some(false)` (pending) has a dashed outline; `None` leaves
/// the box plain. When `applied` says either for any revision, a legend line spelling this out is
/// the graph's label (at the top).
pub fn dot(graph: &RevisionGraph, applied: impl Fn(&Revision) -> Option<bool>) -> String {
    let nodes = Node::all(graph, applied);
    let mut out = String::from("digraph migraph {\n    rankdir=BT;\n    node [shape=box, fontname=\"monospace\"];\n");
    if nodes.iter().any(|n| n.applied.is_some()) {
        out.push_str(
            "    label=\"green: applied, dashed: pending, double outline: head, hexagon: merge point\";\n    \
             labelloc=t;\n    fontname=\"monospace\";\n",
        );
    }
    for node in &nodes {
        let label = label_lines(node.revision).iter().map(|l| dot_escape(l)).collect::<Vec<_>>().join("\\n");
        let mut attrs = vec![format!("label=\"{label}\"")];
        if graph.is_merge(node.node) {
            attrs.push("shape=hexagon".into());
        }
        if graph.is_head(node.node) {
            attrs.push("peripheries=2".into());
        }
        match node.applied {
            Some(true) => attrs.push("style=filled, fillcolor=\"#c6efce\"".into()),
            Some(false) => attrs.push("style=dashed".into()),
            None => {}
        }
        out.push_str(&format!("    \"{}\" [{}];\n", dot_escape(&node.revision.id), attrs.join(", ")));
    }
    for (from, to, dashed) in edges(graph, &nodes) {
        let style = if dashed { " [style=dashed]" } else { "" };
        out.push_str(&format!("    \"{}\" -> \"{}\"{style};\n", dot_escape(from), dot_escape(to)));
    }
    out.push_str("}\n");
    out
}

/// Mermaid `flowchart BT` with the same information as [`dot`]: node `r_<id>` (so IDs such as
/// `end` or `graph` are no keywords), labelled with short ID, message and labels; `-->` from
/// parent to child, `-.->` from dependency to dependent. Merge points are hexagons (`{{...}}`)
/// with class `merge`; heads have class `head` (a thick outline: Mermaid has no double one);
/// applied revisions class `applied` (filled), pending ones class `pending` (dashed outline).
/// When `applied` says either for any revision, a `legend` subgraph shows one sample node per
/// class, as DOT's legend line does (its node IDs start with `legend_`, which no revision's do).
pub fn mermaid(graph: &RevisionGraph, applied: impl Fn(&Revision) -> Option<bool>) -> String {
    let nodes = Node::all(graph, applied);
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        let id = &node.revision.id;
        ids.entry(id).or_insert_with(|| {
            let safe = id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if safe && !id.is_empty() {
                format!("r_{id}")
            } else {
                format!("n{i}")
            }
        });
    }
    let id = |s: &str| ids.get(s).cloned().unwrap_or_default();
    let mut out = String::from("flowchart BT\n");
    let (mut heads, mut merges, mut applied, mut pending) = (vec![], vec![], vec![], vec![]);
    for node in &nodes {
        let mid = id(&node.revision.id);
        let label = label_lines(node.revision).iter().map(|l| mermaid_escape(l)).collect::<Vec<_>>().join("<br>");
        if graph.is_merge(node.node) {
            out.push_str(&format!("    {mid}{{{{\"{label}\"}}}}\n"));
            merges.push(mid.clone());
        } else {
            out.push_str(&format!("    {mid}[\"{label}\"]\n"));
        }
        if graph.is_head(node.node) {
            heads.push(mid.clone());
        }
        match node.applied {
            Some(true) => applied.push(mid),
            Some(false) => pending.push(mid),
            None => {}
        }
    }
    for (from, to, dashed) in edges(graph, &nodes) {
        out.push_str(&format!("    {} {} {}\n", id(from), if dashed { "-.->" } else { "-->" }, id(to)));
    }
    if nodes.iter().any(|n| n.applied.is_some()) {
        out.push_str(concat!(
            "    subgraph legend [\"legend\"]\n",
            "        legend_applied[\"applied\"]:::applied\n",
            "        legend_pending[\"pending\"]:::pending\n",
            "        legend_head[\"head\"]:::head\n",
            "        legend_merge{{\"merge point\"}}:::merge\n",
            "    end\n",
        ));
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

/// One box of a picture.
struct Node<'g> {
    node: usize,
    revision: &'g Revision,
    applied: Option<bool>,
}

impl<'g> Node<'g> {
    /// Every revision of `graph` in topological order, with what `applied` says of it.
    fn all(graph: &'g RevisionGraph, applied: impl Fn(&Revision) -> Option<bool>) -> Vec<Node<'g>> {
        let every = vec![true; graph.len()];
        graph
            .order_of(&every)
            .into_iter()
            .map(|node| {
                let revision = graph.rev(node);
                Node { node, revision, applied: applied(revision) }
            })
            .collect()
    }
}

/// (from, to, dashed) for the graph's edges, each once: for each revision in `nodes`' order, its
/// parents as declared, then the revisions it depends on without being their child.
fn edges<'g>(graph: &'g RevisionGraph, nodes: &[Node<'g>]) -> Vec<(&'g str, &'g str, bool)> {
    let mut edges = Vec::new();
    for node in nodes {
        let to = node.revision.id.as_str();
        edges.extend(graph.parent_nodes(node.node).map(|p| (graph.rev(p).id.as_str(), to, false)));
        edges.extend(graph.dependency_nodes(node.node).map(|d| (graph.rev(d).id.as_str(), to, true)));
    }
    edges
}

/// Short ID, message (if any), labels in brackets (if any): unescaped label lines.
fn label_lines(node: &Revision) -> Vec<String> {
    let short = node.id.char_indices().nth(12).map_or(node.id.as_str(), |(i, _)| &node.id[..i]);
    let mut lines = vec![short.to_string()];
    if !node.message.is_empty() {
        lines.push(node.message.clone());
    }
    if !node.labels().is_empty() {
        lines.push(format!("[{}]", node.labels().join(", ")));
    }
    lines
}

/// Escapes text for a DOT double-quoted string; line breaks become `\n` (centred lines).
fn dot_escape(s: &str) -> String {
    escape(s, "\\n", |c| match c {
        '"' => Some("\\\""),
        '\\' => Some("\\\\"),
        _ => None,
    })
}

/// Escapes text for a Mermaid quoted label with entity codes; line breaks become `<br>`.
fn mermaid_escape(s: &str) -> String {
    escape(s, "<br>", |c| match c {
        '"' => Some("#quot;"),
        '#' => Some("#35;"),
        '<' => Some("#lt;"),
        '>' => Some("#gt;"),
        '&' => Some("#amp;"),
        '`' => Some("#96;"),
        _ => None,
    })
}

/// `s` with each line break (`\n`, `\r\n` or `\r`) as `line_break` and each character that
/// `special` names as what it says.
fn escape(s: &str, line_break: &str, special: impl Fn(char) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str(line_break),
            c => match special(c) {
                Some(escaped) => out.push_str(escaped),
                None => out.push(c),
            },
        }
    }
    out
}
