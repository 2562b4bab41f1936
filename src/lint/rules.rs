//! The rules over one SQL section, statement by statement.
//!
//! The section is split as the runner splits it and each statement parsed
//! with `sqlparser`'s dialect for the database it runs on. A table the
//! same section created before (or that a table it created was renamed
//! to, SQLite's rebuild) is new: no deployed code uses it yet and its rows
//! (if any) are the section's own, so dropping, renaming, retyping,
//! indexing it or adding a required column or a constraint to it is not
//! reported. A `DROP TABLE`
//! of a table that a later statement of the section replaces by renaming
//! another table to its name (the rebuild again) is not reported either.
//!
//! What each rule reports and why follows the operations that strong
//! migration tools (squawk, strong_migrations) single out: those that
//! break the code still running against the old schema during a deploy
//! (drops, renames, type changes), those that fail on a table with rows
//! (a `NOT NULL` column without a default), and those that hold a lock
//! blocking writes for as long as a table scan takes on PostgreSQL.

use std::collections::HashSet;

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, DataType, ObjectName, ObjectType,
    RenameTableNameKind, Statement, TableConstraint,
};
use sqlparser::dialect::{Dialect as ParserDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;

use super::{sqlite_alter, Rule};
use crate::backend::split::statements;
use crate::backend::Dialect;

/// One rule's finding in a SQL section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The 1-based line of the SQL where the statement starts.
    pub line: usize,
    pub rule: Rule,
    /// What the statement does and why it is dangerous.
    pub message: String,
    /// What to do instead, in one line.
    pub fix: String,
}

/// Every finding of every rule in `sql`, an up section for `dialect`;
/// `transactional` is the revision's `transaction` key. In statement order.
pub fn check(sql: &str, dialect: Dialect, transactional: bool) -> Vec<Hit> {
    let split = match statements(sql, dialect) {
        Ok(split) => split,
        Err(e) => {
            let message = format!("the SQL cannot be split into statements for {}: {}", name(dialect), e.message);
            return vec![unparsable(e.line, message)];
        }
    };
    let parser: &dyn ParserDialect = match dialect {
        Dialect::Sqlite => &SQLiteDialect {},
        Dialect::Postgres => &PostgreSqlDialect {},
        Dialect::Mysql => &MySqlDialect {},
    };
    let mut hits = Vec::new();
    let mut parsed = Vec::new();
    for statement in &split {
        if dialect == Dialect::Sqlite && starts_with(statement.text, &["pragma"]) {
            // Settings (`PRAGMA foreign_keys = OFF` in a rebuild), which
            // sqlparser reads only in part and no rule judges.
            continue;
        }
        if dialect == Dialect::Postgres && starts_with(statement.text, &["drop", "index", "concurrently"]) {
            // sqlparser does not read it; PostgreSQL does.
            if transactional {
                hits.push(in_transaction(statement.line, "DROP INDEX CONCURRENTLY"));
            }
            continue;
        }
        match Parser::new(parser).try_with_sql(statement.text).and_then(|mut p| p.parse_statements()) {
            Ok(statements) => parsed.extend(statements.into_iter().map(|s| (statement.line, s))),
            Err(e) => {
                let error = e.to_string();
                let error = error.strip_prefix("sql parser error: ").unwrap_or(&error);
                // Its line and column count from the statement, not the file.
                let error = error.split(" at Line: ").next().unwrap_or(error);
                hits.push(unparsable(
                    statement.line,
                    format!("sqlparser cannot read this statement as {}: {error}", name(dialect)),
                ));
            }
        }
    }
    let mut section = Section { dialect, transactional, new: HashSet::new(), hits };
    for (at, (line, statement)) in parsed.iter().enumerate() {
        let replaced_later =
            |table: &str| parsed[at + 1..].iter().any(|(_, s)| renamed_to(s).as_deref() == Some(table));
        section.statement(*line, statement, &replaced_later);
    }
    if dialect == Dialect::Sqlite {
        section.hits.extend(sqlite_alter::unsupported(sql).into_iter().map(|u| {
            let statement = match u.limit {
                sqlite_alter::Limit::Several | sqlite_alter::Limit::Syntax => u.clause.clone(),
                _ => format!("ALTER TABLE {} {}", u.table, u.clause),
            };
            Hit {
                line: u.line,
                rule: Rule::SqliteAlter,
                message: format!("`{statement}`: {}", u.limit),
                fix: u.fix().to_string(),
            }
        }));
    }
    section.hits.sort_by_key(|h| h.line);
    section.hits
}

/// The rules' state over one section.
struct Section {
    dialect: Dialect,
    transactional: bool,
    /// Tables created by the section so far (their keys).
    new: HashSet<String>,
    hits: Vec<Hit>,
}

impl Section {
    fn hit(&mut self, line: usize, rule: Rule, message: String, fix: impl Into<String>) {
        self.hits.push(Hit { line, rule, message, fix: fix.into() });
    }

    fn is_new(&self, table: &ObjectName) -> bool {
        self.new.contains(&key(table))
    }

    fn statement(&mut self, line: usize, statement: &Statement, replaced_later: &dyn Fn(&str) -> bool) {
        let postgres = self.dialect == Dialect::Postgres;
        match statement {
            Statement::CreateTable(create) => {
                self.new.insert(key(&create.name));
            }
            Statement::Drop { object_type: ObjectType::Table, names, .. } => {
                let dropped: Vec<&ObjectName> =
                    names.iter().filter(|t| !self.is_new(t) && !replaced_later(&key(t))).collect();
                for table in dropped {
                    self.hit(
                        line,
                        Rule::DropTable,
                        format!("drops table `{table}`: its rows are lost, and code still using it fails"),
                        "first deploy code that no longer uses the table, then drop it in a later revision",
                    );
                }
            }
            Statement::RenameTable(renames) => {
                for rename in renames {
                    self.rename_table(line, &rename.old_name, &rename.new_name);
                }
            }
            Statement::CreateIndex(index) if postgres => {
                let what = if index.unique { "CREATE UNIQUE INDEX" } else { "CREATE INDEX" };
                if index.concurrently && self.transactional {
                    self.hits.push(in_transaction(line, &format!("{what} CONCURRENTLY")));
                } else if !index.concurrently && !self.is_new(&index.table_name) {
                    self.hit(
                        line,
                        Rule::CreateIndexBlocking,
                        format!(
                            "{what} without CONCURRENTLY blocks writes to `{}` on PostgreSQL while the index builds",
                            index.table_name
                        ),
                        "write CREATE INDEX CONCURRENTLY, in a revision of its own with `-- transaction: false`",
                    );
                }
            }
            Statement::AlterTable(alter) => {
                if self.is_new(&alter.name) {
                    // Renamed, the new name is new too.
                    for operation in &alter.operations {
                        if let AlterTableOperation::RenameTable { table_name } = operation {
                            self.new.insert(key(renamed(table_name)));
                        }
                    }
                    return;
                }
                for operation in &alter.operations {
                    self.alter(line, &alter.name, operation);
                }
            }
            _ => {}
        }
    }

    fn rename_table(&mut self, line: usize, old: &ObjectName, new: &ObjectName) {
        if self.is_new(old) {
            self.new.insert(key(new));
            return;
        }
        self.hit(
            line,
            Rule::RenameTable,
            format!("renames table `{old}` to `{new}`: code still using the old name fails until it is deployed"),
            "create the new table (or a view under the new name), move the code to it, then drop the old one later",
        );
    }

    fn alter(&mut self, line: usize, table: &ObjectName, operation: &AlterTableOperation) {
        use AlterTableOperation as Op;
        let retype = |column: &dyn std::fmt::Display| {
            (
                format!("changes the type of `{table}.{column}`: code may expect the old type, and most type changes rewrite the table under a lock that blocks reads and writes"),
                "add a column of the new type, backfill it, move the code to it, then drop the old column later",
            )
        };
        let rename_column = |old: &dyn std::fmt::Display, new: &dyn std::fmt::Display| {
            (
                format!("renames column `{table}.{old}` to `{new}`: code still using the old name fails until it is deployed"),
                "add the new column, write both and backfill, move the reads to it, then drop the old column later",
            )
        };
        match operation {
            Op::DropColumn { column_names, .. } => {
                for column in column_names {
                    self.hit(
                        line,
                        Rule::DropColumn,
                        format!("drops column `{table}.{column}`: its values are lost, and code still using it fails"),
                        "first deploy code that no longer reads or writes the column, then drop it in a later revision",
                    );
                }
            }
            Op::RenameTable { table_name } => self.rename_table(line, table, renamed(table_name)),
            Op::RenameColumn { old_column_name, new_column_name } => {
                let (message, fix) = rename_column(old_column_name, new_column_name);
                self.hit(line, Rule::RenameColumn, message, fix);
            }
            Op::AddColumn { column_def, .. } if required_without_default(column_def) => self.hit(
                line,
                Rule::AddNotNullColumn,
                format!(
                    "adds NOT NULL column `{}` to existing table `{table}` without a default: fails if the table has rows (MySQL fills in 0 or '')",
                    column_def.name
                ),
                "give the column a DEFAULT, or add it nullable, backfill it, then make it NOT NULL",
            ),
            Op::AlterColumn { column_name, op: AlterColumnOperation::SetDataType { .. } } => {
                let (message, fix) = retype(column_name);
                self.hit(line, Rule::ChangeColumnType, message, fix);
            }
            // MySQL: both restate the column's whole definition, type included.
            Op::ModifyColumn { col_name, .. } => {
                let (message, fix) = retype(col_name);
                self.hit(line, Rule::ChangeColumnType, message, fix);
            }
            Op::ChangeColumn { old_name, new_name, .. } => {
                if !old_name.value.eq_ignore_ascii_case(&new_name.value) {
                    let (message, fix) = rename_column(old_name, new_name);
                    self.hit(line, Rule::RenameColumn, message, fix);
                }
                let (message, fix) = retype(old_name);
                self.hit(line, Rule::ChangeColumnType, message, fix);
            }
            Op::AddConstraint { constraint, not_valid: false } if self.dialect == Dialect::Postgres => {
                let kind = match constraint {
                    TableConstraint::ForeignKey(_) => "a foreign key",
                    TableConstraint::Check(_) => "a check constraint",
                    _ => return,
                };
                self.hit(
                    line,
                    Rule::ConstraintWithoutNotValid,
                    format!(
                        "adds {kind} to `{table}` without NOT VALID: PostgreSQL checks every row while blocking writes"
                    ),
                    "add it with NOT VALID, then run `ALTER TABLE … VALIDATE CONSTRAINT …` in a later revision",
                );
            }
            _ => {}
        }
    }
}

/// A `concurrently-in-transaction` finding for `what`.
fn in_transaction(line: usize, what: &str) -> Hit {
    Hit {
        line,
        rule: Rule::ConcurrentlyInTransaction,
        message: format!("{what} cannot run inside a transaction, and this revision runs in one"),
        fix: "add `-- transaction: false` to the revision's header".into(),
    }
}

fn unparsable(line: usize, message: String) -> Hit {
    Hit {
        line,
        rule: Rule::Unparsable,
        message,
        fix: "the other rules cannot judge it: review it by hand; if the database accepts it, add \
              `-- migraph:allow unparsable` to the revision"
            .into(),
    }
}

/// Whether the first words of `text` are `words` (lowercase), in any case.
fn starts_with(text: &str, words: &[&str]) -> bool {
    let mut found = text.split_whitespace();
    words.iter().all(|w| found.next().is_some_and(|word| word.eq_ignore_ascii_case(w)))
}

/// The table a statement renames another one to.
fn renamed_to(statement: &Statement) -> Option<String> {
    match statement {
        Statement::AlterTable(alter) => alter.operations.iter().find_map(|o| match o {
            AlterTableOperation::RenameTable { table_name } => Some(key(renamed(table_name))),
            _ => None,
        }),
        Statement::RenameTable(renames) => renames.last().map(|r| key(&r.new_name)),
        _ => None,
    }
}

fn renamed(kind: &RenameTableNameKind) -> &ObjectName {
    match kind {
        RenameTableNameKind::As(name) | RenameTableNameKind::To(name) => name,
    }
}

/// A table's name without its schema, case-folded unless quoted.
fn key(name: &ObjectName) -> String {
    match name.0.last().and_then(|part| part.as_ident()) {
        Some(ident) if ident.quote_style.is_some() => ident.value.clone(),
        Some(ident) => ident.value.to_lowercase(),
        None => name.to_string(),
    }
}

/// Whether a column added with `column` is `NOT NULL` without a value for
/// the rows already there: no default, not generated, not an identity or
/// serial or auto-increment column.
fn required_without_default(column: &ColumnDef) -> bool {
    let options = || column.options.iter().map(|o| &o.option);
    let not_null = options().any(|o| matches!(o, ColumnOption::NotNull));
    let valued = options().any(|o| match o {
        ColumnOption::Default(_)
        | ColumnOption::Generated { .. }
        | ColumnOption::Identity(_)
        | ColumnOption::Materialized(_)
        | ColumnOption::Alias(_) => true,
        ColumnOption::DialectSpecific(tokens) => tokens.iter().any(|t| {
            let t = t.to_string();
            t.eq_ignore_ascii_case("AUTO_INCREMENT") || t.eq_ignore_ascii_case("AUTOINCREMENT")
        }),
        _ => false,
    });
    let serial = match &column.data_type {
        DataType::Custom(name, _) => {
            let name = name.to_string().to_ascii_lowercase();
            ["serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"].contains(&name.as_str())
        }
        _ => false,
    };
    not_null && !valued && !serial
}

/// The engine's name, as messages write it.
pub(crate) fn name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
        Dialect::Mysql => "MySQL",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, rule) of every finding.
    fn found(sql: &str, dialect: Dialect, transactional: bool) -> Vec<(usize, Rule)> {
        check(sql, dialect, transactional).into_iter().map(|h| (h.line, h.rule)).collect()
    }

    fn pg(sql: &str) -> Vec<(usize, Rule)> {
        found(sql, Dialect::Postgres, true)
    }

    #[test]
    fn each_rule_reports_its_statement() {
        let cases: &[(&str, Dialect, Rule)] = &[
            ("DROP TABLE users", Dialect::Postgres, Rule::DropTable),
            ("DROP TABLE IF EXISTS app.users CASCADE", Dialect::Postgres, Rule::DropTable),
            ("ALTER TABLE users DROP COLUMN email", Dialect::Sqlite, Rule::DropColumn),
            ("ALTER TABLE users RENAME TO people", Dialect::Sqlite, Rule::RenameTable),
            ("RENAME TABLE users TO people", Dialect::Mysql, Rule::RenameTable),
            ("ALTER TABLE users RENAME COLUMN email TO mail", Dialect::Postgres, Rule::RenameColumn),
            ("ALTER TABLE users ADD COLUMN age INTEGER NOT NULL", Dialect::Postgres, Rule::AddNotNullColumn),
            ("ALTER TABLE users ADD age INT NOT NULL", Dialect::Mysql, Rule::AddNotNullColumn),
            ("ALTER TABLE users ALTER COLUMN age TYPE BIGINT", Dialect::Postgres, Rule::ChangeColumnType),
            ("ALTER TABLE users ALTER COLUMN age SET DATA TYPE BIGINT", Dialect::Postgres, Rule::ChangeColumnType),
            ("ALTER TABLE users MODIFY age BIGINT", Dialect::Mysql, Rule::ChangeColumnType),
            ("CREATE INDEX users_age ON users (age)", Dialect::Postgres, Rule::CreateIndexBlocking),
            ("CREATE UNIQUE INDEX users_age ON users (age)", Dialect::Postgres, Rule::CreateIndexBlocking),
            ("CREATE INDEX CONCURRENTLY users_age ON users (age)", Dialect::Postgres, Rule::ConcurrentlyInTransaction),
            ("DROP INDEX CONCURRENTLY users_age", Dialect::Postgres, Rule::ConcurrentlyInTransaction),
            (
                "ALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18)",
                Dialect::Postgres,
                Rule::ConstraintWithoutNotValid,
            ),
            (
                "ALTER TABLE users ADD FOREIGN KEY (team) REFERENCES teams (id)",
                Dialect::Postgres,
                Rule::ConstraintWithoutNotValid,
            ),
            ("ALTER TABLE users ALTER COLUMN age SET NOT NULL", Dialect::Sqlite, Rule::SqliteAlter),
            ("CREATE TABLE (", Dialect::Sqlite, Rule::Unparsable),
            ("SELECT 'open", Dialect::Postgres, Rule::Unparsable),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(sql, dialect, rule)| found(sql, *dialect, true) != [(1, *rule)])
            .map(|(sql, dialect, _)| format!("{sql} ({dialect:?}): {:?}", check(sql, *dialect, true)))
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn safe_forms_pass() {
        let sql = "ALTER TABLE users ADD COLUMN a INTEGER;\n\
                   ALTER TABLE users ADD COLUMN b INTEGER NOT NULL DEFAULT 0;\n\
                   ALTER TABLE users ADD COLUMN c BIGSERIAL NOT NULL;\n\
                   ALTER TABLE users ADD COLUMN d INT NOT NULL GENERATED ALWAYS AS IDENTITY;\n\
                   ALTER TABLE users ADD COLUMN e INT NOT NULL GENERATED ALWAYS AS (a * 2) STORED;\n\
                   ALTER TABLE users ADD CONSTRAINT adult CHECK (age >= 18) NOT VALID;\n\
                   ALTER TABLE users VALIDATE CONSTRAINT adult;\n\
                   ALTER TABLE users ADD CONSTRAINT email_key UNIQUE (email);\n\
                   CREATE TABLE t (id INT);\n\
                   SELECT 1;\n";
        assert_eq!(pg(sql), []);
        assert_eq!(
            found("CREATE INDEX CONCURRENTLY i ON users (a);\nDROP INDEX CONCURRENTLY j", Dialect::Postgres, false),
            []
        );
        // No CONCURRENTLY on the other engines: nothing to say about indexes there.
        assert_eq!(found("CREATE INDEX i ON users (a)", Dialect::Sqlite, true), []);
        assert_eq!(found("CREATE INDEX i ON users (a)", Dialect::Mysql, true), []);
        assert_eq!(found("ALTER TABLE users ADD id INT NOT NULL AUTO_INCREMENT", Dialect::Mysql, true), []);
        assert_eq!(found("ALTER TABLE users ADD CONSTRAINT c CHECK (a > 0)", Dialect::Mysql, true), []);
        assert_eq!(found("", Dialect::Sqlite, true), []);
        assert_eq!(found("PRAGMA foreign_keys = OFF;\npragma defer_foreign_keys = ON", Dialect::Sqlite, true), []);
    }

    #[test]
    fn tables_created_in_the_section_are_new() {
        let sql = "CREATE TABLE t (id INT);\n\
                   ALTER TABLE t ADD COLUMN a INT NOT NULL;\n\
                   CREATE INDEX t_a ON t (a);\n\
                   ALTER TABLE t ADD CONSTRAINT pos CHECK (a > 0);\n\
                   ALTER TABLE T ALTER COLUMN a TYPE BIGINT;\n\
                   ALTER TABLE public.t RENAME COLUMN a TO b;\n\
                   ALTER TABLE t DROP COLUMN b;\n\
                   ALTER TABLE t RENAME TO u;\n\
                   CREATE INDEX u_id ON u (id);\n\
                   DROP TABLE u;\n\
                   CREATE INDEX \"T_id\" ON \"T\" (id);\n";
        assert_eq!(pg(sql), [(11, Rule::CreateIndexBlocking)], "a quoted name keeps its case");
    }

    /// SQLite's rebuild: the old table is dropped and the new one takes its
    /// name; nothing is lost.
    #[test]
    fn a_table_replaced_by_a_rename_is_not_dropped() {
        let sql = "CREATE TABLE \"p_new\" (id INTEGER PRIMARY KEY);\nINSERT INTO \"p_new\" SELECT id FROM \"p\";\n\
                   DROP TABLE \"p\";\nALTER TABLE \"p_new\" RENAME TO \"p\";\nCREATE INDEX p_id ON p (id);\n";
        assert_eq!(found(sql, Dialect::Sqlite, true), []);
        assert_eq!(pg(sql), []);
        // Dropped and created again: its rows are gone.
        assert_eq!(pg("DROP TABLE p;\nCREATE TABLE p (id INT);"), [(1, Rule::DropTable)]);
    }

    #[test]
    fn mysql_change_renames_and_retypes() {
        let found = found("ALTER TABLE users CHANGE email mail VARCHAR(200)", Dialect::Mysql, true);
        assert_eq!(found, [(1, Rule::RenameColumn), (1, Rule::ChangeColumnType)]);
    }

    #[test]
    fn several_operations_each_report() {
        let sql = "SELECT 1;\n\nALTER TABLE users\n  DROP COLUMN a,\n  DROP COLUMN b,\n  ADD COLUMN c INT NOT NULL;";
        assert_eq!(pg(sql), [(3, Rule::DropColumn), (3, Rule::DropColumn), (3, Rule::AddNotNullColumn)]);
        let hits = check(sql, Dialect::Postgres, true);
        assert!(hits[0].message.starts_with("drops column `users.a`"), "{}", hits[0].message);
        assert!(hits[1].message.starts_with("drops column `users.b`"), "{}", hits[1].message);
    }

    #[test]
    fn messages_name_the_objects() {
        let hit = |sql: &str, dialect| check(sql, dialect, true).remove(0);
        let h = hit("CREATE INDEX CONCURRENTLY i ON t (a)", Dialect::Postgres);
        assert_eq!(
            h.message,
            "CREATE INDEX CONCURRENTLY cannot run inside a transaction, and this revision runs in one"
        );
        assert_eq!(h.fix, "add `-- transaction: false` to the revision's header");
        let h = hit("ALTER TABLE t ALTER COLUMN a TYPE TEXT", Dialect::Sqlite);
        assert_eq!(h.rule, Rule::ChangeColumnType);
        let h = check("ALTER TABLE t ALTER COLUMN a TYPE TEXT", Dialect::Sqlite, true).remove(1);
        assert_eq!(h.rule, Rule::SqliteAlter);
        assert!(
            h.message.starts_with("`ALTER TABLE t ALTER COLUMN a TYPE TEXT`: SQLite's ALTER TABLE only"),
            "{}",
            h.message
        );
        assert_eq!(h.fix, "rebuild the table instead (SQLite's 12-step procedure)");
        let h = hit("ALTER TABLE t FROBNICATE", Dialect::Mysql);
        assert_eq!(h.rule, Rule::Unparsable);
        assert!(h.message.starts_with("sqlparser cannot read this statement as MySQL: Expected"), "{}", h.message);
        assert!(!h.message.contains("Line:"), "{}", h.message);
    }
}
