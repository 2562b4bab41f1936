//! The daily loop, end to end with the real binary: `redo` (and
//! `downgrade` of an edited revision with its stored down SQL), empty up
//! sections refused, the failing statement named, `--backup` on redo, and
//! `migraph database create|drop`. SQLite always; PostgreSQL and MariaDB
//! with MIGRAPH_TEST_POSTGRES_URL / MIGRAPH_TEST_MYSQL_URL.
#![cfg(feature = "sqlite")]

mod common;

use std::fs;
use std::path::Path;

use common::{fails, mg, ok, project, sqlite_url, table_revision, write_revision, AnyDb, Server};
use migraph::backend::{AnyConnection, Backend};

/// The first `error:` line of a run's stderr (a run's first line names its database).
trait ErrorLine {
    fn error_line(&self) -> &str;
}

impl ErrorLine for common::Ran {
    fn error_line(&self) -> &str {
        self.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default()
    }
}

/// Applied revision IDs, in the version table's order.
fn applied(url: &str) -> Vec<String> {
    let mut conn = AnyConnection::connect(url).expect("connect");
    let state = migraph::status::DbState::read(&mut conn, "migraph_revisions").expect("version table");
    state.rows.into_iter().map(|r| r.id).collect()
}

/// The number of rows `sql` (selecting `COUNT(*) AS v`) counts.
fn count(url: &str, sql: &str) -> i64 {
    AnyConnection::connect(url).expect("connect").int(sql, &[]).expect("query").unwrap_or(0)
}

/// Rewrites revision `id`'s file with new SQL (same header).
fn edit(dir: &Path, id: &str, parents: &str, up: &str, down: &str) {
    write_revision(dir, id, parents, up, Some(down), "");
}

/// r0 ─ a1 ─ a2, each creating table `t_<id>`.
fn chain(dir: &Path) {
    table_revision(dir, "r0", "");
    table_revision(dir, "a1", "r0");
    table_revision(dir, "a2", "a1");
}

/// The `up`/`down` lines of a run's progress on stderr, as `+id`/`-id`.
fn steps(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("up   ")
                .map(|r| format!("+{}", r.split(' ').next().unwrap_or_default()))
                .or_else(|| l.strip_prefix("down ").map(|r| format!("-{}", r.split(' ').next().unwrap_or_default())))
        })
        .collect()
}

#[test]
fn redo_reapplies_an_edited_head_with_its_stored_down_sql_and_records_the_new_checksum() {
    let dir = project();
    let d = dir.path();
    let url = sqlite_url(d);
    chain(d);
    ok(d, &url, &["upgrade"]);
    // The edit adds a column, and breaks the file's down SQL: only the
    // stored one (DROP TABLE t_a2) can unapply what was applied.
    edit(d, "a2", "a1", "CREATE TABLE t_a2 (id INTEGER PRIMARY KEY, v VARCHAR(20), w INTEGER);", "DROP TABLE nope;");
    let refused = fails(d, &url, &["upgrade"]);
    assert!(refused.error_line().contains("checksum drift"), "{refused}");

    let dry = ok(d, &url, &["redo", "--dry-run"]);
    assert_eq!(dry.stdout, "down a2 rev a2\nup   a2 rev a2\n", "{dry}");
    assert!(dry.stderr.contains("the file of a2 changed since it was applied"), "{dry}");

    let redo = ok(d, &url, &["redo"]);
    assert_eq!(steps(&redo.stderr), ["-a2", "+a2"], "{redo}");
    assert!(redo.stderr.contains("warning: the file of a2 changed"), "{redo}");
    assert!(redo.stderr.contains("redo: 1 applied, 1 unapplied"), "{redo}");
    assert_eq!(count(&url, "SELECT COUNT(*) AS v FROM pragma_table_info('t_a2') WHERE name = 'w'"), 1);
    assert_eq!(applied(&url), ["r0", "a1", "a2"]);
    // The new checksum is recorded: no drift left.
    ok(d, &url, &["check"]);
    ok(d, &url, &["upgrade"]);
}

#[test]
fn redo_of_an_inner_revision_takes_what_needs_it_along_in_reverse_then_apply_order() {
    let dir = project();
    let d = dir.path();
    let url = sqlite_url(d);
    chain(d);
    table_revision(d, "b1", "r0");
    write_revision(d, "c1", "b1", "CREATE TABLE t_c1 (x INTEGER);", Some("DROP TABLE t_c1;"), "-- depends-on: a1");
    ok(d, &url, &["--json", "upgrade", "a2", "c1"]);
    let redo = ok(d, &url, &["redo", "a1"]);
    // needs*(a1) ∩ S = a1, a2, c1 (c1 through depends-on); b1 and r0 stay.
    assert_eq!(steps(&redo.stderr), ["-c1", "-a2", "-a1", "+a1", "+a2", "+c1"], "{redo}");
    assert_eq!(count(&url, "SELECT COUNT(*) AS v FROM migraph_revisions"), 5);
    let json = ok(d, &url, &["--json", "redo", "b1", "--dry-run"]);
    let plan: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    let ids: Vec<String> = plan
        .as_array()
        .expect("array")
        .iter()
        .map(|s| format!("{}{}", if s["direction"] == "up" { "+" } else { "-" }, s["id"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(ids, ["-c1", "-b1", "+b1", "+c1"]);
}

#[test]
fn redo_refuses_what_it_cannot_do_before_any_change() {
    let dir = project();
    let d = dir.path();
    let url = sqlite_url(d);
    table_revision(d, "r0", "");
    table_revision(d, "a1", "r0");
    table_revision(d, "b1", "r0");
    // Nothing applied: no database file is created either.
    let nothing = fails(d, &url, &["redo"]);
    assert!(nothing.error_line().contains("nothing to redo"), "{nothing}");
    assert!(!d.join("app.db").exists());
    ok(d, &url, &["upgrade"]);
    let heads = fails(d, &url, &["redo"]);
    assert!(heads.error_line().contains("several applied heads (a1, b1)"), "{heads}");
    // A drifted revision that the redo leaves applied is still refused.
    edit(d, "b1", "r0", "CREATE TABLE t_b1 (id INTEGER);", "DROP TABLE t_b1;");
    let drift = fails(d, &url, &["redo", "a1"]);
    assert!(drift.error_line().contains("checksum drift") && drift.error_line().contains("b1"), "{drift}");
    assert_eq!(applied(&url), ["r0", "a1", "b1"]);
    table_revision(d, "b1", "r0");
    table_revision(d, "c2", "b1");
    let not_applied = fails(d, &url, &["redo", "c2"]);
    assert!(not_applied.error_line().contains("c2 is not applied"), "{not_applied}");
}

#[test]
fn redo_backup_copies_the_database_before_the_first_change() {
    let dir = project();
    let d = dir.path();
    let url = sqlite_url(d);
    chain(d);
    ok(d, &url, &["upgrade"]);
    let redo = ok(d, &url, &["redo", "--backup"]);
    let path = redo.stdout.trim();
    assert!(path.ends_with(".backup") && Path::new(path).is_file(), "{redo}");
    assert!(redo.stderr.contains("backup: "), "{redo}");
    let copy = format!("sqlite://{path}");
    assert_eq!(applied(&copy), ["r0", "a1", "a2"]);
    assert_eq!(applied(&url), ["r0", "a1", "a2"]);
}

#[test]
fn downgrade_of_a_drifted_revision_uses_its_stored_down_sql_with_a_warning() {
    let dir = project();
    let d = dir.path();
    let url = sqlite_url(d);
    chain(d);
    ok(d, &url, &["upgrade"]);
    edit(d, "a2", "a1", "CREATE TABLE t_a2 (id INTEGER, extra INTEGER);", "DROP TABLE nope;");
    let down = ok(d, &url, &["downgrade", "a1"]);
    assert!(down.stderr.contains("warning: the file of a2 changed since it was applied"), "{down}");
    assert_eq!(count(&url, "SELECT COUNT(*) AS v FROM sqlite_master WHERE name = 't_a2'"), 0);
    assert_eq!(applied(&url), ["r0", "a1"]);
    // Upgrading the edited file is not drift any more: it is pending.
    ok(d, &url, &["upgrade"]);
    assert_eq!(count(&url, "SELECT COUNT(*) AS v FROM pragma_table_info('t_a2') WHERE name = 'extra'"), 1);
    // Drift of a revision the downgrade keeps is still refused.
    edit(d, "r0", "", "CREATE TABLE t_r0 (id INTEGER);", "DROP TABLE t_r0;");
    let kept = fails(d, &url, &["downgrade", "a1"]);
    assert!(kept.error_line().contains("checksum drift") && kept.error_line().contains("r0"), "{kept}");
    assert_eq!(applied(&url), ["r0", "a1", "a2"]);
}

#[test]
fn an_unedited_template_is_refused_until_filled_in_or_marked_empty() {
    let dir = project();
    let d = dir.path();
    let url = sqlite_url(d);
    ok(d, &url, &["init"]);
    ok(d, &url, &["revision", "-m", "users", "--id", "u1"]);
    let file = fs::read_dir(d.join("revisions")).expect("dir").next().expect("file").expect("entry").path();
    let text = fs::read_to_string(&file).expect("read");
    let marker = 1 + text.lines().position(|l| l == "-- migrate:up").expect("up marker");
    let name = format!("revisions/{}", file.file_name().expect("name").to_string_lossy());

    let refused = fails(d, &url, &["upgrade"]);
    assert!(
        refused.error_line().contains(&format!("{name}:{marker}: revision u1 has no statement in its up section")),
        "{refused}"
    );
    assert!(refused.stderr.contains("-- migraph:empty"), "{refused}");
    assert!(!d.join("app.db").exists(), "nothing was created");
    let check = fails(d, &url, &["check"]);
    assert!(check.stderr.contains(&format!("{name}:{marker}: revision u1 has no statement")), "{check}");

    // Comments only is still empty.
    fs::write(&file, text.replace("-- migrate:up\n", "-- migrate:up\n-- TODO: users\n")).expect("write");
    fails(d, &url, &["upgrade"]);
    // Said to be empty on purpose: it runs (nothing) and is recorded.
    fs::write(&file, text.replace("-- migrate:up\n", "-- migrate:up\n-- migraph:empty\n")).expect("write");
    ok(d, &url, &["check"]);
    ok(d, &url, &["upgrade"]);
    assert_eq!(applied(&url), ["u1"]);
    // Merge revisions join lines and may be empty.
    write_revision(d, "b1", "u1", "CREATE TABLE t_b1 (x INTEGER);", Some("DROP TABLE t_b1;"), "");
    write_revision(d, "c1", "u1", "CREATE TABLE t_c1 (x INTEGER);", Some("DROP TABLE t_c1;"), "");
    write_revision(d, "m1", "b1 c1", "", Some(""), "");
    ok(d, &url, &["upgrade"]);
    assert_eq!(applied(&url).len(), 4);
}

/// A revision whose second statement fails, on `url`: the error names the
/// statement's number, its line in the file and its first line, and a
/// multi-line database message stays under one `error:` line.
fn failing_statement_is_named(url: &str) {
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "f1",
        "",
        "CREATE TABLE t_f1 (id INTEGER);\n\nINSERT INTO t_missing\n  VALUES (1);\nINSERT INTO t_f1 VALUES (2);",
        Some("DROP TABLE t_f1;"),
        "",
    );
    let failed = fails(d, url, &["upgrade"]);
    let first = failed.error_line();
    assert!(
        first.starts_with("error: revision f1 (rev f1) failed while going up: up SQL, statement 2 at "),
        "{failed}"
    );
    assert!(first.contains("revisions/f1.sql:8 (`INSERT INTO t_missing`)"), "{failed}");
    assert!(first.contains("t_missing"), "{failed}");
    let errors = failed.stderr.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(errors, 1, "{failed}");
    for line in
        failed.stderr.lines().skip_while(|l| !l.starts_with("error:")).skip(1).filter(|l| !l.starts_with("hint:"))
    {
        assert!(line.starts_with("       "), "continuation lines are indented: {failed}");
    }
    // The revision left no trace where the backend has transactional DDL.
    assert!(applied(url).is_empty());
}

#[test]
fn the_failing_statement_is_named_on_sqlite() {
    let dir = project();
    failing_statement_is_named(&sqlite_url(dir.path()));
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn the_failing_statement_is_named_on_postgres() {
    let db = AnyDb::new(Some(Server::Postgres));
    failing_statement_is_named(&db.url);
    // A database message of several lines stays under one `error:` line.
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "s1",
        "",
        "CREATE TABLE t_s1 (id INTEGER);\nDO $$ BEGIN RAISE EXCEPTION E'first line\\nsecond line'; END $$;",
        None,
        "",
    );
    let failed = fails(d, &db.url, &["upgrade"]);
    assert!(failed.error_line().contains("statement 2 at "), "{failed}");
    assert!(failed.error_line().ends_with("first line"), "{failed}");
    assert!(failed.stderr.lines().any(|l| l == "       second line"), "{failed}");
    assert_eq!(failed.stderr.lines().filter(|l| l.starts_with("error:")).count(), 1, "{failed}");
}

#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn the_failing_statement_is_named_on_mysql() {
    let db = AnyDb::new(Some(Server::Mysql));
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "f1",
        "",
        "CREATE TABLE t_f1 (id INTEGER);\n\nINSERT INTO t_missing\n  VALUES (1);",
        Some("DROP TABLE t_f1;"),
        "",
    );
    let failed = fails(d, &db.url, &["upgrade"]);
    assert!(failed.error_line().contains("statement 2 at "), "{failed}");
    assert!(failed.error_line().contains("revisions/f1.sql:8 (`INSERT INTO t_missing`)"), "{failed}");
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn redo_on_postgres_with_an_edited_revision() {
    let db = AnyDb::new(Some(Server::Postgres));
    let dir = project();
    let d = dir.path();
    chain(d);
    ok(d, &db.url, &["upgrade"]);
    edit(d, "a2", "a1", "CREATE TABLE t_a2 (id INTEGER, w INTEGER);", "DROP TABLE nope;");
    ok(d, &db.url, &["redo"]);
    let sql = "SELECT COUNT(*) AS v FROM information_schema.columns WHERE table_name = 't_a2' AND column_name = 'w'";
    assert_eq!(count(&db.url, sql), 1);
    ok(d, &db.url, &["check"]);
}

#[test]
fn database_create_and_drop_on_sqlite() {
    let dir = project();
    let d = dir.path();
    let url = sqlite_url(d);
    let file = d.join("app.db");
    let created = ok(d, &url, &["database", "create"]);
    assert!(created.stderr.contains("created database file"), "{created}");
    assert!(file.is_file());
    let again = ok(d, &url, &["database", "create"]);
    assert!(again.stderr.contains("already exists"), "{again}");
    // Not a terminal, no --yes: refused, and the file stays.
    let refused = mg(d, &url, &["database", "drop"]);
    assert_eq!(refused.code, 2, "{refused}");
    assert!(refused.error_line().contains("without --yes"), "{refused}");
    assert!(file.is_file());
    let dropped = ok(d, &url, &["database", "drop", "--yes"]);
    assert!(dropped.stderr.contains("dropped database file"), "{dropped}");
    assert!(!file.exists());
    let memory = fails(d, "sqlite::memory:", &["database", "create"]);
    assert!(memory.error_line().contains("in-memory"), "{memory}");
}

/// `database create`, a run, and `database drop --yes` on a server, with a
/// name no other test uses; the "does not exist" error hints at create.
fn database_create_and_drop_on(admin_var: &str, exists_sql: &str) {
    let admin = std::env::var(admin_var).expect("server URL");
    let name = format!("migraph_daily_{}_{}", std::process::id(), admin_var.len());
    let url = common::with_database(&admin, &name);
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    let count_named = || {
        let mut conn = AnyConnection::connect(&admin).expect("admin");
        conn.int(exists_sql, &[migraph::backend::Arg::Text(name.clone())]).expect("query").unwrap_or(0)
    };
    let missing = fails(d, &url, &["status"]);
    assert!(missing.stderr.contains("hint: create it with `migraph database create`"), "{missing}");
    let created = ok(d, &url, &["database", "create"]);
    assert!(created.stderr.contains("created") && created.stderr.contains(&name), "{created}");
    assert_eq!(count_named(), 1);
    ok(d, &url, &["upgrade"]);
    let again = ok(d, &url, &["database", "create"]);
    assert!(again.stderr.contains("already exists"), "{again}");
    assert_eq!(mg(d, &url, &["database", "drop"]).code, 2);
    assert_eq!(count_named(), 1);
    ok(d, &url, &["database", "drop", "--yes"]);
    assert_eq!(count_named(), 0);
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn database_create_and_drop_on_postgres() {
    database_create_and_drop_on(
        "MIGRAPH_TEST_POSTGRES_URL",
        "SELECT COUNT(*) AS v FROM pg_database WHERE datname = $1",
    );
}

#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn database_create_and_drop_on_mysql() {
    database_create_and_drop_on(
        "MIGRAPH_TEST_MYSQL_URL",
        "SELECT COUNT(*) AS v FROM information_schema.schemata WHERE schema_name = ?",
    );
}

/// PostgreSQL sends each revision as one batch: a failure that only shows
/// at COMMIT (a deferred constraint) is still reported, nothing is
/// recorded, and the revisions before it keep their rows with the time the
/// server measured.
#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn a_failure_at_commit_is_reported_on_postgres() {
    let db = AnyDb::new(Some(Server::Postgres));
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "p1",
        "",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\nSELECT pg_sleep(0.02);",
        Some("DROP TABLE parent;"),
        "",
    );
    write_revision(
        d,
        "p2",
        "p1",
        "CREATE TABLE child (id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);\n\
         INSERT INTO child VALUES (7);",
        Some("DROP TABLE child;"),
        "",
    );
    let failed = fails(d, &db.url, &["upgrade"]);
    assert!(failed.error_line().starts_with("error: revision p2 (rev p2) failed while going up: "), "{failed}");
    assert!(failed.stderr.contains("child"), "{failed}");
    assert_eq!(applied(&db.url), vec!["p1".to_string()]);
    let json: serde_json::Value = serde_json::from_str(&ok(d, &db.url, &["status", "--json"]).stdout).unwrap();
    let ms = json["rows"][0]["execution_ms"].as_i64().unwrap();
    assert!((20..60_000).contains(&ms), "the server measured p1's pg_sleep(0.02): {ms} ms");
}
