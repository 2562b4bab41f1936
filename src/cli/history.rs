//! `history` and `graph`: the whole DAG, as a list, lanes, DOT or Mermaid.
//!
//! With a database configured, they also say which revisions it has
//! applied: `history` tags each revision `applied`, `pending` or `failed`
//! (`-v` and `--json` add when it was applied and how long it took), the
//! pictures fill or dash them. They only read the version table (a SQLite
//! file that does not exist yet is an empty state and is not created); a
//! database that cannot be read is an error for the pictures (`history
//! --graph`, `graph`) and a warning for the plain list.

use std::collections::HashSet;
use std::io::{IsTerminal as _, Write as _};

use clap::{Args, ValueEnum};

use migraph::render;
use migraph::status::DbState;
use migraph::{Revision, RevisionGraph};

use super::output::{applied_text, json, line, printable, to_json, RevisionDbJson, Rows, Shape};
use super::run::read_state;
use super::{CliError, Context, Kept, Result};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Range FROM:TO, e.g. `base:head`, `ae10:`, `:billing@head`, `-3:` (from 3 below head)
    #[arg(short = 'r', long = "rev-range", value_name = "RANGE", allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Draw branches and merges as lanes, like `git log --graph`; with a database, tag each
    /// revision `applied`, `pending` or `failed`
    #[arg(long)]
    pub graph: bool,
    /// With --graph: at most N lanes side by side; lanes further right are collapsed into one
    /// column that says how many (default: what fits in the terminal, 40 when stdout is not a
    /// terminal)
    #[arg(long, value_name = "N", requires = "graph", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_lanes: Option<u32>,
}

/// Lanes drawn side by side when stdout is not a terminal.
const DEFAULT_LANES: usize = 40;

/// `--max-lanes`, or the default: on a terminal of C columns, (C - 40) / 2 lanes (at least 8), so
/// that the lanes take at most the width minus 40 columns for the text; elsewhere 40 lanes.
fn max_lanes(args: &HistoryArgs) -> usize {
    if let Some(n) = args.max_lanes {
        return n as usize;
    }
    let stdout = std::io::stdout();
    if !stdout.is_terminal() {
        return DEFAULT_LANES;
    }
    match terminal_size::terminal_size_of(stdout) {
        Some((width, _)) => (usize::from(width.0).saturating_sub(40) / 2).max(8),
        None => DEFAULT_LANES,
    }
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

/// What the database says about each revision: its version row (when it
/// was applied, how long it took), whether a marker says it failed.
pub(super) struct Applied {
    db: DbState,
    /// Revisions counted as applied (a squash through the rows of the
    /// revisions it replaces counts too).
    applied: HashSet<String>,
}

impl Applied {
    fn of(graph: &RevisionGraph, db: DbState) -> Applied {
        let rows: HashSet<&str> = db.ids().collect();
        let mut applied: HashSet<String> = rows.iter().map(|id| id.to_string()).collect();
        if let Ok(analysis) = migraph::status::Analysis::new(graph, &db) {
            let extended = analysis.graph(graph);
            applied.extend(analysis.state.applied(extended).into_iter().map(|r| r.id.clone()));
        }
        Applied { db, applied }
    }

    pub(super) fn rows(&self) -> Rows<'_> {
        Rows::of(&self.db)
    }

    pub(super) fn is_applied(&self, id: &str) -> bool {
        self.applied.contains(id)
    }

    /// The tag `history` shows first for `id`: `failed`, `applied` or `pending`.
    pub(super) fn tag(&self, id: &str) -> &'static str {
        self.rows().state(id, self.is_applied(id))
    }

    /// `  (applied <at> in <ms> ms)` for `history -v`, or nothing.
    fn when(&self, id: &str) -> String {
        self.rows().get(id).map(|row| format!("  ({})", applied_text(row))).unwrap_or_default()
    }
}

/// How a command treats a database it cannot read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    /// The pictures: an error.
    Required,
    /// `history` and `show`: a warning, and the files alone.
    Optional,
}

/// The revision files and, when a database is configured, what it has
/// applied (read while the files load). Prints nothing: [`notes`] does,
/// once the command's own checks passed.
pub(super) fn load(cx: &Context, need: Need) -> Result<(Kept, Option<Applied>)> {
    let Some(url) = cx.settings.url()? else { return Ok((cx.headers_kept()?, None)) };
    let (graph, read) = cx.headers_while(|| Ok(read_state(url, &cx.settings.version_table())))?;
    let graph = Kept::new(graph);
    match read {
        Ok(db) => {
            let applied = Applied::of(&graph, db);
            Ok((graph, Some(applied)))
        }
        Err(e) if need == Need::Optional => {
            if !cx.global.quiet {
                let problem = migraph::backend::scrub(&e.lines.join(" "), url);
                eprintln!("warning: {}; revisions are shown without applied/pending tags", printable(&problem));
            }
            Ok((graph, None))
        }
        Err(e) => Err(e.hint(
            "the pictures mark the revisions applied in the database set by --database-url, DATABASE_URL \
             or migraph.toml; fix it or its server",
        )),
    }
}

/// On stderr, unless `-q`: the database (see [`super::db::announce`]), then
/// what cannot be shown (applied revisions without a file, failed ones).
pub(super) fn notes(cx: &Context, graph: &RevisionGraph, applied: Option<&Applied>) -> Result<()> {
    let (Some(applied), Some(url)) = (applied, cx.settings.url()?) else { return Ok(()) };
    super::db::announce(cx, url, false);
    if cx.global.quiet {
        return Ok(());
    }
    let db = &applied.db;
    let missing: Vec<&str> = db.ids().filter(|id| graph.get(id).is_none()).collect();
    if !missing.is_empty() {
        eprintln!(
            "warning: {} applied revision(s) have no file and are not shown: {} (the database is ahead of these files)",
            missing.len(),
            printable(&missing.join(", "))
        );
    }
    for p in &db.pending {
        eprintln!(
            "warning: revision {} failed or was interrupted going {}; `migraph status` says how to repair it",
            printable(&p.id),
            p.direction
        );
    }
    Ok(())
}

pub fn history(cx: &Context, args: &HistoryArgs) -> Result<String> {
    let need = if args.graph { Need::Required } else { Need::Optional };
    let (graph, applied) = load(cx, need)?;
    let mut revisions = match &args.range {
        Some(range) => migraph::target::range_revisions(&graph, range)?,
        None => graph.topological(),
    };
    revisions.reverse();
    notes(cx, &graph, applied.as_ref())?;
    let applied = applied.as_ref();
    if cx.global.json {
        let list: Vec<RevisionDbJson> = revisions
            .iter()
            .map(|r| RevisionDbJson {
                revision: json(&graph, r),
                db: applied.map(|a| a.rows().json(&r.id, a.is_applied(&r.id))),
            })
            .collect();
        return Ok(to_json(&list));
    }
    let verbose = cx.global.verbose > 0;
    let when = |r: &Revision| applied.filter(|_| verbose).map(|a| a.when(&r.id)).unwrap_or_default();
    let text = |r: &Revision| tagged_line(&graph, r, applied.map(|a| a.tag(&r.id))) + &when(r);
    // Written line by line as it is made, not gathered into one string:
    // memory stays the graph's (and a wide drawing's open lanes).
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = if args.graph {
        // Newest first, each branch in one piece.
        let ordered = render::graph_order(&graph, &revisions);
        render::write_log_graph(&mut out, &graph, &ordered, max_lanes(args), text)
    } else {
        revisions.iter().try_for_each(|r| writeln!(out, "{} -> {}", parents(r), text(r)))
    };
    match written.and_then(|()| out.flush()) {
        // A closed pipe (`history | head`) ends quietly, as for every command.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::new(format!("cannot write output: {e}"))),
        _ => Ok(String::new()),
    }
}

/// `id (tags) message` with `tag` first among the tags: `id (applied, head) message`.
fn tagged_line(graph: &RevisionGraph, r: &Revision, tag: Option<&str>) -> String {
    let text = line(graph, r);
    let Some(tag) = tag else { return text };
    let shape = Shape::of(graph, r);
    let has_tags = shape.head || shape.merge_point || shape.branch_point || !r.labels().is_empty();
    match text.strip_prefix(r.id.as_str()) {
        Some(rest) if has_tags && rest.starts_with(" (") => format!("{} ({tag}, {}", r.id, &rest[2..]),
        Some(rest) => format!("{} ({tag}){rest}", r.id),
        None => format!("{text} [{tag}]"),
    }
}

/// `parent, parent` (or `<base>`): the left of `parent -> id`, as Alembic prints history.
fn parents(r: &Revision) -> String {
    if r.parents.is_empty() {
        "<base>".to_string()
    } else {
        r.parents.join(", ")
    }
}

pub fn graph(cx: &Context, args: &GraphArgs) -> Result<String> {
    let (graph, applied) = load(cx, Need::Required)?;
    notes(cx, &graph, applied.as_ref())?;
    let applied = |r: &Revision| applied.as_ref().map(|a| a.is_applied(&r.id));
    Ok(match args.format {
        Format::Dot => render::dot(&graph, applied),
        Format::Mermaid => render::mermaid(&graph, applied),
    })
}
