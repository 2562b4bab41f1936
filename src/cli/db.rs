//! `current` and `status`: what the database has, compared with the files.

use std::path::Path;

use serde::Serialize;

use migraph::backend::{redact, Backend, DatabaseUrl, DbError};
use migraph::migrator::Inspection;
use migraph::runner::RunError;
use migraph::status::{repair_targets, Analysis, DbState, StateError};
use migraph::RevisionGraph;

use super::output::{applied_text, head_line, json, line, printable, to_json, RevisionDbJson, RevisionJson, Rows};
use super::run::url;
use super::style::Style;
use super::{session, verified, CliError, Context, Result};

/// The database state, and what [`migraph::Migrator::inspect`] makes of it.
pub(super) struct Seen {
    pub(super) db: DbState,
    pub(super) analysis: Analysis,
    /// Another migraph run holds the lock: the markers are in flight.
    pub(super) running: bool,
}

/// The database as commands name it: the password redacted, a SQLite file
/// below the current directory relative to it (`sqlite://app.db`), control
/// characters escaped.
pub fn shown_url(url: &str) -> String {
    if let (Ok(DatabaseUrl::Sqlite(sqlite)), Ok(cwd)) = (DatabaseUrl::parse(url), std::env::current_dir()) {
        if let Some(relative) = sqlite.path.as_deref().and_then(|path| Path::new(path).strip_prefix(&cwd).ok()) {
            if !relative.as_os_str().is_empty() {
                return printable(&sqlite.with_path(&relative.display().to_string())).into_owned();
            }
        }
    }
    printable(&redact(url)).into_owned()
}

/// Whether `url` names a SQLite file that does not exist (yet).
pub fn sqlite_file_missing(url: &str) -> bool {
    migraph::backend::sqlite_path(url).is_some_and(|path| !Path::new(&path).exists())
}

/// Prints `database: <url>` on stderr (unless `-q`): the first line of the
/// progress of every command that uses a database, once the files loaded
/// and the database answered (so an error before is still the first line).
/// `created`: this run created the SQLite file (`(new file)`); a SQLite
/// file that does not exist is `(no file yet)`. Never on stdout, so
/// `--json` and `--sql` outputs stay clean.
pub fn announce(cx: &Context, url: &str, created: bool) {
    if cx.global.quiet {
        return;
    }
    let note = match (created, sqlite_file_missing(url)) {
        (true, _) => " (new file)",
        (false, true) => " (no file yet)",
        (false, false) => "",
    };
    eprintln!("database: {}{note}", shown_url(url));
}

/// [`announce`] at the first event of a run (the plan, or waiting for the
/// lock), so that an error from the run's checks stays the first line.
pub struct Announcer<'a> {
    cx: &'a Context,
    url: &'a str,
    created: bool,
    done: bool,
}

impl<'a> Announcer<'a> {
    pub fn new(cx: &'a Context, url: &'a str, created: bool) -> Announcer<'a> {
        Announcer { cx, url, created, done: false }
    }

    /// Announces the database the first time it is called.
    pub fn once(&mut self) {
        if !self.done {
            self.done = true;
            announce(self.cx, self.url, self.created);
        }
    }
}

/// Loads the files while connecting, then reads and inspects the database
/// through the [`migraph::Migrator`].
pub(super) fn look(cx: &Context) -> Result<(RevisionGraph, Seen)> {
    let url = url(cx)?;
    let (graph, mut conn) = cx.headers_while(|| session::connect_for_reading(url))?;
    let migrator = session::migrator(cx, graph)?;
    let db = read(cx, &mut conn)?;
    let inspection = migrator.inspect(&mut conn, &db).map_err(|e| match e {
        RunError::State(StateError::Squash(partial)) => CliError::new(&partial).hint(super::hints::squash(&partial)),
        RunError::State(e) => damaged(cx, migrator.graph(), &db, &e.to_string()),
        e => not_running(e),
    })?;
    let Inspection { analysis, running, .. } = inspection;
    Ok((migrator.into_graph(), Seen { db, analysis, running }))
}

/// The state [`migraph::Migrator::read_state`] reads, with the version table named in
/// its error, without the text of the stored down sections (what is shown
/// is whether a row has one, never its SQL).
pub(super) fn read(cx: &Context, conn: &mut dyn Backend) -> Result<DbState> {
    DbState::read_without_down_sql(conn, cx.settings.version_table()).map_err(|e| read_error(&cx.settings.table, &e))
}

/// A version table that cannot be read.
pub(super) fn read_error(table: &str, e: &DbError) -> CliError {
    let mut error = CliError::new(format!("cannot read the version table `{table}`: {e}"));
    error.hints.extend(super::hints::db(e));
    error
}

/// An error of asking whether another run holds the lock (the only
/// [`RunError::Db`] of [`migraph::Migrator::inspect`] and [`migraph::Migrator::redo_plan`]).
pub(super) fn not_running(e: RunError) -> CliError {
    match e {
        RunError::Db { source, .. } => {
            CliError::new(format!("cannot tell whether another migraph run holds the lock: {source}"))
        }
        e => e.into(),
    }
}

/// A version table whose rows cannot be read as a state of these files
/// (a row whose parent has no row, a row of an unknown revision with
/// unknown parents): what is wrong, the rows as stored, and the repair.
fn damaged(cx: &Context, files: &RevisionGraph, db: &DbState, problem: &str) -> CliError {
    let mut lines = vec![format!("the version table `{}` is damaged: {problem}", cx.settings.table)];
    for row in &db.rows {
        let known = if files.get(&row.id).is_some() { "" } else { ", no file" };
        let parents = if row.parents.is_empty() { "none" } else { row.parents.as_str() };
        lines.push(format!("row {} (parents: {parents}{known}) {}", row.id, row.message));
    }
    CliError { lines, hints: vec![repair_advice(files, db)], code: 1 }
}

/// How to repair a damaged version table: `stamp` with the likely truth.
pub fn repair_advice(files: &RevisionGraph, db: &DbState) -> String {
    super::hints::repair(&repair_targets(files, db))
}

pub(super) fn warn_pending(cx: &Context, seen: &Seen) {
    if cx.global.quiet {
        return;
    }
    let warning = cx.global.stderr_paint().paint(Style::Warning, "warning:");
    for p in &seen.db.pending {
        match seen.running {
            true => eprintln!("{warning} revision {} is running ({RUNNING})", failure(p)),
            false => eprintln!("{warning} revision {}", failure(p)),
        }
    }
}

pub fn current(cx: &Context) -> Result<String> {
    let (files, seen) = look(cx)?;
    let graph = seen.analysis.graph(&files);
    let heads = seen.analysis.state.heads(graph);
    announce(cx, url(cx)?, false);
    warn_pending(cx, &seen);
    let rows = Rows::of(&seen.db);
    if cx.global.json {
        let list: Vec<RevisionDbJson> = heads
            .iter()
            .map(|r| RevisionDbJson { revision: json(graph, r), db: Some(rows.json(&r.id, true)) })
            .collect();
        return Ok(to_json(&list));
    }
    if heads.is_empty() && !cx.global.quiet {
        eprintln!("(no revisions applied)");
    }
    let paint = cx.global.stdout_paint();
    let verbose = cx.global.verbose > 0;
    Ok(heads
        .iter()
        .map(|r| {
            let when = rows.get(&r.id).filter(|_| verbose).map(|row| format!("  ({})", applied_text(row)));
            head_line(graph, r, paint) + &when.unwrap_or_default() + "\n"
        })
        .collect())
}

/// A version row as `status --json` lists it, in applied order.
#[derive(Serialize)]
struct RowJson<'a> {
    id: &'a str,
    message: &'a str,
    applied_at: &'a str,
    execution_ms: i64,
}

#[derive(Serialize)]
struct StatusJson<'a> {
    database: String,
    table: &'a str,
    /// PostgreSQL schema of the version table, when one is configured.
    schema: Option<&'a str>,
    applied: Vec<&'a str>,
    /// The version rows in the order they were applied (`applied_at`, then ID).
    rows: Vec<RowJson<'a>>,
    heads: Vec<RevisionDbJson<'a>>,
    pending: Vec<RevisionJson<'a>>,
    drift: Vec<DriftJson>,
    missing_files: &'a [String],
    failed: &'a [migraph::backend::PendingRow],
    /// Markers of revisions another run is applying now (it holds the lock).
    running: &'a [migraph::backend::PendingRow],
    /// The last `migraph verify` of this database on this machine (null: none).
    verified: Option<VerifiedJson<'a>>,
}

#[derive(Serialize)]
struct VerifiedJson<'a> {
    verified_at: &'a str,
    differences: usize,
    /// `current`: neither the schema nor the applied revisions changed
    /// since; `changed`: one of them did.
    freshness: verified::Freshness,
}

#[derive(Serialize)]
struct DriftJson {
    id: String,
    path: String,
    recorded: String,
    current: String,
}

pub fn status(cx: &Context) -> Result<String> {
    let (files, seen) = look(cx)?;
    let graph = seen.analysis.graph(&files);
    let state = &seen.analysis.state;
    let applied = state.applied(graph);
    let heads = state.heads(graph);
    let pending = seen.analysis.pending(&files);
    let drift = &seen.analysis.drift;
    let rows = Rows::of(&seen.db);
    let record = verified::load(cx, url(cx)?);
    let freshness = match &record {
        Some(record) => {
            let mut conn = session::connect_for_reading(url(cx)?)?;
            Some(verified::freshness(cx, record, &mut conn, &seen.db))
        }
        None => None,
    };
    if cx.global.json {
        // Text output names the database on stdout, its first line.
        announce(cx, url(cx)?, false);
        let report = StatusJson {
            database: redact(url(cx)?),
            table: &cx.settings.table,
            schema: cx.settings.schema.as_deref(),
            applied: applied.iter().map(|r| r.id.as_str()).collect(),
            rows: seen
                .db
                .rows
                .iter()
                .map(|row| RowJson {
                    id: &row.id,
                    message: &row.message,
                    applied_at: &row.applied_at,
                    execution_ms: row.execution_ms,
                })
                .collect(),
            heads: heads
                .iter()
                .map(|r| RevisionDbJson { revision: json(graph, r), db: Some(rows.json(&r.id, true)) })
                .collect(),
            pending: pending.iter().map(|r| json(graph, r)).collect(),
            drift: drift
                .iter()
                .map(|d| DriftJson {
                    id: d.id.clone(),
                    path: d.path.display().to_string(),
                    recorded: d.recorded.clone(),
                    current: d.current.clone(),
                })
                .collect(),
            missing_files: &seen.analysis.stored,
            failed: if seen.running { &[] } else { &seen.db.pending },
            running: if seen.running { &seen.db.pending } else { &[] },
            verified: record.as_ref().zip(freshness).map(|(r, freshness)| VerifiedJson {
                verified_at: &r.verified_at,
                differences: r.differences,
                freshness,
            }),
        };
        return Ok(to_json(&report));
    }
    let paint = cx.global.stdout_paint();
    let file = if sqlite_file_missing(url(cx)?) { ", no file yet" } else { "" };
    let mut out = format!("database: {} (table {}{file})\n", shown_url(url(cx)?), table_name(cx));
    // Stored revisions (applied, file gone) count among the revisions.
    let without_file = seen.analysis.stored.len();
    let without = if without_file == 0 { String::new() } else { format!(" ({without_file} without a file)") };
    out += &format!("applied:  {} of {} revision(s){without}\n", applied.len(), graph.len());
    if heads.is_empty() {
        out += "heads:    (none: nothing applied)\n";
    }
    for head in &heads {
        let when = rows.get(&head.id).map(|row| format!("  ({})", applied_text(row))).unwrap_or_default();
        out += &format!("head:     {}{when}\n", head_line(graph, head, paint));
    }
    if pending.is_empty() {
        out += "pending:  none, up to date with every head\n";
    } else {
        out +=
            &format!("pending:  {} revision(s) (`migraph upgrade heads` applies them in this order)\n", pending.len());
        for r in &pending {
            out += &format!("  {}\n", line(graph, r));
        }
    }
    out += &format!("schema:   {}\n", printable(&verified::describe(record.as_ref(), freshness)));
    for d in drift {
        out += &format!(
            "{}    {} ({}) changed since it was applied\n",
            paint.paint(Style::Alert, "drift:"),
            d.id,
            printable(&d.path.display().to_string())
        );
    }
    for s in &seen.analysis.squashes {
        let replaced = printable(&s.drop.join(", ")).into_owned();
        out += &match s.record {
            true => format!(
                "squash:   {} counts as applied ({replaced} are); the next run records it in their place (no SQL)\n",
                printable(&s.squash)
            ),
            false => {
                let squash = printable(&s.squash);
                format!("squash:   the next run drops the leftover rows of {replaced}, replaced by {squash}\n")
            }
        };
    }
    for id in &seen.analysis.stored {
        out +=
            &format!("missing:  {} is applied but has no file (the database is ahead of these files)\n", printable(id));
    }
    for p in seen.db.pending.iter().filter(|_| seen.running) {
        out += &format!("{}  {} ({RUNNING})\n", paint.paint(Style::Warning, "RUNNING:"), failure(p));
    }
    for p in seen.db.pending.iter().filter(|_| !seen.running) {
        out += &format!("{}   {}\n", paint.paint(Style::Alert, "FAILED:"), failure(p));
        if let Some(recovery) = migraph::runner::Recovery::new(graph, state, p) {
            out += &format!("repair:   {}\n", printable(&super::hints::recovery(&recovery, &p.id)));
        }
    }
    Ok(out)
}

/// Why a marker is shown as running.
pub const RUNNING: &str = "another migraph run holds the lock";

/// `<id> going <direction> (started <time>): <error>`, from a marker row,
/// with control characters escaped: these are texts the database stored.
fn failure(p: &migraph::backend::PendingRow) -> String {
    printable(&format!("{} {p}", p.id)).into_owned()
}

/// The version table as `status` names it: `schema.table` when a
/// PostgreSQL schema is configured.
fn table_name(cx: &Context) -> String {
    match &cx.settings.schema {
        Some(schema) => format!("{schema}.{}", cx.settings.table),
        None => cx.settings.table.clone(),
    }
}
