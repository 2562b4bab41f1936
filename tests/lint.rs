//! `migraph lint`: each rule reported on its statement's line, once per
//! statement across dialects; `-- migraph:allow` lines and `[lint]` in
//! migraph.toml turning rules off; `--json`; exit 1 on errors only; and
//! `check --lint`.

mod common;

use std::fs;
use std::path::Path;

use common::{project, run_cmd, write_revision, Ran};

/// migraph in `dir` with no database configured.
fn migraph(dir: &Path, args: &[&str]) -> Ran {
    let mut cmd = assert_cmd::Command::cargo_bin("migraph").expect("binary");
    cmd.current_dir(dir).env_remove("DATABASE_URL").env("NO_COLOR", "1");
    run_cmd(cmd, args)
}

/// `revisions/<id>.sql` with the given sections after a header.
fn write_file(dir: &Path, id: &str, parents: &str, rest: &str) {
    let path = dir.join("revisions").join(format!("{id}.sql"));
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, format!("-- id: {id}\n-- parents: {parents}\n-- message: rev {id}\n{rest}")).expect("write");
}

/// The (file, line, rule, severity, dialect) of each finding of `lint --json`.
fn json_findings(r: &Ran) -> Vec<(String, u64, String, String, String)> {
    let value: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {r}"));
    let field =
        |f: &serde_json::Value, key: &str| f[key].as_str().unwrap_or_else(|| panic!("{key} in {f}")).to_string();
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|f| {
            let line = f["line"].as_u64().expect("line");
            (field(f, "file"), line, field(f, "rule"), field(f, "severity"), field(f, "dialect"))
        })
        .collect()
}

const ALL: &str = "sqlite postgres mysql";

/// One revision per rule, each statement on line 6 of its file.
fn one_revision_per_rule(dir: &Path) {
    write_revision(
        dir,
        "r00",
        "",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, age INTEGER);\n\
         CREATE INDEX users_email ON users (email);\nCREATE TABLE teams (id INTEGER PRIMARY KEY);",
        Some("DROP TABLE teams;\nDROP TABLE users;"),
        "",
    );
    let rules = [
        ("r01", "DROP TABLE teams;"),
        ("r02", "ALTER TABLE users DROP COLUMN age;"),
        ("r03", "ALTER TABLE teams RENAME TO squads;"),
        ("r04", "ALTER TABLE users RENAME COLUMN email TO mail;"),
        ("r05", "ALTER TABLE users ADD COLUMN score INTEGER NOT NULL;"),
        ("r06", "CREATE INDEX users_age ON users (age);"),
        ("r07", "CREATE INDEX CONCURRENTLY users_mail ON users (email);"),
        ("r08", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"),
        ("r09", "ALTER TABLE users FROBNICATE;"),
    ];
    let mut parent = "r00";
    for (id, up) in rules {
        write_revision(dir, id, parent, up, Some(""), "");
        parent = id;
    }
    // Dialect sections: only the engine named lints them.
    write_file(
        dir,
        "r10",
        "r09",
        "\n-- migrate:up postgres\nALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18);\n",
    );
    write_file(dir, "r11", "r10", "\n-- migrate:up mysql\nALTER TABLE users MODIFY age BIGINT;\n");
}

#[test]
fn each_rule_is_reported_once_on_its_line() {
    let dir = project();
    one_revision_per_rule(dir.path());
    let r = migraph(dir.path(), &["lint", "--json"]);
    assert_eq!(r.code, 1, "errors fail the lint: {r}");
    let found = json_findings(&r);
    let expected = [
        ("r01", "drop-table", "warning", ALL),
        ("r02", "drop-column", "warning", ALL),
        ("r03", "rename-table", "warning", ALL),
        ("r04", "rename-column", "warning", ALL),
        ("r05", "add-not-null-column", "error", ALL),
        ("r06", "create-index-blocking", "warning", "postgres"),
        ("r07", "concurrently-in-transaction", "error", "postgres"),
        ("r08", "sqlite-alter", "error", "sqlite"),
        ("r09", "unparsable", "warning", ALL),
        ("r10", "constraint-without-not-valid", "warning", "postgres"),
        ("r11", "change-column-type", "warning", "mysql"),
    ]
    .map(|(id, rule, severity, dialect)| {
        (format!("revisions/{id}.sql"), 6, rule.to_string(), severity.to_string(), dialect.to_string())
    });
    assert_eq!(found, expected, "{r}");
    assert_eq!(
        r.stderr.lines().next(),
        Some("error: lint: 3 errors, 8 warnings in 12 revisions (sqlite, postgres, mysql)")
    );
    // Every field is there.
    let value: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let first = &value[0];
    assert_eq!(first["revision"], "r01");
    assert!(first["message"].as_str().unwrap().starts_with("drops table `teams`"), "{first}");
    assert!(!first["fix"].as_str().unwrap().is_empty(), "{first}");
}

#[test]
fn text_lines_name_file_line_rule_and_fix_and_warnings_pass() {
    let dir = project();
    write_revision(dir.path(), "a1", "", "CREATE TABLE t (a INT, b INT);", Some("DROP TABLE t;"), "");
    write_revision(
        dir.path(),
        "b2",
        "a1",
        "SELECT 1;\nALTER TABLE t DROP COLUMN b;",
        Some("ALTER TABLE t ADD COLUMN b INT;"),
        "",
    );
    let r = migraph(dir.path(), &["lint"]);
    assert_eq!(r.code, 0, "warnings only: {r}");
    assert_eq!(
        r.stdout,
        "revisions/b2.sql:7: warning[drop-column]: drops column `t.b`: its values are lost, and code still using it \
         fails — first deploy code that no longer reads or writes the column, then drop it in a later revision\n\
         lint: 0 errors, 1 warning in 2 revisions (sqlite, postgres, mysql)\n"
    );
    // Limited to a revision, by ID prefix; -q keeps errors only.
    let r = migraph(dir.path(), &["lint", "a"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "lint: 0 errors, 0 warnings in 1 revision (sqlite, postgres, mysql)\n")
    );
    let r = migraph(dir.path(), &["lint", "-q"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, ""));
    let r = migraph(dir.path(), &["lint", "zz"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.first_line().starts_with("error:") && r.first_line().contains("zz"), "{r}");
}

#[test]
fn errors_exit_1_and_down_sections_are_not_linted() {
    let dir = project();
    write_revision(dir.path(), "a1", "", "CREATE TABLE t (a INT);", Some("DROP TABLE t;"), "");
    write_revision(
        dir.path(),
        "b2",
        "a1",
        "ALTER TABLE t ADD COLUMN n INT NOT NULL;",
        Some("ALTER TABLE t DROP COLUMN n;"),
        "",
    );
    let r = migraph(dir.path(), &["lint"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.starts_with("revisions/b2.sql:6: error[add-not-null-column]: adds NOT NULL column `n` to existing table `t` without a default"), "{r}");
    assert_eq!(r.stdout.lines().count(), 1, "one finding for three dialects, none for the down SQL: {r}");
    assert_eq!(r.first_line(), "error: lint: 1 error, 0 warnings in 2 revisions (sqlite, postgres, mysql)");
    // With a default it is fine.
    write_revision(dir.path(), "b2", "a1", "ALTER TABLE t ADD COLUMN n INT NOT NULL DEFAULT 0;", None, "");
    migraph(dir.path(), &["lint"]).ok();
}

#[test]
fn concurrently_needs_a_revision_without_transaction() {
    let dir = project();
    let up = "CREATE INDEX CONCURRENTLY t_a ON t (a);";
    write_revision(dir.path(), "a1", "", up, None, "");
    let r = migraph(dir.path(), &["lint", "--dialect", "postgresql"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.starts_with("revisions/a1.sql:6: error[concurrently-in-transaction]:"), "{r}");
    write_revision(dir.path(), "a1", "", up, None, "-- transaction: false");
    let r = migraph(dir.path(), &["lint", "--dialect", "postgres"]).ok();
    assert_eq!(r.stdout, "lint: 0 errors, 0 warnings in 1 revision (postgres)\n");
}

#[test]
fn allow_lines_turn_rules_off_for_their_file() {
    let dir = project();
    let up = "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t ADD COLUMN n INT NOT NULL;";
    write_revision(dir.path(), "a1", "", up, None, "-- migraph:allow drop-column add-not-null-column");
    write_revision(dir.path(), "b2", "a1", "ALTER TABLE t DROP COLUMN b;", None, "");
    let r = migraph(dir.path(), &["lint", "--json"]).ok();
    let found = json_findings(&r);
    assert_eq!(found, [("revisions/b2.sql".into(), 6, "drop-column".into(), "warning".into(), ALL.into())]);
    // An unknown rule is an error naming the file and line.
    write_revision(dir.path(), "a1", "", up, None, "-- migraph:allow drop-columns");
    let r = migraph(dir.path(), &["lint"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.first_line().starts_with("error: revisions/a1.sql:4: unknown lint rule `drop-columns`"), "{r}");
    assert_eq!(r.stdout, "", "{r}");
}

#[test]
fn the_project_allows_rules_and_names_its_dialects_in_migraph_toml() {
    let dir = project();
    write_revision(
        dir.path(),
        "a1",
        "",
        "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t ALTER COLUMN b TYPE BIGINT;",
        None,
        "",
    );
    fs::write(dir.path().join("migraph.toml"), "[lint]\nallow = [\"drop-column\"]\ndialects = [\"postgres\"]\n")
        .unwrap();
    let r = migraph(dir.path(), &["lint", "--json"]).ok();
    let found = json_findings(&r);
    // No sqlite-alter: SQLite is not one of the project's engines.
    assert_eq!(
        found,
        [("revisions/a1.sql".into(), 7, "change-column-type".into(), "warning".into(), "postgres".into())]
    );
    // --dialect wins over the file.
    let r = migraph(dir.path(), &["lint", "--dialect", "sqlite"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stdout.contains("revisions/a1.sql:7: error[sqlite-alter]:"), "{r}");
    fs::write(
        dir.path().join("migraph.toml"),
        "revisions = \"revisions\"\n\n[lint]\nallow = [\"drop-column\", \"drop-tables\"]\n",
    )
    .unwrap();
    let r = migraph(dir.path(), &["lint"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.first_line().ends_with("/migraph.toml:4: unknown lint rule `drop-tables` in lint.allow"), "{r}");
    fs::write(dir.path().join("migraph.toml"), "lint.dialects = [\"oracle\"]\n").unwrap();
    let r = migraph(dir.path(), &["lint"]);
    assert!(r.first_line().ends_with("/migraph.toml:1: unknown dialect `oracle` in lint.dialects"), "{r}");
}

#[test]
fn check_lint_fails_on_lint_errors_and_prints_warnings() {
    let dir = project();
    write_revision(dir.path(), "a1", "", "CREATE TABLE t (a INT);", Some("DROP TABLE t;"), "");
    write_revision(dir.path(), "b2", "a1", "ALTER TABLE t ADD COLUMN n INT NOT NULL;\nDROP TABLE t;", None, "");
    migraph(dir.path(), &["check"]).ok();
    let r = migraph(dir.path(), &["check", "--lint"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("warning: revisions/b2.sql:7: drop-table: drops table `t`"), "{r}");
    assert!(r.stderr.contains("error: revisions/b2.sql:6: add-not-null-column: adds NOT NULL column `n`"), "{r}");
    write_revision(dir.path(), "b2", "a1", "DROP TABLE t;", None, "-- migraph:allow drop-table");
    let r = migraph(dir.path(), &["check", "--lint"]).ok();
    assert!(!r.stderr.contains("warning"), "{r}");
}
