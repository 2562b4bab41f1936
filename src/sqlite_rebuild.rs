//! The SQL that changes a SQLite table in a way `ALTER TABLE` cannot (a
//! column's type, a constraint, a key): SQLite's 12-step table rebuild
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>), written for
//! one table of the schema a history produces.
//!
//! The schema is the real one: the history up to the given revisions is
//! applied to a scratch in-memory SQLite database through [`Migrator`], and
//! the table's `CREATE TABLE`, its indexes and triggers, and the views and
//! triggers that use it are read from `sqlite_master`.
//!
//! # Foreign keys
//!
//! With foreign keys on (the default of the SQLite migraph links), `DROP
//! TABLE` first deletes every row of the table, and the `ON DELETE CASCADE`,
//! `SET NULL` and `SET DEFAULT` actions of the tables that reference it
//! delete or change their rows. `PRAGMA foreign_keys = OFF` has no effect
//! inside a transaction, and `PRAGMA defer_foreign_keys = ON` defers checks,
//! not actions. So the rebuild cannot run in the transaction migraph opens
//! for a revision: the revision is written with `-- transaction: false`, and
//! its SQLite section switches foreign keys off, opens its own transaction,
//! stops before any change if they are still on, rebuilds, requires `PRAGMA
//! foreign_key_check` to find nothing, commits, and switches them on again.
//! A statement that fails leaves that transaction uncommitted: the table is
//! unchanged, and migraph's marker reports the revision as failed.

use std::collections::BTreeSet;

use diesel::sql_types::Text;
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use thiserror::Error;

use crate::graph::RevisionGraph;
use crate::plan::Verb;
use crate::revision::{DOWN_MARKER, UP_MARKER};
use crate::runner::{RunError, RunOptions};
use crate::Migrator;

/// The temporary table whose `CHECK` constraints stop the rebuild.
const GUARD: &str = "migraph_rebuild_guard";

/// Why no rebuild could be written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RebuildError {
    #[error("table `{0}` cannot exist yet: there is no revision to start from")]
    NoHistory(String),
    #[error("cannot open a scratch SQLite database: {0}")]
    Scratch(String),
    #[error("cannot apply the history to a scratch SQLite database to read table `{table}`: {source}")]
    History { table: String, source: Box<RunError> },
    #[error("cannot read the schema of the scratch database: {0}")]
    Schema(String),
    #[error("the history up to {} has no table `{table}` on SQLite (its tables: {})", .parents.join(" "), if .tables.is_empty() { "none".to_string() } else { .tables.join(", ") })]
    NoSuchTable { table: String, parents: Vec<String>, tables: Vec<String> },
    #[error("table `{table}` cannot be rebuilt this way: {why}")]
    NotRebuildable { table: String, why: &'static str },
    #[error("the rebuild needs the name `{0}` for the new table, and the schema already has an object of that name")]
    NameTaken(String),
}

/// The rebuild of one table, as SQL sections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuild {
    /// The table's name, as the schema has it.
    pub table: String,
    /// The tables whose foreign keys reference it (itself excluded), with
    /// their `ON DELETE` actions.
    pub children: Vec<(String, String)>,
    /// The generic up section: comments that ask for the PostgreSQL and
    /// MySQL `ALTER TABLE` (no statement).
    pub generic_up: String,
    /// The `-- migrate:up sqlite` section: the rebuild, to the table as it
    /// is now (the user edits the `CREATE TABLE` into the table wanted).
    pub up: String,
    /// The `-- migrate:down sqlite` section: the rebuild back to the table
    /// as it is now.
    pub down: String,
}

impl Rebuild {
    /// The sections of the revision file, markers included: generic up,
    /// SQLite up, SQLite down.
    pub fn body(&self) -> String {
        format!(
            "{UP_MARKER}\n{}\n{UP_MARKER} sqlite\n{}\n{DOWN_MARKER} sqlite\n{}",
            self.generic_up, self.up, self.down
        )
    }
}

#[derive(QueryableByName)]
struct Object {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    owner: String,
    #[diesel(sql_type = Text)]
    sql: String,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Child {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

/// Writes the rebuild of `table` as the history up to `parents` (revision
/// IDs; the new revision's parents) leaves it on SQLite.
pub fn rebuild(graph: &RevisionGraph, parents: &[String], table: &str) -> Result<Rebuild, RebuildError> {
    if parents.is_empty() {
        return Err(RebuildError::NoHistory(table.to_string()));
    }
    let mut conn = SqliteConnection::establish(":memory:").map_err(|e| RebuildError::Scratch(e.to_string()))?;
    let options = RunOptions::default();
    let version_tables = [options.table.clone(), format!("{}_pending", options.table)];
    let migrator = Migrator::from_graph(graph.clone());
    let targets: Vec<&str> = parents.iter().map(String::as_str).collect();
    migrator
        .run(&mut conn, Verb::Upgrade, &targets, |_| {})
        .map_err(|e| RebuildError::History { table: table.to_string(), source: Box::new(e) })?;
    let schema = |e: diesel::result::Error| RebuildError::Schema(e.to_string());
    let objects: Vec<Object> = diesel::sql_query(
        "SELECT type AS kind, name, tbl_name AS owner, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid",
    )
    .load(&mut conn)
    .map_err(schema)?;
    let is_version_table = |name: &str| version_tables.iter().any(|t| t.eq_ignore_ascii_case(name));
    let found = objects.iter().find(|o| o.kind == "table" && o.name.eq_ignore_ascii_case(table));
    let Some(found) = found.filter(|o| !is_version_table(&o.name)) else {
        let tables = objects
            .iter()
            .filter(|o| o.kind == "table" && !is_version_table(&o.name) && !o.name.starts_with("sqlite_"))
            .map(|o| o.name.clone())
            .collect();
        return Err(RebuildError::NoSuchTable { table: table.to_string(), parents: parents.to_vec(), tables });
    };
    let name = found.name.clone();
    let refuse = |why| Err(RebuildError::NotRebuildable { table: name.clone(), why });
    if name.to_ascii_lowercase().starts_with("sqlite_") {
        return refuse("it is one of SQLite's own tables");
    }
    let Some(create) = renamed_create(&found.sql, &format!("{name}_new")) else {
        return refuse("its CREATE statement is not a CREATE TABLE (a virtual table?)");
    };
    let new_name = format!("{name}_new");
    if objects.iter().any(|o| o.name.eq_ignore_ascii_case(&new_name)) {
        return Err(RebuildError::NameTaken(new_name));
    }
    let columns: Vec<Name> = diesel::sql_query("SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid")
        .bind::<Text, _>(&name)
        .load(&mut conn)
        .map_err(schema)?;
    let children: Vec<Child> = diesel::sql_query(
        "SELECT DISTINCT m.name AS name, f.on_delete AS on_delete FROM sqlite_master AS m \
         JOIN pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' AND f.\"table\" = ? COLLATE NOCASE \
         AND m.name <> ? COLLATE NOCASE ORDER BY m.name",
    )
    .bind::<Text, _>(&name)
    .bind::<Text, _>(&name)
    .load(&mut conn)
    .map_err(schema)?;
    let plan = Plan::new(&objects, &name, &new_name, create, columns.into_iter().map(|c| c.name).collect());
    let children: Vec<(String, String)> = children.into_iter().map(|c| (c.name, c.on_delete)).collect();
    let parents_text = parents.join(" ");
    Ok(Rebuild {
        generic_up: generic_up(&name),
        up: plan.sql(&up_comment(&name, &new_name, &parents_text, &children)),
        down: plan.sql(&format!(
            "-- Rebuilds table {} back to what it was before this revision, with the same procedure\n\
             -- (see the up section). If the up section adds, drops or renames columns, edit the column\n\
             -- lists of the INSERT ... SELECT below to match.\n",
            quote(&name)
        )),
        table: name,
        children,
    })
}

/// What the rebuild drops, creates and recreates.
struct Plan {
    table: String,
    new_name: String,
    create: String,
    columns: Vec<String>,
    autoincrement: bool,
    /// Triggers, then views (dependents first), that use the table: dropped
    /// before it is.
    drop: Vec<(&'static str, String)>,
    /// Indexes, views and triggers to create after the rename, in this order.
    recreate: Vec<String>,
}

impl Plan {
    fn new(objects: &[Object], table: &str, new_name: &str, create: String, columns: Vec<String>) -> Plan {
        let own = |o: &Object| o.owner.eq_ignore_ascii_case(table);
        // Views that use the table, or a view that does, and triggers that
        // use any of them (or are on one of those views).
        let mut used = BTreeSet::from([table.to_ascii_lowercase()]);
        let mut views: Vec<&Object> = Vec::new();
        loop {
            let more: Vec<&Object> = objects
                .iter()
                .filter(|o| o.kind == "view" && !used.contains(&o.name.to_ascii_lowercase()))
                .filter(|o| mentions(&o.sql, &used))
                .collect();
            if more.is_empty() {
                break;
            }
            used.extend(more.iter().map(|o| o.name.to_ascii_lowercase()));
            views.extend(more);
        }
        views.sort_by_key(|v| objects.iter().position(|o| std::ptr::eq(o, *v)));
        let triggers: Vec<&Object> = objects
            .iter()
            .filter(|o| o.kind == "trigger")
            .filter(|o| own(o) || used.contains(&o.owner.to_ascii_lowercase()) || mentions(&o.sql, &used))
            .collect();
        let indexes = objects.iter().filter(|o| o.kind == "index" && own(o));
        let mut drop: Vec<(&'static str, String)> =
            triggers.iter().filter(|t| !own(t)).map(|t| ("TRIGGER", t.name.clone())).collect();
        drop.extend(views.iter().rev().map(|v| ("VIEW", v.name.clone())));
        let recreate = indexes.chain(views.iter().copied()).chain(triggers.iter().copied()).map(|o| o.sql.clone());
        Plan {
            table: table.to_string(),
            new_name: new_name.to_string(),
            autoincrement: words(&create).iter().any(|w| w.eq_ignore_ascii_case("AUTOINCREMENT")),
            create,
            columns,
            drop,
            recreate: recreate.collect(),
        }
    }

    /// The section: `comment`, then the procedure.
    fn sql(&self, comment: &str) -> String {
        let (table, new) = (quote(&self.table), quote(&self.new_name));
        let columns = self.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ");
        let mut out = comment.to_string();
        out.push_str(&format!(
            "PRAGMA foreign_keys = OFF;\nBEGIN;\n\
             -- Stops here, before any change, if foreign keys are still on (PRAGMA foreign_keys has no\n\
             -- effect inside a transaction), and at the end if a foreign key is violated.\n\
             CREATE TEMP TABLE {GUARD} (\n    \
             foreign_keys INTEGER CONSTRAINT \"foreign keys are still on: DROP TABLE would delete or change the rows \
             of the tables that reference {}; run this revision outside a transaction\" CHECK (foreign_keys = 0),\n    \
             violations INTEGER CONSTRAINT \"PRAGMA foreign_key_check found rows that violate a foreign key\" \
             CHECK (violations = 0)\n);\n\
             INSERT INTO {GUARD} (foreign_keys) SELECT foreign_keys FROM pragma_foreign_keys;\n",
            self.table.replace('"', "'")
        ));
        if !self.drop.is_empty() {
            out.push_str(&format!("\n-- Triggers and views that use {table}: created again below.\n"));
            for (kind, name) in &self.drop {
                out.push_str(&format!("DROP {kind} IF EXISTS {};\n", quote(name)));
            }
        }
        out.push_str(&format!("\n-- The table as it should be (edit this statement):\n{};\n\n", self.create));
        out.push_str(&format!("INSERT INTO {new} ({columns})\n  SELECT {columns} FROM {table};\n"));
        if self.autoincrement {
            let (table, new) = (literal(&self.table), literal(&self.new_name));
            out.push_str(&format!(
                "-- Keeps the AUTOINCREMENT counter.\nDELETE FROM sqlite_sequence WHERE name = {new};\n\
                 INSERT INTO sqlite_sequence (name, seq) SELECT {new}, seq FROM sqlite_sequence WHERE name = {table};\n"
            ));
        }
        out.push_str(&format!("DROP TABLE {table};\nALTER TABLE {new} RENAME TO {table};\n"));
        if !self.recreate.is_empty() {
            out.push_str("\n-- Indexes, views and triggers, as they were (edit them if they use a changed column):\n");
            for sql in &self.recreate {
                out.push_str(&format!("{sql};\n"));
            }
        }
        out.push_str(&format!(
            "\nINSERT INTO {GUARD} (violations) SELECT count(*) FROM pragma_foreign_key_check;\n\
             DROP TABLE temp.{GUARD};\nCOMMIT;\nPRAGMA foreign_keys = ON;\n"
        ));
        out
    }
}

/// The comment at the top of the SQLite up section.
fn up_comment(table: &str, new_name: &str, parents: &str, children: &[(String, String)]) -> String {
    let children = match children {
        [] => "none in this schema".to_string(),
        list => list.iter().map(|(name, action)| format!("{name} (ON DELETE {action})")).collect::<Vec<_>>().join(", "),
    };
    format!(
        "-- Rebuilds table {table} with SQLite's 12-step procedure\n\
         -- (https://www.sqlite.org/lang_altertable.html#otheralter), from the schema the history up to\n\
         -- {parents} produces. To change the table:\n\
         --   1. edit the CREATE TABLE {new} statement below (now a copy of {table});\n\
         --   2. if you add, drop or rename columns, edit the column lists of the INSERT ... SELECT\n\
         --      (a new NOT NULL column without a default needs a value there);\n\
         --   3. edit the indexes, views and triggers created again after it if they use a changed column.\n\
         --\n\
         -- Foreign keys: with foreign keys on (migraph's SQLite has them on by default), DROP TABLE\n\
         -- first deletes every row of {table}, and the ON DELETE actions of the tables that reference\n\
         -- it (here: {children}) would delete or change their rows. PRAGMA foreign_keys = OFF has no\n\
         -- effect inside a transaction, and PRAGMA defer_foreign_keys = ON defers checks, not actions.\n\
         -- So this revision runs outside migraph's transaction (`-- transaction: false` above) and\n\
         -- opens its own: foreign keys off, BEGIN, a guard that stops if they are still on, the\n\
         -- rebuild, PRAGMA foreign_key_check (must find nothing), COMMIT, foreign keys on. If a\n\
         -- statement fails, nothing is committed: the table stays as it was, and `migraph status`\n\
         -- reports the revision as failed (record that with `migraph stamp` once fixed).\n",
        table = quote(table),
        new = quote(new_name),
    )
}

/// The generic up section: what PostgreSQL and MySQL need instead.
fn generic_up(table: &str) -> String {
    format!(
        "-- PostgreSQL and MySQL change the table in place: write that ALTER TABLE here, e.g.\n\
         --   ALTER TABLE {table} ALTER COLUMN <column> TYPE <type>;   -- PostgreSQL\n\
         --   ALTER TABLE {table} MODIFY <column> <type>;              -- MySQL\n\
         -- (or in `-- migrate:up postgres` and `-- migrate:up mysql` sections), and the reverse in a\n\
         -- `-- migrate:down` section (without one the revision is irreversible there). Until this\n\
         -- section has a statement, migraph refuses to run the revision on PostgreSQL and MySQL and\n\
         -- `migraph check` reports it; in a SQLite-only project, delete this section. The revision\n\
         -- runs outside a transaction (for SQLite's sake): put several statements between BEGIN; and\n\
         -- COMMIT; to keep them atomic on PostgreSQL.\n",
        table = quote(table)
    )
}

/// `sql`, a `CREATE TABLE` as `sqlite_master` stores it (`CREATE TABLE`
/// and the name as written, without schema or `IF NOT EXISTS`), with the
/// table named `name`; `None` when it is not a `CREATE TABLE`.
fn renamed_create(sql: &str, name: &str) -> Option<String> {
    const PREFIX: &str = "CREATE TABLE ";
    if !sql.get(..PREFIX.len())?.eq_ignore_ascii_case(PREFIX) {
        return None;
    }
    let rest = sql[PREFIX.len()..].trim_start();
    let mut end = identifier_end(rest)?;
    // A schema-qualified name (not stored by SQLite, but accepted).
    let after = rest[end..].trim_start();
    if let Some(qualified) = after.strip_prefix('.') {
        let qualified = qualified.trim_start();
        end = rest.len() - qualified.len() + identifier_end(qualified)?;
    }
    Some(format!("{PREFIX}{}{}", quote(name), &rest[end..]))
}

/// The byte length of the identifier at the start of `text`: quoted with
/// `"`, `` ` ``, `'` (a doubled quote escapes it) or `[…]`, or bare.
fn identifier_end(text: &str) -> Option<usize> {
    let first = text.chars().next()?;
    match first {
        '"' | '`' | '\'' => {
            let mut chars = text.char_indices().skip(1).peekable();
            while let Some((i, c)) = chars.next() {
                if c == first {
                    if chars.peek().is_some_and(|(_, next)| *next == first) {
                        chars.next();
                    } else {
                        return Some(i + 1);
                    }
                }
            }
            None
        }
        '[' => text.find(']').map(|i| i + 1),
        _ => {
            let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(text.len());
            (end > 0).then_some(end)
        }
    }
}

/// Whether `sql` names one of `names` (lower case) as a word or quoted
/// identifier. SQL that does not lex counts as naming them (the object is
/// dropped and created again, which is harmless).
fn mentions(sql: &str, names: &BTreeSet<String>) -> bool {
    match Tokenizer::new(&SQLiteDialect {}, sql).tokenize() {
        Ok(tokens) => tokens.iter().any(|t| match t {
            Token::Word(w) => names.contains(&w.value.to_ascii_lowercase()),
            _ => false,
        }),
        Err(_) => true,
    }
}

/// The words of `sql` (empty when it does not lex).
fn words(sql: &str) -> Vec<String> {
    let tokens = Tokenizer::new(&SQLiteDialect {}, sql).tokenize().unwrap_or_default();
    tokens
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) if w.quote_style.is_none() => Some(w.value),
            _ => None,
        })
        .collect()
}

/// `name` as a double-quoted identifier.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a single-quoted string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::revision::Revision;

    #[test]
    fn the_create_statement_is_renamed() {
        let renamed = |sql: &str| renamed_create(sql, "t_new");
        assert_eq!(renamed("CREATE TABLE t (a INT)").as_deref(), Some("CREATE TABLE \"t_new\" (a INT)"));
        assert_eq!(renamed("CREATE TABLE \"odd \"\" name\"(a)").as_deref(), Some("CREATE TABLE \"t_new\"(a)"));
        assert_eq!(renamed("CREATE TABLE [x y] (a)").as_deref(), Some("CREATE TABLE \"t_new\" (a)"));
        assert_eq!(renamed("CREATE TABLE `x` (a)").as_deref(), Some("CREATE TABLE \"t_new\" (a)"));
        assert_eq!(renamed("create table main.t(a)").as_deref(), Some("CREATE TABLE \"t_new\"(a)"));
        assert_eq!(renamed("CREATE VIRTUAL TABLE f USING fts5(a)"), None);
        assert_eq!(renamed("CREATE TABLE \"open"), None);
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }

    fn graph(files: &[(&str, &str)]) -> RevisionGraph {
        let revisions = files
            .iter()
            .map(|(id, up)| {
                let parents = if *id == "a" { String::new() } else { "a".to_string() };
                let text = format!("-- id: {id}\n-- parents: {parents}\n-- migrate:up\n{up}\n-- migrate:down\n");
                Revision::parse(Path::new(&format!("{id}.sql")), &text).unwrap()
            })
            .collect();
        RevisionGraph::new(revisions).unwrap()
    }

    #[test]
    fn the_rebuild_covers_indexes_triggers_views_and_children() {
        let g = graph(&[(
            "a",
            "CREATE TABLE p (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, price INTEGER, \
             twice INTEGER GENERATED ALWAYS AS (price * 2) VIRTUAL);\n\
             CREATE INDEX p_name ON p (name);\n\
             CREATE TABLE log (x TEXT);\n\
             CREATE TRIGGER p_log AFTER INSERT ON p BEGIN INSERT INTO log VALUES (new.name); END;\n\
             CREATE TABLE c (id INTEGER PRIMARY KEY, p_id INTEGER REFERENCES p (id) ON DELETE CASCADE);\n\
             CREATE TRIGGER c_log AFTER INSERT ON c BEGIN INSERT INTO log SELECT name FROM p WHERE id = new.p_id; END;\n\
             CREATE VIEW names AS SELECT name FROM p;\n\
             CREATE VIEW names2 AS SELECT name FROM names;\n\
             CREATE VIEW other AS SELECT x FROM log;",
        )]);
        let r = rebuild(&g, &["a".into()], "P").unwrap();
        assert_eq!(r.table, "p");
        assert_eq!(r.children, [("c".to_string(), "CASCADE".to_string())]);
        let up = &r.up;
        let at = |text: &str| up.find(text).unwrap_or_else(|| panic!("{text} not in:\n{up}"));
        // Dependents dropped before the table (views dependents first), created again after it.
        assert!(at("DROP TRIGGER IF EXISTS \"c_log\"") < at("DROP VIEW IF EXISTS \"names2\""));
        assert!(at("DROP VIEW IF EXISTS \"names2\"") < at("DROP VIEW IF EXISTS \"names\";"));
        assert!(!up.contains("DROP TRIGGER IF EXISTS \"p_log\""), "dropped with the table");
        assert!(!up.contains("\"other\""), "unrelated view untouched");
        assert!(at("DROP VIEW IF EXISTS \"names\";") < at("\nCREATE TABLE \"p_new\" ("));
        assert!(
            at("INSERT INTO \"p_new\" (\"id\", \"name\", \"price\")\n  SELECT \"id\", \"name\", \"price\" FROM \"p\"")
                > 0
        );
        assert!(at("DROP TABLE \"p\";") < at("ALTER TABLE \"p_new\" RENAME TO \"p\""));
        assert!(at("ALTER TABLE \"p_new\" RENAME TO \"p\"") < at("CREATE INDEX p_name"));
        assert!(at("CREATE INDEX p_name") < at("CREATE VIEW names AS"));
        assert!(at("CREATE VIEW names AS") < at("CREATE VIEW names2"));
        assert!(at("CREATE VIEW names2") < at("CREATE TRIGGER p_log"));
        assert!(at("CREATE TRIGGER p_log") < at("CREATE TRIGGER c_log"));
        assert!(at("PRAGMA foreign_keys = OFF;\nBEGIN;") < at("COMMIT;\nPRAGMA foreign_keys = ON;"));
        assert!(at("sqlite_sequence") > 0);
        assert!(up.contains("c (ON DELETE CASCADE)"), "{up}");
        assert_eq!(r.down.matches("\nCREATE TABLE \"p_new\" (").count(), 1);
        println!("{}", r.body());
        assert!(r.body().contains("-- migrate:up sqlite\n") && r.body().contains("-- migrate:down sqlite\n"));
        // Every statement is one the runner accepts on SQLite.
        assert_eq!(crate::lint::sqlite_alter::unsupported(up), []);
    }

    #[test]
    fn what_cannot_be_rebuilt_is_refused() {
        let g = graph(&[("a", "CREATE TABLE t (a INT); CREATE TABLE t_new (a INT); CREATE TABLE u (a INT);")]);
        let e = rebuild(&g, &["a".into()], "nope").unwrap_err();
        assert_eq!(e.to_string(), "the history up to a has no table `nope` on SQLite (its tables: t, t_new, u)");
        assert!(matches!(rebuild(&g, &["a".into()], "t").unwrap_err(), RebuildError::NameTaken(n) if n == "t_new"));
        assert!(matches!(rebuild(&g, &[], "t").unwrap_err(), RebuildError::NoHistory(_)));
        assert!(matches!(
            rebuild(&g, &["a".into()], "migraph_revisions").unwrap_err(),
            RebuildError::NoSuchTable { .. }
        ));
        let g = graph(&[("a", "CREATE TABLE t (a INT);"), ("b", "ALTER TABLE t ALTER COLUMN a TYPE TEXT;")]);
        let e = rebuild(&g, &["b".into()], "t").unwrap_err();
        assert!(matches!(&e, RebuildError::History { .. }), "{e}");
        assert!(e.to_string().contains("ALTER COLUMN a TYPE TEXT"), "{e}");
    }
}
