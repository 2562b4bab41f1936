//! Benchmark: round trips on a (simulated) real network. PostgreSQL and
//! MariaDB are reached through a small delaying TCP proxy on loopback, run
//! by this bench in-process, that holds every chunk it forwards for 1 ms in
//! each direction (so a round trip costs 2 ms more than on loopback, as on a
//! LAN or between availability zones).
//!
//! ```text
//! MIGRAPH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//! MIGRAPH_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/test \
//!     cargo bench --features postgres,mysql --bench network
//! ```
//!
//! What is measured (every figure the wall time of whole processes, best of
//! `MIGRAPH_BENCH_NET_RUNS` runs, default 2, runs of compared commands
//! alternating; each run gets fresh databases, made before the clock starts,
//! directly, not through the proxy):
//!
//! 1. PostgreSQL (`MIGRAPH_TEST_POSTGRES_URL`, an admin URL; bench and
//!    migraph built with `--features postgres`): `migraph upgrade heads -q`
//!    of `MIGRAPH_BENCH_NET_REVISIONS` (default 1,000) synthetic revisions
//!    (`examples/synth`) into a fresh database through the proxy, against
//!    `psql -X -q -v ON_ERROR_STOP=1 -f script` through the same proxy, the
//!    script being what `migraph upgrade heads --sql` prints (made once,
//!    untimed). Goal: migraph ≤ 1.0× the floor.
//! 2. MariaDB/MySQL (`MIGRAPH_TEST_MYSQL_URL`, `--features mysql`): the same
//!    with `mysql --batch DB < script`.
//! 3. PostgreSQL, many databases: `MIGRAPH_BENCH_NET_DATABASES` (default 50)
//!    fresh databases × `MIGRAPH_BENCH_NET_DB_REVISIONS` (default 100)
//!    revisions, `migraph upgrade heads -q --each-database FILE --jobs
//!    MIGRAPH_BENCH_NET_JOBS` (default 4) against a sequential `sh` loop of
//!    `migraph upgrade heads -q`, one per database, all through the proxy.
//!    Goal: `--jobs` ≥ 3× faster than the loop. A third command shows what
//!    the server allows: the `--sql` script of those revisions run by
//!    `psql -f` into `--jobs` databases at once (`xargs -P`), straight to
//!    the server, not through the proxy (no network cost at all); the
//!    loop's time over this one bounds what any parallel run can gain.
//!
//! The proxy counts what the client sends: "client flights" are the chunks
//! it reads from clients (one per write that found the proxy waiting, so
//! about one per round trip the client waits for), printed per revision.
//!
//! `MIGRAPH_BENCH_NET_DELAY_US` (default 1000) sets the one-way delay and
//! `MIGRAPH_BENCH_NET_TIMEOUT_SECS` (default 900) bounds every command; the
//! proxy stops (all its threads joined) before the bench exits. A server
//! whose URL is not set is reported as skipped. Exits non-zero if a command
//! fails, times out or applies the wrong number of revisions (not when a
//! goal is missed). Every database the bench creates (`migraph_net_<pid>_*`)
//! is dropped.
//!
//! Without `--bench` (e.g. `cargo test --benches`) it runs a quick smoke
//! test: 50 revisions, 4 databases × 10 revisions, one run.

mod support;
#[path = "../examples/synth/mod.rs"]
mod synth;

use std::cell::Cell;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{expect_rows, failure, fmt_duration};

use migraph::backend::{AnyConnection, Backend};

const MIGRAPH: &str = env!("CARGO_BIN_EXE_migraph");
const POSTGRES_VAR: &str = "MIGRAPH_TEST_POSTGRES_URL";
const MYSQL_VAR: &str = "MIGRAPH_TEST_MYSQL_URL";
const SEED: u64 = 42;
const TABLE: &str = "migraph_revisions";
/// Goals of issue 14.
const MAX_RATIO: f64 = 1.0;
const MIN_SPEEDUP: f64 = 3.0;
/// How often blocked proxy threads look at the stop flag.
const POLL: Duration = Duration::from_millis(50);

// ---------------------------------------------------------------------------
// The delaying proxy

/// What the proxy saw since the last [`Proxy::take`].
#[derive(Default)]
struct Counters {
    connections: AtomicU64,
    client_chunks: AtomicU64,
    client_bytes: AtomicU64,
    server_chunks: AtomicU64,
}

#[derive(Clone, Copy, Default)]
struct Traffic {
    connections: u64,
    client_chunks: u64,
    client_bytes: u64,
    server_chunks: u64,
}

/// A TCP proxy on 127.0.0.1 to one server that delays every chunk by
/// `delay` in each direction (chunks keep their order; a chunk read at t is
/// written at t + delay, so the delay is latency, not a rate limit).
struct Proxy {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
    acceptor: Option<JoinHandle<()>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    fn start(target: SocketAddr, delay: Duration) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let workers: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let acceptor = {
            let (stop, counters, workers) = (stop.clone(), counters.clone(), workers.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((client, _)) => {
                            let (stop, counters) = (stop.clone(), counters.clone());
                            let handle = thread::spawn(move || relay(client, target, delay, &stop, &counters));
                            let mut workers = workers.lock().unwrap_or_else(|e| e.into_inner());
                            workers.retain(|h| !h.is_finished());
                            workers.push(handle);
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(1)),
                        Err(e) => {
                            eprintln!("proxy: accept: {e}");
                            thread::sleep(POLL);
                        }
                    }
                }
            })
        };
        Ok(Proxy { addr, stop, counters, acceptor: Some(acceptor), workers })
    }

    /// The counters since the last call, reset.
    fn take(&self) -> Traffic {
        let c = &self.counters;
        Traffic {
            connections: c.connections.swap(0, Ordering::Relaxed),
            client_chunks: c.client_chunks.swap(0, Ordering::Relaxed),
            client_bytes: c.client_bytes.swap(0, Ordering::Relaxed),
            server_chunks: c.server_chunks.swap(0, Ordering::Relaxed),
        }
    }
}

impl Drop for Proxy {
    /// Stops accepting, closes every relayed connection and joins every
    /// thread (each blocks at most [`POLL`] or a socket timeout).
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|e| e.into_inner()));
        for worker in workers {
            let _ = worker.join();
        }
    }
}

/// Relays one client connection to `target` until both sides are closed
/// (or the proxy stops).
fn relay(client: TcpStream, target: SocketAddr, delay: Duration, stop: &Arc<AtomicBool>, counters: &Arc<Counters>) {
    let server = match TcpStream::connect_timeout(&target, Duration::from_secs(10)) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("proxy: cannot connect to {target}: {e}");
            return;
        }
    };
    counters.connections.fetch_add(1, Ordering::Relaxed);
    let pair = || -> std::io::Result<[TcpStream; 4]> {
        for s in [&client, &server] {
            s.set_nonblocking(false)?;
            s.set_nodelay(true)?;
            s.set_read_timeout(Some(POLL))?;
            s.set_write_timeout(Some(Duration::from_secs(30)))?;
        }
        Ok([client.try_clone()?, server.try_clone()?, server.try_clone()?, client.try_clone()?])
    };
    let [c_read, s_write, s_read, c_write] = match pair() {
        Ok(streams) => streams,
        Err(e) => {
            eprintln!("proxy: setting up a connection: {e}");
            return;
        }
    };
    let up = {
        let (stop, counters) = (stop.clone(), counters.clone());
        thread::spawn(move || pump(c_read, s_write, delay, &stop, &counters, true))
    };
    pump(s_read, c_write, delay, stop, counters, false);
    let _ = up.join();
}

/// Forwards `from` to `to`, each chunk `delay` after it was read; at the end
/// of `from` shuts down `to` for writing (on an error, both ways).
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    delay: Duration,
    stop: &Arc<AtomicBool>,
    counters: &Counters,
    client_side: bool,
) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    let writer = {
        let stop = stop.clone();
        thread::spawn(move || {
            loop {
                match rx.recv_timeout(POLL) {
                    Ok((due, chunk)) => {
                        let now = Instant::now();
                        if due > now {
                            thread::sleep(due - now);
                        }
                        if to.write_all(&chunk).is_err() {
                            let _ = to.shutdown(Shutdown::Both);
                            return;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Relaxed) => break,
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        })
    };
    let mut buf = vec![0u8; 64 * 1024];
    while !stop.load(Ordering::Relaxed) {
        match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if client_side {
                    counters.client_chunks.fetch_add(1, Ordering::Relaxed);
                    counters.client_bytes.fetch_add(n as u64, Ordering::Relaxed);
                } else {
                    counters.server_chunks.fetch_add(1, Ordering::Relaxed);
                }
                if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
            Err(_) => {
                let _ = from.shutdown(Shutdown::Both);
                break;
            }
        }
    }
    drop(tx);
    let _ = writer.join();
}

// ---------------------------------------------------------------------------
// Databases

#[derive(Clone, Copy, PartialEq)]
enum Engine {
    Postgres,
    Mysql,
}

/// A database of the bench on the server of `admin_url`, dropped however
/// `main` ends.
struct Db {
    admin_url: String,
    name: String,
    /// Straight to the server (checks).
    direct_url: String,
    /// Through the proxy.
    proxied_url: String,
    created: Cell<bool>,
}

impl Db {
    fn new(admin_url: &str, proxy: SocketAddr, suffix: &str) -> Result<Db, String> {
        let name = format!("migraph_net_{}_{suffix}", std::process::id());
        let direct_url = with_database(admin_url, &name)?;
        let mut proxied = url::Url::parse(&direct_url).map_err(|e| format!("{admin_url}: {e}"))?;
        proxied.set_host(Some("127.0.0.1")).map_err(|e| format!("{admin_url}: {e}"))?;
        proxied.set_port(Some(proxy.port())).map_err(|()| format!("{admin_url}: cannot set the port"))?;
        Ok(Db {
            admin_url: admin_url.to_string(),
            name,
            direct_url,
            proxied_url: proxied.to_string(),
            created: Cell::new(false),
        })
    }

    /// Drops the database if it exists and creates it empty, on `conn`.
    fn recreate(&self, conn: &mut AnyConnection) -> Result<(), String> {
        let drop = format!("DROP DATABASE IF EXISTS {}", self.name);
        conn.batch(&drop).map_err(|e| format!("{drop}: {e}"))?;
        self.created.set(true);
        let create = format!("CREATE DATABASE {}", self.name);
        conn.batch(&create).map_err(|e| format!("{create}: {e}"))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if self.created.get() {
            let dropped = AnyConnection::connect(&self.admin_url).map_err(|e| e.to_string()).and_then(|mut c| {
                c.batch(&format!("DROP DATABASE IF EXISTS {}", self.name)).map_err(|e| e.to_string())
            });
            if let Err(e) = dropped {
                eprintln!("warning: cannot drop the bench database {}: {e}", self.name);
            }
        }
    }
}

/// Recreates every database of `dbs` (one admin connection).
fn recreate_all(admin_url: &str, dbs: &[Db]) -> Result<(), String> {
    let mut conn = AnyConnection::connect(admin_url).map_err(|e| format!("{admin_url}: {e}"))?;
    dbs.iter().try_for_each(|db| db.recreate(&mut conn))
}

/// `url` naming database `name` instead (the query string kept).
fn with_database(url: &str, name: &str) -> Result<String, String> {
    let mut parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

/// The server's address in `url`.
fn server_addr(url: &str, default_port: u16) -> Result<SocketAddr, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{url}: {e}"))?;
    let host = parsed.host_str().ok_or_else(|| format!("{url}: no host"))?.to_string();
    let port = parsed.port().unwrap_or(default_port);
    (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| format!("{url}: cannot resolve {host}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: {host} has no address"))
}

// ---------------------------------------------------------------------------
// Running commands

struct Settings {
    runs: usize,
    timeout: Duration,
    scratch: PathBuf,
}

/// Runs `cmd` (stdin from `stdin` or /dev/null, stdout discarded), killing
/// it after `settings.timeout`; its wall time, or why it failed.
fn run_bounded(mut cmd: Command, stdin: Option<&Path>, settings: &Settings) -> Result<Duration, String> {
    let stderr_path = settings.scratch.join("stderr.txt");
    let stderr = std::fs::File::create(&stderr_path).map_err(|e| format!("{}: {e}", stderr_path.display()))?;
    let stdin = match stdin {
        Some(path) => Stdio::from(std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?),
        None => Stdio::null(),
    };
    cmd.current_dir(&settings.scratch).stdin(stdin).stdout(Stdio::null()).stderr(stderr);
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > settings.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{:?} timed out after {} s", cmd.get_program(), settings.timeout.as_secs()));
            }
            Ok(None) => thread::sleep(Duration::from_millis(2)),
            Err(e) => return Err(format!("waiting for {:?}: {e}", cmd.get_program())),
        }
    };
    let elapsed = started.elapsed();
    if status.success() {
        Ok(elapsed)
    } else {
        Err(failure(&status, &std::fs::read(&stderr_path).unwrap_or_default()))
    }
}

/// A command to time, through the proxy.
struct Job<'a> {
    /// Untimed, before every run: fresh databases.
    prepare: Box<dyn Fn() -> Result<(), String> + 'a>,
    command: Box<dyn Fn() -> Command + 'a>,
    stdin: Option<PathBuf>,
    /// Untimed, after every run: the databases hold what they should.
    check: Box<dyn Fn() -> Result<(), String> + 'a>,
}

/// The best time of a job and the proxy's traffic of that run.
type Measured = Result<(Duration, Traffic), String>;

/// `settings.runs` rounds running every job once in turn; each job's best
/// run. A job that fails is not run again.
fn race(jobs: &[Job<'_>], proxy: &Proxy, settings: &Settings) -> Vec<Measured> {
    let mut results: Vec<Measured> = jobs.iter().map(|_| Ok((Duration::MAX, Traffic::default()))).collect();
    for _ in 0..settings.runs {
        for (job, result) in jobs.iter().zip(results.iter_mut()) {
            let Ok((best, _)) = result else { continue };
            let best = *best;
            let run = (job.prepare)().and_then(|()| {
                proxy.take();
                let t = run_bounded((job.command)(), job.stdin.as_deref(), settings)?;
                let traffic = proxy.take();
                (job.check)()?;
                Ok((t, traffic))
            });
            match run {
                Ok((t, traffic)) if t < best => *result = Ok((t, traffic)),
                Ok(_) => {}
                Err(e) => *result = Err(e),
            }
        }
    }
    results
}

/// `migraph --revisions DIR ARGS...`, with nothing from the environment.
fn migraph(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(MIGRAPH);
    cmd.arg("--revisions").arg(dir).args(args).env_remove("DATABASE_URL");
    cmd
}

/// Writes `migraph upgrade heads --sql` for `url`'s dialect to `path`,
/// checking it has one version-row insert per revision.
fn write_script(dir: &Path, url: &str, n: usize, path: &Path) -> Result<(), String> {
    let output = migraph(dir, &["--database-url", url, "upgrade", "heads", "--sql"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run migraph: {e}"))?;
    if !output.status.success() {
        return Err(format!("`migraph upgrade heads --sql` failed: {}", failure(&output.status, &output.stderr)));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let inserts = text
        .lines()
        .filter(|l| l.starts_with("INSERT INTO ") && l.contains(TABLE) && l.contains("(id, parents,"))
        .count();
    if inserts != n {
        return Err(format!("the --sql script has {inserts} version-row inserts, expected {n}"));
    }
    std::fs::write(path, output.stdout).map_err(|e| format!("writing {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// The measurements

struct Row {
    what: String,
    n: String,
    floor_name: String,
    floor: Measured,
    migraph: Measured,
    /// Revisions per run (for flights per revision).
    revisions: usize,
    goal: Goal,
}

/// What a row is measured against.
#[derive(Clone, Copy, PartialEq)]
enum Goal {
    /// migraph / floor ≤ MAX_RATIO.
    Ratio,
    /// floor / migraph ≥ MIN_SPEEDUP.
    Speedup,
    /// No goal: the floor shows a bound (the ratio is printed).
    Bound,
}

/// One engine's upgrade of `n` revisions against its shell client's floor.
fn single_row(engine: Engine, admin_url: &str, n: usize, proxy: &Proxy, settings: &Settings) -> Result<Row, String> {
    let dir = settings.scratch.join(format!("single-{n}"));
    let summary = synth::generate(&dir, n, SEED).map_err(|e| format!("generating revisions: {e}"))?;
    eprintln!("{n} revisions: {summary}");
    let script = settings.scratch.join("upgrade.sql");
    write_script(&dir, admin_url, n, &script)?;
    let floor_db = Db::new(admin_url, proxy.addr, "floor")?;
    let migraph_db = Db::new(admin_url, proxy.addr, "migraph")?;

    let floor_command = || -> Command {
        match engine {
            Engine::Postgres => {
                let mut cmd = Command::new("psql");
                cmd.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &floor_db.proxied_url, "-f"]).arg(&script);
                cmd
            }
            Engine::Mysql => mysql_client(&floor_db.proxied_url),
        }
    };
    let floor = Job {
        prepare: Box::new(|| recreate_all(admin_url, std::slice::from_ref(&floor_db))),
        command: Box::new(floor_command),
        stdin: (engine == Engine::Mysql).then(|| script.clone()),
        check: Box::new(|| expect_rows(&floor_db.direct_url, n)),
    };
    let upgrade = Job {
        prepare: Box::new(|| recreate_all(admin_url, std::slice::from_ref(&migraph_db))),
        command: Box::new(|| migraph(&dir, &["--database-url", &migraph_db.proxied_url, "upgrade", "heads", "-q"])),
        stdin: None,
        check: Box::new(|| expect_rows(&migraph_db.direct_url, n)),
    };
    let (name, floor_name) = match engine {
        Engine::Postgres => ("PostgreSQL", "psql -f"),
        Engine::Mysql => ("MariaDB", "mysql <"),
    };
    eprintln!("{name}: upgrade of {n} revisions through the proxy, {floor_name} vs migraph...");
    let mut results = race(&[floor, upgrade], proxy, settings).into_iter();
    let (floor, migraph) = (results.next().expect("two results"), results.next().expect("two results"));
    drop((floor_db, migraph_db));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Row {
        what: format!("{name} upgrade, fresh database"),
        n: thousands(n),
        floor_name: floor_name.to_string(),
        floor,
        migraph,
        revisions: n,
        goal: Goal::Ratio,
    })
}

/// `mysql --batch` to the database of `url` (password through `MYSQL_PWD`).
fn mysql_client(url: &str) -> Command {
    let mut cmd = Command::new("mysql");
    cmd.args(["--batch", "--protocol=TCP"]);
    if let Ok(parsed) = url::Url::parse(url) {
        cmd.arg("-h").arg(parsed.host_str().unwrap_or("127.0.0.1"));
        cmd.arg("-P").arg(parsed.port().unwrap_or(3306).to_string());
        if !parsed.username().is_empty() {
            cmd.arg("-u").arg(decode(parsed.username()));
        }
        if let Some(password) = parsed.password() {
            cmd.env("MYSQL_PWD", decode(password));
        }
        cmd.arg(decode(parsed.path().trim_start_matches('/')));
    }
    cmd
}

fn decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| s.to_string(), |(_, v)| v.into_owned())
}

/// PostgreSQL: `databases` × `n` revisions, `--each-database --jobs` vs a
/// sequential shell loop of migraph (the goal) and vs the database's own
/// shell running the `--sql` script into `jobs` databases at once (what the
/// server allows on this machine).
fn many_rows(
    admin_url: &str,
    databases: usize,
    n: usize,
    jobs: u16,
    proxy: &Proxy,
    settings: &Settings,
) -> Result<[Row; 2], String> {
    let dir = settings.scratch.join(format!("many-{n}"));
    let summary = synth::generate(&dir, n, SEED).map_err(|e| format!("generating revisions: {e}"))?;
    eprintln!("{databases} databases × {n} revisions: {summary}");
    let script = settings.scratch.join("many.sql");
    write_script(&dir, admin_url, n, &script)?;
    let dbs: Vec<Db> =
        (0..databases).map(|i| Db::new(admin_url, proxy.addr, &format!("t{i}"))).collect::<Result<_, _>>()?;
    // The shell loops read the same files (no `$$` in these URLs, checked).
    if dbs.iter().any(|db| db.proxied_url.contains('$') || db.direct_url.contains('$')) {
        return Err("a database URL contains `$`, which the shell loop would not read back".into());
    }
    // A file in the scratch directory.
    let shell = |name: &str, text: &str| -> Result<PathBuf, String> {
        let path = settings.scratch.join(name);
        std::fs::write(&path, text).map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok(path)
    };
    let list_of = |name: &str, url: fn(&Db) -> &str| {
        shell(name, &dbs.iter().map(|db| format!("{}\n", url(db))).collect::<String>())
    };
    let list = list_of("databases.txt", |db| &db.proxied_url)?;
    let direct_list = list_of("direct.txt", |db| &db.direct_url)?;
    let loop_script = shell(
        "loop.sh",
        "set -e\nwhile IFS= read -r url; do\n  \"$MIGRAPH\" --revisions \"$DIR\" --database-url \"$url\" upgrade heads -q\ndone < \"$LIST\"\n",
    )?;
    // xargs exits non-zero when one psql does.
    let psql_script = shell(
        "psql.sh",
        "set -e\nxargs -P \"$JOBS\" -d '\\n' -I '{}' psql -X -q -v ON_ERROR_STOP=1 -d '{}' -f \"$SCRIPT\" < \"$LIST\"\n",
    )?;
    let jobs_arg = jobs.to_string();
    let sh = |program: &Path, list: &Path| {
        let mut cmd = Command::new("sh");
        cmd.arg(program)
            .env("MIGRAPH", MIGRAPH)
            .env("DIR", &dir)
            .env("LIST", list)
            .env("JOBS", &jobs_arg)
            .env("SCRIPT", &script)
            .env_remove("DATABASE_URL");
        cmd
    };
    /// Fresh databases before, every revision applied after.
    fn job<'a>(admin_url: &'a str, dbs: &'a [Db], n: usize, command: Box<dyn Fn() -> Command + 'a>) -> Job<'a> {
        Job {
            prepare: Box::new(move || recreate_all(admin_url, dbs)),
            command,
            stdin: None,
            check: Box::new(move || dbs.iter().try_for_each(|db| expect_rows(&db.direct_url, n))),
        }
    }
    let job = |command| job(admin_url, &dbs, n, command);
    let sequential = job(Box::new(|| sh(&loop_script, &list)));
    // Straight to the server: what it does with no network at all.
    let shells = job(Box::new(|| sh(&psql_script, &direct_list)));
    let parallel = job(Box::new(|| {
        let mut cmd = migraph(&dir, &["upgrade", "heads", "-q", "--each-database"]);
        cmd.arg(&list).args(["--jobs", &jobs_arg]);
        cmd
    }));
    eprintln!(
        "PostgreSQL: {databases} databases × {n} revisions, shell loop vs --each-database --jobs {jobs} vs \
         {jobs} psql at once without the proxy..."
    );
    let [floor, migraph, psql]: [Measured; 3] =
        race(&[sequential, parallel, shells], proxy, settings).try_into().map_err(|_| "three results expected")?;
    drop(dbs);
    let _ = std::fs::remove_dir_all(&dir);
    let what = format!("PostgreSQL `--each-database --jobs {jobs}`");
    let count = format!("{databases} × {}", thousands(n));
    Ok([
        Row {
            what: what.clone(),
            n: count.clone(),
            floor_name: "sh loop".into(),
            floor,
            migraph: migraph.clone(),
            revisions: databases * n,
            goal: Goal::Speedup,
        },
        Row {
            what,
            n: count,
            floor_name: format!("{jobs} × psql -f at once, no proxy"),
            floor: psql,
            migraph,
            revisions: databases * n,
            goal: Goal::Bound,
        },
    ])
}

// ---------------------------------------------------------------------------

/// Removes the scratch directory however `main` ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn env_number(name: &str, default: u64) -> Result<u64, String> {
    match std::env::var(name) {
        Ok(value) => match value.trim().replace('_', "").parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{name} must be a whole number > 0, got {value:?}")),
        },
        Err(_) => Ok(default),
    }
}

fn main() -> ExitCode {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let smoke = |bench: u64, quick: u64| if bench_mode { bench } else { quick };
    let numbers = (|| -> Result<_, String> {
        Ok((
            env_number("MIGRAPH_BENCH_NET_DELAY_US", 1_000)?,
            env_number("MIGRAPH_BENCH_NET_REVISIONS", smoke(1_000, 50))? as usize,
            env_number("MIGRAPH_BENCH_NET_DATABASES", smoke(50, 4))? as usize,
            env_number("MIGRAPH_BENCH_NET_DB_REVISIONS", smoke(100, 10))? as usize,
            u16::try_from(env_number("MIGRAPH_BENCH_NET_JOBS", 4)?)
                .map_err(|_| "MIGRAPH_BENCH_NET_JOBS is too large")?,
            env_number("MIGRAPH_BENCH_NET_RUNS", smoke(2, 1))? as usize,
            env_number("MIGRAPH_BENCH_NET_TIMEOUT_SECS", 900)?,
        ))
    })();
    let (delay_us, revisions, databases, db_revisions, jobs, runs, timeout) = match numbers {
        Ok(numbers) => numbers,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let delay = Duration::from_micros(delay_us);
    let postgres = std::env::var(POSTGRES_VAR).ok().filter(|u| !u.is_empty());
    let mysql = std::env::var(MYSQL_VAR).ok().filter(|u| !u.is_empty());

    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let scratch = Scratch(std::env::temp_dir().join(format!("migraph-bench-net-{}-{nanos}", std::process::id())));
    if let Err(e) = std::fs::create_dir_all(&scratch.0) {
        eprintln!("creating {}: {e}", scratch.0.display());
        return ExitCode::from(1);
    }
    let settings = Settings { runs, timeout: Duration::from_secs(timeout), scratch: scratch.0.clone() };

    println!("migraph: {MIGRAPH}");
    println!(
        "proxy: {:.1} ms each way (a round trip +{:.1} ms); wall time of whole processes, best of {runs} run(s), \
         fresh databases for every run",
        delay.as_secs_f64() * 1e3,
        2.0 * delay.as_secs_f64() * 1e3
    );

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut skipped = Vec::new();
    let servers = [
        (Engine::Postgres, POSTGRES_VAR, &postgres, 5432, "postgres", cfg!(feature = "postgres")),
        (Engine::Mysql, MYSQL_VAR, &mysql, 3306, "mysql", cfg!(feature = "mysql")),
    ];
    for (engine, var, url, port, feature, built) in servers {
        let (Some(admin_url), true) = (url, built) else {
            skipped.push(format!("{feature}: skipped (set {var} and build with --features {feature})"));
            continue;
        };
        let proxy = match server_addr(admin_url, port)
            .and_then(|addr| Proxy::start(addr, delay).map_err(|e| format!("starting the proxy: {e}")))
        {
            Ok(proxy) => proxy,
            Err(e) => {
                errors.push(format!("{var}: {e}"));
                continue;
            }
        };
        match single_row(engine, admin_url, revisions, &proxy, &settings) {
            Ok(row) => rows.push(row),
            Err(e) => errors.push(format!("{feature}, {revisions} revisions: {e}")),
        }
        if engine == Engine::Postgres {
            match many_rows(admin_url, databases, db_revisions, jobs, &proxy, &settings) {
                Ok(many) => rows.extend(many),
                Err(e) => errors.push(format!("postgres, {databases} databases: {e}")),
            }
        }
        drop(proxy);
    }

    println!();
    println!(
        "| measurement | N | floor | floor time | migraph | ratio | goal | met | client flights per revision (floor / migraph) |"
    );
    println!("| --- | ---: | --- | ---: | ---: | ---: | ---: | :---: | ---: |");
    for row in &rows {
        let time = |m: &Measured| m.as_ref().map_or_else(|_| "FAILED".to_string(), |(t, _)| fmt_duration(*t));
        let flights = |m: &Measured| {
            m.as_ref().map_or_else(
                |_| "-".to_string(),
                |(_, tr)| format!("{:.2}", tr.client_chunks as f64 / row.revisions as f64),
            )
        };
        let (ratio, goal, met) = match (&row.floor, &row.migraph) {
            (Ok((f, _)), Ok((m, _))) => {
                let ratio = m.as_secs_f64() / f.as_secs_f64();
                match row.goal {
                    Goal::Speedup => (
                        format!("{:.2}× faster", 1.0 / ratio),
                        format!("≥ {MIN_SPEEDUP:.0}× faster"),
                        Some(1.0 / ratio >= MIN_SPEEDUP),
                    ),
                    Goal::Ratio => (format!("{ratio:.2}×"), format!("≤ {MAX_RATIO:.1}×"), Some(ratio <= MAX_RATIO)),
                    Goal::Bound => (format!("{ratio:.2}×"), "(bound)".to_string(), None),
                }
            }
            _ => ("-".to_string(), "-".to_string(), Some(false)),
        };
        println!(
            "| {} | {} | {} | {} | {} | {ratio} | {goal} | {} | {} / {} |",
            row.what,
            row.n,
            row.floor_name,
            time(&row.floor),
            time(&row.migraph),
            match met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            },
            flights(&row.floor),
            flights(&row.migraph),
        );
        for (who, m) in [(row.floor_name.as_str(), &row.floor), ("migraph", &row.migraph)] {
            match m {
                Ok((_, tr)) => eprintln!(
                    "{} / {who}: {} connection(s), {} client chunks ({} bytes), {} server chunks",
                    row.what, tr.connections, tr.client_chunks, tr.client_bytes, tr.server_chunks
                ),
                Err(e) => errors.push(format!("{} ({}): {who} failed: {e}", row.what, row.n)),
            }
        }
    }
    println!();
    println!(
        "floor: the script of `migraph upgrade heads --sql` (version table, then per revision the transaction of its \
         up SQL and its version row) run by `psql -X -q -v ON_ERROR_STOP=1 -f` or `mysql --batch <`, through the \
         same proxy; many databases: `sh` running `migraph upgrade heads -q` once per database, one after another, \
         and `xargs -P` running that script with `psql -f` into as many databases at once as migraph's `--jobs`, \
         straight to the server (no proxy: the server's own bound). \
         client flights: chunks the proxy read from clients during the run, per revision (about the round trips \
         the client waited for)."
    );
    for s in &skipped {
        println!("{s}");
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

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let groups: Vec<&str> =
        digits.as_bytes().rchunks(3).rev().map(|group| std::str::from_utf8(group).unwrap_or("?")).collect();
    groups.join(",")
}
