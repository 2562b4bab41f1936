//! SQLite's ALTER limits: `ALTER TABLE` forms SQLite does not have are
//! reported by `check` and refused by runs before their first statement, and
//! `migraph revision --rebuild-sqlite TABLE` writes SQLite's 12-step table
//! rebuild, which keeps rows, indexes, triggers, views and the rows of the
//! tables that reference the table.

mod common;

use std::fs;
use std::path::Path;

use common::{backend_tests, fails, mg, ok, project, sqlite_url, write_revision, AnyDb, Server};
use migraph::backend::{Backend, Dialect};

/// One value per row of `sql` on the SQLite file `app.db` in `dir`, the
/// columns joined with `|`.
fn rows(dir: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join("app.db")).expect("open app.db");
    let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let columns = statement.column_count();
    let rows = statement
        .query_map([], |row| {
            let values: Vec<String> = (0..columns)
                .map(|i| match row.get_ref(i).expect("value") {
                    rusqlite::types::ValueRef::Null => "NULL".to_string(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(x) => x.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(_) => "<blob>".to_string(),
                })
                .collect();
            Ok(values.join("|"))
        })
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

/// migraph in `dir` with no database configured.
fn without_database(dir: &Path, args: &[&str]) -> common::Ran {
    let mut cmd = assert_cmd::Command::cargo_bin("migraph").expect("binary");
    cmd.current_dir(dir).env_remove("DATABASE_URL").env("NO_COLOR", "1");
    common::run_cmd(cmd, args)
}

const BASE: &str = "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER);\nINSERT INTO t VALUES (1, 10);";

/// `revisions/b.sql`: a revision whose generic sections hold unsupported
/// forms, one per line from line 7 on (up) and on line 14 (down).
fn unsupported_revision(dir: &Path) {
    write_revision(dir, "a", "", BASE, Some("DROP TABLE t;"), "");
    let up = "ALTER TABLE t ADD COLUMN w TEXT;\n\
              ALTER TABLE t ALTER COLUMN v TYPE TEXT;\n\
              ALTER TABLE t ALTER COLUMN v SET NOT NULL;\n\
              ALTER TABLE t ALTER COLUMN v DROP DEFAULT;\n\
              ALTER TABLE t ADD CONSTRAINT positive CHECK (v > 0);\n\
              ALTER TABLE t ADD PRIMARY KEY (id);\n\
              ALTER TABLE t RENAME COLUMN w TO x;";
    write_revision(dir, "b", "a", up, Some("ALTER TABLE t DROP CONSTRAINT positive;"), "");
}

#[test]
fn check_names_each_unsupported_form_with_its_line() {
    let dir = project();
    unsupported_revision(dir.path());
    // No database: warnings, and the check passes.
    let r = without_database(dir.path(), &["check"]);
    assert_eq!(r.code, 0, "{r}");
    let warnings: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("warning:")).collect();
    let expected = [
        "warning: revisions/b.sql:7: the up SQL of revision b for SQLite has `ALTER TABLE t ALTER COLUMN v TYPE TEXT`",
        "warning: revisions/b.sql:8: the up SQL of revision b for SQLite has `ALTER TABLE t ALTER COLUMN v SET NOT NULL`",
        "warning: revisions/b.sql:9: the up SQL of revision b for SQLite has `ALTER TABLE t ALTER COLUMN v DROP DEFAULT`",
        "warning: revisions/b.sql:10: the up SQL of revision b for SQLite has `ALTER TABLE t ADD CONSTRAINT positive CHECK (v > 0)`",
        "warning: revisions/b.sql:11: the up SQL of revision b for SQLite has `ALTER TABLE t ADD PRIMARY KEY (id)`",
        "warning: revisions/b.sql:14: the down SQL of revision b for SQLite has `ALTER TABLE t DROP CONSTRAINT positive`",
    ];
    assert_eq!(warnings.len(), expected.len(), "{r}");
    for (warning, expected) in warnings.iter().zip(expected) {
        assert!(warning.starts_with(expected), "{warning}\nexpected: {expected}");
    }
    assert!(
        r.stderr.contains(
            "hint: SQLite changes such a table by rebuilding it: `migraph revision --rebuild-sqlite t -m MSG`"
        ),
        "{r}"
    );
    // A SQLite database: errors, one per clause.
    let url = sqlite_url(dir.path());
    let r = fails(dir.path(), &url, &["check"]);
    assert_eq!(r.stderr.lines().filter(|l| l.starts_with("error: revisions/b.sql:")).count(), 6, "{r}");
    assert!(r.stderr.contains("hint: 6 problem(s) found"), "{r}");
    // Applied revisions are history: their up SQL is not judged again, their down SQL still is.
    ok(dir.path(), &url, &["stamp", "heads"]);
    let r = fails(dir.path(), &url, &["check"]);
    assert_eq!(r.stderr.lines().filter(|l| l.starts_with("error: revisions/b.sql:")).count(), 1, "{r}");
    assert!(r.stderr.contains("revisions/b.sql:14: the down SQL"), "{r}");
}

#[test]
fn supported_forms_pass_check_and_run() {
    let dir = project();
    write_revision(dir.path(), "a", "", BASE, Some("DROP TABLE t;"), "");
    let up = "ALTER TABLE t ADD COLUMN w TEXT DEFAULT 'x' NOT NULL;\nALTER TABLE t RENAME COLUMN w TO x;\n\
              ALTER TABLE t RENAME TO u;\nALTER TABLE u DROP COLUMN x;";
    write_revision(dir.path(), "b", "a", up, Some("ALTER TABLE u RENAME TO t;"), "");
    let r = without_database(dir.path(), &["check"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{r}");
    let url = sqlite_url(dir.path());
    ok(dir.path(), &url, &["upgrade"]);
    ok(dir.path(), &url, &["check"]);
    assert_eq!(rows(dir.path(), "SELECT * FROM u"), ["1|10"]);
}

#[test]
fn upgrade_on_sqlite_is_refused_before_any_statement() {
    let dir = project();
    unsupported_revision(dir.path());
    let url = sqlite_url(dir.path());
    for args in [&["upgrade"][..], &["upgrade", "--dry-run"], &["upgrade", "--sql"], &["upgrade", "b", "--backup"]] {
        let r = fails(dir.path(), &url, args);
        assert!(
            r.first_line().starts_with(
                "error: revisions/b.sql:7: the up SQL of revision b for SQLite has `ALTER TABLE t ALTER COLUMN v TYPE TEXT`: \
                 SQLite's ALTER TABLE only renames a table, or renames, adds or drops a column; rebuild the table instead"
            ),
            "{args:?}: {r}"
        );
        assert!(r.stderr.contains("hint: nothing was changed; SQLite changes such a table by rebuilding it"), "{r}");
        assert_eq!(r.stdout, "", "{args:?}");
    }
    // Nothing ran: not even revision a, which comes first in the plan.
    let file = dir.path().join("app.db");
    assert!(!file.exists() || common::sqlite_tables(&file).is_empty(), "{:?}", common::sqlite_tables(&file));
    // Applying the first revision alone is fine.
    ok(dir.path(), &url, &["upgrade", "a"]);
    assert_eq!(rows(dir.path(), "SELECT * FROM t"), ["1|10"]);
    // Through the library too.
    let migrator = migraph::Migrator::from_dir(dir.path().join("revisions")).unwrap();
    let mut conn = migraph::backend::AnyConnection::connect(&url).unwrap();
    let e = migrator.upgrade_heads(&mut conn).unwrap_err();
    assert!(matches!(&e, migraph::RunError::SqliteAlter(f) if f.line == 7 && f.id == "b"), "{e}");
    assert_eq!(rows(dir.path(), "SELECT id FROM migraph_revisions"), ["a"]);
}

#[test]
fn downgrade_through_an_unsupported_down_section_is_refused() {
    let dir = project();
    write_revision(dir.path(), "a", "", BASE, Some("DROP TABLE t;"), "");
    write_revision(
        dir.path(),
        "b",
        "a",
        "CREATE TABLE u (x INT);",
        Some("ALTER TABLE t ALTER COLUMN v DROP NOT NULL;\nDROP TABLE u;"),
        "",
    );
    let url = sqlite_url(dir.path());
    ok(dir.path(), &url, &["upgrade"]);
    let r = fails(dir.path(), &url, &["downgrade", "base"]);
    assert!(r.first_line().starts_with("error: revisions/b.sql:8: the down SQL of revision b for SQLite has `ALTER TABLE t ALTER COLUMN v DROP NOT NULL`"), "{r}");
    assert_eq!(rows(dir.path(), "SELECT id FROM migraph_revisions ORDER BY id"), ["a", "b"]);
    assert_eq!(rows(dir.path(), "SELECT count(*) FROM u"), ["0"], "u is still there");
}

/// A project whose first revision creates `products` with an index, a
/// trigger and a view, and `lines`, whose rows reference products with
/// `ON DELETE CASCADE`; applied to `app.db`.
fn shop(dir: &Path) -> String {
    let up = "CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER);\n\
              CREATE INDEX products_name ON products (name);\n\
              CREATE TABLE log (x TEXT);\n\
              CREATE TRIGGER products_log AFTER INSERT ON products BEGIN INSERT INTO log VALUES (new.name); END;\n\
              CREATE VIEW cheap AS SELECT name FROM products WHERE price < 10;\n\
              CREATE TABLE lines (id INTEGER PRIMARY KEY, product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE);\n\
              INSERT INTO products VALUES (1, 'pen', 5), (2, 'book', 20);\n\
              INSERT INTO lines VALUES (1, 1), (2, 2), (3, 2);";
    write_revision(
        dir,
        "a",
        "",
        up,
        Some("DROP TABLE lines; DROP VIEW cheap; DROP TABLE log; DROP TABLE products;"),
        "",
    );
    let url = sqlite_url(dir);
    ok(dir, &url, &["upgrade"]);
    url
}

/// Writes the rebuild revision of `table` and returns its path.
fn rebuild(dir: &Path, url: &str, table: &str) -> std::path::PathBuf {
    let r = ok(dir, url, &["revision", "--rebuild-sqlite", table, "-m", "rebuild"]);
    let path = dir.join(r.stdout.trim());
    assert!(path.is_file(), "{r}");
    path
}

/// Replaces the first occurrence of `from` in the file (the up section's).
fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} not in\n{text}");
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

const NEW_TABLE: &str = "CREATE TABLE \"products_new\" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER)";

#[test]
fn the_rebuild_keeps_rows_indexes_triggers_views_and_child_rows() {
    let dir = project();
    let url = shop(dir.path());
    let path = rebuild(dir.path(), &url, "products");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("\n-- transaction: false\n"), "{text}");
    assert!(text.contains("lines (ON DELETE CASCADE)"), "{text}");
    assert_eq!(text.matches(NEW_TABLE).count(), 2, "up and down: {text}");
    // The user changes the column's type in the up section.
    edit(&path, NEW_TABLE, "CREATE TABLE \"products_new\" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL)");
    ok(dir.path(), &url, &["check"]);
    ok(dir.path(), &url, &["upgrade"]);
    let schema = |dir: &Path| {
        (
            rows(dir, "SELECT type FROM pragma_table_info('products') WHERE name = 'price'"),
            rows(
                dir,
                "SELECT type || ' ' || name FROM sqlite_master WHERE tbl_name IN ('products', 'cheap') ORDER BY 1",
            ),
        )
    };
    let objects = ["index products_name", "table products", "trigger products_log", "view cheap"];
    assert_eq!(schema(dir.path()), (vec!["REAL".to_string()], objects.map(String::from).to_vec()));
    assert_eq!(
        rows(dir.path(), "SELECT *, typeof(price) FROM products ORDER BY id"),
        ["1|pen|5|real", "2|book|20|real"]
    );
    assert_eq!(rows(dir.path(), "SELECT * FROM lines ORDER BY id"), ["1|1", "2|2", "3|2"], "no cascade");
    assert_eq!(rows(dir.path(), "SELECT * FROM cheap"), ["pen"]);
    assert_eq!(rows(dir.path(), "SELECT count(*) FROM pragma_foreign_key_check"), ["0"]);
    // The trigger fires, and the foreign key still cascades.
    let conn = rusqlite::Connection::open(dir.path().join("app.db")).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = ON; INSERT INTO products VALUES (3, 'ink', 2.5); DELETE FROM products WHERE id = 2;",
    )
    .unwrap();
    drop(conn);
    assert_eq!(rows(dir.path(), "SELECT x FROM log"), ["pen", "book", "ink"]);
    assert_eq!(rows(dir.path(), "SELECT * FROM lines"), ["1|1"]);
    // Down rebuilds the table as it was.
    ok(dir.path(), &url, &["downgrade", "-1"]);
    assert_eq!(schema(dir.path()), (vec!["INTEGER".to_string()], objects.map(String::from).to_vec()));
    assert_eq!(
        rows(dir.path(), "SELECT *, typeof(price) FROM products ORDER BY id"),
        ["1|pen|5|integer", "3|ink|2.5|real"]
    );
    assert_eq!(rows(dir.path(), "SELECT * FROM lines"), ["1|1"]);
    assert_eq!(rows(dir.path(), "SELECT id FROM migraph_revisions"), ["a"]);
}

/// Why the rebuild runs outside migraph's transaction: inside it, foreign
/// keys stay on and dropping the old table cascades to the child rows.
#[test]
fn a_rebuild_inside_a_transaction_would_delete_child_rows() {
    let dir = project();
    let url = shop(dir.path());
    let naive = "CREATE TABLE products_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);\n\
                 INSERT INTO products_new SELECT * FROM products;\nPRAGMA foreign_keys = OFF;\n\
                 PRAGMA defer_foreign_keys = ON;\nDROP VIEW cheap;\nDROP TABLE products;\n\
                 ALTER TABLE products_new RENAME TO products;\n\
                 CREATE VIEW cheap AS SELECT name FROM products WHERE price < 10;";
    write_revision(dir.path(), "b", "a", naive, None, "");
    ok(dir.path(), &url, &["upgrade"]);
    assert_eq!(rows(dir.path(), "SELECT count(*) FROM products"), ["2"]);
    assert_eq!(rows(dir.path(), "SELECT count(*) FROM lines"), ["0"], "the cascade deleted them");
}

#[test]
fn the_rebuild_refuses_to_run_inside_a_transaction() {
    let dir = project();
    let url = shop(dir.path());
    let path = rebuild(dir.path(), &url, "products");
    edit(&path, NEW_TABLE, "CREATE TABLE \"products_new\" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL)");
    let text = fs::read_to_string(&path).unwrap();
    // Without `transaction: false`, the section's BEGIN is refused before anything runs.
    fs::write(&path, text.replace("-- transaction: false\n", "")).unwrap();
    let r = fails(dir.path(), &url, &["upgrade"]);
    assert!(r.first_line().contains("ends or rolls back the transaction it runs in: `BEGIN`"), "{r}");
    // Without its BEGIN and COMMIT too, the guard stops it: foreign keys are still on.
    let inside = text.replace("-- transaction: false\n", "").replace("\nBEGIN;\n", "\n").replace("\nCOMMIT;\n", "\n");
    fs::write(&path, inside).unwrap();
    let r = fails(dir.path(), &url, &["upgrade"]);
    assert!(r.stderr.contains("CHECK constraint failed: foreign keys are still on"), "{r}");
    assert_eq!(rows(dir.path(), "SELECT count(*) FROM lines"), ["3"]);
    assert_eq!(rows(dir.path(), "SELECT type FROM pragma_table_info('products') WHERE name = 'price'"), ["INTEGER"]);
    assert_eq!(rows(dir.path(), "SELECT id FROM migraph_revisions"), ["a"]);
}

#[test]
fn a_failing_rebuild_changes_nothing() {
    let dir = project();
    let url = shop(dir.path());
    let path = rebuild(dir.path(), &url, "products");
    // A constraint the rows violate: the INSERT ... SELECT fails.
    edit(
        &path,
        NEW_TABLE,
        "CREATE TABLE \"products_new\" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER CHECK (price > 100))",
    );
    let r = fails(dir.path(), &url, &["upgrade"]);
    assert!(r.stderr.contains("CHECK constraint failed: price > 100"), "{r}");
    let names = rows(dir.path(), "SELECT name FROM sqlite_master WHERE name LIKE 'products%' ORDER BY name");
    assert_eq!(names, ["products", "products_log", "products_name"], "no products_new left");
    assert_eq!(rows(dir.path(), "SELECT count(*) FROM products"), ["2"]);
    assert_eq!(rows(dir.path(), "SELECT count(*) FROM lines"), ["3"]);
    // The marker says what happened; `stamp` to the parent records that nothing did.
    let r = mg(dir.path(), &url, &["status"]);
    assert!(r.stdout.contains("FAILED:") && r.stdout.contains("migraph stamp a"), "{r}");
}

#[test]
fn rebuild_errors_name_the_problem() {
    let dir = project();
    let url = shop(dir.path());
    let r = fails(dir.path(), &url, &["revision", "--rebuild-sqlite", "nope", "-m", "x"]);
    assert_eq!(
        r.first_line(),
        "error: the history up to a has no table `nope` on SQLite (its tables: products, log, lines)"
    );
    assert_eq!(fs::read_dir(dir.path().join("revisions")).unwrap().count(), 1, "no file written");
}

/// One revision changes a column's type: SQLite rebuilds the table, the
/// other databases run the ALTER TABLE of its generic sections.
fn one_revision_for_every_dialect(server: Option<Server>) {
    let db = AnyDb::new(server);
    let owned = project();
    let dir = db.dir.as_ref().map_or(owned.path(), |d| d.path());
    write_revision(
        dir,
        "a",
        "",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, price INTEGER NOT NULL);\nINSERT INTO items VALUES (1, 3), (2, 4);",
        Some("DROP TABLE items;"),
        "",
    );
    // The revision is written from the history alone (a scratch SQLite database).
    let path = rebuild(dir, "sqlite::memory:", "items");
    let create = "CREATE TABLE \"items_new\" (id INTEGER PRIMARY KEY, price INTEGER NOT NULL)";
    edit(&path, create, "CREATE TABLE \"items_new\" (id INTEGER PRIMARY KEY, price NUMERIC(10, 2) NOT NULL)");
    let generic_down = "-- migrate:down\nALTER TABLE items ALTER COLUMN price TYPE INTEGER;\n\n-- migrate:up sqlite";
    edit(
        &path,
        "-- migrate:up sqlite",
        &format!("ALTER TABLE items ALTER COLUMN price TYPE NUMERIC(10, 2);\n\n{generic_down}"),
    );
    let r = without_database(dir, &["check"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{r}");
    ok(dir, &db.url, &["upgrade"]);
    let mut conn = db.connect();
    let type_sql = match conn.dialect() {
        Dialect::Sqlite => "SELECT type AS v FROM pragma_table_info('items') WHERE name = 'price'",
        _ => "SELECT CAST(data_type AS TEXT) AS v FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'price'",
    };
    let price_type = |conn: &mut dyn Backend| conn.text(type_sql, &[]).unwrap().unwrap_or_default();
    let expected = if conn.dialect() == Dialect::Sqlite { "NUMERIC(10, 2)" } else { "numeric" };
    assert_eq!(price_type(&mut conn), expected);
    let sum = "SELECT CAST(SUM(price) AS TEXT) AS v FROM items";
    assert!(conn.text(sum, &[]).unwrap().unwrap_or_default().starts_with('7'));
    drop(conn);
    ok(dir, &db.url, &["downgrade", "-1"]);
    let mut conn = db.connect();
    assert_eq!(price_type(&mut conn).to_lowercase(), "integer");
    assert_eq!(conn.text(sum, &[]).unwrap().as_deref(), Some("7"));
}

backend_tests! {
    sqlite one_revision_changes_a_column_type_on_sqlite => one_revision_for_every_dialect(None),
    postgres one_revision_changes_a_column_type_on_postgres => one_revision_for_every_dialect(Some(Server::Postgres)),
}
