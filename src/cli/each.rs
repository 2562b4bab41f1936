//! `--each-database FILE`: `upgrade`, `downgrade`, `migrate`, `status` or
//! `check` on every database URL the file lists, `--jobs N` at a time.
//!
//! The revision files are loaded once and shared by the workers; each
//! worker opens its own connection per database and runs the same
//! [`Migrator`] the single-database commands run, so every database gets
//! its own plan under its own lock. A database that fails (or a worker that
//! panics on it) is one row of the result and never stops the others. The
//! result is a table on stdout (`--json`: an array of objects), and exit 1
//! when any database failed; running the same command again finishes the
//! rest, since databases already done have nothing to do.

use std::collections::HashMap;
use std::io::{IsTerminal as _, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use migraph::backend::{dialect_of, scrub, sqlite_path, AnyConnection, DatabaseUrl, DbError, Dialect};
use migraph::runner::Event;
use migraph::RunError;
use migraph::{Direction, Migrator, Verb};

use super::check::CheckArgs;
use super::config::Settings;
use super::db::shown_url;
use super::output::{printable, to_json, LiveLine};
use super::run::RunArgs;
use super::{session, Cli, CliError, Command, Context, Result};

/// One database of the list: its line in the file and its URL (variables
/// expanded, a relative SQLite path made relative to the file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub line: usize,
    pub url: String,
}

/// What runs on each database.
enum Job<'a> {
    Run { verb: Verb, args: &'a RunArgs, targets: Vec<&'a str> },
    Status,
    Check(&'a CheckArgs),
}

impl Job<'_> {
    fn name(&self) -> String {
        match self {
            Job::Run { verb, .. } => verb.to_string(),
            Job::Status => "status".into(),
            Job::Check(_) => "check".into(),
        }
    }
}

fn usage(message: impl std::fmt::Display) -> CliError {
    let mut e = CliError::new(message);
    e.code = 2;
    e
}

/// The command's name as typed (`heads`, `history`...), for usage errors.
fn command_name(command: &Command) -> String {
    let debug = format!("{command:?}");
    debug.chars().take_while(char::is_ascii_alphanumeric).collect::<String>().to_lowercase()
}

fn job(command: &Command) -> Result<Job<'_>> {
    let (verb, args) = match command {
        Command::Upgrade(args) => (Verb::Upgrade, &args.run),
        Command::Downgrade(args) => (Verb::Downgrade, args),
        Command::Migrate(args) => (Verb::Migrate, args),
        Command::Status => return Ok(Job::Status),
        Command::Check(args) => return Ok(Job::Check(args)),
        other => {
            return Err(usage(format!(
                "--each-database works with upgrade, downgrade, migrate, status and check, not `{}`",
                command_name(other)
            )))
        }
    };
    if args.sql {
        return Err(usage("--sql writes one script without connecting: it does not take --each-database")
            .hint(format!("run `migraph {verb} --sql` once per dialect instead")));
    }
    let mut targets: Vec<&str> = args.targets.iter().map(String::as_str).collect();
    if targets.is_empty() {
        if verb != Verb::Upgrade {
            return Err(usage(format!("`migraph {verb}` needs a target"))
                .hint(format!("`migraph {verb} base` goes to the empty state; see `migraph {verb} --help`")));
        }
        targets.push("heads");
    }
    Ok(Job::Run { verb, args, targets })
}

/// `migraph <command> --each-database FILE [--jobs N]`.
pub fn each(cli: &Cli) -> Result<String> {
    let Some(file) = cli.global.each_database.as_deref() else {
        return Err(CliError::new("--each-database needs a file"));
    };
    let job = job(&cli.command)?;
    let settings = Settings::resolve(&cli.global)?;
    let cx = Context { global: cli.global.clone(), settings };
    let entries = read_list(file, |name| std::env::var(name).ok())?;
    // The files once, for every database; their errors come before any database is touched.
    let graph = cx.graph()?;
    let mut options = session::options(&cx);
    if let Job::Run { args, .. } = &job {
        options.single_transaction = args.single_transaction;
        options.backup = args.backup;
    }
    let migrator = Migrator::from_graph(graph).with_options(options)?;
    let jobs = match cli.global.jobs {
        Some(n) => usize::from(n),
        None => std::thread::available_parallelism().map_or(1, usize::from),
    };
    let started = Instant::now();
    let total = entries.len();
    let ticker = Mutex::new(Ticker::new(&cx, total));
    let outcomes = pool(
        &entries,
        jobs,
        |entry| one(&cx, &migrator, &job, entry),
        |entry, why| Outcome::failed(entry, format!("internal error: {why}"), 0),
        |outcome| ticker.lock().unwrap_or_else(std::sync::PoisonError::into_inner).finished(outcome),
    );
    ticker.lock().unwrap_or_else(std::sync::PoisonError::into_inner).end();
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok).collect();
    if !cx.global.quiet {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "{}: {total} database(s), {} ok, {} failed in {seconds:.1} s",
            job.name(),
            total - failed.len(),
            failed.len()
        );
    }
    let stdout = if cx.global.json { to_json(&outcomes) } else { table(&job, &outcomes) };
    if failed.is_empty() {
        return Ok(stdout);
    }
    // The table is the result even when some databases failed.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(stdout.as_bytes()).and_then(|()| out.flush());
    let mut lines = vec![format!("{} of {total} database(s) failed", failed.len())];
    for o in failed.iter().take(10) {
        let first = o.error.as_deref().unwrap_or_default().lines().next().unwrap_or_default().to_string();
        lines.push(format!("line {}: {}: {first}", o.line, o.database));
    }
    if failed.len() > 10 {
        lines.push(format!("... and {} more (see the table)", failed.len() - 10));
    }
    let mut e = CliError::new(lines.join("\n"));
    if matches!(job, Job::Run { .. }) {
        e = e.hint("fix the cause and run the same command again: databases already done have nothing to do");
    }
    Err(e)
}

/// The databases `file` lists: one URL a line, `${VAR}` expanded as in
/// `migraph.toml`, blank lines and `#` lines skipped. A line that is not a
/// usable URL is an error naming `FILE:line`.
pub fn read_list(file: &Path, var: impl Fn(&str) -> Option<String>) -> Result<Vec<Entry>> {
    let text =
        std::fs::read_to_string(file).map_err(|e| CliError::new(format!("cannot read {}: {e}", file.display())))?;
    let cwd = std::env::current_dir().map_err(|e| CliError::new(format!("cannot read the current directory: {e}")))?;
    let base = cwd.join(file.parent().unwrap_or(Path::new("")));
    let mut entries: Vec<Entry> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let place = format!("{}:{}", file.display(), n + 1);
        let (url, _) = super::config::expand(line, &place, &var)?;
        let url = match DatabaseUrl::parse(&url) {
            Ok(DatabaseUrl::Sqlite(sqlite)) => match &sqlite.path {
                Some(path) if Path::new(path).is_relative() => sqlite.with_path(&base.join(path).display().to_string()),
                _ => url,
            },
            Ok(_) => url,
            Err(DbError::InvalidUrl { url, reason }) => {
                return Err(CliError::new(format!("{place}: invalid database URL `{url}`: {reason}")))
            }
            Err(e) => return Err(CliError::new(format!("{place}: {}", scrub(&e.to_string(), &url)))),
        };
        if let Some(first) = seen.insert(url.clone(), n + 1) {
            return Err(CliError::new(format!("{place}: the same database as line {first}")));
        }
        entries.push(Entry { line: n + 1, url });
    }
    if entries.is_empty() {
        return Err(CliError::new(format!("{}: no database URL in the file", file.display()))
            .hint("one URL a line; blank lines and lines starting with `#` are skipped"));
    }
    Ok(entries)
}

/// What happened on one database: a row of the table, an object of `--json`.
#[derive(Debug, Clone, Serialize)]
struct Outcome {
    /// The URL, password redacted.
    database: String,
    /// Its line in the list.
    line: usize,
    ok: bool,
    /// Applied heads before the run (`status`, `check`: now); null when unknown.
    heads_before: Option<Vec<String>>,
    /// Applied heads after the run; null when unknown or for `status`, `check`, `--dry-run`.
    heads_after: Option<Vec<String>>,
    /// Revisions applied and unapplied by this run.
    applied: usize,
    unapplied: usize,
    /// Revisions another run applied or unapplied first (it held the lock).
    skipped: usize,
    /// `--dry-run`: the plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    plan: Option<Vec<StepJson>>,
    /// `status`: revisions not applied yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<Vec<String>>,
    /// `status`: applied revisions whose files changed, applied revisions
    /// without a file, revisions that failed or are in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    notes: Option<Vec<String>>,
    /// `--backup`: the copy of the SQLite file.
    #[serde(skip_serializing_if = "Option::is_none")]
    backup: Option<String>,
    /// Milliseconds spent on this database.
    ms: u64,
    /// Why it failed (every line), null when it did not.
    error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct StepJson {
    id: String,
    direction: Direction,
    message: String,
}

impl Outcome {
    fn new(entry: &Entry) -> Outcome {
        Outcome {
            database: shown_url(&entry.url),
            line: entry.line,
            ok: true,
            heads_before: None,
            heads_after: None,
            applied: 0,
            unapplied: 0,
            skipped: 0,
            plan: None,
            pending: None,
            notes: None,
            backup: None,
            ms: 0,
            error: None,
        }
    }

    fn failed(entry: &Entry, error: String, ms: u64) -> Outcome {
        Outcome { ok: false, error: Some(scrub(&error, &entry.url)), ms, ..Outcome::new(entry) }
    }
}

/// Every line of an error, for the table (first line) and JSON.
fn error_text(e: &CliError) -> String {
    e.lines.join("\n")
}

/// Runs the job on one database.
fn one(cx: &Context, migrator: &Migrator, job: &Job<'_>, entry: &Entry) -> Outcome {
    let started = Instant::now();
    let mut outcome = Outcome::new(entry);
    let result = match job {
        Job::Run { verb, args, targets } if args.dry_run => dry_run(migrator, *verb, targets, entry, &mut outcome),
        Job::Run { args, .. } if args.backup && dialect_of(&entry.url).ok() != Some(Dialect::Sqlite) => {
            Err(CliError::new("--backup works with SQLite databases only"))
        }
        Job::Run { verb, targets, .. } => run(cx, migrator, *verb, targets, entry, &mut outcome),
        Job::Status => status(migrator, entry, &mut outcome),
        Job::Check(args) => check(cx, migrator, args, entry, &mut outcome),
    };
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(()) => Outcome { ms, ..outcome },
        Err(e) => Outcome { ok: false, error: Some(scrub(&error_text(&e), &entry.url)), ms, ..outcome },
    }
}

fn heads(migrator: &Migrator, conn: &mut AnyConnection) -> Result<Vec<String>> {
    Ok(migrator.status(conn)?.heads)
}

fn sqlite_missing(url: &str) -> bool {
    sqlite_path(url).is_some_and(|path| !Path::new(&path).exists())
}

/// `upgrade`, `downgrade`, `migrate`: the normal run, under the database's lock.
fn run(cx: &Context, migrator: &Migrator, verb: Verb, targets: &[&str], entry: &Entry, o: &mut Outcome) -> Result<()> {
    let url = &entry.url;
    if sqlite_missing(url) {
        // As a single run: a SQLite file that does not exist is created only when there is something to do.
        o.heads_before = Some(Vec::new());
        let plan = migrator.plan(&mut session::connect_for_reading(url)?, verb, targets)?;
        if plan.is_empty() {
            o.heads_after = Some(Vec::new());
            return Ok(());
        }
    }
    let mut conn = AnyConnection::connect_with(url, cx.settings.lock_timeout).map_err(CliError::new)?;
    // The heads come from the run's own reads under the lock: no round trip
    // more. Revisions that finished count even when a later one fails.
    let result = migrator.run(&mut conn, verb, targets, |event| match event {
        Event::Read { heads } => o.heads_before = Some(heads.to_vec()),
        Event::Finished { step, .. } if step.direction == Direction::Up => o.applied += 1,
        Event::Finished { .. } => o.unapplied += 1,
        _ => {}
    });
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            if matches!(e, RunError::Revision { rolled_back: true, .. }) {
                // One transaction for the whole plan: nothing of it stayed.
                (o.applied, o.unapplied) = (0, 0);
            }
            return Err(e.into());
        }
    };
    o.applied = report.done.iter().filter(|(s, _)| s.direction == Direction::Up).count();
    o.unapplied = report.done.len() - o.applied;
    o.skipped = report.skipped.len();
    o.backup = report.backup.map(|path| path.display().to_string());
    o.heads_after = match report.heads {
        Some(heads) => Some(heads),
        None => Some(heads(migrator, &mut conn)?),
    };
    Ok(())
}

/// `--dry-run`: the plan against the database's current state.
fn dry_run(migrator: &Migrator, verb: Verb, targets: &[&str], entry: &Entry, o: &mut Outcome) -> Result<()> {
    let mut conn = session::connect_for_reading(&entry.url)?;
    o.heads_before = Some(heads(migrator, &mut conn)?);
    let preview = migrator.preview(&mut conn, verb, targets)?;
    o.plan = Some(
        preview
            .plan
            .steps
            .into_iter()
            .map(|s| StepJson { id: s.id, direction: s.direction, message: s.message })
            .collect(),
    );
    Ok(())
}

/// `status`: heads, pending revisions, and what else `migraph status` flags.
fn status(migrator: &Migrator, entry: &Entry, o: &mut Outcome) -> Result<()> {
    let mut conn = session::connect_for_reading(&entry.url)?;
    let status = migrator.status(&mut conn)?;
    let mut notes = Vec::new();
    notes.extend(status.drift.iter().map(|d| format!("drift: {}", d.id)));
    notes.extend(status.missing_files.iter().map(|id| format!("no file: {id}")));
    notes.extend(status.failed.iter().map(|p| format!("FAILED: {}", p.id)));
    notes.extend(status.running.iter().map(|p| format!("running: {}", p.id)));
    o.heads_before = Some(status.heads);
    o.pending = Some(status.pending);
    o.notes = Some(notes);
    Ok(())
}

/// `check`: exactly `migraph check` with this database's URL; its problems
/// are the database's error.
fn check(cx: &Context, migrator: &Migrator, args: &CheckArgs, entry: &Entry, o: &mut Outcome) -> Result<()> {
    if let Ok(mut conn) = session::connect_for_reading(&entry.url) {
        o.heads_before = heads(migrator, &mut conn).ok();
    }
    let mut global = cx.global.clone();
    global.database_url = Some(entry.url.clone());
    global.each_database = None;
    global.json = false;
    global.quiet = true;
    global.verbose = 0;
    let settings = Settings::resolve(&global)?;
    let one = Context { global, settings };
    super::check::check(&one, args).map(|_| ())
}

/// Runs `work` on every item, `jobs` at a time, in the order given; a panic
/// in `work` becomes `panicked(item, message)`. `finished` sees each result
/// as it comes. The results are in the items' order.
fn pool<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    panicked: impl Fn(&T, String) -> R + Sync,
    finished: impl Fn(&R) + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new(items.iter().map(|_| None).collect());
    let workers = jobs.clamp(1, items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let result = catch_unwind(AssertUnwindSafe(|| work(item))).unwrap_or_else(|payload| {
                    let why = payload
                        .downcast_ref::<&str>()
                        .map(ToString::to_string)
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "a panic".into());
                    panicked(item, format!("panicked: {why}"))
                });
                finished(&result);
                results.lock().unwrap_or_else(std::sync::PoisonError::into_inner)[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .into_iter()
        .map(|r| r.expect("every item has a result"))
        .collect()
}

/// Progress on stderr: on a terminal one updating line (`37/200 databases,
/// 2 failed`), else one line per database as it finishes; nothing with -q.
struct Ticker {
    total: usize,
    done: usize,
    failed: usize,
    terminal: bool,
    quiet: bool,
    /// The updating line.
    line: LiveLine,
}

impl Ticker {
    fn new(cx: &Context, total: usize) -> Ticker {
        let terminal = std::io::stderr().is_terminal();
        let mut ticker =
            Ticker { total, done: 0, failed: 0, terminal, quiet: cx.global.quiet, line: LiveLine::default() };
        ticker.draw();
        ticker
    }

    fn draw(&mut self) {
        if self.quiet || !self.terminal {
            return;
        }
        let text = format!("{}/{} databases, {} failed", self.done, self.total, self.failed);
        self.line.draw(&text, text.len());
    }

    fn finished(&mut self, outcome: &Outcome) {
        self.done += 1;
        self.failed += usize::from(!outcome.ok);
        if self.quiet {
            return;
        }
        if self.terminal {
            self.draw();
            return;
        }
        let what = match &outcome.error {
            Some(error) => format!("failed: {}", error.lines().next().unwrap_or_default()),
            None => "ok".to_string(),
        };
        let width = self.total.to_string().len();
        eprintln!("[{:>width$}/{}] {}: {}", self.done, self.total, outcome.database, printable(&what));
    }

    /// Erases the updating line.
    fn end(&mut self) {
        self.line.clear();
    }
}

/// `base` for no heads, else the heads joined by commas; `?` when unknown.
fn heads_text(heads: Option<&Vec<String>>) -> String {
    match heads {
        None => "?".into(),
        Some(list) if list.is_empty() => "base".into(),
        Some(list) => list.join(","),
    }
}

fn time_text(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// The result as a table, one row a database in the list's order.
fn table(job: &Job<'_>, outcomes: &[Outcome]) -> String {
    let dry = matches!(job, Job::Run { args, .. } if args.dry_run);
    let header: Vec<&str> = match job {
        Job::Run { .. } if dry => vec!["DATABASE", "HEADS", "PLAN", "TIME", "ERROR"],
        Job::Run { .. } => vec!["DATABASE", "BEFORE", "AFTER", "APPLIED", "TIME", "ERROR"],
        Job::Status => vec!["DATABASE", "HEADS", "PENDING", "NOTES", "TIME", "ERROR"],
        Job::Check(_) => vec!["DATABASE", "HEADS", "TIME", "ERROR"],
    };
    let mut rows = vec![header.iter().map(ToString::to_string).collect::<Vec<_>>()];
    for o in outcomes {
        let error = o.error.as_deref().unwrap_or_default().lines().next().unwrap_or_default().to_string();
        let before = heads_text(o.heads_before.as_ref());
        let time = time_text(o.ms);
        let row = match job {
            Job::Run { .. } if dry => {
                let plan = o.plan.as_ref().map_or("?".into(), |p| format!("{} step(s)", p.len()));
                vec![o.database.clone(), before, plan, time, error]
            }
            Job::Run { .. } => {
                let mut applied = match (o.applied, o.unapplied) {
                    (up, 0) => up.to_string(),
                    (0, down) => format!("{down} down"),
                    (up, down) => format!("{up} up, {down} down"),
                };
                if o.skipped > 0 {
                    applied += &format!(" ({} by another run)", o.skipped);
                }
                vec![o.database.clone(), before, heads_text(o.heads_after.as_ref()), applied, time, error]
            }
            Job::Status => {
                let pending = o.pending.as_ref().map_or("?".into(), |p| p.len().to_string());
                let notes = o.notes.as_ref().map(|n| n.join(", ")).unwrap_or_default();
                vec![o.database.clone(), before, pending, notes, time, error]
            }
            Job::Check(_) => vec![o.database.clone(), before, time, error],
        };
        rows.push(row.into_iter().map(|cell| printable(&cell).into_owned()).collect());
    }
    render(&rows)
}

/// Rows as aligned columns, two spaces apart (the last column unpadded).
fn render(rows: &[Vec<String>]) -> String {
    use unicode_width::UnicodeWidthStr;
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.width())).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < row.len() {
                line.push_str(&" ".repeat(widths[c] - cell.width() + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "PW" => Some("s3cret".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn a_list_file() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("dbs.txt");
        std::fs::write(
            &list,
            "# fleet\n\n  postgres://app:${PW}@db1/app  \nsqlite://a.db\n/abs/b.db\nmysql://u:p$$w@h/x\n",
        )
        .unwrap();
        let entries = read_list(&list, vars).unwrap();
        let urls: Vec<&str> = entries.iter().map(|e| e.url.as_str()).collect();
        let a = format!("sqlite://{}", dir.path().join("a.db").display());
        assert_eq!(urls, ["postgres://app:s3cret@db1/app", a.as_str(), "/abs/b.db", "mysql://u:p$w@h/x"]);
        assert_eq!(entries.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4, 5, 6]);
    }

    #[test]
    fn a_bad_line_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("dbs.txt");
        let error = |text: &str| {
            std::fs::write(&list, text).unwrap();
            read_list(&list, vars).unwrap_err().lines.join("\n")
        };
        let place = format!("{}:", list.display());
        let e = error("sqlite://a.db\n# x\npostgres://u:${NOPE}@h/d\n");
        assert_eq!(e, format!("{place}3: environment variable `NOPE` is not set"));
        let e = error("\nredis://u:hunter2@h/d\n");
        assert!(e.starts_with(&format!("{place}2: unsupported database URL `redis://u:***@h/d`")), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = error("${EMPTY}\n");
        assert!(e.starts_with(&format!("{place}1: invalid database URL")), "{e}");
        let e = error("sqlite://a.db\nsqlite://a.db\n");
        assert_eq!(e, format!("{place}2: the same database as line 1"));
        let e = error("# nothing\n\n");
        assert!(e.contains("no database URL"), "{e}");
        let e = error("postgres://h/${1X}\n");
        assert!(e.contains(":1: `${1X}` is not a variable name"), "{e}");
    }

    #[test]
    fn a_panic_is_one_items_error() {
        let items: Vec<usize> = (0..50).collect();
        let seen = AtomicUsize::new(0);
        let results = pool(
            &items,
            4,
            |&i| {
                if i == 7 {
                    panic!("boom {i}");
                }
                Ok(i * 2)
            },
            |&i, why| Err(format!("{i}: {why}")),
            |_| {
                seen.fetch_add(1, Ordering::SeqCst);
            },
        );
        assert_eq!(seen.load(Ordering::SeqCst), 50);
        assert_eq!(results[7], Err("7: panicked: boom 7".to_string()));
        assert_eq!(results[49], Ok(98));
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 49);
    }

    #[test]
    fn the_table() {
        let rows = vec![
            vec!["DATABASE".to_string(), "HEADS".into(), "ERROR".into()],
            vec!["sqlite://a.db".to_string(), "base".into(), String::new()],
        ];
        assert_eq!(render(&rows), "DATABASE       HEADS  ERROR\nsqlite://a.db  base\n");
    }
}
