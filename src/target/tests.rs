//! Unit tests of target resolution on small hand-drawn graphs.

use super::*;
use crate::graph::tests::graph;

fn ids(g: &RevisionGraph, r: Result<Resolved, TargetError>) -> Result<Vec<String>, String> {
    match r {
        Ok(Resolved::Base) => Ok(vec!["base".into()]),
        Ok(Resolved::Revisions(nodes)) => Ok(nodes.iter().map(|&n| g.rev(n).id.clone()).collect()),
        Err(e) => Err(e.to_string()),
    }
}

fn applied(g: &RevisionGraph, list: &[&str]) -> Vec<bool> {
    (0..g.len()).map(|n| list.contains(&g.rev(n).id.as_str())).collect()
}

/// r00 ─ a1 ─ a2 (label `feat-a` on a1) and r00 ─ b1 ─ b2 (label `b` on b1): two heads.
fn forked() -> RevisionGraph {
    let mut revisions = crate::graph::tests::revs(&["r00:", "a1: r00", "a2: a1", "b1: r00", "b2: b1"]);
    revisions[1].links_mut().labels = vec!["feat-a".into()];
    revisions[3].links_mut().labels = vec!["b".into()];
    RevisionGraph::new(revisions).unwrap()
}

#[test]
fn keywords_names_and_prefixes() {
    let g = forked();
    let r = Resolver { graph: &g, applied: None };
    assert_eq!(ids(&g, r.resolve("heads")), Ok(vec!["a2".into(), "b2".into()]));
    assert_eq!(ids(&g, r.resolve("base")), Ok(vec!["base".into()]));
    assert_eq!(ids(&g, r.resolve("r0")), Ok(vec!["r00".into()]));
    assert_eq!(ids(&g, r.resolve("feat-a")), Ok(vec!["a1".into()]), "a label ending in -N is a label");
    assert_eq!(ids(&g, r.resolve("feat-a+1")), Ok(vec!["a2".into()]), "and takes an offset");
    assert_eq!(ids(&g, r.resolve("feat-a-0")), Ok(vec!["a1".into()]));
    assert_eq!(ids(&g, r.resolve("b")), Ok(vec!["b1".into()]), "a label beats an ID prefix");
    assert_eq!(ids(&g, r.resolve("a")), Err("`a` is ambiguous: it is a prefix of a1 (m a1), a2 (m a2)".into()));
    assert_eq!(ids(&g, r.resolve("zz")), Err("no revision ID, prefix or label matches `zz`".into()));
    let e = r.resolve("head").unwrap_err();
    assert!(matches!(&e, TargetError::SeveralHeads { heads, .. } if heads.len() == 2));
}

#[test]
fn label_heads_and_steps() {
    let g = forked();
    let r = Resolver { graph: &g, applied: None };
    assert_eq!(ids(&g, r.resolve("feat-a@head")), Ok(vec!["a2".into()]));
    assert_eq!(ids(&g, r.resolve("b@head-1")), Ok(vec!["b1".into()]));
    assert_eq!(ids(&g, r.resolve("a2-2")), Ok(vec!["r00".into()]));
    assert_eq!(ids(&g, r.resolve("a2-3")), Ok(vec!["base".into()]));
    assert_eq!(ids(&g, r.resolve("a2-4")), Err("`a2-4`: there are only 3 step(s) below a2".into()));
    assert_eq!(ids(&g, r.resolve("a1+1")), Ok(vec!["a2".into()]));
    assert_eq!(ids(&g, r.resolve("a2+1")), Err("`a2+1`: there are only 0 step(s) above a2".into()));
    assert_eq!(
        ids(&g, r.resolve("r00+1")),
        Err("`r00+1`: the step up from r00 is ambiguous; choose one of a1 (m a1), b1 (m b1)".into())
    );
    assert!(matches!(r.resolve("nope@head"), Err(TargetError::Unknown { .. })));
    assert!(matches!(r.resolve("feat-a@head+"), Err(TargetError::Syntax { .. })));
    assert!(matches!(r.resolve("a b"), Err(TargetError::Syntax { .. })));
}

#[test]
fn relative_to_the_database() {
    let g = forked();
    let state = applied(&g, &["r00", "a1"]);
    let r = Resolver { graph: &g, applied: Some(&state) };
    assert_eq!(ids(&g, r.resolve("+1")), Ok(vec!["a2".into()]));
    assert_eq!(ids(&g, r.resolve("-1")), Ok(vec!["r00".into()]));
    assert_eq!(ids(&g, r.resolve("-2")), Ok(vec!["base".into()]));
    // Nothing on branch b is applied: b@+1 is its first revision.
    assert_eq!(ids(&g, r.resolve("b@+1")), Ok(vec!["b1".into()]));
    assert_eq!(ids(&g, r.resolve("b@+2")), Ok(vec!["b2".into()]));
    // Nothing of b's own branch is applied: b@-1 is b@base, never the global base.
    assert!(matches!(r.resolve_target("b@-1"), Ok(Target::Branch { at: None, .. })));
    assert_eq!(ids(&g, r.resolve("feat-a@+1")), Ok(vec!["a2".into()]));
    let empty = applied(&g, &[]);
    let r = Resolver { graph: &g, applied: Some(&empty) };
    assert_eq!(ids(&g, r.resolve("+1")), Ok(vec!["r00".into()]));
    let both = applied(&g, &["r00", "a1", "b1"]);
    let r = Resolver { graph: &g, applied: Some(&both) };
    assert!(matches!(r.resolve("+1"), Err(TargetError::DatabaseSeveralHeads { heads, .. }) if heads.len() == 2));
}

#[test]
fn merge_point_step_down_is_ambiguous() {
    let g = graph(&["r:", "x: r", "y: r", "m: x y"]);
    let r = Resolver { graph: &g, applied: None };
    assert!(
        matches!(r.resolve("m-1"), Err(TargetError::AmbiguousStep { up: false, choices, .. }) if choices.len() == 2)
    );
    assert_eq!(ids(&g, r.resolve("-0")), Ok(vec!["m".into()]));
}

#[test]
fn ranges() {
    let g = forked();
    let r = Resolver { graph: &g, applied: None };
    let names = |text: &str| range(&r, text).map(|v| v.iter().map(|&n| g.rev(n).id.clone()).collect::<Vec<_>>());
    assert_eq!(names("base:heads").unwrap(), ["r00", "a1", "a2", "b1", "b2"]);
    assert_eq!(names(":").unwrap().len(), 5);
    assert_eq!(names("a1:").unwrap(), ["a1", "a2"]);
    assert_eq!(names(":b1").unwrap(), ["r00", "b1"]);
    assert_eq!(names("b@head-1:b@head").unwrap(), ["b1", "b2"]);
    assert!(names("a1").is_err());
    let err = "range `a2:b1`: a2 is not an ancestor of b1, so nothing lies between them";
    assert_eq!(names("a2:b1").unwrap_err().to_string(), err);
    assert_eq!(names("a2:a1").unwrap_err().to_string().split(':').next(), Some("range `a2"));
    assert_eq!(
        names("heads:r00").unwrap_err().to_string(),
        "range `heads:r00`: none of a2, b2 is an ancestor of r00, so nothing lies between them"
    );
    assert!(names("a2:base").unwrap().is_empty(), "base as TO names no revision: an empty range, no error");
    // Listings with several heads: `head` means every head, `-N:` each head and N below it.
    assert_eq!(names("base:head").unwrap(), ["r00", "a1", "a2", "b1", "b2"]);
    assert_eq!(names("-1:").unwrap(), ["a1", "a2", "b1", "b2"]);
    assert_eq!(names("-0:").unwrap(), ["a2", "b2"]);
    assert_eq!(names("-5:a1").unwrap(), ["r00", "a1"]);
    // A huge N stops at the roots instead of counting to it (found by tests/fuzz.rs).
    assert_eq!(names(&format!("-{}:", i64::MAX)).unwrap().len(), 5);
}

/// `describe` of a plan target: IDs, `base`, or `B@<id>` / `B@base(start)`.
fn target(g: &RevisionGraph, r: &Resolver<'_>, text: &str) -> Result<String, String> {
    match r.resolve_target(text).map_err(|e| e.to_string())? {
        Target::Base => Ok("base".into()),
        Target::Revisions(nodes) => Ok(nodes.iter().map(|&n| g.rev(n).id.clone()).collect::<Vec<_>>().join(" ")),
        Target::Branch { scope, at: Some(n) } => Ok(format!("{}@{}", g.rev(scope.anchor).id, g.rev(n).id)),
        Target::Branch { scope, at: None } => Ok(format!("{}@base({})", g.rev(scope.anchor).id, g.rev(scope.start).id)),
    }
}

/// Alembic's BranchedPathTest shape: a ─ b ─ c1 (c1branch) ─ d1 and b ─ c2 (c2branch) ─ d2.
fn alembic_branched() -> RevisionGraph {
    let mut revisions = crate::graph::tests::revs(&["a:", "b: a", "c1: b", "d1: c1", "c2: b", "d2: c2"]);
    revisions[2].links_mut().labels = vec!["c1branch".into()];
    revisions[4].links_mut().labels = vec!["c2branch".into()];
    RevisionGraph::new(revisions).unwrap()
}

#[test]
fn branch_scoped_absolute_forms() {
    let g = alembic_branched();
    let r = Resolver { graph: &g, applied: None };
    assert_eq!(target(&g, &r, "c2branch@head"), Ok("c2@d2".into()));
    assert_eq!(target(&g, &r, "c2branch@head-1"), Ok("c2@c2".into()));
    assert_eq!(target(&g, &r, "c2branch@head-3"), Ok("c2@a".into()), "head-N counts along the lineage");
    assert_eq!(target(&g, &r, "c2branch@base"), Ok("c2@base(c2)".into()), "a label's start is itself");
    assert_eq!(target(&g, &r, "c2branch@base+2"), Ok("c2@b".into()));
    assert_eq!(target(&g, &r, "c2branch@base+3"), Ok("c2@c2".into()));
    assert_eq!(target(&g, &r, "c2branch@base+5"), Err("`c2branch@base+5`: there are only 4 step(s) above base".into()));
    assert_eq!(target(&g, &r, "c2@b"), Ok("c2@b".into()), "B may be a revision");
    assert_eq!(target(&g, &r, "d1@base"), Ok("d1@base(c1)".into()), "a revision's start stops below a branch point");
    assert_eq!(target(&g, &r, "d1@head"), Ok("d1@d1".into()));
    assert_eq!(target(&g, &r, "c2branch@d"), Ok("c2@d2".into()), "a prefix unique within the lineage");
    assert_eq!(target(&g, &r, "c2branch@c"), Ok("c2@c2".into()));
    assert_eq!(
        target(&g, &r, "c2branch@d1"),
        Err("`c2branch@d1`: d1 (m d1) is not on the lineage of `c2branch` (its ancestors and descendants)".into())
    );
    assert!(target(&g, &r, "b@head").unwrap_err().contains("has 2 heads"));
    assert_eq!(target(&g, &r, "zz@head"), Err("no revision ID, prefix or label matches `zz`".into()));
    assert!(matches!(r.resolve_target("c2branch@"), Err(TargetError::Syntax { .. })));
    // Outside plans, `B@<rev>` is the revision and `B@base` the empty state.
    assert_eq!(ids(&g, r.resolve("c2branch@base+2")), Ok(vec!["b".into()]));
    assert_eq!(ids(&g, r.resolve("c2branch@base")), Ok(vec!["base".into()]));
}

#[test]
fn branch_scoped_relative_forms() {
    let g = alembic_branched();
    let all = applied(&g, &["a", "b", "c1", "d1", "c2", "d2"]);
    let r = Resolver { graph: &g, applied: Some(&all) };
    assert_eq!(target(&g, &r, "c1branch@-1"), Ok("c1@c1".into()));
    assert_eq!(target(&g, &r, "c1branch@-2"), Ok("c1@base(c1)".into()), "below the start is B@base");
    assert_eq!(target(&g, &r, "c1branch@-40"), Ok("c1@base(c1)".into()));
    assert_eq!(target(&g, &r, "d1@-2"), Ok("d1@base(c1)".into()));
    assert_eq!(target(&g, &r, "c1branch@+1"), Err("`c1branch@+1`: there are only 0 step(s) above d1".into()));

    let some = applied(&g, &["a", "b", "c1"]);
    let r = Resolver { graph: &g, applied: Some(&some) };
    assert_eq!(target(&g, &r, "c2branch@+1"), Ok("c2@c2".into()), "from the database's head on the lineage (b)");
    assert_eq!(target(&g, &r, "c2branch@+2"), Ok("c2@d2".into()));
    assert_eq!(target(&g, &r, "c2branch@-1"), Ok("c2@base(c2)".into()), "b is below c2branch's start");
    assert_eq!(target(&g, &r, "c1branch@+1"), Ok("c1@d1".into()));

    let empty = applied(&g, &[]);
    let r = Resolver { graph: &g, applied: Some(&empty) };
    assert_eq!(target(&g, &r, "c2branch@+1"), Ok("c2@a".into()), "from the empty state, as Alembic does");
    assert_eq!(target(&g, &r, "c2branch@-1"), Ok("c2@base(c2)".into()));
    assert_eq!(target(&g, &r, "-1"), Err("`-1`: there are only 0 step(s) below base".into()));

    let both = applied(&g, &["a", "b", "c1", "d1", "c2"]);
    let r = Resolver { graph: &g, applied: Some(&both) };
    assert!(target(&g, &r, "b@+1").unwrap_err().contains("has 2 heads"), "b's lineage has two applied heads");
}

#[test]
fn relative_steps_name_where_the_walk_started() {
    let g = graph(&["a:", "b: a", "c: b", "d: c"]);
    let state = applied(&g, &["a"]);
    let r = Resolver { graph: &g, applied: Some(&state) };
    assert_eq!(ids(&g, r.resolve("+5")), Err("`+5`: there are only 3 step(s) above a".into()));
    assert_eq!(ids(&g, r.resolve("-3")), Err("`-3`: there are only 1 step(s) below a".into()));
    assert_eq!(relative_step(&g, "+5"), Some(5));
    assert_eq!(relative_step(&g, "x@-2"), Some(-2));
    assert_eq!(relative_step(&g, "a-2"), None, "an offset from a named revision is absolute");
}
