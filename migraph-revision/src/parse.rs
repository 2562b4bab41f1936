//! Parsing one revision file: the header keys, then the sections.
//!
//! The header is the run of `-- key: value` lines at the top of the file
//! (blank lines allowed); the first other line ends it. Parsing is strict
//! because a typo in a header key would otherwise silently change the graph:
//! an unknown or repeated key is an error that names the file and line.
//! Every line, header included, is first checked by [`parse_marker`], so a
//! mistyped marker is an error wherever it is.

use std::path::Path;

use crate::{
    is_valid_id, label_problem, parse_marker, DialectSql, Direction, HeaderLines, Marker, ParseError, ParseErrorKind,
    RevisionFile,
};

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
    Replaces,
}

impl Key {
    const ALL: [Key; 8] = [
        Key::Id,
        Key::Parents,
        Key::Message,
        Key::Created,
        Key::Labels,
        Key::DependsOn,
        Key::Transaction,
        Key::Replaces,
    ];

    fn name(self) -> &'static str {
        match self {
            Key::Id => "id",
            Key::Parents => "parents",
            Key::Message => "message",
            Key::Created => "created",
            Key::Labels => "labels",
            Key::DependsOn => "depends-on",
            Key::Transaction => "transaction",
            Key::Replaces => "replaces",
        }
    }
}

/// Which part of the file a line belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Header,
    Preamble,
    Section(Marker),
}

/// The body of every section seen, with the line of its marker:
/// `[direction][0 = generic, 1 + dialect slot]`.
type Bodies = [[Option<(usize, String)>; 4]; 2];

fn index(marker: Marker) -> (usize, usize) {
    let direction = match marker.direction {
        Direction::Up => 0,
        Direction::Down => 1,
    };
    (direction, marker.dialect.map_or(0, |d| 1 + d.index()))
}

pub(crate) struct Parser<'p> {
    path: &'p Path,
    seen: [Option<usize>; 8],
    values: [String; 8],
}

impl<'p> Parser<'p> {
    pub(crate) fn new(path: &'p Path) -> Self {
        Parser { path, seen: [None; 8], values: Default::default() }
    }

    fn err(&self, line: Option<usize>, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.path, line, kind)
    }

    pub(crate) fn parse(mut self, text: &str) -> Result<RevisionFile, ParseError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut part = Part::Header;
        let mut bodies: Bodies = Default::default();
        for (index, line) in text.lines().enumerate() {
            let number = index + 1;
            // A CR inside a line ends it for some databases (a PostgreSQL `--`
            // comment stops there) but not for this parser: refuse it.
            if line.trim_end().contains('\r') {
                return Err(self.err(Some(number), ParseErrorKind::CarriageReturn));
            }
            if let Some(marker) = parse_marker(line).map_err(|kind| self.err(Some(number), kind))? {
                let (d, s) = self::index(marker);
                if let Some((first, _)) = &bodies[d][s] {
                    let kind = ParseErrorKind::RepeatedSection { marker: marker.line(), first: *first };
                    return Err(self.err(Some(number), kind));
                }
                bodies[d][s] = Some((number, String::new()));
                part = Part::Section(marker);
                continue;
            }
            let trimmed = line.trim();
            match part {
                Part::Header => {
                    if trimmed.is_empty() {
                        continue;
                    }
                    match header_line(trimmed) {
                        Some((key, value)) => self.header(number, key, value)?,
                        None => {
                            part = Part::Preamble;
                            self.preamble(number, trimmed)?;
                        }
                    }
                }
                Part::Preamble => self.preamble(number, trimmed)?,
                Part::Section(marker) => {
                    let (d, s) = self::index(marker);
                    if let Some((_, body)) = &mut bodies[d][s] {
                        body.push_str(line);
                        body.push('\n');
                    }
                }
            }
        }
        self.finish(bodies)
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
            // depends-on may also name a branch label (the graph resolves it).
            let label = key == Key::DependsOn && label_problem(id).is_none();
            if !is_valid_id(id) && !label {
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

    fn finish(self, bodies: Bodies) -> Result<RevisionFile, ParseError> {
        let (id, id_line) = self.value(Key::Id);
        let id_line = id_line.ok_or_else(|| self.err(None, ParseErrorKind::MissingId))?;
        if !is_valid_id(id) {
            return Err(self.err(Some(id_line), ParseErrorKind::InvalidId(id.to_string())));
        }
        let parents_line = self.value(Key::Parents).1.ok_or_else(|| self.err(None, ParseErrorKind::MissingParents))?;
        // "An up section is required": at least one, generic or for a dialect.
        if bodies[0].iter().all(Option::is_none) {
            return Err(self.err(None, ParseErrorKind::MissingUp));
        }
        let parents = self.ids(Key::Parents)?;
        let depends_on = self.ids(Key::DependsOn)?;
        let replaces = self.ids(Key::Replaces)?;
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
        let [ups, downs] = bodies.map(|row| row.map(|body| body.map(|(_, sql)| sql)));
        let [up, up_dialects @ ..] = ups;
        let [down, down_dialects @ ..] = downs;
        let mut dialect_sql: [DialectSql; 3] = Default::default();
        for ((sql, up), down) in dialect_sql.iter_mut().zip(up_dialects).zip(down_dialects) {
            *sql = DialectSql { up, down };
        }
        Ok(RevisionFile {
            id: id.to_string(),
            parents,
            message: self.value(Key::Message).0.to_string(),
            created,
            labels,
            depends_on,
            replaces,
            transactional,
            up,
            down,
            dialect_sql,
            lines: HeaderLines {
                id: HeaderLines::line(id_line),
                parents: HeaderLines::line(parents_line),
                labels: labels_line.and_then(HeaderLines::optional),
                depends_on: self.value(Key::DependsOn).1.and_then(HeaderLines::optional),
                replaces: self.value(Key::Replaces).1.and_then(HeaderLines::optional),
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
    use std::path::Path;

    use crate::{Dialect, DialectSql, HeaderLines, ParseError, ParseErrorKind, RevisionFile, UP_MARKER};

    fn parse(text: &str) -> Result<RevisionFile, ParseError> {
        crate::parse(Path::new("r.sql"), text)
    }

    fn kind(text: &str) -> (Option<usize>, ParseErrorKind) {
        let e = parse(text).unwrap_err();
        (e.line, e.kind)
    }

    const HEAD: &str = "-- id: a\n-- parents:\n";

    const FULL: &str = "-- id: 5f1c0e9a2b7d\n-- parents: 1a2b3c4d5e6f 9e8d7c6b5a4f\n-- message: add users table\n\
        -- created: 2026-11-21T10:42:00Z\n-- labels: accounts\n-- depends-on: 0c4a77d1e2f3 billing\n\
        -- transaction: false\n-- replaces: 0a 0b\n\n\
        -- migrate:up\nCREATE TABLE users (id BIGINT PRIMARY KEY);\n\n-- migrate:down\nDROP TABLE users;\n";

    /// A file with `marker` meant as the down marker between the up and the down SQL.
    fn with_down_marker(marker: &str) -> String {
        format!("{HEAD}-- migrate:up\nCREATE TABLE t (x INT);\n{marker}\nDROP TABLE t;\n")
    }

    #[test]
    fn every_key_and_its_line() {
        let r = parse(FULL).unwrap();
        assert_eq!(r.id, "5f1c0e9a2b7d");
        assert_eq!(r.parents, ["1a2b3c4d5e6f", "9e8d7c6b5a4f"]);
        assert_eq!(r.message, "add users table");
        assert_eq!(r.created.as_deref(), Some("2026-11-21T10:42:00Z"));
        assert_eq!(r.labels, ["accounts"]);
        assert_eq!(r.depends_on, ["0c4a77d1e2f3", "billing"], "depends-on may name a label");
        assert_eq!(r.replaces, ["0a", "0b"]);
        assert!(!r.transactional);
        assert_eq!(r.up.as_deref(), Some("CREATE TABLE users (id BIGINT PRIMARY KEY);\n\n"));
        assert_eq!(r.down.as_deref(), Some("DROP TABLE users;\n"));
        assert_eq!(r.dialect_sql, <[DialectSql; 3]>::default());
        let lines = HeaderLines {
            id: 1,
            parents: 2,
            labels: HeaderLines::optional(5),
            depends_on: HeaderLines::optional(6),
            replaces: HeaderLines::optional(8),
        };
        assert_eq!(r.lines, lines);
        // A byte order mark is not part of the first line.
        assert_eq!(parse(&format!("\u{feff}{FULL}")).unwrap(), r);
        let minimal = parse(&format!("{HEAD}-- migrate:up\nSELECT 1;\n")).unwrap();
        assert!(minimal.transactional && minimal.down.is_none() && minimal.created.is_none());
    }

    #[test]
    fn sections_by_dialect() {
        let text = format!(
            "{HEAD}-- migrate:up\nA;\n-- migrate:down\nB;\n-- migrate:up postgres\nC;\n-- migrate:up sqlite\nD;\n\
             -- migrate:down mysql\n"
        );
        let r = parse(&text).unwrap();
        assert_eq!((r.up.as_deref(), r.down.as_deref()), (Some("A;\n"), Some("B;\n")));
        let by_dialect = |d: Dialect| &r.dialect_sql[d.index()];
        assert_eq!(by_dialect(Dialect::Sqlite), &DialectSql { up: Some("D;\n".into()), down: None });
        assert_eq!(by_dialect(Dialect::Postgres), &DialectSql { up: Some("C;\n".into()), down: None });
        assert_eq!(by_dialect(Dialect::Mysql), &DialectSql { up: None, down: Some(String::new()) });
        // Only a dialect up section is an up section; a down section alone is not.
        let r = parse(&format!("{HEAD}-- migrate:up postgres\nSELECT 1;\n")).unwrap();
        assert_eq!((r.up, r.dialect_sql[1].up.as_deref()), (None, Some("SELECT 1;\n")));
        assert_eq!(kind(&format!("{HEAD}-- migrate:down\n")), (None, ParseErrorKind::MissingUp));
    }

    #[test]
    fn near_miss_markers_fail_on_their_line() {
        for marker in [
            "--migrate:down",
            "-- migrate: down",
            "-- Migrate:Down",
            "--  migrate:down",
            "-- migrate:down  -- undo",
            "  -- migrate:down",
            "\t-- migrate:down",
            "-- migrate:down\t-- undo",
        ] {
            let e = parse(&with_down_marker(marker)).unwrap_err();
            assert_eq!(e.line, Some(5), "{marker:?}: {e}");
            assert!(
                matches!(&e.kind, ParseErrorKind::NearMissMarker { suggestion: Some(s), .. } if s == "-- migrate:down"),
                "{marker:?}: {e}"
            );
            let text = e.to_string();
            assert!(text.starts_with("r.sql:5: `"), "{text}");
            let indented = marker.starts_with(char::is_whitespace);
            let expected = if indented { "`-- migrate:down` at the start of the line?" } else { "`-- migrate:down`?" };
            assert!(text.contains(&format!("did you mean {expected}")), "{text}");
        }
        let e = parse(&with_down_marker("-- Migrate:Down postgres")).unwrap_err();
        assert!(e.to_string().contains("did you mean `-- migrate:down postgres`?"), "{e}");
        let e = parse(&with_down_marker("-- migrate:up oracle")).unwrap_err();
        assert_eq!(e.line, Some(5));
        assert_eq!(
            e.kind,
            ParseErrorKind::UnknownDialect { found: "-- migrate:up oracle".into(), dialect: "oracle".into() }
        );
    }

    #[test]
    fn trailing_whitespace_after_a_marker_is_allowed() {
        for marker in ["-- migrate:down ", "-- migrate:down\t", "-- migrate:down \r"] {
            let r = parse(&with_down_marker(marker)).unwrap();
            assert_eq!(r.up.as_deref(), Some("CREATE TABLE t (x INT);\n"), "{marker:?}");
            assert_eq!(r.down.as_deref(), Some("DROP TABLE t;\n"), "{marker:?}");
        }
    }

    #[test]
    fn markers_in_the_header_area() {
        // A near miss is an error there too, not an unknown header key.
        let e = parse(&format!("{HEAD}-- migrate: up\nSELECT 1;\n")).unwrap_err();
        assert_eq!((e.line, e.kind.to_string().contains("did you mean `-- migrate:up`?")), (Some(3), true), "{e}");
        let e = parse("-- id: a\n-- Migrate:Up\n-- parents:\nSELECT 1;\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        // A real marker ends the header: later keys are SQL comments, so `parents` is missing.
        assert_eq!(kind("-- id: a\n-- migrate:up\n-- parents:\n"), (None, ParseErrorKind::MissingParents));
    }

    #[test]
    fn repeated_sections() {
        assert_eq!(
            kind(&format!("{HEAD}-- migrate:up\nSELECT 1;\n-- migrate:up\n")),
            (Some(5), ParseErrorKind::RepeatedSection { marker: UP_MARKER.into(), first: 3 })
        );
        let text =
            format!("{HEAD}-- migrate:up postgres\nSELECT 1;\n-- migrate:down postgres\n-- migrate:up postgres\n");
        let e = parse(&text).unwrap_err();
        assert_eq!(e.to_string(), "r.sql:6: `-- migrate:up postgres` appears twice (first on line 3)");
        assert_eq!(
            (e.line, e.kind),
            (Some(6), ParseErrorKind::RepeatedSection { marker: "-- migrate:up postgres".into(), first: 3 })
        );
    }

    #[test]
    fn carriage_returns_inside_lines_are_refused() {
        // PostgreSQL ends the comment at the CR and would run the DROP on upgrade.
        assert_eq!(
            kind(&format!("{HEAD}-- migrate:up\nSELECT 1; -- x\rDROP TABLE t;\n")),
            (Some(4), ParseErrorKind::CarriageReturn)
        );
        assert_eq!(
            kind("-- id: b\r-- parents: a\r-- migrate:up\rSELECT 1;\r"),
            (Some(1), ParseErrorKind::CarriageReturn)
        );
        // CRLF and trailing CRs are line ends, not content.
        assert!(parse(&format!("{HEAD}-- migrate:up\r\nSELECT 1;\r\r\n")).is_ok());
    }

    #[test]
    fn header_errors_name_the_line() {
        assert_eq!(
            kind("-- id: a\n-- parents:\n-- colour: red\n-- migrate:up\n"),
            (Some(3), ParseErrorKind::UnknownKey("colour".into()))
        );
        let e = parse("-- id: b\n-- parnts: a\n").unwrap_err();
        assert!(e.to_string().starts_with("r.sql:2: unknown header key `parnts` (known keys: id, parents,"), "{e}");
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
        assert_eq!(
            kind("-- id: a\n-- parents: b-c\n-- migrate:up\n"),
            (Some(2), ParseErrorKind::InvalidId("b-c".into()))
        );
        assert_eq!(
            kind("-- id: a\n-- parents: b b\n-- migrate:up\n"),
            (Some(2), ParseErrorKind::DuplicateReference { key: "parents", id: "b".into() })
        );
        assert_eq!(
            kind("-- id: a\n-- parents:\n-- created: yesterday\n-- migrate:up\n"),
            (Some(3), ParseErrorKind::InvalidCreated("yesterday".into()))
        );
        assert_eq!(
            kind("-- id: a\n-- parents:\n-- transaction: maybe\n-- migrate:up\n"),
            (Some(3), ParseErrorKind::InvalidTransaction("maybe".into()))
        );
        for (labels, why) in [("head", "is a reserved target name"), ("x@y", "may only contain")] {
            let (line, kind) = kind(&format!("{HEAD}-- labels: {labels}\n-- migrate:up\n"));
            assert_eq!(line, Some(3));
            assert!(
                matches!(&kind, ParseErrorKind::InvalidLabel { label, why: w } if label == labels && w.starts_with(why))
            );
        }
        assert_eq!(
            kind(&format!("{HEAD}-- labels: x x\n-- migrate:up\n")),
            (Some(3), ParseErrorKind::DuplicateReference { key: "labels", id: "x".into() })
        );
    }

    #[test]
    fn section_errors() {
        assert_eq!(kind(HEAD), (None, ParseErrorKind::MissingUp));
        assert_eq!(
            kind(&format!("{HEAD}DROP TABLE x;\n-- migrate:up\n")),
            (Some(3), ParseErrorKind::SqlOutsideSection)
        );
        // Comments between header and sections are fine and end the header.
        let r = parse(&format!("{HEAD}-- just a note\n-- Note: fine\n-- migrate:up\nSELECT 1;\n")).unwrap();
        assert_eq!(r.up.as_deref(), Some("SELECT 1;\n"));
        // ... but a known key after such a comment is an error, not a comment.
        assert_eq!(
            kind(&format!("{HEAD}-- a note\n-- depends-on: b\n-- migrate:up\n")),
            (Some(4), ParseErrorKind::KeyAfterHeader("depends-on".into()))
        );
        let r = parse(&format!("{HEAD}-- transaction : false\n-- migrate:up\n")).unwrap();
        assert!(!r.transactional, "a space before the colon still makes a header line");
    }
}
