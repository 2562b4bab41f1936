//! Database URLs end to end (SPEC §5): empty URLs and SQLite paths are
//! errors, `file:` URIs and their parameters, bare paths with `?`,
//! `mariadb://`, MySQL URLs without a database, lock timeouts, a SQLite
//! database locked by another connection, and passwords (with `/`, `#`,
//! `?`, `@`, `:`) that never appear in any output.

mod common;

use std::fs;
use std::path::Path;

use common::{migraph, project, run_cmd, sqlite_tables, table_revision, Ran, Server, TestDb};

/// Runs migraph in `dir` with `args`, `DATABASE_URL` unset unless `env` says.
fn mg_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Ran {
    let mut cmd = migraph(dir, "");
    cmd.env_remove("DATABASE_URL");
    for (name, value) in env {
        cmd.env(name, value);
    }
    run_cmd(cmd, args)
}

fn mg(dir: &Path, args: &[&str]) -> Ran {
    mg_env(dir, &[], args)
}

/// A project with revisions r0 ─ r1, each creating `t_<id>`.
fn two_revisions() -> tempfile::TempDir {
    let dir = project();
    table_revision(dir.path(), "r0", "");
    table_revision(dir.path(), "r1", "r0");
    dir
}

/// The entries of `dir` other than `revisions`, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name != "revisions")
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------------------
// Item 5: an empty URL or SQLite path is an error, never an in-memory database
// ---------------------------------------------------------------------------

#[test]
fn empty_urls_and_sqlite_paths_are_errors_from_the_flag() {
    let dir = two_revisions();
    let d = dir.path();
    for url in ["", "sqlite://", "sqlite:", "SQLITE://", "file:", "file://", "sqlite://?mode=rwc"] {
        for command in [&["upgrade", "heads"][..], &["status"], &["stamp", "heads"], &["upgrade", "heads", "--sql"]] {
            let mut args = vec!["--database-url", url];
            args.extend_from_slice(command);
            let ran = mg(d, &args).failed();
            assert!(
                ran.first_line().starts_with(&format!("error: invalid database URL `{url}` (from --database-url): ")),
                "{url} {command:?}:\n{ran}"
            );
            assert!(ran.first_line().contains("empty"), "{ran}");
            assert!(!ran.shows("applied"), "{ran}");
        }
    }
    assert_eq!(files(d), Vec::<String>::new(), "nothing was created");
    mg(d, &["--database-url", "sqlite::memory:", "upgrade", "heads"]).ok();
}

#[test]
fn an_empty_database_url_from_dotenv_is_an_error() {
    let dir = two_revisions();
    let d = dir.path();
    fs::write(d.join(".env"), "DATABASE_URL=\n").expect("write .env");
    let ran = mg(d, &["upgrade", "heads"]).failed();
    let from = format!("(from DATABASE_URL in {})", d.join(".env").display());
    assert_eq!(ran.first_line(), format!("error: invalid database URL `` {from}: the URL is empty"), "{ran}");
    let ran = mg_env(d, &[("DATABASE_URL", "sqlite:")], &["upgrade", "heads"]).failed();
    assert!(ran.first_line().starts_with("error: invalid database URL `sqlite:` (from DATABASE_URL): "), "{ran}");
    assert_eq!(files(d), [".env"]);
}

#[test]
fn an_empty_variable_in_migraph_toml_is_an_error() {
    let dir = two_revisions();
    let d = dir.path();
    let toml = d.join("migraph.toml");
    for url in ["sqlite://${APP_DB}", "${APP_DB}", "file:${APP_DB}?mode=rwc"] {
        fs::write(&toml, format!("database_url = \"{url}\"\n")).expect("write migraph.toml");
        let ran = mg_env(d, &[("APP_DB", "")], &["upgrade", "heads"]).failed();
        let first = ran.first_line();
        assert!(first.starts_with("error: invalid database URL `"), "{ran}");
        assert!(first.contains(&format!("(from {}: database_url)", toml.display())), "{ran}");
        assert!(first.contains("empty"), "{ran}");
        assert!(ran.stderr.contains("hint: the environment variable `APP_DB` is empty"), "{ran}");
        let ran = mg(d, &["upgrade", "heads"]).failed();
        assert!(ran.first_line().contains("environment variable `APP_DB` is not set"), "{ran}");
        // Commands that need no database still work.
        mg_env(d, &[("APP_DB", "")], &["heads"]).ok();
    }
    assert_eq!(files(d), ["migraph.toml"], "nothing was created");
    fs::write(&toml, "database_url = \"sqlite://${APP_DB}?mode=rwc\"\n").expect("write migraph.toml");
    mg_env(d, &[("APP_DB", "app.db")], &["upgrade", "heads"]).ok();
    assert!(sqlite_tables(&d.join("app.db")).contains("t_r1"));
}

// ---------------------------------------------------------------------------
// Item 8: file: URIs, ?mode=ro, bare paths with `?`
// ---------------------------------------------------------------------------

#[test]
fn a_bare_path_with_a_question_mark_is_that_file() {
    let dir = two_revisions();
    let d = dir.path();
    mg(d, &["--database-url", "we?ird.db", "upgrade", "heads"]).ok();
    assert_eq!(files(d), ["we?ird.db"]);
    assert!(sqlite_tables(&d.join("we?ird.db")).contains("t_r1"));
    let ran = mg(d, &["--database-url", "we?ird.db", "status", "--json"]).ok();
    assert!(ran.stdout.contains("we?ird.db"), "{ran}");
    // In a sqlite:// URL, `?` starts parameters: this one is not a parameter.
    let ran = mg(d, &["--database-url", "sqlite://we?ird.db", "status"]).failed();
    assert!(ran.first_line().contains("`ird.db` has no value"), "{ran}");
    mg(d, &["--database-url", "sqlite://we%3Fird.db", "status"]).ok();
}

#[test]
fn file_uris_name_their_file() {
    let dir = two_revisions();
    let d = dir.path();
    mg(d, &["--database-url", "file:app.db", "upgrade", "r0"]).ok();
    assert_eq!(files(d), ["app.db"]);
    let absolute = format!("file://{}?mode=rw", d.join("app.db").display());
    mg(d, &["--database-url", &absolute, "upgrade", "heads"]).ok();
    assert!(sqlite_tables(&d.join("app.db")).contains("t_r1"));
    // --backup finds the file behind a file: URI.
    table_revision(d, "r2", "r1");
    let ran = mg(d, &["--database-url", "file:app.db?cache=private", "upgrade", "heads", "--backup"]).ok();
    let backups: Vec<String> = files(d).into_iter().filter(|name| name.ends_with(".backup")).collect();
    assert_eq!(backups.len(), 1, "{ran}");
    assert!(backups[0].starts_with("app.db."), "{backups:?}");
    assert!(!sqlite_tables(&d.join(&backups[0])).contains("t_r2"), "the copy is from before the run");
    assert!(sqlite_tables(&d.join("app.db")).contains("t_r2"));
    // mode=rw does not create a missing file.
    let ran = mg(d, &["--database-url", "file:missing.db?mode=rw", "upgrade", "heads"]).failed();
    assert!(ran.first_line().starts_with("error: cannot connect to file:missing.db?mode=rw"), "{ran}");
    assert!(!d.join("missing.db").exists());
}

#[test]
fn mode_ro_is_honoured() {
    let dir = two_revisions();
    let d = dir.path();
    mg(d, &["--database-url", "ro.db", "upgrade", "r0"]).ok();
    let before = fs::read(d.join("ro.db")).expect("read");
    for url in ["sqlite://ro.db?mode=ro", "file:ro.db?mode=ro", "sqlite://ro.db?immutable=1"] {
        for command in [&["upgrade", "heads"][..], &["stamp", "heads"], &["downgrade", "base"]] {
            let mut args = vec!["--database-url", url];
            args.extend_from_slice(command);
            let ran = mg(d, &args).failed();
            assert!(ran.stderr.contains("readonly database"), "{url} {command:?}:\n{ran}");
        }
        // Reading works.
        let ran = mg(d, &["--database-url", url, "status", "--json"]).ok();
        assert!(ran.stdout.contains("\"r0\""), "{ran}");
    }
    assert_eq!(fs::read(d.join("ro.db")).expect("read"), before, "the file is not written");
    assert!(!sqlite_tables(&d.join("ro.db")).contains("t_r1"));
}

#[test]
fn unknown_sqlite_parameters_are_errors() {
    let dir = two_revisions();
    let d = dir.path();
    for (url, expected) in [
        ("sqlite://x.db?journal=wal", "unknown SQLite URI parameter `journal`"),
        ("file:x.db?mode=readonly", "mode is one of ro, rw, rwc, memory"),
        ("sqlite://x#y.db", "%23"),
        ("oracle://u@h/db", "unsupported database URL"),
        ("postgres:/h/db", "starts with `postgres://`"),
    ] {
        let ran = mg(d, &["--database-url", url, "upgrade", "heads"]).failed();
        assert!(ran.first_line().contains(expected), "{url}:\n{ran}");
        assert!(ran.first_line().contains("(from --database-url)"), "{url}:\n{ran}");
    }
    assert_eq!(files(d), Vec::<String>::new());
}

// ---------------------------------------------------------------------------
// Items 12 and 15: lock timeouts
// ---------------------------------------------------------------------------

#[test]
fn huge_lock_timeouts_are_rejected_not_a_panic() {
    let dir = two_revisions();
    let d = dir.path();
    let url = format!("sqlite://{}", d.join("x.db").display());
    let ran = mg(d, &["--database-url", &url, "--lock-timeout", "18446744073709551615", "upgrade", "heads"]);
    assert_eq!(ran.code, 2, "clap rejects the value:\n{ran}");
    assert!(ran.stderr.contains("--lock-timeout") && ran.stderr.contains("0..=31536000"), "{ran}");
    fs::write(d.join("migraph.toml"), "revisions = \"revisions\"\nlock_timeout = 9223372036854775807\n")
        .expect("write");
    let ran = mg(d, &["--database-url", &url, "upgrade", "heads"]).failed();
    assert!(ran.first_line().contains("migraph.toml:2: lock_timeout = 9223372036854775807 is more than"), "{ran}");
    assert!(!d.join("x.db").exists());
    // The largest accepted value works (SQLite's busy timeout is capped).
    fs::write(d.join("migraph.toml"), "lock_timeout = 31536000\n").expect("write");
    mg(d, &["--database-url", &url, "upgrade", "heads"]).ok();
    mg(d, &["--database-url", &url, "--lock-timeout", "31536000", "downgrade", "base"]).ok();
    assert!(!sqlite_tables(&d.join("x.db")).iter().any(|table| table.starts_with("t_")));
}

#[test]
fn a_sqlite_database_locked_by_another_connection() {
    let dir = two_revisions();
    let d = dir.path();
    let db = d.join("x.db");
    let url = db.display().to_string();
    mg(d, &["--database-url", &url, "upgrade", "r0"]).ok();
    let holder = rusqlite::Connection::open(&db).expect("open");
    holder.execute_batch("BEGIN EXCLUSIVE; INSERT INTO t_r0 (v) VALUES ('held');").expect("lock");
    for command in [&["stamp", "heads"][..], &["upgrade", "heads"], &["downgrade", "base"]] {
        let mut args = vec!["--database-url", url.as_str(), "--lock-timeout", "1"];
        args.extend_from_slice(command);
        let ran = mg(d, &args).failed();
        assert_eq!(
            ran.first_line(),
            format!("error: cannot connect to {url}: database is locked by another connection (waited 1 s)"),
            "{command:?}:\n{ran}"
        );
    }
    holder.execute_batch("ROLLBACK").expect("unlock");
    drop(holder);
    mg(d, &["--database-url", &url, "--lock-timeout", "1", "upgrade", "heads"]).ok();
    assert!(sqlite_tables(&db).contains("t_r1"));
}

// ---------------------------------------------------------------------------
// Item 11: a MySQL URL must name a database
// ---------------------------------------------------------------------------

#[test]
fn a_mysql_url_without_a_database_fails_at_once() {
    let dir = two_revisions();
    let d = dir.path();
    for url in ["mysql://root@127.0.0.1:3306", "mysql://root@127.0.0.1:3306/", "mariadb://root:pw/x@127.0.0.1/"] {
        for command in [&["upgrade", "heads"][..], &["status"], &["stamp", "heads"]] {
            let mut args = vec!["--database-url", url, "--lock-timeout", "5"];
            args.extend_from_slice(command);
            let ran = mg(d, &args).failed();
            assert!(ran.first_line().contains("a MySQL URL must name a database"), "{url}:\n{ran}");
            assert!(!ran.shows("pw/x"), "{ran}");
        }
    }
}

// ---------------------------------------------------------------------------
// Item 6: passwords never shown, unrelated text never mangled
// ---------------------------------------------------------------------------

/// Passwords with every character that ends a part of a URL.
const HARD_PASSWORDS: [&str; 5] = ["pa/ss-w0rd", "s3/cr#et?x", "p@ss/w:rd", "a/b@c#d?e:f", "0/1"];

fn assert_hidden(ran: &Ran, password: &str, what: &str) {
    assert!(!ran.shows(password), "{what} shows the password {password}:\n{ran}");
    for part in password.split(['/', '#', '?', '@', ':']).filter(|part| part.len() > 2) {
        assert!(!ran.stdout.contains(&format!(":{part}")), "{what} shows part of {password}:\n{ran}");
    }
}

/// A closed port: the connection fails and nothing shows a password, nor
/// mangles words that contain a short password.
fn closed_port(server: Server) {
    let dir = two_revisions();
    let d = dir.path();
    let (scheme, user) = match server {
        Server::Postgres => ("postgres", "u"),
        Server::Mysql => ("mariadb", "root"),
    };
    for password in HARD_PASSWORDS {
        let url = format!("{scheme}://{user}:{password}@127.0.0.1:1/db");
        for command in [&["upgrade", "heads"][..], &["status", "--json"], &["-v", "check"], &["current"]] {
            let mut args = vec!["--database-url", url.as_str()];
            args.extend_from_slice(command);
            let ran = mg(d, &args).failed();
            assert_hidden(&ran, password, &format!("{command:?}"));
            assert!(ran.shows(&format!("{scheme}://{user}:***@127.0.0.1:1/db")), "{command:?}:\n{ran}");
        }
    }
    let ran = mg(d, &["--database-url", &format!("{scheme}://{user}:e@127.0.0.1:1/db"), "upgrade", "heads"]).failed();
    assert!(ran.first_line().starts_with(&format!("error: cannot connect to {scheme}://{user}:***@127.0.0.1:1/db: ")));
    assert!(!ran.stderr.contains("***ct"), "a short password mangles words:\n{ran}");
}

common::backend_tests! {
    postgres_client postgres_passwords_hidden_on_a_closed_port => closed_port(Server::Postgres),
    mysql_client mysql_passwords_hidden_on_a_closed_port => closed_port(Server::Mysql),
}

/// `url` with `user:password@` as its userinfo.
fn with_password(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("://");
    let host = &rest[rest.find('@').map_or(0, |at| at + 1)..];
    format!("{scheme}://{user}:{password}@{host}")
}

/// PostgreSQL with trust authentication: a URL with an unencoded password
/// connects (the password reaches libpq intact, so the host and database
/// are right), and every output shows it redacted; a wrong database makes
/// an error that names the URL, without the password.
fn unencoded_passwords_on_postgres(db: &TestDb, d: &Path, name: &str) {
    for password in HARD_PASSWORDS {
        let url = with_password(&db.url, "postgres", password);
        let ran = mg(d, &["--database-url", &url, "upgrade", "r0"]).ok();
        assert_hidden(&ran, password, "upgrade");
        let ran = mg(d, &["--database-url", &url, "status", "--json"]).ok();
        assert_hidden(&ran, password, "status --json");
        assert!(ran.stdout.contains("postgres:***@127.0.0.1"), "{ran}");
        let ran = mg(d, &["--database-url", &url, "-v", "check"]);
        assert_hidden(&ran, password, "check -v");
        assert!(ran.stderr.contains("database:    postgres://postgres:***@127.0.0.1"), "{ran}");
        let missing = url.replace(name, "migraph_no_such_database");
        let ran = mg(d, &["--database-url", &missing, "status"]).failed();
        assert!(ran.first_line().contains("migraph_no_such_database"), "{ran}");
        assert_hidden(&ran, password, "status on a missing database");
        let ran = mg(d, &["--database-url", &missing, "-v", "check", "--json"]).failed();
        assert_hidden(&ran, password, "check --json on a missing database");
    }
    assert!(db.tables().contains(&"t_r0".to_string()));
}

/// MariaDB: a user whose password holds `/`, `#`, `?`, `@` and `:`
/// connects with it written unencoded, through `mariadb://`; a wrong
/// password is refused without showing either.
fn unencoded_passwords_on_mysql(db: &TestDb, d: &Path, name: &str) {
    let user = format!("u{}", &name[name.len().saturating_sub(24)..]);
    let password = "a/b@c#d?e:f";
    let _user = db.mysql_user(&user, password);
    let url = with_password(&db.url, &user, password).replacen("mysql://", "mariadb://", 1);
    let ran = mg(d, &["--database-url", &url, "upgrade", "heads"]).ok();
    assert_hidden(&ran, password, "upgrade");
    let ran = mg(d, &["--database-url", &url, "status", "--json"]).ok();
    assert_hidden(&ran, password, "status --json");
    assert!(ran.stdout.contains(&format!("{user}:***@")), "{ran}");
    let ran = mg(d, &["--database-url", &url, "-v", "check"]);
    assert_hidden(&ran, password, "check -v");
    assert!(ran.stderr.contains(&format!("database:    mariadb://{user}:***@127.0.0.1")), "{ran}");
    let wrong = with_password(&db.url, &user, "x/y#z?w");
    let ran = mg(d, &["--database-url", &wrong, "status"]).failed();
    assert!(ran.first_line().contains("Access denied"), "{ran}");
    assert_hidden(&ran, "x/y#z?w", "a wrong password");
    assert!(db.tables().contains(&"t_r1".to_string()));
}

/// A fresh database on `server`, the project r0 ─ r1 and its database name.
fn unencoded_passwords_live(server: Server, test: fn(&TestDb, &Path, &str)) {
    let db = TestDb::new(server);
    let dir = two_revisions();
    let name = common::database_name(&db.url);
    test(&db, dir.path(), &name);
}

common::backend_tests! {
    postgres postgres_unencoded_passwords_live =>
        unencoded_passwords_live(Server::Postgres, unencoded_passwords_on_postgres),
    mysql mysql_unencoded_passwords_live => unencoded_passwords_live(Server::Mysql, unencoded_passwords_on_mysql),
}

/// A library caller may pass any `Duration`: the run lock's deadline does
/// not overflow.
#[test]
fn the_library_accepts_any_lock_timeout() {
    let dir = two_revisions();
    let d = dir.path();
    let url = d.join("lib.db").display().to_string();
    let mut conn = migraph::backend::AnyConnection::connect_with(&url, std::time::Duration::MAX).expect("connect");
    let migrator =
        migraph::Migrator::from_dir(d.join("revisions")).expect("load").lock_timeout(std::time::Duration::MAX);
    let report = migrator.upgrade_heads(&mut conn).expect("upgrade");
    assert_eq!(report.done.len(), 2);
    assert!(sqlite_tables(&d.join("lib.db")).contains("t_r1"));
}
