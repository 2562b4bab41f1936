//! The record of the last `migraph verify` of a database, so that `status`
//! can say whether the live schema was compared with what its revisions
//! build, and whether anything changed since.
//!
//! SPEC §6 gives the database no place for it (only `<table>` and
//! `<table>_pending`), so the record is a small JSON file on the machine
//! that ran `verify`: `$MIGRAPH_CACHE_DIR`, else `$XDG_CACHE_HOME/migraph`,
//! else `~/.cache/migraph`, in `verified/`, one file per database (named by
//! a SHA-256 of its URL without the password, the version table and the
//! schema). It holds fingerprints, never the URL's password or the schema
//! itself: a SHA-256 of the normalised schema as `migraph schema --json`
//! prints it, and one of the applied rows (ID and checksum). `status`
//! recomputes both and compares: a verification is only reported as
//! current when neither changed.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use migraph::backend::{redact, sqlite_path, Backend, DatabaseUrl};
use migraph::schema::Schema;
use migraph::status::DbState;

use super::schema::scope;
use super::Context;

/// What `verify` found, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The database, password redacted (for people reading the file).
    pub database: String,
    /// When `verify` ran, UTC, RFC 3339.
    pub verified_at: String,
    /// How many differences it found (0: the schema was as built).
    pub differences: usize,
    /// SHA-256 of the live schema, normalised (`migraph schema --json`).
    pub schema_sha256: String,
    /// SHA-256 of the applied rows' IDs and checksums, sorted.
    pub applied_sha256: String,
}

/// Whether the record still describes the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Freshness {
    /// Neither the schema nor the applied revisions changed since.
    Current,
    /// The schema or the applied revisions changed since.
    Changed,
}

/// The fingerprint of a schema.
pub fn schema_sha256(schema: &Schema) -> String {
    hex(&Sha256::digest(serde_json::to_vec(schema).unwrap_or_default()))
}

/// The fingerprint of the applied rows: IDs and checksums, sorted.
pub fn applied_sha256(db: &DbState) -> String {
    let mut rows: Vec<(&str, &str)> = db.rows.iter().map(|r| (r.id.as_str(), r.checksum.as_str())).collect();
    rows.sort_unstable();
    let mut hasher = Sha256::new();
    for (id, checksum) in rows {
        hasher.update(id.as_bytes());
        hasher.update([0]);
        hasher.update(checksum.as_bytes());
        hasher.update([b'\n']);
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The directory of the records (`None`: no home to put it in).
fn directory() -> Option<PathBuf> {
    Some(migraph::source::cache_dir()?.join("verified"))
}

/// The record's file for the database of `cx`: its URL without the
/// password (a SQLite file by its absolute path), table and schema.
fn file(cx: &Context, url: &str) -> Option<PathBuf> {
    let database = match DatabaseUrl::parse(url) {
        Ok(DatabaseUrl::Sqlite(_)) => {
            let path = sqlite_path(url)?;
            fs::canonicalize(&path).unwrap_or_else(|_| PathBuf::from(path)).display().to_string()
        }
        _ => redact(url),
    };
    let key = format!("{database}\0{}\0{}", cx.settings.table, cx.settings.schema.as_deref().unwrap_or(""));
    Some(directory()?.join(format!("{}.json", &hex(&Sha256::digest(key.as_bytes()))[..32])))
}

/// Writes the record of a `verify` run; the path written, or why not.
pub fn save(cx: &Context, url: &str, record: &Record) -> Result<PathBuf, String> {
    let path = file(cx, url).ok_or("no cache directory (set MIGRAPH_CACHE_DIR or HOME)")?;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let text = serde_json::to_string_pretty(record).map_err(|e| e.to_string())?;
    // Written beside it and renamed: a reader never sees half a record.
    let partial = path.with_extension("json.partial");
    fs::write(&partial, text + "\n").map_err(|e| format!("{}: {e}", partial.display()))?;
    fs::rename(&partial, &path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The record for the database of `cx`, if `verify` ran here (a record that
/// cannot be read counts as none).
pub fn load(cx: &Context, url: &str) -> Option<Record> {
    let text = fs::read_to_string(file(cx, url)?).ok()?;
    serde_json::from_str(&text).ok()
}

/// Compares `record` with the live database `conn` and its state `db`.
pub fn freshness(cx: &Context, record: &Record, conn: &mut dyn Backend, db: &DbState) -> Freshness {
    let same_rows = record.applied_sha256 == applied_sha256(db);
    let same_schema =
        same_rows && migraph::schema::read(conn, &scope(cx)).is_ok_and(|s| schema_sha256(&s) == record.schema_sha256);
    if same_schema {
        Freshness::Current
    } else {
        Freshness::Changed
    }
}

/// `status`'s line about verification (without the `schema:` label).
pub fn describe(record: Option<&Record>, freshness: Option<Freshness>) -> String {
    const VERIFY: &str = "`migraph verify` compares it with what the applied revisions build";
    match (record, freshness) {
        (None, _) | (_, None) => format!("not verified ({VERIFY})"),
        (Some(r), Some(Freshness::Changed)) => {
            format!("changed since verified on {} (run `migraph verify` again)", r.verified_at)
        }
        (Some(r), Some(Freshness::Current)) if r.differences == 0 => {
            format!("verified on {}: as the applied revisions build it", r.verified_at)
        }
        (Some(r), Some(Freshness::Current)) => format!(
            "verified on {}: {} difference(s) from what the applied revisions build (`migraph verify` lists them)",
            r.verified_at, r.differences
        ),
    }
}
