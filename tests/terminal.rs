//! migraph as a daily tool, through the real binary: where settings come
//! from (flags, the environment, `.env`, `migraph.toml` with `${VAR}`),
//! colors, the progress display on a terminal (through a pseudo-terminal
//! made by `script`), shell completions, examples in every `--help`, and the
//! `hint:` lines of common errors.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;
use std::time::Duration;

use common::{project, table_revision, write_revision, Ran};

impl Ran {
    /// Every `hint:` line of stderr, without the prefix.
    fn hints(&self) -> Vec<&str> {
        self.stderr.lines().filter_map(|l| l.strip_prefix("hint: ")).collect()
    }
}

/// The binary in `dir`, with none of the variables that change its
/// settings or colors inherited from the test's environment.
fn mg(dir: &Path) -> StdCommand {
    clean(StdCommand::new(env!("CARGO_BIN_EXE_migraph")), dir)
}

fn clean(mut cmd: StdCommand, dir: &Path) -> StdCommand {
    cmd.current_dir(dir);
    for var in ["DATABASE_URL", "NO_COLOR", "CLICOLOR_FORCE", "CLICOLOR", "MG_DIR", "MG_NAME"] {
        cmd.env_remove(var);
    }
    cmd
}

fn run(mut cmd: StdCommand, args: &[&str]) -> Ran {
    Ran::from(cmd.args(args).output().expect("run migraph"))
}

fn in_dir(dir: &Path, args: &[&str]) -> Ran {
    run(mg(dir), args)
}

fn sqlite(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// `count` revisions r0 ─ r1 ─ … each creating table `t_rN`.
fn chain(dir: &Path, count: usize) {
    for i in 0..count {
        let parent = if i == 0 { String::new() } else { format!("r{}", i - 1) };
        table_revision(dir, &format!("r{i}"), &parent);
    }
}

/// The `database:` line of `status`.
fn status_database(run: &Ran) -> &str {
    run.stdout
        .lines()
        .find_map(|l| l.strip_prefix("database: "))
        .unwrap_or_else(|| panic!("no database line: {run:#?}"))
}

/// Holds the SQLite run lock of the databases in `dir` (migraph locks the
/// directory of the database file) until dropped.
fn hold_lock(dir: &Path) -> fs::File {
    let handle = fs::File::open(dir).expect("open the directory");
    handle.lock().expect("lock the directory");
    handle
}

// ---------------------------------------------------------------------------
// 1. Configuration

#[test]
#[cfg(feature = "sqlite")]
fn the_file_url_expands_environment_variables() {
    let dir = project();
    let d = dir.path();
    chain(d, 2);
    let data = d.join("data");
    fs::create_dir(&data).unwrap();
    fs::write(d.join("migraph.toml"), "database_url = \"sqlite://${MG_DIR}/app.db\"\n").unwrap();

    let mut cmd = mg(d);
    cmd.env("MG_DIR", &data);
    run(cmd, &["upgrade", "heads"]).ok();
    assert!(data.join("app.db").is_file(), "the expanded path was used");

    // An unset variable is an error naming it and the file, for the commands that use the database...
    for args in [&["status"][..], &["upgrade", "heads"], &["check"], &["upgrade", "heads", "--sql"]] {
        let r = in_dir(d, args).failed();
        let first = r.stderr.lines().next().unwrap_or_default();
        assert!(first.starts_with("error: ") && first.contains("MG_DIR"), "{args:?}: {r:#?}");
        assert!(first.contains(&d.join("migraph.toml").display().to_string()), "{args:?} names the file: {r:#?}");
        assert!(r.hints().iter().any(|h| h.contains("MG_DIR")), "{r:#?}");
    }
    // ...and not for those that only read the files.
    assert_eq!(in_dir(d, &["heads"]).ok().stdout, "r1 (head) rev r1\n");

    // `$$` is a literal `$`; a `$` without `{` stays as it is.
    fs::write(d.join("migraph.toml"), "database_url = \"sqlite://a$$b$c.db\"\n").unwrap();
    let r = in_dir(d, &["status"]).ok();
    // Named relative to the current directory, which it is below; no file yet.
    assert_eq!(status_database(&r), "sqlite://a$b$c.db (table migraph_revisions, no file yet)");

    // Only the file is expanded: a flag and DATABASE_URL are used as given.
    let mut cmd = mg(d);
    cmd.env("MG_DIR", &data).env("DATABASE_URL", "sqlite://${MG_DIR}/env.db");
    assert!(status_database(&run(cmd, &["status"]).ok()).starts_with("sqlite://${MG_DIR}/env.db"));
    let mut cmd = mg(d);
    cmd.env("MG_DIR", &data);
    let r = run(cmd, &["status", "--database-url", "sqlite://${MG_DIR}/flag.db"]).ok();
    assert!(status_database(&r).starts_with("sqlite://${MG_DIR}/flag.db"), "{r:#?}");
}

#[test]
#[cfg(feature = "sqlite")]
fn a_dot_env_file_counts_as_environment() {
    let dir = project();
    let d = dir.path();
    chain(d, 2);
    fs::write(d.join("migraph.toml"), "database_url = \"sqlite://toml.db\"\n").unwrap();
    let from_env_file = d.join("dotenv.db");
    fs::write(d.join(".env"), format!("# comment\nDATABASE_URL={}\nMG_NAME=named\n", sqlite(&from_env_file))).unwrap();
    let sub = d.join("deep").join("er");
    fs::create_dir_all(&sub).unwrap();

    // Found from a subdirectory too (like migraph.toml), and it beats the file.
    let r = in_dir(&sub, &["upgrade", "heads"]).ok();
    assert!(from_env_file.is_file(), "{r:#?}");
    assert!(!d.join("toml.db").exists());

    // A variable already set wins over .env.
    let real = d.join("real.db");
    let mut cmd = mg(d);
    cmd.env("DATABASE_URL", sqlite(&real));
    assert!(status_database(&run(cmd, &["status"]).ok()).starts_with("sqlite://real.db "), "{}", real.display());

    // .env feeds ${VAR} in migraph.toml.
    fs::write(d.join(".env"), "MG_NAME=named\n").unwrap();
    fs::write(d.join("migraph.toml"), "database_url = \"sqlite://${MG_NAME}.db\"\n").unwrap();
    assert!(status_database(&in_dir(d, &["status"]).ok()).starts_with("sqlite://named.db "));

    // A line that cannot be parsed: a warning naming the file (not quoting
    // the line, which may hold a password); the lines before it still count.
    fs::write(d.join(".env"), "MG_NAME=early\nnot a valid line secret\nMG_OTHER=x\n").unwrap();
    let r = in_dir(d, &["status"]).ok();
    assert!(status_database(&r).starts_with("sqlite://early.db "), "{r:#?}");
    let warning = r.stderr.lines().find(|l| l.starts_with("warning: ")).expect("a warning");
    assert!(warning.contains(&d.join(".env").display().to_string()) && !warning.contains("secret"), "{warning}");
    assert!(!in_dir(d, &["status", "-q"]).ok().stderr.contains("warning"), "-q silences it");
}

#[test]
#[cfg(feature = "sqlite")]
fn database_url_precedence_flag_environment_dotenv_file_none() {
    let dir = project();
    let d = dir.path();
    chain(d, 1);
    let url = |name: &str| sqlite(&d.join(name));
    let database = |cmd: StdCommand| status_database(&run(cmd, &["status"]).ok()).to_string();
    // Named relative to the current directory (`d`).
    let is = |seen: String, name: &str| assert!(seen.starts_with(&format!("sqlite://{name} ")), "{seen} is not {name}");

    // 4. default: none.
    let r = in_dir(d, &["status"]).failed();
    assert!(r.stderr.starts_with("error: no database URL"), "{r:#?}");
    // 3. migraph.toml.
    fs::write(d.join("migraph.toml"), "database_url = \"sqlite://file.db\"\n").unwrap();
    is(database(mg(d)), "file.db");
    // 2b. .env beats the file.
    fs::write(d.join(".env"), format!("DATABASE_URL={}\n", url("dotenv.db"))).unwrap();
    is(database(mg(d)), "dotenv.db");
    // 2a. the environment beats .env; an empty value is an error, never a
    // fallback to another database (`DATABASE_URL=$UNSET_SECRET`).
    let mut cmd = mg(d);
    cmd.env("DATABASE_URL", url("env.db"));
    is(database(cmd), "env.db");
    let mut cmd = mg(d);
    cmd.env("DATABASE_URL", "").arg("status");
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.starts_with("error: invalid database URL") && stderr.contains("DATABASE_URL"), "{stderr}");
    // 1. the flag beats everything.
    let mut cmd = mg(d);
    cmd.env("DATABASE_URL", url("env.db")).args(["--database-url", &url("flag.db")]);
    is(database(cmd), "flag.db");
}

#[test]
#[cfg(feature = "sqlite")]
fn revisions_table_and_lock_timeout_precedence_flag_file_default() {
    let dir = project();
    let d = dir.path();
    table_revision(d, "d0", "");
    let other = d.join("other");
    write_revision(&other, "o0", "", "SELECT 1;", None, "");
    let alt = d.join("alt");
    write_revision(&alt, "f0", "", "SELECT 1;", None, "");

    // Revisions: default ./revisions, then the file, then the flag.
    let heads = |extra: &[&str]| in_dir(d, &[&["heads"], extra].concat()).ok().stdout;
    assert_eq!(heads(&[]), "d0 (head) rev d0\n");
    fs::write(d.join("migraph.toml"), "revisions = \"other/revisions\"\n").unwrap();
    assert_eq!(heads(&[]), "o0 (head) rev o0\n");
    assert_eq!(heads(&["--revisions", &alt.join("revisions").display().to_string()]), "f0 (head) rev f0\n");

    // Table: default, then the file, then the flag.
    let url = sqlite(&d.join("app.db"));
    let table = |extra: &[&str]| {
        let r = in_dir(d, &[&["status", "--database-url", &url], extra].concat()).ok();
        let table = status_database(&r).rsplit_once("(table ").map(|(_, t)| t.trim_end_matches(')').to_string());
        table.unwrap().trim_end_matches(", no file yet").to_string()
    };
    fs::write(d.join("migraph.toml"), "").unwrap();
    assert_eq!(table(&[]), "migraph_revisions");
    fs::write(d.join("migraph.toml"), "table = \"file_versions\"\n").unwrap();
    assert_eq!(table(&[]), "file_versions");
    assert_eq!(table(&["--table", "flag_versions"]), "flag_versions");

    // Lock timeout: with the lock held, the file's 1 s and the flag's 0 s
    // are what the error reports; the default waits out a short hold.
    let held = hold_lock(d);
    fs::write(d.join("migraph.toml"), "lock_timeout = 1\n").unwrap();
    let r = in_dir(d, &["upgrade", "heads", "--database-url", &url]).failed();
    assert!(r.stderr.contains("held the lock for more than 1 s"), "{r:#?}");
    let r = in_dir(d, &["upgrade", "heads", "--database-url", &url, "--lock-timeout", "0"]).failed();
    assert!(r.stderr.contains("held the lock for more than 0 s"), "{r:#?}");
    fs::write(d.join("migraph.toml"), "").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        drop(held);
    });
    let r = in_dir(d, &["upgrade", "heads", "--database-url", &url]).ok();
    release.join().unwrap();
    assert!(r.stderr.contains("waiting for another migraph run"), "{r:#?}");
    assert!(r.stderr.contains("upgrade: 1 applied"), "{r:#?}");
}

// ---------------------------------------------------------------------------
// 2. Colors

const ESC: char = '\u{1b}';

#[test]
#[cfg(feature = "sqlite")]
fn colors_only_when_asked_or_on_a_terminal() {
    let dir = project();
    let d = dir.path();
    chain(d, 2);
    let url = sqlite(&d.join("app.db"));
    let with = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = mg(d);
        cmd.envs(env.iter().copied());
        run(cmd, args)
    };

    // An error: `error:` bold red, `hint:` cyan, with --color always or CLICOLOR_FORCE.
    for (env, args) in [
        (&[][..], &["--color", "always", "status"][..]),
        (&[("CLICOLOR_FORCE", "1")][..], &["status"][..]),
        (&[("NO_COLOR", "1")][..], &["status", "--color=always"][..]),
    ] {
        let r = with(env, args).failed();
        assert!(r.stderr.starts_with("\u{1b}[1m\u{1b}[31merror:\u{1b}[0m no database URL"), "{env:?} {args:?}: {r:#?}");
        assert!(r.stderr.contains("\u{1b}[36mhint:\u{1b}[0m "), "{r:#?}");
    }
    // Not by default on a pipe, nor with NO_COLOR and auto, nor with never.
    for (env, args) in [
        (&[][..], &["status"][..]),
        (&[("NO_COLOR", "1")][..], &["--color", "auto", "status"][..]),
        (&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")][..], &["status"][..]),
        (&[("CLICOLOR_FORCE", "1")][..], &["status", "--color", "never"][..]),
    ] {
        let r = with(env, args).failed();
        assert!(r.stderr.starts_with("error: no database URL") && !r.stderr.contains(ESC), "{env:?} {args:?}: {r:#?}");
    }

    // clap's usage errors follow --color too.
    let r = with(&[], &["--color", "always", "upgrade", "--bogus"]);
    assert!(r.code == 2 && r.stderr.contains(ESC), "{r:#?}");
    let r = with(&[("CLICOLOR_FORCE", "1")], &["upgrade", "--bogus", "--color=never"]);
    assert!(r.code == 2 && !r.stderr.contains(ESC), "{r:#?}");

    // Progress verbs: up green, down yellow.
    let always = |args: &[&str]| with(&[], &[&["--color", "always", "--database-url", &url], args].concat()).ok();
    let r = always(&["upgrade", "heads"]);
    assert!(r.stderr.contains("  \u{1b}[32mup\u{1b}[0m   r0 rev r0 ("), "{r:#?}");

    // Head IDs bold, in `heads`, `current` and `status`.
    assert_eq!(always(&["heads"]).stdout, "\u{1b}[1mr1\u{1b}[0m (head) rev r1\n");
    assert_eq!(always(&["current"]).stdout, "\u{1b}[1mr1\u{1b}[0m (head) rev r1\n");
    assert!(always(&["status"]).stdout.contains("head:     \u{1b}[1mr1\u{1b}[0m (head) rev r1  (applied "));

    let r = always(&["downgrade", "r0"]);
    assert!(r.stderr.contains("  \u{1b}[33mdown\u{1b}[0m r1 rev r1 ("), "{r:#?}");
    let plain = with(&[], &["--database-url", &url, "upgrade", "heads"]).ok();
    assert!(plain.stderr.contains("  up   r1 rev r1 (") && !plain.stderr.contains(ESC), "{plain:#?}");

    // Never in JSON, --sql scripts or dry-run plans.
    for args in [
        &["heads", "--json"][..],
        &["status", "--json"],
        &["current", "--json"],
        &["upgrade", "heads", "--sql"],
        &["downgrade", "base", "--dry-run"],
        &["downgrade", "base", "--dry-run", "--json"],
        &["history"],
    ] {
        let r = always(args);
        assert!(!r.stdout.is_empty() && !r.stdout.contains(ESC), "{args:?}: {r:#?}");
    }

    // `status`: drift and FAILED labels red.
    let twice = "CREATE TABLE t_n2 (id INTEGER);\nCREATE TABLE t_n2 (id INTEGER);";
    write_revision(d, "n2", "r1", twice, None, "-- transaction: false");
    with(&[], &["--database-url", &url, "upgrade", "heads"]).failed();
    let path = d.join("revisions").join("r1.sql");
    fs::write(&path, fs::read_to_string(&path).unwrap().replace("VARCHAR(20)", "VARCHAR(30)")).unwrap();
    let status = always(&["status"]).stdout;
    assert!(status.contains("\u{1b}[31mdrift:\u{1b}[0m    r1 ("), "{status}");
    assert!(status.contains("\u{1b}[31mFAILED:\u{1b}[0m   n2 going up"), "{status}");
    let plain = with(&[], &["--database-url", &url, "status"]).ok().stdout;
    assert!(plain.contains("\ndrift:    r1 (") && plain.contains("\nFAILED:   n2 going up"), "{plain}");
    assert!(!plain.contains(ESC), "{plain}");
}

// ---------------------------------------------------------------------------
// 3. Progress

#[test]
#[cfg(feature = "sqlite")]
fn not_on_a_terminal_each_revision_gets_its_own_line() {
    let dir = project();
    let d = dir.path();
    chain(d, 6);
    let url = sqlite(&d.join("app.db"));
    let r = in_dir(d, &["--database-url", &url, "upgrade", "heads"]).ok();
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 9, "{r:#?}");
    assert_eq!(lines[0], "database: sqlite://app.db (new file)");
    assert_eq!(lines[1], "upgrade: 6 step(s)");
    for (i, line) in lines[2..8].iter().enumerate() {
        assert!(line.starts_with(&format!("  up   r{i} rev r{i} (")) && line.ends_with(" ms)"), "{line}");
    }
    assert!(lines[8].starts_with("upgrade: 6 applied, 0 unapplied in "), "{r:#?}");
    assert!(!r.stderr.contains('\r') && !r.stderr.contains("[1/6]"), "{r:#?}");
}

/// Runs `migraph ARGS` in `dir` inside a pseudo-terminal (util-linux
/// `script`), so stdout and stderr are terminals; `None` without `script`.
fn on_terminal(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Option<Ran> {
    let available = StdCommand::new("script").arg("--version").output().is_ok_and(|o| o.status.success());
    if !available {
        eprintln!("skipped: util-linux `script` is not installed (the line format is unit-tested in src/cli/run.rs)");
        return None;
    }
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line = std::iter::once(env!("CARGO_BIN_EXE_migraph")).chain(args.iter().copied()).map(quote);
    let mut script = clean(StdCommand::new("script"), dir);
    script.envs(env.iter().copied()).env("SHELL", "/bin/sh").env("TERM", "xterm");
    script.args(["-qfec", &line.collect::<Vec<_>>().join(" "), "/dev/null"]);
    Some(run(script, &[]))
}

#[test]
#[cfg(feature = "sqlite")]
fn on_a_terminal_a_long_plan_shows_one_updating_line() {
    let dir = project();
    let d = dir.path();
    chain(d, 6);
    let url = sqlite(&d.join("app.db"));
    let Some(r) = on_terminal(d, &[("NO_COLOR", "1")], &["--database-url", &url, "upgrade", "heads"]) else {
        return;
    };
    assert_eq!(r.code, 0, "{r:#?}");
    let screen = r.stdout.replace("\r\n", "\n");
    for i in 0..6 {
        assert!(screen.contains(&format!("\r[{}/6] up   r{i} rev r{i}", i + 1)), "step {i}: {screen:?}");
    }
    assert!(!screen.contains(" ms)"), "no line per revision: {screen:?}");
    assert!(!screen.contains(ESC), "NO_COLOR: {screen:?}");
    // The updating line is erased (spaces, then `\r`) before the summary.
    let summary = screen.find("upgrade: 6 applied, 0 unapplied in ").expect("the summary");
    assert!(screen[..summary].ends_with(&format!("{}\r", " ".repeat("[6/6] up   r5 rev r5".len()))), "{screen:?}");
    assert_eq!(applied_count(d), 6);

    // Colors on a terminal by default; three steps or fewer, -v or -q: no updating line.
    let r = on_terminal(d, &[], &["--database-url", &url, "downgrade", "base"]).unwrap();
    assert!(r.stdout.contains("\r[1/6] \u{1b}[33mdown\u{1b}[0m r5 rev r5"), "{r:#?}");
    let r = on_terminal(d, &[("NO_COLOR", "1")], &["--database-url", &url, "upgrade", "r2"]).unwrap();
    assert!(r.stdout.contains("  up   r2 rev r2 (") && !r.stdout.contains("[1/3]"), "{r:#?}");
    in_dir(d, &["--database-url", &url, "downgrade", "base", "-q"]).ok();
    let r = on_terminal(d, &[("NO_COLOR", "1")], &["--database-url", &url, "upgrade", "heads", "-v"]).unwrap();
    assert!(r.stdout.contains("  up   r5 rev r5 (") && !r.stdout.contains("[1/6]"), "{r:#?}");
    in_dir(d, &["--database-url", &url, "downgrade", "base", "-q"]).ok();
    let r = on_terminal(d, &[], &["--database-url", &url, "upgrade", "heads", "-q"]).unwrap();
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{r:#?}");
    assert_eq!(applied_count(d), 6);
}

#[test]
#[cfg(feature = "sqlite")]
fn on_a_terminal_a_failing_step_stays_on_screen() {
    let dir = project();
    let d = dir.path();
    chain(d, 4);
    write_revision(d, "bad", "r3", "CREATE TABLE t_r0 (id INTEGER);", None, "");
    let url = sqlite(&d.join("app.db"));
    let Some(r) = on_terminal(d, &[("NO_COLOR", "1")], &["--database-url", &url, "upgrade", "heads"]) else {
        return;
    };
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(r.stdout.contains("\r[5/5] up   bad rev bad\r\nerror: "), "{r:#?}");
}

fn applied_count(dir: &Path) -> usize {
    let r = in_dir(dir, &["--database-url", &sqlite(&dir.join("app.db")), "status", "--json"]).ok();
    let status: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    status["applied"].as_array().unwrap().len()
}

// ---------------------------------------------------------------------------
// 4. Completions

#[test]
fn completion_scripts_for_bash_zsh_and_fish() {
    let dir = project();
    let d = dir.path();
    // No configuration needed, and a broken one does not matter.
    fs::write(d.join("migraph.toml"), "not toml [").unwrap();
    for (shell, long) in [("bash", "--"), ("zsh", "--"), ("fish", "-l ")] {
        let r = in_dir(d, &["completions", shell]).ok();
        assert!(r.stdout.len() > 200 && r.stderr.is_empty(), "{shell}: {r:#?}");
        for word in ["upgrade", "downgrade", "completions"] {
            assert!(r.stdout.contains(word), "{shell} script mentions {word}");
        }
        for option in ["database-url", "color", "lock-timeout"] {
            assert!(r.stdout.contains(&format!("{long}{option}")), "{shell} script mentions {long}{option}");
        }
    }
    assert!(in_dir(d, &["completions", "bash"]).stdout.contains("complete -F"));
    assert!(in_dir(d, &["completions", "zsh"]).stdout.starts_with("#compdef migraph"));
    assert!(in_dir(d, &["completions", "fish"]).stdout.contains("complete -c migraph"));
    for args in [&["completions", "tcsh"][..], &["completions"]] {
        let r = in_dir(d, args);
        assert_eq!(r.code, 2, "{args:?}: {r:#?}");
        assert!(r.stdout.is_empty());
    }
}

// ---------------------------------------------------------------------------
// 5. Examples in --help

const COMMANDS: [&str; 28] = [
    "init",
    "revision",
    "merge",
    "squash",
    "heads",
    "branches",
    "history",
    "show",
    "graph",
    "check",
    "current",
    "status",
    "list",
    "upgrade",
    "downgrade",
    "migrate",
    "stamp",
    "redo",
    "database",
    "copy",
    "schema",
    "test",
    "verify",
    "lint",
    "import",
    "adopt",
    "completions",
    "man",
];

#[test]
fn every_command_has_examples_in_its_help() {
    let dir = project();
    let d = dir.path();
    // The commands `migraph --help` lists are the ones checked here.
    let top = in_dir(d, &["--help"]).ok().stdout;
    let listed: Vec<&str> = top
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert_eq!(listed, COMMANDS, "{top}");
    assert!(top.contains("Examples:\n  migraph init\n"), "{top}");
    for command in COMMANDS {
        for flag in ["--help", "-h"] {
            let r = in_dir(d, &[command, flag]).ok();
            let examples = r.stdout.split_once("\nExamples:\n").map(|(_, e)| e).unwrap_or_default();
            assert!(examples.starts_with(&format!("  migraph {command}")), "{command} {flag}:\n{}", r.stdout);
        }
    }
}

// ---------------------------------------------------------------------------
// 6. Hints

#[test]
#[cfg(feature = "sqlite")]
fn common_errors_carry_a_hint() {
    let dir = project();
    let d = dir.path();
    // r0 ─ r1 and r0 ─ s1: two heads.
    table_revision(d, "r0", "");
    table_revision(d, "r1", "r0");
    table_revision(d, "s1", "r0");
    let url = sqlite(&d.join("app.db"));
    let db = |args: &[&'static str]| -> Vec<&str> { [&["--database-url", url.as_str()], args].concat() };
    let empty = project();

    let cases: Vec<(&str, PathBuf, Vec<&str>, &str, &str)> = vec![
        ("several heads", d.into(), db(&["upgrade", "head"]), "`head` is ambiguous", "migraph merge"),
        ("several heads, revision", d.into(), vec!["revision", "-m", "x"], "`head` is ambiguous", "migraph merge"),
        ("not applied", d.into(), db(&["downgrade", "r1"]), "not applied", "migraph migrate"),
        ("no database URL", d.into(), vec!["status"], "no database URL", "--database-url"),
        ("unknown target", d.into(), db(&["upgrade", "nosuch"]), "nosuch", "migraph history"),
        ("unknown revision", d.into(), vec!["show", "nosuch"], "nosuch", "migraph history"),
        ("no revisions directory", empty.path().into(), vec!["heads"], "does not exist", "migraph init"),
        ("lock timeout", d.into(), db(&["upgrade", "heads", "--lock-timeout", "0"]), "held the lock", "--lock-timeout"),
    ];
    for (what, dir, args, error, hint) in &cases {
        let held = (*what == "lock timeout").then(|| hold_lock(d));
        let r = in_dir(dir, args).failed();
        drop(held);
        assert!(
            r.stderr.lines().next().is_some_and(|l| l.starts_with("error: ") && l.contains(error)),
            "{what}: {r:#?}"
        );
        assert!(r.hints().iter().any(|h| h.contains(hint)), "{what}: a hint naming {hint}: {r:#?}");
    }
}
