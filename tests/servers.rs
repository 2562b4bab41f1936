//! Live-server tests: the runner against real PostgreSQL and MySQL/MariaDB
//! servers. Every scenario is a function taking a [`Server`]; thin wrappers
//! run it on each server and are ignored (with the reason) unless the build
//! has the backend's feature and its `MIGRAPH_TEST_*_URL` variable.
//!
//! Every test checks what the database really holds (rows of the version
//! table, the marker table, the tables present), not only exit codes.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    database_name, diamond, mg, migraph_process, project, sample_revisions, table_revision, write_revision, Ran,
    Server, TestDb,
};
use migraph::backend::{Arg, Backend, Dialect, VersionRow};
use migraph::runner::{self, RunError, RunOptions};
use migraph::Verb;
use serde_json::Value;

/// A test per server for `$scenario`, named `$pg` and `$my`.
macro_rules! on_both_servers {
    ($scenario:ident, $pg:ident, $my:ident) => {
        common::backend_tests! {
            postgres $pg => $scenario(Server::Postgres),
            mysql $my => $scenario(Server::Mysql),
        }
    };
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const TABLE: &str = "migraph_revisions";

impl Ran {
    /// The error's first line: the first `error:` line on stderr (progress
    /// lines may come before it), which only `hint:` lines may follow.
    fn first_error_line(&self) -> &str {
        let mut lines = self.stderr.lines().skip_while(|l| !l.starts_with("error:"));
        let first = lines.next().unwrap_or_else(|| panic!("no `error:` line on stderr:\n{self}"));
        for line in lines {
            // A database's multi-line message continues indented under its `error:` line.
            assert!(
                line.starts_with("error:") || line.starts_with("hint:") || line.starts_with("       "),
                "stray line after the error:\n{self}"
            );
        }
        first
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{self}"))
    }
}

fn dialect(server: Server) -> Dialect {
    match server {
        Server::Postgres => Dialect::Postgres,
        Server::Mysql => Dialect::Mysql,
    }
}

/// Whether table `name` exists.
fn has_table(db: &TestDb, name: &str) -> bool {
    db.tables().iter().any(|t| t == name)
}

/// The version rows in the order they were applied (empty when the table
/// does not exist yet).
fn rows(db: &TestDb, server: Server) -> Vec<VersionRow> {
    if !has_table(db, TABLE) {
        return Vec::new();
    }
    db.connect().version_rows(&dialect(server).select_rows(TABLE)).expect("read version rows")
}

/// The IDs in the version table, sorted (empty when it does not exist).
fn ids(db: &TestDb) -> Vec<String> {
    if has_table(db, TABLE) {
        db.applied()
    } else {
        Vec::new()
    }
}

/// Rows of the marker table (0 when it does not exist).
fn markers(db: &TestDb) -> i64 {
    if !has_table(db, "migraph_revisions_pending") {
        return 0;
    }
    db.connect().int("SELECT COUNT(*) AS v FROM migraph_revisions_pending", &[]).expect("count markers").unwrap_or(0)
}

/// Tables that are not migraph's own, sorted.
fn user_tables(db: &TestDb) -> Vec<String> {
    db.tables().into_iter().filter(|t| !t.starts_with("migraph_")).collect()
}

/// `["t_a", "t_b"]` for `["a", "b"]`.
fn tables_of(ids: &[&str]) -> Vec<String> {
    let mut tables: Vec<String> = ids.iter().map(|id| format!("t_{id}")).collect();
    tables.sort();
    tables
}

fn strings(ids: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// A plan as `(direction, id)` pairs.
type Steps = Vec<(String, String)>;

/// The plan `--dry-run --json` prints for `args`.
fn dry_run(dir: &Path, url: &str, args: &[&str]) -> Steps {
    let mut all = args.to_vec();
    all.extend(["--dry-run", "--json"]);
    let ran = mg(dir, url, &all).ok();
    ran.json()
        .as_array()
        .unwrap_or_else(|| panic!("a plan is an array:\n{ran}"))
        .iter()
        .map(|s| (s["direction"].as_str().expect("direction").to_string(), s["id"].as_str().expect("id").to_string()))
        .collect()
}

/// The steps a real run reported on stderr (`  up   id message (N ms)`), in order.
fn executed(stderr: &str) -> Steps {
    stderr
        .lines()
        .filter(|l| l.starts_with("  up ") || l.starts_with("  down "))
        .map(|l| {
            let mut words = l.split_whitespace();
            (words.next().expect("direction").to_string(), words.next().expect("id").to_string())
        })
        .collect()
}

fn steps(list: &[(&str, &str)]) -> Steps {
    list.iter().map(|(d, id)| (d.to_string(), id.to_string())).collect()
}

/// Runs `args` for real after checking `--dry-run --json` predicts exactly
/// the steps the run executes; returns the run.
fn run_as_planned(dir: &Path, url: &str, args: &[&str], expected: &[(&str, &str)]) -> Ran {
    let planned = dry_run(dir, url, args);
    assert_eq!(planned, steps(expected), "dry-run plan of {args:?}");
    let ran = mg(dir, url, args).ok();
    assert_eq!(executed(&ran.stderr), planned, "the run of {args:?} executed something else than its dry run:\n{ran}");
    ran
}

/// IDs of the objects in a JSON array.
fn json_ids(value: &Value) -> Vec<String> {
    let mut ids: Vec<String> = value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array: {value}"))
        .iter()
        .map(|v| v.as_str().map_or_else(|| v["id"].as_str().expect("id").to_string(), str::to_string))
        .collect();
    ids.sort();
    ids
}

/// The first word of every stdout line, sorted.
fn first_words(stdout: &str) -> Vec<String> {
    let mut words: Vec<String> =
        stdout.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
    words.sort();
    words
}

/// The PostgreSQL advisory-lock key migraph uses for the default table.
fn pg_lock_key() -> i64 {
    match Dialect::Postgres.lock_arg(TABLE) {
        Arg::Int(key) => key,
        other => panic!("unexpected PostgreSQL lock argument {other:?}"),
    }
}

const MYSQL_LOCK_NAME: &str = "CONCAT('migraph_', SHA1(CONCAT(DATABASE(), '.', 'migraph_revisions')))";

/// Takes migraph's run lock on `conn` without waiting: whether it was free.
fn try_take_lock(conn: &mut dyn Backend, server: Server) -> bool {
    let sql = match server {
        Server::Postgres => {
            format!("SELECT CASE WHEN pg_try_advisory_lock({}) THEN 1 ELSE 0 END::BIGINT AS v", pg_lock_key())
        }
        Server::Mysql => format!("SELECT CAST(GET_LOCK({MYSQL_LOCK_NAME}, 0) AS SIGNED) AS v"),
    };
    conn.int(&sql, &[]).expect("take the lock") == Some(1)
}

/// Takes migraph's run lock on `conn` (it must be free).
fn hold_lock(conn: &mut dyn Backend, server: Server) {
    match server {
        Server::Postgres => conn.batch(&format!("SELECT pg_advisory_lock({})", pg_lock_key())).expect("lock"),
        Server::Mysql => assert!(try_take_lock(conn, server), "the lock is free"),
    }
}

fn release_lock(conn: &mut dyn Backend, server: Server) {
    let sql = match server {
        Server::Postgres => {
            format!("SELECT CASE WHEN pg_advisory_unlock({}) THEN 1 ELSE 0 END::BIGINT AS v", pg_lock_key())
        }
        Server::Mysql => format!("SELECT CAST(RELEASE_LOCK({MYSQL_LOCK_NAME}) AS SIGNED) AS v"),
    };
    assert_eq!(conn.int(&sql, &[]).expect("release the lock"), Some(1), "the lock was held");
}

/// r0 ─ r1 ─ r2 ─ r3 where r2's up section fails at its second statement.
fn broken_history(dir: &Path) {
    table_revision(dir, "r0", "");
    table_revision(dir, "r1", "r0");
    write_revision(
        dir,
        "r2",
        "r1",
        "CREATE TABLE t_x (id INTEGER); CREATE TABLE broken (;",
        Some("DROP TABLE t_x;"),
        "",
    );
    table_revision(dir, "r3", "r2");
}

fn fix_r2(dir: &Path) {
    write_revision(dir, "r2", "r1", "CREATE TABLE t_x (id INTEGER);", Some("DROP TABLE t_x;"), "");
}

// ---------------------------------------------------------------------------
// 1. The diamond: upgrade, downgrade across the merge, migrate, stamp,
//    current and status, dry runs
// ---------------------------------------------------------------------------

fn diamond_lifecycle(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    diamond(d);
    let url = db.url.as_str();
    let all = ["r0", "a1", "a2", "b1", "m3", "t4"];

    // Nothing applied yet: status, current and a dry run say so, and create nothing.
    assert_eq!(dry_run(d, url, &["upgrade", "heads"]).len(), 6);
    let status = mg(d, url, &["status", "--json"]).ok().json();
    assert_eq!(json_ids(&status["applied"]), Vec::<String>::new());
    assert_eq!(json_ids(&status["pending"]), strings(&all));
    assert!(mg(d, url, &["current"]).ok().stdout.is_empty());
    assert_eq!(db.tables(), Vec::<String>::new(), "read-only commands create nothing");

    // upgrade heads: the plan is a topological order, smallest ID first.
    run_as_planned(
        d,
        url,
        &["upgrade", "heads"],
        &[("up", "r0"), ("up", "a1"), ("up", "a2"), ("up", "b1"), ("up", "m3"), ("up", "t4")],
    );
    assert_eq!(db.applied(), strings(&all));
    assert_eq!(user_tables(&db), tables_of(&all));
    let applied = rows(&db, server);
    assert_eq!(
        applied.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["r0", "a1", "a2", "b1", "m3", "t4"],
        "applied_at follows the execution order"
    );
    let m3 = applied.iter().find(|r| r.id == "m3").expect("m3 row");
    assert_eq!(m3.parents, "a2 b1");
    assert_eq!(m3.message, "rev m3");
    assert_eq!(m3.down_sql.as_deref().map(str::trim), Some("DROP TABLE t_m3;"));
    let shown = mg(d, url, &["show", "m3", "--json"]).ok().json();
    assert_eq!(m3.checksum, shown["checksum"].as_str().expect("checksum"));
    for row in &applied {
        let t = row.applied_at.as_bytes();
        assert!(
            t.len() == 27 && t[4] == b'-' && t[10] == b'T' && t[19] == b'.' && t[26] == b'Z',
            "applied_at is RFC 3339 UTC with microseconds: {}",
            row.applied_at
        );
        assert!(row.execution_ms >= 0);
    }
    assert_eq!(markers(&db), 0);

    // Up to date: nothing to do, nothing changes.
    assert_eq!(dry_run(d, url, &["upgrade", "heads"]), Steps::new());
    let again = mg(d, url, &["upgrade", "heads"]).ok();
    assert!(again.stderr.contains("nothing to do"), "{again}");
    assert_eq!(rows(&db, server), applied);

    let current = mg(d, url, &["current"]).ok();
    assert_eq!(current.stdout, "t4 (head) rev t4\n");
    assert_eq!(json_ids(&mg(d, url, &["current", "--json"]).ok().json()), ["t4"]);
    let status = mg(d, url, &["status"]).ok();
    assert!(status.stdout.contains("applied:  6 of 6 revision(s)"), "{status}");
    assert!(status.stdout.contains("head:     t4 (head) rev t4"), "{status}");
    assert!(status.stdout.contains("pending:  none"), "{status}");
    assert!(!status.stdout.contains("FAILED"), "{status}");
    let status = mg(d, url, &["status", "--json"]).ok().json();
    assert_eq!(json_ids(&status["applied"]), strings(&all));
    assert_eq!(json_ids(&status["heads"]), ["t4"]);
    assert_eq!(json_ids(&status["pending"]), Vec::<String>::new());
    assert_eq!(status["failed"], Value::Array(vec![]));
    assert_eq!(status["drift"], Value::Array(vec![]));
    assert_eq!(status["table"], TABLE);
    assert_eq!(status["database"], url);

    // downgrade beta: unapplies what descends from b1 (t4, then the merge m3); b1 stays.
    run_as_planned(d, url, &["downgrade", "beta"], &[("down", "t4"), ("down", "m3")]);
    assert_eq!(db.applied(), strings(&["r0", "a1", "a2", "b1"]));
    assert_eq!(user_tables(&db), tables_of(&["r0", "a1", "a2", "b1"]));
    assert_eq!(first_words(&mg(d, url, &["current"]).ok().stdout), ["a2", "b1"]);
    assert_eq!(json_ids(&mg(d, url, &["current", "--json"]).ok().json()), ["a2", "b1"]);
    let status = mg(d, url, &["status"]).ok();
    assert!(status.stdout.contains("applied:  4 of 6 revision(s)"), "{status}");
    assert!(status.stdout.contains("pending:  2 revision(s)"), "{status}");
    assert!(status.stdout.contains("  m3 (mergepoint) rev m3\n  t4 (head) rev t4\n"), "{status}");
    let status = mg(d, url, &["status", "--json"]).ok().json();
    assert_eq!(json_ids(&status["heads"]), ["a2", "b1"]);
    assert_eq!(json_ids(&status["pending"]), ["m3", "t4"]);

    // A target that is not applied cannot be downgraded to; nothing changes.
    let refused = mg(d, url, &["downgrade", "m3"]).failed();
    assert!(refused.stderr.contains("migrate"), "the error suggests `migrate`:\n{refused}");
    assert_eq!(db.applied(), strings(&["r0", "a1", "a2", "b1"]));

    // migrate between branches: onto alpha only, then over to beta.
    run_as_planned(d, url, &["migrate", "a2"], &[("down", "b1")]);
    assert_eq!(db.applied(), strings(&["r0", "a1", "a2"]));
    assert_eq!(user_tables(&db), tables_of(&["r0", "a1", "a2"]));
    run_as_planned(d, url, &["migrate", "beta"], &[("down", "a2"), ("down", "a1"), ("up", "b1")]);
    assert_eq!(db.applied(), strings(&["r0", "b1"]));
    assert_eq!(user_tables(&db), tables_of(&["r0", "b1"]));
    assert_eq!(mg(d, url, &["current"]).ok().stdout, "b1 (beta) rev b1\n");

    // stamp: rows change, no SQL runs (the tables stay as they were).
    let planned = dry_run(d, url, &["stamp", "t4"]);
    let mut stamped: Vec<String> = planned.iter().map(|(_, id)| id.clone()).collect();
    stamped.sort();
    assert_eq!(stamped, strings(&["a1", "a2", "m3", "t4"]), "{planned:?}");
    assert!(planned.iter().all(|(direction, _)| direction == "up"), "{planned:?}");
    assert_eq!(db.applied(), strings(&["r0", "b1"]), "stamp --dry-run changes nothing");
    mg(d, url, &["stamp", "t4"]).ok();
    assert_eq!(db.applied(), strings(&all));
    assert_eq!(user_tables(&db), tables_of(&["r0", "b1"]), "stamp must not run SQL");
    let stamped_rows = rows(&db, server);
    let t4 = stamped_rows.iter().find(|r| r.id == "t4").expect("t4 row");
    assert_eq!(t4.parents, "m3");
    assert_eq!(t4.execution_ms, 0);
    mg(d, url, &["stamp", "base"]).ok();
    assert_eq!(db.applied(), Vec::<String>::new());
    assert_eq!(user_tables(&db), tables_of(&["r0", "b1"]));
    mg(d, url, &["stamp", "b1"]).ok();
    assert_eq!(db.applied(), strings(&["r0", "b1"]));

    // The truth restored, the rest applies; then everything comes down.
    run_as_planned(d, url, &["upgrade", "heads"], &[("up", "a1"), ("up", "a2"), ("up", "m3"), ("up", "t4")]);
    assert_eq!(db.applied(), strings(&all));
    assert_eq!(user_tables(&db), tables_of(&all));
    run_as_planned(
        d,
        url,
        &["downgrade", "base"],
        &[("down", "t4"), ("down", "m3"), ("down", "b1"), ("down", "a2"), ("down", "a1"), ("down", "r0")],
    );
    assert_eq!(db.applied(), Vec::<String>::new());
    assert_eq!(user_tables(&db), Vec::<String>::new());
    assert_eq!(markers(&db), 0);
}

on_both_servers!(diamond_lifecycle, postgres_diamond_lifecycle, mysql_diamond_lifecycle);

// ---------------------------------------------------------------------------
// 2. A revision that fails in the middle of a plan
// ---------------------------------------------------------------------------

fn failure_mid_plan(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    broken_history(d);

    let failed = mg(d, url, &["upgrade", "heads"]).failed();
    let first = failed.first_error_line();
    assert!(first.starts_with("error: revision r2"), "first stderr line names the revision:\n{failed}");
    assert!(first.to_lowercase().contains("syntax"), "first stderr line carries the database error:\n{failed}");
    assert_eq!(executed(&failed.stderr), steps(&[("up", "r0"), ("up", "r1")]), "{failed}");
    assert_eq!(db.applied(), strings(&["r0", "r1"]), "the revisions before the failing one stay applied");
    assert!(!has_table(&db, "t_r3"), "nothing after the failing revision ran");
    assert!(!has_table(&db, "broken"));
    // With -q there is no progress: the error is literally the first line.
    let quiet = mg(d, url, &["-q", "upgrade", "heads"]).failed();
    assert!(quiet.stderr.starts_with("error: revision r2"), "{quiet}");
    assert_eq!(db.applied(), strings(&["r0", "r1"]));

    match server {
        Server::Postgres => {
            assert!(!has_table(&db, "t_x"), "the failing revision was rolled back: {:?}", db.tables());
            assert_eq!(markers(&db), 0, "a transactional revision leaves no marker");
            assert!(failed.stderr.contains("hint:"), "{failed}");
            let status = mg(d, url, &["status"]).ok();
            assert!(!status.stdout.contains("FAILED"), "{status}");
            assert!(status.stdout.contains("pending:  2 revision(s)"), "{status}");

            fix_r2(d);
            run_as_planned(d, url, &["upgrade", "heads"], &[("up", "r2"), ("up", "r3")]);
        }
        Server::Mysql => {
            assert!(has_table(&db, "t_x"), "MySQL committed r2's first statement: {:?}", db.tables());
            assert_eq!(markers(&db), 1, "the failing revision leaves its marker");

            let status = mg(d, url, &["status"]).ok();
            let line = status.stdout.lines().find(|l| l.starts_with("FAILED")).unwrap_or_else(|| panic!("{status}"));
            assert!(line.contains("r2"), "{status}");
            let json = mg(d, url, &["status", "--json"]).ok().json();
            let failed_list = json["failed"].as_array().expect("failed is an array");
            assert_eq!(failed_list.len(), 1, "{json}");
            assert_eq!(failed_list[0]["id"], "r2");
            assert_eq!(failed_list[0]["direction"], "up");
            assert!(
                failed_list[0]["error"].as_str().is_some_and(|e| e.to_lowercase().contains("syntax")),
                "the marker keeps the error: {json}"
            );
            assert_eq!(json_ids(&json["applied"]), ["r0", "r1"]);

            let current = mg(d, url, &["current"]).ok();
            assert!(current.stderr.contains("warning: revision r2"), "current warns:\n{current}");
            assert_eq!(first_words(&current.stdout), ["r1"]);

            // The next run refuses before touching anything, and says how to recover.
            for args in [&["upgrade", "heads"][..], &["upgrade", "heads", "--dry-run"], &["downgrade", "base"]] {
                let refused = mg(d, url, args).failed();
                assert!(refused.first_error_line().starts_with("error: "), "{refused}");
                assert!(refused.first_error_line().contains("r2"), "{args:?}:\n{refused}");
                assert!(
                    refused.stderr.lines().any(|l| l.starts_with("hint:") && l.contains("migraph stamp")),
                    "{args:?}: a hint names `migraph stamp`:\n{refused}"
                );
            }
            assert_eq!(db.applied(), strings(&["r0", "r1"]));
            assert!(has_table(&db, "t_r0") && has_table(&db, "t_r1") && has_table(&db, "t_x"));
            assert!(!has_table(&db, "t_r3"));
            assert_eq!(markers(&db), 1);

            // The documented recovery: undo by hand, fix the file, stamp the truth, go on.
            db.connect().batch("DROP TABLE t_x").expect("drop t_x");
            fix_r2(d);
            let stamped = mg(d, url, &["stamp", "r1"]).ok();
            assert_eq!(markers(&db), 0, "stamp clears the marker:\n{stamped}");
            assert_eq!(db.applied(), strings(&["r0", "r1"]));
            let status = mg(d, url, &["status"]).ok();
            assert!(!status.stdout.contains("FAILED"), "{status}");
            run_as_planned(d, url, &["upgrade", "heads"], &[("up", "r2"), ("up", "r3")]);
        }
    }
    assert_eq!(db.applied(), strings(&["r0", "r1", "r2", "r3"]));
    assert_eq!(user_tables(&db), tables_of(&["r0", "r1", "r3", "x"]));
    assert_eq!(markers(&db), 0);
}

on_both_servers!(failure_mid_plan, postgres_failure_mid_plan, mysql_failure_mid_plan);

// ---------------------------------------------------------------------------
// 3. Concurrency: six processes, each revision applied exactly once; the
//    lock is released after a failing run
// ---------------------------------------------------------------------------

/// r00, then two branches a01..a28 and b01..b28, a merge m29, then z30, z31:
/// 60 revisions, each a non-idempotent `CREATE TABLE t_<id>`.
fn two_branch_history(dir: &Path) -> Vec<String> {
    let mut all = vec!["r00".to_string()];
    table_revision(dir, "r00", "");
    for branch in ["a", "b"] {
        for i in 1..=28 {
            let id = format!("{branch}{i:02}");
            let parent = if i == 1 { "r00".to_string() } else { format!("{branch}{:02}", i - 1) };
            table_revision(dir, &id, &parent);
            all.push(id);
        }
    }
    table_revision(dir, "m29", "a28 b28");
    table_revision(dir, "z30", "m29");
    table_revision(dir, "z31", "z30");
    all.extend(["m29".to_string(), "z30".to_string(), "z31".to_string()]);
    all.sort();
    all
}

/// Starts `count` migraph processes with `args` at once, then waits for all.
fn concurrently(d: &Path, url: &str, count: usize, args: &[&str]) -> Vec<Ran> {
    let children: Vec<_> = (0..count)
        .map(|_| {
            migraph_process(d, url)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn migraph")
        })
        .collect();
    children.into_iter().map(|c| Ran::from(c.wait_with_output().expect("wait"))).collect()
}

fn concurrent_upgrades(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let all = two_branch_history(d);
    assert_eq!(all.len(), 60);

    let runs = concurrently(d, &db.url, 6, &["upgrade", "heads"]);

    let mut applied_by_processes = 0;
    for ran in &runs {
        assert_eq!(ran.code, 0, "every concurrent run succeeds:\n{ran}");
        applied_by_processes += executed(&ran.stderr).len();
    }
    assert_eq!(applied_by_processes, 60, "each revision ran exactly once across the processes: {runs:#?}");
    let rows = rows(&db, server);
    assert_eq!(rows.len(), 60, "exactly one row per revision");
    let mut applied_ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    applied_ids.sort();
    assert_eq!(applied_ids, all);
    let expected: Vec<String> = all.iter().map(|id| format!("t_{id}")).collect();
    assert_eq!(user_tables(&db), expected);
    assert_eq!(markers(&db), 0);

    // And down again, four at once: each revision unapplied exactly once.
    let runs = concurrently(d, &db.url, 4, &["downgrade", "base"]);
    let mut unapplied = 0;
    for ran in &runs {
        assert_eq!(ran.code, 0, "every concurrent downgrade succeeds:\n{ran}");
        unapplied += executed(&ran.stderr).len();
    }
    assert_eq!(unapplied, 60, "{runs:#?}");
    assert_eq!(ids(&db), Vec::<String>::new());
    assert_eq!(user_tables(&db), Vec::<String>::new());
}

on_both_servers!(concurrent_upgrades, postgres_concurrent_upgrades, mysql_concurrent_upgrades);

fn lock_released_after_failed_run(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    broken_history(d);

    mg(d, url, &["--lock-timeout", "5", "upgrade", "heads"]).failed();
    assert_eq!(db.applied(), strings(&["r0", "r1"]));

    let started = Instant::now();
    match server {
        Server::Postgres => {
            fix_r2(d);
            let ran = mg(d, url, &["--lock-timeout", "5", "upgrade", "heads"]).ok();
            assert!(!ran.stderr.contains("waiting"), "{ran}");
        }
        Server::Mysql => {
            // The next run takes the lock at once and stops at the marker, not at the lock.
            let refused = mg(d, url, &["--lock-timeout", "5", "upgrade", "heads"]).failed();
            assert!(refused.first_error_line().contains("r2"), "{refused}");
            assert!(!refused.stderr.contains("lock"), "{refused}");
            db.connect().batch("DROP TABLE t_x").expect("drop t_x");
            fix_r2(d);
            mg(d, url, &["--lock-timeout", "5", "stamp", "r1"]).ok();
            mg(d, url, &["--lock-timeout", "5", "upgrade", "heads"]).ok();
        }
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(4), "the lock was not released by the failed run: {elapsed:?}");
    assert_eq!(db.applied(), strings(&["r0", "r1", "r2", "r3"]));
    assert_eq!(user_tables(&db), tables_of(&["r0", "r1", "r3", "x"]));
    assert_eq!(markers(&db), 0);
}

on_both_servers!(
    lock_released_after_failed_run,
    postgres_lock_released_after_failed_run,
    mysql_lock_released_after_failed_run
);

/// The library on one long-lived connection: after a failing run the lock
/// is free for others while the connection stays open.
fn lock_released_in_process(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    broken_history(d);
    let graph = migraph::load(&d.join("revisions")).expect("load");
    let mut options = RunOptions::default();
    options.lock_timeout = Duration::from_secs(2);
    let mut conn = db.connect();
    let err = runner::run(&mut conn, &graph, Verb::Upgrade, &["heads"], &options, &mut |_| {}).unwrap_err();
    assert!(matches!(&err, RunError::Revision { id, done: 2, .. } if id == "r2"), "{err:?}");
    assert_eq!(db.applied(), strings(&["r0", "r1"]));

    let mut other = db.connect();
    assert!(try_take_lock(&mut other, server), "the failed run still holds the lock on its open connection");
    release_lock(&mut other, server);

    if server == Server::Postgres {
        // The same connection is still usable: fix the file and finish on it.
        fix_r2(d);
        let graph = migraph::load(&d.join("revisions")).expect("load");
        let report = runner::run(&mut conn, &graph, Verb::Upgrade, &["heads"], &options, &mut |_| {}).expect("rerun");
        assert_eq!(report.done.len(), 2);
        assert_eq!(db.applied(), strings(&["r0", "r1", "r2", "r3"]));
        assert!(try_take_lock(&mut other, server), "the successful run released the lock");
        release_lock(&mut other, server);
    }
}

on_both_servers!(lock_released_in_process, postgres_lock_released_in_process, mysql_lock_released_in_process);

// ---------------------------------------------------------------------------
// 4. Lock timeout
// ---------------------------------------------------------------------------

fn lock_timeout(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    diamond(d);

    let mut holder = db.connect();
    hold_lock(&mut holder, server);
    for args in [&["--lock-timeout", "1", "upgrade", "heads"][..], &["--lock-timeout", "1", "stamp", "heads"]] {
        let started = Instant::now();
        let ran = mg(d, url, args).failed();
        let elapsed = started.elapsed();
        assert!(ran.first_error_line().starts_with("error: "), "{ran}");
        assert!(ran.first_error_line().contains("lock"), "the error is about the lock:\n{ran}");
        assert!(ran.stderr.contains("--lock-timeout"), "a hint names --lock-timeout:\n{ran}");
        assert!(elapsed >= Duration::from_millis(900), "it waited for the lock: {elapsed:?}");
        assert!(elapsed < Duration::from_secs(10), "it gave up after the timeout: {elapsed:?}");
    }
    assert_eq!(ids(&db), Vec::<String>::new(), "nothing applied");
    assert_eq!(user_tables(&db), Vec::<String>::new(), "no SQL ran");

    release_lock(&mut holder, server);
    let ran = mg(d, url, &["--lock-timeout", "1", "upgrade", "heads"]).ok();
    assert_eq!(executed(&ran.stderr).len(), 6, "{ran}");
    assert_eq!(db.applied(), strings(&["r0", "a1", "a2", "b1", "m3", "t4"]));
    assert_eq!(user_tables(&db), tables_of(&["r0", "a1", "a2", "b1", "m3", "t4"]));

    // A run that waits, and gets the lock once it is released.
    hold_lock(&mut holder, server);
    let child = migraph_process(d, url)
        .args(["--lock-timeout", "20", "downgrade", "base"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(db.applied().len(), 6, "the waiting run did nothing yet");
    release_lock(&mut holder, server);
    let ran = Ran::from(child.wait_with_output().expect("wait")).ok();
    assert!(ran.stderr.contains("waiting for another migraph run"), "{ran}");
    assert_eq!(db.applied(), Vec::<String>::new());
    assert_eq!(user_tables(&db), Vec::<String>::new());
}

on_both_servers!(lock_timeout, postgres_lock_timeout, mysql_lock_timeout);

// ---------------------------------------------------------------------------
// 5. PostgreSQL: `transaction: false` sends statements one by one
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_create_index_concurrently() {
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    table_revision(d, "r0", "");
    write_revision(
        d,
        "r1",
        "r0",
        "CREATE INDEX CONCURRENTLY ix ON t_r0 (v);\nCREATE TABLE t_after (id INTEGER);",
        Some("DROP INDEX CONCURRENTLY ix;\nDROP TABLE t_after;"),
        "-- transaction: false",
    );
    let index_count = || {
        db.connect()
            .int("SELECT COUNT(*) AS v FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'ix'", &[])
            .expect("count indexes")
    };

    run_as_planned(d, url, &["upgrade", "heads"], &[("up", "r0"), ("up", "r1")]);
    assert_eq!(db.applied(), ["r0", "r1"]);
    assert_eq!(index_count(), Some(1));
    assert!(has_table(&db, "t_after"));
    assert_eq!(markers(&db), 0, "the marker is removed with the version row");

    run_as_planned(d, url, &["downgrade", "r0"], &[("down", "r1")]);
    assert_eq!(db.applied(), ["r0"]);
    assert_eq!(index_count(), Some(0));
    assert!(!has_table(&db, "t_after"));
    assert_eq!(markers(&db), 0);
}

// ---------------------------------------------------------------------------
// 6. PostgreSQL: the server goes away in the middle of a run
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_connection_killed_mid_run() {
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    let mut all = Vec::new();
    for i in 0..30 {
        let id = format!("s{i:02}");
        let parent = if i == 0 { String::new() } else { format!("s{:02}", i - 1) };
        write_revision(
            d,
            &id,
            &parent,
            &format!("SELECT pg_sleep(0.05);\nCREATE TABLE t_{id} (id INTEGER);"),
            Some(&format!("DROP TABLE t_{id};")),
            "",
        );
        all.push(id);
    }

    let child = migraph_process(d, url)
        .args(["upgrade", "heads"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(400));
    let mut admin = db.connect();
    let kill = format!(
        "SELECT COUNT(pg_terminate_backend(pid))::BIGINT AS v FROM pg_stat_activity \
         WHERE datname = '{}' AND pid <> pg_backend_pid()",
        database_name(url)
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    while admin.int(&kill, &[]).expect("terminate").unwrap_or(0) == 0 {
        assert!(Instant::now() < deadline, "the run never connected");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(admin);
    let ran = Ran::from(child.wait_with_output().expect("wait")).failed();
    assert!(ran.first_error_line().starts_with("error:"), "{ran}");

    let rows = rows(&db, Server::Postgres);
    let recorded: BTreeSet<String> = rows.iter().map(|r| format!("t_{}", r.id)).collect();
    let created: BTreeSet<String> = user_tables(&db).into_iter().collect();
    assert_eq!(recorded, created, "the version rows tell the truth about the schema");
    assert!(rows.len() < 30, "the run was cut in the middle: {} row(s)\n{ran}", rows.len());
    assert_eq!(markers(&db), 0);

    mg(d, url, &["upgrade", "heads"]).ok();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(db.applied(), expected);
    assert_eq!(user_tables(&db), all.iter().map(|id| format!("t_{id}")).collect::<Vec<_>>());
}

// ---------------------------------------------------------------------------
// 7. Passwords never appear in any output
// ---------------------------------------------------------------------------

const SECRET: &str = "s3cr3t-pw";

fn assert_no_secret(ran: &Ran, secrets: &[&str], what: &str) {
    for secret in secrets {
        assert!(!ran.stdout.contains(secret) && !ran.stderr.contains(secret), "{what} printed the password:\n{ran}");
    }
}

fn password_never_printed(server: Server) {
    let dir = project();
    let d = dir.path();
    diamond(d);
    let scheme = match server {
        Server::Postgres => "postgres",
        Server::Mysql => "mysql",
    };
    let user = match server {
        Server::Postgres => "u",
        Server::Mysql => "root",
    };
    // A closed port: the connection fails, the error must not show the password.
    let plain = format!("{scheme}://{user}:{SECRET}@127.0.0.1:1/db");
    let encoded = format!("{scheme}://{user}:s3cr3t%2Dpw%40x@127.0.0.1:1/db");
    let connecting: [&[&str]; 9] = [
        &["upgrade", "heads"],
        &["status"],
        &["status", "--json"],
        &["current"],
        &["current", "--json"],
        &["upgrade", "heads", "--dry-run"],
        &["downgrade", "base"],
        &["stamp", "heads"],
        &["-v", "migrate", "heads"],
    ];
    for url in [&plain, &encoded] {
        let secrets: &[&str] = if url == &plain { &[SECRET] } else { &["s3cr3t%2Dpw%40x", "s3cr3t-pw@x"] };
        for args in connecting {
            let ran = mg(d, url, args).failed();
            assert!(ran.first_error_line().starts_with("error: "), "{args:?}:\n{ran}");
            assert_no_secret(&ran, secrets, &format!("{args:?} with DATABASE_URL"));
            let mut with_flag = vec!["--database-url", url.as_str()];
            with_flag.extend_from_slice(args);
            let ran = mg(d, "", &with_flag).failed();
            assert_no_secret(&ran, secrets, &format!("{args:?} with --database-url"));
        }
        // The offline script does not connect, and does not print the URL either.
        let ran = mg(d, url, &["upgrade", "heads", "--sql"]).ok();
        assert!(ran.stdout.contains("CREATE TABLE t_r0"), "{ran}");
        assert_no_secret(&ran, secrets, "upgrade --sql");
    }
    // From migraph.toml too.
    std::fs::write(d.join("migraph.toml"), format!("database_url = \"{plain}\"\n")).expect("write migraph.toml");
    for args in connecting {
        let ran = mg(d, "", args).failed();
        assert_no_secret(&ran, &[SECRET], &format!("{args:?} with migraph.toml"));
    }
}

on_both_servers!(password_never_printed, postgres_password_never_printed, mysql_password_never_printed);

/// A live connection whose URL carries a password: every command's output
/// shows the URL redacted.
fn password_redacted_on_live_server(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    broken_history(d);
    let name = database_name(&db.url);
    let (url, _user) = match server {
        // Trust authentication on 127.0.0.1: the password is accepted and unused.
        Server::Postgres => (db.url.replacen("://postgres@", &format!("://postgres:{SECRET}@"), 1), None),
        Server::Mysql => {
            let user = format!("mpw_{}", &name[name.len().saturating_sub(20)..]);
            let url = db.url.replacen("://root@", &format!("://{user}:{SECRET}@"), 1);
            (url, Some(db.mysql_user(&user, SECRET)))
        }
    };
    assert!(url.contains(SECRET), "{url}");
    let url = url.as_str();
    let ran = mg(d, url, &["upgrade", "heads"]).failed();
    assert!(ran.first_error_line().starts_with("error: revision r2"), "{ran}");
    assert_no_secret(&ran, &[SECRET], "a failing upgrade");
    let ran = mg(d, url, &["status"]).ok();
    assert!(ran.stdout.contains(":***@"), "status shows the URL redacted:\n{ran}");
    assert_no_secret(&ran, &[SECRET], "status");
    let ran = mg(d, url, &["status", "--json"]).ok();
    assert!(ran.json()["database"].as_str().is_some_and(|u| u.contains(":***@")), "{ran}");
    assert_no_secret(&ran, &[SECRET], "status --json");
    for args in [&["current"][..], &["current", "--json"], &["upgrade", "heads", "--dry-run"], &["upgrade", "heads"]] {
        let ran = mg(d, url, args);
        assert_no_secret(&ran, &[SECRET], &format!("{args:?}"));
    }
    assert_eq!(db.applied(), strings(&["r0", "r1"]));
    // A wrong password is refused without showing either password.
    let wrong = url.replace(SECRET, "wr0ng-pw");
    if server == Server::Mysql {
        let ran = mg(d, &wrong, &["status"]).failed();
        assert_no_secret(&ran, &[SECRET, "wr0ng-pw"], "status with a wrong password");
    }
}

on_both_servers!(
    password_redacted_on_live_server,
    postgres_password_redacted_on_live_server,
    mysql_password_redacted_on_live_server
);

// ---------------------------------------------------------------------------
// 8. `--sql` scripts run by the server's own client do what a real run does
// ---------------------------------------------------------------------------

/// Pipes `script` into the server's command-line client on database `name`.
fn run_client(server: Server, name: &str, script: &str) {
    let command = match server {
        Server::Postgres => {
            let mut c = Command::new("psql");
            c.args(["-h", "127.0.0.1", "-U", "postgres", "-d", name, "-v", "ON_ERROR_STOP=1", "-q", "-X"]);
            c
        }
        Server::Mysql => {
            let mut c = Command::new("mariadb");
            c.args(["-h", "127.0.0.1", "-u", "root", name]);
            c
        }
    };
    let (out, written) = common::with_stdin(command, script);
    written.expect("write script");
    let out = Ran::from(out);
    assert_eq!(out.code, 0, "the client rejected the script:\n{out}\n--- script\n{script}");
}

/// Column names and types of the user tables, and their row counts.
fn schema(db: &TestDb, server: Server) -> Vec<String> {
    let sql = match server {
        Server::Postgres => {
            "SELECT (table_name || '.' || column_name || ' ' || data_type)::text AS id, '' AS parents, '' AS message, \
             '' AS checksum, NULL::text AS down_sql, '' AS applied_at, 0::bigint AS execution_ms, NULL::text AS depends_on, 1::bigint AS transaction \
             FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1"
        }
        Server::Mysql => {
            "SELECT CAST(CONCAT(table_name, '.', column_name, ' ', column_type) AS CHAR) AS id, '' AS parents, \
             '' AS message, '' AS checksum, CAST(NULL AS CHAR) AS down_sql, '' AS applied_at, \
             CAST(0 AS SIGNED) AS execution_ms, CAST(NULL AS CHAR) AS depends_on, CAST(1 AS SIGNED) AS transaction FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY 1"
        }
    };
    let mut conn = db.connect();
    let mut out: Vec<String> = conn
        .version_rows(sql)
        .expect("columns")
        .into_iter()
        .map(|r| r.id)
        .filter(|c| !c.starts_with("migraph_"))
        .collect();
    for table in user_tables(db) {
        let count = conn.int(&format!("SELECT COUNT(*) AS v FROM {table}"), &[]).expect("count rows");
        out.push(format!("{table}: {count:?} row(s)"));
    }
    out
}

/// What the version table records, minus what differs between runs.
fn recorded(db: &TestDb, server: Server) -> Vec<(String, String, String, String, Option<String>)> {
    let mut rows: Vec<_> = rows(db, server)
        .into_iter()
        .map(|r| {
            assert!(r.applied_at.len() == 27 && r.applied_at.ends_with('Z'), "{}", r.applied_at);
            (r.id, r.parents, r.message, r.checksum, r.down_sql)
        })
        .collect();
    rows.sort();
    rows
}

fn sql_script_matches_real_run(server: Server) {
    let real = TestDb::new(server);
    let scripted = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let revisions = sample_revisions();
    let revs = revisions.to_str().expect("utf-8 path");

    mg(d, &real.url, &["--revisions", revs, "upgrade", "heads"]).ok();
    let script = mg(d, &scripted.url, &["--revisions", revs, "upgrade", "heads", "--sql"]).ok().stdout;
    assert!(ids(&scripted).is_empty() && user_tables(&scripted).is_empty(), "--sql must not connect");
    run_client(server, &database_name(&scripted.url), &script);

    assert_eq!(recorded(&scripted, server).len(), 12);
    assert_eq!(recorded(&scripted, server), recorded(&real, server));
    assert_eq!(user_tables(&scripted), user_tables(&real));
    assert_eq!(schema(&scripted, server), schema(&real, server));

    let status = mg(d, &scripted.url, &["--revisions", revs, "status"]).ok();
    assert!(status.stdout.contains("pending:  none"), "{status}");
    assert!(status.stdout.contains("applied:  12 of 12"), "{status}");
    assert!(!status.stdout.contains("drift") && !status.stdout.contains("FAILED"), "{status}");
    let json = mg(d, &scripted.url, &["--revisions", revs, "status", "--json"]).ok().json();
    assert_eq!(json["pending"], Value::Array(vec![]));
    assert_eq!(json["drift"], Value::Array(vec![]));
    let ran = mg(d, &scripted.url, &["--revisions", revs, "upgrade", "heads"]).ok();
    assert!(ran.stderr.contains("nothing to do"), "{ran}");

    // And back down with a script from the heads.
    let script =
        mg(d, &scripted.url, &["--revisions", revs, "downgrade", "base", "--sql", "--from", "heads"]).ok().stdout;
    run_client(server, &database_name(&scripted.url), &script);
    assert_eq!(ids(&scripted), Vec::<String>::new());
    assert_eq!(user_tables(&scripted), Vec::<String>::new());
}

on_both_servers!(sql_script_matches_real_run, postgres_sql_script_matches_real_run, mysql_sql_script_matches_real_run);

// ---------------------------------------------------------------------------
// More failure paths: going down, outside a transaction, all or nothing
// ---------------------------------------------------------------------------

/// A down section that fails at its second statement.
fn failure_going_down(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    table_revision(d, "r0", "");
    write_revision(d, "r1", "r0", "CREATE TABLE t_x (id INTEGER);", Some("DROP TABLE t_x; DROP TABLE no_such;"), "");
    table_revision(d, "r2", "r1");
    mg(d, url, &["upgrade", "heads"]).ok();

    let failed = mg(d, url, &["downgrade", "base"]).failed();
    assert!(failed.first_error_line().starts_with("error: revision r1"), "{failed}");
    assert_eq!(executed(&failed.stderr), steps(&[("down", "r2")]), "{failed}");
    assert!(!has_table(&db, "t_r2"));
    assert!(has_table(&db, "t_r0"), "nothing after the failing revision ran");
    assert_eq!(db.applied(), strings(&["r0", "r1"]), "r1's row stays: it was not unapplied");
    match server {
        Server::Postgres => {
            assert!(has_table(&db, "t_x"), "the failed down section was rolled back");
            assert_eq!(markers(&db), 0);
            write_revision(d, "r1", "r0", "CREATE TABLE t_x (id INTEGER);", Some("DROP TABLE t_x;"), "");
            // Editing an applied revision's SQL is drift: downgrade runs the
            // down section stored at apply time (which fails again), with a warning.
            let refused = mg(d, url, &["downgrade", "base"]).failed();
            assert!(refused.stderr.contains("the file of r1 changed since it was applied"), "{refused}");
            assert!(refused.first_error_line().contains("no_such"), "{refused}");
            assert_eq!(db.applied(), strings(&["r0", "r1"]));
            mg(d, url, &["stamp", "--accept-drift"]).ok();
            let row = rows(&db, server).into_iter().find(|r| r.id == "r1").expect("r1 row");
            assert_eq!(row.down_sql.as_deref().map(str::trim), Some("DROP TABLE t_x;"), "the new down is recorded");
            run_as_planned(d, url, &["upgrade", "heads"], &[("up", "r2")]);
        }
        Server::Mysql => {
            assert!(!has_table(&db, "t_x"), "MySQL committed the DROP");
            assert_eq!(markers(&db), 1);
            let json = mg(d, url, &["status", "--json"]).ok().json();
            assert_eq!(json["failed"][0]["id"], "r1", "{json}");
            assert_eq!(json["failed"][0]["direction"], "down", "{json}");
            let status = mg(d, url, &["status"]).ok();
            assert!(
                status.stdout.lines().any(|l| l.starts_with("FAILED") && l.contains("r1") && l.contains("down")),
                "{status}"
            );
            // r1's down took effect (t_x is gone): the hint's first command records that.
            let refused = mg(d, url, &["downgrade", "base"]).failed();
            assert!(refused.stderr.contains("took effect, run `migraph stamp r0`"), "{refused}");
            assert!(refused.stderr.contains("none did, run `migraph stamp r1`"), "{refused}");
            assert_eq!(db.applied(), strings(&["r0", "r1"]), "a refused run changes nothing");
            mg(d, url, &["stamp", "r0"]).ok();
            assert_eq!(markers(&db), 0);
            assert_eq!(db.applied(), ["r0"]);
            write_revision(d, "r1", "r0", "CREATE TABLE t_x (id INTEGER);", Some("DROP TABLE t_x;"), "");
            run_as_planned(d, url, &["upgrade", "heads"], &[("up", "r1"), ("up", "r2")]);
        }
    }
    run_as_planned(d, url, &["downgrade", "base"], &[("down", "r2"), ("down", "r1"), ("down", "r0")]);
    assert_eq!(db.applied(), Vec::<String>::new());
    assert_eq!(user_tables(&db), Vec::<String>::new());
    assert_eq!(markers(&db), 0);
}

on_both_servers!(failure_going_down, postgres_failure_going_down, mysql_failure_going_down);

/// `--single-transaction`: all or nothing on PostgreSQL, refused on MySQL.
fn single_transaction(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    broken_history(d);
    let failed = mg(d, url, &["upgrade", "heads", "--single-transaction"]).failed();
    match server {
        Server::Postgres => {
            assert!(failed.first_error_line().starts_with("error: revision r2"), "{failed}");
            assert_eq!(ids(&db), Vec::<String>::new(), "the whole plan was rolled back");
            assert_eq!(user_tables(&db), Vec::<String>::new());
            fix_r2(d);
            mg(d, url, &["upgrade", "heads", "--single-transaction"]).ok();
            assert_eq!(db.applied(), strings(&["r0", "r1", "r2", "r3"]));
            assert_eq!(user_tables(&db), tables_of(&["r0", "r1", "r3", "x"]));
            mg(d, url, &["downgrade", "base", "--single-transaction"]).ok();
            assert_eq!(db.applied(), Vec::<String>::new());
            assert_eq!(user_tables(&db), Vec::<String>::new());
        }
        Server::Mysql => {
            assert!(failed.first_error_line().contains("single-transaction"), "{failed}");
            assert_eq!(ids(&db), Vec::<String>::new(), "refused before anything ran");
            assert_eq!(user_tables(&db), Vec::<String>::new());
        }
    }
    assert_eq!(markers(&db), 0);
}

on_both_servers!(single_transaction, postgres_single_transaction, mysql_single_transaction);

/// PostgreSQL: a `transaction: false` revision that fails half-way leaves
/// its marker, like MySQL; the documented recovery works.
#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_failure_outside_transaction() {
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    table_revision(d, "r0", "");
    let broken = "CREATE INDEX CONCURRENTLY ix ON t_r0 (v);\nCREATE TABLE broken (;";
    write_revision(d, "r1", "r0", broken, Some("DROP INDEX CONCURRENTLY ix;"), "-- transaction: false");
    table_revision(d, "r2", "r1");

    let failed = mg(d, url, &["upgrade", "heads"]).failed();
    assert!(failed.first_error_line().starts_with("error: revision r1"), "{failed}");
    assert_eq!(db.applied(), ["r0"]);
    assert_eq!(markers(&db), 1, "the half-applied revision is marked");
    let status = mg(d, url, &["status"]).ok();
    assert!(status.stdout.lines().any(|l| l.starts_with("FAILED") && l.contains("r1")), "{status}");
    assert!(mg(d, url, &["current"]).ok().stderr.contains("warning: revision r1"));
    let refused = mg(d, url, &["upgrade", "heads"]).failed();
    assert!(refused.stderr.contains("migraph stamp"), "{refused}");
    assert_eq!(db.applied(), ["r0"]);

    // Finish it by hand, fix the file, record it as applied.
    db.connect().batch("CREATE TABLE broken (id INTEGER)").expect("finish by hand");
    write_revision(
        d,
        "r1",
        "r0",
        "CREATE INDEX CONCURRENTLY ix ON t_r0 (v);\nCREATE TABLE broken (id INTEGER);",
        Some("DROP INDEX CONCURRENTLY ix;\nDROP TABLE broken;"),
        "-- transaction: false",
    );
    mg(d, url, &["stamp", "r1"]).ok();
    assert_eq!(markers(&db), 0);
    assert_eq!(db.applied(), ["r0", "r1"]);
    run_as_planned(d, url, &["upgrade", "heads"], &[("up", "r2")]);
    run_as_planned(d, url, &["downgrade", "base"], &[("down", "r2"), ("down", "r1"), ("down", "r0")]);
    assert_eq!(user_tables(&db), Vec::<String>::new());
}

// ---------------------------------------------------------------------------
// Killed runs: the state stays truthful and the documented recovery works
// ---------------------------------------------------------------------------

/// `n` revisions s00..s<n-1> in a chain, each sleeping then creating `t_<id>`.
fn slow_chain(dir: &Path, server: Server, n: usize) -> Vec<String> {
    let sleep = match server {
        Server::Postgres => "SELECT pg_sleep(0.05);",
        Server::Mysql => "SELECT SLEEP(0.05);",
    };
    (0..n)
        .map(|i| {
            let id = format!("s{i:02}");
            let parent = if i == 0 { String::new() } else { format!("s{:02}", i - 1) };
            write_revision(
                dir,
                &id,
                &parent,
                &format!("{sleep}\nCREATE TABLE t_{id} (id INTEGER);"),
                Some(&format!("DROP TABLE t_{id};")),
                "",
            );
            id
        })
        .collect()
}

/// Checks that the state after an interrupted run is truthful, repairs it
/// the documented way if a marker was left, and finishes the run.
fn check_truthful_then_finish(db: &TestDb, server: Server, dir: &Path, all: &[String]) {
    let url = db.url.as_str();
    let recorded: BTreeSet<String> = rows(db, server).iter().map(|r| format!("t_{}", r.id)).collect();
    let created: BTreeSet<String> = user_tables(db).into_iter().collect();
    assert!(recorded.len() < all.len(), "the run was cut in the middle");
    let json = mg(dir, url, &["status", "--json"]).ok().json();
    let failed: Vec<String> =
        json["failed"].as_array().expect("failed").iter().map(|f| f["id"].as_str().expect("id").to_string()).collect();
    match server {
        Server::Postgres => {
            assert_eq!(recorded, created, "every table has its row and every row its table");
            assert!(failed.is_empty(), "{json}");
        }
        Server::Mysql => {
            assert!(recorded.is_subset(&created), "a row without its table: {recorded:?} vs {created:?}");
            let unrecorded: Vec<&String> = created.difference(&recorded).collect();
            assert!(unrecorded.len() <= 1, "{unrecorded:?}");
            // A table without a row must be the marked revision's.
            for table in &unrecorded {
                assert_eq!(failed.iter().map(|id| format!("t_{id}")).collect::<Vec<_>>(), [table.to_string()]);
            }
            assert!(failed.len() <= 1, "{json}");
            if let Some(id) = failed.first() {
                let refused = mg(dir, url, &["upgrade", "heads"]).failed();
                assert!(refused.stderr.contains("migraph stamp"), "{refused}");
                let target = if created.contains(&format!("t_{id}")) { id.clone() } else { format!("{id}-1") };
                mg(dir, url, &["stamp", &target]).ok();
                assert_eq!(markers(db), 0);
            }
        }
    }
    mg(dir, url, &["upgrade", "heads"]).ok();
    let mut sorted = all.to_vec();
    sorted.sort();
    assert_eq!(db.applied(), sorted);
    assert_eq!(user_tables(db), sorted.iter().map(|id| format!("t_{id}")).collect::<Vec<_>>());
    assert_eq!(markers(db), 0);
}

/// The migraph process is killed (SIGKILL) in the middle of a run.
fn process_killed_mid_run(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let all = slow_chain(d, server, 30);
    let mut child = migraph_process(d, &db.url)
        .args(["upgrade", "heads"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(500));
    child.kill().expect("kill the migraph process");
    child.wait().expect("reap");
    // The server finishes what it received (on PostgreSQL the rest of a
    // group of fast revisions, a fraction of a second) before it notices
    // the closed connection: read the state once it has.
    db.wait_idle();
    check_truthful_then_finish(&db, server, d, &all);
}

on_both_servers!(process_killed_mid_run, postgres_process_killed_mid_run, mysql_process_killed_mid_run);

/// MySQL: the server kills migraph's connection in the middle of a run.
#[test]
#[cfg_attr(
    not(all(feature = "mysql", migraph_mysql_server)),
    ignore = "needs --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn mysql_connection_killed_mid_run() {
    let db = TestDb::new(Server::Mysql);
    let dir = project();
    let d = dir.path();
    let all = slow_chain(d, Server::Mysql, 30);
    let child = migraph_process(d, &db.url)
        .args(["upgrade", "heads"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(400));
    let mut admin = db.connect();
    let find = format!(
        "SELECT CAST(MIN(id) AS SIGNED) AS v FROM information_schema.processlist \
         WHERE db = '{}' AND id <> CONNECTION_ID()",
        database_name(&db.url)
    );
    let deadline = Instant::now() + Duration::from_secs(3);
    let victim = loop {
        if let Some(id) = admin.int(&find, &[]).expect("processlist") {
            break id;
        }
        assert!(Instant::now() < deadline, "the run never connected");
        std::thread::sleep(Duration::from_millis(20));
    };
    admin.batch(&format!("KILL CONNECTION {victim}")).expect("kill");
    drop(admin);
    let ran = Ran::from(child.wait_with_output().expect("wait")).failed();
    assert!(ran.first_error_line().starts_with("error: "), "{ran}");
    check_truthful_then_finish(&db, Server::Mysql, d, &all);
}

// ---------------------------------------------------------------------------
// Locks are per database and per version table
// ---------------------------------------------------------------------------

fn locks_are_per_database_and_table(server: Server) {
    let db = TestDb::new(server);
    let other = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    diamond(d);
    let all = ["r0", "a1", "a2", "b1", "m3", "t4"];

    let mut holder = db.connect();
    hold_lock(&mut holder, server);
    // Another database on the same server is not blocked.
    let ran = mg(d, &other.url, &["--lock-timeout", "1", "upgrade", "heads"]).ok();
    assert!(!ran.stderr.contains("waiting"), "{ran}");
    assert_eq!(other.applied(), strings(&all));
    // Nor is another version table in the locked database.
    let ran = mg(d, &db.url, &["--lock-timeout", "1", "--table", "MyVersions", "upgrade", "heads"]).ok();
    assert!(!ran.stderr.contains("waiting"), "{ran}");
    release_lock(&mut holder, server);

    let custom: Vec<String> = {
        let mut ids: Vec<String> = db
            .connect()
            .version_rows(&dialect(server).select_rows("MyVersions"))
            .expect("rows of MyVersions")
            .into_iter()
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(custom, strings(&all));
    assert!(!has_table(&db, TABLE), "the default table was not used: {:?}", db.tables());
    assert!(has_table(&db, "MyVersions_pending"), "{:?}", db.tables());
    assert_eq!(user_tables(&db).into_iter().filter(|t| t.starts_with("t_")).collect::<Vec<_>>(), tables_of(&all));

    // The custom table is found again (not re-created, nothing re-applied).
    let again = mg(d, &db.url, &["--table", "MyVersions", "upgrade", "heads"]).ok();
    assert!(again.stderr.contains("nothing to do"), "{again}");
    let status = mg(d, &db.url, &["--table", "MyVersions", "status", "--json"]).ok().json();
    assert_eq!(json_ids(&status["applied"]), strings(&all));
    assert_eq!(status["table"], "MyVersions");
    mg(d, &db.url, &["--table", "MyVersions", "downgrade", "base"]).ok();
    assert_eq!(user_tables(&db).into_iter().filter(|t| t.starts_with("t_")).count(), 0);
}

on_both_servers!(
    locks_are_per_database_and_table,
    postgres_locks_are_per_database_and_table,
    mysql_locks_are_per_database_and_table
);

/// PostgreSQL: runs waiting for the lock do not deadlock with a running
/// `CREATE INDEX CONCURRENTLY` (which waits for other transactions).
#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_waiting_runs_and_create_index_concurrently() {
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    write_revision(d, "r1", "r0", "SELECT pg_sleep(0.5);", Some(""), "");
    write_revision(
        d,
        "r2",
        "r1",
        "CREATE INDEX CONCURRENTLY ix ON t_r0 (v);",
        Some("DROP INDEX CONCURRENTLY ix;"),
        "-- transaction: false",
    );
    table_revision(d, "r3", "r2");
    let started = Instant::now();
    let children: Vec<_> = (0..3)
        .map(|_| {
            let child = migraph_process(d, &db.url)
                .args(["--lock-timeout", "30", "upgrade", "heads"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn");
            std::thread::sleep(Duration::from_millis(100));
            child
        })
        .collect();
    let mut done = 0;
    for child in children {
        let ran = Ran::from(child.wait_with_output().expect("wait")).ok();
        done += executed(&ran.stderr).len();
    }
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert_eq!(done, 4);
    assert_eq!(db.applied(), ["r0", "r1", "r2", "r3"]);
    assert_eq!(
        db.connect().int("SELECT COUNT(*) AS v FROM pg_indexes WHERE indexname = 'ix'", &[]).expect("count"),
        Some(1)
    );
    assert_eq!(markers(&db), 0);
}

// ---------------------------------------------------------------------------
// Drift and files missing for applied revisions
// ---------------------------------------------------------------------------

fn drift_and_missing_files(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    diamond(d);
    let all = ["r0", "a1", "a2", "b1", "m3", "t4"];
    mg(d, url, &["upgrade", "heads"]).ok();
    let before = rows(&db, server);

    // Edit an applied revision's SQL: every run that keeps it applied refuses,
    // nothing changes (a downgrade that unapplies it runs its stored down
    // section: tests/daily.rs).
    write_revision(d, "t4", "m3", "CREATE TABLE t_t4 (id INTEGER, w INTEGER);", Some("DROP TABLE t_t4;"), "");
    for args in [&["upgrade", "heads"][..], &["downgrade", "t4"], &["migrate", "a1"], &["downgrade", "t4", "--dry-run"]]
    {
        let refused = mg(d, url, args).failed();
        assert!(refused.first_error_line().contains("drift") && refused.first_error_line().contains("t4"), "{refused}");
    }
    assert_eq!(rows(&db, server), before);
    assert_eq!(user_tables(&db), tables_of(&all));
    let status = mg(d, url, &["status"]).ok();
    assert!(status.stdout.lines().any(|l| l.starts_with("drift:") && l.contains("t4")), "{status}");
    let json = mg(d, url, &["status", "--json"]).ok().json();
    assert_eq!(json_ids(&json["drift"]), ["t4"]);
    let check = mg(d, url, &["check"]).failed();
    assert!(
        check.stderr.contains("t4") && check.stderr.contains("drift"),
        "check with a database reports drift:\n{check}"
    );

    // Accept the edit: the new checksum is recorded, nothing else changes.
    mg(d, url, &["stamp", "--accept-drift"]).ok();
    let t4 = rows(&db, server).into_iter().find(|r| r.id == "t4").expect("t4 row");
    let shown = mg(d, url, &["show", "t4", "--json"]).ok().json();
    assert_eq!(t4.checksum, shown["checksum"].as_str().expect("checksum"));
    assert_eq!(db.applied(), strings(&all));
    assert_eq!(json_ids(&mg(d, url, &["status", "--json"]).ok().json()["drift"]), Vec::<String>::new());
    mg(d, url, &["check"]).ok();

    // The file of an applied revision disappears: upgrade refuses, downgrade
    // unapplies it with the down section stored when it was applied.
    std::fs::remove_file(d.join("revisions").join("t4.sql")).expect("remove t4.sql");
    let refused = mg(d, url, &["upgrade", "heads"]).failed();
    assert!(refused.first_error_line().contains("t4"), "{refused}");
    assert_eq!(db.applied(), strings(&all));
    let status = mg(d, url, &["status"]).ok();
    assert!(status.stdout.lines().any(|l| l.starts_with("missing:") && l.contains("t4")), "{status}");
    assert_eq!(json_ids(&mg(d, url, &["status", "--json"]).ok().json()["missing_files"]), ["t4"]);
    let ran = run_as_planned(d, url, &["downgrade", "m3"], &[("down", "t4")]);
    assert!(ran.stderr.contains("file of t4 is missing"), "{ran}");
    assert_eq!(db.applied(), strings(&["r0", "a1", "a2", "b1", "m3"]));
    assert_eq!(user_tables(&db), tables_of(&["r0", "a1", "a2", "b1", "m3"]));
    let again = mg(d, url, &["upgrade", "heads"]).ok();
    assert!(again.stderr.contains("nothing to do"), "{again}");
}

on_both_servers!(drift_and_missing_files, postgres_drift_and_missing_files, mysql_drift_and_missing_files);

// ---------------------------------------------------------------------------
// More `--sql`: quoting, `transaction: false`, and a known bug
// ---------------------------------------------------------------------------

/// Runs `upgrade heads` for real on one database and as a `--sql` script on
/// another; both must end the same; then a `--sql` downgrade empties the second.
fn script_equals_real_run(server: Server, d: &Path) {
    let real = TestDb::new(server);
    let scripted = TestDb::new(server);
    mg(d, &real.url, &["upgrade", "heads"]).ok();
    let script = mg(d, &scripted.url, &["upgrade", "heads", "--sql"]).ok().stdout;
    run_client(server, &database_name(&scripted.url), &script);
    assert!(!recorded(&real, server).is_empty());
    assert_eq!(recorded(&scripted, server), recorded(&real, server));
    assert_eq!(schema(&scripted, server), schema(&real, server));
    let status = mg(d, &scripted.url, &["status", "--json"]).ok().json();
    assert_eq!(status["pending"], Value::Array(vec![]), "{status}");
    assert_eq!(status["drift"], Value::Array(vec![]), "{status}");
    let script = mg(d, &scripted.url, &["downgrade", "base", "--sql", "--from", "heads"]).ok().stdout;
    run_client(server, &database_name(&scripted.url), &script);
    assert_eq!(ids(&scripted), Vec::<String>::new());
    assert_eq!(user_tables(&scripted), Vec::<String>::new());
    mg(d, &real.url, &["downgrade", "base"]).ok();
    assert_eq!(user_tables(&real), Vec::<String>::new());
}

fn sql_script_quoting_and_outside_transaction(server: Server) {
    let dir = project();
    let d = dir.path();
    std::fs::create_dir_all(d.join("revisions")).expect("mkdir");
    std::fs::write(
        d.join("revisions").join("q0.sql"),
        "-- id: q0\n-- parents:\n-- message: it's a \"quoted\" back\\slash; message\n\n-- migrate:up\n\
         CREATE TABLE t_q0 (id INTEGER, v VARCHAR(40));\nINSERT INTO t_q0 VALUES (1, 'semi;colon ''quote''');\n\n\
         -- migrate:down\nDROP TABLE t_q0; -- it's gone \\ really\n",
    )
    .expect("write q0");
    let (index_up, index_down) = match server {
        Server::Postgres => ("CREATE INDEX CONCURRENTLY ix_q ON t_q0 (v);", "DROP INDEX CONCURRENTLY ix_q;"),
        Server::Mysql => ("CREATE INDEX ix_q ON t_q0 (v);", "DROP INDEX ix_q ON t_q0;"),
    };
    write_revision(d, "q1", "q0", index_up, Some(index_down), "-- transaction: false");
    write_revision(d, "q2", "q1", "CREATE TABLE t_q2 (id INTEGER);", Some("DROP TABLE t_q2;"), "");
    script_equals_real_run(server, d);
}

on_both_servers!(
    sql_script_quoting_and_outside_transaction,
    postgres_sql_script_quoting_and_outside_transaction,
    mysql_sql_script_quoting_and_outside_transaction
);

/// A section whose last statement has no `;` and is followed by a comment.
fn sql_script_trailing_comment(server: Server) {
    let dir = project();
    let d = dir.path();
    write_revision(
        d,
        "c0",
        "",
        "CREATE TABLE t_c0 (id INTEGER)\n-- no semicolon above",
        Some("DROP TABLE t_c0\n-- no semicolon above"),
        "",
    );
    table_revision(d, "c1", "c0");
    script_equals_real_run(server, d);
}

on_both_servers!(sql_script_trailing_comment, postgres_sql_script_trailing_comment, mysql_sql_script_trailing_comment);

// ---------------------------------------------------------------------------
// Passwords in unusual places of the URL
// ---------------------------------------------------------------------------

/// PostgreSQL URLs may carry the password as a query parameter (libpq's
/// `?password=`); it must not be printed either.
#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_password_query_parameter_never_printed() {
    let db = TestDb::new(Server::Postgres);
    let dir = project();
    let d = dir.path();
    diamond(d);
    let closed = format!("postgres://u@127.0.0.1:1/db?password={SECRET}");
    for args in [&["status"][..], &["upgrade", "heads"], &["current", "--json"]] {
        let ran = mg(d, &closed, args).failed();
        assert_no_secret(&ran, &[SECRET], &format!("{args:?} on a closed port"));
    }
    let live = format!("{}?password={SECRET}", db.url);
    mg(d, &live, &["upgrade", "heads"]).ok();
    assert_eq!(db.applied().len(), 6, "the live URL works");
    for args in [&["status"][..], &["status", "--json"]] {
        let ran = mg(d, &live, args).ok();
        assert_no_secret(&ran, &[SECRET], &format!("{args:?} on the live server"));
    }
}

/// A password with a `#` (which libpq accepts unencoded) must not be printed.
fn password_with_hash_never_printed(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    diamond(d);
    let secret = "s3cr3t#pw";
    let closed = match server {
        Server::Postgres => format!("postgres://u:{secret}@127.0.0.1:1/db"),
        Server::Mysql => format!("mysql://root:{secret}@127.0.0.1:1/db"),
    };
    for args in [&["status"][..], &["upgrade", "heads"]] {
        let ran = mg(d, &closed, args).failed();
        assert_no_secret(&ran, &[secret], &format!("{args:?} on a closed port"));
    }
    if server == Server::Postgres {
        // Trust authentication: libpq parses the password and connects.
        let live = db.url.replacen("://postgres@", &format!("://postgres:{secret}@"), 1);
        let ran = mg(d, &live, &["status"]).ok();
        assert_no_secret(&ran, &[secret], "status on the live server");
    }
}

on_both_servers!(
    password_with_hash_never_printed,
    postgres_password_with_hash_never_printed,
    mysql_password_with_hash_never_printed
);

/// `stamp` on a fresh database creates the version table and records rows
/// without running any SQL.
fn stamp_on_fresh_database(server: Server) {
    let db = TestDb::new(server);
    let dir = project();
    let d = dir.path();
    let url = db.url.as_str();
    diamond(d);
    let all = ["r0", "a1", "a2", "b1", "m3", "t4"];
    mg(d, url, &["stamp", "heads"]).ok();
    assert_eq!(db.applied(), strings(&all));
    assert_eq!(user_tables(&db), Vec::<String>::new(), "no SQL ran");
    assert_eq!(markers(&db), 0);
    for row in rows(&db, server) {
        assert_eq!(row.execution_ms, 0);
        assert_eq!(row.message, format!("rev {}", row.id));
    }
    let status = mg(d, url, &["status"]).ok();
    assert!(status.stdout.contains("pending:  none"), "{status}");
    let planned = dry_run(d, url, &["downgrade", "base"]);
    assert_eq!(planned.len(), 6);
    assert!(planned.iter().all(|(direction, _)| direction == "down"));
    assert_eq!(db.applied(), strings(&all), "a dry run changes nothing");
}

on_both_servers!(stamp_on_fresh_database, postgres_stamp_on_fresh_database, mysql_stamp_on_fresh_database);
