//! Fresh databases of every dialect and the dialect's own command-line
//! client (`sqlite3`, `psql`, `mysql`), for the tests that compare what
//! migraph does with what the client does (tests/sql_text.rs,
//! tests/scripts_clients.rs). The catalog is read through the client too,
//! so the comparison does not depend on migraph's own code.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use migraph::backend::Dialect;

use crate::common::{with_stdin, AnyDb, Server};

/// A fresh, empty database.
pub struct Db {
    pub dialect: Dialect,
    pub url: String,
    path: Option<PathBuf>,
    _db: AnyDb,
}

impl Db {
    pub fn new(dialect: Dialect) -> Db {
        let db = AnyDb::new(match dialect {
            Dialect::Sqlite => None,
            Dialect::Postgres => Some(Server::Postgres),
            Dialect::Mysql => Some(Server::Mysql),
        });
        let path = db.dir.as_ref().map(|dir| dir.path().join("app.db"));
        Db { dialect, url: db.url.clone(), path, _db: db }
    }

    /// The client, connected to this database, that stops at the first error.
    fn command(&self, quiet_output: bool) -> Command {
        match self.dialect {
            Dialect::Sqlite => {
                let mut c = Command::new("sqlite3");
                c.arg("-bail").arg(self.path.as_deref().expect("sqlite path"));
                c
            }
            Dialect::Postgres => {
                let mut c = Command::new("psql");
                c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &self.url]);
                if quiet_output {
                    c.args(["-A", "-t", "-F", "|"]);
                }
                c
            }
            Dialect::Mysql => {
                let url = url::Url::parse(&self.url).expect("mysql URL");
                let mut c = Command::new("mysql");
                c.arg("--comments")
                    .arg(format!("--host={}", url.host_str().unwrap_or("127.0.0.1")))
                    .arg(format!("--port={}", url.port().unwrap_or(3306)))
                    .arg(format!("--user={}", url.username()));
                if let Some(password) = url.password() {
                    c.env("MYSQL_PWD", password);
                }
                if quiet_output {
                    c.args(["-N", "-B"]);
                }
                c.arg(url.path().trim_start_matches('/'));
                c
            }
        }
    }

    /// Feeds `script` to the client on stdin: its stdout, or what it said
    /// when it failed.
    pub fn client(&self, script: &str) -> Result<String, String> {
        run(self.command(false), script)
    }

    /// Runs one query through the client; its rows as text.
    pub fn query(&self, sql: &str) -> String {
        run(self.command(true), sql).unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"))
    }

    /// Tables, columns, indexes, views, triggers and routines (with their
    /// bodies) outside migraph's own tables, one per line, sorted.
    pub fn schema(&self) -> String {
        let schema = self.query(match self.dialect {
            Dialect::Sqlite => {
                "SELECT type || ' ' || name || ' ' || tbl_name || ': ' || coalesce(sql, '') FROM sqlite_master \
                 WHERE name NOT LIKE 'migraph%' AND name NOT LIKE 'sqlite%' ORDER BY 1;"
            }
            Dialect::Postgres => {
                "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || \
                 coalesce(column_default, '') FROM information_schema.columns WHERE table_schema = 'public' \
                 AND table_name NOT LIKE 'migraph%' \
                 UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes \
                 WHERE schemaname = 'public' AND tablename NOT LIKE 'migraph%' \
                 UNION ALL SELECT 'trigger ' || trigger_name || ' ' || event_manipulation || ' ' || \
                 event_object_table || ' ' || action_statement FROM information_schema.triggers \
                 WHERE trigger_schema = 'public' \
                 UNION ALL SELECT 'routine ' || p.proname || ' ' || pg_get_functiondef(p.oid) FROM pg_proc p \
                 JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' \
                 UNION ALL SELECT 'view ' || viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public' \
                 UNION ALL SELECT 'comment ' || c.relname || ' ' || obj_description(c.oid) FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' \
                 AND obj_description(c.oid) IS NOT NULL ORDER BY 1;"
            }
            Dialect::Mysql => {
                "SELECT CONCAT('column ', table_name, '.', column_name, ' ', column_type, ' ', \
                 COALESCE(column_default, '')) AS x FROM information_schema.columns \
                 WHERE table_schema = DATABASE() AND table_name NOT LIKE 'migraph%' \
                 UNION ALL SELECT CONCAT('index ', table_name, '.', index_name, ' ', column_name) \
                 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name NOT LIKE 'migraph%' \
                 UNION ALL SELECT CONCAT('trigger ', trigger_name, ' ', action_statement) \
                 FROM information_schema.triggers WHERE trigger_schema = DATABASE() \
                 UNION ALL SELECT CONCAT('routine ', routine_type, ' ', routine_name, ' ', routine_definition) \
                 FROM information_schema.routines WHERE routine_schema = DATABASE() \
                 UNION ALL SELECT CONCAT('event ', event_name, ' ', event_definition) \
                 FROM information_schema.events WHERE event_schema = DATABASE() \
                 UNION ALL SELECT CONCAT('view ', table_name, ' ', view_definition) \
                 FROM information_schema.views WHERE table_schema = DATABASE() ORDER BY 1;"
            }
        });
        // MySQL writes the database's name into view definitions.
        match (&self.dialect, url::Url::parse(&self.url)) {
            (Dialect::Mysql, Ok(url)) => schema.replace(&format!("`{}`.", url.path().trim_start_matches('/')), "`DB`."),
            _ => schema,
        }
    }

    /// The version rows (what a real run and a script must agree on), text
    /// columns in hex, sorted by ID.
    pub fn version_rows(&self) -> String {
        self.query(match self.dialect {
            Dialect::Sqlite => {
                "SELECT id, parents, lower(hex(message)), checksum, coalesce(lower(hex(down_sql)), 'NULL'), \
                 depends_on, \"transaction\" FROM migraph_revisions ORDER BY id;"
            }
            Dialect::Postgres => {
                "SELECT id, parents, encode(convert_to(message, 'UTF8'), 'hex'), checksum, \
                 coalesce(encode(convert_to(down_sql, 'UTF8'), 'hex'), 'NULL'), depends_on, \"transaction\" \
                 FROM public.migraph_revisions ORDER BY id;"
            }
            Dialect::Mysql => {
                "SELECT id, parents, LOWER(HEX(message)), checksum, COALESCE(LOWER(HEX(down_sql)), 'NULL'), \
                 depends_on, `transaction` FROM migraph_revisions ORDER BY id;"
            }
        })
    }

    /// Names of the tables outside migraph's own, sorted.
    pub fn tables(&self) -> String {
        self.query(match self.dialect {
            Dialect::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'migraph%' AND name <> 'sqlite_sequence' ORDER BY 1;"
            }
            Dialect::Postgres => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' \
                 AND table_name NOT LIKE 'migraph%' ORDER BY 1;"
            }
            Dialect::Mysql => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() \
                 AND table_name NOT LIKE 'migraph%' ORDER BY 1;"
            }
        })
    }
}

fn run(command: Command, stdin: &str) -> Result<String, String> {
    let program = command.get_program().to_string_lossy().into_owned();
    let (out, _) = with_stdin(command, stdin);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // sqlite3 reports some errors on stderr only.
    let quiet = program != "sqlite3" || stderr.trim().is_empty();
    if out.status.success() && quiet {
        Ok(stdout)
    } else {
        Err(format!("{program} exited with {}: {stderr}{stdout}", out.status))
    }
}

/// A project directory whose `revisions/` holds `files` (name, content).
pub fn project(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    write_files(dir.path(), files);
    dir
}

pub fn write_files(dir: &Path, files: &[(&str, String)]) {
    let revisions = dir.join("revisions");
    std::fs::create_dir_all(&revisions).expect("mkdir revisions");
    for (name, content) in files {
        std::fs::write(revisions.join(name), content).expect("write revision");
    }
}

/// The dialects whose server this build may use: SQLite always.
pub fn dialects() -> Vec<Dialect> {
    let mut out = vec![Dialect::Sqlite];
    if cfg!(all(feature = "postgres", migraph_postgres_server)) {
        out.push(Dialect::Postgres);
    }
    if cfg!(all(feature = "mysql", migraph_mysql_server)) {
        out.push(Dialect::Mysql);
    }
    out
}
