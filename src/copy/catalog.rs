//! What `copy` needs to know about a database's tables, read from each
//! engine's own catalog: SQLite's `pragma_table_xinfo` and
//! `pragma_foreign_key_list`, PostgreSQL's `pg_attribute`, `pg_index` and
//! `pg_constraint` (the tables of `current_schema()`), MySQL's
//! `information_schema` (the tables of `DATABASE()`).
//!
//! Each column gets a [`Kind`] from its declared type, so values keep their
//! meaning across engines (SQLite's `BOOLEAN` and MySQL's `TINYINT(1)` are
//! PostgreSQL's `boolean`), and the limits a value must fit in on a target
//! (`VARCHAR(n)`, integer widths, MySQL's 3-byte `utf8`) are checked before
//! anything is written. Generated columns are left out: the target computes
//! them.

use std::collections::{BTreeMap, BTreeSet};

use crate::backend::{Arg, Backend, DbError, Dialect, ReadAs, Value};

/// What a column's values mean, whatever the engine calls its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 64-bit integers.
    Int,
    /// Doubles, copied exactly.
    Float,
    /// Booleans (0 and 1 where the engine stores integers).
    Bool,
    /// Text.
    Text,
    /// Exact decimals, carried as their text.
    Decimal,
    /// Dates, times and timestamps, carried as text (as SQLite stores them).
    Temporal,
    /// Bytes.
    Blob,
}

impl Kind {
    /// The kind of a declared type on `dialect` (the type in lower case).
    pub fn of(dialect: Dialect, sql_type: &str) -> Kind {
        let t = sql_type.trim().to_ascii_lowercase();
        let has = |part: &str| t.contains(part);
        match dialect {
            // SQLite's affinity rules, with booleans, dates and decimals
            // told apart as the other engines tell them.
            Dialect::Sqlite => {
                if has("bool") {
                    Kind::Bool
                } else if has("int") {
                    Kind::Int
                } else if has("char") || has("clob") || has("text") {
                    Kind::Text
                } else if has("blob") {
                    Kind::Blob
                } else if has("real") || has("floa") || has("doub") {
                    Kind::Float
                } else if has("date") || has("time") {
                    Kind::Temporal
                } else if has("dec") || has("num") {
                    Kind::Decimal
                } else {
                    Kind::Text
                }
            }
            Dialect::Postgres => match t.as_str() {
                "smallint" | "integer" | "bigint" => Kind::Int,
                "real" | "double precision" => Kind::Float,
                "boolean" => Kind::Bool,
                "bytea" => Kind::Blob,
                "numeric" => Kind::Decimal,
                _ if t.starts_with("date") || t.starts_with("time") || t.starts_with("interval") => Kind::Temporal,
                _ => Kind::Text,
            },
            Dialect::Mysql => {
                if t.starts_with("tinyint(1)") || t == "bool" || t == "boolean" {
                    Kind::Bool
                } else if has("int") {
                    Kind::Int
                } else if has("float") || has("double") || has("real") {
                    Kind::Float
                } else if has("dec") || has("numeric") {
                    Kind::Decimal
                } else if has("blob") || has("binary") {
                    Kind::Blob
                } else if t.starts_with("date") || t.starts_with("time") || t == "year" {
                    Kind::Temporal
                } else {
                    Kind::Text
                }
            }
        }
    }

    /// The kind a column is copied and compared as when the source calls
    /// it `self` and the target `other`: the one that loses nothing.
    pub fn common(self, other: Kind) -> Kind {
        use Kind::*;
        match (self, other) {
            (a, b) if a == b => a,
            (Bool, Int) | (Int, Bool) => Bool,
            (Int, Float) | (Float, Int) => Float,
            (Decimal, Int | Float) | (Int | Float, Decimal) => Decimal,
            (Temporal, Text) | (Text, Temporal) => Temporal,
            (Blob, _) | (_, Blob) => Blob,
            _ => Text,
        }
    }

    /// How values of this kind are loaded.
    pub fn read_as(self) -> ReadAs {
        match self {
            Kind::Int | Kind::Bool => ReadAs::Int,
            Kind::Float => ReadAs::Float,
            Kind::Blob => ReadAs::Blob,
            Kind::Text | Kind::Decimal | Kind::Temporal => ReadAs::Text,
        }
    }
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The declared type, as the catalog spells it (PostgreSQL: without
    /// its length, so a cast to it never truncates).
    pub sql_type: String,
    pub kind: Kind,
    /// `VARCHAR(n)` / `CHAR(n)`: at most `n` characters.
    pub max_chars: Option<u64>,
    /// MySQL `TEXT` types: at most this many bytes.
    pub max_bytes: Option<u64>,
    /// MySQL: a column in the 3-byte `utf8` character set.
    pub three_byte_utf8: bool,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    /// The primary key's columns (indexes into `columns`).
    pub key: Vec<usize>,
    /// Tables its foreign keys reference (itself included).
    pub parents: BTreeSet<String>,
}

/// Loads rows of text and integers (catalog queries).
fn rows(db: &mut dyn Backend, select: &[(&str, ReadAs)], rest: &str, args: &[Arg]) -> Result<Vec<Vec<Value>>, DbError> {
    let select: Vec<(String, ReadAs)> = select.iter().map(|(expr, read)| (expr.to_string(), *read)).collect();
    db.values(&select, rest, args)
}

fn text(value: &Value) -> String {
    match value {
        Value::Text(t) => t.clone(),
        Value::Int(n) => n.to_string(),
        _ => String::new(),
    }
}

fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        _ => None,
    }
}

/// The names of the tables, sorted (SQLite's own tables left out).
pub fn table_names(db: &mut dyn Backend) -> Result<Vec<String>, DbError> {
    let (expr, rest) = match db.dialect() {
        Dialect::Sqlite => {
            ("name", "FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        }
        Dialect::Postgres => (
            "CAST(table_name AS TEXT)",
            "FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        ),
        Dialect::Mysql => (
            "CAST(table_name AS CHAR)",
            "FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'",
        ),
    };
    let mut names: Vec<String> = rows(db, &[(expr, ReadAs::Text)], rest, &[])?.iter().map(|r| text(&r[0])).collect();
    names.sort();
    Ok(names)
}

/// The PostgreSQL `regclass` of table `$1` in `current_schema()`.
const PG_TABLE: &str = "CAST(quote_ident(current_schema()) || '.' || quote_ident($1) AS regclass)";

/// Reads table `name`'s columns, key and foreign keys.
pub fn table(db: &mut dyn Backend, name: &str) -> Result<Table, DbError> {
    let dialect = db.dialect();
    let arg = [Arg::Text(name.to_string())];
    let (select, rest): (&[(&str, ReadAs)], String) = match dialect {
        Dialect::Sqlite => (
            &[("name", ReadAs::Text), ("type", ReadAs::Text), ("pk", ReadAs::Int), ("NULL", ReadAs::Int)],
            "FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid".into(),
        ),
        Dialect::Postgres => (
            &[
                ("CAST(a.attname AS TEXT)", ReadAs::Text),
                ("format_type(a.atttypid, NULL)", ReadAs::Text),
                (
                    "CAST(CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisprimary \
                     AND a.attnum = ANY(i.indkey)) THEN 1 ELSE 0 END AS BIGINT)",
                    ReadAs::Int,
                ),
                (
                    "CAST(CASE WHEN a.atttypid IN (1042, 1043) AND a.atttypmod > 4 THEN a.atttypmod - 4 END AS BIGINT)",
                    ReadAs::Int,
                ),
            ],
            format!(
                "FROM pg_attribute a WHERE a.attrelid = {PG_TABLE} AND a.attnum > 0 AND NOT a.attisdropped \
                 AND a.attgenerated = '' ORDER BY a.attnum"
            ),
        ),
        Dialect::Mysql => (
            &[
                ("CAST(column_name AS CHAR)", ReadAs::Text),
                ("CAST(column_type AS CHAR)", ReadAs::Text),
                ("CAST(CASE WHEN column_key = 'PRI' THEN 1 ELSE 0 END AS SIGNED)", ReadAs::Int),
                ("CAST(character_maximum_length AS SIGNED)", ReadAs::Int),
                ("CAST(COALESCE(character_set_name, '') AS CHAR)", ReadAs::Text),
            ],
            "FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? \
             AND extra NOT LIKE '%GENERATED%' ORDER BY ordinal_position"
                .into(),
        ),
    };
    let mut columns = Vec::new();
    let mut key = Vec::new();
    for row in rows(db, select, &rest, &arg)? {
        let sql_type = text(&row[1]);
        let t = sql_type.to_ascii_lowercase();
        let kind = Kind::of(dialect, &sql_type);
        let (mut max_chars, mut max_bytes) = (None, None);
        let limit = int(&row[3]).and_then(|n| u64::try_from(n).ok());
        match dialect {
            Dialect::Postgres => max_chars = limit,
            Dialect::Mysql if t.starts_with("varchar") || t.starts_with("char") => max_chars = limit,
            Dialect::Mysql => {
                max_bytes = match t.as_str() {
                    "tinytext" => Some(255),
                    "text" => Some(65_535),
                    "mediumtext" => Some(16_777_215),
                    _ => None,
                }
            }
            Dialect::Sqlite => {}
        }
        let three_byte_utf8 = dialect == Dialect::Mysql && matches!(text(&row[4]).as_str(), "utf8" | "utf8mb3");
        if int(&row[2]).unwrap_or(0) > 0 {
            key.push(columns.len());
        }
        columns.push(Column { name: text(&row[0]), sql_type, kind, max_chars, max_bytes, three_byte_utf8 });
    }
    if columns.is_empty() {
        return Err(DbError::Query(format!("table `{name}` has no columns or does not exist")));
    }
    let (expr, rest) = match dialect {
        Dialect::Sqlite => ("\"table\"", "FROM pragma_foreign_key_list(?)".to_string()),
        Dialect::Postgres => (
            "CAST(f.relname AS TEXT)",
            format!(
                "FROM pg_constraint c JOIN pg_class f ON f.oid = c.confrelid WHERE c.conrelid = {PG_TABLE} AND c.contype = 'f'"
            ),
        ),
        Dialect::Mysql => (
            "CAST(referenced_table_name AS CHAR)",
            "FROM information_schema.key_column_usage WHERE table_schema = DATABASE() AND table_name = ? \
             AND referenced_table_name IS NOT NULL"
                .to_string(),
        ),
    };
    let parents = rows(db, &[(expr, ReadAs::Text)], &rest, &arg)?.iter().map(|r| text(&r[0])).collect();
    Ok(Table { name: name.to_string(), columns, key, parents })
}

/// The order to fill tables in so that every foreign key's parent comes
/// first (ties by name), and the tables whose rows may reference rows not
/// copied yet: those that reference themselves or are on a cycle.
pub fn fill_order(tables: &[Table]) -> (Vec<usize>, BTreeSet<usize>) {
    let index: BTreeMap<String, usize> = tables.iter().enumerate().map(|(i, t)| (t.name.to_lowercase(), i)).collect();
    let mut waiting: Vec<BTreeSet<usize>> = tables
        .iter()
        .enumerate()
        .map(|(i, t)| {
            t.parents.iter().filter_map(|p| index.get(&p.to_lowercase()).copied()).filter(|&p| p != i).collect()
        })
        .collect();
    let mut tangled: BTreeSet<usize> = tables
        .iter()
        .enumerate()
        .filter(|(i, t)| t.parents.iter().any(|p| index.get(&p.to_lowercase()) == Some(i)))
        .map(|(i, _)| i)
        .collect();
    let mut order = Vec::with_capacity(tables.len());
    let mut done = vec![false; tables.len()];
    loop {
        // The first table by name whose parents are all filled.
        let ready = (0..tables.len())
            .filter(|&i| !done[i] && waiting[i].is_empty())
            .min_by(|&a, &b| tables[a].name.cmp(&tables[b].name));
        let Some(next) = ready else { break };
        done[next] = true;
        order.push(next);
        for w in waiting.iter_mut() {
            w.remove(&next);
        }
    }
    // What is left is on a cycle: by name.
    let mut rest: Vec<usize> = (0..tables.len()).filter(|&i| !done[i]).collect();
    rest.sort_by(|&a, &b| tables[a].name.cmp(&tables[b].name));
    tangled.extend(rest.iter().copied());
    order.extend(rest);
    (order, tangled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, parents: &[&str]) -> Table {
        Table {
            name: name.into(),
            columns: Vec::new(),
            key: Vec::new(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
        }
    }

    #[test]
    fn parents_come_first_and_cycles_are_flagged() {
        let tables = [
            table("orders", &["users", "products"]),
            table("users", &["users"]),
            table("products", &[]),
            table("a", &["b"]),
            table("b", &["a"]),
        ];
        let (order, tangled) = fill_order(&tables);
        let names: Vec<&str> = order.iter().map(|&i| tables[i].name.as_str()).collect();
        assert_eq!(names, ["products", "users", "orders", "a", "b"]);
        assert_eq!(tangled, BTreeSet::from([1, 3, 4]));
    }

    #[test]
    fn kinds_agree_across_engines() {
        assert_eq!(Kind::of(Dialect::Sqlite, "BOOLEAN"), Kind::Bool);
        assert_eq!(Kind::of(Dialect::Mysql, "tinyint(1)"), Kind::Bool);
        assert_eq!(Kind::of(Dialect::Postgres, "boolean"), Kind::Bool);
        assert_eq!(Kind::of(Dialect::Sqlite, "DATETIME"), Kind::Temporal);
        assert_eq!(Kind::of(Dialect::Postgres, "timestamp without time zone"), Kind::Temporal);
        assert_eq!(Kind::of(Dialect::Sqlite, "VARCHAR(255)"), Kind::Text);
        assert_eq!(Kind::of(Dialect::Sqlite, "DOUBLE PRECISION"), Kind::Float);
        assert_eq!(Kind::of(Dialect::Mysql, "bigint(20)"), Kind::Int);
        assert_eq!(Kind::of(Dialect::Mysql, "longblob"), Kind::Blob);
        assert_eq!(Kind::Int.common(Kind::Bool), Kind::Bool);
        assert_eq!(Kind::Text.common(Kind::Temporal), Kind::Temporal);
        assert_eq!(Kind::Int.common(Kind::Text), Kind::Text);
    }
}
