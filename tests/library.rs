//! migraph as a library, through its public API only: `Migrator` loading
//! the sample history from disk and from files embedded at compile time,
//! then planning and running on in-memory SQLite connections.
#![cfg(feature = "sqlite")]

#[cfg(feature = "postgres")]
mod common;
#[path = "../examples/support/mod.rs"]
mod support;

use diesel::{Connection, SqliteConnection};
use migraph::migrator::{InvalidTableName, Status};
use migraph::runner::{Event, RunError};
use migraph::target::TargetError;
use migraph::{Direction, Embedded, Error, Migrator, PlanError, Verb};

use support::{AppConnection, REVISIONS};

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
    assert_eq!(REVISIONS.len(), 12);
    assert_eq!(on_disk.graph().len(), 12);
    assert!(REVISIONS.iter().all(|f| f.path.starts_with("revisions/") && f.path.ends_with(".sql")));
    let mut paths: Vec<&str> = REVISIONS.iter().map(|f| f.path).collect();
    paths.sort();
    assert_eq!(paths, REVISIONS.iter().map(|f| f.path).collect::<Vec<_>>(), "embedded in sorted path order");

    let summary = |m: &Migrator| {
        m.graph()
            .topological()
            .into_iter()
            .map(|r| {
                (r.id.clone(), r.parents.clone(), r.labels().to_vec(), r.checksum.clone(), r.up.clone(), r.down.clone())
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
    assert_eq!(plan.steps.len(), 12);
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
    assert_eq!(status.applied.len(), 12);
    assert_eq!(status.heads, ["29bb7cfae2a9", "9c2e4b7a1f30"]);
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
                Event::Read { heads } => format!("read {}", heads.join(",")),
                Event::Planned(plan) => format!("planned {}", ids(plan.steps.clone()).join(",")),
                Event::Starting(step) => format!("starting {}", step.id),
                Event::Finished { step, .. } => format!("finished {}", step.id),
                other => format!("unexpected {other:?}"),
            })
        })
        .unwrap();
    let order = ["39d3b87c81ca", "c5b223edf0bd", "70934d49a34c", "d795e90cb440"];
    let mut expected = vec!["read ".to_string(), format!("planned {}", order.join(","))];
    for id in order {
        expected.push(format!("starting {id}"));
        expected.push(format!("finished {id}"));
    }
    assert_eq!(events, expected);
    assert_eq!(report.done.len(), 4);
    assert_eq!(report.heads.as_deref(), Some(&["d795e90cb440".to_string()][..]), "the heads after the run");

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
    let mut fresh = Status::default();
    fresh.pending = ids(migrator.plan(&mut conn, Verb::Upgrade, &["heads"]).unwrap().steps);
    assert_eq!(migrator.status(&mut conn).unwrap(), fresh);
    migrator.run(&mut conn, Verb::Upgrade, &["search"], |_| {}).unwrap();
    let status = migrator.status(&mut conn).unwrap();
    assert_eq!(status.heads, ["b276e67b9c34"]);
    assert_eq!((status.applied.len(), status.pending.len()), (4, 8));
}

#[test]
fn a_custom_table_and_lock_timeout() {
    let migrator = Migrator::from_dir(SAMPLE)
        .unwrap()
        .table("app_schema_history")
        .unwrap()
        .lock_timeout(std::time::Duration::from_secs(5));
    let mut conn = memory();
    assert_eq!(migrator.upgrade_heads(&mut conn).unwrap().done.len(), 12);
    assert!(migrator.status(&mut conn).unwrap().is_up_to_date());
    // Another table is another history.
    let default = Migrator::from_dir(SAMPLE).unwrap();
    assert_eq!(default.status(&mut conn).unwrap().pending.len(), 12);
}

#[test]
fn errors_are_values() {
    let missing = Migrator::from_dir("/no/such/revisions").unwrap_err();
    assert!(matches!(missing, Error::Source(migraph::SourceError::Missing(_))), "{missing}");

    let bad_table = Migrator::from_dir(SAMPLE).unwrap().table("no spaces allowed").unwrap_err();
    assert_eq!(bad_table, InvalidTableName("no spaces allowed".into()));

    let migrator = Migrator::from_dir(SAMPLE).unwrap();
    let mut conn = memory();
    let several = migrator.plan(&mut conn, Verb::Upgrade, &["head"]).unwrap_err();
    match &several {
        RunError::Plan(PlanError::Target(TargetError::SeveralHeads { heads, .. })) => assert_eq!(heads.len(), 2),
        other => panic!("expected SeveralHeads, got {other:?}"),
    }
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

// Connections an application holds in other forms: checked out of an r2d2
// pool, or a `#[derive(diesel::MultiConnection)]` enum. Both are passed as
// `&mut conn`, with no `&mut *pooled` or match at the call site.

/// Runs the sample to every head on `conn`, then checks the result through
/// a second connection from `again`; returns how many revisions ran.
fn upgrade_then_status(conn: &mut dyn migraph::backend::Backend, again: &mut dyn migraph::backend::Backend) -> usize {
    let migrator = Migrator::from_embedded(REVISIONS).unwrap();
    let report = migrator.upgrade_heads(conn).unwrap();
    let status = migrator.status(again).unwrap();
    assert!(status.is_up_to_date(), "{status:?}");
    assert_eq!(status.applied.len(), 12);
    report.done.len()
}

#[cfg(feature = "r2d2")]
#[test]
fn an_r2d2_pooled_connection_is_a_backend() {
    let (_dir, file) = support::sqlite_file();
    let pool = diesel::r2d2::Pool::builder()
        .max_size(2)
        .build(diesel::r2d2::ConnectionManager::<SqliteConnection>::new(file))
        .expect("pool");
    let mut pooled = pool.get().unwrap();
    let migrator = Migrator::from_embedded(REVISIONS).unwrap();
    let report = migrator.run(&mut pooled, Verb::Upgrade, &["billing"], |_| {}).unwrap();
    assert_eq!(report.done.len(), 4);
    let mut other = pool.get().unwrap();
    let status = migrator.status(&mut other).unwrap();
    assert_eq!(status.applied.len(), 4, "another pooled connection sees the rows");
    assert_eq!(status.pending.len(), 8);

    // Inside the application's own transaction on the pooled connection,
    // migraph nests (a savepoint): rolling the outer transaction back
    // undoes the revisions and their rows.
    drop(other);
    let rolled_back: Result<(), diesel::result::Error> = pooled.transaction(|conn| {
        let done = migrator.upgrade_heads(conn).unwrap();
        assert_eq!(done.done.len(), 8);
        assert!(migrator.status(conn).unwrap().is_up_to_date());
        Err(diesel::result::Error::RollbackTransaction)
    });
    assert!(rolled_back.is_err());
    let status = migrator.status(&mut pooled).unwrap();
    assert_eq!(status.applied.len(), 4, "the application's rollback undid the nested run: {status:?}");
    assert_eq!(upgrade_then_status(&mut pooled, &mut pool.get().unwrap()), 8);
}

#[cfg(all(feature = "r2d2", feature = "postgres"))]
#[cfg_attr(not(migraph_postgres_server), ignore = "set MIGRAPH_TEST_POSTGRES_URL to run")]
#[test]
fn an_r2d2_pooled_postgres_connection_is_a_backend() {
    use diesel::r2d2::{ConnectionManager, Pool};
    let db = common::TestDb::new(common::Server::Postgres);
    let pool = Pool::builder().max_size(2).build(ConnectionManager::<diesel::PgConnection>::new(&db.url)).unwrap();
    let mut pooled = pool.get().unwrap();
    assert_eq!(upgrade_then_status(&mut pooled, &mut pool.get().unwrap()), 12);
    assert_eq!(db.applied().len(), 12);
}

// A deadpool-diesel object hands its connection to a closure on a blocking
// thread, into which the migrator moves: the call the README shows.
#[test]
fn a_deadpool_object_runs_the_migrator_inside_interact() {
    use deadpool_diesel::sqlite::{Manager, Pool, Runtime};

    /// Migrates through one pooled object, then reads the version table through another. The
    /// pool lives inside the runtime: its objects close their connections on a blocking thread.
    async fn start_up(file: String, migrator: Migrator) -> Result<(usize, Vec<String>), Box<dyn std::error::Error>> {
        let pool = Pool::builder(Manager::new(file, Runtime::Tokio1)).max_size(2).build()?;
        let obj = pool.get().await?;
        let report = obj.interact(move |conn| migrator.upgrade_heads(conn)).await??;
        let other = pool.get().await?;
        let recorded = other.interact(|conn| support::recorded(conn, "migraph_revisions")).await??;
        Ok((report.done.len(), recorded))
    }

    let (_dir, file) = support::sqlite_file();
    let migrator = Migrator::from_embedded(REVISIONS).unwrap();
    let every_id: Vec<String> = migrator.graph().revisions().iter().map(|r| r.id.clone()).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a tokio runtime");
    let (done, recorded) = runtime.block_on(start_up(file, migrator)).unwrap();
    assert_eq!(done, 12);
    assert_eq!(recorded, every_id, "another pooled object finds every revision recorded");
}

#[test]
fn a_multi_connection_enum_is_a_backend() {
    let (_dir, file) = support::sqlite_file();
    let mut conn = AppConnection::establish(&file).unwrap();
    assert_eq!(migraph::backend::Backend::dialect(&conn), migraph::backend::Dialect::Sqlite);
    let mut again = AppConnection::establish(&file).unwrap();
    assert_eq!(upgrade_then_status(&mut conn, &mut again), 12);
    // The enum's own transaction and migraph's share one transaction manager.
    let migrator = Migrator::from_embedded(REVISIONS).unwrap();
    let inside = conn
        .transaction(|conn| Ok::<_, diesel::result::Error>(migraph::backend::Backend::in_transaction(conn).unwrap()));
    assert_eq!(inside, Ok(true));
    assert!(migrator.status(&mut conn).unwrap().is_up_to_date());
}

#[cfg(feature = "postgres")]
#[cfg_attr(not(migraph_postgres_server), ignore = "set MIGRAPH_TEST_POSTGRES_URL to run")]
#[test]
fn a_multi_connection_enum_on_postgres() {
    let db = common::TestDb::new(common::Server::Postgres);
    let mut conn = AppConnection::establish(&db.url).unwrap();
    assert_eq!(migraph::backend::Backend::dialect(&conn), migraph::backend::Dialect::Postgres);
    assert_eq!(upgrade_then_status(&mut conn, &mut AppConnection::establish(&db.url).unwrap()), 12);
    assert_eq!(db.applied().len(), 12);
}
