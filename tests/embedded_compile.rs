//! `embed_revisions!` seen from another crate: a tiny fixture crate that
//! depends on migraph under another name (`mg = { package = "migraph" }`)
//! is checked with cargo, the way an application would build it: it builds
//! with valid revisions, and a broken revision file (a mistyped section
//! marker, an unknown header key) is a compile error naming file and line.
//!
//! `cargo check` (no backend features, so only the library's own
//! dependencies), in a target directory of its own below
//! `CARGO_TARGET_TMPDIR` (the outer `cargo test` holds the main one), offline
//! with this package's Cargo.lock, so it uses what is already downloaded.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("create directory");
    fs::write(path, text).expect("write");
}

/// `cargo check` of the fixture's binary `bin`.
fn check(fixture: &Path, bin: &str) -> Output {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("embedded_compile");
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["check", "--offline", "--quiet", "--color", "never", "--bin", bin])
        .current_dir(fixture)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .output()
        .expect("run cargo")
}

#[test]
fn a_renamed_dependency_embeds_and_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let fixture = dir.path();
    write(
        &fixture.join("Cargo.toml"),
        &format!(
            "[package]\nname = \"fixture\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nmg = {{ package = \"migraph\", path = {ROOT:?}, default-features = false }}\n\n\
             [workspace]\n"
        ),
    );
    fs::copy(Path::new(ROOT).join("Cargo.lock"), fixture.join("Cargo.lock")).expect("copy Cargo.lock");
    write(
        &fixture.join("revisions/a1b2c3d4e5f6_first.sql"),
        "-- id: a1b2c3d4e5f6\n-- parents:\n-- message: first\n\n-- migrate:up\nCREATE TABLE t (id INTEGER);\n\n\
         -- migrate:down\nDROP TABLE t;\n",
    );
    // `migraph` is not a name in this crate: only `$crate` reaches it.
    write(
        &fixture.join("src/bin/renamed.rs"),
        "static REVISIONS: &[mg::Embedded] = mg::embed_revisions!(\"revisions\");\n\
         fn main() {\n    let migrator = mg::Migrator::from_embedded(REVISIONS).expect(\"valid\");\n    \
         assert_eq!(migrator.graph().len(), 1);\n}\n",
    );
    write(
        &fixture.join("src/bin/missing.rs"),
        "static REVISIONS: &[mg::Embedded] = mg::embed_revisions!(\"no_such_dir\");\nfn main() { let _ = REVISIONS; }\n",
    );

    let renamed = check(fixture, "renamed");
    let stderr = String::from_utf8_lossy(&renamed.stderr);
    assert!(renamed.status.success(), "the renamed dependency does not build:\n{stderr}");

    let missing = check(fixture, "missing");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success(), "a missing directory must not build");
    assert!(stderr.contains("embed_revisions!: revisions directory"), "{stderr}");
    assert!(stderr.contains("no_such_dir does not exist"), "{stderr}");
    assert!(stderr.contains("src/bin/missing.rs:1"), "the error points at the invocation:\n{stderr}");

    // Broken files: an error per file, each with the run-time message and
    // the file's line, pointing at the invocation; the valid file is no error.
    write(
        &fixture.join("broken/a1b2c3d4e5f6_ok.sql"),
        "-- id: a1b2c3d4e5f6\n-- parents:\n\n-- migrate:up\nCREATE TABLE t (id INTEGER);\n",
    );
    write(
        &fixture.join("broken/more/b2_marker.sql"),
        "-- id: b2\n-- parents: a1b2c3d4e5f6\n\n-- migrate:up\nCREATE TABLE u (id INTEGER);\n\n\
         -- Migrate:Down\nDROP TABLE u;\n",
    );
    write(&fixture.join("broken/c3_key.sql"), "-- id: c3\n-- parnts: b2\n-- migrate:up\nSELECT 1;\n");
    write(
        &fixture.join("src/bin/broken.rs"),
        "static REVISIONS: &[mg::Embedded] = mg::embed_revisions!(\"broken\");\nfn main() { let _ = REVISIONS; }\n",
    );
    let broken = check(fixture, "broken");
    let stderr = String::from_utf8_lossy(&broken.stderr);
    assert!(!broken.status.success(), "a broken section marker must not build:\n{stderr}");
    assert!(
        stderr.contains(
            "error: embed_revisions!: broken/more/b2_marker.sql:7: `-- Migrate:Down` is not a section marker: \
             did you mean `-- migrate:down`?"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("error: embed_revisions!: broken/c3_key.sql:2: unknown header key `parnts`"), "{stderr}");
    assert_eq!(stderr.matches("error: embed_revisions!").count(), 2, "one error per broken file:\n{stderr}");
    assert_eq!(stderr.matches("src/bin/broken.rs:1").count(), 2, "the errors point at the invocation:\n{stderr}");
}
