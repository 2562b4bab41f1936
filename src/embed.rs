//! [`embed_revisions!`](crate::embed_revisions): revision files compiled into the binary.

/// Embeds every revision file below a directory into the binary.
///
/// ```
/// static REVISIONS: &[migraph::Embedded] = migraph::embed_revisions!("revisions");
///
/// let migrator = migraph::Migrator::from_embedded(REVISIONS)?;
/// assert_eq!(migrator.graph().len(), REVISIONS.len());
/// # Ok::<(), migraph::Error>(())
/// ```
///
/// The argument is a string literal: a directory relative to the
/// `Cargo.toml` of the crate being compiled (`CARGO_MANIFEST_DIR`), or an
/// absolute path. `embed_revisions!()` means `embed_revisions!("revisions")`.
/// The directory is walked like `migraph` walks it at run time: every `.sql`
/// file at any depth, symbolic links followed, each directory entered once,
/// files in sorted path order.
///
/// The expansion is a `&'static [Embedded]` with one element per file, whose
/// `path` is the argument joined with the file's relative path
/// (`"revisions/a/5f1c0e9a2b7d_add_users.sql"`, always with `/`) and whose
/// `text` is `include_str!` of the file.
///
/// Every file is parsed at compile time by the parser `migraph` runs on
/// files on disk: a file it refuses (a mistyped `-- migrate:down`, an
/// unknown header key, ...) is a compile error naming that path and the
/// line, with the same message, one error per broken file. A missing
/// directory or an unreadable file is a compile error too. Problems between
/// files (a missing parent, a cycle) are reported by
/// [`Migrator::from_embedded`](crate::Migrator::from_embedded).
///
/// The expansion names this crate through `$crate`, so it works under any
/// name: with `mg = { package = "migraph", … }` in Cargo.toml, write
/// `mg::embed_revisions!("revisions")`.
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
#[macro_export]
macro_rules! embed_revisions {
    ($($argument:tt)*) => {
        $crate::__embed_revisions!($crate; $($argument)*)
    };
}
