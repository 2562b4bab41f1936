//! `heads`, `branches` and `show`: looking at the graph.

use clap::Args;
use serde::Serialize;

use super::output::{head_line, json, line, to_json, RevisionJson};
use super::{Context, Result};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Revision: ID prefix, label, `head`, `<label>@head`, `<rev>-N`...
    #[arg(value_name = "REV")]
    pub revision: String,
}

pub fn heads(cx: &Context) -> Result<String> {
    let graph = cx.graph()?;
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
    let graph = cx.graph()?;
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
    let graph = cx.graph()?;
    let r = migraph::target::resolve_revision(&graph, &args.revision)?;
    let children: Vec<&str> = graph.children(&r.id).into_iter().map(|c| c.id.as_str()).collect();
    if cx.global.json {
        let sections = r.sections().into_iter().map(|(m, sql)| SectionJson { marker: m.line(), sql }).collect();
        let shown = ShowJson { revision: json(&graph, r), children, up: &r.up, down: r.down.as_deref(), sections };
        return Ok(to_json(&shown));
    }
    let none = |list: &[&str]| if list.is_empty() { "(none)".to_string() } else { list.join(" ") };
    let mut out = format!("Revision:    {}\n", line(&graph, r));
    out += &format!("Parents:     {}\n", none(&r.parents.iter().map(String::as_str).collect::<Vec<_>>()));
    out += &format!("Children:    {}\n", none(&children));
    if !r.depends_on.is_empty() {
        out += &format!("Depends on:  {}\n", r.depends_on.join(" "));
    }
    if !r.labels.is_empty() {
        out += &format!("Labels:      {}\n", r.labels.join(" "));
    }
    out += &format!("Message:     {}\n", super::output::printable(&r.message));
    if let Some(created) = &r.created {
        out += &format!("Created:     {created}\n");
    }
    out += &format!("Transaction: {}\n", r.transactional);
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
