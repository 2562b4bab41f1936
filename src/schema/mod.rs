//! Normalised schema snapshots of a live database, read from its catalog,
//! and the differences between two of them.
//!
//! A [`Schema`] describes what the revisions built, in one shape for every
//! engine: tables (columns with their normalised type, nullability and
//! default; the primary key; indexes with their columns, uniqueness and
//! partial predicate; foreign keys; check and unique constraints), views
//! (their normalised definition), triggers, and the engine's other
//! schema objects ([`Object`]): PostgreSQL enum types, sequences, functions
//! and procedures; MySQL/MariaDB stored routines and events.
//! migraph's own version tables (`<table>` and `<table>_pending`) and the
//! engine's internals (`sqlite_sequence`, `sqlite_stat*`) are left out.
//! Everything is sorted by name, so two snapshots of the same schema are
//! equal and print the same.
//!
//! Each engine is read from its own catalog (see `read.rs`): SQLite from
//! `sqlite_schema` and the `pragma_*` table-valued functions, PostgreSQL
//! from `pg_catalog` limited to one schema (the version table's, default
//! `public`), MySQL/MariaDB from `information_schema` for the connection's
//! database. Every query aggregates its rows into one JSON text, so a
//! snapshot takes a handful of round trips through the plain
//! [`Backend`](crate::backend::Backend) trait.
//!
//! Types, defaults and definitions are compared as the catalog spells them
//! (whitespace collapsed): a snapshot is meant to be compared with another
//! snapshot of the same engine (`migraph test` and `migraph verify`), not
//! across engines.
//!
//! ```
//! use diesel::Connection;
//! use migraph::backend::Backend;
//! use migraph::schema::{self, Scope};
//!
//! let mut conn = diesel::SqliteConnection::establish(":memory:")?;
//! conn.batch(
//!     "CREATE TABLE t (id INTEGER PRIMARY KEY, email varchar(20) NOT NULL CHECK (email LIKE '%@%')); \
//!      CREATE INDEX ix_t ON t (email)",
//! )?;
//! let before = schema::read(&mut conn, &Scope::default())?;
//! assert_eq!(before.to_string().lines().next(), Some("table t"));
//! // SQLite's checks come from the CREATE TABLE text; unnamed ones get a name.
//! assert!(before.to_string().contains("\n  check check(email) email LIKE '%@%'\n"));
//! conn.batch("DROP INDEX ix_t")?;
//! let after = schema::read(&mut conn, &Scope::default())?;
//! let diff = schema::diff(&before, &after);
//! assert_eq!(diff[0].to_string(), "index `ix_t` on table `t`: missing");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod diff;
mod read;
mod roundtrip;
mod scratch;
mod server;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use diff::{diff, Change, Difference};
pub use read::{read, Reader};
pub use roundtrip::{round_trip, verify, Outcome, RevisionResult, TestReport, Verification};
pub use scratch::{Scratch, ScratchError, SCRATCH_PREFIX};

/// What to read: which tables are migraph's own, and (PostgreSQL) which
/// schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// The version table (`<table>_pending` is left out too).
    pub version_table: String,
    /// PostgreSQL: the schema to read (`None`: `public`). Ignored elsewhere:
    /// SQLite reads `main`, MySQL the connection's database.
    pub schema: Option<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope { version_table: "migraph_revisions".into(), schema: None }
    }
}

impl Scope {
    /// The scope of runs with `options`.
    pub fn of(options: &crate::runner::RunOptions) -> Scope {
        Scope { version_table: options.table.clone(), schema: options.schema.clone() }
    }

    /// Whether `name` is one of migraph's own tables.
    pub fn is_version_table(&self, name: &str) -> bool {
        name == self.version_table
            || name.strip_suffix(crate::backend::sql::PENDING_SUFFIX).is_some_and(|t| t == self.version_table)
    }
}

/// A database's schema, normalised and sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub tables: Vec<Table>,
    pub views: Vec<View>,
    pub triggers: Vec<Trigger>,
    /// Other objects (sorted by kind, then name); absent from the JSON
    /// when there are none, so a schema of tables, views and triggers
    /// serialises as before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<Object>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    /// In the table's column order.
    pub columns: Vec<Column>,
    /// The primary key's columns, in key order (empty: none).
    pub primary_key: Vec<String>,
    /// Indexes other than the primary key's and unique constraints'.
    pub indexes: Vec<Index>,
    pub foreign_keys: Vec<ForeignKey>,
    /// Unique constraints (PostgreSQL; SQLite `UNIQUE` in the table's
    /// definition). MySQL lists them as unique indexes.
    pub uniques: Vec<Unique>,
    /// Check constraints. PostgreSQL and MariaDB/MySQL from their catalogs;
    /// SQLite has no catalog of them, so they are parsed from the table's
    /// `CREATE TABLE` text (see [`Check`] for their names there).
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    /// The type as the catalog spells it, lower case, whitespace collapsed.
    #[serde(rename = "type")]
    pub data_type: String,
    pub nullable: bool,
    pub default: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    /// Key columns in order (`(expression)` for an expression, ` DESC` marked).
    pub columns: Vec<String>,
    pub unique: bool,
    /// The `WHERE` of a partial index.
    pub predicate: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The constraint's name (`None` on SQLite, whose catalog has none).
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub references: String,
    pub referenced_columns: Vec<String>,
    pub on_update: String,
    pub on_delete: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
}

/// A check constraint.
///
/// On SQLite, read from the `CREATE TABLE` text: a constraint named with
/// `CONSTRAINT name` keeps its name; an unnamed column constraint is named
/// `check(<column>)` (`check(<column>)#2`, ... for more on one column); an
/// unnamed table constraint `check#1`, `check#2`, ... in the text's order.
/// The expression is sqlparser's rendering of the parsed expression. When
/// the text mentions `CHECK` but cannot be parsed, the table gets one entry
/// named `(unparsed)` whose expression is the whole collapsed `CREATE
/// TABLE` text: its checks are not itemised, but any change to the text is
/// still a difference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub expression: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub name: String,
    /// The definition, whitespace collapsed.
    pub definition: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    /// The definition, whitespace collapsed.
    pub definition: String,
}

/// A schema object other than a table, view or trigger, as one definition.
///
/// | engine | `kind` | `name` | `definition` |
/// |---|---|---|---|
/// | PostgreSQL | `type` | the enum type | `enum (label, ...)` in label order |
/// | PostgreSQL | `sequence` | the sequence | type, increment, min, max, start, cache, cycle, owning column (never its current value) |
/// | PostgreSQL | `function`, `procedure`, `aggregate` | `name(argument types)` | `pg_get_functiondef`, collapsed (aggregates: their transition function and state) |
/// | MySQL/MariaDB | `function`, `procedure` | the routine | parameters, result, characteristics and body |
/// | MySQL/MariaDB | `event` | the event | schedule (without its start and end times), status, completion and body |
///
/// Objects that belong to an extension (PostgreSQL) are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Object {
    pub kind: String,
    pub name: String,
    /// The definition, whitespace collapsed.
    pub definition: String,
}

impl Schema {
    /// No table, view, trigger or other object.
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty() && self.views.is_empty() && self.triggers.is_empty() && self.objects.is_empty()
    }

    /// Sorts everything by name (columns keep their table order).
    pub fn sort(&mut self) {
        self.tables.sort_by(|a, b| a.name.cmp(&b.name));
        for table in &mut self.tables {
            table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            table.foreign_keys.sort_by(|a, b| (&a.name, &a.columns).cmp(&(&b.name, &b.columns)));
            table.uniques.sort_by(|a, b| a.name.cmp(&b.name));
            table.checks.sort_by(|a, b| a.name.cmp(&b.name));
        }
        self.views.sort_by(|a, b| a.name.cmp(&b.name));
        self.triggers.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
        self.objects.sort_by(|a, b| (&a.kind, &a.name).cmp(&(&b.kind, &b.name)));
    }
}

/// SQL text with runs of whitespace collapsed to one space, trimmed, and a
/// trailing `;` dropped.
pub fn collapse(sql: &str) -> String {
    let joined = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches(';').trim_end().to_string()
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.data_type)?;
        if !self.nullable {
            f.write_str(" not null")?;
        }
        if let Some(default) = &self.default {
            write!(f, " default {default}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unique = if self.unique { "unique " } else { "" };
        write!(f, "{unique}index {} ({})", self.name, self.columns.join(", "))?;
        if let Some(predicate) = &self.predicate {
            write!(f, " where {predicate}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ForeignKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("foreign key ")?;
        if let Some(name) = &self.name {
            write!(f, "{name} ")?;
        }
        write!(
            f,
            "({}) references {} ({})",
            self.columns.join(", "),
            self.references,
            self.referenced_columns.join(", ")
        )?;
        write!(f, " on update {} on delete {}", self.on_update, self.on_delete)
    }
}

impl fmt::Display for Schema {
    /// One line per object, and per column, constraint and index under its
    /// table (indented by two spaces).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for table in &self.tables {
            writeln!(f, "table {}", table.name)?;
            for column in &table.columns {
                writeln!(f, "  column {column}")?;
            }
            if !table.primary_key.is_empty() {
                writeln!(f, "  primary key ({})", table.primary_key.join(", "))?;
            }
            for index in &table.indexes {
                writeln!(f, "  {index}")?;
            }
            for unique in &table.uniques {
                writeln!(f, "  unique {} ({})", unique.name, unique.columns.join(", "))?;
            }
            for fk in &table.foreign_keys {
                writeln!(f, "  {fk}")?;
            }
            for check in &table.checks {
                writeln!(f, "  check {} {}", check.name, check.expression)?;
            }
        }
        for view in &self.views {
            writeln!(f, "view {}: {}", view.name, view.definition)?;
        }
        for trigger in &self.triggers {
            writeln!(f, "trigger {} on {}: {}", trigger.name, trigger.table, trigger.definition)?;
        }
        for object in &self.objects {
            writeln!(f, "{} {}: {}", object.kind, object.name, object.definition)?;
        }
        Ok(())
    }
}
