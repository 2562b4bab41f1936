//! Scratch databases for `migraph test` and `migraph verify`: created
//! empty, used through one connection, and dropped when the [`Scratch`] is
//! dropped, also when the run fails or panics.
//!
//! - SQLite: `scratch.db` in a new temporary directory (`migraph-test-*`
//!   under the system's temporary directory), opened with
//!   `synchronous = OFF` and an in-memory journal: nothing in it needs to
//!   survive a crash, so commits cost no fsync.
//! - PostgreSQL and MySQL: a database `migraph_test_<unix time>_<pid>_<n>`
//!   created on the server a URL names (through a connection to that URL's
//!   database; when it does not exist, to `postgres` / `information_schema`),
//!   dropped afterwards (PostgreSQL `WITH (FORCE)`).
//!
//! A process killed outright (SIGKILL, or Ctrl-C, which ends the process
//! without unwinding) cannot drop its database. The next scratch database
//! created on the same server drops those left behind: databases named
//! `migraph_test_*` that are older than a minute and that no session uses
//! (PostgreSQL refuses to drop a database in use; on MySQL the process list
//! is asked first). A leftover SQLite directory stays in the temporary
//! directory until the system cleans it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::backend::{redact, AnyConnection, Arg, Backend, DatabaseUrl, DbError, Dialect};

/// The name every scratch database on a server starts with.
pub const SCRATCH_PREFIX: &str = "migraph_test_";

/// How old a leftover scratch database must be before another run drops it.
const STALE_SECONDS: u64 = 60;

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A scratch database could not be created.
#[derive(Debug, Error)]
#[error("cannot create a scratch {what}: {source}")]
pub struct ScratchError {
    /// What was being created (`SQLite file in /tmp/...`, `PostgreSQL database `x` on URL`).
    pub what: String,
    pub source: DbError,
}

/// A scratch database, dropped with this value. Drop every connection to it
/// first (declare the connection after the `Scratch`, so it drops first).
pub struct Scratch {
    url: String,
    dialect: Dialect,
    server: Option<Server>,
    _dir: Option<tempfile::TempDir>,
}

struct Server {
    /// A URL to connect to while the scratch database is dropped.
    admin_url: String,
    name: String,
}

impl Scratch {
    /// A new, empty database of `dialect`: a temporary file for SQLite; for
    /// PostgreSQL and MySQL a database on the server `server_url` names.
    pub fn create(dialect: Dialect, server_url: Option<&str>) -> Result<Scratch, ScratchError> {
        if dialect == Dialect::Sqlite {
            let what = "SQLite file".to_string();
            let dir = tempfile::Builder::new()
                .prefix("migraph-test-")
                .tempdir()
                .map_err(|e| ScratchError { what: what.clone(), source: DbError::Query(e.to_string()) })?;
            let url = format!("sqlite://{}", dir.path().join("scratch.db").display());
            return Ok(Scratch { url, dialect, server: None, _dir: Some(dir) });
        }
        let Some(server_url) = server_url else {
            let source = DbError::Query(format!("no {dialect} server URL was given"));
            return Err(ScratchError { what: format!("{dialect} database"), source });
        };
        let name = format!(
            "{SCRATCH_PREFIX}{}_{}_{}",
            SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let what = format!("{dialect} database `{name}` on {}", redact(server_url));
        let fail = |source: DbError| ScratchError { what: what.clone(), source };
        let (mut admin, admin_url) = admin(dialect, server_url).map_err(fail)?;
        drop_stale(&mut admin, dialect);
        admin.batch(&format!("CREATE DATABASE {}", dialect.ident(&name))).map_err(fail)?;
        let url = with_database(server_url, &name).map_err(fail)?;
        Ok(Scratch { url, dialect, server: Some(Server { admin_url, name }), _dir: None })
    }

    /// The scratch database's URL (with the server URL's password).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Its name on the server; `None` for SQLite.
    pub fn name(&self) -> Option<&str> {
        self.server.as_ref().map(|s| s.name.as_str())
    }

    /// A connection to it (SQLite: without fsync).
    pub fn connect(&self) -> Result<AnyConnection, DbError> {
        let mut conn = AnyConnection::connect(&self.url)?;
        if self.dialect == Dialect::Sqlite {
            conn.batch("PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY")?;
        }
        Ok(conn)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some(server) = &self.server else { return };
        let Ok(mut admin) = AnyConnection::connect(&server.admin_url) else { return };
        let name = self.dialect.ident(&server.name);
        let _ = match self.dialect {
            Dialect::Postgres => admin.batch(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")),
            _ => admin.batch(&format!("DROP DATABASE IF EXISTS {name}")),
        };
    }
}

/// A connection to the server: to the URL's own database, else to one
/// every server has. Returns the URL it connected with.
fn admin(dialect: Dialect, server_url: &str) -> Result<(AnyConnection, String), DbError> {
    let first = AnyConnection::connect(server_url);
    match first {
        Ok(conn) => Ok((conn, server_url.to_string())),
        Err(error) => {
            let fallback = with_database(
                server_url,
                if dialect == Dialect::Postgres { "postgres" } else { "information_schema" },
            )?;
            match AnyConnection::connect(&fallback) {
                Ok(conn) => Ok((conn, fallback)),
                Err(_) => Err(error),
            }
        }
    }
}

/// `url` (a PostgreSQL or MySQL URL) naming database `name` instead.
fn with_database(url: &str, name: &str) -> Result<String, DbError> {
    let driver = match DatabaseUrl::parse(url)? {
        DatabaseUrl::Postgres(driver) | DatabaseUrl::Mysql(driver) => driver,
        DatabaseUrl::Sqlite(_) => return Err(DbError::Query("a scratch database needs a server URL".into())),
    };
    let mut parsed =
        url::Url::parse(&driver).map_err(|e| DbError::InvalidUrl { url: redact(url), reason: e.to_string() })?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

/// Drops scratch databases that earlier runs left behind (killed before
/// they could): older than [`STALE_SECONDS`] and used by no session.
/// Failures are ignored: the database may be in use after all.
fn drop_stale(admin: &mut AnyConnection, dialect: Dialect) {
    let sql = match dialect {
        Dialect::Postgres => {
            "SELECT string_agg(datname, ' ') AS v FROM pg_database WHERE datname LIKE 'migraph\\_test\\_%'"
        }
        _ => {
            "SELECT CAST(GROUP_CONCAT(SCHEMA_NAME SEPARATOR ' ') AS CHAR) AS v FROM information_schema.SCHEMATA \
             WHERE SCHEMA_NAME LIKE 'migraph\\_test\\_%'"
        }
    };
    let Ok(Some(list)) = admin.text(sql, &[]) else { return };
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    for name in list.split_whitespace() {
        let created = name.strip_prefix(SCRATCH_PREFIX).and_then(|rest| rest.split('_').next()?.parse::<u64>().ok());
        if created.is_none_or(|t| t + STALE_SECONDS >= now) {
            continue;
        }
        if dialect == Dialect::Mysql {
            let used = "SELECT COUNT(*) AS v FROM information_schema.PROCESSLIST WHERE DB = ?";
            if admin.int(used, &[Arg::Text(name.to_string())]).ok().flatten() != Some(0) {
                continue;
            }
        }
        let _ = admin.batch(&format!("DROP DATABASE {}", dialect.ident(name)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_pointed_at_another_database() {
        let url = with_database("postgres://u:p%40ss@h:5433/app?sslmode=disable", "migraph_test_1_2_3").unwrap();
        assert_eq!(url, "postgres://u:p%40ss@h:5433/migraph_test_1_2_3?sslmode=disable");
        let url = with_database("mariadb://root@h/app", "x").unwrap();
        assert_eq!(url, "mysql://root@h/x");
        assert!(with_database("sqlite://a.db", "x").is_err());
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn a_sqlite_scratch_file_goes_with_its_guard() {
        let scratch = Scratch::create(Dialect::Sqlite, None).unwrap();
        let path = crate::backend::sqlite_path(scratch.url()).unwrap();
        let mut conn = scratch.connect().unwrap();
        conn.batch("CREATE TABLE t (x INTEGER)").unwrap();
        drop(conn);
        assert!(std::path::Path::new(&path).exists());
        drop(scratch);
        assert!(!std::path::Path::new(&path).exists());
    }
}
