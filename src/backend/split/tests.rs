use super::{statements, transaction_control, Dialect, Statement};

fn texts(sql: &str, dialect: Dialect) -> Vec<&str> {
    match statements(sql, dialect) {
        Ok(list) => list.into_iter().map(|s| s.text).collect(),
        Err(e) => panic!("{e}\n{sql}"),
    }
}

fn error(sql: &str, dialect: Dialect) -> String {
    match statements(sql, dialect) {
        Ok(list) => panic!("split: {list:#?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn splits_on_semicolons_outside_quotes_comments_and_dollar_quotes() {
    let sql = "CREATE INDEX CONCURRENTLY a ON t (x);\n-- a comment; still a comment\n\
               INSERT INTO t VALUES ('a;b', \"c;d\");\n/* block; /* nested; */ */ SELECT 1;\n\
               CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n\
               SELECT $$x;y$$, $1;\n-- trailing comment only\n";
    let parts = statements(sql, Dialect::Postgres).unwrap();
    assert_eq!(parts.len(), 5, "{parts:#?}");
    assert_eq!(parts[0], Statement { text: "CREATE INDEX CONCURRENTLY a ON t (x)", line: 1 });
    assert_eq!(parts[1], Statement { text: "INSERT INTO t VALUES ('a;b', \"c;d\")", line: 3 });
    assert_eq!(parts[2], Statement { text: "SELECT 1", line: 4 });
    assert!(parts[3].text.contains("$body$ SELECT 1; $body$"));
    assert_eq!(parts[4], Statement { text: "SELECT $$x;y$$, $1", line: 6 });
}

#[test]
fn postgres_escape_strings_dollar_identifiers_and_tags() {
    let sql = "INSERT INTO t VALUES (E'it\\'s; fine');\nCREATE TABLE a$b$c (x$ int);\n\
               SELECT 'a\\'; SELECT 2;\nDO $do$ BEGIN PERFORM 1; END $do$;\nSELECT $a$ $b$; $a$";
    assert_eq!(
        texts(sql, Dialect::Postgres),
        [
            "INSERT INTO t VALUES (E'it\\'s; fine')",
            "CREATE TABLE a$b$c (x$ int)",
            // standard_conforming_strings: a backslash is an ordinary character.
            "SELECT 'a\\'",
            "SELECT 2",
            "DO $do$ BEGIN PERFORM 1; END $do$",
            "SELECT $a$ $b$; $a$",
        ]
    );
    // Escapes sqlparser cannot decode (UTF-8 bytes, NUL) still lex.
    let sql = "SELECT E'\\xc3\\xa9;', E'\\0;x''y';\nSELECT E'\\u'||'\\';\nSELECT 3";
    assert_eq!(
        texts(sql, Dialect::Postgres),
        ["SELECT E'\\xc3\\xa9;', E'\\0;x''y'", "SELECT E'\\u'||'\\'", "SELECT 3"]
    );
    assert!(error("SELECT E'\\xc3 never", Dialect::Postgres).contains("line 1: unterminated string literal"));
}

#[test]
fn postgres_begin_atomic_bodies_stay_whole() {
    let sql = "CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 \
               THEN 1 ELSE 0 END;\n  SELECT a + 1;\nEND;\nCREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t \
               VALUES (1); END;\nSELECT CASE WHEN true THEN 1 END;\nBEGIN;\nEND;";
    let parts = texts(sql, Dialect::Postgres);
    assert_eq!(parts.len(), 5, "{parts:#?}");
    assert!(parts[0].starts_with("CREATE OR REPLACE FUNCTION") && parts[0].ends_with("SELECT a + 1;\nEND"));
    assert!(parts[1].ends_with("VALUES (1); END"));
    assert_eq!(parts[2..], ["SELECT CASE WHEN true THEN 1 END", "BEGIN", "END"]);
    assert!(error("CREATE FUNCTION f() RETURNS int BEGIN ATOMIC SELECT 1;", Dialect::Postgres).contains("unbalanced"));
}

#[test]
fn mysql_escapes_backticks_and_hash_comments() {
    let sql = "INSERT INTO t VALUES ('it\\'s; fine', \"a\\\";b\");\n# hash; comment\nCREATE TABLE `a;b` (x int);\n\
               SELECT 1 -- c;\n;\n/*!40101 SET x = 1 */;";
    assert_eq!(
        texts(sql, Dialect::Mysql),
        [
            "INSERT INTO t VALUES ('it\\'s; fine', \"a\\\";b\")",
            "CREATE TABLE `a;b` (x int)",
            "SELECT 1",
            "/*!40101 SET x = 1 */"
        ]
    );
}

#[test]
fn mysql_compound_statements_stay_whole() {
    let trigger = "CREATE DEFINER = CURRENT_USER TRIGGER trg BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  DECLARE n INT \
                   DEFAULT IF(NEW.a > 0, 1, 2);\n  IF NEW.a IS NULL THEN\n    SET NEW.a = REPEAT('x', 2);\n  ELSEIF \
                   (NEW.a = 1) THEN\n    SET NEW.a = CASE WHEN n = 1 THEN 'one' ELSE 'other' END;\n  END IF;\n  \
                   lbl: LOOP\n    LEAVE lbl;\n  END LOOP lbl;\n  WHILE n < 3 DO SET n = n + 1; END WHILE;\n  REPEAT \
                   SET n = n - 1; UNTIL n = 0 END REPEAT;\n  CASE n WHEN 0 THEN SET NEW.b = 1; ELSE BEGIN END; END \
                   CASE;\nEND";
    let procedure = "CREATE PROCEDURE p(IN x INT)\nBEGIN\n  DROP TABLE IF EXISTS tmp;\n  SELECT x;\nEND";
    let body_is_if = "CREATE TRIGGER t2 BEFORE UPDATE ON t FOR EACH ROW IF NEW.a = 0 THEN SET NEW.a = 1; END IF";
    let plain = "CREATE TRIGGER t3 BEFORE DELETE ON t FOR EACH ROW SET @n = @n + 1";
    let sql = format!("{trigger};\n{procedure};\n{body_is_if};\n{plain};\nDO IF(1, 2, 3);\nSELECT 1;");
    assert_eq!(texts(&sql, Dialect::Mysql), [trigger, procedure, body_is_if, plain, "DO IF(1, 2, 3)", "SELECT 1"]);
    let definers = "CREATE DEFINER='root'@'localhost' PROCEDURE q() BEGIN SELECT 1; END;\n\
                    CREATE DEFINER=`root`@`%` TRIGGER t4 AFTER INSERT ON t FOR EACH ROW BEGIN DELETE FROM u; END;\n\
                    CREATE OR REPLACE DEFINER=CURRENT_USER() EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN SELECT 1; END;\n\
                    BEGIN NOT ATOMIC SELECT 1; END;\nlbl: BEGIN NOT ATOMIC SELECT 2; END lbl;\nCREATE TABLE event (x INT);";
    assert_eq!(texts(definers, Dialect::Mysql).len(), 6, "{definers}");
    let error = error("CREATE PROCEDURE p()\nBEGIN\n  IF 1 THEN SELECT 1;\nEND;\nSELECT 2;", Dialect::Mysql);
    assert!(error.starts_with("line 2: unbalanced BEGIN"), "{error}");
}

#[test]
fn sqlite_triggers_stay_whole() {
    let trigger =
        "CREATE TEMP TRIGGER tr AFTER INSERT ON t WHEN new.a > 0 BEGIN\n  UPDATE t SET b = CASE WHEN new.a = 1 \
                   THEN 'x' END WHERE rowid = new.rowid;\n  SELECT RAISE(IGNORE);\nEND";
    let sql = format!("CREATE TABLE [a;b] (x$ int, `c;d` text);\n{trigger};\nBEGIN;\nEND TRANSACTION;");
    assert_eq!(
        texts(&sql, Dialect::Sqlite),
        ["CREATE TABLE [a;b] (x$ int, `c;d` text)", trigger, "BEGIN", "END TRANSACTION"]
    );
}

#[test]
fn unterminated_input_is_an_error_with_its_line() {
    for (dialect, sql, what) in [
        (Dialect::Postgres, "SELECT 1;\nSELECT 'abc", "line 2: unterminated string literal"),
        (Dialect::Postgres, "SELECT 1;\n/* x /* y */", "unterminated /* comment"),
        (Dialect::Postgres, "SELECT $a$ never", "unterminated dollar quote"),
        (Dialect::Postgres, "SELECT \"x", "unterminated quoted identifier"),
        (Dialect::Mysql, "SELECT 'it\\'s", "unterminated string literal"),
        (Dialect::Sqlite, "SELECT [x", "unterminated"),
    ] {
        let message = error(sql, dialect);
        assert!(message.contains(what), "{dialect} {sql:?}: {message}");
    }
    for sql in ["--", "$", "$$", "  ;; \n", "-- only\n/* comments */"] {
        let _ = statements(sql, Dialect::Postgres);
    }
    assert!(statements("  ;; \n-- x\n", Dialect::Sqlite).unwrap().is_empty());
}

#[test]
fn delimiter_is_rejected_with_its_line() {
    let sql = "CREATE TABLE t (delimiter text);\n-- DELIMITER //\nSELECT 'x\nDELIMITER y';\nDELIMITER $$\nCREATE \
               PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\n";
    for dialect in [Dialect::Mysql, Dialect::Postgres, Dialect::Sqlite] {
        let message = error(sql, dialect);
        assert!(message.starts_with("line 5: `DELIMITER` is a command of the mysql client"), "{message}");
    }
}

#[test]
fn transaction_control_is_found_at_top_level_only() {
    let find = |sql: &str, dialect| transaction_control(sql, dialect).map(|t| (t.line, t.statement));
    assert_eq!(find("CREATE TABLE t (x int);\nROLLBACK;", Dialect::Postgres), Some((2, "ROLLBACK".into())));
    assert_eq!(
        find("SAVEPOINT a;\nROLLBACK TO SAVEPOINT a;\nRELEASE a;\nROLLBACK WORK TO a;", Dialect::Postgres),
        None
    );
    for (dialect, statement) in [
        (Dialect::Postgres, "COMMIT AND CHAIN"),
        (Dialect::Postgres, "abort"),
        (Dialect::Postgres, "PREPARE TRANSACTION 'x'"),
        (Dialect::Postgres, "COMMIT PREPARED 'x'"),
        (Dialect::Postgres, "begin transaction isolation level serializable"),
        (Dialect::Postgres, "START TRANSACTION"),
        (Dialect::Postgres, "END"),
        (Dialect::Sqlite, "END TRANSACTION"),
        (Dialect::Sqlite, "BEGIN IMMEDIATE"),
        (Dialect::Sqlite, "COMMIT"),
        (Dialect::Mysql, "BEGIN WORK"),
        (Dialect::Mysql, "SET autocommit = 1"),
        (Dialect::Mysql, "SET SESSION autocommit = 0"),
        (Dialect::Mysql, "SET @@session.autocommit = 1"),
        (Dialect::Mysql, "LOCK TABLES t WRITE"),
        (Dialect::Mysql, "UNLOCK TABLES"),
        (Dialect::Mysql, "XA START 'x'"),
    ] {
        let sql = format!("/* lead */ SELECT 1;\n-- x\n{statement}\n  ;\nSELECT 2;");
        assert_eq!(find(&sql, dialect), Some((3, statement.to_string())), "{dialect}: {statement}");
    }
    let inside = [
        (Dialect::Postgres, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;"),
        (Dialect::Postgres, "SELECT 'COMMIT;'; -- ROLLBACK;\nDO $$ BEGIN COMMIT; END $$; /* END; */"),
        (Dialect::Sqlite, "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;"),
        (Dialect::Mysql, "CREATE PROCEDURE p() BEGIN START TRANSACTION; COMMIT; END;"),
        (Dialect::Mysql, "BEGIN NOT ATOMIC SELECT 1; END;"),
        (Dialect::Mysql, "SET @x = 'autocommit'; SET NAMES utf8mb4;"),
    ];
    for (dialect, sql) in inside {
        assert_eq!(find(sql, dialect), None, "{dialect}: {sql}");
    }
}

#[test]
fn check_reports_sql_that_splits_nowhere_or_not_on_its_dialect() {
    use crate::graph::RevisionGraph;
    use crate::revision::Revision;
    let parse = |name: &str, text: &str| Revision::parse(std::path::Path::new(name), text).unwrap();
    let graph = RevisionGraph::new(vec![
        parse("a.sql", "-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\nDELIMITER //\n"),
        // Generic SQL that splits on MySQL only: fine while the dialect is unknown.
        parse("b.sql", "-- id: b\n-- parents: a\n-- migrate:up\nSELECT 'it\\'s';\n"),
        parse("c.sql", "-- id: c\n-- parents: b\n-- migrate:up\nSELECT 1;\n-- migrate:up postgres\nSELECT $x$ open;\n"),
    ])
    .unwrap();
    let found = |dialect| super::sql_problems(&graph, dialect).into_iter().map(|e| e.id).collect::<Vec<_>>();
    assert_eq!(found(None), ["a", "c"]);
    assert_eq!(found(Some(Dialect::Mysql)), ["a"]);
    assert_eq!(found(Some(Dialect::Postgres)), ["a", "b", "c"]);
}
