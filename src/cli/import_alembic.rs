//! `import alembic` and `adopt alembic`: the Alembic side of `import` and
//! `adopt` (the reading and capturing live in [`migraph::import::alembic`]).

use serde::Serialize;

use migraph::backend::AnyConnection;
use migraph::import::alembic::{self, AlembicError, AlembicOptions};

use super::import::{AdoptArgs, ImportArgs};
use super::output::{printable, to_json};
use super::{CliError, Context, Result};

fn error(e: AlembicError) -> CliError {
    match e {
        e @ AlembicError::NotFound(_) => {
            CliError::new(e).hint("pass the directory that holds alembic.ini, or the script directory (with versions/)")
        }
        e @ AlembicError::Python { .. } => {
            CliError::new(e).hint("pass --python PATH: a Python with alembic, sqlalchemy and the project's modules")
        }
        e @ (AlembicError::Exists(_) | AlembicError::IdTaken { .. }) => {
            CliError::new(e).hint("the history was imported already? `migraph history` lists it")
        }
        e @ AlembicError::Baseline(_) => CliError::new(e)
            .hint("pass a Python file whose baseline(connection) creates the schema the root revision assumes"),
        e @ AlembicError::UnknownVersion(_) => {
            CliError::new(e).hint("run `migraph import alembic DIR` first, with every version script")
        }
        e => CliError::new(e),
    }
}

#[derive(Serialize)]
struct FileJson<'a> {
    id: &'a str,
    parents: &'a [String],
    labels: &'a [String],
    depends_on: &'a [String],
    message: &'a str,
    file: String,
    source: String,
}

pub fn import(cx: &Context, args: &ImportArgs) -> Result<String> {
    let dir = args.dir.clone().unwrap_or_else(|| ".".into());
    let baseline = args.baseline.as_deref().map(alembic::Baseline::parse).transpose().map_err(error)?;
    let options = AlembicOptions {
        python: args.python.clone(),
        servers: args.servers.clone(),
        no_capture: args.no_capture,
        baseline,
    };
    let import = alembic::import_alembic(&dir, &options).map_err(error)?;
    let paths = alembic::write(&import, &cx.settings.revisions, args.dry_run).map_err(error)?;
    if !cx.global.quiet {
        for note in &import.notes {
            eprintln!("note: {}", printable(note));
        }
    }
    if cx.global.json {
        let files: Vec<FileJson> = import
            .revisions
            .iter()
            .zip(&paths)
            .map(|(r, path)| FileJson {
                id: &r.id,
                parents: &r.parents,
                labels: &r.labels,
                depends_on: &r.depends_on,
                message: &r.message,
                file: path.display().to_string(),
                source: r.source.display().to_string(),
            })
            .collect();
        return Ok(to_json(&files));
    }
    let verb = if args.dry_run { "would write" } else { "wrote" };
    let mut out = String::new();
    for (r, path) in import.revisions.iter().zip(&paths) {
        out.push_str(&format!(
            "{verb} {} from {}\n",
            printable(&path.display().to_string()),
            printable(&r.source.display().to_string())
        ));
    }
    if !cx.global.quiet {
        let dialects: Vec<String> = import.captured.iter().map(ToString::to_string).collect();
        eprintln!(
            "{} {} revision(s) from {}; SQL captured on {}; {} note(s){}",
            if args.dry_run { "would import" } else { "imported" },
            import.revisions.len(),
            import.layout.script_dir.display(),
            if dialects.is_empty() { "nothing".into() } else { dialects.join(", ") },
            import.notes.len(),
            if args.dry_run { "" } else { "; next: `migraph adopt alembic` on each database Alembic manages" },
        );
    }
    Ok(out)
}

pub fn adopt(cx: &Context, args: &AdoptArgs) -> Result<String> {
    let graph = cx.graph()?;
    let url = super::run::url(cx)?;
    let mut conn = AnyConnection::connect_with(url, cx.settings.lock_timeout).map_err(CliError::new)?;
    let targets = alembic::adopt_alembic_version(&mut conn, &graph).map_err(error)?;
    let migrator = super::session::migrator(cx, graph)?;
    let targets: Vec<&str> = targets.iter().map(String::as_str).collect();
    if !cx.global.quiet {
        eprintln!("alembic_version lists head(s) {}; stamping them with their ancestors", targets.join(" "));
    }
    super::import::stamp_adopted(cx, &migrator, &mut conn, &targets, args.dry_run, "alembic_version")
}
