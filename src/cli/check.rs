//! `check`: validate the graph (and, with a database, the applied state)
//! and report every problem at once, one `error:` line each, for CI.

use clap::Args;
use serde::Serialize;

use migraph::backend::{dialect_of, redact, scrub};
use migraph::revision::dialect_name;
use migraph::runner::{Interruption, RunError};
use migraph::{Migrator, RevisionGraph};

use super::output::to_json;
use super::{hints, session, CliError, Context, Result};

#[derive(Debug, Default, Args)]
pub struct CheckArgs {
    /// Accept any number of heads, even on a shared or unlabelled branch
    ///
    /// Without it, several heads pass only when each head is on its own labelled branch
    /// (long-lived branches such as expand/contract, or one label per app): some revision
    /// at or below the head, through parents, carries a label, and no other head is at or
    /// above that revision. Other heads are branches that were never merged. Also
    /// `allow_multiple_heads = true` in migraph.toml.
    #[arg(long)]
    pub allow_multiple_heads: bool,
    /// Also run `migraph lint` over the revisions not applied yet: its errors fail the check, its warnings are printed
    #[arg(long)]
    pub lint: bool,
}

/// Problem lines and the hints that go with them (each hint once).
#[derive(Default)]
struct Found {
    problems: Vec<String>,
    hints: Vec<String>,
}

impl Found {
    fn hint(&mut self, hint: impl Into<String>) {
        let hint = hint.into();
        if !self.hints.contains(&hint) {
            self.hints.push(hint);
        }
    }
}

/// Several heads that are not each on their own labelled branch: branches
/// that were never merged. One line per group of heads.
fn heads_problem(graph: &RevisionGraph, found: &mut Found) {
    let problems = graph.heads_off_their_branch();
    if problems.is_empty() {
        return;
    }
    let heads = graph.heads().len();
    for problem in problems {
        found.problems.push(format!("the graph has {heads} heads; {problem}"));
    }
    found.hint(
        "join the heads with `migraph merge`, give each long-lived branch a label on its first revision \
         (`-- labels: NAME`), or pass --allow-multiple-heads (allow_multiple_heads = true in migraph.toml) \
         if the branches are meant to stay open",
    );
}

/// With a database, what [`Migrator::status`] finds: revisions in flight,
/// applied revisions whose files changed or are missing, pending revisions
/// without SQL for the database, revisions that failed or were interrupted
/// half-way. The applied revisions, or why the database cannot be read.
fn database_problems(migrator: &Migrator, url: &str, found: &mut Found) -> std::result::Result<Vec<String>, String> {
    let reason =
        |e: CliError| e.lines.iter().flat_map(|line| line.lines()).map(str::trim).collect::<Vec<_>>().join(" ");
    let mut conn = session::connect_for_reading(url).map_err(reason)?;
    let status = match migrator.status(&mut conn) {
        Ok(status) => status,
        Err(RunError::State(e)) => {
            found.problems.push(format!("the version table is damaged or does not fit these files: {e}"));
            let targets = migrator.repair_targets(&mut conn).map_err(|e| e.to_string())?;
            found.hint(hints::repair(&targets));
            return Ok(Vec::new());
        }
        Err(e) => return Err(e.to_string()),
    };
    for p in &status.running {
        // In flight, not failed: no repair advice.
        found.problems.push(format!("RUNNING: revision `{}` {p} ({})", p.id, super::db::RUNNING));
        found.hint("wait for the other run to finish, then check again");
    }
    for d in &status.drift {
        found.problems.push(format!(
            "{}: applied revision `{}` changed since it was applied (checksum drift)",
            d.path.display(),
            d.id
        ));
        found.hint(
            "restore edited files, or record intended edits with `migraph stamp --accept-drift`; \
             `migraph status` shows the whole picture",
        );
    }
    for id in &status.missing_files {
        found.problems.push(format!("applied revision `{id}` has no file (the database is ahead of these files)"));
        found.hint(
            "check out the revision files the database was migrated with (or run the release that has them); \
             if another project uses the same database, give each its own version table (--table) or schema",
        );
    }
    let dialect = dialect_of(url).ok();
    let graph = migrator.graph();
    for r in status.pending.iter().filter_map(|id| graph.get(id)) {
        if let Some(name) = dialect.filter(|d| r.up_for(*d).is_none()).map(dialect_name) {
            let path = r.path.display();
            found.problems.push(format!("{path}: revision `{}` has no up SQL for {name}: upgrade cannot run it", r.id));
            found.hint(format!("add a `-- migrate:up {name}` section (or a generic `-- migrate:up`) to it"));
        }
    }
    for Interruption { pending: p, recovery } in &status.interrupted {
        found.problems.push(format!("revision `{}` failed or was interrupted {p}", p.id));
        match recovery {
            Some(recovery) => found.hint(hints::recovery(recovery, &p.id)),
            None => found.hint("inspect the schema, then record the truth with `migraph stamp`"),
        }
    }
    Ok(status.applied)
}

#[derive(Serialize)]
struct Report {
    ok: bool,
    revisions: usize,
    heads: Vec<String>,
    problems: Vec<String>,
}

pub fn check(cx: &Context, args: &CheckArgs) -> Result<String> {
    let settings = &cx.settings;
    if cx.global.verbose > 0 {
        let config = settings.config_file.as_ref().map_or_else(|| "(none)".to_string(), |p| p.display().to_string());
        eprintln!("config file: {config}");
        eprintln!("revisions:   {}", settings.revisions.display());
        eprintln!("database:    {}", settings.database_url.as_deref().map_or_else(|| "(none)".into(), redact));
        eprintln!("table:       {}", settings.table);
    }
    let graph = match migraph::load(&settings.revisions) {
        Ok(graph) => graph,
        // Files that do not parse or do not form a DAG: every problem, as every command reports them.
        Err(migraph::Error::Graph(e)) => {
            let problems: Vec<String> = e.problems.iter().map(ToString::to_string).collect();
            let count = problems.len();
            if cx.global.json {
                print!("{}", to_json(&Report { ok: false, revisions: 0, heads: Vec::new(), problems }));
            }
            let mut error = CliError::from(migraph::Error::Graph(e));
            error.hints.insert(0, format!("{count} problem(s) found"));
            return Err(error);
        }
        Err(other) => return Err(other.into()),
    };
    let heads: Vec<String> = graph.heads().iter().map(|r| r.id.clone()).collect();
    let mut found = Found::default();
    if !args.allow_multiple_heads && !settings.allow_multiple_heads {
        heads_problem(&graph, &mut found);
    }
    let dialect = settings.url().ok().flatten().and_then(|url| migraph::backend::dialect_of(url).ok());
    for problem in migraph::backend::split::sql_problems(&graph, dialect) {
        found.problems.push(problem.to_string());
        found.hint("fix the revision's SQL: no plan that includes it can run");
    }
    let migrator = session::migrator(cx, graph)?;
    let graph = migrator.graph();
    let mut applied = None;
    if let Some(url) = settings.url()? {
        match database_problems(&migrator, url, &mut found) {
            Ok(ids) => applied = Some(ids),
            Err(reason) => {
                found.problems.push(format!("cannot read the database {}: {reason}", redact(url)));
                found.hint("check the database URL (--database-url, DATABASE_URL or migraph.toml) and the server");
            }
        }
        // The report goes to stdout too: no password in it.
        for line in found.problems.iter_mut() {
            *line = scrub(line, url);
        }
    }
    // Unedited templates; applied revisions are history and are not judged again.
    let applied_ids: std::collections::HashSet<&String> = applied.iter().flatten().collect();
    for empty in migraph::runner::empty_up_problems(graph, dialect).into_iter().filter(|e| !applied_ids.contains(&e.id))
    {
        found.problems.push(migraph::runner::RunError::EmptyUp(Box::new(empty)).to_string());
        found.hint(format!(
            "write the SQL of each revision with an empty up section, or add the line `{}` to it if it is meant \
             to run nothing",
            migraph::runner::EMPTY_MARKER
        ));
    }
    // ALTER TABLE forms SQLite cannot run: errors for a SQLite database, warnings when none is set.
    if dialect.is_none_or(|d| d == migraph::backend::Dialect::Sqlite) {
        let applied = |id: &str| applied_ids.iter().any(|a| *a == id);
        for finding in migraph::lint::sqlite_alter::graph_findings(graph, &applied) {
            if dialect.is_some() {
                found.problems.push(finding.to_string());
                found.hint(hints::sqlite_alter(&finding));
            } else if !cx.global.quiet {
                let paint = cx.global.stderr_paint();
                eprintln!("{} {}", paint.paint(super::style::Style::Warning, "warning:"), finding);
                eprintln!("{} {}", paint.paint(super::style::Style::Hint, "hint:"), hints::sqlite_alter(&finding));
            }
        }
    }
    if args.lint {
        let applied = |id: &str| applied_ids.iter().any(|a| *a == id);
        for problem in super::lint::for_check(cx, graph, dialect, &applied) {
            found.problems.push(problem);
            found.hint(super::lint::CHECK_HINT);
        }
    }
    let report = Report { ok: found.problems.is_empty(), revisions: graph.len(), heads, problems: found.problems };
    if report.ok {
        if let (Some(_), Ok(Some(url))) = (&applied, settings.url()) {
            super::db::announce(cx, url, false);
        }
        if cx.global.json {
            return Ok(to_json(&report));
        }
        let database =
            applied.map(|ids| format!("; database: {} applied, checksums match", ids.len())).unwrap_or_default();
        return Ok(format!(
            "ok: {} revisions, {} head(s): {}{database}\n",
            report.revisions,
            report.heads.len(),
            report.heads.join(", ")
        ));
    }
    if cx.global.json {
        print!("{}", to_json(&report));
    }
    let mut hints = vec![format!("{} problem(s) found", report.problems.len())];
    hints.extend(found.hints);
    Err(CliError { lines: report.problems, hints, code: 1 })
}
