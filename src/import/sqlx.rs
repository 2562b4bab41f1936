//! sqlx: `migrations/<version>_<description>.sql` (irreversible) or
//! `<version>_<description>.up.sql` + `.down.sql` (reversible). The file
//! name is split at its first `_`; the version is an `i64` and migrations
//! run in its numeric order. A file whose SQL starts with
//! `-- no-transaction` runs outside a transaction. The table
//! `_sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT,
//! installed_on TIMESTAMP, success BOOLEAN, checksum BYTEA/BLOB,
//! execution_time BIGINT)` stores the SHA-384 of the up file's content
//! (sqlx-core `migrate/source.rs`, `migrate/migration.rs`,
//! `migrate/migration_type.rs`). On MySQL, where DDL commits implicitly,
//! sqlx inserts the row with `success = FALSE` before running the SQL and
//! sets it TRUE after: a FALSE row is a migration that failed half way
//! (sqlx-mysql `migrate.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha384};

use super::{
    entries, int, load, read_text, revision, AppliedVersion, Import, ImportError, Tool, ToolChecksum, Unsupported,
};
use crate::backend::{Backend, ReadAs, Value};

/// SHA-384 of the file's content, as sqlx stores it.
pub fn checksum(sql: &str) -> Vec<u8> {
    Sha384::digest(sql.as_bytes()).to_vec()
}

#[derive(Default)]
struct Found {
    description: String,
    up: Option<(PathBuf, String)>,
    down: Option<String>,
    simple: bool,
}

pub(super) fn read(dir: &Path, out: &mut Import) -> Result<(), ImportError> {
    let mut found: BTreeMap<i64, Found> = BTreeMap::new();
    for name in entries(dir, false)? {
        let Some((version, rest)) = name.split_once('_').filter(|(_, rest)| rest.ends_with(".sql")) else {
            if !name.starts_with('.') {
                out.unsupported.push(Unsupported {
                    path: name.clone().into(),
                    reason: "not a sqlx migration (`<version>_<description>.sql`); skipped".into(),
                });
            }
            continue;
        };
        let Ok(number) = version.parse::<i64>() else {
            return Err(ImportError::file(&dir.join(&name), format!("`{version}` is not a sqlx version (an i64)")));
        };
        let (kind, suffix) = if rest.ends_with(".up.sql") {
            (1, ".up.sql")
        } else if rest.ends_with(".down.sql") {
            (2, ".down.sql")
        } else {
            (0, ".sql")
        };
        let sql = read_text(&dir.join(&name))?;
        let entry = found.entry(number).or_default();
        let clash = match kind {
            2 => entry.down.replace(sql).is_some(),
            _ => {
                entry.simple = kind == 0;
                entry.description = rest.trim_end_matches(suffix).replace('_', " ");
                entry.up.replace((PathBuf::from(&name), sql)).is_some()
            }
        };
        if clash {
            return Err(ImportError::file(&dir.join(&name), format!("a second migration with version {number}")));
        }
    }
    for (number, f) in found {
        let version = number.to_string();
        let Some((source, up)) = f.up else {
            return Err(ImportError::file(dir, format!("version {number} has a .down.sql file but no .up.sql")));
        };
        if f.simple && f.down.is_some() {
            return Err(ImportError::file(&dir.join(&source), "both a .sql and a .down.sql file: use .up.sql"));
        }
        let transaction = !up.starts_with("-- no-transaction");
        let sum = Some(ToolChecksum::Sha384(checksum(&up)));
        let r = revision(Tool::Sqlx, &version, &f.description, source, up, f.down, transaction, sum)?;
        out.revisions.push(r);
    }
    Ok(())
}

pub(super) fn applied(backend: &mut dyn Backend) -> Result<Vec<AppliedVersion>, ImportError> {
    let table = Tool::Sqlx.version_table();
    let d = backend.dialect();
    let select = [
        super::adopt::as_int(d, "version", false),
        ("checksum".to_string(), ReadAs::Blob),
        super::adopt::as_int(d, "success", true),
    ];
    let rows = load(backend, table, &select, "ORDER BY version")?;
    let mut out = Vec::new();
    for row in rows {
        let version = int(&row[0]).unwrap_or_default().to_string();
        if int(&row[2]) != Some(1) {
            return Err(ImportError::State {
                table: table.into(),
                message: format!(
                    "version {version} is marked as failed (success = false): sqlx calls the database dirty; \
                     repair the schema and that row first"
                ),
            });
        }
        let checksum = match &row[1] {
            Value::Blob(bytes) => Some(ToolChecksum::Sha384(bytes.clone())),
            _ => None,
        };
        out.push(AppliedVersion { version, checksum, through: false });
    }
    Ok(out)
}
