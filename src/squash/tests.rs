use std::collections::HashSet;
use std::path::Path;

use super::*;
use crate::backend::{Dialect, VersionRow};
use crate::graph::RevisionGraph;
use crate::plan::{plan, Verb};
use crate::revision::HeaderLines;
use crate::status::{Analysis, DbState};

/// `"id: parents | depends-on > replaces"`.
fn rev(spec: &str) -> Revision {
    let (spec, replaces) = spec.split_once('>').unwrap_or((spec, ""));
    let (id, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let (parents, deps) = rest.split_once('|').unwrap_or((rest, ""));
    let id = id.trim();
    let mut text = format!("-- id: {id}\n-- parents: {}\n-- depends-on: {}\n", parents.trim(), deps.trim());
    if !replaces.trim().is_empty() {
        text.push_str(&format!("-- replaces: {}\n", replaces.trim()));
    }
    text.push_str(&format!("-- migrate:up\nCREATE TABLE t_{id} (x INT);\n-- migrate:down\nDROP TABLE t_{id};\n"));
    Revision::parse(Path::new(&format!("{id}.sql")), &text).unwrap()
}

fn revs(specs: &[&str]) -> Vec<Revision> {
    specs.iter().map(|s| rev(s)).collect()
}

fn ids<'a>(revisions: impl IntoIterator<Item = &'a Revision>) -> Vec<&'a str> {
    revisions.into_iter().map(|r| r.id.as_str()).collect()
}

fn problems(specs: &[&str]) -> Vec<SquashProblemKind> {
    fold(revs(specs)).1.into_iter().map(|p| p.kind).collect()
}

/// a ─ b ─ c ─ d, and r (parent a) replaces b c.
const SQUASHED: [&str; 5] = ["a:", "b: a", "c: b", "d: c", "r: a > b c"];

#[test]
fn fold_puts_the_squash_in_place_of_what_it_replaces() {
    let graph = RevisionGraph::new(revs(&SQUASHED)).unwrap();
    assert_eq!(ids(graph.revisions()), ["a", "d", "r"]);
    assert_eq!(graph.rev_by_id("d").parents, ["r"], "d's parent c is now r");
    assert_eq!(ids(graph.rev_by_id("r").replaced()), ["b", "c"]);
    assert_eq!(graph.rev_by_id("r").replaced()[1].parents, ["b"], "replaced revisions keep their links");
    assert_eq!(ids(graph.heads()), ["d"]);
    // Folding again (as Analysis does with stored revisions) changes nothing.
    let again = RevisionGraph::new(graph.revisions().to_vec()).unwrap();
    assert_eq!(again.revisions(), graph.revisions());
}

#[test]
fn deleted_replaced_files_are_remapped_too() {
    // b and c deleted: d's parent c and e's dependency on b name r.
    let graph = RevisionGraph::new(revs(&["a:", "d: c", "e: d | b", "r: a > b c"])).unwrap();
    assert_eq!(graph.rev_by_id("d").parents, ["r"]);
    assert_eq!(graph.rev_by_id("e").depends_on(), ["r"]);
    assert!(graph.rev_by_id("r").replaced().is_empty());
    assert_eq!(ids(graph.topological()), ["a", "r", "d", "e"]);
}

#[test]
fn bad_replaces_are_reported_at_their_line() {
    let (_, found) = fold(revs(&["a:", "r: a > r"]));
    assert_eq!(found[0].to_string(), "r.sql:4: revision `r` replaces itself");
    assert_eq!(found[0].line, 4);
    assert_eq!(problems(&["a:", "b: a", "r: a > a b"]), [SquashProblemKind::ReplacesAncestor("a".into())]);
    assert_eq!(
        problems(&["a:", "b: a", "r: a > b", "s: a > b"]),
        [SquashProblemKind::ReplacedTwice { id: "b".into(), other: "r.sql".into(), other_line: 4 }]
    );
    assert_eq!(
        problems(&["a:", "r: a > s", "s: a > r"]),
        [SquashProblemKind::Cycle("s".into()), SquashProblemKind::Cycle("r".into())]
    );
    assert_eq!(problems(&["a:", "b: a", "r: a > b", "s: a > r"]), [SquashProblemKind::Nested("r".into())]);
    // x between b and c is not replaced.
    assert_eq!(
        problems(&["a:", "b: a", "x: b", "c: x", "r: a > b c"]),
        [SquashProblemKind::NotContiguous { outside: "x".into(), below: "b".into(), above: "c".into() }]
    );
    // ... also when it is only a dependency.
    assert!(matches!(
        problems(&["a:", "b: a", "x: a | b", "c: b | x", "r: a > b c"]).as_slice(),
        [SquashProblemKind::NotContiguous { .. }]
    ));
    // The squash may not sit above what it replaces.
    assert_eq!(problems(&["a:", "b: a", "c: b", "d: c", "r: d > b c"]), [SquashProblemKind::AboveReplaced("c".into())]);
    // The errors reach the graph, naming the file.
    let e = RevisionGraph::new(revs(&["a:", "b: a", "r: a > a b"])).unwrap_err();
    assert!(e.to_string().starts_with("r.sql:4: revision `r` replaces `a`"), "{e}");
}

fn set<'a>(rows: &[&'a str]) -> HashSet<&'a str> {
    rows.iter().copied().collect()
}

#[test]
fn view_counts_the_squash_when_all_or_none_are_applied() {
    let graph = RevisionGraph::new(revs(&SQUASHED)).unwrap();
    let view_of = |rows: &[&str]| view(graph.revisions(), &set(rows));
    assert_eq!(view_of(&[]).unwrap(), View::default());
    assert_eq!(view_of(&["a"]).unwrap(), View::default());
    let all = view_of(&["a", "b", "c"]).unwrap();
    assert_eq!(all.rewrites, [Rewrite { squash: "r".into(), record: true, drop: vec!["b".into(), "c".into()] }]);
    assert_eq!(all.applied(["a", "b", "c"]), ["a", "r"]);
    assert_eq!(view_of(&["a", "r"]).unwrap(), View::default());
    // Leftover rows beside the squash's own are dropped without recording it again.
    let leftover = view_of(&["a", "r", "b"]).unwrap();
    assert_eq!(leftover.rewrites, [Rewrite { squash: "r".into(), record: false, drop: vec!["b".into()] }]);
    // Partly applied, files present: the replaced revisions come back.
    assert_eq!(view_of(&["a", "b"]).unwrap(), View { rewrites: Vec::new(), unfolded: vec!["r".into()] });
}

#[test]
fn partly_applied_without_files_names_what_is_missing() {
    let graph = RevisionGraph::new(revs(&["a:", "b: a", "d: c", "r: a > b c"])).unwrap();
    let e = view(graph.revisions(), &set(&["a", "b"])).unwrap_err();
    assert_eq!(
        (e.applied.clone(), e.missing.clone(), e.without_files.clone()),
        (vec!["b".into()], vec!["c".into()], vec!["c".into()])
    );
    assert_eq!(
        e.to_string(),
        "revision r (r.sql) replaces b, c, of which the database has only b applied; c must run first, \
         but the file(s) of c are missing"
    );
}

#[test]
fn effective_graph_of_a_partly_applied_squash() {
    let graph = RevisionGraph::new(revs(&SQUASHED)).unwrap();
    let unfolded = effective(graph.revisions(), &["r".to_string()]);
    let graph = RevisionGraph::new(unfolded).unwrap();
    assert_eq!(ids(graph.topological()), ["a", "b", "c", "d"]);
    assert_eq!(graph.rev_by_id("d").parents, ["c"], "references to r name the last replaced revision");
}

fn row(r: &Revision) -> VersionRow {
    VersionRow {
        id: r.id.clone(),
        parents: r.parents.join(" "),
        message: r.message.clone(),
        checksum: r.checksum.to_string(),
        down_sql: r.down.clone(),
        applied_at: String::new(),
        execution_ms: 0,
        depends_on: Some(String::new()),
        transaction: 1,
    }
}

/// The plan `upgrade heads` makes on a database with `rows` (from the original files).
fn upgrade(files: &RevisionGraph, rows: &[&str]) -> Result<(String, Vec<Rewrite>), String> {
    let originals = revs(&SQUASHED);
    let rows = rows.iter().map(|id| row(originals.iter().find(|r| r.id == *id).unwrap())).collect();
    let db = DbState { exists: true, rows, ..DbState::default() };
    let analysis = Analysis::new(files, &db).map_err(|e| e.to_string())?;
    let plan = plan(analysis.graph(files), &analysis.state, Verb::Upgrade, &["heads"]).map_err(|e| e.to_string())?;
    let steps: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    Ok((steps.join(" "), analysis.squashes))
}

#[test]
fn plans_on_each_kind_of_database() {
    let files = RevisionGraph::new(revs(&SQUASHED)).unwrap();
    assert_eq!(upgrade(&files, &[]).unwrap(), ("a r d".into(), vec![]), "fresh: r runs instead of b and c");
    let (steps, rewrites) = upgrade(&files, &["a", "b", "c"]).unwrap();
    assert_eq!((steps.as_str(), rewrites[0].squash.as_str()), ("d", "r"), "all applied: r counts as applied");
    assert_eq!(upgrade(&files, &["a", "b"]).unwrap(), ("c d".into(), vec![]), "partial: c runs first");
    assert_eq!(upgrade(&files, &["a", "r", "d"]).unwrap(), ("".into(), vec![]));
    // Downgrading through r uses r itself.
    let db = DbState { exists: true, rows: revs(&SQUASHED)[..3].iter().map(row).collect(), ..DbState::default() };
    let analysis = Analysis::new(&files, &db).unwrap();
    let down = plan(analysis.graph(&files), &analysis.state, Verb::Downgrade, &["base"]).unwrap();
    assert_eq!(ids_of(&down), ["r", "a"]);
    // Partial without the files: an error before anything, naming c.
    let files = RevisionGraph::new(revs(&["a:", "b: a", "d: c", "r: a > b c"])).unwrap();
    let e = upgrade(&files, &["a", "b"]).unwrap_err();
    assert!(e.contains("c must run first"), "{e}");
}

fn ids_of(plan: &crate::plan::Plan) -> Vec<&str> {
    plan.steps.iter().map(|s| s.id.as_str()).collect()
}

fn file(id: &str, parents: &str, extra: &str, sections: &str) -> Revision {
    let text = format!("-- id: {id}\n-- parents: {parents}\n-- message: m {id}\n{extra}{sections}");
    Revision::parse(Path::new(&format!("{id}.sql")), &text).unwrap()
}

#[test]
fn range_concatenates_each_dialect() {
    let graph = RevisionGraph::new(vec![
        file("a", "", "-- labels: core\n", "-- migrate:up\nCREATE TABLE a (x INT);\n-- migrate:down\nDROP TABLE a;\n"),
        file(
            "b",
            "a",
            "",
            "-- migrate:up\nCREATE TABLE b (x INT);\n-- migrate:up postgres\nCREATE TABLE b (x SERIAL);\n\
             -- migrate:down\nDROP TABLE b;\n",
        ),
        file("c", "b", "-- depends-on: z\n", "-- migrate:up\nSELECT 3;\n-- migrate:down\n"),
        file("z", "", "", "-- migrate:up\n-- migrate:down\n"),
        file("d", "c", "", "-- migrate:up\n"),
    ])
    .unwrap();
    let s = squash_range(&graph, "a", "c").unwrap();
    assert_eq!(s.members, ["a", "b", "c"]);
    assert_eq!((s.parents.len(), s.depends_on.clone(), s.labels.clone()), (0, vec!["z".into()], vec!["core".into()]));
    assert!(s.irreversible_on.is_empty());
    let text = s.render("r", "squash", "2026-11-30T00:00:00Z");
    assert_eq!(text, s.render("r", "squash", "2026-11-30T00:00:00Z"), "deterministic");
    let r = Revision::parse(Path::new("r.sql"), &text).unwrap();
    assert_eq!(r.replaces(), ["a", "b", "c"]);
    assert_eq!(
        r.up_for(Dialect::Sqlite).map(str::trim_end),
        Some("-- from a: m a\nCREATE TABLE a (x INT);\n\n-- from b: m b\nCREATE TABLE b (x INT);\n\n-- from c: m c\nSELECT 3;")
    );
    assert!(r.up_for(Dialect::Postgres).unwrap().contains("CREATE TABLE b (x SERIAL);"));
    assert_eq!(
        r.down_for(Dialect::Mysql).map(str::trim_end),
        Some("-- from c: m c\n\n-- from b: m b\nDROP TABLE b;\n\n-- from a: m a\nDROP TABLE a;")
    );
    assert!(r.dialect_sql[0].up.is_none() && r.dialect_sql[2].up.is_none(), "only postgres differs");
    // d has no down section: the squash is irreversible and says where.
    let s = squash_range(&graph, "b", "d").unwrap();
    assert_eq!(s.irreversible_on, ["sqlite", "postgres", "mysql"]);
    let r = Revision::parse(Path::new("r.sql"), &s.render("r", "m", "2026-11-30T00:00:00Z")).unwrap();
    assert!(!r.is_reversible());
}

#[test]
fn ranges_that_cannot_be_squashed() {
    let sections = "-- migrate:up\nSELECT 1;\n-- migrate:down\n";
    let graph = RevisionGraph::new(vec![
        file("a", "", "", sections),
        file("b", "a", "", sections),
        file("c", "b", "", sections),
        file("x", "b", "", sections),
        file("m", "c x", "", sections),
        file("n", "m", "-- transaction: false\n", sections),
        file("o", "n", "", "-- migrate:up\nSELECT 1\n-- migrate:down\n"),
        file("p", "o", "", sections),
    ])
    .unwrap();
    let err = |from, to| squash_range(&graph, from, to).unwrap_err();
    assert!(matches!(err("a", "c"), RangeError::BranchPoint { id, .. } if id == "b"));
    assert_eq!(err("b", "n"), RangeError::Merge("m".into()));
    assert_eq!(err("c", "a"), RangeError::NotLinear { from: "c".into(), to: "a".into() });
    assert_eq!(err("a", "a"), RangeError::TooShort("a".into()));
    assert!(matches!(err("m", "o"), RangeError::MixedTransaction { .. }));
    assert!(matches!(err("o", "p"), RangeError::Unterminated { id, .. } if id == "o"));
    assert!(squash_range(&graph, "n", "n").is_err());
}

#[test]
fn replaces_is_a_header_key() {
    let r = rev("r: a > b c");
    assert_eq!((r.replaces(), r.lines.replaces), (&["b".to_string(), "c".to_string()][..], HeaderLines::optional(4)));
    assert!(rev("a:").replaces().is_empty());
    let bad = |value: &str| {
        let text = format!("-- id: r\n-- parents:\n-- replaces: {value}\n-- migrate:up\n");
        Revision::parse(Path::new("r.sql"), &text).unwrap_err().to_string()
    };
    assert_eq!(bad("b b"), "r.sql:3: `replaces` lists `b` twice");
    assert!(bad("b-c").starts_with("r.sql:3: invalid revision ID `b-c`"), "{}", bad("b-c"));
}
