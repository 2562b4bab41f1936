//! Tells the tests which live database servers they may use: the
//! PostgreSQL and MySQL tests are marked ignored (with the reason shown by
//! `cargo test`) unless their URL variable is set when building.

fn main() {
    // The tests and examples embed the sample with `embed_revisions!`: a
    // file added to revisions/ must rebuild them (as the README tells
    // library users to do in their own build scripts).
    println!("cargo::rerun-if-changed=revisions");
    // The tests that feed scripts to the `sqlite3` command-line client run
    // where it is installed (CI installs it); elsewhere they are listed as
    // ignored with the reason, as the server tests are.
    println!("cargo::rustc-check-cfg=cfg(migraph_sqlite3_client)");
    println!("cargo::rerun-if-env-changed=PATH");
    let sqlite3 = std::process::Command::new("sqlite3").arg("-version").output();
    if sqlite3.is_ok_and(|out| out.status.success()) {
        println!("cargo::rustc-cfg=migraph_sqlite3_client");
    }
    println!("cargo::rustc-check-cfg=cfg(migraph_postgres_server)");
    println!("cargo::rustc-check-cfg=cfg(migraph_mysql_server)");
    for (var, cfg) in
        [("MIGRAPH_TEST_POSTGRES_URL", "migraph_postgres_server"), ("MIGRAPH_TEST_MYSQL_URL", "migraph_mysql_server")]
    {
        println!("cargo::rerun-if-env-changed={var}");
        if std::env::var(var).is_ok_and(|url| !url.is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
    // The Alembic import tests need a Python with alembic and sqlalchemy
    // (CI makes a venv); elsewhere they are listed as ignored with the reason.
    println!("cargo::rustc-check-cfg=cfg(migraph_alembic)");
    println!("cargo::rerun-if-env-changed=MIGRAPH_TEST_ALEMBIC");
    if std::env::var("MIGRAPH_TEST_ALEMBIC").is_ok_and(|python| !python.is_empty()) {
        println!("cargo::rustc-cfg=migraph_alembic");
    }
    // dbmate installs in seconds (`npm install dbmate`): the tests that run
    // the real tool need its binary (CI installs it).
    println!("cargo::rustc-check-cfg=cfg(migraph_dbmate)");
    println!("cargo::rerun-if-env-changed=MIGRAPH_TEST_DBMATE");
    if std::env::var("MIGRAPH_TEST_DBMATE").is_ok_and(|dbmate| !dbmate.is_empty()) {
        println!("cargo::rustc-cfg=migraph_dbmate");
    }
    // The JupyterHub acceptance test needs a Python with jupyterhub (CI makes a venv).
    println!("cargo::rustc-check-cfg=cfg(migraph_jupyterhub)");
    println!("cargo::rerun-if-env-changed=MIGRAPH_TEST_JUPYTERHUB");
    if std::env::var("MIGRAPH_TEST_JUPYTERHUB").is_ok_and(|python| !python.is_empty()) {
        println!("cargo::rustc-cfg=migraph_jupyterhub");
    }
}
