//! `lint`: the dangerous-change rules of [`migraph::lint`] over revisions'
//! up SQL, one line per finding; exit 1 when any is an error. Also the
//! `[lint]` table of migraph.toml and `check --lint`.

use std::collections::HashSet;
use std::path::Path;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser as _};
use clap::Args;
use serde::{Deserialize, Serialize};

use migraph::backend::Dialect;
use migraph::lint::{revision_findings, rule_names, Finding, Rule, Severity};
use migraph::revision::{dialect_name, DIALECTS};
use migraph::{Revision, RevisionGraph};

use super::output::{printable, to_json};
use super::style::Style;
use super::{CliError, Context, Result};

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Revisions to lint: ID prefix, label, `head`, `<label>@head`... [default: every revision]
    #[arg(value_name = "REV")]
    pub revs: Vec<String>,
    /// Lint the SQL that runs on this engine; repeat for several [default: lint.dialects in migraph.toml, else all three]
    #[arg(long, value_name = "D", value_parser = dialect_parser())]
    pub dialect: Vec<Dialect>,
}

/// `sqlite`, `postgres` (`postgresql`) or `mysql` (`mariadb`).
fn dialect_parser() -> impl clap::builder::TypedValueParser<Value = Dialect> {
    let values = DIALECTS.map(|(d, name)| match d {
        Dialect::Postgres => PossibleValue::new(name).alias("postgresql"),
        Dialect::Mysql => PossibleValue::new(name).alias("mariadb"),
        Dialect::Sqlite => PossibleValue::new(name),
    });
    PossibleValuesParser::new(values).map(|name| dialect(&name).unwrap_or(Dialect::Sqlite))
}

fn dialect(name: &str) -> Option<Dialect> {
    match name {
        "postgresql" => Some(Dialect::Postgres),
        "mariadb" => Some(Dialect::Mysql),
        _ => DIALECTS.iter().find(|(_, n)| *n == name).map(|(d, _)| *d),
    }
}

/// The `[lint]` table of migraph.toml as written: `allow` (rules turned
/// off for the whole project) and `dialects` (the engines the project runs
/// on, so generic SQL is not judged for the others).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintConfig {
    #[serde(default)]
    allow: Vec<toml::Spanned<String>>,
    #[serde(default)]
    dialects: Vec<toml::Spanned<String>>,
}

/// The `[lint]` settings.
#[derive(Debug, Clone, Default)]
pub struct LintSettings {
    pub allow: Vec<Rule>,
    /// Empty: every dialect.
    pub dialects: Vec<Dialect>,
}

impl LintConfig {
    /// The settings, or an error naming `path` (the file, whose `text` is
    /// given) and the line of the first unknown rule or dialect.
    pub fn settings(&self, path: &Path, text: &str) -> Result<LintSettings> {
        let place = |value: &toml::Spanned<String>| {
            let line = 1 + text[..value.span().start.min(text.len())].matches('\n').count();
            format!("{}:{line}", path.display())
        };
        let mut settings = LintSettings::default();
        for name in &self.allow {
            let rule = Rule::from_name(name.get_ref()).ok_or_else(|| {
                CliError::new(format!("{}: unknown lint rule `{}` in lint.allow", place(name), name.get_ref()))
                    .hint(format!("rules: {}", rule_names()))
            })?;
            settings.allow.push(rule);
        }
        for name in &self.dialects {
            let d = dialect(name.get_ref()).ok_or_else(|| {
                CliError::new(format!("{}: unknown dialect `{}` in lint.dialects", place(name), name.get_ref()))
                    .hint("dialects: sqlite, postgres, mysql")
            })?;
            settings.dialects.push(d);
        }
        Ok(settings)
    }
}

/// A finding as `--json` prints it.
#[derive(Serialize)]
struct FindingJson<'a> {
    file: String,
    line: usize,
    revision: &'a str,
    /// The dialects whose SQL gives it, space-separated.
    dialect: String,
    rule: &'static str,
    severity: String,
    message: &'a str,
    fix: &'a str,
}

fn json(finding: &Finding) -> FindingJson<'_> {
    FindingJson {
        file: finding.path.display().to_string(),
        line: finding.line,
        revision: &finding.id,
        dialect: finding.dialects.iter().map(|d| dialect_name(*d)).collect::<Vec<_>>().join(" "),
        rule: finding.rule.name(),
        severity: finding.severity().to_string(),
        message: &finding.message,
        fix: &finding.fix,
    }
}

/// The dialects to lint for: the flag's, else migraph.toml's, else all.
fn dialects(cx: &Context, flag: &[Dialect]) -> Vec<Dialect> {
    let chosen = if flag.is_empty() { &cx.settings.lint.dialects[..] } else { flag };
    DIALECTS.iter().map(|(d, _)| *d).filter(|d| chosen.is_empty() || chosen.contains(d)).collect()
}

/// The findings of `revisions`, or every allow line that cannot be read.
fn findings<'a>(
    revisions: impl IntoIterator<Item = &'a Revision>,
    dialects: &[Dialect],
    allowed: &[Rule],
) -> Result<Vec<Finding>> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for revision in revisions {
        match revision_findings(revision, dialects, allowed) {
            Ok(findings) => found.extend(findings),
            Err(bad) => errors.extend(bad.iter().map(ToString::to_string)),
        }
    }
    if errors.is_empty() {
        return Ok(found);
    }
    let hint = format!("an allow line reads `-- migraph:allow RULE...`; rules: {}", rule_names());
    Err(CliError { lines: errors, hints: vec![hint], code: 1 })
}

/// `n thing` or `n things`.
fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

pub fn lint(cx: &Context, args: &LintArgs) -> Result<String> {
    let graph = cx.graph()?;
    let mut chosen = HashSet::new();
    for text in &args.revs {
        chosen.insert(migraph::target::resolve_revision(&graph, text)?.id.clone());
    }
    let revisions: Vec<&Revision> =
        graph.topological().into_iter().filter(|r| chosen.is_empty() || chosen.contains(&r.id)).collect();
    let dialects = dialects(cx, &args.dialect);
    let found = findings(revisions.iter().copied(), &dialects, &cx.settings.lint.allow)?;
    let errors = found.iter().filter(|f| f.severity() == Severity::Error).count();
    let names: Vec<&str> = dialects.iter().map(|d| dialect_name(*d)).collect();
    let summary = format!(
        "{}, {} in {} ({})",
        count(errors, "error"),
        count(found.len() - errors, "warning"),
        count(revisions.len(), "revision"),
        names.join(", ")
    );
    let out = if cx.global.json {
        to_json(&found.iter().map(json).collect::<Vec<_>>())
    } else {
        let paint = cx.global.stdout_paint();
        let mut out = String::new();
        for finding in found.iter().filter(|f| !cx.global.quiet || f.severity() == Severity::Error) {
            let style = if finding.severity() == Severity::Error { Style::Error } else { Style::Warning };
            let label = paint.paint(style, &format!("{}[{}]", finding.severity(), finding.rule));
            let text =
                format!("{}:{}: {label}: {} — {}", finding.path.display(), finding.line, finding.message, finding.fix);
            out.push_str(&printable(&text));
            out.push('\n');
        }
        if errors == 0 && !cx.global.quiet {
            out.push_str(&format!("lint: {summary}\n"));
        }
        out
    };
    if errors == 0 {
        return Ok(out);
    }
    print!("{out}");
    Err(CliError::new(format!("lint: {summary}")).hint(
        "fix each error, or allow its rule: a `-- migraph:allow RULE` line below the revision's header (outside \
         its SQL sections, so its checksum stays), or lint.allow = [\"RULE\"] in migraph.toml",
    ))
}

/// `check --lint`: the lint errors of the revisions not applied yet (on
/// `dialect`, the database's, else the configured ones), one problem line
/// each; warnings are printed on stderr. `sqlite-alter` is left to
/// `check` itself, which reports it with or without `--lint`.
pub fn for_check(
    cx: &Context,
    graph: &RevisionGraph,
    dialect: Option<Dialect>,
    applied: &dyn Fn(&str) -> bool,
) -> Vec<String> {
    let dialects = dialect.map_or_else(|| dialects(cx, &[]), |d| vec![d]);
    let mut allowed = cx.settings.lint.allow.clone();
    allowed.push(Rule::SqliteAlter);
    let pending = graph.topological().into_iter().filter(|r| !applied(&r.id));
    let found = match findings(pending, &dialects, &allowed) {
        Ok(found) => found,
        Err(e) => return e.lines,
    };
    let mut problems = Vec::new();
    for finding in found {
        let text = format!(
            "{}:{}: {}: {} — {}",
            finding.path.display(),
            finding.line,
            finding.rule,
            finding.message,
            finding.fix
        );
        if finding.severity() == Severity::Error {
            problems.push(text);
        } else if !cx.global.quiet {
            let paint = cx.global.stderr_paint();
            eprintln!("{} {}", paint.paint(Style::Warning, "warning:"), printable(&text));
        }
    }
    problems
}

/// The hint of `check --lint`'s problems.
pub const CHECK_HINT: &str = "fix the lint errors, or allow a rule with a `-- migraph:allow RULE` line below the \
                              revision's header (`migraph lint` lists every finding)";

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    /// `migraph lint --help` lists every rule under its severity.
    #[test]
    fn the_help_lists_every_rule_with_its_severity() {
        let command = super::super::Cli::command();
        let help = command.find_subcommand("lint").and_then(|c| c.get_after_help()).expect("lint help").to_string();
        let group = |title: &str| {
            let start = help.find(title).unwrap_or_else(|| panic!("{title} in {help}"));
            help[start..].split('.').next().unwrap_or_default().replace('\n', " ")
        };
        let (errors, warnings) = (group("Errors (exit 1):"), group("Warnings:"));
        for rule in Rule::ALL {
            let listed = if rule.severity() == Severity::Error { &errors } else { &warnings };
            assert!(listed.split([' ', ',', ':']).any(|word| word == rule.name()), "{rule} not in `{listed}`");
        }
    }

    #[test]
    fn dialect_names_and_aliases() {
        assert_eq!(dialect("postgresql"), Some(Dialect::Postgres));
        assert_eq!(dialect("mariadb"), Some(Dialect::Mysql));
        assert_eq!(dialect("sqlite"), Some(Dialect::Sqlite));
        assert_eq!(dialect("oracle"), None);
    }
}
