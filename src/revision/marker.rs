//! Section marker lines: `-- migrate:up`, `-- migrate:down`, each optionally
//! followed by one space and a dialect name.
//!
//! What a marker is (exact markers, near misses with a suggestion) is decided
//! in one place, the `migraph-revision` crate, which `embed_revisions!` uses
//! at compile time too. This module gives its markers migraph's
//! [`Dialect`] and [`Direction`].

use crate::backend::Dialect;
use crate::plan::Direction;

use super::ParseErrorKind;

/// The dialects a section can be written for, with their names in marker
/// lines, in checksum order.
pub const DIALECTS: [(Dialect, &str); 3] = [
    (Dialect::Sqlite, text::Dialect::Sqlite.name()),
    (Dialect::Postgres, text::Dialect::Postgres.name()),
    (Dialect::Mysql, text::Dialect::Mysql.name()),
];

/// The parser's own types, named apart from migraph's.
mod text {
    pub use migraph_revision::{Dialect, Direction, Marker};
}

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
            Direction::Up => text::Direction::Up,
            Direction::Down => text::Direction::Down,
        };
        text::Marker { direction, dialect: self.dialect.map(to_text) }.line()
    }

    fn from_text(marker: text::Marker) -> Marker {
        let direction = match marker.direction {
            text::Direction::Up => Direction::Up,
            text::Direction::Down => Direction::Down,
        };
        Marker { direction, dialect: marker.dialect.map(|d| DIALECTS[d.index()].0) }
    }
}

/// The name of `dialect` in marker lines.
pub fn dialect_name(dialect: Dialect) -> &'static str {
    to_text(dialect).name()
}

/// The position of `dialect` in [`DIALECTS`].
pub(crate) fn slot(dialect: Dialect) -> usize {
    to_text(dialect).index()
}

fn to_text(dialect: Dialect) -> text::Dialect {
    match dialect {
        Dialect::Sqlite => text::Dialect::Sqlite,
        Dialect::Postgres => text::Dialect::Postgres,
        Dialect::Mysql => text::Dialect::Mysql,
    }
}

/// Classifies one line of a revision file: `Ok(None)` for any line that is
/// not a marker and does not look like one, `Ok(Some(..))` for a marker, an
/// error (with a suggestion) for a line that looks like a marker but is not
/// exactly one.
pub fn parse_marker(line: &str) -> Result<Option<Marker>, ParseErrorKind> {
    Ok(migraph_revision::parse_marker(line)?.map(Marker::from_text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialects_map_both_ways_in_checksum_order() {
        for (slot, (dialect, name)) in DIALECTS.into_iter().enumerate() {
            assert_eq!(super::slot(dialect), slot);
            assert_eq!(dialect_name(dialect), name);
            assert_eq!(text::Dialect::ALL[slot].name(), name);
        }
        assert_eq!(DIALECTS.map(|(_, name)| name), ["sqlite", "postgres", "mysql"]);
    }

    #[test]
    fn markers_round_trip_with_migraph_types() {
        for direction in [Direction::Up, Direction::Down] {
            for dialect in [None, Some(Dialect::Sqlite), Some(Dialect::Postgres), Some(Dialect::Mysql)] {
                let marker = Marker { direction, dialect };
                assert_eq!(parse_marker(&marker.line()), Ok(Some(marker)), "{}", marker.line());
            }
        }
        assert_eq!(
            parse_marker("-- migrate:down mysql"),
            Ok(Some(Marker { direction: Direction::Down, dialect: Some(Dialect::Mysql) }))
        );
        assert_eq!(parse_marker("SELECT 1;"), Ok(None));
        let e = parse_marker("-- Migrate:Down").unwrap_err();
        assert_eq!(
            e,
            ParseErrorKind::NearMissMarker {
                found: "-- Migrate:Down".into(),
                suggestion: Some("-- migrate:down".into())
            }
        );
    }
}
