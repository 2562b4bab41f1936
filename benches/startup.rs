//! Benchmark: process start-up. How long a whole `migraph` process takes for
//! commands that do almost nothing, against diesel_cli and sqlx-cli doing
//! the same, and how many shared libraries each binary loads.
//!
//! ```text
//! cargo bench --bench startup                              # the SQLite-only build
//! cargo bench --features postgres,mysql --bench startup    # libpq, libmariadb linked dynamically
//! cargo bench --features bundled --bench startup           # both compiled in (cmake, C++)
//! MIGRAPH_BENCH_MIGRAPH=dynamic=/path/migraph,bundled=/other/migraph \
//! MIGRAPH_BENCH_DIESEL=/path/diesel MIGRAPH_BENCH_SQLX=/path/sqlx \
//!     cargo bench --bench startup                          # more builds, and the peers
//! ```
//!
//! Commands, every one in a scratch directory with `DATABASE_URL` unset,
//! output discarded:
//!
//! - every binary: `--version`;
//! - migraph: `heads` of a linear history of 12 revisions (reads the files
//!   only), and `list` of the same 12 revisions applied to a SQLite file;
//! - diesel_cli (`MIGRAPH_BENCH_DIESEL`): `migration list` of 12 applied
//!   migrations in a SQLite file (`--database-url`, `--migration-dir`);
//! - sqlx-cli (`MIGRAPH_BENCH_SQLX`): `migrate info` of the same;
//! - `/bin/true` as the floor (what spawning a process costs here).
//!
//! The 12 migrations hold the same SQL for every tool (`CREATE TABLE tNN`),
//! applied by each tool (untimed) before the clock starts. Each command runs
//! once untimed (its exit status and output checked), then
//! `MIGRAPH_BENCH_STARTUP_RUNS` times (default 200; 3 without `--bench`,
//! e.g. under `cargo test --benches`), all commands alternating run by run.
//! Printed: best, median and mean wall time of the whole process (spawn to
//! exit), `ldd | wc -l` of the binary (its lines count the vDSO and the
//! loader too) and its size. `MIGRAPH_BENCH_MIGRAPH` adds other migraph
//! builds (`label=path`, comma-separated). A peer whose variable is unset
//! or names no file is reported as skipped (CI builds no peers: they take
//! minutes to compile). Exits non-zero when a command fails or prints the
//! wrong thing.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use support::{failure, fmt_duration};

/// Migrations in every tool's history.
const REVISIONS: usize = 12;

#[derive(Clone, Copy)]
enum Kind {
    Migraph,
    Diesel,
    Sqlx,
    Floor,
}

struct Tool {
    label: String,
    kind: Kind,
    bin: PathBuf,
}

struct Case {
    tool: usize,
    command: &'static str,
    args: Vec<String>,
    /// A substring the command's stdout must hold (checked on the untimed run).
    expect: &'static str,
    times: Vec<Duration>,
}

fn up_sql(i: usize) -> String {
    format!("CREATE TABLE t{i:02} (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n")
}

fn down_sql(i: usize) -> String {
    format!("DROP TABLE t{i:02};\n")
}

/// The same 12 migrations in each tool's layout, under `dir`.
fn write_histories(dir: &Path) -> std::io::Result<()> {
    let migraph = dir.join("revisions");
    let diesel = dir.join("diesel_migrations");
    let sqlx = dir.join("sqlx_migrations");
    for d in [&migraph, &diesel, &sqlx] {
        std::fs::create_dir_all(d)?;
    }
    for i in 1..=REVISIONS {
        let id = format!("{:012x}", 0xbe00_0000_0000_u64 + i as u64);
        let parents = if i == 1 { String::new() } else { format!("{:012x}", 0xbe00_0000_0000_u64 + i as u64 - 1) };
        let text = format!(
            "-- id: {id}\n-- parents: {parents}\n-- message: create t{i:02}\n-- created: 2026-11-30T00:{i:02}:00Z\n\n\
             -- migrate:up\n{}\n-- migrate:down\n{}",
            up_sql(i),
            down_sql(i)
        );
        std::fs::write(migraph.join(format!("{id}_create_t{i:02}.sql")), text)?;
        let d = diesel.join(format!("2026-11-30-0000{i:02}_create_t{i:02}"));
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("up.sql"), up_sql(i))?;
        std::fs::write(d.join("down.sql"), down_sql(i))?;
        std::fs::write(sqlx.join(format!("2026113000{i:04}_create_t{i:02}.up.sql")), up_sql(i))?;
        std::fs::write(sqlx.join(format!("2026113000{i:04}_create_t{i:02}.down.sql")), down_sql(i))?;
    }
    Ok(())
}

fn command(bin: &Path, args: &[String], dir: &Path) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args).current_dir(dir).env_remove("DATABASE_URL");
    cmd
}

/// Runs a command untimed; its stdout, or why it failed.
fn run(bin: &Path, args: &[String], dir: &Path) -> Result<String, String> {
    let out = command(bin, args, dir).stdin(Stdio::null()).output().map_err(|e| format!("{}: {e}", bin.display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{} {}: {}", bin.display(), args.join(" "), failure(&out.status, &out.stderr)))
    }
}

fn timed(bin: &Path, args: &[String], dir: &Path) -> Result<Duration, String> {
    let start = Instant::now();
    let status = command(bin, args, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let elapsed = start.elapsed();
    if status.success() {
        Ok(elapsed)
    } else {
        Err(format!("{} {}: {status}", bin.display(), args.join(" ")))
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// Applies the tool's history to its own SQLite file and returns its cases.
fn setup(t: usize, tool: &Tool, dir: &Path) -> Result<Vec<Case>, String> {
    let case = |command, args: Vec<String>, expect| Case { tool: t, command, args, expect, times: Vec::new() };
    let mut cases = vec![case("--version", strings(&["--version"]), "")];
    let history = |name: &str| dir.join(name).display().to_string();
    match tool.kind {
        Kind::Floor => cases[0] = case("(spawn only)", Vec::new(), ""),
        Kind::Migraph => {
            let revisions = history("revisions");
            cases.push(case("heads", strings(&["--revisions", &revisions, "heads"]), "create t12"));
            // Tool 0 is this build; other builds are assumed to have SQLite.
            if cfg!(feature = "sqlite") || t > 0 {
                let db = format!("sqlite://{}", dir.join(format!("migraph_{t}.db")).display());
                let base = strings(&["--database-url", &db, "--revisions", &revisions]);
                run(&tool.bin, &[base.clone(), strings(&["upgrade", "heads", "-q"])].concat(), dir)?;
                cases.push(case("list (SQLite)", [base, strings(&["list"])].concat(), "create t12"));
            }
        }
        Kind::Diesel => {
            let db = dir.join("diesel.db").display().to_string();
            let base = strings(&["--database-url", &db, "--migration-dir", &history("diesel_migrations")]);
            run(&tool.bin, &[strings(&["migration", "run"]), base.clone()].concat(), dir)?;
            cases.push(case("migration list (SQLite)", [strings(&["migration", "list"]), base].concat(), "t12"));
        }
        Kind::Sqlx => {
            let url = format!("sqlite:{}", dir.join("sqlx.db").display());
            run(&tool.bin, &strings(&["database", "create", "--database-url", &url]), dir)?;
            let base = strings(&["--source", &history("sqlx_migrations"), "--database-url", &url]);
            run(&tool.bin, &[strings(&["migrate", "run"]), base.clone()].concat(), dir)?;
            cases.push(case("migrate info (SQLite)", [strings(&["migrate", "info"]), base].concat(), "t12"));
        }
    }
    Ok(cases)
}

/// `ldd BIN | wc -l`, or "-" when ldd is missing or the binary is static.
fn ldd_lines(bin: &Path) -> String {
    match Command::new("ldd").arg(bin).stderr(Stdio::null()).output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).lines().count().to_string(),
        _ => "-".to_string(),
    }
}

fn size_mb(bin: &Path) -> String {
    std::fs::metadata(bin).map_or("-".to_string(), |m| format!("{:.1}", m.len() as f64 / 1e6))
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn this_build() -> String {
    let mut features = Vec::new();
    if cfg!(feature = "sqlite") {
        features.push("sqlite");
    }
    if cfg!(feature = "bundled-postgres") {
        features.push("bundled-postgres");
    } else if cfg!(feature = "postgres") {
        features.push("postgres");
    }
    if cfg!(feature = "bundled-mysql") {
        features.push("bundled-mysql");
    } else if cfg!(feature = "mysql") {
        features.push("mysql");
    }
    format!("migraph ({})", features.join(", "))
}

fn peer(var: &str, label: &str, kind: Kind, tools: &mut Vec<Tool>) {
    match std::env::var_os(var).map(PathBuf::from) {
        Some(bin) if bin.is_file() => tools.push(Tool { label: label.to_string(), kind, bin }),
        Some(bin) => eprintln!("{label}: skipped ({var}={} is not a file)", bin.display()),
        None => eprintln!("{label}: skipped (set {var} to its binary)"),
    }
}

fn main() -> ExitCode {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let runs = match std::env::var("MIGRAPH_BENCH_STARTUP_RUNS") {
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                eprintln!("MIGRAPH_BENCH_STARTUP_RUNS must be a number > 0, got {text:?}");
                return ExitCode::from(2);
            }
        },
        Err(_) if bench_mode => 200,
        Err(_) => 3,
    };
    let mut tools = vec![Tool { label: this_build(), kind: Kind::Migraph, bin: env!("CARGO_BIN_EXE_migraph").into() }];
    if let Ok(list) = std::env::var("MIGRAPH_BENCH_MIGRAPH") {
        for item in list.split(',').filter(|s| !s.trim().is_empty()) {
            let Some((label, path)) = item.split_once('=') else {
                eprintln!("MIGRAPH_BENCH_MIGRAPH: expected label=path, got {item:?}");
                return ExitCode::from(2);
            };
            tools.push(Tool {
                label: format!("migraph ({})", label.trim()),
                kind: Kind::Migraph,
                bin: path.trim().into(),
            });
        }
    }
    peer("MIGRAPH_BENCH_DIESEL", "diesel_cli", Kind::Diesel, &mut tools);
    peer("MIGRAPH_BENCH_SQLX", "sqlx-cli", Kind::Sqlx, &mut tools);
    if Path::new("/bin/true").is_file() {
        tools.push(Tool { label: "/bin/true".to_string(), kind: Kind::Floor, bin: "/bin/true".into() });
    }

    let scratch = match tempfile::Builder::new().prefix("migraph-bench-startup-").tempdir() {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: creating a scratch directory: {e}");
            return ExitCode::from(1);
        }
    };
    let dir = scratch.path();
    if let Err(e) = write_histories(dir) {
        eprintln!("error: writing the migrations: {e}");
        return ExitCode::from(1);
    }
    let mut failed = false;
    let mut cases = Vec::new();
    for (t, tool) in tools.iter().enumerate() {
        match setup(t, tool, dir) {
            Ok(found) => cases.extend(found),
            Err(e) => {
                eprintln!("error: {}: {e}", tool.label);
                failed = true;
            }
        }
    }
    // One untimed run each, checking what it prints.
    cases.retain(|c| {
        let tool = &tools[c.tool];
        match run(&tool.bin, &c.args, dir) {
            Ok(out) if out.contains(c.expect) => true,
            Ok(out) => {
                eprintln!("error: {} {}: expected {:?} in its output, got {:?}", tool.label, c.command, c.expect, out);
                failed = true;
                false
            }
            Err(e) => {
                eprintln!("error: {}: {e}", tool.label);
                failed = true;
                false
            }
        }
    });
    let start = Instant::now();
    for round in 0..runs {
        // Alternate which command goes first, so none always follows another.
        let n = cases.len();
        for k in 0..n {
            let c = &mut cases[(round + k) % n];
            let tool = &tools[c.tool];
            match timed(&tool.bin, &c.args, dir) {
                Ok(d) => c.times.push(d),
                Err(e) => {
                    eprintln!("error: {}: {e}", tool.label);
                    return ExitCode::from(1);
                }
            }
        }
    }
    eprintln!("{} runs of {} commands in {}", runs, cases.len(), fmt_duration(start.elapsed()));

    println!("wall time of whole processes (spawn to exit), ms; {runs} runs each, commands alternating");
    println!();
    println!("| binary | command | best | median | mean | `ldd` lines | size (MB) |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for c in &mut cases {
        let tool = &tools[c.tool];
        c.times.sort();
        let mean = c.times.iter().sum::<Duration>() / c.times.len() as u32;
        println!(
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            tool.label,
            c.command,
            ms(c.times[0]),
            ms(c.times[c.times.len() / 2]),
            ms(mean),
            ldd_lines(&tool.bin),
            size_mb(&tool.bin)
        );
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
