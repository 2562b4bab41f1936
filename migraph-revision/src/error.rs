//! What can be wrong in one revision file, and where: every message starts
//! with `path:line` (or `path` when the problem is the whole file).

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::{DOWN_MARKER, UP_MARKER};

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
    pub(crate) fn new(path: &Path, line: Option<usize>, kind: ParseErrorKind) -> Self {
        ParseError { path: path.to_path_buf(), line, kind }
    }
}

/// `path:line` or `path`.
pub fn location(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    }
}

/// The `did you mean` part of [`ParseErrorKind::NearMissMarker`].
fn suggested(found: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        None => format!("`{UP_MARKER}` or `{DOWN_MARKER}`"),
        Some(s) if found.starts_with(char::is_whitespace) => format!("`{s}` at the start of the line"),
        Some(s) => format!("`{s}`"),
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
