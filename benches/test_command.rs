//! Benchmark: `migraph test` on the synthetic team history (see
//! `examples/synth/mod.rs`; every revision creates one table and its down
//! section drops it) against the plain round trip of the same history,
//! `migraph upgrade heads` then `migraph downgrade base` on a fresh SQLite
//! file. The issue's target: `migraph test` within 5× of that round trip.
//!
//! ```text
//! cargo bench --bench test_command
//! MIGRAPH_BENCH_TEST_SIZE=300 cargo bench --bench test_command
//! ```
//!
//! `migraph test` does, per revision, three runs (up, down to the heads
//! from before, up again) and three schema snapshots, against the round
//! trip's two runs; it works on a scratch file without fsync, the round trip
//! on a normal file. The synthetic history ends with open branches, so the
//! test runs with `--allow-multiple-heads`. Every figure is the wall time of whole processes, best
//! of 3 runs after one warm-up (one run without `--bench`, e.g. under
//! `cargo test --benches`). Exits non-zero when a command fails; the ratio
//! is printed with whether it meets the target.

mod support;
#[path = "../examples/synth/mod.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{failure, fmt_duration};

const MIGRAPH: &str = env!("CARGO_BIN_EXE_migraph");
const DEFAULT_SIZE: usize = 1_000;
const SEED: u64 = 42;
/// The issue's target: `migraph test` within this multiple of the round trip.
const MAX_RATIO: f64 = 5.0;

/// Removes the benchmark's scratch directory however `main` ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs migraph with `args` on `revisions` and `url`; its wall time.
fn timed(revisions: &Path, url: &str, args: &[&str]) -> Result<Duration, String> {
    let mut cmd = Command::new(MIGRAPH);
    cmd.arg("--revisions").arg(revisions).arg("--database-url").arg(url).args(args);
    cmd.env_remove("DATABASE_URL").stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let started = Instant::now();
    let output = cmd.output().map_err(|e| format!("cannot run {MIGRAPH}: {e}"))?;
    let elapsed = started.elapsed();
    if output.status.success() {
        Ok(elapsed)
    } else {
        Err(format!("migraph {}: {}", args.join(" "), failure(&output.status, &output.stderr)))
    }
}

/// `upgrade heads` then `downgrade base` on a fresh file.
fn round_trip(revisions: &Path, db: &Path) -> Result<Duration, String> {
    let _ = std::fs::remove_file(db);
    let url = format!("sqlite://{}", db.display());
    let up = timed(revisions, &url, &["upgrade", "heads", "-q"])?;
    let down = timed(revisions, &url, &["downgrade", "base", "-q"])?;
    Ok(up + down)
}

fn main() -> ExitCode {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let runs = if bench_mode { 3 } else { 1 };
    let n = match std::env::var("MIGRAPH_BENCH_TEST_SIZE") {
        Ok(text) => match text.trim().replace('_', "").parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("MIGRAPH_BENCH_TEST_SIZE must be a size > 0, got {text:?}");
                return ExitCode::from(2);
            }
        },
        Err(_) => DEFAULT_SIZE,
    };
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let scratch = Scratch(std::env::temp_dir().join(format!("migraph-bench-test-{}-{nanos}", std::process::id())));
    let revisions = scratch.0.join("revisions");
    let summary = match synth::generate(&revisions, n, SEED) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("error: generating a synthetic history: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!("N = {n}: {summary}");
    let db = scratch.0.join("app.db");
    // `test` never opens the configured database; the URL only picks SQLite.
    let unused = format!("sqlite://{}", scratch.0.join("unused.db").display());
    let mut best_trip = Duration::MAX;
    let mut best_test = Duration::MAX;
    // One warm-up, then `runs` alternating rounds.
    for round in 0..=runs {
        let measured = round_trip(&revisions, &db).and_then(|trip| {
            let test = timed(&revisions, &unused, &["test", "-q", "--allow-multiple-heads"])?;
            Ok((trip, test))
        });
        match measured {
            Ok((trip, test)) if round > 0 => {
                best_trip = best_trip.min(trip);
                best_test = best_test.min(test);
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
        }
    }
    let ratio = best_test.as_secs_f64() / best_trip.as_secs_f64();
    println!("wall time of whole processes, best of {runs} run(s) after 1 warm-up; SQLite");
    println!();
    println!("| N | upgrade heads + downgrade base | migraph test | test / round trip | target | met |");
    println!("| ---: | ---: | ---: | ---: | ---: | :---: |");
    println!(
        "| {n} | {} | {} | {ratio:.2}× | ≤ {MAX_RATIO:.1}× | {} |",
        fmt_duration(best_trip),
        fmt_duration(best_test),
        if ratio <= MAX_RATIO { "yes" } else { "**no**" }
    );
    drop(scratch);
    ExitCode::SUCCESS
}
