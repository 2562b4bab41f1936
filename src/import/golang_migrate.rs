//! golang-migrate: `<version>_<title>.up.sql` and `<version>_<title>.down.sql`
//! (source/parse.go: `^([0-9]+)_(.*)\.(down|up)\.(.*)$`, the version a
//! `uint`), applied in version order; golang-migrate wraps no migration in
//! a transaction of its own. Its table `schema_migrations (version BIGINT
//! PRIMARY KEY, dirty BOOLEAN)` holds one row: the current version, every
//! earlier one applied with it; `dirty` means a migration failed half way
//! and must be repaired (`migrate force`) first (database/sqlite3,
//! database/postgres drivers).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{entries, int, load, read_text, revision, AppliedVersion, Import, ImportError, Tool, Unsupported};
use crate::backend::Backend;

#[derive(Default)]
struct Found {
    title: String,
    up: Option<(PathBuf, String)>,
    down: Option<String>,
}

pub(super) fn read(dir: &Path, out: &mut Import) -> Result<(), ImportError> {
    let mut found: BTreeMap<u64, Found> = BTreeMap::new();
    for name in entries(dir, false)? {
        let parsed = name.split_once('_').and_then(|(version, rest)| {
            let number = version.bytes().all(|b| b.is_ascii_digit()).then(|| version.parse::<u64>().ok())??;
            let (title, ext) = rest.rsplit_once('.')?;
            let (title, direction) = title.rsplit_once('.')?;
            matches!(direction, "up" | "down").then(|| (number, title.to_string(), direction == "up", ext.to_string()))
        });
        let Some((number, title, up, ext)) = parsed else {
            if !name.starts_with('.') {
                out.unsupported.push(Unsupported {
                    path: name.into(),
                    reason: "not a golang-migrate migration (`<version>_<title>.up.sql`); skipped".into(),
                });
            }
            continue;
        };
        if ext != "sql" {
            out.unsupported
                .push(Unsupported { path: name.into(), reason: format!("`.{ext}` migrations are not SQL; skipped") });
            continue;
        }
        let sql = read_text(&dir.join(&name))?;
        let entry = found.entry(number).or_default();
        let clash = if up {
            entry.title = title;
            entry.up.replace((PathBuf::from(&name), sql)).is_some()
        } else {
            entry.down.replace(sql).is_some()
        };
        if clash {
            return Err(ImportError::file(&dir.join(&name), format!("a second migration with version {number}")));
        }
    }
    for (number, f) in found {
        let Some((source, up)) = f.up else {
            return Err(ImportError::file(dir, format!("version {number} has a .down.sql file but no .up.sql")));
        };
        out.revisions.push(revision(
            Tool::GolangMigrate,
            &number.to_string(),
            &f.title,
            source,
            up,
            f.down,
            true,
            None,
        )?);
    }
    Ok(())
}

pub(super) fn applied(backend: &mut dyn Backend) -> Result<Vec<AppliedVersion>, ImportError> {
    let table = Tool::GolangMigrate.version_table();
    let d = backend.dialect();
    let select = [super::adopt::as_int(d, "version", false), super::adopt::as_int(d, "dirty", true)];
    let rows = load(backend, table, &select, "")?;
    let mut out = Vec::new();
    for row in rows {
        let Some(version) = int(&row[0]) else { continue };
        if int(&row[1]) != Some(0) {
            return Err(ImportError::State {
                table: table.into(),
                message: format!(
                    "the database is dirty at version {version}: that migration failed half way; repair the schema, \
                     then `migrate force <version>` (the last version that is fully applied) and adopt again"
                ),
            });
        }
        // golang-migrate's "no version" (after migrating all the way down).
        if version >= 0 {
            out.push(AppliedVersion { version: version.to_string(), checksum: None, through: true });
        }
    }
    if out.len() > 1 {
        return Err(ImportError::State {
            table: table.into(),
            message: "more than one row: not golang-migrate's table".into(),
        });
    }
    Ok(out)
}
