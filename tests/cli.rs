//! End-to-end tests of the graph commands through the real binary, on
//! temporary directories.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn migraph(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("migraph").unwrap();
    cmd.current_dir(dir).env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

/// Writes `<id>.sql` under `revisions/` with the given header lines.
fn file(dir: &Path, name: &str, text: &str) {
    let path = dir.join("revisions").join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn rev(dir: &Path, id: &str, parents: &str, extra: &str) {
    file(
        dir,
        &format!("{id}.sql"),
        &format!("-- id: {id}\n-- parents: {parents}\n-- message: msg {id}\n{extra}\n-- migrate:up\nSELECT 1;\n-- migrate:down\n"),
    );
}

/// r ─ a ─ m ─ t, r ─ b ─ m (labels `feat-a` on a, `feat-b` on b).
fn diamond() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    rev(dir.path(), "r0", "", "");
    rev(dir.path(), "a1", "r0", "-- labels: feat-a");
    rev(dir.path(), "b1", "r0", "-- labels: feat-b");
    rev(dir.path(), "m1", "a1 b1", "");
    rev(dir.path(), "t1", "m1", "");
    dir
}

fn stdout(cmd: &mut Command) -> String {
    let out = cmd.assert().success().get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

fn json(cmd: &mut Command) -> Value {
    serde_json::from_str(&stdout(cmd)).unwrap()
}

fn sql_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir.join("revisions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sql"))
        .collect();
    names.sort();
    names
}

#[test]
fn init_then_revision_chain_then_branch_and_merge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    migraph(d).arg("init").assert().success();
    assert!(d.join("migraph.toml").is_file() && d.join("revisions").is_dir());
    migraph(d).arg("init").assert().code(1).stderr(predicate::str::contains("already exists"));

    let first = stdout(migraph(d).args(["revision", "-m", "create users"]));
    assert!(first.trim().ends_with("_create_users.sql"), "{first}");
    let root = json(migraph(d).args(["heads", "--json"]))[0]["id"].as_str().unwrap().to_string();
    assert_eq!(root.len(), 12);
    assert!(root.bytes().all(|b| b.is_ascii_hexdigit()));

    // Two branches from the root: the second needs --parent because... it doesn't: one head.
    migraph(d).args(["revision", "-m", "feature one", "--label", "one"]).assert().success();
    migraph(d).args(["revision", "-m", "feature two", "--parent", &root[..6], "--label", "two"]).assert().success();
    let heads = json(migraph(d).args(["heads", "--json"]));
    assert_eq!(heads.as_array().unwrap().len(), 2);

    // With two heads, a plain revision is refused and nothing is written.
    let before = sql_files(d);
    migraph(d)
        .args(["revision", "-m", "ambiguous"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("error: `head` is ambiguous: the graph has 2 heads"))
        .stderr(predicate::str::contains("migraph merge"));
    assert_eq!(sql_files(d), before);

    let merged = stdout(migraph(d).args(["merge", "-m", "join features"]));
    assert!(merged.contains("_join_features.sql"));
    let heads = json(migraph(d).args(["heads", "--json"]));
    assert_eq!(heads.as_array().unwrap().len(), 1);
    let parents: Vec<&str> = heads[0]["parents"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(parents.len(), 2);
    assert_eq!(heads[0]["message"], "join features");
    migraph(d).args(["merge"]).assert().code(1).stderr(predicate::str::contains("nothing to merge"));
    // `revision` writes a template that check refuses until its up section is filled in.
    migraph(d).arg("check").assert().code(1).stderr(predicate::str::contains("has no statement in its up section"));
    for entry in std::fs::read_dir(d.join("revisions")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("-- migrate:up\n", "-- migrate:up\nSELECT 1;\n", 1)).unwrap();
    }
    migraph(d).arg("check").assert().success().stdout(predicate::str::starts_with("ok: 4 revisions, 1 head(s)"));
}

#[test]
fn revision_options_are_validated_before_writing() {
    let dir = diamond();
    let d = dir.path();
    let before = sql_files(d);
    migraph(d)
        .args(["revision", "-m", "x", "--id", "t1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already used"));
    migraph(d)
        .args(["revision", "-m", "x", "--id", "Bad-Id"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("invalid revision ID"));
    migraph(d)
        .args(["revision", "-m", "x", "--label", "feat-a"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("label `feat-a` is used by more than one revision"));
    migraph(d)
        .args(["revision", "-m", "x", "--parent", "zz"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`zz`"));
    migraph(d).args(["merge", "a1", "t1"]).assert().code(1).stderr(predicate::str::contains("already its ancestor"));
    assert_eq!(sql_files(d), before, "nothing written");

    let out =
        stdout(migraph(d).args(["revision", "-m", "x", "--id", "x1", "--depends-on", "feat-b", "--parent", "a1"]));
    assert!(out.contains("x1_x.sql"));
    let shown = json(migraph(d).args(["show", "x1", "--json"]));
    assert_eq!(shown["parents"], serde_json::json!(["a1"]));
    assert_eq!(shown["depends_on"], serde_json::json!(["b1"]));
}

#[test]
fn listing_commands_and_json_shapes() {
    let dir = diamond();
    let d = dir.path();
    assert_eq!(stdout(migraph(d).arg("heads")), "t1 (head) msg t1\n");
    let branches = stdout(migraph(d).arg("branches"));
    assert_eq!(branches, "r0 (branchpoint) msg r0\n  -> a1 (feat-a) msg a1\n  -> b1 (feat-b) msg b1\n");
    let b = json(migraph(d).args(["branches", "--json"]));
    assert_eq!(b[0]["id"], "r0");
    assert_eq!(b[0]["children"][1]["id"], "b1");

    let history = stdout(migraph(d).arg("history"));
    let ids: Vec<&str> = history.lines().map(|l| l.split(" -> ").nth(1).unwrap().split(' ').next().unwrap()).collect();
    assert_eq!(ids, ["t1", "m1", "b1", "a1", "r0"], "newest first");
    assert!(history.contains("a1, b1 -> m1 (mergepoint) msg m1"));
    assert!(history.contains("<base> -> r0"));

    let list = json(migraph(d).args(["history", "--json"]));
    for entry in list.as_array().unwrap() {
        for key in ["id", "parents", "message", "labels"] {
            assert!(entry.get(key).is_some(), "{key} missing in {entry}");
        }
    }
    let ranged = json(migraph(d).args(["history", "-r", "b1:", "--json"]));
    let ids: Vec<&str> = ranged.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["t1", "m1", "b1"]);
    let below = json(migraph(d).args(["history", "-r", "-1:", "--json"]));
    assert_eq!(below.as_array().unwrap().len(), 2, "head and the revision below it");

    let drawn = stdout(migraph(d).args(["history", "--graph"]));
    assert!(drawn.contains("|\\") && drawn.contains("|/"), "{drawn}");
    assert_eq!(drawn.lines().filter(|l| l.contains('*')).count(), 5);

    let show = stdout(migraph(d).args(["show", "feat-b"]));
    assert!(show.starts_with("Revision:    b1 (feat-b) msg b1\n"), "{show}");
    assert!(show.contains("Children:    m1"));
    let shown = json(migraph(d).args(["show", "m1", "--json"]));
    assert_eq!(shown["merge_point"], true);
    assert_eq!(shown["up"], "SELECT 1;\n");

    let dot = stdout(migraph(d).args(["graph"]));
    assert!(dot.starts_with("digraph") && dot.contains("\"a1\" -> \"m1\""), "{dot}");
    let mermaid = stdout(migraph(d).args(["graph", "--format", "mermaid"]));
    assert!(mermaid.starts_with("flowchart"));
}

#[test]
fn targets_in_show() {
    let dir = diamond();
    let d = dir.path();
    assert!(stdout(migraph(d).args(["show", "feat-a@head"])).starts_with("Revision:    t1"));
    assert!(stdout(migraph(d).args(["show", "t1-1"])).starts_with("Revision:    m1"));
    migraph(d)
        .args(["show", "m1-1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("the step down from m1 is ambiguous; choose one of a1 (msg a1), b1 (msg b1)"));
    rev(d, "a2", "r0", "");
    migraph(d)
        .args(["show", "a"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("`a` is ambiguous: it is a prefix of a1 (msg a1), a2 (msg a2)"));
}

#[test]
fn global_options_before_or_after_and_config_discovery() {
    let dir = diamond();
    let d = dir.path();
    fs::create_dir_all(d.join("sub/deeper")).unwrap();
    // No migraph.toml: ./revisions relative to the current directory.
    migraph(&d.join("sub")).arg("heads").assert().code(1).stderr(predicate::str::contains("does not exist"));
    fs::write(d.join("migraph.toml"), "revisions = \"revisions\"\n").unwrap();
    assert_eq!(stdout(migraph(&d.join("sub/deeper")).arg("heads")), "t1 (head) msg t1\n");
    let elsewhere = tempfile::tempdir().unwrap();
    let revs = d.join("revisions");
    assert_eq!(
        stdout(migraph(elsewhere.path()).args(["--revisions", revs.to_str().unwrap(), "heads"])),
        "t1 (head) msg t1\n"
    );
    assert_eq!(
        stdout(migraph(elsewhere.path()).args(["heads", "--revisions", revs.to_str().unwrap()])),
        "t1 (head) msg t1\n"
    );
    assert!(json(migraph(d).args(["--json", "heads"])).is_array());
    fs::write(d.join("migraph.toml"), "revision = \"x\"\n").unwrap();
    migraph(d).arg("heads").assert().code(1).stderr(predicate::str::contains("migraph.toml:1"));
}

#[test]
fn bad_usage_exits_2() {
    let dir = diamond();
    migraph(dir.path()).arg("frobnicate").assert().code(2);
    migraph(dir.path()).args(["revision"]).assert().code(2);
    migraph(dir.path()).args(["graph", "--format", "png"]).assert().code(2);
    migraph(dir.path()).arg("--help").assert().code(0);
}

/// Runs `check` and returns stderr; asserts exit 1.
fn check_fails(dir: &Path) -> String {
    let out = migraph(dir).arg("check").assert().code(1).get_output().stderr.clone();
    String::from_utf8(out).unwrap()
}

/// A name, files to write, and lines the error output must contain.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<&'a str>);

#[test]
fn check_reports_each_validation_error_with_file_and_line() {
    let cases: Vec<Case> = vec![
        (
            "missing parent",
            vec![("a.sql", "-- id: a\n-- parents: nope\n-- migrate:up\n")],
            vec!["revisions/a.sql:2: revision `a` names parent `nope`, which no revision file declares"],
        ),
        (
            "duplicate id",
            vec![
                ("a.sql", "-- id: a\n-- parents:\n-- migrate:up\n"),
                ("x/a2.sql", "\n-- id: a\n-- parents:\n-- migrate:up\n"),
            ],
            vec!["duplicate revision ID `a` in revisions/a.sql:1, revisions/x/a2.sql:2"],
        ),
        (
            "cycle through parents",
            vec![
                ("a.sql", "-- id: a\n-- parents: b\n-- migrate:up\n"),
                ("b.sql", "-- id: b\n-- parents: a\n-- migrate:up\n"),
            ],
            vec!["cycle through parents/depends-on: a -> b -> a; files: revisions/a.sql:1, revisions/b.sql:1"],
        ),
        (
            "cycle through depends-on",
            vec![
                ("r.sql", "-- id: r\n-- parents:\n-- migrate:up\n"),
                ("a.sql", "-- id: a\n-- parents: r\n-- depends-on: b\n-- migrate:up\n"),
                ("b.sql", "-- id: b\n-- parents: a\n-- migrate:up\n"),
            ],
            vec!["cycle through parents/depends-on: a -> b -> a"],
        ),
        (
            "unknown key",
            vec![("a.sql", "-- id: a\n-- parents:\n-- author: me\n-- migrate:up\n")],
            vec!["revisions/a.sql:3: unknown header key `author`"],
        ),
        (
            "repeated key",
            vec![("a.sql", "-- id: a\n-- parents:\n-- message: x\n-- message: y\n-- migrate:up\n")],
            vec!["revisions/a.sql:4: header key `message` repeated (first on line 3)"],
        ),
        (
            "invalid id",
            vec![("a.sql", "-- id: Not-Valid\n-- parents:\n-- migrate:up\n")],
            vec!["revisions/a.sql:1: invalid revision ID `Not-Valid`"],
        ),
        (
            "label used twice",
            vec![
                ("a.sql", "-- id: a\n-- parents:\n-- labels: x\n-- migrate:up\n"),
                ("b.sql", "-- id: b\n-- parents: a\n-- labels: x\n-- migrate:up\n"),
            ],
            vec!["label `x` is used by more than one revision: revisions/a.sql:3, revisions/b.sql:3"],
        ),
        (
            "missing up section",
            vec![("a.sql", "-- id: a\n-- parents:\n\nCREATE TABLE t (id INT);\n")],
            vec!["revisions/a.sql:4: SQL before `-- migrate:up`"],
        ),
        (
            "missing up marker",
            vec![("a.sql", "-- id: a\n-- parents:\n")],
            vec!["revisions/a.sql: missing `-- migrate:up` section"],
        ),
        (
            "several problems at once",
            vec![
                ("a.sql", "-- id: a\n-- parents: zz\n-- migrate:up\n"),
                ("b.sql", "-- id: b\n-- parnts: a\n-- migrate:up\n"),
            ],
            vec!["revisions/a.sql:2: revision `a` names parent `zz`", "revisions/b.sql:2: unknown header key `parnts`"],
        ),
    ];
    for (name, files, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in &files {
            file(dir.path(), path, text);
        }
        let stderr = check_fails(dir.path());
        assert!(stderr.starts_with("error: "), "{name}: {stderr}");
        for line in expected {
            assert!(stderr.contains(line), "{name}: expected `{line}` in:\n{stderr}");
        }
        // Every command refuses an invalid graph the same way.
        migraph(dir.path()).arg("heads").assert().code(1);
        let json: Value = serde_json::from_slice(
            &migraph(dir.path()).args(["check", "--json"]).assert().code(1).get_output().stdout.clone(),
        )
        .unwrap();
        assert_eq!(json["ok"], false, "{name}");
        assert!(!json["problems"].as_array().unwrap().is_empty());
    }
}

#[test]
fn the_sample_history_is_valid_and_has_a_branch_a_merge_and_an_open_label() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let d = json(migraph(root).args(["--revisions", "revisions", "history", "--json"]));
    let list = d.as_array().unwrap();
    assert!(list.iter().any(|r| r["merge_point"] == true));
    assert!(list.iter().filter(|r| r["branch_point"] == true).count() >= 1);
    let heads = json(migraph(root).args(["--revisions", "revisions", "heads", "--json"]));
    assert!(heads.as_array().unwrap().len() >= 2, "one branch is still open");
    migraph(root).args(["--revisions", "revisions", "check", "--allow-multiple-heads"]).assert().success();
}
