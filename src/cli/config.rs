//! Where settings come from: a flag, else the environment (including a
//! `.env` file, loaded at start-up), else `migraph.toml` (found in the
//! current directory or its parents), else a default. Paths in
//! `migraph.toml` are relative to the file itself, so the tool works the
//! same from any subdirectory of a project. A relative SQLite path in a
//! `DATABASE_URL` set by a `.env` file is relative to that file, for the
//! same reason; one set in the process environment is relative to the
//! current directory (as every program reads it).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde::Deserialize;

use super::{CliError, Global, Result};

/// The name of the configuration file.
pub const CONFIG_FILE: &str = "migraph.toml";
/// Seconds to wait for another run's lock.
pub const DEFAULT_LOCK_TIMEOUT: u64 = 60;
/// The longest lock timeout accepted, in seconds (365 days): larger values
/// (`--lock-timeout` exits 2, `lock_timeout` in migraph.toml exits 1) are
/// rejected rather than overflowing a deadline. SQLite's own busy timeout
/// stops at `i32::MAX` ms (about 24 days).
pub const MAX_LOCK_TIMEOUT: u64 = 365 * 24 * 60 * 60;
/// The default version table.
pub const DEFAULT_TABLE: &str = "migraph_revisions";

/// Whether `DATABASE_URL` was set in the process environment before `.env`
/// was loaded (`None`: not recorded, as in unit tests).
static PROCESS_DATABASE_URL: OnceLock<bool> = OnceLock::new();

/// Records whether the process environment sets `DATABASE_URL`; call it
/// before loading `.env` (which never overrides it).
pub fn remember_process_env() {
    let _ = PROCESS_DATABASE_URL.set(std::env::var_os("DATABASE_URL").is_some());
}

/// The `.env` file of `dir`: in it or its nearest parent that has one (as
/// Diesel and sqlx find it).
pub fn dotenv_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(".env")).find(|p| p.is_file())
}

/// `migraph.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    revisions: Option<PathBuf>,
    database_url: Option<String>,
    table: Option<String>,
    /// PostgreSQL schema of the version table.
    schema: Option<String>,
    lock_timeout: Option<u64>,
    /// `check` accepts several heads even when they share a branch.
    allow_multiple_heads: Option<bool>,
    /// `[lint]`: `allow` (rules off for the project), `dialects`.
    lint: Option<super::lint::LintConfig>,
    /// `lint`, checked (by `read_config`).
    #[serde(skip)]
    lint_settings: Option<super::lint::LintSettings>,
}

/// Settings after applying precedence.
#[derive(Debug, Clone)]
pub struct Settings {
    pub revisions: PathBuf,
    pub database_url: Option<String>,
    pub table: String,
    /// PostgreSQL schema of the version table (`None`: `public`).
    pub schema: Option<String>,
    pub lock_timeout: Duration,
    pub config_file: Option<PathBuf>,
    /// `allow_multiple_heads = true` in `migraph.toml`: `check` accepts any
    /// number of heads, as `--allow-multiple-heads` does.
    pub allow_multiple_heads: bool,
    /// `[lint]` in `migraph.toml` (checked when it was read).
    pub lint: super::lint::LintSettings,
    /// Why `database_url` cannot be used (an unset variable in the file,
    /// or a URL that is not valid: reported by the commands that need it).
    url_error: Option<CliError>,
}

/// `path` relative to `cwd` when it lies below it (so printed file names
/// read `revisions/a.sql`, as the user would type them), else as it is.
fn below(cwd: &Path, path: PathBuf) -> PathBuf {
    match path.strip_prefix(cwd) {
        Ok(rest) if rest.as_os_str().is_empty() => PathBuf::from("."),
        Ok(rest) => rest.to_path_buf(),
        Err(_) => path,
    }
}

impl Settings {
    pub fn resolve(global: &Global) -> Result<Settings> {
        let cwd =
            std::env::current_dir().map_err(|e| CliError::new(format!("cannot read the current directory: {e}")))?;
        let config_file = find_config(&cwd);
        let file = match &config_file {
            Some(path) => read_config(path)?,
            None => File::default(),
        };
        let base = config_file.as_deref().and_then(Path::parent).unwrap_or(&cwd).to_path_buf();
        let revisions = match (&global.revisions, &file.revisions) {
            (Some(dir), _) => dir.clone(),
            (None, Some(dir)) => base.join(dir),
            (None, None) if config_file.is_some() => base.join("revisions"),
            (None, None) => PathBuf::from("revisions"),
        };
        let revisions = below(&cwd, revisions);
        // An empty DATABASE_URL (from the environment or `.env`) is used as
        // given, so it fails below as an empty URL rather than falling back.
        let env_url = std::env::var("DATABASE_URL").ok();
        let mut url_error = None;
        let mut empty_vars = Vec::new();
        let (database_url, url_source) = match (&global.database_url, env_url, &file.database_url, &config_file) {
            (Some(url), _, _, _) => (Some(url.clone()), Some("--database-url".to_string())),
            (None, Some(url), _, _) => match dotenv_file(&cwd).filter(|_| PROCESS_DATABASE_URL.get() == Some(&false)) {
                // From `.env`: a relative SQLite path is relative to that file.
                Some(env_file) => {
                    let dir = env_file.parent().unwrap_or(&cwd);
                    (Some(relative_to(dir, &url)), Some(format!("DATABASE_URL in {}", env_file.display())))
                }
                None => (Some(url), Some("DATABASE_URL".to_string())),
            },
            (None, None, Some(url), Some(path)) => {
                let source = Some(format!("{}: database_url", path.display()));
                match expand(url, &format!("{}: database_url", path.display()), |name| std::env::var(name).ok()) {
                    Ok((url, empty)) => {
                        empty_vars = empty;
                        (Some(relative_to(&base, &url)), source)
                    }
                    Err(e) => {
                        // Reported by the commands that need the URL, so `heads` still works.
                        url_error = Some(e);
                        (None, source)
                    }
                }
            }
            _ => (None, None),
        };
        if let (Some(url), Some(source)) = (&database_url, &url_source) {
            if let Err(e) = migraph::backend::DatabaseUrl::parse(url) {
                url_error = Some(invalid_url(e, source, &empty_vars));
            }
        }
        let table = global.table.clone().or(file.table).unwrap_or_else(|| DEFAULT_TABLE.to_string());
        check_table_name(&table)?;
        let schema = global.schema.clone().or(file.schema);
        if let Some(name) = &schema {
            check_schema_name(name)?;
        }
        // Both sources are at most MAX_LOCK_TIMEOUT (clap and read_config check).
        let lock_timeout = Duration::from_secs(
            global.lock_timeout.or(file.lock_timeout).unwrap_or(DEFAULT_LOCK_TIMEOUT).min(MAX_LOCK_TIMEOUT),
        );
        let allow_multiple_heads = file.allow_multiple_heads.unwrap_or(false);
        let lint = file.lint_settings.unwrap_or_default();
        Ok(Settings {
            revisions,
            database_url,
            table,
            schema,
            lock_timeout,
            config_file,
            allow_multiple_heads,
            lint,
            url_error,
        })
    }

    /// The version table: its name and PostgreSQL schema.
    pub fn version_table(&self) -> migraph::backend::sql::Table {
        migraph::backend::sql::Table::new(self.table.as_str(), self.schema.clone())
    }

    /// The database URL: `Ok(None)` when none is set anywhere, an error when
    /// it is not valid (empty, an empty SQLite path, an unknown scheme or
    /// parameter, MySQL without a database: see
    /// [`migraph::backend::DatabaseUrl`]) or the one in `migraph.toml` names
    /// an unset variable. The error's first line names the URL (redacted)
    /// and where it came from.
    pub fn url(&self) -> Result<Option<&str>> {
        match &self.url_error {
            Some(e) => Err(e.clone()),
            None => Ok(self.database_url.as_deref()),
        }
    }
}

/// The error for a URL that cannot be used: which URL, from where, why.
fn invalid_url(error: migraph::backend::DbError, source: &str, empty_vars: &[String]) -> CliError {
    use migraph::backend::DbError;
    let mut e = match error {
        DbError::InvalidUrl { url, reason } => {
            CliError::new(format!("invalid database URL `{url}` (from {source}): {reason}"))
        }
        other => CliError::new(format!("{other} (from {source})")),
    };
    for name in empty_vars {
        e = e.hint(format!("the environment variable `{name}` is empty"));
    }
    e
}

/// `database_url` in `migraph.toml` with `${VAR}` replaced by the variable's
/// value (from the environment, which includes `.env`), and the names of
/// the variables that were empty; errors start with `place` (the file and
/// key, or a line of an `--each-database` list). `$$` is a literal `$`; a `$` not
/// followed by `{` or `$` stays as it is. An unset variable is an error
/// naming it and the file. Only the file is expanded: a flag or
/// `DATABASE_URL` is used exactly as given.
pub(super) fn expand(url: &str, place: &str, var: impl Fn(&str) -> Option<String>) -> Result<(String, Vec<String>)> {
    let mut out = String::with_capacity(url.len());
    let mut empty = Vec::new();
    let mut rest = url;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(end) = tail.find('}') else {
                return Err(CliError::new(format!("{}: `${{` without a closing `}}`", place))
                    .hint("write `${NAME}` to use an environment variable, `$$` for a literal `$`"));
            };
            let name = &tail[..end];
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(CliError::new(format!("{}: `${{{name}}}` is not a variable name", place)).hint(
                    "a name is ASCII letters, digits and `_`, not starting with a digit; `$$` is a literal `$`",
                ));
            }
            let Some(value) = var(name) else {
                return Err(CliError::new(format!("{}: environment variable `{name}` is not set", place))
                    .hint(format!("set {name} in the environment or in a .env file")));
            };
            if value.is_empty() {
                empty.push(name.to_string());
            }
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok((out, empty))
}

/// A relative SQLite path in `migraph.toml` is relative to the file (the
/// URL keeps its form and its parameters).
fn relative_to(base: &Path, url: &str) -> String {
    match migraph::backend::DatabaseUrl::parse(url) {
        Ok(migraph::backend::DatabaseUrl::Sqlite(sqlite)) => match &sqlite.path {
            Some(path) if Path::new(path).is_relative() => {
                sqlite.with_path(&lexical(&base.join(path)).display().to_string())
            }
            _ => url.to_string(),
        },
        _ => url.to_string(),
    }
}

/// `path` without `.` components and with `dir/..` pairs removed, as
/// written (no file-system access: `..` after a symbolic link is read
/// lexically, as a shell's `cd` does).
fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.components().next_back(), Some(Component::Normal(_))) => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `migraph.toml` in `dir` or the nearest parent that has one.
fn find_config(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(CONFIG_FILE)).find(|p| p.is_file())
}

fn read_config(path: &Path) -> Result<File> {
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?;
    let mut file: File = toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|span| 1 + text[..span.start.min(text.len())].matches('\n').count());
        let place = line.map_or_else(|| path.display().to_string(), |l| format!("{}:{l}", path.display()));
        CliError::new(format!("{place}: {}", e.message()))
            .hint("known keys: revisions, database_url, table, schema, lock_timeout, allow_multiple_heads, lint")
    })?;
    if let Some(seconds) = file.lock_timeout.filter(|&s| s > MAX_LOCK_TIMEOUT) {
        let line = text.lines().position(|l| l.trim_start().starts_with("lock_timeout")).map_or(0, |i| i + 1);
        return Err(CliError::new(format!(
            "{}:{line}: lock_timeout = {seconds} is more than the maximum of {MAX_LOCK_TIMEOUT} seconds (365 days)",
            path.display()
        )));
    }
    file.lint_settings = file.lint.as_ref().map(|lint| lint.settings(path, &text)).transpose()?;
    Ok(file)
}

/// See [`migraph::backend::sql::valid_table_name`].
pub fn check_table_name(name: &str) -> Result<()> {
    if migraph::backend::sql::valid_table_name(name) {
        Ok(())
    } else {
        Err(CliError::new(format!("invalid table name `{name}`"))
            .hint("a table name is 1 to 55 ASCII letters, digits or `_`, not starting with a digit"))
    }
}

/// See [`migraph::backend::sql::valid_schema_name`].
pub fn check_schema_name(name: &str) -> Result<()> {
    if migraph::backend::sql::valid_schema_name(name) {
        Ok(())
    } else {
        Err(CliError::new(format!("invalid schema name `{name}`"))
            .hint("a schema name is 1 to 63 ASCII letters, digits or `_`, not starting with a digit"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names() {
        assert!(check_table_name("migraph_revisions").is_ok());
        assert!(check_table_name("x\"; DROP TABLE y").is_err());
        assert!(check_table_name("1abc").is_err());
        assert!(check_table_name(&"t".repeat(56)).is_err());
    }

    #[test]
    fn paths_below_the_current_directory_are_relative() {
        let cwd = Path::new("/p/app");
        assert_eq!(below(cwd, PathBuf::from("/p/app/revisions")), PathBuf::from("revisions"));
        assert_eq!(below(cwd, PathBuf::from("/p/app")), PathBuf::from("."));
        assert_eq!(below(cwd, PathBuf::from("/p/revisions")), PathBuf::from("/p/revisions"));
        assert_eq!(below(cwd, PathBuf::from("db/revisions")), PathBuf::from("db/revisions"));
    }

    #[test]
    fn variables_expand_in_the_file_url() {
        let file = "/p/migraph.toml: database_url";
        let var = |name: &str| match name {
            "USER" => Some("ann".to_string()),
            "PASS" => Some("s$cret".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let ok = |url: &str| expand(url, file, var).map_err(|e| e.lines.join("\n")).unwrap().0;
        assert_eq!(ok("postgres://${USER}:${PASS}@h/db"), "postgres://ann:s$cret@h/db");
        assert_eq!(ok("x${EMPTY}y"), "xy");
        assert_eq!(ok("pa$$word$${USER}"), "pa$word${USER}");
        assert_eq!(ok("a$b$ $"), "a$b$ $");
        assert_eq!(ok("${USER}${USER}"), "annann");
        assert_eq!(
            expand("sqlite://${EMPTY}${USER}${EMPTY}", file, var).ok(),
            Some(("sqlite://ann".into(), vec!["EMPTY".into(), "EMPTY".into()]))
        );
        let err = |url: &str| expand(url, file, var).unwrap_err().lines.join("\n");
        assert_eq!(err("x${NOPE}"), "/p/migraph.toml: database_url: environment variable `NOPE` is not set");
        assert!(err("x${USER").contains("without a closing"));
        assert!(err("x${1A}").contains("`${1A}` is not a variable name"));
        assert!(err("x${}").contains("not a variable name"));
    }

    #[test]
    fn relative_sqlite_urls_follow_the_config_file() {
        let base = Path::new("/project");
        assert_eq!(relative_to(base, "sqlite://app.db"), "sqlite:///project/app.db");
        assert_eq!(relative_to(base, "data/app.db"), "/project/data/app.db");
        assert_eq!(relative_to(base, "sqlite:///abs.db"), "sqlite:///abs.db");
        assert_eq!(relative_to(base, "sqlite::memory:"), "sqlite::memory:");
        assert_eq!(relative_to(base, "postgres://h/db"), "postgres://h/db");
        assert_eq!(relative_to(base, "sqlite://app.db?mode=ro"), "sqlite:///project/app.db?mode=ro");
        assert_eq!(relative_to(base, "sqlite:app.db"), "sqlite:///project/app.db");
        assert_eq!(relative_to(base, "file:app.db?cache=shared"), "file:///project/app.db?cache=shared");
        assert_eq!(relative_to(base, "we?ird.db"), "/project/we?ird.db");
        assert_eq!(relative_to(base, "sqlite://"), "sqlite://", "left for the check to report");
        assert_eq!(relative_to(base, "sqlite://../shared/./app.db"), "sqlite:///shared/app.db");
        assert_eq!(relative_to(Path::new("/p/q"), "./x/../app.db"), "/p/q/app.db");
    }
}
