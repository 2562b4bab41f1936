//! `upgrade`, `downgrade`, `migrate` and `stamp`: plans run on a database,
//! shown with `--dry-run`, or written as a script with `--sql`.
//!
//! Progress goes to stderr (one line per revision, then a summary; on a
//! terminal, a plan of more than [`LIVE_ABOVE`] steps shows one updating
//! line instead); stdout carries only what scripts consume: `--dry-run
//! --json` plans, `--sql` scripts, and the `--backup` path.

use std::io::IsTerminal as _;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use migraph::backend::{dialect_of, sqlite_path, AnyConnection, Backend, Dialect};
use migraph::runner::{self, Event, RunOptions};
use migraph::status::DbState;
use migraph::{Direction, Plan, RevisionGraph, State, Step, Verb};

use super::output::{printable, to_json, LiveLine};
use super::style::{Paint, Style};
use super::{CliError, Context, Result};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Target(s): `heads`, `head`, an ID prefix, a label, `B@head`, `B@base`, `B@<rev>`, `B@±N`, `+N`, `-N`, `<rev>±N`, `base`
    /// [upgrade's default: heads; downgrade and migrate need one]
    #[arg(value_name = "TARGET", allow_negative_numbers = true)]
    pub targets: Vec<String>,
    /// Print the plan without running it
    #[arg(long, conflicts_with = "sql")]
    pub dry_run: bool,
    /// Print the SQL script for the URL's dialect without connecting
    #[arg(long)]
    pub sql: bool,
    /// With --sql: the starting state (repeatable) [default: empty]
    #[arg(long, value_name = "REV", requires = "sql")]
    pub from: Vec<String>,
    /// Run the whole plan in one transaction (SQLite, PostgreSQL)
    #[arg(long, conflicts_with_all = ["sql", "dry_run"])]
    pub single_transaction: bool,
    /// SQLite: copy the database beside its file before the first change (the run stops if it cannot)
    #[arg(long, conflicts_with_all = ["sql", "dry_run"])]
    pub backup: bool,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct StampArgs {
    /// Target(s) whose closure becomes the recorded state (`base` for none)
    #[arg(required_unless_present = "accept_drift", value_name = "TARGET", allow_negative_numbers = true)]
    pub targets: Vec<String>,
    /// Print the rows that would change without changing them
    #[arg(long)]
    pub dry_run: bool,
    /// Record the files' current checksums for applied revisions that drifted;
    /// takes no target and adds or removes no row
    #[arg(long, conflicts_with_all = ["targets", "dry_run"])]
    pub accept_drift: bool,
}

#[derive(Debug, Args)]
pub struct RedoArgs {
    /// The revision to redo: an ID prefix, a label, `B@head`... [default: the single applied head]
    #[arg(value_name = "REV", allow_negative_numbers = true)]
    pub rev: Option<String>,
    /// Print the plan (down, then up) without running it
    #[arg(long)]
    pub dry_run: bool,
    /// SQLite: copy the database beside its file before the first change (the run stops if it cannot)
    #[arg(long, conflicts_with = "dry_run")]
    pub backup: bool,
}

fn targets(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

/// The database URL, or an error saying where to set one.
pub fn url(cx: &Context) -> Result<&str> {
    cx.settings.url()?.ok_or_else(|| {
        CliError::new("no database URL").hint(
            "pass --database-url URL, set DATABASE_URL (in the environment or a .env file), \
             or set database_url in migraph.toml",
        )
    })
}

/// Opens the database and makes SQLite read its schema now (any statement
/// does), so that this overlaps with loading the revision files.
fn connect_warm(url: &str, busy_timeout: std::time::Duration) -> Result<AnyConnection> {
    let mut conn = AnyConnection::connect_with(url, busy_timeout).map_err(CliError::new)?;
    if conn.dialect() == Dialect::Sqlite {
        conn.int("SELECT COUNT(*) AS v FROM sqlite_master", &[]).map_err(CliError::new)?;
    }
    Ok(conn)
}

/// Opens the database, or `None` for a SQLite file that does not exist yet
/// (read-only commands must not create it).
pub fn connect_existing(url: &str) -> Result<Option<AnyConnection>> {
    if dialect_of(url).map_err(CliError::new)? == Dialect::Sqlite {
        if let Some(path) = sqlite_path(url) {
            if !std::path::Path::new(&path).exists() {
                return Ok(None);
            }
        }
    }
    AnyConnection::connect(url).map(Some).map_err(CliError::new)
}

/// Reads the version table without creating anything (`history` and
/// `show`, which read while the files load).
pub fn read_state(url: &str, table: &migraph::backend::sql::Table) -> Result<DbState> {
    match connect_existing(url)? {
        Some(mut conn) => DbState::read(&mut conn, table).map_err(|e| super::db::read_error(&table.name, &e)),
        None => Ok(DbState::default()),
    }
}

pub fn upgrade(cx: &Context, args: &UpgradeArgs) -> Result<String> {
    execute(cx, Verb::Upgrade, &args.run)
}

pub fn downgrade(cx: &Context, args: &RunArgs) -> Result<String> {
    execute(cx, Verb::Downgrade, args)
}

pub fn migrate(cx: &Context, args: &RunArgs) -> Result<String> {
    execute(cx, Verb::Migrate, args)
}

pub fn stamp(cx: &Context, args: &StampArgs) -> Result<String> {
    // A real stamp loads the SQL of what it records (the down sections it stores).
    let graph = if args.dry_run { cx.graph()? } else { cx.headers()? };
    let url = url(cx)?;
    let targets = targets(&args.targets);
    if args.dry_run {
        return dry_run(cx, &graph, url, Verb::Stamp, &targets);
    }
    if nothing_to_create(cx, &graph, url, Verb::Stamp, &targets)? {
        if !cx.global.quiet {
            eprintln!("stamped: 0 row(s) added, 0 row(s) removed; no SQL was run");
        }
        return Ok(String::new());
    }
    let mut options = options(cx, false, false);
    options.accept_drift = args.accept_drift;
    let created = super::db::sqlite_file_missing(url);
    let mut conn = AnyConnection::connect_with(url, cx.settings.lock_timeout).map_err(CliError::new)?;
    let mut announcer = super::db::Announcer::new(cx, url, created);
    let migrator = migraph::Migrator::from_graph(graph).with_options(options)?;
    let report = migrator.run(&mut conn, Verb::Stamp, &targets, |_| announcer.once())?;
    if !cx.global.quiet {
        let ups = report.done.iter().filter(|(s, _)| s.direction == Direction::Up).count();
        let downs = report.done.len() - ups;
        eprintln!("stamped: {ups} row(s) added, {downs} row(s) removed; no SQL was run");
        for (step, _) in &report.done {
            let what = if step.direction == Direction::Up { "recorded as applied" } else { "recorded as unapplied" };
            eprintln!("  {what}: {} {}", printable(&step.id), printable(&step.message));
        }
        if !report.accepted.is_empty() {
            eprintln!("recorded new checksums for: {}", report.accepted.join(", "));
        }
    }
    Ok(String::new())
}

fn options(cx: &Context, single_transaction: bool, backup: bool) -> RunOptions {
    // `RunOptions` is non-exhaustive: set fields on the default.
    let mut options = RunOptions::default();
    options.table = cx.settings.table.clone();
    options.schema = cx.settings.schema.clone();
    options.lock_timeout = cx.settings.lock_timeout;
    options.single_transaction = single_transaction;
    options.backup = backup;
    options
}

fn execute(cx: &Context, verb: Verb, args: &RunArgs) -> Result<String> {
    let targets = match (verb, targets(&args.targets)) {
        // As `diesel migration run` and `sqlx migrate run`: everything.
        (Verb::Upgrade, list) if list.is_empty() => vec!["heads"],
        (_, list) if list.is_empty() => {
            let mut e = CliError::new(format!("`migraph {verb}` needs a target"))
                .hint(format!("`migraph {verb} base` goes to the empty state; see `migraph {verb} --help`"));
            e.code = 2;
            return Err(e);
        }
        (_, list) => list,
    };
    if args.sql {
        return offline_script(cx, &cx.graph()?, verb, &targets, &args.from);
    }
    let url = url(cx)?;
    if args.dry_run {
        return dry_run(cx, &cx.graph()?, url, verb, &targets);
    }
    if args.backup && dialect_of(url).map_err(CliError::new)? != Dialect::Sqlite {
        return Err(CliError::new("--backup works with SQLite databases only")
            .hint("back up PostgreSQL with pg_dump and MySQL with mysqldump"));
    }
    let created = !sqlite_file_exists(url)?;
    // From headers only: the run loads and checks the SQL of what it runs.
    let (graph, mut conn) = if !created {
        cx.headers_while(|| connect_warm(url, cx.settings.lock_timeout))?
    } else {
        // Opening a SQLite file creates it: plan first (against the empty
        // state the file had a moment ago; the run plans again under its
        // lock), so that a plan that fails or has nothing to do leaves no file.
        let graph = cx.headers()?;
        if nothing_to_create(cx, &graph, url, verb, &targets)? {
            if !cx.global.quiet {
                eprintln!("{verb}: nothing to do");
            }
            return Ok(String::new());
        }
        (graph, connect_warm(url, cx.settings.lock_timeout)?)
    };
    let mut announcer = super::db::Announcer::new(cx, url, created);
    let quiet = cx.global.quiet;
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal() && cx.global.verbose == 0;
    let mut progress = Progress::new(verb, cx.global.stderr_paint(), terminal);
    let options = options(cx, args.single_transaction, args.backup);
    let migrator = migraph::Migrator::from_graph(graph).with_options(options)?;
    let report = migrator.run(&mut conn, verb, &targets, |event| {
        announcer.once();
        if !quiet {
            progress.event(event);
        }
    });
    progress.end(report.is_ok());
    Ok(summary(cx, &verb.to_string(), &report?, started))
}

/// After a run: the summary line on stderr; stdout gets the backup's path.
fn summary(cx: &Context, verb: &str, report: &runner::Report, started: Instant) -> String {
    let stdout = report.backup.as_ref().map(|path| format!("{}\n", path.display())).unwrap_or_default();
    if !cx.global.quiet {
        let ms = started.elapsed().as_millis();
        let ups = report.done.iter().filter(|(s, _)| s.direction == Direction::Up).count();
        let downs = report.done.len() - ups;
        if report.done.is_empty() && report.skipped.is_empty() {
            eprintln!("{verb}: nothing to do");
        } else {
            eprintln!("{verb}: {ups} applied, {downs} unapplied in {ms} ms");
        }
    }
    stdout
}

/// `migraph redo [REV]`: unapply REV and what needs it with the down SQL
/// stored at apply time, then apply them again from their files.
pub fn redo(cx: &Context, args: &RedoArgs) -> Result<String> {
    let url = url(cx)?;
    let rev = args.rev.as_deref();
    if args.dry_run {
        let (graph, mut conn) = cx.graph_while(|| super::session::connect_for_reading(url))?;
        let migrator = super::session::migrator(cx, graph)?;
        let db = super::db::read(cx, &mut conn)?;
        let redo = migrator.redo_plan(&mut conn, &db, rev).map_err(super::db::not_running)?;
        super::db::announce(cx, url, false);
        warn_drifted(cx, &redo.drifted);
        return Ok(show_plan(cx, "redo", &redo.steps()));
    }
    if args.backup && dialect_of(url).map_err(CliError::new)? != Dialect::Sqlite {
        return Err(CliError::new("--backup works with SQLite databases only")
            .hint("back up PostgreSQL with pg_dump and MySQL with mysqldump"));
    }
    if !sqlite_file_exists(url)? {
        return Err(runner::RunError::Redo(runner::RedoError::NothingApplied).into());
    }
    let (graph, mut conn) = cx.graph_while(|| connect_warm(url, cx.settings.lock_timeout))?;
    let mut announcer = super::db::Announcer::new(cx, url, false);
    let quiet = cx.global.quiet;
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal() && cx.global.verbose == 0;
    let mut progress = Progress::new("redo", cx.global.stderr_paint(), terminal);
    let migrator = migraph::Migrator::from_graph(graph).with_options(options(cx, false, args.backup))?;
    let report = migrator.redo(&mut conn, rev, |event| {
        announcer.once();
        if !quiet {
            progress.event(event);
        }
    });
    progress.end(report.is_ok());
    Ok(summary(cx, "redo", &report?, started))
}

/// The warning `--dry-run` gives for drifted revisions it would unapply.
fn warn_drifted(cx: &Context, drifted: &[String]) {
    if cx.global.quiet || drifted.is_empty() {
        return;
    }
    let paint = cx.global.stderr_paint();
    for id in drifted {
        eprintln!(
            "{} the file of {} changed since it was applied; the run unapplies it with the down section stored \
             when it was applied",
            paint.paint(Style::Warning, "warning:"),
            printable(id)
        );
    }
}

/// Plans of more than this many steps get one updating line on a terminal.
pub const LIVE_ABOVE: usize = 3;

/// Progress of a run on stderr: one line per revision, or, on a terminal
/// and for a long plan, one line rewritten in place (`\r`) as revisions run.
struct Progress {
    /// The command's name (`upgrade`, `redo`, ...).
    verb: String,
    paint: Paint,
    terminal: bool,
    /// Steps in the plan; whether the updating line is used.
    total: usize,
    live: bool,
    /// Steps started so far.
    started: usize,
    /// The updating line.
    line: LiveLine,
}

impl Progress {
    fn new(verb: impl std::fmt::Display, paint: Paint, terminal: bool) -> Progress {
        Progress {
            verb: verb.to_string(),
            paint,
            terminal,
            total: 0,
            live: false,
            started: 0,
            line: LiveLine::default(),
        }
    }

    fn event(&mut self, event: Event<'_>) {
        let paint = self.paint;
        let line = match event {
            Event::WaitingForLock => "waiting for another migraph run to release the lock...".to_string(),
            Event::Planned(plan) => {
                self.total = plan.steps.len();
                self.live = self.terminal && self.total > LIVE_ABOVE;
                if self.total <= 1 {
                    return;
                }
                format!("{}: {} step(s)", self.verb, self.total)
            }
            Event::Starting(step) => {
                self.started += 1;
                if self.live {
                    let width =
                        terminal_size::terminal_size_of(std::io::stderr()).map_or(80, |(w, _)| usize::from(w.0));
                    let (text, visible) = live_line(self.started, self.total, step, paint, width);
                    self.line.draw(&text, visible);
                }
                return;
            }
            Event::Finished { step, ms } if !self.live => format!(
                "  {} {}{} ({ms} ms)",
                verb_column(step.direction, paint),
                printable(&step.id),
                spaced(&printable(&step.message))
            ),
            Event::Finished { .. } => return,
            Event::Skipped(step) => format!("  skip {} (done by a concurrent run)", printable(&step.id)),
            Event::BackedUp(path) => format!("backup: {}", path.display()),
            Event::Squashed(squash) if squash.record => format!(
                "  squash {} recorded in place of {} (no SQL ran)",
                printable(&squash.squash),
                printable(&squash.drop.join(", "))
            ),
            Event::Squashed(squash) => format!(
                "  squash {}: dropped the leftover rows of {} (no SQL ran)",
                printable(&squash.squash),
                printable(&squash.drop.join(", "))
            ),
            Event::DriftedDown(step) => format!(
                "  {} the file of {} changed since it was applied; unapplying it with the down section stored \
                 when it was applied",
                paint.paint(Style::Warning, "warning:"),
                printable(&step.id)
            ),
            Event::UsingStoredDown(step) => format!(
                "  note: the file of {} is missing; unapplying it with the down section stored when it was applied",
                printable(&step.id)
            ),
            // An event this version does not know (`Event` is non-exhaustive).
            _ => return,
        };
        self.line.clear();
        eprintln!("{line}");
    }

    /// After the run: the updating line is erased when all went well, and
    /// kept (it names the failing revision) when the run failed.
    fn end(&mut self, ok: bool) {
        if ok {
            self.line.clear();
        } else {
            self.line.keep();
        }
    }
}

/// `up  ` / `down`: the direction, colored, padded to four columns.
fn verb_column(direction: Direction, paint: Paint) -> String {
    let word = direction.to_string();
    let pad = " ".repeat(4usize.saturating_sub(word.len()));
    paint.paint(Style::of(direction), &word) + &pad
}

/// `[ 12/300] up   5f1c0e9a2b7d add users table`, cut to fit in `width`
/// columns (one spare, so the terminal never wraps it); the text and its
/// width on the screen (display columns: wide characters count two).
fn live_line(position: usize, total: usize, step: &Step, paint: Paint, width: usize) -> (String, usize) {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let digits = total.to_string().len();
    let counter = format!("[{position:>digits$}/{total}] ");
    let fixed = counter.width() + 5;
    let room = width.saturating_sub(fixed + 1).max(12);
    let mut rest = format!("{}{}", printable(&step.id), spaced(&printable(&step.message)));
    if rest.width() > room {
        let mut used = 0;
        let kept: String = rest
            .chars()
            .take_while(|c| {
                used += c.width().unwrap_or(0);
                used < room
            })
            .collect();
        rest = kept + "…";
    }
    let visible = fixed + rest.width();
    (format!("{counter}{} {rest}", verb_column(step.direction, paint)), visible)
}

/// The plan against the database's current state, checked like a real run.
fn planned(cx: &Context, graph: &RevisionGraph, url: &str, verb: Verb, targets: &[&str]) -> Result<Plan> {
    let migrator = super::session::migrator(cx, graph.clone())?;
    let preview = migrator.preview(&mut super::session::connect_for_reading(url)?, verb, targets)?;
    for squash in preview.squashes.iter().filter(|_| !cx.global.quiet) {
        let replaced = squash.drop.join(", ");
        eprintln!("note: the run first records squash {} in place of {} (no SQL)", squash.squash, printable(&replaced));
    }
    warn_drifted(cx, &preview.drifted);
    Ok(preview.plan)
}

#[derive(Serialize)]
struct StepJson<'a> {
    id: &'a str,
    direction: Direction,
    message: &'a str,
}

fn dry_run(cx: &Context, graph: &RevisionGraph, url: &str, verb: Verb, targets: &[&str]) -> Result<String> {
    let plan = planned(cx, graph, url, verb, targets)?;
    super::db::announce(cx, url, false);
    Ok(show_plan(cx, &verb.to_string(), &plan))
}

/// A plan as `--dry-run` prints it: JSON steps, or one line per step.
fn show_plan(cx: &Context, verb: &str, plan: &Plan) -> String {
    if cx.global.json {
        let steps: Vec<StepJson> =
            plan.steps.iter().map(|s| StepJson { id: &s.id, direction: s.direction, message: &s.message }).collect();
        return to_json(&steps);
    }
    if plan.is_empty() {
        return format!("{verb}: nothing to do\n");
    }
    plan.steps
        .iter()
        .map(|s: &Step| format!("{:<4} {}{}\n", s.direction, printable(&s.id), spaced(&printable(&s.message))))
        .collect()
}

/// ` message`, or nothing for an empty message.
fn spaced(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" {message}")
    }
}

fn offline_script(
    cx: &Context,
    graph: &RevisionGraph,
    verb: Verb,
    targets: &[&str],
    from: &[String],
) -> Result<String> {
    let dialect = match cx.settings.url()? {
        Some(url) => dialect_of(url).map_err(CliError::new)?,
        None => Dialect::Sqlite,
    };
    let state = if from.is_empty() { State::empty(graph) } else { State::at(graph, &self::targets(from))? };
    let plan = migraph::plan(graph, &state, verb, targets)?;
    migraph::revision::check_dialect(graph, &plan, dialect)?;
    runner::empty_up_free(graph, &plan, dialect)?;
    runner::sqlite_alter_free(graph, &plan, dialect)?;
    let start = if from.is_empty() { "base".to_string() } else { from.join(" ") };
    let title = format!("migraph {verb} {} from {start}", targets.join(" "));
    migraph::script::script(graph, &plan, dialect, cx.settings.version_table(), &title).map_err(CliError::new)
}

/// For a SQLite file that does not exist yet (opening it would create it):
/// whether the plan against the empty state has nothing to do. The plan is
/// checked like a run's, so a plan that fails creates no file either; the
/// run plans again under its lock.
fn nothing_to_create(cx: &Context, graph: &RevisionGraph, url: &str, verb: Verb, targets: &[&str]) -> Result<bool> {
    if sqlite_file_exists(url)? {
        return Ok(false);
    }
    // Read through a connection to a file not created yet: an empty database.
    let migrator = super::session::migrator(cx, graph.clone())?;
    Ok(migrator.plan(&mut super::session::connect_for_reading(url)?, verb, targets)?.is_empty())
}

/// Whether the database exists: false for a SQLite file not created yet.
fn sqlite_file_exists(url: &str) -> Result<bool> {
    if dialect_of(url).map_err(CliError::new)? != Dialect::Sqlite {
        return Ok(true);
    }
    Ok(sqlite_path(url).is_none_or(|path| std::path::Path::new(&path).exists()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(direction: Direction, id: &str, message: &str) -> Step {
        Step { id: id.to_string(), direction, message: message.to_string() }
    }

    #[test]
    fn the_live_progress_line() {
        let off = Paint { on: false };
        let up = step(Direction::Up, "5f1c0e9a2b7d", "add users table");
        let (text, visible) = live_line(12, 300, &up, off, 100);
        assert_eq!(text, "[ 12/300] up   5f1c0e9a2b7d add users table");
        assert_eq!(visible, text.chars().count());
        let down = step(Direction::Down, "a1", "");
        assert_eq!(live_line(4, 5, &down, off, 100).0, "[4/5] down a1");

        let (cut, visible) = live_line(1, 9, &up, off, 30);
        assert_eq!(cut, "[1/9] up   5f1c0e9a2b7d add …");
        assert_eq!(visible, 29, "one column spare");

        let evil = step(Direction::Up, "x1", "a\rb\x1b[2J");
        assert_eq!(live_line(1, 9, &evil, off, 100).0, "[1/9] up   x1 a\\u{d}b\\u{1b}[2J");

        let (colored, visible) = live_line(2, 9, &up, Paint { on: true }, 100);
        assert_eq!(colored, "[2/9] \x1b[32mup\x1b[0m   5f1c0e9a2b7d add users table");
        assert_eq!(visible, "[2/9] up   5f1c0e9a2b7d add users table".len());

        // Wide characters take two columns: the line still fits in 30.
        let wide = step(Direction::Up, "w1", "表を作る表を作る表を作る");
        let (cut, visible) = live_line(1, 9, &wide, off, 30);
        assert_eq!(cut, "[1/9] up   w1 表を作る表を作…");
        assert_eq!(visible, 29, "{cut}");
    }
}
