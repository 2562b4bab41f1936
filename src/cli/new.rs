//! `init`, `revision` and `merge`: the commands that write files.
//!
//! A new revision is validated together with the existing graph before its
//! file is written, so a bad `--id`, a label already in use or an unknown
//! parent leaves the directory untouched.

use std::path::{Path, PathBuf};

use clap::Args;

use migraph::source::{now_rfc3339, write_revision_file, NewRevision};
use migraph::{Revision, RevisionGraph, TargetError};

use super::config::{CONFIG_FILE, DEFAULT_TABLE};
use super::{CliError, Context, Global, Result};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Project directory [default: the current directory]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RevisionArgs {
    /// What the revision does
    #[arg(short, long, value_name = "MSG")]
    pub message: String,
    /// Parent revision(s) [default: the single head]
    #[arg(long = "parent", value_name = "REV", num_args = 1..)]
    pub parents: Vec<String>,
    /// Branch label to put on the revision (repeatable)
    #[arg(long = "label", value_name = "L")]
    pub labels: Vec<String>,
    /// Revision that must be applied first without being a parent (repeatable)
    #[arg(long = "depends-on", value_name = "REV")]
    pub depends_on: Vec<String>,
    /// Use this ID instead of a generated one
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Revisions to merge [default: all heads]
    #[arg(value_name = "REV")]
    pub targets: Vec<String>,
    /// What the merge is for [default: "merge <ids>"]
    #[arg(short, long, value_name = "MSG")]
    pub message: Option<String>,
    /// Branch label to put on the merge revision (repeatable)
    #[arg(long = "label", value_name = "L")]
    pub labels: Vec<String>,
}

pub fn init(global: &Global, args: &InitArgs) -> Result<String> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let config = dir.join(CONFIG_FILE);
    if config.exists() {
        return Err(CliError::new(format!("{} already exists; not overwriting it", config.display())));
    }
    let table = global.table.as_deref().unwrap_or(DEFAULT_TABLE);
    super::config::check_table_name(table)?;
    let revisions = global.revisions.clone().unwrap_or_else(|| PathBuf::from("revisions"));
    let create = |path: &Path| {
        std::fs::create_dir_all(path).map_err(|e| CliError::new(format!("cannot create {}: {e}", path.display())))
    };
    create(&dir)?;
    create(&dir.join(&revisions))?;
    let url = global.database_url.clone().unwrap_or_else(|| "sqlite://migraph.db".to_string());
    let text = format!(
        "# migraph configuration. Paths are relative to this file.\n\
         # Precedence: command-line flags, then environment (DATABASE_URL, also from .env), then this file.\n\
         # database_url may use ${{VAR}} for an environment variable, and $$ for a literal $.\n\
         revisions = {}\n\
         database_url = {}\n\
         table = {}\n",
        toml_string(&revisions.display().to_string()),
        toml_string(&url),
        toml_string(table),
    );
    std::fs::write(&config, text).map_err(|e| CliError::new(format!("cannot write {}: {e}", config.display())))?;
    Ok(format!("created {} and {}/\n", config.display(), dir.join(&revisions).display()))
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// Resolves revision arguments to full IDs (no database: `+N` counts from `head`).
fn resolve_ids(graph: &RevisionGraph, targets: &[String]) -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    for target in targets {
        let revision = migraph::target::resolve_revision(graph, target)?;
        if !ids.contains(&revision.id) {
            ids.push(revision.id.clone());
        }
    }
    Ok(ids)
}

pub fn revision(cx: &Context, args: &RevisionArgs) -> Result<String> {
    let graph = cx.graph()?;
    let parents = if args.parents.is_empty() {
        match graph.heads().as_slice() {
            [] => Vec::new(),
            [head] => vec![head.id.clone()],
            heads => {
                let heads = heads.iter().map(|r| r.id.clone()).collect();
                return Err(CliError::from(TargetError::SeveralHeads { target: "head".into(), heads })
                    .hint("run `migraph merge` to join the heads first, or pick the parent with `--parent REV`"));
            }
        }
    } else {
        resolve_ids(&graph, &args.parents)?
    };
    let new = NewRevision {
        id: args.id.clone(),
        parents,
        message: args.message.clone(),
        labels: args.labels.clone(),
        depends_on: resolve_ids(&graph, &args.depends_on)?,
        ..NewRevision::default()
    };
    write(cx, graph, new)
}

pub fn merge(cx: &Context, args: &MergeArgs) -> Result<String> {
    let graph = cx.graph()?;
    let parents = if args.targets.is_empty() {
        graph.heads().iter().map(|r| r.id.clone()).collect()
    } else {
        resolve_ids(&graph, &args.targets)?
    };
    if parents.len() < 2 {
        return Err(CliError::new(format!(
            "nothing to merge: {} revision(s) given and the merge needs two or more",
            parents.len()
        ))
        .hint("with no arguments `migraph merge` joins all heads; `migraph heads` lists them"));
    }
    // One walk for all: a parent that is a strict ancestor of any parent is redundant.
    let above = parents.iter().filter_map(|p| graph.get(p)).flat_map(|r| r.parents.iter().chain(&r.depends_on));
    let strict: std::collections::HashSet<&str> =
        graph.closure(above.map(String::as_str)).iter().map(|r| r.id.as_str()).collect();
    if let Some(ancestor) = parents.iter().find(|p| strict.contains(p.as_str())) {
        let descendant = parents
            .iter()
            .find(|p| *p != ancestor && graph.closure([p.as_str()]).iter().any(|a| &a.id == ancestor))
            .map_or("another of them", String::as_str);
        return Err(CliError::new(format!(
            "cannot merge `{ancestor}` with `{descendant}`: it is already its ancestor"
        ))
        .hint("merge only revisions on different branches"));
    }
    let short: Vec<&str> = parents.iter().map(|p| &p[..p.len().min(12)]).collect();
    let new = NewRevision {
        parents: parents.clone(),
        message: args.message.clone().unwrap_or_else(|| format!("merge {}", short.join(", "))),
        labels: args.labels.clone(),
        ..NewRevision::default()
    };
    write(cx, graph, new)
}

/// Validates the new revision with the graph, then writes its file.
fn write(cx: &Context, graph: RevisionGraph, new: NewRevision) -> Result<String> {
    let created = now_rfc3339();
    let mut id = new.resolve_id(&created);
    while new.id.is_none() && (graph.get(&id).is_some() || graph.labelled(&id).is_some()) {
        id = new.resolve_id(&created);
    }
    if let Some(existing) = graph.get(&id) {
        return Err(CliError::new(format!("revision ID `{id}` is already used by {}", existing.path.display())));
    }
    let text = new.render(&id, &created);
    let dir = &cx.settings.revisions;
    let path = dir.join(format!("{id}_{}.sql", migraph::source::slug(&new.message)));
    let revision = Revision::parse(&path, &text).map_err(CliError::new)?;
    let mut revisions: Vec<Revision> = graph.revisions().to_vec();
    revisions.push(revision);
    RevisionGraph::new(revisions)?;
    let written = write_revision_file(dir, &id, &new.message, &text)?;
    if !cx.global.quiet {
        eprintln!(
            "created revision {id} with parent(s) {}",
            if new.parents.is_empty() { "none (a root)".to_string() } else { new.parents.join(", ") }
        );
    }
    Ok(format!("{}\n", written.display()))
}
