//! Reading a [`Schema`] from each engine's catalog (SQLite here, the
//! servers in `server.rs`). Every query aggregates
//! its rows into one JSON text (`json_group_array`, `json_agg`,
//! `JSON_ARRAYAGG`) selected as `v`, parsed here with serde_json: a few
//! round trips per snapshot, through [`Backend::text`] alone.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use sqlparser::ast::{ColumnOption, Statement, TableConstraint};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::{collapse, Check, Column, ForeignKey, Index, Schema, Scope, Table, Trigger, Unique, View};
use crate::backend::{Arg, Backend, DbError, Dialect};

pub(super) type Row = Map<String, Value>;

/// Reads the normalised schema of the database `backend` is connected to:
/// SQLite's `main`, PostgreSQL's `scope.schema` (default `public`), MySQL's
/// current database. Nothing is changed, except that on MySQL the session's
/// `group_concat_max_len` is raised so that large catalogs aggregate whole.
pub fn read(backend: &mut dyn Backend, scope: &Scope) -> Result<Schema, DbError> {
    Reader::default().read(backend, scope)
}

/// A SQLite table's identity for [`Reader`]: its name, its `CREATE TABLE`
/// text and its indexes' names and texts. SQLite keeps the text up to date
/// through `ALTER TABLE`, and everything the `pragma_*` functions report
/// about a table derives from these, so equal keys mean equal tables.
type TableKey = (String, String, Vec<(String, String)>);

/// A row of `sqlite_schema`.
#[derive(serde::Deserialize)]
struct Object {
    #[serde(rename = "type")]
    kind: String,
    name: String,
    tbl: String,
    sql: Option<String>,
}

/// Reads snapshots one after another ([`read`] for each), remembering
/// SQLite tables by their definition so that a snapshot reads the catalog
/// details only of tables it has not seen in that form: `migraph test`
/// takes three snapshots per revision of histories with thousands of tables.
#[derive(Debug, Default)]
pub struct Reader {
    tables: HashMap<TableKey, Table>,
}

impl Reader {
    /// [`read`], through the cache.
    pub fn read(&mut self, backend: &mut dyn Backend, scope: &Scope) -> Result<Schema, DbError> {
        let mut schema = match backend.dialect() {
            Dialect::Sqlite => self.sqlite(backend, scope)?,
            Dialect::Postgres => super::server::postgres(backend, scope)?,
            Dialect::Mysql => super::server::mysql(backend, scope)?,
        };
        schema.sort();
        Ok(schema)
    }

    fn sqlite(&mut self, backend: &mut dyn Backend, scope: &Scope) -> Result<Schema, DbError> {
        let sql = format!(
            "SELECT json_group_array(json_object('type', s.type, 'name', s.name, 'tbl', s.tbl_name, 'sql', s.sql)) AS v \
             FROM sqlite_schema s WHERE {SQLITE_USER}"
        );
        let objects: Vec<Object> = match backend.text(&sql, &[])? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| DbError::Query(format!("cannot read the catalog's answer as JSON: {e}")))?,
            None => Vec::new(),
        };
        let of_type = |kind: &'static str| objects.iter().filter(move |o| o.kind == kind);
        let mut indexes: HashMap<&str, Vec<(String, String)>> = HashMap::new();
        for index in of_type("index") {
            indexes.entry(&index.tbl).or_default().push((index.name.clone(), index.sql.clone().unwrap_or_default()));
        }
        let keys: Vec<TableKey> = of_type("table")
            .filter(|o| !scope.is_version_table(&o.name))
            .map(|o| {
                let mut on = indexes.remove(o.name.as_str()).unwrap_or_default();
                on.sort();
                (o.name.clone(), o.sql.clone().unwrap_or_default(), on)
            })
            .collect();
        let unseen: Vec<String> =
            keys.iter().filter(|key| !self.tables.contains_key(*key)).map(|(name, _, _)| name.clone()).collect();
        if !unseen.is_empty() {
            let index_sql: BTreeMap<String, String> =
                of_type("index").filter_map(|o| Some((o.name.clone(), o.sql.clone()?))).collect();
            let mut read = sqlite_tables(backend, scope, &unseen, &index_sql)?;
            for key in &keys {
                if let Some(mut table) = read.remove(&key.0) {
                    // Parsed from the CREATE text, which is part of the key.
                    table.checks = sqlite_checks(&key.1);
                    self.tables.insert(key.clone(), table);
                }
            }
        }
        let tables = keys.iter().filter_map(|key| self.tables.get(key).cloned()).collect();
        let definition = |o: &Object| collapse(o.sql.as_deref().unwrap_or_default());
        let views = of_type("view").map(|o| View { name: o.name.clone(), definition: definition(o) }).collect();
        let triggers = of_type("trigger")
            .filter(|o| !scope.is_version_table(&o.tbl))
            .map(|o| Trigger { name: o.name.clone(), table: o.tbl.clone(), definition: definition(o) })
            .collect();
        Ok(Schema { tables, views, triggers, objects: Vec::new() })
    }
}

/// The rows of one aggregating query (none when it aggregated nothing).
pub(super) fn rows(backend: &mut dyn Backend, sql: &str, args: &[Arg]) -> Result<Vec<Row>, DbError> {
    let Some(text) = backend.text(sql, args)? else { return Ok(Vec::new()) };
    let parsed: Value = serde_json::from_str(&text)
        .map_err(|e| DbError::Query(format!("cannot read the catalog's answer as JSON: {e}")))?;
    match parsed {
        Value::Array(items) => Ok(items
            .into_iter()
            .map(|item| match item {
                Value::Object(row) => row,
                other => Map::from_iter([("v".to_string(), other)]),
            })
            .collect()),
        Value::Null => Ok(Vec::new()),
        other => Err(DbError::Query(format!("the catalog's answer is not a JSON array: {other}"))),
    }
}

/// `rows` grouped by `key` (a constraint's or an index's rows), each group
/// in the order of the integer field `order` (its column positions).
pub(super) fn groups<'r, K: Ord>(rows: &'r [Row], key: impl Fn(&Row) -> K, order: &str) -> BTreeMap<K, Vec<&'r Row>> {
    let mut grouped: BTreeMap<K, Vec<&Row>> = BTreeMap::new();
    for row in rows {
        grouped.entry(key(row)).or_default().push(row);
    }
    for parts in grouped.values_mut() {
        parts.sort_by_key(|row| int(row, order));
    }
    grouped
}

/// A text field (numbers as their digits; missing or NULL: empty).
pub(super) fn text(row: &Row, key: &str) -> String {
    optional(row, key).unwrap_or_default()
}

pub(super) fn optional(row: &Row, key: &str) -> Option<String> {
    match row.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(super) fn int(row: &Row, key: &str) -> i64 {
    match row.get(key) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        Some(Value::Bool(b)) => i64::from(*b),
        _ => 0,
    }
}

pub(super) fn flag(row: &Row, key: &str) -> bool {
    match row.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.to_ascii_uppercase().as_str(), "YES" | "1" | "T" | "TRUE"),
        _ => int(row, key) != 0,
    }
}

pub(super) fn strings(row: &Row, key: &str) -> Vec<String> {
    match row.get(key) {
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).collect()
        }
        _ => Vec::new(),
    }
}

/// Tables by name, in a map so rows of every query can find their table.
pub(super) struct Tables {
    scope: Scope,
    tables: BTreeMap<String, Table>,
}

impl Tables {
    pub(super) fn new(scope: &Scope, names: impl IntoIterator<Item = String>) -> Tables {
        let tables = names
            .into_iter()
            .filter(|name| !scope.is_version_table(name))
            .map(|name| (name.clone(), Table { name, ..Table::default() }))
            .collect();
        Tables { scope: scope.clone(), tables }
    }

    pub(super) fn get(&mut self, name: &str) -> Option<&mut Table> {
        self.tables.get_mut(name)
    }

    pub(super) fn into_schema(self, views: Vec<View>, triggers: Vec<Trigger>) -> Schema {
        let scope = self.scope;
        let triggers = triggers.into_iter().filter(|t| !scope.is_version_table(&t.table)).collect();
        Schema { tables: self.tables.into_values().collect(), views, triggers, objects: Vec::new() }
    }
}

const SQLITE_USER: &str = "s.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

/// The tables `names` of SQLite's `main`, read from the `pragma_*` functions.
fn sqlite_tables(
    backend: &mut dyn Backend,
    scope: &Scope,
    names: &[String],
    index_sql: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Table>, DbError> {
    let only = [Arg::Text(serde_json::Value::from(names.to_vec()).to_string())];
    let mut tables = Tables::new(scope, names.iter().cloned());
    let tables_of = format!("FROM sqlite_schema s JOIN pragma_table_info(s.name) p WHERE s.type = 'table' AND {SQLITE_USER} AND s.name IN (SELECT value FROM json_each(?))");
    let columns = rows(
        backend,
        &format!(
            "SELECT json_group_array(json_object('t', s.name, 'cid', p.cid, 'name', p.name, 'type', p.type, \
             'notnull', p.\"notnull\", 'dflt', p.dflt_value, 'pk', p.pk)) AS v {tables_of}"
        ),
        &only,
    )?;
    let mut keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for c in &columns {
        let Some(table) = tables.get(&text(c, "t")) else { continue };
        let name = text(c, "name");
        if int(c, "pk") > 0 {
            keys.entry(table.name.clone()).or_default().push((int(c, "pk"), name.clone()));
        }
        table.columns.push(Column {
            name,
            data_type: collapse(&text(c, "type")).to_lowercase(),
            nullable: !flag(c, "notnull"),
            default: optional(c, "dflt").map(|d| collapse(&d)),
        });
    }
    for (table, mut key) in keys {
        key.sort();
        if let Some(table) = tables.get(&table) {
            table.primary_key = key.into_iter().map(|(_, name)| name).collect();
        }
    }
    let list = "FROM sqlite_schema s JOIN pragma_index_list(s.name) il";
    let indexes = rows(
        backend,
        &format!(
            "SELECT json_group_array(json_object('t', s.name, 'name', il.name, 'unique', il.\"unique\", \
             'origin', il.origin, 'partial', il.partial)) AS v {list} WHERE s.type = 'table' AND {SQLITE_USER} AND s.name IN (SELECT value FROM json_each(?))"
        ),
        &only,
    )?;
    let index_columns = rows(
        backend,
        &format!(
            "SELECT json_group_array(json_object('i', il.name, 'seqno', x.seqno, 'name', x.name, 'desc', x.\"desc\")) AS v \
             {list} JOIN pragma_index_xinfo(il.name) x WHERE s.type = 'table' AND {SQLITE_USER} AND s.name IN (SELECT value FROM json_each(?)) AND x.key = 1"
        ),
        &only,
    )?;
    let mut key_columns: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for x in &index_columns {
        let mut name = optional(x, "name").unwrap_or_else(|| "(expression)".into());
        if flag(x, "desc") {
            name.push_str(" desc");
        }
        key_columns.entry(text(x, "i")).or_default().push((int(x, "seqno"), name));
    }
    for i in &indexes {
        let Some(table) = tables.get(&text(i, "t")) else { continue };
        let name = text(i, "name");
        let mut columns = key_columns.remove(&name).unwrap_or_default();
        columns.sort();
        let columns: Vec<String> = columns.into_iter().map(|(_, c)| c).collect();
        match text(i, "origin").as_str() {
            "pk" => {}
            // `UNIQUE` in the table's definition: a constraint, named by SQLite.
            "u" => table.uniques.push(Unique { name, columns }),
            _ => {
                let predicate = index_sql.get(&name).filter(|_| flag(i, "partial")).and_then(|sql| where_clause(sql));
                table.indexes.push(Index { name, columns, unique: flag(i, "unique"), predicate });
            }
        }
    }
    let fks = rows(
        backend,
        &format!(
            "SELECT json_group_array(json_object('t', s.name, 'id', f.id, 'seq', f.seq, 'table', f.\"table\", \
             'from', f.\"from\", 'to', f.\"to\", 'on_update', f.on_update, 'on_delete', f.on_delete)) AS v \
             FROM sqlite_schema s JOIN pragma_foreign_key_list(s.name) f WHERE s.type = 'table' AND {SQLITE_USER} AND s.name IN (SELECT value FROM json_each(?))"
        ),
        &only,
    )?;
    for ((table, _), parts) in groups(&fks, |f| (text(f, "t"), int(f, "id")), "seq") {
        let Some(table) = tables.get(&table) else { continue };
        let first = parts[0];
        table.foreign_keys.push(ForeignKey {
            name: None,
            columns: parts.iter().map(|f| text(f, "from")).collect(),
            references: text(first, "table"),
            // NULL: the referenced table's primary key.
            referenced_columns: parts.iter().filter_map(|f| optional(f, "to")).collect(),
            on_update: text(first, "on_update").to_lowercase(),
            on_delete: text(first, "on_delete").to_lowercase(),
        });
    }
    Ok(tables.tables)
}

/// The check constraints of a SQLite `CREATE TABLE` text, named as
/// [`Check`] describes: column constraints in column order, then table
/// constraints in the text's order. A text sqlparser cannot parse gives no
/// checks if it has no `CHECK` keyword, else one `(unparsed)` entry holding
/// the whole collapsed text (so that any change to it is still seen).
fn sqlite_checks(create: &str) -> Vec<Check> {
    let parsed = Parser::new(&SQLiteDialect {}).try_with_sql(create).and_then(|mut p| p.parse_statements());
    let create_table = match parsed.as_deref() {
        Ok([Statement::CreateTable(table)]) => table,
        Ok(_) => return Vec::new(),
        Err(_) => {
            let tokens = Tokenizer::new(&SQLiteDialect {}, create).tokenize();
            let mentions_check = match tokens {
                Ok(tokens) => tokens.iter().any(|t| matches!(t, Token::Word(w) if w.keyword == Keyword::CHECK)),
                Err(_) => create.to_ascii_lowercase().contains("check"),
            };
            return match mentions_check {
                true => vec![Check { name: "(unparsed)".into(), expression: collapse(create) }],
                false => Vec::new(),
            };
        }
    };
    let mut checks = Vec::new();
    for column in &create_table.columns {
        let mut unnamed = 0;
        for option in &column.options {
            let ColumnOption::Check(check) = &option.option else { continue };
            let name = match option.name.as_ref().or(check.name.as_ref()) {
                Some(name) => name.value.clone(),
                None => {
                    unnamed += 1;
                    let base = format!("check({})", column.name.value);
                    if unnamed == 1 {
                        base
                    } else {
                        format!("{base}#{unnamed}")
                    }
                }
            };
            checks.push(Check { name, expression: check.expr.to_string() });
        }
    }
    let mut unnamed = 0;
    for constraint in &create_table.constraints {
        let TableConstraint::Check(check) = constraint else { continue };
        let name = match &check.name {
            Some(name) => name.value.clone(),
            None => {
                unnamed += 1;
                format!("check#{unnamed}")
            }
        };
        checks.push(Check { name, expression: check.expr.to_string() });
    }
    checks
}

/// The predicate of a partial index's `CREATE INDEX ... WHERE <predicate>`:
/// what follows the last `WHERE` outside quotes and parentheses.
fn where_clause(sql: &str) -> Option<String> {
    let bytes = sql.as_bytes();
    let (mut depth, mut quote, mut found) = (0i32, None::<u8>, None);
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' | b'`' | b'[' => quote = Some(if b == b'[' { b']' } else { b }),
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ if depth == 0
                    && sql.get(i..i + 5).is_some_and(|w| w.eq_ignore_ascii_case("where"))
                    && (i == 0 || bytes[i - 1].is_ascii_whitespace())
                    && bytes.get(i + 5).is_none_or(|c| c.is_ascii_whitespace() || *c == b'(') =>
                {
                    found = Some(i + 5)
                }
                _ => {}
            },
        }
    }
    found.map(|start| collapse(&sql[start..]))
}

#[cfg(test)]
mod tests {
    use super::{sqlite_checks, where_clause};

    fn checks(create: &str) -> Vec<(String, String)> {
        sqlite_checks(create).into_iter().map(|c| (c.name, c.expression)).collect()
    }

    #[test]
    fn sqlite_checks_are_named_and_normalised() {
        let found = checks(
            "CREATE TABLE t (a INTEGER CHECK (a > 0) CHECK(a<10), b TEXT CONSTRAINT b_short CHECK (length(b)  <= 5), \
             c INT, CHECK (c <> a), CONSTRAINT c_pos CHECK (c >= 0), CHECK (c IS NOT NULL))",
        );
        let expected = [
            ("check(a)", "a > 0"),
            ("check(a)#2", "a < 10"),
            ("b_short", "length(b) <= 5"),
            ("check#1", "c <> a"),
            ("c_pos", "c >= 0"),
            ("check#2", "c IS NOT NULL"),
        ];
        assert_eq!(found, expected.map(|(n, e)| (n.to_string(), e.to_string())));
        assert!(checks("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT)").is_empty());
    }

    #[test]
    fn unparsable_sqlite_tables_keep_their_text_when_they_have_checks() {
        let odd = "CREATE TABLE t (a INTEGER CHECK (a > 0)) WITH GARBAGE ((";
        assert_eq!(checks(odd), [("(unparsed)".to_string(), odd.to_string())]);
        assert!(checks("CREATE TABLE t (a INTEGER) WITH GARBAGE ((").is_empty());
    }

    #[test]
    fn partial_index_predicates_are_found() {
        assert_eq!(where_clause("CREATE INDEX i ON t (a) WHERE a > 0").as_deref(), Some("a > 0"));
        assert_eq!(where_clause("CREATE INDEX i ON t (a)\nwhere  b IS NULL;").as_deref(), Some("b IS NULL"));
        assert_eq!(where_clause("CREATE INDEX i ON \"where\" (a)"), None);
        assert_eq!(
            where_clause("CREATE INDEX i ON t (a) WHERE (x) AND 'where' <> y").as_deref(),
            Some("(x) AND 'where' <> y")
        );
    }
}
