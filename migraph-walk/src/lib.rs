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
    if !dir.is_dir() {
        return Err(WalkError::Missing(dir.to_path_buf()));
    }
    let io = |path: &Path, source: std::io::Error| WalkError::Io { path: path.to_path_buf(), source };
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let canonical = fs::canonicalize(&current).map_err(|e| io(&current, e))?;
        if !visited.insert(canonical) {
            continue; // a symlink loop or a second link to the same directory
        }
        // Sorted, and subdirectories visited in sorted order, so which of two
        // links to one directory names its files does not depend on the
        // file system's listing order.
        let mut entries =
            fs::read_dir(&current).and_then(|list| list.collect::<Result<Vec<_>, _>>()).map_err(|e| io(&current, e))?;
        entries.sort_by_key(|entry| entry.file_name());
        let mut subdirectories = Vec::new();
        for entry in entries {
            let path = entry.path();
            let mut kind = entry.file_type().map_err(|e| io(&path, e))?;
            if kind.is_symlink() {
                match fs::metadata(&path) {
                    Ok(meta) => kind = meta.file_type(),
                    Err(_) => continue, // a dangling link is not a revision
                }
            }
            if kind.is_dir() {
                subdirectories.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|ext| ext == "sql") {
                files.push(path);
            }
        }
        pending.extend(subdirectories.into_iter().rev());
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_nested_dirs_follows_links_once_and_sorts() {
        let dir = std::env::temp_dir().join(format!("migraph-walk-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("b/c")).unwrap();
        for file in ["z.sql", "a-b.sql", "b/c/x.sql", "b/notes.txt", "b/y.SQL.sql"] {
            fs::write(dir.join(file), "").unwrap();
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&dir, dir.join("b/loop")).unwrap();
            std::os::unix::fs::symlink(dir.join("gone.sql"), dir.join("dangling.sql")).unwrap();
        }
        let files = revision_files(&dir).unwrap();
        let relative: Vec<_> = files.iter().map(|f| f.strip_prefix(&dir).unwrap().to_str().unwrap()).collect();
        assert_eq!(relative, ["a-b.sql", "b/c/x.sql", "b/y.SQL.sql", "z.sql"]);
        let missing = revision_files(&dir.join("missing")).unwrap_err();
        assert!(matches!(missing, WalkError::Missing(_)));
        assert!(missing.to_string().contains("does not exist"), "{missing}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
