//! diesel: `migrations/<version>_<name>/up.sql` and `down.sql`, one
//! directory per migration, optionally with `metadata.toml`
//! (`run_in_transaction = false`). The version is the directory name up to
//! its first `_` with dashes removed (`2023-01-01-120000_create_users` has
//! version `20230101120000`), and migrations run in version order; diesel's
//! own `00000000000000_diesel_initial_setup` is a migration like any other.
//! Its table, `__diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY,
//! run_on TIMESTAMP)`, lists every applied version (no checksum).
//! (diesel_migrations' `file_based_migrations.rs`, `migrations_internals`'s
//! `version_from_string`, and `migration_harness.rs`.)

use std::path::{Path, PathBuf};

use super::{entries, read_text, revision, Import, ImportError, Tool, Unsupported};

pub(super) fn read(dir: &Path, out: &mut Import) -> Result<(), ImportError> {
    let mut found = Vec::new();
    for name in entries(dir, true)?.into_iter().filter(|n| !n.starts_with('.')) {
        let Some((version, title)) = name.split_once('_') else {
            out.unsupported.push(Unsupported {
                path: PathBuf::from(&name),
                reason: "not a migration directory (`<version>_<name>`); skipped".into(),
            });
            continue;
        };
        let version = version.replace('-', "");
        let path = dir.join(&name);
        let up_path = path.join("up.sql");
        if !up_path.is_file() {
            let reason = if path.join("up.rs").is_file() || path.join("mod.rs").is_file() {
                "Rust migrations cannot be imported; write its SQL as a migraph revision by hand"
            } else {
                "has no up.sql; skipped"
            };
            out.unsupported.push(Unsupported { path: PathBuf::from(&name), reason: reason.into() });
            continue;
        }
        let up = read_text(&up_path)?;
        let down_path = path.join("down.sql");
        let down = if down_path.is_file() { Some(read_text(&down_path)?) } else { None };
        if down.is_none() {
            out.unsupported.push(Unsupported {
                path: PathBuf::from(&name),
                reason: "has no down.sql: imported as irreversible".into(),
            });
        }
        let metadata = path.join("metadata.toml");
        // diesel reads a metadata.toml without the key as `false` (serde's default for bool).
        let transaction = !metadata.is_file() || in_transaction(&read_text(&metadata)?);
        let source = PathBuf::from(&name).join("up.sql");
        found.push((version.clone(), revision(Tool::Diesel, &version, title, source, up, down, transaction, None)?));
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    out.revisions.extend(found.into_iter().map(|(_, r)| r));
    Ok(())
}

/// Whether `metadata.toml` says `run_in_transaction = true`.
fn in_transaction(metadata: &str) -> bool {
    metadata.lines().any(|line| {
        let line = line.split('#').next().unwrap_or_default();
        line.split_once('=').is_some_and(|(k, v)| k.trim() == "run_in_transaction" && v.trim() == "true")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn metadata() {
        assert!(!super::in_transaction("run_in_transaction = false\n"));
        assert!(super::in_transaction("run_in_transaction = true # no\n"));
        assert!(!super::in_transaction("other = 1\n"));
    }
}
