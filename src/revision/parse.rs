//! Parsing one revision file: the header keys, then the sections.
//!
//! The header is the run of `-- key: value` lines at the top of the file
//! (blank lines allowed); the first other line ends it. Parsing is strict
//! because a typo in a header key would otherwise silently change the graph:
//! an unknown or repeated key is an error that names the file and line.
//! Every line, header included, is first checked by [`parse_marker`], so a
//! mistyped marker is an error wherever it is.

use std::path::Path;

use crate::plan::Direction;

use super::marker::{parse_marker, Marker, DIALECTS};
use super::{checksum_of, is_valid_id, label_problem, DialectSql, HeaderLines, ParseError, ParseErrorKind, Revision};

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
    (direction, marker.dialect.map_or(0, |d| 1 + super::marker::slot(d)))
}

pub(super) struct Parser<'p> {
    path: &'p Path,
    seen: [Option<usize>; 8],
    values: [String; 8],
}

impl<'p> Parser<'p> {
    pub(super) fn new(path: &'p Path) -> Self {
        Parser { path, seen: [None; 8], values: Default::default() }
    }

    fn err(&self, line: Option<usize>, kind: ParseErrorKind) -> ParseError {
        ParseError::new(self.path, line, kind)
    }

    pub(super) fn parse(mut self, text: &str) -> Result<Revision, ParseError> {
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

    fn finish(self, bodies: Bodies) -> Result<Revision, ParseError> {
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
        for (slot, sql) in dialect_sql.iter_mut().enumerate() {
            *sql = DialectSql { up: up_dialects[slot].clone(), down: down_dialects[slot].clone() };
        }
        debug_assert_eq!(dialect_sql.len(), DIALECTS.len());
        let has_generic_up = up.is_some();
        let up = up.unwrap_or_default();
        let checksum = checksum_of(&up, down.as_deref(), &dialect_sql);
        Ok(Revision {
            id: id.to_string(),
            parents,
            message: self.value(Key::Message).0.to_string(),
            created,
            labels,
            depends_on,
            replaces,
            replaced: Vec::new(),
            transactional,
            up,
            down,
            has_generic_up,
            dialect_sql,
            checksum,
            path: self.path.to_path_buf(),
            lines: HeaderLines {
                id: id_line,
                parents: parents_line,
                labels: labels_line,
                depends_on: self.value(Key::DependsOn).1,
                replaces: self.value(Key::Replaces).1,
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
    use crate::backend::Dialect;
    use crate::revision::{checksum, ParseError, ParseErrorKind, Revision};
    use std::path::Path;

    fn parse(text: &str) -> Result<Revision, ParseError> {
        Revision::parse(Path::new("r.sql"), text)
    }

    const HEAD: &str = "-- id: a\n-- parents:\n";

    /// A file with `marker` meant as the down marker between the up and the down SQL.
    fn with_down_marker(marker: &str) -> String {
        format!("{HEAD}-- migrate:up\nCREATE TABLE t (x INT);\n{marker}\nDROP TABLE t;\n")
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
            assert_eq!(r.up, "CREATE TABLE t (x INT);\n", "{marker:?}");
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
        assert_eq!(parse("-- id: a\n-- migrate:up\n-- parents:\n").unwrap_err().kind, ParseErrorKind::MissingParents);
    }

    #[test]
    fn repeated_sections() {
        let e = parse(&format!("{HEAD}-- migrate:up\nSELECT 1;\n-- migrate:up\n")).unwrap_err();
        assert_eq!(
            (e.line, e.kind),
            (Some(5), ParseErrorKind::RepeatedSection { marker: "-- migrate:up".into(), first: 3 })
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
        let e = parse(&format!("{HEAD}-- migrate:up\nSELECT 1; -- x\rDROP TABLE t;\n")).unwrap_err();
        assert_eq!((e.line, e.kind), (Some(4), ParseErrorKind::CarriageReturn));
        let e = parse("-- id: b\r-- parents: a\r-- migrate:up\rSELECT 1;\r").unwrap_err();
        assert_eq!((e.line, e.kind), (Some(1), ParseErrorKind::CarriageReturn));
        // CRLF and trailing CRs are line ends, not content.
        assert!(parse(&format!("{HEAD}-- migrate:up\r\nSELECT 1;\r\r\n")).is_ok());
    }

    const DIALECTS: &str = "-- id: a\n-- parents:\n\
        -- migrate:up\nCREATE TABLE t (x INT);\n\
        -- migrate:down\nDROP TABLE t;\n\
        -- migrate:up postgres\nCREATE TABLE t (x SERIAL);\n\
        -- migrate:up sqlite\nCREATE TABLE t (x INTEGER);\n\
        -- migrate:down mysql\n";

    #[test]
    fn dialect_sections_replace_the_generic_ones() {
        let r = parse(DIALECTS).unwrap();
        assert_eq!(r.up, "CREATE TABLE t (x INT);\n");
        assert!(r.has_generic_up && r.has_dialect_sections() && r.is_reversible());
        assert_eq!(r.up_for(Dialect::Sqlite), Some("CREATE TABLE t (x INTEGER);\n"));
        assert_eq!(r.up_for(Dialect::Postgres), Some("CREATE TABLE t (x SERIAL);\n"));
        assert_eq!(r.up_for(Dialect::Mysql), Some("CREATE TABLE t (x INT);\n"));
        assert_eq!(r.down_for(Dialect::Sqlite), Some("DROP TABLE t;\n"));
        assert_eq!(r.down_for(Dialect::Postgres), Some("DROP TABLE t;\n"));
        assert_eq!(r.down_for(Dialect::Mysql), Some(""), "an empty dialect down section is a no-op there");
        let lines: Vec<String> = r.sections().iter().map(|(m, _)| m.line()).collect();
        assert_eq!(
            lines,
            [
                "-- migrate:up",
                "-- migrate:down",
                "-- migrate:up sqlite",
                "-- migrate:up postgres",
                "-- migrate:down mysql"
            ]
        );

        // Only a dialect up section: valid, but no SQL for the other dialects.
        let r = parse(&format!("{HEAD}-- migrate:up postgres\nSELECT 1;\n")).unwrap();
        assert!(!r.has_generic_up && !r.is_reversible());
        assert_eq!((r.up.as_str(), r.up_for(Dialect::Postgres)), ("", Some("SELECT 1;\n")));
        assert_eq!((r.up_for(Dialect::Sqlite), r.up_for(Dialect::Mysql)), (None, None));
        assert_eq!(r.down_for(Dialect::Postgres), None);
        // A down section for one dialect only: irreversible elsewhere.
        let r = parse(&format!("{HEAD}-- migrate:up\n-- migrate:down sqlite\nDROP TABLE t;\n")).unwrap();
        assert!(r.is_reversible());
        assert_eq!((r.down_for(Dialect::Sqlite), r.down_for(Dialect::Postgres)), (Some("DROP TABLE t;\n"), None));
        // No up section at all, even with down sections.
        assert_eq!(parse(&format!("{HEAD}-- migrate:down\n")).unwrap_err().kind, ParseErrorKind::MissingUp);
    }

    #[test]
    fn checksum_with_dialect_sections() {
        let r = parse(DIALECTS).unwrap();
        // SPEC §1: generic up, generic down, then sqlite, postgres, mysql, up before down.
        let text = "-- migrate:up\nCREATE TABLE t (x INT);\n-- migrate:down\nDROP TABLE t;\n\
            -- migrate:up sqlite\nCREATE TABLE t (x INTEGER);\n-- migrate:up postgres\nCREATE TABLE t (x SERIAL);\n\
            -- migrate:down mysql\n";
        use sha2::{Digest, Sha256};
        assert_eq!(r.checksum, crate::revision::hex(&Sha256::digest(text.as_bytes())));
        assert_ne!(r.checksum, checksum(&r.up, r.down.as_deref()));
        // Order of sections in the file does not matter, CRLF and trailing spaces neither.
        let moved = format!("{HEAD}-- migrate:down mysql\n-- migrate:up sqlite\nCREATE TABLE t (x INTEGER);  \n\n\
            -- migrate:up postgres\r\nCREATE TABLE t (x SERIAL);\r\n-- migrate:up\nCREATE TABLE t (x INT);\n-- migrate:down\nDROP TABLE t;");
        assert_eq!(parse(&moved).unwrap().checksum, r.checksum);
        // Editing a dialect section changes it; moving SQL between dialects too.
        assert_ne!(parse(&DIALECTS.replace("SERIAL", "BIGSERIAL")).unwrap().checksum, r.checksum);
        assert_ne!(parse(&DIALECTS.replace("up postgres", "up mysql")).unwrap().checksum, r.checksum);
        assert_ne!(parse(&DIALECTS.replace("-- migrate:down mysql\n", "")).unwrap().checksum, r.checksum);
    }
}
