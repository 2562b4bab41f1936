//! migraph as a library, through its public API only: `Migrator` loading
//! the sample history from disk and from files embedded at compile time,
//! then planning and running on in-memory SQLite connections.
#![cfg(feature = "sqlite")]

use diesel::{Connection, SqliteConnection};
use migraph::migrator::{InvalidTableName, Status};
use migraph::runner::{Event, RunError};
use migraph::target::TargetError;
use migraph::{Direction, Embedded, Error, Migrator, PlanError, Verb};

static REVISIONS: &[Embedded] = migraph::embed_revisions!("revisions");

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/revisions");

fn memory() -> SqliteConnection {
    SqliteConnection::establish(":memory:").expect("in-memory SQLite")
}

fn ids(steps: impl IntoIterator<Item = migraph::Step>) -> Vec<String> {
    steps.into_iter().map(|s| s.id).collect()
}

#[test]
fn embedded_and_on_disk_give_the_same_graph() {
    let on_disk = Migrator::from_dir(SAMPLE).unwrap();
    let embedded = Migrator::from_embedded(REVISIONS).unwrap();
    assert_eq!(REVISIONS.len(), 11);
    assert_eq!(on_disk.graph().len(), 11);
    assert!(REVISIONS.iter().all(|f| f.path.starts_with("revisions/") && f.path.ends_with(".sql")));
    let mut paths: Vec<&str> = REVISIONS.iter().map(|f| f.path).collect();
    paths.sort();
    assert_eq!(paths, REVISIONS.iter().map(|f| f.path).collect::<Vec<_>>(), "embedded in sorted path order");

    let summary = |m: &Migrator| {
        m.graph()
            .topological()
            .into_iter()
            .map(|r| {
                (r.id.clone(), r.parents.clone(), r.labels.clone(), r.checksum.clone(), r.up.clone(), r.down.clone())
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&on_disk), summary(&embedded));
    for revision in embedded.graph().revisions() {
        let file = on_disk.graph().get(&revision.id).unwrap();
        assert!(file.path.ends_with(&revision.path), "{} vs {}", file.path.display(), revision.path.display());
    }
}

#[test]
fn the_embedded_text_is_the_file() {
    for file in REVISIONS {
        let on_disk =
            std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file.path)).unwrap();
        assert_eq!(file.text, on_disk, "{}", file.path);
    }
}

#[test]
fn plan_then_run_then_nothing_to_do() {
    let migrator = Migrator::from_embedded(REVISIONS).unwrap();
    let mut conn = memory();
    let plan = migrator.plan(&mut conn, Verb::Upgrade, &["heads"]).unwrap();
    assert_eq!(plan.steps.len(), 11);
    assert!(plan.steps.iter().all(|s| s.direction == Direction::Up));
    assert_eq!(plan.steps[0].id, "39d3b87c81ca", "the root first");

    let report = migrator.upgrade_heads(&mut conn).unwrap();
    assert_eq!(report.plan, plan, "the run does what the plan said");
    assert_eq!(ids(report.done.iter().map(|(s, _)| s.clone())), ids(plan.steps.clone()));
    assert!(report.skipped.is_empty());

    let again = migrator.upgrade_heads(&mut conn).unwrap();
    assert!(again.done.is_empty() && again.plan.is_empty(), "{again:?}");
    assert!(migrator.plan(&mut conn, Verb::Upgrade, &["heads"]).unwrap().is_empty());

    let status = migrator.status(&mut conn).unwrap();
    assert_eq!(status.applied.len(), 11);
    assert_eq!(status.heads, ["29bb7cfae2a9", "d7a3688903c3"]);
    assert!(status.is_up_to_date());
}

#[test]
fn progress_arrives_in_order() {
    let migrator = Migrator::from_dir(SAMPLE).unwrap();
    let mut conn = memory();
    let mut events: Vec<String> = Vec::new();
    let report = migrator
        .run(&mut conn, Verb::Upgrade, &["billing"], |event| {
            events.push(match event {
                Event::Planned(plan) => format!("planned {}", ids(plan.steps.clone()).join(",")),
                Event::Starting(step) => format!("starting {}", step.id),
                Event::Finished { step, .. } => format!("finished {}", step.id),
                other => format!("unexpected {other:?}"),
            })
        })
        .unwrap();
    let order = ["39d3b87c81ca", "c5b223edf0bd", "70934d49a34c", "d795e90cb440"];
    let mut expected = vec![format!("planned {}", order.join(","))];
    for id in order {
        expected.push(format!("starting {id}"));
        expected.push(format!("finished {id}"));
    }
    assert_eq!(events, expected);
    assert_eq!(report.done.len(), 4);

    // Downgrading reports the same way, in reverse.
    let mut finished = Vec::new();
    migrator
        .run(&mut conn, Verb::Downgrade, &["base"], |event| {
            if let Event::Finished { step, .. } = event {
                finished.push((step.id.clone(), step.direction));
            }
        })
        .unwrap();
    let reversed: Vec<_> = order.iter().rev().map(|id| (id.to_string(), Direction::Down)).collect();
    assert_eq!(finished, reversed);
}

#[test]
fn status_before_and_after() {
    let migrator = Migrator::from_embedded(REVISIONS).unwrap();
    let mut conn = memory();
    assert_eq!(
        migrator.status(&mut conn).unwrap(),
        Status {
            pending: ids(migrator.plan(&mut conn, Verb::Upgrade, &["heads"]).unwrap().steps),
            ..Status::default()
        }
    );
    migrator.run(&mut conn, Verb::Upgrade, &["search"], |_| {}).unwrap();
    let status = migrator.status(&mut conn).unwrap();
    assert_eq!(status.heads, ["b276e67b9c34"]);
    assert_eq!((status.applied.len(), status.pending.len()), (4, 7));
}

#[test]
fn a_custom_table_and_lock_timeout() {
    let migrator = Migrator::from_dir(SAMPLE)
        .unwrap()
        .table("app_schema_history")
        .unwrap()
        .lock_timeout(std::time::Duration::from_secs(5));
    let mut conn = memory();
    assert_eq!(migrator.upgrade_heads(&mut conn).unwrap().done.len(), 11);
    assert!(migrator.status(&mut conn).unwrap().is_up_to_date());
    // Another table is another history.
    let default = Migrator::from_dir(SAMPLE).unwrap();
    assert_eq!(default.status(&mut conn).unwrap().pending.len(), 11);
}

#[test]
fn errors_are_values() {
    let missing = Migrator::from_dir("/no/such/revisions").unwrap_err();
    assert!(matches!(missing, Error::Source(migraph::SourceError::Missing(_))), "{missing}");
    assert!(missing.hint().is_some());

    let bad_table = Migrator::from_dir(SAMPLE).unwrap().table("no spaces allowed").unwrap_err();
    assert_eq!(bad_table, InvalidTableName("no spaces allowed".into()));

    let migrator = Migrator::from_dir(SAMPLE).unwrap();
    let mut conn = memory();
    let several = migrator.plan(&mut conn, Verb::Upgrade, &["head"]).unwrap_err();
    match &several {
        RunError::Plan(PlanError::Target(TargetError::SeveralHeads { heads, .. })) => assert_eq!(heads.len(), 2),
        other => panic!("expected SeveralHeads, got {other:?}"),
    }
    assert!(several.hint().is_some());
    let run = migrator.run(&mut conn, Verb::Upgrade, &["head"], |_| panic!("no event before the plan")).unwrap_err();
    assert_eq!(run.to_string(), several.to_string());
    assert!(migrator.status(&mut conn).unwrap().applied.is_empty(), "nothing ran");

    let broken: &[Embedded] = &[
        Embedded { path: "revisions/a.sql", text: "-- id: a\n-- parents: nobody\n-- migrate:up\n" },
        Embedded { path: "revisions/b.sql", text: "-- id: b-1\n-- parents:\n-- migrate:up\n" },
    ];
    let error = Migrator::from_embedded(broken).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("revisions/b.sql:1: invalid revision ID `b-1`"), "{message}");
    assert!(message.contains("revisions/a.sql:2: revision `a` names parent `nobody`"), "{message}");
    assert!(matches!(error, Error::Graph(_)));
}
