//! Graphviz DOT and Mermaid pictures of the graph.

use std::collections::{HashMap, HashSet};

use super::DrawNode;

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
/// with class `merge`; heads have class `head` (a thick outline: Mermaid has no double one);
/// applied revisions class `applied` (filled), pending ones class `pending` (dashed outline).
/// When any node says whether it is applied, a `legend` subgraph shows one sample node per
/// class, as DOT's legend line does (its node IDs start with `legend_`, which no revision's do).
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
