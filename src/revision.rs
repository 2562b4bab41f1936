//! One revision file: its header, its sections, its checksum.
//!
//! A revision is plain SQL with a header of `-- key: value` comment lines, so
//! every SQL tool can still open and run it. The text is parsed by the
//! `migraph-revision` crate (header keys, section markers, `file:line`
//! errors), the one parser that `embed_revisions!` also runs at compile time;
//! `parse` turns its result into a [`Revision`] and `marker` gives its
//! markers migraph's [`Dialect`] and [`Direction`]. The error types and the
//! ID and label rules are that crate's, re-exported here.
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

use crate::backend::Dialect;
use crate::plan::Direction;

pub use check::{check_dialect, not_for_dialect_message};
pub use marker::{dialect_name, parse_marker, Marker, DIALECTS};
pub(crate) use migraph_revision::location;
pub use migraph_revision::{
    is_valid_id, label_problem, DialectSql, HeaderLines, ParseError, ParseErrorKind, DOWN_MARKER, UP_MARKER,
};

/// One parsed revision file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The full ID, `[0-9A-Za-z_]{1,64}`, case-sensitive.
    pub id: String,
    /// Parent IDs as declared (empty for a root).
    pub parents: Vec<String>,
    /// Free text from the `message` key (empty when absent).
    pub message: String,
    /// The `created` timestamp as written (RFC 3339), if any (a `Box<str>`:
    /// 16 bytes, not 24, in every revision).
    pub created: Option<Box<str>>,
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
    /// The dialect sections (`-- migrate:up postgres`), indexed in the order
    /// of [`DIALECTS`]: sqlite, postgres, mysql.
    pub dialect_sql: DialectSections,
    /// SHA-256 of the normalised sections (see [`checksum_of`]).
    pub checksum: Checksum,
    /// The file it was read from.
    pub path: PathBuf,
    /// Where the header keys are, to point at in messages.
    pub lines: HeaderLines,
    /// Labels, depends-on, replaces and the squashed revisions: read with
    /// [`Revision::labels`], [`Revision::depends_on`],
    /// [`Revision::replaces`] and [`Revision::replaced`], changed with
    /// [`Revision::links_mut`].
    pub(crate) links: LinksSlot,
    /// Whether `up`, `down` and `dialect_sql` hold the file's SQL. A
    /// revision read from its header only (the command line's
    /// [`crate::source::load_headers`]) keeps an empty string for each
    /// section the file has, so presence (`is_reversible`, `up_for(..)
    /// .is_some()`) is right, but its text is not there: it cannot be run
    /// before [`Revision::load_sql`] (the runner loads and verifies it).
    pub(crate) sql_loaded: bool,
}

/// Why the SQL of a revision read from its header only cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SqlError {
    /// The file can no longer be read or parsed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// The file's SQL is not what it was when its header was read.
    #[error(
        "{}: the file changed since migraph read it (checksum {}… is now {}…); nothing ran from it: run the command again",
        .path.display(), &.was[..was.len().min(12)], &.now[..now.len().min(12)]
    )]
    Changed { path: PathBuf, was: String, now: String },
    /// The file's ID or `transaction` key is not what it was when it was read.
    #[error("{}: the file's header changed since migraph read it; nothing ran from it: run the command again", .path.display())]
    Header { path: PathBuf },
}

/// The lists of a revision that link it to others by name: its branch
/// labels, its depends-on and replaces keys, and the revisions it squashes.
/// Most revisions have none, so they are held out of line (a revision
/// without them holds one null pointer: at 100,000 revisions the four
/// lists inline took 9.6 MB).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links {
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
}

/// What a revision without links reads.
static NO_LINKS: Links =
    Links { labels: Vec::new(), depends_on: Vec::new(), replaces: Vec::new(), replaced: Vec::new() };

/// [`Links`] out of line, `None` while every list is empty (equal to an
/// allocated empty one).
#[derive(Debug, Clone, Default)]
pub(crate) struct LinksSlot(Option<Box<Links>>);

impl LinksSlot {
    fn get(&self) -> &Links {
        self.0.as_deref().unwrap_or(&NO_LINKS)
    }
}

impl From<Links> for LinksSlot {
    fn from(links: Links) -> Self {
        LinksSlot((links != NO_LINKS).then(|| Box::new(links)))
    }
}

impl PartialEq for LinksSlot {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for LinksSlot {}

impl Revision {
    /// Branch labels carried by this revision.
    pub fn labels(&self) -> &[String] {
        &self.links.get().labels
    }

    /// IDs that must be applied first without being parents (see
    /// [`Links::depends_on`]).
    pub fn depends_on(&self) -> &[String] {
        &self.links.get().depends_on
    }

    /// IDs of the older revisions this one squashes.
    pub fn replaces(&self) -> &[String] {
        &self.links.get().replaces
    }

    /// The files of the replaced revisions still present (see
    /// [`Links::replaced`]).
    pub fn replaced(&self) -> &[Revision] {
        &self.links.get().replaced
    }

    /// The links, to change (allocated if there were none).
    pub fn links_mut(&mut self) -> &mut Links {
        self.links.0.get_or_insert_with(Box::default)
    }

    /// The depends-on list, to change its IDs; `None` when it is empty, so
    /// rewriting the references of every revision allocates no links for
    /// those without any.
    pub(crate) fn depends_on_mut(&mut self) -> Option<&mut Vec<String>> {
        self.links.0.as_deref_mut().map(|links| &mut links.depends_on).filter(|ids| !ids.is_empty())
    }

    /// Whether the SQL of the file is held (always, except for revisions
    /// read from their header only: see [`Revision::load_sql`]).
    pub fn has_sql(&self) -> bool {
        self.sql_loaded
    }

    /// The revision without its SQL text: each section it has becomes an
    /// empty string, so what it has is still known (see [`Revision::has_sql`]).
    pub(crate) fn without_sql(mut self) -> Revision {
        let mark = |sql: &mut Option<String>| {
            if sql.is_some() {
                *sql = Some(String::new());
            }
        };
        self.up = String::new();
        mark(&mut self.down);
        if !self.dialect_sql.is_empty() {
            for d in self.dialect_sql.iter_mut() {
                mark(&mut d.up);
                mark(&mut d.down);
            }
        }
        self.sql_loaded = false;
        if let Some(links) = &mut self.links.0 {
            links.replaced = std::mem::take(&mut links.replaced).into_iter().map(Revision::without_sql).collect();
        }
        self
    }

    /// Reads the SQL of a revision read from its header only, from its file,
    /// and checks it is the SQL whose checksum was read with the header: a
    /// file edited since is an error naming it, never SQL run silently.
    /// Does nothing when the SQL is already there. Revisions it replaces
    /// (`replaced`) are loaded too.
    pub fn load_sql(&mut self) -> Result<(), SqlError> {
        if let Some(links) = &mut self.links.0 {
            for replaced in &mut links.replaced {
                replaced.load_sql()?;
            }
        }
        if self.sql_loaded {
            return Ok(());
        }
        let file = Revision::read(&self.path)?;
        // What decides how the SQL runs (the graph rewrites some other keys:
        // labels in `depends_on` become IDs, squashes take their parents).
        if (&file.id, file.transactional) != (&self.id, self.transactional) {
            return Err(SqlError::Header { path: self.path.clone() });
        }
        if file.checksum != self.checksum {
            return Err(SqlError::Changed {
                path: self.path.clone(),
                was: self.checksum.to_string(),
                now: file.checksum.to_string(),
            });
        }
        self.up = file.up;
        self.down = file.down;
        self.has_generic_up = file.has_generic_up;
        self.dialect_sql = file.dialect_sql;
        self.sql_loaded = true;
        Ok(())
    }

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
        !self.dialect_sql.is_empty()
    }

    /// Parses the text of one revision file. `path` is only used in errors
    /// and kept in the result.
    pub fn parse(path: &Path, text: &str) -> Result<Revision, ParseError> {
        Ok(parse::revision(path, migraph_revision::parse(path, text)?))
    }

    /// Reads and parses one file.
    pub fn read(path: &Path) -> Result<Revision, ParseError> {
        Ok(parse::revision(path, migraph_revision::read(path, path)?))
    }

    /// Parses raw file content, rejecting invalid UTF-8 and NUL bytes with the line they are on.
    pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Result<Revision, ParseError> {
        Ok(parse::revision(path, migraph_revision::parse_bytes(path, bytes)?))
    }
}

/// The dialect sections of a revision, indexed like [`DIALECTS`] (sqlite,
/// postgres, mysql). Most revisions have none, so they take no memory then:
/// the three slots are allocated when one is first written.
#[derive(Debug, Clone, Default)]
pub struct DialectSections(Option<Box<[DialectSql; 3]>>);

/// The slots of a revision without dialect sections.
static NO_SECTIONS: [DialectSql; 3] = [const { DialectSql { up: None, down: None } }; 3];

impl DialectSections {
    /// Whether no dialect has a section.
    pub fn is_empty(&self) -> bool {
        no_sections(self.as_array())
    }

    /// The three slots, in the order of [`DIALECTS`].
    pub fn as_array(&self) -> &[DialectSql; 3] {
        self.0.as_deref().unwrap_or(&NO_SECTIONS)
    }

    /// The three slots, in the order of [`DIALECTS`].
    pub fn iter(&self) -> std::slice::Iter<'_, DialectSql> {
        self.as_array().iter()
    }

    /// The three slots, mutable (allocated if they were not).
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, DialectSql> {
        self.0.get_or_insert_with(Default::default).iter_mut()
    }
}

impl From<[DialectSql; 3]> for DialectSections {
    fn from(sql: [DialectSql; 3]) -> Self {
        DialectSections((!no_sections(&sql)).then(|| Box::new(sql)))
    }
}

/// Whether none of `slots` has a section.
fn no_sections(slots: &[DialectSql; 3]) -> bool {
    slots.iter().all(|d| d.up.is_none() && d.down.is_none())
}

impl std::ops::Index<usize> for DialectSections {
    type Output = DialectSql;

    fn index(&self, slot: usize) -> &DialectSql {
        &self.as_array()[slot]
    }
}

impl std::ops::IndexMut<usize> for DialectSections {
    fn index_mut(&mut self, slot: usize) -> &mut DialectSql {
        &mut self.0.get_or_insert_with(Default::default)[slot]
    }
}

impl<'a> IntoIterator for &'a DialectSections {
    type Item = &'a DialectSql;
    type IntoIter = std::slice::Iter<'a, DialectSql>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Equal when every slot is (slots never written equal empty ones).
impl PartialEq for DialectSections {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for DialectSections {}

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
    sections_digest(up, down, dialects).to_string()
}

/// [`checksum_of`] as a [`Checksum`].
fn sections_digest(up: &str, down: Option<&str>, dialects: &[DialectSql; 3]) -> Checksum {
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
    Checksum::Sha256(hasher.finalize().into())
}

/// The checksum of a revision: a SHA-256 of its sections (see
/// [`checksum_of`]), held as 32 bytes and shown as 64 lower-case hex digits,
/// or, for a revision rebuilt from a version row, whatever text the row
/// holds (so it is shown and compared exactly as stored).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Checksum {
    Sha256([u8; 32]),
    Other(Box<str>),
}

impl Checksum {
    /// `text` as a checksum: 64 lower-case hex digits are a SHA-256, any
    /// other text is kept as it is.
    pub fn parse(text: &str) -> Checksum {
        let digit = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        let mut bytes = [0u8; 32];
        let sha = text.len() == 64
            && text.as_bytes().chunks(2).zip(&mut bytes).all(|(pair, byte)| match (digit(pair[0]), digit(pair[1])) {
                (Some(high), Some(low)) => {
                    *byte = high << 4 | low;
                    true
                }
                _ => false,
            });
        if sha {
            Checksum::Sha256(bytes)
        } else {
            Checksum::Other(text.into())
        }
    }

    /// The first `n` characters of its text (for messages).
    pub fn short(&self, n: usize) -> String {
        self.to_string().chars().take(n).collect()
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Checksum::Sha256(bytes) => f.write_str(&hex(bytes)),
            Checksum::Other(text) => f.write_str(text),
        }
    }
}

impl PartialEq<str> for Checksum {
    fn eq(&self, text: &str) -> bool {
        match self {
            Checksum::Sha256(_) => Checksum::parse(text) == *self,
            Checksum::Other(own) => **own == *text,
        }
    }
}

impl PartialEq<&str> for Checksum {
    fn eq(&self, text: &&str) -> bool {
        *self == **text
    }
}

impl PartialEq<String> for Checksum {
    fn eq(&self, text: &String) -> bool {
        *self == *text.as_str()
    }
}

impl PartialEq<Checksum> for String {
    fn eq(&self, checksum: &Checksum) -> bool {
        *checksum == *self.as_str()
    }
}

impl From<Checksum> for String {
    fn from(checksum: Checksum) -> String {
        checksum.to_string()
    }
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
        assert_eq!(r.labels(), ["accounts"]);
        assert_eq!(r.depends_on(), ["0c4a77d1e2f3"]);
        assert!(r.transactional);
        assert_eq!(r.up, "CREATE TABLE users (id BIGINT PRIMARY KEY);\n\n");
        assert_eq!(r.down.as_deref(), Some("DROP TABLE users;\n"));
        assert_eq!(
            (r.lines.id, r.lines.parents, r.lines.labels, r.lines.depends_on),
            (1, 2, HeaderLines::optional(5), HeaderLines::optional(6))
        );
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
        assert_eq!(a.checksum.to_string().len(), 64);
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

    /// The parser's errors come through with the file's path and line.
    #[test]
    fn errors_name_the_file_and_line() {
        let e = Revision::parse(Path::new("revisions/b.sql"), "-- id: b\n-- parnts: a\n").unwrap_err();
        assert_eq!((e.line, e.kind), (Some(2), ParseErrorKind::UnknownKey("parnts".into())));
        let e = Revision::parse_bytes(Path::new("r.sql"), b"-- id: a\n-- parents:\n-- migrate:up\n\0").unwrap_err();
        assert_eq!(e.to_string(), "r.sql:4: the file contains a NUL byte");
        let missing = Path::new("/nonexistent/migraph/r.sql");
        let e = Revision::read(missing).unwrap_err();
        assert_eq!((e.path.as_path(), e.line, matches!(e.kind, ParseErrorKind::Io(_))), (missing, None, true));
        let e = parse("-- id: a\n-- parents:\n-- migrate:up\n-- Migrate:Down\n").unwrap_err();
        assert!(e.to_string().starts_with("r.sql:4: `-- Migrate:Down` is not a section marker: did you mean"), "{e}");
        assert_eq!(location(Path::new("r.sql"), Some(3)), "r.sql:3");
    }

    #[test]
    fn read_parses_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sql");
        std::fs::write(&path, FULL).unwrap();
        let r = Revision::read(&path).unwrap();
        assert_eq!((r.path, r.checksum), (path, parse(FULL).unwrap().checksum));
    }

    /// A checksum is 32 bytes when it is a SHA-256 and the exact text of a
    /// version row otherwise; both compare with text as the text they show.
    #[test]
    fn checksums_keep_their_text() {
        let sha = checksum("SELECT 1;", None);
        let c = Checksum::parse(&sha);
        assert!(matches!(c, Checksum::Sha256(_)));
        assert_eq!((c.to_string(), c.short(12)), (sha.clone(), sha[..12].to_string()));
        assert_eq!(c, sha);
        assert_eq!(sha, c);
        assert_eq!(c, sha.as_str());
        let mut other = sha.clone();
        other.replace_range(63.., if sha.ends_with('0') { "1" } else { "0" });
        assert_ne!(c, other);
        assert_ne!(other, c);
        for text in
            [sha.to_uppercase(), sha[..63].to_string(), format!("{sha}0"), "x".into(), String::new(), "é".repeat(32)]
        {
            let kept = Checksum::parse(&text);
            assert!(matches!(kept, Checksum::Other(_)), "{text}");
            assert_eq!(kept.to_string(), text);
            assert!(kept == text && c != text, "{text}");
        }
        assert_ne!(Checksum::parse(&sha.to_uppercase()), sha, "case counts, as it did for text");
    }

    /// A revision without dialect sections holds none; one written through
    /// `IndexMut` gets all three slots; equality looks at the slots only.
    #[test]
    fn dialect_sections_take_no_memory_when_absent() {
        let r = parse(FULL).unwrap();
        let plain = parse("-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\n").unwrap();
        assert!(plain.dialect_sql.is_empty() && plain.dialect_sql.iter().count() == 3);
        assert!(plain.dialect_sql.iter().all(|d| d.up.is_none() && d.down.is_none()));
        assert_eq!(plain.dialect_sql, DialectSections::from(<[DialectSql; 3]>::default()));
        let mut written = DialectSections::default();
        written[1].up = Some("SELECT 2;".into());
        assert!(!written.is_empty() && written[0].up.is_none() && written[2].down.is_none());
        assert_eq!(written.as_array()[1].up.as_deref(), Some("SELECT 2;"));
        let mut cleared = written.clone();
        cleared.iter_mut().for_each(|d| d.up = None);
        assert_eq!(cleared, DialectSections::default(), "emptied slots equal absent ones");
        assert_eq!(r.dialect_sql.is_empty(), !r.has_dialect_sections());
        assert_eq!(plain.clone().without_sql().dialect_sql, DialectSections::default());
        // What every revision of a long history costs in memory (it was 512
        // bytes, then 352 with the four lists of links inline).
        assert!(std::mem::size_of::<Revision>() <= 240, "{}", std::mem::size_of::<Revision>());
    }

    #[test]
    fn links_take_no_memory_when_absent_and_read_as_written() {
        let plain = parse("-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\n").unwrap();
        assert!(plain.links.0.is_none(), "no lists: no allocation");
        assert!(plain.labels().is_empty() && plain.depends_on().is_empty() && plain.replaces().is_empty());
        let linked =
            parse("-- id: b\n-- parents: a\n-- labels: x y\n-- depends-on: c\n-- replaces: d\n-- migrate:up\n")
                .unwrap();
        assert_eq!(
            (linked.labels(), linked.depends_on(), linked.replaces()),
            (&["x".into(), "y".into()][..], &["c".into()][..], &["d".into()][..])
        );
        assert!(linked.replaced().is_empty());
        assert_eq!(linked.lines.replaces, HeaderLines::optional(5));
        // Rewriting depends-on gives no links to a revision without any.
        let mut unlinked = plain.clone();
        assert!(unlinked.depends_on_mut().is_none() && unlinked.links.0.is_none());
        let mut relinked = linked.clone();
        relinked.depends_on_mut().expect("a depends-on list")[0] = "e".into();
        assert_eq!(relinked.depends_on(), ["e"]);
        // Emptied links equal absent ones; changed ones do not.
        let mut touched = plain.clone();
        touched.links_mut().labels.push("z".into());
        assert_ne!(touched, plain);
        assert_eq!(touched.labels(), ["z"]);
        touched.links_mut().labels.clear();
        assert!(touched.links.0.is_some());
        assert_eq!(touched, plain, "emptied links equal absent ones");
    }
}
