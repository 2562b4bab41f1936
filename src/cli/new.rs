//! `init`, `revision` and `merge`: the commands that write files.
//!
//! A new revision is validated together with the existing graph before its
//! file is written, so a bad `--id`, a label already in use or an unknown
//! parent leaves the directory untouched.

use std::path::{Path, PathBuf};

use clap::Args;

use migraph::source::{now_rfc3339, write_revision_file, NewRevision};
use migraph::{Revision, RevisionGraph, TargetError};

use super::config::{CONFIG_FILE, DEFAULT_TABLE};
use super::{CliError, Context, Global, Result};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Project directory [default: the current directory]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// What the revision does
    #[arg(short, long, value_name = "MSG")]
    pub message: String,
    /// Parent revision(s) [default: the single head]
    #[arg(long = "parent", value_name = "REV", num_args = 1..)]
    pub parents: Vec<String>,
    /// Branch label to put on the revision (repeatable)
    #[arg(long = "label", value_name = "L")]
    pub labels: Vec<String>,
    /// Revision that must be applied first without being a parent (repeatable)
    #[arg(long = "depends-on", value_name = "REV")]
    pub depends_on: Vec<String>,
    /// Use this ID instead of a generated one
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Write SQLite's 12-step rebuild of TABLE (as the history leaves it) in the revision's SQLite sections
    ///
    /// For the changes SQLite's ALTER TABLE cannot make (a column's type, NOT NULL, a default,
    /// a constraint): edit the new table's CREATE TABLE in the `-- migrate:up sqlite` section,
    /// and write the PostgreSQL/MySQL ALTER TABLE in the generic `-- migrate:up` section. The
    /// revision runs outside a transaction (`-- transaction: false`) so that foreign keys can be
    /// switched off: with them on, dropping the old table would delete rows that reference it.
    #[arg(long, value_name = "TABLE")]
    pub rebuild_sqlite: Option<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Revisions to merge [default: all heads]
    #[arg(value_name = "REV")]
    pub targets: Vec<String>,
    /// What the merge is for [default: "merge <ids>"]
    #[arg(short, long, value_name = "MSG")]
    pub message: Option<String>,
    /// Branch label to put on the merge revision (repeatable)
    #[arg(long = "label", value_name = "L")]
    pub labels: Vec<String>,
}

pub fn init(global: &Global, args: &InitArgs) -> Result<String> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = dir.join(CONFIG_FILE);
    if config.exists() {
        return Err(CliError::new(format!("{} already exists; not overwriting it", config.display())));
    }
    let table = global.table.as_deref().unwrap_or(DEFAULT_TABLE);
    super::config::check_table_name(table)?;
    let revisions = global.revisions.clone().unwrap_or_else(|| PathBuf::from("revisions"));
    let create = |path: &Path| {
        std::fs::create_dir_all(path).map_err(|e| CliError::new(format!("cannot create {}: {e}", path.display())))
    };
    create(&dir)?;
    create(&dir.join(&revisions))?;
    let given = global.database_url.clone().unwrap_or_else(|| "sqlite://migraph.db".to_string());
    if let Err(e) = migraph::backend::DatabaseUrl::parse(&given) {
        return Err(CliError::new(format!("{e} (from --database-url)")));
    }
    let (url, password) = without_password(&given)?;
    // Checked before anything is written.
    let env_file = dir.join(".env");
    let env_line = match &password {
        Some(password) => password_line(&env_file, password)?,
        None => None,
    };
    let text = format!(
        "# migraph configuration. Paths are relative to this file.\n\
         # Precedence: command-line flags, then environment (DATABASE_URL, also from .env), then this file.\n\
         # database_url may use ${{VAR}} for an environment variable, and $$ for a literal $.\n\
         revisions = {}\n\
         database_url = {}\n\
         table = {}\n",
        toml_string(&revisions.display().to_string()),
        toml_string(&url),
        toml_string(table),
    );
    std::fs::write(&config, text).map_err(|e| CliError::new(format!("cannot write {}: {e}", config.display())))?;
    if password.is_some() {
        if let Some(line) = env_line {
            append_private(&env_file, &line)?;
        }
        let ignored = ignore_env(&dir.join(".gitignore"))?;
        if !global.quiet {
            eprintln!(
                "the password is not in {}: its database_url reads ${{{PASSWORD_VAR}}}, set in {} (mode 0600{})",
                config.display(),
                env_file.display(),
                if ignored { ", listed in .gitignore" } else { "; keep it out of version control" }
            );
        }
    }
    Ok(format!("created {} and {}/\n", config.display(), dir.join(&revisions).display()))
}

/// The variable `init` puts a URL's password in.
pub const PASSWORD_VAR: &str = "DATABASE_PASSWORD";

/// `url` with its password (userinfo or `password=` parameter) replaced by
/// `${DATABASE_PASSWORD}`, and the password as written in the URL
/// (`None`: no password, or already a `${VAR}` placeholder).
fn without_password(url: &str) -> Result<(String, Option<String>)> {
    const MASK: &str = "***";
    let redacted = migraph::backend::redact(url);
    let parts: Vec<&str> = redacted.split(MASK).collect();
    if parts.len() == 1 || url.contains(MASK) {
        return Ok((url.to_string(), None));
    }
    let [before, after] = parts[..] else {
        return Err(CliError::new("the database URL has more than one password").hint(format!(
            "write database_url in migraph.toml with `${{{PASSWORD_VAR}}}`-style placeholders yourself"
        )));
    };
    let password = &url[before.len()..url.len() - after.len()];
    let placeholder = password.starts_with("${") && password.ends_with('}') && !password[2..].contains('$');
    if placeholder || password.is_empty() {
        return Ok((url.to_string(), None));
    }
    Ok((format!("{before}${{{PASSWORD_VAR}}}{after}"), Some(password.to_string())))
}

/// The `.env` line that sets the password, or `None` when `.env` already
/// sets it to this value; an error when it sets it to another one. The
/// value is the password as the URL writes it, with the characters `.env`
/// would read specially (`'`, `$`, `\\`, `"`, `#`, spaces) percent-encoded
/// (the same password in a URL), and single-quoted.
fn password_line(env_file: &Path, password: &str) -> Result<Option<String>> {
    let mut value = String::new();
    for c in password.chars() {
        match c {
            '\'' | '$' | '\\' | '"' | '#' | '`' => value += &format!("%{:02X}", c as u32),
            c if c.is_whitespace() || c.is_control() => {
                value += &c.to_string().bytes().map(|b| format!("%{b:02X}")).collect::<String>();
            }
            c => value.push(c),
        }
    }
    if env_file.exists() {
        let entries = dotenvy::from_path_iter(env_file)
            .map_err(|e| CliError::new(format!("cannot read {}: {e}", env_file.display())))?;
        for entry in entries {
            let Ok((name, existing)) = entry else {
                return Err(CliError::new(format!("{}: a line cannot be parsed", env_file.display()))
                    .hint("fix it, then run `migraph init` again"));
            };
            if name == PASSWORD_VAR {
                if existing == value || existing == password {
                    return Ok(None);
                }
                return Err(CliError::new(format!(
                    "{} already sets {PASSWORD_VAR} to another password; not overwriting it",
                    env_file.display()
                ))
                .hint(format!("remove that line or pass a URL with `${{{PASSWORD_VAR}}}` in place of the password")));
            }
        }
    }
    Ok(Some(format!("{PASSWORD_VAR}='{value}'\n")))
}

/// Appends `line` to `path`, creating it readable by its owner only.
fn append_private(path: &Path, line: &str) -> Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let fail = |e: std::io::Error| CliError::new(format!("cannot write {}: {e}", path.display()));
    let mut file = options.open(path).map_err(fail)?;
    let text = std::fs::read_to_string(path).map_err(fail)?;
    let sep = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
    file.write_all(format!("{sep}{line}").as_bytes()).map_err(fail)
}

/// Adds `.env` to an existing `.gitignore` that does not list it; whether
/// `.gitignore` exists (and so lists it now).
fn ignore_env(gitignore: &Path) -> Result<bool> {
    if !gitignore.is_file() {
        return Ok(false);
    }
    let fail = |e: std::io::Error| CliError::new(format!("cannot update {}: {e}", gitignore.display()));
    let text = std::fs::read_to_string(gitignore).map_err(fail)?;
    if !text.lines().any(|l| matches!(l.trim(), ".env" | "/.env" | ".env*" | "*.env")) {
        let sep = if text.is_empty() || text.ends_with('\n') { "" } else { "\n" };
        std::fs::write(gitignore, format!("{text}{sep}.env\n")).map_err(fail)?;
    }
    Ok(true)
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Resolves revision arguments to full IDs (no database: `+N` counts from `head`).
fn resolve_ids(graph: &RevisionGraph, targets: &[String]) -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for target in targets {
        let revision = migraph::target::resolve_revision(graph, target)?;
        if !ids.contains(&revision.id) {
            ids.push(revision.id.clone());
        }
    }
    Ok(ids)
}

pub fn revision(cx: &Context, args: &RevisionArgs) -> Result<String> {
    let graph = cx.headers()?;
    let parents = if args.parents.is_empty() {
        match graph.heads().as_slice() {
            [] => Vec::new(),
            [head] => vec![head.id.clone()],
            heads => {
                let heads = heads.iter().map(|r| r.id.clone()).collect();
                return Err(CliError::from(TargetError::SeveralHeads { target: "head".into(), heads })
                    .hint("run `migraph merge` to join the heads first, or pick the parent with `--parent REV`"));
            }
        }
    } else {
        resolve_ids(&graph, &args.parents)?
    };
    let new = NewRevision {
        id: args.id.clone(),
        parents,
        message: args.message.clone(),
        labels: args.labels.clone(),
        depends_on: resolve_ids(&graph, &args.depends_on)?,
        ..NewRevision::default()
    };
    match &args.rebuild_sqlite {
        Some(table) => rebuild_sqlite(cx, graph, new, table),
        None => write(cx, graph, new, |text| text),
    }
}

/// `revision --rebuild-sqlite TABLE`: the revision's SQLite sections
/// rebuild TABLE as the history up to its parents leaves it; the file runs
/// outside a transaction (see [`migraph::sqlite_rebuild`] for why).
#[cfg(feature = "sqlite")]
fn rebuild_sqlite(cx: &Context, graph: RevisionGraph, new: NewRevision, table: &str) -> Result<String> {
    // Everything the new revision needs is applied first (depends-on included).
    let mut targets = new.parents.clone();
    targets.extend(new.depends_on.iter().cloned());
    let rebuild = migraph::sqlite_rebuild::rebuild(&graph, &targets, table).map_err(|e| {
        let hint = match e {
            migraph::sqlite_rebuild::RebuildError::NoSuchTable { .. } => {
                "name a table the parent revision's history creates on SQLite (or pick the parent with --parent)"
            }
            _ => "the rebuild is written from the schema the history produces on a scratch SQLite database",
        };
        CliError::new(e).hint(hint)
    })?;
    let children = rebuild.children.clone();
    let body = rebuild.body();
    let written = write(cx, graph, new, |text| {
        // The header as `migraph revision` writes it, with `transaction: false`, then the sections.
        let header = text.split_once(&format!("\n{}\n", migraph::revision::UP_MARKER)).map_or(text.as_str(), |h| h.0);
        format!("{header}-- transaction: false\n\n{body}")
    })?;
    if !cx.global.quiet {
        let children = match children.as_slice() {
            [] => String::new(),
            list => format!(
                "; tables that reference it: {}",
                list.iter().map(|(name, action)| format!("{name} (ON DELETE {action})")).collect::<Vec<_>>().join(", ")
            ),
        };
        eprintln!(
            "edit the CREATE TABLE \"{}_new\" statement in its `-- migrate:up sqlite` section, and write the \
             PostgreSQL/MySQL ALTER TABLE in its `-- migrate:up` section (or delete that section){children}",
            rebuild.table
        );
    }
    Ok(written)
}

#[cfg(not(feature = "sqlite"))]
fn rebuild_sqlite(_: &Context, _: RevisionGraph, _: NewRevision, _: &str) -> Result<String> {
    Err(CliError::new(
        "--rebuild-sqlite reads the schema from a scratch SQLite database: this migraph was built without SQLite",
    )
    .hint("build migraph with the `sqlite` feature"))
}

pub fn merge(cx: &Context, args: &MergeArgs) -> Result<String> {
    let graph = cx.headers()?;
    let parents = if args.targets.is_empty() {
        graph.heads().iter().map(|r| r.id.clone()).collect()
    } else {
        resolve_ids(&graph, &args.targets)?
    };
    if parents.len() < 2 {
        return Err(CliError::new(format!(
            "nothing to merge: {} revision(s) given and the merge needs two or more",
            parents.len()
        ))
        .hint("with no arguments `migraph merge` joins all heads; `migraph heads` lists them"));
    }
    // One walk for all: a parent that is a strict ancestor of any parent is redundant.
    let above = parents.iter().filter_map(|p| graph.get(p)).flat_map(|r| r.parents.iter().chain(r.depends_on()));
    let strict: std::collections::HashSet<&str> =
        graph.closure(above.map(String::as_str)).iter().map(|r| r.id.as_str()).collect();
    if let Some(ancestor) = parents.iter().find(|p| strict.contains(p.as_str())) {
        let descendant = parents
            .iter()
            .find(|p| *p != ancestor && graph.closure([p.as_str()]).iter().any(|a| &a.id == ancestor))
            .map_or("another of them", String::as_str);
        return Err(CliError::new(format!(
            "cannot merge `{ancestor}` with `{descendant}`: it is already its ancestor"
        ))
        .hint("merge only revisions on different branches"));
    }
    let short: Vec<&str> = parents.iter().map(|p| &p[..p.len().min(12)]).collect();
    let new = NewRevision {
        parents: parents.clone(),
        message: args.message.clone().unwrap_or_else(|| format!("merge {}", short.join(", "))),
        labels: args.labels.clone(),
        ..NewRevision::default()
    };
    write(cx, graph, new, |text| text)
}

/// Validates the new revision with the graph, then writes its file: the
/// text `new` renders, changed by `edit`.
fn write(cx: &Context, graph: RevisionGraph, new: NewRevision, edit: impl FnOnce(String) -> String) -> Result<String> {
    let created = now_rfc3339();
    let mut id = new.resolve_id(&created);
    while new.id.is_none() && (graph.get(&id).is_some() || graph.labelled(&id).is_some()) {
        id = new.resolve_id(&created);
    }
    if let Some(existing) = graph.get(&id) {
        return Err(CliError::new(format!("revision ID `{id}` is already used by {}", existing.path.display())));
    }
    let text = edit(new.render(&id, &created));
    let dir = &cx.settings.revisions;
    let path = dir.join(format!("{id}_{}.sql", migraph::source::slug(&new.message)));
    let revision = Revision::parse(&path, &text).map_err(CliError::new)?;
    let mut revisions: Vec<Revision> = graph.revisions().to_vec();
    revisions.push(revision);
    RevisionGraph::new(revisions)?;
    let written = write_revision_file(dir, &id, &new.message, &text)?;
    if !cx.global.quiet {
        eprintln!(
            "created revision {id} with parent(s) {}",
            if new.parents.is_empty() { "none (a root)".to_string() } else { new.parents.join(", ") }
        );
    }
    Ok(format!("{}\n", written.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_become_a_placeholder() {
        let split = |url: &str| without_password(url).map_err(|e| e.lines.join(" ")).unwrap();
        assert_eq!(
            split("postgres://app:pw@h:5432/db"),
            ("postgres://app:${DATABASE_PASSWORD}@h:5432/db".to_string(), Some("pw".to_string()))
        );
        assert_eq!(
            split("mysql://root:p%40ss@h/db?ssl_mode=required"),
            ("mysql://root:${DATABASE_PASSWORD}@h/db?ssl_mode=required".to_string(), Some("p%40ss".to_string()))
        );
        assert_eq!(
            split("postgres://h/db?password=pw&sslmode=require"),
            ("postgres://h/db?password=${DATABASE_PASSWORD}&sslmode=require".to_string(), Some("pw".to_string()))
        );
        for unchanged in ["postgres://app@h/db", "postgres://app:${PW}@h/db", "sqlite://app.db"] {
            assert_eq!(split(unchanged), (unchanged.to_string(), None));
        }
        assert!(without_password("postgres://a:x@h/db?password=y").is_err());
    }

    #[test]
    fn the_env_line_quotes_and_encodes_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let env = dir.path().join(".env");
        let line = |password: &str| password_line(&env, password).map_err(|e| e.lines.join(" ")).unwrap();
        assert_eq!(line("a'b$c#d"), Some("DATABASE_PASSWORD='a%27b%24c%23d'\n".to_string()));
        std::fs::write(&env, "OTHER=1\nDATABASE_PASSWORD='pw'\n").unwrap();
        assert_eq!(line("pw"), None, "already set to it");
        assert!(password_line(&env, "other").is_err());
    }
}
