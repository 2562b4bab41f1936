//! `migraph test`: every revision up, down and up again on a scratch
//! database, checking that down gives back the schema from before up; then
//! `downgrade base`, which must leave an empty schema. The graph must also
//! pass the checks of `migraph check` that need no database.
//!
//! Where the scratch databases live: SQLite, a temporary file; PostgreSQL
//! and MySQL, a database `migraph_test_<time>_<pid>_<n>` created on the
//! server of `--server URL` (one per engine), else of the configured
//! database URL when it is of that engine. They are dropped afterwards,
//! also on failure; after a kill or Ctrl-C the next run on the same server
//! drops them (see `migraph::schema::Scratch`).

use std::io::Write as _;

use clap::{Args, ValueEnum};
use serde::Serialize;

use migraph::backend::{dialect_of, redact, Dialect};
use migraph::revision::dialect_name;
use migraph::schema::{Outcome, RevisionResult, Scratch, TestReport};
use migraph::RevisionGraph;

use super::output::{printable, to_json};
use super::{session, CliError, Context, Result};

#[derive(Debug, Default, Args)]
pub struct TestArgs {
    /// Engine(s) to test on [default: the configured database's, else sqlite]
    #[arg(long, value_enum, value_name = "D")]
    pub dialect: Vec<TestDialect>,
    /// Server for the scratch databases of its engine (postgres://…, mysql://…); repeat for both [default: the configured database URL, for its engine]
    #[arg(long, value_name = "URL")]
    pub server: Vec<String>,
    /// Fail on irreversible revisions too (by default they are reported and skipped)
    #[arg(long)]
    pub strict: bool,
    /// Accept any number of heads in the graph check, as `migraph check --allow-multiple-heads`
    #[arg(long)]
    pub allow_multiple_heads: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestDialect {
    Sqlite,
    #[value(alias = "postgresql")]
    Postgres,
    #[value(alias = "mariadb")]
    Mysql,
}

impl TestDialect {
    fn dialect(self) -> Dialect {
        match self {
            TestDialect::Sqlite => Dialect::Sqlite,
            TestDialect::Postgres => Dialect::Postgres,
            TestDialect::Mysql => Dialect::Mysql,
        }
    }
}

#[derive(Serialize)]
struct DialectJson {
    dialect: &'static str,
    ok: bool,
    /// Problems `migraph check` finds (without a database).
    check: Vec<String>,
    #[serde(flatten)]
    report: Option<TestReport>,
    /// Why the walk could not run (the plan or a schema read failed).
    error: Option<String>,
}

#[derive(Serialize)]
struct Json {
    ok: bool,
    dialects: Vec<DialectJson>,
}

/// The engines to test, each with the server URL its scratch databases go on.
fn targets(cx: &Context, args: &TestArgs) -> Result<Vec<(Dialect, Option<String>)>> {
    let configured = cx.settings.url().ok().flatten().map(str::to_string);
    let configured_dialect = configured.as_deref().and_then(|url| dialect_of(url).ok());
    let mut servers = Vec::new();
    for server in &args.server {
        let dialect = dialect_of(server).map_err(CliError::new)?;
        if dialect == Dialect::Sqlite {
            return Err(CliError::new(format!(
                "--server `{}` is not a PostgreSQL or MySQL URL (SQLite needs no server)",
                redact(server)
            )));
        }
        servers.push((dialect, server.clone()));
    }
    let mut dialects: Vec<Dialect> = args.dialect.iter().map(|d| d.dialect()).collect();
    if dialects.is_empty() {
        dialects.push(configured_dialect.unwrap_or(Dialect::Sqlite));
    }
    dialects.dedup();
    dialects
        .into_iter()
        .map(|dialect| {
            if dialect == Dialect::Sqlite {
                return Ok((dialect, None));
            }
            let server = servers
                .iter()
                .find(|(d, _)| *d == dialect)
                .map(|(_, url)| url.clone())
                .or_else(|| configured.clone().filter(|_| configured_dialect == Some(dialect)));
            match server {
                Some(server) => Ok((dialect, Some(server))),
                None => Err(CliError::new(format!("no {} server to test on", dialect_name(dialect))).hint(format!(
                    "pass --server URL (e.g. --server {}), or configure a {} database URL",
                    if dialect == Dialect::Postgres {
                        "postgres://user@localhost/postgres"
                    } else {
                        "mysql://root@localhost/mysql"
                    },
                    dialect_name(dialect)
                ))),
            }
        })
        .collect()
}

/// What `migraph check` (without a database) finds for `dialect`.
fn check_problems(cx: &Context, args: &TestArgs, graph: &RevisionGraph, dialect: Dialect) -> Vec<String> {
    let mut problems = Vec::new();
    if !cx.settings.allow_multiple_heads && !args.allow_multiple_heads {
        let heads = graph.heads().len();
        problems.extend(graph.heads_off_their_branch().iter().map(|p| format!("the graph has {heads} heads; {p}")));
    }
    problems.extend(migraph::backend::split::sql_problems(graph, Some(dialect)).iter().map(ToString::to_string));
    problems.extend(
        migraph::runner::empty_up_problems(graph, Some(dialect))
            .into_iter()
            .map(|e| migraph::RunError::EmptyUp(Box::new(e)).to_string()),
    );
    problems
}

/// One result as its line: `ok  <id> <message>`, `FAIL <id> <message>: why`.
fn line(result: &RevisionResult, dialect: Dialect, strict: bool) -> Option<String> {
    let what = format!("{} {}", result.id, result.message);
    let describe =
        |differences: &[migraph::schema::Difference], missing: &str, extra: &str, found: &str, expected: &str| {
            differences.iter().map(|d| d.describe(missing, extra, found, expected)).collect::<Vec<_>>().join("; ")
        };
    let text = match &result.outcome {
        Outcome::Ok => format!("ok   {what}"),
        Outcome::Irreversible if result.id == "base" => {
            let verdict = if strict { "FAIL" } else { "skip" };
            format!("{verdict} {what}: not tried, some revisions are irreversible")
        }
        Outcome::Irreversible => {
            let verdict = if strict { "FAIL" } else { "skip" };
            format!("{verdict} {what}: irreversible (no down SQL for {}), not unapplied", dialect_name(dialect))
        }
        Outcome::Error { step, error } => {
            format!("FAIL {what}: {step} failed: {}", error.lines().next().unwrap_or_default())
        }
        Outcome::DownDiffers { differences, .. } if result.id == "base" => format!(
            "FAIL {what}: the schema is not empty: {}",
            describe(differences, "gone", "left after downgrade base", "after downgrade base", "expected")
        ),
        Outcome::DownDiffers { differences, up_again } => format!(
            "FAIL {what}: down does not restore the schema: {}{}",
            describe(
                differences,
                "gone after down (it was there before up)",
                "left after down (it was not there before up)",
                "after down",
                "before up"
            ),
            up_again
                .as_ref()
                .map(|e| format!(
                    "; then up again failed, which stops the walk: {}",
                    e.lines().next().unwrap_or_default()
                ))
                .unwrap_or_default()
        ),
        Outcome::ReapplyDiffers { differences } => format!(
            "FAIL {what}: up again builds another schema: {}",
            describe(differences, "not built again", "built only the second time", "the second time", "the first time")
        ),
        Outcome::NotRun => return None,
    };
    Some(format!("{}\n", printable(&text)))
}

/// `migraph test`.
pub fn test(cx: &Context, args: &TestArgs) -> Result<String> {
    let targets = targets(cx, args)?;
    let graph = cx.graph()?;
    let migrator = session::migrator(cx, graph)?;
    let json = cx.global.json;
    let mut dialects = Vec::new();
    let mut failures = Vec::new();
    let print = |text: &str| {
        if !json {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    };
    for (dialect, server) in &targets {
        let dialect = *dialect;
        let name = dialect_name(dialect);
        let problems = check_problems(cx, args, migrator.graph(), dialect);
        for problem in &problems {
            print(&format!("FAIL check: {}\n", printable(problem)));
        }
        if problems.is_empty() {
            print(&format!(
                "ok   check: {} revisions, {} head(s)\n",
                migrator.graph().len(),
                migrator.graph().heads().len()
            ));
        }
        let scratch = Scratch::create(dialect, server.as_deref()).map_err(super::schema::scratch_error)?;
        if !cx.global.quiet {
            match scratch.name() {
                Some(db) => {
                    eprintln!("{name}: scratch database {db} on {}", redact(server.as_deref().unwrap_or_default()))
                }
                None => eprintln!("{name}: scratch database {}", printable(scratch.url())),
            }
        }
        let mut conn =
            scratch.connect().map_err(|e| CliError::new(format!("cannot open the scratch {name} database: {e}")))?;
        let walked = migraph::schema::round_trip(&migrator, &mut conn, |result| {
            if let Some(text) = line(result, dialect, args.strict) {
                print(&text);
            }
        });
        drop(conn);
        drop(scratch);
        let (report, error) = match walked {
            Ok(report) => (Some(report), None),
            Err(e) => {
                let e = CliError::from(e);
                print(&format!("FAIL {name}: {}\n", printable(&e.lines.join("; "))));
                (None, Some(e.lines.join("\n")))
            }
        };
        let failed = !problems.is_empty() || error.is_some() || report.as_ref().is_some_and(|r| r.failed(args.strict));
        if let Some(report) = &report {
            let count = |f: fn(&Outcome) -> bool| report.revisions.iter().filter(|r| f(&r.outcome)).count();
            let failed_count = report.revisions.iter().filter(|r| r.outcome.failed(true)).count()
                - count(|o| matches!(o, Outcome::Irreversible | Outcome::NotRun));
            print(&format!(
                "{name}: {} revisions: {} ok, {failed_count} failed, {} irreversible, {} not tested; downgrade base: {}\n",
                report.revisions.len(),
                count(|o| matches!(o, Outcome::Ok)),
                count(|o| matches!(o, Outcome::Irreversible)),
                count(|o| matches!(o, Outcome::NotRun)),
                match &report.base.outcome {
                    Outcome::Ok => "ok",
                    Outcome::Irreversible => "skipped (irreversible revisions)",
                    Outcome::NotRun => "not tried",
                    _ => "FAILED",
                }
            ));
        }
        if failed {
            failures.push(name);
        }
        dialects.push(DialectJson { dialect: name, ok: !failed, check: problems, report, error });
    }
    let out = if json { to_json(&Json { ok: failures.is_empty(), dialects }) } else { String::new() };
    if failures.is_empty() {
        return Ok(out);
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    let mut error = CliError::new(format!("migraph test failed on {}", failures.join(", ")));
    if !args.strict {
        error = error.hint("each FAIL line says what differs; fix the revision's down (or up) section and run again");
    }
    Err(error)
}
