//! `--sql` scripts run by the real clients: `migraph upgrade heads --sql`
//! piped into `sqlite3`, `psql` and `mysql` must leave the same tables,
//! catalog and version rows (id, parents, message, checksum, down_sql,
//! depends_on, transaction) as a real `migraph upgrade heads`, for the
//! sample revisions and for a hostile history (header text full of quotes,
//! backslashes, comment and dollar-quote openers, psql meta-commands and
//! Unicode line separators; compound statements; `transaction: false`).
//! Then a `downgrade base --sql --from heads` script empties the database.
//! SQLite always runs; PostgreSQL and MySQL when their server URL is set.

mod common;
mod sql_clients;

use std::path::Path;

use migraph::backend::Dialect;
use sql_clients::{project, Db};

fn migraph_ok(dir: &Path, url: &str, args: &[&str]) -> String {
    common::ok(dir, url, args).stdout
}

/// Real run on one database, script through the client on another; both
/// must agree. Returns the script database (for more checks) and the script.
fn script_matches_real_run(dialect: Dialect, dir: &Path, revisions: &str) -> (Db, String, String) {
    let real = Db::new(dialect);
    migraph_ok(dir, &real.url, &["--revisions", revisions, "upgrade", "heads"]);
    let scripted = Db::new(dialect);
    let script = migraph_ok(dir, &scripted.url, &["--revisions", revisions, "upgrade", "heads", "--sql"]);
    assert_eq!(scripted.tables(), "", "--sql must not connect");
    if let Err(e) = scripted.client(&script) {
        panic!("the {dialect} client rejected the script: {e}\n--- script\n{script}");
    }
    assert!(!real.tables().is_empty());
    assert_eq!(scripted.tables(), real.tables(), "{dialect}: tables");
    assert_eq!(scripted.schema(), real.schema(), "{dialect}: catalog");
    let rows = real.version_rows();
    assert!(!rows.is_empty());
    assert_eq!(scripted.version_rows(), rows, "{dialect}: version rows");
    let status = migraph_ok(dir, &scripted.url, &["--revisions", revisions, "status", "--json"]);
    let status: serde_json::Value = serde_json::from_str(&status).expect("status JSON");
    assert_eq!(status["pending"], serde_json::json!([]), "{status}");
    assert_eq!(status["drift"], serde_json::json!([]), "{status}");

    let down =
        migraph_ok(dir, &scripted.url, &["--revisions", revisions, "downgrade", "base", "--sql", "--from", "heads"]);
    if let Err(e) = scripted.client(&down) {
        panic!("the {dialect} client rejected the downgrade script: {e}\n--- script\n{down}");
    }
    assert_eq!(scripted.version_rows(), "", "{dialect}: every row deleted");
    (scripted, script, rows)
}

fn samples(dialect: Dialect) {
    let dir = project(&[]);
    let revisions = common::sample_revisions();
    let (scripted, _, _) = script_matches_real_run(dialect, dir.path(), revisions.to_str().expect("utf-8 path"));
    assert_eq!(scripted.tables(), "", "{dialect}: the downgrade dropped every table");
}

/// Header text that must stay inside its comment or literal.
const MESSAGES: [&str; 4] = [
    r#"it's "quoted" \ back\slash \r \n \' \\' ; DROP TABLE victim; --"#,
    r"$$ $tag$ */ /* E'\x27; DROP TABLE victim; -- \! touch pwned \gexec",
    "unicode é 😀 line\u{2028}separator paragraph\u{2029}separator \u{202e}reversed",
    "') ; DROP TABLE victim; SELECT ('",
];

fn hostile_history() -> Vec<(&'static str, String)> {
    let header = |id: &str, parents: &str, message: &str, extra: &str| {
        format!("-- id: {id}\n-- parents: {parents}\n-- message: {message}\n{extra}\n")
    };
    let mut files = vec![(
        "h0.sql",
        header("h0", "", MESSAGES[0], "")
            + "-- migrate:up\nCREATE TABLE victim (x INT);\n-- migrate:down\nDROP TABLE victim; -- back\\slash 'q' $$\n",
    )];
    files.push((
        "h1.sql",
        header("h1", "h0", MESSAGES[1], "-- labels: odd")
            + "-- migrate:up\nCREATE TABLE ht (x INT, note VARCHAR(20));\n\
               -- migrate:up sqlite\nCREATE TABLE ht (x INT, note VARCHAR(20));\n\
               CREATE TRIGGER ht_tr AFTER INSERT ON ht BEGIN\n  UPDATE ht SET note = 'a;b' WHERE rowid = new.rowid;\nEND;\n\
               -- migrate:up postgres\nCREATE TABLE ht (x INT, note VARCHAR(20));\n\
               CREATE FUNCTION ht_f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT CASE WHEN a > 0 THEN a END;\nEND;\n\
               CREATE FUNCTION ht_t() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN NEW.note := E'a;\\'b'; RETURN NEW; END $body$;\n\
               CREATE TRIGGER ht_tr BEFORE INSERT ON ht FOR EACH ROW EXECUTE FUNCTION ht_t();\n\
               -- migrate:up mysql\nCREATE TABLE ht (x INT, note VARCHAR(20));\n\
               CREATE TRIGGER ht_tr BEFORE INSERT ON ht FOR EACH ROW\nBEGIN\n  IF NEW.x IS NULL THEN\n    SET NEW.x = 0;\n  END IF;\n  SET NEW.note = 'a;''b';\nEND;\n\
               CREATE PROCEDURE ht_p()\nBEGIN\n  INSERT INTO ht (note) VALUES ('p;');\nEND;\n\
               -- migrate:down\nDROP TABLE ht;\n\
               -- migrate:down postgres\nDROP TABLE ht;\nDROP FUNCTION ht_t();\nDROP FUNCTION ht_f(int);\n\
               -- migrate:down mysql\nDROP PROCEDURE ht_p;\nDROP TABLE ht;\n",
    ));
    files.push((
        "h2.sql",
        header("h2", "h1", MESSAGES[2], "-- transaction: false\n-- depends-on: h0")
            + "-- migrate:up\nCREATE INDEX ix_ht ON ht (x);\n\
               -- migrate:up postgres\nCREATE INDEX CONCURRENTLY ix_ht ON ht (x);\n\
               -- migrate:down\nDROP INDEX ix_ht;\n\
               -- migrate:down mysql\nDROP INDEX ix_ht ON ht;\n",
    ));
    files.push((
        "h3.sql",
        header("h3", "h2", MESSAGES[3], "")
            + "-- migrate:up\nINSERT INTO ht (x) VALUES (1); -- no trailing terminator after this comment\n\
               -- migrate:down\nDELETE FROM ht;\n",
    ));
    files
}

fn hostile(dialect: Dialect) {
    let dir = project(&hostile_history());
    let (scripted, script, rows) = script_matches_real_run(dialect, dir.path(), "revisions");
    assert_eq!(scripted.tables(), "", "{dialect}: the downgrade dropped every table");
    // The header text is in the script, but only inside comments and literals.
    for line in script.lines() {
        assert!(!line.trim_start().starts_with("DROP TABLE victim"), "{line}");
        assert!(!line.contains('\u{2028}') && !line.contains('\u{202e}'), "{line:?}");
    }
    assert!(!script.contains('\r'));
    assert!(!Path::new("pwned").exists(), "a client ran `\\! touch pwned` from a message");
    // The real run and the script stored the hostile messages byte for
    // byte, also where backslashes are ordinary characters in '…' (MySQL's
    // NO_BACKSLASH_ESCAPES) or escapes (PostgreSQL without
    // standard_conforming_strings).
    let setting = match dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => "SET standard_conforming_strings = off;\n",
        Dialect::Mysql => "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES');\n",
    };
    let again = Db::new(dialect);
    if let Err(e) = again.client(&format!("{setting}{script}")) {
        panic!("{dialect}: the script fails after {setting}: {e}");
    }
    assert_eq!(again.version_rows(), rows, "{dialect}: rows after {setting}");
    let tables = again.tables();
    assert!(tables.contains("victim") && tables.contains("ht"), "{tables}");
    let hex: Vec<String> = MESSAGES.iter().map(|m| m.bytes().map(|b| format!("{b:02x}")).collect()).collect();
    for message in &hex {
        assert!(rows.contains(message.as_str()), "{message} not stored:\n{rows}");
    }
    let note = again.query("SELECT note FROM ht;");
    let expected = match dialect {
        Dialect::Sqlite => "a;b",
        _ => "a;'b",
    };
    assert_eq!(note.trim(), expected, "{dialect}: the compound statement ran");
}

common::backend_tests! {
    sqlite3 sqlite_samples => samples(Dialect::Sqlite),
    sqlite3 sqlite_hostile_history => hostile(Dialect::Sqlite),
    postgres postgres_samples => samples(Dialect::Postgres),
    postgres postgres_hostile_history => hostile(Dialect::Postgres),
    mysql mysql_samples => samples(Dialect::Mysql),
    mysql mysql_hostile_history => hostile(Dialect::Mysql),
}
