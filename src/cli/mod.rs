//! The `migraph` command line: argument parsing, configuration discovery,
//! output, and the exit-code contract (0 success, 1 error, 2 bad usage).
//!
//! Each command lives in its own file and returns what it prints on stdout
//! (except `history --graph`, which streams its picture and handles a closed
//! pipe itself); this module writes it, so a closed pipe (`migraph history |
//! head`) ends the program quietly instead of with a panic.

mod check;
mod config;
mod copy;
mod database;
mod db;
mod each;
mod hints;
mod history;
mod import;
mod import_alembic;
mod inspect;
mod lint;
mod list;
mod man;
mod new;
mod output;
mod run;
mod schema;
mod session;
mod squash;
mod style;
mod test;
mod verified;

use std::ffi::OsString;
use std::fmt;
use std::io::Write as _;
use std::path::PathBuf;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum as _};

use config::Settings;
use migraph::RevisionGraph;
use style::{ColorWhen, Paint, Style};

/// Database migrations whose history is a Git-style DAG.
#[derive(Debug, Parser)]
#[command(
    name = "migraph",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = "Examples:\n  migraph init\n  migraph revision -m \"add users table\"\n  migraph upgrade heads\n  migraph status\n\n\
                  Settings: a flag, else the environment (a .env file counts), else migraph.toml."
)]
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
    /// Database URL [default: $DATABASE_URL (also from .env), else migraph.toml]
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Version table name [default: migraph_revisions]
    #[arg(long, global = true, value_name = "NAME")]
    pub table: Option<String>,
    /// PostgreSQL schema of the version table [default: public] (SQLite: main; MySQL: the URL's database)
    #[arg(long, global = true, value_name = "NAME")]
    pub schema: Option<String>,
    /// Print machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// Print nothing but errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Seconds to wait for another run's lock, and for a SQLite database another connection has locked [default: 60, at most 31536000]
    #[arg(long, global = true, value_name = "SECS", value_parser = clap::value_parser!(u64).range(..=config::MAX_LOCK_TIMEOUT))]
    pub lock_timeout: Option<u64>,
    /// When to color decorations (auto: on a terminal, unless NO_COLOR is set)
    #[arg(long, global = true, value_name = "WHEN", value_enum, default_value_t)]
    pub color: ColorWhen,
    /// Run upgrade, downgrade, migrate, status or check on every database URL in FILE (one a line)
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "database_url")]
    pub each_database: Option<PathBuf>,
    /// With --each-database: databases worked on at once [default: the number of cores]
    #[arg(long, global = true, value_name = "N", requires = "each_database",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: Option<u16>,
}

impl Global {
    /// Colors for stdout.
    pub fn stdout_paint(&self) -> Paint {
        Paint::stdout(self.color)
    }

    /// Colors for stderr.
    pub fn stderr_paint(&self) -> Paint {
        Paint::stderr(self.color)
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create migraph.toml and a revisions/ directory
    #[command(
        after_help = "Examples:\n  migraph init\n  migraph init backend --database-url postgres://localhost/app"
    )]
    Init(new::InitArgs),
    /// Write a new revision file whose parent is the single head
    #[command(after_help = "Examples:\n  \
        migraph revision -m \"add users table\"\n  \
        migraph revision -m \"billing tables\" --parent ae10 --label billing\n  \
        migraph revision -m \"backfill invoices\" --depends-on billing@head")]
    Revision(new::RevisionArgs),
    /// Write a merge revision whose parents are the given revisions (default: all heads)
    #[command(
        after_help = "Examples:\n  migraph merge\n  migraph merge billing@head auth@head -m \"join billing and auth\""
    )]
    Merge(new::MergeArgs),
    /// Write a revision that replaces a linear range FROM:TO (its SQL concatenated), like Django's squashmigrations
    #[command(after_help = "Examples:\n  migraph squash 1a2b:9f8e -m \"initial schema\"\n\n\
        Databases with every replaced revision applied record the squash without running SQL; fresh databases run\n\
        it instead of them. Keep the replaced files until every database has passed the squash, then delete them.")]
    Squash(squash::SquashArgs),
    /// List the heads of the graph
    #[command(after_help = "Examples:\n  migraph heads\n  migraph heads --json")]
    Heads,
    /// List branch points with their children
    #[command(after_help = "Examples:\n  migraph branches\n  migraph branches --json")]
    Branches,
    /// List revisions, newest first
    #[command(
        after_help = "Examples:\n  migraph history\n  migraph history -r -3:\n  migraph history -r base:billing@head --graph"
    )]
    History(history::HistoryArgs),
    /// Show one revision in full
    #[command(after_help = "Examples:\n  migraph show ae10\n  migraph show billing@head --json")]
    Show(inspect::ShowArgs),
    /// Print the whole DAG as Graphviz DOT or Mermaid
    #[command(after_help = "Examples:\n  migraph graph | dot -Tsvg > history.svg\n  migraph graph --format mermaid")]
    Graph(history::GraphArgs),
    /// Validate the revision graph; exit 1 listing every problem
    ///
    /// Fails on file errors; on several heads unless each head is on its own labelled branch
    /// (expand/contract, one label per app) or --allow-multiple-heads; with a database, on
    /// checksum drift, applied revisions without a file and failed revisions.
    #[command(after_help = "Examples:\n  migraph check\n  migraph check --database-url sqlite://app.db --json")]
    Check(check::CheckArgs),
    /// Print the database's applied heads
    #[command(
        after_help = "Examples:\n  migraph current\n  migraph current --database-url postgres://localhost/app --json"
    )]
    Current,
    /// Applied heads, pending revisions, checksum drift, failed revisions
    #[command(after_help = "Examples:\n  migraph status\n  migraph status --json")]
    Status,
    /// Every revision, applied (when, how long) then pending, like `diesel migration list`
    #[command(after_help = "Examples:\n  migraph list\n  migraph list --json\n\n\
        Applied revisions come first in the order they were applied ([X] id, applied_at (UTC), ms, message),\n\
        then pending ones in the order `migraph upgrade` applies them ([ ] id pending message).")]
    List,
    /// Apply revisions up to the target(s)
    #[command(after_help = "Examples:\n  \
        migraph upgrade heads\n  \
        migraph upgrade billing@head --dry-run\n  \
        migraph upgrade +2\n  \
        migraph upgrade heads --backup\n  \
        migraph upgrade heads --sql > upgrade.sql\n  \
        migraph upgrade heads --each-database databases.txt --jobs 8")]
    Upgrade(run::UpgradeArgs),
    /// Unapply the target(s)' own line of work above them and what needs it
    #[command(after_help = "Examples:\n  \
        migraph downgrade -1\n  \
        migraph downgrade base --dry-run\n  \
        migraph downgrade ae10 --sql --from heads > downgrade.sql")]
    Downgrade(run::RunArgs),
    /// Switch to exactly the target(s): down to the common ancestor, then up
    #[command(after_help = "Examples:\n  migraph migrate feature@head\n  migraph migrate ae10 --dry-run")]
    Migrate(run::RunArgs),
    /// Record the target(s) as the applied state without running SQL
    #[command(after_help = "Examples:\n  migraph stamp heads\n  migraph stamp base\n  migraph stamp --accept-drift")]
    Stamp(run::StampArgs),
    /// Unapply a revision (default: the single applied head) and what needs it, then apply them again
    ///
    /// The down SQL stored when the revision was applied runs, so redo works after the file was
    /// edited; re-applying runs the file's up SQL and records its new checksum.
    #[command(after_help = "Examples:\n  migraph redo\n  migraph redo ae10 --dry-run\n  migraph redo --backup")]
    Redo(run::RedoArgs),
    /// Create or drop the database the URL names
    #[command(after_help = "Examples:\n  migraph database create\n  migraph database drop --yes")]
    Database(database::DatabaseArgs),
    /// Copy the database, schema and rows, into another engine's empty database
    #[command(after_help = "Examples:\n  \
        migraph copy --to postgres://app@db/app --dry-run\n  \
        migraph --database-url sqlite://jupyterhub.sqlite copy --to postgres://hub@db/jupyterhub\n\n\
        The target's schema is built by applying the source's revisions there (dialect sections count), then\n\
        every table is copied and both sides are compared (row counts and SHA-256 of the contents).")]
    Copy(copy::CopyArgs),
    /// Print the live database's normalised schema: tables, columns, indexes, constraints, views, triggers
    #[command(after_help = "Examples:\n  migraph schema\n  migraph schema --json")]
    Schema,
    /// Up, down and up again every revision on a scratch database, checking down restores the schema
    #[command(after_help = "Examples:\n  \
        migraph test\n  \
        migraph test --dialect sqlite --dialect postgres --server postgres://postgres@localhost/postgres\n  \
        migraph test --strict --json\n\n\
        SQLite uses a temporary file; PostgreSQL and MySQL a database migraph_test_<time>_<pid>_<n> on the server\n\
        (--server URL, else the configured database URL of that engine), dropped afterwards. After a kill or\n\
        Ctrl-C, the next run on that server drops the leftover database once it is a minute old.")]
    Test(test::TestArgs),
    /// Compare the live schema with what its applied revisions build on a scratch database
    #[command(after_help = "Examples:\n  migraph verify\n  migraph verify --json\n\n\
        Exits 1 listing each difference: a column added by hand, a missing index, a changed type.")]
    Verify,
    /// Report dangerous changes in revisions' up SQL: drops, renames, type changes, blocking index builds...
    #[command(after_help = "Examples:\n  migraph lint\n  migraph lint ae10 billing@head --dialect postgres\n  \
        migraph lint --json\n\n\
        Errors (exit 1): sqlite-alter, add-not-null-column, concurrently-in-transaction.\n\
        Warnings: drop-table, drop-column, rename-table, rename-column, change-column-type,\n\
        create-index-blocking, constraint-without-not-valid, unparsable.\n\
        Turn rules off with a `-- migraph:allow RULE...` line in a revision, or with\n\
        lint.allow = [\"RULE\"] in migraph.toml; lint.dialects = [\"postgres\"] there lints generic SQL\n\
        for those engines only.")]
    Lint(lint::LintArgs),
    /// Write revision files from diesel, sqlx, golang-migrate, dbmate, goose, refinery or Flyway migrations
    #[command(after_help = "Examples:\n  migraph import diesel\n  migraph import sqlx migrations --dry-run\n  \
        migraph import flyway src/main/resources/db/migration\n\n\
        The migrations become one chain in the tool's order, with IDs <tool>_<version> (golang-migrate: migrate_<version>)\n\
        and the SQL as written; what migraph cannot express is reported per file. Nothing is overwritten.")]
    Import(import::ImportArgs),
    /// Stamp migraph's version table from the tool's version table, running no SQL
    #[command(after_help = "Examples:\n  migraph adopt diesel --dry-run\n  migraph adopt sqlx migrations\n\n\
        Run `migraph import` first. Checksums the tool stored (sqlx, Flyway, refinery) are compared with the files in DIR;\n\
        a mismatch, a dirty or failed migration, or a version without a revision stamps nothing.\n\
        The tool's table is left as it is.")]
    Adopt(import::AdoptArgs),
    /// Print a shell completion script on stdout
    #[command(after_help = "Examples:\n  \
        migraph completions bash | less      # the script, on stdout; to install it:\n  \
        mkdir -p ~/.local/share/bash-completion/completions && \\\n      \
        migraph completions bash > ~/.local/share/bash-completion/completions/migraph\n  \
        mkdir -p ~/.zfunc && migraph completions zsh > ~/.zfunc/_migraph   # fpath+=~/.zfunc in ~/.zshrc\n  \
        mkdir -p ~/.config/fish/completions && \\\n      \
        migraph completions fish > ~/.config/fish/completions/migraph.fish")]
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout
    #[command(after_help = "Examples:\n  \
        migraph man | man -l -\n  \
        mkdir -p ~/.local/share/man/man1 && migraph man > ~/.local/share/man/man1/migraph.1")]
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `migraph completions SHELL`.
fn completions(args: &CompletionsArgs) -> String {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "migraph", &mut script);
    String::from_utf8_lossy(&script).into_owned()
}

/// The last `--color WHEN` of the raw arguments, before clap parses them.
fn color_flag(args: &[OsString]) -> Option<ColorWhen> {
    let mut found = None;
    let mut words = args.iter().skip(1).map(|a| a.to_str());
    while let Some(word) = words.next() {
        let value = match word {
            Some("--") => break,
            Some("--color") => words.next().flatten(),
            Some(other) => other.strip_prefix("--color="),
            None => None,
        };
        found = value.and_then(|v| ColorWhen::from_str(v, true).ok()).or(found);
    }
    found
}

/// Loads `.env` from the current directory or its nearest parent that has
/// one, as Diesel and sqlx do: variables already set in the environment
/// win. Returns a warning when the file cannot be read or parsed (the
/// variables before the bad line are loaded).
fn load_dotenv() -> Option<String> {
    // An empty DATABASE_URL stays set (and wins over .env): it is an error
    // (`DATABASE_URL=$PROD_URL` with the secret missing must not fall back
    // to another database).
    config::remember_process_env();
    let cwd = std::env::current_dir().ok()?;
    let path = config::dotenv_file(&cwd)?;
    let problem = match dotenvy::from_path(&path).err()? {
        // The parse error quotes the line, which may hold a password.
        dotenvy::Error::LineParse(..) => "a line cannot be parsed; it and the lines after it were ignored".to_string(),
        other => other.to_string(),
    };
    Some(format!("{}: {problem}", path.display()))
}

/// An error the binary reports: message lines, hints, exit code.
#[derive(Debug, Clone)]
pub struct CliError {
    /// One entry per error, each printed with its own `error:` line; an
    /// entry's further lines are indented under it.
    pub lines: Vec<String>,
    pub hints: Vec<String>,
    pub code: i32,
}

impl CliError {
    pub fn new(message: impl fmt::Display) -> Self {
        // One error: its further lines (a database's multi-line message)
        // are printed indented under its `error:` line.
        CliError { lines: vec![message.to_string().trim_end().to_string()], hints: Vec::new(), code: 1 }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl From<migraph::Error> for CliError {
    fn from(error: migraph::Error) -> Self {
        let mut e = match &error {
            // Every problem of the files is an error of its own, one `error:` line each.
            migraph::Error::Graph(graph) => {
                CliError { lines: graph.problems.iter().map(ToString::to_string).collect(), hints: Vec::new(), code: 1 }
            }
            _ => CliError::new(&error),
        };
        e.hints.extend(hints::error(&error));
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
lib_error!(
    migraph::SourceError,
    migraph::GraphError,
    migraph::TargetError,
    migraph::PlanError,
    migraph::RunError,
    migraph::status::StateError
);

pub type Result<T, E = CliError> = std::result::Result<T, E>;

/// What a command needs besides its own arguments.
pub struct Context {
    pub global: Global,
    pub settings: Settings,
}

/// A graph that is never freed: the commands that only read it (`heads`,
/// `branches`, `history`, `show`) end the process right after, which gives
/// its memory back at once, while freeing 100,000 revisions one allocation
/// at a time took a tenth of such a command's time.
pub type Kept = std::mem::ManuallyDrop<RevisionGraph>;

impl Context {
    /// Loads and validates the revision graph.
    pub fn graph(&self) -> Result<RevisionGraph> {
        Ok(migraph::load(&self.settings.revisions)?)
    }

    /// Loads and validates the revision graph from headers only, through
    /// the header cache ([`migraph::load_headers`]): for the commands that
    /// draw or plan. Runs load and check the SQL of what they run.
    pub fn headers(&self) -> Result<RevisionGraph> {
        Ok(migraph::load_headers(&self.settings.revisions)?)
    }

    /// [`Context::headers`] for a command that only reads the graph and
    /// ends the process: see [`Kept`].
    pub fn headers_kept(&self) -> Result<Kept> {
        Ok(Kept::new(self.headers()?))
    }

    /// Loads the graph on another thread while `work` runs on this one, so
    /// reading thousands of files overlaps with connecting to the database
    /// (and SQLite parsing a large schema). File errors come first.
    pub fn graph_while<T>(&self, work: impl FnOnce() -> Result<T>) -> Result<(RevisionGraph, T)> {
        self.load_while(Self::graph, work)
    }

    /// [`Context::graph_while`] with [`Context::headers`].
    pub fn headers_while<T>(&self, work: impl FnOnce() -> Result<T>) -> Result<(RevisionGraph, T)> {
        self.load_while(Self::headers, work)
    }

    fn load_while<T>(
        &self,
        load: fn(&Self) -> Result<RevisionGraph>,
        work: impl FnOnce() -> Result<T>,
    ) -> Result<(RevisionGraph, T)> {
        std::thread::scope(|scope| {
            let files = scope.spawn(|| load(self));
            let done = work();
            let graph = files.join().map_err(|_| CliError::new("loading the revision files failed"))??;
            Ok((graph, done?))
        })
    }
}

/// Runs the program and returns its exit code.
pub fn main() -> i32 {
    // First of all: .env may set NO_COLOR as well as DATABASE_URL.
    let dotenv_problem = load_dotenv();
    let args: Vec<OsString> = std::env::args_os().collect();
    let mut command = Cli::command();
    // clap's own help and usage errors follow --color too.
    match color_flag(&args) {
        Some(ColorWhen::Always) => command = command.color(clap::ColorChoice::Always),
        Some(ColorWhen::Never) => command = command.color(clap::ColorChoice::Never),
        _ => {}
    }
    let parsed = command.try_get_matches_from_mut(&args).and_then(|mut m| Cli::from_arg_matches_mut(&mut m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let e = e.format(&mut command);
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let paint = cli.global.stderr_paint();
    if let Some(problem) = dotenv_problem.filter(|_| !cli.global.quiet) {
        eprintln!("{} {}", paint.paint(Style::Warning, "warning:"), output::printable(&problem));
    }
    match run(cli) {
        Ok(stdout) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(stdout.as_bytes()).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("{} cannot write output: {e}", paint.paint(Style::Error, "error:"));
                    1
                }
                _ => 0,
            }
        }
        Err(e) => {
            let mut err = std::io::stderr().lock();
            // One `error:` line per error; an error's further lines (a
            // database's multi-line message) are indented under it.
            for error in &e.lines {
                for (n, line) in error.lines().enumerate() {
                    let lead = if n == 0 { paint.paint(Style::Error, "error:") } else { " ".repeat(6) };
                    let _ = writeln!(err, "{lead} {}", output::printable(line));
                }
            }
            for hint in &e.hints {
                let _ = writeln!(err, "{} {}", paint.paint(Style::Hint, "hint:"), output::printable(hint));
            }
            e.code
        }
    }
}

fn run(cli: Cli) -> Result<String> {
    if cli.global.each_database.is_some() {
        return each::each(&cli);
    }
    match &cli.command {
        Command::Init(args) => return new::init(&cli.global, args),
        Command::Completions(args) => return Ok(completions(args)),
        Command::Man => return man::man(),
        _ => {}
    }
    let settings = Settings::resolve(&cli.global)?;
    let url = settings.database_url.clone().unwrap_or_default();
    if matches!(cli.command, Command::Check(_)) {
        // `check` reads the URL itself; an unset `${VAR}` must not make it skip the database.
        settings.url()?;
    }
    let cx = Context { global: cli.global, settings };
    dispatch(&cx, &cli.command).map_err(|mut e| {
        for line in e.lines.iter_mut().chain(e.hints.iter_mut()) {
            *line = migraph::backend::scrub(line, &url);
        }
        if database::missing(&e.lines.join("\n")) && !matches!(cli.command, Command::Database(_)) {
            e.hints.push("create it with `migraph database create`".into());
        }
        e
    })
}

fn dispatch(cx: &Context, command: &Command) -> Result<String> {
    match command {
        Command::Init(args) => new::init(&cx.global, args),
        Command::Revision(args) => new::revision(cx, args),
        Command::Merge(args) => new::merge(cx, args),
        Command::Squash(args) => squash::squash(cx, args),
        Command::Heads => inspect::heads(cx),
        Command::Branches => inspect::branches(cx),
        Command::History(args) => history::history(cx, args),
        Command::Show(args) => inspect::show(cx, args),
        Command::Graph(args) => history::graph(cx, args),
        Command::Check(args) => check::check(cx, args),
        Command::Current => db::current(cx),
        Command::Status => db::status(cx),
        Command::List => list::list(cx),
        Command::Upgrade(args) => run::upgrade(cx, args),
        Command::Downgrade(args) => run::downgrade(cx, args),
        Command::Migrate(args) => run::migrate(cx, args),
        Command::Stamp(args) => run::stamp(cx, args),
        Command::Redo(args) => run::redo(cx, args),
        Command::Database(args) => database::database(cx, args),
        Command::Copy(args) => copy::copy(cx, args),
        Command::Schema => schema::schema(cx),
        Command::Test(args) => test::test(cx, args),
        Command::Verify => schema::verify(cx),
        Command::Lint(args) => lint::lint(cx, args),
        Command::Import(args) => import::import(cx, args),
        Command::Adopt(args) => import::adopt(cx, args),
        Command::Completions(args) => Ok(completions(args)),
        Command::Man => man::man(),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn the_color_flag_is_found_before_parsing() {
        use super::{color_flag, ColorWhen};
        let args = |line: &str| line.split(' ').map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(color_flag(&args("migraph heads")), None);
        assert_eq!(color_flag(&args("migraph --color never heads")), Some(ColorWhen::Never));
        assert_eq!(color_flag(&args("migraph heads --color=always")), Some(ColorWhen::Always));
        assert_eq!(color_flag(&args("migraph --color=never heads --color always")), Some(ColorWhen::Always));
        assert_eq!(color_flag(&args("migraph --color bogus heads")), None);
        assert_eq!(color_flag(&args("migraph show -- --color=always")), None);
    }
}
