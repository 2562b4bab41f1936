//! One revision file: its header, its sections, its checksum.
//!
//! A revision is plain SQL with a header of `-- key: value` comment lines, so
//! every SQL tool can still open and run it. Parsing is in `parse` (the
//! header) and `marker` (the section marker lines, the only place that
//! decides what a marker is).
//!
//! Sections are generic (`-- migrate:up`) or for one dialect
//! (`-- migrate:up postgres`), which replaces the generic section of the same
//! direction on that dialect: [`Revision::up_for`] and [`Revision::down_for`]
//! give the SQL to run on a database.
//!
//! The checksum covers only the SQL, normalised so that line endings, trailing
//! whitespace and trailing blank lines do not count: editing the message does
//! not change it, editing a statement does.

mod check;
mod marker;
mod parse;

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::backend::Dialect;
use crate::plan::Direction;

pub use check::{check_dialect, not_for_dialect_message};
pub use marker::{dialect_name, parse_marker, Marker, DIALECTS};

/// The marker line that starts the upgrade SQL.
pub const UP_MARKER: &str = "-- migrate:up";
/// The marker line that starts the downgrade SQL.
pub const DOWN_MARKER: &str = "-- migrate:down";

/// One parsed revision file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The full ID, `[0-9A-Za-z_]{1,64}`, case-sensitive.
    pub id: String,
    /// Parent IDs as declared (empty for a root).
    pub parents: Vec<String>,
    /// Free text from the `message` key (empty when absent).
    pub message: String,
    /// The `created` timestamp as written (RFC 3339), if any.
    pub created: Option<String>,
    /// Branch labels carried by this revision.
    pub labels: Vec<String>,
    /// IDs that must be applied first without being parents. A name in the
    /// file may be a branch label; [`crate::RevisionGraph`] replaces it by
    /// the labelled revision's ID.
    pub depends_on: Vec<String>,
    /// IDs of the older revisions this one squashes (`replaces`, see
    /// [`crate::squash`]).
    pub replaces: Vec<String>,
    /// The files of the replaced revisions that are still present, moved
    /// here by [`crate::squash::fold`] when the graph is built (empty as
    /// parsed).
    pub replaced: Vec<Revision>,
    /// `false` when the SQL must run outside a transaction.
    pub transactional: bool,
    /// The generic upgrade SQL (`-- migrate:up`) as written, markers
    /// excluded; empty when the file only has dialect up sections (then
    /// `has_generic_up` is false). Use [`Revision::up_for`] to run it.
    pub up: String,
    /// The generic downgrade SQL, `None` when the file has no generic down
    /// section. Use [`Revision::down_for`] to run it.
    pub down: Option<String>,
    /// Whether the file has a generic `-- migrate:up` section.
    pub has_generic_up: bool,
    /// The dialect sections (`-- migrate:up postgres`), in the order of
    /// [`DIALECTS`]: sqlite, postgres, mysql.
    pub dialect_sql: [DialectSql; 3],
    /// SHA-256 (hex) of the normalised sections (see [`checksum`]).
    pub checksum: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// Where the header keys are, to point at in messages.
    pub lines: HeaderLines,
}

/// 1-based line numbers of the header keys that graph validation points at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderLines {
    pub id: usize,
    pub parents: usize,
    pub labels: Option<usize>,
    pub depends_on: Option<usize>,
    pub replaces: Option<usize>,
}

/// The sections a revision has for one dialect, replacing the generic ones there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialectSql {
    /// `-- migrate:up <dialect>`.
    pub up: Option<String>,
    /// `-- migrate:down <dialect>`.
    pub down: Option<String>,
}

impl Revision {
    /// The upgrade SQL to run on `dialect`: its own section, else the generic
    /// one. `None` when the file has neither: the revision cannot run there.
    pub fn up_for(&self, dialect: Dialect) -> Option<&str> {
        let own = self.dialect_sql[marker::slot(dialect)].up.as_deref();
        own.or(self.has_generic_up.then_some(self.up.as_str()))
    }

    /// The downgrade SQL to run on `dialect`: its own section, else the
    /// generic one. `None` when the file has neither: the revision is
    /// irreversible there. `Some("")` is a no-op downgrade.
    pub fn down_for(&self, dialect: Dialect) -> Option<&str> {
        self.dialect_sql[marker::slot(dialect)].down.as_deref().or(self.down.as_deref())
    }

    /// [`Revision::up_for`] or [`Revision::down_for`].
    pub fn sql_for(&self, direction: Direction, dialect: Dialect) -> Option<&str> {
        match direction {
            Direction::Up => self.up_for(dialect),
            Direction::Down => self.down_for(dialect),
        }
    }

    /// Whether the revision can be unapplied on at least one dialect (the
    /// planner, which knows no dialect, refuses only revisions that have no
    /// down SQL anywhere; [`check_dialect`] checks the dialect
    /// a plan runs on).
    pub fn is_reversible(&self) -> bool {
        self.down.is_some() || self.dialect_sql.iter().any(|d| d.down.is_some())
    }

    /// Every section of the file with its marker, in checksum order: the
    /// generic up and down sections, then each dialect's (sqlite, postgres,
    /// mysql), up before down.
    pub fn sections(&self) -> Vec<(Marker, &str)> {
        let generic =
            [(Direction::Up, self.has_generic_up.then_some(self.up.as_str())), (Direction::Down, self.down.as_deref())];
        let generic = generic.into_iter().map(|(direction, sql)| (Marker { direction, dialect: None }, sql));
        let dialects = DIALECTS.iter().zip(&self.dialect_sql).flat_map(|((dialect, _), sql)| {
            [(Direction::Up, sql.up.as_deref()), (Direction::Down, sql.down.as_deref())]
                .map(|(direction, sql)| (Marker { direction, dialect: Some(*dialect) }, sql))
        });
        generic.chain(dialects).filter_map(|(marker, sql)| Some((marker, sql?))).collect()
    }

    /// Whether the file has any dialect section.
    pub fn has_dialect_sections(&self) -> bool {
        self.dialect_sql.iter().any(|d| d.up.is_some() || d.down.is_some())
    }

    /// Parses the text of one revision file. `path` is only used in errors
    /// and kept in the result.
    pub fn parse(path: &Path, text: &str) -> Result<Revision, ParseError> {
        parse::Parser::new(path).parse(text)
    }

    /// Reads and parses one file.
    pub fn read(path: &Path) -> Result<Revision, ParseError> {
        let bytes = std::fs::read(path).map_err(|e| ParseError::new(path, None, ParseErrorKind::Io(e.to_string())))?;
        Revision::parse_bytes(path, &bytes)
    }

    /// Parses raw file content, rejecting invalid UTF-8 and NUL bytes with the line they are on.
    pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Revision, ParseError> {
        let line_of = |offset: usize| 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
        let text = std::str::from_utf8(bytes)
            .map_err(|e| ParseError::new(path, Some(line_of(e.valid_up_to())), ParseErrorKind::InvalidUtf8))?;
        if let Some(offset) = bytes.iter().position(|&b| b == 0) {
            return Err(ParseError::new(path, Some(line_of(offset)), ParseErrorKind::NulByte));
        }
        Revision::parse(path, text)
    }
}

/// Whether `id` is a valid revision ID: `[0-9A-Za-z_]{1,64}`. IDs are
/// case-sensitive (`Ibac91d24da2` and `ibac91d24da2` are two revisions), so
/// histories imported from Alembic keep theirs; generated IDs are lower-case hex.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Why a label is not acceptable, or `None` when it is. Labels are names
/// used in targets (`billing@head`, `billing@+1`, ranges `a:b`), so they may
/// not contain the characters that syntax uses, nor be a reserved word.
pub fn label_problem(label: &str) -> Option<&'static str> {
    if label.is_empty() || label.len() > 64 {
        return Some("must be 1 to 64 characters");
    }
    if matches!(label, "head" | "heads" | "base" | "current") {
        return Some("is a reserved target name");
    }
    if !label.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/')) {
        return Some("may only contain letters, digits, `_`, `-`, `.` and `/`");
    }
    if label.starts_with(['-', '.', '/']) || label.bytes().all(|b| b.is_ascii_digit()) {
        return Some("must start with a letter, digit or `_` and not be a number");
    }
    None
}

/// The checksum of a revision without dialect sections: SHA-256 (hex) over
/// the normalised up section and, when present, the normalised down section.
pub fn checksum(up: &str, down: Option<&str>) -> String {
    checksum_of(up, down, &Default::default())
}

/// The checksum of SPEC §1: `-- migrate:up\n` + up, then (when there is a
/// down section) `\n-- migrate:down\n` + down, then each dialect section in
/// the order sqlite, postgres, mysql, up before down, as
/// `\n-- migrate:<dir> <dialect>\n` + its SQL; every body normalised. Without
/// dialect sections this is the checksum of every earlier version.
pub fn checksum_of(up: &str, down: Option<&str>, dialects: &[DialectSql; 3]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(UP_MARKER.as_bytes());
    hasher.update(b"\n");
    hasher.update(normalise(up).as_bytes());
    let mut section = |marker: String, sql: &str| {
        hasher.update(b"\n");
        hasher.update(marker.as_bytes());
        hasher.update(b"\n");
        hasher.update(normalise(sql).as_bytes());
    };
    if let Some(down) = down {
        section(DOWN_MARKER.to_string(), down);
    }
    for ((_, name), sql) in DIALECTS.iter().zip(dialects) {
        if let Some(up) = &sql.up {
            section(format!("{UP_MARKER} {name}"), up);
        }
        if let Some(down) = &sql.down {
            section(format!("{DOWN_MARKER} {name}"), down);
        }
    }
    hex(&hasher.finalize())
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// LF line endings, no trailing whitespace on any line, no trailing blank lines.
fn normalise(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    for line in sql.split('\n') {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let kept = out.trim_end_matches('\n').len();
    out.truncate(kept);
    out
}

/// The `did you mean` part of [`ParseErrorKind::NearMissMarker`].
fn suggested(found: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        None => format!("`{UP_MARKER}` or `{DOWN_MARKER}`"),
        Some(s) if found.starts_with(char::is_whitespace) => format!("`{s}` at the start of the line"),
        Some(s) => format!("`{s}`"),
    }
}

/// A problem in one revision file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{}: {kind}", location(path, *line))]
pub struct ParseError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line, when the problem is on one.
    pub line: Option<usize>,
    /// What is wrong.
    pub kind: ParseErrorKind,
}

impl ParseError {
    fn new(path: &Path, line: Option<usize>, kind: ParseErrorKind) -> Self {
        ParseError { path: path.to_path_buf(), line, kind }
    }
}

/// `path:line` or `path`.
pub(crate) fn location(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    }
}

/// What is wrong in a revision file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ParseErrorKind {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("the file is not valid UTF-8")]
    InvalidUtf8,
    #[error("the file contains a NUL byte")]
    NulByte,
    #[error("unknown header key `{0}` (known keys: id, parents, message, created, labels, depends-on, transaction, replaces)")]
    UnknownKey(String),
    #[error("header key `{key}` repeated (first on line {first})")]
    RepeatedKey { key: String, first: usize },
    #[error("missing `-- id:` header line")]
    MissingId,
    #[error("missing `-- parents:` header line (leave it empty for a root revision)")]
    MissingParents,
    #[error("invalid revision ID `{0}`: IDs are 1 to 64 characters of `0-9`, `A-Z`, `a-z` and `_`")]
    InvalidId(String),
    #[error("`{key}` lists `{id}` twice")]
    DuplicateReference { key: &'static str, id: String },
    #[error("invalid label `{label}`: a label {why}")]
    InvalidLabel { label: String, why: &'static str },
    #[error("`created` is not an RFC 3339 timestamp: `{0}`")]
    InvalidCreated(String),
    #[error("`transaction` must be `true` or `false`, not `{0}`")]
    InvalidTransaction(String),
    #[error("missing `{UP_MARKER}` section (generic, or for a dialect: `{UP_MARKER} sqlite`, `postgres` or `mysql`)")]
    MissingUp,
    #[error("`{marker}` appears twice (first on line {first})")]
    RepeatedSection { marker: String, first: usize },
    #[error(
        "`{found}` is not a section marker: did you mean {}? (a marker reads exactly `{UP_MARKER}` or `{DOWN_MARKER}`, \
         optionally followed by one space and `sqlite`, `postgres` or `mysql`)",
        suggested(.found, .suggestion.as_deref())
    )]
    NearMissMarker { found: String, suggestion: Option<String> },
    #[error("`{found}`: unknown dialect `{dialect}` (a section marker names `sqlite`, `postgres` or `mysql`)")]
    UnknownDialect { found: String, dialect: String },
    #[error("a carriage return inside the line (old Mac line endings?): some databases end a `--` comment there, this parser does not; save the file with LF or CRLF line endings")]
    CarriageReturn,
    #[error("SQL before `{UP_MARKER}`: statements must be inside a section")]
    SqlOutsideSection,
    #[error("header key `{0}` after the header ended (a comment line ends it): move it up with the other keys")]
    KeyAfterHeader(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Revision, ParseError> {
        Revision::parse(Path::new("r.sql"), text)
    }

    const FULL: &str = "-- id: 5f1c0e9a2b7d\n-- parents: 1a2b3c4d5e6f 9e8d7c6b5a4f\n-- message: add users table\n\
        -- created: 2026-11-21T10:42:00Z\n-- labels: accounts\n-- depends-on: 0c4a77d1e2f3\n-- transaction: true\n\n\
        -- migrate:up\nCREATE TABLE users (id BIGINT PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n";

    #[test]
    fn parses_every_key() {
        let r = parse(FULL).unwrap();
        assert_eq!(r.id, "5f1c0e9a2b7d");
        assert_eq!(r.parents, ["1a2b3c4d5e6f", "9e8d7c6b5a4f"]);
        assert_eq!(r.message, "add users table");
        assert_eq!(r.created.as_deref(), Some("2026-11-21T10:42:00Z"));
        assert_eq!(r.labels, ["accounts"]);
        assert_eq!(r.depends_on, ["0c4a77d1e2f3"]);
        assert!(r.transactional);
        assert_eq!(r.up, "CREATE TABLE users (id BIGINT PRIMARY KEY);\n\n");
        assert_eq!(r.down.as_deref(), Some("DROP TABLE users;\n"));
        assert_eq!((r.lines.id, r.lines.parents, r.lines.labels, r.lines.depends_on), (1, 2, Some(5), Some(6)));
    }

    #[test]
    fn root_without_down_is_irreversible() {
        let r = parse("-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\n").unwrap();
        assert!(r.parents.is_empty());
        assert!(!r.is_reversible());
        let r = parse("-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\n-- migrate:down\n").unwrap();
        assert_eq!(r.down.as_deref(), Some(""));
    }

    #[test]
    fn checksum_ignores_message_line_endings_and_trailing_space() {
        let a = parse(FULL).unwrap();
        let b = parse(&FULL.replace("add users table", "create users")).unwrap();
        let c = parse(&FULL.replace('\n', "\r\n")).unwrap();
        let d = parse(&FULL.replace(";\n", ";   \n\n\n")).unwrap();
        assert_eq!(a.checksum, b.checksum);
        assert_eq!(a.checksum, c.checksum);
        assert_eq!(a.checksum, d.checksum);
        let e = parse(&FULL.replace("DROP TABLE users", "DROP TABLE people")).unwrap();
        let f = parse(&FULL.replace("BIGINT", "INTEGER")).unwrap();
        assert_ne!(a.checksum, e.checksum);
        assert_ne!(a.checksum, f.checksum);
        assert_eq!(a.checksum.len(), 64);
        // An irreversible revision differs from one with an empty down section.
        assert_ne!(checksum("x", None), checksum("x", Some("")));
    }

    /// Checksums computed by the code before dialect sections existed: files
    /// without dialect sections must keep them, or every database would drift.
    #[test]
    fn checksum_is_pinned() {
        let full = "57481a31501dc08ba8292c63f257d04524715132bd181ebda6ac3c2e0280e854";
        assert_eq!(parse(FULL).unwrap().checksum, full);
        assert_eq!(parse(&FULL.replace('\n', "\r\n")).unwrap().checksum, full);
        let r = parse("-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\n").unwrap();
        assert_eq!(r.checksum, "68f60dbf6c9211d25c26522cf11c3350fead36e23fe81b0d2a38698373e01b38");
        // Leading blank lines count; an empty down section is part of it.
        let r = parse("-- id: a\n-- parents:\n-- migrate:up\n\n  x  \n\n-- migrate:down\n").unwrap();
        assert_eq!(r.checksum, "aa40cb8a0b3e3e04cb65a9fdcdf800166ea4a87b0d4c476abb57dcab63066a69");
    }

    fn kind(text: &str) -> (Option<usize>, ParseErrorKind) {
        let e = parse(text).unwrap_err();
        (e.line, e.kind)
    }

    #[test]
    fn header_errors_name_the_line() {
        assert_eq!(kind("-- id: a\n-- parents:\n-- colour: red\n-- migrate:up\n").0, Some(3));
        assert!(
            matches!(kind("-- id: a\n-- parents:\n-- colour: red\n").1, ParseErrorKind::UnknownKey(k) if k == "colour")
        );
        assert_eq!(
            kind("-- id: a\n-- parents:\n-- id: b\n-- migrate:up\n"),
            (Some(3), ParseErrorKind::RepeatedKey { key: "id".into(), first: 1 })
        );
        assert_eq!(
            kind("-- id: a.b\n-- parents:\n-- migrate:up\n"),
            (Some(1), ParseErrorKind::InvalidId("a.b".into()))
        );
        assert_eq!(kind("-- id: é\n-- parents:\n-- migrate:up\n"), (Some(1), ParseErrorKind::InvalidId("é".into())));
        assert_eq!(kind("-- parents:\n-- migrate:up\n"), (None, ParseErrorKind::MissingId));
        assert_eq!(kind("-- id: a\n-- migrate:up\n"), (None, ParseErrorKind::MissingParents));
        assert_eq!(kind("-- id: a\n-- parents: b-c\n-- migrate:up\n").1, ParseErrorKind::InvalidId("b-c".into()));
        assert_eq!(kind("-- id: a\n-- parents: b b\n-- migrate:up\n").0, Some(2));
        assert_eq!(kind("-- id: a\n-- parents:\n-- created: yesterday\n-- migrate:up\n").0, Some(3));
        assert_eq!(kind("-- id: a\n-- parents:\n-- transaction: maybe\n-- migrate:up\n").0, Some(3));
        assert!(matches!(
            kind("-- id: a\n-- parents:\n-- labels: head\n-- migrate:up\n").1,
            ParseErrorKind::InvalidLabel { .. }
        ));
        assert!(matches!(
            kind("-- id: a\n-- parents:\n-- labels: x@y\n-- migrate:up\n").1,
            ParseErrorKind::InvalidLabel { .. }
        ));
    }

    #[test]
    fn section_errors() {
        assert_eq!(kind("-- id: a\n-- parents:\n"), (None, ParseErrorKind::MissingUp));
        assert_eq!(
            kind("-- id: a\n-- parents:\n-- migrate:up\n-- migrate:up\n"),
            (Some(4), ParseErrorKind::RepeatedSection { marker: UP_MARKER.into(), first: 3 })
        );
        assert_eq!(
            kind("-- id: a\n-- parents:\nDROP TABLE x;\n-- migrate:up\n"),
            (Some(3), ParseErrorKind::SqlOutsideSection)
        );
        // Comments between header and sections are fine and end the header.
        let r = parse("-- id: a\n-- parents:\n-- just a note\n-- Note: fine\n-- migrate:up\nSELECT 1;\n").unwrap();
        assert_eq!(r.up, "SELECT 1;\n");
        // ... but a known key after such a comment is an error, not a comment.
        assert_eq!(
            kind("-- id: a\n-- parents:\n-- a note\n-- depends-on: b\n-- migrate:up\n"),
            (Some(4), ParseErrorKind::KeyAfterHeader("depends-on".into()))
        );
        let r = parse("-- id: a\n-- parents:\n-- transaction : false\n-- migrate:up\n").unwrap();
        assert!(!r.transactional, "a space before the colon still makes a header line");
    }

    #[test]
    fn bytes_errors_name_the_line() {
        let e = Revision::parse_bytes(Path::new("r.sql"), b"-- id: a\n-- parents:\n\xff\n").unwrap_err();
        assert_eq!((e.line, e.kind), (Some(3), ParseErrorKind::InvalidUtf8));
        let e = Revision::parse_bytes(Path::new("r.sql"), b"-- id: a\n-- parents:\n-- migrate:up\n\0").unwrap_err();
        assert_eq!(e.to_string(), "r.sql:4: the file contains a NUL byte");
        assert_eq!((e.line, e.kind), (Some(4), ParseErrorKind::NulByte));
    }

    #[test]
    fn ids_and_labels() {
        assert!(is_valid_id("abc_123"));
        assert!(is_valid_id("Ibac91d24da2"), "Alembic IDs keep their case");
        assert!(is_valid_id("ABC") && is_valid_id("_"));
        assert!(!is_valid_id("a-b") && !is_valid_id("a b") && !is_valid_id("é") && !is_valid_id("a@b"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id(&"a".repeat(65)));
        assert!(is_valid_id(&"a".repeat(64)));
        assert!(label_problem("billing").is_none());
        assert!(label_problem("feature/x-1.2").is_none());
        assert!(label_problem("12").is_some());
        assert!(label_problem("-x").is_some());
        assert!(label_problem("a:b").is_some());
    }
}
