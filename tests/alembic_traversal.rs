//! Alembic's traversal cases as table tests on migraph's planner.
//!
//! The histories are Alembic's documented examples (docs/build/tutorial.rst
//! and docs/build/branches.rst, with their revision IDs where the docs give
//! them) and the shapes its traversal suite names (branched, merged,
//! diamond, twin merges, depends-on criss-cross, cross-root dependencies).
//! Each case names the doc section (or suite shape) it comes from. The
//! expected plans follow SPEC.md §2–§4, which adopts Alembic's meaning:
//! `downgrade T` unapplies T's own line of work above it and what needs it,
//! never what merely depends on T; `B@…` moves only B's branch; `B@+N`
//! counts along B's lineage from the empty state when none of it is applied.
//! Where migraph deliberately differs (it refuses `-1` from several heads,
//! where Alembic picks one with a warning; among revisions ready at the same
//! time it applies the smallest ID first) the case says so.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{ok, sqlite_url, table_revision};
use migraph::{plan, Direction, Revision, RevisionGraph, State, Verb};

/// A history from `"id: parents | depends-on [label]"` lines.
fn history(lines: &[&str]) -> RevisionGraph {
    let revisions = lines
        .iter()
        .map(|line| {
            let (line, label) = match line.split_once('[') {
                Some((line, label)) => (line, label.trim_end_matches(']').trim()),
                None => (*line, ""),
            };
            let (id, rest) = line.split_once(':').expect("`id: parents`");
            let (parents, deps) = rest.split_once('|').unwrap_or((rest, ""));
            let labels = if label.is_empty() { String::new() } else { format!("-- labels: {label}\n") };
            let text = format!(
                "-- id: {}\n-- parents: {}\n-- depends-on: {}\n{labels}-- message: {0}\n-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n",
                id.trim(),
                parents.trim(),
                deps.trim()
            );
            Revision::parse(Path::new(&format!("{}.sql", id.trim())), &text).expect("revision parses")
        })
        .collect();
    RevisionGraph::new(revisions).expect("valid history")
}

/// One row: from the applied set `from`, `verb targets` gives `plan`
/// (`+id` applies, `-id` unapplies, in order) or an error containing `Err`.
struct Case {
    source: &'static str,
    from: &'static [&'static str],
    verb: Verb,
    targets: &'static [&'static str],
    expect: Result<&'static str, &'static str>,
}

fn case(
    source: &'static str,
    from: &'static [&'static str],
    verb: Verb,
    targets: &'static [&'static str],
    expect: Result<&'static str, &'static str>,
) -> Case {
    Case { source, from, verb, targets, expect }
}

use Verb::{Downgrade as Down, Migrate, Stamp, Upgrade as Up};

fn check(graph: &RevisionGraph, cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let state = State::new(graph, c.from.iter().copied()).expect("closed state");
        let got = plan(graph, &state, c.verb, c.targets).map(|p| {
            p.steps
                .iter()
                .map(|s| format!("{}{}", if s.direction == Direction::Up { "+" } else { "-" }, s.id))
                .collect::<Vec<_>>()
                .join(" ")
        });
        let ok = match (&got, c.expect) {
            (Ok(steps), Ok(expected)) => steps == expected,
            (Err(e), Err(part)) => e.to_string().contains(part),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "[{}] from {:?}: {} {:?}: expected {:?}, got {:?}",
                c.source,
                c.from,
                c.verb,
                c.targets,
                c.expect,
                got.map_err(|e| e.to_string())
            ));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n{}", failures.len(), failures.join("\n"));
}

const REL: &str = "tutorial.rst, Relative Migration Identifiers";

/// tutorial.rst, "Relative Migration Identifiers" (Alembic's RevisionPathTest
/// shape): a ─ b ─ c ─ d ─ e.
#[test]
fn linear_relative_identifiers() {
    let g = history(&["a:", "b: a", "c: b", "d: c", "e: d"]);
    let all: &[&str] = &["a", "b", "c", "d", "e"];
    check(
        &g,
        &[
            case(REL, &["a"], Up, &["+2"], Ok("+b +c")),
            case(REL, &["a"], Up, &["b+2"], Ok("+b +c +d")),
            case(REL, &["a"], Up, &["d-2"], Ok("+b")),
            case(REL, &["a", "b", "c"], Down, &["-1"], Ok("-c")),
            case(REL, all, Down, &["-3"], Ok("-e -d -c")),
            case(REL, &["a", "b", "c", "d"], Down, &["a+2"], Ok("-d")),
            case(REL, &["a", "b", "c", "d"], Down, &["c-2"], Ok("-d -c -b")),
            // "Relative revision +5 didn't produce 5 migrations": migraph says
            // how many steps exist from where the walk started.
            case(REL, &["a", "b"], Up, &["+5"], Err("there are only 3 step(s) above b")),
            case(REL, &["a", "b"], Down, &["-5"], Err("there are only 2 step(s) below b")),
            case(REL, &[], Down, &["-1"], Err("there are only 0 step(s) below base")),
            case(REL, &["a", "b"], Up, &["-2"], Err("upgrade `-2` goes the wrong way")),
            case(REL, &["a", "b"], Down, &["+2"], Err("downgrade `+2` goes the wrong way")),
            case(REL, &[], Up, &["+1"], Ok("+a")),
            case(REL, &[], Up, &["base+1"], Ok("+a")),
            case(REL, &["a"], Down, &["-1"], Ok("-a")),
            case("tutorial.rst, Downgrading", all, Down, &["base"], Ok("-e -d -c -b -a")),
            case("tutorial.rst, Downgrading", &[], Down, &["base"], Ok("")),
            // Downgrading to the current revision changes nothing; to one not
            // applied is an error (Alembic: "not a valid downgrade target").
            case(REL, all, Down, &["e"], Ok("")),
            case(REL, &["a"], Down, &["a"], Ok("")),
            case(REL, &["a", "b"], Down, &["c"], Err("cannot downgrade to c: not applied")),
            case(REL, &["a", "b", "c"], Migrate, &["base"], Ok("-c -b -a")),
        ],
    );
}

const EXPLICIT: &str = "branches.rst, Working with Explicit Branches";
const LABELS: &str = "branches.rst, Working with Branch Labels";
const BASES: &str = "branches.rst, Working with Multiple Bases";
const DEPS: &str = "branches.rst, Branch Dependencies";

/// The account / shopping cart / networking history of branches.rst, with
/// its revision IDs: 1975 branches into ae10 ─ 55af ─ 34e0 and 27c6
/// (shoppingcart) ─ d747; networking is its own root, and 2a95 depends on 55af.
fn documented_history() -> RevisionGraph {
    history(&[
        "1975ea83b712:",
        "ae1027a6acf: 1975ea83b712",
        "27c6a30d7c24: 1975ea83b712 [shoppingcart]",
        "d747a8a8879: 27c6a30d7c24",
        "55af2cb1c267: ae1027a6acf",
        "34e094ad6ef1: 55af2cb1c267",
        "3cac04ae8714: [networking]",
        "109ec7d132bf: 3cac04ae8714",
        "29f859a13ea: 109ec7d132bf",
        "2a95102259be: 29f859a13ea | 55af2cb1c267",
    ])
}

#[test]
fn documented_branches_labels_bases_and_dependencies() {
    let g = documented_history();
    let account: &[&str] = &["1975ea83b712", "ae1027a6acf", "55af2cb1c267", "34e094ad6ef1"];
    let everything: &[&str] = &[
        "1975ea83b712",
        "ae1027a6acf",
        "27c6a30d7c24",
        "d747a8a8879",
        "55af2cb1c267",
        "34e094ad6ef1",
        "3cac04ae8714",
        "109ec7d132bf",
        "29f859a13ea",
        "2a95102259be",
    ];
    check(
        &g,
        &[
            // "alembic upgrade head ... Multiple head revisions are present".
            case(EXPLICIT, &[], Up, &["head"], Err("the graph has 3 heads")),
            // Referring to a Specific Version: its ancestors and nothing more.
            case(EXPLICIT, &[], Up, &["27c6a"], Ok("+1975ea83b712 +27c6a30d7c24")),
            case(EXPLICIT, &["1975ea83b712", "27c6a30d7c24"], Up, &["ae102"], Ok("+ae1027a6acf")),
            // "alembic downgrade -1" from two heads: Alembic picks one with a
            // warning; migraph refuses and lists them.
            case(EXPLICIT, &["1975ea83b712", "ae1027a6acf", "27c6a30d7c24"], Down, &["-1"], Err("heads applied")),
            case(LABELS, &["1975ea83b712"], Up, &["shoppingcart@head"], Ok("+27c6a30d7c24 +d747a8a8879")),
            case(LABELS, &["1975ea83b712", "27c6a30d7c24"], Up, &["shoppingcart@+1"], Ok("+d747a8a8879")),
            case(LABELS, &[], Up, &["shoppingcart@+2"], Ok("+1975ea83b712 +27c6a30d7c24")),
            case(LABELS, &[], Up, &["ae10@head"], Ok("+1975ea83b712 +ae1027a6acf +55af2cb1c267 +34e094ad6ef1")),
            case(
                BASES,
                &[],
                Up,
                &["networking@head"],
                Ok("+1975ea83b712 +3cac04ae8714 +109ec7d132bf +29f859a13ea +ae1027a6acf +55af2cb1c267 +2a95102259be"),
            ),
            case(BASES, &[], Up, &["networking@base+2"], Ok("+3cac04ae8714 +109ec7d132bf")),
            // "If we downgraded all the files in networking using
            // networking@base, the dependencies aren't affected".
            case(
                DEPS,
                everything,
                Down,
                &["networking@base"],
                Ok("-2a95102259be -29f859a13ea -109ec7d132bf -3cac04ae8714"),
            ),
            // The dependency's own line of work goes; its dependent stays.
            case(DEPS, everything, Down, &["55af2cb1c267"], Ok("-34e094ad6ef1")),
            // Below the dependency, its dependent has to go.
            case(DEPS, everything, Down, &["ae1027a6acf"], Ok("-34e094ad6ef1 -2a95102259be -55af2cb1c267")),
            case(DEPS, everything, Down, &["shoppingcart@base"], Ok("-d747a8a8879 -27c6a30d7c24")),
            case(
                DEPS,
                everything,
                Stamp,
                &["networking@base"],
                Ok("-2a95102259be -29f859a13ea -109ec7d132bf -3cac04ae8714"),
            ),
            case(DEPS, account, Stamp, &["shoppingcart@head"], Ok("+27c6a30d7c24 +d747a8a8879")),
        ],
    );
}

const BRANCHED: &str = "branches.rst, More Label Syntaxes (BranchedPathTest shape)";

/// a ─ b ─ c1 (c1branch) ─ d1 and b ─ c2 (c2branch) ─ d2.
#[test]
fn branched() {
    let g = history(&["a:", "b: a", "c1: b [c1branch]", "d1: c1", "c2: b [c2branch]", "d2: c2"]);
    let all: &[&str] = &["a", "b", "c1", "d1", "c2", "d2"];
    let d1_c2: &[&str] = &["a", "b", "c1", "d1", "c2"];
    check(
        &g,
        &[
            case(BRANCHED, &["a"], Up, &["d1", "d2"], Ok("+b +c1 +c2 +d1 +d2")),
            case(BRANCHED, all, Down, &["a"], Ok("-d2 -d1 -c2 -c1 -b")),
            case(BRANCHED, &["a", "b"], Up, &["c2branch@head-1"], Ok("+c2")),
            case(BRANCHED, all, Down, &["base+2"], Ok("-d2 -d1 -c2 -c1")),
            case(BRANCHED, all, Down, &["c2branch@base+2"], Ok("-d2 -c2")),
            case(BRANCHED, all, Down, &["c2branch@base+3"], Ok("-d2")),
            case(BRANCHED, all, Down, &["c2"], Ok("-d2")),
            case(BRANCHED, all, Down, &["c1branch@-1"], Ok("-d1")),
            case(BRANCHED, all, Down, &["c1branch@-2"], Ok("-d1 -c1")),
            case(BRANCHED, all, Down, &["c1branch@-9"], Ok("-d1 -c1")),
            case(BRANCHED, all, Down, &["c1branch@head-1"], Ok("-d1")),
            case(BRANCHED, all, Down, &["c1branch@b"], Ok("-d1 -c1")),
            case(BRANCHED, all, Down, &["c2branch@b"], Ok("-d2 -c2")),
            case(BRANCHED, all, Down, &["c2@b"], Ok("-d2 -c2")),
            case(BRANCHED, all, Down, &["d1@b"], Ok("-d1 -c1")),
            case(BRANCHED, all, Down, &["d1@base"], Ok("-d1 -c1")),
            case(BRANCHED, all, Down, &["c1branch@base"], Ok("-d1 -c1")),
            case(BRANCHED, all, Down, &["d2-1"], Ok("-d2")),
            case(BRANCHED, all, Down, &["c2branch@d1"], Err("d1 (d1) is not on the lineage of `c2branch`")),
            case(BRANCHED, all, Down, &["-1"], Err("the database has 2 heads applied")),
            case(BRANCHED, &["a", "b", "c1"], Up, &["c2branch@+1"], Ok("+c2")),
            case(BRANCHED, &["a", "b", "c1", "c2"], Up, &["c2branch@+1"], Ok("+d2")),
            case(BRANCHED, &["a", "b", "c1", "c2"], Up, &["+1"], Err("the database has 2 heads applied")),
            // `expand@+1` on an empty database applies one revision, as in Alembic.
            case(BRANCHED, &[], Up, &["c2branch@+1"], Ok("+a")),
            case(BRANCHED, d1_c2, Down, &["c2"], Ok("")),
            case(BRANCHED, d1_c2, Down, &["d1"], Ok("")),
            case(BRANCHED, d1_c2, Stamp, &["c1branch@base"], Ok("-d1 -c1")),
            case(BRANCHED, d1_c2, Stamp, &["c2branch@head"], Ok("+d2")),
            case(BRANCHED, d1_c2, Stamp, &["b"], Ok("-d1 -c2 -c1")),
        ],
    );
}

const MERGED: &str = "branches.rst, Merging Branches (MergedPathTest shape)";

/// a ─ b ─ c1 ─ d1 ─ e ─ f and b ─ c2 (c2branch) ─ d2 ─ e.
#[test]
fn merged() {
    let g = history(&["a:", "b: a", "c1: b", "d1: c1", "c2: b [c2branch]", "d2: c2", "e: d1 d2", "f: e"]);
    let all: &[&str] = &["a", "b", "c1", "d1", "c2", "d2", "e", "f"];
    check(
        &g,
        &[
            case(MERGED, &["a", "b"], Up, &["f"], Ok("+c1 +c2 +d1 +d2 +e +f")),
            case(MERGED, all, Down, &["b"], Ok("-f -e -d2 -d1 -c2 -c1")),
            case(MERGED, all, Down, &["c2branch@base"], Ok("-f -e -d2 -c2")),
            case(MERGED, all, Down, &["c2branch@-1"], Ok("-f")),
            // Down c2branch's lineage the merge point has one parent, d2.
            case(MERGED, all, Down, &["c2branch@-3"], Ok("-f -e -d2")),
            case(MERGED, all, Down, &["e-1"], Err("the step down from e is ambiguous")),
            case(MERGED, &["a", "b", "c1", "d1", "c2"], Stamp, &["c2branch@head"], Ok("+d2 +e +f")),
            case(MERGED, all, Stamp, &["c2"], Ok("-f -e -d2 -d1 -c1")),
            case(MERGED, &["a", "b", "c2"], Stamp, &["e"], Ok("+c1 +d1 +d2 +e")),
        ],
    );
}

const DIAMOND: &str = "branches.rst, Merging Branches (the diamond)";

#[test]
fn diamond() {
    let g = history(&[
        "1975ea83b712:",
        "ae1027a6acf: 1975ea83b712",
        "27c6a30d7c24: 1975ea83b712",
        "53fffde5ad5: ae1027a6acf 27c6a30d7c24",
    ]);
    let all: &[&str] = &["1975ea83b712", "ae1027a6acf", "27c6a30d7c24", "53fffde5ad5"];
    check(
        &g,
        &[
            case(DIAMOND, &[], Up, &["head"], Ok("+1975ea83b712 +27c6a30d7c24 +ae1027a6acf +53fffde5ad5")),
            case(DIAMOND, &["1975ea83b712", "ae1027a6acf"], Up, &["head"], Ok("+27c6a30d7c24 +53fffde5ad5")),
            case(DIAMOND, all, Down, &["27c6a30d7c24"], Ok("-53fffde5ad5")),
            // Alembic unmerges on `downgrade -1`; a step down from a merge point
            // is ambiguous in migraph (SPEC §3), which lists both parents.
            case(DIAMOND, all, Down, &["-1"], Err("the step down from 53fffde5ad5 is ambiguous")),
            // A merge point starts its own branch: one step below it is `53ff@base`.
            case(DIAMOND, all, Down, &["53fffde5ad5@-1"], Ok("-53fffde5ad5")),
            case(DIAMOND, all, Down, &["ae10@-1"], Ok("-53fffde5ad5")),
            case(DIAMOND, all, Down, &["1975ea83b712"], Ok("-53fffde5ad5 -ae1027a6acf -27c6a30d7c24")),
        ],
    );
}

const TWIN: &str = "TwinMergeTest shape (two merge points of the same branches)";

/// a ─ b1, b2, b3; c1 and c2 both merge b1 b2 b3; d1 on c1, d2 on c2.
#[test]
fn twin_merges() {
    let g = history(&["a:", "b1: a", "b2: a", "b3: a", "c1: b1 b2 b3", "c2: b1 b2 b3", "d1: c1", "d2: c2"]);
    let all: &[&str] = &["a", "b1", "b2", "b3", "c1", "c2", "d1", "d2"];
    check(
        &g,
        &[
            case(TWIN, &["a"], Up, &["heads"], Ok("+b1 +b2 +b3 +c1 +c2 +d1 +d2")),
            case(TWIN, &["a", "b1", "b2", "b3"], Up, &["d2"], Ok("+c2 +d2")),
            case(TWIN, all, Down, &["b2"], Ok("-d2 -d1 -c2 -c1")),
            case(TWIN, all, Down, &["c1"], Ok("-d1")),
            case(TWIN, all, Down, &["d1@base"], Ok("-d1 -c1")),
            case(TWIN, all, Down, &["c2@base"], Ok("-d2 -c2")),
            case(TWIN, all, Down, &["d2@-1"], Ok("-d2")),
            case(TWIN, all, Stamp, &["d1@base"], Ok("-d1 -c1")),
        ],
    );
}

const CRISS: &str = "DependsOnBranchTestThree shape (depends-on criss-cross), branches.rst Branch Dependencies";

/// a1 ─ a2 ─ a3 and b1 ─ b2 ─ b3, roots a1 and b1; b2 depends on a2, a3 on b1.
#[test]
fn depends_on_criss_cross() {
    let g = history(&["a1:", "a2: a1", "b1:", "b2: b1 | a2", "b3: b2", "a3: a2 | b1"]);
    let heads_a3_b2: &[&str] = &["a1", "a2", "a3", "b1", "b2"];
    let all: &[&str] = &["a1", "a2", "a3", "b1", "b2", "b3"];
    check(
        &g,
        &[
            case(CRISS, heads_a3_b2, Down, &["b1"], Ok("-b2")),
            case(CRISS, heads_a3_b2, Down, &["a2"], Ok("-a3")),
            case(CRISS, all, Down, &["a1"], Ok("-b3 -b2 -a3 -a2")),
            case(CRISS, all, Down, &["b1@base"], Ok("-b3 -b2 -a3 -b1")),
            case(CRISS, &[], Up, &["b3"], Ok("+a1 +a2 +b1 +b2 +b3")),
        ],
    );
}

const CROSS_ROOT: &str = "DependsOnBranchTestTwo shape (cross-root dependencies), branches.rst Branch Dependencies";

/// Roots a1 a2 a3 → amerge, b1 b2 → bmerge, c1 c2 c3 → cmerge, and a root
/// d1 depending on a3, b2 and c1.
#[test]
fn cross_root_dependencies() {
    let g = history(&[
        "a1:",
        "a2:",
        "a3:",
        "amerge: a1 a2 a3",
        "b1:",
        "b2:",
        "bmerge: b1 b2",
        "c1:",
        "c2:",
        "c3:",
        "cmerge: c1 c2 c3",
        "d1: | a3 b2 c1",
    ]);
    let all: &[&str] = &["a1", "a2", "a3", "amerge", "b1", "b2", "bmerge", "c1", "c2", "c3", "cmerge", "d1"];
    let no_bmerge: &[&str] = &["a1", "a2", "a3", "amerge", "b1", "b2", "c1", "c2", "c3", "cmerge", "d1"];
    check(
        &g,
        &[
            // Alembic: b2 stays implied by d1; only bmerge goes.
            case(CROSS_ROOT, all, Down, &["b2"], Ok("-bmerge")),
            case(CROSS_ROOT, no_bmerge, Down, &["d1@base"], Ok("-d1")),
            case(CROSS_ROOT, all, Down, &["b2@base"], Ok("-d1 -bmerge -b2")),
            case(CROSS_ROOT, all, Down, &["base"], Ok("-d1 -cmerge -c3 -c2 -c1 -bmerge -b2 -b1 -amerge -a3 -a2 -a1")),
            case(CROSS_ROOT, &[], Up, &["d1"], Ok("+a3 +b2 +c1 +d1")),
        ],
    );
}

const LIB: &str = "DependsOnBranchTestOne shape (labelled root lib1), branches.rst Branch Dependencies";

/// lib1: a1 ─ b1 ─ c1 ─ d1 ─ e1 ─ f1; a2 ─ b2 ─ c2 with c2 depending on c1.
#[test]
fn labelled_root_with_a_dependent_root() {
    let g = history(&["a1: [lib1]", "b1: a1", "c1: b1", "d1: c1", "e1: d1", "f1: e1", "a2:", "b2: a2", "c2: b2 | c1"]);
    let heads_c2_d1: &[&str] = &["a1", "b1", "c1", "d1", "a2", "b2", "c2"];
    let heads_c2_e1: &[&str] = &["a1", "b1", "c1", "d1", "e1", "a2", "b2", "c2"];
    check(
        &g,
        &[
            case(LIB, heads_c2_d1, Down, &["c1"], Ok("-d1")),
            case(LIB, heads_c2_e1, Stamp, &["b1"], Ok("-e1 -d1 -c2 -c1 -b2 -a2")),
            case(LIB, heads_c2_e1, Down, &["lib1@base"], Ok("-e1 -d1 -c2 -c1 -b1 -a1")),
            case(LIB, heads_c2_e1, Down, &["lib1@-2"], Ok("-e1 -d1")),
            case(LIB, heads_c2_e1, Down, &["c2@base"], Ok("-c2 -b2 -a2")),
        ],
    );
}

const FIVE: &str = "DependsOnBranchTestFive / BranchFromMergepointTest shapes";

#[test]
fn merge_of_a_dependency_and_a_branch_from_a_merge_point() {
    // a1, and a root b1 that depends on a1; bmerge merges both.
    let g = history(&["a1:", "b1: | a1", "bmerge: a1 b1"]);
    check(
        &g,
        &[
            case(FIVE, &["a1", "b1", "bmerge"], Down, &["a1"], Ok("-bmerge")),
            case(FIVE, &["a1", "b1", "bmerge"], Down, &["b1"], Ok("-bmerge")),
            case(FIVE, &["a1"], Up, &["b1"], Ok("+b1")),
        ],
    );
    // a1 ─ b1 ─ c1 and a2 ─ b2 ─ c2 ─ d2; d1 merges c1 and c2.
    let g = history(&["a1:", "b1: a1", "c1: b1", "a2:", "b2: a2", "c2: b2", "d1: c1 c2", "d2: c2"]);
    let all: &[&str] = &["a1", "b1", "c1", "a2", "b2", "c2", "d1", "d2"];
    check(
        &g,
        &[
            case(FIVE, &["a1", "b1", "a2", "b2", "c2", "d2"], Up, &["d1"], Ok("+c1 +d1")),
            case(FIVE, all, Down, &["b1"], Ok("-d1 -c1")),
            case(FIVE, all, Down, &["d2@base"], Ok("-d2")),
        ],
    );
}

const FOREST: &str = "branches.rst, Working with Multiple Bases (ForestTest shape)";

#[test]
fn forest() {
    let g = history(&["a1:", "b1: a1", "a2:", "b2: a2"]);
    let all: &[&str] = &["a1", "b1", "a2", "b2"];
    check(
        &g,
        &[
            // Alembic runs one tree after the other; migraph takes the smallest ready ID.
            case(FOREST, &[], Up, &["heads"], Ok("+a1 +a2 +b1 +b2")),
            case(FOREST, &[], Stamp, &["heads"], Ok("+a1 +a2 +b1 +b2")),
            case(FOREST, all, Stamp, &["heads"], Ok("")),
            case(FOREST, all, Down, &["a1@base"], Ok("-b1 -a1")),
            case(FOREST, all, Down, &["b2@-1"], Ok("-b2")),
            case(FOREST, all, Down, &["b2@-2"], Ok("-b2 -a2")),
            case(FOREST, &["a1", "b1"], Up, &["b2@+1"], Ok("+a2")),
        ],
    );
}

/// The version table's IDs in the project's SQLite file.
fn recorded(dir: &Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(dir.join("app.db")).expect("open");
    let mut statement = conn.prepare("SELECT id FROM migraph_revisions").expect("prepare");
    statement.query_map([], |row| row.get::<_, String>(0)).expect("query").map(|id| id.expect("id")).collect()
}

/// The README's "Coming from Alembic" table, run through the binary on the
/// BranchedPathTest shape (a ─ b ─ c1 (c1branch) ─ d1, b ─ c2 (c2branch) ─ d2).
#[test]
fn readme_alembic_commands_through_the_binary() {
    let dir = common::project();
    let d = dir.path();
    let url = sqlite_url(d);
    for (id, parents) in [("a", ""), ("b", "a"), ("c1", "b"), ("d1", "c1"), ("c2", "b"), ("d2", "c2")] {
        table_revision(d, id, parents);
    }
    for (id, label) in [("c1", "c1branch"), ("c2", "c2branch")] {
        let path = d.join("revisions").join(format!("{id}.sql"));
        let text = std::fs::read_to_string(&path).expect("read");
        std::fs::write(&path, text.replacen("-- message:", &format!("-- labels: {label}\n-- message:"), 1))
            .expect("write");
    }
    let set = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<BTreeSet<String>>();
    let tables = || -> BTreeSet<String> {
        common::sqlite_tables(&d.join("app.db"))
            .iter()
            .filter_map(|t| t.strip_prefix("t_"))
            .map(str::to_string)
            .collect()
    };

    // alembic upgrade heads
    ok(d, &url, &["upgrade", "heads"]);
    assert_eq!(recorded(d), set(&["a", "b", "c1", "d1", "c2", "d2"]));
    // alembic downgrade c1branch@base
    ok(d, &url, &["downgrade", "c1branch@base"]);
    assert_eq!(recorded(d), set(&["a", "b", "c2", "d2"]));
    assert_eq!(tables(), set(&["a", "b", "c2", "d2"]));
    // alembic upgrade c1branch@+1, then c1branch@head
    ok(d, &url, &["upgrade", "c1branch@+1"]);
    assert_eq!(recorded(d), set(&["a", "b", "c1", "c2", "d2"]));
    ok(d, &url, &["upgrade", "c1branch@head"]);
    // alembic downgrade c2branch@-1
    ok(d, &url, &["downgrade", "c2branch@-1"]);
    assert_eq!(recorded(d), set(&["a", "b", "c1", "d1", "c2"]));
    // alembic stamp c2branch@head: records d2, runs nothing
    ok(d, &url, &["stamp", "c2branch@head"]);
    assert_eq!(recorded(d), set(&["a", "b", "c1", "d1", "c2", "d2"]));
    assert!(!tables().contains("d2"), "stamp runs no SQL");
    ok(d, &url, &["stamp", "c2branch@c2"]);
    // alembic downgrade -1 (from a single head)
    ok(d, &url, &["migrate", "d1"]);
    ok(d, &url, &["downgrade", "-1"]);
    assert_eq!(recorded(d), set(&["a", "b", "c1"]));
    // alembic upgrade +1
    ok(d, &url, &["upgrade", "+1"]);
    assert_eq!(recorded(d), set(&["a", "b", "c1", "d1"]));
    // alembic downgrade base
    ok(d, &url, &["downgrade", "base"]);
    assert!(recorded(d).is_empty() && tables().is_empty());
}
