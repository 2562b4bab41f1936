//! `history` and `graph`: the whole DAG, as a list, lanes, DOT or Mermaid.

use clap::{Args, ValueEnum};

use migraph::render::{self, DrawNode};
use migraph::{Revision, RevisionGraph};

use super::output::{json, line, to_json};
use super::{Context, Result};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Range FROM:TO, e.g. `base:head`, `ae10:`, `:billing@head`, `-3:` (from 3 below head)
    #[arg(short = 'r', long = "rev-range", value_name = "RANGE", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Draw branches and merges as lanes, like `git log --graph`
    #[arg(long)]
    pub graph: bool,
}

#[derive(Debug, Clone, Copy, Default, ValueEnum)]
pub enum Format {
    #[default]
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Picture format
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    pub format: Format,
}

fn draw_node(r: &Revision) -> DrawNode {
    DrawNode {
        id: r.id.clone(),
        parents: r.parents.clone(),
        depends_on: r.depends_on.clone(),
        message: r.message.clone(),
        labels: r.labels.clone(),
        applied: None,
    }
}

pub fn history(cx: &Context, args: &HistoryArgs) -> Result<String> {
    let graph = cx.graph()?;
    let mut revisions = match &args.range {
        Some(range) => migraph::target::range_revisions(&graph, range)?,
        None => graph.topological(),
    };
    revisions.reverse();
    if cx.global.json {
        return Ok(to_json(&revisions.iter().map(|r| json(&graph, r)).collect::<Vec<_>>()));
    }
    if args.graph {
        let nodes: Vec<DrawNode> = revisions.iter().map(|r| draw_node(r)).collect();
        return Ok(render::log_graph(&nodes, |n| graph.get(&n.id).map_or_else(String::new, |r| line(&graph, r))));
    }
    Ok(revisions.iter().map(|r| arrow_line(&graph, r)).collect())
}

/// `parent, parent -> id (tags) message`, as Alembic prints history.
fn arrow_line(graph: &RevisionGraph, r: &Revision) -> String {
    let parents = if r.parents.is_empty() { "<base>".to_string() } else { r.parents.join(", ") };
    format!("{parents} -> {}\n", line(graph, r))
}

pub fn graph(cx: &Context, args: &GraphArgs) -> Result<String> {
    let graph = cx.graph()?;
    let nodes: Vec<DrawNode> = graph.topological().into_iter().map(draw_node).collect();
    Ok(match args.format {
        Format::Dot => render::dot(&nodes),
        Format::Mermaid => render::mermaid(&nodes),
    })
}
