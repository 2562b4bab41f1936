//! `migraph copy --to URL`: the database, schema and rows, into another
//! engine's database (see [`migraph::copy`]). The source is the usual
//! database URL; it is only read.
//!
//! Progress goes to stderr (one line per table; on a terminal, a line that
//! counts rows as they go), then a summary; stdout carries the comparison
//! of both sides (or, with `--dry-run`, the plan), as JSON with `--json`.

use std::io::{IsTerminal as _, Write as _};
use std::path::Path;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use migraph::backend::{redact, scrub, sqlite_path, AnyConnection, DatabaseUrl, Dialect};
use migraph::copy::{Check, CopyError, CopyOptions, Event};
use migraph::Step;

use super::output::{printable, to_json};
use super::{CliError, Context, Result};

#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The database to copy into (e.g. postgres://user@host/app); it must have no tables
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Print the plan (revisions to apply on the target, tables and row counts) without copying
    #[arg(long)]
    pub dry_run: bool,
    /// Copy into a target that already has the source's applied revisions and empty tables
    /// (e.g. to finish a MySQL copy that stopped)
    #[arg(long)]
    pub into_existing: bool,
}

/// `migraph copy`.
pub fn copy(cx: &Context, args: &CopyArgs) -> Result<String> {
    let from = super::run::url(cx)?;
    let to = args.to.as_str();
    let scrubbed = |mut e: CliError| {
        for line in e.lines.iter_mut().chain(e.hints.iter_mut()) {
            *line = scrub(line, to);
        }
        e
    };
    copy_between(cx, args, from, to).map_err(scrubbed)
}

fn copy_between(cx: &Context, args: &CopyArgs, from: &str, to: &str) -> Result<String> {
    let (shown_from, shown_to) = (redact(from), redact(to));
    let target_url = DatabaseUrl::parse(to).map_err(CliError::new)?;
    if DatabaseUrl::parse(from).map_err(CliError::new)? == target_url {
        return Err(CliError::new(format!("the source and the target are the same database `{shown_to}`")));
    }
    let graph = cx.graph()?;
    let migrator = super::session::migrator(cx, graph)?;
    let mut source = super::run::connect_existing(from)?
        .ok_or_else(|| CliError::new(format!("the source database `{shown_from}` does not exist")))?;
    let mut options = CopyOptions::default();
    options.into_existing = args.into_existing;
    let new_file = sqlite_path(to).filter(|path| !Path::new(path).exists());
    if args.dry_run {
        let mut target = super::session::connect_for_reading(to)?;
        let plan = migraph::copy::plan(&migrator, &mut source, &mut target, &options).map_err(|e| error(e, to))?;
        return Ok(show_plan(cx, &shown_from, &shown_to, &plan));
    }
    let mut target = AnyConnection::connect(to).map_err(|e| {
        CliError::new(format!("cannot open the target: {e}"))
            .hint(format!("create it with `migraph --database-url '{shown_to}' database create`"))
    })?;
    let started = Instant::now();
    let terminal = std::io::stderr().is_terminal() && !cx.global.quiet;
    let (quiet, verbose) = (cx.global.quiet, cx.global.verbose > 0);
    let mut live = false;
    let mut on_event = |event: Event<'_>| {
        if quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        match event {
            Event::Applied(step) if verbose => {
                let _ = writeln!(err, "applied on the target: {} {}", printable(&step.id), printable(&step.message));
            }
            Event::Rows { table, done, total } if terminal => {
                let _ = write!(err, "\r\x1b[Kcopying {}: {done}/{total} rows", printable(table));
                let _ = err.flush();
                live = true;
            }
            Event::TableDone { table, rows, ms } => {
                let clear = if std::mem::take(&mut live) { "\r\x1b[K" } else { "" };
                let _ = writeln!(err, "{clear}copied {}: {rows} row(s) in {ms} ms", printable(table));
            }
            Event::Verifying if verbose => {
                let _ = writeln!(err, "comparing both sides");
            }
            _ => {}
        }
    };
    let outcome = migraph::copy::copy(&migrator, &mut source, &mut target, &options, &mut on_event);
    if live {
        eprintln!();
    }
    let report = match outcome {
        Ok(report) => report,
        Err(e) => {
            drop(target);
            if let Some(path) = new_file {
                // The copy made this file: nothing of it is left behind.
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
            return Err(error(e, to));
        }
    };
    if !cx.global.quiet {
        let tables = report.checks.len();
        eprintln!(
            "copy: {} revision(s) applied, {tables} table(s) and {} row(s) copied to {} in {} ms; both sides compared equal",
            report.applied.len(),
            report.rows,
            printable(&shown_to),
            started.elapsed().as_millis()
        );
    }
    Ok(show_checks(cx, &report.applied, &report.checks))
}

#[derive(Serialize)]
struct PlanJson<'a> {
    source: &'a str,
    target: &'a str,
    schema: &'a [Step],
    tables: &'a [migraph::copy::TablePlan],
}

fn show_plan(cx: &Context, from: &str, to: &str, plan: &migraph::copy::CopyPlan) -> String {
    if cx.global.json {
        return to_json(&PlanJson { source: from, target: to, schema: &plan.schema, tables: &plan.tables });
    }
    let mut out = format!("copy {} to {}\n", printable(from), printable(to));
    out.push_str(&format!("schema: {} revision(s) to apply on the target\n", plan.schema.len()));
    for step in &plan.schema {
        out.push_str(&format!("  {:<4} {} {}\n", step.direction, printable(&step.id), printable(&step.message)));
    }
    out.push_str("tables, in the order they are filled:\n");
    let width = plan.tables.iter().map(|t| t.table.chars().count()).max().unwrap_or(0);
    for table in &plan.tables {
        out.push_str(&format!("  {:<width$}  {} row(s)\n", printable(&table.table), table.rows));
    }
    out
}

#[derive(Serialize)]
struct CheckJson<'a> {
    #[serde(flatten)]
    check: &'a Check,
    same: bool,
}

#[derive(Serialize)]
struct ReportJson<'a> {
    applied: &'a [Step],
    tables: Vec<CheckJson<'a>>,
}

fn show_checks(cx: &Context, applied: &[Step], checks: &[Check]) -> String {
    if cx.global.json {
        let tables = checks.iter().map(|check| CheckJson { check, same: check.matches() }).collect();
        return to_json(&ReportJson { applied, tables });
    }
    comparison(checks)
}

/// The comparison of both sides, one line per table.
fn comparison(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.table.chars().count()).max().unwrap_or(0).max(5);
    let header = format!(
        "{:<width$}  {:>11}  {:>11}  {:<16}  {}",
        "table", "source rows", "target rows", "source sha256", "target sha256"
    );
    let mut out = format!("{header}\n");
    for c in checks {
        let verdict = if c.matches() { "same" } else { "DIFFERENT" };
        out.push_str(&format!(
            "{:<width$}  {:>11}  {:>11}  {:<16}  {:<16}  {verdict}\n",
            printable(&c.table),
            c.source_rows,
            c.target_rows,
            short(&c.source_digest),
            short(&c.target_digest)
        ));
    }
    out
}

fn short(digest: &str) -> &str {
    digest.get(..16).unwrap_or(digest)
}

/// A copy error with what to do about it.
fn error(e: CopyError, to: &str) -> CliError {
    let shown = redact(to);
    match e {
        CopyError::Unclean(_) => {
            CliError::new(&e).hint("run `migraph status` on the source and repair it first (see `migraph stamp`)")
        }
        CopyError::TargetNotEmpty(_) => CliError::new(&e).hint(format!(
            "copy into a new, empty database (`migraph --database-url '{shown}' database create`), \
             or pass --into-existing if it already has the source's schema and no rows"
        )),
        CopyError::Mismatch(ref checks) => {
            CliError::new(format!("{e}; nothing was committed on the target\n{}", comparison(checks)))
        }
        CopyError::Unfinished { ref cause, schema_built, ref marker } => {
            let message = if schema_built {
                format!(
                    "{cause}\nthe target has the source's schema and none of the copied rows (their transaction was \
                     rolled back); table `{marker}` marks it as unfinished"
                )
            } else {
                format!(
                    "{cause}\nthe target may have part of the schema (MySQL commits DDL at once); table `{marker}` \
                     marks it as unfinished"
                )
            };
            let hint = if schema_built {
                format!("fix the cause, then finish with `migraph copy --to '{shown}' --into-existing`")
            } else {
                format!(
                    "drop and create the target again (`migraph --database-url '{shown}' database drop`, then \
                     `database create`) and copy again"
                )
            };
            CliError::new(message).hint(hint)
        }
        CopyError::Value { .. } | CopyError::Schema { .. } => {
            let dialect = DatabaseUrl::parse(to).map(|u| u.dialect()).unwrap_or(Dialect::Sqlite);
            let note = if dialect == Dialect::Mysql { "" } else { "; nothing was committed on the target" };
            CliError::new(format!("{e}{note}"))
        }
        other => CliError::new(other),
    }
}
