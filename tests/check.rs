//! `migraph check` as a CI gate, through the real binary: exit 1 with one
//! `error:` line per problem (several heads, checksum drift, applied
//! revisions without a file, failed or interrupted revisions, an unreadable
//! database, files that do not form a valid graph), and `--json` printing
//! `{"ok", "revisions", "heads", "problems"}` on stdout, on failure too.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn migraph(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("migraph").unwrap();
    cmd.current_dir(dir).env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn errors(&self) -> Vec<&str> {
        self.stderr.lines().filter_map(|l| l.strip_prefix("error: ")).collect()
    }

    fn hints(&self) -> Vec<&str> {
        self.stderr.lines().filter_map(|l| l.strip_prefix("hint: ")).collect()
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

fn run(dir: &Path, args: &[&str]) -> Ran {
    let out = migraph(dir).args(args).output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// Runs `check ARGS`, expects exit 1, and checks the contract every failure
/// keeps: stderr is the `error:` lines, then `hint:` lines, the first hint
/// counts them; `--json` gives the same problems on stdout.
fn check_fails(dir: &Path, args: &[&str]) -> Ran {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let ran = run(dir, &all);
    assert_eq!(ran.code, 1, "check {args:?}:\n{}{}", ran.stdout, ran.stderr);
    assert_eq!(ran.stdout, "", "nothing on stdout without --json");
    let lines: Vec<&str> = ran.stderr.lines().collect();
    let errors = ran.errors();
    assert!(!errors.is_empty() && lines[..errors.len()].iter().all(|l| l.starts_with("error: ")), "{}", ran.stderr);
    assert!(lines[errors.len()..].iter().all(|l| l.starts_with("hint: ")), "{}", ran.stderr);
    assert_eq!(ran.hints()[0], format!("{} problem(s) found", errors.len()));

    all.push("--json");
    let json = run(dir, &all);
    assert_eq!(json.code, 1, "check --json {args:?}:\n{}", json.stderr);
    let report = json.json();
    assert_eq!(report["ok"], false);
    let problems: Vec<&str> = report["problems"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
    assert_eq!(problems, errors, "--json lists the problems stderr shows");
    assert_eq!(json.errors(), errors);
    ran
}

fn check_ok(dir: &Path, args: &[&str]) -> String {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    let ran = run(dir, &all);
    assert_eq!(ran.code, 0, "check {args:?}:\n{}{}", ran.stdout, ran.stderr);
    // With a database, stderr names it (and nothing else).
    assert!(ran.stderr.is_empty() || ran.stderr.starts_with("database: ") && ran.stderr.lines().count() == 1);
    ran.stdout
}

/// Writes `revisions/<id>.sql` creating table `t_<id>`.
fn rev(dir: &Path, id: &str, parents: &str, extra: &str) {
    write(dir, id, parents, extra, &format!("CREATE TABLE t_{id} (id INTEGER);"));
}

fn write(dir: &Path, id: &str, parents: &str, extra: &str, up: &str) {
    let path = dir.join("revisions").join(format!("{id}.sql"));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = format!(
        "-- id: {id}\n-- parents: {parents}\n-- message: rev {id}\n{extra}\n-- migrate:up\n{up}\n\
         -- migrate:down\nDROP TABLE t_{id};\n"
    );
    fs::write(path, text).unwrap();
}

/// r0 ─ a1 ─ m2 ─ t3, r0 ─ b1 ─ m2: one head.
fn merged(dir: &Path) {
    rev(dir, "r0", "", "");
    rev(dir, "a1", "r0", "");
    rev(dir, "b1", "r0", "");
    rev(dir, "m2", "a1 b1", "");
    rev(dir, "t3", "m2", "");
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("x.db").display())
}

#[test]
fn several_heads_fail_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    merged(d);
    assert_eq!(check_ok(d, &[]), "ok: 5 revisions, 1 head(s): t3\n");
    // An open branch: two heads.
    rev(d, "c1", "b1", "");
    let ran = check_fails(d, &[]);
    assert_eq!(
        ran.errors(),
        ["the graph has 2 heads; heads c1, t3 are on no labelled branch (no revision at or below them carries a label)"]
    );
    assert!(ran.hints().iter().any(|h| h.contains("`migraph merge`") && h.contains("--allow-multiple-heads")));
    assert_eq!(run(d, &["check", "--json"]).json()["heads"], serde_json::json!(["c1", "t3"]));
    assert_eq!(check_ok(d, &["--allow-multiple-heads"]), "ok: 6 revisions, 2 head(s): c1, t3\n");
    let report: Value = serde_json::from_str(&check_ok(d, &["--allow-multiple-heads", "--json"])).unwrap();
    assert_eq!(report, serde_json::json!({"ok": true, "revisions": 6, "heads": ["c1", "t3"], "problems": []}));
    // A third head, and the flag after the global options: still one line.
    rev(d, "x1", "", "");
    assert_eq!(
        check_fails(d, &[]).errors(),
        ["the graph has 3 heads; heads c1, t3, x1 are on no labelled branch (no revision at or below them carries a label)"]
    );
    check_ok(d, &["--json", "--allow-multiple-heads"]);
    // The hint's remedy works.
    let merge = run(d, &["merge", "-m", "join"]);
    assert_eq!(merge.code, 0, "{}", merge.stderr);
    assert!(check_ok(d, &[]).starts_with("ok: 8 revisions, 1 head(s): "));
}

#[test]
fn graph_problems_are_one_line_each_and_come_alone() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    merged(d);
    rev(d, "c1", "b1", ""); // a second head: not reported while the files are broken
    rev(d, "dangling", "nowhere", "");
    rev(d, "y1", "y2", "");
    rev(d, "y2", "y1", "");
    fs::write(d.join("revisions/bad.sql"), "-- id: bad\n-- parnts: r0\n-- migrate:up\n").unwrap();
    let ran = check_fails(d, &[]);
    let errors = ran.errors();
    assert_eq!(errors.len(), 3, "{}", ran.stderr);
    assert!(errors.iter().any(|e| e.contains("revisions/bad.sql:2: unknown header key `parnts`")), "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("names parent `nowhere`")), "{errors:?}");
    assert!(errors.iter().any(|e| e.starts_with("cycle through parents/depends-on: y1 -> y2 -> y1")), "{errors:?}");
    assert!(ran.hints().iter().any(|h| h.contains("fix the files named above")));
    // With a database configured, broken files are still reported the same way.
    let with_db = check_fails(d, &["--database-url", &sqlite_url(d)]);
    assert_eq!(with_db.errors(), errors);
    assert!(!d.join("x.db").exists());
}

#[cfg(feature = "sqlite")]
#[test]
fn database_problems_with_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    merged(d);
    let url = sqlite_url(d);
    let db = ["--database-url", url.as_str()];
    // Nothing applied yet (the file does not even exist): fine, and not created.
    assert_eq!(check_ok(d, &db), "ok: 5 revisions, 1 head(s): t3; database: 0 applied, checksums match\n");
    assert!(!d.join("x.db").exists());
    assert_eq!(run(d, &["--database-url", &url, "upgrade", "heads"]).code, 0);
    assert_eq!(check_ok(d, &db), "ok: 5 revisions, 1 head(s): t3; database: 5 applied, checksums match\n");
    // From DATABASE_URL and migraph.toml too.
    let from_env = migraph(d).env("DATABASE_URL", &url).arg("check").output().unwrap();
    assert_eq!(String::from_utf8(from_env.stdout).unwrap(), check_ok(d, &db));

    // The SQL of an applied revision edited: drift.
    write(d, "a1", "r0", "", "CREATE TABLE t_a1 (id INTEGER, edited INTEGER);");
    let ran = check_fails(d, &db);
    assert_eq!(ran.errors(), ["revisions/a1.sql: applied revision `a1` changed since it was applied (checksum drift)"]);
    assert!(ran.hints().iter().any(|h| h.contains("--accept-drift")));
    check_ok(d, &[]); // without a database there is nothing to compare
    fs::write(d.join("migraph.toml"), "database_url = \"sqlite://x.db\"\n").unwrap();
    let from_file = check_fails(d, &[]);
    assert!(from_file.errors()[0]
        .ends_with("revisions/a1.sql: applied revision `a1` changed since it was applied (checksum drift)"));
    fs::remove_file(d.join("migraph.toml")).unwrap();
    rev(d, "a1", "r0", "");

    // An applied revision's file deleted, a new head on top of the old one, and a
    // revision outside a transaction that failed half-way: three lines.
    write(d, "f1", "m2", "-- transaction: false", "CREATE TABLE t_f1 (id INTEGER);\nSELECT * FROM no_such_table;");
    assert_eq!(run(d, &["--database-url", &url, "upgrade", "f1"]).code, 1);
    fs::remove_file(d.join("revisions/t3.sql")).unwrap();
    let ran = check_fails(d, &db);
    let errors = ran.errors();
    assert_eq!(errors.len(), 2, "{}", ran.stderr);
    assert_eq!(errors[0], "applied revision `t3` has no file (the database is ahead of these files)");
    assert!(
        errors[1].starts_with("revision `f1` failed or was interrupted going up (started ")
            && errors[1].ends_with("): no such table: no_such_table"),
        "{}",
        errors[1]
    );
    // Never `downgrade`: the revisions may be another project's (issue 8, item 20).
    assert!(ran.hints().iter().any(|h| h.contains("--table")), "{}", ran.stderr);
    assert!(!ran.stderr.contains("downgrade"), "{}", ran.stderr);
    assert!(ran.hints().iter().any(|h| h.contains("run `migraph stamp ")), "the repair commands: {}", ran.stderr);
    rev(d, "z1", "r0", "");
    let ran = check_fails(d, &db);
    assert_eq!(ran.errors().len(), 3, "{}", ran.stderr);
    assert!(ran.errors()[0].starts_with("the graph has 2 heads; heads f1, z1 "), "heads first: {}", ran.stderr);
    assert_eq!(check_fails(d, &["--allow-multiple-heads", "--database-url", &url]).errors().len(), 2);
}

#[cfg(feature = "sqlite")]
#[test]
fn an_unreadable_database_is_a_problem_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    merged(d);
    fs::write(d.join("x.db"), "not a database; ".repeat(100)).unwrap();
    let ran = check_fails(d, &["--database-url", &sqlite_url(d)]);
    let errors = ran.errors();
    assert_eq!(errors.len(), 1, "{}", ran.stderr);
    assert!(errors[0].starts_with("cannot read the database sqlite://") && errors[0].contains("not a database"));
    // A password never shows, on stderr or in the JSON report.
    let secret = "postgres://app:s3cret@127.0.0.1:1/app";
    let ran = check_fails(d, &["--database-url", secret]);
    assert!(!ran.stderr.contains("s3cret"), "{}", ran.stderr);
    let json = run(d, &["check", "--json", "--database-url", secret]);
    assert!(!json.stdout.contains("s3cret") && json.stdout.contains("app:***@"), "{}", json.stdout);
}

/// Long-lived branches, each head on its own labelled branch: expand/contract
/// with a cross-branch depends-on naming a label. `check` passes without flags;
/// a head off those branches fails, naming the heads and the shared label.
#[test]
fn heads_each_on_their_own_labelled_branch_pass() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "r0", "", "");
    rev(d, "e1", "r0", "-- labels: expand");
    rev(d, "e2", "e1", "");
    rev(d, "c1", "r0", "-- labels: contract\n-- depends-on: expand");
    rev(d, "c2", "c1", "-- depends-on: e2");
    assert_eq!(check_ok(d, &[]), "ok: 5 revisions, 2 head(s): c2, e2\n");
    let report: Value = serde_json::from_str(&check_ok(d, &["--json"])).unwrap();
    assert_eq!(report, serde_json::json!({"ok": true, "revisions": 5, "heads": ["c2", "e2"], "problems": []}));
    // A second head on the expand branch: both share it, the contract head is fine.
    rev(d, "e3", "e1", "");
    let ran = check_fails(d, &[]);
    assert_eq!(ran.errors(), ["the graph has 3 heads; heads e2, e3 share the branch `expand` (labelled on e1)"]);
    assert!(ran.hints().iter().any(|h| h.contains("`-- labels: NAME`") && h.contains("allow_multiple_heads")));
    // A head on no branch, and one sharing a branch with a head that has its own.
    fs::remove_file(d.join("revisions/e3.sql")).unwrap();
    rev(d, "x1", "", "");
    rev(d, "f1", "e2", "-- labels: feature");
    rev(d, "g1", "e2", "");
    assert_eq!(
        check_fails(d, &[]).errors(),
        [
            "the graph has 4 heads; head x1 is on no labelled branch (no revision at or below it carries a label)",
            "the graph has 4 heads; head g1 shares the branch `expand` (labelled on e1) with head f1"
        ]
    );
    check_ok(d, &["--allow-multiple-heads"]);
}

/// `allow_multiple_heads = true` in migraph.toml does what the flag does;
/// an unknown key's hint lists it.
#[test]
fn allow_multiple_heads_in_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "r0", "", "");
    rev(d, "a1", "r0", "");
    rev(d, "b1", "r0", "");
    fs::write(d.join("migraph.toml"), "allow_multiple_heads = false\n").unwrap();
    check_fails(d, &[]);
    fs::write(d.join("migraph.toml"), "allow_multiple_heads = true\n").unwrap();
    assert_eq!(check_ok(d, &[]), "ok: 3 revisions, 2 head(s): a1, b1\n");
    fs::write(d.join("migraph.toml"), "allow_multiple_head = true\n").unwrap();
    let ran = run(d, &["check"]);
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(ran.stderr.contains("allow_multiple_heads"), "{}", ran.stderr);
}

/// The project's own sample passes `check` without flags: its two heads are
/// on the `audit` and `customers` branches.
#[test]
fn the_sample_history_passes_check_without_flags() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions");
    let dir = tempfile::tempdir().unwrap();
    let ran = run(dir.path(), &["--revisions", sample.to_str().unwrap(), "check", "--json"]);
    assert_eq!(ran.code, 0, "{}{}", ran.stdout, ran.stderr);
    assert_eq!(ran.json()["heads"], serde_json::json!(["29bb7cfae2a9", "9c2e4b7a1f30"]));
}

/// The example in README's "migraph in CI": a label on the root only, one
/// branch labelled further up.
#[test]
fn heads_sharing_a_branch_are_named_with_the_label() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    rev(d, "r1", "", "-- labels: main");
    rev(d, "a1", "r1", "-- labels: feat");
    rev(d, "a2", "a1", "");
    rev(d, "b1", "r1", "");
    rev(d, "b2", "b1", "");
    rev(d, "c1", "r1", "");
    // The README's own example of this rule runs in tests/readme.rs (fixture `heads`).
    let ran = check_fails(d, &[]);
    assert_eq!(
        ran.errors(),
        ["the graph has 3 heads; heads b2, c1 share the branch `main` (labelled on r1) with head a2"]
    );
}
