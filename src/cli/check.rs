//! `check`: validate the graph and report every problem at once.

use serde::Serialize;

use super::output::to_json;
use super::{CliError, Context, Result};
use migraph::backend::redact;

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
            (Report { ok: true, revisions: graph.len(), heads, problems: Vec::new() }, None)
        }
        Err(migraph::Error::Graph(e)) => {
            let problems = e.problems.iter().map(ToString::to_string).collect();
            (Report { ok: false, revisions: 0, heads: Vec::new(), problems }, Some(migraph::Error::Graph(e)))
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
            let mut e = CliError::from(error);
            e.hints.insert(0, format!("{count} problem(s) found"));
            Err(e)
        }
    }
}
