//! The version table's place and layout for a run: where it is (located
//! once, before any revision can change the session), creating it and
//! bringing an older layout up to date under the lock, putting the session
//! back after each revision, and checking before the first statement that
//! every row the plan records fits.

use crate::backend::sql::{Table, ADDED_COLUMNS, DEFAULT_SCHEMA};
use crate::backend::{Arg, Backend, DbError, Dialect};
use crate::graph::RevisionGraph;
use crate::plan::{Direction, Plan};
use crate::revision::Revision;

use super::{db, RunError, RunOptions};

/// Where the version table is for a run: on PostgreSQL in the configured
/// schema (default `public`), on MySQL in the session's database, read
/// once now (before any revision could run `USE other`).
pub fn locate(backend: &mut dyn Backend, options: &RunOptions) -> Result<Table, DbError> {
    let dialect = backend.dialect();
    let schema = match dialect {
        Dialect::Sqlite => None,
        // `None` is `public`, and lets reading the state notice a table
        // that an earlier release created elsewhere on the search_path.
        Dialect::Postgres => options.schema.clone(),
        Dialect::Mysql => {
            let sql = dialect.current_database().unwrap_or("SELECT DATABASE() AS v");
            Some(backend.text(sql, &[])?.ok_or_else(|| {
                DbError::Query(
                    "the MySQL connection has no database: name one in the URL (mysql://user@host/DATABASE)".into(),
                )
            })?)
        }
    };
    Ok(Table::new(options.table.clone(), schema))
}

/// Creates the version table and the marker table if they do not exist
/// (and PostgreSQL's schema, like Flyway), and brings a version table
/// written by an older release up to date: adds the `depends_on` and
/// `transaction` columns, and on MySQL widens its 64 KB `TEXT` columns to
/// `LONGTEXT` and gives the ID columns (of both tables) a binary collation,
/// so IDs that differ only in case stay two revisions. Call it under the
/// run lock.
pub fn ensure_tables(backend: &mut dyn Backend, table: impl Into<Table>) -> Result<(), DbError> {
    let table = table.into();
    let dialect = backend.dialect();
    if let Some(sql) = dialect.create_schema(&table) {
        let (exists, args) = (
            "SELECT COUNT(*)::BIGINT AS v FROM pg_namespace WHERE nspname = $1",
            [Arg::Text(table.schema.clone().unwrap_or_else(|| DEFAULT_SCHEMA.to_string()))],
        );
        // Only when missing: CREATE SCHEMA IF NOT EXISTS still needs the privilege.
        if backend.int(exists, &args)?.unwrap_or(0) == 0 {
            backend.batch(&sql)?;
        }
    }
    backend.batch(&dialect.create_version_table(&table))?;
    backend.batch(&dialect.create_pending_table(&table))?;
    let (sql, args) = dialect.count_added_columns(&table);
    if backend.int(&sql, &args)?.unwrap_or(0) < ADDED_COLUMNS.len() as i64 {
        for column in ADDED_COLUMNS {
            let (sql, args) = dialect.count_columns_named(&table, column);
            if backend.int(&sql, &args)?.unwrap_or(0) == 0 {
                backend.batch(&dialect.add_column(&table, column))?;
            }
        }
    }
    if let Some((sql, args)) = dialect.count_narrow_columns(&table) {
        if backend.int(&sql, &args)?.unwrap_or(0) > 0 {
            backend.batch(&dialect.widen_text_columns(&table).unwrap_or_default())?;
        }
    }
    for table in [table.clone(), table.pending()] {
        if let (Some((sql, args)), Some(alter)) =
            (dialect.count_case_insensitive_ids(&table), dialect.case_sensitive_ids(&table))
        {
            if backend.int(&sql, &args)?.unwrap_or(0) > 0 {
                backend.batch(&alter)?;
            }
        }
    }
    Ok(())
}

/// The statement that puts the session back after each revision (see
/// [`Dialect::restore_session`]), with the setting it restores read now.
pub(super) fn session_restore(backend: &mut dyn Backend, table: &Table) -> Result<Option<String>, DbError> {
    let dialect = backend.dialect();
    let setting = match dialect.session_setting() {
        Some(sql) => backend.text(sql, &[])?,
        None => None,
    };
    Ok(dialect.restore_session(table, setting.as_deref()))
}

/// Checks, before the first statement, that every row the plan records
/// fits the version table, so no revision can run and then fail to be
/// recorded.
pub(super) fn recordable(backend: &mut dyn Backend, graph: &RevisionGraph, plan: &Plan) -> Result<(), RunError> {
    let dialect = backend.dialect();
    let packet = match dialect {
        // The row travels in one packet; the server refuses a larger one.
        Dialect::Mysql => backend
            .int("SELECT CAST(@@max_allowed_packet AS SIGNED) AS v", &[])
            .map_err(db("cannot read max_allowed_packet"))?,
        _ => None,
    };
    for step in plan.steps.iter().filter(|s| s.direction == Direction::Up) {
        let r = graph.rev_by_id(&step.id);
        if let Some(problem) = unrecordable(dialect, r, packet) {
            return Err(RunError::Unrecordable { id: r.id.clone(), problem });
        }
    }
    Ok(())
}

/// Why `r`'s row cannot be written, if it cannot.
fn unrecordable(dialect: Dialect, r: &Revision, packet: Option<i64>) -> Option<String> {
    let parents = r.parents.join(" ");
    let depends_on = r.depends_on().join(" ");
    let fields = [
        ("message", r.message.as_str()),
        ("parents", parents.as_str()),
        ("depends-on", depends_on.as_str()),
        ("down section", r.down_for(dialect).unwrap_or("")),
    ];
    for (name, text) in fields {
        if dialect == Dialect::Postgres && text.contains('\0') {
            return Some(format!("its {name} contains a NUL character, which PostgreSQL text cannot hold"));
        }
        if text.len() > dialect.max_text_bytes() {
            return Some(format!("its {name} is {} bytes; the column holds {}", text.len(), dialect.max_text_bytes()));
        }
    }
    let bytes: usize =
        fields.iter().map(|(_, text)| text.len()).sum::<usize>() + r.id.len() + r.checksum.to_string().len();
    match packet {
        // Room for the statement and the other values.
        Some(limit) if bytes as i64 + 4096 > limit => Some(format!(
            "its row is {bytes} bytes, more than the server's max_allowed_packet ({limit} bytes); \
             raise max_allowed_packet or shorten its message or down section"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn revision(message: &str, down: &str) -> Revision {
        let text = format!(
            "-- id: a\n-- parents:\n-- message: {message}\n-- migrate:up\nSELECT 1;\n-- migrate:down\n{down}\n"
        );
        Revision::parse(std::path::Path::new("a.sql"), &text).expect("parse")
    }

    #[test]
    fn rows_that_cannot_be_recorded_are_refused_before_anything_runs() {
        let long = revision(&"m".repeat(70_000), "DROP TABLE t;");
        assert_eq!(unrecordable(Dialect::Mysql, &long, Some(16 << 20)), None, "LONGTEXT holds 70 KB");
        let refused = unrecordable(Dialect::Mysql, &long, Some(65_536)).expect("over max_allowed_packet");
        assert!(refused.contains("max_allowed_packet (65536 bytes)"), "{refused}");
        let nul = revision("x", "SELECT '\0';");
        assert!(unrecordable(Dialect::Postgres, &nul, None).is_some_and(|p| p.contains("NUL")));
        assert_eq!(unrecordable(Dialect::Sqlite, &nul, None), None);
    }
}
