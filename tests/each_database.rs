//! `--each-database FILE --jobs N`: one command over a list of databases.
//!
//! Every revision of the test chain inserts its ID into `applied_log`, so
//! "applied exactly once" is a count of rows, whatever ran concurrently.

mod common;

use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::{Ran, Server, TestDb};
use migraph::backend::{AnyConnection, Backend};
use serde_json::Value;

const CHAIN: [&str; 5] = ["r0", "r1", "r2", "r3", "r4"];

/// r0 ─ r1 ─ r2 ─ r3 ─ r4: r0 creates `applied_log`, each revision
/// creates `t_<id>` and logs its ID there.
fn chain(dir: &Path) {
    let log = "CREATE TABLE applied_log (id VARCHAR(20));";
    for (i, id) in CHAIN.iter().enumerate() {
        let parent = if i == 0 { String::new() } else { CHAIN[i - 1].to_string() };
        let create = if i == 0 { log } else { "" };
        let up = format!(
            "{create}\nCREATE TABLE t_{id} (id INTEGER PRIMARY KEY, v VARCHAR(20));\nINSERT INTO applied_log (id) VALUES ('{id}');"
        );
        let drop_log = if i == 0 { "\nDROP TABLE applied_log;" } else { "" };
        let down = format!("DELETE FROM applied_log WHERE id = '{id}';\nDROP TABLE t_{id};{drop_log}");
        common::write_revision(dir, id, &parent, &up, Some(&down), "");
    }
}

fn sqlite_file(dir: &Path, n: usize) -> PathBuf {
    dir.join("dbs").join(format!("db{n:03}.db"))
}

/// `dbs.txt` listing `count` SQLite files below `dbs/` (relative to the list).
fn sqlite_list(dir: &Path, count: usize) -> PathBuf {
    fs::create_dir_all(dir.join("dbs")).expect("mkdir");
    let mut text = String::from("# the fleet\n\n");
    for n in 0..count {
        text += &format!("sqlite://dbs/db{n:03}.db\n");
    }
    let list = dir.join("dbs.txt");
    fs::write(&list, text).expect("write list");
    list
}

/// How many times each revision's row is in `applied_log` of a SQLite file
/// (all zero when it has no such table).
fn sqlite_log(path: &Path) -> Vec<i64> {
    let conn = rusqlite::Connection::open(path).expect("open");
    CHAIN
        .iter()
        .map(|id| conn.query_row("SELECT COUNT(*) FROM applied_log WHERE id = ?1", [id], |row| row.get(0)).unwrap_or(0))
        .collect()
}

fn server_log(url: &str) -> Vec<i64> {
    let mut conn = AnyConnection::connect(url).expect("connect");
    CHAIN
        .iter()
        .map(|id| {
            conn.int(&format!("SELECT COUNT(*) AS v FROM applied_log WHERE id = '{id}'"), &[])
                .expect("count")
                .unwrap_or(0)
        })
        .collect()
}

const ONCE: [i64; 5] = [1, 1, 1, 1, 1];

/// migraph in `dir`, with no DATABASE_URL (the list names the databases).
fn run(dir: &Path, args: &[&str]) -> Ran {
    let mut cmd = common::migraph(dir, "");
    cmd.env_remove("DATABASE_URL");
    common::run_cmd(cmd, args)
}

fn json(ran: &Ran) -> Vec<Value> {
    match serde_json::from_str(&ran.stdout) {
        Ok(Value::Array(rows)) => rows,
        other => panic!("not a JSON array ({other:?}):\n{ran}"),
    }
}

fn row<'a>(rows: &'a [Value], database: &str) -> &'a Value {
    rows.iter().find(|r| r["database"] == database).unwrap_or_else(|| panic!("no row for {database}: {rows:?}"))
}

fn ids(value: &Value) -> Vec<&str> {
    value.as_array().unwrap_or_else(|| panic!("not a list: {value}")).iter().map(|v| v.as_str().expect("id")).collect()
}

#[test]
fn two_hundred_sqlite_files_in_mixed_states_then_a_rerun_finishes_the_broken_ones() {
    let project = common::project();
    let dir = project.path();
    chain(dir);
    sqlite_list(dir, 200);
    // Starting states: no file, an empty file, r1 applied, r3 applied.
    fs::write(
        dir.join("part1.txt"),
        (0..200).filter(|n| n % 4 == 2).map(|n| format!("dbs/db{n:03}.db\n")).collect::<String>(),
    )
    .expect("write");
    fs::write(
        dir.join("part3.txt"),
        (0..200).filter(|n| n % 4 == 3).map(|n| format!("dbs/db{n:03}.db\n")).collect::<String>(),
    )
    .expect("write");
    for n in (0..200).filter(|n| n % 4 == 1) {
        fs::write(sqlite_file(dir, n), "").expect("empty file");
    }
    run(dir, &["upgrade", "r1", "--each-database", "part1.txt", "--jobs", "2"]).ok();
    run(dir, &["upgrade", "r3", "--each-database", "part3.txt", "--jobs", "2"]).ok();
    assert_eq!(sqlite_log(&sqlite_file(dir, 6)), [1, 1, 0, 0, 0]);
    assert_eq!(sqlite_log(&sqlite_file(dir, 7)), [1, 1, 1, 1, 0]);
    // Broken on purpose: a file that is not a database, and one where r3 fails (its table exists).
    fs::write(sqlite_file(dir, 40), "this is not a database, just text\n".repeat(100)).expect("write");
    let in_the_way = rusqlite::Connection::open(sqlite_file(dir, 41)).expect("open");
    in_the_way.execute_batch("CREATE TABLE t_r3 (x INT)").expect("create");
    drop(in_the_way);

    let ran = run(dir, &["upgrade", "heads", "--each-database", "dbs.txt", "--jobs", "4"]);
    assert_eq!(ran.code, 1, "{ran}");
    assert!(ran.first_line_of_errors().starts_with("error: 2 of 200 database(s) failed"), "{ran}");
    let table: Vec<&str> = ran.stdout.lines().collect();
    assert_eq!(table.len(), 201, "a header and a row per database:\n{ran}");
    assert!(table[0].starts_with("DATABASE") && table[0].contains("BEFORE") && table[0].ends_with("ERROR"));
    let broken = table.iter().find(|l| l.starts_with("sqlite://dbs/db040.db")).expect("row of db040");
    assert!(broken.contains("not a database"), "{broken}");
    let failing = table.iter().find(|l| l.starts_with("sqlite://dbs/db041.db")).expect("row of db041");
    assert!(failing.contains("t_r3"), "{failing}");
    // An empty file before: r0..r2 ran (and stay) before r3 failed, and the row says so.
    assert_eq!(failing.split_whitespace().collect::<Vec<_>>()[1..4], ["base", "?", "3"], "{failing}");
    let done = table.iter().find(|l| l.starts_with("sqlite://dbs/db006.db")).expect("row of db006");
    assert_eq!(done.split_whitespace().collect::<Vec<_>>()[1..4], ["r1", "r4", "3"], "{done}");
    for n in (0..200).filter(|n| ![40, 41].contains(n)) {
        assert_eq!(sqlite_log(&sqlite_file(dir, n)), ONCE, "db{n:03}");
    }
    assert_eq!(sqlite_log(&sqlite_file(dir, 41)), [1, 1, 1, 0, 0], "stopped at r3, nothing half-done");

    // The same run as JSON: nothing left but the two broken ones.
    let ran = run(dir, &["upgrade", "--each-database", "dbs.txt", "--json"]);
    assert_eq!(ran.code, 1, "{ran}");
    let rows = json(&ran);
    assert_eq!(rows.len(), 200);
    let failed: Vec<&str> = rows.iter().filter(|r| r["ok"] == false).map(|r| r["database"].as_str().unwrap()).collect();
    assert_eq!(failed, ["sqlite://dbs/db040.db", "sqlite://dbs/db041.db"]);
    assert!(row(&rows, "sqlite://dbs/db040.db")["error"].as_str().unwrap().contains("not a database"));
    assert_eq!(ids(&row(&rows, "sqlite://dbs/db041.db")["heads_before"]), ["r2"]);
    let first = row(&rows, "sqlite://dbs/db000.db");
    assert_eq!((ids(&first["heads_before"]), ids(&first["heads_after"])), (vec!["r4"], vec!["r4"]));
    assert_eq!((first["applied"].as_u64(), first["error"].is_null(), first["line"].as_u64()), (Some(0), true, Some(3)));

    // Fixed: the rerun finishes them, and only them.
    fs::remove_file(sqlite_file(dir, 40)).expect("rm");
    let fix = rusqlite::Connection::open(sqlite_file(dir, 41)).expect("open");
    fix.execute_batch("DROP TABLE t_r3").expect("drop");
    drop(fix);
    let ran = run(dir, &["upgrade", "--each-database", "dbs.txt", "--json"]).ok();
    let rows = json(&ran);
    let applied: Vec<(&str, u64)> = rows
        .iter()
        .filter(|r| r["applied"] != 0)
        .map(|r| (r["database"].as_str().unwrap(), r["applied"].as_u64().unwrap()))
        .collect();
    assert_eq!(applied, [("sqlite://dbs/db040.db", 5), ("sqlite://dbs/db041.db", 2)]);
    assert!(rows.iter().all(|r| ids(&r["heads_after"]) == ["r4"]), "{}", ran.stdout);
    for n in 0..200 {
        assert_eq!(sqlite_log(&sqlite_file(dir, n)), ONCE, "db{n:03}");
    }
}

trait ErrorLine {
    fn first_line_of_errors(&self) -> &str;
}

impl ErrorLine for Ran {
    /// The first `error:` line of stderr (progress lines come before it).
    fn first_line_of_errors(&self) -> &str {
        self.stderr.lines().find(|l| l.starts_with("error:")).unwrap_or_default()
    }
}

#[test]
fn two_runs_at_once_over_the_same_list_apply_every_revision_exactly_once() {
    let project = common::project();
    let dir = project.path();
    chain(dir);
    sqlite_list(dir, 60);
    let spawn = || {
        common::migraph_process(dir, "")
            .env_remove("DATABASE_URL")
            .args(["upgrade", "--each-database", "dbs.txt", "--jobs", "3", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    let a = Ran::from(a.wait_with_output().expect("wait"));
    let b = Ran::from(b.wait_with_output().expect("wait"));
    assert_eq!((a.code, b.code), (0, 0), "{a}\n{b}");
    let total = |ran: &Ran| json(ran).iter().map(|r| r["applied"].as_u64().unwrap()).sum::<u64>();
    assert_eq!(total(&a) + total(&b), 60 * 5, "every revision of every database applied by exactly one run");
    for n in 0..60 {
        assert_eq!(sqlite_log(&sqlite_file(dir, n)), ONCE, "db{n:03}");
    }
}

#[test]
fn a_run_killed_half_way_is_finished_by_the_next_one() {
    let project = common::project();
    let dir = project.path();
    chain(dir);
    sqlite_list(dir, 200);
    let mut child = common::migraph_process(dir, "")
        .env_remove("DATABASE_URL")
        .args(["upgrade", "--each-database", "dbs.txt", "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Off a terminal, one line per database as it finishes: kill after ten.
    let stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut finished = Vec::new();
    for line in stderr.lines() {
        let line = line.expect("line");
        if let Some(rest) = line.strip_prefix('[') {
            assert!(rest.ends_with(": ok"), "{line}");
            finished.push(rest.split("] ").nth(1).expect("database").trim_end_matches(": ok").to_string());
            if finished.len() == 10 {
                break;
            }
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert_eq!(finished.len(), 10);

    let ran = run(dir, &["upgrade", "--each-database", "dbs.txt", "--json", "--jobs", "4"]).ok();
    let rows = json(&ran);
    for database in &finished {
        assert_eq!(row(&rows, database)["applied"], 0, "{database} was done before the kill");
    }
    for n in 0..200 {
        assert_eq!(sqlite_log(&sqlite_file(dir, n)), ONCE, "db{n:03}");
    }
}

#[test]
fn status_and_check_over_a_list() {
    let project = common::project();
    let dir = project.path();
    chain(dir);
    sqlite_list(dir, 6);
    fs::write(dir.join("some.txt"), "dbs/db000.db\ndbs/db001.db\ndbs/db002.db\n").expect("write");
    run(dir, &["upgrade", "r2", "--each-database", "some.txt"]).ok();
    // db003 is ahead of these files: r5 applied from another directory.
    let other = dir.join("other");
    fs::create_dir_all(&other).expect("mkdir");
    chain(&other);
    common::table_revision(&other, "r5", "r4");
    let url = format!("sqlite://{}", sqlite_file(dir, 3).display());
    common::ok(&other, &url, &["upgrade"]);

    let ran = run(dir, &["status", "--each-database", "dbs.txt", "--json"]).ok();
    let rows = json(&ran);
    assert_eq!(rows.len(), 6);
    let first = row(&rows, "sqlite://dbs/db000.db");
    assert_eq!(ids(&first["heads_before"]), ["r2"]);
    assert_eq!(ids(&first["pending"]), ["r3", "r4"]);
    let fresh = row(&rows, "sqlite://dbs/db005.db");
    assert_eq!((ids(&fresh["heads_before"]).len(), ids(&fresh["pending"]).len()), (0, 5));
    assert!(!sqlite_file(dir, 5).exists(), "status creates no file");
    assert_eq!(ids(&row(&rows, "sqlite://dbs/db003.db")["notes"]), ["no file: r5"]);
    let ran = run(dir, &["status", "--each-database", "dbs.txt"]).ok();
    assert!(ran.stdout.starts_with("DATABASE"), "{ran}");
    let line = ran.stdout.lines().find(|l| l.starts_with("sqlite://dbs/db001.db")).expect("row");
    assert_eq!(line.split_whitespace().take(3).collect::<Vec<_>>(), ["sqlite://dbs/db001.db", "r2", "2"]);

    let ran = run(dir, &["check", "--each-database", "dbs.txt", "--json"]);
    assert_eq!(ran.code, 1, "{ran}");
    let rows = json(&ran);
    let failed: Vec<&Value> = rows.iter().filter(|r| r["ok"] == false).collect();
    assert_eq!(failed.len(), 1, "{rows:?}");
    assert_eq!(failed[0]["database"], "sqlite://dbs/db003.db");
    assert!(failed[0]["error"].as_str().unwrap().contains("applied revision `r5` has no file"), "{ran}");
    assert!(ran.first_line_of_errors().starts_with("error: 1 of 6 database(s) failed"), "{ran}");
}

#[test]
fn bad_lists_and_commands_stop_before_any_database() {
    let project = common::project();
    let dir = project.path();
    chain(dir);
    fs::write(dir.join("bad.txt"), "sqlite://first.db\n\n# comment\nsqlite://x.db?mode=bogus\n").expect("write");
    let ran = run(dir, &["upgrade", "--each-database", "bad.txt"]).failed();
    assert!(ran.first_line().starts_with("error: bad.txt:4: invalid database URL"), "{ran}");
    fs::write(dir.join("unset.txt"), "sqlite://first.db\npostgres://u:${MIGRAPH_EACH_UNSET}@h/db\n").expect("write");
    let ran = run(dir, &["upgrade", "--each-database", "unset.txt"]).failed();
    assert_eq!(ran.first_line(), "error: unset.txt:2: environment variable `MIGRAPH_EACH_UNSET` is not set");
    assert!(!dir.join("first.db").exists(), "nothing ran");
    let ran = run(dir, &["upgrade", "--each-database", "missing.txt"]).failed();
    assert!(ran.first_line().starts_with("error: cannot read missing.txt"), "{ran}");

    fs::write(dir.join("dbs.txt"), "sqlite://first.db\n").expect("write");
    for args in [
        &["heads", "--each-database", "dbs.txt"][..],
        &["stamp", "heads", "--each-database", "dbs.txt"],
        &["upgrade", "--sql", "--each-database", "dbs.txt"],
        &["downgrade", "--each-database", "dbs.txt"],
        &["upgrade", "--each-database", "dbs.txt", "--database-url", "sqlite://x.db"],
        &["upgrade", "--jobs", "2"],
        &["upgrade", "--each-database", "dbs.txt", "--jobs", "0"],
    ] {
        let ran = run(dir, args);
        assert_eq!(ran.code, 2, "{args:?} is bad usage:\n{ran}");
    }
    assert!(!dir.join("first.db").exists(), "nothing ran");
    // --dry-run plans every database and changes none.
    let ran = run(dir, &["upgrade", "--dry-run", "--each-database", "dbs.txt", "--json"]).ok();
    let rows = json(&ran);
    assert_eq!(rows[0]["plan"].as_array().map(Vec::len), Some(5), "{ran}");
    assert!(!dir.join("first.db").exists(), "a dry run creates no file");
}

#[test]
fn passwords_never_appear() {
    let project = common::project();
    let dir = project.path();
    chain(dir);
    fs::write(
        dir.join("dbs.txt"),
        "postgres://app:${MIGRAPH_EACH_PW}@127.0.0.1:1/app\nmysql://app:${MIGRAPH_EACH_PW}@127.0.0.1:1/app\n",
    )
    .expect("write");
    for args in [&["upgrade"][..], &["status"], &["check"], &["migrate", "r1", "--json"], &["status", "--json"]] {
        let mut cmd = common::migraph(dir, "");
        cmd.env_remove("DATABASE_URL").env("MIGRAPH_EACH_PW", "hunter2secret");
        let ran = common::run_cmd(cmd, &[args, &["--each-database", "dbs.txt", "--lock-timeout", "1"]].concat());
        assert_eq!(ran.code, 1, "{ran}");
        assert!(!ran.shows("hunter2secret"), "{ran}");
        assert!(ran.stdout.contains("app:***@127.0.0.1:1/app"), "{ran}");
    }
}

/// `count` databases on `server` in mixed states, upgraded through one
/// list: the first at r2, the third at r4 already, the fourth broken on
/// purpose (r3's table is in the way), the rest fresh; a MySQL one is
/// reached as a user with a password, which never appears. The broken one
/// fails alone, and once fixed, the same command finishes it and only it.
fn fleet(server: Server, count: usize) {
    let project = common::project();
    let dir = project.path();
    chain(dir);
    let dbs: Vec<TestDb> = (0..count).map(|_| TestDb::new(server)).collect();
    let mut urls: Vec<String> = dbs.iter().map(|db| db.url.clone()).collect();
    let _user = (server == Server::Mysql).then(|| {
        let user = dbs[1].mysql_user("each_user", "pa55word");
        let (scheme, rest) = urls[1].split_once("://").expect("URL");
        let host = rest.split_once('@').map_or(rest, |(_, host)| host);
        urls[1] = format!("{scheme}://each_user:${{MIGRAPH_EACH_PW}}@{host}");
        user
    });
    fs::write(dir.join("dbs.txt"), urls.join("\n")).expect("write");
    common::ok(dir, &dbs[0].url, &["upgrade", "r2"]);
    common::ok(dir, &dbs[2].url, &["upgrade", "r4"]);
    dbs[3].connect().batch("CREATE TABLE t_r3 (x INTEGER)").expect("create");
    let each = |args: &[&str]| {
        let mut cmd = common::migraph(dir, "");
        cmd.env_remove("DATABASE_URL").env("MIGRAPH_EACH_PW", "pa55word");
        let ran = common::run_cmd(cmd, args);
        assert!(!ran.shows("pa55word"), "{ran}");
        ran
    };
    let upgrade = ["upgrade", "--each-database", "dbs.txt", "--jobs", "4", "--json"];
    let ran = each(&upgrade);
    assert_eq!(ran.code, 1, "{ran}");
    let rows = json(&ran);
    assert_eq!(rows.len(), count);
    let applied: Vec<u64> = rows.iter().map(|r| r["applied"].as_u64().unwrap()).collect();
    assert_eq!(applied[..4], [2, 5, 0, 3], "{applied:?}");
    assert!(applied[4..].iter().all(|&n| n == 5), "{applied:?}");
    let failed: Vec<usize> = (0..count).filter(|&n| rows[n]["ok"] == false).collect();
    assert_eq!(failed, [3], "{ran}");
    assert!(rows[3]["error"].as_str().unwrap().contains("r3"), "{}", rows[3]);
    assert_eq!((ids(&rows[0]["heads_before"]), ids(&rows[0]["heads_after"])), (vec!["r2"], vec!["r4"]));
    assert_eq!((ids(&rows[2]["heads_before"]), ids(&rows[2]["heads_after"])), (vec!["r4"], vec!["r4"]));
    assert_eq!(ids(&rows[4]["heads_before"]), Vec::<&str>::new(), "a fresh database has no heads");
    assert_eq!(ids(&rows[3]["heads_before"]), Vec::<&str>::new());
    for (n, db) in dbs.iter().enumerate() {
        let expected = if n == 3 { [1, 1, 1, 0, 0] } else { ONCE };
        assert_eq!(server_log(&db.url), expected, "{}", db.url);
    }
    // Fixed, the same command finishes the broken one, and only it. On
    // MySQL (no transactional DDL) the failed revision's marker stays until
    // `stamp` says how far it got: r3's first statement failed, so r2.
    dbs[3].connect().batch("DROP TABLE t_r3").expect("drop");
    if server == Server::Mysql {
        common::ok(dir, &dbs[3].url, &["stamp", "r2"]);
    }
    let rows = json(&each(&upgrade).ok());
    let applied: Vec<u64> = rows.iter().map(|r| r["applied"].as_u64().unwrap()).collect();
    assert_eq!((applied[3], applied.iter().sum::<u64>()), (2, 2), "{applied:?}");
    for db in &dbs {
        assert_eq!(server_log(&db.url), ONCE, "{}", db.url);
        assert!(db.applied().contains(&"r4".to_string()));
    }
    let ran = each(&["status", "--each-database", "dbs.txt"]).ok();
    assert_eq!(ran.stdout.lines().count(), count + 1, "{ran}");
    assert!(ran.stdout.lines().skip(1).all(|l| l.split_whitespace().nth(1) == Some("r4")), "{ran}");
}

common::backend_tests! {
    postgres fifty_postgres_databases => fleet(Server::Postgres, 50),
    mysql twenty_mariadb_databases => fleet(Server::Mysql, 20),
}

#[test]
fn on_a_terminal_one_updating_progress_line() {
    let available = std::process::Command::new("script").arg("--version").output().is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let project = common::project();
    let dir = project.path();
    chain(dir);
    sqlite_list(dir, 5);
    fs::write(sqlite_file(dir, 2), "not a database\n".repeat(200)).expect("write");
    let line = [env!("CARGO_BIN_EXE_migraph"), "upgrade", "--each-database", "dbs.txt", "--jobs", "1"].join(" ");
    let mut script = std::process::Command::new("script");
    script.current_dir(dir).env_remove("DATABASE_URL").env("NO_COLOR", "1").env("SHELL", "/bin/sh");
    script.env("TERM", "xterm").args(["-qfec", &line, "/dev/null"]);
    let ran = Ran::from(script.output().expect("script"));
    assert_eq!(ran.code, 1, "{ran}");
    let screen = ran.stdout.replace("\r\n", "\n");
    for (done, failed) in [(0, 0), (1, 0), (2, 0), (3, 1), (4, 1), (5, 1)] {
        assert!(screen.contains(&format!("\r{done}/5 databases, {failed} failed")), "{done}: {screen:?}");
    }
    assert!(!screen.contains("[1/5]"), "no line per database on a terminal: {screen:?}");
    let summary = screen.find("upgrade: 5 database(s), 4 ok, 1 failed in ").expect("the summary");
    let erased = format!("{}\r", " ".repeat("5/5 databases, 1 failed".len()));
    assert!(screen[..summary].ends_with(&erased), "the line is erased before the summary: {screen:?}");
}
