//! What the user can do next, for every error of the library: the wording
//! with commands and flags lives here, in the binary. The library's errors
//! carry typed data (IDs, paths, recovery targets) and a tool-neutral
//! message; this module turns the data into `hint:` lines.

use migraph::backend::{DbError, Dialect};
use migraph::revision::{dialect_name, DOWN_MARKER, UP_MARKER};
use migraph::runner::{Recovery, RunError};
use migraph::squash::PartialSquash;
use migraph::status::StateError;
use migraph::{Direction, Error, PlanError, SourceError, TargetError, Verb};

/// The hints of any library error.
pub fn error(error: &Error) -> Vec<String> {
    match error {
        Error::Source(SourceError::Missing(_)) => {
            vec!["run `migraph init` to create one, or pass --revisions DIR".into()]
        }
        Error::Source(_) => Vec::new(),
        Error::Graph(_) => vec!["fix the files named above; `migraph check` lists every problem".into()],
        Error::Target(e) => target(e).into_iter().collect(),
        Error::Plan(e) => plan(e).into_iter().collect(),
        Error::Run(e) => run(e).into_iter().collect(),
        Error::State(e) => vec![state(e)],
        Error::Db(e) => db(e).into_iter().collect(),
        Error::InvalidTableName(_) | Error::InvalidSchemaName(_) => Vec::new(),
        #[allow(unreachable_patterns)] // `Error` may grow variants.
        _ => Vec::new(),
    }
}

/// The hint of a run that stopped.
pub fn run(error: &RunError) -> Option<String> {
    Some(match error {
        RunError::Plan(e) => return plan(e),
        RunError::Db { source, .. } | RunError::Backup { source, .. } if db(source).is_some() => return db(source),
        RunError::Drift(_) => "restore the file(s) from version control; if the edit is intended and the schema \
                               already matches, record the new checksums with `migraph stamp --accept-drift` \
                               (it adds and removes no row)"
            .into(),
        // Never `downgrade`: the revisions may belong to another project
        // sharing the database, and their down sections would drop its tables.
        RunError::Ahead(_) => "these revisions were applied by a newer release of this project, or by another \
                               project that uses the same database and version table: run the release that has \
                               them, or give each project its own version table (--table) or schema/database; \
                               nothing was changed"
            .into(),
        RunError::Interrupted(i) => match &i.recovery {
            Some(r) => recovery(r, &i.pending.id),
            None => format!(
                "inspect the schema, finish or undo revision {}'s statements by hand, then record the true \
                 state with `migraph stamp <the applied heads>`",
                i.pending.id
            ),
        },
        RunError::Revision { marked: true, .. } => {
            "the revision ran outside a transaction and may be half applied; see `migraph status`".into()
        }
        RunError::Revision { rolled_back: true, .. } => {
            "the whole plan ran in one transaction and was rolled back: nothing changed".into()
        }
        RunError::Revision { done, .. } => format!(
            "the {done} revision(s) before it stay applied; the failing one left no trace; fix the cause and run again"
        ),
        RunError::LockTimeout(_) => "wait for the other run to finish, or raise --lock-timeout".into(),
        RunError::State(e) => state(e),
        RunError::Unrecordable { .. } => "nothing was run; change the revision so that its row fits".into(),
        RunError::Sql(_) => "nothing was run; fix the revision's SQL".into(),
        RunError::Running(_) => "wait for the other run to finish, then look again with `migraph status`; \
                                 do not `stamp` a revision that is still running"
            .into(),
        RunError::TransactionControl(_) => "migraph runs each revision in a transaction and commits it together \
                                            with its version row: remove the statement, or run the revision \
                                            outside a transaction with `-- transaction: false`; nothing was changed"
            .into(),
        RunError::InTransaction(_) => "run the migrations on a connection outside any transaction (e.g. at \
                                       start-up, before `begin_test_transaction`); nothing was changed"
            .into(),
        RunError::Backup { .. } => "nothing was changed; make the database's directory writable, free some space, \
                                    or run without --backup"
            .into(),
        RunError::EmptyUp(_) => format!(
            "write the revision's SQL below its up marker; if it is meant to run nothing, add the line `{}` to its \
             up section; nothing was changed",
            migraph::runner::EMPTY_MARKER
        ),
        RunError::SqliteAlter(finding) => format!("nothing was changed; {}", sqlite_alter(finding)),
        RunError::Redo(migraph::runner::RedoError::SeveralHeads(_)) => {
            "e.g. `migraph redo <id>`; `migraph current` lists the applied heads".into()
        }
        _ => return None,
    })
}

/// What to do about an `ALTER TABLE` SQLite cannot run.
pub fn sqlite_alter(finding: &migraph::lint::sqlite_alter::Finding) -> String {
    use migraph::lint::sqlite_alter::Fix;
    match finding.unsupported.fix() {
        Fix::Rebuild => format!(
            "SQLite changes such a table by rebuilding it: `migraph revision --rebuild-sqlite {} -m MSG` writes a \
             revision that does, with the PostgreSQL/MySQL ALTER TABLE in its generic section; or give this revision \
             a `-- migrate:up sqlite` section",
            finding.unsupported.table.trim_matches(['"', '`', '[', ']'])
        ),
        Fix::Split => "write one ALTER TABLE statement per operation for SQLite (in a `-- migrate:up sqlite` section \
                       if the other databases keep the combined one)"
            .into(),
        Fix::Remove => "leave IF EXISTS, IF NOT EXISTS, ONLY, CASCADE and RESTRICT out for SQLite (in a \
                        `-- migrate:up sqlite` section if the other databases keep them)"
            .into(),
    }
}

/// The hint of a plan that cannot be made.
pub fn plan(error: &PlanError) -> Option<String> {
    Some(match error {
        PlanError::Target(e) => return target(e),
        PlanError::BaseNotAllowed { .. } => "use `migraph downgrade base` to unapply everything".into(),
        PlanError::BranchBaseNotAllowed { target, .. } => {
            format!("use `migraph downgrade {target}` to unapply that branch")
        }
        PlanError::WrongDirection { verb, target } => {
            let other = if *verb == Verb::Upgrade { Verb::Downgrade } else { Verb::Upgrade };
            format!("use `migraph {other} {target}`")
        }
        PlanError::NotApplied { .. } => {
            "use `migraph migrate <target>` to switch to a revision that is not applied".into()
        }
        PlanError::Irreversible { .. } => {
            "add a `-- migrate:down` section (empty for a no-op), or use `migraph stamp` \
                                           to record the state without running SQL"
                .into()
        }
        PlanError::UnknownApplied { .. } => {
            "the database is ahead of these files: check out the newer revisions, or point --revisions at them".into()
        }
        PlanError::NotClosed { .. } => "repair the version table, e.g. with `migraph stamp <revision>`".into(),
        PlanError::NotForDialect { direction, dialect, .. } => not_for_dialect(*direction, *dialect),
        _ => return None,
    })
}

/// The hint of a target that cannot be resolved.
pub fn target(error: &TargetError) -> Option<String> {
    Some(match error {
        TargetError::SeveralHeads { .. } => "name one of them (an ID prefix or `<label>@head`), use `heads` for all \
                                             of them, or join them with `migraph merge`"
            .into(),
        TargetError::DatabaseSeveralHeads { .. } => {
            "use `<label>@+N`, `<revision>+N` or name the target revision".into()
        }
        TargetError::OffLineage { branch, .. } => {
            format!("`migraph history -r :{branch}@head` lists the lineage of `{branch}`")
        }
        TargetError::AmbiguousPrefix { .. } => "type more characters of the ID".into(),
        TargetError::AmbiguousStep { .. } => "name the revision you want instead of counting steps".into(),
        TargetError::Unknown { .. } => "`migraph history` lists every revision; `migraph heads` lists the heads".into(),
        TargetError::RangeNotAncestor { .. } => {
            "a range is `FROM:TO` with FROM below TO; swap the two ends, or see `migraph history --graph`".into()
        }
        _ => return None,
    })
}

/// The hint of a version table that cannot be read as a state of the files.
pub fn state(error: &StateError) -> String {
    match error {
        StateError::Squash(partial) => squash(partial),
        _ => "the version table is damaged: `migraph status` lists its rows; record the revisions the schema really \
              has with `migraph stamp <revisions>` (`migraph stamp base` for none; stamp runs no SQL)"
            .into(),
    }
}

/// The hint of a database error, when the command line can help.
pub fn db(error: &DbError) -> Option<String> {
    match error {
        DbError::TableInOtherSchema { schema, .. } => Some(format!(
            "to use it, pass --schema {schema} (or set schema = \"{schema}\" in migraph.toml); nothing was changed"
        )),
        _ => None,
    }
}

/// Both `stamp` commands that record the truth after revision `id` was
/// interrupted half-way.
pub fn recovery(recovery: &Recovery, id: &str) -> String {
    format!(
        "inspect the schema; if all of revision {id}'s statements took effect, run `migraph stamp {}`; \
         if none did, run `migraph stamp {}`; if only some did, finish or undo them by hand first \
         (stamp records the state without running SQL and clears the failure)",
        recovery.if_done.join(" "),
        recovery.if_not_done.join(" ")
    )
}

/// A squash that cannot be used because files of revisions it replaces are gone.
pub fn squash(partial: &PartialSquash) -> String {
    format!(
        "restore the files of {} (e.g. from version control) so the missing revisions run before {} is \
         recorded in their place; nothing was changed",
        partial.without_files.join(", "),
        partial.squash
    )
}

/// Revisions without SQL for the database's dialect.
pub fn not_for_dialect(direction: Direction, dialect: Dialect) -> String {
    let name = dialect_name(dialect);
    match direction {
        Direction::Up => format!(
            "add a `{UP_MARKER} {name}` section (or a generic `{UP_MARKER}`), or choose a target that does not include \
             them; nothing was changed"
        ),
        Direction::Down => format!(
            "add a `{DOWN_MARKER} {name}` section (empty for a no-op), or use `migraph stamp` to record the state \
             without running SQL; nothing was changed"
        ),
    }
}

/// A damaged version table: `stamp` with the likely truth (`targets`, from
/// [`migraph::status::repair_targets`]).
pub fn repair(targets: &[String]) -> String {
    format!(
        "inspect the schema, then record the revisions it really has with `migraph stamp <revisions>`; \
         if it has every revision with a row here and their ancestors, that is `migraph stamp {}`; \
         `migraph stamp base` records none (stamp runs no SQL and repairs the table)",
        targets.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use migraph::backend::PendingRow;
    use migraph::runner::{Interruption, NotNestable};
    use migraph::status::STORED_PATH;

    use super::*;

    fn marker() -> PendingRow {
        PendingRow { id: "c5".into(), direction: Direction::Up, started_at: "T".into(), error: None }
    }

    /// Errors as the library makes them, with the data the hints need.
    fn errors() -> Vec<Error> {
        let interrupted =
            |recovery| RunError::Interrupted(Box::new(Interruption { pending: marker(), recovery })).into();
        vec![
            interrupted(Some(Recovery { if_done: vec!["c5".into(), "x1".into()], if_not_done: vec!["base".into()] })),
            interrupted(None),
            RunError::LockTimeout(60).into(),
            RunError::Running(Box::new(marker())).into(),
            RunError::SingleTransaction("MySQL commits DDL implicitly".into()).into(),
            RunError::InTransaction(NotNestable::Mysql).into(),
            RunError::Ahead(vec!["zz".into()]).into(),
            PlanError::WrongDirection { verb: Verb::Downgrade, target: "+1".into() }.into(),
            PlanError::NotForDialect {
                direction: Direction::Up,
                dialect: Dialect::Sqlite,
                revisions: vec![("b".into(), PathBuf::from("b.sql"))],
            }
            .into(),
            TargetError::SeveralHeads { target: "head".into(), heads: vec!["a".into(), "b".into()] }.into(),
            DbError::TableInOtherSchema { table: "migraph_revisions".into(), schema: "app".into() }.into(),
            SourceError::Missing(PathBuf::from("revisions")).into(),
        ]
    }

    #[test]
    fn the_wording_with_commands_and_flags_is_made_here() {
        let hints: Vec<Vec<String>> = errors().iter().map(error).collect();
        let first = |i: usize| hints[i].first().cloned().unwrap_or_default();
        assert_eq!(
            first(0),
            "inspect the schema; if all of revision c5's statements took effect, run `migraph stamp c5 x1`; \
             if none did, run `migraph stamp base`; if only some did, finish or undo them by hand first \
             (stamp records the state without running SQL and clears the failure)"
        );
        assert!(first(1).ends_with("then record the true state with `migraph stamp <the applied heads>`"));
        assert_eq!(first(2), "wait for the other run to finish, or raise --lock-timeout");
        assert!(first(3).contains("do not `stamp` a revision that is still running"));
        assert!(hints[4].is_empty());
        assert!(first(5).ends_with("nothing was changed"));
        assert!(first(6).contains("(--table)"));
        assert_eq!(first(7), "use `migraph upgrade +1`");
        assert!(first(8).starts_with("add a `-- migrate:up sqlite` section"));
        assert!(first(9).ends_with("or join them with `migraph merge`"));
        assert!(first(10).starts_with("to use it, pass --schema app (or set schema = \"app\" in migraph.toml)"));
        assert_eq!(first(11), "run `migraph init` to create one, or pass --revisions DIR");
        // The same errors inside a run reach the same hints.
        let wrapped = RunError::Plan(PlanError::WrongDirection { verb: Verb::Upgrade, target: "-1".into() });
        assert_eq!(run(&wrapped).as_deref(), Some("use `migraph downgrade -1`"));
        let db = DbError::TableInOtherSchema { table: "t".into(), schema: "s".into() };
        assert_eq!(run(&RunError::Db { context: "cannot read".into(), source: db.clone() }), super::db(&db));
    }

    #[test]
    fn library_messages_name_no_command_or_flag() {
        for e in errors() {
            let message = e.to_string();
            // A flag is `--` and a letter (`-- migrate:up` is the file format).
            let flag = message.match_indices("--").any(|(i, _)| message[i + 2..].starts_with(char::is_alphabetic));
            assert!(!message.contains("`migraph ") && !flag, "{message}");
        }
        let interrupted = errors().remove(0).to_string();
        assert_eq!(
            interrupted,
            "revision c5 failed or was interrupted going up (started T); the schema may be half changed"
        );
        assert_eq!(
            errors().remove(3).to_string(),
            "revision c5 is being applied by another migraph run (going up (started T); it holds the lock)"
        );
        assert!(!STORED_PATH.contains("migraph"));
    }

    #[test]
    fn repairs_spell_out_both_commands() {
        assert!(repair(&["a1".into(), "b2".into()]).contains("that is `migraph stamp a1 b2`;"));
        let partial = PartialSquash {
            squash: "sq".into(),
            path: PathBuf::from("sq.sql"),
            replaces: vec!["a".into(), "b".into()],
            applied: vec!["a".into()],
            missing: vec!["b".into()],
            without_files: vec!["b".into()],
        };
        assert!(squash(&partial).starts_with("restore the files of b (e.g. from version control)"));
        assert!(state(&StateError::Squash(Box::new(partial))).starts_with("restore the files of b"));
        assert!(not_for_dialect(Direction::Down, Dialect::Mysql).starts_with("add a `-- migrate:down mysql` section"));
    }
}
