//! `check`: validate the graph and report every problem at once.

use serde::Serialize;

use migraph::status::Analysis;

use super::output::to_json;
use super::run::read_state;
use super::{CliError, Context, Result};
use migraph::backend::redact;

enum CheckError {
    Graph(migraph::Error),
    Database(CliError),
}

/// With a database: applied revisions whose files changed or are missing,
/// and revisions that failed half-way.
fn database_problems(graph: &migraph::RevisionGraph, url: &str, table: &str) -> Result<Vec<String>> {
    let db = read_state(url, table)?;
    let analysis = Analysis::new(graph, &db).map_err(CliError::new)?;
    let mut problems: Vec<String> = analysis
        .drift
        .iter()
        .map(|d| {
            format!("{}: applied revision `{}` changed since it was applied (checksum drift)", d.path.display(), d.id)
        })
        .collect();
    problems.extend(
        analysis
            .stored
            .iter()
            .map(|id| format!("applied revision `{id}` has no file (the database is ahead of these files)")),
    );
    problems.extend(
        db.pending.iter().map(|p| format!("revision `{}` failed or was interrupted going {}", p.id, p.direction)),
    );
    Ok(problems)
}

#[derive(Serialize)]
struct Report {
    ok: bool,
    revisions: usize,
    heads: Vec<String>,
    problems: Vec<String>,
}

pub fn check(cx: &Context) -> Result<String> {
    if cx.global.verbose > 0 {
        let settings = &cx.settings;
        let config = settings.config_file.as_ref().map_or_else(|| "(none)".to_string(), |p| p.display().to_string());
        eprintln!("config file: {config}");
        eprintln!("revisions:   {}", settings.revisions.display());
        eprintln!("database:    {}", settings.database_url.as_deref().map_or_else(|| "(none)".into(), redact));
        eprintln!("table:       {}", settings.table);
    }
    let (report, error) = match migraph::load(&cx.settings.revisions) {
        Ok(graph) => {
            let heads = graph.heads().iter().map(|r| r.id.clone()).collect();
            let problems = match &cx.settings.database_url {
                Some(url) => database_problems(&graph, url, &cx.settings.table)?,
                None => Vec::new(),
            };
            let report = Report { ok: problems.is_empty(), revisions: graph.len(), heads, problems };
            let error = (!report.ok).then(|| CliError { lines: report.problems.clone(), hints: Vec::new(), code: 1 });
            (report, error.map(CheckError::Database))
        }
        Err(migraph::Error::Graph(e)) => {
            let problems = e.problems.iter().map(ToString::to_string).collect();
            (
                Report { ok: false, revisions: 0, heads: Vec::new(), problems },
                Some(CheckError::Graph(migraph::Error::Graph(e))),
            )
        }
        Err(other) => return Err(other.into()),
    };
    match (error, cx.global.json) {
        (None, false) => Ok(format!(
            "ok: {} revisions, {} head(s): {}\n",
            report.revisions,
            report.heads.len(),
            report.heads.join(", ")
        )),
        (None, true) => Ok(to_json(&report)),
        (Some(error), json) => {
            if json {
                print!("{}", to_json(&report));
            }
            let count = report.problems.len();
            let mut e = match error {
                CheckError::Graph(error) => CliError::from(error),
                CheckError::Database(error) => error.hint(
                    "restore edited files, or record intended edits with `migraph stamp --accept-drift heads`; \
                     `migraph status` shows the whole picture",
                ),
            };
            e.hints.insert(0, format!("{count} problem(s) found"));
            Err(e)
        }
    }
}
