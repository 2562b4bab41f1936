//! `migraph copy --to URL`: a database moved to another engine, schema by
//! the revisions' dialect sections, rows copied and compared by digest.
//! SQLite to SQLite always runs; the server cases need the server variables
//! (see tests/common).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{fails, mg, ok, project, sqlite_url, table_names, write_revision, TestDb};
use migraph::backend::{AnyConnection, Backend, ReadAs, Value};

/// Users, a self-referencing tree and posts, spelled per dialect; `name`
/// is `name_pg` on PostgreSQL and `name_mysql` on MySQL.
fn history(dir: &Path, name_pg: &str, name_mysql: &str) {
    let generic = "CREATE TABLE users (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, score DOUBLE PRECISION, \
                   active BOOLEAN, avatar BLOB, created_at TIMESTAMP, big BIGINT);\n\
                   CREATE TABLE nodes (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES nodes(id), label TEXT);";
    let pg = format!(
        "CREATE TABLE users (id BIGSERIAL PRIMARY KEY, name {name_pg} NOT NULL, score DOUBLE PRECISION, \
         active BOOLEAN, avatar BYTEA, created_at TIMESTAMP, big BIGINT);\n\
         CREATE TABLE nodes (id BIGINT PRIMARY KEY, parent_id BIGINT REFERENCES nodes(id), label TEXT);"
    );
    let mysql = format!(
        "CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, name {name_mysql} NOT NULL, score DOUBLE, \
         active BOOLEAN, avatar LONGBLOB, created_at DATETIME(6), big BIGINT) DEFAULT CHARSET=utf8mb4;\n\
         CREATE TABLE nodes (id BIGINT PRIMARY KEY, parent_id BIGINT, label TEXT, \
         FOREIGN KEY (parent_id) REFERENCES nodes(id)) DEFAULT CHARSET=utf8mb4;"
    );
    let up = format!("{generic}\n-- migrate:up postgres\n{pg}\n-- migrate:up mysql\n{mysql}");
    write_revision(dir, "r1", "", &up, Some("DROP TABLE nodes;\nDROP TABLE users;"), "");
    let posts =
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), body TEXT);\n\
                 -- migrate:up mysql\n\
                 CREATE TABLE posts (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, body TEXT, \
                 FOREIGN KEY (user_id) REFERENCES users(id)) DEFAULT CHARSET=utf8mb4;";
    write_revision(dir, "r2", "r1", posts, Some("DROP TABLE posts;"), "");
}

const TRICKY: &str = "édouard 🎉 \"q\" '' \\ tab\tnl\nend";

/// `users` rows 1..=n, then rows with extreme values; `nodes` whose
/// parents come after them; `posts` referencing users.
fn fill_sqlite(url: &str, users: u64, nodes: u64) {
    let mut conn = AnyConnection::connect(url).expect("source");
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {users}) \
         INSERT INTO users (id, name, score, active, avatar, created_at, big) \
         SELECT i, 'user ' || i, i / 3.0, i % 2, CAST('blob ' || i AS BLOB), datetime(1700000000 + i, 'unixepoch'), \
         i * 1000003 FROM n;\n\
         INSERT INTO users VALUES ({a}, '{tricky}', 5e-324, 1, X'00FF10', '2024-01-02 03:04:05.123', 9223372036854775807);\n\
         INSERT INTO users VALUES ({b}, '', 1e308, 0, X'', '2024-01-02T03:04:05Z', -9223372036854775808);\n\
         INSERT INTO users VALUES ({c}, 'nulls', NULL, NULL, NULL, NULL, NULL);\n\
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {nodes}) \
         INSERT INTO nodes (id, parent_id, label) SELECT i, CASE WHEN i < {nodes} THEN i + 1 END, 'node ' || i FROM n;\n\
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {posts}) \
         INSERT INTO posts (id, user_id, body) SELECT i, i, 'post ' || i FROM n;",
        posts = users.min(1000),
        a = users + 1,
        b = users + 2,
        c = users + 3,
        tricky = TRICKY.replace('\'', "''"),
    );
    conn.batch(&sql).expect("fill the source");
}

/// The comparison table `copy` prints: table → (source rows, source
/// digest, target digest, verdict).
fn comparison(stdout: &str) -> BTreeMap<String, (u64, String, String, String)> {
    stdout
        .lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 6, "{line}");
            (f[0].to_string(), (f[1].parse().unwrap(), f[3].to_string(), f[4].to_string(), f[5].to_string()))
        })
        .collect()
}

/// The `error:` line of a failed run (progress lines come before it).
fn error_line(ran: &common::Ran) -> &str {
    ran.stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line:\n{ran}"))
}

fn assert_all_same(stdout: &str, tables: &[(&str, u64)]) {
    let found = comparison(stdout);
    for (table, rows) in tables {
        let (n, source, target, verdict) = found.get(*table).unwrap_or_else(|| panic!("{table} in\n{stdout}"));
        assert_eq!((n, verdict.as_str()), (rows, "same"), "{table}:\n{stdout}");
        assert_eq!(source, target, "{stdout}");
    }
    assert_eq!(found.len(), tables.len(), "{stdout}");
}

/// One value, read from `conn`.
fn value(conn: &mut dyn Backend, expr: &str, read: ReadAs, rest: &str) -> Value {
    let rows = conn.values(&[(expr.to_string(), read)], rest, &[]).expect("read");
    rows.into_iter().next().expect("a row").remove(0)
}

/// The version rows, as (id, applied_at, execution_ms).
fn versions(conn: &mut dyn Backend) -> Vec<(String, String, i64)> {
    let sql = conn.dialect().select_rows("migraph_revisions");
    let mut rows: Vec<_> =
        conn.version_rows(&sql).unwrap().into_iter().map(|r| (r.id, r.applied_at, r.execution_ms)).collect();
    rows.sort();
    rows
}

const USERS: u64 = 100_000;
const NODES: u64 = 20_000;

fn expected() -> Vec<(&'static str, u64)> {
    vec![("nodes", NODES), ("posts", 1000), ("users", USERS + 3), ("migraph_revisions", 2)]
}

/// A SQLite database with the history applied and filled.
fn sqlite_source(dir: &Path, users: u64, nodes: u64) -> String {
    history(dir, "VARCHAR(100)", "VARCHAR(100)");
    let url = sqlite_url(dir);
    ok(dir, &url, &["upgrade"]);
    fill_sqlite(&url, users, nodes);
    url
}

/// What every target must hold after a copy of [`sqlite_source`].
fn check_target(source: &str, target: &str, users: u64) {
    let mut conn = AnyConnection::connect(target).expect("target");
    let rest = format!("FROM users WHERE id = {}", users + 1);
    let text = match conn.dialect() {
        migraph::backend::Dialect::Mysql => "CAST(name AS CHAR)",
        migraph::backend::Dialect::Postgres => "CAST(name AS TEXT)",
        migraph::backend::Dialect::Sqlite => "name",
    };
    assert_eq!(value(&mut conn, text, ReadAs::Text, &rest), Value::Text(TRICKY.into()));
    assert_eq!(value(&mut conn, "score", ReadAs::Float, &rest), Value::Float(5e-324));
    assert_eq!(value(&mut conn, "avatar", ReadAs::Blob, &rest), Value::Blob(vec![0, 0xff, 0x10]));
    assert_eq!(value(&mut conn, "big", ReadAs::Int, &rest), Value::Int(i64::MAX));
    let rest = format!("FROM users WHERE id = {}", users + 2);
    assert_eq!(value(&mut conn, "big", ReadAs::Int, &rest), Value::Int(i64::MIN));
    assert_eq!(value(&mut conn, "score", ReadAs::Float, &rest), Value::Float(1e308));
    let rest = format!("FROM users WHERE id = {}", users + 3);
    assert_eq!(value(&mut conn, "score", ReadAs::Float, &rest), Value::Null);
    assert_eq!(value(&mut conn, "score", ReadAs::Float, "FROM users WHERE id = 7"), Value::Float(7.0 / 3.0));
    // The history reads the same, dates and timings included.
    let mut from = AnyConnection::connect(source).expect("source");
    assert_eq!(versions(&mut conn), versions(&mut from));
    // The next key the application inserts comes after the copied ones.
    if conn.dialect() != migraph::backend::Dialect::Sqlite {
        conn.exec("INSERT INTO users (name) VALUES ('next')", &[]).expect("insert without an id");
        let bigint = if conn.dialect() == migraph::backend::Dialect::Mysql { "SIGNED" } else { "BIGINT" };
        let next = conn.int(&format!("SELECT CAST(MAX(id) AS {bigint}) AS v FROM users WHERE name = 'next'"), &[]);
        assert_eq!(next.unwrap(), Some(users as i64 + 4));
    }
}

fn sqlite_to_server(server: common::Server) {
    let dir = project();
    let source = sqlite_source(dir.path(), USERS, NODES);
    let target = TestDb::new(server);
    let ran = ok(dir.path(), &source, &["copy", "--to", &target.url]);
    assert_all_same(&ran.stdout, &expected());
    assert!(ran.stderr.contains(&format!("copied users: {} row(s)", USERS + 3)), "{ran}");
    assert!(ran.stderr.contains("copy: 2 revision(s) applied, 4 table(s) and 121005 row(s) copied"), "{ran}");
    check_target(&source, &target.url, USERS);
    // The target reports the same state, and a second copy is refused.
    let status = ok(dir.path(), &target.url, &["status"]);
    assert!(status.shows("up to date"), "{status}");
    let again = fails(dir.path(), &source, &["copy", "--to", &target.url]);
    assert!(error_line(&again).contains("the target is not empty"), "{again}");
}

/// SQLite to PostgreSQL and back to SQLite: the digests of every table
/// are the same at each step.
fn round_trip() {
    let dir = project();
    let source = sqlite_source(dir.path(), USERS, NODES);
    let pg = TestDb::new(common::Server::Postgres);
    let there = ok(dir.path(), &source, &["copy", "--to", &pg.url]);
    let back_dir = project();
    let back = sqlite_url(back_dir.path());
    let home = ok(dir.path(), &pg.url, &["copy", "--to", &back]);
    let (there, home) = (comparison(&there.stdout), comparison(&home.stdout));
    assert_eq!(there.keys().collect::<Vec<_>>(), home.keys().collect::<Vec<_>>());
    for (table, (rows, digest, _, _)) in &there {
        let (rows_back, _, digest_back, verdict) = &home[table];
        assert_eq!((rows, digest, verdict.as_str()), (rows_back, digest_back, "same"), "{table}");
    }
    check_target(&source, &back, USERS);
}

common::backend_tests! {
    postgres sqlite_to_postgres => sqlite_to_server(common::Server::Postgres),
    mysql sqlite_to_mysql => sqlite_to_server(common::Server::Mysql),
    postgres sqlite_to_postgres_to_sqlite_round_trip => round_trip(),
}

#[test]
fn sqlite_to_sqlite_copies_and_compares() {
    let dir = project();
    let source = sqlite_source(dir.path(), 5000, 300);
    let to = project();
    let target = sqlite_url(to.path());
    let ran = ok(dir.path(), &source, &["copy", "--to", &target]);
    assert_all_same(&ran.stdout, &[("nodes", 300), ("posts", 1000), ("users", 5003), ("migraph_revisions", 2)]);
    check_target(&source, &target, 5000);
    let json = ok(dir.path(), &target, &["--json", "copy", "--to", &sqlite_url(project().path()), "--dry-run"]);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON plan");
    assert_eq!(plan["schema"].as_array().map(Vec::len), Some(2), "{json}");
    assert_eq!(plan["tables"][0]["table"], "nodes");
}

#[test]
fn dry_run_prints_the_plan_and_creates_nothing() {
    let dir = project();
    let source = sqlite_source(dir.path(), 10, 3);
    let to = project();
    let target = sqlite_url(to.path());
    let ran = ok(dir.path(), &source, &["copy", "--to", &target, "--dry-run"]);
    assert!(ran.stdout.contains("schema: 2 revision(s) to apply on the target"), "{ran}");
    assert!(ran.stdout.contains("up   r1 rev r1"), "{ran}");
    let order: Vec<&str> = ran.stdout.lines().skip_while(|l| !l.starts_with("tables")).skip(1).collect();
    let names: Vec<&str> = order.iter().map(|l| l.split_whitespace().next().unwrap()).collect();
    // Parents first: users before posts.
    assert_eq!(names, ["nodes", "users", "posts", "migraph_revisions"], "{ran}");
    assert!(order[1].contains("13 row(s)"), "{ran}");
    assert!(order[2].contains("10 row(s)"), "{ran}");
    assert!(!to.path().join("app.db").exists());
}

#[test]
fn refuses_a_source_that_is_not_clean() {
    let dir = project();
    let source = sqlite_source(dir.path(), 10, 3);
    let to = project();
    let target = sqlite_url(to.path());
    let mut conn = AnyConnection::connect(&source).unwrap();
    conn.exec("INSERT INTO migraph_revisions_pending (id, direction, started_at) VALUES ('r2', 'up', 'T')", &[])
        .unwrap();
    let ran = fails(dir.path(), &source, &["copy", "--to", &target]);
    assert!(error_line(&ran).contains("the source is not in a clean state: revision(s) r2 failed"), "{ran}");
    assert!(!to.path().join("app.db").exists(), "a refused copy creates nothing");
    conn.exec("DELETE FROM migraph_revisions_pending", &[]).unwrap();

    // Drift: a revision's SQL changed after it was applied.
    let file = dir.path().join("revisions/r2.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("body TEXT", "body TEXT, extra TEXT")).unwrap();
    let ran = fails(dir.path(), &source, &["copy", "--to", &target]);
    assert!(error_line(&ran).contains("r2 changed since they were applied (checksum drift)"), "{ran}");
    assert!(ran.stderr.contains("hint: run `migraph status`"), "{ran}");
}

#[test]
fn refuses_a_target_with_tables() {
    let dir = project();
    let source = sqlite_source(dir.path(), 10, 3);
    let to = project();
    let target = sqlite_url(to.path());
    AnyConnection::connect(&target).unwrap().batch("CREATE TABLE stuff (x INT); INSERT INTO stuff VALUES (1)").unwrap();
    let ran = fails(dir.path(), &source, &["copy", "--to", &target]);
    assert!(error_line(&ran).ends_with("the target is not empty: it has table(s) stuff"), "{ran}");
    assert!(ran.stderr.contains("--into-existing"), "{ran}");
    // --into-existing: the target must have the source's applied revisions.
    let ran = fails(dir.path(), &source, &["copy", "--to", &target, "--into-existing"]);
    assert!(error_line(&ran).contains("the target's applied revisions (none) are not the source's (r1, r2)"), "{ran}");
    let rows = AnyConnection::connect(&target).unwrap().int("SELECT COUNT(*) AS v FROM stuff", &[]).unwrap();
    assert_eq!(rows, Some(1));
}

#[test]
fn into_existing_fills_a_target_with_the_schema() {
    let dir = project();
    let source = sqlite_source(dir.path(), 50, 5);
    let to = project();
    let target = sqlite_url(to.path());
    ok(dir.path(), &target, &["upgrade"]);
    let ran = ok(dir.path(), &source, &["copy", "--to", &target, "--into-existing"]);
    assert!(ran.stderr.contains("copy: 0 revision(s) applied"), "{ran}");
    assert_all_same(&ran.stdout, &[("nodes", 5), ("posts", 50), ("users", 53), ("migraph_revisions", 2)]);
    // Now it has rows: a second --into-existing is refused.
    let ran = fails(dir.path(), &source, &["copy", "--to", &target, "--into-existing"]);
    assert!(error_line(&ran).contains("table `nodes` on the target already has rows"), "{ran}");
}

#[test]
fn a_sqlite_value_of_the_wrong_type_is_named() {
    let dir = project();
    let source = sqlite_source(dir.path(), 10, 3);
    AnyConnection::connect(&source).unwrap().batch("UPDATE users SET big = 'lots' WHERE id = 4").unwrap();
    let to = project();
    let ran = fails(dir.path(), &source, &["copy", "--to", &sqlite_url(to.path())]);
    assert!(
        error_line(&ran).contains("table `users`, column `big`, row id=4: a text value in a column of type `BIGINT`"),
        "{ran}"
    );
    assert!(!to.path().join("app.db").exists(), "the file the copy made is removed");
}

/// A value too long for the PostgreSQL section's `VARCHAR(5)`: named, and
/// nothing is left on the target.
fn too_long_for_postgres() {
    let dir = project();
    history(dir.path(), "VARCHAR(5)", "VARCHAR(100)");
    let source = sqlite_url(dir.path());
    ok(dir.path(), &source, &["upgrade"]);
    AnyConnection::connect(&source)
        .unwrap()
        .batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
             INSERT INTO users (id, name) SELECT i, 'u' || i FROM n; UPDATE users SET name = 'toolong' WHERE id = 42",
        )
        .unwrap();
    let target = TestDb::new(common::Server::Postgres);
    let ran = fails(dir.path(), &source, &["copy", "--to", &target.url]);
    assert!(
        error_line(&ran).contains(
            "table `users`, column `name`, row id=42: a text of 7 characters is too long for type `character varying(5)`"
        ),
        "{ran}"
    );
    assert!(error_line(&ran).ends_with("nothing was committed on the target"), "{ran}");
    assert_eq!(table_names(&mut target.connect()), Vec::<String>::new(), "the target is unchanged");
}

/// PostgreSQL to SQLite where the SQLite section has a CHECK the rows
/// break: the database refuses, the row is named, the file stays empty.
fn refused_by_the_sqlite_target() {
    let dir = project();
    let up = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT CHECK (length(name) <= 3));\n\
              -- migrate:up postgres\nCREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT);";
    write_revision(dir.path(), "r1", "", up, Some("DROP TABLE t;"), "");
    let pg = TestDb::new(common::Server::Postgres);
    ok(dir.path(), &pg.url, &["upgrade"]);
    pg.connect().batch("INSERT INTO t SELECT i, 'n' || i FROM generate_series(1, 500) AS i").unwrap();
    let to = project();
    let target = sqlite_url(to.path());
    ok(to.path(), &target, &["database", "create"]);
    let ran = fails(dir.path(), &pg.url, &["copy", "--to", &target]);
    assert!(error_line(&ran).contains("table `t`, row id=100: "), "{ran}");
    assert!(error_line(&ran).contains("CHECK constraint failed"), "{ran}");
    assert_eq!(table_names(&mut AnyConnection::connect(&target).unwrap()), Vec::<String>::new(), "{ran}");
}

/// MySQL commits DDL: a value too long stops the copy after the schema,
/// the target is marked, and `--into-existing` finishes it.
fn mysql_unfinished_then_finished() {
    let dir = project();
    history(dir.path(), "VARCHAR(100)", "VARCHAR(5)");
    let source = sqlite_url(dir.path());
    ok(dir.path(), &source, &["upgrade"]);
    let mut conn = AnyConnection::connect(&source).unwrap();
    conn.batch(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
         INSERT INTO users (id, name) SELECT i, 'u' || i FROM n; UPDATE users SET name = 'toolong' WHERE id = 42",
    )
    .unwrap();
    let target = TestDb::new(common::Server::Mysql);
    let ran = fails(dir.path(), &source, &["copy", "--to", &target.url]);
    assert!(error_line(&ran).contains("table `users`, column `name`, row id=42"), "{ran}");
    assert!(ran.stderr.contains("table `migraph_revisions_copy` marks it as unfinished"), "{ran}");
    assert!(ran.stderr.contains("--into-existing"), "{ran}");
    assert!(target.tables().contains(&"migraph_revisions_copy".to_string()));
    conn.exec("UPDATE users SET name = 'short' WHERE id = 42", &[]).unwrap();
    let ran = ok(dir.path(), &source, &["copy", "--to", &target.url, "--into-existing"]);
    assert_all_same(&ran.stdout, &[("nodes", 0), ("posts", 0), ("users", 100), ("migraph_revisions", 2)]);
    assert!(!target.tables().contains(&"migraph_revisions_copy".to_string()));
}

common::backend_tests! {
    postgres a_value_too_long_for_postgres_leaves_the_target_unchanged => too_long_for_postgres(),
    postgres a_row_the_sqlite_target_refuses_is_named => refused_by_the_sqlite_target(),
    mysql a_mysql_copy_that_stops_is_marked_and_finished_later => mysql_unfinished_then_finished(),
}

#[test]
fn passwords_never_show() {
    let dir = project();
    let source = sqlite_source(dir.path(), 3, 1);
    let ran = mg(dir.path(), &source, &["copy", "--to", "postgres://app:s3cret@127.0.0.1:1/nowhere"]);
    assert_ne!(ran.code, 0);
    assert!(!ran.stdout.contains("s3cret") && !ran.stderr.contains("s3cret"), "{ran}");
}

/// Rows a revision inserts (seed data) are on the target once its schema
/// is built: the copy replaces them with the source's rows as they are now.
#[test]
fn seed_rows_of_revisions_are_replaced_by_the_source_rows() {
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "s1",
        "",
        "CREATE TABLE kinds (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n\
         INSERT INTO kinds (id, name) VALUES (1, 'seed one'), (2, 'seed two'), (3, 'seed three');",
        Some("DROP TABLE kinds;"),
        "",
    );
    let source = sqlite_url(d);
    ok(d, &source, &["upgrade", "heads"]);
    let mut conn = AnyConnection::connect(&source).unwrap();
    conn.batch("DELETE FROM kinds WHERE id = 2; UPDATE kinds SET name = 'renamed' WHERE id = 3; INSERT INTO kinds VALUES (9, 'new');")
        .unwrap();
    let to = project();
    let target = sqlite_url(to.path());
    let ran = ok(d, &source, &["copy", "--to", &target]);
    assert_all_same(&ran.stdout, &[("kinds", 3), ("migraph_revisions", 1)]);
    let mut copied = AnyConnection::connect(&target).unwrap();
    let names =
        copied.text("SELECT group_concat(id || '=' || name, ',') AS v FROM (SELECT * FROM kinds ORDER BY id)", &[]);
    assert_eq!(names.unwrap().as_deref(), Some("1=seed one,3=renamed,9=new"));
}
