//! JupyterHub's Alembic history, the acceptance case of `migraph import
//! alembic`: imported with `--baseline tests/jupyterhub/baseline.py` (the
//! schema its empty root revision assumes), it runs on an empty database
//! and gives the schema JupyterHub's own `alembic upgrade head` gives on
//! the same baseline (tests/jupyterhub/alembic_upgrade.py), on SQLite,
//! PostgreSQL and MySQL.
//!
//! Needs a Python with jupyterhub (and psycopg2 / pymysql for the servers):
//! set MIGRAPH_TEST_JUPYTERHUB to it when building (see build.rs), else the
//! tests are listed as ignored with the reason.

mod common;

#[cfg(migraph_jupyterhub)]
mod jupyterhub {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    pub use super::common::{fails, ok, project};

    /// The revisions JupyterHub's history has.
    pub const REVISIONS: usize = 19;
    /// The first revision whose down fails in JupyterHub itself
    /// (`op.drop_column('services', sa.Column('from_config'))`): every
    /// revision up to it is irreversible as imported.
    pub const IRREVERSIBLE: &str = "3c2384c5aae1";

    pub fn python() -> &'static str {
        env!("MIGRAPH_TEST_JUPYTERHUB")
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jupyterhub").join(name)
    }

    /// JupyterHub's script directory (site-packages/jupyterhub/alembic).
    pub fn alembic_dir() -> PathBuf {
        let out = Command::new(python())
            .args(["-c", "import os, jupyterhub; print(os.path.join(os.path.dirname(jupyterhub.__file__), 'alembic'))"])
            .output()
            .expect("run python");
        assert!(out.status.success(), "import jupyterhub: {}", String::from_utf8_lossy(&out.stderr));
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    }

    /// `migraph import alembic` of JupyterHub's history with the baseline,
    /// capturing on SQLite and `servers`; checks every up was captured.
    pub fn import(dir: &Path, url: &str, servers: &[&str]) {
        let app = alembic_dir();
        let baseline = fixture("baseline.py");
        let mut args = vec!["import", "alembic", app.to_str().unwrap(), "--python", python()];
        args.extend(["--baseline", baseline.to_str().unwrap()]);
        for server in servers {
            args.extend(["--server", server]);
        }
        let r = ok(dir, url, &args);
        assert!(r.stderr.contains(&format!("imported {REVISIONS} revision(s)")), "{r}");
        assert!(!r.stderr.contains("up SQL not captured"), "{r}");
        assert!(!r.stderr.contains("up SQL on"), "every up captured online: {r}");
        let root = revision(dir, "19c0846f6344");
        assert!(
            root.contains("-- baseline: the schema alembic revision 19c0846f6344 assumes, from baseline() in "),
            "{root}"
        );
        assert!(root.contains("CREATE TABLE services ("), "{root}");
        assert!(!root.contains("-- TODO"), "{root}");
        let created = revision(dir, "99a28a4418e1");
        assert!(created.contains("ALTER TABLE users ADD"), "{created}");
    }

    pub fn revision(dir: &Path, id: &str) -> String {
        let file = std::fs::read_dir(dir.join("revisions"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{id}_")))
            .unwrap_or_else(|| panic!("no file for {id}"));
        std::fs::read_to_string(file).unwrap()
    }

    /// The baseline and JupyterHub's own `alembic upgrade head` on `url`.
    pub fn jupyterhub_upgrade(url: &str) {
        let out = Command::new(python()).arg(fixture("alembic_upgrade.py")).arg(url).output().expect("run python");
        assert!(out.status.success(), "JupyterHub's alembic upgrade: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// `migraph schema --json` without the version tables.
    pub fn schema(dir: &Path, url: &str) -> serde_json::Value {
        let r = ok(dir, url, &["schema", "--json"]);
        let mut json: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        json["tables"].as_array_mut().unwrap().retain(|t| {
            let name = t["name"].as_str().unwrap_or_default();
            name != "alembic_version" && !name.starts_with("migraph_revisions")
        });
        json
    }

    /// Upgrade `mine` with migraph and `theirs` with JupyterHub; same
    /// schema; down to the irreversible revision and up again; adopt.
    pub fn check(dir: &Path, mine: &str, theirs: &str) {
        let up = ok(dir, mine, &["upgrade"]);
        assert!(up.to_string().contains(&format!("upgrade: {REVISIONS} applied")), "{up}");
        jupyterhub_upgrade(theirs);
        let expected = schema(dir, theirs);
        assert!(expected["tables"].as_array().unwrap().len() >= 8, "{expected}");
        assert_eq!(schema(dir, mine), expected);

        // JupyterHub's downgrade of 3c2384c5aae1 fails (upstream): below it
        // the history is irreversible, and migraph says so before any change.
        let refused = fails(dir, mine, &["downgrade", "base"]);
        assert!(refused.stderr.contains("irreversible") && refused.stderr.contains(IRREVERSIBLE), "{refused}");
        let down = ok(dir, mine, &["downgrade", IRREVERSIBLE]);
        let undone = down.to_string().lines().filter(|l| l.trim_start().starts_with("down ")).count();
        assert_eq!(undone, 5, "{down}");
        assert_ne!(schema(dir, mine), expected);
        ok(dir, mine, &["upgrade"]);
        assert_eq!(schema(dir, mine), expected);

        // adopt on the database JupyterHub upgraded: up to date.
        ok(dir, theirs, &["adopt", "alembic"]);
        let status = ok(dir, theirs, &["status", "--json"]);
        let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        assert_eq!(status["pending"].as_array().map(Vec::len), Some(0), "{status}");
    }
}

#[cfg_attr(not(migraph_jupyterhub), ignore = "set MIGRAPH_TEST_JUPYTERHUB to a Python with jupyterhub")]
#[test]
fn jupyterhub_history_on_sqlite_gives_jupyterhubs_schema() {
    #[cfg(migraph_jupyterhub)]
    {
        use jupyterhub::*;
        let dir = project();
        let mine = common::sqlite_url(dir.path());
        import(dir.path(), &mine, &[]);
        let theirs = format!("sqlite://{}", dir.path().join("jupyterhub.sqlite").display());
        check(dir.path(), &mine, &theirs);
    }
}

#[cfg(migraph_jupyterhub)]
#[allow(dead_code)] // without a server
fn on_server(server: common::Server, var: &str) {
    use jupyterhub::*;
    let dir = project();
    let admin = std::env::var(var).unwrap();
    let sqlite = common::sqlite_url(dir.path());
    import(dir.path(), &sqlite, &[&admin]);
    let mine = common::TestDb::new(server);
    let theirs = common::TestDb::new(server);
    check(dir.path(), &mine.url, &theirs.url);
    assert_eq!(theirs.applied().len(), REVISIONS);
}

#[cfg_attr(
    not(all(migraph_jupyterhub, feature = "postgres", migraph_postgres_server)),
    ignore = "needs MIGRAPH_TEST_JUPYTERHUB (with psycopg2), the postgres feature and MIGRAPH_TEST_POSTGRES_URL"
)]
#[test]
fn jupyterhub_history_on_postgres_gives_jupyterhubs_schema() {
    #[cfg(all(migraph_jupyterhub, feature = "postgres", migraph_postgres_server))]
    on_server(common::Server::Postgres, "MIGRAPH_TEST_POSTGRES_URL");
}

#[cfg_attr(
    not(all(migraph_jupyterhub, feature = "mysql", migraph_mysql_server)),
    ignore = "needs MIGRAPH_TEST_JUPYTERHUB (with pymysql), the mysql feature and MIGRAPH_TEST_MYSQL_URL"
)]
#[test]
fn jupyterhub_history_on_mysql_gives_jupyterhubs_schema() {
    #[cfg(all(migraph_jupyterhub, feature = "mysql", migraph_mysql_server))]
    on_server(common::Server::Mysql, "MIGRAPH_TEST_MYSQL_URL");
}
