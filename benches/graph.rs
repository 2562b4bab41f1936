//! Benchmark: `migraph heads` and `migraph history` on synthetic team
//! histories (see `examples/synth/mod.rs`) of N = 1,000, 10,000 and 100,000
//! revisions, side by side with the floor of reading the same files with
//! `cat` and the floor of `stat`ing them (`find <dir> -name '*.sql' -size +0`,
//! one `stat` per file and nothing read).
//!
//! migraph runs twice per command: "cold", with `MIGRAPH_NO_CACHE=1` (every
//! file read, parsed and hashed), and "warm", with its header cache in the
//! scratch directory, filled by the warm-up run (the bench waits until the
//! files are older than the cache's 2 s margin first, as files of a real
//! project are).
//!
//! ```text
//! cargo bench --bench graph
//! MIGRAPH_BENCH_SIZES=1000,10000 cargo bench --bench graph
//! ```
//!
//! Every figure is the wall time of a whole process (start-up, reading and
//! parsing the files, building the graph, printing to /dev/null), best of 5
//! runs after one warm-up. Peak memory is the maximum resident set size of
//! one extra run of each migraph command (see [`rss`] for how it is read).
//! Exits non-zero if any migraph command fails.
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a quick smoke test:
//! N = 1,000 (unless `MIGRAPH_BENCH_SIZES` is set) and a single timed run.
//!
//! Then `migraph history --graph` on two wide graphs (see [`wide`]): a merge
//! of 10,000 roots, and a 100,001-revision tree with 50,000 heads that keeps
//! 25,000 lanes open (1,000 and 10,001 revisions in the smoke test), with
//! their time, peak RSS and the bytes printed.

mod support;
#[path = "../examples/synth/mod.rs"]
mod synth;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{failure, fmt_duration};

const MIGRAPH: &str = env!("CARGO_BIN_EXE_migraph");
/// First argument that makes this binary act as the peak-RSS helper.
const RSS_HELPER: &str = "--migraph-bench-rss-helper";
const DEFAULT_SIZES: [usize; 3] = [1_000, 10_000, 100_000];
const SEED: u64 = 42;

/// How the `cat` floor reads the files.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Floor {
    /// `sh -c 'cat <dir>/*.sql > /dev/null'`
    Glob,
    /// `sh -c 'find <dir> -name "*.sql" -exec cat {} + > /dev/null'`, used for
    /// every size when the glob exceeds ARG_MAX.
    Find,
}

impl Floor {
    fn command(self, dir: &Path) -> Command {
        let script = match self {
            Floor::Glob => r#"cat "$1"/*.sql > /dev/null"#,
            Floor::Find => r#"find "$1" -name '*.sql' -exec cat {} + > /dev/null"#,
        };
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script).arg("sh").arg(dir);
        cmd
    }
}

/// What one command measured: best wall time and peak RSS in KiB, or why it
/// failed.
type Measured = Result<(Duration, Option<u64>), String>;

struct Row {
    n: usize,
    floor: Duration,
    stat: Duration,
    heads_cold: Measured,
    heads: Measured,
    history: Measured,
}

/// Removes the benchmark's scratch directory however `main` ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(RSS_HELPER) {
        return rss::helper(&args[2..]);
    }
    let bench_mode = args.iter().any(|a| a == "--bench");
    let runs = if bench_mode { 5 } else { 1 };

    let mut sizes: Vec<usize> = match std::env::var("MIGRAPH_BENCH_SIZES") {
        Ok(list) => {
            match list.split(',').map(|s| s.trim().replace('_', "").parse::<usize>()).collect::<Result<Vec<_>, _>>() {
                Ok(sizes) if !sizes.is_empty() => sizes,
                _ => {
                    eprintln!("MIGRAPH_BENCH_SIZES must be a comma-separated list of sizes, got {list:?}");
                    return ExitCode::from(2);
                }
            }
        }
        Err(_) if bench_mode => DEFAULT_SIZES.to_vec(),
        Err(_) => vec![1_000],
    };
    // Largest first: if its glob is too long for one `cat` command line, the
    // floor switches to `find` before any size is measured, so all sizes use
    // the same floor. The table is printed in ascending order.
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    sizes.dedup();

    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let scratch = Scratch(std::env::temp_dir().join(format!("migraph-bench-{}-{nanos}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).expect("creating the benchmark's scratch directory");

    println!("migraph: {MIGRAPH}");
    println!(
        "wall time of whole processes, best of {runs} run(s) after 1 warm-up; \
         peak RSS from one extra run of each command"
    );
    let mut floor = Floor::Glob;
    let mut floor_note = None;
    let mut rows = Vec::new();
    for &n in &sizes {
        let dir = scratch.0.join(format!("n{n}"));
        let started = Instant::now();
        let summary = synth::generate(&dir, n, SEED).expect("generating a synthetic history");
        eprintln!("N = {n}: generated in {:.2} s: {summary}", started.elapsed().as_secs_f64());
        let generated = Instant::now();

        if floor == Floor::Glob {
            if let Err(e) = run(floor.command(&dir), &scratch.0) {
                floor = Floor::Find;
                floor_note = Some(format!(
                    "the glob `cat <dir>/*.sql` failed at N = {n} ({}), so the floor is \
                     `find <dir> -name '*.sql' -exec cat {{}} +` for all sizes",
                    e.lines().next().unwrap_or("").trim()
                ));
            }
        }
        let floor_time = match best_of(runs, || floor.command(&dir), &scratch.0) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: the cat floor failed at N = {n}: {e}");
                return ExitCode::from(1);
            }
        };

        let stat_floor = || {
            let mut cmd = Command::new("find");
            cmd.arg(&dir).args(["-name", "*.sql", "-size", "+0"]).stdout(Stdio::null());
            cmd
        };
        let stat = match best_of(runs, stat_floor, &scratch.0) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: the stat floor failed at N = {n}: {e}");
                return ExitCode::from(1);
            }
        };
        // The cache trusts only files older than its margin (2 s).
        std::thread::sleep(Duration::from_millis(2_100).saturating_sub(generated.elapsed()));
        let cache = scratch.0.join(format!("cache{n}"));
        let migraph = |command: &str, cached: bool| {
            let dir = dir.clone();
            let command = command.to_string();
            let cache = cache.clone();
            move || {
                let mut cmd = Command::new(MIGRAPH);
                cmd.arg("--revisions").arg(&dir).arg(&command).env_remove("DATABASE_URL");
                match cached {
                    true => cmd.env("MIGRAPH_CACHE_DIR", &cache).env_remove("MIGRAPH_NO_CACHE"),
                    false => cmd.env("MIGRAPH_NO_CACHE", "1"),
                };
                cmd
            }
        };
        let measure = |command: &str, cached: bool| -> Measured {
            let make = migraph(command, cached);
            let time = best_of(runs, &make, &scratch.0)?;
            let rss = rss::peak_kib(make(), &scratch.0)?;
            Ok((time, rss))
        };
        let heads_cold = measure("heads", false);
        let heads = measure("heads", true);
        let history = measure("history", true);
        rows.push(Row { n, floor: floor_time, stat, heads_cold, heads, history });
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            eprintln!("warning: removing {}: {e}", dir.display());
        }
    }

    println!(
        "floor: {}",
        match floor {
            Floor::Glob => "`sh -c 'cat <dir>/*.sql > /dev/null'`",
            Floor::Find => "`sh -c \"find <dir> -name '*.sql' -exec cat {} + > /dev/null\"`",
        }
    );
    if let Some(note) = floor_note {
        println!("note: {note}");
    }
    println!();
    println!(
        "| N | cat floor | stat floor | heads, cold | heads, warm | history, warm | heads warm / stat | \
         history warm / stat | peak RSS heads cold / warm | peak RSS history warm |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    rows.sort_by_key(|r| r.n);
    let mut failed = false;
    for row in &rows {
        let time = |m: &Measured| match m {
            Ok((t, _)) => fmt_duration(*t),
            Err(_) => "FAILED".to_string(),
        };
        let ratio = |m: &Measured| match m {
            Ok((t, _)) => format!("{:.2}x", t.as_secs_f64() / row.stat.as_secs_f64()),
            Err(_) => "-".to_string(),
        };
        let rss = |m: &Measured| match m {
            Ok((_, Some(kib))) => format!("{:.1} MiB", *kib as f64 / 1024.0),
            Ok((_, None)) => "n/a".to_string(),
            Err(_) => "-".to_string(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} / {} | {} |",
            row.n,
            fmt_duration(row.floor),
            fmt_duration(row.stat),
            time(&row.heads_cold),
            time(&row.heads),
            time(&row.history),
            ratio(&row.heads),
            ratio(&row.history),
            rss(&row.heads_cold),
            rss(&row.heads),
            rss(&row.history),
        );
        for (name, m) in [("heads", &row.heads_cold), ("heads", &row.heads), ("history", &row.history)] {
            if let Err(e) = m {
                failed = true;
                eprintln!("error: `migraph {name}` at N = {}: {e}", row.n);
            }
        }
    }

    // Wide graphs: the drawing is bounded to 40 lanes (stdout is not a terminal).
    println!();
    println!("| `history --graph` on | revisions | time | peak RSS | output |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let (merge, tree) = if bench_mode { (10_000, 25_000) } else { (1_000, 2_500) };
    for (name, shape) in
        [("a merge of N-1 roots", wide::Shape::Merge(merge)), ("a tree with N/2 heads", wide::Shape::Tree(tree))]
    {
        let dir = scratch.0.join("wide");
        let n = match wide::write(&dir, shape) {
            Ok(n) => n,
            Err(e) => {
                eprintln!("error: writing the wide graph ({name}): {e}");
                return ExitCode::from(1);
            }
        };
        // Warm, as in the table above: files past the cache's margin.
        std::thread::sleep(Duration::from_millis(2_100));
        let cache = scratch.0.join("cache-wide");
        let make = || {
            let mut cmd = Command::new(MIGRAPH);
            cmd.arg("--revisions").arg(&dir).args(["history", "--graph"]).env_remove("DATABASE_URL");
            cmd.env("MIGRAPH_CACHE_DIR", &cache).env_remove("MIGRAPH_NO_CACHE");
            cmd
        };
        let measured = best_of(runs, make, &scratch.0).and_then(|t| Ok((t, rss::peak_kib(make(), &scratch.0)?)));
        let bytes = make().current_dir(&scratch.0).stderr(Stdio::null()).output().map(|o| o.stdout.len());
        match (measured, bytes) {
            (Ok((time, rss)), Ok(bytes)) => println!(
                "| {name} | {n} | {} | {} | {:.1} MB |",
                fmt_duration(time),
                rss.map_or("n/a".to_string(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0)),
                bytes as f64 / 1e6
            ),
            (Err(e), _) => {
                failed = true;
                eprintln!("error: `migraph history --graph` on {name}: {e}");
            }
            (_, Err(e)) => {
                failed = true;
                eprintln!("error: `migraph history --graph` on {name}: {e}");
            }
        }
        if let Err(e) = std::fs::remove_dir_all(&dir) {
            eprintln!("warning: removing {}: {e}", dir.display());
        }
    }

    drop(scratch);
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Wide graphs for `history --graph`, as the issue of bounded drawings
/// describes them.
mod wide {
    use std::io::Write as _;
    use std::path::Path;

    pub enum Shape {
        /// One merge of this many roots.
        Merge(usize),
        /// A root `r` with this many children `p`, each with a leaf `a` and a
        /// chain `b` - `c`: the `c`s and `b`s are drawn first and leave one
        /// lane open per `p`.
        Tree(usize),
    }

    fn put(dir: &Path, id: &str, parents: &[&str]) -> std::io::Result<()> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{id}.sql")))?);
        write!(file, "-- id: {id}\n-- parents: {}\n-- message: msg {id}\n", parents.join(" "))?;
        write!(file, "-- migrate:up\nSELECT 1;\n-- migrate:down\n")?;
        file.flush()
    }

    /// Writes `shape` into `dir` (emptied first); how many revisions.
    pub fn write(dir: &Path, shape: Shape) -> std::io::Result<usize> {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir)?;
        match shape {
            Shape::Merge(n) => {
                let ids: Vec<String> = (0..n).map(|i| format!("r{i:06}")).collect();
                for id in &ids {
                    put(dir, id, &[])?;
                }
                put(dir, "merge", &ids.iter().map(String::as_str).collect::<Vec<_>>())?;
                Ok(n + 1)
            }
            Shape::Tree(k) => {
                put(dir, "r", &[])?;
                for i in 0..k {
                    let (p, b) = (format!("p{i:06}"), format!("b{i:06}"));
                    put(dir, &p, &["r"])?;
                    put(dir, &format!("a{i:06}"), &[&p])?;
                    put(dir, &b, &[&p])?;
                    put(dir, &format!("c{i:06}"), &[&b])?;
                }
                Ok(4 * k + 1)
            }
        }
    }
}

/// Runs `cmd` once (stdin and stdout from/to /dev/null) in `cwd`; its
/// wall time, or its exit status and the start of its stderr.
fn run(mut cmd: Command, cwd: &Path) -> Result<Duration, String> {
    cmd.current_dir(cwd).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    let started = Instant::now();
    let output = cmd.output().map_err(|e| format!("cannot run: {e}"))?;
    let elapsed = started.elapsed();
    if output.status.success() {
        Ok(elapsed)
    } else {
        Err(failure(&output.status, &output.stderr))
    }
}

/// One warm-up run, then the best of `runs` timed runs.
fn best_of<F: Fn() -> Command>(runs: usize, make: F, cwd: &Path) -> Result<Duration, String> {
    run(make(), cwd)?;
    let mut best = Duration::MAX;
    for _ in 0..runs {
        best = best.min(run(make(), cwd)?);
    }
    Ok(best)
}

/// Peak resident set size of a child process, without the `libc` crate.
///
/// `getrusage(RUSAGE_CHILDREN)` reports the largest `ru_maxrss` of all
/// children the calling process has waited for, so in this process it would
/// be the maximum over every command run so far (the cat floor, other sizes,
/// ...), not the figure of one command. Therefore each measured command is run
/// under a fresh helper process — this same binary, started with
/// [`RSS_HELPER`] — that spawns the command, waits for it and then calls
/// `getrusage(RUSAGE_CHILDREN)`: its only child is that command, so the value
/// is exactly that command's peak RSS (including any processes it waited for
/// itself). The helper exits with the command's status and prints the figure
/// in KiB on stdout.
mod rss {
    use super::{failure, RSS_HELPER};
    use std::path::Path;
    use std::process::{Command, ExitCode, Stdio};

    /// Runs `cmd` under the helper; its peak RSS in KiB, `None` where the
    /// platform gives none.
    pub fn peak_kib(cmd: Command, cwd: &Path) -> Result<Option<u64>, String> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let mut helper = Command::new(exe);
        helper
            .arg(RSS_HELPER)
            .arg(cmd.get_program())
            .args(cmd.get_args())
            .current_dir(cwd)
            .env_remove("DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // The command's own environment (its cache settings) goes with it.
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => helper.env(key, value),
                None => helper.env_remove(key),
            };
        }
        let output = helper.output().map_err(|e| format!("cannot run the RSS helper: {e}"))?;
        if !output.status.success() {
            return Err(failure(&output.status, &output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().parse().ok())
    }

    /// The helper's `main`: run `args` (stdout to /dev/null), print the peak
    /// RSS of that child in KiB (or `n/a`), exit with its status.
    pub fn helper(args: &[String]) -> ExitCode {
        let Some((program, rest)) = args.split_first() else {
            eprintln!("{RSS_HELPER} needs a command");
            return ExitCode::from(2);
        };
        let status = match Command::new(program).args(rest).stdin(Stdio::null()).stdout(Stdio::null()).status() {
            Ok(status) => status,
            Err(e) => {
                eprintln!("cannot run {program}: {e}");
                return ExitCode::from(1);
            }
        };
        match children_max_rss_kib() {
            Some(kib) => println!("{kib}"),
            None => println!("n/a"),
        }
        if status.success() {
            ExitCode::SUCCESS
        } else {
            eprintln!("{program} exited with {status}");
            ExitCode::from(1)
        }
    }

    /// `struct rusage` as laid out on 64-bit Linux and macOS: two `struct
    /// timeval` (16 bytes each) followed by 14 `long`s, `ru_maxrss` first.
    #[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
    #[repr(C)]
    #[allow(dead_code)] // only ru_maxrss is read
    struct Rusage {
        ru_utime: [i64; 2],
        ru_stime: [i64; 2],
        ru_maxrss: i64,
        rest: [i64; 13],
    }

    #[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
    extern "C" {
        fn getrusage(who: i32, usage: *mut Rusage) -> i32;
    }

    #[cfg(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64"))]
    fn children_max_rss_kib() -> Option<u64> {
        const RUSAGE_CHILDREN: i32 = -1;
        let mut usage = Rusage { ru_utime: [0; 2], ru_stime: [0; 2], ru_maxrss: 0, rest: [0; 13] };
        // SAFETY: `usage` is a writable struct with the C layout of `struct
        // rusage` on this platform, which getrusage fills in.
        if unsafe { getrusage(RUSAGE_CHILDREN, &mut usage) } != 0 {
            return None;
        }
        let maxrss = u64::try_from(usage.ru_maxrss).ok()?;
        // Linux reports KiB, macOS bytes.
        Some(if cfg!(target_os = "macos") { maxrss / 1024 } else { maxrss })
    }

    #[cfg(not(all(any(target_os = "linux", target_os = "macos"), target_pointer_width = "64")))]
    fn children_max_rss_kib() -> Option<u64> {
        None
    }
}
