//! Rows on the move: reading a table in batches as typed [`Value`]s,
//! checking that each value fits the target's column, writing batches
//! (PostgreSQL: one `INSERT ... SELECT FROM unnest(text[], ...)` per batch,
//! each value cast from the text its type reads; SQLite and MySQL:
//! multi-row `INSERT` with bound values), and the content digest both sides
//! are compared with.
//!
//! The digest does not depend on row order (engines sort text differently):
//! each row's values are written in a canonical form per [`Kind`], the row
//! is hashed with SHA-256, the row hashes are sorted and hashed again.

use sha2::{Digest as _, Sha256};

use super::catalog::{Column, Kind, Table};
use super::CopyError;
use crate::backend::{Arg, Backend, DbError, Dialect, ReadAs, Value};

/// A column as copied: its name on each side and the kind both agree on.
#[derive(Debug, Clone)]
pub struct Pair {
    pub source: Column,
    pub target: Column,
    pub kind: Kind,
}

/// One table as copied.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub source: Table,
    pub target: Table,
    pub columns: Vec<Pair>,
}

impl Mapping {
    /// Matches the columns of a table on both sides, by name (ignoring
    /// case, as unquoted names fold differently per engine).
    pub fn new(source: Table, target: Table) -> Result<Mapping, CopyError> {
        let mut columns = Vec::new();
        for s in &source.columns {
            let Some(t) = target.columns.iter().find(|t| t.name.eq_ignore_ascii_case(&s.name)) else {
                return Err(CopyError::Schema {
                    table: source.name.clone(),
                    problem: format!("column `{}` is missing on the target", s.name),
                });
            };
            columns.push(Pair { source: s.clone(), target: t.clone(), kind: s.kind.common(t.kind) });
        }
        if let Some(extra) =
            target.columns.iter().find(|t| !source.columns.iter().any(|s| s.name.eq_ignore_ascii_case(&t.name)))
        {
            return Err(CopyError::Schema {
                table: source.name.clone(),
                problem: format!("the target has a column `{}` the source does not have", extra.name),
            });
        }
        Ok(Mapping { source, target, columns })
    }

    pub fn kinds(&self) -> Vec<Kind> {
        self.columns.iter().map(|p| p.kind).collect()
    }
}

/// A table on one side, read as `kinds`.
pub struct Reader<'a> {
    pub table: &'a Table,
    pub kinds: &'a [Kind],
}

impl Reader<'_> {
    fn select(&self, dialect: Dialect) -> Vec<(String, ReadAs)> {
        self.table
            .columns
            .iter()
            .zip(self.kinds)
            .map(|(column, &kind)| (read_expr(dialect, column, kind), kind.read_as()))
            .collect()
    }

    /// The single integer key column, for reading in batches by key.
    fn int_key(&self) -> Option<usize> {
        match self.table.key.as_slice() {
            [k] if self.kinds[*k] == Kind::Int && self.table.columns[*k].kind == Kind::Int => Some(*k),
            _ => None,
        }
    }

    /// Reads every row, `batch` at a time where the table has a single
    /// integer key (else all at once), handing each batch to `each`.
    pub fn read(
        &self,
        db: &mut dyn Backend,
        batch: usize,
        each: &mut dyn FnMut(Vec<Vec<Value>>) -> Result<(), CopyError>,
    ) -> Result<(), CopyError> {
        let dialect = db.dialect();
        let select = self.select(dialect);
        let from = format!("FROM {}", dialect.ident(&self.table.name));
        let fail =
            |e: DbError| CopyError::Db { context: format!("cannot read table `{}`", self.table.name), source: e };
        let Some(k) = self.int_key() else {
            let rows = db.values(&select, &from, &[]).map_err(fail)?;
            return each(self.typed(rows, 0)?);
        };
        let key = dialect.ident(&self.table.columns[k].name);
        let mut last: Option<i64> = None;
        let mut offset = 0;
        loop {
            let (rest, args) = match last {
                None => (format!("{from} ORDER BY {key} LIMIT {batch}"), Vec::new()),
                Some(n) => (format!("{from} WHERE {key} > ? ORDER BY {key} LIMIT {batch}"), vec![Arg::Int(n)]),
            };
            let rest = if dialect == Dialect::Postgres { rest.replace('?', "$1") } else { rest };
            let rows = db.values(&select, &rest, &args).map_err(fail)?;
            let full = rows.len() == batch;
            last = match rows.last().map(|r| &r[k]) {
                Some(Value::Int(n)) => Some(*n),
                _ => None,
            };
            let count = rows.len();
            if count > 0 {
                each(self.typed(rows, offset)?)?;
            }
            offset += count;
            if !full || last.is_none() {
                return Ok(());
            }
        }
    }

    /// Booleans arrive as integers: 0 and 1 only.
    fn typed(&self, mut rows: Vec<Vec<Value>>, offset: usize) -> Result<Vec<Vec<Value>>, CopyError> {
        for (n, row) in rows.iter_mut().enumerate() {
            for (i, &kind) in self.kinds.iter().enumerate() {
                if kind != Kind::Bool {
                    continue;
                }
                row[i] = match row[i] {
                    Value::Int(0) => Value::Bool(false),
                    Value::Int(1) => Value::Bool(true),
                    Value::Null => Value::Null,
                    ref other => {
                        return Err(self.bad(row, offset + n, i, format!("{other:?} is not a boolean (0 or 1)")));
                    }
                };
            }
        }
        Ok(rows)
    }

    fn bad(&self, row: &[Value], n: usize, column: usize, problem: String) -> CopyError {
        CopyError::Value {
            table: self.table.name.clone(),
            column: self.table.columns[column].name.clone(),
            key: row_key(self.table, row, n),
            problem,
        }
    }
}

/// `id=5`, `(a=1, b='x')`, or `row 7` for a table without a key.
pub fn row_key(table: &Table, row: &[Value], n: usize) -> String {
    let part = |i: usize| format!("{}={}", table.columns[i].name, shown(&row[i]));
    match table.key.as_slice() {
        [] => format!("row {}", n + 1),
        [k] => part(*k),
        keys => format!("({})", keys.iter().map(|&k| part(k)).collect::<Vec<_>>().join(", ")),
    }
}

fn shown(value: &Value) -> String {
    match value {
        Value::Null => "NULL".into(),
        Value::Int(n) => n.to_string(),
        Value::Float(x) => format!("{x:?}"),
        Value::Text(t) => format!("'{t}'"),
        Value::Blob(b) => format!("x'{}'", hex(b)),
        Value::Bool(b) => b.to_string(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a column is selected so it arrives as its kind's [`ReadAs`].
fn read_expr(dialect: Dialect, column: &Column, kind: Kind) -> String {
    let c = dialect.ident(&column.name);
    match (dialect, kind) {
        (Dialect::Sqlite, Kind::Decimal) => format!("CAST({c} AS TEXT)"),
        (Dialect::Sqlite, _) | (_, Kind::Blob) => c,
        (Dialect::Postgres, Kind::Int) => format!("CAST({c} AS BIGINT)"),
        (Dialect::Postgres, Kind::Bool) => format!("CAST(CAST({c} AS INTEGER) AS BIGINT)"),
        (Dialect::Postgres, Kind::Float) => format!("CAST({c} AS DOUBLE PRECISION)"),
        (Dialect::Postgres, _) => format!("CAST({c} AS TEXT)"),
        (Dialect::Mysql, Kind::Int | Kind::Bool) => format!("CAST({c} AS SIGNED)"),
        (Dialect::Mysql, Kind::Float) if column.kind == Kind::Float => c,
        (Dialect::Mysql, Kind::Float) => format!("({c} + 0E0)"),
        (Dialect::Mysql, _) => format!("CAST({c} AS CHAR)"),
    }
}

/// SQLite stores any value in any column: the first value of the table
/// whose storage class does not fit its column's kind (text in an
/// `INTEGER` column would otherwise read as 0).
pub fn sqlite_misfit(db: &mut dyn Backend, table: &Table, kinds: &[Kind]) -> Result<Option<CopyError>, DbError> {
    let mut which = Vec::new();
    let mut class = Vec::new();
    for (i, (column, kind)) in table.columns.iter().zip(kinds).enumerate() {
        let allowed = match kind {
            Kind::Int | Kind::Bool => "'integer'",
            Kind::Float => "'real', 'integer'",
            Kind::Text | Kind::Temporal => "'text'",
            Kind::Decimal => "'integer', 'real', 'text'",
            Kind::Blob => "'blob', 'text'",
        };
        let c = Dialect::Sqlite.ident(&column.name);
        which.push(format!("WHEN typeof({c}) NOT IN ('null', {allowed}) THEN {i}"));
        class.push(format!("WHEN typeof({c}) NOT IN ('null', {allowed}) THEN typeof({c})"));
    }
    let key: Vec<String> = if table.key.is_empty() {
        vec!["'rowid=' || rowid".into()]
    } else {
        table
            .key
            .iter()
            .map(|&k| {
                let name = &table.columns[k].name;
                format!("'{}=' || quote({})", name.replace('\'', "''"), Dialect::Sqlite.ident(name))
            })
            .collect()
    };
    let which = format!("CASE {} END", which.join(" "));
    let select = [
        (which.clone(), ReadAs::Int),
        (key.join(" || ', ' || "), ReadAs::Text),
        (format!("CASE {} END", class.join(" ")), ReadAs::Text),
    ];
    let rest = format!("FROM {} WHERE {which} IS NOT NULL LIMIT 1", Dialect::Sqlite.ident(&table.name));
    let found = db.values(&select, &rest, &[])?;
    let Some([Value::Int(i), Value::Text(key), Value::Text(class)]) = found.first().map(Vec::as_slice) else {
        return Ok(None);
    };
    let column = &table.columns[*i as usize];
    let key = if table.key.len() > 1 { format!("({key})") } else { key.clone() };
    Ok(Some(CopyError::Value {
        table: table.name.clone(),
        column: column.name.clone(),
        key,
        problem: format!("a {class} value in a column of type `{}`", column.sql_type),
    }))
}

/// Why `value` does not fit the target column, if it does not.
pub fn misfit(value: &Value, target: &Column, dialect: Dialect) -> Option<String> {
    let t = target.sql_type.to_ascii_lowercase();
    match value {
        Value::Int(n) => {
            let (min, max): (i64, i64) = match (dialect, t.as_str()) {
                (Dialect::Postgres, "smallint") => (i16::MIN.into(), i16::MAX.into()),
                (Dialect::Postgres, "integer") => (i32::MIN.into(), i32::MAX.into()),
                (Dialect::Mysql, _) if target.kind == Kind::Int => {
                    let unsigned = t.contains("unsigned");
                    let bits = if t.starts_with("tinyint") {
                        8
                    } else if t.starts_with("smallint") {
                        16
                    } else if t.starts_with("mediumint") {
                        24
                    } else if t.starts_with("int") {
                        32
                    } else {
                        64
                    };
                    match (unsigned, bits) {
                        (_, 64) => (if unsigned { 0 } else { i64::MIN }, i64::MAX),
                        (true, b) => (0, (1i64 << b) - 1),
                        (false, b) => (-(1i64 << (b - 1)), (1i64 << (b - 1)) - 1),
                    }
                }
                _ => (i64::MIN, i64::MAX),
            };
            (*n < min || *n > max).then(|| format!("{n} is out of range for type `{}`", target.sql_type))
        }
        Value::Float(x) => {
            let single = matches!((dialect, t.as_str()), (Dialect::Postgres, "real"))
                || (dialect == Dialect::Mysql && t.starts_with("float"));
            (single && x.is_finite() && f64::from(*x as f32) != *x)
                .then(|| format!("{x:?} cannot be held exactly by type `{}`", target.sql_type))
        }
        Value::Text(text) => {
            if let Some(max) = target.max_chars {
                let chars = text.chars().count() as u64;
                if chars > max {
                    let shown = if target.sql_type.contains('(') {
                        target.sql_type.clone()
                    } else {
                        format!("{}({max})", target.sql_type)
                    };
                    return Some(format!("a text of {chars} characters is too long for type `{shown}`"));
                }
            }
            if let Some(max) = target.max_bytes {
                if text.len() as u64 > max {
                    return Some(format!("a text of {} bytes is too long for type `{}`", text.len(), target.sql_type));
                }
            }
            if dialect == Dialect::Postgres && text.contains('\0') {
                return Some("PostgreSQL text cannot hold the NUL character".into());
            }
            if target.three_byte_utf8 && text.chars().any(|c| c.len_utf8() == 4) {
                return Some(
                    "a 4-byte character (e.g. an emoji) in a column of character set utf8 (3 bytes); use utf8mb4"
                        .into(),
                );
            }
            None
        }
        _ => None,
    }
}

/// PostgreSQL's text input form of a value (what `CAST(text AS type)` reads).
fn pg_text(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => return None,
        Value::Int(n) => n.to_string(),
        Value::Float(x) => float_text(*x),
        Value::Text(t) => t.clone(),
        Value::Blob(b) => format!("\\x{}", hex(b)),
        Value::Bool(b) => b.to_string(),
    })
}

/// A double as text that parses back to the same bits.
fn float_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else {
        format!("{x:?}")
    }
}

/// Writes rows into a target table.
pub struct Writer {
    dialect: Dialect,
    insert: String,
    /// PostgreSQL: the statement for a batch of text arrays.
    columns: usize,
    kinds: Vec<Kind>,
}

impl Writer {
    pub fn new(dialect: Dialect, mapping: &Mapping) -> Writer {
        let table = dialect.ident(&mapping.target.name);
        let names: Vec<String> = mapping.columns.iter().map(|p| dialect.ident(&p.target.name)).collect();
        let insert = if dialect == Dialect::Postgres {
            let casts: Vec<String> = mapping
                .columns
                .iter()
                .enumerate()
                .map(|(i, p)| format!("CAST(u.c{i} AS {})", p.target.sql_type))
                .collect();
            let arrays: Vec<String> = (1..=names.len()).map(|n| format!("CAST(${n} AS TEXT[])")).collect();
            let aliases: Vec<String> = (0..names.len()).map(|i| format!("c{i}")).collect();
            format!(
                "INSERT INTO {table} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM unnest({}) AS u({})",
                names.join(", "),
                casts.join(", "),
                arrays.join(", "),
                aliases.join(", ")
            )
        } else {
            format!("INSERT INTO {table} ({}) VALUES ", names.join(", "))
        };
        Writer { dialect, insert, columns: names.len(), kinds: mapping.kinds() }
    }

    /// Rows per statement: SQLite and MySQL bind every value.
    pub fn batch_rows(&self, wanted: usize) -> usize {
        match self.dialect {
            Dialect::Postgres => wanted,
            _ => wanted.min(30_000 / self.columns.max(1)).max(1),
        }
    }

    pub fn write(&self, db: &mut dyn Backend, rows: &[Vec<Value>]) -> Result<(), DbError> {
        if rows.is_empty() || self.columns == 0 {
            return Ok(());
        }
        if self.dialect == Dialect::Postgres {
            let mut arrays = vec![Vec::with_capacity(rows.len()); self.columns];
            for row in rows {
                for (array, value) in arrays.iter_mut().zip(row) {
                    array.push(pg_text(value));
                }
            }
            db.exec_text_arrays(&self.insert, &arrays)?;
            return Ok(());
        }
        let one = format!("({})", vec!["?"; self.columns].join(", "));
        for chunk in rows.chunks(self.batch_rows(rows.len())) {
            let sql = format!("{}{}", self.insert, vec![one.as_str(); chunk.len()].join(", "));
            let values: Vec<Value> =
                chunk.iter().flat_map(|row| row.iter().zip(&self.kinds).map(|(v, &k)| self.for_target(v, k))).collect();
            db.exec_values(&sql, &values)?;
        }
        Ok(())
    }

    /// MySQL reads timestamps in its own form (`2024-01-02 03:04:05`).
    fn for_target(&self, value: &Value, kind: Kind) -> Value {
        match (self.dialect, kind, value) {
            (Dialect::Mysql, Kind::Temporal, Value::Text(t)) => Value::Text(temporal(t)),
            _ => value.clone(),
        }
    }
}

/// A timestamp's text in one form: `T` as a space, a UTC offset or `Z`
/// dropped, no trailing zeros in the fraction.
pub fn temporal(text: &str) -> String {
    let mut t = text.trim().replacen('T', " ", 1);
    for suffix in ["Z", "+00:00", "+00"] {
        if t.len() > 10 {
            if let Some(stripped) = t.strip_suffix(suffix) {
                t = stripped.to_string();
                break;
            }
        }
    }
    if let Some(dot) = t.rfind('.').filter(|&d| t[..d].contains(':')) {
        let trimmed = t[dot..].trim_end_matches('0').trim_end_matches('.').len();
        t.truncate(dot + trimmed);
    }
    t
}

/// A decimal's text without trailing fraction zeros (`1.50` is `1.5`).
fn decimal(text: &str) -> &str {
    if text.contains('.') && !text.contains(['e', 'E']) {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Count and order-independent SHA-256 of a table's rows.
#[derive(Debug, Default)]
pub struct Digest {
    rows: Vec<[u8; 32]>,
}

impl Digest {
    pub fn add(&mut self, row: &[Value], kinds: &[Kind]) {
        // Each value as tag, length and bytes, so no two rows encode alike.
        let mut encoded = Vec::with_capacity(64);
        for (value, &kind) in row.iter().zip(kinds) {
            let (tag, bytes): (u8, std::borrow::Cow<'_, [u8]>) = match value {
                Value::Null => (b'N', (&[][..]).into()),
                Value::Int(n) => (b'i', n.to_string().into_bytes().into()),
                Value::Bool(b) => (b'b', vec![u8::from(*b)].into()),
                Value::Float(x) => (b'f', float_text(*x).into_bytes().into()),
                Value::Blob(b) => (b'x', b.as_slice().into()),
                Value::Text(t) => match kind {
                    Kind::Temporal => (b'd', temporal(t).into_bytes().into()),
                    Kind::Decimal => (b'n', decimal(t).as_bytes().to_vec().into()),
                    _ => (b't', t.as_bytes().into()),
                },
            };
            encoded.push(tag);
            encoded.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            encoded.extend_from_slice(&bytes);
        }
        self.rows.push(Sha256::digest(&encoded).into());
    }

    pub fn count(&self) -> u64 {
        self.rows.len() as u64
    }

    /// The hex SHA-256 of the sorted row hashes.
    pub fn finish(mut self) -> String {
        self.rows.sort_unstable();
        hex(&Sha256::digest(self.rows.concat()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_compare_in_one_form() {
        assert_eq!(temporal("2024-01-02T03:04:05Z"), "2024-01-02 03:04:05");
        assert_eq!(temporal("2024-01-02 03:04:05.120000+00"), "2024-01-02 03:04:05.12");
        assert_eq!(temporal("2024-01-02 03:04:05.000"), "2024-01-02 03:04:05");
        assert_eq!(temporal("2024-01-02"), "2024-01-02");
        assert_eq!(decimal("1.50"), "1.5");
        assert_eq!(decimal("2.000"), "2");
        assert_eq!(decimal("100"), "100");
    }

    #[test]
    fn floats_round_trip_through_text() {
        for x in [0.1, -0.0, 1e300, 5e-324, f64::MAX, 1.0 / 3.0] {
            assert_eq!(float_text(x).parse::<f64>().unwrap().to_bits(), x.to_bits(), "{x}");
        }
        assert_eq!(float_text(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn digests_ignore_order_and_see_every_value() {
        let kinds = [Kind::Int, Kind::Text];
        let a = vec![Value::Int(1), Value::Text("x".into())];
        let b = vec![Value::Int(2), Value::Null];
        let digest = |rows: &[&Vec<Value>]| {
            let mut d = Digest::default();
            rows.iter().for_each(|r| d.add(r, &kinds));
            d.finish()
        };
        assert_eq!(digest(&[&a, &b]), digest(&[&b, &a]));
        assert_ne!(digest(&[&a, &b]), digest(&[&a, &a]));
        let empty_text = vec![Value::Int(2), Value::Text(String::new())];
        assert_ne!(digest(&[&b]), digest(&[&empty_text]));
    }

    #[test]
    fn values_that_do_not_fit_are_named() {
        let column = |sql_type: &str, max_chars| Column {
            name: "c".into(),
            sql_type: sql_type.into(),
            kind: Kind::of(Dialect::Postgres, sql_type),
            max_chars,
            max_bytes: None,
            three_byte_utf8: false,
        };
        let varchar = column("character varying", Some(5));
        assert!(misfit(&Value::Text("héllo".into()), &varchar, Dialect::Postgres).is_none());
        assert!(misfit(&Value::Text("toolong".into()), &varchar, Dialect::Postgres).unwrap().contains("too long"));
        assert!(misfit(&Value::Int(1 << 40), &column("integer", None), Dialect::Postgres).is_some());
        assert!(misfit(&Value::Float(0.1), &column("real", None), Dialect::Postgres).is_some());
        assert!(misfit(&Value::Float(0.5), &column("real", None), Dialect::Postgres).is_none());
        assert!(misfit(&Value::Text("a\0b".into()), &column("text", None), Dialect::Postgres).is_some());
    }
}
