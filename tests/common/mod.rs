//! Shared helpers for the end-to-end tests: the binary, temporary projects,
//! and fresh databases on the live servers.
//!
//! PostgreSQL and MySQL tests are marked
//! `#[cfg_attr(not(all(feature = "postgres", migraph_postgres_server)), ignore = "...")]`
//! (see build.rs): without the feature or `MIGRAPH_TEST_POSTGRES_URL` /
//! `MIGRAPH_TEST_MYSQL_URL`, `cargo test` lists them as ignored with the
//! reason; with both they run, and fail if the server cannot be reached.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use migraph::backend::{AnyConnection, Backend};

/// The migraph binary, run in `dir` with `url` as its database.
pub fn migraph(dir: &Path, url: &str) -> Command {
    let mut cmd = Command::cargo_bin("migraph").expect("binary");
    cmd.current_dir(dir).env("DATABASE_URL", url).env("NO_COLOR", "1").env("MIGRAPH_CACHE_DIR", cache_dir());
    cmd
}

/// Where the tests' runs keep `verify` records (never the user's own
/// `~/.cache`); records are per database, and every test's database is new.
pub fn cache_dir() -> PathBuf {
    std::env::temp_dir().join("migraph-tests-cache")
}

/// A std command for the binary (for spawning concurrent processes).
pub fn migraph_process(dir: &Path, url: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_migraph"));
    cmd.current_dir(dir).env("DATABASE_URL", url).env("NO_COLOR", "1").env("MIGRAPH_CACHE_DIR", cache_dir());
    cmd
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    /// The outcome of a finished process. migraph escapes what it prints,
    /// so its output must be UTF-8.
    pub fn from(output: std::process::Output) -> Ran {
        let code = output.status.code().unwrap_or(-1);
        let text = |bytes: Vec<u8>, stream: &str| {
            String::from_utf8(bytes)
                .unwrap_or_else(|e| panic!("{stream} is not UTF-8: {}", String::from_utf8_lossy(e.as_bytes())))
        };
        Ran { code, stdout: text(output.stdout, "stdout"), stderr: text(output.stderr, "stderr") }
    }

    /// Asserts exit code 0.
    pub fn ok(self) -> Ran {
        assert_eq!(self.code, 0, "expected success:\n{self}");
        self
    }

    /// Asserts exit code 1 (an error, not bad usage).
    pub fn failed(self) -> Ran {
        assert_eq!(self.code, 1, "expected exit 1:\n{self}");
        self
    }

    /// The first line of stderr.
    pub fn first_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or_default()
    }

    /// Whether stdout or stderr contains `text`.
    pub fn shows(&self, text: &str) -> bool {
        self.stdout.contains(text) || self.stderr.contains(text)
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs `command` with `input` on its stdin (written from another thread,
/// so a client that answers before reading everything cannot block it):
/// its output, and whether all of `input` was written.
pub fn with_stdin(mut command: std::process::Command, input: &str) -> (std::process::Output, std::io::Result<()>) {
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_string();
    let writer = std::thread::spawn(move || {
        use std::io::Write as _;
        stdin.write_all(input.as_bytes())
    });
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("wait for {program}: {e}"));
    let written = writer.join().expect("the writer thread");
    (output, written)
}

/// Runs `cmd` with `args`.
pub fn run_cmd(mut cmd: Command, args: &[&str]) -> Ran {
    Ran::from(cmd.args(args).output().expect("run migraph"))
}

/// Runs migraph in `dir` against `url`.
pub fn mg(dir: &Path, url: &str, args: &[&str]) -> Ran {
    run_cmd(migraph(dir, url), args)
}

/// Runs migraph in `dir` against `url` and expects exit code 0.
pub fn ok(dir: &Path, url: &str, args: &[&str]) -> Ran {
    let r = mg(dir, url, args);
    assert_eq!(r.code, 0, "migraph {args:?} should succeed:\n{r}");
    r
}

/// Runs migraph in `dir` against `url` and expects exit code 1 (an error,
/// not bad usage).
pub fn fails(dir: &Path, url: &str, args: &[&str]) -> Ran {
    let r = mg(dir, url, args);
    assert_eq!(r.code, 1, "migraph {args:?} should fail with 1:\n{r}");
    r
}

/// `sqlite://<dir>/app.db`, the database file of a test project.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("app.db").display())
}

/// The strings as a set.
pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The tables of the SQLite file at `path`, read with rusqlite (read-only:
/// the file must exist).
pub fn sqlite_tables(path: &Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut statement = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").expect("prepare");
    let names = statement.query_map([], |row| row.get::<_, String>(0)).expect("query");
    names.map(|name| name.expect("name")).collect()
}

/// The tables of the database `conn` is connected to (outside the system
/// schemas on PostgreSQL), sorted by the database.
pub fn table_names(conn: &mut dyn Backend) -> Vec<String> {
    let sql = match conn.dialect() {
        migraph::backend::Dialect::Sqlite => {
            "SELECT group_concat(name, ' ') AS v FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name)"
        }
        migraph::backend::Dialect::Postgres => {
            "SELECT string_agg(table_name::text, ' ' ORDER BY table_name::text) AS v FROM information_schema.tables \
             WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
        }
        migraph::backend::Dialect::Mysql => {
            "SELECT CAST(GROUP_CONCAT(table_name ORDER BY table_name SEPARATOR ' ') AS CHAR) AS v \
             FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
    };
    let list = conn.text(sql, &[]).expect("list tables").unwrap_or_default();
    list.split_whitespace().map(str::to_string).collect()
}

/// One `#[test]` per backend for a scenario, in the order given:
///
/// ```ignore
/// common::backend_tests! {
///     sqlite sqlite_samples => samples(Dialect::Sqlite),
///     postgres postgres_samples => samples(Dialect::Postgres),
///     mysql mysql_samples => samples(Dialect::Mysql),
/// }
/// ```
///
/// A `postgres` or `mysql` test is ignored, with the reason, unless the build
/// has the backend's feature and its `MIGRAPH_TEST_*_URL` variable (see
/// build.rs); a `postgres_client` or `mysql_client` test (no server needed)
/// only needs the feature; a `sqlite3` test needs the `sqlite3`
/// command-line client; a `sqlite` test always runs.
#[allow(unused_macros)]
macro_rules! backend_tests {
    ($($backend:ident $name:ident => $call:expr),+ $(,)?) => {
        $($crate::common::backend_tests!(@test $backend $name $call);)+
    };
    (@test sqlite $name:ident $call:expr) => {
        $crate::common::backend_tests!(@fn $name $call);
    };
    (@test sqlite3 $name:ident $call:expr) => {
        $crate::common::backend_tests!(@fn $name $call, not(migraph_sqlite3_client),
            "needs the sqlite3 command-line client (apt-get install sqlite3)");
    };
    (@test postgres $name:ident $call:expr) => {
        $crate::common::backend_tests!(@fn $name $call, not(all(feature = "postgres", migraph_postgres_server)),
            "needs --features postgres and MIGRAPH_TEST_POSTGRES_URL");
    };
    (@test mysql $name:ident $call:expr) => {
        $crate::common::backend_tests!(@fn $name $call, not(all(feature = "mysql", migraph_mysql_server)),
            "needs --features mysql and MIGRAPH_TEST_MYSQL_URL");
    };
    (@test postgres_client $name:ident $call:expr) => {
        $crate::common::backend_tests!(@fn $name $call, not(feature = "postgres"), "needs --features postgres");
    };
    (@test mysql_client $name:ident $call:expr) => {
        $crate::common::backend_tests!(@fn $name $call, not(feature = "mysql"), "needs --features mysql");
    };
    (@fn $name:ident $call:expr $(, $unless:meta, $reason:literal)?) => {
        #[test]
        $(#[cfg_attr($unless, ignore = $reason)])?
        fn $name() {
            $call;
        }
    };
}
#[allow(unused_imports)]
pub(crate) use backend_tests;

/// Writes `revisions/<id>.sql`.
pub fn write_revision(dir: &Path, id: &str, parents: &str, up: &str, down: Option<&str>, extra: &str) {
    let mut text = format!("-- id: {id}\n-- parents: {parents}\n-- message: rev {id}\n{extra}\n-- migrate:up\n{up}\n");
    if let Some(down) = down {
        text.push_str(&format!("-- migrate:down\n{down}\n"));
    }
    let path = dir.join("revisions").join(format!("{id}.sql"));
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write");
}

/// Writes a revision that creates (and drops) table `t_<id>`.
pub fn table_revision(dir: &Path, id: &str, parents: &str) {
    write_revision(
        dir,
        id,
        parents,
        &format!("CREATE TABLE t_{id} (id INTEGER PRIMARY KEY, v VARCHAR(20));"),
        Some(&format!("DROP TABLE t_{id};")),
        "",
    );
}

/// r0 ─ a1 ─ a2 ─ m3 ─ t4 and r0 ─ b1 ─ m3 (labels `alpha` on a1, `beta` on b1),
/// each revision creating table `t_<id>`.
pub fn diamond(dir: &Path) {
    table_revision(dir, "r0", "");
    table_revision(dir, "a1", "r0");
    table_revision(dir, "a2", "a1");
    table_revision(dir, "b1", "r0");
    table_revision(dir, "m3", "a2 b1");
    table_revision(dir, "t4", "m3");
    relabel(dir, "a1", "alpha");
    relabel(dir, "b1", "beta");
}

fn relabel(dir: &Path, id: &str, label: &str) {
    let path = dir.join("revisions").join(format!("{id}.sql"));
    let text = fs::read_to_string(&path).expect("read");
    fs::write(&path, text.replacen("-- message:", &format!("-- labels: {label}\n-- message:"), 1)).expect("write");
}

/// Which server a fresh database lives on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Postgres,
    Mysql,
}

/// A database created for one test and dropped afterwards.
pub struct TestDb {
    pub url: String,
    admin_url: String,
    name: String,
    server: Server,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// A fresh database on `server`. Panics (the test fails) if the URL
    /// variable is missing or the server cannot be reached.
    pub fn new(server: Server) -> TestDb {
        let var = match server {
            Server::Postgres => "MIGRAPH_TEST_POSTGRES_URL",
            Server::Mysql => "MIGRAPH_TEST_MYSQL_URL",
        };
        let admin_url = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set"));
        let name = format!(
            "migraph_t{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos())
        );
        let mut admin = AnyConnection::connect(&admin_url).unwrap_or_else(|e| panic!("{var}: {e}"));
        admin.batch(&format!("CREATE DATABASE {name}")).expect("create database");
        let url = with_database(&admin_url, &name);
        TestDb { url, admin_url, name, server }
    }

    /// A connection to the test database.
    pub fn connect(&self) -> AnyConnection {
        AnyConnection::connect(&self.url).expect("connect")
    }

    /// Names of the tables in the test database, sorted.
    pub fn tables(&self) -> Vec<String> {
        let sql = match self.server {
            Server::Postgres => "SELECT table_name::text AS id, '' AS parents, '' AS message, '' AS checksum, NULL::text AS down_sql, '' AS applied_at, 0::bigint AS execution_ms, NULL::text AS depends_on, 1::bigint AS transaction FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1",
            Server::Mysql => "SELECT CAST(table_name AS CHAR) AS id, '' AS parents, '' AS message, '' AS checksum, CAST(NULL AS CHAR) AS down_sql, '' AS applied_at, CAST(0 AS SIGNED) AS execution_ms, CAST(NULL AS CHAR) AS depends_on, CAST(1 AS SIGNED) AS transaction FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1",
        };
        self.connect().version_rows(sql).expect("list tables").into_iter().map(|r| r.id).collect()
    }

    /// IDs in the version table, sorted.
    pub fn applied(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .connect()
            .version_rows(&self.dialect().select_rows("migraph_revisions"))
            .expect("read version table")
            .into_iter()
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    }
}

impl TestDb {
    /// Waits (up to 20 s) until no other session is connected to the
    /// database, so that a killed client's server session has finished
    /// (committed, rolled back or completed what it was sent) before the
    /// state is read.
    pub fn wait_idle(&self) {
        let sql = match self.server {
            Server::Postgres => {
                "SELECT COUNT(*)::bigint AS v FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid()"
            }
            Server::Mysql => {
                "SELECT CAST(COUNT(*) AS SIGNED) AS v FROM information_schema.processlist \
                 WHERE db = DATABASE() AND id <> CONNECTION_ID()"
            }
        };
        let mut conn = self.connect();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while conn.int(sql, &[]).expect("count sessions") != Some(0) {
            assert!(std::time::Instant::now() < deadline, "a killed run's session is still on the server after 20 s");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// The dialect of the test database's server.
    pub fn dialect(&self) -> migraph::backend::Dialect {
        match self.server {
            Server::Postgres => migraph::backend::Dialect::Postgres,
            Server::Mysql => migraph::backend::Dialect::Mysql,
        }
    }
}

/// A MySQL user with all rights on a test database, from every host a test
/// connects from; dropped when this is, even when the test fails.
pub struct MysqlUser<'a> {
    db: &'a TestDb,
    name: String,
}

const MYSQL_HOSTS: [&str; 3] = ["%", "localhost", "127.0.0.1"];

impl TestDb {
    /// Creates the MySQL user `user` identified by `password`.
    pub fn mysql_user(&self, user: &str, password: &str) -> MysqlUser<'_> {
        let name = database_name(&self.url);
        let mut admin = self.connect();
        for host in MYSQL_HOSTS {
            admin
                .batch(&format!(
                    "CREATE USER '{user}'@'{host}' IDENTIFIED BY '{password}'; GRANT ALL ON {name}.* TO '{user}'@'{host}'"
                ))
                .expect("create user");
        }
        MysqlUser { db: self, name: user.to_string() }
    }
}

impl Drop for MysqlUser<'_> {
    fn drop(&mut self) {
        if let Ok(mut admin) = AnyConnection::connect(&self.db.url) {
            for host in MYSQL_HOSTS {
                let _ = admin.batch(&format!("DROP USER IF EXISTS '{}'@'{host}'", self.name));
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = AnyConnection::connect(&self.admin_url) {
            if self.server == Server::Postgres {
                let _ = admin.batch(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
                    self.name
                ));
            }
            let _ = admin.batch(&format!("DROP DATABASE IF EXISTS {}", self.name));
        }
    }
}

/// A database for one test: the SQLite file `app.db` in a temporary
/// directory of its own (no server), or a fresh database on a live server.
pub struct AnyDb {
    /// The database's URL for migraph.
    pub url: String,
    /// The directory of the SQLite file.
    pub dir: Option<tempfile::TempDir>,
    _server: Option<TestDb>,
}

impl AnyDb {
    pub fn new(server: Option<Server>) -> AnyDb {
        match server {
            None => {
                let dir = project();
                AnyDb { url: sqlite_url(dir.path()), dir: Some(dir), _server: None }
            }
            Some(server) => {
                let db = TestDb::new(server);
                AnyDb { url: db.url.clone(), dir: None, _server: Some(db) }
            }
        }
    }

    /// A connection to the database.
    pub fn connect(&self) -> AnyConnection {
        AnyConnection::connect(&self.url).unwrap_or_else(|e| panic!("connect to {}: {e}", self.url))
    }

    /// [`TestDb::wait_idle`] on a server; SQLite has no sessions to wait for.
    pub fn wait_idle(&self) {
        if let Some(server) = &self._server {
            server.wait_idle();
        }
    }

    /// The database's URL for Diesel: the file's path on SQLite.
    pub fn diesel_url(&self) -> String {
        match &self.dir {
            Some(dir) => dir.path().join("app.db").display().to_string(),
            None => self.url.clone(),
        }
    }
}

/// `url` with its database (path) replaced by `name`.
pub fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL with ://");
    let (authority, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
}

/// The database a server URL names.
pub fn database_name(url: &str) -> String {
    url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_string()
}

/// A temporary project directory.
pub fn project() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// The sample revisions shipped in the repository.
pub fn sample_revisions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions")
}

/// How many revision files the sample holds.
#[allow(dead_code)]
pub fn sample_count() -> usize {
    let files = std::fs::read_dir(sample_revisions()).expect("the sample revisions");
    files.filter(|e| e.as_ref().expect("entry").path().extension().is_some_and(|x| x == "sql")).count()
}
