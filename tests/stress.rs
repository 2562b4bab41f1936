//! Stress tests: many concurrent processes and SIGKILLed runs on large
//! synthetic histories (`examples/synth`: a main line, feature branches,
//! merges, depends-on, several heads; one `CREATE TABLE t_<id>` per
//! revision, down `DROP TABLE t_<id>`), on SQLite, PostgreSQL and
//! MySQL/MariaDB. Every check reads the database itself: the version rows
//! (counted per ID), the marker table and the `t_<id>` tables present.
//!
//! 1. Load: `MIGRAPH_STRESS_PROCESSES` concurrent `upgrade heads` runs on a
//!    fresh database, then as many concurrent `downgrade base` runs.
//! 2. Kills on the transactional backends (SQLite, PostgreSQL): at least
//!    `MIGRAPH_STRESS_KILLS` SIGKILLs, alternating between a run of
//!    `upgrade heads` (from the partial state the previous kill left) and a
//!    run of `downgrade base`; after each, rows and tables agree exactly and
//!    no marker is left. Most kills must land mid-run.
//! 3. Kills on MySQL, where DDL commits implicitly: a kill may leave a
//!    marker; then every run refuses, and the documented recovery (`migraph
//!    stamp` of the truth the schema shows) is performed and checked.
//!
//! Counts, from the environment (CI uses the defaults):
//!
//! | variable | default | meaning |
//! | --- | ---: | --- |
//! | `MIGRAPH_STRESS_REVISIONS` | 300 | revisions of the synthetic history (load test and kill loops alike) |
//! | `MIGRAPH_STRESS_PROCESSES` | 8 | concurrent processes in the load test |
//! | `MIGRAPH_STRESS_KILLS` | 20 | SIGKILLs per backend (half while upgrading, half while downgrading) |
//! | `MIGRAPH_STRESS_SEED` | time | seed of the history and of the kill delays (always printed) |
//!
//! The kill loops use the same number of revisions as the load test: on
//! this project's 2-core machine a 300-revision run takes about 0.5 s on
//! SQLite, 1 s on PostgreSQL and 1.5 s on MariaDB, so the whole file runs in
//! well under a minute. Kill delays are spread over the measured duration of
//! the part of the run still to do (process start-up plus a seeded fraction
//! between 5% and 95% of the remaining revisions' time); the per-revision
//! time is refined after each kill (halved when the run had already ended,
//! blended with the observed pace when it landed mid-run), so a measurement
//! slowed by a test running beside it does not push every kill past the end.
//!
//! SQLite tests always run (with the default `sqlite` feature); PostgreSQL
//! and MySQL tests are ignored unless built with their feature and
//! `MIGRAPH_TEST_POSTGRES_URL` / `MIGRAPH_TEST_MYSQL_URL`:
//!
//! ```sh
//! MIGRAPH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! MIGRAPH_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//!   cargo test --all-features --test stress -- --nocapture
//! ```

mod common;
#[path = "../examples/synth/mod.rs"]
mod synth;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use common::{mg, migraph_process, project, write_revision, AnyDb, Ran, Server};
use migraph::backend::{AnyConnection, Backend, Dialect, PendingRow};
use serde_json::Value;

const TABLE: &str = "migraph_revisions";
const PENDING: &str = "migraph_revisions_pending";

// ---------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------

fn env_count(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => {
            v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a non-negative integer"))
        }
        _ => default,
    }
}

fn revisions() -> usize {
    env_count("MIGRAPH_STRESS_REVISIONS", 300).max(2)
}

fn processes() -> usize {
    env_count("MIGRAPH_STRESS_PROCESSES", 8).max(1)
}

fn kills() -> usize {
    env_count("MIGRAPH_STRESS_KILLS", 20).max(2)
}

fn seed(test: &str) -> u64 {
    let seed = match std::env::var("MIGRAPH_STRESS_SEED") {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().expect("MIGRAPH_STRESS_SEED is an integer"),
        _ => std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64),
    };
    eprintln!("{test}: MIGRAPH_STRESS_SEED={seed}");
    seed
}

/// SplitMix64 (shared with the generator): kill delays are reproducible
/// from the printed seed.
use synth::rng::SplitMix64 as Rng;

// ---------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Sqlite,
    Postgres,
    Mysql,
}

/// A fresh database: a file in a temporary directory, or a database on a
/// live server (dropped with the `TestDb`).
struct Db {
    kind: Kind,
    url: String,
    any: AnyDb,
}

/// What the database holds.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    /// Version rows per ID.
    rows: BTreeMap<String, usize>,
    /// IDs whose `t_<id>` table exists.
    tables: BTreeSet<String>,
    markers: Vec<PendingRow>,
}

impl Snapshot {
    fn applied(&self) -> BTreeSet<String> {
        self.rows.keys().cloned().collect()
    }

    /// Asserts one row per ID, rows == tables, and no marker.
    fn assert_in_step(&self, context: &str) {
        let duplicated: Vec<_> = self.rows.iter().filter(|(_, &n)| n != 1).collect();
        assert!(duplicated.is_empty(), "{context}: IDs with several version rows: {duplicated:?}");
        assert_eq!(self.applied(), self.tables, "{context}: version rows (left) and t_<id> tables (right) differ");
        assert!(self.markers.is_empty(), "{context}: a marker was left: {:?}", self.markers);
    }
}

impl Db {
    fn new(kind: Kind) -> Db {
        let any = AnyDb::new(match kind {
            Kind::Sqlite => None,
            Kind::Postgres => Some(Server::Postgres),
            Kind::Mysql => Some(Server::Mysql),
        });
        Db { kind, url: any.url.clone(), any }
    }

    fn connect(&self) -> AnyConnection {
        self.any.connect()
    }

    fn wait_idle(&self) {
        self.any.wait_idle();
    }

    fn snapshot(&self) -> Snapshot {
        let mut conn = self.connect();
        let sql = match self.kind {
            Kind::Sqlite => "SELECT name AS id, '' AS parents, '' AS message, '' AS checksum, NULL AS down_sql, '' AS applied_at, 0 AS execution_ms, NULL AS depends_on, 1 AS \"transaction\" FROM sqlite_master WHERE type = 'table'",
            Kind::Postgres => "SELECT table_name::text AS id, '' AS parents, '' AS message, '' AS checksum, NULL::text AS down_sql, '' AS applied_at, 0::bigint AS execution_ms, NULL::text AS depends_on, 1::bigint AS transaction FROM information_schema.tables WHERE table_schema = current_schema()",
            Kind::Mysql => "SELECT CAST(table_name AS CHAR) AS id, '' AS parents, '' AS message, '' AS checksum, CAST(NULL AS CHAR) AS down_sql, '' AS applied_at, CAST(0 AS SIGNED) AS execution_ms, CAST(NULL AS CHAR) AS depends_on, CAST(1 AS SIGNED) AS transaction FROM information_schema.tables WHERE table_schema = DATABASE()",
        };
        let names: BTreeSet<String> = conn.version_rows(sql).expect("list tables").into_iter().map(|r| r.id).collect();
        let mut rows = BTreeMap::new();
        let dialect = match self.kind {
            Kind::Sqlite => Dialect::Sqlite,
            Kind::Postgres => Dialect::Postgres,
            Kind::Mysql => Dialect::Mysql,
        };
        if names.contains(TABLE) {
            for row in conn.version_rows(&dialect.select_rows(TABLE)).expect("read the version table") {
                *rows.entry(row.id).or_insert(0) += 1;
            }
        }
        let markers = if names.contains(PENDING) {
            conn.pending_rows(&dialect.select_pending(TABLE)).expect("read the marker table")
        } else {
            Vec::new()
        };
        let tables = names.iter().filter_map(|t| t.strip_prefix("t_")).map(str::to_string).collect();
        Snapshot { rows, tables, markers }
    }
}

// ---------------------------------------------------------------------------
// The history
// ---------------------------------------------------------------------------

/// A synthetic history in `<dir>/revisions`, with its edges read back from
/// the files.
struct History {
    dir: tempfile::TempDir,
    /// Every ID, sorted.
    ids: BTreeSet<String>,
    /// ID -> parents and depends-on.
    needs: BTreeMap<String, Vec<String>>,
}

impl History {
    fn new(n: usize, seed: u64) -> History {
        let dir = project();
        let summary = synth::generate(&dir.path().join("revisions"), n, seed).expect("generate the history");
        eprintln!("history: {summary}");
        let mut needs = BTreeMap::new();
        for entry in fs::read_dir(dir.path().join("revisions")).expect("read revisions") {
            let text = fs::read_to_string(entry.expect("entry").path()).expect("read revision");
            let mut id = None;
            let mut edges = Vec::new();
            for line in text.lines().take_while(|l| l.starts_with("-- ") && !l.starts_with("-- migrate:")) {
                if let Some(v) = line.strip_prefix("-- id:") {
                    id = Some(v.trim().to_string());
                } else if let Some(v) = line.strip_prefix("-- parents:").or_else(|| line.strip_prefix("-- depends-on:"))
                {
                    edges.extend(v.split_whitespace().map(str::to_string));
                }
            }
            needs.insert(id.expect("an id header"), edges);
        }
        assert_eq!(needs.len(), n);
        let ids = needs.keys().cloned().collect();
        History { dir, ids, needs }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Asserts that `set` holds every parent and dependency of its members.
    fn assert_closed(&self, set: &BTreeSet<String>, context: &str) {
        for id in set {
            let needs = self.needs.get(id).unwrap_or_else(|| panic!("{context}: unknown revision {id} recorded"));
            let missing: Vec<&String> = needs.iter().filter(|p| !set.contains(*p)).collect();
            assert!(missing.is_empty(), "{context}: {id} is applied without {missing:?}");
        }
    }

    /// closure({id}).
    fn closure(&self, id: &str) -> BTreeSet<String> {
        let mut set = BTreeSet::new();
        let mut todo = vec![id.to_string()];
        while let Some(x) = todo.pop() {
            if set.insert(x.clone()) {
                todo.extend(self.needs[&x].iter().cloned());
            }
        }
        set
    }

    /// The members of a closed `set` that nothing else in it needs: stamping
    /// them records exactly `set` (`base` when it is empty).
    fn stamp_targets(&self, set: &BTreeSet<String>) -> Vec<String> {
        let needed: BTreeSet<&String> = set.iter().flat_map(|id| self.needs[id].iter()).collect();
        let heads: Vec<String> = set.iter().filter(|id| !needed.contains(id)).cloned().collect();
        if heads.is_empty() {
            vec!["base".to_string()]
        } else {
            heads
        }
    }
}

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

impl Ran {
    fn ok_in(self, what: &str) -> Ran {
        assert_eq!(self.code, 0, "{what}: expected success:\n{self}");
        self
    }
}

/// `status --json`, which must succeed; returns (applied IDs, failed IDs).
fn status(dir: &Path, url: &str, context: &str) -> (BTreeSet<String>, Vec<String>) {
    let ran = mg(dir, url, &["status", "--json"]).ok_in(&format!("{context}: status --json"));
    let json: Value = serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{context}: not JSON ({e}):\n{ran}"));
    let strings = |v: &Value, key: &str| -> Vec<String> {
        v[key]
            .as_array()
            .unwrap_or_else(|| panic!("{context}: status has no `{key}` array: {v}"))
            .iter()
            .map(|x| x.as_str().map_or_else(|| x["id"].as_str().expect("id").to_string(), str::to_string))
            .collect()
    };
    (strings(&json, "applied").into_iter().collect(), strings(&json, "failed"))
}

/// The `(direction, id)` progress lines (`  up   <id> <message> (N ms)`) of a run.
fn executed(stderr: &str) -> Vec<(String, String)> {
    stderr
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("up ") || l.starts_with("down "))
        .map(|l| {
            let mut words = l.split_whitespace();
            (words.next().expect("direction").to_string(), words.next().expect("id").to_string())
        })
        .collect()
}

/// Starts `processes` runs of `args` (all spawned before any is waited on),
/// waits for all, asserts they all exited 0 (printing the stderr of those
/// that did not), and returns every step they executed.
fn concurrently(dir: &Path, url: &str, args: &[&str], processes: usize) -> Vec<(String, String)> {
    let logs = project();
    let children: Vec<(PathBuf, std::process::Child)> = (0..processes)
        .map(|i| {
            let log = logs.path().join(format!("{i}.stderr"));
            let child = migraph_process(dir, url)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("spawn migraph");
            (log, child)
        })
        .collect();
    let mut failures = Vec::new();
    let mut steps = Vec::new();
    for (i, (log, mut child)) in children.into_iter().enumerate() {
        let status = child.wait().expect("wait for migraph");
        let stderr = fs::read_to_string(&log).unwrap_or_default();
        if !status.success() {
            failures.push(format!("process {i} of `migraph {}`: {status}\n{stderr}", args.join(" ")));
        }
        steps.extend(executed(&stderr));
    }
    assert!(failures.is_empty(), "{} process(es) failed:\n{}", failures.len(), failures.join("\n"));
    steps
}

/// Asserts that `steps` executed every ID of `ids` in `direction` exactly once.
fn exactly_once(steps: &[(String, String)], direction: &str, ids: &BTreeSet<String>, context: &str) {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (d, id) in steps {
        assert_eq!(d, direction, "{context}: unexpected step {d} {id}");
        *count.entry(id.as_str()).or_insert(0) += 1;
    }
    let twice: Vec<_> = count.iter().filter(|(_, &n)| n > 1).collect();
    assert!(twice.is_empty(), "{context}: revisions run more than once: {twice:?}");
    let ran: BTreeSet<String> = count.keys().map(|s| s.to_string()).collect();
    assert_eq!(&ran, ids, "{context}: the processes together did not run every revision");
}

// ---------------------------------------------------------------------------
// 1. Load: concurrent upgrade heads, then concurrent downgrade base
// ---------------------------------------------------------------------------

fn load(kind: Kind) {
    let started = Instant::now();
    let (n, p) = (revisions(), processes());
    let history = History::new(n, seed(&format!("{kind:?} load")));
    let db = Db::new(kind);
    let d = history.path();

    let t = Instant::now();
    let steps = concurrently(d, &db.url, &["upgrade", "heads"], p);
    eprintln!("{kind:?}: {p} concurrent `upgrade heads` of {n} revisions in {:?}", t.elapsed());
    exactly_once(&steps, "up", &history.ids, "concurrent upgrade");
    let snap = db.snapshot();
    for id in &history.ids {
        assert_eq!(snap.rows.get(id), Some(&1), "revision {id} must have exactly one version row");
        assert!(snap.tables.contains(id), "table t_{id} is missing");
    }
    assert_eq!(snap.applied(), history.ids, "the version rows are exactly the revisions");
    snap.assert_in_step("after the concurrent upgrades");
    let (applied, failed) = status(d, &db.url, "after the concurrent upgrades");
    assert_eq!(applied, history.ids);
    assert!(failed.is_empty(), "{failed:?}");

    let t = Instant::now();
    let steps = concurrently(d, &db.url, &["downgrade", "base"], p);
    eprintln!("{kind:?}: {p} concurrent `downgrade base` in {:?}", t.elapsed());
    exactly_once(&steps, "down", &history.ids, "concurrent downgrade");
    let snap = db.snapshot();
    assert!(snap.rows.is_empty(), "rows left after downgrade base: {:?}", snap.rows);
    assert!(snap.tables.is_empty(), "t_ tables left after downgrade base: {:?}", snap.tables);
    assert!(snap.markers.is_empty(), "{:?}", snap.markers);
    eprintln!("{kind:?} load: done in {:?}", started.elapsed());
}

#[test]
#[cfg_attr(not(feature = "sqlite"), ignore = "needs the sqlite feature")]
fn sqlite_concurrent_upgrade_and_downgrade_load() {
    load(Kind::Sqlite);
}

common::backend_tests! {
    postgres postgres_concurrent_upgrade_and_downgrade_load => load(Kind::Postgres),
    mysql mysql_concurrent_upgrade_and_downgrade_load => load(Kind::Mysql),
}

// ---------------------------------------------------------------------------
// 2 and 3. SIGKILL during upgrade and downgrade
// ---------------------------------------------------------------------------

/// Checks the state after a kill and returns the set of applied revisions.
/// On SQLite and PostgreSQL rows and tables must agree exactly and no marker
/// may be left. On MySQL a marker may be left: then every run must refuse,
/// and the documented recovery (stamp the truth the schema shows) is done.
fn after_kill(db: &Db, history: &History, context: &str, recoveries: &mut usize) -> BTreeSet<String> {
    let d = history.path();
    db.wait_idle();
    let snap = db.snapshot();
    assert!(snap.markers.len() <= 1, "{context}: several markers: {:?}", snap.markers);
    // On SQLite and PostgreSQL `assert_in_step` below requires no marker.
    let marker = if db.kind == Kind::Mysql { snap.markers.first().cloned() } else { None };
    if let Some(marker) = marker {
        *recoveries += 1;
        let x = marker.id.clone();
        let rows = snap.applied();
        let dup: Vec<_> = snap.rows.iter().filter(|(_, &n)| n != 1).collect();
        assert!(dup.is_empty(), "{context}: IDs with several version rows: {dup:?}");
        // The version row changes after the DDL, so at most the marked
        // revision differs, and only the way the interrupted step goes.
        let (ahead, behind) = match marker.direction.to_string().as_str() {
            "up" => (&snap.tables, &rows),
            "down" => (&rows, &snap.tables),
            other => panic!("{context}: marker direction {other:?}"),
        };
        assert!(behind.is_subset(ahead), "{context}: marker {marker:?}; rows {rows:?} vs tables {:?}", snap.tables);
        let extra: Vec<&String> = ahead.difference(behind).collect();
        assert!(
            extra.is_empty() || extra == [&x],
            "{context}: marker {marker:?} but rows and tables differ by {extra:?}"
        );

        let (_, failed) = status(d, &db.url, context);
        assert_eq!(failed, std::slice::from_ref(&x), "{context}: status must name the interrupted revision");
        let text = mg(d, &db.url, &["status"]).ok_in(context);
        assert!(text.stdout.lines().any(|l| l.starts_with("FAILED") && l.contains(&x)), "{context}:\n{text}");
        for args in [&["upgrade", "heads"][..], &["downgrade", "base"]] {
            let refused = mg(d, &db.url, args);
            assert_eq!(refused.code, 1, "{context}: `{}` must refuse:\n{refused}", args.join(" "));
            assert!(refused.stderr.contains("migraph stamp"), "{context}: the hint names `migraph stamp`:\n{refused}");
        }
        assert_eq!(db.snapshot(), snap, "{context}: a refused run changed the database");

        // The truth is the schema: t_X exists iff X's statement ran.
        let truth = snap.tables.clone();
        history.assert_closed(&truth, context);
        // What README's recipe (`stamp X` if applied, `stamp X-1` if undone)
        // would record, for the report.
        let needs = &history.needs[&x];
        let recipe = if truth.contains(&x) {
            Some(history.closure(&x))
        } else if needs.len() == 1 {
            Some(history.closure(&needs[0]))
        } else {
            None // X-1 is ambiguous (merge point) or base (a root)
        };
        let targets = history.stamp_targets(&truth);
        let mut args = vec!["stamp"];
        args.extend(targets.iter().map(String::as_str));
        mg(d, &db.url, &args).ok_in(&format!("{context}: recovery `stamp` of {} target(s)", targets.len()));
        eprintln!(
            "  marker {x} ({}), t_{x} {}: stamped {} head(s); README's `stamp {x}{}` would have recorded {}",
            marker.direction,
            if truth.contains(&x) { "exists" } else { "absent" },
            targets.len(),
            if truth.contains(&x) { "" } else { "-1" },
            match &recipe {
                Some(set) if *set == truth => "the truth".to_string(),
                Some(set) => format!("{} rows for {} tables (wrong)", set.len(), truth.len()),
                None => "nothing (ambiguous or root)".to_string(),
            }
        );
        let fixed = db.snapshot();
        fixed.assert_in_step(&format!("{context}: after the recovery"));
        assert_eq!(fixed.applied(), truth, "{context}: the recovery recorded something else than the schema");
        let (applied, failed) = status(d, &db.url, context);
        assert!(failed.is_empty(), "{context}: status still shows a failure after the recovery: {failed:?}");
        assert_eq!(applied, truth);
        truth
    } else {
        snap.assert_in_step(context);
        let applied = snap.applied();
        history.assert_closed(&applied, context);
        let (listed, failed) = status(d, &db.url, context);
        assert!(failed.is_empty(), "{context}: status shows a failure: {failed:?}");
        assert_eq!(listed, applied, "{context}: status --json lists other revisions than the version table");
        applied
    }
}

fn kill_loop(kind: Kind) {
    let started = Instant::now();
    let (n, kills) = (revisions(), kills());
    let seed = seed(&format!("{kind:?} kills"));
    let mut rng = Rng(seed);
    let history = History::new(n, seed);
    let db = Db::new(kind);
    let d = history.path();
    let url = db.url.as_str();

    // Measure once: a full upgrade, a no-op run (start-up), a full downgrade.
    let t = Instant::now();
    mg(d, url, &["upgrade", "heads", "-q"]).ok_in("measuring upgrade");
    let full_up = t.elapsed();
    assert_eq!(db.snapshot().applied(), history.ids);
    let t = Instant::now();
    mg(d, url, &["upgrade", "heads", "-q"]).ok_in("measuring a no-op run");
    let startup = t.elapsed();
    let t = Instant::now();
    mg(d, url, &["downgrade", "base", "-q"]).ok_in("measuring downgrade");
    let full_down = t.elapsed();
    db.snapshot().assert_in_step("after the measured downgrade");
    assert!(db.snapshot().rows.is_empty());
    // Per-revision time, refined by every kill: when a run had already
    // finished, the machine is faster than measured (e.g. the measurement
    // ran beside another test); a mid-run kill shows the actual pace.
    let mut per_up = full_up.saturating_sub(startup) / n as u32;
    let mut per_down = full_down.saturating_sub(startup) / n as u32;
    eprintln!(
        "{kind:?}: {n} revisions: upgrade {full_up:?}, downgrade {full_down:?}, no-op run {startup:?} \
         => {per_up:?} up / {per_down:?} down per revision"
    );

    let mut applied = BTreeSet::new();
    let mut landed = 0;
    let mut recoveries = 0;
    for i in 0..kills {
        let up = i % 2 == 0;
        let before = applied.len();
        let remaining = if up { n - before } else { before };
        let per = if up { per_up } else { per_down };
        let permille = rng.range(50, 950);
        let delay = startup + per * remaining as u32 * permille as u32 / 1000;
        let args = if up { ["upgrade", "heads", "-q"] } else { ["downgrade", "base", "-q"] };
        let mut child = migraph_process(d, url)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn migraph");
        std::thread::sleep(delay);
        let finished = child.try_wait().expect("try_wait").is_some();
        let _ = child.kill();
        let exit = child.wait().expect("reap migraph");
        let context = format!("kill {}/{kills} during `{}` after {delay:?} (seed {seed})", i + 1, args[..2].join(" "));
        applied = after_kill(&db, &history, &context, &mut recoveries);
        let after = applied.len();
        let mid = if up { before < after && after < n } else { 0 < after && after < before };
        landed += usize::from(mid);
        let estimate = if up { &mut per_up } else { &mut per_down };
        let done = before.abs_diff(after) as u32;
        if finished {
            *estimate /= 2;
        } else if mid && done > 0 {
            *estimate = (*estimate + delay.saturating_sub(startup) / done) / 2;
        }
        eprintln!(
            "{context}: {before} -> {after} of {n} applied ({exit}{}){}",
            if finished { ", had already exited" } else { "" },
            if mid { ", mid-run" } else { "" }
        );
    }
    eprintln!("{kind:?}: {landed} of {kills} kills landed mid-run; {recoveries} marker recoveries");
    assert!(2 * landed >= kills, "only {landed} of {kills} kills landed mid-run (seed {seed})");

    let ran = mg(d, url, &["upgrade", "heads"]).ok_in("the rerun after the last kill");
    assert!(!ran.stderr.contains("skip"), "{ran}");
    let snap = db.snapshot();
    snap.assert_in_step("after the final upgrade");
    assert_eq!(snap.applied(), history.ids, "the final upgrade applies every revision");
    let (listed, failed) = status(d, url, "after the final upgrade");
    assert_eq!(listed, history.ids);
    assert!(failed.is_empty());
    eprintln!("{kind:?} kills: done in {:?}", started.elapsed());
}

#[test]
#[cfg_attr(not(feature = "sqlite"), ignore = "needs the sqlite feature")]
fn sqlite_sigkill_during_upgrade_and_downgrade() {
    kill_loop(Kind::Sqlite);
}

common::backend_tests! {
    postgres postgres_sigkill_during_upgrade_and_downgrade => kill_loop(Kind::Postgres),
    mysql mysql_sigkill_with_marker_recovery => kill_loop(Kind::Mysql),
}

// ---------------------------------------------------------------------------
// The documented recovery from a marker, in a history with branches
// ---------------------------------------------------------------------------

/// r0 with two branches, b1 and z1; z1 runs outside a transaction (so it is
/// guarded by a marker on every backend) and fails. `upgrade heads` applies
/// r0, b1, then fails at z1: b1 stays applied. The hint (and `status`) must
/// spell out the stamp for each outcome as the heads of the whole applied
/// state with and without z1 (`stamp b1 z1` / `stamp b1`): `stamp T` sets
/// the state to exactly closure(T), so a recipe naming only z1 or its parent
/// would drop b1's row while t_b1 exists. Following the hint must record the
/// truth, and the next `upgrade heads` must then work.
#[test]
fn sqlite_documented_marker_recovery_keeps_other_branches() {
    for finished_by_hand in [false, true] {
        let db = Db::new(Kind::Sqlite);
        let dir = project();
        let d = dir.path();
        let ddl = |id: &str| format!("CREATE TABLE t_{id} (id INTEGER);");
        let drop = |id: &str| format!("DROP TABLE t_{id};");
        write_revision(d, "r0", "", &ddl("r0"), Some(&drop("r0")), "");
        write_revision(d, "b1", "r0", &ddl("b1"), Some(&drop("b1")), "");
        let broken = format!("{}\nCREATE TABLE broken (;", if finished_by_hand { ddl("z1") } else { String::new() });
        write_revision(d, "z1", "r0", &broken, Some(&drop("z1")), "-- transaction: false");

        let failed = mg(d, &db.url, &["upgrade", "heads"]);
        assert_eq!(failed.code, 1, "{failed}");
        let refused = mg(d, &db.url, &["upgrade", "heads"]);
        assert_eq!(refused.code, 1, "{refused}");
        // Fix the file. Finished by hand, the schema now matches z1 fully
        // applied; otherwise z1 left nothing. The hint spells out one
        // `migraph stamp ...` command for each case, in that order.
        write_revision(d, "z1", "r0", &ddl("z1"), Some(&drop("z1")), "-- transaction: false");
        let commands: Vec<&str> =
            refused.stderr.split("run `migraph stamp ").skip(1).filter_map(|rest| rest.split('`').next()).collect();
        assert_eq!(commands.len(), 2, "{refused}");
        assert_eq!(commands, ["b1 z1", "b1"], "the stamp targets are the applied heads with and without z1");
        let (recipe, truth) = if finished_by_hand {
            (commands[0], ["b1", "r0", "z1"].map(String::from).to_vec())
        } else {
            (commands[1], ["b1", "r0"].map(String::from).to_vec())
        };
        let status = mg(d, &db.url, &["status"]);
        assert!(status.stdout.contains(&format!("`migraph stamp {recipe}`")), "{status}");
        let recipe: Vec<&str> = std::iter::once("stamp").chain(recipe.split(' ')).collect();
        mg(d, &db.url, &recipe).ok_in("the documented recovery");
        let snap = db.snapshot();
        let context = format!("after `migraph {}`", recipe.join(" "));
        assert_eq!(snap.tables, truth.iter().cloned().collect(), "{context}: the schema");
        snap.assert_in_step(&context);
        mg(d, &db.url, &["upgrade", "heads"]).ok_in(&format!("{context}: upgrade heads"));
        db.snapshot().assert_in_step("after the final upgrade");
    }
}
