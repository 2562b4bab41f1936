//! Shared helpers for the end-to-end tests: the binary, temporary projects,
//! and fresh databases on the live servers.
//!
//! PostgreSQL and MySQL tests are marked
//! `#[cfg_attr(not(all(feature = "postgres", migraph_postgres_server)), ignore = "...")]`
//! (see build.rs): without the feature or `MIGRAPH_TEST_POSTGRES_URL` /
//! `MIGRAPH_TEST_MYSQL_URL`, `cargo test` lists them as ignored with the
//! reason; with both they run, and fail if the server cannot be reached.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use assert_cmd::Command;
use migraph::backend::{AnyConnection, Backend};

/// The migraph binary, run in `dir` with `url` as its database.
pub fn migraph(dir: &Path, url: &str) -> Command {
    let mut cmd = Command::cargo_bin("migraph").expect("binary");
    cmd.current_dir(dir).env("DATABASE_URL", url).env("NO_COLOR", "1");
    cmd
}

/// A std command for the binary (for spawning concurrent processes).
pub fn migraph_process(dir: &Path, url: &str) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_migraph"));
    cmd.current_dir(dir).env("DATABASE_URL", url).env("NO_COLOR", "1");
    cmd
}

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
    /// The dialect of the test database's server.
    pub fn dialect(&self) -> migraph::backend::Dialect {
        match self.server {
            Server::Postgres => migraph::backend::Dialect::Postgres,
            Server::Mysql => migraph::backend::Dialect::Mysql,
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

/// A temporary project directory.
pub fn project() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// The sample revisions shipped in the repository.
pub fn sample_revisions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("revisions")
}
