//! `history` and `graph`: the whole DAG, as a list, lanes, DOT or Mermaid.
//!
//! With a database configured, the pictures (`history --graph`, `graph`)
//! also say which revisions it has applied. They only read the version
//! table (a SQLite file that does not exist yet is an empty state and is not
//! created); a database that cannot be read is an error.

use std::collections::HashSet;

use clap::{Args, ValueEnum};

use migraph::render::{self, DrawNode};
use migraph::status::DbState;
use migraph::{Revision, RevisionGraph};

use super::output::{json, line, to_json, Shape};
use super::run::read_state;
use super::{Context, Result};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Range FROM:TO, e.g. `base:head`, `ae10:`, `:billing@head`, `-3:` (from 3 below head)
    #[arg(short = 'r', long = "rev-range", value_name = "RANGE", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Draw branches and merges as lanes, like `git log --graph`; with a database, tag each
    /// revision `applied`, `pending` or `failed`
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
    /// Picture format; with a database, applied revisions are filled green and pending ones dashed
    #[arg(long, value_enum, default_value_t = Format::Dot)]
    pub format: Format,
}

/// What the database says about each revision, for the pictures.
struct Applied {
    ids: HashSet<String>,
    failed: HashSet<String>,
}

impl Applied {
    fn of(db: &DbState) -> Applied {
        Applied {
            ids: db.rows.iter().map(|row| row.id.clone()).collect(),
            failed: db.pending.iter().map(|p| p.id.clone()).collect(),
        }
    }

    /// The tag `history --graph` shows first for `id`.
    fn tag(&self, id: &str) -> &'static str {
        if self.failed.contains(id) {
            "failed"
        } else if self.ids.contains(id) {
            "applied"
        } else {
            "pending"
        }
    }
}

/// The revision files and, when a database is configured, what it has applied
/// (read while the files load). Warns on stderr about what the picture cannot show.
fn load(cx: &Context) -> Result<(RevisionGraph, Option<Applied>)> {
    let Some(url) = cx.settings.url()? else { return Ok((cx.graph()?, None)) };
    let (graph, db) = cx.graph_while(|| {
        read_state(url, &cx.settings.version_table()).map_err(|e| {
            e.hint(
                "the pictures mark the revisions applied in the database set by --database-url, DATABASE_URL \
                 or migraph.toml; fix it or its server (`migraph history` without --graph does not read it)",
            )
        })
    })?;
    if !cx.global.quiet {
        let missing: Vec<&str> =
            db.rows.iter().filter(|row| graph.get(&row.id).is_none()).map(|row| row.id.as_str()).collect();
        if !missing.is_empty() {
            eprintln!(
                "warning: {} applied revision(s) have no file and are not drawn: {} (the database is ahead of these files)",
                missing.len(),
                super::output::printable(&missing.join(", "))
            );
        }
        for p in &db.pending {
            eprintln!(
                "warning: revision {} failed or was interrupted going {}; `migraph status` says how to repair it",
                super::output::printable(&p.id),
                p.direction
            );
        }
    }
    Ok((graph, Some(Applied::of(&db))))
}

fn draw_node(r: &Revision, applied: Option<&Applied>) -> DrawNode {
    DrawNode::of(r, applied.map(|a| a.ids.contains(&r.id)))
}

pub fn history(cx: &Context, args: &HistoryArgs) -> Result<String> {
    let (graph, applied) = if args.graph && !cx.global.json { load(cx)? } else { (cx.graph()?, None) };
    let mut revisions = match &args.range {
        Some(range) => migraph::target::range_revisions(&graph, range)?,
        None => graph.topological(),
    };
    revisions.reverse();
    if cx.global.json {
        return Ok(to_json(&revisions.iter().map(|r| json(&graph, r)).collect::<Vec<_>>()));
    }
    if args.graph {
        // Newest first, each branch in one piece.
        let nodes: Vec<DrawNode> = revisions.iter().map(|r| draw_node(r, applied.as_ref())).collect();
        let order = render::graph_order(&nodes);
        let mut slots: Vec<Option<DrawNode>> = nodes.into_iter().map(Some).collect();
        let nodes: Vec<DrawNode> = order.into_iter().filter_map(|i| slots[i].take()).collect();
        return Ok(render::log_graph(&nodes, |n| {
            graph
                .get(&n.id)
                .map_or_else(String::new, |r| tagged_line(&graph, r, applied.as_ref().map(|a| a.tag(&r.id))))
        }));
    }
    Ok(revisions.iter().map(|r| arrow_line(&graph, r)).collect())
}

/// `id (tags) message` with `tag` first among the tags: `id (applied, head) message`.
fn tagged_line(graph: &RevisionGraph, r: &Revision, tag: Option<&str>) -> String {
    let text = line(graph, r);
    let Some(tag) = tag else { return text };
    let shape = Shape::of(graph, r);
    let has_tags = shape.head || shape.merge_point || shape.branch_point || !r.labels.is_empty();
    match text.strip_prefix(r.id.as_str()) {
        Some(rest) if has_tags && rest.starts_with(" (") => format!("{} ({tag}, {}", r.id, &rest[2..]),
        Some(rest) => format!("{} ({tag}){rest}", r.id),
        None => format!("{text} [{tag}]"),
    }
}

/// `parent, parent -> id (tags) message`, as Alembic prints history.
fn arrow_line(graph: &RevisionGraph, r: &Revision) -> String {
    let parents = if r.parents.is_empty() { "<base>".to_string() } else { r.parents.join(", ") };
    format!("{parents} -> {}\n", line(graph, r))
}

pub fn graph(cx: &Context, args: &GraphArgs) -> Result<String> {
    let (graph, applied) = load(cx)?;
    let nodes: Vec<DrawNode> = graph.topological().into_iter().map(|r| draw_node(r, applied.as_ref())).collect();
    Ok(match args.format {
        Format::Dot => render::dot(&nodes),
        Format::Mermaid => render::mermaid(&nodes),
    })
}
