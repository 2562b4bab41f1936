//! refinery: `V<version>__<name>.sql` (and `U<version>__<name>.sql`,
//! "unversioned" migrations that may be applied out of order), the version
//! an integer, applied in version order; refinery has no down migrations
//! (refinery-core `util.rs` file regex `^([U|V])(\d+(?:\.\d+)?)__(\w+)`,
//! `runner.rs`); files are found in subdirectories too. A comment line
//! `-- refinery:noTransaction` runs the file outside a transaction. `.rs`
//! migrations cannot be imported. The table `refinery_schema_history
//! (version INT4 PRIMARY KEY, name VARCHAR(255), applied_on VARCHAR(255),
//! checksum VARCHAR(255))` lists every applied version with its checksum:
//! SipHash-1-3 (keys 0) of `name`, `version` (i32) and `sql` hashed with
//! `Hash` (refinery-core `migration.rs`, `Migration::unapplied`), stored as
//! decimal text. With refinery's `int8-versions` feature the column is
//! `int8` and the version is hashed as an `i64`: `adopt` accepts either.

use std::path::{Path, PathBuf};

use super::{
    entries, int, load, read_text, revision, text, AppliedVersion, Import, ImportError, Tool, ToolChecksum, Unsupported,
};
use crate::backend::Backend;

/// `(prefix, version, name, extension)` of a refinery file name.
fn parse_name(name: &str) -> Option<(char, i64, &str, &str)> {
    let prefix = name.chars().next().filter(|c| *c == 'V' || *c == 'U')?;
    let (version, rest) = name[1..].split_once("__")?;
    let version = version.parse::<i64>().ok().filter(|_| version.bytes().all(|b| b.is_ascii_digit()))?;
    let (title, ext) = rest.rsplit_once('.')?;
    let word = !title.is_empty() && title.chars().all(|c| c.is_alphanumeric() || c == '_');
    (word && (ext == "sql" || ext == "rs")).then_some((prefix, version, title, ext))
}

/// The files below `dir`, relative to it, sorted.
fn files(dir: &Path, under: &Path, out: &mut Vec<PathBuf>) -> Result<(), ImportError> {
    let here = dir.join(under);
    for name in entries(&here, true)?.into_iter().filter(|n| !n.starts_with('.')) {
        files(dir, &under.join(name), out)?;
    }
    out.extend(entries(&here, false)?.into_iter().map(|name| under.join(name)));
    Ok(())
}

/// refinery's checksum: SipHash-1-3 with zero keys over what `Hash` feeds
/// it for `name`, `version` and `sql`: a `str` is its bytes then `0xff`, an
/// `i32` its 4 bytes in native (little-endian) order.
pub fn checksum(name: &str, version: i32, sql: &str) -> u64 {
    hash_parts(name, &version.to_ne_bytes(), sql)
}

/// The checksum of refinery built with its `int8-versions` feature: the
/// version is an `i64` (8 bytes) and the table's `version` column `int8`.
pub fn checksum_int8(name: &str, version: i64, sql: &str) -> u64 {
    hash_parts(name, &version.to_ne_bytes(), sql)
}

fn hash_parts(name: &str, version: &[u8], sql: &str) -> u64 {
    let mut bytes = Vec::with_capacity(name.len() + sql.len() + 10);
    bytes.extend_from_slice(name.as_bytes());
    bytes.push(0xff);
    bytes.extend_from_slice(version);
    bytes.extend_from_slice(sql.as_bytes());
    bytes.push(0xff);
    sip13(&bytes)
}

/// Whether `stored` is the `int8-versions` checksum of `r` (the import
/// computes the default `i32` one where the version fits).
pub(super) fn int8_checksum_matches(r: &super::ImportedRevision, stored: &ToolChecksum) -> bool {
    match (stored, r.version.parse::<i64>()) {
        (ToolChecksum::Sip13(n), Ok(version)) => *n == checksum_int8(&r.name, version, &r.up),
        _ => false,
    }
}

/// SipHash-1-3 with keys (0, 0).
fn sip13(bytes: &[u8]) -> u64 {
    let mut v = [0x736f_6d65_7073_6575u64, 0x646f_7261_6e64_6f6d, 0x6c79_6765_6e65_7261, 0x7465_6462_7974_6573];
    let round = |v: &mut [u64; 4]| {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    };
    let chunks = bytes.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        let m = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        v[3] ^= m;
        round(&mut v);
        v[0] ^= m;
    }
    let mut last = (bytes.len() as u64 & 0xff) << 56;
    for (i, b) in tail.iter().enumerate() {
        last |= u64::from(*b) << (8 * i);
    }
    v[3] ^= last;
    round(&mut v);
    v[0] ^= last;
    v[2] ^= 0xff;
    for _ in 0..3 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// Whether a line is refinery's `-- refinery:noTransaction` annotation.
fn no_transaction(line: &str) -> bool {
    let rest = line.trim_end_matches(['\r', '\n']).trim_start_matches('-');
    line.starts_with("--") && rest.strip_prefix(char::is_whitespace).unwrap_or(rest) == "refinery:noTransaction"
}

pub(super) fn read(dir: &Path, out: &mut Import) -> Result<(), ImportError> {
    let mut all = Vec::new();
    files(dir, Path::new(""), &mut all)?;
    for path in all {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let Some((prefix, version, title, ext)) = parse_name(&name) else {
            if !name.starts_with('.') && name != "mod.rs" {
                out.unsupported.push(Unsupported {
                    path: path.clone(),
                    reason: "not a refinery migration (`V<version>__<name>.sql`); skipped".into(),
                });
            }
            continue;
        };
        if ext == "rs" {
            out.unsupported.push(Unsupported {
                path: path.clone(),
                reason: "Rust migrations cannot be imported: write its SQL as a migraph revision by hand".into(),
            });
            continue;
        }
        if prefix == 'U' {
            out.unsupported.push(Unsupported {
                path: path.clone(),
                reason: "an unversioned (U) migration: imported in version order like the others".into(),
            });
        }
        let up = read_text(&dir.join(&path))?;
        // A version beyond i32 needs refinery's `int8-versions`, which hashes it as an i64.
        let sum = Some(ToolChecksum::Sip13(match i32::try_from(version) {
            Ok(small) => checksum(title, small, &up),
            Err(_) => checksum_int8(title, version, &up),
        }));
        let transaction = !up.lines().any(no_transaction);
        let r = revision(Tool::Refinery, &version.to_string(), title, path.clone(), up, None, transaction, sum)?;
        if out.revisions.iter().any(|o| o.version == r.version) {
            return Err(ImportError::file(&dir.join(&path), format!("a second migration with version {version}")));
        }
        out.revisions.push(r);
    }
    out.revisions.sort_by_key(|r| r.version.parse::<i64>().unwrap_or_default());
    Ok(())
}

pub(super) fn applied(backend: &mut dyn Backend) -> Result<Vec<AppliedVersion>, ImportError> {
    let table = Tool::Refinery.version_table();
    let d = backend.dialect();
    let select = [super::adopt::as_int(d, "version", false), super::adopt::as_text(d, "checksum")];
    let rows = load(backend, table, &select, "ORDER BY version")?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let checksum = text(&row[1]).and_then(|t| t.trim().parse::<u64>().ok()).map(ToolChecksum::Sip13);
            Some(AppliedVersion { version: int(&row[0])?.to_string(), checksum, through: false })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use std::hash::{Hash, Hasher};

    #[test]
    fn checksum_is_siphash13_of_name_version_sql() {
        // std's DefaultHasher is SipHash-1-3 with zero keys today, what
        // refinery used before it pinned `siphasher`: the same bytes.
        #[allow(deprecated)]
        let mut std = std::collections::hash_map::DefaultHasher::new();
        "initial".hash(&mut std);
        1i32.hash(&mut std);
        "CREATE TABLE persons (id INT);\n".hash(&mut std);
        assert_eq!(super::checksum("initial", 1, "CREATE TABLE persons (id INT);\n"), std.finish());
        assert_ne!(super::checksum("initial", 2, "CREATE TABLE persons (id INT);\n"), std.finish());
        // Every tail length of the last 8-byte block.
        let bytes: Vec<u8> = (0u8..40).collect();
        for n in 0..bytes.len() {
            #[allow(deprecated)]
            let mut std = std::collections::hash_map::DefaultHasher::new();
            std.write(&bytes[..n]);
            assert_eq!(super::sip13(&bytes[..n]), std.finish(), "{n} bytes");
        }
    }

    #[test]
    fn int8_versions_hash_the_version_as_i64() {
        #[allow(deprecated)]
        let mut std = std::collections::hash_map::DefaultHasher::new();
        "initial".hash(&mut std);
        1i64.hash(&mut std);
        "SELECT 1;\n".hash(&mut std);
        assert_eq!(super::checksum_int8("initial", 1, "SELECT 1;\n"), std.finish());
        assert_ne!(super::checksum_int8("initial", 1, "SELECT 1;\n"), super::checksum("initial", 1, "SELECT 1;\n"));
    }

    #[test]
    fn no_transaction_annotation() {
        assert!(super::no_transaction("-- refinery:noTransaction"));
        assert!(super::no_transaction("--refinery:noTransaction\n"));
        assert!(!super::no_transaction("SELECT 1; -- refinery:noTransaction"));
    }

    #[test]
    fn names() {
        assert_eq!(super::parse_name("V1__initial.sql"), Some(('V', 1, "initial", "sql")));
        assert_eq!(super::parse_name("U3__add_cars.rs"), Some(('U', 3, "add_cars", "rs")));
        assert_eq!(super::parse_name("V1_initial.sql"), None);
    }
}
