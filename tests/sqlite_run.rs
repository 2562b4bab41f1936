//! End-to-end tests of the commands that touch a database (`upgrade`,
//! `downgrade`, `migrate`, `stamp`, `current`, `status`, `--dry-run`,
//! `--sql`, `--backup`), each running the real binary against a SQLite file
//! in a temporary directory and then reading the database itself (version
//! rows, markers, `sqlite_master`) to check what happened.
#![cfg(feature = "sqlite")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use common::{
    diamond, mg, migraph, migraph_process, project, run_cmd, set, sqlite_url, table_revision, write_revision, Ran,
};
use serde_json::Value;

/// The six revisions of `common::diamond`, in the order `upgrade heads` applies them.
const DIAMOND: [&str; 6] = ["r0", "a1", "a2", "b1", "m3", "t4"];

// ---------------------------------------------------------------------------
// Running the binary

fn db_path(dir: &Path) -> PathBuf {
    dir.join("app.db")
}

/// Runs `migraph ARGS` in `dir` against `dir/app.db`.
fn run(dir: &Path, args: &[&str]) -> Ran {
    mg(dir, &sqlite_url(dir), args)
}

/// Runs and expects exit code 0.
fn ok(dir: &Path, args: &[&str]) -> Ran {
    common::ok(dir, &sqlite_url(dir), args)
}

/// Runs and expects exit code 1 (an error, not bad usage).
fn fails(dir: &Path, args: &[&str]) -> Ran {
    common::fails(dir, &sqlite_url(dir), args)
}

/// `(direction, id)` of the progress lines (`  up r0 rev r0 (0 ms)`) on stderr, in order.
fn progress(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("up ") || l.starts_with("down "))
        .map(|l| {
            let mut words = l.split_whitespace();
            (words.next().unwrap().to_string(), words.next().expect("an id after the direction").to_string())
        })
        .collect()
}

fn ups(ids: &[&str]) -> Vec<(String, String)> {
    ids.iter().map(|id| ("up".to_string(), id.to_string())).collect()
}

fn downs(ids: &[&str]) -> Vec<(String, String)> {
    ids.iter().map(|id| ("down".to_string(), id.to_string())).collect()
}

fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// The checksum migraph computes for a revision file (`show --json`).
fn file_checksum(dir: &Path, id: &str) -> String {
    parse_json(&ok(dir, &["show", id, "--json"]).stdout)["checksum"].as_str().expect("checksum").to_string()
}

// ---------------------------------------------------------------------------
// Reading the database

fn open(path: &Path) -> rusqlite::Connection {
    assert!(path.exists(), "{} should exist", path.display());
    rusqlite::Connection::open(path).expect("open the database")
}

fn has_table(path: &Path, name: &str) -> bool {
    if !path.exists() {
        return false;
    }
    open(path)
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| {
            r.get::<_, i64>(0)
        })
        .expect("sqlite_master")
        > 0
}

/// One row of a version table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    id: String,
    parents: String,
    message: String,
    checksum: String,
    down_sql: Option<String>,
    applied_at: String,
    execution_ms: i64,
}

/// The rows of `table` in insertion order (empty when the file or the table does not exist).
fn rows_in(path: &Path, table: &str) -> Vec<Row> {
    if !has_table(path, table) {
        return Vec::new();
    }
    let conn = open(path);
    let mut stmt = conn
        .prepare(&format!(
            "SELECT id, parents, message, checksum, down_sql, applied_at, execution_ms FROM \"{table}\" ORDER BY rowid"
        ))
        .expect("select rows");
    let rows = stmt
        .query_map([], |r| {
            Ok(Row {
                id: r.get(0)?,
                parents: r.get(1)?,
                message: r.get(2)?,
                checksum: r.get(3)?,
                down_sql: r.get(4)?,
                applied_at: r.get(5)?,
                execution_ms: r.get(6)?,
            })
        })
        .expect("query rows")
        .collect::<Result<Vec<_>, _>>()
        .expect("read rows");
    rows
}

fn rows(dir: &Path) -> Vec<Row> {
    rows_in(&db_path(dir), "migraph_revisions")
}

fn row(dir: &Path, id: &str) -> Row {
    rows(dir).into_iter().find(|r| r.id == id).unwrap_or_else(|| panic!("no version row for {id}"))
}

/// IDs in `table` (a set: duplicates would be caught by the primary key, and are checked separately).
fn applied_in(path: &Path, table: &str) -> BTreeSet<String> {
    rows_in(path, table).into_iter().map(|r| r.id).collect()
}

fn applied(dir: &Path) -> BTreeSet<String> {
    applied_in(&db_path(dir), "migraph_revisions")
}

/// IDs of the `t_<id>` tables in the database file.
fn tables_at(path: &Path) -> BTreeSet<String> {
    if !path.exists() {
        return BTreeSet::new();
    }
    common::sqlite_tables(path).iter().filter_map(|t| t.strip_prefix("t_")).map(str::to_string).collect()
}

fn tables(dir: &Path) -> BTreeSet<String> {
    tables_at(&db_path(dir))
}

/// `(id, direction, error)` of the markers left in `migraph_revisions_pending`.
fn markers_at(path: &Path, table: &str) -> Vec<(String, String, Option<String>)> {
    let pending = format!("{table}_pending");
    if !has_table(path, &pending) {
        return Vec::new();
    }
    let conn = open(path);
    let mut stmt =
        conn.prepare(&format!("SELECT id, direction, error FROM \"{pending}\" ORDER BY id")).expect("select markers");
    let markers = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("query markers")
        .collect::<Result<Vec<_>, _>>()
        .expect("markers");
    markers
}

fn markers(dir: &Path) -> Vec<(String, String, Option<String>)> {
    markers_at(&db_path(dir), "migraph_revisions")
}

/// Runs `sql` on `path` with the sqlite3 command-line shell; panics if it reports an error.
fn sqlite3(path: &Path, sql: &str) {
    let mut child = StdCommand::new("sqlite3")
        .arg("-bail")
        .arg(path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the sqlite3 shell is installed");
    child.stdin.take().expect("stdin").write_all(sql.as_bytes()).expect("write the script");
    let out = child.wait_with_output().expect("sqlite3 runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.is_empty(), "sqlite3 rejected the script: {stderr}\n--- script ---\n{sql}");
}

/// Writes a revision file verbatim.
fn write_file(dir: &Path, name: &str, text: &str) {
    let path = dir.join("revisions").join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn edit(dir: &Path, id: &str, from: &str, to: &str) {
    let path = dir.join("revisions").join(format!("{id}.sql"));
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{} does not contain {from:?}", path.display());
    fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
}

// ---------------------------------------------------------------------------
// 1. upgrade heads

#[test]
fn upgrade_without_a_target_means_heads_and_downgrade_needs_one() {
    let dir = project();
    let d = dir.path();
    diamond(d);
    let r = ok(d, &["upgrade"]);
    assert_eq!(progress(&r.stderr), ups(&DIAMOND), "stderr:\n{}", r.stderr);
    assert_eq!(applied(d), set(&DIAMOND));
    for verb in ["downgrade", "migrate"] {
        let r = run(d, &[verb]);
        assert_eq!(r.code, 2, "{verb} without a target is bad usage: {}", r.stderr);
        assert!(r.stderr.starts_with(&format!("error: `migraph {verb}` needs a target")), "{}", r.stderr);
    }
    assert_eq!(applied(d), set(&DIAMOND), "nothing changed");
}

#[test]
fn upgrade_heads_applies_the_diamond_and_records_every_row() {
    let dir = project();
    let d = dir.path();
    diamond(d);

    let r = ok(d, &["upgrade", "heads"]);
    assert_eq!(r.stdout, "", "progress goes to stderr only");
    assert_eq!(progress(&r.stderr), ups(&DIAMOND), "stderr:\n{}", r.stderr);

    let recorded = rows(d);
    assert_eq!(recorded.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), DIAMOND, "rows in the order applied");
    assert_eq!(tables(d), set(&DIAMOND));
    let parents: BTreeMap<&str, &str> =
        [("r0", ""), ("a1", "r0"), ("a2", "a1"), ("b1", "r0"), ("m3", "a2 b1"), ("t4", "m3")].into();
    let mut previous = String::new();
    for row in &recorded {
        let id = row.id.as_str();
        assert_eq!(row.parents, parents[id], "parents of {id}");
        assert_eq!(row.message, format!("rev {id}"));
        assert_eq!(row.checksum.len(), 64, "{row:?}");
        assert!(row.checksum.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{row:?}");
        assert_eq!(row.checksum, file_checksum(d, id), "the row holds the file's checksum");
        assert_eq!(row.down_sql.as_deref().map(str::trim), Some(format!("DROP TABLE t_{id};").as_str()));
        let at = time::OffsetDateTime::parse(&row.applied_at, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|e| panic!("applied_at {:?} is not RFC 3339: {e}", row.applied_at));
        assert_eq!(at.offset(), time::UtcOffset::UTC, "{row:?}");
        let fraction = row.applied_at.split_once('.').map(|(_, f)| f).expect("a fraction");
        assert!(fraction.len() == 7 && fraction.ends_with('Z'), "six fraction digits then Z: {:?}", row.applied_at);
        assert!(fraction[..6].bytes().all(|b| b.is_ascii_digit()), "{:?}", row.applied_at);
        let age = time::OffsetDateTime::now_utc() - at;
        assert!(age.whole_seconds().abs() < 600, "applied_at {at} is not now");
        assert!(row.applied_at >= previous, "applied_at sorts in application order: {recorded:?}");
        previous = row.applied_at.clone();
        assert!(row.execution_ms >= 0, "{row:?}");
    }
    assert!(markers(d).is_empty());

    // A second run has nothing to do and changes nothing.
    let again = ok(d, &["upgrade", "heads"]);
    assert!(again.stderr.contains("nothing to do"), "{}", again.stderr);
    assert!(progress(&again.stderr).is_empty());
    assert_eq!(rows(d), recorded);
    assert_eq!(tables(d), set(&DIAMOND));

    // -q: nothing on stderr, but the work is done.
    let down = ok(d, &["downgrade", "base", "-q"]);
    assert_eq!((down.stdout.as_str(), down.stderr.as_str()), ("", ""));
    assert!(applied(d).is_empty() && tables(d).is_empty());
    let quiet = ok(d, &["-q", "upgrade", "heads"]);
    assert_eq!((quiet.stdout.as_str(), quiet.stderr.as_str()), ("", ""));
    assert_eq!(applied(d), set(&DIAMOND));
    assert_eq!(tables(d), set(&DIAMOND));
    let quiet_noop = ok(d, &["upgrade", "heads", "-q"]);
    assert_eq!(quiet_noop.stderr, "");
}

// ---------------------------------------------------------------------------
// 2. Targets through the database

#[test]
fn targets_are_resolved_against_the_database() {
    let dir = project();
    let d = dir.path();
    diamond(d);

    let r = ok(d, &["upgrade", "alpha"]);
    assert_eq!(progress(&r.stderr), ups(&["r0", "a1"]));
    assert_eq!(applied(d), set(&["r0", "a1"]), "closure(alpha) only");
    assert_eq!(tables(d), set(&["r0", "a1"]));

    let r = ok(d, &["upgrade", "+1"]);
    assert_eq!(progress(&r.stderr), ups(&["a2"]), "+1 from the database head a1");
    assert_eq!(applied(d), set(&["r0", "a1", "a2"]));
    assert_eq!(tables(d), set(&["r0", "a1", "a2"]));

    let r = ok(d, &["downgrade", "-1"]);
    assert_eq!(progress(&r.stderr), downs(&["a2"]), "-1 from the database head a2");
    assert_eq!(applied(d), set(&["r0", "a1"]));
    assert_eq!(tables(d), set(&["r0", "a1"]));

    ok(d, &["upgrade", "heads"]);
    let r = ok(d, &["downgrade", "beta"]);
    assert_eq!(progress(&r.stderr), downs(&["t4", "m3"]), "only the descendants of b1");
    assert_eq!(applied(d), set(&["r0", "a1", "a2", "b1"]), "a1 and a2 do not descend from beta");
    assert_eq!(tables(d), set(&["r0", "a1", "a2", "b1"]));

    let r = ok(d, &["downgrade", "base"]);
    assert_eq!(progress(&r.stderr), downs(&["b1", "a2", "a1", "r0"]), "the reverse of the apply order");
    assert!(applied(d).is_empty() && tables(d).is_empty());
    assert!(has_table(&db_path(d), "migraph_revisions"), "the version table stays");

    // A downgrade target that is not applied is an error suggesting migrate.
    ok(d, &["upgrade", "alpha"]);
    let r = fails(d, &["downgrade", "beta"]);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains("migrate"), "the hint suggests migrate: {}", r.stderr);
    assert_eq!(applied(d), set(&["r0", "a1"]));
    assert_eq!(tables(d), set(&["r0", "a1"]));

    // migrate switches branches: down to the merge base, then up the other one.
    ok(d, &["upgrade", "a2"]);
    let r = ok(d, &["migrate", "beta"]);
    assert_eq!(progress(&r.stderr), [downs(&["a2", "a1"]), ups(&["b1"])].concat());
    assert_eq!(applied(d), set(&["r0", "b1"]));
    assert_eq!(tables(d), set(&["r0", "b1"]));

    // base is not an upgrade target.
    let r = fails(d, &["upgrade", "base"]);
    assert!(r.stderr.contains("base"), "{}", r.stderr);
    assert_eq!(applied(d), set(&["r0", "b1"]));
    assert_eq!(tables(d), set(&["r0", "b1"]));
}

// ---------------------------------------------------------------------------
// 3. stamp

#[test]
fn stamp_writes_and_removes_rows_without_running_sql() {
    let dir = project();
    let d = dir.path();
    diamond(d);

    let r = ok(d, &["stamp", "heads"]);
    assert!(progress(&r.stderr).is_empty());
    assert_eq!(applied(d), set(&DIAMOND));
    assert!(tables(d).is_empty(), "stamp runs no SQL: {:?}", tables(d));
    let stamped = row(d, "m3");
    assert_eq!((stamped.parents.as_str(), stamped.checksum.clone()), ("a2 b1", file_checksum(d, "m3")));

    ok(d, &["stamp", "base"]);
    assert!(applied(d).is_empty());

    ok(d, &["upgrade", "heads", "-q"]);
    assert_eq!(tables(d), set(&DIAMOND));
    ok(d, &["stamp", "base"]);
    assert!(applied(d).is_empty());
    assert_eq!(tables(d), set(&DIAMOND), "stamp base drops nothing");

    ok(d, &["stamp", "a2"]);
    assert_eq!(applied(d), set(&["r0", "a1", "a2"]), "exactly closure(a2)");
    assert_eq!(rows(d).len(), 3);
    assert_eq!(tables(d), set(&DIAMOND));
}

// ---------------------------------------------------------------------------
// 4. --dry-run

/// `(direction, id)` of a `--dry-run --json` plan, checking the shape of each step.
fn json_plan(text: &str) -> Vec<(String, String)> {
    let plan = parse_json(text);
    plan.as_array()
        .expect("a JSON array")
        .iter()
        .map(|step| {
            let object = step.as_object().expect("a JSON object per step");
            let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
            assert_eq!(keys, BTreeSet::from(["id", "direction", "message"]), "{step}");
            let id = step["id"].as_str().unwrap().to_string();
            assert_eq!(step["message"], Value::from(format!("rev {id}")), "{step}");
            (step["direction"].as_str().unwrap().to_string(), id)
        })
        .collect()
}

#[test]
fn dry_run_prints_the_plan_the_real_run_then_executes_and_touches_nothing() {
    let dir = project();
    let d = dir.path();
    diamond(d);

    let text = ok(d, &["upgrade", "heads", "--dry-run"]);
    assert_eq!(
        progress(&text.stdout).into_iter().map(|(_, id)| id).collect::<Vec<_>>(),
        DIAMOND,
        "text plan on stdout:\n{}",
        text.stdout
    );
    let plan = json_plan(&ok(d, &["upgrade", "heads", "--dry-run", "--json"]).stdout);
    assert_eq!(plan, ups(&DIAMOND));
    assert!(!db_path(d).exists(), "a dry run does not create the database file");

    // An existing database without a version table stays without one.
    rusqlite::Connection::open(db_path(d)).unwrap().execute_batch("CREATE TABLE unrelated (x INTEGER);").unwrap();
    assert_eq!(json_plan(&ok(d, &["upgrade", "heads", "--dry-run", "--json"]).stdout), plan);
    assert!(!has_table(&db_path(d), "migraph_revisions"));
    assert!(!has_table(&db_path(d), "migraph_revisions_pending"));

    let real = ok(d, &["upgrade", "heads"]);
    assert_eq!(progress(&real.stderr), plan, "the real run follows the dry-run plan");
    assert_eq!(rows(d).into_iter().map(|r| ("up".to_string(), r.id)).collect::<Vec<_>>(), plan);

    // A plan with both directions: dry run, nothing changes, then the same steps for real.
    let before = rows(d);
    let plan = json_plan(&ok(d, &["migrate", "beta", "--dry-run", "--json"]).stdout);
    assert_eq!(plan, downs(&["t4", "m3", "a2", "a1"]));
    let plan = json_plan(&ok(d, &["--json", "migrate", "alpha", "--dry-run"]).stdout);
    assert_eq!(plan, downs(&["t4", "m3", "b1", "a2"]));
    assert_eq!(rows(d), before, "dry runs change nothing");
    assert_eq!(tables(d), set(&DIAMOND));
    let real = ok(d, &["migrate", "alpha"]);
    assert_eq!(progress(&real.stderr), plan);
    assert_eq!(applied(d), set(&["r0", "a1"]));
    assert_eq!(tables(d), set(&["r0", "a1"]));

    let plan = json_plan(&ok(d, &["downgrade", "base", "--dry-run", "--json"]).stdout);
    assert_eq!(plan, downs(&["a1", "r0"]));
    let plan = json_plan(&ok(d, &["upgrade", "heads", "--dry-run", "--json"]).stdout);
    assert_eq!(plan, ups(&["a2", "b1", "m3", "t4"]));
    assert_eq!(applied(d), set(&["r0", "a1"]));
    let nothing = json_plan(&ok(d, &["upgrade", "alpha", "--dry-run", "--json"]).stdout);
    assert!(nothing.is_empty(), "an applied target is a no-op: {nothing:?}");
}

// ---------------------------------------------------------------------------
// 5. --sql

/// Version rows without the time columns, by ID.
fn row_contents(rows: Vec<Row>) -> BTreeMap<String, (String, String, String, Option<String>)> {
    rows.into_iter().map(|r| (r.id, (r.parents, r.message, r.checksum, r.down_sql))).collect()
}

#[test]
#[cfg_attr(not(migraph_sqlite3_client), ignore = "needs the sqlite3 command-line client (apt-get install sqlite3)")]
fn sql_scripts_do_what_a_real_run_does_without_connecting() {
    let dir = project();
    let d = dir.path();
    diamond(d);

    let script = ok(d, &["upgrade", "heads", "--sql"]).stdout;
    assert!(!db_path(d).exists(), "--sql does not create the database file");
    assert!(script.contains("BEGIN IMMEDIATE;") && script.contains("COMMIT;"), "{script}");
    let from_script = d.join("script.db");
    sqlite3(&from_script, &script);

    ok(d, &["upgrade", "heads", "-q"]);
    assert_eq!(tables_at(&from_script), tables(d));
    assert_eq!(tables_at(&from_script), set(&DIAMOND));
    let scripted = rows_in(&from_script, "migraph_revisions");
    assert_eq!(scripted.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), DIAMOND);
    for r in &scripted {
        assert!(
            time::OffsetDateTime::parse(&r.applied_at, &time::format_description::well_known::Rfc3339).is_ok(),
            "{r:?}"
        );
    }
    assert_eq!(row_contents(scripted), row_contents(rows(d)), "same version rows as a real upgrade");

    // migraph reads the scripted database as fully applied, without drift.
    let script_url = format!("sqlite://{}", from_script.display());
    let status = parse_json(&mg(d, &script_url, &["status", "--json"]).stdout);
    assert_eq!(status["pending"], Value::Array(vec![]), "{status}");
    assert_eq!(status["drift"], Value::Array(vec![]), "{status}");
    let noop = mg(d, &script_url, &["upgrade", "heads"]);
    assert!(noop.code == 0 && noop.stderr.contains("nothing to do"), "{noop:?}");

    // --from: the script starts from closure(a2).
    let partial = ok(d, &["upgrade", "heads", "--sql", "--from", "a2"]).stdout;
    let steps: Vec<&str> = partial.lines().filter_map(|l| l.strip_prefix("-- up ")).collect();
    assert_eq!(steps.iter().map(|s| &s[..2]).collect::<Vec<_>>(), ["b1", "m3", "t4"], "{partial}");
    let half = d.join("half.db");
    let half_url = format!("sqlite://{}", half.display());
    assert_eq!(mg(d, &half_url, &["upgrade", "a2", "-q"]).code, 0);
    sqlite3(&half, &partial);
    assert_eq!(tables_at(&half), set(&DIAMOND));
    assert_eq!(applied_in(&half, "migraph_revisions"), set(&DIAMOND));

    // A downgrade script from heads undoes everything.
    let down = ok(d, &["downgrade", "base", "--sql", "--from", "heads"]).stdout;
    sqlite3(&half, &down);
    assert!(tables_at(&half).is_empty());
    assert!(applied_in(&half, "migraph_revisions").is_empty());

    // The URL's dialect, and never its password.
    let pg = ok(d, &["--database-url", "postgres://u:secret@db.invalid/app", "upgrade", "heads", "--sql"]);
    assert!(pg.stdout.contains("BEGIN;\n"), "{}", pg.stdout);
    assert!(!pg.stdout.contains("BEGIN IMMEDIATE"), "{}", pg.stdout);
    assert!(pg.stdout.contains("\"migraph_revisions\""), "{}", pg.stdout);
    assert!(!pg.stdout.contains("secret") && !pg.stderr.contains("secret"), "{pg:?}");
    let pg_env = mg(d, "postgresql://u:secret@db.invalid/app", &["downgrade", "base", "--sql"]);
    assert_eq!(pg_env.code, 0, "{pg_env:?}");
    assert!(!pg_env.stdout.contains("secret") && !pg_env.stderr.contains("secret"), "{pg_env:?}");
}

#[test]
#[cfg_attr(not(migraph_sqlite3_client), ignore = "needs the sqlite3 command-line client (apt-get install sqlite3)")]
fn sql_script_terminates_a_last_statement_that_ends_with_a_comment() {
    let dir = project();
    let d = dir.path();
    write_revision(d, "c0", "", "CREATE TABLE t_c0 (id INTEGER) -- the first table", Some("DROP TABLE t_c0"), "");
    table_revision(d, "c1", "c0");

    // A real run accepts the file.
    ok(d, &["upgrade", "heads", "-q"]);
    assert_eq!(tables(d), set(&["c0", "c1"]));

    let script = ok(d, &["upgrade", "heads", "--sql"]).stdout;
    let from_script = d.join("script.db");
    sqlite3(&from_script, &script);
    assert_eq!(tables_at(&from_script), set(&["c0", "c1"]));
    assert_eq!(applied_in(&from_script, "migraph_revisions"), set(&["c0", "c1"]));
}

// ---------------------------------------------------------------------------
// 6. --backup

#[test]
fn backup_copies_the_database_before_the_first_change() {
    let dir = project();
    let d = dir.path();
    diamond(d);
    ok(d, &["upgrade", "alpha", "-q"]);

    let r = ok(d, &["upgrade", "heads", "--backup"]);
    let printed = r.stdout.trim();
    assert_eq!(r.stdout.lines().count(), 1, "one path on stdout: {:?}", r.stdout);
    let backup = PathBuf::from(printed);
    assert!(backup.is_file(), "{printed} exists");
    assert_eq!(backup.parent(), db_path(d).parent(), "beside the database");
    assert_ne!(backup, db_path(d));
    assert_eq!(applied_in(&backup, "migraph_revisions"), set(&["r0", "a1"]), "the pre-upgrade rows");
    assert_eq!(tables_at(&backup), set(&["r0", "a1"]));
    let check: String = open(&backup).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    assert_eq!(applied(d), set(&DIAMOND), "the upgrade itself ran");
    assert_eq!(tables(d), set(&DIAMOND));

    // Nothing to do: no backup.
    let before = files_in(d);
    let r = ok(d, &["upgrade", "heads", "--backup"]);
    assert_eq!(r.stdout, "");
    assert_eq!(files_in(d), before, "no new file");

    // Not SQLite: an error, without connecting and without the password.
    let pg = run(d, &["--database-url", "postgres://u:secret@127.0.0.1:1/app", "upgrade", "heads", "--backup"]);
    assert_eq!(pg.code, 1, "{pg:?}");
    assert!(pg.stderr.starts_with("error: ") && pg.stderr.contains("SQLite"), "{}", pg.stderr);
    assert!(!pg.stderr.contains("secret"));
}

#[test]
fn backups_in_quick_succession_each_get_their_own_file() {
    let dir = project();
    let d = dir.path();
    diamond(d);
    ok(d, &["upgrade", "r0", "-q"]);
    // Three runs well within a second: at least two of them share a second.
    let mut backups = Vec::new();
    for (target, before) in [("a1", &["r0"][..]), ("a2", &["r0", "a1"]), ("b1", &["r0", "a1", "a2"])] {
        let r = ok(d, &["upgrade", target, "--backup", "-q"]);
        let backup = PathBuf::from(r.stdout.trim());
        assert_eq!(applied_in(&backup, "migraph_revisions"), set(before), "{}", backup.display());
        backups.push(backup);
    }
    assert_eq!(backups.iter().collect::<BTreeSet<_>>().len(), 3, "{backups:?}");
    assert_eq!(applied(d), set(&["r0", "a1", "a2", "b1"]));
}

// ---------------------------------------------------------------------------
// 7. A failure in the middle of a plan

#[test]
fn a_failing_revision_rolls_back_alone_and_the_rerun_finishes() {
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    table_revision(d, "a1", "r0");
    write_revision(
        d,
        "a2",
        "a1",
        "CREATE TABLE t_a2 (id INTEGER); CREATE TABLE broken (;",
        Some("DROP TABLE t_a2;"),
        "",
    );

    let r = fails(d, &["upgrade", "heads"]);
    assert_eq!(progress(&r.stderr), ups(&["r0", "a1"]));
    let error = r.stderr.lines().find(|l| l.starts_with("error:")).expect("an error line");
    assert!(error.starts_with("error: revision a2"), "{}", r.stderr);
    assert!(error.contains("syntax error"), "SQLite's message: {}", r.stderr);
    assert_eq!(applied(d), set(&["r0", "a1"]));
    assert_eq!(tables(d), set(&["r0", "a1"]), "t_a2 was rolled back");
    assert!(!has_table(&db_path(d), "broken"));
    assert!(markers(d).is_empty(), "a transactional failure leaves no marker");

    // With -q, the error is the first line.
    let r = fails(d, &["upgrade", "heads", "-q"]);
    let first = r.stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: revision a2") && first.contains("syntax error"), "{}", r.stderr);
    assert_eq!(applied(d), set(&["r0", "a1"]));

    table_revision(d, "a2", "a1");
    let r = ok(d, &["upgrade", "heads"]);
    assert_eq!(progress(&r.stderr), ups(&["a2"]));
    assert_eq!(applied(d), set(&["r0", "a1", "a2"]));
    assert_eq!(tables(d), set(&["r0", "a1", "a2"]));
}

// ---------------------------------------------------------------------------
// 8. Checksum drift

#[test]
fn checksum_drift_stops_runs_until_accepted() {
    let dir = project();
    let d = dir.path();
    diamond(d);
    ok(d, &["upgrade", "a2", "-q"]);
    let before = rows(d);
    let recorded = row(d, "a1").checksum;

    edit(d, "a1", "v VARCHAR(20)", "v VARCHAR(30)");
    let r = fails(d, &["upgrade", "heads"]);
    assert!(r.stderr.contains("a1") && r.stderr.contains("a1.sql"), "{}", r.stderr);
    assert!(r.stderr.contains("drift"), "{}", r.stderr);
    assert_eq!(rows(d), before, "nothing changes");
    assert_eq!(tables(d), set(&["r0", "a1", "a2"]));

    let status = ok(d, &["status"]).stdout;
    let drift: Vec<&str> = status.lines().filter(|l| l.starts_with("drift:")).collect();
    assert_eq!(drift.len(), 1, "{status}");
    assert!(drift[0].contains("a1") && drift[0].contains("a1.sql"), "{status}");
    let json = parse_json(&ok(d, &["status", "--json"]).stdout);
    let current = file_checksum(d, "a1");
    assert_ne!(current, recorded);
    assert_eq!(json["drift"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["drift"][0]["id"], "a1");
    assert_eq!(json["drift"][0]["recorded"], Value::from(recorded.clone()));
    assert_eq!(json["drift"][0]["current"], Value::from(current.clone()));

    // Accepting the edit records the new checksum and nothing else: the
    // pending revisions stay pending (their SQL never ran), and a target is refused.
    let r = run(d, &["stamp", "--accept-drift", "heads"]);
    assert_eq!(r.code, 2, "a target with --accept-drift is bad usage: {}", r.stderr);
    assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
    assert_eq!(row(d, "a1").checksum, recorded);
    let r = ok(d, &["stamp", "--accept-drift"]);
    assert!(r.stderr.contains("0 row(s) added, 0 row(s) removed") && r.stderr.contains("a1"), "{}", r.stderr);
    assert_eq!(row(d, "a1").checksum, current);
    assert_eq!(applied(d), set(&["r0", "a1", "a2"]));
    let r = ok(d, &["upgrade", "heads"]);
    assert_eq!(progress(&r.stderr), ups(&["b1", "m3", "t4"]));
    assert_eq!(tables(d), set(&DIAMOND));

    // The same with `heads` once everything is applied.
    edit(d, "m3", "DROP TABLE t_m3;", "DROP TABLE IF EXISTS t_m3;");
    fails(d, &["upgrade", "heads"]);
    // A downgrade that keeps the drifted m3 applied is refused (one that
    // unapplies it runs its stored down section: tests/daily.rs).
    fails(d, &["downgrade", "t4"]);
    assert_eq!(applied(d), set(&DIAMOND));
    ok(d, &["stamp", "--accept-drift"]);
    assert_eq!(row(d, "m3").checksum, file_checksum(d, "m3"));
    assert!(row(d, "m3").down_sql.unwrap().contains("IF EXISTS"), "the new down section is stored");
    let r = ok(d, &["upgrade", "heads"]);
    assert!(r.stderr.contains("nothing to do"), "{}", r.stderr);
    assert!(!ok(d, &["status"]).stdout.contains("drift:"));

    // Not drift: the message, CRLF line endings, trailing whitespace and blank lines.
    let b1 = row(d, "b1").checksum;
    edit(d, "b1", "-- message: rev b1", "-- message: a new message for b1");
    edit(d, "b1", "VARCHAR(20));\n", "VARCHAR(20)); \t\n\n");
    edit(d, "b1", "DROP TABLE t_b1;\n", "DROP TABLE t_b1;   \n\n\n");
    let path = d.join("revisions").join("b1.sql");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace('\n', "\r\n")).unwrap();
    assert_eq!(file_checksum(d, "b1"), b1);
    let r = ok(d, &["upgrade", "heads"]);
    assert!(r.stderr.contains("nothing to do"), "{}", r.stderr);
    assert!(!ok(d, &["status"]).stdout.contains("drift:"));
    assert_eq!(row(d, "b1").checksum, b1);
    let r = ok(d, &["downgrade", "m3"]);
    assert_eq!(progress(&r.stderr), downs(&["t4"]));
}

// ---------------------------------------------------------------------------
// 9. The database is ahead of the files

#[test]
fn a_database_ahead_of_the_files_can_only_go_down_with_stored_sql() {
    let dir = project();
    let d = dir.path();
    diamond(d);
    ok(d, &["upgrade", "heads", "-q"]);
    let before = rows(d);
    fs::remove_file(d.join("revisions/t4.sql")).unwrap();

    let r = fails(d, &["upgrade", "heads"]);
    assert!(r.stderr.contains("ahead") && r.stderr.contains("t4"), "{}", r.stderr);
    assert_eq!(rows(d), before);
    let r = fails(d, &["migrate", "m3"]);
    assert!(r.stderr.contains("ahead"), "{}", r.stderr);
    let status = ok(d, &["status"]).stdout;
    assert!(status.lines().any(|l| l.starts_with("missing:") && l.contains("t4")), "{status}");

    let r = ok(d, &["downgrade", "m3"]);
    assert_eq!(progress(&r.stderr), downs(&["t4"]));
    assert!(
        r.stderr.lines().any(|l| l.contains("note") && l.contains("t4") && l.contains("stored")),
        "a note about the stored down section: {}",
        r.stderr
    );
    assert_eq!(applied(d), set(&["r0", "a1", "a2", "b1", "m3"]));
    assert_eq!(tables(d), set(&["r0", "a1", "a2", "b1", "m3"]), "t_t4 was dropped");
    let r = ok(d, &["upgrade", "heads"]);
    assert!(r.stderr.contains("nothing to do"), "{}", r.stderr);

    // A stored revision without a down section cannot be unapplied.
    let dir = project();
    let d = dir.path();
    diamond(d);
    write_revision(d, "t4", "m3", "CREATE TABLE t_t4 (id INTEGER);", None, "");
    ok(d, &["upgrade", "heads", "-q"]);
    assert_eq!(row(d, "t4").down_sql, None, "irreversible: NULL down_sql");
    fs::remove_file(d.join("revisions/t4.sql")).unwrap();
    let r = fails(d, &["downgrade", "m3"]);
    assert!(r.stderr.contains("t4") && r.stderr.contains("irreversible"), "{}", r.stderr);
    assert_eq!(applied(d), set(&DIAMOND));
    assert_eq!(tables(d), set(&DIAMOND));
}

// ---------------------------------------------------------------------------
// 10. Irreversible revisions

#[test]
fn irreversible_revisions_stop_a_downgrade_before_anything_runs() {
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    write_revision(d, "i1", "r0", "CREATE TABLE t_i1 (id INTEGER);", None, "");
    write_revision(d, "e2", "i1", "CREATE TABLE t_e2 (id INTEGER);", Some(""), "");

    ok(d, &["upgrade", "heads", "-q"]);
    assert_eq!(applied(d), set(&["r0", "i1", "e2"]));
    assert_eq!(tables(d), set(&["r0", "i1", "e2"]));
    assert_eq!(row(d, "i1").down_sql, None);
    assert_eq!(row(d, "e2").down_sql.as_deref().map(str::trim), Some(""), "empty down section: not NULL");
    let before = rows(d);

    let r = fails(d, &["downgrade", "base"]);
    assert!(r.stderr.contains("i1.sql"), "names the file: {}", r.stderr);
    assert!(progress(&r.stderr).is_empty(), "nothing ran: {}", r.stderr);
    assert_eq!(rows(d), before, "e2, which would come first, is still applied");
    assert_eq!(tables(d), set(&["r0", "i1", "e2"]));
    assert!(fails(d, &["downgrade", "base", "--dry-run"]).stderr.contains("i1.sql"));
    assert!(fails(d, &["downgrade", "base", "--sql", "--from", "heads"]).stderr.contains("i1.sql"));

    // An empty down section is a no-op downgrade.
    let r = ok(d, &["downgrade", "i1"]);
    assert_eq!(progress(&r.stderr), downs(&["e2"]));
    assert_eq!(applied(d), set(&["r0", "i1"]));
    assert_eq!(tables(d), set(&["r0", "i1", "e2"]), "the no-op down left t_e2");
}

// ---------------------------------------------------------------------------
// 11. transaction: false

#[test]
fn a_failed_non_transactional_revision_leaves_a_marker_until_stamped() {
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    write_revision(d, "n1", "r0", "CREATE TABLE t_n1 (id INTEGER);", Some("DROP TABLE t_n1;"), "-- transaction: false");
    let r = ok(d, &["upgrade", "heads"]);
    assert_eq!(progress(&r.stderr), ups(&["r0", "n1"]));
    assert_eq!(applied(d), set(&["r0", "n1"]));
    assert_eq!(tables(d), set(&["r0", "n1"]));
    assert!(markers(d).is_empty(), "the marker is removed with the row");

    write_revision(
        d,
        "n2",
        "n1",
        "CREATE TABLE t_n2 (id INTEGER); CREATE TABLE broken (;",
        Some("DROP TABLE t_n2;"),
        "-- transaction: false",
    );
    let r = fails(d, &["upgrade", "heads"]);
    assert!(r.stderr.contains("error: revision n2"), "{}", r.stderr);
    let left = markers(d);
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!((left[0].0.as_str(), left[0].1.as_str()), ("n2", "up"));
    assert!(left[0].2.as_deref().unwrap_or_default().contains("syntax error"), "{left:?}");
    assert_eq!(applied(d), set(&["r0", "n1"]));
    assert_eq!(tables(d), set(&["r0", "n1", "n2"]), "outside a transaction, the first statement stayed");

    let status = ok(d, &["status"]).stdout;
    assert!(status.lines().any(|l| l.starts_with("FAILED") && l.contains("n2")), "{status}");
    let json = parse_json(&ok(d, &["status", "--json"]).stdout);
    assert_eq!(json["failed"].as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(json["failed"][0]["id"], "n2");
    assert_eq!(json["failed"][0]["direction"], "up");
    let current = ok(d, &["current"]);
    assert!(current.stderr.contains("warning") && current.stderr.contains("n2"), "{}", current.stderr);
    assert!(current.stdout.contains("n1"), "{}", current.stdout);

    for args in [&["upgrade", "heads"][..], &["downgrade", "r0"], &["migrate", "r0"]] {
        let r = fails(d, args);
        assert!(r.stderr.contains("n2") && r.stderr.contains("migraph stamp"), "{args:?}: {}", r.stderr);
    }
    assert_eq!(applied(d), set(&["r0", "n1"]));
    assert_eq!(markers(d).len(), 1);

    // Repair the schema, record the truth, fix the file, run again.
    open(&db_path(d)).execute_batch("DROP TABLE t_n2;").unwrap();
    ok(d, &["stamp", "n1"]);
    assert!(markers(d).is_empty(), "stamp clears the marker");
    assert_eq!(applied(d), set(&["r0", "n1"]));
    assert!(!ok(d, &["status"]).stdout.contains("FAILED"));
    write_revision(d, "n2", "n1", "CREATE TABLE t_n2 (id INTEGER);", Some("DROP TABLE t_n2;"), "-- transaction: false");
    let r = ok(d, &["upgrade", "heads"]);
    assert_eq!(progress(&r.stderr), ups(&["n2"]));
    assert_eq!(applied(d), set(&["r0", "n1", "n2"]));
    assert_eq!(tables(d), set(&["r0", "n1", "n2"]));
    assert!(markers(d).is_empty());
}

// ---------------------------------------------------------------------------
// 12. --single-transaction

#[test]
fn single_transaction_is_all_or_nothing() {
    let dir = project();
    let d = dir.path();
    diamond(d);
    ok(d, &["upgrade", "r0", "-q"]);
    write_revision(
        d,
        "m3",
        "a2 b1",
        "CREATE TABLE t_m3 (id INTEGER); CREATE TABLE broken (;",
        Some("DROP TABLE t_m3;"),
        "",
    );

    let r = fails(d, &["upgrade", "heads", "--single-transaction"]);
    assert!(r.stderr.contains("error: revision m3"), "{}", r.stderr);
    assert_eq!(applied(d), set(&["r0"]), "a1, a2, b1 were rolled back with m3");
    assert_eq!(tables(d), set(&["r0"]));
    assert!(markers(d).is_empty());

    // A `transaction: false` revision in the plan: refused before anything runs.
    table_revision(d, "m3", "a2 b1");
    write_revision(d, "t4", "m3", "CREATE TABLE t_t4 (id INTEGER);", Some("DROP TABLE t_t4;"), "-- transaction: false");
    let r = fails(d, &["upgrade", "heads", "--single-transaction"]);
    assert!(r.stderr.contains("t4") && r.stderr.contains("transaction"), "{}", r.stderr);
    assert!(progress(&r.stderr).is_empty(), "{}", r.stderr);
    assert_eq!(applied(d), set(&["r0"]));
    assert_eq!(tables(d), set(&["r0"]));
    // Without that revision in the plan it works.
    let r = ok(d, &["upgrade", "m3", "--single-transaction"]);
    assert_eq!(progress(&r.stderr), ups(&["a1", "a2", "b1", "m3"]));
    assert_eq!(applied(d), set(&["r0", "a1", "a2", "b1", "m3"]));
    assert_eq!(tables(d), set(&["r0", "a1", "a2", "b1", "m3"]));
}

// ---------------------------------------------------------------------------
// 13. current and status

fn ids(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("an array: {value}"))
        .iter()
        .map(|v| v.as_str().map_or_else(|| v["id"].as_str().expect("id").to_string(), str::to_string))
        .collect()
}

#[test]
fn current_and_status_describe_a_partially_applied_diamond() {
    let dir = project();
    let d = dir.path();
    diamond(d);
    table_revision(d, "x9", "a2");
    write_revision(
        d,
        "f8",
        "b1",
        "CREATE TABLE t_f8 (id INTEGER); CREATE TABLE broken (;",
        Some("DROP TABLE t_f8;"),
        "-- transaction: false",
    );

    // Nothing yet, and the database file does not exist: nothing is created.
    let r = ok(d, &["current"]);
    assert_eq!(r.stdout, "");
    assert!(r.stderr.contains("no revisions applied"), "{}", r.stderr);
    assert_eq!(ok(d, &["current", "--json"]).stdout.trim(), "[]");
    let empty = parse_json(&ok(d, &["status", "--json"]).stdout);
    assert_eq!(empty["applied"], Value::Array(vec![]));
    assert_eq!(ids(&empty["pending"]).len(), 8);
    assert!(!db_path(d).exists(), "current and status do not create the database");

    ok(d, &["upgrade", "x9", "-q"]);
    ok(d, &["upgrade", "b1", "-q"]);
    fails(d, &["upgrade", "f8", "-q"]);
    let recorded = row(d, "a1").checksum;
    edit(d, "a1", "v VARCHAR(20)", "v VARCHAR(21)");
    fs::remove_file(d.join("revisions/x9.sql")).unwrap();

    let json = parse_json(&ok(d, &["status", "--json"]).stdout);
    let mut applied_ids = ids(&json["applied"]);
    applied_ids.sort();
    assert_eq!(applied_ids, ["a1", "a2", "b1", "r0", "x9"], "{json}");
    let mut heads = ids(&json["heads"]);
    heads.sort();
    assert_eq!(heads, ["b1", "x9"], "{json}");
    assert_eq!(ids(&json["pending"]), ["f8", "m3", "t4"], "in upgrade order: {json}");
    assert_eq!(json["drift"].as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(json["drift"][0]["id"], "a1");
    assert!(json["drift"][0]["path"].as_str().unwrap().ends_with("a1.sql"), "{json}");
    assert_eq!(json["drift"][0]["recorded"], Value::from(recorded));
    assert_eq!(json["drift"][0]["current"], Value::from(file_checksum(d, "a1")));
    assert_eq!(json["missing_files"], serde_json::json!(["x9"]));
    assert_eq!(json["failed"].as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(json["failed"][0]["id"], "f8");
    assert_eq!(json["failed"][0]["direction"], "up");
    assert!(json["failed"][0]["error"].as_str().unwrap_or_default().contains("syntax error"), "{json}");
    assert_eq!(json["table"], "migraph_revisions");

    let text = ok(d, &["status"]).stdout;
    assert!(text.contains("applied:  5 of"), "{text}");
    for (prefix, id) in [("head:", "b1"), ("head:", "x9"), ("drift:", "a1"), ("missing:", "x9"), ("FAILED:", "f8")] {
        assert!(text.lines().any(|l| l.starts_with(prefix) && l.contains(id)), "{prefix} {id} in:\n{text}");
    }
    let pending: Vec<&str> = text.lines().filter(|l| l.starts_with("  ")).map(str::trim).collect();
    assert_eq!(pending.iter().map(|l| &l[..2]).collect::<Vec<_>>(), ["f8", "m3", "t4"], "{text}");

    let current = ok(d, &["current"]);
    let mut lines: Vec<&str> = current.stdout.lines().map(|l| l.split_whitespace().next().unwrap()).collect();
    lines.sort();
    assert_eq!(lines, ["b1", "x9"], "{}", current.stdout);
    assert!(current.stderr.contains("warning") && current.stderr.contains("f8"), "{}", current.stderr);
    let mut json_heads = ids(&parse_json(&ok(d, &["current", "--json", "-q"]).stdout));
    json_heads.sort();
    assert_eq!(json_heads, ["b1", "x9"]);
    assert_eq!(applied(d), set(&["r0", "a1", "a2", "b1", "x9"]), "reading changed nothing");
}

// ---------------------------------------------------------------------------
// 14. --table and quoting

#[test]
fn custom_table_names_are_used_and_unsafe_ones_refused() {
    let dir = project();
    let d = dir.path();
    diamond(d);

    ok(d, &["--table", "custom_versions", "upgrade", "alpha", "-q"]);
    assert_eq!(applied_in(&db_path(d), "custom_versions"), set(&["r0", "a1"]));
    assert!(!has_table(&db_path(d), "migraph_revisions"), "rows go to custom_versions only");
    let custom = parse_json(&ok(d, &["status", "--json", "--table", "custom_versions"]).stdout);
    assert_eq!(ids(&custom["applied"]), ["r0", "a1"]);
    let default = parse_json(&ok(d, &["status", "--json"]).stdout);
    assert_eq!(default["applied"], Value::Array(vec![]));
    ok(d, &["downgrade", "base", "--table", "custom_versions", "-q"]);
    assert!(applied_in(&db_path(d), "custom_versions").is_empty());
    assert!(tables(d).is_empty());

    open(&db_path(d)).execute_batch("CREATE TABLE y (id INTEGER);").unwrap();
    for args in [&["--table", "x\"; DROP TABLE y", "upgrade", "heads"][..], &["upgrade", "heads", "--table", "1abc"]] {
        let r = fails(d, args);
        assert!(r.stderr.starts_with("error: invalid table name"), "{}", r.stderr);
    }
    assert!(has_table(&db_path(d), "y"), "y survived");
    assert!(tables(d).is_empty());
    assert!(!has_table(&db_path(d), "migraph_revisions"));
}

#[test]
fn messages_with_quotes_and_backslashes_are_recorded_verbatim() {
    let dir = project();
    let d = dir.path();
    let message = r#"it's a "test" \ done \\ x; DROP TABLE t_q1; --"#;
    write_file(
        d,
        "q1.sql",
        &format!("-- id: q1\n-- parents:\n-- message: {message}\n\n-- migrate:up\nCREATE TABLE t_q1 (s TEXT);\nINSERT INTO t_q1 VALUES ('it''s \\ ok');\n-- migrate:down\nDROP TABLE t_q1;\n"),
    );
    ok(d, &["upgrade", "heads", "-q"]);
    assert_eq!(row(d, "q1").message, message);
    assert_eq!(tables(d), set(&["q1"]));

    // The same through a --sql script.
    let scripted = d.join("script.db");
    sqlite3(&scripted, &ok(d, &["upgrade", "heads", "--sql"]).stdout);
    let rows = rows_in(&scripted, "migraph_revisions");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].message, message);
    assert_eq!(rows[0].down_sql, row(d, "q1").down_sql);
    let value: String = open(&scripted).query_row("SELECT s FROM t_q1", [], |r| r.get(0)).unwrap();
    assert_eq!(value, "it's \\ ok");
}

// ---------------------------------------------------------------------------
// 15. Where the URL comes from

fn without_env(dir: &Path) -> assert_cmd::Command {
    let mut cmd = migraph(dir, "");
    cmd.env_remove("DATABASE_URL");
    cmd
}

#[test]
fn the_database_url_comes_from_flag_then_env_then_migraph_toml() {
    let dir = project();
    let d = dir.path();
    diamond(d);

    let r = run_cmd(without_env(d), &["upgrade", "heads"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stderr.contains("DATABASE_URL") && r.stderr.contains("migraph.toml"), "{}", r.stderr);
    assert_eq!(files_in(d), set(&["revisions"]), "nothing was created");

    // A password in the URL never shows, whatever goes wrong.
    for args in [&["status"][..], &["upgrade", "heads"], &["current", "--json"]] {
        let mut cmd = without_env(d);
        cmd.args(["--database-url", "postgres://u:s3cr3t@127.0.0.1:1/app"]);
        let r = run_cmd(cmd, args);
        assert_eq!(r.code, 1, "{args:?}: {r:?}");
        assert!(!r.stdout.contains("s3cr3t") && !r.stderr.contains("s3cr3t"), "{args:?}: {r:?}");
    }

    // migraph.toml in a parent directory: its relative path is relative to the file.
    fs::write(d.join("migraph.toml"), "revisions = \"revisions\"\ndatabase_url = \"sqlite://rel.db\"\n").unwrap();
    let sub = d.join("sub").join("deeper");
    fs::create_dir_all(&sub).unwrap();
    let r = run_cmd(without_env(&sub), &["upgrade", "alpha", "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(applied_in(&d.join("rel.db"), "migraph_revisions"), set(&["r0", "a1"]));
    assert!(!sub.join("rel.db").exists());
    assert_eq!(files_in(&sub), BTreeSet::new());

    // DATABASE_URL beats the file; --database-url beats both.
    let env_db = d.join("env.db");
    let flag_db = d.join("flag.db");
    let env_url = format!("sqlite://{}", env_db.display());
    let flag_url = format!("sqlite://{}", flag_db.display());
    let r = mg(&sub, &env_url, &["upgrade", "a2", "-q"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(applied_in(&env_db, "migraph_revisions"), set(&["r0", "a1", "a2"]));
    assert_eq!(applied_in(&d.join("rel.db"), "migraph_revisions"), set(&["r0", "a1"]), "the file's URL unused");
    let r = mg(&sub, &env_url, &["upgrade", "beta", "-q", "--database-url", &flag_url]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(applied_in(&flag_db, "migraph_revisions"), set(&["r0", "b1"]));
    assert_eq!(applied_in(&env_db, "migraph_revisions"), set(&["r0", "a1", "a2"]), "the env URL unused");
    assert_eq!(applied_in(&d.join("rel.db"), "migraph_revisions"), set(&["r0", "a1"]));
}

// ---------------------------------------------------------------------------
// 16. Concurrent runs

/// A 40-revision history: a main line of 20, four 4-revision branches (three
/// merged back into the main line), four extra heads. Returns every ID.
fn branchy_history(dir: &Path) -> Vec<String> {
    let mut all = Vec::new();
    let mut add = |id: String, parents: String| {
        table_revision(dir, &id, &parents);
        all.push(id);
    };
    for i in 0..20 {
        let mut parents = if i == 0 { String::new() } else { format!("m{:02}", i - 1) };
        if i % 5 == 0 && i > 0 {
            parents.push_str(&format!(" b{}_3", i / 5 - 1));
        }
        add(format!("m{i:02}"), parents);
    }
    for k in 0..4 {
        for j in 0..4 {
            let parent = if j == 0 { format!("m{:02}", 5 * k) } else { format!("b{k}_{}", j - 1) };
            add(format!("b{k}_{j}"), parent);
        }
    }
    for (h, parent) in [3, 8, 13, 19].into_iter().enumerate() {
        add(format!("h{h}"), format!("m{parent:02}"));
    }
    all
}

/// Runs `upgrade heads` in `n` processes at once; returns their outputs.
fn concurrent_upgrades(dir: &Path, n: usize) -> Vec<std::process::Output> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            migraph_process(dir, &sqlite_url(dir))
                .args(["upgrade", "heads"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn migraph")
        })
        .collect();
    children.into_iter().map(|c| c.wait_with_output().expect("wait")).collect()
}

#[test]
fn concurrent_upgrades_apply_each_revision_exactly_once() {
    let dir = project();
    let d = dir.path();
    let all = branchy_history(d);
    assert_eq!(all.len(), 40);
    let heads = parse_json(&ok(d, &["heads", "--json"]).stdout);
    assert_eq!(ids(&heads).len(), 5, "{heads}");

    for round in 0..3 {
        let _ = fs::remove_file(db_path(d));
        let outputs = concurrent_upgrades(d, 6);
        let mut applied_by: BTreeMap<String, usize> = BTreeMap::new();
        for out in &outputs {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "round {round}: a run failed:\n{stderr}");
            for (direction, id) in progress(&stderr) {
                assert_eq!(direction, "up");
                *applied_by.entry(id).or_default() += 1;
            }
        }
        assert!(applied_by.values().all(|&n| n == 1), "round {round}: applied more than once: {applied_by:?}");
        assert_eq!(applied_by.len(), 40, "round {round}: every revision applied by some run: {applied_by:?}");
        let rows = rows(d);
        assert_eq!(rows.len(), 40, "round {round}: one row per revision");
        assert_eq!(rows.into_iter().map(|r| r.id).collect::<BTreeSet<_>>(), all.iter().cloned().collect());
        assert_eq!(tables(d), all.iter().cloned().collect());
        assert!(markers(d).is_empty());
    }
}

#[test]
fn concurrent_upgrades_apply_a_non_transactional_revision_exactly_once() {
    let dir = project();
    let d = dir.path();
    for i in 0..10 {
        let id = format!("c{i}");
        let parent = if i == 0 { String::new() } else { format!("c{}", i - 1) };
        let extra = if i == 5 { "-- transaction: false" } else { "" };
        write_revision(d, &id, &parent, &format!("CREATE TABLE t_{id} (id INTEGER);"), Some("SELECT 1;"), extra);
    }
    let all: BTreeSet<String> = (0..10).map(|i| format!("c{i}")).collect();
    for round in 0..10 {
        let _ = fs::remove_file(db_path(d));
        let outputs = concurrent_upgrades(d, 6);
        for out in &outputs {
            assert!(out.status.success(), "round {round}: {}", String::from_utf8_lossy(&out.stderr));
        }
        assert!(markers(d).is_empty(), "round {round}: {:?}", markers(d));
        assert_eq!(applied(d), all);
        assert_eq!(tables(d), all);
    }
}

// ---------------------------------------------------------------------------
// 17. Kill safety

/// A tiny xorshift generator: kill points vary between runs, and the seed is printed.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

/// Checks that every version row has its table (with all its rows) and every table its row.
fn assert_in_step(dir: &Path, rows_per_table: i64, context: &str) -> usize {
    let path = db_path(dir);
    let ids = applied(dir);
    assert_eq!(rows(dir).len(), ids.len(), "{context}: duplicate rows");
    assert_eq!(tables(dir), ids, "{context}: tables and version rows out of step");
    assert!(markers(dir).is_empty(), "{context}: a marker was left: {:?}", markers(dir));
    if path.exists() {
        let conn = open(&path);
        for id in &ids {
            let n: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM t_{id}"), [], |r| r.get(0)).unwrap();
            assert_eq!(n, rows_per_table, "{context}: t_{id} is half filled");
        }
    }
    ids.len()
}

#[test]
fn killed_runs_leave_tables_and_rows_in_step() {
    const N: usize = 300;
    const ROWS: i64 = 200;
    let dir = project();
    let d = dir.path();
    for i in 0..N {
        let id = format!("k{i:03}");
        let parent = if i == 0 { String::new() } else { format!("k{:03}", i - 1) };
        write_revision(
            d,
            &id,
            &parent,
            &format!(
                "CREATE TABLE t_{id} (n INTEGER NOT NULL);\n\
                 INSERT INTO t_{id} (n) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {ROWS}) SELECT x FROM c;"
            ),
            Some(&format!("DROP TABLE t_{id};")),
            "",
        );
    }
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("kill-point seed: {seed}");
    let mut rng = Rng(seed);

    // Five random kill points between 5 and 150 ms; on a slow or busy machine,
    // later ones until at least one lands in the middle of a run.
    let mut delays: Vec<u64> = (0..5u64).map(|i| 5 + i * 29 + rng.next(29)).collect();
    delays.extend([250, 400, 700, 1200, 2000]);
    let mut partial = 0;
    for (i, delay) in delays.into_iter().enumerate() {
        if i >= 5 && partial > 0 {
            break;
        }
        // A fresh database each time, so every kill point lands in a run from scratch.
        for suffix in ["", "-journal", "-wal", "-shm"] {
            let _ = fs::remove_file(d.join(format!("app.db{suffix}")));
        }
        let mut child = migraph_process(d, &sqlite_url(d))
            .args(["upgrade", "heads", "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let status = child.wait().expect("wait");
        let context = format!("kill after {delay} ms ({:?} elapsed, {status})", started.elapsed());
        let n = assert_in_step(d, ROWS, &context);
        eprintln!("{context}: {n} of {N} applied");
        if 0 < n && n < N {
            partial += 1;
        }
    }
    assert!(partial > 0, "no kill landed in the middle of a run; the test checked nothing");

    // The last killed state resumes to completion.
    let r = ok(d, &["upgrade", "heads", "-q"]);
    assert_eq!(r.stderr, "");
    assert_eq!(assert_in_step(d, ROWS, "after the rerun"), N);
}
