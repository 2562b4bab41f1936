use std::path::Path;

use super::{comment, literal, script};
use crate::backend::Dialect;
use crate::graph::RevisionGraph;
use crate::plan::{plan, State, Verb};
use crate::revision::Revision;

fn graph(files: &[(&str, &str)]) -> RevisionGraph {
    let revisions = files.iter().map(|(name, text)| Revision::parse(Path::new(name), text).unwrap()).collect();
    RevisionGraph::new(revisions).unwrap()
}

fn upgrade(g: &RevisionGraph, dialect: Dialect) -> Result<String, super::ScriptError> {
    let plan = plan(g, &State::empty(g), Verb::Upgrade, &["heads"]).unwrap();
    script(g, &plan, dialect, "migraph_revisions", "title\r\nDROP TABLE victim;")
}

#[test]
fn comments_cannot_be_left() {
    for text in ["a\rDROP TABLE victim;", "a\nb", "a\u{2028}b\u{2029}c\u{85}d\u{202e}e", "x\\r"] {
        let escaped = comment(text);
        assert!(!escaped.chars().any(super::unsafe_in_comment), "{escaped:?}");
        assert_eq!(escaped.lines().count(), 1);
    }
    assert_eq!(comment("a\r DROP TABLE victim; \\ \u{2028}"), "a\\r DROP TABLE victim; \\\\ \\u{2028}");
}

#[test]
fn literals_are_plain_only_when_nothing_can_be_misread() {
    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
        assert_eq!(literal(dialect, "it's\nfine"), "'it''s\nfine'");
        assert_eq!(literal(dialect, ""), "''");
    }
    let hostile = "a\\' ; DROP TABLE victim; -- \r\u{e9}\u{1f600}";
    assert_eq!(literal(Dialect::Postgres, hostile), "E'a\\\\'' ; DROP TABLE victim; -- \\r\\u00e9\\U0001f600'");
    assert_eq!(literal(Dialect::Mysql, "\\'\u{e9}"), "_utf8mb4 X'5C27C3A9'");
    assert_eq!(literal(Dialect::Sqlite, "a\\'\rb\u{e9}"), "('a\\''' || char(13) || 'b\u{e9}')");
}

const HOSTILE: &str =
    "-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t (x int); -- last\n-- migrate:down\nDROP TABLE t;\n";

#[test]
fn header_text_stays_in_its_comment_and_literals() {
    // Files cannot hold a CR in a header; a library caller's revision can.
    let mut revision = Revision::parse(Path::new("a.sql"), HOSTILE).unwrap();
    revision.message = "m\\\r DROP TABLE victim; '".to_string();
    let g = RevisionGraph::new(vec![revision]).unwrap();
    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
        let out = upgrade(&g, dialect).unwrap();
        assert!(!out.contains('\r'), "{out}");
        assert!(out.starts_with("-- title\\r\\nDROP TABLE victim;\n"), "{out}");
        assert!(out.contains("\n-- up a: m\\\\\\r DROP TABLE victim; '\n"), "{out}");
        assert!(!out.lines().any(|l| l.starts_with("DROP TABLE victim") || l.starts_with(" DROP")), "{out}");
        // The trailing `-- last` comment cannot swallow the terminator.
        assert!(out.contains("CREATE TABLE t (x int); -- last\n"), "{out}");
    }
    let pg = upgrade(&g, Dialect::Postgres).unwrap();
    assert!(pg.contains("\\set ON_ERROR_STOP on\n") && pg.contains("E'm\\\\\\r DROP TABLE victim; '''"), "{pg}");
    assert!(upgrade(&g, Dialect::Sqlite).unwrap().contains("\n.bail on\n"));
}

#[test]
fn mysql_compound_statements_get_delimiters() {
    let body =
        "CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  IF NEW.x < 0 THEN SET NEW.x = 0; END IF;\nEND";
    let file = format!("-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t (x int);\n{body};\nSELECT '$$';\n");
    let g = graph(&[("a.sql", &file)]);
    let out = upgrade(&g, Dialect::Mysql).unwrap();
    assert!(
        out.contains(&format!("CREATE TABLE t (x int);\nDELIMITER $$\n{body}\n$$\nDELIMITER ;\nSELECT '$$';\n")),
        "{out}"
    );
    // SQLite and PostgreSQL clients know compound statements: the SQL stays as written.
    let out = upgrade(&g, Dialect::Sqlite).unwrap();
    assert!(out.contains(&format!("{body};\nSELECT '$$';\n")), "{out}");
}

#[test]
fn unsplittable_sql_is_an_error_naming_file_and_line() {
    let file = "-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t (x int);\nDELIMITER //\nSELECT 1//\n";
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.sql");
    std::fs::write(&path, file).unwrap();
    let g = RevisionGraph::new(vec![Revision::parse(&path, file).unwrap()]).unwrap();
    for dialect in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
        let e = upgrade(&g, dialect).unwrap_err().to_string();
        let expected = format!("{}:5: revision a, up SQL for {dialect}: `DELIMITER`", path.display());
        assert!(e.starts_with(&expected), "{e}");
    }
}

#[test]
fn a_revision_read_from_its_header_only_is_refused_not_scripted_empty() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a1.sql"),
        "-- id: a1\n-- parents:\n-- migrate:up\nCREATE TABLE t (x INT);\n-- migrate:down\nDROP TABLE t;\n",
    )
    .unwrap();
    let headers = crate::load_headers(dir.path()).unwrap();
    assert!(!headers.has_all_sql());
    let error = upgrade(&headers, Dialect::Sqlite).unwrap_err();
    assert!(error.message.contains("its SQL was not read"), "{}", error.message);
    let mut full = headers.clone();
    full.load_all_sql().unwrap();
    assert!(upgrade(&full, Dialect::Sqlite).unwrap().contains("CREATE TABLE t (x INT);"));
}
