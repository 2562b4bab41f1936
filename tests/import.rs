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

/// The database's schema outside the version tables (and their indexes):
/// sqlite_master's SQL on SQLite; columns, indexes, routines and triggers
/// from the catalog on PostgreSQL and MySQL/MariaDB.
fn schema(conn: &mut dyn Backend, tool_table: &str) -> Vec<String> {
    let skip = format!("('{tool_table}', 'migraph_revisions', 'migraph_revisions_pending')");
    let (expr, rest) = match conn.dialect() {
        Dialect::Sqlite => (
            "type || ' ' || name || ' ' || COALESCE(sql, '')".to_string(),
            format!("FROM sqlite_master WHERE tbl_name NOT IN {skip} AND name NOT LIKE 'sqlite_%' ORDER BY name"),
        ),
        Dialect::Postgres => (
            "CAST(x AS TEXT)".to_string(),
            format!(
                "FROM (SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS x \
                 FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT IN {skip} \
                 UNION SELECT 'function ' || routine_name FROM information_schema.routines \
                 WHERE routine_schema = 'public' \
                 UNION SELECT 'trigger ' || trigger_name || ' ' || event_manipulation || ' ' || event_object_table \
                 FROM information_schema.triggers WHERE trigger_schema = 'public' \
                 UNION SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes \
                 WHERE schemaname = 'public' AND tablename NOT IN {skip}) s"
            ),
        ),
        Dialect::Mysql => (
            "CAST(x AS CHAR)".to_string(),
            format!(
                "FROM (SELECT CONCAT(table_name, '.', column_name, ' ', column_type, ' ', is_nullable) AS x \
                 FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name NOT IN {skip} \
                 UNION SELECT CONCAT('routine ', routine_name) FROM information_schema.routines \
                 WHERE routine_schema = DATABASE() \
                 UNION SELECT CONCAT('trigger ', trigger_name, ' ', event_manipulation, ' ', event_object_table) \
                 FROM information_schema.triggers WHERE trigger_schema = DATABASE() \
                 UNION SELECT CONCAT('index ', table_name, '.', index_name, ' ', column_name, ' ', non_unique) \
                 FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name NOT IN {skip}) s"
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

/// The number of rows of `table`.
fn count(conn: &mut dyn Backend, table: &str) -> i64 {
    let ty = if conn.dialect() == Dialect::Mysql { "SIGNED" } else { "BIGINT" };
    let rows = conn.values(&[(format!("CAST(COUNT(*) AS {ty})"), ReadAs::Int)], &format!("FROM {table}"), &[]);
    match rows.expect("count rows").first().map(|r| &r[0]) {
        Some(Value::Int(n)) => *n,
        other => panic!("COUNT(*) of {table}: {other:?}"),
    }
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
    let before = count(&mut by_tool.connect(), table);
    assert!(before > 0, "the tool's table is empty");
    let adopted = ok(dir, &by_tool.url, &["adopt", fixture.tool, fixture.dir]);
    assert!(adopted.stderr.contains("no SQL was run"), "{adopted}");
    // The stored checksums were read (BYTEA, BLOB, INT, text) and compared, every one.
    if matches!(fixture.tool, "sqlx" | "refinery" | "flyway") {
        let verified = format!("{} checksum(s) verified", fixture.ids.len());
        assert!(adopted.stderr.contains(&verified), "{adopted}");
    }
    let status = ok(dir, &by_tool.url, &["status"]);
    assert!(status.stdout.contains("pending:  none, up to date"), "{status}");
    assert!(status.stdout.contains(&format!("applied:  {n} of {n}", n = fixture.ids.len())), "{status}");
    assert_eq!(schema(&mut by_tool.connect(), table), want, "adopt changed the schema");
    // The tool's table is left as it was.
    assert_eq!(count(&mut by_tool.connect(), table), before);
}

fn table_of(tool: &str) -> &'static str {
    migraph::import::Tool::from_name(tool).unwrap().version_table()
}

fn s(text: &str) -> String {
    text.to_string()
}

/// A text column the engine can index (MySQL needs a length).
fn text_type(d: Dialect) -> &'static str {
    if d == Dialect::Mysql {
        "VARCHAR(255)"
    } else {
        "TEXT"
    }
}

/// `DROP INDEX` as the engine spells it.
fn drop_index(d: Dialect, index: &str, table: &str) -> String {
    match d {
        Dialect::Mysql => format!("DROP INDEX {index} ON {table};\n"),
        _ => format!("DROP INDEX {index};\n"),
    }
}

fn diesel(d: Dialect) -> Fixture {
    // What `diesel setup` writes for PostgreSQL (a function with a dollar-quoted
    // body); on SQLite and MySQL it writes no migration, only `migrations/.keep`.
    let setup = s("-- This file was automatically created by Diesel to setup helper functions\n\
         -- and other internal bookkeeping. This file is safe to edit, any future\n\
         -- changes will be added to existing projects as new migrations.\n\n\
         CREATE OR REPLACE FUNCTION diesel_manage_updated_at(_tbl regclass) RETURNS VOID AS $$\n\
         BEGIN\n    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s\n\
         \x20                   FOR EACH ROW EXECUTE PROCEDURE diesel_set_updated_at()', _tbl);\nEND;\n\
         $$ LANGUAGE plpgsql;\n\n\
         CREATE OR REPLACE FUNCTION diesel_set_updated_at() RETURNS trigger AS $$\n\
         BEGIN\n    IF (\n        NEW IS DISTINCT FROM OLD AND\n        NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at\n\
         \x20   ) THEN\n        NEW.updated_at := current_timestamp;\n    END IF;\n    RETURN NEW;\nEND;\n\
         $$ LANGUAGE plpgsql;\n");
    let varchar = if d == Dialect::Mysql { "VARCHAR(255)" } else { "VARCHAR" };
    let users = format!(
        "CREATE TABLE users (\n  id INTEGER PRIMARY KEY,\n  email {varchar} NOT NULL\n);\n\
         CREATE UNIQUE INDEX users_email ON users (email);\n"
    );
    let posts = format!(
        "CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, title {varchar} NOT NULL,\n  \
         FOREIGN KEY (user_id) REFERENCES users (id));\n"
    );
    let mut files = vec![
        (".keep", s("")),
        ("2023-01-01-120000_create_users/up.sql", users.clone()),
        ("2023-01-01-120000_create_users/down.sql", s("DROP TABLE users;\n")),
        ("2023-02-01-120000_create_posts/up.sql", posts.clone()),
        ("2023-02-01-120000_create_posts/down.sql", s("DROP TABLE posts;\n")),
        ("2023-02-01-120000_create_posts/metadata.toml", s("run_in_transaction = false\n")),
        ("README.md", s("not a migration\n")),
    ];
    let mut ups = vec![users, posts];
    let mut versions = vec!["20230101120000", "20230201120000"];
    let mut ids = vec!["diesel_20230101120000", "diesel_20230201120000"];
    if d == Dialect::Postgres {
        files.push(("00000000000000_diesel_initial_setup/up.sql", setup.clone()));
        files.push((
            "00000000000000_diesel_initial_setup/down.sql",
            s("-- This file was automatically created by Diesel to setup helper functions\n\
               -- and other internal bookkeeping. This file is safe to edit, any future\n\
               -- changes will be added to existing projects as new migrations.\n\n\
               DROP FUNCTION IF EXISTS diesel_manage_updated_at(_tbl regclass);\n\
               DROP FUNCTION IF EXISTS diesel_set_updated_at();\n"),
        ));
        ups.insert(0, setup);
        versions.insert(0, "00000000000000");
        ids.insert(0, "diesel_00000000000000");
    }
    Fixture {
        tool: "diesel",
        dir: "migrations",
        files,
        ups,
        // diesel_migrations' `setup_migration_table.sql`, the same on every backend.
        table: s("CREATE TABLE IF NOT EXISTS __diesel_schema_migrations (\n       \
                  version VARCHAR(50) PRIMARY KEY NOT NULL,\n       \
                  run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP\n);\n"),
        rows: versions
            .iter()
            .map(|v| format!("INSERT INTO __diesel_schema_migrations (version) VALUES ('{v}')"))
            .collect(),
        ids,
        notes: vec![],
    }
}

/// sqlx's checksum: SHA-384 of the file (sqlx-core `Migration::new`), as a
/// SQL literal of the engine's binary type (`BYTEA` on PostgreSQL).
fn sha384_blob(sql: &str, d: Dialect) -> String {
    let hex: String = Sha384::digest(sql.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    match d {
        Dialect::Postgres => format!("'\\x{hex}'::bytea"),
        _ => format!("X'{hex}'"),
    }
}

fn sqlx(d: Dialect) -> Fixture {
    let text = text_type(d);
    let users = format!(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email {text} NOT NULL);\nCREATE TABLE roles (id INTEGER PRIMARY KEY, name {text});\n"
    );
    let posts = format!("CREATE TABLE posts (id INTEGER PRIMARY KEY, title {text});\n");
    // PostgreSQL cannot build an index CONCURRENTLY in a transaction: what `-- no-transaction` is for.
    let (index, drop) = match d {
        Dialect::Postgres => (
            s("-- no-transaction\nCREATE INDEX CONCURRENTLY posts_title ON posts (title);\n"),
            s("-- no-transaction\nDROP INDEX CONCURRENTLY posts_title;\n"),
        ),
        _ => (
            s("-- no-transaction\nCREATE INDEX posts_title ON posts (title);\n"),
            drop_index(d, "posts_title", "posts"),
        ),
    };
    let ups = vec![users.clone(), posts.clone(), index.clone()];
    // sqlx-{sqlite,postgres,mysql} `apply`: the row inserted with execution_time -1 and success
    // TRUE (MySQL: FALSE, set TRUE after the SQL, as DDL commits implicitly there), then the
    // nanoseconds written once committed.
    let mut rows = Vec::new();
    for (v, desc, sql) in [
        ("20230101120000", "create users", &users),
        ("20230201120000", "create posts", &posts),
        ("20230301120000", "add index", &index),
    ] {
        let success = if d == Dialect::Mysql { "FALSE" } else { "TRUE" };
        rows.push(format!(
            "INSERT INTO _sqlx_migrations ( version, description, success, checksum, execution_time ) \
             VALUES ( {v}, '{desc}', {success}, {}, -1 )",
            sha384_blob(sql, d)
        ));
        if d == Dialect::Mysql {
            rows.push(format!("UPDATE _sqlx_migrations SET success = TRUE WHERE version = {v}"));
        }
        rows.push(format!("UPDATE _sqlx_migrations SET execution_time = 1843210 WHERE version = {v}"));
    }
    let (installed_on, checksum) = match d {
        Dialect::Postgres => ("TIMESTAMPTZ NOT NULL DEFAULT now()", "BYTEA"),
        _ => ("TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP", "BLOB"),
    };
    Fixture {
        tool: "sqlx",
        dir: "migrations",
        files: vec![
            ("20230101120000_create_users.up.sql", users),
            ("20230101120000_create_users.down.sql", s("DROP TABLE roles;\nDROP TABLE users;\n")),
            ("20230201120000_create_posts.sql", posts),
            ("20230301120000_add_index.up.sql", index),
            ("20230301120000_add_index.down.sql", drop),
        ],
        ups,
        table: format!(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (\n    version BIGINT PRIMARY KEY,\n    \
             description TEXT NOT NULL,\n    installed_on {installed_on},\n    success BOOLEAN NOT NULL,\n    \
             checksum {checksum} NOT NULL,\n    execution_time BIGINT NOT NULL\n);\n"
        ),
        rows,
        ids: vec!["sqlx_20230101120000", "sqlx_20230201120000", "sqlx_20230301120000"],
        notes: vec![],
    }
}

/// golang-migrate's `SetVersion`: the table emptied, then its one row written.
fn golang_migrate_rows(d: Dialect, version: i64, dirty: bool) -> Vec<String> {
    let clear = match d {
        Dialect::Sqlite => "DELETE FROM schema_migrations",
        Dialect::Postgres => "TRUNCATE \"public\".\"schema_migrations\"",
        Dialect::Mysql => "DELETE FROM `schema_migrations` LIMIT 1",
    };
    let dirty = if dirty { "TRUE" } else { "FALSE" };
    vec![clear.into(), format!("INSERT INTO schema_migrations (version, dirty) VALUES ({version}, {dirty})")]
}

fn golang_migrate(d: Dialect) -> Fixture {
    let text = text_type(d);
    let ups = vec![
        format!("CREATE TABLE users (id INTEGER PRIMARY KEY, email {text});\nCREATE INDEX users_email ON users (email);\n"),
        s("CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER);\n"),
        s("CREATE VIEW user_posts AS SELECT users.email, posts.id FROM users JOIN posts ON posts.user_id = users.id;\n"),
    ];
    // The drivers' `ensureVersionTable` (database/sqlite3, postgres, mysql).
    let table = match d {
        Dialect::Sqlite => s("CREATE TABLE IF NOT EXISTS schema_migrations (version uint64,dirty bool);\n  \
                              CREATE UNIQUE INDEX IF NOT EXISTS version_unique ON schema_migrations (version);"),
        Dialect::Postgres => s("CREATE TABLE IF NOT EXISTS \"public\".\"schema_migrations\" \
                                (version bigint not null primary key, dirty boolean not null)"),
        Dialect::Mysql => {
            s("CREATE TABLE `schema_migrations` (version bigint not null primary key, dirty boolean not null)")
        }
    };
    // Each migration: the version set dirty, the SQL run, the version set clean.
    let rows =
        (1..=3).flat_map(|v| [golang_migrate_rows(d, v, true), golang_migrate_rows(d, v, false)]).flatten().collect();
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
        table,
        rows,
        ids: vec!["migrate_1", "migrate_2", "migrate_3"],
        notes: vec!["000004_seed.up.json: `.json` migrations are not SQL"],
    }
}

fn dbmate(d: Dialect) -> Fixture {
    let text = text_type(d);
    let ups = vec![
        format!("CREATE TABLE users (id INTEGER PRIMARY KEY, email {text});\nCREATE INDEX users_email ON users (email);\n\n"),
        s("CREATE TABLE posts (id INTEGER PRIMARY KEY);\n\n"),
    ];
    // pkg/driver/{sqlite,postgres,mysql} `CreateMigrationsTable` (PostgreSQL: no length, schema-qualified).
    let table = match d {
        Dialect::Sqlite => s("create table if not exists \"schema_migrations\" (version varchar(128) primary key)"),
        Dialect::Postgres => {
            s("create table if not exists \"public\".\"schema_migrations\" (version varchar primary key)")
        }
        Dialect::Mysql => s("create table if not exists `schema_migrations` (version varchar(128) primary key)"),
    };
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
        table,
        rows: ["20230101120000", "20230201120000"]
            .iter()
            .map(|v| format!("insert into schema_migrations (version) values ('{v}')"))
            .collect(),
        ids: vec!["dbmate_20230101120000", "dbmate_20230201120000"],
        notes: vec![],
    }
}

/// goose's `InsertVersion` rows; database/sql binds a Go bool as 1/0 for SQLite's INTEGER column.
fn goose_rows(d: Dialect, rows: &[(i64, bool)]) -> Vec<String> {
    rows.iter()
        .map(|(v, applied)| {
            let applied = if d == Dialect::Sqlite { i32::from(*applied).to_string() } else { applied.to_string() };
            format!("INSERT INTO goose_db_version (version_id, is_applied) VALUES ({v}, {applied})")
        })
        .collect()
}

fn goose(d: Dialect) -> Fixture {
    // The StatementBegin/StatementEnd block: a statement with `;` inside, in each engine's form.
    let block = match d {
        Dialect::Sqlite => {
            s("CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN\n  UPDATE users SET touched = 1 WHERE id = NEW.id;\nEND;\n")
        }
        Dialect::Postgres => s("CREATE FUNCTION users_touch() RETURNS trigger AS $$\nBEGIN\n  \
                                INSERT INTO audit (id) VALUES (NEW.id);\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n"),
        Dialect::Mysql => s("CREATE TRIGGER users_touch AFTER UPDATE ON users FOR EACH ROW BEGIN\n  \
                             INSERT INTO audit (id) VALUES (NEW.id);\nEND;\n"),
    };
    let after = if d == Dialect::Postgres {
        "CREATE TRIGGER users_touch AFTER UPDATE ON users FOR EACH ROW EXECUTE FUNCTION users_touch();\n"
    } else {
        ""
    };
    let head = "CREATE TABLE users (id INTEGER PRIMARY KEY, touched INTEGER);\nCREATE TABLE audit (id INTEGER);\n";
    let (index, drop) = match d {
        Dialect::Postgres => (
            "CREATE INDEX CONCURRENTLY users_touched ON users (touched);\n",
            s("DROP INDEX CONCURRENTLY users_touched;\n"),
        ),
        _ => ("CREATE INDEX users_touched ON users (touched);\n", drop_index(d, "users_touched", "users")),
    };
    let drop_function = if d == Dialect::Postgres { "DROP FUNCTION users_touch();\n" } else { "" };
    let ups = vec![format!("{head}{block}{after}"), s(index)];
    // internal/dialects: sqlite3.go, postgres.go, mysql.go `CreateTable`.
    let table = match d {
        Dialect::Sqlite => s("CREATE TABLE goose_db_version (\n\t\tid INTEGER PRIMARY KEY AUTOINCREMENT,\n\t\t\
                              version_id INTEGER NOT NULL,\n\t\tis_applied INTEGER NOT NULL,\n\t\t\
                              tstamp TIMESTAMP DEFAULT (datetime('now'))\n\t)"),
        Dialect::Postgres => {
            s("CREATE TABLE goose_db_version (\n\t\tid integer PRIMARY KEY GENERATED BY DEFAULT AS IDENTITY,\n\t\t\
                                version_id bigint NOT NULL,\n\t\tis_applied boolean NOT NULL,\n\t\t\
                                tstamp timestamp NOT NULL DEFAULT now()\n\t)")
        }
        Dialect::Mysql => {
            s("CREATE TABLE goose_db_version (\n\t\tid bigint(20) unsigned NOT NULL AUTO_INCREMENT,\n\t\t\
                             version_id bigint NOT NULL,\n\t\tis_applied boolean NOT NULL,\n\t\t\
                             tstamp timestamp NULL default now(),\n\t\tPRIMARY KEY(id)\n\t)")
        }
    };
    // goose's log (database/dialects.go): its first row (version 0), one row per up with
    // is_applied TRUE, and a down deletes the version's rows (`DeleteVersion`): here
    // 20230201120000 was applied, rolled back and applied again.
    let rows = goose_rows(d, &[(0, true), (20230101120000, true), (20230201120000, true)])
        .into_iter()
        .chain([s("DELETE FROM goose_db_version WHERE version_id=20230201120000")])
        .chain(goose_rows(d, &[(20230201120000, true)]))
        .collect();
    Fixture {
        tool: "goose",
        dir: "migrations",
        files: vec![
            (
                "20230101120000_create_users.sql",
                format!(
                    "-- +goose Up\n{head}-- +goose StatementBegin\n{block}-- +goose StatementEnd\n{after}\n\
                     -- +goose Down\nDROP TABLE audit;\nDROP TABLE users;\n{drop_function}"
                ),
            ),
            (
                "20230201120000_index.sql",
                format!("-- +goose NO TRANSACTION\n-- +goose Up\n{index}\n-- +goose Down\n{drop}"),
            ),
            ("20230301120000_backfill.go", s("package migrations\n")),
        ],
        ups,
        table,
        rows,
        ids: vec!["goose_20230101120000", "goose_20230201120000"],
        notes: vec!["20230301120000_backfill.go: Go migrations cannot be imported"],
    }
}

/// refinery's checksum (`Migration::unapplied`): SipHash-1-3 of name, version and SQL, which is what
/// std's `DefaultHasher` computes today (refinery used it before pinning the `siphasher` crate).
fn refinery_checksum(name: &str, version: impl std::hash::Hash, sql: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    #[allow(deprecated)]
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut hasher);
    version.hash(&mut hasher);
    sql.hash(&mut hasher);
    hasher.finish()
}

fn refinery(d: Dialect) -> Fixture {
    let text = text_type(d);
    let ups = vec![
        format!(
            "CREATE TABLE persons (id INTEGER PRIMARY KEY, name VARCHAR(255));\nCREATE TABLE cars (id INTEGER PRIMARY KEY, person INTEGER);\n\
             CREATE INDEX cars_person ON cars (person);\n"
        ),
        format!("ALTER TABLE cars ADD COLUMN brand {text};\n"),
    ];
    // refinery-core `traits/mod.rs`: one INSERT per migration, applied_on as RFC 3339 text.
    let rows = [(1, "initial", "2023-01-01T10:00:00.123456789Z"), (2, "add_brand", "2023-01-02T10:00:00.5Z")]
        .iter()
        .map(|(v, name, on)| {
            format!(
                "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES ({v}, '{name}', '{on}', '{}')",
                refinery_checksum(name, *v, &ups[*v as usize - 1])
            )
        })
        .collect();
    Fixture {
        tool: "refinery",
        dir: "migrations",
        files: vec![
            ("V1__initial.sql", ups[0].clone()),
            ("V2__add_brand.sql", ups[1].clone()),
            ("V3__add_year.rs", s("pub fn migration() -> String { String::new() }\n")),
        ],
        ups,
        // `ASSERT_MIGRATIONS_TABLE_QUERY`, the same on every backend (int4 without `int8-versions`).
        table: s("CREATE TABLE IF NOT EXISTS refinery_schema_history(\n             version int4 PRIMARY KEY,\n             \
                  name VARCHAR(255),\n             applied_on VARCHAR(255),\n             checksum VARCHAR(255));"),
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

fn flyway(d: Dialect) -> Fixture {
    let v1 = s("CREATE TABLE person (id INT NOT NULL, name VARCHAR(100) NOT NULL);\nCREATE TABLE team (id INT);\n");
    let v1_1 = s("ALTER TABLE person ADD COLUMN team INT;\n");
    let v1_2_9 = s("CREATE TABLE nine (id INT);\n");
    let v1_2_10 = s("CREATE TABLE ten (id INT);\n");
    let ups = vec![v1.clone(), v1_1.clone(), v1_2_9.clone(), v1_2_10.clone()];
    // `getRawCreateScript` of SQLiteDatabase, PostgreSQLDatabase, MySQLDatabase (MariaDB too).
    let table = match d {
        Dialect::Sqlite => s("CREATE TABLE \"main\".\"flyway_schema_history\" (\n    \"installed_rank\" INT NOT NULL PRIMARY KEY,\n    \
             \"version\" VARCHAR(50),\n    \"description\" VARCHAR(200) NOT NULL,\n    \"type\" VARCHAR(20) NOT NULL,\n    \
             \"script\" VARCHAR(1000) NOT NULL,\n    \"checksum\" INT,\n    \"installed_by\" VARCHAR(100) NOT NULL,\n    \
             \"installed_on\" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f','now')),\n    \
             \"execution_time\" INT NOT NULL,\n    \"success\" BOOLEAN NOT NULL\n);\n\
             CREATE INDEX \"main\".\"flyway_schema_history_s_idx\" ON \"flyway_schema_history\" (\"success\");"),
        Dialect::Postgres => s("CREATE TABLE \"public\".\"flyway_schema_history\" (\n    \"installed_rank\" INT NOT NULL,\n    \
             \"version\" VARCHAR(50),\n    \"description\" VARCHAR(200) NOT NULL,\n    \"type\" VARCHAR(20) NOT NULL,\n    \
             \"script\" VARCHAR(1000) NOT NULL,\n    \"checksum\" INTEGER,\n    \"installed_by\" VARCHAR(100) NOT NULL,\n    \
             \"installed_on\" TIMESTAMP NOT NULL DEFAULT now(),\n    \"execution_time\" INTEGER NOT NULL,\n    \
             \"success\" BOOLEAN NOT NULL\n);\n\
             ALTER TABLE \"public\".\"flyway_schema_history\" ADD CONSTRAINT \"flyway_schema_history_pk\" PRIMARY KEY (\"installed_rank\");\n\
             CREATE INDEX \"flyway_schema_history_s_idx\" ON \"public\".\"flyway_schema_history\" (\"success\");"),
        Dialect::Mysql => s("CREATE TABLE `flyway_schema_history` (\n    `installed_rank` INT NOT NULL,\n    \
             `version` VARCHAR(50),\n    `description` VARCHAR(200) NOT NULL,\n    `type` VARCHAR(20) NOT NULL,\n    \
             `script` VARCHAR(1000) NOT NULL,\n    `checksum` INT,\n    `installed_by` VARCHAR(100) NOT NULL,\n    \
             `installed_on` TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n    `execution_time` INT NOT NULL,\n    \
             `success` BOOL NOT NULL,\n    CONSTRAINT `flyway_schema_history_pk` PRIMARY KEY (`installed_rank`)\n);\n\
             CREATE INDEX `flyway_schema_history_s_idx` ON `flyway_schema_history` (`success`);"),
    };
    // `installed_by`: the database user (PostgreSQL `current_user`, MySQL the user part of USER()).
    let user = match d {
        Dialect::Sqlite => "",
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "root",
    };
    let applied = [
        ("1", "Create person", "V1__Create_person.sql", &v1),
        ("1.1", "Add team", "V1_1__Add_team.sql", &v1_1),
        ("1.2.9", "Nine", "V1.2.9__Nine.sql", &v1_2_9),
        ("1.2.10", "Ten", "V1.2.10__Ten.sql", &v1_2_10),
    ];
    let rows = applied
        .iter()
        .enumerate()
        .map(|(i, (v, desc, script, sql))| {
            format!(
                "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, \
                 installed_by, execution_time, success) VALUES ({}, '{v}', '{desc}', 'SQL', '{script}', {}, '{user}', 3, TRUE)",
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
        table,
        rows,
        ids: vec!["flyway_1", "flyway_1_1", "flyway_1_2_9", "flyway_1_2_10"],
        notes: vec!["R__People_view.sql: a repeatable migration (R__)"],
    }
}

backend_tests! {
    sqlite diesel_round_trip => round_trip(&diesel(Dialect::Sqlite), None),
    postgres diesel_round_trip_on_postgres => round_trip(&diesel(Dialect::Postgres), Some(Server::Postgres)),
    mysql diesel_round_trip_on_mysql => round_trip(&diesel(Dialect::Mysql), Some(Server::Mysql)),
    sqlite sqlx_round_trip => round_trip(&sqlx(Dialect::Sqlite), None),
    postgres sqlx_round_trip_on_postgres => round_trip(&sqlx(Dialect::Postgres), Some(Server::Postgres)),
    mysql sqlx_round_trip_on_mysql => round_trip(&sqlx(Dialect::Mysql), Some(Server::Mysql)),
    sqlite golang_migrate_round_trip => round_trip(&golang_migrate(Dialect::Sqlite), None),
    postgres golang_migrate_round_trip_on_postgres => round_trip(&golang_migrate(Dialect::Postgres), Some(Server::Postgres)),
    mysql golang_migrate_round_trip_on_mysql => round_trip(&golang_migrate(Dialect::Mysql), Some(Server::Mysql)),
    sqlite dbmate_round_trip => round_trip(&dbmate(Dialect::Sqlite), None),
    postgres dbmate_round_trip_on_postgres => round_trip(&dbmate(Dialect::Postgres), Some(Server::Postgres)),
    mysql dbmate_round_trip_on_mysql => round_trip(&dbmate(Dialect::Mysql), Some(Server::Mysql)),
    sqlite goose_round_trip => round_trip(&goose(Dialect::Sqlite), None),
    postgres goose_round_trip_on_postgres => round_trip(&goose(Dialect::Postgres), Some(Server::Postgres)),
    mysql goose_round_trip_on_mysql => round_trip(&goose(Dialect::Mysql), Some(Server::Mysql)),
    sqlite refinery_round_trip => round_trip(&refinery(Dialect::Sqlite), None),
    postgres refinery_round_trip_on_postgres => round_trip(&refinery(Dialect::Postgres), Some(Server::Postgres)),
    mysql refinery_round_trip_on_mysql => round_trip(&refinery(Dialect::Mysql), Some(Server::Mysql)),
    sqlite flyway_round_trip => round_trip(&flyway(Dialect::Sqlite), None),
    postgres flyway_round_trip_on_postgres => round_trip(&flyway(Dialect::Postgres), Some(Server::Postgres)),
    mysql flyway_round_trip_on_mysql => round_trip(&flyway(Dialect::Mysql), Some(Server::Mysql)),
}

/// The tool's options become header keys; the SQL stays as written.
#[test]
fn headers_carry_transaction_and_reversibility() {
    let project = common::project();
    let root = project.path();
    for fixture in [sqlx(Dialect::Sqlite), goose(Dialect::Sqlite), dbmate(Dialect::Sqlite), flyway(Dialect::Sqlite)] {
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
fn sqlx_checksum_mismatch_is_refused(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    let fixture = sqlx(dialect_of(server));
    fixture.write(dir);
    let db = AnyDb::new(server);
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
fn flyway_checksum_mismatch_is_refused(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    let fixture = flyway(dialect_of(server));
    fixture.write(dir);
    let db = AnyDb::new(server);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "flyway", "sql"]);
    ok(dir, &db.url, &["adopt", "flyway", "sql", "--dry-run"]);
    fs::write(dir.join("sql/V1.2.9__Nine.sql"), "CREATE TABLE nine (id BIGINT);\n").unwrap();
    let refused = fails(dir, &db.url, &["adopt", "flyway", "sql"]);
    assert!(refused.stderr.contains("version 1.2.9 (V1.2.9__Nine.sql)"), "{refused}");
    assert!(mg(dir, &db.url, &["status"]).stdout.contains("applied:  0 of 4"));
}

/// refinery's SipHash checksum: a file edited after it ran.
fn refinery_checksum_mismatch_is_refused(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    let fixture = refinery(dialect_of(server));
    fixture.write(dir);
    let db = AnyDb::new(server);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "refinery"]);
    let shown = ok(dir, &db.url, &["adopt", "refinery", "--dry-run"]);
    assert!(shown.stderr.contains("2 checksum(s) verified"), "{shown}");
    fs::write(dir.join("migrations/V2__add_brand.sql"), "ALTER TABLE cars ADD COLUMN brand VARCHAR(100);\n").unwrap();
    let refused = fails(dir, &db.url, &["adopt", "refinery"]);
    assert!(refused.stderr.contains("version 2 (V2__add_brand.sql)"), "{refused}");
}

/// golang-migrate's dirty flag: a migration failed half way; adopt refuses.
fn golang_migrate_dirty_database_is_refused(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    let mut fixture = golang_migrate(dialect_of(server));
    fixture.rows = golang_migrate_rows(dialect_of(server), 2, true);
    fixture.write(dir);
    let db = AnyDb::new(server);
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

/// sqlx on MySQL records a migration with `success = FALSE` before running
/// it (DDL commits implicitly there) and sets it TRUE after: a FALSE row is a
/// migration that failed half way, which sqlx calls dirty; adopt refuses.
fn sqlx_failed_migration_is_refused(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    let mut fixture = sqlx(Dialect::Mysql);
    let last = "UPDATE _sqlx_migrations SET success = TRUE WHERE version = 20230301120000";
    let before = fixture.rows.len();
    fixture.rows.retain(|row| row != last);
    assert_eq!(fixture.rows.len(), before - 1);
    fixture.write(dir);
    let db = AnyDb::new(server);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "sqlx"]);
    let refused = fails(dir, &db.url, &["adopt", "sqlx"]);
    assert!(refused.first_line().contains("version 20230301120000 is marked as failed"), "{refused}");
    assert!(mg(dir, &db.url, &["status"]).stdout.contains("applied:  0 of 3"));
    db.connect()
        .batch(&format!("{last}; UPDATE _sqlx_migrations SET execution_time = 5 WHERE version = 20230301120000"))
        .unwrap();
    ok(dir, &db.url, &["adopt", "sqlx"]);
    assert!(mg(dir, &db.url, &["status"]).stdout.contains("pending:  none, up to date"));
}

/// Older goose versions logged a down as a row with is_applied FALSE (on
/// PostgreSQL and MySQL a BOOLEAN/TINYINT): the latest row of a version decides.
fn goose_legacy_down_rows(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    let d = dialect_of(server);
    let mut fixture = goose(d);
    fixture.rows = goose_rows(d, &[(0, true), (20230101120000, true), (20230201120000, true), (20230201120000, false)]);
    fixture.write(dir);
    let db = AnyDb::new(server);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "goose"]);
    let adopted = ok(dir, &db.url, &["adopt", "goose"]);
    assert!(adopted.stderr.contains("lists 1 applied migration(s); stamping `goose_20230101120000`"), "{adopted}");
    let status = ok(dir, &db.url, &["status"]);
    assert!(status.stdout.contains("applied:  1 of 2") && status.stdout.contains("goose_20230201120000"), "{status}");
}

/// refinery built with `int8-versions`: an `int8` version column, the
/// version hashed as an i64, versions beyond i32 (timestamps) allowed.
fn refinery_int8_versions(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    let mut fixture = refinery(dialect_of(server));
    let color = s("ALTER TABLE cars ADD COLUMN color VARCHAR(20);\n");
    fixture.files.push(("V20230301120000__add_color.sql", color.clone()));
    fixture.ups.push(color);
    fixture.table = fixture.table.replace("version int4", "version int8");
    assert!(fixture.table.contains("version int8"));
    fixture.rows = [(1i64, "initial"), (2, "add_brand"), (20230301120000, "add_color")]
        .iter()
        .enumerate()
        .map(|(i, (v, name))| {
            format!(
                "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
                 VALUES ({v}, '{name}', '2023-03-01T12:00:00Z', '{}')",
                refinery_checksum(name, *v, &fixture.ups[i])
            )
        })
        .collect();
    fixture.write(dir);
    let db = AnyDb::new(server);
    fixture.apply_as_the_tool(&mut db.connect());
    ok(dir, &db.url, &["import", "refinery"]);
    // The i64 checksum of an edited file matches neither width.
    let v2 = dir.join("migrations/V2__add_brand.sql");
    let kept = fs::read_to_string(&v2).unwrap();
    fs::write(&v2, "ALTER TABLE cars ADD COLUMN brand VARCHAR(100);\n").unwrap();
    let refused = fails(dir, &db.url, &["adopt", "refinery"]);
    assert!(refused.stderr.contains("version 2 (V2__add_brand.sql)"), "{refused}");
    fs::write(&v2, kept).unwrap();
    let adopted = ok(dir, &db.url, &["adopt", "refinery"]);
    assert!(adopted.stderr.contains("3 checksum(s) verified"), "{adopted}");
    let status = ok(dir, &db.url, &["status"]);
    assert!(status.stdout.contains("pending:  none, up to date"), "{status}");
}

fn dialect_of(server: Option<Server>) -> Dialect {
    match server {
        None => Dialect::Sqlite,
        Some(Server::Postgres) => Dialect::Postgres,
        Some(Server::Mysql) => Dialect::Mysql,
    }
}

backend_tests! {
    sqlite sqlx_checksum_mismatch_is_refused_on_sqlite => sqlx_checksum_mismatch_is_refused(None),
    postgres sqlx_checksum_mismatch_is_refused_on_postgres => sqlx_checksum_mismatch_is_refused(Some(Server::Postgres)),
    mysql sqlx_checksum_mismatch_is_refused_on_mysql => sqlx_checksum_mismatch_is_refused(Some(Server::Mysql)),
    mysql sqlx_failed_migration_is_refused_on_mysql => sqlx_failed_migration_is_refused(Some(Server::Mysql)),
    sqlite flyway_checksum_mismatch_is_refused_on_sqlite => flyway_checksum_mismatch_is_refused(None),
    postgres flyway_checksum_mismatch_is_refused_on_postgres => flyway_checksum_mismatch_is_refused(Some(Server::Postgres)),
    mysql flyway_checksum_mismatch_is_refused_on_mysql => flyway_checksum_mismatch_is_refused(Some(Server::Mysql)),
    sqlite refinery_checksum_mismatch_is_refused_on_sqlite => refinery_checksum_mismatch_is_refused(None),
    postgres refinery_checksum_mismatch_is_refused_on_postgres => refinery_checksum_mismatch_is_refused(Some(Server::Postgres)),
    mysql refinery_checksum_mismatch_is_refused_on_mysql => refinery_checksum_mismatch_is_refused(Some(Server::Mysql)),
    sqlite golang_migrate_dirty_database_is_refused_on_sqlite => golang_migrate_dirty_database_is_refused(None),
    postgres golang_migrate_dirty_database_is_refused_on_postgres => golang_migrate_dirty_database_is_refused(Some(Server::Postgres)),
    mysql golang_migrate_dirty_database_is_refused_on_mysql => golang_migrate_dirty_database_is_refused(Some(Server::Mysql)),
    sqlite goose_legacy_down_rows_on_sqlite => goose_legacy_down_rows(None),
    postgres goose_legacy_down_rows_on_postgres => goose_legacy_down_rows(Some(Server::Postgres)),
    mysql goose_legacy_down_rows_on_mysql => goose_legacy_down_rows(Some(Server::Mysql)),
    sqlite refinery_int8_versions_on_sqlite => refinery_int8_versions(None),
    postgres refinery_int8_versions_on_postgres => refinery_int8_versions(Some(Server::Postgres)),
    mysql refinery_int8_versions_on_mysql => refinery_int8_versions(Some(Server::Mysql)),
}

/// A version in the tool's table without a file, and one applied after a gap.
#[test]
fn unknown_and_missing_versions_are_refused() {
    let project = common::project();
    let dir = project.path();
    let mut fixture = dbmate(Dialect::Sqlite);
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
    assert!(refused.first_line().contains("revision `diesel_20230101120000`"), "{refused}");
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
