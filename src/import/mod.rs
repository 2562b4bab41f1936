//! Importing the history of another migration tool: diesel, sqlx,
//! golang-migrate, dbmate, goose, refinery and Flyway.
//!
//! Each tool has one file here with two halves: a layout reader (the tool's
//! migration files → a list of [`ImportedRevision`]s in the tool's order)
//! and a version-table reader (the tool's table on a live database → the
//! versions it applied, with the checksums it stored). Everything else is
//! shared: the revisions become a chain in version order, written as
//! migraph revision files; `adopt` maps the applied versions through the
//! same mapping and stamps migraph's version table, running no SQL.
//!
//! # The mapping (stable across re-imports)
//!
//! - ID: `<prefix>_<version>`, the version with every character outside
//!   `[0-9A-Za-z_]` replaced by `_` (`diesel_20230101120000`,
//!   `flyway_1_2_3`, `migrate_3`), where the prefix is the tool's
//!   ([`Tool::prefix`]). The version is the one the tool stores in its
//!   version table, so `adopt` finds each row's revision by it.
//! - Parents: the previous migration in the tool's order (the first is a
//!   root).
//! - Message: `<name> (from <file>)`, the file relative to the tool's
//!   directory.
//! - Created: the version read as a UTC timestamp when it starts with 14
//!   digits `YYYYMMDDHHMMSS` that form a valid date, else
//!   [`FIXED_CREATED`].
//! - SQL: the files' text exactly (tool annotations that migraph expresses
//!   in its header, like goose's `-- +goose` lines, removed); the written
//!   file is parsed back and compared before anything is written.
//!
//! What migraph cannot express (Go and Rust migrations, Flyway repeatable
//! migrations, placeholders...) is reported per file in
//! [`Import::unsupported`], never silently dropped.

mod adopt;
pub mod alembic;
pub mod dbmate;
pub mod diesel;
pub mod flyway;
pub mod golang_migrate;
pub mod goose;
pub mod refinery;
pub mod sqlx;

use std::collections::{BTreeMap, HashSet};

pub use adopt::{adoption, applied, Adoption, AppliedVersion};
use adopt::{int, load, text};
use std::fmt;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::backend::DbError;
use crate::revision::{Revision, DOWN_MARKER, UP_MARKER};

/// The `created` of a revision whose version is not a timestamp.
pub const FIXED_CREATED: &str = "1970-01-01T00:00:00Z";

/// A migration tool migraph imports from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Tool {
    Diesel,
    Sqlx,
    GolangMigrate,
    Dbmate,
    Goose,
    Refinery,
    Flyway,
}

impl Tool {
    /// Every tool, in the order the command line lists them.
    pub const ALL: [Tool; 7] =
        [Tool::Diesel, Tool::Sqlx, Tool::GolangMigrate, Tool::Dbmate, Tool::Goose, Tool::Refinery, Tool::Flyway];

    /// The tool's name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Diesel => "diesel",
            Tool::Sqlx => "sqlx",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Dbmate => "dbmate",
            Tool::Goose => "goose",
            Tool::Refinery => "refinery",
            Tool::Flyway => "flyway",
        }
    }

    /// The tool named `name` (`migrate` is golang-migrate's command).
    pub fn from_name(name: &str) -> Option<Tool> {
        let name = name.to_ascii_lowercase();
        Tool::ALL.into_iter().find(|t| t.name() == name).or(match name.as_str() {
            "migrate" | "golang_migrate" => Some(Tool::GolangMigrate),
            _ => None,
        })
    }

    /// The first part of the IDs of its imported revisions.
    pub fn prefix(self) -> &'static str {
        match self {
            Tool::GolangMigrate => "migrate",
            other => other.name(),
        }
    }

    /// Where the tool keeps its migrations by default.
    pub fn default_dir(self) -> &'static str {
        match self {
            Tool::Dbmate => "db/migrations",
            // Flyway's command line reads `filesystem:sql` by default.
            Tool::Flyway => "sql",
            _ => "migrations",
        }
    }

    /// The tool's version table.
    pub fn version_table(self) -> &'static str {
        match self {
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Sqlx => "_sqlx_migrations",
            Tool::GolangMigrate | Tool::Dbmate => "schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::Refinery => "refinery_schema_history",
            Tool::Flyway => "flyway_schema_history",
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A checksum a tool stores for an applied migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChecksum {
    /// sqlx: SHA-384 of the file's content.
    Sha384(Vec<u8>),
    /// Flyway: CRC32 of the file's lines without their line breaks.
    Crc32(i32),
    /// refinery: SipHash-1-3 of name, version and SQL, stored as text.
    Sip13(u64),
}

impl fmt::Display for ToolChecksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolChecksum::Sha384(bytes) => f.write_str(&crate::revision::hex(bytes)),
            ToolChecksum::Crc32(n) => write!(f, "{n}"),
            ToolChecksum::Sip13(n) => write!(f, "{n}"),
        }
    }
}

/// One migration of the tool, as a migraph revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRevision {
    /// `<prefix>_<version>` (see the [module](self) docs).
    pub id: String,
    /// The version as the tool's version table stores it.
    pub version: String,
    /// The migration's name (from its file name).
    pub name: String,
    /// `<name> (from <file>)`.
    pub message: String,
    /// RFC 3339.
    pub created: String,
    pub up: String,
    /// `None`: irreversible.
    pub down: Option<String>,
    pub transaction: bool,
    /// The file the up SQL came from, relative to the tool's directory.
    pub source: PathBuf,
    /// What the tool stores as this migration's checksum, when it stores one.
    pub checksum: Option<ToolChecksum>,
}

/// A file, or a part of one, that migraph cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Relative to the tool's directory.
    pub path: PathBuf,
    pub reason: String,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// A tool's history, read from its directory.
#[derive(Debug, Clone)]
pub struct Import {
    pub tool: Tool,
    pub dir: PathBuf,
    /// In the tool's order: each is the parent of the next.
    pub revisions: Vec<ImportedRevision>,
    /// Files and features not imported, one entry per file and problem.
    pub unsupported: Vec<Unsupported>,
}

/// Why a history cannot be imported or adopted.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error("{} directory {} does not exist", .tool, .dir.display())]
    Missing { tool: Tool, dir: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A file the tool itself would refuse, or whose SQL migraph cannot hold.
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("version {version} is used by both {} and {}", first.display(), second.display())]
    Duplicate { version: String, first: PathBuf, second: PathBuf },
    #[error("{} has no migrations", .0.display())]
    Empty(PathBuf),
    #[error("{} already exists; nothing was written", .0.display())]
    Exists(PathBuf),
    #[error("revision ID `{id}` is already used by {}; nothing was written", path.display())]
    IdTaken { id: String, path: PathBuf },
    #[error("cannot read {table}: {source}")]
    Table { table: String, source: DbError },
    #[error("{table}: {message}")]
    State { table: String, message: String },
    #[error("{table} lists version {version}, which has no imported revision (`{id}`)")]
    UnknownVersion { table: String, version: String, id: String },
    #[error("{table} lists version {applied} as applied but not the earlier {}", missing.join(", "))]
    Gap { table: String, applied: String, missing: Vec<String> },
    #[error("checksum mismatch: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Checksums(Vec<Mismatch>),
}

impl ImportError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        ImportError::Io { path: path.to_path_buf(), source }
    }

    fn file(path: &Path, message: impl Into<String>) -> Self {
        ImportError::File { path: path.to_path_buf(), message: message.into() }
    }
}

/// An applied migration whose file changed since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub version: String,
    pub file: PathBuf,
    pub stored: ToolChecksum,
    pub computed: ToolChecksum,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "version {} ({}): the table stores {}, the file gives {}",
            self.version,
            self.file.display(),
            self.stored,
            self.computed
        )
    }
}

/// Reads `tool`'s migrations in `dir`.
pub fn read(tool: Tool, dir: &Path) -> Result<Import, ImportError> {
    if !dir.is_dir() {
        return Err(ImportError::Missing { tool, dir: dir.to_path_buf() });
    }
    let mut out = Import { tool, dir: dir.to_path_buf(), revisions: Vec::new(), unsupported: Vec::new() };
    match tool {
        Tool::Diesel => diesel::read(dir, &mut out)?,
        Tool::Sqlx => sqlx::read(dir, &mut out)?,
        Tool::GolangMigrate => golang_migrate::read(dir, &mut out)?,
        Tool::Dbmate => dbmate::read(dir, &mut out)?,
        Tool::Goose => goose::read(dir, &mut out)?,
        Tool::Refinery => refinery::read(dir, &mut out)?,
        Tool::Flyway => flyway::read(dir, &mut out)?,
    }
    if out.revisions.is_empty() {
        return Err(ImportError::Empty(dir.to_path_buf()));
    }
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    for r in &out.revisions {
        if let Some(first) = seen.insert(r.id.clone(), r.source.clone()) {
            return Err(ImportError::Duplicate { version: r.version.clone(), first, second: r.source.clone() });
        }
    }
    Ok(out)
}

/// A new revision for the version `version` of `tool` (see the module docs
/// for the mapping). `source` is relative to the tool's directory.
#[allow(clippy::too_many_arguments)]
fn revision(
    tool: Tool,
    version: &str,
    name: &str,
    source: PathBuf,
    up: String,
    down: Option<String>,
    transaction: bool,
    checksum: Option<ToolChecksum>,
) -> Result<ImportedRevision, ImportError> {
    let id = id_for(tool, version);
    if id.len() > 64 {
        return Err(ImportError::file(&source, format!("version `{version}` makes an ID longer than 64 characters")));
    }
    Ok(ImportedRevision {
        message: format!("{name} (from {})", source.display()),
        created: created_from(version),
        id,
        version: version.to_string(),
        name: name.to_string(),
        up,
        down,
        transaction,
        source,
        checksum,
    })
}

/// `<prefix>_<version>`, every character outside `[0-9A-Za-z_]` made `_`.
pub fn id_for(tool: Tool, version: &str) -> String {
    let version: String =
        version.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("{}_{version}", tool.prefix())
}

/// The version as a UTC timestamp when it starts with `YYYYMMDDHHMMSS`
/// (dashes and underscores ignored, as diesel writes them), else
/// [`FIXED_CREATED`].
pub fn created_from(version: &str) -> String {
    let digits: String = version.chars().filter(|c| *c != '-' && *c != '_').take(14).collect();
    let parse = || -> Option<String> {
        if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().ok();
        let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
        let date =
            time::Date::from_calendar_date(i32::try_from(n(0..4)?).ok()?, month, u8::try_from(n(6..8)?).ok()?).ok()?;
        let clock = time::Time::from_hms(
            u8::try_from(n(8..10)?).ok()?,
            u8::try_from(n(10..12)?).ok()?,
            u8::try_from(n(12..14)?).ok()?,
        )
        .ok()?;
        if date.year() < 1971 {
            return None;
        }
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .ok()
    };
    parse().unwrap_or_else(|| FIXED_CREATED.to_string())
}

/// The file names of a directory (not recursive), sorted; directories too
/// when `dirs`.
fn entries(dir: &Path, dirs: bool) -> Result<Vec<String>, ImportError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| ImportError::io(dir, e))? {
        let entry = entry.map_err(|e| ImportError::io(dir, e))?;
        let path = entry.path();
        if path.is_dir() != dirs {
            continue;
        }
        match entry.file_name().into_string() {
            Ok(name) => names.push(name),
            Err(name) => return Err(ImportError::file(&dir.join(name), "the file name is not UTF-8")),
        }
    }
    names.sort();
    Ok(names)
}

/// A file's text.
fn read_text(path: &Path) -> Result<String, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| ImportError::io(path, e))?;
    String::from_utf8(bytes).map_err(|_| ImportError::file(path, "not UTF-8"))
}

impl ImportedRevision {
    /// The revision file's text, with `parent` as its parent.
    pub fn render(&self, parent: Option<&str>) -> String {
        let mut text = format!(
            "-- id: {}\n-- parents: {}\n-- message: {}\n-- created: {}\n",
            self.id,
            parent.unwrap_or_default(),
            self.message.replace(['\r', '\n'], " ").trim(),
            self.created
        );
        if !self.transaction {
            text.push_str("-- transaction: false\n");
        }
        text.push('\n');
        let section = |text: &mut String, marker: &str, sql: &str| {
            text.push_str(marker);
            text.push('\n');
            text.push_str(sql);
            if !sql.is_empty() && !sql.ends_with('\n') {
                text.push('\n');
            }
        };
        section(&mut text, UP_MARKER, &self.up);
        if let Some(down) = &self.down {
            section(&mut text, DOWN_MARKER, down);
        }
        text
    }

    /// `<id>_<slug>.sql`.
    pub fn file_name(&self) -> String {
        format!("{}_{}.sql", self.id, crate::source::slug(&self.name))
    }
}

impl Import {
    /// The revision files: (file name, text), each revision's parent the
    /// previous one. Each text is parsed back and must give the same SQL:
    /// a line migraph would read as a section marker is an error naming the
    /// tool's file.
    pub fn files(&self) -> Result<Vec<(String, String)>, ImportError> {
        let mut out = Vec::new();
        let mut parent: Option<&str> = None;
        for r in &self.revisions {
            let text = r.render(parent);
            let name = r.file_name();
            let source = self.dir.join(&r.source);
            let parsed = Revision::parse(Path::new(&name), &text)
                .map_err(|e| ImportError::file(&source, format!("cannot be written as a migraph revision: {e}")))?;
            let same = |got: &str, want: &str| got.trim_end_matches('\n') == want.trim_end_matches('\n');
            let down_same = match (&parsed.down, &r.down) {
                (Some(got), Some(want)) => same(got, want),
                (None, None) => true,
                _ => false,
            };
            if !same(&parsed.up, &r.up) || !down_same || parsed.has_dialect_sections() {
                return Err(ImportError::file(
                    &source,
                    "its SQL contains a line migraph reads as a section marker (`-- migrate:...`)",
                ));
            }
            out.push((name, text));
            parent = Some(&r.id);
        }
        Ok(out)
    }
}

/// Writes the revision files into `revisions` (created when missing), or
/// with `dry_run` only says which it would write. Refuses, writing nothing,
/// when a file exists or an ID is already used by a revision there.
pub fn write(import: &Import, revisions: &Path, dry_run: bool) -> Result<Vec<PathBuf>, ImportError> {
    let files = import.files()?;
    let paths: Vec<PathBuf> = files.iter().map(|(name, _)| revisions.join(name)).collect();
    if let Some(existing) = paths.iter().find(|p| p.exists()) {
        return Err(ImportError::Exists(existing.clone()));
    }
    if revisions.is_dir() {
        let loaded = crate::source::load_dir(revisions).map_err(|e| ImportError::file(revisions, e.to_string()))?;
        let ids: HashSet<&str> = import.revisions.iter().map(|r| r.id.as_str()).collect();
        if let Some(taken) = loaded.revisions.iter().find(|r| ids.contains(r.id.as_str())) {
            return Err(ImportError::IdTaken { id: taken.id.clone(), path: taken.path.clone() });
        }
    }
    if dry_run {
        return Ok(paths);
    }
    std::fs::create_dir_all(revisions).map_err(|e| ImportError::io(revisions, e))?;
    let mut written = Vec::new();
    for (r, (_, text)) in import.revisions.iter().zip(&files) {
        match crate::source::write_revision_file(revisions, &r.id, &r.name, text) {
            Ok(path) => written.push(path),
            Err(e) => {
                // All or nothing: take back what this run wrote.
                for path in &written {
                    let _ = std::fs::remove_file(path);
                }
                return Err(match e {
                    crate::source::SourceError::Exists(path) => ImportError::Exists(path),
                    other => ImportError::file(revisions, other.to_string()),
                });
            }
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_created() {
        assert_eq!(id_for(Tool::Flyway, "1.2.3"), "flyway_1_2_3");
        assert_eq!(id_for(Tool::GolangMigrate, "3"), "migrate_3");
        assert_eq!(created_from("20230102030405"), "2023-01-02T03:04:05Z");
        assert_eq!(created_from("2023-01-02-030405"), "2023-01-02T03:04:05Z");
        assert_eq!(created_from("00000000000000"), FIXED_CREATED);
        assert_eq!(created_from("20231302030405"), FIXED_CREATED);
        assert_eq!(created_from("1"), FIXED_CREATED);
    }

    #[test]
    fn tool_names_round_trip() {
        for tool in Tool::ALL {
            assert_eq!(Tool::from_name(tool.name()), Some(tool));
        }
        assert_eq!(Tool::from_name("migrate"), Some(Tool::GolangMigrate));
        assert_eq!(Tool::from_name("alembic"), None);
    }

    fn one(up: &str, down: Option<&str>) -> Import {
        let r = revision(Tool::Sqlx, "1", "x", "1_x.sql".into(), up.into(), down.map(Into::into), true, None).unwrap();
        Import { tool: Tool::Sqlx, dir: ".".into(), revisions: vec![r], unsupported: Vec::new() }
    }

    #[test]
    fn rendering_keeps_the_sql_and_refuses_marker_lines() {
        let files = one("CREATE TABLE t (x INT);\n-- a comment: here\n", Some("DROP TABLE t;")).files().unwrap();
        let parsed = Revision::parse(Path::new("a.sql"), &files[0].1).unwrap();
        assert_eq!(parsed.up, "CREATE TABLE t (x INT);\n-- a comment: here\n");
        assert_eq!(parsed.down.as_deref(), Some("DROP TABLE t;\n"));
        assert!(one("SELECT 1;\n-- migrate:down\nSELECT 2;\n", None).files().is_err());
        assert!(one("SELECT 1;\n-- Migrate:Down\n", None).files().is_err());
    }
}
