//! The runner's refusals and reports that keep other people's work safe:
//! a revision in flight is "running", never "failed" with a `stamp` repair
//! (item 7); a failed or empty plan creates nothing (item 19); two projects
//! on one database are never told to `downgrade` (item 20). Each runs the
//! real binary and reads the database afterwards.

mod common;

use common::{mg, project, table_names, table_revision, write_revision, AnyDb, Server};
use migraph::backend::{AnyConnection, Arg, Backend};
use migraph::runner::{self, RunOptions};
use migraph::{Migrator, Verb};

/// Holds migraph's run lock of the default version table, as a run does.
struct Held {
    _directory: Option<std::fs::File>,
    _session: Option<AnyConnection>,
}

impl Drop for Held {
    /// Releases a server lock explicitly: a closed PostgreSQL connection
    /// lets go of its advisory locks only when its backend has exited,
    /// which can be a moment after the client hung up.
    fn drop(&mut self) {
        if let Some(conn) = self._session.as_mut() {
            let dialect = conn.dialect();
            let table = runner::locate(conn, &RunOptions::default()).expect("locate");
            let unlock = dialect.unlock().expect("an unlock statement");
            assert_eq!(conn.int(unlock, &[dialect.lock_arg(table)]).expect("release the lock"), Some(1));
        }
    }
}

fn hold_the_run_lock(db: &AnyDb) -> Held {
    match &db.dir {
        Some(dir) => {
            let handle = std::fs::File::open(dir.path()).expect("open directory");
            handle.lock().expect("lock directory");
            Held { _directory: Some(handle), _session: None }
        }
        None => {
            let mut conn = db.connect();
            let dialect = conn.dialect();
            let table = runner::locate(&mut conn, &RunOptions::default()).expect("locate");
            let take = dialect.try_lock().expect("a lock statement");
            assert_eq!(conn.int(take, &[dialect.lock_arg(table)]).expect("take the lock"), Some(1));
            Held { _directory: None, _session: Some(conn) }
        }
    }
}

/// Item 7: while another run holds the lock, its marker is "running" in
/// `status`, `check`, `current`, `--dry-run` and the library, with no
/// `stamp` advice; once the lock is free, the same marker is a failure.
fn a_marker_of_a_running_revision(server: Option<Server>) {
    let db = AnyDb::new(server);
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    write_revision(d, "s1", "r0", "CREATE TABLE t_s1 (x INT);", None, "-- transaction: false");
    assert_eq!(mg(d, &db.url, &["upgrade", "r0", "-q"]).code, 0);
    // s1 in flight: its marker is written, its run holds the lock.
    let mut conn = db.connect();
    let marker = "INSERT INTO migraph_revisions_pending (id, direction, started_at) VALUES (?, 'up', '2026-11-30T12:00:00.000000Z')";
    let marker =
        if conn.dialect() == migraph::backend::Dialect::Postgres { marker.replace('?', "$1") } else { marker.into() };
    conn.exec(&marker, &[Arg::Text("s1".into())]).expect("insert marker");
    let held = hold_the_run_lock(&db);

    let status = mg(d, &db.url, &["status"]);
    assert!(status.stdout.contains("RUNNING:  s1 going up"), "{}", status.stdout);
    assert!(status.stdout.contains("another migraph run holds the lock"), "{}", status.stdout);
    assert!(!status.stdout.contains("FAILED") && !status.stdout.contains("stamp"), "{}", status.stdout);
    let json = mg(d, &db.url, &["status", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(json["running"][0]["id"], "s1", "{json}");
    assert_eq!(json["failed"].as_array().map(Vec::len), Some(0), "{json}");

    let check = mg(d, &db.url, &["check"]);
    let all = format!("{}{}", check.stdout, check.stderr);
    assert!(all.contains("RUNNING: revision `s1` going up"), "{all}");
    assert!(!all.contains("stamp") && !all.contains("failed"), "{all}");

    let current = mg(d, &db.url, &["current"]);
    assert!(
        current.stderr.contains("s1 going up (started 2026-11-30T12:00:00.000000Z) is running"),
        "{}",
        current.stderr
    );

    let dry = mg(d, &db.url, &["upgrade", "heads", "--dry-run"]);
    assert_eq!(dry.code, 1);
    assert!(dry.stderr.starts_with("error: revision s1 is being applied by another migraph run"), "{}", dry.stderr);
    assert!(!dry.stderr.contains("migraph stamp s1"), "{}", dry.stderr);

    let migrator = Migrator::from_dir(d.join("revisions")).expect("revisions");
    let seen = migrator.status(&mut conn).expect("status");
    assert_eq!((seen.running.len(), seen.failed.len()), (1, 0), "{seen:?}");
    assert!(matches!(migrator.plan(&mut conn, Verb::Upgrade, &["heads"]), Err(runner::RunError::Running(_))));
    assert!(runner::lock_held(&mut conn, &RunOptions::default()).expect("ask"));

    drop(held);
    // A child that another test thread forks while `held` is open shares its
    // open file description (and so its flock) until the child's exec
    // closes it: allow that moment to pass.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while runner::lock_held(&mut conn, &RunOptions::default()).expect("ask") {
        assert!(std::time::Instant::now() < deadline, "the lock is still held after its holder let go");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = mg(d, &db.url, &["status"]);
    assert!(status.stdout.contains("FAILED:   s1 going up"), "{}", status.stdout);
    assert!(status.stdout.contains("migraph stamp"), "the repair, now that no run holds the lock");
    let seen = migrator.status(&mut conn).expect("status");
    assert_eq!((seen.running.len(), seen.failed.len()), (0, 1));
}

common::backend_tests! {
    sqlite a_marker_of_a_running_revision_sqlite => a_marker_of_a_running_revision(None),
    postgres a_marker_of_a_running_revision_postgres => a_marker_of_a_running_revision(Some(Server::Postgres)),
    mysql a_marker_of_a_running_revision_mysql => a_marker_of_a_running_revision(Some(Server::Mysql)),
}

/// Item 19: a plan that fails (unknown target, several heads) or has
/// nothing to do creates nothing: no SQLite file, no version tables.
fn a_failed_plan_creates_nothing(server: Option<Server>) {
    let db = AnyDb::new(server);
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    table_revision(d, "a1", "r0");
    table_revision(d, "b1", "r0");
    for args in [&["upgrade", "nope"][..], &["upgrade", "head"], &["migrate", "nope"], &["downgrade", "zz"]] {
        let r = mg(d, &db.url, args);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    }
    for args in [&["downgrade", "base"][..], &["stamp", "base"]] {
        let r = mg(d, &db.url, args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    match &db.dir {
        Some(sqlite) => {
            let files: Vec<_> = std::fs::read_dir(sqlite.path()).expect("list").collect();
            assert!(files.is_empty(), "no database file: {files:?}");
        }
        None => assert_eq!(table_names(&mut db.connect()), Vec::<String>::new(), "no version tables"),
    }
    // An existing database of the application's: still no version tables.
    let mut conn = db.connect();
    conn.batch("CREATE TABLE app (x INT)").expect("create app");
    for args in [&["upgrade", "nope"][..], &["upgrade", "head"], &["downgrade", "base"]] {
        mg(d, &db.url, args);
    }
    assert_eq!(table_names(&mut conn), ["app"]);
    let migrator = Migrator::from_dir(d.join("revisions")).expect("revisions");
    assert!(migrator.run(&mut conn, Verb::Upgrade, &["nope"], |_| {}).is_err());
    assert_eq!(table_names(&mut conn), ["app"]);
}

common::backend_tests! {
    sqlite a_failed_plan_creates_nothing_sqlite => a_failed_plan_creates_nothing(None),
    postgres a_failed_plan_creates_nothing_postgres => a_failed_plan_creates_nothing(Some(Server::Postgres)),
    mysql a_failed_plan_creates_nothing_mysql => a_failed_plan_creates_nothing(Some(Server::Mysql)),
}

/// Item 20: a second project pointed at the same database and version
/// table is refused, and no advice can drop the first project's tables.
#[test]
fn two_projects_on_one_database_are_never_told_to_downgrade() {
    let db = AnyDb::new(None);
    let (first, second) = (project(), project());
    table_revision(first.path(), "p1", "");
    table_revision(second.path(), "q1", "");
    assert_eq!(mg(first.path(), &db.url, &["upgrade", "heads", "-q"]).code, 0);
    for args in [&["upgrade", "heads"][..], &["migrate", "heads"], &["check"], &["upgrade", "heads", "--dry-run"]] {
        let r = mg(second.path(), &db.url, args);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert_eq!(r.code, 1, "{args:?}: {all}");
        assert!(all.contains("p1"), "{args:?} names the unknown revision: {all}");
        assert!(!all.contains("downgrade"), "{args:?} must not suggest downgrade: {all}");
        assert!(all.contains("--table"), "{args:?} suggests a separate version table: {all}");
    }
    let mut conn = db.connect();
    assert_eq!(table_names(&mut conn), ["migraph_revisions", "migraph_revisions_pending", "t_p1"], "nothing changed");
    // A separate version table works, and leaves the first project alone.
    assert_eq!(mg(second.path(), &db.url, &["--table", "second_revisions", "upgrade", "heads", "-q"]).code, 0);
    assert!(table_names(&mut conn).contains(&"t_p1".to_string()));
}

/// Item 7 with a real run: while a `transaction: false` revision sleeps on
/// the server, `status` says it is running; once the run ends, all is well.
fn a_revision_in_flight(server: Server) {
    let db = AnyDb::new(Some(server));
    let dir = project();
    let d = dir.path();
    table_revision(d, "r0", "");
    let sleep = if server == Server::Postgres { "SELECT pg_sleep(6);" } else { "SELECT SLEEP(6);" };
    write_revision(d, "s1", "r0", sleep, Some("SELECT 1;"), "-- transaction: false");
    assert_eq!(mg(d, &db.url, &["upgrade", "r0", "-q"]).code, 0);
    let child = common::migraph_process(d, &db.url)
        .args(["upgrade", "heads"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut conn = db.connect();
    let markers = "SELECT COUNT(*) AS v FROM migraph_revisions_pending";
    let patience = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while conn.int(markers, &[]).expect("count markers") == Some(0) {
        assert!(std::time::Instant::now() < patience, "the run never started s1");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = mg(d, &db.url, &["status"]);
    assert!(status.stdout.contains("RUNNING:  s1 going up"), "{}", status.stdout);
    assert!(!status.stdout.contains("FAILED") && !status.stdout.contains("stamp"), "{}", status.stdout);
    let output = child.wait_with_output().expect("wait");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let status = mg(d, &db.url, &["status"]);
    assert!(!status.stdout.contains("RUNNING") && !status.stdout.contains("FAILED"), "{}", status.stdout);
    assert_eq!(conn.int(markers, &[]).expect("count markers"), Some(0));
}

common::backend_tests! {
    postgres a_revision_in_flight_postgres => a_revision_in_flight(Server::Postgres),
    mysql a_revision_in_flight_mysql => a_revision_in_flight(Server::Mysql),
}
