//! Compile-time embedding of [migraph](https://crates.io/crates/migraph)
//! revision files. Use it through the re-export `migraph::embed_revisions!`.
//!
//! The directory is walked by `migraph-walk` and every file is parsed by
//! `migraph-revision`: the walk and the parser `migraph` itself uses at run
//! time. So the embedded set is the set the command line reads, and a file
//! the command line would refuse (a mistyped section marker, an unknown
//! header key, ...) is a compile error that names the file and line, with
//! the run-time wording, instead of a failure when the application starts.

use std::fmt::Display;
use std::path::Path;

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote;
use syn::parse::{ParseStream, Parser as _};
use syn::LitStr;

/// The implementation of `migraph::embed_revisions!`, which documents it.
///
/// Called as `embed_revisions!($crate; "revisions")` by that
/// `macro_rules!` wrapper: the tokens before `;` are the path of the
/// `migraph` crate as the caller sees it, so a renamed dependency
/// (`mg = { package = "migraph" }`) works. Without `path;` the path is
/// `::migraph`.
#[proc_macro]
pub fn embed_revisions(input: proc_macro::TokenStream) -> proc_macro::TokenStream {
    let expansion = arguments(input.into()).and_then(|invocation| {
        let manifest_dir = std::env::var("CARGO_MANIFEST_DIR")
            .map_err(|_| invocation.error("CARGO_MANIFEST_DIR is not set (build with cargo)"))?;
        expand(&invocation, Path::new(&manifest_dir))
    });
    expansion.unwrap_or_else(syn::Error::into_compile_error).into()
}

const USAGE: &str = "embed_revisions!: expected one string literal, e.g. `embed_revisions!(\"revisions\")`";

/// What the macro was called with.
struct Invocation {
    /// The path of the `migraph` crate (`$crate` from the wrapper).
    krate: TokenStream,
    /// The directory, relative to `CARGO_MANIFEST_DIR` (or absolute).
    directory: String,
    /// Where errors point: the string literal, else the invocation.
    span: Span,
}

impl Invocation {
    /// A compile error at the invocation, `embed_revisions!: <message>`.
    fn error(&self, message: impl Display) -> syn::Error {
        syn::Error::new(self.span, format!("embed_revisions!: {message}"))
    }
}

/// The crate path (before `;`, default `::migraph`) and the directory
/// named by the invocation's argument.
fn arguments(input: TokenStream) -> syn::Result<Invocation> {
    let mut tokens = Vec::new();
    flatten(input, &mut tokens);
    let semicolon = tokens.iter().position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'));
    let krate = match semicolon {
        Some(at) => {
            let rest = tokens.split_off(at + 1);
            tokens.pop();
            std::mem::replace(&mut tokens, rest).into_iter().collect()
        }
        None => quote!(::migraph),
    };
    let literal = (|input: ParseStream| {
        let literal: Option<LitStr> = input.parse()?;
        if literal.is_some() && !input.is_empty() {
            input.parse::<syn::Token![,]>()?; // a trailing comma
        }
        if !input.is_empty() {
            return Err(input.error(USAGE));
        }
        Ok(literal)
    })
    .parse2(tokens.into_iter().collect())?;
    match literal {
        None => Ok(Invocation { krate, directory: "revisions".into(), span: Span::call_site() }),
        Some(literal) if literal.suffix().is_empty() => {
            Ok(Invocation { krate, directory: literal.value(), span: literal.span() })
        }
        Some(literal) => Err(syn::Error::new(literal.span(), USAGE)),
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

/// The expansion: a `&'static [Embedded]` with one `include_str!` per
/// file, preceded by one `compile_error!` per file that does not parse (all
/// of them, as `migraph check` lists them). `Err` when the directory cannot
/// be walked.
fn expand(invocation: &Invocation, manifest_dir: &Path) -> syn::Result<TokenStream> {
    let root = manifest_dir.join(&invocation.directory);
    let files = migraph_walk::revision_files(&root).map_err(|e| invocation.error(e))?;
    let prefix = invocation.directory.trim_end_matches(['/', '\\']);
    let krate = &invocation.krate;
    let mut errors: Option<syn::Error> = None;
    let mut items = Vec::with_capacity(files.len());
    for file in &files {
        let path = embedded_path(prefix, &root, file).map_err(|e| invocation.error(e))?;
        let absolute = file.to_str().ok_or_else(|| invocation.error(not_utf8(file)))?;
        // Named as `Migrator::from_embedded` names it, so the message is the
        // one the application would have printed at start-up.
        if let Err(problem) = migraph_revision::read(file, Path::new(&path)) {
            let error = invocation.error(problem);
            match &mut errors {
                Some(all) => all.combine(error),
                None => errors = Some(error),
            }
        }
        items.push(quote!(#krate::Embedded { path: #path, text: ::core::include_str!(#absolute) }));
    }
    let errors = errors.map(syn::Error::into_compile_error);
    Ok(quote!({
        #errors
        const REVISIONS: &[#krate::Embedded] = &[#(#items),*];
        REVISIONS
    }))
}

/// The name of `file` in `Embedded::path` and in messages: the macro's
/// argument joined with the file's path below `root`, always with `/`.
fn embedded_path(prefix: &str, root: &Path, file: &Path) -> Result<String, String> {
    let relative = file.strip_prefix(root).map_err(|_| format!("{} is outside {}", file.display(), root.display()))?;
    let mut path = prefix.to_string();
    for component in relative.components() {
        let part = component.as_os_str().to_str().ok_or_else(|| not_utf8(file))?;
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(part);
    }
    Ok(path)
}

fn not_utf8(path: &Path) -> String {
    format!("the path {} is not valid UTF-8", path.display())
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;

    use super::*;

    fn invocation(source: &str) -> syn::Result<Invocation> {
        arguments(source.parse().unwrap())
    }

    #[test]
    fn arguments_are_an_optional_path_and_one_string_literal() {
        let plain = invocation("\"revisions\"").unwrap();
        assert_eq!((plain.krate.to_string(), plain.directory.as_str()), (":: migraph".into(), "revisions"));
        let renamed = invocation("mg; r\"db\\revs\",").unwrap();
        assert_eq!((renamed.krate.to_string(), renamed.directory.as_str()), ("mg".into(), "db\\revs"));
        assert_eq!(invocation("x;").unwrap().directory, "revisions");
        assert_eq!(invocation("r#\"a\"b\"#").unwrap().directory, "a\"b");
        assert_eq!(invocation("\"a\\\\b\\\"c\\x41\\u{e9}\"").unwrap().directory, "a\\b\"cAé");
        for wrong in ["b\"bytes\"", "42", "\"x\"suffix", "\"a\" \"b\"", "\"a\",,"] {
            let e = invocation(wrong).err().unwrap_or_else(|| panic!("{wrong} is accepted"));
            assert!(e.to_string().contains("expected"), "{wrong}: {e}");
        }
    }

    /// A directory below the system's temporary one, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir().join(format!("migraph-macros-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn write(&self, path: &str, text: &str) {
            let path = self.0.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    const GOOD: &str = "-- id: a1\n-- parents:\n\n-- migrate:up\nCREATE TABLE t (x INT);\n";

    #[test]
    fn valid_files_are_embedded_in_path_order() {
        let scratch = Scratch::new("valid");
        scratch.write("revisions/b/two.sql", &GOOD.replace("a1", "b2"));
        scratch.write("revisions/one.sql", GOOD);
        scratch.write("revisions/notes.txt", "not SQL, not parsed");
        let code = expand(&invocation("mg; \"revisions/\"").unwrap(), &scratch.0).unwrap().to_string();
        assert!(!code.contains("compile_error"), "{code}");
        let paths: Vec<_> = code.match_indices("path : \"").map(|(at, _)| &code[at + 8..][..20]).collect();
        assert_eq!(paths, ["revisions/b/two.sql\"", "revisions/one.sql\" ,"], "{code}");
        assert!(code.contains("mg :: Embedded"), "{code}");
        assert_eq!(code.matches(":: core :: include_str !").count(), 2, "{code}");
    }

    #[test]
    fn every_broken_file_is_a_compile_error_naming_file_and_line() {
        let scratch = Scratch::new("broken");
        scratch.write("db/a_ok.sql", GOOD);
        scratch.write("db/b_marker.sql", &format!("{GOOD}--migrate:down\nDROP TABLE t;\n"));
        scratch.write("db/nested/c_key.sql", "-- id: c3\n-- parnts: a1\n-- migrate:up\n");
        let code = expand(&invocation("\"db\"").unwrap(), &scratch.0).unwrap().to_string();
        assert_eq!(code.matches("compile_error").count(), 2, "{code}");
        assert!(
            code.contains(
                "embed_revisions!: db/b_marker.sql:6: `--migrate:down` is not a section marker: \
                 did you mean `-- migrate:down`?"
            ),
            "{code}"
        );
        assert!(code.contains("embed_revisions!: db/nested/c_key.sql:2: unknown header key `parnts`"), "{code}");
        // The expansion stays well-typed, so the errors are the only ones.
        assert_eq!(code.matches(":: core :: include_str !").count(), 3, "{code}");
    }

    #[test]
    fn a_missing_directory_is_an_error() {
        let scratch = Scratch::new("missing");
        let e = expand(&invocation("\"nope\"").unwrap(), &scratch.0).unwrap_err().to_string();
        assert!(e.starts_with("embed_revisions!: revisions directory "), "{e}");
        assert!(e.ends_with("nope does not exist"), "{e}");
    }
}
