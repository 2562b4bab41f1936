//! Whether a plan can run on one dialect: every revision it applies has up
//! SQL there and every revision it unapplies has down SQL there. Checked
//! before the first statement, so a revision written only for PostgreSQL
//! never leaves a SQLite database half migrated.

use std::path::PathBuf;

use crate::backend::Dialect;
use crate::graph::RevisionGraph;
use crate::plan::{Direction, Plan, PlanError, Verb};

use super::{dialect_name, DOWN_MARKER, UP_MARKER};

/// Fails with [`PlanError::NotForDialect`] when a step of `plan` has no SQL
/// for `dialect` (unapplying first, as the plan runs). A `stamp` plan runs no
/// SQL and always passes.
pub fn check_dialect(graph: &RevisionGraph, plan: &Plan, dialect: Dialect) -> Result<(), PlanError> {
    if plan.verb == Verb::Stamp {
        return Ok(());
    }
    for direction in [Direction::Down, Direction::Up] {
        let revisions: Vec<(String, PathBuf)> = plan
            .steps
            .iter()
            .filter(|step| step.direction == direction)
            .map(|step| graph.rev_by_id(&step.id))
            .filter(|r| r.sql_for(direction, dialect).is_none())
            .map(|r| (r.id.clone(), r.path.clone()))
            .collect();
        if !revisions.is_empty() {
            return Err(PlanError::NotForDialect { direction, dialect, revisions });
        }
    }
    Ok(())
}

/// The message of [`PlanError::NotForDialect`].
pub fn not_for_dialect_message(direction: Direction, dialect: Dialect, revisions: &[(String, PathBuf)]) -> String {
    let name = dialect_name(dialect);
    let list = revisions.iter().map(|(id, path)| format!("{id} ({})", path.display())).collect::<Vec<_>>().join(", ");
    match direction {
        Direction::Up => format!(
            "cannot run on {name}: revision(s) without up SQL for {name} (no `{UP_MARKER}` or `{UP_MARKER} {name}` section): {list}"
        ),
        Direction::Down => format!(
            "the plan would unapply revision(s) that are irreversible on {name} (no `{DOWN_MARKER}` or `{DOWN_MARKER} {name}` section): {list}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::plan::{plan, State};
    use crate::revision::Revision;

    fn graph(files: &[&str]) -> RevisionGraph {
        let revisions: Vec<Revision> = files
            .iter()
            .enumerate()
            .map(|(i, text)| Revision::parse(Path::new(&format!("{i}.sql")), text).unwrap())
            .collect();
        RevisionGraph::new(revisions).unwrap()
    }

    const A: &str = "-- id: a\n-- parents:\n-- migrate:up\nSELECT 1;\n-- migrate:down\n";
    const B: &str = "-- id: b\n-- parents: a\n-- migrate:up postgres\nSELECT 2;\n-- migrate:down sqlite\n";

    #[test]
    fn plans_need_sql_for_the_dialect() {
        let g = graph(&[A, B]);
        let up = plan(&g, &State::new(&g, []).unwrap(), Verb::Upgrade, &["head"]).unwrap();
        assert_eq!(check_dialect(&g, &up, Dialect::Postgres), Ok(()));
        let e = check_dialect(&g, &up, Dialect::Sqlite).unwrap_err();
        assert_eq!(
            e,
            PlanError::NotForDialect {
                direction: Direction::Up,
                dialect: Dialect::Sqlite,
                revisions: vec![("b".into(), "1.sql".into())]
            }
        );
        assert!(e.to_string().starts_with("cannot run on sqlite: revision(s) without up SQL"), "{e}");
        assert!(e.to_string().ends_with("b (1.sql)"), "{e}");
        assert!(
            matches!(&e, PlanError::NotForDialect { direction: Direction::Up, dialect: Dialect::Sqlite, .. }),
            "{e:?}"
        );
        let applied = State::new(&g, ["a", "b"]).unwrap();
        let down = plan(&g, &applied, Verb::Downgrade, &["base"]).unwrap();
        assert_eq!(check_dialect(&g, &down, Dialect::Sqlite), Ok(()));
        let e = check_dialect(&g, &down, Dialect::Mysql).unwrap_err();
        assert!(matches!(&e, PlanError::NotForDialect { direction: Direction::Down, .. }), "{e:?}");
        assert!(e.to_string().contains("irreversible on mysql"), "{e}");
        // Stamping runs no SQL.
        let stamp = plan(&g, &State::new(&g, []).unwrap(), Verb::Stamp, &["head"]).unwrap();
        assert_eq!(check_dialect(&g, &stamp, Dialect::Mysql), Ok(()));
    }
}
