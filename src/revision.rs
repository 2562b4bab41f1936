//! One revision file: its header, its up and down sections, its checksum.
//!
//! A revision is plain SQL with a header of `-- key: value` comment lines, so
//! every SQL tool can still open and run it. The header is the run of such
//! lines at the top of the file (blank lines allowed); the first other line
//! ends it. Parsing is strict because a typo in a header key would otherwise
//! silently change the graph: an unknown or repeated key is an error that
//! names the file and line.
//!
//! The checksum covers only the SQL, normalised so that line endings, trailing
//! whitespace and trailing blank lines do not count: editing the message does
//! not change it, editing a statement does.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

/// The marker line that starts the upgrade SQL.
pub const UP_MARKER: &str = "-- migrate:up";
/// The marker line that starts the downgrade SQL.
pub const DOWN_MARKER: &str = "-- migrate:down";

/// One parsed revision file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The full ID, `[0-9a-z_]{1,64}`.
    pub id: String,
    /// Parent IDs as declared (empty for a root).
    pub parents: Vec<String>,
    /// Free text from the `message` key (empty when absent).
    pub message: String,
    /// The `created` timestamp as written (RFC 3339), if any.
    pub created: Option<String>,
    /// Branch labels carried by this revision.
    pub labels: Vec<String>,
    /// IDs that must be applied first without being parents.
    pub depends_on: Vec<String>,
    /// `false` when the SQL must run outside a transaction.
    pub transactional: bool,
    /// The upgrade SQL as written (markers excluded).
    pub up: String,
    /// The downgrade SQL, `None` when the file has no down section (irreversible).
    pub down: Option<String>,
    /// SHA-256 (hex) of the normalised up and down sections.
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
}

impl Revision {
    /// Whether the revision can be unapplied.
    pub fn is_reversible(&self) -> bool {
        self.down.is_some()
    }

    /// Parses the text of one revision file. `path` is only used in errors
    /// and kept in the result.
    pub fn parse(path: &Path, text: &str) -> Result<Revision, ParseError> {
        Parser::new(path).parse(text)
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

/// Whether `id` is a valid revision ID: `[0-9a-z_]{1,64}`.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'_')
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

/// The checksum of a revision's SQL: SHA-256 (hex) over the normalised up
/// section and, when present, the normalised down section.
pub fn checksum(up: &str, down: Option<&str>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(UP_MARKER.as_bytes());
    hasher.update(b"\n");
    hasher.update(normalise(up).as_bytes());
    if let Some(down) = down {
        hasher.update(b"\n");
        hasher.update(DOWN_MARKER.as_bytes());
        hasher.update(b"\n");
        hasher.update(normalise(down).as_bytes());
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
    #[error("unknown header key `{0}` (known keys: id, parents, message, created, labels, depends-on, transaction)")]
    UnknownKey(String),
    #[error("header key `{key}` repeated (first on line {first})")]
    RepeatedKey { key: String, first: usize },
    #[error("missing `-- id:` header line")]
    MissingId,
    #[error("missing `-- parents:` header line (leave it empty for a root revision)")]
    MissingParents,
    #[error("invalid revision ID `{0}`: IDs are 1 to 64 characters of `0-9`, `a-z` and `_`")]
    InvalidId(String),
    #[error("`{key}` lists `{id}` twice")]
    DuplicateReference { key: &'static str, id: String },
    #[error("invalid label `{label}`: a label {why}")]
    InvalidLabel { label: String, why: &'static str },
    #[error("`created` is not an RFC 3339 timestamp: `{0}`")]
    InvalidCreated(String),
    #[error("`transaction` must be `true` or `false`, not `{0}`")]
    InvalidTransaction(String),
    #[error("missing `{UP_MARKER}` section")]
    MissingUp,
    #[error("`{0}` appears twice")]
    RepeatedSection(&'static str),
    #[error("SQL before `{UP_MARKER}`: statements must be inside a section")]
    SqlOutsideSection,
    #[error("header key `{0}` after the header ended (a comment line ends it): move it up with the other keys")]
    KeyAfterHeader(String),
}

/// The header keys a revision file may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Id,
    Parents,
    Message,
    Created,
    Labels,
    DependsOn,
    Transaction,
}

impl Key {
    const ALL: [Key; 7] =
        [Key::Id, Key::Parents, Key::Message, Key::Created, Key::Labels, Key::DependsOn, Key::Transaction];

    fn name(self) -> &'static str {
        match self {
            Key::Id => "id",
            Key::Parents => "parents",
            Key::Message => "message",
            Key::Created => "created",
            Key::Labels => "labels",
            Key::DependsOn => "depends-on",
            Key::Transaction => "transaction",
        }
    }
}

/// Which part of the file a line belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Header,
    Preamble,
    Up,
    Down,
}

struct Parser<'p> {
    path: &'p Path,
    seen: [Option<usize>; 7],
    values: [String; 7],
}

impl<'p> Parser<'p> {
    fn new(path: &'p Path) -> Self {
        Parser { path, seen: [None; 7], values: Default::default() }
    }

    fn err(&self, line: Option<usize>, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.path, line, kind)
    }

    fn parse(mut self, text: &str) -> Result<Revision, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut section = Section::Header;
        let (mut up, mut down): (Option<String>, Option<String>) = (None, None);
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            let trimmed = line.trim();
            if trimmed == UP_MARKER || trimmed == DOWN_MARKER {
                let (slot, marker, next) = if trimmed == UP_MARKER {
                    (&mut up, UP_MARKER, Section::Up)
                } else {
                    (&mut down, DOWN_MARKER, Section::Down)
                };
                if slot.is_some() {
                    return Err(self.err(Some(number), ParseErrorKind::RepeatedSection(marker)));
                }
                *slot = Some(String::new());
                section = next;
                continue;
            }
            match section {
                Section::Header => {
                    if trimmed.is_empty() {
                        continue;
                    }
                    match header_line(trimmed) {
                        Some((key, value)) => self.header(number, key, value)?,
                        None => {
                            section = Section::Preamble;
                            self.preamble(number, trimmed)?;
                        }
                    }
                }
                Section::Preamble => self.preamble(number, trimmed)?,
                Section::Up | Section::Down => {
                    let body = if section == Section::Up { &mut up } else { &mut down };
                    if let Some(body) = body {
                        body.push_str(line);
                        body.push('\n');
                    }
                }
            }
        }
        self.finish(up, down)
    }

    /// Lines between the header and the first section may only be comments,
    /// and not ones that look like a header key: after a comment ends the
    /// header, a `-- depends-on:` line would otherwise be silently ignored.
    fn preamble(&self, number: usize, trimmed: &str) -> Result<(), ParseError> {
        if let Some((key, _)) = header_line(trimmed).filter(|(key, _)| Key::ALL.iter().any(|k| k.name() == *key)) {
            return Err(self.err(Some(number), ParseErrorKind::KeyAfterHeader(key.to_string())));
        }
        if trimmed.is_empty() || trimmed.starts_with("--") {
            Ok(())
        } else {
            Err(self.err(Some(number), ParseErrorKind::SqlOutsideSection))
        }
    }

    fn header(&mut self, number: usize, key: &str, value: &str) -> Result<(), ParseError> {
        let Some(k) = Key::ALL.iter().position(|k| k.name() == key) else {
            return Err(self.err(Some(number), ParseErrorKind::UnknownKey(key.to_string())));
        };
        if let Some(first) = self.seen[k] {
            return Err(self.err(Some(number), ParseErrorKind::RepeatedKey { key: key.to_string(), first }));
        }
        self.seen[k] = Some(number);
        self.values[k] = value.to_string();
        Ok(())
    }

    fn value(&self, key: Key) -> (&str, Option<usize>) {
        let k = key as usize;
        (self.values[k].as_str(), self.seen[k])
    }

    /// Space-separated IDs of `key`, each validated, none repeated.
    fn ids(&self, key: Key) -> Result<Vec<String>, ParseError> {
        let (value, line) = self.value(key);
        let mut ids: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for id in value.split_whitespace() {
            if !is_valid_id(id) {
                return Err(self.err(line, ParseErrorKind::InvalidId(id.to_string())));
            }
            if !seen.insert(id) {
                let kind = ParseErrorKind::DuplicateReference { key: key.name(), id: id.to_string() };
                return Err(self.err(line, kind));
            }
            ids.push(id.to_string());
        }
        Ok(ids)
    }

    fn finish(self, up: Option<String>, down: Option<String>) -> Result<Revision, ParseError> {
        let (id, id_line) = self.value(Key::Id);
        let id_line = id_line.ok_or_else(|| self.err(None, ParseErrorKind::MissingId))?;
        if !is_valid_id(id) {
            return Err(self.err(Some(id_line), ParseErrorKind::InvalidId(id.to_string())));
        }
        let parents_line = self.value(Key::Parents).1.ok_or_else(|| self.err(None, ParseErrorKind::MissingParents))?;
        let up = up.ok_or_else(|| self.err(None, ParseErrorKind::MissingUp))?;
        let parents = self.ids(Key::Parents)?;
        let depends_on = self.ids(Key::DependsOn)?;
        let (labels_text, labels_line) = self.value(Key::Labels);
        let mut labels: Vec<String> = Vec::new();
        for label in labels_text.split_whitespace() {
            if let Some(why) = label_problem(label) {
                return Err(self.err(labels_line, ParseErrorKind::InvalidLabel { label: label.to_string(), why }));
            }
            if labels.iter().any(|l| l == label) {
                let kind = ParseErrorKind::DuplicateReference { key: "labels", id: label.to_string() };
                return Err(self.err(labels_line, kind));
            }
            labels.push(label.to_string());
        }
        let created = match self.value(Key::Created) {
            (_, None) => None,
            (text, line) => {
                let format = &time::format_description::well_known::Rfc3339;
                if time::OffsetDateTime::parse(text, format).is_err() {
                    return Err(self.err(line, ParseErrorKind::InvalidCreated(text.to_string())));
                }
                Some(text.to_string())
            }
        };
        let transactional = match self.value(Key::Transaction) {
            (_, None) | ("true", _) => true,
            ("false", _) => false,
            (other, line) => return Err(self.err(line, ParseErrorKind::InvalidTransaction(other.to_string()))),
        };
        let checksum = checksum(&up, down.as_deref());
        Ok(Revision {
            id: id.to_string(),
            parents,
            message: self.value(Key::Message).0.to_string(),
            created,
            labels,
            depends_on,
            transactional,
            up,
            down,
            checksum,
            path: self.path.to_path_buf(),
            lines: HeaderLines {
                id: id_line,
                parents: parents_line,
                labels: labels_line,
                depends_on: self.value(Key::DependsOn).1,
            },
        })
    }
}

/// Splits `-- key: value` (value may be empty) into key and trimmed value.
fn header_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix("--")?.trim_start();
    let colon = rest.find(':')?;
    let key = rest[..colon].trim_end(); // `-- transaction : false` is a header line too
    let value = &rest[colon + 1..];
    let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    // `key:value` without a space is not a header line (it could be `-- migrate:up`-like text).
    let spaced = value.is_empty() || value.starts_with([' ', '\t']);
    (key_ok && spaced).then(|| (key, value.trim()))
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
        assert_eq!(kind("-- id: A\n-- parents:\n-- migrate:up\n"), (Some(1), ParseErrorKind::InvalidId("A".into())));
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
        assert_eq!(kind("-- id: a\n-- parents:\n-- migrate:up\n-- migrate:up\n").0, Some(4));
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
