//! Importing an Alembic project: `migraph import alembic [DIR]` and
//! `migraph adopt alembic`.
//!
//! The graph comes from the version scripts read statically (never
//! imported): each script's module-level `revision`, `down_revision` (a
//! tuple for merges), `branch_labels` and `depends_on`, its docstring's
//! first line as the message and its `Create Date:` as `created`. Alembic
//! IDs are kept as they are, so `alembic_version` rows name migraph
//! revisions directly.
//!
//! The SQL comes from the project's own Alembic, run by a small embedded
//! Python driver (`alembic_driver.py`) with the project's Python: it applies
//! the migrations online on a scratch database of each dialect, one revision
//! at a time (then unapplies them in reverse), and records every statement
//! SQLAlchemy runs successfully (one a migration tries and recovers from is
//! left out), parameters rendered as literals, reads and
//! `alembic_version` bookkeeping left out. Steps the online run cannot
//! capture are rendered offline (`--sql`) where Alembic can; what is left
//! gets an up section holding only a `-- TODO` comment (which migraph
//! refuses to run) and a note saying why.
//!
//! Sections: one generic section when every captured dialect gave the same
//! SQL (and at least two were captured), else one section per dialect.

mod capture;
mod python;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::backend::{Backend, DbError, Dialect, ReadAs, Value};
use crate::graph::RevisionGraph;
use crate::revision::{Revision, DOWN_MARKER, UP_MARKER};

use python::PyValue;

/// The driver, run with the project's Python.
pub const DRIVER: &str = include_str!("alembic_driver.py");

/// How to capture the SQL.
#[derive(Debug, Clone, Default)]
pub struct AlembicOptions {
    /// The Python that has Alembic, SQLAlchemy and the project's modules
    /// (default `python3`).
    pub python: Option<PathBuf>,
    /// Server URLs (`postgres://…`, `mysql://…`): a temporary database is
    /// created on each, used, and dropped.
    pub servers: Vec<String>,
    /// Read the graph only: every section is a `-- TODO` (no Python run).
    pub no_capture: bool,
    /// Creates the schema the root revision assumes (see [`Baseline`]).
    pub baseline: Option<Baseline>,
}

/// `--baseline FILE[:FUNCTION]`: a Python file whose `FUNCTION(connection)`
/// (default `baseline`) creates, on the empty scratch database, the schema
/// the history's root revision assumes (histories that start from what the
/// application's models created). The driver imports FILE before anything
/// else and runs FUNCTION before the first revision; the statements it
/// captured open that revision's up section, and the drop of what it
/// created (or FILE's `FUNCTION_down(connection)`) closes its down section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Baseline {
    pub file: PathBuf,
    pub function: String,
}

impl Baseline {
    /// Reads `FILE[:FUNCTION]`; FILE must exist.
    pub fn parse(spec: &str) -> Result<Baseline, AlembicError> {
        let (file, function) = match spec.rsplit_once(':') {
            Some((file, function))
                if !Path::new(spec).is_file()
                    && !function.is_empty()
                    && function.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !function.starts_with(|c: char| c.is_ascii_digit()) =>
            {
                (file, function)
            }
            _ => (spec, "baseline"),
        };
        let file = PathBuf::from(file);
        if !file.is_file() {
            return Err(AlembicError::Baseline(format!("{}: no such file", file.display())));
        }
        Ok(Baseline { file, function: function.to_string() })
    }
}

/// Where an Alembic project keeps its scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The script directory (`script_location`: env.py and versions/).
    pub script_dir: PathBuf,
    /// `alembic.ini`, when there is one.
    pub config_file: Option<PathBuf>,
    /// Where the project's modules are imported from (the ini's directory,
    /// else the script directory's parent, above any package it is in).
    pub root: PathBuf,
}

/// One Alembic revision as a migraph revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlembicRevision {
    pub id: String,
    pub parents: Vec<String>,
    pub labels: Vec<String>,
    pub depends_on: Vec<String>,
    pub message: String,
    pub created: Option<String>,
    /// The version script.
    pub source: PathBuf,
    /// (marker line, SQL) in file order.
    pub sections: Vec<(String, String)>,
}

/// The imported history.
#[derive(Debug, Clone)]
pub struct AlembicImport {
    pub layout: Layout,
    /// In apply order.
    pub revisions: Vec<AlembicRevision>,
    /// The dialects whose SQL was captured.
    pub captured: Vec<Dialect>,
    /// What could not be captured, and why (one line each).
    pub notes: Vec<String>,
}

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AlembicError {
    #[error("no Alembic project in {}: expected alembic.ini with script_location, or a versions/ directory", .0.display())]
    NotFound(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}:{line}: {message}", path.display())]
    Script { path: PathBuf, line: usize, message: String },
    #[error("{0}")]
    Graph(String),
    #[error("cannot run the Alembic driver with {python}: {message}")]
    Python { python: String, message: String },
    #[error("{} already exists; nothing was written", .0.display())]
    Exists(PathBuf),
    #[error("revision ID `{id}` is already used by {}; nothing was written", path.display())]
    IdTaken { id: String, path: PathBuf },
    #[error("cannot read alembic_version: {0}")]
    VersionTable(DbError),
    #[error("alembic_version lists `{0}`, which is not a revision here (was the history imported?)")]
    UnknownVersion(String),
    #[error("--baseline {0}")]
    Baseline(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AlembicError + '_ {
    move |source| AlembicError::Io { path: path.to_path_buf(), source }
}

/// Finds the script directory: `DIR/alembic.ini`'s `script_location`, or
/// DIR itself when it has `versions/`, or `DIR/alembic` / `DIR/migrations`.
pub fn layout(dir: &Path) -> Result<Layout, AlembicError> {
    let ini = dir.join("alembic.ini");
    let ini = ini.is_file().then_some(ini);
    let has_versions = |d: &Path| d.join("versions").is_dir();
    if let Some(ini_path) = &ini {
        let text = std::fs::read_to_string(ini_path).map_err(io(ini_path))?;
        if let Some(location) = ini_value(&text, "alembic", "script_location") {
            let here = dir.to_string_lossy();
            let location = location.replace("%(here)s", &here);
            for candidate in [dir.join(&location), PathBuf::from(&location)] {
                if has_versions(&candidate) {
                    return Ok(Layout { script_dir: candidate, config_file: ini.clone(), root: dir.to_path_buf() });
                }
            }
        }
    }
    for candidate in [dir.to_path_buf(), dir.join("alembic"), dir.join("migrations")] {
        if has_versions(&candidate) {
            let parent_ini = candidate.parent().map(|p| p.join("alembic.ini")).filter(|p| p.is_file());
            // Scripts inside a package (`app/alembic`) import it from the
            // directory above the package.
            let mut root = candidate.parent().map_or_else(|| dir.to_path_buf(), Path::to_path_buf);
            while root.join("__init__.py").is_file() {
                match root.parent() {
                    Some(parent) => root = parent.to_path_buf(),
                    None => break,
                }
            }
            return Ok(Layout { script_dir: candidate, config_file: ini.or(parent_ini), root });
        }
    }
    Err(AlembicError::NotFound(dir.to_path_buf()))
}

/// `key` in `[section]` of an ini text (continuation lines not joined).
fn ini_value(text: &str, section: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = name.trim().to_string();
        } else if current == section {
            if let Some((k, v)) = line.split_once(['=', ':']) {
                if k.trim() == key {
                    return Some(v.trim().to_string());
                }
            }
        }
    }
    None
}

/// Reads every version script of `layout` (the graph only: no sections).
pub fn read_scripts(layout: &Layout) -> Result<Vec<AlembicRevision>, AlembicError> {
    let versions = layout.script_dir.join("versions");
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(&versions).map_err(io(&versions))? {
        let path = entry.map_err(io(&versions))?.path();
        if path.extension().is_some_and(|e| e == "py") && path.file_name().is_some_and(|n| n != "__init__.py") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut out = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let script = python::read(&text).map_err(|e| AlembicError::Script {
            path: path.clone(),
            line: e.line,
            message: e.message,
        })?;
        let get = |name: &str| script.assignments.iter().rev().find(|(n, _, _)| n == name);
        let Some((_, revision, line)) = get("revision") else { continue };
        let PyValue::Str(id) = revision else {
            return Err(AlembicError::Script { path, line: *line, message: "`revision` is not a string".into() });
        };
        let list = |name: &str| -> Result<Vec<String>, AlembicError> {
            match get(name) {
                None => Ok(Vec::new()),
                Some((_, value, line)) => value.strings().ok_or_else(|| AlembicError::Script {
                    path: path.clone(),
                    line: *line,
                    message: format!("`{name}` must be None, a string, or a tuple or list of strings"),
                }),
            }
        };
        let doc = script.docstring.unwrap_or_default();
        out.push(AlembicRevision {
            id: id.clone(),
            parents: list("down_revision")?,
            labels: list("branch_labels")?,
            depends_on: list("depends_on")?,
            message: doc.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default().to_string(),
            created: doc.lines().find_map(|l| l.trim().strip_prefix("Create Date:")).and_then(created),
            source: path,
            sections: Vec::new(),
        });
    }
    if out.is_empty() {
        return Err(AlembicError::NotFound(layout.script_dir.clone()));
    }
    Ok(apply_order(out))
}

/// `2016-04-11 16:05:34.873288` (optionally with an offset) as RFC 3339 UTC.
fn created(text: &str) -> Option<String> {
    use time::format_description::well_known::Rfc3339;
    let text = text.trim();
    let (stamp, offset) = match text.get(19..) {
        Some(rest) => {
            let rest = rest.trim_start_matches(|c: char| c == '.' || c.is_ascii_digit());
            (&text[..19], rest.trim())
        }
        None => (text, ""),
    };
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let local = time::PrimitiveDateTime::parse(stamp, &format).ok()?;
    let offset = if offset.is_empty() {
        time::UtcOffset::UTC
    } else {
        time::UtcOffset::parse(offset, &time::macros::format_description!("[offset_hour]:[offset_minute]")).ok()?
    };
    local.assume_offset(offset).to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

/// Topological order over parents and depends-on (labels resolved), the
/// smallest ID first among those ready; what cannot be ordered (a missing
/// parent, a cycle) is left at the end for the graph check to name.
fn apply_order(revisions: Vec<AlembicRevision>) -> Vec<AlembicRevision> {
    let labels: BTreeMap<&str, &str> =
        revisions.iter().flat_map(|r| r.labels.iter().map(move |l| (l.as_str(), r.id.as_str()))).collect();
    let ids: HashSet<&str> = revisions.iter().map(|r| r.id.as_str()).collect();
    let needs: BTreeMap<&str, BTreeSet<&str>> = revisions
        .iter()
        .map(|r| {
            let deps = r.parents.iter().chain(&r.depends_on).map(|d| *labels.get(d.as_str()).unwrap_or(&d.as_str()));
            (r.id.as_str(), deps.filter(|d| ids.contains(d)).collect())
        })
        .collect();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut order: Vec<String> = Vec::new();
    while let Some(next) =
        needs.iter().find(|(id, deps)| !done.contains(*id) && deps.iter().all(|d| done.contains(d))).map(|(id, _)| *id)
    {
        done.insert(next);
        order.push(next.to_string());
    }
    let mut by_id: BTreeMap<String, AlembicRevision> = revisions.into_iter().map(|r| (r.id.clone(), r)).collect();
    let mut out: Vec<AlembicRevision> = order.iter().filter_map(|id| by_id.remove(id)).collect();
    out.extend(by_id.into_values());
    out
}

/// Reads the project in `dir` and captures its SQL (see the module docs).
pub fn import_alembic(dir: &Path, options: &AlembicOptions) -> Result<AlembicImport, AlembicError> {
    let layout = layout(dir)?;
    let mut revisions = read_scripts(&layout)?;
    let mut notes = Vec::new();
    let mut captures: Vec<(Dialect, BTreeMap<String, capture::Captured>)> = Vec::new();
    if options.no_capture {
        notes.push("SQL not captured (--no-capture): every revision has a TODO up section".into());
        if options.baseline.is_some() {
            notes.push("--baseline not run (--no-capture)".into());
        }
    } else {
        let mut targets = vec![(Dialect::Sqlite, None)];
        for server in &options.servers {
            let dialect = crate::backend::dialect_of(server).map_err(|e| AlembicError::Graph(e.to_string()))?;
            targets.push((dialect, Some(server.as_str())));
        }
        // With several roots, the baseline goes with the first in apply order.
        let root = revisions.iter().find(|r| r.parents.is_empty()).map(|r| r.id.clone());
        for (dialect, server) in targets {
            match capture::run(&layout, options, dialect, server, root.as_deref()) {
                Ok(map) => captures.push((dialect, map)),
                // Alembic could not run at all on this dialect: say why,
                // and leave TODO sections there.
                Err(e @ AlembicError::Python { .. }) => {
                    notes.push(e.to_string());
                    captures.push((dialect, BTreeMap::new()));
                }
                Err(e) => return Err(e),
            }
        }
    }
    for r in &mut revisions {
        r.sections = capture::sections(r, &captures, &mut notes);
    }
    let captured = captures.iter().map(|(d, _)| *d).collect();
    let import = AlembicImport { layout, revisions, captured, notes };
    import.files()?;
    Ok(import)
}

impl AlembicRevision {
    /// The revision file's text.
    pub fn render(&self) -> String {
        let one_line = |s: &str| s.replace(['\r', '\n'], " ").trim().to_string();
        let mut text = format!("-- id: {}\n-- parents: {}\n", self.id, self.parents.join(" "));
        text.push_str(&format!("-- message: {}\n", one_line(&self.message)));
        if let Some(created) = &self.created {
            text.push_str(&format!("-- created: {created}\n"));
        }
        if !self.labels.is_empty() {
            text.push_str(&format!("-- labels: {}\n", self.labels.join(" ")));
        }
        if !self.depends_on.is_empty() {
            text.push_str(&format!("-- depends-on: {}\n", self.depends_on.join(" ")));
        }
        for (marker, sql) in &self.sections {
            text.push('\n');
            text.push_str(marker);
            text.push('\n');
            text.push_str(sql.trim_end());
            if !sql.trim_end().is_empty() {
                text.push('\n');
            }
        }
        text
    }

    /// `<id>_<slug>.sql`.
    pub fn file_name(&self) -> String {
        format!("{}_{}.sql", self.id, crate::source::slug(&self.message))
    }
}

impl AlembicImport {
    /// (file name, text) of each revision, parsed back and checked as one
    /// graph (missing parents, cycles, labels used twice...).
    pub fn files(&self) -> Result<Vec<(String, String)>, AlembicError> {
        let mut files = Vec::new();
        let mut parsed = Vec::new();
        let mut errors = Vec::new();
        for r in &self.revisions {
            let (name, text) = (r.file_name(), r.render());
            match Revision::parse(&r.source, &text) {
                Ok(revision) => parsed.push(revision),
                Err(e) => errors.push(e),
            }
            files.push((name, text));
        }
        RevisionGraph::with_parse_errors(parsed, errors).map_err(|e| AlembicError::Graph(e.to_string()))?;
        Ok(files)
    }
}

/// Writes the revision files into `revisions` (created when missing), or
/// with `dry_run` only says which it would write; refuses, writing nothing,
/// when a file exists or an ID is taken there.
pub fn write(import: &AlembicImport, revisions: &Path, dry_run: bool) -> Result<Vec<PathBuf>, AlembicError> {
    let files = import.files()?;
    let paths: Vec<PathBuf> = files.iter().map(|(name, _)| revisions.join(name)).collect();
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        return Err(AlembicError::Exists(existing.clone()));
    }
    if revisions.is_dir() {
        let loaded = crate::source::load_dir(revisions).map_err(|e| AlembicError::Graph(e.to_string()))?;
        let ids: HashSet<&str> = import.revisions.iter().map(|r| r.id.as_str()).collect();
        if let Some(taken) = loaded.revisions.iter().find(|r| ids.contains(r.id.as_str())) {
            return Err(AlembicError::IdTaken { id: taken.id.clone(), path: taken.path.clone() });
        }
    }
    if dry_run {
        return Ok(paths);
    }
    std::fs::create_dir_all(revisions).map_err(io(revisions))?;
    let mut written = Vec::new();
    for (r, (_, text)) in import.revisions.iter().zip(&files) {
        match crate::source::write_revision_file(revisions, &r.id, &r.message, text) {
            Ok(path) => written.push(path),
            Err(e) => {
                for path in &written {
                    let _ = std::fs::remove_file(path);
                }
                return Err(AlembicError::Graph(e.to_string()));
            }
        }
    }
    Ok(written)
}

/// The heads Alembic recorded: `alembic_version.version_num`, sorted.
pub fn applied_heads(backend: &mut dyn Backend) -> Result<Vec<String>, AlembicError> {
    let cast = if backend.dialect() == Dialect::Mysql { "CHAR" } else { "TEXT" };
    let rows = backend
        .values(&[(format!("CAST(version_num AS {cast})"), ReadAs::Text)], "FROM alembic_version", &[])
        .map_err(AlembicError::VersionTable)?;
    let mut heads: Vec<String> = rows
        .into_iter()
        .filter_map(|row| match row.into_iter().next() {
            Some(Value::Text(s)) => Some(s),
            _ => None,
        })
        .collect();
    heads.sort();
    heads.dedup();
    Ok(heads)
}

/// The stamp targets for `adopt alembic`: the applied heads, each of which
/// must be a revision of `graph` (`["base"]` when Alembic applied nothing).
pub fn adopt_alembic_version(backend: &mut dyn Backend, graph: &RevisionGraph) -> Result<Vec<String>, AlembicError> {
    let heads = applied_heads(backend)?;
    if let Some(unknown) = heads.iter().find(|h| graph.get(h).is_none()) {
        return Err(AlembicError::UnknownVersion(unknown.clone()));
    }
    Ok(if heads.is_empty() { vec!["base".into()] } else { heads })
}

/// The `-- migrate:` marker line for a direction and dialect.
fn marker(up: bool, dialect: Option<Dialect>) -> String {
    let base = if up { UP_MARKER } else { DOWN_MARKER };
    match dialect {
        None => base.to_string(),
        Some(d) => format!("{base} {}", crate::revision::dialect_name(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_date_becomes_rfc3339_utc() {
        assert_eq!(created(" 2016-04-11 16:05:34.873288").as_deref(), Some("2016-04-11T16:05:34Z"));
        assert_eq!(created("2024-03-02 11:00:00").as_deref(), Some("2024-03-02T11:00:00Z"));
        assert_eq!(created("2024-03-02 11:00:00.5+02:00").as_deref(), Some("2024-03-02T09:00:00Z"));
        assert_eq!(created("yesterday"), None);
    }

    #[test]
    fn baseline_file_and_function() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("models.py");
        std::fs::write(&file, "def baseline(c): pass\n").unwrap();
        let shown = file.display().to_string();
        assert_eq!(Baseline::parse(&shown).unwrap(), Baseline { file: file.clone(), function: "baseline".into() });
        let named = Baseline::parse(&format!("{shown}:old_schema")).unwrap();
        assert_eq!(named, Baseline { file: file.clone(), function: "old_schema".into() });
        let missing = Baseline::parse(&format!("{shown}x:f")).unwrap_err().to_string();
        assert_eq!(missing, format!("--baseline {shown}x: no such file"));
        assert!(Baseline::parse(&format!("{shown}:not a name")).is_err());
    }

    #[test]
    fn ini_script_location() {
        let ini = "[alembic]\n# where\nscript_location = %(here)s/migrations\n[other]\nscript_location = no\n";
        assert_eq!(ini_value(ini, "alembic", "script_location").as_deref(), Some("%(here)s/migrations"));
        assert_eq!(ini_value(ini, "alembic", "sqlalchemy.url"), None);
    }

    fn rev(id: &str, parents: &[&str], depends: &[&str], labels: &[&str]) -> AlembicRevision {
        let v = |s: &[&str]| s.iter().map(|s| s.to_string()).collect();
        AlembicRevision {
            id: id.into(),
            parents: v(parents),
            labels: v(labels),
            depends_on: v(depends),
            message: String::new(),
            created: None,
            source: PathBuf::from(format!("{id}.py")),
            sections: Vec::new(),
        }
    }

    #[test]
    fn order_follows_parents_and_depends_on_labels() {
        let order = apply_order(vec![
            rev("m", &["b", "c"], &["lbl"], &[]),
            rev("c", &["a"], &[], &[]),
            rev("b", &["a"], &[], &[]),
            rev("z", &[], &[], &["lbl"]),
            rev("a", &[], &[], &[]),
        ]);
        let ids: Vec<&str> = order.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "z", "m"]);
    }
}
