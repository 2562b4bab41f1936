//! The version table: where it lives (qualified on every backend, never
//! moved by the session), its layout (older tables brought up to date in
//! place), damaged tables repaired by `stamp`, table names compared as the
//! database compares them, rows validated before anything runs, and stored
//! texts escaped on the terminal. Each test runs the real binary and reads
//! the database afterwards; server tests create their own database.

mod common;

use std::fs;
use std::path::Path;

use common::{fails, ok, project, sqlite_url, write_revision};

/// Revision `a`, creating `ta`.
fn revision_a(dir: &Path) {
    write_revision(dir, "a", "", "CREATE TABLE ta (x INT);", Some("DROP TABLE ta;"), "");
}

/// Revision `b` on `a`, creating `tb`.
fn revision_b(dir: &Path) {
    write_revision(dir, "b", "a", "CREATE TABLE tb (x INT);", Some("DROP TABLE tb;"), "");
}

/// The version table of the first release: seven columns, `TEXT` messages.
fn old_layout(text: &str) -> String {
    format!(
        "CREATE TABLE migraph_revisions (id VARCHAR(64) NOT NULL PRIMARY KEY, parents {text} NOT NULL, \
         message {text} NOT NULL, checksum VARCHAR(64) NOT NULL, down_sql {text}, applied_at VARCHAR(64) NOT NULL, \
         execution_ms BIGINT NOT NULL)"
    )
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use migraph::backend::{AnyConnection, Backend};

    fn conn(dir: &Path) -> AnyConnection {
        AnyConnection::connect(&sqlite_url(dir)).expect("open the database")
    }

    fn int(dir: &Path, sql: &str) -> i64 {
        conn(dir).int(sql, &[]).expect(sql).unwrap_or(-1)
    }

    fn text(dir: &Path, sql: &str) -> Option<String> {
        conn(dir).text(sql, &[]).expect(sql)
    }

    /// A project with a ─ b, upgraded to `target`, and its database URL.
    fn two_up_to(target: &str) -> (tempfile::TempDir, String) {
        let dir = project();
        revision_a(dir.path());
        revision_b(dir.path());
        let u = sqlite_url(dir.path());
        ok(dir.path(), &u, &["upgrade", target]);
        (dir, u)
    }

    #[test]
    fn an_older_table_is_brought_up_to_date_in_place() {
        let (dir, u) = two_up_to("a");
        let d = dir.path();
        let checksum = text(d, "SELECT checksum AS v FROM migraph_revisions").expect("checksum");
        // The layout of the first release, with a's row in it.
        fs::remove_file(d.join("app.db")).expect("remove");
        conn(d)
            .batch(&format!(
                "{}; CREATE TABLE ta (x INT); INSERT INTO migraph_revisions VALUES \
                 ('a', '', 'rev a', '{checksum}', 'DROP TABLE ta;', '2020-01-01T00:00:00.000000Z', 3)",
                old_layout("TEXT")
            ))
            .expect("old layout");
        let status = ok(d, &u, &["status"]);
        assert!(status.stdout.contains("applied:  1 of 2"), "{}", status.stdout);
        assert_eq!(
            int(d, "SELECT COUNT(*) AS v FROM pragma_table_info('migraph_revisions')"),
            7,
            "status changes nothing"
        );
        ok(d, &u, &["upgrade", "heads"]);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM pragma_table_info('migraph_revisions')"), 9);
        assert_eq!(int(d, "SELECT \"transaction\" AS v FROM migraph_revisions WHERE id = 'a'"), 1);
        assert_eq!(int(d, "SELECT \"transaction\" AS v FROM migraph_revisions WHERE id = 'b'"), 1);
        assert_eq!(text(d, "SELECT depends_on AS v FROM migraph_revisions WHERE id = 'b'").as_deref(), Some(""));
        assert_eq!(int(d, "SELECT execution_ms AS v FROM migraph_revisions WHERE id = 'a'"), 3, "rows kept");
        ok(d, &u, &["downgrade", "base"]);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM sqlite_master WHERE name IN ('ta', 'tb')"), 0);
    }

    #[test]
    fn a_stored_revision_keeps_transaction_false_and_depends_on() {
        let d = project();
        let d = d.path();
        revision_a(d);
        write_revision(d, "c", "", "CREATE TABLE tc (x INT);", Some("DROP TABLE tc;"), "");
        // VACUUM cannot run inside a transaction: the stored down must run outside one.
        write_revision(
            d,
            "b",
            "a",
            "CREATE TABLE tb (x INT);",
            Some("DROP TABLE tb;\nVACUUM;"),
            "-- depends-on: c\n-- transaction: false",
        );
        let u = sqlite_url(d);
        ok(d, &u, &["upgrade", "heads"]);
        assert_eq!(int(d, "SELECT \"transaction\" AS v FROM migraph_revisions WHERE id = 'b'"), 0);
        assert_eq!(text(d, "SELECT depends_on AS v FROM migraph_revisions WHERE id = 'b'").as_deref(), Some("c"));
        fs::remove_file(d.join("revisions/b.sql")).expect("remove b");
        let status = ok(d, &u, &["status"]);
        assert!(status.stdout.contains("applied:  3 of 3 revision(s) (1 without a file)"), "{}", status.stdout);
        // c stays needed by the stored b: downgrading c takes b down first.
        let plan = ok(d, &u, &["downgrade", "base", "--dry-run"]);
        assert!(plan.stdout.starts_with("down b"), "{}", plan.stdout);
        ok(d, &u, &["downgrade", "base"]);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM migraph_revisions"), 0);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM sqlite_master WHERE name IN ('ta', 'tb', 'tc')"), 0);
    }

    #[test]
    fn stamp_repairs_a_damaged_table_and_status_and_check_say_how() {
        let (dir, u) = two_up_to("heads");
        let d = dir.path();
        // b's parent row is gone.
        conn(d).batch("DELETE FROM migraph_revisions WHERE id = 'a'").expect("damage");
        let status = fails(d, &u, &["status"]);
        assert!(status.stderr.contains("is damaged"), "{}", status.stderr);
        assert!(status.stderr.contains("row b (parents: a)"), "{}", status.stderr);
        assert!(status.stderr.contains("`migraph stamp b`"), "{}", status.stderr);
        let check = fails(d, &u, &["check"]);
        assert!(check.stderr.contains("`migraph stamp b`"), "{}", check.stderr);
        let upgrade = fails(d, &u, &["upgrade", "heads"]);
        assert!(upgrade.stderr.contains("migraph stamp"), "{}", upgrade.stderr);
        let plan = ok(d, &u, &["stamp", "b", "--dry-run"]);
        assert_eq!(plan.stdout, "up   a rev a\n");
        ok(d, &u, &["stamp", "b"]);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM migraph_revisions"), 2);
        assert!(ok(d, &u, &["status"]).stdout.contains("applied:  2 of 2"));

        // A row of an unknown revision whose parent is unknown too.
        conn(d)
            .batch(
                "INSERT INTO migraph_revisions (id, parents, message, checksum, applied_at, execution_ms) \
                 VALUES ('zz', 'yy', 'ghost', 'x', '2030', 0)",
            )
            .expect("damage");
        let status = fails(d, &u, &["status"]);
        assert!(status.stderr.contains("row zz (parents: yy, no file) ghost"), "{}", status.stderr);
        ok(d, &u, &["stamp", "heads"]);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM migraph_revisions WHERE id = 'zz'"), 0);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM migraph_revisions"), 2);
        conn(d)
            .batch(
                "INSERT INTO migraph_revisions (id, parents, message, checksum, applied_at, execution_ms) \
                 VALUES ('zz', 'yy', 'ghost', 'x', '2030', 0)",
            )
            .expect("damage");
        ok(d, &u, &["stamp", "base"]);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM migraph_revisions"), 0);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM sqlite_master WHERE name IN ('ta', 'tb')"), 2, "no SQL ran");
    }

    #[test]
    fn table_names_are_compared_as_sqlite_does() {
        let (dir, u) = two_up_to("heads");
        let d = dir.path();
        let status = ok(d, &u, &["--table", "MIGRAPH_REVISIONS", "status"]);
        assert!(status.stdout.contains("applied:  2 of 2"), "{}", status.stdout);
        let upgrade = ok(d, &u, &["--table", "MIGRAPH_REVISIONS", "upgrade", "heads"]);
        assert!(upgrade.stderr.contains("nothing to do"), "{}", upgrade.stderr);
        assert!(!upgrade.stderr.contains("skip"), "{}", upgrade.stderr);
    }

    #[test]
    fn a_temp_table_of_the_same_name_cannot_shadow_the_version_table() {
        let d = project();
        let d = d.path();
        write_revision(
            d,
            "a",
            "",
            "CREATE TEMP TABLE migraph_revisions (id TEXT, parents TEXT, message TEXT, checksum TEXT, down_sql TEXT, \
             applied_at TEXT, execution_ms BIGINT, depends_on TEXT, \"transaction\" BIGINT);",
            Some(""),
            "",
        );
        revision_b(d);
        let u = sqlite_url(d);
        ok(d, &u, &["upgrade", "heads"]);
        assert_eq!(int(d, "SELECT COUNT(*) AS v FROM migraph_revisions"), 2);
        assert!(ok(d, &u, &["status"]).stdout.contains("applied:  2 of 2"));
    }

    #[test]
    fn stored_texts_never_reach_the_terminal_raw() {
        let (dir, u) = two_up_to("heads");
        let d = dir.path();
        conn(d)
            .batch(
                "INSERT INTO migraph_revisions (id, parents, message, checksum, applied_at, execution_ms) \
                 VALUES ('c' || char(27) || '[2J', 'b', 'evil' || char(13) || 'text', 'x', '2030', 0); \
                 UPDATE migraph_revisions SET down_sql = '' WHERE id LIKE 'c%'; \
                 INSERT INTO migraph_revisions_pending VALUES ('b', 'up', '2030', 'boom' || char(27) || '[31m')",
            )
            .expect("hostile rows");
        let status = ok(d, &u, &["status"]);
        let current = ok(d, &u, &["current"]);
        let plan = ok(d, &u, &["stamp", "a", "--dry-run"]);
        let check = fails(d, &u, &["check"]);
        for out in [&status.stdout, &current.stdout, &current.stderr, &plan.stdout, &check.stderr] {
            assert!(!out.contains('\u{1b}') && !out.contains('\r'), "raw control character in:\n{out}");
        }
        assert!(status.stdout.contains("boom\\u{1b}[31m"), "{}", status.stdout);
        assert!(status.stdout.contains("c\\u{1b}[2J"), "{}", status.stdout);
        assert!(current.stderr.contains("boom\\u{1b}[31m"), "{}", current.stderr);
        assert!(plan.stdout.contains("evil\\u{d}text"), "{}", plan.stdout);
        // Unapplying the stored revision: its ID and message in the progress lines.
        conn(d).batch("DELETE FROM migraph_revisions_pending").expect("clear the marker");
        let down = ok(d, &u, &["downgrade", "b"]);
        assert!(!down.stderr.contains('\u{1b}') && !down.stderr.contains('\r'), "{}", down.stderr);
        assert!(down.stderr.contains("c\\u{1b}[2J"), "{}", down.stderr);
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
mod servers {
    use super::*;
    use common::{database_name, Server, TestDb};
    use migraph::backend::Backend;

    fn int(db: &TestDb, sql: &str) -> i64 {
        db.connect().int(sql, &[]).expect(sql).unwrap_or(-1)
    }

    /// Applies `a`, then puts its row back in a version table of the first
    /// layout, created with `options`.
    fn applied_a_in_the_first_layout(db: &TestDb, d: &Path, options: &str) {
        ok(d, &db.url, &["upgrade", "a"]);
        let checksum = db.connect().text("SELECT checksum AS v FROM migraph_revisions", &[]).expect("sum");
        db.connect()
            .batch(&format!(
                "DROP TABLE migraph_revisions; {}{options}; INSERT INTO migraph_revisions VALUES \
                 ('a', '', 'rev a', '{}', 'DROP TABLE ta;', '2020-01-01T00:00:00.000000Z', 1)",
                old_layout("TEXT"),
                checksum.expect("checksum")
            ))
            .expect("old layout");
    }

    /// Runs `test` on a fresh database on `server` and an empty project.
    fn on(server: Server, test: fn(&TestDb, &Path)) {
        let db = TestDb::new(server);
        let dir = project();
        test(&db, dir.path());
    }

    common::backend_tests! {
        postgres postgres_a_schema_named_after_the_role_hides_nothing =>
            on(Server::Postgres, a_schema_named_after_the_role_hides_nothing),
        postgres postgres_set_search_path_in_a_revision_moves_nothing =>
            on(Server::Postgres, set_search_path_in_a_revision_moves_nothing),
        postgres postgres_schema_option_keeps_the_table_there =>
            on(Server::Postgres, schema_option_keeps_the_table_there),
        postgres postgres_older_table_and_a_stored_concurrent_down =>
            on(Server::Postgres, older_table_and_a_stored_concurrent_down),
        postgres postgres_a_table_an_earlier_release_put_on_the_search_path_is_not_ignored =>
            on(Server::Postgres, a_table_an_earlier_release_put_on_the_search_path_is_not_ignored),
        mysql mysql_use_other_database_in_a_revision_moves_nothing =>
            on(Server::Mysql, use_other_database_in_a_revision_moves_nothing),
        mysql mysql_a_70_kb_message_is_recorded_in_an_upgraded_table =>
            on(Server::Mysql, a_70_kb_message_is_recorded_in_an_upgraded_table),
    }

    fn a_schema_named_after_the_role_hides_nothing(db: &TestDb, d: &Path) {
        revision_a(d);
        revision_b(d);
        write_revision(d, "c", "b", "CREATE TABLE tc (x INT);", Some("DROP TABLE tc;"), "");
        ok(d, &db.url, &["upgrade", "a"]);
        // What a DBA (or a revision) does: `"$user"` now comes first in search_path.
        let role = db.connect().text("SELECT current_user::text AS v", &[]).expect("role").expect("role");
        db.connect().batch(&format!("CREATE SCHEMA IF NOT EXISTS \"{role}\"")).expect("role schema");
        let status = ok(d, &db.url, &["status"]);
        assert!(status.stdout.contains("applied:  1 of 3"), "{}", status.stdout);
        let up = ok(d, &db.url, &["upgrade", "heads"]);
        assert!(!up.stderr.contains(" a rev a"), "a ran twice:\n{}", up.stderr);
        assert_eq!(int(db, "SELECT COUNT(*) AS v FROM public.migraph_revisions"), 3);
        let elsewhere = "SELECT COUNT(*)::BIGINT AS v FROM information_schema.tables \
                         WHERE table_name = 'migraph_revisions' AND table_schema <> 'public'";
        assert_eq!(int(db, elsewhere), 0);
        assert!(ok(d, &db.url, &["status"]).stdout.contains("applied:  3 of 3"));
    }

    fn set_search_path_in_a_revision_moves_nothing(db: &TestDb, d: &Path) {
        write_revision(
            d,
            "a",
            "",
            "CREATE SCHEMA other;\nCREATE TABLE other.migraph_revisions (id TEXT);\nSET search_path TO other;",
            Some("DROP SCHEMA other CASCADE;"),
            "",
        );
        revision_b(d);
        write_revision(d, "c", "b", "SET search_path TO other;", Some(""), "-- transaction: false");
        write_revision(d, "e", "c", "CREATE TABLE te (x INT);", Some("DROP TABLE te;"), "");
        ok(d, &db.url, &["upgrade", "heads"]);
        assert_eq!(int(db, "SELECT COUNT(*) AS v FROM public.migraph_revisions"), 4);
        assert_eq!(int(db, "SELECT COUNT(*) AS v FROM other.migraph_revisions"), 0);
        // The session was put back: later revisions' tables land in public.
        let public = "SELECT COUNT(*)::BIGINT AS v FROM information_schema.tables \
                      WHERE table_schema = 'public' AND table_name IN ('tb', 'te')";
        assert_eq!(int(db, public), 2);
        assert!(ok(d, &db.url, &["status"]).stdout.contains("applied:  4 of 4"));
        ok(d, &db.url, &["downgrade", "base"]);
        assert_eq!(int(db, "SELECT COUNT(*) AS v FROM public.migraph_revisions"), 0);
    }

    fn schema_option_keeps_the_table_there(db: &TestDb, d: &Path) {
        revision_a(d);
        ok(d, &db.url, &["--schema", "app", "upgrade", "heads"]);
        assert_eq!(int(db, "SELECT COUNT(*) AS v FROM app.migraph_revisions"), 1);
        let public = "SELECT COUNT(*)::BIGINT AS v FROM information_schema.tables WHERE table_schema = 'public' \
                      AND table_name LIKE 'migraph%'";
        assert_eq!(int(db, public), 0);
        let status = ok(d, &db.url, &["--schema", "app", "status"]);
        assert!(status.stdout.contains("(table app.migraph_revisions)"), "{}", status.stdout);
        assert!(status.stdout.contains("applied:  1 of 1"), "{}", status.stdout);
        fs::write(d.join("migraph.toml"), "schema = \"app\"\n").expect("config");
        assert!(ok(d, &db.url, &["status"]).stdout.contains("applied:  1 of 1"));
        fails(d, &db.url, &["--schema", "no.dots", "status"]);
    }

    fn older_table_and_a_stored_concurrent_down(db: &TestDb, d: &Path) {
        revision_a(d);
        applied_a_in_the_first_layout(db, d, "");
        write_revision(
            d,
            "b",
            "a",
            "CREATE INDEX CONCURRENTLY ta_x ON ta (x);",
            Some("DROP INDEX CONCURRENTLY ta_x;"),
            "-- transaction: false",
        );
        assert!(ok(d, &db.url, &["status"]).stdout.contains("applied:  1 of 2"));
        ok(d, &db.url, &["upgrade", "heads"]);
        let columns = "SELECT COUNT(*)::BIGINT AS v FROM information_schema.columns \
                       WHERE table_name = 'migraph_revisions' AND column_name IN ('depends_on', 'transaction')";
        assert_eq!(int(db, columns), 2);
        fs::remove_file(d.join("revisions/b.sql")).expect("remove b");
        assert!(ok(d, &db.url, &["status"]).stdout.contains("applied:  2 of 2 revision(s) (1 without a file)"));
        ok(d, &db.url, &["downgrade", "a"]);
        assert_eq!(int(db, "SELECT COUNT(*)::BIGINT AS v FROM pg_indexes WHERE indexname = 'ta_x'"), 0);
    }

    fn a_table_an_earlier_release_put_on_the_search_path_is_not_ignored(db: &TestDb, d: &Path) {
        revision_a(d);
        ok(d, &db.url, &["--schema", "app", "upgrade", "heads"]);
        // As if created unqualified by an earlier release with this search_path.
        let name = database_name(&db.url);
        db.connect().batch(&format!("ALTER DATABASE {name} SET search_path = app, public")).expect("search_path");
        for args in [&["status"][..], &["upgrade", "heads"]] {
            let r = fails(d, &db.url, args);
            assert!(r.stderr.contains("pass --schema app"), "{args:?}: {}", r.stderr);
        }
        let public = "SELECT COUNT(*)::BIGINT AS v FROM information_schema.tables WHERE table_schema = 'public' \
                      AND table_name LIKE 'migraph%'";
        assert_eq!(int(db, public), 0, "no second version table");
        assert!(ok(d, &db.url, &["--schema", "app", "status"]).stdout.contains("applied:  1 of 1"));
    }

    fn use_other_database_in_a_revision_moves_nothing(db: &TestDb, d: &Path) {
        let other = TestDb::new(Server::Mysql);
        let other_name = database_name(&other.url);
        write_revision(d, "a", "", &format!("USE `{other_name}`;\nCREATE TABLE ta (x INT);"), Some(""), "");
        revision_b(d);
        write_revision(d, "c", "b", &format!("USE `{other_name}`;"), Some(""), "");
        write_revision(d, "e", "c", "CREATE TABLE te (x INT);", Some("DROP TABLE te;"), "");
        ok(d, &db.url, &["upgrade", "heads"]);
        assert_eq!(int(db, "SELECT COUNT(*) AS v FROM migraph_revisions"), 4);
        let theirs = format!(
            "SELECT COUNT(*) AS v FROM information_schema.tables WHERE table_schema = '{other_name}' \
             AND table_name LIKE 'migraph%'"
        );
        assert_eq!(int(db, &theirs), 0);
        let ours = "SELECT COUNT(*) AS v FROM information_schema.tables WHERE table_schema = DATABASE() \
                    AND table_name IN ('tb', 'te')";
        assert_eq!(int(db, ours), 2, "the session was put back after each revision");
        assert!(ok(d, &db.url, &["status"]).stdout.contains("applied:  4 of 4"));
    }

    fn a_70_kb_message_is_recorded_in_an_upgraded_table(db: &TestDb, d: &Path) {
        revision_a(d);
        applied_a_in_the_first_layout(db, d, " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
        let long = "m".repeat(70_000);
        let path = d.join("revisions/b.sql");
        fs::write(
            &path,
            format!("-- id: b\n-- parents: a\n-- message: {long}\n-- migrate:up\nCREATE TABLE tb (x INT);\n"),
        )
        .expect("write b");
        ok(d, &db.url, &["upgrade", "heads"]);
        assert_eq!(int(db, "SELECT LENGTH(message) AS v FROM migraph_revisions WHERE id = 'b'"), 70_000);
        let narrow = "SELECT COUNT(*) AS v FROM information_schema.columns WHERE table_schema = DATABASE() \
                      AND table_name = 'migraph_revisions' AND column_name IN ('parents', 'message', 'down_sql') \
                      AND data_type <> 'longtext'";
        assert_eq!(int(db, narrow), 0);
        assert!(ok(d, &db.url, &["status"]).stdout.contains("applied:  2 of 2"));
    }
}

/// `stamp` writes and removes rows in batches of a few hundred per
/// statement: 1,201 revisions (three batches) are recorded exactly, with
/// their checksums, and `stamp base` removes them all.
fn stamp_in_batches(server: Option<common::Server>) {
    let project = project();
    let dir = project.path();
    let db = common::AnyDb::new(server);
    let n = 1_201;
    for i in 0..n {
        let parent = if i == 0 { String::new() } else { format!("r{}", i - 1) };
        write_revision(dir, &format!("r{i}"), &parent, "SELECT 1;", Some("SELECT 1;"), "");
    }
    let stamped = ok(dir, &db.url, &["stamp", "heads"]);
    assert!(stamped.stderr.contains(&format!("stamped: {n} row(s) added, 0 row(s) removed")), "{stamped}");
    let json: serde_json::Value = serde_json::from_str(&ok(dir, &db.url, &["status", "--json"]).stdout).unwrap();
    assert_eq!(json["applied"].as_array().unwrap().len(), n);
    assert!(json["drift"].as_array().unwrap().is_empty(), "{json}");
    assert!(json["pending"].as_array().unwrap().is_empty(), "{json}");
    ok(dir, &db.url, &["stamp", "r599"]);
    let json: serde_json::Value = serde_json::from_str(&ok(dir, &db.url, &["status", "--json"]).stdout).unwrap();
    assert_eq!(json["applied"].as_array().unwrap().len(), 600);
    let base = ok(dir, &db.url, &["stamp", "base"]);
    assert!(base.stderr.contains("stamped: 0 row(s) added, 600 row(s) removed"), "{base}");
    assert!(ok(dir, &db.url, &["status"]).stdout.contains("applied:  0 of 1201"));
}

common::backend_tests! {
    sqlite stamp_in_batches_sqlite => stamp_in_batches(None),
    postgres stamp_in_batches_postgres => stamp_in_batches(Some(common::Server::Postgres)),
    mysql stamp_in_batches_mysql => stamp_in_batches(Some(common::Server::Mysql)),
}
