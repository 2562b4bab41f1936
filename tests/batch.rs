//! Revisions sent as one batch on connections migraph opens itself (the
//! command line): PostgreSQL `BEGIN; …; COMMIT;` in one simple query,
//! MySQL/MariaDB the marker, the statements, the row and the marker's
//! removal in one multi-statement batch. The failures are reported and
//! recorded exactly as one statement at a time did (the failing statement's
//! number and `file:line`; PostgreSQL: nothing applied or recorded;
//! MariaDB: the marker left with the error), the rows have the same
//! columns as a run on an application's connection (which goes through
//! Diesel's transaction manager, never a raw `BEGIN`), and a `SET
//! search_path` / `USE` inside a revision is undone after it.
//!
//! PostgreSQL and MySQL run on fresh databases of the live servers
//! (`MIGRAPH_TEST_POSTGRES_URL`, `MIGRAPH_TEST_MYSQL_URL`), ignored without.
#![cfg(any(feature = "postgres", feature = "mysql"))]
#![allow(dead_code, unused_imports)]

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{fails, ok, project, write_revision, Server, TestDb};
use migraph::backend::{Backend, Dialect, VersionRow};

/// The first `error:` line of a run's stderr.
fn error_line(ran: &common::Ran) -> &str {
    ran.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default()
}

/// The version rows, by ID.
fn rows(conn: &mut dyn Backend) -> Vec<VersionRow> {
    let mut rows = conn.version_rows(&conn.dialect().select_rows("migraph_revisions")).expect("version rows");
    rows.sort_by(|a, b| a.id.cmp(&b.id));
    rows
}

/// The markers' IDs and errors.
fn markers(conn: &mut dyn Backend) -> Vec<(String, Option<String>)> {
    let sql = "SELECT id, direction, started_at, error FROM migraph_revisions_pending ORDER BY id";
    conn.pending_rows(sql).expect("markers").into_iter().map(|p| (p.id, p.error)).collect()
}

/// A row with what is measured or timed blanked out, for comparisons.
fn comparable(row: &VersionRow) -> VersionRow {
    assert_eq!(row.applied_at.len(), "2026-11-30T12:00:00.000000Z".len(), "{row:?}");
    assert!(row.applied_at.ends_with('Z') && row.execution_ms >= 0, "{row:?}");
    VersionRow { applied_at: String::new(), execution_ms: 0, ..row.clone() }
}

/// Revisions whose rows exercise every column and the literals: quotes,
/// backslashes and non-ASCII in messages and down sections, depends-on, a
/// `transaction: false` revision, and a down section absent.
fn varied(d: &Path) {
    std::fs::create_dir_all(d.join("revisions")).expect("mkdir");
    std::fs::write(
        d.join("revisions/v1.sql"),
        "-- id: v1\n-- parents:\n-- message: it's a \\back\\slash, \"quoted\", é ✓ 🦀\n-- migrate:up\n\
         CREATE TABLE t_v1 (id INTEGER);\nINSERT INTO t_v1 VALUES (1);\n\
         -- migrate:down\nDROP TABLE t_v1; -- it's \\ gone, é ✓\n",
    )
    .expect("write");
    write_revision(d, "v2", "", "CREATE TABLE t_v2 (id INTEGER);", None, "-- depends-on: v1");
    write_revision(
        d,
        "v3",
        "v1 v2",
        "CREATE TABLE t_v3 (id INTEGER);\nINSERT INTO t_v3 VALUES (3);",
        Some("DROP TABLE t_v3;"),
        "-- transaction: false",
    );
}

/// The same revisions applied by the command line on `cli` and by the
/// library on an application's connection `library` give the same rows.
fn rows_match_a_library_run(cli: &TestDb, library: &mut dyn Backend) {
    let dir = project();
    let d = dir.path();
    varied(d);
    ok(d, &cli.url, &["upgrade"]);
    let migrator = migraph::Migrator::from_dir(d.join("revisions")).expect("revisions");
    let report = migrator.upgrade_heads(library).expect("library upgrade");
    assert_eq!(report.done.len(), 3);
    let by_cli: Vec<VersionRow> = rows(&mut cli.connect()).iter().map(comparable).collect();
    let by_library: Vec<VersionRow> = rows(library).iter().map(comparable).collect();
    assert_eq!(by_cli.len(), 3, "{by_cli:?}");
    assert_eq!(by_cli, by_library);
    let v1 = &by_cli[0];
    assert_eq!(v1.message, "it's a \\back\\slash, \"quoted\", é ✓ 🦀");
    assert_eq!(v1.down_sql.as_deref().map(str::trim), Some("DROP TABLE t_v1; -- it's \\ gone, é ✓"));
    assert_eq!((by_cli[1].depends_on.as_deref(), by_cli[1].down_sql.as_deref()), (Some("v1"), None));
    assert_eq!((by_cli[2].parents.as_str(), by_cli[2].transaction), ("v1 v2", 0));
    assert!(markers(&mut cli.connect()).is_empty());
    // And down, by the command line (v2 has no down section): v3's row removed, its table dropped.
    ok(d, &cli.url, &["downgrade", "v2"]);
    assert_eq!(cli.applied(), ["v1", "v2"]);
    assert_eq!(cli.tables(), ["migraph_revisions", "migraph_revisions_pending", "t_v1", "t_v2"]);
}

/// g0, then f1 whose second statement (at line 8 of its file, `extra`
/// being one line) fails.
fn failing(d: &Path, extra: &str) {
    write_revision(d, "g0", "", "CREATE TABLE t_g0 (id INTEGER);", Some("DROP TABLE t_g0;"), "");
    write_revision(
        d,
        "f1",
        "g0",
        "CREATE TABLE t_f1 (id INTEGER);\n\nINSERT INTO t_missing\n  VALUES (1);\nINSERT INTO t_f1 VALUES (2);",
        Some("DROP TABLE t_f1;"),
        extra,
    );
}

/// The error of `failing`'s f1, statement 2 at its line.
fn assert_statement_2(failed: &common::Ran) {
    let line = error_line(failed);
    assert!(line.starts_with("error: revision f1 (rev f1) failed while going up: up SQL, statement 2 at "), "{failed}");
    assert!(line.contains("revisions/f1.sql:8 (`INSERT INTO t_missing`)"), "{failed}");
    assert!(line.contains("t_missing"), "{failed}");
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_a_failing_statement_is_named_and_nothing_of_its_revision_stays() {
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    failing(d, "-- labels: x");
    let failed = fails(d, &db.url, &["upgrade"]);
    assert_statement_2(&failed);
    assert!(failed.stderr.contains("the 1 revision(s) before it stay applied"), "{failed}");
    let mut conn = db.connect();
    assert_eq!(rows(&mut conn).iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["g0"]);
    assert!(markers(&mut conn).is_empty());
    assert_eq!(db.tables(), ["migraph_revisions", "migraph_revisions_pending", "t_g0"]);
    // Fixed, it runs: the session was not left in the aborted transaction.
    write_revision(d, "f1", "g0", "CREATE TABLE t_f1 (id INTEGER);", Some("DROP TABLE t_f1;"), "");
    ok(d, &db.url, &["upgrade"]);
    assert_eq!(db.applied(), ["f1", "g0"]);
}

/// A chain r01..r12 whose r07 fails at its second statement (line 8).
fn chain_failing_at_r07(d: &Path) {
    for n in 1..=12 {
        let (id, parent) = (format!("r{n:02}"), if n == 1 { String::new() } else { format!("r{:02}", n - 1) });
        let up = match n {
            7 => "CREATE TABLE t_r07 (id INTEGER);\n\nINSERT INTO t_missing\n  VALUES (1);".to_string(),
            _ => format!("CREATE TABLE t_{id} (id INTEGER);"),
        };
        write_revision(d, &id, &parent, &up, Some(&format!("DROP TABLE t_{id};")), "");
    }
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_revisions_sent_together_stop_exactly_at_the_failing_one() {
    // Fast revisions go to the server in growing groups (1, 2, 4, ...), so
    // r07 fails inside the group r04..r07: r04..r06 committed before it.
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    chain_failing_at_r07(d);
    let failed = fails(d, &db.url, &["upgrade"]);
    let line = error_line(&failed);
    assert!(
        line.starts_with("error: revision r07 (rev r07) failed while going up: up SQL, statement 2 at "),
        "{failed}"
    );
    assert!(line.contains("revisions/r07.sql:8 (`INSERT INTO t_missing`)"), "{failed}");
    assert!(failed.stderr.contains("the 6 revision(s) before it stay applied"), "{failed}");
    let applied: Vec<String> = (1..=6).map(|n| format!("r{n:02}")).collect();
    assert_eq!(db.applied(), applied);
    let mut tables: Vec<String> = applied.iter().map(|id| format!("t_{id}")).collect();
    tables.splice(0..0, ["migraph_revisions".to_string(), "migraph_revisions_pending".to_string()]);
    assert_eq!(db.tables(), tables);
    // Every applied revision was reported, in order, with its time.
    let reported: Vec<&str> = failed.stderr.lines().filter(|l| l.trim_start().starts_with("up ")).collect();
    assert_eq!(reported.len(), 6, "{failed}");
    for (line, id) in reported.iter().zip(&applied) {
        assert!(line.contains(id.as_str()) && line.ends_with(" ms)"), "{line}\n{failed}");
    }
    let mut conn = db.connect();
    assert!(rows(&mut conn).iter().all(|r| r.execution_ms >= 0 && r.applied_at.ends_with('Z')));
    assert!(markers(&mut conn).is_empty());
    // Fixed, the rest runs in one go; then all the way down and up again.
    write_revision(d, "r07", "r06", "CREATE TABLE t_r07 (id INTEGER);", Some("DROP TABLE t_r07;"), "");
    ok(d, &db.url, &["upgrade"]);
    assert_eq!(db.applied().len(), 12);
    ok(d, &db.url, &["downgrade", "base"]);
    assert!(db.applied().is_empty());
    assert_eq!(db.tables(), ["migraph_revisions", "migraph_revisions_pending"]);
    let redone = ok(d, &db.url, &["upgrade"]);
    assert_eq!(db.applied().len(), 12, "{redone}");
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_a_connection_lost_inside_a_group_is_not_reported_as_a_clean_failure() {
    // r01 runs alone, r02 and r03 go together; r03 ends its own session, so
    // r02 committed and nothing can be read back on that connection.
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    write_revision(d, "r01", "", "CREATE TABLE t_r01 (id INTEGER);", None, "");
    write_revision(d, "r02", "r01", "CREATE TABLE t_r02 (id INTEGER);", None, "");
    write_revision(d, "r03", "r02", "SELECT pg_terminate_backend(pg_backend_pid());", None, "");
    let failed = fails(d, &db.url, &["upgrade"]);
    let line = error_line(&failed);
    assert!(
        line.starts_with(
            "error: the batch of revisions r02, r03 failed, and which of them were applied could not be read back"
        ),
        "{failed}"
    );
    assert!(!failed.stderr.contains("left no trace"), "{failed}");
    let status = ok(d, &db.url, &["status"]);
    assert!(status.stdout.contains("2 of 3"), "{status}");
    assert_eq!(db.applied(), ["r01", "r02"]);
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_rows_match_a_library_run() {
    use diesel::Connection;
    let (cli, library) = (TestDb::new(Server::Postgres), TestDb::new(Server::Postgres));
    let mut conn = diesel::PgConnection::establish(&library.url).expect("connect");
    rows_match_a_library_run(&cli, &mut conn);
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_a_search_path_set_in_a_revision_is_undone_after_it() {
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "s1",
        "",
        "CREATE SCHEMA s_other;\nSET search_path TO s_other;\nCREATE TABLE t_s1 (id INTEGER);",
        Some("DROP SCHEMA s_other CASCADE;"),
        "",
    );
    write_revision(d, "s2", "s1", "CREATE TABLE t_s2 (id INTEGER);", Some("DROP TABLE t_s2;"), "");
    ok(d, &db.url, &["upgrade"]);
    let sql = "SELECT COUNT(*) AS v FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2";
    let mut conn = db.connect();
    let count = |conn: &mut migraph::backend::AnyConnection, schema: &str, table: &str| {
        conn.int(sql, &[migraph::backend::Arg::Text(schema.into()), migraph::backend::Arg::Text(table.into())])
            .expect("count")
    };
    assert_eq!(count(&mut conn, "s_other", "t_s1"), Some(1));
    assert_eq!(count(&mut conn, "public", "t_s2"), Some(1), "s2 ran with the search_path restored");
    assert_eq!(count(&mut conn, "s_other", "migraph_revisions"), Some(0));
    assert_eq!(db.applied(), ["s1", "s2"]);
}

/// An application's `PgConnection` goes through Diesel's transaction
/// manager (one `BEGIN`/`COMMIT` per revision it knows of), never a batch
/// with its own `BEGIN`; the command line's connection is not one.
#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_an_application_connection_uses_diesels_transaction_manager() {
    use diesel::connection::{Instrumentation, InstrumentationEvent};
    use diesel::Connection;
    #[derive(Default)]
    struct Seen {
        begins: usize,
        commits: usize,
        queries: Vec<String>,
    }
    struct Recorder(Arc<Mutex<Seen>>);
    impl Instrumentation for Recorder {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            let mut seen = self.0.lock().expect("lock");
            match event {
                InstrumentationEvent::BeginTransaction { .. } => seen.begins += 1,
                InstrumentationEvent::CommitTransaction { .. } => seen.commits += 1,
                InstrumentationEvent::StartQuery { query, .. } => seen.queries.push(query.to_string()),
                _ => {}
            }
        }
    }
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    common::table_revision(d, "a1", "");
    common::table_revision(d, "a2", "a1");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut conn = diesel::PgConnection::establish(&db.url).expect("connect");
    conn.set_instrumentation(Recorder(seen.clone()));
    assert!(!conn.owns_session());
    let migrator = migraph::Migrator::from_dir(d.join("revisions")).expect("revisions");
    assert_eq!(migrator.upgrade_heads(&mut conn).expect("upgrade").done.len(), 2);
    let seen = seen.lock().expect("lock");
    assert!(seen.begins >= 2 && seen.commits >= 2, "{} begins, {} commits", seen.begins, seen.commits);
    let raw: Vec<&String> =
        seen.queries.iter().filter(|q| q.trim_start().to_uppercase().starts_with("BEGIN;")).collect();
    assert!(raw.is_empty(), "{raw:?}");
    assert!(seen.queries.iter().any(|q| q.contains("CREATE TABLE t_a2")), "{:?}", seen.queries);
    assert!(migraph::backend::AnyConnection::connect(&db.url).expect("connect").owns_session());
}

#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn mysql_a_failing_statement_is_named_and_its_marker_stays() {
    for extra in ["", "-- transaction: false"] {
        let db = TestDb::new(Server::Mysql);
        let dir = project();
        let d = dir.path();
        failing(d, extra);
        let failed = fails(d, &db.url, &["upgrade"]);
        assert_statement_2(&failed);
        assert!(failed.stderr.contains("may be half applied; see `migraph status`"), "{failed}");
        let mut conn = db.connect();
        assert_eq!(rows(&mut conn).iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["g0"], "{extra}");
        let left = markers(&mut conn);
        assert_eq!(left.len(), 1, "{left:?}");
        assert_eq!(left[0].0, "f1");
        let error = left[0].1.clone().unwrap_or_default();
        assert!(error.starts_with("up SQL, statement 2 at ") && error.contains("t_missing"), "{error}");
        // The first statement's DDL took effect (MySQL commits it).
        assert_eq!(db.tables(), ["migraph_revisions", "migraph_revisions_pending", "t_f1", "t_g0"]);
        let status = ok(d, &db.url, &["status"]);
        assert!(status.stdout.contains("FAILED:   f1 going up (started "), "{status}");
        assert!(status.stdout.contains("): up SQL, statement 2 at revisions/f1.sql:8"), "{status}");
        let again = fails(d, &db.url, &["upgrade"]);
        assert!(error_line(&again).contains("revision f1 failed or was interrupted going up"), "{again}");
    }
}

/// A marker that cannot be written: nothing of the revision ran and no
/// marker is left.
#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn mysql_a_marker_that_cannot_be_written_runs_nothing() {
    let db = TestDb::new(Server::Mysql);
    let dir = project();
    let d = dir.path();
    failing(d, "");
    write_revision(d, "f1", "g0", "CREATE TABLE t_f1 (id INTEGER);", Some("DROP TABLE t_f1;"), "");
    ok(d, &db.url, &["upgrade", "g0"]);
    db.connect()
        .batch(
            "CREATE TRIGGER no_markers BEFORE INSERT ON migraph_revisions_pending FOR EACH ROW \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'no markers today'",
        )
        .expect("trigger");
    let failed = fails(d, &db.url, &["upgrade"]);
    let line = error_line(&failed);
    assert!(line.starts_with("error: revision f1 (rev f1) failed while going up: no markers today"), "{failed}");
    assert!(!failed.stderr.contains("half applied"), "{failed}");
    let mut conn = db.connect();
    assert!(markers(&mut conn).is_empty());
    assert_eq!(db.tables(), ["migraph_revisions", "migraph_revisions_pending", "t_g0"], "t_f1 never ran");
    assert_eq!(db.applied(), ["g0"]);
}

#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn mysql_rows_match_a_library_run() {
    use diesel::Connection;
    let (cli, library) = (TestDb::new(Server::Mysql), TestDb::new(Server::Mysql));
    let mut conn = diesel::MysqlConnection::establish(&library.url).expect("connect");
    rows_match_a_library_run(&cli, &mut conn);
}

#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn mysql_use_in_a_revision_is_undone_after_it() {
    let db = TestDb::new(Server::Mysql);
    let other = format!("{}_o", common::database_name(&db.url));
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "u1",
        "",
        &format!("CREATE DATABASE {other};\nUSE {other};\nCREATE TABLE t_u1 (id INTEGER);"),
        Some(&format!("DROP DATABASE {other};")),
        "",
    );
    write_revision(d, "u2", "u1", "CREATE TABLE t_u2 (id INTEGER);", Some("DROP TABLE t_u2;"), "");
    let ran = common::mg(d, &db.url, &["upgrade"]);
    let mut conn = db.connect();
    let sql = format!(
        "SELECT COUNT(*) AS v FROM information_schema.tables WHERE table_schema = '{other}' AND table_name = 't_u1'"
    );
    let in_other = conn.int(&sql, &[]).expect("count");
    let _ = conn.batch(&format!("DROP DATABASE IF EXISTS {other}"));
    assert_eq!(ran.code, 0, "{ran}");
    assert_eq!(in_other, Some(1));
    assert_eq!(db.tables(), ["migraph_revisions", "migraph_revisions_pending", "t_u2"], "u2 ran in the URL's database");
    assert_eq!(db.applied(), ["u1", "u2"]);
}

/// Compound statements (a procedure's `BEGIN … END` body with inner `;`)
/// are one statement of the batch; a revision with an executable comment
/// holding a `;` runs one statement at a time: alone, the server refuses
/// the `;` in it as a syntax error (in a batch it would have run the
/// hidden second INSERT and failed on `t_missing` instead).
#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn mysql_compound_statements_and_executable_comments() {
    let db = TestDb::new(Server::Mysql);
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "p1",
        "",
        "CREATE TABLE t_p1 (id INTEGER);\n\
         CREATE PROCEDURE fill_p1(n INTEGER)\nBEGIN\n  DECLARE i INTEGER DEFAULT 0;\n  WHILE i < n DO\n    \
         INSERT INTO t_p1 VALUES (i);\n    SET i = i + 1;\n  END WHILE;\nEND;\n\
         CALL fill_p1(3);",
        Some("DROP PROCEDURE fill_p1;\nDROP TABLE t_p1;"),
        "",
    );
    write_revision(
        d,
        "p2",
        "p1",
        "CREATE TABLE t_p2 (id INTEGER) /*!COMMENT 'a;b' */;\nINSERT INTO t_p2 VALUES (1) /*!; INSERT INTO t_missing VALUES (2) */;",
        Some("DROP TABLE t_p2;"),
        "",
    );
    let failed = fails(d, &db.url, &["upgrade"]);
    assert!(error_line(&failed).contains("revision p2 (rev p2) failed"), "{failed}");
    assert!(error_line(&failed).contains("statement 2 at "), "{failed}");
    assert!(error_line(&failed).contains("revisions/p2.sql:7 (`INSERT INTO t_p2"), "{failed}");
    assert!(error_line(&failed).contains("SQL syntax"), "{failed}");
    let mut conn = db.connect();
    assert_eq!(conn.int("SELECT COUNT(*) AS v FROM t_p2", &[]).expect("count"), Some(0));
    assert_eq!(conn.int("SELECT COUNT(*) AS v FROM t_p1", &[]).expect("count"), Some(3));
    assert_eq!(db.applied(), ["p1"]);
    assert_eq!(markers(&mut conn).iter().map(|m| m.0.as_str()).collect::<Vec<_>>(), ["p2"]);
}
