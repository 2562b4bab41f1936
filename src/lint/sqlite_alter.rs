//! `ALTER TABLE` forms SQLite does not have.
//!
//! SQLite's `ALTER TABLE` (<https://www.sqlite.org/lang_altertable.html>)
//! renames a table, renames a column, adds a column and drops a column, one
//! of them per statement, and nothing else: no `ALTER COLUMN … TYPE`,
//! `SET/DROP NOT NULL`, `SET/DROP DEFAULT`, no `ADD/DROP CONSTRAINT`, no
//! `ADD PRIMARY KEY`. `ADD COLUMN` itself may not add a `PRIMARY KEY` or
//! `UNIQUE` column, a column whose default is not a constant
//! (`CURRENT_TIMESTAMP`, an expression), a `STORED` generated column, or
//! (foreign keys being on, as in migraph's SQLite) a `REFERENCES` column with
//! a default other than `NULL`. What SQLite cannot alter in place it changes
//! by rebuilding the table (its "12-step" procedure; see
//! [`crate::sqlite_rebuild`]).
//!
//! A revision that would run such a statement on SQLite is refused before
//! the plan's first statement (a plan of several revisions would otherwise
//! stop half-way, after the earlier revisions were committed), and
//! `migraph check` reports it. Checks that depend on the data or on the
//! rest of the schema (`NOT NULL` added without a default to a table that has
//! rows, `DROP COLUMN` of an indexed or referenced column) are SQLite's to
//! report when the statement runs.
//!
//! Statements are split as the runner splits them and parsed one at a time
//! with `sqlparser`'s SQLite dialect; a statement that does not parse is not
//! judged here.

use std::fmt;
use std::path::PathBuf;

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, Expr, GeneratedExpressionMode, Statement, UnaryOperator, Value,
};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

use crate::backend::split::statements;
use crate::backend::Dialect;
use crate::plan::Direction;
use crate::revision::Revision;

/// The rule's name (for `migraph lint`).
pub const RULE: &str = "sqlite-alter";

/// Why SQLite cannot run an `ALTER TABLE` clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// Not one of `RENAME TO`, `RENAME COLUMN`, `ADD COLUMN`, `DROP COLUMN`
    /// (`ALTER COLUMN`, `ADD CONSTRAINT`, `DROP CONSTRAINT`, ...).
    Form,
    /// `ADD COLUMN` of a `PRIMARY KEY` or `UNIQUE` column.
    AddKey,
    /// `ADD COLUMN` with a default that is not a constant.
    AddDefault,
    /// `ADD COLUMN` of a `STORED` generated column.
    AddStored,
    /// `ADD COLUMN … REFERENCES` with a default other than `NULL`.
    AddReference,
    /// Several operations in one `ALTER TABLE` (or several columns in one `DROP`).
    Several,
    /// Syntax SQLite's `ALTER TABLE` does not have: `IF EXISTS`, `ONLY`,
    /// `ADD COLUMN IF NOT EXISTS`, `DROP COLUMN IF EXISTS`, `CASCADE`.
    Syntax,
}

/// What to do instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fix {
    /// Rebuild the table (SQLite's 12-step procedure).
    Rebuild,
    /// One `ALTER TABLE` statement per operation.
    Split,
    /// Leave out the words SQLite does not have.
    Remove,
}

impl Limit {
    /// What to do instead.
    pub fn fix(self) -> Fix {
        match self {
            Limit::Several => Fix::Split,
            Limit::Syntax => Fix::Remove,
            _ => Fix::Rebuild,
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Limit::Form => "SQLite's ALTER TABLE only renames a table, or renames, adds or drops a column",
            Limit::AddKey => "SQLite cannot add a PRIMARY KEY or UNIQUE column",
            Limit::AddDefault => "SQLite cannot add a column whose default is not a constant",
            Limit::AddStored => "SQLite cannot add a STORED generated column (VIRTUAL ones it can)",
            Limit::AddReference => {
                "SQLite cannot add a REFERENCES column with a default other than NULL while foreign keys are on"
            }
            Limit::Several => "SQLite's ALTER TABLE runs one operation on one column per statement",
            Limit::Syntax => "SQLite's ALTER TABLE has no IF EXISTS, IF NOT EXISTS, ONLY, CASCADE or RESTRICT",
        })
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fix::Rebuild => "rebuild the table instead (SQLite's 12-step procedure)",
            Fix::Split => "write one ALTER TABLE statement per operation",
            Fix::Remove => "leave those words out",
        })
    }
}

/// One `ALTER TABLE` clause SQLite cannot run, in a SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// The 1-based line of the SQL where the statement starts.
    pub line: usize,
    /// The table, as written.
    pub table: String,
    /// The clause, as `sqlparser` prints it (`ALTER COLUMN price TYPE REAL`),
    /// or the whole statement for [`Limit::Several`] and [`Limit::Syntax`].
    pub clause: String,
    pub limit: Limit,
}

impl Unsupported {
    /// What to do instead.
    pub fn fix(&self) -> Fix {
        self.limit.fix()
    }
}

/// Every `ALTER TABLE` clause of `sql` that SQLite cannot run, in order;
/// statements that do not split or parse give nothing.
pub fn unsupported(sql: &str) -> Vec<Unsupported> {
    // Most sections have no ALTER at all: they are not split again.
    if !sql.as_bytes().windows(5).any(|w| w.eq_ignore_ascii_case(b"alter")) {
        return Vec::new();
    }
    let Ok(statements) = statements(sql, Dialect::Sqlite) else { return Vec::new() };
    let mut found = Vec::new();
    for statement in statements {
        // Only what starts with ALTER is parsed (large sections stay cheap).
        let starts_alter = statement.text.get(..5).is_some_and(|w| w.eq_ignore_ascii_case("alter"));
        if !starts_alter {
            continue;
        }
        let Ok(parsed) =
            Parser::new(&SQLiteDialect {}).try_with_sql(statement.text).and_then(|mut p| p.parse_statements())
        else {
            continue;
        };
        for parsed in parsed {
            if let Statement::AlterTable(alter) = parsed {
                let table = alter.name.to_string();
                let whole = || Statement::AlterTable(alter.clone()).to_string();
                let mut add = |clause: String, limit: Limit| {
                    found.push(Unsupported { line: statement.line, table: table.clone(), clause, limit })
                };
                if alter.if_exists || alter.only {
                    add(whole(), Limit::Syntax);
                    continue;
                }
                if alter.operations.len() > 1 {
                    add(whole(), Limit::Several);
                    continue;
                }
                for operation in &alter.operations {
                    if let Some(limit) = limit_of(operation) {
                        let clause = match limit {
                            Limit::Several | Limit::Syntax => whole(),
                            _ => operation.to_string(),
                        };
                        add(clause, limit);
                    }
                }
            }
        }
    }
    found
}

/// Why SQLite cannot run `operation`, or `None` when it can.
fn limit_of(operation: &AlterTableOperation) -> Option<Limit> {
    use AlterTableOperation as Op;
    match operation {
        Op::RenameTable { table_name } => match table_name {
            sqlparser::ast::RenameTableNameKind::To(_) => None,
            sqlparser::ast::RenameTableNameKind::As(_) => Some(Limit::Syntax),
        },
        Op::RenameColumn { .. } => None,
        Op::DropColumn { column_names, if_exists, drop_behavior, .. } => {
            if *if_exists || drop_behavior.is_some() {
                Some(Limit::Syntax)
            } else if column_names.len() > 1 {
                Some(Limit::Several)
            } else {
                None
            }
        }
        Op::AddColumn { if_not_exists, column_def, column_position, .. } => {
            if *if_not_exists || column_position.is_some() {
                return Some(Limit::Syntax);
            }
            let options = || column_def.options.iter().map(|o| &o.option);
            let default = options().find_map(|o| match o {
                ColumnOption::Default(expr) => Some(expr),
                _ => None,
            });
            if options().any(|o| matches!(o, ColumnOption::PrimaryKey(_) | ColumnOption::Unique(_))) {
                Some(Limit::AddKey)
            } else if default.is_some_and(|d| !constant(d)) {
                Some(Limit::AddDefault)
            } else if options().any(|o| {
                matches!(o, ColumnOption::Generated { generation_expr_mode: Some(GeneratedExpressionMode::Stored), .. })
            }) {
                Some(Limit::AddStored)
            } else if options().any(|o| matches!(o, ColumnOption::ForeignKey(_))) && default.is_some_and(|d| !null(d)) {
                Some(Limit::AddReference)
            } else {
                None
            }
        }
        _ => Some(Limit::Form),
    }
}

/// Whether SQLite takes `expr` as a constant default in `ADD COLUMN`: a
/// literal, a signed number, a bare word (SQLite reads it as a string), or
/// one of these in parentheses or a `CAST`; not `CURRENT_TIME`,
/// `CURRENT_DATE`, `CURRENT_TIMESTAMP`, a function or an operator.
fn constant(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => !matches!(v.value, Value::Placeholder(_)),
        Expr::Nested(inner) => constant(inner),
        Expr::Cast { expr, .. } => constant(expr),
        Expr::UnaryOp { op: UnaryOperator::Minus | UnaryOperator::Plus, expr } => {
            matches!(&**expr, Expr::Value(v) if matches!(v.value, Value::Number(..)))
        }
        Expr::Identifier(ident) => {
            ident.quote_style.is_some()
                || !["CURRENT_TIME", "CURRENT_DATE", "CURRENT_TIMESTAMP"]
                    .iter()
                    .any(|word| ident.value.eq_ignore_ascii_case(word))
        }
        _ => false,
    }
}

/// Whether `expr` is `NULL` (in parentheses or not).
fn null(expr: &Expr) -> bool {
    match expr {
        Expr::Value(v) => matches!(v.value, Value::Null),
        Expr::Nested(inner) => null(inner),
        _ => false,
    }
}

/// An unsupported clause in a revision's SQL for SQLite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The revision's ID.
    pub id: String,
    /// Its file.
    pub path: PathBuf,
    /// The statement's line in the file (in its SQL section when the file
    /// cannot be read, e.g. an embedded revision).
    pub line: usize,
    /// Which of its sections: the up or the down SQL for SQLite.
    pub direction: Direction,
    /// The clause and why SQLite cannot run it.
    pub unsupported: Unsupported,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = &self.unsupported;
        let statement = match u.limit {
            Limit::Several | Limit::Syntax => format!("`{}`", u.clause),
            _ => format!("`ALTER TABLE {} {}`", u.table, u.clause),
        };
        write!(
            f,
            "{}:{}: the {} SQL of revision {} for SQLite has {statement}: {}; {}",
            self.path.display(),
            self.line,
            self.direction,
            self.id,
            u.limit,
            u.fix()
        )
    }
}

/// The findings in `revision`'s SQL for SQLite in `direction` (its
/// `-- migrate:<direction> sqlite` section, else the generic one).
pub fn revision_findings(revision: &Revision, direction: Direction) -> Vec<Finding> {
    let Some(sql) = revision.sql_for(direction, Dialect::Sqlite) else { return Vec::new() };
    unsupported(sql)
        .into_iter()
        .map(|unsupported| Finding {
            id: revision.id.clone(),
            path: revision.path.clone(),
            line: super::file_line(revision, sql, unsupported.line),
            direction,
            unsupported,
        })
        .collect()
}

/// The findings of every revision of `graph`: in its down SQL, and in its
/// up SQL unless `applied(id)` (what is applied already ran and is not
/// judged again; its down SQL may still run).
pub fn graph_findings(graph: &crate::RevisionGraph, applied: &dyn Fn(&str) -> bool) -> Vec<Finding> {
    let mut found = Vec::new();
    for revision in graph.revisions() {
        if !applied(&revision.id) {
            found.extend(revision_findings(revision, Direction::Up));
        }
        found.extend(revision_findings(revision, Direction::Down));
    }
    found
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn found(sql: &str) -> Vec<(usize, String, Limit)> {
        unsupported(sql).into_iter().map(|u| (u.line, u.clause, u.limit)).collect()
    }

    #[test]
    fn every_unsupported_form_is_found() {
        let cases = [
            ("ALTER TABLE t ALTER COLUMN price TYPE REAL", "ALTER COLUMN price TYPE REAL", Limit::Form),
            (
                "ALTER TABLE t ALTER COLUMN price SET DATA TYPE REAL",
                "ALTER COLUMN price SET DATA TYPE REAL",
                Limit::Form,
            ),
            ("ALTER TABLE t ALTER COLUMN price SET NOT NULL", "ALTER COLUMN price SET NOT NULL", Limit::Form),
            ("alter table t alter price drop not null", "ALTER COLUMN price DROP NOT NULL", Limit::Form),
            ("ALTER TABLE t ALTER COLUMN price SET DEFAULT 0", "ALTER COLUMN price SET DEFAULT 0", Limit::Form),
            ("ALTER TABLE t ALTER COLUMN price DROP DEFAULT", "ALTER COLUMN price DROP DEFAULT", Limit::Form),
            ("ALTER TABLE t ADD CONSTRAINT pos CHECK (price > 0)", "ADD CONSTRAINT pos CHECK (price > 0)", Limit::Form),
            ("ALTER TABLE t ADD PRIMARY KEY (id)", "ADD PRIMARY KEY (id)", Limit::Form),
            ("ALTER TABLE t ADD UNIQUE (email)", "ADD UNIQUE (email)", Limit::Form),
            (
                "ALTER TABLE t ADD FOREIGN KEY (u) REFERENCES users (id)",
                "ADD FOREIGN KEY (u) REFERENCES users(id)",
                Limit::Form,
            ),
            ("ALTER TABLE t DROP CONSTRAINT pos", "DROP CONSTRAINT pos", Limit::Form),
            ("ALTER TABLE t ADD COLUMN id2 INTEGER PRIMARY KEY", "ADD COLUMN id2 INTEGER PRIMARY KEY", Limit::AddKey),
            ("ALTER TABLE t ADD email TEXT UNIQUE", "ADD email TEXT UNIQUE", Limit::AddKey),
            (
                "ALTER TABLE t ADD COLUMN at TEXT DEFAULT CURRENT_TIMESTAMP",
                "ADD COLUMN at TEXT DEFAULT CURRENT_TIMESTAMP",
                Limit::AddDefault,
            ),
            ("ALTER TABLE t ADD COLUMN n INT DEFAULT (1 + 1)", "ADD COLUMN n INT DEFAULT (1 + 1)", Limit::AddDefault),
            (
                "ALTER TABLE t ADD COLUMN r REAL DEFAULT (random())",
                "ADD COLUMN r REAL DEFAULT (random())",
                Limit::AddDefault,
            ),
            (
                "ALTER TABLE t ADD COLUMN d INT GENERATED ALWAYS AS (a * 2) STORED",
                "ADD COLUMN d INT GENERATED ALWAYS AS (a * 2) STORED",
                Limit::AddStored,
            ),
            (
                "ALTER TABLE t ADD COLUMN u INTEGER DEFAULT 1 REFERENCES users (id)",
                "ADD COLUMN u INTEGER DEFAULT 1 REFERENCES users (id)",
                Limit::AddReference,
            ),
            ("ALTER TABLE t ADD a INT, ADD b INT", "ALTER TABLE t ADD a INT, ADD b INT", Limit::Several),
            ("ALTER TABLE IF EXISTS t RENAME TO u", "ALTER TABLE IF EXISTS t RENAME TO u", Limit::Syntax),
            ("ALTER TABLE t DROP COLUMN IF EXISTS a", "ALTER TABLE t DROP COLUMN IF EXISTS a", Limit::Syntax),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(sql, clause, limit)| found(sql) != [(1, clause.to_string(), *limit)])
            .map(|(sql, _, _)| format!("{sql}: {:?}", found(sql)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn supported_forms_pass() {
        let sql = "ALTER TABLE t RENAME TO u;\n\
                   ALTER TABLE \"u\" RENAME COLUMN a TO b;\n\
                   ALTER TABLE u RENAME b TO c;\n\
                   ALTER TABLE u ADD COLUMN d TEXT;\n\
                   ALTER TABLE u ADD e INTEGER NOT NULL DEFAULT 0;\n\
                   ALTER TABLE u ADD COLUMN f TEXT DEFAULT 'x' COLLATE NOCASE CHECK (f <> '');\n\
                   ALTER TABLE u ADD COLUMN g REAL DEFAULT -1.5;\n\
                   ALTER TABLE u ADD COLUMN h INT DEFAULT (3);\n\
                   ALTER TABLE u ADD COLUMN i INTEGER REFERENCES users (id);\n\
                   ALTER TABLE u ADD COLUMN j INTEGER DEFAULT NULL REFERENCES users (id);\n\
                   ALTER TABLE u ADD COLUMN k INT GENERATED ALWAYS AS (e * 2) VIRTUAL;\n\
                   ALTER TABLE u ADD COLUMN l TEXT DEFAULT 'CURRENT_TIMESTAMP';\n\
                   ALTER TABLE u DROP COLUMN d;\n\
                   ALTER TABLE u DROP e;\n\
                   CREATE TABLE v (x INT);\n\
                   SELECT 'ALTER TABLE t ALTER COLUMN x TYPE INT';\n\
                   -- ALTER TABLE t ALTER COLUMN x TYPE INT;\n";
        assert_eq!(found(sql), []);
    }

    #[test]
    fn lines_count_from_the_statement_and_unparsed_text_is_skipped() {
        let sql = "CREATE TABLE t (a INT);\n\n-- a comment\nALTER TABLE t\n  ALTER COLUMN a TYPE TEXT;\n\
                   ALTER TABLE t FROBNICATE;\nALTER TABLE t DROP CONSTRAINT c;\nALTER TABLE t ADD (";
        let found = found(sql);
        assert_eq!(found.iter().map(|f| f.0).collect::<Vec<_>>(), [4, 7], "{found:?}");
        // Text that does not split gives nothing (the split check reports it).
        assert_eq!(unsupported("ALTER TABLE t DROP CONSTRAINT c; SELECT 'x"), []);
        assert_eq!(unsupported(""), []);
    }

    #[test]
    fn findings_name_the_file_line_and_section() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.sql");
        let text = "-- id: a\n-- parents:\n\n-- migrate:up\nCREATE TABLE t (a INT);\nALTER TABLE t ALTER COLUMN a TYPE TEXT;\n\n\
                    -- migrate:up postgres\nALTER TABLE t ALTER COLUMN a TYPE TEXT;\n\
                    -- migrate:down\nALTER TABLE t ALTER COLUMN a SET NOT NULL;\n";
        std::fs::write(&path, text).unwrap();
        let revision = Revision::read(&path).unwrap();
        let up = revision_findings(&revision, Direction::Up);
        assert_eq!(up.len(), 1);
        assert_eq!(up[0].line, 6);
        let message = up[0].to_string();
        assert!(message.starts_with(&format!("{}:6: the up SQL of revision a for SQLite has `ALTER TABLE t ALTER COLUMN a TYPE TEXT`: SQLite's ALTER TABLE only renames", path.display())), "{message}");
        assert!(message.ends_with("rebuild the table instead (SQLite's 12-step procedure)"), "{message}");
        let down = revision_findings(&revision, Direction::Down);
        assert_eq!((down[0].line, down[0].direction), (11, Direction::Down));
        // A sqlite section replaces the generic one.
        let revision =
            Revision::parse(Path::new("gone.sql"), &text.replace("-- migrate:up postgres", "-- migrate:up sqlite"))
                .unwrap();
        assert_eq!(revision_findings(&revision, Direction::Up)[0].line, 1, "the SQL's own line when the file is gone");
    }
}
