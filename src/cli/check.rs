//! `check`: validate the graph (and, with a database, the applied state)
//! and report every problem at once, one `error:` line each, for CI.

use clap::Args;
use serde::Serialize;

use migraph::backend::{redact, scrub, Dialect};
use migraph::revision::dialect_name;
use migraph::runner::Recovery;
use migraph::status::{Analysis, DbState};
use migraph::RevisionGraph;

use super::output::to_json;
use super::run::read_state;
use super::{CliError, Context, Result};

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

/// With a database: applied revisions whose files changed or are missing,
/// and revisions that failed or were interrupted half-way.
fn database_problems(graph: &RevisionGraph, db: &DbState, dialect: Option<Dialect>, found: &mut Found) {
    let analysis = match Analysis::new(graph, db) {
        Ok(analysis) => Some(analysis),
        Err(e) => {
            found.problems.push(format!("the version table is damaged or does not fit these files: {e}"));
            found.hint(super::db::repair_advice(graph, db));
            None
        }
    };
    if let Some(analysis) = &analysis {
        for d in &analysis.drift {
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
        for id in &analysis.stored {
            found.problems.push(format!("applied revision `{id}` has no file (the database is ahead of these files)"));
            found.hint(
                "check out the revision files the database was migrated with (or run the release that has them); \
                 if another project uses the same database, give each its own version table (--table) or schema",
            );
        }
        for r in analysis.pending(graph).into_iter().filter(|r| dialect.is_some_and(|d| r.up_for(d).is_none())) {
            let name = dialect.map_or("", dialect_name);
            let path = r.path.display();
            found.problems.push(format!("{path}: revision `{}` has no up SQL for {name}: upgrade cannot run it", r.id));
            found.hint(format!("add a `-- migrate:up {name}` section (or a generic `-- migrate:up`) to it"));
        }
    }
    for p in &db.pending {
        let error = p.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default();
        found.problems.push(format!(
            "revision `{}` failed or was interrupted going {} (started {}){error}",
            p.id, p.direction, p.started_at
        ));
        let files = analysis.as_ref().map_or(graph, |a| a.graph(graph));
        match analysis.as_ref().and_then(|a| Recovery::new(files, &a.state, p)) {
            Some(recovery) => found.hint(recovery.advice(&p.id)),
            None => found.hint("inspect the schema, then record the truth with `migraph stamp`"),
        }
    }
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
    let mut applied = None;
    if let Some(url) = settings.url()? {
        match read_state(url, &settings.version_table()) {
            Ok(mut db) => {
                if !db.pending.is_empty() && super::run::run_in_progress(cx, url)? {
                    // In flight, not failed: no repair advice.
                    for p in db.pending.drain(..) {
                        found.problems.push(format!(
                            "RUNNING: revision `{}` going {} (started {}) ({})",
                            p.id,
                            p.direction,
                            p.started_at,
                            super::db::RUNNING
                        ));
                        found.hint("wait for the other run to finish, then check again");
                    }
                }
                database_problems(&graph, &db, migraph::backend::dialect_of(url).ok(), &mut found);
                applied = Some(db.rows.len());
            }
            Err(e) => {
                found.problems.push(format!("cannot read the database {}: {}", redact(url), e.lines.join(" ")));
                found.hint("check the database URL (--database-url, DATABASE_URL or migraph.toml) and the server");
            }
        }
        // The report goes to stdout too: no password in it.
        for line in found.problems.iter_mut() {
            *line = scrub(line, url);
        }
    }
    let report = Report { ok: found.problems.is_empty(), revisions: graph.len(), heads, problems: found.problems };
    if report.ok {
        if cx.global.json {
            return Ok(to_json(&report));
        }
        let database = applied.map(|n| format!("; database: {n} applied, checksums match")).unwrap_or_default();
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
