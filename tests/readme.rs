//! The README is executed: every ```console block runs under `cargo test`
//! through `trycmd`, so the README cannot drift from the program.
//!
//! A block tagged plain ```console runs, in README order, in a copy of the
//! repository's sample (`revisions/` and `migraph.toml`, so a fresh SQLite
//! database). A block tagged ```console FIXTURE runs in its own directory
//! made by [`fixture`] (the error examples). `[..]` in an expected line
//! matches any text (times, temporary paths) and a line `...` any lines.

#![cfg(all(feature = "cli", feature = "sqlite"))]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The ```console blocks of `markdown` by fixture name ("sample" for the
/// untagged ones), each group rewritten as a trycmd Markdown file.
fn console_blocks(markdown: &str) -> BTreeMap<String, String> {
    let mut groups: BTreeMap<String, String> = BTreeMap::new();
    let mut open: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match &open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```console") {
                    let name = match info.trim() {
                        "" => "sample".to_string(),
                        other => other.to_string(),
                    };
                    groups.entry(name.clone()).or_default().push_str("```console\n");
                    open = Some(name);
                }
            }
            Some(name) => {
                let group = groups.entry(name.clone()).or_default();
                let ends_output = trimmed.starts_with("```") || trimmed.starts_with("$ ");
                if ends_output && !group.ends_with("```console\n") {
                    // trycmd drops the last newline of the expected output
                    // (the program prints it): an empty line keeps it.
                    group.push('\n');
                }
                if trimmed.starts_with("$ ") || trimmed.starts_with("```") {
                    group.push_str(line);
                } else {
                    // trycmd turns `\` of the output into `/` (Windows paths):
                    // the expected lines get the same treatment.
                    group.push_str(&line.replace('\\', "/"));
                }
                group.push('\n');
                if trimmed.starts_with("```") {
                    open = None;
                }
            }
        }
    }
    groups
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write fixture");
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// A revision file with the given header lines.
fn revision(header: &str) -> String {
    format!("{header}\n\n-- migrate:up\nSELECT 1;\n\n-- migrate:down\nSELECT 1;\n")
}

/// Lays out the starting directory of the README blocks tagged `name`.
fn fixture(name: &str, dir: &Path) {
    match name {
        // `squash` writes a file: on its own copy of the sample.
        "sample" | "squash" => {
            copy_dir(&Path::new(ROOT).join("revisions"), &dir.join("revisions"));
            fs::copy(Path::new(ROOT).join("migraph.toml"), dir.join("migraph.toml")).expect("copy migraph.toml");
        }
        // Every kind of file problem `check` reports at once (with a
        // migraph.toml, whose paths still print relative to the directory).
        "broken" => {
            write(dir, "migraph.toml", "revisions = \"revisions\"\n");
            write(dir, "revisions/a.sql", &revision("-- id: a\n-- parents: zz"));
            write(dir, "revisions/b.sql", &revision("-- id: b\n-- parnts: a"));
            write(dir, "revisions/c.sql", &revision("-- id: c\n-- parents:"));
            write(dir, "revisions/old/c.sql", &revision("-- id: c\n-- parents:"));
            write(dir, "revisions/d.sql", &revision("-- id: d\n-- parents: e"));
            write(dir, "revisions/e.sql", &revision("-- id: e\n-- parents: d"));
            write(dir, "revisions/f.sql", &revision("-- id: f\n-- parents: c\n-- labels: x"));
            write(dir, "revisions/g.sql", &revision("-- id: g\n-- parents: c\n-- labels: x"));
        }
        // Two heads on the labelled branch of a third, and one on its own.
        "heads" => {
            write(dir, "revisions/r0.sql", &revision("-- id: r0\n-- parents:"));
            write(dir, "revisions/r1.sql", &revision("-- id: r1\n-- parents: r0\n-- labels: main"));
            write(dir, "revisions/a2.sql", &revision("-- id: a2\n-- parents: r1"));
            write(dir, "revisions/b2.sql", &revision("-- id: b2\n-- parents: r1"));
            write(dir, "revisions/c1.sql", &revision("-- id: c1\n-- parents: r1"));
        }
        other => panic!("README.md has a ```console {other} block but tests/readme.rs makes no such fixture"),
    }
}

#[test]
fn readme_console_blocks_run_as_shown() {
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let groups = console_blocks(&readme);
    assert!(groups.contains_key("sample"), "the README shows commands on its sample");
    let temp = tempfile::tempdir().expect("tempdir");
    let cases = trycmd::TestCases::new();
    cases.register_bin("migraph", std::path::PathBuf::from(env!("CARGO_BIN_EXE_migraph")));
    // The settings come from the fixture alone (an empty DATABASE_URL would be an error).
    std::env::remove_var("DATABASE_URL");
    std::env::remove_var("CLICOLOR_FORCE");
    cases.env("NO_COLOR", "1").env("COLUMNS", "100");
    // `verify` records go to the test's own directory, not the user's cache.
    cases.env("MIGRAPH_CACHE_DIR", temp.path().join("cache").display().to_string());
    for (name, blocks) in &groups {
        // trycmd runs `NAME.md` in `NAME.in/` when it exists.
        fixture(name, &temp.path().join(format!("{name}.in")));
        let case = temp.path().join(format!("{name}.md"));
        fs::write(&case, blocks).expect("write case");
        cases.case(case);
    }
    cases.run();
}

#[test]
fn blocks_are_grouped_by_fixture() {
    let text =
        "a\n```console\n$ migraph heads\nx\n```\n```text\n$ no\n```\n  ```console broken\n  $ migraph check\n  ```\n";
    let groups = console_blocks(text);
    assert_eq!(groups["sample"], "```console\n$ migraph heads\nx\n\n```\n");
    assert_eq!(groups["broken"], "```console\n  $ migraph check\n\n  ```\n");
    assert_eq!(groups.len(), 2);
}

/// The README's GitHub Actions job for a project's migrations: every
/// `run: migraph ...` step runs, as written, in a copy of the sample
/// project, and succeeds (the job is what "migraph in CI" promises).
#[test]
fn readme_ci_job_runs_on_the_sample() {
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let job = readme.split("# .github/workflows/migrations.yml\n").nth(1).expect("the CI job's yaml block");
    let job = &job[..job.find("```").expect("the end of the yaml block")];
    let steps: Vec<&str> = job
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- run: "))
        .map(|run| run.split(" #").next().unwrap_or(run).trim())
        .filter(|run| run.starts_with("migraph "))
        .collect();
    assert!(steps.len() >= 3 && steps.contains(&"migraph test"), "{steps:?}");
    let temp = tempfile::tempdir().expect("tempdir");
    let project = temp.path().join("project");
    fixture("sample", &project);
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_migraph")).parent().expect("bin dir");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for step in &steps {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(step)
            .current_dir(&project)
            .env("PATH", &path)
            .env("HOME", temp.path())
            .env("NO_COLOR", "1")
            .env_remove("DATABASE_URL")
            .output()
            .expect("sh");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{step}: {stderr}");
        if *step == "migraph test" {
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(stdout.lines().filter(|l| l.starts_with("ok ")).count() >= 12, "{stdout}");
        }
    }
}

/// The completion and man page install lines of the README work on a fresh
/// account: run as written with an empty HOME.
#[test]
fn readme_install_lines_work_on_a_fresh_account() {
    let readme = fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README.md");
    let lines: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("mkdir -p ~/") && (l.contains("migraph completions") || l.contains("migraph man")))
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let home = tempfile::tempdir().expect("tempdir");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_migraph")).parent().expect("bin dir");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    for line in &lines {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(line)
            .env("HOME", home.path())
            .env("PATH", &path)
            .output()
            .expect("sh");
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let completion = fs::read_to_string(home.path().join(".local/share/bash-completion/completions/migraph"))
        .expect("completion script written");
    assert!(completion.contains("_migraph()"), "a bash completion function");
    let page = fs::read_to_string(home.path().join(".local/share/man/man1/migraph.1")).expect("man page written");
    assert!(page.contains(".TH migraph 1"), "a man page");
}
