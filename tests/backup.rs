//! `--backup` (SQLite): taken by the run itself, on its own connection and
//! under its lock, after planning and before the first change; for
//! `upgrade`, `downgrade` and `migrate`; with any SQLite URL form; and a
//! backup that cannot be written stops the run before any change.
#![cfg(feature = "sqlite")]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{project, set, sqlite_url, table_revision};
use diesel::Connection;
use migraph::backend::Backend;

/// r0 ─ a1 ─ a2, each creating `t_<id>`.
fn chain(dir: &Path) {
    table_revision(dir, "r0", "");
    table_revision(dir, "a1", "r0");
    table_revision(dir, "a2", "a1");
}

/// Applied revision IDs of the SQLite database at `path`.
fn applied(path: &Path) -> BTreeSet<String> {
    let mut conn = diesel::SqliteConnection::establish(&path.display().to_string()).expect("open");
    let sql = "SELECT group_concat(id, ' ') AS v FROM migraph_revisions";
    let ids = conn.text(sql, &[]).expect("read").unwrap_or_default();
    ids.split_whitespace().map(str::to_string).collect()
}

/// The `.backup` files in `dir`.
fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "backup"))
        .collect();
    found.sort();
    found
}

/// Runs migraph in `dir` on `url` and returns its stdout, asserting success.
fn ok(dir: &Path, url: &str, args: &[&str]) -> String {
    common::ok(dir, url, args).stdout
}

#[test]
fn backups_for_upgrade_downgrade_and_migrate_with_a_file_url() {
    let dir = project();
    let d = dir.path();
    chain(d);
    let url = "file:app.db";
    ok(d, url, &["upgrade", "r0", "-q"]);
    assert!(d.join("app.db").is_file(), "the file: URL names app.db in the working directory");

    let cases: [(&[&str], &[&str], &[&str]); 3] = [
        (&["upgrade", "heads", "--backup"], &["r0"], &["r0", "a1", "a2"]),
        (&["downgrade", "a1", "--backup"], &["r0", "a1", "a2"], &["r0", "a1"]),
        (&["migrate", "r0", "--backup"], &["r0", "a1"], &["r0"]),
    ];
    for (args, before, after) in cases {
        let printed = ok(d, url, args);
        let backup = PathBuf::from(printed.trim());
        assert!(backup.is_file(), "{args:?}: {printed:?}");
        assert_eq!(backup.parent().map(Path::canonicalize).transpose().unwrap(), Some(d.canonicalize().unwrap()));
        assert_eq!(applied(&backup), set(before), "{args:?}: the state before the run");
        assert_eq!(applied(&d.join("app.db")), set(after), "{args:?}: the run itself");
    }
    assert_eq!(backups(d).len(), 3);
}

#[test]
fn no_backup_when_the_plan_fails_or_has_nothing_to_do() {
    let dir = project();
    let d = dir.path();
    chain(d);
    let url = sqlite_url(d);
    ok(d, &url, &["upgrade", "heads", "-q"]);
    common::fails(d, &url, &["upgrade", "nope", "--backup"]);
    assert_eq!(ok(d, &url, &["upgrade", "heads", "--backup"]), "", "nothing to do");
    assert_eq!(backups(d), Vec::<PathBuf>::new());
    // A database that does not exist yet has nothing to lose: no backup, and
    // a failing plan does not create it either.
    let new = format!("sqlite://{}", d.join("new.db").display());
    common::fails(d, &new, &["upgrade", "nope", "--backup"]);
    assert!(!d.join("new.db").exists());
    assert_eq!(ok(d, &new, &["upgrade", "heads", "--backup"]), "");
    assert_eq!(applied(&d.join("new.db")), set(&["r0", "a1", "a2"]));
    assert_eq!(backups(d), Vec::<PathBuf>::new());
}

/// A backup that cannot be written (here: the file size limit, which even
/// root cannot exceed) stops the run before any change, and leaves no
/// partial copy behind.
#[test]
fn a_backup_that_fails_stops_the_run_before_any_change() {
    let dir = project();
    let d = dir.path();
    chain(d);
    let db = d.join("app.db");
    let url = format!("sqlite://{}", db.display());
    ok(d, &url, &["upgrade", "r0", "-q"]);
    let before = std::fs::read(&db).unwrap();
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec '{}' upgrade heads --backup",
        env!("CARGO_BIN_EXE_migraph").replace('\'', "'\\''")
    );
    let output = std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(d)
        .env("DATABASE_URL", &url)
        .env("NO_COLOR", "1")
        .output()
        .expect("sh");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let error = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_default();
    assert!(error.starts_with("error: cannot back up the database to "), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(applied(&db), set(&["r0"]), "no revision ran");
    assert_eq!(std::fs::read(&db).unwrap(), before, "the database file is unchanged");
    assert_eq!(backups(d), Vec::<PathBuf>::new(), "no partial copy");
}
