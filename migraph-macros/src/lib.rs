//! Compile-time embedding of [migraph](https://crates.io/crates/migraph)
//! revision files. Use it through the re-export `migraph::embed_revisions!`.
//!
//! This crate has no dependencies: the single string-literal argument is
//! read from the token stream by hand and the expansion is built as text.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro::{Delimiter, TokenStream, TokenTree};

/// Embeds every revision file below a directory into the binary.
///
/// ```ignore
/// // Tested as the example of `migraph::Embedded`, where `migraph` resolves.
/// static REVISIONS: &[migraph::Embedded] = migraph::embed_revisions!("revisions");
///
/// let migrator = migraph::Migrator::from_embedded(REVISIONS)?;
/// ```
///
/// The argument is a string literal: a directory relative to the
/// `Cargo.toml` of the crate being compiled (`CARGO_MANIFEST_DIR`), or an
/// absolute path. `embed_revisions!()` means `embed_revisions!("revisions")`.
/// The directory is walked like `migraph` walks it at run time: every `.sql`
/// file at any depth, symbolic links followed, each directory entered once,
/// files in sorted path order.
///
/// The expansion is a `&'static [migraph::Embedded]` with one element per
/// file, whose `path` is the argument joined with the file's relative path
/// (`"revisions/a/5f1c0e9a2b7d_add_users.sql"`, always with `/`) and whose
/// `text` is `include_str!` of the file. Parse errors are therefore reported
/// at run time by `Migrator::from_embedded`, naming that path, exactly as
/// for files on disk; a missing directory or an unreadable file is a compile
/// error.
///
/// # Recompiling when revisions change
///
/// `include_str!` makes cargo recompile the crate when an embedded file
/// changes. A **new** file is not seen until something else triggers a
/// rebuild, so add a build script (the same advice as `diesel_migrations`):
///
/// ```text
/// // build.rs
/// fn main() {
///     println!("cargo:rerun-if-changed=revisions");
/// }
/// ```
#[proc_macro]
pub fn embed_revisions(input: TokenStream) -> TokenStream {
    let code = match expand(input) {
        Ok(code) => code,
        Err(message) => format!("::core::compile_error!({message:?})"),
    };
    code.parse().unwrap_or_else(|_| {
        "::core::compile_error!(\"embed_revisions!: internal error: invalid expansion\")".parse().unwrap_or_default()
    })
}

const USAGE: &str = "expected one string literal, e.g. `embed_revisions!(\"revisions\")`";

/// The expansion's text, or the message of a compile error.
fn expand(input: TokenStream) -> Result<String, String> {
    let argument = argument(input)?;
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
        .map_err(|_| "embed_revisions!: CARGO_MANIFEST_DIR is not set (build with cargo)".to_string())?;
    let root = Path::new(&manifest_dir).join(&argument);
    let files = revision_files(&root).map_err(|e| format!("embed_revisions!: {e}"))?;
    let prefix = argument.trim_end_matches(['/', '\\']);
    let mut items = String::new();
    for file in &files {
        let relative = file
            .strip_prefix(&root)
            .map_err(|_| format!("embed_revisions!: {} is outside {}", file.display(), root.display()))?;
        let mut path = prefix.to_string();
        for component in relative.components() {
            let part = component.as_os_str().to_str().ok_or_else(|| not_utf8(file))?;
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(part);
        }
        let absolute = file.to_str().ok_or_else(|| not_utf8(file))?;
        items.push_str(&format!(
            "::migraph::Embedded {{ path: {path:?}, text: ::core::include_str!({absolute:?}) }},\n"
        ));
    }
    Ok(format!("{{ const REVISIONS: &[::migraph::Embedded] = &[\n{items}]; REVISIONS }}"))
}

fn not_utf8(path: &Path) -> String {
    format!("embed_revisions!: the path {} is not valid UTF-8", path.display())
}

/// The directory named by the invocation's argument.
fn argument(input: TokenStream) -> Result<String, String> {
    let mut tokens = Vec::new();
    flatten(input, &mut tokens);
    if tokens.len() == 2 && matches!(&tokens[1], TokenTree::Punct(p) if p.as_char() == ',') {
        tokens.pop(); // a trailing comma
    }
    match tokens.as_slice() {
        [] => Ok("revisions".to_string()),
        [TokenTree::Literal(literal)] => string_literal(&literal.to_string()),
        _ => Err(format!("embed_revisions!: {USAGE}")),
    }
}

/// The tokens, with invisible groups (from `macro_rules!` fragments) opened.
fn flatten(input: TokenStream, out: &mut Vec<TokenTree>) {
    for tree in input {
        match tree {
            TokenTree::Group(group) if group.delimiter() == Delimiter::None => flatten(group.stream(), out),
            other => out.push(other),
        }
    }
}

/// The value of a string literal written as `source` (plain or raw).
fn string_literal(source: &str) -> Result<String, String> {
    let wrong = || format!("embed_revisions!: {USAGE}, not `{source}`");
    if let Some(raw) = source.strip_prefix('r') {
        let hashes = &raw[..raw.len() - raw.trim_start_matches('#').len()];
        let body = raw[hashes.len()..].strip_prefix('"').ok_or_else(wrong)?;
        let body = body.strip_suffix(hashes).and_then(|b| b.strip_suffix('"')).ok_or_else(wrong)?;
        return Ok(body.to_string());
    }
    let body = source.strip_prefix('"').and_then(|s| s.strip_suffix('"')).ok_or_else(wrong)?;
    unescape(body).ok_or_else(|| format!("embed_revisions!: unsupported escape sequence in {source}"))
}

/// Resolves the escapes of a (non-raw) string literal's body.
fn unescape(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            '0' => out.push('\0'),
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'x' => {
                let hex: String = [chars.next()?, chars.next()?].iter().collect();
                let byte = u8::from_str_radix(&hex, 16).ok().filter(u8::is_ascii)?;
                out.push(char::from(byte));
            }
            'u' => {
                if chars.next()? != '{' {
                    return None;
                }
                let mut hex = String::new();
                loop {
                    match chars.next()? {
                        '}' => break,
                        '_' => {}
                        digit => hex.push(digit),
                    }
                }
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            '\n' => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Every `.sql` file below `dir`, sorted: the same walk as
/// `migraph::source::revision_files`, so the embedded set is the set the
/// command line would read.
fn revision_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if !dir.is_dir() {
        return Err(format!("revisions directory {} does not exist", dir.display()));
    }
    let io = |path: &Path, e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let canonical = fs::canonicalize(&current).map_err(|e| io(&current, e))?;
        if !visited.insert(canonical) {
            continue; // a symlink loop or a second link to the same directory
        }
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
    fn string_literals() {
        assert_eq!(string_literal("\"revisions\"").unwrap(), "revisions");
        assert_eq!(string_literal("r\"db\\revs\"").unwrap(), "db\\revs");
        assert_eq!(string_literal("r#\"a\"b\"#").unwrap(), "a\"b");
        assert_eq!(string_literal("\"a\\\\b\\\"c\\x41\\u{e9}\"").unwrap(), "a\\b\"cAé");
        assert!(string_literal("b\"bytes\"").is_err());
        assert!(string_literal("42").is_err());
        assert!(string_literal("\"x\"suffix").is_err());
        assert!(string_literal("\"bad \\q\"").is_err());
    }

    #[test]
    fn walk_matches_the_runtime_walk() {
        let dir = std::env::temp_dir().join(format!("migraph-macros-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("b/c")).unwrap();
        for file in ["z.sql", "a-b.sql", "b/c/x.sql", "b/notes.txt", "b/y.SQL.sql"] {
            fs::write(dir.join(file), "").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(&dir, dir.join("b/loop")).unwrap();
        let files = revision_files(&dir).unwrap();
        let relative: Vec<_> = files.iter().map(|f| f.strip_prefix(&dir).unwrap().to_str().unwrap()).collect();
        assert_eq!(relative, ["a-b.sql", "b/c/x.sql", "b/y.SQL.sql", "z.sql"]);
        assert!(revision_files(&dir.join("missing")).unwrap_err().contains("does not exist"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
