//! `squash FROM:TO -m MSG`: writes the revision that replaces a linear
//! range (SPEC §4, squash), like Django's `squashmigrations`. The SQL is
//! assembled by [`migraph::squash::squash_range`]; this file resolves the
//! range, picks the ID, validates the result with the graph and writes it.

use clap::Args;

use migraph::source::{now_rfc3339, slug, write_revision_file, NewRevision};
use migraph::squash::squash_range;
use migraph::target::resolve_revision;
use migraph::{Revision, RevisionGraph};

use super::{CliError, Context, Result};

#[derive(Debug, Args)]
pub struct SquashArgs {
    /// The revisions to replace, FROM:TO inclusive, FROM below TO on one line of single parents
    #[arg(value_name = "FROM:TO")]
    pub range: String,
    /// What the squashing revision does
    #[arg(short, long, value_name = "MSG")]
    pub message: String,
    /// Use this ID instead of a generated one
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
}

pub fn squash(cx: &Context, args: &SquashArgs) -> Result<String> {
    let graph = cx.graph()?;
    let Some((from, to)) = args.range.split_once(':') else {
        return Err(CliError::new(format!("`{}` is not a range", args.range))
            .hint("write FROM:TO, e.g. `migraph squash 1a2b:9f8e -m \"squash the first year\"`"));
    };
    let from = resolve(&graph, from)?;
    let to = resolve(&graph, to)?;
    let squashed = squash_range(&graph, &from, &to).map_err(|e| {
        CliError::new(e).hint("pick FROM and TO on one line of work without merges or branches inside it")
    })?;
    let created = now_rfc3339();
    let new = NewRevision { id: args.id.clone(), parents: squashed.parents.clone(), ..NewRevision::default() };
    let mut id = new.resolve_id(&created);
    while args.id.is_none() && (graph.get(&id).is_some() || graph.labelled(&id).is_some()) {
        id = new.resolve_id(&created);
    }
    if let Some(existing) = graph.get(&id) {
        return Err(CliError::new(format!("revision ID `{id}` is already used by {}", existing.path.display())));
    }
    let text = squashed.render(&id, &args.message, &created);
    let dir = &cx.settings.revisions;
    let path = dir.join(format!("{id}_{}.sql", slug(&args.message)));
    let revision = Revision::parse(&path, &text).map_err(CliError::new)?;
    let mut revisions: Vec<Revision> = graph.revisions().to_vec();
    revisions.push(revision);
    RevisionGraph::new(revisions)?;
    let written = write_revision_file(dir, &id, &args.message, &text)?;
    if !cx.global.quiet {
        let members = &squashed.members;
        eprintln!("created squash {id} replacing {} revisions ({})", members.len(), members.join(", "));
        if !squashed.irreversible_on.is_empty() {
            eprintln!(
                "note: a replaced revision has no down SQL for {}, so neither has {id}: it cannot be unapplied there",
                squashed.irreversible_on.join(", ")
            );
        }
        let files: Vec<String> =
            members.iter().filter_map(|m| graph.get(m)).map(|r| r.path.display().to_string()).collect();
        eprintln!(
            "next: review the file and commit it with the replaced files kept; `migraph upgrade` then records {id} \
             without running SQL where {} to {} are applied, and runs {id} alone on fresh databases; once every \
             database has passed the squash, delete the replaced files: {}",
            members.first().map_or("", String::as_str),
            members.last().map_or("", String::as_str),
            files.join(" ")
        );
    }
    Ok(format!("{}\n", written.display()))
}

/// The full ID of `target`; a revision already squashed says by which squash.
fn resolve(graph: &RevisionGraph, target: &str) -> Result<String> {
    if let Some(squash) = graph.revisions().iter().find(|r| r.replaces().iter().any(|q| q == target)) {
        return Err(CliError::new(format!(
            "revision {target} is already replaced by squash {} ({})",
            squash.id,
            squash.path.display()
        ))
        .hint("squash a range of revisions that no squash replaces"));
    }
    Ok(resolve_revision(graph, target)?.id.clone())
}
