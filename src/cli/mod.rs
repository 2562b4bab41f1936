//! The `migraph` command line: argument parsing, configuration discovery,
//! output, and the exit-code contract (0 success, 1 error, 2 bad usage).
//!
//! Each command lives in its own file and returns what it prints on stdout;
//! this module writes it, so a closed pipe (`migraph history | head`) ends
//! the program quietly instead of with a panic.

mod check;
mod config;
mod history;
mod inspect;
mod new;
mod output;

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
                let _ = writeln!(err, "error: {line}");
            }
            for hint in &e.hints {
                let _ = writeln!(err, "hint: {hint}");
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
    let cx = Context { global: cli.global, settings };
    match &cli.command {
        Command::Init(args) => new::init(&cx.global, args),
        Command::Revision(args) => new::revision(&cx, args),
        Command::Merge(args) => new::merge(&cx, args),
        Command::Heads => inspect::heads(&cx),
        Command::Branches => inspect::branches(&cx),
        Command::History(args) => history::history(&cx, args),
        Command::Show(args) => inspect::show(&cx, args),
        Command::Graph(args) => history::graph(&cx, args),
        Command::Check => check::check(&cx),
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
