//! Tests of the drawings.

use std::collections::HashMap;

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
    class r_graph,r_subgraph,r_style applied
    class r_end pending
"#;
    assert_eq!(mermaid(&nodes), expected);
}

#[test]
fn mermaid_has_a_legend_when_the_database_was_read() {
    let plain = fork_merge();
    assert!(!mermaid(&plain).contains("legend"), "no database: no legend, as in DOT");
    let marked: Vec<DrawNode> =
        plain.into_iter().enumerate().map(|(i, n)| DrawNode { applied: Some(i > 1), ..n }).collect();
    let picture = mermaid(&marked);
    let legend = "    subgraph legend [\"legend\"]\n        legend_applied[\"applied\"]:::applied\n        \
                  legend_pending[\"pending\"]:::pending\n        legend_head[\"head\"]:::head\n        \
                  legend_merge{{\"merge point\"}}:::merge\n    end\n";
    assert!(picture.contains(legend), "{picture}");
    assert!(picture.contains("    classDef head stroke-width:3px\n"), "heads are outlined: {picture}");
    assert!(dot(&marked).contains("label=\"green: applied, dashed: pending, double outline: head"));
}
