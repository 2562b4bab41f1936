//! `migraph import alembic` and `migraph adopt alembic` on the small
//! Alembic project in tests/alembic_project (two roots, a branch label, a
//! merge, a depends_on, raw SQL and a bulk insert).
//!
//! The capturing tests need a Python with alembic and sqlalchemy (and
//! psycopg2 / pymysql for the servers): set MIGRAPH_TEST_ALEMBIC to it when
//! building (see build.rs), else they are listed as ignored with the reason.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{fails, ok, project};

fn alembic_project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/alembic_project")
}

/// A copy of the Alembic project in `dir` (tests may break its scripts).
fn copy_project(dir: &Path) -> PathBuf {
    let to = dir.join("alembic_app");
    let versions = to.join("migrations/versions");
    fs::create_dir_all(&versions).unwrap();
    fs::copy(alembic_project().join("alembic.ini"), to.join("alembic.ini")).unwrap();
    fs::copy(alembic_project().join("migrations/env.py"), to.join("migrations/env.py")).unwrap();
    for entry in fs::read_dir(alembic_project().join("migrations/versions")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "py") {
            fs::copy(&path, versions.join(path.file_name().unwrap())).unwrap();
        }
    }
    to
}

fn read_revision(dir: &Path, id: &str) -> String {
    let file = fs::read_dir(dir.join("revisions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{id}_")))
        .unwrap_or_else(|| panic!("no file for {id}"));
    fs::read_to_string(file).unwrap()
}

#[test]
fn the_graph_is_read_statically_and_todo_sections_refuse_to_run() {
    let dir = project();
    let url = common::sqlite_url(dir.path());
    let app = alembic_project();
    let r = ok(dir.path(), &url, &["import", "alembic", app.to_str().unwrap(), "--no-capture"]);
    assert_eq!(r.stdout.lines().count(), 5, "{r}");
    let merge = read_revision(dir.path(), "Ab12cd34ef56");
    assert!(merge.starts_with(
        "-- id: Ab12cd34ef56\n-- parents: 2b3c4d5e6f70 3c4d5e6f7081\n-- message: merge email and posts; count views\n\
         -- created: 2024-03-04T08:30:00Z\n-- depends-on: d1e2f3a4b5c6\n"
    ), "{merge}");
    // Annotated assignments (newer templates) and the Create Date's fraction.
    let root = read_revision(dir.path(), "1a2b3c4d5e6f");
    assert!(root.contains("-- parents: \n-- message: create users\n-- created: 2024-03-01T10:00:00Z\n"), "{root}");
    assert!(root.contains("-- TODO: alembic revision 1a2b3c4d5e6f could not be captured"), "{root}");
    assert!(read_revision(dir.path(), "2b3c4d5e6f70").contains("-- labels: accounts\n"));
    assert!(read_revision(dir.path(), "d1e2f3a4b5c6").contains("-- labels: audit\n"));
    let heads = ok(dir.path(), &url, &["heads"]);
    assert!(heads.stdout.contains("Ab12cd34ef56") && heads.stdout.contains("d1e2f3a4b5c6"), "{heads}");
    // A TODO section holds no statement: the run refuses before any change.
    let refused = fails(dir.path(), &url, &["upgrade"]);
    assert!(refused.stderr.contains("1a2b3c4d5e6f"), "{refused}");
    assert!(!dir.path().join("app.db").exists() || ok(dir.path(), &url, &["current"]).stdout.trim().is_empty());
    // Importing again writes nothing.
    let again = fails(dir.path(), &url, &["import", "alembic", app.to_str().unwrap(), "--no-capture"]);
    assert!(again.stderr.contains("already exists"), "{again}");
}

#[test]
fn a_value_that_needs_running_the_script_is_an_error_naming_file_and_line() {
    let dir = project();
    let url = common::sqlite_url(dir.path());
    let app = copy_project(dir.path());
    let script = app.join("migrations/versions/2b3c4d5e6f70_user_email.py");
    let text = fs::read_to_string(&script).unwrap().replace("down_revision = '1a2b3c4d5e6f'", "down_revision = PARENT");
    fs::write(&script, text).unwrap();
    let r = fails(dir.path(), &url, &["import", "alembic", app.to_str().unwrap(), "--no-capture"]);
    assert!(r.stderr.contains("2b3c4d5e6f70_user_email.py:12:"), "{r}");
    assert!(r.stderr.contains("without running the script"), "{r}");
    assert!(!dir.path().join("revisions").exists(), "nothing written");

    // A missing parent is named too.
    let text = fs::read_to_string(&script).unwrap().replace("down_revision = PARENT", "down_revision = 'nope'");
    fs::write(&script, text).unwrap();
    let r = fails(dir.path(), &url, &["import", "alembic", app.to_str().unwrap(), "--no-capture"]);
    assert!(r.stderr.contains("nope"), "{r}");
}

#[test]
fn a_python_that_cannot_run_leaves_todo_sections_and_says_why() {
    let dir = project();
    let url = common::sqlite_url(dir.path());
    let app = alembic_project();
    let r = ok(dir.path(), &url, &["import", "alembic", app.to_str().unwrap(), "--python", "/no/such/python3"]);
    assert!(r.stderr.contains("note: cannot run the Alembic driver with /no/such/python3"), "{r}");
    assert!(r.stderr.contains("1a2b3c4d5e6f"), "{r}");
    let root = read_revision(dir.path(), "1a2b3c4d5e6f");
    assert!(
        root.contains("-- migrate:up sqlite\n-- TODO: alembic revision 1a2b3c4d5e6f could not be captured"),
        "{root}"
    );
}

#[cfg(migraph_alembic)]
mod capture {
    use super::*;

    pub fn python() -> &'static str {
        env!("MIGRAPH_TEST_ALEMBIC")
    }

    /// `url` as SQLAlchemy names it.
    pub fn sqlalchemy(url: &str) -> String {
        if let Some(path) = url.strip_prefix("sqlite://") {
            return format!("sqlite:///{path}");
        }
        url.replacen("postgres://", "postgresql://", 1).replacen("mysql://", "mysql+pymysql://", 1)
    }

    /// Alembic's own `upgrade heads` on `url`.
    pub fn alembic_upgrade(app: &Path, url: &str) {
        let script = "import sys\nfrom alembic.config import Config\nfrom alembic import command\n\
                      cfg = Config(sys.argv[1])\ncfg.set_main_option('sqlalchemy.url', sys.argv[2])\n\
                      command.upgrade(cfg, 'heads')\n";
        let out = std::process::Command::new(python())
            .args(["-c", script, app.join("alembic.ini").to_str().unwrap(), &sqlalchemy(url)])
            .output()
            .unwrap();
        assert!(out.status.success(), "alembic upgrade: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `migraph schema --json` without Alembic's table.
    pub fn schema(dir: &Path, url: &str) -> serde_json::Value {
        let r = ok(dir, url, &["schema", "--json"]);
        let mut json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        json["tables"].as_array_mut().unwrap().retain(|t| t["name"] != "alembic_version");
        json
    }
}

#[cfg_attr(not(migraph_alembic), ignore = "set MIGRAPH_TEST_ALEMBIC to a Python with alembic and sqlalchemy")]
#[test]
fn sqlite_capture_gives_alembics_schema_and_adopt_stamps_its_heads() {
    #[cfg(migraph_alembic)]
    {
        use capture::*;
        let dir = project();
        let mine = common::sqlite_url(dir.path());
        let app = alembic_project();
        let r = ok(dir.path(), &mine, &["import", "alembic", app.to_str().unwrap(), "--python", python()]);
        assert!(r.stderr.contains("SQL captured on sqlite; 0 note(s)"), "{r}");
        let posts = read_revision(dir.path(), "3c4d5e6f7081");
        assert!(posts.contains("-- migrate:up sqlite\nCREATE TABLE posts ("), "{posts}");
        assert!(posts.contains("INSERT INTO users (id, name) VALUES (1, 'O''Brien');"), "{posts}");
        assert!(
            posts.contains(
                "-- migrate:down sqlite\nDELETE FROM posts;\nDROP TABLE posts;\nDELETE FROM users WHERE id = 1;"
            ),
            "{posts}"
        );
        let merge = read_revision(dir.path(), "Ab12cd34ef56");
        assert!(merge.contains("INSERT INTO audit_log (what) VALUES ('merged: it''s done');\nINSERT INTO audit_log (what) VALUES (NULL);"), "{merge}");
        assert!(!merge.contains("alembic_version"), "{merge}");

        ok(dir.path(), &mine, &["upgrade"]);
        let theirs = format!("sqlite://{}", dir.path().join("alembic.db").display());
        alembic_upgrade(&app, &theirs);
        assert_eq!(schema(dir.path(), &mine), schema(dir.path(), &theirs));
        // Down and up again: the captured down SQL works.
        ok(dir.path(), &mine, &["downgrade", "base"]);
        assert!(common::sqlite_tables(&dir.path().join("app.db")).iter().all(|t| t.starts_with("migraph_")));
        ok(dir.path(), &mine, &["upgrade"]);
        assert_eq!(schema(dir.path(), &mine), schema(dir.path(), &theirs));

        // adopt: the Alembic database gets migraph's table, stamped to
        // alembic_version's heads with their ancestors; no SQL runs.
        let dry = ok(dir.path(), &theirs, &["adopt", "alembic", "--dry-run"]);
        assert_eq!(dry.stdout.lines().filter(|l| l.starts_with("record as applied: ")).count(), 5, "{dry}");
        let adopted = ok(dir.path(), &theirs, &["adopt", "alembic"]);
        assert_eq!(adopted.stdout.lines().count(), 5, "{adopted}");
        let status = ok(dir.path(), &theirs, &["status", "--json"]);
        let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(status["pending"].as_array().map(Vec::len), Some(0), "{status}");
        let conn = rusqlite::Connection::open(dir.path().join("alembic.db")).unwrap();
        let rows: i64 = conn.query_row("SELECT count(*) FROM alembic_version", [], |r| r.get(0)).unwrap();
        assert!(rows >= 1, "alembic_version is left as it is");
        assert_eq!(ok(dir.path(), &theirs, &["adopt", "alembic"]).stdout, "", "adopting again changes nothing");

        // A version_num migraph does not know is an error; nothing stamped.
        conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'", []).unwrap();
        let unknown = fails(dir.path(), &theirs, &["adopt", "alembic"]);
        assert!(unknown.stderr.contains("alembic_version lists `ffffffffffff`"), "{unknown}");
    }
}

#[cfg(migraph_alembic)]
#[allow(dead_code)] // without a server
fn on_server(server: common::Server, var: &str) {
    use capture::*;
    let dir = project();
    let admin = std::env::var(var).unwrap();
    let app = alembic_project();
    let sqlite = common::sqlite_url(dir.path());
    ok(dir.path(), &sqlite, &["import", "alembic", app.to_str().unwrap(), "--python", python(), "--server", &admin]);
    let mine = common::TestDb::new(server);
    let theirs = common::TestDb::new(server);
    ok(dir.path(), &mine.url, &["upgrade"]);
    alembic_upgrade(&app, &theirs.url);
    assert_eq!(schema(dir.path(), &mine.url), schema(dir.path(), &theirs.url));
    ok(dir.path(), &mine.url, &["downgrade", "base"]);
    ok(dir.path(), &mine.url, &["upgrade"]);
    assert_eq!(schema(dir.path(), &mine.url), schema(dir.path(), &theirs.url));
    ok(dir.path(), &theirs.url, &["adopt", "alembic"]);
    assert_eq!(theirs.applied().len(), 5);
}

#[cfg_attr(
    not(all(migraph_alembic, feature = "postgres", migraph_postgres_server)),
    ignore = "needs MIGRAPH_TEST_ALEMBIC (with psycopg2), the postgres feature and MIGRAPH_TEST_POSTGRES_URL"
)]
#[test]
fn postgres_capture_gives_alembics_schema() {
    #[cfg(all(migraph_alembic, feature = "postgres", migraph_postgres_server))]
    on_server(common::Server::Postgres, "MIGRAPH_TEST_POSTGRES_URL");
}

#[cfg_attr(
    not(all(migraph_alembic, feature = "mysql", migraph_mysql_server)),
    ignore = "needs MIGRAPH_TEST_ALEMBIC (with pymysql), the mysql feature and MIGRAPH_TEST_MYSQL_URL"
)]
#[test]
fn mysql_capture_gives_alembics_schema() {
    #[cfg(all(migraph_alembic, feature = "mysql", migraph_mysql_server))]
    on_server(common::Server::Mysql, "MIGRAPH_TEST_MYSQL_URL");
}

#[test]
fn a_missing_baseline_file_is_an_error() {
    let dir = project();
    let url = common::sqlite_url(dir.path());
    let app = alembic_project();
    let r = fails(dir.path(), &url, &["import", "alembic", app.to_str().unwrap(), "--baseline", "/no/such/schema.py"]);
    assert!(r.first_line().contains("--baseline /no/such/schema.py: no such file"), "{r}");
    assert!(!dir.path().join("revisions").exists(), "nothing written");
}

#[cfg_attr(not(migraph_alembic), ignore = "set MIGRAPH_TEST_ALEMBIC to a Python with alembic and sqlalchemy")]
#[test]
fn a_baseline_opens_the_root_revision_and_is_dropped_by_its_down() {
    #[cfg(migraph_alembic)]
    {
        use capture::*;
        let dir = project();
        let mine = common::sqlite_url(dir.path());
        let app = alembic_project();
        let baseline = dir.path().join("old_models.py");
        fs::write(
            &baseline,
            "import sqlalchemy as sa\n\
             meta = sa.MetaData()\n\
             settings = sa.Table('settings', meta, sa.Column('k', sa.String(20), primary_key=True), sa.Column('v', sa.Text))\n\
             def make_schema(connection):\n    meta.create_all(connection)\n    \
             connection.execute(settings.insert().values(k='theme', v='dark'))\n",
        )
        .unwrap();
        let spec = format!("{}:make_schema", baseline.display());
        let r = ok(
            dir.path(),
            &mine,
            &["import", "alembic", app.to_str().unwrap(), "--python", python(), "--baseline", &spec],
        );
        assert!(r.stderr.contains("SQL captured on sqlite; 0 note(s)"), "{r}");
        let root = read_revision(dir.path(), "1a2b3c4d5e6f");
        let opening = format!(
            "-- migrate:up sqlite\n-- baseline: the schema alembic revision 1a2b3c4d5e6f assumes, from make_schema() in {} (--baseline)\nCREATE TABLE settings (",
            baseline.display()
        );
        assert!(root.contains(&opening), "{root}");
        assert!(root.contains("INSERT INTO settings (k, v) VALUES ('theme', 'dark');\n-- alembic revision 1a2b3c4d5e6f\nCREATE TABLE users ("), "{root}");
        assert!(root.contains("DROP TABLE users;\n-- baseline: undoing make_schema()"), "{root}");
        assert!(root.trim_end().ends_with("DROP TABLE settings;"), "{root}");
        // The other root and the rest are as without a baseline.
        assert!(!read_revision(dir.path(), "d1e2f3a4b5c6").contains("baseline"));

        ok(dir.path(), &mine, &["upgrade"]);
        let theirs = format!("sqlite://{}", dir.path().join("alembic.db").display());
        let script = "import sys, importlib.util\nspec = importlib.util.spec_from_file_location('b', sys.argv[1])\n\
             m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\nimport sqlalchemy as sa\n\
             e = sa.create_engine(sys.argv[2])\nwith e.begin() as c:\n    m.make_schema(c)\n";
        let out = std::process::Command::new(python())
            .args(["-c", script, baseline.to_str().unwrap(), &sqlalchemy(&theirs)])
            .output()
            .unwrap();
        assert!(out.status.success(), "baseline: {}", String::from_utf8_lossy(&out.stderr));
        alembic_upgrade(&app, &theirs);
        assert_eq!(schema(dir.path(), &mine), schema(dir.path(), &theirs));
        ok(dir.path(), &mine, &["downgrade", "base"]);
        let left = common::sqlite_tables(&dir.path().join("app.db"));
        assert!(left.iter().all(|t| t.starts_with("migraph_")), "{left:?}");

        // A file without the function: the driver says so; TODO sections.
        let other = project();
        let spec = format!("{}:nope", baseline.display());
        let r = ok(
            other.path(),
            &common::sqlite_url(other.path()),
            &["import", "alembic", app.to_str().unwrap(), "--python", python(), "--baseline", &spec],
        );
        assert!(r.stderr.contains("has no function nope(connection)"), "{r}");
    }
}
