//! `current` and `status`: what the database has, compared with the files.

use serde::Serialize;

use migraph::backend::redact;
use migraph::status::Analysis;
use migraph::RevisionGraph;

use super::output::{head_line, json, line, to_json, RevisionJson};
use super::run::{read_state, url};
use super::style::Style;
use super::{CliError, Context, Result};

/// The database state, interpreted; the graph it was interpreted on.
struct Seen {
    db: migraph::status::DbState,
    analysis: Analysis,
}

/// Loads the files and reads the database at the same time.
fn look(cx: &Context) -> Result<(RevisionGraph, Seen)> {
    let url = url(cx)?;
    let (graph, db) = cx.graph_while(|| read_state(url, &cx.settings.table))?;
    let analysis = Analysis::new(&graph, &db).map_err(|e| CliError::new(e.to_string()))?;
    Ok((graph, Seen { db, analysis }))
}

fn warn_pending(cx: &Context, seen: &Seen) {
    if cx.global.quiet {
        return;
    }
    let warning = cx.global.stderr_paint().paint(Style::Warning, "warning:");
    for p in &seen.db.pending {
        eprintln!(
            "{warning} revision {} failed or was interrupted going {} (started {}){}",
            p.id,
            p.direction,
            p.started_at,
            p.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
        );
    }
}

pub fn current(cx: &Context) -> Result<String> {
    let (files, seen) = look(cx)?;
    let graph = seen.analysis.graph(&files);
    let heads = seen.analysis.state.heads(graph);
    warn_pending(cx, &seen);
    if cx.global.json {
        return Ok(to_json(&heads.iter().map(|r| json(graph, r)).collect::<Vec<_>>()));
    }
    if heads.is_empty() && !cx.global.quiet {
        eprintln!("(no revisions applied)");
    }
    let paint = cx.global.stdout_paint();
    Ok(heads.iter().map(|r| head_line(graph, r, paint) + "\n").collect())
}

#[derive(Serialize)]
struct StatusJson<'a> {
    database: String,
    table: &'a str,
    applied: Vec<&'a str>,
    heads: Vec<RevisionJson<'a>>,
    pending: Vec<RevisionJson<'a>>,
    drift: Vec<DriftJson>,
    missing_files: &'a [String],
    failed: &'a [migraph::backend::PendingRow],
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
    if cx.global.json {
        let report = StatusJson {
            database: redact(url(cx)?),
            table: &cx.settings.table,
            applied: applied.iter().map(|r| r.id.as_str()).collect(),
            heads: heads.iter().map(|r| json(graph, r)).collect(),
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
            failed: &seen.db.pending,
        };
        return Ok(to_json(&report));
    }
    let paint = cx.global.stdout_paint();
    let mut out = format!("database: {} (table {})\n", redact(url(cx)?), cx.settings.table);
    out += &format!("applied:  {} of {} revision(s)\n", applied.len(), files.len());
    if heads.is_empty() {
        out += "heads:    (none: nothing applied)\n";
    }
    for head in &heads {
        out += &format!("head:     {}\n", head_line(graph, head, paint));
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
    for d in drift {
        out += &format!(
            "{}    {} ({}) changed since it was applied\n",
            paint.paint(Style::Alert, "drift:"),
            d.id,
            d.path.display()
        );
    }
    for id in &seen.analysis.stored {
        out += &format!("missing:  {id} is applied but has no file (the database is ahead of these files)\n");
    }
    for p in &seen.db.pending {
        out += &format!(
            "{}   {} going {} (started {}){}\n",
            paint.paint(Style::Alert, "FAILED:"),
            p.id,
            p.direction,
            p.started_at,
            p.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
        );
        if let Some(recovery) = migraph::runner::Recovery::new(graph, state, p) {
            out += &format!("repair:   {}\n", recovery.advice(&p.id));
        }
    }
    Ok(out)
}
