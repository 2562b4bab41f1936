//! The one parser of [migraph](https://crates.io/crates/migraph) revision
//! files, shared by `migraph` (reading files at run time) and
//! `migraph-macros` (`embed_revisions!`, which refuses a broken file at
//! compile time), so both accept and refuse exactly the same text, with the
//! same `file:line` messages.
//!
//! It works on text alone: header keys, section markers, sections, line
//! numbers. What the sections mean for a database (the checksum, which SQL
//! runs on which connection) is `migraph`'s: its `migraph::revision` module
//! maps this crate's [`Dialect`] and [`Direction`] to its own and re-exports
//! the error types.
//!
//! ```
//! use std::path::Path;
//!
//! let text = "-- id: a1\n-- parents:\n\n-- migrate:up\nCREATE TABLE t (x INT);\n--migrate:down\nDROP TABLE t;\n";
//! let error = migraph_revision::parse(Path::new("revisions/a1.sql"), text).unwrap_err();
//! assert_eq!(error.line, Some(6));
//! assert!(error.to_string().starts_with(
//!     "revisions/a1.sql:6: `--migrate:down` is not a section marker: did you mean `-- migrate:down`?"
//! ));
//!
//! let file = migraph_revision::parse(Path::new("a1.sql"), &text.replace("--migrate", "-- migrate")).unwrap();
//! assert_eq!((file.id.as_str(), file.down.as_deref()), ("a1", Some("DROP TABLE t;\n")));
//! ```

mod error;
mod marker;
mod parse;

use std::num::NonZeroU32;
use std::path::Path;

pub use error::{location, ParseError, ParseErrorKind};
pub use marker::{parse_marker, Marker};

/// The marker line that starts the upgrade SQL.
pub const UP_MARKER: &str = "-- migrate:up";
/// The marker line that starts the downgrade SQL.
pub const DOWN_MARKER: &str = "-- migrate:down";

/// A dialect a section can be written for (`-- migrate:up postgres`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    Sqlite,
    Postgres,
    Mysql,
}

impl Dialect {
    /// Every dialect, in checksum order: the order of
    /// [`RevisionFile::dialect_sql`].
    pub const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

    /// The name in marker lines.
    pub const fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
            Dialect::Mysql => "mysql",
        }
    }

    /// The position in [`Dialect::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Dialect::Sqlite => 0,
            Dialect::Postgres => 1,
            Dialect::Mysql => 2,
        }
    }
}

/// The section a marker starts: upgrade or downgrade SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Up,
    Down,
}

/// One revision file, parsed and validated: every header value and every
/// section as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionFile {
    /// The full ID, `[0-9A-Za-z_]{1,64}`, case-sensitive.
    pub id: String,
    /// Parent IDs as declared (empty for a root).
    pub parents: Vec<String>,
    /// Free text from the `message` key (empty when absent).
    pub message: String,
    /// The `created` timestamp as written (RFC 3339), if any.
    pub created: Option<String>,
    /// Branch labels.
    pub labels: Vec<String>,
    /// IDs (or branch labels) that must be applied first without being parents.
    pub depends_on: Vec<String>,
    /// IDs of the older revisions this one squashes.
    pub replaces: Vec<String>,
    /// `false` when the SQL must run outside a transaction.
    pub transactional: bool,
    /// The generic upgrade SQL (`-- migrate:up`), markers excluded; `None`
    /// when the file only has dialect up sections.
    pub up: Option<String>,
    /// The generic downgrade SQL, `None` without a `-- migrate:down` section.
    pub down: Option<String>,
    /// The dialect sections, in the order of [`Dialect::ALL`].
    pub dialect_sql: [DialectSql; 3],
    /// Where the header keys are, to point at in messages.
    pub lines: HeaderLines,
}

/// 1-based line numbers of the header keys that graph validation points at
/// (`u32`, as every revision holds one: a line past `u32::MAX` is given as
/// `u32::MAX`; the optional keys' as `NonZeroU32`, so the whole is 20
/// bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeaderLines {
    pub id: u32,
    pub parents: u32,
    pub labels: Option<NonZeroU32>,
    pub depends_on: Option<NonZeroU32>,
    pub replaces: Option<NonZeroU32>,
}

impl HeaderLines {
    /// A line number as held here.
    pub fn line(number: usize) -> u32 {
        u32::try_from(number).unwrap_or(u32::MAX)
    }

    /// The line of an optional key as held here (`None` for line 0, which
    /// no key is on).
    pub fn optional(number: usize) -> Option<NonZeroU32> {
        NonZeroU32::new(HeaderLines::line(number))
    }

    /// The line of an optional key as a number, 0 when absent.
    pub fn number(line: Option<NonZeroU32>) -> usize {
        line.map_or(0, |l| l.get() as usize)
    }
}

/// The sections a revision has for one dialect, replacing the generic ones there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialectSql {
    /// `-- migrate:up <dialect>`.
    pub up: Option<String>,
    /// `-- migrate:down <dialect>`.
    pub down: Option<String>,
}

/// Parses the text of one revision file. `path` is only named in errors.
pub fn parse(path: &Path, text: &str) -> Result<RevisionFile, ParseError> {
    parse::Parser::new(path).parse(text)
}

/// Parses raw file content, rejecting invalid UTF-8 and NUL bytes with the
/// line they are on.
pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<RevisionFile, ParseError> {
    let line_of = |offset: usize| 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ParseError::new(path, Some(line_of(e.valid_up_to())), ParseErrorKind::InvalidUtf8))?;
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(ParseError::new(path, Some(line_of(offset)), ParseErrorKind::NulByte));
    }
    parse(path, text)
}

/// Reads and parses the file `file`, naming it `named` in errors (the
/// command line names files as found, `embed_revisions!` as embedded).
pub fn read(file: &Path, named: &Path) -> Result<RevisionFile, ParseError> {
    let bytes = std::fs::read(file).map_err(|e| ParseError::new(named, None, ParseErrorKind::Io(e.to_string())))?;
    parse_bytes(named, &bytes)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_names_and_order() {
        let names: Vec<_> = Dialect::ALL.iter().map(|d| d.name()).collect();
        assert_eq!(names, ["sqlite", "postgres", "mysql"]);
        for (index, dialect) in Dialect::ALL.iter().enumerate() {
            assert_eq!(dialect.index(), index);
        }
    }

    #[test]
    fn bytes_errors_name_the_line() {
        let e = parse_bytes(Path::new("r.sql"), b"-- id: a\n-- parents:\n\xff\n").unwrap_err();
        assert_eq!((e.line, e.kind), (Some(3), ParseErrorKind::InvalidUtf8));
        let e = parse_bytes(Path::new("r.sql"), b"-- id: a\n-- parents:\n-- migrate:up\n\0").unwrap_err();
        assert_eq!(e.to_string(), "r.sql:4: the file contains a NUL byte");
        assert_eq!((e.line, e.kind), (Some(4), ParseErrorKind::NulByte));
    }

    #[test]
    fn read_names_the_file_as_asked() {
        let missing = Path::new("/nonexistent/migraph-revision/x.sql");
        let e = read(missing, Path::new("revisions/x.sql")).unwrap_err();
        assert_eq!((e.path.as_path(), e.line), (Path::new("revisions/x.sql"), None));
        assert!(matches!(e.kind, ParseErrorKind::Io(_)), "{e}");
        assert!(e.to_string().starts_with("revisions/x.sql: cannot read the file: "), "{e}");
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
        assert_eq!(label_problem("head"), Some("is a reserved target name"));
    }
}
