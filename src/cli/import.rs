//! `import` and `adopt`: moving a project from diesel, sqlx, golang-migrate,
//! dbmate, goose, refinery or Flyway to migraph. The reading, mapping and
//! checking live in [`migraph::import`]; this file formats and stamps
//! through a [`migraph::Migrator`].

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use migraph::backend::AnyConnection;
use migraph::import::{self, Import, ImportError, Tool};
use migraph::{Direction, Verb};

use super::output::{printable, to_json};
use super::{CliError, Context, Result};

const TOOLS: &str = "diesel, sqlx, golang-migrate, dbmate, goose, refinery, flyway, alembic";

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tool: diesel, sqlx, golang-migrate, dbmate, goose, refinery, flyway or alembic
    #[arg(value_name = "TOOL")]
    pub tool: String,
    /// The tool's migrations directory [default: migrations; dbmate: db/migrations; flyway: sql]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// List the files that would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// alembic: also capture the SQL on this server (postgres://…, mysql://…; a temporary database is created and dropped); repeatable
    #[arg(long = "server", value_name = "URL")]
    pub servers: Vec<String>,
    /// alembic: the Python that has alembic, sqlalchemy and the project's modules [default: python3]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// alembic: read the graph only, capture no SQL (every up section is a TODO)
    #[arg(long)]
    pub no_capture: bool,
    /// alembic: a Python file whose FUNCTION(connection) [default: baseline] creates the schema the root revision assumes; its SQL opens the root's up section
    #[arg(long, value_name = "FILE[:FUNCTION]")]
    pub baseline: Option<String>,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// The tool: diesel, sqlx, golang-migrate, dbmate, goose, refinery, flyway or alembic
    #[arg(value_name = "TOOL")]
    pub tool: String,
    /// The tool's migrations directory, to map versions and verify checksums [default: as for import]
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Show the stamp, change nothing
    #[arg(long)]
    pub dry_run: bool,
}

fn tool(name: &str) -> Result<Tool> {
    Tool::from_name(name).ok_or_else(|| {
        let mut e = CliError::new(format!("unknown tool `{name}`: use one of {TOOLS}"));
        e.code = 2;
        e
    })
}

fn read(name: &str, dir: &Option<PathBuf>) -> Result<Import> {
    let tool = tool(name)?;
    let dir = dir.clone().unwrap_or_else(|| PathBuf::from(tool.default_dir()));
    import::read(tool, &dir).map_err(error)
}

/// An import error as the command line reports it.
fn error(e: ImportError) -> CliError {
    match e {
        ImportError::Checksums(list) => CliError {
            lines: std::iter::once(format!(
                "checksum mismatch: {} applied migration(s) differ from their files; nothing was stamped",
                list.len()
            ))
            .chain(list.iter().map(ToString::to_string))
            .collect(),
            hints: vec![
                "restore the files as they were applied (e.g. from version control), or repair the tool's table first"
                    .into(),
            ],
            code: 1,
        },
        e @ (ImportError::Exists(_) | ImportError::IdTaken { .. }) => {
            CliError::new(e).hint("the history was imported already? `migraph history` lists it")
        }
        e @ ImportError::UnknownVersion { .. } => CliError::new(e)
            .hint("pass the directory that holds every applied migration, and import it again if files were added"),
        e @ ImportError::Table { .. } => CliError::new(e).hint("is the URL the tool's database, and the tool right?"),
        e => CliError::new(e),
    }
}

/// Reports what was not imported, on stderr.
fn report_unsupported(cx: &Context, import: &Import) {
    if cx.global.quiet {
        return;
    }
    for u in &import.unsupported {
        eprintln!("note: {}", printable(&format!("{}: {}", import.dir.join(&u.path).display(), u.reason)));
    }
}

#[derive(Serialize)]
struct FileJson<'a> {
    id: &'a str,
    parents: Vec<&'a str>,
    message: &'a str,
    file: String,
    source: String,
    transaction: bool,
    reversible: bool,
}

#[derive(Serialize)]
struct NoteJson {
    file: String,
    problem: String,
}

#[derive(Serialize)]
struct ImportJson<'a> {
    tool: &'a str,
    revisions: Vec<FileJson<'a>>,
    not_imported: Vec<NoteJson>,
}

pub fn import(cx: &Context, args: &ImportArgs) -> Result<String> {
    if args.tool.eq_ignore_ascii_case("alembic") {
        return super::import_alembic::import(cx, args);
    }
    let import = read(&args.tool, &args.dir)?;
    let dir = &cx.settings.revisions;
    let paths = import::write(&import, dir, args.dry_run).map_err(error)?;
    report_unsupported(cx, &import);
    if cx.global.json {
        let revisions = import
            .revisions
            .iter()
            .zip(&paths)
            .enumerate()
            .map(|(i, (r, path))| FileJson {
                id: &r.id,
                parents: if i == 0 { Vec::new() } else { vec![import.revisions[i - 1].id.as_str()] },
                message: &r.message,
                file: path.display().to_string(),
                source: import.dir.join(&r.source).display().to_string(),
                transaction: r.transaction,
                reversible: r.down.is_some(),
            })
            .collect();
        let not_imported = import
            .unsupported
            .iter()
            .map(|u| NoteJson { file: import.dir.join(&u.path).display().to_string(), problem: u.reason.clone() })
            .collect();
        return Ok(to_json(&ImportJson { tool: import.tool.name(), revisions, not_imported }));
    }
    let verb = if args.dry_run { "would write" } else { "wrote" };
    let mut out = String::new();
    for (r, path) in import.revisions.iter().zip(&paths) {
        let mut notes = Vec::new();
        if r.down.is_none() {
            notes.push("irreversible");
        }
        if !r.transaction {
            notes.push("transaction: false");
        }
        let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) };
        out.push_str(&format!(
            "{verb} {} from {}{notes}\n",
            printable(&path.display().to_string()),
            printable(&import.dir.join(&r.source).display().to_string())
        ));
    }
    if !cx.global.quiet {
        eprintln!(
            "{} {} revision(s) from {} in {} as one chain{}; {} note(s) on what was not imported as is",
            if args.dry_run { "would import" } else { "imported" },
            import.revisions.len(),
            import.tool,
            import.dir.display(),
            if args.dry_run { "" } else { "; next: `migraph adopt` on each database the tool manages" },
            import.unsupported.len()
        );
    }
    Ok(out)
}

pub fn adopt(cx: &Context, args: &AdoptArgs) -> Result<String> {
    if args.tool.eq_ignore_ascii_case("alembic") {
        return super::import_alembic::adopt(cx, args);
    }
    let import = read(&args.tool, &args.dir)?;
    let graph = cx.graph()?;
    if let Some(r) = import.revisions.iter().find(|r| graph.get(&r.id).is_none()) {
        return Err(CliError::new(format!(
            "revision `{}` ({}) is not in {}",
            r.id,
            import.dir.join(&r.source).display(),
            cx.settings.revisions.display()
        ))
        .hint(format!("run `migraph import {} {}` first", import.tool, import.dir.display())));
    }
    let url = super::run::url(cx)?;
    let mut conn = AnyConnection::connect_with(url, cx.settings.lock_timeout).map_err(CliError::new)?;
    let applied = import::applied(import.tool, &mut conn).map_err(error)?;
    let adoption = import::adoption(&import, &applied).map_err(error)?;
    let migrator = super::session::migrator(cx, graph)?;
    let targets = [adoption.target.as_str()];
    if !cx.global.quiet {
        let verified = match (import.tool, adoption.verified) {
            (Tool::Sqlx | Tool::Flyway | Tool::Refinery, n) => {
                format!("{n} checksum(s) verified against {}", import.dir.display())
            }
            _ => format!("{} stores no checksums", import.tool),
        };
        eprintln!(
            "{} lists {} applied migration(s); stamping `{}`; {verified}",
            import.tool.version_table(),
            adoption.applied.len(),
            adoption.target
        );
    }
    stamp_adopted(cx, &migrator, &mut conn, &targets, args.dry_run, import.tool.version_table())
}

/// `adopt`'s last step, for every tool: the stamp to `targets` (shown with
/// `--dry-run`, as JSON with `--json`), one line per row it records, and
/// a note that `old_table` was left as it is.
pub(super) fn stamp_adopted(
    cx: &Context,
    migrator: &migraph::Migrator,
    conn: &mut AnyConnection,
    targets: &[&str],
    dry_run: bool,
    old_table: &str,
) -> Result<String> {
    let line = |direction: Direction, id: &str, message: &str, done: bool| {
        let what = match (direction, done) {
            (Direction::Up, false) => "record as applied",
            (Direction::Down, false) => "record as unapplied",
            (Direction::Up, true) => "recorded as applied",
            (Direction::Down, true) => "recorded as unapplied",
        };
        format!("{what}: {} {}\n", printable(id), printable(message))
    };
    if dry_run {
        let plan = migrator.plan(conn, Verb::Stamp, targets)?;
        if cx.global.json {
            #[derive(Serialize)]
            struct Step<'a> {
                id: &'a str,
                direction: Direction,
                message: &'a str,
            }
            let steps: Vec<Step> =
                plan.steps.iter().map(|s| Step { id: &s.id, direction: s.direction, message: &s.message }).collect();
            return Ok(to_json(&steps));
        }
        if plan.is_empty() {
            return Ok("stamp: nothing to do\n".into());
        }
        return Ok(plan.steps.iter().map(|s| line(s.direction, &s.id, &s.message, false)).collect());
    }
    let report = migrator.run(conn, Verb::Stamp, targets, |_| {})?;
    if !cx.global.quiet {
        let ups = report.done.iter().filter(|(s, _)| s.direction == Direction::Up).count();
        eprintln!(
            "stamped: {ups} row(s) added, {} row(s) removed; no SQL was run; {old_table} was left as it is",
            report.done.len() - ups,
        );
    }
    Ok(report.done.iter().map(|(s, _)| line(s.direction, &s.id, &s.message, true)).collect())
}
