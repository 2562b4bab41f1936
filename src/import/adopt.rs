//! The half of `adopt` shared by every tool: reading a version table
//! through a [`Backend`], and mapping the applied versions onto an import.

use std::collections::{BTreeMap, HashSet};

use super::{flyway, golang_migrate, goose, refinery, sqlx};
use super::{id_for, Import, ImportError, Mismatch, Tool, ToolChecksum};
use crate::backend::{Backend, Dialect, ReadAs, Value};

/// One applied migration in a tool's version table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedVersion {
    /// As [`super::ImportedRevision::version`] writes it.
    pub version: String,
    pub checksum: Option<ToolChecksum>,
    /// Every earlier version is applied too (golang-migrate stores only the
    /// current version).
    pub through: bool,
}

/// Reads the versions `tool`'s table records as applied, oldest first.
pub fn applied(tool: Tool, backend: &mut dyn Backend) -> Result<Vec<AppliedVersion>, ImportError> {
    match tool {
        Tool::Diesel | Tool::Dbmate => versions_only(tool, backend),
        Tool::Sqlx => sqlx::applied(backend),
        Tool::GolangMigrate => golang_migrate::applied(backend),
        Tool::Goose => goose::applied(backend),
        Tool::Refinery => refinery::applied(backend),
        Tool::Flyway => flyway::applied(backend),
    }
}

/// diesel's and dbmate's tables: one row per applied version, no checksum.
fn versions_only(tool: Tool, backend: &mut dyn Backend) -> Result<Vec<AppliedVersion>, ImportError> {
    let column = as_text(backend.dialect(), "version");
    let rows = load(backend, tool.version_table(), &[column], "ORDER BY version")?;
    Ok(rows
        .iter()
        .filter_map(|row| text(&row[0]))
        .map(|version| AppliedVersion { version, checksum: None, through: false })
        .collect())
}

/// What `adopt` stamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adoption {
    /// The applied revisions' IDs, in order.
    pub applied: Vec<String>,
    /// The stamp target: the last applied revision, or `base`.
    pub target: String,
    /// Checksums that were compared with the files.
    pub verified: usize,
}

/// Maps the applied versions through the import: every version must have a
/// revision, the applied ones must be the first N of the chain (so the
/// stamp's closure is exactly them), and stored checksums must match the
/// files.
pub fn adoption(import: &Import, applied: &[AppliedVersion]) -> Result<Adoption, ImportError> {
    let table = import.tool.version_table().to_string();
    let by_version: BTreeMap<&str, usize> =
        import.revisions.iter().enumerate().map(|(i, r)| (r.version.as_str(), i)).collect();
    let mut positions = Vec::new();
    let mut mismatches = Vec::new();
    let mut verified = 0;
    for a in applied {
        let Some(&i) = by_version.get(a.version.as_str()) else {
            return Err(ImportError::UnknownVersion {
                table,
                version: a.version.clone(),
                id: id_for(import.tool, &a.version),
            });
        };
        let r = &import.revisions[i];
        if let (Some(stored), Some(computed)) = (&a.checksum, &r.checksum) {
            verified += 1;
            let int8 = import.tool == Tool::Refinery && refinery::int8_checksum_matches(r, stored);
            if stored != computed && !int8 {
                mismatches.push(Mismatch {
                    version: a.version.clone(),
                    file: r.source.clone(),
                    stored: stored.clone(),
                    computed: computed.clone(),
                });
            }
        }
        if a.through {
            positions.extend(0..i);
        }
        positions.push(i);
    }
    if !mismatches.is_empty() {
        return Err(ImportError::Checksums(mismatches));
    }
    positions.sort_unstable();
    positions.dedup();
    let Some(&last) = positions.last() else {
        return Ok(Adoption { applied: Vec::new(), target: "base".into(), verified });
    };
    if positions.len() != last + 1 {
        let have: HashSet<usize> = positions.iter().copied().collect();
        let missing = (0..last).filter(|i| !have.contains(i)).map(|i| import.revisions[i].version.clone()).collect();
        return Err(ImportError::Gap { table, applied: import.revisions[last].version.clone(), missing });
    }
    let ids: Vec<String> = import.revisions[..=last].iter().map(|r| r.id.clone()).collect();
    Ok(Adoption { target: ids[last].clone(), applied: ids, verified })
}

/// A select expression that reads `column` as text on `dialect`.
pub(super) fn as_text(dialect: Dialect, column: &str) -> (String, ReadAs) {
    let ty = if dialect == Dialect::Mysql { "CHAR" } else { "TEXT" };
    (format!("CAST({column} AS {ty})"), ReadAs::Text)
}

/// A select expression that reads an integer or boolean `column` as 0/1 or the integer.
pub(super) fn as_int(dialect: Dialect, column: &str, boolean: bool) -> (String, ReadAs) {
    let ty = match dialect {
        Dialect::Mysql => "SIGNED",
        Dialect::Postgres => "BIGINT",
        Dialect::Sqlite => "INTEGER",
    };
    let expr = if boolean { format!("CASE WHEN {column} THEN 1 ELSE 0 END") } else { column.to_string() };
    (format!("CAST({expr} AS {ty})"), ReadAs::Int)
}

/// Loads rows of `table`.
pub(super) fn load(
    backend: &mut dyn Backend,
    table: &str,
    select: &[(String, ReadAs)],
    rest: &str,
) -> Result<Vec<Vec<Value>>, ImportError> {
    backend
        .values(select, &format!("FROM {table} {rest}"), &[])
        .map_err(|source| ImportError::Table { table: table.to_string(), source })
}

/// A text value of a loaded row.
pub(super) fn text(value: &Value) -> Option<String> {
    match value {
        Value::Text(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer value of a loaded row.
pub(super) fn int(value: &Value) -> Option<i64> {
    match value {
        Value::Int(n) => Some(*n),
        Value::Bool(b) => Some(i64::from(*b)),
        Value::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}
