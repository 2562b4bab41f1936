//! Benchmark: executing plans. `migraph upgrade heads` of a synthetic team
//! history (see `examples/synth/mod.rs`; every revision's up section is one
//! `CREATE TABLE`) into a fresh database, side by side with the floor of
//! running the same statements with the database's own shell, plus the
//! no-op commands on a database where every revision is applied.
//!
//! ```text
//! cargo bench --bench execute
//! MIGRAPH_BENCH_EXEC_SIZES=1000,10000 cargo bench --bench execute
//! MIGRAPH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo bench --features postgres --bench execute
//! ```
//!
//! What is measured, at each N of `MIGRAPH_BENCH_EXEC_SIZES` (default 1,000
//! and 10,000):
//!
//! 1. SQLite: `migraph --revisions DIR --database-url sqlite://FILE upgrade
//!    heads -q` into a fresh file, against `sqlite3 -bail FILE < script`
//!    where the script is what `migraph upgrade heads --sql` prints for
//!    SQLite (generated once, untimed): the version table's `CREATE TABLE`,
//!    then per revision, in the same order, `BEGIN IMMEDIATE; <up SQL>;
//!    INSERT INTO main."migraph_revisions" (...) VALUES (<literals>); COMMIT;`.
//!    That is the work migraph does per revision, minus what only migraph
//!    does: reading and parsing the files, planning, its run lock (on the
//!    database's directory) and the re-check `SELECT COUNT(*)` inside each
//!    transaction.
//! 2. No-op: on the database migraph just upgraded, `upgrade heads -q`,
//!    `status` and `current`.
//! 3. PostgreSQL, only when `MIGRAPH_TEST_POSTGRES_URL` is set (an admin
//!    URL; the bench creates and drops `migraph_bench_<pid>` for migraph and
//!    `migraph_bench_<pid>_psql` for the floor on that server, so migraph and
//!    this bench need `--features postgres`): the upgrade of
//!    each N into a fresh database against `psql -X -q -v ON_ERROR_STOP=1
//!    -f script.sql`, the script being `migraph upgrade heads --sql` for
//!    PostgreSQL (`BEGIN; <up SQL>; INSERT ...; COMMIT;` per revision).
//!
//! Every figure is the wall time of a whole process, best of 3 runs after
//! one warm-up. Runs of the commands compared with each other alternate
//! (floor, migraph, floor, migraph, ...), so slow drift of the disk's fsync
//! latency hits both alike. Each upgrade run (warm-up included) gets a fresh
//! database, made before the clock starts: the SQLite file is deleted, the
//! PostgreSQL database dropped and created again. After the runs the
//! version table of both databases is checked to hold N rows.
//!
//! Exits non-zero if a migraph command fails (or applies the wrong number of
//! revisions), if a floor command fails, or if PostgreSQL was asked for and
//! cannot be used.
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a quick smoke test:
//! N = 1,000 (unless `MIGRAPH_BENCH_EXEC_SIZES` is set) and a single timed run.

mod support;
#[path = "../examples/synth/mod.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{expect_rows, failure, fmt_duration};

use migraph::backend::{AnyConnection, Backend};

const MIGRAPH: &str = env!("CARGO_BIN_EXE_migraph");
const DEFAULT_SIZES: [usize; 2] = [1_000, 10_000];
/// The history size of the PostgreSQL comparison.
const POSTGRES_VAR: &str = "MIGRAPH_TEST_POSTGRES_URL";
const SEED: u64 = 42;
/// The version table (migraph's default).
const TABLE: &str = "migraph_revisions";
/// Targets from the issue: an upgrade within 1.2× of its floor, a no-op
/// upgrade under 100 ms.
const MAX_RATIO: f64 = 1.2;
const NOOP_LIMIT: Duration = Duration::from_millis(100);

/// Best wall time, or why the command failed.
type Measured = Result<Duration, String>;

/// A command to time, with what must happen (untimed) before each run.
struct Job<'a> {
    /// Untimed, before every run (the warm-up included): e.g. a fresh database.
    prepare: Box<dyn Fn() -> Result<(), String> + 'a>,
    command: Box<dyn Fn() -> Command + 'a>,
    /// A file for the command's stdin (else /dev/null).
    stdin: Option<PathBuf>,
}

impl Job<'_> {
    /// Prepares and runs the command once (stdout to /dev/null); its wall
    /// time, or its exit status and the start of its stderr.
    fn once(&self, cwd: &Path) -> Measured {
        (self.prepare)()?;
        let mut cmd = (self.command)();
        let stdin = match &self.stdin {
            Some(path) => {
                Stdio::from(std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?)
            }
            None => Stdio::null(),
        };
        cmd.current_dir(cwd).stdin(stdin).stdout(Stdio::null()).stderr(Stdio::piped());
        let started = Instant::now();
        let output = cmd.output().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
        let elapsed = started.elapsed();
        if output.status.success() {
            Ok(elapsed)
        } else {
            Err(failure(&output.status, &output.stderr))
        }
    }
}

/// One warm-up run of each job, then `runs` rounds that run every job once
/// in turn; the best time of each job. A job that fails is not run again.
fn race(runs: usize, jobs: &[Job<'_>], cwd: &Path) -> Vec<Measured> {
    let mut results: Vec<Measured> = jobs.iter().map(|job| job.once(cwd).map(|_| Duration::MAX)).collect();
    for _ in 0..runs {
        for (job, result) in jobs.iter().zip(results.iter_mut()) {
            if result.is_err() {
                continue;
            }
            match job.once(cwd) {
                Ok(t) => {
                    if let Ok(best) = result {
                        *best = (*best).min(t);
                    }
                }
                Err(e) => *result = Err(e),
            }
        }
    }
    results
}

/// What a row is compared with.
enum Goal {
    /// At most this multiple of the floor.
    Ratio(f64),
    /// Under this wall time.
    Under(Duration),
    None,
}

struct Row {
    what: String,
    n: usize,
    floor: Option<Duration>,
    migraph: Measured,
    goal: Goal,
}

/// Removes the benchmark's scratch directory however `main` ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A PostgreSQL database of the bench, dropped however `main` ends.
struct PgDb {
    admin_url: String,
    name: String,
    url: String,
    /// Whether it may exist (so that dropping it is worth a connection).
    created: std::cell::Cell<bool>,
}

impl PgDb {
    /// `migraph_bench_<pid><suffix>` on the server of `admin_url` (not created yet).
    fn new(admin_url: &str, suffix: &str) -> PgDb {
        let name = format!("migraph_bench_{}{suffix}", std::process::id());
        PgDb {
            admin_url: admin_url.to_string(),
            url: with_database(admin_url, &name),
            name,
            created: std::cell::Cell::new(false),
        }
    }

    fn admin(&self, sql: &str) -> Result<(), String> {
        let mut conn = AnyConnection::connect(&self.admin_url).map_err(|e| format!("{POSTGRES_VAR}: {e}"))?;
        conn.batch(sql).map_err(|e| format!("{sql}: {e}"))
    }

    /// Drops the database if it exists and creates it empty.
    fn recreate(&self) -> Result<(), String> {
        self.admin(&format!("DROP DATABASE IF EXISTS {}", self.name))?;
        self.created.set(true);
        self.admin(&format!("CREATE DATABASE {}", self.name))
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if self.created.get() {
            if let Err(e) = self.admin(&format!("DROP DATABASE IF EXISTS {}", self.name)) {
                eprintln!("warning: cannot drop the bench database: {e}");
            }
        }
    }
}

/// `url` naming database `name` instead (the query string kept).
fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let query = tail.find('?').map_or("", |i| &tail[i..]);
    format!("{scheme}://{authority}/{name}{query}")
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let bench_mode = args.iter().any(|a| a == "--bench");
    let runs = if bench_mode { 3 } else { 1 };

    let mut sizes: Vec<usize> = match std::env::var("MIGRAPH_BENCH_EXEC_SIZES") {
        Ok(list) => {
            match list.split(',').map(|s| s.trim().replace('_', "").parse::<usize>()).collect::<Result<Vec<_>, _>>() {
                Ok(sizes) if !sizes.is_empty() && !sizes.contains(&0) => sizes,
                _ => {
                    eprintln!("MIGRAPH_BENCH_EXEC_SIZES must be a comma-separated list of sizes > 0, got {list:?}");
                    return ExitCode::from(2);
                }
            }
        }
        Err(_) if bench_mode => DEFAULT_SIZES.to_vec(),
        Err(_) => vec![1_000],
    };
    sizes.sort_unstable();
    sizes.dedup();
    let postgres = std::env::var(POSTGRES_VAR).ok().filter(|url| !url.is_empty());

    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let scratch = Scratch(std::env::temp_dir().join(format!("migraph-bench-exec-{}-{nanos}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).expect("creating the benchmark's scratch directory");

    println!("migraph: {MIGRAPH}");
    println!("sqlite3: {}", version("sqlite3", &["--version"]));
    if postgres.is_some() {
        println!("psql: {}", version("psql", &["--version"]));
    }
    println!(
        "wall time of whole processes, best of {runs} run(s) after 1 warm-up; a fresh database for every upgrade run"
    );

    let mut rows = Vec::new();
    // Failures that leave no row (a floor, the server, the --sql script).
    let mut errors = Vec::new();
    for &n in &sizes {
        let dir = scratch.0.join(format!("n{n}"));
        let started = Instant::now();
        let summary = synth::generate(&dir, n, SEED).expect("generating a synthetic history");
        eprintln!("N = {n}: generated in {:.2} s: {summary}", started.elapsed().as_secs_f64());
        match sqlite_rows(n, &dir, &scratch.0, runs) {
            Ok(mut measured) => rows.append(&mut measured),
            Err(e) => errors.push(format!("SQLite, N = {n}: {e}")),
        }
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            eprintln!("warning: removing {}: {e}", dir.display());
        }
    }
    if let Some(admin_url) = &postgres {
        for &n in &sizes {
            let dir = scratch.0.join(format!("pg{n}"));
            let summary = synth::generate(&dir, n, SEED).expect("generating a synthetic history");
            eprintln!("PostgreSQL, N = {n}: {summary}");
            match postgres_row(admin_url, n, &dir, &scratch.0, runs) {
                Ok(row) => rows.push(row),
                Err(e) => errors.push(format!("PostgreSQL, N = {n}: {e}")),
            }
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                eprintln!("warning: removing {}: {e}", dir.display());
            }
        }
    }

    println!();
    println!("| measurement | N | floor | migraph | migraph / floor | per revision over floor | target | met |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |");
    for row in &rows {
        let (time, ratio, extra) = match (&row.migraph, row.floor) {
            (Ok(t), Some(floor)) => {
                let per_rev = (t.as_secs_f64() - floor.as_secs_f64()) / row.n as f64;
                (
                    fmt_duration(*t),
                    format!("{:.2}×", t.as_secs_f64() / floor.as_secs_f64()),
                    format!("{:+.0} µs", per_rev * 1e6),
                )
            }
            (Ok(t), None) => (fmt_duration(*t), "-".to_string(), "-".to_string()),
            (Err(_), _) => ("FAILED".to_string(), "-".to_string(), "-".to_string()),
        };
        let (goal, met) = match (&row.goal, &row.migraph) {
            (Goal::Ratio(max), Ok(t)) => {
                let ok = t.as_secs_f64() <= max * row.floor.map_or(f64::INFINITY, |f| f.as_secs_f64());
                (format!("≤ {max:.1}×"), if ok { "yes" } else { "**no**" })
            }
            (Goal::Under(limit), Ok(t)) => {
                (format!("< {} ms", limit.as_millis()), if t < limit { "yes" } else { "**no**" })
            }
            (Goal::Ratio(max), Err(_)) => (format!("≤ {max:.1}×"), "**no**"),
            (Goal::Under(limit), Err(_)) => (format!("< {} ms", limit.as_millis()), "**no**"),
            (Goal::None, _) => ("-".to_string(), "-"),
        };
        println!(
            "| {} | {} | {} | {time} | {ratio} | {extra} | {goal} | {met} |",
            row.what,
            thousands(row.n),
            row.floor.map_or_else(|| "-".to_string(), fmt_duration),
        );
        if let Err(e) = &row.migraph {
            errors.push(format!("{} at N = {}: migraph failed: {e}", row.what, row.n));
        }
    }
    println!();
    println!(
        "floor: the statements of `migraph upgrade heads --sql` for the dialect (version table, then per revision \
         `BEGIN [IMMEDIATE]; <up SQL>; INSERT INTO <schema>.\"{TABLE}\" ... VALUES (<literals>); COMMIT;`, in migraph's order), \
         run by `sqlite3 -bail FILE < script` or `psql -X -q -v ON_ERROR_STOP=1 -f script`. migraph does the same \
         transactions through Diesel and in addition starts up, reads, parses and checksums the revision files, reads \
         the version table, plans, creates the `{TABLE}_pending` table and takes its run lock (SQLite: a lock on the \
         database's directory, plus a re-check of each revision's row inside its transaction; PostgreSQL: an \
         advisory lock). \"per revision over floor\" is \
         (migraph - floor) / N. No-op rows: the database migraph just upgraded (all N applied), so the command \
         reads the files and the version table, checks checksums and finds nothing to do."
    );
    if postgres.is_none() {
        println!("PostgreSQL: skipped (set {POSTGRES_VAR} and build with --features postgres)");
    }
    drop(scratch);
    for e in &errors {
        eprintln!("error: {e}");
    }
    if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The SQLite rows of size `n`: the upgrade against the `sqlite3` floor,
/// then the no-op commands on the upgraded database. `Err` only when the
/// floor itself cannot be measured.
fn sqlite_rows(n: usize, dir: &Path, scratch: &Path, runs: usize) -> Result<Vec<Row>, String> {
    let script = scratch.join(format!("upgrade-sqlite-{n}.sql"));
    write_script(dir, "sqlite://unused.db", "BEGIN IMMEDIATE;", n, &script)?;
    let floor_db = scratch.join(format!("floor-{n}.db"));
    let migraph_db = scratch.join(format!("migraph-{n}.db"));
    let migraph_url = format!("sqlite://{}", migraph_db.display());

    let floor = Job {
        prepare: Box::new(|| remove_sqlite(&floor_db)),
        command: Box::new(|| {
            let mut cmd = Command::new("sqlite3");
            cmd.arg("-bail").arg(&floor_db);
            cmd
        }),
        stdin: Some(script.clone()),
    };
    let upgrade = Job {
        prepare: Box::new(|| remove_sqlite(&migraph_db)),
        command: Box::new(|| migraph(dir, &migraph_url, &["upgrade", "heads", "-q"])),
        stdin: None,
    };
    eprintln!("N = {n}: SQLite upgrade, sqlite3 floor vs migraph...");
    let mut results = race(runs, &[floor, upgrade], scratch).into_iter();
    let (floor, upgrade) = (results.next().expect("two results"), results.next().expect("two results"));
    let floor = floor.map_err(|e| format!("the sqlite3 floor failed: {e}"))?;
    expect_rows(&format!("sqlite://{}", floor_db.display()), n).map_err(|e| format!("the sqlite3 floor: {e}"))?;
    let upgrade = upgrade.and_then(|t| expect_rows(&migraph_url, n).map(|()| t));
    let upgraded = upgrade.is_ok();
    let mut rows = vec![Row {
        what: "SQLite upgrade, fresh file".into(),
        n,
        floor: Some(floor),
        migraph: upgrade,
        goal: Goal::Ratio(MAX_RATIO),
    }];
    remove_sqlite(&floor_db)?;

    let noop: [(&str, &[&str], Goal); 3] = [
        ("SQLite no-op `upgrade heads -q`", &["upgrade", "heads", "-q"], Goal::Under(NOOP_LIMIT)),
        ("SQLite `status`", &["status"], Goal::None),
        ("SQLite `current`", &["current"], Goal::None),
    ];
    if !upgraded {
        for (what, _, goal) in noop {
            rows.push(Row { what: what.into(), n, floor: None, migraph: Err("the upgrade failed".into()), goal });
        }
        return Ok(rows);
    }
    eprintln!("N = {n}: SQLite no-op commands...");
    let jobs: Vec<Job> = noop
        .iter()
        .map(|(_, args, _)| Job {
            prepare: Box::new(|| Ok(())),
            command: Box::new(|| migraph(dir, &migraph_url, args)),
            stdin: None,
        })
        .collect();
    let results = race(runs, &jobs, scratch);
    drop(jobs);
    for ((what, _, goal), measured) in noop.into_iter().zip(results) {
        rows.push(Row { what: what.into(), n, floor: None, migraph: measured, goal });
    }
    remove_sqlite(&migraph_db)?;
    Ok(rows)
}

/// The PostgreSQL upgrade of `n` revisions against the `psql`
/// floor. `Err` when the floor cannot be measured (or the server used).
fn postgres_row(admin_url: &str, n: usize, dir: &Path, scratch: &Path, runs: usize) -> Result<Row, String> {
    let script = scratch.join(format!("upgrade-postgres-{n}.sql"));
    write_script(dir, admin_url, "BEGIN;", n, &script)?;
    let floor_db = PgDb::new(admin_url, "_psql");
    let migraph_db = PgDb::new(admin_url, "");
    floor_db.recreate()?;
    migraph_db.recreate()?;

    let floor = Job {
        prepare: Box::new(|| floor_db.recreate()),
        command: Box::new(|| {
            let mut cmd = Command::new("psql");
            cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"]).arg(&floor_db.url).arg("-f").arg(&script);
            cmd
        }),
        stdin: None,
    };
    let upgrade = Job {
        prepare: Box::new(|| migraph_db.recreate()),
        command: Box::new(|| migraph(dir, &migraph_db.url, &["upgrade", "heads", "-q"])),
        stdin: None,
    };
    eprintln!("PostgreSQL, N = {n}: upgrade, psql floor vs migraph...");
    let mut results = race(runs, &[floor, upgrade], scratch).into_iter();
    let (floor, upgrade) = (results.next().expect("two results"), results.next().expect("two results"));
    let floor = floor.map_err(|e| format!("the psql floor failed: {e}"))?;
    expect_rows(&floor_db.url, n).map_err(|e| format!("the psql floor: {e}"))?;
    let upgrade = upgrade.and_then(|t| expect_rows(&migraph_db.url, n).map(|()| t));
    Ok(Row {
        what: "PostgreSQL upgrade, fresh database".into(),
        n,
        floor: Some(floor),
        migraph: upgrade,
        goal: Goal::Ratio(MAX_RATIO),
    })
}

/// `migraph --revisions DIR --database-url URL ARGS...`, with nothing from
/// the environment.
fn migraph(dir: &Path, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(MIGRAPH);
    cmd.arg("--revisions").arg(dir).arg("--database-url").arg(url).args(args).env_remove("DATABASE_URL");
    cmd
}

/// Writes the script of `migraph upgrade heads --sql` for `url`'s dialect
/// to `path`, checking that it has one `begin` and one version-row insert
/// per revision.
fn write_script(dir: &Path, url: &str, begin: &str, n: usize, path: &Path) -> Result<(), String> {
    let output = migraph(dir, url, &["upgrade", "heads", "--sql"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run migraph: {e}"))?;
    if !output.status.success() {
        return Err(format!("`migraph upgrade heads --sql` failed: {}", failure(&output.status, &output.stderr)));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let begins = text.lines().filter(|l| *l == begin).count();
    // The version table is qualified (`main."t"`, `"public"."t"`): match the end of the name.
    let inserts = text
        .lines()
        .filter(|l| l.starts_with("INSERT INTO ") && l.contains(&format!(".\"{TABLE}\" (id, parents,")))
        .count();
    if begins != n || inserts != n {
        return Err(format!(
            "the --sql script has {begins} `{begin}` and {inserts} version-row inserts, expected {n} of each"
        ));
    }
    std::fs::write(path, output.stdout).map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Deletes a SQLite database and any journal beside it.
fn remove_sqlite(path: &Path) -> Result<(), String> {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("removing {}: {e}", Path::new(&file).display())),
        }
    }
    Ok(())
}

/// The first line of `program args`' output, or why there is none.
fn version(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).stdin(Stdio::null()).output() {
        Ok(out) if out.status.success() => {
            String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or("").to_string()
        }
        Ok(out) => format!("`{program}` failed: {}", failure(&out.status, &out.stderr)),
        Err(e) => format!("cannot run `{program}`: {e}"),
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> =
        digits.as_bytes().rchunks(3).rev().map(|group| std::str::from_utf8(group).unwrap_or("?")).collect();
    groups.join(",")
}
