//! `migraph import` and `migraph adopt` for diesel, sqlx, golang-migrate,
//! dbmate, goose, refinery and Flyway.
//!
//! Each fixture is a small history in the tool's own layout, written here
//! from the tools' documentation and source (none of the tools is
//! installed), with the tool's version table filled the way the tool fills
//! it. For each: the import is applied to an empty database by `migraph
//! upgrade heads` and must give the same schema as running the tool's SQL
//! directly; `adopt` on a database prepared by the tool's SQL and table
//! must leave `migraph status` up to date, running no SQL.

mod common;

use std::fs;
use std::path::Path;

use common::{backend_tests, fails, mg, ok, AnyDb, Server};
use migraph::backend::{Backend, Dialect, ReadAs, Value};
use sha2::{Digest, Sha384};

/// A tool's history as the tool lays it out, and its version table.
struct Fixture {
    tool: &'static str,
    /// The tool's directory, relative to the project.
    dir: &'static str,
    /// (path in `dir`, content).
    files: Vec<(&'static str, String)>,
    /// The up SQL the tool runs, in its order.
    ups: Vec<String>,
    /// The tool's version table, as the tool creates it.
    table: String,
    /// The rows the tool writes for `ups`.
    rows: Vec<String>,
    /// The imported revision IDs, in order.
    ids: Vec<&'static str>,
    /// Text each `note:` about an unsupported file must contain.
    notes: Vec<&'static str>,
}

impl Fixture {
    fn write(&self, project: &Path) {
        for (path, text) in &self.files {
            let path = project.join(self.dir).join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
    }

    /// Applies the tool's SQL and fills its table, as the tool would.
    fn apply_as_the_tool(&self, conn: &mut dyn Backend) {
        conn.batch(&self.table).expect("create the tool's table");
        for up in &self.ups {
            conn.batch(up).unwrap_or_else(|e| panic!("{up}: {e}"));
        }
        for row in &self.rows {
            conn.batch(row).unwrap_or_else(|e| panic!("{row}: {e}"));
        }
    }
}

/// The database's schema outside the version tables: sqlite_master's SQL on
/// SQLite, columns and functions on PostgreSQL.
fn schema(conn: &mut dyn Backend, tool_table: &str) -> Vec<String> {
    let skip = format!("('{tool_table}', 'migraph_revisions', 'migraph_revisions_pending')");
    let (expr, rest) = match conn.dialect() {
        Dialect::Sqlite => (
            "type || ' ' || name || ' ' || COALESCE(sql, '')".to_string(),
            format!("FROM sqlite_master WHERE name NOT IN {skip} AND name NOT LIKE 'sqlite_%' ORDER BY name"),
        ),
        _ => (
            "CAST(x AS TEXT)".to_string(),
            format!(
                "FROM (SELECT table_name || '.' || column_name || ' ' || data_type AS x FROM information_schema.columns \
                 WHERE table_schema = 'public' AND table_name NOT IN {skip} \
                 UNION SELECT 'function ' || routine_name FROM information_schema.routines \
                 WHERE routine_schema = 'public' \
                 UNION SELECT 'index ' || indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename NOT IN {skip}) s"
            ),
        ),
    };
    let rows = conn.values(&[(expr, ReadAs::Text)], &rest, &[]).expect("read the schema");
    let mut out: Vec<String> = rows
        .into_iter()
        .map(|row| match &row[0] {
            Value::Text(s) => s.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    out.sort();
    out
}

fn revision_files(project: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(project.join("revisions"))
        .map(|d| d.map(|e| e.unwrap().file_name().into_string().unwrap()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// Import, upgrade, compare with the tool's own run, adopt.
fn round_trip(fixture: &Fixture, server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    fixture.write(dir);
    let fresh = AnyDb::new(server);

    // --dry-run writes nothing.
    let dry = ok(dir, &fresh.url, &["import", fixture.tool, fixture.dir, "--dry-run"]);
    assert_eq!(dry.stdout.lines().filter(|l| l.starts_with("would write")).count(), fixture.ids.len(), "{dry}");
    assert!(revision_files(dir).is_empty(), "a dry run wrote files");

    let imported = ok(dir, &fresh.url, &["import", fixture.tool, fixture.dir]);
    let files = revision_files(dir);
    assert_eq!(files.len(), fixture.ids.len(), "{imported}");
    for id in &fixture.ids {
        assert!(files.iter().any(|f| f.starts_with(&format!("{id}_"))), "no file for {id}:\n{imported}");
    }
    for note in &fixture.notes {
        assert!(
            imported.stderr.lines().any(|l| l.starts_with("note:") && l.contains(note)),
            "no note {note:?}:\n{imported}"
        );
    }
    // The chain: each revision's parent is the previous one, in the tool's order.
    let history = ok(dir, &fresh.url, &["history", "--json"]);
    let list: serde_json::Value = serde_json::from_str(&history.stdout).unwrap();
    let mut newest_first: Vec<&str> = list.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    newest_first.reverse();
    assert_eq!(newest_first, fixture.ids);

    // Importing again is refused, naming the file, and writes nothing.
    let again = fails(dir, &fresh.url, &["import", fixture.tool, fixture.dir]);
    assert!(again.first_line().contains("already exists; nothing was written"), "{again}");
    assert_eq!(revision_files(dir), files);

    // The same IDs and text on every import (stable mapping).
    let other = dir.join("again");
    ok(dir, &fresh.url, &["--revisions", other.to_str().unwrap(), "import", fixture.tool, fixture.dir]);
    for file in &files {
        assert_eq!(fs::read(dir.join("revisions").join(file)).unwrap(), fs::read(other.join(file)).unwrap(), "{file}");
    }
    fs::remove_dir_all(&other).unwrap();

    // migraph builds the schema the tool builds.
    ok(dir, &fresh.url, &["upgrade", "heads"]);
    let by_tool = AnyDb::new(server);
    fixture.apply_as_the_tool(&mut by_tool.connect());
    let table = table_of(fixture.tool);
    let want = schema(&mut by_tool.connect(), table);
    assert!(!want.is_empty());
    assert_eq!(schema(&mut fresh.connect(), table), want);

    // adopt: --dry-run changes nothing, then the stamp runs no SQL.
    let shown = ok(dir, &by_tool.url, &["adopt", fixture.tool, fixture.dir, "--dry-run"]);
    assert_eq!(
        shown.stdout.lines().filter(|l| l.starts_with("record as applied")).count(),
        fixture.ids.len(),
        "{shown}"
    );
    assert!(mg(dir, &by_tool.url, &["status"]).stdout.contains("applied:  0 of"));
    let adopted = ok(dir, &by_tool.url, &["adopt", fixture.tool, fixture.dir]);
    assert!(adopted.stderr.contains("no SQL was run"), "{adopted}");
    let status = ok(dir, &by_tool.url, &["status"]);
    assert!(status.stdout.contains("pending:  none, up to date"), "{status}");
    assert_eq!(schema(&mut by_tool.connect(), table), want, "adopt changed the schema");
    // The tool's table is left as it was.
    let rows =
        by_tool.connect().values(&[("CAST(1 AS BIGINT)".into(), ReadAs::Int)], &format!("FROM {table}"), &[]).unwrap();
    assert!(!rows.is_empty());
}

fn table_of(tool: &str) -> &'static str {
    migraph::import::Tool::from_name(tool).unwrap().version_table()
}

fn s(text: &str) -> String {
    text.to_string()
}

fn diesel(dialect: Dialect) -> Fixture {
    let setup = match dialect {
        // What `diesel setup` writes for PostgreSQL (a function with a dollar-quoted body).
        Dialect::Postgres => s(
            "-- This file was automatically created by Diesel to setup helper functions\n\
             -- and other internal bookkeeping. This file is safe to edit, any future\n\
             -- changes will be added to existing projects as new migrations.\n\n\
             CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$\n\
             BEGIN\n    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s\n\
             \x20                   FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);\nEND;\n\
             $$ LANGUAGE plpgsql;\n\n\
             CREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$\n\
             BEGIN\n    IF (\n        NEW IS DISTINCT FROM OLD AND\n        NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at\n\
             \x20   ) THEN\n        NEW.updated_at := current_timestamp;\n    END IF;\n    RETURN NEW;\nEND;\n\
             $$ LANGUAGE plpgsql;\n",
        ),
        _ => s("-- diesel's initial setup (SQLite has no helper functions)\nCREATE TABLE setup_marker (id INTEGER PRIMARY KEY);\n"),
    };
    let users = s("CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email VARCHAR NOT NULL\n);\n\
                   CREATE UNIQUE INDEX users_email ON users (email);\n");
    let posts = s("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), title VARCHAR NOT NULL);\n");
    Fixture {
        tool: "diesel",
        dir: "migrations",
        files: vec![
            ("00000000000000_diesel_initial_setup/up.sql", setup.clone()),
            (
                "00000000000000_diesel_initial_setup/down.sql",
                s(if dialect == Dialect::Postgres {
                    "DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);\nDROP FUNCTION IF EXISTS diesel_set_updated_at();\n"
                } else {
                    "DROP TABLE setup_marker;\n"
                }),
            ),
            ("2023-01-01-120000_create_users/up.sql", users.clone()),
            ("2023-01-01-120000_create_users/down.sql", s("DROP TABLE users;\n")),
            ("2023-02-01-120000_create_posts/up.sql", posts.clone()),
            ("2023-02-01-120000_create_posts/down.sql", s("DROP TABLE posts;\n")),
            ("2023-02-01-120000_create_posts/metadata.toml", s("run_in_transaction = false\n")),
            ("README.md", s("not a migration\n")),
        ],
        ups: vec![setup, users, posts],
        table: s("CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY NOT NULL, \
                  run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)"),
        rows: ["00000000000000", "20230101120000", "20230201120000"]
            .iter()
            .map(|v| format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{v}')"))
            .collect(),
        ids: vec!["diesel_00000000000000", "diesel_20230101120000", "diesel_20230201120000"],
        notes: vec![],
    }
}

/// sqlx's checksum: SHA-384 of the file (sqlx-core `Migration::new`), as a SQL blob literal.
fn sha384_blob(sql: &str) -> String {
    let hex: String = Sha384::digest(sql.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    format!("X'{hex}'")
}

fn sqlx() -> Fixture {
    let users = s("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\nCREATE TABLE roles (id INTEGER PRIMARY KEY, name TEXT);\n");
    let posts = s("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT);\n");
    let index = s("-- no-transaction\nCREATE INDEX posts_title ON posts (title);\n");
    let ups = vec![users.clone(), posts.clone(), index.clone()];
    let rows = [
        ("20230101120000", "create users", &users),
        ("20230201120000", "create posts", &posts),
        ("20230301120000", "add index", &index),
    ]
    .iter()
    .map(|(v, d, sql)| {
        format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES ({v}, '{d}', TRUE, {}, 1000)",
            sha384_blob(sql)
        )
    })
    .collect();
    Fixture {
        tool: "sqlx",
        dir: "migrations",
        files: vec![
            ("20230101120000_create_users.up.sql", users),
            ("20230101120000_create_users.down.sql", s("DROP TABLE roles;\nDROP TABLE users;\n")),
            ("20230201120000_create_posts.sql", posts),
            ("20230301120000_add_index.up.sql", index),
            ("20230301120000_add_index.down.sql", s("DROP INDEX posts_title;\n")),
        ],
        ups,
        table: s("CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
                  installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
                  checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"),
        rows,
        ids: vec!["sqlx_20230101120000", "sqlx_20230201120000", "sqlx_20230301120000"],
        notes: vec![],
    }
}

fn golang_migrate() -> Fixture {
    let ups = vec![
        s("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\nCREATE INDEX users_email ON users (email);\n"),
        s("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);\n"),
        s("CREATE VIEW user_posts AS SELECT users.email, posts.id FROM users JOIN posts ON posts.user_id = users.id;\n"),
    ];
    Fixture {
        tool: "golang-migrate",
        dir: "migrations",
        files: vec![
            ("000001_create_users.up.sql", ups[0].clone()),
            ("000001_create_users.down.sql", s("DROP TABLE users;\n")),
            ("000002_create_posts.up.sql", ups[1].clone()),
            ("000002_create_posts.down.sql", s("DROP TABLE posts;\n")),
            ("000003_user_posts.up.sql", ups[2].clone()),
            ("000003_user_posts.down.sql", s("DROP VIEW user_posts;\n")),
            ("000004_seed.up.json", s("[]\n")),
        ],
        ups,
        table: s("CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)"),
        rows: vec![s("INSERT INTO schema_migrations (version, dirty) VALUES (3, FALSE)")],
        ids: vec!["migrate_1", "migrate_2", "migrate_3"],
        notes: vec!["000004_seed.up.json: `.json` migrations are not SQL"],
    }
}

fn dbmate() -> Fixture {
    let ups = vec![
        s("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\nCREATE INDEX users_email ON users (email);\n\n"),
        s("CREATE TABLE posts (id INTEGER PRIMARY KEY);\n\n"),
    ];
    Fixture {
        tool: "dbmate",
        dir: "db/migrations",
        files: vec![
            (
                "20230101120000_create_users.sql",
                format!("-- migrate:up\n{}-- migrate:down\nDROP TABLE users;\n", ups[0]),
            ),
            (
                "20230201120000_create_posts.sql",
                format!("-- migrate:up transaction:false\n{}-- migrate:down\nDROP TABLE posts;\n", ups[1]),
            ),
        ],
        ups,
        table: s("CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(128) PRIMARY KEY)"),
        rows: vec![s("INSERT INTO schema_migrations (version) VALUES ('20230101120000'), ('20230201120000')")],
        ids: vec!["dbmate_20230101120000", "dbmate_20230201120000"],
        notes: vec![],
    }
}

fn goose() -> Fixture {
    let trigger = "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN\n  UPDATE users SET touched = 1 WHERE id = NEW.id;\nEND;\n";
    let ups = vec![
        format!("CREATE TABLE users (id INTEGER PRIMARY KEY, touched INTEGER);\nCREATE TABLE audit (id INTEGER);\n{trigger}"),
        s("CREATE INDEX users_touched ON users (touched);\n"),
    ];
    Fixture {
        tool: "goose",
        dir: "migrations",
        files: vec![
            (
                "20230101120000_create_users.sql",
                format!(
                    "-- +goose Up\nCREATE TABLE users (id INTEGER PRIMARY KEY, touched INTEGER);\nCREATE TABLE audit (id INTEGER);\n\
                     -- +goose StatementBegin\n{trigger}-- +goose StatementEnd\n\n-- +goose Down\nDROP TABLE audit;\nDROP TABLE users;\n"
                ),
            ),
            (
                "20230201120000_index.sql",
                s("-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX users_touched ON users (touched);\n\n-- +goose Down\nDROP INDEX users_touched;\n"),
            ),
            ("20230301120000_backfill.go", s("package migrations\n")),
        ],
        ups,
        table: s("CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, \
                  is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))"),
        // goose's log: its first row, then each up and down; the latest row of a version decides.
        rows: vec![s("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1), (20230101120000, 1), \
                      (20230201120000, 1), (20230201120000, 0), (20230201120000, 1)")],
        ids: vec!["goose_20230101120000", "goose_20230201120000"],
        notes: vec!["20230301120000_backfill.go: Go migrations cannot be imported"],
    }
}

/// refinery's checksum (`Migration::unapplied`): SipHash-1-3 of name, version and SQL, which is what
/// std's `DefaultHasher` computes today (refinery used it before pinning the `siphasher` crate).
fn refinery_checksum(name: &str, version: i32, sql: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    #[allow(deprecated)]
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    version.hash(&mut hasher);
    sql.hash(&mut hasher);
    hasher.finish()
}

fn refinery() -> Fixture {
    let ups = vec![
        s("CREATE TABLE persons (id INTEGER PRIMARY KEY, name VARCHAR(255));\nCREATE TABLE cars (id INTEGER PRIMARY KEY, person INTEGER);\n"),
        s("ALTER TABLE cars ADD COLUMN brand VARCHAR(255);\n"),
    ];
    let rows = vec![format!(
        "INSERT INTO refinery_schema_history VALUES (1, 'initial', '2023-01-01T00:00:00Z', '{}'), \
         (2, 'add_brand', '2023-01-02T00:00:00Z', '{}')",
        refinery_checksum("initial", 1, &ups[0]),
        refinery_checksum("add_brand", 2, &ups[1])
    )];
    Fixture {
        tool: "refinery",
        dir: "migrations",
        files: vec![
            ("V1__initial.sql", ups[0].clone()),
            ("V2__add_brand.sql", ups[1].clone()),
            ("V3__add_year.rs", s("pub fn migration() -> String { String::new() }\n")),
        ],
        ups,
        table: s("CREATE TABLE refinery_schema_history (version INT4 PRIMARY KEY, name VARCHAR(255), \
                  applied_on VARCHAR(255), checksum VARCHAR(255))"),
        rows,
        ids: vec!["refinery_1", "refinery_2"],
        notes: vec!["V3__add_year.rs: Rust migrations cannot be imported"],
    }
}

/// Flyway's checksum (`ChecksumCalculator`): CRC32 of the lines without their breaks, as an i32.
fn flyway_crc(text: &str) -> i32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in text.lines().flat_map(str::bytes) {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc as i32
}

fn flyway() -> Fixture {
    let v1 = s("CREATE TABLE person (id INT NOT NULL, name VARCHAR(100) NOT NULL);\nCREATE TABLE team (id INT);\n");
    let v1_1 = s("ALTER TABLE person ADD COLUMN team INT;\n");
    let v1_2_9 = s("CREATE TABLE nine (id INT);\n");
    let v1_2_10 = s("CREATE TABLE ten (id INT);\n");
    let ups = vec![v1.clone(), v1_1.clone(), v1_2_9.clone(), v1_2_10.clone()];
    let applied = [
        ("1", "Create person", "V1__Create_person.sql", &v1),
        ("1.1", "Add team", "V1_1__Add_team.sql", &v1_1),
        ("1.2.9", "Nine", "V1.2.9__Nine.sql", &v1_2_9),
        ("1.2.10", "Ten", "V1.2.10__Ten.sql", &v1_2_10),
    ];
    let rows = applied
        .iter()
        .enumerate()
        .map(|(i, (v, d, script, sql))| {
            format!(
                "INSERT INTO flyway_schema_history VALUES ({}, '{v}', '{d}', 'SQL', '{script}', {}, 'sa', CURRENT_TIMESTAMP, 3, TRUE)",
                i + 1,
                flyway_crc(sql)
            )
        })
        .collect();
    Fixture {
        tool: "flyway",
        dir: "sql",
        files: vec![
            ("V1__Create_person.sql", v1),
            ("V1_1__Add_team.sql", v1_1),
            ("U1_1__Add_team.sql", s("ALTER TABLE person DROP COLUMN team;\n")),
            ("V1.2.10__Ten.sql", v1_2_10),
            ("V1.2.9__Nine.sql", v1_2_9),
            ("R__People_view.sql", s("CREATE VIEW people AS SELECT name FROM person;\n")),
        ],
        ups,
        table: s("CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), \
                  description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, \
                  installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                  execution_time INT NOT NULL, success BOOLEAN NOT NULL)"),
        rows,
        ids: vec!["flyway_1", "flyway_1_1", "flyway_1_2_9", "flyway_1_2_10"],
        notes: vec!["R__People_view.sql: a repeatable migration (R__)"],
    }
}

backend_tests! {
    sqlite diesel_round_trip => round_trip(&diesel(Dialect::Sqlite), None),
    postgres diesel_round_trip_on_postgres => round_trip(&diesel(Dialect::Postgres), Some(Server::Postgres)),
    postgres golang_migrate_round_trip_on_postgres => round_trip(&golang_migrate(), Some(Server::Postgres)),
    sqlite sqlx_round_trip => round_trip(&sqlx(), None),
    sqlite golang_migrate_round_trip => round_trip(&golang_migrate(), None),
    sqlite dbmate_round_trip => round_trip(&dbmate(), None),
    sqlite goose_round_trip => round_trip(&goose(), None),
    sqlite refinery_round_trip => round_trip(&refinery(), None),
    sqlite flyway_round_trip => round_trip(&flyway(), None),
}

/// The tool's options become header keys; the SQL stays as written.
#[test]
fn headers_carry_transaction_and_reversibility() {
    let project = common::project();
    let root = project.path();
    for fixture in [sqlx(), goose(), dbmate(), flyway()] {
        let dir = root.join(fixture.tool);
        fixture.write(&dir);
        ok(&dir, &common::sqlite_url(&dir), &["import", fixture.tool, fixture.dir]);
    }
    let read = |path: &str| fs::read_to_string(root.join(path)).unwrap();
    let index = read("sqlx/revisions/sqlx_20230301120000_add_index.sql");
    assert!(index.contains("-- transaction: false\n"), "{index}");
    assert!(index.contains("-- migrate:up\n-- no-transaction\nCREATE INDEX posts_title ON posts (title);\n-- migrate:down\nDROP INDEX posts_title;\n"), "{index}");
    assert!(index.contains("-- created: 2023-03-01T12:00:00Z\n"), "{index}");
    assert!(index.contains("-- message: add index (from 20230301120000_add_index.up.sql)\n"), "{index}");
    let posts = read("sqlx/revisions/sqlx_20230201120000_create_posts.sql");
    assert!(!posts.contains("-- migrate:down"), "a .sql sqlx migration is irreversible: {posts}");
    let goose = read("goose/revisions/goose_20230201120000_index.sql");
    assert!(goose.contains("-- transaction: false\n") && !goose.contains("+goose"), "{goose}");
    let users = read("goose/revisions/goose_20230101120000_create_users.sql");
    let block = "CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN\n  UPDATE users SET touched = 1 WHERE id = NEW.id;\nEND;\n";
    assert!(users.contains(&format!("CREATE TABLE audit (id INTEGER);\n{block}\n-- migrate:down\n")), "{users}");
    let dbmate = read("dbmate/revisions/dbmate_20230201120000_create_posts.sql");
    assert!(dbmate.contains("-- transaction: false\n"), "{dbmate}");
    let flyway = read("flyway/revisions/flyway_1_1_add_team.sql");
    assert!(
        flyway.contains("-- migrate:down\nALTER TABLE person DROP COLUMN team;\n"),
        "the undo file is the down SQL: {flyway}"
    );
    assert!(flyway.contains("-- created: 1970-01-01T00:00:00Z\n"), "{flyway}");
}

/// A file changed since sqlx applied it: adopt reports it and stamps nothing.
#[test]
fn sqlx_checksum_mismatch_is_refused() {
    let project = common::project();
    let dir = project.path();
    let fixture = sqlx();
    fixture.write(dir);
    let db = AnyDb::new(None);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "sqlx"]);
    fs::write(
        dir.join("migrations/20230201120000_create_posts.sql"),
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT, body TEXT);\n",
    )
    .unwrap();
    let refused = fails(dir, &db.url, &["adopt", "sqlx"]);
    assert!(refused.first_line().contains("checksum mismatch"), "{refused}");
    assert!(refused.stderr.contains("version 20230201120000 (20230201120000_create_posts.sql)"), "{refused}");
    assert!(mg(dir, &db.url, &["status"]).stdout.contains("applied:  0 of 3"));
}

/// A Flyway file edited after it ran: the CRC32 differs.
#[test]
fn flyway_checksum_mismatch_is_refused() {
    let project = common::project();
    let dir = project.path();
    let fixture = flyway();
    fixture.write(dir);
    let db = AnyDb::new(None);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "flyway", "sql"]);
    ok(dir, &db.url, &["adopt", "flyway", "sql", "--dry-run"]);
    fs::write(dir.join("sql/V1.2.9__Nine.sql"), "CREATE TABLE nine (id BIGINT);\n").unwrap();
    let refused = fails(dir, &db.url, &["adopt", "flyway", "sql"]);
    assert!(refused.stderr.contains("version 1.2.9 (V1.2.9__Nine.sql)"), "{refused}");
    assert!(mg(dir, &db.url, &["status"]).stdout.contains("applied:  0 of 4"));
}

/// refinery's SipHash checksum: a file edited after it ran.
#[test]
fn refinery_checksum_mismatch_is_refused() {
    let project = common::project();
    let dir = project.path();
    let fixture = refinery();
    fixture.write(dir);
    let db = AnyDb::new(None);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "refinery"]);
    let shown = ok(dir, &db.url, &["adopt", "refinery", "--dry-run"]);
    assert!(shown.stderr.contains("2 checksum(s) verified"), "{shown}");
    fs::write(dir.join("migrations/V2__add_brand.sql"), "ALTER TABLE cars ADD COLUMN brand TEXT;\n").unwrap();
    let refused = fails(dir, &db.url, &["adopt", "refinery"]);
    assert!(refused.stderr.contains("version 2 (V2__add_brand.sql)"), "{refused}");
}

/// golang-migrate's dirty flag: a migration failed half way; adopt refuses.
#[test]
fn golang_migrate_dirty_database_is_refused() {
    let project = common::project();
    let dir = project.path();
    let mut fixture = golang_migrate();
    fixture.rows = vec![s("INSERT INTO schema_migrations (version, dirty) VALUES (2, TRUE)")];
    fixture.write(dir);
    let db = AnyDb::new(None);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "golang-migrate"]);
    let refused = fails(dir, &db.url, &["adopt", "golang-migrate"]);
    assert!(refused.first_line().contains("schema_migrations: the database is dirty at version 2"), "{refused}");
    assert!(mg(dir, &db.url, &["status"]).stdout.contains("applied:  0 of 3"));
    // At a clean version 2, the third migration stays pending.
    db.connect().batch("UPDATE schema_migrations SET dirty = FALSE").unwrap();
    ok(dir, &db.url, &["adopt", "golang-migrate"]);
    let status = ok(dir, &db.url, &["status"]);
    assert!(status.stdout.contains("applied:  2 of 3") && status.stdout.contains("migrate_3"), "{status}");
}

/// A version in the tool's table without a file, and one applied after a gap.
#[test]
fn unknown_and_missing_versions_are_refused() {
    let project = common::project();
    let dir = project.path();
    let mut fixture = dbmate();
    fixture.rows = vec![s("INSERT INTO schema_migrations (version) VALUES ('20230101120000'), ('20240101000000')")];
    fixture.write(dir);
    let db = AnyDb::new(None);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "dbmate"]);
    let refused = fails(dir, &db.url, &["adopt", "dbmate"]);
    assert!(refused.first_line().contains("lists version 20240101000000, which has no imported revision"), "{refused}");
    db.connect()
        .batch("DELETE FROM schema_migrations; INSERT INTO schema_migrations VALUES ('20230201120000')")
        .unwrap();
    let gap = fails(dir, &db.url, &["adopt", "dbmate"]);
    assert!(gap.first_line().contains("but not the earlier 20230101120000"), "{gap}");
}

/// Adopt needs the imported revisions; import refuses an unknown tool.
#[test]
fn adopt_before_import_and_unknown_tools() {
    let project = common::project();
    let dir = project.path();
    let url = common::sqlite_url(dir);
    diesel(Dialect::Sqlite).write(dir);
    fs::create_dir_all(dir.join("revisions")).unwrap();
    let refused = fails(dir, &url, &["adopt", "diesel"]);
    assert!(refused.first_line().contains("revision `diesel_00000000000000`"), "{refused}");
    assert!(refused.stderr.contains("run `migraph import diesel migrations` first"), "{refused}");
    let unknown = mg(dir, &url, &["import", "liquibase"]);
    assert_eq!(unknown.code, 2, "{unknown}");
    let missing = fails(dir, &url, &["import", "sqlx", "nowhere"]);
    assert!(missing.first_line().contains("nowhere does not exist"), "{missing}");
}

/// A goose block that migraph's splitter would cut is reported, not hidden.
#[test]
fn goose_blocks_that_would_split_are_reported() {
    let project = common::project();
    let dir = project.path();
    let url = common::sqlite_url(dir);
    fs::create_dir_all(dir.join("migrations")).unwrap();
    fs::write(
        dir.join("migrations/00001_two.sql"),
        "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (x INT);\nCREATE TABLE b (x INT);\n-- +goose StatementEnd\n",
    )
    .unwrap();
    let imported = ok(dir, &url, &["import", "goose", "--dry-run"]);
    assert!(imported.stderr.contains("00001_two.sql:2: the StatementBegin/StatementEnd block splits"), "{imported}");
}
