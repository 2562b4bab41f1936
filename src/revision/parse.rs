//! A parsed revision file made a [`Revision`]: the text-level parser (header
//! keys, section markers, sections, `file:line` errors) is the
//! `migraph-revision` crate, the one parser `embed_revisions!` also runs at
//! compile time; the checksum is computed here.

use std::path::Path;

use migraph_revision::RevisionFile;

use super::{sections_digest, Links, Revision};

/// `file`, read from `path`, as a [`Revision`] with its checksum.
pub(super) fn revision(path: &Path, file: RevisionFile) -> Revision {
    let has_generic_up = file.up.is_some();
    let up = file.up.unwrap_or_default();
    let checksum = sections_digest(&up, file.down.as_deref(), &file.dialect_sql);
    Revision {
        id: file.id,
        parents: file.parents,
        message: file.message,
        created: file.created.map(String::into_boxed_str),
        transactional: file.transactional,
        up,
        down: file.down,
        has_generic_up,
        dialect_sql: file.dialect_sql.into(),
        checksum,
        path: path.to_path_buf(),
        lines: file.lines,
        links: Links {
            labels: file.labels,
            depends_on: file.depends_on,
            replaces: file.replaces,
            replaced: Vec::new(),
        }
        .into(),
        sql_loaded: true,
    }
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
