//! What a schema snapshot holds beyond tables, views and triggers: SQLite
//! check constraints (parsed from the `CREATE TABLE` text), PostgreSQL enum
//! types, sequences and functions, MySQL/MariaDB routines and events; and
//! that `migraph test` and `migraph verify` report changes to them by name.

mod common;

use std::path::Path;

use common::{mg, project, write_revision, AnyDb, Server};
use migraph::backend::Backend as _;
use migraph::schema::{self, Scope};

/// `migraph --revisions DIR ...` against the test database.
fn run(db: &AnyDb, dir: &Path, args: &[&str]) -> common::Ran {
    let revisions = dir.join("revisions");
    let mut all = vec!["--revisions", revisions.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    mg(dir, &db.url, &all)
}

/// The table `t` with a named column check, an unnamed column check and an
/// unnamed table check, as SQLite's `CREATE TABLE` text `create`.
const CHECKED: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, \
    qty INTEGER CONSTRAINT qty_positive CHECK (qty > 0), \
    code TEXT CHECK (length(code) = 3), CHECK (qty < 1000 OR code <> 'LOW'))";

#[test]
fn sqlite_check_constraints_are_read_and_compared() {
    let db = AnyDb::new(None);
    let mut conn = db.connect();
    conn.batch(CHECKED).expect("create t");
    let before = schema::read(&mut conn, &Scope::default()).expect("read");
    let checks: Vec<(String, String)> =
        before.tables[0].checks.iter().map(|c| (c.name.clone(), c.expression.clone())).collect();
    assert_eq!(
        checks,
        [
            ("check#1".to_string(), "qty < 1000 OR code <> 'LOW'".to_string()),
            ("check(code)".to_string(), "length(code) = 3".to_string()),
            ("qty_positive".to_string(), "qty > 0".to_string()),
        ]
    );
    assert!(before.to_string().contains("\n  check qty_positive qty > 0\n"), "{before}");

    // A rebuild by hand that loosens one check and forgets another.
    conn.batch(
        "CREATE TABLE t_new (id INTEGER PRIMARY KEY, qty INTEGER CONSTRAINT qty_positive CHECK (qty >= 0), code TEXT, \
         CHECK (qty < 1000 OR code <> 'LOW')); INSERT INTO t_new SELECT * FROM t; DROP TABLE t; ALTER TABLE t_new RENAME TO t",
    )
    .expect("rebuild t");
    let after = schema::read(&mut conn, &Scope::default()).expect("read again");
    let found: Vec<String> = schema::diff(&before, &after).iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "check constraint `check(code)` on table `t`: missing",
            "check constraint `qty_positive` on table `t`: expression `qty >= 0` found, `qty > 0` expected",
        ]
    );
}

#[test]
fn sqlite_down_forgetting_a_check_fails_the_test() {
    let db = AnyDb::new(None);
    let project = project();
    let dir = project.path();
    write_revision(
        dir,
        "r1",
        "",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, qty INTEGER CONSTRAINT qty_positive CHECK (qty > 0));",
        Some("DROP TABLE t;"),
        "",
    );
    let rebuild = |check: &str| {
        format!(
            "CREATE TABLE t_new (id INTEGER PRIMARY KEY, qty INTEGER{check});\nINSERT INTO t_new SELECT * FROM t;\n\
             DROP TABLE t;\nALTER TABLE t_new RENAME TO t;"
        )
    };
    // r2 tightens the check; its down rebuilds the table without any.
    let up = rebuild(" CONSTRAINT qty_positive CHECK (qty > 0 AND qty < 100)");
    write_revision(dir, "r2", "r1", &up, Some(&rebuild("")), "");
    let ran = run(&db, dir, &["test"]).failed();
    assert!(
        ran.stdout.contains(
            "FAIL r2 rev r2: down does not restore the schema: check constraint `qty_positive` on table `t`: \
             gone after down (it was there before up)"
        ),
        "{ran}"
    );
    // Restoring it passes.
    write_revision(dir, "r2", "r1", &up, Some(&rebuild(" CONSTRAINT qty_positive CHECK (qty > 0)")), "");
    run(&db, dir, &["test"]).ok();

    // A check changed by hand on the live database is drift.
    run(&db, dir, &["upgrade", "heads"]).ok();
    run(&db, dir, &["verify"]).ok();
    db.connect().batch(&rebuild(" CONSTRAINT qty_positive CHECK (qty > 0 AND qty < 1000)")).expect("by hand");
    let ran = run(&db, dir, &["verify"]).failed();
    assert_eq!(
        ran.stdout,
        "check constraint `qty_positive` on table `t`: expression `qty > 0 AND qty < 1000` in the database, \
         `qty > 0 AND qty < 100` from the revisions\n",
        "{ran}"
    );
}

fn postgres_objects() {
    let db = AnyDb::new(Some(Server::Postgres));
    let project = project();
    let dir = project.path();
    write_revision(
        dir,
        "r1",
        "",
        "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');\n\
         CREATE SEQUENCE invoice_no INCREMENT 5 START 100;\n\
         CREATE TABLE person (id SERIAL PRIMARY KEY, m mood NOT NULL);\n\
         CREATE FUNCTION plus_one(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a + 1 $$;",
        Some("DROP FUNCTION plus_one(integer);\nDROP TABLE person;\nDROP SEQUENCE invoice_no;\nDROP TYPE mood;"),
        "",
    );
    // r2's down forgets its function.
    write_revision(
        dir,
        "r2",
        "r1",
        "CREATE FUNCTION twice(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a * 2 $$;",
        Some("SELECT 1;"),
        "",
    );
    let ran = run(&db, dir, &["test"]).failed();
    assert!(ran.stdout.contains("ok   r1 rev r1\n"), "{ran}");
    assert!(
        ran.stdout.contains(
            "FAIL r2 rev r2: down does not restore the schema: function `twice(integer)`: \
             left after down (it was not there before up)"
        ),
        "{ran}"
    );
    write_revision(
        dir,
        "r2",
        "r1",
        "CREATE FUNCTION twice(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a * 2 $$;",
        Some("DROP FUNCTION twice(integer);"),
        "",
    );
    run(&db, dir, &["test"]).ok();

    run(&db, dir, &["upgrade", "heads"]).ok();
    // Using a sequence changes its current value, which is not schema.
    db.connect().batch("SELECT nextval('invoice_no'); INSERT INTO person (m) VALUES ('ok')").expect("use");
    let text = run(&db, dir, &["schema"]).ok();
    for line in [
        "type mood: enum ('sad', 'ok', 'happy')\n",
        "sequence invoice_no: bigint increment 5 min 1 max 9223372036854775807 start 100 cache 1 no cycle\n",
        "sequence person_id_seq: integer increment 1 min 1 max 2147483647 start 1 cache 1 no cycle owned by person.id\n",
        "function plus_one(integer): CREATE OR REPLACE FUNCTION public.plus_one(a integer) RETURNS integer \
         LANGUAGE sql AS $function$ SELECT a + 1 $function$\n",
    ] {
        assert!(text.stdout.contains(line), "no {line:?} in {text}");
    }
    let json = run(&db, dir, &["schema", "--json"]).ok();
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let kinds: Vec<&str> =
        parsed["objects"].as_array().expect("objects").iter().map(|o| o["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["function", "function", "sequence", "sequence", "type"], "{json}");
    run(&db, dir, &["verify"]).ok();

    // An extension's functions are not the history's (when the server has one to install).
    if db.connect().batch("CREATE EXTENSION pgcrypto").is_ok() {
        let text = run(&db, dir, &["schema"]).ok();
        assert!(!text.stdout.contains("function digest("), "{text}");
        db.connect().batch("DROP EXTENSION pgcrypto").expect("drop extension");
    }

    db.connect()
        .batch(
            "CREATE OR REPLACE FUNCTION plus_one(a integer) RETURNS integer LANGUAGE sql AS $$ SELECT a + 2 $$;\n\
             ALTER TYPE mood ADD VALUE 'angry';\nALTER SEQUENCE invoice_no INCREMENT 10",
        )
        .expect("change by hand");
    let ran = run(&db, dir, &["verify"]).failed();
    let lines: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "function `plus_one(integer)`: definition `CREATE OR REPLACE FUNCTION public.plus_one(a integer) RETURNS integer \
             LANGUAGE sql AS $function$ SELECT a + 2 $function$` in the database, `CREATE OR REPLACE FUNCTION public.plus_one(a integer) \
             RETURNS integer LANGUAGE sql AS $function$ SELECT a + 1 $function$` from the revisions",
            "sequence `invoice_no`: definition `bigint increment 10 min 1 max 9223372036854775807 start 100 cache 1 no cycle` \
             in the database, `bigint increment 5 min 1 max 9223372036854775807 start 100 cache 1 no cycle` from the revisions",
            "type `mood`: definition `enum ('sad', 'ok', 'happy', 'angry')` in the database, \
             `enum ('sad', 'ok', 'happy')` from the revisions",
        ],
        "{ran}"
    );
}

fn mysql_objects() {
    let db = AnyDb::new(Some(Server::Mysql));
    let project = project();
    let dir = project.path();
    write_revision(
        dir,
        "r1",
        "",
        "CREATE TABLE t (id INT PRIMARY KEY, v INT);\n\
         CREATE FUNCTION plus_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;\n\
         CREATE PROCEDURE clear_t(IN below INT) DELETE FROM t WHERE v < below;\n\
         CREATE EVENT purge_t ON SCHEDULE EVERY 1 HOUR DO DELETE FROM t WHERE v < 0;",
        Some("DROP EVENT purge_t;\nDROP PROCEDURE clear_t;\nDROP FUNCTION plus_one;\nDROP TABLE t;"),
        "",
    );
    run(&db, dir, &["test"]).ok();
    run(&db, dir, &["upgrade", "heads"]).ok();
    let text = run(&db, dir, &["schema"]).ok();
    let lines: Vec<&str> = text.stdout.lines().filter(|l| !l.starts_with(' ') && !l.starts_with("table ")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], "event purge_t: every 1 hour, enabled, on completion not preserve: DELETE FROM t WHERE v < 0");
    assert!(lines[1].starts_with("function plus_one: ("), "{text}");
    assert!(lines[1].contains("x int"), "{text}");
    assert!(lines[1].ends_with(", deterministic, contains sql, sql security definer: RETURN x + 1"), "{text}");
    assert!(lines[2].starts_with("procedure clear_t: (in below int"), "{text}");
    assert!(lines[2].ends_with(": DELETE FROM t WHERE v < below"), "{text}");
    run(&db, dir, &["verify"]).ok();

    db.connect()
        .batch("DROP FUNCTION plus_one; CREATE FUNCTION plus_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 2")
        .expect("change by hand");
    let ran = run(&db, dir, &["verify"]).failed();
    assert_eq!(ran.stdout.lines().count(), 1, "{ran}");
    assert!(ran.stdout.starts_with("function `plus_one`: definition `("), "{ran}");
    assert!(
        ran.stdout.contains(": RETURN x + 2` in the database, `(")
            && ran.stdout.contains(": RETURN x + 1` from the revisions"),
        "{ran}"
    );
}

common::backend_tests! {
    postgres postgres_enums_sequences_and_functions_are_compared => postgres_objects(),
    mysql mysql_routines_and_events_are_compared => mysql_objects(),
}
