//! `-- migraph:allow RULE...` comment lines: the rules a revision file
//! turns off for itself.
//!
//! The line may stand anywhere in the file. Below the header and above
//! the first section marker it is outside every section, so adding it to
//! a revision already applied does not change its checksum. A line that
//! almost reads `-- migraph:allow` (`-- migraph: allow`, `--MIGRAPH:ALLOW`,
//! `-- migraph:allows x`) or that names an unknown rule is an error with its
//! line, never a comment that silently allows nothing.

use super::Rule;

/// A `-- migraph:allow` line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowError {
    /// The 1-based line of the file.
    pub line: usize,
    pub problem: AllowProblem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowProblem {
    /// A name that is no rule.
    UnknownRule(String),
    /// `-- migraph:allow` with no rule after it.
    NoRule,
    /// A line that almost reads `-- migraph:allow` (as written).
    NearMiss(String),
}

impl std::fmt::Display for AllowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AllowProblem::UnknownRule(name) => {
                write!(f, "unknown lint rule `{name}` in `-- migraph:allow` (rules: {})", super::rule_names())
            }
            AllowProblem::NoRule => write!(f, "`-- migraph:allow` names no rule (rules: {})", super::rule_names()),
            AllowProblem::NearMiss(line) => {
                write!(f, "`{line}` is not an allow comment: did you mean `-- migraph:allow RULE...`?")
            }
        }
    }
}

/// The rules allowed by the `-- migraph:allow` lines of `text`, a revision
/// file (each rule once, in order), or every line that cannot be read.
pub fn allowed(text: &str) -> Result<Vec<Rule>, Vec<AllowError>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let error = |problem| AllowError { line: index + 1, problem };
        let Some(comment) = line.trim().strip_prefix("--") else { continue };
        let Some(names) = directive(comment) else {
            if near_miss(comment) {
                errors.push(error(AllowProblem::NearMiss(line.trim().to_string())));
            }
            continue;
        };
        if names.trim().is_empty() {
            errors.push(error(AllowProblem::NoRule));
        }
        for name in names.split(|c: char| c.is_whitespace() || c == ',').filter(|n| !n.is_empty()) {
            match Rule::from_name(name) {
                Some(rule) if !rules.contains(&rule) => rules.push(rule),
                Some(_) => {}
                None => errors.push(error(AllowProblem::UnknownRule(name.to_string()))),
            }
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(errors)
    }
}

/// The rule names of a comment (the text after `--`) that reads
/// ` migraph:allow NAMES`.
fn directive(comment: &str) -> Option<&str> {
    let rest = comment.trim_start().strip_prefix("migraph:allow")?;
    (rest.is_empty() || rest.starts_with(char::is_whitespace)).then_some(rest)
}

/// Whether a comment is `migraph`, `:` and a word starting with `allow`,
/// spaced or cased otherwise than [`directive`] reads.
fn near_miss(comment: &str) -> bool {
    let squeezed: String = comment.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    squeezed.starts_with("migraph:allow")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_are_read_from_every_allow_line() {
        let text = "-- id: a\n-- parents:\n-- migraph:allow drop-column rename-table\n\n-- migrate:up\n\
                    --migraph:allow drop-column,drop-table\nSELECT 1; -- migraph:allow unparsable\n";
        assert_eq!(allowed(text), Ok(vec![Rule::DropColumn, Rule::RenameTable, Rule::DropTable]));
        assert_eq!(allowed("-- migrate:up\nSELECT '-- migraph:allow x';\n"), Ok(vec![]));
    }

    #[test]
    fn unknown_rules_and_near_misses_name_their_line() {
        let text = "-- migraph:allow drop-colum drop-table\n-- migraph: allow drop-table\n-- MIGRAPH:ALLOW x\n\
                    -- migraph:allows drop-table\n-- migraph:allow\n-- migraph:empty\n";
        let errors = allowed(text).unwrap_err();
        let found: Vec<(usize, String)> = errors.iter().map(|e| (e.line, e.problem.to_string())).collect();
        assert_eq!(found.len(), 5, "{found:#?}");
        assert_eq!(found[0].0, 1);
        assert!(found[0].1.starts_with("unknown lint rule `drop-colum` in `-- migraph:allow` (rules: sqlite-alter, "));
        assert_eq!(
            found[1],
            (
                2,
                "`-- migraph: allow drop-table` is not an allow comment: did you mean `-- migraph:allow RULE...`?"
                    .into()
            )
        );
        assert_eq!((found[2].0, found[3].0), (3, 4));
        assert!(found[4].1.starts_with("`-- migraph:allow` names no rule"), "{}", found[4].1);
    }
}
