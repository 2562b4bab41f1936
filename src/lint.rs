//! Rules over a revision's SQL, read with `sqlparser` for the dialect it
//! runs on: the changes that lock a busy table, fail on a table with rows,
//! or break the code still running against the old schema during a deploy.
//!
//! - [`rules`]: the statement rules ([`Rule`] lists them with their
//!   severity), one pass over a SQL section;
//! - [`sqlite_alter`]: `ALTER TABLE` forms SQLite does not have (it only
//!   renames a table and renames, adds or drops a column); the table has to
//!   be rebuilt instead ([`crate::sqlite_rebuild`] writes that SQL). The
//!   runner and `migraph check` also use it on their own;
//! - [`allow`]: `-- migraph:allow RULE...` lines, the rules a file turns off.
//!
//! [`revision_findings`] lints one revision for the dialects it targets:
//! each dialect's effective up SQL ([`Revision::up_for`]) with that
//! dialect's parser. Only up sections are linted: down sections undo a
//! revision and normally drop what it created, and they run by hand, when
//! a change is rolled back; every rule is about what an upgrade does to a
//! running application. A finding that the same statement gives on several
//! dialects is reported once, naming them all. Lines count in the file.
//!
//! Errors are what fails or cannot run as written (an `ALTER TABLE` SQLite
//! does not have, `CONCURRENTLY` in a transaction, a `NOT NULL` column
//! without a default on a table that has rows); warnings are what works
//! but locks a table or breaks the running code (drops, renames, type
//! changes, blocking index builds and constraint checks), and statements
//! `sqlparser` cannot read (it does not know every statement the servers
//! accept, so they are left unjudged, not refused).

pub mod allow;
pub mod rules;
pub mod sqlite_alter;

use std::fmt;
use std::path::PathBuf;

use crate::backend::Dialect;
use crate::plan::Direction;
use crate::revision::{parse_marker, Marker, Revision, DIALECTS};

/// A lint rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Rule {
    /// An `ALTER TABLE` form SQLite does not have ([`sqlite_alter`]).
    SqliteAlter,
    /// `DROP TABLE`.
    DropTable,
    /// `ALTER TABLE … DROP COLUMN`.
    DropColumn,
    /// `ALTER TABLE … RENAME TO`, MySQL `RENAME TABLE`.
    RenameTable,
    /// `ALTER TABLE … RENAME COLUMN`, MySQL `CHANGE` to another name.
    RenameColumn,
    /// `ADD COLUMN … NOT NULL` without a default, to a table that exists.
    AddNotNullColumn,
    /// `ALTER COLUMN … TYPE`, MySQL `MODIFY` and `CHANGE`.
    ChangeColumnType,
    /// PostgreSQL `CREATE INDEX` without `CONCURRENTLY`.
    CreateIndexBlocking,
    /// PostgreSQL `CREATE`/`DROP INDEX CONCURRENTLY` in a revision that
    /// runs in a transaction.
    ConcurrentlyInTransaction,
    /// PostgreSQL `ADD CONSTRAINT` of a foreign key or check without `NOT VALID`.
    ConstraintWithoutNotValid,
    /// A statement `sqlparser` cannot read for the dialect.
    Unparsable,
}

/// How bad a finding is: errors fail `migraph lint` (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Rule {
    /// Every rule, in the order they are documented.
    pub const ALL: [Rule; 11] = [
        Rule::SqliteAlter,
        Rule::DropTable,
        Rule::DropColumn,
        Rule::RenameTable,
        Rule::RenameColumn,
        Rule::AddNotNullColumn,
        Rule::ChangeColumnType,
        Rule::CreateIndexBlocking,
        Rule::ConcurrentlyInTransaction,
        Rule::ConstraintWithoutNotValid,
        Rule::Unparsable,
    ];

    /// Its name, as `-- migraph:allow` and `lint.allow` write it.
    pub fn name(self) -> &'static str {
        match self {
            Rule::SqliteAlter => sqlite_alter::RULE,
            Rule::DropTable => "drop-table",
            Rule::DropColumn => "drop-column",
            Rule::RenameTable => "rename-table",
            Rule::RenameColumn => "rename-column",
            Rule::AddNotNullColumn => "add-not-null-column",
            Rule::ChangeColumnType => "change-column-type",
            Rule::CreateIndexBlocking => "create-index-blocking",
            Rule::ConcurrentlyInTransaction => "concurrently-in-transaction",
            Rule::ConstraintWithoutNotValid => "constraint-without-not-valid",
            Rule::Unparsable => "unparsable",
        }
    }

    /// The rule of that name (exactly as [`Rule::name`] writes it).
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.name() == name)
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::SqliteAlter | Rule::AddNotNullColumn | Rule::ConcurrentlyInTransaction => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// Every rule's name, comma-separated.
pub fn rule_names() -> String {
    Rule::ALL.map(Rule::name).join(", ")
}

/// One finding in a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The revision's ID.
    pub id: String,
    /// Its file.
    pub path: PathBuf,
    /// The statement's line in the file (in its SQL section when the file
    /// cannot be read, e.g. an embedded revision).
    pub line: usize,
    /// The dialects whose SQL gives it, in the order sqlite, postgres, mysql.
    pub dialects: Vec<Dialect>,
    pub rule: Rule,
    /// What the statement does and why it is dangerous.
    pub message: String,
    /// What to do instead, in one line.
    pub fix: String,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.rule.severity()
    }
}

/// `file:line: warning[rule]: message — fix`.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (path, line, severity, rule) = (self.path.display(), self.line, self.severity(), self.rule);
        write!(f, "{path}:{line}: {severity}[{rule}]: {} — {}", self.message, self.fix)
    }
}

/// `-- migraph:allow` lines of a revision file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{}: {}", .path.display(), .error.line, .error.problem)]
pub struct AllowFileError {
    pub path: PathBuf,
    pub error: allow::AllowError,
}

/// The findings in `revision`'s up SQL for each of `dialects` that has up
/// SQL, in line order, but those of the rules in `allowed` or allowed by
/// the file's `-- migraph:allow` lines. A file that cannot be read (an
/// embedded revision) allows nothing itself; one whose allow lines cannot
/// be read gives every such line as an error.
pub fn revision_findings(
    revision: &Revision,
    dialects: &[Dialect],
    allowed: &[Rule],
) -> Result<Vec<Finding>, Vec<AllowFileError>> {
    let text = file_text(revision);
    let mut allowed = allowed.to_vec();
    match allow::allowed(&text) {
        Ok(rules) => allowed.extend(rules),
        Err(errors) => {
            return Err(errors.into_iter().map(|error| AllowFileError { path: revision.path.clone(), error }).collect())
        }
    }
    let mut found: Vec<Finding> = Vec::new();
    for &dialect in DIALECTS.iter().map(|(d, _)| d).filter(|d| dialects.contains(d)) {
        let Some(sql) = revision.up_for(dialect) else { continue };
        let offset = up_marker_line(revision, &text, dialect);
        for hit in rules::check(sql, dialect, revision.transactional) {
            if allowed.contains(&hit.rule) {
                continue;
            }
            let line = offset.map_or(hit.line, |marker| marker + hit.line);
            // The same statement on another dialect: once, naming both. A
            // statement that does not parse gives each parser's own words.
            let same = |f: &&mut Finding| {
                f.line == line && f.rule == hit.rule && (f.message == hit.message || hit.rule == Rule::Unparsable)
            };
            match found.iter_mut().find(same) {
                Some(finding) => finding.dialects.push(dialect),
                None => found.push(Finding {
                    id: revision.id.clone(),
                    path: revision.path.clone(),
                    line,
                    dialects: vec![dialect],
                    rule: hit.rule,
                    message: hit.message,
                    fix: hit.fix,
                }),
            }
        }
    }
    for finding in found.iter_mut().filter(|f| f.rule == Rule::Unparsable && f.dialects.len() > 1) {
        let names: Vec<&str> = finding.dialects.iter().map(|d| rules::name(*d)).collect();
        finding.message = format!("{} (and as {})", finding.message, names[1..].join(", "));
    }
    found.sort_by_key(|f| f.line);
    Ok(found)
}

/// The text of `revision`'s file with LF line endings; empty when it
/// cannot be read.
fn file_text(revision: &Revision) -> String {
    std::fs::read_to_string(&revision.path).map(|t| t.replace("\r\n", "\n")).unwrap_or_default()
}

/// The line of the file's marker of the up section that runs on `dialect`
/// (`-- migrate:up <dialect>`, else `-- migrate:up`); `None` when `text`
/// (the file) has none.
fn up_marker_line(revision: &Revision, text: &str, dialect: Dialect) -> Option<usize> {
    let own = DIALECTS.iter().zip(&revision.dialect_sql).any(|((d, _), sql)| *d == dialect && sql.up.is_some());
    let wanted = Marker { direction: Direction::Up, dialect: own.then_some(dialect) };
    text.lines().position(|line| parse_marker(line).ok().flatten() == Some(wanted)).map(|index| index + 1)
}

/// How a line of `sql`, one of the sections of the file whose `text` is
/// given, turns into a line of the file; `None` when the file does not
/// contain the section (gone, or edited since it was loaded).
fn section_offset(text: &str, sql: &str) -> Option<impl Fn(usize) -> usize> {
    let sql = sql.replace("\r\n", "\n");
    let trimmed = sql.trim_start_matches('\n');
    let skipped = sql.len() - trimmed.len();
    let trimmed = trimmed.trim_end();
    let at = text.find(trimmed).filter(|_| !trimmed.trim().is_empty())?;
    let before = text[..at].matches('\n').count();
    Some(move |line: usize| before + line.saturating_sub(skipped))
}

/// The line in `revision`'s file of line `line` (1-based) of `sql`, one of
/// its sections: found by looking the section up in the file; `line`
/// itself when the file cannot be read or does not contain it (an embedded
/// revision, or a file edited since it was loaded).
pub(crate) fn file_line(revision: &Revision, sql: &str, line: usize) -> usize {
    section_offset(&file_text(revision), sql).map_or(line, |at| at(line))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const ALL: [Dialect; 3] = [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql];

    fn write(dir: &Path, text: &str) -> Revision {
        let path = dir.join("r.sql");
        std::fs::write(&path, text).unwrap();
        Revision::read(&path).unwrap()
    }

    fn found(revision: &Revision, dialects: &[Dialect], allowed: &[Rule]) -> Vec<(usize, Rule, Vec<Dialect>)> {
        revision_findings(revision, dialects, allowed)
            .unwrap()
            .into_iter()
            .map(|f| (f.line, f.rule, f.dialects))
            .collect()
    }

    #[test]
    fn rule_names_round_trip() {
        for rule in Rule::ALL {
            assert_eq!(Rule::from_name(rule.name()), Some(rule));
        }
        assert_eq!(Rule::from_name("Drop-Table"), None);
        assert_eq!(Rule::SqliteAlter.name(), "sqlite-alter");
    }

    #[test]
    fn each_dialect_lints_its_own_up_sql_once_per_statement() {
        let dir = tempfile::tempdir().unwrap();
        let text = "-- id: a\n-- parents:\n\n-- migrate:up\nALTER TABLE t DROP COLUMN a;\nCREATE INDEX i ON t (b);\n\
                    ALTER TABLE t ALTER COLUMN b TYPE TEXT;\n\n-- migrate:down\nDROP TABLE t;\n\n\
                    -- migrate:up mysql\nALTER TABLE t DROP COLUMN a;\n";
        let r = write(dir.path(), text);
        let all = found(&r, &ALL, &[]);
        assert_eq!(
            all,
            [
                (5, Rule::DropColumn, vec![Dialect::Sqlite, Dialect::Postgres]),
                (6, Rule::CreateIndexBlocking, vec![Dialect::Postgres]),
                (7, Rule::ChangeColumnType, vec![Dialect::Sqlite, Dialect::Postgres]),
                (7, Rule::SqliteAlter, vec![Dialect::Sqlite]),
                (13, Rule::DropColumn, vec![Dialect::Mysql]),
            ],
            "the down section is not linted"
        );
        assert_eq!(found(&r, &[Dialect::Mysql], &[]), [(13, Rule::DropColumn, vec![Dialect::Mysql])]);
        assert_eq!(found(&r, &[Dialect::Postgres], &[Rule::DropColumn, Rule::CreateIndexBlocking]).len(), 1);
        let f = &revision_findings(&r, &[Dialect::Postgres], &[]).unwrap()[0];
        assert_eq!(f.to_string(), format!("{}:5: warning[drop-column]: drops column `t.a`: its values are lost, and code still using it fails — first deploy code that no longer reads or writes the column, then drop it in a later revision", r.path.display()));
        assert_eq!(f.severity(), Severity::Warning);
    }

    #[test]
    fn allow_lines_turn_rules_off_and_bad_ones_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let text = "-- id: a\n-- parents:\n-- migraph:allow drop-column\n-- migrate:up\nALTER TABLE t DROP COLUMN a;\nDROP TABLE u;\n";
        let r = write(dir.path(), text);
        assert_eq!(found(&r, &ALL, &[]), [(6, Rule::DropTable, ALL.to_vec())]);
        let r = write(dir.path(), &text.replace("drop-column", "drop-columns"));
        let errors = revision_findings(&r, &ALL, &[]).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0]
            .to_string()
            .starts_with(&format!("{}:3: unknown lint rule `drop-columns`", r.path.display())));
    }

    #[test]
    fn unparsable_statements_name_each_dialect() {
        let dir = tempfile::tempdir().unwrap();
        let r = write(dir.path(), "-- id: a\n-- parents:\n-- migrate:up\nALTER TABLE t FROBNICATE;\n");
        let findings = revision_findings(&r, &ALL, &[]).unwrap();
        let summary: Vec<(usize, Rule)> = findings.iter().map(|f| (f.line, f.rule)).collect();
        assert_eq!(summary, [(4, Rule::Unparsable)]);
        assert_eq!(findings[0].dialects, ALL);
        assert!(
            findings[0].message.starts_with("sqlparser cannot read this statement as SQLite: "),
            "{}",
            findings[0].message
        );
        assert!(findings[0].message.ends_with(" (and as PostgreSQL, MySQL)"), "{}", findings[0].message);
    }

    #[test]
    fn lines_fall_back_to_the_section_without_a_file() {
        let r =
            Revision::parse(Path::new("gone.sql"), "-- id: a\n-- parents:\n-- migrate:up\n\nDROP TABLE t;\n").unwrap();
        assert_eq!(found(&r, &[Dialect::Sqlite], &[]), [(2, Rule::DropTable, vec![Dialect::Sqlite])]);
    }
}
