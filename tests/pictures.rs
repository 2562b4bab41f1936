//! The pictures through the real binary: `history --graph` on a generated
//! 200-revision team history, compared with a committed snapshot, and
//! `history --graph`, `graph --format dot|mermaid` marking what a SQLite
//! database has applied.
//!
//! Snapshots live in `tests/snapshots/`. A missing or different snapshot
//! fails with a diff; `MIGRAPH_UPDATE_SNAPSHOTS=1 cargo test --test pictures`
//! writes them (look at them before committing).

#[path = "../examples/synth/mod.rs"]
mod synth;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The generated history of the 200-revision snapshot: this seed gives five
/// heads (four open feature branches), an octopus merge and depends-on links.
const SEED: u64 = 9;

fn migraph(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("migraph").unwrap();
    cmd.current_dir(dir).env_remove("DATABASE_URL").env("NO_COLOR", "1");
    cmd
}

/// What one run printed; asserts the exit code.
fn run(cmd: &mut Command, code: i32) -> (String, String) {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "{cmd:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    (stdout, stderr)
}

fn ok(cmd: &mut Command) -> String {
    let (stdout, stderr) = run(cmd, 0);
    // With a database, stderr names it, and has nothing else.
    let rest =
        if stderr.starts_with("database: ") { &stderr[stderr.find('\n').map_or(0, |n| n + 1)..] } else { &stderr };
    assert_eq!(rest, "", "{cmd:?}: nothing on stderr but the database");
    stdout
}

// ---------------------------------------------------------------------------
// Snapshots

fn snapshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("snapshots").join(name)
}

/// Compares `actual` with `tests/snapshots/<name>`, or writes it when
/// `MIGRAPH_UPDATE_SNAPSHOTS=1`.
fn assert_snapshot(name: &str, actual: &str) {
    let path = snapshot_path(name);
    if std::env::var("MIGRAPH_UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1") {
        if fs::read_to_string(&path).ok().as_deref() != Some(actual) {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, actual).unwrap();
            eprintln!("wrote snapshot {}: review it before committing", path.display());
        }
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "snapshot {} cannot be read ({e}); write it with `MIGRAPH_UPDATE_SNAPSHOTS=1 cargo test --test pictures` \
             and review it before committing",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let fresh = Path::new(env!("CARGO_TARGET_TMPDIR")).join("snapshots").join(name);
    fs::create_dir_all(fresh.parent().unwrap()).unwrap();
    fs::write(&fresh, actual).unwrap();
    panic!(
        "snapshot {name} differs (- snapshot, + now):\n{}\nwhole output: {}\ncompare: diff -u {} {}\n\
         if the change is intended: MIGRAPH_UPDATE_SNAPSHOTS=1 cargo test --test pictures",
        line_diff(&expected, actual),
        fresh.display(),
        path.display(),
        fresh.display()
    );
}

/// A unified-style line diff (longest common subsequence, 2 lines of
/// context), cut after 80 lines.
fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut lcs = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    // (kind, line number in old or new, text)
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', i + 1, a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', i + 1, a[i]));
            i += 1;
        } else {
            ops.push(('+', j + 1, b[j]));
            j += 1;
        }
    }
    let near = |k: usize| ops[k.saturating_sub(2)..(k + 3).min(ops.len())].iter().any(|op| op.0 != ' ');
    let mut out = Vec::new();
    let mut skipped = false;
    for (k, &(kind, line, text)) in ops.iter().enumerate() {
        if kind == ' ' && !near(k) {
            skipped = true;
            continue;
        }
        if skipped || out.is_empty() {
            out.push(format!("@@ line {line} @@"));
            skipped = false;
        }
        out.push(format!("{kind}{text}"));
    }
    if old.ends_with('\n') != new.ends_with('\n') {
        out.push("(the final newline differs)".into());
    }
    if out.len() > 80 {
        let more = out.len() - 80;
        out.truncate(80);
        out.push(format!("... {more} more diff line(s)"));
    }
    out.join("\n")
}

#[test]
fn the_diff_names_changed_lines() {
    let diff = line_diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\nh\n");
    assert_eq!(diff, "@@ line 2 @@\n b\n c\n-d\n+D\n e\n f\n g\n+h");
}

// ---------------------------------------------------------------------------
// 200 revisions

/// Columns of the lane drawing on a line: everything before the first ID character.
fn lanes_width(line: &str) -> usize {
    line.find(|c: char| c.is_ascii_alphanumeric()).unwrap_or(line.len())
}

#[test]
fn history_graph_of_200_revisions_matches_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let summary = synth::generate(&dir.path().join("revisions"), 200, SEED).unwrap();
    assert!(summary.heads >= 3 && summary.octopus_merges >= 1 && summary.depends_on >= 1, "{summary}");
    let drawn = ok(migraph(dir.path()).args(["history", "--graph"]));

    // What makes it legible, independently of the snapshot.
    let nodes: Vec<&str> = drawn.lines().filter(|l| l.contains('*')).collect();
    assert_eq!(nodes.len(), 200, "one `*` line per revision");
    assert!(drawn.lines().all(|l| l.len() <= 90), "no absurdly long line");
    assert!(drawn.lines().all(|l| lanes_width(l) <= 12), "at most 6 lanes side by side");
    assert!(drawn.contains("|\\") && drawn.contains("|/") && drawn.contains("*-."), "merges, forks, an octopus");
    assert_eq!(nodes.iter().filter(|l| l.contains("(head")).count(), summary.heads);
    assert!(nodes[0].starts_with("* ") && nodes[0].contains("(head)") && nodes[0].contains("main change"));
    assert!(nodes[199].starts_with("* ") && nodes[199].ends_with("initial schema"));
    // Each feature branch is drawn in one piece: its steps are consecutive lines.
    for branch in 1..=summary.branches {
        let rows: Vec<usize> = nodes
            .iter()
            .enumerate()
            .filter(|(_, l)| l.contains(&format!("feature {branch} step ")))
            .map(|(k, _)| k)
            .collect();
        let spread = rows.last().unwrap() - rows.first().unwrap() + 1;
        assert_eq!(spread, rows.len(), "feature {branch} is scattered: rows {rows:?}");
    }

    assert_snapshot("history_graph_200.txt", &drawn);
}

#[test]
fn history_graph_of_200_revisions_three_lanes_wide() {
    let dir = tempfile::tempdir().unwrap();
    synth::generate(&dir.path().join("revisions"), 200, SEED).unwrap();
    let wide = ok(migraph(dir.path()).args(["history", "--graph"]));
    let drawn = ok(migraph(dir.path()).args(["history", "--graph", "--max-lanes", "3"]));
    assert_eq!(drawn.lines().count(), wide.lines().count(), "one line for each line of the whole drawing");
    assert_eq!(drawn.lines().filter(|l| l.contains('*')).count(), 200, "one `*` line per revision");
    // Lanes 0..3 in columns 0..6, then `*+N` or `:+N` in column 6 where more lanes are open.
    let collapsed: Vec<&str> = drawn.lines().filter(|l| l.len() > 6 && matches!(&l[6..8], "*+" | ":+")).collect();
    assert!(collapsed.len() >= 10, "{drawn}");
    let lanes = |l: &str| l.find(|c: char| !"|/\\_-.* ".contains(c)).map_or(l, |end| &l[..end]).trim_end().len();
    let fits = |l: &str| lanes(l) <= 6 || (lanes(l) == 7 && matches!(&l[6..8], "*+" | ":+"));
    assert!(drawn.lines().all(fits), "three lanes, and the marker column where more are open:\n{drawn}");
    assert_snapshot("history_graph_200_max3.txt", &drawn);
}

/// `revisions/` holding `n` roots `p00000`.. and `m`, their merge.
fn octopus(dir: &Path, n: usize) -> Vec<String> {
    let revisions = dir.join("revisions");
    fs::create_dir_all(&revisions).unwrap();
    let ids: Vec<String> = (0..n).map(|i| format!("p{i:05}")).collect();
    for id in &ids {
        let text = format!("-- id: {id}\n-- parents:\n-- message: root\n-- migrate:up\nSELECT 1;\n-- migrate:down\n");
        fs::write(revisions.join(format!("{id}.sql")), text).unwrap();
    }
    let merge = format!("-- id: m\n-- parents: {}\n-- message: merge\n-- migrate:up\nSELECT 1;\n", ids.join(" "));
    fs::write(revisions.join("m.sql"), merge).unwrap();
    ids
}

#[test]
fn a_merge_of_300_parents_is_drawn_40_lanes_wide() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids = octopus(d, 300);
    // Not a terminal: 40 lanes.
    let drawn = ok(migraph(d).args(["history", "--graph"]));
    let lines: Vec<&str> = drawn.lines().collect();
    let longest = lines.iter().map(|l| l.len()).max().unwrap();
    // 40 lanes in 80 columns, `:+260`, the text.
    assert_eq!(longest, 80 + ":+260 ".len() + "m (head, mergepoint) merge".len());
    assert_eq!(lines.iter().filter(|l| l.contains('*')).count(), 301);
    for id in ids.iter().map(String::as_str).chain(["m"]) {
        assert_eq!(lines.iter().filter(|l| l.split(' ').any(|w| w == id)).count(), 1, "{id} on one line");
    }
    assert_eq!(lines[0], format!("*{}:+260 m (head, mergepoint) merge", "-".repeat(79)));
    assert_eq!(lines[2], format!("{}*+260 p00299 root", "| ".repeat(40)));
    assert_eq!(lines[3], format!("{}*+259 p00298 root", "| ".repeat(40)));
    assert_eq!(lines[261], format!("{}*+1 p00040 root", "| ".repeat(40)));
    assert_eq!(lines[262], format!("{}* p00039 root", "| ".repeat(39)));
    assert_eq!(ok(migraph(d).args(["history", "--graph", "--max-lanes", "40"])), drawn);
    // Wide enough, every lane is drawn.
    let whole = ok(migraph(d).args(["history", "--graph", "--max-lanes", "300"]));
    assert!(whole.lines().map(str::len).max().unwrap() > 598);
    assert!(!whole.contains(":+") && !whole.contains("*+"));

    let (_, stderr) = run(migraph(d).args(["history", "--graph", "--max-lanes", "0"]), 2);
    assert!(stderr.contains("--max-lanes"), "{stderr}");
    let (_, stderr) = run(migraph(d).args(["history", "--max-lanes", "3"]), 2);
    assert!(stderr.contains("--graph"), "{stderr}");
}

/// The drawing is written as it is made; a reader that stops early ends it quietly.
#[test]
fn history_graph_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    octopus(dir.path(), 3000);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_migraph"))
        .args(["history", "--graph", "--max-lanes", "200"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    assert!(first.starts_with("*---") && first.ends_with(" m (head, mergepoint) merge\n"), "{first}");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    // About 1.2 MB were left to write: the pipe closed under the writer.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    assert_eq!(out.status.code(), Some(0));
}

// ---------------------------------------------------------------------------
// Applied state from a SQLite database

/// Writes `revisions/<id>.sql` creating table `t_<id>`.
fn rev(dir: &Path, id: &str, parents: &str, extra: &str) {
    let path = dir.join("revisions").join(format!("{id}.sql"));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(
        path,
        format!(
            "-- id: {id}\n-- parents: {parents}\n-- message: rev {id}\n{extra}\n\
             -- migrate:up\nCREATE TABLE t_{id} (id INTEGER);\n-- migrate:down\nDROP TABLE t_{id};\n"
        ),
    )
    .unwrap();
}

/// r0 ─ a1 ─ a2 ─ m3 ─ t4 (head), r0 ─ b1 ─ m3, m3 ─ c1 (an open branch,
/// depending on a2).
fn shop(dir: &Path) {
    rev(dir, "r0", "", "");
    rev(dir, "a1", "r0", "-- labels: alpha");
    rev(dir, "a2", "a1", "");
    rev(dir, "b1", "r0", "-- labels: beta");
    rev(dir, "m3", "a2 b1", "");
    rev(dir, "t4", "m3", "");
    rev(dir, "c1", "b1", "-- labels: gamma\n-- depends-on: a2");
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("x.db").display())
}

/// `shop` with `a2` and `b1` (and their ancestors) applied.
fn shop_half_applied() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    shop(d);
    let url = sqlite_url(d);
    run(migraph(d).args(["--database-url", &url, "upgrade", "a2", "b1"]), 0);
    dir
}

#[cfg(feature = "sqlite")]
#[test]
fn history_graph_tags_applied_and_pending_revisions() {
    let dir = shop_half_applied();
    let d = dir.path();
    let url = sqlite_url(d);
    let plain = ok(migraph(d).args(["history", "--graph"]));
    assert!(!plain.contains("applied") && !plain.contains("pending"), "no database, no tags:\n{plain}");
    let drawn = ok(migraph(d).args(["--database-url", &url, "history", "--graph"]));
    let tag = |id: &str| {
        let line = drawn
            .lines()
            .find(|l| l.contains('*') && l.split_whitespace().any(|w| w == id))
            .unwrap_or_else(|| panic!("{id}:\n{drawn}"));
        line.split(" (").nth(1).unwrap().split([',', ')']).next().unwrap().to_string()
    };
    for id in ["r0", "a1", "a2", "b1"] {
        assert_eq!(tag(id), "applied", "{id}:\n{drawn}");
    }
    for id in ["m3", "t4", "c1"] {
        assert_eq!(tag(id), "pending", "{id}:\n{drawn}");
    }
    // The same lanes as without a database; only the tags differ.
    let untagged =
        drawn.replace("(applied, ", "(").replace("(pending, ", "(").replace(" (applied)", "").replace(" (pending)", "");
    assert_eq!(untagged, plain);
    assert_snapshot("history_graph_applied.txt", &drawn);

    // The URL from DATABASE_URL and from migraph.toml reads the same database.
    let from_env = ok(migraph(d).env("DATABASE_URL", &url).args(["history", "--graph"]));
    assert_eq!(from_env, drawn);
    fs::write(d.join("migraph.toml"), "database_url = \"sqlite://x.db\"\n").unwrap();
    assert_eq!(ok(migraph(d).args(["history", "--graph"])), drawn);
    // A range draws the same tags on fewer rows; --json gives each revision's state.
    let ranged = ok(migraph(d).args(["history", "--graph", "-r", "b1:"]));
    assert!(ranged.lines().any(|l| l.contains("b1 (applied, branchpoint, beta)")), "{ranged}");
    let json = ok(migraph(d).args(["history", "--graph", "--json"]));
    assert!(json.contains("\"state\": \"applied\"") && json.contains("\"state\": \"pending\""), "{json}");
}

#[cfg(feature = "sqlite")]
#[test]
fn dot_and_mermaid_mark_applied_revisions_heads_and_merges() {
    let dir = shop_half_applied();
    let d = dir.path();
    let url = sqlite_url(d);
    let dot = ok(migraph(d).args(["--database-url", &url, "graph"]));
    assert!(dot.contains("\"a2\" [label=\"a2\\nrev a2\", style=filled, fillcolor=\"#c6efce\"]"), "{dot}");
    assert!(dot.contains("\"m3\" [label=\"m3\\nrev m3\", shape=hexagon, style=dashed]"), "{dot}");
    assert!(dot.contains("\"t4\" [label=\"t4\\nrev t4\", peripheries=2, style=dashed]"), "{dot}");
    assert!(dot.contains("\"a2\" -> \"c1\" [style=dashed]"), "{dot}");
    assert!(dot.contains("label=\"green: applied, dashed: pending"), "a legend: {dot}");
    assert_snapshot("graph_applied.dot", &dot);
    let mermaid = ok(migraph(d).args(["--database-url", &url, "graph", "--format", "mermaid"]));
    assert!(mermaid.contains("    class r_r0,r_a1,r_a2,r_b1 applied\n"), "{mermaid}");
    assert!(mermaid.contains("    class r_c1,r_m3,r_t4 pending\n"), "{mermaid}");
    assert!(mermaid.contains("    class r_c1,r_t4 head\n") && mermaid.contains("    class r_m3 merge\n"), "{mermaid}");
    assert_snapshot("graph_applied.mmd", &mermaid);

    // Without a database: the same picture, nothing marked applied or pending.
    let plain = ok(migraph(d).args(["graph"]));
    assert!(
        !plain.contains("fillcolor") && !plain.contains(", style=dashed]") && !plain.contains("green: applied"),
        "{plain}"
    );
    assert!(plain.contains("shape=hexagon") && plain.contains("peripheries=2"));
    let plain = ok(migraph(d).args(["graph", "--format", "mermaid"]));
    assert!(!plain.contains(" applied\n") && !plain.contains(" pending\n"), "{plain}");
    assert!(plain.contains("class r_m3 merge"));
}

#[cfg(feature = "sqlite")]
#[test]
fn the_pictures_read_the_database_without_changing_it_and_fail_when_it_cannot_be_read() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    shop(d);
    let url = sqlite_url(d);
    // A database file that does not exist yet: everything pending, and it is not created.
    let drawn = ok(migraph(d).args(["--database-url", &url, "history", "--graph"]));
    assert_eq!(drawn.matches("(pending").count(), 7, "{drawn}");
    ok(migraph(d).args(["--database-url", &url, "graph"]));
    assert!(!d.join("x.db").exists(), "a picture must not create the database");

    // Not a database, and a directory: exit 1 with an error, for both commands.
    fs::write(d.join("x.db"), "this is not a SQLite database, just text that is long enough".repeat(20)).unwrap();
    let dir_url = format!("sqlite://{}", d.join("revisions").display());
    for url in [&url, &dir_url] {
        for args in [&["history", "--graph"][..], &["graph"], &["graph", "--format", "mermaid"]] {
            let (stdout, stderr) = run(migraph(d).args(["--database-url", url.as_str()]).args(args), 1);
            assert_eq!(stdout, "", "{args:?}: no picture");
            assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        }
    }
    // `history` without --graph lists the files, with a warning instead of tags.
    let (listed, warned) = run(migraph(d).args(["--database-url", &url, "history"]), 0);
    assert!(listed.contains("-> r0") && !listed.contains("pending"), "{listed}");
    assert!(warned.starts_with("warning: cannot ") && warned.contains("without applied/pending tags"), "{warned}");
}

#[cfg(feature = "sqlite")]
#[test]
fn failed_revisions_and_missing_files_are_shown_or_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    shop(d);
    let url = sqlite_url(d);
    run(migraph(d).args(["--database-url", &url, "upgrade", "t4"]), 0);
    // A revision outside a transaction that fails half-way leaves a marker.
    fs::write(
        d.join("revisions/z9.sql"),
        "-- id: z9\n-- parents: t4\n-- transaction: false\n-- migrate:up\n\
         CREATE TABLE t_z9 (id INTEGER);\nSELECT * FROM no_such_table;\n-- migrate:down\nDROP TABLE t_z9;\n",
    )
    .unwrap();
    run(migraph(d).args(["--database-url", &url, "upgrade", "z9"]), 1);
    let (drawn, stderr) = run(migraph(d).args(["--database-url", &url, "history", "--graph"]), 0);
    assert!(drawn.starts_with("* z9 (failed, head)\n"), "{drawn}");
    assert!(stderr.contains("warning: revision z9 failed or was interrupted going up"), "{stderr}");
    let (_, quiet) = run(migraph(d).args(["--database-url", &url, "-q", "history", "--graph"]), 0);
    assert_eq!(quiet, "");

    // An applied revision whose file is gone cannot be drawn: a warning names it.
    run(migraph(d).args(["--database-url", &url, "stamp", "t4"]), 0);
    fs::remove_file(d.join("revisions/z9.sql")).unwrap();
    fs::remove_file(d.join("revisions/t4.sql")).unwrap();
    let (drawn, stderr) = run(migraph(d).args(["--database-url", &url, "graph"]), 0);
    assert!(!drawn.contains("\"t4\""), "{drawn}");
    assert!(stderr.contains("1 applied revision(s) have no file and are not shown: t4"), "{stderr}");
}
