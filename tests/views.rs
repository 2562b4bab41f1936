//! The views through the real binary (issue 10, items 3, 5 and 6): which
//! database a run uses (relative SQLite URLs from `.env`, the `database:`
//! line, new files), `init` keeping passwords out of migraph.toml, and when
//! each revision was applied (`status`, `current -v`, `show`, `history`,
//! `list`).

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use common::{diamond, mg, ok, project, sqlite_url, table_revision, Ran};
use serde_json::Value;

/// The binary in `dir` with no `DATABASE_URL` from the test's environment.
fn bare(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("migraph").expect("binary");
    cmd.current_dir(dir).env_remove("DATABASE_URL").env_remove("DATABASE_PASSWORD").env("NO_COLOR", "1");
    cmd
}

fn run(mut cmd: Command, args: &[&str]) -> Ran {
    Ran::from(cmd.args(args).output().expect("run migraph"))
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// `(id, applied_at, execution_ms)` of every version row, in applied order.
fn rows(db: &Path) -> Vec<(String, String, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut query =
        conn.prepare("SELECT id, applied_at, execution_ms FROM migraph_revisions ORDER BY applied_at, id").unwrap();
    let rows = query.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

#[test]
fn a_relative_sqlite_url_in_dotenv_is_relative_to_the_dotenv_file() {
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    table_revision(d, "r1", "r0");
    fs::write(d.join("migraph.toml"), "revisions = \"revisions\"\n").unwrap();
    fs::write(d.join(".env"), "DATABASE_URL=sqlite://app.db\n").unwrap();
    let sub = d.join("sub");
    fs::create_dir(&sub).unwrap();

    // From a subdirectory: the database beside .env, created and named so.
    let up = run(bare(&sub), &["upgrade", "r0"]).ok();
    assert!(d.join("app.db").exists() && !sub.join("app.db").exists(), "{up}");
    let abs = format!("sqlite://{}", d.join("app.db").display());
    assert_eq!(up.first_line(), format!("database: {abs} (new file)"), "{up}");
    assert_eq!(rows(&d.join("app.db")).len(), 1);

    // From the project directory: the same file, named relative to it.
    let list = run(bare(d), &["list"]).ok();
    assert_eq!(list.first_line(), "database: sqlite://app.db", "{list}");
    assert!(list.stdout.starts_with("[X] r0  "), "{list}");
    let up = run(bare(d), &["upgrade"]).ok();
    assert_eq!(up.first_line(), "database: sqlite://app.db", "no new file: {up}");
    assert_eq!(rows(&d.join("app.db")).len(), 2);

    // DATABASE_URL from the process environment stays relative to the current directory.
    let mut cmd = bare(&sub);
    cmd.env("DATABASE_URL", "sqlite://app.db");
    let status = run(cmd, &["status"]).ok();
    assert!(
        status.stdout.starts_with("database: sqlite://app.db (table migraph_revisions, no file yet)\n"),
        "{status}"
    );
    assert!(!sub.join("app.db").exists(), "status creates nothing");
}

#[test]
fn every_command_using_a_database_names_it_first_on_stderr() {
    let dir = project();
    let d = dir.path();
    diamond(d);
    let url = sqlite_url(d);
    let first = ok(d, &url, &["upgrade", "a2"]);
    assert_eq!(first.first_line(), "database: sqlite://app.db (new file)", "{first}");
    for args in [
        &["current"][..],
        &["current", "--json"],
        &["status", "--json"],
        &["list"],
        &["list", "--json"],
        &["show", "a1"],
        &["show", "a1", "--json"],
        &["history"],
        &["history", "--json"],
        &["history", "--graph"],
        &["graph"],
        &["check", "--allow-multiple-heads"],
        &["upgrade", "--dry-run"],
        &["upgrade", "--dry-run", "--json"],
        &["upgrade", "b1"],
        &["downgrade", "b1", "--dry-run"],
        &["downgrade", "b1"],
        &["stamp", "a2", "b1"],
        &["migrate", "a2"],
    ] {
        let ran = ok(d, &url, args);
        assert_eq!(ran.first_line(), "database: sqlite://app.db", "{args:?}: {ran}");
        assert!(!ran.stdout.contains("database: sqlite"), "{args:?}: not on stdout: {ran}");
        if args.contains(&"--json") {
            json(&ran.stdout);
        }
        let quiet = mg(d, &url, &[&["-q"][..], args].concat());
        assert!(!quiet.stderr.contains("database:"), "{args:?} -q: {quiet}");
    }
    // Text `status` names it on stdout, its first line; --sql uses no database.
    let status = ok(d, &url, &["status"]);
    assert!(status.stdout.starts_with("database: sqlite://app.db (table migraph_revisions)\n"), "{status}");
    assert!(!status.stderr.contains("database:"), "{status}");
    let script = ok(d, &url, &["upgrade", "heads", "--sql"]);
    assert!(!script.stderr.contains("database:") && !script.stdout.contains("database:"), "{script}");
    // An error before the database is used stays the first line.
    let bad = mg(d, &url, &["history", "-r", "a2:b1"]);
    assert!(bad.first_line().starts_with("error: range `a2:b1`"), "{bad}");
    // A URL outside the current directory is shown whole.
    let sub = d.join("sub");
    fs::create_dir(&sub).unwrap();
    let ran = ok(&sub, &url, &["current", "--revisions", "../revisions"]);
    assert_eq!(ran.first_line(), format!("database: {url}"), "{ran}");
}

#[test]
#[cfg_attr(
    not(feature = "postgres"),
    ignore = "needs --features postgres (init checks the URL's backend is compiled in)"
)]
fn init_writes_no_password_into_migraph_toml() {
    let dir = project();
    let d = dir.path();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git").current_dir(d).args(args).output().expect("git");
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    git(&["init", "-q", "."]);
    fs::write(d.join(".gitignore"), "target/").unwrap();
    let url = "postgres://app:s3cr%3At$x@db.example.com:5432/app?sslmode=require";
    let init = run(bare(d), &["init", "--database-url", url]).ok();
    assert!(init.stderr.contains("the password is not in ./migraph.toml"), "{init}");
    assert!(init.stderr.contains("${DATABASE_PASSWORD}") && init.stderr.contains("listed in .gitignore"), "{init}");

    let toml = fs::read_to_string(d.join("migraph.toml")).unwrap();
    assert!(
        toml.contains("database_url = \"postgres://app:${DATABASE_PASSWORD}@db.example.com:5432/app?sslmode=require\""),
        "{toml}"
    );
    let env = fs::read_to_string(d.join(".env")).unwrap();
    assert_eq!(env, "DATABASE_PASSWORD='s3cr%3At%24x'\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(fs::metadata(d.join(".env")).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert_eq!(fs::read_to_string(d.join(".gitignore")).unwrap(), "target/\n.env\n");

    // Nothing `git add` would commit holds the password.
    git(&["add", "-A"]);
    let staged = git(&["diff", "--cached", "--name-only"]);
    assert!(staged.lines().any(|f| f == "migraph.toml") && !staged.lines().any(|f| f == ".env"), "{staged}");
    for file in staged.lines() {
        let text = fs::read_to_string(d.join(file)).unwrap_or_default();
        assert!(!text.contains("s3cr"), "{file} holds the password:\n{text}");
    }

    // The URL the tool reads back is the one given: its password (redacted
    // in messages) comes from .env.
    let status = run(bare(d), &["status", "--lock-timeout", "1"]).failed();
    assert!(status.first_line().contains("postgres://app:***@db.example.com:5432/app"), "{status}");
    assert!(!status.stderr.contains("s3cr"), "{status}");

    // A .env that already sets another password: an error, nothing written.
    let other = d.join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join(".env"), "DATABASE_PASSWORD=old\n").unwrap();
    let refused = run(bare(d), &["init", "other", "--database-url", url]).failed();
    assert!(refused.first_line().contains("already sets DATABASE_PASSWORD to another password"), "{refused}");
    assert!(!other.join("migraph.toml").exists());
    assert_eq!(fs::read_to_string(other.join(".env")).unwrap(), "DATABASE_PASSWORD=old\n");
}

#[test]
fn an_initialized_sqlite_project_connects() {
    let dir = project();
    let d = dir.path();
    let init = run(bare(d), &["init", "--database-url", "sqlite://app.db"]).ok();
    assert!(!init.stderr.contains("password") && !d.join(".env").exists(), "{init}");
    table_revision(d, "r0", "");
    fs::rename(d.join("revisions/r0.sql"), d.join("revisions/r0_first.sql")).unwrap();
    let up = run(bare(d), &["upgrade"]).ok();
    assert_eq!(up.first_line(), "database: sqlite://app.db (new file)", "{up}");
    assert_eq!(rows(&d.join("app.db")).len(), 1);
}

#[test]
#[cfg_attr(
    not(all(feature = "postgres", migraph_postgres_server)),
    ignore = "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn postgres_init_with_a_password_connects_and_never_shows_it() {
    let db = common::TestDb::new(common::Server::Postgres);
    let dir = project();
    let d = dir.path();
    // The test server trusts local connections, so any password connects.
    let with_password = db.url.replacen("://postgres@", "://postgres:pa55word@", 1);
    assert_ne!(with_password, db.url, "expected a postgres://postgres@ URL");
    run(bare(d), &["init", "--database-url", &with_password]).ok();
    assert!(!fs::read_to_string(d.join("migraph.toml")).unwrap().contains("pa55word"));
    table_revision(d, "r0", "");
    let up = run(bare(d), &["upgrade"]).ok();
    assert!(up.first_line().starts_with("database: postgres://postgres:***@"), "{up}");
    let list = run(bare(d), &["list", "--json"]).ok();
    assert!(!list.stderr.contains("pa55word") && !list.stdout.contains("pa55word"), "{list}");
    assert_eq!(json(&list.stdout)[0]["state"], "applied", "{list}");
}

#[test]
fn applied_dates_and_durations_are_shown_and_list_is_in_plan_order() {
    let dir = project();
    let d = dir.path();
    diamond(d); // r0 ─ a1 (alpha) ─ a2 ─ m3 ─ t4, r0 ─ b1 (beta) ─ m3
    let url = sqlite_url(d);
    ok(d, &url, &["upgrade", "b1"]);
    ok(d, &url, &["upgrade", "a2"]);
    let stored = rows(&d.join("app.db"));
    let applied: Vec<&str> = stored.iter().map(|(id, _, _)| id.as_str()).collect();
    assert_eq!(applied, ["r0", "b1", "a1", "a2"]);
    let at = |id: &str| stored.iter().find(|r| r.0 == id).map(|r| (r.1.clone(), r.2)).unwrap();
    let (a2_at, a2_ms) = at("a2");
    assert!(a2_at.ends_with('Z') && a2_at.contains('T'), "UTC RFC 3339: {a2_at}");
    let when = |id: &str| {
        let (time, ms) = at(id);
        format!("applied {time} in {ms} ms")
    };

    // list: applied in applied order, then pending in upgrade order.
    let list = ok(d, &url, &["list"]).stdout;
    let lines: Vec<&str> = list.lines().collect();
    let marks: Vec<String> = lines.iter().map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).collect();
    let expected: Vec<String> = applied.iter().map(|id| format!("[X] {id} {}", at(id).0)).collect();
    assert_eq!(marks[..4], expected[..]);
    let words = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!([words(lines[4]), words(lines[5])], ["[ ] m3 pending rev m3", "[ ] t4 pending rev t4"]);
    assert!(lines[3].ends_with(&format!("{a2_ms} ms  rev a2")), "{list}");
    let listed = json(&ok(d, &url, &["list", "--json"]).stdout);
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["r0", "b1", "a1", "a2", "m3", "t4"]);
    assert_eq!(listed[3]["applied_at"], a2_at.as_str());
    assert_eq!(listed[3]["execution_ms"], a2_ms);
    assert_eq!(listed[4]["state"], "pending");
    assert!(listed[4]["applied_at"].is_null());

    // status: heads with their dates; --json rows in applied order.
    let status = ok(d, &url, &["status"]).stdout;
    assert!(status.contains(&format!("a2 rev a2  ({})", when("a2"))), "{status}");
    assert!(status.contains(&format!("b1 (beta) rev b1  ({})", when("b1"))), "{status}");
    let report = json(&ok(d, &url, &["status", "--json"]).stdout);
    let rows: Vec<&str> = report["rows"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(rows, applied);
    assert_eq!(report["rows"][3]["applied_at"], a2_at.as_str());
    let heads = report["heads"].as_array().unwrap();
    assert!(heads.iter().any(|h| h["id"] == "a2" && h["applied_at"] == a2_at.as_str() && h["execution_ms"] == a2_ms));

    // current: -v adds the date; --json always has it.
    let current = ok(d, &url, &["current"]).stdout;
    assert!(!current.contains("applied "), "{current}");
    let verbose = ok(d, &url, &["current", "-v"]).stdout;
    assert!(verbose.lines().any(|l| l == format!("a2 rev a2  ({})", when("a2"))), "{verbose}");
    let heads = json(&ok(d, &url, &["current", "--json"]).stdout);
    assert!(heads.as_array().unwrap().iter().any(|h| h["id"] == "a2" && h["applied_at"] == a2_at.as_str()));

    // show: the database's view of the revision.
    let shown = ok(d, &url, &["show", "a2"]).stdout;
    assert!(shown.contains(&format!("Database:    {}\n", when("a2"))), "{shown}");
    assert!(ok(d, &url, &["show", "m3"]).stdout.contains("Database:    pending\n"));
    let shown = json(&ok(d, &url, &["show", "a2", "--json"]).stdout);
    assert_eq!((shown["state"].as_str(), shown["applied_at"].as_str()), (Some("applied"), Some(a2_at.as_str())));

    // history: tags with a database, dates with -v and in --json.
    let history = ok(d, &url, &["history"]).stdout;
    assert!(history.contains("-> m3 (pending, mergepoint) rev m3\n"), "{history}");
    assert!(history.lines().any(|l| l == "<base> -> r0 (applied, branchpoint) rev r0"), "{history}");
    assert!(!history.contains("applied 20"), "{history}");
    let verbose = ok(d, &url, &["history", "-v"]).stdout;
    assert!(verbose.lines().any(|l| l == format!("a1 -> a2 (applied) rev a2  ({})", when("a2"))), "{verbose}");
    let listed = json(&ok(d, &url, &["history", "--json"]).stdout);
    let a2 = listed.as_array().unwrap().iter().find(|r| r["id"] == "a2").unwrap();
    assert_eq!((a2["state"].as_str(), a2["applied_at"].as_str()), (Some("applied"), Some(a2_at.as_str())));
    assert_eq!(a2["execution_ms"], a2_ms);

    // Without a database, history is the files alone.
    let files = run(bare(d), &["history"]);
    assert!(!files.ok().stdout.contains("pending"));
}
