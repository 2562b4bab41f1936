//! `import` and `adopt` against databases the real tools made.
//!
//! - dbmate installs in seconds (`npm install dbmate`: the release binary
//!   in an npm package), so these tests run the real `dbmate up` on SQLite,
//!   PostgreSQL and MariaDB when `MIGRAPH_TEST_DBMATE` names its binary at
//!   build time (.ci/run installs it); elsewhere they are listed as ignored.
//! - diesel_cli, sqlx-cli and refinery_cli take minutes to build, so their
//!   output was produced once with the real tools and committed under
//!   `tests/real_tools/<tool>/`: the migrations, the SQLite database the
//!   tool migrated (`tool.db`) and the command lines used (`README.md`).
//!
//! Each test imports the tool's migrations, upgrades an empty database
//! with migraph and compares its schema with the one the tool built
//! (`migraph schema --json`, the tool's own version table left out), then
//! adopts the tool's database and expects `status` to be up to date.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{ok, AnyDb, Server};

/// `migraph schema --json` of `url`, without the table `skip`.
fn schema(dir: &Path, url: &str, skip: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(&ok(dir, url, &["schema", "--json"]).stdout).unwrap();
    let tables = value["tables"].as_array_mut().expect("tables");
    tables.retain(|t| t["name"] != skip);
    value
}

/// Import `tool`'s migrations in `dir/migrations_dir`, build them with
/// migraph on a new database of `server`, compare with the tool's database
/// `tool_url`, adopt it.
fn import_and_adopt(dir: &Path, tool: &str, migrations: &str, tool_url: &str, table: &str, server: Option<Server>) {
    let imported = ok(dir, tool_url, &["import", tool, migrations]);
    assert!(imported.stdout.lines().any(|l| l.starts_with("wrote")), "{imported}");
    let fresh = AnyDb::new(server);
    ok(dir, &fresh.url, &["upgrade", "heads"]);
    let built = schema(dir, &fresh.url, table);
    assert!(!built["tables"].as_array().unwrap().is_empty(), "{built}");
    assert_eq!(schema(dir, tool_url, table), built, "the tool and migraph built different schemas");
    let shown = ok(dir, tool_url, &["adopt", tool, migrations, "--dry-run"]);
    assert!(shown.stdout.contains("record as applied"), "{shown}");
    let adopted = ok(dir, tool_url, &["adopt", tool, migrations]);
    assert!(adopted.stderr.contains("no SQL was run"), "{adopted}");
    let status = ok(dir, tool_url, &["status"]);
    assert!(status.stdout.contains("pending:  none, up to date"), "{status}");
    // The tool's table is left as it was, and the next revision runs.
    assert_eq!(
        schema(dir, tool_url, "").pointer("/tables").unwrap().as_array().unwrap().len(),
        built["tables"].as_array().unwrap().len() + 1
    );
    let parent = ok(dir, tool_url, &["heads", "--json"]);
    let heads: serde_json::Value = serde_json::from_str(&parent.stdout).unwrap();
    let head = heads[0]["id"].as_str().unwrap().to_string();
    common::write_revision(
        dir,
        "after_adopt",
        &head,
        "CREATE TABLE after_adopt (id INTEGER PRIMARY KEY);",
        Some("DROP TABLE after_adopt;"),
        "",
    );
    let upgraded = ok(dir, tool_url, &["upgrade", "heads"]);
    assert!(upgraded.stderr.contains("upgrade: 1 applied"), "{upgraded}");
}

// ---------------------------------------------------------------- dbmate

/// A dbmate project: two multi-statement migrations and one outside a
/// transaction (`transaction:false`), in dbmate's `db/migrations`.
fn dbmate_project(dir: &Path, server: Option<Server>) {
    let migrations = dir.join("db/migrations");
    fs::create_dir_all(&migrations).unwrap();
    let text = if server == Some(Server::Mysql) { "VARCHAR(200)" } else { "TEXT" };
    let concurrently = if server == Some(Server::Postgres) { "CONCURRENTLY " } else { "" };
    let files = [
        (
            "20240101090000_create_users.sql",
            format!(
                "-- migrate:up\nCREATE TABLE users (id INTEGER PRIMARY KEY, email {text} NOT NULL);\n\
                 CREATE TABLE roles (id INTEGER PRIMARY KEY, name {text});\n\n\
                 -- migrate:down\nDROP TABLE roles;\nDROP TABLE users;\n"
            ),
        ),
        (
            "20240102090000_posts.sql",
            format!(
                "-- migrate:up\nCREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), title {text});\n\
                 INSERT INTO roles (id, name) VALUES (1, 'admin; not a statement end');\n\n\
                 -- migrate:down\nDELETE FROM roles WHERE id = 1;\nDROP TABLE posts;\n"
            ),
        ),
        (
            "20240103090000_index_titles.sql",
            format!(
                "-- migrate:up transaction:false\nCREATE INDEX {concurrently}posts_title ON posts (title);\n\n\
                 -- migrate:down\nDROP INDEX posts_title{};\n",
                if server == Some(Server::Mysql) { " ON posts" } else { "" }
            ),
        ),
    ];
    for (name, body) in files {
        fs::write(migrations.join(name), body).unwrap();
    }
}

fn dbmate_binary() -> PathBuf {
    match option_env!("MIGRAPH_TEST_DBMATE") {
        Some(path) => PathBuf::from(path),
        None => panic!("MIGRAPH_TEST_DBMATE was not set at build time"),
    }
}

/// The URL dbmate takes for `db` (its own spellings: `sqlite:PATH`,
/// `sslmode=disable`).
fn dbmate_url(db: &AnyDb) -> String {
    match &db.dir {
        Some(dir) => format!("sqlite:{}", dir.path().join("app.db").display()),
        None if db.url.starts_with("postgres") => {
            format!("{}{}sslmode=disable", db.url, if db.url.contains('?') { "&" } else { "?" })
        }
        None => db.url.clone(),
    }
}

fn dbmate_round_trip(server: Option<Server>) {
    let project = common::project();
    let dir = project.path();
    dbmate_project(dir, server);
    let tool_db = AnyDb::new(server);
    let out = std::process::Command::new(dbmate_binary())
        .current_dir(dir)
        .args(["--url", &dbmate_url(&tool_db), "--no-dump-schema", "up"])
        .output()
        .expect("run dbmate");
    assert!(
        out.status.success(),
        "dbmate up: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    import_and_adopt(dir, "dbmate", "db/migrations", &tool_db.url, "schema_migrations", server);
}

#[test]
#[cfg_attr(not(migraph_dbmate), ignore = "needs MIGRAPH_TEST_DBMATE, dbmate's binary (npm install dbmate)")]
fn dbmate_real_sqlite() {
    dbmate_round_trip(None);
}

#[test]
#[cfg_attr(
    not(all(migraph_dbmate, feature = "postgres", migraph_postgres_server)),
    ignore = "needs MIGRAPH_TEST_DBMATE, --features postgres and MIGRAPH_TEST_POSTGRES_URL"
)]
fn dbmate_real_postgres() {
    dbmate_round_trip(Some(Server::Postgres));
}

#[test]
#[cfg_attr(
    not(all(migraph_dbmate, feature = "mysql", migraph_mysql_server)),
    ignore = "needs MIGRAPH_TEST_DBMATE, --features mysql and MIGRAPH_TEST_MYSQL_URL"
)]
fn dbmate_real_mysql() {
    dbmate_round_trip(Some(Server::Mysql));
}

// ------------------------------------- committed outputs of the real tools

/// A copy of `tests/real_tools/<tool>` in `dir` (the migrations and the
/// database the tool migrated).
fn committed(dir: &Path, tool: &str) -> String {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/real_tools").join(tool);
    copy_dir(&from, dir);
    format!("sqlite://{}", dir.join("tool.db").display())
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn committed_round_trip(tool: &str, table: &str) {
    let project = common::project();
    let dir = project.path();
    let tool_url = committed(dir, tool);
    import_and_adopt(dir, tool, "migrations", &tool_url, table, None);
}

#[test]
fn diesel_cli_database() {
    committed_round_trip("diesel", "__diesel_schema_migrations");
}

#[test]
fn sqlx_cli_database() {
    committed_round_trip("sqlx", "_sqlx_migrations");
}

#[test]
fn refinery_cli_database() {
    committed_round_trip("refinery", "refinery_schema_history");
}

/// The checksums the real tools stored are compared with the files: an
/// edited migration refuses the adoption and stamps nothing.
#[test]
fn edited_migrations_refuse_adoption_against_real_checksums() {
    for (tool, file) in
        [("sqlx", "migrations/20240102090000_create_posts.up.sql"), ("refinery", "migrations/V2__create_posts.sql")]
    {
        let project = common::project();
        let dir = project.path();
        let tool_url = committed(dir, tool);
        ok(dir, &tool_url, &["import", tool, "migrations"]);
        let path = dir.join(file);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("'admin'", "'root'")).unwrap();
        let refused = common::fails(dir, &tool_url, &["adopt", tool, "migrations"]);
        assert!(refused.first_line().contains("checksum"), "{tool}: {refused}");
        let status = common::mg(dir, &tool_url, &["status"]);
        assert!(status.stdout.contains("applied:  0 of"), "{tool}: {status}");
    }
}
