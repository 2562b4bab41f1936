//! The one walk of a revisions directory, shared by `migraph` (reading
//! files at run time) and `migraph-macros` (`embed_revisions!` at compile
//! time), so the embedded set is exactly the set the command line reads.
//!
//! Every `.sql` file below the directory is a revision, at any depth, so
//! teams may group files in folders by release or feature. Other files are
//! ignored. Symbolic links are followed, but a directory is entered once
//! only, so a link loop cannot hang the walk; a dangling link is skipped.
//! Files come in sorted path order, so every error list and every tie comes
//! out the same on every machine. No dependencies.

use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// Why a directory could not be walked.
#[derive(Debug)]
pub enum WalkError {
    /// The directory does not exist (or is not a directory).
    Missing(PathBuf),
    /// A directory or entry could not be read.
    Io { path: PathBuf, source: std::io::Error },
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalkError::Missing(dir) => write!(f, "revisions directory {} does not exist", dir.display()),
            WalkError::Io { path, source } => write!(f, "cannot read {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for WalkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WalkError::Missing(_) => None,
            WalkError::Io { source, .. } => Some(source),
        }
    }
}

/// Every `.sql` file below `dir`, sorted by path.
pub fn revision_files(dir: &Path) -> Result<Vec<PathBuf>, WalkError> {
    Ok(revision_files_with(dir, |_, _| ())?.0)
}

/// [`revision_files`], each file with what `each` makes of its directory
/// (as walked: `dir` joined with the subdirectories' names) and whether its
/// directory entry is a symbolic link to it: the paths and what `each`
/// made, in two lists of the same length (so the caller can drop one before
/// the other). The files of one directory come one after another.
pub fn revision_files_with<T>(
    dir: &Path,
    mut each: impl FnMut(&Path, bool) -> T,
) -> Result<(Vec<PathBuf>, Vec<T>), WalkError> {
    if !dir.is_dir() {
        return Err(WalkError::Missing(dir.to_path_buf()));
    }
    let mut files = (Vec::new(), Vec::new());
    walk(dir.to_path_buf(), &mut HashSet::new(), &mut files, &mut each)?;
    Ok(files)
}

/// Appends the files below `current` in sorted path order: each directory's
/// entries sorted by name and a subdirectory's files listed at its place is
/// exactly the order of whole paths compared component by component, so no
/// sort of the whole list (and no comparison of whole paths) is needed.
fn walk<T>(
    current: PathBuf,
    visited: &mut HashSet<PathBuf>,
    files: &mut (Vec<PathBuf>, Vec<T>),
    each: &mut impl FnMut(&Path, bool) -> T,
) -> Result<(), WalkError> {
    let io = |path: &Path, source: std::io::Error| WalkError::Io { path: path.to_path_buf(), source };
    let canonical = fs::canonicalize(&current).map_err(|e| io(&current, e))?;
    if !visited.insert(canonical) {
        return Ok(()); // a symlink loop or a second link to the same directory
    }
    // Every path is `current` joined with a name: names are compared, by
    // their first eight bytes as a number (no look at the path's memory)
    // and, where those are equal, by all their bytes.
    let prefix = current.join("x").as_os_str().len() - 1;
    // Each entry is its path and one number: the first seven bytes of its
    // name, which order it (see `first_bytes`), and its kind in the lowest
    // byte (32 bytes an entry, not 40 with a `FileType` beside).
    let mut entries = Vec::new();
    for entry in fs::read_dir(&current).map_err(|e| io(&current, e))? {
        let entry = entry.map_err(|e| io(&current, e))?;
        // `current` joined with the entry's name, in one allocation.
        let path = entry.path();
        let kind = Kind::of(entry.file_type().map_err(|e| io(&path, e))?);
        entries.push((first_bytes(name(&path, prefix)) & !0xff | kind as u64, path));
    }
    entries
        .sort_unstable_by(|a, b| (a.0 >> 8).cmp(&(b.0 >> 8)).then_with(|| name(&a.1, prefix).cmp(name(&b.1, prefix))));
    let plain = |key: &u64| matches!(Kind::from_key(*key), Kind::File | Kind::Other);
    let revision = |kind: Kind, path: &Path| kind == Kind::File && is_sql(name(path, prefix));
    if files.0.is_empty() && entries.iter().all(|(key, _)| plain(key)) {
        // The usual layout, one directory of files and nothing else: its
        // list becomes the list of files in place (no second list of every
        // path while the first is still there).
        let mut paths: Vec<PathBuf> = entries
            .into_iter()
            .filter(|(key, path)| revision(Kind::from_key(*key), path))
            .map(|(_, path)| path)
            .collect();
        paths.shrink_to_fit();
        files.1 = paths.iter().map(|_| each(&current, false)).collect();
        files.0 = paths;
        return Ok(());
    }
    for (key, path) in entries {
        let mut kind = Kind::from_key(key);
        let link = kind == Kind::Link;
        if link {
            match fs::metadata(&path) {
                Ok(meta) => kind = Kind::of(meta.file_type()),
                Err(_) => continue, // a dangling link is not a revision
            }
        }
        if kind == Kind::Dir {
            walk(path, visited, files, each)?;
        } else if revision(kind, &path) {
            files.1.push(each(&current, link));
            files.0.push(path);
        }
    }
    Ok(())
}

/// What a directory entry is, as the walk needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File = 0,
    Dir = 1,
    Link = 2,
    Other = 3,
}

impl Kind {
    fn of(kind: fs::FileType) -> Kind {
        if kind.is_symlink() {
            Kind::Link
        } else if kind.is_dir() {
            Kind::Dir
        } else if kind.is_file() {
            Kind::File
        } else {
            Kind::Other
        }
    }

    /// The kind held in the lowest byte of an entry's number.
    fn from_key(key: u64) -> Kind {
        [Kind::File, Kind::Dir, Kind::Link, Kind::Other][(key & 3) as usize]
    }
}

/// The bytes of `path` from `prefix` on: its name, when `prefix` is the
/// length of its directory's path and a separator.
fn name(path: &Path, prefix: usize) -> &[u8] {
    path.as_os_str().as_encoded_bytes().get(prefix..).unwrap_or_default()
}

/// The first eight bytes of `name` as a big-endian number, zeros after a
/// shorter name: ordered as the names are where they differ (no name holds
/// a zero byte).
fn first_bytes(name: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = name.len().min(8);
    bytes[..n].copy_from_slice(&name[..n]);
    u64::from_be_bytes(bytes)
}

/// Whether a file named `name` (its bytes) has the extension `sql`: what
/// `Path::extension` says (`.sql` alone is a hidden file without one),
/// without parsing the path's components.
fn is_sql(name: &[u8]) -> bool {
    name.len() > 4 && name.ends_with(b".sql")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_nested_dirs_follows_links_once_and_sorts() {
        let dir = std::env::temp_dir().join(format!("migraph-walk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("b/c")).unwrap();
        fs::create_dir_all(dir.join("a")).unwrap();
        // `a/z.sql` sorts before `a-b.sql` by components, after it by bytes.
        for file in ["z.sql", "a-b.sql", "a/z.sql", "b/c/x.sql", "b/notes.txt", "b/y.SQL.sql", "b/c.sql"] {
            fs::write(dir.join(file), "").unwrap();
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&dir, dir.join("b/loop")).unwrap();
            std::os::unix::fs::symlink(dir.join("gone.sql"), dir.join("dangling.sql")).unwrap();
        }
        let files = revision_files(&dir).unwrap();
        let relative: Vec<_> = files.iter().map(|f| f.strip_prefix(&dir).unwrap().to_str().unwrap()).collect();
        assert_eq!(relative, ["a/z.sql", "a-b.sql", "b/c/x.sql", "b/c.sql", "b/y.SQL.sql", "z.sql"]);
        let mut sorted = files.clone();
        sorted.sort();
        assert_eq!(files, sorted, "the order of whole paths");
        for name in ["a.sql", "..sql", "a.b.sql", ".sql", "sql", "a.sqlx", "a.SQL", "a.sql.txt", "_.sql"] {
            let expected = Path::new(name).extension().is_some_and(|e| e == "sql");
            assert_eq!(is_sql(name.as_bytes()), expected, "{name}");
        }
        // A directory of files only (listed in place) and the same files
        // beside an empty subdirectory (listed one by one) give the same
        // list, each file with its directory and not as a link.
        let flat = dir.join("flat");
        for (n, names) in
            [["b1.sql", "a.txt", "a10.sql", "a9.sql", "abcdefgh2.sql", "abcdefgh1.sql"]; 2].iter().enumerate()
        {
            let at = flat.join(n.to_string());
            fs::create_dir_all(&at).unwrap();
            names.iter().for_each(|name| fs::write(at.join(name), "").unwrap());
        }
        fs::create_dir(flat.join("1/empty")).unwrap();
        type Listed = (Vec<String>, Vec<(PathBuf, bool)>);
        let listed: Vec<Listed> = ["0", "1"]
            .iter()
            .map(|n| {
                let at = flat.join(n);
                let (files, each) = revision_files_with(&at, |d, link| (d.to_path_buf(), link)).unwrap();
                assert!(each.iter().all(|(d, link)| d == &at && !link), "{each:?}");
                let names = files.iter().map(|f| f.strip_prefix(&at).unwrap().to_str().unwrap().to_string()).collect();
                (names, each)
            })
            .collect();
        assert_eq!(listed[0].0, ["a10.sql", "a9.sql", "abcdefgh1.sql", "abcdefgh2.sql", "b1.sql"]);
        assert_eq!(listed[0].0, listed[1].0);
        assert_eq!(listed[0].1.len(), 5);
        let missing = revision_files(&dir.join("missing")).unwrap_err();
        assert!(matches!(missing, WalkError::Missing(_)));
        assert!(missing.to_string().contains("does not exist"), "{missing}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
