//! The header cache (src/source/cache.rs) never changes a result: every
//! command shows after a warm run what it shows without the cache, and sees
//! files edited, added, removed and renamed between runs within the same
//! second, with the same size and the modification time set back. A
//! damaged cache and a cache directory that cannot be written change
//! nothing either. And a run loads the SQL it runs from the file, checked
//! against the checksum read with the header.
//!
//! `MIGRAPH_CACHE_RACY_SECONDS=0` (for tests only) makes entries of files
//! just written trusted, so the hit path runs; with the default margin they
//! are read again, which the tests run too.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use common::{table_revision, write_revision, Ran};

/// One project with its own cache directory.
struct Project {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
    /// `MIGRAPH_CACHE_RACY_SECONDS`, when set.
    racy: Option<&'static str>,
}

impl Project {
    fn new(racy: Option<&'static str>) -> Project {
        let p = Project { dir: common::project(), cache: common::project(), racy };
        fs::create_dir_all(p.dir.path().join("revisions")).unwrap();
        p
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, id: &str) -> PathBuf {
        self.path().join("revisions").join(format!("{id}.sql"))
    }

    fn command(&self, args: &[&str], cache: bool) -> Ran {
        let mut cmd = assert_cmd::Command::cargo_bin("migraph").unwrap();
        cmd.current_dir(self.path())
            .env("DATABASE_URL", common::sqlite_url(self.path()))
            .env("NO_COLOR", "1")
            .env("MIGRAPH_CACHE_DIR", self.cache.path())
            .env_remove("MIGRAPH_NO_CACHE")
            .env_remove("MIGRAPH_CACHE_RACY_SECONDS");
        if let Some(racy) = self.racy {
            cmd.env("MIGRAPH_CACHE_RACY_SECONDS", racy);
        }
        if !cache {
            cmd.env("MIGRAPH_NO_CACHE", "1");
        }
        Ran::from(cmd.args(args).output().unwrap())
    }

    /// Runs `args` with the cache, twice, and without it: all three the same.
    fn same(&self, args: &[&str]) -> Ran {
        let first = self.command(args, true);
        let second = self.command(args, true);
        let plain = self.command(args, false);
        for r in [&first, &second] {
            assert_eq!((r.code, &r.stdout, &r.stderr), (plain.code, &plain.stdout, &plain.stderr), "{args:?}");
        }
        plain
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        let dir = self.cache.path().join("revisions");
        fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default()
    }

    /// Sets every revision file's modification time an hour back (their
    /// change time stays now).
    fn age(&self) {
        for entry in fs::read_dir(self.path().join("revisions")).unwrap() {
            set_mtime(&entry.unwrap().path(), SystemTime::now() - Duration::from_secs(3600));
        }
    }
}

fn set_mtime(path: &Path, time: SystemTime) {
    fs::File::options().write(true).open(path).unwrap().set_modified(time).unwrap();
}

fn mtime(path: &Path) -> SystemTime {
    fs::metadata(path).unwrap().modified().unwrap()
}

/// Rewrites `path` with `from` replaced by `to` (the same length: the same
/// size), then sets its modification time back to what it was.
fn edit_in_place(path: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let before = mtime(path);
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{text}");
    fs::write(path, text.replace(from, to)).unwrap();
    set_mtime(path, before);
    assert_eq!(mtime(path), before);
}

/// r0 ─ a1 ─ m3 and r0 ─ b1 ─ m3, and c2 on a1 (a second head).
fn history(p: &Project) {
    for (id, parents) in [("r0", ""), ("a1", "r0"), ("b1", "r0"), ("m3", "a1 b1"), ("c2", "a1")] {
        table_revision(p.path(), id, parents);
    }
}

const COMMANDS: &[&[&str]] = &[&["heads"], &["branches"], &["history"], &["history", "--graph"], &["status"]];

#[test]
fn warm_runs_show_what_cold_runs_show() {
    for racy in [Some("0"), None] {
        let p = Project::new(racy);
        history(&p);
        p.age();
        for args in COMMANDS {
            p.same(args);
        }
        assert_eq!(p.cache_files().len(), 1, "one cache file for the directory");
        let up = p.command(&["upgrade", "heads"], true);
        assert_eq!(up.code, 0, "{up}");
        assert!(p.path().join("app.db").exists());
        for args in COMMANDS.iter().chain(&[&["upgrade", "heads"][..], &["current"], &["list"]]) {
            p.same(args);
        }
        let heads = p.same(&["heads"]);
        assert!(heads.stdout.contains("c2") && heads.stdout.contains("m3"), "{heads}");
    }
}

#[test]
fn edits_within_the_same_second_with_the_same_size_and_mtime_are_seen() {
    for racy in [Some("0"), None] {
        let p = Project::new(racy);
        history(&p);
        p.age();
        p.command(&["upgrade", "heads"], true);
        assert!(p.same(&["status"]).stdout.contains("up to date") || p.same(&["status"]).code == 0);
        // An applied revision's SQL: same size, modification time restored.
        edit_in_place(&p.file("b1"), "t_b1 (id", "t_b1 (ix");
        let status = p.command(&["status", "--json"], true);
        assert!(status.stdout.contains("b1") && status.stdout.contains("drift"), "{status}");
        p.same(&["status"]);
        let check = p.command(&["check", "--allow-multiple-heads"], true);
        assert_eq!(check.code, 1, "{check}");
        assert!(check.stderr.contains("b1"), "{check}");
        let up = p.command(&["upgrade", "heads"], true);
        assert_eq!(up.code, 1, "{up}");
        assert!(up.stderr.contains("drift") && up.stderr.contains("b1"), "{up}");
        // A header: a new parent makes c2 a merge of c2's old parent and m3.
        edit_in_place(&p.file("c2"), "-- parents: a1\n-- message: rev c2", "-- parents: m3\n-- message: rev c2");
        let heads = p.command(&["heads"], true);
        assert_eq!(heads.stdout.lines().count(), 1, "{heads}");
        assert!(heads.stdout.contains("c2"), "{heads}");
    }
}

#[test]
fn added_removed_and_renamed_files_are_seen() {
    for racy in [Some("0"), None] {
        let p = Project::new(racy);
        history(&p);
        p.age();
        let heads = |p: &Project| {
            let r = p.same(&["heads"]);
            let mut ids: Vec<String> =
                r.stdout.lines().filter_map(|l| l.split_whitespace().next()).map(str::to_string).collect();
            ids.sort();
            ids
        };
        assert_eq!(heads(&p), ["c2", "m3"]);
        table_revision(p.path(), "d4", "m3");
        set_mtime(&p.file("d4"), mtime(&p.file("m3")));
        assert_eq!(heads(&p), ["c2", "d4"]);
        fs::remove_file(p.file("c2")).unwrap();
        assert_eq!(heads(&p), ["d4"]);
        // Two files swap names (same sizes, times set back): each path now has the other's content.
        write_revision(p.path(), "x5", "d4", "SELECT 5;", Some(""), "");
        write_revision(p.path(), "y5", "d4", "SELECT 6;", Some(""), "");
        p.age();
        assert_eq!(heads(&p), ["x5", "y5"]);
        let swap = p.path().join("revisions/swap");
        let (x, y) = (p.file("x5"), p.file("y5"));
        let (tx, ty) = (mtime(&x), mtime(&y));
        fs::rename(&x, &swap).unwrap();
        fs::rename(&y, &x).unwrap();
        fs::rename(&swap, &y).unwrap();
        set_mtime(&x, tx);
        set_mtime(&y, ty);
        let show = p.same(&["show", "x5"]);
        assert!(show.stdout.contains("y5.sql"), "{show}");
        // A file renamed into another folder.
        fs::create_dir(p.path().join("revisions/old")).unwrap();
        fs::rename(p.file("r0"), p.path().join("revisions/old/r0.sql")).unwrap();
        let show = p.same(&["show", "r0", "--json"]);
        assert!(show.stdout.contains("old/r0.sql"), "{show}");
        assert_eq!(heads(&p), ["x5", "y5"]);
    }
}

#[test]
fn a_damaged_cache_or_an_unwritable_cache_directory_changes_nothing() {
    let p = Project::new(Some("0"));
    history(&p);
    p.age();
    let expected = p.same(&["history"]);
    let files = p.cache_files();
    assert_eq!(files.len(), 1);
    let bytes = fs::read(&files[0]).unwrap();
    for damage in [b"garbage".to_vec(), Vec::new(), bytes[..bytes.len() / 2].to_vec(), {
        let mut b = bytes.clone();
        let middle = b.len() / 2;
        b[middle] ^= 0x41;
        b
    }] {
        fs::write(&files[0], damage).unwrap();
        let r = p.command(&["history"], true);
        assert_eq!((r.code, &r.stdout, &r.stderr), (0, &expected.stdout, &expected.stderr));
        // Rebuilt: the same entries (only the times they were read differ).
        assert_eq!(fs::read(&files[0]).unwrap().len(), bytes.len(), "rebuilt");
    }
    // The cache directory is a file: nothing can be written below it.
    let blocked = p.cache.path().join("blocked");
    fs::write(&blocked, "not a directory").unwrap();
    let mut cmd = assert_cmd::Command::cargo_bin("migraph").unwrap();
    cmd.current_dir(p.path()).env("MIGRAPH_CACHE_DIR", &blocked).env("MIGRAPH_CACHE_RACY_SECONDS", "0");
    let r = Ran::from(cmd.env("DATABASE_URL", common::sqlite_url(p.path())).args(["history"]).output().unwrap());
    assert_eq!((r.code, &r.stdout, &r.stderr), (0, &expected.stdout, &expected.stderr));
    // MIGRAPH_NO_CACHE=1 writes none.
    let q = Project::new(Some("0"));
    history(&q);
    q.command(&["heads"], false);
    assert!(q.cache_files().is_empty());
}

/// A file edited after the header was read and the plan made is refused,
/// naming it; nothing runs. Unchanged files run with their SQL.
#[test]
fn a_run_loads_and_checks_the_sql_it_runs() {
    use diesel::Connection as _;
    let p = Project::new(None);
    history(&p);
    let graph = migraph::load_headers(&p.path().join("revisions")).unwrap();
    assert!(!graph.has_all_sql());
    assert!(graph.revisions().iter().all(|r| r.up.is_empty() && r.is_reversible()));
    let migrator = migraph::Migrator::from_graph(graph.clone());
    let mut conn = diesel::SqliteConnection::establish(":memory:").unwrap();
    let plan = migrator.plan(&mut conn, migraph::Verb::Upgrade, &["heads"]).unwrap();
    assert_eq!(plan.steps.len(), 5);
    edit_in_place(&p.file("m3"), "t_m3 (id", "t_m3 (ix");
    let e = migrator.upgrade_heads(&mut conn).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with(&format!("{}: the file changed", p.file("m3").display())), "{text}");
    assert!(matches!(e, migraph::RunError::File(_)), "{e:?}");
    let mut backend: &mut dyn migraph::backend::Backend = &mut conn;
    assert!(common::table_names(backend).is_empty(), "nothing ran");
    // A graph read again runs, with the SQL of the files.
    let migrator = migraph::Migrator::from_graph(migraph::load_headers(&p.path().join("revisions")).unwrap());
    assert_eq!(migrator.upgrade_heads(&mut conn).unwrap().done.len(), 5);
    backend = &mut conn;
    let tables = common::table_names(backend);
    for t in ["t_r0", "t_a1", "t_b1", "t_m3", "t_c2"] {
        assert!(tables.iter().any(|n| n == t), "{tables:?}");
    }
    // Downgrades run the files' down sections, loaded the same way.
    let migrator = migraph::Migrator::from_graph(migraph::load_headers(&p.path().join("revisions")).unwrap());
    migrator.run(&mut conn, migraph::Verb::Downgrade, &["base"], |_| {}).unwrap();
    backend = &mut conn;
    assert!(common::table_names(backend).iter().all(|t| !t.starts_with("t_")));
}

/// Each file is `stat`ed in its directory (opened once per directory) and a
/// symbolic link through to its target: files in subdirectories and behind
/// links are seen when they change, however the cache was filled.
#[cfg(unix)]
#[test]
fn files_in_subdirectories_and_behind_links_are_seen() {
    for racy in [Some("0"), None] {
        let p = Project::new(racy);
        history(&p);
        let revisions = p.path().join("revisions");
        fs::create_dir_all(revisions.join("one/two")).unwrap();
        fs::create_dir_all(p.path().join("elsewhere")).unwrap();
        fs::rename(p.file("a1"), revisions.join("one/a1.sql")).unwrap();
        fs::rename(p.file("b1"), revisions.join("one/two/b1.sql")).unwrap();
        let target = p.path().join("elsewhere/c2.sql");
        fs::rename(p.file("c2"), &target).unwrap();
        std::os::unix::fs::symlink(&target, p.file("c2")).unwrap();
        for file in
            [p.file("r0"), p.file("m3"), revisions.join("one/a1.sql"), revisions.join("one/two/b1.sql"), target.clone()]
        {
            set_mtime(&file, SystemTime::now() - Duration::from_secs(3600));
        }
        let heads = p.same(&["heads"]);
        assert_eq!((heads.code, heads.stdout.lines().count()), (0, 2), "{heads}");
        p.same(&["history"]);
        // The link's target changes (same size, modification time restored):
        // c2 now follows m3, so one head.
        edit_in_place(&target, "-- parents: a1\n-- message: rev c2", "-- parents: m3\n-- message: rev c2");
        let heads = p.command(&["heads"], true);
        assert_eq!(heads.stdout.lines().count(), 1, "{heads}");
        assert!(heads.stdout.contains("c2"), "{heads}");
        p.same(&["heads"]);
        // A file two directories down: its new parent makes a cycle.
        edit_in_place(&revisions.join("one/two/b1.sql"), "-- parents: r0", "-- parents: m3");
        let check = p.command(&["check"], true);
        assert_eq!(check.code, 1, "{check}");
        assert!(check.stderr.contains("cycle") && check.stderr.contains("b1"), "{check}");
        p.same(&["check"]);
    }
}

/// The cache directory does not grow with every directory ever seen: when
/// a cache file is written, the cache files of directories unused for 30
/// days and temporary files older than a day are removed beside it; a
/// cache file read by every run but never rewritten (nothing changed) is
/// kept alive by those runs; files with other names are left alone.
#[test]
fn unused_cache_files_are_removed_and_files_in_use_kept() {
    let p = Project::new(Some("0"));
    table_revision(p.path(), "a1", "");
    assert_eq!(p.command(&["heads"], true).code, 0);
    let own = p.cache_files();
    assert_eq!(own.len(), 1, "{own:?}");
    let own = own[0].clone();
    let dir = p.cache.path().join("revisions");
    let days_ago = |days: u64| SystemTime::now() - Duration::from_secs(days * 24 * 3600);
    let others = [
        ("0123456789abcdef0123456789abcdef.bin", 40, false),
        ("fedcba9876543210fedcba9876543210.bin", 20, true),
        (".tmpAbC123", 2, false),
        (".tmpXyZ789", 0, true),
        ("0123456789ABCDEF0123456789ABCDEF.bin", 40, true),
        ("notes.txt", 40, true),
    ];
    for (name, days, _) in others {
        fs::write(dir.join(name), "x").unwrap();
        set_mtime(&dir.join(name), days_ago(days));
    }
    // Nothing changed: the run writes nothing (so removes nothing) and
    // marks its own file, written 40 days ago, as in use.
    set_mtime(&own, days_ago(40));
    assert_eq!(p.command(&["heads"], true).code, 0);
    let age = SystemTime::now().duration_since(mtime(&own)).unwrap_or_default();
    assert!(age < Duration::from_secs(3600), "{age:?}");
    assert!(others.iter().all(|(name, _, _)| dir.join(name).exists()));
    // A new file: the cache is written, and what is unused goes.
    table_revision(p.path(), "b2", "a1");
    assert_eq!(p.command(&["heads"], true).code, 0);
    assert!(own.exists());
    for (name, days, kept) in others {
        assert_eq!(dir.join(name).exists(), kept, "{name}, {days} days old");
    }
}
