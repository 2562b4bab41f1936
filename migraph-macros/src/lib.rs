//! Compile-time embedding of [migraph](https://crates.io/crates/migraph)
//! revision files. Use it through the re-export `migraph::embed_revisions!`.
//!
//! This crate depends only on `migraph-walk` (the directory walk it shares
//! with `migraph`): the single string-literal argument is
//! read from the token stream by hand and the expansion is built as text,
//! then given the caller's path to `migraph` (`$crate`) as tokens.

use std::path::{Path, PathBuf};

use proc_macro::{Delimiter, Group, TokenStream, TokenTree};

/// The implementation of `migraph::embed_revisions!`, which documents it.
///
/// Called as `embed_revisions!($crate; "revisions")` by that
/// `macro_rules!` wrapper: the tokens before `;` are the path of the
/// `migraph` crate as the caller sees it, so a renamed dependency
/// (`mg = { package = "migraph" }`) works. Without `path;` the path is
/// `::migraph`.
#[proc_macro]
pub fn embed_revisions(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(code) => code,
        Err(message) => error(&message),
    }
}

/// `::core::compile_error!(message)`.
fn error(message: &str) -> TokenStream {
    format!("::core::compile_error!({message:?})").parse().unwrap_or_default()
}

const USAGE: &str = "expected one string literal, e.g. `embed_revisions!(\"revisions\")`";

/// The identifier the expansion's text uses for the crate path, replaced by
/// the path's tokens (so `$crate` keeps its meaning).
const PLACEHOLDER: &str = "__migraph_crate_path";

/// The expansion, or the message of a compile error.
fn expand(input: TokenStream) -> Result<TokenStream, String> {
    let (path, argument) = arguments(input)?;
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
            "{PLACEHOLDER}::Embedded {{ path: {path:?}, text: ::core::include_str!({absolute:?}) }},\n"
        ));
    }
    let text = format!("{{ const REVISIONS: &[{PLACEHOLDER}::Embedded] = &[\n{items}]; REVISIONS }}");
    let code: TokenStream =
        text.parse().map_err(|_| "embed_revisions!: internal error: invalid expansion".to_string())?;
    Ok(substitute(code, &path))
}

/// `code` with every [`PLACEHOLDER`] identifier replaced by `path`.
fn substitute(code: TokenStream, path: &TokenStream) -> TokenStream {
    code.into_iter()
        .flat_map(|tree| -> Vec<TokenTree> {
            match tree {
                TokenTree::Ident(ident) if ident.to_string() == PLACEHOLDER => path.clone().into_iter().collect(),
                TokenTree::Group(group) => {
                    let mut replaced = Group::new(group.delimiter(), substitute(group.stream(), path));
                    replaced.set_span(group.span());
                    vec![TokenTree::Group(replaced)]
                }
                other => vec![other],
            }
        })
        .collect()
}

fn not_utf8(path: &Path) -> String {
    format!("embed_revisions!: the path {} is not valid UTF-8", path.display())
}

/// The crate path (before `;`, default `::migraph`) and the directory
/// named by the invocation's argument.
fn arguments(input: TokenStream) -> Result<(TokenStream, String), String> {
    let mut tokens = Vec::new();
    flatten(input, &mut tokens);
    let semicolon = tokens.iter().position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'));
    let path = match semicolon {
        Some(at) => {
            let rest = tokens.split_off(at + 1);
            tokens.pop();
            std::mem::replace(&mut tokens, rest).into_iter().collect()
        }
        None => "::migraph".parse().map_err(|_| "embed_revisions!: internal error: invalid path".to_string())?,
    };
    if tokens.len() == 2 && matches!(&tokens[1], TokenTree::Punct(p) if p.as_char() == ',') {
        tokens.pop(); // a trailing comma
    }
    let directory = match tokens.as_slice() {
        [] => "revisions".to_string(),
        [TokenTree::Literal(literal)] => string_literal(&literal.to_string())?,
        _ => return Err(format!("embed_revisions!: {USAGE}")),
    };
    Ok((path, directory))
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

/// Every `.sql` file below `dir`, sorted: the walk `migraph` itself uses at
/// run time (the shared `migraph-walk` crate), so the embedded set is the
/// set the command line would read.
fn revision_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    migraph_walk::revision_files(dir).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use std::fs;

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
