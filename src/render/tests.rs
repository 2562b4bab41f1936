//! Tests of the drawings, on graphs made for each test.

use std::collections::HashMap;
use std::path::Path;

use super::*;
use crate::graph::RevisionGraph;
use crate::revision::Revision;

/// A revision as a test declares it, and what the database says of it.
#[derive(Debug, Clone)]
struct Node {
    id: String,
    parents: Vec<String>,
    depends_on: Vec<String>,
    message: String,
    labels: Vec<String>,
    applied: Option<bool>,
}

fn node(id: &str, parents: &[&str], message: &str) -> Node {
    Node {
        id: id.into(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        depends_on: vec![],
        message: message.into(),
        labels: vec![],
        applied: None,
    }
}

/// The graph of `nodes` (which must be a valid one).
fn build(nodes: &[Node]) -> RevisionGraph {
    let revisions = nodes.iter().map(|n| {
        let text = format!("-- id: {}\n-- parents:\n-- migrate:up\nSELECT 1;\n", n.id);
        let mut r = Revision::parse(Path::new(&format!("{}.sql", n.id)), &text).expect("a valid ID");
        r.parents = n.parents.clone();
        r.links_mut().depends_on = n.depends_on.clone();
        r.message = n.message.clone();
        r.links_mut().labels = n.labels.clone();
        r
    });
    RevisionGraph::new(revisions.collect()).expect("a valid graph")
}

/// The revisions of `graph` named by `ids`, in that order.
fn cut<'g>(graph: &'g RevisionGraph, ids: &[&str]) -> Vec<&'g Revision> {
    ids.iter().map(|id| graph.get(id).expect("a revision of the graph")).collect()
}

fn ids_of(nodes: &[Node]) -> Vec<&str> {
    nodes.iter().map(|n| n.id.as_str()).collect()
}

/// The lanes of `revisions` as given, each with its ID and message.
fn lanes(graph: &RevisionGraph, revisions: &[&Revision]) -> String {
    log_graph(graph, revisions, |r| format!("{} {}", r.id, r.message).trim_end().to_string())
}

/// The lanes of all `nodes`, in their order.
fn draw(nodes: &[Node]) -> String {
    let graph = build(nodes);
    lanes(&graph, &cut(&graph, &ids_of(nodes)))
}

/// The pictures of `nodes`, each applied as it says.
fn dot_of(nodes: &[Node]) -> String {
    let applied: HashMap<&str, Option<bool>> = nodes.iter().map(|n| (n.id.as_str(), n.applied)).collect();
    dot(&build(nodes), |r| applied[r.id.as_str()])
}

fn mermaid_of(nodes: &[Node]) -> String {
    let applied: HashMap<&str, Option<bool>> = nodes.iter().map(|n| (n.id.as_str(), n.applied)).collect();
    mermaid(&build(nodes), |r| applied[r.id.as_str()])
}

fn fork_merge() -> Vec<Node> {
    vec![
        node("m", &["a", "b"], "merge"),
        node("b", &["r"], "feature b"),
        node("a", &["r"], "feature a"),
        node("r", &[], "root"),
    ]
}

/// A xorshift generator of numbers below `n`.
fn random(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    }
}

/// A random valid graph of `len` revisions `n0`.. (each links only to older ones), up to two
/// parents and some dependencies each (repeats and a dependency that is also a parent included).
fn random_nodes(len: usize, rand: &mut impl FnMut(usize) -> usize) -> Vec<Node> {
    (0..len)
        .map(|i| {
            let links: Vec<String> = (0..rand(4)).filter(|_| i > 0).map(|_| format!("n{}", rand(i))).collect();
            let links: Vec<&str> = links.iter().map(String::as_str).collect();
            let (parents, deps) = links.split_at(links.len().min(2));
            Node { depends_on: deps.iter().map(|d| d.to_string()).collect(), ..node(&format!("n{i}"), parents, "") }
        })
        .collect()
}

#[test]
fn empty_input() {
    assert_eq!(draw(&[]), "");
    assert_eq!(dot_of(&[]), "digraph migraph {\n    rankdir=BT;\n    node [shape=box, fontname=\"monospace\"];\n}\n");
    assert!(mermaid_of(&[]).starts_with("flowchart BT\n    classDef head"));
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
    let graph = build(&[
        node("m", &["a", "b"], "merge"),
        node("b", &["gone"], "parent outside the range"),
        node("a", &["r"], ""),
        node("r", &["gone_too"], ""),
        node("gone", &["gone_too"], ""),
        node("gone_too", &[], ""),
    ]);
    let expected = "\
*   m merge
|\\
| * b parent outside the range
* a
* r
";
    assert_eq!(lanes(&graph, &cut(&graph, &["m", "b", "a", "r"])), expected);
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
    // A parent declared twice, a dependency that is also a parent, a parent listed before its
    // child, a revision given twice.
    let graph = build(&[
        node("a", &[], ""),
        Node { depends_on: vec!["a".into()], ..node("b", &["a", "a"], "") },
        node("c", &["b"], ""),
    ]);
    assert_eq!(lanes(&graph, &cut(&graph, &["a", "b", "c", "b"])), "* a\n* b\n* c\n* b\n");
    assert_eq!(lanes(&graph, &cut(&graph, &["c", "b", "a"])), "* c\n* b\n* a\n");
    // Random DAGs drawn in random order: never a panic, always one `*` line per revision.
    let mut rand = random(0x2545_f491_4f6c_dd1d);
    for _ in 0..200 {
        let len = 1 + rand(30);
        let graph = build(&random_nodes(len, &mut rand));
        let mut shown: Vec<&Revision> = graph.revisions().iter().filter(|_| rand(4) > 0).collect();
        for i in (1..shown.len()).rev() {
            shown.swap(i, rand(i + 1));
        }
        let drawn = lanes(&graph, &shown);
        assert_eq!(drawn.lines().filter(|l| l.contains('*')).count(), shown.len(), "{drawn}");
        assert_eq!(dot(&graph, |_| None).matches("label=").count(), len);
        let mermaid = mermaid(&graph, |_| Some(true));
        assert_eq!(mermaid.matches("[\"n").count() + mermaid.matches("{{\"n").count(), len);
    }
}

/// `nodes` drawn in the order [`graph_order`] gives them.
fn ordered(nodes: &[Node]) -> Vec<String> {
    let graph = build(nodes);
    graph_order(&graph, &cut(&graph, &ids_of(nodes))).into_iter().map(|r| r.id.clone()).collect()
}

/// The lanes of `nodes` in the order [`graph_order`] gives them.
fn draw_ordered(nodes: &[Node]) -> String {
    let graph = build(nodes);
    lanes(&graph, &graph_order(&graph, &cut(&graph, &ids_of(nodes))))
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
    assert_eq!(ordered(&nodes), ["m", "b2", "b1", "a2", "a1", "r"], "the merged branch right under its merge");
    assert_eq!(draw_ordered(&nodes), "*   m merge\n|\\\n| * b2\n| * b1\n* | a2\n* | a1\n|/\n* r\n");
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
    assert_eq!(draw_ordered(&nodes), expected);
}

#[test]
fn graph_order_puts_dependents_first_and_survives_odd_cuts() {
    // `b` depends on `a2` without descending from it: `b` must come before `a2`.
    let nodes = [
        Node { depends_on: vec!["a2".into()], ..node("b", &["r"], "") },
        node("a2", &["a1"], ""),
        node("a1", &["r"], ""),
        node("r", &[], ""),
    ];
    let sorted = ordered(&nodes).join(" ");
    assert!(sorted.find('b') < sorted.find("a2"), "{sorted}");
    // A revision given twice, parents listed first, a cut without the middle: each entry once.
    let graph = build(&nodes);
    let given = cut(&graph, &["r", "b", "r", "a2"]);
    let order: Vec<&str> = graph_order(&graph, &given).into_iter().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["b", "r", "r", "a2"], "a2 waits for b, the parent r is drawn under b");
    assert!(graph_order(&graph, &[]).is_empty());
    // Random DAGs given in random order: a permutation, every revision before its parents.
    let mut rand = random(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let len = 1 + rand(40);
        let nodes = random_nodes(len, &mut rand);
        let graph = build(&nodes);
        let mut given: Vec<&Revision> = graph.revisions().iter().collect();
        for i in (1..given.len()).rev() {
            given.swap(i, rand(i + 1));
        }
        let order = graph_order(&graph, &given);
        let position: HashMap<&str, usize> = order.iter().enumerate().map(|(k, r)| (r.id.as_str(), k)).collect();
        assert_eq!(position.len(), len, "each revision once");
        for (k, r) in order.iter().enumerate() {
            for p in r.parents.iter().chain(r.depends_on()) {
                assert!(position[p.as_str()] > k, "{} before its parent {p}", r.id);
            }
        }
        assert_eq!(lanes(&graph, &order).lines().filter(|l| l.contains('*')).count(), len);
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
            nodes.push(Node { id: side[0].clone(), parents: prev.clone(), ..node("", &[], "side") });
            nodes.push(node(&side[1], &[&side[0]], "side"));
            nodes.push(node(&side[2], &[&side[1]], "side"));
            let parents = [prev.first().map_or("", String::as_str), side[2].as_str()];
            nodes.push(node(&id, &parents, "merge"));
        } else {
            nodes.push(Node { id: id.clone(), parents: prev.clone(), ..node("", &[], "") });
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
fn a_merge_of_many_parents_links_each_once() {
    let roots: Vec<String> = (0..20).map(|i| format!("p{i}")).collect();
    let mut parents: Vec<&str> = roots.iter().map(String::as_str).collect();
    parents.push("p3");
    let mut nodes: Vec<Node> = roots.iter().map(|id| node(id, &[], "")).collect();
    nodes.push(Node { depends_on: vec!["p5".into(), "x".into(), "x".into()], ..node("m", &parents, "merge") });
    nodes.push(node("x", &[], ""));
    let dot = dot_of(&nodes);
    assert_eq!(dot.matches(" -> \"m\"").count(), 21, "{dot}");
    assert_eq!(dot.matches("\"x\" -> \"m\" [style=dashed]").count(), 1, "{dot}");
    let graph = build(&nodes);
    let every: Vec<&Revision> = graph.revisions().iter().collect();
    let drawn = lanes(&graph, &graph_order(&graph, &every));
    assert!(drawn.starts_with(&format!("*{}.", "-".repeat(2 * 18 - 1))), "{drawn}");
    assert_eq!(drawn.lines().filter(|l| l.contains('*')).count(), 22, "{drawn}");
}

/// Boxes in topological order; a dependency that is also a parent is one solid edge.
#[test]
fn dot_escaping_and_marks() {
    let nodes = [
        Node {
            labels: vec!["billing".into(), "v\"2\"".into()],
            applied: Some(false),
            depends_on: vec!["graph".into(), "0123456789abcdef".into()],
            ..node("merge_point", &["graph", "0123456789abcdef"], "say \"hi\"\\ now\r\nsecond line")
        },
        Node { applied: Some(true), ..node("graph", &["0123456789abcdef"], "keyword id") },
        Node { applied: Some(true), ..node("0123456789abcdef", &[], "") },
        Node { depends_on: vec!["graph".into()], ..node("side", &[], "cut") },
    ];
    let expected = r##"digraph migraph {
    rankdir=BT;
    node [shape=box, fontname="monospace"];
    label="green: applied, dashed: pending, double outline: head, hexagon: merge point";
    labelloc=t;
    fontname="monospace";
    "0123456789abcdef" [label="0123456789ab", style=filled, fillcolor="#c6efce"];
    "graph" [label="graph\nkeyword id", style=filled, fillcolor="#c6efce"];
    "merge_point" [label="merge_point\nsay \"hi\"\\ now\nsecond line\n[billing, v\"2\"]", shape=hexagon, peripheries=2, style=dashed];
    "side" [label="side\ncut", peripheries=2];
    "0123456789abcdef" -> "graph";
    "graph" -> "merge_point";
    "0123456789abcdef" -> "merge_point";
    "graph" -> "side" [style=dashed];
}
"##;
    assert_eq!(dot_of(&nodes), expected);
}

#[test]
fn mermaid_keyword_ids_and_escaping() {
    let nodes = [
        Node { applied: Some(false), ..node("end", &["graph", "subgraph"], "merge \"x\" #1 <b>&`") },
        Node { applied: Some(true), depends_on: vec!["subgraph".into()], ..node("graph", &["style"], "a\nb") },
        Node { applied: Some(true), labels: vec!["l1".into()], ..node("subgraph", &["style"], "") },
        Node { applied: Some(true), ..node("style", &[], "root") },
    ];
    let expected = r#"flowchart BT
    r_style["style<br>root"]
    r_subgraph["subgraph<br>[l1]"]
    r_graph["graph<br>a<br>b"]
    r_end{{"end<br>merge #quot;x#quot; #35;1 #lt;b#gt;#amp;#96;"}}
    r_style --> r_subgraph
    r_style --> r_graph
    r_subgraph -.-> r_graph
    r_graph --> r_end
    r_subgraph --> r_end
    subgraph legend ["legend"]
        legend_applied["applied"]:::applied
        legend_pending["pending"]:::pending
        legend_head["head"]:::head
        legend_merge{{"merge point"}}:::merge
    end
    classDef head stroke-width:3px
    classDef merge stroke:#7b1fa2
    classDef applied fill:#c6efce
    classDef pending stroke-dasharray:5 5
    class r_end head
    class r_end merge
    class r_style,r_subgraph,r_graph applied
    class r_end pending
"#;
    assert_eq!(mermaid_of(&nodes), expected);
}

#[test]
fn mermaid_has_a_legend_when_the_database_was_read() {
    let plain = fork_merge();
    assert!(!mermaid_of(&plain).contains("legend"), "no database: no legend, as in DOT");
    let marked: Vec<Node> = plain.into_iter().enumerate().map(|(i, n)| Node { applied: Some(i > 1), ..n }).collect();
    let picture = mermaid_of(&marked);
    let legend = "    subgraph legend [\"legend\"]\n        legend_applied[\"applied\"]:::applied\n        \
                  legend_pending[\"pending\"]:::pending\n        legend_head[\"head\"]:::head\n        \
                  legend_merge{{\"merge point\"}}:::merge\n    end\n";
    assert!(picture.contains(legend), "{picture}");
    assert!(picture.contains("    classDef head stroke-width:3px\n"), "heads are outlined: {picture}");
    assert!(dot_of(&marked).contains("label=\"green: applied, dashed: pending, double outline: head"));
}

// ---------------------------------------------------------------------------
// Drawings bounded in width

/// The lanes of `revisions`, at most `max_lanes` wide, each with its ID and message.
fn bounded(graph: &RevisionGraph, revisions: &[&Revision], max_lanes: usize) -> String {
    let mut out = Vec::new();
    write_log_graph(&mut out, graph, revisions, max_lanes, |r| {
        format!("{} {}", r.id, r.message).trim_end().to_string()
    })
    .unwrap();
    String::from_utf8(out).unwrap()
}

/// A line split into its lanes (trailing spaces dropped) and its text, which starts at `first`.
fn split_line(line: &str, first: char) -> (&str, &str) {
    let at = line.find(first).unwrap_or(line.len());
    (line[..at].trim_end(), &line[at..])
}

#[test]
fn a_merge_of_300_parents_is_drawn_40_lanes_wide() {
    let roots: Vec<String> = (0..300).map(|i| format!("p{i:03}")).collect();
    let parents: Vec<&str> = roots.iter().map(String::as_str).collect();
    let mut nodes: Vec<Node> = roots.iter().map(|id| node(id, &[], "root")).collect();
    nodes.push(node("m", &parents, "merge"));
    let graph = build(&nodes);
    let every: Vec<&Revision> = graph.revisions().iter().collect();
    let order = graph_order(&graph, &every);
    let drawn = bounded(&graph, &order, 40);
    let lines: Vec<&str> = drawn.lines().collect();
    // Lanes in columns 0..80, the marker column, `+N`, a space, the text.
    let longest = lines.iter().map(|l| l.len()).max().unwrap();
    assert!(longest <= 80 + 1 + 4 + 1 + "p000 root".len(), "{longest}\n{drawn}");
    assert_eq!(lines.iter().filter(|l| l.contains('*')).count(), 301, "{drawn}");
    for id in parents.iter().chain(&["m"]) {
        let with = lines.iter().filter(|l| l.split(' ').any(|w| w == *id)).count();
        assert_eq!(with, 1, "{id} is on one line");
    }
    // The octopus: 300 lanes open under it, 260 of them not drawn.
    assert_eq!(lines[0], format!("*{}:+260 m merge", "-".repeat(79)));
    assert_eq!(lines[1], format!("|{}:+260", "\\ ".repeat(40).trim_end()));
    // The last parent first, in lane 299: its `*` is in the marker column; then one lane fewer
    // each time, until lane 39 is drawn where it is.
    let lanes40 = "| ".repeat(40);
    for (k, line) in lines[2..].iter().enumerate() {
        let lane = 299 - k;
        let id = format!("p{lane:03} root");
        let expected = if lane >= 40 {
            format!("{lanes40}*+{} {id}", lane + 1 - 40)
        } else {
            format!("{}* {id}", "| ".repeat(lane))
        };
        assert_eq!(*line, expected);
    }
    assert_eq!(lines.len(), 302);
    // Unbounded, the same graph is 600 columns wide.
    let wide = lanes(&graph, &order);
    assert!(wide.lines().map(str::len).max().unwrap() > 590);
}

#[test]
fn a_drawing_two_lanes_wide() {
    let nodes = [
        node("m", &["a", "b", "c", "d"], "merge"),
        node("d", &["r"], ""),
        node("c", &["r"], ""),
        node("b", &["r"], ""),
        node("a", &["r"], ""),
        node("r", &[], "root"),
    ];
    let graph = build(&nodes);
    let drawn = bounded(&graph, &cut(&graph, &ids_of(&nodes)), 2);
    let expected = "\
*---:+2 m merge
|\\ \\:+2
| | *+2 d
| | *+2 c
| | :+2
| * :+1 b
| |/:+1
* | a
|/
* r root
";
    // Unbounded, lanes 2 and 3 are drawn too:
    //   *---.   m merge
    //   |\ \ \
    //   | | | * d
    //   | | * | c
    //   | | |/
    //   | * | b
    //   | |/
    assert_eq!(drawn, expected, "\n{drawn}");
    // Wide enough, it is the unbounded drawing.
    assert_eq!(bounded(&graph, &cut(&graph, &ids_of(&nodes)), 4), draw(&nodes));
}

#[test]
fn bounded_drawings_keep_the_lanes_that_fit_and_count_the_others() {
    let mut rand = random(0x51_7cc1_b727_220a);
    let mut clipped = 0;
    for _ in 0..300 {
        let len = 1 + rand(40);
        let graph = build(&random_nodes(len, &mut rand));
        let every: Vec<&Revision> = graph.revisions().iter().collect();
        let order = if rand(2) == 0 { graph_order(&graph, &every) } else { every.clone() };
        let wide = lanes(&graph, &order);
        let max_lanes = 1 + rand(4);
        let narrow = bounded(&graph, &order, max_lanes);
        assert_eq!(bounded(&graph, &order, 1000), wide, "wide enough, nothing changes");
        assert_eq!(wide.lines().count(), narrow.lines().count(), "{wide}\n{narrow}");
        let limit = 2 * max_lanes;
        for (w, n) in wide.lines().zip(narrow.lines()) {
            let ((wg, wt), (ng, nt)) = (split_line(w, 'n'), split_line(n, 'n'));
            assert_eq!(wt, nt, "the same text on the same line:\n{wide}\n{narrow}");
            if wg.len() < limit {
                assert_eq!(ng, wg, "lines that fit are kept:\n{wide}\n{narrow}");
                continue;
            }
            clipped += 1;
            assert_eq!(ng[..limit], wg[..limit], "the lanes that fit are kept:\n{wide}\n{narrow}");
            let marker = if wg[limit..].contains('*') { '*' } else { ':' };
            let rest = &ng[limit..];
            assert!(rest.starts_with(marker) && rest[1..].starts_with('+'), "{w}\n{n}");
            let count: usize = rest[2..].parse().unwrap();
            assert!(count >= 1 && count <= len, "{n}");
        }
    }
    assert!(clipped > 300, "the graphs are wider than the bound on {clipped} lines only");
}

/// `log_graph` as it was before drawings were streamed and bounded (every lane kept in one
/// `String`): the reference the blocks of edges are checked against.
mod reference {
    use crate::graph::RevisionGraph;
    use crate::render::Cut;
    use crate::revision::Revision;

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
            let width =
                self.rows.iter().map(Vec::len).chain([self.node_row.len(), after.len()]).max().unwrap_or_default();
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
}

#[test]
fn the_drawing_is_the_one_drawn_before_it_was_streamed() {
    let mut rand = random(0x2f69_3c0e_5b1d_a447);
    let text = |r: &Revision| format!("{} {}", r.id, r.message).trim_end().to_string();
    for round in 0..400 {
        // Up to 80 revisions; some rounds with many roots and merges of many parents (wide).
        let len = 1 + rand(80);
        let mut nodes = random_nodes(len, &mut rand);
        if round % 3 == 0 {
            for n in nodes.iter_mut().filter(|_| rand(3) == 0) {
                n.parents.clear();
            }
            let at = rand(len);
            let many: Vec<String> = (0..at).filter(|_| rand(2) == 0).map(|j| format!("n{j}")).collect();
            nodes[at].parents = many;
        }
        let graph = build(&nodes);
        let every: Vec<&Revision> = graph.revisions().iter().collect();
        for order in [graph_order(&graph, &every), every.iter().rev().copied().collect(), every.clone()] {
            let expected = reference::log_graph(&graph, &order, text);
            assert_eq!(log_graph(&graph, &order, text), expected);
            let lanes = expected.lines().map(|l| l.find(|c: char| c.is_ascii_alphanumeric()).unwrap_or(l.len())).max();
            let fits = lanes.unwrap_or(0).div_ceil(2);
            assert_eq!(bounded(&graph, &order, fits.max(1)), expected, "bounded at {fits} lanes:\n{expected}");
        }
    }
}
