//! Specific hostile inputs: bytes the parser must refuse politely, sizes that
//! must not blow up time or the stack, symlink mazes, ambiguous names and
//! values at their limits. Revision files go through the real binary: a
//! rejection is exit code 1 with a first stderr line `error: <file>:<line>:
//! ...`, never exit code 101 (a panic). Graph walks on 100,000 revisions run
//! at the library level, in memory.
//!
//! `MIGRAPH_STRESS_FULL=1` makes the file-based chain 100,000 revisions
//! instead of 20,000.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

use migraph::backend::Dialect;
use migraph::render;
use migraph::{plan, Direction, Problem, Revision, RevisionGraph, State, Verb};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// No command may take longer than this (a hang fails instead of blocking CI).
const TIMEOUT: Duration = Duration::from_secs(120);

fn migraph(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("migraph").expect("binary");
    cmd.current_dir(dir).env_remove("DATABASE_URL").env("NO_COLOR", "1").timeout(TIMEOUT);
    cmd
}

/// Writes `revisions/<name>` (creating folders).
fn put(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join("revisions").join(name);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(&path, bytes).expect("write");
    path
}

fn text(id: &str, parents: &str, extra: &str) -> String {
    format!("-- id: {id}\n-- parents: {parents}\n-- message: msg {id}\n{extra}\n-- migrate:up\nSELECT 1;\n-- migrate:down\n")
}

fn rev(dir: &Path, id: &str, parents: &str, extra: &str) {
    put(dir, &format!("{id}.sql"), text(id, parents, extra));
}

/// At most a few thousand characters of command output, for messages.
fn clip(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.len() <= 3000 {
        return text.into_owned();
    }
    let mut end = 3000;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... ({} bytes)", &text[..end], text.len())
}

/// Runs `args` in `dir`, reporting how long it took.
fn run(dir: &Path, args: &[&str]) -> Output {
    let started = Instant::now();
    let out = migraph(dir).args(args).output().expect("run migraph");
    eprintln!("migraph {} took {:.2} s", args.join(" "), started.elapsed().as_secs_f64());
    assert_ne!(out.status.code(), Some(101), "migraph {args:?} panicked:\n{}", clip(&out.stderr));
    out
}

/// Runs and expects success; returns stdout.
fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "migraph {args:?} failed with {:?}:\nstderr: {}\nstdout: {}",
        out.status.code(),
        clip(&out.stderr),
        clip(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("UTF-8 stdout")
}

/// Runs and expects exit code 1 with an `error: ` first line; returns stderr.
fn fails(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "migraph {args:?} should fail with exit code 1:\nstderr: {}\nstdout: {}",
        clip(&out.stderr),
        clip(&out.stdout)
    );
    let stderr = String::from_utf8(out.stderr).expect("UTF-8 stderr");
    assert!(stderr.starts_with("error: "), "migraph {args:?}: {}", clip(stderr.as_bytes()));
    stderr
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&ok(dir, &all)).expect("JSON")
}

/// Every command that reads the revision files refuses a broken one with the
/// same first line.
fn every_reader_fails_with(dir: &Path, first: &str) {
    for args in [&["check"][..], &["heads"], &["history"], &["show", "a"], &["upgrade", "heads", "--sql"]] {
        let stderr = fails(dir, args);
        assert_eq!(first_line(&stderr), first, "migraph {args:?}:\n{stderr}");
    }
}

// ---------------------------------------------------------------------------
// 1. Bytes: NUL, invalid UTF-8, BOM, CRLF
// ---------------------------------------------------------------------------

#[test]
fn nul_bytes_and_invalid_utf8_name_file_and_line() {
    let cases: [(&str, &[u8], &str); 7] = [
        (
            "NUL in the header",
            b"-- id: b\n-- parents: a\n-- mess\0age: x\n-- migrate:up\nSELECT 1;\n",
            "error: revisions/bad.sql:3: the file contains a NUL byte",
        ),
        (
            "NUL in the SQL",
            b"-- id: b\n-- parents: a\n-- migrate:up\nSELECT 1;\nSELECT '\0';\n",
            "error: revisions/bad.sql:5: the file contains a NUL byte",
        ),
        ("only a NUL", b"\0", "error: revisions/bad.sql:1: the file contains a NUL byte"),
        (
            "Latin-1 message",
            b"-- id: b\n-- parents: a\n-- message: caf\xe9\n-- migrate:up\n",
            "error: revisions/bad.sql:3: the file is not valid UTF-8",
        ),
        (
            "UTF-16 with its BOM",
            b"\xff\xfe-\0-\0 \0i\0d\0:\0 \0b\0\n\0",
            "error: revisions/bad.sql:1: the file is not valid UTF-8",
        ),
        (
            "truncated UTF-8 at the very end",
            b"-- id: b\n-- parents: a\n-- migrate:up\nSELECT '\xc3",
            "error: revisions/bad.sql:4: the file is not valid UTF-8",
        ),
        (
            "an encoded surrogate",
            b"-- id: b\n-- parents: a\n-- migrate:up\n\n\nSELECT '\xed\xa0\x80';\n",
            "error: revisions/bad.sql:6: the file is not valid UTF-8",
        ),
    ];
    for (name, bytes, first) in cases {
        let dir = tempfile::tempdir().unwrap();
        rev(dir.path(), "a", "", "");
        put(dir.path(), "bad.sql", bytes);
        eprintln!("case: {name}");
        every_reader_fails_with(dir.path(), first);
    }
}

#[test]
fn other_malformed_files_name_the_file() {
    let cases: [(&str, &[u8], &str); 5] = [
        ("empty file", b"", "error: revisions/bad.sql: missing `-- id:` header line"),
        ("only blank lines", b"\n\n\r\n  \n", "error: revisions/bad.sql: missing `-- id:` header line"),
        // Old Mac line endings: the whole file is one line, which PostgreSQL
        // would split at each CR (a `--` comment ends there): refused.
        (
            "CR-only line endings",
            b"-- id: b\r-- parents: a\r-- migrate:up\rSELECT 1;\r",
            "error: revisions/bad.sql:1: a carriage return inside the line (old Mac line endings?): some databases end \
             a `--` comment there, this parser does not; save the file with LF or CRLF line endings",
        ),
        (
            "a marker twice, padded",
            b"-- id: b\n-- parents: a\n-- migrate:up\nSELECT 1;\n \t-- migrate:up\r\n",
            "error: revisions/bad.sql:5: ` \t-- migrate:up` is not a section marker: did you mean `-- migrate:up` at \
             the start of the line? (a marker reads exactly `-- migrate:up` or `-- migrate:down`, optionally followed by \
             one space and `sqlite`, `postgres` or `mysql`)",
        ),
        (
            "a second BOM",
            "\u{feff}\u{feff}-- id: b\n-- parents: a\n-- migrate:up\n".as_bytes(),
            "error: revisions/bad.sql:1: SQL before `-- migrate:up`: statements must be inside a section",
        ),
    ];
    for (name, bytes, first) in cases {
        let dir = tempfile::tempdir().unwrap();
        rev(dir.path(), "a", "", "");
        put(dir.path(), "bad.sql", bytes);
        eprintln!("case: {name}");
        let stderr = fails(dir.path(), &["check"]);
        assert_eq!(first_line(&stderr), first, "{name}:\n{stderr}");
    }
}

/// `users` on one branch, `orders` on another that needs it: the
/// dependency is what makes `upgrade orders` create `users` first.
fn dependency_after_a_comment(d: &Path, orders_header: &str) {
    rev(d, "users", "", "");
    rev(d, "other", "", "");
    put(
        d,
        "orders.sql",
        format!("-- id: orders\n-- parents: other\n{orders_header}-- migrate:up\nSELECT 1;\n-- migrate:down\n"),
    );
}

/// Either the key counts, or the file is refused naming the line: a known
/// key must never be dropped without a word.
fn key_is_not_silently_dropped(d: &Path, line: usize, honoured: impl Fn(&Value) -> bool) {
    let out = run(d, &["check", "--allow-multiple-heads"]);
    if out.status.success() {
        let shown = json(d, &["show", "orders"]);
        assert!(honoured(&shown), "the key on line {line} was silently ignored: {shown}");
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1));
        assert!(first_line(&stderr).starts_with(&format!("error: revisions/orders.sql:{line}: ")), "{stderr}");
    }
}

/// The module documentation of revision.rs: "Parsing is strict because a
/// typo in a header key would otherwise silently change the graph". A
/// comment line ends the header, and a `-- depends-on:` after it is then
/// taken for a comment: `check` says ok and `upgrade orders` no longer
/// applies `users` first.
#[test]
fn a_header_key_after_a_comment_is_not_silently_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    dependency_after_a_comment(d, "-- orders need the users table of the other branch\n-- depends-on: users\n");
    key_is_not_silently_dropped(d, 4, |shown| shown["depends_on"] == serde_json::json!(["users"]));
}

#[test]
fn a_header_key_with_a_space_before_the_colon_is_not_silently_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    dependency_after_a_comment(d, "-- transaction : false\n");
    key_is_not_silently_dropped(d, 3, |shown| shown["transaction"] == false);
}

#[test]
fn a_utf8_bom_and_crlf_everywhere_are_accepted() {
    let lf = "-- id: b\n-- parents: a\n-- message: crlf and bom\n-- labels: rel-2\n\n-- migrate:up\n\
              CREATE TABLE t (x INT);   \nINSERT INTO t VALUES (1);\n\n-- migrate:down\nDROP TABLE t;\n";
    let plain = tempfile::tempdir().unwrap();
    rev(plain.path(), "a", "", "");
    put(plain.path(), "b.sql", lf);
    let reference = json(plain.path(), &["show", "b"]);

    for (name, content) in [
        ("BOM", format!("\u{feff}{lf}")),
        ("CRLF", lf.replace('\n', "\r\n")),
        ("BOM and CRLF", format!("\u{feff}{}", lf.replace('\n', "\r\n"))),
        ("CRLF without a final line break", lf.replace('\n', "\r\n").trim_end().to_string()),
    ] {
        let dir = tempfile::tempdir().unwrap();
        rev(dir.path(), "a", "", "");
        put(dir.path(), "b.sql", &content);
        assert_eq!(ok(dir.path(), &["check"]), "ok: 2 revisions, 1 head(s): b\n", "{name}");
        let shown = json(dir.path(), &["show", "rel-2"]);
        for key in ["id", "parents", "message", "labels", "checksum", "reversible"] {
            assert_eq!(shown[key], reference[key], "{name}: {key}");
        }
        assert!(!shown["up"].as_str().unwrap().contains('\r'), "{name}: {}", shown["up"]);
        let script = ok(dir.path(), &["upgrade", "heads", "--sql"]);
        assert!(!script.contains('\r') && script.contains("INSERT INTO t VALUES (1);"), "{name}:\n{script}");
    }
}

// ---------------------------------------------------------------------------
// 2. Enormous headers and sections
// ---------------------------------------------------------------------------

#[test]
fn a_five_megabyte_message_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "a", "", "");
    let message = "m".repeat(5 << 20);
    put(d, "big.sql", format!("-- id: big\n-- parents: a\n-- message: {message}\n-- migrate:up\nSELECT 1;\n"));
    assert_eq!(ok(d, &["check"]), "ok: 2 revisions, 1 head(s): big\n");
    let heads = ok(d, &["heads"]);
    assert_eq!(heads.len(), "big (head) ".len() + message.len() + 1);
    let shown = json(d, &["show", "big"]);
    assert_eq!(shown["message"].as_str().map(str::len), Some(message.len()));
    assert_eq!(shown["reversible"], false);
}

#[test]
fn a_hundred_thousand_blank_lines_before_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let blank = "\n".repeat(100_000);
    put(d, "a.sql", format!("{blank}-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\n-- migrate:down\n"));
    rev(d, "b", "a", "");
    assert_eq!(ok(d, &["check"]), "ok: 2 revisions, 1 head(s): b\n");
    assert_eq!(json(d, &["show", "a"])["id"], "a");
    // An error far down still names its line.
    put(d, "far.sql", format!("{blank}\r\n  \t\n-- id: far\n-- parents: a\n-- colour: red\n-- migrate:up\n"));
    let stderr = fails(d, &["check"]);
    assert!(
        first_line(&stderr).starts_with("error: revisions/far.sql:100005: unknown header key `colour`"),
        "{stderr}"
    );
    // A missing parent is reported on the line of `parents`, wherever that is.
    put(d, "far.sql", format!("{blank}-- id: far\n-- parents: zz\n-- migrate:up\n"));
    let stderr = fails(d, &["check"]);
    assert_eq!(
        first_line(&stderr),
        "error: revisions/far.sql:100002: revision `far` names parent `zz`, which no revision file declares"
    );
}

#[test]
fn a_ten_megabyte_up_section() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "a", "", "");
    let statement = "INSERT INTO t VALUES (1, 'ten megabytes');\n";
    let up = statement.repeat((10 << 20) / statement.len() + 1);
    put(
        d,
        "big.sql",
        format!("-- id: big\n-- parents: a\n-- message: big\n-- migrate:up\n{up}-- migrate:down\nDELETE FROM t;\n"),
    );
    let started = Instant::now();
    assert_eq!(ok(d, &["check"]), "ok: 2 revisions, 1 head(s): big\n");
    assert_eq!(ok(d, &["heads"]), "big (head) big\n");
    let shown = ok(d, &["show", "big"]);
    assert!(shown.starts_with("Revision:    big (head) big\n"));
    assert!(shown.len() > up.len() && shown.ends_with("-- migrate:down\nDELETE FROM t;\n"));
    let shown = json(d, &["show", "big"]);
    assert_eq!(shown["up"].as_str().map(str::len), Some(up.len()));
    eprintln!("10 MB up section: check, heads, show twice in {:.1} s", started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------
// 3. A merge with 10,000 parents
// ---------------------------------------------------------------------------

#[test]
fn a_merge_of_ten_thousand_roots() {
    const ROOTS: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids: Vec<String> = (0..ROOTS).map(|i| format!("r{i:05}")).collect();
    for id in &ids {
        put(
            d,
            &format!("roots/{id}.sql"),
            format!("-- id: {id}\n-- parents:\n-- migrate:up\nSELECT 1;\n-- migrate:down\n"),
        );
    }
    put(d, "merge.sql", text("merge", &ids.join(" "), ""));
    let started = Instant::now();

    assert_eq!(ok(d, &["heads"]), "merge (head, mergepoint) msg merge\n");
    assert_eq!(ok(d, &["check"]), "ok: 10001 revisions, 1 head(s): merge\n");

    // The octopus opens one lane per parent: stdout is not a terminal, so 40
    // lanes are drawn and a marker says how many more (about 1 MB here, not
    // the 100 MB of the whole drawing); one `*` per revision all the same.
    let drawn = ok(d, &["history", "--graph"]);
    let mut lines = drawn.lines();
    let top = lines.next().unwrap();
    assert!(
        top.starts_with("*---") && top.ends_with(" merge (head, mergepoint) msg merge"),
        "{}",
        clip(top.as_bytes())
    );
    assert_eq!(drawn.lines().filter(|l| l.contains('*')).count(), ROOTS + 1);
    drop(drawn);

    let script = ok(d, &["upgrade", "heads", "--sql"]);
    assert!(script.contains(&format!("; {} step(s);", ROOTS + 1)), "{}", clip(script.as_bytes()));
    assert_eq!(script.matches("\n-- up ").count(), ROOTS + 1);
    assert_eq!(script.matches("INSERT INTO main.\"migraph_revisions\"").count(), ROOTS + 1);
    assert!(script.trim_end().ends_with("COMMIT;"));
    let last_up = script.rfind("\n-- up ").unwrap();
    assert!(script[last_up..].starts_with("\n-- up merge: msg merge\n"), "the merge comes last");

    let down = ok(d, &["downgrade", "base", "--sql", "--from", "heads"]);
    assert_eq!(down.matches("\n-- down ").count(), ROOTS + 1);
    assert!(down.contains("\n-- down merge: msg merge\n"));
    eprintln!("10,000-parent merge: every command in {:.1} s", started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------
// 4. Deep chains
// ---------------------------------------------------------------------------

const DEEP: usize = 100_000;

fn chain_id(i: usize) -> String {
    format!("r{i:06}")
}

/// `r000000 ─ r000001 ─ ... ─ r099999`, parsed from text in memory.
fn deep_chain(n: usize) -> Vec<Revision> {
    (0..n)
        .map(|i| {
            let parents = if i == 0 { String::new() } else { chain_id(i - 1) };
            let text = format!(
                "-- id: {}\n-- parents: {parents}\n-- message: step {i}\n-- migrate:up\nSELECT {i};\n-- migrate:down\n",
                chain_id(i)
            );
            Revision::parse(Path::new(&format!("{}.sql", chain_id(i))), &text).unwrap()
        })
        .collect()
}

fn ids<'a>(revisions: impl IntoIterator<Item = &'a Revision>) -> Vec<&'a str> {
    revisions.into_iter().map(|r| r.id.as_str()).collect()
}

#[test]
fn a_hundred_thousand_deep_chain_survives_every_walk() {
    let started = Instant::now();
    let g = RevisionGraph::new(deep_chain(DEEP)).unwrap();
    let (root, head) = (chain_id(0), chain_id(DEEP - 1));
    assert_eq!(ids(g.heads()), [head.as_str()]);
    assert_eq!(ids(g.roots()), [root.as_str()]);
    assert!(g.branch_points().is_empty() && g.merge_points().is_empty());
    let closure = g.closure([head.as_str()]);
    assert_eq!(closure.len(), DEEP);
    assert_eq!(closure[0].id, root);
    assert_eq!(g.descendants(&root).len(), DEEP - 1);
    let topo = g.topological();
    assert!(topo.iter().enumerate().all(|(i, r)| r.id == chain_id(i)));

    // Targets without a database: `+N`/`-N` count from `head`.
    let resolve = |t: &str| migraph::target::resolve_revision(&g, t).map(|r| r.id.clone()).map_err(|e| e.to_string());
    assert_eq!(resolve("-99999"), Ok(root.clone()));
    assert_eq!(resolve("head-99999"), Ok(root.clone()));
    assert_eq!(resolve(&format!("{root}+99999")), Ok(head.clone()));
    assert_eq!(resolve("-100000"), Err("`-100000` is the empty state, not a revision".into()));
    assert_eq!(resolve("-100001"), Err(format!("`-100001`: there are only 100000 step(s) below {head}")));
    assert_eq!(resolve("+1"), Err(format!("`+1`: there are only 0 step(s) above {head}")));
    assert!(resolve("-9223372036854775807").unwrap_err().contains("below r099999"));
    assert!(resolve(&format!("{root}+9223372036854775807")).unwrap_err().contains("above r000000"));
    let range = |t: &str| migraph::target::range_revisions(&g, t).map(|v| v.len());
    assert_eq!(range("base:head"), Ok(DEEP));
    assert_eq!(range("-99999:"), Ok(DEEP));
    assert_eq!(range(":-50000"), Ok(DEEP - 50_000));
    assert_eq!(range("r000010:r000020"), Ok(11));

    // Plans: all the way up from nothing, all the way down from everything,
    // and steps from half way.
    let empty = State::empty(&g);
    let up = plan(&g, &empty, Verb::Upgrade, &["heads"]).unwrap();
    assert_eq!(up.steps.len(), DEEP);
    assert!(up.steps.iter().enumerate().all(|(i, s)| s.direction == Direction::Up && s.id == chain_id(i)));
    let full = empty.after(&g, &up);
    let down = plan(&g, &full, Verb::Downgrade, &["base"]).unwrap();
    assert_eq!(down.steps.len(), DEEP);
    assert_eq!(down.steps[0].id, head);
    let migrate = plan(&g, &full, Verb::Migrate, &[&root]).unwrap();
    assert_eq!(migrate.steps.len(), DEEP - 1);
    let half = State::new(&g, topo[..DEEP / 2].iter().map(|r| r.id.as_str())).unwrap();
    let step = |verb, t: &str| plan(&g, &half, verb, &[t]).map(|p| p.steps.len()).map_err(|e| e.to_string());
    assert_eq!(step(Verb::Upgrade, "+1"), Ok(1));
    assert_eq!(step(Verb::Upgrade, "+50000"), Ok(50_000));
    assert_eq!(step(Verb::Downgrade, "-50000"), Ok(50_000));
    assert!(step(Verb::Downgrade, "-99999").unwrap_err().contains("there are only 50000 step(s) below r049999"));
    assert!(step(Verb::Upgrade, "+99999").unwrap_err().contains("only 50000 step(s) above r049999"));
    assert_eq!(step(Verb::Stamp, "-1"), Ok(1));

    // Pictures and scripts.
    let newest_first: Vec<&Revision> = topo.iter().rev().copied().collect();
    let drawn = render::log_graph(&g, &newest_first, |r| r.id.clone());
    assert_eq!(drawn.lines().count(), DEEP);
    assert!(drawn.lines().all(|l| l.starts_with("* r")));
    let applied = |r: &Revision| Some(full.contains(&g, &r.id));
    let dot = render::dot(&g, applied);
    assert_eq!(dot.matches(" -> ").count(), DEEP - 1);
    let mermaid = render::mermaid(&g, applied);
    assert_eq!(mermaid.matches(" --> ").count(), DEEP - 1);
    let script = migraph::script::script(&g, &up, Dialect::Postgres, "migraph_revisions", "deep").unwrap();
    assert_eq!(script.matches("\nCOMMIT;\n").count(), DEEP);
    let script = migraph::script::script(&g, &down, Dialect::Mysql, "migraph_revisions", "deep").unwrap();
    assert_eq!(script.matches("DELETE FROM `migraph_revisions`").count(), DEEP);
    eprintln!("100,000-deep chain, every walk: {:.1} s", started.elapsed().as_secs_f64());
}

#[test]
fn a_hundred_thousand_node_cycle_is_a_graph_error() {
    let mut revisions = deep_chain(DEEP);
    // Close the chain into one big ring: the root's parent is the head.
    revisions[0].parents = vec![chain_id(DEEP - 1)];
    // And a small ring closed by a depends-on edge, beside it.
    revisions.extend(deep_chain(3).into_iter().map(|mut r| {
        r.id = r.id.replace('r', "d");
        r.path = PathBuf::from(format!("{}.sql", r.id));
        r.parents = r.parents.iter().map(|p| p.replace('r', "d")).collect();
        r
    }));
    revisions[DEEP].links_mut().depends_on = vec!["d000002".into()];
    revisions[DEEP].lines.depends_on = migraph::revision::HeaderLines::optional(3);
    let e = RevisionGraph::new(revisions).unwrap_err();
    assert_eq!(e.problems.len(), 2, "one problem per ring");
    let cycles: Vec<(usize, usize)> = e
        .problems
        .iter()
        .map(|p| match p {
            Problem::Cycle { path, files } => (path.len(), files.len()),
            other => panic!("not a cycle: {other}"),
        })
        .collect();
    assert!(cycles.contains(&(DEEP + 1, DEEP)), "{cycles:?}");
    assert!(cycles.contains(&(4, 3)), "{cycles:?}");
    assert!(e.to_string().contains("cycle through parents/depends-on: d000000 -> d000001 -> d000002 -> d000000"));
}

/// `pairs` two-revision cycles (`aN` and `bN` each the other's parent).
fn two_cycles(pairs: usize) -> Vec<Revision> {
    let mut revisions = Vec::with_capacity(2 * pairs);
    for i in 0..pairs {
        for (me, other) in [(format!("a{i:06}"), format!("b{i:06}")), (format!("b{i:06}"), format!("a{i:06}"))] {
            let text = format!("-- id: {me}\n-- parents: {other}\n-- migrate:up\n");
            revisions.push(Revision::parse(Path::new(&format!("{me}.sql")), &text).unwrap());
        }
    }
    revisions
}

/// Seconds to build (and reject) a graph of `pairs` two-cycles; checks the report.
fn time_two_cycles(pairs: usize) -> f64 {
    let revisions = two_cycles(pairs);
    let started = Instant::now();
    let e = RevisionGraph::new(revisions).unwrap_err();
    let took = started.elapsed().as_secs_f64();
    assert_eq!(e.problems.len(), pairs);
    assert!(e.problems.iter().all(|p| matches!(p, Problem::Cycle { path, .. } if path.len() == 3)));
    eprintln!("{pairs} two-revision cycles rejected in {took:.2} s");
    took
}

#[test]
fn many_small_cycles_are_each_reported() {
    time_two_cycles(2_000);
}

/// The module promises walks linear in nodes plus edges; reporting cycles
/// allocates two vectors of the graph's size per strongly connected
/// component, so 50,000 two-cycles (100,000 files) take about 25 s in a
/// debug build (1.1 s in release) where 5,000 take 0.5 s.
#[test]
fn reporting_many_cycles_is_linear() {
    let small = time_two_cycles(5_000);
    let large = time_two_cycles(50_000);
    assert!(large < 25.0 * small.max(0.01), "10x the cycles took {:.0}x the time", large / small);
}

#[test]
fn a_deep_chain_of_files_through_the_binary() {
    let n = if std::env::var("MIGRAPH_STRESS_FULL").is_ok_and(|v| v == "1") { 100_000 } else { 20_000 };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 0..n {
        let parents = if i == 0 { String::new() } else { chain_id(i - 1) };
        // A thousand files per folder, like a long-lived project.
        put(
            d,
            &format!("{:03}/{}.sql", i / 1000, chain_id(i)),
            format!("-- id: {}\n-- parents: {parents}\n-- migrate:up\nSELECT {i};\n-- migrate:down\n", chain_id(i)),
        );
    }
    let head = chain_id(n - 1);
    let started = Instant::now();
    assert_eq!(ok(d, &["heads"]), format!("{head} (head)\n"));
    assert_eq!(ok(d, &["check"]), format!("ok: {n} revisions, 1 head(s): {head}\n"));
    let drawn = ok(d, &["history", "--graph"]);
    assert_eq!(drawn.lines().count(), n);
    assert!(drawn.starts_with(&format!("* {head} (head)\n")) && drawn.ends_with("* r000000\n"));
    let script = ok(d, &["upgrade", "heads", "--sql"]);
    assert_eq!(script.matches("\n-- up ").count(), n);
    let script = ok(d, &["upgrade", "head-1", "--sql", "--from", "r000000"]);
    assert_eq!(script.matches("\n-- up ").count(), n - 2);
    assert_eq!(ok(d, &["history", "-r", "-3:"]).lines().count(), 4);
    eprintln!("{n} files in a chain: every command in {:.1} s", started.elapsed().as_secs_f64());
}

// ---------------------------------------------------------------------------
// 5. IDs that are prefixes of each other
// ---------------------------------------------------------------------------

#[test]
fn ids_that_prefix_each_other_resolve_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "a", "", "");
    rev(d, "ab", "a", "");
    rev(d, "abc", "ab", "");
    rev(d, "b1", "a", "");
    rev(d, "b2", "a", "");
    for id in ["a", "ab", "abc", "b1", "b2"] {
        assert_eq!(json(d, &["show", id])["id"], id, "`show {id}` is the revision with exactly that ID");
    }
    let stderr = fails(d, &["show", "b"]);
    assert_eq!(first_line(&stderr), "error: `b` is ambiguous: it is a prefix of b1 (msg b1), b2 (msg b2)");
    assert!(stderr.contains("hint: type more characters of the ID"));
    let stderr = fails(d, &["show", "abcd"]);
    assert_eq!(first_line(&stderr), "error: no revision ID, prefix or label matches `abcd`");
    // The same words as upgrade targets.
    let script = ok(d, &["upgrade", "a", "--sql"]);
    assert_eq!(script.matches("\n-- up ").count(), 1);
    let script = ok(d, &["upgrade", "ab", "--sql"]);
    assert_eq!(script.matches("\n-- up ").count(), 2);
    let stderr = fails(d, &["upgrade", "b", "--sql"]);
    assert_eq!(first_line(&stderr), "error: `b` is ambiguous: it is a prefix of b1 (msg b1), b2 (msg b2)");
}

/// Huge step counts are parse errors or out-of-range errors, never a panic or a long loop.
#[test]
fn huge_step_counts_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "a", "", "");
    rev(d, "b", "a", "");
    for target in ["+99999999999999999999", "-9223372036854775808", "-9223372036854775807", "a+9223372036854775807"] {
        let started = Instant::now();
        let stderr = fails(d, &["upgrade", target, "--sql"]);
        assert!(started.elapsed() < Duration::from_secs(30));
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    fails(d, &["history", "-r", "-99999999999999999999:"]);
    fails(d, &["show", "b@+9223372036854775807"]);
    fails(d, &["show", &"a+1".repeat(100)]);
    assert_eq!(json(d, &["show", &format!("a{}", "+1-1".repeat(60))])["id"], "a");
}

// ---------------------------------------------------------------------------
// Labels that end in `-N`, with an offset after them
// ---------------------------------------------------------------------------

/// `r0 ─ b1 (rel) ─ b2 ─ c1 (rel-2) ─ c2 ─ c3`
fn release_labels(d: &Path) {
    rev(d, "r0", "", "");
    rev(d, "b1", "r0", "-- labels: rel");
    rev(d, "b2", "b1", "");
    rev(d, "c1", "b2", "-- labels: rel-2");
    rev(d, "c2", "c1", "");
    rev(d, "c3", "c2", "");
}

#[test]
fn a_label_ending_in_dash_n_is_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    release_labels(d);
    assert_eq!(json(d, &["show", "rel-2"])["id"], "c1");
    assert_eq!(json(d, &["show", "rel"])["id"], "b1");
    assert_eq!(json(d, &["show", "rel+1"])["id"], "b2");
    assert_eq!(json(d, &["show", "rel-2@head"])["id"], "c3");
}

/// The README: "a label like `release-2` wins over `release` minus 2", and
/// `<target>+N` is N steps from that target. So `rel-2+1` is one step above
/// the revision labelled `rel-2`.
#[test]
fn a_label_ending_in_dash_n_takes_an_offset() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    release_labels(d);
    assert_eq!(json(d, &["show", "rel-2+1"])["id"], "c2");
    assert_eq!(json(d, &["show", "rel-2-0"])["id"], "c1");
    assert_eq!(json(d, &["show", "rel-2-1"])["id"], "b2");
    let g = migraph::load(&d.join("revisions")).unwrap();
    assert_eq!(migraph::target::resolve_revision(&g, "rel-2+2").map(|r| r.id.as_str()), Ok("c3"));
    let state = State::new(&g, ["r0", "b1"]).unwrap();
    let p = plan(&g, &state, Verb::Upgrade, &["rel-2+1"]).unwrap();
    assert_eq!(p.steps.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["b2", "c1", "c2"]);
}

// ---------------------------------------------------------------------------
// 6. Symlinks in the revisions directory
// ---------------------------------------------------------------------------

#[cfg(unix)]
mod symlinks {
    use super::*;
    use std::os::unix::fs::symlink;

    /// `revisions/` with r0, sub/r1, a/ra, b/rb and every kind of bad link.
    fn maze(d: &Path) {
        rev(d, "r0", "", "");
        put(d, "sub/r1.sql", text("r1", "r0", ""));
        put(d, "a/ra.sql", text("ra", "r0", ""));
        put(d, "b/rb.sql", text("rb", "r0", ""));
        let revs = d.join("revisions");
        // A directory link to its own parent, and one to itself.
        symlink("..", revs.join("sub/up")).unwrap();
        symlink(".", revs.join("sub/self")).unwrap();
        // Two directories that point at each other.
        symlink("../b", revs.join("a/to_b")).unwrap();
        symlink("../a", revs.join("b/to_a")).unwrap();
        // A link to the whole revisions directory by absolute path.
        symlink(&revs, revs.join("b/root")).unwrap();
        // Dangling links, a file link loop, devices: none is a revision.
        symlink("/nonexistent/x.sql", revs.join("dangling.sql")).unwrap();
        symlink("nowhere", revs.join("dangling_dir")).unwrap();
        symlink("loop2.sql", revs.join("loop1.sql")).unwrap();
        symlink("loop1.sql", revs.join("loop2.sql")).unwrap();
        symlink("/dev/null", revs.join("null.sql")).unwrap();
        symlink("/dev/zero", revs.join("zero.sql")).unwrap();
        // A revision that lives elsewhere, linked in.
        let outside = d.join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("ext.sql"), text("ext", "r1", "")).unwrap();
        symlink(outside.join("ext.sql"), revs.join("ext.sql")).unwrap();
        // A directory whose name ends in .sql is still a directory.
        put(d, "dir.sql/rd.sql", text("rd", "ext", ""));
    }

    #[test]
    fn link_loops_terminate_and_count_each_revision_once() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        maze(d);
        // A FIFO named like a revision would block a reader forever.
        let fifo = std::process::Command::new("mkfifo").arg(d.join("revisions/fifo.sql")).status();
        eprintln!("mkfifo: {fifo:?}");
        let started = Instant::now();
        assert_eq!(ok(d, &["check", "--allow-multiple-heads"]), "ok: 6 revisions, 3 head(s): ra, rb, rd\n");
        let listed = json(d, &["history"]);
        let mut ids: Vec<&str> = listed.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
        ids.sort_unstable();
        assert_eq!(ids, ["ext", "r0", "r1", "ra", "rb", "rd"]);
        assert_eq!(json(d, &["show", "ext"])["path"], "revisions/ext.sql", "a linked file keeps the link's path");
        assert!(started.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn the_same_file_under_two_names_is_a_duplicate_id() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        maze(d);
        symlink("r0.sql", d.join("revisions/again.sql")).unwrap();
        let stderr = fails(d, &["check"]);
        assert_eq!(
            first_line(&stderr),
            "error: duplicate revision ID `r0` in revisions/again.sql:1, revisions/r0.sql:1"
        );
    }

    /// A directory reached both directly and through a link is read once;
    /// which path names its files must not depend on the order the
    /// filesystem lists entries in (ext4 orders by a hash seeded per
    /// filesystem, so it differs between machines). Either the real
    /// directory or the first path in sorted order would be deterministic.
    #[test]
    fn a_linked_directory_is_named_the_same_way_on_every_machine() {
        for link in ["aa", "link", "m", "q", "zz", "z9", "sub_"] {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            rev(d, "r0", "", "");
            put(d, "sub/r1.sql", text("r1", "r0", ""));
            symlink("sub", d.join("revisions").join(link)).unwrap();
            assert_eq!(ok(d, &["check"]), "ok: 2 revisions, 1 head(s): r1\n");
            let shown = json(d, &["show", "r1"])["path"].as_str().unwrap().to_string();
            let real = "revisions/sub/r1.sql".to_string();
            let first_sorted = std::cmp::min(real.clone(), format!("revisions/{link}/r1.sql"));
            assert!(shown == real || shown == first_sorted, "link `{link}`: r1 is shown as {shown}");
        }
    }
}

// ---------------------------------------------------------------------------
// 7. IDs, labels and table names at their limits
// ---------------------------------------------------------------------------

#[test]
fn ids_of_64_characters_are_accepted_and_65_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let id64 = "a".repeat(64);
    rev(d, &id64, "", "");
    rev(d, "child", &id64, "");
    assert_eq!(ok(d, &["check"]), "ok: 2 revisions, 1 head(s): child\n");
    assert_eq!(json(d, &["show", &id64])["id"], id64.as_str());
    assert_eq!(json(d, &["show", "aaaa"])["id"], id64.as_str(), "a prefix of a long ID");
    let id65 = "b".repeat(65);
    put(d, "long.sql", text(&id65, "child", ""));
    let stderr = fails(d, &["check"]);
    assert_eq!(
        first_line(&stderr),
        format!("error: revisions/long.sql:1: invalid revision ID `{id65}`: IDs are 1 to 64 characters of `0-9`, `A-Z`, `a-z` and `_`")
    );
    put(d, "long.sql", text("c", &format!("child {}", "c".repeat(65)), ""));
    assert!(first_line(&fails(d, &["check"])).starts_with("error: revisions/long.sql:2: invalid revision ID `ccc"));
    fs::remove_file(d.join("revisions/long.sql")).unwrap();
    // The command line refuses the same IDs before writing anything.
    let before = fs::read_dir(d.join("revisions")).unwrap().count();
    assert!(fails(d, &["revision", "-m", "x", "--id", &id65]).contains("invalid revision ID"));
    assert!(fails(d, &["revision", "-m", "x", "--id", ""]).contains("invalid revision ID"));
    assert_eq!(fs::read_dir(d.join("revisions")).unwrap().count(), before);
    let id64b = "b".repeat(64);
    let written = ok(d, &["revision", "-m", "x", "--id", &id64b]);
    assert!(written.trim_end().ends_with(&format!("{id64b}_x.sql")), "{written}");
}

#[test]
fn labels_at_their_limits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "a", "", "");
    rev(d, "b", "a", &format!("-- labels: {}", "l".repeat(64)));
    assert_eq!(ok(d, &["check"]), "ok: 2 revisions, 1 head(s): b\n");
    assert_eq!(json(d, &["show", &"l".repeat(64)])["id"], "b");

    let cases = [
        (
            "a label equal to another revision's ID".to_string(),
            "-- labels: a",
            "error: revisions/c.sql:4: label `a` is also a revision ID, so targets naming it would be ambiguous",
        ),
        (
            "a label of 65 characters".to_string(),
            "-- labels: LLLL",
            "error: revisions/c.sql:4: invalid label `LLLL`: a label must be 1 to 64 characters",
        ),
        ("a reserved word".to_string(), "-- labels: heads", "error: revisions/c.sql:4: invalid label `heads`: a label is a reserved target name"),
        (
            "a number".to_string(),
            "-- labels: 12",
            "error: revisions/c.sql:4: invalid label `12`: a label must start with a letter, digit or `_` and not be a number",
        ),
        (
            "target syntax".to_string(),
            "-- labels: x@head",
            "error: revisions/c.sql:4: invalid label `x@head`: a label may only contain letters, digits, `_`, `-`, `.` and `/`",
        ),
    ];
    let long = "L".repeat(65);
    for (name, labels, first) in cases {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        rev(d, "a", "", "");
        rev(d, "b", "a", "");
        rev(d, "c", "b", &labels.replace("LLLL", &long));
        let stderr = fails(d, &["check"]);
        assert_eq!(first_line(&stderr), first.replace("LLLL", &long), "{name}");
    }
    // `revision --label` refuses an existing ID too, and writes nothing.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "a", "", "");
    let stderr = fails(d, &["revision", "-m", "x", "--label", "a"]);
    assert!(stderr.contains("label `a` is also a revision ID"), "{stderr}");
    assert_eq!(fs::read_dir(d.join("revisions")).unwrap().count(), 1);
}

const BAD_TABLES: [&str; 9] = ["x\"y", "has space", "t;drop", "t'", "`t`", "", "1abc", "tä", "a-b"];

/// Every command that uses the version table name, with arguments that
/// would otherwise work.
const TABLE_COMMANDS: [&[&str]; 18] = [
    &["heads"],
    &["branches"],
    &["history"],
    &["show", "a"],
    &["graph"],
    &["check"],
    &["current"],
    &["status"],
    &["upgrade", "heads"],
    &["upgrade", "heads", "--sql"],
    &["upgrade", "heads", "--dry-run"],
    &["downgrade", "base"],
    &["migrate", "a"],
    &["stamp", "a"],
    &["stamp", "a", "--dry-run"],
    &["revision", "-m", "x"],
    &["merge", "a", "b"],
    &["upgrade", "heads", "--backup"],
];

#[test]
fn bad_table_names_are_refused_by_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "a", "", "");
    rev(d, "b", "", "");
    let db = d.join("data").join("app.db");
    let url = format!("sqlite://{}", db.display());
    let too_long = "t".repeat(56);
    for table in BAD_TABLES.iter().copied().chain([too_long.as_str()]) {
        for command in TABLE_COMMANDS {
            let mut args: Vec<&str> = command.to_vec();
            args.extend(["--database-url", &url, "--table", table]);
            let out = run(d, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert_eq!(first_line(&stderr), format!("error: invalid table name `{table}`"), "{args:?}");
            assert!(stderr.contains("hint: a table name is 1 to 55 ASCII letters"), "{args:?}: {stderr}");
            assert!(out.stdout.is_empty(), "{args:?}");
        }
    }
    // The same from migraph.toml.
    fs::write(d.join("migraph.toml"), format!("database_url = {url:?}\ntable = \"x; DROP TABLE y\"\n")).unwrap();
    let stderr = fails(d, &["upgrade", "heads"]);
    assert_eq!(first_line(&stderr), "error: invalid table name `x; DROP TABLE y`");
    assert!(!d.join("data").exists(), "no database file may be created");
    assert_eq!(fs::read_dir(d.join("revisions")).unwrap().count(), 2, "no revision file may be written");
    // A good but unusual name works.
    fs::remove_file(d.join("migraph.toml")).unwrap();
    let script = ok(d, &["upgrade", "heads", "--sql", "--table", "_Select_1"]);
    assert!(script.contains("CREATE TABLE IF NOT EXISTS main.\"_Select_1\""), "{script}");
}

#[test]
fn init_refuses_a_bad_table_name() {
    for table in BAD_TABLES {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let stderr = fails(d, &["init", "--table", table]);
        assert_eq!(first_line(&stderr), format!("error: invalid table name `{table}`"));
        assert!(!d.join("migraph.toml").exists() && !d.join("revisions").exists(), "init wrote files for `{table}`");
    }
}
