//! `migraph database create|drop`: create or drop the database the URL
//! names, as `diesel setup` / `diesel database reset` and `sqlx database
//! create|drop` do.
//!
//! - PostgreSQL: connects to the `postgres` maintenance database of the same
//!   server (same user, password and parameters) and runs `CREATE DATABASE`
//!   / `DROP DATABASE`.
//! - MySQL/MariaDB: connects to the server without a database.
//! - SQLite: creates the file (an empty database) or deletes it with its
//!   `-wal`, `-shm` and `-journal` companions; an in-memory database is
//!   refused.
//!
//! Creating a database that exists, or dropping one that does not, says so
//! and succeeds (scripts can run it every time). `drop` asks on a terminal
//! unless `--yes`, and refuses without `--yes` when stdin is not a
//! terminal. Names are quoted as identifiers; the URL is shown redacted.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use clap::{Args, Subcommand};

use migraph::backend::{redact, DatabaseUrl};

use super::output::printable;
use super::{CliError, Context, Result};

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Create the database the URL names (nothing happens when it exists)
    Create,
    /// Drop the database the URL names, with everything in it
    Drop(DropArgs),
}

#[derive(Debug, Args)]
pub struct DropArgs {
    /// Do not ask for confirmation (required when stdin is not a terminal)
    #[arg(long, short = 'y')]
    pub yes: bool,
}

/// Whether a connection error says that the database does not exist
/// (PostgreSQL `database "x" does not exist`, MySQL `Unknown database`).
pub fn missing(message: &str) -> bool {
    let lower = message.to_lowercase();
    (lower.contains("database \"") && lower.contains("\" does not exist")) || lower.contains("unknown database")
}

/// `migraph database create|drop`.
pub fn database(cx: &Context, args: &DatabaseArgs) -> Result<String> {
    let url = super::run::url(cx)?;
    let shown = redact(url);
    let parsed = DatabaseUrl::parse(url).map_err(CliError::new)?;
    let drop = match &args.action {
        Action::Create => false,
        Action::Drop(d) => {
            confirm(&shown, d.yes)?;
            true
        }
    };
    let said = match parsed {
        DatabaseUrl::Sqlite(sqlite) => {
            let Some(path) = sqlite.path.as_deref() else {
                return Err(CliError::new(format!(
                    "`{shown}` is an in-memory database: there is no file to create or drop"
                )));
            };
            sqlite_file(url, Path::new(path), drop)?
        }
        DatabaseUrl::Postgres(driver) => server(&driver, Server::Postgres, drop)?,
        DatabaseUrl::Mysql(driver) => server(&driver, Server::Mysql, drop)?,
        #[allow(unreachable_patterns)]
        _ => return Err(CliError::new(format!("`migraph database` does not support `{shown}`"))),
    };
    if !cx.global.quiet {
        eprintln!("{}", printable(&said));
    }
    Ok(String::new())
}

/// Asks before dropping, on a terminal; refuses without `--yes` elsewhere.
fn confirm(shown: &str, yes: bool) -> Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        let mut e = CliError::new(format!("refusing to drop `{shown}` without --yes: stdin is not a terminal"))
            .hint("run `migraph database drop --yes` to drop it and everything in it");
        e.code = 2;
        return Err(e);
    }
    eprint!("drop the database `{}` and everything in it? [y/N] ", printable(shown));
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| CliError::new(format!("cannot read the answer: {e}")))?;
    match answer.trim().to_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::new("not dropped: the answer was not `y`")),
    }
}

fn sqlite_file(url: &str, path: &Path, drop: bool) -> Result<String> {
    let shown = path.display().to_string();
    let shown = printable(&shown);
    if drop {
        if !path.exists() {
            return Ok(format!("database file {shown} does not exist; nothing to drop"));
        }
        std::fs::remove_file(path).map_err(|e| CliError::new(format!("cannot delete {shown}: {e}")))?;
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut companion = path.as_os_str().to_owned();
            companion.push(suffix);
            let _ = std::fs::remove_file(companion);
        }
        return Ok(format!("dropped database file {shown}"));
    }
    if path.exists() {
        return Ok(format!("database file {shown} already exists"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        return Err(CliError::new(format!("cannot create {shown}: its directory {} does not exist", dir.display())));
    }
    let conn = migraph::backend::AnyConnection::connect(url).map_err(CliError::new)?;
    std::mem::drop(conn);
    Ok(format!("created database file {shown}"))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    Postgres,
    Mysql,
}

/// The database the driver URL names, and the URL of the server's
/// maintenance connection (PostgreSQL: the `postgres` database; MySQL: none).
fn split(driver: &str, kind: Server) -> Result<(String, String)> {
    let mut parsed = url::Url::parse(driver).map_err(|e| CliError::new(format!("invalid database URL: {e}")))?;
    let encoded = parsed.path().trim_start_matches('/').to_string();
    let name = percent_decode(&encoded);
    if name.is_empty() {
        return Err(CliError::new(format!("the URL `{}` names no database", redact(driver))));
    }
    parsed.set_path(match kind {
        Server::Postgres => "/postgres",
        Server::Mysql => "",
    });
    Ok((name, parsed.to_string()))
}

/// `%xx` escapes decoded (the URL crate keeps paths encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).and_then(|&b| hex(b)), bytes.get(i + 2).and_then(|&b| hex(b))) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `name` as a quoted identifier: `"a""b"` (PostgreSQL), `` `a``b` `` (MySQL).
fn quote(name: &str, kind: Server) -> String {
    match kind {
        Server::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
        Server::Mysql => format!("`{}`", name.replace('`', "``")),
    }
}

fn server(driver: &str, kind: Server, drop: bool) -> Result<String> {
    let (name, admin) = split(driver, kind)?;
    let mut conn = connect_server(&admin, kind).map_err(|e| {
        CliError::new(format!(
            "cannot connect to the server of `{}`: {}",
            redact(driver),
            migraph::backend::scrub(&e, driver)
        ))
    })?;
    let backend: &mut dyn migraph::backend::Backend = conn.backend();
    let (exists_sql, what) = match kind {
        Server::Postgres => ("SELECT COUNT(*) AS v FROM pg_database WHERE datname = $1", "PostgreSQL"),
        Server::Mysql => ("SELECT COUNT(*) AS v FROM information_schema.schemata WHERE schema_name = ?", "MySQL"),
    };
    let exists = backend
        .int(exists_sql, &[migraph::backend::Arg::Text(name.clone())])
        .map_err(|e| CliError::new(format!("cannot list the server's databases: {e}")))?
        .unwrap_or(0)
        > 0;
    let shown = printable(&name);
    match (drop, exists) {
        (false, true) => return Ok(format!("{what} database `{shown}` already exists")),
        (true, false) => return Ok(format!("{what} database `{shown}` does not exist; nothing to drop")),
        _ => {}
    }
    let sql = format!("{} DATABASE {}", if drop { "DROP" } else { "CREATE" }, quote(&name, kind));
    backend.batch(&sql).map_err(|e| {
        CliError::new(format!(
            "cannot {} database `{shown}`: {}",
            if drop { "drop" } else { "create" },
            migraph::backend::scrub(&e.to_string(), driver)
        ))
    })?;
    Ok(format!("{} {what} database `{shown}`", if drop { "dropped" } else { "created" }))
}

/// A connection to the server itself (the maintenance database).
fn connect_server(admin: &str, kind: Server) -> std::result::Result<Box<dyn AsBackend>, String> {
    #[cfg(any(feature = "postgres", feature = "mysql"))]
    use diesel::Connection as _;
    match kind {
        #[cfg(feature = "postgres")]
        Server::Postgres => {
            diesel::PgConnection::establish(admin).map(|c| Box::new(c) as Box<dyn AsBackend>).map_err(|e| e.to_string())
        }
        #[cfg(feature = "mysql")]
        Server::Mysql => diesel::MysqlConnection::establish(admin)
            .map(|c| Box::new(c) as Box<dyn AsBackend>)
            .map_err(|e| e.to_string()),
        #[allow(unreachable_patterns)]
        _ => {
            let _ = admin;
            Err("this migraph was built without support for this database".into())
        }
    }
}

/// A boxed connection seen as a [`migraph::backend::Backend`].
trait AsBackend {
    fn backend(&mut self) -> &mut dyn migraph::backend::Backend;
}

impl<B: migraph::backend::Backend> AsBackend for B {
    fn backend(&mut self) -> &mut dyn migraph::backend::Backend {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_quoted_and_urls_split() {
        assert_eq!(quote("a\"b", Server::Postgres), "\"a\"\"b\"");
        assert_eq!(quote("a`b", Server::Mysql), "`a``b`");
        let (name, admin) = split("postgres://u:pw@h:5432/my%20db?sslmode=disable", Server::Postgres).unwrap();
        assert_eq!(name, "my db");
        assert_eq!(admin, "postgres://u:pw@h:5432/postgres?sslmode=disable");
        let (name, admin) = split("mysql://root@h:3306/app", Server::Mysql).unwrap();
        assert_eq!((name.as_str(), admin.as_str()), ("app", "mysql://root@h:3306"));
        assert!(split("postgres://h/", Server::Postgres).is_err());
    }

    #[test]
    fn missing_databases_are_recognised() {
        assert!(missing("cannot connect to postgres://h/x: FATAL:  database \"x\" does not exist"));
        assert!(missing("cannot connect to mysql://h/x: Unknown database 'x'"));
        assert!(!missing("relation \"t\" does not exist"));
    }
}
