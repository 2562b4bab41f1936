//! Section markers and dialect sections through the real binary (SPEC §1):
//! a mistyped marker is an error naming file and line before anything
//! touches the database, a dialect section replaces the generic one on its
//! dialect, and a revision without SQL for the database's dialect stops the
//! plan before its first statement. Every test reads the database afterwards.
#![cfg(feature = "sqlite")]

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::{migraph, project, set, sqlite_url, Ran, Server, TestDb};
use migraph::backend::Backend;
use serde_json::Value;

// ---------------------------------------------------------------------------
// Helpers

fn db_path(dir: &Path) -> PathBuf {
    dir.join("app.db")
}

fn ok(dir: &Path, args: &[&str]) -> Ran {
    common::ok(dir, &sqlite_url(dir), args)
}

fn fails(dir: &Path, args: &[&str]) -> Ran {
    common::fails(dir, &sqlite_url(dir), args)
}

/// Writes `revisions/<name>`.
fn put(dir: &Path, name: &str, text: &str) {
    let path = dir.join("revisions").join(name);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// The tables of the SQLite database (none when the file does not exist;
/// the check does not create it).
fn tables(dir: &Path) -> BTreeSet<String> {
    if !db_path(dir).exists() {
        return BTreeSet::new();
    }
    common::sqlite_tables(&db_path(dir))
}

/// `(id, down_sql)` of every version row (none without a version table).
fn rows(dir: &Path) -> Vec<(String, Option<String>)> {
    if !tables(dir).contains("migraph_revisions") {
        return Vec::new();
    }
    let conn = rusqlite::Connection::open(db_path(dir)).expect("open the database");
    let mut stmt = conn.prepare("SELECT id, down_sql FROM migraph_revisions ORDER BY id").expect("prepare");
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).expect("query");
    rows.map(|r| r.expect("row")).collect()
}

/// The user tables: all but migraph's own.
fn user_tables(dir: &Path) -> BTreeSet<String> {
    tables(dir).into_iter().filter(|t| !t.starts_with("migraph_")).collect()
}

// ---------------------------------------------------------------------------
// Near-miss markers

const NEAR_MISSES: [&str; 7] = [
    "--migrate:down",
    "-- migrate: down",
    "-- Migrate:Down",
    "--  migrate:down",
    "-- migrate:down  -- undo",
    "  -- migrate:down",
    "-- MIGRATE:DOWN",
];

/// Before: each of these was read as a comment in the up section, so
/// `upgrade` created and dropped the table, exited 0 and recorded the
/// revision as applied and irreversible.
#[test]
fn a_mistyped_down_marker_stops_check_and_upgrade_before_any_change() {
    for marker in NEAR_MISSES {
        let d = project();
        let d = d.path();
        put(
            d,
            "a.sql",
            &format!("-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t (x INTEGER);\n{marker}\nDROP TABLE t;\n"),
        );
        for command in [&["check"][..], &["upgrade", "heads"], &["status"]] {
            let r = fails(d, command);
            let line = r.first_line();
            assert!(line.starts_with("error: revisions/a.sql:5: "), "{marker:?} {command:?}: {}", r.stderr);
            assert!(line.contains("did you mean `-- migrate:down`"), "{marker:?} {command:?}: {}", r.stderr);
            assert!(!r.stdout.contains("applied"), "{marker:?} {command:?}: {}", r.stdout);
        }
        let r = fails(d, &["upgrade", "heads", "--sql"]);
        assert!(r.first_line().starts_with("error: revisions/a.sql:5: "), "{}", r.stderr);
        assert!(r.stdout.is_empty(), "no script on stdout: {}", r.stdout);
        assert_eq!(tables(d), BTreeSet::new(), "{marker:?}: the database was touched");
        assert_eq!(rows(d), []);
    }
}

#[test]
fn an_unknown_dialect_lists_the_known_ones() {
    let d = project();
    let d = d.path();
    put(d, "a.sql", "-- id: a\n-- parents:\n\n-- migrate:up oracle\nCREATE TABLE t (x INTEGER);\n");
    let r = fails(d, &["upgrade", "heads"]);
    let line = r.first_line();
    assert!(line.starts_with("error: revisions/a.sql:4: "), "{}", r.stderr);
    assert!(line.contains("unknown dialect `oracle`") && line.contains("`sqlite`, `postgres` or `mysql`"), "{line}");
    assert_eq!(tables(d), BTreeSet::new());
}

// ---------------------------------------------------------------------------
// Dialect sections

/// Generic sections for `generic_t`, SQLite sections for `lite_t`, a
/// PostgreSQL up section for `pg_t` (MySQL uses the generic ones).
const DIALECTS: &str = "-- id: a\n-- parents:\n-- message: one history, three dialects\n\n\
    -- migrate:up\nCREATE TABLE generic_t (x INTEGER);\n\n\
    -- migrate:down\nDROP TABLE generic_t;\n\n\
    -- migrate:up sqlite\nCREATE TABLE lite_t (x INTEGER);\n\n\
    -- migrate:down sqlite\nDROP TABLE lite_t;\n\n\
    -- migrate:up postgres\nCREATE TABLE pg_t (x SERIAL);\n";

#[test]
fn a_sqlite_section_replaces_the_generic_one_on_sqlite() {
    let d = project();
    let d = d.path();
    put(d, "a.sql", DIALECTS);
    ok(d, &["check"]);
    let script = ok(d, &["upgrade", "heads", "--sql"]).stdout;
    assert!(script.contains("CREATE TABLE lite_t (x INTEGER);"), "{script}");
    assert!(!script.contains("generic_t") && !script.contains("pg_t"), "{script}");
    ok(d, &["upgrade", "heads"]);
    assert_eq!(user_tables(d), set(&["lite_t"]));
    // The down SQL recorded is the one for this dialect ...
    assert_eq!(rows(d), [("a".to_string(), Some("DROP TABLE lite_t;\n\n".to_string()))]);
    // ... so it still undoes the right table once the file is gone.
    fs::remove_file(d.join("revisions/a.sql")).expect("remove");
    put(d, "keep.sql", "-- id: keep\n-- parents:\n-- migrate:up\n");
    ok(d, &["downgrade", "base"]);
    assert_eq!(user_tables(d), BTreeSet::new());
    assert_eq!(rows(d), []);
}

/// On PostgreSQL the `postgres` section runs; on MySQL the generic one.
fn dialect_sections_on(server: Server) {
    let db = TestDb::new(server);
    let d = project();
    let d = d.path();
    put(d, "a.sql", DIALECTS);
    common::ok(d, &db.url, &["upgrade", "heads"]);
    let (created, down) = match server {
        Server::Postgres => ("pg_t", "DROP TABLE generic_t;\n\n"),
        Server::Mysql => ("generic_t", "DROP TABLE generic_t;\n\n"),
    };
    let mut conn = db.connect();
    let schema = if server == Server::Postgres { "current_schema()" } else { "DATABASE()" };
    for table in ["generic_t", "lite_t", "pg_t"] {
        let sql = format!(
            "SELECT COUNT(*) AS v FROM information_schema.tables WHERE table_schema = {schema} AND table_name = '{table}'"
        );
        let count = conn.int(&sql, &[]).expect("count tables");
        assert_eq!(count, Some(i64::from(table == created)), "{server:?} {table}");
    }
    let applied = conn.text("SELECT id AS v FROM migraph_revisions", &[]).expect("read version table");
    assert_eq!(applied.as_deref(), Some("a"));
    let down_sql = conn.text("SELECT down_sql AS v FROM migraph_revisions", &[]).expect("read version table");
    assert_eq!(down_sql.as_deref(), Some(down));
}

common::backend_tests! {
    postgres dialect_sections_on_postgres => dialect_sections_on(Server::Postgres),
    mysql dialect_sections_on_mysql => dialect_sections_on(Server::Mysql),
}

#[test]
fn a_revision_only_for_postgres_fails_before_any_change_on_sqlite() {
    let d = project();
    let d = d.path();
    put(
        d,
        "a.sql",
        "-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t_a (x INTEGER);\n-- migrate:down\nDROP TABLE t_a;\n",
    );
    put(d, "b.sql", "-- id: b\n-- parents: a\n-- migrate:up postgres\nCREATE TABLE t_b (x SERIAL);\n");
    // `check` with a SQLite database says so before a deployment tries.
    let r = fails(d, &["check"]);
    assert!(r.stderr.contains("revisions/b.sql: revision `b` has no up SQL for sqlite"), "{}", r.stderr);
    // Without a database the files alone are fine: another dialect may run them.
    let out = migraph(d, "").env_remove("DATABASE_URL").arg("check").output().expect("run migraph");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for args in [&["upgrade", "heads"][..], &["upgrade", "heads", "--sql"], &["migrate", "b"]] {
        let r = fails(d, args);
        let line = r.first_line();
        assert!(line.starts_with("error: cannot run on sqlite: "), "{args:?}: {}", r.stderr);
        assert!(line.ends_with("b (revisions/b.sql)"), "{args:?}: {line}");
        assert!(r.stderr.contains("`-- migrate:up sqlite`"), "the hint names the section: {}", r.stderr);
        assert_eq!(user_tables(d), BTreeSet::new(), "{args:?}: a's table was created");
        assert_eq!(rows(d), [], "{args:?}");
    }
    // Up to `a` is fine: only what the plan runs needs SQL for the dialect.
    ok(d, &["upgrade", "a"]);
    assert_eq!(user_tables(d), set(&["t_a"]));
}

#[test]
fn a_down_section_for_another_dialect_only_is_irreversible_here() {
    let d = project();
    let d = d.path();
    put(d, "a.sql", "-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t_a (x INTEGER);\n");
    put(
        d,
        "b.sql",
        "-- id: b\n-- parents: a\n-- migrate:up\nCREATE TABLE t_b (x INTEGER);\n-- migrate:down postgres\nDROP TABLE t_b;\n",
    );
    ok(d, &["upgrade", "heads"]);
    assert_eq!(rows(d), [("a".to_string(), None), ("b".to_string(), None)], "no down SQL for SQLite is stored");
    let r = fails(d, &["downgrade", "a"]);
    assert!(r.first_line().contains("irreversible on sqlite"), "{}", r.stderr);
    assert!(r.first_line().ends_with("b (revisions/b.sql)"), "{}", r.stderr);
    assert_eq!(user_tables(d), set(&["t_a", "t_b"]));
    assert_eq!(rows(d).len(), 2);
}

#[test]
fn show_lists_every_section() {
    let d = project();
    let d = d.path();
    put(d, "a.sql", DIALECTS);
    let shown = ok(d, &["show", "a"]).stdout;
    let markers: Vec<&str> = shown.lines().filter(|l| l.starts_with("-- migrate:")).collect();
    assert_eq!(
        markers,
        [
            "-- migrate:up",
            "-- migrate:down",
            "-- migrate:up sqlite",
            "-- migrate:down sqlite",
            "-- migrate:up postgres"
        ]
    );
    let json: Value = serde_json::from_str(&ok(d, &["show", "a", "--json"]).stdout).expect("json");
    assert_eq!(json["checksum"].as_str().map(str::len), Some(64));
    let sections: Vec<(&str, &str)> = json["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| (s["marker"].as_str().expect("marker"), s["sql"].as_str().expect("sql")))
        .collect();
    assert_eq!(sections.len(), 5);
    assert_eq!(sections[4], ("-- migrate:up postgres", "CREATE TABLE pg_t (x SERIAL);\n"));
}
