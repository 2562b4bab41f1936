//! Differential tests of the statement splitter: a corpus of tricky SQL per
//! dialect (strings with escapes, dollar quotes with tags, nested comments,
//! `BEGIN ATOMIC`, compound statements, identifiers with `$`) is applied by
//! the real migraph binary on one fresh database and fed to the dialect's
//! own client on another; both must end with the same catalog (tables,
//! columns, indexes, views, triggers, routines with their bodies) and the
//! same data. SQLite always runs; PostgreSQL and MySQL when their server
//! URL is set (ignored with the reason otherwise, as in tests/servers.rs).

mod common;
mod sql_clients;

use migraph::backend::Dialect;
use sql_clients::{project, Db};

const SQLITE: &str = r#"CREATE TABLE "semi;colon" (a TEXT DEFAULT 'x;y', b TEXT DEFAULT 'it''s; fine', c TEXT);
/* block ; comment */ CREATE TABLE t2 (x$y INTEGER, [odd;name] TEXT, `back;tick` TEXT); -- trailing ; comment
CREATE TABLE audit (msg TEXT);
CREATE TRIGGER tr AFTER INSERT ON t2 WHEN new.x$y > 0 BEGIN
  INSERT INTO audit VALUES ('inserted; ' || CASE WHEN new.x$y > 1 THEN 'many' ELSE 'one' END);
  UPDATE audit SET msg = msg || ';end' WHERE msg LIKE '%;%';
END;
CREATE TRIGGER "tr;2" BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'no; deleting'); END;
CREATE VIEW v AS SELECT 'a;b' AS s, CASE WHEN 1 THEN 2 END AS c;
INSERT INTO t2 VALUES (2, 'a;b', 'c''d');
INSERT INTO "semi;colon" (c) VALUES ('-- not a comment; /* nor this */');
"#;

const SQLITE_DATA: &str = "SELECT msg FROM audit ORDER BY msg; SELECT * FROM \"semi;colon\"; SELECT * FROM t2;";

const POSTGRES: &str = r#"CREATE TABLE "semi;colon" (a text DEFAULT E'it\'s; fine', b text DEFAULT 'plain\', c text DEFAULT $$dollar; quoted$$);
CREATE TABLE a$b$c (x$ int, "quoted;ident" text);
/* outer /* nested; */ still a comment; */ CREATE TABLE nested_ok (id int);
CREATE FUNCTION f_atomic(a int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
  SELECT CASE WHEN a > 0 THEN a ELSE 0 END;
END;
CREATE PROCEDURE p_atomic(a int) LANGUAGE sql BEGIN ATOMIC INSERT INTO nested_ok VALUES (a); INSERT INTO nested_ok VALUES (a + 1); END;
CREATE FUNCTION f_plpgsql() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  NEW.c := 'x;y' || $q$;$q$ || E'\';';
  RETURN NEW;
END;
$body$;
CREATE TRIGGER trg BEFORE INSERT ON "semi;colon" FOR EACH ROW EXECUTE FUNCTION f_plpgsql();
DO $$ BEGIN EXECUTE 'CREATE TABLE from_do (x int)'; END $$;
CREATE VIEW v AS SELECT E'a\\;b' AS s, $tag$ $$ ; $tag$ AS d;
CALL p_atomic(1);
INSERT INTO "semi;colon" (a) VALUES (E'\x41;');
COMMENT ON TABLE a$b$c IS 'it''s; a comment';
"#;

const POSTGRES_DATA: &str = "SELECT * FROM nested_ok ORDER BY 1; SELECT * FROM \"semi;colon\"; SELECT f_atomic(3);";

/// MySQL statements: joined with `;` for migraph; the client gets the
/// compound ones (any `;` inside) between `DELIMITER` switches.
const MYSQL: &[&str] = &[
    r#"CREATE TABLE `semi;colon` (a VARCHAR(50) DEFAULT 'it\'s; fine', b VARCHAR(50) DEFAULT "dq\";x", c VARCHAR(50) DEFAULT 'back\\slash')"#,
    "# a hash comment; still a comment\nCREATE TABLE a$b (x$ INT, `tick;name` INT)",
    "CREATE TABLE audit (msg VARCHAR(200))",
    "CREATE TRIGGER trg BEFORE INSERT ON a$b FOR EACH ROW\nBEGIN\n  DECLARE n INT DEFAULT IF(NEW.x$ > 0, 1, 2);\n  \
     IF NEW.x$ IS NULL THEN\n    SET NEW.x$ = 0;\n  ELSEIF (NEW.x$ = 1) THEN\n    SET NEW.x$ = CASE WHEN n = 1 THEN 10 \
     ELSE 20 END;\n  END IF;\n  lbl: LOOP\n    LEAVE lbl;\n  END LOOP lbl;\n  WHILE n < 3 DO SET n = n + 1; END WHILE;\n  \
     REPEAT SET n = n - 1; UNTIL n <= 0 END REPEAT;\n  CASE n WHEN 0 THEN INSERT INTO audit VALUES (CONCAT('n;', \
     REPEAT('x', 2))); ELSE BEGIN END; END CASE;\nEND",
    "CREATE PROCEDURE p(IN x INT)\nBEGIN\n  DROP TABLE IF EXISTS tmp_p;\n  INSERT INTO audit VALUES (CONCAT('p; called ', x));\nEND",
    "CREATE FUNCTION f(x INT) RETURNS INT DETERMINISTIC RETURN x + 1",
    "CREATE FUNCTION g(x INT) RETURNS INT DETERMINISTIC\nBEGIN\n  DECLARE y INT DEFAULT 0;\n  SET y = x * 2;\n  RETURN y;\nEND",
    "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO BEGIN DELETE FROM audit WHERE msg = 'x;'; END",
    "CREATE TRIGGER trg2 BEFORE UPDATE ON a$b FOR EACH ROW IF NEW.x$ = 0 THEN SET NEW.x$ = 1; END IF",
    "INSERT INTO a$b (x$, `tick;name`) VALUES (1, 2)",
    "CALL p(1)",
    "INSERT INTO audit VALUES ('-- not a comment; /* nor this */ # nor this')",
];

const MYSQL_DATA: &str = "SELECT msg FROM audit ORDER BY msg; SELECT * FROM a$b; SELECT f(1), g(2);";

fn revision(sql: &str, transactional: bool) -> String {
    let transaction = if transactional { "" } else { "-- transaction: false\n" };
    format!("-- id: corpus\n-- parents:\n-- message: tricky SQL\n{transaction}\n-- migrate:up\n{sql}")
}

/// Applies `sql` with migraph on one database and `client_sql` with the
/// client on another, and compares them; returns the catalog.
fn differential(dialect: Dialect, sql: &str, client_sql: &str, data: &str, transactional: bool) -> String {
    let dir = project(&[("corpus.sql", revision(sql, transactional))]);
    let by_migraph = Db::new(dialect);
    common::ok(dir.path(), &by_migraph.url, &["upgrade", "heads"]);
    assert_eq!(by_migraph.version_rows().lines().count(), 1, "the revision is recorded");

    let by_client = Db::new(dialect);
    if let Err(e) = by_client.client(client_sql) {
        panic!("the {dialect} client rejected the corpus: {e}");
    }
    let schema = by_migraph.schema();
    assert_eq!(schema, by_client.schema(), "{dialect}: the catalogs differ");
    let rows = by_migraph.query(data);
    assert!(!rows.trim().is_empty());
    assert_eq!(rows, by_client.query(data), "{dialect}: the data differ");
    schema
}

#[test]
#[cfg_attr(not(migraph_sqlite3_client), ignore = "needs the sqlite3 command-line client (apt-get install sqlite3)")]
fn sqlite_corpus_matches_the_sqlite3_client() {
    let schema = differential(Dialect::Sqlite, SQLITE, SQLITE, SQLITE_DATA, true);
    for name in ["semi;colon", "[odd;name]", "trigger tr ", "trigger tr;2 ", "view v "] {
        assert!(schema.contains(name), "{name} missing:\n{schema}");
    }
    // Both the trigger's statements ran, as one trigger.
    let db = Db::new(Dialect::Sqlite);
    db.client(SQLITE).unwrap();
    assert_eq!(db.query("SELECT msg FROM audit;"), "inserted; many;end\n");
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_corpus_matches_psql_in_and_outside_a_transaction() {
    for transactional in [true, false] {
        let schema = differential(Dialect::Postgres, POSTGRES, POSTGRES, POSTGRES_DATA, transactional);
        for name in ["a$b$c.x$", "quoted;ident", "routine f_atomic", "routine p_atomic", "trigger trg ", "from_do"] {
            assert!(schema.contains(name), "{name} missing:\n{schema}");
        }
    }
}

fn mysql_client_sql() -> String {
    MYSQL
        .iter()
        .map(|s| if s.contains(';') { format!("DELIMITER $$\n{s}\n$$\nDELIMITER ;\n") } else { format!("{s};\n") })
        .collect()
}

#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn mysql_corpus_matches_the_mysql_client() {
    let sql = MYSQL.iter().map(|s| format!("{s};\n")).collect::<String>();
    let schema = differential(Dialect::Mysql, &sql, &mysql_client_sql(), MYSQL_DATA, true);
    for name in ["trigger trg ", "trigger trg2 ", "routine PROCEDURE p ", "routine FUNCTION g ", "event ev ", "a$b.x$"]
    {
        assert!(schema.contains(name), "{name} missing:\n{schema}");
    }
}

/// `DELIMITER` is a mysql-client command: migraph refuses the revision,
/// naming file and line, before any of its statements runs.
fn delimiter_is_refused_before_any_change(dialect: Dialect) {
    let sql = "CREATE TABLE before_delimiter (x INT);\nDELIMITER //\nCREATE TABLE after_delimiter (x INT)//\n";
    let dir = project(&[("corpus.sql", revision(sql, true))]);
    let db = Db::new(dialect);
    let d = dir.path();
    let ran = common::fails(d, &db.url, &["upgrade", "heads"]);
    let first = ran.first_line();
    assert!(first.contains("corpus.sql:7: revision corpus, up SQL") && first.contains("`DELIMITER`"), "{ran}");
    assert_eq!(db.tables(), "", "nothing ran: {}", ran.stderr);
    let status = common::mg(d, &db.url, &["status"]);
    assert!(!status.stdout.contains("FAILED"), "refused before it started: {}", status.stdout);
    for args in [&["check"][..], &["upgrade", "heads", "--sql"]] {
        let ran = common::fails(d, &db.url, args);
        let stderr = &ran.stderr;
        assert!(stderr.contains("corpus.sql:7: revision corpus, up SQL") && stderr.contains("`DELIMITER`"), "{ran}");
    }
}

common::backend_tests! {
    sqlite sqlite_refuses_delimiter => delimiter_is_refused_before_any_change(Dialect::Sqlite),
    mysql mysql_refuses_delimiter => delimiter_is_refused_before_any_change(Dialect::Mysql),
    postgres postgres_refuses_delimiter => delimiter_is_refused_before_any_change(Dialect::Postgres),
}
