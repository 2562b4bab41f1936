//! Benchmark: a no-op `migraph upgrade heads` (every revision applied)
//! against a no-op `dbmate up`, on SQLite and PostgreSQL, at N = 1,000 and
//! 10,000 revisions.
//!
//! ```text
//! cargo bench --bench noop
//! MIGRAPH_BENCH_SIZES=1000 cargo bench --bench noop
//! ```
//!
//! Both tools get the same SQL: a synthetic team history (see
//! `examples/synth/mod.rs`) for migraph, and the same revisions in
//! migraph's topological order as dbmate's `NNNNNNNN_<id>.sql` files. Each
//! database is brought up to date first, then each no-op command runs: wall
//! time of the whole process, best of 5 runs after one warm-up. migraph runs
//! with its header cache warm (its own cache directory in the scratch
//! directory; the files are older than the cache's 2 s margin) and, for
//! comparison, with `MIGRAPH_NO_CACHE=1`.
//!
//! dbmate is `$MIGRAPH_TEST_DBMATE`, else
//! `/tmp/migraph-ci-dbmate/node_modules/.bin/dbmate`, else `dbmate` on the
//! PATH (`npm install --prefix /tmp/migraph-ci-dbmate dbmate@2`); without it
//! only migraph is measured. PostgreSQL runs when `MIGRAPH_TEST_POSTGRES_URL`
//! is set and the binary has the `postgres` feature (two databases
//! `migraph_noop_bench_*` are created on that server and dropped after).
//!
//! Without `--bench` (`cargo test --benches`) it runs a smoke test: N = 200,
//! one timed run. Exits non-zero if a command fails.

mod support;
#[path = "../examples/synth/mod.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{failure, fmt_duration};

const MIGRAPH: &str = env!("CARGO_BIN_EXE_migraph");
const SEED: u64 = 42;

/// Removes the scratch directory however `main` ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Databases to drop however `main` ends.
struct Databases(Vec<String>);

impl Drop for Databases {
    fn drop(&mut self) {
        for url in &self.0 {
            let _ = Command::new(MIGRAPH)
                .args(["database", "drop", "--yes", "-q", "--database-url", url])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

fn dbmate() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("MIGRAPH_TEST_DBMATE").map(PathBuf::from),
        Some(PathBuf::from("/tmp/migraph-ci-dbmate/node_modules/.bin/dbmate")),
        Some(PathBuf::from("dbmate")),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
    })
}

/// Runs `cmd`; its stderr on failure.
fn run(mut cmd: Command) -> Result<(), String> {
    let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(failure(&out.status, &out.stderr))
    }
}

/// Best wall time of `runs` runs of `make()`, after one warm-up.
fn best_of(runs: usize, make: &dyn Fn() -> Command) -> Result<Duration, String> {
    run(make())?;
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let started = Instant::now();
        run(make())?;
        best = best.min(started.elapsed());
    }
    Ok(best)
}

/// dbmate's migrations: the revisions of `dir` in migraph's topological
/// order, each file from its `-- migrate:up` line on.
fn dbmate_dir(dir: &Path, out: &Path) -> Result<(), String> {
    let graph = migraph::load(dir).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out).map_err(|e| e.to_string())?;
    for (n, r) in graph.topological().into_iter().enumerate() {
        let text = std::fs::read_to_string(&r.path).map_err(|e| e.to_string())?;
        let at = text.find("-- migrate:up").ok_or_else(|| format!("{}: no up section", r.path.display()))?;
        std::fs::write(out.join(format!("{:08}_{}.sql", n + 1, r.id)), &text[at..]).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

struct Row {
    engine: &'static str,
    n: usize,
    dbmate: Option<Duration>,
    warm: Duration,
    cold: Duration,
}

fn main() -> ExitCode {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let runs = if bench_mode { 5 } else { 1 };
    let sizes: Vec<usize> = match std::env::var("MIGRAPH_BENCH_SIZES") {
        Ok(list) => match list.split(',').map(|s| s.trim().replace('_', "").parse()).collect::<Result<Vec<_>, _>>() {
            Ok(sizes) => sizes,
            Err(_) => {
                eprintln!("MIGRAPH_BENCH_SIZES must be a comma-separated list of sizes, got {list:?}");
                return ExitCode::from(2);
            }
        },
        Err(_) if bench_mode => vec![1_000, 10_000],
        Err(_) => vec![200],
    };
    let dbmate = dbmate();
    if dbmate.is_none() {
        eprintln!("note: dbmate not found (npm install --prefix /tmp/migraph-ci-dbmate dbmate@2): migraph only");
    }
    let postgres = std::env::var("MIGRAPH_TEST_POSTGRES_URL").ok().filter(|u| !u.is_empty());
    let postgres = match (postgres, cfg!(feature = "postgres")) {
        (Some(url), true) => Some(url),
        (None, _) => {
            eprintln!("note: MIGRAPH_TEST_POSTGRES_URL is not set: SQLite only");
            None
        }
        (Some(_), false) => {
            eprintln!("note: built without the `postgres` feature (--features postgres): SQLite only");
            None
        }
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let scratch = Scratch(std::env::temp_dir().join(format!("migraph-noop-bench-{}-{nanos}", std::process::id())));
    let cache = scratch.0.join("cache");
    std::fs::create_dir_all(&cache).expect("creating the benchmark's scratch directory");
    let mut databases = Databases(Vec::new());
    let mut rows = Vec::new();
    println!("migraph: {MIGRAPH}");
    if let Some(dbmate) = &dbmate {
        println!("dbmate: {}", dbmate.display());
    }
    for &n in &sizes {
        let dir = scratch.0.join(format!("n{n}"));
        let ddir = scratch.0.join(format!("dbmate{n}"));
        let generated = Instant::now();
        if let Err(e) = synth::generate(&dir, n, SEED).map_err(|e| e.to_string()).and_then(|_| dbmate_dir(&dir, &ddir))
        {
            eprintln!("error: generating N = {n}: {e}");
            return ExitCode::from(1);
        }
        let mut engines: Vec<(&'static str, String, String)> = vec![(
            "SQLite",
            format!("sqlite://{}", scratch.0.join(format!("m{n}.db")).display()),
            format!("sqlite:{}", scratch.0.join(format!("d{n}.db")).display()),
        )];
        if let Some(url) = &postgres {
            let name = |tool: &str| format!("migraph_noop_bench_{}_{tool}_{n}", std::process::id());
            let (m, d) = (with_database(url, &name("m")), with_database(url, &name("d")));
            for url in [&m, &d] {
                let mut create = Command::new(MIGRAPH);
                create.args(["database", "create", "-q", "--database-url", url]);
                if let Err(e) = run(create) {
                    eprintln!("error: creating {}: {e}", migraph::backend::redact(url));
                    return ExitCode::from(1);
                }
                databases.0.push(url.clone());
            }
            let d = if d.contains('?') { d } else { format!("{d}?sslmode=disable") };
            engines.push(("PostgreSQL", m, d));
        }
        let migraph = |url: &str, cached: bool| {
            let (dir, url, cache) = (dir.clone(), url.to_string(), cache.clone());
            move || {
                let mut cmd = Command::new(MIGRAPH);
                cmd.arg("--revisions").arg(&dir).args(["--database-url", &url, "upgrade", "heads", "-q"]);
                cmd.env("MIGRAPH_CACHE_DIR", &cache).env_remove("MIGRAPH_CACHE_RACY_SECONDS");
                if cached {
                    cmd.env_remove("MIGRAPH_NO_CACHE");
                } else {
                    cmd.env("MIGRAPH_NO_CACHE", "1");
                }
                cmd
            }
        };
        let dbmate_up = |url: &str| {
            let (dbmate, ddir, url) = (dbmate.clone(), ddir.clone(), url.to_string());
            move || {
                let mut cmd = Command::new(dbmate.as_ref().expect("dbmate"));
                cmd.args(["--no-dump-schema", "--url", &url, "--migrations-dir"]).arg(&ddir).arg("up");
                cmd
            }
        };
        for (engine, murl, durl) in engines {
            let started = Instant::now();
            if let Err(e) = run(migraph(&murl, false)()) {
                eprintln!("error: migraph upgrade heads on {engine}, N = {n}: {e}");
                return ExitCode::from(1);
            }
            if let Err(e) = support::expect_rows(&murl, n) {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
            let applied_m = started.elapsed();
            let started = Instant::now();
            if dbmate.is_some() {
                if let Err(e) = run(dbmate_up(&durl)()) {
                    eprintln!("error: dbmate up on {engine}, N = {n}: {e}");
                    return ExitCode::from(1);
                }
            }
            eprintln!(
                "{engine}, N = {n}: applied by migraph in {}, by dbmate in {}",
                fmt_duration(applied_m),
                fmt_duration(started.elapsed())
            );
            // Files written less than the cache's margin ago are read every time.
            std::thread::sleep(Duration::from_millis(2_100).saturating_sub(generated.elapsed()));
            let measured = (|| -> Result<Row, String> {
                let dbmate = match dbmate.is_some() {
                    true => Some(best_of(runs, &dbmate_up(&durl))?),
                    false => None,
                };
                let warm = best_of(runs, &migraph(&murl, true))?;
                let cold = best_of(runs, &migraph(&murl, false))?;
                Ok(Row { engine, n, dbmate, warm, cold })
            })();
            match measured {
                Ok(row) => rows.push(row),
                Err(e) => {
                    eprintln!("error: a no-op run failed on {engine}, N = {n}: {e}");
                    return ExitCode::from(1);
                }
            }
        }
    }
    println!("wall time of whole no-op processes, best of {runs} run(s) after 1 warm-up");
    println!();
    println!("| engine | N | dbmate up | migraph upgrade heads | migraph/dbmate | migraph, MIGRAPH_NO_CACHE=1 |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        let (dbmate, ratio) = match r.dbmate {
            Some(d) => (fmt_duration(d), format!("{:.2}x", r.warm.as_secs_f64() / d.as_secs_f64())),
            None => ("-".into(), "-".into()),
        };
        println!(
            "| {} | {} | {dbmate} | {} | {ratio} | {} |",
            r.engine,
            r.n,
            fmt_duration(r.warm),
            fmt_duration(r.cold)
        );
    }
    ExitCode::SUCCESS
}
