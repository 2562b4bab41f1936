//! Graph rules of issue 9, through the real binary: `history -r a:b` whose
//! ends are not in order is an error naming both; IDs are case-sensitive
//! (`[0-9A-Za-z_]{1,64}`, Alembic's `Ibac91d24da2` kept as is) on every
//! backend, MySQL's version table included (binary collation, older tables
//! brought up to date in place); `depends-on` may name a branch label.
//! Each test reads the database afterwards; server tests create their own.

mod common;

use std::fs;
use std::path::Path;

use common::{backend_tests, diamond, fails, ok, project, sqlite_url, write_revision, Server, TestDb};
use migraph::backend::{AnyConnection, Backend};

/// IDs in the version table, sorted.
fn recorded(url: &str) -> Vec<String> {
    let dialect = migraph::backend::dialect_of(url).expect("dialect");
    let mut conn = AnyConnection::connect(url).expect("connect");
    let mut ids: Vec<String> = conn
        .version_rows(&dialect.select_rows("migraph_revisions"))
        .expect("read the version table")
        .into_iter()
        .map(|row| row.id)
        .collect();
    ids.sort();
    ids
}

/// The IDs `history --json ARGS` lists, newest first.
fn history(dir: &Path, url: &str, args: &[&str]) -> Vec<String> {
    let mut all = vec!["history", "--json"];
    all.extend_from_slice(args);
    let out = ok(dir, url, &all);
    let list: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    list.as_array().expect("array").iter().map(|r| r["id"].as_str().expect("id").to_string()).collect()
}

#[test]
fn history_range_from_a_revision_that_is_not_an_ancestor_is_an_error_naming_both() {
    let d = project();
    let d = d.path();
    let url = sqlite_url(d);
    // r0 ─ a1 (alpha) ─ a2 ─ m3 ─ t4, r0 ─ b1 (beta) ─ m3
    diamond(d);
    let ran = fails(d, &url, &["history", "-r", "a2:b1"]);
    assert_eq!(
        ran.stderr.lines().next(),
        Some("error: range `a2:b1`: a2 is not an ancestor of b1, so nothing lies between them"),
        "{}",
        ran.stderr
    );
    assert_eq!(ran.stdout, "");
    // Reversed ends: the hint says to swap them. Labels resolve before the message names IDs.
    let ran = fails(d, &url, &["history", "-r", "t4:alpha"]);
    assert_eq!(
        ran.stderr.lines().next(),
        Some("error: range `t4:alpha`: t4 is not an ancestor of a1, so nothing lies between them")
    );
    assert!(ran.stderr.contains("swap the two ends"), "{}", ran.stderr);
    let ran = fails(d, &url, &["history", "--json", "-r", "heads:r0"]);
    assert!(ran.stderr.starts_with("error: range `heads:r0`: t4 is not an ancestor of r0"), "{}", ran.stderr);
    // Every other form still works.
    assert_eq!(history(d, &url, &["-r", "a1:t4"]), ["t4", "m3", "a2", "a1"]);
    assert_eq!(history(d, &url, &["-r", "-1:"]), ["t4", "m3"]);
    assert_eq!(history(d, &url, &["-r", "base:head"]), ["t4", "m3", "b1", "a2", "a1", "r0"]);
    assert_eq!(history(d, &url, &["-r", "a1:"]), ["t4", "m3", "a2", "a1"]);
    assert_eq!(history(d, &url, &["-r", ":beta"]), ["b1", "r0"]);
    assert_eq!(history(d, &url, &["-r", "b1:b1"]), ["b1"]);
    assert_eq!(history(d, &url, &["-r", "beta:alpha@head"]), ["t4", "m3", "b1"]);
    let lines = ok(d, &url, &["history", "-r", "m3:t4"]).stdout;
    // With a database, each revision is tagged applied or pending (here: no file yet, all pending).
    assert_eq!(lines, "m3 -> t4 (pending, head) rev t4\na2, b1 -> m3 (pending, mergepoint) rev m3\n");

    // `-3:` on a line: the head and the three revisions below it.
    let line = project();
    let l = line.path();
    for (id, parent) in [("c0", ""), ("c1", "c0"), ("c2", "c1"), ("c3", "c2"), ("c4", "c3")] {
        common::table_revision(l, id, parent);
    }
    let url = sqlite_url(l);
    assert_eq!(history(l, &url, &["-r", "-3:"]), ["c4", "c3", "c2", "c1"]);
    assert_eq!(history(l, &url, &["-r", "c1:-1"]), ["c3", "c2", "c1"]);
    // As in Alembic (`-r-3:current`), a relative lower end counts down from the upper end.
    assert_eq!(history(l, &url, &["-r", "-1:-3"]), ["c1", "c0"]);
}

/// `abc` and `Abc` are two revisions, and `revision --id` keeps an Alembic
/// ID's case: all are applied and recorded, `status` reads them, prefixes
/// match exact case, and downgrades remove each by its own ID.
fn ids_differing_only_in_case(dir: &Path, url: &str) {
    write_revision(dir, "abc", "", "CREATE TABLE t_lower (x INT);", Some("DROP TABLE t_lower;"), "");
    write_revision(dir, "Abc", "abc", "CREATE TABLE t_upper (x INT);", Some("DROP TABLE t_upper;"), "");
    let created = ok(dir, url, &["revision", "-m", "imported from alembic", "--id", "Ibac91d24da2"]);
    assert!(created.stdout.contains("Ibac91d24da2_imported_from_alembic.sql"), "{}", created.stdout);
    let file = dir.join("revisions").join("Ibac91d24da2_imported_from_alembic.sql");
    let text = fs::read_to_string(&file).expect("the new file");
    assert!(text.starts_with("-- id: Ibac91d24da2\n-- parents: Abc\n"), "{text}");
    let text = text.replacen("-- migrate:up\n", "-- migrate:up\nCREATE TABLE t_imported (x INT);\n", 1).replacen(
        "-- migrate:down\n",
        "-- migrate:down\nDROP TABLE t_imported;\n",
        1,
    );
    fs::write(&file, text).expect("write");
    let bad = fails(dir, url, &["revision", "-m", "x", "--id", "Ibac-91"]);
    assert!(bad.stderr.contains("`0-9`, `A-Z`, `a-z` and `_`"), "{}", bad.stderr);

    ok(dir, url, &["upgrade", "heads"]);
    assert_eq!(recorded(url), ["Abc", "Ibac91d24da2", "abc"]);
    let status = ok(dir, url, &["status"]).stdout;
    assert!(status.contains("applied:  3 of 3"), "{status}");
    assert!(status.contains("head:     Ibac91d24da2 (head) imported from alembic"), "{status}");
    let current = ok(dir, url, &["current"]).stdout;
    assert!(current.starts_with("Ibac91d24da2"), "{current}");
    // Prefixes match exact case: `a` and `ab` are `abc` alone, `A` is `Abc`.
    for (prefix, id) in [("a", "abc"), ("ab", "abc"), ("A", "Abc"), ("Ab", "Abc"), ("I", "Ibac91d24da2")] {
        let shown = ok(dir, url, &["show", prefix]).stdout;
        assert!(shown.starts_with(&format!("Revision:    {id} ")), "{prefix}: {shown}");
    }
    fails(dir, url, &["show", "aB"]);
    ok(dir, url, &["check"]);

    ok(dir, url, &["downgrade", "Abc"]);
    assert_eq!(recorded(url), ["Abc", "abc"]);
    ok(dir, url, &["downgrade", "abc"]);
    assert_eq!(recorded(url), ["abc"]);
    let status = ok(dir, url, &["status"]).stdout;
    assert!(status.contains("applied:  1 of 3"), "{status}");
    ok(dir, url, &["upgrade", "Abc"]);
    assert_eq!(recorded(url), ["Abc", "abc"]);
    ok(dir, url, &["downgrade", "base"]);
    assert_eq!(recorded(url), Vec::<String>::new());
}

/// A MySQL version table written by an earlier release compares IDs without
/// regard to case: `Abc` would collide with the recorded `abc`. The next run
/// gives both tables' ID columns a binary collation under the lock.
fn older_mysql_table_gets_case_sensitive_ids(db: &TestDb) {
    let d = project();
    let d = d.path();
    write_revision(d, "abc", "", "CREATE TABLE t_lower (x INT);", Some("DROP TABLE t_lower;"), "");
    write_revision(d, "Abc", "abc", "CREATE TABLE t_upper (x INT);", Some("DROP TABLE t_upper;"), "");
    ok(d, &db.url, &["upgrade", "abc"]);
    let collations = || {
        let mut conn = db.connect();
        ["migraph_revisions", "migraph_revisions_pending"].map(|table| {
            conn.text(
                &format!(
                    "SELECT collation_name AS v FROM information_schema.columns \
                     WHERE table_schema = DATABASE() AND table_name = '{table}' AND column_name = 'id'"
                ),
                &[],
            )
            .expect("collation")
            .unwrap_or_default()
        })
    };
    assert_eq!(collations(), ["utf8mb4_bin", "utf8mb4_bin"], "new tables compare IDs exactly");
    // The layout of earlier releases: the server's default, case-insensitive collation.
    db.connect()
        .batch(
            "ALTER TABLE migraph_revisions MODIFY id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL; \
             ALTER TABLE migraph_revisions_pending MODIFY id VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci NOT NULL",
        )
        .expect("old layout");
    assert_eq!(collations(), ["utf8mb4_general_ci", "utf8mb4_general_ci"]);
    let status = ok(d, &db.url, &["status"]).stdout;
    assert!(status.contains("applied:  1 of 2"), "{status}");
    ok(d, &db.url, &["upgrade", "heads"]);
    assert_eq!(collations(), ["utf8mb4_bin", "utf8mb4_bin"]);
    assert_eq!(recorded(&db.url), ["Abc", "abc"]);
    assert!(db.tables().contains(&"t_upper".to_string()));
    let status = ok(d, &db.url, &["status"]).stdout;
    assert!(status.contains("applied:  2 of 2") && status.contains("head:     Abc"), "{status}");
    ok(d, &db.url, &["downgrade", "abc"]);
    assert_eq!(recorded(&db.url), ["abc"]);
}

backend_tests! {
    sqlite ids_differing_only_in_case_are_two_revisions_on_sqlite => {
        let d = project();
        ids_differing_only_in_case(d.path(), &sqlite_url(d.path()))
    },
    postgres ids_differing_only_in_case_are_two_revisions_on_postgres => {
        let db = TestDb::new(Server::Postgres);
        let d = project();
        ids_differing_only_in_case(d.path(), &db.url)
    },
    mysql ids_differing_only_in_case_are_two_revisions_on_mysql => {
        let db = TestDb::new(Server::Mysql);
        let d = project();
        ids_differing_only_in_case(d.path(), &db.url)
    },
    mysql an_older_mysql_version_table_gets_case_sensitive_ids_in_place => {
        older_mysql_table_gets_case_sensitive_ids(&TestDb::new(Server::Mysql))
    },
}

/// `depends-on: lib` means the revision labelled `lib`: it is applied first,
/// the row records its ID, and `show` and the graph see the dependency.
#[test]
fn depends_on_may_name_a_branch_label() {
    let d = project();
    let d = d.path();
    let url = sqlite_url(d);
    write_revision(d, "l1", "", "CREATE TABLE lib_t (x INT);", Some("DROP TABLE lib_t;"), "-- labels: lib");
    write_revision(d, "l2", "l1", "CREATE TABLE lib_u (x INT);", Some("DROP TABLE lib_u;"), "");
    write_revision(
        d,
        "a1",
        "",
        "CREATE TABLE app_t (x INT REFERENCES lib_t (x));",
        Some("DROP TABLE app_t;"),
        "-- depends-on: lib",
    );
    let plan = ok(d, &url, &["upgrade", "a1", "--dry-run", "--json"]).stdout;
    let plan: serde_json::Value = serde_json::from_str(&plan).expect("JSON");
    let ids: Vec<&str> = plan.as_array().expect("plan").iter().map(|s| s["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["l1", "a1"], "the labelled revision first, not its branch's head");
    ok(d, &url, &["upgrade", "a1"]);
    assert_eq!(recorded(&url), ["a1", "l1"]);
    let conn = &mut AnyConnection::connect(&url).expect("connect");
    let stored = conn.text("SELECT depends_on AS v FROM migraph_revisions WHERE id = 'a1'", &[]).expect("row");
    assert_eq!(stored.as_deref(), Some("l1"), "rows name revisions by ID");
    let shown = ok(d, &url, &["show", "a1"]).stdout;
    assert!(shown.contains("Depends on:  l1"), "{shown}");
    // Unapplying lib's revision takes what needs it along.
    ok(d, &url, &["downgrade", "base"]);
    assert_eq!(recorded(&url), Vec::<String>::new());

    // A name that is neither an ID nor a label.
    write_revision(d, "b1", "", "SELECT 1;", Some(""), "-- depends-on: libb");
    let ran = fails(d, &url, &["check"]);
    assert_eq!(
        ran.stderr.lines().next(),
        Some("error: revisions/b1.sql:4: revision `b1` names dependency `libb`, which is neither a revision ID nor a branch label"),
        "{}",
        ran.stderr
    );
    // A label with the characters labels allow and IDs do not.
    write_revision(d, "b1", "", "SELECT 1;", Some(""), "-- depends-on: lib.v2-x");
    write_revision(d, "c1", "", "SELECT 1;", Some(""), "-- labels: lib.v2-x");
    let shown = ok(d, &url, &["show", "b1"]).stdout;
    assert!(shown.contains("Depends on:  c1"), "{shown}");
}
