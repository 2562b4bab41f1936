//! Reading a revisions directory and writing new revision files.
//!
//! Every `.sql` file below the directory is a revision, at any depth, so teams
//! may group files in folders by release or feature. Other files are ignored.
//! Symbolic links are followed, but a directory is entered once only, so a
//! link loop cannot hang the walk. Files are read in sorted path order, so
//! every error list and every tie comes out the same on every machine.

mod cache;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::revision::{hex, ParseError, Revision, DOWN_MARKER, UP_MARKER};

/// A directory that could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("revisions directory {} does not exist", .0.display())]
    Missing(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} already exists; not overwriting it", .0.display())]
    Exists(PathBuf),
}

impl SourceError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        SourceError::Io { path: path.to_path_buf(), source }
    }
}

/// The result of reading a directory: the revisions that parsed, and one
/// error per file that did not. Callers decide whether partial results are
/// useful (`check` reports everything at once).
#[derive(Debug, Default)]
pub struct Loaded {
    pub revisions: Vec<Revision>,
    pub errors: Vec<ParseError>,
}

/// Lists every `.sql` file below `dir`, sorted: the walk shared with
/// `embed_revisions!` (the `migraph-walk` crate).
pub fn revision_files(dir: &Path) -> Result<Vec<PathBuf>, SourceError> {
    migraph_walk::revision_files(dir).map_err(walk_error)
}

fn walk_error(e: migraph_walk::WalkError) -> SourceError {
    match e {
        migraph_walk::WalkError::Missing(dir) => SourceError::Missing(dir),
        migraph_walk::WalkError::Io { path, source } => SourceError::Io { path, source },
    }
}

/// Reads and parses every revision file below `dir`, on all cores (reading
/// thousands of small files is dominated by system calls, which overlap).
/// The result does not depend on the number of threads.
pub fn load_dir(dir: &Path) -> Result<Loaded, SourceError> {
    let files = revision_files(dir)?;
    Ok(collect(in_parallel(&files, &|path: &PathBuf| Revision::read(path))))
}

pub use cache::{cache_dir, RACY_SECONDS};

/// Reads every revision file below `dir` like [`load_dir`], but keeps only
/// headers, checksums and which sections each file has, not its SQL
/// ([`Revision::has_sql`] is false; [`Revision::load_sql`] reads it and
/// checks it against the checksum). Files unchanged since an earlier call
/// are not even read: their headers come from a cache outside the
/// directory (see [`cache_dir`]; `MIGRAPH_NO_CACHE=1` turns it off), whose
/// entries are only trusted for files whose `stat` (device, inode, size,
/// modification and change times) is the recorded one and whose times were
/// at least [`RACY_SECONDS`] older than the moment they were read.
pub fn load_headers(dir: &Path) -> Result<Loaded, SourceError> {
    load_headers_with(dir, cache::Cache::of(dir))
}

/// [`load_headers`] with `cache` (`None`: none).
fn load_headers_with(dir: &Path, cache: Option<cache::Cache>) -> Result<Loaded, SourceError> {
    let header = |path: &PathBuf| Revision::read(path).map(Revision::without_sql);
    let Some(cache) = cache else {
        return Ok(collect(in_parallel(&revision_files(dir)?, &header)));
    };
    // The time first, then the stat, then the content: a write after the
    // stat moves the change time past the one recorded.
    let read_at = cache::now_ns();
    // The walk is one thread: the cache is decoded beside it. Then the
    // cache's entries are matched with the files by path, and the files of
    // entries are `stat`ed on all cores (each an `fstatat` in its
    // directory, opened once), keeping the entries that are fresh. The
    // other files are `stat`ed and read.
    // The decoding matches entries with files as soon as the walk is over
    // (a failed walk: with none, and the error is returned).
    let mut dirs = cache::Dirs::default();
    let walked = std::sync::OnceLock::new();
    let decoded = std::thread::scope(|scope| {
        let (cache, walked) = (&cache, &walked);
        let files =
            move || walked.get().map(|w: &Result<(Vec<PathBuf>, _), _>| w.as_ref().map_or(&[][..], |w| &w.0[..]));
        let decoding = scope.spawn(move || cache.read(dir, files));
        let _ = walked.set(migraph_walk::revision_files_with(dir, |parent, link| dirs.file(parent, link)));
        decoding.join().ok().flatten()
    });
    // Set above, before the scope ended.
    let (mut paths, found) = walked.into_inner().expect("the walk's result").map_err(walk_error)?;
    let (mut entries, cached) = decoded.map(|d| d.matched(dir, &paths)).unwrap_or_default();
    let stat = |file: usize| dirs.stat(found[file], &paths[file]);
    let fresh = in_parallel(&entries, &|(file, entry)| cache::Cache::is_fresh(entry, stat(*file)));
    let mut fresh = fresh.into_iter();
    entries.retain(|_| fresh.next().flatten().unwrap_or(false));
    let mut hit = vec![false; paths.len()];
    entries.iter().for_each(|(file, _)| hit[*file] = true);
    let missed: Vec<usize> = hit.iter().enumerate().filter(|(_, hit)| !**hit).map(|(file, _)| file).collect();
    drop(hit);
    let read = in_parallel(&missed, &|&file| (stat(file), header(&paths[file])));
    drop((found, dirs));
    if entries.len() as u64 != cached || !missed.is_empty() {
        // Something changed: the cache gets an entry for every file read
        // (`missed` and `read` are the files without an entry, in order).
        let mut entries = entries.iter().peekable();
        let mut read = read.iter().flatten();
        let rows = paths.iter().enumerate().filter_map(|(n, path)| match entries.next_if(|(f, _)| *f == n) {
            Some((_, e)) => Some((e.stat, cache.read_at(e), path.as_path(), &e.revision)),
            None => match read.next() {
                Some((Some(stat), Ok(revision))) => Some((*stat, read_at, path.as_path(), revision)),
                _ => None,
            },
        });
        cache.write(dir, rows);
    }
    drop(missed);
    // In place: the entries' memory holds the revisions, which take their
    // files' paths.
    let mut revisions: Vec<Revision> = entries
        .into_iter()
        .map(|(file, entry)| Revision { path: std::mem::take(&mut paths[file]), ..entry.revision })
        .collect();
    drop(paths);
    let mut errors = Vec::new();
    for (_, result) in read.into_iter().flatten() {
        match result {
            Ok(revision) => revisions.push(revision),
            Err(error) => errors.push(error),
        }
    }
    // The entries were larger than revisions: give the rest back.
    revisions.shrink_to_fit();
    Ok(Loaded { revisions, errors })
}

/// Results in file order, revisions and errors apart; the revisions in
/// place of the results (no second list of every revision).
fn collect(found: Vec<Option<Result<Revision, ParseError>>>) -> Loaded {
    let mut errors = Vec::new();
    let revisions = found
        .into_iter()
        .filter_map(|result| match result? {
            Ok(revision) => Some(revision),
            Err(error) => {
                errors.push(error);
                None
            }
        })
        .collect();
    Loaded { revisions, errors }
}

/// `work` on every item, on up to 8 threads, each result in its item's
/// slot (`Some` in every slot: a worker that panics makes the caller panic
/// with it, never a result silently missing). One list of results, written
/// in place: no list per thread to join.
fn in_parallel<T: Sync, R: Send>(items: &[T], work: &(impl Fn(&T) -> R + Sync)) -> Vec<Option<R>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = items.len().div_ceil(threads).max(256);
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    // Threads not joined here are joined by the scope, which then panics
    // if one of them did.
    std::thread::scope(|scope| {
        for (part, out) in items.chunks(chunk).zip(results.chunks_mut(chunk)) {
            scope.spawn(move || part.iter().zip(out).for_each(|(item, slot)| *slot = Some(work(item))));
        }
    });
    results
}

/// What `migraph revision` and `migraph merge` write.
#[derive(Debug, Clone, Default)]
pub struct NewRevision {
    /// The ID; `None` generates one.
    pub id: Option<String>,
    pub parents: Vec<String>,
    pub message: String,
    pub labels: Vec<String>,
    pub depends_on: Vec<String>,
    /// SQL for the up section (empty leaves a placeholder comment).
    pub up: String,
    /// SQL for the down section.
    pub down: String,
}

impl NewRevision {
    /// The ID this revision gets: the given one, or the first 12 hex digits
    /// of SHA-256 over parents, message, creation time and a random salt.
    pub fn resolve_id(&self, created: &str) -> String {
        if let Some(id) = &self.id {
            return id.clone();
        }
        let mut salt = [0u8; 16];
        if getrandom::getrandom(&mut salt).is_err() {
            // No OS randomness: the clock and the process still make a unique enough salt.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            salt = (nanos ^ u128::from(std::process::id())).to_le_bytes();
        }
        let mut hasher = Sha256::new();
        for part in [self.parents.join(" ").as_bytes(), self.message.as_bytes(), created.as_bytes(), &salt] {
            hasher.update(part);
            hasher.update([0]);
        }
        hex(&hasher.finalize()[..6])
    }

    /// The file's text.
    pub fn render(&self, id: &str, created: &str) -> String {
        let mut text = format!("-- id: {id}\n-- parents: {}\n", self.parents.join(" "));
        let message = self.message.replace(['\r', '\n'], " ");
        text.push_str(&format!("-- message: {}\n-- created: {created}\n", message.trim()));
        if !self.labels.is_empty() {
            text.push_str(&format!("-- labels: {}\n", self.labels.join(" ")));
        }
        if !self.depends_on.is_empty() {
            text.push_str(&format!("-- depends-on: {}\n", self.depends_on.join(" ")));
        }
        text.push_str(&format!("\n{UP_MARKER}\n{}\n\n{DOWN_MARKER}\n{}\n", self.up.trim_end(), self.down.trim_end()));
        text
    }
}

/// Now, UTC, RFC 3339 to the second.
pub fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc().replace_nanosecond(0).unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// `add users table` → `add_users_table`, at most 40 characters.
pub fn slug(message: &str) -> String {
    let mut slug = String::new();
    for c in message.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('_') && !slug.is_empty() {
            slug.push('_');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_end_matches('_');
    if slug.is_empty() {
        "revision".to_string()
    } else {
        slug.to_string()
    }
}

/// Writes `text` as `<dir>/<id>_<slug>.sql`, refusing to overwrite, and
/// returns the path. The file appears whole or not at all (written to a
/// temporary file in the same directory, then linked into place).
pub fn write_revision_file(dir: &Path, id: &str, message: &str, text: &str) -> Result<PathBuf, SourceError> {
    let path = dir.join(format!("{id}_{}.sql", slug(message)));
    if path.exists() {
        return Err(SourceError::Exists(path));
    }
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|e| SourceError::io(dir, e))?;
    temp.write_all(text.as_bytes()).map_err(|e| SourceError::io(&path, e))?;
    temp.persist_noclobber(&path).map_err(|e| SourceError::io(&path, e.error))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    /// Every result is in its item's slot, on several threads, and a
    /// worker's panic reaches the caller (no result silently missing).
    #[test]
    fn in_parallel_keeps_order_and_passes_panics_on() {
        let items: Vec<u32> = (0..2_000).collect();
        let doubled = in_parallel(&items, &|n| n * 2);
        assert_eq!(doubled, items.iter().map(|n| Some(n * 2)).collect::<Vec<_>>());
        assert!(in_parallel(&[] as &[u32], &|n| *n).is_empty());
        let panicked =
            std::panic::catch_unwind(|| in_parallel(&items, &|&n| if n == 1_999 { panic!("worker") } else { n }));
        assert!(panicked.is_err());
    }

    #[test]
    fn rendered_file_parses_back() {
        let new = NewRevision {
            id: None,
            parents: vec!["aaa".into(), "bbb".into()],
            message: "merge\nbranches".into(),
            labels: vec!["x".into()],
            depends_on: vec!["ccc".into()],
            up: String::new(),
            down: String::new(),
        };
        let created = now_rfc3339();
        let id = new.resolve_id(&created);
        assert_eq!(id.len(), 12);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, new.resolve_id(&created), "the salt makes each id unique");
        let r = Revision::parse(Path::new("x.sql"), &new.render(&id, &created)).unwrap();
        assert_eq!(r.id, id);
        assert_eq!(r.parents, ["aaa", "bbb"]);
        assert_eq!(r.message, "merge branches");
        assert_eq!(r.labels(), ["x"]);
        assert_eq!(r.depends_on(), ["ccc"]);
        assert_eq!(r.down.as_deref(), Some("\n"));
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Add users table!"), "add_users_table");
        assert_eq!(slug("  ??  "), "revision");
        assert!(slug(&"x".repeat(100)).len() <= 40);
    }

    /// The entries of a fresh cache are used (a cache entry changed by hand
    /// shows), those of files written within the margin are not.
    #[test]
    fn fresh_entries_are_used_racy_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let text = |id: &str, parents: &str, sql: &str| {
            format!("-- id: {id}\n-- parents: {parents}\n-- message: m {id}\n-- migrate:up\n{sql}\n-- migrate:down\n")
        };
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("a.sql"), text("a", "", "CREATE TABLE a (x INT);")).unwrap();
        fs::write(dir.path().join("sub/b.sql"), text("b", "a", "CREATE TABLE b (x INT);")).unwrap();
        let cache = |margin_ns| Some(cache::Cache { file: cache_dir.path().join("c.bin"), margin_ns });
        let full = load_dir(dir.path()).unwrap();
        let cold = load_headers_with(dir.path(), cache(0)).unwrap();
        let sorted = |mut list: Vec<Revision>| {
            list.sort_by(|a, b| a.id.cmp(&b.id));
            list
        };
        let (full, cold) = (sorted(full.revisions), sorted(cold.revisions));
        assert_eq!(full.iter().map(|r| r.clone().without_sql()).collect::<Vec<_>>(), cold);
        assert!(cold.iter().all(|r| !r.has_sql() && r.is_reversible() && r.down.as_deref() == Some("")));
        // The cache holds both; an entry changed by hand (same stat) is what a hit shows.
        let files = migraph_walk::revision_files(dir.path()).unwrap();
        let (mut entries, count) =
            cache(0).unwrap().read(dir.path(), || Some(&files[..])).unwrap().matched(dir.path(), &files);
        assert_eq!((entries.len(), count), (2, 2));
        entries[0].1.revision.message = "from the cache".into();
        let at = cache(0).unwrap();
        let rows = entries.iter().map(|(f, e)| (e.stat, at.read_at(e), files[*f].as_path(), &e.revision));
        at.write(dir.path(), rows);
        let warm = sorted(load_headers_with(dir.path(), cache(0)).unwrap().revisions);
        assert_eq!(warm[0].message, "from the cache", "a fresh entry is used");
        assert_eq!(warm[1], cold[1]);
        // With the margin, files written a moment ago are read again.
        let racy = sorted(load_headers_with(dir.path(), cache(2_000_000_000)).unwrap().revisions);
        assert_eq!(racy, cold);
        // Loading the SQL checks it against the checksum.
        let mut b = warm[1].clone();
        b.load_sql().unwrap();
        assert_eq!(b, full[1]);
        let mut b = warm[1].clone();
        fs::write(dir.path().join("sub/b.sql"), text("b", "a", "CREATE TABLE c (x INT);")).unwrap();
        let e = b.load_sql().unwrap_err();
        assert!(matches!(e, crate::revision::SqlError::Changed { .. }), "{e}");
        assert!(e.to_string().starts_with(&format!("{}: the file changed", dir.path().join("sub/b.sql").display())));
        assert!(!b.has_sql() && b.up.is_empty());
    }

    #[test]
    fn walks_nested_dirs_and_survives_symlink_loops() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        fs::write(dir.path().join("a/b/one.sql"), "-- id: one\n-- parents:\n-- migrate:up\n").unwrap();
        fs::write(dir.path().join("two.sql"), "-- id: two\n-- parents: one\n-- migrate:up\n").unwrap();
        fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path(), dir.path().join("a/loop")).unwrap();
        let loaded = load_dir(dir.path()).unwrap();
        let mut ids: Vec<_> = loaded.revisions.iter().map(|r| r.id.as_str()).collect();
        ids.sort();
        assert_eq!(ids, ["one", "two"]);
        assert!(loaded.errors.is_empty());
        assert!(matches!(load_dir(&dir.path().join("nope")), Err(SourceError::Missing(_))));
    }
}
