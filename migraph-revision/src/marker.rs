//! Section marker lines: `-- migrate:up`, `-- migrate:down`, each optionally
//! followed by one space and a dialect name.
//!
//! A marker moves the SQL that follows it into another section, so a line
//! that was meant as a marker but is read as a comment would run the down
//! SQL on upgrade. Markers are therefore exact, and every line that looks
//! like one (case-insensitively `--`, optional spaces, `migrate`, optional
//! spaces, `:`) without being one is an error with the closest valid marker
//! as a suggestion. Trailing whitespace after a marker is allowed (it is
//! invisible, and the checksum ignores it too); leading whitespace is not.

use crate::{Dialect, Direction, ParseErrorKind, DOWN_MARKER, UP_MARKER};

/// One marker line: which section it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub direction: Direction,
    /// `None` for the generic section, which every dialect without its own uses.
    pub dialect: Option<Dialect>,
}

impl Marker {
    /// The line as written in a file, e.g. `-- migrate:up postgres`.
    pub fn line(self) -> String {
        let direction = match self.direction {
            Direction::Up => UP_MARKER,
            Direction::Down => DOWN_MARKER,
        };
        match self.dialect {
            Some(dialect) => format!("{direction} {}", dialect.name()),
            None => direction.to_string(),
        }
    }
}

/// Classifies one line of a revision file: `Ok(None)` for any line that is
/// not a marker and does not look like one, `Ok(Some(..))` for a marker, an
/// error (with a suggestion) for a line that looks like a marker but is not
/// exactly one. This is the only place that decides what a marker is.
pub fn parse_marker(line: &str) -> Result<Option<Marker>, ParseErrorKind> {
    let line = line.trim_end();
    if let Some(marker) = exact(line) {
        return Ok(Some(marker));
    }
    let Some(rest) = after_marker_prefix(line) else {
        return Ok(None);
    };
    Err(near_miss(line, &rest))
}

/// The marker `line` is exactly, if any.
fn exact(line: &str) -> Option<Marker> {
    let (direction, rest) = if let Some(rest) = line.strip_prefix(UP_MARKER) {
        (Direction::Up, rest)
    } else {
        (Direction::Down, line.strip_prefix(DOWN_MARKER)?)
    };
    if rest.is_empty() {
        return Some(Marker { direction, dialect: None });
    }
    let name = rest.strip_prefix(' ')?;
    let dialect = Dialect::ALL.into_iter().find(|d| d.name() == name)?;
    Some(Marker { direction, dialect: Some(dialect) })
}

/// For a line that looks like a marker (`--`, optional spaces, `migrate`,
/// optional spaces, `:`, in any case, after optional leading whitespace),
/// the lowercased text after the colon.
fn after_marker_prefix(line: &str) -> Option<String> {
    let lower = line.trim_start().to_lowercase();
    let rest = lower.strip_prefix("--")?.trim_start();
    let rest = rest.strip_prefix("migrate")?.trim_start();
    Some(rest.strip_prefix(':')?.to_string())
}

/// The dialect a word names, including common other spellings.
fn dialect_word(word: &str) -> Option<Dialect> {
    match word {
        "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
        "postgres" | "postgresql" | "pg" | "psql" => Some(Dialect::Postgres),
        "mysql" | "mariadb" => Some(Dialect::Mysql),
        _ => None,
    }
}

/// The error for a line that looks like a marker: the closest valid marker
/// (keeping a recognisable dialect), or the list of dialects when the line
/// names an unknown one.
fn near_miss(line: &str, rest: &str) -> ParseErrorKind {
    let found = shorten(line); // leading whitespace kept: it is what is wrong
    let mut words = rest.split_whitespace();
    let first = words.next().unwrap_or("");
    let (direction, glued) = if let Some(glued) = first.strip_prefix("down") {
        (Direction::Down, glued)
    } else if let Some(glued) = first.strip_prefix("up") {
        (Direction::Up, glued)
    } else {
        return ParseErrorKind::NearMissMarker { found, suggestion: None };
    };
    // `-- migrate:up;`, `-- migrate:upgrade`, `-- migrate:up-postgres`; but
    // `-- migrate: update the rows` is no marker to suggest.
    let glued = glued.trim_matches(|c: char| !c.is_alphanumeric());
    let mut dialect = dialect_word(glued);
    if dialect.is_none() && !matches!(glued, "" | "grade") {
        return ParseErrorKind::NearMissMarker { found, suggestion: None };
    }
    if dialect.is_none() {
        match words.next() {
            Some(word) if word.starts_with("--") || word.starts_with("/*") => {} // a comment after the marker
            Some(word) => match dialect_word(word) {
                Some(d) => dialect = Some(d),
                None if word.chars().all(|c| c.is_alphanumeric() || c == '_') => {
                    return ParseErrorKind::UnknownDialect { found, dialect: shorten(word) };
                }
                None => {}
            },
            None => {}
        }
    }
    let suggestion = Marker { direction, dialect }.line();
    ParseErrorKind::NearMissMarker { found, suggestion: Some(suggestion) }
}

/// At most 80 characters of `text`, to quote in a message.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(80) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn up(dialect: Option<Dialect>) -> Option<Marker> {
        Some(Marker { direction: Direction::Up, dialect })
    }

    fn down(dialect: Option<Dialect>) -> Option<Marker> {
        Some(Marker { direction: Direction::Down, dialect })
    }

    /// The suggestion made for `line`, or what else happened.
    fn suggestion(line: &str) -> String {
        match parse_marker(line) {
            Err(ParseErrorKind::NearMissMarker { suggestion: Some(s), .. }) => s,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn exact_markers() {
        assert_eq!(parse_marker("-- migrate:up"), Ok(up(None)));
        assert_eq!(parse_marker("-- migrate:down"), Ok(down(None)));
        assert_eq!(parse_marker("-- migrate:up sqlite"), Ok(up(Some(Dialect::Sqlite))));
        assert_eq!(parse_marker("-- migrate:up postgres"), Ok(up(Some(Dialect::Postgres))));
        assert_eq!(parse_marker("-- migrate:down mysql"), Ok(down(Some(Dialect::Mysql))));
        // Trailing whitespace (CR of CRLF included) is allowed.
        assert_eq!(parse_marker("-- migrate:down \t\r"), Ok(down(None)));
        assert_eq!(parse_marker("-- migrate:up postgres  "), Ok(up(Some(Dialect::Postgres))));
        for line in ["", "SELECT 1;", "-- a comment", "-- migrates: x", "-- migration: x", "-- message: migrate:up"] {
            assert_eq!(parse_marker(line), Ok(None), "{line}");
        }
        for marker in [up(None), down(None), up(Some(Dialect::Mysql)), down(Some(Dialect::Sqlite))] {
            let marker = marker.unwrap();
            assert_eq!(parse_marker(&marker.line()), Ok(Some(marker)));
        }
    }

    #[test]
    fn near_misses_suggest_the_closest_marker() {
        let cases = [
            ("--migrate:down", "-- migrate:down"),
            ("-- migrate: down", "-- migrate:down"),
            ("-- Migrate:Down", "-- migrate:down"),
            ("--  migrate:down", "-- migrate:down"),
            ("-- migrate:down  -- undo", "-- migrate:down"),
            ("-- migrate:down /* undo */", "-- migrate:down"),
            ("  -- migrate:down", "-- migrate:down"),
            ("\t-- migrate:up", "-- migrate:up"),
            ("-- MIGRATE:UP", "-- migrate:up"),
            ("-- migrate :up", "-- migrate:up"),
            ("--\tmigrate:\tup", "-- migrate:up"),
            ("-- migrate:downgrade", "-- migrate:down"),
            ("-- migrate:upgrade", "-- migrate:up"),
            ("-- migrate:up;", "-- migrate:up"),
            ("-- migrate:down.", "-- migrate:down"),
            ("-- Migrate:Down postgres", "-- migrate:down postgres"),
            ("-- migrate:down Postgres", "-- migrate:down postgres"),
            ("-- migrate:up  postgres", "-- migrate:up postgres"),
            ("-- migrate:up\tsqlite", "-- migrate:up sqlite"),
            ("-- migrate:up postgresql", "-- migrate:up postgres"),
            ("-- migrate:up mariadb", "-- migrate:up mysql"),
            ("-- migrate:up-postgres", "-- migrate:up postgres"),
            ("-- migrate:up postgres -- only there", "-- migrate:up postgres"),
        ];
        for (line, expected) in cases {
            assert_eq!(suggestion(line), expected, "{line:?}");
        }
    }

    #[test]
    fn unknown_dialects_and_directions() {
        assert_eq!(
            parse_marker("-- migrate:up oracle"),
            Err(ParseErrorKind::UnknownDialect { found: "-- migrate:up oracle".into(), dialect: "oracle".into() })
        );
        let e = parse_marker("-- migrate:down mssql").unwrap_err();
        assert!(e.to_string().contains("`sqlite`, `postgres` or `mysql`"), "{e}");
        for line in
            ["-- migrate:", "-- migrate:sideways", "--migrate:", "-- Migrate: update the rows", "-- migrate: downtime"]
        {
            assert_eq!(
                parse_marker(line),
                Err(ParseErrorKind::NearMissMarker { found: line.into(), suggestion: None }),
                "{line}"
            );
        }
        let e = parse_marker("-- migrate:").unwrap_err().to_string();
        assert!(e.contains("did you mean `-- migrate:up` or `-- migrate:down`?"), "{e}");
    }

    #[test]
    fn long_lines_are_shortened_in_messages() {
        let line = format!("-- migrate:up {}", "x".repeat(10_000));
        let e = parse_marker(&line).unwrap_err().to_string();
        assert!(e.len() < 400, "{e}");
    }
}
