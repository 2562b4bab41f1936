//! Flyway: `V<version>__<description>.sql` versioned migrations,
//! `U<version>__<description>.sql` undo migrations (their down SQL),
//! `R__<description>.sql` repeatable migrations (not imported: migraph has
//! no re-run-on-change revisions). The version's parts are separated by `.`
//! or `_` and compared as numbers (`1.2.10` after `1.2.9`, `1.0` equals `1`).
//! `executeInTransaction=false` in the `<file>.conf` script configuration
//! runs it outside a transaction. The table `flyway_schema_history
//! (installed_rank, version, description, type, script, checksum INT,
//! installed_by, installed_on, execution_time, success)` logs every run;
//! the checksum is the CRC32 of the file's lines without their line breaks
//! (a leading BOM removed), as a signed 32-bit integer (flyway-core
//! `MigrationVersion`, `ChecksumCalculator`, `SqlMigrationResolver`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{
    entries, int, load, read_text, revision, text, AppliedVersion, Import, ImportError, Tool, ToolChecksum, Unsupported,
};
use crate::backend::Backend;

/// The canonical form of a version: numeric parts without leading zeros,
/// trailing zero parts dropped, joined by `.`; `None` when not a version.
pub fn canonical(version: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for part in version.split(['.', '_']) {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let trimmed = part.trim_start_matches('0');
        parts.push(if trimmed.is_empty() { "0".into() } else { trimmed.into() });
    }
    while parts.len() > 1 && parts.last().is_some_and(|p| p == "0") {
        parts.pop();
    }
    Some(parts.join("."))
}

/// Sort key of a canonical version: numeric parts compared as numbers.
fn key(canonical: &str) -> Vec<(usize, String)> {
    canonical.split('.').map(|p| (p.len(), p.to_string())).collect()
}

/// Flyway's checksum of a file: CRC32 over each line's UTF-8 bytes without
/// its line break (`\n`, `\r\n` or `\r`), a leading BOM removed.
pub fn checksum(text: &str) -> i32 {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut crc = !0u32;
    let mut update = |bytes: &[u8]| {
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
    };
    // Java's BufferedReader.readLine: \n, \r and \r\n end a line.
    for line in text.split('\n') {
        for piece in line.split('\r') {
            update(piece.as_bytes());
        }
    }
    (!crc) as i32
}

struct Found {
    description: String,
    up: Option<(PathBuf, String, bool)>,
    down: Option<String>,
}

pub(super) fn read(dir: &Path, out: &mut Import) -> Result<(), ImportError> {
    let mut found: BTreeMap<Vec<(usize, String)>, (String, Found)> = BTreeMap::new();
    let names = entries(dir, false)?;
    for name in &names {
        if name.ends_with(".sql.conf") || name.starts_with('.') {
            continue;
        }
        let skip = |out: &mut Import, reason: &str| {
            out.unsupported.push(Unsupported { path: name.into(), reason: reason.into() });
        };
        let Some(stem) = name.strip_suffix(".sql") else {
            skip(out, "not a Flyway SQL migration; skipped (Java migrations cannot be imported)");
            continue;
        };
        let kind = stem.chars().next().unwrap_or(' ');
        if kind == 'R' && stem.starts_with("R__") {
            skip(out, "a repeatable migration (R__): migraph has no re-run-on-change revisions; not imported");
            continue;
        }
        let parsed = stem[kind.len_utf8().min(stem.len())..].split_once("__");
        let (version, description) = match (kind, parsed) {
            ('V' | 'U', Some((v, d))) => match canonical(v) {
                Some(c) => (c, d.replace('_', " ")),
                None => {
                    skip(out, "not a Flyway version; skipped");
                    continue;
                }
            },
            ('B', Some(_)) => {
                skip(out, "a baseline migration (B): not imported; adopt needs its versioned migrations");
                continue;
            }
            _ => {
                skip(out, "not a Flyway migration (`V<version>__<description>.sql`), e.g. a callback; not imported");
                continue;
            }
        };
        let path = dir.join(name);
        let sql = read_text(&path)?;
        if sql.contains("${") {
            skip(out, "contains `${...}`: Flyway replaces placeholders, migraph runs the SQL as written");
        }
        let conf = dir.join(format!("{name}.conf"));
        let transaction =
            !(conf.is_file() && read_text(&conf)?.lines().any(|l| l.replace(' ', "") == "executeInTransaction=false"));
        let entry = found
            .entry(key(&version))
            .or_insert_with(|| (version.clone(), Found { description: String::new(), up: None, down: None }));
        let clash = if kind == 'V' {
            entry.1.description = description;
            entry.1.up.replace((PathBuf::from(name), sql, transaction)).is_some()
        } else {
            entry.1.down.replace(sql).is_some()
        };
        if clash {
            return Err(ImportError::file(&path, format!("a second migration with version {version}")));
        }
    }
    for (_, (version, f)) in found {
        let Some((source, up, transaction)) = f.up else {
            return Err(ImportError::file(dir, format!("version {version} has an undo (U) file but no V file")));
        };
        let sum = Some(ToolChecksum::Crc32(checksum(&up)));
        out.revisions.push(revision(Tool::Flyway, &version, &f.description, source, up, f.down, transaction, sum)?);
    }
    Ok(())
}

pub(super) fn applied(backend: &mut dyn Backend) -> Result<Vec<AppliedVersion>, ImportError> {
    let table = Tool::Flyway.version_table();
    let d = backend.dialect();
    let select = [
        super::adopt::as_text(d, "version"),
        super::adopt::as_text(d, "type"),
        super::adopt::as_int(d, "success", true),
        super::adopt::as_int(d, "checksum", false),
    ];
    let rows = load(backend, table, &select, "ORDER BY installed_rank")?;
    let mut state: BTreeMap<Vec<(usize, String)>, AppliedVersion> = BTreeMap::new();
    for row in rows {
        let (Some(raw), Some(kind)) = (text(&row[0]), text(&row[1])) else { continue };
        let Some(version) = canonical(&raw) else { continue };
        if int(&row[2]) != Some(1) {
            return Err(ImportError::State {
                table: table.into(),
                message: format!(
                    "version {raw} failed (success = false): repair the schema and run `flyway repair` first"
                ),
            });
        }
        match kind.as_str() {
            "SCHEMA" | "DELETE" => {}
            "UNDO_SQL" | "UNDO_JDBC" => {
                state.remove(&key(&version));
            }
            "BASELINE" => {
                state.insert(key(&version), AppliedVersion { version, checksum: None, through: true });
            }
            _ => {
                let checksum = int(&row[3]).and_then(|n| i32::try_from(n).ok()).map(ToolChecksum::Crc32);
                let checksum = checksum.filter(|_| kind == "SQL");
                state.insert(key(&version), AppliedVersion { version, checksum, through: false });
            }
        }
    }
    Ok(state.into_values().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_checksums() {
        assert_eq!(canonical("1_2_3").as_deref(), Some("1.2.3"));
        assert_eq!(canonical("1.0").as_deref(), Some("1"));
        assert_eq!(canonical("01.10").as_deref(), Some("1.10"));
        assert_eq!(canonical("1.x"), None);
        assert!(key("1.2.10") > key("1.2.9"));
        assert!(key("2") > key("1.9"));
        // CRC32 of "123456789" is 0xCBF43926; line breaks do not count.
        assert_eq!(checksum("123456789"), 0xCBF4_3926_u32 as i32);
        assert_eq!(checksum("1234\r\n56789\n"), checksum("123456789"));
        assert_eq!(checksum("\u{feff}123456789"), checksum("123456789"));
    }
}
