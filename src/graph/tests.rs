//! Unit tests of the graph, and the literal-graph helpers other modules
//! use in theirs (`revs`, `graph`).

use super::*;
use std::path::Path;

/// Builds revisions from `"id: parent parent | dep dep"` literals.
pub(crate) fn revs(spec: &[&str]) -> Vec<Revision> {
    spec.iter()
        .map(|line| {
            let (id, rest) = line.split_once(':').unwrap_or((line, ""));
            let (parents, deps) = rest.split_once('|').unwrap_or((rest, ""));
            let text = format!(
                "-- id: {}\n-- parents: {}\n-- depends-on: {}\n-- message: m {0}\n-- migrate:up\nSELECT 1;\n-- migrate:down\n",
                id.trim(),
                parents.trim(),
                deps.trim()
            );
            Revision::parse(Path::new(&format!("{}.sql", id.trim())), &text).unwrap()
        })
        .collect()
}

pub(crate) fn graph(spec: &[&str]) -> RevisionGraph {
    RevisionGraph::new(revs(spec)).unwrap()
}

fn ids(revs: Vec<&Revision>) -> Vec<&str> {
    revs.into_iter().map(|r| r.id.as_str()).collect()
}

#[test]
fn linear() {
    let g = graph(&["c: b", "a:", "b: a"]);
    assert_eq!(ids(g.heads()), ["c"]);
    assert_eq!(ids(g.roots()), ["a"]);
    assert!(g.branch_points().is_empty() && g.merge_points().is_empty());
    assert_eq!(ids(g.topological()), ["a", "b", "c"]);
    assert_eq!(ids(g.descendants("a")), ["b", "c"]);
    assert_eq!(ids(g.closure(["b"])), ["a", "b"]);
}

#[test]
fn fork_and_merge_diamond() {
    let g = graph(&["r:", "x: r", "b: r", "m: x b", "t: m"]);
    assert_eq!(ids(g.heads()), ["t"]);
    assert_eq!(ids(g.branch_points()), ["r"]);
    assert_eq!(ids(g.merge_points()), ["m"]);
    assert_eq!(ids(g.children("r")), ["b", "x"]);
    assert_eq!(ids(g.topological()), ["r", "b", "x", "m", "t"]);
    assert_eq!(ids(g.closure(["x"])), ["r", "x"]);
    assert_eq!(ids(g.descendants("b")), ["m", "t"]);
}

#[test]
fn several_roots_and_heads() {
    let g = graph(&["z:", "a:", "y: z", "b: a"]);
    assert_eq!(ids(g.roots()), ["a", "z"]);
    assert_eq!(ids(g.heads()), ["b", "y"]);
    assert_eq!(ids(g.topological()), ["a", "b", "z", "y"]);
}

#[test]
fn depends_on_orders_across_branches_but_is_not_a_parent() {
    let g = graph(&["r:", "a: r", "b: r | a"]);
    assert_eq!(ids(g.heads()), ["a", "b"], "a dependency still is a head");
    assert_eq!(ids(g.closure(["b"])), ["r", "a", "b"]);
    assert_eq!(ids(g.descendants("a")), ["b"]);
    // Ties go to the smallest ID only among revisions that are ready.
    let g = graph(&["r:", "a: r | z", "z: r"]);
    assert_eq!(ids(g.topological()), ["r", "z", "a"]);
}

#[test]
fn prefixes() {
    let g = graph(&["ab1:", "ab2: ab1", "b: ab2"]);
    let names = |p: &str| g.with_prefix(p).map(|n| g.rev(n).id.clone()).collect::<Vec<_>>();
    assert_eq!(names("ab"), ["ab1", "ab2"]);
    assert_eq!(names("ab2"), ["ab2"]);
    assert_eq!(names("c"), Vec::<String>::new());
    assert_eq!(names(""), ["ab1", "ab2", "b"]);
}

fn problems(spec: &[&str]) -> Vec<String> {
    RevisionGraph::new(revs(spec)).unwrap_err().problems.iter().map(ToString::to_string).collect()
}

#[test]
fn missing_parent_and_dependency_name_file_and_line() {
    assert_eq!(
        problems(&["a:", "b: a x | y"]),
        [
            "b.sql:2: revision `b` names parent `x`, which no revision file declares",
            "b.sql:3: revision `b` names dependency `y`, which is neither a revision ID nor a branch label"
        ]
    );
}

#[test]
fn depends_on_may_name_a_branch_label() {
    let mut revisions = revs(&["l1:", "l2: l1", "a:", "b: a | lib l2"]);
    revisions[0].links_mut().labels = vec!["lib".into()];
    let g = RevisionGraph::new(revisions).unwrap();
    // The label is the labelled revision, and rows and plans see its ID (once).
    assert_eq!(g.get("b").unwrap().depends_on(), ["l1", "l2"]);
    assert_eq!(ids(g.closure(["b"])), ["a", "l1", "l2", "b"]);
    assert_eq!(ids(g.descendants("l1")), ["l2", "b"]);
    assert_eq!(ids(g.heads()), ["b", "l2"], "a dependency through a label is no parent");
    let mut revisions = revs(&["l1:", "a: | lib l1"]);
    revisions[0].links_mut().labels = vec!["lib".into()];
    assert_eq!(RevisionGraph::new(revisions).unwrap().get("a").unwrap().depends_on(), ["l1"]);
    // Parents stay IDs only.
    let mut revisions = revs(&["l1:", "a: lib"]);
    revisions[0].links_mut().labels = vec!["lib".into()];
    let p = RevisionGraph::new(revisions).unwrap_err().problems;
    assert_eq!(p[0].to_string(), "a.sql:2: revision `a` names parent `lib`, which no revision file declares");
    // A label naming its own revision's dependent is a cycle.
    let mut revisions = revs(&["l1: | b", "b: | lib"]);
    revisions[0].links_mut().labels = vec!["lib".into()];
    let p = RevisionGraph::new(revisions).unwrap_err().problems;
    assert_eq!(p[0].to_string(), "cycle through parents/depends-on: b -> l1 -> b; files: b.sql:1, l1.sql:1");
}

#[test]
fn ids_are_case_sensitive() {
    let g = graph(&["Abc:", "abc: Abc", "ABC: abc"]);
    assert_eq!(ids(g.topological()), ["Abc", "abc", "ABC"]);
    assert_eq!(g.get("abc").unwrap().parents, ["Abc"]);
    assert!(g.get("aBc").is_none());
    let names = |p: &str| g.with_prefix(p).map(|n| g.rev(n).id.clone()).collect::<Vec<_>>();
    assert_eq!(names("A"), ["ABC", "Abc"], "prefixes match exact case");
    assert_eq!(names("a"), ["abc"]);
    assert_eq!(names("Ab"), ["Abc"]);
    // A label may differ from an ID in case only.
    let mut revisions = revs(&["Ibac91d24da2:", "x: Ibac91d24da2"]);
    revisions[1].links_mut().labels = vec!["ibac91d24da2".into()];
    assert!(RevisionGraph::new(revisions).is_ok());
    let mut revisions = revs(&["Ibac91d24da2:", "x: Ibac91d24da2"]);
    revisions[1].links_mut().labels = vec!["Ibac91d24da2".into()];
    assert!(RevisionGraph::new(revisions).is_err());
}

#[test]
fn duplicate_ids_name_every_file() {
    let mut revisions = revs(&["a:", "b: a"]);
    let mut copy = revisions[1].clone();
    copy.path = "other/b.sql".into();
    revisions.push(copy);
    let p = RevisionGraph::new(revisions).unwrap_err().problems;
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].to_string(), "duplicate revision ID `b` in b.sql:1, other/b.sql:1");
}

#[test]
fn cycles_through_parents_and_depends_on() {
    assert_eq!(
        problems(&["r:", "a: r c", "b: a", "c: b"]),
        ["cycle through parents/depends-on: a -> b -> c -> a; files: a.sql:1, b.sql:1, c.sql:1"]
    );
    assert_eq!(
        problems(&["r:", "a: r | b", "b: a"]),
        ["cycle through parents/depends-on: a -> b -> a; files: a.sql:1, b.sql:1"]
    );
    assert_eq!(problems(&["a: a"]), ["cycle through parents/depends-on: a -> a; files: a.sql:1"]);
}

#[test]
fn labels_used_twice_or_equal_to_an_id() {
    let mut revisions = revs(&["a:", "b: a", "c: a"]);
    revisions[1].links_mut().labels = vec!["feat".into()];
    revisions[1].lines.labels = HeaderLines::optional(4);
    revisions[2].links_mut().labels = vec!["feat".into(), "a".into()];
    revisions[2].lines.labels = HeaderLines::optional(4);
    let p: Vec<String> = RevisionGraph::new(revisions).unwrap_err().problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        p,
        [
            "c.sql:4: label `a` is also a revision ID, so targets naming it would be ambiguous",
            "label `feat` is used by more than one revision: b.sql:4, c.sql:4"
        ]
    );
}

#[test]
fn deep_chain_does_not_overflow() {
    let n = 100_000;
    let mut revisions = Vec::with_capacity(n);
    for i in 0..n {
        let parents = if i == 0 { String::new() } else { format!("r{:06}", i - 1) };
        let text = format!("-- id: r{i:06}\n-- parents: {parents}\n-- migrate:up\n");
        revisions.push(Revision::parse(Path::new("x.sql"), &text).unwrap());
    }
    let g = RevisionGraph::new(revisions).unwrap();
    assert_eq!(g.heads().len(), 1);
    assert_eq!(g.closure(["r099999"]).len(), n);
    assert_eq!(g.descendants("r000000").len(), n - 1);
    assert_eq!(g.topological().last().map(|r| r.id.as_str()), Some("r099999"));
}

/// The in-place sort by (ID, path) gives what a plain sort gives, for
/// every order of the input, and the index finds every ID, including IDs
/// that share their first 16 bytes and IDs that are prefixes of others.
#[test]
fn sort_by_id_and_index_agree_with_a_plain_sort() {
    let names = ["b", "a", "aaaaaaaaaaaaaaaa_x", "aaaaaaaaaaaaaaaa_w", "aaaaaaaaaaaaaaaa", "c9", "c", "A"];
    let mut seed = 7u64;
    for _ in 0..200 {
        let mut list = revs(&names);
        // A shuffle, and a duplicate ID in another file (same ID, later path).
        for i in (1..list.len()).rev() {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            list.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let mut twin = list[0].clone();
        twin.path = Path::new("zz.sql").to_path_buf();
        list.insert((seed >> 40) as usize % list.len(), twin);
        let mut expected = list.clone();
        expected.sort_by(|a, b| a.id.cmp(&b.id).then_with(|| a.path.cmp(&b.path)));
        sort_by_id(&mut list);
        assert_eq!(list, expected);
    }
    let graph = graph(&names);
    for (n, name) in graph.revisions().iter().map(|r| r.id.as_str()).enumerate() {
        assert_eq!(graph.node(name), Some(n), "{name}");
    }
    for absent in ["", "aaaaaaaaaaaaaaaa_", "aaaaaaaaaaaaaaaa_y", "c99", "B"] {
        assert_eq!(graph.node(absent), None, "{absent}");
    }
    // IDs with a zero byte (only a `Revision` built by hand has one) share
    // their key with a shorter ID: each is still found as itself only.
    let mut zeros = revs(&["a", "b"]);
    zeros[0].id = "a\0".into();
    zeros[1].id = "b\0\0c".into();
    let graph = RevisionGraph::new(zeros).unwrap();
    for (id, node) in [("a\0", Some(0)), ("a", None), ("a\0\0", None), ("b\0\0c", Some(1)), ("b", None), ("b\0", None)]
    {
        assert_eq!(graph.node(id), node, "{id:?}");
    }
    // Parents found together (in the order of their keys), long IDs that
    // share their first 16 bytes among them.
    let chain = self::graph(&[
        "b: aaaaaaaaaaaaaaaa",
        "aaaaaaaaaaaaaaaa_w: aaaaaaaaaaaaaaaa_x",
        "aaaaaaaaaaaaaaaa: aaaaaaaaaaaaaaaa_w",
        "aaaaaaaaaaaaaaaa_x: a",
        "a:",
    ]);
    let order: Vec<&str> = chain.topological().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["a", "aaaaaaaaaaaaaaaa_x", "aaaaaaaaaaaaaaaa_w", "aaaaaaaaaaaaaaaa", "b"]);
    let missing = RevisionGraph::new(revs(&["a:", "b: aaaaaaaaaaaaaaaa_y", "aaaaaaaaaaaaaaaa_x: a"])).unwrap_err();
    assert!(missing.to_string().contains("aaaaaaaaaaaaaaaa_y"), "{missing}");
    let graph = self::graph(&["a", "b"]);
    for id in ["a\0", "b\0\0", "\0"] {
        assert_eq!(graph.node(id), None, "{id:?}");
    }
}
