//! Where settings come from: a flag, else the environment, else
//! `migraph.toml` (found in the current directory or its parents), else a
//! default. Paths in `migraph.toml` are relative to the file itself, so the
//! tool works the same from any subdirectory of a project.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{CliError, Global, Result};

/// The name of the configuration file.
pub const CONFIG_FILE: &str = "migraph.toml";
/// The default version table.
pub const DEFAULT_TABLE: &str = "migraph_revisions";

/// `migraph.toml` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    revisions: Option<PathBuf>,
    database_url: Option<String>,
    table: Option<String>,
}

/// Settings after applying precedence.
#[derive(Debug, Clone)]
pub struct Settings {
    pub revisions: PathBuf,
    pub database_url: Option<String>,
    pub table: String,
    pub config_file: Option<PathBuf>,
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
            (None, None) => PathBuf::from("revisions"),
        };
        let env_url = std::env::var("DATABASE_URL").ok().filter(|url| !url.is_empty());
        let database_url = global.database_url.clone().or(env_url).or(file.database_url);
        let table = global.table.clone().or(file.table).unwrap_or_else(|| DEFAULT_TABLE.to_string());
        check_table_name(&table)?;
        Ok(Settings { revisions, database_url, table, config_file })
    }
}

/// `migraph.toml` in `dir` or the nearest parent that has one.
fn find_config(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().map(|d| d.join(CONFIG_FILE)).find(|p| p.is_file())
}

fn read_config(path: &Path) -> Result<File> {
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map(|span| 1 + text[..span.start.min(text.len())].matches('\n').count());
        let place = line.map_or_else(|| path.display().to_string(), |l| format!("{}:{l}", path.display()));
        CliError::new(format!("{place}: {}", e.message())).hint("known keys: revisions, database_url, table")
    })
}

/// Table names are identifiers: letters, digits and `_`, not starting with a
/// digit, at most 63 characters (PostgreSQL's limit). Anything else is
/// rejected rather than quoted, so the same name works on every backend.
pub fn check_table_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if ok {
        Ok(())
    } else {
        Err(CliError::new(format!("invalid table name `{name}`"))
            .hint("a table name is 1 to 63 letters, digits or `_`, not starting with a digit"))
    }
}

/// The URL with any password replaced by `***`, for every message and log.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(redact("postgres://u:s3cret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact("mysql://root:p@ss@h/db?x=1"), "mysql://root:***@h/db?x=1");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
        assert!(check_table_name("migraph_revisions").is_ok());
        assert!(check_table_name("x\"; DROP TABLE y").is_err());
        assert!(check_table_name("1abc").is_err());
    }
}
