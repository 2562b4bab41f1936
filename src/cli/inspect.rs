//! `heads`, `branches` and `show`: looking at the graph (`show` also says
//! whether and when the database applied the revision, with a database).

use clap::Args;
use serde::Serialize;

use super::history::{load, notes, Need};
use super::output::{applied_text, head_line, json, line, to_json, DbJson, RevisionJson};
use super::{Context, Result};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Revision: ID prefix, label, `head`, `<label>@head`, `<rev>-N`...
    #[arg(value_name = "REV")]
    pub revision: String,
}

pub fn heads(cx: &Context) -> Result<String> {
    let graph = cx.headers_kept()?;
    let heads = graph.heads();
    if cx.global.json {
        return Ok(to_json(&heads.iter().map(|r| json(&graph, r)).collect::<Vec<_>>()));
    }
    let paint = cx.global.stdout_paint();
    Ok(heads.iter().map(|r| head_line(&graph, r, paint) + "\n").collect())
}

#[derive(Serialize)]
struct BranchJson<'a> {
    #[serde(flatten)]
    revision: RevisionJson<'a>,
    children: Vec<RevisionJson<'a>>,
}

pub fn branches(cx: &Context) -> Result<String> {
    let graph = cx.headers_kept()?;
    let points = graph.branch_points();
    if cx.global.json {
        let list: Vec<BranchJson> = points
            .iter()
            .map(|r| BranchJson {
                revision: json(&graph, r),
                children: graph.children(&r.id).into_iter().map(|c| json(&graph, c)).collect(),
            })
            .collect();
        return Ok(to_json(&list));
    }
    let mut out = String::new();
    for r in points {
        out.push_str(&line(&graph, r));
        out.push('\n');
        for child in graph.children(&r.id) {
            out.push_str(&format!("  -> {}\n", line(&graph, child)));
        }
    }
    Ok(out)
}

#[derive(Serialize)]
struct ShowJson<'a> {
    #[serde(flatten)]
    revision: RevisionJson<'a>,
    /// With a database: `state`, `applied_at`, `execution_ms`.
    #[serde(flatten)]
    db: Option<DbJson<'a>>,
    children: Vec<&'a str>,
    up: &'a str,
    down: Option<&'a str>,
    /// Every section, dialect sections included: `{"marker": "-- migrate:up sqlite", "sql": ...}`.
    sections: Vec<SectionJson<'a>>,
}

#[derive(Serialize)]
struct SectionJson<'a> {
    marker: String,
    sql: &'a str,
}

pub fn show(cx: &Context, args: &ShowArgs) -> Result<String> {
    let (mut graph, applied) = load(cx, Need::Optional)?;
    let id = migraph::target::resolve_revision(&graph, &args.revision)?.id.clone();
    // Its SQL, read and checked against the checksum the header was read with.
    graph.load_sql_of(&id).map_err(super::CliError::new)?;
    let r = graph.get(&id).ok_or_else(|| super::CliError::new(format!("revision {id} is gone")))?;
    notes(cx, &graph, applied.as_ref())?;
    let children: Vec<&str> = graph.children(&r.id).into_iter().map(|c| c.id.as_str()).collect();
    let rows = applied.as_ref().map(|a| (a.rows(), a.is_applied(&r.id)));
    if cx.global.json {
        let sections = r.sections().into_iter().map(|(m, sql)| SectionJson { marker: m.line(), sql }).collect();
        let db = rows.as_ref().map(|(rows, applied)| rows.json(&r.id, *applied));
        let down = r.down.as_deref();
        let shown = ShowJson { revision: json(&graph, r), db, children, up: &r.up, down, sections };
        return Ok(to_json(&shown));
    }
    let none = |list: &[&str]| if list.is_empty() { "(none)".to_string() } else { list.join(" ") };
    let mut out = format!("Revision:    {}\n", line(&graph, r));
    out += &format!("Parents:     {}\n", none(&r.parents.iter().map(String::as_str).collect::<Vec<_>>()));
    out += &format!("Children:    {}\n", none(&children));
    if !r.depends_on().is_empty() {
        out += &format!("Depends on:  {}\n", r.depends_on().join(" "));
    }
    if !r.labels().is_empty() {
        out += &format!("Labels:      {}\n", r.labels().join(" "));
    }
    out += &format!("Message:     {}\n", super::output::printable(&r.message));
    if let Some(created) = &r.created {
        out += &format!("Created:     {created}\n");
    }
    out += &format!("Transaction: {}\n", r.transactional);
    if let Some((rows, applied)) = &rows {
        let state = match (rows.get(&r.id), rows.state(&r.id, *applied)) {
            (Some(row), "applied") => applied_text(row),
            (_, "applied") => "applied (through the revisions it replaces)".to_string(),
            (_, "failed") => "failed or interrupted (`migraph status` says how to repair it)".to_string(),
            (_, state) => state.to_string(),
        };
        out += &format!("Database:    {state}\n");
    }
    out += &format!("File:        {}\n", r.path.display());
    out += &format!("Checksum:    {}\n", r.checksum);
    for (marker, sql) in r.sections() {
        out += &format!("\n{}\n{sql}", marker.line());
    }
    if !r.is_reversible() {
        out += "\n(no down section: irreversible)\n";
    }
    Ok(out)
}
