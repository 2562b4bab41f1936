//! The library on a connection an application passes in, with the usual
//! Diesel patterns, on all three backends: migrating inside
//! `conn.transaction(..)` and after `begin_test_transaction()` (the caller's
//! rollback undoes the tables, the rows and the version table), refusals of
//! what cannot nest, `single_transaction` rollbacks, and a progress callback
//! that panics: the connection is left usable, outside any transaction,
//! without the run lock, and with its SQLite busy timeout as it was.
//!
//! PostgreSQL and MySQL scenarios run on fresh databases of the live servers
//! (`MIGRAPH_TEST_POSTGRES_URL`, `MIGRAPH_TEST_MYSQL_URL`) and are ignored
//! without them.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use diesel::result::Error as DieselError;
use diesel::Connection;
use migraph::backend::{Backend, Dialect};
use migraph::runner::{Event, NotNestable, RunError};
use migraph::{Embedded, Migrator, Verb};

/// a ─ b, each creating a table.
static TWO: &[Embedded] = &[
    Embedded {
        path: "revisions/a.sql",
        text: "-- id: a\n-- parents:\n-- migrate:up\nCREATE TABLE t_a (x INT);\n-- migrate:down\nDROP TABLE t_a;\n",
    },
    Embedded {
        path: "revisions/b.sql",
        text: "-- id: b\n-- parents: a\n-- migrate:up\nCREATE TABLE t_b (x INT);\n-- migrate:down\nDROP TABLE t_b;\n",
    },
];

/// a ─ c, where c fails after creating its table.
static FAILING: &[Embedded] = &[
    TWO[0],
    Embedded {
        path: "revisions/c.sql",
        text:
            "-- id: c\n-- parents: a\n-- migrate:up\nCREATE TABLE t_c (x INT);\nINSERT INTO no_such_table VALUES (1);\n",
    },
];

/// a ─ n, where n runs outside a transaction.
static NOT_TRANSACTIONAL: &[Embedded] = &[
    TWO[0],
    Embedded {
        path: "revisions/n.sql",
        text: "-- id: n\n-- parents: a\n-- transaction: false\n-- migrate:up\nCREATE TABLE t_n (x INT);\n",
    },
];

fn migrator(files: &[Embedded]) -> Migrator {
    Migrator::from_embedded(files).expect("valid revisions").lock_timeout(Duration::from_secs(5))
}

/// A database for one test (a SQLite file or a fresh server database),
/// connected to through Diesel.
struct Db(common::AnyDb);

impl Db {
    fn sqlite() -> Db {
        Db(common::AnyDb::new(None))
    }

    #[cfg_attr(not(any(feature = "postgres", feature = "mysql")), allow(dead_code))]
    fn server(server: common::Server) -> Db {
        Db(common::AnyDb::new(Some(server)))
    }

    fn connect<C: Connection>(&self) -> C {
        C::establish(&self.0.diesel_url()).unwrap_or_else(|e| panic!("connect: {e}"))
    }
}

/// The tables of the database, sorted, space-separated.
fn tables(conn: &mut dyn Backend) -> String {
    common::table_names(conn).join(" ")
}

/// Rows of the application's own table `keep`.
fn kept(conn: &mut dyn Backend) -> i64 {
    conn.int("SELECT COUNT(*) AS v FROM keep", &[]).expect("count").unwrap_or(-1)
}

/// A database with the application's table `keep`, and a connection to it.
fn setup<C: Connection + Backend>(db: &Db) -> C {
    let mut conn: C = db.connect();
    conn.batch("CREATE TABLE keep (x INT)").expect("create keep");
    conn
}

/// One test per backend for `$scenario` (a generic function over the
/// connection type), in a module named after it.
macro_rules! on_all_backends {
    ($scenario:ident) => {
        mod $scenario {
            #[cfg(feature = "sqlite")]
            #[test]
            fn sqlite() {
                super::$scenario::<diesel::SqliteConnection>(&super::Db::sqlite());
            }

            #[cfg(feature = "postgres")]
            #[test]
            #[cfg_attr(not(migraph_postgres_server), ignore = "needs MIGRAPH_TEST_POSTGRES_URL")]
            fn postgres() {
                super::$scenario::<diesel::PgConnection>(&super::Db::server(crate::common::Server::Postgres));
            }

            #[cfg(feature = "mysql")]
            #[test]
            #[cfg_attr(not(migraph_mysql_server), ignore = "needs MIGRAPH_TEST_MYSQL_URL")]
            fn mysql() {
                super::$scenario::<diesel::MysqlConnection>(&super::Db::server(crate::common::Server::Mysql));
            }
        }
    };
}

/// `conn.transaction(|c| { migrate; Err(Rollback) })`: SQLite and
/// PostgreSQL nest, and the rollback undoes everything; MySQL refuses
/// without committing the caller's transaction.
fn inside_a_rolled_back_transaction<C: Connection + Backend>(db: &Db) {
    let mut conn: C = setup(db);
    let mysql = conn.dialect() == Dialect::Mysql;
    let outcome = conn.transaction::<(), DieselError, _>(|c| {
        c.batch("INSERT INTO keep VALUES (1)").expect("insert");
        let result = migrator(TWO).upgrade_heads(c);
        if mysql {
            let error = result.expect_err("MySQL refuses inside a transaction");
            assert!(matches!(error, RunError::InTransaction(NotNestable::Mysql)), "{error}");
            assert!(error.to_string().contains("commits DDL implicitly"), "{error}");
            assert!(matches!(migraph::Error::from(error), migraph::Error::Run(RunError::InTransaction(_))));
            assert_eq!(tables(c), "keep");
        } else {
            assert_eq!(result.expect("nested run").done.len(), 2);
            assert_eq!(tables(c), "keep migraph_revisions migraph_revisions_pending t_a t_b");
            assert!(migrator(TWO).status(c).expect("status").is_up_to_date());
        }
        assert_eq!(kept(c), 1, "the caller's transaction is still open and usable");
        Err(DieselError::RollbackTransaction)
    });
    assert_eq!(outcome, Err(DieselError::RollbackTransaction));
    assert!(!conn.in_transaction().expect("state"), "the caller's rollback ended the transaction");
    assert_eq!(tables(&mut conn), "keep", "the rollback undid the tables and the version table");
    assert_eq!(kept(&mut conn), 0, "the caller's row was never committed");
    assert_eq!(migrator(TWO).status(&mut conn).expect("status").pending.len(), 2);
    // Outside a transaction, the same call applies for good.
    assert_eq!(migrator(TWO).upgrade_heads(&mut conn).expect("run").done.len(), 2);
    assert_eq!(tables(&mut db.connect::<C>()), "keep migraph_revisions migraph_revisions_pending t_a t_b");
}
on_all_backends!(inside_a_rolled_back_transaction);

/// `begin_test_transaction()`, then migrate: visible on the connection,
/// gone once the connection is dropped.
fn after_begin_test_transaction<C: Connection + Backend>(db: &Db) {
    let mut conn: C = setup(db);
    conn.begin_test_transaction().expect("test transaction");
    let result = migrator(TWO).upgrade_heads(&mut conn);
    if conn.dialect() == Dialect::Mysql {
        assert!(matches!(result, Err(RunError::InTransaction(NotNestable::Mysql))), "{result:?}");
    } else {
        assert_eq!(result.expect("nested run").done.len(), 2);
        assert!(migrator(TWO).status(&mut conn).expect("status").is_up_to_date());
        assert!(conn.in_transaction().expect("state"), "still in the test transaction");
    }
    drop(conn);
    assert_eq!(tables(&mut db.connect::<C>()), "keep", "nothing was committed");
}
on_all_backends!(after_begin_test_transaction);

/// What cannot nest is refused before any change, and the caller's
/// transaction stays usable.
fn refusals_inside_a_transaction<C: Connection + Backend>(db: &Db) {
    let mut conn: C = setup(db);
    conn.transaction::<(), DieselError, _>(|c| {
        let single = migrator(TWO).single_transaction(true).upgrade_heads(c).expect_err("refused");
        let expected = if c.dialect() == Dialect::Mysql { NotNestable::Mysql } else { NotNestable::SingleTransaction };
        assert!(matches!(&single, RunError::InTransaction(n) if *n == expected), "{single}");
        let not_transactional = migrator(NOT_TRANSACTIONAL).upgrade_heads(c).expect_err("refused");
        if c.dialect() != Dialect::Mysql {
            assert!(
                matches!(&not_transactional, RunError::InTransaction(NotNestable::NotTransactional(id)) if id == "n"),
                "{not_transactional}"
            );
            assert!(not_transactional.to_string().contains("revision n has `transaction: false`"));
        }
        assert_eq!(tables(c), "keep", "nothing was created, not even the version table");
        c.batch("INSERT INTO keep VALUES (1)").expect("the transaction is usable");
        Ok(())
    })
    .expect("the caller commits");
    assert_eq!(kept(&mut conn), 1);
    assert_eq!(tables(&mut conn), "keep");
}
on_all_backends!(refusals_inside_a_transaction);

/// A revision that fails inside the caller's transaction is rolled back to
/// its savepoint: the revisions before it stay (in the caller's
/// transaction), and the caller can go on and commit.
fn a_failure_inside_a_transaction<C: Connection + Backend>(db: &Db) {
    let mut conn: C = setup(db);
    if conn.dialect() == Dialect::Mysql {
        return; // refused, see inside_a_rolled_back_transaction
    }
    conn.transaction::<(), DieselError, _>(|c| {
        let error = migrator(FAILING).upgrade_heads(c).expect_err("c fails");
        assert!(matches!(&error, RunError::Revision { id, done: 1, marked: false, .. } if id == "c"), "{error}");
        c.batch("INSERT INTO keep VALUES (1)").expect("the transaction is usable");
        Ok(())
    })
    .expect("the caller commits");
    let mut other: C = db.connect();
    assert_eq!(tables(&mut other), "keep migraph_revisions migraph_revisions_pending t_a");
    assert_eq!(migrator(FAILING).status(&mut other).expect("status").applied, ["a"]);
    assert_eq!(kept(&mut other), 1);
}
on_all_backends!(a_failure_inside_a_transaction);

/// Whether another connection can take the run lock at once.
fn lock_is_free<C: Connection + Backend>(db: &Db) -> bool {
    let mut other: C = db.connect();
    let quick = migrator(TWO).lock_timeout(Duration::from_millis(300));
    let result = quick.run(&mut other, Verb::Upgrade, &["a"], |_| {});
    assert!(matches!(result, Ok(_) | Err(RunError::LockTimeout(_))), "{result:?}");
    result.is_ok()
}

/// A progress callback that panics: the panic reaches the caller, and the
/// connection is outside any transaction, without the lock, and usable.
fn a_panicking_callback<C: Connection + Backend>(db: &Db) {
    let mut conn: C = setup(db);
    let sqlite = conn.dialect() == Dialect::Sqlite;
    if sqlite {
        conn.batch("PRAGMA busy_timeout = 1234").expect("busy timeout");
    }
    let panic_at_first_finish = |event: Event<'_>| {
        if let Event::Finished { .. } = event {
            panic!("callback panics");
        }
    };
    let single = migrator(TWO).single_transaction(true);
    if conn.dialect() != Dialect::Mysql {
        let caught =
            catch_unwind(AssertUnwindSafe(|| single.run(&mut conn, Verb::Upgrade, &["heads"], panic_at_first_finish)));
        assert!(caught.is_err(), "the panic reaches the caller");
        assert!(!conn.in_transaction().expect("state"), "not left in the plan's transaction");
        assert_eq!(tables(&mut conn), "keep", "the plan's transaction was rolled back");
    }
    let caught = catch_unwind(AssertUnwindSafe(|| {
        migrator(TWO).run(&mut conn, Verb::Upgrade, &["heads"], panic_at_first_finish)
    }));
    assert!(caught.is_err(), "the panic reaches the caller");
    assert!(!conn.in_transaction().expect("state"));
    assert_eq!(migrator(TWO).status(&mut conn).expect("status").applied, ["a"], "a committed before its event");
    if sqlite {
        assert_eq!(conn.int("SELECT timeout AS v FROM pragma_busy_timeout", &[]).expect("read"), Some(1234));
    }
    assert!(lock_is_free::<C>(db), "the run lock was released");
    conn.batch("INSERT INTO keep VALUES (1)").expect("usable");
    assert_eq!(migrator(TWO).upgrade_heads(&mut conn).expect("run again").done.len(), 1);
}
on_all_backends!(a_panicking_callback);

/// `single_transaction`: a failure rolls the whole plan back.
fn single_transaction_rolls_back<C: Connection + Backend>(db: &Db) {
    let mut conn: C = setup(db);
    let result = migrator(FAILING).single_transaction(true).upgrade_heads(&mut conn);
    let error = result.expect_err("refused or rolled back");
    if conn.dialect() == Dialect::Mysql {
        assert!(matches!(error, RunError::SingleTransaction(_)), "{error}");
    } else {
        assert!(matches!(&error, RunError::Revision { id, rolled_back: true, .. } if id == "c"), "{error}");
        assert!(matches!(migraph::Error::from(error), migraph::Error::Run(RunError::Revision { .. })));
    }
    assert!(!conn.in_transaction().expect("state"));
    assert_eq!(tables(&mut conn), "keep", "nothing stayed, not even the version table");
    assert!(lock_is_free::<C>(db));
}
on_all_backends!(single_transaction_rolls_back);

/// The SQLite busy timeout the runner sets is the caller's again afterwards,
/// whether the run succeeded, failed or found nothing to do.
#[cfg(feature = "sqlite")]
#[test]
fn the_sqlite_busy_timeout_is_restored() {
    let db = Db::sqlite();
    let mut conn: diesel::SqliteConnection = db.connect();
    let timeout =
        |c: &mut diesel::SqliteConnection| c.int("SELECT timeout AS v FROM pragma_busy_timeout", &[]).unwrap();
    conn.batch("PRAGMA busy_timeout = 4321").unwrap();
    migrator(TWO).upgrade_heads(&mut conn).unwrap();
    assert_eq!(timeout(&mut conn), Some(4321));
    migrator(TWO).upgrade_heads(&mut conn).unwrap();
    assert_eq!(timeout(&mut conn), Some(4321), "nothing to do");
    conn.batch("PRAGMA busy_timeout = 0").unwrap();
    migrator(FAILING).run(&mut conn, Verb::Upgrade, &["heads"], |_| {}).unwrap_err();
    assert_eq!(timeout(&mut conn), Some(0), "after a failure");
    migrator(TWO).run(&mut conn, Verb::Upgrade, &["nope"], |_| {}).unwrap_err();
    assert_eq!(timeout(&mut conn), Some(0), "after a failed plan");
}

// ---------------------------------------------------------------------------
// Transaction control inside a transactional revision (end to end)

/// r0 creates `t_r0`; `bad` (line 6 on) creates `t_bad`, then `$control`.
fn project_with_control(control: &str) -> tempfile::TempDir {
    let dir = common::project();
    common::table_revision(dir.path(), "r0", "");
    let up = format!("CREATE TABLE t_bad (x INT);\n{control}\nCREATE TABLE t_after (x INT);");
    common::write_revision(dir.path(), "bad", "r0", &up, Some("DROP TABLE t_bad;"), "");
    dir
}

/// The refusal: exit 1, first line `revisions/bad.sql:7: ...` naming the statement.
fn assert_refused(output: &std::process::Output, statement: &str) {
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.contains("revisions/bad.sql:7: the up SQL of revision bad ends or rolls back"), "{stderr}");
    assert!(first.contains(statement), "{stderr}");
    assert!(stderr.contains("transaction: false") && stderr.contains("nothing was changed"), "{stderr}");
}

#[cfg(feature = "sqlite")]
#[test]
fn a_sqlite_revision_with_commit_is_refused_before_any_change() {
    let dir = project_with_control("COMMIT;");
    let d = dir.path();
    let db = d.join("app.db");
    let url = format!("sqlite://{}", db.display());
    // On a new database: refused before the file is even created.
    let output = common::migraph(d, &url).args(["upgrade", "heads"]).output().unwrap();
    assert_refused(&output, "COMMIT");
    assert!(!db.exists(), "no database file was created");
    let dry = common::migraph(d, &url).args(["upgrade", "heads", "--dry-run"]).output().unwrap();
    assert_refused(&dry, "COMMIT");

    common::migraph(d, &url).args(["upgrade", "r0"]).assert().success();
    let output = common::migraph(d, &url).args(["upgrade", "heads"]).output().unwrap();
    assert_refused(&output, "COMMIT");
    let mut conn: diesel::SqliteConnection = Connection::establish(&db.display().to_string()).unwrap();
    assert_eq!(tables(&mut conn), "migraph_revisions migraph_revisions_pending t_r0");
    assert_eq!(conn.int("SELECT COUNT(*) AS v FROM migraph_revisions", &[]).unwrap(), Some(1));
    // The library refuses the same way, in plan and run.
    let migrator = Migrator::from_dir(d.join("revisions")).unwrap();
    assert!(matches!(migrator.plan(&mut conn, Verb::Upgrade, &["heads"]), Err(RunError::TransactionControl(_))));
    let error = migrator.upgrade_heads(&mut conn).unwrap_err();
    match &error {
        RunError::TransactionControl(found) => assert_eq!((found.id.as_str(), found.line), ("bad", 7)),
        other => panic!("{other}"),
    }
    // Run outside a transaction, the same SQL is the author's choice.
    let file = d.join("revisions/bad.sql");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen("-- migrate:up", "-- transaction: false\n-- migrate:up", 1)).unwrap();
    let plan = Migrator::from_dir(d.join("revisions")).unwrap().plan(&mut conn, Verb::Upgrade, &["heads"]).unwrap();
    assert_eq!(plan.steps.len(), 1);
}

#[cfg(feature = "postgres")]
#[test]
#[cfg_attr(not(migraph_postgres_server), ignore = "needs MIGRAPH_TEST_POSTGRES_URL")]
fn a_postgres_revision_ending_in_rollback_is_refused_before_any_change() {
    let server = common::TestDb::new(common::Server::Postgres);
    let dir = project_with_control("ROLLBACK;");
    let d = dir.path();
    common::migraph(d, &server.url).args(["upgrade", "r0"]).assert().success();
    let output = common::migraph(d, &server.url).args(["upgrade", "heads"]).output().unwrap();
    assert_refused(&output, "ROLLBACK");
    assert_eq!(server.applied(), ["r0"], "never recorded as applied");
    assert_eq!(server.tables(), ["migraph_revisions", "migraph_revisions_pending", "t_r0"]);
}
