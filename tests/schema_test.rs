//! `migraph schema`, `migraph test` and `migraph verify` on every engine:
//! the sample history round-trips, a down section that forgets an index or
//! drops what its up did not create is reported by name, and changes made
//! by hand to a live database are found.

mod common;

use std::path::Path;

use common::{mg, project, sample_revisions, write_revision, AnyDb, Server};
use migraph::backend::Backend as _;

/// `migraph --revisions DIR ...` against the test database.
fn run(db: &AnyDb, revisions: &Path, args: &[&str]) -> common::Ran {
    let dir = project();
    let mut all = vec!["--revisions", revisions.to_str().expect("UTF-8 path")];
    all.extend_from_slice(args);
    mg(dir.path(), &db.url, &all)
}

/// The scratch database a run named on stderr (`<engine>: scratch database X`).
fn scratch_of(stderr: &str) -> String {
    let line = stderr.lines().find(|l| l.contains(": scratch database ")).unwrap_or_else(|| panic!("{stderr}"));
    let rest = line.split(": scratch database ").nth(1).unwrap_or_default();
    rest.split(" on ").next().unwrap_or_default().to_string()
}

/// Whether the scratch database `name` still exists (a file, or a database on the test database's server).
fn scratch_exists(db: &AnyDb, name: &str) -> bool {
    if let Some(path) = name.strip_prefix("sqlite://") {
        return Path::new(path).exists() || Path::new(path).parent().is_some_and(Path::exists);
    }
    let mut conn = db.connect();
    let sql = match conn.dialect() {
        migraph::backend::Dialect::Postgres => "SELECT COUNT(*) AS v FROM pg_database WHERE datname = $1",
        _ => "SELECT COUNT(*) AS v FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    };
    conn.int(sql, &[migraph::backend::Arg::Text(name.to_string())]).expect("list databases") != Some(0)
}

fn sample_round_trips(server: Option<Server>) {
    let db = AnyDb::new(server);
    let ran = run(&db, &sample_revisions(), &["test"]).ok();
    let ok_lines = ran.stdout.lines().filter(|l| l.starts_with("ok   ")).count();
    // check, every revision, base.
    let count = common::sample_count();
    assert_eq!(ok_lines, count + 2, "{ran}");
    assert!(ran.stdout.contains("ok   d7a3688903c3 create customer activity view\n"), "{ran}");
    assert!(ran.stdout.contains("ok   base downgrade base from all heads\n"), "{ran}");
    assert!(
        ran.stdout.contains(&format!(
            ": {count} revisions: {count} ok, 0 failed, 0 irreversible, 0 not tested; downgrade base: ok"
        )),
        "{ran}"
    );
    assert!(!ran.stdout.contains("FAIL"), "{ran}");
    let scratch = scratch_of(&ran.stderr);
    assert!(!scratch_exists(&db, &scratch), "scratch database {scratch} was not dropped");
    // The live database was not touched.
    assert!(common::table_names(&mut db.connect()).is_empty());

    let json = run(&db, &sample_revisions(), &["test", "--json"]).ok();
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(parsed["ok"], true);
    assert_eq!(parsed["dialects"][0]["revisions"].as_array().map(Vec::len), Some(count), "{json}");
    assert_eq!(parsed["dialects"][0]["base"]["outcome"], "ok");
}

/// r1 creates t; r2 indexes it and its down forgets the index; r3 comes after.
fn forgotten_index(dir: &Path) {
    write_revision(dir, "r1", "", "CREATE TABLE t (id INTEGER PRIMARY KEY, v VARCHAR(20));", Some("DROP TABLE t;"), "");
    write_revision(dir, "r2", "r1", "CREATE INDEX ix_t_v ON t (v);", Some(""), "");
    write_revision(dir, "r3", "r2", "CREATE TABLE u (id INTEGER PRIMARY KEY);", Some("DROP TABLE u;"), "");
}

fn forgotten_index_is_named(server: Option<Server>) {
    let db = AnyDb::new(server);
    let project = project();
    forgotten_index(project.path());
    let ran = run(&db, &project.path().join("revisions"), &["test"]).failed();
    assert!(ran.stdout.contains("ok   r1 rev r1\n"), "{ran}");
    assert!(
        ran.stdout.contains(
            "FAIL r2 rev r2: down does not restore the schema: index `ix_t_v` on table `t`: \
             left after down (it was not there before up); then up again failed, which stops the walk: "
        ),
        "{ran}"
    );
    assert!(!ran.stdout.contains("ok   r3"), "{ran}");
    assert!(
        ran.stdout.contains(": 3 revisions: 1 ok, 1 failed, 0 irreversible, 1 not tested; downgrade base: not tried"),
        "{ran}"
    );
    assert!(ran.stderr.contains("error: migraph test failed on"), "{ran}");
    let scratch = scratch_of(&ran.stderr);
    assert!(!scratch_exists(&db, &scratch), "scratch database {scratch} was not dropped after a failure");

    // The fixed down section passes.
    write_revision(project.path(), "r2", "r1", "CREATE INDEX ix_t_v ON t (v);", Some("DROP INDEX ix_t_v ON t;"), "");
    if server != Some(Server::Mysql) {
        write_revision(project.path(), "r2", "r1", "CREATE INDEX ix_t_v ON t (v);", Some("DROP INDEX ix_t_v;"), "");
    }
    run(&db, &project.path().join("revisions"), &["test"]).ok();
}

fn down_dropping_what_up_did_not_create_is_named(server: Option<Server>) {
    let db = AnyDb::new(server);
    let project = project();
    let dir = project.path();
    write_revision(
        dir,
        "r1",
        "",
        "CREATE TABLE t1 (id INTEGER PRIMARY KEY);\nCREATE TABLE t2 (id INTEGER PRIMARY KEY);",
        Some("DROP TABLE t2;\nDROP TABLE t1;"),
        "",
    );
    write_revision(
        dir,
        "r2",
        "r1",
        "CREATE TABLE t3 (id INTEGER PRIMARY KEY);",
        Some("DROP TABLE t3;\nDROP TABLE t2;"),
        "",
    );
    let ran = run(&db, &dir.join("revisions"), &["test", "--json"]).failed();
    let parsed: serde_json::Value = serde_json::from_str(&ran.stdout).expect("JSON");
    let r2 = &parsed["dialects"][0]["revisions"][1];
    assert_eq!(r2["id"], "r2");
    assert_eq!(r2["outcome"], "down_differs");
    assert_eq!(r2["differences"], serde_json::json!([{"object": "table `t2`", "change": "missing"}]), "{ran}");
    let text = run(&db, &dir.join("revisions"), &["test"]).failed();
    assert!(
        text.stdout.contains(
            "FAIL r2 rev r2: down does not restore the schema: table `t2`: gone after down (it was there before up)"
        ),
        "{text}"
    );
}

fn irreversible_revisions_are_reported(server: Option<Server>) {
    let db = AnyDb::new(server);
    let project = project();
    let dir = project.path();
    write_revision(dir, "r1", "", "CREATE TABLE t (id INTEGER PRIMARY KEY);", Some("DROP TABLE t;"), "");
    write_revision(dir, "r2", "r1", "CREATE TABLE big (id INTEGER PRIMARY KEY);", None, "");
    let ran = run(&db, &dir.join("revisions"), &["test"]).ok();
    assert!(ran.stdout.contains("skip r2 rev r2: irreversible (no down SQL for"), "{ran}");
    assert!(ran.stdout.contains("skip base downgrade base from all heads: not tried"), "{ran}");
    let strict = run(&db, &dir.join("revisions"), &["test", "--strict"]).failed();
    assert!(strict.stdout.contains("FAIL r2 rev r2: irreversible"), "{strict}");
}

fn verify_finds_changes_by_hand(server: Option<Server>) {
    let db = AnyDb::new(server);
    let sample = sample_revisions();
    run(&db, &sample, &["upgrade", "heads"]).ok();
    let ran = run(&db, &sample, &["verify"]).ok();
    let count = common::sample_count();
    assert!(ran.stdout.starts_with(&format!("ok: the schema is what its {count} applied revision(s) build")), "{ran}");

    let schema = run(&db, &sample, &["schema", "--json"]).ok();
    let parsed: serde_json::Value = serde_json::from_str(&schema.stdout).expect("JSON");
    let tables: Vec<&str> = parsed["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tables.len(), 9, "{tables:?}");
    assert!(!tables.iter().any(|t| t.starts_with("migraph_revisions")), "{tables:?}");
    let text = run(&db, &sample, &["schema"]).ok();
    assert!(text.stdout.contains("  index ix_orders_customer_id (customer_id)\n"), "{text}");

    let drop_index = match server {
        Some(Server::Mysql) => "DROP INDEX ix_orders_customer_id ON orders",
        _ => "DROP INDEX ix_orders_customer_id",
    };
    // MySQL needs the foreign key on orders.customer_id indexed: index it otherwise first.
    if server == Some(Server::Mysql) {
        db.connect().batch("CREATE INDEX by_hand ON orders (customer_id, id)").expect("index by hand");
    }
    db.connect().batch("ALTER TABLE customers ADD COLUMN nickname VARCHAR(40)").expect("add column");
    db.connect().batch(drop_index).expect("drop index");
    let ran = run(&db, &sample, &["verify"]).failed();
    assert!(
        ran.stdout.contains("column `nickname` of table `customers`: in the database, not made by the revisions\n"),
        "{ran}"
    );
    assert!(
        ran.stdout.contains(
            "index `ix_orders_customer_id` on table `orders`: missing in the database (the revisions create it)\n"
        ),
        "{ran}"
    );
    let expected = if server == Some(Server::Mysql) { 3 } else { 2 };
    assert_eq!(ran.stdout.lines().count(), expected, "{ran}");
    assert!(ran.first_line().starts_with("error: the schema of "), "{ran}");
    assert!(ran.first_line().ends_with(&format!("{expected} difference(s)")), "{ran}");
}

common::backend_tests! {
    sqlite sqlite_sample_round_trips => sample_round_trips(None),
    postgres postgres_sample_round_trips => sample_round_trips(Some(Server::Postgres)),
    mysql mysql_sample_round_trips => sample_round_trips(Some(Server::Mysql)),
    sqlite sqlite_forgotten_index_is_named => forgotten_index_is_named(None),
    postgres postgres_forgotten_index_is_named => forgotten_index_is_named(Some(Server::Postgres)),
    mysql mysql_forgotten_index_is_named => forgotten_index_is_named(Some(Server::Mysql)),
    sqlite sqlite_down_dropping_what_up_did_not_create => down_dropping_what_up_did_not_create_is_named(None),
    postgres postgres_down_dropping_what_up_did_not_create => down_dropping_what_up_did_not_create_is_named(Some(Server::Postgres)),
    mysql mysql_down_dropping_what_up_did_not_create => down_dropping_what_up_did_not_create_is_named(Some(Server::Mysql)),
    sqlite sqlite_irreversible_revisions_are_reported => irreversible_revisions_are_reported(None),
    postgres postgres_irreversible_revisions_are_reported => irreversible_revisions_are_reported(Some(Server::Postgres)),
    sqlite sqlite_verify_finds_changes_by_hand => verify_finds_changes_by_hand(None),
    postgres postgres_verify_finds_changes_by_hand => verify_finds_changes_by_hand(Some(Server::Postgres)),
    mysql mysql_verify_finds_changes_by_hand => verify_finds_changes_by_hand(Some(Server::Mysql)),
}

#[test]
fn test_needs_a_server_for_a_server_engine() {
    let project = project();
    let dir = project.path();
    common::table_revision(dir, "r1", "");
    let url = common::sqlite_url(dir);
    let ran = mg(dir, &url, &["test", "--dialect", "postgres"]).failed();
    assert_eq!(ran.first_line(), "error: no postgres server to test on", "{ran}");
    assert!(ran.stderr.contains("hint: pass --server URL"), "{ran}");
    let bad = mg(dir, &url, &["test", "--server", "sqlite://x.db"]).failed();
    assert!(bad.first_line().contains("is not a PostgreSQL or MySQL URL"), "{bad}");
}

/// A scratch database left by a killed run (an old time in its name, no
/// session on it) is dropped by the next run on that server.
fn leftover_scratch_databases_are_dropped(server: Server) {
    let db = AnyDb::new(Some(server));
    let leftover = format!("migraph_test_1000_{}_{}", std::process::id(), server as u8);
    db.connect().batch(&format!("CREATE DATABASE {leftover}")).expect("create a leftover");
    assert!(scratch_exists(&db, &leftover));
    run(&db, &sample_revisions(), &["test"]).ok();
    assert!(!scratch_exists(&db, &leftover), "the leftover {leftover} was not dropped");
}

common::backend_tests! {
    postgres postgres_leftover_scratch_databases_are_dropped => leftover_scratch_databases_are_dropped(Server::Postgres),
    mysql mysql_leftover_scratch_databases_are_dropped => leftover_scratch_databases_are_dropped(Server::Mysql),
}
