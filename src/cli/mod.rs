//! The `migraph` command line: argument parsing, configuration discovery,
//! output, and the exit-code contract (0 success, 1 error, 2 bad usage).
//!
//! Each command lives in its own file and returns what it prints on stdout;
//! this module writes it, so a closed pipe (`migraph history | head`) ends
//! the program quietly instead of with a panic.

mod check;
mod config;
mod db;
mod history;
mod inspect;
mod new;
mod output;
mod run;

use std::fmt;
use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use config::Settings;
use migraph::RevisionGraph;

/// Database migrations whose history is a Git-style DAG.
#[derive(Debug, Parser)]
#[command(name = "migraph", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after its name.
#[derive(Debug, Clone, Default, Args)]
pub struct Global {
    /// Revisions directory [default: from migraph.toml, else ./revisions]
    #[arg(long, global = true, value_name = "DIR")]
    pub revisions: Option<PathBuf>,
    /// Database URL [default: $DATABASE_URL, else migraph.toml]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Version table name [default: migraph_revisions]
    #[arg(long, global = true, value_name = "NAME")]
    pub table: Option<String>,
    /// Print machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Seconds to wait for another run's lock [default: 60]
    #[arg(long, global = true, value_name = "SECS")]
    pub lock_timeout: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create migraph.toml and a revisions/ directory
    Init(new::InitArgs),
    /// Write a new revision file whose parent is the single head
    Revision(new::RevisionArgs),
    /// Write a merge revision whose parents are the given revisions (default: all heads)
    Merge(new::MergeArgs),
    /// List the heads of the graph
    Heads,
    /// List branch points with their children
    Branches,
    /// List revisions, newest first
    History(history::HistoryArgs),
    /// Show one revision in full
    Show(inspect::ShowArgs),
    /// Print the whole DAG as Graphviz DOT or Mermaid
    Graph(history::GraphArgs),
    /// Validate the revision graph; exit 1 listing every problem
    Check,
    /// Print the database's applied heads
    Current,
    /// Applied heads, pending revisions, checksum drift, failed revisions
    Status,
    /// Apply revisions up to the target(s)
    Upgrade(run::UpgradeArgs),
    /// Unapply the revisions that descend from the target(s)
    Downgrade(run::RunArgs),
    /// Switch to exactly the target(s): down to the common ancestor, then up
    Migrate(run::RunArgs),
    /// Record the target(s) as the applied state without running SQL
    Stamp(run::StampArgs),
}

/// An error the binary reports: message lines, hints, exit code.
#[derive(Debug)]
pub struct CliError {
    pub lines: Vec<String>,
    pub hints: Vec<String>,
    pub code: i32,
}

impl CliError {
    pub fn new(message: impl fmt::Display) -> Self {
        CliError { lines: message.to_string().lines().map(str::to_string).collect(), hints: Vec::new(), code: 1 }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl From<migraph::Error> for CliError {
    fn from(error: migraph::Error) -> Self {
        let mut e = CliError::new(&error);
        e.hints.extend(error.hint());
        e
    }
}

macro_rules! lib_error {
    ($($t:ty),*) => {$(
        impl From<$t> for CliError {
            fn from(error: $t) -> Self {
                migraph::Error::from(error).into()
            }
        }
    )*};
}
lib_error!(migraph::SourceError, migraph::GraphError, migraph::TargetError, migraph::PlanError);

impl From<migraph::runner::RunError> for CliError {
    fn from(error: migraph::runner::RunError) -> Self {
        let mut e = CliError::new(&error);
        e.hints.extend(error.hint());
        e
    }
}

pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// What a command needs besides its own arguments.
pub struct Context {
    pub global: Global,
    pub settings: Settings,
}

impl Context {
    /// Loads and validates the revision graph.
    pub fn graph(&self) -> Result<RevisionGraph> {
        Ok(migraph::load(&self.settings.revisions)?)
    }

    /// Loads the graph on another thread while `work` runs on this one, so
    /// reading thousands of files overlaps with connecting to the database
    /// (and SQLite parsing a large schema). File errors come first.
    pub fn graph_while<T>(&self, work: impl FnOnce() -> Result<T>) -> Result<(RevisionGraph, T)> {
        std::thread::scope(|scope| {
            let files = scope.spawn(|| self.graph());
            let done = work();
            let graph = files.join().map_err(|_| CliError::new("loading the revision files failed"))??;
            Ok((graph, done?))
        })
    }
}

/// Runs the program and returns its exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(cli) {
        Ok(stdout) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(stdout.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write output: {e}");
                    1
                }
                _ => 0,
            }
        }
        Err(e) => {
            let mut err = std::io::stderr().lock();
            for line in &e.lines {
                let _ = writeln!(err, "error: {}", output::printable(line));
            }
            for hint in &e.hints {
                let _ = writeln!(err, "hint: {}", output::printable(hint));
            }
            e.code
        }
    }
}

fn run(cli: Cli) -> Result<String> {
    if let Command::Init(args) = &cli.command {
        return new::init(&cli.global, args);
    }
    let settings = Settings::resolve(&cli.global)?;
    let url = settings.database_url.clone().unwrap_or_default();
    let cx = Context { global: cli.global, settings };
    dispatch(&cx, &cli.command).map_err(|mut e| {
        for line in e.lines.iter_mut().chain(e.hints.iter_mut()) {
            *line = migraph::backend::scrub(line, &url);
        }
        e
    })
}

fn dispatch(cx: &Context, command: &Command) -> Result<String> {
    match command {
        Command::Init(args) => new::init(&cx.global, args),
        Command::Revision(args) => new::revision(cx, args),
        Command::Merge(args) => new::merge(cx, args),
        Command::Heads => inspect::heads(cx),
        Command::Branches => inspect::branches(cx),
        Command::History(args) => history::history(cx, args),
        Command::Show(args) => inspect::show(cx, args),
        Command::Graph(args) => history::graph(cx, args),
        Command::Check => check::check(cx),
        Command::Current => db::current(cx),
        Command::Status => db::status(cx),
        Command::Upgrade(args) => run::upgrade(cx, args),
        Command::Downgrade(args) => run::downgrade(cx, args),
        Command::Migrate(args) => run::migrate(cx, args),
        Command::Stamp(args) => run::stamp(cx, args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
