//! End-to-end tests of squashing (SPEC §4, `replaces`; `migraph squash`):
//! the real binary on SQLite, and on PostgreSQL and MariaDB when their
//! `MIGRAPH_TEST_*_URL` variables are set, reading the version table and
//! the tables afterwards.
//!
//! The history is a ─ b ─ c ─ d, each creating table `t_<id>`; `migraph
//! squash b:c --id sq` writes `sq` (parent a, replaces b c). Re-running b's or
//! c's SQL fails (the tables exist), so a run that succeeds on a database
//! that has them ran none of it.
#![cfg(feature = "sqlite")]

mod common;

use std::fs;
use std::path::Path;

use common::{backend_tests, sqlite_url, table_names, table_revision, write_revision, Ran, Server, TestDb};
use migraph::backend::{AnyConnection, Backend};
use migraph::Revision;
use tempfile::TempDir;

/// A project directory and the database its commands run on.
struct Project {
    dir: TempDir,
    url: String,
    _server: Option<TestDb>,
}

#[derive(Clone, Copy)]
enum On {
    Sqlite,
    Server(Server),
}

impl Project {
    /// a ─ b ─ c ─ d, nothing applied.
    fn new(on: On) -> Project {
        let dir = common::project();
        let (url, server) = match on {
            On::Sqlite => (sqlite_url(dir.path()), None),
            On::Server(server) => {
                let db = TestDb::new(server);
                (db.url.clone(), Some(db))
            }
        };
        for (id, parent) in [("a", ""), ("b", "a"), ("c", "b"), ("d", "c")] {
            table_revision(dir.path(), id, parent);
        }
        Project { dir, url, _server: server }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Ran {
        common::mg(self.path(), &self.url, args)
    }

    fn ok(&self, args: &[&str]) -> Ran {
        common::ok(self.path(), &self.url, args)
    }

    fn fails(&self, args: &[&str]) -> Ran {
        common::fails(self.path(), &self.url, args)
    }

    /// `migraph squash b:c --id sq`; returns the file written.
    fn squash(&self) -> String {
        let ran = self.ok(&["squash", "b:c", "-m", "squash b and c", "--id", "sq"]);
        let path = ran.stdout.trim().to_string();
        assert!(path.ends_with("sq_squash_b_and_c.sql"), "{ran}");
        assert!(ran.stderr.contains("created squash sq replacing 2 revisions (b, c)"), "{ran}");
        assert!(ran.stderr.contains("once every database has passed the squash, delete the replaced files"), "{ran}");
        path
    }

    fn delete(&self, ids: &[&str]) {
        for id in ids {
            fs::remove_file(self.path().join("revisions").join(format!("{id}.sql"))).expect("delete");
        }
    }

    fn connect(&self) -> AnyConnection {
        AnyConnection::connect(&self.url).expect("connect")
    }

    /// The version table's IDs, sorted.
    fn rows(&self) -> Vec<String> {
        let mut conn = self.connect();
        let sql = conn.dialect().select_rows("migraph_revisions");
        let mut ids: Vec<String> = conn.version_rows(&sql).expect("rows").into_iter().map(|r| r.id).collect();
        ids.sort();
        ids
    }

    /// The `t_*` tables, sorted.
    fn tables(&self) -> Vec<String> {
        let mut names: Vec<String> =
            table_names(&mut self.connect()).into_iter().filter(|t| t.starts_with("t_")).collect();
        names.sort();
        names
    }
}

/// The `(direction, id)` progress lines of a run, in order.
fn steps(ran: &Ran) -> Vec<String> {
    ran.stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("up ") || l.starts_with("down "))
        .map(|l| l.split_whitespace().take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A fresh database runs the squash instead of b and c; downgrading
/// through it runs its down SQL.
fn fresh_database_runs_the_squash(on: On) {
    let p = Project::new(on);
    p.squash();
    let ran = p.ok(&["upgrade", "heads"]);
    assert_eq!(steps(&ran), ["up a", "up sq", "up d"], "{ran}");
    assert_eq!(p.rows(), strings(&["a", "d", "sq"]));
    assert_eq!(p.tables(), strings(&["t_a", "t_b", "t_c", "t_d"]));
    // The graph is the squashed one: one head, sq in the history.
    assert_eq!(p.ok(&["heads"]).stdout.split_whitespace().next(), Some("d"));
    assert!(p.ok(&["history"]).stdout.contains("sq"));
    let ran = p.ok(&["downgrade", "a"]);
    assert_eq!(steps(&ran), ["down d", "down sq"], "{ran}");
    assert_eq!(p.rows(), strings(&["a"]));
    assert_eq!(p.tables(), strings(&["t_a"]));
}

/// Every replaced revision applied: the next run records the squash and
/// drops their rows without running SQL (its SQL would fail: the tables
/// exist); then the old files can go.
fn all_applied_records_the_squash_without_sql(on: On) {
    let p = Project::new(on);
    p.ok(&["upgrade", "c"]);
    p.squash();
    let dry = p.ok(&["upgrade", "heads", "--dry-run"]);
    assert!(dry.stdout.contains('d') && !dry.stdout.contains("sq"), "only d is planned:\n{dry}");
    assert!(dry.stderr.contains("note: the run first records squash sq in place of b, c (no SQL)"), "{dry}");
    assert_eq!(p.rows(), strings(&["a", "b", "c"]), "a dry run changes nothing");
    let status = p.ok(&["status"]);
    assert!(status.stdout.contains("squash:   sq counts as applied (b, c are); the next run records it"), "{status}");
    let ran = p.ok(&["upgrade", "heads"]);
    assert!(ran.stderr.contains("squash sq recorded in place of b, c (no SQL ran)"), "{ran}");
    assert_eq!(steps(&ran), ["up d"], "{ran}");
    assert_eq!(p.rows(), strings(&["a", "d", "sq"]));
    // The old files deleted: d's parent c now means sq; nothing to do.
    p.delete(&["b", "c"]);
    let ran = p.ok(&["upgrade", "heads"]);
    assert!(steps(&ran).is_empty(), "{ran}");
    p.ok(&["status"]);
    let ran = p.ok(&["downgrade", "base"]);
    assert_eq!(steps(&ran), ["down d", "down sq", "down a"], "{ran}");
    assert!(p.rows().is_empty() && p.tables().is_empty(), "{:?}", p.tables());
}

/// Some replaced revisions applied, files present: the missing ones run,
/// then the squash is recorded in place of them.
fn partial_runs_the_missing_then_records_the_squash(on: On) {
    let p = Project::new(on);
    p.ok(&["upgrade", "b"]);
    p.squash();
    let ran = p.ok(&["upgrade", "heads"]);
    assert_eq!(steps(&ran), ["up c", "up d"], "{ran}");
    assert!(ran.stderr.contains("squash sq recorded in place of b, c"), "{ran}");
    assert_eq!(p.rows(), strings(&["a", "d", "sq"]));
    assert_eq!(p.tables(), strings(&["t_a", "t_b", "t_c", "t_d"]));
}

/// Some replaced revisions applied and their files deleted: the run fails
/// naming the missing ones before any change.
fn partial_without_files_fails_before_any_change(on: On) {
    let p = Project::new(on);
    p.ok(&["upgrade", "b"]);
    p.squash();
    p.delete(&["b", "c"]);
    let ran = p.fails(&["upgrade", "heads"]);
    assert!(ran.first_line().contains("revision sq"), "{ran}");
    assert!(ran.first_line().contains("c must run first, but the file(s) of b, c are missing"), "{ran}");
    assert!(ran.stderr.contains("restore the files of b, c"), "{ran}");
    assert_eq!(p.rows(), strings(&["a", "b"]));
    assert_eq!(p.tables(), strings(&["t_a", "t_b"]));
    let ran = p.fails(&["status"]);
    assert!(ran.shows("c must run first"), "{ran}");
}

backend_tests! {
    sqlite sqlite_fresh_database_runs_the_squash => fresh_database_runs_the_squash(On::Sqlite),
    postgres postgres_fresh_database_runs_the_squash => fresh_database_runs_the_squash(On::Server(Server::Postgres)),
    mysql mysql_fresh_database_runs_the_squash => fresh_database_runs_the_squash(On::Server(Server::Mysql)),
    sqlite sqlite_all_applied_records_the_squash_without_sql => all_applied_records_the_squash_without_sql(On::Sqlite),
    postgres postgres_all_applied_records_the_squash_without_sql =>
        all_applied_records_the_squash_without_sql(On::Server(Server::Postgres)),
    mysql mysql_all_applied_records_the_squash_without_sql =>
        all_applied_records_the_squash_without_sql(On::Server(Server::Mysql)),
    sqlite sqlite_partial_runs_the_missing_then_records_the_squash =>
        partial_runs_the_missing_then_records_the_squash(On::Sqlite),
    postgres postgres_partial_runs_the_missing_then_records_the_squash =>
        partial_runs_the_missing_then_records_the_squash(On::Server(Server::Postgres)),
    mysql mysql_partial_runs_the_missing_then_records_the_squash =>
        partial_runs_the_missing_then_records_the_squash(On::Server(Server::Mysql)),
    sqlite sqlite_partial_without_files_fails_before_any_change =>
        partial_without_files_fails_before_any_change(On::Sqlite),
    postgres postgres_partial_without_files_fails_before_any_change =>
        partial_without_files_fails_before_any_change(On::Server(Server::Postgres)),
    mysql mysql_partial_without_files_fails_before_any_change =>
        partial_without_files_fails_before_any_change(On::Server(Server::Mysql)),
}

/// The written file: `replaces`, FROM's parents, SQL in order and reverse
/// order, dialect sections kept per dialect; writing it again gives the
/// same SQL and checksum, and the checksum recorded is the file's.
#[test]
fn squash_file_content_and_stable_checksums() {
    let p = Project::new(On::Sqlite);
    write_revision(
        p.path(),
        "e",
        "d",
        "CREATE TABLE t_e (id INTEGER PRIMARY KEY);",
        Some("DROP TABLE t_e;"),
        "-- migrate:up postgres\nCREATE TABLE t_e (id SERIAL PRIMARY KEY);\n",
    );
    let first = p.ok(&["squash", "d:e", "-m", "d and e", "--id", "de1"]).stdout;
    let text = fs::read_to_string(p.path().join(first.trim())).expect("read");
    assert!(text.contains("-- parents: c\n") && text.contains("-- replaces: d e\n"), "{text}");
    let r = Revision::parse(Path::new("de1.sql"), &text).expect("parses");
    assert_eq!(
        r.up.trim_end(),
        "-- from d: rev d\nCREATE TABLE t_d (id INTEGER PRIMARY KEY, v VARCHAR(20));\n\n\
         -- from e: rev e\nCREATE TABLE t_e (id INTEGER PRIMARY KEY);"
    );
    assert_eq!(
        r.down.as_deref().map(str::trim_end),
        Some("-- from e: rev e\nDROP TABLE t_e;\n\n-- from d: rev d\nDROP TABLE t_d;")
    );
    assert!(r.dialect_sql[1].up.as_deref().is_some_and(|up| up.contains("SERIAL") && up.contains("t_d")), "{text}");
    // Written again elsewhere: the same checksum.
    fs::remove_file(p.path().join(first.trim())).expect("remove");
    let second = p.ok(&["squash", "d:e", "-m", "again", "--id", "de2"]).stdout;
    let again = Revision::read(&p.path().join(second.trim())).expect("parses");
    assert_eq!(again.checksum, r.checksum);
    // Squashing it a second time is refused: d and e are replaced now.
    let ran = p.fails(&["squash", "d:e", "-m", "twice"]);
    assert!(ran.first_line().contains("revision d is already replaced by squash de2"), "{ran}");
    // It runs, records the file's checksum, and shows no drift afterwards.
    p.ok(&["upgrade", "heads"]);
    assert_eq!(p.rows(), strings(&["a", "b", "c", "de2"]));
    let mut conn = p.connect();
    let sql = conn.dialect().select_rows("migraph_revisions");
    let row = conn.version_rows(&sql).expect("rows").into_iter().find(|r| r.id == "de2").expect("row");
    assert_eq!(row.checksum, again.checksum);
    p.ok(&["check"]);
}

/// Ranges `migraph squash` refuses, each before writing anything.
#[test]
fn squash_refuses_ranges_that_are_not_linear() {
    let p = Project::new(On::Sqlite);
    table_revision(p.path(), "x", "b"); // b becomes a branch point
    let ran = p.fails(&["squash", "a:c", "-m", "m"]);
    assert!(ran.first_line().contains("revision b inside the range is a branch point (children c, x)"), "{ran}");
    let ran = p.fails(&["squash", "c:a", "-m", "m"]);
    assert!(ran.first_line().contains("`c` is not reached from `a`"), "{ran}");
    let ran = p.run(&["squash", "ac", "-m", "m"]);
    assert_eq!(ran.code, 1, "{ran}");
    assert!(ran.first_line().contains("`ac` is not a range"), "{ran}");
    write_revision(p.path(), "n", "d", "SELECT 1;", Some(""), "-- transaction: false");
    let ran = p.fails(&["squash", "d:n", "-m", "m"]);
    assert!(ran.first_line().contains("mixes `transaction: false` revisions (n)"), "{ran}");
    let listed = fs::read_dir(p.path().join("revisions")).expect("dir").count();
    assert_eq!(listed, 6, "nothing written");
}

/// A hand-written `replaces` that cannot be right is an error naming the
/// file and line, from every command.
#[test]
fn bad_replaces_name_the_file_and_line() {
    let p = Project::new(On::Sqlite);
    write_revision(p.path(), "sq", "a", "SELECT 1;", Some(""), "-- replaces: b d");
    let ran = p.fails(&["upgrade", "heads"]);
    assert!(ran.stderr.contains("sq.sql:4: revision `sq` replaces revisions that are not contiguous"), "{ran}");
    write_revision(p.path(), "sq", "a", "SELECT 1;", Some(""), "-- replaces: a b");
    let ran = p.fails(&["check"]);
    assert!(ran.shows("sq.sql:4: revision `sq` replaces `a`, which is also one of its parents"), "{ran}");
    assert!(p.rows_if_any().is_empty());
}

impl Project {
    /// The rows, or none when the database file does not exist.
    fn rows_if_any(&self) -> Vec<String> {
        if self.path().join("app.db").exists() {
            self.rows()
        } else {
            Vec::new()
        }
    }
}

/// On a database with the whole range, `downgrade` and `stamp` record the
/// squash first, then go through it: down runs the squash's down SQL,
/// stamp runs none.
#[test]
fn downgrade_and_stamp_go_through_a_pending_squash() {
    let p = Project::new(On::Sqlite);
    p.ok(&["upgrade", "c"]);
    p.squash();
    let ran = p.ok(&["downgrade", "a"]);
    assert!(ran.stderr.contains("squash sq recorded in place of b, c"), "{ran}");
    assert_eq!(steps(&ran), ["down sq"], "{ran}");
    assert_eq!((p.rows(), p.tables()), (strings(&["a"]), strings(&["t_a"])));

    let p = Project::new(On::Sqlite);
    p.ok(&["upgrade", "c"]);
    p.squash();
    p.ok(&["stamp", "d"]);
    assert_eq!(p.rows(), strings(&["a", "d", "sq"]));
    assert_eq!(p.tables(), strings(&["t_a", "t_b", "t_c"]), "stamp ran no SQL");
}
